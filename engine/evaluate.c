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
#include "core/keys.h"
#include "engine/mutate.h"
#include "policies/inject_commit.h"
#include "policies/registry.h"

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
    if (!notes) {
        return false; /* pl_policy_mode(): no one to tell */
    }
    char note[320]; /* the longest key (128) and value (64) fit whole */
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
    enum pl_mode mode;
    if (json_object_size(annotations) > 0) {
        char key[128];
        snprintf(key, sizeof(key), PL_KEY_PREFIX "%s", pl_policies[index]->id);
        if (annotation_mode(annotations, key, notes, &mode)) {
            return mode;
        }
    }
    mode = cfg->policies[index].mode;
    if (has_ns_mode && mode != PL_MODE_OFF) {
        return ns_mode;
    }
    return mode;
}

enum pl_mode pl_policy_mode(const struct pl_config *cfg, const json_t *annotations, size_t index)
{
    enum pl_mode ns_mode = PL_MODE_OFF;
    bool has_ns_mode = annotation_mode(annotations, PL_KEY_MODE, NULL, &ns_mode);
    return effective_mode(cfg, index, annotations, has_ns_mode, ns_mode, NULL);
}

/* Every policy's effective mode for this request, worked out once: the new
 * and the old object of an UPDATE are judged in the same modes. */
static enum pl_mode *resolve_modes(const struct pl_config *cfg, const json_t *annotations,
                                   struct pl_pool *pool, json_t *notes)
{
    size_t n = pl_policy_count();
    enum pl_mode *modes = pl_pool_alloc(pool, n * sizeof(*modes));
    enum pl_mode ns_mode = PL_MODE_OFF;
    bool has_ns_mode = annotation_mode(annotations, PL_KEY_MODE, notes, &ns_mode);
    for (size_t i = 0; i < n; i++) {
        modes[i] = effective_mode(cfg, i, annotations, has_ns_mode, ns_mode, notes);
    }
    return modes;
}

/* Reads plimsoll.dev/exempt and -reason from one metadata; true when an exempt list is there. */
static bool exempt_annotations(const json_t *meta, const char **ret_list, const char **ret_reason)
{
    const json_t *annotations = pl_json_object(meta, "annotations");
    const char *l = pl_json_string(annotations, PL_KEY_EXEMPT);
    const char *r = pl_json_string(annotations, PL_KEY_EXEMPT_REASON);
    if (r && *r) {
        *ret_reason = r;
    }
    if (l && *l) {
        *ret_list = l;
        return true;
    }
    return false;
}

/*
 * Which policies the object exempts itself from (SPEC §6): annotation
 * plimsoll.dev/exempt: "<id>,<id>" with a non-empty plimsoll.dev/exempt-reason,
 * on the object or its pod template (the template's list wins), for policies
 * in exemptions.allow. Other attempts become notes (warnings) and change
 * nothing. A workload's own metadata does not reach its Pods, so it cannot
 * exempt it from a policy enforced on every Pod (controllers.enforce-on-pods):
 * that exemption must be on the template, or the workload would be admitted
 * and its Pods rejected.
 */
static bool *exemptions(const struct pl_config *cfg, const struct pl_object *obj,
                        struct pl_pool *pool, json_t *notes)
{
    size_t n = pl_policy_count();
    bool *exempt = pl_pool_alloc(pool, n * sizeof(*exempt));
    memset(exempt, 0, n * sizeof(*exempt));
    const char *list = NULL, *reason = NULL;
    bool on_template = exempt_annotations(obj->pod_meta, &list, &reason);
    const json_t *own_meta = pl_json_object(obj->root, "metadata");
    if (own_meta != obj->pod_meta) {
        const char *own_list = NULL;
        if (exempt_annotations(own_meta, &own_list, &reason) && !on_template) {
            list = own_list;
        }
    }
    bool reaches_pods = on_template || obj->kind == PL_KIND_POD;
    if (!list) {
        return exempt;
    }
    char note[320];
    if (!reason || strspn(reason, " \t") == strlen(reason)) {
        json_array_append_new(
            notes, json_string("plimsoll: plimsoll.dev/exempt is ignored: it needs a non-empty "
                               "plimsoll.dev/exempt-reason saying why"));
        return exempt;
    }
    const char *p = list;
    for (size_t count = 0; *p && count < 64; count++) {
        size_t skip = strspn(p, " ,");
        p += skip;
        size_t len = strcspn(p, ", ");
        if (len == 0) {
            break;
        }
        char id[64];
        snprintf(id, sizeof(id), "%.*s", (int)(len < sizeof(id) ? len : sizeof(id) - 1), p);
        p += len;
        int index = pl_policy_index(id);
        if (index < 0) {
            snprintf(
                note, sizeof(note),
                "plimsoll: plimsoll.dev/exempt names \"%.64s\", which is not a policy; ignored",
                id);
            json_array_append_new(notes, json_string(note));
        } else if (!cfg->policies[index].exempt_allowed) {
            snprintf(
                note, sizeof(note),
                "plimsoll: exemption from %s is not allowed here (exemptions.allow); the policy still applies",
                id);
            json_array_append_new(notes, json_string(note));
        } else if (!reaches_pods && cfg->policies[index].every_pod) {
            snprintf(
                note, sizeof(note),
                "plimsoll: exemption from %s must be on the pod template: it is enforced on every Pod "
                "(controllers.enforce-on-pods) and the Pods do not carry the %s's own annotations",
                id, obj->kind_name);
            json_array_append_new(notes, json_string(note));
        } else {
            exempt[index] = true;
        }
    }
    return exempt;
}

