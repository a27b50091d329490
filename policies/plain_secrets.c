/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plain-secrets: no container (regular, init, native sidecar or ephemeral)
 * carries a secret as a literal env value. Two rules:
 *
 * 1. An env var whose name looks secret has no literal `value`; it takes the
 *    value from a Secret (valueFrom.secretKeyRef). A name looks secret when
 *    one of the `name-patterns` occurs in it as whole words. Names and
 *    patterns are split into words at "_", "-", "." and any other character
 *    that is not a letter or digit, at camelCase humps (dbPassword, APIKey)
 *    and between letters and digits; words compare case-insensitively. So
 *    DB_PASSWORD, dbPassword and db.password match PASSWORD, while
 *    PASSWORDLESS_LOGIN, MAX_TOKENS and SECRETARY do not.
 * 2. No literal env value, whatever its name, holds a PEM private key block
 *    ("-----BEGIN ... PRIVATE KEY-----", PGP's "PRIVATE KEY BLOCK" too).
 *
 * Values that cannot be a secret are allowed under rule 1: an empty value,
 * "true"/"false", and values that match what the last word of the name says
 * they are: a file path for FILE, PATH, DIR, DIRECTORY, LOCATION (and
 * CREDENTIALS, as in GOOGLE_APPLICATION_CREDENTIALS); a URL
 * without user info for URL, URI, ENDPOINT; a Kubernetes object name for
 * NAME (the name of a Secret is not a secret); a number or duration for TTL,
 * TIMEOUT, EXPIRY and the like. The manifest ends up in Git, in `kubectl get
 * -o yaml` output and in every audit log: a value put there is not secret.
 * Runbook: docs/policies/plain-secrets.md
 */
#include "policies/policy.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"

/* One word of a name: a span of the name, not NUL-terminated. */
struct word {
    const char *s;
    size_t n;
};

struct word_iter {
    const char *s;
    size_t pos;
};

struct pattern {
    char *text;   /* as configured: "API_KEY" */
    char **words; /* lowercased: "api", "key" */
    size_t n;
};

struct params {
    struct pl_strlist names; /* name-patterns, as configured */
    struct pattern *items;   /* name-patterns, split into words */
    size_t len;
};

/* Longest pattern accepted, in bytes, and most patterns: each env var name is
 * compared with every pattern, so the list bounds the work of one review. */
#define PATTERN_MAX  64
#define PATTERNS_MAX 256

static bool is_lower(char c)
{
    return c >= 'a' && c <= 'z';
}

static bool is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
    return is_lower(c) || is_upper(c) || is_digit(c);
}

static char to_lower(char c)
{
    return is_upper(c) ? (char)(c - 'A' + 'a') : c;
}

/* Whether a new word starts at s[i] inside a run of letters and digits (i > 0). */
static bool word_boundary(const char *s, size_t i)
{
    char prev = s[i - 1], cur = s[i];
    if (is_digit(prev) != is_digit(cur)) {
        return true; /* OAUTH2TOKEN: OAUTH 2 TOKEN */
    }
    if (is_upper(cur) && is_lower(prev)) {
        return true; /* dbPassword: db Password */
    }
    /* APIKey: API Key (the last capital of a run starts the next word). */
    return is_upper(cur) && is_upper(prev) && is_lower(s[i + 1]);
}

static void word_iter_init(struct word_iter *it, const char *s)
{
    it->s = s;
    it->pos = 0;
}

/* The next word of the name, or false at its end. */
static bool word_iter_next(struct word_iter *it, struct word *ret)
{
    const char *s = it->s;
    size_t i = it->pos;
    while (s[i] && !is_alnum(s[i])) {
        i++;
    }
    if (!s[i]) {
        it->pos = i;
        return false;
    }
    size_t start = i++;
    while (is_alnum(s[i]) && !word_boundary(s, i)) {
        i++;
    }
    it->pos = i;
    ret->s = s + start;
    ret->n = i - start;
    return true;
}

/* Whether word equals lower (a lowercased word), ignoring case. */
static bool word_is(const struct word *w, const char *lower)
{
    size_t n = strlen(lower);
    if (w->n != n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (to_lower(w->s[i]) != lower[i]) {
            return false;
        }
    }
    return true;
}

/* Whether the words from it on are the pattern's words from the first-th on. it is a copy. */
static bool pattern_at(struct word_iter it, const struct pattern *p, size_t first)
{
    struct word w;
    for (size_t j = first; j < p->n; j++) {
        if (!word_iter_next(&it, &w) || !word_is(&w, p->words[j])) {
            return false;
        }
    }
    return true;
}

/*
 * Whether name contains one of the patterns as whole words. The name's last
 * word goes to *ret_last (empty when the name has no words).
 */
