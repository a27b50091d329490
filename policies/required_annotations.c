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

#include "policies/required_keys.h"

static const struct pl_required_keys_kind kind = {"annotations", "annotation", NULL};

static int parse_params(const json_t *json, void **ret_params, struct pl_error *err)
{
    return pl_required_keys_parse(&kind, json, ret_params, err);
}

static void free_params(void *params)
{
    pl_required_keys_free(params);
}

static int check(const struct pl_eval *ev, const json_t *spec, struct pl_report *out)
{
    (void)spec;
    pl_required_keys_check(&kind, ev, out);
    return 0;
}

static const struct pl_param param_table[] = {
    {"annotations", "list of strings", "[]",
     "annotation keys the pod (template) must carry with a non-empty value"},
    {NULL, NULL, NULL, NULL},
};

const struct pl_policy pl_policy_required_annotations = {
    .id = "required-annotations",
    .default_mode = PL_MODE_OFF,
    .summary = "the pod (template) carries the listed annotations",
    .params = param_table,
    .parse_params = parse_params,
    .check = check,
    .free_params = free_params,
};
