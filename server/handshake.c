/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Failed TLS handshakes: counted and logged, rate limited (see handshake.h).
 */
#include "server/handshake.h"

#include <pthread.h>

#include <gnutls/gnutls.h>
#include <jansson.h>

#include "core/log.h"

static struct {
    pthread_mutex_t lock;
    double last_log; /* monotonic seconds of the last line; 0: none yet */
    unsigned long long unlogged;
} limiter = {.lock = PTHREAD_MUTEX_INITIALIZER};

enum pl_tls_failure pl_handshake_classify(int alert, bool cert_sent)
{
    if (alert < 0) {
        return cert_sent ? PL_TLS_FAIL_AFTER_CERTIFICATE : PL_TLS_FAIL_NO_ALERT;
    }
    switch (alert) {
    case GNUTLS_A_UNKNOWN_CA:
        return PL_TLS_FAIL_UNKNOWN_CA;
    case GNUTLS_A_BAD_CERTIFICATE:
        return PL_TLS_FAIL_BAD_CERTIFICATE;
    case GNUTLS_A_CERTIFICATE_EXPIRED:
        return PL_TLS_FAIL_CERTIFICATE_EXPIRED;
    case GNUTLS_A_UNSUPPORTED_CERTIFICATE:
    case GNUTLS_A_CERTIFICATE_REVOKED:
    case GNUTLS_A_CERTIFICATE_UNKNOWN:
        return PL_TLS_FAIL_CERTIFICATE_OTHER;
    case GNUTLS_A_PROTOCOL_VERSION:
    case GNUTLS_A_HANDSHAKE_FAILURE:
    case GNUTLS_A_INSUFFICIENT_SECURITY:
        return PL_TLS_FAIL_PROTOCOL;
    default:
        return PL_TLS_FAIL_OTHER_ALERT;
    }
}

/* What an operator should look at, by reason. */
static const char *hint(enum pl_tls_failure why)
{
    switch (why) {
    case PL_TLS_FAIL_UNKNOWN_CA:
    case PL_TLS_FAIL_BAD_CERTIFICATE:
    case PL_TLS_FAIL_CERTIFICATE_OTHER:
        return "the client does not trust the serving certificate: check that the webhook's "
               "caBundle holds the CA that signed it";
    case PL_TLS_FAIL_AFTER_CERTIFICATE:
        return "the client closed the connection once it had the serving certificate, most "
               "likely because it does not trust it: check that the webhook's caBundle holds the "
               "CA that signed it";
    case PL_TLS_FAIL_CERTIFICATE_EXPIRED:
        return "the client finds the serving certificate expired: renew it";
    case PL_TLS_FAIL_PROTOCOL:
        return "no TLS version or cipher suite in common with the client (--tls-priority)";
    default:
        return "the client closed the connection before the handshake finished, or did not "
               "speak TLS";
    }
}

void pl_handshake_failed(int alert, bool cert_sent, const char *peer, double now)
{
    enum pl_tls_failure why = pl_handshake_classify(alert, cert_sent);
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
    const char *alert_name =
        alert >= 0 ? gnutls_alert_get_name((gnutls_alert_description_t)alert) : NULL;
    pl_log(PL_LOG_WARN, "TLS handshake failed",
           json_pack("{s:s, s:s*, s:s*, s:s, s:I}", "reason", pl_metrics_tls_failure_name(why),
                     "alert", alert_name, "client", peer, "error", hint(why), "unlogged_since_last",
                     (json_int_t)unlogged));
}
