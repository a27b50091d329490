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

/* How far a failed TLS handshake got (server/handshake.c), as GnuTLS's
 * handshake hooks tell it. The client's alert would say more, but
 * libmicrohttpd frees the GnuTLS session before it reports the close, and
 * GnuTLS hands alerts to a callback only in QUIC mode. A fixed set, so the
 * label stays bounded. */
enum pl_tls_failure {
    PL_TLS_FAIL_AFTER_CERTIFICATE,  /* had our certificate, did not finish: it did not accept it */
    PL_TLS_FAIL_BEFORE_CERTIFICATE, /* sent a ClientHello, ended before our certificate went out */
    PL_TLS_FAIL_NO_CLIENT_HELLO,    /* no ClientHello: not TLS, or connected and closed */
    PL_TLS_FAIL_COUNT,
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
    unsigned long long watch_list_errors;  /* namespace watch: lists that failed */
    unsigned long long watch_watch_errors; /* namespace watch: watches that failed */
};

/**
 * Records one answered admission request (not PL_OUTCOME_INVALID: see
 * pl_metrics_invalid). Out-of-range endpoints or outcomes are ignored; an
 * unknown kind counts as Other, an unknown operation as CREATE. Thread-safe.
 */
void pl_metrics_request(enum pl_endpoint ep, enum pl_kind kind, enum pl_operation op, bool dry_run,
                        enum pl_outcome outcome, double seconds);

/**
 * Records a request that was not a valid AdmissionReview (answered 400): its
 * kind, operation and dryRun are unknown and labelled "unknown". Thread-safe.
 */
void pl_metrics_invalid(enum pl_endpoint ep, double seconds);

/** Records a violation found by policy (index into pl_policies) in mode. */
void pl_metrics_violation(size_t policy_index, enum pl_mode mode);

/* Namespaces counted by name in plimsoll_namespace_violations_total; the
 * rest (and any name that is not a DNS label) count as "_other". The label is
 * object_namespace: "namespace" is the scrape target's own label in
 * Kubernetes, and Prometheus would rename ours to exported_namespace. */
#define PL_METRICS_MAX_NAMESPACES 64

/**
 * Records n violations (that counted: enforce or warn) in one review of an
 * object in namespace ns. The first PL_METRICS_MAX_NAMESPACES namespaces seen
 * get a series each, so the label stays bounded. Lock-free; thread-safe.
 */
void pl_metrics_namespace_violations(const char *ns, unsigned n);

/** Records a violation of policy that did not count in its mode, and why (SPEC §6). */
void pl_metrics_suppressed(size_t policy_index, enum pl_suppression why);

/** Records a configuration reload attempt. */
void pl_metrics_config_reload(bool ok);

/** Records a request body refused (503) by the buffered-bytes budget (server/http.c). */
void pl_metrics_body_budget_refusal(void);

/** Records a serving certificate reload attempt (files changed). */
void pl_metrics_certificate_reload(bool ok);

/** Records a failed TLS handshake on the webhook port, by reason. Thread-safe. */
void pl_metrics_tls_handshake_failure(enum pl_tls_failure why);

/** The label value of why ("closed-after-certificate", ...); "no-client-hello" when out of range.
 */
const char *pl_metrics_tls_failure_name(enum pl_tls_failure why);

/** Records a connection closed or refused by the HTTP layer's limits. */
void pl_metrics_connection_shed(enum pl_shed why);

/** Appends the whole exposition to out. Returns 0 or -E2BIG. */
PL_MUST_CHECK int pl_metrics_render(struct pl_buf *out, const struct pl_metrics_gauges *g,
                                    const char *version, const char *commit);

#endif
