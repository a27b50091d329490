/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of engine/mutate.c and of the `mutations` section of
 * engine/config.c: scoping (operations, excluded namespaces, namespace
 * on/off annotations, mutate-templates, terminating objects, Pod UPDATE),
 * the mutations' defaults, configuration errors that name key and line,
 * reinvocation of all mutations together (and pl_mutate_review, the server's
 * way, giving the same patch, its object ending as the patch makes it), and the
 * operation bound.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/mutate.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "core/json.h"
#include "policies/patch.h"
#include "policies/registry.h"
#include "test/helpers/fixture.h"

static struct pl_config *config(const char *yaml)
{
    struct pl_config *cfg = NULL;
    struct pl_error err;
    pl_error_init(&err);
    if (pl_config_parse(yaml, strlen(yaml), "plimsoll", &cfg, &err) < 0) {
        fail_msg("config does not parse: %s (line %d)", err.message, err.line);
    }
    return cfg;
}

#define ALL_ON                                                                                     \
    "mutations:\n"                                                                                 \
    "  mutate-templates: true\n"                                                                   \
    "  inject-commit: {enabled: true}\n"                                                           \
    "  inject-tracing: {enabled: true, endpoint: 'http://otel:4317'}\n"                            \
    "  inject-security-defaults: {enabled: true}\n"

#define POD                                                                                        \
    "{kind: Pod, metadata: {name: web, namespace: shop}, spec: {containers: "                      \
    "[{name: web, image: 'r/web:main-3f2a9c1e5b7d-1700000000'}]}}"

#define DEPLOYMENT                                                                                 \
    "{kind: Deployment, metadata: {name: web, namespace: shop}, spec: {template: {spec: "          \
    "{containers: [{name: web, image: 'r/web:main-3f2a9c1'}]}}}}"

/* Number of operations pl_mutate() returns (-1 on failure). */
static int ops_for(const struct pl_config *cfg, enum pl_operation op, const char *yaml,
                   const json_t *ns_annotations, const char *ns)
{
    json_t *object = pl_test_yaml(yaml);
    struct pl_request req = {
        .operation = op,
        .namespace_ = ns,
        .object = object,
        .ns_annotations = ns_annotations,
    };
    struct pl_pool pool;
    pl_pool_init(&pool);
    json_t *patch = NULL;
    struct pl_error err;
    pl_error_init(&err);
    int n = pl_mutate(cfg, &req, &pool, &patch, &err) < 0 ? -1 : (int)json_array_size(patch);
    json_decref(patch);
    pl_pool_finish(&pool);
    json_decref(object);
    return n;
}

static void test_defaults(void **state)
{
    (void)state;
    struct pl_config *cfg = pl_config_new_default(NULL);
    assert_true(cfg->mutations[pl_mutation_index("inject-commit")].enabled);
    assert_false(cfg->mutations[pl_mutation_index("inject-tracing")].enabled);
    assert_false(cfg->mutations[pl_mutation_index("inject-security-defaults")].enabled);
    assert_false(cfg->mutate_templates);
    /* Pods: inject-commit only (labels map, 2 labels, annotations map, 2 annotations). */
    assert_int_equal(ops_for(cfg, PL_OP_CREATE, POD, NULL, NULL), 6);
    /* Workload templates: not without mutate-templates. */
    assert_int_equal(ops_for(cfg, PL_OP_CREATE, DEPLOYMENT, NULL, NULL), 0);
    pl_config_unref(cfg);
}

static void test_registry(void **state)
{
    (void)state;
    assert_int_equal(pl_mutation_count(), 3);
    for (size_t i = 0; pl_mutations[i]; i++) {
        assert_int_equal(pl_mutation_index(pl_mutations[i]->id), (int)i);
        assert_non_null(pl_mutations[i]->mutate);
        if (i > 0) {
            assert_true(strcmp(pl_mutations[i - 1]->id, pl_mutations[i]->id) < 0);
        }
    }
    assert_int_equal(pl_mutation_index("no-such-mutation"), -1);
    assert_null(pl_mutations[pl_mutation_count()]);
}

