/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One admission decision: which policies apply to an object, in which mode
 * (SPEC §6 precedence), what they found, and the resulting verdict with its
 * rejection message and warnings. The same function serves `plimsoll serve`,
 * `plimsoll check` and the tests, so that verdicts cannot drift between them.
 */
#ifndef PL_ENGINE_EVALUATE_H
#define PL_ENGINE_EVALUATE_H

#include <stdbool.h>

#include <jansson.h>

#include "core/compiler.h"
#include "core/error.h"
#include "core/neighbours.h"
#include "core/object.h"
#include "core/pool.h"
#include "core/report.h"
#include "engine/config.h"

/* What the request does to the object (AdmissionReview request.operation, read in
 * engine/admission.c; `plimsoll check` judges every object as a CREATE). */
enum pl_operation {
    PL_OP_CREATE,
    PL_OP_UPDATE,
    PL_OP_DELETE,
    PL_OP_CONNECT,
};

struct pl_request {
    enum pl_operation operation;
    const char *namespace_;       /* namespace of the request; NULL: the object's */
    const json_t *object;         /* borrowed; the object to admit */
    const json_t *old_object;     /* borrowed; the stored object on UPDATE, else NULL */
    const json_t *ns_annotations; /* borrowed annotations of the namespace, or NULL */
    const char *user;             /* request.userInfo.username, NULL or "" when unknown (check) */
    const struct pl_neighbours *neighbours; /* borrowed: the objects around this one
                                               (core/neighbours.h), which the policies with
                                               .neighbours need; NULL at admission, where
                                               those policies do not run */
    bool findings_only; /* the decision's texts are not wanted: message stays NULL and
                           warnings empty (allowed is set as ever). For the dashboard,
                           which keeps the findings and never shows those texts */
};

struct pl_decision {
    bool allowed;
    bool evaluated;          /* false when nothing applied (excluded namespace, no pod template) */
    struct pl_object obj;    /* the object as described by core/object */
    struct pl_report report; /* every violation, with its effective mode */
    const char *message;     /* rejection text (pool memory), NULL when allowed */
    json_t *warnings;        /* array of strings; freed with the pool */
    json_t *notes;           /* the scoping problems among the warnings (bad namespace
                                annotations, refused exemptions): array; freed with the pool */
    const enum pl_mode *modes; /* every policy's mode here (SPEC §6 precedence), indexed like
                                  pl_policies[]; pool memory; NULL when not evaluated */
};

/**
 * The namespace a request is judged in, the one rule for the webhook, the
 * evaluator, the mutations and `plimsoll check`: the object's own
 * metadata.namespace, else the request's, else "". obj describes
 * req->object, or is NULL to read req->object directly.
 */
const char *pl_request_namespace(const struct pl_request *req, const struct pl_object *obj);

/**
 * The effective mode of policy index (into pl_policies[]) in a namespace with
 * these annotations (borrowed, may be NULL), by the same SPEC §6 precedence
 * pl_evaluate() resolves; bad annotation values are ignored here (pl_evaluate
 * notes them). For views of a namespace without an object (the dashboard).
 * Excluded namespaces are the caller's to check.
 */
enum pl_mode pl_policy_mode(const struct pl_config *cfg, const json_t *annotations, size_t index);

/**
 * Evaluates req under cfg. With req->neighbours set (check, audit) the
 * policies that need them run too, and so do the policies of kinds without a
 * pod template (PodDisruptionBudgets, HorizontalPodAutoscalers), which are
 * then evaluated; without it (admission) neither. Strings and the warnings array live in pool until
 * its next clear. Returns 0 with *out filled, or -EINVAL with err filled when
 * the object is not a JSON object. Thread-safe for distinct pools.
 */
PL_MUST_CHECK int pl_evaluate(const struct pl_config *cfg, const struct pl_request *req,
                              struct pl_pool *pool, struct pl_decision *out, struct pl_error *err);

#endif
