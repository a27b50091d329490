/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Streaming list and watch readers (see stream.h).
 *
 * The list reader is a byte-at-a-time tokeniser: it tracks strings (with
 * escapes), the nesting of brackets (a bit per level says object or array,
 * so a '}' closing an array is an error) and, at the top level only, member
 * names. The value of the top-level member "items" must be an array of
 * objects; each object's bytes are captured, from its '{' to the matching
 * '}', and handed to the caller, which parses that one item. When an item
 * lies wholly inside one fed chunk it is handed over without a copy. The
 * value of "metadata" is captured and parsed (bounded). Nothing else is
 * kept. Scalars outside items are not checked for spelling: they cost
 * nothing and are never used.
 */
#include "kube/stream.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/json.h"

enum mode {
    MODE_SKIP,  /* outside items and metadata */
    MODE_ITEMS, /* inside the items array, between elements */
    MODE_ITEM,  /* capturing one element of items */
    MODE_META,  /* capturing the top-level metadata object */
};

void pl_kube_liststream_init(struct pl_kube_liststream *s, size_t item_max, pl_kube_item_fn on_item,
                             void *ud)
{
    memset(s, 0, sizeof(*s));
    s->on_item = on_item;
    s->ud = ud;
    pl_buf_init(&s->cap, item_max ? item_max : PL_KUBE_ITEM_MAX);
    s->mode = MODE_SKIP;
}

void pl_kube_liststream_finish(struct pl_kube_liststream *s)
{
    if (!s) {
        return;
    }
    pl_buf_finish(&s->cap);
    json_decref(s->metadata);
    s->metadata = NULL;
}

const json_t *pl_kube_liststream_metadata(const struct pl_kube_liststream *s)
{
    return s->metadata;
}

/* Records the first error (sticky) and returns it. */
PL_PRINTF(3, 4) static int stream_fail(struct pl_kube_liststream *s, int r, const char *fmt, ...)
{
    if (s->error == 0) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(s->why, sizeof(s->why), fmt, ap);
        va_end(ap);
        if (n < 0) {
            s->why[0] = '\0';
        }
        s->error = r;
    }
    return s->error;
}

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void set_kind(struct pl_kube_liststream *s, unsigned depth, bool object)
{
    uint8_t bit = (uint8_t)(1u << (depth % 8));
    if (object) {
        s->kinds[depth / 8] |= bit;
    } else {
        s->kinds[depth / 8] &= (uint8_t)~bit;
    }
}

static bool kind_is_object(const struct pl_kube_liststream *s, unsigned depth)
{
    return (s->kinds[depth / 8] >> (depth % 8)) & 1u;
}

/* Appends the captured bytes data[from, to) to s->cap. */
static int capture(struct pl_kube_liststream *s, const char *data, size_t from, size_t to)
{
    if (to > from && pl_buf_append(&s->cap, data + from, to - from) < 0) {
        return stream_fail(s, -E2BIG, "%s larger than %zu bytes",
                           s->mode == MODE_META ? "list metadata" : "list item", s->cap.max);
    }
    return 0;
}

/* A captured value ended at data[end - 1]; cap_from is where it started in this chunk. */
static int value_done(struct pl_kube_liststream *s, const char *data, size_t cap_from, size_t end)
{
    const char *p = data + cap_from;
    size_t len = end - cap_from;
    if (s->cap.len > 0) { /* it began in an earlier chunk */
        if (capture(s, data, cap_from, end) < 0) {
            return s->error;
        }
        p = s->cap.data;
        len = s->cap.len;
    } else if (len > s->cap.max) {
        return stream_fail(s, -E2BIG, "%s larger than %zu bytes",
                           s->mode == MODE_META ? "list metadata" : "list item", s->cap.max);
    }
    int r = 0;
    if (s->mode == MODE_META) {
        char jerr[120];
        json_decref(s->metadata);
        s->metadata = pl_json_load(p, len, jerr, sizeof(jerr));
        if (!s->metadata) {
            r = stream_fail(s, -EINVAL, "list metadata: %s", jerr);
        }
        s->mode = MODE_SKIP;
    } else {
        s->items++;
        r = s->on_item ? s->on_item(s->ud, p, len) : 0;
        if (r < 0) {
            r = stream_fail(s, r, "list item %llu refused", (unsigned long long)s->items);
        }
        s->mode = MODE_ITEMS;
    }
    pl_buf_reset(&s->cap);
    return r;
}

