/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of core/report.c: mode names, violation paths per scope and
 * object kind, the violation cap, pl_report_quote (cut at 64 bytes without
 * splitting UTF-8, control characters replaced), the rejection text of
 * SPEC §9 byte for byte, its 16 KiB bound with "... and N more", and the
 * warnings: format, extra notes first, one runbook line, 256 bytes per item
 * and 4 KiB in all.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/object.h"
#include "core/pool.h"
#include "core/report.h"
#include "test/helpers/fixture.h"

#define BASE "https://runbooks.example/"

struct fixture {
    struct pl_pool pool;
    json_t *doc;
    struct pl_object obj;
    struct pl_report report;
};

static void fixture_init(struct fixture *f, const char *yaml)
{
    pl_pool_init(&f->pool);
    f->doc = yaml ? pl_test_yaml(yaml) : NULL;
    struct pl_error err;
    pl_error_init(&err);
    if (f->doc) {
        assert_int_equal(pl_object_init(&f->obj, f->doc, &err), 0);
    }
    pl_report_init(&f->report, &f->pool, f->doc ? &f->obj : NULL);
}

static void fixture_finish(struct fixture *f)
{
    pl_pool_finish(&f->pool);
    json_decref(f->doc);
}

static const char deployment[] = "kind: Deployment\nmetadata: {name: web, namespace: shop}\n"
                                 "spec: {template: {spec: {containers: [{name: web}]}}}\n";
static const char cronjob[] = "kind: CronJob\nmetadata: {name: nightly, namespace: batch}\n"
                              "spec: {jobTemplate: {spec: {template: {spec: {}}}}}\n";
static const char pod[] = "kind: Pod\nmetadata: {name: p, namespace: ns}\nspec: {}\n";

static void test_init(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, deployment);
    assert_int_equal(f.report.len, 0);
    assert_int_equal(f.report.dropped, 0);
    assert_int_equal(f.report.mode, PL_MODE_ENFORCE);
    assert_ptr_equal(f.report.obj, &f.obj);
    assert_int_equal(pl_report_count(&f.report, PL_MODE_ENFORCE), 0);
    assert_null(pl_report_render_rejection(&f.report, BASE));
    json_t *w = pl_report_render_warnings(&f.report, BASE, NULL);
    assert_int_equal(json_array_size(w), 0);
    json_decref(w);
    fixture_finish(&f);
}

static void test_paths_by_scope(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, deployment);
    f.report.policy = "p";
    pl_report_add(&f.report, PL_SCOPE_POD_SPEC, "containers[0] (web)", "m%d", 1);
    pl_report_add(&f.report, PL_SCOPE_POD_META, "labels", "m%d", 2);
    pl_report_add(&f.report, PL_SCOPE_OBJECT, "spec.replicas", "m%d", 3);
    pl_report_add(&f.report, PL_SCOPE_POD_SPEC, "", "m%d", 4);
    pl_report_add(&f.report, PL_SCOPE_POD_META, "", "m%d", 5);
    pl_report_add(&f.report, PL_SCOPE_OBJECT, "", "m%d", 6);
    assert_int_equal(f.report.len, 6);
    const struct pl_violation *v = f.report.items;
    assert_string_equal(v[0].path, "spec.template.spec.containers[0] (web)");
    assert_string_equal(v[0].short_path, "containers[0] (web)");
    assert_string_equal(v[0].message, "m1");
    assert_string_equal(v[1].path, "spec.template.metadata.labels");
    assert_string_equal(v[1].short_path, "metadata.labels");
    assert_string_equal(v[2].path, "spec.replicas");
    assert_string_equal(v[2].short_path, "spec.replicas");
    assert_string_equal(v[3].path, "spec.template.spec");
    assert_string_equal(v[3].short_path, "spec.template.spec");
    assert_string_equal(v[4].path, "spec.template.metadata");
    assert_string_equal(v[4].short_path, "metadata");
    assert_string_equal(v[5].path, "");
    assert_string_equal(v[5].short_path, "");
    for (size_t i = 0; i < 6; i++) {
        assert_string_equal(v[i].policy, "p");
        assert_int_equal(v[i].mode, PL_MODE_ENFORCE);
        assert_int_equal(v[i].suppression, PL_SUPPRESS_NONE);
    }
    fixture_finish(&f);
}

