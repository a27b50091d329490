/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Failed TLS handshakes: counted and logged, rate limited (see handshake.h).
 */
#include "server/handshake.h"

#include <pthread.h>

#include <jansson.h>

#include "core/log.h"

static struct {
    pthread_mutex_t lock;
    double last_log; /* monotonic seconds of the last line; 0: none yet */
    unsigned long long unlogged;
} limiter = {.lock = PTHREAD_MUTEX_INITIALIZER};

enum pl_tls_failure pl_handshake_classify(struct pl_handshake_seen seen)
{
    if (seen.certificate) {
        return PL_TLS_FAIL_AFTER_CERTIFICATE;
    }
    return seen.client_hello ? PL_TLS_FAIL_BEFORE_CERTIFICATE : PL_TLS_FAIL_NO_CLIENT_HELLO;
}

/* What an operator should look at, by reason. */
static const char *hint(enum pl_tls_failure why)
{
    switch (why) {
    case PL_TLS_FAIL_AFTER_CERTIFICATE:
        return "the client closed the handshake once it had the serving certificate: it does "
               "not accept it. Check that the webhook's caBundle holds the CA that signed it, "
               "that it has not expired, and that it names the host the client calls";
    case PL_TLS_FAIL_BEFORE_CERTIFICATE:
        return "no TLS version or cipher suite in common with the client (--tls-priority), or "
               "a malformed ClientHello";
    case PL_TLS_FAIL_NO_CLIENT_HELLO:
    case PL_TLS_FAIL_COUNT:
    default:
        return "the client sent no TLS ClientHello: not TLS (plain HTTP?), or a port probe";
    }
}

void pl_handshake_failed(struct pl_handshake_seen seen, const char *peer, double now)
{
    enum pl_tls_failure why = pl_handshake_classify(seen);
    pl_metrics_tls_handshake_failure(why);
    pthread_mutex_lock(&limiter.lock);
    bool due = limiter.last_log == 0 || now - limiter.last_log >= PL_HANDSHAKE_LOG_INTERVAL_S;
    unsigned long long unlogged = limiter.unlogged;
    if (due) {
        limiter.last_log = now;
        limiter.unlogged = 0;
    } else {
        limiter.unlogged++;
    }
    pthread_mutex_unlock(&limiter.lock);
    if (!due) {
        return;
    }
    pl_log(PL_LOG_WARN, "TLS handshake failed",
           json_pack("{s:s, s:s*, s:s, s:I}", "reason", pl_metrics_tls_failure_name(why), "client",
                     peer, "error", hint(why), "unlogged_since_last", (json_int_t)unlogged));
}
