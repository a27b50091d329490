/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The generic list+watch (see listwatch.h).
 *
 * The thread loops: list (if needed), then watch until the stream ends, then
 * decide what follows from how it ended:
 *
 *   | how the watch ended                         | next                            |
 *   |---------------------------------------------|---------------------------------|
 *   | cleanly, open >= short_watch_ms             | watch again at once             |
 *   | cleanly and sooner, with progress           | watch again once short_watch_ms |
 *   |                                             | has passed since it opened      |
 *   | cleanly and sooner, no progress (e.g. an    | failure: backoff, watch again   |
 *   | empty 200)                                  |                                 |
 *   | 410 (HTTP or ERROR event)                   | failure: backoff, relist        |
 *   | undecodable or oversized data               | failure: backoff, relist        |
 *   | anything else (connection, 5xx, ERROR)      | failure: backoff, watch again   |
 *
 * "Progress" is an event or bookmark that moved the resourceVersion. A
 * failed list is a failure too (backoff, list again). "attempt" counts
 * failures since a watch last stayed open stable_watch_ms; the backoff
 * before retry n is base * 2^(n-1) capped at max, drawn in [d/2, d] from
 * getrandom(). A successful list does not reset it, so a list -> watch ->
 * 410 loop slows down instead of relisting hundreds of times a second.
 */
#include "kube/listwatch.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/jalloc.h"
#include "core/json.h"
#include "kube/stream.h"

#define LIST_TIMEOUT_S       60L
#define WATCH_TIMEOUT_MIN_S  300u
#define RETRY_LOG_INTERVAL_S 300.0
#define LIST_PAGES_MAX       10000u /* 5M objects at limit=500 */
#define SHORT_PAGES_MAX      8u     /* pages with a continue token but under half full */
#define WHY_MAX              600

/* How one list or watch ended. */
enum outcome {
    OUT_OK,       /* list complete, or the watch ended cleanly */
    OUT_STOPPED,  /* the stop flag */
    OUT_GONE,     /* 410: relist */
    OUT_BAD_DATA, /* undecodable or oversized: relist */
    OUT_FAILED,   /* anything else: retry */
};

struct pl_kube_listwatch {
    struct pl_kube_client *client;
    struct pl_kube_listwatch_ops ops;
    void *ud;
    char *path;
    char *name;
    struct pl_kube_listwatch_options o;

    pthread_mutex_t lock;
    pthread_cond_t wake; /* signalled on stop: cuts the backoff sleep short */
    bool current;        /* under lock: a watch is up and has lasted short_watch_ms */
    double last_good;    /* under lock: when it was last known current; 0 never */
    double started_at;   /* under lock */
    double watch_opened; /* under lock: when the open watch got its 200; 0 none */
    atomic_bool synced;
    atomic_bool stop;
    atomic_uint_fast64_t requests;
    atomic_ullong errors[2]; /* failed lists [0] and watches [1]; 410 Gone is no error */
    pthread_t thread;
    bool started;

    /* Owned by the thread. */
    char rv[PL_KUBE_RV_MAX + 1];
    unsigned attempt;      /* failures since a watch was last stable */
    double down_since;     /* first failure of this outage; 0 none */
    double last_retry_log; /* the last rate-limited line */
    bool unanswered;       /* the last failure was an error answer or no answer at all */
    long last_http;        /* HTTP status of the last request, 0 when none arrived */
    struct pl_pool items;  /* list items, with o.pooled_items */
};

/* One list page or one watch in progress. */
struct pass {
    struct pl_kube_listwatch *lw;
    struct pl_kube_liststream list;
    struct pl_kube_lines lines;
    enum outcome outcome; /* set by item or event handling to end early */
    double opened;        /* watch: when the 200 arrived; 0 not yet */
    bool confirmed;       /* watch: open for short_watch_ms */
    unsigned events;      /* watch: events and bookmarks */
    bool progress;        /* watch: the resourceVersion moved */
    bool batch;           /* watch: events since the last flush */
    char why[WHY_MAX];
};

static double now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool stopping(struct pl_kube_listwatch *lw)
{
    return atomic_load(&lw->stop);
}

