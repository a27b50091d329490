/* SPDX-License-Identifier: Apache-2.0 */
/*
 * priority-class: the pod names a priorityClassName, and when `allowed` is
 * not empty, one of those classes. Without a class every pod has priority 0
 * (or the cluster's globalDefault): when nodes run short the scheduler cannot
 * tell the checkout service from a batch report, and preemption may evict
 * the one that matters to place the other. Naming the class is a decision the
 * workload's owner makes once, in the manifest, instead of one the cluster
 * makes for them.
 *
 * Rule: spec.priorityClassName is a non-empty string; with `allowed` set it
 * is one of the listed names (exact match). Every kind with a pod template is
 * checked. Off by default: it asks for PriorityClass objects first.
 * Runbook: docs/policies/priority-class.md
 */
#include "policies/policy.h"

#include <stddef.h>

#include "core/json.h"
#include "policies/params.h"

struct params {
    struct pl_strlist allowed; /* empty: any class name */
};

static void check(const struct pl_eval *ev, const json_t *spec, struct pl_report *out)
{
    const struct params *params = ev->params;
    const char *name = pl_json_string(spec, "priorityClassName");
    if (!name || !*name) {
        pl_report_add(out, PL_SCOPE_POD_SPEC, "priorityClassName",
                      "unset, so the pod gets the cluster's default priority; name the "
                      "PriorityClass this workload should have");
        return;
    }
    if (params->allowed.len > 0 && !pl_strlist_contains(&params->allowed, name)) {
        pl_report_add(out, PL_SCOPE_POD_SPEC, "priorityClassName",
                      "\"%s\" is not one of the allowed classes; use one that "
                      "policies.priority-class.allowed lists",
                      pl_report_quote(out, name));
    }
}

static const struct pl_param param_table[] = {
    {.name = "allowed",
     .type = PL_PARAM_STRLIST,
     .offset = offsetof(struct params, allowed),
     .def = "[]",
     .summary = "PriorityClass names a pod may use; an empty list allows any name"},
    {0},
};

static const struct pl_param_set param_set = {sizeof(struct params), param_table, NULL, NULL};

const struct pl_policy pl_policy_priority_class = {
    .id = "priority-class",
    .default_mode = PL_MODE_OFF,
    .summary = "the pod names a priorityClassName (one of allowed, when set)",
    .params = &param_set,
    .check = check,
};
