/* SPDX-License-Identifier: Apache-2.0 */
/*
 * automount-token: the pod spec sets automountServiceAccountToken to false.
 * Unless told otherwise, the kubelet mounts a token for the pod's service
 * account into every container; code that never talks to the API server then
 * carries a credential that a remote-code-execution bug hands to an attacker.
 * Unset counts as true (the Kubernetes default, unless the ServiceAccount
 * says false, which a webhook cannot see). Workloads that need the API are
 * exempted with a reason (plimsoll.dev/exempt). Off by default.
 * Runbook: docs/policies/automount-token.md
 */
#include "policies/policy.h"

static void check(const struct pl_eval *ev, const json_t *spec, struct pl_report *out)
{
    (void)ev;
    const json_t *v = json_object_get(spec, "automountServiceAccountToken");
    if (json_is_false(v)) {
        return;
    }
    if (json_is_true(v)) {
        pl_report_add(out, PL_SCOPE_POD_SPEC, "automountServiceAccountToken",
                      "true (token mounted); set false or exempt the workload with a reason");
    } else {
        pl_report_add(out, PL_SCOPE_POD_SPEC, "automountServiceAccountToken",
                      "unset (token mounted); set false or exempt the workload with a reason");
    }
}

const struct pl_policy pl_policy_automount_token = {
    .id = "automount-token",
    .default_mode = PL_MODE_OFF,
    .summary = "automountServiceAccountToken is false unless the workload is exempted",
    .check = check,
};
