/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pod-security: the Kubernetes Pod Security Standards at `level` (baseline or
 * restricted), with the verdicts of the upstream Pod Security Admission
 * (k8s.io/pod-security-admission) at version "latest". A pod that upstream
 * admits is admitted here and a pod that upstream rejects is rejected here;
 * where upstream reports one line per check, this policy reports one
 * violation per offending field and container, so that a person sees every
 * fix at once.
 *
 * The checks, their levels and their Windows and user-namespace exceptions
 * follow the upstream check_*.go files one for one (the table `checks` below
 * names each upstream check id). Restricted is baseline minus the baseline
 * checks that a restricted check overrides (hostPathVolumes,
 * seccompProfile_baseline, capabilities_baseline, procMount) plus the
 * restricted checks. Every container is checked: containers, init
 * containers (native sidecars included) and ephemeral containers.
 *
 * Like upstream, which sees the pod after the API server has defaulted it, a
 * volume with no source counts as the emptyDir the API server makes of it.
 * Runbook: docs/policies/pod-security.md
 */
#include "policies/policy.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"

enum level {
    LEVEL_BASELINE = 1u << 0,
    LEVEL_RESTRICTED = 1u << 1,
};
#define LEVEL_BOTH (LEVEL_BASELINE | LEVEL_RESTRICTED)

struct params {
    int level; /* index into level_names and levels */
};

/* What every check reads: the pod and where to report. */
struct pod {
    const json_t *spec;    /* pod spec (borrowed) */
    const json_t *meta;    /* pod (template) metadata, or NULL */
    const json_t *sc;      /* spec.securityContext, or NULL */
    struct pl_report *out; /* where violations go */
    bool windows;          /* spec.os.name is "windows" */
    bool user_namespace;   /* spec.hostUsers is false */
};

/* Most items named in one message before "..." (capabilities, for instance). */
#define LIST_MAX 8

/* ------------------------------------------------------------------------
 * Parameters
 */

/* The levels in the order of the parameter's choices. */
static const char *const level_names[] = {"baseline", "restricted", NULL};
static const enum level levels[] = {LEVEL_BASELINE, LEVEL_RESTRICTED};

static const struct pl_param param_table[] = {
    {.name = "level",
     .type = PL_PARAM_ENUM,
     .offset = offsetof(struct params, level),
     .def = "\"restricted\"",
     .choices = level_names,
     .summary = "the Pod Security Standard to enforce"},
    {0},
};

static const struct pl_param_set param_set = {sizeof(struct params), param_table, NULL, NULL};

/* ------------------------------------------------------------------------
 * Small JSON helpers. Kubernetes decodes a JSON null like a missing field,
 * so "set" below always means present and not null.
 */

/* obj[key] when obj is an object and the member is present and not null. Borrowed. */
static const json_t *member(const json_t *obj, const char *key)
{
    const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    return json_is_null(v) ? NULL : v;
}

static const json_t *security_context(const json_t *container)
{
    return pl_json_object(container, "securityContext");
}

/* Whether v is a string equal to s. */
static bool string_is(const json_t *v, const char *s)
{
    return json_is_string(v) && strcmp(json_string_value(v), s) == 0;
}

/* Whether a Go string field holds something: set and not "" (a non-string counts). */
static bool nonempty(const json_t *v)
{
    return v && !json_is_null(v) && !string_is(v, "");
}

/* A value for a message: "\"Unconfined\"" (quoted request text), "unset", or its JSON kind. */
static const char *shown(struct pl_report *out, const json_t *v)
{
    if (!v || json_is_null(v)) {
        return "unset";
    }
    if (json_is_string(v)) {
        return pl_pool_printf(out->pool, "\"%s\"", pl_report_quote(out, json_string_value(v)));
    }
    if (json_is_integer(v)) {
        return pl_pool_printf(out->pool, "%lld", (long long)json_integer_value(v));
    }
    return "of the wrong type";
}

/* A comma-separated list of quoted values for one message, cut after LIST_MAX. */
struct list {
    struct pl_report *out;
    const char *text;
    size_t n;
};

static void list_add(struct list *l, const json_t *item)
{
    if (l->n < LIST_MAX) {
        const char *s = shown(l->out, item);
        l->text = l->n ? pl_pool_printf(l->out->pool, "%s, %s", l->text, s) : s;
    } else if (l->n == LIST_MAX) {
        l->text = pl_pool_printf(l->out->pool, "%s, ...", l->text);
    }
    l->n++;
}

