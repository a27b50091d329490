/* SPDX-License-Identifier: Apache-2.0 */
/*
 * image-tag: every image of every container (regular, init, native sidecar
 * and ephemeral) names a version: a tag other than "latest", or a digest. An
 * image with neither tag nor digest means "latest". A floating tag makes a
 * rollout, a rollback and a rescheduled pod each pull whatever the tag points
 * at that moment, so two replicas of one ReplicaSet can run different code.
 * With `require-digest: true` every image must be pinned by digest, since any
 * tag can be pushed again. A reference that does not parse is a violation
 * too: what cannot be read cannot be pinned. Empty images are skipped (the
 * API server rejects them in Pods; a template may leave them to a controller).
 * Runbook: docs/policies/image-tag.md
 */
#include "policies/policy.h"

#include <stddef.h>

#include "core/json.h"
#include "policies/image.h"

struct params {
    bool require_digest;
};

static const struct pl_param param_table[] = {
    {.name = "require-digest",
     .type = PL_PARAM_BOOL,
     .offset = offsetof(struct params, require_digest),
     .def = "false",
     .summary =
         "every image must be pinned by digest (name@sha256:...), not only by a tag other than latest"},
    {0},
};

static const struct pl_param_set param_set = {sizeof(struct params), param_table, NULL, NULL};

/* Whether s is empty or only spaces (a template placeholder, left to a controller). */
static bool is_blank(const char *s)
{
    for (; *s; s++) {
        if (*s != ' ' && *s != '\t') {
            return false;
        }
    }
    return true;
}

/* Checks one container's image and reports at most one violation for it. */
static void check_image(const struct pl_container *c, bool require_digest, struct pl_report *out)
{
    const char *ref = pl_json_string(c->json, "image");
    if (!ref || is_blank(ref)) {
        return;
    }
    struct pl_image image;
    struct pl_error err;
    pl_error_init(&err);
    const char *quoted = pl_report_quote(out, ref);
    if (pl_image_parse(ref, &image, &err) < 0) {
        pl_report_identify(out, NULL, ref); /* another image is another violation */
        pl_report_container(out, c, "image", "image reference \"%s\" is not valid: %s", quoted,
                            err.message);
        return;
    }
    if (*image.digest) {
        return;
    }
    pl_report_identify(out, NULL, ref); /* another image is another violation */
    if (require_digest) {
        pl_report_container(out, c, "image",
                            "image \"%s\" is not pinned by digest; use <image>@sha256:<digest>",
                            quoted);
    } else if (!*image.tag) {
        pl_report_container(
            out, c, "image",
            "image \"%s\" has no tag, so it means latest; pin a version tag or digest", quoted);
    } else if (pl_image_is_latest(&image)) {
        pl_report_container(out, c, "image",
                            "image \"%s\" uses the latest tag; pin a version tag or digest",
                            quoted);
    }
    pl_report_identify(out, NULL, NULL); /* when nothing was added */
}

static void check(const struct pl_eval *ev, const json_t *spec, struct pl_report *out)
{
    const struct params *p = ev->params;
    bool require_digest = p->require_digest;
    struct pl_container_iter it;
    struct pl_container c;
    pl_container_iter_init(&it, spec, PL_CTR_ALL);
    while (pl_container_iter_next(&it, &c)) {
        check_image(&c, require_digest, out);
    }
}

const struct pl_policy pl_policy_image_tag = {
    .id = "image-tag",
    .default_mode = PL_MODE_ENFORCE,
    .summary = "every image has a tag or digest and the tag is not latest",
    .params = &param_set,
    .check = check,
};
