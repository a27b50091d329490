/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of core/json_parse.c (pl_json_load): the values it builds equal
 * jansson's for the same text (escapes, surrogate pairs, UTF-8, numbers on
 * both sides of the short-integer fast path, duplicate keys, escaped keys);
 * it refuses what jansson refuses, with a reason and the line and column;
 * it keeps \u0000 in values, refuses it in keys, reads only len bytes, and
 * bounds nesting at 2048. pl_json_load_skipping leaves out the members named
 * so but checks them all the same. test/fuzz/fuzz_json.c does the same comparison on
 * whatever the fuzzer makes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/alloc.h"
#include "core/json.h"

/* pl_json_load(text) must succeed and equal jansson's reading of it. */
static void expect_same(const char *text, size_t len)
{
    char err[256];
    json_t *ours = pl_json_load(text, len, err, sizeof(err));
    json_error_t jerr;
    json_t *theirs = json_loadb(text, len, JSON_ALLOW_NUL, &jerr);
    if (!theirs) {
        fail_msg("fixture %s is not JSON to jansson: %s", text, jerr.text);
    }
    if (!ours) {
        fail_msg("pl_json_load refused %s: %s", text, err);
    }
    if (!json_equal(ours, theirs)) {
        char *a = json_dumps(ours, JSON_ENCODE_ANY), *b = json_dumps(theirs, JSON_ENCODE_ANY);
        fail_msg("%s: got %s, jansson %s", text, a, b);
    }
    json_decref(ours);
    json_decref(theirs);
}

/* pl_json_load(text) must fail, as jansson does, with why in the reason. */
static void expect_refused(const char *text, size_t len, const char *why)
{
    char err[256];
    json_t *ours = pl_json_load(text, len, err, sizeof(err));
    if (ours) {
        fail_msg("pl_json_load accepted %s", text);
    }
    json_t *theirs = json_loadb(text, len, JSON_ALLOW_NUL, NULL);
    if (theirs) {
        fail_msg("fixture %s is JSON to jansson", text);
    }
    if (strncmp(err, "invalid JSON at line ", 21) != 0 || !strstr(err, why)) {
        fail_msg("%s: reason \"%s\" does not say \"%s\"", text, err, why);
    }
}

#define SAME(text)         expect_same(text, sizeof(text) - 1)
#define REFUSED(text, why) expect_refused(text, sizeof(text) - 1, why)

static void test_values_equal_jansson(void **state)
{
    (void)state;
    SAME("{}");
    SAME("[]");
    SAME(" \t\r\n{ \"a\" : [ 1 , { } , [ ] , \"x\" , true , false , null ] } \n");
    SAME("{\"obj\":{\"k\":1},\"arr\":[1,2,3],\"str\":\"v\",\"t\":true,\"n\":null}");
    /* a later duplicate replaces an earlier one, as in jansson */
    SAME("{\"a\":1,\"b\":2,\"a\":{\"c\":3}}");
    /* escapes, in values and in keys (a key with escapes, then a value with them) */
    SAME("[\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t\"]");
    SAME("{\"k\\u00e9y\\n\":\"v\\u20ac\\t\",\"k\\u00e9y\\n\":\"again\"}");
    SAME("[\"\\ud83d\\ude00 and \\uD83D\\uDE00\"]");
    SAME("[\"plain prefix then \\\"escape\\\" then raw \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"]");
    /* UTF-8 at the edges of each length */
    SAME("[\"\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\"]");
    /* numbers: the short-integer fast path (18 digits) and strtoll beyond it */
    SAME("[0,-0,7,-7,999999999999999999,-999999999999999999,1000000000000000000]");
    SAME("[9223372036854775807,-9223372036854775808]");
    SAME("[0.5,-0.0,1e3,1E-3,2.5e+10,1e-400,123456789012345678901234567890.5]");
}

