/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: the path of `plimsoll check` (cli/cmd_check.c), from a
 * manifest file to verdicts. The bytes are a YAML or JSON stream; its
 * documents are expanded as the command does (List items, recursively;
 * Namespace objects lend their annotations to the objects in them), and
 * each object is evaluated under the built-in defaults as a CREATE, or,
 * for an AdmissionReview document, as its request. Objects without a
 * namespace are in "default". cli/ is an executable, not a library, so
 * these few lines of it are repeated here.
 *
 * The target aborts when an evaluation breaks the promises of SPEC §9
 * (allowed exactly when there is no message; message and warnings within
 * their bounds) or fails without a reason.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/json.h"
#include "core/pool.h"
#include "core/report.h"
#include "core/yaml.h"
#include "engine/admission.h"
#include "engine/config.h"
#include "engine/evaluate.h"

/* Inputs past this are not interesting, only slow. */
#define INPUT_MAX (1u * 1024u * 1024u)
/* Objects evaluated per input: an aliased List can name millions. */
#define MAX_OBJECTS 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pl_config *cfg;

struct check {
    json_t *objects;        /* borrowed documents, in input order */
    json_t *ns_annotations; /* namespace -> annotations (borrowed values) */
};

/* Adds doc, or the items of a List, to c (as cmd_check.c's add_doc). */
static void add_doc(struct check *c, json_t *doc)
{
    if (json_array_size(c->objects) >= MAX_OBJECTS) {
        return;
    }
    const char *kind = pl_json_string(doc, "kind");
    if (kind && strcmp(kind, "List") == 0) {
        size_t i;
        json_t *item;
        json_array_foreach(json_object_get(doc, "items"), i, item)
        {
            add_doc(c, item);
        }
        return;
    }
    if (kind && strcmp(kind, "Namespace") == 0) {
        const json_t *meta = pl_json_object(doc, "metadata");
        const char *name = pl_json_string(meta, "name");
        const json_t *annotations = pl_json_object(meta, "annotations");
        if (name && annotations) {
            json_object_set(c->ns_annotations, name, (json_t *)annotations);
        }
    }
    json_array_append(c->objects, doc);
}

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

/* Evaluates one document as cmd_check.c's evaluate_doc does. */
static void evaluate(const struct check *c, const json_t *doc, struct pl_pool *pool)
{
    struct pl_request req = {.operation = PL_OP_CREATE, .object = doc};
    struct pl_admission adm;
    struct pl_error err;
    pl_error_init(&err);
    const char *kind = pl_json_string(doc, "kind");
    if (kind && strcmp(kind, "AdmissionReview") == 0) {
        if (pl_admission_decode(doc, &adm, &err) < 0) {
            if (!err.message[0]) {
                abort();
            }
            return;
        }
        req = adm.request;
    }
    const char *ns = req.namespace_;
    if (!ns || !*ns) {
        ns = pl_json_string(pl_json_object(req.object, "metadata"), "namespace");
    }
    if (!ns || !*ns) {
        ns = "default";
    }
    req.namespace_ = ns;
    req.ns_annotations = json_object_get(c->ns_annotations, ns);
    struct pl_decision d;
    if (pl_evaluate(cfg, &req, pool, &d, &err) == 0) {
        check_decision(&d);
    } else if (!err.message[0]) {
        abort();
    }
    pl_pool_clear(pool);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > INPUT_MAX) {
        return 0;
    }
    if (!cfg) {
        cfg = pl_config_new_default(NULL);
    }
    json_t *docs = NULL;
    struct pl_error err;
    pl_error_init(&err);
    if (pl_yaml_load((const char *)data, size, &docs, NULL, &err) < 0) {
        return 0;
    }
    struct check c = {.objects = json_array(), .ns_annotations = json_object()};
    size_t i;
    json_t *doc;
    json_array_foreach(docs, i, doc)
    {
        add_doc(&c, doc);
    }
    struct pl_pool pool;
    pl_pool_init(&pool);
    json_array_foreach(c.objects, i, doc)
    {
        evaluate(&c, doc, &pool);
    }
    pl_pool_finish(&pool);
    json_decref(c.objects);
    json_decref(c.ns_annotations);
    json_decref(docs);
    return 0;
}
