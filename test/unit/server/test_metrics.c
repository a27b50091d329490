/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of server/metrics.c: the text exposition (HELP and TYPE once
 * per family, build info, gauges shown only when known), request counters
 * by endpoint/kind/operation/decision, the cumulative latency histogram
 * with its +Inf bucket, sum and count, violations by policy and mode,
 * config and certificate reloads, connections shed by the HTTP limits,
 * certificate pairs alive, out-of-range arguments folded or ignored, and the
 * buffer ceiling (-E2BIG). Counters are process-wide: every test starts
 * from zeroed counters (reset_counters, reaching the statics by including
 * the .c), so no test depends on which ran before it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "policies/registry.h"
#include "server/metrics.c"

/* Zeroes every counter of metrics.c, as a fresh process has them. */
static int reset_counters(void **state)
{
    (void)state;
    memset(requests, 0, sizeof(requests));
    memset(latency_buckets, 0, sizeof(latency_buckets));
    memset(latency_count, 0, sizeof(latency_count));
    memset(latency_sum_ns, 0, sizeof(latency_sum_ns));
    memset(violations, 0, sizeof(violations));
    memset(suppressed, 0, sizeof(suppressed));
    memset(reloads, 0, sizeof(reloads));
    memset(&budget_refusals, 0, sizeof(budget_refusals));
    memset(cert_reloads, 0, sizeof(cert_reloads));
    memset(shed, 0, sizeof(shed));
    memset(invalid, 0, sizeof(invalid));
    memset(tls_failures, 0, sizeof(tls_failures));
    memset(ns_slots, 0, sizeof(ns_slots));
    memset(&ns_other, 0, sizeof(ns_other));
    atomic_store(&config_last_ok, 1);
    atomic_store(&cert_last_ok, 1);
    return 0;
}

static const struct pl_metrics_gauges no_gauges = {0};

/* The whole exposition as a new string (free with free()). */
static char *render(const struct pl_metrics_gauges *g)
{
    struct pl_buf b;
    pl_buf_init(&b, 1u << 20);
    assert_int_equal(pl_metrics_render(&b, g, "0.1.0", "abc123"), 0);
    return pl_buf_steal(&b);
}

/* The value of the series (name plus labels, exactly) in text; -1 when absent. */
static double value(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, series, n) == 0 && p[n] == ' ') {
            return strtod(p + n + 1, NULL);
        }
    }
    return -1;
}

/* The exposition without the process_* families (rendered last), whose values
 * (CPU time, memory) change between two renders. */
static char *render_stable(const struct pl_metrics_gauges *g)
{
    char *text = render(g);
    char *process = strstr(text, "# HELP process_");
    if (process) {
        *process = '\0';
    }
    return text;
}

static double value_now(const char *series)
{
    char *text = render(&no_gauges);
    double v = value(text, series);
    free(text);
    return v;
}

static size_t occurrences(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle)) {
        n++;
    }
    return n;
}

