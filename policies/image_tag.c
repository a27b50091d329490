/* SPDX-License-Identifier: Apache-2.0 */
/*
 * image-tag: PLACEHOLDER, not implemented yet (finds nothing). Being written.
 * Runbook: docs/policies/image-tag.md
 */
#include "policies/policy.h"

static int check(const struct pl_eval *ev, const json_t *spec, struct pl_report *out)
{
    (void)ev;
    (void)spec;
    (void)out;
    return 0;
}

const struct pl_policy pl_policy_image_tag = {
    .id = "image-tag",
    .default_mode = PL_MODE_ENFORCE,
    .summary = "every image has a tag or digest and the tag is not latest",
    .check = check,
};
