#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/apiserver.sh: what a `kubectl apply` pays for plimsoll, through the
# kit's real kube-apiserver (../shared/k8s: v1.20, etcd, no kubelet). Pod
# CREATEs over keep-alive HTTPS at 1 and 10 concurrent clients, in four modes
# taking turns in every round: no webhook, plimsoll with every policy off,
# plimsoll validating, plimsoll validating + mutating; p50 and p99 of the
# median window and their ratio to the no-webhook windows of the same run
# (bench/apiserver.py does the work; docs/design/benchmark.md explains it).
#
# The cluster runs in its own state dir (PLIMSOLL_K8S_DIR, default
# /tmp/plimsoll-bench-k8s) on free ports, without kube-controller-manager,
# and is stopped and wiped at the end, with everything the run created.
#
#   bench/apiserver.sh           3 rounds of 4 s windows (about 2 minutes)
#   bench/apiserver.sh --quick   2 rounds of 2 s windows (about 1 minute)
#   bench/apiserver.sh --smoke   1 round of 1 s windows at most 50 Pods each: the
#                                harness checked end to end (CI's suite apibench)
#   bench/apiserver.sh --idle    also a create after 40 s without reviews, 3 times
#                                for each idle timeout of plimsoll's (30 s, 120 s):
#                                does the API server pay a new connection (about
#                                4 more minutes)
#
# Environment: PLIMSOLL_BIN (default build-bench/cli/plimsoll, built when
# missing), PLIMSOLL_K8S_DIR, PLIMSOLL_APIBENCH_RAW (append raw lines there).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
KIT=$(cd "$ROOT/../shared/k8s" 2>/dev/null && pwd) || { echo "apiserver.sh: ../shared/k8s is missing" >&2; exit 2; }
ROUNDS=3; SECONDS_=4; MAX=2000; IDLE=0
for arg in "$@"; do
  case "$arg" in
    --quick) ROUNDS=2; SECONDS_=2 ;;
    --smoke) ROUNDS=1; SECONDS_=1; MAX=50 ;;
    --idle) IDLE=40 ;;
    -h|--help) sed -n '4,/^set -euo/p' "$0" | sed -n 's/^# \{0,1\}//p'; exit 0 ;;
    *) echo "apiserver.sh: unknown argument $arg (see --help)" >&2; exit 2 ;;
  esac
done
BIN=${PLIMSOLL_BIN:-$ROOT/build-bench/cli/plimsoll}
if [ ! -x "$BIN" ]; then
  [ -d "$ROOT/build-bench" ] || meson setup "$ROOT/build-bench" --buildtype=release -Db_ndebug=false -Dtests=disabled >/dev/null
  ninja -C "$ROOT/build-bench" >/dev/null
fi

"$KIT/build.sh" >/tmp/plimsoll-apibench-build.log 2>&1 || { tail -20 /tmp/plimsoll-apibench-build.log >&2; exit 1; }
export PLIMSOLL_K8S_DIR=${PLIMSOLL_K8S_DIR:-/tmp/plimsoll-bench-k8s}
mkdir -p "$PLIMSOLL_K8S_DIR"
[ -e "$PLIMSOLL_K8S_DIR/bin" ] || ln -s "${PLIMSOLL_K8S_CACHE:-$HOME/.cache/plimsoll-k8s}/bin" "$PLIMSOLL_K8S_DIR/bin"
read -r api etcd peer < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(3)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])')
export PLIMSOLL_K8S_API_PORT=$api PLIMSOLL_K8S_ETCD_PORT=$etcd PLIMSOLL_K8S_ETCD_PEER_PORT=$peer
export WITH_KCM=0

WORK=$(mktemp -d /tmp/plimsoll-apibench.XXXXXX)
cleanup() {
  "$KIT/stop.sh" --wipe >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
"$KIT/stop.sh" --wipe >/dev/null 2>&1 || true
env_lines=$("$KIT/start.sh" 2>"$WORK/start.log") || { tail -20 "$WORK/start.log" >&2; exit 1; }
eval "$env_lines"
python3 "$ROOT/bench/gen_bodies.py" "$WORK" >/dev/null
echo "apiserver.sh: load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
# Bounded: rounds x 4 modes x 2 concurrencies windows, each at most SECONDS_ and MAX Pods.
timeout $(( ROUNDS * 8 * (SECONDS_ + 15) + 60 + IDLE * 6 * 2 )) \
  python3 "$ROOT/bench/apiserver.py" --plimsoll "$BIN" --state "$PLIMSOLL_K8S_DIR" \
    --api-url "$PLIMSOLL_K8S_API_URL" --bodies "$WORK" --config "$ROOT/bench/config.yaml" \
    --seconds "$SECONDS_" --rounds "$ROUNDS" --max-objects "$MAX" --idle-gap "$IDLE" \
    ${PLIMSOLL_APIBENCH_RAW:+--raw "$PLIMSOLL_APIBENCH_RAW"}
