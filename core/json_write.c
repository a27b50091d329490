/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Compact JSON serialisation of jansson values (see json_write.h). The text
 * is byte for byte what json_dumps(json, JSON_COMPACT) writes: members in
 * insertion order, "," and ":" without spaces, strings escaped as jansson
 * escapes them (\" \\ \b \f \n \r \t, other control characters \u00XX in
 * upper-case hex, everything else as it is). It differs in speed only:
 * jansson decodes every character of a string through a function call and
 * writes through a callback per run, which for the base64 patch of a /mutate
 * answer was a third of the handler's instructions; here a string is scanned
 * with a byte-class table and copied in runs.
 */
#include "core/json_write.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/utf8.h"

/* Deeper than anything the parser accepts (core/json_parse.c), and a bound on
 * recursion: a value that contains itself fails instead of overflowing the stack. */
#define WRITE_MAX_DEPTH 2048

/* Per byte: 0 copied as it is, 1 escaped, 2 the first byte of a multi-byte
 * UTF-8 sequence (checked, then copied), 3 never valid in UTF-8. */
static const unsigned char byte_class[256] = {
    /* 0x00-0x1f: control characters */
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    /* 0x20-0x7f: '"' (0x22) and '\\' (0x5c) escaped */
    0,
    0,
    1,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    1,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    /* 0x80-0xbf: continuation bytes, never first */
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    3,
    /* 0xc0-0xff: lead bytes (pl_utf8_sequence refuses the invalid ones) */
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
};

/* pl_buf_append() without the call when the bytes fit in what is allocated:
 * a patch or a response is written in hundreds of short pieces. */
static inline int put(struct pl_buf *out, const void *p, size_t n)
{
    if (out->data && n < out->cap - out->len && n <= out->max - out->len) {
        memcpy(out->data + out->len, p, n);
        out->len += n;
        out->data[out->len] = '\0';
        return 0;
    }
    return pl_buf_append(out, p, n);
}

/* The escape of an ASCII byte of class 1, written to seq; returns its length. */
static size_t escape(unsigned char c, char seq[8])
{
    static const char hex[] = "0123456789ABCDEF";
    char short_form = 0;
    switch (c) {
    case '"':
        short_form = '"';
        break;
    case '\\':
        short_form = '\\';
        break;
    case '\b':
        short_form = 'b';
        break;
    case '\f':
        short_form = 'f';
        break;
    case '\n':
        short_form = 'n';
        break;
    case '\r':
        short_form = 'r';
        break;
    case '\t':
        short_form = 't';
        break;
    default:
        break;
    }
    seq[0] = '\\';
    if (short_form) {
        seq[1] = short_form;
        return 2;
    }
    memcpy(seq + 1, "u00", 3);
    seq[4] = hex[c >> 4];
    seq[5] = hex[c & 15];
    return 6;
}

/* Whether any of the eight bytes in w needs a look: below 0x20, '"', '\\',
 * or not ASCII (the usual has-zero-byte trick; it is exact about whether
 * there is one, which is all that is asked). */
static bool word_needs_look(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101u;
    const uint64_t highs = 0x8080808080808080u;
    uint64_t quote = w ^ (ones * '"');
    uint64_t backslash = w ^ (ones * '\\');
    uint64_t control = (w - ones * 0x20) & ~w;
    uint64_t is_quote = (quote - ones) & ~quote;
    uint64_t is_backslash = (backslash - ones) & ~backslash;
    return ((control | is_quote | is_backslash | w) & highs) != 0;
}

/* The end of the run of bytes at p that are copied as they are: eight at a
 * time while none needs a look (a base64 patch is one such run), then byte
 * by byte. */
static const unsigned char *plain_run(const unsigned char *p, const unsigned char *end)
{
    while (end - p >= 8) {
        uint64_t w;
        memcpy(&w, p, sizeof(w));
        if (word_needs_look(w)) {
            break;
        }
        p += 8;
    }
    while (p < end && byte_class[*p] == 0) {
        p++;
    }
    return p;
}