/* Logs through the caller, "<name>: <msg>". Steals fields. */
static void lw_log(struct pl_kube_listwatch *lw, enum pl_log_level level, const char *msg,
                   json_t *fields)
{
    if (!lw->ops.log) {
        json_decref(fields);
        return;
    }
    char line[256];
    snprintf(line, sizeof(line), "%s: %s", lw->name, msg);
    lw->ops.log(lw->ud, level, line, fields);
}

PL_PRINTF(3, 4) static void end_pass(struct pass *p, enum outcome o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(p->why, sizeof(p->why), fmt, ap);
    va_end(ap);
    if (n < 0) {
        p->why[0] = '\0';
    }
    p->outcome = o;
}

/* ---- staleness ---- */

/* The watch has been up for short_watch_ms: the view is current. */
static void set_current(struct pl_kube_listwatch *lw)
{
    pthread_mutex_lock(&lw->lock);
    lw->current = true;
    lw->last_good = now_mono();
    pthread_mutex_unlock(&lw->lock);
}

/* The view may be behind from now on. */
static void set_not_current(struct pl_kube_listwatch *lw)
{
    pthread_mutex_lock(&lw->lock);
    if (lw->current) {
        lw->current = false;
        lw->last_good = now_mono();
    }
    pthread_mutex_unlock(&lw->lock);
}

static json_int_t ms(double seconds)
{
    return (json_int_t)(seconds * 1000.0 + 0.5);
}

/* Logs the end of an outage, if there was one. */
static void recovered(struct pl_kube_listwatch *lw)
{
    if (lw->down_since == 0) {
        return;
    }
    lw_log(lw, PL_LOG_INFO, "API server reachable again",
           json_pack("{s:s, s:i, s:I}", "api_server", pl_kube_client_server(lw->client), "attempts",
                     (int)lw->attempt, "down_ms", ms(now_mono() - lw->down_since)));
    lw->down_since = 0;
}

/* A watch proves itself by staying open short_watch_ms. Called as data and ticks arrive. */
static void check_confirmed(struct pass *p)
{
    if (!p->confirmed && p->opened > 0 &&
        now_mono() - p->opened >= (double)p->lw->o.short_watch_ms / 1000.0) {
        p->confirmed = true;
        set_current(p->lw);
        recovered(p->lw);
    }
}

/* ---- items and events ---- */

/* The object's metadata.resourceVersion if usable (non-empty, bounded), else NULL. Borrowed. */
static const char *usable_rv(const json_t *object)
{
    const char *rv = pl_json_string(pl_json_object(object, "metadata"), "resourceVersion");
    size_t len = rv ? strlen(rv) : 0;
    return len > 0 && len <= PL_KUBE_RV_MAX ? rv : NULL;
}

/* Moves lw->rv to rv. Returns whether it changed. */
static bool take_rv(struct pl_kube_listwatch *lw, const char *rv)
{
    if (strcmp(lw->rv, rv) == 0) {
        return false;
    }
    memcpy(lw->rv, rv, strlen(rv) + 1);
    return true;
}

/* One element of a list page: parsed on its own (managedFields never built). */
static int on_list_item(void *ud, const char *json, size_t len)
{
    struct pass *p = ud;
    if (stopping(p->lw)) {
        return -ECANCELED;
    }
    char jerr[160];
    struct pl_pool *pool = p->lw->o.pooled_items ? &p->lw->items : NULL;
    struct pl_pool *prev = pool ? pl_jalloc_use(pool) : NULL;
    json_t *item = pl_json_load_skipping(json, len, "managedFields", jerr, sizeof(jerr));
    int r = !item ? -EINVAL : p->lw->ops.list_item ? p->lw->ops.list_item(p->lw->ud, item) : 0;
    json_decref(item);
    if (pool) {
        pl_jalloc_use(prev);
        pl_pool_clear(pool);
    }
    if (!item) {
        end_pass(p, OUT_BAD_DATA, "undecodable list item: %s", jerr);
        return r;
    }
    if (r < 0) {
        end_pass(p, OUT_BAD_DATA, "list item refused");
    }
    return r;
}

