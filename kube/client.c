/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Kubernetes API client (see client.h): libcurl transport, credentials
 * read afresh per request, streaming bodies, Status errors, and a stop flag
 * checked from curl's progress callback.
 */
#include "kube/client.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "core/alloc.h"
#include "core/json.h"

#define CONNECT_TIMEOUT_S 10L

struct pl_kube_client {
    struct pl_kube_credentials creds;
    const atomic_bool *stop;
    CURL *curl;
    bool refresh_failing; /* the last PEM re-read failed (reported once) */
    char curl_error[CURL_ERROR_SIZE];
};

/* One exchange in progress. */
struct xfer {
    struct pl_kube_client *c;
    const struct pl_kube_request *req;
    long status;         /* HTTP status once the headers are in, else 0 */
    bool opened;         /* on_open was called */
    int cb_error;        /* a callback's negative return */
    struct pl_buf error; /* the start of a non-2xx body */
};

static pthread_mutex_t curl_global_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned curl_global_users;

/* curl_global_init() once for all clients, curl_global_cleanup() after the last. */
static int curl_global_acquire(void)
{
    int r = 0;
    pthread_mutex_lock(&curl_global_lock);
    if (curl_global_users == 0 && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        r = -EIO;
    } else {
        curl_global_users++;
    }
    pthread_mutex_unlock(&curl_global_lock);
    return r;
}

static void curl_global_release(void)
{
    pthread_mutex_lock(&curl_global_lock);
    if (--curl_global_users == 0) {
        curl_global_cleanup();
    }
    pthread_mutex_unlock(&curl_global_lock);
}

int pl_kube_client_new(struct pl_kube_credentials *creds, struct pl_kube_client **ret,
                       struct pl_error *err)
{
    if (curl_global_acquire() < 0) {
        pl_kube_credentials_finish(creds);
        (void)pl_error_set(err, "", 0, "cannot initialise libcurl");
        return -EIO;
    }
    struct pl_kube_client *c = pl_xcalloc(1, sizeof(*c));
    c->creds = *creds;
    pl_kube_credentials_init(creds);
    c->curl = curl_easy_init();
    if (!c->curl) {
        pl_oom();
    }
    *ret = c;
    return 0;
}

void pl_kube_client_set_stop(struct pl_kube_client *c, const atomic_bool *stop)
{
    c->stop = stop;
}

void pl_kube_client_free(struct pl_kube_client *c)
{
    if (!c) {
        return;
    }
    curl_easy_cleanup(c->curl);
    curl_global_release();
    pl_kube_credentials_finish(&c->creds);
    free(c);
}

const char *pl_kube_client_server(const struct pl_kube_client *c)
{
    return c->creds.server;
}

const char *pl_kube_client_source(const struct pl_kube_client *c)
{
    return c->creds.source ? c->creds.source : "";
}

int pl_kube_append_param(struct pl_buf *buf, const char *name, const char *value)
{
    char *esc = curl_easy_escape(NULL, value, 0);
    if (!esc) {
        pl_oom();
    }
    int r = pl_buf_printf(buf, "&%s=%s", name, esc);
    curl_free(esc);
    return r;
}

/* ---- curl callbacks ---- */

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    struct xfer *x = ud;
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    if (x->c->stop && atomic_load(x->c->stop)) {
        return 1; /* aborts the transfer */
    }
    if (x->req->on_tick) {
        x->req->on_tick(x->req->ud);
    }
    return 0;
}

