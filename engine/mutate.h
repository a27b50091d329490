/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mutations of SPEC §7 for one object: an RFC 6902 JSON Patch that only
 * adds what is missing, never overwrites what the user set, and is empty
 * when applied to its own output (reinvocation).
 *
 * Scope, in order: only CREATE and UPDATE; nothing in an excluded namespace
 * (pl_config_excludes, as for validation) nor for an object being deleted;
 * Pods always, workload templates only with mutations.mutate-templates; on a
 * Pod UPDATE only metadata may change. Each mutation is on or off by the
 * namespace annotation plimsoll.dev/<mutation-id>: on|off, else by the
 * configuration. See docs/design/mutations.md.
 */
#ifndef PL_ENGINE_MUTATE_H
#define PL_ENGINE_MUTATE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/compiler.h"
#include "core/error.h"
#include "core/pool.h"
#include "engine/config.h"
#include "engine/evaluate.h"

/**
 * Computes the patch for req under cfg (namespace on/off annotations from
 * req->ns_annotations). On success *ret_patch is a new reference to a JSON
 * array of patch operations (empty when nothing is missing or nothing
 * applies; always for DELETE and CONNECT, which need no object). Returns 0;
 * -EINVAL with err filled when the object of a CREATE or UPDATE is not a JSON
 * object; -E2BIG with err filled when the patch would pass PL_PATCH_MAX_OPS
 * operations (nothing is returned then: a partial patch is worse than none).
 * Temporaries come from pool. Thread-safe for distinct pools.
 */
PL_MUST_CHECK int pl_mutate(const struct pl_config *cfg, const struct pl_request *req,
                            struct pl_pool *pool, json_t **ret_patch, struct pl_error *err);

/**
 * The /mutate decision for a review the caller owns: out is filled as
 * pl_evaluate() fills it (always allowed; out->obj describes the object;
 * out->warnings holds what the mutations want the requester told, such as
 * a match budget cut short, each under 120 characters, or NULL). When there
 * are operations, the JSON text of the patch array is appended to ret_patch
 * and *ret_ops says how many; else nothing is appended and *ret_ops is 0. A
 * patch over PL_PATCH_MAX_OPS is no error here: the object is admitted
 * unchanged with a warning, as a mutating webhook must not block a workload
 * for being large (so is one past ret_patch's ceiling).
 *
 * object is req->object itself, handed over mutable (the server's parsed
 * review): the operations are applied to it as they are computed, so it
 * ends as the API server will store it, instead of to a copy (which was
 * half of what a mutation cost). Values borrowed from it stay valid, as
 * operations only add. Returns 0, or -EINVAL with err filled when the object
 * is not a JSON object. Temporaries, the warnings included, live in pool.
 * Thread-safe for distinct pools and objects.
 */
PL_MUST_CHECK int pl_mutate_review(const struct pl_config *cfg, const struct pl_request *req,
                                   json_t *object, struct pl_pool *pool, struct pl_decision *out,
                                   struct pl_buf *ret_patch, size_t *ret_ops, struct pl_error *err);

/**
 * Whether mutation pl_mutations[index] is on for a namespace with these
 * annotations (borrowed, may be NULL): plimsoll.dev/<id> "on" or "off" wins,
 * any other value is ignored, then the configuration decides.
 */
bool pl_mutation_enabled(const struct pl_config *cfg, size_t index, const json_t *ns_annotations);

#endif
