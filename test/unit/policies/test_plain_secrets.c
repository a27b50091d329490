/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of policies/plain_secrets.c: splitting env var names into words
 * (separators, camelCase, digits), whole-word pattern matching, the values
 * that a secret-looking name may hold (paths, URLs, object names,
 * quantities), PEM private key detection, parameter parsing, and a whole
 * check over every kind of container.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "policies/plain_secrets.c"
#include "test/helpers/fixture.h"
#include "test/helpers/policy_fixture.h"

/* The words of name joined with "|", in buf. */
static const char *words_of(const char *name, char *buf, size_t size)
{
    struct word_iter it;
    struct word w;
    size_t len = 0;
    buf[0] = '\0';
    word_iter_init(&it, name);
    while (word_iter_next(&it, &w)) {
        int n = snprintf(buf + len, size - len, "%s%.*s", len ? "|" : "", (int)w.n, w.s);
        assert_true(n > 0 && (size_t)n < size - len);
        len += (size_t)n;
    }
    return buf;
}

static void test_split_words(void **state)
{
    (void)state;
    static const struct {
        const char *name, *words;
    } cases[] = {
        {"DB_PASSWORD", "DB|PASSWORD"},
        {"db-password", "db|password"},
        {"db.password", "db|password"},
        {"dbPassword", "db|Password"},
        {"DbPassword", "Db|Password"},
        {"APIKey", "API|Key"},
        {"apiKEY", "api|KEY"},
        {"OAuth2Token", "O|Auth|2|Token"},
        {"OAUTH2_TOKEN", "OAUTH|2|TOKEN"},
        {"S3SECRET", "S|3|SECRET"},
        {"__X__", "X"},
        {"a", "a"},
        {"", ""},
        {"___", ""},
        {"PASSWORDLESS", "PASSWORDLESS"},
        {"my password", "my|password"},
        {"A", "A"},
        {"AB", "AB"},
        {"Ab", "Ab"},
        {"aB", "a|B"},
    };
    char buf[256];
    for (size_t i = 0; i < PL_ARRAY_SIZE(cases); i++) {
        const char *got = words_of(cases[i].name, buf, sizeof(buf));
        if (strcmp(got, cases[i].words) != 0) {
            fail_msg("\"%s\": words \"%s\", want \"%s\"", cases[i].name, got, cases[i].words);
        }
    }
}

static struct params *defaults(void)
{
    return pl_test_params(&param_set, NULL);
}

static void test_name_matches_defaults(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        bool secret;
        const char *last;
    } cases[] = {
        {"DB_PASSWORD", true, "PASSWORD"},
        {"PASSWORD", true, "PASSWORD"},
        {"password", true, "password"},
        {"dbPassword", true, "Password"},
        {"MYSQL_ROOT_PASSWD", true, "PASSWD"},
        {"CLIENT_SECRET", true, "SECRET"},
        {"AWS_SECRET_ACCESS_KEY", true, "KEY"},
        {"AWS_ACCESS_KEY_ID", true, "ID"},
        {"GITHUB_TOKEN", true, "TOKEN"},
        {"OAuth2Token", true, "Token"},
        {"STRIPE_API_KEY", true, "KEY"},
        {"stripeApiKey", true, "Key"},
        {"STRIPE_APIKEY", true, "APIKEY"},
        {"TLS_PRIVATE_KEY", true, "KEY"},
        {"GOOGLE_APPLICATION_CREDENTIALS", true, "CREDENTIALS"},
        {"DB_CREDENTIAL", true, "CREDENTIAL"},
        {"GPG_PASSPHRASE", true, "PASSPHRASE"},
        {"JWT_SIGNING_KEY", true, "KEY"},
        {"TAILSCALE_AUTH_KEY", true, "KEY"},
        {"PASSWORD_FILE", true, "FILE"},
        {"TOKEN_URL", true, "URL"},
        {"DB_SECRET_NAME", true, "NAME"},
        {"PASSWORDLESS_LOGIN", false, "LOGIN"},
        {"MAX_TOKENS", false, "TOKENS"},
        {"SECRETARY_EMAIL", false, "EMAIL"},
        {"TOKENIZER_PATH", false, "PATH"},
        {"PRIVATE_NETWORK", false, "NETWORK"},
        {"KEY", false, "KEY"},
        {"API_URL", false, "URL"},
        {"PATH", false, "PATH"},
        {"", false, ""},
    };
    struct params *params = defaults();
    for (size_t i = 0; i < PL_ARRAY_SIZE(cases); i++) {
        struct word last;
        bool got = name_matches(params, cases[i].name, &last);
        if (got != cases[i].secret) {
            fail_msg("\"%s\": secret %d, want %d", cases[i].name, got, cases[i].secret);
        }
        assert_int_equal(last.n, strlen(cases[i].last));
        assert_memory_equal(last.s, cases[i].last, last.n);
    }
    pl_params_free(&param_set, params);
}

