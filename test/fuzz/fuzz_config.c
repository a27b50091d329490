/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: engine/config, the loader of the configuration file that a
 * reload reads from a ConfigMap. Any bytes go to pl_config_parse(), which
 * runs core/yaml and every policy's and mutation's parameter table (pl_params_parse).
 *
 * The target aborts when a promise of engine/config.h is broken: failure
 * is -EINVAL with a message (and a line that is not negative), and leaves
 * *ret_cfg alone; success gives one reference to a snapshot whose every
 * policy mode is valid, that excludes the self namespace, and that a
 * ref/unref pair leaves intact.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/config.h"
#include "policies/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SELF_NAMESPACE "plimsoll-fuzz"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > PL_CONFIG_MAX_BYTES) {
        return 0; /* pl_config_load_file() refuses these before parsing */
    }
    struct pl_config *cfg = NULL;
    struct pl_error err;
    pl_error_init(&err);
    int r = pl_config_parse((const char *)data, size, SELF_NAMESPACE, &cfg, &err);
    if (r < 0) {
        if (r != -EINVAL || cfg || !err.message[0] || err.line < 0) {
            abort();
        }
        return 0;
    }
    if (r != 0 || !cfg || atomic_load(&cfg->refs) != 1 || !cfg->runbook_base_url ||
        !cfg->runbook_base_url[0] || !pl_config_excludes(cfg, SELF_NAMESPACE)) {
        abort();
    }
    for (size_t i = 0; pl_policies[i]; i++) {
        enum pl_mode m = cfg->policies[i].mode;
        if (m != PL_MODE_OFF && m != PL_MODE_WARN && m != PL_MODE_ENFORCE) {
            abort();
        }
    }
    for (size_t i = 0; i < cfg->n_exclude; i++) {
        if (!cfg->exclude_namespaces[i][0]) {
            abort();
        }
    }
    if (pl_config_unref(pl_config_ref(cfg)) != NULL || atomic_load(&cfg->refs) != 1) {
        abort();
    }
    pl_config_unref(cfg);
    return 0;
}