/* The first byte of the value of the top-level member s->current. */
static int top_value(struct pl_kube_liststream *s, char c)
{
    s->value_pending = false;
    if (strcmp(s->current, "items") == 0) {
        if (c != '[') {
            return stream_fail(s, -EINVAL, "\"items\" is not an array");
        }
        if (s->seen_items) {
            return stream_fail(s, -EINVAL, "\"items\" given twice");
        }
        s->seen_items = true;
        s->mode = MODE_ITEMS;
    } else if (strcmp(s->current, "metadata") == 0 && c == '{') {
        s->mode = MODE_META;
        s->cap_depth = 1;
    }
    return 0;
}

static int open_bracket(struct pl_kube_liststream *s, char c, bool *ret_capture_start)
{
    bool object = c == '{';
    *ret_capture_start = false;
    if (s->depth == 0) {
        if (!object) {
            return stream_fail(s, -EINVAL, "a list is a JSON object");
        }
    } else if (s->depth == 1) {
        if (!s->value_pending) {
            return stream_fail(s, -EINVAL, "malformed JSON at byte %llu",
                               (unsigned long long)s->bytes);
        }
        if (top_value(s, c) < 0) {
            return s->error;
        }
        *ret_capture_start = s->mode == MODE_META;
    } else if (s->mode == MODE_ITEMS && s->depth == 2) {
        if (!object) {
            return stream_fail(s, -EINVAL, "a list item is not an object");
        }
        s->mode = MODE_ITEM;
        s->cap_depth = 2;
        *ret_capture_start = true;
    }
    if (s->depth >= PL_KUBE_STREAM_DEPTH_MAX - 1) {
        return stream_fail(s, -E2BIG, "JSON nested deeper than %u", PL_KUBE_STREAM_DEPTH_MAX);
    }
    set_kind(s, s->depth, object);
    s->depth++;
    if (s->depth == 1) {
        s->expect_key = true;
    }
    return 0;
}

/* A closing bracket. Sets *ret_done when it ends the captured value. */
static int close_bracket(struct pl_kube_liststream *s, char c, bool *ret_done)
{
    *ret_done = false;
    if (s->depth == 0 || kind_is_object(s, s->depth - 1) != (c == '}')) {
        return stream_fail(s, -EINVAL, "mismatched '%c' at byte %llu", c,
                           (unsigned long long)s->bytes);
    }
    if (s->depth == 1 && s->value_pending) {
        return stream_fail(s, -EINVAL, "member without a value at byte %llu",
                           (unsigned long long)s->bytes);
    }
    s->depth--;
    if ((s->mode == MODE_ITEM || s->mode == MODE_META) && s->depth == s->cap_depth) {
        *ret_done = true;
    } else if (s->mode == MODE_ITEMS && s->depth == 1) {
        s->mode = MODE_SKIP;
    }
    if (s->depth == 0) {
        s->done = true;
    }
    return 0;
}

/* One byte inside a string. */
static void string_byte(struct pl_kube_liststream *s, char c)
{
    if (s->escape) {
        s->escape = false;
        s->key_len = sizeof(s->key); /* an escaped name matches nothing we look for */
    } else if (c == '\\') {
        s->escape = true;
    } else if (c == '"') {
        s->in_string = false;
        if (s->in_key) {
            s->in_key = false;
            s->expect_key = false;
            if (s->key_len < sizeof(s->key)) {
                s->key[s->key_len] = '\0';
            } else {
                s->key[0] = '\0';
            }
        }
    } else if (s->in_key && s->key_len < sizeof(s->key)) {
        s->key[s->key_len++] = c;
    }
}

/* A byte outside strings that is not a bracket. */
static int other_byte(struct pl_kube_liststream *s, char c)
{
    if (s->depth == 0) {
        return stream_fail(s, -EINVAL, "a list is a JSON object");
    }
    if (s->depth == 1) {
        if (c == '"') {
            if (s->expect_key) {
                s->in_key = true;
                s->key_len = 0;
            } else if (s->value_pending) {
                s->value_pending = false;
            } else {
                return stream_fail(s, -EINVAL, "malformed JSON at byte %llu",
                                   (unsigned long long)s->bytes);
            }
        } else if (c == ':') {
            if (s->expect_key || s->value_pending) {
                return stream_fail(s, -EINVAL, "malformed JSON at byte %llu",
                                   (unsigned long long)s->bytes);
            }
            memcpy(s->current, s->key, sizeof(s->current));
            s->value_pending = true;
        } else if (c == ',') {
            s->expect_key = true;
        } else if (s->value_pending) {
            s->value_pending = false; /* a number or a literal */
        }
    } else if (s->mode == MODE_ITEMS && s->depth == 2 && c != ',') {
        return stream_fail(s, -EINVAL, "a list item is not an object");
    }
    if (c == '"') {
        s->in_string = true;
    }
    return 0;
}

