/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of policies/image.c: image reference parsing, Docker Hub
 * normalisation, registry hosts with ports, tags, digests, and the refusal
 * of malformed references (empty, whitespace, uppercase repositories, bad
 * digests, overlong names) with a reason and without a crash.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policies/image.c"

#define SHA256 "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

struct good_case {
    const char *ref;
    const char *registry;
    const char *repository;
    const char *tag;
    const char *digest;
    const char *normalised;
    bool implicit_registry;
};

static const struct good_case good_cases[] = {
    /* Docker Hub: official images get library/, user images only the host. */
    {"nginx", "docker.io", "library/nginx", "", "", "docker.io/library/nginx", true},
    {"nginx:1.25", "docker.io", "library/nginx", "1.25", "", "docker.io/library/nginx:1.25", true},
    {"nginx:latest", "docker.io", "library/nginx", "latest", "", "docker.io/library/nginx:latest",
     true},
    {"acme/app:v2", "docker.io", "acme/app", "v2", "", "docker.io/acme/app:v2", true},
    {"acme/team/app", "docker.io", "acme/team/app", "", "", "docker.io/acme/team/app", true},
    {"docker.io/nginx", "docker.io", "library/nginx", "", "", "docker.io/library/nginx", false},
    {"docker.io/library/nginx:1", "docker.io", "library/nginx", "1", "",
     "docker.io/library/nginx:1", false},
    {"index.docker.io/nginx", "docker.io", "library/nginx", "", "", "docker.io/library/nginx",
     false},
    {"index.docker.io/acme/app:1", "docker.io", "acme/app", "1", "", "docker.io/acme/app:1", false},
    /* Registry hosts: a dot, a port, localhost, or an uppercase letter. */
    {"localhost/app", "localhost", "app", "", "", "localhost/app", false},
    {"localhost:5000/app:1", "localhost:5000", "app", "1", "", "localhost:5000/app:1", false},
    {"registry.example.com/x/y:2.0.1", "registry.example.com", "x/y", "2.0.1", "",
     "registry.example.com/x/y:2.0.1", false},
    {"registry.example.com:8443/x/y@" SHA256, "registry.example.com:8443", "x/y", "", SHA256,
     "registry.example.com:8443/x/y@" SHA256, false},
    {"Registry.Example.COM/app:1", "registry.example.com", "app", "1", "",
     "registry.example.com/app:1", false},
    {"myhost:5000/app", "myhost:5000", "app", "", "", "myhost:5000/app", false},
    {"MyHost:5000/app", "myhost:5000", "app", "", "", "myhost:5000/app", false},
    {"Acme/app:1", "Acme", "app", "1", "", "Acme/app:1", false},
    {"ACME.io/app", "acme.io", "app", "", "", "acme.io/app", false},
    {"10.0.0.1:5000/app:1", "10.0.0.1:5000", "app", "1", "", "10.0.0.1:5000/app:1", false},
    {"[::1]:5000/app:1", "[::1]:5000", "app", "1", "", "[::1]:5000/app:1", false},
    {"ghcr.io/acme/app:main-1a2b3c4", "ghcr.io", "acme/app", "main-1a2b3c4", "",
     "ghcr.io/acme/app:main-1a2b3c4", false},
    {"gcr.io/my-project/sub_dir/app__x:1", "gcr.io", "my-project/sub_dir/app__x", "1", "",
     "gcr.io/my-project/sub_dir/app__x:1", false},
    {"a--b/c.d:x", "docker.io", "a--b/c.d", "x", "", "docker.io/a--b/c.d:x", true},
    /* "localhost" alone, or with a tag, is an image on Docker Hub. */
    {"localhost", "docker.io", "library/localhost", "", "", "docker.io/library/localhost", true},
    {"localhost:5000", "docker.io", "library/localhost", "5000", "",
     "docker.io/library/localhost:5000", true},
    /* Digests, alone or with a tag (the digest wins when pulling). */
    {"nginx@" SHA256, "docker.io", "library/nginx", "", SHA256, "docker.io/library/nginx@" SHA256,
     true},
    {"app:1.2@" SHA256, "docker.io", "library/app", "1.2", SHA256,
     "docker.io/library/app:1.2@" SHA256, true},
    {"nginx:latest@" SHA256, "docker.io", "library/nginx", "latest", SHA256,
     "docker.io/library/nginx:latest@" SHA256, true},
    /* Tags: up to 128 characters, capitals, "_" first. */
    {"app:V1_RC-2.x", "docker.io", "library/app", "V1_RC-2.x", "",
     "docker.io/library/app:V1_RC-2.x", true},
    {"app:_x", "docker.io", "library/app", "_x", "", "docker.io/library/app:_x", true},
};

