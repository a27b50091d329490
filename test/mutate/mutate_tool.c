/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A test driver for the mutations, so that the patch can be checked end to
 * end without the HTTP server: it runs pl_mutate() on an object (on a copy),
 * and for an AdmissionReview what POST /mutate runs (pl_admission_decode,
 * pl_mutate_review on the review's own object, pl_admission_encode), and
 * prints JSON for test/mutate/run.py to apply with an independent
 * JSON-Patch implementation.
 *
 *   mutate_tool [--config FILE] [--operation OP] [--namespace NS]
 *               [--ns-annotation KEY=VALUE]... [--old FILE] FILE|-
 *
 * FILE holds one object (YAML or JSON): the output is
 * {"object": <the object as JSON>, "patch": [...]}. FILE may instead hold an
 * AdmissionReview: the output is then the response AdmissionReview exactly
 * as the server would send it (base64 patch, patchType JSONPatch). Exit 0 on
 * success, 1 when pl_mutate() fails (the message on stderr), 2 on bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/pool.h"
#include "core/yaml.h"
#include "engine/admission.h"
#include "engine/config.h"
#include "engine/mutate.h"
#include "policies/patch.h"

#define INPUT_MAX (4u * 1024u * 1024u)

/* Reads path ("-" is stdin) into b. Returns 0 or -1 with a message on stderr. */
static int read_input(const char *path, struct pl_buf *b)
{
    int fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "mutate_tool: cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    int r = 0;
    for (;;) {
        char chunk[16384];
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0 || pl_buf_append(b, chunk, (size_t)n) < 0) {
            if (n != 0) {
                fprintf(stderr, "mutate_tool: cannot read %s\n", path);
                r = -1;
            }
            break;
        }
    }
    if (fd != STDIN_FILENO) {
        close(fd);
    }
    return r;
}

/* Parses the one document of path: JSON when it starts with '{', else YAML. New reference. */
static json_t *load_document(const char *path)
{
    struct pl_buf b;
    pl_buf_init(&b, INPUT_MAX);
    json_t *doc = NULL;
    if (read_input(path, &b) < 0) {
        goto out;
    }
    const char *text = pl_buf_str(&b);
    size_t skip = strspn(text, " \t\r\n");
    if (text[skip] == '{') {
        char why[256];
        doc = pl_json_load(text, b.len, why, sizeof(why));
        if (!doc) {
            fprintf(stderr, "mutate_tool: %s: %s\n", path, why);
        }
        goto out;
    }
    json_t *docs = NULL;
    struct pl_error err;
    pl_error_init(&err);
    if (pl_yaml_load(text, b.len, &docs, NULL, &err) < 0 || json_array_size(docs) != 1) {
        fprintf(stderr, "mutate_tool: %s: expected one YAML document (%s)\n", path, err.message);
        json_decref(docs);
        goto out;
    }
    doc = json_incref(json_array_get(docs, 0));
    json_decref(docs);
out:
    pl_buf_finish(&b);
    return doc;
}

static void print_json(json_t *v)
{
    char *text = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!text) {
        pl_oom();
    }
    printf("%s\n", text);
    free(text);
}

struct options {
    const char *config;
    const char *operation;
    const char *namespace_;
    const char *old;
    json_t *ns_annotations; /* owned */
};

