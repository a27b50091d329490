/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/mode.c: the mode names, both ways, and nothing else accepted.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/mode.h"

static void test_mode_names(void **state)
{
    (void)state;
    assert_string_equal(pl_mode_name(PL_MODE_OFF), "off");
    assert_string_equal(pl_mode_name(PL_MODE_WARN), "warn");
    assert_string_equal(pl_mode_name(PL_MODE_ENFORCE), "enforce");
    assert_string_equal(pl_mode_name((enum pl_mode)99), "off");
    enum pl_mode m = PL_MODE_WARN;
    assert_int_equal(pl_mode_parse("enforce", &m), 0);
    assert_int_equal(m, PL_MODE_ENFORCE);
    assert_int_equal(pl_mode_parse("off", &m), 0);
    assert_int_equal(m, PL_MODE_OFF);
    assert_int_equal(pl_mode_parse("warn", &m), 0);
    assert_int_equal(m, PL_MODE_WARN);
    assert_int_equal(pl_mode_parse("Enforce", &m), -EINVAL);
    assert_int_equal(pl_mode_parse("", &m), -EINVAL);
    assert_int_equal(pl_mode_parse("warning", &m), -EINVAL);
    assert_int_equal(pl_mode_parse(NULL, &m), -EINVAL);
    assert_int_equal(m, PL_MODE_WARN); /* untouched on error */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mode_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
