/* SPDX-License-Identifier: Apache-2.0 */
/*
 * UTF-8 as RFC 3629 has it, shared by the JSON parser (which refuses what is
 * not) and the logger (which replaces it): no overlong forms, no encoded
 * surrogates, nothing past U+10FFFF.
 */
#ifndef PL_CORE_UTF8_H
#define PL_CORE_UTF8_H

#include <stddef.h>

/**
 * Length (2 to 4) of the multi-byte UTF-8 sequence at p, which ends no later
 * than end; 0 when the bytes there are not one (ASCII included: callers
 * test for bytes below 0x80 first). Reads at most four bytes, never past end.
 */
size_t pl_utf8_sequence(const unsigned char *p, const unsigned char *end);

#endif
