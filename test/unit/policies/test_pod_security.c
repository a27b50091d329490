/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of policies/pod_security.c: the `level` parameter, the value
 * tables that decide the verdicts (baseline capabilities, SELinux types,
 * safe sysctls, AppArmor annotation values, restricted volume sources with
 * the API server's emptyDir default), the bounded value lists in messages,
 * and whole evaluations at both levels, hostile shapes of input included.
 * The per-check verdicts are covered by the data-driven cases in
 * test/cases/pod-security/.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "policies/pod_security.c"
#include "test/helpers/fixture.h"
#include "test/helpers/policy_fixture.h"

/* pl_params_parse on a YAML text (NULL: no settings); err filled. */
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
    assert_int_equal(levels[((const struct params *)p)->level], LEVEL_RESTRICTED);
    pl_params_free(&param_set, p);

    p = NULL;
    assert_int_equal(parse("{level: baseline, mode: warn}", &p, &err), 0);
    assert_int_equal(levels[((const struct params *)p)->level], LEVEL_BASELINE);
    pl_params_free(&param_set, p);

    p = NULL;
    assert_int_equal(parse("{level: restricted}", &p, &err), 0);
    assert_int_equal(levels[((const struct params *)p)->level], LEVEL_RESTRICTED);
    pl_params_free(&param_set, p);

    p = NULL;
    assert_int_equal(parse("{level: privileged}", &p, &err), -EINVAL);
    assert_string_equal(err.path, "level");
    assert_null(p);
    assert_int_equal(parse("{level: Baseline}", &p, &err), -EINVAL);
    assert_int_equal(parse("{level: 1}", &p, &err), -EINVAL);
    assert_int_equal(parse("{level: null}", &p, &err), -EINVAL);
    assert_int_equal(parse("{version: latest}", &p, &err), -EINVAL);
    assert_string_equal(err.path, "version");
    assert_null(p);
    pl_params_free(&param_set, NULL);
}

static void test_value_tables(void **state)
{
    (void)state;
    json_t *v = json_string("NET_BIND_SERVICE");
    assert_true(baseline_capability(v));
    json_decref(v);
    v = json_string("NET_RAW");
    assert_false(baseline_capability(v));
    json_decref(v);
    v = json_string("CAP_CHOWN");
    assert_false(baseline_capability(v));
    json_decref(v);
    v = json_integer(1);
    assert_false(baseline_capability(v));
    json_decref(v);

    assert_true(selinux_type_allowed(NULL));
    v = json_string("");
    assert_true(selinux_type_allowed(v));
    assert_false(nonempty(v));
    json_decref(v);
    v = json_string("container_engine_t");
    assert_true(selinux_type_allowed(v));
    assert_true(nonempty(v));
    json_decref(v);
    v = json_string("spc_t");
    assert_false(selinux_type_allowed(v));
    json_decref(v);

    v = json_string("net.ipv4.tcp_notsent_lowat");
    assert_true(safe_sysctl(v));
    json_decref(v);
    v = json_string("net.ipv4.ip_forward");
    assert_false(safe_sysctl(v));
    json_decref(v);
    assert_false(safe_sysctl(NULL));

    static const struct {
        const char *value;
        bool ok;
    } annotations[] = {
        {"", true},
        {"runtime/default", true},
        {"localhost/", true},
        {"localhost/x", true},
        {"unconfined", false},
        {"Runtime/default", false},
        {"localhost", false},
        {"docker/default", false},
    };
    for (size_t i = 0; i < PL_ARRAY_SIZE(annotations); i++) {
        v = json_string(annotations[i].value);
        if (apparmor_annotation_allowed(v) != annotations[i].ok) {
            fail_msg("annotation \"%s\": allowed=%d", annotations[i].value, !annotations[i].ok);
        }
        json_decref(v);
    }
    v = json_true();
    assert_false(apparmor_annotation_allowed(v));
    json_decref(v);
}

/* restricted_volume_source on a YAML volume; "" for NULL (allowed). */
static void expect_source(const char *yaml, const char *want)
{
    json_t *vol = pl_test_yaml(yaml);
    const char *got = restricted_volume_source(vol);
    if (strcmp(got ? got : "", want) != 0) {
        fail_msg("%s: got \"%s\", want \"%s\"", yaml, got ? got : "", want);
    }
    json_decref(vol);
}

static void test_restricted_volume_source(void **state)
{
    (void)state;
    expect_source("{name: a}", "");                 /* the API server makes it an emptyDir */
    expect_source("{name: a, hostPath: null}", ""); /* null is unset */
    expect_source("{name: a, emptyDir: {}}", "");
    expect_source("{name: a, image: {reference: x}}", "");
    expect_source("{name: a, csi: {driver: d}}", "");
    expect_source("{name: a, nfs: {server: s, path: /}}", "nfs");
    expect_source("{name: a, hostPath: {path: /}}", "hostPath");
    expect_source("{name: a, gitRepo: {repository: r}, flocker: {}}", "gitRepo");
    /* As upstream's switch: any allowed source admits the volume. */
    expect_source("{name: a, hostPath: {path: /}, configMap: {name: c}}", "");
}

