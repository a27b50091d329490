/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The admission endpoints: POST /validate and POST /mutate. Each takes an
 * AdmissionReview body, answers an AdmissionReview (or a 400 with a one-line
 * JSON error), logs one decision line and records metrics.
 */
#ifndef PL_SERVER_WEBHOOK_H
#define PL_SERVER_WEBHOOK_H

#include "server/http.h"

/** Route handler for POST /validate; ctx is the struct pl_server. */
void pl_webhook_validate(void *ctx, const struct pl_http_request *req,
                         struct pl_http_response *res);

/** Route handler for POST /mutate; ctx is the struct pl_server. */
void pl_webhook_mutate(void *ctx, const struct pl_http_request *req, struct pl_http_response *res);

/**
 * The trace id (32 lowercase hex digits) of a W3C traceparent header value,
 * copied into out (33 bytes), or false when the header is not valid.
 */
bool pl_webhook_trace_id(const char *traceparent, char out[33]);

#endif
