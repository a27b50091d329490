/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of core/json.c: every getter answers NULL (or the default) for
 * a NULL parent, a missing member, a null member and a member of the wrong
 * type; pl_json_path follows dotted keys and stops at non-objects and
 * overlong keys. (pl_json_load has its own tests: test_json_parse.c.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/json.h"

static json_t *parse(const char *text)
{
    char err[256];
    json_t *doc = pl_json_load(text, strlen(text), err, sizeof(err));
    if (!doc) {
        fail_msg("fixture does not parse: %s", err);
    }
    return doc;
}

static const char sample[] = "{\"obj\": {\"k\": 1}, \"arr\": [1, 2, 3], \"str\": \"v\","
                             " \"t\": true, \"f\": false, \"n\": null, \"i\": -42,"
                             " \"real\": 1.5, \"big\": 9223372036854775807}";

static void test_object_getter(void **state)
{
    (void)state;
    json_t *doc = parse(sample);
    assert_ptr_equal(pl_json_object(doc, "obj"), json_object_get(doc, "obj"));
    assert_null(pl_json_object(doc, "arr"));
    assert_null(pl_json_object(doc, "str"));
    assert_null(pl_json_object(doc, "n"));
    assert_null(pl_json_object(doc, "missing"));
    assert_null(pl_json_object(NULL, "obj"));
    assert_null(pl_json_object(json_object_get(doc, "arr"), "obj")); /* parent not an object */
    json_decref(doc);
}

static void test_array_getter(void **state)
{
    (void)state;
    json_t *doc = parse(sample);
    assert_ptr_equal(pl_json_array(doc, "arr"), json_object_get(doc, "arr"));
    assert_null(pl_json_array(doc, "obj"));
    assert_null(pl_json_array(doc, "n"));
    assert_null(pl_json_array(doc, "missing"));
    assert_null(pl_json_array(NULL, "arr"));
    assert_int_equal(pl_json_array_len(pl_json_array(doc, "arr")), 3);
    assert_int_equal(pl_json_array_len(pl_json_array(doc, "missing")), 0);
    assert_int_equal(pl_json_array_len(json_object_get(doc, "obj")), 0);
    assert_int_equal(pl_json_array_len(NULL), 0);
    json_decref(doc);
}

static void test_string_getter(void **state)
{
    (void)state;
    json_t *doc = parse(sample);
    assert_string_equal(pl_json_string(doc, "str"), "v");
    assert_null(pl_json_string(doc, "i"));
    assert_null(pl_json_string(doc, "n"));
    assert_null(pl_json_string(doc, "t"));
    assert_null(pl_json_string(doc, "missing"));
    assert_null(pl_json_string(NULL, "str"));
    json_decref(doc);
}

static void test_bool_getter(void **state)
{
    (void)state;
    json_t *doc = parse(sample);
    assert_true(pl_json_bool(doc, "t", false));
    assert_false(pl_json_bool(doc, "f", true));
    /* Not a boolean: the default, whatever the truthiness. */
    assert_true(pl_json_bool(doc, "str", true));
    assert_false(pl_json_bool(doc, "str", false));
    assert_false(pl_json_bool(doc, "i", false));
    assert_true(pl_json_bool(doc, "n", true));
    assert_true(pl_json_bool(doc, "missing", true));
    assert_false(pl_json_bool(NULL, "t", false));
    json_decref(doc);
}

static void test_integer_getter(void **state)
{
    (void)state;
    json_t *doc = parse(sample);
    long long v = 7;
    assert_true(pl_json_integer(doc, "i", &v));
    assert_int_equal(v, -42);
    assert_true(pl_json_integer(doc, "big", &v));
    assert_true(v == 9223372036854775807LL);
    v = 7;
    /* A real, a string, null, missing: false, and *ret untouched. */
    assert_false(pl_json_integer(doc, "real", &v));
    assert_false(pl_json_integer(doc, "str", &v));
    assert_false(pl_json_integer(doc, "n", &v));
    assert_false(pl_json_integer(doc, "missing", &v));
    assert_false(pl_json_integer(NULL, "i", &v));
    assert_int_equal(v, 7);
    json_decref(doc);
}

static void test_path(void **state)
{
    (void)state;
    json_t *doc = parse("{\"spec\": {\"template\": {\"spec\": {\"x\": 1}, \"s\": \"str\"}},"
                        " \"a.b\": 5, \"\": {\"\": 3}}");
    const json_t *v = pl_json_path(doc, "spec.template.spec");
    assert_true(json_is_object(v));
    assert_int_equal(json_integer_value(json_object_get(v, "x")), 1);
    assert_int_equal(json_integer_value(pl_json_path(doc, "spec.template.spec.x")), 1);
    assert_ptr_equal(pl_json_path(doc, ""), doc); /* the empty path is the root */
    assert_null(pl_json_path(doc, "spec.missing.spec"));
    assert_null(pl_json_path(doc, "spec.template.s.deeper")); /* through a string */
    assert_null(pl_json_path(NULL, "spec"));
    assert_null(pl_json_path(doc, "a.b")); /* dots always separate */
    /* An empty key before a dot is looked up as ""; a trailing dot adds nothing. */
    assert_int_equal(json_integer_value(json_object_get(pl_json_path(doc, "."), "")), 3);
    assert_ptr_equal(pl_json_path(doc, "spec."), json_object_get(doc, "spec"));
    /* A key of 128 bytes or more is never found (and never overflows). */
    char longkey[300];
    memset(longkey, 'k', sizeof(longkey) - 1);
    longkey[sizeof(longkey) - 1] = '\0';
    assert_null(pl_json_path(doc, longkey));
    json_decref(doc);
}

static void test_path_key_length_edge(void **state)
{
    (void)state;
    char key[128];
    memset(key, 'k', 127);
    key[127] = '\0';
    json_t *doc = json_pack("{s:i}", key, 9);
    assert_int_equal(json_integer_value(pl_json_path(doc, key)), 9); /* 127 bytes: found */
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_object_getter),        cmocka_unit_test(test_array_getter),
        cmocka_unit_test(test_string_getter),        cmocka_unit_test(test_bool_getter),
        cmocka_unit_test(test_integer_getter),       cmocka_unit_test(test_path),
        cmocka_unit_test(test_path_key_length_edge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
