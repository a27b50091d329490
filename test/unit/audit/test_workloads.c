/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of audit/workloads.c: collection paths per API group and
 * namespace, which owners make an object "judged through its owner", that
 * only plimsoll.dev/ string annotations of a Namespace are kept, and that a
 * listed object (no apiVersion, no kind) is judged like the same object in a
 * file: its API path as the file, apiVersion and kind put back, the
 * namespace's annotations applied; and judged with a set of neighbours built
 * from listed objects (budgets, and the budgets themselves judged).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "audit/workloads.c"

static const struct pl_audit_kind *kind(const char *name)
{
    for (size_t i = 0; pl_audit_kinds[i].kind; i++) {
        if (strcmp(pl_audit_kinds[i].kind, name) == 0) {
            return &pl_audit_kinds[i];
        }
    }
    fail_msg("no kind %s", name);
    return &pl_audit_kinds[0];
}

static void test_collection_paths(void **state)
{
    (void)state;
    char p[128];
    assert_int_equal(pl_audit_collection_path(kind("Deployment"), "apps/v1", NULL, p, sizeof(p)),
                     0);
    assert_string_equal(p, "/apis/apps/v1/deployments");
    assert_int_equal(pl_audit_collection_path(kind("Pod"), "v1", "shop", p, sizeof(p)), 0);
    assert_string_equal(p, "/api/v1/namespaces/shop/pods");
    const struct pl_audit_kind *cj = kind("CronJob");
    assert_string_equal(cj->fallback, "batch/v1beta1");
    assert_int_equal(pl_audit_collection_path(cj, cj->fallback, "a", p, sizeof(p)), 0);
    assert_string_equal(p, "/apis/batch/v1beta1/namespaces/a/cronjobs");
    char long_ns[200];
    memset(long_ns, 'a', sizeof(long_ns) - 1);
    long_ns[sizeof(long_ns) - 1] = '\0';
    assert_int_equal(pl_audit_collection_path(cj, "batch/v1", long_ns, p, sizeof(p)), -E2BIG);
}

static json_t *with_owner(const char *api_version, const char *kind_name, bool controller)
{
    return json_pack("{s:{s:s, s:[{s:s, s:s, s:s, s:b}]}}", "metadata", "name", "x",
                     "ownerReferences", "apiVersion", api_version, "kind", kind_name, "name", "o",
                     "controller", controller);
}

