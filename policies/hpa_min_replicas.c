/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hpa-min-replicas: a HorizontalPodAutoscaler keeps at least `min` replicas
 * (spec.minReplicas, 1 when unset) of the workload it scales. At night or on
 * a quiet weekend the autoscaler scales down to minReplicas; with 1, the
 * workload is a single pod again, and one node drain, eviction or crash is an
 * outage, whatever its Deployment says (spec.replicas no longer counts once
 * an autoscaler owns the scale).
 *
 * Judges HorizontalPodAutoscalers, which admission never sends plimsoll:
 * runs in `plimsoll check` and `plimsoll audit`. Warn by default.
 * Runbook: docs/policies/hpa-min-replicas.md
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

static void check(const struct pl_eval *ev, const json_t *spec, struct pl_report *out)
{
    const struct params *p = ev->params;
    const json_t *v = json_object_get(spec, "minReplicas");
    long long min_replicas = 1;
    if (v && !json_is_null(v) && !pl_json_integer(spec, "minReplicas", &min_replicas)) {
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
                  v && !json_is_null(v) ? "" : "not set (", min_replicas,
                  v && !json_is_null(v) ? "" : ")", kind ? pl_report_quote(out, kind) : "its",
                  name ? pl_report_quote(out, name) : "target", min_replicas,
                  min_replicas == 1 ? "" : "s", p->min);
}

const struct pl_policy pl_policy_hpa_min_replicas = {
    .id = "hpa-min-replicas",
    .default_mode = PL_MODE_WARN,
    .summary = "a HorizontalPodAutoscaler keeps at least min replicas",
    .kinds = PL_KINDS_NONE,
    .other_kinds = other_kinds,
    .neighbours = true,
    .params = &param_set,
    .check = check,
};
