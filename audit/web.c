/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The dashboard's HTTP front (see web.h). What a later net/ split would
 * share with server/http.c: the listen-address parsing, the MHD start-up
 * with its limits and the response helpers; the routes stay here.
 */
#include "audit/web.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "audit/page.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/json.h"
#include "kube/client.h"
#include "policies/registry.h"

#define CONNECTIONS_MAX 64u
#define PER_ADDRESS_MAX 16u
#define IDLE_TIMEOUT_S  15u
#define HEADER_MEMORY   (64u * 1024u)
#define BODY_MAX        (64u * 1024u * 1024u) /* the page or JSON of a very large cluster */
#define API_PREFIX_NS   "/api/v1/namespaces/"
#define HTML_TYPE       "text/html; charset=utf-8"
#define JSON_TYPE       "application/json"
#define TEXT_TYPE       "text/plain; charset=utf-8"
#define METRICS_TYPE    "text/plain; version=0.0.4; charset=utf-8"

struct pl_audit_web {
    struct MHD_Daemon *mhd;
    struct pl_cluster *cluster;
    const atomic_bool *draining;
    double started; /* wall clock */
};

/* Sends body (malloc memory, taken). */
static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type,
                             char *body, size_t len)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    if (strcmp(type, HTML_TYPE) == 0) {
        MHD_add_response_header(r, "Content-Security-Policy",
                                "default-src 'none'; style-src 'unsafe-inline'; "
                                "form-action 'self'; frame-ancestors 'none'");
    }
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    }
    enum MHD_Result ok = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result send_text(struct MHD_Connection *conn, unsigned status, const char *text)
{
    return reply(conn, status, TEXT_TYPE, pl_xstrdup(text), strlen(text));
}

static enum MHD_Result send_json(struct MHD_Connection *conn, unsigned status, json_t *doc)
{
    size_t len = 0;
    char *text = pl_json_dump(doc, JSON_INDENT(2), &len);
    json_decref(doc);
    return reply(conn, status, JSON_TYPE, text, len);
}

static enum MHD_Result send_error(struct MHD_Connection *conn, unsigned status, const char *msg)
{
    return send_json(conn, status, json_pack("{s:s}", "error", msg));
}

/* ---- process figures ---- */

/* CPU seconds and resident bytes of this process, from /proc. */
static void process_figures(double *cpu, double *rss)
{
    *cpu = 0;
    *rss = 0;
    struct timespec ts;
    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) == 0) {
        *cpu = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    }
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, resident = 0;
    if (f && fscanf(f, "%lu %lu", &size, &resident) == 2) {
        *rss = (double)resident * (double)sysconf(_SC_PAGESIZE);
    }
    if (f) {
        fclose(f);
    }
}

static enum MHD_Result metrics(struct pl_audit_web *w, struct MHD_Connection *conn)
{
    struct pl_buf b;
    pl_buf_init(&b, BODY_MAX);
    int r = pl_cluster_metrics(w->cluster, &b);
    double cpu, rss;
    process_figures(&cpu, &rss);
    r |= pl_buf_printf(&b,
                       "# HELP process_cpu_seconds_total User and system CPU time spent.\n"
                       "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total "
                       "%.3f\n# HELP process_resident_memory_bytes Resident memory size.\n"
                       "# TYPE process_resident_memory_bytes gauge\n"
                       "process_resident_memory_bytes %.0f\n"
                       "# HELP process_start_time_seconds Start time since the Unix epoch.\n"
                       "# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds "
                       "%.3f\n",
                       cpu, rss, w->started);
    if (r != 0) {
        pl_buf_finish(&b);
        return send_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "metrics too large\n");
    }
    size_t len = b.len;
    return reply(conn, MHD_HTTP_OK, METRICS_TYPE, pl_buf_steal(&b), len);
}

/* ---- filters ---- */

/* The ?namespace= and ?policy= filters ("" is none). Returns 0 or -EINVAL (msg set). */
static int filters(struct MHD_Connection *conn, const char **ns, const char **policy,
                   const char **msg)
{
    *ns = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "namespace");
    *policy = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "policy");
    if (*ns && !**ns) {
        *ns = NULL;
    }
    if (*policy && !**policy) {
        *policy = NULL;
    }
    if (*ns && !pl_kube_namespace_name_ok(*ns)) {
        *msg = "namespace: not a namespace name";
        return -EINVAL;
    }
    if (*policy && pl_policy_index(*policy) < 0) {
        *msg = "policy: not a policy id (see plimsoll policies)";
        return -EINVAL;
    }
    return 0;
}

/* ---- routes ---- */

static enum MHD_Result page(struct pl_audit_web *w, struct MHD_Connection *conn, const char *ns,
                            const char *policy)
{
    json_t *all = pl_cluster_summary(w->cluster, NULL, NULL);
    json_t *summary = pl_cluster_summary(w->cluster, ns, policy);
    json_t *list = pl_cluster_workloads(w->cluster, ns, policy, PL_AUDIT_PAGE_WORKLOADS);
    struct pl_audit_page_input in = {.summary = summary,
                                     .all_summary = all,
                                     .workloads = list,
                                     .ns_filter = ns,
                                     .policy_filter = policy};
    size_t len = 0;
    char *html = pl_audit_page(&in, BODY_MAX, &len);
    json_decref(all);
    json_decref(summary);
    json_decref(list);
    if (!html) {
        return send_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "page too large\n");
    }
    return reply(conn, MHD_HTTP_OK, HTML_TYPE, html, len);
}

