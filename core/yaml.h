/* SPDX-License-Identifier: Apache-2.0 */
/*
 * YAML to jansson, for configuration files and `plimsoll check` manifests.
 *
 * Scalars are typed by the YAML 1.2 core schema (null, true/false, integers,
 * floats; quoted scalars are always strings). Kubernetes' older YAML 1.1 words
 * (yes/no/on/off) stay strings, which is what a Kubernetes field of type string
 * wants. Duplicate mapping keys are an error. Aliases are followed, with a cap
 * on the expanded size so that an alias bomb is an error rather than a stall.
 * The time taken is linear in the input size: anchors are hashed, and a work
 * budget proportional to the input bounds it (PL_YAML_STEPS_PER_BYTE).
 */
#ifndef PL_CORE_YAML_H
#define PL_CORE_YAML_H

#include <stddef.h>

#include <jansson.h>

#include "core/compiler.h"
#include "core/error.h"

/* Limits on hostile documents. */
#define PL_YAML_MAX_DEPTH 128
#define PL_YAML_MAX_NODES 2000000
/*
 * The work budget: events parsed plus anchor-table probes, at most
 * PL_YAML_STEPS_PER_BYTE per input byte (PL_YAML_STEPS_BASE bytes counted for
 * free). An ordinary document uses under one step per byte; past the budget
 * the load fails with "document too complex".
 */
#define PL_YAML_STEPS_PER_BYTE 8
#define PL_YAML_STEPS_BASE     4096

/**
 * Parses every document of a YAML stream (empty documents are skipped).
 *
 * @param ret_docs   on success, a new reference to an array of the documents.
 * @param ret_lines  if not NULL, on success a new reference to an array (one
 *                   entry per document) of objects mapping each node's field
 *                   path ("policies.resources.require[1]") to its 1-based line.
 * @return 0, or -EINVAL with err filled (message, path, line).
 */
PL_MUST_CHECK int pl_yaml_load(const char *data, size_t len, json_t **ret_docs, json_t **ret_lines,
                               struct pl_error *err);

#endif