static void test_refusals_explain(void **state)
{
    (void)state;
    REFUSED("", "unexpected end of input");
    REFUSED("  ", "unexpected end of input");
    REFUSED("\"alone\"", "must be an object or an array");
    REFUSED("42", "must be an object or an array");
    REFUSED("{} x", "end of input expected");
    REFUSED("{}{}", "end of input expected");
    REFUSED("{\"a\":1", "unexpected end of input");
    REFUSED("[1,2,]", "a value expected");
    REFUSED("{\"a\":1,}", "a string key expected");
    REFUSED("{a:1}", "a string key expected");
    REFUSED("{\"a\" 1}", "':' expected");
    REFUSED("[1 2]", "',' or ']' expected");
    REFUSED("{\"a\":1 \"b\":2}", "',' or '}' expected");
    REFUSED("[tru]", "a value expected");
    REFUSED("[nul]", "a value expected");
    REFUSED("[01]", "leading zero");
    REFUSED("[1.]", "after '.'");
    REFUSED("[.5]", "a value expected");
    REFUSED("[1e]", "exponent");
    REFUSED("[-]", "invalid number");
    REFUSED("[9223372036854775808]", "integer out of range");
    REFUSED("[-9223372036854775809]", "integer out of range");
    REFUSED("[1e400]", "number out of range");
    REFUSED("[\"abc", "unterminated string");
    REFUSED("[\"abc\\", "unterminated string");
    REFUSED("[\"a\nb\"]", "control character");
    REFUSED("[\"\\x\"]", "invalid escape");
    REFUSED("[\"\\u12\"]", "four hex digits");
    REFUSED("[\"\\u12G4\"]", "four hex digits");
    REFUSED("[\"\\ud83d\"]", "high surrogate");
    REFUSED("[\"\\ud83d\\u0041\"]", "high surrogate");
    REFUSED("[\"\\ude00\"]", "low surrogate");
    REFUSED("[\"\xc0\xaf\"]", "invalid UTF-8");         /* overlong '/' */
    REFUSED("[\"\xe0\x80\xaf\"]", "invalid UTF-8");     /* overlong, three bytes */
    REFUSED("[\"\xed\xa0\x80\"]", "invalid UTF-8");     /* a surrogate, encoded */
    REFUSED("[\"\xf4\x90\x80\x80\"]", "invalid UTF-8"); /* past U+10FFFF */
    REFUSED("[\"\xe2\x82\"]", "invalid UTF-8");         /* cut short */
    REFUSED("[\"\xe2\x28\xa1\"]", "invalid UTF-8");     /* not a continuation */
    REFUSED("[\"\x80\"]", "invalid UTF-8");             /* a continuation first */
    REFUSED("{\"a\\u0000b\":1}", "NUL byte");
}

static void test_reason_has_position(void **state)
{
    (void)state;
    char err[256];
    const char *text = "{\n  \"a\": 1,\n  \"b\": }";
    assert_null(pl_json_load(text, strlen(text), err, sizeof(err)));
    assert_string_equal(err, "invalid JSON at line 3, column 8: unexpected character: a value "
                             "expected");
    /* No room for the reason, or nowhere to put it: still no crash. */
    assert_null(pl_json_load("[", 1, NULL, 0));
    char tiny[4];
    assert_null(pl_json_load("[", 1, tiny, sizeof(tiny)));
    assert_int_equal(strlen(tiny), 3);
    /* No body at all is an empty one. */
    assert_null(pl_json_load(NULL, 0, err, sizeof(err)));
    assert_non_null(strstr(err, "unexpected end of input"));
    /* A success leaves an empty reason. */
    json_t *doc = pl_json_load("[]", 2, err, sizeof(err));
    assert_non_null(doc);
    assert_string_equal(err, "");
    json_decref(doc);
}

