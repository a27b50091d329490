/* SPDX-License-Identifier: Apache-2.0 */
/*
 * commit-labels: PLACEHOLDER, not implemented yet (finds nothing). Being written.
 * Runbook: docs/policies/commit-labels.md
 */
#include "policies/policy.h"

static int check(const struct pl_eval *ev, const json_t *spec, struct pl_report *out)
{
    (void)ev;
    (void)spec;
    (void)out;
    return 0;
}

const struct pl_policy pl_policy_commit_labels = {
    .id = "commit-labels",
    .default_mode = PL_MODE_WARN,
    .summary = "the pod (template) carries plimsoll.dev/commit",
    .check = check,
};
