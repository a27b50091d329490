/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/selector.c: label selectors as the API server reads them (matchLabels,
 * the four operators, ANDed; an empty selector selects all, a missing one
 * none), which spread, the PodDisruptionBudget and NetworkPolicy checks share.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/selector.h"
#include "test/helpers/fixture.h"

/* Whether the flow-style YAML selector selects labels {app: web, track: stable}. */
static bool selects(const char *selector_yaml)
{
    json_t *labels = pl_test_yaml("{app: web, track: stable}");
    json_t *selector = pl_test_yaml(selector_yaml);
    bool r = pl_selector_matches(selector, labels);
    json_decref(selector);
    json_decref(labels);
    return r;
}

static void test_selector(void **state)
{
    (void)state;
    assert_true(selects("{}"));
    assert_false(selects("[]"));
    json_t *labels = pl_test_yaml("{app: web}");
    assert_false(pl_selector_matches(NULL, labels)); /* no labelSelector: no pods */
    json_decref(labels);
    assert_true(selects("{matchLabels: {app: web}}"));
    assert_true(selects("{matchLabels: {app: web, track: stable}}"));
    assert_false(selects("{matchLabels: {app: web, track: canary}}"));
    assert_false(selects("{matchLabels: {tier: front}}"));
    assert_false(selects("{matchLabels: {app: 1}}"));
    assert_true(selects("{matchExpressions: [{key: app, operator: In, values: [api, web]}]}"));
    assert_false(selects("{matchExpressions: [{key: app, operator: In, values: [api]}]}"));
    assert_false(selects("{matchExpressions: [{key: tier, operator: In, values: [web]}]}"));
    assert_true(selects("{matchExpressions: [{key: track, operator: NotIn, values: [canary]}]}"));
    assert_true(selects("{matchExpressions: [{key: tier, operator: NotIn, values: [x]}]}"));
    assert_false(selects("{matchExpressions: [{key: track, operator: NotIn, values: [stable]}]}"));
    assert_true(selects("{matchExpressions: [{key: track, operator: Exists}]}"));
    assert_false(selects("{matchExpressions: [{key: tier, operator: Exists}]}"));
    assert_true(selects("{matchExpressions: [{key: tier, operator: DoesNotExist}]}"));
    assert_false(selects("{matchExpressions: [{key: app, operator: DoesNotExist}]}"));
    assert_false(selects("{matchExpressions: [{key: app, operator: Gt, values: ['1']}]}"));
    assert_false(selects("{matchExpressions: [{operator: Exists}]}"));
    assert_true(selects("{matchExpressions: []}"));
    assert_false(selects("{matchExpressions: [{key: app, operator: In}]}")); /* no values */
    assert_true(selects("{matchExpressions: [{key: app, operator: In, values: [web]}, "
                        "{key: track, operator: Exists}, {key: tier, operator: DoesNotExist}]}"));
    /* matchLabels and matchExpressions are ANDed. */
    assert_false(selects("{matchLabels: {app: web}, matchExpressions: [{key: track, operator: "
                         "In, values: [canary]}]}"));
}

/* A pod without labels: selected only by selectors that ask for no label. */
static void test_selector_no_labels(void **state)
{
    (void)state;
    json_t *sel = pl_test_yaml("{}");
    assert_true(pl_selector_matches(sel, NULL));
    json_decref(sel);
    sel = pl_test_yaml("{matchExpressions: [{key: app, operator: DoesNotExist}]}");
    assert_true(pl_selector_matches(sel, NULL));
    json_decref(sel);
    sel = pl_test_yaml("{matchLabels: {app: web}}");
    assert_false(pl_selector_matches(sel, NULL));
    json_decref(sel);
    sel = pl_test_yaml("{matchExpressions: [{key: app, operator: NotIn, values: [web]}]}");
    assert_true(pl_selector_matches(sel, NULL));
    json_decref(sel);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_selector),
        cmocka_unit_test(test_selector_no_labels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
