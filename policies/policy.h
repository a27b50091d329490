/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The policy contract (STYLE rules 2-4). A policy is one file exporting one
 * `const struct pl_policy pl_policy_<id>` descriptor, listed by one row in
 * policies/meson.build (docs/design/adding-a-policy.md).
 *
 * - its parameters are a table (policies/params.h) that pl_params_parse()
 *   turns into an immutable params struct once per configuration load
 *   (never per request), defaults included.
 * - check runs per object: borrowed const inputs, violations appended to the
 *   report (which owns their strings), deterministic, no I/O, no globals, no
 *   logging, safe on any thread at once.
 *
 * Policies use only core/ and jansson.
 */
#ifndef PL_POLICIES_POLICY_H
#define PL_POLICIES_POLICY_H

#include <jansson.h>

#include "core/compiler.h"
#include "core/error.h"
#include "core/object.h"
#include "core/pool.h"
#include "core/report.h"
#include "policies/params.h"

/* What a check gets besides the pod spec. */
struct pl_eval {
    const struct pl_object *obj; /* the object being evaluated (borrowed) */
    const void *params;          /* this policy's parsed parameters (borrowed; NULL when none) */
    struct pl_pool *pool;        /* per-request arena for temporaries */
    bool commit_injected;        /* inject-commit is on here and will stamp this pod's commit */
};

/**
 * Checks one object. spec is the pod spec (borrowed, never NULL). Bad input
 * is a violation or nothing, never an error, so a check cannot fail (memory
 * exhaustion aborts, STYLE rule 11).
 */
typedef void (*pl_check_fn)(const struct pl_eval *ev, const json_t *spec, struct pl_report *out);

/* A set of kinds (pl_policy.kinds): PL_KINDS(PL_KIND_DEPLOYMENT) | ... */
#define PL_KINDS(kind) (1u << (unsigned)(kind))

/*
 * One policy: everything plimsoll knows of it, written once. The evaluator,
 * the configuration loader, `plimsoll policies`, SARIF rules and the docs
 * test all read this descriptor; nothing else lists a policy's facts.
 */
struct pl_policy {
    const char *id;                    /* stable kebab-case id */
    enum pl_mode default_mode;         /* SPEC §5 */
    const char *summary;               /* what it checks, one sentence */
    bool never_exempt;                 /* left out of exemptions.allow's default (SPEC §6) */
    bool every_pod;                    /* in controllers.enforce-on-pods' default (SPEC §6) */
    unsigned kinds;                    /* PL_KINDS() it looks at; 0: every kind with a pod */
    bool long_running_only;            /* skips what runs to completion (SPEC §4: Jobs,
                                          CronJobs, Pods with restartPolicy other than Always) */
    const struct pl_param_set *params; /* its parameters; NULL when it takes none */
    pl_check_fn check;                 /* run only on kinds, with params parsed (never NULL
                                          when the policy has a parameter set) */
};

/**
 * Whether p looks at obj at all: obj's kind is among p->kinds, and obj is
 * long-running when p is long_running_only. The evaluator runs check only
 * when this holds (and so do the tests that drive a policy directly).
 */
bool pl_policy_applies(const struct pl_policy *p, const struct pl_object *obj);

#endif