static void test_fresh_exposition(void **state)
{
    (void)state;
    /* Nothing recorded yet (reset_counters). */
    char *text = render(&no_gauges);
    assert_non_null(strstr(text, "# HELP plimsoll_build_info Build information.\n"
                                 "# TYPE plimsoll_build_info gauge\n"
                                 "plimsoll_build_info{version=\"0.1.0\",commit=\"abc123\"} 1\n"));
    assert_int_equal(value(text, "plimsoll_ready"), 0);
    assert_int_equal(value(text, "plimsoll_draining"), 0);
    assert_null(strstr(text, "plimsoll_admission_requests_total{"));
    assert_int_equal(
        value(text, "plimsoll_admission_duration_seconds_count{endpoint=\"validate\"}"), 0);
    assert_int_equal(
        value(text, "plimsoll_admission_duration_seconds_bucket{endpoint=\"mutate\",le=\"+Inf\"}"),
        0);
    assert_int_equal(value(text, "plimsoll_config_reloads_total{result=\"success\"}"), 0);
    assert_int_equal(value(text, "plimsoll_config_reloads_total{result=\"failure\"}"), 0);
    assert_int_equal(value(text, "plimsoll_body_budget_refusals_total"), 0);
    /* Every policy has a violations series in both modes. */
    for (size_t i = 0; pl_policies[i]; i++) {
        char series[256];
        snprintf(series, sizeof(series), "plimsoll_violations_total{policy=\"%s\",mode=\"warn\"}",
                 pl_policies[i]->id);
        assert_int_equal(value(text, series), 0);
        snprintf(series, sizeof(series),
                 "plimsoll_violations_total{policy=\"%s\",mode=\"enforce\"}", pl_policies[i]->id);
        assert_int_equal(value(text, series), 0);
    }
    assert_null(strstr(text, "mode=\"off\""));
    /* And a suppressed series for each reason. */
    for (size_t i = 0; pl_policies[i]; i++) {
        static const char *const reasons[] = {"exempt", "grandfathered", "controller"};
        for (size_t k = 0; k < 3; k++) {
            char series[256];
            snprintf(series, sizeof(series),
                     "plimsoll_suppressed_violations_total{policy=\"%s\",reason=\"%s\"}",
                     pl_policies[i]->id, reasons[k]);
            assert_int_equal(value(text, series), 0);
        }
    }
    /* Gauges not known are not shown. */
    assert_null(strstr(text, "plimsoll_namespace_view"));
    assert_null(strstr(text, "plimsoll_certificate_expiry"));
    /* One HELP and one TYPE per family, and every line ends in a newline. */
    assert_int_equal(occurrences(text, "# TYPE "), 22);
    assert_int_equal(occurrences(text, "# HELP "), 22);
    assert_int_equal(occurrences(text, "# TYPE plimsoll_admission_duration_seconds histogram\n"),
                     1);
    assert_int_equal(text[strlen(text) - 1], '\n');
    free(text);
}

static void test_request_counters(void **state)
{
    (void)state;
    const char *series =
        "plimsoll_admission_requests_total{endpoint=\"validate\",kind="
        "\"Deployment\",operation=\"CREATE\",dry_run=\"false\",decision=\"rejected\"}";
    double before = value_now(series);
    pl_metrics_request(PL_ENDPOINT_VALIDATE, PL_KIND_DEPLOYMENT, PL_OP_CREATE, false,
                       PL_OUTCOME_REJECTED, 0.001);
    pl_metrics_request(PL_ENDPOINT_VALIDATE, PL_KIND_DEPLOYMENT, PL_OP_CREATE, false,
                       PL_OUTCOME_REJECTED, 0.001);
    assert_int_equal(value_now(series), (before < 0 ? 0 : before) + 2);
    pl_metrics_request(PL_ENDPOINT_MUTATE, PL_KIND_CRONJOB, PL_OP_UPDATE, false, PL_OUTCOME_MUTATED,
                       0);
    assert_int_equal(
        value_now("plimsoll_admission_requests_total{endpoint=\"mutate\",kind="
                  "\"CronJob\",operation=\"UPDATE\",dry_run=\"false\",decision=\"mutated\"}"),
        1);
    pl_metrics_request(PL_ENDPOINT_VALIDATE, PL_KIND_OTHER, PL_OP_DELETE, false, PL_OUTCOME_ALLOWED,
                       0);
    assert_int_equal(
        value_now("plimsoll_admission_requests_total{endpoint=\"validate\",kind="
                  "\"Other\",operation=\"DELETE\",dry_run=\"false\",decision=\"allowed\"}"),
        1);
}

