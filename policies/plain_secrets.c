/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plain-secrets: PLACEHOLDER, not implemented yet (finds nothing). Being written.
 * Runbook: docs/policies/plain-secrets.md
 */
#include "policies/policy.h"

static int check(const struct pl_eval *ev, const json_t *spec, struct pl_report *out)
{
    (void)ev;
    (void)spec;
    (void)out;
    return 0;
}

const struct pl_policy pl_policy_plain_secrets = {
    .id = "plain-secrets",
    .default_mode = PL_MODE_ENFORCE,
    .summary = "no secret-looking env var has a literal value",
    .check = check,
};
