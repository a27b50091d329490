/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libmicrohttpd glue (see http.h). The body of a POST arrives in pieces
 * through repeated calls of the access handler; it is gathered in a bounded
 * buffer hung on the connection's con_cls and handed to the route's handler
 * once complete.
 */
#include "server/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <gnutls/gnutls.h>
#include <microhttpd.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/log.h"
#include "server/metrics.h"

/* TLS 1.2 and 1.3 only (SPEC §8), GnuTLS' NORMAL cipher choice otherwise. */
#define TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

struct pl_http_daemon {
    struct MHD_Daemon *mhd;
    struct pl_http_options opts;
    atomic_bool closing;
    bool tls;
    atomic_size_t buffered;    /* body bytes held by all requests right now */
    gnutls_datum_t ticket_key; /* TLS session tickets: resumption skips the full handshake */
};

/* Per-request state, hung on con_cls between calls of the access handler. */
struct request_state {
    const struct pl_http_route *route;
    struct pl_buf body;
    bool too_large;   /* over max_body: 413 */
    bool overloaded;  /* over the daemon's buffered-bytes budget: 503 */
    size_t discarded; /* bytes of a refused body thrown away */
    size_t accounted; /* bytes counted in the daemon's buffered total */
};

/* Body bytes per request that the buffered-bytes budget does not count. */
#define SMALL_BODY (64u * 1024u)

/* Adds n body bytes to the request, within max_body and the daemon-wide
 * budget of buffered bytes (so that many large bodies at once cannot grow
 * the process without bound). A refused body is dropped and its bytes are
 * discarded from now on. */
static void take_body(struct pl_http_daemon *d, struct request_state *st, const char *data,
                      size_t n)
{
    if (st->too_large || st->overloaded) {
        st->discarded += n;
        return;
    }
    /* The first SMALL_BODY bytes of every request are free of the budget, so
     * that large uploads, however many, never starve ordinary reviews. */
    size_t counted = st->body.len + n > SMALL_BODY ? st->body.len + n - SMALL_BODY : 0;
    counted = counted > n ? n : counted;
    size_t total = atomic_fetch_add(&d->buffered, counted) + counted;
    st->accounted += counted;
    if (counted && d->opts.max_buffered && total > d->opts.max_buffered) {
        st->overloaded = true;
        pl_metrics_body_budget_refusal();
    } else if (pl_buf_append(&st->body, data, n) < 0) {
        st->too_large = true;
    }
    if (st->too_large || st->overloaded) {
        atomic_fetch_sub(&d->buffered, st->accounted);
        st->accounted = 0;
        st->discarded += n;
        pl_buf_finish(&st->body);
    }
}

/* An oversized body without Content-Length (chunked) cannot be answered
 * before it ends: libmicrohttpd takes a response only once the upload is
 * complete. Its bytes are thrown away, up to this many, then the connection
 * is closed without an answer. */
#define MAX_DISCARD (64u * 1024u * 1024u)

void pl_http_error(struct pl_http_response *res, unsigned status, const char *message)
{
    json_t *doc = json_pack("{s:s}", "error", message);
    res->status = status;
    free(res->body);
    res->body = pl_json_dump(doc, JSON_COMPACT, &res->body_len);
    json_decref(doc);
    res->content_type = "application/json";
}