static void test_out_of_range_arguments(void **state)
{
    (void)state;
    const char *count = "plimsoll_admission_duration_seconds_count{endpoint=\"validate\"}";
    double before = value_now(count);
    /* Unknown endpoint or outcome: ignored. */
    pl_metrics_request((enum pl_endpoint)7, PL_KIND_POD, PL_OP_CREATE, false, PL_OUTCOME_ALLOWED,
                       0.1);
    pl_metrics_request(PL_ENDPOINT_VALIDATE, PL_KIND_POD, PL_OP_CREATE, false, (enum pl_outcome)9,
                       0.1);
    pl_metrics_request(PL_ENDPOINT_COUNT, PL_KIND_POD, PL_OP_CREATE, false, PL_OUTCOME_ALLOWED,
                       0.1);
    assert_true(value_now(count) == before);
    /* Unknown kind folds into Other, unknown operation into CREATE. */
    const char *series = "plimsoll_admission_requests_total{endpoint=\"validate\",kind=\"Other\","
                         "operation=\"CREATE\",dry_run=\"true\",decision=\"allowed\"}";
    double series_before = value_now(series);
    pl_metrics_request(PL_ENDPOINT_VALIDATE, (enum pl_kind)99, (enum pl_operation)42, true,
                       PL_OUTCOME_ALLOWED, 0.1);
    assert_int_equal(value_now(series), (series_before < 0 ? 0 : series_before) + 1);
    assert_true(value_now(count) == before + 1);
    /* An invalid review is never counted as a CREATE of some kind: only pl_metrics_invalid
     * counts it, with kind, operation and dry_run unknown. */
    char *text_before_invalid = render_stable(&no_gauges);
    pl_metrics_request(PL_ENDPOINT_VALIDATE, PL_KIND_POD, PL_OP_CREATE, false, PL_OUTCOME_INVALID,
                       0.1);
    char *text_after_invalid = render_stable(&no_gauges);
    assert_string_equal(text_before_invalid, text_after_invalid);
    free(text_before_invalid);
    free(text_after_invalid);
    const char *inv = "plimsoll_admission_requests_total{endpoint=\"validate\",kind=\"unknown\","
                      "operation=\"unknown\",dry_run=\"unknown\",decision=\"invalid\"}";
    double inv_before = value_now(inv);
    pl_metrics_invalid(PL_ENDPOINT_VALIDATE, 0.01);
    pl_metrics_invalid(PL_ENDPOINT_COUNT, 0.01); /* ignored */
    assert_int_equal(value_now(inv), (inv_before < 0 ? 0 : inv_before) + 1);
    assert_true(value_now(count) == before + 2);
    char *all = render(&no_gauges);
    assert_null(strstr(all, "operation=\"CREATE\",dry_run=\"false\",decision=\"invalid\""));
    free(all);
    /* Violations: out-of-range index or mode ignored. */
    char *text_before = render_stable(&no_gauges);
    pl_metrics_violation(100000, PL_MODE_ENFORCE);
    pl_metrics_violation(0, (enum pl_mode)5);
    char *text_after = render_stable(&no_gauges);
    assert_string_equal(text_before, text_after);
    free(text_before);
    free(text_after);
}

static void test_latency_histogram(void **state)
{
    (void)state;
    const char *le[] = {"0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01",
                        "0.025",  "0.05",    "0.1",    "0.25",  "0.5",    "1",     "2.5",
                        "5",      "10",      "15",     "20",    "25",     "30",    "+Inf"};
    const size_t n_le = sizeof(le) / sizeof(le[0]);
    double before[21];
    char series[21][128];
    for (size_t i = 0; i < n_le; i++) {
        snprintf(series[i], sizeof(series[i]),
                 "plimsoll_admission_duration_seconds_bucket{endpoint=\"mutate\",le=\"%s\"}",
                 le[i]);
        before[i] = value_now(series[i]);
        assert_true(before[i] >= 0);
    }
    const char *sum = "plimsoll_admission_duration_seconds_sum{endpoint=\"mutate\"}";
    const char *count = "plimsoll_admission_duration_seconds_count{endpoint=\"mutate\"}";
    double sum_before = value_now(sum);
    double count_before = value_now(count);

    /* 0.003 s: in every bucket from le=0.005 up. 0.0001 s: exactly on the first bound.
     * 2 s: from le=2.5 up. 31 s (past the longest webhook timeout): only +Inf. */
    pl_metrics_request(PL_ENDPOINT_MUTATE, PL_KIND_POD, PL_OP_CREATE, false, PL_OUTCOME_ALLOWED,
                       0.003);
    pl_metrics_request(PL_ENDPOINT_MUTATE, PL_KIND_POD, PL_OP_CREATE, false, PL_OUTCOME_ALLOWED,
                       0.0001);
    pl_metrics_request(PL_ENDPOINT_MUTATE, PL_KIND_POD, PL_OP_CREATE, false, PL_OUTCOME_ALLOWED,
                       2.0);
    pl_metrics_request(PL_ENDPOINT_MUTATE, PL_KIND_POD, PL_OP_CREATE, false, PL_OUTCOME_ALLOWED,
                       31.0);
    const int want[21] = {1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 4};
    for (size_t i = 0; i < n_le; i++) {
        double got = value_now(series[i]) - before[i];
        if (got != want[i]) {
            fail_msg("bucket le=%s grew by %g, expected %d", le[i], got, want[i]);
        }
    }
    assert_true(value_now(count) == count_before + 4);
    double sum_delta = value_now(sum) - sum_before;
    assert_float_equal(sum_delta, 33.0031, 1e-6);
}

