/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libmicrohttpd glue (see http.h). The body of a POST arrives in pieces
 * through repeated calls of the access handler; it is gathered in a bounded
 * buffer hung on the connection's con_cls and handed to the route's handler
 * once complete.
 *
 * Every connection also has a record (struct conn, on MHD's socket_context)
 * in a per-daemon list: the phase it is in and since when, for the header and
 * request deadlines (enforced by a reaper thread with shutdown(2), which wakes
 * the connection's own thread to close it) and the per-address cap, the
 * accept policy's evictions, the drain's count of requests in flight, and the reference on
 * the TLS certificate its handshake was given. A record leaves the list in
 * MHD's CLOSED notification, which MHD sends before it closes the socket, so
 * a shutdown(2) under the list lock always reaches the right socket.
 */
#include "server/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <microhttpd.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/log.h"
#include "server/handshake.h"
#include "server/metrics.h"

/* Appended to every priority string: TLS 1.2 is the floor (SPEC §8). */
#define TLS_FLOOR ":-VERS-SSL3.0:-VERS-TLS1.0:-VERS-TLS1.1"

/* A served connection idle for less than this is never evicted (it is
 * likely to carry the client's next request), and a connection that has not
 * completed a request counts against its address' cap only once it has been
 * waiting this long (a real client's handshake and request take milliseconds,
 * so a burst of new connections from the API server never counts). */
#define GRACE_MS 1000
/* How often the reaper looks for connections past their deadline. */
#define REAPER_TICK_MS 200

enum phase {
    PHASE_WAIT,    /* handshake, or waiting for a request's first line */
    PHASE_HEADERS, /* first line received, headers arriving */
    PHASE_BODY,    /* headers received, body arriving */
    PHASE_ANSWER,  /* handler running or response being sent */
};

struct conn {
    struct conn *prev, *next;
    struct pl_http_daemon *d;
    int fd;
    struct in6_addr addr; /* IPv4 as v4-mapped IPv6 */
    enum phase phase;
    bool served;                       /* completed at least one request */
    bool cut;                          /* shut down by us; no longer counted */
    int64_t since_ms;                  /* start of the phase: accept, first line, or last answer */
    void *tls_hold;                    /* certificate reference, released at close */
    struct pl_handshake_seen tls_seen; /* how far the TLS handshake got */
    bool tls_done; /* the client's TLS Finished arrived: the handshake completed */
};

struct pl_http_daemon {
    struct MHD_Daemon *mhd;
    int listen_fd; /* the number libmicrohttpd accepts on */
    /* Made at start, so quiescing needs no new descriptor; [0] is -1 once used. */
    int quiesce_pipe[2];
    struct pl_http_options opts;
    atomic_bool closing;
    bool tls;
    atomic_size_t buffered;    /* body bytes held by all requests right now */
    gnutls_datum_t ticket_key; /* TLS session tickets: resumption skips the full handshake */
    char *priority;            /* the priority string handed to MHD */
    pthread_mutex_t lock;      /* guards conns and every record in it */
    struct conn *conns;
    pthread_cond_t reaper_cv;
    bool reaper_stop, reaper_running;
    pthread_t reaper;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The record of conn, or NULL (not yet started, or already closed). */
static struct conn *conn_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? info->socket_context : NULL;
}

/* Moves conn's record to phase; restart says whether the phase's clock restarts. */
static void set_phase(struct MHD_Connection *conn, enum phase phase, bool restart, bool served)
{
    struct conn *c = conn_of(conn);
    if (!c) {
        return;
    }
    pthread_mutex_lock(&c->d->lock);
    c->phase = phase;
    if (restart) {
        c->since_ms = now_ms();
    }
    c->served |= served;
    pthread_mutex_unlock(&c->d->lock);
}

/* Shuts c's socket down (its own thread then closes it) and stops counting it. Lock held. */
static void cut(struct conn *c, enum pl_shed why)
{
    (void)shutdown(c->fd, SHUT_RDWR);
    c->cut = true;
    pl_metrics_connection_shed(why);
}

/* When c misses its deadline, INT64_MAX when it has none. Lock held. */
static int64_t deadline(const struct pl_http_options *o, const struct conn *c, enum pl_shed *why)
{
    int64_t header = o->header_timeout ? (int64_t)o->header_timeout * 1000 : 0;
    *why = PL_SHED_HEADER_TIMEOUT;
    switch (c->phase) {
    case PHASE_WAIT:
        /* A first request must be under way within the header deadline; a
         * kept-alive connection may idle as long as the idle timeout allows. */
        if (!header) {
            return INT64_MAX;
        }
        return c->since_ms + header + (c->served ? (int64_t)o->connection_timeout * 1000 : 0);
    case PHASE_HEADERS:
        return header ? c->since_ms + header : INT64_MAX;
    case PHASE_BODY:
        *why = PL_SHED_REQUEST_TIMEOUT;
        return o->request_timeout ? c->since_ms + (int64_t)o->request_timeout * 1000 : INT64_MAX;
    case PHASE_ANSWER:
    default:
        return INT64_MAX;
    }
}

/* Orders stale connections by address, then oldest first. */
static int by_addr_then_age(const void *a, const void *b)
{
    const struct conn *x = *(struct conn *const *)a, *y = *(struct conn *const *)b;
    int r = memcmp(&x->addr, &y->addr, sizeof(x->addr));
    if (r != 0) {
        return r;
    }
    return x->since_ms < y->since_ms ? -1 : x->since_ms > y->since_ms;
}

/* Whether c has waited GRACE_MS or more without completing a request. Lock held. */
static bool stale_pending(const struct conn *c, int64_t now)
{
    return !c->cut && !c->served && c->phase != PHASE_ANSWER && now - c->since_ms >= GRACE_MS;
}

/* Keeps at most pending_per_address stale pending connections per address,
 * cutting the ones that have waited longest. Lock held. */
static void trim_per_address(struct pl_http_daemon *d, int64_t now)
{
    size_t n = 0, cap = d->opts.pending_per_address;
    for (const struct conn *c = d->conns; c; c = c->next) {
        n += stale_pending(c, now);
    }
    if (!cap || n <= cap) {
        return;
    }
    struct conn **v = pl_xmalloc(n * sizeof(*v));
    size_t i = 0;
    for (struct conn *c = d->conns; c; c = c->next) {
        if (stale_pending(c, now)) {
            v[i++] = c;
        }
    }
    qsort(v, n, sizeof(*v), by_addr_then_age);
    for (size_t start = 0, end; start < n; start = end) {
        for (end = start + 1; end < n && memcmp(&v[end]->addr, &v[start]->addr, 16) == 0; end++) {
        }
        for (size_t k = start; end - k > cap; k++) {
            cut(v[k], PL_SHED_ADDRESS_CAP);
        }
    }
    free(v);
}

/* Every REAPER_TICK_MS: closes connections past their header or request
 * deadline, and trims each address' stale pending connections to its cap. */
static void *reaper_main(void *arg)
{
    struct pl_http_daemon *d = arg;
    pthread_mutex_lock(&d->lock);
    while (!d->reaper_stop) {
        int64_t now = now_ms();
        for (struct conn *c = d->conns; c; c = c->next) {
            enum pl_shed why;
            if (!c->cut && now >= deadline(&d->opts, c, &why)) {
                cut(c, why);
            }
        }
        trim_per_address(d, now);
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += REAPER_TICK_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&d->reaper_cv, &d->lock, &until);
    }
    pthread_mutex_unlock(&d->lock);
    return NULL;
}

static void addr_key(const struct sockaddr *sa, struct in6_addr *ret)
{
    memset(ret, 0, sizeof(*ret));
    if (sa && sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        ret->s6_addr[10] = ret->s6_addr[11] = 0xff;
        memcpy(&ret->s6_addr[12], &in->sin_addr, 4);
    } else if (sa && sa->sa_family == AF_INET6) {
        *ret = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
    }
}

/* Whether c may be closed to make room: not being answered, and not a served
 * connection that was busy a moment ago. */
static bool evictable(const struct conn *c, int64_t now)
{
    return !c->cut && c->phase != PHASE_ANSWER && (!c->served || now - c->since_ms >= GRACE_MS);
}

/* The one of a and b to evict first: never-served before served, then the oldest phase. */
static struct conn *staler(struct conn *a, struct conn *b)
{
    if (!a || !b) {
        return a ? a : b;
    }
    if (a->served != b->served) {
        return a->served ? b : a;
    }
    return a->since_ms <= b->since_ms ? a : b;
}

/*
 * The accept policy: a new connection is let in while there are fewer than
 * connection_limit; at the limit, by closing the connection that has gone
 * longest without completing a request (see staler); refused only when every
 * connection is being answered or was busy a moment ago. The per-address cap
 * is the reaper's (trim_per_address), so that a burst of new connections from
 * one address (the API server's) is never held against it.
 */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    struct pl_http_daemon *d = cls;
    (void)addr;
    (void)addrlen;
    int64_t now = now_ms();
    size_t live = 0;
    struct conn *victim = NULL;
    pthread_mutex_lock(&d->lock);
    for (struct conn *c = d->conns; c; c = c->next) {
        live += !c->cut;
        if (evictable(c, now)) {
            victim = staler(victim, c);
        }
    }
    bool full = live >= d->opts.connection_limit;
    if (full && victim) {
        cut(victim, PL_SHED_EVICTED);
    }
    pthread_mutex_unlock(&d->lock);
    if (full && !victim) {
        pl_metrics_connection_shed(PL_SHED_REFUSED);
        return MHD_NO;
    }
    return MHD_YES;
}

