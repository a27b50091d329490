/* SPDX-License-Identifier: Apache-2.0 */
/*
 * resources: every container (init containers and native sidecars included;
 * ephemeral containers cannot carry resources) sets the requests and limits
 * listed in `require`. Requests let the scheduler place the pod where it
 * fits; a memory limit stops one leaking process from taking the node down.
 * Runbook: docs/policies/resources.md
 */
#include "policies/policy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "policies/params.h"

struct requirement {
    char *section;  /* "requests" or "limits" */
    char *resource; /* "cpu", "memory", "ephemeral-storage", ... */
    char *text;     /* "requests.cpu" */
};

struct params {
    struct requirement *items;
    size_t len;
};

static const char *const default_require[] = {"requests.cpu", "requests.memory", "limits.memory",
                                              NULL};

static void free_params(void *p)
{
    struct params *params = p;
    if (!params) {
        return;
    }
    for (size_t i = 0; i < params->len; i++) {
        free(params->items[i].section);
        free(params->items[i].resource);
        free(params->items[i].text);
    }
    free(params->items);
    free(params);
}

static int parse_params(const json_t *json, void **ret_params, struct pl_error *err)
{
    struct pl_strlist list = {0};
    int r = pl_params_only_strlist(json, "require", default_require, &list, err);
    if (r < 0) {
        return r;
    }
    struct params *params = pl_xcalloc(1, sizeof(*params));
    params->items = pl_xcalloc(list.len ? list.len : 1, sizeof(*params->items));
    for (size_t i = 0; i < list.len; i++) {
        const char *s = list.items[i];
        const char *dot = strchr(s, '.');
        size_t section_len = dot ? (size_t)(dot - s) : 0;
        bool section_ok = (section_len == 8 && strncmp(s, "requests", 8) == 0) ||
                          (section_len == 6 && strncmp(s, "limits", 6) == 0);
        if (!section_ok || !dot[1]) {
            char path[64];
            snprintf(path, sizeof(path), "require[%zu]", i);
            r = pl_error_set(err, path, 0,
                             "\"%s\" is not of the form requests.<resource> or limits.<resource>",
                             s);
            goto fail;
        }
        struct requirement *q = &params->items[params->len++];
        q->section = pl_xstrndup(s, (size_t)(dot - s));
        q->resource = pl_xstrdup(dot + 1);
        q->text = pl_xstrdup(s);
    }
    pl_strlist_finish(&list);
    *ret_params = params;
    return 0;
fail:
    pl_strlist_finish(&list);
    free_params(params);
    return r;
}

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

static int check(const struct pl_eval *ev, const json_t *spec, struct pl_report *out)
{
    const struct params *params = ev->params;
    struct pl_container_iter it;
    struct pl_container c;
    pl_container_iter_init(&it, spec, PL_CTR_REGULAR | PL_CTR_INIT | PL_CTR_SIDECAR);
    while (pl_container_iter_next(&it, &c)) {
        for (size_t i = 0; params && i < params->len; i++) {
            if (!is_set(c.json, &params->items[i])) {
                pl_report_identify(out, NULL, params->items[i].text);
                pl_report_container(out, &c, NULL, "resources.%s is not set",
                                    params->items[i].text);
            }
        }
    }
    return 0;
}

static const struct pl_param param_table[] = {
    {"require", "list of strings", "[requests.cpu, requests.memory, limits.memory]",
     "requests and limits every container must set, as requests.<resource> or limits.<resource>"},
    {NULL, NULL, NULL, NULL},
};

const struct pl_policy pl_policy_resources = {
    .id = "resources",
    .default_mode = PL_MODE_ENFORCE,
    .summary = "every container and init container sets the listed requests and limits",
    .params = param_table,
    .parse_params = parse_params,
    .check = check,
    .free_params = free_params,
};
