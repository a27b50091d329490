/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of policies/patch.c: JSON Pointer building and RFC 6901
 * escaping, creation of missing maps and arrays before adding into them,
 * never replacing a present value, null counting as absent, the bound on
 * the number of operations (all or nothing), and independence of recorded
 * operations from later changes to the working copy.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policies/patch.c"

#include "core/json.h"
#include "test/helpers/fixture.h"

/* Compares v with the JSON text expected. */
static void assert_json(const json_t *v, const char *expected)
{
    json_error_t jerr;
    json_t *e = json_loads(expected, JSON_DECODE_ANY, &jerr);
    if (!e) {
        fail_msg("bad expected JSON %s: %s", expected, jerr.text);
    }
    if (!json_equal(v, e)) {
        char *got = json_dumps(v, JSON_COMPACT);
        fail_msg("got %s\nexpected %s", got, expected);
    }
    json_decref(e);
}

/* The operations recorded so far, as a JSON array (new reference), read from
 * the builder's text without taking it. */
static json_t *ops_of(const struct pl_patch *p)
{
    char *text = malloc(p->ops.len + 3);
    assert_non_null(text);
    text[0] = '[';
    memcpy(text + 1, p->ops.len ? p->ops.data : "", p->ops.len);
    memcpy(text + 1 + p->ops.len, "]", 2);
    json_error_t jerr;
    json_t *ops = json_loads(text, 0, &jerr);
    if (!ops) {
        fail_msg("the operations are not JSON (%s): %s", jerr.text, text);
    }
    free(text);
    return ops;
}

/* assert_json() of the operations (index < 0: all of them, else that one). */
static void assert_ops(const struct pl_patch *p, int index, const char *expected)
{
    json_t *ops = ops_of(p);
    assert_json(index < 0 ? ops : json_array_get(ops, (size_t)index), expected);
    json_decref(ops);
}

static void pointer_of(struct pl_pointer *ptr, const char *dotted, const char *const *keys)
{
    pl_pointer_init(ptr, dotted);
    for (size_t i = 0; keys && keys[i]; i++) {
        pl_pointer_push(ptr, keys[i]);
    }
}

static void test_escape(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(pl_pointer_escape("plimsoll.dev/commit", out, sizeof(out)), 0);
    assert_string_equal(out, "plimsoll.dev~1commit");
    assert_int_equal(pl_pointer_escape("a~b/c", out, sizeof(out)), 0);
    assert_string_equal(out, "a~0b~1c");
    assert_int_equal(pl_pointer_escape("~1", out, sizeof(out)), 0);
    assert_string_equal(out, "~01");
    assert_int_equal(pl_pointer_escape("", out, sizeof(out)), 0);
    assert_string_equal(out, "");
    assert_int_equal(pl_pointer_escape("abcd", out, 4), -E2BIG);
    assert_int_equal(pl_pointer_escape("a/", out, 3), -E2BIG);
    assert_int_equal(pl_pointer_escape("ab", out, 3), 0);
}

static void test_pointer_build(void **state)
{
    (void)state;
    struct pl_pointer ptr;
    pl_pointer_init(&ptr, "spec.jobTemplate.spec.template.metadata");
    pl_pointer_push(&ptr, "labels");
    pl_pointer_push(&ptr, "plimsoll.dev/commit");
    assert_string_equal(pl_pointer_str(&ptr), "/spec/jobTemplate/spec/template/metadata/labels/"
                                              "plimsoll.dev~1commit");
    pl_pointer_init(&ptr, "spec");
    pl_pointer_push(&ptr, "containers");
    pl_pointer_push_index(&ptr, 12);
    pl_pointer_push(&ptr, "env");
    pl_pointer_push(&ptr, "-");
    assert_string_equal(pl_pointer_str(&ptr), "/spec/containers/12/env/-");
    pl_pointer_init(&ptr, NULL);
    assert_string_equal(pl_pointer_str(&ptr), "");
    assert_false(ptr.overflow);
}

