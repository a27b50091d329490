/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `plimsoll check --output text`: one line per object and one per finding,
 * each starting "file:line:column:" as a compiler's do, so that editors and
 * CI logs link them to the manifest:
 *
 *   deploy/web.yaml:1:1: Deployment shop/web: rejected
 *   deploy/web.yaml:15:9: error: [liveness-probe] spec.template.spec.containers[0] (web): ...
 *   deploy/web.yaml:7:3: warning: [replicas] spec.replicas: 1 replica; ...
 *   Runbooks: https://plimsoll.dev/runbooks/liveness-probe ...
 *
 * "error" is what admission rejects, "warning" what it admits with a warning
 * (or would reject but for grandfathering or a controller), "note" what the
 * object is exempted from. The last line counts the objects.
 */
#include "cli/output.h"

#include <string.h>

#include "core/json.h"

static void where(FILE *out, const json_t *object, const json_t *at)
{
    const char *file = pl_json_string(object, "file");
    fprintf(out, "%s:%lld:%lld: ", file ? file : "-",
            (long long)json_integer_value(json_object_get(at, "line")),
            (long long)json_integer_value(json_object_get(at, "column")));
}

static void finding(FILE *out, const json_t *object, const json_t *v, const char *severity)
{
    const char *suppression = pl_json_string(v, "suppression");
    where(out, object, v);
    fprintf(out, "%s: [%s] %s: %s", severity, pl_json_string(v, "policy"),
            pl_json_string(v, "path"), pl_json_string(v, "message"));
    if (suppression && *suppression) {
        fprintf(out, " (%s)", suppression);
    }
    fputc('\n', out);
}

/* The runbooks of the object's findings, each once, on one line. */
static void runbooks(FILE *out, const json_t *object)
{
    json_t *seen = json_object();
    json_t *order = json_array();
    const char *lists[] = {"violations", "suppressed"};
    for (size_t k = 0; k < 2; k++) {
        size_t j;
        const json_t *v;
        json_array_foreach(json_object_get(object, lists[k]), j, v)
        {
            const char *runbook = pl_json_string(v, "runbook");
            if (runbook && !json_object_get(seen, runbook)) {
                json_object_set_new(seen, runbook, json_true());
                json_array_append_new(order, json_string(runbook));
            }
        }
    }
    if (json_array_size(order) > 0) {
        fputs("Runbooks:", out);
        size_t j;
        const json_t *r;
        json_array_foreach(order, j, r)
        {
            fprintf(out, " %s", json_string_value(r));
        }
        fputc('\n', out);
    }
    json_decref(order);
    json_decref(seen);
}

static void object_text(FILE *out, const json_t *r)
{
    const char *kind = pl_json_string(r, "kind");
    const char *ns = pl_json_string(r, "namespace");
    const char *name = pl_json_string(r, "name");
    const char *status = pl_json_string(r, "status");
    const char *reason = pl_json_string(r, "reason");
    where(out, r, r);
    fprintf(out, "%s %s%s%s: %s", kind && *kind ? kind : "object", ns && *ns ? ns : "",
            ns && *ns ? "/" : "", name ? name : "", status ? status : "");
    if (reason) {
        fprintf(out, " (%s)", reason);
    } else if (status && strcmp(status, "invalid") == 0) {
        fputs(" (the API server would refuse it)", out);
    }
    fputc('\n', out);
    size_t j;
    const json_t *v;
    json_array_foreach(json_object_get(r, "problems"), j, v)
    {
        where(out, r, v);
        fprintf(out, "error: [invalid-object] %s: %s\n", pl_json_string(v, "path"),
                pl_json_string(v, "message"));
    }
    json_array_foreach(json_object_get(r, "violations"), j, v)
    {
        const char *mode = pl_json_string(v, "mode");
        finding(out, r, v, mode && strcmp(mode, "enforce") == 0 ? "error" : "warning");
    }
    json_array_foreach(json_object_get(r, "suppressed"), j, v)
    {
        finding(out, r, v, "note");
    }
    json_array_foreach(json_object_get(r, "notes"), j, v)
    {
        where(out, r, r);
        fprintf(out, "warning: %s\n", json_string_value(v));
    }
    runbooks(out, r);
}

void pl_output_text(const json_t *results, FILE *out)
{
    size_t i;
    const json_t *r;
    json_array_foreach(json_object_get(results, "results"), i, r)
    {
        object_text(out, r);
    }
    const json_t *summary = json_object_get(results, "summary");
    fprintf(out,
            "%lld objects: %lld skipped, %lld invalid, %lld rejected, %lld admitted with "
            "warnings\n",
            (long long)json_integer_value(json_object_get(summary, "objects")),
            (long long)json_integer_value(json_object_get(summary, "skipped")),
            (long long)json_integer_value(json_object_get(summary, "invalid")),
            (long long)json_integer_value(json_object_get(summary, "rejected")),
            (long long)json_integer_value(json_object_get(summary, "warned")));
}
