/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of core/error.c: init empties, set fills message, path and line
 * and returns -EINVAL (also without an err), overlong text is cut inside the
 * fixed arrays, and format renders each of its four shapes exactly.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"

static void test_init(void **state)
{
    (void)state;
    struct pl_error err;
    memset(&err, 'x', sizeof(err));
    pl_error_init(&err);
    assert_string_equal(err.message, "");
    assert_string_equal(err.path, "");
    assert_int_equal(err.line, 0);
    pl_error_init(NULL);
}

static void test_set(void **state)
{
    (void)state;
    struct pl_error err;
    pl_error_init(&err);
    int r = pl_error_set(&err, "policies.resources.require[1]", 7, "unknown %s \"%d\"", "x", 42);
    assert_int_equal(r, -EINVAL);
    assert_string_equal(err.message, "unknown x \"42\"");
    assert_string_equal(err.path, "policies.resources.require[1]");
    assert_int_equal(err.line, 7);
    /* A second set replaces everything. */
    r = pl_error_set(&err, NULL, 0, "other");
    assert_int_equal(r, -EINVAL);
    assert_string_equal(err.message, "other");
    assert_string_equal(err.path, "");
    assert_int_equal(err.line, 0);
}

static void test_set_without_err(void **state)
{
    (void)state;
    assert_int_equal(pl_error_set(NULL, "p", 1, "m"), -EINVAL);
}

static void test_set_cuts_long_text(void **state)
{
    (void)state;
    char long_text[2000];
    memset(long_text, 'm', sizeof(long_text) - 1);
    long_text[sizeof(long_text) - 1] = '\0';
    struct pl_error err;
    pl_error_init(&err);
    (void)pl_error_set(&err, long_text, 3, "%s", long_text);
    assert_int_equal(strlen(err.message), sizeof(err.message) - 1);
    assert_int_equal(strlen(err.path), sizeof(err.path) - 1);
    assert_int_equal(err.message[0], 'm');
    assert_int_equal(err.line, 3);
}

static void test_format_shapes(void **state)
{
    (void)state;
    struct pl_error err;
    char out[256];
    pl_error_init(&err);
    (void)pl_error_set(&err, "policies.x.mode", 7, "mode must be enforce, warn or off");
    assert_string_equal(pl_error_format(&err, out, sizeof(out)),
                        "policies.x.mode (line 7): mode must be enforce, warn or off");
    (void)pl_error_set(&err, "request.uid", 0, "missing");
    assert_string_equal(pl_error_format(&err, out, sizeof(out)), "request.uid: missing");
    (void)pl_error_set(&err, "", 3, "invalid YAML: found character that cannot start any token");
    assert_string_equal(pl_error_format(&err, out, sizeof(out)),
                        "line 3: invalid YAML: found character that cannot start any token");
    (void)pl_error_set(&err, NULL, 0, "just a message");
    assert_string_equal(pl_error_format(&err, out, sizeof(out)), "just a message");
    /* A negative line counts as unknown. */
    (void)pl_error_set(&err, "p", -1, "m");
    assert_string_equal(pl_error_format(&err, out, sizeof(out)), "p: m");
    pl_error_init(&err);
    assert_string_equal(pl_error_format(&err, out, sizeof(out)), "");
}

static void test_format_cuts_to_size(void **state)
{
    (void)state;
    struct pl_error err;
    pl_error_init(&err);
    (void)pl_error_set(&err, "a.b", 12, "message");
    char out[8];
    memset(out, 'x', sizeof(out));
    const char *s = pl_error_format(&err, out, sizeof(out));
    assert_ptr_equal(s, out);
    assert_string_equal(out, "a.b (li");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init),
        cmocka_unit_test(test_set),
        cmocka_unit_test(test_set_without_err),
        cmocka_unit_test(test_set_cuts_long_text),
        cmocka_unit_test(test_format_shapes),
        cmocka_unit_test(test_format_cuts_to_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