/*
 * How many bytes of data[0, n) are plain string content: up to the first '"' or
 * '\\'. Most of a list is strings inside items, which only their end matters to:
 * two memchr calls pass over them much faster than a byte at a time.
 */
static size_t plain_string_run(const char *data, size_t n)
{
    const char *quote = memchr(data, '"', n);
    size_t run = quote ? (size_t)(quote - data) : n;
    const char *backslash = memchr(data, '\\', run);
    return backslash ? (size_t)(backslash - data) : run;
}

int pl_kube_liststream_feed(struct pl_kube_liststream *s, const char *data, size_t n)
{
    if (s->error) {
        return s->error;
    }
    bool capturing = s->mode == MODE_ITEM || s->mode == MODE_META;
    size_t cap_from = 0;
    for (size_t i = 0; i < n; i++, s->bytes++) {
        if (s->in_string && !s->in_key && !s->escape) {
            size_t run = plain_string_run(data + i, n - i);
            i += run;
            s->bytes += run;
            if (i == n) {
                break;
            }
        }
        char c = data[i];
        if (s->in_string) {
            string_byte(s, c);
            continue;
        }
        if (is_ws(c)) {
            continue;
        }
        if (s->done) {
            return stream_fail(s, -EINVAL, "data after the list at byte %llu",
                               (unsigned long long)s->bytes);
        }
        bool edge = false;
        if (c == '{' || c == '[') {
            if (open_bracket(s, c, &edge) < 0) {
                return s->error;
            }
            if (edge) {
                capturing = true;
                cap_from = i;
            }
        } else if (c == '}' || c == ']') {
            if (close_bracket(s, c, &edge) < 0) {
                return s->error;
            }
            if (edge) {
                capturing = false;
                if (value_done(s, data, cap_from, i + 1) < 0) {
                    return s->error;
                }
            }
        } else if (other_byte(s, c) < 0) {
            return s->error;
        }
    }
    if (capturing && capture(s, data, cap_from, n) < 0) {
        return s->error;
    }
    return 0;
}

int pl_kube_liststream_end(struct pl_kube_liststream *s)
{
    if (s->error) {
        return s->error;
    }
    if (!s->done) {
        return stream_fail(s, -EINVAL, "list response cut short after %llu bytes",
                           (unsigned long long)s->bytes);
    }
    if (!s->seen_items) {
        return stream_fail(s, -EINVAL, "list response without \"items\"");
    }
    return 0;
}

void pl_kube_lines_init(struct pl_kube_lines *l, size_t line_max, pl_kube_line_fn on_line, void *ud)
{
    memset(l, 0, sizeof(*l));
    l->on_line = on_line;
    l->ud = ud;
    pl_buf_init(&l->line, line_max ? line_max : PL_KUBE_ITEM_MAX);
}

void pl_kube_lines_finish(struct pl_kube_lines *l)
{
    if (l) {
        pl_buf_finish(&l->line);
    }
}

/* Hands one line (without '\n') to the callback, minus a trailing '\r'; skips empty ones. */
static int emit_line(struct pl_kube_lines *l, const char *p, size_t len)
{
    while (len > 0 && (p[len - 1] == '\r' || p[len - 1] == ' ')) {
        len--;
    }
    if (len == 0) {
        return 0;
    }
    int r = l->on_line ? l->on_line(l->ud, p, len) : 0;
    if (r < 0) {
        l->error = r;
    }
    return r;
}

int pl_kube_lines_feed(struct pl_kube_lines *l, const char *data, size_t n)
{
    const char *p = data;
    const char *end = data + n;
    while (l->error == 0 && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end;
        if (!nl || l->line.len > 0) {
            if (pl_buf_append(&l->line, p, (size_t)(stop - p)) < 0) {
                l->error = -E2BIG;
                break;
            }
            if (!nl) {
                break;
            }
            (void)emit_line(l, l->line.data ? l->line.data : "", l->line.len);
            pl_buf_reset(&l->line);
        } else if ((size_t)(stop - p) > l->line.max) {
            l->error = -E2BIG;
        } else {
            (void)emit_line(l, p, (size_t)(stop - p)); /* whole in this chunk: no copy */
        }
        p = nl + 1;
    }
    return l->error;
}