/* A request's first line has arrived (libmicrohttpd's URI log callback). */
static void *on_first_line(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)cls;
    (void)uri;
    set_phase(conn, PHASE_HEADERS, true, false);
    return NULL; /* the access handler's first *con_cls */
}

/* The TLS certificate retrieve callback: the connection's record holds the
 * reference on what the handshake was given (MHD sets the session's pointer
 * to its connection). */
static int tls_retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_rdn, int nreqs,
                        const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
                        gnutls_pcert_st **pcert, unsigned int *pcert_length,
                        gnutls_privkey_t *privkey)
{
    (void)req_ca_rdn;
    (void)nreqs;
    (void)pk_algos;
    (void)pk_algos_length;
    struct MHD_Connection *conn = gnutls_session_get_ptr(session);
    struct conn *c = conn ? conn_of(conn) : NULL;
    if (!c || !c->d->opts.tls_cert) {
        return -1;
    }
    return c->d->opts.tls_cert(&c->tls_hold, pcert, pcert_length, privkey);
}

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
    set_phase(conn, PHASE_ANSWER, false, false);
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
        set_phase(conn, PHASE_BODY, false, false);
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
    struct pl_http_request req = {
        .method = method,
        .path = url,
        .body = st->body.data ? st->body.data : "",
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
    struct pl_http_daemon *d = cls;
    set_phase(conn, PHASE_WAIT, true, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK);
    struct request_state *st = *con_cls;
    if (st) {
        atomic_fetch_sub(&d->buffered, st->accounted);
        pl_buf_finish(&st->body);
        free(st);
        *con_cls = NULL;
    }
}

