/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of server/nsview.c, without a cluster.
 *
 * The view is driven directly through its list+watch callbacks (annotation
 * filtering, ADDED, MODIFIED, DELETED, failed lists, snapshots that share
 * every chunk an event did not touch, borrowed values that outlive later
 * publishes). The thread is tested end to end
 * against a scripted fake API server on 127.0.0.1 (plain HTTP): the test
 * queues each answer, pushes watch events into an open stream, and reads
 * back the request targets and Authorization headers. That covers paginated
 * lists, the watch URL, bookmarks, relists on 410 (ERROR event and HTTP),
 * token rotation and 401, an outage (view kept, staleness > 0, then 0
 * again), and a prompt pl_nsview_free() during a watch, a backoff sleep and
 * a request that gets no answer.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "kube/stream.h"
#include "server/nsview.c"

/* ---- helpers ---- */

static void sleep_for_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Whether the published annotations of ns equal the JSON text want ("null": unknown ns). */
static bool view_is(struct pl_nsview *w, const char *ns, const char *want)
{
    struct pl_pool pool;
    pl_pool_init(&pool);
    const json_t *got = pl_nsview_annotations(w, ns, &pool);
    json_t *exp = json_loads(want, JSON_DECODE_ANY, NULL);
    bool same = json_is_null(exp) ? got == NULL : (got && json_equal(got, exp));
    json_decref(exp);
    pl_pool_finish(&pool);
    return same;
}

static void assert_view(struct pl_nsview *w, const char *ns, const char *want)
{
    if (!view_is(w, ns, want)) {
        struct pl_pool pool;
        pl_pool_init(&pool);
        const json_t *got = pl_nsview_annotations(w, ns, &pool);
        char *s = got ? json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        fail_msg("view of %s is %s; want %s", ns, s ? s : "null", want);
    }
}

/* Polls until the view of ns equals want, for up to 3 s. */
static void wait_view(struct pl_nsview *w, const char *ns, const char *want)
{
    for (int i = 0; i < 300 && !view_is(w, ns, want); i++) {
        sleep_for_ms(10);
    }
    assert_view(w, ns, want);
}

#define NS(name, rv, ann)                                                                          \
    "{\"kind\":\"Namespace\",\"metadata\":{\"name\":\"" name "\",\"resourceVersion\":\"" rv        \
    "\",\"annotations\":" ann "}}"
#define EVENT(type, obj) "{\"type\":\"" type "\",\"object\":" obj "}\n"
#define MODE(m)          "{\"plimsoll.dev/mode\":\"" m "\"}"

/* ---- the view, driven through its callbacks ---- */

/* A view with no thread and no client, for calling the callbacks directly. */
static struct pl_nsview *bare_view(void)
{
    struct pl_nsview *v = pl_xcalloc(1, sizeof(*v));
    pthread_mutex_init(&v->lock, NULL);
    v->empty = json_object();
    return v;
}

static json_t *obj(const char *text)
{
    json_t *j = json_loads(text, 0, NULL);
    assert_non_null(j);
    return j;
}

/* Applies one event (JSON text of the object) and flushes. */
static int event(struct pl_nsview *v, enum pl_kube_event type, const char *object)
{
    json_t *o = obj(object);
    int r = on_event(v, type, o);
    json_decref(o);
    on_flush(v);
    return r;
}

