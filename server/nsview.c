/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The namespace view (see nsview.h) on top of kube/listwatch.h.
 *
 * What is kept: per namespace, an immutable entry {name, object of its
 * string-valued plimsoll.dev/ annotations} with its own C11 reference count.
 * Nothing else of a Namespace survives the callback that saw it.
 *
 * Snapshots without whole-view copies: a snapshot is a fixed table of
 * NCHUNKS immutable, refcounted chunks; a chunk is a sorted array of entry
 * pointers (the namespaces whose name hashes to it). A batch of watch
 * events builds a draft that shares every chunk with the published snapshot
 * except the ones it touches, which it copies (pointers only) once and then
 * edits in place; publishing swaps a pointer under a mutex. An event thus
 * costs O(NCHUNKS + namespaces / NCHUNKS) pointer copies, not a deep copy of
 * the view (10k namespaces: about 300 pointers instead of 500k values).
 * A list builds a whole new snapshot, entry by entry, as items arrive.
 *
 * Readers take a reference to the published snapshot under the mutex (held
 * for one increment), look the namespace up without it and return the
 * entry's object borrowed; the pool drops the snapshot reference at its
 * next clear, and whoever drops the last reference frees (acq_rel). The
 * jansson values are built by the watcher, never modified once published,
 * and their jansson reference counts are touched by one thread only: the
 * one that frees the entry. Sharing is governed by the C11 counts alone.
 */
#include "server/nsview.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "core/keys.h"
#include "core/log.h"
#include "kube/client.h"
#include "kube/kubeconfig.h"
#include "kube/listwatch.h"

#define NAME_MAX_LEN 253u
#define NCHUNKS      256u
/* Bounds on what is kept, so that a hostile API server cannot grow the view without limit. */
#define NAMESPACES_MAX  500000u /* Kubernetes is tested to 10k namespaces */
#define KEYS_MAX        64u     /* plimsoll.dev/ annotations kept per namespace */
#define VALUE_MAX       256u    /* longer values are no valid mode or switch: not kept */
#define ENTRY_BYTES_MAX 2048u   /* key and value bytes kept per namespace */
#define VIEW_BYTES_MAX  (128u * 1024u * 1024u) /* everything kept, estimated */

struct entry {
    atomic_uint refs;
    size_t cost; /* estimated bytes held, counted in the snapshot's bytes */
    json_t *ann; /* owned; immutable once published; NULL: none (the view's shared {}) */
    char name[];
};

struct chunk {
    atomic_uint refs;
    unsigned n;
    unsigned cap;
    struct entry *e[]; /* sorted by name */
};

struct snapshot {
    atomic_uint refs;
    size_t count;
    size_t bytes;             /* estimated bytes of the entries */
    struct chunk *c[NCHUNKS]; /* NULL: empty */
};

/* A snapshot being edited by the watcher: chunks marked owned may be edited in place. */
struct draft {
    struct snapshot *s;
    bool dirty; /* differs from the snapshot it started from */
    bool owned[NCHUNKS];
};

struct pl_nsview {
    struct pl_kube_listwatch *lw;
    json_t *empty; /* {}: handed out for every namespace without plimsoll.dev/ annotations */
    pthread_mutex_t lock;
    struct snapshot *published; /* under lock; NULL before the first list */
    /* Owned by the watcher thread. */
    struct draft edit;  /* events since the last publish (s NULL when none) */
    struct draft build; /* a list in progress (s NULL when none) */
};

/* ---- entries, chunks, snapshots ---- */

static void entry_unref(struct entry *e)
{
    if (e && atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) == 1) {
        json_decref(e->ann);
        free(e);
    }
}

static struct entry *entry_ref(struct entry *e)
{
    atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
    return e;
}

static void chunk_unref(struct chunk *c)
{
    if (c && atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1) {
        for (unsigned i = 0; i < c->n; i++) {
            entry_unref(c->e[i]);
        }
        free(c);
    }
}

static void snapshot_unref(struct snapshot *s)
{
    if (s && atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1) {
        for (unsigned i = 0; i < NCHUNKS; i++) {
            chunk_unref(s->c[i]);
        }
        free(s);
    }
}

static void snapshot_release(void *s)
{
    snapshot_unref(s);
}

