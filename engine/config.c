/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Configuration loading and validation (see config.h). The file is first
 * turned into JSON by core/yaml (which also records the line of every
 * field), then walked key by key; the first error stops the load and is
 * reported with the field path and its line.
 */
#include "engine/config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/file.h"
#include "core/json.h"
#include "core/yaml.h"
#include "policies/params.h"
#include "policies/registry.h"

static const char *const default_excluded[] = {"kube-system", "kube-public", "kube-node-lease"};

/*
 * The users kube-controller-manager's workload controllers act as: each
 * controller's own service account (--use-service-account-credentials, the
 * default of kubeadm and of managed clusters), and the manager's own user
 * otherwise. Nobody else can be these users: the service accounts live in
 * kube-system and the API server derives userInfo from credentials, never
 * from the request body. (SPEC §6, controllers.users)
 */
static const char *const default_controller_users[] = {
    "system:serviceaccount:kube-system:replicaset-controller",
    "system:serviceaccount:kube-system:deployment-controller",
    "system:serviceaccount:kube-system:statefulset-controller",
    "system:serviceaccount:kube-system:daemon-set-controller",
    "system:serviceaccount:kube-system:job-controller",
    "system:serviceaccount:kube-system:cronjob-controller",
    "system:serviceaccount:kube-system:replication-controller",
    "system:kube-controller-manager",
};

struct loader {
    struct pl_config *cfg;
    const json_t *lines; /* path -> line of the document, may be NULL */
    struct pl_error *err;
};

/* Fills err for path (looking up its line) and returns -EINVAL. */
PL_PRINTF(3, 4) static int fail(struct loader *l, const char *path, const char *fmt, ...)
{
    char msg[sizeof(l->err->message)];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n < 0) {
        msg[0] = '\0';
    }
    /* The innermost path that has a line: a parameter error names a key that may not exist. */
    char probe[256];
    snprintf(probe, sizeof(probe), "%s", path);
    int line = 0;
    while (l->lines) {
        line = (int)json_integer_value(json_object_get(l->lines, probe));
        char *cut = strrchr(probe, '.');
        char *bracket = strrchr(probe, '[');
        if (line > 0 || (!cut && !bracket)) {
            break;
        }
        *(cut > bracket ? cut : bracket) = '\0';
    }
    return pl_error_set(l->err, path, line, "%s", msg);
}

static struct pl_config *config_alloc(void)
{
    size_t n = pl_policy_count();
    struct pl_config *cfg = pl_xcalloc(1, sizeof(*cfg));
    atomic_init(&cfg->refs, 1);
    cfg->runbook_base_url = pl_xstrdup(PL_DEFAULT_RUNBOOK_BASE);
    cfg->grandfather_updates = true;
    size_t n_mutations = pl_mutation_count();
    cfg->mutations = pl_xcalloc(n_mutations ? n_mutations : 1, sizeof(*cfg->mutations));
    for (size_t i = 0; i < n_mutations; i++) {
        cfg->mutations[i].enabled = pl_mutations[i]->default_enabled;
    }
    cfg->policies = pl_xcalloc(n ? n : 1, sizeof(*cfg->policies));
    for (size_t i = 0; i < n; i++) {
        /* The defaults of exemptions.allow and controllers.enforce-on-pods (SPEC §6). */
        cfg->policies[i].mode = pl_policies[i]->default_mode;
        cfg->policies[i].exempt_allowed = !pl_policies[i]->never_exempt;
        cfg->policies[i].every_pod = pl_policies[i]->every_pod;
    }
    return cfg;
}

static void add_controller_user(struct pl_config *cfg, const char *user)
{
    cfg->controller_users =
        pl_xrealloc(cfg->controller_users, (cfg->n_controller_users + 1) * sizeof(char *));
    cfg->controller_users[cfg->n_controller_users++] = pl_xstrdup(user);
}

static void add_excluded(struct pl_config *cfg, const char *ns)
{
    if (!ns || !*ns || pl_config_excludes(cfg, ns)) {
        return;
    }
    cfg->exclude_namespaces =
        pl_xrealloc(cfg->exclude_namespaces, (cfg->n_exclude + 1) * sizeof(char *));
    cfg->exclude_namespaces[cfg->n_exclude++] = pl_xstrdup(ns);
}

