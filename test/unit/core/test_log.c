/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of core/log.c: level names and filtering, one JSON object per
 * line with "ts" (RFC 3339 UTC with milliseconds), "level" and "msg" first,
 * caller fields after them (never replacing them), stolen fields released
 * also when the line is filtered out, and pl_logf's formatting and cut; the
 * line builder (pl_log_begin ... pl_log_end): escapes as JSON has them,
 * invalid UTF-8 replaced, milliseconds to the microsecond, a field past the
 * line's ceiling left out with "truncated": true.
 * Lines are read back through a pipe set with pl_log_set_fd().
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/log.h"
#include "test/helpers/log_capture.h"

/* Every test starts at level info with nothing pending in the pipe. */
static int reset_level(void **state)
{
    (void)state;
    char buf[4096];
    while (read(pl_test_log_fd(), buf, sizeof(buf)) > 0) {
    }
    return pl_log_set_level_name("info");
}

/* Everything written since the last call (empty string when nothing). */
static char *drain(void)
{
    static char buf[65536];
    size_t len = 0;
    for (;;) {
        ssize_t n = read(pl_test_log_fd(), buf + len, sizeof(buf) - 1 - len);
        if (n <= 0) {
            break;
        }
        len += (size_t)n;
    }
    buf[len] = '\0';
    return buf;
}

/* Parses one line (which must end in exactly one newline). New reference. */
static json_t *parse_line(const char *text)
{
    size_t len = strlen(text);
    assert_true(len > 1);
    assert_int_equal(text[len - 1], '\n');
    assert_null(memchr(text, '\n', len - 1)); /* a single line */
    json_error_t jerr;
    json_t *line = json_loadb(text, len, 0, &jerr);
    if (!line) {
        fail_msg("not JSON: %s: %s", text, jerr.text);
    }
    return line;
}

static void test_level_names(void **state)
{
    (void)state;
    assert_int_equal(pl_log_set_level_name("debug"), 0);
    assert_true(pl_log_enabled(PL_LOG_DEBUG));
    assert_int_equal(pl_log_set_level_name("warn"), 0);
    assert_false(pl_log_enabled(PL_LOG_DEBUG));
    assert_false(pl_log_enabled(PL_LOG_INFO));
    assert_true(pl_log_enabled(PL_LOG_WARN));
    assert_true(pl_log_enabled(PL_LOG_ERROR));
    assert_int_equal(pl_log_set_level_name("error"), 0);
    assert_false(pl_log_enabled(PL_LOG_WARN));
    assert_int_equal(pl_log_set_level_name("info"), 0);
    assert_true(pl_log_enabled(PL_LOG_INFO));
    assert_false(pl_log_enabled(PL_LOG_DEBUG));
    /* Unknown names fail and change nothing. */
    assert_int_equal(pl_log_set_level_name("warning"), -EINVAL);
    assert_int_equal(pl_log_set_level_name("INFO"), -EINVAL);
    assert_int_equal(pl_log_set_level_name(""), -EINVAL);
    assert_true(pl_log_enabled(PL_LOG_INFO));
    assert_false(pl_log_enabled(PL_LOG_DEBUG));
}

static void test_line_shape(void **state)
{
    (void)state;
    pl_log(PL_LOG_INFO, "admission decision",
           json_pack("{s:s, s:i, s:b}", "uid", "abc-123", "latency_ms", 3, "dry_run", 0));
    char *text = drain();
    json_t *line = parse_line(text);
    assert_string_equal(json_string_value(json_object_get(line, "level")), "info");
    assert_string_equal(json_string_value(json_object_get(line, "msg")), "admission decision");
    assert_string_equal(json_string_value(json_object_get(line, "uid")), "abc-123");
    assert_int_equal(json_integer_value(json_object_get(line, "latency_ms")), 3);
    assert_true(json_is_false(json_object_get(line, "dry_run")));
    assert_int_equal(json_object_size(line), 6);
    /* ts, level, msg come first, in that order, compact. */
    assert_memory_equal(text, "{\"ts\":\"", 7);
    assert_non_null(strstr(text, "\",\"level\":\"info\",\"msg\":\"admission decision\",\"uid\""));
    regex_t re;
    assert_int_equal(regcomp(&re,
                             "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$",
                             REG_EXTENDED | REG_NOSUB),
                     0);
    const char *ts = json_string_value(json_object_get(line, "ts"));
    if (regexec(&re, ts, 0, NULL, 0) != 0) {
        fail_msg("ts \"%s\" is not RFC 3339 UTC with milliseconds", ts);
    }
    regfree(&re);
    json_decref(line);
}