/* At the blank line that ends the headers, note the status and tell the caller. */
static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct xfer *x = ud;
    size_t n = size * nmemb;
    if ((n == 2 && ptr[0] == '\r') || (n == 1 && ptr[0] == '\n')) {
        long status = 0;
        curl_easy_getinfo(x->c->curl, CURLINFO_RESPONSE_CODE, &status);
        if (status >= 100 && status < 200) {
            return n; /* an interim answer: the real headers follow */
        }
        x->status = status;
        if (!x->opened && x->req->on_open) {
            x->opened = true;
            int r = x->req->on_open(x->req->ud, status);
            if (r < 0) {
                x->cb_error = r;
                return 0;
            }
        }
    }
    return n;
}

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct xfer *x = ud;
    size_t n = size * nmemb;
    if (x->c->stop && atomic_load(x->c->stop)) {
        return 0;
    }
    if (x->status < 200 || x->status > 299) {
        /* Keep the start of an error body for its Status; read and drop the rest. */
        size_t room = x->error.max - x->error.len;
        if (room > 0 && pl_buf_append(&x->error, ptr, n < room ? n : room) < 0) {
            return n;
        }
        return n;
    }
    int r = x->req->on_data ? x->req->on_data(x->req->ud, ptr, n) : 0;
    if (r < 0) {
        x->cb_error = r;
        return 0;
    }
    return n;
}

/* ---- requests ---- */

/* The TLS settings from the credentials (PEM blobs are copied by curl). */
static void setup_tls(struct pl_kube_client *c)
{
    CURL *h = c->curl;
    const struct pl_kube_credentials *k = &c->creds;
    if (k->insecure) {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (k->ca.data) {
        /* Only this CA, not the system store as well (as client-go does). */
        struct curl_blob blob = {k->ca.data, k->ca.len, CURL_BLOB_COPY};
        curl_easy_setopt(h, CURLOPT_CAINFO, NULL);
        curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
        curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
    }
    if (k->cert.data && k->key.data) {
        struct curl_blob cert = {k->cert.data, k->cert.len, CURL_BLOB_COPY};
        struct curl_blob key = {k->key.data, k->key.len, CURL_BLOB_COPY};
        curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
        curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &cert);
        curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
        curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &key);
    }
    if (k->proxy_url) {
        curl_easy_setopt(h, CURLOPT_PROXY, k->proxy_url);
    }
}

/* Re-reads rotated PEM files; a failure keeps the previous content and is reported once. */
static void refresh_files(struct pl_kube_client *c, struct pl_kube_result *res)
{
    struct pl_error err;
    pl_error_init(&err);
    if (pl_kube_credentials_refresh(&c->creds, &err) < 0) {
        if (!c->refresh_failing) {
            snprintf(res->warning, sizeof(res->warning),
                     "cannot re-read a credential file; keeping the previous content: %.200s",
                     err.message);
        }
        c->refresh_failing = true;
        return;
    }
    c->refresh_failing = false;
}

/* The request headers: Accept, and the bearer token when there is one. NULL with res filled. */
static struct curl_slist *request_headers(struct pl_kube_client *c, struct pl_kube_result *res)
{
    char *token = NULL;
    struct pl_error err;
    pl_error_init(&err);
    if (pl_kube_bearer_token(&c->creds, &token, &err) < 0) {
        snprintf(res->message, sizeof(res->message), "bearer token: %.400s", err.message);
        return NULL;
    }
    struct curl_slist *headers = curl_slist_append(NULL, "Accept: application/json");
    if (token) {
        struct pl_buf h;
        pl_buf_init(&h, PL_KUBE_TOKEN_MAX + 64);
        if (pl_buf_printf(&h, "Authorization: Bearer %s", token) == 0) {
            headers = curl_slist_append(headers, pl_buf_str(&h));
        }
        if (h.data) {
            explicit_bzero(h.data, h.len);
        }
        pl_buf_finish(&h);
        explicit_bzero(token, strlen(token));
        free(token);
    }
    if (!headers) {
        pl_oom();
    }
    return headers;
}

/* Reads a Status out of an error body into res (code, reason, message). */
static void read_status(const struct xfer *x, struct pl_kube_result *res)
{
    char jerr[100];
    json_t *st =
        x->error.len ? pl_json_load(x->error.data, x->error.len, jerr, sizeof(jerr)) : NULL;
    long long code = 0;
    const char *msg = pl_json_string(st, "message");
    const char *reason = pl_json_string(st, "reason");
    res->code =
        pl_json_integer(st, "code", &code) && code > 0 && code < 1000 ? (long)code : res->http;
    snprintf(res->reason, sizeof(res->reason), "%s", reason ? reason : "");
    /* Only printable bytes of a body go to the log. */
    char body[301];
    size_t n = 0;
    for (size_t i = 0; !msg && i < x->error.len && n < sizeof(body) - 1; i++) {
        unsigned char ch = (unsigned char)x->error.data[i];
        body[n++] = isprint(ch) ? (char)ch : '.';
    }
    body[n] = '\0';
    snprintf(res->message, sizeof(res->message), "HTTP %ld%s: %.300s", res->http,
             res->http == 401 ? " (token rejected; it is re-read before the retry)" : "",
             msg ? msg : body);
    json_decref(st);
}

