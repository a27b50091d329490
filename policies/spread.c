/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spread: a workload that asks for 2 or more replicas says how they spread
 * over nodes or zones. Without it the scheduler may place every replica on
 * one node (it prefers spreading, but only as one score among many, and not
 * at all once the other nodes are fuller), and then one node drain, one
 * kernel panic or one zone outage takes all of them: the replicas bought no
 * availability.
 *
 * Rule: Deployments and StatefulSets, and ReplicaSets and
 * ReplicationControllers that no controller owns, with spec.replicas of 2 or
 * more (unset means 1), have in their pod template either
 *   - a topologySpreadConstraints entry, or
 *   - a podAntiAffinity term (required or preferred)
 * whose topologyKey is kubernetes.io/hostname or topology.kubernetes.io/zone
 * (or the deprecated failure-domain.beta.kubernetes.io/zone) and whose
 * labelSelector selects the pod template's own labels (a selector that
 * matches other pods spreads this workload against them, not against
 * itself; a missing selector matches nothing). An anti-affinity term that
 * lists `namespaces` must include the object's namespace when it is known.
 * Both hard (DoNotSchedule, required) and soft (ScheduleAnyway, preferred)
 * forms count. Warn by default.
 * Runbook: docs/policies/spread.md
 */
#include "policies/policy.h"

#include <string.h>

#include "core/json.h"

/* Fewest replicas for which a spread is asked. */
#define SPREAD_MIN_REPLICAS 2

static const char *const spread_keys[] = {
    "kubernetes.io/hostname",
    "topology.kubernetes.io/zone",
    "failure-domain.beta.kubernetes.io/zone", /* deprecated, still set by some clouds */
    NULL,
};

/* Why a term does not spread the workload, from farthest to nearest miss. */
enum miss {
    MISS_NONE,      /* no term at all */
    MISS_KEY,       /* spreads over something other than nodes or zones */
    MISS_NAMESPACE, /* anti-affinity with pods of other namespaces only */
    MISS_SELECTOR,  /* selects other pods than the workload's own */
    MISS_OK,        /* spreads it */
};

static const char *const miss_text[] = {
    [MISS_NONE] = "no topologySpreadConstraints or podAntiAffinity places them apart",
    [MISS_KEY] = "no constraint spreads them over nodes or zones",
    [MISS_NAMESPACE] = "the podAntiAffinity names other namespaces only",
    [MISS_SELECTOR] = "no constraint selects the pod's own labels",
    [MISS_OK] = "",
};

static bool string_in_array(const json_t *array, const char *s)
{
    size_t i;
    const json_t *v;
    json_array_foreach(array, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), s) == 0) {
            return true;
        }
    }
    return false;
}

/* Whether one matchExpressions requirement holds for labels. */
static bool requirement_holds(const json_t *req, const json_t *labels)
{
    const char *key = pl_json_string(req, "key");
    const char *op = pl_json_string(req, "operator");
    if (!key || !op) {
        return false;
    }
    const char *value = pl_json_string(labels, key);
    const json_t *values = pl_json_array(req, "values");
    if (strcmp(op, "In") == 0) {
        return value && string_in_array(values, value);
    }
    if (strcmp(op, "NotIn") == 0) {
        return !value || !string_in_array(values, value);
    }
    if (strcmp(op, "Exists") == 0) {
        return value != NULL;
    }
    if (strcmp(op, "DoesNotExist") == 0) {
        return value == NULL;
    }
    return false; /* unknown operator: the API server refuses it */
}

/*
 * Whether a metav1.LabelSelector selects labels: every matchLabels pair and
 * every matchExpressions requirement hold. An empty selector selects
 * everything; a missing one (not an object) selects nothing.
 */
static bool selector_selects(const json_t *selector, const json_t *labels)
{
    if (!json_is_object(selector)) {
        return false;
    }
    const char *key;
    const json_t *v;
    const json_t *match = pl_json_object(selector, "matchLabels");
    json_object_foreach((json_t *)match, key, v)
    {
        const char *have = pl_json_string(labels, key);
        if (!json_is_string(v) || !have || strcmp(have, json_string_value(v)) != 0) {
            return false;
        }
    }
    size_t i;
    const json_t *req;
    json_array_foreach(pl_json_array(selector, "matchExpressions"), i, req)
    {
        if (!requirement_holds(req, labels)) {
            return false;
        }
    }
    return true;
}

