/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of policies/inject_commit.c: how the default tag patterns read
 * the tags real pipelines write (branches with dashes, timestamps that are
 * also hex, semver and dates that are never commits), label-safe values,
 * parameter errors, patterns that backtrack without end (refused at load;
 * bounded per match and per review when they get past the probes), and the
 * source order and stale-value rule of the mutation.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "policies/inject_commit.c"
#include "test/helpers/fixture.h"
#include "test/helpers/policy_fixture.h"

struct tag_case {
    const char *tag;
    const char *commit; /* NULL: no commit */
    const char *branch; /* NULL: no branch */
};

static const struct tag_case tag_cases[] = {
    /* <sha>, 7 to 40 hex digits */
    {"3f2a9c1", "3f2a9c1", NULL},
    {"3f2a9c1e5b7d", "3f2a9c1e5b7d", NULL},
    {"3f2a9c1e5b7d4a6f8e9d0c1b2a3f4e5d6c7b8a9f", "3f2a9c1e5b7d4a6f8e9d0c1b2a3f4e5d6c7b8a9f", NULL},
    {"3f2a9c1e5b7d4a6f8e9d0c1b2a3f4e5d6c7b8a9f0", NULL, NULL}, /* 41 */
    {"3f2a9c", NULL, NULL},                                    /* 6 */
    {"deadbeef", "deadbeef", NULL},
    {"3f2a9c1-1700000000", "3f2a9c1", NULL},
    /* docker/metadata-action type=sha */
    {"sha-860c190", "860c190", NULL},
    {"sha-3f2a9c1e5b7d4a6f8e9d0c1b2a3f4e5d6c7b8a9f", "3f2a9c1e5b7d4a6f8e9d0c1b2a3f4e5d6c7b8a9f",
     NULL},
    /* <branch>-<sha> */
    {"main-3f2a9c1", "3f2a9c1", "main"},
    {"master-0a1b2c3d4e5f", "0a1b2c3d4e5f", "master"},
    {"feature-login-3f2a9c1", "3f2a9c1", "feature-login"},
    {"dependabot-npm_and_yarn-lodash-4.17.21-3f2a9c1", "3f2a9c1",
     "dependabot-npm_and_yarn-lodash-4.17.21"},
    {"JIRA-123_fix-3f2a9c1", "3f2a9c1", "JIRA-123_fix"},
    {"pr-42-3f2a9c1", "3f2a9c1", "pr-42"},
    {"release-1.25-3f2a9c1", "3f2a9c1", "release-1.25"},
    {"fix-cafe123-3f2a9c1", "3f2a9c1", "fix-cafe123"},
    {"feature-deadbeef-3f2a9c1", "3f2a9c1", "feature-deadbeef"},
    {"release-1700000000-3f2a9c1", "3f2a9c1", "release-1700000000"},
    {"abcdef0-abcdef1", "abcdef1", "abcdef0"},
    /* <branch>-<sha>-<unix timestamp>: the 10 digits are a timestamp, not the commit */
    {"main-3f2a9c1e5b7d-1700000000", "3f2a9c1e5b7d", "main"},
    {"main-3f2a9c1-1700000000", "3f2a9c1", "main"},
    {"feature-login-3f2a9c1-1700000000", "3f2a9c1", "feature-login"},
    {"feature-login-3f2a9c1e-1712345678", "3f2a9c1e", "feature-login"},
    {"main-3f2a9c1e5b7d-1700000000123", "3f2a9c1e5b7d", "main"}, /* milliseconds */
    {"fix-cafe123-1700000000", "cafe123", "fix"},
    {"main-1234abc-1700000000", "1234abc", "main"},
    /* <branch>-<sha>-<build number> (Jenkins), <slug>-<short sha> (GitLab) */
    {"main-3f2a9c1-42", "3f2a9c1", "main"},
    {"feature-login-a1b2c3d4-1234", "a1b2c3d4", "feature-login"},
    {"feature-login-a1b2c3d4", "a1b2c3d4", "feature-login"},
    {"3f2a9c1-7", "3f2a9c1", NULL},
    /* digits alone are a build number, a date or a timestamp: never a commit */
    {"1700000000", NULL, NULL},
    {"20240115", NULL, NULL},
    {"1234567", NULL, NULL},
    {"main-1700000000", NULL, NULL},
    {"main-1234567", NULL, NULL},
    {"build-20240115-1700000000", NULL, NULL},
    /* versions: never a commit, never a branch */
    {"1.25.3", NULL, NULL},
    {"v2.0.1", NULL, NULL},
    {"1.25", NULL, NULL},
    {"v1.2.3-rc.1", NULL, NULL},
    {"1.25.3-alpine", NULL, NULL},
    {"2.0.0-1234567", NULL, NULL},
    {"1.4.2-3f2a9c1", "3f2a9c1", NULL},
    {"v1.4-3f2a9c1-1700000000", "3f2a9c1", NULL},
    /* git describe */
    {"v1.2.3-4-g3f2a9c1", "3f2a9c1", NULL},
    {"v1.2.3-14-g3f2a9c1e5b7d-dirty", "3f2a9c1e5b7d", NULL},
    {"v1.2.3-4-g1234567", "1234567", NULL}, /* the g says it is a commit */
    /* other words */
    {"latest", NULL, NULL},
    {"main", NULL, NULL},
    {"stable-alpine", NULL, NULL},
    {"3F2A9C1", NULL, NULL}, /* git writes lowercase */
    {"main-3f2a9c1-dirty", NULL, NULL},
    {"main_3f2a9c1", NULL, NULL},
};

