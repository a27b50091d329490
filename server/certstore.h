/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The serving certificate in force, reloadable without a restart (SPEC §8:
 * cert-manager rotation, Secret volume updates). libmicrohttpd hands every
 * TLS handshake to pl_certstore_retrieve(), which returns the current key
 * pair; a reload builds and checks a new pair first and then swaps it in, so
 * connections already open keep working and the next handshake uses the new
 * certificate. A pair that fails to load leaves the current one in force.
 *
 * GnuTLS' retrieve callback carries no user pointer, so the store that
 * answers it is process-wide: one TLS daemon per process.
 */
#ifndef PL_SERVER_CERTSTORE_H
#define PL_SERVER_CERTSTORE_H

#include <stdbool.h>
#include <time.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

#include "core/compiler.h"
#include "core/error.h"

/**
 * Loads cert_path and key_path (PEM) as the process' serving pair. Returns 0,
 * or -EIO/-EINVAL with err naming the file and the problem. The paths are
 * copied. Call once before the TLS daemon starts.
 */
PL_MUST_CHECK int pl_certstore_init(const char *cert_path, const char *key_path,
                                    struct pl_error *err);

/**
 * Reloads the pair if either file changed since the last load (stat(2)
 * follows the ..data symlinks of Kubernetes volumes). Returns 1 when a new
 * pair is in force, 0 when nothing changed, or a negative errno with err
 * filled when the new files do not load (the old pair stays).
 */
PL_MUST_CHECK int pl_certstore_reload_if_changed(struct pl_error *err);

/** notAfter of the certificate in force (0 before init). Thread-safe. */
time_t pl_certstore_not_after(void);

/** The GnuTLS certificate retrieve callback, for MHD_OPTION_HTTPS_CERT_CALLBACK. */
int pl_certstore_retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_rdn, int nreqs,
                          const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
                          gnutls_pcert_st **pcert, unsigned int *pcert_length,
                          gnutls_privkey_t *privkey);

/** Frees every pair. Call after the TLS daemon has stopped. */
void pl_certstore_finish(void);

#endif
