/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The serving certificate in force, reloadable without a restart (SPEC §8:
 * cert-manager rotation, Secret volume updates). Every TLS handshake asks
 * pl_certstore_acquire() for the current key pair and holds a reference on it
 * until its connection is gone; a reload builds and checks a new pair first
 * and then swaps it in, so connections already open keep working and the next
 * handshake uses the new certificate. A pair that fails to load, or whose
 * certificate is not valid now (expired, or notBefore still ahead), leaves the
 * current one in force.
 *
 * A retired pair is freed when its last holder lets go, never earlier: a
 * handshake paused between flights (static-RSA key exchange decrypts with the
 * key in the client's second flight) may keep one alive across any number of
 * rotations. The store is process-wide: one TLS daemon per process.
 */
#ifndef PL_SERVER_CERTSTORE_H
#define PL_SERVER_CERTSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

#include "core/compiler.h"
#include "core/error.h"

/**
 * Loads cert_path and key_path (PEM) as the process' serving pair. Returns 0,
 * or -EIO/-EINVAL with err naming the file and the problem. The paths are
 * copied. A certificate outside its validity window is installed all the same
 * (there is nothing else to serve); pl_certstore_valid_now() says so. Call
 * once before the TLS daemon starts.
 */
PL_MUST_CHECK int pl_certstore_init(const char *cert_path, const char *key_path,
                                    struct pl_error *err);

/**
 * Reloads the pair if either file changed since the last load (stat(2)
 * follows the ..data symlinks of Kubernetes volumes). Returns 1 when a new
 * pair is in force, 0 when nothing changed, or a negative errno with err
 * filled when the new files do not load or their certificate is expired or
 * not yet valid (the old pair stays). A not-yet-valid certificate is tried
 * again once its notBefore has passed; other failures only when the files
 * change again. Main thread only.
 */
PL_MUST_CHECK int pl_certstore_reload_if_changed(struct pl_error *err);

/** notAfter of the certificate in force (0 before init). Thread-safe. */
time_t pl_certstore_not_after(void);

/** Whether the certificate in force is within its validity window now. Thread-safe. */
bool pl_certstore_valid_now(void);

/** Key pairs alive right now: the one in force plus retired ones still held. Thread-safe. */
size_t pl_certstore_pairs_alive(void);

/**
 * Gives a handshake the pair in force: takes a new reference on it, drops the
 * one *hold had (a renegotiation), and stores the new one in *hold, which
 * must be passed to pl_certstore_release() once the TLS session is done with
 * it. *pcert and *privkey point into the pair and stay valid while held.
 * Returns 0, or -1 before init. Thread-safe.
 */
int pl_certstore_acquire(void **hold, gnutls_pcert_st **pcert, unsigned int *pcert_length,
                         gnutls_privkey_t *privkey);

/** Drops a reference taken by pl_certstore_acquire(). Accepts NULL. Thread-safe. */
void pl_certstore_release(void *hold);

/** Drops the store's own reference. Call after the TLS daemon has stopped. */
void pl_certstore_finish(void);

#endif
