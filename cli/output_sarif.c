/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `plimsoll check --output sarif`: SARIF 2.1.0, which code-scanning UIs
 * (GitHub, GitLab, Azure DevOps) show inline. One rule per policy, one
 * result per violation: level "error" for enforce, "warning" for warn. An
 * exempted violation is a result with a suppression (kind "inSource": the
 * manifest's own plimsoll.dev/exempt annotation), at the level it would have
 * had; code scanning lists it as suppressed, not as an alert.
 */
#include "cli/output.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "policies/registry.h"

static json_t *rules(const char *runbook_base)
{
    json_t *arr = json_array();
    for (size_t i = 0; pl_policies[i]; i++) {
        char uri[512];
        snprintf(uri, sizeof(uri), "%s%s", runbook_base, pl_policies[i]->id);
        json_array_append_new(arr, json_pack("{s:s, s:{s:s}, s:s}", "id", pl_policies[i]->id,
                                             "shortDescription", "text", pl_policies[i]->summary,
                                             "helpUri", uri));
    }
    return arr;
}

static json_t *result(const json_t *object, const json_t *v)
{
    const char *kind = pl_json_string(object, "kind");
    const char *ns = pl_json_string(object, "namespace");
    const char *name = pl_json_string(object, "name");
    const char *mode = pl_json_string(v, "mode");
    char logical[1024];
    snprintf(logical, sizeof(logical), "%s %s%s%s %s", kind ? kind : "", ns ? ns : "",
             ns && *ns ? "/" : "", name ? name : "", pl_json_string(v, "path"));
    char text[2048];
    snprintf(text, sizeof(text), "%s: %s (%s)", pl_json_string(v, "path"),
             pl_json_string(v, "message"), pl_json_string(v, "runbook"));
    json_t *res = json_pack(
        "{s:s, s:s, s:{s:s}, s:[{s:{s:{s:s}}, s:[{s:s}]}]}", "ruleId", pl_json_string(v, "policy"),
        "level", mode && mode[0] == 'e' ? "error" : "warning", "message", "text", text, "locations",
        "physicalLocation", "artifactLocation", "uri", pl_json_string(object, "file"),
        "logicalLocations", "fullyQualifiedName", logical);
    const char *suppression = pl_json_string(v, "suppression");
    if (suppression && strcmp(suppression, "exempt") == 0) {
        json_object_set_new(res, "suppressions",
                            json_pack("[{s:s, s:s}]", "kind", "inSource", "justification",
                                      "exempted by the plimsoll.dev/exempt annotation"));
    }
    return res;
}

void pl_output_sarif(const json_t *results, FILE *out, const char *runbook_base,
                     const char *version)
{
    json_t *res = json_array();
    size_t i, j;
    const json_t *object, *v;
    json_array_foreach(json_object_get(results, "results"), i, object)
    {
        json_array_foreach(json_object_get(object, "violations"), j, v)
        {
            json_array_append_new(res, result(object, v));
        }
        json_array_foreach(json_object_get(object, "suppressed"), j, v)
        {
            json_array_append_new(res, result(object, v));
        }
    }
    json_t *doc =
        json_pack("{s:s, s:s, s:[{s:{s:{s:s, s:s, s:s, s:o}}, s:o}]}", "$schema",
                  "https://json.schemastore.org/sarif-2.1.0.json", "version", "2.1.0", "runs",
                  "tool", "driver", "name", "plimsoll", "version", version, "informationUri",
                  "https://plimsoll.dev/", "rules", rules(runbook_base), "results", res);
    char *text = pl_json_dump(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER, NULL);
    json_decref(doc);
    fprintf(out, "%s\n", text);
    free(text);
}
