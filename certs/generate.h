/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Development and bootstrap certificates for the webhook Service: a CA and a
 * serving certificate signed by it, both ECDSA P-256, the serving one valid
 * for <service>.<namespace>.svc, <service>.<namespace>.svc.cluster.local,
 * <service>, <service>.<namespace> and any extra DNS names or IP addresses.
 * Files: ca.crt, tls.crt, tls.key (the key mode 0600), as a Kubernetes TLS
 * Secret names them.
 */
#ifndef PL_CERTS_GENERATE_H
#define PL_CERTS_GENERATE_H

#include <stddef.h>

#include "core/compiler.h"
#include "core/error.h"

struct pl_certs_request {
    const char *service;          /* Service name */
    const char *namespace_;       /* its namespace */
    const char *out_dir;          /* created if missing (mode 0700) */
    int days;                     /* validity of both certificates */
    const char *const *extra_san; /* extra DNS names or IP addresses, NULL-ended; may be NULL */
};

/**
 * Writes ca.crt, tls.crt and tls.key into req->out_dir. Files are written to
 * temporaries and renamed, so a reader never sees a half-written set of one
 * file. Returns 0, -EINVAL (bad request) or -EIO, with err filled.
 */
PL_MUST_CHECK int pl_certs_generate(const struct pl_certs_request *req, struct pl_error *err);

#endif
