/* SPDX-License-Identifier: Apache-2.0 */
/*
 * loadgen: an open-loop HTTPS load generator for the benchmark (bench/run.sh).
 *
 * It posts one body over TLS (OpenSSL) on N connections, either kept alive
 * (HTTP/1.1) or opened anew for every request (--new-conn, with TLS session
 * resumption when --resume is given), at a fixed rate (--rate, wrk2-style
 * constant throughput) or as fast as the server answers (--rate 0).
 *
 * At a fixed rate request k is due at t0 + k/rate whatever happened before:
 * when every connection is busy it waits, and its latency is measured from
 * the time it was due, not from when it could be sent, so that a stalled
 * server shows in the percentiles instead of silently slowing the client
 * down ("coordinated omission").
 *
 * With --pid (repeatable) it also reads the CPU time of those processes
 * (sum of /proc/PID/task/N/schedstat, nanoseconds) at the start and the end
 * of the measured window and prints the server's CPU microseconds per
 * completed request.
 *
 * --spin polls for events instead of sleeping until the next request is due,
 * so that how late this process wakes from a timer (on a shared VM, over a
 * millisecond at p99.9: see --jitter) is not charged to the server. It costs
 * the load generator's core, which is its own anyway.
 *
 * --jitter S measures the machine instead: for S seconds it sleeps until
 * each next millisecond and prints how late it woke (p50/p99/p99.9), the
 * latency floor a noisy or shared machine puts under every figure.
 *
 * Everything is bounded: the run lasts --warmup + --duration seconds plus at
 * most two seconds of drain, and only loopback addresses (127.0.0.0/8) are
 * accepted as targets. Output is one line of key=value pairs on stdout.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "bench/measure.h"

#define MAX_CONNS    1024
#define MAX_PIDS     8
#define MAX_SAMPLES  (4u * 1024u * 1024u)
#define MAX_BODY     (8u * 1024u * 1024u)
#define MAX_RESPONSE (4u * 1024u * 1024u)
#define MAX_SECONDS  600
#define DRAIN_NS     (2ull * 1000000000ull)

enum conn_state {
    C_CLOSED, /* no socket (new-conn mode between requests) */
    C_CONNECTING,
    C_HANDSHAKE,
    C_IDLE, /* keep-alive, ready for a request */
    C_WRITING,
    C_READING,
};

struct conn {
    int fd;
    SSL *ssl;
    enum conn_state st;
    uint32_t events; /* epoll interest currently registered, 0 when not registered */
    size_t woff;     /* bytes of the request written */
    char *rbuf;
    size_t rlen, rcap;
    uint64_t due_ns; /* when the request in flight was due */
    bool pending;    /* a request is assigned (false while a kept-alive connection opens) */
    bool measured;   /* due inside the measured window */
};

struct opts {
    const char *host;
    int port;
    const char *path;
    const char *body_file;
    const char *expect;
    unsigned conns;
    double rate;
    double duration;
    double warmup;
    bool new_conn;
    bool resume;
    bool spin; /* poll instead of sleeping: no timer wake-up lateness in the figures */
    int pids[MAX_PIDS];
    unsigned n_pids;
    double jitter;
};

struct stats {
    uint64_t *lat_ns;
    size_t n_lat;
    uint64_t completed_in_window;
    uint64_t errors;
    uint64_t handshakes;
    uint64_t resumed;
    uint64_t dropped_samples;
};

static struct opts o = {.host = "127.0.0.1", .path = "/validate", .conns = 16, .duration = 5};
static struct stats st;
static SSL_CTX *ctx;
static SSL_SESSION *saved_session;
static char *request;
static size_t request_len;
static int epfd;
static struct sockaddr_in target;

static void die(const char *what)
{
    fprintf(stderr, "loadgen: %s\n", what);
    exit(2);
}

/* Total on-CPU nanoseconds of every thread of the given processes, and in
 * *ret_wait the nanoseconds they spent runnable but waiting for a CPU. */
