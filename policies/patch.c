/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The JSON Patch builder (see patch.h). Every operation is applied to the
 * working copy as it is recorded, with a deep copy of the value going into
 * the operation, so that later additions into a new map change the working
 * copy only and never an operation already written.
 */
#include "policies/patch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

void pl_pointer_init(struct pl_pointer *ptr, const char *dotted)
{
    ptr->len = 0;
    ptr->overflow = false;
    ptr->buf[0] = '\0';
    for (const char *s = dotted; s && *s;) {
        const char *dot = strchr(s, '.');
        size_t n = dot ? (size_t)(dot - s) : strlen(s);
        if (ptr->len + 1 + n >= sizeof(ptr->buf)) {
            ptr->overflow = true;
            return;
        }
        ptr->buf[ptr->len++] = '/';
        memcpy(ptr->buf + ptr->len, s, n);
        ptr->len += n;
        ptr->buf[ptr->len] = '\0';
        s = dot ? dot + 1 : s + n;
    }
}

int pl_pointer_escape(const char *key, char *out, size_t size)
{
    size_t o = 0;
    for (const char *s = key; *s; s++) {
        const char *piece = *s == '~' ? "~0" : *s == '/' ? "~1" : NULL;
        size_t n = piece ? 2 : 1;
        if (o + n >= size) {
            return -E2BIG;
        }
        if (piece) {
            memcpy(out + o, piece, 2);
        } else {
            out[o] = *s;
        }
        o += n;
    }
    if (size == 0) {
        return -E2BIG;
    }
    out[o] = '\0';
    return 0;
}

void pl_pointer_push(struct pl_pointer *ptr, const char *key)
{
    if (ptr->overflow) {
        return;
    }
    if (ptr->len + 1 >= sizeof(ptr->buf) ||
        pl_pointer_escape(key, ptr->buf + ptr->len + 1, sizeof(ptr->buf) - ptr->len - 1) < 0) {
        ptr->overflow = true;
        ptr->buf[ptr->len] = '\0';
        return;
    }
    ptr->buf[ptr->len] = '/';
    ptr->len += strlen(ptr->buf + ptr->len);
}

void pl_pointer_push_index(struct pl_pointer *ptr, size_t index)
{
    /* Digit by digit: snprintf was a tenth of a mutation's instructions. */
    char digits[24];
    size_t o = sizeof(digits) - 1;
    digits[o] = '\0';
    do {
        digits[--o] = (char)('0' + index % 10);
        index /= 10;
    } while (index > 0);
    pl_pointer_push(ptr, digits + o);
}

const char *pl_pointer_str(const struct pl_pointer *ptr)
{
    return ptr->buf;
}

void pl_patch_init(struct pl_patch *p, const json_t *object, size_t max_ops)
{
    json_t *copy = json_deep_copy(object);
    if (object && !copy) {
        pl_oom();
    }
    pl_patch_init_owned(p, copy, max_ops);
}

void pl_patch_init_owned(struct pl_patch *p, json_t *doc, size_t max_ops)
{
    p->doc = doc;
    p->ops = json_array();
    if (!p->ops) {
        pl_oom();
    }
    p->max_ops = max_ops ? max_ops : PL_PATCH_MAX_OPS;
}

void pl_patch_finish(struct pl_patch *p)
{
    if (!p) {
        return;
    }
    json_decref(p->doc);
    json_decref(p->ops);
    p->doc = NULL;
    p->ops = NULL;
}

size_t pl_patch_len(const struct pl_patch *p)
{
    return json_array_size(p->ops);
}

json_t *pl_patch_take_ops(struct pl_patch *p)
{
    json_t *ops = p->ops;
    p->ops = json_array();
    if (!p->ops) {
        pl_oom();
    }
    return ops;
}

/* A pointer split into unescaped tokens; ends[i] is where token i ends in the pointer text. */
struct tokens {
    char text[PL_POINTER_MAX];
    const char *tok[PL_POINTER_MAX_DEPTH];
    size_t ends[PL_POINTER_MAX_DEPTH];
    size_t n;
};