static void test_good_references(void **state)
{
    (void)state;
    for (size_t i = 0; i < PL_ARRAY_SIZE(good_cases); i++) {
        const struct good_case *c = &good_cases[i];
        struct pl_image image;
        struct pl_error err;
        pl_error_init(&err);
        int r = pl_image_parse(c->ref, &image, &err);
        if (r != 0) {
            fail_msg("%s: refused: %s", c->ref, err.message);
        }
        assert_string_equal(image.registry, c->registry);
        assert_string_equal(image.repository, c->repository);
        assert_string_equal(image.tag, c->tag);
        assert_string_equal(image.digest, c->digest);
        assert_string_equal(image.normalised, c->normalised);
        assert_int_equal(image.implicit_registry, c->implicit_registry);
        /* The normalised reference reads back as itself. */
        struct pl_image again;
        assert_int_equal(pl_image_parse(image.normalised, &again, &err), 0);
        assert_string_equal(again.normalised, image.normalised);
        assert_string_equal(again.registry, image.registry);
    }
}

struct bad_case {
    const char *ref;
    const char *reason;
};

static const struct bad_case bad_cases[] = {
    {"", "it is empty"},
    {"nginx 1.25", "it contains whitespace or control characters"},
    {" nginx", "it contains whitespace or control characters"},
    {"nginx\n", "it contains whitespace or control characters"},
    {"nginx\t:1", "it contains whitespace or control characters"},
    {"Nginx", "the repository has uppercase letters"},
    {"acme/App:1", "the repository has uppercase letters"},
    {"registry.example.com/Acme/app", "the repository has uppercase letters"},
    {"nginx:", "the tag is malformed"},
    {"nginx:-x", "the tag is malformed"},
    {"nginx:.x", "the tag is malformed"},
    {"nginx:a+b", "the tag is malformed"},
    {"nginx:1.25:2", "the repository name is malformed"},
    {":1.25", "the repository name is malformed"},
    {"registry.example.com/", "the repository name is malformed"},
    {"acme//app", "the repository name is malformed"},
    {"acme/app/", "the repository name is malformed"},
    {"/app", "the repository name is malformed"},
    {"-app", "the repository name is malformed"},
    {"app-", "the repository name is malformed"},
    {"a...b", "the repository name is malformed"},
    {"a___b", "the repository name is malformed"},
    {"caf\xc3\xa9", "the repository name is malformed"},
    {"registry..example.com/app", "the registry host is malformed"},
    {"-registry.example.com/app", "the registry host is malformed"},
    {"registry.example.com:/app", "the registry host is malformed"},
    {"registry.example.com:80a/app", "the registry host is malformed"},
    {"[::1/app", "the registry host is malformed"},
    {"[]:5000/app", "the registry host is malformed"},
    {"reg_istry.io/app", "the registry host is malformed"},
    {"nginx@", "the digest is malformed"},
    {"nginx@sha256", "the digest is malformed"},
    {"nginx@sha256:abc", "the digest is malformed"},
    {"nginx@sha256:0123456789abcdef0123456789abcdefXX", "the digest is malformed"},
    {"nginx@" SHA256 "@" SHA256, "the digest is malformed"},
    {"nginx@sha256:0123456789abcdef0123456789abcdef", "the digest has the wrong length for sha256"},
    {"nginx@sha256:0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF",
     "the digest must be lowercase hex"},
    {"nginx@md5:0123456789abcdef0123456789abcdef",
     "the digest algorithm is not sha256, sha384 or sha512"},
    {"nginx@sha256+b64:0123456789abcdef0123456789abcdef",
     "the digest algorithm is not sha256, sha384 or sha512"},
};

static void test_bad_references(void **state)
{
    (void)state;
    for (size_t i = 0; i < PL_ARRAY_SIZE(bad_cases); i++) {
        struct pl_image image;
        struct pl_error err;
        pl_error_init(&err);
        int r = pl_image_parse(bad_cases[i].ref, &image, &err);
        if (r != -EINVAL) {
            fail_msg("\"%s\": accepted, want \"%s\"", bad_cases[i].ref, bad_cases[i].reason);
        }
        if (strcmp(err.message, bad_cases[i].reason) != 0) {
            fail_msg("\"%s\": reason \"%s\", want \"%s\"", bad_cases[i].ref, err.message,
                     bad_cases[i].reason);
        }
    }
}

static void test_null_reference(void **state)
{
    (void)state;
    struct pl_image image;
    struct pl_error err;
    pl_error_init(&err);
    assert_int_equal(pl_image_parse(NULL, &image, &err), -EINVAL);
    assert_string_equal(err.message, "it is empty");
}