static void test_events(void **state)
{
    (void)state;
    struct pl_nsview *v = bare_view();
    assert_view(v, "a", "null"); /* before the first list */
    on_list_begin(v);
    json_t *item = obj(NS("team-a", "10",
                          "{\"plimsoll.dev/mode\":\"warn\",\"plimsoll.dev/image-tag\":\"off\","
                          "\"kubectl.kubernetes.io/last-applied-configuration\":\"{}\","
                          "\"plimsoll.dev.evil/x\":\"y\",\"plimsoll.dev/n\":3}"));
    assert_int_equal(on_list_item(v, item), 0);
    json_decref(item);
    item = obj("{\"metadata\":{\"resourceVersion\":\"1\"}}"); /* unnamed: skipped */
    assert_int_equal(on_list_item(v, item), 0);
    json_decref(item);
    assert_view(v, "team-a", "null"); /* nothing published until the list ends */
    on_list_end(v, true);
    /* Only string-valued plimsoll.dev/ keys are kept. */
    assert_view(v, "team-a", "{\"plimsoll.dev/mode\":\"warn\",\"plimsoll.dev/image-tag\":\"off\"}");
    assert_int_equal(pl_nsview_count(v), 1);

    /* A namespace without annotations is known, with an empty object. */
    assert_int_equal(event(v, PL_KUBE_ADDED, "{\"metadata\":{\"name\":\"b\"}}"), 0);
    assert_view(v, "b", "{}");
    assert_view(v, "nope", "null");
    assert_int_equal(event(v, PL_KUBE_MODIFIED, NS("team-a", "12", MODE("enforce"))), 0);
    assert_view(v, "team-a", MODE("enforce"));
    assert_int_equal(event(v, PL_KUBE_DELETED, NS("b", "13", "{}")), 0);
    assert_view(v, "b", "null");
    assert_int_equal(pl_nsview_count(v), 1);

    /* A MODIFIED that changes nothing scoped publishes nothing new. */
    struct snapshot *before = v->published;
    assert_int_equal(event(v, PL_KUBE_MODIFIED,
                           NS("team-a", "100", "{\"plimsoll.dev/mode\":\"enforce\",\"u\":\"1\"}")),
                     0);
    assert_ptr_equal(before, v->published);
    /* No usable name: refused (the list+watch then relists). */
    assert_int_equal(event(v, PL_KUBE_ADDED, "{\"metadata\":{\"name\":\"\"}}"), -EINVAL);

    /* At most KEYS_MAX keys are kept, and no value over VALUE_MAX bytes. */
    char big[4096];
    int n = snprintf(big, sizeof(big), "{\"metadata\":{\"name\":\"many\",\"annotations\":{");
    for (unsigned i = 0; i < KEYS_MAX + 10; i++) {
        n += snprintf(big + n, sizeof(big) - (size_t)n, "\"plimsoll.dev/k%u\":\"off\",", i);
    }
    n += snprintf(big + n, sizeof(big) - (size_t)n, "\"plimsoll.dev/long\":\"");
    for (unsigned i = 0; i <= VALUE_MAX; i++) {
        big[n++] = 'x';
    }
    snprintf(big + n, sizeof(big) - (size_t)n, "\"}}}");
    assert_int_equal(event(v, PL_KUBE_ADDED, big), 0);
    struct pl_pool pool;
    pl_pool_init(&pool);
    const json_t *many = pl_nsview_annotations(v, "many", &pool);
    assert_int_equal(json_object_size(many), KEYS_MAX);
    assert_null(json_object_get(many, "plimsoll.dev/long"));
    /* Namespaces without scoped annotations share one immutable {}. */
    assert_int_equal(event(v, PL_KUBE_ADDED, "{\"metadata\":{\"name\":\"c\"}}"), 0);
    assert_ptr_equal(pl_nsview_annotations(v, "b2", &pool), NULL);
    assert_int_equal(event(v, PL_KUBE_ADDED, "{\"metadata\":{\"name\":\"d\"}}"), 0);
    assert_ptr_equal(pl_nsview_annotations(v, "c", &pool), pl_nsview_annotations(v, "d", &pool));
    pl_pool_finish(&pool);

    /* A failed list leaves the view as it was. */
    on_list_begin(v);
    item = obj(NS("other", "1", "{}"));
    assert_int_equal(on_list_item(v, item), 0);
    json_decref(item);
    on_list_end(v, false);
    assert_view(v, "team-a", MODE("enforce"));
    assert_view(v, "other", "null");
    pl_nsview_free(v);
}

/*
 * An event copies the chunk it touches and shares every other one with the
 * previous snapshot; a reader's borrowed object outlives later publishes.
 */
