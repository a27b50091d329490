/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of engine/schema.c: a valid workload of each kind has no
 * problem; each wrong type where a policy reads, a missing pod template or
 * container list, is one problem at its path; kinds plimsoll does not judge
 * are not checked; the number of problems is bounded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "engine/schema.h"

static json_t *load(const char *text)
{
    json_error_t jerr;
    json_t *doc = json_loads(text, 0, &jerr);
    if (!doc) {
        fail_msg("fixture: %s: %s", text, jerr.text);
    }
    return doc;
}

/* The problems of text as "path: message" lines. */
static void expect(const char *text, const char *path, const char *message)
{
    json_t *obj = load(text);
    json_t *problems = pl_schema_check(obj);
    if (!path) {
        if (json_array_size(problems) != 0) {
            fail_msg("%s: unexpected %s", text,
                     json_string_value(json_object_get(json_array_get(problems, 0), "path")));
        }
    } else {
        const json_t *p = json_array_get(problems, 0);
        const char *got_path = json_string_value(json_object_get(p, "path"));
        const char *got = json_string_value(json_object_get(p, "message"));
        if (json_array_size(problems) != 1 || strcmp(got_path, path) != 0 ||
            !strstr(got, message)) {
            fail_msg("%s: got %zu problems, first %s: %s", text, json_array_size(problems),
                     got_path ? got_path : "-", got ? got : "-");
        }
    }
    json_decref(problems);
    json_decref(obj);
}

#define POD(spec) "{\"kind\": \"Pod\", \"metadata\": {\"name\": \"p\"}, \"spec\": " spec "}"
#define DEPLOY(spec)                                                                               \
    "{\"kind\": \"Deployment\", \"metadata\": {\"name\": \"d\"}, \"spec\": {\"replicas\": 2, "     \
    "\"template\": {\"metadata\": {\"labels\": {\"a\": \"b\"}}, \"spec\": " spec "}}}"
#define C "{\"name\": \"c\", \"image\": \"x:1\""

static void test_valid(void **state)
{
    (void)state;
    expect(POD("{\"containers\": [" C "}]}"), NULL, NULL);
    expect(DEPLOY("{\"containers\": [" C ", \"ports\": [{\"containerPort\": 80}], \"env\": "
                  "[{\"name\": \"A\", \"value\": \"1\"}], \"securityContext\": {\"capabilities\": "
                  "{\"drop\": [\"ALL\"]}, \"runAsUser\": 1000}}]}"),
           NULL, NULL);
    expect(
        "{\"kind\": \"CronJob\", \"metadata\": {\"generateName\": \"c-\"}, \"spec\": {\"jobTemplate\": {\"spec\": {\"template\": "
        "{\"spec\": {\"containers\": [" C "}]}}}}}}",
        NULL, NULL);
    /* null is an empty YAML value: absent */
    expect(POD("{\"containers\": [" C ", \"env\": null}], \"volumes\": null}"), NULL, NULL);
    /* other kinds are not checked */
    expect("{\"kind\": \"ConfigMap\", \"data\": 3}", NULL, NULL);
}

static void test_problems(void **state)
{
    (void)state;
    expect(POD("{\"containers\": \"oops\"}"), "spec.containers", "must be a list, not a string");
    expect(POD("{}"), "spec.containers", "is missing");
    expect(POD("{\"containers\": []}"), "spec.containers", "is empty");
    expect("{\"kind\": \"Pod\", \"metadata\": {\"name\": \"p\"}}", "spec", "is missing");
    expect("{\"kind\": \"Pod\", \"spec\": {\"containers\": [" C "}]}}", "metadata", "is missing");
    expect("{\"kind\": \"Pod\", \"metadata\": {\"name\": \"\"}, \"spec\": {\"containers\": [" C
           "}]}}",
           "metadata.name", "is missing");
    expect(DEPLOY("[]"), "spec.template.spec", "must be a mapping, not a list");
    expect("{\"kind\": \"Deployment\", \"metadata\": {\"name\": \"d\"}, \"spec\": {}}",
           "spec.template", "is missing");
    expect(
        "{\"kind\": \"Deployment\", \"metadata\": {\"name\": \"d\"}, \"spec\": {\"template\": {\"spec\": {\"containers\": "
        "[" C "}]}}, \"replicas\": \"2\"}}",
        "spec.replicas", "must be an integer, not a string");
    expect(POD("{\"containers\": [3]}"), "spec.containers[0]", "must be a mapping, not an integer");
    expect(POD("{\"containers\": [" C ", \"ports\": [{\"containerPort\": \"80\"}]}]}"),
           "spec.containers[0].ports[0].containerPort", "must be an integer");
    expect(POD("{\"containers\": [" C ", \"securityContext\": {\"capabilities\": {\"drop\": "
               "[\"ALL\", 1]}}}]}"),
           "spec.containers[0].securityContext.capabilities.drop[1]", "must be a string");
    expect(POD("{\"containers\": [" C "}], \"hostNetwork\": \"true\"}"), "spec.hostNetwork",
           "must be a bool, not a string");
    expect("{\"kind\": \"Pod\", \"metadata\": {\"name\": \"p\", \"labels\": {\"a\": 1}}, \"spec\": "
           "{\"containers\": [" C "}]}}",
           "metadata.labels.a", "must be a string, not an integer");
    expect("{\"kind\": \"Pod\", \"metadata\": [], \"spec\": {\"containers\": [" C "}]}}",
           "metadata", "must be a mapping, not a list");
    expect(POD("{\"initContainers\": [{\"name\": 3}], \"containers\": [" C "}]}"),
           "spec.initContainers[0].name", "must be a string, not an integer");
}

static void test_bounded(void **state)
{
    (void)state;
    char text[8192];
    size_t len =
        (size_t)snprintf(text, sizeof(text), "{\"kind\": \"Pod\", \"spec\": {\"containers\": [");
    for (int i = 0; i < 100; i++) {
        len += (size_t)snprintf(text + len, sizeof(text) - len, "%s1", i ? ", " : "");
    }
    snprintf(text + len, sizeof(text) - len, "]}}");
    json_t *obj = load(text);
    json_t *problems = pl_schema_check(obj);
    assert_int_equal(json_array_size(problems), PL_SCHEMA_MAX_PROBLEMS);
    json_decref(problems);
    json_decref(obj);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_problems),
        cmocka_unit_test(test_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