static void test_value_allowed(void **state)
{
    (void)state;
    static const struct {
        const char *name, *value;
        bool allowed;
    } cases[] = {
        {"DB_PASSWORD", "", true},
        {"DB_PASSWORD", "hunter2", false},
        {"DB_PASSWORD", "/run/secrets/db", false}, /* PASSWORD is not a path word */
        {"FEATURE_TOKEN", "true", true},
        {"FEATURE_TOKEN", "False", true},
        {"FEATURE_TOKEN", "yes", false},
        /* Paths for FILE, PATH, DIR, DIRECTORY, LOCATION. */
        {"PASSWORD_FILE", "/run/secrets/db-password", true},
        {"passwordFile", "./secrets/pw", true},
        {"TOKEN_PATH", "../token", true},
        {"SECRET_DIR", "~/secrets", true},
        {"SECRETS_DIRECTORY", "/etc/secrets", true},
        {"CREDENTIALS_LOCATION", "file:///etc/creds.json", true},
        {"GOOGLE_APPLICATION_CREDENTIALS", "/var/secrets/google/key.json", true},
        {"DB_CREDENTIAL", "/etc/db/credential", true},
        {"DB_CREDENTIALS", "user:pw", false},
        {"PASSWORD_FILE", "hunter2", false},
        {"PASSWORD_FILE", "secrets/pw", false},
        {"PASSWORD_FILE", "/run/secrets/a b", false},
        /* URLs without user info for URL, URI, ENDPOINT. */
        {"TOKEN_URL", "https://auth.example.com/oauth/token", true},
        {"OAUTH_TOKEN_URI", "https://auth.example.com", true},
        {"TOKEN_ENDPOINT", "http://sts:8080/token?aud=x", true},
        {"TOKEN_URL", "https://user:pw@auth.example.com/token", false},
        {"TOKEN_URL", "https://ghp_abc@github.com/acme/repo", false},
        {"TOKEN_URL", "auth.example.com/token", false},
        {"TOKEN_URL", "https:///token", false},
        {"TOKEN_URL", "1https://x", false},
        /* Kubernetes object names for NAME. */
        {"DB_SECRET_NAME", "db-credentials", true},
        {"SECRET_NAME", "tls.example.com", true},
        {"SECRET_NAME", "Hunter2", false},
        {"SECRET_NAME", "-x", false},
        {"SECRET_NAME", "p@ss", false},
        /* Numbers and durations for TTL, TIMEOUT, EXPIRY, LENGTH, ... */
        {"TOKEN_TTL", "3600", true},
        {"TOKEN_TTL", "15m", true},
        {"TOKEN_EXPIRY", "1h30m", true},
        {"PASSWORD_MIN_LENGTH", "12", true},
        {"TOKEN_TIMEOUT", "1.5s", true},
        {"TOKEN_TTL", "abc", false},
        {"TOKEN_TTL", "3600x", false},
        {"TOKEN_TTL", "123456789012345678901234567890123", false},
        /* Other last words get nothing. */
        {"TOKEN_HEADER", "X-Auth-Token", false},
    };
    struct params *params = defaults();
    for (size_t i = 0; i < PL_ARRAY_SIZE(cases); i++) {
        struct word last;
        (void)name_matches(params, cases[i].name, &last);
        bool got = value_allowed(&last, cases[i].value);
        if (got != cases[i].allowed) {
            fail_msg("%s=\"%s\": allowed %d, want %d", cases[i].name, cases[i].value, got,
                     cases[i].allowed);
        }
    }
    pl_params_free(&param_set, params);
}

