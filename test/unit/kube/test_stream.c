/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of kube/stream.c: the streaming list reader (items handed over
 * one at a time whatever the chunking, metadata kept, everything else
 * skipped, malformed and oversized input refused, memory bounded by one
 * item) and the watch line splitter.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/alloc.h"
#include "kube/stream.c"

struct seen {
    struct pl_buf all; /* items, joined by '|' */
    unsigned n;
    int fail_at; /* refuse item number fail_at (1-based); 0 never */
};

static int collect(void *ud, const char *json, size_t len)
{
    struct seen *s = ud;
    s->n++;
    if (s->fail_at && (int)s->n == s->fail_at) {
        return -ENOTSUP;
    }
    assert_int_equal(pl_buf_append(&s->all, json, len), 0);
    assert_int_equal(pl_buf_append(&s->all, "|", 1), 0);
    return 0;
}

/* Feeds text in chunks of `step` bytes (0: whole). Returns the first error or end()'s. */
static int run(const char *text, size_t step, size_t item_max, struct seen *seen, char **ret_rv)
{
    struct pl_kube_liststream s;
    pl_kube_liststream_init(&s, item_max, collect, seen);
    size_t len = strlen(text);
    int r = 0;
    for (size_t at = 0; at < len && r == 0;) {
        size_t n = step && step < len - at ? step : len - at;
        r = pl_kube_liststream_feed(&s, text + at, n);
        at += n;
    }
    if (r == 0) {
        r = pl_kube_liststream_end(&s);
    }
    if (ret_rv) {
        const char *rv = pl_json_string(pl_kube_liststream_metadata(&s), "resourceVersion");
        *ret_rv = rv ? pl_xstrdup(rv) : NULL;
    }
    pl_kube_liststream_finish(&s);
    return r;
}

static void seen_init(struct seen *s)
{
    memset(s, 0, sizeof(*s));
    pl_buf_init(&s->all, 1u << 20);
}

#define LIST_TEXT                                                                                  \
    "{\"kind\":\"NamespaceList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":"         \
    "\"42\",\"continue\":\"c}]\\\"\"},\"items\":[ {\"metadata\":{\"name\":\"a\"}} ,"               \
    "{\"metadata\":{\"name\":\"b\",\"annotations\":{\"x\":\"}]{[\\\"\"}},\"items\":[1,{}]},"       \
    "{}\r\n],\"extra\":[{\"items\":[]}],\"n\":-1.5e3,\"t\":true}\n"

static void test_items_whatever_the_chunking(void **state)
{
    (void)state;
    static const char *const want = "{\"metadata\":{\"name\":\"a\"}}|"
                                    "{\"metadata\":{\"name\":\"b\",\"annotations\":{\"x\":"
                                    "\"}]{[\\\"\"}},\"items\":[1,{}]}|{}|";
    size_t len = strlen(LIST_TEXT);
    for (size_t step = 0; step <= len; step++) {
        struct seen seen;
        seen_init(&seen);
        char *rv = NULL;
        assert_int_equal(run(LIST_TEXT, step, 0, &seen, &rv), 0);
        assert_int_equal(seen.n, 3);
        assert_string_equal(pl_buf_str(&seen.all), want);
        assert_string_equal(rv, "42");
        free(rv);
        pl_buf_finish(&seen.all);
    }
}

static void test_refusals(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int want;
    } cases[] = {
        {"", -EINVAL},                                        /* cut short */
        {"[]", -EINVAL},                                      /* not an object */
        {"{\"items\":{}}", -EINVAL},                          /* items not an array */
        {"{\"items\":\"x\"}", -EINVAL},                       /* no array: no items */
        {"{\"items\":[1]}", -EINVAL},                         /* an item not an object */
        {"{\"items\":[\"s\"]}", -EINVAL},                     /* idem */
        {"{\"items\":[[]]}", -EINVAL},                        /* idem */
        {"{\"items\":[{]}", -EINVAL},                         /* mismatched */
        {"{\"items\":[]]", -EINVAL},                          /* mismatched */
        {"{\"items\":[]} {}", -EINVAL},                       /* trailing data */
        {"{\"items\":[]}x", -EINVAL},                         /* trailing data */
        {"{\"items\":[{}", -EINVAL},                          /* cut short */
        {"{\"kind\":\"List\"}", -EINVAL},                     /* no items */
        {"{\"items\":[],\"items\":[]}", -EINVAL},             /* twice */
        {"{\"metadata\":{\"a\":tru},\"items\":[]}", -EINVAL}, /* bad metadata */
        {"{\"a\" \"b\",\"items\":[]}", -EINVAL},              /* no ':' */
        {"{\"a\":}", -EINVAL},                                /* no value */
        {"{\"items\":[{\"k\":\"0123456789012345678901234567890123456789\"}]}", -E2BIG},
    };
    for (size_t i = 0; i < PL_ARRAY_SIZE(cases); i++) {
        for (size_t step = 0; step < 3; step++) {
            struct seen seen;
            seen_init(&seen);
            int r = run(cases[i].text, step, 32, &seen, NULL);
            if (r != cases[i].want) {
                fail_msg("case %zu (%s) step %zu: %d, want %d", i, cases[i].text, step, r,
                         cases[i].want);
            }
            pl_buf_finish(&seen.all);
        }
    }
    /* Deep nesting is bounded. */
    size_t depth = PL_KUBE_STREAM_DEPTH_MAX + 8;
    char *deep = pl_xmalloc(depth + 16);
    memcpy(deep, "{\"x\":", 5);
    memset(deep + 5, '[', depth);
    deep[5 + depth] = '\0';
    struct seen seen;
    seen_init(&seen);
    assert_int_equal(run(deep, 0, 0, &seen, NULL), -E2BIG);
    pl_buf_finish(&seen.all);
    free(deep);
    /* A callback's error stops the reader and is returned. */
    seen_init(&seen);
    seen.fail_at = 2;
    assert_int_equal(run(LIST_TEXT, 7, 0, &seen, NULL), -ENOTSUP);
    assert_int_equal(seen.n, 2);
    pl_buf_finish(&seen.all);
}