static uint64_t cpu_ns(uint64_t *ret_wait)
{
    uint64_t total = 0, wait = 0;
    for (unsigned i = 0; i < o.n_pids; i++) {
        char dir[64];
        snprintf(dir, sizeof(dir), "/proc/%d/task", o.pids[i]);
        DIR *d = opendir(dir);
        if (!d) {
            continue;
        }
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.') {
                continue;
            }
            char path[128];
            snprintf(path, sizeof(path), "%s/%.32s/schedstat", dir, e->d_name);
            FILE *f = fopen(path, "r");
            if (!f) {
                continue;
            }
            unsigned long long ns = 0, waited = 0;
            if (fscanf(f, "%llu %llu", &ns, &waited) == 2) {
                total += ns;
                wait += waited;
            }
            fclose(f);
        }
        closedir(d);
    }
    *ret_wait = wait;
    return total;
}

static char *read_body(const char *path, size_t *ret_len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        die("cannot open the body file");
    }
    char *buf = malloc(MAX_BODY);
    if (!buf) {
        die("out of memory");
    }
    size_t n = fread(buf, 1, MAX_BODY, f);
    bool more = fgetc(f) != EOF;
    fclose(f);
    if (more) {
        die("the body file is larger than 8 MiB");
    }
    *ret_len = n;
    return buf;
}

static void build_request(void)
{
    size_t body_len;
    char *body = read_body(o.body_file, &body_len);
    char head[512];
    int n = snprintf(head, sizeof(head),
                     "POST %s HTTP/1.1\r\nHost: localhost\r\nUser-Agent: plimsoll-loadgen\r\n"
                     "Content-Type: application/json\r\nAccept: application/json\r\n"
                     "Content-Length: %zu\r\n%s\r\n",
                     o.path, body_len, o.new_conn ? "Connection: close\r\n" : "");
    if (n < 0 || (size_t)n >= sizeof(head)) {
        die("path too long");
    }
    request_len = (size_t)n + body_len;
    request = malloc(request_len);
    if (!request) {
        die("out of memory");
    }
    memcpy(request, head, (size_t)n);
    memcpy(request + n, body, body_len);
    free(body);
}

static void set_interest(struct conn *c, uint32_t events)
{
    if (c->events == events) {
        return;
    }
    struct epoll_event ev = {.events = events, .data.ptr = c};
    int op = c->events == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
    if (events == 0) {
        op = EPOLL_CTL_DEL;
    }
    if (epoll_ctl(epfd, op, c->fd, &ev) < 0) {
        die("epoll_ctl failed");
    }
    c->events = events;
}

