/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of server/kubeconfig.c: current-context resolution, inline
 * -data fields (base64) and file paths (relative to the kubeconfig's
 * directory), tokens and token files (trimmed, re-read after rotation),
 * insecure-skip-tls-verify, the refusals (plugins, conflicting fields, bad
 * URLs, bad base64) with the field path, and in-cluster credentials from
 * KUBERNETES_SERVICE_HOST/PORT and a service-account directory. Files live
 * in a temporary directory made per test.
 */
#include <errno.h>
#include <fcntl.h>
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

#include "kube/kubeconfig.c"

/*
 * Real (self-signed, EC P-256) certificates: the CA and the client
 * certificate are checked to be PEM X.509 at load. The key is only carried.
 */
#define CA_PEM                                                                                     \
    "-----BEGIN CERTIFICATE-----\n"                                                                \
    "MIIBjTCCATOgAwIBAgIUZ/z2sKOs8P0//F9e1+jLwwUChxgwCgYIKoZIzj0EAwIw\n"                           \
    "GzEZMBcGA1UEAwwQcGxpbXNvbGwtdGVzdC1jYTAgFw0yNjEyMDcwNjM1MDhaGA8y\n"                           \
    "MTI2MTExMzA2MzUwOFowGzEZMBcGA1UEAwwQcGxpbXNvbGwtdGVzdC1jYTBZMBMG\n"                           \
    "ByqGSM49AgEGCCqGSM49AwEHA0IABEAmadNgyTW83E1ORVudSO9o33tlgYXU2n0j\n"                           \
    "1f60x6aioSgDlkCoMCplMV2bDyYL+8JtW6Whm5HDCsploEIKgb2jUzBRMB0GA1Ud\n"                           \
    "DgQWBBTRMoxRy5vTKX/xS3jqzylvU9KnmTAfBgNVHSMEGDAWgBTRMoxRy5vTKX/x\n"                           \
    "S3jqzylvU9KnmTAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIQCT\n"                           \
    "iHiUEaKSymmuc2ENfHePKOQRO2gCvzE/VQh0drPT5wIgUs4jl5I8fnJeB+L9jW6d\n"                           \
    "2UBHEgm7dMeQ5Rlgq731CvY=\n"                                                                   \
    "-----END CERTIFICATE-----\n"
#define CA_B64                                                                                     \
    "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJqVENDQVRPZ0F3SUJBZ0lVWi96MnNLT3M4UDAvL0Y5ZTErak"   \
    "x3d1VDaHhnd0NnWUlLb1pJemowRUF3SXcKR3pFWk1CY0dBMVVFQXd3UWNHeHBiWE52Ykd3dGRHVnpkQzFqWVRBZ0Z3"   \
    "MHlOakV5TURjd05qTTFNRGhhR0E4eQpNVEkyTVRFeE16QTJNelV3T0Zvd0d6RVpNQmNHQTFVRUF3d1FjR3hwYlhOdm"   \
    "JHd3RkR1Z6ZEMxallUQlpNQk1HCkJ5cUdTTTQ5QWdFR0NDcUdTTTQ5QXdFSEEwSUFCRUFtYWROZ3lUVzgzRTFPUlZ1"   \
    "ZFNPOW8zM3RsZ1lYVTJuMGoKMWY2MHg2YWlvU2dEbGtDb01DcGxNVjJiRHlZTCs4SnRXNldobTVIRENzcGxvRUlLZ2"   \
    "IyalV6QlJNQjBHQTFVZApEZ1FXQkJUUk1veFJ5NXZUS1gveFMzanF6eWx2VTlLbm1UQWZCZ05WSFNNRUdEQVdnQlRS"   \
    "TW94Unk1dlRLWC94ClMzanF6eWx2VTlLbm1UQVBCZ05WSFJNQkFmOEVCVEFEQVFIL01Bb0dDQ3FHU000OUJBTUNBMG"   \
    "dBTUVVQ0lRQ1QKaUhpVUVhS1N5bW11YzJFTmZIZVBLT1FSTzJnQ3Z6RS9WUWgwZHJQVDV3SWdVczRqbDVJOGZuSmVC"   \
    "K0w5alc2ZAoyVUJIRWdtN2RNZVE1UmxncTczMUN2WT0KLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo="
