/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The live cluster view, reading side (see cluster.h): scores, counts per
 * namespace and per policy, effective modes, the workloads with their
 * findings, and the Prometheus metrics, all built under the view's lock from
 * the kept verdicts (no judging here).
 *
 * Definitions (docs/design/dashboard.md):
 *   - a workload is "passing" when admitted without findings, "warned" when
 *     admitted with findings, "rejected" when admission would refuse it now;
 *   - per policy, a workload is "failing" when the policy would reject it,
 *     "warned" when it only warns, else "passing" (exempted included);
 *   - the score (0-100) is the share of judged workloads that admission would
 *     admit were their namespace switched to enforce (plimsoll.dev/mode).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/cluster.h"
#include "audit/cluster_private.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/json.h"
#include "engine/evaluate.h"
#include "engine/verdict.h"
#include "policies/registry.h"

/* Counts of one namespace (or of the cluster). */
struct tally {
    size_t workloads, passing, warned, rejected, if_enforced;
    size_t pol_pass[64], pol_warn[64], pol_fail[64];
};

static size_t n_policies(void)
{
    size_t n = pl_policy_count();
    return n < 64 ? n : 64;
}

static int score(const struct tally *t)
{
    if (t->workloads == 0) {
        return 100;
    }
    return (int)floor(100.0 * (double)(t->workloads - t->if_enforced) / (double)t->workloads);
}

/* The mode of policy i in namespace ns (excluded namespaces: off). Under lock. */
static enum pl_mode mode_in(struct pl_cluster *c, const char *ns, size_t i)
{
    if (pl_config_excludes(c->cfg, ns)) {
        return PL_MODE_OFF;
    }
    return pl_policy_mode(c->cfg, json_object_get(c->namespaces, ns), i);
}

static void count(struct pl_cluster *c, const struct pl__workload *w, struct tally *t)
{
    if (w->skipped) {
        return;
    }
    t->workloads++;
    size_t findings = w->n_violations;
    t->rejected += w->rejected;
    t->warned += !w->rejected && findings > 0;
    t->passing += !w->rejected && findings == 0;
    t->if_enforced += w->rejected_if_enforced;
    for (size_t i = 0; i < n_policies(); i++) {
        if (mode_in(c, w->ns, i) == PL_MODE_OFF) {
            continue;
        }
        uint64_t b = (uint64_t)1 << i;
        if (w->fail_mask & b) {
            t->pol_fail[i]++;
        } else if (w->warn_mask & b) {
            t->pol_warn[i]++;
        } else {
            t->pol_pass[i]++;
        }
    }
}

/* Whether w has a finding (counted or exempted) of policy (NULL: any workload). */
static bool has_policy(const struct pl__workload *w, const char *policy)
{
    if (!policy) {
        return true;
    }
    int i = pl_policy_index(policy);
    if (i < 0 || i >= 64) {
        return false;
    }
    return ((w->fail_mask | w->warn_mask | w->exempt_mask) >> i) & 1u;
}

static json_t *tally_json(const struct tally *t)
{
    return json_pack("{s:i, s:I, s:I, s:I, s:I, s:I}", "score", score(t), "workloads",
                     (json_int_t)t->workloads, "passing", (json_int_t)t->passing, "warned",
                     (json_int_t)t->warned, "rejected", (json_int_t)t->rejected,
                     "would_reject_if_enforced", (json_int_t)t->if_enforced);
}

static json_t *policies_json(struct pl_cluster *c, const struct tally *t, const char *only)
{
    json_t *out = json_array();
    for (size_t i = 0; i < n_policies(); i++) {
        if (only && strcmp(only, pl_policies[i]->id) != 0) {
            continue;
        }
        char runbook[512];
        snprintf(runbook, sizeof(runbook), "%s%s", c->cfg->runbook_base_url, pl_policies[i]->id);
        json_array_append_new(
            out, json_pack("{s:s, s:s, s:I, s:I, s:I}", "policy", pl_policies[i]->id, "runbook",
                           runbook, "passing", (json_int_t)t->pol_pass[i], "warned",
                           (json_int_t)t->pol_warn[i], "failing", (json_int_t)t->pol_fail[i]));
    }
    return out;
}

