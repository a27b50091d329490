/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reloadable serving certificate (see certstore.h).
 *
 * Retired pairs are not freed at once: a handshake that fetched one a moment
 * before the swap may still be using it. They are kept (a few hundred bytes
 * each) and only the oldest is freed once more than MAX_RETIRED have
 * accumulated, long after any handshake that could hold it has finished.
 */
#include "server/certstore.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/x509.h>

#include "core/alloc.h"
#include "core/file.h"
#include "server/tls.h"

#define MAX_CHAIN   16
#define MAX_RETIRED 16

struct pair {
    gnutls_pcert_st chain[MAX_CHAIN];
    unsigned chain_len;
    gnutls_privkey_t key;
    time_t not_after;
};

static struct {
    pthread_mutex_t lock;
    struct pair *current;
    struct pair *retired[MAX_RETIRED];
    size_t n_retired;
    char *cert_path, *key_path;
    struct pl_file_stamp cert_stamp, key_stamp;
    atomic_llong not_after;
} store = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void pair_free(struct pair *p)
{
    if (!p) {
        return;
    }
    for (unsigned i = 0; i < p->chain_len; i++) {
        gnutls_pcert_deinit(&p->chain[i]);
    }
    if (p->key) {
        gnutls_privkey_deinit(p->key);
    }
    free(p);
}

/* Loads and checks a pair from the files (pl_tls_files_load checks that they match). */
static int pair_load(struct pair **ret, struct pl_error *err)
{
    struct pl_tls_files files = {0};
    int r = pl_tls_files_load(store.cert_path, store.key_path, NULL, &files, err);
    if (r < 0) {
        return r;
    }
    struct pair *p = pl_xcalloc(1, sizeof(*p));
    gnutls_datum_t cert = {(unsigned char *)files.cert_pem, (unsigned)strlen(files.cert_pem)};
    gnutls_datum_t key = {(unsigned char *)files.key_pem, (unsigned)strlen(files.key_pem)};
    p->chain_len = MAX_CHAIN;
    int rc =
        gnutls_pcert_list_import_x509_raw(p->chain, &p->chain_len, &cert, GNUTLS_X509_FMT_PEM, 0);
    if (rc < 0) {
        p->chain_len = 0;
        pl_error_set(err, "", 0, "%s: %s", store.cert_path, gnutls_strerror(rc));
        r = -EINVAL;
        goto fail;
    }
    rc = gnutls_privkey_init(&p->key);
    if (rc == 0) {
        rc = gnutls_privkey_import_x509_raw(p->key, &key, GNUTLS_X509_FMT_PEM, NULL, 0);
    }
    if (rc < 0) {
        pl_error_set(err, "", 0, "%s: %s", store.key_path, gnutls_strerror(rc));
        r = -EINVAL;
        goto fail;
    }
    p->not_after = files.not_after;
    pl_tls_files_finish(&files);
    *ret = p;
    return 0;
fail:
    pl_tls_files_finish(&files);
    pair_free(p);
    return r;
}

static void install(struct pair *p)
{
    pthread_mutex_lock(&store.lock);
    if (store.current) {
        if (store.n_retired == MAX_RETIRED) {
            pair_free(store.retired[0]);
            memmove(store.retired, store.retired + 1, (MAX_RETIRED - 1) * sizeof(store.retired[0]));
            store.n_retired--;
        }
        store.retired[store.n_retired++] = store.current;
    }
    store.current = p;
    pthread_mutex_unlock(&store.lock);
    atomic_store(&store.not_after, (long long)p->not_after);
}

int pl_certstore_init(const char *cert_path, const char *key_path, struct pl_error *err)
{
    free(store.cert_path);
    free(store.key_path);
    store.cert_path = pl_xstrdup(cert_path);
    store.key_path = pl_xstrdup(key_path);
    store.cert_stamp = pl_file_stamp(cert_path);
    store.key_stamp = pl_file_stamp(key_path);
    struct pair *p = NULL;
    int r = pair_load(&p, err);
    if (r < 0) {
        return r;
    }
    install(p);
    return 0;
}

int pl_certstore_reload_if_changed(struct pl_error *err)
{
    struct pl_file_stamp cert = pl_file_stamp(store.cert_path);
    struct pl_file_stamp key = pl_file_stamp(store.key_path);
    if (pl_file_stamp_equal(&cert, &store.cert_stamp) &&
        pl_file_stamp_equal(&key, &store.key_stamp)) {
        return 0;
    }
    /* Remember the stamps even on failure: a broken pair is reported once, not every tick. */
    store.cert_stamp = cert;
    store.key_stamp = key;
    struct pair *p = NULL;
    int r = pair_load(&p, err);
    if (r < 0) {
        return r;
    }
    install(p);
    return 1;
}

time_t pl_certstore_not_after(void)
{
    return (time_t)atomic_load(&store.not_after);
}

int pl_certstore_retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_rdn, int nreqs,
                          const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
                          gnutls_pcert_st **pcert, unsigned int *pcert_length,
                          gnutls_privkey_t *privkey)
{
    (void)session;
    (void)req_ca_rdn;
    (void)nreqs;
    (void)pk_algos;
    (void)pk_algos_length;
    pthread_mutex_lock(&store.lock);
    struct pair *p = store.current;
    pthread_mutex_unlock(&store.lock);
    if (!p) {
        return -1;
    }
    *pcert = p->chain;
    *pcert_length = p->chain_len;
    *privkey = p->key;
    return 0;
}

void pl_certstore_finish(void)
{
    pthread_mutex_lock(&store.lock);
    pair_free(store.current);
    store.current = NULL;
    for (size_t i = 0; i < store.n_retired; i++) {
        pair_free(store.retired[i]);
    }
    store.n_retired = 0;
    pthread_mutex_unlock(&store.lock);
    free(store.cert_path);
    free(store.key_path);
    store.cert_path = store.key_path = NULL;
    atomic_store(&store.not_after, 0);
}