static struct params *default_params(void)
{
    return pl_test_params(&param_set, NULL);
}

static void test_default_patterns(void **state)
{
    (void)state;
    struct params *params = default_params();
    struct pl_pool pool;
    pl_pool_init(&pool);
    struct matcher m;
    matcher_init(&m, params, &pool);
    for (size_t i = 0; i < PL_ARRAY_SIZE(tag_cases); i++) {
        const struct tag_case *c = &tag_cases[i];
        struct tag_info info = {NULL, NULL};
        bool matched = match_tag(&m, c->tag, &info);
        const char *commit = matched ? info.commit : NULL;
        const char *branch = matched ? info.branch : NULL;
        if ((commit == NULL) != (c->commit == NULL) || (commit && strcmp(commit, c->commit)) ||
            (branch == NULL) != (c->branch == NULL) || (branch && strcmp(branch, c->branch))) {
            fail_msg("tag %s: got commit %s branch %s, expected commit %s branch %s", c->tag,
                     commit ? commit : "-", branch ? branch : "-", c->commit ? c->commit : "-",
                     c->branch ? c->branch : "-");
        }
    }
    pl_pool_finish(&pool);
    pl_params_free(&param_set, params);
}

static void test_label_safe(void **state)
{
    (void)state;
    struct pl_pool pool;
    pl_pool_init(&pool);
    assert_string_equal(label_safe(&pool, "main"), "main");
    assert_string_equal(label_safe(&pool, "feature/login"), "feature-login");
    assert_string_equal(label_safe(&pool, "release-1.25_x"), "release-1.25_x");
    assert_string_equal(label_safe(&pool, "-_.x.-_"), "x");
    assert_string_equal(label_safe(&pool, "a b:c"), "a-b-c");
    assert_string_equal(label_safe(&pool, "\xc3\xbc"
                                          "ber"),
                        "ber");
    assert_null(label_safe(&pool, "___"));
    assert_null(label_safe(&pool, ""));
    assert_null(label_safe(&pool, NULL));
    char long_value[200];
    memset(long_value, 'a', sizeof(long_value) - 1);
    long_value[sizeof(long_value) - 1] = '\0';
    assert_int_equal(strlen(label_safe(&pool, long_value)), 63);
    /* Cut at 63, then trimmed: the 63rd character is a dash. */
    char dashed[80];
    memset(dashed, 'b', sizeof(dashed) - 1);
    dashed[sizeof(dashed) - 1] = '\0';
    dashed[62] = '-';
    dashed[61] = '.';
    assert_int_equal(strlen(label_safe(&pool, dashed)), 61);
    pl_pool_finish(&pool);
}

static int parse(const char *yaml, void **ret, struct pl_error *err)
{
    json_t *json = pl_test_yaml(yaml);
    pl_error_init(err);
    int r = pl_params_parse(&param_set, json, NULL, ret, err);
    json_decref(json);
    return r;
}

