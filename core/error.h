/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Why something failed, for the caller who has to tell a person: a message,
 * the field path it concerns, and the source line when the input was a file
 * (like jansson's json_error_t). Fixed-size so that it can live on the stack
 * and be filled without allocating.
 */
#ifndef PL_CORE_ERROR_H
#define PL_CORE_ERROR_H

#include "core/compiler.h"

struct pl_error {
    char message[512]; /* one line, no trailing period needed */
    char path[256];    /* field path ("policies.resources.require[1]") or "" */
    int line;          /* 1-based source line, 0 when unknown */
};

/** Empties err. Accepts NULL. */
void pl_error_init(struct pl_error *err);

/**
 * Fills err (if not NULL) with a formatted message, path and line. Text that
 * does not fit is cut. Returns -EINVAL so that callers can write
 * `return pl_error_set(err, ...);`.
 */
PL_PRINTF(4, 5)
int pl_error_set(struct pl_error *err, const char *path, int line, const char *fmt, ...);

/**
 * Renders "path (line N): message" (parts left out when empty) into out,
 * which holds size bytes. Returns out.
 */
const char *pl_error_format(const struct pl_error *err, char *out, unsigned size);

#endif
