/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Mode names (see mode.h).
 */
#include "core/mode.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

static const char *const mode_names[] = {"off", "warn", "enforce"};

const char *pl_mode_name(enum pl_mode mode)
{
    return (unsigned)mode < PL_ARRAY_SIZE(mode_names) ? mode_names[mode] : "off";
}

int pl_mode_parse(const char *name, enum pl_mode *ret_mode)
{
    for (size_t i = 0; name && i < PL_ARRAY_SIZE(mode_names); i++) {
        if (strcmp(name, mode_names[i]) == 0) {
            *ret_mode = (enum pl_mode)i;
            return 0;
        }
    }
    return -EINVAL;
}
