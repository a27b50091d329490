/* SPDX-License-Identifier: Apache-2.0 */
/*
 * distinct-probes: a long-running container's livenessProbe is not the same
 * probe as its readinessProbe. When both are the same check with the same
 * timing they fail at the same moment: the pod is taken out of rotation and
 * restarted at once, so a slow dependency or a load spike turns into a
 * restart storm instead of a pod that sits out until it recovers.
 *
 * Rule: the two probes are compared as the API server would store them.
 * Fields the API server defaults (periodSeconds 10, timeoutSeconds 1,
 * successThreshold 1, failureThreshold 3, initialDelaySeconds 0, httpGet
 * path "/" and scheme HTTP, empty host or gRPC service) compare equal to
 * their default, and a named port equals the number that the container's
 * ports give it. Every other field must be equal too: the same handler with
 * a longer liveness failureThreshold (the pattern the Kubernetes docs
 * recommend) passes. Jobs, CronJobs and run-to-completion Pods are exempt.
 * Runbook: docs/policies/distinct-probes.md
 */
#include "policies/policy.h"

#include <string.h>

#include "core/json.h"

enum field_kind {
    FIELD_INT,    /* integer with a default */
    FIELD_STRING, /* string with a default */
    FIELD_PORT,   /* number or name of one of the container's ports */
    FIELD_LIST,   /* array; absent and null mean empty */
    FIELD_HANDLER /* object compared with the sub-table */
};

struct field {
    const char *key;
    enum field_kind kind;
    long long int_default;
    const char *string_default;
    const struct field *sub; /* FIELD_HANDLER: its fields */
};

static const struct field http_fields[] = {
    {"path", FIELD_STRING, 0, "/", NULL},       /* defaulted by the API server */
    {"scheme", FIELD_STRING, 0, "HTTP", NULL},  /* likewise */
    {"host", FIELD_STRING, 0, "", NULL},        /* empty: the pod IP */
    {"port", FIELD_PORT, 0, NULL, NULL},        /* number or name */
    {"httpHeaders", FIELD_LIST, 0, NULL, NULL}, /* absent means none */
    {NULL, FIELD_INT, 0, NULL, NULL},
};

static const struct field socket_fields[] = {
    {"host", FIELD_STRING, 0, "", NULL},
    {"port", FIELD_PORT, 0, NULL, NULL},
    {NULL, FIELD_INT, 0, NULL, NULL},
};

static const struct field grpc_fields[] = {
    {"service", FIELD_STRING, 0, "", NULL},
    {"port", FIELD_PORT, 0, NULL, NULL},
    {NULL, FIELD_INT, 0, NULL, NULL},
};

static const struct field exec_fields[] = {
    {"command", FIELD_LIST, 0, NULL, NULL},
    {NULL, FIELD_INT, 0, NULL, NULL},
};

static const struct field probe_fields[] = {
    {"initialDelaySeconds", FIELD_INT, 0, NULL, NULL},
    {"timeoutSeconds", FIELD_INT, 1, NULL, NULL},
    {"periodSeconds", FIELD_INT, 10, NULL, NULL},
    {"successThreshold", FIELD_INT, 1, NULL, NULL},
    {"failureThreshold", FIELD_INT, 3, NULL, NULL},
    {"httpGet", FIELD_HANDLER, 0, NULL, http_fields},
    {"tcpSocket", FIELD_HANDLER, 0, NULL, socket_fields},
    {"grpc", FIELD_HANDLER, 0, NULL, grpc_fields},
    {"exec", FIELD_HANDLER, 0, NULL, exec_fields},
    {NULL, FIELD_INT, 0, NULL, NULL},
};

static bool objects_equal(const json_t *container, const json_t *a, const json_t *b,
                          const struct field *fields);

/* Exact equality where an absent member and an explicit null are the same. */
static bool raw_equal(const json_t *a, const json_t *b)
{
    if (json_is_null(a)) {
        a = NULL;
    }
    if (json_is_null(b)) {
        b = NULL;
    }
    if (!a || !b) {
        return a == b;
    }
    return json_equal(a, b) != 0;
}

/*
 * A port as a number: integers as they are, a name through the container's
 * ports[].name. Returns false when it cannot be resolved (then the raw
 * values are compared).
 */
