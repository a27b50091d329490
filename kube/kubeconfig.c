/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kubeconfig and in-cluster credentials (see kubeconfig.h).
 *
 * The YAML goes through pl_yaml_load(); the fields are then looked up the way
 * client-go's clientcmd does: current-context -> contexts[name] -> cluster and
 * user entries by name. Inline -data fields are base64 (decoded strictly);
 * file fields are recorded as paths and read by pl_kube_credentials_refresh()
 * so that a rotated file is picked up on the next connection.
 */
#include "kube/kubeconfig.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <jansson.h>

#include "core/alloc.h"
#include "core/base64.h"
#include "core/buf.h"
#include "core/file.h"
#include "core/json.h"
#include "core/yaml.h"

void pl_kube_credentials_init(struct pl_kube_credentials *c)
{
    memset(c, 0, sizeof(*c));
}

static void pem_finish(struct pl_kube_pem *p)
{
    free(p->path);
    free(p->data);
    memset(p, 0, sizeof(*p));
}

void pl_kube_credentials_finish(struct pl_kube_credentials *c)
{
    if (!c) {
        return;
    }
    free(c->server);
    pem_finish(&c->ca);
    pem_finish(&c->cert);
    pem_finish(&c->key);
    free(c->token);
    free(c->token_file);
    free(c->proxy_url);
    free(c->source);
    pl_kube_credentials_init(c);
}

/* A copy of path, joined to base_dir when path is relative (and base_dir is set). */
static char *resolve_path(const char *base_dir, const char *path)
{
    if (path[0] == '/' || !base_dir || !*base_dir) {
        return pl_xstrdup(path);
    }
    struct pl_buf b;
    pl_buf_init(&b, (size_t)PATH_MAX * 2);
    if (pl_buf_printf(&b, "%s/%s", base_dir, path) < 0) {
        pl_buf_finish(&b);
        return NULL;
    }
    return pl_buf_steal(&b);
}

/* Whether s can go in an HTTP header value as a token: visible ASCII only. */
static bool token_chars_ok(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x21 || ch > 0x7e) {
            return false;
        }
    }
    return true;
}

/*
 * Finds the entry named name in root[list] (a list of {name, <inner>: {...}})
 * and points *ret at its inner mapping (borrowed; NULL when the entry has none,
 * which reads as an empty mapping), writing the entry's field path
 * ("clusters[2].cluster") to path. Returns 0, or -EINVAL with err filled.
 */
static int find_named(const json_t *root, const char *list, const char *inner, const char *name,
                      char *path, size_t path_size, const json_t **ret, struct pl_error *err)
{
    const json_t *arr = pl_json_array(root, list);
    size_t i;
    const json_t *entry;
    json_array_foreach(arr, i, entry)
    {
        const char *n = pl_json_string(entry, "name");
        if (!n || strcmp(n, name) != 0) {
            continue;
        }
        snprintf(path, path_size, "%s[%zu].%s", list, i, inner);
        const json_t *obj = json_object_get(entry, inner);
        if (obj && !json_is_null(obj) && !json_is_object(obj)) {
            return pl_error_set(err, path, 0, "must be a mapping");
        }
        *ret = json_is_object(obj) ? obj : NULL;
        return 0;
    }
    return pl_error_set(err, list, 0, "no entry named \"%s\"", name);
}

/* Optional string field: NULL when absent or null; -EINVAL (err) when of another type. */
static int opt_string(const json_t *obj, const char *key, const char *base, const char **ret,
                      struct pl_error *err)
{
    const json_t *v = json_object_get(obj, key);
    *ret = NULL;
    if (!v || json_is_null(v)) {
        return 0;
    }
    if (!json_is_string(v)) {
        char path[300];
        snprintf(path, sizeof(path), "%s.%s", base, key);
        return pl_error_set(err, path, 0, "must be a string");
    }
    *ret = json_string_value(v);
    if (!**ret) {
        *ret = NULL; /* "" means unset, as in client-go */
    }
    return 0;
}

/*
 * Whether data holds at least one X.509 certificate in PEM form that GnuTLS
 * can decode, and nothing it cannot. A CA that is not PEM must fail at start
 * (load time), not at the first connection to the API server.
 */
static bool pem_certificates_ok(const char *data, size_t len)
{
    gnutls_x509_crt_t *list = NULL;
    unsigned n = 0;
    gnutls_datum_t d = {(unsigned char *)(uintptr_t)data, (unsigned)len};
    if (len == 0 || len > PL_KUBE_PEM_MAX ||
        gnutls_x509_crt_list_import2(&list, &n, &d, GNUTLS_X509_FMT_PEM, 0) < 0) {
        return false;
    }
    for (unsigned i = 0; i < n; i++) {
        gnutls_x509_crt_deinit(list[i]);
    }
    gnutls_free(list);
    return n > 0;
}

