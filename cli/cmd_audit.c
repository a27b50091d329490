/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plimsoll audit: every workload of the running cluster judged as admission
 * would judge it now (SPEC §2, issue 15), in the output formats of `plimsoll
 * check` and with its exit codes.
 *
 * Namespaces are listed first (their plimsoll.dev/ annotations scope the
 * policies), then the neighbouring objects (PodDisruptionBudgets,
 * HorizontalPodAutoscalers, NetworkPolicies: docs/design/neighbours.md), then
 * each workload kind, page by page (kube/listwatch.c, one list per kind and
 * namespace asked for, no per-object GET). Each workload is judged as it
 * arrives, with the set of neighbours, and only its result is kept; what the
 * set wants of it (a Deployment, a ReplicaSet, ...) is added to the set, and
 * once every workload is in, the budgets and autoscalers are judged, as
 * `plimsoll check` judges them. Objects that a judged
 * workload controls (a Deployment's ReplicaSets, a CronJob's Jobs, any
 * controller's Pods) are judged through their owner and not listed again.
 * Results are sorted by namespace, kind (in pl_audit_kinds order) and name.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "audit/connect.h"
#include "audit/workloads.h"
#include "cli/cli.h"
#include "cli/flags.h"
#include "cli/output.h"
#include "core/alloc.h"
#include "core/json.h"
#include "core/neighbours.h"
#include "core/pool.h"
#include "engine/config.h"
#include "engine/verdict.h"
#include "kube/client.h"
#include "kube/listwatch.h"

/* Namespaces named with --namespace. */
#define MAX_NAMESPACES 1000u

struct audit {
    struct pl_config *cfg;
    const char *kubeconfig;
    const char *output;           /* --output */
    enum pl_output_format format; /* what output names */
    json_t *wanted;               /* --namespace names (array), empty: every namespace */
    json_t *ns_annotations;       /* namespace name -> its plimsoll.dev/ annotations */
    char *server;                 /* the API server's URL, for SARIF */
    json_t *results;
    struct pl_verdict_counts counts;
    struct pl_pool pool;
    struct pl_neighbours set; /* every listed neighbour and replicated workload */
    bool no_set;              /* a neighbour kind could not be listed: no set is given */
    json_t *deferred;         /* [[neighbour kind index, api_version, object], ...] judged last */

    /* The list in progress. */
    const struct pl_audit_kind *kind;
    const char *api_version;
    int neighbour;        /* index in pl_audit_neighbour_kinds, -1 for a workload kind */
    json_t *page_results; /* this list's results, kept only when it completes */
    json_t *page_set;     /* this list's objects for the set, added only when it completes */
    struct pl_verdict_counts page_counts;
    json_t *listed_ns; /* the namespace list being read */
    struct pl_error err;
    bool failed; /* an object could not be judged: err says why */
};

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: plimsoll audit [OPTIONS]\n\n"
            "Judges every workload in the cluster exactly as the admission webhook would now,\n"
            "under each namespace's current plimsoll.dev/ annotations: Deployments,\n"
            "StatefulSets, DaemonSets, ReplicationControllers, CronJobs, and the ReplicaSets,\n"
            "Jobs and Pods that no workload controls (owned ones are judged through their\n"
            "owner); and the PodDisruptionBudgets and HorizontalPodAutoscalers, with the\n"
            "objects around (budgets, autoscalers, NetworkPolicies) for the policies that\n"
            "look at them. Reads through the API server: list and get on namespaces and\n"
            "those kinds (without access to one neighbour kind, those policies do not run).\n\n"
            "Exit status: 0 nothing would be rejected, 1 something would be rejected (or is\n"
            "invalid), 2 bad usage or the API server could not be read.\n\n"
            "Options:\n"
            "  --kubeconfig FILE              credentials (default: $KUBECONFIG, else in-cluster,\n"
            "                                 else ~/.kube/config)\n"
            "  --config FILE                  policy configuration (default: built-in defaults)\n"
            "  --namespace NS                 only this namespace (repeatable; default: all)\n"
            "  --output text|json|sarif|junit output format (default text), as plimsoll check\n"
            "  --help                         this text\n");
}

static int add_namespace(struct audit *a, const char *ns)
{
    if (!pl_kube_namespace_name_ok(ns)) {
        fprintf(stderr, "plimsoll audit: --namespace \"%s\" is not a namespace name\n", ns);
        return -EINVAL;
    }
    if (json_array_size(a->wanted) >= MAX_NAMESPACES) {
        fprintf(stderr, "plimsoll audit: more than %u --namespace options\n", MAX_NAMESPACES);
        return -EINVAL;
    }
    json_array_append_new(a->wanted, json_string(ns));
    return 0;
}

