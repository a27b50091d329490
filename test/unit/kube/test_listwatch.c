/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of kube/listwatch.c without a server: watch lines (events,
 * bookmarks, ERROR 410 and others, undecodable ones), what follows the end
 * of a watch (a short watch without progress is a failure that sleeps, the
 * backoff resets only after a stable watch), backoff bounds and jitter,
 * staleness, and the log rate limit. The whole thread runs against fake API
 * servers in test/unit/server/test_nsview.c and test/kube/run.py.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/jalloc.h"
#include "kube/listwatch.c"

struct calls {
    unsigned events;
    unsigned flushes;
    unsigned logs;
    int refuse; /* event() returns this */
    char last[64];
};

static int cb_event(void *ud, enum pl_kube_event type, const json_t *object)
{
    struct calls *c = ud;
    (void)object;
    c->events++;
    snprintf(c->last, sizeof(c->last), "%d", (int)type);
    return c->refuse;
}

static void cb_flush(void *ud)
{
    ((struct calls *)ud)->flushes++;
}

static void cb_log(void *ud, enum pl_log_level level, const char *msg, json_t *fields)
{
    (void)level;
    (void)msg;
    ((struct calls *)ud)->logs++;
    json_decref(fields);
}

static struct pl_kube_listwatch *bare(struct calls *calls, unsigned base_ms, unsigned max_ms)
{
    struct pl_kube_credentials creds;
    pl_kube_credentials_init(&creds);
    creds.server = pl_xstrdup("http://127.0.0.1:9");
    struct pl_kube_client *client = NULL;
    struct pl_error err;
    pl_error_init(&err);
    assert_int_equal(pl_kube_client_new(&creds, &client, &err), 0);
    struct pl_kube_listwatch_ops ops = {.event = cb_event, .flush = cb_flush, .log = cb_log};
    struct pl_kube_listwatch_options o = {
        .path = "/api/v1/namespaces", .backoff_base_ms = base_ms, .backoff_max_ms = max_ms};
    struct pl_kube_listwatch *lw = NULL;
    assert_int_equal(pl_kube_listwatch_new(client, &o, &ops, calls, &lw), 0);
    return lw;
}

/* What list_item saw of a pooled item. */
struct pooled {
    char name[32];
    size_t pool_used; /* the listwatch's pool while the item was in hand */
    struct pl_kube_listwatch *lw;
};

static int cb_pooled_item(void *ud, const json_t *object)
{
    struct pooled *seen = ud;
    snprintf(seen->name, sizeof(seen->name), "%s",
             json_string_value(json_object_get(json_object_get(object, "metadata"), "name")));
    json_t *made = json_pack("{s:s}", "copy", seen->name); /* a value it makes: pool too */
    seen->pool_used = seen->lw->items.used;
    json_decref(made);
    return 0;
}

/*
 * With pooled_items a list item is parsed into the listwatch's pool, cleared as
 * soon as list_item returns, and the caller's own jansson pool (here: an outer
 * one) is put back; without it the pool is never touched.
 */
static void test_pooled_items(void **state)
{
    (void)state;
    for (int pooled = 0; pooled <= 1; pooled++) {
        struct calls calls = {0};
        struct pl_kube_listwatch *lw = bare(&calls, 10, 10);
        lw->o.pooled_items = pooled;
        lw->ops.list_item = cb_pooled_item;
        struct pooled seen = {.lw = lw};
        lw->ud = &seen;
        struct pass p = {.lw = lw};
        struct pl_pool outer;
        pl_pool_init(&outer);
        pl_jalloc_use(&outer);
        static const char item[] = "{\"metadata\":{\"name\":\"web\",\"labels\":{\"a\":\"b\"}}}";
        assert_int_equal(on_list_item(&p, item, strlen(item)), 0);
        assert_ptr_equal(pl_jalloc_use(NULL), &outer);
        assert_string_equal(seen.name, "web");
        if (pooled) {
            assert_true(seen.pool_used > 0);
            assert_int_equal(lw->items.used, 0);
        } else {
            assert_int_equal(seen.pool_used, 0);
            assert_true(outer.used > 0); /* parsed where the caller's jansson values go */
        }
        /* An undecodable item still fails the list, and the pool is still cleared. */
        assert_int_equal(on_list_item(&p, "{\"metadata\":", 13), -EINVAL);
        assert_int_equal(p.outcome, OUT_BAD_DATA);
        assert_int_equal(lw->items.used, 0);
        pl_pool_finish(&outer);
        pl_kube_listwatch_free(lw);
    }
}

static int line(struct pass *p, const char *text)
{
    return on_watch_line(p, text, strlen(text));
}

