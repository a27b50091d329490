/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Renderers of `plimsoll check` results. The results are one JSON document
 * (the --output json form); every other format is rendered from it, so the
 * formats cannot disagree.
 *
 * results: {"summary": {...}, "results": [{"file", "document", "kind",
 * "namespace", "name", "allowed", "violations": [{"policy", "mode", "path",
 * "message", "runbook", "suppression"?}], "suppressed": [...], "warnings": [...]}]}
 *
 * "violations" holds what counts: enforce rejects, warn warns; one that
 * would reject but only warns says why in "suppression" ("grandfathered",
 * "controller"). "suppressed" holds what the object is exempted from
 * (plimsoll.dev/exempt), each with the mode it would have had and
 * "suppression": "exempt".
 */
#ifndef PL_CLI_OUTPUT_H
#define PL_CLI_OUTPUT_H

#include <stdio.h>

#include <jansson.h>

/** Human-readable: the admission message and warnings of each object. */
void pl_output_text(const json_t *results, FILE *out);

/** The results document itself, indented. */
void pl_output_json(const json_t *results, FILE *out);

/** SARIF 2.1.0 with one rule per policy; runbook_base makes each rule's helpUri. */
void pl_output_sarif(const json_t *results, FILE *out, const char *runbook_base,
                     const char *version);

/** JUnit XML: one test case per object, a failure per rejected object. */
void pl_output_junit(const json_t *results, FILE *out);

#endif
