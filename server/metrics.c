/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Metric storage and text exposition (see metrics.h). Metric names follow
 * Prometheus conventions: plimsoll_ prefix, _total for counters, base units.
 */
#include "server/metrics.h"

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "policies/registry.h"
#include "server/process.h"

#define N_KINDS      (PL_KIND_CRONJOB + 1)
#define N_OPS        (PL_OP_CONNECT + 1)
#define MAX_POLICIES 64

/* Up to 30 s: the longest timeoutSeconds the API server allows a webhook, so
 * that a p99 near the configured timeout is visible whatever it is set to. */
static const double buckets[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                 0.025,  0.05,    0.1,    0.25,  0.5,    1.0,   2.5,
                                 5.0,    10.0,    15.0,   20.0,  25.0,   30.0};
#define N_BUCKETS (sizeof(buckets) / sizeof(buckets[0]))

/* [dry_run]: 0 false, 1 true. Invalid reviews (kind and operation unknown) apart. */
static atomic_ullong requests[PL_ENDPOINT_COUNT][N_KINDS][N_OPS][2][PL_OUTCOME_COUNT];
static atomic_ullong invalid[PL_ENDPOINT_COUNT];
static atomic_ullong latency_buckets[PL_ENDPOINT_COUNT][N_BUCKETS];
static atomic_ullong latency_count[PL_ENDPOINT_COUNT];
static atomic_ullong latency_sum_ns[PL_ENDPOINT_COUNT];
static atomic_ullong violations[MAX_POLICIES][3];
/* Indexed by enum pl_suppression; [0] (none) unused. */
#define N_SUPPRESSIONS 4
static atomic_ullong suppressed[MAX_POLICIES][N_SUPPRESSIONS];
static atomic_ullong reloads[2];
static atomic_ullong budget_refusals;
static atomic_ullong cert_reloads[2];
static atomic_ullong shed[PL_SHED_COUNT];
static atomic_ullong tls_failures[PL_TLS_FAIL_COUNT];
/* Whether the last reload attempt (config, certificate) succeeded: 1 until one fails. */
static atomic_int config_last_ok = 1;
static atomic_int cert_last_ok = 1;

/* Namespace slots: claimed once (EMPTY -> WRITING -> READY), never freed. */
enum { SLOT_EMPTY, SLOT_WRITING, SLOT_READY };
static struct {
    atomic_int state;
    char name[64];
    atomic_ullong violations;
} ns_slots[PL_METRICS_MAX_NAMESPACES];
static atomic_ullong ns_other;

