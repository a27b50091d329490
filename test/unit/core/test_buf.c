/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of core/buf.c: the ceiling is reached exactly and never passed
 * (append, puts and printf fail with -E2BIG by one byte and leave the
 * content as it was), the allocation never exceeds max + 1, the content is
 * NUL-terminated after every operation, steal and reset hand over or keep
 * the memory as documented.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"

static void test_init_is_empty(void **state)
{
    (void)state;
    struct pl_buf b;
    pl_buf_init(&b, 10);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    assert_int_equal(b.max, 10);
    assert_string_equal(pl_buf_str(&b), "");
    pl_buf_finish(&b);
    pl_buf_finish(NULL); /* accepts NULL */
}

static void test_append_exactly_to_max(void **state)
{
    (void)state;
    struct pl_buf b;
    pl_buf_init(&b, 8);
    assert_int_equal(pl_buf_append(&b, "abcd", 4), 0);
    assert_int_equal(pl_buf_append(&b, "efgh", 4), 0);
    assert_int_equal(b.len, 8);
    assert_string_equal(pl_buf_str(&b), "abcdefgh");
    assert_true(b.cap <= b.max + 1);
    /* One more byte is one too many; nothing changes. */
    assert_int_equal(pl_buf_append(&b, "i", 1), -E2BIG);
    assert_int_equal(b.len, 8);
    assert_string_equal(pl_buf_str(&b), "abcdefgh");
    /* An empty append at the ceiling is fine. */
    assert_int_equal(pl_buf_append(&b, "", 0), 0);
    assert_int_equal(b.len, 8);
    pl_buf_finish(&b);
}

static void test_append_over_by_one_leaves_buffer(void **state)
{
    (void)state;
    struct pl_buf b;
    pl_buf_init(&b, 5);
    assert_int_equal(pl_buf_append(&b, "ab", 2), 0);
    assert_int_equal(pl_buf_append(&b, "cdef", 4), -E2BIG); /* 6 > 5 */
    assert_int_equal(b.len, 2);
    assert_string_equal(pl_buf_str(&b), "ab");
    assert_int_equal(pl_buf_append(&b, "cde", 3), 0); /* exactly 5 */
    assert_string_equal(pl_buf_str(&b), "abcde");
    pl_buf_finish(&b);
}

static void test_max_zero(void **state)
{
    (void)state;
    struct pl_buf b;
    pl_buf_init(&b, 0);
    assert_int_equal(pl_buf_append(&b, "x", 1), -E2BIG);
    assert_int_equal(pl_buf_puts(&b, "x"), -E2BIG);
    assert_int_equal(pl_buf_printf(&b, "%d", 1), -E2BIG);
    assert_int_equal(pl_buf_append(&b, "", 0), 0);
    assert_string_equal(pl_buf_str(&b), "");
    assert_true(b.cap <= 1);
    pl_buf_finish(&b);
}

static void test_huge_length_does_not_wrap(void **state)
{
    (void)state;
    struct pl_buf b;
    pl_buf_init(&b, 16);
    assert_int_equal(pl_buf_append(&b, "abc", 3), 0);
    /* n near SIZE_MAX must not wrap the check around. */
    assert_int_equal(pl_buf_append(&b, "x", SIZE_MAX), -E2BIG);
    assert_int_equal(pl_buf_append(&b, "x", SIZE_MAX - 2), -E2BIG);
    assert_string_equal(pl_buf_str(&b), "abc");
    pl_buf_finish(&b);
}

static void test_embedded_nul(void **state)
{
    (void)state;
    struct pl_buf b;
    pl_buf_init(&b, 64);
    assert_int_equal(pl_buf_append(&b, "a\0b", 3), 0);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.data, "a\0b\0", 4);
    pl_buf_finish(&b);
}

static void test_puts(void **state)
{
    (void)state;
    struct pl_buf b;
    pl_buf_init(&b, 6);
    assert_int_equal(pl_buf_puts(&b, "abc"), 0);
    assert_int_equal(pl_buf_puts(&b, ""), 0);
    assert_int_equal(pl_buf_puts(&b, "defg"), -E2BIG);
    assert_string_equal(pl_buf_str(&b), "abc");
    assert_int_equal(pl_buf_puts(&b, "def"), 0);
    assert_string_equal(pl_buf_str(&b), "abcdef");
    pl_buf_finish(&b);
}

