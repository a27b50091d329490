/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small HTTP layer over libmicrohttpd: one daemon per port, a route table
 * of (path, method, handler), and the limits every request meets before a
 * handler sees it (SPEC §3 and §8): bodies over the ceiling get 413 without
 * being read, an unknown path 404, a known path with the wrong method 405
 * with an Allow header, idle connections time out, connections are capped,
 * and the body bytes held by all requests together stay under a budget
 * (503 past it), so memory stays bounded whatever the clients send.
 * Errors are one-line JSON: {"error":"..."}.
 *
 * Slow clients cannot hold connections: a request's headers must arrive
 * within header_timeout and its whole body within request_timeout (a thread
 * per daemon shuts down the sockets that miss them); one address keeps at
 * most pending_per_address connections that have waited a second or more
 * without completing a request (the longest-waiting ones beyond it are
 * closed); and when every connection slot is taken, a new connection takes
 * the place of the one that has gone longest without completing a request —
 * a never-served connection (oldest first) before a served one idle for at
 * least a second — and is refused only when none qualifies. A connection
 * whose request is being answered is never cut, and connections that
 * complete requests (the API server's) never count against the per-address
 * cap, however many it opens at once.
 *
 * Handlers run on the daemon's worker threads; they get the whole body and
 * fill a response. The TLS daemon uses GnuTLS through libmicrohttpd, TLS 1.2
 * minimum whatever the priority string says.
 */
#ifndef PL_SERVER_HTTP_H
#define PL_SERVER_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include <gnutls/abstract.h>

#include "core/compiler.h"
#include "core/error.h"

struct MHD_Connection;

struct pl_http_request {
    const char *method;
    const char *path;
    const char *body; /* NUL-terminated, "" when none; borrowed from the HTTP layer until
                         the handler returns, which only reads it */
    size_t body_len;
    struct MHD_Connection *conn; /* for header lookups */
};

struct pl_http_response {
    unsigned status; /* 200 unless set */
    char *body;      /* malloc'd, freed by the HTTP layer; NULL: empty */
    size_t body_len;
    const char *content_type; /* static string; default application/json */
};

/* The modern profile served by default: TLS 1.3, and TLS 1.2 with ECDHE key
 * exchange and AEAD ciphers only (no static RSA, no DHE, no CBC), the
 * server's order of preference. */
#define PL_HTTP_TLS_PRIORITY                                                                       \
    "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-RSA:-DHE-RSA:-DHE-DSS:-CIPHER-ALL:"               \
    "+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-GROUP-DH-ALL:%SERVER_PRECEDENCE"

/* Gives a TLS handshake its certificate: stores a reference in *hold (after
 * dropping the one already there), released with the matching
 * pl_http_cert_release_fn once the connection is gone. Returns 0 or -1. */
typedef int (*pl_http_cert_fn)(void **hold, gnutls_pcert_st **pcert, unsigned int *pcert_length,
                               gnutls_privkey_t *privkey);
typedef void (*pl_http_cert_release_fn)(void *hold);

typedef void (*pl_http_handler_fn)(void *ctx, const struct pl_http_request *req,
                                   struct pl_http_response *res);

struct pl_http_route {
    const char *path;
    const char *method;
    pl_http_handler_fn handler;
};

struct pl_http_options {
    const char *listen;                 /* "ADDR:PORT" or "[V6]:PORT" */
    const struct pl_http_route *routes; /* ended by {NULL} */
    void *ctx;                          /* handed to every handler */
    unsigned threads;                   /* worker threads, >= 1 */
    size_t max_body;                    /* bytes; larger bodies get 413 */
    size_t max_buffered;         /* body bytes of all requests at once; past it 503 (0: no cap) */
    unsigned connection_timeout; /* idle seconds before a connection is closed */
    unsigned connection_limit;   /* concurrent connections */
    unsigned per_ip_limit;       /* concurrent connections from one address (0: no cap) */
    unsigned header_timeout;     /* seconds for a request's headers (0: no deadline) */
    unsigned request_timeout; /* seconds from a request's first line to its last byte (0: none) */
    unsigned pending_per_address; /* connections per address waiting >= 1 s unserved (0: no cap) */
    /* TLS: gives each handshake its certificate (NULL: plain HTTP). */
    pl_http_cert_fn tls_cert;
    pl_http_cert_release_fn tls_cert_release;
    const char *tls_priority;  /* GnuTLS priority string; NULL: PL_HTTP_TLS_PRIORITY */
    const char *client_ca_pem; /* NULL: no client certificates asked for */
};

struct pl_http_daemon;

/**
 * Starts a daemon serving opts->routes on opts->listen. The strings of opts
 * must stay valid until pl_http_stop(). Returns 0 with *ret running, or
 * -EINVAL/-EIO with err saying why (bad address, port in use, bad certificate,
 * a TLS priority string that GnuTLS refuses or that leaves no TLS 1.2/1.3 suite).
 */
PL_MUST_CHECK int pl_http_start(const struct pl_http_options *opts, struct pl_http_daemon **ret,
                                struct pl_error *err);

/** From now on every response carries "Connection: close" (drain before shutdown). */
void pl_http_set_closing(struct pl_http_daemon *d);

/**
 * Stops accepting: the listening socket is closed, so new connections are
 * refused, while connections already open keep being served. Main thread.
 */
void pl_http_quiesce(struct pl_http_daemon *d);

/** Requests begun (first line received) and not yet answered, right now. Thread-safe. */
unsigned pl_http_in_flight(struct pl_http_daemon *d);

/** The port actually bound (useful with port 0). */
unsigned pl_http_port(const struct pl_http_daemon *d);

/** Stops accepting, finishes, frees. Accepts NULL. */
void pl_http_stop(struct pl_http_daemon *d);

/** A request header's value, or NULL. Borrowed from the connection. */
const char *pl_http_header(const struct pl_http_request *req, const char *name);

/** Sets res to a one-line JSON error {"error": message} with status. */
void pl_http_error(struct pl_http_response *res, unsigned status, const char *message);

#endif
