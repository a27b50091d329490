/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plimsoll check: evaluate manifests exactly as admission would (SPEC §2).
 *
 * Input: YAML or JSON files, directories (walked for *.yaml, *.yml, *.json),
 * or - for stdin; multi-document; List and typed lists expanded; Namespace
 * objects lend their annotations (engine/manifest.c). Every object ends as
 * one of: admitted, rejected (a policy in enforce mode), invalid (the API
 * server would refuse it before any webhook: engine/schema.c), or skipped (a
 * kind plimsoll does not judge, an excluded namespace). Input that is not
 * Kubernetes objects at all, or no input, is an error (exit 2), never
 * "admitted".
 *
 * Every finding carries the line and column of its field, so that each
 * output format (cli/output_*.c) can point at it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/files.h"
#include "cli/flags.h"
#include "cli/output.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/keys.h"
#include "core/pool.h"
#include "engine/config.h"
#include "engine/evaluate.h"
#include "engine/manifest.h"
#include "engine/verdict.h"
#include "kube/client.h"

/* Largest manifest file read. */
#define MAX_INPUT (64u * 1024u * 1024u)

struct check {
    struct pl_config *cfg;
    struct pl_manifest manifest;
    json_t *cli_annotations;         /* from --namespace-annotation */
    const char *output;              /* --output */
    enum pl_output_format format;    /* what output names */
    const char *default_ns;          /* --namespace */
    struct pl_neighbours neighbours; /* the objects of the run, for the neighbour policies */
    const char *stdin_name;          /* --stdin-name */
    const char *base_dir;            /* --base-dir, else the working directory */
    bool allow_empty;
    json_t *results;
    struct pl_verdict_counts counts;
};

static void usage(FILE *out)
{
    fprintf(
        out,
        "Usage: plimsoll check [OPTIONS] [FILE|DIR|-]...\n\n"
        "Evaluates Kubernetes manifests (YAML or JSON, multi-document, List and typed lists\n"
        "such as DeploymentList, AdmissionReviews) exactly as the admission webhook would.\n"
        "A directory is searched recursively for *.yaml, *.yml and *.json (names starting\n"
        "with \".\" skipped). Without a FILE, reads stdin.\n\n"
        "Each object is admitted, rejected, invalid (the API server would refuse it: wrong\n"
        "types where policies read, no pod template) or skipped (a kind plimsoll does not\n"
        "judge, an excluded namespace). Exit status: 0 nothing rejected or invalid, 1 at\n"
        "least one object rejected or invalid, 2 bad usage or bad input (unreadable, not\n"
        "YAML, a document that is not a Kubernetes object, no objects at all).\n\n"
        "Options:\n"
        "  --config FILE                  policy configuration (default: built-in defaults)\n"
        "  --namespace NS                 namespace of objects that name none (default "
        "\"default\")\n"
        "  --namespace-annotation KEY=VAL plimsoll.dev/ namespace annotation applied to every\n"
        "                                 object (repeatable; Namespace objects in the input\n"
        "                                 count too)\n"
        "  --output text|json|sarif|junit output format (default text: file:line: per finding)\n"
        "  --base-dir DIR                 SARIF URIs are relative to DIR (default: the working\n"
        "                                 directory), as %%SRCROOT%%\n"
        "  --stdin-name NAME              file name given to stdin in every output (default "
        "\"stdin\")\n"
        "  --allow-empty                  no objects in the input is not an error\n"
        "  --help                         this text\n\n"
        "In CI: helm template my-release charts/app | plimsoll check --output sarif - > "
        "plimsoll.sarif\n");
}

/* A key of --namespace-annotation must be one plimsoll reads. */
static int add_cli_annotation(struct check *c, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg) {
        fprintf(stderr, "plimsoll check: --namespace-annotation takes KEY=VALUE, not \"%s\"\n",
                arg);
        return -EINVAL;
    }
    size_t prefix = strlen(PL_KEY_PREFIX);
    if ((size_t)(eq - arg) <= prefix || strncmp(arg, PL_KEY_PREFIX, prefix) != 0) {
        fprintf(stderr,
                "plimsoll check: --namespace-annotation %.*s: plimsoll reads only keys under "
                "%s (for example %smode=warn)\n",
                (int)(eq - arg), arg, PL_KEY_PREFIX, PL_KEY_PREFIX);
        return -EINVAL;
    }
    char *key = pl_xstrndup(arg, (size_t)(eq - arg));
    json_object_set_new(c->cli_annotations, key, json_string(eq + 1));
    free(key);
    return 0;
}

