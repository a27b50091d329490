/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Credentials for the audit commands (see connect.h).
 */
#include "audit/connect.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kube/kubeconfig.h"

/* The credentials, in kubectl's order of precedence. */
static int load(const char *kubeconfig, struct pl_kube_credentials *creds, struct pl_error *err)
{
    if (kubeconfig) {
        return pl_kubeconfig_load(kubeconfig, creds, err);
    }
    const char *env = getenv("KUBECONFIG");
    if (env && *env) {
        if (strchr(env, ':')) {
            return pl_error_set(err, "", 0,
                                "KUBECONFIG names several files; plimsoll reads one: pass "
                                "--kubeconfig FILE");
        }
        return pl_kubeconfig_load(env, creds, err);
    }
    int r = pl_kube_in_cluster(NULL, creds, err);
    if (r != -ENOENT) {
        return r;
    }
    const char *home = getenv("HOME");
    char path[4096];
    if (!home || !*home ||
        (size_t)snprintf(path, sizeof(path), "%s/.kube/config", home) >= sizeof(path) ||
        access(path, F_OK) != 0) {
        pl_error_set(err, "", 0,
                     "no credentials for the API server: no --kubeconfig, no KUBECONFIG, not "
                     "in a cluster, no ~/.kube/config");
        return -ENOENT;
    }
    return pl_kubeconfig_load(path, creds, err);
}

int pl_audit_connect(const char *kubeconfig, struct pl_kube_client **ret, struct pl_error *err)
{
    struct pl_kube_credentials creds;
    pl_kube_credentials_init(&creds);
    int r = load(kubeconfig, &creds, err);
    if (r < 0) {
        pl_kube_credentials_finish(&creds);
        return r;
    }
    return pl_kube_client_new(&creds, ret, err);
}
