/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Certificate generation with OpenSSL 3 (see generate.h).
 */
#include "certs/generate.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/buf.h"
#include "core/file.h"

/* A CA certificate or key file is a few kilobytes; refuse anything larger unread. */
#define MAX_CA_FILE (1024u * 1024u)

static EVP_PKEY *new_p256_key(void)
{
    return EVP_EC_gen("P-256");
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ext) {
        return -EINVAL;
    }
    int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : -EINVAL;
}

static int random_serial(X509 *cert)
{
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
        return -EIO;
    }
    bytes[0] &= 0x7F; /* positive */
    BIGNUM *bn = BN_bin2bn(bytes, sizeof(bytes), NULL);
    int ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != NULL;
    BN_free(bn);
    return ok ? 0 : -EIO;
}

/* A certificate for key, named cn, signed by issuer_key (self-signed when issuer is NULL). */
static X509 *new_cert(EVP_PKEY *key, const char *cn, int days, X509 *issuer, EVP_PKEY *issuer_key)
{
    X509 *cert = X509_new();
    if (!cert || X509_set_version(cert, 2) != 1 || random_serial(cert) < 0) {
        goto fail;
    }
    X509_gmtime_adj(X509_getm_notBefore(cert), -300); /* tolerate clock skew */
    X509_gmtime_adj(X509_getm_notAfter(cert), (long)days * 24 * 3600);
    X509_set_pubkey(cert, key);
    X509_NAME *name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name);
    return cert;
fail:
    X509_free(cert);
    (void)issuer_key;
    return NULL;
}

static bool is_ip(const char *s)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static bool valid_dns_label_chars(const char *s)
{
    if (!*s || strlen(s) > 253) {
        return false;
    }
    for (const char *p = s; *p; p++) {
        char ch = *p;
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '*';
        if (!ok) {
            return false;
        }
    }
    return true;
}

static int build_san(const struct pl_certs_request *req, struct pl_buf *san, struct pl_error *err)
{
    const char *svc = req->service, *ns = req->namespace_;
    int r = pl_buf_printf(san, "DNS:%s.%s.svc,DNS:%s.%s.svc.cluster.local,DNS:%s,DNS:%s.%s", svc,
                          ns, svc, ns, svc, svc, ns);
    for (size_t i = 0; r == 0 && req->extra_san && req->extra_san[i]; i++) {
        const char *name = req->extra_san[i];
        if (is_ip(name)) {
            r = pl_buf_printf(san, ",IP:%s", name);
        } else if (valid_dns_label_chars(name)) {
            r = pl_buf_printf(san, ",DNS:%s", name);
        } else {
            return pl_error_set(err, "--dns", 0, "\"%s\" is neither a DNS name nor an IP address",
                                name);
        }
    }
    if (r < 0) {
        return pl_error_set(err, "--dns", 0, "too many names");
    }
    return 0;
}

/* Writes PEM data through a temporary file and rename(2); mode applies to the new file. */
static int write_pem(const char *dir, const char *name, mode_t mode, X509 *cert, EVP_PKEY *key,
                     struct pl_error *err)
{
    char tmp[4096], path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) {
        pl_error_set(err, "", 0, "cannot write %s: %s", tmp, strerror(errno));
        return -EIO;
    }
    (void)fchmod(fd, mode); /* open(2) honours the umask; the key must be exactly 0600 */
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        pl_error_set(err, "", 0, "cannot write %s: %s", tmp, strerror(errno));
        return -EIO;
    }
    int ok =
        cert ? PEM_write_X509(f, cert) : PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
    if (fclose(f) != 0 || !ok || rename(tmp, path) != 0) {
        unlink(tmp);
        pl_error_set(err, "", 0, "cannot write %s", path);
        return -EIO;
    }
    return 0;
}