/* "volumes[2] (data)" plus an optional ".sub". Pool memory. */
static const char *volume_path(struct pl_report *out, size_t i, const json_t *vol, const char *sub)
{
    const char *name = pl_json_string(vol, "name");
    return pl_pool_printf(out->pool, "volumes[%zu] (%s)%s%s", i, pl_report_quote(out, name),
                          sub ? "." : "", sub ? sub : "");
}

/* A volume's violation is known by the volume's name, not its position (by
 * its position only when it has none). */
static void identify_volume(struct pl_report *out, size_t i, const json_t *vol, const char *field)
{
    const char *name = pl_json_string(vol, "name");
    char position[32];
    snprintf(position, sizeof(position), "[%zu]", i);
    pl_report_identify(out, field, name && *name ? name : position);
}

/* ------------------------------------------------------------------------
 * Baseline checks
 */

/* hostNamespaces: hostNetwork, hostPID and hostIPC must be unset or false. */
static void check_host_namespaces(const struct pod *p)
{
    static const char *const keys[] = {"hostNetwork", "hostPID", "hostIPC"};
    for (size_t i = 0; i < PL_ARRAY_SIZE(keys); i++) {
        if (pl_json_bool(p->spec, keys[i], false)) {
            pl_report_add(p->out, PL_SCOPE_POD_SPEC, keys[i],
                          "sharing the host's namespaces is not allowed at level baseline "
                          "(set %s: false)",
                          keys[i]);
        }
    }
}

/* privileged: securityContext.privileged must be unset or false. */
static void check_privileged(const struct pod *p)
{
    struct pl_container_iter it;
    struct pl_container c;
    pl_container_iter_init(&it, p->spec, PL_CTR_ALL);
    while (pl_container_iter_next(&it, &c)) {
        if (pl_json_bool(security_context(c.json), "privileged", false)) {
            pl_report_container(p->out, &c, "securityContext.privileged",
                                "privileged containers are not allowed at level baseline "
                                "(set privileged: false)");
        }
    }
}

static const char *const baseline_capabilities[] = {
    "AUDIT_WRITE",      "CHOWN",   "DAC_OVERRIDE", "FOWNER",  "FSETID", "KILL",       "MKNOD",
    "NET_BIND_SERVICE", "SETFCAP", "SETGID",       "SETPCAP", "SETUID", "SYS_CHROOT",
};

static bool baseline_capability(const json_t *cap)
{
    for (size_t i = 0; i < PL_ARRAY_SIZE(baseline_capabilities); i++) {
        if (string_is(cap, baseline_capabilities[i])) {
            return true;
        }
    }
    return false;
}

/*
 * Reports, as one violation of container c, the capabilities in caps.add that
 * allowed() refuses: "adding X, Y is not allowed at level <level_and_hint>".
 */
static void report_added_capabilities(const struct pod *p, const struct pl_container *c,
                                      const json_t *caps, bool (*allowed)(const json_t *),
                                      const char *level_and_hint)
{
    const json_t *add = pl_json_array(caps, "add");
    struct list bad = {.out = p->out};
    for (size_t i = 0; i < json_array_size(add); i++) {
        if (!allowed(json_array_get(add, i))) {
            list_add(&bad, json_array_get(add, i));
        }
    }
    if (bad.n) {
        pl_report_identify(p->out, NULL, bad.text);
        pl_report_container(p->out, c, "securityContext.capabilities.add",
                            "adding %s is not allowed at level %s", bad.text, level_and_hint);
    }
}

/* capabilities_baseline: capabilities.add only from the runtime's default set. */
static void check_capabilities_baseline(const struct pod *p)
{
    struct pl_container_iter it;
    struct pl_container c;
    pl_container_iter_init(&it, p->spec, PL_CTR_ALL);
    while (pl_container_iter_next(&it, &c)) {
        const json_t *caps = pl_json_object(security_context(c.json), "capabilities");
        report_added_capabilities(p, &c, caps, baseline_capability,
                                  "baseline (keep to the default capabilities)");
    }
}

/* hostPathVolumes: no hostPath volumes (restricted: overridden by restrictedVolumes). */
static void check_host_path_volumes(const struct pod *p)
{
    const json_t *volumes = pl_json_array(p->spec, "volumes");
    for (size_t i = 0; i < json_array_size(volumes); i++) {
        const json_t *vol = json_array_get(volumes, i);
        if (member(vol, "hostPath")) {
            identify_volume(p->out, i, vol, "volumes.hostPath");
            pl_report_add(p->out, PL_SCOPE_POD_SPEC, volume_path(p->out, i, vol, "hostPath"),
                          "hostPath volumes are not allowed at level baseline "
                          "(use a PersistentVolumeClaim or emptyDir)");
        }
    }
}

