/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of policies/required_annotations.c: the empty default, the
 * annotation-key syntax checked at configuration load, parameter errors and
 * their paths, and a check that reads the pod (template) annotations only.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "policies/required_annotations.c"
#include "test/helpers/fixture.h"
#include "test/helpers/policy_fixture.h"

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
    assert_int_equal(((const struct pl_required_keys_params *)p)->keys.len, 0);
    pl_params_free(&param_set, p);

    p = NULL;
    assert_int_equal(parse("{annotations: [example.com/owner, owner]}", &p, &err), 0);
    assert_int_equal(((const struct pl_required_keys_params *)p)->keys.len, 2);
    pl_params_free(&param_set, p);

    p = NULL;
    assert_int_equal(parse("{annotations: ['Example.com/owner']}", &p, &err), -EINVAL);
    assert_string_equal(err.path, "annotations[0]");
    assert_non_null(strstr(err.message, "not a valid annotation key"));
    assert_int_equal(parse("{labels: [owner]}", &p, &err), -EINVAL);
    assert_string_equal(err.path, "labels");
    assert_int_equal(parse("{annotations: {owner: x}}", &p, &err), -EINVAL);
    assert_null(p);
    assert_true(pl_metadata_key_valid("example.com/owner"));
    assert_false(pl_metadata_key_valid("example.com/"));
}

/* Runs the check with params (YAML or NULL for defaults); messages joined by "|" go to buf. */
static size_t run_check(const char *object, const char *params_yaml, char *buf, size_t size)
{
    return pl_test_run_policy(&pl_policy_required_annotations, params_yaml, object, buf, size);
}

static void test_check(void **state)
{
    (void)state;
    char buf[1024];
    const char *pod = "{kind: Pod, metadata: {labels: {owner: a}, annotations: {runbook: ''}}, "
                      "spec: {containers: []}}";
    assert_int_equal(run_check(pod, NULL, buf, sizeof(buf)), 0);
    assert_int_equal(run_check(pod, "{annotations: [owner, runbook]}", buf, sizeof(buf)), 2);
    assert_string_equal(buf, "metadata.annotations: missing annotation owner; add it to the "
                             "pod|metadata.annotations: annotation runbook is empty; give it a "
                             "value");
    const char *deploy = "{kind: Deployment, metadata: {annotations: {owner: a}}, spec: "
                         "{template: {metadata: {annotations: {runbook: r}}, spec: {}}}}";
    assert_int_equal(run_check(deploy, "{annotations: [owner, runbook]}", buf, sizeof(buf)), 1);
    assert_string_equal(buf, "spec.template.metadata.annotations: missing annotation owner; add "
                             "it to the pod template");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
