/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Violations and their rendering (see report.h). Rendering is where size
 * bounds are enforced: the evaluation may find thousands of problems, the
 * response carries what fits and says how many more there are.
 */
#include "core/report.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"

static const char *const suppression_names[] = {"", "exempt", "grandfathered", "controller"};

const char *pl_suppression_name(enum pl_suppression s)
{
    return (unsigned)s < PL_ARRAY_SIZE(suppression_names) ? suppression_names[s] : "";
}

void pl_report_init(struct pl_report *r, struct pl_pool *pool, const struct pl_object *obj)
{
    memset(r, 0, sizeof(*r));
    r->pool = pool;
    r->obj = obj;
    r->mode = PL_MODE_ENFORCE;
}

static const char *scope_prefix(const struct pl_report *r, enum pl_scope scope)
{
    switch (scope) {
    case PL_SCOPE_POD_META:
        return r->obj && r->obj->pod_meta_path ? r->obj->pod_meta_path : "metadata";
    case PL_SCOPE_POD_SPEC:
        return r->obj && r->obj->pod_spec_path ? r->obj->pod_spec_path : "spec";
    case PL_SCOPE_OBJECT:
    default:
        return "";
    }
}

/* Whether the current mode's share of the report is full. */
static bool full(const struct pl_report *r)
{
    return (unsigned)r->mode < PL_ARRAY_SIZE(r->kept_by_mode) &&
           r->kept_by_mode[r->mode] >= PL_REPORT_MAX_VIOLATIONS;
}

/* Counts a violation past the cap, under the mode it would have had. */
static void drop(struct pl_report *r)
{
    r->dropped++;
    if ((unsigned)r->mode < PL_ARRAY_SIZE(r->dropped_by_mode)) {
        r->dropped_by_mode[r->mode]++;
    }
}

static void add_violation(struct pl_report *r, enum pl_scope scope, const char *path,
                          const char *message, const char *rule, const char *container,
                          const char *field)
{
    const char *subject = r->id_subject;
    if (r->id_field) {
        field = r->id_field;
    }
    r->id_subject = r->id_field = NULL;
    if (full(r)) {
        drop(r);
        return;
    }
    if (r->len == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        struct pl_violation *items = pl_pool_alloc(r->pool, cap * sizeof(*items));
        if (r->len) {
            memcpy(items, r->items, r->len * sizeof(*items));
        }
        r->items = items;
        r->cap = cap;
    }
    const char *prefix = scope_prefix(r, scope);
    if ((unsigned)r->mode < PL_ARRAY_SIZE(r->kept_by_mode)) {
        r->kept_by_mode[r->mode]++;
    }
    struct pl_violation *v = &r->items[r->len++];
    v->policy = r->policy ? r->policy : "";
    v->policy_index = r->policy_index;
    v->mode = r->mode;
    v->base_mode = r->mode;
    v->suppression = r->suppression;
    v->every_pod = false;
    v->message = message;
    v->id = (struct pl_violation_id){
        .rule = rule,
        .scope = scope,
        .container = container,
        .field = field,
        .subject = subject,
    };
    if (!*path) {
        v->path = prefix;
    } else if (*prefix) {
        v->path = pl_pool_printf(r->pool, "%s.%s", prefix, path);
    } else {
        v->path = path;
    }
    if (scope == PL_SCOPE_POD_META) {
        v->short_path = *path ? pl_pool_printf(r->pool, "metadata.%s", path) : "metadata";
    } else if (scope == PL_SCOPE_POD_SPEC && *path) {
        v->short_path = path;
    } else {
        v->short_path = v->path;
    }
}

