/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hpa-replicas: a HorizontalPodAutoscaler keeps at least `min` replicas
 * (spec.minReplicas, 1 when unset), and the Deployment or StatefulSet it
 * scales leaves spec.replicas to it.
 *
 * - At night or on a quiet weekend the autoscaler scales down to minReplicas;
 *   with 1, the workload is a single pod again, and one node drain, eviction
 *   or crash is an outage.
 * - A workload that writes spec.replicas while an autoscaler scales it is
 *   reset to that count by every `kubectl apply` or GitOps sync, until the
 *   autoscaler notices again: a rollout at peak load scales it down.
 *
 * Judges HorizontalPodAutoscalers, which admission never sends plimsoll, and
 * workloads against the autoscalers of the same set: runs in `plimsoll check`
 * and `plimsoll audit`. Warn by default.
 * Runbook: docs/policies/hpa-replicas.md
 */
#include "policies/policy.h"

#include <stddef.h>

#include "core/json.h"

static const char *const other_kinds[] = {"HorizontalPodAutoscaler", NULL};

struct params {
    long long min;
};

static const struct pl_param param_table[] = {
    {.name = "min",
     .type = PL_PARAM_INT,
     .offset = offsetof(struct params, min),
     .def = "2",
     .min = 1,
     .max = 10000,
     .summary = "fewest replicas an autoscaler may scale its workload down to"},
    {0},
};

static const struct pl_param_set param_set = {sizeof(struct params), param_table, NULL, NULL};

/* An autoscaler's minReplicas against min. */
static void check_autoscaler(const struct params *p, const json_t *spec, struct pl_report *out)
{
    const json_t *v = json_object_get(spec, "minReplicas");
    bool set = v && !json_is_null(v);
    long long min_replicas = 1;
    if (set && !pl_json_integer(spec, "minReplicas", &min_replicas)) {
        return; /* not a number: the API server refuses the object itself */
    }
    if (min_replicas >= p->min) {
        return;
    }
    const json_t *ref = pl_json_object(spec, "scaleTargetRef");
    const char *kind = pl_json_string(ref, "kind");
    const char *name = pl_json_string(ref, "name");
    pl_report_add(out, PL_SCOPE_OBJECT, "spec.minReplicas",
                  "minReplicas is %s%lld%s, so %s %s may be scaled down to %lld pod%s; ask for at "
                  "least %lld",
                  set ? "" : "not set (", min_replicas, set ? "" : ")",
                  kind ? pl_report_quote(out, kind) : "its",
                  name ? pl_report_quote(out, name) : "target", min_replicas,
                  min_replicas == 1 ? "" : "s", p->min);
}

/* A workload an autoscaler of the set scales, against its own spec.replicas. */
static void check_workload(const struct pl_eval *ev, struct pl_report *out)
{
    const json_t *hpa = pl_neighbours_autoscaler(ev->neighbours, ev->obj->namespace_,
                                                 ev->obj->kind_name, ev->obj->name);
    const json_t *replicas = json_object_get(pl_json_object(ev->obj->root, "spec"), "replicas");
    if (!hpa || !replicas || json_is_null(replicas)) {
        return;
    }
    const char *hpa_name = pl_json_string(pl_json_object(hpa, "metadata"), "name");
    pl_report_add(out, PL_SCOPE_OBJECT, "spec.replicas",
                  "set, but HorizontalPodAutoscaler %s scales this %s; every apply resets the "
                  "count it chose: leave spec.replicas out",
                  pl_report_quote(out, hpa_name ? hpa_name : ""), ev->obj->kind_name);
}

static void check(const struct pl_eval *ev, const json_t *spec, struct pl_report *out)
{
    if (ev->obj->pod_spec) {
        check_workload(ev, out);
    } else {
        check_autoscaler(ev->params, spec, out);
    }
}

const struct pl_policy pl_policy_hpa_replicas = {
    .id = "hpa-replicas",
    .default_mode = PL_MODE_WARN,
    .summary = "a HorizontalPodAutoscaler keeps at least min replicas, and the workload it "
               "scales leaves spec.replicas to it",
    .kinds = PL_KINDS(PL_KIND_DEPLOYMENT) | PL_KINDS(PL_KIND_STATEFULSET),
    .other_kinds = other_kinds,
    .neighbours = true,
    .params = &param_set,
    .check = check,
};
