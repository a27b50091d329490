/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The policy and mutation tables, made from the one list of rows in
 * policies/meson.build (through the generated policies/list.h): a row there
 * both builds policies/<row>.c and puts its descriptor here, so no list of
 * externs or ids is kept by hand. test_registry checks the result: ids
 * unique, kebab-case and sorted, mutations in an order that keeps every
 * `after`, a runbook and cases for each.
 */
#include "policies/registry.h"

#include <string.h>

#include "policies/list.h"

#define DECLARE_POLICY(name)   extern const struct pl_policy pl_policy_##name;
#define DECLARE_MUTATION(name) extern const struct pl_mutation pl_mutation_##name;
PL_POLICY_ROWS(DECLARE_POLICY)
PL_MUTATION_ROWS(DECLARE_MUTATION)

#define POLICY_ROW(name)   &pl_policy_##name,
#define MUTATION_ROW(name) &pl_mutation_##name,

const struct pl_policy *const pl_policies[] = {PL_POLICY_ROWS(POLICY_ROW) NULL};
const struct pl_mutation *const pl_mutations[] = {PL_MUTATION_ROWS(MUTATION_ROW) NULL};

bool pl_policy_applies(const struct pl_policy *p, const struct pl_object *obj)
{
    if (p->kinds && !(p->kinds & PL_KINDS(obj->kind))) {
        return false;
    }
    return !p->long_running_only || obj->long_running;
}

size_t pl_policy_count(void)
{
    return sizeof(pl_policies) / sizeof(pl_policies[0]) - 1;
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

size_t pl_mutation_count(void)
{
    return sizeof(pl_mutations) / sizeof(pl_mutations[0]) - 1;
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
