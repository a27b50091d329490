/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The evaluation loop (see evaluate.h): scope, run each policy in its
 * effective mode, render the verdict.
 *
 * Effective mode of a policy, first match wins (SPEC §6):
 *   1. excluded namespace: off (the whole object is skipped);
 *   2. namespace annotation plimsoll.dev/<policy-id>: enforce|warn|off;
 *   3. namespace annotation plimsoll.dev/mode: enforce|warn|off, for every
 *      policy the configuration does not turn off;
 *   4. the configuration's mode (or the built-in default).
 * An annotation with another value is reported as a warning on the admitted
 * object and falls through to the next rule.
 */
#include "engine/evaluate.h"

#include <errno.h>
#include <string.h>

#include "core/json.h"
#include "policies/registry.h"

static const char *const operation_names[] = {"CREATE", "UPDATE", "DELETE", "CONNECT"};

int pl_operation_parse(const char *name, enum pl_operation *ret_op)
{
    for (size_t i = 0; name && i < PL_ARRAY_SIZE(operation_names); i++) {
        if (strcmp(name, operation_names[i]) == 0) {
            *ret_op = (enum pl_operation)i;
            return 0;
        }
    }
    return -EINVAL;
}

static void decref_cleanup(void *arg)
{
    json_decref(arg);
}

/* Reads a namespace mode annotation; bad values become a note, and "no answer". */
static bool annotation_mode(const json_t *annotations, const char *key, json_t *notes,
                            enum pl_mode *ret_mode)
{
    const char *value = pl_json_string(annotations, key);
    if (!value) {
        return false;
    }
    if (pl_mode_parse(value, ret_mode) == 0) {
        return true;
    }
    char note[256];
    snprintf(
        note, sizeof(note),
        "plimsoll: namespace annotation %s has the unknown value \"%.64s\" (expected enforce, warn or off); ignored",
        key, value);
    json_array_append_new(notes, json_string(note));
    return false;
}

static enum pl_mode effective_mode(const struct pl_config *cfg, size_t index,
                                   const json_t *annotations, bool has_ns_mode,
                                   enum pl_mode ns_mode, json_t *notes)
{
    char key[128];
    enum pl_mode mode;
    snprintf(key, sizeof(key), PL_ANNOTATION_PREFIX "%s", pl_policies[index]->id);
    if (annotation_mode(annotations, key, notes, &mode)) {
        return mode;
    }
    mode = cfg->policies[index].mode;
    if (has_ns_mode && mode != PL_MODE_OFF) {
        return ns_mode;
    }
    return mode;
}

static int run_policies(const struct pl_config *cfg, const struct pl_request *req,
                        struct pl_pool *pool, struct pl_decision *out, json_t *notes)
{
    enum pl_mode ns_mode = PL_MODE_OFF;
    bool has_ns_mode =
        annotation_mode(req->ns_annotations, PL_ANNOTATION_PREFIX "mode", notes, &ns_mode);
    for (size_t i = 0; pl_policies[i]; i++) {
        enum pl_mode mode =
            effective_mode(cfg, i, req->ns_annotations, has_ns_mode, ns_mode, notes);
        if (mode == PL_MODE_OFF) {
            continue;
        }
        struct pl_eval ev = {
            .obj = &out->obj,
            .params = cfg->policies[i].params,
            .pool = pool,
        };
        out->report.policy = pl_policies[i]->id;
        out->report.mode = mode;
        int r = pl_policies[i]->check(&ev, out->obj.pod_spec, &out->report);
        if (r < 0) {
            return r;
        }
    }
    return 0;
}

int pl_evaluate(const struct pl_config *cfg, const struct pl_request *req, struct pl_pool *pool,
                struct pl_decision *out, struct pl_error *err)
{
    memset(out, 0, sizeof(*out));
    /* DELETE and CONNECT may come without an object: nothing to judge. */
    int r = req->object ? pl_object_init(&out->obj, req->object, err) : 0;
    if (r < 0) {
        return r;
    }
    if (!req->object) {
        out->obj.kind_name = "";
        out->obj.name = "";
        out->obj.namespace_ = "";
    }
    if (!*out->obj.namespace_ && req->namespace_) {
        out->obj.namespace_ = req->namespace_; /* the API server may leave it to the request */
    }
    pl_report_init(&out->report, pool, &out->obj);
    out->allowed = true;
    json_t *notes = json_array();
    pl_pool_on_clear(pool, decref_cleanup, notes);

    const char *ns = out->obj.namespace_;
    bool applies = (req->operation == PL_OP_CREATE || req->operation == PL_OP_UPDATE) &&
                   out->obj.pod_spec && !pl_config_excludes(cfg, ns);
    if (applies) {
        out->evaluated = true;
        r = run_policies(cfg, req, pool, out, notes);
        if (r < 0) {
            return pl_error_set(err, "", 0, "internal error while evaluating policies");
        }
    }
    out->message = pl_report_render_rejection(&out->report, cfg->runbook_base_url);
    out->allowed = out->message == NULL;
    out->warnings = pl_report_render_warnings(&out->report, cfg->runbook_base_url, notes);
    pl_pool_on_clear(pool, decref_cleanup, out->warnings);
    return 0;
}