/* hostPorts: ports[*].hostPort must be unset or 0. */
static void check_host_ports(const struct pod *p)
{
    struct pl_container_iter it;
    struct pl_container c;
    pl_container_iter_init(&it, p->spec, PL_CTR_ALL);
    while (pl_container_iter_next(&it, &c)) {
        const json_t *ports = pl_json_array(c.json, "ports");
        for (size_t i = 0; i < json_array_size(ports); i++) {
            long long port = 0;
            if (!pl_json_integer(json_array_get(ports, i), "hostPort", &port) || port == 0) {
                continue;
            }
            char sub[64];
            snprintf(sub, sizeof(sub), "ports[%zu].hostPort", i);
            char port_text[24];
            snprintf(port_text, sizeof(port_text), "%lld", port);
            pl_report_identify(p->out, "ports.hostPort", port_text);
            pl_report_container(p->out, &c, sub,
                                "hostPort %lld is not allowed at level baseline "
                                "(remove it; reach the pod through a Service)",
                                port);
        }
    }
}

static bool apparmor_type_allowed(const json_t *profile)
{
    const json_t *type = member(profile, "type");
    return string_is(type, "RuntimeDefault") || string_is(type, "Localhost");
}

static bool apparmor_annotation_allowed(const json_t *v)
{
    const char *s = json_string_value(v);
    return s && (!*s || strcmp(s, "runtime/default") == 0 || strncmp(s, "localhost/", 10) == 0);
}

#define APPARMOR_ANNOTATION_PREFIX "container.apparmor.security.beta.kubernetes.io/"

/* The AppArmor annotations (deprecated, still checked upstream) on the pod (template). */
static void check_apparmor_annotations(const struct pod *p)
{
    const json_t *annotations = pl_json_object(p->meta, "annotations");
    const char *key;
    const json_t *v;
    const size_t prefix_len = strlen(APPARMOR_ANNOTATION_PREFIX);
    json_object_foreach((json_t *)annotations, key, v)
    {
        if (strncmp(key, APPARMOR_ANNOTATION_PREFIX, prefix_len) != 0 ||
            apparmor_annotation_allowed(v)) {
            continue;
        }
        /* The prefix is ours to print; only the container name part is request text. */
        const char *path =
            pl_pool_printf(p->out->pool, "annotations[%s%s]", APPARMOR_ANNOTATION_PREFIX,
                           pl_report_quote(p->out, key + prefix_len));
        pl_report_add(p->out, PL_SCOPE_POD_META, path,
                      "AppArmor profile %s is not allowed at level baseline "
                      "(use runtime/default or localhost/<profile>)",
                      shown(p->out, v));
    }
}

/* appArmorProfile: the field may only be RuntimeDefault or Localhost; annotations likewise. */
static void check_apparmor(const struct pod *p)
{
    const json_t *profile = member(p->sc, "appArmorProfile");
    if (profile && !apparmor_type_allowed(profile)) {
        pl_report_add(p->out, PL_SCOPE_POD_SPEC, "securityContext.appArmorProfile.type",
                      "AppArmor profile type %s is not allowed at level baseline "
                      "(use RuntimeDefault or Localhost)",
                      shown(p->out, member(profile, "type")));
    }
    struct pl_container_iter it;
    struct pl_container c;
    pl_container_iter_init(&it, p->spec, PL_CTR_ALL);
    while (pl_container_iter_next(&it, &c)) {
        profile = member(security_context(c.json), "appArmorProfile");
        if (profile && !apparmor_type_allowed(profile)) {
            pl_report_container(p->out, &c, "securityContext.appArmorProfile.type",
                                "AppArmor profile type %s is not allowed at level baseline "
                                "(use RuntimeDefault or Localhost)",
                                shown(p->out, member(profile, "type")));
        }
    }
    check_apparmor_annotations(p);
}

static const char *const selinux_types[] = {
    "", "container_t", "container_init_t", "container_kvm_t", "container_engine_t",
};