static bool port_number(const json_t *container, const json_t *port, long long *ret)
{
    if (json_is_integer(port)) {
        *ret = json_integer_value(port);
        return true;
    }
    if (!json_is_string(port)) {
        return false;
    }
    size_t i;
    const json_t *p;
    json_array_foreach(pl_json_array(container, "ports"), i, p)
    {
        const char *name = pl_json_string(p, "name");
        if (name && strcmp(name, json_string_value(port)) == 0) {
            return pl_json_integer(p, "containerPort", ret);
        }
    }
    return false;
}

/* Whether two values of a member described by f are the same once defaulted. */
static bool field_equal(const json_t *container, const struct field *f, const json_t *a,
                        const json_t *b)
{
    long long na = f->int_default, nb = f->int_default;
    switch (f->kind) {
    case FIELD_INT:
        if ((!a || json_is_integer(a)) && (!b || json_is_integer(b))) {
            na = a ? json_integer_value(a) : na;
            nb = b ? json_integer_value(b) : nb;
            return na == nb;
        }
        break;
    case FIELD_STRING:
        if ((!a || json_is_string(a)) && (!b || json_is_string(b))) {
            return strcmp(a ? json_string_value(a) : f->string_default,
                          b ? json_string_value(b) : f->string_default) == 0;
        }
        break;
    case FIELD_PORT:
        if (port_number(container, a, &na) && port_number(container, b, &nb)) {
            return na == nb;
        }
        break;
    case FIELD_LIST:
        if ((!a || json_is_array(a)) && (!b || json_is_array(b)) && pl_json_array_len(a) == 0 &&
            pl_json_array_len(b) == 0) {
            return true;
        }
        break;
    case FIELD_HANDLER:
        if (json_is_object(a) && json_is_object(b)) {
            return objects_equal(container, a, b, f->sub);
        }
        break;
    default:
        break;
    }
    return raw_equal(a, b);
}

static const struct field *find_field(const struct field *fields, const char *key)
{
    for (size_t i = 0; fields[i].key; i++) {
        if (strcmp(fields[i].key, key) == 0) {
            return &fields[i];
        }
    }
    return NULL;
}

/* Compares one member of a (or of b) by its table entry, raw when it has none. */
static bool member_equal(const json_t *container, const struct field *fields, const char *key,
                         const json_t *a, const json_t *b)
{
    const json_t *va = json_object_get(a, key);
    const json_t *vb = json_object_get(b, key);
    const struct field *f = find_field(fields, key);
    if (json_is_null(va)) {
        va = NULL;
    }
    if (json_is_null(vb)) {
        vb = NULL;
    }
    return f ? field_equal(container, f, va, vb) : raw_equal(va, vb);
}

/*
 * Whether objects a and b are the same once the defaults in fields are
 * applied: every member of either, plus every member fields has a default for.
 */
static bool objects_equal(const json_t *container, const json_t *a, const json_t *b,
                          const struct field *fields)
{
    const char *key;
    const json_t *v;
    for (size_t i = 0; fields[i].key; i++) {
        if (!member_equal(container, fields, fields[i].key, a, b)) {
            return false;
        }
    }
    json_object_foreach((json_t *)a, key, v)
    {
        if (!find_field(fields, key) && !member_equal(container, fields, key, a, b)) {
            return false;
        }
    }
    json_object_foreach((json_t *)b, key, v)
    {
        if (!find_field(fields, key) && !member_equal(container, fields, key, a, b)) {
            return false;
        }
    }
    return true;
}

/** Whether probes a and b of container are identical once defaulted (both must be objects). */
static bool probes_identical(const json_t *container, const json_t *a, const json_t *b)
{
    return objects_equal(container, a, b, probe_fields);
}

static void check(const struct pl_eval *ev, const json_t *spec, struct pl_report *out)
{
    (void)ev; /* long_running_only: the evaluator skips what runs to completion */
    struct pl_container_iter it;
    struct pl_container c;
    pl_container_iter_init(&it, spec, PL_CTR_LONG_RUNNING);
    while (pl_container_iter_next(&it, &c)) {
        const json_t *live = pl_json_object(c.json, "livenessProbe");
        const json_t *ready = pl_json_object(c.json, "readinessProbe");
        if (live && ready && probes_identical(c.json, live, ready)) {
            pl_report_container(
                out, &c, "livenessProbe",
                "same as readinessProbe; check only the process or raise failureThreshold");
        }
    }
}

const struct pl_policy pl_policy_distinct_probes = {
    .id = "distinct-probes",
    .default_mode = PL_MODE_WARN,
    .summary = "a container's liveness and readiness probes are not identical",
    .long_running_only = true,
    .check = check,
};
