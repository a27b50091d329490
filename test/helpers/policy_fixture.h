/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Driving one policy in a unit test: parse its parameters from YAML and run
 * its check on an object written in YAML, collecting the violations as text.
 * Failures fail the calling cmocka test.
 */
#ifndef PL_TEST_HELPERS_POLICY_FIXTURE_H
#define PL_TEST_HELPERS_POLICY_FIXTURE_H

#include <stddef.h>

#include "policies/policy.h"

/**
 * Runs pl_params_parse() with set on yaml (NULL: the defaults; a policy's
 * "mode" is let through). err is initialised here. Free with pl_params_free().
 */
int pl_test_parse_params(const struct pl_param_set *set, const char *yaml, void **ret,
                         struct pl_error *err);

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

#endif
