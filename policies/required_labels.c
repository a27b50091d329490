/* SPDX-License-Identifier: Apache-2.0 */
/*
 * required-labels: PLACEHOLDER, not implemented yet (finds nothing). Being written.
 * Runbook: docs/policies/required-labels.md
 */
#include "policies/policy.h"

static int check(const struct pl_eval *ev, const json_t *spec, struct pl_report *out)
{
    (void)ev;
    (void)spec;
    (void)out;
    return 0;
}

const struct pl_policy pl_policy_required_labels = {
    .id = "required-labels",
    .default_mode = PL_MODE_WARN,
    .summary = "the pod (template) carries the listed labels",
    .check = check,
};
