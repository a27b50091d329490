/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The --output formats of check and audit: one list to check the option
 * against and to render by (see output.h).
 */
#include "cli/output.h"

#include <string.h>

static const char *const format_names[] = {
    [PL_OUTPUT_TEXT] = "text",
    [PL_OUTPUT_JSON] = "json",
    [PL_OUTPUT_SARIF] = "sarif",
    [PL_OUTPUT_JUNIT] = "junit",
};

int pl_output_format_parse(const char *command, const char *name, enum pl_output_format *ret)
{
    for (size_t i = 0; i < sizeof(format_names) / sizeof(format_names[0]); i++) {
        if (strcmp(name, format_names[i]) == 0) {
            *ret = (enum pl_output_format)i;
            return 0;
        }
    }
    size_t n = sizeof(format_names) / sizeof(format_names[0]);
    fprintf(stderr, "plimsoll %s: --output must be", command);
    for (size_t i = 0; i < n; i++) {
        fprintf(stderr, "%s%s", i == 0 ? " " : i + 1 < n ? ", " : " or ", format_names[i]);
    }
    fputc('\n', stderr);
    return -1;
}

void pl_output_render(enum pl_output_format format, const json_t *results, FILE *out,
                      const struct pl_sarif_options *sarif)
{
    switch (format) {
    case PL_OUTPUT_TEXT:
        pl_output_text(results, out);
        break;
    case PL_OUTPUT_JSON:
        pl_output_json(results, out);
        break;
    case PL_OUTPUT_SARIF:
        pl_output_sarif(results, out, sarif);
        break;
    case PL_OUTPUT_JUNIT:
        pl_output_junit(results, out);
        break;
    }
}
