/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one parameter parser (see params.h): every policy's and mutation's
 * parameters go through pl_params_parse(), driven by the policy's table.
 * Values are checked in table order after the keys; the first error wins.
 */
#include "policies/params.h"

#include <errno.h>
#include <stdio.h>
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

static void strmap_finish(struct pl_strmap *m)
{
    for (size_t i = 0; i < m->len; i++) {
        free(m->keys[i]);
        free(m->values[i]);
    }
    free(m->keys);
    free(m->values);
    m->keys = m->values = NULL;
    m->len = 0;
}

/* The field of params that row p describes. */
static void *field(void *params, const struct pl_param *p)
{
    return (char *)params + p->offset;
}

/* Fails on the first key of settings that is neither reserved nor in table. */
static int check_keys(const struct pl_param *table, const json_t *settings, const char *reserved,
                      struct pl_error *err)
{
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)settings, key, value)
    {
        (void)value;
        bool ok = reserved && strcmp(key, reserved) == 0;
        for (const struct pl_param *p = table; !ok && p && p->name; p++) {
            ok = strcmp(key, p->name) == 0;
        }
        if (!ok) {
            return pl_error_set(err, key, 0, "unknown parameter \"%s\"", key);
        }
    }
    return 0;
}

/* Runs p's check on one string (when it has one). */
static int check_string(const struct pl_param *p, const char *s, const char *path,
                        struct pl_error *err)
{
    return p->check ? p->check(s, path, err) : 0;
}

/* Fails when a STRLIST or STRMAP has more than p->max entries. */
static int check_count(const struct pl_param *p, size_t n, struct pl_error *err)
{
    if (p->max > 0 && n > (size_t)p->max) {
        return pl_error_set(err, p->name, 0, "has more than %lld entries", p->max);
    }
    return 0;
}

static int parse_int(const struct pl_param *p, const json_t *v, long long *ret,
                     struct pl_error *err)
{
    if (!json_is_integer(v) || json_integer_value(v) < p->min || json_integer_value(v) > p->max) {
        return pl_error_set(err, p->name, 0, "must be a whole number from %lld to %lld", p->min,
                            p->max);
    }
    *ret = json_integer_value(v);
    return 0;
}

static int parse_string(const struct pl_param *p, const json_t *v, char **ret, struct pl_error *err)
{
    if (!json_is_string(v)) {
        return pl_error_set(err, p->name, 0, "must be a string");
    }
    if (p->len_max && json_string_length(v) > p->len_max) {
        return pl_error_set(err, p->name, 0, "is longer than %zu characters", p->len_max);
    }
    int r = check_string(p, json_string_value(v), p->name, err);
    if (r == 0) {
        *ret = pl_xstrdup(json_string_value(v));
    }
    return r;
}

/* The choices of an ENUM as `"a", "b" or "c"` into buf. */
static void choices_text(const struct pl_param *p, bool quoted, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; p->choices[i]; i++) {
        const char *sep = i == 0 ? "" : p->choices[i + 1] ? ", " : " or ";
        const char *q = quoted ? "\"" : "";
        int w = snprintf(buf + n, size - n, "%s%s%s%s", sep, q, p->choices[i], q);
        if (w < 0 || (size_t)w >= size - n) {
            return;
        }
        n += (size_t)w;
    }
}

static int parse_enum(const struct pl_param *p, const json_t *v, int *ret, struct pl_error *err)
{
    const char *s = json_string_value(v);
    for (int i = 0; s && p->choices[i]; i++) {
        if (strcmp(s, p->choices[i]) == 0) {
            *ret = i;
            return 0;
        }
    }
    char choices[256];
    choices_text(p, true, choices, sizeof(choices));
    return pl_error_set(err, p->name, 0, "must be %s", choices);
}

