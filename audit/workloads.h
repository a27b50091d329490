/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The workloads of a cluster as plimsoll judges them (SPEC §4, issue 15):
 * which collections are read through the API server, which objects are
 * judged on their own and which through their owner, and one listed object
 * judged exactly as `plimsoll check` judges the same object in a file
 * (engine/verdict.c), under its namespace's annotations.
 *
 * Listed objects come without apiVersion and kind (the API server leaves
 * them out of list items); the table here puts them back, as `kubectl get
 * -o yaml` does. No I/O, no logging. Not thread-safe.
 */
#ifndef PL_AUDIT_WORKLOADS_H
#define PL_AUDIT_WORKLOADS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/compiler.h"
#include "core/error.h"
#include "core/neighbours.h"
#include "core/pool.h"
#include "engine/config.h"
#include "engine/verdict.h"

/* One kind of workload read through the API server. */
struct pl_audit_kind {
    const char *kind;        /* "Deployment" */
    const char *api_version; /* "apps/v1" */
    const char *fallback;    /* an older version to try on 404 ("batch/v1beta1"), or NULL */
    const char *plural;      /* "deployments" */
};

/* Every kind judged, in the order results are listed: NULL-ended. */
extern const struct pl_audit_kind pl_audit_kinds[];

/*
 * The neighbouring kinds read besides the workloads, for the policies that look at
 * them (docs/design/neighbours.md): PodDisruptionBudgets, HorizontalPodAutoscalers and
 * NetworkPolicies, NULL-ended. Listed before the workloads; the first two are judged
 * too (after every workload is in the set), the NetworkPolicies only read.
 */
extern const struct pl_audit_kind pl_audit_neighbour_kinds[];

/* How many kinds a NULL-ended table (pl_audit_kinds, pl_audit_neighbour_kinds) holds. */
size_t pl_audit_kind_count(const struct pl_audit_kind *table);

/* Whether objects of neighbour kind k are judged (PodDisruptionBudget, HorizontalPodAutoscaler). */
bool pl_audit_neighbour_judged(const struct pl_audit_kind *k);

/* Where results of kind (a kind name) sort: workloads in table order, then neighbours. */
int pl_audit_kind_rank(const char *kind);

/**
 * What a neighbour set needs of a listed workload of kind k (object borrowed): apiVersion,
 * kind, name, namespace, spec.replicas, spec.selector and the pod template's labels,
 * which is all core/neighbours.c and the policies read of a workload in the set. Keeps
 * the audit's set small however many old ReplicaSets a cluster keeps. New reference.
 */
json_t *pl_audit_workload_neighbour(const struct pl_audit_kind *k, const char *api_version,
                                    const json_t *object);

/**
 * The listed object with apiVersion and kind put back first, as kubectl shows it
 * (object borrowed). Returns a new reference.
 */
json_t *pl_audit_with_kind(const struct pl_audit_kind *k, const char *api_version,
                           const json_t *object);

/**
 * The collection path of kind k in api_version (k->api_version or its
 * fallback), cluster-wide when ns is NULL, else in namespace ns:
 * "/apis/apps/v1/namespaces/shop/deployments". Returns 0 or -E2BIG when it
 * does not fit in size bytes.
 */
PL_MUST_CHECK int pl_audit_collection_path(const struct pl_audit_kind *k, const char *api_version,
                                           const char *ns, char *out, size_t size);

/**
 * Whether object is judged through its owner instead of on its own: it has
 * a controller ownerReference to a kind that is itself judged (a ReplicaSet
 * of a Deployment, a Job of a CronJob, a Pod of any workload controller). An
 * object owned by anything else (an operator's custom resource) is judged
 * on its own: nothing else would judge it.
 */
bool pl_audit_owned(const json_t *object);

/**
 * The annotations of a Namespace object that plimsoll reads: the string
 * values of plimsoll.dev/ keys, nothing else (no other annotation ever
 * leaves the audit). Returns a new reference ({} when none).
 */
json_t *pl_audit_namespace_annotations(const json_t *ns_object);

/**
 * Judges one listed object of kind k (served as api_version) as `plimsoll
 * check` would judge it in a file, under ns_annotations (borrowed, may be
 * NULL), with the neighbouring objects of the cluster (borrowed; NULL: the
 * policies that need them do not run, and a PodDisruptionBudget or
 * HorizontalPodAutoscaler comes back skipped). The result's "file" is the object's API path
 * ("/apis/apps/v1/namespaces/shop/deployments/web"); its lines and columns
 * are those of the object rendered as JSON with two-space indents.
 *
 * @param object  borrowed; not modified.
 * @param ret     on success a new reference: the result (cli/output.h).
 * @return 0, or -EINVAL with err filled (an object without a name, or one
 *         the evaluation cannot read); counts is then unchanged.
 */
PL_MUST_CHECK int pl_audit_judge(const struct pl_config *cfg, const struct pl_audit_kind *k,
                                 const char *api_version, const json_t *object,
                                 const json_t *ns_annotations,
                                 const struct pl_neighbours *neighbours, struct pl_pool *pool,
                                 struct pl_verdict_counts *counts, json_t **ret,
                                 struct pl_error *err);

/* A listed object judged, not rendered: what the dashboard keeps of a judgement. */
struct pl_audit_decision {
    struct pl_manifest manifest; /* the one object (the verdict borrows it) */
    struct pl_verdict verdict;   /* its memory is the pool's: finish before clearing it */
};

/**
 * pl_audit_judge() without the text and without the result: for an object that
 * already carries apiVersion and kind (object: borrowed, a reference is taken for
 * the call), judged the same way (engine/verdict.c's pl_verdict_decide, which
 * pl_audit_judge renders), except that the decision carries no texts: its message
 * is NULL and its warnings empty (findings_only), the findings are all there. What
 * the dashboard uses: it needs no lines, texts or result document, and building
 * them was most of the cost of a judgement.
 *
 * @param out  on success: release with pl_audit_decision_finish().
 * @return 0, or -EINVAL with err filled (an object without a name, or one the
 *         evaluation cannot read); out then holds nothing.
 */
PL_MUST_CHECK int pl_audit_decide(const struct pl_config *cfg, const struct pl_audit_kind *k,
                                  const char *api_version, json_t *object,
                                  const json_t *ns_annotations,
                                  const struct pl_neighbours *neighbours, struct pl_pool *pool,
                                  struct pl_audit_decision *out, struct pl_error *err);

/** Frees what pl_audit_decide() gave out. */
void pl_audit_decision_finish(struct pl_audit_decision *d);

#endif