static void test_violations_and_reloads(void **state)
{
    (void)state;
    int index = pl_policy_index("image-tag");
    assert_true(index >= 0);
    const char *enforce = "plimsoll_violations_total{policy=\"image-tag\",mode=\"enforce\"}";
    const char *warn = "plimsoll_violations_total{policy=\"image-tag\",mode=\"warn\"}";
    double e0 = value_now(enforce), w0 = value_now(warn);
    pl_metrics_violation((size_t)index, PL_MODE_ENFORCE);
    pl_metrics_violation((size_t)index, PL_MODE_ENFORCE);
    pl_metrics_violation((size_t)index, PL_MODE_WARN);
    pl_metrics_violation((size_t)index, PL_MODE_OFF); /* counted nowhere visible */
    assert_true(value_now(enforce) == e0 + 2);
    assert_true(value_now(warn) == w0 + 1);

    const char *ok = "plimsoll_config_reloads_total{result=\"success\"}";
    const char *bad = "plimsoll_config_reloads_total{result=\"failure\"}";
    double ok0 = value_now(ok), bad0 = value_now(bad);
    pl_metrics_config_reload(true);
    pl_metrics_config_reload(false);
    pl_metrics_config_reload(false);
    assert_true(value_now(ok) == ok0 + 1);
    assert_true(value_now(bad) == bad0 + 2);

    const char *refusals = "plimsoll_body_budget_refusals_total";
    double r0 = value_now(refusals);
    pl_metrics_body_budget_refusal();
    assert_true(value_now(refusals) == r0 + 1);
}

static void test_certificate_reloads_and_shed_connections(void **state)
{
    (void)state;
    const char *ok = "plimsoll_certificate_reloads_total{result=\"success\"}";
    const char *bad = "plimsoll_certificate_reloads_total{result=\"failure\"}";
    const char *evicted = "plimsoll_connections_shed_total{reason=\"evicted\"}";
    const char *header = "plimsoll_connections_shed_total{reason=\"header-timeout\"}";
    double ok0 = value_now(ok), bad0 = value_now(bad), ev0 = value_now(evicted),
           h0 = value_now(header);
    pl_metrics_certificate_reload(true);
    pl_metrics_certificate_reload(false);
    pl_metrics_certificate_reload(false);
    pl_metrics_connection_shed(PL_SHED_EVICTED);
    pl_metrics_connection_shed(PL_SHED_HEADER_TIMEOUT);
    pl_metrics_connection_shed(PL_SHED_COUNT); /* out of range: ignored */
    pl_metrics_connection_shed((enum pl_shed) - 1);
    assert_true(value_now(ok) == ok0 + 1);
    assert_true(value_now(bad) == bad0 + 2);
    assert_true(value_now(evicted) == ev0 + 1);
    assert_true(value_now(header) == h0 + 1);
    struct pl_metrics_gauges g = {.certificate_pairs = 3};
    char *text = render(&g);
    assert_int_equal(value(text, "plimsoll_certificate_pairs"), 3);
    free(text);
}

