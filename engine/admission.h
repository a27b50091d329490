/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AdmissionReview decode and encode, admission.k8s.io/v1 and v1beta1. No
 * sockets here: the server hands in a body and gets a body back, which is
 * what lets the tests and `plimsoll check` use the very same path.
 *
 * Decoding checks the shape a real API server sends and rejects anything
 * else with a one-line reason (the server answers it with 400).
 */
#ifndef PL_ENGINE_ADMISSION_H
#define PL_ENGINE_ADMISSION_H

#include <stdbool.h>

#include <jansson.h>

#include "core/compiler.h"
#include "core/error.h"
#include "engine/evaluate.h"

/* Longest uid echoed back (a Kubernetes UID is 36 bytes). */
#define PL_ADMISSION_MAX_UID 128

struct pl_admission {
    const char *api_version; /* "admission.k8s.io/v1" or "admission.k8s.io/v1beta1" */
    const char *uid;
    const char *kind;       /* request.kind.kind, "" when absent */
    const char *namespace_; /* request.namespace, "" when absent */
    const char *name;       /* request.name, else the object's, "" when absent */
    const char *operation_name;
    const char *user; /* request.userInfo.username, "" when absent */
    bool dry_run;
    struct pl_request request; /* ready for pl_evaluate() */
};

/** Parses an operation name as request.operation spells it ("CREATE", "UPDATE",
 * "DELETE", "CONNECT"; NULL is none). Returns 0, or -EINVAL leaving *ret_op as it was. */
PL_MUST_CHECK int pl_operation_parse(const char *name, enum pl_operation *ret_op);

/**
 * Validates review (borrowed; everything in *ret borrows from it). Returns 0,
 * or -EINVAL with err saying which field is wrong.
 */
PL_MUST_CHECK int pl_admission_decode(const json_t *review, struct pl_admission *ret,
                                      struct pl_error *err);

/**
 * The response AdmissionReview for decision (new reference): same apiVersion,
 * uid echoed, allowed, status 403 with the message on rejection, warnings.
 * patch (patch_len bytes, borrowed) is the JSON text of a JSON Patch array
 * (pl_mutate_review() writes it), added as base64 with patchType JSONPatch;
 * NULL, 0 bytes or "[]" add nothing.
 */
json_t *pl_admission_encode(const struct pl_admission *adm, const struct pl_decision *decision,
                            const char *patch, size_t patch_len);

#endif
