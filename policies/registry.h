/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The table of every policy (STYLE rule 3): sorted by id, NULL-ended. An
 * explicit table rather than constructor self-registration, because linkers
 * drop unreferenced objects from static libraries. The mutations of SPEC §7
 * are listed the same way, in their own table pl_mutations[], in the order
 * they run. Both are made from the rows of policies/meson.build.
 */
#ifndef PL_POLICIES_REGISTRY_H
#define PL_POLICIES_REGISTRY_H

#include <stddef.h>

#include "policies/mutation.h"
#include "policies/policy.h"

/** Every policy, sorted by id, ended by NULL. */
extern const struct pl_policy *const pl_policies[];

/** Number of entries in pl_policies (without the NULL). */
size_t pl_policy_count(void);

/** Index of the policy with this id in pl_policies, or -1. */
int pl_policy_index(const char *id);

/** Every mutation in the order they run (declared in policies/meson.build), ended by NULL. */
extern const struct pl_mutation *const pl_mutations[];

/** Number of entries in pl_mutations (without the NULL). */
size_t pl_mutation_count(void);

/** Index of the mutation with this id in pl_mutations, or -1. */
int pl_mutation_index(const char *id);

#endif
