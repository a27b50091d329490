/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: core/yaml, the reader of configuration files and of the
 * manifests given to `plimsoll check`. Any bytes go to pl_yaml_load() with
 * a line map requested.
 *
 * The target aborts when a promise of core/yaml.h is broken: failure is
 * -EINVAL with a message and leaves the out-parameters alone; success
 * gives one line map per document, no null document, no NULL value
 * anywhere in the tree, and at most PL_YAML_MAX_NODES values even with
 * every alias expanded (the alias-bomb cap). The depth limit is checked
 * too, once the alias bug noted in walk() is fixed.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "core/error.h"
#include "core/yaml.h"

/* Inputs past this are not interesting, only slow. */
#define INPUT_MAX (1u * 1024u * 1024u)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Counts v's values with aliases expanded; aborts past the caps. The loader
 * counts scalars and expanded aliases but not the collections written out
 * in full, each of which takes at least one byte of input: hence the cap
 * plus the input size.
 */
static void walk(const json_t *v, int depth, size_t *nodes, size_t max_nodes)
{
    if (!v || ++*nodes > max_nodes) {
        abort();
    }
    /* Aliases count in the depth too (corpus/yaml/alias-depth.yaml). */
    if (depth > PL_YAML_MAX_DEPTH) {
        abort();
    }
    size_t i;
    const char *key;
    const json_t *child;
    if (json_is_array(v)) {
        json_array_foreach(v, i, child)
        {
            walk(child, depth + 1, nodes, max_nodes);
        }
    } else if (json_is_object(v)) {
        json_object_foreach((json_t *)v, key, child)
        {
            walk(child, depth + 1, nodes, max_nodes);
        }
    } else if (json_is_string(v) && !json_string_value(v)) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > INPUT_MAX) {
        return 0;
    }
    json_t *docs = NULL;
    json_t *lines = NULL;
    struct pl_error err;
    pl_error_init(&err);
    int r = pl_yaml_load((const char *)data, size, &docs, &lines, &err);
    if (r < 0) {
        if (r != -EINVAL || !err.message[0] || docs || lines || err.line < 0) {
            abort();
        }
        return 0;
    }
    if (r != 0 || !json_is_array(docs) || !json_is_array(lines) ||
        json_array_size(docs) != json_array_size(lines)) {
        abort();
    }
    size_t nodes = 0;
    size_t i;
    const json_t *doc;
    json_array_foreach(docs, i, doc)
    {
        if (json_is_null(doc) || !json_is_object(json_array_get(lines, i))) {
            abort();
        }
        walk(doc, 0, &nodes, PL_YAML_MAX_NODES + size);
    }
    json_decref(docs);
    json_decref(lines);
    return 0;
}
