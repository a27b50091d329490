#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end tests against a real kube-apiserver (v1.20 from Debian's source,
# built and run by ../shared/k8s): plimsoll serve watches Namespaces with a
# kubeconfig that may only get/list/watch them, the API server calls it through
# webhook configurations (by URL, with our caBundle), and kubectl shows what a
# user would see; `plimsoll audit` is compared with `plimsoll check` on the same
# objects. Scenarios: test/e2e/run.py (audit: test/e2e/audit.py).
#
# The cluster gets its own state dir and ports, so it never touches a cluster a
# developer already runs; it is stopped and wiped at the end.
#   PLIMSOLL_BIN   the plimsoll binary (default build/cli/plimsoll)
#   PLIMSOLL_E2E_ONLY  one scenario group (scoping, controllers, chart, rotation)
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
kit=$(cd "$root/../shared/k8s" 2>/dev/null && pwd) || { echo "not ok - ../shared/k8s is missing"; echo "0 passed, 1 failed"; exit 1; }
bin=${PLIMSOLL_BIN:-$root/build/cli/plimsoll}

# Build once (about 5 minutes on 2 cores), cached under ~/.cache/plimsoll-k8s.
"$kit/build.sh" >/tmp/plimsoll-e2e-build.log 2>&1 || { tail -20 /tmp/plimsoll-e2e-build.log; echo "not ok - shared/k8s/build.sh"; echo "0 passed, 1 failed"; exit 1; }

export PLIMSOLL_K8S_DIR=${PLIMSOLL_E2E_STATE:-/tmp/plimsoll-e2e-k8s}
mkdir -p "$PLIMSOLL_K8S_DIR"
[ -e "$PLIMSOLL_K8S_DIR/bin" ] || ln -s "${HOME}/.cache/plimsoll-k8s/bin" "$PLIMSOLL_K8S_DIR/bin"
# Free ports chosen now and kept for the whole run: the API server restart in
# the scenarios must come back on the same port that the kubeconfigs name.
read -r api etcd peer kcm < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(4)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])')
export PLIMSOLL_K8S_API_PORT=${PLIMSOLL_K8S_API_PORT:-$api}
export PLIMSOLL_K8S_ETCD_PORT=${PLIMSOLL_K8S_ETCD_PORT:-$etcd}
export PLIMSOLL_K8S_ETCD_PEER_PORT=${PLIMSOLL_K8S_ETCD_PEER_PORT:-$peer}
export PLIMSOLL_K8S_KCM_PORT=${PLIMSOLL_K8S_KCM_PORT:-$kcm}

cleanup() { "$kit/stop.sh" --wipe >/dev/null 2>&1; }
trap cleanup EXIT
"$kit/stop.sh" --wipe >/dev/null 2>&1
env_lines=$("$kit/start.sh" 2>/tmp/plimsoll-e2e-start.log) || { tail -20 /tmp/plimsoll-e2e-start.log; echo "not ok - shared/k8s/start.sh"; echo "0 passed, 1 failed"; exit 1; }
eval "$env_lines"

python3 "$root/test/e2e/run.py" --plimsoll "$bin" --kit "$kit" --state "$PLIMSOLL_K8S_DIR" \
  ${PLIMSOLL_E2E_ONLY:+--only "$PLIMSOLL_E2E_ONLY"}