static void close_conn(struct conn *c)
{
    if (c->fd >= 0) {
        set_interest(c, 0);
    }
    if (c->ssl) {
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
    c->st = C_CLOSED;
    c->rlen = 0;
    c->woff = 0;
}

/* Starts a non-blocking TCP connect and the TLS client on c. */
static void open_conn(struct conn *c)
{
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        die("socket failed");
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->events = 0;
    c->ssl = SSL_new(ctx);
    if (!c->ssl || !SSL_set_fd(c->ssl, c->fd)) {
        die("SSL_new failed");
    }
    SSL_set_tlsext_host_name(c->ssl, "localhost");
    if (o.resume && saved_session) {
        SSL_set_session(c->ssl, saved_session);
    }
    c->rlen = 0;
    c->woff = 0;
    if (connect(c->fd, (struct sockaddr *)&target, sizeof(target)) == 0) {
        c->st = C_HANDSHAKE;
    } else if (errno == EINPROGRESS) {
        c->st = C_CONNECTING;
    } else {
        die("cannot connect to the target");
    }
}

static void record(struct conn *c, uint64_t done)
{
    if (!c->measured) {
        return;
    }
    if (st.n_lat >= MAX_SAMPLES) {
        st.dropped_samples++;
        return;
    }
    st.lat_ns[st.n_lat++] = done - c->due_ns;
}

/* A complete response in rbuf: the status is 200 and the body holds --expect. */
static int response_done(struct conn *c, bool *ret_ok, bool *ret_close)
{
    char *end = memmem(c->rbuf, c->rlen, "\r\n\r\n", 4);
    if (!end) {
        return 0;
    }
    size_t head_len = (size_t)(end - c->rbuf) + 4;
    size_t body_len = 0;
    bool has_len = false;
    *ret_close = false;
    for (char *line = memchr(c->rbuf, '\n', head_len); line && line < end;
         line = memchr(line + 1, '\n', (size_t)(end - line))) {
        const char *h = line + 1;
        if (strncasecmp(h, "content-length:", 15) == 0) {
            body_len = strtoul(h + 15, NULL, 10);
            has_len = true;
        } else if (strncasecmp(h, "connection: close", 17) == 0) {
            *ret_close = true;
        }
    }
    if (!has_len || body_len > MAX_RESPONSE) {
        *ret_ok = false;
        *ret_close = true;
        return 1;
    }
    if (c->rlen < head_len + body_len) {
        return 0;
    }
    bool ok = c->rlen > 12 && strncmp(c->rbuf + 8, " 200", 4) == 0;
    if (ok && o.expect) {
        ok = memmem(c->rbuf + head_len, body_len, o.expect, strlen(o.expect)) != NULL;
    }
    *ret_ok = ok;
    return 1;
}

/* Reads as much as is available; returns 1 when a response is complete. */
static int read_some(struct conn *c, bool *ret_ok, bool *ret_close)
{
    for (;;) {
        if (c->rcap - c->rlen < 16384) {
            size_t cap = c->rcap ? c->rcap * 2 : 65536;
            if (cap > MAX_RESPONSE + 65536) {
                *ret_ok = false;
                *ret_close = true;
                return 1;
            }
            char *n = realloc(c->rbuf, cap);
            if (!n) {
                die("out of memory");
            }
            c->rbuf = n;
            c->rcap = cap;
        }
        int n = SSL_read(c->ssl, c->rbuf + c->rlen, (int)(c->rcap - c->rlen));
        if (n > 0) {
            c->rlen += (size_t)n;
            int done = response_done(c, ret_ok, ret_close);
            if (done) {
                return done;
            }
            continue;
        }
        int e = SSL_get_error(c->ssl, n);
        if (e == SSL_ERROR_WANT_READ) {
            set_interest(c, EPOLLIN);
            return 0;
        }
        if (e == SSL_ERROR_WANT_WRITE) {
            set_interest(c, EPOLLOUT);
            return 0;
        }
        *ret_ok = false;
        *ret_close = true;
        return 1;
    }
}

static void finish_request(struct conn *c, bool ok, bool must_close)
{
    uint64_t done = bench_now_ns();
    c->pending = false;
    if (!ok) {
        st.errors++;
    } else {
        record(c, done);
    }
    if (o.new_conn) {
        if (o.resume && ok) {
            SSL_SESSION *s = SSL_get1_session(c->ssl);
            if (s && SSL_SESSION_is_resumable(s)) {
                SSL_SESSION_free(saved_session);
                saved_session = s;
            } else {
                SSL_SESSION_free(s);
            }
        }
        /* Marks the session as cleanly shut down (without sending close_notify):
         * OpenSSL makes a session that ends otherwise non-resumable. */
        SSL_set_quiet_shutdown(c->ssl, 1);
        SSL_shutdown(c->ssl);
        close_conn(c);
        return;
    }
    if (must_close || !ok) {
        close_conn(c);
        return;
    }
    c->st = C_IDLE;
    c->rlen = 0;
    set_interest(c, 0);
}

/* Drives c as far as it goes without blocking. Returns true when a request completed. */
static bool step(struct conn *c, uint64_t win_start, uint64_t win_end)
{
    if (c->st == C_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof(err);
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err == EINPROGRESS || err == EALREADY) {
            set_interest(c, EPOLLOUT);
            return false;
        }
        if (err != 0) {
            finish_request(c, false, true);
            return true;
        }
        c->st = C_HANDSHAKE;
    }
    if (c->st == C_HANDSHAKE) {
        int r = SSL_connect(c->ssl);
        if (r != 1) {
            int e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
                set_interest(c, e == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT);
                return false;
            }
            finish_request(c, false, true);
            return true;
        }
        st.handshakes++;
        if (SSL_session_reused(c->ssl)) {
            st.resumed++;
        }
        if (!c->pending) {
            c->st = C_IDLE;
            set_interest(c, 0);
            return false;
        }
        c->st = C_WRITING;
    }
    if (c->st == C_WRITING) {
        while (c->woff < request_len) {
            int n = SSL_write(c->ssl, request + c->woff, (int)(request_len - c->woff));
            if (n > 0) {
                c->woff += (size_t)n;
                continue;
            }
            int e = SSL_get_error(c->ssl, n);
            if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
                set_interest(c, e == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT);
                return false;
            }
            finish_request(c, false, true);
            return true;
        }
        c->st = C_READING;
    }
    if (c->st == C_READING) {
        bool ok = false, must_close = false;
        if (read_some(c, &ok, &must_close)) {
            uint64_t t = bench_now_ns();
            if (t >= win_start && t < win_end) {
                st.completed_in_window++;
            }
            finish_request(c, ok, must_close);
            return true;
        }
    }
    return false;
}

