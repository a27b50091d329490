/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Documents to requests, and violation paths back to lines (see manifest.h).
 */
#include "engine/manifest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "core/object.h"
#include "core/yaml.h"
#include "engine/admission.h"

/* Lists inside Lists: deeper than this is not a manifest anyone writes. */
#define MAX_LIST_DEPTH 8

void pl_manifest_init(struct pl_manifest *m, size_t max_objects)
{
    memset(m, 0, sizeof(*m));
    m->max_objects = max_objects;
    m->ns_annotations = json_object();
}

static void object_finish(struct pl_manifest_object *o)
{
    json_decref(o->doc);
    free(o->prefix);
}

static void file_finish(struct pl_manifest_file *f)
{
    free(f->name);
    free(f->text);
    free(f->line_starts);
    json_decref(f->lines);
}

void pl_manifest_finish(struct pl_manifest *m)
{
    if (!m) {
        return;
    }
    for (size_t i = 0; i < m->n_objects; i++) {
        object_finish(&m->objects[i]);
    }
    for (size_t i = 0; i < m->n_files; i++) {
        file_finish(&m->files[i]);
    }
    free(m->objects);
    free(m->files);
    json_decref(m->ns_annotations);
    memset(m, 0, sizeof(*m));
}

/* What one pl_manifest_add call is working on. */
struct adding {
    struct pl_manifest *m;
    size_t file;
    size_t document;
    const json_t *lines; /* this document's path -> line map (borrowed) */
    struct pl_error *err;
};

static int line_of(const json_t *lines, const char *path)
{
    json_int_t line = json_integer_value(json_object_get(lines, path));
    return line > 0 && line < 0x7fffffff ? (int)line : 0;
}

static bool is_list_kind(const char *kind, const json_t *doc)
{
    size_t n = kind ? strlen(kind) : 0;
    if (n == 4 && strcmp(kind, "List") == 0) {
        return true;
    }
    /* A typed list (DeploymentList) is a list only when it has items to expand. */
    return n > 4 && strcmp(kind + n - 4, "List") == 0 &&
           json_is_array(json_object_get(doc, "items"));
}

static void append_object(struct adding *a, json_t *doc, const char *prefix)
{
    struct pl_manifest *m = a->m;
    m->objects = pl_xrealloc(m->objects, (m->n_objects + 1) * sizeof(*m->objects));
    struct pl_manifest_object *o = &m->objects[m->n_objects++];
    o->file = a->file;
    o->document = a->document;
    o->doc = doc;
    const char *kind = pl_json_string(doc, "kind");
    o->kind = kind ? kind : "";
    if (strcmp(o->kind, "AdmissionReview") == 0) {
        size_t n = strlen(prefix) + sizeof(".request.object");
        o->prefix = pl_xmalloc(n);
        snprintf(o->prefix, n, "%s%srequest.object", prefix, *prefix ? "." : "");
    } else {
        o->prefix = pl_xstrdup(prefix);
    }
    if (strcmp(o->kind, "Namespace") == 0) {
        const json_t *meta = pl_json_object(doc, "metadata");
        const char *name = pl_json_string(meta, "name");
        const json_t *annotations = pl_json_object(meta, "annotations");
        if (name && annotations) {
            json_object_set(m->ns_annotations, name, (json_t *)annotations);
        }
    }
}

static int add_value(struct adding *a, json_t *doc, const char *prefix, const json_t *list,
                     int depth);

/* Expands the items of a List (or a typed list such as DeploymentList). */
static int add_list(struct adding *a, json_t *list, const char *prefix, const char *kind, int depth)
{
    const json_t *items = json_object_get(list, "items");
    if (!json_is_array(items) && !json_is_null(items) && items) {
        return pl_error_set(a->err, prefix, line_of(a->lines, prefix),
                            "%s: items must be a list of objects", kind);
    }
    if (depth >= MAX_LIST_DEPTH) {
        return pl_error_set(a->err, prefix, line_of(a->lines, prefix),
                            "Lists nested deeper than %d levels", MAX_LIST_DEPTH);
    }
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item)
    {
        char path[512];
        snprintf(path, sizeof(path), "%s%sitems[%zu]", prefix, *prefix ? "." : "", i);
        int r = add_value(a, item, path, strcmp(kind, "List") == 0 ? NULL : list, depth + 1);
        if (r < 0) {
            return r;
        }
    }
    return 0;
}

/*
 * Adds one document or List item (borrowed doc) found at prefix. typed_list,
 * when not NULL, is the typed list the item comes from: its kind and
 * apiVersion stand in for the item's missing ones.
 */