/*
 * Fills pem from a file field and a -data field of obj: at most one may be set.
 * The file is only recorded here; the data is base64-decoded.
 */
static int parse_pem(const json_t *obj, const char *base, const char *file_key,
                     const char *data_key, const char *base_dir, struct pl_kube_pem *pem,
                     struct pl_error *err)
{
    const char *file;
    const char *data;
    char path[300];
    if (opt_string(obj, file_key, base, &file, err) < 0 ||
        opt_string(obj, data_key, base, &data, err) < 0) {
        return -EINVAL;
    }
    if (file && data) {
        snprintf(path, sizeof(path), "%s.%s", base, data_key);
        return pl_error_set(err, path, 0, "%s and %s are both set: keep one", file_key, data_key);
    }
    if (file) {
        pem->path = resolve_path(base_dir, file);
        if (!pem->path) {
            snprintf(path, sizeof(path), "%s.%s", base, file_key);
            return pl_error_set(err, path, 0, "path too long");
        }
    } else if (data) {
        pem->data = pl_base64_decode(data, &pem->len);
        if (!pem->data || pem->len == 0 || pem->len > PL_KUBE_PEM_MAX) {
            snprintf(path, sizeof(path), "%s.%s", base, data_key);
            return pl_error_set(err, path, 0, "not valid base64-encoded PEM data");
        }
        if (pem->certificates && !pem_certificates_ok(pem->data, pem->len)) {
            snprintf(path, sizeof(path), "%s.%s", base, data_key);
            return pl_error_set(err, path, 0, "not PEM-encoded X.509 certificates");
        }
    }
    return 0;
}

/* Validates and copies a server URL: http(s)://host..., no blanks, no query, no fragment. */
static int parse_server(const char *url, const char *path, char **ret, struct pl_error *err)
{
    size_t len = strlen(url);
    const char *host = NULL;
    if (strncmp(url, "https://", 8) == 0) {
        host = url + 8;
    } else if (strncmp(url, "http://", 7) == 0) {
        host = url + 7;
    }
    if (!host || !*host || *host == '/') {
        return pl_error_set(err, path, 0, "must be an https:// (or http://) URL with a host");
    }
    /* The URL is logged with every watch line: user:password@ would put a password there. */
    size_t authority = strcspn(host, "/");
    if (memchr(host, '@', authority)) {
        return pl_error_set(err, path, 0,
                            "the URL carries user information (user:password@), which is "
                            "refused: give credentials in the user entry");
    }
    if (len > PL_KUBE_SERVER_URL_MAX) {
        return pl_error_set(err, path, 0, "URL longer than %u characters", PL_KUBE_SERVER_URL_MAX);
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)url[i];
        if (ch <= 0x20 || ch >= 0x7f || ch == '?' || ch == '#') {
            return pl_error_set(err, path, 0, "URL with blanks, a query or a fragment");
        }
    }
    while (len > 0 && url[len - 1] == '/') {
        len--;
    }
    *ret = pl_xstrndup(url, len);
    return 0;
}

static int parse_cluster(const json_t *cluster, const char *base, const char *base_dir,
                         struct pl_kube_credentials *c, struct pl_error *err)
{
    char path[300];
    const char *server;
    const char *tls_server_name;
    const char *proxy;
    if (opt_string(cluster, "server", base, &server, err) < 0 ||
        opt_string(cluster, "tls-server-name", base, &tls_server_name, err) < 0 ||
        opt_string(cluster, "proxy-url", base, &proxy, err) < 0) {
        return -EINVAL;
    }
    snprintf(path, sizeof(path), "%s.server", base);
    if (!server) {
        return pl_error_set(err, path, 0, "the cluster has no server URL");
    }
    if (parse_server(server, path, &c->server, err) < 0) {
        return -EINVAL;
    }
    if (tls_server_name) {
        snprintf(path, sizeof(path), "%s.tls-server-name", base);
        return pl_error_set(err, path, 0,
                            "tls-server-name is not supported: use a server URL "
                            "whose host matches the certificate");
    }
    if (proxy) {
        c->proxy_url = pl_xstrdup(proxy);
    }
    const json_t *insecure = json_object_get(cluster, "insecure-skip-tls-verify");
    if (insecure && !json_is_null(insecure)) {
        if (!json_is_boolean(insecure)) {
            snprintf(path, sizeof(path), "%s.insecure-skip-tls-verify", base);
            return pl_error_set(err, path, 0, "must be true or false");
        }
        c->insecure = json_is_true(insecure);
    }
    c->ca.certificates = true;
    if (parse_pem(cluster, base, "certificate-authority", "certificate-authority-data", base_dir,
                  &c->ca, err) < 0) {
        return -EINVAL;
    }
    if (c->insecure && (c->ca.path || c->ca.data)) {
        snprintf(path, sizeof(path), "%s.insecure-skip-tls-verify", base);
        return pl_error_set(err, path, 0,
                            "a certificate authority together with "
                            "insecure-skip-tls-verify is not allowed");
    }
    return 0;
}

