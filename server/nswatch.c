/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The namespace view (see nswatch.h): one background thread lists Namespaces
 * (GET /api/v1/namespaces, paginated with limit/continue), then watches them
 * from the list's resourceVersion (newline-delimited JSON events: ADDED,
 * MODIFIED, DELETED, BOOKMARK, ERROR) over libcurl.
 *
 * Concurrency: the thread owns a mutable working map (namespace name ->
 * object of its plimsoll.dev/ annotations). After each chunk of events that
 * changed something it publishes a deep copy of that map as an immutable,
 * refcounted snapshot, swapped under a mutex held only for the pointer swap.
 * Readers take a reference to the snapshot under the same mutex, then look up
 * and copy the one namespace's annotations without it, so an admission thread
 * never waits for the network or for the watcher. No jansson value is ever
 * shared between threads: jansson's own reference counts are not a safe
 * cross-thread protocol (a plain read beside the atomic decrement, and no
 * acquire before the free), so the snapshot's lifetime is governed by a C11
 * atomic count of its own, and every JSON value handed out is a fresh copy.
 *
 * Failures: a 410 Gone (HTTP or ERROR event) or an undecodable event leads to
 * a relist; anything else to a new watch from the last resourceVersion. Every
 * retry after a failure waits an exponential backoff with jitter drawn from
 * getrandom(), in a condition-variable sleep that pl_nswatch_free() cuts
 * short; a transfer in progress is aborted from curl's progress callback. The
 * bearer token (and any PEM file) is read afresh for every request, so a
 * rotated token file takes effect on the next reconnect, including the retry
 * after a 401. The last view stays in force while the API server is away, and
 * pl_nswatch_staleness_seconds() says for how long.
 *
 * Limits: a watch line is at most 1 MiB, a list response 64 MiB, an error
 * body 64 KiB; resourceVersion and continue tokens are bounded too. Logging is
 * rate-limited: the first failure, then attempts 2, 4, 8, ... (and at least
 * every 5 minutes), then one line when the API server is back.
 */
#include "server/nswatch.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <curl/curl.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/log.h"
#include "server/kubeconfig.h"

#define ANNOTATION_PREFIX    "plimsoll.dev/"
#define LIST_BODY_MAX        (64u * 1024u * 1024u)
#define WATCH_LINE_MAX       (1024u * 1024u)
#define ERROR_BODY_MAX       (64u * 1024u)
#define URL_MAX              (16u * 1024u)
#define RV_MAX               128u
#define CONTINUE_MAX         8192u
#define NAME_MAX_LEN         253u
#define LIST_PAGE_LIMIT      500u
#define LIST_TIMEOUT_S       60L
#define CONNECT_TIMEOUT_S    10L
#define WATCH_TIMEOUT_MIN_S  300u /* like client-go: 5 to 10 minutes */
#define WATCH_STABLE_S       10.0 /* a watch open this long resets the backoff */
#define BACKOFF_BASE_MS      500u
#define BACKOFF_MAX_MS       30000u
#define RETRY_LOG_INTERVAL_S 300.0

/* How a request or a watch stream ended. */
enum outcome {
    OUT_OK,       /* list done, or the watch ended cleanly at its timeout */
    OUT_STOPPED,  /* pl_nswatch_free() asked the thread to stop */
    OUT_GONE,     /* 410: the resourceVersion is too old, relist */
    OUT_BAD_DATA, /* undecodable or oversized data: relist */
    OUT_FAILED,   /* connection, HTTP or ERROR-event failure: retry the watch */
};

struct pl_nswatch {
    struct pl_kube_credentials creds;

    /* Shared with readers, under lock. */
    pthread_mutex_t lock;
    pthread_cond_t wake;       /* signalled on stop: cuts the backoff sleep short */
    struct snapshot *snapshot; /* the published view; NULL before the first list */
    bool healthy;              /* the view is current (listed, or the watch is up) */
    double last_good;          /* monotonic time the view was last known current, 0 never */
    double started_at;         /* monotonic time of pl_nswatch_start() */
    atomic_bool synced;
    atomic_bool stop;

    pthread_t thread;
    bool started;

    /* Owned by the watcher thread. */
    CURL *curl;
    json_t *view;          /* working map; published as snapshots */
    char rv[RV_MAX + 1];   /* resourceVersion to watch from */
    unsigned attempt;      /* failures since the watch was last stable */
    double down_since;     /* monotonic time of the first failure of this outage, 0 none */
    double last_retry_log; /* monotonic time of the last "still failing" line */
    bool refresh_failing;  /* the last PEM re-read failed (logged once) */
    char curl_error[CURL_ERROR_SIZE];