static void test_paths_per_kind(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, cronjob);
    pl_report_add(&f.report, PL_SCOPE_POD_SPEC, "containers[1] (x)", "m");
    pl_report_add(&f.report, PL_SCOPE_POD_META, "annotations", "m");
    assert_string_equal(f.report.items[0].path,
                        "spec.jobTemplate.spec.template.spec.containers[1] (x)");
    assert_string_equal(f.report.items[1].path,
                        "spec.jobTemplate.spec.template.metadata.annotations");
    assert_string_equal(f.report.items[1].short_path, "metadata.annotations");
    assert_string_equal(f.report.items[0].policy, ""); /* no policy set */
    fixture_finish(&f);

    fixture_init(&f, pod);
    pl_report_add(&f.report, PL_SCOPE_POD_SPEC, "containers[0] (a)", "m");
    pl_report_add(&f.report, PL_SCOPE_POD_META, "labels", "m");
    assert_string_equal(f.report.items[0].path, "spec.containers[0] (a)");
    assert_string_equal(f.report.items[1].path, "metadata.labels");
    fixture_finish(&f);

    /* No object, or one without a pod template: the Pod's own prefixes. */
    fixture_init(&f, NULL);
    pl_report_add(&f.report, PL_SCOPE_POD_SPEC, "containers[0] (a)", "m");
    pl_report_add(&f.report, PL_SCOPE_POD_META, "labels", "m");
    assert_string_equal(f.report.items[0].path, "spec.containers[0] (a)");
    assert_string_equal(f.report.items[1].path, "metadata.labels");
    fixture_finish(&f);
}

static void test_policy_and_mode_stamped(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, deployment);
    f.report.policy = "liveness-probe";
    f.report.mode = PL_MODE_ENFORCE;
    pl_report_add(&f.report, PL_SCOPE_OBJECT, "a", "one");
    f.report.policy = "replicas";
    f.report.mode = PL_MODE_WARN;
    pl_report_add(&f.report, PL_SCOPE_OBJECT, "b", "two");
    pl_report_add(&f.report, PL_SCOPE_OBJECT, "c", "three");
    assert_string_equal(f.report.items[0].policy, "liveness-probe");
    assert_int_equal(f.report.items[0].mode, PL_MODE_ENFORCE);
    assert_string_equal(f.report.items[1].policy, "replicas");
    assert_int_equal(f.report.items[2].mode, PL_MODE_WARN);
    assert_int_equal(pl_report_count(&f.report, PL_MODE_ENFORCE), 1);
    assert_int_equal(pl_report_count(&f.report, PL_MODE_WARN), 2);
    assert_int_equal(pl_report_count(&f.report, PL_MODE_OFF), 0);
    fixture_finish(&f);
}

static void test_path_is_copied(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, pod);
    char path[32] = "labels";
    pl_report_add(&f.report, PL_SCOPE_OBJECT, path, "m");
    memcpy(path, "XXXXXX", 7);
    assert_string_equal(f.report.items[0].path, "labels");
    fixture_finish(&f);
}

static void test_container_paths(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, deployment);
    struct pl_container c = {.json = NULL, .name = "web", .list = "containers", .index = 0};
    pl_report_container(&f.report, &c, NULL, "no livenessProbe; %s", "x");
    pl_report_container(&f.report, &c, "", "empty sub");
    pl_report_container(&f.report, &c, "resources.limits.memory", "sub");
    struct pl_container init = {.name = "", .list = "initContainers", .index = 3};
    pl_report_container(&f.report, &init, "image", "nameless");
    struct pl_container evil = {.name = "a\nb\tc", .list = "containers", .index = 12};
    pl_report_container(&f.report, &evil, NULL, "control characters");
    const struct pl_violation *v = f.report.items;
    assert_string_equal(v[0].path, "spec.template.spec.containers[0] (web)");
    assert_string_equal(v[0].short_path, "containers[0] (web)");
    assert_string_equal(v[0].message, "no livenessProbe; x");
    assert_string_equal(v[1].path, "spec.template.spec.containers[0] (web)");
    assert_string_equal(v[2].path,
                        "spec.template.spec.containers[0] (web).resources.limits.memory");
    assert_string_equal(v[2].short_path, "containers[0] (web).resources.limits.memory");
    assert_string_equal(v[3].path, "spec.template.spec.initContainers[3].image");
    assert_string_equal(v[4].path, "spec.template.spec.containers[12] (a?b?c)");
    fixture_finish(&f);
}