static void test_scope(void **state)
{
    (void)state;
    struct pl_config *cfg = config(ALL_ON "exclude-namespaces: [kube-system, platform]\n");
    assert_true(ops_for(cfg, PL_OP_CREATE, POD, NULL, NULL) > 6);
    assert_true(ops_for(cfg, PL_OP_CREATE, DEPLOYMENT, NULL, NULL) > 6);
    assert_int_equal(ops_for(cfg, PL_OP_DELETE, POD, NULL, NULL), 0);
    assert_int_equal(ops_for(cfg, PL_OP_CONNECT, POD, NULL, NULL), 0);
    /* Excluded namespaces, from the object or from the request; the self namespace too. */
    assert_int_equal(ops_for(cfg, PL_OP_CREATE,
                             "{kind: Pod, metadata: {name: a, namespace: platform}, "
                             "spec: {containers: [{name: a, image: 'r/a:3f2a9c1'}]}}",
                             NULL, NULL),
                     0);
    assert_int_equal(ops_for(cfg, PL_OP_CREATE,
                             "{kind: Pod, metadata: {name: a}, "
                             "spec: {containers: [{name: a, image: 'r/a:3f2a9c1'}]}}",
                             NULL, "plimsoll"),
                     0);
    /* Other kinds, and objects without a pod spec. */
    assert_int_equal(
        ops_for(cfg, PL_OP_CREATE, "{kind: Service, metadata: {name: a}, spec: {}}", NULL, "shop"),
        0);
    assert_int_equal(ops_for(cfg, PL_OP_CREATE, "{kind: Pod, metadata: {name: a}}", NULL, "shop"),
                     0);
    /* Terminating objects. */
    assert_int_equal(ops_for(cfg, PL_OP_UPDATE,
                             "{kind: Pod, metadata: {name: a, deletionTimestamp: "
                             "'2024-01-01T00:00:00Z'}, spec: {containers: [{name: a}]}}",
                             NULL, "shop"),
                     0);
    /* Pod UPDATE: metadata only (commit labels and annotations). */
    assert_int_equal(ops_for(cfg, PL_OP_UPDATE, POD, NULL, NULL), 6);
    pl_config_unref(cfg);
}

static void test_namespace_annotations(void **state)
{
    (void)state;
    struct pl_config *cfg = config(ALL_ON);
    json_t *off = json_pack("{s:s, s:s, s:s}", "plimsoll.dev/inject-commit", "off",
                            "plimsoll.dev/inject-tracing", "off",
                            "plimsoll.dev/inject-security-defaults", "off");
    assert_int_equal(ops_for(cfg, PL_OP_CREATE, POD, off, NULL), 0);
    for (size_t i = 0; pl_mutations[i]; i++) {
        assert_false(pl_mutation_enabled(cfg, i, off));
        assert_true(pl_mutation_enabled(cfg, i, NULL));
    }
    json_decref(off);
    pl_config_unref(cfg);

    cfg = pl_config_new_default(NULL);
    json_t *on = json_pack("{s:s, s:s, s:s}", "plimsoll.dev/inject-commit", "bogus",
                           "plimsoll.dev/inject-tracing", "on", "plimsoll.dev/mode", "off");
    /* Unknown values fall back to the configuration; plimsoll.dev/mode is for policies. */
    assert_true(pl_mutation_enabled(cfg, (size_t)pl_mutation_index("inject-commit"), on));
    assert_true(pl_mutation_enabled(cfg, (size_t)pl_mutation_index("inject-tracing"), on));
    assert_false(
        pl_mutation_enabled(cfg, (size_t)pl_mutation_index("inject-security-defaults"), on));
    assert_true(ops_for(cfg, PL_OP_CREATE, POD, on, NULL) > 6);
    json_decref(on);
    pl_config_unref(cfg);
}

/* Applies an RFC 6902 patch of "add" operations the way the builder made them (test helper). */
static json_t *apply(const json_t *object, const json_t *patch)
{
    json_t *doc = json_deep_copy(object);
    size_t i;
    const json_t *op;
    json_array_foreach(patch, i, op)
    {
        assert_string_equal(pl_json_string(op, "op"), "add");
        char path[1024];
        snprintf(path, sizeof(path), "%s", pl_json_string(op, "path"));
        char *last = strrchr(path, '/');
        assert_non_null(last);
        *last++ = '\0';
        json_t *parent = doc;
        for (char *tok = path + 1, *next; *path && tok; tok = next) {
            next = strchr(tok, '/');
            if (next) {
                *next++ = '\0';
            }
            char key[256];
            size_t o = 0;
            for (const char *s = tok; *s && o + 1 < sizeof(key); s++) {
                key[o++] = s[0] == '~' ? (s[1] == '0' ? '~' : '/') : s[0];
                s += s[0] == '~';
            }
            key[o] = '\0';
            parent = json_is_array(parent) ? json_array_get(parent, strtoul(key, NULL, 10))
                                           : json_object_get(parent, key);
            assert_non_null(parent);
        }
        json_t *value = json_deep_copy(json_object_get(op, "value"));
        if (json_is_array(parent)) {
            assert_string_equal(last, "-");
            json_array_append_new(parent, value);
        } else {
            char key[256];
            size_t o = 0;
            for (const char *s = last; *s && o + 1 < sizeof(key); s++) {
                key[o++] = s[0] == '~' ? (s[1] == '0' ? '~' : '/') : s[0];
                s += s[0] == '~';
            }
            key[o] = '\0';
            const json_t *existing = json_object_get(parent, key);
            assert_true(!existing || json_is_null(existing)); /* never replaces */
            json_object_set_new(parent, key, value);
        }
    }
    return doc;
}