static int load_strings(struct loader *l, const json_t *v, const char *key,
                        void (*each)(struct loader *, const char *))
{
    if (!json_is_array(v)) {
        return fail(l, key, "must be a list of strings");
    }
    size_t i;
    const json_t *item;
    json_array_foreach(v, i, item)
    {
        if (!json_is_string(item) || json_string_length(item) == 0) {
            char path[128];
            snprintf(path, sizeof(path), "%s[%zu]", key, i);
            return fail(l, path, "must be a non-empty string");
        }
        each(l, json_string_value(item));
    }
    return 0;
}

static void add_default_controller_users(struct pl_config *cfg)
{
    for (size_t i = 0; i < PL_ARRAY_SIZE(default_controller_users); i++) {
        add_controller_user(cfg, default_controller_users[i]);
    }
}

static void each_excluded(struct loader *l, const char *ns)
{
    add_excluded(l->cfg, ns);
}

/*
 * Parses the parameters in settings (all but the key reserved, which the
 * caller reads) with set, the table of the policy or mutation id under
 * section, into *slot (replacing what was there). Errors name the key.
 */
static int load_params(struct loader *l, const char *section, const char *id,
                       const struct pl_param_set *set, const json_t *settings, const char *reserved,
                       void **slot)
{
    struct pl_error perr;
    pl_error_init(&perr);
    void *params = NULL;
    if (pl_params_parse(set, settings, reserved, &params, &perr) < 0) {
        char path[512];
        snprintf(path, sizeof(path), "%s.%s%s%s", section, id, perr.path[0] ? "." : "", perr.path);
        if (!set) {
            return fail(l, path, "%s: %s takes %s", perr.message, id,
                        strcmp(reserved, "mode") == 0 ? "no parameters" : "only enabled");
        }
        return fail(l, path, "%s", perr.message);
    }
    pl_params_free(set, *slot);
    *slot = params;
    return 0;
}

static int load_policy(struct loader *l, int index, const json_t *settings)
{
    const struct pl_policy *p = pl_policies[index];
    struct pl_policy_setting *s = &l->cfg->policies[index];
    char path[512];
    snprintf(path, sizeof(path), "policies.%s", p->id);
    if (!json_is_object(settings)) {
        return fail(l, path, "must be a mapping such as {mode: enforce}");
    }
    const json_t *mode = json_object_get(settings, "mode");
    if (mode) {
        snprintf(path, sizeof(path), "policies.%s.mode", p->id);
        if (!json_is_string(mode) || pl_mode_parse(json_string_value(mode), &s->mode) < 0) {
            return fail(l, path, "mode must be enforce, warn or off");
        }
    }
    return load_params(l, "policies", p->id, p->params, settings, "mode", &s->params);
}

static int load_policies(struct loader *l, const json_t *v)
{
    if (!json_is_object(v)) {
        return fail(l, "policies", "must be a mapping of policy id to settings");
    }
    const char *id;
    const json_t *settings;
    json_object_foreach((json_t *)v, id, settings)
    {
        int index = pl_policy_index(id);
        if (index < 0) {
            char path[256];
            snprintf(path, sizeof(path), "policies.%s", id);
            return fail(l, path, "unknown policy \"%s\" (see `plimsoll policies`)", id);
        }
        int r = load_policy(l, index, settings);
        if (r < 0) {
            return r;
        }
    }
    return 0;
}

/*
 * One mutation's settings: {enabled: bool, <parameters>}. The parameters
 * (everything but "enabled") are parsed by its table, once per load.
 */