static json_t *modes_json(struct pl_cluster *c, const char *ns)
{
    json_t *out = json_object();
    for (size_t i = 0; i < n_policies(); i++) {
        json_object_set_new(out, pl_policies[i]->id, json_string(pl_mode_name(mode_in(c, ns, i))));
    }
    return out;
}

/* Per-namespace tallies, indexed like the sorted names. Under lock. */
static struct tally *tally_namespaces(struct pl_cluster *c, json_t *index, struct tally *total,
                                      const char *policy)
{
    struct tally *per = pl_xcalloc(json_object_size(index) + 1, sizeof(*per));
    size_t n;
    struct pl__workload **all = pl__cluster_all(c, &n);
    for (size_t i = 0; i < n; i++) {
        const json_t *slot = json_object_get(index, all[i]->ns);
        if (!slot || !has_policy(all[i], policy)) {
            continue;
        }
        count(c, all[i], &per[json_integer_value(slot)]);
        count(c, all[i], total);
    }
    free(all);
    return per;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The namespace names (filtered), sorted, and name -> position. Under lock. */
static const char **sorted_namespaces(struct pl_cluster *c, const char *only, size_t *ret_n,
                                      json_t **ret_index)
{
    size_t n = 0;
    const char **names = pl_xcalloc(json_object_size(c->namespaces) + 1, sizeof(*names));
    const char *name;
    json_t *ann;
    json_object_foreach(c->namespaces, name, ann)
    {
        if (!only || strcmp(only, name) == 0) {
            names[n++] = name;
        }
    }
    qsort(names, n, sizeof(*names), compare_names);
    json_t *index = json_object();
    for (size_t i = 0; i < n; i++) {
        json_object_set_new(index, names[i], json_integer((json_int_t)i));
    }
    *ret_n = n;
    *ret_index = index;
    return names;
}

json_t *pl_cluster_summary(struct pl_cluster *c, const char *ns_filter, const char *policy_filter)
{
    pthread_mutex_lock(&c->lock);
    size_t n;
    json_t *index;
    const char **names = sorted_namespaces(c, ns_filter, &n, &index);
    struct tally total = {0};
    struct tally *per = tally_namespaces(c, index, &total, policy_filter);
    json_t *namespaces = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *row = tally_json(&per[i]);
        json_object_set_new(row, "name", json_string(names[i]));
        json_object_set_new(row, "excluded", json_boolean(pl_config_excludes(c->cfg, names[i])));
        json_object_set(row, "annotations", json_object_get(c->namespaces, names[i]));
        json_object_set_new(row, "modes", modes_json(c, names[i]));
        json_array_append_new(namespaces, row);
    }
    json_t *out = json_pack("{s:b, s:f, s:I, s:s, s:o, s:o, s:o}", "ready", pl_cluster_ready(c),
                            "last_full_sync", c->last_full_sync, "judged", (json_int_t)c->judged,
                            "config", c->cfg->source, "cluster", tally_json(&total), "namespaces",
                            namespaces, "policies", policies_json(c, &total, policy_filter));
    pthread_mutex_unlock(&c->lock);
    free(per);
    free(names);
    json_decref(index);
    return out;
}

static int kind_rank(const struct pl_audit_kind *k)
{
    return (int)(k - pl_audit_kinds);
}

static int compare_workloads(const void *pa, const void *pb)
{
    const struct pl__workload *a = *(struct pl__workload *const *)pa;
    const struct pl__workload *b = *(struct pl__workload *const *)pb;
    int r = strcmp(a->ns, b->ns);
    if (r == 0) {
        r = kind_rank(a->kind) - kind_rank(b->kind);
    }
    return r != 0 ? r : strcmp(a->name, b->name);
}

/* The policies a running workload breaks in enforce mode: updates are grandfathered. */
static json_t *grandfathered(const struct pl_cluster *c, const struct pl__workload *w)
{
    json_t *out = json_array();
    if (!c->cfg->grandfather_updates) {
        return out;
    }
    for (size_t i = 0; i < n_policies(); i++) {
        if ((w->fail_mask >> i) & 1u) {
            json_array_append_new(out, json_string(pl_policies[i]->id));
        }
    }
    return out;
}