/* Starts the request due at due on c (opening a connection first in new-conn mode).
 * Returns true when it completed at once (the answer was already there). */
static bool start_request(struct conn *c, uint64_t due, uint64_t win_start, uint64_t win_end)
{
    c->due_ns = due;
    c->measured = due >= win_start && due < win_end;
    c->pending = true;
    if (o.new_conn) {
        open_conn(c);
    } else {
        c->st = C_WRITING;
        c->woff = 0;
        c->rlen = 0;
    }
    return step(c, win_start, win_end);
}

/* Keep-alive mode: connects every connection and finishes its handshake before timing starts. */
static void connect_all(struct conn *conns)
{
    uint64_t deadline = bench_now_ns() + 10 * NS_PER_SEC;
    for (unsigned i = 0; i < o.conns; i++) {
        open_conn(&conns[i]);
        step(&conns[i], 0, 0);
    }
    for (;;) {
        unsigned ready = 0;
        for (unsigned i = 0; i < o.conns; i++) {
            struct conn *c = &conns[i];
            if (c->st == C_IDLE) {
                ready++;
            } else if (c->st == C_CLOSED) {
                die("cannot connect to the target (TLS handshake failed)");
            }
        }
        if (ready == o.conns) {
            return;
        }
        if (bench_now_ns() > deadline) {
            die("connections not established within 10 s");
        }
        struct epoll_event evs[64];
        int n = epoll_wait(epfd, evs, 64, 100);
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            step(c, 0, 0);
        }
    }
}

static double percentile_us(double q)
{
    return bench_percentile_us(st.lat_ns, st.n_lat, q);
}

static void usage(void)
{
    fprintf(stderr, "usage: loadgen --port N --body FILE [--host 127.0.0.1] [--path /validate]\n"
                    "               [--connections N] [--rate R (0: as fast as answered)]\n"
                    "               [--duration S] [--warmup S] [--new-conn] [--resume] [--spin]\n"
                    "               [--expect STRING] [--pid PID]...\n"
                    "       loadgen --jitter SECONDS\n");
    exit(2);
}

static double parse_double(const char *s, double lo, double hi)
{
    double v;
    if (!bench_number(s, lo, hi, &v)) {
        usage();
    }
    return v;
}