/* GnuTLS handshake hook, before and after each message. The client's Finished is the
 * last message of every handshake (full or resumed, TLS 1.2 or 1.3), so once
 * it is in the handshake has completed; the ClientHello and our Certificate
 * tell how far a failed one got. (The alert a client sends cannot be had:
 * MHD frees the session before its CLOSED notification, and GnuTLS gives
 * alerts to a callback only in QUIC mode.) */
static int on_handshake_message(gnutls_session_t session, unsigned htype, unsigned when,
                                unsigned incoming, const gnutls_datum_t *msg)
{
    (void)msg;
    struct MHD_Connection *conn = gnutls_session_get_ptr(session);
    struct conn *c = conn ? conn_of(conn) : NULL;
    if (!c) {
        return 0;
    }
    /* Only this connection's thread reads or writes these. A ClientHello counts
     * from before it is processed (the one GnuTLS then refuses included); the
     * others once done. */
    if (htype == GNUTLS_HANDSHAKE_CLIENT_HELLO && incoming) {
        c->tls_seen.client_hello = true;
    } else if (when != GNUTLS_HOOK_POST) {
        return 0;
    } else if (htype == GNUTLS_HANDSHAKE_FINISHED && incoming) {
        c->tls_done = true;
    } else if (htype == GNUTLS_HANDSHAKE_CERTIFICATE_PKT && !incoming) {
        c->tls_seen.certificate = true;
    }
    return 0;
}

/* At close: a TLS connection whose handshake never completed, and that we did
 * not cut ourselves, is a failed handshake. Only the record is read: MHD has
 * freed the GnuTLS session by now. */
