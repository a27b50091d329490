/* SPDX-License-Identifier: Apache-2.0 */
/*
 * readiness-probe: every long-running container has a readinessProbe, so
 * that a Service sends traffic only to pods that are ready for it (after
 * start-up, and not while overloaded or draining).
 * Runbook: docs/policies/readiness-probe.md
 */
#include "policies/policy.h"

#include "policies/probe.h"

static void check(const struct pl_eval *ev, const json_t *spec, struct pl_report *out)
{
    (void)ev;
    pl_probe_require(spec, out, "readinessProbe",
                     "no readinessProbe; traffic arrives before the app is ready");
}

const struct pl_policy pl_policy_readiness_probe = {
    .id = "readiness-probe",
    .default_mode = PL_MODE_ENFORCE,
    .summary = "every long-running container has a readinessProbe",
    .long_running_only = true,
    .check = check,
};
