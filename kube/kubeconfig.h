/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Credentials for talking to the Kubernetes API server, from a kubeconfig
 * file or from the in-cluster service account.
 *
 * A kubeconfig is read the way kubectl reads it, for the part plimsoll needs:
 * current-context selects a context, whose cluster gives the server URL and
 * the CA (certificate-authority file or certificate-authority-data, or
 * insecure-skip-tls-verify), and whose user gives a client certificate and
 * key (files or inline -data) and/or a bearer token (token, or tokenFile,
 * which wins and is re-read on every connection). Relative file paths are
 * resolved against the kubeconfig's directory. Auth plugins (exec,
 * auth-provider), basic auth and tls-server-name are refused with a reason
 * rather than ignored. In-cluster: KUBERNETES_SERVICE_HOST/PORT plus token
 * and ca.crt in the service-account directory.
 *
 * A server URL carrying user information (user:password@) is refused: the
 * URL is logged. The CA and the client certificate must be PEM X.509
 * certificates that GnuTLS decodes, checked when they are read (load time,
 * and each re-read), so that a bad CA fails at start, not at first connect.
 *
 * Everything read is bounded (kubeconfig 8 MiB, certificate and key files
 * 1 MiB, token files 64 KiB). No logging here: errors go to struct pl_error.
 */
#ifndef PL_KUBE_KUBECONFIG_H
#define PL_KUBE_KUBECONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "core/compiler.h"
#include "core/error.h"

#define PL_KUBE_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"
/* A kubeconfig is a few KiB; one with a hundred clusters' certificates inline
 * stays under 1 MiB. Past this it is refused before it is parsed. */
#define PL_KUBECONFIG_MAX      (2u * 1024u * 1024u)
#define PL_KUBE_PEM_MAX        (1024u * 1024u)
#define PL_KUBE_TOKEN_MAX      (64u * 1024u)
#define PL_KUBE_SERVER_URL_MAX 2048u

/* PEM material: inline (from a -data field) or read from path. */
struct pl_kube_pem {
    char *path;        /* file it is read from (re-read by pl_kube_credentials_refresh), or NULL */
    char *data;        /* the PEM bytes, NUL-terminated, or NULL when not configured */
    size_t len;        /* bytes in data, without the NUL */
    bool certificates; /* must hold X.509 certificates (CA, client certificate): checked */
};

struct pl_kube_credentials {
    char *server;            /* base URL without trailing '/', "https://host:port[/prefix]" */
    struct pl_kube_pem ca;   /* trust anchors; none: the system CA store */
    struct pl_kube_pem cert; /* client certificate; set iff key is */
    struct pl_kube_pem key;  /* client private key */
    char *token;             /* static bearer token, or NULL */
    char *token_file;        /* bearer token file (wins over token), or NULL */
    char *proxy_url;         /* cluster proxy-url, or NULL (curl then honours *_proxy) */
    bool insecure;           /* insecure-skip-tls-verify: no server verification */
    char *source;            /* for logs: "kubeconfig <path> context <name>" or "in-cluster" */
};

/** Empties c (allocates nothing). */
void pl_kube_credentials_init(struct pl_kube_credentials *c);

/** Frees everything c holds; c is empty afterwards. Accepts NULL. */
void pl_kube_credentials_finish(struct pl_kube_credentials *c);

/**
 * Parses kubeconfig text (len bytes) without touching the file system:
 * relative paths are resolved against base_dir (NULL: kept as they are) and
 * recorded in the pem path fields and token_file, not read.
 *
 * @param ret  on success filled (caller frees with pl_kube_credentials_finish());
 *             untouched on failure.
 * @return 0, or -EINVAL with err filled (message and field path).
 */
PL_MUST_CHECK int pl_kubeconfig_parse(const char *text, size_t len, const char *base_dir,
                                      struct pl_kube_credentials *ret, struct pl_error *err);

/**
 * Reads the kubeconfig file at path, parses it and reads the files it names
 * (CA, client certificate and key; the token file is checked to be readable).
 *
 * @return 0 with *ret filled (free with pl_kube_credentials_finish()), or
 *         -EINVAL (bad content) / -EIO (a file cannot be read) with err filled.
 */
PL_MUST_CHECK int pl_kubeconfig_load(const char *path, struct pl_kube_credentials *ret,
                                     struct pl_error *err);

/**
 * In-cluster credentials: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT,
 * sa_dir/token (re-read on every connection) and sa_dir/ca.crt.
 *
 * @param sa_dir  service-account directory; NULL: PL_KUBE_SA_DIR.
 * @return 0 with *ret filled; -ENOENT when not in a cluster (the variables are
 *         unset, or no token is mounted: automountServiceAccountToken false);
 *         -EINVAL/-EIO with err filled when the environment is broken.
 */
PL_MUST_CHECK int pl_kube_in_cluster(const char *sa_dir, struct pl_kube_credentials *ret,
                                     struct pl_error *err);

/**
 * Re-reads the PEM files (CA, client certificate, key) that came from paths,
 * so that rotated files take effect on the next connection. On failure the
 * previous content stays in place. Not thread-safe (one owner).
 *
 * @return 0, or -EIO with err filled (the first file that failed).
 */
PL_MUST_CHECK int pl_kube_credentials_refresh(struct pl_kube_credentials *c, struct pl_error *err);

/**
 * The bearer token to send now: the token file's content (read afresh,
 * surrounding whitespace trimmed) when token_file is set, else token.
 *
 * @param ret  on success a new string (free with free()), or NULL when the
 *             credentials carry no token.
 * @return 0, or -EIO (unreadable) / -EINVAL (empty, too long, or characters
 *         that cannot go in an HTTP header) with err filled.
 */
PL_MUST_CHECK int pl_kube_bearer_token(const struct pl_kube_credentials *c, char **ret,
                                       struct pl_error *err);

#endif
