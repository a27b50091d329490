/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mutation contract (SPEC §7, STYLE rules 2-4), the twin of policy.h. A
 * mutation is one file exporting one `const struct pl_mutation
 * pl_mutation_<id>` descriptor, listed in pl_mutations[] in registry.c.
 *
 * - parse_params runs once per configuration load (never per request) and
 *   turns the mutation's settings (without "enabled") into an immutable
 *   params object; it also runs with NULL for the defaults.
 * - mutate runs per object and adds to a JSON Patch what the object lacks.
 *   It reads ctx->obj, which describes the object as patched by the
 *   mutations before it (obj->root is the patch's working copy), and writes
 *   only through pl_patch_add() / pl_patch_replace(). The rules every
 *   mutation keeps: add only what is missing, never replace what the user
 *   set, and add nothing when run again on its own output (the API server
 *   reinvokes webhooks). Deterministic, no I/O, no globals, no logging;
 *   temporaries come from ctx->pool. Safe on any thread at once.
 * - free_params releases what parse_params made (accepts NULL).
 *
 * Mutations use only core/, jansson, and (inject-commit) PCRE2.
 */
#ifndef PL_POLICIES_MUTATION_H
#define PL_POLICIES_MUTATION_H

#include <stdbool.h>

#include <jansson.h>

#include "core/compiler.h"
#include "core/object.h"
#include "core/pool.h"
#include "policies/patch.h"
#include "policies/policy.h"

/* What a mutation gets besides the patch. */
struct pl_mutate_ctx {
    const struct pl_object *obj;     /* the object as patched so far; obj->root is patch->doc */
    const struct pl_object *old_obj; /* the stored object on UPDATE, else NULL (borrowed) */
    const void *params;              /* this mutation's parsed parameters (may be NULL) */
    struct pl_pool *pool;            /* per-request arena for temporaries */
    const char *namespace_;          /* the object's namespace, else the request's; "" unknown */
    bool spec_mutable; /* false for a Pod UPDATE: the API server forbids most spec changes */
    json_t *notes;     /* NULL, or an array the mutation may append warning strings to (borrowed):
                          what the requester should know, such as a budget cut short */
};

/**
 * Adds what the object lacks to patch. obj->pod_spec is never NULL. Pointers
 * taken from ctx->obj before a change stay valid after it (values are only
 * added), but obj->pod_meta is NULL when the metadata was missing at the
 * start: build paths from obj->pod_meta_path, not from the pointer. Returns
 * 0, or the negative errno of a failed pl_patch_*() call (-E2BIG: the patch
 * would be too long), which the caller turns into an error for the request.
 */
typedef int (*pl_mutate_fn)(const struct pl_mutate_ctx *ctx, struct pl_patch *patch);

struct pl_mutation {
    const char *id;                  /* stable kebab-case id */
    bool default_enabled;            /* SPEC §7 */
    const char *summary;             /* what it adds, one sentence */
    const struct pl_param *params;   /* table ended by {NULL}; NULL when none */
    pl_parse_params_fn parse_params; /* NULL when the mutation has no parameters */
    pl_mutate_fn mutate;
    pl_free_params_fn free_params; /* NULL when parse_params allocates nothing */
};

#endif
