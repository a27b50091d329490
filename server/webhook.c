/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Admission endpoints (see webhook.h). The request document is parsed once,
 * borrowed by the evaluation, and freed with the thread's arena; the response
 * is serialised once straight into the HTTP body.
 */
#include "server/webhook.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "core/alloc.h"
#include "core/jalloc.h"
#include "core/json.h"
#include "core/log.h"
#include "engine/admission.h"
#include "engine/evaluate.h"
#include "engine/mutate.h"
#include "policies/patch.h"
#include "policies/registry.h"
#include "server/metrics.h"
#include "server/nsview.h"
#include "server/server.h"

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Whether s[0..n) is lowercase hex, and (if nonzero) not all zeros. */
static bool lower_hex(const char *s, size_t n, bool nonzero)
{
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
        any = any || c != '0';
    }
    return any || !nonzero;
}

bool pl_webhook_trace_id(const char *tp, char out[33])
{
    /* W3C Trace Context: version "-" trace-id(32) "-" parent-id(16) "-" flags(2).
     * Version ff is invalid; version 00 has nothing after the flags; a later
     * version may append "-..." fields. */
    size_t len = tp ? strlen(tp) : 0;
    if (len < 55 || tp[2] != '-' || tp[35] != '-' || tp[52] != '-') {
        return false;
    }
    if (!lower_hex(tp, 2, false) || strncmp(tp, "ff", 2) == 0 || !lower_hex(tp + 3, 32, true) ||
        !lower_hex(tp + 36, 16, true) || !lower_hex(tp + 53, 2, false)) {
        return false;
    }
    if (strncmp(tp, "00", 2) == 0 ? len != 55 : (len > 55 && tp[55] != '-')) {
        return false;
    }
    memcpy(out, tp + 3, 32);
    out[32] = '\0';
    return true;
}

static void decref_cleanup(void *arg)
{
    json_decref(arg);
}

static void log_invalid(enum pl_endpoint ep, const char *why, double started)
{
    pl_metrics_invalid(ep, now_seconds() - started);
    pl_log(PL_LOG_WARN, "invalid admission review",
           json_pack("{s:s, s:s}", "endpoint", ep == PL_ENDPOINT_VALIDATE ? "validate" : "mutate",
                     "error", why));
}

/* Appends id to ids (a JSON array of strings) unless it is there. A report
 * holds few distinct ids: the list is scanned, not indexed. */
static void add_once(json_t *ids, const char *id)
{
    size_t j;
    json_t *v;
    json_array_foreach(ids, j, v)
    {
        if (strcmp(json_string_value(v), id) == 0) {
            return;
        }
    }
    json_array_append_new(ids, json_string(id));
}

/* The ids of the policies violated, each once, in report order (what counts:
 * enforce and warn), and by suppression the ids that were exempted,
 * grandfathered or relaxed for a controller ({} when none); counts every
 * violation in the metrics on the way. */
static json_t *violated_ids(const struct pl_decision *d, json_t **ret_suppressed)
{
    json_t *ids = json_array();
    json_t *suppressed = NULL;
    for (size_t i = 0; i < d->report.len; i++) {
        const struct pl_violation *v = &d->report.items[i];
        if (v->mode != PL_MODE_OFF) {
            add_once(ids, v->policy);
            pl_metrics_violation(v->policy_index, v->mode);
        }
        if (v->suppression != PL_SUPPRESS_NONE) {
            const char *why = pl_suppression_name(v->suppression);
            if (!suppressed) {
                suppressed = json_object();
            }
            json_t *list = json_object_get(suppressed, why);
            if (!list) {
                list = json_array();
                json_object_set_new(suppressed, why, list);
            }
            add_once(list, v->policy);
            pl_metrics_suppressed(v->policy_index, v->suppression);
        }
    }
    *ret_suppressed = suppressed;
    return ids;
}

static void log_decision(enum pl_endpoint ep, const struct pl_admission *adm,
                         const struct pl_decision *d, enum pl_outcome outcome, double seconds,
                         const char *traceparent, size_t patch_ops)
{
    static const char *const outcome_names[] = {"allowed", "warned", "rejected", "mutated",
                                                "invalid"};
    /* Written field by field: one line per review, on the hot path. */
    struct pl_log_line line;
    pl_log_begin(&line, PL_LOG_INFO, "admission decision");
    pl_log_str(&line, "endpoint", ep == PL_ENDPOINT_VALIDATE ? "validate" : "mutate");
    pl_log_str(&line, "uid", adm->uid);
    pl_log_str(&line, "kind", *adm->kind ? adm->kind : d->obj.kind_name);
    pl_log_str(&line, "namespace", adm->namespace_);
    pl_log_str(&line, "name", *adm->name ? adm->name : d->obj.name);
    pl_log_str(&line, "operation", adm->operation_name);
    pl_log_str(&line, "user", adm->user);
    pl_log_str(&line, "decision", outcome_names[outcome]);
    pl_log_bool(&line, "dry_run", adm->dry_run);
    json_t *suppressed;
    json_t *violations = violated_ids(d, &suppressed); /* counts them in the metrics, too */
    unsigned counted = 0;
    for (size_t i = 0; i < d->report.len; i++) {
        counted += d->report.items[i].mode != PL_MODE_OFF;
    }
    pl_metrics_namespace_violations(adm->namespace_, counted);
    pl_log_json(&line, "violations", violations);
    json_decref(violations);
    if (suppressed) {
        /* {"exempt": [ids], "grandfathered": [ids], "controller": [ids]}: what was let through. */
        pl_log_json(&line, "suppressed", suppressed);
        json_decref(suppressed);
    }
    pl_log_ms(&line, "latency_ms", seconds);
    if (patch_ops) {
        pl_log_int(&line, "patch_ops", (long long)patch_ops);
    }
    if (json_array_size(d->notes) > 0) {
        /* Misconfigured namespace annotations or exemptions: the owner needs to hear. */
        pl_log_json(&line, "notes", d->notes);
    }
    char trace_id[33];
    if (pl_webhook_trace_id(traceparent, trace_id)) {
        pl_log_str(&line, "trace_id", trace_id);
    }
    pl_log_end(&line);
}

