/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Driving one policy or mutation in a unit test: parse its parameters from
 * YAML and run its check (or mutate) on an object written in YAML, collecting
 * the violations as text (or the patch). Failures fail the calling cmocka test.
 */
#ifndef PL_TEST_HELPERS_POLICY_FIXTURE_H
#define PL_TEST_HELPERS_POLICY_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "policies/mutation.h"
#include "policies/policy.h"

/**
 * Runs pl_params_parse() with set on yaml (NULL: the defaults; a policy's
 * "mode" is let through). err is initialised here. Free with pl_params_free().
 */
int pl_test_parse_params(const struct pl_param_set *set, const char *yaml, void **ret,
                         struct pl_error *err);

/**
 * The parameters of set parsed from yaml (NULL: the defaults), which must
 * parse (as pl_test_parse_params()). Free with pl_params_free().
 */
void *pl_test_params(const struct pl_param_set *set, const char *yaml);

/**
 * Runs policy's check with params on the object in object_yaml, when the
 * policy applies to it (pl_policy_applies, as in the evaluator). buf receives the
 * violations as "path: message", joined by "|". Returns how many there were.
 */
size_t pl_test_run_check(const struct pl_policy *policy, const void *params,
                         const char *object_yaml, char *buf, size_t size);

/**
 * pl_test_run_check() with the policy's own parameters parsed from
 * params_yaml (NULL: the defaults; they must parse; a policy without
 * parameters takes only NULL) and freed afterwards.
 */
size_t pl_test_run_policy(const struct pl_policy *policy, const char *params_yaml,
                          const char *object_yaml, char *buf, size_t size);

/** pl_test_run_policy(), but buf receives only the violations' paths, joined by "|". */
size_t pl_test_run_policy_paths(const struct pl_policy *policy, const char *params_yaml,
                                const char *object_yaml, char *buf, size_t size);

/**
 * Runs mutation's mutate on the object in object_yaml (old_yaml: the stored
 * object of an UPDATE, or NULL) in namespace "shop", with its parameters
 * parsed from params_yaml (NULL: the defaults; they must parse). Returns the
 * patch's operations (new reference); *ret_doc, when ret_doc is not NULL,
 * receives the patched object (new reference).
 */
json_t *pl_test_run_mutation(const struct pl_mutation *mutation, const char *params_yaml,
                             const char *object_yaml, const char *old_yaml, bool spec_mutable,
                             json_t **ret_doc);

#endif
