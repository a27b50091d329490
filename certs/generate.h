/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Development and bootstrap certificates for the webhook Service: a CA and a
 * serving certificate signed by it, both ECDSA P-256, the serving one valid
 * for <service>.<namespace>.svc, <service>.<namespace>.svc.cluster.local,
 * <service>, <service>.<namespace> and any extra DNS names or IP addresses.
 * Files: ca.crt, tls.crt, tls.key (the key mode 0600), as a Kubernetes TLS
 * Secret names them, and ca.key (mode 0600) when asked for.
 *
 * Given an existing CA (ca_cert_path and ca_key_path), only the serving key
 * and certificate are new, signed by that CA, and ca.crt is a copy of it: the
 * webhook's caBundle stays valid, which is how a serving certificate is
 * renewed without touching the API server's trust (docs/design/certificates.md).
 */
#ifndef PL_CERTS_GENERATE_H
#define PL_CERTS_GENERATE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/compiler.h"
#include "core/error.h"

struct pl_certs_request {
    const char *service;          /* Service name */
    const char *namespace_;       /* its namespace */
    const char *out_dir;          /* created if missing (mode 0700) */
    int days;                     /* validity of both certificates */
    const char *const *extra_san; /* extra DNS names or IP addresses, NULL-ended; may be NULL */
    const char *ca_cert_path;     /* sign with this CA (PEM) instead of a new one; or NULL */
    const char *ca_key_path;      /* its private key (PEM); given with ca_cert_path */
    bool write_ca_key;            /* a new CA's key is also written, to DIR/ca.key (0600) */
};

/**
 * Writes ca.crt, tls.crt and tls.key into req->out_dir. Files are written to
 * temporaries and renamed, so a reader never sees a half-written set of one
 * file. Returns 0, -EINVAL (bad request: also a CA that is not a CA, does not
 * match its key, is not valid now, or would expire before the serving
 * certificate) or -EIO, with err filled.
 */
PL_MUST_CHECK int pl_certs_generate(const struct pl_certs_request *req, struct pl_error *err);

#endif