static int add_value(struct adding *a, json_t *doc, const char *prefix, const json_t *typed_list,
                     int depth)
{
    int line = line_of(a->lines, prefix);
    if (!json_is_object(doc)) {
        return pl_error_set(a->err, prefix, line,
                            "not a Kubernetes object: expected a mapping with apiVersion and kind");
    }
    json_t *obj = json_incref(doc);
    if (typed_list && !json_object_get(doc, "kind")) {
        const char *list_kind = pl_json_string(typed_list, "kind");
        json_decref(obj);
        obj = json_copy(doc);
        json_object_set_new(obj, "kind", json_stringn(list_kind, strlen(list_kind) - 4));
        const char *api = pl_json_string(typed_list, "apiVersion");
        if (api && !json_object_get(obj, "apiVersion")) {
            json_object_set_new(obj, "apiVersion", json_string(api));
        }
    }
    const char *kind = pl_json_string(obj, "kind");
    const char *api = pl_json_string(obj, "apiVersion");
    if (!kind || !*kind || !api || !*api) {
        const char *what =
            !kind || !*kind ? (!api || !*api ? "apiVersion and kind" : "kind") : "apiVersion";
        bool typed =
            (json_object_get(obj, "kind") && !kind) || (json_object_get(obj, "apiVersion") && !api);
        json_decref(obj);
        return pl_error_set(a->err, prefix, line, "not a Kubernetes object: it has no %s%s", what,
                            typed ? " (they must be strings)" : "");
    }
    if (is_list_kind(kind, obj)) {
        int r = add_list(a, obj, prefix, kind, depth);
        json_decref(obj);
        return r;
    }
    if (a->m->max_objects && a->m->n_objects >= a->m->max_objects) {
        json_decref(obj);
        return pl_error_set(a->err, prefix, line, "more than %zu objects", a->m->max_objects);
    }
    append_object(a, obj, prefix);
    return 0;
}

/* Length of the line break at text[i] (0 for none): the breaks libyaml counts lines by,
 * "\r\n", "\r", "\n", and U+0085, U+2028, U+2029 in UTF-8. */
static size_t line_break(const char *text, size_t len, size_t i)
{
    const unsigned char *p = (const unsigned char *)text + i;
    if (p[0] == '\r') {
        return i + 1 < len && p[1] == '\n' ? 2 : 1;
    }
    if (p[0] == '\n') {
        return 1;
    }
    if (p[0] == 0xC2 && i + 1 < len && p[1] == 0x85) {
        return 2;
    }
    if (p[0] == 0xE2 && i + 2 < len && p[1] == 0x80 && (p[2] == 0xA8 || p[2] == 0xA9)) {
        return 3;
    }
    return 0;
}

static void index_lines(struct pl_manifest_file *f)
{
    size_t cap = 16;
    f->line_starts = pl_xmalloc(cap * sizeof(*f->line_starts));
    f->n_lines = 0;
    f->line_starts[f->n_lines++] = 0;
    for (size_t i = 0; i < f->len;) {
        size_t n = line_break(f->text, f->len, i);
        if (n == 0) {
            i++;
            continue;
        }
        i += n;
        if (f->n_lines == cap) {
            cap *= 2;
            f->line_starts = pl_xrealloc(f->line_starts, cap * sizeof(*f->line_starts));
        }
        f->line_starts[f->n_lines++] = i;
    }
}

/* Drops the objects and the namespace annotations added since an earlier state. */
static void roll_back(struct pl_manifest *m, size_t n_objects, json_t *ns_before)
{
    while (m->n_objects > n_objects) {
        object_finish(&m->objects[--m->n_objects]);
    }
    json_decref(m->ns_annotations);
    m->ns_annotations = ns_before;
}

/* Records a file whose objects were just added: its name, text and line maps (taken). */
static void add_file(struct pl_manifest *m, const char *name, const char *data, size_t len,
                     json_t *lines)
{
    m->files = pl_xrealloc(m->files, (m->n_files + 1) * sizeof(*m->files));
    struct pl_manifest_file *f = &m->files[m->n_files++];
    f->name = pl_xstrdup(name);
    f->text = pl_xmalloc(len + 1);
    memcpy(f->text, data, len);
    f->text[len] = '\0';
    f->len = len;
    f->lines = lines;
    index_lines(f);
}

