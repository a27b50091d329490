/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Type checks of the fields policies read (see schema.h). One table per
 * object type of the Kubernetes API, each row a field and the JSON type the
 * API server's decoder wants there; a row may point at the table of the
 * object (or list items) it holds.
 */
#include "engine/schema.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/compiler.h"
#include "core/json.h"
#include "core/object.h"

enum type {
    T_OBJECT,      /* a mapping, checked with .fields when set */
    T_LIST,        /* a list of mappings, each checked with .fields when set */
    T_STRING_LIST, /* a list of strings */
    T_STRING_MAP,  /* a mapping of strings (labels, annotations) */
    T_STRING,
    T_BOOL,
    T_INT,
};

struct field {
    const char *key;
    enum type type;
    const struct field *fields; /* ended by {NULL} */
};

static const char *const type_names[] = {
    "a mapping", "a list", "a list of strings", "a mapping of strings",
    "a string",  "a bool", "an integer",
};

static const struct field capabilities[] = {
    {"add", T_STRING_LIST, NULL},
    {"drop", T_STRING_LIST, NULL},
    {NULL, T_OBJECT, NULL},
};

static const struct field security_context[] = {
    {"capabilities", T_OBJECT, capabilities},
    {"privileged", T_BOOL, NULL},
    {"allowPrivilegeEscalation", T_BOOL, NULL},
    {"readOnlyRootFilesystem", T_BOOL, NULL},
    {"runAsNonRoot", T_BOOL, NULL},
    {"runAsUser", T_INT, NULL},
    {"runAsGroup", T_INT, NULL},
    {"procMount", T_STRING, NULL},
    {"seccompProfile", T_OBJECT, NULL},
    {"seLinuxOptions", T_OBJECT, NULL},
    {"windowsOptions", T_OBJECT, NULL},
    {"appArmorProfile", T_OBJECT, NULL},
    {"sysctls", T_LIST, NULL},
    {NULL, T_OBJECT, NULL},
};

static const struct field port[] = {
    {"containerPort", T_INT, NULL},
    {"hostPort", T_INT, NULL},
    {NULL, T_OBJECT, NULL},
};

static const struct field env_var[] = {
    {"name", T_STRING, NULL},
    {"value", T_STRING, NULL},
    {"valueFrom", T_OBJECT, NULL},
    {NULL, T_OBJECT, NULL},
};

static const struct field resources[] = {
    {"requests", T_OBJECT, NULL},
    {"limits", T_OBJECT, NULL},
    {NULL, T_OBJECT, NULL},
};

static const struct field lifecycle[] = {
    {"postStart", T_OBJECT, NULL},
    {"preStop", T_OBJECT, NULL},
    {NULL, T_OBJECT, NULL},
};

static const struct field container[] = {
    {"name", T_STRING, NULL},
    {"image", T_STRING, NULL},
    {"ports", T_LIST, port},
    {"env", T_LIST, env_var},
    {"envFrom", T_LIST, NULL},
    {"resources", T_OBJECT, resources},
    {"livenessProbe", T_OBJECT, NULL},
    {"readinessProbe", T_OBJECT, NULL},
    {"startupProbe", T_OBJECT, NULL},
    {"lifecycle", T_OBJECT, lifecycle},
    {"securityContext", T_OBJECT, security_context},
    {"volumeMounts", T_LIST, NULL},
    {"restartPolicy", T_STRING, NULL},
    {NULL, T_OBJECT, NULL},
};

static const struct field volume[] = {
    {"name", T_STRING, NULL},
    {NULL, T_OBJECT, NULL},
};

static const struct field pod_security_context[] = {
    {"runAsNonRoot", T_BOOL, NULL},
    {"runAsUser", T_INT, NULL},
    {"runAsGroup", T_INT, NULL},
    {"seccompProfile", T_OBJECT, NULL},
    {"seLinuxOptions", T_OBJECT, NULL},
    {"windowsOptions", T_OBJECT, NULL},
    {"appArmorProfile", T_OBJECT, NULL},
    {"sysctls", T_LIST, NULL},
    {NULL, T_OBJECT, NULL},
};