static json_t *workload_json(const struct pl_cluster *c, const struct pl__workload *w)
{
    json_t *out = json_pack("{s:s, s:s, s:s, s:b}", "kind", w->kind->kind, "namespace", w->ns,
                            "name", w->name, "would_reject_if_enforced", w->rejected_if_enforced);
    json_t *verdict = w->verdict ? json_loads(w->verdict, 0, NULL) : NULL;
    if (verdict) {
        json_object_update(out, verdict);
    }
    json_decref(verdict);
    json_object_set_new(out, "grandfathered", grandfathered(c, w));
    if (w->exempt_reason) {
        json_object_set_new(out, "exempt_reason", json_string(w->exempt_reason));
    }
    return out;
}

json_t *pl_cluster_workloads(struct pl_cluster *c, const char *ns_filter, const char *policy_filter,
                             size_t limit)
{
    pthread_mutex_lock(&c->lock);
    size_t n;
    struct pl__workload **all = pl__cluster_all(c, &n);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if ((!ns_filter || strcmp(all[i]->ns, ns_filter) == 0) &&
            has_policy(all[i], policy_filter)) {
            all[kept++] = all[i];
        }
    }
    qsort(all, kept, sizeof(*all), compare_workloads);
    json_t *list = json_array();
    for (size_t i = 0; i < kept && (limit == 0 || i < limit); i++) {
        json_array_append_new(list, workload_json(c, all[i]));
    }
    pthread_mutex_unlock(&c->lock);
    free(all);
    return json_pack("{s:I, s:o}", "total", (json_int_t)kept, "workloads", list);
}

/* ---- metrics ---- */

/* A Prometheus label value: backslash, quote and newline escaped. */
static int label(struct pl_buf *b, const char *v)
{
    int r = 0;
    for (; *v && r == 0; v++) {
        r = *v == '\\'   ? pl_buf_puts(b, "\\\\")
            : *v == '"'  ? pl_buf_puts(b, "\\\"")
            : *v == '\n' ? pl_buf_puts(b, "\\n")
                         : pl_buf_append(b, v, 1);
    }
    return r;
}

static int ns_metrics(struct pl_cluster *c, struct pl_buf *b, const char *ns, const struct tally *t)
{
    static const char *const states[] = {"passing", "warned", "failing"};
    int r = 0;
    for (size_t i = 0; i < n_policies() && r == 0; i++) {
        if (mode_in(c, ns, i) == PL_MODE_OFF) {
            continue;
        }
        const size_t v[] = {t->pol_pass[i], t->pol_warn[i], t->pol_fail[i]};
        for (size_t s = 0; s < 3 && r == 0; s++) {
            r |= pl_buf_puts(b, "plimsoll_dashboard_workloads{namespace=\"");
            r |= label(b, ns);
            r |= pl_buf_printf(b, "\",policy=\"%s\",state=\"%s\"} %zu\n", pl_policies[i]->id,
                               states[s], v[s]);
        }
    }
    return r;
}

/* Failed lists and watches of lw (a 410 Gone that only asks for a relist is no error). */
static unsigned long long lw_errors(struct pl_kube_listwatch *lw)
{
    return pl_kube_listwatch_errors(lw, false) + pl_kube_listwatch_errors(lw, true);
}