static void test_owned(void **state)
{
    (void)state;
    struct {
        const char *api_version, *kind;
        bool controller, owned;
    } cases[] = {
        {"apps/v1", "ReplicaSet", true, true},
        {"apps/v1", "Deployment", true, true},
        {"batch/v1", "Job", true, true},
        {"batch/v1beta1", "CronJob", true, true},
        {"v1", "ReplicationController", true, true},
        {"apps/v1", "ReplicaSet", false, false},          /* not the controller */
        {"argoproj.io/v1alpha1", "Rollout", true, false}, /* nobody else judges it */
        {"example.com/v1", "Deployment", true, false},    /* same kind, other group */
        {"v1", "Pod", true, false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *o = with_owner(cases[i].api_version, cases[i].kind, cases[i].controller);
        assert_int_equal(pl_audit_owned(o), cases[i].owned);
        json_decref(o);
    }
    json_t *none = json_pack("{s:{s:s}}", "metadata", "name", "x");
    assert_false(pl_audit_owned(none));
    json_decref(none);
}

static void test_namespace_annotations(void **state)
{
    (void)state;
    json_t *ns = json_pack("{s:{s:s, s:{s:s, s:s, s:i, s:s}}}", "metadata", "name", "shop",
                           "annotations", "plimsoll.dev/mode", "warn", "example.com/secret", "x",
                           "plimsoll.dev/odd", 3, "plimsoll.dev/resources", "off");
    json_t *a = pl_audit_namespace_annotations(ns);
    assert_int_equal(json_object_size(a), 2);
    assert_string_equal(json_string_value(json_object_get(a, "plimsoll.dev/mode")), "warn");
    assert_null(json_object_get(a, "example.com/secret"));
    json_decref(a);
    json_decref(ns);
    json_t *bare = json_pack("{s:{s:s}}", "metadata", "name", "bare");
    a = pl_audit_namespace_annotations(bare);
    assert_int_equal(json_object_size(a), 0);
    json_decref(a);
    json_decref(bare);
}

static void test_judge_listed_object(void **state)
{
    (void)state;
    /* As a list item arrives: no apiVersion, no kind. */
    json_t *obj = json_loads("{\"metadata\": {\"name\": \"web\", \"namespace\": \"shop\"},"
                             " \"spec\": {\"replicas\": 2, \"template\": {\"spec\": "
                             "{\"containers\": [{\"name\": \"web\", \"image\": \"nginx\"}]}}}}",
                             0, NULL);
    assert_non_null(obj);
    struct pl_config *cfg = pl_config_new_default(NULL);
    struct pl_pool pool;
    pl_pool_init(&pool);
    struct pl_verdict_counts counts = {0};
    struct pl_error err;
    pl_error_init(&err);
    json_t *res = NULL;
    assert_int_equal(pl_audit_judge(cfg, kind("Deployment"), "apps/v1", obj, NULL, NULL, &pool,
                                    &counts, &res, &err),
                     0);
    assert_string_equal(json_string_value(json_object_get(res, "file")),
                        "/apis/apps/v1/namespaces/shop/deployments/web");
    assert_string_equal(json_string_value(json_object_get(res, "kind")), "Deployment");
    assert_string_equal(json_string_value(json_object_get(res, "status")), "rejected");
    assert_int_equal(counts.objects, 1);
    assert_int_equal(counts.rejected, 1);
    json_decref(res);
    pl_pool_clear(&pool);

    /* The namespace's warn mode makes the same object admitted with warnings. */
    json_t *warn = json_pack("{s:s}", "plimsoll.dev/mode", "warn");
    assert_int_equal(pl_audit_judge(cfg, kind("Deployment"), "apps/v1", obj, warn, NULL, &pool,
                                    &counts, &res, &err),
                     0);
    assert_string_equal(json_string_value(json_object_get(res, "status")), "admitted");
    assert_int_equal(counts.warned, 1);
    assert_null(json_object_get(obj, "kind")); /* the listed object is not modified */
    json_decref(res);
    json_decref(warn);
    pl_pool_clear(&pool);

    /* Without a name there is no API path: an error, counts unchanged. */
    json_t *nameless = json_pack("{s:{}}", "metadata");
    assert_int_equal(
        pl_audit_judge(cfg, kind("Pod"), "v1", nameless, NULL, NULL, &pool, &counts, &res, &err),
        -EINVAL);
    assert_int_equal(counts.objects, 2);
    json_decref(nameless);
    json_decref(obj);
    pl_pool_finish(&pool);
    pl_config_unref(cfg);
}

/* Whether result res has a violation of policy. */
static bool found(const json_t *res, const char *policy)
{
    size_t i;
    const json_t *v;
    json_array_foreach(json_object_get(res, "violations"), i, v)
    {
        if (strcmp(json_string_value(json_object_get(v, "policy")), policy) == 0) {
            return true;
        }
    }
    return false;
}

static json_t *judged(struct pl_config *cfg, const char *kind_name, const char *api_version,
                      const json_t *obj, const struct pl_neighbours *set, struct pl_pool *pool)
{
    const struct pl_audit_kind *k = NULL;
    for (size_t i = 0; pl_audit_neighbour_kinds[i].kind; i++) {
        if (strcmp(pl_audit_neighbour_kinds[i].kind, kind_name) == 0) {
            k = &pl_audit_neighbour_kinds[i];
        }
    }
    struct pl_verdict_counts counts = {0};
    struct pl_error err;
    pl_error_init(&err);
    json_t *res = NULL;
    assert_int_equal(pl_audit_judge(cfg, k ? k : kind(kind_name), api_version, obj, NULL, set, pool,
                                    &counts, &res, &err),
                     0);
    pl_pool_clear(pool);
    return res;
}

/*
 * Listed objects (no apiVersion, no kind) put into a set as cmd_audit.c does: a
 * Deployment is warned for a missing budget only when a set is given and has none
 * selecting it; a budget that keeps all of its pods up is warned only with the set.
 */
static void test_judge_with_neighbours(void **state)
{
    (void)state;
    json_t *dep = json_loads(
        "{\"metadata\": {\"name\": \"web\", \"namespace\": \"shop\"}, \"spec\": {\"replicas\": 2,"
        " \"selector\": {\"matchLabels\": {\"app\": \"web\"}}, \"template\": {\"metadata\":"
        " {\"labels\": {\"app\": \"web\"}}, \"spec\": {\"containers\": [{\"name\": \"web\","
        " \"image\": \"nginx:1.25\"}]}}}}",
        0, NULL);
    json_t *pdb = json_loads("{\"metadata\": {\"name\": \"web\", \"namespace\": \"shop\"},"
                             " \"spec\": {\"minAvailable\": 2, \"selector\": {\"matchLabels\":"
                             " {\"app\": \"web\"}}}}",
                             0, NULL);
    assert_non_null(dep);
    assert_non_null(pdb);
    struct pl_config *cfg = pl_config_new_default(NULL);
    struct pl_pool pool;
    pl_pool_init(&pool);
    struct pl_neighbours empty;
    struct pl_neighbours set;
    pl_neighbours_init(&empty);
    pl_neighbours_init(&set);
    const struct pl_audit_kind *pdb_kind = &pl_audit_neighbour_kinds[0];
    assert_string_equal(pdb_kind->kind, "PodDisruptionBudget");
    assert_string_equal(pdb_kind->fallback, "policy/v1beta1");
    json_t *typed_pdb = pl_audit_with_kind(pdb_kind, "policy/v1beta1", pdb);
    json_t *typed_dep = pl_audit_workload_neighbour(kind("Deployment"), "apps/v1", dep);
    assert_null(pl_json_path(typed_dep, "spec.template.spec")); /* no pod spec kept */
    assert_non_null(pl_json_path(typed_dep, "spec.template.metadata.labels.app"));
    assert_true(pl_neighbours_add(&set, typed_pdb, "shop"));
    assert_true(pl_neighbours_add(&set, typed_dep, "shop"));

    json_t *res = judged(cfg, "Deployment", "apps/v1", dep, NULL, &pool);
    assert_false(found(res, "pod-disruption-budget")); /* no set: the policy does not run */
    json_decref(res);
    res = judged(cfg, "Deployment", "apps/v1", dep, &empty, &pool);
    assert_true(found(res, "pod-disruption-budget"));
    json_decref(res);
    res = judged(cfg, "Deployment", "apps/v1", dep, &set, &pool);
    assert_false(found(res, "pod-disruption-budget"));
    json_decref(res);

    res = judged(cfg, "PodDisruptionBudget", "policy/v1beta1", pdb, &set, &pool);
    assert_string_equal(json_string_value(json_object_get(res, "file")),
                        "/apis/policy/v1beta1/namespaces/shop/poddisruptionbudgets/web");
    assert_true(found(res, "pdb-allows-disruption"));
    json_decref(res);
    res = judged(cfg, "PodDisruptionBudget", "policy/v1beta1", pdb, NULL, &pool);
    assert_string_equal(json_string_value(json_object_get(res, "status")), "skipped");
    json_decref(res);

    /* Results sort workloads first, in table order, then budgets, then autoscalers. */
    assert_true(pl_audit_kind_rank("Deployment") < pl_audit_kind_rank("Pod"));
    assert_true(pl_audit_kind_rank("Pod") < pl_audit_kind_rank("PodDisruptionBudget"));
    assert_true(pl_audit_kind_rank("PodDisruptionBudget") <
                pl_audit_kind_rank("HorizontalPodAutoscaler"));
    assert_false(pl_audit_neighbour_judged(&pl_audit_neighbour_kinds[2]));

    json_decref(typed_pdb);
    json_decref(typed_dep);
    json_decref(pdb);
    json_decref(dep);
    pl_neighbours_finish(&set);
    pl_neighbours_finish(&empty);
    pl_pool_finish(&pool);
    pl_config_unref(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_collection_paths),      cmocka_unit_test(test_owned),
        cmocka_unit_test(test_namespace_annotations), cmocka_unit_test(test_judge_listed_object),
        cmocka_unit_test(test_judge_with_neighbours),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
