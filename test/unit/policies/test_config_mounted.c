/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of policies/config_mounted.c: which volumes count as ConfigMap
 * volumes (configMap, projected with a configMap source), volume lookup by
 * name, and a check over every container set with hostile shapes (wrong
 * types, missing names, long names cut in messages).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "policies/config_mounted.c"
#include "test/helpers/fixture.h"
#include "test/helpers/policy_fixture.h"

static void test_config_map_volume(void **state)
{
    (void)state;
    static const struct {
        const char *volume;
        bool yes;
    } cases[] = {
        {"{name: a, configMap: {name: c}}", true},
        {"{name: a, configMap: {}}", true},
        {"{name: a, projected: {sources: [{secret: {name: s}}, {configMap: {name: c}}]}}", true},
        {"{name: a, projected: {sources: [{secret: {name: s}}]}}", false},
        {"{name: a, projected: {sources: {configMap: {name: c}}}}", false},
        {"{name: a, projected: {}}", false},
        {"{name: a, secret: {secretName: s}}", false},
        {"{name: a, emptyDir: {}}", false},
        {"{name: a, configMap: c}", false},
        {"[]", false},
    };
    for (size_t i = 0; i < PL_ARRAY_SIZE(cases); i++) {
        json_t *v = pl_test_yaml(cases[i].volume);
        if (is_config_map_volume(v) != cases[i].yes) {
            fail_msg("%s: want %d", cases[i].volume, cases[i].yes);
        }
        json_decref(v);
    }
    assert_false(is_config_map_volume(NULL));
}

static void test_find_volume(void **state)
{
    (void)state;
    json_t *spec = pl_test_yaml("{volumes: [{configMap: {}}, 3, {name: b}, {name: a, x: 1}]}");
    const json_t *a = find_volume(spec, "a");
    assert_non_null(a);
    assert_int_equal(json_integer_value(json_object_get(a, "x")), 1);
    assert_non_null(find_volume(spec, "b"));
    assert_null(find_volume(spec, "c"));
    assert_null(find_volume(spec, ""));
    json_decref(spec);
    assert_null(find_volume(NULL, "a"));
}

static size_t run_check(const char *object, char *buf, size_t size)
{
    return pl_test_run_check(&pl_policy_config_mounted, NULL, object, buf, size);
}

static void test_check_shapes(void **state)
{
    (void)state;
    char buf[2048];
    const char *pod =
        "kind: Pod\n"
        "spec:\n"
        "  volumes: [{name: cfg, configMap: {name: c}}]\n"
        "  initContainers:\n"
        "  - {name: init, envFrom: [{configMapRef: {name: c}}]}\n"
        "  - {name: side, restartPolicy: Always, volumeMounts: [{name: cfg, subPath: a}]}\n"
        "  containers:\n"
        "  - name: a\n"
        "    env: [3, {name: X}, {name: Y, valueFrom: 1}, {name: Z, valueFrom: {configMapKeyRef: "
        "{key: k}}}]\n"
        "    envFrom: [{configMapRef: 1}, {prefix: P_, configMapRef: {name: "
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}}]\n"
        "    volumeMounts: [{subPath: a}, {name: 7, subPath: a}, {name: cfg, subPath: 1}, "
        "{name: cfg, subPathExpr: $(X)}]\n"
        "  ephemeralContainers:\n"
        "  - {name: e, envFrom: [{configMapRef: {name: c}}]}\n";
    assert_int_equal(run_check(pod, buf, sizeof(buf)), 4);
    assert_string_equal(
        buf,
        "spec.containers[0] (a).env[3].valueFrom.configMapKeyRef: ConfigMap \"\" in env never "
        "updates; mount it as a volume|"
        "spec.containers[0] (a).envFrom[1].configMapRef: ConfigMap "
        "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\" in envFrom never "
        "updates; mount it as a volume|"
        "spec.containers[0] (a).volumeMounts[3].subPathExpr: ConfigMap volume \"cfg\" with "
        "subPathExpr never updates; mount the whole volume|"
        "spec.initContainers[1] (side).volumeMounts[0].subPath: ConfigMap volume \"cfg\" with "
        "subPath never updates; mount the whole volume");
    const char *cron = "{kind: CronJob, spec: {jobTemplate: {spec: {template: {spec: {containers: "
                       "[{name: a, envFrom: [{configMapRef: {name: c}}]}]}}}}}}";
    assert_int_equal(run_check(cron, buf, sizeof(buf)), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_map_volume),
        cmocka_unit_test(test_find_volume),
        cmocka_unit_test(test_check_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
