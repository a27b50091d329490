/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test fixtures (see fixture.h).
 */
#include "test/helpers/fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/yaml.h"

#ifndef PL_SOURCE_ROOT
#define PL_SOURCE_ROOT "."
#endif

json_t *pl_test_yaml(const char *text)
{
    json_t *docs = NULL;
    struct pl_error err;
    pl_error_init(&err);
    if (pl_yaml_load(text, strlen(text), &docs, NULL, &err) < 0) {
        fail_msg("YAML fixture does not parse: %s (line %d)", err.message, err.line);
    }
    assert_int_equal(json_array_size(docs), 1);
    json_t *doc = json_incref(json_array_get(docs, 0));
    json_decref(docs);
    return doc;
}

char *pl_test_read_file(const char *relative_path)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", PL_SOURCE_ROOT, relative_path);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fail_msg("cannot open fixture %s", path);
    }
    size_t cap = 4096, len = 0;
    char *data = pl_xmalloc(cap);
    size_t n;
    while ((n = fread(data + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len - 1 == 0) {
            cap *= 2;
            data = pl_xrealloc(data, cap);
        }
    }
    fclose(f);
    data[len] = '\0';
    return data;
}

json_t *pl_test_yaml_file(const char *relative_path)
{
    char *text = pl_test_read_file(relative_path);
    json_t *doc = pl_test_yaml(text);
    free(text);
    return doc;
}