static void test_pointer_overflow(void **state)
{
    (void)state;
    struct pl_pointer ptr;
    char long_key[PL_POINTER_MAX];
    memset(long_key, 'k', sizeof(long_key) - 1);
    long_key[sizeof(long_key) - 1] = '\0';
    pl_pointer_init(&ptr, "metadata");
    pl_pointer_push(&ptr, long_key);
    assert_true(ptr.overflow);
    assert_string_equal(pl_pointer_str(&ptr), "/metadata");
    pl_pointer_push(&ptr, "x"); /* sticky */
    assert_true(ptr.overflow);
    json_t *obj = json_object();
    struct pl_patch p;
    pl_patch_init(&p, obj, 0);
    assert_int_equal(pl_patch_add(&p, &ptr, json_string("v")), -EINVAL);
    assert_int_equal(pl_patch_len(&p), 0);
    pl_patch_finish(&p);
    json_decref(obj);
}

static void test_creates_missing_maps(void **state)
{
    (void)state;
    json_t *obj = pl_test_yaml("{kind: Pod, metadata: {name: web}}");
    struct pl_patch p;
    pl_patch_init(&p, obj, 0);
    struct pl_pointer ptr;
    static const char *const keys[] = {"labels", "plimsoll.dev/commit", NULL};
    pointer_of(&ptr, "metadata", keys);
    assert_int_equal(pl_patch_add(&p, &ptr, json_string("abc1234")), 1);
    assert_ops(&p, -1,
               "[{\"op\":\"add\",\"path\":\"/metadata/labels\",\"value\":{}},"
               "{\"op\":\"add\",\"path\":\"/metadata/labels/plimsoll.dev~1commit\","
               "\"value\":\"abc1234\"}]");
    assert_json(p.doc, "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\","
                       "\"labels\":{\"plimsoll.dev/commit\":\"abc1234\"}}}");
    /* The input object is not touched. */
    assert_null(pl_json_object(pl_json_object(obj, "metadata"), "labels"));
    /* Deeper: four maps missing in a row. */
    static const char *const deep[] = {"template", "metadata", "annotations", "a/b~c", NULL};
    pointer_of(&ptr, "spec", deep);
    assert_int_equal(pl_patch_add(&p, &ptr, json_string("x")), 1);
    assert_int_equal(pl_patch_len(&p), 7);
    assert_ops(&p, 2, "{\"op\":\"add\",\"path\":\"/spec\",\"value\":{}}");
    assert_ops(&p, 6,
               "{\"op\":\"add\",\"path\":"
               "\"/spec/template/metadata/annotations/a~1b~0c\","
               "\"value\":\"x\"}");
    pl_patch_finish(&p);
    json_decref(obj);
}

static void test_never_replaces(void **state)
{
    (void)state;
    json_t *obj = pl_test_yaml("{metadata: {labels: {a: '', b: x, c: null}, annotations: null}}");
    struct pl_patch p;
    pl_patch_init(&p, obj, 0);
    struct pl_pointer ptr;
    static const char *const a[] = {"labels", "a", NULL};
    static const char *const b[] = {"labels", "b", NULL};
    static const char *const c[] = {"labels", "c", NULL};
    static const char *const n[] = {"annotations", "k", NULL};
    pointer_of(&ptr, "metadata", a);
    assert_int_equal(pl_patch_add(&p, &ptr, json_string("new")), 0); /* empty is set */
    pointer_of(&ptr, "metadata", b);
    assert_int_equal(pl_patch_add(&p, &ptr, json_string("new")), 0);
    assert_int_equal(pl_patch_len(&p), 0);
    /* null is absent: an add replaces it, which RFC 6902 allows for an object member. */
    pointer_of(&ptr, "metadata", c);
    assert_int_equal(pl_patch_add(&p, &ptr, json_string("new")), 1);
    pointer_of(&ptr, "metadata", n);
    assert_int_equal(pl_patch_add(&p, &ptr, json_string("v")), 1);
    assert_ops(&p, -1,
               "[{\"op\":\"add\",\"path\":\"/metadata/labels/c\",\"value\":\"new\"},"
               "{\"op\":\"add\",\"path\":\"/metadata/annotations\",\"value\":{}},"
               "{\"op\":\"add\",\"path\":\"/metadata/annotations/k\",\"value\":\"v\"}]");
    pl_patch_finish(&p);
    json_decref(obj);
}