/* An ERROR event's Status: 410 means relist, anything else retry. */
static int error_event(struct pass *p, const json_t *status)
{
    long long code = 0;
    (void)pl_json_integer(status, "code", &code);
    const char *msg = pl_json_string(status, "message");
    end_pass(p, code == 410 ? OUT_GONE : OUT_FAILED, "ERROR event %lld: %.300s", code,
             msg ? msg : "");
    return -EPROTO;
}

/* Hands an ADDED/MODIFIED/DELETED event to the caller and moves the resourceVersion. */
static int object_event(struct pass *p, const char *type, enum pl_kube_event ev,
                        const json_t *object)
{
    struct pl_kube_listwatch *lw = p->lw;
    const char *rv = usable_rv(object);
    int r = rv && lw->ops.event ? lw->ops.event(lw->ud, ev, object) : (rv ? 0 : -EINVAL);
    if (r < 0) {
        end_pass(p, OUT_BAD_DATA, "%s event without a usable object or resourceVersion", type);
        return r;
    }
    p->progress = take_rv(lw, rv) || p->progress;
    p->events++;
    p->batch = true;
    return 0;
}

/* One line of the watch stream: one event. */
static int on_watch_line(void *ud, const char *line, size_t len)
{
    struct pass *p = ud;
    struct pl_kube_listwatch *lw = p->lw;
    if (stopping(lw)) {
        return -ECANCELED;
    }
    char jerr[160];
    int r = 0;
    json_t *ev = pl_json_load_skipping(line, len, "managedFields", jerr, sizeof(jerr));
    const char *type = pl_json_string(ev, "type");
    const json_t *object = pl_json_object(ev, "object");
    if (!type || !object) {
        end_pass(p, OUT_BAD_DATA, "undecodable watch event: %s", ev ? "no type or object" : jerr);
        r = -EINVAL;
    } else if (strcmp(type, "ADDED") == 0) {
        r = object_event(p, type, PL_KUBE_ADDED, object);
    } else if (strcmp(type, "MODIFIED") == 0) {
        r = object_event(p, type, PL_KUBE_MODIFIED, object);
    } else if (strcmp(type, "DELETED") == 0) {
        r = object_event(p, type, PL_KUBE_DELETED, object);
    } else if (strcmp(type, "BOOKMARK") == 0) {
        const char *rv = usable_rv(object);
        p->progress = (rv && take_rv(lw, rv)) || p->progress;
        p->events++;
    } else if (strcmp(type, "ERROR") == 0) {
        r = error_event(p, object);
    }
    /* Unknown types are ignored (and are no progress). */
    json_decref(ev);
    return r;
}

/* ---- transfer callbacks ---- */

static int on_list_data(void *ud, const char *data, size_t len)
{
    struct pass *p = ud;
    if (p->list.bytes + len > PL_KUBE_LIST_PAGE_BYTES_MAX) {
        end_pass(p, OUT_BAD_DATA, "list page larger than %llu bytes",
                 (unsigned long long)PL_KUBE_LIST_PAGE_BYTES_MAX);
        return -E2BIG;
    }
    int r = pl_kube_liststream_feed(&p->list, data, len);
    if (r < 0 && p->outcome == OUT_OK) {
        end_pass(p, r == -ECANCELED ? OUT_STOPPED : OUT_BAD_DATA, "%s", p->list.why);
    }
    return r;
}

/* Publishes when the open watch started (0: none), so that staleness needs no tick. */
static void set_watch_opened(struct pl_kube_listwatch *lw, double when)
{
    pthread_mutex_lock(&lw->lock);
    lw->watch_opened = when;
    pthread_mutex_unlock(&lw->lock);
}

static int on_watch_open(void *ud, long status)
{
    struct pass *p = ud;
    if (status >= 200 && status <= 299) {
        p->opened = now_mono();
        set_watch_opened(p->lw, p->opened);
        if (p->lw->unanswered) {
            /* It answers again: say so now. After failures with a 200 (a short watch,
             * a 410) only a watch that lasts counts (check_confirmed). */
            p->lw->unanswered = false;
            recovered(p->lw);
        }
    }
    return 0;
}

