/* SPDX-License-Identifier: Apache-2.0 */
/*
 * inject-security-defaults: fills in the secure settings a pod leaves unset,
 * the ones the restricted Pod Security Standard asks for:
 *   - spec.securityContext.seccompProfile: {type: RuntimeDefault}, at pod
 *     level (containers inherit it unless they set their own);
 *   - securityContext.allowPrivilegeEscalation: false on every container,
 *     init container and native sidecar;
 *   - securityContext.capabilities.drop: [ALL] on the same containers.
 *
 * Only what is unset is added: a container that sets drop: [NET_RAW] keeps
 * it, and allowPrivilegeEscalation: true stays true. Left alone, because the
 * API server would reject the result: Windows pods (spec.os.name: windows,
 * where these fields must not be set), privileged containers and those that
 * add CAP_SYS_ADMIN (allowPrivilegeEscalation: false is invalid with them;
 * dropping capabilities from a privileged container changes nothing), and
 * the pod-level seccompProfile of a pod that still carries a legacy
 * seccomp.security.alpha.kubernetes.io annotation (field and annotation must
 * agree). Ephemeral containers are never in a create request. Off by default.
 * Runbook: docs/policies/inject-security-defaults.md
 */
#include "policies/mutation.h"

#include <string.h>

#include "core/json.h"

#define LEGACY_SECCOMP_POD       "seccomp.security.alpha.kubernetes.io/pod"
#define LEGACY_SECCOMP_CONTAINER "container.seccomp.security.alpha.kubernetes.io/"

static bool is_windows(const json_t *spec)
{
    const char *os = pl_json_string(pl_json_object(spec, "os"), "name");
    return os && strcmp(os, "windows") == 0;
}

/* Whether the pod carries a legacy seccomp annotation (pod or container). */
static bool has_legacy_seccomp(const json_t *meta)
{
    const json_t *annotations = pl_json_object(meta, "annotations");
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)annotations, key, value)
    {
        (void)value;
        if (strcmp(key, LEGACY_SECCOMP_POD) == 0 ||
            strncmp(key, LEGACY_SECCOMP_CONTAINER, strlen(LEGACY_SECCOMP_CONTAINER)) == 0) {
            return true;
        }
    }
    return false;
}

/* Whether capabilities.add lists SYS_ADMIN (with or without the CAP_ prefix). */
static bool adds_sys_admin(const json_t *sc)
{
    const json_t *add = pl_json_array(pl_json_object(sc, "capabilities"), "add");
    size_t i;
    const json_t *cap;
    json_array_foreach(add, i, cap)
    {
        const char *s = json_string_value(cap);
        if (s && (strcmp(s, "SYS_ADMIN") == 0 || strcmp(s, "CAP_SYS_ADMIN") == 0)) {
            return true;
        }
    }
    return false;
}

/* Adds securityContext.<path...> = value to one container (value stolen). */
static int add_to_container(const struct pl_mutate_ctx *ctx, struct pl_patch *patch,
                            const struct pl_container *c, const char *const *keys, json_t *value)
{
    struct pl_pointer ptr;
    pl_pointer_init(&ptr, ctx->obj->pod_spec_path);
    pl_pointer_push(&ptr, c->list);
    pl_pointer_push_index(&ptr, c->index);
    pl_pointer_push(&ptr, "securityContext");
    for (size_t i = 0; keys[i]; i++) {
        pl_pointer_push(&ptr, keys[i]);
    }
    int r = pl_patch_add(patch, &ptr, value);
    return r < 0 ? r : 0;
}

static int harden_container(const struct pl_mutate_ctx *ctx, struct pl_patch *patch,
                            const struct pl_container *c)
{
    static const char *const ape[] = {"allowPrivilegeEscalation", NULL};
    static const char *const drop[] = {"capabilities", "drop", NULL};
    const json_t *sc = pl_json_object(c->json, "securityContext");
    if (json_is_true(json_object_get(sc, "privileged"))) {
        return 0;
    }
    if (!adds_sys_admin(sc)) {
        int r = add_to_container(ctx, patch, c, ape, json_false());
        if (r < 0) {
            return r;
        }
    }
    json_t *all = json_array();
    json_array_append_new(all, json_string("ALL"));
    return add_to_container(ctx, patch, c, drop, all);
}

static int mutate(const struct pl_mutate_ctx *ctx, struct pl_patch *patch)
{
    const json_t *spec = ctx->obj->pod_spec;
    if (!ctx->spec_mutable || is_windows(spec)) {
        return 0;
    }
    if (!has_legacy_seccomp(ctx->obj->pod_meta)) {
        struct pl_pointer ptr;
        pl_pointer_init(&ptr, ctx->obj->pod_spec_path);
        pl_pointer_push(&ptr, "securityContext");
        pl_pointer_push(&ptr, "seccompProfile");
        json_t *profile = json_pack("{s:s}", "type", "RuntimeDefault");
        int r = pl_patch_add(patch, &ptr, profile);
        if (r < 0) {
            return r;
        }
    }
    struct pl_container_iter it;
    struct pl_container c;
    pl_container_iter_init(&it, spec, PL_CTR_REGULAR | PL_CTR_INIT | PL_CTR_SIDECAR);
    while (pl_container_iter_next(&it, &c)) {
        int r = harden_container(ctx, patch, &c);
        if (r < 0) {
            return r;
        }
    }
    return 0;
}

const struct pl_mutation pl_mutation_inject_security_defaults = {
    .id = "inject-security-defaults",
    .default_enabled = false,
    .summary = "seccompProfile RuntimeDefault, allowPrivilegeEscalation false and "
               "capabilities.drop [ALL] where unset",
    .mutate = mutate,
};