static int load_mutation(struct loader *l, int index, const json_t *settings)
{
    const struct pl_mutation *m = pl_mutations[index];
    struct pl_mutation_setting *s = &l->cfg->mutations[index];
    char path[512];
    snprintf(path, sizeof(path), "mutations.%s", m->id);
    if (!json_is_object(settings)) {
        return fail(l, path, "must be a mapping such as {enabled: true}");
    }
    const json_t *enabled = json_object_get(settings, "enabled");
    if (enabled) {
        snprintf(path, sizeof(path), "mutations.%s.enabled", m->id);
        if (!json_is_boolean(enabled)) {
            return fail(l, path, "must be true or false");
        }
        s->enabled = json_is_true(enabled);
    }
    if (json_object_get(settings, "mode")) {
        snprintf(path, sizeof(path), "mutations.%s.mode", m->id);
        return fail(l, path, "a mutation is switched with enabled: true|false, not mode");
    }
    return load_params(l, "mutations", m->id, m->params, settings, "enabled", &s->params);
}

static int load_mutations(struct loader *l, const json_t *v)
{
    if (!json_is_object(v)) {
        return fail(l, "mutations", "must be a mapping of mutation id to settings");
    }
    const char *id;
    const json_t *settings;
    json_object_foreach((json_t *)v, id, settings)
    {
        char path[256];
        snprintf(path, sizeof(path), "mutations.%s", id);
        if (strcmp(id, "mutate-templates") == 0) {
            if (!json_is_boolean(settings)) {
                return fail(l, path, "must be true or false");
            }
            l->cfg->mutate_templates = json_is_true(settings);
            continue;
        }
        int index = pl_mutation_index(id);
        if (index < 0) {
            return fail(l, path, "unknown mutation \"%s\" (see `plimsoll policies`)", id);
        }
        int r = load_mutation(l, index, settings);
        if (r < 0) {
            return r;
        }
    }
    return 0;
}

static int load_exemptions(struct loader *l, const json_t *v)
{
    if (!json_is_object(v)) {
        return fail(l, "exemptions", "must be a mapping with the key allow");
    }
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)v, key, value)
    {
        if (strcmp(key, "allow") != 0) {
            char path[128];
            snprintf(path, sizeof(path), "exemptions.%s", key);
            return fail(l, path, "unknown key \"%s\" (expected allow)", key);
        }
    }
    const json_t *allow = json_object_get(v, "allow");
    if (!allow) {
        return 0;
    }
    if (!json_is_array(allow)) {
        return fail(l, "exemptions.allow", "must be a list of policy ids");
    }
    size_t n = pl_policy_count();
    for (size_t i = 0; i < n; i++) {
        l->cfg->policies[i].exempt_allowed = false;
    }
    size_t i;
    const json_t *item;
    json_array_foreach(allow, i, item)
    {
        int index = json_is_string(item) ? pl_policy_index(json_string_value(item)) : -1;
        if (index < 0) {
            char path[128];
            snprintf(path, sizeof(path), "exemptions.allow[%zu]", i);
            return fail(l, path, "not a known policy id");
        }
        l->cfg->policies[index].exempt_allowed = true;
    }
    return 0;
}

static void each_controller_user(struct loader *l, const char *user)
{
    add_controller_user(l->cfg, user);
}

/* controllers: {users: [...], enforce-on-pods: [policy ids]} (SPEC §6). */
static int load_controllers(struct loader *l, const json_t *v, bool *users_set)
{
    if (!json_is_object(v)) {
        return fail(l, "controllers", "must be a mapping with the keys users and enforce-on-pods");
    }
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)v, key, value)
    {
        char path[128];
        snprintf(path, sizeof(path), "controllers.%s", key);
        if (strcmp(key, "users") == 0) {
            *users_set = true;
            int r = load_strings(l, value, path, each_controller_user);
            if (r < 0) {
                return r;
            }
        } else if (strcmp(key, "enforce-on-pods") == 0) {
            if (!json_is_array(value)) {
                return fail(l, path, "must be a list of policy ids");
            }
            for (size_t i = 0; pl_policies[i]; i++) {
                l->cfg->policies[i].every_pod = false;
            }
            size_t i;
            const json_t *item;
            json_array_foreach(value, i, item)
            {
                int index = json_is_string(item) ? pl_policy_index(json_string_value(item)) : -1;
                if (index < 0) {
                    snprintf(path, sizeof(path), "controllers.enforce-on-pods[%zu]", i);
                    return fail(l, path, "not a known policy id");
                }
                l->cfg->policies[index].every_pod = true;
            }
        } else {
            return fail(l, path, "unknown key \"%s\" (expected users or enforce-on-pods)", key);
        }
    }
    return 0;
}