static const struct field pod_spec[] = {
    {"containers", T_LIST, container},
    {"initContainers", T_LIST, container},
    {"ephemeralContainers", T_LIST, container},
    {"volumes", T_LIST, volume},
    {"securityContext", T_OBJECT, pod_security_context},
    {"automountServiceAccountToken", T_BOOL, NULL},
    {"hostNetwork", T_BOOL, NULL},
    {"hostPID", T_BOOL, NULL},
    {"hostIPC", T_BOOL, NULL},
    {"hostUsers", T_BOOL, NULL},
    {"restartPolicy", T_STRING, NULL},
    {"terminationGracePeriodSeconds", T_INT, NULL},
    {"os", T_OBJECT, NULL},
    {NULL, T_OBJECT, NULL},
};

static const struct field metadata[] = {
    {"name", T_STRING, NULL},
    {"generateName", T_STRING, NULL},
    {"namespace", T_STRING, NULL},
    {"labels", T_STRING_MAP, NULL},
    {"annotations", T_STRING_MAP, NULL},
    {"ownerReferences", T_LIST, NULL},
    {NULL, T_OBJECT, NULL},
};

static const struct field workload_spec[] = {
    {"replicas", T_INT, NULL},
    {NULL, T_OBJECT, NULL},
};

struct checker {
    json_t *problems;
};

PL_PRINTF(3, 4)
static void problem(struct checker *c, const char *path, const char *fmt, ...)
{
    if (json_array_size(c->problems) >= PL_SCHEMA_MAX_PROBLEMS) {
        return;
    }
    char message[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    json_array_append_new(c->problems, json_pack("{s:s, s:s}", "path", path, "message", message));
}

static const char *json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "a mapping";
    case JSON_ARRAY:
        return "a list";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a bool";
    case JSON_NULL:
    default:
        return "null";
    }
}

static void check_fields(struct checker *c, const json_t *obj, const char *path,
                         const struct field *fields);

static bool has_type(const json_t *v, enum type t)
{
    switch (t) {
    case T_OBJECT:
    case T_STRING_MAP:
        return json_is_object(v);
    case T_LIST:
    case T_STRING_LIST:
        return json_is_array(v);
    case T_STRING:
        return json_is_string(v);
    case T_BOOL:
        return json_is_boolean(v);
    case T_INT:
        return json_is_integer(v);
    default:
        return false;
    }
}

/* Checks the members of a list or map value whose own type is right. */
static void check_members(struct checker *c, const json_t *v, const char *path,
                          const struct field *f)
{
    char child[512];
    if (f->type == T_STRING_MAP) {
        const char *key;
        const json_t *item;
        json_object_foreach((json_t *)v, key, item)
        {
            if (!json_is_string(item)) {
                if (snprintf(child, sizeof(child), "%s.%s", path, key) < 0) {
                    continue;
                }
                problem(c, child, "must be a string, not %s", json_type_name(item));
            }
        }
        return;
    }
    size_t i;
    const json_t *item;
    json_array_foreach(v, i, item)
    {
        if (snprintf(child, sizeof(child), "%s[%zu]", path, i) < 0) {
            continue;
        }
        if (f->type == T_STRING_LIST && !json_is_string(item)) {
            problem(c, child, "must be a string, not %s", json_type_name(item));
        } else if (f->type == T_LIST && !json_is_object(item)) {
            problem(c, child, "must be a mapping, not %s", json_type_name(item));
        } else if (f->type == T_LIST && f->fields) {
            check_fields(c, item, child, f->fields);
        }
    }
}

static void check_fields(struct checker *c, const json_t *obj, const char *path,
                         const struct field *fields)
{
    for (const struct field *f = fields; f->key; f++) {
        const json_t *v = json_object_get(obj, f->key);
        if (!v || json_is_null(v)) {
            continue; /* absent (null is what an empty YAML value decodes to) */
        }
        char child[512];
        snprintf(child, sizeof(child), "%s%s%s", path, *path ? "." : "", f->key);
        if (!has_type(v, f->type)) {
            problem(c, child, "must be %s, not %s", type_names[f->type], json_type_name(v));
        } else if (f->type == T_OBJECT && f->fields) {
            check_fields(c, v, child, f->fields);
        } else if (f->type != T_OBJECT) {
            check_members(c, v, child, f);
        }
    }
}

