/* SPDX-License-Identifier: Apache-2.0 */
/*
 * liveness-probe: every long-running container has a livenessProbe, so that
 * a process that hangs (deadlock, stuck event loop) is restarted by the
 * kubelet instead of silently serving nothing. Jobs, CronJobs and Pods that
 * run to completion are exempt: they end by themselves.
 * Runbook: docs/policies/liveness-probe.md
 */
#include "policies/policy.h"

#include "policies/probe.h"

static void check(const struct pl_eval *ev, const json_t *spec, struct pl_report *out)
{
    (void)ev;
    pl_probe_require(spec, out, "livenessProbe",
                     "no livenessProbe; a hung process is never restarted");
}

const struct pl_policy pl_policy_liveness_probe = {
    .id = "liveness-probe",
    .default_mode = PL_MODE_ENFORCE,
    .summary = "every long-running container has a livenessProbe",
    .long_running_only = true,
    .check = check,
};
