/* SPDX-License-Identifier: Apache-2.0 */
/*
 * resources: every container (init containers and native sidecars included;
 * ephemeral containers cannot carry resources) sets the requests and limits
 * listed in `require`. Requests let the scheduler place the pod where it
 * fits; a memory limit stops one leaking process from taking the node down.
 * Runbook: docs/policies/resources.md
 */
#include "policies/policy.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"

struct requirement {
    char *section;    /* "requests" or "limits" */
    char *resource;   /* "cpu", "memory", "ephemeral-storage", ... */
    const char *text; /* "requests.cpu" (borrowed from require) */
};

struct params {
    struct pl_strlist require; /* the parameter */
    struct requirement *items; /* require, split */
};

/* Checks one entry of require: requests.<resource> or limits.<resource>. */
static int check_entry(const char *s, const char *path, struct pl_error *err)
{
    const char *dot = strchr(s, '.');
    size_t section_len = dot ? (size_t)(dot - s) : 0;
    bool section_ok = (section_len == 8 && strncmp(s, "requests", 8) == 0) ||
                      (section_len == 6 && strncmp(s, "limits", 6) == 0);
    if (!section_ok || !dot[1]) {
        return pl_error_set(
            err, path, 0, "\"%s\" is not of the form requests.<resource> or limits.<resource>", s);
    }
    return 0;
}

/* Splits every entry of require (already checked) into section and resource. */
static int prepare(void *p, struct pl_error *err)
{
    (void)err;
    struct params *params = p;
    params->items =
        pl_xcalloc(params->require.len ? params->require.len : 1, sizeof(*params->items));
    for (size_t i = 0; i < params->require.len; i++) {
        const char *s = params->require.items[i];
        const char *dot = strchr(s, '.');
        params->items[i].section = pl_xstrndup(s, (size_t)(dot - s));
        params->items[i].resource = pl_xstrdup(dot + 1);
        params->items[i].text = s;
    }
    return 0;
}

static void finish(void *p)
{
    struct params *params = p;
    for (size_t i = 0; params->items && i < params->require.len; i++) {
        free(params->items[i].section);
        free(params->items[i].resource);
    }
    free(params->items);
}

static const struct pl_param param_table[] = {
    {.name = "require",
     .type = PL_PARAM_STRLIST,
     .offset = offsetof(struct params, require),
     .def = "[\"requests.cpu\", \"requests.memory\", \"limits.memory\"]",
     .check = check_entry,
     .summary =
         "requests and limits every container must set, as requests.<resource> or limits.<resource>"},
    {0},
};

static const struct pl_param_set param_set = {sizeof(struct params), param_table, prepare, finish};

/* Whether resources.<section>.<resource> is set to a non-empty quantity. */
static bool is_set(const json_t *container, const struct requirement *q)
{
    const json_t *section = pl_json_object(pl_json_object(container, "resources"), q->section);
    const json_t *v = json_is_object(section) ? json_object_get(section, q->resource) : NULL;
    if (json_is_string(v)) {
        return json_string_length(v) > 0;
    }
    return json_is_number(v);
}

static void check(const struct pl_eval *ev, const json_t *spec, struct pl_report *out)
{
    const struct params *params = ev->params;
    struct pl_container_iter it;
    struct pl_container c;
    pl_container_iter_init(&it, spec, PL_CTR_REGULAR | PL_CTR_INIT | PL_CTR_SIDECAR);
    while (pl_container_iter_next(&it, &c)) {
        for (size_t i = 0; i < params->require.len; i++) {
            if (!is_set(c.json, &params->items[i])) {
                pl_report_identify(out, NULL, params->items[i].text);
                pl_report_container(out, &c, NULL, "resources.%s is not set",
                                    params->items[i].text);
            }
        }
    }
}

const struct pl_policy pl_policy_resources = {
    .id = "resources",
    .default_mode = PL_MODE_ENFORCE,
    .summary = "every container and init container sets the listed requests and limits",
    .params = &param_set,
    .check = check,
};
