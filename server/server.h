/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plimsoll serve: the process that owns the daemons, the configuration
 * snapshot, the namespace view and the shutdown sequence.
 *
 * Shared state between threads is limited to the configuration pointer
 * (swapped under a mutex held only to take a reference), the namespace view
 * (its own snapshot), atomic flags and atomic metric counters.
 */
#ifndef PL_SERVER_SERVER_H
#define PL_SERVER_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include "core/pool.h"
#include "engine/config.h"

struct pl_nsview;

struct pl_server_options {
    const char *listen;        /* TLS webhook, "ADDR:PORT" */
    const char *health_listen; /* plain HTTP health and metrics */
    const char *tls_cert;      /* PEM files */
    const char *tls_key;
    const char *client_ca;      /* NULL: no client certificates */
    const char *config_path;    /* NULL: built-in defaults */
    const char *kubeconfig;     /* NULL: in-cluster credentials if present, else standalone */
    const char *self_namespace; /* excluded from every policy (POD_NAMESPACE) */
    unsigned threads;           /* webhook worker threads */
    unsigned drain_seconds;     /* how long to keep serving after SIGTERM */
    unsigned connection_timeout;
    unsigned connection_limit;
    unsigned header_timeout;      /* seconds for a request's headers */
    unsigned request_timeout;     /* seconds for a whole request */
    unsigned pending_per_address; /* not-yet-served connections per client address */
    const char *tls_priority;     /* GnuTLS priority string; NULL: the modern default */
    const char *version;          /* for build info */
    const char *commit;
};

struct pl_server {
    const struct pl_server_options *opts;
    pthread_mutex_t cfg_lock;
    struct pl_config *cfg;     /* current snapshot; take refs through pl_server_config() */
    struct pl_nsview *nswatch; /* NULL when standalone */
    atomic_bool draining;
    atomic_bool tls_loaded;
    pthread_key_t pool_key; /* per-thread request arena */
};

/** Runs the server until SIGTERM/SIGINT and the drain. Returns the process exit code. */
int pl_server_run(const struct pl_server_options *opts);

/** A new reference to the current configuration snapshot. Thread-safe. */
struct pl_config *pl_server_config(struct pl_server *s);

/** Installs cfg (steals the reference) and drops the old snapshot. Thread-safe. */
void pl_server_set_config(struct pl_server *s, struct pl_config *cfg);

/** The calling thread's request arena (created on first use, freed at thread exit). */
struct pl_pool *pl_server_pool(struct pl_server *s);

/** Whether /readyz answers 200. */
bool pl_server_ready(struct pl_server *s);

#endif
