/* SPDX-License-Identifier: Apache-2.0 */
/*
 * image-registry: PLACEHOLDER, not implemented yet (finds nothing). Being written.
 * Runbook: docs/policies/image-registry.md
 */
#include "policies/policy.h"

static int check(const struct pl_eval *ev, const json_t *spec, struct pl_report *out)
{
    (void)ev;
    (void)spec;
    (void)out;
    return 0;
}

const struct pl_policy pl_policy_image_registry = {
    .id = "image-registry",
    .default_mode = PL_MODE_ENFORCE,
    .summary = "every image comes from an allowed registry prefix",
    .check = check,
};
