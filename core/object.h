/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a Kubernetes object looks like to a policy: its kind, where its pod
 * template lives (SPEC §4), whether it is long-running, and its containers.
 *
 * Supported kinds: Pod, and the pod template of Deployment, StatefulSet,
 * DaemonSet, ReplicaSet, ReplicationController, Job and CronJob
 * (spec.jobTemplate.spec.template). Any other kind has no pod spec and is
 * admitted untouched. Everything here is borrowed from the request document,
 * which outlives the evaluation.
 */
#ifndef PL_CORE_OBJECT_H
#define PL_CORE_OBJECT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/compiler.h"
#include "core/error.h"

enum pl_kind {
    PL_KIND_OTHER,
    PL_KIND_POD,
    PL_KIND_DEPLOYMENT,
    PL_KIND_STATEFULSET,
    PL_KIND_DAEMONSET,
    PL_KIND_REPLICASET,
    PL_KIND_REPLICATIONCONTROLLER,
    PL_KIND_JOB,
    PL_KIND_CRONJOB,
};

struct pl_object {
    const json_t *root; /* the whole object */
    enum pl_kind kind;
    const char *kind_name;     /* "Deployment"; "" when absent */
    const char *name;          /* metadata.name, else generateName, else "" */
    const char *namespace_;    /* metadata.namespace or "" */
    const json_t *pod_meta;    /* pod (template) metadata object, or NULL */
    const json_t *pod_spec;    /* pod spec object, or NULL (no template: nothing to check) */
    const char *pod_meta_path; /* "metadata", "spec.template.metadata", ... */
    const char *pod_spec_path; /* "spec", "spec.template.spec", ... */
    bool long_running;         /* SPEC §4 */
};

/**
 * Describes root. Returns 0 (also for kinds without a pod template, which get
 * PL_KIND_OTHER or a NULL pod_spec), or -EINVAL with err filled when root is
 * not a JSON object. obj borrows from root.
 */
PL_MUST_CHECK int pl_object_init(struct pl_object *obj, const json_t *root, struct pl_error *err);

/**
 * Makes obj describe no object: PL_KIND_OTHER, empty strings, no pod spec.
 * What a DELETE or CONNECT without an object is evaluated as.
 */
void pl_object_clear(struct pl_object *obj);

/** The kind for a Kubernetes kind name ("Deployment"); PL_KIND_OTHER when unsupported. */
enum pl_kind pl_kind_from_name(const char *name);

/** The Kubernetes name of kind ("Deployment"); "" for PL_KIND_OTHER. Static storage. */
const char *pl_kind_name(enum pl_kind kind);

/* Which containers an iteration visits. SPEC §4: "containers" means regular
 * containers plus native sidecars (init containers with restartPolicy Always). */
enum pl_container_set {
    PL_CTR_REGULAR = 1u << 0,   /* spec.containers */
    PL_CTR_INIT = 1u << 1,      /* init containers that run to completion */
    PL_CTR_SIDECAR = 1u << 2,   /* init containers with restartPolicy: Always */
    PL_CTR_EPHEMERAL = 1u << 3, /* spec.ephemeralContainers */
};
#define PL_CTR_LONG_RUNNING (PL_CTR_REGULAR | PL_CTR_SIDECAR)
#define PL_CTR_ALL          (PL_CTR_REGULAR | PL_CTR_INIT | PL_CTR_SIDECAR | PL_CTR_EPHEMERAL)

struct pl_container {
    const json_t *json; /* the container object (may lack fields) */
    const char *name;   /* its name, "" when absent */
    const char *list;   /* "containers", "initContainers" or "ephemeralContainers" */
    size_t index;       /* position in that list */
    enum pl_container_set set;
};

struct pl_container_iter {
    const json_t *pod_spec;
    unsigned sets;
    unsigned list; /* 0 containers, 1 initContainers, 2 ephemeralContainers */
    size_t index;
};

/** Starts an iteration over the containers of pod_spec in the given sets. */
void pl_container_iter_init(struct pl_container_iter *it, const json_t *pod_spec, unsigned sets);

/**
 * Next container in list order (containers, initContainers,
 * ephemeralContainers). Non-object entries are skipped. Returns false at the end.
 */
bool pl_container_iter_next(struct pl_container_iter *it, struct pl_container *ret);

/** Whether an init container is a native sidecar (restartPolicy: Always). */
bool pl_container_is_sidecar(const json_t *init_container);

#endif
