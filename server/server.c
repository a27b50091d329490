/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plimsoll serve's process lifecycle (see server.h):
 *   start-up   load configuration and certificates (a bad file is a clear
 *              error, exit 2), start the namespace view when an API server
 *              is configured, then the health and webhook daemons;
 *   running    the main thread waits for signals and reloads a rotated
 *              certificate; the reload thread looks at the configuration
 *              file once a second: a changed file (Kubernetes swaps a ..data
 *              symlink, so stat(2) follows links) or SIGHUP (passed on by the
 *              main thread) reloads it; an invalid file keeps the old
 *              snapshot, logged and counted. Loading runs off the main thread
 *              so that a slow file never delays SIGTERM;
 *   shutdown   on SIGTERM or SIGINT /readyz turns 503 and responses carry
 *              "Connection: close", requests keep being served for the drain
 *              period; then new connections are refused, requests already
 *              begun get up to FINISH_SECONDS more to be answered, the daemons
 *              stop and the process exits 0.
 */
#include "server/server.h"

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/file.h"
#include "core/log.h"
#include "server/certstore.h"
#include "server/health.h"
#include "server/http.h"
#include "server/metrics.h"
#include "server/nsview.h"
#include "server/tls.h"
#include "server/webhook.h"

#define MAX_BODY (3u * 1024u * 1024u) /* SPEC §3 */
/* Body bytes buffered by all requests at once: ten 3 MiB bodies, far above
 * what the API server sends (a few KiB per review) but a ceiling on memory. */
#define MAX_BUFFERED (10u * MAX_BODY)
/* After the drain period: how long requests already begun may take to be
 * answered before the process exits (a review takes milliseconds; this bounds
 * a slow upload that started just before the deadline). */
#define FINISH_SECONDS 5
/* Probes and scrapes come from the kubelet and Prometheus: a handful of addresses. */
#define HEALTH_CONNECTION_LIMIT 512
/* Descriptors besides connections and the workers' own: listening sockets and
 * their quiesce pipes, the log, the configuration, certificates, the API
 * server's client. */
#define OTHER_DESCRIPTORS 64
/* Each worker thread's epoll set and inter-thread channel, with room to spare. */
#define DESCRIPTORS_PER_WORKER 4

static const struct pl_http_route webhook_routes[] = {
    {"/validate", "POST", pl_webhook_validate},
    {"/mutate", "POST", pl_webhook_mutate},
    {NULL, NULL, NULL},
};

static const struct pl_http_route health_routes[] = {
    {"/healthz", "GET", pl_health_healthz},
    {"/readyz", "GET", pl_health_readyz},
    {"/metrics", "GET", pl_health_metrics},
    {NULL, NULL, NULL},
};

struct pl_config *pl_server_config(struct pl_server *s)
{
    pthread_mutex_lock(&s->cfg_lock);
    struct pl_config *cfg = pl_config_ref(s->cfg);
    pthread_mutex_unlock(&s->cfg_lock);
    return cfg;
}

void pl_server_set_config(struct pl_server *s, struct pl_config *cfg)
{
    pthread_mutex_lock(&s->cfg_lock);
    struct pl_config *old = s->cfg;
    s->cfg = cfg;
    pthread_mutex_unlock(&s->cfg_lock);
    pl_config_unref(old); /* in-flight requests keep their own references */
}

static void free_pool(void *p)
{
    pl_pool_finish(p);
    free(p);
}

struct pl_pool *pl_server_pool(struct pl_server *s)
{
    struct pl_pool *pool = pthread_getspecific(s->pool_key);
    if (!pool) {
        pool = pl_xmalloc(sizeof(*pool));
        pl_pool_init(pool);
        if (pthread_setspecific(s->pool_key, pool) != 0) {
            pl_oom();
        }
    }
    return pool;
}

bool pl_server_ready(struct pl_server *s)
{
    return !atomic_load(&s->draining) && atomic_load(&s->tls_loaded) && pl_certstore_valid_now() &&
           (!s->nswatch || pl_nsview_synced(s->nswatch));
}

static void log_error(const char *msg, const struct pl_error *err)
{
    char text[1024];
    pl_log(PL_LOG_ERROR, msg,
           json_pack("{s:s}", "error", pl_error_format(err, text, sizeof(text))));
}

