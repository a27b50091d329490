/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mutation contract (SPEC §7, STYLE rules 2-4), the twin of policy.h. A
 * mutation is one file exporting one `const struct pl_mutation
 * pl_mutation_<id>` descriptor, listed by one row in policies/meson.build.
 *
 * - its parameters are a table (policies/params.h), parsed with
 *   pl_params_parse() once per configuration load (never per request),
 *   defaults included.
 * - mutate runs per object and adds to a JSON Patch what the object lacks.
 *   It reads ctx->obj, which describes the object as patched by the
 *   mutations before it (obj->root is the patch's working copy), and writes
 *   only through pl_patch_add() / pl_patch_replace(). The rules every
 *   mutation keeps: add only what is missing, never replace what the user
 *   set, and add nothing when run again on its own output (the API server
 *   reinvokes webhooks). Deterministic, no I/O, no globals, no logging;
 *   temporaries come from ctx->pool. Safe on any thread at once.
 * - the order mutations run in is the order of their rows (mutation_rows);
 *   a mutation that reads what another one wrote names it in `after`, and
 *   test_registry checks that the table keeps that order.
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
    const void *params;              /* this mutation's parsed parameters (NULL when none) */
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
    const char *id;                    /* stable kebab-case id */
    bool default_enabled;              /* SPEC §7 */
    const char *summary;               /* what it adds, one sentence */
    const char *const *after;          /* ids of mutations whose output it reads (NULL-ended;
                                          NULL: none): they must run before it */
    const struct pl_param_set *params; /* its parameters; NULL when it takes none */
    pl_mutate_fn mutate;
};

#endif