static void set_options(struct pl_kube_client *c, const char *url, struct curl_slist *headers,
                        struct xfer *x)
{
    CURL *h = c->curl;
    curl_easy_reset(h); /* keeps the connection cache */
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https,http");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "plimsoll");
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, x->req->timeout_s);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 30L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 10L);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, x);
    curl_easy_setopt(h, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->curl_error);
    setup_tls(c);
}

/* Turns the end of a transfer into the return value of pl_kube_client_get(). */
static int classify(struct pl_kube_client *c, CURLcode rc, const struct xfer *x,
                    struct pl_kube_result *res)
{
    res->http = x->status;
    res->code = x->status;
    if (c->stop && atomic_load(c->stop)) {
        snprintf(res->message, sizeof(res->message), "stopped");
        return -ECANCELED;
    }
    if (x->cb_error < 0) {
        return x->cb_error;
    }
    if (x->status != 0 && (x->status < 200 || x->status > 299)) {
        read_status(x, res);
        return -EPROTO;
    }
    if (rc != CURLE_OK) {
        /* curl's messages name the host, never the request's headers. */
        snprintf(res->message, sizeof(res->message), "%s",
                 c->curl_error[0] ? c->curl_error : curl_easy_strerror(rc));
        return -EIO;
    }
    if (x->status == 0) {
        snprintf(res->message, sizeof(res->message), "no HTTP answer");
        return -EIO;
    }
    return 0;
}

int pl_kube_client_get(struct pl_kube_client *c, const struct pl_kube_request *req,
                       struct pl_kube_result *res)
{
    memset(res, 0, sizeof(*res));
    if (c->stop && atomic_load(c->stop)) {
        snprintf(res->message, sizeof(res->message), "stopped");
        return -ECANCELED;
    }
    refresh_files(c, res);
    struct curl_slist *headers = request_headers(c, res);
    if (!headers) {
        return -EIO;
    }
    if (req->body) {
        char type[128];
        snprintf(type, sizeof(type), "Content-Type: %s",
                 req->content_type ? req->content_type : "application/json");
        headers = curl_slist_append(headers, type);
        if (!headers) {
            pl_oom();
        }
    }
    struct pl_buf url;
    pl_buf_init(&url, PL_KUBE_URL_MAX);
    int r;
    struct xfer x = {.c = c, .req = req};
    pl_buf_init(&x.error, PL_KUBE_ERROR_BODY_MAX);
    if (pl_buf_printf(&url, "%s%s", c->creds.server, req->path) < 0) {
        snprintf(res->message, sizeof(res->message), "request URL too long");
        r = -EIO;
        goto out;
    }
    set_options(c, pl_buf_str(&url), headers, &x);
    if (req->method) {
        curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, req->method);
    }
    if (req->body) {
        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, req->body);
        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    }
    c->curl_error[0] = '\0';
    CURLcode rc = curl_easy_perform(c->curl);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
    r = classify(c, rc, &x, res);
out:
    for (struct curl_slist *l = headers; l; l = l->next) {
        explicit_bzero(l->data, strlen(l->data)); /* the token does not outlive the request */
    }
    curl_slist_free_all(headers);
    pl_buf_finish(&x.error);
    pl_buf_finish(&url);
    return r;
}

bool pl_kube_namespace_name_ok(const char *ns)
{
    size_t n = ns ? strlen(ns) : 0;
    return n > 0 && n <= 63 && strspn(ns, "abcdefghijklmnopqrstuvwxyz0123456789-") == n &&
           ns[0] != '-' && ns[n - 1] != '-';
}
