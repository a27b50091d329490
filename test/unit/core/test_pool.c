/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of core/pool.c: allocations are aligned and do not overlap,
 * oversized requests get a chunk of their own, a clear keeps exactly one
 * (the oldest) chunk so a long run of requests stops allocating, cleanup
 * hooks run newest first, exactly once, also when a hook registers another,
 * and the string helpers copy, cut and format as documented.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* The .c is included to count chunks (struct pl_pool_chunk is private). */
#include "core/pool.c"

static size_t chunk_count(const struct pl_pool *pool)
{
    size_t n = 0;
    for (const struct pl_pool_chunk *c = pool->chunks; c; c = c->next) {
        n++;
    }
    return n;
}

static void test_init_allocates_nothing(void **state)
{
    (void)state;
    struct pl_pool pool;
    pl_pool_init(&pool);
    assert_null(pool.chunks);
    assert_null(pool.cleanups);
    assert_int_equal(pool.used, 0);
    pl_pool_clear(&pool); /* clearing an empty pool is harmless */
    assert_null(pool.chunks);
    pl_pool_finish(&pool);
    pl_pool_finish(NULL);
}

static void test_alignment_and_no_overlap(void **state)
{
    (void)state;
    struct pl_pool pool;
    pl_pool_init(&pool);
    unsigned char *prev = NULL;
    size_t prev_size = 0;
    for (size_t size = 1; size < 300; size += 7) {
        unsigned char *p = pl_pool_alloc(&pool, size);
        assert_int_equal((uintptr_t)p % alignof(max_align_t), 0);
        memset(p, 0xAB, size);
        if (prev && chunk_count(&pool) == 1) {
            assert_true(p >= prev + prev_size);
        }
        prev = p;
        prev_size = size;
    }
    /* Rounded sizes are counted. */
    assert_true(pool.used >= 300 / 7 * 1);
    assert_int_equal(pool.used % alignof(max_align_t), 0);
    pl_pool_finish(&pool);
}

static void test_zero_size(void **state)
{
    (void)state;
    struct pl_pool pool;
    pl_pool_init(&pool);
    void *p = pl_pool_alloc(&pool, 0);
    assert_non_null(p);
    assert_int_equal(pool.used, 0);
    pl_pool_finish(&pool);
}

static void test_chunks_grow_and_big_allocations(void **state)
{
    (void)state;
    struct pl_pool pool;
    pl_pool_init(&pool);
    (void)pl_pool_alloc(&pool, 10);
    assert_int_equal(chunk_count(&pool), 1);
    assert_int_equal(pool.chunks->size, CHUNK_MIN);
    /* Filling the first chunk opens a second one twice as large. */
    (void)pl_pool_alloc(&pool, CHUNK_MIN);
    assert_int_equal(chunk_count(&pool), 2);
    assert_int_equal(pool.chunks->size, 2 * CHUNK_MIN);
    /* Larger than any chunk: a chunk of exactly that size. */
    size_t big = 3 * CHUNK_MAX;
    unsigned char *p = pl_pool_alloc(&pool, big);
    memset(p, 1, big);
    assert_int_equal(chunk_count(&pool), 3);
    assert_true(pool.chunks->size >= big);
    /* Growth is capped at CHUNK_MAX for ordinary requests. */
    (void)pl_pool_alloc(&pool, 100);
    assert_true(pool.chunks->size <= big);
    pl_pool_finish(&pool);
    assert_null(pool.chunks);
}

static void test_clear_keeps_one_chunk(void **state)
{
    (void)state;
    struct pl_pool pool;
    pl_pool_init(&pool);
    for (int i = 0; i < 100; i++) {
        (void)pl_pool_alloc(&pool, 1000);
    }
    assert_true(chunk_count(&pool) > 1);
    pl_pool_clear(&pool);
    assert_int_equal(chunk_count(&pool), 1);
    assert_true(pool.chunks->size > CHUNK_MIN); /* the largest, for the next request */
    assert_true(pool.chunks->size <= CHUNK_MAX);
    assert_int_equal(pool.chunks->off, 0);
    assert_int_equal(pool.used, 0);
    pl_pool_finish(&pool);
}

