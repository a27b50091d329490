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
#include "core/buf.h"
#include "core/json.h"
#include "core/utf8.h"

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

/* Appends v in decimal, its last frac_digits digits after a point
 * (1234567 with 3: "1234.567"; 5 with 3: "0.005"). Every review logs numbers,
 * and printf's formatting machinery is a visible share of a review's cost. */
static int put_decimal(struct pl_buf *b, long long v, int frac_digits)
{
    char digits[32];
    char *p = digits + sizeof(digits);
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    int n = 0;
    do {
        if (n == frac_digits && n > 0) {
            *--p = '.';
        }
        *--p = (char)('0' + u % 10);
        u /= 10;
        n++;
    } while (u || n <= frac_digits);
    if (v < 0) {
        *--p = '-';
    }
    return pl_buf_append(b, p, (size_t)(digits + sizeof(digits) - p));
}

/* Appends the time as "2026-11-25T09:30:00.123Z". The part up to the second
 * changes once a second; each thread keeps it instead of formatting it again. */
static int put_timestamp(struct pl_buf *b)
{
    static _Thread_local time_t second = (time_t)-1;
    static _Thread_local char prefix[32];
    static _Thread_local size_t prefix_len;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    if (now.tv_sec != second || prefix_len == 0) {
        struct tm tm;
        gmtime_r(&now.tv_sec, &tm);
        prefix_len = strftime(prefix, sizeof(prefix), "%Y-%m-%dT%H:%M:%S", &tm);
        second = now.tv_sec;
    }
    unsigned ms = (unsigned)(now.tv_nsec / 1000000L);
    char tail[] = {'.', (char)('0' + ms / 100), (char)('0' + ms / 10 % 10), (char)('0' + ms % 10),
                   'Z'};
    int r = pl_buf_append(b, prefix, prefix_len);
    return r < 0 ? r : pl_buf_append(b, tail, sizeof(tail));
}

/* Appends s as a JSON string: escapes as jansson writes them, invalid UTF-8 as U+FFFD. */
static int put_string(struct pl_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    /* The two-character escapes; other control characters are written \u00XX. */
    static const char short_escape[0x80] = {['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r',
                                            ['\t'] = 't', ['"'] = '"',  ['\\'] = '\\'};
    const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s);
    int r = pl_buf_append(b, "\"", 1);
    while (r == 0 && p < end) {
        const unsigned char *run = p;
        while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') {
            p++;
        }
        r = pl_buf_append(b, run, (size_t)(p - run));
        if (r < 0 || p == end) {
            break;
        }
        if (*p >= 0x80) {
            size_t n = pl_utf8_sequence(p, end);
            r = n ? pl_buf_append(b, p, n) : pl_buf_puts(b, "\\ufffd");
            p += n ? n : 1;
            continue;
        }
        char esc[7] = {'\\', short_escape[*p], 0};
        if (!esc[1]) {
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[*p >> 4];
            esc[5] = hex[*p & 0xf];
        }
        r = pl_buf_puts(b, esc);
        p++;
    }
    return r < 0 ? r : pl_buf_append(b, "\"", 1);
}

/* Room past PL_LOG_LINE_MAX for what pl_log_end adds: ,"truncated":true and }\n. */
#define LINE_TAIL 32

void pl_log_begin(struct pl_log_line *line, enum pl_log_level level, const char *msg)
{
    line->enabled = pl_log_enabled(level);
    line->truncated = false;
    pl_buf_init(&line->text, PL_LOG_LINE_MAX + LINE_TAIL);
    if (!line->enabled) {
        return;
    }
    /* Fits: the timestamp, a level name and a message are far below the ceiling. */
    if (pl_buf_puts(&line->text, "{\"ts\":\"") < 0 || put_timestamp(&line->text) < 0 ||
        pl_buf_puts(&line->text, "\",\"level\":\"") < 0 ||
        pl_buf_puts(&line->text, level_names[level]) < 0 ||
        pl_buf_puts(&line->text, "\",\"msg\":") < 0 ||
        put_string(&line->text, msg ? msg : "") < 0) {
        pl_oom();
    }
}