static void reload_config(struct pl_server *s, const char *why)
{
    struct pl_config *cfg = NULL;
    struct pl_error err;
    pl_error_init(&err);
    if (pl_config_load(s->opts->config_path, s->opts->self_namespace, &cfg, &err) < 0) {
        char text[1024];
        pl_metrics_config_reload(false);
        /* One line: what was rejected, why, and what stays. */
        pl_log(PL_LOG_ERROR,
               "configuration reload rejected; the previous configuration stays in force",
               json_pack("{s:s, s:s, s:s}", "path", s->opts->config_path, "trigger", why, "error",
                         pl_error_format(&err, text, sizeof(text))));
        return;
    }
    pl_metrics_config_reload(true);
    pl_server_set_config(s, cfg);
    pl_log(PL_LOG_INFO, "configuration reloaded",
           json_pack("{s:s, s:s}", "path", s->opts->config_path, "trigger", why));
}

/*
 * Configuration reloads run on their own thread, so that however long a file
 * takes to load (its parse is bounded, but a 1 MiB file still takes a moment)
 * the main thread keeps taking signals. The thread wakes once a second, or at
 * once when asked (SIGHUP) or told to stop; a load in progress is finished
 * before the thread stops.
 */
struct reloader {
    struct pl_server *server;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake; /* on CLOCK_MONOTONIC */
    bool requested;      /* SIGHUP seen since the last reload; under lock */
    bool stop;           /* under lock */
    bool started;
};

/* Waits up to a second for a request or stop; called and returns with rl->lock held. */
static void reloader_wait(struct reloader *rl)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += 1;
    while (!rl->stop && !rl->requested) {
        if (pthread_cond_timedwait(&rl->wake, &rl->lock, &until) == ETIMEDOUT) {
            return;
        }
    }
}

static void *reloader_main(void *arg)
{
    struct reloader *rl = arg;
    const char *path = rl->server->opts->config_path;
    struct pl_file_stamp last = pl_file_stamp(path);
    pthread_mutex_lock(&rl->lock);
    for (;;) {
        reloader_wait(rl);
        if (rl->stop) {
            break;
        }
        bool requested = rl->requested;
        rl->requested = false;
        pthread_mutex_unlock(&rl->lock);
        struct pl_file_stamp now = pl_file_stamp(path);
        if (requested) {
            last = now;
            reload_config(rl->server, "SIGHUP");
        } else if (!pl_file_stamp_equal(&now, &last)) {
            last = now;
            reload_config(rl->server, "file changed");
        }
        pthread_mutex_lock(&rl->lock);
    }
    pthread_mutex_unlock(&rl->lock);
    return NULL;
}

/* Starts the reload thread when there is a file to watch. */
static int reloader_start(struct reloader *rl, struct pl_server *s)
{
    *rl = (struct reloader){.server = s};
    if (!s->opts->config_path) {
        return 0;
    }
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&rl->wake, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&rl->lock, NULL);
    if (pthread_create(&rl->thread, NULL, reloader_main, rl) != 0) {
        pthread_cond_destroy(&rl->wake);
        pthread_mutex_destroy(&rl->lock);
        pl_log(PL_LOG_ERROR, "cannot start the configuration reload thread", NULL);
        return -EAGAIN;
    }
    rl->started = true;
    return 0;
}

/* Asks for a reload now (SIGHUP). */
static void reloader_request(struct reloader *rl)
{
    if (!rl->started) {
        return;
    }
    pthread_mutex_lock(&rl->lock);
    rl->requested = true;
    pthread_cond_signal(&rl->wake);
    pthread_mutex_unlock(&rl->lock);
}

/* Stops the thread, after the load in progress if any. Safe when never started. */
static void reloader_stop(struct reloader *rl)
{
    if (!rl->started) {
        return;
    }
    pthread_mutex_lock(&rl->lock);
    rl->stop = true;
    pthread_cond_signal(&rl->wake);
    pthread_mutex_unlock(&rl->lock);
    pthread_join(rl->thread, NULL);
    pthread_cond_destroy(&rl->wake);
    pthread_mutex_destroy(&rl->lock);
    rl->started = false;
}

static int start_nswatch(struct pl_server *s)
{
    struct pl_nsview_options nopts = {.kubeconfig = s->opts->kubeconfig};
    struct pl_error err;
    pl_error_init(&err);
    int r = pl_nsview_new(&nopts, &s->nswatch, &err);
    if (r == -ENOENT) {
        s->nswatch = NULL;
        pl_log(PL_LOG_INFO, "no API server configured: standalone, configuration only", NULL);
        return 0;
    }
    if (r < 0) {
        log_error("cannot set up the namespace watch", &err);
        return r;
    }
    r = pl_nsview_start(s->nswatch);
    if (r < 0) {
        pl_log(PL_LOG_ERROR, "cannot start the namespace watch", NULL);
    }
    return r;
}

