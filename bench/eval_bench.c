/* SPDX-License-Identifier: Apache-2.0 */
/*
 * eval_bench: the cost of plimsoll's own work on one AdmissionReview, without
 * sockets, TLS or HTTP, timed in-process (thread CPU time) per body:
 *
 *   parse     pl_json_load_skipping of the body (managedFields left out, as
 *             the server does) and its release
 *   evaluate  pl_evaluate of the whole catalog (the document parsed once)
 *   mutate    pl_mutate, every mutation on (with its copy of the object; the
 *             server's pl_mutate_review saves that copy, which cannot be
 *             repeated on one parsed document)
 *   pipeline  what a /validate request costs the handler: parse, decode,
 *             evaluate, encode the response, serialise it, free it all,
 *             with every jansson value on the request arena (core/jalloc.h)
 *   mutate_pipeline  the same for /mutate: parse, decode, pl_mutate_review
 *             on the parsed object, encode the response with its base64
 *             patch, serialise it, free it all
 *
 * under the configuration given with --config (bench/config.yaml: every
 * policy in enforce mode, every mutation on). Each stage runs until
 * --iterations or --seconds runs out, whichever comes first. Output: one
 * "eval file=... parse_us=... evaluate_us=... mutate_us=... pipeline_us=...
 * mutate_pipeline_us=..."
 * line per body.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "core/error.h"
#include "core/jalloc.h"
#include "core/json.h"
#include "core/pool.h"
#include "engine/admission.h"
#include "engine/config.h"
#include "engine/evaluate.h"
#include "engine/mutate.h"
#include "policies/patch.h"

#define MAX_BODY (8u * 1024u * 1024u)

struct body {
    const char *path;
    char *text;
    size_t len;
};

struct bench {
    struct pl_config *cfg;
    struct pl_pool pool;
    long iterations;
    uint64_t budget_ns;
};

static uint64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int read_body(const char *path, struct body *ret)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return -EIO;
    }
    char *buf = malloc(MAX_BODY);
    size_t n = buf ? fread(buf, 1, MAX_BODY, f) : 0;
    fclose(f);
    if (!buf || n == 0 || n == MAX_BODY) {
        free(buf);
        return -EIO;
    }
    ret->path = path;
    ret->text = buf;
    ret->len = n;
    return 0;
}

/* The stages; each returns 0 or a negative errno (a body that does not evaluate). */
static int stage_parse(struct bench *b, const struct body *body, const json_t *review)
{
    (void)b;
    (void)review;
    json_t *doc = pl_json_load_skipping(body->text, body->len, "managedFields", NULL, 0);
    int r = doc ? 0 : -EINVAL;
    json_decref(doc);
    return r;
}

static int stage_evaluate(struct bench *b, const struct body *body, const json_t *review)
{
    (void)body;
    struct pl_admission adm;
    struct pl_decision decision;
    struct pl_error err;
    pl_error_init(&err);
    int r = pl_admission_decode(review, &adm, &err);
    if (r == 0) {
        r = pl_evaluate(b->cfg, &adm.request, &b->pool, &decision, &err);
    }
    if (r == 0 && !decision.allowed) {
        r = -EPERM; /* the benchmark bodies are meant to pass */
    }
    pl_pool_clear(&b->pool);
    return r;
}

static int stage_mutate(struct bench *b, const struct body *body, const json_t *review)
{
    (void)body;
    struct pl_admission adm;
    struct pl_error err;
    pl_error_init(&err);
    json_t *patch = NULL;
    int r = pl_admission_decode(review, &adm, &err);
    if (r == 0) {
        r = pl_mutate(b->cfg, &adm.request, &b->pool, &patch, &err);
    }
    json_decref(patch);
    pl_pool_clear(&b->pool);
    return r;
}

/* Parses body as the handler does, on the request arena; NULL if it does not parse. */
static json_t *parse_on_arena(struct bench *b, const struct body *body)
{
    pl_jalloc_use(&b->pool);
    json_t *review = pl_json_load_skipping(body->text, body->len, "managedFields", NULL, 0);
    if (!review) {
        pl_jalloc_use(NULL);
    }
    return review;
}

/* Frees what parse_on_arena made, leaves the arena and clears the pool. */
static void release_arena(struct bench *b, json_t *review)
{
    json_decref(review);
    pl_jalloc_use(NULL);
    pl_pool_clear(&b->pool);
}

/* Encodes the response and serialises it, as the handler does; 0 or -ENOMEM. */
static int encode_response(const struct pl_admission *adm, const struct pl_decision *decision,
                           const char *patch, size_t patch_len)
{
    json_t *response = pl_admission_encode(adm, decision, patch, patch_len);
    char *text = pl_json_dump(response, JSON_COMPACT, NULL);
    int r = text ? 0 : -ENOMEM;
    free(text);
    json_decref(response);
    return r;
}

static int stage_pipeline(struct bench *b, const struct body *body, const json_t *unused)
{
    (void)unused;
    json_t *review = parse_on_arena(b, body);
    if (!review) {
        return -EINVAL;
    }
    struct pl_admission adm;
    struct pl_decision decision;
    struct pl_error err;
    pl_error_init(&err);
    int r = pl_admission_decode(review, &adm, &err);
    if (r == 0) {
        r = pl_evaluate(b->cfg, &adm.request, &b->pool, &decision, &err);
    }
    if (r == 0) {
        r = encode_response(&adm, &decision, NULL, 0);
    }
    release_arena(b, review);
    return r;
}

