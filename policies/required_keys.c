/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Required metadata keys (see required_keys.h). Keys are validated when the
 * configuration loads, so a typo fails the reload instead of silently
 * requiring a key nobody can set.
 */
#include "policies/required_keys.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "core/json.h"

/* Whether s[0..len) is a DNS-1123 subdomain (the optional prefix of a key). */
static bool is_dns_subdomain(const char *s, size_t len)
{
    if (len == 0 || len > 253 || !isalnum((unsigned char)s[0]) ||
        !isalnum((unsigned char)s[len - 1])) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!(islower(ch) || isdigit(ch) || ch == '-' || ch == '.')) {
            return false;
        }
    }
    return true;
}

/* Whether s[0..len) is the name part of a key: 1-63 of [A-Za-z0-9._-], alphanumeric ends. */
static bool is_key_name(const char *s, size_t len)
{
    if (len == 0 || len > 63 || !isalnum((unsigned char)s[0]) ||
        !isalnum((unsigned char)s[len - 1])) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!(isalnum(ch) || ch == '-' || ch == '.' || ch == '_')) {
            return false;
        }
    }
    return true;
}

bool pl_metadata_key_valid(const char *key)
{
    const char *slash = strchr(key, '/');
    if (!slash) {
        return is_key_name(key, strlen(key));
    }
    return is_dns_subdomain(key, (size_t)(slash - key)) &&
           is_key_name(slash + 1, strlen(slash + 1));
}

int pl_metadata_key_check(const char *key, const char *noun, const char *path, struct pl_error *err)
{
    if (!pl_metadata_key_valid(key)) {
        return pl_error_set(err, path, 0, "\"%.200s\" is not a valid %s key", key, noun);
    }
    return 0;
}

void pl_required_keys_check(const struct pl_required_keys_kind *kind, const struct pl_eval *ev,
                            struct pl_report *out)
{
    const struct pl_required_keys_params *params = ev->params;
    const json_t *map = pl_json_object(ev->obj->pod_meta, kind->field);
    for (size_t i = 0; i < params->keys.len; i++) {
        const char *key = params->keys.items[i];
        const json_t *value = json_object_get(map, key);
        pl_report_identify(out, NULL, key); /* one field, several keys */
        if (!value || json_is_null(value)) {
            pl_report_add(out, PL_SCOPE_POD_META, kind->field, "missing %s %s; add it to the pod%s",
                          kind->noun, key, ev->obj->kind == PL_KIND_POD ? "" : " template");
        } else if (!json_is_string(value)) {
            pl_report_add(out, PL_SCOPE_POD_META, kind->field,
                          "%s %s is not a string; quote its value", kind->noun, key);
        } else if (json_string_length(value) == 0) {
            pl_report_add(out, PL_SCOPE_POD_META, kind->field, "%s %s is empty; give it a value",
                          kind->noun, key);
        }
    }
}