static unsigned chunk_of(const char *name)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        h = (h ^ *p) * 16777619u;
    }
    return h % NCHUNKS;
}

/* Index of name in c, or where it would go (*found false). */
static unsigned chunk_find(const struct chunk *c, const char *name, bool *found)
{
    unsigned lo = 0;
    unsigned hi = c ? c->n : 0;
    *found = false;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        int cmp = strcmp(c->e[mid]->name, name);
        if (cmp == 0) {
            *found = true;
            return mid;
        }
        if (cmp < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/* A new chunk holding (with a reference each) old's entries, with room for one more. */
static struct chunk *chunk_copy(const struct chunk *old)
{
    unsigned n = old ? old->n : 0;
    unsigned cap = n + 4;
    struct chunk *c = pl_xmalloc(sizeof(*c) + (size_t)cap * sizeof(c->e[0]));
    atomic_init(&c->refs, 1);
    c->n = n;
    c->cap = cap;
    for (unsigned i = 0; i < n; i++) {
        c->e[i] = entry_ref(old->e[i]);
    }
    return c;
}

/* Starts a draft sharing every chunk of base (NULL: empty). */
static void draft_begin(struct draft *d, const struct snapshot *base)
{
    d->s = pl_xcalloc(1, sizeof(*d->s));
    d->dirty = false;
    atomic_init(&d->s->refs, 1);
    for (unsigned i = 0; i < NCHUNKS; i++) {
        d->owned[i] = false;
        d->s->c[i] = base ? base->c[i] : NULL;
        if (d->s->c[i]) {
            atomic_fetch_add_explicit(&d->s->c[i]->refs, 1, memory_order_relaxed);
        }
    }
    d->s->count = base ? base->count : 0;
    d->s->bytes = base ? base->bytes : 0;
}

/* The draft's chunk i, made private to the draft (copied once) and with room for one more. */
static struct chunk *draft_chunk(struct draft *d, unsigned i)
{
    struct chunk *c = d->s->c[i];
    if (!d->owned[i]) {
        struct chunk *copy = chunk_copy(c);
        chunk_unref(c);
        d->s->c[i] = c = copy;
        d->owned[i] = true;
    }
    if (c->n == c->cap) {
        c->cap = c->cap * 2;
        c = pl_xrealloc(c, sizeof(*c) + (size_t)c->cap * sizeof(c->e[0]));
        d->s->c[i] = c;
    }
    return c;
}

/* Estimated bytes an annotations object holds (jansson's own overhead included roughly). */
static size_t annotations_cost(const json_t *ann)
{
    size_t n = ann ? 64 : 0;
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)ann, key, value)
    {
        n += strlen(key) + json_string_length(value) + 96;
    }
    return n;
}

/*
 * Puts name -> ann into the draft (steals ann; NULL: no scoped annotations),
 * or removes name (del). Returns 1 when the draft changed, 0 when not, and
 * -E2BIG when the view is full (NAMESPACES_MAX, VIEW_BYTES_MAX).
 */
static int draft_set(struct draft *d, const char *name, json_t *ann, bool del)
{
    unsigned i = chunk_of(name);
    bool found;
    unsigned at = chunk_find(d->s->c[i], name, &found);
    if (found && !del) {
        const json_t *old = d->s->c[i]->e[at]->ann;
        if (old == ann || (old && ann && json_equal(old, ann))) {
            json_decref(ann);
            return 0; /* a label or status change: nothing to publish */
        }
    }
    if (!found && del) {
        return 0;
    }
    size_t len = strlen(name);
    size_t cost = sizeof(struct entry) + len + 1 + annotations_cost(ann);
    size_t old_cost = found ? d->s->c[i]->e[at]->cost : 0;
    if (!del && ((!found && d->s->count >= NAMESPACES_MAX) ||
                 d->s->bytes - old_cost + cost > VIEW_BYTES_MAX)) {
        json_decref(ann);
        return -E2BIG;
    }
    struct chunk *c = draft_chunk(d, i);
    d->dirty = true;
    d->s->bytes -= old_cost;
    if (del) {
        entry_unref(c->e[at]);
        memmove(&c->e[at], &c->e[at + 1], (size_t)(c->n - at - 1) * sizeof(c->e[0]));
        c->n--;
        d->s->count--;
        return 1;
    }
    struct entry *e = pl_xmalloc(sizeof(*e) + len + 1);
    atomic_init(&e->refs, 1);
    e->ann = ann;
    e->cost = cost;
    d->s->bytes += cost;
    memcpy(e->name, name, len + 1);
    if (found) {
        entry_unref(c->e[at]);
    } else {
        memmove(&c->e[at + 1], &c->e[at], (size_t)(c->n - at) * sizeof(c->e[0]));
        c->n++;
        d->s->count++;
    }
    c->e[at] = e;
    return 1;
}

