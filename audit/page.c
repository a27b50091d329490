/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The dashboard's HTML (see page.h). Sections, top to bottom: the cluster's
 * score and counts; the filter form; one row per namespace (score, counts,
 * how many running workloads would be rejected were it switched to enforce,
 * its effective mode per policy); counts per policy with its runbook; then
 * each workload with its violations (field path, fix, runbook link), its
 * exemptions with their reason and what is grandfathered. Elements carry
 * class and data- attributes so that tests (and people with a DOM inspector)
 * find them without depending on the wording.
 */
#include "audit/page.h"

#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/json.h"

#define STYLE                                                                                      \
    "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1b1f24}"                          \
    "h1{font-size:1.4em}table{border-collapse:collapse;margin:.5em 0 1.5em}"                       \
    "td,th{border:1px solid #ccd;padding:.25em .5em;text-align:left;vertical-align:top}"           \
    "th{background:#eef}.score{font-size:2.2em;font-weight:bold}"                                  \
    ".rejected{color:#a00}.warned{color:#a60}.passing{color:#070}"                                 \
    ".mode-enforce{font-weight:bold}.mode-off{color:#888}"                                         \
    "section.workload{border-top:1px solid #ccd;padding:.3em 0}code{font-size:.95em}"

/* Appends s HTML-escaped. */
static int esc(struct pl_buf *b, const char *s)
{
    int r = 0;
    for (s = s ? s : ""; *s && r == 0; s++) {
        switch (*s) {
        case '&':
            r = pl_buf_puts(b, "&amp;");
            break;
        case '<':
            r = pl_buf_puts(b, "&lt;");
            break;
        case '>':
            r = pl_buf_puts(b, "&gt;");
            break;
        case '"':
            r = pl_buf_puts(b, "&quot;");
            break;
        case '\'':
            r = pl_buf_puts(b, "&#39;");
            break;
        default:
            r = pl_buf_append(b, s, 1);
            break;
        }
    }
    return r;
}

static long long num(const json_t *o, const char *key)
{
    return (long long)json_integer_value(json_object_get(o, key));
}

static int header(struct pl_buf *b, const struct pl_audit_page_input *in)
{
    const json_t *cl = json_object_get(in->summary, "cluster");
    int r = pl_buf_puts(b, "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                           "<title>plimsoll: cluster readiness</title><style>" STYLE
                           "</style></head><body><h1>plimsoll: cluster readiness</h1>");
    r |= pl_buf_printf(b,
                       "<p><span class=\"score\" id=\"cluster-score\">%lld</span> / 100 "
                       "(workloads admitted were every namespace in enforce mode)</p>"
                       "<p id=\"cluster-counts\">%lld workloads: <span class=\"passing\">%lld "
                       "passing</span>, <span class=\"warned\">%lld warned</span>, <span "
                       "class=\"rejected\">%lld would be rejected now</span>, <span "
                       "class=\"rejected\">%lld would be rejected in enforce mode</span>.",
                       num(cl, "score"), num(cl, "workloads"), num(cl, "passing"),
                       num(cl, "warned"), num(cl, "rejected"), num(cl, "would_reject_if_enforced"));
    r |=
        pl_buf_printf(b, " %s</p>",
                      json_is_true(json_object_get(in->summary, "ready"))
                          ? "In sync with the API server."
                          : "<strong>Not in sync yet: the first lists are still running.</strong>");
    return r;
}

static int option(struct pl_buf *b, const char *value, const char *selected)
{
    int r = pl_buf_puts(b, "<option value=\"");
    r |= esc(b, value);
    r |= pl_buf_puts(b, selected && strcmp(selected, value) == 0 ? "\" selected>" : "\">");
    r |= esc(b, *value ? value : "all");
    return r | pl_buf_puts(b, "</option>");
}

