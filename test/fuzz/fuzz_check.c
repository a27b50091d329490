/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: the path of `plimsoll check` (cli/cmd_check.c), from a
 * manifest file to verdicts, through the same engine/manifest.c the command
 * uses: documents and List items (typed lists too) to requests, Namespace
 * annotations, the default namespace, the schema checks of engine/schema.c,
 * and the line of every finding, and the neighbour set built from the
 * documents (PodDisruptionBudgets, autoscalers, NetworkPolicies and the
 * policies that read them). Each object is evaluated under the built-in
 * defaults, with network-policy (off by default) switched on.
 *
 * The target aborts when an evaluation breaks the promises of SPEC §9
 * (allowed exactly when there is no message; message and warnings within
 * their bounds), fails without a reason, or a finding is located outside its
 * file.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/pool.h"
#include "core/report.h"
#include "engine/config.h"
#include "engine/evaluate.h"
#include "engine/manifest.h"
#include "engine/schema.h"

/* Inputs past this are not interesting, only slow. */
#define INPUT_MAX (1u * 1024u * 1024u)
/* Objects evaluated per input: an aliased List can name millions. */
#define MAX_OBJECTS 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pl_config *cfg;

static void check_decision(const struct pl_decision *d)
{
    if (d->allowed != (d->message == NULL) || (d->message && strlen(d->message) > PL_MESSAGE_MAX) ||
        !json_is_array(d->warnings)) {
        abort();
    }
    size_t total = 0;
    size_t i;
    const json_t *w;
    json_array_foreach(d->warnings, i, w)
    {
        if (json_string_length(w) > PL_WARNING_MAX) {
            abort();
        }
        total += json_string_length(w);
    }
    if (total > PL_WARNINGS_MAX) {
        abort();
    }
}

/* Every location is a line and column of at least 1, and inside the file when it has that
 * many lines (a UTF-16 stream, which libyaml converts, is counted differently). */
static void check_location(const struct pl_manifest *m, size_t i, const char *path)
{
    int line, column;
    pl_manifest_locate(m, i, path, &line, &column);
    const struct pl_manifest_file *f = &m->files[m->objects[i].file];
    if (line < 1 || column < 1 || ((size_t)line > f->n_lines && column != 1)) {
        abort();
    }
}

/* Evaluates object i as cmd_check.c's evaluate_object does. */
static void evaluate(const struct pl_manifest *m, size_t i, const struct pl_neighbours *n,
                     struct pl_pool *pool)
{
    struct pl_request req;
    json_t *annotations = NULL;
    struct pl_error err;
    pl_error_init(&err);
    check_location(m, i, NULL);
    if (pl_manifest_request(m, i, PL_MANIFEST_DEFAULT_NAMESPACE, NULL, &req, &annotations, &err) <
        0) {
        if (!err.message[0]) {
            abort();
        }
        return;
    }
    json_t *problems = pl_schema_check(req.object);
    size_t k;
    const json_t *p;
    json_array_foreach(problems, k, p)
    {
        check_location(m, i, json_string_value(json_object_get(p, "path")));
    }
    json_decref(problems);
    req.neighbours = n;
    struct pl_decision d;
    if (pl_evaluate(cfg, &req, pool, &d, &err) == 0) {
        check_decision(&d);
        for (size_t v = 0; v < d.report.len; v++) {
            check_location(m, i, d.report.items[v].path);
        }
    } else if (!err.message[0]) {
        abort();
    }
    pl_pool_clear(pool);
    json_decref(annotations);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > INPUT_MAX) {
        return 0;
    }
    if (!cfg) {
        static const char text[] = "policies:\n  network-policy: {mode: warn}\n";
        struct pl_error cfg_err;
        pl_error_init(&cfg_err);
        if (pl_config_parse(text, sizeof(text) - 1, "plimsoll", &cfg, &cfg_err) < 0) {
            abort();
        }
    }
    struct pl_manifest m;
    pl_manifest_init(&m, MAX_OBJECTS);
    struct pl_error err;
    pl_error_init(&err);
    if (pl_manifest_add(&m, "fuzz", (const char *)data, size, NULL, &err) < 0) {
        if (!err.message[0]) {
            abort();
        }
        pl_manifest_finish(&m);
        return 0;
    }
    struct pl_neighbours n;
    pl_neighbours_init(&n);
    pl_manifest_neighbours(&m, PL_MANIFEST_DEFAULT_NAMESPACE, &n);
    struct pl_pool pool;
    pl_pool_init(&pool);
    for (size_t i = 0; i < m.n_objects; i++) {
        evaluate(&m, i, &n, &pool);
    }
    pl_pool_finish(&pool);
    pl_neighbours_finish(&n);
    pl_manifest_finish(&m);
    return 0;
}
