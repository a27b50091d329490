/* SPDX-License-Identifier: Apache-2.0 */
/*
 * inject-commit: stamps the pod (template) with the commit and branch it was
 * built from, as labels plimsoll.dev/commit and plimsoll.dev/branch
 * (label-safe: at most 63 characters of [A-Za-z0-9._-], alphanumeric at both
 * ends) and as annotations of the same names with the exact values.
 *
 * Sources, first found wins, for each of the two keys on its own:
 *   1. the pod (template) annotation plimsoll.dev/<key>;
 *   2. for a workload, the workload's own annotation plimsoll.dev/<key>;
 *   3. the pod (template) label, then the workload's label, of that name;
 *   4. the first image (containers, then init containers) whose tag matches
 *      one of tag-patterns (PCRE2, named groups `commit` and `branch`).
 *
 * The default patterns read the tags pipelines write, the way a person reads
 * them: `<sha>` (7-40 lowercase hex), `sha-<sha>`, `<branch>-<sha>` and
 * `<branch>-<sha>-<unix timestamp or build number>` (the branch may contain
 * dashes),
 * `<version>-<sha>` (no branch), and git describe's
 * `<tag>-<n>-g<sha>[-dirty]`. A commit must contain a letter a-f: a run of
 * digits is a build number, a date or a timestamp to a person, so
 * `main-3f2a9c1e5b7d-1700000000` is branch main, commit 3f2a9c1e5b7d, and
 * neither `20240115` nor `main-1700000000` yields a commit. Semver tags
 * (`1.25.3`, `v2.0.1`) never match.
 *
 * A value that is there is never replaced (an empty string counts as set),
 * with one exception on UPDATE: a label or annotation that still holds what
 * the old object's image tag said, unchanged by this request, while the new
 * image tag says otherwise, was stamped by this mutation from the old image
 * and is replaced, so that `kubectl set image` does not leave a stale commit.
 *
 * Matching is bounded (operators write the patterns, anyone who may create a
 * Pod writes the tags). At load, each pattern (at most PATTERNS_MAX, each at
 * most PATTERN_MAX bytes) is JIT-compiled where PCRE2 can, and tried against
 * probe tags built to make backtracking patterns blow up (long runs of one
 * or two tag characters, then a character that fails the match); a pattern
 * that needs more than PROBE_LIMIT steps on any probe is refused. At review
 * time every match runs with a match limit, first small and raised only when
 * hit (ESCALATION), and each attempt is charged its whole limit against one
 * budget per review (REVIEW_BUDGET); when the budget is spent, no more tags
 * are read and the mutation leaves a note for the response's warnings.
 * Runbook: docs/policies/inject-commit.md
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include "policies/inject_commit.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pcre2.h>

#include "core/alloc.h"
#include "core/json.h"
#include "core/keys.h"
#include "policies/image.h"

/* Longest label value (Kubernetes). */
#define LABEL_MAX 63
/* Longest annotation or label value read as a source; longer ones are ignored. */
#define SOURCE_MAX 256
/* Bounds on the configured patterns. */
#define PATTERNS_MAX 32
#define PATTERN_MAX  1024
/* Bounds on one match, against patterns that backtrack without end (the
 * depth and heap limits bind the interpreter; JIT code uses its own stack). */
#define MATCH_LIMIT    100000u
#define DEPTH_LIMIT    10000u
#define HEAP_LIMIT_KIB 1024u
/* Match limits tried in turn: a tag that needs more than one is matched again with the next. */
static const uint32_t ESCALATION[] = {1000u, 10000u, MATCH_LIMIT};
/* Match steps one review may spend (each attempt charged its whole limit):
 * about 5 ms with JIT, 50 ms without; 4000 ordinary matches, or 36 that hit MATCH_LIMIT. */
#define REVIEW_BUDGET 4000000u
/* A pattern that needs more than this on a probe tag is refused at load. */
#define PROBE_LIMIT 10000u
/* Most images looked at. */
#define IMAGES_MAX 256