static void parse_args(int argc, char **argv)
{
    static const struct option long_opts[] = {
        {"host", required_argument, NULL, 'h'},
        {"port", required_argument, NULL, 'p'},
        {"path", required_argument, NULL, 'P'},
        {"body", required_argument, NULL, 'b'},
        {"connections", required_argument, NULL, 'c'},
        {"rate", required_argument, NULL, 'r'},
        {"duration", required_argument, NULL, 'd'},
        {"warmup", required_argument, NULL, 'w'},
        {"new-conn", no_argument, NULL, 'n'},
        {"resume", no_argument, NULL, 'R'},
        {"spin", no_argument, NULL, 's'},
        {"expect", required_argument, NULL, 'e'},
        {"pid", required_argument, NULL, 'i'},
        {"jitter", required_argument, NULL, 'j'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
        switch (ch) {
        case 'h':
            o.host = optarg;
            break;
        case 'p':
            o.port = (int)parse_double(optarg, 1, 65535);
            break;
        case 'P':
            o.path = optarg;
            break;
        case 'b':
            o.body_file = optarg;
            break;
        case 'c':
            o.conns = (unsigned)parse_double(optarg, 1, MAX_CONNS);
            break;
        case 'r':
            o.rate = parse_double(optarg, 0, 1e6);
            break;
        case 'd':
            o.duration = parse_double(optarg, 0.1, MAX_SECONDS);
            break;
        case 'w':
            o.warmup = parse_double(optarg, 0, MAX_SECONDS);
            break;
        case 'n':
            o.new_conn = true;
            break;
        case 's':
            o.spin = true;
            break;
        case 'R':
            o.resume = true;
            break;
        case 'e':
            o.expect = optarg;
            break;
        case 'j':
            o.jitter = parse_double(optarg, 0.1, MAX_SECONDS);
            break;
        case 'i':
            if (o.n_pids == MAX_PIDS) {
                usage();
            }
            o.pids[o.n_pids++] = (int)parse_double(optarg, 1, 1e9);
            break;
        default:
            usage();
        }
    }
    if (o.jitter > 0 && optind == argc) {
        return;
    }
    if (!o.port || !o.body_file || optind != argc) {
        usage();
    }
    const char *host = strcmp(o.host, "localhost") == 0 ? "127.0.0.1" : o.host;
    target.sin_family = AF_INET;
    target.sin_port = htons((uint16_t)o.port);
    if (inet_pton(AF_INET, host, &target.sin_addr) != 1 ||
        (ntohl(target.sin_addr.s_addr) >> 24) != 127) {
        die("only loopback targets (127.0.0.0/8) are allowed");
    }
}

static void setup_tls(void)
{
    ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        die("SSL_CTX_new failed");
    }
    /* The benchmark measures the server; the certificate is the one it made itself. */
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    /* Offer what kube-apiserver (Go's crypto/tls on AES-capable hardware)
     * offers, in its order: the server's choice then matches production. */
    if (!SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:"
                                       "TLS_AES_256_GCM_SHA384") ||
        !SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384")) {
        die("cannot set the TLS 1.3 cipher suites");
    }
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL);
}

/* Dispatches due requests onto free connections; returns the time the next one is due,
 * or now when a connection is free again already. */
static uint64_t dispatch(struct conn *conns, uint64_t now, uint64_t t0, uint64_t *next_seq,
                         uint64_t end, uint64_t win_start, uint64_t win_end)
{
    bool again = false;
    double interval = o.rate > 0 ? (double)NS_PER_SEC / o.rate : 0;
    for (unsigned i = 0; i < o.conns && now < end; i++) {
        struct conn *c = &conns[i];
        if (!o.new_conn && c->st == C_CLOSED) {
            /* The server closed a kept-alive connection: open another one. */
            open_conn(c);
            step(c, win_start, win_end);
            continue;
        }
        bool free_slot = o.new_conn ? c->st == C_CLOSED : c->st == C_IDLE;
        if (!free_slot) {
            continue;
        }
        uint64_t due = now;
        if (o.rate > 0) {
            due = t0 + (uint64_t)((double)*next_seq * interval);
            if (due > now || due >= end) {
                break;
            }
        }
        (*next_seq)++;
        again = start_request(c, due, win_start, win_end) || again;
    }
    if (again) {
        return now;
    }
    if (o.rate > 0) {
        return t0 + (uint64_t)((double)*next_seq * interval);
    }
    return UINT64_MAX;
}

static unsigned busy_count(const struct conn *conns)
{
    unsigned n = 0;
    for (unsigned i = 0; i < o.conns; i++) {
        enum conn_state s = conns[i].st;
        n += conns[i].pending && s != C_CLOSED;
    }
    return n;
}

