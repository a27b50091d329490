/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of core/object.c: the eight supported kinds and their pod
 * template paths, unknown and missing kinds, names and namespaces, the
 * long-running rule of SPEC §4 (restartPolicy Never/OnFailure, Pods owned
 * by a Job, Jobs and CronJobs), native sidecar detection, and container
 * iteration: list order, set filtering, non-object entries skipped with
 * their index kept.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/json.h"
#include "core/object.h"
#include "test/helpers/fixture.h"

struct kind_case {
    const char *yaml;
    enum pl_kind kind;
    const char *kind_name;
    const char *meta_path;
    const char *spec_path;
    bool long_running;
};

static const struct kind_case kind_cases[] = {
    {"kind: Pod\nmetadata: {name: p, namespace: ns, labels: {a: b}}\nspec: {containers: []}\n",
     PL_KIND_POD, "Pod", "metadata", "spec", true},
    {"kind: Deployment\nmetadata: {name: p, namespace: ns}\n"
     "spec: {template: {metadata: {labels: {a: b}}, spec: {containers: []}}}\n",
     PL_KIND_DEPLOYMENT, "Deployment", "spec.template.metadata", "spec.template.spec", true},
    {"kind: StatefulSet\nmetadata: {name: p, namespace: ns}\n"
     "spec: {template: {metadata: {labels: {a: b}}, spec: {containers: []}}}\n",
     PL_KIND_STATEFULSET, "StatefulSet", "spec.template.metadata", "spec.template.spec", true},
    {"kind: DaemonSet\nmetadata: {name: p, namespace: ns}\n"
     "spec: {template: {metadata: {labels: {a: b}}, spec: {containers: []}}}\n",
     PL_KIND_DAEMONSET, "DaemonSet", "spec.template.metadata", "spec.template.spec", true},
    {"kind: ReplicaSet\nmetadata: {name: p, namespace: ns}\n"
     "spec: {template: {metadata: {labels: {a: b}}, spec: {containers: []}}}\n",
     PL_KIND_REPLICASET, "ReplicaSet", "spec.template.metadata", "spec.template.spec", true},
    {"kind: ReplicationController\nmetadata: {name: p, namespace: ns}\n"
     "spec: {template: {metadata: {labels: {a: b}}, spec: {containers: []}}}\n",
     PL_KIND_REPLICATIONCONTROLLER, "ReplicationController", "spec.template.metadata",
     "spec.template.spec", true},
    {"kind: Job\nmetadata: {name: p, namespace: ns}\n"
     "spec: {template: {metadata: {labels: {a: b}}, spec: {restartPolicy: Always, containers: "
     "[]}}}\n",
     PL_KIND_JOB, "Job", "spec.template.metadata", "spec.template.spec", false},
    {"kind: CronJob\nmetadata: {name: p, namespace: ns}\n"
     "spec: {jobTemplate: {spec: {template: {metadata: {labels: {a: b}}, spec: {containers: "
     "[]}}}}}\n",
     PL_KIND_CRONJOB, "CronJob", "spec.jobTemplate.spec.template.metadata",
     "spec.jobTemplate.spec.template.spec", false},
};

static void test_kind_from_name(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(kind_cases) / sizeof(kind_cases[0]); i++) {
        assert_int_equal(pl_kind_from_name(kind_cases[i].kind_name), kind_cases[i].kind);
    }
    assert_int_equal(pl_kind_from_name("Service"), PL_KIND_OTHER);
    assert_int_equal(pl_kind_from_name("pod"), PL_KIND_OTHER); /* case matters */
    assert_int_equal(pl_kind_from_name("Deployments"), PL_KIND_OTHER);
    assert_int_equal(pl_kind_from_name(""), PL_KIND_OTHER);
    assert_int_equal(pl_kind_from_name(NULL), PL_KIND_OTHER);
}

