/* SPDX-License-Identifier: Apache-2.0 */
/*
 * resources: every container (init containers and native sidecars included;
 * ephemeral containers cannot carry resources) sets the requests and limits
 * listed in `require`. Requests let the scheduler place the pod where it
 * fits; a memory limit stops one leaking process from taking the node down.
 * With `max-limit-to-request-ratio` (LimitRange's maxLimitRequestRatio, per
 * resource; Gatekeeper's ContainerRatios) a limit may be at most that many
 * times its request: memory at 1 makes limit equal request, so the pod is
 * never OOM-killed for using memory the scheduler did not reserve.
 * Runbook: docs/policies/resources.md
 */
#include "policies/policy.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "core/quantity.h"

struct requirement {
    char *section;    /* "requests" or "limits" */
    char *resource;   /* "cpu", "memory", "ephemeral-storage", ... */
    const char *text; /* "requests.cpu" (borrowed from require) */
};

struct params {
    struct pl_strlist require;  /* the parameter */
    struct pl_strmap max_ratio; /* max-limit-to-request-ratio: resource -> ratio text */
    struct requirement *items;  /* require, split */
    double *ratios;             /* max_ratio's values, read */
};

/* Largest ratio accepted; past it the parameter says nothing a missing entry does not. */
#define RATIO_MAX 1000.0

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
    params->ratios = pl_xcalloc(params->max_ratio.len ? params->max_ratio.len : 1, sizeof(double));
    for (size_t i = 0; i < params->max_ratio.len; i++) {
        double v;
        if (pl_quantity_parse(params->max_ratio.values[i], &v) < 0 || v < 1 || v > RATIO_MAX) {
            char path[160];
            snprintf(path, sizeof(path), "max-limit-to-request-ratio.%.100s",
                     params->max_ratio.keys[i]);
            return pl_error_set(err, path, 0,
                                "\"%.40s\" is not a ratio from 1 to 1000 (a number such as 1, "
                                "\"1.5\" or \"4\")",
                                params->max_ratio.values[i]);
        }
        params->ratios[i] = v;
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
    free(params->ratios);
}

/* Checks one key of max-limit-to-request-ratio: a resource name, not a section. */
static int check_resource(const char *s, const char *path, struct pl_error *err)
{
    if (!*s || strchr(s, ' ') || strncmp(s, "limits.", 7) == 0 || strncmp(s, "requests.", 9) == 0) {
        return pl_error_set(
            err, path, 0, "\"%.100s\" is not a resource name (cpu, memory, ephemeral-storage)", s);
    }
    return 0;
}

static const struct pl_param param_table[] = {
    {.name = "require",
     .type = PL_PARAM_STRLIST,
     .offset = offsetof(struct params, require),
     .def = "[\"requests.cpu\", \"requests.memory\", \"limits.memory\"]",
     .check = check_entry,
     .summary =
         "requests and limits every container must set, as requests.<resource> or limits.<resource>"},
    {.name = "max-limit-to-request-ratio",
     .type = PL_PARAM_STRMAP,
     .offset = offsetof(struct params, max_ratio),
     .def = "{}",
     .len_max = 16,
     .check = check_resource,
     .summary = "per resource (memory, cpu, ...), the most a limit may be as a multiple of its "
                "request (1: limit equals request); a container that sets both is checked"},
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

/* The quantity at resources.<section>.<resource>, when it is one. */
static bool quantity_at(const json_t *container, const char *section, const char *resource,
                        double *ret)
{
    const json_t *s = pl_json_object(pl_json_object(container, "resources"), section);
    const json_t *v = json_is_object(s) ? json_object_get(s, resource) : NULL;
    return v && pl_quantity_json(v, ret) == 0;
}

/* A limit more than the allowed multiple of its request. A missing request is
 * not checked: the API server sets it to the limit (ratio 1). */
static void check_ratios(const struct params *params, const struct pl_container *c,
                         struct pl_report *out)
{
    for (size_t i = 0; i < params->max_ratio.len; i++) {
        const char *resource = params->max_ratio.keys[i];
        double limit, request;
        if (!quantity_at(c->json, "limits", resource, &limit) ||
            !quantity_at(c->json, "requests", resource, &request) || limit <= 0) {
            continue;
        }
        double max = params->ratios[i];
        if (request > 0 && limit <= request * max * (1 + 1e-9)) {
            continue;
        }
        char sub[160];
        snprintf(sub, sizeof(sub), "resources.limits.%.100s", resource);
        pl_report_identify(out, NULL, resource);
        if (request <= 0) {
            pl_report_container(out, c, sub,
                                "resources.limits.%s is set and resources.requests.%s is 0; the "
                                "limit may be at most %g times the request",
                                resource, resource, max);
        } else {
            pl_report_container(
                out, c, sub,
                "resources.limits.%s is %.3g times resources.requests.%s; at most %g is allowed",
                resource, limit / request, resource, max);
        }
    }
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
        check_ratios(params, &c, out);
    }
}

const struct pl_policy pl_policy_resources = {
    .id = "resources",
    .default_mode = PL_MODE_ENFORCE,
    .summary = "every container and init container sets the listed requests and limits",
    .params = &param_set,
    .check = check,
};
