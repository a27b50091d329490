/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of server/handshake.c: how far a handshake got maps to its
 * bounded reason label, every failure is counted, and the log says so at most
 * once per interval, the next line carrying how many went unlogged in between.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "server/handshake.h"
#include "test/helpers/log_capture.h"

/* The count of reason in the exposition. */
static double count(const char *reason)
{
    struct pl_buf b;
    pl_buf_init(&b, 1u << 20);
    struct pl_metrics_gauges g = {0};
    assert_int_equal(pl_metrics_render(&b, &g, "v", "c"), 0);
    char series[128];
    snprintf(series, sizeof(series), "\nplimsoll_tls_handshake_failures_total{reason=\"%s\"} ",
             reason);
    const char *p = strstr(pl_buf_str(&b), series);
    assert_non_null(p);
    double v = strtod(p + strlen(series), NULL);
    pl_buf_finish(&b);
    return v;
}

static const struct pl_handshake_seen nothing = {.client_hello = false, .certificate = false};
static const struct pl_handshake_seen hello = {.client_hello = true, .certificate = false};
static const struct pl_handshake_seen certificate = {.client_hello = true, .certificate = true};

static void test_classify(void **state)
{
    (void)state;
    assert_int_equal(pl_handshake_classify(certificate), PL_TLS_FAIL_AFTER_CERTIFICATE);
    assert_int_equal(pl_handshake_classify(hello), PL_TLS_FAIL_BEFORE_CERTIFICATE);
    assert_int_equal(pl_handshake_classify(nothing), PL_TLS_FAIL_NO_CLIENT_HELLO);
    assert_string_equal(pl_metrics_tls_failure_name(PL_TLS_FAIL_AFTER_CERTIFICATE),
                        "closed-after-certificate");
    assert_string_equal(pl_metrics_tls_failure_name(PL_TLS_FAIL_BEFORE_CERTIFICATE),
                        "closed-before-certificate");
    assert_string_equal(pl_metrics_tls_failure_name(PL_TLS_FAIL_NO_CLIENT_HELLO),
                        "no-client-hello");
}

static void test_counted_and_rate_limited(void **state)
{
    (void)state;
    double after0 = count("closed-after-certificate"), none0 = count("no-client-hello"),
           before0 = count("closed-before-certificate");
    /* The first failure is logged at once, with the reason and the hint. */
    pl_handshake_failed(certificate, "10.0.0.7", 1000.0);
    json_t *line = pl_test_log_line();
    assert_non_null(line);
    assert_string_equal(json_string_value(json_object_get(line, "msg")), "TLS handshake failed");
    assert_string_equal(json_string_value(json_object_get(line, "level")), "warn");
    assert_string_equal(json_string_value(json_object_get(line, "reason")),
                        "closed-after-certificate");
    assert_string_equal(json_string_value(json_object_get(line, "client")), "10.0.0.7");
    assert_non_null(strstr(json_string_value(json_object_get(line, "error")), "caBundle"));
    assert_int_equal(json_integer_value(json_object_get(line, "unlogged_since_last")), 0);
    json_decref(line);
    /* Within the interval: counted, not logged. */
    for (int i = 0; i < 5; i++) {
        pl_handshake_failed(certificate, "10.0.0.7", 1001.0 + i);
    }
    pl_handshake_failed(hello, "10.0.0.8", 1009.0);
    pl_handshake_failed(nothing, NULL, 1009.9);
    assert_null(pl_test_log_line());
    assert_true(count("closed-after-certificate") == after0 + 6);
    assert_true(count("closed-before-certificate") == before0 + 1);
    assert_true(count("no-client-hello") == none0 + 1);
    /* The interval over: one line, saying how many went unlogged. */
    pl_handshake_failed(nothing, "::1", 1000.0 + PL_HANDSHAKE_LOG_INTERVAL_S);
    line = pl_test_log_line();
    assert_non_null(line);
    assert_string_equal(json_string_value(json_object_get(line, "reason")), "no-client-hello");
    assert_non_null(strstr(json_string_value(json_object_get(line, "error")), "ClientHello"));
    assert_int_equal(json_integer_value(json_object_get(line, "unlogged_since_last")), 7);
    json_decref(line);
    assert_true(count("no-client-hello") == none0 + 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_counted_and_rate_limited),
    };
    return cmocka_run_group_tests(tests, pl_test_log_capture, pl_test_log_restore);
}
