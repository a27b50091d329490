/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Label selectors (metav1.LabelSelector) as the API server reads them, for
 * every policy that asks which pods an object selects: spread's affinity
 * terms, and the PodDisruptionBudgets and NetworkPolicies of the neighbour
 * policies (core/neighbours.h).
 */
#ifndef PL_CORE_SELECTOR_H
#define PL_CORE_SELECTOR_H

#include <stdbool.h>

#include <jansson.h>

/**
 * Whether selector selects labels (both borrowed; labels may be NULL: no
 * labels): every matchLabels pair and every matchExpressions requirement
 * (In, NotIn, Exists, DoesNotExist) holds. An empty selector ({}) selects
 * everything; a missing one (NULL or not an object) selects nothing, and so
 * does a requirement with an unknown operator or no key, which the API
 * server refuses. Thread-safe.
 */
bool pl_selector_matches(const json_t *selector, const json_t *labels);

#endif