static void test_incremental(void **state)
{
    (void)state;
    struct pl_nsview *v = bare_view();
    on_list_begin(v);
    char text[256];
    for (int i = 0; i < 2000; i++) {
        snprintf(text, sizeof(text), NS("ns-%d", "1", MODE("warn")), i);
        json_t *item = obj(text);
        assert_int_equal(on_list_item(v, item), 0);
        json_decref(item);
    }
    on_list_end(v, true);
    assert_int_equal(pl_nsview_count(v), 2000);

    struct pl_pool pool;
    pl_pool_init(&pool);
    const json_t *held = pl_nsview_annotations(v, "ns-7", &pool);
    assert_non_null(held);

    struct snapshot *old = v->published;
    atomic_fetch_add(&old->refs, 1);
    assert_int_equal(event(v, PL_KUBE_MODIFIED, NS("ns-7", "2", MODE("enforce"))), 0);
    struct snapshot *now = v->published;
    assert_ptr_not_equal(old, now);
    unsigned touched = chunk_of("ns-7");
    unsigned shared = 0;
    for (unsigned i = 0; i < NCHUNKS; i++) {
        shared += old->c[i] == now->c[i];
    }
    assert_int_equal(shared, NCHUNKS - 1);
    assert_ptr_not_equal(old->c[touched], now->c[touched]);
    snapshot_unref(old);

    /* Many events, each publishing: the reader's borrowed value stays valid. */
    for (int i = 0; i < 500; i++) {
        snprintf(text, sizeof(text), NS("ns-%d", "3", MODE("off")), i);
        assert_int_equal(event(v, PL_KUBE_MODIFIED, text), 0);
    }
    assert_string_equal(json_string_value(json_object_get(held, "plimsoll.dev/mode")), "warn");
    assert_view(v, "ns-7", MODE("off"));
    assert_view(v, "ns-1999", MODE("warn"));
    pl_pool_finish(&pool);
    pl_nsview_free(v);
}

struct reader {
    struct pl_nsview *v;
    atomic_bool *stop;
    atomic_uint loops;
    unsigned found;
};

static void *read_loop(void *arg)
{
    struct reader *r = arg;
    struct pl_pool pool;
    pl_pool_init(&pool);
    char name[32];
    for (unsigned i = 0; !atomic_load(r->stop); i++) {
        snprintf(name, sizeof(name), "ns-%u", i % 300);
        const json_t *ann = pl_nsview_annotations(r->v, name, &pool);
        const char *mode = pl_json_string(ann, "plimsoll.dev/mode");
        r->found += mode && (mode[0] == 'w' || mode[0] == 'e');
        atomic_fetch_add(&r->loops, 1);
        if (i % 16 == 0) {
            pl_pool_clear(&pool);
        }
    }
    pl_pool_finish(&pool);
    return NULL;
}

/* Readers on other threads while events publish: no lock held across reads (TSan-clean). */
static void test_concurrent_readers(void **state)
{
    (void)state;
    struct pl_nsview *v = bare_view();
    on_list_begin(v);
    on_list_end(v, true);
    atomic_bool stop;
    atomic_init(&stop, false);
    pthread_t t[4];
    struct reader r[4];
    for (int i = 0; i < 4; i++) {
        r[i].v = v;
        r[i].stop = &stop;
        atomic_init(&r[i].loops, 0);
        r[i].found = 0;
        assert_int_equal(pthread_create(&t[i], NULL, read_loop, &r[i]), 0);
    }
    char text[256];
    for (int i = 0; i < 3000; i++) {
        snprintf(text, sizeof(text), NS("ns-%d", "1", MODE("%s")), i % 300,
                 i % 2 ? "warn" : "enforce");
        assert_int_equal(event(v, i % 7 == 6 ? PL_KUBE_DELETED : PL_KUBE_MODIFIED, text), 0);
    }
    /* Under valgrind threads take turns: let every reader see the final view too. */
    for (int i = 0; i < 4; i++) {
        unsigned start = atomic_load(&r[i].loops);
        for (int k = 0; k < 1000 && atomic_load(&r[i].loops) < start + 400; k++) {
            sleep_for_ms(2);
        }
    }
    atomic_store(&stop, true);
    unsigned found = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        found += r[i].found;
    }
    assert_true(found > 0);
    pl_nsview_free(v);
}

