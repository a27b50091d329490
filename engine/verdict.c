/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A manifest object judged into a result (see verdict.h). Moved here from
 * cli/cmd_check.c so that `plimsoll audit` builds its results with the same
 * code.
 */
#include "engine/verdict.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/object.h"
#include "engine/evaluate.h"
#include "engine/schema.h"
#include "policies/registry.h"

/* Sets "line" and "column" of item to where path (relative to object i) is. */
static void set_location(const struct pl_manifest *m, size_t i, json_t *item, const char *path)
{
    int line, column;
    pl_manifest_locate(m, i, path, &line, &column);
    json_object_set_new(item, "line", json_integer(line));
    json_object_set_new(item, "column", json_integer(column));
}

/* One violation as --output json has it; suppression is added when there is one. */
static json_t *violation_json(const struct pl_verdict_input *in, size_t i,
                              const struct pl_violation *v)
{
    char runbook[512];
    snprintf(runbook, sizeof(runbook), "%s%s", in->cfg->runbook_base_url, v->policy);
    json_t *item =
        json_pack("{s:s, s:s, s:s, s:s, s:s}", "policy", v->policy, "mode",
                  pl_mode_name(v->suppression == PL_SUPPRESS_EXEMPT ? v->base_mode : v->mode),
                  "path", v->path, "message", v->message, "runbook", runbook);
    if (v->suppression != PL_SUPPRESS_NONE) {
        json_object_set_new(item, "suppression", json_string(pl_suppression_name(v->suppression)));
    }
    set_location(in->manifest, i, item, v->path);
    return item;
}

/* Why an object nothing was judged on was skipped. */
static const char *skip_reason(const struct pl_config *cfg, const struct pl_request *req,
                               const struct pl_decision *d, char *buf, size_t size)
{
    if (req->operation != PL_OP_CREATE && req->operation != PL_OP_UPDATE) {
        snprintf(buf, size, "only CREATE and UPDATE are judged");
    } else if (d->obj.kind == PL_KIND_OTHER) {
        snprintf(buf, size, "plimsoll does not judge %s objects",
                 *d->obj.kind_name ? d->obj.kind_name : "kindless");
    } else if (pl_config_excludes(cfg, d->obj.namespace_)) {
        snprintf(buf, size, "namespace %s is excluded by the configuration", d->obj.namespace_);
    } else {
        snprintf(buf, size, "nothing to judge");
    }
    return buf;
}

/* The policies that applied to an evaluated object, with the modes the evaluator resolved,
 * for the reports (JUnit has one test case per policy). */
static json_t *applied_policies(const struct pl_decision *d)
{
    json_t *out = json_array();
    for (size_t i = 0; d->modes && pl_policies[i]; i++) {
        if (d->modes[i] != PL_MODE_OFF) {
            json_array_append_new(out, json_pack("{s:s, s:s}", "policy", pl_policies[i]->id, "mode",
                                                 pl_mode_name(d->modes[i])));
        }
    }
    return out;
}

/* The verdict part of a result (status, allowed, violations, ...) for a judged object. */
static json_t *verdict_json(const struct pl_verdict_input *in, size_t i, const struct pl_verdict *v)
{
    const struct pl_decision *d = &v->d;
    json_t *counted = json_array();
    json_t *suppressed = json_array();
    for (size_t k = 0; k < d->report.len; k++) {
        const struct pl_violation *x = &d->report.items[k];
        json_array_append_new(x->suppression == PL_SUPPRESS_EXEMPT ? suppressed : counted,
                              violation_json(in, i, x));
    }
    const char *status = pl_verdict_status_name(v->status);
    json_t *out =
        json_pack("{s:s, s:b, s:b, s:s?, s:o, s:o, s:O, s:O}", "status", status, "allowed",
                  d->allowed, "evaluated", d->evaluated, "message", d->message, "violations",
                  counted, "suppressed", suppressed, "warnings", d->warnings, "notes", d->notes);
    if (d->evaluated) {
        json_object_set_new(out, "policies", applied_policies(d));
    } else {
        char reason[256];
        json_object_set_new(out, "reason",
                            json_string(skip_reason(in->cfg, &v->req, d, reason, sizeof(reason))));
    }
    return out;
}

/*
 * Makes result say the object is invalid (the API server would refuse it):
 * status "invalid", not allowed, and the problems with their lines. What the
 * policies found stays: it is true of the object too.
 */
