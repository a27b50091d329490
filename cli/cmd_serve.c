/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plimsoll serve: flags (each also settable as PLIMSOLL_<FLAG>, so that a
 * chart can set them), then hand over to server/. A flag on the command line
 * wins over the environment.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/log.h"
#include "server/server.h"

struct flag {
    const char *name;  /* "tls-cert" */
    const char *env;   /* "PLIMSOLL_TLS_CERT" */
    const char *value; /* after parsing: flag, else env, else default */
    const char *def;
    const char *help;
};

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

static struct flag flags[F_COUNT] = {
    [F_CONFIG] = {"config", "PLIMSOLL_CONFIG", NULL, NULL,
                  "policy configuration (YAML); built-in defaults when absent"},
    [F_LISTEN] = {"listen", "PLIMSOLL_LISTEN", NULL, "0.0.0.0:8443", "TLS webhook address"},
    [F_TLS_CERT] = {"tls-cert", "PLIMSOLL_TLS_CERT", NULL, NULL,
                    "serving certificate (PEM), required"},
    [F_TLS_KEY] = {"tls-key", "PLIMSOLL_TLS_KEY", NULL, NULL, "serving key (PEM), required"},
    [F_CLIENT_CA] = {"client-ca", "PLIMSOLL_CLIENT_CA", NULL, NULL,
                     "require client certificates signed by this CA"},
    [F_HEALTH_LISTEN] = {"health-listen", "PLIMSOLL_HEALTH_LISTEN", NULL, "0.0.0.0:8080",
                         "plain HTTP address for /healthz, /readyz, /metrics"},
    [F_KUBECONFIG] =
        {"kubeconfig", "PLIMSOLL_KUBECONFIG", NULL, NULL,
         "watch Namespaces with this kubeconfig (default: in-cluster credentials when present)"},
    [F_LOG_LEVEL] = {"log-level", "PLIMSOLL_LOG_LEVEL", NULL, "info", "debug, info, warn or error"},
    [F_THREADS] = {"threads", "PLIMSOLL_THREADS", NULL, NULL,
                   "webhook worker threads (default: online CPUs)"},
    [F_DRAIN_SECONDS] = {"drain-seconds", "PLIMSOLL_DRAIN_SECONDS", NULL, "5",
                         "keep serving this long after SIGTERM"},
    [F_CONNECTION_LIMIT] = {"connection-limit", "PLIMSOLL_CONNECTION_LIMIT", NULL, "1024",
                            "concurrent TLS connections"},
    /* Longer than the API server's own idle timeout (Go's 90 s), so that the API
     * server, not plimsoll, closes an idle connection: see docs/design/architecture.md. */
    [F_CONNECTION_TIMEOUT] = {"connection-timeout", "PLIMSOLL_CONNECTION_TIMEOUT", NULL, "120",
                              "idle seconds before a connection is closed"},
    [F_HEADER_TIMEOUT] =
        {"header-timeout", "PLIMSOLL_HEADER_TIMEOUT", NULL, "10",
         "seconds for a request's headers to arrive (first request: from connect)"},
    [F_REQUEST_TIMEOUT] = {"request-timeout", "PLIMSOLL_REQUEST_TIMEOUT", NULL, "30",
                           "seconds from a request's first line to its last body byte"},
    [F_PENDING_PER_ADDRESS] =
        {"pending-per-address", "PLIMSOLL_PENDING_PER_ADDRESS", NULL, "32",
         "connections one address may keep waiting (1 s or more, no request completed; 0: no cap)"},
    [F_TLS_PRIORITY] = {"tls-priority", "PLIMSOLL_TLS_PRIORITY", NULL, NULL,
                        "GnuTLS priority string (default: TLS 1.3, TLS 1.2 ECDHE+AEAD only; "
                        "TLS 1.2 stays the minimum)"},
};

static void usage(FILE *out)
{
    fprintf(out, "Usage: plimsoll serve --tls-cert FILE --tls-key FILE [OPTIONS]\n\n"
                 "Serves POST /validate and POST /mutate over TLS, and /healthz, /readyz,\n"
                 "/metrics over plain HTTP. Every option can also be set as an environment\n"
                 "variable (shown in brackets); the command line wins.\n\nOptions:\n");
    for (size_t i = 0; i < F_COUNT; i++) {
        char left[64];
        snprintf(left, sizeof(left), "--%s VALUE", flags[i].name);
        fprintf(out, "  %-28s %s%s%s%s [%s]\n", left, flags[i].help,
                flags[i].def ? " (default " : "", flags[i].def ? flags[i].def : "",
                flags[i].def ? ")" : "", flags[i].env);
    }
    fprintf(out, "\nThe namespace plimsoll runs in (env POD_NAMESPACE) is always excluded.\n"
                 "Signals: SIGHUP reloads the configuration and rechecks the certificate files\n"
                 "(changed files are also picked up within a second); SIGTERM drains for\n"
                 "--drain-seconds, then refuses new connections, gives requests already begun\n"
                 "up to 5 s to be answered, and exits 0.\n");
}

