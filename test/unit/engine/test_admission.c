/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of engine/admission.c: decoding of admission.k8s.io/v1 and
 * v1beta1 reviews with every validation error (path and message), the
 * fields taken from the request, and encoding: uid echoed, apiVersion kept,
 * status 403 on rejection, warnings, and the JSON Patch as standard padded
 * the patch's base64 (decoded back with core/base64).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* The .c is included to reach its static functions. */
#include "engine/admission.c"

#include "test/helpers/fixture.h"

static const char v1_review[] = "{\"apiVersion\": \"admission.k8s.io/v1\", \"kind\": "
                                "\"AdmissionReview\", \"request\": {"
                                "\"uid\": \"705ab4f5-6393-11e8-b7cc-42010a800002\","
                                "\"kind\": {\"group\": \"apps\", \"version\": \"v1\", \"kind\": "
                                "\"Deployment\"},"
                                "\"namespace\": \"shop\", \"operation\": \"CREATE\","
                                "\"userInfo\": {\"username\": \"alice\"},"
                                "\"object\": {\"kind\": \"Deployment\", \"metadata\": {\"name\": "
                                "\"web\"}, \"spec\": {}},"
                                "\"oldObject\": null, \"dryRun\": false}}";

static json_t *load(const char *text)
{
    json_error_t jerr;
    json_t *doc = json_loads(text, JSON_DECODE_ANY, &jerr);
    if (!doc) {
        fail_msg("fixture: %s", jerr.text);
    }
    return doc;
}

/* Parses text and decodes it into adm, which must succeed; adm points into
 * the returned review. */
static json_t *decoded(const char *text, struct pl_admission *adm)
{
    json_t *review = load(text);
    struct pl_error err;
    pl_error_init(&err);
    if (pl_admission_decode(review, adm, &err) < 0) {
        fail_msg("decode: %s: %s", err.path, err.message);
    }
    return review;
}

static void test_decode_v1(void **state)
{
    (void)state;
    struct pl_admission adm;
    json_t *review = decoded(v1_review, &adm);
    assert_string_equal(adm.api_version, "admission.k8s.io/v1");
    assert_string_equal(adm.uid, "705ab4f5-6393-11e8-b7cc-42010a800002");
    assert_string_equal(adm.kind, "Deployment");
    assert_string_equal(adm.namespace_, "shop");
    assert_string_equal(adm.name, "web"); /* from the object when request.name is absent */
    assert_string_equal(adm.operation_name, "CREATE");
    assert_string_equal(adm.user, "alice");
    assert_false(adm.dry_run);
    assert_int_equal(adm.request.operation, PL_OP_CREATE);
    assert_string_equal(adm.request.namespace_, "shop");
    const json_t *req = json_object_get(review, "request");
    assert_ptr_equal(adm.request.object, json_object_get(req, "object"));
    assert_null(adm.request.old_object);
    assert_null(adm.request.ns_annotations);
    json_decref(review);
}

static void test_decode_v1beta1_update(void **state)
{
    (void)state;
    struct pl_admission adm;
    json_t *review =
        decoded("{\"apiVersion\": \"admission.k8s.io/v1beta1\", \"kind\": "
                "\"AdmissionReview\", \"request\": {\"uid\": \"u\", \"name\": \"named\","
                "\"operation\": \"UPDATE\", \"dryRun\": true,"
                "\"object\": {\"kind\": \"Pod\", \"metadata\": {\"name\": \"other\"}},"
                "\"oldObject\": {\"kind\": \"Pod\"}}}",
                &adm);
    assert_string_equal(adm.api_version, "admission.k8s.io/v1beta1");
    assert_string_equal(adm.name, "named"); /* request.name wins */
    assert_string_equal(adm.kind, "");
    assert_string_equal(adm.namespace_, "");
    assert_string_equal(adm.user, "");
    assert_true(adm.dry_run);
    assert_int_equal(adm.request.operation, PL_OP_UPDATE);
    const json_t *req = json_object_get(review, "request");
    assert_ptr_equal(adm.request.old_object, json_object_get(req, "oldObject"));
    json_decref(review);
}

