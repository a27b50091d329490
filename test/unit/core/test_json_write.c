/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of core/json_write.c: for every kind of value, and strings with
 * every class of byte (quotes, backslashes, each control character, NUL,
 * two-, three- and four-byte UTF-8, long plain runs on and off eight-byte
 * boundaries), the text is byte for byte what jansson's
 * json_dumps(JSON_COMPACT) writes; invalid UTF-8 and a value containing
 * itself fail and leave the buffer as it was; pl_json_dump() with
 * JSON_COMPACT takes this path and other flags still go to jansson.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/json.h"
#include "core/json_write.h"

/* Asserts that pl_json_write(v) gives exactly json_dumps(v, JSON_COMPACT). */
static void assert_same_as_jansson(const json_t *v)
{
    char *want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    assert_non_null(want);
    struct pl_buf b;
    pl_buf_init(&b, 1u << 24);
    assert_int_equal(pl_json_write(v, true, &b), 0);
    assert_string_equal(pl_buf_str(&b), want);
    assert_int_equal(b.len, strlen(want));
    pl_buf_finish(&b);
    free(want);
}

static void test_scalars(void **state)
{
    (void)state;
    json_t *values[] = {json_null(),
                        json_true(),
                        json_false(),
                        json_integer(0),
                        json_integer(-42),
                        json_integer(INT64_MAX),
                        json_integer(INT64_MIN),
                        json_real(1.5),
                        json_real(3.0),
                        json_real(1e300),
                        json_real(-0.000123),
                        json_string(""),
                        json_string("plain")};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        assert_same_as_jansson(values[i]);
        json_decref(values[i]);
    }
}

static void test_every_ascii_byte_and_utf8(void **state)
{
    (void)state;
    char s[200];
    size_t n = 0;
    for (int c = 0; c < 0x80; c++) {
        s[n++] = (char)c; /* NUL and every control character included */
    }
    const char *multi = "\xc3\xa9 \xe2\x82\xac \xf0\x9f\x9a\xa2 caf\xc3\xa9";
    memcpy(s + n, multi, strlen(multi));
    n += strlen(multi);
    json_t *v = json_stringn(s, n);
    assert_non_null(v);
    assert_same_as_jansson(v);
    json_decref(v);
}

static void test_long_runs_at_every_offset(void **state)
{
    (void)state;
    /* A special byte at each position of a long plain run: the eight-byte
     * scan must stop at it wherever it falls. */
    static const char specials[] = {'"', '\\', '\n', '\x01', '\x1f', (char)0xc3};
    char s[80];
    for (size_t k = 0; k < sizeof(specials); k++) {
        for (size_t at = 0; at < 70; at++) {
            memset(s, 'A', sizeof(s));
            s[at] = specials[k];
            size_t len = sizeof(s);
            if (specials[k] == (char)0xc3) {
                s[at + 1] = (char)0xa9; /* é */
            }
            json_t *v = json_stringn(s, len);
            assert_non_null(v);
            assert_same_as_jansson(v);
            json_decref(v);
        }
    }
}

static void test_containers(void **state)
{
    (void)state;
    const char *text =
        "{\"apiVersion\":\"admission.k8s.io/v1\",\"z\":[],\"a\":{},\"n\":null,"
        "\"list\":[1,\"two\",{\"k\":\"v\\\"q\"},[true,false],-3.25],"
        "\"key with \\\"quote\\\" and \\u00e9\":{\"deep\":{\"deeper\":[[[\"x\"]]]}}}";
    json_error_t error;
    json_t *v = json_loads(text, 0, &error);
    assert_non_null(v);
    assert_same_as_jansson(v); /* members in insertion order, as jansson writes them */
    json_t *arr = json_array();
    assert_same_as_jansson(arr);
    json_decref(arr);
    json_decref(v);
}

static void test_failures_leave_the_buffer(void **state)
{
    (void)state;
    struct pl_buf b;
    pl_buf_init(&b, 1u << 20);
    assert_int_equal(pl_buf_puts(&b, "kept"), 0);

    json_t *bad = json_object();
    json_object_set_new(bad, "ok", json_string("fine"));
    json_object_set_new(bad, "bad", json_stringn_nocheck("\xff\xfe", 2));
    assert_int_equal(pl_json_write(bad, false, &b), -EILSEQ);
    assert_string_equal(pl_buf_str(&b), "kept");
    assert_null(json_dumps(bad, JSON_COMPACT)); /* jansson refuses it too */
    json_decref(bad);

    json_t *lone = json_array();
    json_array_append_new(lone, json_stringn_nocheck("\x80", 1)); /* a continuation byte first */
    assert_int_equal(pl_json_write(lone, false, &b), -EILSEQ);
    json_decref(lone);

    json_t *cut = json_array();
    json_array_append_new(cut, json_stringn_nocheck("ab\xe2\x82", 4)); /* cut short */
    assert_int_equal(pl_json_write(cut, false, &b), -EILSEQ);
    json_decref(cut);

    json_t *outer = json_array();
    json_t *inner = json_array();
    json_array_append(outer, inner);
    json_array_append(inner, outer); /* each contains the other */
    assert_int_equal(pl_json_write(outer, false, &b), -ELOOP);
    json_array_clear(inner);
    json_decref(inner);
    json_decref(outer);

    json_t *scalar = json_integer(1);
    assert_int_equal(pl_json_write(scalar, false, &b), -EINVAL); /* no JSON_ENCODE_ANY */
    json_decref(scalar);
    assert_string_equal(pl_buf_str(&b), "kept");

    struct pl_buf small;
    pl_buf_init(&small, 8);
    json_t *big = json_string("longer than eight bytes");
    assert_int_equal(pl_json_write(big, true, &small), -E2BIG);
    assert_int_equal(small.len, 0);
    json_decref(big);
    pl_buf_finish(&small);
    pl_buf_finish(&b);
}

static void test_dump_uses_it_for_compact_only(void **state)
{
    (void)state;
    json_t *v = json_pack("{s:[i,s]}", "a", 1, "b/c");
    size_t len = 0;
    char *compact = pl_json_dump(v, JSON_COMPACT, &len);
    assert_string_equal(compact, "{\"a\":[1,\"b/c\"]}");
    assert_int_equal(len, strlen(compact));
    char *slash = pl_json_dump(v, JSON_COMPACT | JSON_ESCAPE_SLASH, NULL);
    assert_string_equal(slash, "{\"a\":[1,\"b\\/c\"]}"); /* jansson's flag still honoured */
    char *indented = pl_json_dump(v, JSON_INDENT(2), NULL);
    assert_non_null(strchr(indented, '\n'));
    free(compact);
    free(slash);
    free(indented);
    json_decref(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalars),
        cmocka_unit_test(test_every_ascii_byte_and_utf8),
        cmocka_unit_test(test_long_runs_at_every_offset),
        cmocka_unit_test(test_containers),
        cmocka_unit_test(test_failures_leave_the_buffer),
        cmocka_unit_test(test_dump_uses_it_for_compact_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