static int parse_strlist(const struct pl_param *p, const json_t *v, struct pl_strlist *ret,
                         struct pl_error *err)
{
    if (!json_is_array(v)) {
        return pl_error_set(err, p->name, 0, "must be a list of strings");
    }
    int r = check_count(p, json_array_size(v), err);
    size_t i;
    const json_t *item;
    json_array_foreach(v, i, item)
    {
        if (r < 0) {
            break;
        }
        char path[128];
        snprintf(path, sizeof(path), "%s[%zu]", p->name, i);
        if (!json_is_string(item) || json_string_length(item) == 0) {
            r = pl_error_set(err, path, 0, "must be a non-empty string");
            break;
        }
        r = check_string(p, json_string_value(item), path, err);
        if (r == 0) {
            ret->items = pl_xrealloc(ret->items, (ret->len + 1) * sizeof(*ret->items));
            ret->items[ret->len++] = pl_xstrdup(json_string_value(item));
        }
    }
    return r;
}

static int parse_strmap(const struct pl_param *p, const json_t *v, struct pl_strmap *ret,
                        struct pl_error *err)
{
    if (!json_is_object(v)) {
        return pl_error_set(err, p->name, 0, "must be a mapping of names to strings");
    }
    int r = check_count(p, json_object_size(v), err);
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)v, key, value)
    {
        if (r < 0) {
            break;
        }
        char path[384];
        snprintf(path, sizeof(path), "%s.%.300s", p->name, key);
        r = check_string(p, key, path, err);
        if (r == 0 && !json_is_string(value)) {
            r = pl_error_set(err, path, 0, "must be a string (quote it)");
        } else if (r == 0 && p->len_max && json_string_length(value) > p->len_max) {
            r = pl_error_set(err, path, 0, "must be a string of at most %zu characters (quote it)",
                             p->len_max);
        }
        if (r == 0) {
            ret->keys = pl_xrealloc(ret->keys, (ret->len + 1) * sizeof(*ret->keys));
            ret->values = pl_xrealloc(ret->values, (ret->len + 1) * sizeof(*ret->values));
            ret->keys[ret->len] = pl_xstrdup(key);
            ret->values[ret->len++] = pl_xstrdup(json_string_value(value));
        }
    }
    return r;
}

/* Parses v (borrowed, not NULL) into p's field of params. */
static int parse_value(const struct pl_param *p, const json_t *v, void *params,
                       struct pl_error *err)
{
    void *f = field(params, p);
    switch (p->type) {
    case PL_PARAM_BOOL:
        if (!json_is_boolean(v)) {
            return pl_error_set(err, p->name, 0, "must be true or false");
        }
        *(bool *)f = json_is_true(v);
        return 0;
    case PL_PARAM_INT:
        return parse_int(p, v, f, err);
    case PL_PARAM_STRING:
        return parse_string(p, v, f, err);
    case PL_PARAM_ENUM:
        return parse_enum(p, v, f, err);
    case PL_PARAM_STRLIST:
        return parse_strlist(p, v, f, err);
    case PL_PARAM_STRMAP:
        return parse_strmap(p, v, f, err);
    default:
        return pl_error_set(err, p->name, 0, "has no known type (a bug in its table)");
    }
}

/* A NULL-ended list of strings as a JSON array (new reference). */
static json_t *list_json(const char *const *list)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && list[i]; i++) {
        json_array_append_new(arr, json_string(list[i]));
    }
    if (!arr) {
        pl_oom();
    }
    return arr;
}

/* The configured value of p, else its parsed default (new reference either way; NULL: none). */
static json_t *value_of(const struct pl_param *p, const json_t *settings, struct pl_error *err,
                        int *ret_r)
{
    *ret_r = 0;
    json_t *v = settings ? json_object_get(settings, p->name) : NULL;
    if (v) {
        return json_incref(v);
    }
    if (!p->def) {
        return p->def_list ? list_json(p->def_list) : NULL;
    }
    json_error_t jerr;
    v = json_loads(p->def, JSON_DECODE_ANY, &jerr);
    if (!v) {
        *ret_r = pl_error_set(err, p->name, 0, "built-in default does not parse: %s", jerr.text);
    }
    return v;
}

