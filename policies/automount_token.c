/* SPDX-License-Identifier: Apache-2.0 */
/*
 * automount-token: PLACEHOLDER, not implemented yet (finds nothing). Being written.
 * Runbook: docs/policies/automount-token.md
 */
#include "policies/policy.h"

static int check(const struct pl_eval *ev, const json_t *spec, struct pl_report *out)
{
    (void)ev;
    (void)spec;
    (void)out;
    return 0;
}

const struct pl_policy pl_policy_automount_token = {
    .id = "automount-token",
    .default_mode = PL_MODE_OFF,
    .summary = "automountServiceAccountToken is false unless exempted",
    .check = check,
};