/* Serialises doc (a new reference, consumed) into the response body. */
static void respond_json(struct pl_http_response *res, json_t *doc)
{
    res->body = pl_json_dump(doc, JSON_COMPACT, &res->body_len);
    json_decref(doc);
    res->status = 200;
}

static enum pl_outcome outcome_of(const struct pl_decision *d, size_t patch_ops)
{
    if (!d->allowed) {
        return PL_OUTCOME_REJECTED;
    }
    if (patch_ops) {
        return PL_OUTCOME_MUTATED;
    }
    return json_array_size(d->warnings) ? PL_OUTCOME_WARNED : PL_OUTCOME_ALLOWED;
}

/* Decides one review on the given endpoint. Everything request-scoped lives in pool. */
static void handle(struct pl_server *s, enum pl_endpoint ep, const struct pl_http_request *req,
                   struct pl_http_response *res, struct pl_pool *pool)
{
    double started = now_seconds();
    char why[700];
    /* managedFields is a fifth of a typical object and no policy reads it:
     * checked by the parser like the rest, but never built. */
    json_t *review =
        pl_json_load_skipping(req->body, req->body_len, "managedFields", why, sizeof(why));
    if (!review) {
        pl_http_error(res, 400, why);
        log_invalid(ep, why, started);
        return;
    }
    pl_pool_on_clear(pool, decref_cleanup, review);
    struct pl_admission adm;
    struct pl_error err;
    pl_error_init(&err);
    if (pl_admission_decode(review, &adm, &err) < 0) {
        snprintf(why, sizeof(why), "invalid AdmissionReview: %s", err.message);
        pl_http_error(res, 400, why);
        log_invalid(ep, why, started);
        return;
    }
    const char *ns = pl_request_namespace(&adm.request, NULL);
    if (s->nswatch && *ns) {
        adm.request.ns_annotations = pl_nsview_annotations(s->nswatch, ns, pool);
    }
    struct pl_config *cfg = pl_server_config(s);
    struct pl_decision decision;
    /* The patch's JSON text, as pl_mutate_review writes it (empty for /validate). */
    struct pl_buf patch;
    pl_buf_init(&patch, PL_PATCH_MAX_TEXT + 2);
    size_t patch_ops = 0;
    int r;
    if (ep == PL_ENDPOINT_VALIDATE) {
        r = pl_evaluate(cfg, &adm.request, pool, &decision, &err);
    } else {
        /* The review is ours and dropped after the answer: its object is
         * mutated in place, reached through the non-const document. */
        json_t *object = json_object_get(json_object_get(review, "request"), "object");
        r = pl_mutate_review(cfg, &adm.request, json_is_object(object) ? object : NULL, pool,
                             &decision, &patch, &patch_ops, &err);
    }
    pl_config_unref(cfg);
    if (r < 0) {
        snprintf(why, sizeof(why), "cannot evaluate the object: %s", err.message);
        pl_http_error(res, 400, why);
        log_invalid(ep, why, started);
        pl_buf_finish(&patch);
        return;
    }
    respond_json(res, pl_admission_encode(&adm, &decision, patch.data, patch.len));
    pl_buf_finish(&patch);
    double seconds = now_seconds() - started;
    enum pl_outcome outcome = outcome_of(&decision, patch_ops);
    enum pl_operation op = adm.request.operation;
    /* A DELETE carries no object: the request's kind is what was reviewed. */
    enum pl_kind kind =
        decision.obj.kind != PL_KIND_OTHER ? decision.obj.kind : pl_kind_from_name(adm.kind);
    pl_metrics_request(ep, kind, op, adm.dry_run, outcome, seconds);
    log_decision(ep, &adm, &decision, outcome, seconds, pl_http_header(req, "traceparent"),
                 patch_ops);
}

static void handle_endpoint(void *ctx, enum pl_endpoint ep, const struct pl_http_request *req,
                            struct pl_http_response *res)
{
    struct pl_server *s = ctx;
    struct pl_pool *pool = pl_server_pool(s);
    /* Every JSON value of this review lives on the arena and goes with one clear. */
    pl_jalloc_use(pool);
    handle(s, ep, req, res, pool);
    pl_jalloc_use(NULL);
    pl_pool_clear(pool);
}

void pl_webhook_validate(void *ctx, const struct pl_http_request *req, struct pl_http_response *res)
{
    handle_endpoint(ctx, PL_ENDPOINT_VALIDATE, req, res);
}

void pl_webhook_mutate(void *ctx, const struct pl_http_request *req, struct pl_http_response *res)
{
    handle_endpoint(ctx, PL_ENDPOINT_MUTATE, req, res);
}