static int load_top(struct loader *l, const json_t *doc)
{
    const char *key;
    const json_t *v;
    int r = 0;
    bool excludes_set = false;
    bool users_set = false;
    json_object_foreach((json_t *)doc, key, v)
    {
        if (strcmp(key, "runbook-base-url") == 0) {
            if (!json_is_string(v) || json_string_length(v) == 0) {
                return fail(l, key, "must be a URL such as https://example.org/plimsoll/policies/");
            }
            free(l->cfg->runbook_base_url);
            l->cfg->runbook_base_url = pl_xstrdup(json_string_value(v));
        } else if (strcmp(key, "exclude-namespaces") == 0) {
            excludes_set = true;
            r = load_strings(l, v, key, each_excluded);
        } else if (strcmp(key, "grandfather-updates") == 0) {
            if (!json_is_boolean(v)) {
                return fail(l, key, "must be true or false");
            }
            l->cfg->grandfather_updates = json_is_true(v);
        } else if (strcmp(key, "policies") == 0) {
            r = load_policies(l, v);
        } else if (strcmp(key, "mutations") == 0) {
            r = load_mutations(l, v);
        } else if (strcmp(key, "exemptions") == 0) {
            r = load_exemptions(l, v);
        } else if (strcmp(key, "controllers") == 0) {
            r = load_controllers(l, v, &users_set);
        } else {
            return fail(l, key, "unknown key \"%s\"", key);
        }
        if (r < 0) {
            return r;
        }
    }
    if (!excludes_set) {
        for (size_t i = 0; i < PL_ARRAY_SIZE(default_excluded); i++) {
            add_excluded(l->cfg, default_excluded[i]);
        }
    }
    if (!users_set) {
        add_default_controller_users(l->cfg);
    }
    return 0;
}

/* Parses the defaults of every policy and mutation the file did not configure. */
static int fill_default_params(struct loader *l)
{
    struct pl_error perr;
    pl_error_init(&perr);
    for (size_t i = 0; pl_policies[i]; i++) {
        const struct pl_policy *p = pl_policies[i];
        if (!l->cfg->policies[i].params &&
            pl_params_parse(p->params, NULL, NULL, &l->cfg->policies[i].params, &perr) < 0) {
            return fail(l, p->id, "built-in defaults rejected: %s", perr.message);
        }
    }
    for (size_t i = 0; pl_mutations[i]; i++) {
        const struct pl_mutation *m = pl_mutations[i];
        if (!l->cfg->mutations[i].params &&
            pl_params_parse(m->params, NULL, NULL, &l->cfg->mutations[i].params, &perr) < 0) {
            return fail(l, m->id, "built-in defaults rejected: %s", perr.message);
        }
    }
    return 0;
}

/*
 * Parses text; a text with no document (empty, only comments, `~`, `---`) is
 * the built-in defaults when allow_empty, else refused: a ConfigMap truncated
 * by mistake must not silently switch every policy to its default.
 */
static int config_parse(const char *text, size_t len, const char *self_namespace, bool allow_empty,
                        struct pl_config **ret_cfg, struct pl_error *err)
{
    json_t *docs = NULL;
    json_t *lines = NULL;
    struct loader l = {.err = err};
    int r = pl_yaml_load(text, len, &docs, &lines, err);
    if (r < 0) {
        return r;
    }
    l.cfg = config_alloc();
    l.cfg->source = pl_xstrdup("inline");
    if (json_array_size(docs) > 1) {
        r = pl_error_set(err, "", 0, "expected one YAML document, found %zu",
                         json_array_size(docs));
        goto out;
    }
    const json_t *doc = json_array_get(docs, 0);
    l.lines = json_array_get(lines, 0);
    if (!doc && !allow_empty) {
        r = pl_error_set(
            err, "", 0,
            "the configuration is empty (no document, only comments or null); write {} for the built-in defaults");
        goto out;
    }
    if (doc && !json_is_object(doc)) {
        r = pl_error_set(err, "", 1, "the configuration must be a mapping");
        goto out;
    }
    if (doc) {
        r = load_top(&l, doc);
        if (r < 0) {
            goto out;
        }
    } else {
        for (size_t i = 0; i < PL_ARRAY_SIZE(default_excluded); i++) {
            add_excluded(l.cfg, default_excluded[i]);
        }
        add_default_controller_users(l.cfg);
    }
    r = fill_default_params(&l);
    if (r < 0) {
        goto out;
    }
    add_excluded(l.cfg, self_namespace);
    *ret_cfg = l.cfg;
    l.cfg = NULL;
out:
    pl_config_unref(l.cfg);
    json_decref(docs);
    json_decref(lines);
    return r;
}

