/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `plimsoll check --output sarif`: SARIF 2.1.0 as GitHub code scanning (and
 * GitLab, Azure DevOps) reads it. One rule per policy, plus "invalid-object"
 * for objects the API server would refuse; one result per violation, with
 * level "error" for what admission rejects and "warning" for what it warns
 * about, and a physical location: the file's URI relative to %SRCROOT% (the
 * working directory or --base-dir, given in originalUriBaseIds) and the
 * region (line, column) of the offending field.
 *
 * What does not count is still reported, as a suppressed result: an
 * exempted finding (kind "inSource": the manifest's own plimsoll.dev/exempt
 * annotation) at the level it would have had, a grandfathered or
 * controller-relaxed one (kind "external": decided outside the manifest).
 * Code scanning lists them as suppressed, not as alerts.
 *
 * Each result carries a partial fingerprint of what it is (file, object,
 * policy, field), not of its line, so that an alert survives edits above it.
 */
#include "cli/output.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "policies/registry.h"

#define INVALID_RULE "invalid-object"

static const char *level_of(enum pl_mode mode)
{
    switch (mode) {
    case PL_MODE_ENFORCE:
        return "error";
    case PL_MODE_WARN:
        return "warning";
    case PL_MODE_OFF:
    default:
        return "none";
    }
}

/* What a rule says beyond its summary: default and configured mode, parameters. */
static char *full_description(const struct pl_policy *p, enum pl_mode configured)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    if (!f) {
        pl_oom();
    }
    fprintf(f,
            "plimsoll policy %s: %s. Default mode %s; mode in this configuration %s "
            "(enforce rejects, warn admits with a warning).",
            p->id, p->summary, pl_mode_name(p->default_mode), pl_mode_name(configured));
    for (const struct pl_param *q = p->params ? p->params->table : NULL; q && q->name; q++) {
        char type[128], def[512];
        fprintf(f, " Parameter %s (%s, default %s): %s", q->name,
                pl_param_type_text(q, type, sizeof(type)),
                pl_param_default_text(q, def, sizeof(def)), q->summary);
    }
    fclose(f);
    return text;
}

static json_t *policy_rule(const struct pl_sarif_options *opts, size_t i)
{
    const struct pl_policy *p = pl_policies[i];
    enum pl_mode mode = opts->cfg->policies[i].mode;
    char uri[512];
    snprintf(uri, sizeof(uri), "%s%s", opts->cfg->runbook_base_url, p->id);
    char *full = full_description(p, mode);
    char help[1024];
    snprintf(help, sizeof(help), "%s. Runbook: %s", p->summary, uri);
    json_t *rule =
        json_pack("{s:s, s:s, s:{s:s}, s:{s:s}, s:s, s:{s:s}, s:{s:s}, s:{s:[s, s]}}", "id", p->id,
                  "name", p->id, "shortDescription", "text", p->summary, "fullDescription", "text",
                  full, "helpUri", uri, "help", "text", help, "defaultConfiguration", "level",
                  mode == PL_MODE_OFF ? "none" : level_of(mode), "properties", "tags", "kubernetes",
                  "plimsoll");
    free(full);
    return rule;
}

static json_t *rules(const struct pl_sarif_options *opts)
{
    json_t *arr = json_array();
    for (size_t i = 0; pl_policies[i]; i++) {
        json_array_append_new(arr, policy_rule(opts, i));
    }
    json_array_append_new(
        arr,
        json_pack("{s:s, s:s, s:{s:s}, s:{s:s}, s:s, s:{s:s}, s:{s:[s, s]}}", "id", INVALID_RULE,
                  "name", INVALID_RULE, "shortDescription", "text",
                  "the object is one the API server would refuse", "fullDescription", "text",
                  "The manifest has the wrong type where a field must be a mapping, list, "
                  "string, bool or integer, or a workload has no pod template or no containers. "
                  "The API server refuses such an object before any admission webhook sees it, so "
                  "plimsoll does not judge it and `plimsoll check` fails.",
                  "helpUri", "https://kubernetes.io/docs/reference/kubernetes-api/",
                  "defaultConfiguration", "level", "error", "properties", "tags", "kubernetes",
                  "plimsoll"));
    return arr;
}

/* FNV-1a over the parts, as 16 hex digits. */
static void fingerprint(char out[17], const char *const *parts, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        for (const unsigned char *p = (const unsigned char *)(parts[i] ? parts[i] : ""); *p; p++) {
            h = (h ^ *p) * 0x100000001b3ull;
        }
        h = (h ^ 0x1f) * 0x100000001b3ull; /* a separator no part contains */
    }
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

