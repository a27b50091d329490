/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The plain-HTTP endpoints: GET /healthz (the process can serve), GET /readyz
 * (certificates and configuration loaded, namespace view synced when an API
 * server is configured, not draining) and GET /metrics (Prometheus text).
 */
#ifndef PL_SERVER_HEALTH_H
#define PL_SERVER_HEALTH_H

#include "server/http.h"

/** GET /healthz; ctx is the struct pl_server. */
void pl_health_healthz(void *ctx, const struct pl_http_request *req, struct pl_http_response *res);

/** GET /readyz; ctx is the struct pl_server. */
void pl_health_readyz(void *ctx, const struct pl_http_request *req, struct pl_http_response *res);

/** GET /metrics; ctx is the struct pl_server. */
void pl_health_metrics(void *ctx, const struct pl_http_request *req, struct pl_http_response *res);

#endif