static int parse_args(struct audit *a, int argc, char **argv)
{
    static const struct option options[] = {
        {"kubeconfig", required_argument, NULL, 'k'},
        {"config", required_argument, NULL, 'c'},
        {"namespace", required_argument, NULL, 'n'},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config = NULL;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "c:n:o:h", options, NULL)) != -1) {
        switch (opt) {
        case 'k':
            a->kubeconfig = optarg;
            break;
        case 'c':
            config = optarg;
            break;
        case 'n':
            if (add_namespace(a, optarg) < 0) {
                return -EINVAL;
            }
            break;
        case 'o':
            a->output = optarg;
            break;
        case 'h':
            usage(stdout);
            return 1;
        default:
            usage(stderr);
            return -EINVAL;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "plimsoll audit: unexpected argument \"%s\"\n", argv[optind]);
        return -EINVAL;
    }
    if (pl_output_format_parse("audit", a->output, &a->format) < 0) {
        return -EINVAL;
    }
    return pl_flags_config("audit", config, NULL, &a->cfg) < 0 ? -EINVAL : 0;
}

/* ---- namespaces ---- */

static void ns_begin(void *ud)
{
    struct audit *a = ud;
    json_decref(a->listed_ns);
    a->listed_ns = json_object();
}

static int ns_item(void *ud, const json_t *object)
{
    struct audit *a = ud;
    const char *name = pl_json_string(pl_json_object(object, "metadata"), "name");
    if (name && *name) {
        json_object_set_new(a->listed_ns, name, pl_audit_namespace_annotations(object));
    }
    return 0;
}

static void ns_end(void *ud, bool ok)
{
    struct audit *a = ud;
    if (ok) {
        json_decref(a->ns_annotations);
        a->ns_annotations = a->listed_ns;
    } else {
        json_decref(a->listed_ns);
    }
    a->listed_ns = NULL;
}

/* ---- workloads ---- */

static void wl_begin(void *ud)
{
    struct audit *a = ud;
    json_decref(a->page_results);
    a->page_results = json_array();
    json_decref(a->page_set);
    a->page_set = json_array();
    memset(&a->page_counts, 0, sizeof(a->page_counts));
}

static int wl_item(void *ud, const json_t *object)
{
    struct audit *a = ud;
    /* Owned ones too: check's set has every document of its run. Of a workload only
     * what the set reads; budgets and autoscalers whole (they are judged later). */
    if (a->neighbour >= 0) {
        json_array_append_new(a->page_set, pl_audit_with_kind(a->kind, a->api_version, object));
    } else if (pl_neighbours_wanted(a->kind->kind)) {
        json_array_append_new(a->page_set,
                              pl_audit_workload_neighbour(a->kind, a->api_version, object));
    }
    if (a->neighbour >= 0 || pl_audit_owned(object)) {
        return 0;
    }
    const char *ns = pl_json_string(pl_json_object(object, "metadata"), "namespace");
    const json_t *annotations = ns ? json_object_get(a->ns_annotations, ns) : NULL;
    json_t *result = NULL;
    int r = pl_audit_judge(a->cfg, a->kind, a->api_version, object, annotations,
                           a->no_set ? NULL : &a->set, &a->pool, &a->page_counts, &result, &a->err);
    pl_pool_clear(&a->pool);
    if (r < 0) {
        a->failed = true;
        return r;
    }
    json_array_append_new(a->page_results, result);
    return 0;
}

static void wl_end(void *ud, bool ok)
{
    struct audit *a = ud;
    if (ok) {
        json_array_extend(a->results, a->page_results);
        a->counts.objects += a->page_counts.objects;
        a->counts.rejected += a->page_counts.rejected;
        a->counts.warned += a->page_counts.warned;
        a->counts.invalid += a->page_counts.invalid;
        a->counts.skipped += a->page_counts.skipped;
        size_t i;
        json_t *o;
        json_array_foreach(a->page_set, i, o)
        {
            const char *ns = pl_json_string(pl_json_object(o, "metadata"), "namespace");
            (void)pl_neighbours_add(&a->set, o, ns ? ns : "");
            if (a->neighbour >= 0 && pl_audit_neighbour_judged(a->kind)) {
                json_array_append_new(a->deferred,
                                      json_pack("[i, s, O]", a->neighbour, a->api_version, o));
            }
        }
    }
    json_decref(a->page_results);
    a->page_results = NULL;
    json_decref(a->page_set);
    a->page_set = NULL;
}