const char *pl_http_header(const struct pl_http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

static enum MHD_Result send_response(struct pl_http_daemon *d, struct MHD_Connection *conn,
                                     struct pl_http_response *res, const char *allow)
{
    char *body = res->body ? res->body : pl_xstrdup("");
    size_t len = res->body ? res->body_len : 0;
    res->body = NULL;
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            res->content_type ? res->content_type : "application/json");
    if (allow) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    }
    if (atomic_load(&d->closing)) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    }
    enum MHD_Result ok = MHD_queue_response(conn, res->status ? res->status : 200, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result send_error(struct pl_http_daemon *d, struct MHD_Connection *conn,
                                  unsigned status, const char *message, const char *allow)
{
    struct pl_http_response res = {0};
    pl_http_error(&res, status, message);
    return send_response(d, conn, &res, allow);
}

/* Finds the route for path; *ret_allow lists the methods the path takes. */
static const struct pl_http_route *find_route(const struct pl_http_daemon *d, const char *path,
                                              const char *method, char *allow, size_t allow_size)
{
    allow[0] = '\0';
    for (const struct pl_http_route *r = d->opts.routes; r->path; r++) {
        if (strcmp(r->path, path) != 0) {
            continue;
        }
        if (strcmp(r->method, method) == 0 ||
            (strcmp(method, "HEAD") == 0 && strcmp(r->method, "GET") == 0)) {
            return r;
        }
        size_t n = strlen(allow);
        snprintf(allow + n, allow_size - n, "%s%s", n ? ", " : "", r->method);
    }
    return NULL;
}

static bool declared_too_large(const struct pl_http_daemon *d, struct MHD_Connection *conn)
{
    const char *cl =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (!cl) {
        return false;
    }
    errno = 0;
    char *end = NULL;
    unsigned long long n = strtoull(cl, &end, 10);
    return errno == ERANGE || (end && *end == '\0' && n > d->opts.max_body);
}

/* With --client-ca: whether the peer sent a certificate that the CA verifies. */
static bool client_verified(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (!info || !info->tls_session) {
        return false;
    }
    gnutls_session_t session = (gnutls_session_t)info->tls_session;
    unsigned status = 0;
    unsigned n_certs = 0;
    if (!gnutls_certificate_get_peers(session, &n_certs) || n_certs == 0) {
        return false;
    }
    return gnutls_certificate_verify_peers2(session, &status) == 0 && status == 0;
}

/* First call for a request: route it, or answer at once. */
static enum MHD_Result begin_request(struct pl_http_daemon *d, struct MHD_Connection *conn,
                                     const char *url, const char *method, void **con_cls)
{
    char allow[128];
    const struct pl_http_route *route = find_route(d, url, method, allow, sizeof(allow));
    if (!route && allow[0]) {
        return send_error(d, conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed", allow);
    }
    if (!route) {
        return send_error(d, conn, MHD_HTTP_NOT_FOUND, "not found", NULL);
    }
    if (d->opts.client_ca_pem && !client_verified(conn)) {
        return send_error(d, conn, MHD_HTTP_FORBIDDEN,
                          "a client certificate signed by the configured client CA is required",
                          NULL);
    }
    if (declared_too_large(d, conn)) {
        return send_error(d, conn, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large", NULL);
    }
    struct request_state *st = pl_xcalloc(1, sizeof(*st));
    st->route = route;
    pl_buf_init(&st->body, d->opts.max_body);
    *con_cls = st;
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct pl_http_daemon *d = cls;
    (void)version;
    struct request_state *st = *con_cls;
    if (!st) {
        return begin_request(d, conn, url, method, con_cls);
    }
    if (*upload_data_size > 0) {
        take_body(d, st, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return st->discarded > MAX_DISCARD ? MHD_NO : MHD_YES;
    }
    if (st->too_large) {
        return send_error(d, conn, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large", NULL);
    }
    if (st->overloaded) {
        return send_error(d, conn, MHD_HTTP_SERVICE_UNAVAILABLE,
                          "too many large requests in flight; retry", NULL);
    }
    static char no_body[1];
    struct pl_http_request req = {
        .method = method,
        .path = url,
        .body = st->body.data ? st->body.data : no_body,
        .body_len = st->body.len,
        .conn = conn,
    };
    struct pl_http_response res = {.status = 200};
    st->route->handler(d->opts.ctx, &req, &res);
    return send_response(d, conn, &res, NULL);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    (void)toe;
    struct pl_http_daemon *d = cls;
    struct request_state *st = *con_cls;
    if (st) {
        atomic_fetch_sub(&d->buffered, st->accounted);
        pl_buf_finish(&st->body);
        free(st);
        *con_cls = NULL;
    }
}

/* A new TLS connection may resume an earlier session from a ticket. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct pl_http_daemon *d = cls;
    (void)socket_context;
    if (code != MHD_CONNECTION_NOTIFY_STARTED || !d->ticket_key.data) {
        return;
    }
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (info && info->tls_session) {
        (void)gnutls_session_ticket_enable_server((gnutls_session_t)info->tls_session,
                                                  &d->ticket_key);
    }
}

PL_PRINTF(2, 0) static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    if (n < 0) {
        return;
    }
    /* libmicrohttpd ends its messages with a newline. */
    size_t len = strlen(msg);
    while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == '\r')) {
        msg[--len] = '\0';
    }
    pl_log(PL_LOG_DEBUG, msg, json_pack("{s:s}", "component", "http"));
}

/* Parses "host:port" / "[v6]:port" into a socket address. */
static int parse_listen(const char *listen, struct sockaddr_storage *ret, struct pl_error *err)
{
    char host[256];
    const char *colon = strrchr(listen, ':');
    if (!colon || colon == listen || !colon[1]) {
        return pl_error_set(err, "", 0, "listen address \"%s\" is not ADDR:PORT", listen);
    }
    const char *port = colon + 1;
    if (strspn(port, "0123456789") != strlen(port) || strlen(port) > 5 ||
        strtoul(port, NULL, 10) > 65535) {
        return pl_error_set(err, "", 0, "listen address \"%s\": the port must be 0-65535", listen);
    }
    size_t hlen = (size_t)(colon - listen);
    const char *h = listen;
    if (h[0] == '[' && hlen >= 2 && h[hlen - 1] == ']') {
        h++;
        hlen -= 2;
    }
    if (hlen >= sizeof(host)) {
        return pl_error_set(err, "", 0, "listen address \"%s\" is too long", listen);
    }
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, colon + 1, &hints, &res);
    if (rc != 0 || !res) {
        return pl_error_set(err, "", 0, "listen address \"%s\": %s", listen, gai_strerror(rc));
    }
    memset(ret, 0, sizeof(*ret));
    memcpy(ret, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return 0;
}

int pl_http_start(const struct pl_http_options *opts, struct pl_http_daemon **ret,
                  struct pl_error *err)
{
    struct sockaddr_storage addr;
    int r = parse_listen(opts->listen, &addr, err);
    if (r < 0) {
        return r;
    }
    struct pl_http_daemon *d = pl_xcalloc(1, sizeof(*d));
    d->opts = *opts;
    d->tls = opts->tls_cert_callback != NULL;
    atomic_init(&d->closing, false);

    unsigned flags =
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_USE_ITC;
    if (addr.ss_family == AF_INET6) {
        flags |= MHD_USE_IPv6;
    }
    if (d->tls) {
        flags |= MHD_USE_TLS;
        /* A per-process ticket key: a client resumes only with the replica it
         * talked to, and a restart rotates the key. */
        if (gnutls_session_ticket_key_generate(&d->ticket_key) < 0) {
            d->ticket_key.data = NULL;
        }
    }
    /* An option array carries pointers as void *; POSIX lets a function
     * pointer travel that way, and memcpy says so without a cast ISO C forbids. */
    void *cert_callback = NULL;
    memcpy(&cert_callback, &opts->tls_cert_callback, sizeof(cert_callback));
    struct MHD_OptionItem tls_opts[] = {
        {MHD_OPTION_HTTPS_CERT_CALLBACK, 0, cert_callback},
        {MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)TLS_PRIORITIES},
        {opts->client_ca_pem ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, 0,
         (void *)opts->client_ca_pem},
        {MHD_OPTION_END, 0, NULL},
    };
    struct MHD_OptionItem no_opts[] = {{MHD_OPTION_END, 0, NULL}};
    /* Options that apply only sometimes: absent ones are left out of the array. */
    struct MHD_OptionItem pool_opts[3];
    size_t n_pool = 0;
    if (opts->per_ip_limit) {
        pool_opts[n_pool++] = (struct MHD_OptionItem){MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                                                      (intptr_t)opts->per_ip_limit, NULL};
    }
    if (opts->threads > 1) {
        pool_opts[n_pool++] =
            (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)opts->threads, NULL};
    }
    pool_opts[n_pool] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    d->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, d, MHD_OPTION_EXTERNAL_LOGGER,
                              mhd_log, d, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                              MHD_OPTION_ARRAY, pool_opts, MHD_OPTION_CONNECTION_TIMEOUT,
                              opts->connection_timeout, MHD_OPTION_CONNECTION_LIMIT,
                              opts->connection_limit, MHD_OPTION_NOTIFY_COMPLETED, on_completed, d,
                              MHD_OPTION_NOTIFY_CONNECTION, on_connection, d, MHD_OPTION_ARRAY,
                              d->tls ? tls_opts : no_opts, MHD_OPTION_END);
    if (!d->mhd) {
        gnutls_free(d->ticket_key.data);
        free(d);
        pl_error_set(
            err, "", 0,
            "cannot serve on %s (address in use, no permission, or a certificate/key that does not load)",
            opts->listen);
        return -EIO;
    }
    *ret = d;
    return 0;
}

void pl_http_set_closing(struct pl_http_daemon *d)
{
    atomic_store(&d->closing, true);
}

unsigned pl_http_port(const struct pl_http_daemon *d)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d->mhd, MHD_DAEMON_INFO_BIND_PORT);
    return info ? info->port : 0;
}

void pl_http_stop(struct pl_http_daemon *d)
{
    if (!d) {
        return;
    }
    MHD_stop_daemon(d->mhd);
    if (d->ticket_key.data) {
        gnutls_memset(d->ticket_key.data, 0, d->ticket_key.size);
        gnutls_free(d->ticket_key.data);
    }
    free(d);
}