static int on_watch_data(void *ud, const char *data, size_t len)
{
    struct pass *p = ud;
    int r = pl_kube_lines_feed(&p->lines, data, len);
    if (r == -E2BIG) {
        end_pass(p, OUT_BAD_DATA, "watch event longer than %zu bytes", p->lines.line.max);
    }
    if (p->batch && p->lw->ops.flush) {
        p->lw->ops.flush(p->lw->ud);
    }
    p->batch = false;
    check_confirmed(p);
    return r;
}

static void on_watch_tick(void *ud)
{
    check_confirmed(ud);
}

/* The outcome of a finished request, with p->why filled. */
static enum outcome classify(struct pass *p, int r, const struct pl_kube_result *res)
{
    if (r == -ECANCELED || stopping(p->lw)) {
        return OUT_STOPPED;
    }
    if (p->outcome != OUT_OK) {
        return p->outcome;
    }
    if (r == -EPROTO) {
        snprintf(p->why, sizeof(p->why), "%s", res->message);
        return res->http == 410 || res->code == 410 ? OUT_GONE : OUT_FAILED;
    }
    if (r < 0) {
        snprintf(p->why, sizeof(p->why), "%s", res->message);
        return OUT_FAILED;
    }
    return OUT_OK;
}

static uint64_t random64(void)
{
    uint64_t r = 0;
    if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
        r = (uint64_t)(now_mono() * 1e9);
    }
    return r;
}

static int get(struct pl_kube_listwatch *lw, const struct pl_kube_request *req,
               struct pl_kube_result *res)
{
    atomic_fetch_add(&lw->requests, 1);
    int r = pl_kube_client_get(lw->client, req, res);
    lw->last_http = res->http;
    if (res->warning[0]) {
        lw_log(lw, PL_LOG_WARN, "credential file", json_pack("{s:s}", "error", res->warning));
    }
    return r;
}

/* ---- list ---- */

/* Reads the first page's resourceVersion and every page's continue token. */
static enum outcome page_metadata(struct pass *p, bool first, char **ret_continue)
{
    const json_t *meta = pl_kube_liststream_metadata(&p->list);
    if (first) {
        const char *rv = pl_json_string(meta, "resourceVersion");
        size_t len = rv ? strlen(rv) : 0;
        if (len == 0 || len > PL_KUBE_RV_MAX) {
            end_pass(p, OUT_BAD_DATA, "list response without a usable resourceVersion");
            return OUT_BAD_DATA;
        }
        (void)take_rv(p->lw, rv);
    }
    const char *cont = pl_json_string(meta, "continue");
    if (cont && strlen(cont) > PL_KUBE_CONTINUE_MAX) {
        end_pass(p, OUT_BAD_DATA, "continue token longer than %u bytes", PL_KUBE_CONTINUE_MAX);
        return OUT_BAD_DATA;
    }
    *ret_continue = cont && *cont ? pl_xstrdup(cont) : NULL;
    return OUT_OK;
}

/*
 * A continue token must move the list on: the same token again, or page
 * after page under half full, is a server leading us round in circles (a
 * real API server fills every page but the last, which has no token).
 */
static enum outcome check_progress(struct pass *p, const char *prev, const char *next,
                                   unsigned *short_pages)
{
    if (!next) {
        return OUT_OK;
    }
    if (prev && strcmp(prev, next) == 0) {
        end_pass(p, OUT_BAD_DATA, "the API server repeated its continue token");
        return OUT_BAD_DATA;
    }
    if (p->list.items * 2 < p->lw->o.list_limit && ++*short_pages > SHORT_PAGES_MAX) {
        end_pass(p, OUT_BAD_DATA, "%u list pages under half full with a continue token",
                 *short_pages);
        return OUT_BAD_DATA;
    }
    return OUT_OK;
}