static int check_options(struct check *c)
{
    if (pl_output_format_parse("check", c->output, &c->format) < 0) {
        return -EINVAL;
    }
    if (!pl_kube_namespace_name_ok(c->default_ns)) {
        fprintf(stderr,
                "plimsoll check: --namespace \"%s\" is not a namespace name (a DNS label)\n",
                c->default_ns);
        return -EINVAL;
    }
    if (!*c->stdin_name) {
        fprintf(stderr, "plimsoll check: --stdin-name needs a name\n");
        return -EINVAL;
    }
    if (c->base_dir && !pl_files_is_dir(c->base_dir)) {
        fprintf(stderr, "plimsoll check: --base-dir %s is not a directory\n", c->base_dir);
        return -EINVAL;
    }
    return 0;
}

static int parse_args(struct check *c, int argc, char **argv)
{
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'},
        {"namespace-annotation", required_argument, NULL, 'a'},
        {"namespace", required_argument, NULL, 'n'},
        {"output", required_argument, NULL, 'o'},
        {"base-dir", required_argument, NULL, 'b'},
        {"stdin-name", required_argument, NULL, 's'},
        {"allow-empty", no_argument, NULL, 'e'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config = NULL;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "c:a:n:o:h", options, NULL)) != -1) {
        switch (opt) {
        case 'c':
            config = optarg;
            break;
        case 'a':
            if (add_cli_annotation(c, optarg) < 0) {
                return -EINVAL;
            }
            break;
        case 'n':
            c->default_ns = optarg;
            break;
        case 'o':
            c->output = optarg;
            break;
        case 'b':
            c->base_dir = optarg;
            break;
        case 's':
            c->stdin_name = optarg;
            break;
        case 'e':
            c->allow_empty = true;
            break;
        case 'h':
            usage(stdout);
            return 1;
        default:
            usage(stderr);
            return -EINVAL;
        }
    }
    if (check_options(c) < 0) {
        return -EINVAL;
    }
    return pl_flags_config("check", config, NULL, &c->cfg) < 0 ? -EINVAL : 0;
}

/* Reads and parses one file (or stdin) into the manifest; errors go to stderr. */
static int load_file(struct check *c, const char *path)
{
    const char *name = strcmp(path, "-") == 0 ? c->stdin_name : path;
    struct pl_buf b;
    pl_buf_init(&b, MAX_INPUT);
    int r = pl_files_read(path, name, &b);
    if (r < 0) {
        pl_buf_finish(&b);
        return r;
    }
    struct pl_error err;
    pl_error_init(&err);
    size_t documents = 0;
    r = pl_manifest_add(&c->manifest, name, pl_buf_str(&b), b.len, &documents, &err);
    pl_buf_finish(&b);
    if (r < 0) {
        if (err.line > 0) {
            fprintf(stderr, "plimsoll check: %s:%d: %s\n", name, err.line, err.message);
        } else {
            fprintf(stderr, "plimsoll check: %s: %s\n", name, err.message);
        }
        return r;
    }
    if (documents == 0 && !c->allow_empty) {
        fprintf(stderr,
                "plimsoll check: %s: empty input: no Kubernetes objects (--allow-empty "
                "accepts that)\n",
                name);
        return -EINVAL;
    }
    return 0;
}

/* Loads every input; a directory contributes its manifest files. Returns 0 or -EINVAL. */
static int load_inputs(struct check *c, int n, char **paths)
{
    int failed = 0;
    for (int i = 0; i < n; i++) {
        if (!pl_files_is_dir(paths[i])) {
            failed |= load_file(c, paths[i]) < 0;
            continue;
        }
        struct pl_file_list list = {0};
        if (pl_files_walk(paths[i], &list) < 0) {
            failed = 1;
        } else if (list.len == 0 && !c->allow_empty) {
            fprintf(stderr,
                    "plimsoll check: %s: no *.yaml, *.yml or *.json files (--allow-empty "
                    "accepts that)\n",
                    paths[i]);
            failed = 1;
        }
        for (size_t j = 0; j < list.len; j++) {
            failed |= load_file(c, list.paths[j]) < 0;
        }
        pl_file_list_finish(&list);
    }
    if (!failed && c->manifest.n_objects == 0 && !c->allow_empty) {
        fprintf(stderr, "plimsoll check: no Kubernetes objects in the input (--allow-empty "
                        "accepts that)\n");
        failed = 1;
    }
    return failed ? -EINVAL : 0;
}

