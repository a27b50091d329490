/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Image reference parsing and normalisation (see image.h). The grammar is
 * distribution/reference's, which Docker, containerd and the kubelet share:
 *
 *   path-component := [a-z0-9]+ (separator [a-z0-9]+)*   separator := "." | "_" | "__" | "-"+
 *   domain         := host [":" port]   host := domain-name | "[" IPv6 "]"
 *   tag            := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
 *   digest         := algorithm ":" hex
 *
 * Every check walks a length-bounded span of the input; nothing is copied
 * before it has been validated and measured against its buffer.
 */
#include "policies/image.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || is_digit(c);
}

static bool is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

static bool is_alnum(char c)
{
    return is_lower_alnum(c) || is_upper(c);
}

static bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static char to_lower(char c)
{
    return is_upper(c) ? (char)(c - 'A' + 'a') : c;
}

/* Whether s[0..n) is one path component: [a-z0-9]+ (separator [a-z0-9]+)*. */
static bool valid_path_component(const char *s, size_t n)
{
    size_t i = 0;
    for (;;) {
        if (i >= n || !is_lower_alnum(s[i])) {
            return false; /* empty component, or a separator not followed by [a-z0-9] */
        }
        while (i < n && is_lower_alnum(s[i])) {
            i++;
        }
        if (i == n) {
            return true;
        }
        if (s[i] == '.') {
            i++;
        } else if (s[i] == '_') {
            i += (i + 1 < n && s[i + 1] == '_') ? 2 : 1;
        } else if (s[i] == '-') {
            while (i < n && s[i] == '-') {
                i++;
            }
        } else {
            return false;
        }
    }
}

/* Whether s[0..n) is a repository: path components separated by "/". */
static bool valid_repository(const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '/') {
            if (!valid_path_component(s + start, i - start)) {
                return false;
            }
            start = i + 1;
        }
    }
    return true;
}

/* Whether s[0..n) is one DNS label as the grammar allows it: alphanumeric at both ends. */
static bool valid_domain_component(const char *s, size_t n)
{
    if (n == 0 || !is_alnum(s[0]) || !is_alnum(s[n - 1])) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!is_alnum(s[i]) && s[i] != '-') {
            return false;
        }
    }
    return true;
}

/* Whether s[0..n) is ":" followed by one or more digits, or empty. */
static bool valid_port_suffix(const char *s, size_t n)
{
    if (n == 0) {
        return true;
    }
    if (s[0] != ':' || n == 1) {
        return false;
    }
    for (size_t i = 1; i < n; i++) {
        if (!is_digit(s[i])) {
            return false;
        }
    }
    return true;
}

/* Whether s[0..n) is a registry: a domain name or bracketed IPv6 address, optional port. */
static bool valid_domain(const char *s, size_t n)
{
    size_t i = 0;
    if (n > 0 && s[0] == '[') {
        i = 1;
        while (i < n && (is_hex(s[i]) || s[i] == ':')) {
            i++;
        }
        if (i == 1 || i >= n || s[i] != ']') {
            return false;
        }
        return valid_port_suffix(s + i + 1, n - i - 1);
    }
    size_t host_end = 0;
    while (host_end < n && s[host_end] != ':') {
        host_end++;
    }
    size_t start = 0;
    for (i = 0; i <= host_end; i++) {
        if (i == host_end || s[i] == '.') {
            if (!valid_domain_component(s + start, i - start)) {
                return false;
            }
            start = i + 1;
        }
    }
    return valid_port_suffix(s + host_end, n - host_end);
}