/* Checks that each step of dotted (relative to root) is a mapping; reports the first that is not.
 */
static const json_t *walk(struct checker *c, const json_t *root, const char *dotted)
{
    const json_t *v = root;
    char path[256] = "";
    for (const char *p = dotted; *p;) {
        size_t n = strcspn(p, ".");
        char key[64];
        snprintf(key, sizeof(key), "%.*s", (int)n, p);
        size_t len = strlen(path);
        snprintf(path + len, sizeof(path) - len, "%s%s", len ? "." : "", key);
        v = json_object_get(v, key);
        if (!v || json_is_null(v)) {
            problem(c, path, "is missing; the API server refuses a %s without it",
                    pl_json_string(root, "kind"));
            return NULL;
        }
        if (!json_is_object(v)) {
            problem(c, path, "must be a mapping, not %s", json_type_name(v));
            return NULL;
        }
        p += n + (p[n] == '.');
    }
    return v;
}

/* Whether a name field holds a name: present, not null, not "" (a wrong type is reported
 * by the metadata table). */
static bool named(const json_t *v)
{
    return v && !json_is_null(v) && !(json_is_string(v) && json_string_length(v) == 0);
}

json_t *pl_schema_check(const json_t *object)
{
    struct checker c = {.problems = json_array()};
    enum pl_kind kind = pl_kind_from_name(pl_json_string(object, "kind"));
    if (kind == PL_KIND_OTHER || !json_is_object(object)) {
        return c.problems;
    }
    const json_t *meta = json_object_get(object, "metadata");
    if (meta && !json_is_object(meta)) {
        problem(&c, "metadata", "must be a mapping, not %s", json_type_name(meta));
    } else if (meta) {
        check_fields(&c, meta, "metadata", metadata);
    }
    if (json_is_object(meta) && !named(json_object_get(meta, "name")) &&
        !named(json_object_get(meta, "generateName"))) {
        problem(&c, "metadata.name",
                "is missing; the API server refuses an object without a name (or generateName)");
    } else if (!meta) {
        problem(&c, "metadata", "is missing; the API server refuses an object without a name");
    }
    const char *spec_path = kind == PL_KIND_POD       ? "spec"
                            : kind == PL_KIND_CRONJOB ? "spec.jobTemplate.spec.template.spec"
                                                      : "spec.template.spec";
    const char *meta_path = kind == PL_KIND_CRONJOB ? "spec.jobTemplate.spec.template.metadata"
                                                    : "spec.template.metadata";
    const json_t *spec = walk(&c, object, spec_path);
    if (kind != PL_KIND_POD) {
        const json_t *workload = json_object_get(object, "spec");
        if (json_is_object(workload)) {
            check_fields(&c, workload, "spec", workload_spec);
        }
        const json_t *tmeta = pl_json_path(object, meta_path);
        if (tmeta && !json_is_null(tmeta) && !json_is_object(tmeta)) {
            problem(&c, meta_path, "must be a mapping, not %s", json_type_name(tmeta));
        } else if (tmeta) {
            check_fields(&c, tmeta, meta_path, metadata);
        }
    }
    if (!spec) {
        return c.problems;
    }
    const json_t *containers = json_object_get(spec, "containers");
    if (!containers || json_is_null(containers) ||
        (json_is_array(containers) && json_array_size(containers) == 0)) {
        char path[128];
        snprintf(path, sizeof(path), "%s.containers", spec_path);
        problem(&c, path, "is %s; a pod needs at least one container",
                containers && !json_is_null(containers) ? "empty" : "missing");
    }
    check_fields(&c, spec, spec_path, pod_spec);
    return c.problems;
}
