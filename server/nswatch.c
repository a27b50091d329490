/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PLACEHOLDER until the namespace watch lands: no API server is ever
 * configured, so plimsoll serve runs standalone.
 */
#include "server/nswatch.h"

#include <errno.h>

int pl_nswatch_new(const struct pl_nswatch_options *opts, struct pl_nswatch **ret,
                   struct pl_error *err)
{
    (void)opts;
    (void)ret;
    (void)err;
    return -ENOENT;
}

int pl_nswatch_start(struct pl_nswatch *w)
{
    (void)w;
    return -ENOENT;
}

json_t *pl_nswatch_annotations(struct pl_nswatch *w, const char *ns)
{
    (void)w;
    (void)ns;
    return NULL;
}

bool pl_nswatch_synced(struct pl_nswatch *w)
{
    (void)w;
    return false;
}

double pl_nswatch_staleness_seconds(struct pl_nswatch *w)
{
    (void)w;
    return 0;
}

void pl_nswatch_free(struct pl_nswatch *w)
{
    (void)w;
}
