/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The policy contract (STYLE rules 2-4). A policy is one file exporting one
 * `const struct pl_policy pl_policy_<id>` descriptor, listed in registry.c.
 *
 * - parse_params runs once per configuration load (never per request) and
 *   turns the policy's YAML/JSON parameters into an immutable params object.
 * - check runs per object: borrowed const inputs, violations appended to the
 *   report (which owns their strings), deterministic, no I/O, no globals, no
 *   logging, safe on any thread at once.
 * - free_params releases what parse_params made (accepts NULL).
 *
 * Policies use only core/ and jansson.
 */
#ifndef PL_POLICIES_POLICY_H
#define PL_POLICIES_POLICY_H

#include <jansson.h>

#include "core/compiler.h"
#include "core/error.h"
#include "core/object.h"
#include "core/pool.h"
#include "core/report.h"

/* One documented parameter, for `plimsoll policies` and the runbooks. */
struct pl_param {
    const char *name;        /* "require" */
    const char *type;        /* "list of strings" */
    const char *default_doc; /* "[requests.cpu, requests.memory, limits.memory]" */
    const char *summary;     /* one sentence */
};

/* What a check gets besides the pod spec. */
struct pl_eval {
    const struct pl_object *obj; /* the object being evaluated (borrowed) */
    const void *params;          /* this policy's parsed parameters (borrowed, may be NULL) */
    struct pl_pool *pool;        /* per-request arena for temporaries */
    bool commit_injected;        /* inject-commit is on here and will stamp this pod's commit */
};

/**
 * Parses params (the policy's configuration object without "mode", borrowed;
 * NULL means "use the defaults"). On success *ret_params owns a new object
 * (or NULL when the policy has no parameters). On error returns -EINVAL with
 * err filled; err->path is relative to the policy ("require[1]").
 */
typedef int (*pl_parse_params_fn)(const json_t *params, void **ret_params, struct pl_error *err);

/**
 * Checks one object. spec is the pod spec (borrowed, never NULL). Returns 0;
 * a negative errno only for an internal failure (never for bad input, which
 * is a violation or nothing).
 */
typedef int (*pl_check_fn)(const struct pl_eval *ev, const json_t *spec, struct pl_report *out);

/** Releases parse_params' result. Accepts NULL. */
typedef void (*pl_free_params_fn)(void *params);

struct pl_policy {
    const char *id;                  /* stable kebab-case id */
    enum pl_mode default_mode;       /* SPEC §5 */
    const char *summary;             /* what it checks, one sentence */
    const struct pl_param *params;   /* table ended by {NULL}; NULL when none */
    pl_parse_params_fn parse_params; /* NULL when the policy has no parameters */
    pl_check_fn check;
    pl_free_params_fn free_params; /* NULL when parse_params allocates nothing */
};

#endif