void pl_report_add(struct pl_report *r, enum pl_scope scope, const char *path, const char *fmt, ...)
{
    if (full(r)) {
        r->id_subject = r->id_field = NULL;
        drop(r);
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    char *message = pl_pool_vprintf(r->pool, fmt, ap);
    va_end(ap);
    const char *copy = pl_pool_strdup(r->pool, path);
    add_violation(r, scope, copy, message, fmt, NULL, copy);
}

void pl_report_container(struct pl_report *r, const struct pl_container *c, const char *sub,
                         const char *fmt, ...)
{
    if (full(r)) {
        r->id_subject = r->id_field = NULL;
        drop(r);
        return;
    }
    /* "containers[0] (web)"; a container without a name (only seen in
     * manifests, the API server requires one) is just "containers[0]". */
    const char *name = pl_report_quote(r, c->name);
    const char *label = *name ? pl_pool_printf(r->pool, " (%s)", name) : "";
    const char *path;
    if (sub && *sub) {
        path = pl_pool_printf(r->pool, "%s[%zu]%s.%s", c->list, c->index, label, sub);
    } else {
        path = pl_pool_printf(r->pool, "%s[%zu]%s", c->list, c->index, label);
    }
    va_list ap;
    va_start(ap, fmt);
    char *message = pl_pool_vprintf(r->pool, fmt, ap);
    va_end(ap);
    /* Known by list and name, so that its position does not matter; by
     * position only when it has no name. The name is whole, not quoted. */
    const char *container = c->name && *c->name
                                ? pl_pool_printf(r->pool, "%s/%s", c->list, c->name)
                                : pl_pool_printf(r->pool, "%s[%zu]", c->list, c->index);
    add_violation(r, PL_SCOPE_POD_SPEC, path, message, fmt, container,
                  sub ? pl_pool_strdup(r->pool, sub) : "");
}

void pl_report_identify(struct pl_report *r, const char *field, const char *subject)
{
    r->id_field = field ? pl_pool_strdup(r->pool, field) : NULL;
    r->id_subject = subject ? pl_pool_strdup(r->pool, subject) : NULL;
}

const char *pl_violation_key(struct pl_pool *pool, const struct pl_violation *v)
{
    /* \x1f (unit separator) appears in none of the parts: ids, paths and
     * format strings are printable, and container names are DNS labels. */
    return pl_pool_printf(pool, "%s\x1f%d\x1f%s\x1f%s\x1f%s\x1f%s", v->policy, (int)v->id.scope,
                          v->id.rule ? v->id.rule : "", v->id.container ? v->id.container : "",
                          v->id.field ? v->id.field : "", v->id.subject ? v->id.subject : "");
}

/* Where to cut text so that it and "..." fit in max bytes: never inside a UTF-8 sequence. */
static size_t cut_point(const char *text, size_t max)
{
    size_t len = max - 3;
    while (len > 0 && ((unsigned char)text[len] & 0xC0) == 0x80) {
        len--;
    }
    return len;
}

const char *pl_report_quote(struct pl_report *r, const char *text)
{
    if (!text) {
        return "";
    }
    size_t len = strnlen(text, PL_REPORT_MAX_QUOTE + 1);
    bool cut = len > PL_REPORT_MAX_QUOTE;
    if (cut) {
        len = cut_point(text, PL_REPORT_MAX_QUOTE);
    }
    char *out = pl_pool_alloc(r->pool, len + 4);
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)text[i];
        out[i] = (ch < 0x20 || ch == 0x7F) ? '?' : (char)ch;
    }
    if (cut) {
        memcpy(out + len, "...", 4);
    } else {
        out[len] = '\0';
    }
    return out;
}

size_t pl_report_count(const struct pl_report *r, enum pl_mode mode)
{
    size_t n = 0;
    for (size_t i = 0; i < r->len; i++) {
        n += r->items[i].mode == mode;
    }
    if ((unsigned)mode < PL_ARRAY_SIZE(r->dropped_by_mode)) {
        n += r->dropped_by_mode[mode];
    }
    return n;
}

const char *pl_report_render_rejection(const struct pl_report *r, const char *runbook_base)
{
    size_t total = pl_report_count(r, PL_MODE_ENFORCE);
    if (total == 0) {
        return NULL;
    }
    struct pl_buf b;
    pl_buf_init(&b, PL_MESSAGE_MAX);
    const struct pl_object *o = r->obj;
    bool named = o && (*o->namespace_ || *o->name);
    int rc = pl_buf_printf(&b, "plimsoll rejected %s%s%s%s%s: %zu production-readiness violation%s",
                           o && *o->kind_name ? o->kind_name : "the object", named ? " " : "",
                           o && *o->namespace_ ? o->namespace_ : "",
                           o && *o->namespace_ && *o->name ? "/" : "", o ? o->name : "", total,
                           total == 1 ? "" : "s");
    (void)rc; /* the header is far below the ceiling */
    size_t shown = 0;
    /* Room kept for the closing "... and N more" line. */
    const size_t tail_room = 128;
    for (size_t i = 0; i < r->len; i++) {
        const struct pl_violation *v = &r->items[i];
        if (v->mode != PL_MODE_ENFORCE) {
            continue;
        }
        char line[1024];
        int n = snprintf(
            line, sizeof(line), "\n- [%s] %s: %s%s. Runbook: %s%s", v->policy, v->path, v->message,
            v->every_pod ? " (enforced on every Pod, also those a controller creates)" : "",
            runbook_base, v->policy);
        if (n < 0 || (size_t)n >= sizeof(line) || b.len + (size_t)n + tail_room > b.max) {
            break;
        }
        if (pl_buf_append(&b, line, (size_t)n) < 0) {
            break;
        }
        shown++;
    }
    if (shown < total) {
        rc = pl_buf_printf(
            &b, "\n- ... and %zu more (run `plimsoll check` on the manifest for the full list)",
            total - shown);
        (void)rc;
    }
    char *text = pl_pool_strdup(r->pool, pl_buf_str(&b));
    pl_buf_finish(&b);
    return text;
}