static void run(struct conn *conns)
{
    if (!o.new_conn) {
        connect_all(conns);
    }
    uint64_t t0 = bench_now_ns();
    uint64_t win_start = t0 + (uint64_t)(o.warmup * (double)NS_PER_SEC);
    uint64_t win_end = win_start + (uint64_t)(o.duration * (double)NS_PER_SEC);
    uint64_t hard_end = win_end + DRAIN_NS;
    uint64_t next_seq = 0;
    uint64_t cpu0 = 0, cpu1 = 0, wait0 = 0, wait1 = 0;
    bool in_window = false;
    for (;;) {
        uint64_t now = bench_now_ns();
        if (!in_window && now >= win_start) {
            cpu0 = cpu_ns(&wait0);
            in_window = true;
        }
        if (in_window && cpu1 == 0 && now >= win_end) {
            cpu1 = cpu_ns(&wait1) + 1;
        }
        if (now >= win_end && (busy_count(conns) == 0 || now >= hard_end)) {
            break;
        }
        uint64_t next_due = dispatch(conns, now, t0, &next_seq, win_end, win_start, win_end);
        uint64_t wake = next_due;
        if (!in_window && win_start < wake) {
            wake = win_start;
        }
        if (win_end > now && win_end < wake) {
            wake = win_end;
        }
        if (wake > hard_end) {
            wake = hard_end;
        }
        now = bench_now_ns();
        uint64_t wait = wake > now && !o.spin ? wake - now : 0;
        struct timespec ts = {(time_t)(wait / NS_PER_SEC), (long)(wait % NS_PER_SEC)};
        struct epoll_event evs[256];
        int n = epoll_pwait2(epfd, evs, 256, &ts, NULL);
        if (n < 0 && errno != EINTR) {
            die("epoll_pwait2 failed");
        }
        for (int i = 0; i < n; i++) {
            step(evs[i].data.ptr, win_start, win_end);
        }
    }
    if (cpu1 == 0) {
        cpu1 = cpu_ns(&wait1) + 1;
    }
    /* Requests still in flight when the drain ran out are reported apart:
     * they are not failures, only unanswered within the bound. */
    uint64_t unfinished = busy_count(conns);
    bench_sort_ns(st.lat_ns, st.n_lat);
    double secs = o.duration;
    double rps = (double)st.completed_in_window / secs;
    double cpu_us = o.n_pids && st.completed_in_window
                        ? (double)(cpu1 - 1 - cpu0) / 1000.0 / (double)st.completed_in_window
                        : 0;
    printf("requests=%llu errors=%llu unfinished=%llu seconds=%.3f rps=%.1f p50_us=%.1f "
           "p90_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f handshakes=%llu resumed=%llu "
           "cpu_us_per_req=%.2f server_wait_pct=%.1f samples=%zu\n",
           (unsigned long long)st.completed_in_window, (unsigned long long)st.errors,
           (unsigned long long)unfinished, secs, rps, percentile_us(0.50), percentile_us(0.90),
           percentile_us(0.99), percentile_us(0.999),
           st.n_lat ? (double)st.lat_ns[st.n_lat - 1] / 1000.0 : 0.0,
           (unsigned long long)st.handshakes, (unsigned long long)st.resumed, cpu_us,
           o.n_pids ? (double)(wait1 - wait0) / (o.duration * 1e7) : 0.0, st.n_lat);
}

/* How late a thread wakes from a 1 ms absolute sleep on this machine. */
static void jitter(void)
{
    size_t n = (size_t)(o.jitter * 1000.0);
    st.lat_ns = malloc(n * sizeof(st.lat_ns[0]));
    if (!st.lat_ns) {
        die("out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t due = bench_now_ns() + 1000000ull;
        struct timespec ts = {(time_t)(due / NS_PER_SEC), (long)(due % NS_PER_SEC)};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
        }
        st.lat_ns[st.n_lat++] = bench_now_ns() - due;
    }
    bench_sort_ns(st.lat_ns, st.n_lat);
    printf("jitter samples=%zu p50_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f\n", st.n_lat,
           percentile_us(0.50), percentile_us(0.99), percentile_us(0.999),
           (double)st.lat_ns[st.n_lat - 1] / 1000.0);
    free(st.lat_ns);
}

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    /* Wake at the scheduled time, not up to 50 us later (the default timer slack). */
    prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    if (o.jitter > 0) {
        jitter();
        return 0;
    }
    signal(SIGPIPE, SIG_IGN);
    build_request();
    setup_tls();
    st.lat_ns = malloc(MAX_SAMPLES * sizeof(st.lat_ns[0]));
    struct conn *conns = calloc(o.conns, sizeof(*conns));
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (!st.lat_ns || !conns || epfd < 0) {
        die("out of memory");
    }
    for (unsigned i = 0; i < o.conns; i++) {
        conns[i].fd = -1;
        conns[i].st = C_CLOSED;
    }
    run(conns);
    for (unsigned i = 0; i < o.conns; i++) {
        close_conn(&conns[i]);
        free(conns[i].rbuf);
    }
    SSL_SESSION_free(saved_session);
    SSL_CTX_free(ctx);
    free(conns);
    free(st.lat_ns);
    free(request);
    close(epfd);
    return 0;
}
