/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON-lines logger: one object per line on stdout (or the fd set with
 * pl_log_set_fd), with "ts" (RFC 3339 UTC, milliseconds), "level", "msg" and
 * the caller's fields. Each line goes out in a single write(2), so lines from
 * different threads never interleave.
 *
 * Only server/ and cli/ log (STYLE rule 12); library layers return errors.
 */
#ifndef PL_CORE_LOG_H
#define PL_CORE_LOG_H

#include <jansson.h>

#include "core/compiler.h"

enum pl_log_level {
    PL_LOG_DEBUG,
    PL_LOG_INFO,
    PL_LOG_WARN,
    PL_LOG_ERROR,
};

/** Sets the lowest level written. Returns 0, or -EINVAL for an unknown name
 * (debug|info|warn|error). */
PL_MUST_CHECK int pl_log_set_level_name(const char *name);

/** Writes to fd from now on (default STDOUT_FILENO). Not thread-safe: call at start-up. */
void pl_log_set_fd(int fd);

/** Whether a line at level would be written. */
int pl_log_enabled(enum pl_log_level level);

/** Writes one line. Steals fields (a JSON object or NULL). Thread-safe. */
void pl_log(enum pl_log_level level, const char *msg, json_t *fields);

/** Writes one line whose "msg" is formatted; no extra fields. Thread-safe. */
PL_PRINTF(2, 3) void pl_logf(enum pl_log_level level, const char *fmt, ...);

#endif