    /* Tuning; the unit tests shorten these. */
    unsigned backoff_base_ms;
    unsigned backoff_max_ms;
    unsigned watch_timeout_s; /* 0: random in [5, 10) minutes */
    unsigned list_limit;
};

/*
 * An immutable copy of the view: built by the watcher, read by any thread,
 * freed by whoever drops the last reference.
 */
struct snapshot {
    atomic_uint refs;
    json_t *map; /* name -> annotations; owned, never modified after publication */
};

/* One HTTP exchange in progress. */
struct xfer {
    struct pl_nswatch *w;
    bool watch;           /* a watch stream (else a list page) */
    long status;          /* HTTP status once the headers are in, else 0 */
    struct pl_buf body;   /* list page, or the error body of a non-200 answer */
    struct pl_buf line;   /* watch: the line being assembled */
    enum outcome outcome; /* set by event handling to end the stream early */
    bool established;     /* watch: the 200 header arrived */
    bool dirty;           /* watch: the view changed since the last publish */
    unsigned events;      /* watch: events received */
    char detail[512];     /* why the stream was ended early */
};

static pthread_mutex_t curl_global_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned curl_global_users;

static double now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* curl_global_init() once for all watchers, and curl_global_cleanup() after the last. */
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

/* ---- the published view ---- */

/* Drops a reference; the last one frees the snapshot. Accepts NULL. Any thread. */
static void snapshot_unref(struct snapshot *snap)
{
    if (snap && atomic_fetch_sub_explicit(&snap->refs, 1, memory_order_acq_rel) == 1) {
        json_decref(snap->map);
        free(snap);
    }
}

/* Takes a reference to the current snapshot (NULL before the first list). Any thread. */
static struct snapshot *snapshot_get(struct pl_nswatch *w)
{
    pthread_mutex_lock(&w->lock);
    struct snapshot *snap = w->snapshot;
    if (snap) {
        atomic_fetch_add_explicit(&snap->refs, 1, memory_order_relaxed);
    }
    pthread_mutex_unlock(&w->lock);
    return snap;
}

/*
 * Publishes a deep copy of the working map (the thread's view) as the new
 * snapshot. Deep, so that no JSON value is shared with the watcher.
 */
static void publish(struct pl_nswatch *w)
{
    struct snapshot *snap = pl_xmalloc(sizeof(*snap));
    atomic_init(&snap->refs, 1);
    snap->map = json_deep_copy(w->view);
    if (!snap->map) {
        pl_oom();
    }
    pthread_mutex_lock(&w->lock);
    struct snapshot *old = w->snapshot;
    w->snapshot = snap;
    pthread_mutex_unlock(&w->lock);
    snapshot_unref(old);
}

/* Marks the view current (a list succeeded, or a watch is up). */
static void set_healthy(struct pl_nswatch *w)
{
    pthread_mutex_lock(&w->lock);
    w->healthy = true;
    w->last_good = now_mono();
    pthread_mutex_unlock(&w->lock);
}

/* Marks the view possibly behind from now on; staleness starts counting. */
static void set_unhealthy(struct pl_nswatch *w)
{
    pthread_mutex_lock(&w->lock);
    if (w->healthy) {
        w->healthy = false;
        w->last_good = now_mono();
    }
    pthread_mutex_unlock(&w->lock);
}

/* ---- events ---- */

/*
 * The plimsoll.dev/ annotations of a Namespace object as a new object (new
 * reference; empty when there are none). Values that are not strings are
 * dropped (the API server never sends them).
 */
static json_t *scoped_annotations(const json_t *meta)
{
    json_t *out = json_object();
    if (!out) {
        pl_oom();
    }
    const json_t *ann = pl_json_object(meta, "annotations");
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)ann, key, value)
    {
        if (strncmp(key, ANNOTATION_PREFIX, strlen(ANNOTATION_PREFIX)) == 0 &&
            json_is_string(value)) {
            if (json_object_set(out, key, value) < 0) {
                pl_oom();
            }
        }
    }
    return out;
}

static bool valid_name(const char *name)
{
    size_t len = name ? strlen(name) : 0;
    return len > 0 && len <= NAME_MAX_LEN;
}

/* The object's resourceVersion if it is usable (non-empty, bounded), else NULL. Borrowed. */
static const char *usable_rv(const json_t *meta)
{
    const char *rv = pl_json_string(meta, "resourceVersion");
    size_t len = rv ? strlen(rv) : 0;
    return len > 0 && len <= RV_MAX ? rv : NULL;
}

