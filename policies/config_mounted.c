/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config-mounted: long-running containers consume ConfigMaps as mounted
 * volumes, which the kubelet refreshes when the ConfigMap changes, so that
 * configuration can change without a rollout. Reported:
 *
 * - env[].valueFrom.configMapKeyRef and envFrom[].configMapRef: environment
 *   variables are read once, at container start, and never change;
 * - a volumeMount with subPath or subPathExpr of a configMap volume (or of a
 *   projected volume with a configMap source): subPath mounts are bind mounts
 *   of one file and never receive updates.
 *
 * Checked: regular containers and native sidecars of long-running objects.
 * Not checked: plain init containers (they run once, before the app starts,
 * so there is nothing to update), ephemeral debug containers, and Jobs,
 * CronJobs and run-to-completion Pods (each run starts with fresh values).
 * Runbook: docs/policies/config-mounted.md
 */
#include "policies/policy.h"

#include <string.h>

#include "core/json.h"

/* Whether a pod volume takes its content from a ConfigMap. */
static bool is_config_map_volume(const json_t *volume)
{
    if (pl_json_object(volume, "configMap")) {
        return true;
    }
    size_t i;
    const json_t *source;
    json_array_foreach(pl_json_array(pl_json_object(volume, "projected"), "sources"), i, source)
    {
        if (pl_json_object(source, "configMap")) {
            return true;
        }
    }
    return false;
}

/* The pod volume called name, or NULL. */
static const json_t *find_volume(const json_t *spec, const char *name)
{
    size_t i;
    const json_t *volume;
    json_array_foreach(pl_json_array(spec, "volumes"), i, volume)
    {
        const char *vname = pl_json_string(volume, "name");
        if (vname && strcmp(vname, name) == 0) {
            return volume;
        }
    }
    return NULL;
}

/* The name a configMapKeyRef or configMapRef points at, quoted for a message. */
static const char *ref_name(struct pl_report *out, const json_t *ref)
{
    return pl_report_quote(out, pl_json_string(ref, "name"));
}

static void check_env(const struct pl_container *c, struct pl_report *out)
{
    size_t i;
    const json_t *var;
    json_array_foreach(pl_json_array(c->json, "env"), i, var)
    {
        const json_t *ref = pl_json_object(pl_json_object(var, "valueFrom"), "configMapKeyRef");
        if (ref) {
            char sub[64];
            snprintf(sub, sizeof(sub), "env[%zu].valueFrom.configMapKeyRef", i);
            pl_report_identify(out, "env.valueFrom.configMapKeyRef", pl_json_string(var, "name"));
            pl_report_container(out, c, sub,
                                "ConfigMap \"%s\" in env never updates; mount it as a volume",
                                ref_name(out, ref));
        }
    }
    json_array_foreach(pl_json_array(c->json, "envFrom"), i, var)
    {
        const json_t *ref = pl_json_object(var, "configMapRef");
        if (ref) {
            char sub[64];
            snprintf(sub, sizeof(sub), "envFrom[%zu].configMapRef", i);
            pl_report_identify(out, "envFrom.configMapRef", pl_json_string(ref, "name"));
            pl_report_container(out, c, sub,
                                "ConfigMap \"%s\" in envFrom never updates; mount it as a volume",
                                ref_name(out, ref));
        }
    }
}

static void check_mounts(const json_t *spec, const struct pl_container *c, struct pl_report *out)
{
    static const char *const sub_keys[] = {"subPath", "subPathExpr"};
    size_t i;
    const json_t *mount;
    json_array_foreach(pl_json_array(c->json, "volumeMounts"), i, mount)
    {
        const char *name = pl_json_string(mount, "name");
        if (!name || !is_config_map_volume(find_volume(spec, name))) {
            continue;
        }
        for (size_t k = 0; k < PL_ARRAY_SIZE(sub_keys); k++) {
            const char *value = pl_json_string(mount, sub_keys[k]);
            if (value && *value) {
                char sub[64];
                snprintf(sub, sizeof(sub), "volumeMounts[%zu].%s", i, sub_keys[k]);
                pl_report_identify(out, sub_keys[k], name);
                pl_report_container(
                    out, c, sub,
                    "ConfigMap volume \"%s\" with %s never updates; mount the whole volume",
                    pl_report_quote(out, name), sub_keys[k]);
                break;
            }
        }
    }
}

static void check(const struct pl_eval *ev, const json_t *spec, struct pl_report *out)
{
    (void)ev; /* long_running_only: the evaluator skips what runs to completion */
    struct pl_container_iter it;
    struct pl_container c;
    pl_container_iter_init(&it, spec, PL_CTR_LONG_RUNNING);
    while (pl_container_iter_next(&it, &c)) {
        check_env(&c, out);
        check_mounts(spec, &c, out);
    }
}

const struct pl_policy pl_policy_config_mounted = {
    .id = "config-mounted",
    .default_mode = PL_MODE_WARN,
    .summary = "ConfigMaps are mounted as volumes, not read through env or subPath",
    .long_running_only = true,
    .check = check,
};
