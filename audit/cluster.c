/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The live cluster view, writing side (see cluster.h): list+watch threads,
 * one per kind, feed a hash table of workload verdicts under one mutex.
 *
 * An object is judged when what the policies read changes: its compact text
 * (metadata without resourceVersion, managedFields and the last-applied
 * copy; spec; never status) is compared with the kept one, so the status
 * updates that controllers write all day cost a string comparison, not a
 * judgement. A namespace whose plimsoll.dev/ annotations change has its
 * workloads re-judged from their kept text; a configuration reload re-judges
 * everything. A relist drops the workloads of that kind it no longer saw.
 * The neighbouring objects (budgets, autoscalers, NetworkPolicies) are
 * watched first, beside the workloads (audit/neighbourwatch.c); a change
 * among them re-judges the workloads of its namespace.
 */
#include "audit/cluster.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/cluster_private.h"
#include "audit/connect.h"
#include "core/alloc.h"
#include "core/jalloc.h"
#include "core/json.h"
#include "core/keys.h"
#include "core/log.h"
#include "core/object.h"
#include "engine/evaluate.h"
#include "policies/registry.h"

#define N_BUCKETS     4096u
#define START_POLL_MS 50
/* How long the workloads wait for the neighbours' first lists, so that their first
 * verdicts already see the budgets; a kind not listed by then (a 403) is waited for no more. */
#define NEIGHBOUR_WAIT_MS 5000
/* How often neighbour changes are turned into a new set and re-judged verdicts. */
#define FLUSH_MS 200

/* Hands a log line to the view's logger (fields: a new reference, taken). */
static void cluster_log(struct pl_cluster *c, enum pl_log_level level, const char *msg,
                        json_t *fields)
{
    if (c->opts.log) {
        c->opts.log(level, msg, fields);
    } else {
        json_decref(fields);
    }
}