/* Refuses the user fields plimsoll does not implement, rather than ignoring them. */
static int refuse_unsupported_user(const json_t *user, const char *base, struct pl_error *err)
{
    static const char *const unsupported[][2] = {
        {"exec", "exec credential plugins are not supported: use a token or a client certificate"},
        {"auth-provider", "auth-provider plugins are not supported: use a token or a client "
                          "certificate"},
        {"username", "basic authentication is not supported: use a token or a client certificate"},
        {"password", "basic authentication is not supported: use a token or a client certificate"},
        {"as", "impersonation is not supported"},
        {"as-groups", "impersonation is not supported"},
        {"as-uid", "impersonation is not supported"},
    };
    for (size_t i = 0; i < PL_ARRAY_SIZE(unsupported); i++) {
        const json_t *v = json_object_get(user, unsupported[i][0]);
        if (v && !json_is_null(v)) {
            char path[300];
            snprintf(path, sizeof(path), "%s.%s", base, unsupported[i][0]);
            return pl_error_set(err, path, 0, "%s", unsupported[i][1]);
        }
    }
    return 0;
}

static int parse_user(const json_t *user, const char *base, const char *base_dir,
                      struct pl_kube_credentials *c, struct pl_error *err)
{
    char path[300];
    const char *token;
    const char *token_file;
    c->cert.certificates = true;
    if (refuse_unsupported_user(user, base, err) < 0 ||
        opt_string(user, "token", base, &token, err) < 0 ||
        opt_string(user, "tokenFile", base, &token_file, err) < 0 ||
        parse_pem(user, base, "client-certificate", "client-certificate-data", base_dir, &c->cert,
                  err) < 0 ||
        parse_pem(user, base, "client-key", "client-key-data", base_dir, &c->key, err) < 0) {
        return -EINVAL;
    }
    bool has_cert = c->cert.path || c->cert.data;
    bool has_key = c->key.path || c->key.data;
    if (has_cert != has_key) {
        snprintf(path, sizeof(path), "%s.%s", base, has_cert ? "client-key" : "client-certificate");
        return pl_error_set(err, path, 0,
                            "a client certificate needs its key, and a key its "
                            "certificate");
    }
    if (token) {
        snprintf(path, sizeof(path), "%s.token", base);
        size_t len = strlen(token);
        if (len > PL_KUBE_TOKEN_MAX || !token_chars_ok(token, len)) {
            return pl_error_set(err, path, 0, "not a valid bearer token");
        }
        c->token = pl_xstrdup(token);
    }
    if (token_file) {
        c->token_file = resolve_path(base_dir, token_file);
        if (!c->token_file) {
            snprintf(path, sizeof(path), "%s.tokenFile", base);
            return pl_error_set(err, path, 0, "path too long");
        }
    }
    return 0;
}

/* Follows current-context to the cluster and user entries and parses them into c. */
static int parse_root(const json_t *root, const char *base_dir, struct pl_kube_credentials *c,
                      struct pl_error *err)
{
    /* Entry paths stay short so that "<entry>.<field>" fits a 300-byte buffer. */
    char ctx_path[200];
    char cluster_path[200];
    char user_path[200];
    const char *ctx_name = pl_json_string(root, "current-context");
    if (!ctx_name || !*ctx_name) {
        return pl_error_set(err, "current-context", 0,
                            "no current-context: set one with "
                            "kubectl config use-context");
    }
    const json_t *ctx = NULL;
    if (find_named(root, "contexts", "context", ctx_name, ctx_path, sizeof(ctx_path), &ctx, err) <
        0) {
        return -EINVAL;
    }
    const char *cluster_name;
    const char *user_name;
    if (opt_string(ctx, "cluster", ctx_path, &cluster_name, err) < 0 ||
        opt_string(ctx, "user", ctx_path, &user_name, err) < 0) {
        return -EINVAL;
    }
    if (!cluster_name) {
        return pl_error_set(err, ctx_path, 0, "context \"%s\" names no cluster", ctx_name);
    }
    const json_t *cluster = NULL;
    if (find_named(root, "clusters", "cluster", cluster_name, cluster_path, sizeof(cluster_path),
                   &cluster, err) < 0 ||
        parse_cluster(cluster, cluster_path, base_dir, c, err) < 0) {
        return -EINVAL;
    }
    if (user_name) {
        const json_t *user = NULL;
        if (find_named(root, "users", "user", user_name, user_path, sizeof(user_path), &user, err) <
                0 ||
            parse_user(user, user_path, base_dir, c, err) < 0) {
            return -EINVAL;
        }
    }
    struct pl_buf b;
    pl_buf_init(&b, 4096);
    if (pl_buf_printf(&b, "context %s", ctx_name) < 0) {
        pl_buf_reset(&b);
    }
    c->source = pl_buf_steal(&b);
    return 0;
}