static void test_reads_only_len_bytes(void **state)
{
    (void)state;
    char err[256];
    json_t *doc = pl_json_load("[1]garbage", 3, err, sizeof(err));
    assert_non_null(doc);
    assert_int_equal(json_array_size(doc), 1);
    json_decref(doc);
    /* a number, a literal and a string cut by len are refused, not overrun */
    assert_null(pl_json_load("[12345]", 4, err, sizeof(err)));
    assert_null(pl_json_load("[true]", 4, err, sizeof(err)));
    assert_null(pl_json_load("[\"ab\"]", 4, err, sizeof(err)));
    assert_null(pl_json_load("[\"\\u00e9\"]", 6, err, sizeof(err)));
}

static void test_nul(void **state)
{
    (void)state;
    const char *text = "{\"env\": \"a\\u0000b\"}";
    char err[256];
    json_t *doc = pl_json_load(text, strlen(text), err, sizeof(err));
    assert_non_null(doc);
    const json_t *v = json_object_get(doc, "env");
    assert_int_equal(json_string_length(v), 3);
    assert_memory_equal(json_string_value(v), "a\0b", 3);
    assert_string_equal(pl_json_string(doc, "env"), "a"); /* C sees it cut at the NUL */
    json_decref(doc);
    /* A raw NUL byte is no JSON, even right after a number (jansson takes
     * "[1,2\0]" for [1,2]: see test/fuzz/fuzz_json.c). */
    assert_null(pl_json_load("[1,2\0]", 6, err, sizeof(err)));
    assert_null(pl_json_load("[true\0]", 7, err, sizeof(err)));
    assert_null(pl_json_load("{\"a\":null\0}", 11, err, sizeof(err)));
    assert_null(pl_json_load("[\"a\0\"]", 6, err, sizeof(err)));
}

/* depth '[', then middle, then depth ']'. Free with free(). */
static char *nested_around(size_t depth, const char *middle)
{
    size_t m = strlen(middle);
    char *s = pl_xmalloc(2 * depth + m + 1);
    memset(s, '[', depth);
    memcpy(s + depth, middle, m);
    memset(s + depth + m, ']', depth);
    s[2 * depth + m] = '\0';
    return s;
}

static char *nested_arrays(size_t depth)
{
    return nested_around(depth, "");
}

static void test_depth_limit(void **state)
{
    (void)state;
    char err[256];
    char *ok = nested_arrays(2048);
    json_t *doc = pl_json_load(ok, strlen(ok), err, sizeof(err));
    assert_non_null(doc);
    json_decref(doc);
    free(ok);
    /* every value has a depth, scalars too (jansson's rule): 2048 containers
     * may be nested, but the innermost one may hold no scalar */
    char *full = nested_around(2048, "1");
    assert_null(pl_json_load(full, strlen(full), err, sizeof(err)));
    assert_non_null(strstr(err, "nested deeper than 2048"));
    free(full);
    char *inner = nested_around(2047, "1");
    doc = pl_json_load(inner, strlen(inner), err, sizeof(err));
    assert_non_null(doc);
    json_decref(doc);
    free(inner);
    char *over = nested_arrays(2049);
    assert_null(pl_json_load(over, strlen(over), err, sizeof(err)));
    assert_non_null(strstr(err, "nested deeper than 2048"));
    free(over);
    char *deep = nested_arrays(100000);
    assert_null(pl_json_load(deep, strlen(deep), err, sizeof(err)));
    free(deep);
}

static void test_long_strings_and_numbers(void **state)
{
    (void)state;
    /* A long escaped string (the scratch buffer grows) and a long real (strtod
     * on a heap copy). */
    size_t n = 100000;
    char *text = pl_xmalloc(2 * n + 64);
    size_t len = 0;
    memcpy(text + len, "[\"", 2);
    len += 2;
    for (size_t i = 0; i < n / 2; i++) {
        memcpy(text + len, "\\n", 2);
        len += 2;
    }
    memcpy(text + len, "\",0.", 4);
    len += 4;
    memset(text + len, '1', 300);
    len += 300;
    text[len++] = ']';
    expect_same(text, len);
    free(text);
}

