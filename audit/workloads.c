/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Workload kinds, ownership and the judging of one listed object (see
 * workloads.h).
 */
#include "audit/workloads.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/keys.h"
#include "engine/evaluate.h"
#include "engine/manifest.h"

/* Objects are at most 1.5 MiB in etcd; rendered with indents, a few times that. */
#define OBJECT_TEXT_MAX (16u * 1024u * 1024u)

const struct pl_audit_kind pl_audit_kinds[] = {
    {"Deployment", "apps/v1", NULL, "deployments"},
    {"StatefulSet", "apps/v1", NULL, "statefulsets"},
    {"DaemonSet", "apps/v1", NULL, "daemonsets"},
    {"ReplicaSet", "apps/v1", NULL, "replicasets"},
    {"ReplicationController", "v1", NULL, "replicationcontrollers"},
    /* batch/v1 CronJob is GA from Kubernetes 1.21; older API servers serve v1beta1. */
    {"CronJob", "batch/v1", "batch/v1beta1", "cronjobs"},
    {"Job", "batch/v1", NULL, "jobs"},
    {"Pod", "v1", NULL, "pods"},
    {NULL, NULL, NULL, NULL},
};

/* policy/v1 budgets are GA from Kubernetes 1.21; autoscaling/v2 from 1.23, and v1 carries
 * what the policies read (minReplicas, maxReplicas, scaleTargetRef). */
const struct pl_audit_kind pl_audit_neighbour_kinds[] = {
    {"PodDisruptionBudget", "policy/v1", "policy/v1beta1", "poddisruptionbudgets"},
    {"HorizontalPodAutoscaler", "autoscaling/v2", "autoscaling/v1", "horizontalpodautoscalers"},
    {"NetworkPolicy", "networking.k8s.io/v1", NULL, "networkpolicies"},
    {NULL, NULL, NULL, NULL},
};

size_t pl_audit_kind_count(const struct pl_audit_kind *table)
{
    size_t n = 0;
    while (table[n].kind) {
        n++;
    }
    return n;
}

bool pl_audit_neighbour_judged(const struct pl_audit_kind *k)
{
    return strcmp(k->kind, "NetworkPolicy") != 0;
}

int pl_audit_kind_rank(const char *kind)
{
    int i = 0;
    for (; pl_audit_kinds[i].kind; i++) {
        if (strcmp(kind, pl_audit_kinds[i].kind) == 0) {
            return i;
        }
    }
    for (int j = 0; pl_audit_neighbour_kinds[j].kind; j++) {
        if (strcmp(kind, pl_audit_neighbour_kinds[j].kind) == 0) {
            return i + j;
        }
    }
    return 1000;
}

int pl_audit_collection_path(const struct pl_audit_kind *k, const char *api_version, const char *ns,
                             char *out, size_t size)
{
    /* The core group lives under /api, every other under /apis. */
    const char *root = strchr(api_version, '/') ? "/apis" : "/api";
    int n = ns ? snprintf(out, size, "%s/%s/namespaces/%s/%s", root, api_version, ns, k->plural)
               : snprintf(out, size, "%s/%s/%s", root, api_version, k->plural);
    return n < 0 || (size_t)n >= size ? -E2BIG : 0;
}

/* The API group of an apiVersion ("apps/v1" -> "apps", "v1" -> ""), as its length. */
static size_t group_len(const char *api_version)
{
    const char *slash = strchr(api_version, '/');
    return slash ? (size_t)(slash - api_version) : 0;
}

/* Whether apiVersion/kind names a workload controller that pl_audit_kinds judges. */
static bool judged_controller(const char *api_version, const char *kind)
{
    if (strcmp(kind, "Pod") == 0) {
        return false; /* judged, but controls nothing */
    }
    for (size_t i = 0; pl_audit_kinds[i].kind; i++) {
        const struct pl_audit_kind *k = &pl_audit_kinds[i];
        size_t g = group_len(k->api_version);
        if (strcmp(kind, k->kind) == 0 && group_len(api_version) == g &&
            strncmp(api_version, k->api_version, g) == 0) {
            return true;
        }
    }
    return false;
}

bool pl_audit_owned(const json_t *object)
{
    const json_t *refs = pl_json_array(pl_json_object(object, "metadata"), "ownerReferences");
    size_t i;
    const json_t *ref;
    json_array_foreach(refs, i, ref)
    {
        const char *api_version = pl_json_string(ref, "apiVersion");
        const char *kind = pl_json_string(ref, "kind");
        if (json_is_true(json_object_get(ref, "controller")) && api_version && kind &&
            judged_controller(api_version, kind)) {
            return true;
        }
    }
    return false;
}

json_t *pl_audit_namespace_annotations(const json_t *ns_object)
{
    json_t *out = json_object();
    const json_t *annotations =
        pl_json_object(pl_json_object(ns_object, "metadata"), "annotations");
    const char *key;
    const json_t *value;
    size_t prefix = strlen(PL_KEY_PREFIX);
    json_object_foreach((json_t *)annotations, key, value)
    {
        if (strncmp(key, PL_KEY_PREFIX, prefix) == 0 && json_is_string(value)) {
            json_object_set(out, key, (json_t *)value);
        }
    }
    return out;
}