int pl_kubeconfig_parse(const char *text, size_t len, const char *base_dir,
                        struct pl_kube_credentials *ret, struct pl_error *err)
{
    int r = -EINVAL;
    json_t *docs = NULL;
    struct pl_kube_credentials c;
    pl_kube_credentials_init(&c);
    if (len > PL_KUBECONFIG_MAX) {
        return pl_error_set(err, "", 0, "kubeconfig larger than %u bytes", PL_KUBECONFIG_MAX);
    }
    if (pl_yaml_load(text, len, &docs, NULL, err) < 0) {
        return -EINVAL;
    }
    if (json_array_size(docs) != 1 || !json_is_object(json_array_get(docs, 0))) {
        pl_error_set(err, "", 0, "a kubeconfig is one YAML mapping");
        goto out;
    }
    if (parse_root(json_array_get(docs, 0), base_dir, &c, err) < 0) {
        goto out;
    }
    *ret = c;
    pl_kube_credentials_init(&c);
    r = 0;
out:
    pl_kube_credentials_finish(&c);
    json_decref(docs);
    return r;
}

/* Re-reads pem from its path (if it has one). On failure pem keeps its old content. */
static int refresh_pem(struct pl_kube_pem *pem, struct pl_error *err)
{
    if (!pem->path) {
        return 0;
    }
    char *data = NULL;
    size_t len = 0;
    if (pl_file_read(pem->path, PL_KUBE_PEM_MAX, &data, &len, err) < 0) {
        return -EIO;
    }
    if (len == 0) {
        free(data);
        pl_error_set(err, "", 0, "%s is empty", pem->path);
        return -EIO;
    }
    if (pem->certificates && !pem_certificates_ok(data, len)) {
        free(data);
        pl_error_set(err, "", 0, "%s holds no PEM-encoded X.509 certificate", pem->path);
        return -EIO;
    }
    free(pem->data);
    pem->data = data;
    pem->len = len;
    return 0;
}

int pl_kube_credentials_refresh(struct pl_kube_credentials *c, struct pl_error *err)
{
    if (refresh_pem(&c->ca, err) < 0 || refresh_pem(&c->cert, err) < 0 ||
        refresh_pem(&c->key, err) < 0) {
        return -EIO;
    }
    return 0;
}

static bool is_blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

int pl_kube_bearer_token(const struct pl_kube_credentials *c, char **ret, struct pl_error *err)
{
    if (!c->token_file) {
        *ret = c->token ? pl_xstrdup(c->token) : NULL;
        return 0;
    }
    char *data = NULL;
    size_t len = 0;
    if (pl_file_read(c->token_file, PL_KUBE_TOKEN_MAX, &data, &len, err) < 0) {
        return -EIO;
    }
    size_t start = 0;
    while (start < len && is_blank(data[start])) {
        start++;
    }
    while (len > start && is_blank(data[len - 1])) {
        len--;
    }
    if (len == start || !token_chars_ok(data + start, len - start)) {
        free(data);
        return pl_error_set(err, "", 0, "%s holds no valid bearer token", c->token_file);
    }
    *ret = pl_xstrndup(data + start, len - start);
    free(data);
    return 0;
}

/* Directory part of path ("." for a bare name). New string. */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        return pl_xstrdup(".");
    }
    if (slash == path) {
        return pl_xstrdup("/");
    }
    return pl_xstrndup(path, (size_t)(slash - path));
}

/* Reads the files c names and checks the token; fills err with the failing file. */
static int load_files(struct pl_kube_credentials *c, struct pl_error *err)
{
    if (pl_kube_credentials_refresh(c, err) < 0) {
        return -EIO;
    }
    char *token = NULL;
    int r = pl_kube_bearer_token(c, &token, err);
    free(token);
    return r;
}

