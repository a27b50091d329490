/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Renderers of `plimsoll check` results. The results are one JSON document
 * (the --output json form); every other format is rendered from it, so the
 * formats cannot disagree.
 *
 * results: {"summary": {"objects", "rejected", "warned", "invalid", "skipped"},
 * "results": [{"file", "document", "line", "column", "kind", "namespace",
 * "name", "status", "allowed", "evaluated", "message"?, "violations":
 * [{"policy", "mode", "path", "message", "runbook", "suppression"?, "line",
 * "column"}], "suppressed": [...], "warnings": [...], "notes": [...],
 * "reason"? , "problems"?}]}
 *
 * "status" is "admitted", "rejected", "invalid" (the API server would refuse
 * the object; "problems" lists [{"path", "message", "line", "column"}]) or
 * "skipped" (nothing plimsoll judges; "reason" says why). "line" and
 * "column" (1-based; columns in UTF-16 code units) are where the object, or
 * the violation's field (else its innermost ancestor in the file), is.
 *
 * "violations" holds what counts: enforce rejects, warn warns; one that
 * would reject but only warns says why in "suppression" ("grandfathered",
 * "controller"). "suppressed" holds what the object is exempted from
 * (plimsoll.dev/exempt), each with the mode it would have had and
 * "suppression": "exempt". "notes" are the warnings about plimsoll's own
 * annotations (a bad mode, a refused exemption); they are among "warnings" too.
 */
#ifndef PL_CLI_OUTPUT_H
#define PL_CLI_OUTPUT_H

#include <stdio.h>

#include <jansson.h>

#include "engine/config.h"

struct pl_sarif_options;

/* The --output formats of check and audit. */
enum pl_output_format {
    PL_OUTPUT_TEXT,
    PL_OUTPUT_JSON,
    PL_OUTPUT_SARIF,
    PL_OUTPUT_JUNIT,
};

/**
 * The format called name ("text", "json", "sarif", "junit") into *ret. Returns 0, or
 * -1 after "plimsoll COMMAND: --output must be text, json, sarif or junit" on stderr.
 */
int pl_output_format_parse(const char *command, const char *name, enum pl_output_format *ret);

/** Writes results to out in format; sarif is read by PL_OUTPUT_SARIF only (else NULL). */
void pl_output_render(enum pl_output_format format, const json_t *results, FILE *out,
                      const struct pl_sarif_options *sarif);

/** Compiler-like: "file:line:column: error: [policy] path: message" per finding. */
void pl_output_text(const json_t *results, FILE *out);

/** The results document itself, indented. */
void pl_output_json(const json_t *results, FILE *out);

struct pl_sarif_options {
    const struct pl_config *cfg; /* rules: runbook base, configured modes */
    const char *version;         /* the tool's version */
    const json_t *uris;          /* file name -> {"uri", "uriBaseId"?} (artifactLocation) */
    const char *srcroot;         /* "file:///abs/base/": what %SRCROOT% stands for */
};

/** SARIF 2.1.0 as GitHub code scanning reads it: rules per policy, a region per result. */
void pl_output_sarif(const json_t *results, FILE *out, const struct pl_sarif_options *opts);

/** JUnit XML: one test case per object and policy that applied, failures with file and line. */
void pl_output_junit(const json_t *results, FILE *out);

#endif
