/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The part of the API server's validation that plimsoll's verdicts rest on.
 *
 * In a cluster the API server decodes an object into its Go types before any
 * webhook sees it, so `containers: "oops"` or a Deployment without a pod
 * template never reaches admission. Offline (`plimsoll check`) nothing did
 * that, and the policies, which skip what they cannot read, would admit such
 * an object. pl_schema_check tells those objects apart: wrong JSON types
 * where policies read (metadata, the pod template, the pod spec, containers,
 * their ports, env, probes, resources, security contexts, volumes), a missing
 * pod template or no containers, and objects without a name.
 *
 * It is not the whole OpenAPI schema: fields no policy reads are not checked.
 */
#ifndef PL_ENGINE_SCHEMA_H
#define PL_ENGINE_SCHEMA_H

#include <jansson.h>

/* Most problems reported per object. */
#define PL_SCHEMA_MAX_PROBLEMS 20

/**
 * Checks object (borrowed) if its kind is one plimsoll judges. Returns a new
 * reference to an array of {"path": YAML path relative to the object,
 * "message"}, empty when nothing is wrong (and for other kinds). Thread-safe.
 */
json_t *pl_schema_check(const json_t *object);

#endif