#define CERT_PEM                                                                                   \
    "-----BEGIN CERTIFICATE-----\n"                                                                \
    "MIIBkTCCATegAwIBAgIUJlO94gdWEPdRnMWSjkLYvuyTRQQwCgYIKoZIzj0EAwIw\n"                           \
    "HTEbMBkGA1UEAwwScGxpbXNvbGwtdGVzdC1jZXJ0MCAXDTI2MTIwNzA2MzUwOFoY\n"                           \
    "DzIxMjYxMTEzMDYzNTA4WjAdMRswGQYDVQQDDBJwbGltc29sbC10ZXN0LWNlcnQw\n"                           \
    "WTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAARNDetCk5jes5GtbifKgWaeqzGTevUM\n"                           \
    "84IKyuZsIPJZXmJTY3zgX6PImsDEl9oWa9b+dzISHdbldAQtwE8dZXoHo1MwUTAd\n"                           \
    "BgNVHQ4EFgQUrSivL+XkEMl0AJmjtVrXqP7mE7QwHwYDVR0jBBgwFoAUrSivL+Xk\n"                           \
    "EMl0AJmjtVrXqP7mE7QwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBF\n"                           \
    "AiAA863XI8U/9K16OeElAs4wet060CvF7TYxcOm3CYYNmQIhAKTuaqf5NemE+Bxk\n"                           \
    "rsuZZMknGbUEMBxDiU+Ro+vzDKCo\n"                                                               \
    "-----END CERTIFICATE-----\n"
#define CERT_B64                                                                                   \
    "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJrVENDQVRlZ0F3SUJBZ0lVSmxPOTRnZFdFUGRSbk1XU2prTF"   \
    "l2dXlUUlFRd0NnWUlLb1pJemowRUF3SXcKSFRFYk1Ca0dBMVVFQXd3U2NHeHBiWE52Ykd3dGRHVnpkQzFqWlhKME1D"   \
    "QVhEVEkyTVRJd056QTJNelV3T0ZvWQpEekl4TWpZeE1URXpNRFl6TlRBNFdqQWRNUnN3R1FZRFZRUUREQkp3YkdsdG"   \
    "MyOXNiQzEwWlhOMExXTmxjblF3CldUQVRCZ2NxaGtqT1BRSUJCZ2dxaGtqT1BRTUJCd05DQUFSTkRldENrNWplczVH"   \
    "dGJpZktnV2FlcXpHVGV2VU0KODRJS3l1WnNJUEpaWG1KVFkzemdYNlBJbXNERWw5b1dhOWIrZHpJU0hkYmxkQVF0d0"   \
    "U4ZFpYb0hvMU13VVRBZApCZ05WSFE0RUZnUVVyU2l2TCtYa0VNbDBBSm1qdFZyWHFQN21FN1F3SHdZRFZSMGpCQmd3"   \
    "Rm9BVXJTaXZMK1hrCkVNbDBBSm1qdFZyWHFQN21FN1F3RHdZRFZSMFRBUUgvQkFVd0F3RUIvekFLQmdncWhrak9QUV"   \
    "FEQWdOSUFEQkYKQWlBQTg2M1hJOFUvOUsxNk9lRWxBczR3ZXQwNjBDdkY3VFl4Y09tM0NZWU5tUUloQUtUdWFxZjVO"   \
    "ZW1FK0J4awpyc3VaWk1rbkdiVUVNQnhEaVUrUm8rdnpES0NvCi0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K"
#define KEY_PEM "-----BEGIN PRIVATE KEY-----\nS0VZCg==\n-----END PRIVATE KEY-----\n"
#define KEY_B64                                                                                    \
    "LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tClMwVlpDZz09Ci0tLS0tRU5EIFBSSVZBVEUgS0VZLS0tLS0K"

struct tmp {
    char dir[64];
};

static void write_file(const char *dir, const char *name, const char *content)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(content, 1, strlen(content), f), strlen(content));
    assert_int_equal(fclose(f), 0);
}

static void remove_file(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    (void)unlink(path);
}

static int setup_tmp(void **state)
{
    struct tmp *t = pl_xcalloc(1, sizeof(*t));
    snprintf(t->dir, sizeof(t->dir), "/tmp/pl-kubeconfig-XXXXXX");
    if (!mkdtemp(t->dir)) {
        free(t);
        return -1;
    }
    unsetenv("KUBERNETES_SERVICE_HOST");
    unsetenv("KUBERNETES_SERVICE_PORT");
    *state = t;
    return 0;
}

