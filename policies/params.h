/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers that policies share to parse their parameters once per
 * configuration load: unknown keys are errors, types are checked, and every
 * error names the parameter (err->path, relative to the policy).
 */
#ifndef PL_POLICIES_PARAMS_H
#define PL_POLICIES_PARAMS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/compiler.h"
#include "core/error.h"

/* A list of owned strings. */
struct pl_strlist {
    char **items;
    size_t len;
};

/** Frees the items; the list is empty afterwards. Accepts NULL. */
void pl_strlist_finish(struct pl_strlist *l);

/** Whether s is one of the items (exact match). */
bool pl_strlist_contains(const struct pl_strlist *l, const char *s);

/**
 * Fails with -EINVAL naming the first key of params (an object or NULL) that
 * is not in allowed (NULL-ended). "mode" is always allowed.
 */
PL_MUST_CHECK int pl_params_check_keys(const json_t *params, const char *const *allowed,
                                       struct pl_error *err);

/**
 * params[key] as a list of non-empty strings into *ret (initialised here).
 * When params or the key is absent, *ret is a copy of def (NULL-ended, may
 * be NULL for an empty default). Returns 0 or -EINVAL.
 */
PL_MUST_CHECK int pl_params_strlist(const json_t *params, const char *key, const char *const *def,
                                    struct pl_strlist *ret, struct pl_error *err);

/**
 * For a policy whose one parameter is a list of strings: fails on any other
 * key (pl_params_check_keys), then reads params[key] as pl_params_strlist.
 */
PL_MUST_CHECK int pl_params_only_strlist(const json_t *params, const char *key,
                                         const char *const *def, struct pl_strlist *ret,
                                         struct pl_error *err);

/** params[key] as a bool, def when absent. Returns 0 or -EINVAL. */
PL_MUST_CHECK int pl_params_bool(const json_t *params, const char *key, bool def, bool *ret,
                                 struct pl_error *err);

/** params[key] as an integer in [min, max], def when absent. Returns 0 or -EINVAL. */
PL_MUST_CHECK int pl_params_int(const json_t *params, const char *key, long long def, long long min,
                                long long max, long long *ret, struct pl_error *err);

#endif