static void test_standalone_and_null(void **state)
{
    (void)state;
    unsetenv("KUBERNETES_SERVICE_HOST");
    unsetenv("KUBERNETES_SERVICE_PORT");
    struct pl_nsview *v = NULL;
    struct pl_error err;
    pl_error_init(&err);
    struct pl_nsview_options opts = {.kubeconfig = NULL, .sa_dir = "/nonexistent"};
    assert_int_equal(pl_nsview_new(&opts, &v, &err), -ENOENT);
    assert_null(v);
    opts.kubeconfig = "/nonexistent/kubeconfig";
    assert_int_equal(pl_nsview_new(&opts, &v, &err), -EIO);
    assert_null(pl_nsview_annotations(NULL, "x", NULL));
    assert_false(pl_nsview_synced(NULL));
    assert_true(pl_nsview_staleness_seconds(NULL) == 0);
    pl_nsview_free(NULL);
}

/* ---- a scripted fake API server ---- */

#define FAKE_MAX 256

struct fake_resp {
    int status;
    char *body;
    bool hold; /* keep the stream open for fake_push() until fake_end() */
};

struct fake {
    int lfd;
    int port;
    char dir[64];
    char kubeconfig[128];
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct fake_resp queue[FAKE_MAX];
    unsigned qhead;
    unsigned qtail;
    char *targets[FAKE_MAX];
    char *auths[FAKE_MAX];
    unsigned nreq;
    struct pl_buf push;
    bool end;
    bool quit;
    bool streaming;
    unsigned streams_ended; /* streams closed so far */
};

static void send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k <= 0) {
            return;
        }
        p += k;
        n -= (size_t)k;
    }
}

/* Reads the request head; NULL when the client went away or the test ends. */
static char *read_head(struct fake *f, int fd)
{
    struct pl_buf b;
    pl_buf_init(&b, 65536);
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 50) == 0) {
            pthread_mutex_lock(&f->lock);
            bool quit = f->quit;
            pthread_mutex_unlock(&f->lock);
            if (quit) {
                break;
            }
            continue;
        }
        char buf[4096];
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n <= 0 || pl_buf_append(&b, buf, (size_t)n) < 0) {
            break;
        }
        if (strstr(pl_buf_str(&b), "\r\n\r\n")) {
            return pl_buf_steal(&b);
        }
    }
    pl_buf_finish(&b);
    return NULL;
}

/* Records the target and Authorization header; waits for the test to queue an answer. */
static bool next_response(struct fake *f, const char *head, struct fake_resp *ret)
{
    const char *sp = strchr(head, ' ');
    const char *sp2 = sp ? strchr(sp + 1, ' ') : NULL;
    const char *auth = strstr(head, "Authorization: ");
    const char *auth_end = auth ? strstr(auth, "\r\n") : NULL;
    pthread_mutex_lock(&f->lock);
    if (f->nreq < FAKE_MAX) {
        f->targets[f->nreq] =
            sp && sp2 ? pl_xstrndup(sp + 1, (size_t)(sp2 - sp - 1)) : pl_xstrdup("?");
        f->auths[f->nreq] = auth && auth_end
                                ? pl_xstrndup(auth + 15, (size_t)(auth_end - auth - 15))
                                : pl_xstrdup("");
        f->nreq++;
    }
    pthread_cond_broadcast(&f->cond);
    while (!f->quit && f->qhead == f->qtail) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 20000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&f->cond, &f->lock, &ts);
    }
    bool ok = !f->quit;
    if (ok) {
        *ret = f->queue[f->qhead++ % FAKE_MAX];
        f->end = false;
        f->streaming = ret->hold;
        pl_buf_reset(&f->push);
    }
    pthread_mutex_unlock(&f->lock);
    return ok;
}

/* Streams pushed data until fake_end(), the client leaving, or the end of the test. */
static void stream(struct fake *f, int fd)
{
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 10) > 0) {
            char buf[256];
            if (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) <= 0) {
                break; /* the client closed */
            }
        }
        pthread_mutex_lock(&f->lock);
        char *data = f->push.len > 0 ? pl_buf_steal(&f->push) : NULL;
        bool done = f->end || f->quit;
        pthread_mutex_unlock(&f->lock);
        if (data) {
            send_all(fd, data, strlen(data));
            free(data);
            continue;
        }
        if (done) {
            break;
        }
    }
    pthread_mutex_lock(&f->lock);
    f->streaming = false;
    f->streams_ended++;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
}