/* One page; *cont is the token in, and the next token out. */
static enum outcome list_page(struct pl_kube_listwatch *lw, bool first, char **cont,
                              unsigned *short_pages, char *why)
{
    struct pass p = {.lw = lw};
    struct pl_buf url;
    struct pl_kube_result res;
    enum outcome o = OUT_FAILED;
    pl_buf_init(&url, PL_KUBE_URL_MAX);
    pl_kube_liststream_init(&p.list, 0, on_list_item, &p);
    if (pl_buf_printf(&url, "%s?limit=%u", lw->path, lw->o.list_limit) < 0 ||
        (*cont && pl_kube_append_param(&url, "continue", *cont) < 0)) {
        snprintf(p.why, sizeof(p.why), "list URL too long");
        goto out;
    }
    struct pl_kube_request req = {
        .path = pl_buf_str(&url), .timeout_s = LIST_TIMEOUT_S, .on_data = on_list_data, .ud = &p};
    o = classify(&p, get(lw, &req, &res), &res);
    if (o == OUT_OK && pl_kube_liststream_end(&p.list) < 0) {
        end_pass(&p, OUT_BAD_DATA, "%s", p.list.why);
        o = OUT_BAD_DATA;
    }
    char *prev = *cont;
    *cont = NULL;
    if (o == OUT_OK) {
        o = page_metadata(&p, first, cont);
    }
    if (o == OUT_OK) {
        o = check_progress(&p, prev, *cont, short_pages);
    }
    free(prev);
out:
    snprintf(why, WHY_MAX, "%s", p.why);
    pl_kube_liststream_finish(&p.list);
    pl_buf_finish(&url);
    return o;
}

/*
 * Lists the whole collection into the caller (list_begin, list_item per
 * item, list_end). A continue token that expired (410) restarts once.
 */
static enum outcome list_all(struct pl_kube_listwatch *lw, unsigned *ret_pages, char *why)
{
    enum outcome o;
    char *cont = NULL;
    unsigned pages = 0;
    unsigned short_pages = 0;
    bool restarted = false;
    if (lw->ops.list_begin) {
        lw->ops.list_begin(lw->ud);
    }
    for (;;) {
        bool had_cont = cont != NULL;
        o = list_page(lw, pages == 0, &cont, &short_pages, why);
        if (o == OUT_GONE && had_cont && !restarted) {
            restarted = true; /* the continue token expired: from the first page again */
            pages = 0;
            short_pages = 0;
            if (lw->ops.list_end) {
                lw->ops.list_end(lw->ud, false);
            }
            if (lw->ops.list_begin) {
                lw->ops.list_begin(lw->ud);
            }
            continue;
        }
        if (o != OUT_OK) {
            break;
        }
        pages++;
        if (!cont || stopping(lw)) {
            break;
        }
        if (pages >= LIST_PAGES_MAX) {
            snprintf(why, WHY_MAX, "a list of more than %u pages", LIST_PAGES_MAX);
            o = OUT_BAD_DATA;
            break;
        }
    }
    free(cont);
    if (o == OUT_OK && stopping(lw)) {
        o = OUT_STOPPED;
    }
    if (lw->ops.list_end) {
        lw->ops.list_end(lw->ud, o == OUT_OK);
    }
    *ret_pages = pages;
    return o;
}

/* ---- watch ---- */

static unsigned watch_timeout(const struct pl_kube_listwatch *lw)
{
    if (lw->o.watch_timeout_s) {
        return lw->o.watch_timeout_s;
    }
    return WATCH_TIMEOUT_MIN_S + (unsigned)(random64() % WATCH_TIMEOUT_MIN_S);
}

