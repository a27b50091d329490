/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of core/alloc.c: the aborting allocators return usable memory
 * for every size (zero included), calloc zeroes, realloc keeps the content,
 * strndup stops at the NUL or at n, and running out of memory aborts with
 * the one-line message (checked in a forked child).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/alloc.h"

static void test_xmalloc_sizes(void **state)
{
    (void)state;
    char *zero = pl_xmalloc(0);
    assert_non_null(zero);
    char *p = pl_xmalloc(100);
    assert_non_null(p);
    memset(p, 'x', 100);
    assert_int_equal(p[99], 'x');
    free(zero);
    free(p);
}

static void test_xcalloc_zeroes(void **state)
{
    (void)state;
    unsigned char *p = pl_xcalloc(33, 7);
    for (size_t i = 0; i < 33 * 7; i++) {
        assert_int_equal(p[i], 0);
    }
    free(p);
    /* Zero elements or zero size still give a pointer that free() takes. */
    void *a = pl_xcalloc(0, 8);
    void *b = pl_xcalloc(8, 0);
    assert_non_null(a);
    assert_non_null(b);
    free(a);
    free(b);
}

static void test_xrealloc_keeps_content(void **state)
{
    (void)state;
    char *p = pl_xrealloc(NULL, 4);
    memcpy(p, "abc", 4);
    p = pl_xrealloc(p, 4096);
    assert_string_equal(p, "abc");
    p = pl_xrealloc(p, 2);
    assert_memory_equal(p, "ab", 2);
    p = pl_xrealloc(p, 0); /* shrinking to nothing keeps a valid pointer */
    assert_non_null(p);
    free(p);
}

static void test_xstrdup(void **state)
{
    (void)state;
    const char *src = "hello";
    char *s = pl_xstrdup(src);
    assert_string_equal(s, "hello");
    assert_ptr_not_equal(s, src);
    free(s);
    s = pl_xstrdup("");
    assert_string_equal(s, "");
    free(s);
}

static void test_xmemdup(void **state)
{
    (void)state;
    const char bytes[5] = {'a', '\0', 'b', 'c', '\0'};
    char *copy = pl_xmemdup(bytes, sizeof(bytes)); /* NULs are copied like any byte */
    assert_memory_equal(copy, bytes, sizeof(bytes));
    free(copy);
    copy = pl_xmemdup(NULL, 0); /* nothing to copy: still a pointer to free */
    assert_non_null(copy);
    free(copy);
}

static void test_xstrndup(void **state)
{
    (void)state;
    char *s = pl_xstrndup("abcdef", 3);
    assert_string_equal(s, "abc");
    free(s);
    s = pl_xstrndup("ab", 10); /* stops at the NUL, reads no further */
    assert_string_equal(s, "ab");
    free(s);
    s = pl_xstrndup("abc", 0);
    assert_string_equal(s, "");
    free(s);
    const char unterminated[4] = {'w', 'x', 'y', 'z'};
    s = pl_xstrndup(unterminated, sizeof(unterminated));
    assert_string_equal(s, "wxyz");
    free(s);
}

/* Runs fn in a child; returns its wait status and what it wrote to stderr. */
static int run_child(void (*fn)(void), char *err, size_t err_size)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], STDERR_FILENO);
        signal(SIGABRT, SIG_DFL);
        fn();
        _exit(0);
    }
    close(fds[1]);
    size_t len = 0;
    ssize_t n;
    while (len + 1 < err_size && (n = read(fds[0], err + len, err_size - 1 - len)) > 0) {
        len += (size_t)n;
    }
    err[len] = '\0';
    close(fds[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static void call_oom(void)
{
    pl_oom();
}

static void test_oom_aborts_with_message(void **state)
{
    (void)state;
    char err[4096];
    int status = run_child(call_oom, err, sizeof(err));
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
    /* Valgrind or a sanitizer may add lines after ours; ours comes first. */
    assert_memory_equal(err, "plimsoll: out of memory\n", strlen("plimsoll: out of memory\n"));
}

#if defined(__SANITIZE_ADDRESS__)
#define PL_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PL_TEST_ASAN 1
#endif
#endif

#ifndef PL_TEST_ASAN
static void calloc_overflow(void)
{
    void *p = pl_xcalloc(SIZE_MAX / 2 + 1, 4);
    free(p); /* not reached */
}
#endif

static void test_xcalloc_overflow_aborts(void **state)
{
    (void)state;
#ifdef PL_TEST_ASAN
    /* ASan reports calloc overflow itself instead of returning NULL. */
    skip();
#else
    char err[4096];
    int status = run_child(calloc_overflow, err, sizeof(err));
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
    assert_non_null(strstr(err, "plimsoll: out of memory\n"));
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xmalloc_sizes),
        cmocka_unit_test(test_xcalloc_zeroes),
        cmocka_unit_test(test_xrealloc_keeps_content),
        cmocka_unit_test(test_xstrdup),
        cmocka_unit_test(test_xmemdup),
        cmocka_unit_test(test_xstrndup),
        cmocka_unit_test(test_oom_aborts_with_message),
        cmocka_unit_test(test_xcalloc_overflow_aborts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