static void test_arrays(void **state)
{
    (void)state;
    json_t *obj = pl_test_yaml("{spec: {containers: [{name: a}, {name: b, env: [{name: X}]}, "
                               "{name: c, env: null}]}}");
    struct pl_patch p;
    pl_patch_init(&p, obj, 0);
    struct pl_pointer ptr;
    for (size_t i = 0; i < 4; i++) {
        pl_pointer_init(&ptr, "spec.containers");
        pl_pointer_push_index(&ptr, i);
        pl_pointer_push(&ptr, "env");
        pl_pointer_push(&ptr, "-");
        /* containers[3] does not exist: nothing is done. */
        assert_int_equal(pl_patch_add(&p, &ptr, json_pack("{s:s}", "name", "Y")), i < 3 ? 1 : 0);
    }
    assert_ops(&p, -1,
               "[{\"op\":\"add\",\"path\":\"/spec/containers/0/env\",\"value\":[]},"
               "{\"op\":\"add\",\"path\":\"/spec/containers/0/env/-\","
               "\"value\":{\"name\":\"Y\"}},"
               "{\"op\":\"add\",\"path\":\"/spec/containers/1/env/-\","
               "\"value\":{\"name\":\"Y\"}},"
               "{\"op\":\"add\",\"path\":\"/spec/containers/2/env\",\"value\":[]},"
               "{\"op\":\"add\",\"path\":\"/spec/containers/2/env/-\","
               "\"value\":{\"name\":\"Y\"}}]");
    assert_int_equal(
        json_array_size(pl_json_array(
            json_array_get(pl_json_array(pl_json_object(p.doc, "spec"), "containers"), 1), "env")),
        2);
    /* Leading zeros and signs are not indexes. */
    pl_pointer_init(&ptr, "spec.containers");
    pl_pointer_push(&ptr, "01");
    pl_pointer_push(&ptr, "env");
    pl_pointer_push(&ptr, "-");
    assert_int_equal(pl_patch_add(&p, &ptr, json_string("z")), 0);
    /* "-" may only be the last token. */
    pl_pointer_init(&ptr, "spec.containers");
    pl_pointer_push(&ptr, "-");
    pl_pointer_push(&ptr, "name");
    assert_int_equal(pl_patch_add(&p, &ptr, json_string("z")), -EINVAL);
    pl_pointer_init(&ptr, "spec.volumes");
    pl_pointer_push(&ptr, "-");
    pl_pointer_push(&ptr, "name");
    assert_int_equal(pl_patch_add(&p, &ptr, json_string("z")), -EINVAL);
    assert_int_equal(pl_patch_len(&p), 5);
    pl_patch_finish(&p);
    json_decref(obj);
}

static void test_blocked_by_scalar(void **state)
{
    (void)state;
    json_t *obj = pl_test_yaml("{metadata: {labels: oops}, spec: {containers: 3}}");
    struct pl_patch p;
    pl_patch_init(&p, obj, 0);
    struct pl_pointer ptr;
    static const char *const k[] = {"labels", "x", NULL};
    pointer_of(&ptr, "metadata", k);
    assert_int_equal(pl_patch_add(&p, &ptr, json_string("v")), 0);
    static const char *const deeper[] = {"labels", "x", "y", NULL};
    pointer_of(&ptr, "metadata", deeper);
    assert_int_equal(pl_patch_add(&p, &ptr, json_string("v")), 0);
    pl_pointer_init(&ptr, "spec.containers");
    pl_pointer_push(&ptr, "0");
    pl_pointer_push(&ptr, "env");
    assert_int_equal(pl_patch_add(&p, &ptr, json_array()), 0);
    assert_int_equal(pl_patch_len(&p), 0);
    pl_patch_finish(&p);
    json_decref(obj);
}

static void test_ops_independent_of_doc(void **state)
{
    (void)state;
    json_t *obj = pl_test_yaml("{metadata: {}}");
    struct pl_patch p;
    pl_patch_init(&p, obj, 0);
    struct pl_pointer ptr;
    pl_pointer_init(&ptr, "metadata.labels");
    assert_int_equal(pl_patch_add(&p, &ptr, json_object()), 1);
    pl_pointer_push(&ptr, "k");
    assert_int_equal(pl_patch_add(&p, &ptr, json_string("v")), 1);
    /* The first operation still adds an empty map. */
    assert_ops(&p, 0, "{\"op\":\"add\",\"path\":\"/metadata/labels\",\"value\":{}}");
    assert_json(pl_patch_get(&p, &ptr), "\"v\"");
    pl_pointer_init(&ptr, NULL);
    assert_ptr_equal(pl_patch_get(&p, &ptr), p.doc);
    pl_patch_finish(&p);
    json_decref(obj);
}