/* Whether s[0..n) is a tag: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}. */
static bool valid_tag(const char *s, size_t n)
{
    if (n == 0 || n > PL_IMAGE_TAG_MAX || !(is_alnum(s[0]) || s[0] == '_')) {
        return false;
    }
    for (size_t i = 1; i < n; i++) {
        if (!is_alnum(s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-') {
            return false;
        }
    }
    return true;
}

/* Whether s[0..n) follows the digest grammar: algorithm ":" hex{32,}. */
static bool digest_grammar(const char *s, size_t n, size_t *ret_colon)
{
    size_t i = 0;
    for (;;) {
        /* algorithm-component := [A-Za-z][A-Za-z0-9]* */
        if (i >= n || !(is_upper(s[i]) || (s[i] >= 'a' && s[i] <= 'z'))) {
            return false;
        }
        while (i < n && is_alnum(s[i])) {
            i++;
        }
        if (i < n && (s[i] == '+' || s[i] == '.' || s[i] == '_' || s[i] == '-')) {
            i++;
            continue;
        }
        break;
    }
    if (i >= n || s[i] != ':' || n - i - 1 < 32) {
        return false;
    }
    for (size_t j = i + 1; j < n; j++) {
        if (!is_hex(s[j])) {
            return false;
        }
    }
    *ret_colon = i;
    return true;
}

/* Checks a digest: the grammar, then a supported algorithm with its exact lowercase hex length. */
static int check_digest(const char *s, size_t n, struct pl_error *err)
{
    static const struct {
        const char *name;
        size_t hex_len;
    } algorithms[] = {{"sha256", 64}, {"sha384", 96}, {"sha512", 128}};
    size_t colon = 0;
    if (!digest_grammar(s, n, &colon)) {
        return pl_error_set(err, "", 0, "the digest is malformed");
    }
    for (size_t a = 0; a < sizeof(algorithms) / sizeof(algorithms[0]); a++) {
        if (strlen(algorithms[a].name) != colon || memcmp(s, algorithms[a].name, colon) != 0) {
            continue;
        }
        if (n - colon - 1 != algorithms[a].hex_len) {
            return pl_error_set(err, "", 0, "the digest has the wrong length for %s",
                                algorithms[a].name);
        }
        for (size_t j = colon + 1; j < n; j++) {
            if (!is_digit(s[j]) && !(s[j] >= 'a' && s[j] <= 'f')) {
                return pl_error_set(err, "", 0, "the digest must be lowercase hex");
            }
        }
        return 0;
    }
    return pl_error_set(err, "", 0, "the digest algorithm is not sha256, sha384 or sha512");
}

/* Whether the first name component c[0..n) names a registry host rather than a Docker Hub user. */
static bool is_registry_component(const char *c, size_t n)
{
    if (n == 9 && memcmp(c, "localhost", 9) == 0) {
        return true;
    }
    for (size_t i = 0; i < n; i++) {
        if (c[i] == '.' || c[i] == ':' || is_upper(c[i])) {
            return true;
        }
    }
    return false;
}

/* Copies s[0..n) lowercased into out (which has room: n < the buffer size). */
static void copy_lower(char *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        out[i] = to_lower(s[i]);
    }
    out[n] = '\0';
}

/* Splits the name into registry and repository, validates both, and fills them in. */
static int parse_name(const char *name, size_t n, struct pl_image *ret, struct pl_error *err)
{
    const char *slash = memchr(name, '/', n);
    const char *repo = name;
    size_t repo_len = n;
    ret->implicit_registry = true;
    memcpy(ret->registry, "docker.io", sizeof("docker.io"));
    if (slash && is_registry_component(name, (size_t)(slash - name))) {
        size_t host_len = (size_t)(slash - name);
        if (!valid_domain(name, host_len)) {
            return pl_error_set(err, "", 0, "the registry host is malformed");
        }
        /* A host recognised only by its capitals stays as written, or it would read as a user. */
        if (memchr(name, '.', host_len) || memchr(name, ':', host_len) ||
            (host_len == 9 && memcmp(name, "localhost", 9) == 0)) {
            copy_lower(ret->registry, name, host_len);
        } else {
            memcpy(ret->registry, name, host_len);
            ret->registry[host_len] = '\0';
        }
        if (strcmp(ret->registry, "index.docker.io") == 0) {
            memcpy(ret->registry, "docker.io", sizeof("docker.io"));
        }
        ret->implicit_registry = false;
        repo = slash + 1;
        repo_len = n - host_len - 1;
    }
    for (size_t i = 0; i < repo_len; i++) {
        if (is_upper(repo[i])) {
            return pl_error_set(err, "", 0, "the repository has uppercase letters");
        }
    }
    if (!valid_repository(repo, repo_len)) {
        return pl_error_set(err, "", 0, "the repository name is malformed");
    }
    bool official = strcmp(ret->registry, "docker.io") == 0 && !memchr(repo, '/', repo_len);
    size_t off = 0;
    if (official) {
        memcpy(ret->repository, "library/", 8);
        off = 8;
    }
    memcpy(ret->repository + off, repo, repo_len);
    ret->repository[off + repo_len] = '\0';
    return 0;
}

