/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the pure helpers of server/http.c (the daemon itself is
 * covered by test/integration/run.py): the one-line JSON error body, route
 * lookup with its 404/405 answer and Allow list (HEAD served by GET), the
 * parsing of listen addresses (IPv4, bracketed IPv6, refusals), the TLS
 * priority check, and the connection policy's deadlines and eviction order
 * (test/tls/run.py drives the same policy against a real server).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* The .c is included to reach find_route() and parse_listen(). */
#include "server/http.c"

static void handler(void *ctx, const struct pl_http_request *req, struct pl_http_response *res)
{
    (void)ctx;
    (void)req;
    (void)res;
}

static const struct pl_http_route routes[] = {
    {"/validate", "POST", handler},
    {"/mutate", "POST", handler},
    {"/healthz", "GET", handler},
    {"/x", "GET", handler},
    {"/x", "PUT", handler},
    {"/x", "DELETE", handler},
    {NULL, NULL, NULL},
};

static void test_error_body(void **state)
{
    (void)state;
    struct pl_http_response res = {0};
    pl_http_error(&res, 404, "not found");
    assert_int_equal(res.status, 404);
    assert_string_equal(res.body, "{\"error\":\"not found\"}");
    assert_int_equal(res.body_len, strlen(res.body));
    assert_string_equal(res.content_type, "application/json");
    /* A second error replaces (and frees) the first body. */
    pl_http_error(&res, 400, "invalid JSON at line 1, column 2: \"quoted\"\nsecond line");
    assert_int_equal(res.status, 400);
    assert_string_equal(res.body,
                        "{\"error\":\"invalid JSON at line 1, column 2: \\\"quoted\\\"\\nsecond "
                        "line\"}");
    assert_null(strchr(res.body, '\n')); /* one line */
    free(res.body);
}

static void test_error_body_replaces_handler_body(void **state)
{
    (void)state;
    struct pl_http_response res = {
        .status = 200, .body = pl_xstrdup("{\"partial\":1}"), .body_len = 13};
    pl_http_error(&res, 413, "request body too large");
    assert_string_equal(res.body, "{\"error\":\"request body too large\"}");
    free(res.body);
}

static const struct pl_http_route *route(const char *path, const char *method, char *allow,
                                         size_t size)
{
    struct pl_http_daemon d;
    memset(&d, 0, sizeof(d));
    d.opts.routes = routes;
    return find_route(&d, path, method, allow, size);
}

static void test_find_route(void **state)
{
    (void)state;
    char allow[128];
    assert_ptr_equal(route("/validate", "POST", allow, sizeof(allow)), &routes[0]);
    assert_ptr_equal(route("/mutate", "POST", allow, sizeof(allow)), &routes[1]);
    assert_ptr_equal(route("/x", "PUT", allow, sizeof(allow)), &routes[4]);
    /* HEAD is answered by the GET route. */
    assert_ptr_equal(route("/healthz", "HEAD", allow, sizeof(allow)), &routes[2]);
    assert_ptr_equal(route("/x", "HEAD", allow, sizeof(allow)), &routes[3]);
}

static void test_method_not_allowed(void **state)
{
    (void)state;
    char allow[128];
    assert_null(route("/validate", "GET", allow, sizeof(allow)));
    assert_string_equal(allow, "POST");
    assert_null(route("/healthz", "POST", allow, sizeof(allow)));
    assert_string_equal(allow, "GET");
    assert_null(route("/x", "PATCH", allow, sizeof(allow)));
    assert_string_equal(allow, "GET, PUT, DELETE");
    /* HEAD is not served by POST. */
    assert_null(route("/validate", "HEAD", allow, sizeof(allow)));
    assert_string_equal(allow, "POST");
    /* Methods are case-sensitive (RFC 9110). */
    assert_null(route("/validate", "post", allow, sizeof(allow)));
    assert_string_equal(allow, "POST");
}

static void test_not_found(void **state)
{
    (void)state;
    char allow[128];
    const char *paths[] = {"/",      "",          "/validate/", "/Validate", "/validate?x=1",
                           "/valid", "//validate"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        memset(allow, 'x', sizeof(allow));
        assert_null(route(paths[i], "POST", allow, sizeof(allow)));
        assert_string_equal(allow, ""); /* empty Allow: 404, not 405 */
    }
}

static void test_allow_list_is_bounded(void **state)
{
    (void)state;
    char allow[8];
    assert_null(route("/x", "PATCH", allow, sizeof(allow)));
    assert_string_equal(allow, "GET, PU"); /* cut, terminated, no overflow */
}

static void test_parse_listen_ipv4(void **state)
{
    (void)state;
    struct sockaddr_storage ss;
    struct pl_error err;
    pl_error_init(&err);
    assert_int_equal(parse_listen("0.0.0.0:8443", &ss, &err), 0);
    assert_int_equal(ss.ss_family, AF_INET);
    const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;
    assert_int_equal(ntohs(in->sin_port), 8443);
    assert_int_equal(ntohl(in->sin_addr.s_addr), INADDR_ANY);
    assert_int_equal(parse_listen("127.0.0.1:0", &ss, &err), 0);
    in = (const struct sockaddr_in *)&ss;
    assert_int_equal(ntohs(in->sin_port), 0);
    assert_int_equal(ntohl(in->sin_addr.s_addr), INADDR_LOOPBACK);
}

