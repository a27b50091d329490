/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of server/handshake.c: each client alert maps to its bounded
 * reason label, every failure is counted, and the log says so at most once
 * per interval, the next line carrying how many went unlogged in between.
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
#include <gnutls/gnutls.h>
#include <jansson.h>

#include "server/handshake.h"
#include "test/helpers/log_capture.h"

/* The next log line as JSON, or NULL when nothing was logged. */
static json_t *read_line(void)
{
    static char buf[65536];
    ssize_t n = read(pl_test_log_fd(), buf, sizeof(buf) - 1);
    if (n <= 0) {
        return NULL;
    }
    buf[n] = '\0';
    char *nl = strchr(buf, '\n');
    assert_non_null(nl);
    assert_int_equal(nl[1], '\0'); /* exactly one line */
    json_error_t jerr;
    json_t *line = json_loadb(buf, (size_t)(nl - buf), 0, &jerr);
    assert_non_null(line);
    return line;
}

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

static void test_classify(void **state)
{
    (void)state;
    assert_int_equal(pl_handshake_classify(GNUTLS_A_UNKNOWN_CA, true), PL_TLS_FAIL_UNKNOWN_CA);
    assert_int_equal(pl_handshake_classify(GNUTLS_A_BAD_CERTIFICATE, true),
                     PL_TLS_FAIL_BAD_CERTIFICATE);
    assert_int_equal(pl_handshake_classify(GNUTLS_A_CERTIFICATE_EXPIRED, true),
                     PL_TLS_FAIL_CERTIFICATE_EXPIRED);
    assert_int_equal(pl_handshake_classify(GNUTLS_A_CERTIFICATE_UNKNOWN, true),
                     PL_TLS_FAIL_CERTIFICATE_OTHER);
    assert_int_equal(pl_handshake_classify(GNUTLS_A_PROTOCOL_VERSION, true), PL_TLS_FAIL_PROTOCOL);
    assert_int_equal(pl_handshake_classify(GNUTLS_A_HANDSHAKE_FAILURE, true), PL_TLS_FAIL_PROTOCOL);
    assert_int_equal(pl_handshake_classify(GNUTLS_A_DECODE_ERROR, true), PL_TLS_FAIL_OTHER_ALERT);
    /* No alert read: whether the client had our certificate tells the two apart. */
    assert_int_equal(pl_handshake_classify(-1, true), PL_TLS_FAIL_AFTER_CERTIFICATE);
    assert_int_equal(pl_handshake_classify(-1, false), PL_TLS_FAIL_NO_ALERT);
}

static void test_counted_and_rate_limited(void **state)
{
    (void)state;
    double unknown0 = count("unknown-ca"), none0 = count("no-alert");
    /* The first failure is logged at once, with the alert and the hint. */
    pl_handshake_failed(GNUTLS_A_UNKNOWN_CA, true, "10.0.0.7", 1000.0);
    json_t *line = read_line();
    assert_non_null(line);
    assert_string_equal(json_string_value(json_object_get(line, "msg")), "TLS handshake failed");
    assert_string_equal(json_string_value(json_object_get(line, "level")), "warn");
    assert_string_equal(json_string_value(json_object_get(line, "reason")), "unknown-ca");
    assert_string_equal(json_string_value(json_object_get(line, "alert")),
                        gnutls_alert_get_name(GNUTLS_A_UNKNOWN_CA));
    assert_string_equal(json_string_value(json_object_get(line, "client")), "10.0.0.7");
    assert_non_null(strstr(json_string_value(json_object_get(line, "error")), "caBundle"));
    assert_int_equal(json_integer_value(json_object_get(line, "unlogged_since_last")), 0);
    json_decref(line);
    /* Within the interval: counted, not logged. */
    for (int i = 0; i < 5; i++) {
        pl_handshake_failed(GNUTLS_A_UNKNOWN_CA, true, "10.0.0.7", 1001.0 + i);
    }
    pl_handshake_failed(-1, false, NULL, 1009.9);
    assert_null(read_line());
    assert_true(count("unknown-ca") == unknown0 + 6);
    assert_true(count("no-alert") == none0 + 1);
    /* The interval over: one line, saying how many went unlogged. */
    pl_handshake_failed(-1, false, "::1", 1000.0 + PL_HANDSHAKE_LOG_INTERVAL_S);
    line = read_line();
    assert_non_null(line);
    assert_string_equal(json_string_value(json_object_get(line, "reason")), "no-alert");
    assert_null(json_object_get(line, "alert"));
    assert_int_equal(json_integer_value(json_object_get(line, "unlogged_since_last")), 6);
    json_decref(line);
    assert_true(count("no-alert") == none0 + 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_counted_and_rate_limited),
    };
    return cmocka_run_group_tests(tests, pl_test_log_capture, pl_test_log_restore);
}
