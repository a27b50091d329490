/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of certs/generate.c: the three files appear with the right
 * modes (tls.key exactly 0600 whatever the umask), the CA verifies the
 * serving certificate for serverAuth, the key matches the certificate, the
 * SANs are the four Service names plus the extra DNS names and IP
 * addresses, validity follows --days, no temporary file is left behind,
 * and bad requests are refused with the flag they concern.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "certs/generate.h"

struct dir {
    char path[64];
};

static void make_dir(struct dir *d)
{
    snprintf(d->path, sizeof(d->path), "/tmp/pl-test-certs-XXXXXX");
    assert_non_null(mkdtemp(d->path));
}

/* Removes the files the generator writes and the directory (and out/ below it). */
static void remove_dir(const char *path)
{
    DIR *dir = opendir(path);
    if (!dir) {
        return;
    }
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        char child[512];
        snprintf(child, sizeof(child), "%s/%s", path, e->d_name);
        struct stat st;
        if (lstat(child, &st) == 0 && S_ISDIR(st.st_mode)) {
            remove_dir(child);
        } else {
            unlink(child);
        }
    }
    closedir(dir);
    rmdir(path);
}

static X509 *read_cert(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    X509 *cert = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(cert);
    return cert;
}

static EVP_PKEY *read_key(const char *dir)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/tls.key", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    EVP_PKEY *key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(key);
    return key;
}

static mode_t file_mode(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_mode & 07777;
}

/* The SANs of cert as "DNS:a,IP:1.2.3.4,..." in certificate order. */
static void sans(X509 *cert, char *out, size_t size)
{
    GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    assert_non_null(names);
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *n = sk_GENERAL_NAME_value(names, i);
        char item[128];
        if (n->type == GEN_DNS) {
            snprintf(item, sizeof(item), "DNS:%s",
                     (const char *)ASN1_STRING_get0_data(n->d.dNSName));
        } else if (n->type == GEN_IPADD) {
            const unsigned char *ip = ASN1_STRING_get0_data(n->d.iPAddress);
            int iplen = ASN1_STRING_length(n->d.iPAddress);
            if (iplen == 4) {
                snprintf(item, sizeof(item), "IP:%u.%u.%u.%u", ip[0], ip[1], ip[2], ip[3]);
            } else {
                snprintf(item, sizeof(item), "IP6:%d", iplen);
            }
        } else {
            snprintf(item, sizeof(item), "OTHER");
        }
        int n_written = snprintf(out + len, size - len, "%s%s", len ? "," : "", item);
        assert_true(n_written > 0 && (size_t)n_written < size - len);
        len += (size_t)n_written;
    }
    GENERAL_NAMES_free(names);
}