static void test_params(void **state)
{
    (void)state;
    void *params = NULL;
    struct pl_error err;
    assert_int_equal(parse("{tag-patterns: ['^build-(?P<commit>[0-9a-f]{7})$']}", &params, &err),
                     0);
    struct pl_pool pool;
    pl_pool_init(&pool);
    struct matcher m;
    matcher_init(&m, params, &pool);
    struct tag_info info = {NULL, NULL};
    assert_true(match_tag(&m, "build-abc1234", &info));
    assert_string_equal(info.commit, "abc1234");
    assert_null(info.branch);
    assert_false(match_tag(&m, "main-abc1234", &info)); /* the defaults are replaced */
    pl_params_free(&param_set, params);

    params = NULL;
    assert_int_equal(parse("{tag-patterns: ['^(?P<branch>[a-z]+)$']}", &params, &err), 0);
    pl_params_free(&param_set, params);

    params = NULL;
    assert_int_equal(parse("{tag-patterns: ['^x$', '^([a-f]+$']}", &params, &err), -EINVAL);
    assert_string_equal(err.path, "tag-patterns[0]");
    assert_non_null(strstr(err.message, "named group"));
    assert_int_equal(parse("{tag-patterns: ['^(?P<commit>[a-f]+$']}", &params, &err), -EINVAL);
    assert_string_equal(err.path, "tag-patterns[0]");
    assert_non_null(strstr(err.message, "not a valid PCRE2 pattern"));
    assert_int_equal(parse("{tag-patterns: '^x$'}", &params, &err), -EINVAL);
    assert_string_equal(err.path, "tag-patterns");
    assert_int_equal(parse("{patterns: []}", &params, &err), -EINVAL);
    assert_string_equal(err.path, "patterns");
    pl_pool_finish(&pool);
}

/*
 * Regression test, issue 13 item 12: patterns that backtrack without end are
 * refused at load, with the path, a probe tag that shows it and a hint; the
 * defaults, the SPEC's example and ordinary custom patterns pass.
 */
static void test_catastrophic_pattern_is_refused_at_load(void **state)
{
    (void)state;
    const char *bad[] = {
        "{tag-patterns: ['^(?P<commit>(a+)+)$']}",
        "{tag-patterns: ['^(?P<commit>x)$', '^(?P<commit>(a|aa)+)$']}",
        "{tag-patterns: ['^(?P<branch>(\\w+\\d*)+)-(?P<commit>[0-9a-f]{7})$']}",
        "{tag-patterns: ['^(?P<commit>[a-z]*[a-z0-9]*[a-z]*[a-z0-9]*[a-z]*)-$']}",
        "{tag-patterns: ['^(?P<commit>([a-z0-9]|[0-9])+)$']}",
    };
    const char *paths[] = {"tag-patterns[0]", "tag-patterns[1]", "tag-patterns[0]",
                           "tag-patterns[0]", "tag-patterns[0]"};
    for (size_t i = 0; i < PL_ARRAY_SIZE(bad); i++) {
        void *params = NULL;
        struct pl_error err;
        pl_error_init(&err);
        if (parse(bad[i], &params, &err) != -EINVAL) {
            fail_msg("accepted: %s", bad[i]);
        }
        assert_null(params);
        assert_string_equal(err.path, paths[i]);
        if (!strstr(err.message, "backtracks too much: the 128-character tag") ||
            !strstr(err.message, "more than 10000 matching steps")) {
            fail_msg("%s: %s", bad[i], err.message);
        }
    }
    const char *good[] = {
        NULL,
        "{tag-patterns: ['^(?P<branch>[a-z0-9._-]+?)-(?P<commit>[0-9a-f]{7,40})(-[0-9]{10,})?$']}",
        "{tag-patterns: ['^(?P<branch>[a-z]+)\\.(?P<commit>[0-9a-f]{7})$']}",
        "{tag-patterns: ['^build-(?P<commit>[0-9a-f]{7,40})$', '(?P<commit>[0-9a-f]{40})']}",
    };
    for (size_t i = 0; i < PL_ARRAY_SIZE(good); i++) {
        void *params = NULL;
        struct pl_error err;
        pl_error_init(&err);
        int r = good[i] ? parse(good[i], &params, &err)
                        : pl_params_parse(&param_set, NULL, NULL, &params, &err);
        if (r != 0) {
            fail_msg("refused %s: %s", good[i] ? good[i] : "the defaults", err.message);
        }
        pl_params_free(&param_set, params);
    }
}

