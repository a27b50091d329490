/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of policies/graceful_shutdown.c: min-grace-seconds parsing and
 * its bounds, the grace period rule for unset, null, integer, fractional and
 * mistyped values, and the preStop rule's container sets.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "policies/graceful_shutdown.c"
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
    assert_int_equal(((const struct params *)p)->min_grace, 5);
    pl_params_free(&param_set, p);
    p = NULL;
    assert_int_equal(parse("{min-grace-seconds: 0}", &p, &err), 0);
    assert_int_equal(((const struct params *)p)->min_grace, 0);
    pl_params_free(&param_set, p);
    p = NULL;
    assert_int_equal(parse("{min-grace-seconds: 3600, mode: warn}", &p, &err), 0);
    pl_params_free(&param_set, p);
    p = NULL;
    assert_int_equal(parse("{min-grace-seconds: 3601}", &p, &err), -EINVAL);
    assert_string_equal(err.path, "min-grace-seconds");
    assert_int_equal(parse("{min-grace-seconds: -1}", &p, &err), -EINVAL);
    assert_int_equal(parse("{min-grace-seconds: '10'}", &p, &err), -EINVAL);
    assert_int_equal(parse("{min-grace-seconds: 2.5}", &p, &err), -EINVAL);
    assert_int_equal(parse("{min-grace: 10}", &p, &err), -EINVAL);
    assert_string_equal(err.path, "min-grace");
    assert_null(p);
    pl_params_free(&param_set, NULL);
}

/* Runs the check on object with min-grace-seconds min; messages joined by "|" go to buf. */
static size_t run_check(const char *object, long long min, char *buf, size_t size)
{
    struct params params = {.min_grace = min};
    return pl_test_run_check(&pl_policy_graceful_shutdown, &params, object, buf, size);
}

static void test_grace(void **state)
{
    (void)state;
    char buf[1024];
    assert_int_equal(run_check("{kind: Pod, spec: {}}", 5, buf, sizeof(buf)), 0);
    assert_int_equal(run_check("{kind: Pod, spec: {}}", 30, buf, sizeof(buf)), 0);
    assert_int_equal(run_check("{kind: Pod, spec: {}}", 31, buf, sizeof(buf)), 1);
    assert_string_equal(buf, "spec.terminationGracePeriodSeconds: unset means 30 seconds, below "
                             "the minimum of 31; set it higher");
    assert_int_equal(
        run_check("{kind: Pod, spec: {terminationGracePeriodSeconds: null}}", 31, buf, sizeof(buf)),
        1);
    assert_int_equal(
        run_check("{kind: Pod, spec: {terminationGracePeriodSeconds: 5}}", 5, buf, sizeof(buf)), 0);
    assert_int_equal(run_check("{kind: Job, spec: {template: {spec: "
                               "{terminationGracePeriodSeconds: -1}}}}",
                               0, buf, sizeof(buf)),
                     1);
    assert_string_equal(buf, "spec.template.spec.terminationGracePeriodSeconds: -1 seconds is "
                             "below the minimum of 0; the app is killed mid-request");
    assert_int_equal(
        run_check("{kind: Pod, spec: {terminationGracePeriodSeconds: 2.5}}", 5, buf, sizeof(buf)),
        1);
    assert_string_equal(buf, "spec.terminationGracePeriodSeconds: 2.5 seconds is below the "
                             "minimum of 5; the app is killed mid-request");
    /* A mistyped value is the API server's to reject. */
    assert_int_equal(
        run_check("{kind: Pod, spec: {terminationGracePeriodSeconds: '1'}}", 5, buf, sizeof(buf)),
        0);
}

static void test_pre_stop_sets(void **state)
{
    (void)state;
    char buf[1024];
    const char *pod = "kind: Pod\n"
                      "spec:\n"
                      "  initContainers:\n"
                      "  - {name: init, ports: [{containerPort: 1}]}\n"
                      "  - {name: side, restartPolicy: Always, ports: [{containerPort: 2}]}\n"
                      "  containers:\n"
                      "  - {name: a, ports: [{containerPort: 3}]}\n"
                      "  - {name: b, ports: [{containerPort: 4}], lifecycle: {preStop: {sleep: "
                      "{seconds: 5}}}}\n"
                      "  - {name: c, ports: []}\n"
                      "  - {name: d, ports: [{containerPort: 5}], lifecycle: {preStop: null}}\n"
                      "  ephemeralContainers:\n"
                      "  - {name: e, ports: [{containerPort: 6}]}\n";
    assert_int_equal(run_check(pod, 5, buf, sizeof(buf)), 3);
    const char *want = "has ports but no lifecycle.preStop hook; add a short sleep to drain "
                       "requests";
    char expect[1024];
    snprintf(expect, sizeof(expect),
             "spec.containers[0] (a): %s|spec.containers[3] (d): %s|"
             "spec.initContainers[1] (side): %s",
             want, want, want);
    assert_string_equal(buf, expect);
    const char *never = "{kind: Pod, spec: {restartPolicy: Never, containers: [{name: a, ports: "
                        "[{containerPort: 3}]}]}}";
    assert_int_equal(run_check(never, 5, buf, sizeof(buf)), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_grace),
        cmocka_unit_test(test_pre_stop_sets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