static void test_violation_cap(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, pod);
    f.report.policy = "p";
    struct pl_container c = {.name = "c", .list = "containers", .index = 0};
    for (size_t i = 0; i < PL_REPORT_MAX_VIOLATIONS + 5; i++) {
        if (i % 2) {
            pl_report_add(&f.report, PL_SCOPE_POD_SPEC, "x", "m%zu", i);
        } else {
            pl_report_container(&f.report, &c, NULL, "m%zu", i);
        }
    }
    assert_int_equal(f.report.len, PL_REPORT_MAX_VIOLATIONS);
    assert_int_equal(f.report.dropped, 5);
    assert_string_equal(f.report.items[999].message, "m999");
    /* Dropped ones count under the mode they had. */
    assert_int_equal(pl_report_count(&f.report, PL_MODE_ENFORCE), PL_REPORT_MAX_VIOLATIONS + 5);
    /* Each mode has its own share: a warning still finds room. */
    f.report.mode = PL_MODE_WARN;
    pl_report_add(&f.report, PL_SCOPE_POD_SPEC, "x", "late");
    assert_int_equal(f.report.dropped, 5);
    assert_int_equal(f.report.len, PL_REPORT_MAX_VIOLATIONS + 1);
    assert_int_equal(pl_report_count(&f.report, PL_MODE_WARN), 1);
    assert_int_equal(pl_report_count(&f.report, PL_MODE_ENFORCE), PL_REPORT_MAX_VIOLATIONS + 5);
    fixture_finish(&f);
}

/*
 * Regression test, bug found by review (core/report.c, pl_report_add/pl_report_count): violations
 * past PL_REPORT_MAX_VIOLATIONS are counted in one "dropped" total, and pl_report_count() adds that
 * total to the enforce count whatever their mode. The mode is known when they are dropped
 * (r->mode), so an object whose 1005 violations are all warn-mode (e.g. a Pod with many containers
 * and only warn policies on) is REJECTED with "5 production-readiness
 * violations\n- ... and 5 more", though SPEC §5 says warn admits.
 * Expected: enforce count 0, no rejection text, the 5 counted among the
 * warnings' "... and N more". Fix: keep dropped counts per mode.
 */
static void test_dropped_warnings_do_not_reject(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, pod);
    f.report.policy = "required-labels";
    f.report.mode = PL_MODE_WARN;
    for (size_t i = 0; i < PL_REPORT_MAX_VIOLATIONS + 5; i++) {
        pl_report_add(&f.report, PL_SCOPE_POD_META, "labels", "missing label %zu", i);
    }
    assert_int_equal(f.report.dropped, 5);
    assert_int_equal(pl_report_count(&f.report, PL_MODE_WARN), PL_REPORT_MAX_VIOLATIONS + 5);
    assert_int_equal(pl_report_count(&f.report, PL_MODE_ENFORCE), 0);
    assert_null(pl_report_render_rejection(&f.report, BASE));
    fixture_finish(&f);
}

static void test_quote(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, pod);
    assert_string_equal(pl_report_quote(&f.report, NULL), "");
    assert_string_equal(pl_report_quote(&f.report, ""), "");
    assert_string_equal(pl_report_quote(&f.report, "nginx:1.25"), "nginx:1.25");
    /* Control characters (and DEL) become '?'; other bytes stay. */
    assert_string_equal(pl_report_quote(&f.report, "a\nb\rc\td\x1b[31me\x7f"), "a?b?c?d?[31me?");
    assert_string_equal(pl_report_quote(&f.report, "caf\xc3\xa9"), "caf\xc3\xa9");

    char text[200];
    /* Exactly 64 bytes: kept whole. */
    memset(text, 'a', 64);
    text[64] = '\0';
    assert_string_equal(pl_report_quote(&f.report, text), text);
    /* 65 bytes: 61 bytes and "...", 64 in all. */
    memset(text, 'a', 65);
    text[65] = '\0';
    const char *q = pl_report_quote(&f.report, text);
    assert_int_equal(strlen(q), 64);
    assert_string_equal(q + 61, "...");
    assert_memory_equal(q, text, 61);
    /* Long text far past the limit is read only up to the limit. */
    memset(text, 'b', sizeof(text) - 1);
    text[sizeof(text) - 1] = '\0';
    assert_int_equal(strlen(pl_report_quote(&f.report, text)), 64);
    fixture_finish(&f);
}