static void mark_invalid(const struct pl_manifest *m, size_t i, json_t *result, json_t *problems)
{
    size_t j;
    json_t *p;
    struct pl_buf msg;
    pl_buf_init(&msg, 4096);
    int r = pl_buf_printf(&msg, "%s %s is not a valid object; the API server would refuse it:",
                          pl_json_string(result, "kind"), pl_json_string(result, "name"));
    json_array_foreach(problems, j, p)
    {
        set_location(m, i, p, pl_json_string(p, "path"));
        r |= pl_buf_printf(&msg, "\n- %s: %s", pl_json_string(p, "path"),
                           pl_json_string(p, "message"));
    }
    (void)r; /* a message cut at its ceiling is still a message */
    json_object_set_new(result, "status", json_string("invalid"));
    json_object_set_new(result, "allowed", json_false());
    json_object_set_new(result, "message", json_string(pl_buf_str(&msg)));
    json_object_set(result, "problems", problems);
    json_object_del(result, "reason");
    pl_buf_finish(&msg);
}

/* Adds v to counts: each object counts once, an invalid one as invalid only. */
static void count(struct pl_verdict_counts *c, const struct pl_verdict *v)
{
    c->objects++;
    switch (v->status) {
    case PL_VERDICT_REJECTED:
        c->rejected++;
        break;
    case PL_VERDICT_SKIPPED:
        c->skipped++;
        break;
    case PL_VERDICT_INVALID:
        c->invalid++;
        break;
    case PL_VERDICT_ADMITTED:
        c->warned += json_array_size(v->d.warnings) > 0;
        break;
    }
}

const char *pl_verdict_status_name(enum pl_verdict_status s)
{
    static const char *const names[] = {
        [PL_VERDICT_ADMITTED] = "admitted",
        [PL_VERDICT_REJECTED] = "rejected",
        [PL_VERDICT_SKIPPED] = "skipped",
        [PL_VERDICT_INVALID] = "invalid",
    };
    return names[s];
}

int pl_verdict_decide(const struct pl_verdict_input *in, size_t i, struct pl_pool *pool,
                      struct pl_verdict *out, struct pl_error *err)
{
    const struct pl_manifest *m = in->manifest;
    memset(out, 0, sizeof(*out));
    pl_manifest_locate(m, i, NULL, &out->line, &out->column);
    int r = pl_manifest_request(m, i, in->default_ns, in->annotations, &out->req, &out->annotations,
                                err);
    if (r < 0) {
        char why[sizeof(err->message)];
        snprintf(why, sizeof(why), "%s", err->message);
        return pl_error_set(err, "", out->line, "invalid AdmissionReview: %s", why);
    }
    out->req.neighbours = in->neighbours;
    out->req.findings_only = in->findings_only;
    r = pl_evaluate(in->cfg, &out->req, pool, &out->d, err);
    if (r < 0) {
        err->line = out->line;
        pl_verdict_finish(out);
        return r;
    }
    out->problems = pl_schema_check(out->req.object);
    out->status = json_array_size(out->problems) > 0 ? PL_VERDICT_INVALID
                  : !out->d.allowed                  ? PL_VERDICT_REJECTED
                  : out->d.evaluated                 ? PL_VERDICT_ADMITTED
                                                     : PL_VERDICT_SKIPPED;
    return 0;
}

void pl_verdict_finish(struct pl_verdict *v)
{
    json_decref(v->problems);
    json_decref(v->annotations);
    v->problems = v->annotations = NULL;
}

int pl_verdict_judge(const struct pl_verdict_input *in, size_t i, struct pl_pool *pool,
                     struct pl_verdict_counts *counts, json_t **ret, struct pl_error *err)
{
    const struct pl_manifest *m = in->manifest;
    struct pl_verdict v;
    int r = pl_verdict_decide(in, i, pool, &v, err);
    if (r < 0) {
        return r;
    }
    const struct pl_manifest_object *o = &m->objects[i];
    json_t *result =
        json_pack("{s:s, s:I, s:i, s:i, s:s, s:s, s:s}", "file", m->files[o->file].name, "document",
                  (json_int_t)o->document, "line", v.line, "column", v.column, "kind",
                  v.d.obj.kind_name, "namespace", v.req.namespace_, "name", v.d.obj.name);
    json_t *verdict = verdict_json(in, i, &v);
    json_object_update(result, verdict);
    json_decref(verdict);
    if (v.status == PL_VERDICT_INVALID) {
        mark_invalid(m, i, result, v.problems);
    }
    count(counts, &v);
    pl_verdict_finish(&v);
    *ret = result;
    return 0;
}

json_t *pl_verdict_document(const struct pl_verdict_counts *c, json_t *results)
{
    return json_pack("{s:{s:I, s:I, s:I, s:I, s:I}, s:O}", "summary", "objects",
                     (json_int_t)c->objects, "rejected", (json_int_t)c->rejected, "warned",
                     (json_int_t)c->warned, "invalid", (json_int_t)c->invalid, "skipped",
                     (json_int_t)c->skipped, "results", results);
}
