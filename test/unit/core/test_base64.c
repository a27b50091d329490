/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/base64.c: RFC 4648 vectors both ways, the standard alphabet, round
 * trips of every byte, and the malformed inputs the decoder refuses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/base64.h"

static void test_base64_vectors(void **state)
{
    (void)state;
    /* RFC 4648 §10. */
    const char *vectors[][2] = {
        {"", ""},
        {"f", "Zg=="},
        {"fo", "Zm8="},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="},
        {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"},
    };
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        char *s = pl_base64_encode((const unsigned char *)vectors[i][0], strlen(vectors[i][0]));
        assert_string_equal(s, vectors[i][1]);
        free(s);
    }
    /* High bytes use the standard alphabet (+ and /), not the URL-safe one. */
    const unsigned char high[] = {0xfb, 0xff, 0xbf};
    char *s = pl_base64_encode(high, sizeof(high));
    assert_string_equal(s, "+/+/");
    free(s);
}

static void test_decode_vectors(void **state)
{
    (void)state;
    const char *vectors[][2] = {
        {"", ""},
        {"Zg==", "f"},
        {"Zm8=", "fo"},
        {"Zm9v", "foo"},
        {"Zm9vYg==", "foob"},
        {"Zm9vYmE=", "fooba"},
        {"Zm9vYmFy", "foobar"},
        {"Zm9v\nYmFy\n", "foobar"},
        {"Zm9vYg", "foob"}, /* padding is optional */
    };
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        size_t len = 99;
        char *s = pl_base64_decode(vectors[i][0], &len);
        assert_non_null(s);
        assert_int_equal(len, strlen(vectors[i][1]));
        assert_string_equal(s, vectors[i][1]);
        free(s);
    }
}

static void test_decode_refuses_malformed(void **state)
{
    (void)state;
    const char *bad[] = {"Zg=a", "Z", "Zm9vY", "Zg===", "Zm8==", "not base64!", "Zm9v-_"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t len = 99;
        assert_null(pl_base64_decode(bad[i], &len));
        assert_int_equal(len, 99); /* untouched */
    }
}

/* Every byte value survives encode then decode, at every length up to 256. */
/* The kubeconfig reader's cases (from test_kubeconfig.c): what Go's decoder takes and refuses. */
static void test_decode_cases(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        const char *out; /* NULL: must be refused */
    } cases[] = {
        {"QUJD", "ABC"}, {"QUI=", "AB"},     {"QUI", "AB"},
        {"QQ==", "A"},   {"QQ", "A"},        {"QU\nJD\r\n", "ABC"},
        {"", ""},        {"Q", NULL},        {"QQ=", NULL},
        {"QUI==", NULL}, {"QQ===", NULL},    {"QU=I", NULL},
        {"QU-D", NULL},  {"QUJD====", NULL}, {"Zm9vYmFy", "foobar"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len = 99;
        char *got = pl_base64_decode(cases[i].in, &len);
        if (!cases[i].out) {
            if (got) {
                fail_msg("\"%s\" decoded to \"%s\"; want a refusal", cases[i].in, got);
            }
            continue;
        }
        if (!got) {
            fail_msg("\"%s\" refused; want \"%s\"", cases[i].in, cases[i].out);
        }
        assert_int_equal(len, strlen(cases[i].out));
        assert_string_equal(got, cases[i].out);
        free(got);
    }
}

static void test_round_trip(void **state)
{
    (void)state;
    unsigned char in[256];
    for (size_t i = 0; i < sizeof(in); i++) {
        in[i] = (unsigned char)(255 - i);
    }
    for (size_t n = 0; n <= sizeof(in); n++) {
        char *text = pl_base64_encode(in, n);
        assert_int_equal(strlen(text), (n + 2) / 3 * 4);
        size_t len = 0;
        char *back = pl_base64_decode(text, &len);
        assert_non_null(back);
        assert_int_equal(len, n);
        assert_memory_equal(back, in, n);
        free(back);
        free(text);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base64_vectors),
        cmocka_unit_test(test_decode_vectors),
        cmocka_unit_test(test_decode_refuses_malformed),
        cmocka_unit_test(test_decode_cases),
        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
