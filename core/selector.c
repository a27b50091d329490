/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Label selectors (see selector.h).
 */
#include "core/selector.h"

#include <string.h>

#include "core/json.h"

/* Whether one matchExpressions requirement holds for labels. */
static bool requirement_holds(const json_t *req, const json_t *labels)
{
    const char *key = pl_json_string(req, "key");
    const char *op = pl_json_string(req, "operator");
    if (!key || !op) {
        return false;
    }
    const char *value = pl_json_string(labels, key);
    const json_t *values = pl_json_array(req, "values");
    if (strcmp(op, "In") == 0) {
        return value && pl_json_array_has_string(values, value);
    }
    if (strcmp(op, "NotIn") == 0) {
        return !value || !pl_json_array_has_string(values, value);
    }
    if (strcmp(op, "Exists") == 0) {
        return value != NULL;
    }
    if (strcmp(op, "DoesNotExist") == 0) {
        return value == NULL;
    }
    return false; /* unknown operator: the API server refuses it */
}

bool pl_selector_matches(const json_t *selector, const json_t *labels)
{
    if (!json_is_object(selector)) {
        return false;
    }
    const char *key;
    const json_t *v;
    const json_t *match = pl_json_object(selector, "matchLabels");
    json_object_foreach((json_t *)match, key, v)
    {
        const char *have = pl_json_string(labels, key);
        if (!json_is_string(v) || !have || strcmp(have, json_string_value(v)) != 0) {
            return false;
        }
    }
    size_t i;
    const json_t *req;
    json_array_foreach(pl_json_array(selector, "matchExpressions"), i, req)
    {
        if (!requirement_holds(req, labels)) {
            return false;
        }
    }
    return true;
}