static void test_levels_written(void **state)
{
    (void)state;
    const char *names[] = {"debug", "info", "warn", "error"};
    assert_int_equal(pl_log_set_level_name("debug"), 0);
    for (int l = PL_LOG_DEBUG; l <= PL_LOG_ERROR; l++) {
        pl_log((enum pl_log_level)l, "m", NULL);
        json_t *line = parse_line(drain());
        assert_string_equal(json_string_value(json_object_get(line, "level")), names[l]);
        json_decref(line);
    }
}

static void test_filtered_lines(void **state)
{
    (void)state;
    assert_int_equal(pl_log_set_level_name("warn"), 0);
    /* The fields are stolen even when nothing is written (valgrind/ASan see a leak otherwise). */
    pl_log(PL_LOG_INFO, "dropped", json_pack("{s:s}", "k", "v"));
    pl_log(PL_LOG_DEBUG, "dropped", NULL);
    pl_logf(PL_LOG_INFO, "dropped %d", 1);
    assert_string_equal(drain(), "");
    pl_log(PL_LOG_WARN, "kept", NULL);
    json_t *line = parse_line(drain());
    assert_string_equal(json_string_value(json_object_get(line, "msg")), "kept");
    json_decref(line);
}

static void test_fields_do_not_replace_core_keys(void **state)
{
    (void)state;
    pl_log(PL_LOG_ERROR, "real",
           json_pack("{s:s, s:s, s:s, s:s}", "msg", "fake", "level", "debug", "ts", "0", "x", "y"));
    json_t *line = parse_line(drain());
    assert_string_equal(json_string_value(json_object_get(line, "msg")), "real");
    assert_string_equal(json_string_value(json_object_get(line, "level")), "error");
    assert_string_not_equal(json_string_value(json_object_get(line, "ts")), "0");
    assert_string_equal(json_string_value(json_object_get(line, "x")), "y");
    json_decref(line);
}

static void test_null_message_and_escaping(void **state)
{
    (void)state;
    pl_log(PL_LOG_INFO, NULL, NULL);
    json_t *line = parse_line(drain());
    assert_string_equal(json_string_value(json_object_get(line, "msg")), "");
    json_decref(line);
    /* Newlines and quotes in text stay inside one line. */
    pl_log(PL_LOG_INFO, "two\nlines \"quoted\"", json_pack("{s:s}", "f", "a\nb"));
    line = parse_line(drain());
    assert_string_equal(json_string_value(json_object_get(line, "msg")), "two\nlines \"quoted\"");
    assert_string_equal(json_string_value(json_object_get(line, "f")), "a\nb");
    json_decref(line);
}