static void test_every_kind(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(kind_cases) / sizeof(kind_cases[0]); i++) {
        const struct kind_case *k = &kind_cases[i];
        json_t *doc = pl_test_yaml(k->yaml);
        struct pl_object obj;
        struct pl_error err;
        pl_error_init(&err);
        assert_int_equal(pl_object_init(&obj, doc, &err), 0);
        assert_ptr_equal(obj.root, doc);
        assert_int_equal(obj.kind, k->kind);
        assert_string_equal(obj.kind_name, k->kind_name);
        assert_string_equal(obj.name, "p");
        assert_string_equal(obj.namespace_, "ns");
        assert_string_equal(obj.pod_meta_path, k->meta_path);
        assert_string_equal(obj.pod_spec_path, k->spec_path);
        assert_ptr_equal(obj.pod_spec, pl_json_path(doc, k->spec_path));
        assert_ptr_equal(obj.pod_meta, pl_json_path(doc, k->meta_path));
        assert_non_null(pl_json_object(obj.pod_meta, "labels"));
        assert_non_null(pl_json_array(obj.pod_spec, "containers"));
        if (obj.long_running != k->long_running) {
            fail_msg("%s: long_running should be %d", k->kind_name, k->long_running);
        }
        json_decref(doc);
    }
}

static void test_unknown_and_missing_kind(void **state)
{
    (void)state;
    struct pl_object obj;
    struct pl_error err;
    pl_error_init(&err);
    json_t *doc = pl_test_yaml("kind: Service\nmetadata: {name: svc, namespace: ns}\n"
                               "spec: {template: {spec: {containers: []}}}\n");
    assert_int_equal(pl_object_init(&obj, doc, &err), 0);
    assert_int_equal(obj.kind, PL_KIND_OTHER);
    assert_string_equal(obj.kind_name, "Service");
    assert_string_equal(obj.name, "svc");
    assert_string_equal(obj.namespace_, "ns");
    assert_null(obj.pod_spec);
    assert_null(obj.pod_meta);
    assert_null(obj.pod_spec_path);
    assert_null(obj.pod_meta_path);
    assert_false(obj.long_running);
    json_decref(doc);

    doc = pl_test_yaml("metadata: {name: x}\nspec: {containers: []}\n");
    assert_int_equal(pl_object_init(&obj, doc, &err), 0);
    assert_int_equal(obj.kind, PL_KIND_OTHER);
    assert_string_equal(obj.kind_name, "");
    assert_null(obj.pod_spec);
    json_decref(doc);

    doc = pl_test_yaml("kind: 7\n");
    assert_int_equal(pl_object_init(&obj, doc, &err), 0);
    assert_int_equal(obj.kind, PL_KIND_OTHER);
    assert_string_equal(obj.kind_name, "");
    assert_string_equal(obj.name, "");
    assert_string_equal(obj.namespace_, "");
    json_decref(doc);
}

static void test_not_an_object(void **state)
{
    (void)state;
    struct pl_object obj;
    struct pl_error err;
    pl_error_init(&err);
    json_t *arr = json_array();
    assert_int_equal(pl_object_init(&obj, arr, &err), -EINVAL);
    assert_string_equal(err.message, "the object is not a JSON object");
    assert_null(obj.root);
    assert_null(obj.pod_spec);
    json_decref(arr);
    assert_int_equal(pl_object_init(&obj, NULL, &err), -EINVAL);
    assert_int_equal(pl_object_init(&obj, NULL, NULL), -EINVAL);
}

static void test_names(void **state)
{
    (void)state;
    struct pl_object obj;
    struct pl_error err;
    pl_error_init(&err);
    json_t *doc = pl_test_yaml("kind: Pod\nmetadata: {generateName: web-}\nspec: {}\n");
    assert_int_equal(pl_object_init(&obj, doc, &err), 0);
    assert_string_equal(obj.name, "web-");
    assert_string_equal(obj.namespace_, "");
    json_decref(doc);
    /* An empty name falls back to generateName too. */
    doc = pl_test_yaml("kind: Pod\nmetadata: {name: '', generateName: gen-}\nspec: {}\n");
    assert_int_equal(pl_object_init(&obj, doc, &err), 0);
    assert_string_equal(obj.name, "gen-");
    json_decref(doc);
    doc = pl_test_yaml("kind: Pod\nmetadata: {name: 5, namespace: [x]}\nspec: {}\n");
    assert_int_equal(pl_object_init(&obj, doc, &err), 0);
    assert_string_equal(obj.name, "");
    assert_string_equal(obj.namespace_, "");
    json_decref(doc);
    doc = pl_test_yaml("kind: Pod\nmetadata: not-a-mapping\nspec: {}\n");
    assert_int_equal(pl_object_init(&obj, doc, &err), 0);
    assert_string_equal(obj.name, "");
    assert_null(obj.pod_meta);
    assert_non_null(obj.pod_spec);
    json_decref(doc);
}

