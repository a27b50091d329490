/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pod-security: PLACEHOLDER, not implemented yet (finds nothing). Being written.
 * Runbook: docs/policies/pod-security.md
 */
#include "policies/policy.h"

static int check(const struct pl_eval *ev, const json_t *spec, struct pl_report *out)
{
    (void)ev;
    (void)spec;
    (void)out;
    return 0;
}

const struct pl_policy pl_policy_pod_security = {
    .id = "pod-security",
    .default_mode = PL_MODE_ENFORCE,
    .summary = "the Pod Security Standards at the configured level",
    .check = check,
};
