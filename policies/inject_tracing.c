/* SPDX-License-Identifier: Apache-2.0 */
/*
 * inject-tracing: switches on OpenTelemetry trace-context propagation. To
 * every container and native sidecar (not to init containers, which run to
 * completion before the app starts, nor to ephemeral containers) it appends
 * the env vars the container does not set:
 *
 *   OTEL_SERVICE_NAME            the pod label app.kubernetes.io/name, else the
 *                                owner's name (a ReplicaSet's without its
 *                                pod-template-hash, so Deployment "web" gives
 *                                "web"; for a workload template the workload's
 *                                name), else the pod's name or generateName
 *   OTEL_RESOURCE_ATTRIBUTES_POD_NAME      downward API: metadata.name
 *   OTEL_RESOURCE_ATTRIBUTES_SERVICE_VERSION  downward API: the pod's
 *                                plimsoll.dev/commit annotation (else label),
 *                                only when the pod carries one
 *   OTEL_RESOURCE_ATTRIBUTES     k8s.namespace.name=<ns>,
 *                                k8s.pod.name=$(OTEL_RESOURCE_ATTRIBUTES_POD_NAME)
 *                                [,service.version=$(..._SERVICE_VERSION)]
 *   OTEL_PROPAGATORS             `propagators`, default tracecontext,baggage
 *   OTEL_EXPORTER_OTLP_ENDPOINT  `endpoint`, when configured
 *
 * The pod name is not known when a ReplicaSet's pod is admitted (it has only
 * generateName), so it comes from the downward API, and the kubelet expands
 * $(VAR) references to variables defined earlier in the same list: the two
 * helper variables are appended just before OTEL_RESOURCE_ATTRIBUTES (names
 * as the OpenTelemetry Operator uses them). They are added only together
 * with OTEL_RESOURCE_ATTRIBUTES: a container that sets that variable itself
 * gets neither. The commit, too, is read by the kubelet from the annotation
 * at pod start, so that it follows the annotation rather than freezing the
 * value seen at admission. Literal values have `$` doubled so that the
 * kubelet does not expand them; resource attribute values are
 * percent-encoded as the OpenTelemetry specification says.
 *
 * A variable is "set" when an env entry of that name exists, whatever its
 * value (an empty value is the user's choice). Variables that come from
 * envFrom cannot be seen at admission; an env entry added here takes
 * precedence over them (see the runbook). Configured `annotations` are added
 * to the pod (template) where missing. On a Pod UPDATE only the annotations
 * are added: the API server forbids changing a running pod's env.
 * Runbook: docs/policies/inject-tracing.md
 */
#include "policies/mutation.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/keys.h"
#include "policies/required_keys.h"

#define POD_NAME_VAR "OTEL_RESOURCE_ATTRIBUTES_POD_NAME"
#define VERSION_VAR  "OTEL_RESOURCE_ATTRIBUTES_SERVICE_VERSION"

/* Bounds on parameters and on request text copied into a value. */
#define ENDPOINT_MAX    1024
#define PROPAGATORS_MAX 16
#define PROPAGATOR_MAX  32
#define ANNOTATIONS_MAX 64
#define ANNOTATION_MAX  4096
#define NAME_MAX_LEN    253
#define VALUE_MAX       2048

struct params {
    char *endpoint;               /* as configured; NULL when not */
    struct pl_strlist propagator; /* propagators, as configured */
    struct pl_strmap annotations;
    char *endpoint_value;    /* endpoint with `$` doubled; NULL when not configured */
    char *propagators_value; /* "tracecontext,baggage"; NULL for an empty list */
};

/* Copy of s with every `$` doubled (the kubelet expands $(VAR) in env values). */
static char *escape_dollars(const char *s)
{
    size_t n = strlen(s), extra = 0;
    for (size_t i = 0; i < n; i++) {
        extra += s[i] == '$';
    }
    char *out = pl_xmalloc(n + extra + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        out[o++] = s[i];
        if (s[i] == '$') {
            out[o++] = '$';
        }
    }
    out[o] = '\0';
    return out;
}

/* An http:// or https:// URL without spaces or control characters. */
static int check_endpoint(const char *s, const char *path, struct pl_error *err)
{
    if (!(strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0)) {
        return pl_error_set(err, path, 0,
                            "must be a URL such as http://otel-collector.observability:4317");
    }
    for (const char *c = s; *c; c++) {
        if ((unsigned char)*c <= ' ' || *c == 0x7f) {
            return pl_error_set(err, path, 0, "must not contain spaces or control characters");
        }
    }
    return 0;
}