/*
 * Regression test, bug found by review (core/pool.c, pl_pool_clear): the clear keeps the *oldest*
 * chunk, which the file comment calls "the smallest"; but when the first allocation of a pool's
 * life is larger than CHUNK_MIN, new_chunk() sizes that first chunk to the request, and every later
 * clear keeps it. A worker whose first request allocated 4 MiB at once holds 4 MiB for ever.
 * Expected: the kept chunk is at most CHUNK_MAX (or a fresh CHUNK_MIN chunk is kept); actual: 4 MiB
 * is kept.
 */
static void test_clear_after_big_first_allocation(void **state)
{
    (void)state;
    struct pl_pool pool;
    pl_pool_init(&pool);
    (void)pl_pool_alloc(&pool, 4u * 1024u * 1024u);
    (void)pl_pool_alloc(&pool, 10);
    pl_pool_clear(&pool);
    assert_true(chunk_count(&pool) <= 1);
    assert_int_equal(pool.used, 0);
    assert_true(pool.chunks == NULL || pool.chunks->size <= CHUNK_MAX);
    /* Whatever is kept, the pool keeps working. */
    assert_string_equal(pl_pool_strdup(&pool, "after"), "after");
    pl_pool_finish(&pool);
}

static void test_many_requests_reuse_memory(void **state)
{
    (void)state;
    struct pl_pool pool;
    pl_pool_init(&pool);
    const struct pl_pool_chunk *first = NULL;
    for (int request = 0; request < 2000; request++) {
        /* Each "request" allocates a few strings and a variable amount. */
        char *a = pl_pool_printf(&pool, "request %d", request);
        char *b = pl_pool_strdup(&pool, "spec.template.spec.containers[0] (web)");
        size_t n = (size_t)(request % 50) * 1000;
        unsigned char *c = pl_pool_alloc(&pool, n);
        memset(c, 0x5A, n);
        char expect[32];
        snprintf(expect, sizeof(expect), "request %d", request);
        assert_string_equal(a, expect);
        assert_string_equal(b, "spec.template.spec.containers[0] (web)");
        pl_pool_clear(&pool);
        assert_int_equal(chunk_count(&pool), 1);
        if (request == 100) {
            first = pool.chunks;
        }
        /* Once warmed up, the same kept chunk serves every request: no malloc. */
        if (request > 100) {
            assert_ptr_equal(pool.chunks, first);
        }
    }
    pl_pool_finish(&pool);
}

/* Requests larger than CHUNK_MAX (a 57 KB Pod parses into about a megabyte)
 * get one kept chunk that holds them whole: no malloc, and no fresh mapping
 * with its page faults, per request. Past KEEP_MAX nothing is kept for them. */
static void test_large_requests_get_one_chunk(void **state)
{
    (void)state;
    struct pl_pool pool;
    pl_pool_init(&pool);
    const struct pl_pool_chunk *kept = NULL;
    for (int request = 0; request < 20; request++) {
        for (int i = 0; i < 600; i++) {
            memset(pl_pool_alloc(&pool, 1000), 0x5A, 1000); /* 600 KB in small pieces */
        }
        if (request > 0) {
            assert_int_equal(chunk_count(&pool), 1); /* it all fitted in the kept chunk */
        }
        pl_pool_clear(&pool);
        assert_int_equal(chunk_count(&pool), 1);
        assert_true(pool.chunks->size >= 600u * 1008u);
        if (request == 1) {
            kept = pool.chunks;
        }
        if (request > 1) {
            assert_ptr_equal(pool.chunks, kept);
        }
    }
    for (int i = 0; i < 6000; i++) {
        (void)pl_pool_alloc(&pool, 1000); /* 6 MB: more than KEEP_MAX */
    }
    pl_pool_clear(&pool);
    assert_int_equal(chunk_count(&pool), 1);
    assert_true(pool.chunks->size <= KEEP_MAX);
    pl_pool_finish(&pool);
    assert_null(pool.chunks);
}

