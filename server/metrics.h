/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Prometheus metrics (SPEC §8). Counters are atomics in fixed arrays indexed
 * by small enums, so that recording on the admission path is a few relaxed
 * atomic adds and never allocates or locks. Rendering builds the text
 * exposition on demand for GET /metrics.
 */
#ifndef PL_SERVER_METRICS_H
#define PL_SERVER_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/object.h"
#include "core/report.h"
#include "engine/evaluate.h"

enum pl_endpoint {
    PL_ENDPOINT_VALIDATE,
    PL_ENDPOINT_MUTATE,
    PL_ENDPOINT_COUNT,
};

enum pl_outcome {
    PL_OUTCOME_ALLOWED,  /* admitted, nothing to say */
    PL_OUTCOME_WARNED,   /* admitted with warnings */
    PL_OUTCOME_REJECTED, /* denied */
    PL_OUTCOME_MUTATED,  /* admitted with a patch */
    PL_OUTCOME_INVALID,  /* not a valid AdmissionReview (4xx) */
    PL_OUTCOME_COUNT,
};

/* Why the HTTP layer closed or refused a connection (server/http.c). */
enum pl_shed {
    PL_SHED_HEADER_TIMEOUT,  /* headers not received within the header deadline */
    PL_SHED_REQUEST_TIMEOUT, /* body not received within the request deadline */
    PL_SHED_EVICTED,         /* closed to make room for a new connection */
    PL_SHED_ADDRESS_CAP,     /* its address held too many connections waiting without a request */
    PL_SHED_REFUSED,         /* new connection refused: at the limit with nothing to evict */
    PL_SHED_COUNT,
};

/* Values the scrape reads from elsewhere; filled by the server before rendering. */
struct pl_metrics_gauges {
    bool ready;
    bool draining;
    bool namespace_view_configured;
    bool namespace_view_synced;
    double namespace_view_staleness_seconds;
    double certificate_not_after; /* unix seconds, 0 when unknown */
    unsigned certificate_pairs;   /* key pairs alive: in force plus retired ones still held */
    const char *config_source;
};

/** Records one admission request. kind and op are ignored for PL_OUTCOME_INVALID. */
void pl_metrics_request(enum pl_endpoint ep, enum pl_kind kind, enum pl_operation op,
                        enum pl_outcome outcome, double seconds);

/** Records a violation found by policy (index into pl_policies) in mode. */
void pl_metrics_violation(size_t policy_index, enum pl_mode mode);

/** Records a violation of policy that did not count in its mode, and why (SPEC §6). */
void pl_metrics_suppressed(size_t policy_index, enum pl_suppression why);

/** Records a configuration reload attempt. */
void pl_metrics_config_reload(bool ok);

/** Records a request body refused (503) by the buffered-bytes budget (server/http.c). */
void pl_metrics_body_budget_refusal(void);

/** Records a serving certificate reload attempt (files changed). */
void pl_metrics_certificate_reload(bool ok);

/** Records a connection closed or refused by the HTTP layer's limits. */
void pl_metrics_connection_shed(enum pl_shed why);

/** Appends the whole exposition to out. Returns 0 or -E2BIG. */
PL_MUST_CHECK int pl_metrics_render(struct pl_buf *out, const struct pl_metrics_gauges *g,
                                    const char *version, const char *commit);

#endif