static void warn_expiry(time_t not_after)
{
    double days = difftime(not_after, time(NULL)) / 86400.0;
    if (days < 0) {
        pl_log(PL_LOG_ERROR,
               "the serving certificate has expired; the API server will refuse it and /readyz "
               "answers 503 until a valid one is mounted",
               json_pack("{s:I}", "not_after", (json_int_t)not_after));
    } else if (!pl_certstore_valid_now()) {
        pl_log(PL_LOG_ERROR,
               "the serving certificate is not valid yet; /readyz answers 503 until it is",
               json_pack("{s:I}", "not_after", (json_int_t)not_after));
    } else if (days < 14) {
        pl_log(PL_LOG_WARN, "the serving certificate expires soon",
               json_pack("{s:I, s:f}", "not_after", (json_int_t)not_after, "days_left",
                         (double)(long long)(days * 10 + 0.5) / 10)); /* 9.9999 days: 10.0 */
    }
}

static int start_daemons(struct pl_server *s, const char *client_ca_pem,
                         struct pl_http_daemon **ret_health, struct pl_http_daemon **ret_webhook)
{
    struct pl_error err;
    pl_error_init(&err);
    struct pl_http_options health = {
        .listen = s->opts->health_listen,
        .routes = health_routes,
        .ctx = s,
        .threads = 1,
        .max_body = 4096,
        .connection_timeout = 5,
        /* A per-address cap keeps one slow client from starving the others. */
        .connection_limit = HEALTH_CONNECTION_LIMIT,
        .per_ip_limit = 16,
        /* A probe or a scrape is one short GET. */
        .header_timeout = 5,
        .request_timeout = 10,
    };
    int r = pl_http_start(&health, ret_health, &err);
    if (r < 0) {
        log_error("cannot start the health server", &err);
        return r;
    }
    struct pl_http_options webhook = {
        .listen = s->opts->listen,
        .routes = webhook_routes,
        .ctx = s,
        .threads = s->opts->threads,
        .max_body = MAX_BODY,
        .max_buffered = MAX_BUFFERED,
        .connection_timeout = s->opts->connection_timeout,
        .connection_limit = s->opts->connection_limit,
        .header_timeout = s->opts->header_timeout,
        .request_timeout = s->opts->request_timeout,
        .pending_per_address = s->opts->pending_per_address,
        .tls_cert = pl_certstore_acquire,
        .tls_cert_release = pl_certstore_release,
        .tls_priority = s->opts->tls_priority,
        .client_ca_pem = client_ca_pem,
    };
    r = pl_http_start(&webhook, ret_webhook, &err);
    if (r < 0) {
        log_error("cannot start the webhook server", &err);
        pl_http_stop(*ret_health);
        *ret_health = NULL;
    }
    return r;
}

/* A rotated serving certificate takes effect at the next handshake. */
static void reload_certificate(void)
{
    struct pl_error err;
    pl_error_init(&err);
    int r = pl_certstore_reload_if_changed(&err);
    if (r > 0) {
        pl_metrics_certificate_reload(true);
        pl_log(PL_LOG_INFO, "serving certificate reloaded",
               json_pack("{s:I}", "not_after", (json_int_t)pl_certstore_not_after()));
        warn_expiry(pl_certstore_not_after());
    } else if (r < 0) {
        pl_metrics_certificate_reload(false);
        log_error("new serving certificate rejected; the previous one stays in force", &err);
    }
}

/* Waits for SIGTERM/SIGINT, passing SIGHUP on to the reload thread, and
 * reloads the certificate when its files change. */
static void run_until_signal(struct pl_server *s, struct reloader *rl, const sigset_t *set)
{
    for (;;) {
        struct timespec tick = {1, 0};
        int sig = sigtimedwait(set, NULL, &tick);
        reload_certificate();
        if (sig == SIGTERM || sig == SIGINT) {
            pl_log(PL_LOG_INFO, "shutdown requested: draining",
                   json_pack("{s:s, s:I}", "signal", sig == SIGTERM ? "SIGTERM" : "SIGINT",
                             "drain_seconds", (json_int_t)s->opts->drain_seconds));
            return;
        }
        if (sig == SIGHUP) {
            reloader_request(rl);
        }
    }
}

/* Keeps serving for the drain period (a second SIGTERM/SIGINT cuts it
 * short), then refuses new connections and lets the requests already begun
 * finish, for at most FINISH_SECONDS. */
