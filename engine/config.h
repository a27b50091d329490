/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The policy configuration (SPEC §8) as an immutable, refcounted snapshot
 * (STYLE rule 15). A load parses and validates the whole file, runs every
 * policy's and mutation's parameters once (pl_params_parse), then hands out a
 * snapshot; a reload that fails leaves the caller's current snapshot
 * untouched. Readers take a reference for the duration of one request, so a
 * reload never pulls a configuration out from under an in-flight review.
 */
#ifndef PL_ENGINE_CONFIG_H
#define PL_ENGINE_CONFIG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/compiler.h"
#include "core/error.h"
#include "core/report.h"

/* Largest configuration file read (a ConfigMap holds at most 1 MiB). */
#define PL_CONFIG_MAX_BYTES (1024u * 1024u)

struct pl_policy_setting {
    enum pl_mode mode;   /* configured mode, or the policy's default */
    void *params;        /* pl_params_parse() of its table; owned */
    bool exempt_allowed; /* listed in exemptions.allow */
    bool every_pod;      /* listed in controllers.enforce-on-pods */
};

/* One mutation's settings (SPEC §7, §8 `mutations`). */
struct pl_mutation_setting {
    bool enabled; /* configured, or the mutation's default */
    void *params; /* pl_params_parse() of its table; owned */
};

struct pl_config {
    atomic_int refs;
    char *runbook_base_url;
    char **exclude_namespaces; /* the self namespace included, when known */
    size_t n_exclude;
    bool grandfather_updates;
    bool mutate_templates;
    struct pl_mutation_setting *mutations; /* indexed like pl_mutations[] */
    struct pl_policy_setting *policies;    /* indexed like pl_policies[] */
    char **controller_users; /* controllers.users: requests from these users are controllers' */
    size_t n_controller_users;
    char *source; /* file path, or "built-in defaults" */
};

/**
 * Parses a configuration from YAML text (JSON is YAML too). self_namespace
 * (may be NULL) is added to the excluded namespaces (SPEC §6 rule 1).
 * Returns 0 with *ret_cfg a new snapshot (one reference), or -EINVAL with err
 * naming the key and line. A text without a document (empty, only comments,
 * `~`) is refused with -EINVAL; `{}` is the built-in defaults.
 */
PL_MUST_CHECK int pl_config_parse(const char *text, size_t len, const char *self_namespace,
                                  struct pl_config **ret_cfg, struct pl_error *err);

/**
 * Reads and parses the file at path (at most PL_CONFIG_MAX_BYTES). Same
 * result as pl_config_parse(); -EIO with err filled when it cannot be read.
 */
PL_MUST_CHECK int pl_config_load_file(const char *path, const char *self_namespace,
                                      struct pl_config **ret_cfg, struct pl_error *err);

/**
 * pl_config_load_file() of path, or the built-in defaults when path is NULL (what
 * every command's --config means). Same results.
 */
PL_MUST_CHECK int pl_config_load(const char *path, const char *self_namespace,
                                 struct pl_config **ret_cfg, struct pl_error *err);

/** The built-in defaults (SPEC §5). Never fails. One reference. */
struct pl_config *pl_config_new_default(const char *self_namespace);

/** Takes a reference. Thread-safe. Returns cfg. */
struct pl_config *pl_config_ref(struct pl_config *cfg);

/** Drops a reference, freeing on the last. Accepts NULL. Returns NULL. Thread-safe. */
struct pl_config *pl_config_unref(struct pl_config *cfg);

/** Whether user is one of controllers.users (a workload controller, SPEC §6). */
bool pl_config_is_controller(const struct pl_config *cfg, const char *user);

/** Whether ns is excluded from every policy. */
bool pl_config_excludes(const struct pl_config *cfg, const char *ns);

/** The default runbook base URL. */
#define PL_DEFAULT_RUNBOOK_BASE "https://plimsoll.dev/runbooks/"

#endif
