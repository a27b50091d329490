/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `plimsoll check --output junit`: JUnit XML as Jenkins, GitLab and the
 * GitHub test-report actions read it. One testsuite per input file; in it
 * one testcase per object and policy that applied (name: the policy id,
 * classname: "Kind namespace/name", file and line attributes: where the
 * first finding is, else the object):
 *
 * - enforce-mode violations: a <failure> whose message is the first one and
 *   whose text lists each as "file:line:column: path: message" with the runbook;
 * - warn-mode violations (also grandfathered, controller-relaxed): the case
 *   passes, the warnings are in its <system-out>;
 * - an exempted policy with findings: <skipped> saying so.
 *
 * An invalid object is one failing testcase "invalid-object"; an object
 * plimsoll does not judge is one skipped testcase "not-judged"; one no policy
 * applies to (all off in its namespace) one passing testcase "admission", so
 * that no object of the input is missing from the report.
 */
#include "cli/output.h"

#include <string.h>

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

struct counts {
    size_t tests, failures, skipped;
};

static bool has_mode(const json_t *list, const char *policy, const char *mode)
{
    size_t i;
    const json_t *v;
    json_array_foreach(list, i, v)
    {
        const char *m = pl_json_string(v, "mode");
        if (strcmp(pl_json_string(v, "policy"), policy) == 0 &&
            (!mode || (m && strcmp(m, mode) == 0))) {
            return true;
        }
    }
    return false;
}

/* Counts the test cases of one object, as testcases() writes them. */
static void count_object(const json_t *r, struct counts *c)
{
    const char *status = pl_json_string(r, "status");
    if (status && strcmp(status, "invalid") == 0) {
        c->tests++;
        c->failures++;
        return;
    }
    if (status && strcmp(status, "skipped") == 0) {
        c->tests++;
        c->skipped++;
        return;
    }
    size_t i;
    const json_t *p;
    if (json_array_size(json_object_get(r, "policies")) == 0) {
        c->tests++; /* the "admission" case of an object no policy applies to */
    }
    json_array_foreach(json_object_get(r, "policies"), i, p)
    {
        const char *id = pl_json_string(p, "policy");
        c->tests++;
        if (has_mode(json_object_get(r, "violations"), id, "enforce")) {
            c->failures++;
        } else if (has_mode(json_object_get(r, "suppressed"), id, NULL)) {
            c->skipped++;
        }
    }
}

static void open_case(FILE *out, const json_t *r, const char *name, const json_t *at)
{
    const char *kind = pl_json_string(r, "kind");
    const char *ns = pl_json_string(r, "namespace");
    fputs("    <testcase name=\"", out);
    xml(out, name);
    fputs("\" classname=\"", out);
    xml(out, kind && *kind ? kind : "object");
    fputc(' ', out);
    if (ns && *ns) {
        xml(out, ns);
        fputc('/', out);
    }
    xml(out, pl_json_string(r, "name"));
    fputs("\" file=\"", out);
    xml(out, pl_json_string(r, "file"));
    fprintf(out, "\" line=\"%lld\" time=\"0\">\n",
            (long long)json_integer_value(json_object_get(at ? at : r, "line")));
}

/* One "file:line:column: path: message" line per finding of policy in mode (NULL: any). */
static void finding_lines(FILE *out, const json_t *r, const json_t *list, const char *policy,
                          const char *mode, const char *prefix)
{
    size_t i;
    const json_t *v;
    json_array_foreach(list, i, v)
    {
        const char *m = pl_json_string(v, "mode");
        if ((policy && strcmp(pl_json_string(v, "policy"), policy) != 0) ||
            (mode && (!m || strcmp(m, mode) != 0))) {
            continue;
        }
        xml(out, prefix);
        xml(out, pl_json_string(r, "file"));
        fprintf(out, ":%lld:%lld: ", (long long)json_integer_value(json_object_get(v, "line")),
                (long long)json_integer_value(json_object_get(v, "column")));
        xml(out, pl_json_string(v, "path"));
        fputs(": ", out);
        xml(out, pl_json_string(v, "message"));
        const char *runbook = pl_json_string(v, "runbook");
        if (runbook) {
            fputs(" Runbook: ", out);
            xml(out, runbook);
        }
        fputc('\n', out);
    }
}

/* The first finding of policy in list with mode (any when NULL), or NULL. */
static const json_t *first_of(const json_t *list, const char *policy, const char *mode)
{
    size_t i;
    const json_t *v;
    json_array_foreach(list, i, v)
    {
        const char *m = pl_json_string(v, "mode");
        if ((!policy || strcmp(pl_json_string(v, "policy"), policy) == 0) &&
            (!mode || (m && strcmp(m, mode) == 0))) {
            return v;
        }
    }
    return NULL;
}

