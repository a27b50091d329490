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

#include <errno.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "core/json.h"
#include "policies/params.h"

/* Upper bound of min-grace-seconds: an hour is already far beyond any sane drain. */
#define MAX_MIN_GRACE 3600

struct params {
    long long min_grace;
};

static const char *const known_keys[] = {"min-grace-seconds", NULL};

static int parse_params(const json_t *json, void **ret_params, struct pl_error *err)
{
    long long min_grace = 0;
    int r = pl_params_check_keys(json, known_keys, err);
    if (r < 0) {
        return r;
    }
    r = pl_params_int(json, "min-grace-seconds", 5, 0, MAX_MIN_GRACE, &min_grace, err);
    if (r < 0) {
        return r;
    }
    struct params *params = pl_xcalloc(1, sizeof(*params));
    params->min_grace = min_grace;
    *ret_params = params;
    return 0;
}

static void free_params(void *params)
{
    free(params);
}

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

static int check(const struct pl_eval *ev, const json_t *spec, struct pl_report *out)
{
    const struct params *params = ev->params;
    check_grace(spec, params ? params->min_grace : 5, out);
    if (!ev->obj->long_running) {
        return 0;
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
    return 0;
}

static const struct pl_param param_table[] = {
    {"min-grace-seconds", "integer", "5",
     "smallest terminationGracePeriodSeconds allowed (0 to 3600; unset means 30)"},
    {NULL, NULL, NULL, NULL},
};

const struct pl_policy pl_policy_graceful_shutdown = {
    .id = "graceful-shutdown",
    .default_mode = PL_MODE_WARN,
    .summary =
        "terminationGracePeriodSeconds is not below the minimum and serving containers have a preStop hook",
    .params = param_table,
    .parse_params = parse_params,
    .check = check,
    .free_params = free_params,
};