/* /api/v1/namespaces/{ns}/workloads: the namespace, or NULL when the path is not that. */
static const char *namespace_route(const char *url, char *ns, size_t size)
{
    if (strncmp(url, API_PREFIX_NS, strlen(API_PREFIX_NS)) != 0) {
        return NULL;
    }
    const char *start = url + strlen(API_PREFIX_NS);
    const char *slash = strchr(start, '/');
    if (!slash || strcmp(slash, "/workloads") != 0 || (size_t)(slash - start) >= size) {
        return NULL;
    }
    memcpy(ns, start, (size_t)(slash - start));
    ns[slash - start] = '\0';
    return ns;
}

static enum MHD_Result route(struct pl_audit_web *w, struct MHD_Connection *conn, const char *url)
{
    if (strcmp(url, "/healthz") == 0) {
        return send_text(conn, MHD_HTTP_OK, "ok\n");
    }
    if (strcmp(url, "/readyz") == 0) {
        if (w->draining && atomic_load(w->draining)) {
            return send_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "shutting down\n");
        }
        return pl_cluster_ready(w->cluster)
                   ? send_text(conn, MHD_HTTP_OK, "ready\n")
                   : send_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "not ready: listing\n");
    }
    if (strcmp(url, "/metrics") == 0) {
        return metrics(w, conn);
    }
    const char *ns = NULL;
    const char *policy = NULL;
    const char *msg = NULL;
    char path_ns[128];
    const char *route_ns = namespace_route(url, path_ns, sizeof(path_ns));
    bool known = strcmp(url, "/") == 0 || strcmp(url, "/api/v1/summary") == 0 ||
                 strcmp(url, "/api/v1/workloads") == 0 || route_ns;
    if (!known) {
        return send_error(conn, MHD_HTTP_NOT_FOUND, "no such path");
    }
    if (filters(conn, &ns, &policy, &msg) < 0) {
        return send_error(conn, MHD_HTTP_BAD_REQUEST, msg);
    }
    if (strcmp(url, "/") == 0) {
        return page(w, conn, ns, policy);
    }
    if (strcmp(url, "/api/v1/summary") == 0) {
        return send_json(conn, MHD_HTTP_OK, pl_cluster_summary(w->cluster, ns, policy));
    }
    if (route_ns) {
        if (!pl_kube_namespace_name_ok(route_ns) ||
            !pl_cluster_has_namespace(w->cluster, route_ns)) {
            return send_error(conn, MHD_HTTP_NOT_FOUND, "no such namespace");
        }
        ns = route_ns;
    }
    return send_json(conn, MHD_HTTP_OK, pl_cluster_workloads(w->cluster, ns, policy, 0));
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **state)
{
    (void)version;
    (void)upload;
    if (!*state) {
        *state = conn; /* the headers: answer once the whole request is in */
        return MHD_YES;
    }
    if (*upload_size > 0) {
        *upload_size = 0; /* a body on a read-only service: read and dropped */
        return MHD_YES;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        return send_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "read-only: GET and HEAD only");
    }
    return route(cls, conn, url);
}

/* "host:port" or "[v6]:port" into a socket address. */
static int parse_address(const char *listen, struct sockaddr_storage *ret, struct pl_error *err)
{
    const char *colon = strrchr(listen, ':');
    char host[256];
    if (!colon || colon == listen || !colon[1] || strlen(colon + 1) > 5 ||
        strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
        strtoul(colon + 1, NULL, 10) > 65535) {
        return pl_error_set(err, "", 0, "--listen \"%s\" is not ADDR:PORT", listen);
    }
    size_t n = (size_t)(colon - listen);
    const char *h = listen;
    if (n >= 2 && h[0] == '[' && h[n - 1] == ']') {
        h++;
        n -= 2;
    }
    if (n >= sizeof(host)) {
        return pl_error_set(err, "", 0, "--listen \"%s\": address too long", listen);
    }
    memcpy(host, h, n);
    host[n] = '\0';
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST};
    struct addrinfo *res = NULL;
    if (getaddrinfo(host, colon + 1, &hints, &res) != 0 || !res) {
        return pl_error_set(err, "", 0, "--listen \"%s\": not a numeric address", listen);
    }
    memset(ret, 0, sizeof(*ret));
    memcpy(ret, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return 0;
}

int pl_audit_web_start(const char *listen, struct pl_cluster *c, const atomic_bool *draining,
                       struct pl_audit_web **ret, struct pl_error *err)
{
    struct sockaddr_storage addr;
    int r = parse_address(listen, &addr, err);
    if (r < 0) {
        return r;
    }
    struct pl_audit_web *w = pl_xcalloc(1, sizeof(*w));
    w->cluster = c;
    w->draining = draining;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    w->started = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC;
    if (addr.ss_family == AF_INET6) {
        flags |= MHD_USE_IPv6;
    }
    w->mhd = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, w, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONNECTIONS_MAX, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned)PER_ADDRESS_MAX, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_TIMEOUT_S,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HEADER_MEMORY, MHD_OPTION_END);
    if (!w->mhd) {
        free(w);
        return pl_error_set(err, "", 0, "cannot listen on %s (address in use?)", listen) ? -EIO
                                                                                         : -EIO;
    }
    *ret = w;
    return 0;
}

void pl_audit_web_stop(struct pl_audit_web *w)
{
    if (!w) {
        return;
    }
    MHD_stop_daemon(w->mhd);
    free(w);
}
