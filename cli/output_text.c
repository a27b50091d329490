/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `plimsoll check --output text`: for each object, what kubectl would show.
 */
#include "cli/output.h"

#include "core/json.h"

void pl_output_text(const json_t *results, FILE *out)
{
    size_t i;
    const json_t *r;
    json_array_foreach(json_object_get(results, "results"), i, r)
    {
        const char *file = pl_json_string(r, "file");
        const char *kind = pl_json_string(r, "kind");
        const char *ns = pl_json_string(r, "namespace");
        const char *name = pl_json_string(r, "name");
        const char *message = pl_json_string(r, "message");
        fprintf(out, "%s: %s %s%s%s: %s\n", file ? file : "-", kind && *kind ? kind : "object",
                ns && *ns ? ns : "", ns && *ns ? "/" : "", name ? name : "",
                message ? "rejected" : "admitted");
        if (message) {
            fprintf(out, "%s\n", message);
        }
        size_t j;
        const json_t *w;
        json_array_foreach(json_object_get(r, "warnings"), j, w)
        {
            fprintf(out, "Warning: %s\n", json_string_value(w));
        }
        json_array_foreach(json_object_get(r, "suppressed"), j, w)
        {
            fprintf(out, "Exempt: [%s] %s: %s\n", pl_json_string(w, "policy"),
                    pl_json_string(w, "path"), pl_json_string(w, "message"));
        }
    }
    const json_t *summary = json_object_get(results, "summary");
    fprintf(out, "%lld objects: %lld rejected, %lld admitted with warnings\n",
            (long long)json_integer_value(json_object_get(summary, "objects")),
            (long long)json_integer_value(json_object_get(summary, "rejected")),
            (long long)json_integer_value(json_object_get(summary, "warned")));
}
