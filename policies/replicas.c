/* SPDX-License-Identifier: Apache-2.0 */
/*
 * replicas: PLACEHOLDER, not implemented yet (finds nothing). Being written.
 * Runbook: docs/policies/replicas.md
 */
#include "policies/policy.h"

static int check(const struct pl_eval *ev, const json_t *spec, struct pl_report *out)
{
    (void)ev;
    (void)spec;
    (void)out;
    return 0;
}

const struct pl_policy pl_policy_replicas = {
    .id = "replicas",
    .default_mode = PL_MODE_WARN,
    .summary = "Deployments and StatefulSets ask for at least min replicas",
    .check = check,
};
