/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One workload of the live view judged, and what is kept of the judgement
 * (see cluster_private.h). The verdict comes from engine/verdict.c's
 * pl_verdict_decide, the code `plimsoll check` and `plimsoll audit` render
 * their results from, so the three cannot disagree; what the dashboard keeps
 * is written from it directly as compact JSON text, without the result
 * document those commands print (building that document, then picking the
 * dashboard's part out of it, was most of the cost of a judgement).
 *
 * Every jansson value a judgement makes is a temporary: they come from the
 * view's pool (core/jalloc.h) and go at once when it is cleared.
 */
#include <stdio.h>
#include <string.h>

#include "audit/cluster_private.h"
#include "core/alloc.h"
#include "core/jalloc.h"
#include "core/json.h"
#include "core/json_write.h"
#include "core/keys.h"
#include "core/object.h"
#include "policies/registry.h"

#define LAST_APPLIED "kubectl.kubernetes.io/last-applied-configuration"

json_t *pl__workload_compact(const struct pl_audit_kind *k, const char *api_version,
                             const json_t *object)
{
    const json_t *orig = pl_json_object(object, "metadata");
    json_t *meta = orig ? json_copy((json_t *)orig) : json_object();
    json_object_del(meta, "resourceVersion");
    json_object_del(meta, "managedFields");
    json_object_del(meta, "generation");
    const json_t *ann = json_object_get(meta, "annotations");
    if (json_object_get(ann, LAST_APPLIED)) {
        json_t *copy = json_copy((json_t *)ann);
        json_object_set_new(copy, LAST_APPLIED, json_string(""));
        json_object_set_new(meta, "annotations", copy);
    }
    json_t *out =
        json_pack("{s:s, s:s, s:o}", "apiVersion", api_version, "kind", k->kind, "metadata", meta);
    const json_t *spec = json_object_get(object, "spec");
    if (spec) {
        json_object_set(out, "spec", (json_t *)spec);
    }
    return out;
}

/* The bit of policy index i in a workload's masks (0 past 64 policies). */
static uint64_t bit(size_t i)
{
    return i < 64 ? (uint64_t)1 << i : 0;
}

/* Whether the verdict's violation counts (is not exempted away). */
static bool counted(const struct pl_violation *v)
{
    return v->suppression != PL_SUPPRESS_EXEMPT;
}

/* One finding as the dashboard's JSON has it (--output json's, without line and column). */
static int write_finding(const struct pl_config *cfg, const struct pl_violation *v,
                         struct pl_buf *b)
{
    char runbook[512];
    snprintf(runbook, sizeof(runbook), "%s%s", cfg->runbook_base_url, v->policy);
    const char *mode = pl_mode_name(counted(v) ? v->mode : v->base_mode);
    const char *const keys[] = {"policy", "mode", "path", "message", "runbook", "suppression"};
    const char *const values[] = {v->policy,  mode,    v->path,
                                  v->message, runbook, pl_suppression_name(v->suppression)};
    size_t n = v->suppression == PL_SUPPRESS_NONE ? 5 : 6;
    int r = pl_buf_append(b, "{", 1);
    for (size_t i = 0; i < n && r == 0; i++) {
        r = (i ? pl_buf_append(b, ",", 1) : 0) | pl_json_write_string(keys[i], strlen(keys[i]), b) |
            pl_buf_append(b, ":", 1) | pl_json_write_string(values[i], strlen(values[i]), b);
    }
    return r | pl_buf_append(b, "}", 1);
}

/* The findings that are (want_counted) or are not counted, as a JSON array. */
static int write_findings(const struct pl_config *cfg, const struct pl_report *report,
                          bool want_counted, struct pl_buf *b)
{
    int r = pl_buf_append(b, "[", 1);
    bool first = true;
    for (size_t k = 0; k < report->len && r == 0; k++) {
        const struct pl_violation *v = &report->items[k];
        if (counted(v) == want_counted) {
            r = (first ? 0 : pl_buf_append(b, ",", 1)) | write_finding(cfg, v, b);
            first = false;
        }
    }
    return r | pl_buf_append(b, "]", 1);
}

/*
 * Keeps what the dashboard shows of a verdict, as text in the shape of
 * --output json's result: {"status", "violations", "suppressed", "notes"}
 * (audit/view.c reads it back), and the policy masks.
 */
static void keep_verdict(struct pl_cluster *c, struct pl__workload *w, const struct pl_verdict *v)
{
    const struct pl_report *report = &v->d.report;
    w->skipped = v->status == PL_VERDICT_SKIPPED;
    w->rejected = v->status == PL_VERDICT_REJECTED || v->status == PL_VERDICT_INVALID;
    w->fail_mask = w->warn_mask = w->exempt_mask = 0;
    w->n_violations = 0;
    for (size_t k = 0; k < report->len; k++) {
        const struct pl_violation *x = &report->items[k];
        uint64_t b = bit(x->policy_index);
        if (!counted(x)) {
            w->exempt_mask |= b;
            continue;
        }
        w->n_violations++;
        if (x->mode == PL_MODE_ENFORCE && x->suppression == PL_SUPPRESS_NONE) {
            w->fail_mask |= b;
        } else {
            w->warn_mask |= b;
        }
    }
    struct pl_buf *b = &c->scratch;
    const char *status = pl_verdict_status_name(v->status);
    pl_buf_reset(b);
    int r = pl_buf_puts(b, "{\"status\":") | pl_json_write_string(status, strlen(status), b) |
            pl_buf_puts(b, ",\"violations\":") | write_findings(c->cfg, report, true, b) |
            pl_buf_puts(b, ",\"suppressed\":") | write_findings(c->cfg, report, false, b) |
            pl_buf_puts(b, ",\"notes\":") |
            (v->d.notes ? pl_json_write(v->d.notes, true, b) : pl_buf_puts(b, "[]")) |
            pl_buf_puts(b, "}");
    /* Past the scratch ceiling (16 MiB; the report keeps at most PL_REPORT_MAX_VIOLATIONS
     * findings per mode, so not reached in practice): the status alone, never a cut text
     * (a few bytes in the reset buffer, which cannot fail). */
    if (r != 0) {
        pl_buf_reset(b);
        (void)(pl_buf_puts(b, "{\"status\":") | pl_json_write_string(status, strlen(status), b) |
               pl_buf_puts(b, "}"));
    }
    free(w->verdict);
    w->verdict = pl_xmemdup(b->data, b->len + 1);
}

/* The exemption reason of the object or its pod template, if any. */
static char *exempt_reason(const json_t *object)
{
    const char *r = pl_json_string(
        pl_json_object(pl_json_object(object, "metadata"), "annotations"), PL_KEY_EXEMPT_REASON);
    struct pl_object obj;
    struct pl_error err;
    if (!r && pl_object_init(&obj, object, &err) == 0 && obj.pod_meta) {
        r = pl_json_string(pl_json_object(obj.pod_meta, "annotations"), PL_KEY_EXEMPT_REASON);
    }
    return r ? pl_xstrndup(r, 512) : NULL;
}

/*
 * Whether the verdict has a counted finding of a policy that runs at admission (in
 * enforce mode only, when enforced_only). The policies that need the neighbouring
 * objects (PDBs, HPAs, NetworkPolicies) do not run at admission (the webhook is
 * stateless), so their findings, even in enforce mode, reject nothing there.
 */
static bool admission_finding(const struct pl_verdict *v, bool enforced_only)
{
    const struct pl_report *report = &v->d.report;
    for (size_t k = 0; k < report->len; k++) {
        const struct pl_violation *x = &report->items[k];
        if (counted(x) && (!enforced_only || x->mode == PL_MODE_ENFORCE) &&
            !pl_policies[x->policy_index]->neighbours) {
            return true;
        }
    }
    return false;
}

/*
 * Whether admission would reject the object: it is invalid, or a policy that runs
 * at admission enforces a finding. "Would be rejected if the namespace enforced"
 * is about admission.
 */
static bool admission_rejects(const struct pl_verdict *v)
{
    return v->status == PL_VERDICT_INVALID ||
           (v->status == PL_VERDICT_REJECTED && admission_finding(v, true));
}

/*
 * Whether the verdict in enforce mode is known without judging again: what admission
 * rejects now it still would (enforce only raises modes); a namespace already in
 * enforce mode gives the same verdict; and without a finding of an admission policy
 * now, the same policies run under plimsoll.dev/mode: enforce (only a namespace in
 * mode off runs more of them), so there is nothing to reject. The last case is most
 * of a healthy cluster (a missing PodDisruptionBudget is not an admission finding):
 * it spares them the second judgement.
 */
static bool enforce_verdict_known(const struct pl__workload *w, const struct pl_verdict *now,
                                  const json_t *ann)
{
    const char *mode = pl_json_string(ann, PL_KEY_MODE);
    if (admission_rejects(now) || w->skipped || (mode && strcmp(mode, "enforce") == 0)) {
        return true;
    }
    return !admission_finding(now, false) && (!mode || strcmp(mode, "off") != 0);
}

/* Whether w would be rejected were its namespace plimsoll.dev/mode: enforce. Under lock. */
static bool rejected_if_enforced(struct pl_cluster *c, struct pl__workload *w, json_t *object,
                                 const json_t *ann)
{
    json_t *enforced = ann ? json_deep_copy(ann) : json_object();
    json_object_set_new(enforced, PL_KEY_MODE, json_string("enforce"));
    struct pl_audit_decision d;
    struct pl_error err;
    pl_error_init(&err);
    /* As admission judges it: without the neighbours. */
    bool rejects = false;
    if (pl_audit_decide(c->cfg, w->kind, w->api_version, object, enforced, NULL, &c->pool, &d,
                        &err) == 0) {
        rejects = admission_rejects(&d.verdict);
        pl_audit_decision_finish(&d);
    }
    json_decref(enforced);
    return rejects;
}

void pl__workload_judge(struct pl_cluster *c, struct pl__workload *w, json_t *parsed)
{
    char jerr[80];
    /* Not in the view's pool: the object outlives the judgement's temporaries. (A listed
     * item may be in its list+watch's pool: that one is cleared only after this call.) */
    json_t *object = parsed ? json_incref(parsed)
                            : pl_json_load(w->object, strlen(w->object), jerr, sizeof(jerr));
    if (!object) {
        return; /* cannot happen: the text was dumped by us */
    }
    const json_t *ann = json_object_get(c->namespaces, w->ns);
    struct pl_audit_decision d;
    struct pl_error err;
    pl_error_init(&err);
    struct pl_pool *outer = pl_jalloc_use(&c->pool);
    if (pl_audit_decide(c->cfg, w->kind, w->api_version, object, ann, pl__neighbours_of(c),
                        &c->pool, &d, &err) == 0) {
        keep_verdict(c, w, &d.verdict);
        w->rejected_if_enforced = admission_rejects(&d.verdict);
        if (!enforce_verdict_known(w, &d.verdict, ann)) {
            w->rejected_if_enforced = rejected_if_enforced(c, w, object, ann);
        }
        pl_audit_decision_finish(&d);
    }
    pl_jalloc_use(outer);
    pl_pool_clear(&c->pool);
    if (err.message[0]) {
        pl__cluster_warn(c, "dashboard: cannot judge a workload", w->key, err.message);
    }
    free(w->exempt_reason);
    w->exempt_reason = exempt_reason(object);
    c->judged++;
    json_decref(object);
}
