/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of policies/spread.c: label selectors as Kubernetes reads them
 * (matchLabels, the four operators, empty selects all, missing selects
 * none), the terms that count (topology key, own labels, namespaces), and
 * which objects are judged (kinds, owned ReplicaSets, replicas).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "policies/spread.c"
#include "test/helpers/fixture.h"
#include "test/helpers/policy_fixture.h"

/* Whether the flow-style YAML selector selects labels {app: web, track: stable}. */
static bool selects(const char *selector_yaml)
{
    json_t *labels = pl_test_yaml("{app: web, track: stable}");
    json_t *selector = pl_test_yaml(selector_yaml);
    bool r = selector_selects(selector, labels);
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
    assert_false(selector_selects(NULL, labels)); /* no labelSelector: no pods */
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
    /* matchLabels and matchExpressions are ANDed. */
    assert_false(selects("{matchLabels: {app: web}, matchExpressions: [{key: track, operator: "
                         "In, values: [canary]}]}"));
}

/* judge_spec on a flow-style YAML pod spec, pod labels {app: web}, namespace ns. */
static enum miss judge(const char *spec_yaml, const char *ns)
{
    json_t *labels = pl_test_yaml("{app: web}");
    json_t *spec = pl_test_yaml(spec_yaml);
    enum miss m = judge_spec(spec, labels, ns);
    json_decref(spec);
    json_decref(labels);
    return m;
}

static void test_terms(void **state)
{
    (void)state;
    assert_int_equal(judge("{}", "shop"), MISS_NONE);
    assert_int_equal(judge("{topologySpreadConstraints: []}", "shop"), MISS_NONE);
    assert_int_equal(judge("{topologySpreadConstraints: [{topologyKey: kubernetes.io/hostname, "
                           "labelSelector: {matchLabels: {app: web}}}]}",
                           "shop"),
                     MISS_OK);
    assert_int_equal(judge("{topologySpreadConstraints: [{topologyKey: rack, "
                           "labelSelector: {matchLabels: {app: web}}}]}",
                           "shop"),
                     MISS_KEY);
    assert_int_equal(judge("{topologySpreadConstraints: [{topologyKey: "
                           "topology.kubernetes.io/zone}]}",
                           "shop"),
                     MISS_SELECTOR);
    /* The nearest miss wins, and one good term is enough. */
    assert_int_equal(judge("{topologySpreadConstraints: [{topologyKey: rack}, {topologyKey: "
                           "kubernetes.io/hostname, labelSelector: {matchLabels: {app: x}}}]}",
                           "shop"),
                     MISS_SELECTOR);
    assert_int_equal(judge("{topologySpreadConstraints: [{topologyKey: rack}], affinity: "
                           "{podAntiAffinity: {preferredDuringSchedulingIgnoredDuringExecution: "
                           "[{weight: 1, podAffinityTerm: {topologyKey: "
                           "failure-domain.beta.kubernetes.io/zone, labelSelector: {}}}]}}}",
                           "shop"),
                     MISS_OK);
    /* Namespaces: must include the object's, unless unknown or a namespaceSelector widens it. */
    const char *other = "{affinity: {podAntiAffinity: {requiredDuringSchedulingIgnoredDuring"
                        "Execution: [{topologyKey: kubernetes.io/hostname, namespaces: [bar], "
                        "labelSelector: {matchLabels: {app: web}}}]}}}";
    assert_int_equal(judge(other, "foo"), MISS_NAMESPACE);
    assert_int_equal(judge(other, ""), MISS_OK);
    assert_int_equal(judge("{affinity: {podAntiAffinity: {requiredDuringSchedulingIgnoredDuring"
                           "Execution: [{topologyKey: kubernetes.io/hostname, namespaces: [bar, "
                           "foo], labelSelector: {matchLabels: {app: web}}}]}}}",
                           "foo"),
                     MISS_OK);
    assert_int_equal(judge("{affinity: {podAntiAffinity: {requiredDuringSchedulingIgnoredDuring"
                           "Execution: [{topologyKey: kubernetes.io/hostname, namespaces: [bar], "
                           "namespaceSelector: {}, labelSelector: {matchLabels: {app: web}}}]}}}",
                           "foo"),
                     MISS_OK);
    /* Malformed shapes are no terms, never a crash. */
    assert_int_equal(judge("{topologySpreadConstraints: 3, affinity: {podAntiAffinity: "
                           "{preferredDuringSchedulingIgnoredDuringExecution: [1, {weight: 1}]}}}",
                           "shop"),
                     MISS_KEY);
}

static void test_objects(void **state)
{
    (void)state;
    char buf[1024];
    const char *tmpl = "  template:\n"
                       "    metadata: {labels: {app: web}}\n"
                       "    spec: {containers: [{name: web, image: web:1}]}\n";
    char yaml[1024];
    static const struct {
        const char *head;
        size_t violations;
    } cases[] = {
        {"kind: Deployment\nmetadata: {name: w}\nspec:\n  replicas: 2\n", 1},
        {"kind: Deployment\nmetadata: {name: w}\nspec:\n  replicas: 1\n", 0},
        {"kind: Deployment\nmetadata: {name: w}\nspec:\n  replicas: '3'\n", 0},
        {"kind: Deployment\nmetadata: {name: w}\nspec:\n", 0},
        {"kind: StatefulSet\nmetadata: {name: w}\nspec:\n  replicas: 3\n", 1},
        {"kind: ReplicaSet\nmetadata: {name: w}\nspec:\n  replicas: 3\n", 1},
        {"kind: ReplicationController\nmetadata: {name: w}\nspec:\n  replicas: 3\n", 1},
        {"kind: ReplicaSet\nmetadata: {name: w, ownerReferences: [{kind: Deployment, name: w, "
         "controller: true}]}\nspec:\n  replicas: 3\n",
         0},
        {"kind: ReplicaSet\nmetadata: {name: w, ownerReferences: [{kind: Deployment, name: w}]}\n"
         "spec:\n  replicas: 3\n",
         1},
        {"kind: DaemonSet\nmetadata: {name: w}\nspec:\n  replicas: 3\n", 0},
        {"kind: Job\nmetadata: {name: w}\nspec:\n  parallelism: 3\n", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int n = snprintf(yaml, sizeof(yaml), "%s%s", cases[i].head, tmpl);
        assert_true(n > 0 && (size_t)n < sizeof(yaml));
        size_t got = pl_test_run_policy(&pl_policy_spread, NULL, yaml, buf, sizeof(buf));
        if (got != cases[i].violations) {
            fail_msg("case %zu: %zu violations (%s)", i, got, buf);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_selector),
        cmocka_unit_test(test_terms),
        cmocka_unit_test(test_objects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