/*
 * Ends the member that started at mark, its writing having returned r: one
 * that failed or passed PL_LOG_LINE_MAX is taken back whole, and the line
 * will say "truncated". Returns whether the member stays.
 */
static bool member_done(struct pl_log_line *line, size_t mark, int r)
{
    if (r == 0 && line->text.len <= PL_LOG_LINE_MAX) {
        return true;
    }
    pl_buf_truncate(&line->text, mark);
    line->truncated = true;
    return false;
}

/*
 * Starts member key (a comma, the key, a colon) and sets *ret_mark to where it
 * began. Returns false, writing nothing, when the line is not enabled or the
 * key does not fit: the caller then writes no value.
 */
static bool member(struct pl_log_line *line, const char *key, size_t *ret_mark)
{
    if (!line->enabled) {
        return false;
    }
    size_t mark = line->text.len;
    int r = pl_buf_append(&line->text, ",", 1);
    r = r < 0 ? r : put_string(&line->text, key);
    r = r < 0 ? r : pl_buf_append(&line->text, ":", 1);
    *ret_mark = mark;
    return member_done(line, mark, r);
}

void pl_log_str(struct pl_log_line *line, const char *key, const char *value)
{
    size_t mark;
    if (member(line, key, &mark)) {
        member_done(line, mark,
                    value ? put_string(&line->text, value) : pl_buf_puts(&line->text, "null"));
    }
}

void pl_log_bool(struct pl_log_line *line, const char *key, bool value)
{
    size_t mark;
    if (member(line, key, &mark)) {
        member_done(line, mark, pl_buf_puts(&line->text, value ? "true" : "false"));
    }
}

void pl_log_int(struct pl_log_line *line, const char *key, long long value)
{
    size_t mark;
    if (member(line, key, &mark)) {
        member_done(line, mark, put_decimal(&line->text, value, 0));
    }
}

void pl_log_ms(struct pl_log_line *line, const char *key, double seconds)
{
    size_t mark;
    if (member(line, key, &mark)) {
        /* Milliseconds to the microsecond. A latency is seconds at most; what
         * no clock gives (NaN, infinities, 30 years) is written as 0. */
        double us = seconds * 1e6;
        long long rounded = us > -1e15 && us < 1e15 ? (long long)(us < 0 ? us - 0.5 : us + 0.5) : 0;
        member_done(line, mark, put_decimal(&line->text, rounded, 3));
    }
}

void pl_log_json(struct pl_log_line *line, const char *key, const json_t *value)
{
    size_t mark;
    if (member(line, key, &mark)) {
        member_done(line, mark,
                    value ? pl_json_dump_append(value, JSON_COMPACT | JSON_ENCODE_ANY, &line->text)
                          : pl_buf_puts(&line->text, "null"));
    }
}

void pl_log_end(struct pl_log_line *line)
{
    if (line->enabled) {
        /* Fits: members never pass PL_LOG_LINE_MAX, and LINE_TAIL is kept past it. */
        if ((line->truncated && pl_buf_puts(&line->text, ",\"truncated\":true") < 0) ||
            pl_buf_append(&line->text, "}\n", 2) < 0) {
            pl_oom();
        }
        ssize_t n = write(log_fd, line->text.data, line->text.len);
        (void)n;
    }
    pl_buf_finish(&line->text);
}

void pl_log(enum pl_log_level level, const char *msg, json_t *fields)
{
    struct pl_log_line line;
    pl_log_begin(&line, level, msg);
    const char *key;
    json_t *value;
    json_object_foreach(fields, key, value)
    {
        /* The caller's fields never replace the line's own. */
        if (strcmp(key, "ts") != 0 && strcmp(key, "level") != 0 && strcmp(key, "msg") != 0) {
            pl_log_json(&line, key, value);
        }
    }
    pl_log_end(&line);
    json_decref(fields);
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