int pl_kubeconfig_load(const char *path, struct pl_kube_credentials *ret, struct pl_error *err)
{
    int r;
    char *text = NULL;
    size_t len = 0;
    char *dir = NULL;
    struct pl_kube_credentials c;
    pl_kube_credentials_init(&c);
    r = pl_file_read(path, PL_KUBECONFIG_MAX, &text, &len, err);
    if (r < 0) {
        r = -EIO;
        goto out;
    }
    dir = dir_of(path);
    r = pl_kubeconfig_parse(text, len, dir, &c, err);
    if (r < 0) {
        goto out;
    }
    r = load_files(&c, err);
    if (r < 0) {
        goto out;
    }
    struct pl_buf b;
    pl_buf_init(&b, 8192);
    if (pl_buf_printf(&b, "kubeconfig %s %s", path, c.source) < 0) {
        pl_buf_reset(&b);
    }
    free(c.source);
    c.source = pl_buf_steal(&b);
    *ret = c;
    pl_kube_credentials_init(&c);
out:
    if (r == -EINVAL && err && !err->path[0] && path) {
        /* A YAML error already carries its line; the file name helps the reader. */
        char msg[sizeof(err->message)];
        snprintf(msg, sizeof(msg), "%s", err->message);
        pl_error_set(err, path, err->line, "%s", msg);
    }
    pl_kube_credentials_finish(&c);
    free(dir);
    free(text);
    return r;
}

/* Whether host looks like a host name or an IP address (no URL syntax in it). */
static bool host_ok(const char *host)
{
    size_t len = strlen(host);
    if (len == 0 || len > 253) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)host[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == ':';
        if (!ok) {
            return false;
        }
    }
    return true;
}

static bool port_ok(const char *port)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(port, &end, 10);
    return errno == 0 && end != port && *end == '\0' && port[0] >= '0' && port[0] <= '9' &&
           v >= 1 && v <= 65535;
}

/* Builds https://host:port (IPv6 literals in brackets) into c->server. */
static int in_cluster_server(const char *host, const char *port, struct pl_kube_credentials *c,
                             struct pl_error *err)
{
    if (!host_ok(host)) {
        return pl_error_set(err, "KUBERNETES_SERVICE_HOST", 0, "not a host name or IP address");
    }
    if (!port_ok(port)) {
        return pl_error_set(err, "KUBERNETES_SERVICE_PORT", 0, "not a port number");
    }
    struct pl_buf b;
    pl_buf_init(&b, 512);
    bool v6 = strchr(host, ':') != NULL;
    if (pl_buf_printf(&b, "https://%s%s%s:%s", v6 ? "[" : "", host, v6 ? "]" : "", port) < 0) {
        pl_buf_finish(&b);
        return pl_error_set(err, "KUBERNETES_SERVICE_HOST", 0, "too long");
    }
    c->server = pl_buf_steal(&b);
    return 0;
}

int pl_kube_in_cluster(const char *sa_dir, struct pl_kube_credentials *ret, struct pl_error *err)
{
    int r;
    const char *host = getenv("KUBERNETES_SERVICE_HOST");
    const char *port = getenv("KUBERNETES_SERVICE_PORT");
    struct pl_kube_credentials c;
    pl_kube_credentials_init(&c);
    if (!sa_dir) {
        sa_dir = PL_KUBE_SA_DIR;
    }
    if (!host || !*host || !port || !*port) {
        return -ENOENT;
    }
    struct pl_buf b;
    pl_buf_init(&b, (size_t)PATH_MAX);
    if (pl_buf_printf(&b, "%s/token", sa_dir) < 0) {
        pl_buf_finish(&b);
        return pl_error_set(err, "", 0, "service-account directory path too long");
    }
    c.token_file = pl_buf_steal(&b);
    if (access(c.token_file, F_OK) < 0 && errno == ENOENT) {
        r = -ENOENT; /* no token mounted: automountServiceAccountToken is false */
        goto out;
    }
    pl_buf_init(&b, (size_t)PATH_MAX);
    if (pl_buf_printf(&b, "%s/ca.crt", sa_dir) < 0) {
        pl_buf_finish(&b);
        r = pl_error_set(err, "", 0, "service-account directory path too long");
        goto out;
    }
    c.ca.path = pl_buf_steal(&b);
    c.ca.certificates = true;
    r = in_cluster_server(host, port, &c, err);
    if (r < 0) {
        goto out;
    }
    r = load_files(&c, err);
    if (r < 0) {
        goto out;
    }
    c.source = pl_xstrdup("in-cluster");
    *ret = c;
    pl_kube_credentials_init(&c);
out:
    pl_kube_credentials_finish(&c);
    return r;
}