static int teardown_tmp(void **state)
{
    struct tmp *t = *state;
    static const char *const names[] = {"config", "ca.crt", "client.crt", "client.key",
                                        "token",  "tok",    "big"};
    for (size_t i = 0; i < PL_ARRAY_SIZE(names); i++) {
        remove_file(t->dir, names[i]);
    }
    char sub[128];
    snprintf(sub, sizeof(sub), "%s/certs/ca.pem", t->dir);
    (void)unlink(sub);
    snprintf(sub, sizeof(sub), "%s/certs", t->dir);
    (void)rmdir(sub);
    (void)rmdir(t->dir);
    free(t);
    unsetenv("KUBERNETES_SERVICE_HOST");
    unsetenv("KUBERNETES_SERVICE_PORT");
    return 0;
}

/* Parses text (no base dir) expecting success. */
static void parse_ok(const char *text, struct pl_kube_credentials *c)
{
    struct pl_error err;
    pl_error_init(&err);
    int r = pl_kubeconfig_parse(text, strlen(text), NULL, c, &err);
    if (r != 0) {
        fail_msg("parse failed: %s: %s", err.path, err.message);
    }
}

/* Parses text expecting -EINVAL, with an error path and a message containing want. */
static void parse_bad(const char *text, const char *want_path, const char *want_msg)
{
    struct pl_kube_credentials c;
    pl_kube_credentials_init(&c);
    struct pl_error err;
    pl_error_init(&err);
    int r = pl_kubeconfig_parse(text, strlen(text), NULL, &c, &err);
    assert_int_equal(r, -EINVAL);
    assert_null(c.server);
    if (strcmp(err.path, want_path) != 0 || !strstr(err.message, want_msg)) {
        fail_msg("got path \"%s\" message \"%s\"; want \"%s\" and \"%s\"", err.path, err.message,
                 want_path, want_msg);
    }
}

#define PREAMBLE                                                                                   \
    "apiVersion: v1\n"                                                                             \
    "kind: Config\n"                                                                               \
    "current-context: main\n"                                                                      \
    "contexts:\n"                                                                                  \
    "- name: other\n"                                                                              \
    "  context: {cluster: nowhere, user: nobody}\n"                                                \
    "- name: main\n"                                                                               \
    "  context: {cluster: c1, user: u1, namespace: ignored}\n"

static void test_inline_data(void **state)
{
    (void)state;
    const char *text = PREAMBLE "clusters:\n"
                                "- name: nowhere\n"
                                "  cluster: {server: 'https://wrong.example'}\n"
                                "- name: c1\n"
                                "  cluster:\n"
                                "    server: https://api.example:6443/\n"
                                "    certificate-authority-data: " CA_B64 "\n"
                                "users:\n"
                                "- name: u1\n"
                                "  user:\n"
                                "    client-certificate-data: " CERT_B64 "\n"
                                "    client-key-data: |\n"
                                "      LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tClMwVlpDZz09Ci0tLS0t\n"
                                "      RU5EIFBSSVZBVEUgS0VZLS0tLS0K\n";
    struct pl_kube_credentials c;
    parse_ok(text, &c);
    assert_string_equal(c.server, "https://api.example:6443");
    assert_null(c.ca.path);
    assert_int_equal(c.ca.len, strlen(CA_PEM));
    assert_string_equal(c.ca.data, CA_PEM);
    assert_string_equal(c.cert.data, CERT_PEM);
    assert_string_equal(c.key.data, KEY_PEM); /* base64 across lines */
    assert_null(c.token);
    assert_null(c.token_file);
    assert_false(c.insecure);
    assert_string_equal(c.source, "context main");
    char *tok = (char *)"x";
    struct pl_error err;
    assert_int_equal(pl_kube_bearer_token(&c, &tok, &err), 0);
    assert_null(tok);
    pl_kube_credentials_finish(&c);
    pl_kube_credentials_finish(&c); /* idempotent */
    pl_kube_credentials_finish(NULL);
}