static void test_template_not_an_object(void **state)
{
    (void)state;
    struct pl_object obj;
    struct pl_error err;
    pl_error_init(&err);
    const char *docs[] = {
        "kind: Deployment\nmetadata: {name: d}\nspec: {template: {spec: nope}}\n",
        "kind: Deployment\nmetadata: {name: d}\nspec: {template: [1]}\n",
        "kind: Deployment\nmetadata: {name: d}\n",
        "kind: CronJob\nmetadata: {name: c}\nspec: {jobTemplate: {spec: {template: 3}}}\n",
        "kind: Pod\nspec: [containers]\n",
    };
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        json_t *doc = pl_test_yaml(docs[i]);
        assert_int_equal(pl_object_init(&obj, doc, &err), 0);
        assert_true(obj.kind != PL_KIND_OTHER);
        assert_null(obj.pod_spec);
        assert_null(obj.pod_meta);
        assert_non_null(obj.pod_spec_path); /* known kind: the paths are still set */
        json_decref(doc);
    }
}

static bool pod_long_running_for(const char *yaml)
{
    json_t *doc = pl_test_yaml(yaml);
    struct pl_object obj;
    struct pl_error err;
    pl_error_init(&err);
    assert_int_equal(pl_object_init(&obj, doc, &err), 0);
    bool lr = obj.long_running;
    json_decref(doc);
    return lr;
}

static void test_pod_long_running(void **state)
{
    (void)state;
    assert_true(pod_long_running_for("kind: Pod\nspec: {containers: []}\n"));
    assert_true(pod_long_running_for("kind: Pod\nspec: {restartPolicy: Always}\n"));
    assert_false(pod_long_running_for("kind: Pod\nspec: {restartPolicy: Never}\n"));
    assert_false(pod_long_running_for("kind: Pod\nspec: {restartPolicy: OnFailure}\n"));
    /* Unknown or mistyped values do not make a Pod a batch Pod. */
    assert_true(pod_long_running_for("kind: Pod\nspec: {restartPolicy: never}\n"));
    assert_true(pod_long_running_for("kind: Pod\nspec: {restartPolicy: [Never]}\n"));
    /* A Pod owned by a Job runs to completion. */
    assert_false(
        pod_long_running_for("kind: Pod\nmetadata:\n  ownerReferences:\n"
                             "    - {apiVersion: apps/v1, kind: ReplicaSet, name: rs}\n"
                             "    - {apiVersion: batch/v1, kind: Job, name: j}\nspec: {}\n"));
    assert_true(pod_long_running_for(
        "kind: Pod\nmetadata:\n  ownerReferences:\n"
        "    - {apiVersion: apps/v1, kind: ReplicaSet, name: rs}\nspec: {}\n"));
    /* Malformed owner references are ignored, not trusted. */
    assert_true(pod_long_running_for(
        "kind: Pod\nmetadata:\n  ownerReferences: [Job, 3, {kind: 5}, {name: Job}]\nspec: {}\n"));
    assert_true(
        pod_long_running_for("kind: Pod\nmetadata:\n  ownerReferences: {kind: Job}\nspec: {}\n"));
    /* A Pod without a spec: nothing says it is batch. */
    assert_true(pod_long_running_for("kind: Pod\nmetadata: {name: p}\n"));
}