static bool selinux_type_allowed(const json_t *type)
{
    if (!type) {
        return true; /* unset is "" */
    }
    for (size_t i = 0; i < PL_ARRAY_SIZE(selinux_types); i++) {
        if (string_is(type, selinux_types[i])) {
            return true;
        }
    }
    return false;
}

/*
 * Reports the forbidden type, user and role of one securityContext.seLinuxOptions
 * (opts): c is its container, or NULL for the pod.
 */
static void check_selinux_options(const struct pod *p, const struct pl_container *c,
                                  const json_t *opts)
{
    static const char *const fields[] = {"type", "user", "role"};
    for (size_t i = 0; i < PL_ARRAY_SIZE(fields); i++) {
        const json_t *v = member(opts, fields[i]);
        bool bad = i == 0 ? !selinux_type_allowed(v) : nonempty(v);
        if (!bad) {
            continue;
        }
        char sub[64];
        snprintf(sub, sizeof(sub), "securityContext.seLinuxOptions.%s", fields[i]);
        const char *what = i == 0
                               ? pl_pool_printf(p->out->pool, "SELinux type %s", shown(p->out, v))
                               : pl_pool_printf(p->out->pool, "a custom SELinux %s", fields[i]);
        const char *fix = i == 0 ? "use container_t or leave it unset" : "remove it";
        if (c) {
            pl_report_container(p->out, c, sub, "%s is not allowed at level baseline (%s)", what,
                                fix);
        } else {
            pl_report_add(p->out, PL_SCOPE_POD_SPEC, sub,
                          "%s is not allowed at level baseline (%s)", what, fix);
        }
    }
}

/* seLinuxOptions: type from the container types only; user and role unset. */
static void check_selinux(const struct pod *p)
{
    const json_t *opts = pl_json_object(p->sc, "seLinuxOptions");
    if (opts) {
        check_selinux_options(p, NULL, opts);
    }
    struct pl_container_iter it;
    struct pl_container c;
    pl_container_iter_init(&it, p->spec, PL_CTR_ALL);
    while (pl_container_iter_next(&it, &c)) {
        opts = pl_json_object(security_context(c.json), "seLinuxOptions");
        if (opts) {
            check_selinux_options(p, &c, opts);
        }
    }
}

/* Reports every container whose procMount is set to anything but Default. */
static void report_proc_mounts(const struct pod *p, const char *level, const char *fix)
{
    struct pl_container_iter it;
    struct pl_container c;
    pl_container_iter_init(&it, p->spec, PL_CTR_ALL);
    while (pl_container_iter_next(&it, &c)) {
        const json_t *v = member(security_context(c.json), "procMount");
        if (v && !string_is(v, "Default")) {
            pl_report_container(p->out, &c, "securityContext.procMount",
                                "procMount %s is not allowed at level %s (%s)", shown(p->out, v),
                                level, fix);
        }
    }
}

/* procMount (baseline, 1.35+): Default or unset, unless the pod runs in a user namespace. */
static void check_proc_mount_baseline(const struct pod *p)
{
    if (p->user_namespace) {
        return;
    }
    report_proc_mounts(p, "baseline", "use Default, or run the pod with hostUsers: false");
}

/* procMount_restricted: Default or unset, user namespace or not. */
static void check_proc_mount_restricted(const struct pod *p)
{
    report_proc_mounts(p, "restricted", "use Default");
}

static bool seccomp_type_allowed(const json_t *profile)
{
    const json_t *type = member(profile, "type");
    return string_is(type, "RuntimeDefault") || string_is(type, "Localhost");
}

/*
 * Reports the explicitly set seccomp profiles that are not RuntimeDefault or
 * Localhost (both levels). Returns whether the pod-level profile is a good one.
 */
static bool report_bad_seccomp(const struct pod *p, const char *level)
{
    bool pod_ok = false;
    const json_t *profile = member(p->sc, "seccompProfile");
    if (profile && !seccomp_type_allowed(profile)) {
        pl_report_add(p->out, PL_SCOPE_POD_SPEC, "securityContext.seccompProfile.type",
                      "seccomp profile %s is not allowed at level %s "
                      "(use RuntimeDefault or Localhost)",
                      shown(p->out, member(profile, "type")), level);
    } else if (profile) {
        pod_ok = true;
    }
    struct pl_container_iter it;
    struct pl_container c;
    pl_container_iter_init(&it, p->spec, PL_CTR_ALL);
    while (pl_container_iter_next(&it, &c)) {
        profile = member(security_context(c.json), "seccompProfile");
        if (profile && !seccomp_type_allowed(profile)) {
            pl_report_container(p->out, &c, "securityContext.seccompProfile.type",
                                "seccomp profile %s is not allowed at level %s "
                                "(use RuntimeDefault or Localhost)",
                                shown(p->out, member(profile, "type")), level);
        }
    }
    return pod_ok;
}