/* Copies a resourceVersion into w->rv if it is usable. Returns whether it was. */
static bool take_rv(struct pl_nswatch *w, const json_t *meta)
{
    const char *rv = usable_rv(meta);
    if (!rv) {
        return false;
    }
    memcpy(w->rv, rv, strlen(rv) + 1);
    return true;
}

/*
 * Puts a Namespace into map (ADDED/MODIFIED) or removes it (del). Returns
 * whether the map changed, or -1 when the object has no usable name.
 */
static int apply_namespace(json_t *map, const json_t *object, bool del)
{
    const json_t *meta = pl_json_object(object, "metadata");
    const char *name = pl_json_string(meta, "name");
    if (!valid_name(name)) {
        return -1;
    }
    if (del) {
        return json_object_del(map, name) == 0 ? 1 : 0;
    }
    json_t *ann = scoped_annotations(meta);
    const json_t *old = json_object_get(map, name);
    if (old && json_equal(old, ann)) {
        json_decref(ann);
        return 0;
    }
    if (json_object_set_new(map, name, ann) < 0) {
        pl_oom();
    }
    return 1;
}

/* Ends the stream early with outcome o and a reason for the log. */
PL_PRINTF(3, 4) static void end_stream(struct xfer *x, enum outcome o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(x->detail, sizeof(x->detail), fmt, ap);
    va_end(ap);
    if (n < 0) {
        x->detail[0] = '\0';
    }
    x->outcome = o;
}

/* An ERROR event: its object is a Status; 410 means relist, anything else retry. */
static void handle_error_event(struct xfer *x, const json_t *status)
{
    long long code = 0;
    (void)pl_json_integer(status, "code", &code);
    const char *msg = pl_json_string(status, "message");
    end_stream(x, code == 410 ? OUT_GONE : OUT_FAILED, "ERROR event %lld: %.300s", code,
               msg ? msg : "");
}

/*
 * Applies one line of the watch stream. Sets x->outcome to end the stream
 * when the line cannot be used or is an ERROR event.
 */
static void handle_line(struct xfer *x, const char *line, size_t len)
{
    struct pl_nswatch *w = x->w;
    while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ')) {
        len--;
    }
    if (len == 0) {
        return;
    }
    char jerr[200];
    json_t *ev = pl_json_load(line, len, jerr, sizeof(jerr));
    const char *type = pl_json_string(ev, "type");
    const json_t *object = pl_json_object(ev, "object");
    if (!type || !object) {
        end_stream(x, OUT_BAD_DATA, "undecodable watch event: %s", ev ? "no type or object" : jerr);
        goto out;
    }
    const json_t *meta = pl_json_object(object, "metadata");
    bool del = strcmp(type, "DELETED") == 0;
    if (del || strcmp(type, "ADDED") == 0 || strcmp(type, "MODIFIED") == 0) {
        int changed = usable_rv(meta) ? apply_namespace(w->view, object, del) : -1;
        if (changed < 0 || !take_rv(w, meta)) {
            end_stream(x, OUT_BAD_DATA, "%s event without a usable name or resourceVersion", type);
            goto out;
        }
        x->dirty = x->dirty || changed > 0;
        x->events++;
    } else if (strcmp(type, "BOOKMARK") == 0) {
        (void)take_rv(w, meta);
        x->events++;
    } else if (strcmp(type, "ERROR") == 0) {
        handle_error_event(x, object);
    } else {
        pl_log(PL_LOG_DEBUG, "namespace watch: unknown event type ignored",
               json_pack("{s:s}", "type", type));
    }
out:
    json_decref(ev);
}

/* ---- curl callbacks ---- */

static void recovered(struct pl_nswatch *w);

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    struct xfer *x = ud;
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    return atomic_load(&x->w->stop) ? 1 : 0;
}

/* Header lines: at the blank line that ends them, note the status (a watch is then up). */
static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct xfer *x = ud;
    size_t n = size * nmemb;
    if ((n == 2 && ptr[0] == '\r') || (n == 1 && ptr[0] == '\n')) {
        long status = 0;
        curl_easy_getinfo(x->w->curl, CURLINFO_RESPONSE_CODE, &status);
        x->status = status;
        if (x->watch && status == 200 && !x->established) {
            x->established = true;
            set_healthy(x->w);
            recovered(x->w);
        }
    }
    return n;
}