/* mkdir -p: creates dir and any missing parents (mode 0700); errno on failure. */
static int make_dirs(const char *dir)
{
    char path[4096];
    int n = snprintf(path, sizeof(path), "%s", dir);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') {
            continue;
        }
        *p = '\0';
        if (mkdir(path, 0700) < 0 && errno != EEXIST) {
            return -1;
        }
        *p = '/';
    }
    if (mkdir(path, 0700) < 0 && errno != EEXIST) {
        return -1;
    }
    return 0;
}

static int check_request(const struct pl_certs_request *req, struct pl_error *err)
{
    if (!req->service || !valid_dns_label_chars(req->service) || strchr(req->service, '.')) {
        return pl_error_set(err, "--service", 0, "a Service name (DNS label) is required");
    }
    if (!req->namespace_ || !valid_dns_label_chars(req->namespace_) ||
        strchr(req->namespace_, '.')) {
        return pl_error_set(err, "--namespace", 0, "a namespace name (DNS label) is required");
    }
    if (!req->out_dir || !*req->out_dir) {
        return pl_error_set(err, "--out", 0, "an output directory is required");
    }
    if (req->days < 1 || req->days > 36500) {
        return pl_error_set(err, "--days", 0, "must be from 1 to 36500");
    }
    if (!req->ca_cert_path != !req->ca_key_path) {
        return pl_error_set(err, req->ca_cert_path ? "--ca-key" : "--ca-cert", 0,
                            "--ca-cert and --ca-key go together");
    }
    if (req->ca_cert_path && req->write_ca_key) {
        return pl_error_set(err, "--write-ca-key", 0,
                            "only a new CA's key is written; the given one is in %s",
                            req->ca_key_path);
    }
    return 0;
}

/* A new self-signed CA (key and certificate) valid for req->days. */
static int new_ca(const struct pl_certs_request *req, X509 **ret_ca, EVP_PKEY **ret_key,
                  struct pl_error *err)
{
    EVP_PKEY *key = new_p256_key();
    X509 *ca = NULL;
    char cn[300];
    snprintf(cn, sizeof(cn), "plimsoll-ca %s.%s", req->service, req->namespace_);
    if (key) {
        ca = new_cert(key, cn, req->days, NULL, NULL);
    }
    if (!ca || add_ext(ca, ca, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") < 0 ||
        add_ext(ca, ca, NID_key_usage, "critical,keyCertSign,cRLSign") < 0 ||
        add_ext(ca, ca, NID_subject_key_identifier, "hash") < 0 ||
        X509_sign(ca, key, EVP_sha256()) == 0) {
        X509_free(ca);
        EVP_PKEY_free(key);
        return pl_error_set(err, "", 0, "cannot build the CA certificate");
    }
    *ret_ca = ca;
    *ret_key = key;
    return 0;
}

/* Reads one PEM object of path: a certificate (want_key false) or a private key. */
static void *read_pem(const char *path, const char *flag, bool want_key, struct pl_error *err)
{
    char *text = NULL;
    size_t len = 0;
    if (pl_file_read(path, MAX_CA_FILE, &text, &len, err) < 0) {
        return NULL;
    }
    BIO *bio = BIO_new_mem_buf(text, (int)len);
    void *v = NULL;
    if (bio) {
        v = want_key ? (void *)PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)
                     : (void *)PEM_read_bio_X509(bio, NULL, NULL, NULL);
    }
    BIO_free(bio);
    free(text);
    if (!v) {
        pl_error_set(err, flag, 0, "%s holds no PEM %s", path,
                     want_key ? "private key (an encrypted key is not supported)" : "certificate");
    }
    return v;
}

/* Loads the CA of req->ca_cert_path/ca_key_path and checks that it can sign
 * a serving certificate valid for req->days: a CA, its own key, valid now and
 * until after the serving certificate expires. */