static int parse_options(int argc, char **argv, struct options *o)
{
    static const struct option long_options[] = {
        {"config", required_argument, NULL, 'c'},
        {"operation", required_argument, NULL, 'o'},
        {"namespace", required_argument, NULL, 'n'},
        {"ns-annotation", required_argument, NULL, 'a'},
        {"old", required_argument, NULL, 'p'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
        char *eq = NULL;
        switch (c) {
        case 'c':
            o->config = optarg;
            break;
        case 'o':
            o->operation = optarg;
            break;
        case 'n':
            o->namespace_ = optarg;
            break;
        case 'p':
            o->old = optarg;
            break;
        case 'a':
            eq = strchr(optarg, '=');
            if (!eq) {
                fprintf(stderr, "mutate_tool: --ns-annotation wants KEY=VALUE\n");
                return -1;
            }
            *eq = '\0';
            json_object_set_new(o->ns_annotations, optarg, json_string(eq + 1));
            break;
        default:
            return -1;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "usage: mutate_tool [--config FILE] [--operation OP] [--namespace NS] "
                        "[--ns-annotation K=V]... [--old FILE] FILE|-\n");
        return -1;
    }
    return 0;
}

/* Object mode: prints {"object", "patch"}. */
static int run_object(const struct pl_config *cfg, const struct options *o, json_t *object,
                      struct pl_pool *pool)
{
    struct pl_request req = {
        .operation = PL_OP_CREATE,
        .namespace_ = o->namespace_,
        .object = object,
        .ns_annotations = json_object_size(o->ns_annotations) ? o->ns_annotations : NULL,
    };
    json_t *old = NULL;
    json_t *patch = NULL;
    int rc = 1;
    if (o->operation && pl_operation_parse(o->operation, &req.operation) < 0) {
        fprintf(stderr, "mutate_tool: unknown operation %s\n", o->operation);
        return 2;
    }
    if (o->old) {
        old = load_document(o->old);
        if (!old) {
            return 2;
        }
        req.old_object = old;
    }
    struct pl_error err;
    pl_error_init(&err);
    if (pl_mutate(cfg, &req, pool, &patch, &err) < 0) {
        fprintf(stderr, "mutate_tool: %s\n", err.message);
        goto out;
    }
    json_t *out = json_pack("{s:O, s:O}", "object", object, "patch", patch);
    print_json(out);
    json_decref(out);
    rc = 0;
out:
    json_decref(patch);
    json_decref(old);
    return rc;
}

/* Review mode: prints the response AdmissionReview. */
static int run_review(const struct pl_config *cfg, const struct options *o, json_t *review,
                      struct pl_pool *pool)
{
    struct pl_admission adm;
    struct pl_error err;
    pl_error_init(&err);
    if (pl_admission_decode(review, &adm, &err) < 0) {
        fprintf(stderr, "mutate_tool: invalid AdmissionReview: %s\n", err.message);
        return 2;
    }
    adm.request.ns_annotations = json_object_size(o->ns_annotations) ? o->ns_annotations : NULL;
    struct pl_decision decision;
    struct pl_buf patch;
    pl_buf_init(&patch, PL_PATCH_MAX_TEXT + 2);
    size_t ops = 0;
    /* As the server does it: in place, on the review's own object. The object
     * mode above runs pl_mutate() on a copy; run.py checks both give one patch. */
    json_t *object = json_object_get(json_object_get(review, "request"), "object");
    if (pl_mutate_review(cfg, &adm.request, json_is_object(object) ? object : NULL, pool, &decision,
                         &patch, &ops, &err) < 0) {
        fprintf(stderr, "mutate_tool: %s\n", err.message);
        pl_buf_finish(&patch);
        return 1;
    }
    json_t *response = pl_admission_encode(&adm, &decision, patch.data, patch.len);
    print_json(response);
    json_decref(response);
    pl_buf_finish(&patch);
    return 0;
}

int main(int argc, char **argv)
{
    struct options o = {.ns_annotations = json_object()};
    struct pl_config *cfg = NULL;
    json_t *doc = NULL;
    struct pl_pool pool;
    pl_pool_init(&pool);
    int rc = 2;
    if (parse_options(argc, argv, &o) < 0) {
        goto out;
    }
    if (o.config) {
        struct pl_error err;
        pl_error_init(&err);
        if (pl_config_load_file(o.config, NULL, &cfg, &err) < 0) {
            char text[1024];
            fprintf(stderr, "mutate_tool: %s: %s\n", o.config,
                    pl_error_format(&err, text, sizeof(text)));
            goto out;
        }
    } else {
        cfg = pl_config_new_default(NULL);
    }
    doc = load_document(argv[optind]);
    if (!doc) {
        goto out;
    }
    const char *kind = pl_json_string(doc, "kind");
    if (kind && strcmp(kind, "AdmissionReview") == 0) {
        rc = run_review(cfg, &o, doc, &pool);
    } else {
        rc = run_object(cfg, &o, doc, &pool);
    }
out:
    pl_pool_finish(&pool);
    json_decref(doc);
    json_decref(o.ns_annotations);
    pl_config_unref(cfg);
    return rc;
}
