/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pl_json_load (see json.h): a strict RFC 8259 parser that builds jansson
 * values.
 *
 * Why not json_loadb(): parsing is most of the CPU a review costs, and
 * jansson's lexer reads its input one byte at a time through a stream
 * callback, copying every token into a string buffer and every string again
 * into its value: ~260 instructions a byte on an AdmissionReview. This parser
 * works on the contiguous body the server already holds: it scans strings in
 * place with a byte-class table, copies a string once (into its value) unless
 * it has escapes, converts short integers without strtoll(), and keeps the
 * open containers on an explicit stack instead of recursing. It builds the
 * same values jansson's parser would, with the public constructors, so every
 * consumer (and jansson's allocator hooks, core/jalloc.h) is unchanged.
 *
 * It accepts exactly what json_loadb(data, len, JSON_ALLOW_NUL) accepts and
 * builds equal values; test/fuzz/fuzz_json.c checks that difference by
 * difference. In particular: the document is an object or an array; strings
 * are valid UTF-8 without raw control characters; \u escapes pair their
 * surrogates; \u0000 is kept in values and refused in keys; integers fit a
 * json_int_t and reals do not overflow; a later duplicate key replaces an
 * earlier one; a value deeper than JSON_PARSER_MAX_DEPTH (2048, the root
 * being at 1) is refused. Where jansson errs, we do not follow: it loses a
 * raw NUL byte that follows a number or a literal ("[1\0]" reads as [1]),
 * and we refuse such text, which is no JSON.
 */
#include "core/json.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/compiler.h"
#include "core/utf8.h"

/* Bytes inside a string that end the fast scan: '"', '\\', controls, non-ASCII. */
/* clang-format off */
#define ALL16(x) x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x
static const unsigned char string_stop[256] = {
    ALL16(1), ALL16(1),                             /* 0x00-0x1f: controls */
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x22 '"' */
    ALL16(0), ALL16(0),                             /* 0x30-0x4f */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, /* 0x5c '\\' */
    ALL16(0), ALL16(0),                             /* 0x60-0x7f */
    ALL16(1), ALL16(1), ALL16(1), ALL16(1),         /* 0x80-0xff: UTF-8 */
    ALL16(1), ALL16(1), ALL16(1), ALL16(1),
};
#undef ALL16
/* clang-format on */

struct parser {
    const char *start; /* the document, for error positions */
    const char *p;     /* next byte to read */
    const char *end;
    char *why; /* error text, set once by fail() */
    size_t why_size;
    char *scratch[2]; /* decoded escaped strings: [0] keys, [1] values */
    size_t scratch_cap[2];
};

/* Records the first error with its line and column. */
static void fail(struct parser *ps, const char *reason)
{
    if (ps->why && ps->why_size && !ps->why[0]) {
        int line = 1;
        const char *line_start = ps->start;
        for (const char *q = ps->start; q < ps->p && q < ps->end; q++) {
            if (*q == '\n') {
                line++;
                line_start = q + 1;
            }
        }
        snprintf(ps->why, ps->why_size, "invalid JSON at line %d, column %td: %s", line,
                 ps->p - line_start + 1, reason);
    }
}

static void skip_space(struct parser *ps)
{
    const char *p = ps->p;
    while (p < ps->end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) {
        p++;
    }
    ps->p = p;
}

/* The four hex digits at p as a number, or -1. */
static long hex4(const char *p)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0) {
            return -1;
        }
        v = v * 16 + d;
    }
    return v;
}

