/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Typed jansson getters (see json.h).
 */
#include "core/json.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/json_write.h"

const json_t *pl_json_object(const json_t *parent, const char *key)
{
    const json_t *v = json_is_object(parent) ? json_object_get(parent, key) : NULL;
    return json_is_object(v) ? v : NULL;
}

const json_t *pl_json_array(const json_t *parent, const char *key)
{
    const json_t *v = json_is_object(parent) ? json_object_get(parent, key) : NULL;
    return json_is_array(v) ? v : NULL;
}

const char *pl_json_string(const json_t *parent, const char *key)
{
    const json_t *v = json_is_object(parent) ? json_object_get(parent, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

bool pl_json_bool(const json_t *parent, const char *key, bool def)
{
    const json_t *v = json_is_object(parent) ? json_object_get(parent, key) : NULL;
    return json_is_boolean(v) ? json_is_true(v) : def;
}

bool pl_json_integer(const json_t *parent, const char *key, long long *ret)
{
    const json_t *v = json_is_object(parent) ? json_object_get(parent, key) : NULL;
    if (!json_is_integer(v)) {
        return false;
    }
    *ret = json_integer_value(v);
    return true;
}

const json_t *pl_json_path(const json_t *root, const char *dotted)
{
    const json_t *v = root;
    const char *p = dotted;
    char key[128];
    while (v && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (n >= sizeof(key) || !json_is_object(v)) {
            return NULL;
        }
        memcpy(key, p, n);
        key[n] = '\0';
        v = json_object_get(v, key);
        p += n + (dot ? 1 : 0);
    }
    return v;
}

size_t pl_json_array_len(const json_t *v)
{
    return json_is_array(v) ? json_array_size(v) : 0;
}

bool pl_json_array_has_string(const json_t *array, const char *s)
{
    size_t i;
    const json_t *v;
    json_array_foreach(array, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), s) == 0) {
            return true;
        }
    }
    return false;
}

static int dump_to_buf(const char *chunk, size_t size, void *data)
{
    return pl_buf_append(data, chunk, size) < 0 ? -1 : 0;
}

int pl_json_dump_append(const json_t *json, size_t flags, struct pl_buf *out)
{
    if ((flags & ~(size_t)JSON_ENCODE_ANY) == JSON_COMPACT) {
        /* The hot path (every response and log line): the same bytes, faster. */
        return pl_json_write(json, flags & JSON_ENCODE_ANY, out) < 0 ? -E2BIG : 0;
    }
    size_t len = out->len;
    if (json_dump_callback(json, dump_to_buf, out, flags) != 0) {
        pl_buf_truncate(out, len); /* what was appended before the failure goes */
        return -E2BIG;
    }
    return 0;
}

char *pl_json_dump(const json_t *json, size_t flags, size_t *ret_len)
{
    struct pl_buf b;
    pl_buf_init(&b, SIZE_MAX / 2);
    if (pl_json_dump_append(json, flags, &b) < 0) {
        pl_oom(); /* only an allocation can fail here */
    }
    if (ret_len) {
        *ret_len = b.len;
    }
    return pl_buf_steal(&b);
}
