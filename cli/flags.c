/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Options that are also environment variables (see flags.h).
 */
#include "cli/flags.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

/* getopt_long's codes for the table's options: above every character. */
#define FLAG_CODE 256
#define FLAGS_MAX 64

int pl_flags_parse(const char *command, struct pl_flag *flags, size_t n, int argc, char **argv,
                   void (*usage)(FILE *out))
{
    struct option options[FLAGS_MAX + 2];
    if (n > FLAGS_MAX) {
        abort(); /* a table this long is a programming error */
    }
    for (size_t i = 0; i < n; i++) {
        options[i] =
            (struct option){flags[i].name, flags[i].switch_ ? no_argument : required_argument, NULL,
                            FLAG_CODE + (int)i};
        flags[i].value = NULL;
    }
    options[n] = (struct option){"help", no_argument, NULL, 'h'};
    options[n + 1] = (struct option){NULL, 0, NULL, 0};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            return 1;
        }
        if (c < FLAG_CODE || c >= FLAG_CODE + (int)n) {
            usage(stderr);
            return -1;
        }
        flags[c - FLAG_CODE].value = flags[c - FLAG_CODE].switch_ ? "true" : optarg;
    }
    if (optind < argc) {
        fprintf(stderr, "plimsoll %s: unexpected argument \"%s\"\n", command, argv[optind]);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (!flags[i].value) {
            const char *env = getenv(flags[i].env);
            flags[i].value = env && *env ? env : flags[i].def;
        }
    }
    return 0;
}

void pl_flags_usage(FILE *out, const struct pl_flag *flags, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct pl_flag *f = &flags[i];
        char left[64];
        snprintf(left, sizeof(left), "--%s%s", f->name, f->switch_ ? "" : " VALUE");
        /* A name longer than the column gets a line of its own. */
        fprintf(out, strlen(left) > 28 ? "  %s\n  %-28s " : "  %-28s %s", left, "");
        fprintf(out, "%s%s%s%s [%s]\n", f->help, f->def ? " (default " : "", f->def ? f->def : "",
                f->def ? ")" : "", f->env);
    }
}

bool pl_flag_on(const struct pl_flag *f)
{
    return f->value && strcmp(f->value, "true") == 0;
}

int pl_flag_uint(const char *command, const struct pl_flag *f, unsigned long min, unsigned long max,
                 unsigned *ret)
{
    const char *s = f->value;
    char *end = NULL;
    unsigned long v = s && *s && *s != '-' ? strtoul(s, &end, 10) : 0;
    if (!s || !*s || *s == '-' || *end || v < min || v > max) {
        fprintf(stderr, "plimsoll %s: --%s must be a number from %lu to %lu\n", command, f->name,
                min, max);
        return -1;
    }
    *ret = (unsigned)v;
    return 0;
}

int pl_flags_config(const char *command, const char *path, const char *self_ns,
                    struct pl_config **ret)
{
    struct pl_error err;
    pl_error_init(&err);
    if (pl_config_load(path, self_ns, ret, &err) < 0) {
        char text[1024];
        fprintf(stderr, "plimsoll %s: invalid configuration %s: %s\n", command, path,
                pl_error_format(&err, text, sizeof(text)));
        return -1;
    }
    return 0;
}

const char *pl_self_namespace(void)
{
    const char *ns = getenv("POD_NAMESPACE");
    return ns && *ns ? ns : NULL;
}
