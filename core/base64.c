/* SPDX-License-Identifier: Apache-2.0 */
/*
 * base64 (see base64.h): one alphabet for both directions.
 */
#include "core/base64.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *pl_base64_encode(const unsigned char *in, size_t len)
{
    char *out = pl_xmalloc((len + 2) / 3 * 4 + 1);
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)in[i] << 16;
        if (i + 1 < len) {
            v |= (unsigned)in[i + 1] << 8;
        }
        if (i + 2 < len) {
            v |= in[i + 2];
        }
        out[o++] = alphabet[(v >> 18) & 63];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? alphabet[v & 63] : '=';
    }
    out[o] = '\0';
    return out;
}

/* The value of one alphabet character, or -1. */
static int value_of(unsigned char ch)
{
    const char *p = ch ? memchr(alphabet, ch, sizeof(alphabet) - 1) : NULL;
    return p ? (int)(p - alphabet) : -1;
}

char *pl_base64_decode(const char *in, size_t *ret_len)
{
    size_t n = strlen(in);
    char *out = pl_xmalloc(n / 4 * 3 + 4);
    size_t len = 0;
    uint32_t acc = 0;
    unsigned bits = 0;
    unsigned pad = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)in[i];
        if (ch == '\n' || ch == '\r' || ch == ' ' || ch == '\t') {
            continue;
        }
        if (ch == '=') {
            pad++;
            continue;
        }
        int v = value_of(ch);
        if (v < 0 || pad > 0) {
            goto bad;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[len++] = (char)((acc >> bits) & 0xffu);
        }
    }
    /* 6 leftover bits cannot end a quantum (Go, too, ignores nonzero trailing bits). */
    if (bits >= 6 || pad > 2) {
        goto bad;
    }
    if (pad > 0 && (bits == 0 || pad != (bits == 4 ? 2u : 1u))) {
        goto bad;
    }
    out[len] = '\0';
    *ret_len = len;
    return out;
bad:
    free(out);
    return NULL;
}
