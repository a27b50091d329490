/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The annotation and label keys plimsoll reads and writes, written once
 * (SPEC §6, §7). Everything under PL_KEY_PREFIX is plimsoll's: a namespace
 * annotation plimsoll.dev/<policy-or-mutation-id> sets a mode, and the keys
 * below carry exemptions and the commit a pod was built from.
 */
#ifndef PL_CORE_KEYS_H
#define PL_CORE_KEYS_H

/* The prefix of every plimsoll key. */
#define PL_KEY_PREFIX "plimsoll.dev/"

/* Namespace annotation: the mode of every policy there (enforce, warn, off). */
#define PL_KEY_MODE PL_KEY_PREFIX "mode"
/* Object annotations: the policies it exempts itself from, and why. */
#define PL_KEY_EXEMPT        PL_KEY_PREFIX "exempt"
#define PL_KEY_EXEMPT_REASON PL_KEY_PREFIX "exempt-reason"
/* Label and annotation: the commit the image was built from (inject-commit, commit-labels). */
#define PL_KEY_COMMIT PL_KEY_PREFIX "commit"
/* Annotation: the branch the commit was built on (inject-commit). */
#define PL_KEY_BRANCH PL_KEY_PREFIX "branch"

/* The recommended label naming the application (required-labels' default, inject-tracing). */
#define PL_LABEL_APP_NAME "app.kubernetes.io/name"

#endif
