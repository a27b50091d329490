/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mutation loop (see mutate.h): scope the object, then run every enabled
 * mutation in table order over one patch builder, whose working copy lets
 * each mutation see what the ones before it added (inject-tracing reads the
 * commit inject-commit stamped). The result is the builder's operations, or
 * nothing at all when a bound was hit.
 */
#include "engine/mutate.h"

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

static int run_mutations(const struct pl_config *cfg, const struct pl_request *req,
                         struct pl_pool *pool, const char *ns, const struct pl_object *old_obj,
                         json_t *notes, struct pl_patch *patch)
{
    for (size_t i = 0; pl_mutations[i]; i++) {
        if (!pl_mutation_enabled(cfg, i, req->ns_annotations)) {
            continue;
        }
        /* Re-described before each mutation: the ones before may have added metadata. */
        struct pl_object cur;
        if (pl_object_init(&cur, patch->doc, NULL) < 0 || !cur.pod_spec) {
            return -EINVAL; /* cannot happen: operations only add */
        }
        struct pl_mutate_ctx ctx = {
            .obj = &cur,
            .old_obj = old_obj,
            .params = cfg->mutations[i].params,
            .pool = pool,
            .namespace_ = ns,
            .spec_mutable = !(cur.kind == PL_KIND_POD && req->operation == PL_OP_UPDATE),
            .notes = notes,
        };
        int r = pl_mutations[i]->mutate(&ctx, patch);
        if (r < 0) {
            return r;
        }
    }
    return 0;
}

/* pl_mutate(), with the operations applied to req->object itself when in_place, else to a copy;
 * notes (may be NULL) collects what the mutations want the requester told. */
static int mutate(const struct pl_config *cfg, const struct pl_request *req, bool in_place,
                  struct pl_pool *pool, json_t *notes, json_t **ret_patch, struct pl_error *err)
{
    if (req->operation != PL_OP_CREATE && req->operation != PL_OP_UPDATE) {
        *ret_patch = json_array(); /* DELETE and CONNECT may come without an object */
        return 0;
    }
    struct pl_object obj;
    int r = pl_object_init(&obj, req->object, err);
    if (r < 0) {
        return r;
    }
    const char *ns = pl_request_namespace(req, &obj);
    if (!applies(cfg, &obj, ns)) {
        *ret_patch = json_array();
        return 0;
    }
    struct pl_object old;
    bool has_old =
        req->old_object && pl_object_init(&old, req->old_object, NULL) == 0 && old.kind == obj.kind;
    struct pl_patch patch;
    if (in_place) {
        /* The caller owns the object and lets it change (see pl_mutate_in_place). */
        pl_patch_init_owned(&patch, json_incref((json_t *)req->object), PL_PATCH_MAX_OPS);
    } else {
        pl_patch_init(&patch, req->object, PL_PATCH_MAX_OPS);
    }
    r = run_mutations(cfg, req, pool, ns, has_old ? &old : NULL, notes, &patch);
    if (r == -E2BIG) {
        pl_error_set(err, "", 0, "the patch would need more than %d operations", PL_PATCH_MAX_OPS);
        goto out;
    }
    if (r < 0) {
        r = pl_error_set(err, "", 0, "internal error while computing the patch");
        goto out;
    }
    *ret_patch = pl_patch_take_ops(&patch);
out:
    pl_patch_finish(&patch);
    return r;
}

int pl_mutate(const struct pl_config *cfg, const struct pl_request *req, struct pl_pool *pool,
              json_t **ret_patch, struct pl_error *err)
{
    return mutate(cfg, req, false, pool, NULL, ret_patch, err);
}

int pl_mutate_in_place(const struct pl_config *cfg, const struct pl_request *req,
                       struct pl_pool *pool, json_t **ret_patch, struct pl_error *err)
{
    return mutate(cfg, req, true, pool, NULL, ret_patch, err);
}

int pl_mutate_in_place_noted(const struct pl_config *cfg, const struct pl_request *req,
                             struct pl_pool *pool, json_t *notes, json_t **ret_patch,
                             struct pl_error *err)
{
    return mutate(cfg, req, true, pool, notes, ret_patch, err);
}