static bool name_matches(const struct params *params, const char *name, struct word *ret_last)
{
    struct word_iter it;
    struct word w = {name, 0};
    bool found = false;
    ret_last->s = name;
    ret_last->n = 0;
    word_iter_init(&it, name);
    while (word_iter_next(&it, &w)) {
        *ret_last = w;
        /* The word at hand is cut once; only a pattern whose first word it is
         * reads on (it is already past w). */
        for (size_t i = 0; !found && i < params->len; i++) {
            const struct pattern *p = &params->items[i];
            found = word_is(&w, p->words[0]) && pattern_at(it, p, 1);
        }
    }
    return found;
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* A file path: absolute, relative with ./ or ../, under ~/, or a file: URL; no whitespace. */
static bool looks_like_path(const char *v)
{
    if (!(v[0] == '/' || starts_with(v, "./") || starts_with(v, "../") || starts_with(v, "~/") ||
          starts_with(v, "file:"))) {
        return false;
    }
    return v[strcspn(v, " \t\r\n")] == '\0';
}

/* A URL ("scheme://authority...") whose authority carries no user info (no user:password@). */
static bool looks_like_url(const char *v)
{
    size_t i = 0;
    if (!is_lower(v[0]) && !is_upper(v[0])) {
        return false;
    }
    while (is_alnum(v[i]) || v[i] == '+' || v[i] == '.' || v[i] == '-') {
        i++;
    }
    if (!starts_with(v + i, "://")) {
        return false;
    }
    const char *authority = v + i + 3;
    size_t n = strcspn(authority, "/?#");
    return n > 0 && !memchr(authority, '@', n) && v[strcspn(v, " \t\r\n")] == '\0';
}

/* A Kubernetes object name (DNS-1123 subdomain): [a-z0-9.-], alphanumeric ends, <= 253. */
static bool looks_like_object_name(const char *v)
{
    size_t n = strnlen(v, 254);
    if (n == 0 || n > 253 || !is_alnum(v[0]) || !is_alnum(v[n - 1])) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!is_lower(v[i]) && !is_digit(v[i]) && v[i] != '-' && v[i] != '.') {
            return false;
        }
    }
    return true;
}

/* A number or a duration: a digit, then digits, "." and duration units (300, 1.5, 15m, 1h30m). */
static bool looks_like_quantity(const char *v)
{
    size_t n = strnlen(v, 33);
    if (n == 0 || n > 32 || !is_digit(v[0])) {
        return false;
    }
    return strspn(v, "0123456789.hmsdu") == n;
}

static bool is_bool_text(const char *v)
{
    struct word w = {v, strlen(v)};
    return word_is(&w, "true") || word_is(&w, "false");
}

static bool last_word_in(const struct word *last, const char *const *words)
{
    for (size_t i = 0; words[i]; i++) {
        if (word_is(last, words[i])) {
            return true;
        }
    }
    return false;
}

/*
 * Whether the literal value v of a secret-looking variable cannot be the
 * secret itself: empty, a boolean, or what the name's last word announces.
 */
static bool value_allowed(const struct word *last, const char *v)
{
    /* CREDENTIALS: GOOGLE_APPLICATION_CREDENTIALS names a key file by convention. */
    static const char *const path_words[] = {"file",     "path",        "dir",        "directory",
                                             "location", "credentials", "credential", NULL};
    static const char *const url_words[] = {"url", "uri", "endpoint", NULL};
    static const char *const name_words[] = {"name", NULL};
    static const char *const quantity_words[] = {"ttl",      "timeout", "expiry", "expiration",
                                                 "lifetime", "length",  "age",    "seconds",
                                                 "minutes",  "hours",   "days",   NULL};
    if (!*v || is_bool_text(v)) {
        return true;
    }
    if (last_word_in(last, path_words)) {
        return looks_like_path(v);
    }
    if (last_word_in(last, url_words)) {
        return looks_like_url(v);
    }
    if (last_word_in(last, name_words)) {
        return looks_like_object_name(v);
    }
    if (last_word_in(last, quantity_words)) {
        return looks_like_quantity(v);
    }
    return false;
}

/*
 * Whether v holds a PEM armour line whose label has "PRIVATE KEY": "-----BEGIN RSA PRIVATE
 * KEY-----", and copies with fewer dashes ("---BEGIN OPENSSH PRIVATE KEY---"), which Polaris's
 * "-BEGIN\s+.*PRIVATE KEY-" also finds.
 */
