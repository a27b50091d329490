/* SPDX-License-Identifier: Apache-2.0 */
/*
 * struct pl_error helpers (see error.h).
 */
#include "core/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void pl_error_init(struct pl_error *err)
{
    if (!err) {
        return;
    }
    err->message[0] = '\0';
    err->path[0] = '\0';
    err->line = 0;
}

int pl_error_set(struct pl_error *err, const char *path, int line, const char *fmt, ...)
{
    if (!err) {
        return -EINVAL;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    if (n < 0) {
        err->message[0] = '\0';
    }
    n = snprintf(err->path, sizeof(err->path), "%s", path ? path : "");
    if (n < 0) {
        err->path[0] = '\0';
    }
    err->line = line;
    return -EINVAL;
}

const char *pl_error_format(const struct pl_error *err, char *out, unsigned size)
{
    int n;
    if (err->path[0] && err->line > 0) {
        n = snprintf(out, size, "%s (line %d): %s", err->path, err->line, err->message);
    } else if (err->path[0]) {
        n = snprintf(out, size, "%s: %s", err->path, err->message);
    } else if (err->line > 0) {
        n = snprintf(out, size, "line %d: %s", err->line, err->message);
    } else {
        n = snprintf(out, size, "%s", err->message);
    }
    if (n < 0 && size > 0) {
        out[0] = '\0';
    }
    return out;
}
