/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plimsoll check: evaluate manifests exactly as admission would (SPEC §2).
 *
 * Input: YAML or JSON files (or - for stdin), multi-document, `List` kinds
 * expanded. A Namespace in the input lends its annotations to the objects in
 * it; --namespace-annotation KEY=VALUE applies to every object. An
 * AdmissionReview document is evaluated as its request (operation, namespace,
 * oldObject), which is how the case files test UPDATE behaviour.
 * Workloads without a namespace are taken to be in "default", as kubectl would.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/output.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/object.h"
#include "core/pool.h"
#include "core/yaml.h"
#include "engine/admission.h"
#include "engine/config.h"
#include "engine/evaluate.h"

/* Largest manifest file read. */
#define MAX_INPUT (64u * 1024u * 1024u)

struct check {
    struct pl_config *cfg;
    json_t *docs;            /* [{"file", "index", "doc"}] in input order */
    json_t *ns_annotations;  /* namespace name -> annotations, from Namespace objects */
    json_t *cli_annotations; /* from --namespace-annotation */
    json_t *results;
    size_t rejected, warned;
};

static void usage(FILE *out)
{
    fprintf(
        out,
        "Usage: plimsoll check [OPTIONS] [FILE...|-]\n\n"
        "Evaluates Kubernetes manifests (YAML or JSON, multi-document, List kinds)\n"
        "exactly as the admission webhook would. Exit status: 0 admitted, 1 at least one\n"
        "object rejected, 2 bad usage or unreadable input.\n\n"
        "Options:\n"
        "  --config FILE                  policy configuration (default: built-in defaults)\n"
        "  --namespace-annotation KEY=VAL namespace annotation applied to every object\n"
        "                                 (repeatable; Namespace objects in the input count too)\n"
        "  --output text|json|sarif|junit output format (default text)\n"
        "  --help                         this text\n");
}

static int read_input(const char *path, struct pl_buf *b)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "plimsoll check: cannot open %s: %s\n", path, strerror(errno));
        return -EIO;
    }
    char chunk[65536];
    size_t n;
    int r = 0;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (pl_buf_append(b, chunk, n) < 0) {
            fprintf(stderr, "plimsoll check: %s is larger than %u bytes\n", path, MAX_INPUT);
            r = -E2BIG;
            break;
        }
    }
    if (r == 0 && ferror(f)) {
        fprintf(stderr, "plimsoll check: cannot read %s\n", path);
        r = -EIO;
    }
    if (f != stdin) {
        fclose(f);
    }
    return r;
}