/* Millions of tiny items cost one item of memory: nothing accumulates. */
static void test_memory_bounded_by_one_item(void **state)
{
    (void)state;
    struct seen seen;
    seen_init(&seen);
    struct pl_kube_liststream s;
    pl_kube_liststream_init(&s, 0, NULL, NULL);
    static const char head[] = "{\"metadata\":{\"resourceVersion\":\"1\"},\"items\":[{}";
    assert_int_equal(pl_kube_liststream_feed(&s, head, strlen(head)), 0);
    char chunk[16384];
    for (size_t i = 0; i + 3 <= sizeof(chunk); i += 3) {
        memcpy(chunk + i, ",{}", 3);
    }
    size_t used = sizeof(chunk) / 3 * 3;
    for (int i = 0; i < 600; i++) { /* ~9 MiB, ~3.3M items */
        /* An odd split point so that items straddle chunks. */
        assert_int_equal(pl_kube_liststream_feed(&s, chunk, 1001), 0);
        assert_int_equal(pl_kube_liststream_feed(&s, chunk + 1001, used - 1001), 0);
    }
    assert_int_equal(pl_kube_liststream_feed(&s, "]}", 2), 0);
    assert_int_equal(pl_kube_liststream_end(&s), 0);
    assert_true(s.items > 3000000u);
    assert_true(s.cap.cap < 4096); /* what was ever held at once */
    pl_kube_liststream_finish(&s);
    pl_buf_finish(&seen.all);
}

struct lines_seen {
    char all[256];
    size_t len;
    int fail_at;
    unsigned n;
};

static int on_line(void *ud, const char *line, size_t len)
{
    struct lines_seen *l = ud;
    l->n++;
    if (l->fail_at && (int)l->n == l->fail_at) {
        return -ENOTSUP;
    }
    assert_true(l->len + len + 1 < sizeof(l->all));
    memcpy(l->all + l->len, line, len);
    l->len += len;
    l->all[l->len++] = '|';
    l->all[l->len] = '\0';
    return 0;
}

static void test_lines(void **state)
{
    (void)state;
    static const char text[] = "one\r\n\ntwo \nthree\n\r\nfour";
    for (size_t step = 1; step <= sizeof(text) - 1; step++) {
        struct lines_seen seen = {0};
        struct pl_kube_lines l;
        pl_kube_lines_init(&l, 8, on_line, &seen);
        for (size_t at = 0; at < sizeof(text) - 1; at += step) {
            size_t n = step < sizeof(text) - 1 - at ? step : sizeof(text) - 1 - at;
            assert_int_equal(pl_kube_lines_feed(&l, text + at, n), 0);
        }
        assert_string_equal(seen.all, "one|two|three|"); /* "four" has no end yet */
        pl_kube_lines_finish(&l);
    }
    /* A line over its bound, in one chunk or across chunks. */
    struct lines_seen seen = {0};
    struct pl_kube_lines l;
    pl_kube_lines_init(&l, 8, on_line, &seen);
    assert_int_equal(pl_kube_lines_feed(&l, "0123456789\n", 11), -E2BIG);
    assert_int_equal(pl_kube_lines_feed(&l, "x\n", 2), -E2BIG); /* sticky */
    pl_kube_lines_finish(&l);
    pl_kube_lines_init(&l, 8, on_line, &seen);
    assert_int_equal(pl_kube_lines_feed(&l, "01234", 5), 0);
    assert_int_equal(pl_kube_lines_feed(&l, "56789", 5), -E2BIG);
    pl_kube_lines_finish(&l);
    /* A callback's error stops the splitter. */
    struct lines_seen stop = {.fail_at = 2};
    pl_kube_lines_init(&l, 0, on_line, &stop);
    assert_int_equal(pl_kube_lines_feed(&l, "a\nb\nc\n", 6), -ENOTSUP);
    assert_string_equal(stop.all, "a|");
    pl_kube_lines_finish(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_items_whatever_the_chunking),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_memory_bounded_by_one_item),
        cmocka_unit_test(test_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
