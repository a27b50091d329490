/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nswatch_probe: a test driver for the namespace view against a real API
 * server (test/nswatch/run.sh). It starts a watcher with --kubeconfig (or
 * in-cluster credentials) and prints what admission threads would see.
 *
 *   nswatch_probe --kubeconfig FILE --ns NAME [--ns NAME]... --every MS [--for MS]
 *       prints one JSON line every MS milliseconds:
 *       {"synced":true,"staleness":0.000,"views":{"NAME":{...}|null}}
 *   nswatch_probe --kubeconfig FILE [--for MS]
 *       reads commands on stdin, one answer line each:
 *       "get NAME" -> {"ns":"NAME","annotations":{...}|null,"synced":...,"staleness":...}
 *       "status"   -> {"synced":...,"staleness":...}
 *       "quit" (or end of input) stops.
 *
 * The watcher's JSON log lines go to stderr. SIGINT/SIGTERM stop the probe
 * cleanly (pl_nsview_free), so that valgrind can check for leaks; the exit
 * status is 0 after a clean stop, 2 on usage errors, 1 when the watcher
 * cannot be set up.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "core/alloc.h"
#include "core/log.h"
#include "server/nsview.h"

#define MAX_NS 64

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static double now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Parses a non-negative millisecond count; -1 when malformed. */
static long parse_ms(const char *s)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 0 || v > 86400000L) {
        return -1;
    }
    return v;
}

/* Prints one compact JSON line (steals line) and flushes. */
static void emit(json_t *line)
{
    char *text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    json_decref(line);
    if (!text) {
        pl_oom();
    }
    printf("%s\n", text);
    fflush(stdout);
    free(text);
}

static json_t *status_line(struct pl_nsview *w)
{
    json_t *line = json_object();
    if (!line) {
        pl_oom();
    }
    json_object_set_new(line, "synced", json_boolean(pl_nsview_synced(w)));
    json_object_set_new(line, "staleness", json_real(pl_nsview_staleness_seconds(w)));
    return line;
}

/* The view of ns: a copy of its annotations, or JSON null. */
static json_t *view_of(struct pl_nsview *w, const char *ns)
{
    struct pl_pool pool;
    pl_pool_init(&pool);
    const json_t *ann = pl_nsview_annotations(w, ns, &pool);
    json_t *copy = ann ? json_deep_copy(ann) : json_null();
    pl_pool_finish(&pool);
    return copy;
}

static void periodic(struct pl_nsview *w, char **names, size_t n, long every, double until)
{
    while (!stop_requested && (until == 0 || now_mono() < until)) {
        json_t *line = status_line(w);
        json_t *views = json_object();
        for (size_t i = 0; i < n; i++) {
            json_object_set_new(views, names[i], view_of(w, names[i]));
        }
        json_object_set_new(line, "views", views);
        emit(line);
        struct timespec ts = {(time_t)(every / 1000), (every % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* Answers one command line. Returns false on "quit". */
static bool command(struct pl_nsview *w, char *cmd)
{
    cmd[strcspn(cmd, "\r\n")] = '\0';
    if (strcmp(cmd, "quit") == 0) {
        return false;
    }
    if (strcmp(cmd, "status") == 0) {
        emit(status_line(w));
    } else if (strncmp(cmd, "get ", 4) == 0) {
        json_t *line = json_object();
        json_object_set_new(line, "ns", json_string(cmd + 4));
        json_object_set_new(line, "annotations", view_of(w, cmd + 4));
        json_t *status = status_line(w);
        json_object_update(line, status);
        json_decref(status);
        emit(line);
    } else if (*cmd) {
        emit(json_pack("{s:s}", "error", "unknown command (get NAME | status | quit)"));
    }
    return true;
}

static void interactive(struct pl_nsview *w, double until)
{
    char buf[1024];
    while (!stop_requested && (until == 0 || now_mono() < until)) {
        struct pollfd p = {STDIN_FILENO, POLLIN, 0};
        if (poll(&p, 1, 100) <= 0) {
            continue;
        }
        if (!fgets(buf, sizeof(buf), stdin) || !command(w, buf)) {
            break;
        }
    }
}

static int usage(void)
{
    fprintf(stderr, "usage: nswatch_probe [--kubeconfig FILE] [--ns NAME]... [--every MS] "
                    "[--for MS]\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *kubeconfig = NULL;
    char *names[MAX_NS];
    size_t n = 0;
    long every = 0;
    long for_ms = 0;
    for (int i = 1; i < argc; i++) {
        bool has = i + 1 < argc;
        if (strcmp(argv[i], "--kubeconfig") == 0 && has) {
            kubeconfig = argv[++i];
        } else if (strcmp(argv[i], "--ns") == 0 && has && n < MAX_NS) {
            names[n++] = argv[++i];
        } else if (strcmp(argv[i], "--every") == 0 && has && (every = parse_ms(argv[++i])) > 0) {
            continue;
        } else if (strcmp(argv[i], "--for") == 0 && has && (for_ms = parse_ms(argv[++i])) >= 0) {
            continue;
        } else {
            return usage();
        }
    }
    pl_log_set_fd(STDERR_FILENO);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    struct pl_nsview_options opts = {.kubeconfig = kubeconfig};
    struct pl_nsview *w = NULL;
    struct pl_error err;
    pl_error_init(&err);
    int r = pl_nsview_new(&opts, &w, &err);
    if (r < 0) {
        char msg[1024];
        fprintf(stderr, "nswatch_probe: %s (%s)\n", pl_error_format(&err, msg, sizeof(msg)),
                r == -ENOENT ? "no kubeconfig and not in a cluster" : strerror(-r));
        return 1;
    }
    r = pl_nsview_start(w);
    if (r < 0) {
        fprintf(stderr, "nswatch_probe: cannot start the watcher: %s\n", strerror(-r));
        pl_nsview_free(w);
        return 1;
    }
    double until = for_ms > 0 ? now_mono() + (double)for_ms / 1000.0 : 0;
    if (every > 0) {
        periodic(w, names, n, every, until);
    } else {
        interactive(w, until);
    }
    pl_nsview_free(w);
    return 0;
}