static void test_token_and_insecure(void **state)
{
    (void)state;
    const char *text = PREAMBLE "clusters:\n"
                                "- name: c1\n"
                                "  cluster:\n"
                                "    server: http://127.0.0.1:8001\n"
                                "    insecure-skip-tls-verify: true\n"
                                "    proxy-url: http://proxy.example:3128\n"
                                "users:\n"
                                "- name: u1\n"
                                "  user: {token: abc.DEF-123_x}\n";
    struct pl_kube_credentials c;
    parse_ok(text, &c);
    assert_string_equal(c.server, "http://127.0.0.1:8001");
    assert_true(c.insecure);
    assert_null(c.ca.data);
    assert_string_equal(c.proxy_url, "http://proxy.example:3128");
    assert_string_equal(c.token, "abc.DEF-123_x");
    char *tok = NULL;
    struct pl_error err;
    assert_int_equal(pl_kube_bearer_token(&c, &tok, &err), 0);
    assert_string_equal(tok, "abc.DEF-123_x");
    free(tok);
    pl_kube_credentials_finish(&c);
}

static void test_no_user_is_anonymous(void **state)
{
    (void)state;
    const char *text = "current-context: x\n"
                       "contexts: [{name: x, context: {cluster: c}}]\n"
                       "clusters: [{name: c, cluster: {server: 'https://h'}}]\n";
    struct pl_kube_credentials c;
    parse_ok(text, &c);
    assert_string_equal(c.server, "https://h");
    assert_null(c.cert.data);
    assert_null(c.token);
    pl_kube_credentials_finish(&c);
    /* A user entry with an empty (null) user mapping is anonymous too. */
    text = "current-context: x\n"
           "contexts: [{name: x, context: {cluster: c, user: u}}]\n"
           "clusters: [{name: c, cluster: {server: 'https://h'}}]\n"
           "users: [{name: u, user: }]\n";
    parse_ok(text, &c);
    assert_null(c.token);
    pl_kube_credentials_finish(&c);
}

static void test_paths_resolved_against_base_dir(void **state)
{
    (void)state;
    const char *text =
        PREAMBLE "clusters:\n"
                 "- name: c1\n"
                 "  cluster: {server: 'https://h', certificate-authority: certs/ca.pem}\n"
                 "users:\n"
                 "- name: u1\n"
                 "  user:\n"
                 "    client-certificate: /abs/client.crt\n"
                 "    client-key: client.key\n"
                 "    token: static\n"
                 "    tokenFile: ../tok\n";
    struct pl_kube_credentials c;
    pl_kube_credentials_init(&c);
    struct pl_error err;
    assert_int_equal(pl_kubeconfig_parse(text, strlen(text), "/etc/kube", &c, &err), 0);
    assert_string_equal(c.ca.path, "/etc/kube/certs/ca.pem");
    assert_null(c.ca.data); /* parse does not read files */
    assert_string_equal(c.cert.path, "/abs/client.crt");
    assert_string_equal(c.key.path, "/etc/kube/client.key");
    assert_string_equal(c.token, "static");
    assert_string_equal(c.token_file, "/etc/kube/../tok");
    pl_kube_credentials_finish(&c);
}