static void test_workload_long_running(void **state)
{
    (void)state;
    /* The template's restartPolicy does not change a workload's nature. */
    assert_true(pod_long_running_for(
        "kind: Deployment\nspec: {template: {spec: {restartPolicy: Never}}}\n"));
    assert_false(
        pod_long_running_for("kind: Job\nspec: {template: {spec: {restartPolicy: Always}}}\n"));
    assert_false(pod_long_running_for("kind: CronJob\nspec: {}\n"));
    /* ownerReferences on a workload are not the Pod rule. */
    assert_true(
        pod_long_running_for("kind: ReplicaSet\nmetadata: {ownerReferences: [{kind: Job}]}\n"
                             "spec: {template: {spec: {}}}\n"));
}

static void test_sidecar_detection(void **state)
{
    (void)state;
    json_t *doc = pl_test_yaml("a: {restartPolicy: Always}\n"
                               "b: {restartPolicy: always}\n"
                               "c: {restartPolicy: OnFailure}\n"
                               "d: {name: x}\n"
                               "e: {restartPolicy: true}\n");
    assert_true(pl_container_is_sidecar(json_object_get(doc, "a")));
    assert_false(pl_container_is_sidecar(json_object_get(doc, "b")));
    assert_false(pl_container_is_sidecar(json_object_get(doc, "c")));
    assert_false(pl_container_is_sidecar(json_object_get(doc, "d")));
    assert_false(pl_container_is_sidecar(json_object_get(doc, "e")));
    assert_false(pl_container_is_sidecar(NULL));
    json_decref(doc);
}

static const char pod_spec_yaml[] = "containers:\n"
                                    "  - name: web\n"
                                    "  - not-an-object\n"
                                    "  - {image: nameless}\n"
                                    "initContainers:\n"
                                    "  - name: migrate\n"
                                    "  - {name: proxy, restartPolicy: Always}\n"
                                    "  - null\n"
                                    "  - {name: setup, restartPolicy: Never}\n"
                                    "  - {name: log, restartPolicy: Always}\n"
                                    "ephemeralContainers:\n"
                                    "  - name: debug\n"
                                    "  - 42\n";

/* Iterates spec over sets into "list[index]=name(set)" items joined by spaces. */
static void iterate(const json_t *spec, unsigned sets, char *out, size_t size)
{
    struct pl_container_iter it;
    struct pl_container c;
    size_t len = 0;
    out[0] = '\0';
    pl_container_iter_init(&it, spec, sets);
    while (pl_container_iter_next(&it, &c)) {
        const char *set = c.set == PL_CTR_REGULAR     ? "R"
                          : c.set == PL_CTR_INIT      ? "I"
                          : c.set == PL_CTR_SIDECAR   ? "S"
                          : c.set == PL_CTR_EPHEMERAL ? "E"
                                                      : "?";
        assert_ptr_equal(c.json, json_array_get(json_object_get(spec, c.list), c.index));
        int n = snprintf(out + len, size - len, "%s%s[%zu]=%s(%s)", len ? " " : "", c.list, c.index,
                         c.name, set);
        assert_true(n > 0 && (size_t)n < size - len);
        len += (size_t)n;
    }
    /* Past the end it stays at the end. */
    assert_false(pl_container_iter_next(&it, &c));
}

static void test_iteration_order_and_sets(void **state)
{
    (void)state;
    json_t *spec = pl_test_yaml(pod_spec_yaml);
    char out[1024];
    iterate(spec, PL_CTR_ALL, out, sizeof(out));
    assert_string_equal(out, "containers[0]=web(R) containers[2]=(R) initContainers[0]=migrate(I) "
                             "initContainers[1]=proxy(S) initContainers[3]=setup(I) "
                             "initContainers[4]=log(S) ephemeralContainers[0]=debug(E)");
    iterate(spec, PL_CTR_LONG_RUNNING, out, sizeof(out));
    assert_string_equal(out, "containers[0]=web(R) containers[2]=(R) initContainers[1]=proxy(S) "
                             "initContainers[4]=log(S)");
    iterate(spec, PL_CTR_REGULAR, out, sizeof(out));
    assert_string_equal(out, "containers[0]=web(R) containers[2]=(R)");
    iterate(spec, PL_CTR_INIT, out, sizeof(out));
    assert_string_equal(out, "initContainers[0]=migrate(I) initContainers[3]=setup(I)");
    iterate(spec, PL_CTR_SIDECAR, out, sizeof(out));
    assert_string_equal(out, "initContainers[1]=proxy(S) initContainers[4]=log(S)");
    iterate(spec, PL_CTR_EPHEMERAL, out, sizeof(out));
    assert_string_equal(out, "ephemeralContainers[0]=debug(E)");
    iterate(spec, 0, out, sizeof(out));
    assert_string_equal(out, "");
    json_decref(spec);
}

