/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parameter parsing helpers (see params.h).
 */
#include "policies/params.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

void pl_strlist_finish(struct pl_strlist *l)
{
    if (!l) {
        return;
    }
    for (size_t i = 0; i < l->len; i++) {
        free(l->items[i]);
    }
    free(l->items);
    l->items = NULL;
    l->len = 0;
}

bool pl_strlist_contains(const struct pl_strlist *l, const char *s)
{
    for (size_t i = 0; i < l->len; i++) {
        if (strcmp(l->items[i], s) == 0) {
            return true;
        }
    }
    return false;
}

int pl_params_check_keys(const json_t *params, const char *const *allowed, struct pl_error *err)
{
    const char *key;
    const json_t *value;
    if (!params) {
        return 0;
    }
    if (!json_is_object(params)) {
        return pl_error_set(err, "", 0, "policy settings must be a mapping");
    }
    json_object_foreach((json_t *)params, key, value)
    {
        (void)value;
        bool ok = strcmp(key, "mode") == 0;
        for (size_t i = 0; !ok && allowed && allowed[i]; i++) {
            ok = strcmp(key, allowed[i]) == 0;
        }
        if (!ok) {
            return pl_error_set(err, key, 0, "unknown parameter \"%s\"", key);
        }
    }
    return 0;
}

static void push(struct pl_strlist *l, const char *s)
{
    l->items = pl_xrealloc(l->items, (l->len + 1) * sizeof(*l->items));
    l->items[l->len++] = pl_xstrdup(s);
}

int pl_params_strlist(const json_t *params, const char *key, const char *const *def,
                      struct pl_strlist *ret, struct pl_error *err)
{
    struct pl_strlist l = {0};
    const json_t *v = json_is_object(params) ? json_object_get(params, key) : NULL;
    if (!v) {
        for (size_t i = 0; def && def[i]; i++) {
            push(&l, def[i]);
        }
        *ret = l;
        return 0;
    }
    if (!json_is_array(v)) {
        return pl_error_set(err, key, 0, "must be a list of strings");
    }
    size_t i;
    const json_t *item;
    json_array_foreach(v, i, item)
    {
        if (!json_is_string(item) || json_string_length(item) == 0) {
            char path[128];
            snprintf(path, sizeof(path), "%s[%zu]", key, i);
            pl_strlist_finish(&l);
            return pl_error_set(err, path, 0, "must be a non-empty string");
        }
        push(&l, json_string_value(item));
    }
    *ret = l;
    return 0;
}

int pl_params_only_strlist(const json_t *params, const char *key, const char *const *def,
                           struct pl_strlist *ret, struct pl_error *err)
{
    const char *const allowed[] = {key, NULL};
    int r = pl_params_check_keys(params, allowed, err);
    if (r < 0) {
        return r;
    }
    return pl_params_strlist(params, key, def, ret, err);
}

int pl_params_bool(const json_t *params, const char *key, bool def, bool *ret, struct pl_error *err)
{
    const json_t *v = json_is_object(params) ? json_object_get(params, key) : NULL;
    if (!v) {
        *ret = def;
        return 0;
    }
    if (!json_is_boolean(v)) {
        return pl_error_set(err, key, 0, "must be true or false");
    }
    *ret = json_is_true(v);
    return 0;
}

int pl_params_int(const json_t *params, const char *key, long long def, long long min,
                  long long max, long long *ret, struct pl_error *err)
{
    const json_t *v = json_is_object(params) ? json_object_get(params, key) : NULL;
    if (!v) {
        *ret = def;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
        return pl_error_set(err, key, 0, "must be a whole number from %lld to %lld", min, max);
    }
    *ret = json_integer_value(v);
    return 0;
}
