/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of policies/priority_class.c: the `allowed` parameter (a list of
 * non-empty strings, nothing else accepted) and the check with and without it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "policies/priority_class.c"
#include "test/helpers/fixture.h"
#include "test/helpers/policy_fixture.h"

static int parse(const char *yaml, void **ret, struct pl_error *err)
{
    return pl_test_parse_params(&param_set, yaml, ret, err);
}

static void test_params(void **state)
{
    (void)state;
    void *p = NULL;
    struct pl_error err;
    assert_int_equal(parse(NULL, &p, &err), 0);
    assert_int_equal(((const struct params *)p)->allowed.len, 0);
    pl_params_free(&param_set, p);

    p = NULL;
    assert_int_equal(parse("{allowed: [shop-critical, shop-batch], mode: warn}", &p, &err), 0);
    assert_int_equal(((const struct params *)p)->allowed.len, 2);
    pl_params_free(&param_set, p);

    p = NULL;
    assert_int_equal(parse("{allowed: shop-critical}", &p, &err), -EINVAL);
    assert_string_equal(err.path, "allowed");
    assert_int_equal(parse("{allowed: [shop-critical, '']}", &p, &err), -EINVAL);
    assert_int_equal(parse("{allow: [x]}", &p, &err), -EINVAL);
    assert_string_equal(err.path, "allow");
    assert_null(p);
    pl_params_free(&param_set, NULL);
}

static void test_check(void **state)
{
    (void)state;
    char buf[1024];
    const char *unset = "kind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: a}]}\n";
    const char *named = "kind: Pod\nmetadata: {name: p}\n"
                        "spec: {priorityClassName: batch, containers: [{name: a}]}\n";
    const char *number = "kind: Pod\nmetadata: {name: p}\n"
                         "spec: {priorityClassName: 7, containers: [{name: a}]}\n";
    assert_int_equal(pl_test_run_policy(&pl_policy_priority_class, NULL, unset, buf, sizeof(buf)),
                     1);
    assert_non_null(strstr(buf, "spec.priorityClassName: unset"));
    assert_int_equal(pl_test_run_policy(&pl_policy_priority_class, NULL, named, buf, sizeof(buf)),
                     0);
    assert_int_equal(pl_test_run_policy(&pl_policy_priority_class, "{allowed: [critical]}", named,
                                        buf, sizeof(buf)),
                     1);
    assert_non_null(strstr(buf, "\"batch\" is not one of the allowed classes"));
    assert_int_equal(pl_test_run_policy(&pl_policy_priority_class, "{allowed: [critical, batch]}",
                                        named, buf, sizeof(buf)),
                     0);
    /* Not a string: the API server refuses it; here it is no class. */
    assert_int_equal(pl_test_run_policy(&pl_policy_priority_class, NULL, number, buf, sizeof(buf)),
                     1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
