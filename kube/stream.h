/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Streaming readers for the two shapes the Kubernetes API answers a list and
 * a watch with, so that no response is ever held (or parsed) whole:
 *
 *   - a list page, {"kind":..,"metadata":{..},"items":[{..},{..},..]}: the
 *     reader finds each element of "items" and hands its bytes, one element
 *     at a time, to a callback; it keeps the top-level "metadata" object
 *     (resourceVersion, continue) and skips everything else. Memory is one
 *     item (bounded) plus the metadata (bounded), whatever the page's size.
 *   - a watch stream: newline-delimited events, each line bounded.
 *
 * The bytes between items are only tokenised (strings, escapes and the
 * nesting of brackets are tracked and checked); each item is parsed by the
 * caller. No logging, no I/O: fed from curl's write callback and from the
 * fuzz target (test/fuzz/fuzz_kube_stream.c).
 */
#ifndef PL_KUBE_STREAM_H
#define PL_KUBE_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/compiler.h"

/* One list item or one watch event: Kubernetes objects stay under 1.5 MiB in etcd. */
#define PL_KUBE_ITEM_MAX (4u * 1024u * 1024u)
/* The list's own metadata object (resourceVersion, continue token). */
#define PL_KUBE_LIST_META_MAX (64u * 1024u)
/* Nesting depth tracked while skipping. */
#define PL_KUBE_STREAM_DEPTH_MAX 1024u

/**
 * Called with the bytes of one complete element of "items" (an object; not
 * NUL-terminated; valid only during the call). Returns 0, or a negative errno
 * that stops the reader and is returned by pl_kube_liststream_feed().
 */
typedef int (*pl_kube_item_fn)(void *ud, const char *json, size_t len);

/** Called with one line of a watch stream, without its '\n' (not NUL-terminated). Same return. */
typedef int (*pl_kube_line_fn)(void *ud, const char *line, size_t len);

struct pl_kube_liststream {
    pl_kube_item_fn on_item;
    void *ud;
    struct pl_buf cap; /* the item or metadata being captured */
    json_t *metadata;  /* the list's metadata object once read (owned), else NULL */
    uint64_t items;    /* elements of "items" handed to on_item */
    uint64_t bytes;    /* bytes fed */
    unsigned depth;    /* open brackets */
    unsigned cap_depth;
    uint8_t kinds[PL_KUBE_STREAM_DEPTH_MAX / 8]; /* bit per depth: 1 object, 0 array */
    int mode;                                    /* see stream.c */
    bool in_string;
    bool in_key; /* the string is a depth-1 member name */
    bool escape;
    bool expect_key;    /* depth 1: the next string is a member name */
    bool value_pending; /* depth 1: after ':', the value is not started yet */
    bool done;          /* the top-level object closed */
    bool seen_items;
    char key[16]; /* depth-1 member name being read (only short names matter) */
    size_t key_len;
    char current[16]; /* the depth-1 member whose value is being read */
    int error;        /* sticky: the first error */
    char why[160];    /* why, for the log */
};

/** Prepares s; allocates nothing. item_max bounds one item (0: PL_KUBE_ITEM_MAX). */
void pl_kube_liststream_init(struct pl_kube_liststream *s, size_t item_max, pl_kube_item_fn on_item,
                             void *ud);

/** Frees what s holds. Accepts NULL. */
void pl_kube_liststream_finish(struct pl_kube_liststream *s);

/**
 * Feeds n bytes of the list body. Returns 0, -EINVAL (not a list: malformed,
 * "items" not an array, an item not an object, trailing data), -E2BIG (an
 * item or the metadata over its bound, nesting too deep) or on_item's error;
 * errors are sticky and s->why says why.
 */
PL_MUST_CHECK int pl_kube_liststream_feed(struct pl_kube_liststream *s, const char *data, size_t n);

/**
 * Checks the body is complete: the top-level object closed and "items" seen.
 * Returns 0 or -EINVAL (s->why filled).
 */
PL_MUST_CHECK int pl_kube_liststream_end(struct pl_kube_liststream *s);

/** The list's "metadata" object (borrowed from s), or NULL when the body had none. */
const json_t *pl_kube_liststream_metadata(const struct pl_kube_liststream *s);

struct pl_kube_lines {
    pl_kube_line_fn on_line;
    void *ud;
    struct pl_buf line;
    int error;
};

/** Prepares a line splitter; line_max bounds one line (0: PL_KUBE_ITEM_MAX). */
void pl_kube_lines_init(struct pl_kube_lines *l, size_t line_max, pl_kube_line_fn on_line,
                        void *ud);

/** Frees what l holds. Accepts NULL. */
void pl_kube_lines_finish(struct pl_kube_lines *l);

/**
 * Feeds n bytes; calls on_line for each complete line (a trailing '\r' is
 * removed, empty lines are skipped). Returns 0, -E2BIG (a line over its
 * bound) or on_line's error; errors are sticky.
 */
PL_MUST_CHECK int pl_kube_lines_feed(struct pl_kube_lines *l, const char *data, size_t n);

#endif