static void check_handshake(struct pl_http_daemon *d, const struct conn *c)
{
    if (!d->tls || c->tls_done || c->cut || atomic_load(&d->closing)) {
        return;
    }
    char peer[INET6_ADDRSTRLEN] = "";
    if (IN6_IS_ADDR_V4MAPPED(&c->addr)) {
        inet_ntop(AF_INET, &c->addr.s6_addr[12], peer, sizeof(peer));
    } else {
        inet_ntop(AF_INET6, &c->addr, peer, sizeof(peer));
    }
    pl_handshake_failed(c->tls_seen, peer, (double)now_ms() / 1000.0);
}

/* Adds a record for a new connection (and lets a TLS one resume an earlier
 * session from a ticket); removes it, and releases its certificate, at close. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct pl_http_daemon *d = cls;
    if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        struct conn *c = *socket_context;
        if (!c) {
            return;
        }
        pthread_mutex_lock(&d->lock);
        if (c->prev) {
            c->prev->next = c->next;
        } else {
            d->conns = c->next;
        }
        if (c->next) {
            c->next->prev = c->prev;
        }
        pthread_mutex_unlock(&d->lock);
        check_handshake(d, c);
        if (d->opts.tls_cert_release) {
            d->opts.tls_cert_release(c->tls_hold);
        }
        free(c);
        *socket_context = NULL;
        return;
    }
    if (code != MHD_CONNECTION_NOTIFY_STARTED) {
        return;
    }
    const union MHD_ConnectionInfo *fd =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    const union MHD_ConnectionInfo *addr =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    struct conn *c = pl_xcalloc(1, sizeof(*c));
    c->d = d;
    c->fd = fd ? fd->connect_fd : -1;
    addr_key(addr ? addr->client_addr : NULL, &c->addr);
    c->phase = PHASE_WAIT;
    c->since_ms = now_ms();
    pthread_mutex_lock(&d->lock);
    c->next = d->conns;
    if (d->conns) {
        d->conns->prev = c;
    }
    d->conns = c;
    pthread_mutex_unlock(&d->lock);
    *socket_context = c;
    const union MHD_ConnectionInfo *info =
        d->tls ? MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION) : NULL;
    if (!info || !info->tls_session) {
        return;
    }
    gnutls_session_t session = (gnutls_session_t)info->tls_session;
    gnutls_handshake_set_hook_function(session, GNUTLS_HANDSHAKE_ANY, GNUTLS_HOOK_BOTH,
                                       on_handshake_message);
    if (d->ticket_key.data) {
        (void)gnutls_session_ticket_enable_server(session, &d->ticket_key);
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

/* Builds the priority string (TLS 1.2 floor appended) and checks that GnuTLS
 * takes it and that it leaves at least one TLS 1.2/1.3 cipher suite. */
static int tls_priority(const char *want, char **ret, struct pl_error *err)
{
    const char *base = want ? want : PL_HTTP_TLS_PRIORITY;
    size_t n = strlen(base) + sizeof(TLS_FLOOR);
    char *full = pl_xmalloc(n);
    snprintf(full, n, "%s%s", base, TLS_FLOOR);
    gnutls_priority_t prio = NULL;
    const char *at = NULL;
    int rc = gnutls_priority_init2(&prio, full, &at, 0);
    if (rc < 0) {
        size_t off = at && at >= full && at < full + n ? (size_t)(at - full) : 0;
        pl_error_set(err, "", 0,
                     "TLS priority string \"%s\" is refused by GnuTLS: %s (at \"%.40s\")", base,
                     gnutls_strerror(rc), off < strlen(base) ? base + off : "");
        free(full);
        return -EINVAL;
    }
    unsigned idx = 0;
    bool any = false;
    for (unsigned i = 0; !any; i++) {
        rc = gnutls_priority_get_cipher_suite_index(prio, i, &idx);
        if (rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
            break;
        }
        any = rc == 0;
    }
    gnutls_priority_deinit(prio);
    if (!any) {
        pl_error_set(err, "", 0, "TLS priority string \"%s\" leaves no TLS 1.2 or 1.3 cipher suite",
                     base);
        free(full);
        return -EINVAL;
    }
    *ret = full;
    return 0;
}