static void test_watch_lines(void **state)
{
    (void)state;
    struct calls calls = {0};
    struct pl_kube_listwatch *lw = bare(&calls, 10, 10);
    struct pass p = {.lw = lw};
    assert_int_equal(line(&p, "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\","
                              "\"resourceVersion\":\"5\"}}}"),
                     0);
    assert_string_equal(lw->rv, "5");
    assert_true(p.progress);
    assert_int_equal(calls.events, 1);
    p.progress = false;
    /* The same resourceVersion again is no progress; a bookmark that moves it is. */
    assert_int_equal(line(&p, "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":"
                              "{\"resourceVersion\":\"5\"}}}"),
                     0);
    assert_false(p.progress);
    assert_int_equal(line(&p, "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":"
                              "{\"resourceVersion\":\"9\"}}}"),
                     0);
    assert_true(p.progress);
    assert_int_equal(calls.events, 1); /* bookmarks are not handed to the caller */
    /* Unknown types are ignored. */
    assert_int_equal(line(&p, "{\"type\":\"SOMETHING\",\"object\":{}}"), 0);
    assert_int_equal(p.outcome, OUT_OK);

    /* ERROR 410: relist; another ERROR: retry. */
    assert_true(line(&p, "{\"type\":\"ERROR\",\"object\":{\"code\":410,\"message\":\"too "
                         "old\"}}") < 0);
    assert_int_equal(p.outcome, OUT_GONE);
    assert_non_null(strstr(p.why, "too old"));
    struct pass q = {.lw = lw};
    assert_true(line(&q, "{\"type\":\"ERROR\",\"object\":{\"code\":500}}") < 0);
    assert_int_equal(q.outcome, OUT_FAILED);

    static const char *const bad[] = {
        "not json", "{\"type\":\"ADDED\"}", "[1,2]",
        "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"x\"}}}", /* no rv */
    };
    for (size_t i = 0; i < PL_ARRAY_SIZE(bad); i++) {
        struct pass b = {.lw = lw};
        assert_true(line(&b, bad[i]) < 0);
        assert_int_equal(b.outcome, OUT_BAD_DATA);
    }
    /* The caller refuses the object: relist. */
    calls.refuse = -EINVAL;
    struct pass r = {.lw = lw};
    assert_true(line(&r, "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"\","
                         "\"resourceVersion\":\"10\"}}}") < 0);
    assert_int_equal(r.outcome, OUT_BAD_DATA);
    pl_kube_listwatch_free(lw);
}

static double elapsed(struct timespec t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
}

/* A watch that ends at once without progress is a failure, and the first retry already sleeps. */
static void test_short_watch_is_a_failure(void **state)
{
    (void)state;
    struct calls calls = {0};
    struct pl_kube_listwatch *lw = bare(&calls, 200, 200);
    lw->started_at = now_mono();
    const char *reason = NULL;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct pass p = {.lw = lw, .opened = now_mono()}; /* an empty 200, ended at once */
    assert_false(after_watch(lw, &p, OUT_OK, &reason));
    assert_int_equal(lw->attempt, 1);
    assert_true(elapsed(t0) >= 0.09); /* slept the backoff: [100, 200] ms */
    assert_true(pl_kube_listwatch_staleness_seconds(lw) > 0);
    assert_non_null(strstr(p.why, "without progress"));

    /* A 410 after a bookmark: relist, after a backoff that keeps growing. */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct pass g = {.lw = lw, .opened = now_mono(), .progress = true, .outcome = OUT_GONE};
    assert_true(after_watch(lw, &g, OUT_GONE, &reason));
    assert_int_equal(lw->attempt, 2);
    assert_true(elapsed(t0) >= 0.09);

    /* A short watch with progress: no failure, but not more than one per short_watch_ms. */
    lw->o.short_watch_ms = 150;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct pass e = {.lw = lw, .opened = now_mono(), .progress = true};
    assert_false(after_watch(lw, &e, OUT_OK, &reason));
    assert_int_equal(lw->attempt, 2);
    assert_true(elapsed(t0) >= 0.14);

    /* A watch that stayed open stable_watch_ms resets the backoff; a clean end follows at once. */
    lw->o.stable_watch_ms = 1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct pass s = {.lw = lw, .opened = now_mono() - 1.0};
    assert_false(after_watch(lw, &s, OUT_OK, &reason));
    assert_int_equal(lw->attempt, 0);
    assert_true(elapsed(t0) < 0.1);
    pl_kube_listwatch_free(lw);
}

static void test_backoff_bounds(void **state)
{
    (void)state;
    struct calls calls = {0};
    struct pl_kube_listwatch *lw = bare(&calls, 500, 30000);
    for (int i = 0; i < 200; i++) {
        assert_in_range(backoff_ms(lw, 1), 250, 500);
        assert_in_range(backoff_ms(lw, 3), 1000, 2000);
        assert_in_range(backoff_ms(lw, 1000), 15000, 30000);
    }
    unsigned first = backoff_ms(lw, 20);
    bool varied = false;
    for (int i = 0; i < 50 && !varied; i++) {
        varied = backoff_ms(lw, 20) != first;
    }
    assert_true(varied);
    pl_kube_listwatch_free(lw);
}

/* Logs: attempts 1, 2, 4, 8, ... only. */
static void test_log_rate(void **state)
{
    (void)state;
    struct calls calls = {0};
    struct pl_kube_listwatch *lw = bare(&calls, 1, 1);
    for (int i = 0; i < 100; i++) {
        failed(lw, "watch", OUT_FAILED, "connection refused");
    }
    assert_int_equal(calls.logs, 7); /* 1 2 4 8 16 32 64 */
    recovered(lw);
    assert_int_equal(calls.logs, 8);
    pl_kube_listwatch_free(lw);
}

/* The stop flag cuts a long backoff sleep short. */
static void test_stop_cuts_sleep(void **state)
{
    (void)state;
    struct calls calls = {0};
    struct pl_kube_listwatch *lw = bare(&calls, 60000, 60000);
    atomic_store(&lw->stop, true);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    failed(lw, "watch", OUT_FAILED, "x");
    assert_true(elapsed(t0) < 0.5);
    pl_kube_listwatch_free(lw);
}

int main(void)
{
    pl_jalloc_install();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pooled_items),
        cmocka_unit_test(test_watch_lines),
        cmocka_unit_test(test_short_watch_is_a_failure),
        cmocka_unit_test(test_backoff_bounds),
        cmocka_unit_test(test_log_rate),
        cmocka_unit_test(test_stop_cuts_sleep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