static void *fake_run(void *arg)
{
    struct fake *f = arg;
    for (;;) {
        pthread_mutex_lock(&f->lock);
        bool quit = f->quit;
        pthread_mutex_unlock(&f->lock);
        if (quit) {
            break;
        }
        struct pollfd p = {f->lfd, POLLIN, 0};
        if (poll(&p, 1, 20) <= 0) {
            continue;
        }
        int fd = accept(f->lfd, NULL, NULL);
        if (fd < 0) {
            continue;
        }
        char *head = read_head(f, fd);
        struct fake_resp resp;
        if (head && next_response(f, head, &resp)) {
            char hdr[256];
            int n = snprintf(hdr, sizeof(hdr),
                             "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
                             "Connection: close\r\n\r\n",
                             resp.status);
            send_all(fd, hdr, (size_t)n);
            send_all(fd, resp.body, strlen(resp.body));
            if (resp.hold) {
                stream(f, fd);
            }
            free(resp.body);
        }
        free(head);
        close(fd);
    }
    return NULL;
}

static void fake_write(const char *dir, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    fputs(text, fp);
    assert_int_equal(fclose(fp), 0);
}

static struct fake *fake_start(void)
{
    struct fake *f = pl_xcalloc(1, sizeof(*f));
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->cond, NULL);
    pl_buf_init(&f->push, 64u * 1024u * 1024u);
    f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(f->lfd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(f->lfd, 16), 0);
    socklen_t len = sizeof(sa);
    assert_int_equal(getsockname(f->lfd, (struct sockaddr *)&sa, &len), 0);
    f->port = ntohs(sa.sin_port);
    snprintf(f->dir, sizeof(f->dir), "/tmp/pl-nswatch-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    char config[512];
    snprintf(config, sizeof(config),
             "current-context: fake\n"
             "contexts: [{name: fake, context: {cluster: fake, user: fake}}]\n"
             "clusters: [{name: fake, cluster: {server: 'http://127.0.0.1:%d/'}}]\n"
             "users: [{name: fake, user: {tokenFile: token}}]\n",
             f->port);
    fake_write(f->dir, "config", config);
    fake_write(f->dir, "token", "tok-1\n");
    snprintf(f->kubeconfig, sizeof(f->kubeconfig), "%s/config", f->dir);
    assert_int_equal(pthread_create(&f->thread, NULL, fake_run, f), 0);
    return f;
}

static void fake_stop(struct fake *f)
{
    pthread_mutex_lock(&f->lock);
    f->quit = true;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
    pthread_join(f->thread, NULL);
    close(f->lfd);
    while (f->qhead != f->qtail) {
        free(f->queue[f->qhead++ % FAKE_MAX].body);
    }
    for (unsigned i = 0; i < f->nreq; i++) {
        free(f->targets[i]);
        free(f->auths[i]);
    }
    char path[256];
    snprintf(path, sizeof(path), "%s/config", f->dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/token", f->dir);
    unlink(path);
    rmdir(f->dir);
    pl_buf_finish(&f->push);
    pthread_mutex_destroy(&f->lock);
    pthread_cond_destroy(&f->cond);
    free(f);
}

static void fake_reply(struct fake *f, int status, const char *body, bool hold)
{
    pthread_mutex_lock(&f->lock);
    assert_true(f->qtail - f->qhead < FAKE_MAX);
    f->queue[f->qtail++ % FAKE_MAX] = (struct fake_resp){status, pl_xstrdup(body), hold};
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
}

static void fake_push(struct fake *f, const char *data)
{
    pthread_mutex_lock(&f->lock);
    assert_int_equal(pl_buf_puts(&f->push, data), 0);
    pthread_mutex_unlock(&f->lock);
}

/* Ends the open stream cleanly (the server's timeoutSeconds) and waits until it is closed. */
static void fake_end(struct fake *f)
{
    pthread_mutex_lock(&f->lock);
    f->end = true;
    /* Counted, not "while streaming": on a busy machine the client may already have
     * reconnected and a queued answer opened the next stream before this thread wakes. */
    unsigned want = f->streams_ended + (f->streaming ? 1u : 0u);
    while (f->streams_ended < want) {
        pthread_cond_wait(&f->cond, &f->lock);
    }
    pthread_mutex_unlock(&f->lock);
}

/* Waits (up to 5 s) until n requests arrived. */
static void fake_wait(struct fake *f, unsigned n)
{
    pthread_mutex_lock(&f->lock);
    for (int i = 0; i < 250 && f->nreq < n; i++) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 20000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&f->cond, &f->lock, &ts);
    }
    unsigned got = f->nreq;
    pthread_mutex_unlock(&f->lock);
    if (got < n) {
        fail_msg("only %u requests arrived; want %u", got, n);
    }
}