static void test_gauges(void **state)
{
    (void)state;
    struct pl_metrics_gauges g = {
        .ready = true,
        .draining = true,
        .namespace_view_configured = true,
        .namespace_view_synced = false,
        .namespace_view_staleness_seconds = 12.3456,
        .certificate_not_after = 1893456000.0,
        .config_source = "/etc/plimsoll/config.yaml",
    };
    char *text = render(&g);
    assert_int_equal(value(text, "plimsoll_ready"), 1);
    assert_int_equal(value(text, "plimsoll_draining"), 1);
    assert_non_null(strstr(text, "\nplimsoll_namespace_view_synced 0\n"));
    assert_non_null(strstr(text, "\nplimsoll_namespace_view_staleness_seconds 12.346\n"));
    assert_non_null(strstr(text, "\nplimsoll_certificate_expiry_timestamp_seconds 1893456000\n"));
    assert_int_equal(occurrences(text, "# TYPE "), 26);
    assert_int_equal(value(text, "plimsoll_namespace_watch_errors_total{request=\"list\"}"), 0);
    free(text);
    g.watch_list_errors = 3;
    g.watch_watch_errors = 7;
    text = render(&g);
    assert_int_equal(value(text, "plimsoll_namespace_watch_errors_total{request=\"list\"}"), 3);
    assert_int_equal(value(text, "plimsoll_namespace_watch_errors_total{request=\"watch\"}"), 7);
    free(text);
    g.namespace_view_synced = true;
    g.namespace_view_staleness_seconds = 0;
    text = render(&g);
    assert_non_null(strstr(text, "\nplimsoll_namespace_view_synced 1\n"));
    assert_non_null(strstr(text, "\nplimsoll_namespace_view_staleness_seconds 0.000\n"));
    free(text);
}

static void test_buffer_ceiling(void **state)
{
    (void)state;
    char *full = render(&no_gauges);
    size_t need = strlen(full);
    free(full);
    struct pl_buf b;
    /* The process_* values (CPU, memory) may change length between two
     * renders: leave them room. */
    pl_buf_init(&b, need - 64);
    assert_int_equal(pl_metrics_render(&b, &no_gauges, "0.1.0", "abc123"), -E2BIG);
    assert_true(b.len <= need - 64);
    pl_buf_finish(&b);
    pl_buf_init(&b, 100);
    assert_int_equal(pl_metrics_render(&b, &no_gauges, "0.1.0", "abc123"), -E2BIG);
    pl_buf_finish(&b);
    pl_buf_init(&b, need + 64);
    assert_int_equal(pl_metrics_render(&b, &no_gauges, "0.1.0", "abc123"), 0);
    pl_buf_finish(&b);
}

static void test_last_reload_gauges(void **state)
{
    (void)state;
    pl_metrics_config_reload(false);
    assert_int_equal(value_now("plimsoll_config_last_reload_successful"), 0);
    pl_metrics_config_reload(true);
    assert_int_equal(value_now("plimsoll_config_last_reload_successful"), 1);
    pl_metrics_certificate_reload(false);
    assert_int_equal(value_now("plimsoll_certificate_last_reload_successful"), 0);
    pl_metrics_certificate_reload(true);
    assert_int_equal(value_now("plimsoll_certificate_last_reload_successful"), 1);
}

static void test_tls_handshake_failures(void **state)
{
    (void)state;
    static const char *const reasons[] = {"closed-after-certificate", "closed-before-certificate",
                                          "no-client-hello"};
    char series[128];
    for (size_t i = 0; i < PL_TLS_FAIL_COUNT; i++) {
        assert_string_equal(pl_metrics_tls_failure_name((enum pl_tls_failure)i), reasons[i]);
        snprintf(series, sizeof(series), "plimsoll_tls_handshake_failures_total{reason=\"%s\"}",
                 reasons[i]);
        double before = value_now(series);
        assert_true(before >= 0);
        pl_metrics_tls_handshake_failure((enum pl_tls_failure)i);
        assert_true(value_now(series) == before + 1);
    }
    char *a = render(&no_gauges);
    pl_metrics_tls_handshake_failure(PL_TLS_FAIL_COUNT); /* out of range: ignored */
    char *b = render(&no_gauges);
    assert_int_equal(occurrences(a, "plimsoll_tls_handshake_failures_total{"), PL_TLS_FAIL_COUNT);
    for (size_t i = 0; i < PL_TLS_FAIL_COUNT; i++) {
        snprintf(series, sizeof(series), "plimsoll_tls_handshake_failures_total{reason=\"%s\"}",
                 reasons[i]);
        assert_true(value(a, series) == value(b, series));
    }
    free(a);
    free(b);
}

