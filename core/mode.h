/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a policy does when it finds something (SPEC §5): enforce (reject),
 * warn (admit with a warning) or off. The names are the configuration's,
 * the namespace annotations' and every output's.
 */
#ifndef PL_CORE_MODE_H
#define PL_CORE_MODE_H

#include "core/compiler.h"

enum pl_mode {
    PL_MODE_OFF,
    PL_MODE_WARN,
    PL_MODE_ENFORCE,
};

/** "off", "warn" or "enforce" ("off" for a value out of range). Static storage. */
const char *pl_mode_name(enum pl_mode mode);

/** Parses a mode name (NULL is no name). Returns 0, or -EINVAL leaving *ret_mode as it was. */
PL_MUST_CHECK int pl_mode_parse(const char *name, enum pl_mode *ret_mode);

#endif