/* Keeps the start of an error body (for the log); the rest is read and dropped. */
static void keep_error_body(struct xfer *x, const char *ptr, size_t n)
{
    if (x->body.len < ERROR_BODY_MAX) {
        size_t room = ERROR_BODY_MAX - x->body.len;
        if (pl_buf_append(&x->body, ptr, n < room ? n : room) < 0) {
            return; /* cannot happen (room is checked); the body is only for the log */
        }
    }
}

static size_t on_list_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct xfer *x = ud;
    size_t n = size * nmemb;
    if (x->status != 200) {
        keep_error_body(x, ptr, n);
        return n;
    }
    if (pl_buf_append(&x->body, ptr, n) < 0) {
        end_stream(x, OUT_BAD_DATA, "list response larger than %u bytes", LIST_BODY_MAX);
        return 0; /* aborts the transfer */
    }
    return n;
}

static size_t on_watch_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct xfer *x = ud;
    size_t n = size * nmemb;
    if (x->status != 200) {
        keep_error_body(x, ptr, n);
        return n;
    }
    const char *p = ptr;
    const char *end = ptr + n;
    while (p < end && x->outcome == OUT_OK) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end;
        if (pl_buf_append(&x->line, p, (size_t)(stop - p)) < 0) {
            end_stream(x, OUT_BAD_DATA, "watch event longer than %u bytes", WATCH_LINE_MAX);
            break;
        }
        if (!nl) {
            break;
        }
        handle_line(x, x->line.data ? x->line.data : "", x->line.len);
        pl_buf_reset(&x->line);
        p = nl + 1;
    }
    if (x->dirty) {
        publish(x->w);
        x->dirty = false;
    }
    return x->outcome == OUT_OK ? n : 0;
}

/* ---- requests ---- */

static void xfer_init(struct xfer *x, struct pl_nswatch *w, bool watch)
{
    memset(x, 0, sizeof(*x));
    x->w = w;
    x->watch = watch;
    pl_buf_init(&x->body, watch ? ERROR_BODY_MAX : LIST_BODY_MAX);
    pl_buf_init(&x->line, WATCH_LINE_MAX);
}

static void xfer_finish(struct xfer *x)
{
    pl_buf_finish(&x->body);
    pl_buf_finish(&x->line);
}

/* The TLS settings from the credentials (PEM blobs are copied by curl). */
static void setup_tls(struct pl_nswatch *w)
{
    CURL *c = w->curl;
    const struct pl_kube_credentials *k = &w->creds;
    if (k->insecure) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (k->ca.data) {
        /* Only this CA, not the system store as well (as client-go does). */
        struct curl_blob blob = {k->ca.data, k->ca.len, CURL_BLOB_COPY};
        curl_easy_setopt(c, CURLOPT_CAINFO, NULL);
        curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
        curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &blob);
    }
    if (k->cert.data && k->key.data) {
        struct curl_blob cert = {k->cert.data, k->cert.len, CURL_BLOB_COPY};
        struct curl_blob key = {k->key.data, k->key.len, CURL_BLOB_COPY};
        curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
        curl_easy_setopt(c, CURLOPT_SSLCERT_BLOB, &cert);
        curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
        curl_easy_setopt(c, CURLOPT_SSLKEY_BLOB, &key);
    }
    if (k->proxy_url) {
        curl_easy_setopt(c, CURLOPT_PROXY, k->proxy_url);
    }
}

/* Re-reads rotated PEM files; a failure keeps the previous content and is logged once. */
static void refresh_files(struct pl_nswatch *w)
{
    struct pl_error err;
    pl_error_init(&err);
    if (pl_kube_credentials_refresh(&w->creds, &err) < 0) {
        if (!w->refresh_failing) {
            pl_log(PL_LOG_WARN,
                   "namespace watch: cannot re-read a credential file; keeping the "
                   "previous content",
                   json_pack("{s:s}", "error", err.message));
        }
        w->refresh_failing = true;
        return;
    }
    w->refresh_failing = false;
}

/*
 * Performs one GET of url into x (status, body or events). Returns the curl
 * result; a failure to read the token is reported as CURLE_LOGIN_DENIED with
 * the reason in x->detail.
 */