/* Adds doc (and the items of a List) to c->docs; remembers Namespace annotations. */
static void add_doc(struct check *c, const char *file, size_t index, json_t *doc)
{
    const char *kind = pl_json_string(doc, "kind");
    if (kind && strcmp(kind, "List") == 0) {
        size_t i;
        json_t *item;
        json_array_foreach(json_object_get(doc, "items"), i, item)
        {
            add_doc(c, file, index, item);
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
    json_array_append_new(c->docs, json_pack("{s:s, s:I, s:O}", "file", file, "document",
                                             (json_int_t)index, "doc", doc));
}

static int load_file(struct check *c, const char *path)
{
    struct pl_buf b;
    pl_buf_init(&b, MAX_INPUT);
    int r = read_input(path, &b);
    if (r < 0) {
        pl_buf_finish(&b);
        return r;
    }
    json_t *docs = NULL;
    struct pl_error err;
    pl_error_init(&err);
    r = pl_yaml_load(pl_buf_str(&b), b.len, &docs, NULL, &err);
    pl_buf_finish(&b);
    if (r < 0) {
        char text[1024];
        fprintf(stderr, "plimsoll check: %s: %s\n", path,
                pl_error_format(&err, text, sizeof(text)));
        return r;
    }
    size_t i;
    json_t *doc;
    json_array_foreach(docs, i, doc)
    {
        add_doc(c, path, i, doc);
    }
    json_decref(docs);
    return 0;
}

/* Annotations for namespace ns: the input's Namespace object, overlaid by the command line. */
static json_t *annotations_for(const struct check *c, const char *ns)
{
    json_t *merged = json_object();
    json_t *from_input = json_object_get(c->ns_annotations, ns);
    if (from_input) {
        json_object_update(merged, from_input);
    }
    json_object_update(merged, c->cli_annotations);
    return merged;
}

/* One violation as --output json has it; suppression is added when there is one. */
static json_t *violation_json(const struct pl_violation *v, const char *runbook_base)
{
    char runbook[512];
    snprintf(runbook, sizeof(runbook), "%s%s", runbook_base, v->policy);
    json_t *item =
        json_pack("{s:s, s:s, s:s, s:s, s:s}", "policy", v->policy, "mode",
                  pl_mode_name(v->suppression == PL_SUPPRESS_EXEMPT ? v->base_mode : v->mode),
                  "path", v->path, "message", v->message, "runbook", runbook);
    if (v->suppression != PL_SUPPRESS_NONE) {
        json_object_set_new(item, "suppression", json_string(pl_suppression_name(v->suppression)));
    }
    return item;
}

/* What counts (enforce and warn, grandfathered ones marked) in "violations";
 * what the object is exempted from in "suppressed", with the mode it would have had. */
static void violations_json(const struct pl_decision *d, const char *runbook_base,
                            json_t **ret_violations, json_t **ret_suppressed)
{
    json_t *counted = json_array();
    json_t *suppressed = json_array();
    for (size_t i = 0; i < d->report.len; i++) {
        const struct pl_violation *v = &d->report.items[i];
        json_array_append_new(v->suppression == PL_SUPPRESS_EXEMPT ? suppressed : counted,
                              violation_json(v, runbook_base));
    }
    *ret_violations = counted;
    *ret_suppressed = suppressed;
}

static int evaluate_doc(struct check *c, const json_t *entry, struct pl_pool *pool)
{
    const json_t *doc = json_object_get(entry, "doc");
    struct pl_request req = {.operation = PL_OP_CREATE, .object = doc};
    struct pl_admission adm;
    struct pl_error err;
    pl_error_init(&err);
    const char *kind = pl_json_string(doc, "kind");
    if (kind && strcmp(kind, "AdmissionReview") == 0) {
        if (pl_admission_decode(doc, &adm, &err) < 0) {
            fprintf(stderr, "plimsoll check: %s: invalid AdmissionReview: %s\n",
                    pl_json_string(entry, "file"), err.message);
            return -EINVAL;
        }
        req = adm.request;
    }
    const char *ns = req.namespace_;
    if (!ns || !*ns) {
        ns = pl_json_string(pl_json_object(req.object, "metadata"), "namespace");
    }
    if ((!ns || !*ns) && pl_kind_from_name(pl_json_string(req.object, "kind")) != PL_KIND_OTHER) {
        ns = "default"; /* a workload without a namespace lands in default, as with kubectl */
    }
    if (!ns) {
        ns = "";
    }
    req.namespace_ = ns;
    json_t *annotations = annotations_for(c, ns);
    if (!req.ns_annotations) {
        req.ns_annotations = annotations;
    }
    struct pl_decision d;
    int r = pl_evaluate(c->cfg, &req, pool, &d, &err);
    if (r < 0) {
        fprintf(stderr, "plimsoll check: %s: %s\n", pl_json_string(entry, "file"), err.message);
        json_decref(annotations);
        return r;
    }
    c->rejected += !d.allowed;
    c->warned += d.allowed && json_array_size(d.warnings) > 0;
    json_t *violations, *suppressed;
    violations_json(&d, c->cfg->runbook_base_url, &violations, &suppressed);
    json_array_append_new(c->results,
                          json_pack("{s:O, s:O, s:s, s:s, s:s, s:b, s:b, s:s?, s:o, s:o, s:O}",
                                    "file", json_object_get(entry, "file"), "document",
                                    json_object_get(entry, "document"), "kind", d.obj.kind_name,
                                    "namespace", ns, "name", d.obj.name, "allowed", d.allowed,
                                    "evaluated", d.evaluated, "message", d.message, "violations",
                                    violations, "suppressed", suppressed, "warnings", d.warnings));
    json_decref(annotations);
    return 0;
}

static int add_cli_annotation(struct check *c, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg) {
        fprintf(stderr, "plimsoll check: --namespace-annotation takes KEY=VALUE, not \"%s\"\n",
                arg);
        return -EINVAL;
    }
    char *key = pl_xstrndup(arg, (size_t)(eq - arg));
    json_object_set_new(c->cli_annotations, key, json_string(eq + 1));
    free(key);
    return 0;
}

static int parse_args(struct check *c, int argc, char **argv, const char **ret_output)
{
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'},
        {"namespace-annotation", required_argument, NULL, 'a'},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config = NULL;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "c:a:o:h", options, NULL)) != -1) {
        switch (opt) {
        case 'c':
            config = optarg;
            break;
        case 'a':
            if (add_cli_annotation(c, optarg) < 0) {
                return -EINVAL;
            }
            break;
        case 'o':
            *ret_output = optarg;
            break;
        case 'h':
            usage(stdout);
            return 1;
        default:
            usage(stderr);
            return -EINVAL;
        }
    }
    if (strcmp(*ret_output, "text") != 0 && strcmp(*ret_output, "json") != 0 &&
        strcmp(*ret_output, "sarif") != 0 && strcmp(*ret_output, "junit") != 0) {
        fprintf(stderr, "plimsoll check: --output must be text, json, sarif or junit\n");
        return -EINVAL;
    }
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