static unsigned long long load(atomic_ullong *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

static const char *const endpoint_names[] = {"validate", "mutate"};
static const char *const outcome_names[] = {"allowed", "warned", "rejected", "mutated", "invalid"};
static const char *const kind_names[] = {"Other",
                                         "Pod",
                                         "Deployment",
                                         "StatefulSet",
                                         "DaemonSet",
                                         "ReplicaSet",
                                         "ReplicationController",
                                         "Job",
                                         "CronJob"};
static const char *const op_names[] = {"CREATE", "UPDATE", "DELETE", "CONNECT"};
static const char *const tls_failure_names[] = {"closed-after-certificate",
                                                "closed-before-certificate", "no-client-hello"};

static void observe(enum pl_endpoint ep, double seconds)
{
    for (size_t i = 0; i < N_BUCKETS; i++) {
        if (seconds <= buckets[i]) {
            atomic_fetch_add_explicit(&latency_buckets[ep][i], 1, memory_order_relaxed);
        }
    }
    atomic_fetch_add_explicit(&latency_count[ep], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&latency_sum_ns[ep], (unsigned long long)(seconds * 1e9),
                              memory_order_relaxed);
}

void pl_metrics_request(enum pl_endpoint ep, enum pl_kind kind, enum pl_operation op, bool dry_run,
                        enum pl_outcome outcome, double seconds)
{
    if ((unsigned)ep >= PL_ENDPOINT_COUNT || (unsigned)outcome >= PL_OUTCOME_COUNT ||
        outcome == PL_OUTCOME_INVALID) {
        return;
    }
    if ((unsigned)kind >= N_KINDS) {
        kind = PL_KIND_OTHER;
    }
    if ((unsigned)op >= N_OPS) {
        op = PL_OP_CREATE;
    }
    atomic_fetch_add_explicit(&requests[ep][kind][op][dry_run ? 1 : 0][outcome], 1,
                              memory_order_relaxed);
    observe(ep, seconds);
}

void pl_metrics_invalid(enum pl_endpoint ep, double seconds)
{
    if ((unsigned)ep >= PL_ENDPOINT_COUNT) {
        return;
    }
    atomic_fetch_add_explicit(&invalid[ep], 1, memory_order_relaxed);
    observe(ep, seconds);
}

void pl_metrics_violation(size_t policy_index, enum pl_mode mode)
{
    if (policy_index < MAX_POLICIES && (unsigned)mode < 3) {
        atomic_fetch_add_explicit(&violations[policy_index][mode], 1, memory_order_relaxed);
    }
}

/* Whether ns is a namespace name (a DNS label), safe to write as a label value. */
static bool dns_label(const char *ns)
{
    size_t n = 0;
    for (; ns[n]; n++) {
        char c = ns[n];
        if (n >= 63 || !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
            return false;
        }
    }
    return n > 0;
}

void pl_metrics_namespace_violations(const char *ns, unsigned n)
{
    if (n == 0 || !ns || !*ns) {
        return;
    }
    for (size_t i = 0; dns_label(ns) && i < PL_METRICS_MAX_NAMESPACES; i++) {
        if (atomic_load(&ns_slots[i].state) == SLOT_EMPTY) {
            int expected = SLOT_EMPTY;
            if (atomic_compare_exchange_strong(&ns_slots[i].state, &expected, SLOT_WRITING)) {
                memcpy(ns_slots[i].name, ns, strlen(ns) + 1);
                atomic_fetch_add_explicit(&ns_slots[i].violations, n, memory_order_relaxed);
                atomic_store(&ns_slots[i].state, SLOT_READY);
                return;
            }
        }
        /* Claimed: another thread may still be copying its name (at most 64 bytes). */
        while (atomic_load(&ns_slots[i].state) != SLOT_READY) {
        }
        if (strcmp(ns_slots[i].name, ns) == 0) {
            atomic_fetch_add_explicit(&ns_slots[i].violations, n, memory_order_relaxed);
            return;
        }
    }
    atomic_fetch_add_explicit(&ns_other, n, memory_order_relaxed);
}

static int render_namespace_violations(struct pl_buf *out)
{
    int r = pl_buf_printf(
        out,
        "# HELP plimsoll_namespace_violations_total Violations found (enforce and warn), by "
        "the namespace of the object (object_namespace): the first %d namespaces seen by "
        "name, the rest as \"_other\".\n"
        "# TYPE plimsoll_namespace_violations_total counter\n"
        "plimsoll_namespace_violations_total{object_namespace=\"_other\"} %llu\n",
        PL_METRICS_MAX_NAMESPACES, load(&ns_other));
    for (size_t i = 0; r == 0 && i < PL_METRICS_MAX_NAMESPACES; i++) {
        if (atomic_load(&ns_slots[i].state) != SLOT_READY) {
            continue;
        }
        r = pl_buf_printf(out,
                          "plimsoll_namespace_violations_total{object_namespace=\"%s\"} %llu\n",
                          ns_slots[i].name, load(&ns_slots[i].violations));
    }
    return r;
}

void pl_metrics_suppressed(size_t policy_index, enum pl_suppression why)
{
    if (policy_index < MAX_POLICIES && why != PL_SUPPRESS_NONE && (unsigned)why < N_SUPPRESSIONS) {
        atomic_fetch_add_explicit(&suppressed[policy_index][why], 1, memory_order_relaxed);
    }
}

void pl_metrics_config_reload(bool ok)
{
    atomic_fetch_add_explicit(&reloads[ok ? 1 : 0], 1, memory_order_relaxed);
    atomic_store(&config_last_ok, ok ? 1 : 0);
}

void pl_metrics_body_budget_refusal(void)
{
    atomic_fetch_add_explicit(&budget_refusals, 1, memory_order_relaxed);
}

static int render_requests(struct pl_buf *out)
{
    int r = pl_buf_puts(
        out, "# HELP plimsoll_admission_requests_total Admission reviews answered, by endpoint, "
             "kind, operation, dry run and decision (decision=\"invalid\": not a valid "
             "AdmissionReview, kind, operation and dry_run \"unknown\").\n"
             "# TYPE plimsoll_admission_requests_total counter\n");
    for (size_t e = 0; r == 0 && e < PL_ENDPOINT_COUNT; e++) {
        for (size_t k = 0; r == 0 && k < N_KINDS; k++) {
            for (size_t o = 0; r == 0 && o < N_OPS; o++) {
                for (size_t dr = 0; r == 0 && dr < 2; dr++) {
                    for (size_t d = 0; r == 0 && d < PL_OUTCOME_COUNT; d++) {
                        unsigned long long n = load(&requests[e][k][o][dr][d]);
                        if (n) {
                            r = pl_buf_printf(
                                out,
                                "plimsoll_admission_requests_total{endpoint=\"%s\",kind=\"%s\",operation=\"%s\",dry_run=\"%s\",decision=\"%s\"} %llu\n",
                                endpoint_names[e], kind_names[k], op_names[o],
                                dr ? "true" : "false", outcome_names[d], n);
                        }
                    }
                }
            }
        }
        unsigned long long n = load(&invalid[e]);
        if (r == 0 && n) {
            r = pl_buf_printf(
                out,
                "plimsoll_admission_requests_total{endpoint=\"%s\",kind=\"unknown\",operation=\"unknown\",dry_run=\"unknown\",decision=\"invalid\"} %llu\n",
                endpoint_names[e], n);
        }
    }
    return r;
}

static int render_latency(struct pl_buf *out)
{
    int r = pl_buf_puts(
        out,
        "# HELP plimsoll_admission_duration_seconds Time to answer a review, from full body to response.\n"
        "# TYPE plimsoll_admission_duration_seconds histogram\n");
    for (size_t e = 0; r == 0 && e < PL_ENDPOINT_COUNT; e++) {
        for (size_t i = 0; r == 0 && i < N_BUCKETS; i++) {
            r = pl_buf_printf(
                out, "plimsoll_admission_duration_seconds_bucket{endpoint=\"%s\",le=\"%g\"} %llu\n",
                endpoint_names[e], buckets[i], load(&latency_buckets[e][i]));
        }
        unsigned long long count = load(&latency_count[e]);
        if (r == 0) {
            r = pl_buf_printf(
                out,
                "plimsoll_admission_duration_seconds_bucket{endpoint=\"%s\",le=\"+Inf\"} %llu\n"
                "plimsoll_admission_duration_seconds_sum{endpoint=\"%s\"} %.9f\n"
                "plimsoll_admission_duration_seconds_count{endpoint=\"%s\"} %llu\n",
                endpoint_names[e], count, endpoint_names[e], (double)load(&latency_sum_ns[e]) / 1e9,
                endpoint_names[e], count);
        }
    }
    return r;
}

static int render_violations(struct pl_buf *out)
{
    int r = pl_buf_puts(
        out, "# HELP plimsoll_violations_total Violations found, by policy and effective mode.\n"
             "# TYPE plimsoll_violations_total counter\n");
    for (size_t i = 0; r == 0 && pl_policies[i] && i < MAX_POLICIES; i++) {
        for (int m = PL_MODE_WARN; r == 0 && m <= PL_MODE_ENFORCE; m++) {
            r = pl_buf_printf(out, "plimsoll_violations_total{policy=\"%s\",mode=\"%s\"} %llu\n",
                              pl_policies[i]->id, pl_mode_name((enum pl_mode)m),
                              load(&violations[i][m]));
        }
    }
    if (r == 0) {
        r = pl_buf_puts(
            out, "# HELP plimsoll_suppressed_violations_total Violations that did not count in "
                 "their policy's mode, by policy and reason: exempt (plimsoll.dev/exempt), "
                 "grandfathered (already in the stored object), controller (a Pod or object a "
                 "controller made from an admitted workload).\n"
                 "# TYPE plimsoll_suppressed_violations_total counter\n");
    }
    for (size_t i = 0; r == 0 && pl_policies[i] && i < MAX_POLICIES; i++) {
        for (int w = PL_SUPPRESS_EXEMPT; r == 0 && w < N_SUPPRESSIONS; w++) {
            r = pl_buf_printf(
                out, "plimsoll_suppressed_violations_total{policy=\"%s\",reason=\"%s\"} %llu\n",
                pl_policies[i]->id, pl_suppression_name((enum pl_suppression)w),
                load(&suppressed[i][w]));
        }
    }
    return r;
}

void pl_metrics_certificate_reload(bool ok)
{
    atomic_fetch_add_explicit(&cert_reloads[ok ? 1 : 0], 1, memory_order_relaxed);
    atomic_store(&cert_last_ok, ok ? 1 : 0);
}

void pl_metrics_tls_handshake_failure(enum pl_tls_failure why)
{
    if ((unsigned)why < PL_TLS_FAIL_COUNT) {
        atomic_fetch_add_explicit(&tls_failures[why], 1, memory_order_relaxed);
    }
}

const char *pl_metrics_tls_failure_name(enum pl_tls_failure why)
{
    return (unsigned)why < PL_TLS_FAIL_COUNT ? tls_failure_names[why] : "no-client-hello";
}

static int render_tls_failures(struct pl_buf *out)
{
    int r = pl_buf_puts(
        out, "# HELP plimsoll_tls_handshake_failures_total TLS handshakes on the webhook port "
             "that did not complete, by how far they got: closed-after-certificate (the client "
             "had the serving certificate and did not accept it: a caBundle without its CA, "
             "expiry, a wrong name), closed-before-certificate (no common TLS version or cipher "
             "suite), no-client-hello (not TLS, or a port probe).\n"
             "# TYPE plimsoll_tls_handshake_failures_total counter\n");
    for (size_t i = 0; r == 0 && i < PL_TLS_FAIL_COUNT; i++) {
        r = pl_buf_printf(out, "plimsoll_tls_handshake_failures_total{reason=\"%s\"} %llu\n",
                          tls_failure_names[i], load(&tls_failures[i]));
    }
    return r;
}

void pl_metrics_connection_shed(enum pl_shed why)
{
    if ((unsigned)why < PL_SHED_COUNT) {
        atomic_fetch_add_explicit(&shed[why], 1, memory_order_relaxed);
    }
}

/* Certificate reloads and connections shed by the HTTP layer's limits. */
static int render_tls(struct pl_buf *out, const struct pl_metrics_gauges *g)
{
    return pl_buf_printf(
        out,
        "# HELP plimsoll_certificate_reloads_total Serving certificate loads after start-up, by result (failure: the files did not load, did not match, or the certificate was expired or not yet valid; the previous one stayed).\n"
        "# TYPE plimsoll_certificate_reloads_total counter\n"
        "plimsoll_certificate_reloads_total{result=\"success\"} %llu\n"
        "plimsoll_certificate_reloads_total{result=\"failure\"} %llu\n"
        "# HELP plimsoll_certificate_last_reload_successful Whether the last serving certificate load after start-up succeeded (1 before any).\n"
        "# TYPE plimsoll_certificate_last_reload_successful gauge\n"
        "plimsoll_certificate_last_reload_successful %d\n"
        "# HELP plimsoll_certificate_pairs Serving key pairs in memory: the one in force and retired ones still held by a TLS session.\n"
        "# TYPE plimsoll_certificate_pairs gauge\n"
        "plimsoll_certificate_pairs %u\n"
        "# HELP plimsoll_connections_shed_total Connections (webhook and health ports) closed or refused by the connection deadlines and caps, by reason.\n"
        "# TYPE plimsoll_connections_shed_total counter\n"
        "plimsoll_connections_shed_total{reason=\"header-timeout\"} %llu\n"
        "plimsoll_connections_shed_total{reason=\"request-timeout\"} %llu\n"
        "plimsoll_connections_shed_total{reason=\"evicted\"} %llu\n"
        "plimsoll_connections_shed_total{reason=\"address-cap\"} %llu\n"
        "plimsoll_connections_shed_total{reason=\"refused\"} %llu\n",
        load(&cert_reloads[1]), load(&cert_reloads[0]), atomic_load(&cert_last_ok),
        g->certificate_pairs, load(&shed[PL_SHED_HEADER_TIMEOUT]),
        load(&shed[PL_SHED_REQUEST_TIMEOUT]), load(&shed[PL_SHED_EVICTED]),
        load(&shed[PL_SHED_ADDRESS_CAP]), load(&shed[PL_SHED_REFUSED]));
}

int pl_metrics_render(struct pl_buf *out, const struct pl_metrics_gauges *g, const char *version,
                      const char *commit)
{
    int r = pl_buf_printf(out,
                          "# HELP plimsoll_build_info Build information.\n"
                          "# TYPE plimsoll_build_info gauge\n"
                          "plimsoll_build_info{version=\"%s\",commit=\"%s\"} 1\n"
                          "# HELP plimsoll_ready Whether /readyz answers 200.\n"
                          "# TYPE plimsoll_ready gauge\nplimsoll_ready %d\n"
                          "# HELP plimsoll_draining Whether shutdown has begun.\n"
                          "# TYPE plimsoll_draining gauge\nplimsoll_draining %d\n",
                          version, commit, g->ready, g->draining);
    if (r == 0) {
        r = render_requests(out);
    }
    if (r == 0) {
        r = render_latency(out);
    }
    if (r == 0) {
        r = render_violations(out);
    }
    if (r == 0) {
        r = render_namespace_violations(out);
    }
    if (r == 0) {
        r = pl_buf_printf(
            out,
            "# HELP plimsoll_config_reloads_total Configuration loads after start-up, by result.\n"
            "# TYPE plimsoll_config_reloads_total counter\n"
            "plimsoll_config_reloads_total{result=\"success\"} %llu\n"
            "plimsoll_config_reloads_total{result=\"failure\"} %llu\n"
            "# HELP plimsoll_config_last_reload_successful Whether the last configuration load "
            "after start-up succeeded (1 before any).\n"
            "# TYPE plimsoll_config_last_reload_successful gauge\n"
            "plimsoll_config_last_reload_successful %d\n"
            "# HELP plimsoll_body_budget_refusals_total Request bodies answered 503 because the "
            "large bodies held at once passed the buffered-bytes budget.\n"
            "# TYPE plimsoll_body_budget_refusals_total counter\n"
            "plimsoll_body_budget_refusals_total %llu\n",
            load(&reloads[1]), load(&reloads[0]), atomic_load(&config_last_ok),
            load(&budget_refusals));
    }
    if (r == 0) {
        r = render_tls(out, g);
    }
    if (r == 0) {
        r = render_tls_failures(out);
    }
    if (r == 0 && g->namespace_view_configured) {
        r = pl_buf_printf(
            out,
            "# HELP plimsoll_namespace_view_synced Whether the first namespace list succeeded.\n"
            "# TYPE plimsoll_namespace_view_synced gauge\nplimsoll_namespace_view_synced %d\n"
            "# HELP plimsoll_namespace_view_staleness_seconds Seconds since the namespace view was last known current.\n"
            "# TYPE plimsoll_namespace_view_staleness_seconds gauge\n"
            "plimsoll_namespace_view_staleness_seconds %.3f\n"
            "# HELP plimsoll_namespace_watch_errors_total Requests of the namespace watch to the API server that failed (each is retried with backoff), by request.\n"
            "# TYPE plimsoll_namespace_watch_errors_total counter\n"
            "plimsoll_namespace_watch_errors_total{request=\"list\"} %llu\n"
            "plimsoll_namespace_watch_errors_total{request=\"watch\"} %llu\n",
            g->namespace_view_synced, g->namespace_view_staleness_seconds, g->watch_list_errors,
            g->watch_watch_errors);
    }
    if (r == 0 && g->certificate_not_after > 0) {
        r = pl_buf_printf(
            out,
            "# HELP plimsoll_certificate_expiry_timestamp_seconds notAfter of the serving certificate.\n"
            "# TYPE plimsoll_certificate_expiry_timestamp_seconds gauge\n"
            "plimsoll_certificate_expiry_timestamp_seconds %.0f\n",
            g->certificate_not_after);
    }
    if (r == 0) {
        r = pl_process_metrics_render(out);
    }
    return r;
}
