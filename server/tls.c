/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Serving certificate loading and validation with GnuTLS, the library
 * libmicrohttpd serves TLS with (see tls.h).
 */
#include "server/tls.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "core/buf.h"

int pl_read_file(const char *path, size_t max, char **ret, struct pl_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        pl_error_set(err, "", 0, "cannot open %s: %s", path, strerror(errno));
        return -EIO;
    }
    struct pl_buf b;
    pl_buf_init(&b, max);
    int r = 0;
    for (;;) {
        char chunk[16384];
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            pl_error_set(err, "", 0, "cannot read %s: %s", path, strerror(errno));
            r = -EIO;
            break;
        }
        if (n == 0) {
            break;
        }
        if (pl_buf_append(&b, chunk, (size_t)n) < 0) {
            pl_error_set(err, "", 0, "%s is larger than %zu bytes", path, max);
            r = -EIO;
            break;
        }
    }
    close(fd);
    if (r == 0) {
        *ret = pl_buf_steal(&b);
    }
    pl_buf_finish(&b);
    return r;
}

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
    int r = pl_read_file(cert_path, PL_TLS_MAX_PEM, &f.cert_pem, err);
    if (r == 0) {
        r = pl_read_file(key_path, PL_TLS_MAX_PEM, &f.key_pem, err);
    }
    if (r == 0 && client_ca_path) {
        r = pl_read_file(client_ca_path, PL_TLS_MAX_PEM, &f.ca_pem, err);
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
