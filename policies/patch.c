/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The JSON Patch builder (see patch.h). Every operation is applied to the
 * working copy as it is recorded, and written out as JSON text at that
 * moment, so that later additions into a new map change the working copy
 * only and never an operation already written (no copy of the value, no
 * operation objects, and the text is what the API server gets).
 */
#include "policies/patch.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "core/json_write.h"

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
    pl_buf_init(&p->ops, PL_PATCH_MAX_TEXT);
    p->n_ops = 0;
    p->max_ops = max_ops ? max_ops : PL_PATCH_MAX_OPS;
}

void pl_patch_finish(struct pl_patch *p)
{
    if (!p) {
        return;
    }
    json_decref(p->doc);
    p->doc = NULL;
    pl_buf_finish(&p->ops);
    p->n_ops = 0;
}

size_t pl_patch_len(const struct pl_patch *p)
{
    return p->n_ops;
}

int pl_patch_take_text(struct pl_patch *p, struct pl_buf *out)
{
    size_t len = out->len;
    if (pl_buf_append(out, "[", 1) < 0 || pl_buf_append(out, p->ops.data, p->ops.len) < 0 ||
        pl_buf_append(out, "]", 1) < 0) {
        pl_buf_truncate(out, len);
        return -E2BIG;
    }
    pl_buf_reset(&p->ops);
    p->n_ops = 0;
    return 0;
}

json_t *pl_patch_take_ops(struct pl_patch *p)
{
    struct pl_buf text;
    pl_buf_init(&text, PL_PATCH_MAX_TEXT + 2);
    if (pl_patch_take_text(p, &text) < 0) {
        pl_oom(); /* cannot happen: the ceiling has room for the brackets */
    }
    json_t *ops = pl_json_load(text.data, text.len, NULL, 0);
    if (!ops) {
        pl_oom(); /* cannot happen: the text was written by pl_json_write */
    }
    pl_buf_finish(&text);
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
 * Appends {"op": op, "path": path[0..path_len), "value": value} to the
 * operations' text (value NULL: the JSON text literal instead). The value is written as it is now,
 * which is what the operation means: a later operation may add into a map this one added. Returns
 * 0, -E2BIG past the text ceiling or -EINVAL for a value that is not JSON; on failure the text may
 * hold part of the operation (the caller cuts it back).
 */
static int record(struct pl_patch *p, const char *op, const char *path, size_t path_len,
                  const json_t *value, const char *literal)
{
    struct pl_buf *b = &p->ops;
    if ((p->n_ops > 0 && pl_buf_append(b, ",", 1) < 0) || pl_buf_puts(b, "{\"op\":\"") < 0 ||
        pl_buf_puts(b, op) < 0 || pl_buf_puts(b, "\",\"path\":") < 0) {
        return -E2BIG;
    }
    int r = pl_json_write_string(path, path_len, b);
    if (r == 0 && pl_buf_puts(b, ",\"value\":") < 0) {
        r = -E2BIG;
    }
    if (r == 0) {
        r = value ? pl_json_write(value, true, b) : (pl_buf_puts(b, literal) < 0 ? -E2BIG : 0);
    }
    if (r == 0 && pl_buf_append(b, "}", 1) < 0) {
        r = -E2BIG;
    }
    if (r < 0) {
        return r == -E2BIG ? -E2BIG : -EINVAL;
    }
    p->n_ops++;
    return 0;
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
    if (p->n_ops + needed > p->max_ops) {
        r = -E2BIG;
        goto out;
    }
    /* Every operation is written before anything is put into the document,
     * so that one that cannot be written leaves nothing behind. */
    size_t text_len = p->ops.len;
    size_t n_ops = p->n_ops;
    for (size_t i = missing_at; r >= 0 && i + 1 < t.n; i++) {
        bool array = strcmp(t.tok[i + 1], "-") == 0;
        r = record(p, "add", ptr->buf, t.ends[i], NULL, array ? "[]" : "{}");
    }
    if (r >= 0) {
        r = record(p, "add", ptr->buf, ptr->len, value, NULL);
    }
    if (r < 0) {
        pl_buf_truncate(&p->ops, text_len);
        p->n_ops = n_ops;
        goto out;
    }
    for (size_t i = missing_at; i + 1 < t.n; i++) {
        json_t *made = strcmp(t.tok[i + 1], "-") == 0 ? json_array() : json_object();
        if (!made) {
            pl_oom();
        }
        put(cur, t.tok[i], made);
        cur = made;
    }
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
    if (p->n_ops + 1 > p->max_ops) {
        r = -E2BIG;
        goto out;
    }
    size_t text_len = p->ops.len;
    r = record(p, "replace", ptr->buf, ptr->len, value, NULL);
    if (r < 0) {
        pl_buf_truncate(&p->ops, text_len);
        goto out;
    }
    json_object_set_new(cur, t.tok[t.n - 1], value);
    value = NULL;
    r = 1;
out:
    json_decref(value);
    return r;
}