/* A propagator name: 1-PROPAGATOR_MAX of [a-z0-9_]. */
static int check_propagator(const char *s, const char *path, struct pl_error *err)
{
    size_t n = strlen(s);
    bool ok = n > 0 && n <= PROPAGATOR_MAX;
    for (; ok && *s; s++) {
        ok = (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_';
    }
    if (!ok) {
        return pl_error_set(err, path, 0,
                            "must be a propagator name such as tracecontext, baggage or b3");
    }
    return 0;
}

static int check_annotation_key(const char *key, const char *path, struct pl_error *err)
{
    return pl_metadata_key_check(key, "annotation", path, err);
}

/* The values written into env: the endpoint escaped, the propagators joined. */
static int prepare(void *p, struct pl_error *err)
{
    struct params *params = p;
    if (params->endpoint) {
        params->endpoint_value = escape_dollars(params->endpoint);
    }
    if (params->propagator.len == 0) {
        return 0;
    }
    struct pl_buf b;
    pl_buf_init(&b, PROPAGATORS_MAX * (PROPAGATOR_MAX + 1));
    int r = 0;
    for (size_t i = 0; r == 0 && i < params->propagator.len; i++) {
        r = pl_buf_printf(&b, "%s%s", i ? "," : "", params->propagator.items[i]);
    }
    if (r < 0) {
        r = pl_error_set(err, "propagators", 0, "is too long");
    } else {
        params->propagators_value = pl_buf_steal(&b);
    }
    pl_buf_finish(&b);
    return r;
}

static void finish(void *p)
{
    struct params *params = p;
    free(params->endpoint_value);
    free(params->propagators_value);
}

static const struct pl_param param_table[] = {
    {.name = "endpoint",
     .type = PL_PARAM_STRING,
     .offset = offsetof(struct params, endpoint),
     .len_max = ENDPOINT_MAX,
     .check = check_endpoint,
     .summary = "OTEL_EXPORTER_OTLP_ENDPOINT, an http:// or https:// URL such as "
                "http://otel-collector.observability:4317; none: not injected"},
    {.name = "propagators",
     .type = PL_PARAM_STRLIST,
     .offset = offsetof(struct params, propagator),
     .def = "[\"tracecontext\", \"baggage\"]",
     .max = PROPAGATORS_MAX,
     .check = check_propagator,
     .summary = "OTEL_PROPAGATORS, joined with commas; an empty list injects none"},
    {.name = "annotations",
     .type = PL_PARAM_STRMAP,
     .offset = offsetof(struct params, annotations),
     .def = "{}",
     .max = ANNOTATIONS_MAX,
     .len_max = ANNOTATION_MAX,
     .check = check_annotation_key,
     .summary = "annotations added to the pod (template) where missing, e.g. a mesh's tracing "
                "switch"},
    {0},
};

static const struct pl_param_set param_set = {sizeof(struct params), param_table, prepare, finish};

/* A name usable as a service name: non-empty and bounded. */
static const char *usable(const char *s)
{
    return s && *s && strnlen(s, NAME_MAX_LEN + 1) <= NAME_MAX_LEN ? s : NULL;
}

/* The controlling owner reference of a pod, else its first one, or NULL. */
static const json_t *owner_of(const json_t *meta)
{
    const json_t *owners = pl_json_array(meta, "ownerReferences");
    size_t i;
    const json_t *ref;
    json_array_foreach(owners, i, ref)
    {
        if (pl_json_bool(ref, "controller", false)) {
            return ref;
        }
    }
    return json_array_get(owners, 0);
}

/* A Pod's owner's name; a ReplicaSet's loses its "-<pod-template-hash>" suffix. */
static const char *owner_name(struct pl_pool *pool, const json_t *meta)
{
    const json_t *owner = owner_of(meta);
    const char *name = usable(pl_json_string(owner, "name"));
    const char *kind = pl_json_string(owner, "kind");
    const char *hash = pl_json_string(pl_json_object(meta, "labels"), "pod-template-hash");
    if (!name || !kind || strcmp(kind, "ReplicaSet") != 0 || !hash || !*hash) {
        return name;
    }
    size_t n = strlen(name), h = strlen(hash);
    if (n > h + 1 && name[n - h - 1] == '-' && strcmp(name + n - h, hash) == 0) {
        return pl_pool_strndup(pool, name, n - h - 1);
    }
    return name;
}

/* OTEL_SERVICE_NAME's value before escaping, or NULL when nothing names the pod. */
static const char *service_name(const struct pl_mutate_ctx *ctx)
{
    const json_t *meta = ctx->obj->pod_meta;
    const char *v = usable(pl_json_string(pl_json_object(meta, "labels"), PL_LABEL_APP_NAME));
    if (v) {
        return v;
    }
    if (ctx->obj->kind != PL_KIND_POD) {
        return usable(pl_json_string(pl_json_object(ctx->obj->root, "metadata"), "name"));
    }
    v = owner_name(ctx->pool, meta);
    if (v) {
        return v;
    }
    v = usable(pl_json_string(meta, "name"));
    if (v) {
        return v;
    }
    v = usable(pl_json_string(meta, "generateName"));
    if (!v) {
        return NULL;
    }
    size_t n = strlen(v);
    while (n > 0 && (v[n - 1] == '-' || v[n - 1] == '.')) {
        n--;
    }
    return n ? pl_pool_strndup(ctx->pool, v, n) : NULL;
}

/* s with `$` doubled, in the pool. */
static const char *pool_escape_dollars(struct pl_pool *pool, const char *s)
{
    char *tmp = escape_dollars(s);
    const char *out = pl_pool_strdup(pool, tmp);
    free(tmp);
    return out;
}

/* Percent-encodes s for a resource attribute value (W3C baggage octets). */
static int append_encoded(struct pl_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        bool plain = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                     (*c >= '0' && *c <= '9') || *c == '.' || *c == '_' || *c == '-' || *c == '~';
        char enc[3] = {'%', hex[*c >> 4], hex[*c & 15]};
        int r = plain ? pl_buf_append(b, c, 1) : pl_buf_append(b, enc, 3);
        if (r < 0) {
            return r;
        }
    }
    return 0;
}

