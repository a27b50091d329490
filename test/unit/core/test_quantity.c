/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/quantity.c: the notations a manifest writes a quantity in, read as the
 * same number, and what is not a quantity refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/quantity.h"

static double parse(const char *s)
{
    double v = -1;
    assert_int_equal(pl_quantity_parse(s, &v), 0);
    return v;
}

/* Equal up to rounding: decimal fractions are not exact in binary. */
static bool near(double a, double b)
{
    double d = a > b ? a - b : b - a;
    return d <= 1e-12 * (a > b ? a : b) + 1e-15;
}

static void test_quantity_notations(void **state)
{
    (void)state;
    assert_true(parse("1Gi") == 1073741824.0);
    assert_true(parse("1024Mi") == parse("1Gi"));
    assert_true(parse("1073741824") == parse("1Gi"));
    assert_true(parse("250m") == 0.25);
    assert_true(parse("0.5") == 0.5);
    assert_true(parse(".5") == 0.5);
    assert_true(parse("1k") == 1000.0);
    assert_true(parse("1e3") == 1000.0);
    assert_true(near(parse("2E-2"), 0.02));
    assert_true(parse("1.5Ki") == 1536.0);
    assert_true(near(parse("100n"), 100e-9));
    assert_true(parse("0") == 0.0);
    assert_true(parse("+3") == 3.0);
}

static void test_quantity_refused(void **state)
{
    (void)state;
    const char *bad[] = {"",
                         "Gi",
                         "1 Gi",
                         "1GB",
                         "1.2.3",
                         "abc",
                         "1e",
                         "1e+",
                         "1e1000",
                         "--1",
                         "1Gix",
                         "1e9999",
                         "123456789012345678901234567890123456789012345678901234567890123456"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        double v = 42;
        assert_int_equal(pl_quantity_parse(bad[i], &v), -22);
        assert_true(v == 42); /* untouched on error */
    }
    double v = 42;
    assert_int_equal(pl_quantity_parse(NULL, &v), -22);
}

static void test_quantity_json(void **state)
{
    (void)state;
    double v = 0;
    json_t *n = json_integer(134217728);
    assert_int_equal(pl_quantity_json(n, &v), 0);
    assert_true(v == parse("128Mi"));
    json_decref(n);
    json_t *s = json_string("128Mi");
    assert_int_equal(pl_quantity_json(s, &v), 0);
    json_decref(s);
    json_t *t = json_true();
    assert_int_equal(pl_quantity_json(t, &v), -22);
    assert_int_equal(pl_quantity_json(NULL, &v), -22);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quantity_notations),
        cmocka_unit_test(test_quantity_refused),
        cmocka_unit_test(test_quantity_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