void pl__cluster_warn(struct pl_cluster *c, const char *msg, const char *key, const char *error)
{
    /* On the heap whatever pool is current: a logger may keep what it is given. */
    struct pl_pool *outer = pl_jalloc_use(NULL);
    cluster_log(c, PL_LOG_WARN, msg, json_pack("{s:s, s:s}", "workload", key, "error", error));
    pl_jalloc_use(outer);
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the table ---- */

static size_t hash(const char *s)
{
    size_t h = 1469598103934665603ull;
    for (; *s; s++) {
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    }
    return h;
}

static struct pl__workload **slot(struct pl_cluster *c, const char *key)
{
    struct pl__workload **p = &c->buckets[hash(key) % c->n_buckets];
    while (*p && strcmp((*p)->key, key) != 0) {
        p = &(*p)->next;
    }
    return p;
}

static void workload_free(struct pl__workload *w)
{
    free(w->key);
    free(w->ns);
    free(w->name);
    free(w->object);
    free(w->exempt_reason);
    free(w->verdict);
    free(w);
}

/* Removes and frees the entry at *p. */
static void unlink_at(struct pl_cluster *c, struct pl__workload **p)
{
    struct pl__workload *w = *p;
    *p = w->next;
    workload_free(w);
    c->n_workloads--;
}

struct pl__workload **pl__cluster_all(struct pl_cluster *c, size_t *ret_n)
{
    struct pl__workload **all = pl_xcalloc(c->n_workloads ? c->n_workloads : 1, sizeof(*all));
    size_t n = 0;
    for (size_t b = 0; b < c->n_buckets; b++) {
        for (struct pl__workload *w = c->buckets[b]; w; w = w->next) {
            all[n++] = w;
        }
    }
    *ret_n = n;
    return all;
}

/* ---- judging ---- */

void pl__cluster_rejudge(struct pl_cluster *c, const char *ns)
{
    for (size_t b = 0; b < c->n_buckets; b++) {
        for (struct pl__workload *w = c->buckets[b]; w; w = w->next) {
            if (!ns || strcmp(w->ns, ns) == 0) {
                pl__workload_judge(c, w, NULL);
            }
        }
    }
}

/* ---- workloads ---- */

static int make_key(const struct pl_audit_kind *k, const json_t *object, char *out, size_t size)
{
    const json_t *meta = pl_json_object(object, "metadata");
    const char *ns = pl_json_string(meta, "namespace");
    const char *name = pl_json_string(meta, "name");
    if (!name || !*name) {
        return -EINVAL;
    }
    int n = snprintf(out, size, "%s/%s/%s", ns ? ns : "", k->kind, name);
    return n < 0 || (size_t)n >= size ? -E2BIG : 0;
}

/* An object as listed or watched: kept, judged when what policies read changed. */
static int upsert(struct pl__kindwatch *kw, const json_t *object)
{
    struct pl_cluster *c = kw->c;
    char key[1024];
    if (make_key(kw->kind, object, key, sizeof(key)) < 0) {
        return 0; /* nothing to key it by; the API server never sends that */
    }
    struct pl__workload **p = slot(c, key);
    if (pl_audit_owned(object)) {
        if (*p) {
            unlink_at(c, p); /* it was adopted: judged through its owner now */
        }
        return 0;
    }
    /* What the policies read, as compact text: the API server writes an object's
     * fields in a fixed order, so equal objects give equal text without sorting. */
    json_t *compact = pl__workload_compact(kw->kind, kw->api_version, object);
    struct pl_buf *text = &c->scratch;
    pl_buf_reset(text);
    if (pl_json_dump_append(compact, JSON_COMPACT, text) < 0) {
        /* Past PL_CLUSTER_TEXT_MAX (etcd stops at 1.5 MiB): this one object is left out,
         * not the rest of its list. */
        json_decref(compact);
        char why[64];
        snprintf(why, sizeof(why), "larger than %u MiB", PL_CLUSTER_TEXT_MAX >> 20);
        pl__cluster_warn(c, "dashboard: an object too large to keep", key, why);
        return 0;
    }
    struct pl__workload *w = *p;
    if (w && strcmp(w->object, text->data) == 0) {
        json_decref(compact);
        w->gen = kw->gen;
        return 0;
    }
    if (!w) {
        const json_t *meta = pl_json_object(object, "metadata");
        const char *ns = pl_json_string(meta, "namespace");
        w = pl_xcalloc(1, sizeof(*w));
        w->key = pl_xstrdup(key);
        w->kind = kw->kind;
        w->api_version = kw->api_version;
        w->ns = pl_xstrdup(ns ? ns : "");
        w->name = pl_xstrdup(pl_json_string(meta, "name"));
        *p = w;
        c->n_workloads++;
    }
    free(w->object);
    w->object = pl_xmemdup(text->data, text->len + 1); /* with its NUL */
    w->gen = kw->gen;
    pl__workload_judge(c, w, compact);
    json_decref(compact);
    return 0;
}

static void remove_object(struct pl__kindwatch *kw, const json_t *object)
{
    char key[1024];
    if (make_key(kw->kind, object, key, sizeof(key)) == 0) {
        struct pl__workload **p = slot(kw->c, key);
        if (*p) {
            unlink_at(kw->c, p);
        }
    }
}

static void kind_begin(void *ud)
{
    struct pl__kindwatch *kw = ud;
    pthread_mutex_lock(&kw->c->lock);
    kw->gen++;
    pthread_mutex_unlock(&kw->c->lock);
}

static int kind_item(void *ud, const json_t *object)
{
    struct pl__kindwatch *kw = ud;
    pthread_mutex_lock(&kw->c->lock);
    int r = upsert(kw, object);
    pthread_mutex_unlock(&kw->c->lock);
    return r;
}

/* Whether every kind has been listed (under lock). */
static bool all_listed(struct pl_cluster *c)
{
    if (c->n_kinds < pl_audit_kind_count(pl_audit_kinds)) {
        return false;
    }
    for (size_t i = 0; i < c->n_kinds; i++) {
        if (!c->kinds[i].listed) {
            return false;
        }
    }
    return true;
}

static void kind_end(void *ud, bool ok)
{
    struct pl__kindwatch *kw = ud;
    struct pl_cluster *c = kw->c;
    if (!ok) {
        return;
    }
    pthread_mutex_lock(&c->lock);
    /* What this list did not see is gone (deleted while the watch was down). */
    for (size_t b = 0; b < c->n_buckets; b++) {
        struct pl__workload **p = &c->buckets[b];
        while (*p) {
            if ((*p)->kind == kw->kind && (*p)->gen != kw->gen) {
                unlink_at(c, p);
            } else {
                p = &(*p)->next;
            }
        }
    }
    kw->listed = true;
    if (all_listed(c)) {
        c->last_full_sync = wall_now();
        atomic_store(&c->ready, true);
    }
    pthread_mutex_unlock(&c->lock);
}

static int kind_event(void *ud, enum pl_kube_event type, const json_t *object)
{
    struct pl__kindwatch *kw = ud;
    int r = 0;
    pthread_mutex_lock(&kw->c->lock);
    if (type == PL_KUBE_DELETED) {
        remove_object(kw, object);
    } else {
        r = upsert(kw, object);
    }
    pthread_mutex_unlock(&kw->c->lock);
    return r;
}

/* ---- namespaces ---- */

/* Sets ns's annotations; re-judges its workloads when they changed. Under lock. */
static void set_namespace(struct pl_cluster *c, const char *ns, json_t *annotations)
{
    const json_t *old = json_object_get(c->namespaces, ns);
    bool changed = !old || !json_equal((json_t *)old, annotations);
    json_object_set_new(c->namespaces, ns, annotations);
    if (changed) {
        pl__cluster_rejudge(c, ns);
    }
}

static void ns_begin(void *ud)
{
    struct pl_cluster *c = ud;
    json_decref(c->ns_listing);
    c->ns_listing = json_object();
}

static int ns_item(void *ud, const json_t *object)
{
    struct pl_cluster *c = ud;
    const char *name = pl_json_string(pl_json_object(object, "metadata"), "name");
    if (name && *name) {
        json_object_set_new(c->ns_listing, name, pl_audit_namespace_annotations(object));
    }
    return 0;
}

static void ns_end(void *ud, bool ok)
{
    struct pl_cluster *c = ud;
    if (ok) {
        pthread_mutex_lock(&c->lock);
        const char *name;
        json_t *ann;
        void *tmp;
        json_object_foreach_safe(c->namespaces, tmp, name, ann)
        {
            if (!json_object_get(c->ns_listing, name)) {
                json_object_del(c->namespaces, name);
            }
        }
        json_object_foreach(c->ns_listing, name, ann)
        {
            set_namespace(c, name, json_incref(ann));
        }
        pthread_mutex_unlock(&c->lock);
    }
    json_decref(c->ns_listing);
    c->ns_listing = NULL;
}

static int ns_event(void *ud, enum pl_kube_event type, const json_t *object)
{
    struct pl_cluster *c = ud;
    const char *name = pl_json_string(pl_json_object(object, "metadata"), "name");
    if (!name || !*name) {
        return -EINVAL;
    }
    pthread_mutex_lock(&c->lock);
    if (type == PL_KUBE_DELETED) {
        json_object_del(c->namespaces, name);
    } else {
        set_namespace(c, name, pl_audit_namespace_annotations(object));
    }
    pthread_mutex_unlock(&c->lock);
    return 0;
}

/* ---- threads ---- */

static void lw_log(void *ud, enum pl_log_level level, const char *msg, json_t *fields)
{
    struct pl__kindwatch *kw = ud;
    cluster_log(kw->c, level, msg, fields);
}

static void ns_log(void *ud, enum pl_log_level level, const char *msg, json_t *fields)
{
    cluster_log(ud, level, msg, fields);
}

static int new_listwatch(struct pl_cluster *c, const char *path, const char *name,
                         const struct pl_kube_listwatch_ops *ops, void *ud, bool pooled_items,
                         struct pl_kube_listwatch **ret)
{
    struct pl_kube_client *client = NULL;
    struct pl_error err;
    pl_error_init(&err);
    int r = pl_audit_connect(c->kubeconfig, &client, &err);
    if (r < 0) {
        cluster_log(c, PL_LOG_ERROR, "dashboard: credentials",
                    json_pack("{s:s}", "error", err.message));
        return r;
    }
    struct pl_kube_listwatch_options o = {.path = path, .name = name, .pooled_items = pooled_items};
    return pl_kube_listwatch_new(client, &o, ops, ud, ret);
}

static int discard_item(void *ud, const json_t *object)
{
    (void)ud;
    (void)object;
    return 0;
}

/* The version of k the API server serves: its own, else (404) the fallback. */
static const char *served_version(struct pl_cluster *c, const struct pl_audit_kind *k)
{
    if (!k->fallback) {
        return k->api_version;
    }
    static const struct pl_kube_listwatch_ops probe = {.list_item = discard_item};
    char path[256];
    struct pl_kube_listwatch *lw = NULL;
    if (pl_audit_collection_path(k, k->api_version, NULL, path, sizeof(path)) < 0 ||
        new_listwatch(c, path, path, &probe, NULL, false, &lw) < 0) {
        return k->api_version;
    }
    /* Published so that pl_cluster_free() can cut it short. */
    pthread_mutex_lock(&c->lock);
    bool go = !atomic_load(&c->stop);
    c->probe = go ? lw : NULL;
    pthread_mutex_unlock(&c->lock);
    char why[256];
    int r = go ? pl_kube_listwatch_list_once(lw, why, sizeof(why)) : -ECANCELED;
    pthread_mutex_lock(&c->lock);
    c->probe = NULL;
    pthread_mutex_unlock(&c->lock);
    pl_kube_listwatch_free(lw);
    return r == -ENOENT ? k->fallback : k->api_version;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000u, .tv_nsec = (long)(ms % 1000u) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Starts one kind's list+watch. Returns 0 or -errno. */
static int start_kind(struct pl_cluster *c, const struct pl_audit_kind *k)
{
    static const struct pl_kube_listwatch_ops ops = {.list_begin = kind_begin,
                                                     .list_item = kind_item,
                                                     .list_end = kind_end,
                                                     .event = kind_event,
                                                     .log = lw_log};
    const char *version = served_version(c, k);
    pthread_mutex_lock(&c->lock);
    struct pl__kindwatch *kw = &c->kinds[c->n_kinds];
    pthread_mutex_unlock(&c->lock);
    kw->c = c;
    kw->kind = k;
    kw->api_version = version;
    snprintf(kw->name, sizeof(kw->name), "%s watch", k->plural);
    char path[256];
    if (pl_audit_collection_path(k, version, NULL, path, sizeof(path)) < 0) {
        return -EINVAL;
    }
    int r = new_listwatch(c, path, kw->name, &ops, kw, true, &kw->lw);
    if (r == 0) {
        r = pl_kube_listwatch_start(kw->lw);
    }
    pthread_mutex_lock(&c->lock);
    c->n_kinds++;
    pthread_mutex_unlock(&c->lock);
    return r;
}

/* Starts one neighbour kind's list+watch. Returns 0 or -errno. */
static int start_neighbour(struct pl_cluster *c, const struct pl_audit_kind *k)
{
    const char *version = served_version(c, k);
    struct pl__neighbourwatch *nw = &c->nwatch[c->n_nwatch];
    nw->c = c;
    nw->kind = k;
    nw->api_version = version;
    nw->objects = json_object();
    snprintf(nw->name, sizeof(nw->name), "%s watch", k->plural);
    char path[256];
    int r = pl_audit_collection_path(k, version, NULL, path, sizeof(path)) < 0 ? -EINVAL : 0;
    if (r == 0) {
        r = new_listwatch(c, path, nw->name, &pl__neighbour_ops, nw, false, &nw->lw);
    }
    if (r == 0) {
        r = pl_kube_listwatch_start(nw->lw);
    }
    pthread_mutex_lock(&c->lock);
    c->n_nwatch++;
    pthread_mutex_unlock(&c->lock);
    return r;
}

/* Whether every started neighbour kind has listed (or failed a list: a 403 is not waited for). */
static bool neighbours_settled(struct pl_cluster *c)
{
    for (size_t i = 0; i < c->n_nwatch; i++) {
        struct pl_kube_listwatch *lw = c->nwatch[i].lw;
        if (lw && !pl_kube_listwatch_synced(lw) && pl_kube_listwatch_errors(lw, false) == 0) {
            return false;
        }
    }
    return true;
}

static void flush(struct pl_cluster *c)
{
    pthread_mutex_lock(&c->lock);
    pl__neighbours_flush(c);
    pthread_mutex_unlock(&c->lock);
}

/*
 * Waits for the namespaces, starts the neighbour kinds and (once they listed, or
 * NEIGHBOUR_WAIT_MS) every workload kind; then turns neighbour changes into verdicts
 * until stopped.
 */
static void *starter(void *arg)
{
    struct pl_cluster *c = arg;
    while (!atomic_load(&c->stop) && !pl_kube_listwatch_synced(c->ns_lw)) {
        sleep_ms(START_POLL_MS);
    }
    for (size_t i = 0; pl_audit_neighbour_kinds[i].kind && !atomic_load(&c->stop) &&
                       i < PL_CLUSTER_NEIGHBOUR_KINDS_MAX;
         i++) {
        if (start_neighbour(c, &pl_audit_neighbour_kinds[i]) < 0) {
            cluster_log(c, PL_LOG_ERROR, "dashboard: cannot watch a kind",
                        json_pack("{s:s}", "kind", pl_audit_neighbour_kinds[i].kind));
        }
    }
    for (unsigned waited = 0;
         !atomic_load(&c->stop) && !neighbours_settled(c) && waited < NEIGHBOUR_WAIT_MS;
         waited += START_POLL_MS) {
        sleep_ms(START_POLL_MS);
    }
    flush(c);
    for (size_t i = 0; pl_audit_kinds[i].kind && !atomic_load(&c->stop); i++) {
        if (start_kind(c, &pl_audit_kinds[i]) < 0) {
            cluster_log(c, PL_LOG_ERROR, "dashboard: cannot watch a kind",
                        json_pack("{s:s}", "kind", pl_audit_kinds[i].kind));
        }
    }
    while (!atomic_load(&c->stop)) {
        sleep_ms(FLUSH_MS);
        flush(c);
    }
    return NULL;
}

/* ---- API ---- */

int pl_cluster_new(const struct pl_cluster_options *opts, struct pl_config *cfg,
                   struct pl_cluster **ret, struct pl_error *err)
{
    struct pl_kube_client *probe = NULL;
    int r = pl_audit_connect(opts->kubeconfig, &probe, err);
    pl_kube_client_free(probe);
    if (r < 0) {
        return r;
    }
    struct pl_cluster *c = pl_xcalloc(1, sizeof(*c));
    c->opts = *opts;
    c->kubeconfig = opts->kubeconfig ? pl_xstrdup(opts->kubeconfig) : NULL;
    c->opts.kubeconfig = c->kubeconfig;
    pthread_mutex_init(&c->lock, NULL);
    c->cfg = pl_config_ref(cfg);
    c->namespaces = json_object();
    c->dirty = json_object();
    pl_neighbours_init(&c->set);
    c->n_buckets = N_BUCKETS;
    c->buckets = pl_xcalloc(c->n_buckets, sizeof(*c->buckets));
    atomic_init(&c->stop, false);
    atomic_init(&c->ready, false);
    pl_pool_init(&c->pool);
    pl_buf_init(&c->scratch, PL_CLUSTER_TEXT_MAX);
    *ret = c;
    return 0;
}

int pl_cluster_start(struct pl_cluster *c)
{
    static const struct pl_kube_listwatch_ops ops = {.list_begin = ns_begin,
                                                     .list_item = ns_item,
                                                     .list_end = ns_end,
                                                     .event = ns_event,
                                                     .log = ns_log};
    int r = new_listwatch(c, "/api/v1/namespaces", "namespaces watch", &ops, c, false, &c->ns_lw);
    if (r == 0) {
        r = pl_kube_listwatch_start(c->ns_lw);
    }
    if (r == 0) {
        r = -pthread_create(&c->starter, NULL, starter, c);
        c->starter_started = r == 0;
    }
    return r;
}

void pl_cluster_set_config(struct pl_cluster *c, struct pl_config *cfg)
{
    pthread_mutex_lock(&c->lock);
    pl_config_unref(c->cfg);
    c->cfg = pl_config_ref(cfg);
    pl__cluster_rejudge(c, NULL);
    pthread_mutex_unlock(&c->lock);
}

bool pl_cluster_ready(struct pl_cluster *c)
{
    return atomic_load(&c->ready);
}

bool pl_cluster_has_namespace(struct pl_cluster *c, const char *ns)
{
    pthread_mutex_lock(&c->lock);
    bool has = json_object_get(c->namespaces, ns) != NULL;
    pthread_mutex_unlock(&c->lock);
    return has;
}

void pl_cluster_free(struct pl_cluster *c)
{
    if (!c) {
        return;
    }
    pthread_mutex_lock(&c->lock);
    atomic_store(&c->stop, true);
    pl_kube_listwatch_stop(c->probe);
    pthread_mutex_unlock(&c->lock);
    if (c->starter_started) {
        pthread_join(c->starter, NULL);
    }
    pl_kube_listwatch_stop(c->ns_lw);
    for (size_t i = 0; i < c->n_kinds; i++) {
        pl_kube_listwatch_stop(c->kinds[i].lw);
    }
    for (size_t i = 0; i < c->n_nwatch; i++) {
        pl_kube_listwatch_stop(c->nwatch[i].lw);
    }
    pl_kube_listwatch_free(c->ns_lw);
    for (size_t i = 0; i < c->n_kinds; i++) {
        pl_kube_listwatch_free(c->kinds[i].lw);
    }
    for (size_t i = 0; i < c->n_nwatch; i++) {
        pl_kube_listwatch_free(c->nwatch[i].lw);
    }
    pl__neighbours_free(c);
    for (size_t b = 0; b < c->n_buckets; b++) {
        while (c->buckets[b]) {
            unlink_at(c, &c->buckets[b]);
        }
    }
    free(c->buckets);
    json_decref(c->namespaces);
    json_decref(c->ns_listing);
    pl_config_unref(c->cfg);
    pl_pool_finish(&c->pool);
    pl_buf_finish(&c->scratch);
    pthread_mutex_destroy(&c->lock);
    free(c->kubeconfig);
    free(c);
}