static void test_decode_delete_without_object(void **state)
{
    (void)state;
    struct pl_admission adm;
    json_t *review = decoded("{\"apiVersion\": \"admission.k8s.io/v1\", \"kind\": "
                             "\"AdmissionReview\", \"request\": {\"uid\": \"u\", \"operation\": "
                             "\"DELETE\", \"object\": null, \"oldObject\": {\"kind\": \"Pod\"}}}",
                             &adm);
    assert_int_equal(adm.request.operation, PL_OP_DELETE);
    assert_null(adm.request.object);
    assert_non_null(adm.request.old_object);
    assert_string_equal(adm.name, "");
    json_decref(review);
}

/* Decodes text, which must fail with this path and message. */
static void decode_fails(const char *text, const char *path, const char *message)
{
    json_t *review = load(text);
    struct pl_admission adm;
    struct pl_error err;
    pl_error_init(&err);
    if (pl_admission_decode(review, &adm, &err) != -EINVAL) {
        fail_msg("accepted: %s", text);
    }
    if (strcmp(err.path, path) != 0 || strcmp(err.message, message) != 0) {
        fail_msg("for %s\nexpected %s: %s\n     got %s: %s", text, path, message, err.path,
                 err.message);
    }
    json_decref(review);
}

#define HEAD "{\"apiVersion\": \"admission.k8s.io/v1\", \"kind\": \"AdmissionReview\", "
#define OBJ  "\"object\": {\"kind\": \"Pod\"}"

static void test_decode_errors(void **state)
{
    (void)state;
    decode_fails("[]", "", "the body is not a JSON object");
    decode_fails("\"AdmissionReview\"", "", "the body is not a JSON object");
    decode_fails("{\"apiVersion\": \"admission.k8s.io/v1\"}", "kind",
                 "kind must be AdmissionReview");
    decode_fails("{\"apiVersion\": \"admission.k8s.io/v1\", \"kind\": \"Pod\"}", "kind",
                 "kind must be AdmissionReview");
    decode_fails("{\"kind\": \"AdmissionReview\"}", "apiVersion",
                 "apiVersion must be admission.k8s.io/v1 or admission.k8s.io/v1beta1");
    decode_fails("{\"kind\": \"AdmissionReview\", \"apiVersion\": \"admission.k8s.io/v2\"}",
                 "apiVersion",
                 "apiVersion must be admission.k8s.io/v1 or admission.k8s.io/v1beta1");
    decode_fails("{\"kind\": \"AdmissionReview\", \"apiVersion\": 1}", "apiVersion",
                 "apiVersion must be admission.k8s.io/v1 or admission.k8s.io/v1beta1");
    decode_fails(HEAD "\"response\": {}}", "request", "request is missing or not an object");
    decode_fails(HEAD "\"request\": []}", "request", "request is missing or not an object");
    const char *uid_message = "request.uid must be a non-empty string of at most 128 bytes";
    decode_fails(HEAD "\"request\": {\"operation\": \"CREATE\", " OBJ "}}", "request.uid",
                 uid_message);
    decode_fails(HEAD "\"request\": {\"uid\": \"\", \"operation\": \"CREATE\", " OBJ "}}",
                 "request.uid", uid_message);
    decode_fails(HEAD "\"request\": {\"uid\": 5, \"operation\": \"CREATE\", " OBJ "}}",
                 "request.uid", uid_message);
    const char *op_message = "request.operation must be CREATE, UPDATE, DELETE or CONNECT";
    decode_fails(HEAD "\"request\": {\"uid\": \"u\", " OBJ "}}", "request.operation", op_message);
    decode_fails(HEAD "\"request\": {\"uid\": \"u\", \"operation\": \"create\", " OBJ "}}",
                 "request.operation", op_message);
    decode_fails(HEAD "\"request\": {\"uid\": \"u\", \"operation\": \"PATCH\", " OBJ "}}",
                 "request.operation", op_message);
    decode_fails(HEAD "\"request\": {\"uid\": \"u\", \"operation\": \"CREATE\"}}", "request.object",
                 "request.object must be an object on CREATE");
    decode_fails(HEAD "\"request\": {\"uid\": \"u\", \"operation\": \"UPDATE\", \"object\": []}}",
                 "request.object", "request.object must be an object on UPDATE");
    decode_fails(HEAD "\"request\": {\"uid\": \"u\", \"operation\": \"CREATE\", " OBJ
                      ", \"oldObject\": \"x\"}}",
                 "request.oldObject", "request.oldObject must be an object");
    decode_fails(HEAD "\"request\": {\"uid\": \"u\", \"operation\": \"CREATE\", " OBJ
                      ", \"dryRun\": \"true\"}}",
                 "request.dryRun", "request.dryRun must be a boolean");
}

