/* SPDX-License-Identifier: Apache-2.0 */
/*
 * jansson allocations on the request arena. Parsing an AdmissionReview makes
 * hundreds of small allocations, and freeing them walks the whole tree: with
 * pl_jalloc_use(pool) the calling thread's jansson values are carved from
 * the request's pool instead and vanish with pl_pool_clear(). Every block
 * carries a small header saying where it came from, so jansson's free works
 * on any value, whichever thread or arena made it.
 *
 * Rule that keeps this safe: memory jansson hands out (json_dumps) must not
 * leave the request; serialise with pl_json_dump() (core/json.h), whose
 * result is ordinary malloc memory.
 */
#ifndef PL_CORE_JALLOC_H
#define PL_CORE_JALLOC_H

#include "core/pool.h"

/**
 * Routes jansson's allocations through pl_jalloc (heap by default). Call once
 * at process start, before any JSON value exists. Not thread-safe.
 */
void pl_jalloc_install(void);

/**
 * From now on the calling thread's jansson allocations come from pool (NULL:
 * the heap again). The values must not outlive the pool's next clear.
 * Returns the pool used until now (NULL: the heap), for the caller to put back
 * when its own use is nested in another's.
 */
struct pl_pool *pl_jalloc_use(struct pl_pool *pool);

#endif