/* Watches from lw->rv until the stream ends. */
static enum outcome watch_once(struct pl_kube_listwatch *lw, struct pass *p)
{
    unsigned timeout = watch_timeout(lw);
    char tbuf[32];
    snprintf(tbuf, sizeof(tbuf), "%u", timeout);
    struct pl_buf url;
    struct pl_kube_result res;
    enum outcome o = OUT_FAILED;
    pl_buf_init(&url, PL_KUBE_URL_MAX);
    pl_kube_lines_init(&p->lines, 0, on_watch_line, p);
    if (pl_buf_printf(&url, "%s?watch=1", lw->path) < 0 ||
        pl_kube_append_param(&url, "resourceVersion", lw->rv) < 0 ||
        pl_kube_append_param(&url, "allowWatchBookmarks", "true") < 0 ||
        pl_kube_append_param(&url, "timeoutSeconds", tbuf) < 0) {
        snprintf(p->why, sizeof(p->why), "watch URL too long");
        goto out;
    }
    struct pl_kube_request req = {.path = pl_buf_str(&url),
                                  .timeout_s = (long)timeout + 30L,
                                  .on_data = on_watch_data,
                                  .on_open = on_watch_open,
                                  .on_tick = on_watch_tick,
                                  .ud = p};
    o = classify(p, get(lw, &req, &res), &res);
    check_confirmed(p);
    set_watch_opened(lw, 0);
out:
    if (p->batch && lw->ops.flush) {
        lw->ops.flush(lw->ud);
    }
    pl_kube_lines_finish(&p->lines);
    pl_buf_finish(&url);
    return o;
}

/* ---- backoff and logging ---- */

/* Backoff before retry number attempt (1-based): base * 2^(attempt-1), capped, in [d/2, d]. */
static unsigned backoff_ms(const struct pl_kube_listwatch *lw, unsigned attempt)
{
    uint64_t d = lw->o.backoff_base_ms;
    for (unsigned i = 1; i < attempt && d < lw->o.backoff_max_ms; i++) {
        d *= 2;
    }
    if (d > lw->o.backoff_max_ms) {
        d = lw->o.backoff_max_ms;
    }
    uint64_t half = d / 2;
    return (unsigned)(d - half + (half > 0 ? random64() % (half + 1) : 0));
}

/* Sleeps ms milliseconds, or less when the stop flag is set meanwhile. */
static void sleep_ms(struct pl_kube_listwatch *lw, unsigned ms_)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += (time_t)(ms_ / 1000u);
    deadline.tv_nsec += (long)(ms_ % 1000u) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&lw->lock);
    while (!stopping(lw)) {
        if (pthread_cond_timedwait(&lw->wake, &lw->lock, &deadline) == ETIMEDOUT) {
            break;
        }
    }
    pthread_mutex_unlock(&lw->lock);
}

static bool is_power_of_two(unsigned n)
{
    return n != 0 && (n & (n - 1)) == 0;
}

/* The log rate limit: attempts 1, 2, 4, 8, ..., and at least every RETRY_LOG_INTERVAL_S. */
static bool log_due(struct pl_kube_listwatch *lw, double now)
{
    if (lw->attempt <= 1 || is_power_of_two(lw->attempt) ||
        now - lw->last_retry_log >= RETRY_LOG_INTERVAL_S) {
        lw->last_retry_log = now;
        return true;
    }
    return false;
}

/*
 * Records a failure of `what` ("list" or "watch"), logs it when the rate
 * limit allows, and sleeps the backoff: always, the first retry included.
 */
static void failed(struct pl_kube_listwatch *lw, const char *what, enum outcome o, const char *why)
{
    double now = now_mono();
    set_not_current(lw);
    if (o != OUT_GONE) {
        atomic_fetch_add(&lw->errors[strcmp(what, "list") == 0 ? 0 : 1], 1);
    }
    lw->attempt++;
    lw->unanswered = o == OUT_FAILED;
    unsigned delay = backoff_ms(lw, lw->attempt);
    bool first = lw->down_since == 0;
    if (first) {
        lw->down_since = now;
    }
    if (log_due(lw, now) || first) {
        const char *msg = o == OUT_GONE ? "resourceVersion expired; relisting after a backoff"
                          : first       ? "request to the API server failed; keeping the last view"
                                        : "still failing; retrying with backoff";
        lw_log(lw, o == OUT_GONE && lw->attempt == 1 ? PL_LOG_INFO : PL_LOG_WARN, msg,
               json_pack("{s:s, s:s, s:s, s:s, s:i, s:I, s:I}", "request", what, "error", why,
                         "api_server", pl_kube_client_server(lw->client), "resource_version",
                         lw->rv, "attempt", (int)lw->attempt, "retry_in_ms", (json_int_t)delay,
                         "down_ms", ms(now - lw->down_since)));
    }
    sleep_ms(lw, delay);
}