static CURLcode perform(struct pl_nswatch *w, const char *url, struct xfer *x, long timeout_s)
{
    CURLcode rc;
    struct curl_slist *headers = NULL;
    char *token = NULL;
    struct pl_error err;
    pl_error_init(&err);
    refresh_files(w);
    if (pl_kube_bearer_token(&w->creds, &token, &err) < 0) {
        snprintf(x->detail, sizeof(x->detail), "%s", err.message);
        return CURLE_LOGIN_DENIED;
    }
    headers = curl_slist_append(headers, "Accept: application/json");
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
    CURL *c = w->curl;
    curl_easy_reset(c); /* keeps the connection cache */
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "plimsoll-nswatch");
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPIDLE, 30L);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPINTVL, 10L);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, x);
    curl_easy_setopt(c, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, x->watch ? on_watch_data : on_list_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, w->curl_error);
    setup_tls(w);
    w->curl_error[0] = '\0';
    rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    x->status = status;
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    for (struct curl_slist *l = headers; l; l = l->next) {
        explicit_bzero(l->data, strlen(l->data)); /* the token does not outlive the request */
    }
    curl_slist_free_all(headers);
    return rc;
}

/* The "message" of a Kubernetes Status body, or the start of the body. */
static void status_message(const struct xfer *x, char *out, size_t size)
{
    char jerr[100];
    json_t *st = pl_json_load(pl_buf_str(&x->body), x->body.len, jerr, sizeof(jerr));
    const char *msg = pl_json_string(st, "message");
    snprintf(out, size, "%.300s", msg ? msg : pl_buf_str(&x->body));
    json_decref(st);
}

/*
 * Classifies a finished request. Fills why (for the log) unless the outcome
 * is OUT_OK or OUT_STOPPED.
 */
static enum outcome classify(struct pl_nswatch *w, CURLcode rc, const struct xfer *x, char *why,
                             size_t size)
{
    char msg[400];
    if (atomic_load(&w->stop)) {
        return OUT_STOPPED;
    }
    if (x->outcome != OUT_OK) {
        snprintf(why, size, "%s", x->detail);
        return x->outcome;
    }
    if (rc == CURLE_LOGIN_DENIED && x->status == 0) {
        snprintf(why, size, "%s", x->detail);
        return OUT_FAILED;
    }
    if (x->status != 0 && x->status != 200) {
        status_message(x, msg, sizeof(msg));
        snprintf(why, size, "HTTP %ld%s: %s", x->status,
                 x->status == 401 ? " (token rejected; it is re-read before the retry)" : "", msg);
        return x->status == 410 ? OUT_GONE : OUT_FAILED;
    }
    if (rc != CURLE_OK) {
        snprintf(why, size, "%s", w->curl_error[0] ? w->curl_error : curl_easy_strerror(rc));
        return OUT_FAILED;
    }
    return OUT_OK;
}

/* Appends "&name=<escaped value>" to b. Returns 0 or -E2BIG. */
static int append_param(struct pl_nswatch *w, struct pl_buf *b, const char *name, const char *value)
{
    char *esc = curl_easy_escape(w->curl, value, 0);
    if (!esc) {
        pl_oom();
    }
    int r = pl_buf_printf(b, "&%s=%s", name, esc);
    curl_free(esc);
    return r;
}

/* Parses one list page into map. Fills rv (first page) and the continue token. */
static int take_page(struct pl_nswatch *w, struct xfer *x, json_t *map, bool first,
                     char **ret_continue, char *why, size_t size)
{
    char jerr[200];
    json_t *list = pl_json_load(pl_buf_str(&x->body), x->body.len, jerr, sizeof(jerr));
    const json_t *meta = pl_json_object(list, "metadata");
    const json_t *items = pl_json_array(list, "items");
    int r = -EINVAL;
    if (!list || !items) {
        snprintf(why, size, "undecodable list response: %s", list ? "no items" : jerr);
        goto out;
    }
    if (first && !take_rv(w, meta)) {
        snprintf(why, size, "list response without a usable resourceVersion");
        goto out;
    }
    size_t i;
    const json_t *item;
    json_array_foreach(items, i, item)
    {
        (void)apply_namespace(map, item, false); /* an unnamed item cannot be looked up: skip */
    }
    const char *cont = pl_json_string(meta, "continue");
    if (cont && strlen(cont) > CONTINUE_MAX) {
        snprintf(why, size, "continue token longer than %u bytes", CONTINUE_MAX);
        goto out;
    }
    *ret_continue = cont && *cont ? pl_xstrdup(cont) : NULL;
    r = 0;
out:
    json_decref(list);
    return r;
}

/*
 * Lists every Namespace, page by page, into a new map that then replaces the
 * view. A continue token that expired (410) restarts the list once.
 */