/* Asserts that request i (0-based) had a target containing each of the NULL-ended parts. */
static void assert_target(struct fake *f, unsigned i, ...)
{
    pthread_mutex_lock(&f->lock);
    const char *t = i < f->nreq ? f->targets[i] : "";
    pthread_mutex_unlock(&f->lock);
    va_list ap;
    va_start(ap, i);
    for (const char *part = va_arg(ap, const char *); part; part = va_arg(ap, const char *)) {
        if (*part == '!') {
            if (strstr(t, part + 1)) {
                fail_msg("request %u is %s; did not want %s", i, t, part + 1);
            }
        } else if (!strstr(t, part)) {
            fail_msg("request %u is %s; want %s in it", i, t, part);
        }
    }
    va_end(ap);
}

static void assert_auth(struct fake *f, unsigned i, const char *want)
{
    pthread_mutex_lock(&f->lock);
    const char *a = i < f->nreq ? f->auths[i] : "";
    pthread_mutex_unlock(&f->lock);
    assert_string_equal(a, want);
}

static struct pl_nsview *start_watcher(struct fake *f, unsigned base_ms, unsigned max_ms)
{
    struct pl_nsview *w = NULL;
    struct pl_error err;
    pl_error_init(&err);
    struct pl_nsview_options opts = {.kubeconfig = f->kubeconfig};
    struct pl_kube_listwatch_options lo = {.path = "/api/v1/namespaces",
                                           .name = "namespace watch",
                                           .backoff_base_ms = base_ms,
                                           .backoff_max_ms = max_ms,
                                           .watch_timeout_s = 30,
                                           .short_watch_ms = 200};
    int r = create(&opts, &lo, &w, &err);
    if (r != 0) {
        fail_msg("pl_nsview_new: %d %s %s", r, err.path, err.message);
    }
    assert_int_equal(pl_nsview_start(w), 0);
    assert_int_equal(pl_nsview_start(w), -EINVAL);
    return w;
}

static void wait_staleness(struct pl_nsview *w, bool stale)
{
    for (int i = 0; i < 300 && (pl_nsview_staleness_seconds(w) > 0) != stale; i++) {
        sleep_for_ms(10);
    }
    double s = pl_nsview_staleness_seconds(w);
    if ((s > 0) != stale) {
        fail_msg("staleness %f; want %s", s, stale ? "> 0" : "0");
    }
}

#define LIST(rv, cont, items)                                                                      \
    "{\"kind\":\"NamespaceList\",\"metadata\":{\"resourceVersion\":\"" rv                          \
    "\",\"continue\":\"" cont "\"},\"items\":[" items "]}"
#define STATUS(code, msg) "{\"kind\":\"Status\",\"code\":" #code ",\"message\":\"" msg "\"}"

/* Frees w; fails when that took more than limit seconds (it must not wait
 * out a backoff, a watch or an unanswered request). */
static void free_within(struct pl_nsview *w, double limit, const char *during)
{
    struct timespec t0;
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pl_nsview_free(w);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (took > limit) {
        fail_msg("pl_nsview_free took %.2f s %s", took, during);
    }
}