static void test_strings(void **state)
{
    (void)state;
    struct pl_pool pool;
    pl_pool_init(&pool);
    const char *src = "containers";
    char *s = pl_pool_strdup(&pool, src);
    assert_string_equal(s, "containers");
    assert_ptr_not_equal(s, src);
    assert_string_equal(pl_pool_strndup(&pool, "abcdef", 3), "abc");
    assert_string_equal(pl_pool_strndup(&pool, "ab", 100), "ab");
    assert_string_equal(pl_pool_strndup(&pool, "ab", 0), "");
    assert_string_equal(pl_pool_strdup(&pool, ""), "");
    assert_string_equal(pl_pool_printf(&pool, "%s[%zu] (%s)", "containers", (size_t)3, "web"),
                        "containers[3] (web)");
    assert_string_equal(pl_pool_printf(&pool, "%s", ""), "");
    /* A formatted string longer than a chunk. */
    char *long_text = pl_pool_printf(&pool, "%*s", 100000, "x");
    assert_int_equal(strlen(long_text), 100000);
    assert_int_equal(long_text[99999], 'x');
    assert_int_equal(long_text[0], ' ');
    pl_pool_finish(&pool);
}

static char order[16];
static char tag_a[] = "a", tag_b[] = "b", tag_c[] = "c", tag_d[] = "d";
static char tag_1[] = "1", tag_2[] = "2", tag_z[] = "z";
static size_t order_len;

static void record(void *arg)
{
    order[order_len++] = *(const char *)arg;
    order[order_len] = '\0';
}

static void test_cleanup_order_newest_first(void **state)
{
    (void)state;
    struct pl_pool pool;
    pl_pool_init(&pool);
    order_len = 0;
    order[0] = '\0';
    pl_pool_on_clear(&pool, record, tag_a);
    pl_pool_on_clear(&pool, record, tag_b);
    pl_pool_on_clear(&pool, record, tag_c);
    assert_string_equal(order, ""); /* nothing runs before the clear */
    pl_pool_clear(&pool);
    assert_string_equal(order, "cba");
    /* Hooks run once: a second clear runs nothing. */
    pl_pool_clear(&pool);
    assert_string_equal(order, "cba");
    /* Hooks registered after a clear belong to the next request. */
    pl_pool_on_clear(&pool, record, tag_d);
    pl_pool_finish(&pool);
    assert_string_equal(order, "cbad");
}

static struct pl_pool *nested_pool;

static void register_more(void *arg)
{
    record(arg);
    /* A hook that registers another hook: it must still run in this clear. */
    pl_pool_on_clear(nested_pool, record, tag_z);
}

static void test_cleanup_registering_cleanup(void **state)
{
    (void)state;
    struct pl_pool pool;
    pl_pool_init(&pool);
    nested_pool = &pool;
    order_len = 0;
    order[0] = '\0';
    pl_pool_on_clear(&pool, record, tag_1);
    pl_pool_on_clear(&pool, register_more, tag_2);
    pl_pool_clear(&pool);
    assert_string_equal(order, "21z");
    assert_null(pool.cleanups);
    pl_pool_finish(&pool);
    assert_string_equal(order, "21z");
}

/* How many blocks free_cleanup has freed. */
static int freed;

static void free_cleanup(void *arg)
{
    free(arg);
    freed++;
}

static void test_cleanup_frees_heap_memory(void **state)
{
    (void)state;
    /* Every hook runs exactly once: at the clear after it was added, or at finish.
     * (Under valgrind or ASan a hook that did not run shows as a leak, too.) */
    struct pl_pool pool;
    pl_pool_init(&pool);
    freed = 0;
    int added = 0;
    for (int i = 0; i < 100; i++) {
        pl_pool_on_clear(&pool, free_cleanup, malloc(16));
        added++;
        if (i % 10 == 0) {
            pl_pool_clear(&pool);
            assert_int_equal(freed, added); /* all so far, none twice */
        }
    }
    assert_int_equal(freed, 91); /* the 9 added after the last clear are still pending */
    pl_pool_finish(&pool);
    assert_int_equal(freed, 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_allocates_nothing),
        cmocka_unit_test(test_alignment_and_no_overlap),
        cmocka_unit_test(test_zero_size),
        cmocka_unit_test(test_chunks_grow_and_big_allocations),
        cmocka_unit_test(test_clear_keeps_one_chunk),
        cmocka_unit_test(test_clear_after_big_first_allocation),
        cmocka_unit_test(test_many_requests_reuse_memory),
        cmocka_unit_test(test_large_requests_get_one_chunk),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_cleanup_order_newest_first),
        cmocka_unit_test(test_cleanup_registering_cleanup),
        cmocka_unit_test(test_cleanup_frees_heap_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
