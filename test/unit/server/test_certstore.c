/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of server/certstore.c: a pair handed to a handshake outlives any
 * number of rotations and is freed when its holder lets go (no fixed retire
 * ring), the store's own reference goes at finish, and a certificate outside
 * its validity window is refused on reload (the old pair stays) while a
 * not-yet-valid one is tried again at its notBefore. Pairs come from
 * pl_certs_generate() in a temporary directory.
 */
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "certs/generate.h"

/* The .c is included to reach check_validity() and the store's retry time. */
#include "server/certstore.c"

static char dir[64];
static char cert_path[128], key_path[128];

/* Generates pair n under dir/genN. */
static void generate(int n)
{
    char out[128];
    snprintf(out, sizeof(out), "%s/gen%d", dir, n);
    struct pl_certs_request req = {
        .service = "plimsoll", .namespace_ = "test", .out_dir = out, .days = 2};
    struct pl_error err;
    pl_error_init(&err);
    assert_int_equal(pl_certs_generate(&req, &err), 0);
}

/* Makes pair n the served files: new inodes, renamed into place. */
static void publish(int n)
{
    const char *names[] = {"tls.crt", "tls.key"};
    const char *dst[] = {cert_path, key_path};
    for (int i = 0; i < 2; i++) {
        char src[160], tmp[160];
        snprintf(src, sizeof(src), "%s/gen%d/%s", dir, n, names[i]);
        snprintf(tmp, sizeof(tmp), "%s.tmp", dst[i]);
        FILE *in = fopen(src, "rb");
        FILE *out = fopen(tmp, "wb");
        assert_non_null(in);
        assert_non_null(out);
        char buf[4096];
        size_t len;
        while ((len = fread(buf, 1, sizeof(buf), in)) > 0) {
            assert_int_equal(fwrite(buf, 1, len, out), len);
        }
        fclose(in);
        fclose(out);
        assert_int_equal(rename(tmp, dst[i]), 0);
    }
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/plimsoll-certstore-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(cert_path, sizeof(cert_path), "%s/tls.crt", dir);
    snprintf(key_path, sizeof(key_path), "%s/tls.key", dir);
    generate(1);
    generate(2);
    return 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    (void)state;
    return nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void test_held_pair_outlives_rotations(void **state)
{
    (void)state;
    struct pl_error err;
    pl_error_init(&err);
    publish(1);
    assert_int_equal(pl_certstore_init(cert_path, key_path, &err), 0);
    assert_int_equal(pl_certstore_pairs_alive(), 1);
    assert_true(pl_certstore_valid_now());

    void *held = NULL;
    gnutls_pcert_st *pcert = NULL;
    unsigned n = 0;
    gnutls_privkey_t key = NULL;
    assert_int_equal(pl_certstore_acquire(&held, &pcert, &n, &key), 0);
    assert_non_null(held);
    assert_true(n >= 1);
    gnutls_privkey_t first_key = key;

    /* Far more rotations than the old 16-entry ring: the held pair stays. */
    for (int i = 0; i < 40; i++) {
        publish(2 - i % 2);
        assert_int_equal(pl_certstore_reload_if_changed(&err), 1);
        assert_int_equal(pl_certstore_pairs_alive(), 2); /* in force + held */
    }
    assert_int_equal(pl_certstore_reload_if_changed(&err), 0); /* nothing changed */
    /* Still usable: the key the handshake was given has not been freed. */
    assert_int_equal(gnutls_privkey_get_pk_algorithm(first_key, NULL), GNUTLS_PK_ECDSA);

    /* A renegotiation swaps the hold to the pair in force. */
    void *held2 = NULL;
    assert_int_equal(pl_certstore_acquire(&held2, &pcert, &n, &key), 0);
    assert_int_equal(pl_certstore_acquire(&held, &pcert, &n, &key), 0);
    assert_ptr_equal(held, held2);
    assert_int_equal(pl_certstore_pairs_alive(), 1);
    pl_certstore_release(held);
    pl_certstore_release(held2);
    pl_certstore_release(NULL);
    assert_int_equal(pl_certstore_pairs_alive(), 1);

    /* A session that outlives finish (never in the server) still frees its pair. */
    held = NULL;
    assert_int_equal(pl_certstore_acquire(&held, &pcert, &n, &key), 0);
    pl_certstore_finish();
    assert_int_equal(pl_certstore_pairs_alive(), 1);
    pl_certstore_release(held);
    assert_int_equal(pl_certstore_pairs_alive(), 0);
    held = NULL;
    assert_int_equal(pl_certstore_acquire(&held, &pcert, &n, &key), -1);
}

static void test_validity_window(void **state)
{
    (void)state;
    struct pl_error err;
    pl_error_init(&err);
    static char name[] = "tls.crt";
    store.cert_path = name;
    struct pair p = {.not_before = 1000, .not_after = 2000};
    store.retry_at = 0;
    assert_int_equal(check_validity(&p, 1500, &err), 0);
    assert_int_equal(check_validity(&p, 2001, &err), -EINVAL);
    assert_non_null(strstr(err.message, "has expired: notAfter 1970-01-01T00:33:20Z"));
    assert_int_equal(store.retry_at, 0); /* an expired certificate is not retried */
    assert_int_equal(check_validity(&p, 999, &err), -EINVAL);
    assert_non_null(strstr(err.message, "is not valid yet: notBefore 1970-01-01T00:16:40Z"));
    assert_int_equal(store.retry_at, 1000);
    store.cert_path = NULL;
    store.retry_at = 0;
}

static void test_retry_without_file_change(void **state)
{
    (void)state;
    struct pl_error err;
    pl_error_init(&err);
    publish(1);
    assert_int_equal(pl_certstore_init(cert_path, key_path, &err), 0);
    assert_int_equal(pl_certstore_reload_if_changed(&err), 0);
    /* As after a refused not-yet-valid certificate whose notBefore has passed. */
    store.retry_at = time(NULL) - 1;
    assert_int_equal(pl_certstore_reload_if_changed(&err), 1);
    assert_int_equal(store.retry_at, 0);
    assert_int_equal(pl_certstore_reload_if_changed(&err), 0);
    /* Not yet due: nothing happens. */
    store.retry_at = time(NULL) + 3600;
    assert_int_equal(pl_certstore_reload_if_changed(&err), 0);
    store.retry_at = 0;
    pl_certstore_finish();
    assert_int_equal(pl_certstore_pairs_alive(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_held_pair_outlives_rotations),
        cmocka_unit_test(test_validity_window),
        cmocka_unit_test(test_retry_without_file_change),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
