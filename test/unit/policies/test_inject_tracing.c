/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of policies/inject_tracing.c: parameter checking, the service
 * name's sources (label, owner without the pod-template-hash, workload
 * name, pod name, generateName), escaping of `$` and of resource attribute
 * values, the helper variables defined before OTEL_RESOURCE_ATTRIBUTES, and
 * which containers get the variables.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policies/inject_tracing.c"
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
    struct params *params = p;
    assert_null(params->endpoint_value);
    assert_string_equal(params->propagators_value, "tracecontext,baggage");
    assert_int_equal(params->annotations.len, 0);
    pl_params_free(&param_set, p);

    assert_int_equal(parse("{endpoint: 'http://otel.observability:4317/$x', propagators: [b3], "
                           "annotations: {sidecar.istio.io/trace: 'true', x: ''}}",
                           &p, &err),
                     0);
    params = p;
    assert_string_equal(params->endpoint_value, "http://otel.observability:4317/$$x");
    assert_string_equal(params->propagators_value, "b3");
    assert_int_equal(params->annotations.len, 2);
    assert_string_equal(params->annotations.keys[0], "sidecar.istio.io/trace");
    pl_params_free(&param_set, p);

    assert_int_equal(parse("{propagators: []}", &p, &err), 0);
    assert_null(((struct params *)p)->propagators_value);
    pl_params_free(&param_set, p);

    static const struct {
        const char *yaml;
        const char *path;
    } bad[] = {
        {"{endpoint: otel:4317}", "endpoint"},
        {"{endpoint: 'http://a b'}", "endpoint"},
        {"{endpoint: 4317}", "endpoint"},
        {"{propagators: [Trace-Context]}", "propagators[0]"},
        {"{propagators: tracecontext}", "propagators"},
        {"{annotations: [a]}", "annotations"},
        {"{annotations: {'bad key': x}}", "annotations.bad key"},
        {"{annotations: {'/x': x}}", "annotations./x"},
        {"{annotations: {a: true}}", "annotations.a"},
        {"{service-name: x}", "service-name"},
    };
    for (size_t i = 0; i < PL_ARRAY_SIZE(bad); i++) {
        p = NULL;
        if (parse(bad[i].yaml, &p, &err) != -EINVAL) {
            fail_msg("%s was accepted", bad[i].yaml);
        }
        assert_string_equal(err.path, bad[i].path);
        assert_null(p);
    }
}

/* The service name for a Pod (or workload) given as YAML. */
static const char *name_of(struct pl_pool *pool, const char *yaml)
{
    json_t *object = pl_test_yaml(yaml);
    struct pl_object obj;
    assert_int_equal(pl_object_init(&obj, object, NULL), 0);
    struct pl_mutate_ctx ctx = {.obj = &obj, .pool = pool, .namespace_ = "shop"};
    const char *name = service_name(&ctx);
    const char *copy = name ? pl_pool_strdup(pool, name) : NULL;
    json_decref(object);
    return copy;
}

static void test_service_name(void **state)
{
    (void)state;
    struct pl_pool pool;
    pl_pool_init(&pool);
    assert_string_equal(name_of(&pool, "{kind: Pod, metadata: {name: web-1, labels: "
                                       "{app.kubernetes.io/name: shop}}, spec: {}}"),
                        "shop");
    assert_string_equal(
        name_of(&pool, "{kind: Pod, metadata: {generateName: web-7d4b9c8f5-, labels: "
                       "{pod-template-hash: 7d4b9c8f5}, ownerReferences: [{kind: ReplicaSet, "
                       "name: web-7d4b9c8f5, controller: true}]}, spec: {}}"),
        "web");
    /* A hash that is not the suffix stays. */
    assert_string_equal(name_of(&pool,
                                "{kind: Pod, metadata: {labels: {pod-template-hash: abc}, "
                                "ownerReferences: [{kind: ReplicaSet, name: web-x}]}, spec: {}}"),
                        "web-x");
    assert_string_equal(
        name_of(&pool,
                "{kind: Pod, metadata: {name: db-0, ownerReferences: [{kind: Foo, "
                "name: other}, {kind: StatefulSet, name: db, controller: true}]}, spec: {}}"),
        "db");
    assert_string_equal(name_of(&pool, "{kind: Pod, metadata: {name: solo}, spec: {}}"), "solo");
    assert_string_equal(name_of(&pool, "{kind: Pod, metadata: {generateName: batch-}, spec: {}}"),
                        "batch");
    assert_null(name_of(&pool, "{kind: Pod, metadata: {generateName: '-'}, spec: {}}"));
    assert_null(name_of(&pool, "{kind: Pod, spec: {}}"));
    assert_string_equal(name_of(&pool, "{kind: CronJob, metadata: {name: nightly}, spec: "
                                       "{jobTemplate: {spec: {template: {spec: {}}}}}}"),
                        "nightly");
    assert_string_equal(
        name_of(&pool, "{kind: Deployment, metadata: {name: web}, spec: {template: {metadata: "
                       "{labels: {app.kubernetes.io/name: storefront}}, spec: {}}}}"),
        "storefront");
    pl_pool_finish(&pool);
}