static int watch_metrics(struct pl_cluster *c, struct pl_buf *b)
{
    int r = pl_buf_puts(b, "# HELP plimsoll_dashboard_watch_errors_total Failed lists and "
                           "watches, by resource (410 Gone excluded).\n"
                           "# TYPE plimsoll_dashboard_watch_errors_total counter\n");
    r |= pl_buf_printf(b, "plimsoll_dashboard_watch_errors_total{resource=\"namespaces\"} %llu\n",
                       lw_errors(c->ns_lw));
    for (size_t i = 0; i < c->n_kinds; i++) {
        r |= pl_buf_printf(b, "plimsoll_dashboard_watch_errors_total{resource=\"%s\"} %llu\n",
                           c->kinds[i].kind->plural, lw_errors(c->kinds[i].lw));
    }
    for (size_t i = 0; i < c->n_nwatch; i++) { /* a 403 on budgets shows here */
        r |= pl_buf_printf(b, "plimsoll_dashboard_watch_errors_total{resource=\"%s\"} %llu\n",
                           c->nwatch[i].kind->plural, lw_errors(c->nwatch[i].lw));
    }
    r |= pl_buf_puts(b, "# HELP plimsoll_dashboard_watch_staleness_seconds Seconds the view of "
                        "a resource may be behind (0 while its watch is up).\n"
                        "# TYPE plimsoll_dashboard_watch_staleness_seconds gauge\n");
    r |= pl_buf_printf(b,
                       "plimsoll_dashboard_watch_staleness_seconds{resource=\"namespaces\"} %.3f\n",
                       pl_kube_listwatch_staleness_seconds(c->ns_lw));
    for (size_t i = 0; i < c->n_kinds; i++) {
        r |= pl_buf_printf(b, "plimsoll_dashboard_watch_staleness_seconds{resource=\"%s\"} %.3f\n",
                           c->kinds[i].kind->plural,
                           pl_kube_listwatch_staleness_seconds(c->kinds[i].lw));
    }
    for (size_t i = 0; i < c->n_nwatch; i++) {
        r |= pl_buf_printf(b, "plimsoll_dashboard_watch_staleness_seconds{resource=\"%s\"} %.3f\n",
                           c->nwatch[i].kind->plural,
                           pl_kube_listwatch_staleness_seconds(c->nwatch[i].lw));
    }
    return r;
}

int pl_cluster_metrics(struct pl_cluster *c, struct pl_buf *b)
{
    pthread_mutex_lock(&c->lock);
    size_t n;
    json_t *index;
    const char **names = sorted_namespaces(c, NULL, &n, &index);
    struct tally total = {0};
    struct tally *per = tally_namespaces(c, index, &total, NULL);
    int r = pl_buf_puts(b, "# HELP plimsoll_dashboard_workloads Workloads per namespace and "
                           "policy: passing, warned (the policy only warns) or failing (it "
                           "would reject).\n# TYPE plimsoll_dashboard_workloads gauge\n");
    for (size_t i = 0; i < n && r == 0; i++) {
        r |= ns_metrics(c, b, names[i], &per[i]);
    }
    r |= pl_buf_puts(b, "# HELP plimsoll_dashboard_rejected_if_enforced Workloads of a "
                        "namespace that would be rejected were it switched to enforce.\n"
                        "# TYPE plimsoll_dashboard_rejected_if_enforced gauge\n");
    for (size_t i = 0; i < n && r == 0; i++) {
        r |= pl_buf_puts(b, "plimsoll_dashboard_rejected_if_enforced{namespace=\"");
        r |= label(b, names[i]);
        r |= pl_buf_printf(b, "\"} %zu\n", per[i].if_enforced);
    }
    r |= pl_buf_printf(b,
                       "# HELP plimsoll_dashboard_score Share (0-100) of workloads admitted "
                       "were every namespace in enforce mode.\n# TYPE plimsoll_dashboard_score "
                       "gauge\nplimsoll_dashboard_score %d\n"
                       "# HELP plimsoll_dashboard_last_full_sync_timestamp_seconds When every "
                       "kind was last listed in full (0: not yet).\n"
                       "# TYPE plimsoll_dashboard_last_full_sync_timestamp_seconds gauge\n"
                       "plimsoll_dashboard_last_full_sync_timestamp_seconds %.3f\n"
                       "# HELP plimsoll_dashboard_ready 1 once every kind has been listed.\n"
                       "# TYPE plimsoll_dashboard_ready gauge\nplimsoll_dashboard_ready %d\n"
                       "# HELP plimsoll_dashboard_judged_total Workload judgements made.\n"
                       "# TYPE plimsoll_dashboard_judged_total counter\n"
                       "plimsoll_dashboard_judged_total %llu\n",
                       score(&total), c->last_full_sync, pl_cluster_ready(c) ? 1 : 0,
                       (unsigned long long)c->judged);
    r |= watch_metrics(c, b);
    pthread_mutex_unlock(&c->lock);
    free(per);
    free(names);
    json_decref(index);
    return r ? -E2BIG : 0;
}

/* ---- OpenReports ---- */