int pl_manifest_add(struct pl_manifest *m, const char *name, const char *data, size_t len,
                    size_t *ret_documents, struct pl_error *err)
{
    json_t *docs = NULL, *lines = NULL;
    int r = pl_yaml_load(data, len, &docs, &lines, err);
    if (r < 0) {
        return r;
    }
    size_t n_before = m->n_objects;
    json_t *ns_before = json_deep_copy(m->ns_annotations);
    struct adding a = {.m = m, .file = m->n_files, .err = err};
    size_t i;
    json_t *doc;
    json_array_foreach(docs, i, doc)
    {
        a.document = i;
        a.lines = json_array_get(lines, i);
        r = add_value(&a, doc, "", NULL, 0);
        if (r < 0) {
            break;
        }
    }
    size_t n_docs = json_array_size(docs);
    json_decref(docs);
    if (r < 0) {
        roll_back(m, n_before, ns_before);
        json_decref(lines);
        return r;
    }
    json_decref(ns_before);
    add_file(m, name, data, len, lines);
    if (ret_documents) {
        *ret_documents = n_docs;
    }
    return 0;
}

int pl_manifest_add_object(struct pl_manifest *m, const char *name, json_t *doc,
                           struct pl_error *err)
{
    json_t *lines = json_pack("[{}]"); /* no text: every field is on "line 1" */
    size_t n_before = m->n_objects;
    json_t *ns_before = json_deep_copy(m->ns_annotations);
    struct adding a = {
        .m = m, .file = m->n_files, .document = 0, .lines = json_array_get(lines, 0), .err = err};
    int r = add_value(&a, doc, "", NULL, 0);
    if (r < 0) {
        roll_back(m, n_before, ns_before);
        json_decref(lines);
        return r;
    }
    json_decref(ns_before);
    add_file(m, name, "", 0, lines);
    return 0;
}

int pl_manifest_request(const struct pl_manifest *m, size_t i, const char *default_ns,
                        const json_t *extra, struct pl_request *ret_req, json_t **ret_annotations,
                        struct pl_error *err)
{
    const struct pl_manifest_object *o = &m->objects[i];
    struct pl_request req = {.operation = PL_OP_CREATE, .object = o->doc};
    if (strcmp(o->kind, "AdmissionReview") == 0) {
        struct pl_admission adm;
        int r = pl_admission_decode(o->doc, &adm, err);
        if (r < 0) {
            return r;
        }
        req = adm.request;
    }
    const char *ns = pl_request_namespace(&req, NULL);
    const char *kind = pl_json_string(req.object, "kind");
    if (!*ns && (pl_kind_from_name(kind) != PL_KIND_OTHER || pl_neighbours_wanted(kind))) {
        ns = default_ns ? default_ns : PL_MANIFEST_DEFAULT_NAMESPACE;
    }
    req.namespace_ = ns;
    json_t *annotations = json_object();
    json_t *from_input = json_object_get(m->ns_annotations, req.namespace_);
    if (from_input) {
        json_object_update(annotations, from_input);
    }
    if (extra) {
        json_object_update(annotations, (json_t *)extra);
    }
    if (!req.ns_annotations) {
        req.ns_annotations = annotations;
    }
    *ret_req = req;
    *ret_annotations = annotations;
    return 0;
}

void pl_manifest_neighbours(const struct pl_manifest *m, const char *default_ns,
                            struct pl_neighbours *out)
{
    for (size_t i = 0; i < m->n_objects; i++) {
        struct pl_request req;
        json_t *annotations = NULL;
        struct pl_error ignored;
        pl_error_init(&ignored);
        if (pl_manifest_request(m, i, default_ns, NULL, &req, &annotations, &ignored) == 0) {
            if (req.operation == PL_OP_CREATE || req.operation == PL_OP_UPDATE) {
                (void)pl_neighbours_add(out, req.object, req.namespace_);
            }
            json_decref(annotations);
        }
    }
}

/* Appends n bytes of s to out (at most size bytes in all, NUL-terminated). */
static void put(char *out, size_t size, size_t *len, const char *s, size_t n)
{
    if (*len + n >= size) {
        n = *len < size - 1 ? size - 1 - *len : 0;
    }
    memcpy(out + *len, s, n);
    *len += n;
    out[*len] = '\0';
}

