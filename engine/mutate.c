/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mutation loop (see mutate.h): scope the object, then run every enabled
 * mutation in table order over one patch builder, whose working copy lets
 * each mutation see what the ones before it added (inject-tracing reads the
 * commit inject-commit stamped). The result is the builder's operations, or
 * nothing at all when a bound was hit.
 */
#include "engine/mutate.h"

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/json.h"
#include "core/keys.h"
#include "policies/patch.h"
#include "policies/registry.h"

bool pl_mutation_enabled(const struct pl_config *cfg, size_t index, const json_t *ns_annotations)
{
    char key[128];
    snprintf(key, sizeof(key), PL_KEY_PREFIX "%s", pl_mutations[index]->id);
    const char *value = pl_json_string(ns_annotations, key);
    if (value && strcmp(value, "on") == 0) {
        return true;
    }
    if (value && strcmp(value, "off") == 0) {
        return false;
    }
    return cfg->mutations[index].enabled;
}

/* Whether a CREATE or UPDATE of the object is mutated at all. */
static bool applies(const struct pl_config *cfg, const struct pl_object *obj, const char *ns)
{
    if (!obj->pod_spec || obj->kind == PL_KIND_OTHER) {
        return false;
    }
    if (obj->kind != PL_KIND_POD && !cfg->mutate_templates) {
        return false;
    }
    /* A terminating object only has its finalizers removed: leave it alone. */
    if (pl_json_path(obj->root, "metadata.deletionTimestamp")) {
        return false;
    }
    return !pl_config_excludes(cfg, ns);
}

/* What a mutation may have changed in obj's description: the pod (template)
 * metadata, added when there was none. Operations only add (or replace a
 * member's value), so every other pointer in it stays valid. */
static void refresh(struct pl_object *obj)
{
    if (!obj->pod_meta && obj->pod_meta_path) {
        const json_t *meta = pl_json_path(obj->root, obj->pod_meta_path);
        obj->pod_meta = json_is_object(meta) ? meta : NULL;
    }
}

/* Runs every enabled mutation over patch; cur describes patch->doc and is
 * kept up to date between mutations. */
static int run_mutations(const struct pl_config *cfg, const struct pl_request *req,
                         struct pl_pool *pool, const char *ns, const struct pl_object *old_obj,
                         json_t *notes, struct pl_patch *patch, struct pl_object *cur)
{
    for (size_t i = 0; pl_mutations[i]; i++) {
        if (!pl_mutation_enabled(cfg, i, req->ns_annotations)) {
            continue;
        }
        refresh(cur);
        struct pl_mutate_ctx ctx = {
            .obj = cur,
            .old_obj = old_obj,
            .params = cfg->mutations[i].params,
            .pool = pool,
            .namespace_ = ns,
            .spec_mutable = !(cur->kind == PL_KIND_POD && req->operation == PL_OP_UPDATE),
            .notes = notes,
        };
        int r = pl_mutations[i]->mutate(&ctx, patch);
        if (r < 0) {
            return r;
        }
    }
    return 0;
}

/*
 * The loop over patch, whose working document obj describes: scoping, the
 * old object, the mutations; the operations are left in patch. Returns as
 * pl_mutate().
 */
static int mutate(const struct pl_config *cfg, const struct pl_request *req, struct pl_object *obj,
                  struct pl_patch *patch, struct pl_pool *pool, json_t *notes, struct pl_error *err)
{
    const char *ns = pl_request_namespace(req, obj);
    if (!applies(cfg, obj, ns)) {
        return 0;
    }
    struct pl_object old;
    bool has_old = req->old_object && pl_object_init(&old, req->old_object, NULL) == 0 &&
                   old.kind == obj->kind;
    int r = run_mutations(cfg, req, pool, ns, has_old ? &old : NULL, notes, patch, obj);
    if (r == -E2BIG) {
        pl_error_set(err, "", 0, "the patch would need more than %d operations", PL_PATCH_MAX_OPS);
        return -E2BIG;
    }
    if (r < 0) {
        return pl_error_set(err, "", 0, "internal error while computing the patch");
    }
    return 0;
}

static bool has_object(const struct pl_request *req)
{
    /* DELETE and CONNECT may come without an object, and are never mutated. */
    return req->operation == PL_OP_CREATE || req->operation == PL_OP_UPDATE;
}

int pl_mutate(const struct pl_config *cfg, const struct pl_request *req, struct pl_pool *pool,
              json_t **ret_patch, struct pl_error *err)
{
    if (!has_object(req)) {
        *ret_patch = json_array();
        return 0;
    }
    if (!json_is_object(req->object)) {
        return pl_error_set(err, "", 0, "the object is not a JSON object");
    }
    struct pl_patch patch;
    pl_patch_init(&patch, req->object, PL_PATCH_MAX_OPS); /* a copy: req->object stays as it is */
    struct pl_object obj;
    int r = pl_object_init(&obj, patch.doc, err);
    if (r == 0) {
        r = mutate(cfg, req, &obj, &patch, pool, NULL, err);
    }
    if (r == 0) {
        *ret_patch = pl_patch_take_ops(&patch);
    }
    pl_patch_finish(&patch);
    return r;
}

static void decref_cleanup(void *arg)
{
    json_decref(arg);
}

int pl_mutate_review(const struct pl_config *cfg, const struct pl_request *req, json_t *object,
                     struct pl_pool *pool, struct pl_decision *out, struct pl_buf *ret_patch,
                     size_t *ret_ops, struct pl_error *err)
{
    assert(object == req->object); /* the same document, handed over mutable */
    memset(out, 0, sizeof(*out));
    out->allowed = true; /* a mutating webhook admits; validation is /validate's */
    pl_object_clear(&out->obj);
    *ret_ops = 0;
    if (!object) {
        return 0;
    }
    /* Notes from the mutations (a match budget cut short) become warnings. */
    json_t *notes = json_array();
    pl_pool_on_clear(pool, decref_cleanup, notes);
    int r = pl_object_init(&out->obj, object, err);
    if (r < 0 || !has_object(req)) {
        return r;
    }
    /* The one description of the object serves the log, the scoping and every
     * mutation; the operations go into the object itself, no copy. */
    struct pl_patch patch;
    pl_patch_init_owned(&patch, json_incref(object), PL_PATCH_MAX_OPS);
    r = mutate(cfg, req, &out->obj, &patch, pool, notes, err);
    size_t ops = pl_patch_len(&patch);
    if (r == 0 && ops > 0) {
        r = pl_patch_take_text(&patch, ret_patch);
    }
    pl_patch_finish(&patch);
    if (r == -E2BIG) {
        /* Admitted unchanged: a mutating webhook must not block a workload for being large. */
        json_array_append_new(notes, json_string("plimsoll: mutations skipped: the patch would "
                                                 "exceed the operation limit for one object"));
        r = 0;
        ops = 0;
    }
    if (json_array_size(notes) > 0) {
        out->warnings = notes;
    }
    if (r == 0) {
        *ret_ops = ops;
    }
    return r;
}
