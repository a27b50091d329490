/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Serving certificate loading and validation with GnuTLS, the library
 * libmicrohttpd serves TLS with (see tls.h).
 */
#include "server/tls.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "core/file.h"

static int check_pair(struct pl_tls_files *f, const char *cert_path, const char *key_path,
                      struct pl_error *err)
{
    gnutls_certificate_credentials_t creds = NULL;
    gnutls_x509_crt_t crt = NULL;
    int r = -EINVAL;
    gnutls_datum_t cert = {(unsigned char *)f->cert_pem, (unsigned)strlen(f->cert_pem)};
    gnutls_datum_t key = {(unsigned char *)f->key_pem, (unsigned)strlen(f->key_pem)};
    if (gnutls_certificate_allocate_credentials(&creds) < 0) {
        pl_error_set(err, "", 0, "cannot allocate TLS credentials");
        goto out;
    }
    int rc = gnutls_certificate_set_x509_key_mem2(creds, &cert, &key, GNUTLS_X509_FMT_PEM, NULL, 0);
    if (rc < 0) {
        pl_error_set(err, "", 0, "%s and %s do not form a usable certificate and key: %s",
                     cert_path, key_path, gnutls_strerror(rc));
        goto out;
    }
    if (gnutls_x509_crt_init(&crt) < 0 ||
        gnutls_x509_crt_import(crt, &cert, GNUTLS_X509_FMT_PEM) < 0) {
        pl_error_set(err, "", 0, "%s holds no PEM certificate", cert_path);
        goto out;
    }
    f->not_before = gnutls_x509_crt_get_activation_time(crt);
    f->not_after = gnutls_x509_crt_get_expiration_time(crt);
    r = 0;
out:
    if (crt) {
        gnutls_x509_crt_deinit(crt);
    }
    if (creds) {
        gnutls_certificate_free_credentials(creds);
    }
    return r;
}

int pl_tls_files_load(const char *cert_path, const char *key_path, const char *client_ca_path,
                      struct pl_tls_files *ret, struct pl_error *err)
{
    struct pl_tls_files f = {0};
    int r = pl_file_read(cert_path, PL_TLS_MAX_PEM, &f.cert_pem, NULL, err);
    if (r == 0) {
        r = pl_file_read(key_path, PL_TLS_MAX_PEM, &f.key_pem, NULL, err);
    }
    if (r == 0 && client_ca_path) {
        r = pl_file_read(client_ca_path, PL_TLS_MAX_PEM, &f.ca_pem, NULL, err);
    }
    if (r == 0) {
        r = check_pair(&f, cert_path, key_path, err);
    }
    if (r < 0) {
        pl_tls_files_finish(&f);
        return r;
    }
    *ret = f;
    return 0;
}

void pl_tls_files_finish(struct pl_tls_files *f)
{
    if (!f) {
        return;
    }
    free(f->cert_pem);
    free(f->key_pem);
    free(f->ca_pem);
    f->cert_pem = f->key_pem = f->ca_pem = NULL;
}
