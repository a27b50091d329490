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
#include "cli/output.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/keys.h"
#include "core/object.h"
#include "core/pool.h"
#include "engine/config.h"
#include "engine/evaluate.h"
#include "engine/manifest.h"
#include "engine/schema.h"
#include "policies/registry.h"

/* Largest manifest file read. */
#define MAX_INPUT (64u * 1024u * 1024u)

struct check;

/* One --output format: its name and how the results document is written (cli/output.h). */
struct format {
    const char *name;
    void (*render)(const struct check *c, const json_t *doc);
};

#define N_FORMATS 4
static const struct format formats[N_FORMATS]; /* defined with the renderers below */

struct check {
    struct pl_config *cfg;
    struct pl_manifest manifest;
    json_t *cli_annotations;         /* from --namespace-annotation */
    const char *output;              /* --output */
    const struct format *format;     /* the row of formats[] named by output */
    const char *default_ns;          /* --namespace */
    struct pl_neighbours neighbours; /* the objects of the run, for the neighbour policies */
    const char *stdin_name;          /* --stdin-name */
    const char *base_dir;            /* --base-dir, else the working directory */
    bool allow_empty;
    json_t *results;
    size_t rejected, warned, invalid, skipped;
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

/* A namespace name is a DNS label: lower-case alphanumerics and '-', at most 63. */
static bool valid_namespace(const char *ns)
{
    size_t n = strlen(ns);
    return n > 0 && n <= 63 && strspn(ns, "abcdefghijklmnopqrstuvwxyz0123456789-") == n &&
           ns[0] != '-' && ns[n - 1] != '-';
}

static int load_config(struct check *c, const char *config)
{
    if (!config) {
        c->cfg = pl_config_new_default(NULL);
        return 0;
    }
    struct pl_error err;
    pl_error_init(&err);
    if (pl_config_load_file(config, NULL, &c->cfg, &err) < 0) {
        char text[1024];
        fprintf(stderr, "plimsoll check: invalid configuration %s: %s\n", config,
                pl_error_format(&err, text, sizeof(text)));
        return -EINVAL;
    }
    return 0;
}

static int check_options(struct check *c)
{
    for (size_t i = 0; !c->format && i < N_FORMATS; i++) {
        if (strcmp(c->output, formats[i].name) == 0) {
            c->format = &formats[i];
        }
    }
    if (!c->format) {
        fprintf(stderr, "plimsoll check: --output must be one of");
        for (size_t i = 0; i < N_FORMATS; i++) {
            fprintf(stderr, " %s", formats[i].name);
        }
        fputc('\n', stderr);
        return -EINVAL;
    }
    if (!valid_namespace(c->default_ns)) {
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
    return load_config(c, config);
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

/* Sets "line" and "column" of item to where path (relative to object i) is. */
static void set_location(const struct check *c, size_t i, json_t *item, const char *path)
{
    int line, column;
    pl_manifest_locate(&c->manifest, i, path, &line, &column);
    json_object_set_new(item, "line", json_integer(line));
    json_object_set_new(item, "column", json_integer(column));
}

/* One violation as --output json has it; suppression is added when there is one. */
static json_t *violation_json(const struct check *c, size_t i, const struct pl_violation *v)
{
    char runbook[512];
    snprintf(runbook, sizeof(runbook), "%s%s", c->cfg->runbook_base_url, v->policy);
    json_t *item =
        json_pack("{s:s, s:s, s:s, s:s, s:s}", "policy", v->policy, "mode",
                  pl_mode_name(v->suppression == PL_SUPPRESS_EXEMPT ? v->base_mode : v->mode),
                  "path", v->path, "message", v->message, "runbook", runbook);
    if (v->suppression != PL_SUPPRESS_NONE) {
        json_object_set_new(item, "suppression", json_string(pl_suppression_name(v->suppression)));
    }
    set_location(c, i, item, v->path);
    return item;
}

/* Why an object nothing was judged on was skipped. */
static const char *skip_reason(const struct check *c, const struct pl_request *req,
                               const struct pl_decision *d, char *buf, size_t size)
{
    if (req->operation != PL_OP_CREATE && req->operation != PL_OP_UPDATE) {
        snprintf(buf, size, "only CREATE and UPDATE are judged");
    } else if (d->obj.kind == PL_KIND_OTHER) {
        snprintf(buf, size, "plimsoll does not judge %s objects",
                 *d->obj.kind_name ? d->obj.kind_name : "kindless");
    } else if (pl_config_excludes(c->cfg, d->obj.namespace_)) {
        snprintf(buf, size, "namespace %s is excluded by the configuration", d->obj.namespace_);
    } else {
        snprintf(buf, size, "nothing to judge");
    }
    return buf;
}

/* The policies that applied to an evaluated object, with the modes the evaluator resolved,
 * for the reports (JUnit has one test case per policy). */
static json_t *applied_policies(const struct pl_decision *d)
{
    json_t *out = json_array();
    for (size_t i = 0; d->modes && pl_policies[i]; i++) {
        if (d->modes[i] != PL_MODE_OFF) {
            json_array_append_new(out, json_pack("{s:s, s:s}", "policy", pl_policies[i]->id, "mode",
                                                 pl_mode_name(d->modes[i])));
        }
    }
    return out;
}

/* The verdict part of a result (status, allowed, violations, ...) for a judged object. */
static json_t *verdict_json(struct check *c, size_t i, const struct pl_request *req,
                            const struct pl_decision *d)
{
    json_t *counted = json_array();
    json_t *suppressed = json_array();
    for (size_t k = 0; k < d->report.len; k++) {
        const struct pl_violation *v = &d->report.items[k];
        json_array_append_new(v->suppression == PL_SUPPRESS_EXEMPT ? suppressed : counted,
                              violation_json(c, i, v));
    }
    const char *status = !d->allowed ? "rejected" : d->evaluated ? "admitted" : "skipped";
    json_t *out =
        json_pack("{s:s, s:b, s:b, s:s?, s:o, s:o, s:O, s:O}", "status", status, "allowed",
                  d->allowed, "evaluated", d->evaluated, "message", d->message, "violations",
                  counted, "suppressed", suppressed, "warnings", d->warnings, "notes", d->notes);
    if (d->evaluated) {
        json_object_set_new(out, "policies", applied_policies(d));
    } else {
        char reason[256];
        json_object_set_new(out, "reason",
                            json_string(skip_reason(c, req, d, reason, sizeof(reason))));
        c->skipped++;
    }
    c->rejected += !d->allowed;
    c->warned += d->allowed && d->evaluated && json_array_size(d->warnings) > 0;
    return out;
}

/*
 * Makes result say the object is invalid (the API server would refuse it):
 * status "invalid", not allowed, and the problems with their lines. What the
 * policies found stays: it is true of the object too. Counted as invalid only.
 */
static void mark_invalid(struct check *c, size_t i, json_t *result, json_t *problems)
{
    const char *status = pl_json_string(result, "status");
    if (status && strcmp(status, "rejected") == 0) {
        c->rejected--;
    } else if (status && strcmp(status, "skipped") == 0) {
        c->skipped--;
    } else if (json_array_size(json_object_get(result, "warnings")) > 0) {
        c->warned--;
    }
    c->invalid++;
    size_t j;
    json_t *p;
    struct pl_buf msg;
    pl_buf_init(&msg, 4096);
    int r = pl_buf_printf(&msg, "%s %s is not a valid object; the API server would refuse it:",
                          pl_json_string(result, "kind"), pl_json_string(result, "name"));
    json_array_foreach(problems, j, p)
    {
        set_location(c, i, p, pl_json_string(p, "path"));
        r |= pl_buf_printf(&msg, "\n- %s: %s", pl_json_string(p, "path"),
                           pl_json_string(p, "message"));
    }
    (void)r; /* a message cut at its ceiling is still a message */
    json_object_set_new(result, "status", json_string("invalid"));
    json_object_set_new(result, "allowed", json_false());
    json_object_set_new(result, "message", json_string(pl_buf_str(&msg)));
    json_object_set(result, "problems", problems);
    json_object_del(result, "reason");
    pl_buf_finish(&msg);
}

static int evaluate_object(struct check *c, size_t i, struct pl_pool *pool)
{
    const struct pl_manifest_object *o = &c->manifest.objects[i];
    const char *file = c->manifest.files[o->file].name;
    struct pl_request req;
    json_t *annotations = NULL;
    struct pl_error err;
    pl_error_init(&err);
    int line, column;
    pl_manifest_locate(&c->manifest, i, NULL, &line, &column);
    if (pl_manifest_request(&c->manifest, i, c->default_ns, c->cli_annotations, &req, &annotations,
                            &err) < 0) {
        fprintf(stderr, "plimsoll check: %s:%d: invalid AdmissionReview: %s\n", file, line,
                err.message);
        return -EINVAL;
    }
    req.neighbours = &c->neighbours;
    struct pl_decision d;
    int r = pl_evaluate(c->cfg, &req, pool, &d, &err);
    if (r < 0) {
        fprintf(stderr, "plimsoll check: %s:%d: %s\n", file, line, err.message);
        json_decref(annotations);
        return r;
    }
    json_t *problems = pl_schema_check(req.object);
    json_t *result = json_pack("{s:s, s:I, s:i, s:i, s:s, s:s, s:s}", "file", file, "document",
                               (json_int_t)o->document, "line", line, "column", column, "kind",
                               d.obj.kind_name, "namespace", req.namespace_, "name", d.obj.name);
    json_t *verdict = verdict_json(c, i, &req, &d);
    json_object_update(result, verdict);
    json_decref(verdict);
    if (json_array_size(problems) > 0) {
        mark_invalid(c, i, result, problems);
    }
    json_array_append_new(c->results, result);
    json_decref(problems);
    json_decref(annotations);
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

static void render_text(const struct check *c, const json_t *doc)
{
    (void)c;
    pl_output_text(doc, stdout);
}

static void render_json(const struct check *c, const json_t *doc)
{
    (void)c;
    pl_output_json(doc, stdout);
}

static void render_sarif(const struct check *c, const json_t *doc)
{
    char *srcroot = NULL;
    json_t *uris = artifact_uris(c, &srcroot);
    struct pl_sarif_options opts = {
        .cfg = c->cfg, .version = pl_version, .uris = uris, .srcroot = srcroot};
    pl_output_sarif(doc, stdout, &opts);
    json_decref(uris);
    free(srcroot);
}

static void render_junit(const struct check *c, const json_t *doc)
{
    (void)c;
    pl_output_junit(doc, stdout);
}

/* The --output formats: the one list the option is checked against and rendered by. */
static const struct format formats[N_FORMATS] = {
    {"text", render_text},
    {"json", render_json},
    {"sarif", render_sarif},
    {"junit", render_junit},
};

static void render(const struct check *c, const json_t *doc)
{
    c->format->render(c, doc);
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
    json_t *doc =
        json_pack("{s:{s:I, s:I, s:I, s:I, s:I}, s:O}", "summary", "objects",
                  (json_int_t)json_array_size(c->results), "rejected", (json_int_t)c->rejected,
                  "warned", (json_int_t)c->warned, "invalid", (json_int_t)c->invalid, "skipped",
                  (json_int_t)c->skipped, "results", c->results);
    render(c, doc);
    json_decref(doc);
    return c->rejected || c->invalid ? PL_EXIT_VIOLATIONS : PL_EXIT_OK;
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
