/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pdb-allows-disruption: a PodDisruptionBudget lets at least one pod go.
 * A budget with maxUnavailable 0 (or "0%"), with minAvailable "100%", or
 * with a minAvailable equal to or above the replicas of a workload whose
 * pods it selects allows no eviction at all: every node drain blocks on it
 * until someone deletes the budget by hand, which is how cluster upgrades
 * stall. Percentages are rounded as the disruption controller rounds them
 * (up). A workload's replicas are its spec.replicas, else the minReplicas of
 * the autoscaler that scales it (the fewest it may run); a workload with
 * neither is not compared.
 *
 * Judges PodDisruptionBudgets, which admission never sends plimsoll, and
 * needs the workloads around them: runs in `plimsoll check` and `plimsoll
 * audit`. Warn by default.
 * Runbook: docs/policies/pdb-allows-disruption.md
 */
#include "policies/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/selector.h"

static const char *const other_kinds[] = {"PodDisruptionBudget", NULL};

/* The workload kinds whose replicas a budget's minAvailable is compared with. */
static const char *const workload_kinds[] = {"Deployment", "StatefulSet", "ReplicaSet",
                                             "ReplicationController"};

/* What an intstr field holds. */
enum intstr {
    INTSTR_ABSENT, /* not there, or null */
    INTSTR_OK,     /* a whole number, or "N%" */
    INTSTR_BAD,    /* anything else: the API server refuses the budget */
};

/* Reads spec.<key> as the API server's IntOrString: a non-negative whole number, or a
 * string "N%" (*ret_percent true). A string without "%" is refused upstream ("must be
 * an integer or percentage"), as kube-linter's fixtures have it. */
static enum intstr int_or_percent(const json_t *spec, const char *key, long long *ret,
                                  bool *ret_percent)
{
    const json_t *v = json_object_get(spec, key);
    if (!v || json_is_null(v)) {
        return INTSTR_ABSENT;
    }
    if (json_is_integer(v)) {
        *ret = json_integer_value(v);
        *ret_percent = false;
        return *ret >= 0 ? INTSTR_OK : INTSTR_BAD;
    }
    const char *s = json_string_value(v);
    if (!s || strlen(s) < 2 || strlen(s) > 12 || s[0] < '0' || s[0] > '9') {
        return INTSTR_BAD;
    }
    char *end;
    long long n = strtoll(s, &end, 10);
    if (strcmp(end, "%") != 0) {
        return INTSTR_BAD;
    }
    *ret = n;
    *ret_percent = true;
    return INTSTR_OK;
}

/* A value the API server would refuse: reported, since the budget then protects nothing. */
static void report_bad(const json_t *spec, const char *key, struct pl_report *out)
{
    const json_t *v = json_object_get(spec, key);
    char path[32];
    snprintf(path, sizeof(path), "spec.%s", key);
    if (json_is_string(v)) {
        pl_report_add(
            out, PL_SCOPE_OBJECT, path,
            "%s is \"%s\", not a count of pods (0 or more) or a percentage (\"25%%\"); the API "
            "server refuses the budget",
            key, pl_report_quote(out, json_string_value(v)));
    } else {
        pl_report_add(
            out, PL_SCOPE_OBJECT, path,
            "%s is not a count of pods (0 or more) or a percentage (\"25%%\"); the API server "
            "refuses the budget",
            key);
    }
}

/* The pods a minAvailable asks for out of replicas (a percentage rounded up). */
static long long scaled(long long value, bool percent, long long replicas)
{
    return percent ? (value * replicas + 99) / 100 : value;
}

/* minAvailable against every workload whose pods the budget selects. */
static void check_min_available(const struct pl_eval *ev, const json_t *spec, long long value,
                                bool percent, struct pl_report *out)
{
    const json_t *selector = pl_json_object(spec, "selector");
    for (size_t k = 0; k < sizeof(workload_kinds) / sizeof(workload_kinds[0]); k++) {
        size_t cursor = 0;
        const struct pl_neighbour *w;
        while ((w = pl_neighbours_next(ev->neighbours, workload_kinds[k], ev->obj->namespace_,
                                       &cursor))) {
            if (!pl_selector_matches(selector, pl_workload_pod_labels(w->object))) {
                continue;
            }
            const json_t *hpa =
                pl_neighbours_autoscaler(ev->neighbours, w->namespace_, w->kind, w->name);
            bool set = false;
            long long replicas = pl_workload_min_replicas(w->object, hpa, &set);
            if ((!set && !hpa) || replicas <= 0 || scaled(value, percent, replicas) < replicas) {
                continue;
            }
            pl_report_identify(out, NULL, w->name);
            pl_report_add(out, PL_SCOPE_OBJECT, "spec.minAvailable",
                          "minAvailable %lld%s keeps all %lld pods of %s %s up; no pod may be "
                          "evicted, so every node drain blocks",
                          value, percent ? "%" : "", replicas, w->kind,
                          pl_report_quote(out, w->name));
        }
    }
}

static void check(const struct pl_eval *ev, const json_t *spec, struct pl_report *out)
{
    long long value = 0;
    bool percent = false;
    enum intstr max = int_or_percent(spec, "maxUnavailable", &value, &percent);
    if (max == INTSTR_BAD) {
        report_bad(spec, "maxUnavailable", out);
        return;
    }
    if (max == INTSTR_OK) {
        if (value == 0) {
            pl_report_add(out, PL_SCOPE_OBJECT, "spec.maxUnavailable",
                          "maxUnavailable is 0%s; no pod may be evicted, so every node drain "
                          "blocks",
                          percent ? "%" : "");
        }
        return; /* the API server refuses a budget that sets both */
    }
    enum intstr min = int_or_percent(spec, "minAvailable", &value, &percent);
    if (min == INTSTR_BAD) {
        report_bad(spec, "minAvailable", out);
        return;
    }
    if (min == INTSTR_ABSENT) {
        return;
    }
    if (percent && value >= 100) {
        pl_report_add(out, PL_SCOPE_OBJECT, "spec.minAvailable",
                      "minAvailable is %lld%%; no pod may be evicted, so every node drain blocks",
                      value);
        return;
    }
    check_min_available(ev, spec, value, percent, out);
}

const struct pl_policy pl_policy_pdb_allows_disruption = {
    .id = "pdb-allows-disruption",
    .default_mode = PL_MODE_WARN,
    .summary = "a PodDisruptionBudget lets at least one of the pods it selects be evicted",
    .kinds = PL_KINDS_NONE,
    .other_kinds = other_kinds,
    .neighbours = true,
    .check = check,
};
