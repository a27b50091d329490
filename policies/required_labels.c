/* SPDX-License-Identifier: Apache-2.0 */
/*
 * required-labels: the pod (the Pod itself, or a workload's pod template)
 * carries every label listed in `labels` (default app.kubernetes.io/name),
 * each with a non-empty value. Labels on the pods are what Services,
 * NetworkPolicies, PodDisruptionBudgets, dashboards and cost reports select
 * by; a label that is only on the Deployment never reaches the pods.
 * The rule itself is shared with required-annotations (required_keys.c).
 * Runbook: docs/policies/required-labels.md
 */
#include "policies/policy.h"

#include "policies/required_keys.h"

static const char *const default_keys[] = {"app.kubernetes.io/name", NULL};
static const struct pl_required_keys_kind kind = {"labels", "label", default_keys};

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
    {"labels", "list of strings", "[app.kubernetes.io/name]",
     "label keys the pod (template) must carry with a non-empty value"},
    {NULL, NULL, NULL, NULL},
};

const struct pl_policy pl_policy_required_labels = {
    .id = "required-labels",
    .default_mode = PL_MODE_WARN,
    .summary = "the pod (template) carries the listed labels",
    .params = param_table,
    .parse_params = parse_params,
    .check = check,
    .free_params = free_params,
};
