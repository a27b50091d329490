/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plimsoll policies: every policy with its id, default mode, summary and
 * parameters, then every mutation with its default (on or off), as text or
 * JSON (--output json; each entry has "kind": "policy" or "mutation").
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "core/alloc.h"
#include "core/json.h"
#include "policies/registry.h"

/* The parameter lines under an entry whose id column is width wide. */
static void print_params_text(const struct pl_param *params, int width)
{
    for (const struct pl_param *q = params; q && q->name; q++) {
        printf("%-*s %-8s   %s (%s, default %s): %s\n", width, "", "", q->name, q->type,
               q->default_doc, q->summary);
    }
}

static void print_text(void)
{
    for (size_t i = 0; pl_policies[i]; i++) {
        const struct pl_policy *p = pl_policies[i];
        printf("%-25s %-8s %s\n", p->id, pl_mode_name(p->default_mode), p->summary);
        print_params_text(p->params, 25);
    }
    printf("\nmutations (POST /mutate):\n");
    for (size_t i = 0; pl_mutations[i]; i++) {
        const struct pl_mutation *m = pl_mutations[i];
        printf("%-24s %-8s %s\n", m->id, m->default_enabled ? "on" : "off", m->summary);
        print_params_text(m->params, 24);
    }
}

static json_t *params_json(const struct pl_param *params)
{
    json_t *arr = json_array();
    for (const struct pl_param *q = params; q && q->name; q++) {
        json_array_append_new(arr,
                              json_pack("{s:s, s:s, s:s, s:s}", "name", q->name, "type", q->type,
                                        "default", q->default_doc, "summary", q->summary));
    }
    return arr;
}

static json_t *policies_json(void)
{
    json_t *arr = json_array();
    for (size_t i = 0; pl_policies[i]; i++) {
        const struct pl_policy *p = pl_policies[i];
        json_t *params = params_json(p->params);
        json_array_append_new(arr,
                              json_pack("{s:s, s:s, s:s, s:s, s:o}", "id", p->id, "kind", "policy",
                                        "default_mode", pl_mode_name(p->default_mode), "summary",
                                        p->summary, "parameters", params));
    }
    for (size_t i = 0; pl_mutations[i]; i++) {
        const struct pl_mutation *m = pl_mutations[i];
        json_t *params = params_json(m->params);
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:o}", "id", m->id, "kind",
                                             "mutation", "default_mode",
                                             m->default_enabled ? "on" : "off", "summary",
                                             m->summary, "parameters", params));
    }
    return arr;
}

int pl_cmd_policies(int argc, char **argv)
{
    static const struct option options[] = {
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *output = "text";
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", options, NULL)) != -1) {
        switch (c) {
        case 'o':
            output = optarg;
            break;
        case 'h':
            printf("Usage: plimsoll policies [--output text|json]\n\n"
                   "Lists every policy (id, default mode, what it checks, parameters)\n"
                   "and every mutation (id, default on or off, what it adds, parameters).\n");
            return PL_EXIT_OK;
        default:
            return PL_EXIT_USAGE;
        }
    }
    if (strcmp(output, "text") == 0) {
        print_text();
        return PL_EXIT_OK;
    }
    if (strcmp(output, "json") != 0) {
        fprintf(stderr, "plimsoll policies: --output must be text or json\n");
        return PL_EXIT_USAGE;
    }
    json_t *arr = policies_json();
    char *text = pl_json_dump(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER, NULL);
    json_decref(arr);
    printf("%s\n", text);
    free(text);
    return PL_EXIT_OK;
}
