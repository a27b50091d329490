/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The violations found in one object, and how they are told to a person.
 *
 * Policies append violations with a field path and a message; the evaluator
 * stamps each with the policy id and the effective mode. Rendering turns
 * them into the rejection text and the warnings of SPEC §9, bounded in size
 * whatever the object: a Pod with thousands of failing containers still gets
 * a message the API server and kubectl can carry.
 *
 * All strings live in the report's pool and die with its next clear.
 */
#ifndef PL_CORE_REPORT_H
#define PL_CORE_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/compiler.h"
#include "core/mode.h"
#include "core/object.h"
#include "core/pool.h"

/* What a violation's path is relative to. */
enum pl_scope {
    PL_SCOPE_OBJECT,   /* the object itself: "spec.replicas" */
    PL_SCOPE_POD_META, /* the pod (template) metadata: "labels" */
    PL_SCOPE_POD_SPEC, /* the pod spec: "containers[0] (web)" */
};

/* Why a violation does not count in its policy's mode (SPEC §6). */
enum pl_suppression {
    PL_SUPPRESS_NONE,
    PL_SUPPRESS_EXEMPT,        /* the object exempts itself (plimsoll.dev/exempt): mode off */
    PL_SUPPRESS_GRANDFATHERED, /* UPDATE: the stored object had it already: enforce -> warn */
    PL_SUPPRESS_CONTROLLER,    /* a controller made the object from an admitted workload */
};

/** "exempt", "grandfathered", "controller" (and "" for none). */
const char *pl_suppression_name(enum pl_suppression s);

/*
 * What a violation is, whatever its text: the same policy breaking the same
 * rule at the same field of the same container. Grandfathering compares this
 * between the old and the new object of an UPDATE, so that neither a change of
 * wording, nor a value quoted in the message, nor a container moved to another
 * position changes what counts as "already there".
 */
struct pl_violation_id {
    const char *rule;      /* the message's format string: one per rule */
    enum pl_scope scope;   /* what field is relative to */
    const char *container; /* "containers/web" (list and name; index when unnamed), or NULL */
    const char *field;     /* "livenessProbe", "labels", "spec.replicas"; "" for the whole */
    const char *subject;   /* what is judged where one field holds several (pl_report_identify) */
};

struct pl_violation {
    const char *policy;     /* policy id */
    size_t policy_index;    /* its index in pl_policies[] (the evaluator's report->policy_index) */
    enum pl_mode mode;      /* what it does: PL_MODE_ENFORCE rejects, PL_MODE_WARN warns,
                               PL_MODE_OFF nothing (exempt) */
    enum pl_mode base_mode; /* the policy's effective mode before any suppression */
    enum pl_suppression suppression;
    bool every_pod;         /* the policy is enforced on every Pod (controllers.enforce-on-pods) */
    const char *path;       /* relative to the object: "spec.template.spec.containers[0] (web)" */
    const char *short_path; /* relative to the pod spec/metadata, for warnings */
    const char *message;    /* "no livenessProbe; a hung process is never restarted" */
    struct pl_violation_id id;
};

/* Most violations kept per object and mode (so that a flood of warnings never
 * pushes out a violation that rejects); more are counted in dropped. */
#define PL_REPORT_MAX_VIOLATIONS 1000
/* Longest piece of request text (e.g. a container name) copied into a message. */
#define PL_REPORT_MAX_QUOTE 64

struct pl_report {
    struct pl_pool *pool;            /* owns every string */
    const struct pl_object *obj;     /* for path prefixes */
    const char *policy;              /* set by the evaluator before each check */
    size_t policy_index;             /* likewise: the policy's index in pl_policies[] */
    enum pl_mode mode;               /* likewise */
    enum pl_suppression suppression; /* likewise: PL_SUPPRESS_EXEMPT for an exempted policy */
    const char *id_field;            /* pl_report_identify() for the next add, then cleared */
    const char *id_subject;          /* likewise */
    struct pl_violation *items;      /* pool memory */
    size_t len, cap;
    size_t kept_by_mode[3];    /* violations stored, by the mode they were added in */
    size_t dropped;            /* violations past PL_REPORT_MAX_VIOLATIONS, all modes */
    size_t dropped_by_mode[3]; /* the same, by effective mode (indexed by enum pl_mode) */
};

/** Makes an empty report whose strings come from pool. obj is borrowed. */
void pl_report_init(struct pl_report *r, struct pl_pool *pool, const struct pl_object *obj);

/**
 * Appends a violation of the current policy at path (relative to scope) with
 * a formatted message. Never fails: past the cap the violation is counted only.
 */
PL_PRINTF(4, 5)
void pl_report_add(struct pl_report *r, enum pl_scope scope, const char *path, const char *fmt,
                   ...);

struct pl_container;

/** pl_report_add() at a container: path "containers[0] (web)" plus an optional ".sub" field. */
PL_PRINTF(4, 5)
void pl_report_container(struct pl_report *r, const struct pl_container *c, const char *sub,
                         const char *fmt, ...);

/**
 * A quoted piece of request text safe to put in a message: at most
 * PL_REPORT_MAX_QUOTE bytes (cut with "..."), control characters replaced.
 * Pool memory.
 */
const char *pl_report_quote(struct pl_report *r, const char *text);

/**
 * Says what the next violation added is about, for its identity (struct
 * pl_violation_id): subject is the thing judged where one field may hold
 * several (a label key, an env var's name, an image reference, a volume's
 * name), and field, when not NULL, replaces the path given to the add, for
 * paths that carry a list position ("env[3].value" is known as "env.value"
 * plus the variable's name, so that moving it changes nothing). Both are
 * copied, and forgotten after the next add.
 */
void pl_report_identify(struct pl_report *r, const char *field, const char *subject);

/**
 * The identity of v as one string (pool memory): equal for the same violation
 * of the old and the new object of an UPDATE (see struct pl_violation_id).
 */
const char *pl_violation_key(struct pl_pool *pool, const struct pl_violation *v);

/** Number of violations (kept and dropped) in mode. */
size_t pl_report_count(const struct pl_report *r, enum pl_mode mode);

/* Size bounds of rendered text (SPEC §3: never more than the API server accepts). */
#define PL_MESSAGE_MAX  (16u * 1024u) /* rejection status.message */
#define PL_WARNINGS_MAX (4u * 1024u)  /* all warnings together, as the API server keeps them */
#define PL_WARNING_MAX  256u          /* one warning */

/**
 * The rejection text of SPEC §9 for the enforce-mode violations, or NULL when
 * there are none. runbook_base is prepended to the policy id. Pool memory.
 */
const char *pl_report_render_rejection(const struct pl_report *r, const char *runbook_base);

/**
 * The warnings of SPEC §9 for the warn-mode violations, plus extra_warnings
 * (borrowed array of strings, may be NULL) first. Returns a new reference to
 * a JSON array of strings (empty when nothing to say), bounded by
 * PL_WARNINGS_MAX, each item by PL_WARNING_MAX.
 */
json_t *pl_report_render_warnings(const struct pl_report *r, const char *runbook_base,
                                  const json_t *extra_warnings);

#endif