/* A commit: 7-40 lowercase hex digits, at least one of them a letter. */
#define HEX_COMMIT "(?=[0-9]*[a-f])[0-9a-f]{7,40}"
/* An optional suffix of digits: a unix timestamp (seconds or milliseconds) or a build number. */
#define SUFFIX "(?:-[0-9]{1,13})?"

static const char *const default_patterns[] = {
    /* <sha>, sha-<sha> (docker/metadata-action), each with an optional timestamp */
    "^(?:sha-)?(?P<commit>" HEX_COMMIT ")" SUFFIX "$",
    /* git describe: v1.2.3-4-g3f2a9c1, optionally -dirty */
    "^[A-Za-z0-9_][A-Za-z0-9_.-]*-[0-9]+-g(?P<commit>[0-9a-f]{7,40})(?:-dirty)?$",
    /* <version>-<sha>[-<digits>]: a version is not a branch */
    "^v?[0-9]+(?:\\.[0-9]+){1,3}-(?P<commit>" HEX_COMMIT ")" SUFFIX "$",
    /* <branch>-<sha>[-<digits>]: the shortest branch that leaves a commit */
    "^(?P<branch>[A-Za-z0-9_][A-Za-z0-9_.-]*?)-(?P<commit>" HEX_COMMIT ")" SUFFIX "$",
    NULL,
};

struct pattern {
    pcre2_code *code;
    int commit_group; /* capture group number, 0 when the pattern has none */
    int branch_group;
};

struct params {
    struct pl_strlist texts; /* tag-patterns, as configured */
    struct pattern *items;   /* tag-patterns, compiled */
    size_t len;
    uint32_t max_pairs; /* ovector pairs the largest pattern needs */
};

/* Releases the compiled patterns (compile_all's work). */
static void finish(void *p)
{
    struct params *params = p;
    for (size_t i = 0; i < params->len; i++) {
        pcre2_code_free(params->items[i].code);
    }
    free(params->items);
    params->items = NULL;
    params->len = 0;
}

/* Number of the named group, 0 when absent. */
static int group_number(const pcre2_code *code, const char *name)
{
    int n = pcre2_substring_number_from_name(code, (PCRE2_SPTR)name);
    return n > 0 ? n : 0;
}