/* Publishes the draft (it becomes immutable) and drops the old snapshot. */
static void publish(struct pl_nsview *v, struct draft *d)
{
    pthread_mutex_lock(&v->lock);
    struct snapshot *old = v->published;
    v->published = d->s;
    pthread_mutex_unlock(&v->lock);
    d->s = NULL;
    snapshot_unref(old);
}

/* ---- what is kept of a Namespace ---- */

static bool valid_name(const char *name)
{
    size_t len = name ? strlen(name) : 0;
    return len > 0 && len <= NAME_MAX_LEN;
}

/*
 * The string-valued plimsoll.dev/ annotations of a Namespace (at most
 * KEYS_MAX and ENTRY_BYTES_MAX bytes of keys and values, each value up to
 * VALUE_MAX bytes): a new object, or NULL when there
 * are none (most namespaces: they then cost no jansson value at all).
 */
static json_t *scoped_annotations(const json_t *meta)
{
    json_t *out = NULL;
    size_t kept = 0;
    const json_t *ann = pl_json_object(meta, "annotations");
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)ann, key, value)
    {
        if (strncmp(key, PL_KEY_PREFIX, strlen(PL_KEY_PREFIX)) != 0 || !json_is_string(value) ||
            json_string_length(value) > VALUE_MAX) {
            continue;
        }
        if (!out && !(out = json_object())) {
            pl_oom();
        }
        kept += strlen(key) + json_string_length(value);
        if (json_object_size(out) >= KEYS_MAX || kept > ENTRY_BYTES_MAX) {
            break;
        }
        json_t *copy = json_stringn(json_string_value(value), json_string_length(value));
        if (!copy || json_object_set_new(out, key, copy) < 0) {
            pl_oom();
        }
    }
    return out;
}

/* Applies one Namespace to d. Returns 1 changed, 0 not, -EINVAL without a usable name, -E2BIG. */
static int apply(struct draft *d, const json_t *object, bool del)
{
    const json_t *meta = pl_json_object(object, "metadata");
    const char *name = pl_json_string(meta, "name");
    if (!valid_name(name)) {
        return -EINVAL;
    }
    return draft_set(d, name, del ? NULL : scoped_annotations(meta), del);
}

/* ---- listwatch callbacks (watcher thread) ---- */

static void on_list_begin(void *ud)
{
    struct pl_nsview *v = ud;
    snapshot_unref(v->build.s);
    draft_begin(&v->build, NULL);
}

static int on_list_item(void *ud, const json_t *object)
{
    struct pl_nsview *v = ud;
    /* An unnamed item cannot be looked up: skipped. A full view fails the list. */
    return apply(&v->build, object, false) == -E2BIG ? -E2BIG : 0;
}

static void on_list_end(void *ud, bool ok)
{
    struct pl_nsview *v = ud;
    if (ok) {
        snapshot_unref(v->edit.s); /* events before the list are superseded */
        v->edit.s = NULL;
        publish(v, &v->build);
    } else {
        snapshot_unref(v->build.s);
        v->build.s = NULL;
    }
}

static int on_event(void *ud, enum pl_kube_event type, const json_t *object)
{
    struct pl_nsview *v = ud;
    if (!v->edit.s) {
        pthread_mutex_lock(&v->lock); /* only this thread writes published: no race */
        struct snapshot *base = v->published;
        pthread_mutex_unlock(&v->lock);
        draft_begin(&v->edit, base);
    }
    int r = apply(&v->edit, object, type == PL_KUBE_DELETED);
    return r < 0 ? r : 0;
}

static void on_flush(void *ud)
{
    struct pl_nsview *v = ud;
    if (v->edit.s && v->edit.dirty) {
        publish(v, &v->edit); /* an unchanged draft stays for the next batch */
    }
}