static int run(struct check *c, int argc, char **argv, const char *output)
{
    static char dash[] = "-";
    char *stdin_only[] = {dash};
    char **files = optind < argc ? argv + optind : stdin_only;
    int n_files = optind < argc ? argc - optind : 1;
    for (int i = 0; i < n_files; i++) {
        if (load_file(c, files[i]) < 0) {
            return PL_EXIT_USAGE;
        }
    }
    struct pl_pool pool;
    pl_pool_init(&pool);
    size_t i;
    const json_t *entry;
    int r = 0;
    json_array_foreach(c->docs, i, entry)
    {
        r = evaluate_doc(c, entry, &pool);
        pl_pool_clear(&pool);
        if (r < 0) {
            break;
        }
    }
    pl_pool_finish(&pool);
    if (r < 0) {
        return PL_EXIT_USAGE;
    }
    json_t *doc =
        json_pack("{s:{s:I, s:I, s:I}, s:O}", "summary", "objects",
                  (json_int_t)json_array_size(c->results), "rejected", (json_int_t)c->rejected,
                  "warned", (json_int_t)c->warned, "results", c->results);
    if (strcmp(output, "json") == 0) {
        pl_output_json(doc, stdout);
    } else if (strcmp(output, "sarif") == 0) {
        pl_output_sarif(doc, stdout, c->cfg->runbook_base_url, pl_version);
    } else if (strcmp(output, "junit") == 0) {
        pl_output_junit(doc, stdout);
    } else {
        pl_output_text(doc, stdout);
    }
    json_decref(doc);
    return c->rejected ? PL_EXIT_VIOLATIONS : PL_EXIT_OK;
}

int pl_cmd_check(int argc, char **argv)
{
    struct check c = {
        .docs = json_array(),
        .ns_annotations = json_object(),
        .cli_annotations = json_object(),
        .results = json_array(),
    };
    const char *output = "text";
    int r = parse_args(&c, argc, argv, &output);
    int code = r < 0 ? PL_EXIT_USAGE : PL_EXIT_OK;
    if (r == 0) {
        code = run(&c, argc, argv, output);
    }
    pl_config_unref(c.cfg);
    json_decref(c.docs);
    json_decref(c.ns_annotations);
    json_decref(c.cli_annotations);
    json_decref(c.results);
    return code;
}