static int evaluate_object(struct check *c, size_t i, struct pl_pool *pool)
{
    struct pl_verdict_input in = {.cfg = c->cfg,
                                  .manifest = &c->manifest,
                                  .default_ns = c->default_ns,
                                  .annotations = c->cli_annotations,
                                  .neighbours = &c->neighbours};
    struct pl_error err;
    pl_error_init(&err);
    json_t *result = NULL;
    int r = pl_verdict_judge(&in, i, pool, &c->counts, &result, &err);
    if (r < 0) {
        const char *file = c->manifest.files[c->manifest.objects[i].file].name;
        fprintf(stderr, "plimsoll check: %s:%d: %s\n", file, err.line, err.message);
        return r;
    }
    json_array_append_new(c->results, result);
    return 0;
}

/* The SARIF artifact URI of every file: relative to the base directory where it can be. */
static json_t *artifact_uris(const struct check *c, char **ret_srcroot)
{
    const char *base = c->base_dir ? c->base_dir : ".";
    json_t *uris = json_object();
    for (size_t i = 0; i < c->manifest.n_files; i++) {
        const char *name = c->manifest.files[i].name;
        char *rel = pl_path_relative_uri(name, base);
        if (rel) {
            json_object_set_new(uris, name,
                                json_pack("{s:s, s:s}", "uri", rel, "uriBaseId", "%SRCROOT%"));
        } else {
            char *abs = pl_path_file_uri(name, false);
            json_object_set_new(uris, name, json_pack("{s:s}", "uri", abs));
            free(abs);
        }
        free(rel);
    }
    *ret_srcroot = pl_path_file_uri(base, true);
    return uris;
}

/* The results document in the --output format (SARIF with this run's artifact URIs). */
static void render(const struct check *c, const json_t *doc)
{
    if (c->format != PL_OUTPUT_SARIF) {
        pl_output_render(c->format, doc, stdout, NULL);
        return;
    }
    char *srcroot = NULL;
    json_t *uris = artifact_uris(c, &srcroot);
    struct pl_sarif_options opts = {
        .cfg = c->cfg, .version = pl_version, .uris = uris, .srcroot = srcroot};
    pl_output_render(c->format, doc, stdout, &opts);
    json_decref(uris);
    free(srcroot);
}

static int run(struct check *c, int argc, char **argv)
{
    static char dash[] = "-";
    char *stdin_only[] = {dash};
    char **files = optind < argc ? argv + optind : stdin_only;
    int n_files = optind < argc ? argc - optind : 1;
    if (load_inputs(c, n_files, files) < 0) {
        return PL_EXIT_USAGE;
    }
    /* Every object sees the others of the run, whichever file they came from. */
    pl_manifest_neighbours(&c->manifest, c->default_ns, &c->neighbours);
    struct pl_pool pool;
    pl_pool_init(&pool);
    int r = 0;
    for (size_t i = 0; i < c->manifest.n_objects && r == 0; i++) {
        r = evaluate_object(c, i, &pool);
        pl_pool_clear(&pool);
    }
    pl_pool_finish(&pool);
    if (r < 0) {
        return PL_EXIT_USAGE;
    }
    json_t *doc = pl_verdict_document(&c->counts, c->results);
    render(c, doc);
    json_decref(doc);
    return c->counts.rejected || c->counts.invalid ? PL_EXIT_VIOLATIONS : PL_EXIT_OK;
}

int pl_cmd_check(int argc, char **argv)
{
    struct check c = {
        .cli_annotations = json_object(),
        .results = json_array(),
        .output = "text",
        .default_ns = PL_MANIFEST_DEFAULT_NAMESPACE,
        .stdin_name = "stdin",
    };
    pl_manifest_init(&c.manifest, 0);
    pl_neighbours_init(&c.neighbours);
    int r = parse_args(&c, argc, argv);
    int code = r < 0 ? PL_EXIT_USAGE : PL_EXIT_OK;
    if (r == 0) {
        code = run(&c, argc, argv);
    }
    pl_config_unref(c.cfg);
    pl_neighbours_finish(&c.neighbours);
    pl_manifest_finish(&c.manifest);
    json_decref(c.cli_annotations);
    json_decref(c.results);
    return code;
}
