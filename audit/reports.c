/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The OpenReports writer (see reports.h).
 */
#include "audit/reports.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/connect.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/json.h"
#include "kube/client.h"
#include "kube/listwatch.h"

#define GROUP_PATH     "/apis/openreports.io/v1alpha1"
#define LABEL_KEY      "app.kubernetes.io/managed-by"
#define LABEL_VALUE    "plimsoll"
#define BACKOFF_MAX_MS (5u * 60u * 1000u)
#define WRITE_TIMEOUT  30L

struct pl_reports {
    struct pl_cluster *cluster;
    struct pl_reports_options o;
    char *kubeconfig;
    struct pl_kube_client *client; /* the thread's */
    json_t *written;               /* ns -> the text last written ("" unknown: found at start) */
    bool listed;                   /* the existing Reports have been listed */
    unsigned failures;             /* consecutive failed cycles */
    atomic_bool stop;
    atomic_ulong n_written, n_deleted;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
};

static void rlog(struct pl_reports *r, enum pl_log_level level, const char *msg, json_t *fields)
{
    if (r->o.log) {
        r->o.log(level, msg, fields);
    } else {
        json_decref(fields);
    }
}

/* Sleeps ms, or less when stopped. */
static void nap(struct pl_reports *r, unsigned ms)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_sec += ms / 1000u;
    t.tv_nsec += (long)(ms % 1000u) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&r->lock);
    while (!atomic_load(&r->stop) && pthread_cond_timedwait(&r->wake, &r->lock, &t) != ETIMEDOUT) {
    }
    pthread_mutex_unlock(&r->lock);
}

/* One request; the answer body is not needed. Returns 0, or -errno with res filled. */
static int call(struct pl_reports *r, const char *method, const char *path, const char *body,
                struct pl_kube_result *res)
{
    struct pl_kube_request req = {
        .path = path,
        .method = method,
        .body = body,
        .body_len = body ? strlen(body) : 0,
        .content_type = strcmp(method, "PATCH") == 0 ? "application/merge-patch+json" : NULL,
        .timeout_s = WRITE_TIMEOUT};
    return pl_kube_client_get(r->client, &req, res);
}

/* The Report for ns: the view's document, with metadata and a timestamp per result. */
static char *report_text(const char *ns, const json_t *doc)
{
    json_t *rep = json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s}}, s:s, s:O, s:O}", "apiVersion",
                            "openreports.io/v1alpha1", "kind", "Report", "metadata", "name",
                            PL_REPORTS_NAME, "namespace", ns, "labels", LABEL_KEY, LABEL_VALUE,
                            "source", "plimsoll", "summary", json_object_get(doc, "summary"),
                            "results", json_object_get(doc, "results"));
    json_t *results = json_deep_copy(json_object_get(rep, "results"));
    size_t i;
    json_t *res;
    json_int_t now = (json_int_t)time(NULL);
    json_array_foreach(results, i, res)
    {
        json_object_set_new(res, "timestamp", json_pack("{s:I, s:i}", "seconds", now, "nanos", 0));
    }
    json_object_set_new(rep, "results", results);
    char *text = pl_json_dump(rep, JSON_COMPACT, NULL);
    json_decref(rep);
    return text;
}

/* Creates or replaces ns's Report. Returns 0 or -errno (logged). */
static int put_report(struct pl_reports *r, const char *ns, const json_t *doc)
{
    char path[600];
    char collection[512];
    snprintf(collection, sizeof(collection), GROUP_PATH "/namespaces/%s/reports", ns);
    snprintf(path, sizeof(path), "%s/" PL_REPORTS_NAME, collection);
    char *body = report_text(ns, doc);
    struct pl_kube_result res;
    /* A merge patch replaces the results and the summary without the resourceVersion
     * that an update of a custom resource needs; a missing Report is created. */
    int rc = call(r, "PATCH", path, body, &res);
    if (rc == -EPROTO && res.http == 404) {
        rc = call(r, "POST", collection, body, &res);
    }
    free(body);
    if (rc < 0 && rc != -ECANCELED) {
        rlog(r, PL_LOG_WARN, "reports: cannot write a Report",
             json_pack("{s:s, s:s}", "namespace", ns, "error", res.message));
    }
    return rc;
}

static int delete_report(struct pl_reports *r, const char *ns)
{
    char path[512];
    snprintf(path, sizeof(path), GROUP_PATH "/namespaces/%s/reports/" PL_REPORTS_NAME, ns);
    struct pl_kube_result res;
    int rc = call(r, "DELETE", path, NULL, &res);
    if (rc == -EPROTO && res.http == 404) {
        rc = 0; /* already gone */
    }
    if (rc < 0 && rc != -ECANCELED) {
        rlog(r, PL_LOG_WARN, "reports: cannot delete a Report",
             json_pack("{s:s, s:s}", "namespace", ns, "error", res.message));
    }
    return rc;
}

/* ---- the Reports already there ---- */

static int existing_item(void *ud, const json_t *object)
{
    struct pl_reports *r = ud;
    const json_t *meta = pl_json_object(object, "metadata");
    const char *ns = pl_json_string(meta, "namespace");
    const char *name = pl_json_string(meta, "name");
    const char *by = pl_json_string(pl_json_object(meta, "labels"), LABEL_KEY);
    if (ns && name && by && strcmp(name, PL_REPORTS_NAME) == 0 && strcmp(by, LABEL_VALUE) == 0) {
        json_object_set_new(r->written, ns, json_string(""));
    }
    return 0;
}