static bool has_pem_private_key(const char *v)
{
    static const char begin[] = "-BEGIN";
    const char *p = v;
    while ((p = strstr(p, begin)) != NULL) {
        p += sizeof(begin) - 1;
        size_t ws = strspn(p, " \t");
        if (ws == 0) {
            continue;
        }
        /* A PEM label is short: capitals, digits and spaces up to the closing dash. */
        const char *label = p + ws;
        size_t n = strspn(label, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ");
        if (n <= 64 && label[n] == '-') {
            for (const char *q = label; q + 11 <= label + n; q++) {
                if (memcmp(q, "PRIVATE KEY", 11) == 0) {
                    return true;
                }
            }
        }
    }
    return false;
}

/* Releases the split patterns (prepare's work). */
static void finish(void *p)
{
    struct params *params = p;
    for (size_t i = 0; i < params->len; i++) {
        for (size_t j = 0; j < params->items[i].n; j++) {
            free(params->items[i].words[j]);
        }
        free(params->items[i].words);
        free(params->items[i].text);
    }
    free(params->items);
}

/* Splits a configured pattern into lowercased words. Returns 0, or -EINVAL when it is malformed. */
static int compile_pattern(const char *text, size_t index, struct pattern *ret,
                           struct pl_error *err)
{
    size_t len = strnlen(text, PATTERN_MAX + 1);
    bool ok = len <= PATTERN_MAX && strspn(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                 "abcdefghijklmnopqrstuvwxyz0123456789_-.") == len;
    struct word_iter it;
    struct word w;
    word_iter_init(&it, text);
    if (!ok || !word_iter_next(&it, &w)) {
        char path[64];
        snprintf(path, sizeof(path), "name-patterns[%zu]", index);
        return pl_error_set(err, path, 0,
                            "must be letters and digits, words joined by _, - or . (at most %d)",
                            PATTERN_MAX);
    }
    ret->text = pl_xstrdup(text);
    word_iter_init(&it, text);
    while (word_iter_next(&it, &w)) {
        ret->words = pl_xrealloc(ret->words, (ret->n + 1) * sizeof(*ret->words));
        char *lower = pl_xstrndup(w.s, w.n);
        for (size_t i = 0; i < w.n; i++) {
            lower[i] = to_lower(lower[i]);
        }
        ret->words[ret->n++] = lower;
    }
    return 0;
}

/* Splits every configured pattern into words. */
static int prepare(void *p, struct pl_error *err)
{
    struct params *params = p;
    params->items = pl_xcalloc(params->names.len ? params->names.len : 1, sizeof(*params->items));
    for (size_t i = 0; i < params->names.len; i++) {
        int r = compile_pattern(params->names.items[i], i, &params->items[params->len], err);
        if (r < 0) {
            return r;
        }
        params->len++;
    }
    return 0;
}

static const struct pl_param param_table[] = {
    {.name = "name-patterns",
     .type = PL_PARAM_STRLIST,
     .offset = offsetof(struct params, names),
     .def = "[\"PASSWORD\", \"PASSWD\", \"PASSPHRASE\", \"SECRET\", \"TOKEN\", \"API_KEY\", "
            "\"APIKEY\", \"PRIVATE_KEY\", \"CREDENTIAL\", \"CREDENTIALS\", \"ACCESS_KEY\", "
            "\"AUTH_KEY\", \"SIGNING_KEY\", \"ENCRYPTION_KEY\"]",
     .max = PATTERNS_MAX,
     .summary = "words that make an env var name look secret, matched as whole words, ignoring "
                "case; the list replaces the default"},
    {0},
};

static const struct pl_param_set param_set = {sizeof(struct params), param_table, prepare, finish};

/* Checks the env list of one container. */
static void check_env(const struct params *params, const struct pl_container *c,
                      struct pl_report *out)
{
    const json_t *env = pl_json_array(c->json, "env");
    size_t i;
    const json_t *var;
    json_array_foreach(env, i, var)
    {
        const char *name = pl_json_string(var, "name");
        const char *value = pl_json_string(var, "value");
        if (!value || !*value) {
            continue;
        }
        char sub[48];
        snprintf(sub, sizeof(sub), "env[%zu].value", i);
        const char *quoted = pl_report_quote(out, name ? name : "");
        struct word last;
        if (has_pem_private_key(value)) {
            pl_report_identify(out, "env.value", name ? name : sub);
            pl_report_container(
                out, c, sub, "env \"%s\" holds a PEM private key; mount it from a Secret instead",
                quoted);
        } else if (name && name_matches(params, name, &last) && !value_allowed(&last, value)) {
            pl_report_identify(out, "env.value", name);
            pl_report_container(out, c, sub,
                                "env \"%s\" looks secret; use valueFrom.secretKeyRef, not value",
                                quoted);
        }
    }
}

static void check(const struct pl_eval *ev, const json_t *spec, struct pl_report *out)
{
    const struct params *params = ev->params;
    struct pl_container_iter it;
    struct pl_container c;
    pl_container_iter_init(&it, spec, PL_CTR_ALL);
    while (pl_container_iter_next(&it, &c)) {
        check_env(params, &c, out);
    }
}

const struct pl_policy pl_policy_plain_secrets = {
    .id = "plain-secrets",
    .default_mode = PL_MODE_ENFORCE,
    .summary =
        "no secret-looking env var has a literal value, and no env value holds a PEM private key",
    .never_exempt = true,
    .params = &param_set,
    .check = check,
};
