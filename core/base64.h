/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Standard base64 (RFC 4648 section 4, alphabet with + and /), both ways:
 * encoding for the JSON Patch of an AdmissionResponse (Kubernetes' []byte
 * JSON encoding), decoding for a kubeconfig's inline -data fields.
 */
#ifndef PL_CORE_BASE64_H
#define PL_CORE_BASE64_H

#include <stddef.h>

/**
 * Encodes in[0..len) with padding. Returns a new NUL-terminated string; the
 * caller frees it. Aborts on OOM. Thread-safe.
 */
char *pl_base64_encode(const unsigned char *in, size_t len);

/**
 * Decodes in (NUL-terminated). Line breaks and blanks are skipped, as Go's
 * decoder skips newlines; padding is optional but, when present, must be at
 * the end and complete the last quantum. Returns a new NUL-terminated buffer
 * (the caller frees it) with its length in *ret_len, or NULL on malformed
 * input. Thread-safe.
 */
char *pl_base64_decode(const char *in, size_t *ret_len);

#endif
