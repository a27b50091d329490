/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A generic list+watch of one Kubernetes collection (a reflector, after
 * client-go's): one background thread lists the collection page by page
 * (limit and continue), then watches it from the list's resourceVersion
 * with bookmarks, and relists on 410 Gone. It keeps nothing itself: every
 * item of a list and every watch event goes to the caller's callbacks one at
 * a time, as a borrowed jansson object parsed from that item's bytes only,
 * so the caller keeps just what it needs and memory and CPU stay bounded
 * per item, whatever the size of a page or of the collection.
 *
 * Failures never spin: every retry, the first one included, sleeps an
 * exponential backoff with jitter, and a watch that ends within a second
 * without progress counts as a failure (client-go: "very short watch"). The
 * backoff resets only once a watch has stayed open for a while. The view is
 * "current" only while a watch has been open for a second or more;
 * pl_kube_listwatch_staleness_seconds() counts from the moment it stopped
 * being so. Logging goes through the caller's log callback and is
 * rate-limited (first failure, then attempts 2, 4, 8, ..., and at least every
 * five minutes). A stop flag is checked in every loop, between items and
 * events, in curl's progress callback and in the backoff sleep, so
 * pl_kube_listwatch_free() returns within about a second.
 *
 * Threads: the callbacks run on the list+watch thread only. The query
 * functions (synced, staleness, counters) are thread-safe.
 */
#ifndef PL_KUBE_LISTWATCH_H
#define PL_KUBE_LISTWATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/compiler.h"
#include "core/log.h"
#include "kube/client.h"

#define PL_KUBE_RV_MAX       128u
#define PL_KUBE_CONTINUE_MAX 8192u
/* Bytes one list page may stream (they are never held: this bounds the time). */
#define PL_KUBE_LIST_PAGE_BYTES_MAX (512ull * 1024u * 1024u)

enum pl_kube_event {
    PL_KUBE_ADDED,
    PL_KUBE_MODIFIED,
    PL_KUBE_DELETED,
};

struct pl_kube_listwatch;

/* Callbacks; ud is passed back. object arguments are borrowed for the call only. */
struct pl_kube_listwatch_ops {
    /* A list starts: the caller begins a fresh set. */
    void (*list_begin)(void *ud);
    /* One item of the list. Return 0, or a negative errno to fail the list. */
    int (*list_item)(void *ud, const json_t *object);
    /* The list ended: ok, the new set replaces the old one; else it is dropped. */
    void (*list_end)(void *ud, bool ok);
    /* One watch event. Return 0, or a negative errno: the object is unusable (relist). */
    int (*event)(void *ud, enum pl_kube_event type, const json_t *object);
    /* The end of a batch of events (one read off the wire): a good time to publish. */
    void (*flush)(void *ud);
    /* A log line (fields: a new reference the callee steals). May be NULL. */
    void (*log)(void *ud, enum pl_log_level level, const char *msg, json_t *fields);
};

struct pl_kube_listwatch_options {
    const char *path;         /* collection path: "/api/v1/namespaces" */
    const char *name;         /* log prefix: "namespace watch" */
    unsigned list_limit;      /* page size; 0: 500 */
    unsigned backoff_base_ms; /* 0: 500 */
    unsigned backoff_max_ms;  /* 0: 30000 */
    unsigned watch_timeout_s; /* timeoutSeconds; 0: random in [300, 600) like client-go */
    unsigned short_watch_ms;  /* a watch shorter than this without progress fails; 0: 1000 */
    unsigned stable_watch_ms; /* a watch open this long resets the backoff; 0: 10000 */
    /* List items are parsed into the listwatch's own pool (core/jalloc.h), cleared when
     * list_item returns, which spares the allocator the hundreds of values of every item.
     * list_item must then keep no reference into the object, nor any jansson value it
     * makes (they are pool memory too): what it keeps, it keeps as text. */
    bool pooled_items;
};

/**
 * A list+watch over client (taken: freed with the listwatch, even on
 * failure; its stop flag becomes the listwatch's). opts and ops are copied. Not started. Returns 0
 * with *ret (free with pl_kube_listwatch_free()) or -EINVAL.
 */
PL_MUST_CHECK int pl_kube_listwatch_new(struct pl_kube_client *client,
                                        const struct pl_kube_listwatch_options *opts,
                                        const struct pl_kube_listwatch_ops *ops, void *ud,
                                        struct pl_kube_listwatch **ret);

/** Starts the thread (all signals blocked in it). Returns 0, -EINVAL (started) or -errno. */
PL_MUST_CHECK int pl_kube_listwatch_start(struct pl_kube_listwatch *lw);

/**
 * Lists the collection once, in the calling thread, into the list callbacks
 * (list_begin, list_item per item, list_end), for one-shot commands such as
 * `plimsoll audit`; lw must not be started. No retry: a failure is the
 * caller's to report (only a continue token that expired restarts the list,
 * once). Returns 0; -ENOENT when the API server answered 404 (no such
 * resource in this API version); -EACCES when it answered 403 (no
 * permission to list it); -ECANCELED when the stop flag ended it; -EIO
 * for any other failure; why (size bytes) then says why.
 */
PL_MUST_CHECK int pl_kube_listwatch_list_once(struct pl_kube_listwatch *lw, char *why, size_t size);

/** Whether a first list has completed. Thread-safe. */
bool pl_kube_listwatch_synced(struct pl_kube_listwatch *lw);

/**
 * Requests that failed so far: lists (watch false) or watches (watch true).
 * A 410 Gone (resourceVersion expired, relist) is not counted. Thread-safe.
 */
unsigned long long pl_kube_listwatch_errors(struct pl_kube_listwatch *lw, bool watch);

/**
 * 0 while a watch is established and has been open a second or more;
 * otherwise the seconds since the view was last known current (or since
 * start when it never was). Thread-safe.
 */
double pl_kube_listwatch_staleness_seconds(struct pl_kube_listwatch *lw);

/** Requests made so far (lists pages and watches). Thread-safe. */
uint64_t pl_kube_listwatch_requests(struct pl_kube_listwatch *lw);

/**
 * Asks the thread to stop without waiting for it, so that several
 * list+watches stop in parallel before their pl_kube_listwatch_free().
 * Thread-safe. Accepts NULL.
 */
void pl_kube_listwatch_stop(struct pl_kube_listwatch *lw);

/** Stops the thread (promptly, whatever it does) and frees everything. Accepts NULL. */
void pl_kube_listwatch_free(struct pl_kube_listwatch *lw);

#endif