/* seccompProfile_baseline (1.19+): a set profile must be RuntimeDefault or Localhost. */
static void check_seccomp_baseline(const struct pod *p)
{
    (void)report_bad_seccomp(p, "baseline");
}

static const char *const safe_sysctls[] = {
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.ip_local_reserved_ports",   /* 1.27 */
    "net.ipv4.tcp_keepalive_time",        /* 1.29 */
    "net.ipv4.tcp_fin_timeout",           /* 1.29 */
    "net.ipv4.tcp_keepalive_intvl",       /* 1.29 */
    "net.ipv4.tcp_keepalive_probes",      /* 1.29 */
    "net.ipv4.tcp_rmem",                  /* 1.32 */
    "net.ipv4.tcp_wmem",                  /* 1.32 */
    "net.ipv4.tcp_slow_start_after_idle", /* 1.37 */
    "net.ipv4.tcp_notsent_lowat",         /* 1.37 */
};

static bool safe_sysctl(const json_t *name)
{
    for (size_t i = 0; i < PL_ARRAY_SIZE(safe_sysctls); i++) {
        if (string_is(name, safe_sysctls[i])) {
            return true;
        }
    }
    return false;
}

/* sysctls: only the namespaced, isolated "safe" set. */
static void check_sysctls(const struct pod *p)
{
    const json_t *sysctls = pl_json_array(p->sc, "sysctls");
    for (size_t i = 0; i < json_array_size(sysctls); i++) {
        const json_t *name = member(json_array_get(sysctls, i), "name");
        if (safe_sysctl(name)) {
            continue;
        }
        char path[64];
        snprintf(path, sizeof(path), "securityContext.sysctls[%zu].name", i);
        pl_report_identify(p->out, "securityContext.sysctls.name",
                           json_is_string(name) ? json_string_value(name) : path);
        pl_report_add(p->out, PL_SCOPE_POD_SPEC, path,
                      "sysctl %s is not allowed at level baseline "
                      "(use only the safe, namespaced sysctls)",
                      shown(p->out, name));
    }
}

/* windowsHostProcess: windowsOptions.hostProcess must be unset or false. */
static void check_windows_host_process(const struct pod *p)
{
    const char *const msg = "Windows HostProcess containers are not allowed at level baseline "
                            "(set hostProcess: false)";
    if (pl_json_bool(pl_json_object(p->sc, "windowsOptions"), "hostProcess", false)) {
        pl_report_add(p->out, PL_SCOPE_POD_SPEC, "securityContext.windowsOptions.hostProcess", "%s",
                      msg);
    }
    struct pl_container_iter it;
    struct pl_container c;
    pl_container_iter_init(&it, p->spec, PL_CTR_ALL);
    while (pl_container_iter_next(&it, &c)) {
        const json_t *opts = pl_json_object(security_context(c.json), "windowsOptions");
        if (pl_json_bool(opts, "hostProcess", false)) {
            pl_report_container(p->out, &c, "securityContext.windowsOptions.hostProcess", "%s",
                                msg);
        }
    }
}

/* Reports httpGet.host and tcpSocket.host of one probe or lifecycle handler. */
static void check_handler_host(const struct pod *p, const struct pl_container *c, const char *where,
                               const json_t *handler, const char *what)
{
    static const char *const actions[] = {"httpGet", "tcpSocket"};
    for (size_t i = 0; i < PL_ARRAY_SIZE(actions); i++) {
        const json_t *host = member(pl_json_object(handler, actions[i]), "host");
        if (!nonempty(host)) {
            continue;
        }
        char sub[96];
        snprintf(sub, sizeof(sub), "%s.%s.host", where, actions[i]);
        pl_report_container(p->out, c, sub,
                            "%s host %s is not allowed at level baseline "
                            "(remove host; the pod's own IP is used)",
                            what, shown(p->out, host));
    }
}