static void test_bound_is_all_or_nothing(void **state)
{
    (void)state;
    json_t *obj = pl_test_yaml("{metadata: {}}");
    struct pl_patch p;
    pl_patch_init(&p, obj, 3);
    struct pl_pointer ptr;
    static const char *const k[] = {"labels", "a", NULL};
    pointer_of(&ptr, "metadata", k);
    assert_int_equal(pl_patch_add(&p, &ptr, json_string("1")), 1); /* 2 ops */
    static const char *const k2[] = {"annotations", "b", NULL};
    pointer_of(&ptr, "metadata", k2);
    assert_int_equal(pl_patch_add(&p, &ptr, json_string("2")), -E2BIG); /* would need 2 more */
    assert_int_equal(pl_patch_len(&p), 2);
    assert_null(pl_json_object(pl_json_object(p.doc, "metadata"), "annotations"));
    static const char *const k3[] = {"labels", "c", NULL};
    pointer_of(&ptr, "metadata", k3);
    assert_int_equal(pl_patch_add(&p, &ptr, json_string("3")), 1); /* the third fits */
    static const char *const k4[] = {"labels", "d", NULL};
    pointer_of(&ptr, "metadata", k4);
    assert_int_equal(pl_patch_add(&p, &ptr, json_string("4")), -E2BIG);
    pointer_of(&ptr, "metadata", k3);
    assert_int_equal(pl_patch_replace(&p, &ptr, json_string("5")), -E2BIG);
    assert_int_equal(pl_patch_len(&p), 3);
    pl_patch_finish(&p);
    json_decref(obj);
}

static void test_replace(void **state)
{
    (void)state;
    json_t *obj = pl_test_yaml("{metadata: {labels: {a: old}}}");
    struct pl_patch p;
    pl_patch_init(&p, obj, 0);
    struct pl_pointer ptr;
    static const char *const a[] = {"labels", "a", NULL};
    static const char *const b[] = {"labels", "b", NULL};
    pointer_of(&ptr, "metadata", a);
    assert_int_equal(pl_patch_replace(&p, &ptr, json_string("old")), 0); /* equal */
    assert_int_equal(pl_patch_replace(&p, &ptr, json_string("new")), 1);
    pointer_of(&ptr, "metadata", b);
    assert_int_equal(pl_patch_replace(&p, &ptr, json_string("new")), 0); /* absent */
    assert_ops(&p, -1, "[{\"op\":\"replace\",\"path\":\"/metadata/labels/a\",\"value\":\"new\"}]");
    json_t *ops = pl_patch_take_ops(&p);
    assert_int_equal(json_array_size(ops), 1);
    assert_int_equal(pl_patch_len(&p), 0);
    json_decref(ops);
    pl_patch_finish(&p);
    json_decref(obj);
}

static void test_split_rejects_bad_escapes(void **state)
{
    (void)state;
    struct pl_pointer ptr = {.buf = "/metadata/a~2b", .len = 14, .overflow = false};
    struct tokens t;
    assert_int_equal(split(&ptr, &t), -EINVAL);
    struct pl_pointer trailing = {.buf = "/a~", .len = 3, .overflow = false};
    assert_int_equal(split(&trailing, &t), -EINVAL);
    struct pl_pointer ok = {.buf = "/a~01/~1", .len = 8, .overflow = false};
    assert_int_equal(split(&ok, &t), 0);
    assert_int_equal(t.n, 2);
    assert_string_equal(t.tok[0], "a~1");
    assert_string_equal(t.tok[1], "/");
    struct pl_pointer root = {.buf = "", .len = 0, .overflow = false};
    assert_int_equal(split(&root, &t), -EINVAL);
    pl_patch_finish(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_pointer_build),
        cmocka_unit_test(test_pointer_overflow),
        cmocka_unit_test(test_creates_missing_maps),
        cmocka_unit_test(test_never_replaces),
        cmocka_unit_test(test_arrays),
        cmocka_unit_test(test_blocked_by_scalar),
        cmocka_unit_test(test_ops_independent_of_doc),
        cmocka_unit_test(test_bound_is_all_or_nothing),
        cmocka_unit_test(test_replace),
        cmocka_unit_test(test_split_rejects_bad_escapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
