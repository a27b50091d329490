/* SPDX-License-Identifier: Apache-2.0 */
/*
 * readiness-probe: every long-running container has a readinessProbe, so
 * that a Service sends traffic only to pods that are ready for it (after
 * start-up, and not while overloaded or draining).
 * Runbook: docs/policies/readiness-probe.md
 */
#include "policies/policy.h"

#include "core/json.h"

static int check(const struct pl_eval *ev, const json_t *spec, struct pl_report *out)
{
    if (!ev->obj->long_running) {
        return 0;
    }
    struct pl_container_iter it;
    struct pl_container c;
    pl_container_iter_init(&it, spec, PL_CTR_LONG_RUNNING);
    while (pl_container_iter_next(&it, &c)) {
        if (!pl_json_object(c.json, "readinessProbe")) {
            pl_report_container(out, &c, NULL,
                                "no readinessProbe; traffic arrives before the app is ready");
        }
    }
    return 0;
}

const struct pl_policy pl_policy_readiness_probe = {
    .id = "readiness-probe",
    .default_mode = PL_MODE_ENFORCE,
    .summary = "every long-running container has a readinessProbe",
    .check = check,
};