/* Splits a pointer. Returns 0, or -EINVAL (malformed, overflowed, too deep, or the root). */
static int split(const struct pl_pointer *ptr, struct tokens *t)
{
    const char *s = ptr->buf;
    if (ptr->overflow || s[0] != '/') {
        return -EINVAL;
    }
    size_t o = 0;
    t->n = 0;
    for (size_t i = 0; s[i];) {
        if (t->n == PL_POINTER_MAX_DEPTH) {
            return -EINVAL;
        }
        i++; /* the '/' */
        t->tok[t->n] = t->text + o;
        while (s[i] && s[i] != '/') {
            char c = s[i++];
            if (c == '~') {
                if (s[i] != '0' && s[i] != '1') {
                    return -EINVAL;
                }
                c = s[i++] == '0' ? '~' : '/';
            }
            t->text[o++] = c;
        }
        t->text[o++] = '\0';
        t->ends[t->n++] = i;
    }
    return 0;
}

/* Parses an array index token: decimal, no sign, no leading zero. */
static bool parse_index(const char *tok, size_t *ret)
{
    if (!*tok || (tok[0] == '0' && tok[1]) || strlen(tok) > 9) {
        return false;
    }
    size_t v = 0;
    for (const char *s = tok; *s; s++) {
        if (*s < '0' || *s > '9') {
            return false;
        }
        v = v * 10 + (size_t)(*s - '0');
    }
    *ret = v;
    return true;
}

/* The child of cur at tok, or NULL. Null members count as absent. */
static json_t *child(json_t *cur, const char *tok)
{
    json_t *c = NULL;
    size_t index;
    if (json_is_object(cur)) {
        c = json_object_get(cur, tok);
    } else if (json_is_array(cur) && parse_index(tok, &index)) {
        c = json_array_get(cur, index);
    }
    return json_is_null(c) ? NULL : c;
}

json_t *pl_patch_get(const struct pl_patch *p, const struct pl_pointer *ptr)
{
    struct tokens t;
    if (ptr->overflow) {
        return NULL;
    }
    if (ptr->len == 0) {
        return p->doc;
    }
    if (split(ptr, &t) < 0) {
        return NULL;
    }
    json_t *cur = p->doc;
    for (size_t i = 0; cur && i < t.n; i++) {
        cur = child(cur, t.tok[i]);
    }
    return cur;
}

/*
 * A new reference to a copy of v as it is now: scalars are shared (nothing
 * changes a value once made; only containers grow), containers are copied
 * level by level. json_deep_copy() would do, but in jansson 2.14 it formats
 * every object's address with snprintf to detect loops, which cost a fifth
 * of a /mutate; the values here are the patch's own, a few levels deep.
 */
static json_t *snapshot(json_t *v)
{
    json_t *copy;
    if (json_is_object(v)) {
        copy = json_object();
        const char *key;
        json_t *member;
        json_object_foreach(v, key, member)
        {
            if (!copy || json_object_set_new_nocheck(copy, key, snapshot(member)) < 0) {
                pl_oom();
            }
        }
    } else if (json_is_array(v)) {
        copy = json_array();
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item)
        {
            if (!copy || json_array_append_new(copy, snapshot(item)) < 0) {
                pl_oom();
            }
        }
    } else {
        copy = json_incref(v);
    }
    if (!copy) {
        pl_oom();
    }
    return copy;
}

/* Records {"op": op, "path": path[0..path_len), "value": a snapshot of value}. */
static void record(struct pl_patch *p, const char *op, const char *path, size_t path_len,
                   json_t *value)
{
    json_t *copy = snapshot(value);
    json_t *o = json_object();
    json_t *path_json = json_stringn(path, path_len);
    if (!copy || !o || !path_json) {
        pl_oom();
    }
    json_object_set_new_nocheck(o, "op", json_string_nocheck(op));
    json_object_set_new_nocheck(o, "path", path_json);
    json_object_set_new_nocheck(o, "value", copy);
    json_array_append_new(p->ops, o);
}