int pl_params_parse(const struct pl_param_set *set, const json_t *settings, const char *reserved,
                    void **ret_params, struct pl_error *err)
{
    if (settings && !json_is_object(settings)) {
        return pl_error_set(err, "", 0, "policy settings must be a mapping");
    }
    int r = check_keys(set ? set->table : NULL, settings, reserved, err);
    if (r < 0 || !set) {
        if (r == 0) {
            *ret_params = NULL;
        }
        return r;
    }
    void *params = pl_xcalloc(1, set->size);
    for (const struct pl_param *p = set->table; r == 0 && p->name; p++) {
        json_t *v = value_of(p, settings, err, &r);
        if (v) {
            r = parse_value(p, v, params, err);
            json_decref(v);
        }
    }
    if (r == 0 && set->prepare) {
        r = set->prepare(params, err);
    }
    if (r < 0) {
        pl_params_free(set, params);
        return r;
    }
    *ret_params = params;
    return 0;
}

void pl_params_free(const struct pl_param_set *set, void *params)
{
    if (!set || !params) {
        return;
    }
    if (set->finish) {
        set->finish(params);
    }
    for (const struct pl_param *p = set->table; p->name; p++) {
        if (p->type == PL_PARAM_STRING) {
            free(*(char **)field(params, p));
        } else if (p->type == PL_PARAM_STRLIST) {
            pl_strlist_finish(field(params, p));
        } else if (p->type == PL_PARAM_STRMAP) {
            strmap_finish(field(params, p));
        }
    }
    free(params);
}

const char *pl_param_type_text(const struct pl_param *p, char *buf, size_t size)
{
    switch (p->type) {
    case PL_PARAM_BOOL:
        snprintf(buf, size, "boolean");
        break;
    case PL_PARAM_INT:
        snprintf(buf, size, "integer, %lld to %lld", p->min, p->max);
        break;
    case PL_PARAM_STRING:
        if (p->len_max) {
            snprintf(buf, size, "string, at most %zu characters", p->len_max);
        } else {
            snprintf(buf, size, "string");
        }
        break;
    case PL_PARAM_ENUM:
        choices_text(p, false, buf, size);
        break;
    case PL_PARAM_STRLIST:
    case PL_PARAM_STRMAP: {
        const char *what = p->type == PL_PARAM_STRLIST ? "list of strings" : "mapping of strings";
        if (p->max > 0) {
            snprintf(buf, size, "%s, at most %lld", what, p->max);
        } else {
            snprintf(buf, size, "%s", what);
        }
        break;
    }
    default:
        snprintf(buf, size, "?");
        break;
    }
    return buf;
}

/* Appends v written as YAML flow text ("[a, b]") to buf at *n. */
static void flow_text(const json_t *v, char *buf, size_t size, size_t *n)
{
    int w = 0;
    if (json_is_string(v)) {
        w = snprintf(buf + *n, size - *n, "%s", json_string_value(v));
    } else if (json_is_array(v)) {
        w = snprintf(buf + *n, size - *n, "[");
        *n += w > 0 && (size_t)w < size - *n ? (size_t)w : 0;
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i > 0) {
                w = snprintf(buf + *n, size - *n, ", ");
                *n += w > 0 && (size_t)w < size - *n ? (size_t)w : 0;
            }
            flow_text(json_array_get(v, i), buf, size, n);
        }
        w = snprintf(buf + *n, size - *n, "]");
    } else if (json_is_object(v) && json_object_size(v) == 0) {
        w = snprintf(buf + *n, size - *n, "{}");
    } else if (json_is_integer(v)) {
        w = snprintf(buf + *n, size - *n, "%lld", (long long)json_integer_value(v));
    } else if (json_is_boolean(v)) {
        w = snprintf(buf + *n, size - *n, "%s", json_is_true(v) ? "true" : "false");
    } else {
        w = snprintf(buf + *n, size - *n, "?"); /* no table uses another kind of default */
    }
    *n += w > 0 && (size_t)w < size - *n ? (size_t)w : 0;
}

const char *pl_param_default_text(const struct pl_param *p, char *buf, size_t size)
{
    snprintf(buf, size, "none");
    json_t *v = p->def        ? json_loads(p->def, JSON_DECODE_ANY, NULL)
                : p->def_list ? list_json(p->def_list)
                              : NULL;
    if (v) {
        size_t n = 0;
        buf[0] = '\0';
        flow_text(v, buf, size, &n);
        json_decref(v);
    }
    return buf;
}
