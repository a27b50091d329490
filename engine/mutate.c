/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PLACEHOLDER: mutations are being written (issue: mutating webhook). Until
 * then no object is changed.
 */
#include "engine/mutate.h"

#include <errno.h>

int pl_mutate(const struct pl_config *cfg, const struct pl_request *req, struct pl_pool *pool,
              json_t **ret_patch, struct pl_error *err)
{
    (void)cfg;
    (void)pool;
    if (!json_is_object(req->object)) {
        return pl_error_set(err, "", 0, "the object is not a JSON object");
    }
    *ret_patch = json_array();
    return 0;
}