/* Splits off and checks "@digest" (the first "@": neither name nor tag may hold one). */
static int split_digest(const char *ref, size_t len, struct pl_image *img, size_t *ret_rest_len,
                        struct pl_error *err)
{
    const char *at = memchr(ref, '@', len);
    if (!at) {
        *ret_rest_len = len;
        return 0;
    }
    size_t rest_len = (size_t)(at - ref);
    size_t digest_len = len - rest_len - 1;
    int r = check_digest(at + 1, digest_len, err);
    if (r < 0) {
        return r;
    }
    memcpy(img->digest, at + 1, digest_len); /* check_digest bounds it to 135 */
    img->digest[digest_len] = '\0';
    *ret_rest_len = rest_len;
    return 0;
}

/* Splits off and checks ":tag": a ":" after the last "/" (one before it is a registry port). */
static int split_tag(const char *ref, size_t len, struct pl_image *img, size_t *ret_name_len,
                     struct pl_error *err)
{
    size_t name_len = len;
    for (size_t i = len; i > 0; i--) {
        if (ref[i - 1] == '/') {
            break;
        }
        if (ref[i - 1] == ':') {
            name_len = i - 1;
            break;
        }
    }
    if (name_len < len) {
        size_t tag_len = len - name_len - 1;
        if (!valid_tag(ref + name_len + 1, tag_len)) {
            return pl_error_set(err, "", 0, "the tag is malformed");
        }
        memcpy(img->tag, ref + name_len + 1, tag_len);
        img->tag[tag_len] = '\0';
    }
    *ret_name_len = name_len;
    return 0;
}

int pl_image_parse(const char *ref, struct pl_image *ret, struct pl_error *err)
{
    struct pl_image img;
    size_t len = ref ? strnlen(ref, PL_IMAGE_REF_MAX + 1) : 0;
    size_t rest_len = 0, name_len = 0;
    if (len == 0) {
        return pl_error_set(err, "", 0, "it is empty");
    }
    if (len > PL_IMAGE_REF_MAX) {
        return pl_error_set(err, "", 0, "it is longer than %d characters", PL_IMAGE_REF_MAX);
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)ref[i];
        if (ch <= 0x20 || ch == 0x7F) {
            return pl_error_set(err, "", 0, "it contains whitespace or control characters");
        }
    }
    memset(&img, 0, sizeof(img));
    int r = split_digest(ref, len, &img, &rest_len, err);
    if (r == 0) {
        r = split_tag(ref, rest_len, &img, &name_len, err);
    }
    if (r < 0) {
        return r;
    }
    if (name_len > PL_IMAGE_NAME_MAX) {
        return pl_error_set(err, "", 0, "the name is longer than %d characters", PL_IMAGE_NAME_MAX);
    }
    r = parse_name(ref, name_len, &img, err);
    if (r < 0) {
        return r;
    }
    int n =
        snprintf(img.normalised, sizeof(img.normalised), "%s/%s%s%s%s%s", img.registry,
                 img.repository, *img.tag ? ":" : "", img.tag, *img.digest ? "@" : "", img.digest);
    if (n < 0 || (size_t)n >= sizeof(img.normalised)) {
        return pl_error_set(err, "", 0, "it is too long"); /* cannot happen: sizes add up */
    }
    *ret = img;
    return 0;
}

bool pl_image_is_latest(const struct pl_image *image)
{
    return !*image->digest && (!*image->tag || strcmp(image->tag, "latest") == 0);
}
