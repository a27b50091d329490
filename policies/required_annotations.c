/* SPDX-License-Identifier: Apache-2.0 */
/*
 * required-annotations: the pod (the Pod itself, or a workload's pod
 * template) carries every annotation listed in `annotations` (default: none,
 * and the policy is off by default), each with a non-empty value. Teams use
 * it for what their tooling reads from pods: an owner or on-call contact, a
 * log parser, a scrape switch. The rule is shared with required-labels
 * (required_keys.c).
 * Runbook: docs/policies/required-annotations.md
 */
#include "policies/policy.h"

#include <stddef.h>

#include "policies/required_keys.h"

static const struct pl_required_keys_kind kind = {"annotations", "annotation"};

static int check_key(const char *key, const char *path, struct pl_error *err)
{
    return pl_metadata_key_check(key, kind.noun, path, err);
}

static void check(const struct pl_eval *ev, const json_t *spec, struct pl_report *out)
{
    (void)spec;
    pl_required_keys_check(&kind, ev, out);
}

static const struct pl_param param_table[] = {
    {.name = "annotations",
     .type = PL_PARAM_STRLIST,
     .offset = offsetof(struct pl_required_keys_params, keys),
     .def = "[]",
     .check = check_key,
     .summary = "annotation keys the pod (template) must carry with a non-empty value"},
    {0},
};

static const struct pl_param_set param_set = {sizeof(struct pl_required_keys_params), param_table,
                                              NULL, NULL};

const struct pl_policy pl_policy_required_annotations = {
    .id = "required-annotations",
    .default_mode = PL_MODE_OFF,
    .summary = "the pod (template) carries the listed annotations",
    .params = &param_set,
    .check = check,
};