static void policy_case(FILE *out, const json_t *r, const char *id)
{
    const json_t *violations = json_object_get(r, "violations");
    const json_t *suppressed = json_object_get(r, "suppressed");
    const json_t *failing = first_of(violations, id, "enforce");
    const json_t *exempt = first_of(suppressed, id, NULL);
    const json_t *any = first_of(violations, id, NULL);
    open_case(out, r, id, failing ? failing : any ? any : exempt);
    if (failing) {
        fputs("      <failure type=\"enforce\" message=\"", out);
        xml(out, pl_json_string(failing, "path"));
        fputs(": ", out);
        xml(out, pl_json_string(failing, "message"));
        fputs("\">", out);
        finding_lines(out, r, violations, id, "enforce", "");
        fputs("</failure>\n", out);
    } else if (exempt) {
        fputs("      <skipped message=\"exempt (plimsoll.dev/exempt): ", out);
        xml(out, pl_json_string(exempt, "path"));
        fputs(": ", out);
        xml(out, pl_json_string(exempt, "message"));
        fputs("\"/>\n", out);
    }
    if (any && first_of(violations, id, "warn")) {
        fputs("      <system-out>", out);
        finding_lines(out, r, violations, id, "warn", "warning: ");
        fputs("</system-out>\n", out);
    }
    fputs("    </testcase>\n", out);
}

static void testcases(FILE *out, const json_t *r)
{
    const char *status = pl_json_string(r, "status");
    size_t i;
    const json_t *p;
    if (status && strcmp(status, "invalid") == 0) {
        const json_t *first = json_array_get(json_object_get(r, "problems"), 0);
        open_case(out, r, "invalid-object", first);
        fputs("      <failure type=\"invalid\" message=\"the API server would refuse this "
              "object\">",
              out);
        json_array_foreach(json_object_get(r, "problems"), i, p)
        {
            xml(out, pl_json_string(r, "file"));
            fprintf(out, ":%lld:%lld: ", (long long)json_integer_value(json_object_get(p, "line")),
                    (long long)json_integer_value(json_object_get(p, "column")));
            xml(out, pl_json_string(p, "path"));
            fputs(": ", out);
            xml(out, pl_json_string(p, "message"));
            fputc('\n', out);
        }
        fputs("</failure>\n    </testcase>\n", out);
        return;
    }
    if (status && strcmp(status, "skipped") == 0) {
        open_case(out, r, "not-judged", NULL);
        fputs("      <skipped message=\"", out);
        xml(out, pl_json_string(r, "reason"));
        fputs("\"/>\n    </testcase>\n", out);
        return;
    }
    if (json_array_size(json_object_get(r, "policies")) == 0) {
        /* Every policy is off here (a namespace's plimsoll.dev/mode: off): still listed. */
        open_case(out, r, "admission", NULL);
        fputs("      <system-out>no policy applies to this object here</system-out>\n"
              "    </testcase>\n",
              out);
    }
    json_array_foreach(json_object_get(r, "policies"), i, p)
    {
        policy_case(out, r, pl_json_string(p, "policy"));
    }
}

/* Writes the testsuite of results[first, end), which share one file. */
static void suite(FILE *out, const json_t *list, size_t first, size_t end)
{
    struct counts c = {0};
    for (size_t i = first; i < end; i++) {
        count_object(json_array_get(list, i), &c);
    }
    fputs("  <testsuite name=\"", out);
    xml(out, pl_json_string(json_array_get(list, first), "file"));
    fprintf(out, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\" time=\"0\">\n",
            c.tests, c.failures, c.skipped);
    for (size_t i = first; i < end; i++) {
        testcases(out, json_array_get(list, i));
    }
    fputs("  </testsuite>\n", out);
}

void pl_output_junit(const json_t *results, FILE *out)
{
    const json_t *list = json_object_get(results, "results");
    struct counts total = {0};
    size_t i;
    const json_t *r;
    json_array_foreach(list, i, r)
    {
        count_object(r, &total);
    }
    fprintf(out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<testsuites name=\"plimsoll check\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" "
            "skipped=\"%zu\" time=\"0\">\n",
            total.tests, total.failures, total.skipped);
    size_t n = json_array_size(list);
    for (size_t first = 0; first < n;) {
        const char *file = pl_json_string(json_array_get(list, first), "file");
        size_t end = first + 1;
        while (end < n && strcmp(pl_json_string(json_array_get(list, end), "file"), file) == 0) {
            end++;
        }
        suite(out, list, first, end);
        first = end;
    }
    fputs("</testsuites>\n", out);
}