static void test_list_and_watch(void **state)
{
    (void)state;
    struct fake *f = fake_start();
    /* The first list is refused: not synced, retried with backoff. */
    fake_reply(f, 403, STATUS(403, "namespaces is forbidden"), false);
    struct pl_nsview *w = start_watcher(f, 20, 200);
    fake_wait(f, 1);
    assert_false(pl_nsview_synced(w));
    assert_view(w, "a", "null");

    /* Two pages, then the watch. */
    fake_reply(f, 200,
               LIST("100", "tok/1+",
                    NS("a", "90",
                       "{\"plimsoll.dev/mode\":\"warn\","
                       "\"x.io/y\":\"z\"}")),
               false);
    fake_reply(f, 200,
               LIST("100", "", NS("b", "95", "{}") ",{\"metadata\":{\"resourceVersion\":\"1\"}}"),
               false);
    fake_reply(f, 200, "", true);
    fake_wait(f, 4);
    wait_staleness(w, false);
    assert_true(pl_nsview_synced(w));
    assert_view(w, "a", MODE("warn"));
    assert_view(w, "b", "{}");
    assert_view(w, "zz", "null");
    assert_target(f, 0, "/api/v1/namespaces?", "limit=500", "!continue", "!watch", NULL);
    assert_target(f, 1, "/api/v1/namespaces?", "limit=500", "!continue", NULL);
    assert_target(f, 2, "limit=500", "&continue=tok%2F1%2B", NULL);
    assert_target(f, 3, "/api/v1/namespaces?watch=1", "&resourceVersion=100",
                  "&allowWatchBookmarks=true", "&timeoutSeconds=30", NULL);
    for (unsigned i = 0; i < 4; i++) {
        assert_auth(f, i, "Bearer tok-1");
    }

    /* Events, one of them split across two writes. */
    fake_push(f, EVENT("MODIFIED", NS("a", "101", MODE("enforce"))));
    wait_view(w, "a", MODE("enforce"));
    fake_push(f, "{\"type\":\"ADDED\",\"object\":" NS("c", "102", MODE("off")));
    sleep_for_ms(50);
    assert_view(w, "c", "null");
    fake_push(f, "}\n");
    wait_view(w, "c", MODE("off"));
    fake_push(f, EVENT("DELETED", NS("b", "103", "{}")));
    wait_view(w, "b", "null");

    /* A bookmark moves the resourceVersion; the rotated token is used on reconnect. */
    fake_push(f, "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Namespace\","
                 "\"metadata\":{\"resourceVersion\":\"555\"}}}\n");
    sleep_for_ms(50);
    fake_write(f->dir, "token", "tok-2");
    fake_reply(f, 200, "", true);
    fake_end(f);
    fake_wait(f, 5);
    assert_target(f, 4, "watch=1", "&resourceVersion=555", NULL);
    assert_auth(f, 4, "Bearer tok-2");
    assert_view(w, "a", MODE("enforce"));
    wait_staleness(w, false);

    /* ERROR 410 in the stream: relist, and the new list replaces the view. */
    fake_reply(f, 200, LIST("700", "", NS("a", "700", MODE("off"))), false);
    fake_reply(f, 200, "", true);
    fake_push(f, EVENT("ERROR", STATUS(410, "too old resource version: 555 (600)")));
    fake_wait(f, 7);
    assert_target(f, 5, "limit=500", "!watch", NULL);
    assert_target(f, 6, "watch=1", "&resourceVersion=700", NULL);
    wait_view(w, "a", MODE("off"));
    assert_view(w, "c", "null");

    /* HTTP 410 on the watch request: relist too. */
    fake_reply(f, 410, STATUS(410, "Gone"), false);
    fake_reply(f, 200, LIST("800", "", NS("a", "800", MODE("warn"))), false);
    fake_reply(f, 200, "", true);
    fake_end(f);
    fake_wait(f, 10);
    assert_target(f, 7, "watch=1", "&resourceVersion=700", NULL);
    assert_target(f, 8, "limit=500", "!watch", NULL);
    assert_target(f, 9, "watch=1", "&resourceVersion=800", NULL);
    wait_view(w, "a", MODE("warn"));

    /* 401: the token file is read again for the retry. */
    fake_end(f);
    fake_wait(f, 11); /* request 10 waits for its answer */
    assert_auth(f, 10, "Bearer tok-2");
    fake_write(f->dir, "token", "tok-3");
    fake_reply(f, 401, STATUS(401, "Unauthorized"), false);
    fake_reply(f, 200, "", true);
    fake_wait(f, 12);
    assert_auth(f, 11, "Bearer tok-3");
    assert_target(f, 11, "watch=1", "&resourceVersion=800", NULL);

    /* An ERROR that is not 410: watch again from the same resourceVersion, no relist. */
    fake_push(f, EVENT("MODIFIED", NS("a", "801", MODE("enforce"))));
    wait_view(w, "a", MODE("enforce"));
    fake_reply(f, 200, "", true);
    fake_push(f, EVENT("ERROR", STATUS(500, "internal error")));
    fake_wait(f, 13);
    assert_target(f, 12, "watch=1", "&resourceVersion=801", NULL);

    /* An outage: the view stays, staleness grows, then the watch is back. */
    fake_reply(f, 503, STATUS(503, "unavailable"), false);
    fake_reply(f, 503, STATUS(503, "unavailable"), false);
    fake_end(f);
    fake_wait(f, 15);
    wait_staleness(w, true);
    assert_view(w, "a", MODE("enforce"));
    assert_true(pl_nsview_synced(w));
    sleep_for_ms(30);
    double s1 = pl_nsview_staleness_seconds(w);
    sleep_for_ms(30);
    assert_true(pl_nsview_staleness_seconds(w) > s1);
    fake_reply(f, 200, "", true);
    fake_wait(f, 16);
    wait_staleness(w, false);
    assert_target(f, 15, "watch=1", "&resourceVersion=801", NULL);

    /* An oversized line: relist. */
    fake_reply(f, 200, LIST("900", "", NS("a", "900", MODE("off"))), false);
    fake_reply(f, 200, "", true);
    char *big = pl_xmalloc(PL_KUBE_ITEM_MAX + 64);
    memset(big, ' ', PL_KUBE_ITEM_MAX + 63);
    big[PL_KUBE_ITEM_MAX + 63] = '\0';
    big[0] = '{';
    fake_push(f, big);
    free(big);
    fake_wait(f, 18);
    assert_target(f, 16, "limit=500", "!watch", NULL);
    assert_target(f, 17, "watch=1", "&resourceVersion=900", NULL);
    wait_view(w, "a", MODE("off"));

    /* pl_nsview_free() returns promptly with a watch open. */
    free_within(w, 2.0, "with a watch open");
    fake_stop(f);
}

