/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of engine/manifest.c: documents and List items (typed lists
 * too) become objects, what is not a Kubernetes object is an error with its
 * line, a failed add leaves the manifest as it was, Namespace annotations and
 * the default namespace reach the request, violation paths map to YAML paths,
 * and locations fall back to the innermost ancestor the file has.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/manifest.c"

static const char stream[] = "apiVersion: v1\n"                                            /* 1 */
                             "kind: Namespace\n"                                           /* 2 */
                             "metadata:\n"                                                 /* 3 */
                             "  name: relaxed\n"                                           /* 4 */
                             "  annotations: {plimsoll.dev/mode: warn}\n"                  /* 5 */
                             "---\n"                                                       /* 6 */
                             "apiVersion: apps/v1\n"                                       /* 7 */
                             "kind: DeploymentList\n"                                      /* 8 */
                             "items:\n"                                                    /* 9 */
                             "- metadata:\n"                                               /* 10 */
                             "    name: web\n"                                             /* 11 */
                             "    annotations: {a.b/c: x}\n"                               /* 12 */
                             "  spec:\n"                                                   /* 13 */
                             "    template:\n"                                             /* 14 */
                             "      spec:\n"                                               /* 15 */
                             "        containers:\n"                                       /* 16 */
                             "        - name: web\n"                                       /* 17 */
                             "          image: \"nginx:latest\"\n"                         /* 18 */
                             "---\n"                                                       /* 19 */
                             "{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [\n" /* 20 */
                             "  {\"apiVersion\": \"v1\", \"kind\": \"Pod\",\n"             /* 21 */
                             "   \"metadata\": {\"name\": \"p\", \"namespace\": \"relaxed\"}}]}\n";

static void add_ok(struct pl_manifest *m, const char *name, const char *text)
{
    struct pl_error err;
    pl_error_init(&err);
    if (pl_manifest_add(m, name, text, strlen(text), NULL, &err) < 0) {
        fail_msg("add: line %d: %s", err.line, err.message);
    }
}

static void test_documents_and_lists(void **state)
{
    (void)state;
    struct pl_manifest m;
    pl_manifest_init(&m, 0);
    add_ok(&m, "all.yaml", stream);
    assert_int_equal(m.n_objects, 3);
    assert_string_equal(m.objects[0].kind, "Namespace");
    /* a typed list's item gets the list's kind (minus "List") and apiVersion */
    assert_string_equal(m.objects[1].kind, "Deployment");
    assert_string_equal(json_string_value(json_object_get(m.objects[1].doc, "apiVersion")),
                        "apps/v1");
    assert_string_equal(m.objects[1].prefix, "items[0]");
    assert_int_equal(m.objects[1].document, 1);
    assert_string_equal(m.objects[2].kind, "Pod");
    assert_string_equal(m.objects[2].prefix, "items[0]");
    assert_int_equal(m.objects[2].document, 2);
    int line, column;
    pl_manifest_locate(&m, 0, NULL, &line, &column);
    assert_int_equal(line, 1);
    assert_int_equal(column, 1);
    pl_manifest_locate(&m, 1, NULL, &line, &column);
    assert_int_equal(line, 10);
    assert_int_equal(column, 3);
    pl_manifest_locate(&m, 1, "spec.template.spec.containers[0] (web).image", &line, &column);
    assert_int_equal(line, 18);
    assert_int_equal(column, 11);
    /* no livenessProbe in the file: the container's line */
    pl_manifest_locate(&m, 1, "spec.template.spec.containers[0] (web).livenessProbe", &line,
                       &column);
    assert_int_equal(line, 17);
    assert_int_equal(column, 11);
    pl_manifest_locate(&m, 1, "metadata.annotations[a.b/c]", &line, &column);
    assert_int_equal(line, 12);
    pl_manifest_locate(&m, 1, "spec.replicas", &line, &column);
    assert_int_equal(line, 13);
    assert_int_equal(column, 3);
    pl_manifest_locate(&m, 2, "metadata.namespace", &line, &column);
    assert_int_equal(line, 22);
    pl_manifest_finish(&m);
}

