/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Failed TLS handshakes on the webhook port, told to the operator: a client
 * that does not trust the serving certificate (a caBundle that does not sign
 * it, after a CA rotation) fails every handshake and sends no request, so
 * without this nothing on plimsoll's side would show it. Each failure is
 * counted by reason (plimsoll_tls_handshake_failures_total) and logged, at
 * most one line per PL_HANDSHAKE_LOG_INTERVAL_S with the number of failures
 * left unlogged since the last line.
 */
#ifndef PL_SERVER_HANDSHAKE_H
#define PL_SERVER_HANDSHAKE_H

#include <stdbool.h>

#include "server/metrics.h"

#define PL_HANDSHAKE_LOG_INTERVAL_S 10

/* What GnuTLS's handshake hooks saw of one connection. */
struct pl_handshake_seen {
    bool client_hello; /* the client's ClientHello was read */
    bool certificate;  /* our Certificate message was sent */
};

/** The reason label of a handshake that failed after seen. */
enum pl_tls_failure pl_handshake_classify(struct pl_handshake_seen seen);

/**
 * Records a failed handshake from peer (an address as text; may be NULL):
 * counts it, and logs it unless a line was logged less than the interval
 * before now (monotonic seconds). Thread-safe.
 */
void pl_handshake_failed(struct pl_handshake_seen seen, const char *peer, double now);

#endif