/* Why a violation that would reject only warns, said after its message. */
static const char *warning_suffix(const struct pl_violation *v)
{
    switch (v->suppression) {
    case PL_SUPPRESS_GRANDFATHERED:
        return v->every_pod ? " (already there before this update: allowed here, but enforced on "
                              "every Pod, so new Pods are rejected)"
                            : " (already there before this update: allowed)";
    case PL_SUPPRESS_CONTROLLER:
        return " (allowed: a controller made this from an admitted workload)";
    case PL_SUPPRESS_NONE:
    case PL_SUPPRESS_EXEMPT:
    default:
        return "";
    }
}

/* Appends s (cut to PL_WARNING_MAX) to arr if the total stays within PL_WARNINGS_MAX. */
static bool append_warning(json_t *arr, size_t *total, const char *s)
{
    char item[PL_WARNING_MAX + 1];
    size_t len = strlen(s);
    if (len > PL_WARNING_MAX) {
        len = cut_point(s, PL_WARNING_MAX);
        memcpy(item, s, len);
        memcpy(item + len, "...", 4);
        len += 3;
    } else {
        memcpy(item, s, len + 1);
    }
    if (*total + len > PL_WARNINGS_MAX) {
        return false;
    }
    *total += len;
    json_array_append_new(arr, json_string(item));
    return true;
}

/* The last warning line, "Runbooks: <url> <url> ...": one link per distinct
 * policy, and only whole links. A link that does not fit within
 * PL_WARNING_MAX (room kept for RUNBOOKS_MORE) is left out and counted, never
 * cut: a cut URL leads nowhere. */
#define RUNBOOKS_PREFIX "Runbooks:"
#define RUNBOOKS_MORE   " (+%zu more: plimsoll policies)"
#define RUNBOOKS_ROOM   40 /* RUNBOOKS_MORE with any count */
struct runbooks {
    char line[PL_WARNING_MAX + 1];
    size_t len;             /* 0: no link yet */
    size_t dropped;         /* links left out for room */
    const char *linked[64]; /* policies linked (or dropped) already */
    size_t n_linked;
};

static void add_runbook(struct runbooks *rb, const char *base, const char *policy)
{
    for (size_t k = 0; k < rb->n_linked; k++) {
        if (strcmp(rb->linked[k], policy) == 0) {
            return;
        }
    }
    if (rb->n_linked == PL_ARRAY_SIZE(rb->linked)) {
        rb->dropped++;
        return;
    }
    rb->linked[rb->n_linked++] = policy;
    size_t start = rb->len ? rb->len : strlen(RUNBOOKS_PREFIX);
    size_t need = 1 + strlen(base) + strlen(policy);
    if (start + need + RUNBOOKS_ROOM > PL_WARNING_MAX) {
        rb->dropped++;
        return;
    }
    if (!rb->len) {
        memcpy(rb->line, RUNBOOKS_PREFIX, start);
    }
    snprintf(rb->line + start, sizeof(rb->line) - start, " %s%s", base, policy);
    rb->len = start + need;
}

json_t *pl_report_render_warnings(const struct pl_report *r, const char *runbook_base,
                                  const json_t *extra_warnings)
{
    json_t *arr = json_array();
    if (!arr) {
        pl_oom();
    }
    size_t total = 0;
    size_t shown = 0;
    size_t wanted = pl_report_count(r, PL_MODE_WARN);
    /* Room kept for the runbook and "... more" lines. */
    const size_t tail_room = 2 * PL_WARNING_MAX;
    size_t i;
    const json_t *extra;
    json_array_foreach(extra_warnings, i, extra)
    {
        if (json_is_string(extra)) {
            (void)append_warning(arr, &total, json_string_value(extra));
        }
    }
    struct runbooks rb = {.len = 0};
    for (i = 0; i < r->len; i++) {
        const struct pl_violation *v = &r->items[i];
        if (v->mode != PL_MODE_WARN) {
            continue;
        }
        char line[PL_WARNING_MAX * 4];
        int n = snprintf(line, sizeof(line), "[%s] %s: %s%s", v->policy, v->short_path, v->message,
                         warning_suffix(v));
        size_t item_len = n < 0 ? 0 : (size_t)n;
        if (item_len > PL_WARNING_MAX) {
            item_len = PL_WARNING_MAX;
        }
        if (n < 0 || total + tail_room + item_len > PL_WARNINGS_MAX) {
            break;
        }
        (void)append_warning(arr, &total, line);
        shown++;
        add_runbook(&rb, runbook_base, v->policy);
    }
    if (shown < wanted) {
        char more[128];
        snprintf(more, sizeof(more),
                 "... and %zu more warnings (run `plimsoll check` for the full list)",
                 wanted - shown);
        (void)append_warning(arr, &total, more);
    }
    if (rb.len) {
        if (rb.dropped) {
            /* Room was kept for this: the line stays within PL_WARNING_MAX. */
            snprintf(rb.line + rb.len, sizeof(rb.line) - rb.len, RUNBOOKS_MORE, rb.dropped);
        }
        (void)append_warning(arr, &total, rb.line);
    }
    return arr;
}
