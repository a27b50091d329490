/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of policies/inject_security_defaults.c: what is added where
 * unset, what the user set is kept, and the combinations the API server
 * would refuse (Windows pods, privileged containers, CAP_SYS_ADMIN, legacy
 * seccomp annotations) are left alone.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policies/inject_security_defaults.c"
#include "test/helpers/policy_fixture.h"

/* Runs the mutation on yaml; returns the operations as compact JSON text (free()). */
static char *run(const char *yaml, bool spec_mutable)
{
    json_t *ops = pl_test_run_mutation(&pl_mutation_inject_security_defaults, NULL, yaml, NULL,
                                       spec_mutable, NULL);
    char *text = json_dumps(ops, JSON_COMPACT);
    json_decref(ops);
    return text;
}

static void expect(const char *yaml, bool spec_mutable, const char *ops)
{
    char *got = run(yaml, spec_mutable);
    if (strcmp(got, ops) != 0) {
        fail_msg("got      %s\nexpected %s", got, ops);
    }
    free(got);
}

static void test_adds_where_unset(void **state)
{
    (void)state;
    expect("{kind: Pod, spec: {containers: [{name: a}]}}", true,
           "[{\"op\":\"add\",\"path\":\"/spec/securityContext\",\"value\":{}},"
           "{\"op\":\"add\",\"path\":\"/spec/securityContext/seccompProfile\","
           "\"value\":{\"type\":\"RuntimeDefault\"}},"
           "{\"op\":\"add\",\"path\":\"/spec/containers/0/securityContext\",\"value\":{}},"
           "{\"op\":\"add\",\"path\":\"/spec/containers/0/securityContext/"
           "allowPrivilegeEscalation\",\"value\":false},"
           "{\"op\":\"add\",\"path\":\"/spec/containers/0/securityContext/capabilities\","
           "\"value\":{}},"
           "{\"op\":\"add\",\"path\":\"/spec/containers/0/securityContext/capabilities/drop\","
           "\"value\":[\"ALL\"]}]");
}

static void test_keeps_user_values(void **state)
{
    (void)state;
    expect("{kind: Pod, spec: {securityContext: {seccompProfile: {type: Localhost, "
           "localhostProfile: p.json}}, containers: [{name: a, securityContext: "
           "{allowPrivilegeEscalation: true, capabilities: {drop: [NET_RAW]}}}]}}",
           true, "[]");
    /* An empty drop list is the user's choice too. */
    expect("{kind: Pod, spec: {securityContext: {seccompProfile: {type: Unconfined}}, "
           "containers: [{name: a, securityContext: {allowPrivilegeEscalation: false, "
           "capabilities: {drop: []}}}]}}",
           true, "[]");
}

static void test_refused_combinations(void **state)
{
    (void)state;
    expect("{kind: Pod, spec: {os: {name: windows}, containers: [{name: a}]}}", true, "[]");
    expect("{kind: Pod, spec: {securityContext: {seccompProfile: {type: RuntimeDefault}}, "
           "containers: [{name: a, securityContext: {privileged: true}}]}}",
           true, "[]");
    expect("{kind: Pod, spec: {securityContext: {seccompProfile: {type: RuntimeDefault}}, "
           "containers: [{name: a, securityContext: {capabilities: {add: [CAP_SYS_ADMIN]}}}]}}",
           true,
           "[{\"op\":\"add\",\"path\":\"/spec/containers/0/securityContext/capabilities/drop\","
           "\"value\":[\"ALL\"]}]");
    expect("{kind: Pod, metadata: {annotations: {seccomp.security.alpha.kubernetes.io/pod: "
           "unconfined}}, spec: {containers: [{name: a, securityContext: "
           "{allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}}]}}",
           true, "[]");
    expect("{kind: Pod, metadata: {annotations: {container.seccomp.security.alpha.kubernetes.io/a: "
           "runtime/default}}, spec: {containers: [{name: a, securityContext: "
           "{allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}}]}}",
           true, "[]");
    /* Pod UPDATE: the spec may not change. */
    expect("{kind: Pod, spec: {containers: [{name: a}]}}", false, "[]");
}

static void test_every_container_kind(void **state)
{
    (void)state;
    char *got = run("{kind: CronJob, spec: {jobTemplate: {spec: {template: {spec: {"
                    "securityContext: {seccompProfile: {type: RuntimeDefault}}, "
                    "initContainers: [{name: i, securityContext: {capabilities: {drop: [ALL]}}}, "
                    "{name: s, restartPolicy: Always, securityContext: "
                    "{allowPrivilegeEscalation: false}}], containers: [{name: c, securityContext: "
                    "{allowPrivilegeEscalation: false, capabilities: {}}}], "
                    "ephemeralContainers: [{name: e}]}}}}}}",
                    true);
    const char *want =
        "[{\"op\":\"add\",\"path\":\"/spec/jobTemplate/spec/template/spec/containers/0/"
        "securityContext/capabilities/drop\",\"value\":[\"ALL\"]},"
        "{\"op\":\"add\",\"path\":\"/spec/jobTemplate/spec/template/spec/initContainers/0/"
        "securityContext/allowPrivilegeEscalation\",\"value\":false},"
        "{\"op\":\"add\",\"path\":\"/spec/jobTemplate/spec/template/spec/initContainers/1/"
        "securityContext/capabilities\",\"value\":{}},"
        "{\"op\":\"add\",\"path\":\"/spec/jobTemplate/spec/template/spec/initContainers/1/"
        "securityContext/capabilities/drop\",\"value\":[\"ALL\"]}]";
    if (strcmp(got, want) != 0) {
        fail_msg("got      %s\nexpected %s", got, want);
    }
    free(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adds_where_unset),
        cmocka_unit_test(test_keeps_user_values),
        cmocka_unit_test(test_refused_combinations),
        cmocka_unit_test(test_every_container_kind),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
