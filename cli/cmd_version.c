/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plimsoll version: version, git commit, build date.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

const char pl_version[] = PL_VERSION;
const char pl_git_commit[] = PL_GIT_COMMIT;
const char pl_build_date[] = PL_BUILD_DATE;

int pl_cmd_version(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf(
            "Usage: plimsoll version\n\nPrints the version, the git commit and the build date.\n");
        return PL_EXIT_OK;
    }
    if (argc > 1) {
        fprintf(stderr, "plimsoll version: unexpected argument \"%s\"\n", argv[1]);
        return PL_EXIT_USAGE;
    }
    printf("plimsoll %s (commit %s, built %s)\n", pl_version, pl_git_commit, pl_build_date);
    return PL_EXIT_OK;
}