/* Puts value (stolen) at tok in container cur, as RFC 6902 "add" would. */
static void put(json_t *cur, const char *tok, json_t *value)
{
    size_t index;
    if (json_is_object(cur)) {
        json_object_set_new(cur, tok, value);
    } else if (strcmp(tok, "-") == 0) {
        json_array_append_new(cur, value);
    } else if (parse_index(tok, &index)) {
        json_array_insert_new(cur, index, value);
    } else {
        json_decref(value);
    }
}

/* Whether the last token can go into cur: an object key, "-" or an index up to the size. */
static bool can_put(const json_t *cur, const char *tok)
{
    size_t index;
    if (json_is_object(cur)) {
        return true;
    }
    if (!json_is_array(cur)) {
        return false;
    }
    return strcmp(tok, "-") == 0 || (parse_index(tok, &index) && index <= json_array_size(cur));
}

int pl_patch_add(struct pl_patch *p, const struct pl_pointer *ptr, json_t *value)
{
    struct tokens t;
    int r = split(ptr, &t);
    if (r < 0) {
        goto out;
    }
    /* Walk to the parent of the target; stop at the first missing member. */
    json_t *cur = p->doc;
    size_t missing_at = t.n; /* index of the first missing container, t.n if none */
    for (size_t i = 0; i + 1 < t.n; i++) {
        if (strcmp(t.tok[i], "-") == 0) {
            r = -EINVAL; /* "-" only names a new last element */
            goto out;
        }
        json_t *c = child(cur, t.tok[i]);
        if (!c && json_is_object(cur)) {
            missing_at = i;
            break;
        }
        if (!json_is_object(c) && !json_is_array(c)) {
            r = 0; /* a scalar, or an index out of range, is in the way */
            goto out;
        }
        cur = c;
    }
    if (missing_at < t.n) {
        for (size_t i = missing_at + 1; i + 1 < t.n; i++) {
            if (strcmp(t.tok[i], "-") == 0) {
                r = -EINVAL;
                goto out;
            }
        }
    } else if (!can_put(cur, t.tok[t.n - 1])) {
        r = 0;
        goto out;
    } else if (json_is_object(cur) && child(cur, t.tok[t.n - 1])) {
        r = 0; /* present: never replaced */
        goto out;
    }
    size_t needed = missing_at < t.n ? t.n - missing_at : 1;
    if (json_array_size(p->ops) + needed > p->max_ops) {
        r = -E2BIG;
        goto out;
    }
    for (size_t i = missing_at; i + 1 < t.n; i++) {
        json_t *made = strcmp(t.tok[i + 1], "-") == 0 ? json_array() : json_object();
        if (!made) {
            pl_oom();
        }
        record(p, "add", ptr->buf, t.ends[i], made);
        put(cur, t.tok[i], made);
        cur = made;
    }
    record(p, "add", ptr->buf, ptr->len, value);
    put(cur, t.tok[t.n - 1], value);
    value = NULL;
    r = 1;
out:
    json_decref(value);
    return r;
}

int pl_patch_replace(struct pl_patch *p, const struct pl_pointer *ptr, json_t *value)
{
    struct tokens t;
    int r = split(ptr, &t);
    if (r < 0) {
        goto out;
    }
    json_t *cur = p->doc;
    for (size_t i = 0; cur && i + 1 < t.n; i++) {
        cur = child(cur, t.tok[i]);
    }
    json_t *target = json_is_object(cur) ? json_object_get(cur, t.tok[t.n - 1]) : NULL;
    if (!target || json_equal(target, value)) {
        r = 0;
        goto out;
    }
    if (json_array_size(p->ops) + 1 > p->max_ops) {
        r = -E2BIG;
        goto out;
    }
    record(p, "replace", ptr->buf, ptr->len, value);
    json_object_set_new(cur, t.tok[t.n - 1], value);
    value = NULL;
    r = 1;
out:
    json_decref(value);
    return r;
}
