#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# End-to-end test of the namespace view (server/nsview.c over kube/listwatch.c) against a real
# kube-apiserver from /work/shared/k8s, driven through nswatch_probe.
#
#   test/nswatch/run.sh [BUILD_DIR]      (default: build; the probe is
#                                         BUILD_DIR/test/unit/server/nswatch_probe)
#
# It starts the cluster in its own state dir (or uses the one already running
# there), then checks with kubectl that: a listed namespace is in the view;
# annotating, changing and removing a plimsoll.dev/ annotation shows within
# 2 s (other annotations never do); a namespace created later appears and a
# deleted one disappears; a bearer-token kubeconfig, a client-certificate
# kubeconfig and a tokenFile + CA-file kubeconfig all sync; a wrong CA and a
# wrong token do not; after the API server is stopped the last view stays
# and staleness grows, the outage is logged without a line per retry, and
# after a restart (etcd data kept) the watcher reconnects and sees a change
# made after the restart; SIGTERM stops the probe cleanly; and valgrind finds
# no leak in a probe run. Prints `ok - ...` / `not ok - ...` and ends with
# `N passed, N failed` (exit 1 if anything failed). The cluster is stopped at
# the end (PLIMSOLL_NSWATCH_KEEP_CLUSTER=1 keeps it running).
#
# Environment: PLIMSOLL_K8S_KIT (default /work/shared/k8s), PLIMSOLL_K8S_DIR
# (default /tmp/plimsoll-k8s-ns, with bin -> ~/.cache/plimsoll-k8s/bin), the
# PLIMSOLL_K8S_*_PORT variables (defaults 17443, 13379, 13380, 21257, so that
# other clusters on this host are left alone), PLIMSOLL_NSWATCH_VALGRIND=0 to
# skip the valgrind run.
set -uo pipefail
# Everything is on loopback: no proxy from the environment (curl and kubectl honour them).
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
PROBE=$BUILD/test/unit/server/nswatch_probe
KIT=${PLIMSOLL_K8S_KIT:-/work/shared/k8s}
export PLIMSOLL_K8S_DIR=${PLIMSOLL_K8S_DIR:-/tmp/plimsoll-k8s-ns}
export PLIMSOLL_K8S_API_PORT=${PLIMSOLL_K8S_API_PORT:-17443}
export PLIMSOLL_K8S_ETCD_PORT=${PLIMSOLL_K8S_ETCD_PORT:-13379}
export PLIMSOLL_K8S_ETCD_PEER_PORT=${PLIMSOLL_K8S_ETCD_PEER_PORT:-13380}
export PLIMSOLL_K8S_KCM_PORT=${PLIMSOLL_K8S_KCM_PORT:-21257}
STATE=$PLIMSOLL_K8S_DIR
SHARED_BIN=${PLIMSOLL_K8S_SHARED_BIN:-$HOME/.cache/plimsoll-k8s/bin}

PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); echo "ok - $*"; }
not_ok() { FAIL=$((FAIL + 1)); echo "not ok - $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else not_ok "$what"; fi; }
say() { echo "# $*"; }

if [ ! -x "$PROBE" ]; then
  echo "run.sh: $PROBE is missing: build with ninja -C $BUILD first" >&2
  exit 2
fi

TMP=$(mktemp -d /tmp/pl-nswatch-e2e-XXXXXX)
PROBE_PID=
NS_A=nsw-$$-a
NS_B=nsw-$$-b

cleanup() {
  [ -n "$PROBE_PID" ] && kill -TERM "$PROBE_PID" 2>/dev/null && wait "$PROBE_PID" 2>/dev/null
  if [ -n "${KUBECTL:-}" ]; then
    "$KUBECTL" delete namespace "$NS_A" "$NS_B" --ignore-not-found --wait=false >/dev/null 2>&1
  fi
  if [ "${PLIMSOLL_NSWATCH_KEEP_CLUSTER:-0}" != 1 ]; then
    "$KIT/stop.sh" >/dev/null 2>&1
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- cluster ----
# build.sh is idempotent: on a fresh machine it builds once (~5 minutes) into ~/.cache.
"$KIT/build.sh" >"$TMP/build.log" 2>&1 || { tail -20 "$TMP/build.log" >&2; not_ok "shared/k8s/build.sh"; echo "$PASS passed, $FAIL failed"; exit 1; }
mkdir -p "$STATE"
[ -e "$STATE/bin" ] || ln -s "$SHARED_BIN" "$STATE/bin"
start_cluster() {
  local env
  env=$("$KIT/start.sh" 2>"$TMP/start.log") || { cat "$TMP/start.log" >&2; return 1; }
  eval "$env"
}
if ! start_cluster; then
  not_ok "cluster starts ($KIT/start.sh)"
  echo "$PASS passed, $FAIL failed"
  exit 1
fi
KUBECTL=$PLIMSOLL_K8S_KUBECTL
kc() { "$KUBECTL" --kubeconfig "$STATE/kubeconfig" "$@"; }
say "kube-apiserver at $PLIMSOLL_K8S_API_URL (state $STATE)"

# ---- probe helpers ----
OUT=$TMP/probe.out
ERR=$TMP/probe.err
start_probe() { # kubeconfig, output file, error file
  "$PROBE" --kubeconfig "$1" --ns "$NS_A" --ns "$NS_B" --every 100 >"$2" 2>"$3" &
  PROBE_PID=$!
}
last() { tail -n 1 "${1:-$OUT}" 2>/dev/null; }
view() { last "${2:-$OUT}" | jq -cS --arg n "$1" '.views[$n]' 2>/dev/null; }
synced() { [ "$(last "${1:-$OUT}" | jq -r .synced 2>/dev/null)" = true ]; }
stale() { last | jq -e '.staleness > 0' >/dev/null 2>&1; }
fresh() { last | jq -e '.staleness == 0' >/dev/null 2>&1; }
# wait_until SECONDS CMD...: polls every 0.1 s; records the time taken in WAITED.
wait_until() {
  local limit=$1 start now
  shift
  start=$(date +%s.%N)
  while :; do
    if "$@"; then
      now=$(date +%s.%N)
      WAITED=$(echo "$now - $start" | bc)
      return 0
    fi
    now=$(date +%s.%N)
    if [ "$(echo "$now - $start > $limit" | bc)" = 1 ]; then
      WAITED=$limit
      return 1
    fi
    sleep 0.1
  done
}
view_is() { [ "$(view "$1")" = "$2" ]; }

# ---- the namespace view through the token-only reader ----
kc create namespace "$NS_A" >/dev/null
start_probe "$STATE/kubeconfig-namespace-reader" "$OUT" "$ERR"
check "synced through the namespace-reader token kubeconfig" wait_until 15 synced
check "a listed namespace is in the view with no annotations" view_is "$NS_A" '{}'
check "staleness is 0 while the watch is up" wait_until 3 fresh

kc annotate namespace "$NS_A" plimsoll.dev/mode=warn example.com/owner=team-a >/dev/null
check "annotate: plimsoll.dev/mode=warn shows within 2 s (other keys never)" \
  wait_until 2 view_is "$NS_A" '{"plimsoll.dev/mode":"warn"}'
say "took ${WAITED}s"

kc create namespace "$NS_B" >/dev/null
check "a namespace created after the list appears within 2 s" wait_until 2 view_is "$NS_B" '{}'

kc annotate namespace "$NS_A" --overwrite plimsoll.dev/mode=enforce plimsoll.dev/image-tag=off >/dev/null
check "change: mode=enforce and a second key show within 2 s" \
  wait_until 2 view_is "$NS_A" '{"plimsoll.dev/image-tag":"off","plimsoll.dev/mode":"enforce"}'
say "took ${WAITED}s"

kc annotate namespace "$NS_A" plimsoll.dev/mode- >/dev/null
check "remove: the removed annotation is gone within 2 s" \
  wait_until 2 view_is "$NS_A" '{"plimsoll.dev/image-tag":"off"}'
say "took ${WAITED}s"

kc annotate namespace "$NS_A" example.com/other=1 >/dev/null
sleep 0.5
check "an unrelated annotation changes nothing" view_is "$NS_A" '{"plimsoll.dev/image-tag":"off"}'

kc delete namespace "$NS_B" --wait=true --timeout=90s >/dev/null 2>&1
gone() { ! kc get namespace "$NS_B" >/dev/null 2>&1; }
if wait_until 90 gone; then
  check "delete: the namespace leaves the view within 2 s of being deleted" \
    wait_until 2 view_is "$NS_B" 'null'
else
  not_ok "delete: namespace $NS_B still exists after 90 s (controller-manager?)"
fi

# ---- other credentials ----
probe_once() { # kubeconfig, want_synced(1|0), name
  local out=$TMP/once.out err=$TMP/once.err pid
  "$PROBE" --kubeconfig "$1" --ns "$NS_A" --every 100 --for 4000 >"$out" 2>"$err" &
  pid=$!
  if [ "$2" = 1 ]; then
    wait_until 4 synced "$out"
    local r=$?
    [ $r = 0 ] && [ "$(view "$NS_A" "$out")" = '{"plimsoll.dev/image-tag":"off"}' ]
    r=$?
    kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null
    return $r
  fi
  wait $pid 2>/dev/null
  ! synced "$out" && grep -q "$3" "$err"
}
check "a client-certificate kubeconfig (admin) syncs" probe_once "$STATE/kubeconfig" 1 ""

install -m 600 "$STATE/pki/namespace-reader.token" "$TMP/token"
mkdir -p "$TMP/sub"
cat >"$TMP/sub/kubeconfig" <<EOF
apiVersion: v1
kind: Config
current-context: files
contexts:
- name: files
  context: {cluster: c, user: u}
clusters:
- name: c
  cluster:
    server: $PLIMSOLL_K8S_API_URL
    certificate-authority: ../ca.crt
users:
- name: u
  user:
    tokenFile: ../token
EOF
cp "$STATE/pki/ca.crt" "$TMP/ca.crt"
check "a kubeconfig with a CA file and a tokenFile (relative paths) syncs" \
  probe_once "$TMP/sub/kubeconfig" 1 ""

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/other.key" -out "$TMP/other.crt" \
  -days 1 -subj /CN=other-ca >/dev/null 2>&1
sed "s#certificate-authority: ../ca.crt#certificate-authority: $TMP/other.crt#" \
  "$TMP/sub/kubeconfig" >"$TMP/sub/wrong-ca"
check "a kubeconfig with another CA does not sync (certificate refused, logged)" \
  probe_once "$TMP/sub/wrong-ca" 0 'certificate'

echo "not-a-valid-token-$$" >"$TMP/bad-token"
sed "s#tokenFile: ../token#tokenFile: $TMP/bad-token#" "$TMP/sub/kubeconfig" >"$TMP/sub/bad-token"
check "a kubeconfig with a wrong token does not sync (401 logged)" \
  probe_once "$TMP/sub/bad-token" 0 'HTTP 401'

# ---- API server restart ----
lines_before=$(wc -l <"$ERR")
say "stopping the cluster (etcd data kept)"
"$KIT/stop.sh" 2>"$TMP/stop.log" || cat "$TMP/stop.log" >&2
check "staleness > 0 while the API server is down" wait_until 15 stale
sleep 3
check "the last view stays while the API server is down" \
  view_is "$NS_A" '{"plimsoll.dev/image-tag":"off"}'
check "still synced while the API server is down" synced
s1=$(last | jq .staleness)
sleep 1
s2=$(last | jq .staleness)
check "staleness grows while the API server is down ($s1 -> $s2)" \
  test "$(echo "$s2 > $s1" | bc)" = 1
check "the connection loss is logged" grep -q 'request to the API server failed' "$ERR"

say "starting the cluster again"
if ! start_cluster; then
  not_ok "cluster restarts"
else
  kc annotate namespace "$NS_A" plimsoll.dev/mode=off >/dev/null
  check "after the restart the watcher reconnects and sees a change made after it" \
    wait_until 45 view_is "$NS_A" '{"plimsoll.dev/image-tag":"off","plimsoll.dev/mode":"off"}'
  say "took ${WAITED}s after the annotate"
  check "staleness is back to 0" wait_until 5 fresh
  check "the recovery is logged" grep -q 'API server reachable again' "$ERR"
  outage_lines=$(tail -n +"$((lines_before + 1))" "$ERR" | grep -c '"level":"warn"')
  check "the outage is logged without a line per retry ($outage_lines warn lines)" \
    test "$outage_lines" -le 10
  kc annotate namespace "$NS_A" plimsoll.dev/mode=warn --overwrite >/dev/null
  check "the watch keeps working after the restart (another change within 2 s)" \
    wait_until 2 view_is "$NS_A" '{"plimsoll.dev/image-tag":"off","plimsoll.dev/mode":"warn"}'
fi

kill -TERM "$PROBE_PID" 2>/dev/null
wait "$PROBE_PID"
rc=$?
PROBE_PID=
check "SIGTERM stops the probe cleanly (exit $rc)" test "$rc" = 0

# ---- valgrind ----
if ldd "$PROBE" 2>/dev/null | grep -q libasan; then
  say "valgrind run skipped: the probe is built with a sanitizer"
elif [ "${PLIMSOLL_NSWATCH_VALGRIND:-1}" != 0 ] && command -v valgrind >/dev/null; then
  valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
    --log-file="$TMP/valgrind.log" \
    "$PROBE" --kubeconfig "$STATE/kubeconfig-namespace-reader" --ns "$NS_A" --every 200 \
    --for 8000 >"$TMP/vg.out" 2>"$TMP/vg.err" &
  vg=$!
  wait_until 6 synced "$TMP/vg.out"
  kc annotate namespace "$NS_A" plimsoll.dev/mode=enforce --overwrite >/dev/null
  wait "$vg"
  rc=$?
  check "valgrind: the probe syncs and sees a change" \
    test "$(view "$NS_A" "$TMP/vg.out")" = '{"plimsoll.dev/image-tag":"off","plimsoll.dev/mode":"enforce"}'
  lost=$(grep -E 'definitely lost|indirectly lost|ERROR SUMMARY' "$TMP/valgrind.log" | sed 's/^==[0-9]*== *//' | tr '\n' ';')
  check "valgrind: no leaks, no errors (exit $rc; $lost)" test "$rc" = 0
  [ "$rc" = 0 ] || cat "$TMP/valgrind.log" >&2
else
  say "valgrind run skipped"
fi

if [ "$FAIL" != 0 ]; then
  say "the probe's log (last 40 lines):"
  tail -n 40 "$ERR" | sed 's/^/#   /'
fi
echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
