/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plimsoll dashboard: the live cluster view (issue 15). Lists and watches
 * Namespaces and every workload kind (audit/cluster.c), keeps each
 * workload's verdict, and serves the page, the JSON API, /metrics, /healthz
 * and /readyz over plain HTTP (audit/web.c). It never changes a workload.
 *
 * The configuration file (--config) is checked every two seconds (its
 * inode, size and modification time, through the ConfigMap's ..data symlink
 * swap); a valid new one re-judges every workload, an invalid one is logged
 * and the old one stays. SIGTERM or SIGINT: /readyz turns 503, the HTTP
 * daemon, the reports writer and then every watch stop, exit 0.
 *
 * With --reports it also keeps one OpenReports Report per namespace
 * (audit/reports.c): its only writes, and only to reports.openreports.io.
 */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "audit/cluster.h"
#include "audit/reports.h"
#include "audit/web.h"
#include "cli/cli.h"
#include "cli/flags.h"
#include "core/log.h"
#include "engine/config.h"

#define CONFIG_POLL_S 2

struct dashboard {
    const char *listen;
    const char *kubeconfig;
    const char *config;
    bool reports;
    unsigned reports_interval_s;
    struct stat config_stat;
};

enum {
    D_LISTEN,
    D_KUBECONFIG,
    D_CONFIG,
    D_LOG_LEVEL,
    D_REPORTS,
    D_REPORTS_INTERVAL,
    D_COUNT,
};

static struct pl_flag flags[D_COUNT] = {
    [D_LISTEN] = {.name = "listen",
                  .env = "PLIMSOLL_DASHBOARD_LISTEN",
                  .def = "0.0.0.0:8080",
                  .help = "where to serve (ADDR:PORT)"},
    [D_KUBECONFIG] =
        {.name = "kubeconfig",
         .env = "PLIMSOLL_DASHBOARD_KUBECONFIG",
         .def = NULL,
         .help = "credentials (default: $KUBECONFIG, else in-cluster, else ~/.kube/config)"},
    [D_CONFIG] =
        {.name = "config",
         .env = "PLIMSOLL_DASHBOARD_CONFIG",
         .def = NULL,
         .help = "policy configuration, reloaded when it changes (default: built-in defaults)"},
    [D_LOG_LEVEL] = {.name = "log-level",
                     .env = "PLIMSOLL_DASHBOARD_LOG_LEVEL",
                     .def = "info",
                     .help = "debug, info, warn or error"},
    [D_REPORTS] =
        {.name = "reports",
         .env = "PLIMSOLL_DASHBOARD_REPORTS",
         .def = NULL,
         .help = "keep one openreports.io/v1alpha1 Report per namespace with failing or warned "
                 "workloads (needs the reports.openreports.io CRD, and "
                 "get/list/create/patch/delete on reports)",
         .switch_ = true},
    [D_REPORTS_INTERVAL] = {.name = "reports-interval-seconds",
                            .env = "PLIMSOLL_DASHBOARD_REPORTS_INTERVAL_SECONDS",
                            .def = "5",
                            .help = "compare and write the Reports every N seconds"},
};

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: plimsoll dashboard [OPTIONS]\n\n"
            "Lists and watches Namespaces and workloads through the API server, judges every\n"
            "workload as admission would now, and serves over plain HTTP (read-only):\n"
            "  /                                  the page (filters: ?namespace=NS&policy=ID)\n"
            "  /api/v1/summary                    scores, counts, modes per namespace (JSON)\n"
            "  /api/v1/workloads                  every workload with its findings (JSON)\n"
            "  /api/v1/namespaces/NS/workloads    the same for one namespace\n"
            "  /metrics  /healthz  /readyz        Prometheus text; liveness; readiness\n\n"
            "Every option can also be set as an environment variable (shown in brackets);\n"
            "the command line wins.\n\nOptions:\n");
    pl_flags_usage(out, flags, D_COUNT);
    fprintf(out,
            "\nThe namespace it runs in (env POD_NAMESPACE) is excluded, as by plimsoll serve.\n"
            "RBAC: get, list and watch on namespaces, pods, replicationcontrollers,\n"
            "deployments, statefulsets, daemonsets, replicasets, jobs and cronjobs.\n");
}

