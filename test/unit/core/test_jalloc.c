/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/jalloc.c swaps jansson's allocator for the whole process, so what it
 * must keep is checked here: blocks aligned for any type; heap blocks freed
 * and pool blocks left to the pool's clear, whichever allocator is current
 * when jansson frees them; the pool chosen per thread; a size that would
 * overflow the header refused; and a block that is not ours (a corrupt
 * header) stopping the process rather than freeing garbage. The .c is
 * included to reach the hooks themselves.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/jalloc.c"

/* The tag jalloc wrote before p. */
static uint32_t tag_of(const void *p)
{
    return *(const uint32_t *)((const unsigned char *)p - HEADER);
}

static void test_heap_blocks(void **state)
{
    (void)state;
    pl_jalloc_use(NULL);
    for (size_t size = 0; size < 100; size += 7) {
        void *p = jalloc_malloc(size);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % alignof(max_align_t), 0);
        assert_int_equal(tag_of(p), FROM_HEAP);
        memset(p, 0xa5, size); /* the whole size is usable (ASan would say otherwise) */
        jalloc_free(p);
    }
    jalloc_free(NULL); /* like free(NULL) */
    assert_null(jalloc_malloc(SIZE_MAX));
    assert_null(jalloc_malloc(SIZE_MAX - HEADER + 1));
}

static void test_pool_blocks(void **state)
{
    (void)state;
    struct pl_pool pool;
    pl_pool_init(&pool);
    pl_jalloc_use(&pool);
    void *p = jalloc_malloc(40);
    assert_int_equal(tag_of(p), FROM_POOL);
    assert_int_equal((uintptr_t)p % alignof(max_align_t), 0);
    assert_true(pool.used >= 40 + HEADER);
    size_t used = pool.used;
    jalloc_free(p); /* left to the pool: nothing is given back */
    assert_int_equal(pool.used, used);
    pl_jalloc_use(NULL);
    pl_pool_clear(&pool);
    assert_int_equal(pool.used, 0);
    pl_pool_finish(&pool);
}

/* jansson values through the installed hooks: a heap value freed while a pool is
 * current goes back to the heap, a pool value freed on the heap is left alone. */
static void test_values_cross_arenas(void **state)
{
    (void)state;
    pl_jalloc_install();
    pl_jalloc_use(NULL);
    json_t *on_heap = json_pack("{s:s, s:[i, i]}", "name", "web", "ports", 80, 443);
    assert_non_null(on_heap);
    struct pl_pool pool;
    pl_pool_init(&pool);
    pl_jalloc_use(&pool);
    json_t *in_pool = json_loads("{\"a\": [1, 2, {\"b\": \"c\"}]}", 0, NULL);
    assert_non_null(in_pool);
    assert_true(pool.used > 0);
    json_decref(on_heap); /* freed to the heap (ASan or valgrind would report a leak) */
    pl_jalloc_use(NULL);
    json_decref(in_pool); /* pool blocks: no free */
    pl_pool_finish(&pool);
}

struct other_thread {
    struct pl_pool *pool;
    uint32_t tag;
};

static void *allocate_elsewhere(void *arg)
{
    struct other_thread *t = arg;
    void *p = jalloc_malloc(16);
    if (p) {
        t->tag = tag_of(p);
        jalloc_free(p);
    }
    return NULL;
}

/* The pool is the calling thread's choice only: another thread still gets the heap. */
static void test_pool_is_per_thread(void **state)
{
    (void)state;
    struct pl_pool pool;
    pl_pool_init(&pool);
    pl_jalloc_use(&pool);
    struct other_thread t = {&pool, 0};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, allocate_elsewhere, &t), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(t.tag, FROM_HEAP);
    assert_int_equal(pool.used, 0);
    pl_jalloc_use(NULL);
    pl_pool_finish(&pool);
}

/* A block whose header is neither tag is not freed: the process aborts. */
static void test_foreign_block_aborts(void **state)
{
    (void)state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        unsigned char *block = calloc(1, HEADER + 8);
        jalloc_free(block + HEADER);
        _exit(0); /* not reached */
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_heap_blocks),          cmocka_unit_test(test_pool_blocks),
        cmocka_unit_test(test_values_cross_arenas),  cmocka_unit_test(test_pool_is_per_thread),
        cmocka_unit_test(test_foreign_block_aborts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
