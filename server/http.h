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
 * Handlers run on the daemon's worker threads; they get the whole body and
 * fill a response. The TLS daemon uses GnuTLS through libmicrohttpd, TLS 1.2
 * minimum.
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
    char *body; /* NUL-terminated, "" when none; the handler may rewrite it in place */
    size_t body_len;
    struct MHD_Connection *conn; /* for header lookups */
};

struct pl_http_response {
    unsigned status; /* 200 unless set */
    char *body;      /* malloc'd, freed by the HTTP layer; NULL: empty */
    size_t body_len;
    const char *content_type; /* static string; default application/json */
};

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
    /* TLS: gives each handshake its certificate (NULL: plain HTTP). */
    gnutls_certificate_retrieve_function2 *tls_cert_callback;
    const char *client_ca_pem; /* NULL: no client certificates asked for */
};

struct pl_http_daemon;

/**
 * Starts a daemon serving opts->routes on opts->listen. The strings of opts
 * must stay valid until pl_http_stop(). Returns 0 with *ret running, or
 * -EINVAL/-EIO with err saying why (bad address, port in use, bad certificate).
 */
PL_MUST_CHECK int pl_http_start(const struct pl_http_options *opts, struct pl_http_daemon **ret,
                                struct pl_error *err);

/** From now on every response carries "Connection: close" (drain before shutdown). */
void pl_http_set_closing(struct pl_http_daemon *d);

/** The port actually bound (useful with port 0). */
unsigned pl_http_port(const struct pl_http_daemon *d);

/** Stops accepting, finishes, frees. Accepts NULL. */
void pl_http_stop(struct pl_http_daemon *d);

/** A request header's value, or NULL. Borrowed from the connection. */
const char *pl_http_header(const struct pl_http_request *req, const char *name);

/** Sets res to a one-line JSON error {"error": message} with status. */
void pl_http_error(struct pl_http_response *res, unsigned status, const char *message);

#endif
