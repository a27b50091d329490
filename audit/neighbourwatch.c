/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The dashboard's neighbouring objects (docs/design/neighbours.md): the
 * PodDisruptionBudgets, HorizontalPodAutoscalers and NetworkPolicies of the
 * cluster, listed and watched like the workloads, kept trimmed to what the
 * neighbour policies read, and turned into the set that judging passes to the
 * evaluator.
 *
 * The set is rebuilt, and the workloads of the namespaces that changed are
 * re-judged, by pl__neighbours_flush(), which the starter thread calls every 200 ms
 * (cluster.c, FLUSH_MS): a burst of changes costs one rebuild. Judging and the
 * rebuild both hold the view's lock, so no evaluation ever reads a set being
 * changed. Until every neighbour kind has been listed (a 403 keeps one from
 * ever being) no set is given, and those policies do not run: better no
 * verdict than every Deployment warned for a budget it has.
 *
 * Only budgets, autoscalers and NetworkPolicies are in the set: a workload's
 * own verdict reads nothing else, and the dashboard does not judge budgets
 * (pdb-allows-disruption reads the workloads; that is `plimsoll audit`'s).
 */
#include <stdio.h>
#include <string.h>

#include "audit/cluster_private.h"
#include "core/json.h"

/* What the policies read of a listed neighbour. New reference. */
static json_t *trimmed(const struct pl__neighbourwatch *nw, const json_t *object)
{
    const json_t *meta = pl_json_object(object, "metadata");
    const char *ns = pl_json_string(meta, "namespace");
    const char *name = pl_json_string(meta, "name");
    const json_t *spec = pl_json_object(object, "spec");
    json_t *keep;
    if (strcmp(nw->kind->kind, "NetworkPolicy") == 0) {
        /* network-policy reads the selector and the directions, not the rules. */
        keep = json_object();
        const char *fields[] = {"podSelector", "policyTypes"};
        for (size_t i = 0; i < 2; i++) {
            json_t *v = json_object_get(spec, fields[i]);
            if (v) {
                json_object_set(keep, fields[i], v);
            }
        }
        if (json_object_get(spec, "egress")) {
            json_object_set_new(keep, "egress", json_array());
        }
    } else {
        keep = spec ? json_deep_copy(spec) : json_object();
    }
    return json_pack("{s:s, s:s, s:{s:s, s:s}, s:o}", "apiVersion", nw->api_version, "kind",
                     nw->kind->kind, "metadata", "name", name ? name : "", "namespace",
                     ns ? ns : "", "spec", keep);
}

static const char *key_of(const json_t *object, char *out, size_t size)
{
    const json_t *meta = pl_json_object(object, "metadata");
    const char *ns = pl_json_string(meta, "namespace");
    const char *name = pl_json_string(meta, "name");
    if (!name || !*name) {
        return NULL;
    }
    int n = snprintf(out, size, "%s/%s", ns ? ns : "", name);
    return n < 0 || (size_t)n >= size ? NULL : out;
}

static void mark(struct pl_cluster *c, const json_t *object)
{
    const char *ns = pl_json_string(pl_json_object(object, "metadata"), "namespace");
    json_object_set_new(c->dirty, ns ? ns : "", json_true());
}

/* Whether every neighbour kind has been listed. Under lock. */
static bool all_listed(const struct pl_cluster *c)
{
    if (c->n_nwatch < pl_audit_kind_count(pl_audit_neighbour_kinds)) {
        return false;
    }
    for (size_t i = 0; i < c->n_nwatch; i++) {
        if (!c->nwatch[i].listed) {
            return false;
        }
    }
    return true;
}

static void nb_begin(void *ud)
{
    struct pl__neighbourwatch *nw = ud;
    json_decref(nw->listing);
    nw->listing = json_object();
}

static int nb_item(void *ud, const json_t *object)
{
    struct pl__neighbourwatch *nw = ud;
    char key[1024];
    if (key_of(object, key, sizeof(key))) {
        json_object_set_new(nw->listing, key, trimmed(nw, object));
    }
    return 0;
}

static void nb_end(void *ud, bool ok)
{
    struct pl__neighbourwatch *nw = ud;
    struct pl_cluster *c = nw->c;
    if (ok) {
        pthread_mutex_lock(&c->lock);
        /* What changed, appeared or went away while the watch was down. */
        const char *key;
        json_t *v;
        json_object_foreach(nw->listing, key, v)
        {
            const json_t *old = json_object_get(nw->objects, key);
            if (!old || !json_equal((json_t *)old, v)) {
                mark(c, v);
            }
        }
        json_object_foreach(nw->objects, key, v)
        {
            if (!json_object_get(nw->listing, key)) {
                mark(c, v);
            }
        }
        json_decref(nw->objects);
        nw->objects = json_incref(nw->listing);
        bool was_ready = all_listed(c);
        nw->listed = true;
        if (!was_ready && all_listed(c)) {
            json_object_set_new(c->dirty, "*", json_true()); /* the set becomes usable */
        }
        pthread_mutex_unlock(&c->lock);
    }
    json_decref(nw->listing);
    nw->listing = NULL;
}

static int nb_event(void *ud, enum pl_kube_event type, const json_t *object)
{
    struct pl__neighbourwatch *nw = ud;
    struct pl_cluster *c = nw->c;
    char key[1024];
    if (!key_of(object, key, sizeof(key))) {
        return 0;
    }
    json_t *now = type == PL_KUBE_DELETED ? NULL : trimmed(nw, object);
    pthread_mutex_lock(&c->lock);
    const json_t *old = json_object_get(nw->objects, key);
    if (!now && old) {
        mark(c, old);
        json_object_del(nw->objects, key);
    } else if (now && (!old || !json_equal((json_t *)old, now))) {
        mark(c, now);
        json_object_set(nw->objects, key, now);
    }
    pthread_mutex_unlock(&c->lock);
    json_decref(now);
    return 0;
}

static void nb_log(void *ud, enum pl_log_level level, const char *msg, json_t *fields)
{
    struct pl__neighbourwatch *nw = ud;
    if (nw->c->opts.log) {
        nw->c->opts.log(level, msg, fields);
    } else {
        json_decref(fields);
    }
}

const struct pl_kube_listwatch_ops pl__neighbour_ops = {.list_begin = nb_begin,
                                                        .list_item = nb_item,
                                                        .list_end = nb_end,
                                                        .event = nb_event,
                                                        .log = nb_log};

const struct pl_neighbours *pl__neighbours_of(struct pl_cluster *c)
{
    return c->set_ready ? &c->set : NULL;
}

void pl__neighbours_flush(struct pl_cluster *c)
{
    if (json_object_size(c->dirty) == 0) {
        return;
    }
    pl_neighbours_finish(&c->set);
    pl_neighbours_init(&c->set);
    for (size_t i = 0; i < c->n_nwatch; i++) {
        const char *key;
        json_t *v;
        json_object_foreach(c->nwatch[i].objects, key, v)
        {
            (void)pl_neighbours_add(&c->set, v,
                                    pl_json_string(json_object_get(v, "metadata"), "namespace"));
        }
    }
    c->set_ready = all_listed(c);
    if (json_object_get(c->dirty, "*")) {
        pl__cluster_rejudge(c, NULL);
    } else if (c->set_ready) {
        const char *ns;
        json_t *v;
        json_object_foreach(c->dirty, ns, v)
        {
            pl__cluster_rejudge(c, ns);
        }
    }
    json_object_clear(c->dirty);
}

void pl__neighbours_free(struct pl_cluster *c)
{
    for (size_t i = 0; i < c->n_nwatch; i++) {
        json_decref(c->nwatch[i].objects);
        json_decref(c->nwatch[i].listing);
    }
    pl_neighbours_finish(&c->set);
    json_decref(c->dirty);
}
