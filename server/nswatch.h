/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The namespace view (SPEC §6): a background thread lists and watches
 * Namespaces through the API server and keeps, per namespace, only the
 * annotations that scoping needs (keys starting with "plimsoll.dev/").
 * Admission threads read the view without ever blocking on the network.
 */
#ifndef PL_SERVER_NSWATCH_H
#define PL_SERVER_NSWATCH_H

#include <stdbool.h>

#include <jansson.h>

#include "core/compiler.h"
#include "core/error.h"
#include "core/pool.h"

struct pl_nswatch;

struct pl_nswatch_options {
    const char *kubeconfig; /* path, or NULL: in-cluster credentials when present */
    const char
        *sa_dir; /* service-account dir; NULL: /var/run/secrets/kubernetes.io/serviceaccount */
};

/**
 * Prepares a watcher from a kubeconfig or in-cluster credentials. Returns 0
 * with *ret a new watcher (not started), -ENOENT when neither is configured
 * (standalone mode), or -EINVAL/-EIO with err filled.
 */
PL_MUST_CHECK int pl_nswatch_new(const struct pl_nswatch_options *opts, struct pl_nswatch **ret,
                                 struct pl_error *err);

/** Starts the list+watch thread. Returns 0 or a negative errno. */
PL_MUST_CHECK int pl_nswatch_start(struct pl_nswatch *w);

/**
 * The plimsoll.dev/ annotations of namespace ns as a JSON object (empty when
 * the namespace has none), or NULL when ns is unknown. Borrowed from the view
 * as it is now, which pool keeps alive until its next clear (no copy per
 * review). Never blocks on the network. Thread-safe.
 */
const json_t *pl_nswatch_annotations(struct pl_nswatch *w, const char *ns, struct pl_pool *pool);

/** Whether the first list has succeeded. Thread-safe. */
bool pl_nswatch_synced(struct pl_nswatch *w);

/** Seconds since the view was last known to be current (0 while the watch is up). Thread-safe. */
double pl_nswatch_staleness_seconds(struct pl_nswatch *w);

/** Stops the thread and frees everything. Accepts NULL. */
void pl_nswatch_free(struct pl_nswatch *w);

#endif