/* The downward-API field path of the pod's commit, or NULL when it has none. */
static const char *commit_field(const json_t *meta)
{
    const char *v = pl_json_string(pl_json_object(meta, "annotations"), PL_KEY_COMMIT);
    if (v && *v) {
        return "metadata.annotations['" PL_KEY_COMMIT "']";
    }
    v = pl_json_string(pl_json_object(meta, "labels"), PL_KEY_COMMIT);
    if (v && *v) {
        return "metadata.labels['" PL_KEY_COMMIT "']";
    }
    return NULL;
}

/* OTEL_RESOURCE_ATTRIBUTES' value, or NULL when too long. Pool memory. */
static const char *resource_attributes(struct pl_pool *pool, const char *ns, bool with_version)
{
    struct pl_buf b;
    pl_buf_init(&b, VALUE_MAX);
    const char *out = NULL;
    if (ns && *ns &&
        (pl_buf_puts(&b, "k8s.namespace.name=") < 0 || append_encoded(&b, ns) < 0 ||
         pl_buf_puts(&b, ",") < 0)) {
        goto out;
    }
    if (pl_buf_puts(&b, "k8s.pod.name=$(" POD_NAME_VAR ")") < 0) {
        goto out;
    }
    if (with_version && pl_buf_puts(&b, ",service.version=$(" VERSION_VAR ")") < 0) {
        goto out;
    }
    out = pl_pool_strdup(pool, pl_buf_str(&b));
out:
    pl_buf_finish(&b);
    return out;
}

/* What one pod gets, computed once. */
struct plan {
    const char *service;     /* escaped, or NULL */
    const char *attributes;  /* or NULL */
    const char *commit_path; /* downward-API path of the commit, or NULL */
};

static bool env_has(const json_t *container, const char *name)
{
    const json_t *env = pl_json_array(container, "env");
    size_t i;
    const json_t *entry;
    json_array_foreach(env, i, entry)
    {
        const char *n = pl_json_string(entry, "name");
        if (n && strcmp(n, name) == 0) {
            return true;
        }
    }
    return false;
}

/* Appends entry (stolen) to the container's env, creating env when missing. */
static int append_env(const struct pl_mutate_ctx *ctx, struct pl_patch *patch,
                      const struct pl_container *c, json_t *entry)
{
    if (!entry) {
        return 0;
    }
    struct pl_pointer ptr;
    pl_pointer_init(&ptr, ctx->obj->pod_spec_path);
    pl_pointer_push(&ptr, c->list);
    pl_pointer_push_index(&ptr, c->index);
    pl_pointer_push(&ptr, "env");
    pl_pointer_push(&ptr, "-");
    int r = pl_patch_add(patch, &ptr, entry);
    return r < 0 ? r : 0;
}

/* {"name": name, key: value} (value stolen), or NULL when value is NULL (a
 * string that is not UTF-8, as json_pack refused it). Built directly: json_pack
 * reads its format string anew on every call and was a tenth of a /mutate. */
