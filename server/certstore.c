/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reloadable serving certificate (see certstore.h).
 *
 * Each pair carries a reference count: one for the store while it is in
 * force, one for every TLS session that was handed it. Swapping in a new pair
 * drops the store's reference; the old pair is freed by whoever lets go of it
 * last, so no handshake, however long it pauses, can see a freed key.
 */
#include "server/certstore.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/x509.h>

#include "core/alloc.h"
#include "core/file.h"
#include "server/tls.h"

#define MAX_CHAIN 16

struct pair {
    atomic_uint refs;
    gnutls_pcert_st chain[MAX_CHAIN];
    unsigned chain_len;
    gnutls_privkey_t key;
    time_t not_before, not_after;
};

static struct {
    pthread_mutex_t lock; /* guards current */
    struct pair *current;
    char *cert_path, *key_path;
    struct pl_file_stamp cert_stamp, key_stamp;
    time_t retry_at; /* a not-yet-valid certificate is tried again then (0: no retry) */
    atomic_llong not_before, not_after;
    atomic_size_t alive;
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
    atomic_fetch_sub(&store.alive, 1);
}

static struct pair *pair_ref(struct pair *p)
{
    atomic_fetch_add(&p->refs, 1);
    return p;
}

static void pair_unref(struct pair *p)
{
    if (p && atomic_fetch_sub(&p->refs, 1) == 1) {
        pair_free(p);
    }
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
    atomic_init(&p->refs, 1);
    atomic_fetch_add(&store.alive, 1);
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
    p->not_before = files.not_before;
    p->not_after = files.not_after;
    pl_tls_files_finish(&files);
    *ret = p;
    return 0;
fail:
    pl_tls_files_finish(&files);
    pair_free(p);
    return r;
}

/* Formats t as RFC 3339 UTC into buf. */
static const char *utc(time_t t, char *buf, size_t size)
{
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        snprintf(buf, size, "%lld", (long long)t);
    }
    return buf;
}

/* Refuses a certificate outside its validity window; a not-yet-valid one is
 * remembered for a retry at its notBefore (clock skew with the issuer). */
static int check_validity(const struct pair *p, time_t now, struct pl_error *err)
{
    char a[32], b[32];
    if (now < p->not_before) {
        store.retry_at = p->not_before;
        return pl_error_set(
            err, "", 0, "%s is not valid yet: notBefore %s, now %s (it will be tried again then)",
            store.cert_path, utc(p->not_before, a, sizeof(a)), utc(now, b, sizeof(b)));
    }
    if (now > p->not_after) {
        return pl_error_set(err, "", 0, "%s has expired: notAfter %s, now %s", store.cert_path,
                            utc(p->not_after, a, sizeof(a)), utc(now, b, sizeof(b)));
    }
    return 0;
}

/* Puts p in force (steals its reference) and drops the store's reference to the old pair. */
static void install(struct pair *p)
{
    pthread_mutex_lock(&store.lock);
    struct pair *old = store.current;
    store.current = p;
    pthread_mutex_unlock(&store.lock);
    atomic_store(&store.not_before, (long long)p->not_before);
    atomic_store(&store.not_after, (long long)p->not_after);
    pair_unref(old);
}

int pl_certstore_init(const char *cert_path, const char *key_path, struct pl_error *err)
{
    free(store.cert_path);
    free(store.key_path);
    store.cert_path = pl_xstrdup(cert_path);
    store.key_path = pl_xstrdup(key_path);
    store.cert_stamp = pl_file_stamp(cert_path);
    store.key_stamp = pl_file_stamp(key_path);
    store.retry_at = 0;
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
    time_t now = time(NULL);
    bool retry = store.retry_at != 0 && now >= store.retry_at;
    if (pl_file_stamp_equal(&cert, &store.cert_stamp) &&
        pl_file_stamp_equal(&key, &store.key_stamp) && !retry) {
        return 0;
    }
    /* Remember the stamps even on failure: a broken pair is reported once, not every tick. */
    store.cert_stamp = cert;
    store.key_stamp = key;
    store.retry_at = 0;
    struct pair *p = NULL;
    int r = pair_load(&p, err);
    if (r < 0) {
        return r;
    }
    r = check_validity(p, now, err);
    if (r < 0) {
        pair_unref(p);
        return r;
    }
    install(p);
    return 1;
}

time_t pl_certstore_not_after(void)
{
    return (time_t)atomic_load(&store.not_after);
}

bool pl_certstore_valid_now(void)
{
    long long now = (long long)time(NULL);
    long long after = atomic_load(&store.not_after);
    return after != 0 && now >= atomic_load(&store.not_before) && now <= after;
}

size_t pl_certstore_pairs_alive(void)
{
    return atomic_load(&store.alive);
}

int pl_certstore_acquire(void **hold, gnutls_pcert_st **pcert, unsigned int *pcert_length,
                         gnutls_privkey_t *privkey)
{
    pthread_mutex_lock(&store.lock);
    struct pair *p = store.current ? pair_ref(store.current) : NULL;
    pthread_mutex_unlock(&store.lock);
    if (!p) {
        return -1;
    }
    pair_unref(*hold);
    *hold = p;
    *pcert = p->chain;
    *pcert_length = p->chain_len;
    *privkey = p->key;
    return 0;
}

void pl_certstore_release(void *hold)
{
    pair_unref(hold);
}

void pl_certstore_finish(void)
{
    pthread_mutex_lock(&store.lock);
    struct pair *p = store.current;
    store.current = NULL;
    pthread_mutex_unlock(&store.lock);
    pair_unref(p);
    free(store.cert_path);
    free(store.key_path);
    store.cert_path = store.key_path = NULL;
    store.retry_at = 0;
    atomic_store(&store.not_before, 0);
    atomic_store(&store.not_after, 0);
}
