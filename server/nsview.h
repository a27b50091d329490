/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The namespace view (SPEC §6): Namespaces listed and watched through the
 * API server (kube/listwatch.h), keeping per namespace only the annotations
 * that scoping needs (keys starting with "plimsoll.dev/"). Admission threads
 * read the view without ever blocking on the network or on the watcher.
 */
#ifndef PL_SERVER_NSVIEW_H
#define PL_SERVER_NSVIEW_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "core/compiler.h"
#include "core/error.h"
#include "core/pool.h"

struct pl_nsview;

struct pl_nsview_options {
    const char *kubeconfig; /* path, or NULL: in-cluster credentials when present */
    const char *sa_dir;     /* NULL: /var/run/secrets/kubernetes.io/serviceaccount */
};

/**
 * Prepares a view from a kubeconfig or in-cluster credentials (read and
 * checked now: a bad CA or a server URL with credentials fails here, not at
 * the first connection). Returns 0 with *ret a new view (not started; free
 * with pl_nsview_free()), -ENOENT when neither is configured (standalone
 * mode), or -EINVAL/-EIO with err filled.
 */
PL_MUST_CHECK int pl_nsview_new(const struct pl_nsview_options *opts, struct pl_nsview **ret,
                                struct pl_error *err);

/** Starts the list+watch thread. Returns 0 or a negative errno. */
PL_MUST_CHECK int pl_nsview_start(struct pl_nsview *v);

/**
 * The plimsoll.dev/ annotations of namespace ns as a JSON object (empty when
 * the namespace has none), or NULL when ns is unknown (or before the first
 * list). Borrowed from the view as it is now, which pool keeps alive until
 * its next clear (no copy per review; never modify it). Never blocks on the
 * network. Thread-safe.
 */
const json_t *pl_nsview_annotations(struct pl_nsview *v, const char *ns, struct pl_pool *pool);

/** Whether the first list has succeeded. Thread-safe. */
bool pl_nsview_synced(struct pl_nsview *v);

/**
 * 0 while a watch is up and has lasted a second; otherwise the seconds since
 * the view was last known current (since start when it never was). Grows
 * through any failure loop. Thread-safe.
 */
double pl_nsview_staleness_seconds(struct pl_nsview *v);

/** Failed requests of the watch so far: lists (watch false) or watches. Thread-safe. */
unsigned long long pl_nsview_errors(struct pl_nsview *v, bool watch);

/** Namespaces in the published view. Thread-safe. */
size_t pl_nsview_count(struct pl_nsview *v);

/** Stops the thread (within about a second, whatever it is doing) and frees. Accepts NULL. */
void pl_nsview_free(struct pl_nsview *v);

#endif