static json_t *env_entry(const char *name, const char *key, json_t *value)
{
    if (!value) {
        return NULL;
    }
    json_t *entry = json_object();
    if (!entry) {
        pl_oom();
    }
    json_object_set_new_nocheck(entry, "name", json_string(name));
    json_object_set_new_nocheck(entry, key, value);
    return entry;
}

static int set_literal(const struct pl_mutate_ctx *ctx, struct pl_patch *patch,
                       const struct pl_container *c, const char *name, const char *value)
{
    if (!value || env_has(c->json, name)) {
        return 0;
    }
    return append_env(ctx, patch, c, env_entry(name, "value", json_string(value)));
}

static int set_field(const struct pl_mutate_ctx *ctx, struct pl_patch *patch,
                     const struct pl_container *c, const char *name, const char *field)
{
    if (env_has(c->json, name)) {
        return 0;
    }
    json_t *ref = json_object();
    json_t *from = json_object();
    if (!ref || !from) {
        pl_oom();
    }
    json_object_set_new_nocheck(ref, "apiVersion", json_string_nocheck("v1"));
    json_t *path = json_string(field);
    if (!path) {
        json_decref(ref);
        json_decref(from);
        return 0;
    }
    json_object_set_new_nocheck(ref, "fieldPath", path);
    json_object_set_new_nocheck(from, "fieldRef", ref);
    return append_env(ctx, patch, c, env_entry(name, "valueFrom", from));
}

static int inject_container(const struct pl_mutate_ctx *ctx, struct pl_patch *patch,
                            const struct pl_container *c, const struct plan *plan)
{
    const struct params *params = ctx->params;
    const json_t *env = json_object_get(c->json, "env");
    if (env && !json_is_array(env) && !json_is_null(env)) {
        return 0; /* invalid; the API server will say so */
    }
    int r = set_literal(ctx, patch, c, "OTEL_SERVICE_NAME", plan->service);
    if (r == 0 && plan->attributes && !env_has(c->json, "OTEL_RESOURCE_ATTRIBUTES")) {
        r = set_field(ctx, patch, c, POD_NAME_VAR, "metadata.name");
        if (r == 0 && plan->commit_path) {
            r = set_field(ctx, patch, c, VERSION_VAR, plan->commit_path);
        }
        if (r == 0) {
            r = set_literal(ctx, patch, c, "OTEL_RESOURCE_ATTRIBUTES", plan->attributes);
        }
    }
    if (r == 0) {
        r = set_literal(ctx, patch, c, "OTEL_PROPAGATORS", params->propagators_value);
    }
    if (r == 0) {
        r = set_literal(ctx, patch, c, "OTEL_EXPORTER_OTLP_ENDPOINT", params->endpoint_value);
    }
    return r;
}

static int add_annotations(const struct pl_mutate_ctx *ctx, struct pl_patch *patch)
{
    const struct params *params = ctx->params;
    for (size_t i = 0; i < params->annotations.len; i++) {
        struct pl_pointer ptr;
        pl_pointer_init(&ptr, ctx->obj->pod_meta_path);
        pl_pointer_push(&ptr, "annotations");
        pl_pointer_push(&ptr, params->annotations.keys[i]);
        int r = pl_patch_add(patch, &ptr, json_string(params->annotations.values[i]));
        if (r < 0) {
            return r;
        }
    }
    return 0;
}

static int mutate(const struct pl_mutate_ctx *ctx, struct pl_patch *patch)
{
    if (ctx->spec_mutable) {
        struct plan plan = {NULL, NULL, NULL};
        const char *service = service_name(ctx);
        plan.service = service ? pool_escape_dollars(ctx->pool, service) : NULL;
        plan.commit_path = commit_field(ctx->obj->pod_meta);
        plan.attributes = resource_attributes(ctx->pool, ctx->namespace_, plan.commit_path != NULL);
        struct pl_container_iter it;
        struct pl_container c;
        pl_container_iter_init(&it, ctx->obj->pod_spec, PL_CTR_LONG_RUNNING);
        while (pl_container_iter_next(&it, &c)) {
            int r = inject_container(ctx, patch, &c, &plan);
            if (r < 0) {
                return r;
            }
        }
    }
    return add_annotations(ctx, patch);
}

/* It reads the commit inject-commit stamps (commit_field), so it runs after it. */
static const char *const after[] = {"inject-commit", NULL};

const struct pl_mutation pl_mutation_inject_tracing = {
    .id = "inject-tracing",
    .default_enabled = false,
    .summary = "OpenTelemetry env vars (service name, resource attributes, propagators, "
               "endpoint) on every container",
    .after = after,
    .params = &param_set,
    .mutate = mutate,
};