static void test_parse_listen_ipv6(void **state)
{
    (void)state;
    struct sockaddr_storage ss;
    struct pl_error err;
    pl_error_init(&err);
    assert_int_equal(parse_listen("[::1]:8080", &ss, &err), 0);
    assert_int_equal(ss.ss_family, AF_INET6);
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;
    assert_int_equal(ntohs(in6->sin6_port), 8080);
    assert_memory_equal(&in6->sin6_addr, &in6addr_loopback, sizeof(in6addr_loopback));
    assert_int_equal(parse_listen("[::]:443", &ss, &err), 0);
    assert_int_equal(ss.ss_family, AF_INET6);
}

static void listen_fails(const char *listen, const char *want)
{
    struct sockaddr_storage ss;
    struct pl_error err;
    pl_error_init(&err);
    assert_int_equal(parse_listen(listen, &ss, &err), -EINVAL);
    if (!strstr(err.message, want)) {
        fail_msg("%s: \"%s\" does not contain \"%s\"", listen, err.message, want);
    }
}

static void test_parse_listen_errors(void **state)
{
    (void)state;
    listen_fails("8443", "is not ADDR:PORT");
    listen_fails(":8443", "is not ADDR:PORT");
    listen_fails("0.0.0.0:", "is not ADDR:PORT");
    listen_fails("", "is not ADDR:PORT");
    listen_fails("0.0.0.0:https", "listen address \"0.0.0.0:https\": ");
    listen_fails("0.0.0.0:84x3", "listen address \"0.0.0.0:84x3\": ");
    char long_host[400];
    memset(long_host, 'h', sizeof(long_host));
    memcpy(long_host + sizeof(long_host) - 4, ":80", 4);
    listen_fails(long_host, "is too long");
}

/*
 * Regression test, bug found by review (server/http.c, parse_listen): the port is handed to
 * getaddrinfo() with AI_NUMERICSERV and not range-checked; glibc accepts "99999" and truncates it
 * to 16 bits, so --listen 127.0.0.1:99999 binds port 34463 (99999 - 65536) instead of being
 * refused. Expected -EINVAL naming the address; actual 0 with port 34463. Fix: parse the port with
 * strtol, require 0..65535 and only digits, before getaddrinfo().
 */
static void test_parse_listen_port_range(void **state)
{
    (void)state;
    struct sockaddr_storage ss;
    struct pl_error err;
    pl_error_init(&err);
    int r = parse_listen("127.0.0.1:99999", &ss, &err);
    assert_int_equal(r, -EINVAL);
    assert_int_equal(parse_listen("127.0.0.1:8443x", &ss, &err), -EINVAL);
    assert_int_equal(parse_listen("127.0.0.1:-1", &ss, &err), -EINVAL);
    assert_int_equal(parse_listen("127.0.0.1:65535", &ss, &err), 0);
    assert_int_equal(ntohs(((const struct sockaddr_in *)&ss)->sin_port), 65535);
}

static void test_tls_priority(void **state)
{
    (void)state;
    struct pl_error err;
    pl_error_init(&err);
    char *full = NULL;
    assert_int_equal(tls_priority(NULL, &full, &err), 0);
    assert_non_null(strstr(full, "-RSA:"));
    assert_non_null(strstr(full, TLS_FLOOR));
    free(full);
    assert_int_equal(tls_priority("NORMAL", &full, &err), 0);
    assert_string_equal(full, "NORMAL" TLS_FLOOR);
    free(full);
    full = NULL;
    assert_int_equal(tls_priority("NORMAL:+NO-SUCH", &full, &err), -EINVAL);
    assert_null(full);
    assert_non_null(strstr(err.message, "(at \"+NO-SUCH\")"));
    pl_error_init(&err);
    assert_int_equal(tls_priority("NONE:+VERS-TLS1.2", &full, &err), -EINVAL);
    assert_non_null(strstr(err.message, "TLS priority string \"NONE:+VERS-TLS1.2\""));
    /* Only TLS 1.0/1.1 allowed: the floor removes them, nothing is left. */
    pl_error_init(&err);
    assert_int_equal(tls_priority("NORMAL:-VERS-ALL:+VERS-TLS1.1", &full, &err), -EINVAL);
}

static void test_deadlines(void **state)
{
    (void)state;
    struct pl_http_options o = {
        .header_timeout = 10, .request_timeout = 30, .connection_timeout = 60};
    struct conn c = {.since_ms = 1000};
    enum pl_shed why;
    assert_int_equal(deadline(&o, &c, &why), 11000); /* first request: from connect */
    assert_int_equal(why, PL_SHED_HEADER_TIMEOUT);
    c.served = true; /* kept alive: the idle timeout, then the headers */
    assert_int_equal(deadline(&o, &c, &why), 71000);
    c.phase = PHASE_HEADERS;
    assert_int_equal(deadline(&o, &c, &why), 11000);
    c.phase = PHASE_BODY;
    assert_int_equal(deadline(&o, &c, &why), 31000);
    assert_int_equal(why, PL_SHED_REQUEST_TIMEOUT);
    c.phase = PHASE_ANSWER; /* a request being answered is never cut */
    assert_true(deadline(&o, &c, &why) == INT64_MAX);
    o.header_timeout = o.request_timeout = 0;
    c.phase = PHASE_HEADERS;
    assert_true(deadline(&o, &c, &why) == INT64_MAX);
    c.phase = PHASE_BODY;
    assert_true(deadline(&o, &c, &why) == INT64_MAX);
}