/* Lists the Reports there are, once (404: the CRD is not installed). */
static int list_existing(struct pl_reports *r)
{
    static const struct pl_kube_listwatch_ops ops = {.list_item = existing_item};
    struct pl_kube_client *client = NULL;
    struct pl_error err;
    pl_error_init(&err);
    if (pl_audit_connect(r->kubeconfig, &client, &err) < 0) {
        return -EIO;
    }
    pl_kube_client_set_stop(client, &r->stop);
    struct pl_kube_listwatch_options o = {.path = GROUP_PATH "/reports", .name = "reports list"};
    struct pl_kube_listwatch *lw = NULL;
    if (pl_kube_listwatch_new(client, &o, &ops, r, &lw) < 0) {
        return -EIO;
    }
    char why[300];
    int rc = pl_kube_listwatch_list_once(lw, why, sizeof(why));
    pl_kube_listwatch_free(lw);
    if (rc < 0 && rc != -ECANCELED) {
        rlog(r, PL_LOG_WARN,
             rc == -ENOENT ? "reports: the OpenReports CRD (reports.openreports.io) is not "
                             "installed; retrying"
                           : "reports: cannot list the Reports; retrying",
             json_pack("{s:s}", "error", why));
    }
    return rc;
}

/* ---- one cycle ---- */

/* Writes what changed and deletes what emptied. Returns the number of failures. */
static unsigned cycle(struct pl_reports *r)
{
    unsigned failed = 0;
    json_t *want = pl_cluster_reports(r->cluster, PL_REPORTS_MAX_RESULTS);
    const char *ns;
    json_t *doc;
    json_object_foreach(want, ns, doc)
    {
        char *text = pl_json_dump(doc, JSON_COMPACT | JSON_SORT_KEYS, NULL);
        const char *had = pl_json_string(r->written, ns);
        if (!had || strcmp(had, text) != 0) {
            if (put_report(r, ns, doc) == 0) {
                json_object_set_new(r->written, ns, json_string(text));
                atomic_fetch_add(&r->n_written, 1);
            } else {
                failed++;
            }
        }
        free(text);
    }
    json_t *gone;
    void *tmp;
    json_object_foreach_safe(r->written, tmp, ns, gone)
    {
        if (!json_object_get(want, ns)) {
            if (delete_report(r, ns) == 0) {
                json_object_del(r->written, ns);
                atomic_fetch_add(&r->n_deleted, 1);
            } else {
                failed++;
            }
        }
    }
    json_decref(want);
    return failed;
}

static void *run(void *arg)
{
    struct pl_reports *r = arg;
    while (!atomic_load(&r->stop)) {
        unsigned wait = r->o.interval_ms;
        if (pl_cluster_ready(r->cluster)) {
            bool ok = r->listed || (r->listed = list_existing(r) == 0);
            ok = ok && cycle(r) == 0;
            r->failures = ok ? 0 : r->failures + 1;
            for (unsigned i = 0; i < r->failures && wait < BACKOFF_MAX_MS; i++) {
                wait *= 2;
            }
            wait = wait < BACKOFF_MAX_MS ? wait : BACKOFF_MAX_MS;
        }
        nap(r, wait);
    }
    return NULL;
}

int pl_reports_start(struct pl_cluster *c, const struct pl_reports_options *opts,
                     struct pl_reports **ret)
{
    struct pl_reports *r = pl_xcalloc(1, sizeof(*r));
    r->cluster = c;
    r->o = *opts;
    r->o.interval_ms = opts->interval_ms ? opts->interval_ms : 5000;
    r->kubeconfig = opts->kubeconfig ? pl_xstrdup(opts->kubeconfig) : NULL;
    r->written = json_object();
    atomic_init(&r->stop, false);
    atomic_init(&r->n_written, 0);
    atomic_init(&r->n_deleted, 0);
    pthread_mutex_init(&r->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->wake, &ca);
    pthread_condattr_destroy(&ca);
    struct pl_error err;
    pl_error_init(&err);
    int rc = pl_audit_connect(r->kubeconfig, &r->client, &err);
    if (rc == 0) {
        pl_kube_client_set_stop(r->client, &r->stop);
        rc = -pthread_create(&r->thread, NULL, run, r);
    }
    if (rc < 0) {
        pl_kube_client_free(r->client);
        r->client = NULL;
        json_decref(r->written);
        free(r->kubeconfig);
        pthread_cond_destroy(&r->wake);
        pthread_mutex_destroy(&r->lock);
        free(r);
        return rc;
    }
    *ret = r;
    return 0;
}

void pl_reports_counts(struct pl_reports *r, unsigned long *ret_written, unsigned long *ret_deleted)
{
    *ret_written = atomic_load(&r->n_written);
    *ret_deleted = atomic_load(&r->n_deleted);
}

void pl_reports_free(struct pl_reports *r)
{
    if (!r) {
        return;
    }
    pthread_mutex_lock(&r->lock);
    atomic_store(&r->stop, true);
    pthread_cond_broadcast(&r->wake);
    pthread_mutex_unlock(&r->lock);
    pthread_join(r->thread, NULL);
    pl_kube_client_free(r->client);
    json_decref(r->written);
    free(r->kubeconfig);
    pthread_cond_destroy(&r->wake);
    pthread_mutex_destroy(&r->lock);
    free(r);
}