static void test_generate_and_verify(void **state)
{
    (void)state;
    struct dir d;
    make_dir(&d);
    char out[128];
    snprintf(out, sizeof(out), "%s/out", d.path); /* created by the generator */
    const char *extra[] = {"webhook.example.com", "10.0.0.7", "::1", NULL};
    struct pl_certs_request req = {
        .service = "plimsoll",
        .namespace_ = "plimsoll-system",
        .out_dir = out,
        .days = 30,
        .extra_san = extra,
    };
    mode_t old_umask = umask(0); /* the key must be 0600 even so */
    struct pl_error err;
    pl_error_init(&err);
    int r = pl_certs_generate(&req, &err);
    umask(old_umask);
    if (r != 0) {
        fail_msg("generate: %s: %s", err.path, err.message);
    }

    struct stat st;
    assert_int_equal(stat(out, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_int_equal(file_mode(out, "tls.key"), 0600);
    assert_int_equal(file_mode(out, "tls.crt"), 0644);
    assert_int_equal(file_mode(out, "ca.crt"), 0644);

    /* No temporaries left. */
    DIR *dir = opendir(out);
    assert_non_null(dir);
    struct dirent *e;
    size_t files = 0;
    while ((e = readdir(dir)) != NULL) {
        if (e->d_name[0] == '.') {
            assert_true(strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0);
            continue;
        }
        files++;
    }
    closedir(dir);
    assert_int_equal(files, 3);

    X509 *ca = read_cert(out, "ca.crt");
    X509 *cert = read_cert(out, "tls.crt");
    EVP_PKEY *key = read_key(out);

    /* The key is P-256 and belongs to the serving certificate. */
    assert_int_equal(EVP_PKEY_get_base_id(key), EVP_PKEY_EC);
    assert_int_equal(EVP_PKEY_get_bits(key), 256);
    assert_int_equal(X509_check_private_key(cert, key), 1);

    /* The CA is a CA, the serving certificate is not. */
    assert_int_equal(X509_check_ca(ca), 1);
    assert_int_equal(X509_check_ca(cert), 0);

    /* The CA verifies the certificate, for a TLS server. */
    X509_STORE *store = X509_STORE_new();
    assert_int_equal(X509_STORE_add_cert(store, ca), 1);
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    assert_int_equal(X509_STORE_CTX_init(ctx, store, cert, NULL), 1);
    X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
    X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set1_host(param, "plimsoll.plimsoll-system.svc", 0);
    int ok = X509_verify_cert(ctx);
    if (ok != 1) {
        fail_msg("verify: %s", X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
    }
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);

    /* Every Service name, then the extras in order. */
    char names[1024];
    sans(cert, names, sizeof(names));
    assert_string_equal(names, "DNS:plimsoll.plimsoll-system.svc,"
                               "DNS:plimsoll.plimsoll-system.svc.cluster.local,"
                               "DNS:plimsoll,DNS:plimsoll.plimsoll-system,"
                               "DNS:webhook.example.com,IP:10.0.0.7,IP6:16");
    assert_int_equal(
        X509_check_host(cert, "plimsoll.plimsoll-system.svc.cluster.local", 0, 0, NULL), 1);
    assert_int_equal(X509_check_ip_asc(cert, "10.0.0.7", 0), 1);
    assert_int_equal(X509_check_ip_asc(cert, "::1", 0), 1);
    assert_int_equal(X509_check_host(cert, "other.plimsoll-system.svc", 0, 0, NULL), 0);

    /* Subject CN and issuer. */
    char cn[256];
    assert_true(
        X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof(cn)) > 0);
    assert_string_equal(cn, "plimsoll.plimsoll-system.svc");
    assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(cert), X509_get_subject_name(ca)), 0);

    /* Valid now, for about 30 days (5 minutes of clock skew allowed before). */
    time_t now = time(NULL);
    assert_true(X509_cmp_time(X509_get0_notBefore(cert), &now) < 0);
    time_t in_29_days = now + 29 * 86400;
    time_t in_31_days = now + 31 * 86400;
    assert_true(X509_cmp_time(X509_get0_notAfter(cert), &in_29_days) > 0);
    assert_true(X509_cmp_time(X509_get0_notAfter(cert), &in_31_days) < 0);
    assert_true(X509_cmp_time(X509_get0_notAfter(ca), &in_29_days) > 0);

    /* Distinct random serials. */
    assert_int_not_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(ca), X509_get0_serialNumber(cert)),
                         0);

    X509_free(ca);
    X509_free(cert);
    EVP_PKEY_free(key);
    remove_dir(d.path);
}

static void test_regenerate_replaces_files(void **state)
{
    (void)state;
    struct dir d;
    make_dir(&d);
    struct pl_certs_request req = {
        .service = "svc", .namespace_ = "ns", .out_dir = d.path, .days = 1};
    struct pl_error err;
    pl_error_init(&err);
    assert_int_equal(pl_certs_generate(&req, &err), 0);
    X509 *first = read_cert(d.path, "tls.crt");
    assert_int_equal(pl_certs_generate(&req, &err), 0); /* existing directory and files */
    X509 *second = read_cert(d.path, "tls.crt");
    assert_int_not_equal(X509_cmp(first, second), 0);
    assert_int_equal(file_mode(d.path, "tls.key"), 0600);
    char names[512];
    sans(second, names, sizeof(names));
    assert_string_equal(names, "DNS:svc.ns.svc,DNS:svc.ns.svc.cluster.local,DNS:svc,DNS:svc.ns");
    X509_free(first);
    X509_free(second);
    remove_dir(d.path);
}

