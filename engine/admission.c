/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AdmissionReview codec (see admission.h).
 */
#include "engine/admission.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/base64.h"
#include "core/json.h"

static const char *const api_versions[] = {"admission.k8s.io/v1", "admission.k8s.io/v1beta1"};

static int decode_versions(const json_t *review, struct pl_admission *ret, struct pl_error *err)
{
    if (!json_is_object(review)) {
        return pl_error_set(err, "", 0, "the body is not a JSON object");
    }
    const char *kind = pl_json_string(review, "kind");
    if (!kind || strcmp(kind, "AdmissionReview") != 0) {
        return pl_error_set(err, "kind", 0, "kind must be AdmissionReview");
    }
    const char *version = pl_json_string(review, "apiVersion");
    for (size_t i = 0; version && i < PL_ARRAY_SIZE(api_versions); i++) {
        if (strcmp(version, api_versions[i]) == 0) {
            ret->api_version = api_versions[i];
            return 0;
        }
    }
    return pl_error_set(err, "apiVersion", 0,
                        "apiVersion must be admission.k8s.io/v1 or admission.k8s.io/v1beta1");
}

static const char *string_or_empty(const json_t *parent, const char *key)
{
    const char *s = pl_json_string(parent, key);
    return s ? s : "";
}

static const char *const operation_names[] = {"CREATE", "UPDATE", "DELETE", "CONNECT"};

int pl_operation_parse(const char *name, enum pl_operation *ret_op)
{
    for (size_t i = 0; name && i < PL_ARRAY_SIZE(operation_names); i++) {
        if (strcmp(name, operation_names[i]) == 0) {
            *ret_op = (enum pl_operation)i;
            return 0;
        }
    }
    return -EINVAL;
}

int pl_admission_decode(const json_t *review, struct pl_admission *ret, struct pl_error *err)
{
    memset(ret, 0, sizeof(*ret));
    int r = decode_versions(review, ret, err);
    if (r < 0) {
        return r;
    }
    const json_t *req = pl_json_object(review, "request");
    if (!req) {
        return pl_error_set(err, "request", 0, "request is missing or not an object");
    }
    const char *uid = pl_json_string(req, "uid");
    if (!uid || !*uid || strlen(uid) > PL_ADMISSION_MAX_UID) {
        return pl_error_set(err, "request.uid", 0,
                            "request.uid must be a non-empty string of at most %d bytes",
                            PL_ADMISSION_MAX_UID);
    }
    ret->uid = uid;
    ret->operation_name = pl_json_string(req, "operation");
    if (pl_operation_parse(ret->operation_name, &ret->request.operation) < 0) {
        return pl_error_set(err, "request.operation", 0,
                            "request.operation must be CREATE, UPDATE, DELETE or CONNECT");
    }
    const json_t *object = json_object_get(req, "object");
    const json_t *old_object = json_object_get(req, "oldObject");
    bool needs_object =
        ret->request.operation == PL_OP_CREATE || ret->request.operation == PL_OP_UPDATE;
    if (needs_object && !json_is_object(object)) {
        return pl_error_set(err, "request.object", 0, "request.object must be an object on %s",
                            ret->operation_name);
    }
    if (old_object && !json_is_null(old_object) && !json_is_object(old_object)) {
        return pl_error_set(err, "request.oldObject", 0, "request.oldObject must be an object");
    }
    const json_t *dry_run = json_object_get(req, "dryRun");
    if (dry_run && !json_is_boolean(dry_run) && !json_is_null(dry_run)) {
        return pl_error_set(err, "request.dryRun", 0, "request.dryRun must be a boolean");
    }
    ret->dry_run = json_is_true(dry_run);
    ret->kind = string_or_empty(pl_json_object(req, "kind"), "kind");
    ret->namespace_ = string_or_empty(req, "namespace");
    ret->name = string_or_empty(req, "name");
    if (!*ret->name) {
        ret->name = string_or_empty(pl_json_object(object, "metadata"), "name");
    }
    ret->user = string_or_empty(pl_json_object(req, "userInfo"), "username");
    ret->request.namespace_ = ret->namespace_;
    ret->request.user = ret->user;
    ret->request.object = json_is_object(object) ? object : NULL;
    ret->request.old_object = json_is_object(old_object) ? old_object : NULL;
    return 0;
}

json_t *pl_admission_encode(const struct pl_admission *adm, const struct pl_decision *decision,
                            const char *patch, size_t patch_len)
{
    json_t *response = json_object();
    json_object_set_new(response, "uid", json_string(adm->uid));
    json_object_set_new(response, "allowed", json_boolean(decision->allowed));
    if (!decision->allowed) {
        json_t *status = json_object();
        json_object_set_new(status, "status", json_string("Failure"));
        json_object_set_new(status, "reason", json_string("Forbidden"));
        json_object_set_new(status, "code", json_integer(403));
        json_object_set_new(status, "message", json_string(decision->message));
        json_object_set_new(response, "status", status);
    }
    if (json_array_size(decision->warnings) > 0) {
        json_object_set(response, "warnings", decision->warnings);
    }
    if (patch && patch_len > 0 && !(patch_len == 2 && memcmp(patch, "[]", 2) == 0)) {
        char *encoded = pl_base64_encode((const unsigned char *)patch, patch_len);
        json_object_set_new(response, "patchType", json_string("JSONPatch"));
        /* base64 is ASCII: no UTF-8 check needed. */
        json_object_set_new(response, "patch", json_string_nocheck(encoded));
        free(encoded);
    }
    json_t *review = json_object();
    json_object_set_new(review, "apiVersion", json_string(adm->api_version));
    json_object_set_new(review, "kind", json_string("AdmissionReview"));
    json_object_set_new(review, "response", response);
    return review;
}