static void on_log(void *ud, enum pl_log_level level, const char *msg, json_t *fields)
{
    (void)ud;
    pl_log(level, msg, fields);
}

/* ---- API ---- */

/* pl_nsview_new() with the list+watch tuning given (the unit tests shorten it). */
static int create(const struct pl_nsview_options *opts, const struct pl_kube_listwatch_options *lo,
                  struct pl_nsview **ret, struct pl_error *err)
{
    struct pl_kube_credentials creds;
    struct pl_kube_client *client = NULL;
    pl_kube_credentials_init(&creds);
    int r = opts && opts->kubeconfig ? pl_kubeconfig_load(opts->kubeconfig, &creds, err)
                                     : pl_kube_in_cluster(opts ? opts->sa_dir : NULL, &creds, err);
    if (r < 0) {
        return r;
    }
    r = pl_kube_client_new(&creds, &client, err);
    if (r < 0) {
        return r;
    }
    struct pl_nsview *v = pl_xcalloc(1, sizeof(*v));
    pthread_mutex_init(&v->lock, NULL);
    v->empty = json_object();
    if (!v->empty) {
        pl_oom();
    }
    static const struct pl_kube_listwatch_ops ops = {
        .list_begin = on_list_begin,
        .list_item = on_list_item,
        .list_end = on_list_end,
        .event = on_event,
        .flush = on_flush,
        .log = on_log,
    };
    r = pl_kube_listwatch_new(client, lo, &ops, v, &v->lw);
    if (r < 0) {
        pthread_mutex_destroy(&v->lock);
        json_decref(v->empty);
        free(v);
        return pl_error_set(err, "", 0, "cannot set up the namespace watch");
    }
    *ret = v;
    return 0;
}

int pl_nsview_new(const struct pl_nsview_options *opts, struct pl_nsview **ret,
                  struct pl_error *err)
{
    struct pl_kube_listwatch_options lo = {.path = "/api/v1/namespaces", .name = "namespace watch"};
    return create(opts, &lo, ret, err);
}

int pl_nsview_start(struct pl_nsview *v)
{
    return v ? pl_kube_listwatch_start(v->lw) : -EINVAL;
}

const json_t *pl_nsview_annotations(struct pl_nsview *v, const char *ns, struct pl_pool *pool)
{
    if (!v || !ns) {
        return NULL;
    }
    pthread_mutex_lock(&v->lock);
    struct snapshot *s = v->published;
    if (s) {
        atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
    }
    pthread_mutex_unlock(&v->lock);
    if (!s) {
        return NULL;
    }
    const struct chunk *c = s->c[chunk_of(ns)];
    bool found;
    unsigned at = chunk_find(c, ns, &found);
    if (!found) {
        snapshot_unref(s);
        return NULL;
    }
    const json_t *ann = c->e[at]->ann;
    if (!ann) {
        snapshot_unref(s);
        return v->empty; /* immutable, lives as long as the view */
    }
    /* Borrowed from a snapshot nobody modifies; it stays alive until the pool's clear. */
    pl_pool_on_clear(pool, snapshot_release, s);
    return ann;
}

bool pl_nsview_synced(struct pl_nsview *v)
{
    return v && pl_kube_listwatch_synced(v->lw);
}

double pl_nsview_staleness_seconds(struct pl_nsview *v)
{
    return v ? pl_kube_listwatch_staleness_seconds(v->lw) : 0;
}

unsigned long long pl_nsview_errors(struct pl_nsview *v, bool watch)
{
    return v ? pl_kube_listwatch_errors(v->lw, watch) : 0;
}

size_t pl_nsview_count(struct pl_nsview *v)
{
    if (!v) {
        return 0;
    }
    pthread_mutex_lock(&v->lock);
    size_t n = v->published ? v->published->count : 0;
    pthread_mutex_unlock(&v->lock);
    return n;
}

void pl_nsview_free(struct pl_nsview *v)
{
    if (!v) {
        return;
    }
    pl_kube_listwatch_free(v->lw); /* joins the thread: no callback runs after this */
    snapshot_unref(v->edit.s);
    snapshot_unref(v->build.s);
    snapshot_unref(v->published);
    json_decref(v->empty);
    pthread_mutex_destroy(&v->lock);
    free(v);
}
