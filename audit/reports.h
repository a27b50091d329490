/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The OpenReports writer of `plimsoll dashboard --reports`: one
 * openreports.io/v1alpha1 Report named "plimsoll" per namespace that has a
 * failing or warned workload × policy (source "plimsoll", one result each,
 * and the summary), kept in step with the live view (audit/cluster.c).
 *
 * No write storms: a thread compares, every interval, what the view says
 * with what it last wrote, and writes only the namespaces whose report
 * changed (a merge PATCH, or POST when it does not exist yet), deletes the reports of
 * namespaces that have nothing left to report, and backs off exponentially
 * (to 5 minutes) while writes fail. At start it lists the Reports that carry
 * its label (app.kubernetes.io/managed-by: plimsoll) so that stale ones are
 * replaced or removed. Its only writes are to reports.openreports.io.
 */
#ifndef PL_AUDIT_REPORTS_H
#define PL_AUDIT_REPORTS_H

#include "audit/cluster.h"
#include "core/compiler.h"
#include "core/log.h"

#define PL_REPORTS_NAME        "plimsoll"
#define PL_REPORTS_MAX_RESULTS 1000u

struct pl_reports;

struct pl_reports_options {
    const char *kubeconfig; /* NULL: see audit/connect.h */
    unsigned interval_ms;   /* between comparisons; 0: 5000 */
    void (*log)(enum pl_log_level level, const char *msg, json_t *fields); /* may be NULL */
};

/** Starts the writer over c (borrowed: outlives the writer). Returns 0 with *ret or -errno. */
PL_MUST_CHECK int pl_reports_start(struct pl_cluster *c, const struct pl_reports_options *opts,
                                   struct pl_reports **ret);

/** Reports written (created or replaced) and deleted so far. Thread-safe. */
void pl_reports_counts(struct pl_reports *r, unsigned long *ret_written,
                       unsigned long *ret_deleted);

/** Stops the thread promptly (an in-flight request is cut) and frees. Accepts NULL. */
void pl_reports_free(struct pl_reports *r);

#endif