static void test_load_reads_files_and_rotates(void **state)
{
    struct tmp *t = *state;
    char sub[128];
    snprintf(sub, sizeof(sub), "%s/certs", t->dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    write_file(sub, "ca.pem", CA_PEM);
    write_file(t->dir, "client.crt", CERT_PEM);
    write_file(t->dir, "client.key", KEY_PEM);
    write_file(t->dir, "token", "  first-token\n\n");
    write_file(t->dir, "config",
               PREAMBLE "clusters:\n"
                        "- name: c1\n"
                        "  cluster:\n"
                        "    server: https://h:1\n"
                        "    certificate-authority: certs/ca.pem\n"
                        "users:\n"
                        "- name: u1\n"
                        "  user:\n"
                        "    client-certificate: client.crt\n"
                        "    client-key: client.key\n"
                        "    token: ignored-when-tokenFile-is-set\n"
                        "    tokenFile: token\n");
    char path[256];
    snprintf(path, sizeof(path), "%s/config", t->dir);
    struct pl_kube_credentials c;
    struct pl_error err;
    pl_error_init(&err);
    int r = pl_kubeconfig_load(path, &c, &err);
    if (r != 0) {
        fail_msg("load: %s: %s", err.path, err.message);
    }
    assert_string_equal(c.ca.data, CA_PEM);
    assert_string_equal(c.cert.data, CERT_PEM);
    assert_string_equal(c.key.data, KEY_PEM);
    assert_non_null(strstr(c.source, "context main"));
    assert_non_null(strstr(c.source, path));
    char *tok = NULL;
    assert_int_equal(pl_kube_bearer_token(&c, &tok, &err), 0);
    assert_string_equal(tok, "first-token"); /* the file wins, trimmed */
    free(tok);

    /* Rotation: the next read sees the new token and the new CA. */
    write_file(t->dir, "token", "second-token");
    write_file(sub, "ca.pem", CERT_PEM);
    assert_int_equal(pl_kube_bearer_token(&c, &tok, &err), 0);
    assert_string_equal(tok, "second-token");
    free(tok);
    assert_int_equal(pl_kube_credentials_refresh(&c, &err), 0);
    assert_string_equal(c.ca.data, CERT_PEM);

    /* A vanished file: an error, and the previous content stays. */
    snprintf(path, sizeof(path), "%s/certs/ca.pem", t->dir);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(pl_kube_credentials_refresh(&c, &err), -EIO);
    assert_non_null(strstr(err.message, "ca.pem"));
    assert_string_equal(c.ca.data, CERT_PEM);
    remove_file(t->dir, "token");
    assert_int_equal(pl_kube_bearer_token(&c, &tok, &err), -EIO);

    /* Tokens that cannot go in a header. */
    write_file(t->dir, "token", " \n\t ");
    assert_int_equal(pl_kube_bearer_token(&c, &tok, &err), -EINVAL);
    write_file(t->dir, "token", "two words");
    assert_int_equal(pl_kube_bearer_token(&c, &tok, &err), -EINVAL);
    write_file(t->dir, "token", "line\r\nInjected: yes");
    assert_int_equal(pl_kube_bearer_token(&c, &tok, &err), -EINVAL);
    pl_kube_credentials_finish(&c);
}

static void test_load_errors(void **state)
{
    struct tmp *t = *state;
    char path[256];
    struct pl_kube_credentials c;
    pl_kube_credentials_init(&c);
    struct pl_error err;
    pl_error_init(&err);

    snprintf(path, sizeof(path), "%s/absent", t->dir);
    assert_int_equal(pl_kubeconfig_load(path, &c, &err), -EIO);
    assert_non_null(strstr(err.message, "absent"));

    /* A named file that does not exist. */
    write_file(t->dir, "config",
               "current-context: x\n"
               "contexts: [{name: x, context: {cluster: c, user: u}}]\n"
               "clusters: [{name: c, cluster: {server: 'https://h'}}]\n"
               "users: [{name: u, user: {client-certificate: client.crt, "
               "client-key: client.key}}]\n");
    snprintf(path, sizeof(path), "%s/config", t->dir);
    assert_int_equal(pl_kubeconfig_load(path, &c, &err), -EIO);
    assert_non_null(strstr(err.message, "client.crt"));

    /* A token file that does not exist is caught at load, not at the first request. */
    write_file(t->dir, "config",
               "current-context: x\n"
               "contexts: [{name: x, context: {cluster: c, user: u}}]\n"
               "clusters: [{name: c, cluster: {server: 'https://h'}}]\n"
               "users: [{name: u, user: {tokenFile: tok}}]\n");
    assert_int_equal(pl_kubeconfig_load(path, &c, &err), -EIO);

    /* Bad YAML: -EINVAL with the file named. */
    write_file(t->dir, "config", "current-context: [unclosed\n");
    assert_int_equal(pl_kubeconfig_load(path, &c, &err), -EINVAL);

    /* Oversized PEM file. */
    write_file(t->dir, "config",
               "current-context: x\n"
               "contexts: [{name: x, context: {cluster: c}}]\n"
               "clusters: [{name: c, cluster: {server: 'https://h', "
               "certificate-authority: big}}]\n");
    char *big = pl_xmalloc(PL_KUBE_PEM_MAX + 2);
    memset(big, 'A', PL_KUBE_PEM_MAX + 1);
    big[PL_KUBE_PEM_MAX + 1] = '\0';
    write_file(t->dir, "big", big);
    free(big);
    assert_int_equal(pl_kubeconfig_load(path, &c, &err), -EIO);
    assert_non_null(strstr(err.message, "larger than"));
    assert_null(c.server);

    /* A CA file that is not PEM fails at load, not at the first connection. */
    write_file(t->dir, "config",
               "current-context: x\n"
               "contexts: [{name: x, context: {cluster: c}}]\n"
               "clusters: [{name: c, cluster: {server: 'https://h', "
               "certificate-authority: notpem}}]\n");
    write_file(t->dir, "notpem", "-----BEGIN CERTIFICATE-----\nQ0EK\n-----END CERTIFICATE-----\n");
    assert_int_equal(pl_kubeconfig_load(path, &c, &err), -EIO);
    assert_non_null(strstr(err.message, "no PEM-encoded X.509 certificate"));
    assert_null(c.server);
}

static void test_refusals(void **state)
{
    (void)state;
    parse_bad("apiVersion: v1\n", "current-context", "no current-context");
    parse_bad("current-context: ''\n", "current-context", "no current-context");
    parse_bad("current-context: x\ncontexts: [{name: y, context: {cluster: c}}]\n", "contexts",
              "no entry named \"x\"");
    parse_bad("current-context: x\ncontexts: [{name: x, context: {user: u}}]\n",
              "contexts[0].context", "names no cluster");
    parse_bad("current-context: x\ncontexts: [{name: x, context: 3}]\n", "contexts[0].context",
              "must be a mapping");
    parse_bad("current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\n", "clusters",
              "no entry named \"c\"");
#define ONE(cluster, user)                                                                         \
    "current-context: x\n"                                                                         \
    "contexts: [{name: x, context: {cluster: c, user: u}}]\n"                                      \
    "clusters: [{name: c, cluster: " cluster "}]\n"                                                \
    "users: [{name: u, user: " user "}]\n"
    parse_bad(ONE("{}", "{}"), "clusters[0].cluster.server", "no server URL");
    parse_bad(ONE("{server: 'ftp://h'}", "{}"), "clusters[0].cluster.server", "https://");
    parse_bad(ONE("{server: 'https://'}", "{}"), "clusters[0].cluster.server", "https://");
    parse_bad(ONE("{server: 'https://h/?x=1'}", "{}"), "clusters[0].cluster.server", "query");
    parse_bad(ONE("{server: 'https://h x'}", "{}"), "clusters[0].cluster.server", "blanks");
    /* user:password@ would be printed with every watch log line: refused, and not echoed. */
    parse_bad(ONE("{server: 'https://admin:s3cret@h:6443'}", "{}"), "clusters[0].cluster.server",
              "user information");
    parse_bad(ONE("{server: 'https://tok@h'}", "{}"), "clusters[0].cluster.server",
              "user information");
    /* Not PEM, or PEM armour around something that is not a certificate: refused at load. */
    parse_bad(ONE("{server: 'https://h', certificate-authority-data: aGVsbG8K}", "{}"),
              "clusters[0].cluster.certificate-authority-data", "not PEM-encoded X.509");
    parse_bad(
        ONE("{server: 'https://h', certificate-authority-data: "
            "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tClEwRUsKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=}",
            "{}"),
        "clusters[0].cluster.certificate-authority-data", "not PEM-encoded X.509");
    parse_bad(ONE("{server: 'https://h'}", "{client-certificate-data: aGVsbG8K, "
                                           "client-key-data: " KEY_B64 "}"),
              "users[0].user.client-certificate-data", "not PEM-encoded X.509");
    parse_bad(ONE("{server: 8443}", "{}"), "clusters[0].cluster.server", "must be a string");
    parse_bad(
        ONE("{server: 'https://h', certificate-authority: a, certificate-authority-data: " CA_B64
            "}",
            "{}"),
        "clusters[0].cluster.certificate-authority-data", "both set");
    parse_bad(ONE("{server: 'https://h', certificate-authority-data: 'not base64!'}", "{}"),
              "clusters[0].cluster.certificate-authority-data", "base64");
    parse_bad(ONE("{server: 'https://h', certificate-authority-data: 'QUJD=QUJD'}", "{}"),
              "clusters[0].cluster.certificate-authority-data", "base64");
    parse_bad(ONE("{server: 'https://h', insecure-skip-tls-verify: true, certificate-authority: a}",
                  "{}"),
              "clusters[0].cluster.insecure-skip-tls-verify", "not allowed");
    parse_bad(ONE("{server: 'https://h', insecure-skip-tls-verify: 'yes'}", "{}"),
              "clusters[0].cluster.insecure-skip-tls-verify", "true or false");
    parse_bad(ONE("{server: 'https://h', tls-server-name: kubernetes}", "{}"),
              "clusters[0].cluster.tls-server-name", "not supported");
    parse_bad(ONE("{server: 'https://h'}", "{exec: {command: aws}}"), "users[0].user.exec",
              "exec credential plugins are not supported");
    parse_bad(ONE("{server: 'https://h'}", "{auth-provider: {name: gcp}}"),
              "users[0].user.auth-provider", "not supported");
    parse_bad(ONE("{server: 'https://h'}", "{username: a, password: b}"), "users[0].user.username",
              "basic authentication");
    parse_bad(ONE("{server: 'https://h'}", "{as: admin}"), "users[0].user.as", "impersonation");
    parse_bad(ONE("{server: 'https://h'}", "{client-certificate: a.crt}"),
              "users[0].user.client-key", "needs its key");
    parse_bad(ONE("{server: 'https://h'}", "{client-key-data: " KEY_B64 "}"),
              "users[0].user.client-certificate", "needs its key");
    parse_bad(ONE("{server: 'https://h'}", "{token: 'a b'}"), "users[0].user.token",
              "not a valid bearer token");
    parse_bad(ONE("{server: 'https://h'}", "{token: [a]}"), "users[0].user.token",
              "must be a string");
#undef ONE
    parse_bad("- a\n- b\n", "", "one YAML mapping");
    parse_bad("a: 1\n---\nb: 2\n", "", "one YAML mapping");
    parse_bad("", "", "one YAML mapping");
}

static void test_in_cluster(void **state)
{
    struct tmp *t = *state;
    struct pl_kube_credentials c;
    pl_kube_credentials_init(&c);
    struct pl_error err;
    pl_error_init(&err);

    /* Not in a cluster: no variables. */
    assert_int_equal(pl_kube_in_cluster(t->dir, &c, &err), -ENOENT);
    setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
    assert_int_equal(pl_kube_in_cluster(t->dir, &c, &err), -ENOENT); /* no port */
    setenv("KUBERNETES_SERVICE_PORT", "443", 1);
    /* No token mounted (automountServiceAccountToken: false): standalone. */
    assert_int_equal(pl_kube_in_cluster(t->dir, &c, &err), -ENOENT);

    /* A token but no CA: broken, not standalone. */
    write_file(t->dir, "token", "sa-token-1\n");
    assert_int_equal(pl_kube_in_cluster(t->dir, &c, &err), -EIO);
    assert_non_null(strstr(err.message, "ca.crt"));

    write_file(t->dir, "ca.crt", CA_PEM);
    assert_int_equal(pl_kube_in_cluster(t->dir, &c, &err), 0);
    assert_string_equal(c.server, "https://10.96.0.1:443");
    assert_string_equal(c.ca.data, CA_PEM);
    assert_string_equal(c.source, "in-cluster");
    assert_false(c.insecure);
    char *tok = NULL;
    assert_int_equal(pl_kube_bearer_token(&c, &tok, &err), 0);
    assert_string_equal(tok, "sa-token-1");
    free(tok);
    write_file(t->dir, "token", "sa-token-2"); /* the kubelet rotated it */
    assert_int_equal(pl_kube_bearer_token(&c, &tok, &err), 0);
    assert_string_equal(tok, "sa-token-2");
    free(tok);
    pl_kube_credentials_finish(&c);

    setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "6443", 1);
    assert_int_equal(pl_kube_in_cluster(t->dir, &c, &err), 0);
    assert_string_equal(c.server, "https://[fd00::1]:6443");
    pl_kube_credentials_finish(&c);

    setenv("KUBERNETES_SERVICE_PORT", "443x", 1);
    assert_int_equal(pl_kube_in_cluster(t->dir, &c, &err), -EINVAL);
    assert_string_equal(err.path, "KUBERNETES_SERVICE_PORT");
    setenv("KUBERNETES_SERVICE_PORT", "70000", 1);
    assert_int_equal(pl_kube_in_cluster(t->dir, &c, &err), -EINVAL);
    setenv("KUBERNETES_SERVICE_PORT", "443", 1);
    setenv("KUBERNETES_SERVICE_HOST", "evil/path?x", 1);
    assert_int_equal(pl_kube_in_cluster(t->dir, &c, &err), -EINVAL);
    assert_string_equal(err.path, "KUBERNETES_SERVICE_HOST");
    assert_null(c.server);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inline_data),
        cmocka_unit_test(test_token_and_insecure),
        cmocka_unit_test(test_no_user_is_anonymous),
        cmocka_unit_test(test_paths_resolved_against_base_dir),
        cmocka_unit_test_setup_teardown(test_load_reads_files_and_rotates, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_load_errors, setup_tmp, teardown_tmp),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test_setup_teardown(test_in_cluster, setup_tmp, teardown_tmp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
