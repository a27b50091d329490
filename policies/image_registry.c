/* SPDX-License-Identifier: Apache-2.0 */
/*
 * image-registry: every image of every container (regular, init, native
 * sidecar and ephemeral) comes from an allowed registry. The reference is
 * normalised first (policies/image.h: "nginx" is
 * "docker.io/library/nginx", "acme/app" is "docker.io/acme/app", a DNS host
 * is lowercased) and must then start with one of the `allowed` prefixes, compared
 * as plain strings, so a prefix should end with "/" ("registry.example.com/")
 * or it also admits "registry.example.com.evil.io/...". With `allowed` empty
 * (the default) any registry is allowed and nothing is checked. A reference
 * that does not parse cannot be placed in any registry and is reported while
 * a list is set. Empty images are skipped, as in image-tag.
 * Runbook: docs/policies/image-registry.md
 */
#include "policies/policy.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/json.h"
#include "policies/image.h"

struct params {
    struct pl_strlist allowed;
    char *allowed_text; /* "registry.example.com/, ghcr.io/acme/", cut to fit in a message */
};

/* Longest list of prefixes shown in a message; past it the list ends with "...". */
#define ALLOWED_TEXT_MAX 80

/* Joins the prefixes with ", " for messages, cut after ALLOWED_TEXT_MAX bytes. */
static char *join_allowed(const struct pl_strlist *allowed)
{
    struct pl_buf b;
    pl_buf_init(&b, ALLOWED_TEXT_MAX + 8);
    for (size_t i = 0; i < allowed->len; i++) {
        const char *sep = i ? ", " : "";
        bool fits = b.len + strlen(sep) + strlen(allowed->items[i]) <= ALLOWED_TEXT_MAX;
        int r = pl_buf_puts(&b, sep);
        if (r == 0) {
            r = pl_buf_puts(&b, fits ? allowed->items[i] : "...");
        }
        if (r < 0 || !fits) {
            break;
        }
    }
    return pl_buf_steal(&b);
}

/* Derives allowed_text from the list. */
static int prepare(void *p, struct pl_error *err)
{
    (void)err;
    struct params *params = p;
    params->allowed_text = join_allowed(&params->allowed);
    return 0;
}

static void finish(void *p)
{
    struct params *params = p;
    free(params->allowed_text);
}

static const struct pl_param param_table[] = {
    {.name = "allowed",
     .type = PL_PARAM_STRLIST,
     .offset = offsetof(struct params, allowed),
     .def = "[]",
     .summary = "prefixes of the normalised image reference (docker.io/library/nginx:1.25) that "
                "are allowed; end each with /; an empty list allows any registry"},
    {0},
};

static const struct pl_param_set param_set = {sizeof(struct params), param_table, prepare, finish};

/* Whether the normalised reference starts with one of the allowed prefixes. */
static bool allowed_prefix(const struct params *params, const char *normalised)
{
    for (size_t i = 0; i < params->allowed.len; i++) {
        const char *prefix = params->allowed.items[i];
        if (strncmp(normalised, prefix, strlen(prefix)) == 0) {
            return true;
        }
    }
    return false;
}

static void check_image(const struct params *params, const struct pl_container *c,
                        struct pl_report *out)
{
    const char *ref = pl_json_string(c->json, "image");
    if (!ref || ref[strspn(ref, " \t")] == '\0') {
        return;
    }
    struct pl_image image;
    struct pl_error err;
    pl_error_init(&err);
    if (pl_image_parse(ref, &image, &err) < 0) {
        pl_report_identify(out, NULL, ref);
        pl_report_container(out, c, "image",
                            "image reference \"%s\" is not valid, so its registry is unknown: %s",
                            pl_report_quote(out, ref), err.message);
        return;
    }
    if (!allowed_prefix(params, image.normalised)) {
        pl_report_identify(out, NULL, image.normalised);
        pl_report_container(out, c, "image", "image \"%s\" is not from an allowed registry (%s)",
                            pl_report_quote(out, image.normalised), params->allowed_text);
    }
}

static void check(const struct pl_eval *ev, const json_t *spec, struct pl_report *out)
{
    const struct params *params = ev->params;
    if (params->allowed.len == 0) {
        return;
    }
    struct pl_container_iter it;
    struct pl_container c;
    pl_container_iter_init(&it, spec, PL_CTR_ALL);
    while (pl_container_iter_next(&it, &c)) {
        check_image(params, &c, out);
    }
}

const struct pl_policy pl_policy_image_registry = {
    .id = "image-registry",
    .default_mode = PL_MODE_ENFORCE,
    .summary = "every image comes from an allowed registry prefix",
    .never_exempt = true,
    .params = &param_set,
    .check = check,
};
