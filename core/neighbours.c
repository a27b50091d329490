/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The set of neighbouring objects (see neighbours.h): an array with a
 * reference to each object, scanned in order. Sets are small (a manifest's
 * documents, a cluster's PDBs, HPAs and NetworkPolicies), and one scan per
 * judged object is cheaper than keeping an index up to date under a watch.
 */
#include "core/neighbours.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"

static const char *const wanted_kinds[] = {
    "PodDisruptionBudget", "HorizontalPodAutoscaler", "NetworkPolicy", "Deployment", "StatefulSet",
    "ReplicaSet",          "ReplicationController",
};

void pl_neighbours_init(struct pl_neighbours *n)
{
    memset(n, 0, sizeof(*n));
}

void pl_neighbours_finish(struct pl_neighbours *n)
{
    if (!n) {
        return;
    }
    for (size_t i = 0; i < n->len; i++) {
        json_decref(n->items[i].object);
        free(n->items[i].namespace_);
    }
    free(n->items);
    memset(n, 0, sizeof(*n));
}

bool pl_neighbours_wanted(const char *kind)
{
    for (size_t i = 0; kind && i < PL_ARRAY_SIZE(wanted_kinds); i++) {
        if (strcmp(kind, wanted_kinds[i]) == 0) {
            return true;
        }
    }
    return false;
}

bool pl_neighbours_add(struct pl_neighbours *n, const json_t *object, const char *namespace_)
{
    const char *kind = pl_json_string(object, "kind");
    if (!pl_neighbours_wanted(kind) || n->len >= PL_NEIGHBOURS_MAX) {
        return false;
    }
    if (n->len == n->cap) {
        n->cap = n->cap ? 2 * n->cap : 16;
        n->items = pl_xrealloc(n->items, n->cap * sizeof(*n->items));
    }
    const char *name = pl_json_string(pl_json_object(object, "metadata"), "name");
    n->items[n->len++] = (struct pl_neighbour){
        .object = json_incref((json_t *)object),
        .namespace_ = pl_xstrdup(namespace_ ? namespace_ : ""),
        .kind = kind,
        .name = name ? name : "",
    };
    return true;
}

const struct pl_neighbour *pl_neighbours_next(const struct pl_neighbours *n, const char *kind,
                                              const char *namespace_, size_t *cursor)
{
    for (size_t i = *cursor; n && i < n->len; i++) {
        const struct pl_neighbour *it = &n->items[i];
        if (strcmp(it->kind, kind) == 0 && strcmp(it->namespace_, namespace_) == 0) {
            *cursor = i + 1;
            return it;
        }
    }
    if (n) {
        *cursor = n->len;
    }
    return NULL;
}

const json_t *pl_neighbours_autoscaler(const struct pl_neighbours *n, const char *namespace_,
                                       const char *kind, const char *name)
{
    size_t cursor = 0;
    const struct pl_neighbour *hpa;
    while ((hpa = pl_neighbours_next(n, "HorizontalPodAutoscaler", namespace_, &cursor))) {
        const json_t *ref = pl_json_object(pl_json_object(hpa->object, "spec"), "scaleTargetRef");
        const char *k = pl_json_string(ref, "kind");
        const char *nm = pl_json_string(ref, "name");
        if (k && nm && strcmp(k, kind) == 0 && strcmp(nm, name) == 0) {
            return hpa->object;
        }
    }
    return NULL;
}

const json_t *pl_workload_pod_labels(const json_t *workload)
{
    const json_t *spec = pl_json_object(workload, "spec");
    const char *kind = pl_json_string(workload, "kind");
    const json_t *tmpl = kind && strcmp(kind, "CronJob") == 0
                             ? pl_json_path(workload, "spec.jobTemplate.spec.template")
                             : pl_json_object(spec, "template");
    const json_t *labels = pl_json_object(pl_json_object(tmpl, "metadata"), "labels");
    if (json_object_size(labels) > 0) {
        return labels;
    }
    return pl_json_object(pl_json_object(spec, "selector"), "matchLabels");
}

long long pl_workload_min_replicas(const json_t *workload, const json_t *hpa, bool *ret_set)
{
    long long replicas = 1;
    bool set = pl_json_integer(pl_json_object(workload, "spec"), "replicas", &replicas);
    if (ret_set) {
        *ret_set = set;
    }
    if (set) {
        return replicas;
    }
    long long min = 1;
    if (hpa && pl_json_integer(pl_json_object(hpa, "spec"), "minReplicas", &min)) {
        return min;
    }
    return 1;
}
