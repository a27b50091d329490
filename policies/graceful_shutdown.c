/* SPDX-License-Identifier: Apache-2.0 */
/*
 * graceful-shutdown: PLACEHOLDER, not implemented yet (finds nothing). Being written.
 * Runbook: docs/policies/graceful-shutdown.md
 */
#include "policies/policy.h"

static int check(const struct pl_eval *ev, const json_t *spec, struct pl_report *out)
{
    (void)ev;
    (void)spec;
    (void)out;
    return 0;
}

const struct pl_policy pl_policy_graceful_shutdown = {
    .id = "graceful-shutdown",
    .default_mode = PL_MODE_WARN,
    .summary = "terminationGracePeriodSeconds is not below the minimum and serving containers have a preStop hook",
    .check = check,
};
