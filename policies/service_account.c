/* SPDX-License-Identifier: Apache-2.0 */
/*
 * service-account: the pod does not run as its namespace's `default`
 * ServiceAccount. Every pod that names none gets `default`, so whatever RBAC
 * one of them needed is held by all of them, and a RoleBinding granted "for
 * the app" to `default` silently reaches every other workload of the
 * namespace. A workload with its own ServiceAccount has its own permissions,
 * its own audit trail and can be bound (or not) on its own.
 *
 * Rule: spec.serviceAccountName, or the deprecated spec.serviceAccount when
 * the former is empty (the API server copies one into the other), is set and
 * is not "default". Every kind with a pod template is checked. Off by
 * default: turning it on asks every team for a ServiceAccount object.
 * Runbook: docs/policies/service-account.md
 */
#include "policies/policy.h"

#include <string.h>

#include "core/json.h"

static void check(const struct pl_eval *ev, const json_t *spec, struct pl_report *out)
{
    (void)ev;
    const char *field = "serviceAccountName";
    const char *name = pl_json_string(spec, field);
    if (!name || !*name) {
        const char *deprecated = pl_json_string(spec, "serviceAccount");
        if (deprecated && *deprecated) {
            field = "serviceAccount";
            name = deprecated;
        }
    }
    if (!name || !*name) {
        pl_report_add(out, PL_SCOPE_POD_SPEC, "serviceAccountName",
                      "unset, so the pod runs as the namespace's default ServiceAccount; give the "
                      "workload a ServiceAccount of its own");
    } else if (strcmp(name, "default") == 0) {
        pl_report_add(out, PL_SCOPE_POD_SPEC, field,
                      "\"default\", shared by every pod of the namespace that names none; give "
                      "the workload a ServiceAccount of its own");
    }
}

const struct pl_policy pl_policy_service_account = {
    .id = "service-account",
    .default_mode = PL_MODE_OFF,
    .summary = "pods do not run as the namespace's default ServiceAccount",
    .check = check,
};
