/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `plimsoll check --output json`.
 */
#include "cli/output.h"

#include <stdlib.h>

#include "core/alloc.h"

void pl_output_json(const json_t *results, FILE *out)
{
    char *text = json_dumps(results, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (!text) {
        pl_oom();
    }
    fprintf(out, "%s\n", text);
    free(text);
}