static enum outcome list_all(struct pl_nswatch *w, unsigned *ret_pages, char *why, size_t size)
{
    enum outcome o = OUT_OK;
    json_t *map = json_object();
    char *cont = NULL;
    unsigned pages = 0;
    bool restarted = false;
    struct pl_buf url;
    pl_buf_init(&url, URL_MAX);
    if (!map) {
        pl_oom();
    }
    for (;;) {
        struct xfer x;
        xfer_init(&x, w, false);
        pl_buf_reset(&url);
        if (pl_buf_printf(&url, "%s/api/v1/namespaces?limit=%u", w->creds.server, w->list_limit) <
                0 ||
            (cont && append_param(w, &url, "continue", cont) < 0)) {
            xfer_finish(&x);
            snprintf(why, size, "list URL too long");
            o = OUT_FAILED;
            break;
        }
        CURLcode rc = perform(w, pl_buf_str(&url), &x, LIST_TIMEOUT_S);
        o = classify(w, rc, &x, why, size);
        if (o == OUT_GONE && cont && !restarted) {
            /* The continue token expired: start again from the first page. */
            xfer_finish(&x);
            restarted = true;
            free(cont);
            cont = NULL;
            json_object_clear(map);
            pages = 0;
            continue;
        }
        char *next = NULL;
        if (o == OUT_OK && take_page(w, &x, map, pages == 0, &next, why, size) < 0) {
            o = OUT_BAD_DATA;
        }
        xfer_finish(&x);
        free(cont);
        cont = next;
        if (o != OUT_OK) {
            break;
        }
        pages++;
        if (!cont) {
            break;
        }
    }
    if (o == OUT_OK) {
        json_decref(w->view);
        w->view = map;
        map = NULL;
        *ret_pages = pages;
    }
    free(cont);
    json_decref(map);
    pl_buf_finish(&url);
    return o;
}

/* Watches from w->rv until the stream ends. Counts the events in *ret_events. */
static enum outcome watch_once(struct pl_nswatch *w, unsigned *ret_events, double *ret_open_s,
                               char *why, size_t size)
{
    unsigned timeout = w->watch_timeout_s;
    if (timeout == 0) {
        uint32_t r = 0;
        if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
            r = (uint32_t)(now_mono() * 1e6);
        }
        timeout = WATCH_TIMEOUT_MIN_S + r % WATCH_TIMEOUT_MIN_S;
    }
    char tbuf[32];
    snprintf(tbuf, sizeof(tbuf), "%u", timeout);
    struct pl_buf url;
    pl_buf_init(&url, URL_MAX);
    struct xfer x;
    xfer_init(&x, w, true);
    enum outcome o = OUT_FAILED;
    if (pl_buf_printf(&url, "%s/api/v1/namespaces?watch=1", w->creds.server) < 0 ||
        append_param(w, &url, "resourceVersion", w->rv) < 0 ||
        append_param(w, &url, "allowWatchBookmarks", "true") < 0 ||
        append_param(w, &url, "timeoutSeconds", tbuf) < 0) {
        snprintf(why, size, "watch URL too long");
        goto out;
    }
    double opened = now_mono();
    CURLcode rc = perform(w, pl_buf_str(&url), &x, (long)timeout + 30L);
    *ret_open_s = now_mono() - opened;
    o = classify(w, rc, &x, why, size);
    *ret_events = x.events;
out:
    if (x.dirty) {
        publish(w);
    }
    xfer_finish(&x);
    pl_buf_finish(&url);
    return o;
}

/* ---- backoff and logging ---- */

/* Backoff before retry number attempt (1-based): base * 2^(attempt-1), capped, in [d/2, d]. */
static unsigned backoff_ms(const struct pl_nswatch *w, unsigned attempt)
{
    uint64_t d = w->backoff_base_ms;
    for (unsigned i = 1; i < attempt && d < w->backoff_max_ms; i++) {
        d *= 2;
    }
    if (d > w->backoff_max_ms) {
        d = w->backoff_max_ms;
    }
    uint64_t r = 0;
    if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
        r = (uint64_t)(now_mono() * 1e9);
    }
    uint64_t half = d / 2;
    return (unsigned)(d - half + (half > 0 ? r % (half + 1) : 0));
}

/* Sleeps ms milliseconds, or less when pl_nswatch_free() is called meanwhile. */
static void sleep_ms(struct pl_nswatch *w, unsigned ms)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += (time_t)(ms / 1000u);
    deadline.tv_nsec += (long)(ms % 1000u) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&w->lock);
    while (!atomic_load(&w->stop)) {
        if (pthread_cond_timedwait(&w->wake, &w->lock, &deadline) == ETIMEDOUT) {
            break;
        }
    }
    pthread_mutex_unlock(&w->lock);
}

