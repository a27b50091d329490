/* SPDX-License-Identifier: Apache-2.0 */
/*
 * probe-ports: every probe (liveness, readiness, startup) of a container
 * that targets a port targets one the container declares in `ports`, and a
 * TCP one. A named port that matches nothing makes the kubelet fail the probe
 * at every period: a liveness probe then restarts the container forever and
 * a readiness probe keeps the pod out of its Service for good. A number that
 * is not declared works only while the process happens to listen there; it
 * is how "8008" for "8080" reaches production, and nothing else in the
 * manifest says the port is meant to be open.
 *
 * Rule: for each probe of each regular container and native sidecar (init
 * containers that run to completion and ephemeral containers have no
 * probes), the port of httpGet, tcpSocket and grpc is looked up in the
 * container's ports: a name must equal a ports[].name, a number a
 * ports[].containerPort, and that entry's protocol must be TCP (the default)
 * since every probe connects over TCP. A probe with a `host` of its own
 * probes another address and is skipped, as are ports that are neither a
 * number nor a non-empty string (the API server refuses them). Every kind is checked: a
 * Job's container with a broken liveness probe fails the same way.
 * Warn by default.
 * Runbook: docs/policies/probe-ports.md
 */
#include "policies/policy.h"

#include <stdio.h>
#include <string.h>

#include "core/json.h"

static const char *const probes[] = {"livenessProbe", "readinessProbe", "startupProbe", NULL};
static const char *const handlers[] = {"httpGet", "tcpSocket", "grpc", NULL};

/* Whether a ports[] entry is TCP (protocol absent means TCP). */
static bool port_is_tcp(const json_t *port)
{
    const char *proto = pl_json_string(port, "protocol");
    return !proto || strcmp(proto, "TCP") == 0;
}

/*
 * The ports[] entry that target (a number or a name) refers to: a TCP one
 * when there is one, else any other that matches (to say it is not TCP),
 * else NULL.
 */
static const json_t *find_port(const json_t *container, const json_t *target)
{
    const json_t *other = NULL;
    size_t i;
    const json_t *p;
    json_array_foreach(pl_json_array(container, "ports"), i, p)
    {
        bool match;
        if (json_is_integer(target)) {
            long long n;
            match = pl_json_integer(p, "containerPort", &n) && n == json_integer_value(target);
        } else {
            const char *name = pl_json_string(p, "name");
            match = name && strcmp(name, json_string_value(target)) == 0;
        }
        if (match && port_is_tcp(p)) {
            return p;
        }
        if (match && !other) {
            other = p;
        }
    }
    return other;
}

/* Checks the port of one probe handler; sub is "livenessProbe.httpGet.port". */
static void check_handler(struct pl_report *out, const struct pl_container *c,
                          const json_t *handler, const char *sub)
{
    const char *host = pl_json_string(handler, "host");
    if (host && *host) {
        return; /* another address: its ports are not this container's */
    }
    const json_t *target = json_object_get(handler, "port");
    if (!json_is_integer(target) && (!json_is_string(target) || !*json_string_value(target))) {
        return; /* absent, empty or of another type: the API server refuses it */
    }
    const json_t *port = find_port(c->json, target);
    if (port && port_is_tcp(port)) {
        return;
    }
    if (port) {
        const char *proto = pl_report_quote(out, pl_json_string(port, "protocol"));
        const char *what =
            json_is_integer(target)
                ? pl_pool_printf(out->pool, "%lld", (long long)json_integer_value(target))
                : pl_pool_printf(out->pool, "\"%s\"",
                                 pl_report_quote(out, json_string_value(target)));
        pl_report_container(out, c, sub, "%s is declared as a %s port; probes connect over TCP",
                            what, proto);
    } else if (json_is_integer(target)) {
        pl_report_container(out, c, sub,
                            "%lld is not among the container's ports; declare it "
                            "(containerPort) or probe the port the app listens on",
                            (long long)json_integer_value(target));
    } else {
        pl_report_container(out, c, sub,
                            "\"%s\" names none of the container's ports; the probe can never "
                            "succeed",
                            pl_report_quote(out, json_string_value(target)));
    }
}

static void check(const struct pl_eval *ev, const json_t *spec, struct pl_report *out)
{
    (void)ev;
    struct pl_container_iter it;
    struct pl_container c;
    pl_container_iter_init(&it, spec, PL_CTR_LONG_RUNNING);
    while (pl_container_iter_next(&it, &c)) {
        for (size_t p = 0; probes[p]; p++) {
            const json_t *probe = pl_json_object(c.json, probes[p]);
            for (size_t h = 0; probe && handlers[h]; h++) {
                const json_t *handler = pl_json_object(probe, handlers[h]);
                if (!handler) {
                    continue;
                }
                char sub[64];
                int n = snprintf(sub, sizeof(sub), "%s.%s.port", probes[p], handlers[h]);
                if (n < 0 || (size_t)n >= sizeof(sub)) {
                    continue; /* cannot happen: both names come from the tables above */
                }
                check_handler(out, &c, handler, sub);
            }
        }
    }
}

const struct pl_policy pl_policy_probe_ports = {
    .id = "probe-ports",
    .default_mode = PL_MODE_WARN,
    .summary = "every probe's port is a TCP port the container declares",
    .check = check,
};
