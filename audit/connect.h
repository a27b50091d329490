/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Where `plimsoll audit` and `plimsoll dashboard` find the API server, as
 * kubectl would for a person and as `plimsoll serve` does in a pod: the
 * --kubeconfig file; else $KUBECONFIG (one path: merging several files is
 * not supported and is refused); else the in-cluster service account; else
 * ~/.kube/config. No logging.
 */
#ifndef PL_AUDIT_CONNECT_H
#define PL_AUDIT_CONNECT_H

#include "core/compiler.h"
#include "core/error.h"
#include "kube/client.h"

/**
 * A new API client. kubeconfig may be NULL (then the order above).
 *
 * @param ret  on success a client the caller frees with pl_kube_client_free()
 *             (or hands to pl_kube_listwatch_new(), which takes it).
 * @return 0; -ENOENT when no credentials were found at all; -EINVAL/-EIO
 *         with err filled for a broken kubeconfig or environment.
 */
PL_MUST_CHECK int pl_audit_connect(const char *kubeconfig, struct pl_kube_client **ret,
                                   struct pl_error *err);

#endif