/* Releases what pl_http_start set up before the daemon itself. */
static void daemon_free(struct pl_http_daemon *d)
{
    if (d->ticket_key.data) {
        gnutls_memset(d->ticket_key.data, 0, d->ticket_key.size);
        gnutls_free(d->ticket_key.data);
    }
    free(d->priority);
    for (int i = 0; i < 2; i++) {
        if (d->quiesce_pipe[i] >= 0) {
            close(d->quiesce_pipe[i]);
        }
    }
    pthread_cond_destroy(&d->reaper_cv);
    pthread_mutex_destroy(&d->lock);
    free(d);
}

/* Binds and listens before libmicrohttpd takes the socket, so that a busy
 * port is reported with the address and the reason, not guessed at. */
static int listen_socket(const char *where, const struct sockaddr_storage *addr,
                         struct pl_error *err)
{
    int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return pl_error_set(err, "", 0, "cannot serve on %s: %s", where, strerror(errno));
    }
    int on = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    if (addr->ss_family == AF_INET6) {
        /* "[::]:8443" means IPv6 only, as libmicrohttpd would bind it. */
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
    }
    socklen_t len =
        addr->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    if (bind(fd, (const struct sockaddr *)addr, len) < 0 || listen(fd, SOMAXCONN) < 0) {
        int e = errno;
        close(fd);
        if (e == EADDRINUSE) {
            return pl_error_set(err, "", 0,
                                "cannot serve on %s: the address is already in use (another "
                                "process listens there; stop it or choose another address)",
                                where);
        }
        return pl_error_set(err, "", 0, "cannot serve on %s: %s", where, strerror(e));
    }
    return fd;
}