static json_t *mutate_once(const struct pl_config *cfg, const json_t *object)
{
    struct pl_request req = {.operation = PL_OP_CREATE, .namespace_ = "shop", .object = object};
    struct pl_pool pool;
    pl_pool_init(&pool);
    json_t *patch = NULL;
    struct pl_error err;
    pl_error_init(&err);
    assert_int_equal(pl_mutate(cfg, &req, &pool, &patch, &err), 0);
    pl_pool_finish(&pool);
    return patch;
}

static void test_reinvocation(void **state)
{
    (void)state;
    static const char *const objects[] = {
        POD,
        DEPLOYMENT,
        "{kind: StatefulSet, metadata: {name: db}, spec: {template: {metadata: {labels: "
        "{app.kubernetes.io/name: db}}, spec: {containers: [{name: db, image: 'r/db:sha-abcdef0', "
        "env: null}]}}}}",
        "{kind: DaemonSet, metadata: {name: agent}, spec: {template: {metadata: null, spec: "
        "{initContainers: [{name: s, image: 'r/s:x-abcdef0', restartPolicy: Always}], "
        "containers: [{name: a, image: 'r/a:1.0'}]}}}}",
        "{kind: ReplicaSet, metadata: {name: rs}, spec: {template: {spec: {containers: "
        "[{name: a, image: 'r/a:v1.2.3-4-gabcdef0'}]}}}}",
        "{kind: ReplicationController, metadata: {name: rc}, spec: {template: {spec: "
        "{containers: [{name: a, image: 'r/a:3f2a9c1'}]}}}}",
        "{kind: Job, metadata: {name: j}, spec: {template: {spec: {restartPolicy: Never, "
        "containers: [{name: a, image: 'r/a:main-3f2a9c1'}]}}}}",
        "{kind: CronJob, metadata: {name: c}, spec: {jobTemplate: {spec: {template: {spec: "
        "{containers: [{name: a, image: 'r/a:main-3f2a9c1'}]}}}}}}",
    };
    struct pl_config *cfg = config(ALL_ON);
    for (size_t i = 0; i < PL_ARRAY_SIZE(objects); i++) {
        json_t *object = pl_test_yaml(objects[i]);
        json_t *patch = mutate_once(cfg, object);
        assert_true(json_array_size(patch) > 0);
        json_t *result = apply(object, patch);
        /* In place (the server's way): the same patch, and the object ends up
         * as the patch makes it. */
        json_t *in_place = json_deep_copy(object);
        struct pl_request req = {
            .operation = PL_OP_CREATE, .namespace_ = "shop", .object = in_place};
        struct pl_pool pool;
        pl_pool_init(&pool);
        struct pl_buf patch_text;
        pl_buf_init(&patch_text, PL_PATCH_MAX_TEXT + 2);
        size_t ops = 0;
        struct pl_error err;
        pl_error_init(&err);
        struct pl_decision decision;
        assert_int_equal(
            pl_mutate_review(cfg, &req, in_place, &pool, &decision, &patch_text, &ops, &err), 0);
        assert_true(decision.allowed);
        assert_null(decision.warnings);
        assert_string_equal(decision.obj.kind_name,
                            json_string_value(json_object_get(object, "kind")));
        pl_pool_finish(&pool);
        json_t *patch2 = pl_json_load(patch_text.data, patch_text.len, NULL, 0);
        assert_non_null(patch2);
        assert_int_equal(ops, json_array_size(patch));
        assert_true(json_equal(patch2, patch));
        assert_true(json_equal(in_place, result));
        pl_buf_finish(&patch_text);
        json_decref(patch2);
        json_decref(in_place);
        json_t *again = mutate_once(cfg, result);
        if (json_array_size(again) != 0) {
            char *text = json_dumps(again, JSON_COMPACT);
            fail_msg("object %zu: second patch %s", i, text);
        }
        json_decref(again);
        json_decref(result);
        json_decref(patch);
        json_decref(object);
    }
    pl_config_unref(cfg);
}