/* Writes code point cp as UTF-8 at out; returns the bytes written. */
static size_t put_utf8(char *out, uint32_t cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/*
 * Decodes the escape at ps->p (just past the backslash) into out; returns the
 * bytes written, or 0 with the error recorded.
 */
static size_t decode_escape(struct parser *ps, char *out)
{
    if (ps->p >= ps->end) {
        fail(ps, "unterminated string");
        return 0;
    }
    char c = *ps->p++;
    switch (c) {
    case '"':
    case '\\':
    case '/':
        *out = c;
        return 1;
    case 'b':
        *out = '\b';
        return 1;
    case 'f':
        *out = '\f';
        return 1;
    case 'n':
        *out = '\n';
        return 1;
    case 'r':
        *out = '\r';
        return 1;
    case 't':
        *out = '\t';
        return 1;
    case 'u':
        break;
    default:
        ps->p--;
        fail(ps, "invalid escape in string");
        return 0;
    }
    long cp = ps->end - ps->p >= 4 ? hex4(ps->p) : -1;
    if (cp < 0) {
        fail(ps, "invalid \\u escape: four hex digits expected");
        return 0;
    }
    ps->p += 4;
    if (cp >= 0xdc00 && cp <= 0xdfff) {
        fail(ps, "invalid \\u escape: a low surrogate alone");
        return 0;
    }
    if (cp >= 0xd800 && cp <= 0xdbff) {
        long low =
            ps->end - ps->p >= 6 && ps->p[0] == '\\' && ps->p[1] == 'u' ? hex4(ps->p + 2) : -1;
        if (low < 0xdc00 || low > 0xdfff) {
            fail(ps, "invalid \\u escape: a high surrogate alone");
            return 0;
        }
        ps->p += 6;
        cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
    }
    return put_utf8(out, (uint32_t)cp);
}

/*
 * A buffer in scratch slot `slot` big enough for the decoded content of the
 * string that starts at begin: decoding never lengthens, so its encoded
 * length (up to the closing quote, or the end) is enough.
 */
static char *scratch_for(struct parser *ps, int slot, const char *begin)
{
    const char *close = begin;
    while (close < ps->end && *close != '"') {
        close += *close == '\\' && close + 1 < ps->end ? 2 : 1;
    }
    size_t need = (size_t)(close - begin) + 1;
    if (ps->scratch_cap[slot] < need) {
        free(ps->scratch[slot]);
        ps->scratch[slot] = pl_xmalloc(need);
        ps->scratch_cap[slot] = need;
    }
    return ps->scratch[slot];
}

/*
 * Reads the string whose opening quote is at ps->p. On success *ret_s and
 * *ret_len describe its content: a pointer into the document when it has no
 * escapes, else into scratch slot `slot` (valid until the next string read
 * into that slot). Returns false with the error recorded.
 */
static bool read_string(struct parser *ps, int slot, const char **ret_s, size_t *ret_len)
{
    const char *begin = ++ps->p, *p = begin;
    char *out = NULL; /* the decoded content, from the first escape on */
    size_t len = 0;
    for (;;) {
        const char *run = p;
        while (p < ps->end && !string_stop[(unsigned char)*p]) {
            p++;
        }
        if (out) {
            memcpy(out + len, run, (size_t)(p - run));
            len += (size_t)(p - run);
        }
        ps->p = p;
        if (p >= ps->end) {
            fail(ps, "unterminated string");
            return false;
        }
        unsigned char c = (unsigned char)*p;
        if (c == '"') {
            ps->p = p + 1;
            *ret_s = out ? out : begin;
            *ret_len = out ? len : (size_t)(p - begin);
            return true;
        }
        if (c == '\\') {
            if (!out) {
                out = scratch_for(ps, slot, begin);
                len = (size_t)(p - begin);
                memcpy(out, begin, len);
            }
            ps->p = p + 1;
            size_t n = decode_escape(ps, out + len);
            if (n == 0) {
                return false;
            }
            len += n;
            p = ps->p;
            continue;
        }
        size_t n = c >= 0x80
                       ? pl_utf8_sequence((const unsigned char *)p, (const unsigned char *)ps->end)
                       : 0;
        if (n == 0) {
            fail(ps,
                 c < 0x20 ? "control character in string (escape it)" : "invalid UTF-8 in string");
            return false;
        }
        if (out) {
            memcpy(out + len, p, n);
            len += n;
        }
        p += n;
    }
}

static bool is_digit(const char *p, const char *end)
{
    return p < end && *p >= '0' && *p <= '9';
}

/* Moves *p past a run of one digit or more; with none, records why and returns false. */
static bool skip_digits(struct parser *ps, const char **p, const char *why)
{
    if (!is_digit(*p, ps->end)) {
        ps->p = *p;
        fail(ps, why);
        return false;
    }
    while (is_digit(*p, ps->end)) {
        (*p)++;
    }
    return true;
}

/* Reads the number at ps->p (RFC 8259 grammar) into a new value, or NULL. */
static json_t *read_number(struct parser *ps)
{
    const char *begin = ps->p, *p = begin, *end = ps->end;
    bool negative = p < end && *p == '-';
    p += negative;
    if (!is_digit(p, end)) {
        ps->p = p;
        fail(ps, "invalid number");
        return NULL;
    }
    if (*p == '0') {
        p++;
        if (is_digit(p, end)) {
            ps->p = p;
            fail(ps, "invalid number: leading zero");
            return NULL;
        }
    } else {
        while (is_digit(p, end)) {
            p++;
        }
    }
    const char *int_end = p;
    bool real = false;
    if (p < end && *p == '.') {
        p++;
        if (!skip_digits(ps, &p, "invalid number: digits expected after '.'")) {
            return NULL;
        }
        real = true;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        p += p < end && (*p == '+' || *p == '-');
        if (!skip_digits(ps, &p, "invalid number: digits expected in the exponent")) {
            return NULL;
        }
        real = true;
    }
    size_t digits = (size_t)(int_end - begin) - negative;
    if (!real && digits <= 18) { /* 10^18 - 1 fits a json_int_t: no overflow possible */
        json_int_t v = 0;
        for (const char *q = begin + negative; q < int_end; q++) {
            v = v * 10 + (*q - '0');
        }
        ps->p = p;
        return json_integer(negative ? -v : v);
    }
    /* Long integers and reals: the C library converts a NUL-terminated copy. */
    size_t n = (size_t)(p - begin);
    char small[64];
    char *text = n < sizeof(small) ? small : pl_xmalloc(n + 1);
    memcpy(text, begin, n);
    text[n] = '\0';
    json_t *v = NULL;
    errno = 0;
    if (real) {
        double d = strtod(text, NULL);
        if (errno == ERANGE && isinf(d)) {
            fail(ps, "number out of range");
        } else {
            v = json_real(d);
        }
    } else {
        long long i = strtoll(text, NULL, 10);
        if (errno == ERANGE) {
            fail(ps, "integer out of range");
        } else {
            v = json_integer(i);
        }
    }
    if (text != small) {
        free(text);
    }
    if (v) {
        ps->p = p;
    }
    return v;
}

/* Reads true, false or null at ps->p, or NULL. */
static json_t *read_literal(struct parser *ps)
{
    static const struct {
        const char *word;
        size_t len;
    } words[] = {{"true", 4}, {"false", 5}, {"null", 4}};
    for (size_t i = 0; i < PL_ARRAY_SIZE(words); i++) {
        if ((size_t)(ps->end - ps->p) >= words[i].len &&
            memcmp(ps->p, words[i].word, words[i].len) == 0) {
            ps->p += words[i].len;
            return i == 0 ? json_true() : i == 1 ? json_false() : json_null();
        }
    }
    fail(ps, "unexpected character: a value expected");
    return NULL;
}

/* Reads a scalar (string, number or literal) at ps->p into a new value, or NULL. */
static json_t *read_scalar(struct parser *ps)
{
    char c = *ps->p;
    if (c == '"') {
        const char *s;
        size_t len;
        if (!read_string(ps, 1, &s, &len)) {
            return NULL;
        }
        json_t *v = json_stringn_nocheck(s, len);
        if (!v) {
            fail(ps, "out of memory");
        }
        return v;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        return read_number(ps);
    }
    return read_literal(ps);
}

/* An open container: its value (NULL when skipped), what it is, whether it is kept. */
struct frame {
    json_t *value;
    bool object;
    bool skipped; /* the member skipped, or inside it: checked, not built */
};

/* The open containers, innermost last. */
struct stack {
    struct frame *items;
    size_t depth;
    size_t cap;
};

static void push(struct stack *st, struct frame f)
{
    if (st->depth == st->cap) {
        st->cap = st->cap ? 2 * st->cap : 32;
        st->items = pl_xrealloc(st->items, st->cap * sizeof(*st->items));
    }
    st->items[st->depth++] = f;
}

/* Reads the value at ps->p that is skipped: checked as any other, never kept. */
static bool skip_scalar(struct parser *ps)
{
    if (*ps->p == '"') {
        const char *s;
        size_t len;
        return read_string(ps, 1, &s, &len);
    }
    json_t *v = read_scalar(ps);
    json_decref(v);
    return v != NULL;
}

/* Adds v (stolen, even on failure) to the open container top, under key in an object. */
static int attach(struct parser *ps, const struct frame *top, const char *key, size_t key_len,
                  json_t *v)
{
    int r = top->object ? json_object_setn_new_nocheck(top->value, key, key_len, v)
                        : json_array_append_new(top->value, v);
    if (r < 0) {
        fail(ps, "out of memory");
    }
    return r;
}

/*
 * The parse proper: a loop over three states instead of recursion, so depth
 * costs heap (bounded by JSON_PARSER_MAX_DEPTH), not C stack. Each value is
 * attached to its parent as soon as it exists, containers on opening; the
 * root then owns everything, and an error needs only json_decref(root).
 * Members named `skip` (any depth; NULL: none) are parsed but not built.
 */
static json_t *parse(struct parser *ps, struct stack *st, const char *skip)
{
    json_t *root = NULL;
    const char *key = NULL;
    size_t key_len = 0, skip_len = skip ? strlen(skip) : 0;
    bool skip_value = false; /* the value about to be read is a skipped member's */
    enum { VALUE, MEMBER, AFTER } state = VALUE;
    for (;;) {
        skip_space(ps);
        if (ps->p >= ps->end) {
            if (state == AFTER && st->depth == 0) {
                return root;
            }
            fail(ps, "unexpected end of input");
            goto error;
        }
        char c = *ps->p;
        struct frame *top = st->depth ? &st->items[st->depth - 1] : NULL;
        if (state == AFTER) {
            if (!top) {
                fail(ps, "end of input expected after the document");
                goto error;
            }
            if (c == ',') {
                ps->p++;
                state = top->object ? MEMBER : VALUE;
            } else if (c == (top->object ? '}' : ']')) {
                ps->p++;
                st->depth--;
            } else {
                fail(ps, top->object ? "',' or '}' expected" : "',' or ']' expected");
                goto error;
            }
            continue;
        }
        if (state == MEMBER) {
            if (c != '"') {
                fail(ps, "a string key expected");
                goto error;
            }
            if (!read_string(ps, 0, &key, &key_len)) {
                goto error;
            }
            /* Only an escape makes a NUL (a raw one is refused), and only a key
             * with escapes lives in the scratch buffer. */
            bool escaped = key == ps->scratch[0];
            if (escaped && memchr(key, '\0', key_len)) {
                fail(ps, "NUL byte (\\u0000) in an object key");
                goto error;
            }
            skip_value =
                skip && !top->skipped && key_len == skip_len && memcmp(key, skip, skip_len) == 0;
            skip_space(ps);
            if (ps->p >= ps->end || *ps->p != ':') {
                fail(ps, "':' expected after a key");
                goto error;
            }
            ps->p++;
            state = VALUE;
            continue;
        }
        /* state == VALUE. Every value has a depth, scalars too, as in jansson:
         * the innermost of 2048 containers may hold no scalar. */
        if (st->depth >= JSON_PARSER_MAX_DEPTH) {
            fail(ps, "nested deeper than 2048 levels");
            goto error;
        }
        bool skipped = skip_value || (top && top->skipped);
        skip_value = false;
        state = AFTER;
        if (c != '{' && c != '[') {
            if (!top) {
                fail(ps, "the document must be an object or an array");
                goto error;
            }
            json_t *v = NULL;
            if (skipped ? !skip_scalar(ps) : !(v = read_scalar(ps))) {
                goto error;
            }
            if (!skipped && attach(ps, top, key, key_len, v) < 0) {
                goto error;
            }
            continue;
        }
        json_t *v = NULL;
        if (!skipped) {
            v = c == '{' ? json_object() : json_array();
            if (!v) {
                fail(ps, "out of memory");
                goto error;
            }
            if (!top) {
                root = v;
            } else if (attach(ps, top, key, key_len, v) < 0) {
                goto error;
            }
        }
        ps->p++;
        push(st, (struct frame){.value = v, .object = c == '{', .skipped = skipped});
        skip_space(ps);
        if (ps->p < ps->end && *ps->p == (c == '{' ? '}' : ']')) {
            ps->p++;
            st->depth--;
        } else {
            state = c == '{' ? MEMBER : VALUE;
        }
    }
error:
    json_decref(root);
    return NULL;
}

json_t *pl_json_load_skipping(const char *data, size_t len, const char *skip, char *err,
                              size_t err_size)
{
    if (err && err_size) {
        err[0] = '\0';
    }
    if (!data) {
        data = ""; /* no body at all: an empty one (NULL + 0 is not defined in C) */
        len = 0;
    }
    struct parser ps = {
        .start = data, .p = data, .end = data + len, .why = err, .why_size = err_size};
    struct stack st = {0};
    json_t *doc = parse(&ps, &st, skip);
    free(st.items);
    free(ps.scratch[0]);
    free(ps.scratch[1]);
    return doc;
}

json_t *pl_json_load(const char *data, size_t len, char *err, size_t err_size)
{
    return pl_json_load_skipping(data, len, NULL, err, err_size);
}