static int form(struct pl_buf *b, const struct pl_audit_page_input *in)
{
    int r = pl_buf_puts(b, "<form id=\"filter\" method=\"get\" action=\"/\"><label>Namespace "
                           "<select name=\"namespace\" id=\"filter-namespace\">");
    r |= option(b, "", in->ns_filter ? in->ns_filter : "");
    size_t i;
    const json_t *row;
    json_array_foreach(json_object_get(in->all_summary, "namespaces"), i, row)
    {
        r |= option(b, pl_json_string(row, "name"), in->ns_filter);
    }
    r |= pl_buf_puts(b, "</select></label> <label>Policy <select name=\"policy\" "
                        "id=\"filter-policy\">");
    r |= option(b, "", in->policy_filter ? in->policy_filter : "");
    json_array_foreach(json_object_get(in->all_summary, "policies"), i, row)
    {
        r |= option(b, pl_json_string(row, "policy"), in->policy_filter);
    }
    return r | pl_buf_puts(b, "</select></label> <button type=\"submit\">Filter</button></form>");
}

/* "enforce: a, b; warn: c" from a namespace's modes. */
static int modes(struct pl_buf *b, const json_t *m)
{
    static const char *const order[] = {"enforce", "warn", "off"};
    int r = 0;
    for (size_t k = 0; k < 3; k++) {
        bool first = true;
        const char *policy;
        const json_t *mode;
        json_object_foreach((json_t *)m, policy, mode)
        {
            if (strcmp(json_string_value(mode), order[k]) != 0) {
                continue;
            }
            r |= pl_buf_printf(b, first ? "<div class=\"mode-%s\">%s: " : ", ", order[k], order[k]);
            r |= pl_buf_printf(b, "<span data-policy=\"%s\" data-mode=\"%s\">%s</span>", policy,
                               order[k], policy);
            first = false;
        }
        r |= first ? 0 : pl_buf_puts(b, "</div>");
    }
    return r;
}

static int namespaces(struct pl_buf *b, const json_t *summary)
{
    int r = pl_buf_puts(b, "<h2>Namespaces</h2><table id=\"namespaces\"><tr><th>namespace</th>"
                           "<th>score</th><th>workloads</th><th>passing</th><th>warned</th>"
                           "<th>rejected now</th><th>rejected if switched to enforce</th>"
                           "<th>effective mode per policy</th></tr>");
    size_t i;
    const json_t *row;
    json_array_foreach(json_object_get(summary, "namespaces"), i, row)
    {
        r |= pl_buf_puts(b, "<tr class=\"ns\" data-namespace=\"");
        r |= esc(b, pl_json_string(row, "name"));
        r |= pl_buf_puts(b, "\"><td>");
        r |= esc(b, pl_json_string(row, "name"));
        r |= pl_buf_printf(b,
                           "%s</td><td class=\"ns-score\">%lld</td><td>%lld</td><td>%lld</td>"
                           "<td>%lld</td><td>%lld</td><td class=\"ns-if-enforced\">%lld</td><td>",
                           json_is_true(json_object_get(row, "excluded")) ? " (excluded)" : "",
                           num(row, "score"), num(row, "workloads"), num(row, "passing"),
                           num(row, "warned"), num(row, "rejected"),
                           num(row, "would_reject_if_enforced"));
        r |= modes(b, json_object_get(row, "modes"));
        r |= pl_buf_puts(b, "</td></tr>");
    }
    return r | pl_buf_puts(b, "</table>");
}

static int policies(struct pl_buf *b, const json_t *summary)
{
    int r = pl_buf_puts(b, "<h2>Policies</h2><table id=\"policies\"><tr><th>policy</th>"
                           "<th>passing</th><th>warned</th><th>would reject</th></tr>");
    size_t i;
    const json_t *row;
    json_array_foreach(json_object_get(summary, "policies"), i, row)
    {
        r |= pl_buf_printf(b, "<tr class=\"policy\" data-policy=\"%s\"><td><a href=\"",
                           pl_json_string(row, "policy"));
        r |= esc(b, pl_json_string(row, "runbook"));
        r |= pl_buf_printf(b, "\">%s</a></td><td>%lld</td><td>%lld</td><td>%lld</td></tr>",
                           pl_json_string(row, "policy"), num(row, "passing"), num(row, "warned"),
                           num(row, "failing"));
    }
    return r | pl_buf_puts(b, "</table>");
}

