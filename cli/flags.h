/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The options of the long-running commands (serve, dashboard): each is also an
 * environment variable, so that a chart can set it, and the command line wins
 * over the environment, which wins over the default. One table per command
 * declares an option's name, variable, default and help once; the parser, the
 * usage text and the number checks read it. Also what the options every
 * command shares name: the configuration, the namespace it runs in.
 */
#ifndef PL_CLI_FLAGS_H
#define PL_CLI_FLAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "engine/config.h"

struct pl_flag {
    const char *name;  /* "tls-cert" */
    const char *env;   /* "PLIMSOLL_TLS_CERT" */
    const char *def;   /* the default, or NULL */
    const char *help;  /* one line */
    bool switch_;      /* takes no value: given, it is "true" (the variable says "true") */
    const char *value; /* after pl_flags_parse: the command line's, else the variable's, else def */
};

/**
 * Parses argv (argv[0] is the command) against flags[0, n) and --help.
 * Returns 0; 1 after printing the usage on stdout for --help; -1 after saying
 * what is wrong on stderr (an unknown option, a stray argument). usage prints
 * the command's text, which lists the options with pl_flags_usage().
 */
int pl_flags_parse(const char *command, struct pl_flag *flags, size_t n, int argc, char **argv,
                   void (*usage)(FILE *out));

/** One line per option: "--name VALUE  help (default D) [ENV]". */
void pl_flags_usage(FILE *out, const struct pl_flag *flags, size_t n);

/** Whether a switch is on ("true"). */
bool pl_flag_on(const struct pl_flag *f);

/**
 * f's value as a whole number in [min, max] into *ret. Returns 0, or -1 after
 * "plimsoll COMMAND: --name must be a number from MIN to MAX" on stderr.
 */
int pl_flag_uint(const char *command, const struct pl_flag *f, unsigned long min, unsigned long max,
                 unsigned *ret);

/**
 * The policy configuration a command's --config names (path NULL: the built-in
 * defaults), with self_ns excluded (NULL: none), into *ret. Returns 0, or -1 after
 * "plimsoll COMMAND: invalid configuration PATH: WHY" on stderr.
 */
int pl_flags_config(const char *command, const char *path, const char *self_ns,
                    struct pl_config **ret);

/**
 * The namespace the process runs in (env POD_NAMESPACE, which the chart sets from
 * the downward API), or NULL outside a cluster. serve and dashboard exclude it.
 */
const char *pl_self_namespace(void);

#endif
