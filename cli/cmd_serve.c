/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plimsoll serve: flags (each also settable as PLIMSOLL_<FLAG>, so that a
 * chart can set them), then hand over to server/. A flag on the command line
 * wins over the environment.
 */
#include <stdio.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/flags.h"
#include "core/log.h"
#include "server/server.h"

enum {
    F_CONFIG,
    F_LISTEN,
    F_TLS_CERT,
    F_TLS_KEY,
    F_CLIENT_CA,
    F_HEALTH_LISTEN,
    F_KUBECONFIG,
    F_LOG_LEVEL,
    F_THREADS,
    F_DRAIN_SECONDS,
    F_CONNECTION_LIMIT,
    F_CONNECTION_TIMEOUT,
    F_HEADER_TIMEOUT,
    F_REQUEST_TIMEOUT,
    F_PENDING_PER_ADDRESS,
    F_TLS_PRIORITY,
    F_COUNT,
};

static struct pl_flag flags[F_COUNT] = {
    [F_CONFIG] = {.name = "config",
                  .env = "PLIMSOLL_CONFIG",
                  .def = NULL,
                  .help = "policy configuration (YAML); built-in defaults when absent"},
    [F_LISTEN] = {.name = "listen",
                  .env = "PLIMSOLL_LISTEN",
                  .def = "0.0.0.0:8443",
                  .help = "TLS webhook address"},
    [F_TLS_CERT] = {.name = "tls-cert",
                    .env = "PLIMSOLL_TLS_CERT",
                    .def = NULL,
                    .help = "serving certificate (PEM), required"},
    [F_TLS_KEY] = {.name = "tls-key",
                   .env = "PLIMSOLL_TLS_KEY",
                   .def = NULL,
                   .help = "serving key (PEM), required"},
    [F_CLIENT_CA] = {.name = "client-ca",
                     .env = "PLIMSOLL_CLIENT_CA",
                     .def = NULL,
                     .help = "require client certificates signed by this CA"},
    [F_HEALTH_LISTEN] = {.name = "health-listen",
                         .env = "PLIMSOLL_HEALTH_LISTEN",
                         .def = "0.0.0.0:8080",
                         .help = "plain HTTP address for /healthz, /readyz, /metrics"},
    [F_KUBECONFIG] =
        {.name = "kubeconfig",
         .env = "PLIMSOLL_KUBECONFIG",
         .def = NULL,
         .help =
             "watch Namespaces with this kubeconfig (default: in-cluster credentials when present)"},
    [F_LOG_LEVEL] = {.name = "log-level",
                     .env = "PLIMSOLL_LOG_LEVEL",
                     .def = "info",
                     .help = "debug, info, warn or error"},
    [F_THREADS] = {.name = "threads",
                   .env = "PLIMSOLL_THREADS",
                   .def = NULL,
                   .help = "webhook worker threads (default: online CPUs)"},
    [F_DRAIN_SECONDS] = {.name = "drain-seconds",
                         .env = "PLIMSOLL_DRAIN_SECONDS",
                         .def = "5",
                         .help = "keep serving this long after SIGTERM"},
    [F_CONNECTION_LIMIT] = {.name = "connection-limit",
                            .env = "PLIMSOLL_CONNECTION_LIMIT",
                            .def = "1024",
                            .help = "concurrent TLS connections"},
    /* Longer than the API server's own idle timeout (Go's 90 s), so that the API
     * server, not plimsoll, closes an idle connection: see docs/design/architecture.md. */
    [F_CONNECTION_TIMEOUT] = {.name = "connection-timeout",
                              .env = "PLIMSOLL_CONNECTION_TIMEOUT",
                              .def = "120",
                              .help = "idle seconds before a connection is closed"},
    [F_HEADER_TIMEOUT] =
        {.name = "header-timeout",
         .env = "PLIMSOLL_HEADER_TIMEOUT",
         .def = "10",
         .help = "seconds for a request's headers to arrive (first request: from connect)"},
    [F_REQUEST_TIMEOUT] = {.name = "request-timeout",
                           .env = "PLIMSOLL_REQUEST_TIMEOUT",
                           .def = "30",
                           .help = "seconds from a request's first line to its last body byte"},
    [F_PENDING_PER_ADDRESS] =
        {.name = "pending-per-address",
         .env = "PLIMSOLL_PENDING_PER_ADDRESS",
         .def = "32",
         .help =
             "connections one address may keep waiting (1 s or more, no request completed; 0: no cap)"},
    [F_TLS_PRIORITY] = {.name = "tls-priority",
                        .env = "PLIMSOLL_TLS_PRIORITY",
                        .def = NULL,
                        .help =
                            "GnuTLS priority string (default: TLS 1.3, TLS 1.2 ECDHE+AEAD only; "
                            "TLS 1.2 stays the minimum)"},
};

