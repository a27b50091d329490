/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Serving certificate files: read the PEM cert and key, check that they load
 * and belong together, and tell when the certificate expires, so that a bad
 * file is a clear start-up error rather than a TLS handshake that fails later.
 */
#ifndef PL_SERVER_TLS_H
#define PL_SERVER_TLS_H

#include <time.h>

#include "core/compiler.h"
#include "core/error.h"

/* Largest PEM file read. */
#define PL_TLS_MAX_PEM (1024u * 1024u)

struct pl_tls_files {
    char *cert_pem;    /* NUL-terminated; owned */
    char *key_pem;     /* NUL-terminated; owned */
    char *ca_pem;      /* client CA, or NULL; owned */
    time_t not_before; /* activation of the first certificate in cert_pem */
    time_t not_after;  /* expiry of the first certificate in cert_pem */
};

/**
 * Reads and validates cert_path and key_path (and client_ca_path when not
 * NULL). Returns 0 with *ret filled (release with pl_tls_files_finish), or
 * -EIO/-EINVAL with err naming the file and the problem.
 */
PL_MUST_CHECK int pl_tls_files_load(const char *cert_path, const char *key_path,
                                    const char *client_ca_path, struct pl_tls_files *ret,
                                    struct pl_error *err);

/** Frees the PEM strings. Accepts NULL. */
void pl_tls_files_finish(struct pl_tls_files *f);

#endif
