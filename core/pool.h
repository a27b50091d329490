/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A per-request arena (after h2o's h2o_mem_pool_t and nginx's ngx_pool_t).
 * Field paths, messages and other temporaries of one admission are carved
 * out of a few large chunks and released together by pl_pool_clear(), so
 * that policies never free anything and a request cannot leak. Cleanup hooks
 * release what is not arena memory (a json_t, a file descriptor).
 *
 * A pool belongs to one thread at a time; it is not thread-safe.
 */
#ifndef PL_CORE_POOL_H
#define PL_CORE_POOL_H

#include <stdarg.h>
#include <stddef.h>

#include "core/compiler.h"

struct pl_pool_chunk;
struct pl_pool_cleanup;

struct pl_pool {
    struct pl_pool_chunk *chunks;     /* newest first */
    struct pl_pool_cleanup *cleanups; /* run newest first by pl_pool_clear() */
    size_t used;                      /* bytes handed out since the last clear */
};

typedef void (*pl_cleanup_fn)(void *arg);

/** Makes an empty pool. Allocates nothing. Release with pl_pool_finish(). */
void pl_pool_init(struct pl_pool *pool);

/** Runs the cleanup hooks and frees all memory; the pool is empty afterwards. Accepts NULL. */
void pl_pool_finish(struct pl_pool *pool);

/**
 * Runs the cleanup hooks and forgets every allocation, keeping the first
 * chunk for the next request. Every pointer obtained from the pool is invalid
 * afterwards.
 */
void pl_pool_clear(struct pl_pool *pool);

/** size bytes aligned for any type, valid until the next clear. Never NULL (OOM aborts). */
void *pl_pool_alloc(struct pl_pool *pool, size_t size);

/** Copy of s in the pool. */
char *pl_pool_strdup(struct pl_pool *pool, const char *s);

/** Copy of at most n bytes of s in the pool, NUL-terminated. */
char *pl_pool_strndup(struct pl_pool *pool, const char *s, size_t n);

/** Formatted string in the pool. */
PL_PRINTF(2, 3) char *pl_pool_printf(struct pl_pool *pool, const char *fmt, ...);

/** va_list form of pl_pool_printf(). */
PL_PRINTF(2, 0) char *pl_pool_vprintf(struct pl_pool *pool, const char *fmt, va_list ap);

/** Registers fn(arg) to run at the next clear or finish (newest registration first). */
void pl_pool_on_clear(struct pl_pool *pool, pl_cleanup_fn fn, void *arg);

#endif