int pl_config_parse(const char *text, size_t len, const char *self_namespace,
                    struct pl_config **ret_cfg, struct pl_error *err)
{
    return config_parse(text, len, self_namespace, false, ret_cfg, err);
}

int pl_config_load_file(const char *path, const char *self_namespace, struct pl_config **ret_cfg,
                        struct pl_error *err)
{
    char *text = NULL;
    size_t len = 0;
    int r = pl_file_read(path, PL_CONFIG_MAX_BYTES, &text, &len, err);
    if (r < 0) {
        return r == -E2BIG ? -EINVAL : r; /* too large is a bad file, not an I/O error */
    }
    r = pl_config_parse(text, len, self_namespace, ret_cfg, err);
    if (r == 0) {
        free((*ret_cfg)->source);
        (*ret_cfg)->source = pl_xstrdup(path);
    }
    free(text);
    return r;
}

int pl_config_load(const char *path, const char *self_namespace, struct pl_config **ret_cfg,
                   struct pl_error *err)
{
    if (!path) {
        *ret_cfg = pl_config_new_default(self_namespace);
        return 0;
    }
    return pl_config_load_file(path, self_namespace, ret_cfg, err);
}

struct pl_config *pl_config_new_default(const char *self_namespace)
{
    struct pl_config *cfg = NULL;
    struct pl_error err;
    pl_error_init(&err);
    /* The empty document is the defaults; failing here is a programming error. */
    int r = config_parse("", 0, self_namespace, true, &cfg, &err);
    if (r < 0) {
        fprintf(stderr, "plimsoll: built-in defaults are invalid: %s\n", err.message);
        abort();
    }
    free(cfg->source);
    cfg->source = pl_xstrdup("built-in defaults");
    return cfg;
}

struct pl_config *pl_config_ref(struct pl_config *cfg)
{
    atomic_fetch_add_explicit(&cfg->refs, 1, memory_order_relaxed);
    return cfg;
}

struct pl_config *pl_config_unref(struct pl_config *cfg)
{
    if (!cfg || atomic_fetch_sub_explicit(&cfg->refs, 1, memory_order_acq_rel) != 1) {
        return NULL;
    }
    for (size_t i = 0; pl_policies[i]; i++) {
        pl_params_free(pl_policies[i]->params, cfg->policies[i].params);
    }
    for (size_t i = 0; i < cfg->n_exclude; i++) {
        free(cfg->exclude_namespaces[i]);
    }
    free(cfg->exclude_namespaces);
    for (size_t i = 0; i < cfg->n_controller_users; i++) {
        free(cfg->controller_users[i]);
    }
    free(cfg->controller_users);
    free(cfg->policies);
    free(cfg->runbook_base_url);
    free(cfg->source);
    for (size_t i = 0; pl_mutations[i]; i++) {
        pl_params_free(pl_mutations[i]->params, cfg->mutations[i].params);
    }
    free(cfg->mutations);
    free(cfg);
    return NULL;
}

bool pl_config_is_controller(const struct pl_config *cfg, const char *user)
{
    for (size_t i = 0; user && *user && i < cfg->n_controller_users; i++) {
        if (strcmp(cfg->controller_users[i], user) == 0) {
            return true;
        }
    }
    return false;
}

bool pl_config_excludes(const struct pl_config *cfg, const char *ns)
{
    for (size_t i = 0; ns && i < cfg->n_exclude; i++) {
        if (strcmp(cfg->exclude_namespaces[i], ns) == 0) {
            return true;
        }
    }
    return false;
}
