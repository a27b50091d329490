/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The live cluster view of `plimsoll dashboard`: Namespaces and every
 * workload kind of pl_audit_kinds listed and then watched (kube/listwatch.c,
 * one list+watch per kind, no per-object GET), each workload judged as
 * `plimsoll audit` judges it (audit/workloads.c) and kept as its verdict.
 *
 * What is kept per workload: its verdict (status, violations with field
 * path, message and runbook, exemptions, and whether it would be rejected if
 * its namespace were switched to enforce) and the compact JSON text of what
 * the policies read (metadata without managedFields and without the
 * last-applied-configuration copy, and spec; never status), so that a
 * namespace annotation change or a configuration reload re-judges it without
 * asking the API server again. No jansson value of the object is kept.
 *
 * Threads: the list+watch threads feed the view under one mutex; readers
 * (the HTTP side) take the same mutex to build their answer. Everything that
 * leaves (pl_cluster_summary, pl_cluster_workloads) holds only names,
 * plimsoll.dev/ annotations and findings: no env values, no other annotation.
 */
#ifndef PL_AUDIT_CLUSTER_H
#define PL_AUDIT_CLUSTER_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/compiler.h"
#include "core/error.h"
#include "core/log.h"
#include "engine/config.h"

struct pl_cluster;

struct pl_cluster_options {
    const char *kubeconfig; /* NULL: see audit/connect.h */
    /* Log lines (fields: a new reference the callee steals). May be NULL. */
    void (*log)(enum pl_log_level level, const char *msg, json_t *fields);
};

/**
 * A view judged under cfg (a reference is taken). Reads the credentials;
 * nothing runs yet. Returns 0 with *ret, or -ENOENT/-EINVAL/-EIO with err.
 */
PL_MUST_CHECK int pl_cluster_new(const struct pl_cluster_options *opts, struct pl_config *cfg,
                                 struct pl_cluster **ret, struct pl_error *err);

/**
 * Starts the list+watch threads: Namespaces first; the workload kinds once
 * the namespaces are listed (so that the first verdicts already see their
 * namespace's annotations). Returns at once; 0 or -errno.
 */
PL_MUST_CHECK int pl_cluster_start(struct pl_cluster *c);

/**
 * Replaces the configuration (a reference is taken) and re-judges every
 * workload. Thread-safe.
 */
void pl_cluster_set_config(struct pl_cluster *c, struct pl_config *cfg);

/** Whether the first list of every kind has completed. Thread-safe. */
bool pl_cluster_ready(struct pl_cluster *c);

/**
 * The summary (docs/design/dashboard.md): cluster and per-namespace scores
 * and counts, effective modes per namespace and policy, counts per policy.
 * ns_filter and policy_filter (NULL: none) narrow the namespaces and the
 * per-policy counts. Returns a new reference. Thread-safe.
 */
json_t *pl_cluster_summary(struct pl_cluster *c, const char *ns_filter, const char *policy_filter);

/**
 * The workloads (in namespace ns_filter, with a finding of policy_filter;
 * NULL: all), sorted by namespace, kind and name, at most limit of them (0:
 * no limit): {"total": N, "workloads": [...]}. Returns a new reference.
 * Thread-safe.
 */
json_t *pl_cluster_workloads(struct pl_cluster *c, const char *ns_filter, const char *policy_filter,
                             size_t limit);

/**
 * What the OpenReports writer (audit/reports.c) should hold, per namespace:
 * {ns: {"summary": {pass, fail, warn, error, skip}, "results": [...]}} for
 * every namespace that has a failing or warned workload × policy (at most
 * max_results results each, failures first). Results carry no timestamp, so
 * that equal views give equal documents. Returns a new reference, {} before
 * the view is ready. Thread-safe.
 */
json_t *pl_cluster_reports(struct pl_cluster *c, size_t max_results);

/** Appends the view's Prometheus metrics to buf (see dashboard.md). Thread-safe. */
PL_MUST_CHECK int pl_cluster_metrics(struct pl_cluster *c, struct pl_buf *buf);

/** Whether ns is a namespace of the view. Thread-safe. */
bool pl_cluster_has_namespace(struct pl_cluster *c, const char *ns);

/** Stops every thread (in parallel, promptly) and frees everything. Accepts NULL. */
void pl_cluster_free(struct pl_cluster *c);

#endif
