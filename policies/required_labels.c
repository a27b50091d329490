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

#include <stddef.h>

#include "core/keys.h"
#include "policies/required_keys.h"

static const struct pl_required_keys_kind kind = {"labels", "label"};

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
    {.name = "labels",
     .type = PL_PARAM_STRLIST,
     .offset = offsetof(struct pl_required_keys_params, keys),
     .def = "[\"" PL_LABEL_APP_NAME "\"]",
     .check = check_key,
     .summary = "label keys the pod (template) must carry with a non-empty value"},
    {0},
};

static const struct pl_param_set param_set = {sizeof(struct pl_required_keys_params), param_table,
                                              NULL, NULL};

const struct pl_policy pl_policy_required_labels = {
    .id = "required-labels",
    .default_mode = PL_MODE_WARN,
    .summary = "the pod (template) carries the listed labels",
    .params = &param_set,
    .check = check,
};
