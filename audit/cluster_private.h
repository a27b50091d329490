/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The inside of struct pl_cluster, shared by audit/cluster.c (the writers:
 * list+watch threads, judging) and audit/view.c (the readers: summary,
 * workloads, metrics). Not for anyone else.
 */
#ifndef PL_AUDIT_CLUSTER_PRIVATE_H
#define PL_AUDIT_CLUSTER_PRIVATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "audit/cluster.h"
#include "audit/workloads.h"
#include "core/buf.h"
#include "core/neighbours.h"
#include "core/pool.h"
#include "kube/listwatch.h"

#define PL_CLUSTER_KINDS_MAX           16
#define PL_CLUSTER_NEIGHBOUR_KINDS_MAX 4
/* The longest compact text of an object or its verdict (etcd keeps objects up to 1.5 MiB). */
#define PL_CLUSTER_TEXT_MAX (16u * 1024u * 1024u)

/* One workload's verdict (and what re-judging it needs). Under the cluster's lock. */
struct pl__workload {
    struct pl__workload *next; /* hash chain */
    char *key;                 /* "namespace/Kind/name" */
    const struct pl_audit_kind *kind;
    const char *api_version; /* static: the table's */
    char *ns;
    char *name;
    char *object;              /* compact JSON of what policies read, for re-judging */
    char *verdict;             /* compact JSON: {"status", "violations", "suppressed", "notes"} */
    unsigned n_violations;     /* in verdict's "violations" (what counts: enforce and warn) */
    char *exempt_reason;       /* plimsoll.dev/exempt-reason, or NULL */
    uint64_t fail_mask;        /* policies (pl_policies[] index bits) with an enforce violation */
    uint64_t warn_mask;        /* ... with a violation that only warns */
    uint64_t exempt_mask;      /* ... exempted */
    bool skipped;              /* not judged (an excluded namespace) */
    bool rejected;             /* would be rejected now (status rejected or invalid) */
    bool rejected_if_enforced; /* would be, were its namespace plimsoll.dev/mode: enforce */
    unsigned gen;              /* the list generation it was last seen in */
};

struct pl__kindwatch {
    struct pl_cluster *c;
    const struct pl_audit_kind *kind;
    const char *api_version;
    struct pl_kube_listwatch *lw;
    unsigned gen; /* the list in progress */
    bool listed;  /* a list has completed */
    char name[64];
};

/*
 * A watched neighbour kind (pl_audit_neighbour_kinds, audit/neighbourwatch.c): of each
 * object only what the neighbour policies read (name, namespace, the spec of a budget or
 * autoscaler, a NetworkPolicy's podSelector and directions).
 */
struct pl__neighbourwatch {
    struct pl_cluster *c;
    const struct pl_audit_kind *kind;
    const char *api_version;
    struct pl_kube_listwatch *lw;
    json_t *objects; /* "namespace/name" -> the trimmed object, under lock */
    json_t *listing; /* the list in progress (its thread only) */
    bool listed;     /* a list has completed (under lock) */
    char name[64];
};

struct pl_cluster {
    struct pl_cluster_options opts;
    char *kubeconfig;
    pthread_mutex_t lock;
    struct pl_config *cfg;
    json_t *namespaces; /* name -> its plimsoll.dev/ annotations */
    json_t *ns_listing; /* the namespace list in progress (list thread only) */
    struct pl__workload **buckets;
    size_t n_buckets;
    size_t n_workloads;
    struct pl_kube_listwatch *ns_lw;
    struct pl__kindwatch kinds[PL_CLUSTER_KINDS_MAX];
    size_t n_kinds; /* started so far (under lock) */
    struct pl__neighbourwatch nwatch[PL_CLUSTER_NEIGHBOUR_KINDS_MAX];
    size_t n_nwatch;          /* started so far (under lock) */
    struct pl_neighbours set; /* built from every nwatch's objects, under lock */
    bool set_ready;           /* every neighbour kind listed: judging uses the set */
    json_t *dirty;            /* namespaces whose neighbours changed since the last flush */
    pthread_t starter;
    bool starter_started;
    struct pl_kube_listwatch *probe; /* under lock: the version probe in progress, or NULL */
    atomic_bool stop;
    atomic_bool ready;
    double last_full_sync; /* wall clock of the last list that left every kind listed */
    uint64_t judged;       /* workloads judged so far */
    struct pl_pool pool;   /* judging temporaries, under lock */
    struct pl_buf scratch; /* the text being written (an object's, a verdict's), under lock */
};

/**
 * Logs a warning about one workload (key "ns/Kind/name") and why. Safe on a pooled
 * list item's path: its fields are made on the heap.
 */
void pl__cluster_warn(struct pl_cluster *c, const char *msg, const char *key, const char *error);

/**
 * What the policies read of a listed object of kind k: apiVersion and kind put
 * back, metadata without resourceVersion, generation, managedFields and the
 * kubectl last-applied copy (emptied), and spec; never status. Shallow copies:
 * object is borrowed and not changed. New reference. (audit/judge.c)
 */
json_t *pl__workload_compact(const struct pl_audit_kind *k, const char *api_version,
                             const json_t *object);

/**
 * Judges w under the current configuration, namespace annotations and neighbours,
 * and keeps the verdict: parsed is what w->object says when the caller has it at
 * hand (borrowed), else it is read from that text. Under lock. (audit/judge.c)
 */
void pl__workload_judge(struct pl_cluster *c, struct pl__workload *w, json_t *parsed);

/** Re-judges every workload of namespace ns (NULL: all). Under lock. */
void pl__cluster_rejudge(struct pl_cluster *c, const char *ns);

/* The list+watch callbacks of a neighbour kind (ud: its struct pl__neighbourwatch). */
extern const struct pl_kube_listwatch_ops pl__neighbour_ops;

/** The set judging uses now: NULL until every neighbour kind is listed. Under lock. */
const struct pl_neighbours *pl__neighbours_of(struct pl_cluster *c);

/**
 * Rebuilds the set when neighbours changed since the last call, and re-judges the
 * workloads of the namespaces they changed in (all of them when the set became usable).
 * Called every 200 ms (cluster.c), so a burst of changes (a helm upgrade) costs one
 * rebuild. Under lock.
 */
void pl__neighbours_flush(struct pl_cluster *c);

/** Frees what the neighbour watches hold (their threads already stopped). */
void pl__neighbours_free(struct pl_cluster *c);

/** Every workload, in no order; *ret_n of them. Under lock; the array is the caller's (free). */
struct pl__workload **pl__cluster_all(struct pl_cluster *c, size_t *ret_n);

#endif