/* pl_nsview_free() during a long backoff sleep, and during a request with no answer. */
static void test_prompt_stop(void **state)
{
    (void)state;
    struct fake *f = fake_start();
    fake_reply(f, 500, STATUS(500, "no"), false);
    struct pl_nsview *w = start_watcher(f, 60000, 60000);
    fake_wait(f, 1);
    sleep_for_ms(100);                               /* now in a 30-60 s backoff */
    assert_true(pl_nsview_staleness_seconds(w) > 0); /* never synced: counts from start */
    free_within(w, 1.0, "during a backoff");

    /* The server takes the request and never answers (nothing queued). */
    w = start_watcher(f, 20, 200);
    fake_wait(f, 2);
    free_within(w, 2.5, "during a request");
    fake_stop(f);
}

/* A list item over PL_KUBE_ITEM_MAX is refused (and retried), not stored. */
static void test_item_too_large(void **state)
{
    (void)state;
    struct fake *f = fake_start();
    size_t n = PL_KUBE_ITEM_MAX + 64;
    char *body = pl_xmalloc(n + 64);
    int k = snprintf(body, 64, "{\"metadata\":{},\"items\":[{\"a\":\"");
    memset(body + k, 'x', n);
    body[k + n] = '\0';
    fake_reply(f, 200, body, false);
    free(body);
    struct pl_nsview *w = start_watcher(f, 20, 200);
    fake_wait(f, 2); /* the retry proves the first one failed */
    assert_false(pl_nsview_synced(w));
    pl_nsview_free(w);
    fake_stop(f);
}

int main(void)
{
    /* The fake API server is on loopback: a proxy from the environment must not intercept. */
    static const char *const proxies[] = {"http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy",
                                          "ALL_PROXY"};
    for (size_t i = 0; i < PL_ARRAY_SIZE(proxies); i++) {
        unsetenv(proxies[i]);
    }
    pl_log_set_fd(STDERR_FILENO);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_events),
        cmocka_unit_test(test_incremental),
        cmocka_unit_test(test_concurrent_readers),
        cmocka_unit_test(test_standalone_and_null),
        cmocka_unit_test(test_list_and_watch),
        cmocka_unit_test(test_prompt_stop),
        cmocka_unit_test(test_item_too_large),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