/* A string of n copies of c followed by suffix, in buf (which must hold it). */
static const char *repeat(char *buf, size_t size, char c, size_t n, const char *suffix)
{
    assert_true(n + strlen(suffix) < size);
    memset(buf, c, n);
    memcpy(buf + n, suffix, strlen(suffix) + 1);
    return buf;
}

static void test_length_limits(void **state)
{
    (void)state;
    char buf[2 * PL_IMAGE_REF_MAX];
    struct pl_image image;
    struct pl_error err;
    pl_error_init(&err);

    /* A 255-character name is the longest allowed, with the longest tag and digest too. */
    char ref[PL_IMAGE_REF_MAX + 1];
    char tag[PL_IMAGE_TAG_MAX + 1];
    repeat(tag, sizeof(tag), 't', PL_IMAGE_TAG_MAX, "");
    repeat(buf, sizeof(buf), 'a', PL_IMAGE_NAME_MAX, "");
    int n = snprintf(ref, sizeof(ref), "%s:%s@sha512:%0128d", buf, tag, 0);
    assert_int_equal(n, PL_IMAGE_REF_MAX);
    assert_int_equal(pl_image_parse(ref, &image, &err), 0);
    assert_int_equal(strlen(image.tag), PL_IMAGE_TAG_MAX);
    assert_int_equal(strlen(image.normalised), PL_IMAGE_REF_MAX + PL_IMAGE_NORMALISED_EXTRA);

    repeat(buf, sizeof(buf), 'a', PL_IMAGE_NAME_MAX + 1, ":1");
    assert_int_equal(pl_image_parse(buf, &image, &err), -EINVAL);
    assert_string_equal(err.message, "the name is longer than 255 characters");

    repeat(buf, sizeof(buf), 'a', 10, ":");
    repeat(buf + 11, sizeof(buf) - 11, 't', PL_IMAGE_TAG_MAX + 1, "");
    assert_int_equal(pl_image_parse(buf, &image, &err), -EINVAL);
    assert_string_equal(err.message, "the tag is malformed");

    repeat(buf, sizeof(buf), 'a', PL_IMAGE_REF_MAX + 1, "");
    assert_int_equal(pl_image_parse(buf, &image, &err), -EINVAL);
    assert_string_equal(err.message, "it is longer than 520 characters");

    /* A megabyte of input is refused by length, not parsed. */
    char *big = malloc(1u << 20);
    assert_non_null(big);
    memset(big, 'a', (1u << 20) - 1);
    big[(1u << 20) - 1] = '\0';
    assert_int_equal(pl_image_parse(big, &image, &err), -EINVAL);
    free(big);
}

static void test_other_digests(void **state)
{
    (void)state;
    char ref[256];
    struct pl_image image;
    struct pl_error err;
    pl_error_init(&err);
    snprintf(ref, sizeof(ref), "app@sha384:%096d", 7);
    assert_int_equal(pl_image_parse(ref, &image, &err), 0);
    assert_string_equal(image.digest, ref + 4);
    snprintf(ref, sizeof(ref), "app@sha512:%0128d", 7);
    assert_int_equal(pl_image_parse(ref, &image, &err), 0);
    snprintf(ref, sizeof(ref), "app@sha512:%064d", 7);
    assert_int_equal(pl_image_parse(ref, &image, &err), -EINVAL);
    assert_string_equal(err.message, "the digest has the wrong length for sha512");
}

static void test_is_latest(void **state)
{
    (void)state;
    static const struct {
        const char *ref;
        bool latest;
    } cases[] = {
        {"nginx", true},
        {"nginx:latest", true},
        {"localhost:5000/app", true},
        {"registry.example.com:8443/app:latest", true},
        {"nginx:1.25", false},
        {"nginx:Latest", false},
        {"nginx:latest-alpine", false},
        {"nginx@" SHA256, false},
        {"nginx:latest@" SHA256, false},
    };
    for (size_t i = 0; i < PL_ARRAY_SIZE(cases); i++) {
        struct pl_image image;
        struct pl_error err;
        pl_error_init(&err);
        assert_int_equal(pl_image_parse(cases[i].ref, &image, &err), 0);
        if (pl_image_is_latest(&image) != cases[i].latest) {
            fail_msg("%s: is_latest %d, want %d", cases[i].ref, !cases[i].latest, cases[i].latest);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_references), cmocka_unit_test(test_bad_references),
        cmocka_unit_test(test_null_reference),  cmocka_unit_test(test_length_limits),
        cmocka_unit_test(test_other_digests),   cmocka_unit_test(test_is_latest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
