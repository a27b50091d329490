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

#include <stdbool.h>

#include <jansson.h>

#include "core/buf.h"
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

/* Longest line: a member that would pass it is left out, and the line ends
 * with "truncated": true. */
#define PL_LOG_LINE_MAX (64u * 1024u)

/*
 * A line written field by field, for the hot path (one line per admission
 * review): the text is built directly, without a jansson object per line.
 *
 *     struct pl_log_line line;
 *     pl_log_begin(&line, PL_LOG_INFO, "admission decision");
 *     pl_log_str(&line, "uid", uid);
 *     pl_log_ms(&line, "latency_ms", seconds);
 *     pl_log_end(&line);
 *
 * Every call is cheap when level is not enabled. Keys are not checked for
 * duplicates; the caller writes each once. Strings that are not UTF-8 are
 * written with U+FFFD in place of the bad bytes.
 */
struct pl_log_line {
    struct pl_buf text;
    bool enabled;
    bool truncated;
};

/** Starts a line with "ts", "level" and "msg". End it with pl_log_end(). */
void pl_log_begin(struct pl_log_line *line, enum pl_log_level level, const char *msg);

/** Adds key: a string (NULL: null). */
void pl_log_str(struct pl_log_line *line, const char *key, const char *value);

/** Adds key: true or false. */
void pl_log_bool(struct pl_log_line *line, const char *key, bool value);

/** Adds key: an integer. */
void pl_log_int(struct pl_log_line *line, const char *key, long long value);

/** Adds key: seconds as milliseconds, to the microsecond ("latency_ms": 0.057). */
void pl_log_ms(struct pl_log_line *line, const char *key, double seconds);

/** Adds key: any JSON value, borrowed (NULL: null). */
void pl_log_json(struct pl_log_line *line, const char *key, const json_t *value);

/** Writes the line in one write(2) and releases it. */
void pl_log_end(struct pl_log_line *line);

#endif
