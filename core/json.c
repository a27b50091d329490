/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Typed jansson getters (see json.h).
 */
#include "core/json.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"

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

static int dump_to_buf(const char *chunk, size_t size, void *data)
{
    return pl_buf_append(data, chunk, size) < 0 ? -1 : 0;
}

char *pl_json_dump(const json_t *json, size_t flags, size_t *ret_len)
{
    struct pl_buf b;
    pl_buf_init(&b, SIZE_MAX / 2);
    if (json_dump_callback(json, dump_to_buf, &b, flags) != 0) {
        pl_oom(); /* only an allocation can fail here */
    }
    if (ret_len) {
        *ret_len = b.len;
    }
    return pl_buf_steal(&b);
}

/* Index just past the string that opens at text[i] == '"', or len if unterminated. */
static size_t string_end(const char *text, size_t len, size_t i)
{
    for (i++; i < len; i++) {
        if (text[i] == '\\') {
            i++;
        } else if (text[i] == '"') {
            return i + 1;
        }
    }
    return len;
}

static size_t skip_space(const char *text, size_t len, size_t i)
{
    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')) {
        i++;
    }
    return i;
}

/* Index just past the JSON value that starts at text[i], or len. */
static size_t value_end(const char *text, size_t len, size_t i)
{
    if (i >= len) {
        return len;
    }
    if (text[i] == '"') {
        return string_end(text, len, i);
    }
    if (text[i] != '{' && text[i] != '[') {
        while (i < len && !strchr(",}] \t\r\n", text[i])) {
            i++;
        }
        return i;
    }
    size_t depth = 0;
    while (i < len) {
        char c = text[i];
        if (c == '"') {
            i = string_end(text, len, i);
            continue;
        }
        if (c == '{' || c == '[') {
            depth++;
        } else if ((c == '}' || c == ']') && --depth == 0) {
            return i + 1;
        }
        i++;
    }
    return len;
}

size_t pl_json_drop_member(char *text, size_t len, const char *key)
{
    size_t key_len = strlen(key);
    size_t i = 0;
    while (i < len) {
        if (text[i] != '"') {
            i++;
            continue;
        }
        size_t end = string_end(text, len, i);
        bool match = end - i == key_len + 2 && memcmp(text + i + 1, key, key_len) == 0;
        size_t colon = skip_space(text, len, end);
        if (!match || colon >= len || text[colon] != ':') {
            i = end; /* a string value, or another key: its value is scanned next */
            continue;
        }
        size_t vend = value_end(text, len, skip_space(text, len, colon + 1));
        /* Take the comma that separates the member from its neighbour. */
        size_t from = i, to = vend;
        size_t before = i;
        while (before > 0 && strchr(" \t\r\n", text[before - 1])) {
            before--;
        }
        if (before > 0 && text[before - 1] == ',') {
            from = before - 1;
        } else {
            size_t after = skip_space(text, len, vend);
            if (after < len && text[after] == ',') {
                to = after + 1;
            }
        }
        memmove(text + from, text + to, len - to);
        len -= to - from;
        i = from;
    }
    return len;
}
