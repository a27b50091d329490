/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Typed, NULL-tolerant getters over jansson values. Kubernetes objects arrive
 * from untrusted clients: a field may be missing, null or of the wrong type,
 * and every getter answers such a case with NULL (or the default) instead of
 * a crash. All returned values are borrowed from the parent.
 */
#ifndef PL_CORE_JSON_H
#define PL_CORE_JSON_H

#include <stdbool.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/compiler.h"

/** parent[key] if parent is an object and the member is an object; else NULL. Borrowed. */
const json_t *pl_json_object(const json_t *parent, const char *key);

/** parent[key] if it is an array; else NULL. Borrowed. */
const json_t *pl_json_array(const json_t *parent, const char *key);

/** parent[key] if it is a string; else NULL. Borrowed from parent. */
const char *pl_json_string(const json_t *parent, const char *key);

/** parent[key] as a bool; def when missing or not a boolean. */
bool pl_json_bool(const json_t *parent, const char *key, bool def);

/** Whether parent[key] is an integer; if so its value goes to *ret. */
bool pl_json_integer(const json_t *parent, const char *key, long long *ret);

/**
 * Follows a dotted path of object keys ("spec.template.spec") from root.
 * Returns the value (any type) or NULL when a step is missing. Borrowed.
 */
const json_t *pl_json_path(const json_t *root, const char *dotted);

/** Number of elements of an array, 0 when v is not an array. */
size_t pl_json_array_len(const json_t *v);

/** Whether the array (borrowed; anything else counts as empty) has the string s. */
bool pl_json_array_has_string(const json_t *array, const char *s);

/**
 * Serialises json with jansson's dump flags into a new NUL-terminated string
 * from malloc (free with free()); its length goes to *ret_len when not NULL.
 * Unlike json_dumps(), the result never comes from jansson's allocator, so it
 * may outlive a request arena (see core/jalloc.h).
 */
char *pl_json_dump(const json_t *json, size_t flags, size_t *ret_len);

/**
 * Appends json, serialised with jansson's dump flags, to out. Returns 0, or
 * -E2BIG when out's ceiling would be passed (out is then as it was).
 */
PL_MUST_CHECK int pl_json_dump_append(const json_t *json, size_t flags, struct pl_buf *out);

/**
 * Parses a JSON document (an object or an array) of len bytes; data need not
 * be NUL-terminated. Returns a new reference, or NULL with the reason in err
 * ("invalid JSON at line L, column C: why"; err may be NULL). Accepts what
 * json_loadb(data, len, JSON_ALLOW_NUL) accepts and builds equal values, at a
 * fraction of its cost (core/json_parse.c). Depth is bounded by 2048.
 */
json_t *pl_json_load(const char *data, size_t len, char *err, size_t err_size);

/**
 * pl_json_load() leaving out every object member named skip, at any depth
 * ("managedFields": a fifth of a typical object, read by no policy). The
 * skipped values are checked like the rest, so what is accepted does not
 * change; they are just never built. A key written with escapes matches
 * by its decoded text. skip NULL: pl_json_load().
 */
json_t *pl_json_load_skipping(const char *data, size_t len, const char *skip, char *err,
                              size_t err_size);

#endif
