/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: an AdmissionReview body as POST /validate and POST /mutate
 * get it. The bytes go through exactly the server's path:
 * pl_json_load_skipping (managedFields left out), pl_admission_decode, pl_evaluate, pl_mutate,
 * pl_admission_encode, and the response is serialised. Each input runs under two configurations:
 * the built-in defaults, and one with every policy enforced and every
 * mutation on (so that off-by-default code runs too).
 *
 * Besides "no crash, no leak, no undefined behaviour", the target aborts
 * when a promise of SPEC §3/§9 is broken: allowed exactly when there is no
 * rejection message, the message within PL_MESSAGE_MAX, the warnings within
 * PL_WARNINGS_MAX and PL_WARNING_MAX each, the uid echoed, the response
 * serialisable, a patch only from /mutate, and pl_mutate_review (what
 * the server runs) agreeing with pl_mutate (on a copy) in status and patch.
 *
 * Harness-only convenience: a top-level "namespaceAnnotations" object in
 * the review (which a real API server never sends) is used as the
 * namespace's annotations, so that the fuzzer reaches the mode precedence
 * of SPEC §6 (plimsoll.dev/mode, plimsoll.dev/<id>, mutation on/off).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/pool.h"
#include "core/report.h"
#include "engine/admission.h"
#include "engine/config.h"
#include "engine/evaluate.h"
#include "engine/mutate.h"
#include "policies/patch.h"
#include "policies/registry.h"

/* The server refuses larger bodies with 413 before parsing. */
#define BODY_MAX (3u * 1024u * 1024u)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pl_config *configs[2];

/* Every policy enforced, every mutation on, templates mutated too. */
static struct pl_config *strict_config(void)
{
    struct pl_buf b;
    pl_buf_init(&b, 1u << 16);
    int r = pl_buf_puts(&b, "policies:\n");
    for (size_t i = 0; r == 0 && pl_policies[i]; i++) {
        r = pl_buf_printf(&b, "  %s: {mode: enforce}\n", pl_policies[i]->id);
    }
    if (r == 0) {
        r = pl_buf_puts(&b, "mutations:\n  mutate-templates: true\n");
    }
    for (size_t i = 0; r == 0 && pl_mutations[i]; i++) {
        r = pl_buf_printf(&b, "  %s: {enabled: true}\n", pl_mutations[i]->id);
    }
    struct pl_config *cfg = NULL;
    struct pl_error err;
    pl_error_init(&err);
    if (r != 0 || pl_config_parse(pl_buf_str(&b), b.len, "plimsoll", &cfg, &err) < 0) {
        abort(); /* the harness's own configuration must load */
    }
    pl_buf_finish(&b);
    return cfg;
}

static void init_once(void)
{
    if (!configs[0]) {
        configs[0] = pl_config_new_default("plimsoll");
        configs[1] = strict_config();
    }
}

/* Aborts unless d keeps the size and consistency promises of SPEC §3 and §9. */
static void check_decision(const struct pl_decision *d)
{
    if (d->allowed != (d->message == NULL)) {
        abort();
    }
    if (d->message && strlen(d->message) > PL_MESSAGE_MAX) {
        abort();
    }
    if (!json_is_array(d->warnings)) {
        abort();
    }
    size_t total = 0;
    size_t i;
    const json_t *w;
    json_array_foreach(d->warnings, i, w)
    {
        if (!json_is_string(w) || json_string_length(w) > PL_WARNING_MAX) {
            abort();
        }
        total += json_string_length(w);
    }
    if (total > PL_WARNINGS_MAX) {
        abort();
    }
}

/* Serialises the response and checks the uid echo; patch may be NULL. */
static void check_response(const struct pl_admission *adm, const struct pl_decision *d,
                           const json_t *patch)
{
    char *patch_text = json_array_size(patch) > 0 ? pl_json_dump(patch, JSON_COMPACT, NULL) : NULL;
    json_t *out = pl_admission_encode(adm, d, patch_text, patch_text ? strlen(patch_text) : 0);
    free(patch_text);
    const json_t *response = json_object_get(out, "response");
    const char *uid = json_string_value(json_object_get(response, "uid"));
    if (!uid || strcmp(uid, adm->uid) != 0 ||
        json_is_true(json_object_get(response, "allowed")) != d->allowed) {
        abort();
    }
    if (!patch && json_object_get(response, "patch")) {
        abort();
    }
    char *text = json_dumps(out, JSON_COMPACT);
    if (!text) {
        abort();
    }
    free(text);
    json_decref(out);
}

