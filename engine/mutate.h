/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mutations of SPEC §7 for one object: an RFC 6902 JSON Patch that only
 * adds what is missing, never overwrites what the user set, and is empty
 * when applied to its own output (reinvocation).
 */
#ifndef PL_ENGINE_MUTATE_H
#define PL_ENGINE_MUTATE_H

#include <jansson.h>

#include "core/compiler.h"
#include "core/error.h"
#include "core/pool.h"
#include "engine/config.h"
#include "engine/evaluate.h"

/**
 * Computes the patch for req under cfg (namespace on/off annotations from
 * req->ns_annotations). On success *ret_patch is a new reference to a JSON
 * array of patch operations (empty when nothing is missing). Returns 0, or
 * -EINVAL with err filled when the object is not a JSON object.
 * Thread-safe for distinct pools.
 */
PL_MUST_CHECK int pl_mutate(const struct pl_config *cfg, const struct pl_request *req,
                            struct pl_pool *pool, json_t **ret_patch, struct pl_error *err);

#endif
