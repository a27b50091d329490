/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The dashboard's plain-HTTP front: a small libmicrohttpd daemon of its own
 * (not server/http.c: audit/ never includes server/, LAYOUT.md), read-only,
 * GET and HEAD only, with limits (connections, per-address connections,
 * header memory, idle timeout). Routes (docs/design/dashboard.md):
 *
 *   /                                   the page (audit/page.c)
 *   /api/v1/summary                     scores, counts, modes (JSON)
 *   /api/v1/workloads                   every workload with its findings (JSON)
 *   /api/v1/namespaces/{ns}/workloads   the same for one namespace
 *   /metrics                            Prometheus text
 *   /healthz, /readyz                   liveness; ready once every kind is listed
 *
 * The page and the JSON accept ?namespace=NS&policy=ID filters.
 */
#ifndef PL_AUDIT_WEB_H
#define PL_AUDIT_WEB_H

#include <stdatomic.h>

#include "audit/cluster.h"
#include "core/compiler.h"
#include "core/error.h"

struct pl_audit_web;

/**
 * Serves c on listen ("ADDR:PORT", "[v6]:PORT"). draining (may be NULL),
 * when set, makes /readyz answer 503. Returns 0 with *ret, or -EINVAL/-EIO
 * with err filled (bad address, port in use).
 */
PL_MUST_CHECK int pl_audit_web_start(const char *listen, struct pl_cluster *c,
                                     const atomic_bool *draining, struct pl_audit_web **ret,
                                     struct pl_error *err);

/** Stops serving (in-flight requests finish) and frees. Accepts NULL. */
void pl_audit_web_stop(struct pl_audit_web *w);

#endif