static void test_quote_utf8_cut(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, pod);
    char text[200];
    /* 60 ASCII bytes, then 2-byte characters: the cut at 61 would split one. */
    memset(text, 'a', 60);
    size_t len = 60;
    for (int i = 0; i < 10; i++) {
        memcpy(text + len, "\xc3\xa9", 2);
        len += 2;
    }
    text[len] = '\0';
    const char *q = pl_report_quote(&f.report, text);
    char want[80];
    memset(want, 'a', 60);
    memcpy(want + 60, "...", 4);
    assert_string_equal(q, want);
    /* A 4-byte character across the cut goes whole. */
    memset(text, 'a', 59);
    len = 59;
    for (int i = 0; i < 5; i++) {
        memcpy(text + len, "\xf0\x9f\x98\x80", 4); /* U+1F600 */
        len += 4;
    }
    text[len] = '\0';
    q = pl_report_quote(&f.report, text);
    assert_int_equal(strlen(q), 59 + 3);
    assert_string_equal(q + 59, "...");
    /* Exactly 64 bytes ending in a multi-byte character: not cut. */
    memset(text, 'a', 62);
    memcpy(text + 62, "\xc3\xa9", 3);
    assert_string_equal(pl_report_quote(&f.report, text), text);
    fixture_finish(&f);
}

static void test_rejection_text_exact(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, deployment);
    struct pl_container c = {.name = "web", .list = "containers", .index = 0};
    f.report.policy = "liveness-probe";
    pl_report_container(&f.report, &c, NULL, "no livenessProbe; a hung process is never restarted");
    f.report.policy = "replicas";
    f.report.mode = PL_MODE_WARN; /* warnings are not in the rejection */
    pl_report_add(&f.report, PL_SCOPE_OBJECT, "spec.replicas", "only 1 replica");
    f.report.policy = "resources";
    f.report.mode = PL_MODE_ENFORCE;
    pl_report_container(&f.report, &c, NULL, "resources.limits.memory is not set");
    const char *text = pl_report_render_rejection(&f.report, BASE);
    assert_string_equal(
        text,
        "plimsoll rejected Deployment shop/web: 2 production-readiness violations\n"
        "- [liveness-probe] spec.template.spec.containers[0] (web): no livenessProbe; a hung "
        "process is never restarted. Runbook: " BASE "liveness-probe\n"
        "- [resources] spec.template.spec.containers[0] (web): resources.limits.memory is not "
        "set. Runbook: " BASE "resources");
    fixture_finish(&f);
}

static void test_rejection_singular_and_no_namespace(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, "kind: Pod\nmetadata: {name: solo}\nspec: {}\n");
    f.report.policy = "image-tag";
    pl_report_add(&f.report, PL_SCOPE_POD_SPEC, "containers[0] (a).image", "no tag");
    assert_string_equal(pl_report_render_rejection(&f.report, ""),
                        "plimsoll rejected Pod solo: 1 production-readiness violation\n"
                        "- [image-tag] spec.containers[0] (a).image: no tag. Runbook: image-tag");
    fixture_finish(&f);

    /* Only warnings: no rejection. */
    fixture_init(&f, pod);
    f.report.mode = PL_MODE_WARN;
    pl_report_add(&f.report, PL_SCOPE_OBJECT, "x", "m");
    assert_null(pl_report_render_rejection(&f.report, BASE));
    fixture_finish(&f);
}