static void test_operation_bound(void **state)
{
    (void)state;
    struct pl_buf b;
    pl_buf_init(&b, 1u << 20);
    assert_int_equal(pl_buf_puts(&b, "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"big\"},"
                                     "\"spec\":{\"containers\":["),
                     0);
    for (int i = 0; i < 400; i++) {
        assert_int_equal(
            pl_buf_printf(&b, "%s{\"name\":\"c%d\",\"image\":\"r/a:1\"}", i ? "," : "", i), 0);
    }
    assert_int_equal(pl_buf_puts(&b, "]}}"), 0);
    struct pl_config *cfg = config(ALL_ON);
    assert_int_equal(ops_for(cfg, PL_OP_CREATE, pl_buf_str(&b), NULL, "shop"), -1);
    json_t *object = pl_test_yaml(pl_buf_str(&b));
    struct pl_request req = {.operation = PL_OP_CREATE, .namespace_ = "shop", .object = object};
    struct pl_pool pool;
    pl_pool_init(&pool);
    json_t *patch = NULL;
    struct pl_error err;
    pl_error_init(&err);
    assert_int_equal(pl_mutate(cfg, &req, &pool, &patch, &err), -E2BIG);
    assert_null(patch);
    assert_non_null(strstr(err.message, "operations"));
    pl_pool_finish(&pool);
    json_decref(object);
    pl_config_unref(cfg);
    pl_buf_finish(&b);
}

static void test_not_an_object(void **state)
{
    (void)state;
    struct pl_config *cfg = pl_config_new_default(NULL);
    json_t *array = json_array();
    struct pl_request req = {.operation = PL_OP_CREATE, .object = array};
    struct pl_pool pool;
    pl_pool_init(&pool);
    json_t *patch = NULL;
    struct pl_error err;
    pl_error_init(&err);
    assert_int_equal(pl_mutate(cfg, &req, &pool, &patch, &err), -EINVAL);
    assert_null(patch);
    pl_pool_finish(&pool);
    json_decref(array);
    pl_config_unref(cfg);
}

static void expect_config_error(const char *yaml, const char *path, int line, const char *text)
{
    struct pl_config *cfg = NULL;
    struct pl_error err;
    pl_error_init(&err);
    assert_int_equal(pl_config_parse(yaml, strlen(yaml), NULL, &cfg, &err), -EINVAL);
    assert_null(cfg);
    if (strcmp(err.path, path) != 0 || err.line != line || !strstr(err.message, text)) {
        fail_msg("got %s (line %d): %s", err.path, err.line, err.message);
    }
}

static void test_config_errors(void **state)
{
    (void)state;
    expect_config_error("mutations:\n  inject-colour: {enabled: true}\n", "mutations.inject-colour",
                        2, "unknown mutation");
    expect_config_error("mutations:\n  inject-commit: {enabled: yes}\n",
                        "mutations.inject-commit.enabled", 2, "true or false");
    expect_config_error("mutations:\n  inject-commit: {mode: off}\n",
                        "mutations.inject-commit.mode", 2, "enabled");
    expect_config_error("mutations:\n  inject-commit: true\n", "mutations.inject-commit", 2,
                        "mapping");
    expect_config_error("mutations:\n  mutate-templates: 'yes'\n", "mutations.mutate-templates", 2,
                        "true or false");
    expect_config_error("mutations:\n"
                        "  inject-commit:\n"
                        "    enabled: true\n"
                        "    tag-patterns:\n"
                        "      - '^(?P<commit>[0-9a-f]{7,40})$'\n"
                        "      - '^(?P<branch>.+'\n",
                        "mutations.inject-commit.tag-patterns[1]", 6, "PCRE2");
    expect_config_error("mutations:\n  inject-security-defaults: {enabled: true, level: x}\n",
                        "mutations.inject-security-defaults.level", 2, "takes only enabled");
    expect_config_error("mutations:\n  inject-tracing:\n    endpoint: otel:4317\n",
                        "mutations.inject-tracing.endpoint", 3, "URL");
    expect_config_error("mutations: [inject-commit]\n", "mutations", 1, "mapping");
}

static void test_config_settings(void **state)
{
    (void)state;
    struct pl_config *cfg = config("mutations:\n"
                                   "  inject-commit: {enabled: false}\n"
                                   "  inject-tracing: {endpoint: 'http://otel:4317'}\n");
    assert_false(cfg->mutations[pl_mutation_index("inject-commit")].enabled);
    /* Parameters without enabled leave the default (off) in place. */
    assert_false(cfg->mutations[pl_mutation_index("inject-tracing")].enabled);
    assert_non_null(cfg->mutations[pl_mutation_index("inject-tracing")].params);
    assert_non_null(cfg->mutations[pl_mutation_index("inject-commit")].params);
    assert_int_equal(ops_for(cfg, PL_OP_CREATE, POD, NULL, NULL), 0);
    pl_config_unref(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_scope),           cmocka_unit_test(test_namespace_annotations),
        cmocka_unit_test(test_reinvocation),    cmocka_unit_test(test_operation_bound),
        cmocka_unit_test(test_not_an_object),   cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_config_settings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