/* hostProbesAndHostLifecycle (1.34+): probes and lifecycle handlers must not name a host. */
static void check_probe_hosts(const struct pod *p)
{
    static const char *const probes[] = {"livenessProbe", "readinessProbe", "startupProbe"};
    static const char *const hooks[] = {"postStart", "preStop"};
    struct pl_container_iter it;
    struct pl_container c;
    pl_container_iter_init(&it, p->spec, PL_CTR_ALL);
    while (pl_container_iter_next(&it, &c)) {
        for (size_t i = 0; i < PL_ARRAY_SIZE(probes); i++) {
            check_handler_host(p, &c, probes[i], pl_json_object(c.json, probes[i]), "a probe");
        }
        const json_t *lifecycle = pl_json_object(c.json, "lifecycle");
        for (size_t i = 0; i < PL_ARRAY_SIZE(hooks); i++) {
            char where[32];
            snprintf(where, sizeof(where), "lifecycle.%s", hooks[i]);
            check_handler_host(p, &c, where, pl_json_object(lifecycle, hooks[i]),
                               "a lifecycle hook");
        }
    }
}

/* ulimits (upstream master, 1.37+): container ulimits only at level privileged. */
static void check_ulimits(const struct pod *p)
{
    struct pl_container_iter it;
    struct pl_container c;
    pl_container_iter_init(&it, p->spec, PL_CTR_ALL);
    while (pl_container_iter_next(&it, &c)) {
        if (member(security_context(c.json), "ulimits")) {
            pl_report_container(p->out, &c, "securityContext.ulimits",
                                "container ulimits are not allowed at level baseline "
                                "(remove securityContext.ulimits)");
        }
    }
}

/* ------------------------------------------------------------------------
 * Restricted checks
 */

static const char *const restricted_volume_sources[] = {
    "configMap", "csi",    "downwardAPI", "emptyDir", "ephemeral", "image", "persistentVolumeClaim",
    "projected", "secret",
};

static bool allowed_volume_source(const char *key)
{
    for (size_t i = 0; i < PL_ARRAY_SIZE(restricted_volume_sources); i++) {
        if (strcmp(key, restricted_volume_sources[i]) == 0) {
            return true;
        }
    }
    return false;
}

/*
 * The first set volume source that restricted does not allow, or NULL when
 * the volume is allowed: it sets an allowed source (upstream's switch takes
 * the first match), or sets none at all (the API server defaults it to an
 * emptyDir before admission sees it).
 */
static const char *restricted_volume_source(const json_t *vol)
{
    const char *key;
    const json_t *v;
    const char *bad = NULL;
    json_object_foreach((json_t *)vol, key, v)
    {
        if (json_is_null(v) || strcmp(key, "name") == 0) {
            continue;
        }
        if (allowed_volume_source(key)) {
            return NULL;
        }
        if (!bad) {
            bad = key;
        }
    }
    return bad;
}

/* restrictedVolumes: only configMap, csi, downwardAPI, emptyDir, ephemeral, image, PVC, ... */
static void check_restricted_volumes(const struct pod *p)
{
    const json_t *volumes = pl_json_array(p->spec, "volumes");
    for (size_t i = 0; i < json_array_size(volumes); i++) {
        const json_t *vol = json_array_get(volumes, i);
        if (!json_is_object(vol)) {
            continue;
        }
        const char *source = restricted_volume_source(vol);
        if (!source) {
            continue;
        }
        identify_volume(p->out, i, vol, "volumes");
        pl_report_add(p->out, PL_SCOPE_POD_SPEC, volume_path(p->out, i, vol, NULL),
                      "volume type \"%s\" is not allowed at level restricted "
                      "(use a PVC, emptyDir, configMap, secret or projected)",
                      pl_report_quote(p->out, source));
    }
}

/* allowPrivilegeEscalation (1.25+): must be false, except in Windows pods. */
static void check_privilege_escalation(const struct pod *p)
{
    if (p->windows) {
        return;
    }
    struct pl_container_iter it;
    struct pl_container c;
    pl_container_iter_init(&it, p->spec, PL_CTR_ALL);
    while (pl_container_iter_next(&it, &c)) {
        const json_t *v = member(security_context(c.json), "allowPrivilegeEscalation");
        if (json_is_false(v)) {
            continue;
        }
        pl_report_container(p->out, &c, "securityContext.allowPrivilegeEscalation",
                            "allowPrivilegeEscalation is %s; level restricted requires false",
                            json_is_true(v) ? "true" : "unset");
    }
}

/*
 * runAsNonRoot (1.35+): true on the pod or on every container, never false;
 * not required of a pod in a user namespace (hostUsers: false).
 */
