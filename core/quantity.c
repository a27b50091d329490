/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Resource quantities as numbers (see quantity.h).
 */
#include "core/quantity.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/compiler.h"

/* Longest quantity read; the API's own are far shorter. */
#define QUANTITY_MAX 64

struct suffix {
    const char *text;
    double factor;
};

static const struct suffix suffixes[] = {
    {"Ki", 1024.0},
    {"Mi", 1024.0 * 1024},
    {"Gi", 1024.0 * 1024 * 1024},
    {"Ti", 1024.0 * 1024 * 1024 * 1024},
    {"Pi", 1024.0 * 1024 * 1024 * 1024 * 1024},
    {"Ei", 1024.0 * 1024 * 1024 * 1024 * 1024 * 1024},
    {"n", 1e-9},
    {"u", 1e-6},
    {"m", 1e-3},
    {"", 1.0},
    {"k", 1e3},
    {"M", 1e6},
    {"G", 1e9},
    {"T", 1e12},
    {"P", 1e15},
    {"E", 1e18},
};

/* Length of the number at the start of s: [+-]digits[.digits] or [+-].digits. */
static size_t number_len(const char *s)
{
    size_t i = (s[0] == '+' || s[0] == '-') ? 1 : 0;
    size_t digits = strspn(s + i, "0123456789");
    i += digits;
    if (s[i] == '.') {
        size_t frac = strspn(s + i + 1, "0123456789");
        digits += frac;
        i += 1 + frac;
    }
    return digits ? i : 0;
}

/* Whether s is a decimal exponent, [eE][+-]digits (no pow(): no libm). */
static bool exponent(const char *s, double *ret_factor)
{
    if (s[0] != 'e' && s[0] != 'E') {
        return false;
    }
    size_t i = (s[1] == '+' || s[1] == '-') ? 2 : 1;
    size_t digits = strspn(s + i, "0123456789");
    if (digits == 0 || digits > 3 || s[i + digits] != '\0') {
        return false;
    }
    long e = strtol(s + 1, NULL, 10); /* at most three digits: no overflow */
    double factor = 1.0;
    for (long k = e < 0 ? -e : e; k > 0; k--) {
        factor *= 10.0; /* 10^999 is inf, which the caller refuses */
    }
    *ret_factor = e < 0 ? 1.0 / factor : factor;
    return true;
}

int pl_quantity_parse(const char *s, double *ret)
{
    if (!s || strnlen(s, QUANTITY_MAX + 1) > QUANTITY_MAX) {
        return -EINVAL;
    }
    size_t n = number_len(s);
    if (n == 0) {
        return -EINVAL;
    }
    char number[QUANTITY_MAX + 1];
    memcpy(number, s, n);
    number[n] = '\0';
    double value = strtod(number, NULL);
    const char *rest = s + n;
    double factor = 0;
    for (size_t i = 0; i < PL_ARRAY_SIZE(suffixes) && factor == 0; i++) {
        if (strcmp(rest, suffixes[i].text) == 0) {
            factor = suffixes[i].factor;
        }
    }
    if (factor == 0 && !exponent(rest, &factor)) {
        return -EINVAL;
    }
    value *= factor;
    if (!isfinite(value)) {
        return -EINVAL;
    }
    *ret = value;
    return 0;
}

int pl_quantity_json(const json_t *v, double *ret)
{
    if (json_is_string(v)) {
        return pl_quantity_parse(json_string_value(v), ret);
    }
    if (json_is_number(v)) {
        double d = json_number_value(v);
        if (!isfinite(d)) {
            return -EINVAL;
        }
        *ret = d;
        return 0;
    }
    return -EINVAL;
}
