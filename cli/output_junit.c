/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `plimsoll check --output junit`: JUnit XML, which CI systems (Jenkins,
 * GitLab, Buildkite) render as a test report. One test case per object: a
 * rejected object is a failure listing its enforce-mode violations; warnings
 * go to system-out, and so do the policies the object is exempted from
 * ("Suppressed: ..."), so that a report shows what was let through and why.
 */
#include "cli/output.h"

#include "core/json.h"

/* Writes s with the five XML special characters escaped and control characters dropped. */
static void xml(FILE *out, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '&':
            fputs("&amp;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        case '\'':
            fputs("&apos;", out);
            break;
        default:
            if (*p >= 0x20 || *p == '\n' || *p == '\t') {
                fputc(*p, out);
            }
            break;
        }
    }
}

static void testcase(FILE *out, const json_t *r)
{
    const char *ns = pl_json_string(r, "namespace");
    fputs("    <testcase classname=\"", out);
    xml(out, pl_json_string(r, "file"));
    fputs("\" name=\"", out);
    xml(out, pl_json_string(r, "kind"));
    fputc(' ', out);
    if (ns && *ns) {
        xml(out, ns);
        fputc('/', out);
    }
    xml(out, pl_json_string(r, "name"));
    fputs("\">\n", out);
    const char *message = pl_json_string(r, "message");
    if (message) {
        fputs("      <failure message=\"rejected by plimsoll\">", out);
        xml(out, message);
        fputs("</failure>\n", out);
    }
    const json_t *warnings = json_object_get(r, "warnings");
    const json_t *suppressed = json_object_get(r, "suppressed");
    if (json_array_size(warnings) > 0 || json_array_size(suppressed) > 0) {
        fputs("      <system-out>", out);
        size_t i;
        const json_t *w;
        json_array_foreach(warnings, i, w)
        {
            fputs("Warning: ", out);
            xml(out, json_string_value(w));
            fputc('\n', out);
        }
        json_array_foreach(suppressed, i, w)
        {
            fputs("Suppressed (exempt): [", out);
            xml(out, pl_json_string(w, "policy"));
            fputs("] ", out);
            xml(out, pl_json_string(w, "path"));
            fputs(": ", out);
            xml(out, pl_json_string(w, "message"));
            fputc('\n', out);
        }
        fputs("</system-out>\n", out);
    }
    fputs("    </testcase>\n", out);
}

void pl_output_junit(const json_t *results, FILE *out)
{
    const json_t *summary = json_object_get(results, "summary");
    const json_t *list = json_object_get(results, "results");
    fprintf(out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<testsuites>\n  <testsuite name=\"plimsoll\" tests=\"%zu\" failures=\"%lld\">\n",
            json_array_size(list),
            (long long)json_integer_value(json_object_get(summary, "rejected")));
    size_t i;
    const json_t *r;
    json_array_foreach(list, i, r)
    {
        testcase(out, r);
    }
    fputs("  </testsuite>\n</testsuites>\n", out);
}
