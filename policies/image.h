/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Container image references, parsed and normalised the way Docker, containerd
 * and the kubelet read them (the grammar of distribution/reference), for the
 * image-tag and image-registry policies.
 *
 *   reference := name [":" tag] ["@" digest]
 *   name      := [registry "/"] repository
 *
 * The first component of the name is a registry host when it contains "." or
 * ":", is "localhost", or has an uppercase letter; otherwise the registry is
 * docker.io, and a single-component repository gets "library/" in front
 * ("nginx" -> "docker.io/library/nginx"). "index.docker.io" is docker.io. A
 * host with "." or ":" is lowercased (DNS names are case-insensitive), so
 * that matching a registry prefix does not depend on how it was spelled; a
 * host recognised only by its capitals ("Acme/app") is kept as written, so
 * that the normalised reference parses back to the same registry.
 *
 * Parsing is pure and allocation-free: the result lives in fixed buffers
 * sized by the grammar's own limits, and any reference that does not fit or
 * does not follow the grammar is refused with a reason, never a crash.
 */
#ifndef PL_POLICIES_IMAGE_H
#define PL_POLICIES_IMAGE_H

#include <stdbool.h>

#include "core/compiler.h"
#include "core/error.h"

/* Longest name (registry and repository as written), as in distribution/reference. */
#define PL_IMAGE_NAME_MAX 255
/* Longest tag: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}. */
#define PL_IMAGE_TAG_MAX 128
/* Longest digest accepted: "sha512:" and 128 hex digits. */
#define PL_IMAGE_DIGEST_MAX 135
/* Longest reference looked at; anything longer is refused before parsing. */
#define PL_IMAGE_REF_MAX (PL_IMAGE_NAME_MAX + 1 + PL_IMAGE_TAG_MAX + 1 + PL_IMAGE_DIGEST_MAX)
/* What normalisation may add to a name: "docker.io/" and "library/". */
#define PL_IMAGE_NORMALISED_EXTRA 18

struct pl_image {
    /* "docker.io", "registry.example.com:8443", "localhost:5000" (see above on case) */
    char registry[PL_IMAGE_NAME_MAX + 1];
    /* "library/nginx", "acme/app" */
    char repository[PL_IMAGE_NAME_MAX + PL_IMAGE_NORMALISED_EXTRA + 1];
    /* "1.25", or "" when the reference has no tag */
    char tag[PL_IMAGE_TAG_MAX + 1];
    /* "sha256:<64 hex>", or "" when the reference has no digest */
    char digest[PL_IMAGE_DIGEST_MAX + 1];
    /* registry "/" repository [":" tag] ["@" digest]: "docker.io/library/nginx:1.25" */
    char normalised[PL_IMAGE_REF_MAX + PL_IMAGE_NORMALISED_EXTRA + 1];
    /* whether the registry was implied (docker.io) rather than written */
    bool implicit_registry;
};

/**
 * Parses the image reference ref (borrowed, NUL-terminated; only the first
 * PL_IMAGE_REF_MAX + 1 bytes are read). On success fills *ret and returns 0.
 * On a reference that is empty, too long, contains whitespace or control
 * characters, has uppercase letters in the repository, or a malformed
 * registry, repository, tag or digest, returns -EINVAL with err->message a
 * short reason that quotes nothing from ref ("the digest is malformed"),
 * and leaves *ret untouched. Digests must use sha256, sha384 or sha512 with
 * the matching number of lowercase hex digits. No allocation; thread-safe.
 */
PL_MUST_CHECK int pl_image_parse(const char *ref, struct pl_image *ret, struct pl_error *err);

/**
 * Whether image resolves to the floating "latest" tag: it has no digest, and
 * its tag is "latest" (exactly; tags are case-sensitive) or absent. A digest
 * pins the image whatever the tag says.
 */
bool pl_image_is_latest(const struct pl_image *image);

#endif
