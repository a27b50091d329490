/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the probe policies share: the rule "every long-running container of a
 * long-running object has this probe".
 */
#ifndef PL_POLICIES_PROBE_H
#define PL_POLICIES_PROBE_H

#include "policies/policy.h"

/**
 * Reports every long-running container (regular containers and native
 * sidecars) of a long-running object that lacks the object field `probe`
 * ("livenessProbe"), with message. (Jobs, CronJobs and Pods that run to
 * completion are skipped by the evaluator: the policies are long_running_only.)
 */
void pl_probe_require(const json_t *spec, struct pl_report *out, const char *probe,
                      const char *message);

#endif
