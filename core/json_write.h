/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Compact JSON text from jansson values, the same bytes as
 * json_dumps(JSON_COMPACT) at a fraction of the cost for long strings (a
 * /mutate answer's base64 patch). pl_json_dump() and pl_json_dump_append()
 * (core/json.h) use it for JSON_COMPACT; other flags go to jansson.
 */
#ifndef PL_CORE_JSON_WRITE_H
#define PL_CORE_JSON_WRITE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/compiler.h"

/**
 * Appends json (borrowed) to out as compact JSON. any: whether a value other
 * than an object or array may be the root (JSON_ENCODE_ANY). Returns 0;
 * -E2BIG when out's ceiling would be passed; -EILSEQ for a string that is
 * not UTF-8 (json_stringn_nocheck can make one); -ELOOP past 2048 levels (a
 * value containing itself); -EINVAL for a root that any does not allow, or
 * a real that is not finite. On failure out is as it was. Thread-safe.
 */
PL_MUST_CHECK int pl_json_write(const json_t *json, bool any, struct pl_buf *out);

/**
 * Appends s (len bytes, UTF-8) to out as a JSON string, quotes included,
 * escaped as jansson escapes it. Returns 0, -E2BIG or -EILSEQ as
 * pl_json_write(); on failure out may hold part of the string.
 */
PL_MUST_CHECK int pl_json_write_string(const char *s, size_t len, struct pl_buf *out);

#endif