static void check_run_as_non_root(const struct pod *p)
{
    if (p->user_namespace) {
        return;
    }
    const json_t *pod_value = member(p->sc, "runAsNonRoot");
    if (json_is_false(pod_value)) {
        pl_report_add(p->out, PL_SCOPE_POD_SPEC, "securityContext.runAsNonRoot",
                      "runAsNonRoot: false is not allowed at level restricted "
                      "(set runAsNonRoot: true)");
    }
    struct pl_container_iter it;
    struct pl_container c;
    pl_container_iter_init(&it, p->spec, PL_CTR_ALL);
    while (pl_container_iter_next(&it, &c)) {
        const json_t *v = member(security_context(c.json), "runAsNonRoot");
        if (json_is_false(v)) {
            pl_report_container(p->out, &c, "securityContext.runAsNonRoot",
                                "runAsNonRoot: false is not allowed at level restricted "
                                "(set runAsNonRoot: true)");
        } else if (!json_is_true(v) && !json_is_boolean(pod_value)) {
            /* Unset here and on the pod. (Under a pod-level false, reported above, the
             * one thing to fix is the pod.) */
            pl_report_container(p->out, &c, "securityContext.runAsNonRoot",
                                "runAsNonRoot is set neither here nor on the pod; level "
                                "restricted requires true");
        }
    }
}

/* runAsUser (1.35+): never 0 (root); not checked for a pod in a user namespace. */
static void check_run_as_user(const struct pod *p)
{
    if (p->user_namespace) {
        return;
    }
    const char *const msg = "runAsUser: 0 (root) is not allowed at level restricted "
                            "(use a non-zero UID)";
    long long uid = -1;
    if (pl_json_integer(p->sc, "runAsUser", &uid) && uid == 0) {
        pl_report_add(p->out, PL_SCOPE_POD_SPEC, "securityContext.runAsUser", "%s", msg);
    }
    struct pl_container_iter it;
    struct pl_container c;
    pl_container_iter_init(&it, p->spec, PL_CTR_ALL);
    while (pl_container_iter_next(&it, &c)) {
        uid = -1;
        if (pl_json_integer(security_context(c.json), "runAsUser", &uid) && uid == 0) {
            pl_report_container(p->out, &c, "securityContext.runAsUser", "%s", msg);
        }
    }
}

/*
 * seccompProfile_restricted (1.25+): RuntimeDefault or Localhost, set on the
 * pod or on every container; Windows pods are exempt.
 */
static void check_seccomp_restricted(const struct pod *p)
{
    if (p->windows) {
        return;
    }
    bool pod_ok = report_bad_seccomp(p, "restricted");
    if (pod_ok || member(p->sc, "seccompProfile")) {
        return; /* a good pod-level profile covers the rest; a bad one is reported */
    }
    struct pl_container_iter it;
    struct pl_container c;
    pl_container_iter_init(&it, p->spec, PL_CTR_ALL);
    while (pl_container_iter_next(&it, &c)) {
        if (!member(security_context(c.json), "seccompProfile")) {
            pl_report_container(p->out, &c, "securityContext.seccompProfile",
                                "no seccomp profile here or on the pod; level restricted "
                                "requires RuntimeDefault or Localhost");
        }
    }
}

/* Whether a capabilities.drop list holds "ALL" (exactly, as upstream compares). */
static bool drops_all(const json_t *caps)
{
    const json_t *drop = pl_json_array(caps, "drop");
    for (size_t i = 0; i < json_array_size(drop); i++) {
        if (string_is(json_array_get(drop, i), "ALL")) {
            return true;
        }
    }
    return false;
}

static bool net_bind_service(const json_t *cap)
{
    return string_is(cap, "NET_BIND_SERVICE");
}

/*
 * capabilities_restricted (1.25+): drop ALL, add at most NET_BIND_SERVICE;
 * Windows pods are exempt.
 */
static void check_capabilities_restricted(const struct pod *p)
{
    if (p->windows) {
        return;
    }
    struct pl_container_iter it;
    struct pl_container c;
    pl_container_iter_init(&it, p->spec, PL_CTR_ALL);
    while (pl_container_iter_next(&it, &c)) {
        const json_t *caps = pl_json_object(security_context(c.json), "capabilities");
        if (!drops_all(caps)) {
            pl_report_container(p->out, &c, "securityContext.capabilities.drop",
                                "level restricted requires dropping all capabilities "
                                "(set capabilities.drop: [\"ALL\"])");
        }
        report_added_capabilities(p, &c, caps, net_bind_service,
                                  "restricted (only NET_BIND_SERVICE may be added)");
    }
}

