/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plimsoll: entry point and subcommand table.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/compiler.h"
#include "core/jalloc.h"

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
};

static const struct command commands[] = {
    {"serve", pl_cmd_serve, "run the admission webhook server"},
    {"check", pl_cmd_check, "evaluate manifests exactly as admission would"},
    {"audit", pl_cmd_audit, "judge every workload in the cluster as admission would now"},
    {"dashboard", pl_cmd_dashboard,
     "serve a live page, JSON and metrics of the cluster's verdicts"},
    {"certs", pl_cmd_certs, "generate a CA and a serving certificate (certs generate)"},
    {"policies", pl_cmd_policies, "list every policy and mutation"},
    {"version", pl_cmd_version, "print version, git commit and build date"},
};

static void usage(FILE *out)
{
    fprintf(
        out,
        "Usage: plimsoll COMMAND [OPTIONS]\n\n"
        "Kubernetes admission webhook: production-readiness policies for Pods and workloads.\n\n"
        "Commands:\n");
    for (size_t i = 0; i < PL_ARRAY_SIZE(commands); i++) {
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].help);
    }
    fprintf(out, "\nRun 'plimsoll COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
    /* Before any JSON value exists: the server puts request values on its arena. */
    pl_jalloc_install();
    if (argc < 2) {
        usage(stderr);
        return PL_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return PL_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        return pl_cmd_version(1, argv + 1);
    }
    for (size_t i = 0; i < PL_ARRAY_SIZE(commands); i++) {
        if (strcmp(argv[1], commands[i].name) == 0) {
            return commands[i].fn(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "plimsoll: unknown command \"%s\"\n\n", argv[1]);
    usage(stderr);
    return PL_EXIT_USAGE;
}
