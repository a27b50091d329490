/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-request arena (see pool.h). Chunks grow geometrically up to a cap; an
 * allocation larger than a chunk gets a chunk of its own. Clearing keeps the
 * largest ordinary chunk, or, when the request needed more than it holds and
 * no more than KEEP_MAX, one chunk as large as the request needed; so that a
 * steady stream of requests does not allocate at all once warmed up, while
 * one huge request does not pin its memory for ever.
 */
#include "core/pool.h"

#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

#define CHUNK_MIN (16u * 1024u)
#define CHUNK_MAX (256u * 1024u)
/* Largest chunk kept between requests (see regrow()). */
#define KEEP_MAX (4u * 1024u * 1024u)

struct pl_pool_chunk {
    struct pl_pool_chunk *next;
    size_t size;   /* usable bytes in data */
    size_t off;    /* first free byte */
    bool ordinary; /* false: made for one allocation larger than CHUNK_MAX */
    alignas(max_align_t) unsigned char data[];
};

struct pl_pool_cleanup {
    struct pl_pool_cleanup *next;
    pl_cleanup_fn fn;
    void *arg;
};

void pl_pool_init(struct pl_pool *pool)
{
    pool->chunks = NULL;
    pool->cleanups = NULL;
    pool->used = 0;
}

static void run_cleanups(struct pl_pool *pool)
{
    /* A hook may register another hook; loop until none is left. */
    while (pool->cleanups) {
        struct pl_pool_cleanup *c = pool->cleanups;
        pool->cleanups = NULL;
        while (c) {
            struct pl_pool_cleanup *next = c->next;
            c->fn(c->arg);
            c = next;
        }
    }
}

/* The kept chunk for a pool whose last request used `used` bytes, kept the
 * ordinary chunk keep (or none), and may be reused as it is. */
static struct pl_pool_chunk *regrow(struct pl_pool_chunk *keep, size_t used)
{
    size_t have = keep ? keep->size : 0;
    if (used <= have || used > KEEP_MAX) {
        return keep;
    }
    /* The request spilled past the kept chunk: next time one chunk holds it
     * whole (with an eighth to spare), instead of a malloc and, past glibc's
     * mmap threshold, a fresh mapping and its page faults per chunk per
     * request (a 57 KB Pod took 50 to 110 faults per review). */
    size_t size = used + used / 8;
    if (size > KEEP_MAX) {
        size = KEEP_MAX;
    }
    free(keep);
    struct pl_pool_chunk *c = pl_xmalloc(sizeof(*c) + size);
    c->size = size;
    c->off = 0;
    c->next = NULL;
    c->ordinary = true;
    return c;
}

void pl_pool_clear(struct pl_pool *pool)
{
    run_cleanups(pool);
    /* Keep the largest ordinary chunk (never one made for a single huge
     * allocation): after a few requests it fits the usual request whole,
     * and a steady stream of reviews no longer calls malloc at all. */
    struct pl_pool_chunk *keep = NULL;
    for (struct pl_pool_chunk *c = pool->chunks; c; c = c->next) {
        if (c->ordinary && (!keep || c->size > keep->size)) {
            keep = c;
        }
    }
    struct pl_pool_chunk *c = pool->chunks;
    while (c) {
        struct pl_pool_chunk *next = c->next;
        if (c != keep) {
            free(c);
        }
        c = next;
    }
    if (keep) {
        keep->off = 0;
        keep->next = NULL;
    }
    pool->chunks = regrow(keep, pool->used);
    pool->used = 0;
}

void pl_pool_finish(struct pl_pool *pool)
{
    if (!pool) {
        return;
    }
    run_cleanups(pool);
    while (pool->chunks) {
        struct pl_pool_chunk *next = pool->chunks->next;
        free(pool->chunks);
        pool->chunks = next;
    }
    pool->used = 0;
}

static struct pl_pool_chunk *new_chunk(struct pl_pool *pool, size_t need)
{
    size_t size = pool->chunks ? pool->chunks->size * 2 : CHUNK_MIN;
    if (size > CHUNK_MAX) {
        size = CHUNK_MAX;
    }
    if (size < need) {
        size = need;
    }
    struct pl_pool_chunk *c = pl_xmalloc(sizeof(*c) + size);
    c->ordinary = size <= CHUNK_MAX;
    c->size = size;
    c->off = 0;
    c->next = pool->chunks;
    pool->chunks = c;
    return c;
}

void *pl_pool_alloc(struct pl_pool *pool, size_t size)
{
    const size_t align = alignof(max_align_t);
    if (size > SIZE_MAX - align) {
        pl_oom();
    }
    size = (size + align - 1) & ~(align - 1);
    struct pl_pool_chunk *c = pool->chunks;
    if (!c || c->size - c->off < size) {
        c = new_chunk(pool, size);
    }
    void *p = c->data + c->off;
    c->off += size;
    pool->used += size;
    return p;
}

/* The first len bytes of s, NUL-terminated, in pool memory. */
static char *copy_string(struct pl_pool *pool, const char *s, size_t len)
{
    char *p = pl_pool_alloc(pool, len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *pl_pool_strndup(struct pl_pool *pool, const char *s, size_t n)
{
    return copy_string(pool, s, strnlen(s, n));
}

char *pl_pool_strdup(struct pl_pool *pool, const char *s)
{
    return copy_string(pool, s, strlen(s)); /* one scan of s, not two */
}

char *pl_pool_vprintf(struct pl_pool *pool, const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0) {
        return pl_pool_strdup(pool, "");
    }
    char *p = pl_pool_alloc(pool, (size_t)n + 1);
    int written = vsnprintf(p, (size_t)n + 1, fmt, ap);
    if (written != n) {
        p[0] = '\0';
    }
    return p;
}

char *pl_pool_printf(struct pl_pool *pool, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *p = pl_pool_vprintf(pool, fmt, ap);
    va_end(ap);
    return p;
}

void pl_pool_on_clear(struct pl_pool *pool, pl_cleanup_fn fn, void *arg)
{
    struct pl_pool_cleanup *c = pl_pool_alloc(pool, sizeof(*c));
    c->fn = fn;
    c->arg = arg;
    c->next = pool->cleanups;
    pool->cleanups = c;
}
