/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON-lines logger (see log.h).
 */
#include "core/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/json.h"

static atomic_int min_level = PL_LOG_INFO;
static int log_fd = STDOUT_FILENO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

int pl_log_set_level_name(const char *name)
{
    for (size_t i = 0; i < PL_ARRAY_SIZE(level_names); i++) {
        if (strcmp(name, level_names[i]) == 0) {
            atomic_store(&min_level, (int)i);
            return 0;
        }
    }
    return -EINVAL;
}

void pl_log_set_fd(int fd)
{
    log_fd = fd;
}

int pl_log_enabled(enum pl_log_level level)
{
    return (int)level >= atomic_load(&min_level);
}

static void format_ts(char *out, size_t size)
{
    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    size_t n = strftime(out, size, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, size - n, ".%03ldZ", now.tv_nsec / 1000000L);
}

void pl_log(enum pl_log_level level, const char *msg, json_t *fields)
{
    if (!pl_log_enabled(level)) {
        json_decref(fields);
        return;
    }
    char ts[40];
    format_ts(ts, sizeof(ts));
    json_t *line = json_object();
    if (!line) {
        pl_oom();
    }
    json_object_set_new(line, "ts", json_string(ts));
    json_object_set_new(line, "level", json_string(level_names[level]));
    json_object_set_new(line, "msg", json_string(msg ? msg : ""));
    if (fields) {
        json_object_update_missing(line, fields);
        json_decref(fields);
    }
    size_t len = 0;
    char *text = pl_json_dump(line, JSON_COMPACT | JSON_PRESERVE_ORDER, &len);
    json_decref(line);
    text[len] = '\n'; /* replaces the NUL: one write carries the whole line */
    ssize_t n = write(log_fd, text, len + 1);
    (void)n;
    free(text);
}

void pl_logf(enum pl_log_level level, const char *fmt, ...)
{
    if (!pl_log_enabled(level)) {
        return;
    }
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n < 0) {
        msg[0] = '\0';
    }
    pl_log(level, msg, NULL);
}