static struct MHD_Daemon *start_mhd(struct pl_http_daemon *d, const struct sockaddr_storage *addr,
                                    int fd)
{
    const struct pl_http_options *opts = &d->opts;
    unsigned flags =
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_USE_ITC;
    if (addr->ss_family == AF_INET6) {
        flags |= MHD_USE_IPv6;
    }
    if (d->tls) {
        flags |= MHD_USE_TLS;
    }
    /* An option array carries pointers as void *; POSIX lets a function
     * pointer travel that way, and memcpy says so without a cast ISO C forbids. */
    void *cert_callback = NULL;
    gnutls_certificate_retrieve_function2 *retrieve = tls_retrieve;
    memcpy(&cert_callback, &retrieve, sizeof(cert_callback));
    struct MHD_OptionItem tls_opts[] = {
        {MHD_OPTION_HTTPS_CERT_CALLBACK, 0, cert_callback},
        {MHD_OPTION_HTTPS_PRIORITIES, 0, d->priority},
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
    /* The accept policy enforces connection_limit, evicting to make room.
     * libmicrohttpd splits its own limit between the pool's threads; each
     * thread's share sits above everything the policy lets in (evicted sockets
     * take a moment to close), so that no thread ever reaches it: a thread at
     * its limit takes the listening socket out of its epoll set, which after
     * pl_http_quiesce would fail and abort. */
    unsigned threads = opts->threads > 1 ? opts->threads : 1;
    /* + what the workers may admit at once, and what one of them accepts in a
     * pass (10) before it closes the sockets cut meanwhile */
    uint64_t share = (uint64_t)opts->connection_limit + opts->connection_limit / 4 + threads + 32;
    unsigned mhd_limit = share * threads > UINT_MAX ? UINT_MAX : (unsigned)(share * threads);
    return MHD_start_daemon(flags, 0, on_accept, d, on_request, d, MHD_OPTION_EXTERNAL_LOGGER,
                            mhd_log, d, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_ARRAY, pool_opts,
                            MHD_OPTION_CONNECTION_TIMEOUT, opts->connection_timeout,
                            MHD_OPTION_CONNECTION_LIMIT, mhd_limit, MHD_OPTION_NOTIFY_COMPLETED,
                            on_completed, d, MHD_OPTION_NOTIFY_CONNECTION, on_connection, d,
                            MHD_OPTION_URI_LOG_CALLBACK, on_first_line, d, MHD_OPTION_ARRAY,
                            d->tls ? tls_opts : no_opts, MHD_OPTION_END);
}

int pl_http_start(const struct pl_http_options *opts, struct pl_http_daemon **ret,
                  struct pl_error *err)
{
    struct sockaddr_storage addr;
    int r = parse_listen(opts->listen, &addr, err);
    if (r < 0) {
        return r;
    }
    char *priority = NULL;
    if (opts->tls_cert && (r = tls_priority(opts->tls_priority, &priority, err)) < 0) {
        return r;
    }
    struct pl_http_daemon *d = pl_xcalloc(1, sizeof(*d));
    d->opts = *opts;
    d->tls = opts->tls_cert != NULL;
    d->priority = priority;
    d->quiesce_pipe[0] = d->quiesce_pipe[1] = -1;
    atomic_init(&d->closing, false);
    pthread_mutex_init(&d->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&d->reaper_cv, &ca);
    pthread_condattr_destroy(&ca);
    /* A per-process ticket key: a client resumes only with the replica it
     * talked to, and a restart rotates the key. */
    if (d->tls && gnutls_session_ticket_key_generate(&d->ticket_key) < 0) {
        d->ticket_key.data = NULL;
    }
    if (pipe2(d->quiesce_pipe, O_CLOEXEC) < 0) {
        pl_error_set(err, "", 0, "cannot serve on %s: %s", opts->listen, strerror(errno));
        daemon_free(d);
        return -EIO;
    }
    int fd = listen_socket(opts->listen, &addr, err);
    if (fd < 0) {
        daemon_free(d);
        return -EIO;
    }
    d->listen_fd = fd;
    d->mhd = start_mhd(d, &addr, fd);
    if (!d->mhd) {
        close(fd);
        daemon_free(d);
        pl_error_set(err, "", 0,
                     "cannot serve on %s: the HTTP server did not start (see the debug log)",
                     opts->listen);
        return -EIO;
    }
    if (pthread_create(&d->reaper, NULL, reaper_main, d) != 0) {
        pl_oom();
    }
    d->reaper_running = true;
    *ret = d;
    return 0;
}

void pl_http_set_closing(struct pl_http_daemon *d)
{
    atomic_store(&d->closing, true);
}

/*
 * Not MHD_quiesce_daemon: in libmicrohttpd 0.9.75 it races the epoll worker
 * threads over removing the listening socket from their epoll sets, and the
 * loser calls MHD_PANIC, which aborts (daemon.c, MHD_quiesce_daemon and
 * MHD_epoll): the drain's end killed the process with SIGABRT instead of
 * exit 0, now and then. (poll(2) has no such race, but costs every wake-up a
 * pass over all of a worker's connections: 15 % more CPU per review at 64.)
 *
 * Instead the read end of a pipe that is never written takes the socket's
 * descriptor number (dup3), which closes the socket in one step, with no
 * moment when the number is free for another file. The kernel refuses new
 * connections and resets those in the backlog, and drops the socket from
 * every epoll set by itself. libmicrohttpd is told nothing: its number now
 * names a file that never becomes readable (the write end stays open until
 * the daemon has stopped, so no end-of-file either), and it closes it at stop
 * as it would the socket. The pipe is made at start: a server out of
 * descriptors still stops accepting. This relies on no worker ever removing
 * the listening socket from its epoll set itself, which libmicrohttpd does at
 * its connection limit (see start_mhd) and after accept(2) ran out of
 * descriptors (see raise_descriptor_limit in server.c).
 */
void pl_http_quiesce(struct pl_http_daemon *d)
{
    if (d->quiesce_pipe[0] < 0) {
        return; /* already quiesced */
    }
    if (dup3(d->quiesce_pipe[0], d->listen_fd, O_CLOEXEC) < 0) {
        pl_log(PL_LOG_WARN, "cannot stop accepting before the daemon stops",
               json_pack("{s:s}", "error", strerror(errno)));
        return;
    }
    close(d->quiesce_pipe[0]);
    d->quiesce_pipe[0] = -1;
}

unsigned pl_http_in_flight(struct pl_http_daemon *d)
{
    unsigned n = 0;
    pthread_mutex_lock(&d->lock);
    for (const struct conn *c = d->conns; c; c = c->next) {
        n += !c->cut && c->phase != PHASE_WAIT;
    }
    pthread_mutex_unlock(&d->lock);
    return n;
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
    if (d->reaper_running) {
        pthread_mutex_lock(&d->lock);
        d->reaper_stop = true;
        pthread_cond_signal(&d->reaper_cv);
        pthread_mutex_unlock(&d->lock);
        pthread_join(d->reaper, NULL);
    }
    MHD_stop_daemon(d->mhd);
    daemon_free(d);
}
