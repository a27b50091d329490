/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of audit/page.c: every string from the cluster is HTML-escaped
 * (a namespace or workload name, a message, a runbook URL carrying markup),
 * the page has no script and no external resource, the filter form keeps
 * the selected values, a cut list says how many are shown, and the size
 * ceiling is honoured.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "audit/page.c"

static json_t *summary(void)
{
    return json_pack("{s:b, s:{s:i, s:i, s:i, s:i, s:i, s:i}, s:[{s:s, s:i, s:i, s:i, s:i, s:i, "
                     "s:i, s:b, s:{s:s, s:s}}], s:[{s:s, s:s, s:i, s:i, s:i}]}",
                     "ready", 1, "cluster", "score", 50, "workloads", 2, "passing", 1, "warned", 0,
                     "rejected", 1, "would_reject_if_enforced", 1, "namespaces", "name", "shop",
                     "score", 50, "workloads", 2, "passing", 1, "warned", 0, "rejected", 1,
                     "would_reject_if_enforced", 1, "excluded", 0, "modes", "liveness-probe",
                     "enforce", "replicas", "warn", "policies", "policy", "liveness-probe",
                     "runbook", "https://r.example/liveness-probe", "passing", 1, "warned", 0,
                     "failing", 1);
}

static json_t *workloads(const char *name, int total)
{
    return json_pack("{s:i, s:[{s:s, s:s, s:s, s:s, s:b, s:[{s:s, s:s, s:s, s:s, s:s}], "
                     "s:[], s:[s]}]}",
                     "total", total, "workloads", "kind", "Deployment", "namespace", "shop", "name",
                     name, "status", "rejected", "would_reject_if_enforced", 1, "violations",
                     "policy", "liveness-probe", "mode", "enforce", "path",
                     "spec.template.spec.containers[0] (<b>web</b>)", "message",
                     "no livenessProbe & <script>alert(1)</script>", "runbook",
                     "https://r.example/liveness-probe?a=\"><script>", "suppressed",
                     "grandfathered", "liveness-probe");
}

static char *render(const json_t *s, const json_t *w, const char *ns, size_t max, size_t *len)
{
    struct pl_audit_page_input in = {
        .summary = s, .all_summary = s, .workloads = w, .ns_filter = ns, .policy_filter = NULL};
    return pl_audit_page(&in, max, len);
}

static void test_escaped_and_self_contained(void **state)
{
    (void)state;
    json_t *s = summary();
    json_t *w = workloads("web<img src=x>", 1);
    size_t len = 0;
    char *html = render(s, w, "shop", 1u << 20, &len);
    assert_non_null(html);
    assert_int_equal(strlen(html), len);
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "<img"));
    assert_null(strstr(html, "<b>web"));
    assert_non_null(strstr(html, "web&lt;img src=x&gt;"));
    assert_non_null(strstr(html, "no livenessProbe &amp; &lt;script&gt;"));
    assert_non_null(strstr(html, "href=\"https://r.example/liveness-probe?a=&quot;&gt;&lt;"));
    assert_null(strstr(html, "<link"));
    assert_null(strstr(html, " src=\""));
    assert_non_null(strstr(html, "<option value=\"shop\" selected>"));
    assert_non_null(strstr(html, "<span class=\"score\" id=\"cluster-score\">50</span>"));
    assert_non_null(strstr(html, "class=\"grandfathered\""));
    assert_non_null(strstr(html, "data-policy=\"liveness-probe\" data-mode=\"enforce\""));
    free(html);
    json_decref(w);
    json_decref(s);
}

static void test_cut_list_and_ceiling(void **state)
{
    (void)state;
    json_t *s = summary();
    json_t *w = workloads("web", 900);
    size_t len = 0;
    char *html = render(s, w, NULL, 1u << 20, &len);
    assert_non_null(strstr(html, "900 workloads; the first 1 are shown"));
    free(html);
    assert_null(render(s, w, NULL, 512, &len));
    json_decref(w);
    json_decref(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escaped_and_self_contained),
        cmocka_unit_test(test_cut_list_and_ceiling),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