static size_t count_lines_starting(const char *text, const char *prefix)
{
    size_t n = 0;
    for (const char *p = text; p; p = strchr(p, '\n')) {
        p += *p == '\n';
        n += strncmp(p, prefix, strlen(prefix)) == 0;
    }
    return n;
}

static void test_rejection_bound(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, deployment);
    f.report.policy = "resources";
    char long_message[400];
    memset(long_message, 'm', sizeof(long_message) - 1);
    long_message[sizeof(long_message) - 1] = '\0';
    for (size_t i = 0; i < PL_REPORT_MAX_VIOLATIONS + 20; i++) {
        struct pl_container c = {.name = "c", .list = "containers", .index = i};
        pl_report_container(&f.report, &c, NULL, "%s", long_message);
    }
    const char *text = pl_report_render_rejection(&f.report, BASE);
    size_t len = strlen(text);
    assert_true(len <= PL_MESSAGE_MAX);
    assert_true(len > PL_MESSAGE_MAX - 1024); /* it is filled, not given up early */
    assert_memory_equal(text,
                        "plimsoll rejected Deployment shop/web: 1020 production-readiness "
                        "violations\n",
                        strlen("plimsoll rejected Deployment shop/web: 1020 production-readiness "
                               "violations\n"));
    size_t shown = count_lines_starting(text, "- [resources] ");
    assert_true(shown > 10);
    char tail[200];
    snprintf(tail, sizeof(tail),
             "\n- ... and %zu more (run `plimsoll check` on the manifest for the full list)",
             (size_t)1020 - shown);
    assert_true(len > strlen(tail));
    assert_string_equal(text + len - strlen(tail), tail);
    fixture_finish(&f);
}

static void test_warnings_format(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, deployment);
    struct pl_container c = {.name = "web", .list = "containers", .index = 0};
    f.report.mode = PL_MODE_WARN;
    f.report.policy = "readiness-probe";
    pl_report_container(&f.report, &c, NULL,
                        "no readinessProbe; traffic arrives before the app is ready");
    f.report.policy = "required-labels";
    pl_report_add(&f.report, PL_SCOPE_POD_META, "labels", "missing label app");
    f.report.policy = "readiness-probe";
    struct pl_container c1 = {.name = "side", .list = "initContainers", .index = 1};
    pl_report_container(&f.report, &c1, NULL, "again");
    f.report.mode = PL_MODE_ENFORCE; /* enforce: not a warning */
    f.report.policy = "resources";
    pl_report_container(&f.report, &c, NULL, "not a warning");

    json_t *extra = json_pack("[s, i, s]", "plimsoll: note one", 5, "plimsoll: note two");
    json_t *w = pl_report_render_warnings(&f.report, BASE, extra);
    json_t *want = json_pack(
        "[s, s, s, s, s, s]", "plimsoll: note one", "plimsoll: note two",
        "[readiness-probe] containers[0] (web): no readinessProbe; traffic arrives before the "
        "app is ready",
        "[required-labels] metadata.labels: missing label app",
        "[readiness-probe] initContainers[1] (side): again",
        "Runbooks: " BASE "readiness-probe " BASE "required-labels");
    if (!json_equal(w, want)) {
        char *got = json_dumps(w, JSON_INDENT(1));
        fail_msg("warnings differ: %s", got);
    }
    json_decref(want);
    json_decref(w);
    json_decref(extra);
    fixture_finish(&f);
}

static void test_warnings_grandfathered(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, pod);
    f.report.policy = "liveness-probe";
    f.report.mode = PL_MODE_WARN;
    pl_report_add(&f.report, PL_SCOPE_POD_SPEC, "containers[0] (a)", "no livenessProbe");
    f.report.items[0].suppression = PL_SUPPRESS_GRANDFATHERED;
    json_t *w = pl_report_render_warnings(&f.report, BASE, NULL);
    assert_int_equal(json_array_size(w), 2);
    assert_string_equal(json_string_value(json_array_get(w, 0)),
                        "[liveness-probe] containers[0] (a): no livenessProbe (already there "
                        "before this update: allowed)");
    json_decref(w);
    fixture_finish(&f);
}