static void test_encoding(void **state)
{
    (void)state;
    char *s = escape_dollars("a$b$$c");
    assert_string_equal(s, "a$$b$$$$c");
    free(s);
    struct pl_buf b;
    pl_buf_init(&b, 64);
    assert_int_equal(append_encoded(&b, "shop-1.a_b~c,d=e f$"), 0);
    assert_string_equal(pl_buf_str(&b), "shop-1.a_b~c%2Cd%3De%20f%24");
    pl_buf_finish(&b);
    struct pl_pool pool;
    pl_pool_init(&pool);
    assert_string_equal(resource_attributes(&pool, "shop", false),
                        "k8s.namespace.name=shop,k8s.pod.name=$(" POD_NAME_VAR ")");
    assert_string_equal(resource_attributes(&pool, "", true),
                        "k8s.pod.name=$(" POD_NAME_VAR "),service.version=$(" VERSION_VAR ")");
    pl_pool_finish(&pool);
}

/* Runs the mutation with params_yaml on yaml; returns the patched object. */
static json_t *run(const char *yaml, const char *params_yaml, bool spec_mutable)
{
    json_t *doc = NULL;
    json_decref(pl_test_run_mutation(&pl_mutation_inject_tracing, params_yaml, yaml, NULL,
                                     spec_mutable, &doc));
    return doc;
}

/* Names of the env vars of spec.<list>[index], comma-separated, into out. */
static const char *env_names(const json_t *doc, const char *list, size_t index, char *out,
                             size_t size)
{
    const json_t *c = json_array_get(pl_json_array(pl_json_object(doc, "spec"), list), index);
    const json_t *env = pl_json_array(c, "env");
    size_t i, o = 0;
    const json_t *e;
    out[0] = '\0';
    json_array_foreach(env, i, e)
    {
        o += (size_t)snprintf(out + o, size - o, "%s%s", i ? "," : "", pl_json_string(e, "name"));
    }
    return out;
}

static void test_containers(void **state)
{
    (void)state;
    char names[512];
    json_t *doc = run("{kind: Pod, metadata: {name: p, annotations: {plimsoll.dev/commit: abc}}, "
                      "spec: {initContainers: [{name: init}, {name: side, restartPolicy: Always, "
                      "env: [{name: OTEL_RESOURCE_ATTRIBUTES, value: mine}]}], "
                      "containers: [{name: app, env: [{name: OTEL_SERVICE_NAME, value: ''}]}], "
                      "ephemeralContainers: [{name: debug}]}}",
                      "{endpoint: 'http://c:4317'}", true);
    assert_string_equal(env_names(doc, "containers", 0, names, sizeof(names)),
                        "OTEL_SERVICE_NAME," POD_NAME_VAR "," VERSION_VAR
                        ",OTEL_RESOURCE_ATTRIBUTES,OTEL_PROPAGATORS,OTEL_EXPORTER_OTLP_ENDPOINT");
    /* The user's empty OTEL_SERVICE_NAME stays. */
    assert_string_equal(
        pl_json_string(
            json_array_get(
                pl_json_array(
                    json_array_get(pl_json_array(pl_json_object(doc, "spec"), "containers"), 0),
                    "env"),
                0),
            "value"),
        "");
    /* A sidecar that sets OTEL_RESOURCE_ATTRIBUTES gets no helper variables. */
    assert_string_equal(env_names(doc, "initContainers", 1, names, sizeof(names)),
                        "OTEL_RESOURCE_ATTRIBUTES,OTEL_SERVICE_NAME,OTEL_PROPAGATORS,"
                        "OTEL_EXPORTER_OTLP_ENDPOINT");
    assert_string_equal(env_names(doc, "initContainers", 0, names, sizeof(names)), "");
    assert_string_equal(env_names(doc, "ephemeralContainers", 0, names, sizeof(names)), "");
    json_decref(doc);

    /* Pod UPDATE: annotations only. */
    doc = run("{kind: Pod, metadata: {name: p}, spec: {containers: [{name: app}]}}",
              "{annotations: {a: b}}", false);
    assert_string_equal(env_names(doc, "containers", 0, names, sizeof(names)), "");
    assert_string_equal(pl_json_string(pl_json_path(doc, "metadata.annotations"), "a"), "b");
    json_decref(doc);

    /* An env that is not a list is left for the API server to refuse. */
    doc = run("{kind: Pod, metadata: {name: p}, spec: {containers: [{name: app, env: {}}]}}", NULL,
              true);
    assert_true(json_is_object(json_object_get(
        json_array_get(pl_json_array(pl_json_object(doc, "spec"), "containers"), 0), "env")));
    json_decref(doc);
}

static void test_dollar_in_service_name(void **state)
{
    (void)state;
    json_t *doc = run("{kind: Pod, metadata: {name: p, labels: {app.kubernetes.io/name: 'a$(B)'}},"
                      " spec: {containers: [{name: app}]}}",
                      "{propagators: []}", true);
    const json_t *env = pl_json_array(
        json_array_get(pl_json_array(pl_json_object(doc, "spec"), "containers"), 0), "env");
    assert_string_equal(pl_json_string(json_array_get(env, 0), "value"), "a$$(B)");
    /* No commit: no version variable; no propagators, no endpoint configured. */
    assert_int_equal(json_array_size(env), 3);
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_service_name),
        cmocka_unit_test(test_encoding),
        cmocka_unit_test(test_containers),
        cmocka_unit_test(test_dollar_in_service_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
