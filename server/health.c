/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Health, readiness and metrics endpoints (see health.h).
 */
#include "server/health.h"

#include <stdatomic.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "server/certstore.h"
#include "server/metrics.h"
#include "server/nsview.h"
#include "server/server.h"

static void text(struct pl_http_response *res, unsigned status, const char *body)
{
    res->status = status;
    res->body = pl_xstrdup(body);
    res->body_len = strlen(body);
    res->content_type = "text/plain; charset=utf-8";
}

void pl_health_healthz(void *ctx, const struct pl_http_request *req, struct pl_http_response *res)
{
    (void)ctx;
    (void)req;
    text(res, 200, "ok\n");
}

void pl_health_readyz(void *ctx, const struct pl_http_request *req, struct pl_http_response *res)
{
    struct pl_server *s = ctx;
    (void)req;
    if (atomic_load(&s->draining)) {
        text(res, 503, "draining\n");
    } else if (!atomic_load(&s->tls_loaded)) {
        text(res, 503, "certificates not loaded\n");
    } else if (!pl_certstore_valid_now()) {
        text(res, 503, "serving certificate expired or not yet valid\n");
    } else if (s->nswatch && !pl_nsview_synced(s->nswatch)) {
        text(res, 503, "namespace view not synced\n");
    } else {
        text(res, 200, "ok\n");
    }
}

void pl_health_metrics(void *ctx, const struct pl_http_request *req, struct pl_http_response *res)
{
    struct pl_server *s = ctx;
    (void)req;
    struct pl_config *cfg = pl_server_config(s);
    struct pl_metrics_gauges g = {
        .ready = pl_server_ready(s),
        .draining = atomic_load(&s->draining),
        .namespace_view_configured = s->nswatch != NULL,
        .namespace_view_synced = s->nswatch && pl_nsview_synced(s->nswatch),
        .namespace_view_staleness_seconds =
            s->nswatch ? pl_nsview_staleness_seconds(s->nswatch) : 0,
        .certificate_not_after = (double)pl_certstore_not_after(),
        .certificate_pairs = (unsigned)pl_certstore_pairs_alive(),
        .config_source = cfg->source,
        .watch_list_errors = pl_nsview_errors(s->nswatch, false),
        .watch_watch_errors = pl_nsview_errors(s->nswatch, true),
    };
    struct pl_buf b;
    pl_buf_init(&b, 4u * 1024u * 1024u);
    if (pl_metrics_render(&b, &g, s->opts->version, s->opts->commit) < 0) {
        pl_buf_finish(&b);
        pl_config_unref(cfg);
        pl_http_error(res, 500, "metrics too large");
        return;
    }
    pl_config_unref(cfg);
    res->status = 200;
    res->body_len = b.len;
    res->body = pl_buf_steal(&b);
    res->content_type = "text/plain; version=0.0.4; charset=utf-8";
}