static void test_pem(void **state)
{
    (void)state;
    static const struct {
        const char *value;
        bool key;
    } cases[] = {
        {"-----BEGIN PRIVATE KEY-----\nMIIE...\n-----END PRIVATE KEY-----\n", true},
        {"-----BEGIN RSA PRIVATE KEY-----\nMIIE", true},
        {"-----BEGIN EC PRIVATE KEY-----", true},
        {"-----BEGIN OPENSSH PRIVATE KEY-----", true},
        {"-----BEGIN ENCRYPTED PRIVATE KEY-----", true},
        {"-----BEGIN PGP PRIVATE KEY BLOCK-----", true},
        {"cert and key: -----BEGIN CERTIFICATE-----\nAA\n-----END CERTIFICATE-----\n"
         "-----BEGIN PRIVATE KEY-----\nBB",
         true},
        {"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", false},
        {"-----BEGIN PUBLIC KEY-----", false},
        {"-----BEGIN PRIVATE KEY", false},
        {"-----BEGIN private key-----", false},
        {"PRIVATE KEY", false},
        {"-----BEGIN -----BEGIN ", false},
        {"", false},
    };
    for (size_t i = 0; i < PL_ARRAY_SIZE(cases); i++) {
        if (has_pem_private_key(cases[i].value) != cases[i].key) {
            fail_msg("\"%s\": want %d", cases[i].value, cases[i].key);
        }
    }
}

static void test_params(void **state)
{
    (void)state;
    void *p = NULL;
    struct pl_error err;
    pl_error_init(&err);

    json_t *json = pl_test_yaml("name-patterns: [pin, session-key, apiToken]");
    assert_int_equal(pl_params_parse(&param_set, json, NULL, &p, &err), 0);
    json_decref(json);
    struct params *params = p;
    assert_int_equal(params->len, 3);
    assert_int_equal(params->items[1].n, 2);
    assert_string_equal(params->items[1].words[0], "session");
    assert_string_equal(params->items[2].words[1], "token");
    struct word last;
    assert_true(name_matches(params, "ATM_PIN", &last));
    assert_true(name_matches(params, "SESSION_KEY", &last));
    assert_true(name_matches(params, "api_token", &last));
    assert_false(name_matches(params, "DB_PASSWORD", &last)); /* the list replaces the default */
    assert_false(name_matches(params, "SESSION", &last));
    pl_params_free(&param_set, p);

    static const char *const bad[] = {
        "name-patterns: [\"api key\"]",
        "name-patterns: [\"___\"]",
        "name-patterns: [\"pass*\"]",
        "name-patterns: [\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"]",
    };
    for (size_t i = 0; i < PL_ARRAY_SIZE(bad); i++) {
        json = pl_test_yaml(bad[i]);
        p = NULL;
        assert_int_equal(pl_params_parse(&param_set, json, NULL, &p, &err), -EINVAL);
        assert_string_equal(err.path, "name-patterns[0]");
        assert_null(p);
        json_decref(json);
    }
    json = pl_test_yaml("name-patterns: [ok, \"\"]");
    assert_int_equal(pl_params_parse(&param_set, json, NULL, &p, &err), -EINVAL);
    assert_string_equal(err.path, "name-patterns[1]");
    json_decref(json);
    json = pl_test_yaml("patterns: [x]");
    assert_int_equal(pl_params_parse(&param_set, json, NULL, &p, &err), -EINVAL);
    json_decref(json);

    /* At most PATTERNS_MAX patterns: the list bounds the work per env var. */
    json = json_pack("{s:[]}", "name-patterns");
    for (int i = 0; i < PATTERNS_MAX; i++) {
        json_array_append_new(json_object_get(json, "name-patterns"), json_string("TOKEN"));
    }
    p = NULL;
    assert_int_equal(pl_params_parse(&param_set, json, NULL, &p, &err), 0);
    pl_params_free(&param_set, p);
    json_array_append_new(json_object_get(json, "name-patterns"), json_string("TOKEN"));
    p = NULL;
    assert_int_equal(pl_params_parse(&param_set, json, NULL, &p, &err), -EINVAL);
    assert_string_equal(err.path, "name-patterns");
    assert_string_equal(err.message, "has more than 256 entries");
    assert_null(p);
    json_decref(json);

    /* An empty list checks only for PEM keys. */
    json = pl_test_yaml("name-patterns: []");
    assert_int_equal(pl_params_parse(&param_set, json, NULL, &p, &err), 0);
    json_decref(json);
    assert_false(name_matches(p, "DB_PASSWORD", &last));
    pl_params_free(&param_set, p);
}