static void test_warning_item_bound(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, pod);
    f.report.policy = "p";
    f.report.mode = PL_MODE_WARN;
    char message[600];
    memset(message, 'w', sizeof(message) - 1);
    message[sizeof(message) - 1] = '\0';
    pl_report_add(&f.report, PL_SCOPE_OBJECT, "x", "%s", message);
    /* A long extra note of multi-byte characters is cut on a character boundary. */
    char note[601] = "";
    for (size_t i = 0; i < 200; i++) {
        memcpy(note + 3 * i, "\xe2\x82\xac", 3); /* U+20AC */
    }
    note[600] = '\0';
    json_t *extra = json_pack("[s]", note);
    json_t *w = pl_report_render_warnings(&f.report, BASE, extra);
    assert_int_equal(json_array_size(w), 3);
    const char *n0 = json_string_value(json_array_get(w, 0));
    const char *w1 = json_string_value(json_array_get(w, 1));
    assert_true(strlen(n0) <= PL_WARNING_MAX);
    assert_string_equal(n0 + strlen(n0) - 3, "...");
    assert_int_equal((strlen(n0) - 3) % 3, 0); /* whole euro signs only */
    assert_int_equal(strlen(w1), PL_WARNING_MAX);
    assert_memory_equal(w1, "[p] x: www", 10);
    assert_string_equal(w1 + PL_WARNING_MAX - 3, "...");
    json_decref(w);
    json_decref(extra);
    fixture_finish(&f);
}

static void test_warnings_total_bound(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, pod);
    f.report.mode = PL_MODE_WARN;
    const char *ids[] = {"config-mounted", "distinct-probes", "graceful-shutdown"};
    for (size_t i = 0; i < PL_REPORT_MAX_VIOLATIONS + 7; i++) {
        f.report.policy = ids[i % 3];
        struct pl_container c = {.name = "app", .list = "containers", .index = i};
        pl_report_container(&f.report, &c, NULL, "a warning message of some %s", "length");
    }
    json_t *w = pl_report_render_warnings(&f.report, BASE, NULL);
    size_t total = 0, shown = 0;
    size_t i;
    json_t *item;
    json_array_foreach(w, i, item)
    {
        size_t len = json_string_length(item);
        assert_true(len <= PL_WARNING_MAX);
        total += len;
        shown += json_string_value(item)[0] == '[';
    }
    assert_true(total <= PL_WARNINGS_MAX);
    assert_true(shown > 10);
    size_t n = json_array_size(w);
    char more[128];
    /* Dropped warn-mode violations are counted among the warnings left out. */
    snprintf(more, sizeof(more),
             "... and %zu more warnings (run `plimsoll check` for the full list)",
             (size_t)PL_REPORT_MAX_VIOLATIONS + 7 - shown);
    assert_string_equal(json_string_value(json_array_get(w, n - 2)), more);
    assert_string_equal(json_string_value(json_array_get(w, n - 1)),
                        "Runbooks: " BASE "config-mounted " BASE "distinct-probes " BASE
                        "graceful-shutdown");
    json_decref(w);
    fixture_finish(&f);
}

/*
 * Regression test, bug found by review (core/report.c, pl_report_render_warnings): the runbook line
 * is de-duplicated with strstr(), so a policy whose runbook URL is a prefix of an earlier policy's
 * URL is left out: with ids "probe-x" then "probe", only "Runbooks: <base>probe-x" is written. No
 * two ids of today's registry are prefixes of each other, so nothing visible breaks yet. Expected
 * "Runbooks: <base>probe-x <base>probe".
 */
static void test_runbook_dedup_prefix_ids(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, pod);
    f.report.mode = PL_MODE_WARN;
    f.report.policy = "probe-x";
    pl_report_add(&f.report, PL_SCOPE_OBJECT, "a", "m");
    f.report.policy = "probe";
    pl_report_add(&f.report, PL_SCOPE_OBJECT, "b", "m");
    json_t *w = pl_report_render_warnings(&f.report, BASE, NULL);
    assert_int_equal(json_array_size(w), 3);
    const char *runbooks = json_string_value(json_array_get(w, 2));
    assert_string_equal(runbooks, "Runbooks: " BASE "probe-x " BASE "probe");
    json_decref(w);
    fixture_finish(&f);
}

