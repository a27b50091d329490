/* SPDX-License-Identifier: Apache-2.0 */
/*
 * image-registry: every image of every container (regular, init, native
 * sidecar and ephemeral) comes from an allowed registry and from none that is
 * denied. The reference is normalised first (policies/image.h: "nginx" is
 * "docker.io/library/nginx", "acme/app" is "docker.io/acme/app", a DNS host
 * is lowercased) and then compared with four lists:
 *   - `allowed` and `denied`: prefixes, compared as plain strings, so a prefix
 *     should end with "/" ("registry.example.com/") or it also matches
 *     "registry.example.com.evil.io/..." (Gatekeeper's AllowedRepos and
 *     DisallowedRepos);
 *   - `allowed-images` and `denied-images`: exact images (Gatekeeper's
 *     AllowedReposv2 entries without "*"), normalised like the reference. An
 *     entry without tag or digest names the repository at any version
 *     ("ubuntu" matches "ubuntu:22.04" but not "ubuntumalicious"); one with a
 *     tag or digest matches only that reference.
 * A denied match is reported whatever the allow lists say. With both allow
 * lists empty (the default) any registry is allowed. A reference that does not
 * parse cannot be placed in any registry and is reported while any list is
 * set. Empty images are skipped, as in image-tag.
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

/* One entry of allowed-images or denied-images, normalised. */
struct exact {
    const char *entry; /* as configured (borrowed from the list) */
    char *normalised;  /* registry/repository[:tag][@digest] */
    size_t name_len;   /* length of registry/repository in normalised */
    bool any_version;  /* no tag and no digest: the repository at any version */
};

struct params {
    struct pl_strlist allowed;
    struct pl_strlist allowed_images;
    struct pl_strlist denied;
    struct pl_strlist denied_images;
    struct exact *allowed_exact; /* allowed_images, normalised */
    struct exact *denied_exact;  /* denied_images, normalised */
    char *allowed_text; /* "registry.example.com/, ghcr.io/acme/", cut to fit in a message */
};

/* Longest list of entries shown in a message; past it the list ends with "...". */
#define ALLOWED_TEXT_MAX 80

/* Appends the items of l to b, ", "-separated, until ALLOWED_TEXT_MAX bytes; false when cut. */
static bool join_list(struct pl_buf *b, const struct pl_strlist *l)
{
    for (size_t i = 0; i < l->len; i++) {
        const char *sep = b->len ? ", " : "";
        bool fits = b->len + strlen(sep) + strlen(l->items[i]) <= ALLOWED_TEXT_MAX;
        int r = pl_buf_puts(b, sep);
        if (r == 0) {
            r = pl_buf_puts(b, fits ? l->items[i] : "...");
        }
        if (r < 0 || !fits) {
            return false;
        }
    }
    return true;
}

/* Checks that an entry of allowed-images or denied-images is an image reference. */
static int check_image_entry(const char *s, const char *path, struct pl_error *err)
{
    struct pl_image image;
    struct pl_error why;
    pl_error_init(&why);
    if (pl_image_parse(s, &image, &why) < 0) {
        return pl_error_set(err, path, 0, "\"%.300s\" is not an image reference: %s", s,
                            why.message);
    }
    return 0;
}

/* Normalises a list of image entries (already checked). */
static struct exact *normalise_list(const struct pl_strlist *l)
{
    struct exact *out = pl_xcalloc(l->len ? l->len : 1, sizeof(*out));
    for (size_t i = 0; i < l->len; i++) {
        struct pl_image image;
        struct pl_error ignored;
        pl_error_init(&ignored);
        if (pl_image_parse(l->items[i], &image, &ignored) < 0) {
            continue; /* refused by check_image_entry before prepare runs */
        }
        out[i].entry = l->items[i];
        out[i].normalised = pl_xstrdup(image.normalised);
        out[i].name_len = strlen(image.registry) + 1 + strlen(image.repository);
        out[i].any_version = !image.tag[0] && !image.digest[0];
    }
    return out;
}

/* Derives the normalised exact entries and allowed_text from the lists. */
static int prepare(void *p, struct pl_error *err)
{
    (void)err;
    struct params *params = p;
    params->allowed_exact = normalise_list(&params->allowed_images);
    params->denied_exact = normalise_list(&params->denied_images);
    struct pl_buf b;
    pl_buf_init(&b, ALLOWED_TEXT_MAX + 8);
    if (join_list(&b, &params->allowed)) {
        (void)join_list(&b, &params->allowed_images);
    }
    params->allowed_text = pl_buf_steal(&b);
    return 0;
}