static int load_ca(const struct pl_certs_request *req, X509 **ret_ca, EVP_PKEY **ret_key,
                   struct pl_error *err)
{
    X509 *ca = read_pem(req->ca_cert_path, "--ca-cert", false, err);
    EVP_PKEY *key = ca ? read_pem(req->ca_key_path, "--ca-key", true, err) : NULL;
    int r = -EINVAL;
    if (!ca || !key) {
        goto fail;
    }
    if (X509_check_ca(ca) != 1) {
        pl_error_set(err, "--ca-cert", 0, "%s is not a CA certificate (basicConstraints CA:TRUE)",
                     req->ca_cert_path);
        goto fail;
    }
    if (X509_check_private_key(ca, key) != 1) {
        pl_error_set(err, "--ca-key", 0, "%s is not the key of the CA in %s", req->ca_key_path,
                     req->ca_cert_path);
        goto fail;
    }
    if (X509_cmp_current_time(X509_get0_notBefore(ca)) > 0 ||
        X509_cmp_current_time(X509_get0_notAfter(ca)) < 0) {
        pl_error_set(err, "--ca-cert", 0, "the CA in %s is expired or not valid yet",
                     req->ca_cert_path);
        goto fail;
    }
    time_t until = time(NULL) + (time_t)req->days * 24 * 3600;
    if (X509_cmp_time(X509_get0_notAfter(ca), &until) < 0) {
        pl_error_set(err, "--days", 0,
                     "the CA in %s expires before a certificate valid for %d days would: "
                     "ask for fewer --days, or rotate to a new CA",
                     req->ca_cert_path, req->days);
        goto fail;
    }
    *ret_ca = ca;
    *ret_key = key;
    return 0;
fail:
    X509_free(ca);
    EVP_PKEY_free(key);
    return r;
}

int pl_certs_generate(const struct pl_certs_request *req, struct pl_error *err)
{
    EVP_PKEY *ca_key = NULL, *key = NULL;
    X509 *ca = NULL, *cert = NULL;
    struct pl_buf san;
    pl_buf_init(&san, 16384);
    int r = check_request(req, err);
    if (r < 0) {
        goto out;
    }
    r = build_san(req, &san, err);
    if (r < 0) {
        goto out;
    }
    if (make_dirs(req->out_dir) < 0) {
        pl_error_set(err, "--out", 0, "cannot create %s: %s", req->out_dir, strerror(errno));
        r = -EIO;
        goto out;
    }
    r = req->ca_cert_path ? load_ca(req, &ca, &ca_key, err) : new_ca(req, &ca, &ca_key, err);
    if (r < 0) {
        goto out;
    }
    r = -EIO;
    key = new_p256_key();
    if (!key) {
        pl_error_set(err, "", 0, "cannot generate an ECDSA P-256 key");
        goto out;
    }
    char cn[300];
    snprintf(cn, sizeof(cn), "%s.%s.svc", req->service, req->namespace_);
    cert = new_cert(key, cn, req->days, ca, ca_key);
    if (!cert || add_ext(cert, ca, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
        add_ext(cert, ca, NID_key_usage, "critical,digitalSignature") < 0 ||
        add_ext(cert, ca, NID_ext_key_usage, "serverAuth") < 0 ||
        add_ext(cert, ca, NID_authority_key_identifier, "keyid") < 0 ||
        add_ext(cert, ca, NID_subject_alt_name, pl_buf_str(&san)) < 0 ||
        X509_sign(cert, ca_key, EVP_sha256()) == 0) {
        pl_error_set(err, "", 0, "cannot build the serving certificate");
        goto out;
    }
    r = write_pem(req->out_dir, "ca.crt", 0644, ca, NULL, err);
    if (r == 0 && req->write_ca_key && !req->ca_cert_path) {
        r = write_pem(req->out_dir, "ca.key", 0600, NULL, ca_key, err);
    }
    if (r == 0) {
        r = write_pem(req->out_dir, "tls.key", 0600, NULL, key, err);
    }
    if (r == 0) {
        r = write_pem(req->out_dir, "tls.crt", 0644, cert, NULL, err);
    }
out:
    X509_free(ca);
    X509_free(cert);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(key);
    pl_buf_finish(&san);
    return r;
}
