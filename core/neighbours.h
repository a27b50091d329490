/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The neighbouring objects a policy may look at besides the object it
 * judges: PodDisruptionBudgets, HorizontalPodAutoscalers, NetworkPolicies and
 * the replicated workloads they point at. Admission never has them (the
 * webhook stays stateless: a request carries one object); `plimsoll check`
 * builds a set from the documents of its run (engine/manifest.c,
 * pl_manifest_neighbours) and `plimsoll audit` from its list/watch of the
 * cluster. Policies that need one say so (pl_policy.neighbours) and are run
 * only where a set is given. docs/design/neighbours.md describes the design.
 *
 * A set is built once, then read by any number of evaluations on any number
 * of threads; it holds a reference to each object it keeps.
 */
#ifndef PL_CORE_NEIGHBOURS_H
#define PL_CORE_NEIGHBOURS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* Most objects a set keeps; past it pl_neighbours_add refuses (the input's own budget,
 * like the manifest's object limit, comes first). */
#define PL_NEIGHBOURS_MAX 200000

struct pl_neighbour {
    json_t *object;   /* owned reference */
    char *namespace_; /* owned: the namespace the object is in ("default" when check gave it) */
    const char *kind; /* borrowed from object */
    const char *name; /* borrowed from object; "" when absent */
};

struct pl_neighbours {
    struct pl_neighbour *items;
    size_t len, cap;
};

/** Makes n empty. Release with pl_neighbours_finish. */
void pl_neighbours_init(struct pl_neighbours *n);

/** Drops every reference n holds. Accepts NULL. */
void pl_neighbours_finish(struct pl_neighbours *n);

/**
 * Whether objects of kind (a Kubernetes kind name; NULL: none) are kept in a
 * set: PodDisruptionBudget, HorizontalPodAutoscaler, NetworkPolicy, and the
 * workloads with replicas (Deployment, StatefulSet, ReplicaSet,
 * ReplicationController).
 */
bool pl_neighbours_wanted(const char *kind);

/**
 * Adds object (borrowed; a new reference is kept) as being in namespace_
 * (borrowed, copied) when its kind is wanted. Returns true when kept; false
 * for another kind, an object without a string kind, or a full set.
 */
bool pl_neighbours_add(struct pl_neighbours *n, const json_t *object, const char *namespace_);

/**
 * The next object of kind in namespace_ after *cursor (start at 0), or NULL
 * at the end; *cursor moves past it. n may be NULL (no neighbours).
 */
const struct pl_neighbour *pl_neighbours_next(const struct pl_neighbours *n, const char *kind,
                                              const char *namespace_, size_t *cursor);

/**
 * The HorizontalPodAutoscaler in namespace_ whose spec.scaleTargetRef names
 * kind and name (the first, in the order added), or NULL.
 */
const json_t *pl_neighbours_autoscaler(const struct pl_neighbours *n, const char *namespace_,
                                       const char *kind, const char *name);

/**
 * The labels of a workload's pods (workload borrowed, result borrowed from it):
 * its pod template's labels, or, when the template has none, its
 * spec.selector.matchLabels (which the API server requires the template's
 * labels to include). NULL when it has neither.
 */
const json_t *pl_workload_pod_labels(const json_t *workload);

/**
 * The replicas a workload (borrowed) runs with at the least: spec.replicas
 * when set, else the minReplicas (default 1) of the autoscaler hpa (may be
 * NULL), else 1. *ret_set (may be NULL) says whether spec.replicas was set.
 */
long long pl_workload_min_replicas(const json_t *workload, const json_t *hpa, bool *ret_set);

#endif
