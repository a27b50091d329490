/* SPDX-License-Identifier: Apache-2.0 */
/*
 * distinct-probes: PLACEHOLDER, not implemented yet (finds nothing). Being written.
 * Runbook: docs/policies/distinct-probes.md
 */
#include "policies/policy.h"

static int check(const struct pl_eval *ev, const json_t *spec, struct pl_report *out)
{
    (void)ev;
    (void)spec;
    (void)out;
    return 0;
}

const struct pl_policy pl_policy_distinct_probes = {
    .id = "distinct-probes",
    .default_mode = PL_MODE_WARN,
    .summary = "a container's liveness and readiness probes are not identical",
    .check = check,
};