/* Keys under plimsoll.dev/ that are not policy or mutation ids but mean something. */
static const char *const known_keys[] = {"mode",   "exempt", "exempt-reason",
                                         "commit", "branch", "skip"};

/* A namespace annotation under plimsoll.dev/ that names nothing (a typo such as
 * plimsoll.dev/livenss-probe) is reported instead of silently doing nothing. */
static void note_unknown_annotations(const json_t *annotations, json_t *notes)
{
    const char *key;
    const json_t *value;
    const size_t prefix = strlen(PL_KEY_PREFIX);
    json_object_foreach((json_t *)annotations, key, value)
    {
        (void)value;
        if (strncmp(key, PL_KEY_PREFIX, prefix) != 0) {
            continue;
        }
        const char *name = key + prefix;
        bool known = pl_policy_index(name) >= 0 || pl_mutation_index(name) >= 0;
        for (size_t i = 0; !known && i < PL_ARRAY_SIZE(known_keys); i++) {
            known = strcmp(name, known_keys[i]) == 0;
        }
        if (!known) {
            char note[256];
            snprintf(
                note, sizeof(note),
                "plimsoll: namespace annotation %.100s names no policy or mutation (see `plimsoll policies`); ignored",
                key);
            json_array_append_new(notes, json_string(note));
        }
    }
}

/* Runs every policy that modes does not turn off on obj into report. notes
 * may be NULL (the old object of an UPDATE: its problems are not news, and
 * what it was exempted from does not matter). An exempted policy still runs,
 * so that what it would have found is on record: its violations are kept in
 * mode off, marked PL_SUPPRESS_EXEMPT. *ret_dropped_every_pod (may be NULL)
 * counts the enforce-mode violations past the report's cap that belong to
 * policies enforced on every Pod, which a controller's Pod cannot be let off. */
static void run_policies(const struct pl_config *cfg, const enum pl_mode *modes,
                         const struct pl_object *obj, const struct pl_neighbours *neighbours,
                         bool commit_injected, struct pl_pool *pool, struct pl_report *report,
                         json_t *notes, size_t *ret_dropped_every_pod)
{
    const json_t *spec = obj->pod_spec ? obj->pod_spec : pl_json_object(obj->root, "spec");
    size_t dropped_every_pod = 0;
    json_t *scratch = notes ? NULL : json_array();
    const bool *exempt = exemptions(cfg, obj, pool, notes ? notes : scratch);
    for (size_t i = 0; pl_policies[i]; i++) {
        enum pl_mode mode = modes[i];
        if (mode == PL_MODE_OFF || (exempt[i] && !notes) ||
            (pl_policies[i]->neighbours && !neighbours) || !spec ||
            !pl_policy_applies(pl_policies[i], obj)) {
            continue;
        }
        struct pl_eval ev = {
            .obj = obj,
            .params = cfg->policies[i].params,
            .pool = pool,
            .commit_injected = commit_injected,
            .neighbours = neighbours,
        };
        size_t first = report->len;
        size_t dropped_before = report->dropped_by_mode[PL_MODE_ENFORCE];
        report->policy = pl_policies[i]->id;
        report->policy_index = i;
        report->mode = exempt[i] ? PL_MODE_OFF : mode;
        report->suppression = exempt[i] ? PL_SUPPRESS_EXEMPT : PL_SUPPRESS_NONE;
        pl_report_identify(report, NULL, NULL);
        pl_policies[i]->check(&ev, spec, report);
        for (size_t k = first; k < report->len; k++) {
            report->items[k].base_mode = mode;
        }
        if (cfg->policies[i].every_pod) {
            dropped_every_pod += report->dropped_by_mode[PL_MODE_ENFORCE] - dropped_before;
        }
    }
    report->suppression = PL_SUPPRESS_NONE;
    if (ret_dropped_every_pod) {
        *ret_dropped_every_pod = dropped_every_pod;
    }
    json_decref(scratch);
}