static bool is_power_of_two(unsigned n)
{
    return n != 0 && (n & (n - 1)) == 0;
}

/* The log rate limit: attempts 1, 2, 4, 8, ..., and at least every RETRY_LOG_INTERVAL_S. */
static bool log_due(struct pl_nswatch *w, double now)
{
    if (w->attempt <= 1 || is_power_of_two(w->attempt) ||
        now - w->last_retry_log >= RETRY_LOG_INTERVAL_S) {
        w->last_retry_log = now;
        return true;
    }
    return false;
}

static json_int_t ms(double seconds)
{
    return (json_int_t)(seconds * 1000.0 + 0.5);
}

/*
 * Records a failure of `what` ("list" or "watch"), logs it when the rate limit
 * allows (the first one of an outage, then attempts 2, 4, 8, ..., and at least
 * every five minutes) and sleeps the backoff.
 */
static void failed(struct pl_nswatch *w, const char *what, const char *why)
{
    double now = now_mono();
    set_unhealthy(w);
    w->attempt++;
    unsigned delay = backoff_ms(w, w->attempt);
    bool first = w->down_since == 0;
    if (first) {
        w->down_since = now;
    }
    if (log_due(w, now) || first) {
        pl_log(PL_LOG_WARN,
               first ? "namespace watch: request to the API server failed; keeping the last view"
                     : "namespace watch: still failing; retrying with backoff",
               json_pack("{s:s, s:s, s:s, s:i, s:I, s:I}", "request", what, "error", why,
                         "api_server", w->creds.server, "attempt", (int)w->attempt, "retry_in_ms",
                         (json_int_t)delay, "down_ms", ms(now - w->down_since)));
    }
    sleep_ms(w, delay);
}

/*
 * A 410 Gone: the resourceVersion is older than the API server keeps. Not an
 * outage: relist at once, but wait the backoff when it repeats without a
 * working watch in between (a relist that keeps getting 410).
 */
static void expired(struct pl_nswatch *w, const char *why)
{
    set_unhealthy(w);
    w->attempt++;
    if (log_due(w, now_mono())) {
        pl_log(PL_LOG_INFO, "namespace watch: resourceVersion expired; relisting",
               json_pack("{s:s, s:s, s:i}", "error", why, "resource_version", w->rv, "attempt",
                         (int)w->attempt));
    }
    if (w->attempt > 1) {
        sleep_ms(w, backoff_ms(w, w->attempt - 1));
    }
}

/* Logs the end of an outage, if there was one. */
static void recovered(struct pl_nswatch *w)
{
    if (w->down_since == 0) {
        return;
    }
    pl_log(PL_LOG_INFO, "namespace watch: API server reachable again",
           json_pack("{s:s, s:i, s:I}", "api_server", w->creds.server, "attempts", (int)w->attempt,
                     "down_ms", ms(now_mono() - w->down_since)));
    w->down_since = 0;
}

/* ---- the thread ---- */

/* Lists and publishes. Returns whether it worked (else the failure is handled). */
static bool relist(struct pl_nswatch *w, const char *reason)
{
    char why[600];
    unsigned pages = 0;
    enum outcome o = list_all(w, &pages, why, sizeof(why));
    if (o == OUT_STOPPED) {
        return false;
    }
    if (o != OUT_OK) {
        failed(w, "list", why);
        return false;
    }
    publish(w);
    set_healthy(w);
    bool first = !atomic_load(&w->synced);
    atomic_store(&w->synced, true);
    recovered(w);
    pl_log(PL_LOG_INFO, first ? "namespace view synced" : "namespace view relisted",
           json_pack("{s:s, s:i, s:s, s:i, s:s}", "reason", reason, "namespaces",
                     (int)json_object_size(w->view), "resource_version", w->rv, "pages", (int)pages,
                     "api_server", w->creds.server));
    return true;
}