static void free_exact(struct exact *e, size_t n)
{
    for (size_t i = 0; e && i < n; i++) {
        free(e[i].normalised);
    }
    free(e);
}

static void finish(void *p)
{
    struct params *params = p;
    free_exact(params->allowed_exact, params->allowed_images.len);
    free_exact(params->denied_exact, params->denied_images.len);
    free(params->allowed_text);
}

static const struct pl_param param_table[] = {
    {.name = "allowed",
     .type = PL_PARAM_STRLIST,
     .offset = offsetof(struct params, allowed),
     .def = "[]",
     .summary = "prefixes of the normalised image reference (docker.io/library/nginx:1.25) that "
                "are allowed; end each with /; with allowed-images also empty any registry is "
                "allowed"},
    {.name = "allowed-images",
     .type = PL_PARAM_STRLIST,
     .offset = offsetof(struct params, allowed_images),
     .def = "[]",
     .check = check_image_entry,
     .summary = "exact images that are allowed besides the prefixes: a repository (any version) "
                "or a reference with tag or digest (that one only)"},
    {.name = "denied",
     .type = PL_PARAM_STRLIST,
     .offset = offsetof(struct params, denied),
     .def = "[]",
     .summary = "prefixes of the normalised image reference that are denied, even when an "
                "allowed entry matches"},
    {.name = "denied-images",
     .type = PL_PARAM_STRLIST,
     .offset = offsetof(struct params, denied_images),
     .def = "[]",
     .check = check_image_entry,
     .summary = "exact images that are denied: a repository (any version) or a reference with "
                "tag or digest (that one only)"},
    {0},
};

static const struct pl_param_set param_set = {sizeof(struct params), param_table, prepare, finish};

/* The prefix of l that the normalised reference starts with, or NULL. */
static const char *prefix_match(const struct pl_strlist *l, const char *normalised)
{
    for (size_t i = 0; i < l->len; i++) {
        const char *prefix = l->items[i];
        if (strncmp(normalised, prefix, strlen(prefix)) == 0) {
            return prefix;
        }
    }
    return NULL;
}

/* The entry of e (n entries) that names image, or NULL. */
static const char *exact_match(const struct exact *e, size_t n, const struct pl_image *image)
{
    size_t name_len = strlen(image->registry) + 1 + strlen(image->repository);
    for (size_t i = 0; i < n; i++) {
        if (!e[i].normalised) {
            continue;
        }
        bool same = e[i].any_version
                        ? name_len == e[i].name_len &&
                              strncmp(image->normalised, e[i].normalised, name_len) == 0
                        : strcmp(image->normalised, e[i].normalised) == 0;
        if (same) {
            return e[i].entry;
        }
    }
    return NULL;
}

static bool any_list(const struct params *params)
{
    return params->allowed.len || params->allowed_images.len || params->denied.len ||
           params->denied_images.len;
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
    const char *denied = prefix_match(&params->denied, image.normalised);
    if (!denied) {
        denied = exact_match(params->denied_exact, params->denied_images.len, &image);
    }
    if (denied) {
        pl_report_identify(out, NULL, image.normalised);
        pl_report_container(out, c, "image", "image \"%s\" is denied (it matches \"%s\")",
                            pl_report_quote(out, image.normalised), pl_report_quote(out, denied));
        return;
    }
    if (params->allowed.len == 0 && params->allowed_images.len == 0) {
        return;
    }
    if (!prefix_match(&params->allowed, image.normalised) &&
        !exact_match(params->allowed_exact, params->allowed_images.len, &image)) {
        pl_report_identify(out, NULL, image.normalised);
        pl_report_container(out, c, "image", "image \"%s\" is not from an allowed registry (%s)",
                            pl_report_quote(out, image.normalised), params->allowed_text);
    }
}

static void check(const struct pl_eval *ev, const json_t *spec, struct pl_report *out)
{
    const struct params *params = ev->params;
    if (!any_list(params)) {
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
    .summary = "every image comes from an allowed registry prefix or image, and none is denied",
    .never_exempt = true,
    .params = &param_set,
    .check = check,
};
