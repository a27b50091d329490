/* SPDX-License-Identifier: Apache-2.0 */
/*
 * commit-labels: the pod (the Pod itself, or a workload's pod template)
 * carries the label plimsoll.dev/commit with a non-empty value, so that
 * what runs can be traced to the code it was built from (`kubectl get pods
 * -l plimsoll.dev/commit=<sha>`, dashboards grouped by commit, a rollback
 * target in an incident). The label is required: an annotation of the same
 * name alone does not pass, because annotations cannot be selected on; the
 * message then says to copy it to a label. A value that is not a string (an
 * unquoted all-digit sha reads as a YAML number) gets its own message. CI
 * can stamp the label into the manifest, or the inject-commit mutation adds
 * it at admission: when it is on for the namespace and finds a commit (an
 * annotation, or an image tag its patterns read), nothing is reported, since
 * every Pod will carry the label (a workload's template is left as it is
 * unless mutate-templates is on; its Pods are stamped when they are made).
 * Runbook: docs/policies/commit-labels.md
 */
#include "policies/policy.h"

#include "core/json.h"
#include "core/keys.h"

static void check(const struct pl_eval *ev, const json_t *spec, struct pl_report *out)
{
    (void)spec;
    const json_t *meta = ev->obj->pod_meta;
    const json_t *label = json_object_get(pl_json_object(meta, "labels"), PL_KEY_COMMIT);
    const char *annotation = pl_json_string(pl_json_object(meta, "annotations"), PL_KEY_COMMIT);
    if (json_is_string(label) && json_string_length(label) > 0) {
        return;
    }
    if ((!label || json_is_null(label)) && ev->commit_injected) {
        return; /* inject-commit adds it (it never replaces a value that is there) */
    }
    if (json_is_string(label)) {
        pl_report_add(out, PL_SCOPE_POD_META, "labels",
                      "label %s is empty; set it to the commit the image was built from",
                      PL_KEY_COMMIT);
    } else if (label && !json_is_null(label)) {
        /* An unquoted sha such as 1234567 or 12e4567 reads as a number in YAML. */
        pl_report_add(out, PL_SCOPE_POD_META, "labels",
                      "label %s is not a string; quote the commit in YAML", PL_KEY_COMMIT);
    } else if (annotation && *annotation) {
        pl_report_add(out, PL_SCOPE_POD_META, "labels",
                      "annotation %s is not a label; copy it to labels (inject-commit does)",
                      PL_KEY_COMMIT);
    } else {
        pl_report_add(out, PL_SCOPE_POD_META, "labels",
                      "missing label %s; stamp it in CI or enable the inject-commit mutation",
                      PL_KEY_COMMIT);
    }
}

const struct pl_policy pl_policy_commit_labels = {
    .id = "commit-labels",
    .default_mode = PL_MODE_WARN,
    .summary = "the pod (template) carries plimsoll.dev/commit",
    .check = check,
};
