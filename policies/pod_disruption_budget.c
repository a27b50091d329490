/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pod-disruption-budget: a replicated Deployment or StatefulSet has a
 * PodDisruptionBudget in its namespace whose selector selects its pods.
 * Without one, a node drain (a cluster upgrade, an autoscaler scaling down)
 * may evict every replica at once: the eviction API only waits when a budget
 * says so. "Replicated" means spec.replicas of 2 or more, or not set (it is
 * then left to an autoscaler or to someone else's `kubectl scale`, as
 * kube-score reads it); spec.replicas below 2 with no autoscaler that may
 * scale it to 2 or more is not looked at (a budget cannot keep one pod up
 * through a drain without blocking it).
 *
 * Needs the neighbouring objects (core/neighbours.h): runs in `plimsoll
 * check` and `plimsoll audit`, never at admission. Warn by default.
 * Runbook: docs/policies/pod-disruption-budget.md
 */
#include "policies/policy.h"

#include "core/json.h"
#include "core/selector.h"

/* Whether the workload may run 2 or more replicas. */
static bool replicated(const struct pl_eval *ev)
{
    long long replicas = 1;
    if (!pl_json_integer(pl_json_object(ev->obj->root, "spec"), "replicas", &replicas) ||
        replicas >= 2) {
        return true;
    }
    const json_t *hpa = pl_neighbours_autoscaler(ev->neighbours, ev->obj->namespace_,
                                                 ev->obj->kind_name, ev->obj->name);
    long long max = 0;
    return hpa && pl_json_integer(pl_json_object(hpa, "spec"), "maxReplicas", &max) && max >= 2;
}

static void check(const struct pl_eval *ev, const json_t *spec, struct pl_report *out)
{
    (void)spec;
    if (!replicated(ev)) {
        return;
    }
    const json_t *labels = pl_json_object(ev->obj->pod_meta, "labels");
    size_t cursor = 0;
    const struct pl_neighbour *pdb;
    while ((pdb = pl_neighbours_next(ev->neighbours, "PodDisruptionBudget", ev->obj->namespace_,
                                     &cursor))) {
        const json_t *selector = pl_json_object(pl_json_object(pdb->object, "spec"), "selector");
        if (pl_selector_matches(selector, labels)) {
            return;
        }
    }
    pl_report_add(out, PL_SCOPE_POD_META, "labels",
                  "no PodDisruptionBudget in namespace %s selects these pods; a node drain may "
                  "evict every replica at once",
                  pl_report_quote(out, ev->obj->namespace_));
}

const struct pl_policy pl_policy_pod_disruption_budget = {
    .id = "pod-disruption-budget",
    .default_mode = PL_MODE_WARN,
    .summary =
        "a replicated Deployment or StatefulSet has a PodDisruptionBudget selecting its pods",
    .kinds = PL_KINDS(PL_KIND_DEPLOYMENT) | PL_KINDS(PL_KIND_STATEFULSET),
    .neighbours = true,
    .check = check,
};