static void usage(FILE *out)
{
    fprintf(out, "Usage: plimsoll serve --tls-cert FILE --tls-key FILE [OPTIONS]\n\n"
                 "Serves POST /validate and POST /mutate over TLS, and /healthz, /readyz,\n"
                 "/metrics over plain HTTP. Every option can also be set as an environment\n"
                 "variable (shown in brackets); the command line wins.\n\nOptions:\n");
    pl_flags_usage(out, flags, F_COUNT);
    fprintf(out, "\nThe namespace plimsoll runs in (env POD_NAMESPACE) is always excluded.\n"
                 "Signals: SIGHUP reloads the configuration and rechecks the certificate files\n"
                 "(changed files are also picked up within a second); SIGTERM drains for\n"
                 "--drain-seconds, then refuses new connections, gives requests already begun\n"
                 "up to 5 s to be answered, and exits 0.\n");
}

/* The numeric options, each checked against its range (the first wrong one is said). */
static int numbers(struct pl_server_options *o)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    o->threads = cpus > 0 ? (unsigned)cpus : 1u;
    const char *cmd = "serve";
    if ((flags[F_THREADS].value && pl_flag_uint(cmd, &flags[F_THREADS], 1, 256, &o->threads) < 0) ||
        pl_flag_uint(cmd, &flags[F_DRAIN_SECONDS], 0, 3600, &o->drain_seconds) < 0 ||
        pl_flag_uint(cmd, &flags[F_CONNECTION_LIMIT], 1, 1000000, &o->connection_limit) < 0 ||
        pl_flag_uint(cmd, &flags[F_CONNECTION_TIMEOUT], 1, 3600, &o->connection_timeout) < 0 ||
        pl_flag_uint(cmd, &flags[F_HEADER_TIMEOUT], 1, 3600, &o->header_timeout) < 0 ||
        pl_flag_uint(cmd, &flags[F_REQUEST_TIMEOUT], 1, 3600, &o->request_timeout) < 0 ||
        pl_flag_uint(cmd, &flags[F_PENDING_PER_ADDRESS], 0, 1000000, &o->pending_per_address) < 0) {
        return -1;
    }
    return 0;
}

int pl_cmd_serve(int argc, char **argv)
{
    int r = pl_flags_parse("serve", flags, F_COUNT, argc, argv, usage);
    if (r != 0) {
        return r > 0 ? PL_EXIT_OK : PL_EXIT_USAGE;
    }
    if (!flags[F_TLS_CERT].value || !flags[F_TLS_KEY].value) {
        fprintf(stderr, "plimsoll serve: --tls-cert and --tls-key are required "
                        "(make a pair with: plimsoll certs generate --service plimsoll "
                        "--namespace default --out DIR --dns localhost)\n");
        return PL_EXIT_USAGE;
    }
    if (pl_log_set_level_name(flags[F_LOG_LEVEL].value) < 0) {
        fprintf(stderr, "plimsoll serve: --log-level must be debug, info, warn or error\n");
        return PL_EXIT_USAGE;
    }
    struct pl_server_options o = {
        .listen = flags[F_LISTEN].value,
        .health_listen = flags[F_HEALTH_LISTEN].value,
        .tls_cert = flags[F_TLS_CERT].value,
        .tls_key = flags[F_TLS_KEY].value,
        .client_ca = flags[F_CLIENT_CA].value,
        .config_path = flags[F_CONFIG].value,
        .kubeconfig = flags[F_KUBECONFIG].value,
        .tls_priority = flags[F_TLS_PRIORITY].value,
        .self_namespace = pl_self_namespace(),
        .version = pl_version,
        .commit = pl_git_commit,
    };
    if (numbers(&o) < 0) {
        return PL_EXIT_USAGE;
    }
    return pl_server_run(&o);
}
