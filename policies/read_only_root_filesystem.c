/* SPDX-License-Identifier: Apache-2.0 */
/*
 * read-only-root-filesystem: every container sets
 * securityContext.readOnlyRootFilesystem: true. A writable root filesystem
 * lets an attacker who gets code execution drop tools and change binaries
 * and configuration in place, and lets the application itself write state
 * that disappears with the pod (logs, caches, uploads) where nobody looks for
 * it. Writes the application needs go to an emptyDir or a volume mounted
 * where they belong.
 *
 * Rule: regular containers, native sidecars and init containers are checked
 * (an init container that runs a shell script is a place to write too);
 * ephemeral debug containers are not (they are added to a running pod by a
 * person, for a while). Unset counts as false (the Kubernetes default). The
 * pod-level securityContext has no such field, so it is never consulted.
 * Windows pods (spec.os.name: windows) are skipped: the API server refuses
 * the field there. Warn by default.
 * Runbook: docs/policies/read-only-root-filesystem.md
 */
#include "policies/policy.h"

#include <string.h>

#include "core/json.h"

static bool windows_pod(const json_t *spec)
{
    const char *os = pl_json_string(pl_json_object(spec, "os"), "name");
    return os && strcmp(os, "windows") == 0;
}

static void check(const struct pl_eval *ev, const json_t *spec, struct pl_report *out)
{
    (void)ev;
    if (windows_pod(spec)) {
        return;
    }
    struct pl_container_iter it;
    struct pl_container c;
    pl_container_iter_init(&it, spec, PL_CTR_REGULAR | PL_CTR_SIDECAR | PL_CTR_INIT);
    while (pl_container_iter_next(&it, &c)) {
        const json_t *v =
            json_object_get(pl_json_object(c.json, "securityContext"), "readOnlyRootFilesystem");
        if (json_is_true(v)) {
            continue;
        }
        pl_report_container(out, &c, "securityContext.readOnlyRootFilesystem",
                            "%s; set true and mount an emptyDir where the app must write",
                            json_is_false(v) ? "false (root filesystem writable)"
                                             : "unset (root filesystem writable)");
    }
}

const struct pl_policy pl_policy_read_only_root_filesystem = {
    .id = "read-only-root-filesystem",
    .default_mode = PL_MODE_WARN,
    .summary = "every container sets securityContext.readOnlyRootFilesystem: true",
    .check = check,
};
