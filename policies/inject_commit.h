/* SPDX-License-Identifier: Apache-2.0 */
/*
 * inject-commit (SPEC §7), and what other parts need to know of it: whether
 * it will find a commit for a pod, so that commit-labels does not ask for a
 * label this mutation is about to stamp.
 */
#ifndef PL_POLICIES_INJECT_COMMIT_H
#define PL_POLICIES_INJECT_COMMIT_H

#include <stdbool.h>

#include "core/object.h"
#include "core/pool.h"
#include "policies/mutation.h"

extern const struct pl_mutation pl_mutation_inject_commit;

/**
 * Whether inject-commit, with these parameters (its parsed params, borrowed;
 * NULL: false), finds a commit for obj's pod: an annotation or label
 * plimsoll.dev/commit on the pod (template), or on the workload itself when
 * from_workload (the template is mutated, so the workload's own metadata is
 * at hand; the Pods a controller makes from it never carry that metadata), or
 * an image tag that one of the patterns reads. Temporaries come from pool.
 */
bool pl_inject_commit_finds(const void *params, const struct pl_object *obj, bool from_workload,
                            struct pl_pool *pool);

#endif