static void test_list(void **state)
{
    (void)state;
    struct pl_pool pool;
    pl_pool_init(&pool);
    struct pl_report report;
    pl_report_init(&report, &pool, NULL);
    struct list l = {.out = &report};
    json_t *items = pl_test_yaml("[A, 7, {x: 1}, \"a\\u0001b\"]");
    for (size_t i = 0; i < json_array_size(items); i++) {
        list_add(&l, json_array_get(items, i));
    }
    assert_string_equal(l.text, "\"A\", 7, of the wrong type, \"a?b\"");
    for (size_t i = 0; i < 10; i++) {
        list_add(&l, json_array_get(items, 0));
    }
    assert_int_equal(l.n, 14);
    assert_string_equal(l.text,
                        "\"A\", 7, of the wrong type, \"a?b\", \"A\", \"A\", \"A\", \"A\", ...");
    json_decref(items);
    pl_pool_finish(&pool);
}

/* Runs the check on object at level ("baseline"/"restricted"); paths joined by "|" go to buf. */
static size_t run_check(const char *object, const char *level, char *buf, size_t size)
{
    char settings[64];
    snprintf(settings, sizeof(settings), "{level: %s}", level);
    return pl_test_run_policy_paths(&pl_policy_pod_security, settings, object, buf, size);
}

static void test_check(void **state)
{
    (void)state;
    char buf[2048];
    const char *plain = "{kind: Pod, spec: {containers: [{name: web}]}}";
    assert_int_equal(run_check(plain, "baseline", buf, sizeof(buf)), 0);
    assert_int_equal(run_check(plain, "restricted", buf, sizeof(buf)), 4);
    assert_string_equal(buf, "spec.containers[0] (web).securityContext.allowPrivilegeEscalation|"
                             "spec.containers[0] (web).securityContext.runAsNonRoot|"
                             "spec.containers[0] (web).securityContext.seccompProfile|"
                             "spec.containers[0] (web).securityContext.capabilities.drop");

    /* Windows: only runAsNonRoot is left of the restricted rules added since 1.0. */
    const char *windows = "{kind: Pod, spec: {os: {name: windows}, containers: [{name: w}]}}";
    assert_int_equal(run_check(windows, "restricted", buf, sizeof(buf)), 1);
    assert_string_equal(buf, "spec.containers[0] (w).securityContext.runAsNonRoot");
    /* "Windows" is not "windows". */
    assert_int_equal(run_check("{kind: Pod, spec: {os: {name: Windows}, containers: [{name: w}]}}",
                               "restricted", buf, sizeof(buf)),
                     4);

    /* A user namespace relaxes runAsNonRoot and runAsUser, not procMount at restricted. */
    const char *userns = "{kind: Pod, spec: {hostUsers: false, securityContext: {runAsUser: 0, "
                         "seccompProfile: {type: RuntimeDefault}}, containers: [{name: c, "
                         "securityContext: {procMount: Unmasked, allowPrivilegeEscalation: false, "
                         "capabilities: {drop: [ALL]}}}]}}";
    assert_int_equal(run_check(userns, "restricted", buf, sizeof(buf)), 1);
    assert_string_equal(buf, "spec.containers[0] (c).securityContext.procMount");
    assert_int_equal(run_check(userns, "baseline", buf, sizeof(buf)), 0);

    /* Template metadata carries the AppArmor annotations of a workload. */
    assert_int_equal(run_check("{kind: Deployment, spec: {template: {metadata: {annotations: "
                               "{container.apparmor.security.beta.kubernetes.io/x: unconfined}}, "
                               "spec: {containers: [{name: x}]}}}}",
                               "baseline", buf, sizeof(buf)),
                     1);
    assert_string_equal(buf, "spec.template.metadata.annotations[container.apparmor.security.beta."
                             "kubernetes.io/x]");
    /* Only the container-name part of the key is request text, so a long name is kept whole. */
    assert_int_equal(run_check("{kind: Pod, metadata: {annotations: "
                               "{container.apparmor.security.beta.kubernetes.io/"
                               "a-container-name-that-is-sixty-characters-long-xxxxxxxxxxxxx: "
                               "unconfined}}, spec: {containers: []}}",
                               "baseline", buf, sizeof(buf)),
                     1);
    assert_string_equal(buf, "metadata.annotations[container.apparmor.security.beta.kubernetes.io/"
                             "a-container-name-that-is-sixty-characters-long-xxxxxxxxxxxxx]");
}

static void test_hostile_input(void **state)
{
    (void)state;
    char buf[2048];
    /* Wrong types everywhere: nothing crashes, and nothing here is a baseline violation. */
    const char *odd = "{kind: Pod, metadata: {annotations: [x]}, spec: {securityContext: x, "
                      "volumes: {a: b}, hostNetwork: 'true', containers: [7, null, {name: 5, "
                      "securityContext: [], ports: [{hostPort: x}, 3]}], initContainers: x}}";
    assert_int_equal(run_check(odd, "baseline", buf, sizeof(buf)), 0);
    /* At restricted, the one real container lacks every required setting. */
    assert_int_equal(run_check(odd, "restricted", buf, sizeof(buf)), 4);
    /* Control characters and long names are quoted and cut. */
    assert_int_equal(run_check("{kind: Pod, spec: {containers: [{name: \"a\\nb\", securityContext: "
                               "{privileged: true}}]}}",
                               "baseline", buf, sizeof(buf)),
                     1);
    assert_string_equal(buf, "spec.containers[0] (a?b).securityContext.privileged");
    /* Non-string capability and sysctl entries count as forbidden, as the API would refuse them. */
    assert_int_equal(run_check("{kind: Pod, spec: {securityContext: {sysctls: [{name: 3}, {}]}, "
                               "containers: [{name: c, securityContext: {capabilities: {add: "
                               "[1]}}}]}}",
                               "baseline", buf, sizeof(buf)),
                     3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_value_tables),
        cmocka_unit_test(test_restricted_volume_source),
        cmocka_unit_test(test_list),
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_hostile_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