/* Params from patterns without the load-time probe: what a pattern the probes miss would do. */
static struct params *unprobed(const char *const *patterns, size_t n)
{
    struct params *params = pl_xcalloc(1, sizeof(*params));
    params->texts.items = pl_xcalloc(n, sizeof(*params->texts.items));
    for (size_t i = 0; i < n; i++) {
        params->texts.items[i] = pl_xstrdup(patterns[i]);
    }
    params->texts.len = n;
    struct pl_error err;
    pl_error_init(&err);
    assert_int_equal(compile_all(params, false, &err), 0);
    return params;
}

/* One match of a catastrophic pattern stops at the match limit. */
static void test_catastrophic_match_is_bounded(void **state)
{
    (void)state;
    const char *pattern = "^(?P<commit>(a+)+)$";
    struct params *params = unprobed(&pattern, 1);
    struct pl_pool pool;
    pl_pool_init(&pool);
    struct matcher m;
    matcher_init(&m, params, &pool);
    char tag[129];
    memset(tag, 'a', 127);
    tag[127] = 'b';
    tag[128] = '\0';
    struct tag_info info = {NULL, NULL};
    assert_false(match_tag(&m, tag, &info));
    assert_int_equal(m.attempts, PL_ARRAY_SIZE(ESCALATION)); /* every limit tried once */
    assert_int_equal(m.budget, REVIEW_BUDGET - 111000u);
    assert_false(m.spent);
    pl_pool_finish(&pool);
    pl_params_free(&param_set, params);
}

/*
 * Regression test, issue 13 item 12: 32 `(a+)+` patterns (past the load-time
 * probe) and a Pod with 256 images tagged a{60}- made one /mutate take 19 s:
 * 8192 matches each up to the match limit. The review's budget stops after a
 * bounded number of attempts, whatever the patterns and images, and says so
 * in a note; no label is invented.
 */