/* Parses an unsigned number in [min, max]; returns -1 on junk. */
static int parse_uint(const char *s, unsigned long min, unsigned long max, unsigned *ret)
{
    char *end = NULL;
    if (!s || !*s || *s == '-') {
        return -1;
    }
    unsigned long v = strtoul(s, &end, 10);
    if (*end || v < min || v > max) {
        return -1;
    }
    *ret = (unsigned)v;
    return 0;
}

static int parse_flags(int argc, char **argv)
{
    struct option options[F_COUNT + 2];
    for (size_t i = 0; i < F_COUNT; i++) {
        options[i] = (struct option){flags[i].name, required_argument, NULL, (int)i + 256};
    }
    options[F_COUNT] = (struct option){"help", no_argument, NULL, 'h'};
    options[F_COUNT + 1] = (struct option){NULL, 0, NULL, 0};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            return 1;
        }
        if (c < 256 || c >= 256 + F_COUNT) {
            usage(stderr);
            return -1;
        }
        flags[c - 256].value = optarg;
    }
    if (optind < argc) {
        fprintf(stderr, "plimsoll serve: unexpected argument \"%s\"\n", argv[optind]);
        return -1;
    }
    for (size_t i = 0; i < F_COUNT; i++) {
        if (!flags[i].value) {
            const char *env = getenv(flags[i].env);
            flags[i].value = env && *env ? env : flags[i].def;
        }
    }
    return 0;
}

static int numbers(struct pl_server_options *o)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    o->threads = cpus > 0 ? (unsigned)cpus : 1u;
    if (flags[F_THREADS].value && parse_uint(flags[F_THREADS].value, 1, 256, &o->threads) < 0) {
        fprintf(stderr, "plimsoll serve: --threads must be a number from 1 to 256\n");
        return -1;
    }
    if (parse_uint(flags[F_DRAIN_SECONDS].value, 0, 3600, &o->drain_seconds) < 0) {
        fprintf(stderr, "plimsoll serve: --drain-seconds must be a number from 0 to 3600\n");
        return -1;
    }
    if (parse_uint(flags[F_CONNECTION_LIMIT].value, 1, 1000000, &o->connection_limit) < 0) {
        fprintf(stderr, "plimsoll serve: --connection-limit must be a number from 1 to 1000000\n");
        return -1;
    }
    if (parse_uint(flags[F_CONNECTION_TIMEOUT].value, 1, 3600, &o->connection_timeout) < 0) {
        fprintf(stderr, "plimsoll serve: --connection-timeout must be a number from 1 to 3600\n");
        return -1;
    }
    if (parse_uint(flags[F_HEADER_TIMEOUT].value, 1, 3600, &o->header_timeout) < 0) {
        fprintf(stderr, "plimsoll serve: --header-timeout must be a number from 1 to 3600\n");
        return -1;
    }
    if (parse_uint(flags[F_REQUEST_TIMEOUT].value, 1, 3600, &o->request_timeout) < 0) {
        fprintf(stderr, "plimsoll serve: --request-timeout must be a number from 1 to 3600\n");
        return -1;
    }
    if (parse_uint(flags[F_PENDING_PER_ADDRESS].value, 0, 1000000, &o->pending_per_address) < 0) {
        fprintf(stderr,
                "plimsoll serve: --pending-per-address must be a number from 0 to 1000000\n");
        return -1;
    }
    return 0;
}

int pl_cmd_serve(int argc, char **argv)
{
    int r = parse_flags(argc, argv);
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
    const char *self_ns = getenv("POD_NAMESPACE");
    struct pl_server_options o = {
        .listen = flags[F_LISTEN].value,
        .health_listen = flags[F_HEALTH_LISTEN].value,
        .tls_cert = flags[F_TLS_CERT].value,
        .tls_key = flags[F_TLS_KEY].value,
        .client_ca = flags[F_CLIENT_CA].value,
        .config_path = flags[F_CONFIG].value,
        .kubeconfig = flags[F_KUBECONFIG].value,
        .tls_priority = flags[F_TLS_PRIORITY].value,
        .self_namespace = self_ns && *self_ns ? self_ns : NULL,
        .version = pl_version,
        .commit = pl_git_commit,
    };
    if (numbers(&o) < 0) {
        return PL_EXIT_USAGE;
    }
    return pl_server_run(&o);
}