static int finding(struct pl_buf *b, const json_t *v, const char *cls)
{
    int r = pl_buf_printf(b, "<tr class=\"%s\" data-policy=\"", cls);
    r |= esc(b, pl_json_string(v, "policy"));
    r |= pl_buf_puts(b, "\"><td>");
    r |= esc(b, pl_json_string(v, "policy"));
    r |= pl_buf_puts(b, "</td><td>");
    r |= esc(b, pl_json_string(v, "suppression") ? pl_json_string(v, "suppression")
                                                 : pl_json_string(v, "mode"));
    r |= pl_buf_puts(b, "</td><td><code class=\"field\">");
    r |= esc(b, pl_json_string(v, "path"));
    r |= pl_buf_puts(b, "</code></td><td class=\"fix\">");
    r |= esc(b, pl_json_string(v, "message"));
    r |= pl_buf_puts(b, "</td><td><a class=\"runbook\" href=\"");
    r |= esc(b, pl_json_string(v, "runbook"));
    return r | pl_buf_puts(b, "\">runbook</a></td></tr>");
}

static int workload(struct pl_buf *b, const json_t *w)
{
    const char *status = pl_json_string(w, "status");
    int r = pl_buf_puts(b, "<section class=\"workload\" data-namespace=\"");
    r |= esc(b, pl_json_string(w, "namespace"));
    r |= pl_buf_puts(b, "\" data-name=\"");
    r |= esc(b, pl_json_string(w, "name"));
    r |= pl_buf_printf(b, "\" data-kind=\"%s\" data-status=\"%s\"><h3>%s ",
                       pl_json_string(w, "kind"), status, pl_json_string(w, "kind"));
    r |= esc(b, pl_json_string(w, "namespace"));
    r |= pl_buf_puts(b, "/");
    r |= esc(b, pl_json_string(w, "name"));
    r |= pl_buf_printf(b, ": <span class=\"%s\">%s</span>%s</h3>",
                       strcmp(status, "admitted") == 0 ? "passing" : "rejected", status,
                       json_is_true(json_object_get(w, "would_reject_if_enforced"))
                           ? " <span class=\"rejected\">(rejected if enforced)</span>"
                           : "");
    const json_t *v = json_object_get(w, "violations");
    const json_t *s = json_object_get(w, "suppressed");
    if (json_array_size(v) + json_array_size(s) > 0) {
        r |= pl_buf_puts(b, "<table><tr><th>policy</th><th>mode</th><th>field</th><th>fix</th>"
                            "<th>runbook</th></tr>");
        size_t i;
        const json_t *item;
        json_array_foreach(v, i, item)
        {
            r |= finding(b, item, "violation");
        }
        json_array_foreach(s, i, item)
        {
            r |= finding(b, item, "exemption");
        }
        r |= pl_buf_puts(b, "</table>");
    }
    if (pl_json_string(w, "exempt_reason") && json_array_size(s) > 0) {
        r |= pl_buf_puts(b, "<p class=\"exempt-reason\">Exempted: ");
        r |= esc(b, pl_json_string(w, "exempt_reason"));
        r |= pl_buf_puts(b, "</p>");
    }
    if (json_array_size(json_object_get(w, "grandfathered")) > 0) {
        r |= pl_buf_puts(b, "<p class=\"grandfathered\">Running, so grandfathered: updates "
                            "that add no new violation are admitted; a new object like it "
                            "would be rejected.</p>");
    }
    return r | pl_buf_puts(b, "</section>");
}

char *pl_audit_page(const struct pl_audit_page_input *in, size_t max, size_t *ret_len)
{
    struct pl_buf b;
    pl_buf_init(&b, max);
    int r = header(&b, in);
    r |= form(&b, in);
    r |= namespaces(&b, in->summary);
    r |= policies(&b, in->summary);
    const json_t *list = json_object_get(in->workloads, "workloads");
    r |= pl_buf_printf(&b, "<h2>Workloads</h2><p id=\"workload-count\">%lld workloads",
                       num(in->workloads, "total"));
    if ((long long)json_array_size(list) < num(in->workloads, "total")) {
        r |= pl_buf_printf(&b, "; the first %zu are shown: filter by namespace or policy",
                           json_array_size(list));
    }
    r |= pl_buf_puts(&b, ".</p>");
    size_t i;
    const json_t *w;
    json_array_foreach(list, i, w)
    {
        r |= workload(&b, w);
    }
    r |= pl_buf_puts(&b, "</body></html>\n");
    if (r != 0) {
        pl_buf_finish(&b);
        return NULL;
    }
    *ret_len = b.len;
    return pl_buf_steal(&b);
}