static bool spread_key(const char *key)
{
    for (size_t i = 0; key && spread_keys[i]; i++) {
        if (strcmp(key, spread_keys[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* A topologySpreadConstraints entry or a PodAffinityTerm, judged. */
static enum miss judge_term(const json_t *term, const json_t *labels, const char *namespace_,
                            bool affinity)
{
    if (!spread_key(pl_json_string(term, "topologyKey"))) {
        return MISS_KEY;
    }
    const json_t *namespaces = pl_json_array(term, "namespaces");
    if (affinity && pl_json_array_len(namespaces) > 0 && *namespace_ &&
        !pl_json_object(term, "namespaceSelector") && !string_in_array(namespaces, namespace_)) {
        return MISS_NAMESPACE;
    }
    if (!selector_selects(json_object_get(term, "labelSelector"), labels)) {
        return MISS_SELECTOR;
    }
    return MISS_OK;
}

/* The nearest miss (or MISS_OK) over every term of the pod spec. */
static enum miss judge_spec(const json_t *spec, const json_t *labels, const char *namespace_)
{
    enum miss best = MISS_NONE;
    size_t i;
    const json_t *t;
    json_array_foreach(pl_json_array(spec, "topologySpreadConstraints"), i, t)
    {
        enum miss m = judge_term(t, labels, namespace_, false);
        best = m > best ? m : best;
    }
    const json_t *anti = pl_json_object(pl_json_object(spec, "affinity"), "podAntiAffinity");
    json_array_foreach(pl_json_array(anti, "requiredDuringSchedulingIgnoredDuringExecution"), i, t)
    {
        enum miss m = judge_term(t, labels, namespace_, true);
        best = m > best ? m : best;
    }
    json_array_foreach(pl_json_array(anti, "preferredDuringSchedulingIgnoredDuringExecution"), i, t)
    {
        enum miss m = judge_term(pl_json_object(t, "podAffinityTerm"), labels, namespace_, true);
        best = m > best ? m : best;
    }
    return best;
}

/* Whether the object names a controlling owner (a Deployment's ReplicaSet). */
static bool has_controller(const json_t *root)
{
    size_t i;
    const json_t *ref;
    json_array_foreach(pl_json_array(pl_json_object(root, "metadata"), "ownerReferences"), i, ref)
    {
        if (pl_json_bool(ref, "controller", false)) {
            return true;
        }
    }
    return false;
}

static bool judged_kind(const struct pl_object *obj)
{
    switch (obj->kind) {
    case PL_KIND_DEPLOYMENT:
    case PL_KIND_STATEFULSET:
        return true;
    case PL_KIND_REPLICASET:
    case PL_KIND_REPLICATIONCONTROLLER:
        return !has_controller(obj->root); /* its owner is judged instead */
    default:
        return false;
    }
}

static void check(const struct pl_eval *ev, const json_t *spec, struct pl_report *out)
{
    if (!judged_kind(ev->obj)) {
        return;
    }
    long long replicas = 1;
    if (!pl_json_integer(pl_json_object(ev->obj->root, "spec"), "replicas", &replicas) ||
        replicas < SPREAD_MIN_REPLICAS) {
        return; /* unset means 1; not a number is refused by the API server */
    }
    const json_t *labels = pl_json_object(ev->obj->pod_meta, "labels");
    enum miss m = judge_spec(spec, labels, ev->obj->namespace_);
    if (m == MISS_OK) {
        return;
    }
    pl_report_add(out, PL_SCOPE_POD_SPEC, "topologySpreadConstraints",
                  "%lld replicas, but %s; spread them over kubernetes.io/hostname or "
                  "topology.kubernetes.io/zone with a selector of the pod's own labels",
                  replicas, miss_text[m]);
}

const struct pl_policy pl_policy_spread = {
    .id = "spread",
    .default_mode = PL_MODE_WARN,
    .summary = "a workload of 2 or more replicas spreads them over nodes or zones",
    .check = check,
};