static json_t *location(const struct pl_sarif_options *opts, const json_t *object, const json_t *at)
{
    const char *file = pl_json_string(object, "file");
    json_t *artifact = json_deep_copy(json_object_get(opts->uris, file));
    if (!artifact) {
        artifact = json_pack("{s:s}", "uri", file ? file : "");
    }
    json_int_t line = json_integer_value(json_object_get(at, "line"));
    json_int_t column = json_integer_value(json_object_get(at, "column"));
    const char *kind = pl_json_string(object, "kind");
    const char *ns = pl_json_string(object, "namespace");
    const char *name = pl_json_string(object, "name");
    char logical[1024];
    snprintf(logical, sizeof(logical), "%s %s%s%s", kind ? kind : "", ns ? ns : "",
             ns && *ns ? "/" : "", name ? name : "");
    return json_pack("{s:{s:o, s:{s:I, s:I}}, s:[{s:s, s:s}]}", "physicalLocation",
                     "artifactLocation", artifact, "region", "startLine", line > 0 ? line : 1,
                     "startColumn", column > 0 ? column : 1, "logicalLocations",
                     "fullyQualifiedName", logical, "kind", "resource");
}

static json_t *suppression_of(const char *s)
{
    if (!s) {
        return NULL;
    }
    if (strcmp(s, "exempt") == 0) {
        return json_pack("[{s:s, s:s}]", "kind", "inSource", "justification",
                         "exempted by the plimsoll.dev/exempt annotation");
    }
    if (strcmp(s, "grandfathered") == 0) {
        return json_pack("[{s:s, s:s}]", "kind", "external", "justification",
                         "grandfathered: the stored object already had this violation (UPDATE)");
    }
    if (strcmp(s, "controller") == 0) {
        return json_pack("[{s:s, s:s}]", "kind", "external", "justification",
                         "made by a controller from an admitted workload");
    }
    return NULL;
}

static json_t *result(const struct pl_sarif_options *opts, const json_t *object, const json_t *v,
                      const char *rule, const char *level)
{
    const char *path = pl_json_string(v, "path");
    char text[2048];
    const char *runbook = pl_json_string(v, "runbook");
    const char *ns = pl_json_string(object, "namespace");
    snprintf(text, sizeof(text), "%s %s%s%s: %s: %s%s%s%s", pl_json_string(object, "kind"),
             ns ? ns : "", ns && *ns ? "/" : "", pl_json_string(object, "name"), path,
             pl_json_string(v, "message"), runbook ? " (runbook: " : "", runbook ? runbook : "",
             runbook ? ")" : "");
    const char *parts[] = {pl_json_string(object, "file"),
                           pl_json_string(object, "kind"),
                           pl_json_string(object, "namespace"),
                           pl_json_string(object, "name"),
                           rule,
                           path};
    char fp[17];
    fingerprint(fp, parts, PL_ARRAY_SIZE(parts));
    json_t *res = json_pack("{s:s, s:s, s:{s:s}, s:[o], s:{s:s}}", "ruleId", rule, "level", level,
                            "message", "text", text, "locations", location(opts, object, v),
                            "partialFingerprints", "plimsollFinding/v1", fp);
    int index = strcmp(rule, INVALID_RULE) == 0 ? (int)pl_policy_count() : pl_policy_index(rule);
    if (index >= 0) {
        json_object_set_new(res, "ruleIndex", json_integer(index));
    }
    json_t *suppressions = suppression_of(pl_json_string(v, "suppression"));
    if (suppressions) {
        json_object_set_new(res, "suppressions", suppressions);
    }
    return res;
}

static const char *mode_level(const json_t *v)
{
    enum pl_mode mode = PL_MODE_OFF;
    if (pl_mode_parse(pl_json_string(v, "mode"), &mode) < 0) {
        mode = PL_MODE_WARN;
    }
    return level_of(mode == PL_MODE_OFF ? PL_MODE_WARN : mode);
}

static void object_results(const struct pl_sarif_options *opts, const json_t *object, json_t *res)
{
    size_t j;
    const json_t *v;
    json_array_foreach(json_object_get(object, "violations"), j, v)
    {
        json_array_append_new(res,
                              result(opts, object, v, pl_json_string(v, "policy"), mode_level(v)));
    }
    json_array_foreach(json_object_get(object, "suppressed"), j, v)
    {
        json_array_append_new(res,
                              result(opts, object, v, pl_json_string(v, "policy"), mode_level(v)));
    }
    json_array_foreach(json_object_get(object, "problems"), j, v)
    {
        json_array_append_new(res, result(opts, object, v, INVALID_RULE, "error"));
    }
}

void pl_output_sarif(const json_t *results, FILE *out, const struct pl_sarif_options *opts)
{
    json_t *res = json_array();
    size_t i;
    const json_t *object;
    json_array_foreach(json_object_get(results, "results"), i, object)
    {
        object_results(opts, object, res);
    }
    json_t *doc = json_pack(
        "{s:s, s:s, s:[{s:{s:{s:s, s:s, s:s, s:s, s:o}}, s:{s:{s:s}}, s:s, s:o, "
        "s:[{s:b}]}]}",
        "$schema", "https://json.schemastore.org/sarif-2.1.0.json", "version", "2.1.0", "runs",
        "tool", "driver", "name", "plimsoll", "version", opts->version, "semanticVersion",
        opts->version, "informationUri", "https://plimsoll.dev/", "rules", rules(opts),
        "originalUriBaseIds", "%SRCROOT%", "uri", opts->srcroot, "columnKind", "utf16CodeUnits",
        "results", res, "invocations", "executionSuccessful", 1);
    char *text = pl_json_dump(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER, NULL);
    json_decref(doc);
    fprintf(out, "%s\n", text);
    free(text);
}
