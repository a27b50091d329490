/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plimsoll policies: every policy with its id, default mode, summary and
 * parameters, then every mutation with its default (on or off), in the order
 * they run, as text or JSON (--output json; each entry has "kind": "policy"
 * or "mutation"; a policy also says whether it may be exempted, whether it
 * is enforced on every Pod and which kinds it looks at; a mutation, which
 * mutations it runs after). All of it is read from the descriptors, the one
 * place these facts are written; the cli suite checks the docs against it.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "core/alloc.h"
#include "core/json.h"
#include "core/object.h"
#include "policies/registry.h"

/* The parameter lines under an entry whose id column is width wide. */
static void print_params_text(const struct pl_param_set *set, int width)
{
    for (const struct pl_param *q = set ? set->table : NULL; q && q->name; q++) {
        char type[128], def[512];
        printf("%-*s %-8s   %s (%s, default %s): %s\n", width, "", "", q->name,
               pl_param_type_text(q, type, sizeof(type)),
               pl_param_default_text(q, def, sizeof(def)), q->summary);
    }
}

static void print_text(void)
{
    for (size_t i = 0; pl_policies[i]; i++) {
        const struct pl_policy *p = pl_policies[i];
        printf("%-25s %-8s %s\n", p->id, pl_mode_name(p->default_mode), p->summary);
        print_params_text(p->params, 25);
    }
    printf("\nmutations (POST /mutate), in the order they run:\n");
    for (size_t i = 0; pl_mutations[i]; i++) {
        const struct pl_mutation *m = pl_mutations[i];
        printf("%-24s %-8s %s\n", m->id, m->default_enabled ? "on" : "off", m->summary);
        print_params_text(m->params, 24);
    }
}

/* The JSON Schema of one parameter's values (new reference): what the chart's
 * values.schema.json says of it (scripts/chart-schema.py copies it there). */
static json_t *param_schema(const struct pl_param *q)
{
    json_t *schema = json_object();
    switch (q->type) {
    case PL_PARAM_BOOL:
        json_object_set_new(schema, "type", json_string("boolean"));
        break;
    case PL_PARAM_INT:
        json_object_set_new(schema, "type", json_string("integer"));
        json_object_set_new(schema, "minimum", json_integer(q->min));
        json_object_set_new(schema, "maximum", json_integer(q->max));
        break;
    case PL_PARAM_STRING:
        json_object_set_new(schema, "type", json_string("string"));
        if (q->len_max) {
            json_object_set_new(schema, "maxLength", json_integer((json_int_t)q->len_max));
        }
        break;
    case PL_PARAM_ENUM: {
        json_t *choices = json_array();
        for (size_t i = 0; q->choices[i]; i++) {
            json_array_append_new(choices, json_string(q->choices[i]));
        }
        json_object_set_new(schema, "enum", choices);
        break;
    }
    case PL_PARAM_STRLIST:
    case PL_PARAM_STRMAP: {
        bool list = q->type == PL_PARAM_STRLIST;
        json_t *item = json_pack("{s:s}", "type", "string");
        if (list) {
            json_object_set_new(item, "minLength", json_integer(1));
        } else if (q->len_max) {
            json_object_set_new(item, "maxLength", json_integer((json_int_t)q->len_max));
        }
        json_object_set_new(schema, "type", json_string(list ? "array" : "object"));
        json_object_set_new(schema, list ? "items" : "additionalProperties", item);
        if (q->max > 0) {
            json_object_set_new(schema, list ? "maxItems" : "maxProperties", json_integer(q->max));
        }
        break;
    }
    default:
        break;
    }
    return schema;
}

static json_t *params_json(const struct pl_param_set *set)
{
    json_t *arr = json_array();
    for (const struct pl_param *q = set ? set->table : NULL; q && q->name; q++) {
        char type[128], def[512];
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:o}", "name", q->name, "type",
                                             pl_param_type_text(q, type, sizeof(type)), "default",
                                             pl_param_default_text(q, def, sizeof(def)), "summary",
                                             q->summary, "schema", param_schema(q)));
    }
    return arr;
}

/* The kinds a policy looks at, by name ("Deployment"); every kind when it names none. */
static json_t *kinds_json(unsigned kinds)
{
    json_t *arr = json_array();
    for (int k = PL_KIND_POD; k <= PL_KIND_CRONJOB; k++) {
        if (!kinds || (kinds & PL_KINDS(k))) {
            json_array_append_new(arr, json_string(pl_kind_name((enum pl_kind)k)));
        }
    }
    return arr;
}

/* A NULL-ended list of strings as a JSON array (new reference). */
static json_t *strings_json(const char *const *list)
{
    json_t *arr = json_array();
    for (size_t i = 0; list && list[i]; i++) {
        json_array_append_new(arr, json_string(list[i]));
    }
    return arr;
}

static json_t *policies_json(void)
{
    json_t *arr = json_array();
    for (size_t i = 0; pl_policies[i]; i++) {
        const struct pl_policy *p = pl_policies[i];
        json_array_append_new(
            arr, json_pack("{s:s, s:s, s:s, s:s, s:o, s:b, s:b, s:o, s:b}", "id", p->id, "kind",
                           "policy", "default_mode", pl_mode_name(p->default_mode), "summary",
                           p->summary, "parameters", params_json(p->params), "exemptible",
                           !p->never_exempt, "enforce_on_pods", p->every_pod, "kinds",
                           kinds_json(p->kinds), "long_running_only", p->long_running_only));
    }
    for (size_t i = 0; pl_mutations[i]; i++) {
        const struct pl_mutation *m = pl_mutations[i];
        json_array_append_new(
            arr, json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "id", m->id, "kind", "mutation",
                           "default_mode", m->default_enabled ? "on" : "off", "summary", m->summary,
                           "parameters", params_json(m->params), "after", strings_json(m->after)));
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