/* cgroupOptions (upstream master): cgroupOptions.mountMode unset or ReadOnly. */
static void check_cgroup_options(const struct pod *p)
{
    struct pl_container_iter it;
    struct pl_container c;
    pl_container_iter_init(&it, p->spec, PL_CTR_ALL);
    while (pl_container_iter_next(&it, &c)) {
        const json_t *opts = pl_json_object(security_context(c.json), "cgroupOptions");
        const json_t *mode = member(opts, "mountMode");
        if (mode && !string_is(mode, "ReadOnly")) {
            pl_report_container(p->out, &c, "securityContext.cgroupOptions.mountMode",
                                "cgroup mountMode %s is not allowed at level restricted "
                                "(use ReadOnly)",
                                shown(p->out, mode));
        }
    }
}

/* ------------------------------------------------------------------------
 * The check table: upstream's checks at "latest", in upstream's order of
 * registration, with the levels whose evaluation runs them. A baseline check
 * that a restricted check overrides runs at baseline only.
 */

struct ps_check {
    const char *id;  /* upstream check id */
    unsigned levels; /* LEVEL_* bits */
    void (*fn)(const struct pod *p);
};

static const struct ps_check checks[] = {
    {"hostNamespaces", LEVEL_BOTH, check_host_namespaces},
    {"privileged", LEVEL_BOTH, check_privileged},
    {"capabilities_baseline", LEVEL_BASELINE, check_capabilities_baseline},
    {"hostPathVolumes", LEVEL_BASELINE, check_host_path_volumes},
    {"hostPorts", LEVEL_BOTH, check_host_ports},
    {"appArmorProfile", LEVEL_BOTH, check_apparmor},
    {"seLinuxOptions", LEVEL_BOTH, check_selinux},
    {"procMount", LEVEL_BASELINE, check_proc_mount_baseline},
    {"seccompProfile_baseline", LEVEL_BASELINE, check_seccomp_baseline},
    {"sysctls", LEVEL_BOTH, check_sysctls},
    {"windowsHostProcess", LEVEL_BOTH, check_windows_host_process},
    {"hostProbesAndHostLifecycle", LEVEL_BOTH, check_probe_hosts},
    {"ulimits", LEVEL_BOTH, check_ulimits},
    {"restrictedVolumes", LEVEL_RESTRICTED, check_restricted_volumes},
    {"allowPrivilegeEscalation", LEVEL_RESTRICTED, check_privilege_escalation},
    {"runAsNonRoot", LEVEL_RESTRICTED, check_run_as_non_root},
    {"runAsUser", LEVEL_RESTRICTED, check_run_as_user},
    {"seccompProfile_restricted", LEVEL_RESTRICTED, check_seccomp_restricted},
    {"capabilities_restricted", LEVEL_RESTRICTED, check_capabilities_restricted},
    {"procMount_restricted", LEVEL_RESTRICTED, check_proc_mount_restricted},
    {"cgroupOptions", LEVEL_RESTRICTED, check_cgroup_options},
};

/* Runs every check of level on spec; meta may be NULL. */
static void evaluate(enum level level, const json_t *spec, const json_t *meta,
                     struct pl_report *out)
{
    const struct pod p = {
        .spec = spec,
        .meta = meta,
        .sc = pl_json_object(spec, "securityContext"),
        .out = out,
        .windows = string_is(member(pl_json_object(spec, "os"), "name"), "windows"),
        .user_namespace = !pl_json_bool(spec, "hostUsers", true),
    };
    for (size_t i = 0; i < PL_ARRAY_SIZE(checks); i++) {
        if (checks[i].levels & (unsigned)level) {
            checks[i].fn(&p);
        }
    }
}

static void check(const struct pl_eval *ev, const json_t *spec, struct pl_report *out)
{
    const struct params *params = ev->params;
    evaluate(levels[params->level], spec, ev->obj ? ev->obj->pod_meta : NULL, out);
}

const struct pl_policy pl_policy_pod_security = {
    .id = "pod-security",
    .default_mode = PL_MODE_ENFORCE,
    .summary = "the Pod Security Standards at the configured level, with the verdicts of the "
               "upstream Pod Security Admission at version \"latest\"",
    .never_exempt = true,
    .every_pod = true,
    .params = &param_set,
    .check = check,
};