int pl_json_write_string(const char *s, size_t len, struct pl_buf *out)
{
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *end = p + len;
    if (put(out, "\"", 1) < 0) {
        return -E2BIG;
    }
    while (p < end) {
        const unsigned char *run = p;
        p = plain_run(p, end);
        while (p < end && byte_class[*p] == 2) {
            /* A run of non-ASCII characters is copied with the ASCII around it. */
            size_t n = pl_utf8_sequence(p, end);
            if (n == 0) {
                return -EILSEQ;
            }
            p = plain_run(p + n, end);
        }
        if (p > run && put(out, run, (size_t)(p - run)) < 0) {
            return -E2BIG;
        }
        if (p == end) {
            break;
        }
        if (byte_class[*p] == 3) {
            return -EILSEQ;
        }
        if (byte_class[*p] == 1) {
            char seq[8];
            if (put(out, seq, escape(*p, seq)) < 0) {
                return -E2BIG;
            }
            p++;
        }
    }
    return put(out, "\"", 1) < 0 ? -E2BIG : 0;
}

static int write_value(const json_t *v, struct pl_buf *out, unsigned depth);

static int write_array(const json_t *v, struct pl_buf *out, unsigned depth)
{
    size_t n = json_array_size(v);
    if (put(out, "[", 1) < 0) {
        return -E2BIG;
    }
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && put(out, ",", 1) < 0) {
            return -E2BIG;
        }
        int r = write_value(json_array_get(v, i), out, depth + 1);
        if (r < 0) {
            return r;
        }
    }
    return put(out, "]", 1) < 0 ? -E2BIG : 0;
}

static int write_object(const json_t *v, struct pl_buf *out, unsigned depth)
{
    if (put(out, "{", 1) < 0) {
        return -E2BIG;
    }
    /* jansson's iterator takes a non-const object but only reads it. */
    bool first = true;
    for (void *it = json_object_iter((json_t *)v); it;
         it = json_object_iter_next((json_t *)v, it)) {
        if (!first && put(out, ",", 1) < 0) {
            return -E2BIG;
        }
        first = false;
        int r = pl_json_write_string(json_object_iter_key(it), json_object_iter_key_len(it), out);
        if (r == 0 && put(out, ":", 1) < 0) {
            r = -E2BIG;
        }
        if (r == 0) {
            r = write_value(json_object_iter_value(it), out, depth + 1);
        }
        if (r < 0) {
            return r;
        }
    }
    return put(out, "}", 1) < 0 ? -E2BIG : 0;
}

/* A real as jansson writes it ("%.17g", with ".0" added to an integral value):
 * rare in admission traffic, so jansson itself writes it. */
static int write_real(const json_t *v, struct pl_buf *out)
{
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!text) {
        return -EINVAL; /* NaN or infinity cannot be written */
    }
    int r = pl_buf_puts(out, text) < 0 ? -E2BIG : 0;
    json_free_t free_fn;
    json_get_alloc_funcs(NULL, &free_fn);
    free_fn(text);
    return r;
}

static int write_value(const json_t *v, struct pl_buf *out, unsigned depth)
{
    if (depth > WRITE_MAX_DEPTH) {
        return -ELOOP;
    }
    int r = 0;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return write_object(v, out, depth);
    case JSON_ARRAY:
        return write_array(v, out, depth);
    case JSON_STRING:
        return pl_json_write_string(json_string_value(v), json_string_length(v), out);
    case JSON_INTEGER: {
        char num[32];
        int n = snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        r = put(out, num, (size_t)n);
        break;
    }
    case JSON_REAL:
        return write_real(v, out);
    case JSON_TRUE:
        r = put(out, "true", 4);
        break;
    case JSON_FALSE:
        r = put(out, "false", 5);
        break;
    case JSON_NULL:
        r = put(out, "null", 4);
        break;
    default:
        return -EINVAL;
    }
    return r < 0 ? -E2BIG : 0;
}

int pl_json_write(const json_t *json, bool any, struct pl_buf *out)
{
    if (!json || (!any && !json_is_object(json) && !json_is_array(json))) {
        return -EINVAL;
    }
    size_t len = out->len;
    int r = write_value(json, out, 0);
    if (r < 0) {
        pl_buf_truncate(out, len);
    }
    return r;
}