static void test_requests(void **state)
{
    (void)state;
    struct pl_manifest m;
    pl_manifest_init(&m, 0);
    add_ok(&m, "all.yaml", stream);
    struct pl_request req;
    json_t *annotations = NULL;
    struct pl_error err;
    pl_error_init(&err);
    /* no namespace: the default one given */
    assert_int_equal(pl_manifest_request(&m, 1, "apps", NULL, &req, &annotations, &err), 0);
    assert_string_equal(req.namespace_, "apps");
    assert_int_equal(req.operation, PL_OP_CREATE);
    json_decref(annotations);
    /* the Namespace object's annotations, overlaid by extra */
    json_t *extra = json_pack("{s:s}", "plimsoll.dev/liveness-probe", "off");
    assert_int_equal(pl_manifest_request(&m, 2, "apps", extra, &req, &annotations, &err), 0);
    assert_string_equal(req.namespace_, "relaxed");
    assert_string_equal(pl_json_string(req.ns_annotations, "plimsoll.dev/mode"), "warn");
    assert_string_equal(pl_json_string(req.ns_annotations, "plimsoll.dev/liveness-probe"), "off");
    json_decref(annotations);
    json_decref(extra);
    /* a kind without a pod template keeps no namespace */
    assert_int_equal(pl_manifest_request(&m, 0, "apps", NULL, &req, &annotations, &err), 0);
    assert_string_equal(req.namespace_, "");
    json_decref(annotations);
    pl_manifest_finish(&m);
}

static void test_not_kubernetes(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int line;
        const char *message;
    } cases[] = {
        {"{\"a\": 1}\n", 1, "it has no apiVersion and kind"},
        {"hello\n", 1, "expected a mapping"},
        {"apiVersion: v1\nkind: Pod\n---\n\nkind: Pod\n", 5, "it has no apiVersion"},
        {"apiVersion: v1\nkind: List\nitems:\n- {kind: Pod, apiVersion: v1}\n- 3\n", 5,
         "expected a mapping"},
        {"apiVersion: v1\nkind: List\nitems: {}\n", 1, "items must be a list"},
        {"a: [\n", 2, "invalid YAML"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct pl_manifest m;
        pl_manifest_init(&m, 0);
        add_ok(&m, "first.yaml",
               "apiVersion: v1\nkind: Namespace\nmetadata: {name: n, "
               "annotations: {plimsoll.dev/mode: warn}}\n");
        struct pl_error err;
        pl_error_init(&err);
        assert_int_equal(
            pl_manifest_add(&m, "bad.yaml", cases[i].text, strlen(cases[i].text), NULL, &err),
            -EINVAL);
        if (err.line != cases[i].line || !strstr(err.message, cases[i].message)) {
            fail_msg("case %zu: line %d: %s", i, err.line, err.message);
        }
        /* what the failed add had found is gone; earlier files stay */
        assert_int_equal(m.n_objects, 1);
        assert_int_equal(m.n_files, 1);
        assert_non_null(json_object_get(m.ns_annotations, "n"));
        pl_manifest_finish(&m);
    }
}

static void test_empty_and_limits(void **state)
{
    (void)state;
    struct pl_manifest m;
    pl_manifest_init(&m, 2);
    struct pl_error err;
    pl_error_init(&err);
    size_t docs = 99;
    assert_int_equal(pl_manifest_add(&m, "e.yaml", "# nothing\n---\n", 14, &docs, &err), 0);
    assert_int_equal(docs, 0);
    assert_int_equal(m.n_objects, 0);
    const char *three = "apiVersion: v1\nkind: List\nitems: [{apiVersion: v1, kind: A}, "
                        "{apiVersion: v1, kind: B}, {apiVersion: v1, kind: C}]\n";
    assert_int_equal(pl_manifest_add(&m, "l.yaml", three, strlen(three), NULL, &err), -EINVAL);
    assert_non_null(strstr(err.message, "more than 2 objects"));
    pl_manifest_finish(&m);
    pl_manifest_finish(NULL);
}

static void test_field_path(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"spec.template.spec.containers[0] (web).livenessProbe",
         "spec.template.spec.containers[0].livenessProbe"},
        {"spec.containers[12] (a.b).env[3].value", "spec.containers[12].env[3].value"},
        {"metadata.annotations[container.apparmor.security.beta.kubernetes.io/app]",
         "metadata.annotations.container.apparmor.security.beta.kubernetes.io/app"},
        {"spec.volumes[0] (we) ird)", "spec.volumes[0]"},
        {"spec.replicas", "spec.replicas"},
        {"", ""},
        {"a[", "a["},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = pl_manifest_field_path(cases[i][0]);
        assert_string_equal(got, cases[i][1]);
        free(got);
    }
}

static void test_columns_count_utf16(void **state)
{
    (void)state;
    struct pl_manifest m;
    pl_manifest_init(&m, 0);
    /* "é" is two bytes, one UTF-16 unit; an emoji four bytes, two units */
    add_ok(&m, "u.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: \"é😀\", labels: {a: b}}\n");
    int line, column;
    pl_manifest_locate(&m, 0, "metadata.labels", &line, &column);
    assert_int_equal(line, 3);
    assert_int_equal(column, 25); /* 28 if bytes were counted */
    pl_manifest_finish(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_documents_and_lists), cmocka_unit_test(test_requests),
        cmocka_unit_test(test_not_kubernetes),      cmocka_unit_test(test_empty_and_limits),
        cmocka_unit_test(test_field_path),          cmocka_unit_test(test_columns_count_utf16),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
