/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: core/json_parse.c, the parser of every request body, checked
 * against jansson's own parser. Any bytes go to pl_json_load() and to
 * json_loadb(data, size, JSON_ALLOW_NUL); the target aborts when the two
 * disagree: one accepts what the other refuses, or both accept and build
 * values that json_equal() tells apart. A refusal must also explain itself
 * ("invalid JSON at line L, column C: ...").
 *
 * pl_json_load() promises jansson's acceptance and values at a fraction of
 * its cost; this target is what keeps that promise honest.
 *
 * The same bytes go to pl_json_load_skipping(…, "s") too: it must accept
 * exactly what pl_json_load accepts, and build jansson's value with every
 * member named "s" removed (a one-letter name, so that the fuzzer finds it).
 *
 * One difference is jansson's: its lexer loses a raw NUL byte that follows a
 * number or a literal (it "ungets" the NUL, which its stream then skips), so
 * it takes "[1\0]" for [1] and "[true\0]" for [true]. RFC 8259 has no such
 * document, and pl_json_load refuses it (corpus/json/raw-nul-after-*.json);
 * where the input holds a NUL byte, a refusal of ours against an acceptance
 * of jansson's is allowed (a raw NUL is never valid JSON, so that allowance
 * hides no real difference).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/json.h"

/* Inputs past this are not interesting, only slow. */
#define INPUT_MAX (1u * 1024u * 1024u)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Removes every object member named key from v, at any depth. */
static void remove_members(json_t *v, const char *key)
{
    size_t i;
    const char *k;
    json_t *child;
    void *tmp;
    if (json_is_array(v)) {
        json_array_foreach(v, i, child)
        {
            remove_members(child, key);
        }
    } else if (json_is_object(v)) {
        json_object_del(v, key);
        json_object_foreach_safe(v, tmp, k, child)
        {
            remove_members(child, key);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > INPUT_MAX) {
        return 0;
    }
    char why[256];
    json_t *ours = pl_json_load((const char *)data, size, why, sizeof(why));
    json_error_t jerr;
    json_t *theirs = json_loadb((const char *)data, size, JSON_ALLOW_NUL, &jerr);
    bool jansson_quirk = !ours && theirs && memchr(data, '\0', size);
    if (!ours != !theirs && !jansson_quirk) {
        abort(); /* one parser accepts what the other refuses */
    }
    if (ours && theirs && !json_equal(ours, theirs)) {
        abort(); /* both accept, with different values */
    }
    if (!ours && strncmp(why, "invalid JSON at line ", 21) != 0) {
        abort(); /* a refusal without its reason */
    }
    json_t *skipped = pl_json_load_skipping((const char *)data, size, "s", NULL, 0);
    if (!skipped != !ours) {
        abort(); /* skipping changed what is accepted */
    }
    if (skipped) {
        remove_members(ours, "s");
        if (!json_equal(skipped, ours)) {
            abort(); /* skipping left something in, or took something else out */
        }
    }
    json_decref(skipped);
    json_decref(ours);
    json_decref(theirs);
    return 0;
}
