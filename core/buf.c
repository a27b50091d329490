/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bounded growable buffer (see buf.h).
 */
#include "core/buf.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

void pl_buf_init(struct pl_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void pl_buf_finish(struct pl_buf *b)
{
    if (!b) {
        return;
    }
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void pl_buf_reset(struct pl_buf *b)
{
    pl_buf_truncate(b, 0);
}

void pl_buf_truncate(struct pl_buf *b, size_t len)
{
    assert(len <= b->len);
    b->len = len;
    if (b->data) {
        b->data[len] = '\0';
    }
}

/* Makes room for n more bytes plus the NUL. The caller checked the ceiling. */
static void reserve(struct pl_buf *b, size_t n)
{
    size_t need = b->len + n + 1;
    if (need <= b->cap) {
        return;
    }
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) {
        cap *= 2;
    }
    if (cap > b->max + 1) {
        cap = b->max + 1;
    }
    b->data = pl_xrealloc(b->data, cap);
    b->cap = cap;
}

int pl_buf_append(struct pl_buf *b, const void *p, size_t n)
{
    if (n > b->max - b->len) {
        return -E2BIG;
    }
    reserve(b, n);
    if (n) {
        memcpy(b->data + b->len, p, n);
    }
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int pl_buf_puts(struct pl_buf *b, const char *s)
{
    return pl_buf_append(b, s, strlen(s));
}

int pl_buf_vprintf(struct pl_buf *b, const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0) {
        return -EINVAL;
    }
    if ((size_t)n > b->max - b->len) {
        return -E2BIG;
    }
    reserve(b, (size_t)n);
    int written = vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    if (written != n) {
        b->data[b->len] = '\0';
        return -EINVAL;
    }
    b->len += (size_t)n;
    return 0;
}

int pl_buf_printf(struct pl_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = pl_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return r;
}

char *pl_buf_steal(struct pl_buf *b)
{
    char *s = b->data ? b->data : pl_xstrdup("");
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return s;
}

const char *pl_buf_str(const struct pl_buf *b)
{
    return b->data ? b->data : "";
}
