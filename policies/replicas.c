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

#include <stdlib.h>

#include "core/alloc.h"
#include "core/json.h"
#include "policies/params.h"

struct params {
    long long min;
};

static const char *const known_keys[] = {"min", NULL};

static void free_params(void *p)
{
    free(p);
}

static int parse_params(const json_t *json, void **ret_params, struct pl_error *err)
{
    long long min = 2;
    int r = pl_params_check_keys(json, known_keys, err);
    if (r < 0) {
        return r;
    }
    r = pl_params_int(json, "min", 2, 1, 10000, &min, err);
    if (r < 0) {
        return r;
    }
    struct params *params = pl_xcalloc(1, sizeof(*params));
    params->min = min;
    *ret_params = params;
    return 0;
}

static int check(const struct pl_eval *ev, const json_t *spec, struct pl_report *out)
{
    (void)spec;
    const struct params *params = ev->params;
    long long min = params ? params->min : 2;
    if (ev->obj->kind != PL_KIND_DEPLOYMENT && ev->obj->kind != PL_KIND_STATEFULSET) {
        return 0;
    }
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
        return 0;
    }
    if (!pl_json_integer(obj_spec, "replicas", &replicas)) {
        return 0; /* not a number: the API server refuses the object itself */
    }
    if (replicas < min) {
        pl_report_add(out, PL_SCOPE_OBJECT, "spec.replicas",
                      "%lld replica%s; ask for at least %lld so one lost pod is not an outage",
                      replicas, replicas == 1 ? "" : "s", min);
    }
    return 0;
}

static const struct pl_param param_table[] = {
    {"min", "integer", "2", "fewest replicas a Deployment or StatefulSet may ask for (1 to 10000)"},
    {NULL, NULL, NULL, NULL},
};

const struct pl_policy pl_policy_replicas = {
    .id = "replicas",
    .default_mode = PL_MODE_WARN,
    .summary = "Deployments and StatefulSets ask for at least min replicas",
    .params = param_table,
    .parse_params = parse_params,
    .check = check,
    .free_params = free_params,
};
