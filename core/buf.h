/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A growable byte buffer with its own ceiling (after curl's dynbuf). Every
 * buffer filled from the network or from a user is created with the largest
 * size it may ever reach; an append past that fails with -E2BIG and leaves the
 * buffer as it was, so a hostile peer cannot make it grow without bound.
 * The content is always NUL-terminated (the NUL is not counted in len).
 */
#ifndef PL_CORE_BUF_H
#define PL_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "core/compiler.h"

struct pl_buf {
    char *data; /* NULL until the first append; NUL-terminated after it */
    size_t len; /* bytes used, without the terminating NUL */
    size_t cap; /* bytes allocated */
    size_t max; /* largest len allowed */
};

/** Makes b empty with ceiling max. Allocates nothing. Release with pl_buf_finish(). */
void pl_buf_init(struct pl_buf *b, size_t max);

/** Frees the content; b is empty afterwards and may be reused. Accepts NULL. */
void pl_buf_finish(struct pl_buf *b);

/** Forgets the content but keeps the allocation for reuse. */
void pl_buf_reset(struct pl_buf *b);

/** Cuts the content back to its first len bytes (len <= b->len), keeping the allocation. */
void pl_buf_truncate(struct pl_buf *b, size_t len);

/** Appends n bytes. Returns 0, or -E2BIG (nothing appended) when max would be passed. */
PL_MUST_CHECK int pl_buf_append(struct pl_buf *b, const void *p, size_t n);

/** Appends a NUL-terminated string. Same errors as pl_buf_append(). */
PL_MUST_CHECK int pl_buf_puts(struct pl_buf *b, const char *s);

/** Appends formatted text. Returns 0 or -E2BIG (nothing appended). */
PL_MUST_CHECK PL_PRINTF(2, 3) int pl_buf_printf(struct pl_buf *b, const char *fmt, ...);

/** va_list form of pl_buf_printf(). */
PL_MUST_CHECK PL_PRINTF(2, 0) int pl_buf_vprintf(struct pl_buf *b, const char *fmt, va_list ap);

/**
 * Hands the content to the caller as a NUL-terminated string (never NULL, ""
 * when empty); the caller frees it with free(). b is empty afterwards.
 */
char *pl_buf_steal(struct pl_buf *b);

/** The content as a string: "" when nothing was appended. Borrowed from b. */
const char *pl_buf_str(const struct pl_buf *b);

#endif
