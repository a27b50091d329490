/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What required-labels and required-annotations share: a list of metadata
 * keys, checked against the Kubernetes key syntax when the configuration
 * loads, that the pod (template) must carry with non-empty string values.
 * The two policies differ only in the metadata field and their defaults;
 * each keeps its own parameter row (policies/params.h).
 */
#ifndef PL_POLICIES_REQUIRED_KEYS_H
#define PL_POLICIES_REQUIRED_KEYS_H

#include <stdbool.h>

#include "policies/params.h"
#include "policies/policy.h"

/* Which metadata map a policy checks. */
struct pl_required_keys_kind {
    const char *field; /* "labels": the metadata map and the parameter name */
    const char *noun;  /* "label", for messages */
};

/* Parsed parameters: the keys to require (the one parameter, named kind->field). */
struct pl_required_keys_params {
    struct pl_strlist keys;
};

/**
 * Whether key is a valid label or annotation key: an optional
 * "<DNS-1123 subdomain>/" prefix (at most 253 characters) and a name of 1-63
 * characters of [A-Za-z0-9._-] with alphanumeric ends.
 */
bool pl_metadata_key_valid(const char *key);

/**
 * A parameter check (pl_param_check_fn) with a noun: 0 when key is valid,
 * else -EINVAL with err saying "\"<key>\" is not a valid <noun> key" at path.
 */
PL_MUST_CHECK int pl_metadata_key_check(const char *key, const char *noun, const char *path,
                                        struct pl_error *err);

/** Reports each required key that is missing, not a string, or empty. */
void pl_required_keys_check(const struct pl_required_keys_kind *kind, const struct pl_eval *ev,
                            struct pl_report *out);

#endif
