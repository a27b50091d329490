/* SPDX-License-Identifier: Apache-2.0 */
/*
 * graceful-shutdown: pods get time to stop cleanly. Two rules, reported
 * separately:
 *
 * - the pod spec's terminationGracePeriodSeconds is not below
 *   `min-grace-seconds` (default 5); unset counts as the Kubernetes default
 *   of 30 (so it passes unless the minimum is raised above 30). This holds
 *   for every kind, Jobs included: a deleted or preempted batch pod needs
 *   time to checkpoint or release a lock too.
 * - every long-running container (regular or native sidecar) of a
 *   long-running object that declares ports has a lifecycle.preStop hook.
 *   Endpoints are removed from Services at the same time as SIGTERM is
 *   sent; without a short preStop pause the process stops accepting while
 *   load balancers still send it requests, and those requests fail.
 *
 * Runbook: docs/policies/graceful-shutdown.md
 */
#include "policies/policy.h"

#include <stddef.h>

#include "core/json.h"

struct params {
    long long min_grace; /* min-grace-seconds */
};

static const struct pl_param param_table[] = {
    {.name = "min-grace-seconds",
     .type = PL_PARAM_INT,
     .offset = offsetof(struct params, min_grace),
     .def = "5",
     .min = 0,
     .max = 3600, /* an hour is already far beyond any sane drain */
     .summary = "smallest terminationGracePeriodSeconds allowed; unset counts as 30"},
    {0},
};

static const struct pl_param_set param_set = {sizeof(struct params), param_table, NULL, NULL};

/* The grace period Kubernetes applies when the pod spec leaves it unset. */
#define DEFAULT_GRACE 30

/*
 * Reports a terminationGracePeriodSeconds below min. Unset (or null) counts
 * as the Kubernetes default of 30; other types are left to the API server.
 */
static void check_grace(const json_t *spec, long long min, struct pl_report *out)
{
    const json_t *v = json_object_get(spec, "terminationGracePeriodSeconds");
    if (!v || json_is_null(v)) {
        if (DEFAULT_GRACE < min) {
            pl_report_add(out, PL_SCOPE_POD_SPEC, "terminationGracePeriodSeconds",
                          "unset means %d seconds, below the minimum of %lld; set it higher",
                          DEFAULT_GRACE, min);
        }
    } else if (json_is_integer(v) && json_integer_value(v) < min) {
        pl_report_add(out, PL_SCOPE_POD_SPEC, "terminationGracePeriodSeconds",
                      "%lld seconds is below the minimum of %lld; the app is killed mid-request",
                      (long long)json_integer_value(v), min);
    } else if (json_is_real(v) && json_real_value(v) < (double)min) {
        pl_report_add(out, PL_SCOPE_POD_SPEC, "terminationGracePeriodSeconds",
                      "%g seconds is below the minimum of %lld; the app is killed mid-request",
                      json_real_value(v), min);
    }
}

/* Whether a container has a lifecycle.preStop hook. */
static bool has_pre_stop(const json_t *container)
{
    return pl_json_object(pl_json_object(container, "lifecycle"), "preStop") != NULL;
}

static void check(const struct pl_eval *ev, const json_t *spec, struct pl_report *out)
{
    const struct params *p = ev->params;
    check_grace(spec, p->min_grace, out);
    if (!ev->obj->long_running) {
        return;
    }
    struct pl_container_iter it;
    struct pl_container c;
    pl_container_iter_init(&it, spec, PL_CTR_LONG_RUNNING);
    while (pl_container_iter_next(&it, &c)) {
        if (pl_json_array_len(pl_json_array(c.json, "ports")) > 0 && !has_pre_stop(c.json)) {
            pl_report_container(
                out, &c, NULL,
                "has ports but no lifecycle.preStop hook; add a short sleep to drain requests");
        }
    }
}

const struct pl_policy pl_policy_graceful_shutdown = {
    .id = "graceful-shutdown",
    .default_mode = PL_MODE_WARN,
    .summary =
        "terminationGracePeriodSeconds is not below the minimum and serving containers have a preStop hook",
    .params = &param_set,
    .check = check,
};