static void test_namespace_violations(void **state)
{
    (void)state;
    const char *other = "plimsoll_namespace_violations_total{object_namespace=\"_other\"}";
    double other0 = value_now(other);
    pl_metrics_namespace_violations("shop", 2);
    pl_metrics_namespace_violations("shop", 1);
    pl_metrics_namespace_violations("shop", 0); /* nothing */
    pl_metrics_namespace_violations("", 5);     /* cluster-scoped: not a namespace */
    assert_int_equal(value_now("plimsoll_namespace_violations_total{object_namespace=\"shop\"}"),
                     3);
    /* A name that is not a DNS label never becomes a label value. */
    pl_metrics_namespace_violations("a\"b\nc", 1);
    pl_metrics_namespace_violations("UPPER", 1);
    assert_true(value_now(other) == other0 + 2);
    /* Past the cap, new namespaces are counted as _other; known ones keep their series. */
    char ns[32];
    for (int i = 0; i < PL_METRICS_MAX_NAMESPACES + 10; i++) {
        snprintf(ns, sizeof(ns), "ns-%d", i);
        pl_metrics_namespace_violations(ns, 1);
    }
    pl_metrics_namespace_violations("shop", 1);
    char *text = render(&no_gauges);
    assert_int_equal(occurrences(text, "\nplimsoll_namespace_violations_total{"),
                     PL_METRICS_MAX_NAMESPACES + 1);
    assert_int_equal(value(text, "plimsoll_namespace_violations_total{object_namespace=\"shop\"}"),
                     4);
    /* shop took one slot: ns-0 .. ns-62 have theirs, the 11 others went to _other. */
    assert_int_equal(value(text, "plimsoll_namespace_violations_total{object_namespace=\"ns-62\"}"),
                     1);
    assert_null(strstr(text, "object_namespace=\"ns-63\""));
    assert_true(value(text, other) == other0 + 2 + 11);
    free(text);
}

static void test_process_metrics(void **state)
{
    (void)state;
    char *text = render(&no_gauges);
    assert_non_null(strstr(text, "# TYPE process_cpu_seconds_total counter\n"));
    assert_true(value(text, "process_cpu_seconds_total") >= 0);
    /* This test process holds megabytes, and stdin/stdout/stderr at least. */
    assert_true(value(text, "process_resident_memory_bytes") > 1e6);
    assert_true(value(text, "process_virtual_memory_bytes") >=
                value(text, "process_resident_memory_bytes"));
    assert_true(value(text, "process_open_fds") >= 3);
    assert_true(value(text, "process_max_fds") >= value(text, "process_open_fds"));
    /* Started within the last day, and not in the future. */
    double start = value(text, "process_start_time_seconds");
    double now = (double)time(NULL);
    assert_true(start > now - 86400 && start <= now + 1);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_fresh_exposition, reset_counters),
        cmocka_unit_test_setup(test_request_counters, reset_counters),
        cmocka_unit_test_setup(test_out_of_range_arguments, reset_counters),
        cmocka_unit_test_setup(test_latency_histogram, reset_counters),
        cmocka_unit_test_setup(test_violations_and_reloads, reset_counters),
        cmocka_unit_test_setup(test_gauges, reset_counters),
        cmocka_unit_test_setup(test_buffer_ceiling, reset_counters),
        cmocka_unit_test_setup(test_certificate_reloads_and_shed_connections, reset_counters),
        cmocka_unit_test_setup(test_last_reload_gauges, reset_counters),
        cmocka_unit_test_setup(test_tls_handshake_failures, reset_counters),
        cmocka_unit_test_setup(test_namespace_violations, reset_counters),
        cmocka_unit_test_setup(test_process_metrics, reset_counters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