static void test_eviction_order(void **state)
{
    (void)state;
    struct conn fresh = {.since_ms = 9990};               /* pending, just connected */
    struct conn old = {.since_ms = 1000};                 /* pending for 9 s */
    struct conn idle = {.since_ms = 500, .served = true}; /* served, idle 9.5 s */
    struct conn busy = {.since_ms = 9900, .served = true};
    struct conn answering = {.since_ms = 0, .phase = PHASE_ANSWER};
    struct conn gone = {.since_ms = 0, .cut = true};
    int64_t now = 10000;
    assert_true(evictable(&fresh, now)); /* pending: no grace period */
    assert_true(evictable(&idle, now));
    assert_false(evictable(&busy, now)); /* served 100 ms ago */
    assert_false(evictable(&answering, now));
    assert_false(evictable(&gone, now));
    /* never-served first, oldest first; served ones only when no pending one is left */
    assert_ptr_equal(staler(&fresh, &old), &old);
    assert_ptr_equal(staler(&idle, &fresh), &fresh);
    assert_ptr_equal(staler(&old, &idle), &old);
    assert_ptr_equal(staler(NULL, &idle), &idle);
    assert_null(staler(NULL, NULL));
}

static void test_per_address_trim(void **state)
{
    (void)state;
    struct pl_http_daemon d = {.opts = {.pending_per_address = 32}};
    struct conn c[60];
    memset(c, 0, sizeof(c));
    int64_t now = 100000;
    for (int i = 0; i < 60; i++) {
        c[i].fd = -1; /* shutdown(2) fails harmlessly */
        c[i].addr.s6_addr[15] = i < 50 ? 1 : 2;
        c[i].since_ms = now - 2000 - i; /* higher index: waiting longer */
        c[i].next = i + 1 < 60 ? &c[i + 1] : NULL;
    }
    for (int i = 40; i < 45; i++) {
        c[i].since_ms = now - 10; /* a burst of new connections: not counted */
    }
    for (int i = 45; i < 48; i++) {
        c[i].served = true; /* carry requests: never counted */
    }
    c[48].phase = PHASE_ANSWER;
    d.conns = &c[0];
    trim_per_address(&d, now);
    /* address 1: 41 stale pending (0-39, 49); the 9 that waited longest go */
    int cut_count = 0;
    for (int i = 0; i < 50; i++) {
        cut_count += c[i].cut;
    }
    assert_int_equal(cut_count, 9);
    assert_true(c[49].cut && c[39].cut && c[32].cut);
    assert_false(c[31].cut || c[0].cut || c[40].cut || c[45].cut || c[48].cut);
    for (int i = 50; i < 60; i++) {
        assert_false(c[i].cut); /* address 2: 10, under the cap */
    }
    d.opts.pending_per_address = 0; /* no cap */
    c[0].cut = false;
    trim_per_address(&d, now);
    assert_false(c[0].cut);
}

static void test_addr_key(void **state)
{
    (void)state;
    struct sockaddr_storage v4 = {0}, v6 = {0}; /* as libmicrohttpd hands them over */
    struct sockaddr_in *in = (struct sockaddr_in *)&v4;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&v6;
    in->sin_family = AF_INET;
    inet_pton(AF_INET, "10.1.2.3", &in->sin_addr);
    in6->sin6_family = AF_INET6;
    inet_pton(AF_INET6, "::ffff:10.1.2.3", &in6->sin6_addr);
    struct in6_addr a, b;
    addr_key((const struct sockaddr *)&v4, &a);
    addr_key((const struct sockaddr *)&v6, &b);
    assert_memory_equal(&a, &b, sizeof(a)); /* one address, whichever family it came as */
    addr_key(NULL, &a);
    assert_memory_equal(&a, &in6addr_any, sizeof(a));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_body),
        cmocka_unit_test(test_error_body_replaces_handler_body),
        cmocka_unit_test(test_find_route),
        cmocka_unit_test(test_method_not_allowed),
        cmocka_unit_test(test_not_found),
        cmocka_unit_test(test_allow_list_is_bounded),
        cmocka_unit_test(test_parse_listen_ipv4),
        cmocka_unit_test(test_parse_listen_ipv6),
        cmocka_unit_test(test_parse_listen_errors),
        cmocka_unit_test(test_parse_listen_port_range),
        cmocka_unit_test(test_tls_priority),
        cmocka_unit_test(test_deadlines),
        cmocka_unit_test(test_eviction_order),
        cmocka_unit_test(test_per_address_trim),
        cmocka_unit_test(test_addr_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