/* Whether obj is judged at all: it has a pod spec, or neighbours are given and a policy
 * judges its kind (a PodDisruptionBudget in `plimsoll check`). */
static bool judged(const struct pl_request *req, const struct pl_object *obj)
{
    if (obj->pod_spec) {
        return true;
    }
    if (!req->neighbours || !json_is_object(pl_json_object(obj->root, "spec"))) {
        return false;
    }
    for (size_t i = 0; pl_policies[i]; i++) {
        if (pl_policy_applies(pl_policies[i], obj)) {
            return true;
        }
    }
    return false;
}

static bool policy_every_pod(const struct pl_config *cfg, const struct pl_violation *v)
{
    return cfg->policies[v->policy_index].every_pod;
}

/* Whether inject-commit will stamp the commit label on obj's Pods (commit-labels then has
 * nothing to ask for): on for this namespace, and it finds a commit. */
static bool commit_injected(const struct pl_config *cfg, const enum pl_mode *modes,
                            const struct pl_request *req, const struct pl_object *obj,
                            struct pl_pool *pool)
{
    int policy = pl_policy_index("commit-labels");
    int mutation = pl_mutation_index("inject-commit");
    if (policy < 0 || mutation < 0 || modes[policy] == PL_MODE_OFF || !obj->pod_spec ||
        !pl_mutation_enabled(cfg, (size_t)mutation, req->ns_annotations)) {
        return false;
    }
    return pl_inject_commit_finds(cfg->mutations[mutation].params, obj, cfg->mutate_templates,
                                  pool);
}

/*
 * Whether a workload controller made (or changes) this object from a
 * workload plimsoll has admitted (SPEC §6): the request comes from one of
 * controllers.users — userInfo, which the API server sets from credentials
 * and no user can write — and the object names its controller in an
 * ownerReference. The ownerReference alone proves nothing: anyone who may
 * create a Pod may write one.
 */
static bool made_by_controller(const struct pl_config *cfg, const struct pl_request *req,
                               const struct pl_object *obj)
{
    if (!pl_config_is_controller(cfg, req->user)) {
        return false;
    }
    return pl_object_has_controller(obj);
}

/*
 * A controller's object is judged as its workload was: what the workload was
 * admitted with (exempted, grandfathered, in warn or off mode) warns here and
 * never rejects, so that a scale-up, a rollout or an eviction is never refused
 * for it. Policies enforced on every Pod still reject a Pod, as upstream Pod
 * Security Admission does; the workload itself was warned that they would.
 */
static void relax_for_controller(const struct pl_config *cfg, size_t dropped_every_pod,
                                 struct pl_report *report)
{
    bool is_pod = report->obj->kind == PL_KIND_POD;
    for (size_t i = 0; i < report->len; i++) {
        struct pl_violation *v = &report->items[i];
        if (v->mode != PL_MODE_ENFORCE) {
            continue;
        }
        if (is_pod && policy_every_pod(cfg, v)) {
            v->every_pod = true;
            continue;
        }
        v->mode = PL_MODE_WARN;
        v->suppression = PL_SUPPRESS_CONTROLLER;
    }
    /* Past the report's cap violations are only counted, each under its policy's
     * class: those of every-Pod policies still reject a Pod, the others warn. */
    size_t *dropped = report->dropped_by_mode;
    size_t kept = 0;
    if (is_pod) {
        kept = dropped_every_pod < dropped[PL_MODE_ENFORCE] ? dropped_every_pod
                                                            : dropped[PL_MODE_ENFORCE];
    }
    dropped[PL_MODE_WARN] += dropped[PL_MODE_ENFORCE] - kept;
    dropped[PL_MODE_ENFORCE] = kept;
}

/* SPEC §6 "Updates": an enforce-mode violation that the stored object already
 * had becomes a warning, so that existing workloads can still be patched and
 * scaled; a new violation still rejects. */