/* What a /mutate request costs the handler, as server/webhook.c does it: parse,
 * decode, mutate the parsed object in place, encode the response with its
 * base64 patch, serialise it, free it all. */
static int stage_mutate_pipeline(struct bench *b, const struct body *body, const json_t *unused)
{
    (void)unused;
    json_t *review = parse_on_arena(b, body);
    if (!review) {
        return -EINVAL;
    }
    struct pl_admission adm;
    struct pl_decision decision;
    struct pl_error err;
    pl_error_init(&err);
    struct pl_buf patch;
    pl_buf_init(&patch, PL_PATCH_MAX_TEXT + 2);
    size_t ops = 0;
    int r = pl_admission_decode(review, &adm, &err);
    if (r == 0) {
        json_t *object = json_object_get(json_object_get(review, "request"), "object");
        r = pl_mutate_review(b->cfg, &adm.request, object, &b->pool, &decision, &patch, &ops, &err);
    }
    if (r == 0 && ops == 0) {
        r = -EPERM; /* the benchmark bodies are meant to be mutated */
    }
    if (r == 0) {
        r = encode_response(&adm, &decision, patch.data, patch.len);
    }
    pl_buf_finish(&patch);
    release_arena(b, review);
    return r;
}

typedef int (*stage_fn)(struct bench *b, const struct body *body, const json_t *review);

/* Microseconds per call of fn, or a negative value when fn fails. */
static double time_stage(struct bench *b, stage_fn fn, const struct body *body,
                         const json_t *review)
{
    for (int i = 0; i < 20; i++) {
        if (fn(b, body, review) < 0) {
            return -1;
        }
    }
    uint64_t start = cpu_ns(), now = start;
    long n = 0;
    while (n < b->iterations && now - start < b->budget_ns) {
        if (fn(b, body, review) < 0) {
            return -1;
        }
        n++;
        now = cpu_ns();
    }
    return (double)(now - start) / 1000.0 / (double)n;
}

static int run_body(struct bench *b, const char *path)
{
    struct body body;
    if (read_body(path, &body) < 0) {
        fprintf(stderr, "eval_bench: cannot read %s\n", path);
        return -EIO;
    }
    char why[256];
    json_t *review = pl_json_load(body.text, body.len, why, sizeof(why));
    if (!review) {
        fprintf(stderr, "eval_bench: %s: %s\n", path, why);
        free(body.text);
        return -EINVAL;
    }
    static const struct {
        const char *name;
        stage_fn fn;
    } stages[] = {
        {"parse_us", stage_parse},
        {"evaluate_us", stage_evaluate},
        {"mutate_us", stage_mutate},
        {"pipeline_us", stage_pipeline},
        {"mutate_pipeline_us", stage_mutate_pipeline},
    };
    int r = 0;
    printf("eval file=%s bytes=%zu", path, body.len);
    for (size_t i = 0; i < sizeof(stages) / sizeof(stages[0]); i++) {
        double us = time_stage(b, stages[i].fn, &body, review);
        if (us < 0) {
            fprintf(stderr, "\neval_bench: %s: %s failed (not an admitted AdmissionReview?)\n",
                    path, stages[i].name);
            r = -EINVAL;
            break;
        }
        printf(" %s=%.2f", stages[i].name, us);
    }
    printf("\n");
    json_decref(review);
    free(body.text);
    return r;
}

int main(int argc, char **argv)
{
    struct bench b = {.iterations = 20000, .budget_ns = 2000000000ull};
    const char *config = NULL;
    int i = 1;
    for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
        if (strcmp(argv[i], "--config") == 0) {
            config = argv[i + 1];
        } else if (strcmp(argv[i], "--iterations") == 0) {
            b.iterations = strtol(argv[i + 1], NULL, 10);
        } else if (strcmp(argv[i], "--seconds") == 0) {
            b.budget_ns = (uint64_t)(strtod(argv[i + 1], NULL) * 1e9);
        } else {
            break;
        }
    }
    if (i >= argc || b.iterations < 1 || b.iterations > 100000000 || b.budget_ns == 0 ||
        b.budget_ns > 600000000000ull) {
        fprintf(stderr, "usage: eval_bench [--config FILE] [--iterations N] [--seconds S] "
                        "REVIEW.json...\n");
        return 2;
    }
    struct pl_error err;
    pl_error_init(&err);
    if (config) {
        if (pl_config_load_file(config, NULL, &b.cfg, &err) < 0) {
            fprintf(stderr, "eval_bench: %s: %s\n", config, err.message);
            return 2;
        }
    } else {
        b.cfg = pl_config_new_default(NULL);
    }
    pl_jalloc_install();
    pl_pool_init(&b.pool);
    int code = 0;
    for (; i < argc && code == 0; i++) {
        code = run_body(&b, argv[i]) < 0 ? 1 : 0;
    }
    pl_pool_finish(&b.pool);
    pl_config_unref(b.cfg);
    return code;
}