static int parse_args(struct dashboard *d, int argc, char **argv)
{
    int r = pl_flags_parse("dashboard", flags, D_COUNT, argc, argv, usage);
    if (r != 0) {
        return r > 0 ? 1 : -EINVAL;
    }
    d->listen = flags[D_LISTEN].value;
    d->kubeconfig = flags[D_KUBECONFIG].value;
    d->config = flags[D_CONFIG].value;
    d->reports = pl_flag_on(&flags[D_REPORTS]);
    if (pl_flag_uint("dashboard", &flags[D_REPORTS_INTERVAL], 1, 3600, &d->reports_interval_s) <
        0) {
        return -EINVAL;
    }
    if (pl_log_set_level_name(flags[D_LOG_LEVEL].value) < 0) {
        fprintf(stderr, "plimsoll dashboard: --log-level must be debug, info, warn or error\n");
        return -EINVAL;
    }
    return 0;
}

static bool same_stat(const struct stat *a, const struct stat *b)
{
    return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Reloads the configuration when its file changed. */
static void poll_config(struct dashboard *d, struct pl_cluster *c)
{
    struct stat st;
    if (!d->config || stat(d->config, &st) != 0 || same_stat(&st, &d->config_stat)) {
        return;
    }
    d->config_stat = st;
    struct pl_error err;
    pl_error_init(&err);
    /* As plimsoll serve: the namespace it runs in (POD_NAMESPACE) is excluded. */
    struct pl_config *cfg = NULL;
    if (pl_config_load(d->config, pl_self_namespace(), &cfg, &err) < 0) {
        char text[1024];
        pl_log(PL_LOG_ERROR, "configuration reload failed; the previous one stays",
               json_pack("{s:s, s:s}", "config", d->config, "error",
                         pl_error_format(&err, text, sizeof(text))));
        return;
    }
    pl_cluster_set_config(c, cfg);
    pl_config_unref(cfg);
    pl_log(PL_LOG_INFO, "configuration reloaded; every workload re-judged",
           json_pack("{s:s}", "config", d->config));
}

static int serve(struct dashboard *d, struct pl_cluster *c)
{
    static atomic_bool draining;
    atomic_init(&draining, false);
    struct pl_error err;
    pl_error_init(&err);
    struct pl_audit_web *web = NULL;
    if (pl_audit_web_start(d->listen, c, &draining, &web, &err) < 0) {
        fprintf(stderr, "plimsoll dashboard: %s\n", err.message);
        return PL_EXIT_USAGE;
    }
    if (pl_cluster_start(c) < 0) {
        pl_audit_web_stop(web);
        fprintf(stderr, "plimsoll dashboard: cannot start the watches\n");
        return PL_EXIT_USAGE;
    }
    struct pl_reports *reports = NULL;
    struct pl_reports_options ro = {
        .kubeconfig = d->kubeconfig, .interval_ms = d->reports_interval_s * 1000u, .log = pl_log};
    if (d->reports && pl_reports_start(c, &ro, &reports) < 0) {
        pl_audit_web_stop(web);
        fprintf(stderr, "plimsoll dashboard: cannot start the reports writer\n");
        return PL_EXIT_USAGE;
    }
    pl_log(PL_LOG_INFO, "dashboard serving",
           json_pack("{s:s, s:b}", "listen", d->listen, "reports", d->reports));
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    struct timespec poll = {.tv_sec = CONFIG_POLL_S, .tv_nsec = 0};
    int sig;
    while ((sig = sigtimedwait(&set, NULL, &poll)) < 0) {
        poll_config(d, c);
    }
    atomic_store(&draining, true);
    pl_log(PL_LOG_INFO, "shutting down", json_pack("{s:i}", "signal", sig));
    pl_audit_web_stop(web);
    pl_reports_free(reports);
    return PL_EXIT_OK;
}

int pl_cmd_dashboard(int argc, char **argv)
{
    struct dashboard d = {0};
    int r = parse_args(&d, argc, argv);
    if (r != 0) {
        return r > 0 ? PL_EXIT_OK : PL_EXIT_USAGE;
    }
    /* Before any thread starts, so that they all inherit the mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* The list+watch threads allocate one at a time under the view's lock: per-thread
     * malloc arenas would only hold memory apart (measured: bench/dashboard.py). */
    mallopt(M_ARENA_MAX, 2);
    struct pl_error err;
    pl_error_init(&err);
    if (d.config) {
        (void)stat(d.config, &d.config_stat);
    }
    struct pl_config *cfg = NULL;
    if (pl_flags_config("dashboard", d.config, pl_self_namespace(), &cfg) < 0) {
        return PL_EXIT_USAGE;
    }
    struct pl_cluster_options o = {.kubeconfig = d.kubeconfig, .log = pl_log};
    struct pl_cluster *c = NULL;
    r = pl_cluster_new(&o, cfg, &c, &err);
    pl_config_unref(cfg);
    if (r < 0) {
        fprintf(stderr, "plimsoll dashboard: %s\n", err.message);
        return PL_EXIT_USAGE;
    }
    int code = serve(&d, c);
    pl_cluster_free(c);
    return code;
}
