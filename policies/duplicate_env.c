/* SPDX-License-Identifier: Apache-2.0 */
/*
 * duplicate-env: a container does not set the same environment variable
 * name twice in `env`. Kubernetes keeps both entries and the kubelet lets
 * the later one win, so the first is silently ignored: a value someone
 * edited "does nothing", and `kubectl apply` (which merges env by name)
 * patches whichever entry it finds first. Every container is checked:
 * regular, init, native sidecar and ephemeral. Each repeat is reported at
 * its own entry, naming the first. Names are compared exactly (env names
 * are case-sensitive); `envFrom` is not looked at (its ConfigMaps and
 * Secrets are not in the object).
 * Runbook: docs/policies/duplicate-env.md
 */
#include "policies/policy.h"

#include <stdio.h>

#include "core/json.h"

/* Reports every entry of one container's env whose name an earlier entry set. */
static void check_container(const struct pl_container *c, struct pl_report *out)
{
    const json_t *env = pl_json_array(c->json, "env");
    json_t *first = json_object(); /* name -> index of its first entry */
    size_t i;
    const json_t *var;
    json_array_foreach(env, i, var)
    {
        const char *name = pl_json_string(var, "name");
        if (!name || !*name) {
            continue; /* the API server refuses these itself */
        }
        const json_t *seen = json_object_get(first, name);
        if (!seen) {
            json_object_set_new(first, name, json_integer((json_int_t)i));
            continue;
        }
        char sub[48];
        snprintf(sub, sizeof(sub), "env[%zu].name", i);
        pl_report_identify(out, "env", name); /* one finding per name and entry */
        pl_report_container(
            out, c, sub,
            "env \"%s\" is set again (first at env[%lld]); the later value wins and the first is silently ignored; keep one",
            pl_report_quote(out, name), (long long)json_integer_value(seen));
    }
    json_decref(first);
}

static void check(const struct pl_eval *ev, const json_t *spec, struct pl_report *out)
{
    (void)ev;
    struct pl_container_iter it;
    struct pl_container c;
    pl_container_iter_init(&it, spec, PL_CTR_ALL);
    while (pl_container_iter_next(&it, &c)) {
        check_container(&c, out);
    }
}

const struct pl_policy pl_policy_duplicate_env = {
    .id = "duplicate-env",
    .default_mode = PL_MODE_ENFORCE,
    .summary = "no container sets the same env name twice",
    .check = check,
};