/* ---- the thread ---- */

/* Lists. Returns whether it worked (else the failure is handled, or the thread is stopping). */
static bool relist(struct pl_kube_listwatch *lw, const char *reason)
{
    char why[WHY_MAX];
    unsigned pages = 0;
    why[0] = '\0';
    enum outcome o = list_all(lw, &pages, why);
    if (o == OUT_STOPPED) {
        return false;
    }
    if (o != OUT_OK) {
        failed(lw, "list", o, why);
        return false;
    }
    bool first = !atomic_load(&lw->synced);
    atomic_store(&lw->synced, true);
    if (first || log_due(lw, now_mono())) {
        lw_log(lw, PL_LOG_INFO, first ? "synced" : "relisted",
               json_pack("{s:s, s:s, s:i, s:s, s:i}", "reason", reason, "resource_version", lw->rv,
                         "pages", (int)pages, "api_server", pl_kube_client_server(lw->client),
                         "attempt", (int)lw->attempt));
    }
    return true;
}

/* After a watch: what follows (see the table atop this file). Returns whether to relist. */
static bool after_watch(struct pl_kube_listwatch *lw, struct pass *p, enum outcome o,
                        const char **reason)
{
    double open_s = p->opened > 0 ? now_mono() - p->opened : 0;
    if (open_s * 1000.0 >= (double)lw->o.stable_watch_ms) {
        lw->attempt = 0; /* it worked: later failures start the backoff afresh */
    }
    switch (o) {
    case OUT_OK:
        if (open_s * 1000.0 >= (double)lw->o.short_watch_ms) {
            return false; /* the server's timeoutSeconds: watch again at once */
        }
        if (p->progress) {
            /* Events, then a quick end: at most one watch per short_watch_ms. */
            sleep_ms(lw, (unsigned)((double)lw->o.short_watch_ms - open_s * 1000.0));
            return false;
        }
        snprintf(p->why, sizeof(p->why),
                 "the watch ended after %lld ms without progress (%u events)",
                 (long long)ms(open_s), p->events);
        failed(lw, "watch", OUT_FAILED, p->why);
        lw->unanswered = false; /* it did answer, with nothing */
        return false;
    case OUT_GONE:
        *reason = "resourceVersion expired (410 Gone)";
        failed(lw, "watch", o, p->why);
        return true;
    case OUT_BAD_DATA:
        *reason = "undecodable watch data";
        failed(lw, "watch", o, p->why);
        return true;
    default:
        failed(lw, "watch", o, p->why);
        return false;
    }
}

static void *run(void *arg)
{
    struct pl_kube_listwatch *lw = arg;
    const char *reason = "initial list";
    bool need_list = true;
    lw_log(lw, PL_LOG_INFO, "starting",
           json_pack("{s:s, s:s, s:s}", "api_server", pl_kube_client_server(lw->client),
                     "credentials", pl_kube_client_source(lw->client), "path", lw->path));
    while (!stopping(lw)) {
        if (need_list) {
            if (!relist(lw, reason)) {
                continue;
            }
            need_list = false;
        }
        struct pass p = {.lw = lw};
        enum outcome o = watch_once(lw, &p);
        if (o == OUT_STOPPED) {
            break;
        }
        need_list = after_watch(lw, &p, o, &reason);
    }
    return NULL;
}

/* ---- API ---- */

static unsigned or_default(unsigned v, unsigned def)
{
    return v ? v : def;
}

