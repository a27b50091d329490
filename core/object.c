/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kind -> pod template, long-running, container iteration (see object.h).
 */
#include "core/object.h"

#include <string.h>

#include "core/json.h"

struct kind_info {
    const char *name;
    enum pl_kind kind;
    const char *meta_path;
    const char *spec_path;
};

static const struct kind_info kinds[] = {
    {"Pod", PL_KIND_POD, "metadata", "spec"},
    {"Deployment", PL_KIND_DEPLOYMENT, "spec.template.metadata", "spec.template.spec"},
    {"StatefulSet", PL_KIND_STATEFULSET, "spec.template.metadata", "spec.template.spec"},
    {"DaemonSet", PL_KIND_DAEMONSET, "spec.template.metadata", "spec.template.spec"},
    {"ReplicaSet", PL_KIND_REPLICASET, "spec.template.metadata", "spec.template.spec"},
    {"ReplicationController", PL_KIND_REPLICATIONCONTROLLER, "spec.template.metadata",
     "spec.template.spec"},
    {"Job", PL_KIND_JOB, "spec.template.metadata", "spec.template.spec"},
    {"CronJob", PL_KIND_CRONJOB, "spec.jobTemplate.spec.template.metadata",
     "spec.jobTemplate.spec.template.spec"},
};

static const struct kind_info *find_kind(const char *name)
{
    if (!name) {
        return NULL;
    }
    for (size_t i = 0; i < PL_ARRAY_SIZE(kinds); i++) {
        if (strcmp(kinds[i].name, name) == 0) {
            return &kinds[i];
        }
    }
    return NULL;
}

const char *pl_kind_name(enum pl_kind kind)
{
    for (size_t i = 0; i < PL_ARRAY_SIZE(kinds); i++) {
        if (kinds[i].kind == kind) {
            return kinds[i].name;
        }
    }
    return "";
}

enum pl_kind pl_kind_from_name(const char *name)
{
    const struct kind_info *k = find_kind(name);
    return k ? k->kind : PL_KIND_OTHER;
}

/* A Pod owned by a Job (directly, as the Job controller creates them). */
static bool owned_by_job(const json_t *meta)
{
    const json_t *owners = pl_json_array(meta, "ownerReferences");
    size_t i;
    const json_t *ref;
    json_array_foreach(owners, i, ref)
    {
        const char *kind = pl_json_string(ref, "kind");
        if (kind && strcmp(kind, "Job") == 0) {
            return true;
        }
    }
    return false;
}

static bool pod_long_running(const json_t *meta, const json_t *spec)
{
    const char *policy = pl_json_string(spec, "restartPolicy");
    if (policy && (strcmp(policy, "Never") == 0 || strcmp(policy, "OnFailure") == 0)) {
        return false;
    }
    return !owned_by_job(meta);
}

void pl_object_clear(struct pl_object *obj)
{
    memset(obj, 0, sizeof(*obj));
    obj->kind_name = "";
    obj->name = "";
    obj->namespace_ = "";
}

int pl_object_init(struct pl_object *obj, const json_t *root, struct pl_error *err)
{
    memset(obj, 0, sizeof(*obj));
    if (!json_is_object(root)) {
        return pl_error_set(err, "", 0, "the object is not a JSON object");
    }
    const json_t *meta = pl_json_object(root, "metadata");
    const char *kind_name = pl_json_string(root, "kind");
    const char *name = pl_json_string(meta, "name");
    if (!name || !*name) {
        name = pl_json_string(meta, "generateName");
    }
    const char *ns = pl_json_string(meta, "namespace");

    obj->root = root;
    obj->kind_name = kind_name ? kind_name : "";
    obj->name = name ? name : "";
    obj->namespace_ = ns ? ns : "";

    const struct kind_info *k = find_kind(kind_name);
    if (!k) {
        obj->kind = PL_KIND_OTHER;
        return 0;
    }
    obj->kind = k->kind;
    obj->pod_meta_path = k->meta_path;
    obj->pod_spec_path = k->spec_path;
    obj->pod_meta = pl_json_path(root, k->meta_path);
    obj->pod_spec = pl_json_path(root, k->spec_path);
    if (!json_is_object(obj->pod_meta)) {
        obj->pod_meta = NULL;
    }
    if (!json_is_object(obj->pod_spec)) {
        obj->pod_spec = NULL;
    }
    switch (k->kind) {
    case PL_KIND_JOB:
    case PL_KIND_CRONJOB:
        obj->long_running = false;
        break;
    case PL_KIND_POD:
        obj->long_running = pod_long_running(meta, obj->pod_spec);
        break;
    default:
        obj->long_running = true;
        break;
    }
    return 0;
}

bool pl_container_is_sidecar(const json_t *init_container)
{
    const char *policy = pl_json_string(init_container, "restartPolicy");
    return policy && strcmp(policy, "Always") == 0;
}

static const char *const list_names[] = {"containers", "initContainers", "ephemeralContainers"};

void pl_container_iter_init(struct pl_container_iter *it, const json_t *pod_spec, unsigned sets)
{
    it->pod_spec = pod_spec;
    it->sets = sets;
    it->list = 0;
    it->index = 0;
}

/* The set an entry of list belongs to. */
static enum pl_container_set set_of(unsigned list, const json_t *c)
{
    switch (list) {
    case 0:
        return PL_CTR_REGULAR;
    case 1:
        return pl_container_is_sidecar(c) ? PL_CTR_SIDECAR : PL_CTR_INIT;
    default:
        return PL_CTR_EPHEMERAL;
    }
}

bool pl_container_iter_next(struct pl_container_iter *it, struct pl_container *ret)
{
    while (it->list < PL_ARRAY_SIZE(list_names)) {
        const json_t *arr = pl_json_array(it->pod_spec, list_names[it->list]);
        while (it->index < pl_json_array_len(arr)) {
            size_t i = it->index++;
            const json_t *c = json_array_get(arr, i);
            if (!json_is_object(c)) {
                continue;
            }
            enum pl_container_set set = set_of(it->list, c);
            if (!(it->sets & set)) {
                continue;
            }
            const char *name = pl_json_string(c, "name");
            ret->json = c;
            ret->name = name ? name : "";
            ret->list = list_names[it->list];
            ret->index = i;
            ret->set = set;
            return true;
        }
        it->list++;
        it->index = 0;
    }
    return false;
}