static void grandfather(const struct pl_config *cfg, const enum pl_mode *modes,
                        const struct pl_request *req, struct pl_pool *pool,
                        struct pl_report *report)
{
    struct pl_object old;
    struct pl_error ignored;
    if (pl_object_init(&old, req->old_object, &ignored) < 0 || !judged(req, &old)) {
        return;
    }
    if (!*old.namespace_) {
        old.namespace_ = report->obj->namespace_;
    }
    struct pl_report old_report;
    pl_report_init(&old_report, pool, &old);
    bool injected = commit_injected(cfg, modes, req, &old, pool);
    run_policies(cfg, modes, &old, req->neighbours, injected, pool, &old_report, NULL, NULL);
    json_t *seen = json_object();
    for (size_t i = 0; i < old_report.len; i++) {
        json_object_set_new(seen, pl_violation_key(pool, &old_report.items[i]), json_true());
    }
    size_t before = pl_report_count(report, PL_MODE_ENFORCE);
    bool all_old = true;
    for (size_t i = 0; i < report->len; i++) {
        struct pl_violation *v = &report->items[i];
        if (v->mode != PL_MODE_ENFORCE) {
            continue;
        }
        if (json_object_get(seen, pl_violation_key(pool, v))) {
            v->mode = PL_MODE_WARN;
            v->suppression = PL_SUPPRESS_GRANDFATHERED;
            /* Allowed on the workload, but its Pods are judged by this policy again. */
            v->every_pod = report->obj->kind != PL_KIND_POD && policy_every_pod(cfg, v);
        } else {
            all_old = false;
        }
    }
    /* Past the report's cap violations are only counted, not compared: when
     * every one that was compared is old and there are no more than before,
     * the uncompared ones are taken to be old too. */
    size_t *dropped = report->dropped_by_mode;
    if (dropped[PL_MODE_ENFORCE] > 0 && all_old &&
        before <= pl_report_count(&old_report, PL_MODE_ENFORCE)) {
        dropped[PL_MODE_WARN] += dropped[PL_MODE_ENFORCE];
        dropped[PL_MODE_ENFORCE] = 0;
    }
    json_decref(seen);
}

const char *pl_request_namespace(const struct pl_request *req, const struct pl_object *obj)
{
    /* The object's own; the API server may leave it to the request (a CREATE names it in
     * the URL, and request.namespace carries it). */
    const char *own = obj ? obj->namespace_
                          : pl_json_string(pl_json_object(req->object, "metadata"), "namespace");
    if (own && *own) {
        return own;
    }
    return req->namespace_ ? req->namespace_ : "";
}

int pl_evaluate(const struct pl_config *cfg, const struct pl_request *req, struct pl_pool *pool,
                struct pl_decision *out, struct pl_error *err)
{
    memset(out, 0, sizeof(*out));
    /* DELETE and CONNECT may come without an object: nothing to judge. */
    pl_object_clear(&out->obj);
    int r = req->object ? pl_object_init(&out->obj, req->object, err) : 0;
    if (r < 0) {
        return r;
    }
    out->obj.namespace_ = pl_request_namespace(req, &out->obj);
    pl_report_init(&out->report, pool, &out->obj);
    out->allowed = true;
    json_t *notes = json_array();
    pl_pool_on_clear(pool, decref_cleanup, notes);
    out->notes = notes;

    const char *ns = out->obj.namespace_;
    bool applies = (req->operation == PL_OP_CREATE || req->operation == PL_OP_UPDATE) &&
                   judged(req, &out->obj) && !pl_config_excludes(cfg, ns);
    if (applies) {
        out->evaluated = true;
        note_unknown_annotations(req->ns_annotations, notes);
        const enum pl_mode *modes = resolve_modes(cfg, req->ns_annotations, pool, notes);
        out->modes = modes;
        bool injected = commit_injected(cfg, modes, req, &out->obj, pool);
        size_t dropped_every_pod = 0;
        run_policies(cfg, modes, &out->obj, req->neighbours, injected, pool, &out->report, notes,
                     &dropped_every_pod);
        if (req->operation == PL_OP_UPDATE && req->old_object && cfg->grandfather_updates &&
            pl_report_count(&out->report, PL_MODE_ENFORCE) > 0) {
            grandfather(cfg, modes, req, pool, &out->report);
        }
        if (pl_report_count(&out->report, PL_MODE_ENFORCE) > 0 &&
            made_by_controller(cfg, req, &out->obj)) {
            relax_for_controller(cfg, dropped_every_pod, &out->report);
        }
    }
    if (req->findings_only) {
        /* What pl_report_render_rejection() returns NULL for. */
        out->allowed = pl_report_count(&out->report, PL_MODE_ENFORCE) == 0;
        out->warnings = json_array();
    } else {
        out->message = pl_report_render_rejection(&out->report, cfg->runbook_base_url);
        out->allowed = out->message == NULL;
        out->warnings = pl_report_render_warnings(&out->report, cfg->runbook_base_url, notes);
    }
    pl_pool_on_clear(pool, decref_cleanup, out->warnings);
    return 0;
}