/* pl_json_load_skipping(text, "managedFields") must equal jansson's reading of expected. */
static void expect_skipped(const char *text, const char *expected)
{
    char err[256];
    json_t *got = pl_json_load_skipping(text, strlen(text), "managedFields", err, sizeof(err));
    json_t *want = json_loads(expected, 0, NULL);
    if (!got || !want || !json_equal(got, want)) {
        char *g = got ? json_dumps(got, 0) : NULL;
        fail_msg("skipping in %s gave %s (%s), want %s", text, g ? g : "NULL", err, expected);
    }
    json_decref(got);
    json_decref(want);
}

static void test_skipping(void **state)
{
    (void)state;
    /* first, middle, last, only member; whitespace; nested twice */
    expect_skipped("{\"managedFields\":[{\"a\":1}],\"b\":2}", "{\"b\":2}");
    expect_skipped("{\"a\":1,\"managedFields\":[],\"b\":2}", "{\"a\":1,\"b\":2}");
    expect_skipped("{\"a\":1 , \"managedFields\" : {\"x\":[1,{\"y\":\"}]\"}]} }", "{\"a\":1}");
    expect_skipped("{ \"managedFields\" : null }", "{}");
    expect_skipped(
        "{\"request\":{\"object\":{\"metadata\":{\"name\":\"w\",\"managedFields\":[{\"f\":"
        "\"\\\"]}\"}]}},\"oldObject\":{\"metadata\":{\"managedFields\":[],\"uid\":\"u\"}}}}",
        "{\"request\":{\"object\":{\"metadata\":{\"name\":\"w\"}},"
        "\"oldObject\":{\"metadata\":{\"uid\":\"u\"}}}}");
    /* a key written with escapes is the same key */
    expect_skipped("{\"managed\\u0046ields\":1,\"b\":2}", "{\"b\":2}");
    /* not a member named managedFields: kept */
    expect_skipped("{\"a\":\"managedFields\",\"b\":[\"managedFields\"]}",
                   "{\"a\":\"managedFields\",\"b\":[\"managedFields\"]}");
    expect_skipped("{\"managedFieldsX\":1,\"xmanagedFields\":2}",
                   "{\"managedFieldsX\":1,\"xmanagedFields\":2}");
    /* a skipped value is still checked: what is refused does not change */
    const char *broken[] = {"{\"managedFields\":[",        "{\"managedFields\":",
                            "{\"managedFields\"",          "{\"managedFields\":[1,]}",
                            "{\"managedFields\":{\"a\"}}", "{\"managedFields\":\"\\x\"}",
                            "{\"managedFields\":[01]}",    "{\"managedFields\":{\"a\\u0000\":1}}"};
    char err[256];
    for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
        if (pl_json_load_skipping(broken[i], strlen(broken[i]), "managedFields", err,
                                  sizeof(err))) {
            fail_msg("skipping accepted %s", broken[i]);
        }
        assert_non_null(strstr(err, "invalid JSON at line 1"));
    }
    /* depth counts inside a skipped value too */
    char *deep = nested_arrays(3000);
    size_t n = strlen(deep) + 32;
    char *text = pl_xmalloc(n);
    snprintf(text, n, "{\"managedFields\":%s}", deep);
    assert_null(pl_json_load_skipping(text, strlen(text), "managedFields", err, sizeof(err)));
    assert_non_null(strstr(err, "nested deeper"));
    free(text);
    free(deep);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_equal_jansson),
        cmocka_unit_test(test_refusals_explain),
        cmocka_unit_test(test_reason_has_position),
        cmocka_unit_test(test_reads_only_len_bytes),
        cmocka_unit_test(test_nul),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_long_strings_and_numbers),
        cmocka_unit_test(test_skipping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