char *pl_manifest_field_path(const char *path)
{
    size_t size = strlen(path ? path : "") + 2;
    char *out = pl_xmalloc(size);
    size_t len = 0;
    out[0] = '\0';
    for (const char *p = path ? path : ""; *p;) {
        if (*p != '[') {
            put(out, size, &len, p, 1);
            p++;
            continue;
        }
        const char *close = strchr(p, ']');
        if (!close) {
            put(out, size, &len, p, strlen(p));
            break;
        }
        if (strspn(p + 1, "0123456789") == (size_t)(close - p - 1) && close > p + 1) {
            put(out, size, &len, p, (size_t)(close - p + 1)); /* a list index */
        } else {
            put(out, size, &len, ".", 1); /* a map key: "annotations[a.b/c]" */
            put(out, size, &len, p + 1, (size_t)(close - p - 1));
        }
        p = close + 1;
        if (p[0] == ' ' && p[1] == '(') {
            /* " (web)": the container's name; it ends at the last ")" before the next field. */
            const char *end = strchr(p, ')');
            for (const char *q = end; q; q = strchr(q + 1, ')')) {
                if (q[1] == '\0' || q[1] == '.' || q[1] == '[') {
                    end = q;
                    break;
                }
            }
            p = end ? end + 1 : p + strlen(p);
        }
    }
    return out;
}

/* Cuts the last segment off a YAML path ("a.b[0]" -> "a.b" -> "a"); false when nothing is left. */
static bool parent_path(char *path, size_t floor)
{
    size_t n = strlen(path);
    if (n <= floor) {
        return false;
    }
    if (path[n - 1] == ']') {
        char *open = strrchr(path, '[');
        if (open && (size_t)(open - path) >= floor) {
            *open = '\0';
            return true;
        }
    }
    char *dot = strrchr(path, '.');
    if (dot && (size_t)(dot - path) >= floor) {
        *dot = '\0';
    } else {
        path[floor] = '\0';
    }
    return true;
}

/* Columns as SARIF counts them by default: UTF-16 code units from the line's start, 1-based. */
static int utf16_column(const char *line, size_t bytes)
{
    int col = 1;
    for (size_t i = 0; i < bytes; i++) {
        unsigned char c = (unsigned char)line[i];
        if ((c & 0xC0) != 0x80) {
            col += c >= 0xF0 ? 2 : 1;
        }
    }
    return col;
}

/* Byte offset, in a line of n bytes, where key starts as a mapping key; n when absent. */
static size_t find_key(const char *line, size_t n, const char *key)
{
    size_t k = strlen(key);
    for (size_t i = 0; k && i + k <= n; i++) {
        if (memcmp(line + i, key, k) != 0) {
            continue;
        }
        size_t start = i, end = i + k;
        if (start > 0 && (line[start - 1] == '"' || line[start - 1] == '\'')) {
            start--;
            end += end < n && line[end] == line[start];
        }
        if (start > 0 && !strchr(" \t{,-", line[start - 1])) {
            continue;
        }
        while (end < n && (line[end] == ' ' || line[end] == '\t')) {
            end++;
        }
        if (end < n && line[end] == ':') {
            return start;
        }
    }
    return n;
}

/* The column of the field whose last path segment is last, on line (n bytes). */
static int column_in(const char *line, size_t n, const char *last)
{
    size_t at = n;
    if (last && *last && *last != '[') {
        at = find_key(line, n, last);
    }
    if (at == n) {
        at = strspn(line, " \t");
        if (at < n && line[at] == '-' && last && *last == '[') {
            at++;
            at += strspn(line + at, " \t");
        }
    }
    return utf16_column(line, at < n ? at : 0);
}

void pl_manifest_locate(const struct pl_manifest *m, size_t i, const char *path, int *ret_line,
                        int *ret_column)
{
    const struct pl_manifest_object *o = &m->objects[i];
    const struct pl_manifest_file *f = &m->files[o->file];
    const json_t *lines = json_array_get(f->lines, o->document);
    char *field = pl_manifest_field_path(path);
    size_t floor = strlen(o->prefix);
    size_t size = floor + strlen(field) + 2;
    char *full = pl_xmalloc(size);
    snprintf(full, size, "%s%s%s", o->prefix, *o->prefix && *field ? "." : "", field);
    int line = 0;
    do {
        line = line_of(lines, full);
    } while (!line && parent_path(full, floor));
    if (!line) {
        line = 1;
    }
    const char *last = full + floor;
    const char *dot = strrchr(full, '.');
    const char *bracket = strrchr(full, '[');
    if (dot && dot + 1 > last) {
        last = dot + 1;
    }
    if (bracket && bracket > last) {
        last = bracket;
    } else if (!*field && floor > 0 && full[floor - 1] == ']' && bracket) {
        last = bracket; /* a List item itself */
    }
    int column = 1;
    if ((size_t)line <= f->n_lines) {
        size_t start = f->line_starts[line - 1];
        size_t end = start;
        while (end < f->len && line_break(f->text, f->len, end) == 0) {
            end++;
        }
        column = column_in(f->text + start, end - start, last);
    }
    free(full);
    free(field);
    *ret_line = line;
    *ret_column = column;
}
