/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `plimsoll check --output json`.
 */
#include "cli/output.h"

#include <stdlib.h>

#include "core/alloc.h"
#include "core/json.h"

void pl_output_json(const json_t *results, FILE *out)
{
    char *text = pl_json_dump(results, JSON_INDENT(2) | JSON_PRESERVE_ORDER, NULL);
    fprintf(out, "%s\n", text);
    free(text);
}