static void test_review_budget_stops_matching(void **state)
{
    (void)state;
    const char *patterns[PATTERNS_MAX];
    for (size_t i = 0; i < PATTERNS_MAX; i++) {
        patterns[i] = "^(?P<commit>(a+)+)$";
    }
    struct params *params = unprobed(patterns, PATTERNS_MAX);
    struct pl_buf b;
    pl_buf_init(&b, 1u << 20);
    assert_int_equal(pl_buf_puts(&b, "{kind: Pod, apiVersion: v1, metadata: {name: p}, "
                                     "spec: {containers: ["),
                     0);
    for (int i = 0; i < IMAGES_MAX; i++) {
        assert_int_equal(
            pl_buf_printf(&b, "%s{name: c%d, image: 'r.example/x:%s'}", i ? ", " : "", i,
                          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-"),
            0);
    }
    assert_int_equal(pl_buf_puts(&b, "]}}"), 0);
    json_t *object = pl_test_yaml(pl_buf_str(&b));
    pl_buf_finish(&b);
    struct pl_pool pool;
    pl_pool_init(&pool);
    struct pl_patch patch;
    pl_patch_init(&patch, object, 0);
    struct pl_object obj;
    assert_int_equal(pl_object_init(&obj, patch.doc, NULL), 0);
    json_t *notes = json_array();
    struct pl_mutate_ctx ctx = {
        .obj = &obj,
        .params = params,
        .pool = &pool,
        .namespace_ = "shop",
        .spec_mutable = true,
        .notes = notes,
    };
    struct matcher m;
    matcher_init(&m, params, &pool);
    struct tag_info info = scan_images(&m, obj.pod_spec);
    assert_null(info.commit);
    assert_true(m.spent);
    /* Without the budget: 256 images x 32 patterns x 3 limits = 24576 attempts. */
    size_t bound = REVIEW_BUDGET / (ESCALATION[0] + ESCALATION[1] + ESCALATION[2]) * 3 + 3;
    if (m.attempts > bound) {
        fail_msg("%zu pcre2_match calls in one review (bound %zu)", m.attempts, bound);
    }
    assert_int_equal(mutate(&ctx, &patch), 0);
    assert_int_equal(json_array_size(notes), 1);
    const char *note = json_string_value(json_array_get(notes, 0));
    assert_non_null(strstr(note, "match budget for one review is spent"));
    assert_true(strlen(note) < 120);
    json_t *ops = pl_patch_take_ops(&patch);
    assert_int_equal(json_array_size(ops), 0);
    json_decref(ops);
    json_decref(notes);
    pl_patch_finish(&patch);
    pl_pool_finish(&pool);
    pl_params_free(&param_set, params);
    json_decref(object);
}

/* Ordinary tags with the defaults stay far inside the budget: one attempt per pattern tried. */
static void test_ordinary_tags_are_cheap(void **state)
{
    (void)state;
    struct params *params = default_params();
    struct pl_pool pool;
    pl_pool_init(&pool);
    struct matcher m;
    matcher_init(&m, params, &pool);
    struct tag_info info = {NULL, NULL};
    for (size_t i = 0; i < PL_ARRAY_SIZE(tag_cases); i++) {
        size_t before = m.attempts;
        (void)match_tag(&m, tag_cases[i].tag, &info);
        if (m.attempts - before > params->len) {
            fail_msg("%s: %zu attempts for %zu patterns", tag_cases[i].tag, m.attempts - before,
                     params->len);
        }
    }
    assert_false(m.spent);
    pl_pool_finish(&pool);
    pl_params_free(&param_set, params);
}

/* Runs the mutation on yaml (and old_yaml on UPDATE) with default params; returns the ops. */
static json_t *run(const char *yaml, const char *old_yaml)
{
    return pl_test_run_mutation(&pl_mutation_inject_commit, NULL, yaml, old_yaml, true, NULL);
}

/* The value the ops give to path, or NULL. */
static const char *op_value(const json_t *ops, const char *path)
{
    size_t i;
    const json_t *op;
    json_array_foreach(ops, i, op)
    {
        if (strcmp(pl_json_string(op, "path"), path) == 0) {
            return pl_json_string(op, "value");
        }
    }
    return NULL;
}

#define LABEL_COMMIT      "/metadata/labels/plimsoll.dev~1commit"
#define LABEL_BRANCH      "/metadata/labels/plimsoll.dev~1branch"
#define ANNOTATION_COMMIT "/metadata/annotations/plimsoll.dev~1commit"
#define ANNOTATION_BRANCH "/metadata/annotations/plimsoll.dev~1branch"

static void test_sources(void **state)
{
    (void)state;
    /* The annotation wins over the tag; the branch still comes from the tag. */
    json_t *ops = run("{kind: Pod, metadata: {annotations: {plimsoll.dev/commit: 'v1/abc'}}, "
                      "spec: {containers: [{name: a, image: 'r/app:main-3f2a9c1'}]}}",
                      NULL);
    assert_string_equal(op_value(ops, LABEL_COMMIT), "v1-abc");
    assert_null(op_value(ops, ANNOTATION_COMMIT)); /* present */
    assert_string_equal(op_value(ops, LABEL_BRANCH), "main");
    assert_string_equal(op_value(ops, ANNOTATION_BRANCH), "main");
    json_decref(ops);
    /* A label is a source for the annotation; an empty annotation is set but not a source. */
    ops = run("{kind: Pod, metadata: {labels: {plimsoll.dev/commit: abc1234}, "
              "annotations: {plimsoll.dev/branch: ''}}, spec: {containers: [{name: a, "
              "image: 'r/app:feature-x-3f2a9c1'}]}}",
              NULL);
    assert_null(op_value(ops, LABEL_COMMIT));
    assert_string_equal(op_value(ops, ANNOTATION_COMMIT), "abc1234");
    assert_string_equal(op_value(ops, LABEL_BRANCH), "feature-x");
    assert_null(op_value(ops, ANNOTATION_BRANCH));
    json_decref(ops);
    /* The first matching image, containers before init containers, digest-only skipped. */
    ops = run(
        "{kind: Pod, metadata: {}, spec: {initContainers: [{name: i, image: 'r/m:dev-1111aaa'}],"
        " containers: [{name: a, image: 'r/a@sha256:"
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'}, "
        "{name: b, image: 'r/b:1.25.3'}, {name: c, image: 'r/c:main-2222bbb'}]}}",
        NULL);
    assert_string_equal(op_value(ops, LABEL_COMMIT), "2222bbb");
    assert_string_equal(op_value(ops, LABEL_BRANCH), "main");
    json_decref(ops);
    /* Nothing to read: nothing added. */
    ops = run("{kind: Pod, metadata: {}, spec: {containers: [{name: a, image: 'nginx:1.25.3'}]}}",
              NULL);
    assert_int_equal(json_array_size(ops), 0);
    json_decref(ops);
}

static void test_workload_sources(void **state)
{
    (void)state;
    json_t *ops =
        run("{kind: Deployment, metadata: {name: web, annotations: "
            "{plimsoll.dev/commit: 4444ddd, plimsoll.dev/branch: release/2.0}}, "
            "spec: {template: {spec: {containers: [{name: a, image: 'r/a:main-3f2a9c1'}]}}}}",
            NULL);
    assert_string_equal(op_value(ops, "/spec/template/metadata/labels/plimsoll.dev~1commit"),
                        "4444ddd");
    assert_string_equal(op_value(ops, "/spec/template/metadata/labels/plimsoll.dev~1branch"),
                        "release-2.0");
    assert_string_equal(op_value(ops, "/spec/template/metadata/annotations/plimsoll.dev~1branch"),
                        "release/2.0");
    json_decref(ops);
}

#define STALE_OLD                                                                                  \
    "{kind: Deployment, metadata: {name: web}, spec: {template: {metadata: {labels: "              \
    "{plimsoll.dev/commit: 1111aaa, plimsoll.dev/branch: main}, annotations: "                     \
    "{plimsoll.dev/commit: 1111aaa, plimsoll.dev/branch: main}}, spec: {containers: "              \
    "[{name: a, image: 'r/a:main-1111aaa'}]}}}}"

static void test_stale_values_on_update(void **state)
{
    (void)state;
    /* The image moved on and the stamped values did not: they are replaced. */
    json_t *ops = run("{kind: Deployment, metadata: {name: web}, spec: {template: {metadata: "
                      "{labels: {plimsoll.dev/commit: 1111aaa, plimsoll.dev/branch: main}, "
                      "annotations: {plimsoll.dev/commit: 1111aaa, plimsoll.dev/branch: main}}, "
                      "spec: {containers: [{name: a, image: 'r/a:main-2222bbb'}]}}}}",
                      STALE_OLD);
    assert_int_equal(json_array_size(ops), 2);
    assert_string_equal(pl_json_string(json_array_get(ops, 0), "op"), "replace");
    assert_string_equal(op_value(ops, "/spec/template/metadata/labels/plimsoll.dev~1commit"),
                        "2222bbb");
    assert_string_equal(op_value(ops, "/spec/template/metadata/annotations/plimsoll.dev~1commit"),
                        "2222bbb");
    json_decref(ops);
    /* The request itself changed the annotation: the user's value stays, the label follows it. */
    ops = run("{kind: Deployment, metadata: {name: web}, spec: {template: {metadata: "
              "{labels: {plimsoll.dev/commit: 1111aaa, plimsoll.dev/branch: main}, "
              "annotations: {plimsoll.dev/commit: 9999fff, plimsoll.dev/branch: main}}, "
              "spec: {containers: [{name: a, image: 'r/a:main-2222bbb'}]}}}}",
              STALE_OLD);
    assert_int_equal(json_array_size(ops), 1);
    assert_string_equal(op_value(ops, "/spec/template/metadata/labels/plimsoll.dev~1commit"),
                        "9999fff");
    json_decref(ops);
    /* Same image: nothing is stale. */
    ops = run(STALE_OLD, STALE_OLD);
    assert_int_equal(json_array_size(ops), 0);
    json_decref(ops);
    /* The new image has no readable tag: the old values stay. */
    ops = run("{kind: Deployment, metadata: {name: web}, spec: {template: {metadata: "
              "{labels: {plimsoll.dev/commit: 1111aaa, plimsoll.dev/branch: main}, "
              "annotations: {plimsoll.dev/commit: 1111aaa, plimsoll.dev/branch: main}}, "
              "spec: {containers: [{name: a, image: 'r/a:1.2.3'}]}}}}",
              STALE_OLD);
    assert_int_equal(json_array_size(ops), 0);
    json_decref(ops);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_patterns),
        cmocka_unit_test(test_label_safe),
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_catastrophic_pattern_is_refused_at_load),
        cmocka_unit_test(test_catastrophic_match_is_bounded),
        cmocka_unit_test(test_review_budget_stops_matching),
        cmocka_unit_test(test_ordinary_tags_are_cheap),
        cmocka_unit_test(test_sources),
        cmocka_unit_test(test_workload_sources),
        cmocka_unit_test(test_stale_values_on_update),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
