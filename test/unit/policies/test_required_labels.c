/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of policies/required_labels.c: the label-key syntax checked at
 * configuration load (optional DNS-subdomain prefix, 63-character name with
 * alphanumeric ends), parameter errors and their paths, and a check that
 * reads the pod (template) labels of every kind, template metadata absent
 * included.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "policies/required_labels.c"
#include "test/helpers/fixture.h"
#include "test/helpers/policy_fixture.h"

static void test_label_key(void **state)
{
    (void)state;
    static const struct {
        const char *key;
        bool ok;
    } cases[] = {
        {"app", true},
        {"app.kubernetes.io/name", true},
        {"example.com/Team_Name-2", true},
        {"a", true},
        {"A.b_c-D", true},
        {"123", true},
        {"", false},
        {"/name", false},
        {"example.com/", false},
        {"-app", false},
        {"app-", false},
        {"_app", false},
        {"app name", false},
        {"Example.com/name", false},
        {"example_com/name", false},
        {"-example.com/name", false},
        {"example.com-/name", false},
        {"a/b/c", false},
        {"app.kubernetes.io/name ", false},
        {"123456789012345678901234567890123456789012345678901234567890123", true},
        {"1234567890123456789012345678901234567890123456789012345678901234", false},
    };
    for (size_t i = 0; i < PL_ARRAY_SIZE(cases); i++) {
        if (pl_metadata_key_valid(cases[i].key) != cases[i].ok) {
            fail_msg("\"%s\": valid=%d, want %d", cases[i].key, !cases[i].ok, cases[i].ok);
        }
    }
    /* A prefix may be up to 253 characters. */
    char key[400];
    memset(key, 'a', 253);
    memcpy(key + 253, "/x", 3);
    assert_true(pl_metadata_key_valid(key));
    memset(key, 'a', 254);
    memcpy(key + 254, "/x", 3);
    assert_false(pl_metadata_key_valid(key));
}

/* parse_params on a YAML text; returns its result, err filled. */
static int parse(const char *yaml, void **ret, struct pl_error *err)
{
    return pl_test_parse_params(&param_set, yaml, ret, err);
}

static void test_params(void **state)
{
    (void)state;
    void *p = NULL;
    struct pl_error err;
    assert_int_equal(parse(NULL, &p, &err), 0);
    const struct pl_required_keys_params *params = p;
    assert_int_equal(params->keys.len, 1);
    assert_string_equal(params->keys.items[0], "app.kubernetes.io/name");
    pl_params_free(&param_set, p);

    p = NULL;
    assert_int_equal(parse("{labels: [team, example.com/owner], mode: warn}", &p, &err), 0);
    params = p;
    assert_int_equal(params->keys.len, 2);
    pl_params_free(&param_set, p);

    p = NULL;
    assert_int_equal(parse("{labels: []}", &p, &err), 0);
    assert_int_equal(((const struct pl_required_keys_params *)p)->keys.len, 0);
    pl_params_free(&param_set, p);

    p = NULL;
    assert_int_equal(parse("{labels: [team, 'bad key']}", &p, &err), -EINVAL);
    assert_string_equal(err.path, "labels[1]");
    assert_non_null(strstr(err.message, "not a valid label key"));
    assert_null(p);
    assert_int_equal(parse("{label: [team]}", &p, &err), -EINVAL);
    assert_string_equal(err.path, "label");
    assert_int_equal(parse("{labels: team}", &p, &err), -EINVAL);
    assert_int_equal(parse("{labels: [team, '']}", &p, &err), -EINVAL);
    assert_null(p);
    pl_params_free(&param_set, NULL);
}

/* Runs the check with params (YAML or NULL for defaults); messages joined by "|" go to buf. */
static size_t run_check(const char *object, const char *params_yaml, char *buf, size_t size)
{
    return pl_test_run_policy(&pl_policy_required_labels, params_yaml, object, buf, size);
}

static void test_check(void **state)
{
    (void)state;
    char buf[1024];
    assert_int_equal(run_check("{kind: Pod, metadata: {labels: {app.kubernetes.io/name: web}}, "
                               "spec: {containers: [{name: web}]}}",
                               NULL, buf, sizeof(buf)),
                     0);
    assert_int_equal(run_check("{kind: Pod, metadata: {name: p}, spec: {containers: []}}", NULL,
                               buf, sizeof(buf)),
                     1);
    assert_string_equal(buf, "metadata.labels: missing label app.kubernetes.io/name; add it to "
                             "the pod");
    assert_int_equal(run_check("{kind: CronJob, spec: {jobTemplate: {spec: {template: {spec: "
                               "{containers: []}}}}}}",
                               "{labels: [team, tier]}", buf, sizeof(buf)),
                     2);
    assert_string_equal(
        buf, "spec.jobTemplate.spec.template.metadata.labels: missing label team; add it to the "
             "pod template|spec.jobTemplate.spec.template.metadata.labels: missing label tier; add "
             "it to the pod template");
    assert_int_equal(run_check("{kind: Deployment, spec: {template: {metadata: {labels: {team: '', "
                               "tier: 3}}, spec: {}}}}",
                               "{labels: [team, tier]}", buf, sizeof(buf)),
                     2);
    assert_string_equal(buf, "spec.template.metadata.labels: label team is empty; give it a "
                             "value|spec.template.metadata.labels: label tier is not a string; "
                             "quote its value");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_label_key),
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
