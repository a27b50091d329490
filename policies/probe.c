/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared probe rule (see probe.h).
 */
#include "policies/probe.h"

#include "core/json.h"

void pl_probe_require(const json_t *spec, struct pl_report *out, const char *probe,
                      const char *message)
{
    struct pl_container_iter it;
    struct pl_container c;
    pl_container_iter_init(&it, spec, PL_CTR_LONG_RUNNING);
    while (pl_container_iter_next(&it, &c)) {
        if (!pl_json_object(c.json, probe)) {
            pl_report_container(out, &c, NULL, "%s", message);
        }
    }
}
