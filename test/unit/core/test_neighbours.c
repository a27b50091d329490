/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/neighbours.c: which kinds a set keeps, lookups by kind and namespace,
 * the autoscaler of a workload, the fewest replicas a workload runs, and that
 * the set holds its own references.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/neighbours.h"
#include "test/helpers/fixture.h"

/* Adds the flow-style YAML object in namespace ns; returns whether it was kept. */
static bool add(struct pl_neighbours *n, const char *yaml, const char *ns)
{
    json_t *o = pl_test_yaml(yaml);
    bool kept = pl_neighbours_add(n, o, ns);
    json_decref(o); /* the set keeps its own reference */
    return kept;
}

static void test_neighbours_kinds_and_lookup(void **state)
{
    (void)state;
    struct pl_neighbours n;
    pl_neighbours_init(&n);
    assert_true(add(&n, "{kind: PodDisruptionBudget, metadata: {name: a}}", "shop"));
    assert_true(add(&n, "{kind: PodDisruptionBudget, metadata: {name: b}}", "other"));
    assert_true(add(&n, "{kind: PodDisruptionBudget, metadata: {name: c}}", "shop"));
    assert_true(add(&n, "{kind: NetworkPolicy, metadata: {name: np}}", "shop"));
    assert_true(add(&n, "{kind: Deployment, metadata: {name: web}}", "shop"));
    assert_false(add(&n, "{kind: ConfigMap, metadata: {name: cm}}", "shop"));
    assert_false(add(&n, "{kind: Pod, metadata: {name: p}}", "shop"));
    assert_false(add(&n, "{metadata: {name: kindless}}", "shop"));
    assert_int_equal(n.len, 5);

    size_t cursor = 0;
    const struct pl_neighbour *it = pl_neighbours_next(&n, "PodDisruptionBudget", "shop", &cursor);
    assert_non_null(it);
    assert_string_equal(it->name, "a");
    it = pl_neighbours_next(&n, "PodDisruptionBudget", "shop", &cursor);
    assert_non_null(it);
    assert_string_equal(it->name, "c"); /* b is in another namespace */
    assert_null(pl_neighbours_next(&n, "PodDisruptionBudget", "shop", &cursor));
    assert_null(pl_neighbours_next(&n, "PodDisruptionBudget", "shop", &cursor)); /* stays at end */
    cursor = 0;
    assert_null(pl_neighbours_next(&n, "NetworkPolicy", "other", &cursor));
    cursor = 0;
    assert_null(pl_neighbours_next(NULL, "NetworkPolicy", "shop", &cursor)); /* no set */
    pl_neighbours_finish(&n);
    pl_neighbours_finish(NULL);
}

static void test_neighbours_autoscaler_and_replicas(void **state)
{
    (void)state;
    struct pl_neighbours n;
    pl_neighbours_init(&n);
    assert_true(add(&n,
                    "{kind: HorizontalPodAutoscaler, metadata: {name: h1}, spec: {scaleTargetRef: "
                    "{kind: Deployment, name: web}, minReplicas: 3, maxReplicas: 9}}",
                    "shop"));
    assert_true(add(&n,
                    "{kind: HorizontalPodAutoscaler, metadata: {name: h2}, spec: {scaleTargetRef: "
                    "{kind: StatefulSet, name: web}, maxReplicas: 4}}",
                    "shop"));
    const json_t *h = pl_neighbours_autoscaler(&n, "shop", "Deployment", "web");
    assert_non_null(h);
    assert_null(pl_neighbours_autoscaler(&n, "other", "Deployment", "web"));
    assert_null(pl_neighbours_autoscaler(&n, "shop", "Deployment", "api"));
    const json_t *h2 = pl_neighbours_autoscaler(&n, "shop", "StatefulSet", "web");
    assert_non_null(h2);

    json_t *set = pl_test_yaml("{kind: Deployment, spec: {replicas: 4}}");
    json_t *unset = pl_test_yaml("{kind: Deployment, spec: {}}");
    bool was_set = false;
    assert_int_equal(pl_workload_min_replicas(set, h, &was_set), 4); /* its own count wins */
    assert_true(was_set);
    assert_int_equal(pl_workload_min_replicas(unset, h, &was_set), 3); /* the HPA's minimum */
    assert_false(was_set);
    assert_int_equal(pl_workload_min_replicas(unset, h2, NULL), 1); /* minReplicas unset: 1 */
    assert_int_equal(pl_workload_min_replicas(unset, NULL, NULL), 1);
    json_decref(set);
    json_decref(unset);
    pl_neighbours_finish(&n);
}

/* A workload's pod labels: the template's, else its selector's matchLabels. */
static void test_workload_pod_labels(void **state)
{
    (void)state;
    json_t *w = pl_test_yaml("{kind: Deployment, spec: {selector: {matchLabels: {app: sel}}, "
                             "template: {metadata: {labels: {app: web, track: stable}}}}}");
    assert_string_equal(json_string_value(json_object_get(pl_workload_pod_labels(w), "track")),
                        "stable");
    json_decref(w);
    w = pl_test_yaml("{kind: Deployment, spec: {selector: {matchLabels: {app: sel}}, "
                     "template: {metadata: {labels: {}}}}}");
    assert_string_equal(json_string_value(json_object_get(pl_workload_pod_labels(w), "app")),
                        "sel");
    json_decref(w);
    w = pl_test_yaml("{kind: CronJob, spec: {jobTemplate: {spec: {template: {metadata: "
                     "{labels: {app: nightly}}}}}}}");
    assert_string_equal(json_string_value(json_object_get(pl_workload_pod_labels(w), "app")),
                        "nightly");
    json_decref(w);
    w = pl_test_yaml("{kind: Deployment, spec: {}}");
    assert_null(pl_workload_pod_labels(w));
    json_decref(w);
}

static void test_neighbours_wanted(void **state)
{
    (void)state;
    assert_true(pl_neighbours_wanted("HorizontalPodAutoscaler"));
    assert_true(pl_neighbours_wanted("StatefulSet"));
    assert_false(pl_neighbours_wanted("DaemonSet"));
    assert_false(pl_neighbours_wanted("poddisruptionbudget")); /* kinds are case-sensitive */
    assert_false(pl_neighbours_wanted(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_neighbours_kinds_and_lookup),
        cmocka_unit_test(test_neighbours_autoscaler_and_replicas),
        cmocka_unit_test(test_workload_pod_labels),
        cmocka_unit_test(test_neighbours_wanted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