int pl_kube_listwatch_new(struct pl_kube_client *client,
                          const struct pl_kube_listwatch_options *opts,
                          const struct pl_kube_listwatch_ops *ops, void *ud,
                          struct pl_kube_listwatch **ret)
{
    if (!client || !opts || !opts->path || opts->path[0] != '/' || !ops) {
        pl_kube_client_free(client);
        return -EINVAL;
    }
    struct pl_kube_listwatch *lw = pl_xcalloc(1, sizeof(*lw));
    lw->client = client;
    lw->ops = *ops;
    lw->ud = ud;
    lw->o = *opts;
    lw->path = pl_xstrdup(opts->path);
    lw->name = pl_xstrdup(opts->name ? opts->name : opts->path);
    lw->o.path = lw->path;
    lw->o.name = lw->name;
    lw->o.list_limit = or_default(opts->list_limit, 500);
    lw->o.backoff_base_ms = or_default(opts->backoff_base_ms, 500);
    lw->o.backoff_max_ms = or_default(opts->backoff_max_ms, 30000);
    lw->o.short_watch_ms = or_default(opts->short_watch_ms, 1000);
    lw->o.stable_watch_ms = or_default(opts->stable_watch_ms, 10000);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&lw->wake, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&lw->lock, NULL);
    pl_pool_init(&lw->items);
    atomic_init(&lw->synced, false);
    atomic_init(&lw->stop, false);
    atomic_init(&lw->requests, 0);
    pl_kube_client_set_stop(client, &lw->stop);
    *ret = lw;
    return 0;
}

int pl_kube_listwatch_start(struct pl_kube_listwatch *lw)
{
    if (!lw || lw->started) {
        return -EINVAL;
    }
    pthread_mutex_lock(&lw->lock);
    lw->started_at = now_mono();
    pthread_mutex_unlock(&lw->lock);
    /* The thread takes no signals: they belong to the main thread. */
    sigset_t all;
    sigset_t old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int r = pthread_create(&lw->thread, NULL, run, lw);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (r != 0) {
        return -r;
    }
    lw->started = true;
    return 0;
}

int pl_kube_listwatch_list_once(struct pl_kube_listwatch *lw, char *why, size_t size)
{
    if (!lw || lw->started) {
        return -EINVAL;
    }
    char text[WHY_MAX];
    unsigned pages = 0;
    text[0] = '\0';
    enum outcome o = list_all(lw, &pages, text);
    snprintf(why, size, "%s", text);
    switch (o) {
    case OUT_OK:
        return 0;
    case OUT_STOPPED:
        return -ECANCELED;
    default:
        return lw->last_http == 404 ? -ENOENT : lw->last_http == 403 ? -EACCES : -EIO;
    }
}

bool pl_kube_listwatch_synced(struct pl_kube_listwatch *lw)
{
    return lw && atomic_load(&lw->synced);
}

unsigned long long pl_kube_listwatch_errors(struct pl_kube_listwatch *lw, bool watch)
{
    return lw ? atomic_load(&lw->errors[watch ? 1 : 0]) : 0;
}

double pl_kube_listwatch_staleness_seconds(struct pl_kube_listwatch *lw)
{
    if (!lw) {
        return 0;
    }
    double now = now_mono();
    pthread_mutex_lock(&lw->lock);
    /* A watch open for short_watch_ms is current even before the thread notices. */
    bool current = lw->current || (lw->watch_opened > 0 &&
                                   (now - lw->watch_opened) * 1000.0 >= lw->o.short_watch_ms);
    double since = current ? 0 : (lw->last_good > 0 ? lw->last_good : lw->started_at);
    pthread_mutex_unlock(&lw->lock);
    if (since == 0) {
        return 0;
    }
    double s = now - since;
    return s > 0 ? s : 0;
}

uint64_t pl_kube_listwatch_requests(struct pl_kube_listwatch *lw)
{
    return lw ? (uint64_t)atomic_load(&lw->requests) : 0;
}

void pl_kube_listwatch_stop(struct pl_kube_listwatch *lw)
{
    if (!lw) {
        return;
    }
    pthread_mutex_lock(&lw->lock);
    atomic_store(&lw->stop, true);
    pthread_cond_broadcast(&lw->wake);
    pthread_mutex_unlock(&lw->lock);
}

void pl_kube_listwatch_free(struct pl_kube_listwatch *lw)
{
    if (!lw) {
        return;
    }
    if (lw->started) {
        pl_kube_listwatch_stop(lw);
        pthread_join(lw->thread, NULL);
    }
    pl_kube_client_free(lw->client);
    pthread_cond_destroy(&lw->wake);
    pthread_mutex_destroy(&lw->lock);
    pl_pool_finish(&lw->items);
    free(lw->path);
    free(lw->name);
    free(lw);
}