static void generate_fails(const struct pl_certs_request *req, int code, const char *path)
{
    struct pl_error err;
    pl_error_init(&err);
    int r = pl_certs_generate(req, &err);
    if (r != code || strcmp(err.path, path) != 0) {
        fail_msg("expected %d at %s, got %d at %s: %s", code, path, r, err.path, err.message);
    }
    assert_true(err.message[0] != '\0');
}

static void test_bad_requests(void **state)
{
    (void)state;
    struct dir d;
    make_dir(&d);
    const struct pl_certs_request good = {
        .service = "svc", .namespace_ = "ns", .out_dir = d.path, .days = 365};
    struct pl_certs_request req;

    req = good;
    req.service = NULL;
    generate_fails(&req, -EINVAL, "--service");
    req.service = "";
    generate_fails(&req, -EINVAL, "--service");
    req.service = "a.b"; /* a DNS label, not a name */
    generate_fails(&req, -EINVAL, "--service");
    req.service = "svc name";
    generate_fails(&req, -EINVAL, "--service");
    req.service = "svc,DNS:evil.example.com"; /* no SAN injection */
    generate_fails(&req, -EINVAL, "--service");

    req = good;
    req.namespace_ = NULL;
    generate_fails(&req, -EINVAL, "--namespace");
    req.namespace_ = "a.b";
    generate_fails(&req, -EINVAL, "--namespace");
    req.namespace_ = "ns/x";
    generate_fails(&req, -EINVAL, "--namespace");

    req = good;
    req.out_dir = NULL;
    generate_fails(&req, -EINVAL, "--out");
    req.out_dir = "";
    generate_fails(&req, -EINVAL, "--out");

    req = good;
    req.days = 0;
    generate_fails(&req, -EINVAL, "--days");
    req.days = -1;
    generate_fails(&req, -EINVAL, "--days");
    req.days = 36501;
    generate_fails(&req, -EINVAL, "--days");

    const char *bad_extra[][2] = {
        {"ok.example.com", "bad name"},
        {"x,DNS:evil.example.com", NULL},
        {"", NULL},
        {"host:8443", NULL},
        {"300.1.1.1/32", NULL},
    };
    for (size_t i = 0; i < sizeof(bad_extra) / sizeof(bad_extra[0]); i++) {
        const char *extra[3] = {bad_extra[i][0], bad_extra[i][1], NULL};
        req = good;
        req.extra_san = extra;
        generate_fails(&req, -EINVAL, "--dns");
    }

    /* Nothing was written by the refused requests. */
    char path[128];
    snprintf(path, sizeof(path), "%s/tls.key", d.path);
    assert_int_not_equal(access(path, F_OK), 0);

    /* Missing parents are created (mkdir -p); a directory under a regular file
     * cannot be: -EIO. */
    req = good;
    snprintf(path, sizeof(path), "%s/missing/deeper", d.path);
    req.out_dir = path;
    struct pl_error ok_err;
    pl_error_init(&ok_err);
    assert_int_equal(pl_certs_generate(&req, &ok_err), 0);
    snprintf(path, sizeof(path), "%s/missing/deeper/tls.key/sub", d.path);
    generate_fails(&req, -EIO, "--out");
    remove_dir(d.path);
}

static void test_edge_days(void **state)
{
    (void)state;
    struct dir d;
    make_dir(&d);
    struct pl_certs_request req = {
        .service = "svc", .namespace_ = "ns", .out_dir = d.path, .days = 36500};
    struct pl_error err;
    pl_error_init(&err);
    assert_int_equal(pl_certs_generate(&req, &err), 0);
    X509 *cert = read_cert(d.path, "tls.crt");
    time_t in_99_years = time(NULL) + (time_t)99 * 365 * 86400;
    assert_true(X509_cmp_time(X509_get0_notAfter(cert), &in_99_years) > 0);
    X509_free(cert);
    remove_dir(d.path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generate_and_verify),
        cmocka_unit_test(test_regenerate_replaces_files),
        cmocka_unit_test(test_bad_requests),
        cmocka_unit_test(test_edge_days),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
