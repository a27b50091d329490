/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One object of a manifest judged into the result that `plimsoll check` and
 * `plimsoll audit` print (the "results" items described in cli/output.h):
 * the webhook's own decision (engine/evaluate.c), what the API server's
 * decoder would refuse (engine/schema.c), and where each finding is in the
 * object's file (engine/manifest.c). Both commands go through here, so an
 * object judged in a file and the same object judged as the cluster stores it
 * cannot get different answers.
 *
 * No I/O, no logging: errors come back in struct pl_error. Not thread-safe
 * (the manifest is not).
 */
#ifndef PL_ENGINE_VERDICT_H
#define PL_ENGINE_VERDICT_H

#include <stddef.h>

#include <jansson.h>

#include "core/compiler.h"
#include "core/error.h"
#include "core/pool.h"
#include "engine/config.h"
#include "engine/evaluate.h"
#include "engine/manifest.h"

/* What the summary of a results document counts. */
struct pl_verdict_counts {
    size_t objects;
    size_t rejected; /* status "rejected" */
    size_t warned;   /* admitted with warnings */
    size_t invalid;  /* status "invalid" */
    size_t skipped;  /* status "skipped" */
};

struct pl_verdict_input {
    const struct pl_config *cfg;        /* borrowed */
    const struct pl_manifest *manifest; /* borrowed */
    const char *default_ns;    /* namespace of namespaced objects that name none; NULL: "default" */
    const json_t *annotations; /* namespace annotations laid over the input's; borrowed, or NULL */
    const struct pl_neighbours *neighbours; /* the objects the neighbour policies may look at
                                               (borrowed); NULL: those policies do not run */
    bool findings_only; /* no rejection message or warnings texts (pl_request's) */
};

/* What admission would do with an object (the result's "status"). */
enum pl_verdict_status {
    PL_VERDICT_ADMITTED,
    PL_VERDICT_REJECTED,
    PL_VERDICT_SKIPPED, /* nothing applied: not a judged kind, an excluded namespace */
    PL_VERDICT_INVALID, /* the API server's decoder would refuse it; what policies found stays */
};

/*
 * One object judged, before it is rendered as a result: what pl_verdict_judge()
 * renders, and what the dashboard keeps without rendering (a result's JSON was
 * most of the cost of judging a listed workload).
 */
struct pl_verdict {
    enum pl_verdict_status status;
    struct pl_request req; /* borrows the manifest and annotations */
    struct pl_decision d;  /* pool memory: valid until the pool is cleared */
    json_t *problems;      /* the decoder's objections (array, empty when valid) */
    json_t *annotations;   /* the namespace's annotations the request borrows */
    int line, column;      /* where the object is in its file */
};

/**
 * Judges object i of in->manifest as admission would (a CREATE, or an
 * AdmissionReview's own request) into out; release with pl_verdict_finish()
 * (before clearing pool). Returns 0, or -EINVAL with err filled as
 * pl_verdict_judge(); out then holds nothing.
 */
PL_MUST_CHECK int pl_verdict_decide(const struct pl_verdict_input *in, size_t i,
                                    struct pl_pool *pool, struct pl_verdict *out,
                                    struct pl_error *err);

/** Frees what pl_verdict_decide() gave out (not the pool's memory). */
void pl_verdict_finish(struct pl_verdict *v);

/** The "status" of a result: "admitted", "rejected", "skipped" or "invalid". */
const char *pl_verdict_status_name(enum pl_verdict_status s);

/**
 * Judges object i of in->manifest as admission would (a CREATE, or an
 * AdmissionReview's own request) and adds it to counts.
 *
 * @param pool  temporaries of the evaluation; the caller clears it afterwards.
 * @param ret   on success a new reference: the result object.
 * @return 0, or -EINVAL with err filled (err->line: the object's line) when
 *         an AdmissionReview has the wrong shape or the object is not an
 *         object; counts is then unchanged.
 */
PL_MUST_CHECK int pl_verdict_judge(const struct pl_verdict_input *in, size_t i,
                                   struct pl_pool *pool, struct pl_verdict_counts *counts,
                                   json_t **ret, struct pl_error *err);

/**
 * The results document: {"summary": {...counts}, "results": results}.
 * results is borrowed (a new reference is taken). Returns a new reference.
 */
json_t *pl_verdict_document(const struct pl_verdict_counts *counts, json_t *results);

#endif