static void test_printf_limits(void **state)
{
    (void)state;
    struct pl_buf b;
    pl_buf_init(&b, 10);
    assert_int_equal(pl_buf_printf(&b, "%s-%d", "ab", 42), 0);
    assert_string_equal(pl_buf_str(&b), "ab-42");
    assert_int_equal(b.len, 5);
    /* 5 + 6 = 11 > 10: refused whole, not cut. */
    assert_int_equal(pl_buf_printf(&b, "%06d", 7), -E2BIG);
    assert_string_equal(pl_buf_str(&b), "ab-42");
    assert_int_equal(b.len, 5);
    /* 5 + 5 = 10: exactly the ceiling. */
    assert_int_equal(pl_buf_printf(&b, "%05d", 7), 0);
    assert_string_equal(pl_buf_str(&b), "ab-4200007");
    assert_int_equal(b.len, 10);
    assert_true(b.cap <= b.max + 1);
    assert_int_equal(pl_buf_printf(&b, "%s", ""), 0);
    pl_buf_finish(&b);
}

static void test_growth_across_many_appends(void **state)
{
    (void)state;
    struct pl_buf b;
    pl_buf_init(&b, 100000);
    for (int i = 0; i < 10000; i++) {
        assert_int_equal(pl_buf_printf(&b, "%d,", i % 10), 0);
    }
    assert_int_equal(b.len, 20000);
    assert_true(b.cap > b.len);
    assert_true(b.cap <= b.max + 1);
    assert_int_equal(b.data[b.len], '\0');
    assert_memory_equal(b.data, "0,1,2,3,4,", 10);
    assert_memory_equal(b.data + 19990, "5,6,7,8,9,", 10);
    pl_buf_finish(&b);
}

static void test_reset_keeps_allocation(void **state)
{
    (void)state;
    struct pl_buf b;
    pl_buf_init(&b, 1000);
    assert_int_equal(pl_buf_puts(&b, "hello world"), 0);
    char *data = b.data;
    size_t cap = b.cap;
    pl_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_ptr_equal(b.data, data);
    assert_int_equal(b.cap, cap);
    assert_string_equal(pl_buf_str(&b), "");
    assert_int_equal(pl_buf_puts(&b, "again"), 0);
    assert_string_equal(pl_buf_str(&b), "again");
    pl_buf_finish(&b);
    /* Reset of a never-used buffer is harmless. */
    pl_buf_init(&b, 4);
    pl_buf_reset(&b);
    assert_string_equal(pl_buf_str(&b), "");
    pl_buf_finish(&b);
}

static void test_truncate(void **state)
{
    (void)state;
    struct pl_buf b;
    pl_buf_init(&b, 1000);
    pl_buf_truncate(&b, 0); /* nothing allocated yet: still fine */
    assert_int_equal(pl_buf_puts(&b, "hello world"), 0);
    pl_buf_truncate(&b, 5);
    assert_int_equal(b.len, 5);
    assert_string_equal(pl_buf_str(&b), "hello");
    assert_int_equal(pl_buf_puts(&b, "!"), 0);
    assert_string_equal(pl_buf_str(&b), "hello!");
    pl_buf_finish(&b);
}

static void test_steal(void **state)
{
    (void)state;
    struct pl_buf b;
    pl_buf_init(&b, 32);
    char *empty = pl_buf_steal(&b);
    assert_non_null(empty);
    assert_string_equal(empty, "");
    free(empty);

    assert_int_equal(pl_buf_puts(&b, "owned"), 0);
    char *s = pl_buf_steal(&b);
    assert_string_equal(s, "owned");
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    assert_int_equal(b.max, 32); /* the ceiling stays for reuse */
    free(s);

    assert_int_equal(pl_buf_puts(&b, "second"), 0);
    assert_string_equal(pl_buf_str(&b), "second");
    pl_buf_finish(&b);
}

static void test_finish_then_reuse(void **state)
{
    (void)state;
    struct pl_buf b;
    pl_buf_init(&b, 3);
    assert_int_equal(pl_buf_puts(&b, "abc"), 0);
    pl_buf_finish(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(pl_buf_puts(&b, "abcd"), -E2BIG); /* max survives finish */
    assert_int_equal(pl_buf_puts(&b, "xyz"), 0);
    assert_string_equal(pl_buf_str(&b), "xyz");
    pl_buf_finish(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_is_empty),
        cmocka_unit_test(test_append_exactly_to_max),
        cmocka_unit_test(test_append_over_by_one_leaves_buffer),
        cmocka_unit_test(test_max_zero),
        cmocka_unit_test(test_huge_length_does_not_wrap),
        cmocka_unit_test(test_embedded_nul),
        cmocka_unit_test(test_puts),
        cmocka_unit_test(test_printf_limits),
        cmocka_unit_test(test_growth_across_many_appends),
        cmocka_unit_test(test_reset_keeps_allocation),
        cmocka_unit_test(test_truncate),
        cmocka_unit_test(test_steal),
        cmocka_unit_test(test_finish_then_reuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