static void test_iteration_of_odd_specs(void **state)
{
    (void)state;
    char out[256];
    iterate(NULL, PL_CTR_ALL, out, sizeof(out));
    assert_string_equal(out, "");
    json_t *spec = pl_test_yaml("containers: {name: web}\ninitContainers: x\n"
                                "ephemeralContainers: [{name: e}]\n");
    iterate(spec, PL_CTR_ALL, out, sizeof(out));
    assert_string_equal(out, "ephemeralContainers[0]=e(E)");
    json_decref(spec);
    spec = pl_test_yaml("containers: []\ninitContainers: []\n");
    iterate(spec, PL_CTR_ALL, out, sizeof(out));
    assert_string_equal(out, "");
    json_decref(spec);
    spec = pl_test_yaml("containers: [{name: 5}, {name: ''}]\n");
    iterate(spec, PL_CTR_ALL, out, sizeof(out));
    assert_string_equal(out, "containers[0]=(R) containers[1]=(R)");
    json_decref(spec);
}

/* A controlling owner is an ownerReference with controller: true; any other is not one;
 * and pl_json_array_has_string, which reads such lists, takes only strings. */
static void test_controller_owner(void **state)
{
    (void)state;
    const char *const yes[] = {
        "{kind: Pod, metadata: {ownerReferences: [{kind: ReplicaSet, controller: true}]}}",
        "{kind: ReplicaSet, metadata: {ownerReferences: [{kind: X}, {kind: Deployment, "
        "controller: true}]}}",
    };
    const char *const no[] = {
        "{kind: Pod, metadata: {ownerReferences: [{kind: ReplicaSet}]}}",
        "{kind: Pod, metadata: {ownerReferences: [{kind: ReplicaSet, controller: false}]}}",
        "{kind: Pod, metadata: {ownerReferences: [{kind: ReplicaSet, controller: 'true'}]}}",
        "{kind: Pod, metadata: {ownerReferences: {controller: true}}}",
        "{kind: Pod, metadata: {}}",
    };
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]) + sizeof(no) / sizeof(no[0]); i++) {
        bool want = i < sizeof(yes) / sizeof(yes[0]);
        json_t *doc = pl_test_yaml(want ? yes[i] : no[i - sizeof(yes) / sizeof(yes[0])]);
        struct pl_object obj;
        struct pl_error err;
        assert_int_equal(pl_object_init(&obj, doc, &err), 0);
        assert_int_equal(pl_object_has_controller(&obj), want);
        json_decref(doc);
    }
    json_t *list = pl_test_yaml("[a, 1, b]");
    assert_true(pl_json_array_has_string(list, "b"));
    assert_false(pl_json_array_has_string(list, "1"));
    assert_false(pl_json_array_has_string(list, "c"));
    json_decref(list);
    assert_false(pl_json_array_has_string(NULL, "a"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kind_from_name),
        cmocka_unit_test(test_every_kind),
        cmocka_unit_test(test_unknown_and_missing_kind),
        cmocka_unit_test(test_not_an_object),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_template_not_an_object),
        cmocka_unit_test(test_pod_long_running),
        cmocka_unit_test(test_workload_long_running),
        cmocka_unit_test(test_sidecar_detection),
        cmocka_unit_test(test_iteration_order_and_sets),
        cmocka_unit_test(test_iteration_of_odd_specs),
        cmocka_unit_test(test_controller_owner),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
