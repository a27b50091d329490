/* SPDX-License-Identifier: Apache-2.0 */
/*
 * jansson allocator hooks (see jalloc.h).
 */
#include "core/jalloc.h"

#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "core/alloc.h"

/* The header before every block: where it came from. Keeps blocks aligned. */
#define HEADER    alignof(max_align_t)
#define FROM_HEAP 0x68656170u /* "heap" */
#define FROM_POOL 0x706f6f6cu /* "pool" */

static _Thread_local struct pl_pool *current;

static void *jalloc_malloc(size_t size)
{
    if (size > SIZE_MAX - HEADER) {
        return NULL;
    }
    unsigned char *block;
    uint32_t from;
    if (current) {
        block = pl_pool_alloc(current, size + HEADER);
        from = FROM_POOL;
    } else {
        block = malloc(size + HEADER);
        if (!block) {
            return NULL;
        }
        from = FROM_HEAP;
    }
    *(uint32_t *)block = from;
    return block + HEADER;
}

static void jalloc_free(void *ptr)
{
    if (!ptr) {
        return;
    }
    unsigned char *block = (unsigned char *)ptr - HEADER;
    uint32_t from = *(uint32_t *)block;
    if (from == FROM_HEAP) {
        free(block);
    } else if (from != FROM_POOL) {
        abort(); /* not ours: a heap corruption, or a value from before install */
    }
    /* Pool blocks go with the pool's next clear. */
}

void pl_jalloc_install(void)
{
    json_set_alloc_funcs(jalloc_malloc, jalloc_free);
}

struct pl_pool *pl_jalloc_use(struct pl_pool *pool)
{
    struct pl_pool *prev = current;
    current = pool;
    return prev;
}