/* A line built field by field reads back as the same values, escapes and all. */
static void test_line_builder(void **state)
{
    (void)state;
    struct pl_log_line line;
    pl_log_begin(&line, PL_LOG_INFO, "built");
    pl_log_str(&line, "plain", "v");
    pl_log_str(&line, "escapes", "q\" b\\ nl\n tab\t cr\r bs\b ff\f ctl\x01\x1f end");
    pl_log_str(&line, "utf8", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    pl_log_str(&line, "bad-utf8",
               "a\xff"
               "b\xc3("
               "c\xed\xa0\x80");
    pl_log_str(&line, "null", NULL);
    pl_log_bool(&line, "yes", true);
    pl_log_int(&line, "n", -42);
    pl_log_ms(&line, "latency_ms", 0.0001234567);
    json_t *arr = json_pack("[s, i]", "x", 1);
    pl_log_json(&line, "arr", arr);
    json_decref(arr);
    pl_log_end(&line);
    const char *text = drain();
    json_t *got = parse_line(text);
    assert_string_equal(json_string_value(json_object_get(got, "msg")), "built");
    assert_string_equal(json_string_value(json_object_get(got, "plain")), "v");
    assert_string_equal(json_string_value(json_object_get(got, "escapes")),
                        "q\" b\\ nl\n tab\t cr\r bs\b ff\f ctl\x01\x1f end");
    assert_non_null(strstr(text, "ctl\\u0001\\u001f end"));
    assert_string_equal(json_string_value(json_object_get(got, "utf8")),
                        "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    /* each bad byte becomes U+FFFD; the good ones stay */
    assert_string_equal(json_string_value(json_object_get(got, "bad-utf8")),
                        "a\xef\xbf\xbd"
                        "b\xef\xbf\xbd(c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    assert_true(json_is_null(json_object_get(got, "null")));
    assert_true(json_is_true(json_object_get(got, "yes")));
    assert_int_equal(json_integer_value(json_object_get(got, "n")), -42);
    assert_non_null(strstr(text, "\"latency_ms\":0.123,")); /* ms, to the microsecond */
    assert_int_equal(json_array_size(json_object_get(got, "arr")), 2);
    assert_null(json_object_get(got, "truncated"));
    json_decref(got);
}

/* Numbers are written by hand, not printf: the edges. */
static void test_line_builder_numbers(void **state)
{
    (void)state;
    struct pl_log_line line;
    pl_log_begin(&line, PL_LOG_INFO, "numbers");
    pl_log_int(&line, "zero", 0);
    pl_log_int(&line, "max", LLONG_MAX);
    pl_log_int(&line, "min", LLONG_MIN);
    pl_log_ms(&line, "ms0", 0.0);
    pl_log_ms(&line, "ms_small", 0.000005);  /* 5 µs */
    pl_log_ms(&line, "ms_round", 0.0012346); /* 1234.6 µs rounds to 1.235 ms */
    pl_log_ms(&line, "ms_big", 3723.5);      /* an hour and more */
    pl_log_ms(&line, "ms_neg", -0.002);      /* a clock stepped back */
    pl_log_ms(&line, "ms_neg_small", -0.000005);
    pl_log_end(&line);
    const char *text = drain();
    json_t *got = parse_line(text);
    assert_non_null(strstr(text, "\"zero\":0,\"max\":9223372036854775807,"
                                 "\"min\":-9223372036854775808,"));
    assert_non_null(strstr(text,
                           "\"ms0\":0.000,\"ms_small\":0.005,\"ms_round\":1.235,"
                           "\"ms_big\":3723500.000,\"ms_neg\":-2.000,\"ms_neg_small\":-0.005}"));
    assert_int_equal(json_integer_value(json_object_get(got, "min")), LLONG_MIN);
    json_decref(got);
}

/* A field that would pass PL_LOG_LINE_MAX is left out, and the line says so. */
static void test_line_builder_truncates(void **state)
{
    (void)state;
    size_t n = PL_LOG_LINE_MAX + 10;
    char *big = malloc(n + 1);
    memset(big, 'x', n);
    big[n] = '\0';
    struct pl_log_line line;
    pl_log_begin(&line, PL_LOG_INFO, "big");
    pl_log_str(&line, "before", "kept");
    pl_log_str(&line, "huge", big);
    pl_log_str(&line, "after", "kept too");
    pl_log_end(&line);
    json_t *got = parse_line(drain());
    assert_null(json_object_get(got, "huge"));
    assert_string_equal(json_string_value(json_object_get(got, "before")), "kept");
    assert_string_equal(json_string_value(json_object_get(got, "after")), "kept too");
    assert_true(json_is_true(json_object_get(got, "truncated")));
    json_decref(got);
    /* Below the level: nothing is built, nothing written. */
    pl_log_begin(&line, PL_LOG_DEBUG, "filtered");
    pl_log_str(&line, "huge", big);
    pl_log_end(&line);
    assert_string_equal(drain(), "");
    free(big);
}

static void test_logf(void **state)
{
    (void)state;
    pl_logf(PL_LOG_WARN, "reload of %s failed: %d", "config.yaml", -22);
    json_t *line = parse_line(drain());
    assert_string_equal(json_string_value(json_object_get(line, "msg")),
                        "reload of config.yaml failed: -22");
    assert_string_equal(json_string_value(json_object_get(line, "level")), "warn");
    assert_int_equal(json_object_size(line), 3);
    json_decref(line);
    /* Longer than the 1024-byte message buffer: cut to 1023 bytes. */
    char big[3000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    pl_logf(PL_LOG_INFO, "%s", big);
    line = parse_line(drain());
    assert_int_equal(strlen(json_string_value(json_object_get(line, "msg"))), 1023);
    json_decref(line);
}

static void test_many_lines_in_order(void **state)
{
    (void)state;
    for (int i = 0; i < 50; i++) {
        pl_log(PL_LOG_INFO, "n", json_pack("{s:i}", "i", i));
    }
    char *text = drain();
    int i = 0;
    for (char *p = text; *p; i++) {
        char *nl = strchr(p, '\n');
        assert_non_null(nl);
        json_error_t jerr;
        json_t *line = json_loadb(p, (size_t)(nl - p), 0, &jerr);
        assert_non_null(line);
        assert_int_equal(json_integer_value(json_object_get(line, "i")), i);
        json_decref(line);
        p = nl + 1;
    }
    assert_int_equal(i, 50);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_level_names, reset_level),
        cmocka_unit_test_setup(test_line_shape, reset_level),
        cmocka_unit_test_setup(test_levels_written, reset_level),
        cmocka_unit_test_setup(test_filtered_lines, reset_level),
        cmocka_unit_test_setup(test_fields_do_not_replace_core_keys, reset_level),
        cmocka_unit_test_setup(test_null_message_and_escaping, reset_level),
        cmocka_unit_test_setup(test_line_builder, reset_level),
        cmocka_unit_test_setup(test_line_builder_numbers, reset_level),
        cmocka_unit_test_setup(test_line_builder_truncates, reset_level),
        cmocka_unit_test_setup(test_logf, reset_level),
        cmocka_unit_test_setup(test_many_lines_in_order, reset_level),
    };
    return cmocka_run_group_tests(tests, pl_test_log_capture, pl_test_log_restore);
}
