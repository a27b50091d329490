/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The policy table. Adding a policy: write policies/<id>.c, declare it in
 * the list below, add it to the table in id order and to meson.build, add
 * docs/policies/<id>.md and test/cases/<id>/. test_registry checks all of it.
 */
#include "policies/registry.h"

#include <string.h>

extern const struct pl_policy pl_policy_automount_token;
extern const struct pl_policy pl_policy_commit_labels;
extern const struct pl_policy pl_policy_config_mounted;
extern const struct pl_policy pl_policy_distinct_probes;
extern const struct pl_policy pl_policy_graceful_shutdown;
extern const struct pl_policy pl_policy_image_registry;
extern const struct pl_policy pl_policy_image_tag;
extern const struct pl_policy pl_policy_liveness_probe;
extern const struct pl_policy pl_policy_plain_secrets;
extern const struct pl_policy pl_policy_pod_security;
extern const struct pl_policy pl_policy_priority_class;
extern const struct pl_policy pl_policy_probe_ports;
extern const struct pl_policy pl_policy_read_only_root_filesystem;
extern const struct pl_policy pl_policy_readiness_probe;
extern const struct pl_policy pl_policy_replicas;
extern const struct pl_policy pl_policy_required_annotations;
extern const struct pl_policy pl_policy_required_labels;
extern const struct pl_policy pl_policy_resources;
extern const struct pl_policy pl_policy_service_account;
extern const struct pl_policy pl_policy_spread;

const struct pl_policy *const pl_policies[] = {
    &pl_policy_automount_token,
    &pl_policy_commit_labels,
    &pl_policy_config_mounted,
    &pl_policy_distinct_probes,
    &pl_policy_graceful_shutdown,
    &pl_policy_image_registry,
    &pl_policy_image_tag,
    &pl_policy_liveness_probe,
    &pl_policy_plain_secrets,
    &pl_policy_pod_security,
    &pl_policy_priority_class,
    &pl_policy_probe_ports,
    &pl_policy_read_only_root_filesystem,
    &pl_policy_readiness_probe,
    &pl_policy_replicas,
    &pl_policy_required_annotations,
    &pl_policy_required_labels,
    &pl_policy_resources,
    &pl_policy_service_account,
    &pl_policy_spread,
    NULL,
};

size_t pl_policy_count(void)
{
    size_t n = 0;
    while (pl_policies[n]) {
        n++;
    }
    return n;
}

int pl_policy_index(const char *id)
{
    for (size_t i = 0; pl_policies[i]; i++) {
        if (strcmp(pl_policies[i]->id, id) == 0) {
            return (int)i;
        }
    }
    return -1;
}

/* The mutations (SPEC §7), sorted by id: inject-commit runs before inject-tracing, which
 * reads the commit it stamped. */
extern const struct pl_mutation pl_mutation_inject_commit;
extern const struct pl_mutation pl_mutation_inject_security_defaults;
extern const struct pl_mutation pl_mutation_inject_tracing;

const struct pl_mutation *const pl_mutations[] = {
    &pl_mutation_inject_commit,
    &pl_mutation_inject_security_defaults,
    &pl_mutation_inject_tracing,
    NULL,
};

size_t pl_mutation_count(void)
{
    size_t n = 0;
    while (pl_mutations[n]) {
        n++;
    }
    return n;
}

int pl_mutation_index(const char *id)
{
    for (size_t i = 0; pl_mutations[i]; i++) {
        if (strcmp(pl_mutations[i]->id, id) == 0) {
            return (int)i;
        }
    }
    return -1;
}