static void *run(void *arg)
{
    struct pl_nswatch *w = arg;
    const char *list_reason = "initial list";
    bool need_list = true;
    pl_log(PL_LOG_INFO, "namespace watch starting",
           json_pack("{s:s, s:s}", "api_server", w->creds.server, "credentials", w->creds.source));
    while (!atomic_load(&w->stop)) {
        if (need_list) {
            if (!relist(w, list_reason)) {
                continue;
            }
            need_list = false;
        }
        char why[600];
        unsigned events = 0;
        double open_s = 0;
        enum outcome o = watch_once(w, &events, &open_s, why, sizeof(why));
        if (o == OUT_STOPPED) {
            break;
        }
        if (events > 0 || open_s >= WATCH_STABLE_S || o == OUT_OK) {
            w->attempt = 0; /* the watch worked: later failures start the backoff afresh */
            recovered(w);
        }
        switch (o) {
        case OUT_OK:
            break; /* the server ended the watch at timeoutSeconds: watch again at once */
        case OUT_GONE:
            need_list = true;
            list_reason = "resourceVersion expired (410 Gone)";
            expired(w, why);
            break;
        case OUT_BAD_DATA:
            need_list = true;
            list_reason = "undecodable watch data";
            failed(w, "watch", why);
            break;
        default:
            failed(w, "watch", why);
            break;
        }
    }
    return NULL;
}

/* ---- API ---- */

int pl_nswatch_new(const struct pl_nswatch_options *opts, struct pl_nswatch **ret,
                   struct pl_error *err)
{
    struct pl_kube_credentials creds;
    pl_kube_credentials_init(&creds);
    int r = opts && opts->kubeconfig ? pl_kubeconfig_load(opts->kubeconfig, &creds, err)
                                     : pl_kube_in_cluster(opts ? opts->sa_dir : NULL, &creds, err);
    if (r < 0) {
        return r;
    }
    if (curl_global_acquire() < 0) {
        pl_kube_credentials_finish(&creds);
        pl_error_set(err, "", 0, "cannot initialise libcurl");
        return -EIO;
    }
    struct pl_nswatch *w = pl_xcalloc(1, sizeof(*w));
    w->creds = creds;
    w->curl = curl_easy_init();
    if (!w->curl) {
        pl_oom();
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->wake, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&w->lock, NULL);
    atomic_init(&w->synced, false);
    atomic_init(&w->stop, false);
    w->view = json_object();
    if (!w->view) {
        pl_oom();
    }
    w->backoff_base_ms = BACKOFF_BASE_MS;
    w->backoff_max_ms = BACKOFF_MAX_MS;
    w->list_limit = LIST_PAGE_LIMIT;
    *ret = w;
    return 0;
}

int pl_nswatch_start(struct pl_nswatch *w)
{
    if (!w || w->started) {
        return -EINVAL;
    }
    pthread_mutex_lock(&w->lock);
    w->started_at = now_mono();
    pthread_mutex_unlock(&w->lock);
    /* The thread takes no signals: they belong to the main thread's handling. */
    sigset_t all;
    sigset_t old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int r = pthread_create(&w->thread, NULL, run, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (r != 0) {
        return -r;
    }
    w->started = true;
    return 0;
}

static void snapshot_release(void *snap)
{
    snapshot_unref(snap);
}

const json_t *pl_nswatch_annotations(struct pl_nswatch *w, const char *ns, struct pl_pool *pool)
{
    if (!w || !ns) {
        return NULL;
    }
    struct snapshot *snap = snapshot_get(w);
    if (!snap) {
        return NULL;
    }
    const json_t *found = json_object_get(snap->map, ns);
    if (!found) {
        snapshot_unref(snap);
        return NULL;
    }
    /* Borrowed from a snapshot nobody modifies; it stays alive until the pool's clear. */
    pl_pool_on_clear(pool, snapshot_release, snap);
    return found;
}

bool pl_nswatch_synced(struct pl_nswatch *w)
{
    return w && atomic_load(&w->synced);
}

double pl_nswatch_staleness_seconds(struct pl_nswatch *w)
{
    if (!w) {
        return 0;
    }
    pthread_mutex_lock(&w->lock);
    double since = w->healthy ? 0 : (w->last_good > 0 ? w->last_good : w->started_at);
    pthread_mutex_unlock(&w->lock);
    if (since == 0) {
        return 0;
    }
    double s = now_mono() - since;
    return s > 0 ? s : 0;
}

void pl_nswatch_free(struct pl_nswatch *w)
{
    if (!w) {
        return;
    }
    if (w->started) {
        pthread_mutex_lock(&w->lock);
        atomic_store(&w->stop, true);
        pthread_cond_broadcast(&w->wake);
        pthread_mutex_unlock(&w->lock);
        pthread_join(w->thread, NULL);
    }
    curl_easy_cleanup(w->curl);
    curl_global_release();
    snapshot_unref(w->snapshot);
    json_decref(w->view);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    pl_kube_credentials_finish(&w->creds);
    free(w);
}