static void test_uid_length_limit(void **state)
{
    (void)state;
    char uid[PL_ADMISSION_MAX_UID + 2];
    memset(uid, 'u', sizeof(uid) - 1);
    uid[sizeof(uid) - 1] = '\0';
    json_t *review = load(v1_review);
    json_t *req = json_object_get(review, "request");
    struct pl_admission adm;
    struct pl_error err;
    pl_error_init(&err);
    /* 129 bytes: refused. */
    json_object_set_new(req, "uid", json_string(uid));
    assert_int_equal(pl_admission_decode(review, &adm, &err), -EINVAL);
    assert_string_equal(err.path, "request.uid");
    /* 128 bytes: the limit itself is fine. */
    uid[PL_ADMISSION_MAX_UID] = '\0';
    json_object_set_new(req, "uid", json_string(uid));
    assert_int_equal(pl_admission_decode(review, &adm, &err), 0);
    assert_int_equal(strlen(adm.uid), PL_ADMISSION_MAX_UID);
    json_decref(review);
}

/* request.operation: the four names, exactly; nothing else. */
static void test_operation_parse(void **state)
{
    (void)state;
    enum pl_operation op;
    assert_int_equal(pl_operation_parse("CREATE", &op), 0);
    assert_int_equal(op, PL_OP_CREATE);
    assert_int_equal(pl_operation_parse("UPDATE", &op), 0);
    assert_int_equal(op, PL_OP_UPDATE);
    assert_int_equal(pl_operation_parse("DELETE", &op), 0);
    assert_int_equal(op, PL_OP_DELETE);
    assert_int_equal(pl_operation_parse("CONNECT", &op), 0);
    assert_int_equal(op, PL_OP_CONNECT);
    assert_int_equal(pl_operation_parse("create", &op), -EINVAL);
    assert_int_equal(pl_operation_parse(NULL, &op), -EINVAL);
    assert_int_equal(op, PL_OP_CONNECT);
}

static void test_encode_allowed(void **state)
{
    (void)state;
    struct pl_admission adm;
    json_t *review = decoded(v1_review, &adm);
    struct pl_decision d = {.allowed = true, .warnings = json_array()};
    json_t *out = pl_admission_encode(&adm, &d, NULL, 0);
    json_t *want = load("{\"apiVersion\": \"admission.k8s.io/v1\", \"kind\": \"AdmissionReview\","
                        " \"response\": {\"uid\": \"705ab4f5-6393-11e8-b7cc-42010a800002\","
                        " \"allowed\": true}}");
    assert_true(json_equal(out, want));
    json_decref(out);
    /* An empty patch adds nothing either. */
    out = pl_admission_encode(&adm, &d, "[]", 2);
    assert_true(json_equal(out, want));
    json_decref(out);
    json_decref(want);
    json_decref(d.warnings);
    json_decref(review);
}

static void test_encode_rejected_v1beta1(void **state)
{
    (void)state;
    struct pl_admission adm;
    json_t *review = decoded("{\"apiVersion\": \"admission.k8s.io/v1beta1\", \"kind\": "
                             "\"AdmissionReview\", \"request\": {\"uid\": \"abc\", \"operation\": "
                             "\"CREATE\", \"object\": {}}}",
                             &adm);
    struct pl_decision d = {
        .allowed = false,
        .message = "plimsoll rejected Pod x: 1 production-readiness violation\n- ...",
        .warnings = json_pack("[s, s]", "[replicas] spec.replicas: w", "Runbooks: r"),
    };
    json_t *out = pl_admission_encode(&adm, &d, NULL, 0);
    json_t *want =
        json_pack("{s:s, s:s, s:{s:s, s:b, s:{s:s, s:s, s:i, s:s}, s:O}}", "apiVersion",
                  "admission.k8s.io/v1beta1", "kind", "AdmissionReview", "response", "uid", "abc",
                  "allowed", 0, "status", "status", "Failure", "reason", "Forbidden", "code", 403,
                  "message", d.message, "warnings", d.warnings);
    if (!json_equal(out, want)) {
        char *got = json_dumps(out, JSON_INDENT(1));
        fail_msg("got %s", got);
    }
    json_decref(want);
    json_decref(out);
    json_decref(d.warnings);
    json_decref(review);
}

