/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: kube/stream.c, the streaming readers of what the API server
 * sends (a list page, a watch stream). The first byte picks a chunk size
 * (1 to 256); the rest is fed in chunks of that size, both as a list body
 * and as a watch stream. Checked:
 *   - every item handed over starts with '{', ends with '}' and stays
 *     within its bound; every watch line holds no '\n' and stays within its
 *     bound;
 *   - when the reader accepts and the whole input is valid JSON, the items
 *     it handed over are exactly the elements of "items", in order (parsed
 *     and compared with json_equal);
 *   - a refusal always says why.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/json.h"
#include "kube/stream.h"

#define INPUT_MAX (1u * 1024u * 1024u)
#define ITEM_MAX  4096u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct got {
    json_t *items; /* the parsed items, or JSON null for an unparsable one */
};

static int on_item(void *ud, const char *json, size_t len)
{
    struct got *g = ud;
    if (len < 2 || json[0] != '{' || json[len - 1] != '}' || len > ITEM_MAX) {
        abort();
    }
    json_t *v = pl_json_load(json, len, NULL, 0);
    if (json_array_append_new(g->items, v ? v : json_null()) < 0) {
        abort();
    }
    return 0;
}

static int on_line(void *ud, const char *line, size_t len)
{
    (void)ud;
    if (len == 0 || len > ITEM_MAX || memchr(line, '\n', len)) {
        abort();
    }
    json_decref(pl_json_load(line, len, NULL, 0));
    return 0;
}

/* When the whole input is a valid list, the reader's items must be its items. */
static void compare(const char *body, size_t len, const struct got *g)
{
    /* An escaped member name ("\u0069tems") is not looked for by the reader. */
    for (size_t i = 0; i + 1 < len; i++) {
        if (body[i] == '\\' && body[i + 1] == 'u') {
            return;
        }
    }
    json_t *doc = pl_json_load(body, len, NULL, 0);
    const json_t *items = json_object_get(doc, "items");
    if (json_is_array(items) && !json_equal(items, g->items)) {
        abort();
    }
    json_decref(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > INPUT_MAX) {
        return 0;
    }
    size_t step = (size_t)data[0] + 1;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;

    struct got g = {.items = json_array()};
    struct pl_kube_liststream s;
    pl_kube_liststream_init(&s, ITEM_MAX, on_item, &g);
    struct pl_kube_lines l;
    pl_kube_lines_init(&l, ITEM_MAX, on_line, NULL);
    int r = 0;
    int rl = 0;
    for (size_t at = 0; at < len; at += step) {
        size_t n = step < len - at ? step : len - at;
        if (r == 0) {
            r = pl_kube_liststream_feed(&s, body + at, n);
        }
        if (rl == 0) {
            rl = pl_kube_lines_feed(&l, body + at, n);
        }
    }
    if (r == 0) {
        r = pl_kube_liststream_end(&s);
    }
    if (r == 0) {
        compare(body, len, &g);
    } else if (!s.why[0]) {
        abort();
    }
    pl_kube_lines_finish(&l);
    pl_kube_liststream_finish(&s);
    json_decref(g.items);
    return 0;
}