static void drain(struct pl_server *s, struct pl_http_daemon *webhook, const sigset_t *set)
{
    /* Closing first: once readyz says 503, every answer says "Connection: close". */
    pl_http_set_closing(webhook);
    atomic_store(&s->draining, true);
    struct timespec left = {(time_t)s->opts->drain_seconds, 0};
    while (left.tv_sec > 0) {
        struct timespec tick = {1, 0};
        int sig = sigtimedwait(set, NULL, &tick);
        if (sig == SIGTERM || sig == SIGINT) {
            break;
        }
        left.tv_sec--;
    }
    pl_http_quiesce(webhook);
    unsigned in_flight = pl_http_in_flight(webhook);
    for (unsigned waited = 0; in_flight > 0 && waited < FINISH_SECONDS * 50u; waited++) {
        struct timespec tick = {0, 20 * 1000 * 1000};
        nanosleep(&tick, NULL);
        in_flight = pl_http_in_flight(webhook);
    }
    if (in_flight > 0) {
        pl_log(PL_LOG_WARN, "requests still in flight after the drain; closing them",
               json_pack("{s:I, s:I}", "in_flight", (json_int_t)in_flight, "finish_seconds",
                         (json_int_t)FINISH_SECONDS));
    }
}

/*
 * Raises the soft limit on open descriptors to the hard one (as Go programs
 * do by themselves; 1024 is a common soft limit) and warns when even that is
 * below what the connection limits can use. Past it accept(2) fails, and
 * libmicrohttpd then takes the listening socket out of its epoll set, which
 * the drain's pl_http_quiesce must never meet.
 */
static void raise_descriptor_limit(const struct pl_server *s)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
        return;
    }
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
            (void)getrlimit(RLIMIT_NOFILE, &rl);
        }
    }
    rlim_t need = (rlim_t)s->opts->connection_limit + HEALTH_CONNECTION_LIMIT + OTHER_DESCRIPTORS +
                  (rlim_t)DESCRIPTORS_PER_WORKER * s->opts->threads;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
        pl_log(PL_LOG_WARN,
               "the open-file limit is below what the connection limits need; lower "
               "--connection-limit or raise the limit (ulimit -n)",
               json_pack("{s:I, s:I}", "open_files", (json_int_t)rl.rlim_cur, "needed",
                         (json_int_t)need));
    }
}

static int serve(struct pl_server *s, const sigset_t *set)
{
    char *client_ca = NULL;
    struct pl_http_daemon *health = NULL, *webhook = NULL;
    struct reloader rl = {.started = false};
    struct pl_error err;
    pl_error_init(&err);
    int code = 2;
    if (pl_config_load(s->opts->config_path, s->opts->self_namespace, &s->cfg, &err) < 0) {
        log_error("invalid configuration", &err);
        goto out;
    }
    if (pl_certstore_init(s->opts->tls_cert, s->opts->tls_key, &err) < 0) {
        log_error("cannot load the serving certificate", &err);
        goto out;
    }
    if (s->opts->client_ca &&
        pl_file_read(s->opts->client_ca, PL_TLS_MAX_PEM, &client_ca, NULL, &err) < 0) {
        log_error("cannot load the client CA", &err);
        goto out;
    }
    warn_expiry(pl_certstore_not_after());
    raise_descriptor_limit(s);
    if (start_nswatch(s) < 0 || start_daemons(s, client_ca, &health, &webhook) < 0) {
        goto out;
    }
    atomic_store(&s->tls_loaded, true);
    pl_log(PL_LOG_INFO, "serving",
           json_pack("{s:s, s:s, s:I, s:s, s:s, s:s}", "listen", s->opts->listen, "health_listen",
                     s->opts->health_listen, "threads", (json_int_t)s->opts->threads, "config",
                     s->cfg->source, "namespace_view", s->nswatch ? "api-server" : "standalone",
                     "version", s->opts->version));
    if (reloader_start(&rl, s) < 0) {
        goto out;
    }
    run_until_signal(s, &rl, set);
    drain(s, webhook, set);
    code = 0;
out:
    reloader_stop(&rl);
    pl_http_stop(webhook);
    pl_http_stop(health);
    pl_nsview_free(s->nswatch);
    s->nswatch = NULL;
    pl_certstore_finish();
    free(client_ca);
    if (code == 0) {
        pl_log(PL_LOG_INFO, "stopped", NULL);
    }
    return code;
}

int pl_server_run(const struct pl_server_options *opts)
{
    struct pl_server s = {.opts = opts};
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    /* Blocked before any thread starts, so that every thread inherits the mask
     * and the signals are taken only by sigtimedwait in this thread. */
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* Large request arenas and bodies come from mmap and go back to the
     * system when freed, so a burst of big reviews does not stay in RSS. */
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    pthread_mutex_init(&s.cfg_lock, NULL);
    if (pthread_key_create(&s.pool_key, free_pool) != 0) {
        pl_oom();
    }
    atomic_init(&s.draining, false);
    atomic_init(&s.tls_loaded, false);
    int code = serve(&s, &set);
    struct pl_pool *pool = pthread_getspecific(s.pool_key);
    free_pool(pool);
    pthread_key_delete(s.pool_key);
    pl_config_unref(s.cfg);
    pthread_mutex_destroy(&s.cfg_lock);
    return code;
}