static void validate(const struct pl_config *cfg, const struct pl_admission *adm,
                     struct pl_pool *pool)
{
    struct pl_decision d;
    struct pl_error err;
    pl_error_init(&err);
    if (pl_evaluate(cfg, &adm->request, pool, &d, &err) == 0) {
        check_decision(&d);
        check_response(adm, &d, NULL);
    } else if (!err.message[0]) {
        abort(); /* every failure explains itself */
    }
    pl_pool_clear(pool);
}

/*
 * pl_mutate_review on a copy of the object (the server's way) must give
 * exactly what pl_mutate gives: the same status and, on success, the same
 * patch; past the operation bound, no patch and a warning instead of -E2BIG.
 */
static void check_in_place(const struct pl_config *cfg, const struct pl_admission *adm,
                           struct pl_pool *pool, int r, const json_t *patch)
{
    json_t *object = json_deep_copy(adm->request.object);
    struct pl_request req = adm->request;
    req.object = object;
    struct pl_buf text;
    pl_buf_init(&text, PL_PATCH_MAX_TEXT + 2);
    size_t ops = 0;
    struct pl_decision d;
    struct pl_error err;
    pl_error_init(&err);
    int r2 = pl_mutate_review(cfg, &req, object, pool, &d, &text, &ops, &err);
    json_t *patch2 = text.len ? pl_json_load(text.data, text.len, NULL, 0) : json_array();
    if (!patch2 || json_array_size(patch2) != ops) {
        abort(); /* the text is the patch, and says how many operations */
    }
    if (r == -E2BIG) {
        if (r2 != 0 || ops != 0 || json_array_size(d.warnings) == 0) {
            abort(); /* a patch too large is admitted unchanged, with a warning */
        }
    } else if (r2 != r || (r == 0 && !json_equal(patch, patch2))) {
        abort(); /* in place and on a copy disagree */
    }
    if (!d.allowed) {
        abort();
    }
    json_decref(patch2);
    pl_buf_finish(&text);
    json_decref(object);
}

static void mutate(const struct pl_config *cfg, const struct pl_admission *adm,
                   struct pl_pool *pool)
{
    if (!adm->request.object) {
        return; /* the server answers "allowed" without calling pl_mutate */
    }
    json_t *patch = NULL;
    struct pl_error err;
    pl_error_init(&err);
    int r = pl_mutate(cfg, &adm->request, pool, &patch, &err);
    if (r == 0) {
        if (!json_is_array(patch)) {
            abort();
        }
        struct pl_decision d;
        memset(&d, 0, sizeof(d));
        d.allowed = true;
        check_response(adm, &d, patch);
    } else if (!err.message[0]) {
        abort();
    }
    check_in_place(cfg, adm, pool, r, patch);
    json_decref(patch);
    pl_pool_clear(pool);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > BODY_MAX) {
        return 0;
    }
    init_once();
    char why[512];
    json_t *review =
        pl_json_load_skipping((const char *)data, size, "managedFields", why, sizeof(why));
    if (!review) {
        return 0;
    }
    struct pl_admission adm;
    struct pl_error err;
    pl_error_init(&err);
    if (pl_admission_decode(review, &adm, &err) < 0) {
        if (!err.message[0]) {
            abort();
        }
        json_decref(review);
        return 0;
    }
    if (strlen(adm.uid) == 0 || strlen(adm.uid) > PL_ADMISSION_MAX_UID) {
        abort();
    }
    adm.request.ns_annotations = pl_json_object(review, "namespaceAnnotations");
    struct pl_pool pool;
    pl_pool_init(&pool);
    for (size_t i = 0; i < sizeof(configs) / sizeof(configs[0]); i++) {
        validate(configs[i], &adm, &pool);
        mutate(configs[i], &adm, &pool);
    }
    pl_pool_finish(&pool);
    json_decref(review);
    return 0;
}