static void test_encode_patch(void **state)
{
    (void)state;
    struct pl_admission adm;
    json_t *review = decoded(v1_review, &adm);
    struct pl_decision d = {.allowed = true};
    json_t *patch = load("[{\"op\": \"add\", \"path\": \"/metadata/labels/plimsoll.dev~1commit\","
                         " \"value\": \"1a2b3c4\"}, {\"op\": \"add\", \"path\": \"/x\", "
                         "\"value\": \"\\u00e9\"}]");
    char *text = json_dumps(patch, JSON_COMPACT);
    json_t *out = pl_admission_encode(&adm, &d, text, strlen(text));
    free(text);
    const json_t *response = json_object_get(out, "response");
    assert_string_equal(json_string_value(json_object_get(response, "patchType")), "JSONPatch");
    const char *encoded = json_string_value(json_object_get(response, "patch"));
    assert_non_null(encoded);
    assert_int_equal(strlen(encoded) % 4, 0);
    size_t body =
        strspn(encoded, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
    assert_true(strspn(encoded + body, "=") <= 2);
    assert_int_equal(body + strspn(encoded + body, "="), strlen(encoded));
    size_t decoded_len = 0;
    char *decoded = pl_base64_decode(encoded, &decoded_len);
    assert_non_null(decoded);
    json_t *round = load(decoded);
    assert_true(json_equal(round, patch));
    /* The patch is encoded as compact JSON text. */
    char *compact = json_dumps(patch, JSON_COMPACT);
    assert_string_equal(decoded, compact);
    free(compact);
    json_decref(round);
    free(decoded);
    assert_true(json_is_true(json_object_get(response, "allowed")));
    assert_null(json_object_get(response, "warnings"));
    json_decref(out);
    json_decref(patch);
    json_decref(review);
}

static void test_round_trip_with_defaults(void **state)
{
    (void)state;
    /* decode -> evaluate -> encode, as the server does. */
    struct pl_admission adm;
    json_t *review = decoded(HEAD "\"request\": {\"uid\": \"rt-1\", \"operation\": \"CREATE\","
                                  "\"namespace\": \"shop\", \"object\": {\"kind\": \"Pod\","
                                  "\"metadata\": {\"name\": \"p\"}, \"spec\": {\"containers\": "
                                  "[{\"name\": \"a\", \"image\": \"nginx\"}]}}}}",
                             &adm);
    struct pl_config *cfg = pl_config_new_default(NULL);
    struct pl_pool pool;
    pl_pool_init(&pool);
    struct pl_decision d;
    struct pl_error err;
    pl_error_init(&err);
    assert_int_equal(pl_evaluate(cfg, &adm.request, &pool, &d, &err), 0);
    json_t *out = pl_admission_encode(&adm, &d, NULL, 0);
    const json_t *response = json_object_get(out, "response");
    assert_string_equal(json_string_value(json_object_get(response, "uid")), "rt-1");
    assert_false(json_is_true(json_object_get(response, "allowed")));
    const json_t *status = json_object_get(response, "status");
    assert_int_equal(json_integer_value(json_object_get(status, "code")), 403);
    const char *message = json_string_value(json_object_get(status, "message"));
    assert_memory_equal(message, "plimsoll rejected Pod shop/p: ", 30);
    assert_non_null(strstr(message, "[liveness-probe] spec.containers[0] (a): "));
    assert_non_null(strstr(message, "[image-tag] "));
    json_decref(out);
    pl_pool_finish(&pool);
    pl_config_unref(cfg);
    json_decref(review);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_v1),
        cmocka_unit_test(test_decode_v1beta1_update),
        cmocka_unit_test(test_decode_delete_without_object),
        cmocka_unit_test(test_decode_errors),
        cmocka_unit_test(test_uid_length_limit),
        cmocka_unit_test(test_operation_parse),
        cmocka_unit_test(test_encode_allowed),
        cmocka_unit_test(test_encode_rejected_v1beta1),
        cmocka_unit_test(test_encode_patch),
        cmocka_unit_test(test_round_trip_with_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