/* Lists path once into ops. Returns 0, -ENOENT (404), -EACCES (403), or -EIO with why. */
static int list(struct audit *a, const char *path, const struct pl_kube_listwatch_ops *ops,
                char *why, size_t size)
{
    struct pl_kube_client *client = NULL;
    struct pl_error err;
    pl_error_init(&err);
    int r = pl_audit_connect(a->kubeconfig, &client, &err);
    if (r < 0) {
        snprintf(why, size, "%s", err.message);
        return -EIO;
    }
    if (!a->server) {
        a->server = pl_xstrdup(pl_kube_client_server(client));
    }
    struct pl_kube_listwatch_options opts = {.path = path, .name = path};
    struct pl_kube_listwatch *lw = NULL;
    if (pl_kube_listwatch_new(client, &opts, ops, a, &lw) < 0) {
        snprintf(why, size, "cannot list %s", path);
        return -EIO;
    }
    r = pl_kube_listwatch_list_once(lw, why, size);
    pl_kube_listwatch_free(lw);
    if (r == 0 && a->failed) {
        r = -EIO;
    }
    if (a->failed) {
        char text[1024];
        snprintf(why, size, "%s", pl_error_format(&a->err, text, sizeof(text)));
    }
    return r;
}

static int list_namespaces(struct audit *a)
{
    static const struct pl_kube_listwatch_ops ops = {
        .list_begin = ns_begin, .list_item = ns_item, .list_end = ns_end};
    char why[600];
    if (list(a, "/api/v1/namespaces", &ops, why, sizeof(why)) < 0 || !a->ns_annotations) {
        fprintf(stderr, "plimsoll audit: cannot list namespaces: %s\n", why);
        return -EIO;
    }
    size_t i;
    json_t *ns;
    json_array_foreach(a->wanted, i, ns)
    {
        if (!json_object_get(a->ns_annotations, json_string_value(ns))) {
            fprintf(stderr, "plimsoll audit: namespace %s not found\n", json_string_value(ns));
            return -EINVAL;
        }
    }
    return 0;
}

/*
 * Lists one kind in one namespace (ns NULL: every namespace), older version on 404.
 * neighbour: its index in pl_audit_neighbour_kinds, or -1 for a workload kind.
 */
static int list_kind(struct audit *a, const struct pl_audit_kind *k, int neighbour, const char *ns)
{
    static const struct pl_kube_listwatch_ops ops = {
        .list_begin = wl_begin, .list_item = wl_item, .list_end = wl_end};
    char path[1024];
    char why[600];
    int r = -ENOENT;
    a->kind = k;
    a->neighbour = neighbour;
    for (int v = 0; v < 2 && r == -ENOENT; v++) {
        a->api_version = v == 0 ? k->api_version : k->fallback;
        if (!a->api_version) {
            break;
        }
        if (pl_audit_collection_path(k, a->api_version, ns, path, sizeof(path)) < 0) {
            fprintf(stderr, "plimsoll audit: namespace name too long\n");
            return -EINVAL;
        }
        r = list(a, path, &ops, why, sizeof(why));
    }
    if (r == -EACCES && neighbour >= 0) {
        /* Judging without them would report every workload as lacking a budget. */
        fprintf(stderr,
                "plimsoll audit: cannot list %s (forbidden): pod-disruption-budget, "
                "pdb-allows-disruption, hpa-replicas and network-policy not run\n",
                k->plural);
        a->no_set = true;
        return 0;
    }
    if (r < 0) {
        fprintf(stderr, "plimsoll audit: cannot list %s: %s\n", path, why);
    }
    return r;
}

/* Lists kind k (neighbour: as list_kind) in every namespace asked for. */
static int list_everywhere(struct audit *a, const struct pl_audit_kind *k, int neighbour)
{
    if (json_array_size(a->wanted) == 0) {
        return list_kind(a, k, neighbour, NULL) < 0 ? -EIO : 0;
    }
    size_t j;
    json_t *ns;
    json_array_foreach(a->wanted, j, ns)
    {
        if (list_kind(a, k, neighbour, json_string_value(ns)) < 0) {
            return -EIO;
        }
    }
    return 0;
}

