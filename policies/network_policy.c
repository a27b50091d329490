/* SPDX-License-Identifier: Apache-2.0 */
/*
 * network-policy: a NetworkPolicy in the pod's namespace selects its pods for
 * ingress, and one (the same or another) for egress. A pod no policy selects
 * accepts connections from every pod of the cluster and may connect
 * anywhere, so one compromised pod reaches it, and it reaches everything.
 * A policy's types are its policyTypes; without them Ingress, plus Egress
 * when it has egress rules, as the API server defaults them.
 *
 * A Pod or ReplicaSet that names a controlling owner is left to that owner,
 * which is judged instead (the audit lists both).
 *
 * Needs the neighbouring objects: runs in `plimsoll check` and `plimsoll
 * audit`, never at admission. Off by default: many clusters have no network
 * plugin that enforces NetworkPolicies, and a namespace-wide default-deny is
 * often applied apart from the workloads' manifests (the runbook says how to
 * switch it on).
 * Runbook: docs/policies/network-policy.md
 */
#include "policies/policy.h"

#include <string.h>

#include "core/json.h"
#include "core/selector.h"

/* Which directions the policy np governs: bit 0 ingress, bit 1 egress. */
static unsigned directions(const json_t *np_spec)
{
    const json_t *types = pl_json_array(np_spec, "policyTypes");
    if (pl_json_array_len(types) == 0) {
        return 1u | (json_object_get(np_spec, "egress") ? 2u : 0u);
    }
    unsigned d = 0;
    size_t i;
    const json_t *t;
    json_array_foreach(types, i, t)
    {
        const char *s = json_string_value(t);
        d |= s && strcmp(s, "Ingress") == 0 ? 1u : 0u;
        d |= s && strcmp(s, "Egress") == 0 ? 2u : 0u;
    }
    return d;
}

/* What a pod selected for the given directions (index: the bits of directions()) lacks. */
static const char *const missing_text[] = {
    [0] = "selects these pods; any pod of the cluster can reach them and they can reach anything",
    [1] = "selects these pods for Egress; they can connect anywhere",
    [2] = "selects these pods for Ingress; any pod of the cluster can reach them",
};

static void check(const struct pl_eval *ev, const json_t *spec, struct pl_report *out)
{
    (void)spec;
    if (pl_object_has_controller(ev->obj)) {
        return;
    }
    const json_t *labels = pl_json_object(ev->obj->pod_meta, "labels");
    unsigned covered = 0;
    size_t cursor = 0;
    const struct pl_neighbour *np;
    while (covered != 3u && (np = pl_neighbours_next(ev->neighbours, "NetworkPolicy",
                                                     ev->obj->namespace_, &cursor))) {
        const json_t *np_spec = pl_json_object(np->object, "spec");
        if (pl_selector_matches(pl_json_object(np_spec, "podSelector"), labels)) {
            covered |= directions(np_spec);
        }
    }
    if (covered == 3u) {
        return;
    }
    pl_report_add(out, PL_SCOPE_POD_META, "labels", "no NetworkPolicy in namespace %s %s",
                  pl_report_quote(out, ev->obj->namespace_), missing_text[covered]);
}

const struct pl_policy pl_policy_network_policy = {
    .id = "network-policy",
    .default_mode = PL_MODE_OFF,
    .summary = "NetworkPolicies select the pods for both ingress and egress",
    .neighbours = true,
    .check = check,
};