/* The runbook line never cuts a URL: links that do not fit are left out whole and
 * counted, and the line stays within PL_WARNING_MAX (so append_warning never cuts it). */
static void test_runbook_line_never_cuts_a_url(void **state)
{
    (void)state;
    static const char *const ids[] = {"liveness-probe",    "readiness-probe", "distinct-probes",
                                      "graceful-shutdown", "resources",       "replicas",
                                      "image-tag",         "image-registry",  "pod-security"};
    const size_t n_ids = sizeof(ids) / sizeof(ids[0]);
    static const char *const bases[] = {
        BASE, "https://wiki.example.com/platform/production-readiness/plimsoll/runbooks/"};
    for (size_t b = 0; b < 2; b++) {
        struct fixture f;
        fixture_init(&f, pod);
        f.report.mode = PL_MODE_WARN;
        for (size_t i = 0; i < n_ids; i++) {
            f.report.policy = ids[i];
            pl_report_add(&f.report, PL_SCOPE_OBJECT, "a", "m");
        }
        json_t *w = pl_report_render_warnings(&f.report, bases[b], NULL);
        const char *line = json_string_value(json_array_get(w, json_array_size(w) - 1));
        assert_true(strncmp(line, "Runbooks: ", 10) == 0);
        assert_true(strlen(line) <= PL_WARNING_MAX);
        assert_null(strstr(line, "..."));
        /* Every word after the prefix is a whole link, in report order, then the count. */
        char copy[PL_WARNING_MAX + 1];
        snprintf(copy, sizeof(copy), "%s", line + 10);
        char *more = strstr(copy, " (+");
        size_t dropped = 0;
        if (more) {
            assert_int_equal(sscanf(more, " (+%zu more: plimsoll policies)", &dropped), 1);
            *more = '\0';
        }
        size_t links = 0;
        for (char *save = NULL, *tok = strtok_r(copy, " ", &save); tok;
             tok = strtok_r(NULL, " ", &save)) {
            char want[256];
            snprintf(want, sizeof(want), "%s%s", bases[b], ids[links]);
            assert_string_equal(tok, want);
            links++;
        }
        assert_true(links >= 2);
        assert_int_equal(links + dropped, n_ids);
        /* The longer base leaves room for fewer links: some must have been dropped. */
        if (b == 1) {
            assert_true(dropped > 0);
        }
        json_decref(w);
        fixture_finish(&f);
    }
    /* A base so long that not one link fits: no runbook line at all, never a cut one. */
    char huge[PL_WARNING_MAX];
    memset(huge, 'x', sizeof(huge) - 1);
    huge[sizeof(huge) - 1] = '\0';
    struct fixture f;
    fixture_init(&f, pod);
    f.report.mode = PL_MODE_WARN;
    f.report.policy = "resources";
    pl_report_add(&f.report, PL_SCOPE_OBJECT, "a", "m");
    json_t *w = pl_report_render_warnings(&f.report, huge, NULL);
    assert_int_equal(json_array_size(w), 1);
    assert_null(strstr(json_string_value(json_array_get(w, 0)), "Runbooks"));
    json_decref(w);
    fixture_finish(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runbook_line_never_cuts_a_url),
        cmocka_unit_test(test_init),
        cmocka_unit_test(test_paths_by_scope),
        cmocka_unit_test(test_paths_per_kind),
        cmocka_unit_test(test_policy_and_mode_stamped),
        cmocka_unit_test(test_path_is_copied),
        cmocka_unit_test(test_container_paths),
        cmocka_unit_test(test_violation_cap),
        cmocka_unit_test(test_dropped_warnings_do_not_reject),
        cmocka_unit_test(test_quote),
        cmocka_unit_test(test_quote_utf8_cut),
        cmocka_unit_test(test_rejection_text_exact),
        cmocka_unit_test(test_rejection_singular_and_no_namespace),
        cmocka_unit_test(test_rejection_bound),
        cmocka_unit_test(test_warnings_format),
        cmocka_unit_test(test_warnings_grandfathered),
        cmocka_unit_test(test_warning_item_bound),
        cmocka_unit_test(test_warnings_total_bound),
        cmocka_unit_test(test_runbook_dedup_prefix_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