static int compile(const char *text, size_t index, struct pattern *ret, uint32_t *max_pairs,
                   struct pl_error *err)
{
    char path[64];
    snprintf(path, sizeof(path), "tag-patterns[%zu]", index);
    if (strnlen(text, PATTERN_MAX + 1) > PATTERN_MAX) {
        return pl_error_set(err, path, 0, "is longer than %d characters", PATTERN_MAX);
    }
    int code = 0;
    PCRE2_SIZE offset = 0;
    pcre2_code *re =
        pcre2_compile((PCRE2_SPTR)text, PCRE2_ZERO_TERMINATED, 0, &code, &offset, NULL);
    if (!re) {
        PCRE2_UCHAR msg[256];
        if (pcre2_get_error_message(code, msg, sizeof(msg)) < 0) {
            msg[0] = '\0';
        }
        return pl_error_set(err, path, 0, "is not a valid PCRE2 pattern (at offset %zu): %s",
                            (size_t)offset, (const char *)msg);
    }
    /* JIT where the platform has it (about ten times faster); the interpreter otherwise. */
    (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    ret->code = re;
    ret->commit_group = group_number(re, "commit");
    ret->branch_group = group_number(re, "branch");
    if (!ret->commit_group && !ret->branch_group) {
        pcre2_code_free(re);
        ret->code = NULL;
        return pl_error_set(err, path, 0,
                            "has no named group: capture with (?P<commit>...) and (?P<branch>...)");
    }
    uint32_t captures = 0;
    if (pcre2_pattern_info(re, PCRE2_INFO_CAPTURECOUNT, &captures) == 0 &&
        captures + 1 > *max_pairs) {
        *max_pairs = captures + 1;
    }
    return 0;
}

/* Tag characters of each kind that patterns treat differently. */
static const char probe_chars[] = "a0A_.-fgz9";
/* What follows a probe's run: end of tag, a separator, a letter, a digit, a
 * character no tag holds (so that no pattern can accept it), and one of those
 * before it (a pattern that wants its run closed by "-" then fails at "!"). */
static const char *const probe_ends[] = {"", "-", ".", "a", "0", "!", "-!", ".!", "a!", "0!", NULL};

static bool tag_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

/*
 * The units probes repeat: each of probe_chars, each tag character written
 * in the pattern (its literals), and each pair of probe_chars. ret holds up
 * to 256 units of at most 2 characters; returns how many.
 */
static size_t probe_units(const char *pattern, char ret[][3])
{
    size_t n = 0;
    bool seen[256] = {false};
    for (const char *c = probe_chars; *c; c++) {
        seen[(unsigned char)*c] = true;
        ret[n][0] = *c;
        ret[n++][1] = '\0';
    }
    for (const char *c = pattern; *c; c++) {
        if (tag_char(*c) && !seen[(unsigned char)*c]) {
            seen[(unsigned char)*c] = true;
            ret[n][0] = *c;
            ret[n++][1] = '\0';
        }
    }
    for (const char *a = probe_chars; *a; a++) {
        for (const char *b = probe_chars; *b; b++) {
            if (*a != *b) {
                ret[n][0] = *a;
                ret[n][1] = *b;
                ret[n++][2] = '\0';
            }
        }
    }
    return n;
}

/* Writes unit repeated over PL_IMAGE_TAG_MAX - strlen(end) characters, then end, into tag. */
static void probe_tag(const char *unit, const char *end, char tag[PL_IMAGE_TAG_MAX + 1])
{
    size_t unit_len = strlen(unit);
    size_t run = PL_IMAGE_TAG_MAX - strlen(end);
    for (size_t i = 0; i < run; i++) {
        tag[i] = unit[i % unit_len];
    }
    memcpy(tag + run, end, strlen(end) + 1);
}

/*
 * Tries p against every probe tag with a match limit of PROBE_LIMIT; refuses
 * it (with one offending probe in the message) when any probe hits a limit.
 */
static int probe(const struct pattern *p, const char *text, size_t index, pcre2_match_data *md,
                 pcre2_match_context *mctx, struct pl_error *err)
{
    char units[256][3];
    size_t n_units = probe_units(text, units);
    char tag[PL_IMAGE_TAG_MAX + 1];
    for (size_t u = 0; u < n_units; u++) {
        for (size_t e = 0; probe_ends[e]; e++) {
            probe_tag(units[u], probe_ends[e], tag);
            int rc = pcre2_match(p->code, (PCRE2_SPTR)tag, strlen(tag), 0, 0, md, mctx);
            if (rc >= 0 || rc == PCRE2_ERROR_NOMATCH) {
                continue;
            }
            char path[64];
            snprintf(path, sizeof(path), "tag-patterns[%zu]", index);
            return pl_error_set(err, path, 0,
                                "backtracks too much: the %zu-character tag \"%.12s...%s\" needs "
                                "more than %u matching steps; avoid nested or adjacent "
                                "quantifiers over the same characters, such as (a+)+ or a*a*",
                                strlen(tag), tag, probe_ends[e], PROBE_LIMIT);
        }
    }
    return 0;
}

/* Probes every pattern of params (see probe()). */
static int probe_all(const struct params *params, const struct pl_strlist *list,
                     struct pl_error *err)
{
    pcre2_match_context *mctx = pcre2_match_context_create(NULL);
    pcre2_match_data *md = pcre2_match_data_create(params->max_pairs, NULL);
    if (!mctx || !md) {
        pl_oom();
    }
    pcre2_set_match_limit(mctx, PROBE_LIMIT);
    pcre2_set_depth_limit(mctx, DEPTH_LIMIT);
    pcre2_set_heap_limit(mctx, HEAP_LIMIT_KIB);
    int r = 0;
    for (size_t i = 0; i < params->len && r == 0; i++) {
        r = probe(&params->items[i], list->items[i], i, md, mctx, err);
    }
    pcre2_match_data_free(md);
    pcre2_match_context_free(mctx);
    return r;
}

/* Compiles params->texts into params->items (probing them when asked). */
static int compile_all(struct params *params, bool probed, struct pl_error *err)
{
    const struct pl_strlist *list = &params->texts;
    params->max_pairs = 1;
    params->items = pl_xcalloc(list->len ? list->len : 1, sizeof(*params->items));
    for (size_t i = 0; i < list->len; i++) {
        int r = compile(list->items[i], i, &params->items[i], &params->max_pairs, err);
        if (r < 0) {
            return r;
        }
        params->len++;
    }
    return probed ? probe_all(params, list, err) : 0;
}

static int prepare(void *p, struct pl_error *err)
{
    return compile_all(p, true, err);
}

static const struct pl_param param_table[] = {
    {.name = "tag-patterns",
     .type = PL_PARAM_STRLIST,
     .offset = offsetof(struct params, texts),
     .def_list = default_patterns,
     .max = PATTERNS_MAX,
     .summary = "PCRE2 patterns tried in order on each image tag; named groups commit and "
                "branch; anchor with ^$"},
    {0},
};

static const struct pl_param_set param_set = {sizeof(struct params), param_table, prepare, finish};

/* PCRE2 allocates from the request pool; the pool frees everything at once. */
static void *pool_malloc(PCRE2_SIZE size, void *data)
{
    return pl_pool_alloc(data, size ? size : 1);
}

static void pool_free(void *ptr, void *data)
{
    (void)ptr;
    (void)data;
}

/* What one image tag says; NULL members are unknown. Pool strings. */
struct tag_info {
    const char *commit;
    const char *branch;
};

struct matcher {
    const struct params *params;
    struct pl_pool *pool;
    pcre2_match_context *mctx;
    pcre2_match_data *md;
    uint32_t budget; /* match steps left for this review */
    size_t attempts; /* pcre2_match() calls made */
    bool spent;      /* the budget ran out: tags were left unread */
};

static void matcher_init(struct matcher *m, const struct params *params, struct pl_pool *pool)
{
    pcre2_general_context *gctx = pcre2_general_context_create(pool_malloc, pool_free, pool);
    m->params = params;
    m->pool = pool;
    m->budget = REVIEW_BUDGET;
    m->attempts = 0;
    m->spent = false;
    m->mctx = pcre2_match_context_create(gctx);
    m->md = pcre2_match_data_create(params->max_pairs, gctx);
    if (!gctx || !m->mctx || !m->md) {
        pl_oom();
    }
    pcre2_set_match_limit(m->mctx, MATCH_LIMIT);
    pcre2_set_depth_limit(m->mctx, DEPTH_LIMIT);
    pcre2_set_heap_limit(m->mctx, HEAP_LIMIT_KIB);
}

/* Group n of the last match as a pool string, NULL when unset or empty. */
static const char *group(const struct matcher *m, const char *subject, int rc, int n)
{
    if (n <= 0 || n >= rc) {
        return NULL;
    }
    const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(m->md);
    if (ov[2 * n] == PCRE2_UNSET || ov[2 * n + 1] <= ov[2 * n]) {
        return NULL;
    }
    return pl_pool_strndup(m->pool, subject + ov[2 * n], ov[2 * n + 1] - ov[2 * n]);
}

/*
 * pcre2_match() under the review's budget: limits from ESCALATION in turn,
 * each attempt charged its whole limit (an upper bound of the steps it took,
 * whatever its result). Sets m->spent and gives up when the budget cannot
 * pay for the next attempt; a limit hit at MATCH_LIMIT is a failed match.
 */
static int budgeted_match(struct matcher *m, const pcre2_code *code, const char *tag)
{
    int rc = PCRE2_ERROR_MATCHLIMIT;
    for (size_t i = 0; i < PL_ARRAY_SIZE(ESCALATION) && rc == PCRE2_ERROR_MATCHLIMIT; i++) {
        if (m->budget < ESCALATION[i]) {
            m->spent = true;
            return PCRE2_ERROR_MATCHLIMIT;
        }
        m->budget -= ESCALATION[i];
        m->attempts++;
        pcre2_set_match_limit(m->mctx, ESCALATION[i]);
        rc = pcre2_match(code, (PCRE2_SPTR)tag, strlen(tag), 0, 0, m->md, m->mctx);
    }
    return rc;
}

/* Matches tag against the patterns in order; true with *ret filled on the first match. */
static bool match_tag(struct matcher *m, const char *tag, struct tag_info *ret)
{
    for (size_t i = 0; i < m->params->len && !m->spent; i++) {
        const struct pattern *p = &m->params->items[i];
        int rc = budgeted_match(m, p->code, tag);
        if (rc <= 0) {
            continue; /* no match, or a match, depth or heap limit hit */
        }
        ret->commit = group(m, tag, rc, p->commit_group);
        ret->branch = group(m, tag, rc, p->branch_group);
        if (ret->commit || ret->branch) {
            return true;
        }
    }
    return false;
}

/* The first image of spec whose tag matches (containers, then init containers). */
static struct tag_info scan_images(struct matcher *m, const json_t *spec)
{
    struct tag_info info = {NULL, NULL};
    struct pl_container_iter it;
    struct pl_container c;
    struct pl_image image;
    size_t seen = 0;
    pl_container_iter_init(&it, spec, PL_CTR_REGULAR | PL_CTR_INIT | PL_CTR_SIDECAR);
    while (!m->spent && seen++ < IMAGES_MAX && pl_container_iter_next(&it, &c)) {
        const char *ref = pl_json_string(c.json, "image");
        struct pl_error err;
        pl_error_init(&err);
        if (!ref || pl_image_parse(ref, &image, &err) < 0 || !image.tag[0]) {
            continue;
        }
        if (match_tag(m, image.tag, &info)) {
            break;
        }
    }
    return info;
}

static bool label_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

static bool alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/*
 * value made label-safe: other characters become '-', then non-alphanumeric
 * characters are trimmed from the start, the rest cut to 63 characters and
 * trimmed at the end. NULL when nothing is left. Pool memory.
 */
static const char *label_safe(struct pl_pool *pool, const char *value)
{
    if (!value) {
        return NULL;
    }
    while (*value && !alnum(*value)) {
        value++;
    }
    size_t n = strnlen(value, LABEL_MAX);
    char *s = pl_pool_strndup(pool, value, n);
    for (size_t i = 0; i < n; i++) {
        if (!label_char(s[i])) {
            s[i] = '-';
        }
    }
    while (n > 0 && !alnum(s[n - 1])) {
        s[--n] = '\0';
    }
    return n ? s : NULL;
}

/* map[key] as a source: a non-empty string of at most SOURCE_MAX bytes. */
static const char *source_value(const json_t *meta, const char *map, const char *key)
{
    const char *v = pl_json_string(pl_json_object(meta, map), key);
    if (!v || !*v || strnlen(v, SOURCE_MAX + 1) > SOURCE_MAX) {
        return NULL;
    }
    return v;
}

/*
 * Whether pod metadata map[key] holds what this mutation stamped from the old
 * image: unchanged since the old object, equal to the old tag's reading, while
 * the new tag reads differently.
 */
static bool is_stale(const struct pl_mutate_ctx *ctx, const char *map, const char *key,
                     const char *old_tag, const char *new_tag, bool label)
{
    if (!ctx->old_obj || !old_tag || !new_tag || strcmp(old_tag, new_tag) == 0) {
        return false;
    }
    const char *cur = pl_json_string(pl_json_object(ctx->obj->pod_meta, map), key);
    const char *old = pl_json_string(pl_json_object(ctx->old_obj->pod_meta, map), key);
    const char *expect = label ? label_safe(ctx->pool, old_tag) : old_tag;
    return cur && old && expect && strcmp(cur, old) == 0 && strcmp(cur, expect) == 0;
}

/* Adds (or, when stale, replaces) pod metadata map[key] = value. */
static int put(const struct pl_mutate_ctx *ctx, struct pl_patch *patch, const char *map,
               const char *key, const char *value, bool stale)
{
    if (!value) {
        return 0;
    }
    json_t *v = json_string(value);
    if (!v) {
        return 0; /* not UTF-8: nothing sensible to write */
    }
    struct pl_pointer ptr;
    pl_pointer_init(&ptr, ctx->obj->pod_meta_path);
    pl_pointer_push(&ptr, map);
    pl_pointer_push(&ptr, key);
    int r = stale ? pl_patch_replace(patch, &ptr, v) : pl_patch_add(patch, &ptr, v);
    return r < 0 ? r : 0;
}

/* One key's value and whether its pod label and annotation are stale (see is_stale). */
struct resolved {
    const char *key;
    const char *value; /* exact value, or NULL when no source has one */
    bool label_stale;
    bool annotation_stale;
};

/* Resolves one key (commit or branch) from the sources in order. */
static struct resolved resolve(const struct pl_mutate_ctx *ctx, const char *key,
                               const char *new_tag, const char *old_tag)
{
    const json_t *meta = ctx->obj->pod_meta;
    const json_t *workload =
        ctx->obj->kind == PL_KIND_POD ? NULL : pl_json_object(ctx->obj->root, "metadata");
    struct resolved r = {
        .key = key,
        .label_stale = is_stale(ctx, "labels", key, old_tag, new_tag, true),
        .annotation_stale = is_stale(ctx, "annotations", key, old_tag, new_tag, false),
    };
    r.value = r.annotation_stale ? NULL : source_value(meta, "annotations", key);
    if (!r.value) {
        r.value = source_value(workload, "annotations", key);
    }
    if (!r.value && !r.label_stale) {
        r.value = source_value(meta, "labels", key);
    }
    if (!r.value) {
        r.value = source_value(workload, "labels", key);
    }
    if (!r.value) {
        r.value = new_tag;
    }
    return r;
}

static int mutate(const struct pl_mutate_ctx *ctx, struct pl_patch *patch)
{
    const struct params *params = ctx->params;
    if (!params) {
        return 0;
    }
    struct matcher m;
    matcher_init(&m, params, ctx->pool);
    struct tag_info now = scan_images(&m, ctx->obj->pod_spec);
    struct tag_info before = {NULL, NULL};
    if (ctx->old_obj && ctx->old_obj->pod_spec) {
        before = scan_images(&m, ctx->old_obj->pod_spec);
    }
    if (m.spent && ctx->notes) {
        json_array_append_new(ctx->notes,
                              json_string("plimsoll: inject-commit read only some image tags: the "
                                          "tag-patterns match budget for one review is spent"));
    }
    /* Read everything before writing: ctx->obj->pod_meta may be NULL until metadata exists. */
    const struct resolved keys[] = {
        resolve(ctx, PL_KEY_COMMIT, now.commit, before.commit),
        resolve(ctx, PL_KEY_BRANCH, now.branch, before.branch),
    };
    for (size_t i = 0; i < PL_ARRAY_SIZE(keys); i++) {
        int r = put(ctx, patch, "labels", keys[i].key, label_safe(ctx->pool, keys[i].value),
                    keys[i].label_stale);
        if (r < 0) {
            return r;
        }
    }
    for (size_t i = 0; i < PL_ARRAY_SIZE(keys); i++) {
        int r =
            put(ctx, patch, "annotations", keys[i].key, keys[i].value, keys[i].annotation_stale);
        if (r < 0) {
            return r;
        }
    }
    return 0;
}

bool pl_inject_commit_finds(const void *params, const struct pl_object *obj, bool from_workload,
                            struct pl_pool *pool)
{
    if (!params || !obj->pod_spec) {
        return false;
    }
    const json_t *workload =
        obj->kind == PL_KIND_POD || !from_workload ? NULL : pl_json_object(obj->root, "metadata");
    if (source_value(obj->pod_meta, "annotations", PL_KEY_COMMIT) ||
        source_value(workload, "annotations", PL_KEY_COMMIT) ||
        source_value(obj->pod_meta, "labels", PL_KEY_COMMIT) ||
        source_value(workload, "labels", PL_KEY_COMMIT)) {
        return true;
    }
    struct matcher m;
    matcher_init(&m, params, pool);
    return label_safe(pool, scan_images(&m, obj->pod_spec).commit) != NULL;
}

const struct pl_mutation pl_mutation_inject_commit = {
    .id = "inject-commit",
    .default_enabled = true,
    .summary = "labels and annotations plimsoll.dev/commit and plimsoll.dev/branch from "
               "annotations or the image tag",
    .params = &param_set,
    .mutate = mutate,
};