static void test_check_all_containers(void **state)
{
    (void)state;
    json_t *root =
        pl_test_yaml("kind: Pod\n"
                     "metadata: {name: p}\n"
                     "spec:\n"
                     "  containers:\n"
                     "  - name: web\n"
                     "    env:\n"
                     "    - {name: DB_PASSWORD, value: hunter2}\n"
                     "    - {name: DB_PASSWORD2, valueFrom: {secretKeyRef: {name: db, key: pw}}}\n"
                     "    - {name: EMPTY_TOKEN, value: ''}\n"
                     "    - {name: TLS_KEY, value: \"-----BEGIN EC PRIVATE KEY-----\\nAA\"}\n"
                     "    - {value: 'no name'}\n"
                     "    - 42\n"
                     "  initContainers:\n"
                     "  - {name: init, env: [{name: API_TOKEN, value: abc}]}\n"
                     "  - {name: side, restartPolicy: Always, env: [{name: apiKey, value: abc}]}\n"
                     "  ephemeralContainers:\n"
                     "  - {name: debug, env: [{name: SECRET, value: abc}]}\n");
    struct pl_object obj;
    struct pl_error err;
    pl_error_init(&err);
    assert_int_equal(pl_object_init(&obj, root, &err), 0);
    struct pl_pool pool;
    pl_pool_init(&pool);
    struct pl_report report;
    pl_report_init(&report, &pool, &obj);
    report.policy = "plain-secrets";
    struct params *params = defaults();
    struct pl_eval ev = {.obj = &obj, .params = params, .pool = &pool};
    check(&ev, obj.pod_spec, &report);

    static const char *const paths[] = {
        "spec.containers[0] (web).env[0].value",
        "spec.containers[0] (web).env[3].value",
        "spec.initContainers[0] (init).env[0].value",
        "spec.initContainers[1] (side).env[0].value",
        "spec.ephemeralContainers[0] (debug).env[0].value",
    };
    assert_int_equal(report.len, PL_ARRAY_SIZE(paths));
    for (size_t i = 0; i < report.len; i++) {
        assert_string_equal(report.items[i].path, paths[i]);
    }
    assert_string_equal(report.items[0].message,
                        "env \"DB_PASSWORD\" looks secret; use valueFrom.secretKeyRef, not value");
    assert_string_equal(report.items[1].message,
                        "env \"TLS_KEY\" holds a PEM private key; mount it from a Secret instead");

    /* An empty name-patterns list checks PEM keys only. */
    void *none = NULL;
    assert_int_equal(pl_test_parse_params(&param_set, "{name-patterns: []}", &none, &err), 0);
    pl_report_init(&report, &pool, &obj);
    ev.params = none;
    check(&ev, obj.pod_spec, &report);
    assert_int_equal(report.len, 1);
    pl_params_free(&param_set, none);

    pl_params_free(&param_set, params);
    pl_pool_finish(&pool);
    json_decref(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_words),   cmocka_unit_test(test_name_matches_defaults),
        cmocka_unit_test(test_value_allowed), cmocka_unit_test(test_pem),
        cmocka_unit_test(test_params),        cmocka_unit_test(test_check_all_containers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