/* The object's API path: its collection's path and its name. */
static int object_path(const struct pl_audit_kind *k, const char *api_version, const json_t *object,
                       char *out, size_t size, struct pl_error *err)
{
    const json_t *meta = pl_json_object(object, "metadata");
    const char *name = pl_json_string(meta, "name");
    const char *ns = pl_json_string(meta, "namespace");
    char collection[1024];
    if (!name || !*name) {
        return pl_error_set(err, "metadata.name", 0, "a listed %s without a name", k->kind);
    }
    if (pl_audit_collection_path(k, api_version, ns && *ns ? ns : NULL, collection,
                                 sizeof(collection)) < 0 ||
        (size_t)snprintf(out, size, "%s/%s", collection, name) >= size) {
        return pl_error_set(err, "metadata.name", 0, "%s %s: name too long", k->kind, name);
    }
    return 0;
}

/* Whether the manifest holds the one object it was made of (a List holds more). */
static int one_object(const struct pl_manifest *m, struct pl_error *err)
{
    if (m->n_objects != 1) {
        return pl_error_set(err, "", 0, "%s: not one object", m->n_files ? m->files[0].name : "");
    }
    return 0;
}

/* Judges the manifest's one object and frees the manifest. */
static int judge_manifest(const struct pl_config *cfg, struct pl_manifest *m,
                          const json_t *ns_annotations, const struct pl_neighbours *neighbours,
                          struct pl_pool *pool, struct pl_verdict_counts *counts, json_t **ret,
                          struct pl_error *err)
{
    int r = one_object(m, err);
    if (r == 0) {
        struct pl_verdict_input in = {
            .cfg = cfg, .manifest = m, .annotations = ns_annotations, .neighbours = neighbours};
        r = pl_verdict_judge(&in, 0, pool, counts, ret, err);
    }
    pl_manifest_finish(m);
    return r;
}

json_t *pl_audit_workload_neighbour(const struct pl_audit_kind *k, const char *api_version,
                                    const json_t *object)
{
    const json_t *meta = pl_json_object(object, "metadata");
    const json_t *spec = pl_json_object(object, "spec");
    json_t *keep_meta = json_object();
    json_t *keep_spec = json_object();
    const char *const meta_keys[] = {"name", "namespace"};
    const char *const spec_keys[] = {"replicas", "selector"};
    for (size_t i = 0; i < 2; i++) {
        json_t *v = json_object_get(meta, meta_keys[i]);
        if (v) {
            json_object_set(keep_meta, meta_keys[i], v);
        }
        v = json_object_get(spec, spec_keys[i]);
        if (v) {
            json_object_set(keep_spec, spec_keys[i], v);
        }
    }
    const json_t *labels = pl_json_path(object, "spec.template.metadata.labels");
    if (labels) {
        json_object_set_new(keep_spec, "template",
                            json_pack("{s:{s:O}}", "metadata", "labels", labels));
    }
    return json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", api_version, "kind", k->kind, "metadata",
                     keep_meta, "spec", keep_spec);
}

json_t *pl_audit_with_kind(const struct pl_audit_kind *k, const char *api_version,
                           const json_t *object)
{
    json_t *copy = json_pack("{s:s, s:s}", "apiVersion", api_version, "kind", k->kind);
    json_object_update_missing(copy, (json_t *)object);
    return copy;
}

int pl_audit_judge(const struct pl_config *cfg, const struct pl_audit_kind *k,
                   const char *api_version, const json_t *object, const json_t *ns_annotations,
                   const struct pl_neighbours *neighbours, struct pl_pool *pool,
                   struct pl_verdict_counts *counts, json_t **ret, struct pl_error *err)
{
    char path[2048];
    int r = object_path(k, api_version, object, path, sizeof(path), err);
    if (r < 0) {
        return r;
    }
    json_t *copy = pl_audit_with_kind(k, api_version, object);
    size_t len = 0;
    char *text = pl_json_dump(copy, JSON_INDENT(2), &len);
    json_decref(copy);
    if (!text) {
        return pl_error_set(err, "", 0, "%s: cannot be rendered as JSON", path);
    }
    struct pl_manifest m;
    pl_manifest_init(&m, 1);
    if (len > OBJECT_TEXT_MAX) {
        r = pl_error_set(err, "", 0, "%s: larger than %u bytes", path, OBJECT_TEXT_MAX);
    } else {
        r = pl_manifest_add(&m, path, text, len, NULL, err);
    }
    free(text);
    if (r < 0) {
        pl_manifest_finish(&m);
        return r;
    }
    return judge_manifest(cfg, &m, ns_annotations, neighbours, pool, counts, ret, err);
}

int pl_audit_decide(const struct pl_config *cfg, const struct pl_audit_kind *k,
                    const char *api_version, json_t *object, const json_t *ns_annotations,
                    const struct pl_neighbours *neighbours, struct pl_pool *pool,
                    struct pl_audit_decision *out, struct pl_error *err)
{
    char path[2048];
    int r = object_path(k, api_version, object, path, sizeof(path), err);
    if (r < 0) {
        return r;
    }
    pl_manifest_init(&out->manifest, 1);
    r = pl_manifest_add_object(&out->manifest, path, object, err);
    if (r == 0) {
        r = one_object(&out->manifest, err);
    }
    if (r == 0) {
        struct pl_verdict_input in = {.cfg = cfg,
                                      .manifest = &out->manifest,
                                      .annotations = ns_annotations,
                                      .neighbours = neighbours,
                                      .findings_only = true};
        r = pl_verdict_decide(&in, 0, pool, &out->verdict, err);
    }
    if (r < 0) {
        pl_manifest_finish(&out->manifest);
    }
    return r;
}

void pl_audit_decision_finish(struct pl_audit_decision *d)
{
    pl_verdict_finish(&d->verdict);
    pl_manifest_finish(&d->manifest);
}
