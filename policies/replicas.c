/* SPDX-License-Identifier: Apache-2.0 */
/*
 * replicas: Deployments and StatefulSets ask for at least `min` replicas
 * (spec.replicas; unset means 1 in Kubernetes), so that one node drain, one
 * eviction or one crashing pod is not an outage. Other kinds are not looked
 * at: a DaemonSet runs one pod per node, a Job runs to completion, a bare Pod
 * or ReplicaSet is normally owned by something that sets the count. A
 * Deployment scaled by a HorizontalPodAutoscaler is exempted with a reason.
 * Runbook: docs/policies/replicas.md
 */
#include "policies/policy.h"

#include <stddef.h>

#include "core/json.h"

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
     .summary = "fewest replicas a Deployment or StatefulSet may ask for"},
    {0},
};

static const struct pl_param_set param_set = {sizeof(struct params), param_table, NULL, NULL};

static void check(const struct pl_eval *ev, const json_t *spec, struct pl_report *out)
{
    (void)spec;
    const struct params *p = ev->params;
    long long min = p->min;
    const json_t *obj_spec = pl_json_object(ev->obj->root, "spec");
    const json_t *v = json_object_get(obj_spec, "replicas");
    long long replicas = 0;
    if (!v || json_is_null(v)) {
        if (min > 1) {
            pl_report_add(
                out, PL_SCOPE_OBJECT, "spec.replicas",
                "not set, so 1 pod runs; ask for at least %lld so one lost pod is not an outage",
                min);
        }
        return;
    }
    if (!pl_json_integer(obj_spec, "replicas", &replicas)) {
        return; /* not a number: the API server refuses the object itself */
    }
    if (replicas < min) {
        pl_report_add(out, PL_SCOPE_OBJECT, "spec.replicas",
                      "%lld replica%s; ask for at least %lld so one lost pod is not an outage",
                      replicas, replicas == 1 ? "" : "s", min);
    }
}

const struct pl_policy pl_policy_replicas = {
    .id = "replicas",
    .default_mode = PL_MODE_WARN,
    .summary = "Deployments and StatefulSets ask for at least min replicas",
    .kinds = PL_KINDS(PL_KIND_DEPLOYMENT) | PL_KINDS(PL_KIND_STATEFULSET),
    .params = &param_set,
    .check = check,
};
