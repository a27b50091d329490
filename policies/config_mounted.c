/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config-mounted: PLACEHOLDER, not implemented yet (finds nothing). Being written.
 * Runbook: docs/policies/config-mounted.md
 */
#include "policies/policy.h"

static int check(const struct pl_eval *ev, const json_t *spec, struct pl_report *out)
{
    (void)ev;
    (void)spec;
    (void)out;
    return 0;
}

const struct pl_policy pl_policy_config_mounted = {
    .id = "config-mounted",
    .default_mode = PL_MODE_WARN,
    .summary = "ConfigMaps are mounted as volumes, not read through env or subPath",
    .check = check,
};