/* The budgets and autoscalers, judged once every workload is in the set. */
static int judge_deferred(struct audit *a)
{
    size_t i;
    json_t *d;
    json_array_foreach(a->deferred, i, d)
    {
        const struct pl_audit_kind *k =
            &pl_audit_neighbour_kinds[json_integer_value(json_array_get(d, 0))];
        const json_t *object = json_array_get(d, 2);
        const char *ns = pl_json_string(pl_json_object(object, "metadata"), "namespace");
        json_t *result = NULL;
        int r = pl_audit_judge(a->cfg, k, json_string_value(json_array_get(d, 1)), object,
                               ns ? json_object_get(a->ns_annotations, ns) : NULL, &a->set,
                               &a->pool, &a->counts, &result, &a->err);
        pl_pool_clear(&a->pool);
        if (r < 0) {
            char text[1024];
            fprintf(stderr, "plimsoll audit: %s\n", pl_error_format(&a->err, text, sizeof(text)));
            return -EIO;
        }
        json_array_append_new(a->results, result);
    }
    return 0;
}

static int list_workloads(struct audit *a)
{
    for (int i = 0; pl_audit_neighbour_kinds[i].kind; i++) {
        if (list_everywhere(a, &pl_audit_neighbour_kinds[i], i) < 0) {
            return -EIO;
        }
    }
    for (size_t i = 0; pl_audit_kinds[i].kind; i++) {
        if (list_everywhere(a, &pl_audit_kinds[i], -1) < 0) {
            return -EIO;
        }
    }
    return a->no_set ? 0 : judge_deferred(a);
}

/* ---- output ---- */

/* Namespace, then kind in table order, then name. */
static int compare_results(const void *pa, const void *pb)
{
    const json_t *x = *(json_t *const *)pa;
    const json_t *y = *(json_t *const *)pb;
    int c = strcmp(pl_json_string(x, "namespace"), pl_json_string(y, "namespace"));
    if (c == 0) {
        c = pl_audit_kind_rank(pl_json_string(x, "kind")) -
            pl_audit_kind_rank(pl_json_string(y, "kind"));
    }
    return c != 0 ? c : strcmp(pl_json_string(x, "name"), pl_json_string(y, "name"));
}

static json_t *sorted(const json_t *results)
{
    size_t n = json_array_size(results);
    json_t **items = pl_xcalloc(n ? n : 1, sizeof(*items));
    for (size_t i = 0; i < n; i++) {
        items[i] = json_array_get(results, i);
    }
    qsort(items, n, sizeof(*items), compare_results);
    json_t *out = json_array();
    for (size_t i = 0; i < n; i++) {
        json_array_append(out, items[i]);
    }
    free(items);
    return out;
}

/* The results document in the --output format (SARIF: each object's API path under the
 * API server's URL). */
static void render(const struct audit *a, const json_t *doc)
{
    if (a->format != PL_OUTPUT_SARIF) {
        pl_output_render(a->format, doc, stdout, NULL);
        return;
    }
    json_t *uris = json_object();
    size_t i;
    json_t *r;
    json_array_foreach(a->results, i, r)
    {
        const char *file = pl_json_string(r, "file");
        json_object_set_new(
            uris, file,
            json_pack("{s:s, s:s}", "uri", file + (*file == '/'), "uriBaseId", "%SRCROOT%"));
    }
    char srcroot[2100];
    snprintf(srcroot, sizeof(srcroot), "%s/", a->server ? a->server : "");
    struct pl_sarif_options opts = {
        .cfg = a->cfg, .version = pl_version, .uris = uris, .srcroot = srcroot};
    pl_output_render(a->format, doc, stdout, &opts);
    json_decref(uris);
}

static int run(struct audit *a)
{
    if (list_namespaces(a) < 0 || list_workloads(a) < 0) {
        return PL_EXIT_USAGE;
    }
    json_t *results = sorted(a->results);
    json_t *doc = pl_verdict_document(&a->counts, results);
    render(a, doc);
    json_decref(doc);
    json_decref(results);
    return a->counts.rejected || a->counts.invalid ? PL_EXIT_VIOLATIONS : PL_EXIT_OK;
}

int pl_cmd_audit(int argc, char **argv)
{
    struct audit a = {
        .output = "text",
        .wanted = json_array(),
        .results = json_array(),
        .deferred = json_array(),
    };
    pl_neighbours_init(&a.set);
    pl_error_init(&a.err);
    pl_pool_init(&a.pool);
    int r = parse_args(&a, argc, argv);
    int code = r < 0 ? PL_EXIT_USAGE : PL_EXIT_OK;
    if (r == 0) {
        code = run(&a);
    }
    pl_config_unref(a.cfg);
    pl_pool_finish(&a.pool);
    json_decref(a.wanted);
    json_decref(a.ns_annotations);
    json_decref(a.results);
    json_decref(a.deferred);
    pl_neighbours_finish(&a.set);
    free(a.server);
    return code;
}
