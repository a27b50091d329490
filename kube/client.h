/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small Kubernetes API client: one connection (a libcurl easy handle, so
 * keep-alive and HTTP/2 are reused between requests), the credentials of a
 * kubeconfig or of the in-cluster service account, and streaming GETs: the
 * body goes to a callback as it arrives and is never held whole. A non-2xx
 * answer is read as a Kubernetes Status (code, reason, message; the body kept
 * for that is bounded). Every transfer is cut short, within about a second,
 * when the stop flag given to pl_kube_client_set_stop() is set.
 *
 * Credentials are read afresh before each request: the bearer token file
 * (rotated projected tokens) and the PEM files. The token is wiped from
 * memory after each request and never appears in an error message. No
 * logging here: callers get messages in struct pl_kube_result.
 */
#ifndef PL_KUBE_CLIENT_H
#define PL_KUBE_CLIENT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/compiler.h"
#include "core/error.h"
#include "kube/kubeconfig.h"

#define PL_KUBE_ERROR_BODY_MAX (64u * 1024u)
#define PL_KUBE_URL_MAX        (16u * 1024u)

struct pl_kube_client;

/** The body of a 2xx answer, as it arrives. Return 0, or a negative errno to abort. */
typedef int (*pl_kube_data_fn)(void *ud, const char *data, size_t len);

/** Called when the response headers are complete (status known). Return 0 or <0 to abort. */
typedef int (*pl_kube_open_fn)(void *ud, long status);

/** Called from curl's progress callback (at least about once a second). */
typedef void (*pl_kube_tick_fn)(void *ud);

struct pl_kube_request {
    const char *path;   /* path and query, already escaped: "/api/v1/namespaces?limit=500" */
    const char *method; /* NULL: GET; else "PATCH", "POST", "DELETE" (a write) */
    const char *body;   /* request body, or NULL */
    size_t body_len;
    const char *content_type; /* of the body; NULL: "application/json" */
    long timeout_s;           /* whole-request timeout */
    pl_kube_data_fn on_data;  /* 2xx body */
    pl_kube_open_fn on_open;  /* may be NULL */
    pl_kube_tick_fn on_tick;  /* may be NULL */
    void *ud;
};

struct pl_kube_result {
    long http;         /* HTTP status, 0 when none arrived */
    long code;         /* the Status "code" of an error answer (else http) */
    char reason[64];   /* the Status "reason" ("Expired", "Gone", ...) */
    char message[512]; /* why it failed, for the log; never holds credentials */
    char warning[300]; /* a credential file could not be re-read (previous content kept) */
};

/**
 * A client over creds, which it takes (creds is emptied, even on failure).
 * Returns 0 with *ret (free with pl_kube_client_free()), or -EIO when libcurl
 * cannot be initialised (err filled).
 */
PL_MUST_CHECK int pl_kube_client_new(struct pl_kube_credentials *creds, struct pl_kube_client **ret,
                                     struct pl_error *err);

/**
 * When *stop becomes true, any request in progress ends within about a
 * second and no new one starts (-ECANCELED). stop must outlive the client's
 * use of it; NULL removes it.
 */
void pl_kube_client_set_stop(struct pl_kube_client *c, const atomic_bool *stop);

/** Frees the client. Accepts NULL. Not while a request runs. */
void pl_kube_client_free(struct pl_kube_client *c);

/** The API server's base URL (no credentials in it: refused at load). Borrowed. */
const char *pl_kube_client_server(const struct pl_kube_client *c);

/** Where the credentials came from, for logs ("kubeconfig PATH context NAME", "in-cluster"). */
const char *pl_kube_client_source(const struct pl_kube_client *c);

/**
 * GET req->path (or req->method, with req->body sent as application/json).
 * Returns 0 when a 2xx answer was read to its end; -ECANCELED
 * when the stop flag ended it; -EPROTO for a non-2xx answer (res->http,
 * res->code, res->reason and res->message from its Status); a callback's
 * negative return when a callback aborted; -EIO for a connection, TLS,
 * timeout or credential failure (res->message). res is always filled.
 * One request at a time per client (not thread-safe).
 */
PL_MUST_CHECK int pl_kube_client_get(struct pl_kube_client *c, const struct pl_kube_request *req,
                                     struct pl_kube_result *res);

/** Whether ns is a namespace name: a DNS label (lower-case alphanumerics and '-', 1-63). */
bool pl_kube_namespace_name_ok(const char *ns);

/** Appends "&name=<value, URL-escaped>" to buf. Returns 0 or -E2BIG. */
PL_MUST_CHECK int pl_kube_append_param(struct pl_buf *buf, const char *name, const char *value);

#endif