/* The first counted violation of policy in a parsed verdict (borrowed), or NULL. */
static const json_t *first_violation(const json_t *verdict, const char *policy)
{
    size_t i;
    const json_t *v;
    json_array_foreach(json_object_get(verdict, "violations"), i, v)
    {
        const char *p = pl_json_string(v, "policy");
        if (p && strcmp(p, policy) == 0) {
            return v;
        }
    }
    return NULL;
}

/* One Report result: workload w breaks policy i ("fail" or "warn"). */
static json_t *report_result(const struct pl__workload *w, const json_t *verdict, size_t i,
                             bool fail)
{
    const char *id = pl_policies[i]->id;
    const json_t *v = first_violation(verdict, id);
    char message[1024];
    snprintf(message, sizeof(message), "%s: %s", v ? pl_json_string(v, "path") : "",
             v ? pl_json_string(v, "message") : "");
    json_t *props = json_pack("{s:s, s:s}", "mode", v ? pl_json_string(v, "mode") : "", "runbook",
                              v ? pl_json_string(v, "runbook") : "");
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:s, s:[{s:s, s:s, s:s, s:s}], s:o}", "source",
                     "plimsoll", "policy", id, "rule", id, "result", fail ? "fail" : "warn",
                     "severity", fail ? "high" : "medium", "scored", 1, "message", message,
                     "resources", "apiVersion", w->api_version, "kind", w->kind->kind, "name",
                     w->name, "namespace", w->ns, "properties", props);
}

/* Adds w's results and counts to its namespace's report in out. Under lock. */
static void report_workload(struct pl_cluster *c, const struct pl__workload *w, json_t *out,
                            size_t max_results)
{
    if (w->skipped) {
        return;
    }
    json_t *rep = json_object_get(out, w->ns);
    if (!rep) {
        rep = json_pack("{s:{s:i, s:i, s:i, s:i, s:i}, s:[], s:[]}", "summary", "pass", 0, "fail",
                        0, "warn", 0, "error", 0, "skip", 0, "results", "warnings");
        json_object_set_new(out, w->ns, rep);
    }
    json_t *sum = json_object_get(rep, "summary");
    json_t *verdict =
        (w->fail_mask | w->warn_mask) && w->verdict ? json_loads(w->verdict, 0, NULL) : NULL;
    for (size_t i = 0; i < n_policies(); i++) {
        if (mode_in(c, w->ns, i) == PL_MODE_OFF) {
            continue;
        }
        uint64_t b = (uint64_t)1 << i;
        bool fail = w->fail_mask & b;
        bool warn = !fail && (w->warn_mask & b);
        const char *key = fail ? "fail" : warn ? "warn" : (w->exempt_mask & b) ? "skip" : "pass";
        json_object_set_new(sum, key,
                            json_integer(json_integer_value(json_object_get(sum, key)) + 1));
        /* Failures first: warnings are held apart and appended at the end. */
        json_t *list = json_object_get(rep, fail ? "results" : "warnings");
        if ((fail || warn) && json_array_size(json_object_get(rep, "results")) +
                                      json_array_size(json_object_get(rep, "warnings")) <
                                  max_results) {
            json_array_append_new(list, report_result(w, verdict, i, fail));
        }
    }
    json_decref(verdict);
}

json_t *pl_cluster_reports(struct pl_cluster *c, size_t max_results)
{
    json_t *out = json_object();
    pthread_mutex_lock(&c->lock);
    if (!pl_cluster_ready(c)) {
        pthread_mutex_unlock(&c->lock);
        return out;
    }
    size_t n;
    struct pl__workload **all = pl__cluster_all(c, &n);
    qsort(all, n, sizeof(*all), compare_workloads);
    for (size_t i = 0; i < n; i++) {
        report_workload(c, all[i], out, max_results);
    }
    pthread_mutex_unlock(&c->lock);
    free(all);
    const char *ns;
    json_t *rep;
    void *tmp;
    json_object_foreach_safe(out, tmp, ns, rep)
    {
        json_t *results = json_object_get(rep, "results");
        json_array_extend(results, json_object_get(rep, "warnings"));
        json_object_del(rep, "warnings");
        if (json_array_size(results) == 0) {
            json_object_del(out, ns); /* nothing to report: no Report */
        }
    }
    return out;
}
