#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The whole test suite (STYLE rule 25), as CI runs it:
#   style      clang-format, banned calls, headers that compile alone
#   builds     gcc and clang with -Werror, and ASan+UBSan
#   unit       cmocka unit tests (gcc, clang, and under ASan+UBSan)
#   fuzz       fuzz targets replaying their corpus (ASan+UBSan)
#   cases      data-driven policy cases through `plimsoll check` (and under ASan)
#   cli        the command line: exit codes, help, output formats (and under ASan)
#   integration the real server on loopback over TLS (and under ASan), and the TLS and
#              connection hardening tests (test/tls: cipher suites, certificate validity,
#              slow clients, drain; also runnable alone as the suite "tls")
#   kube       the namespace watch against a hostile fake API server (test/kube):
#              request rates, RSS, CPU per event, staleness, SIGTERM time
#   valgrind   unit tests and a server run under valgrind
#   image      the Containerfile built daemonless (buildah, a debootstrap base) and checked
#   helm       helm lint/template of the chart, and plimsoll check over it
#   mutate     mutation cases: patches applied with python3-jsonpatch, reinvocation
#   prometheus the chart's alerts through promtool (check rules, unit tests firing and
#              silent), and Debian's prometheus scraping the real server: documented
#              series and types, alert expressions and every dashboard query (~20 s)
#   e2e        the namespace watch and a real kube-apiserver calling plimsoll, with a
#              CA rotation and back counted request by request (test/e2e/rotation.py,
#              about 1.5 min of the suite); plimsoll audit and dashboard against the same
#              API server (test/e2e/audit.py, dashboard.py: the page in Debian's chromium
#              via playwright-core, screenshot build-ci/logs/dashboard.png; reports.py:
#              OpenReports with the chart's CRD; about 45 s together)
#              (skipped with PLIMSOLL_SKIP_E2E=1)
#   apibench   bench/apiserver.sh --smoke: the end-to-end benchmark's harness through the
#              real kube-apiserver, every mode reached, no create failing (about 15 s;
#              skipped with PLIMSOLL_SKIP_E2E=1; the benchmark itself is not run by CI)
# Every suite prints its own lines; the last line of this script is the total
# "N passed, N failed". Logs: build-ci/logs/<suite>.log.
#   scripts/test.sh [SUITE...]     run only the named suites
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$root/build-ci
mkdir -p "$out/logs"

scripts/install-deps.sh --test || { echo "install-deps failed"; echo "0 passed, 1 failed"; exit 1; }

total_pass=0
total_fail=0
declare -A built=()

note() { printf '%s\n' "$*"; }

# add SUITE PASSED FAILED
add() {
  total_pass=$((total_pass + $2))
  total_fail=$((total_fail + $3))
  note "== $1: $2 passed, $3 failed"
}

# Runs a command whose last "N passed, N failed" line counts; a command that
# prints no such line counts as one test, judged by its exit status.
run_counted() {
  local name=$1; shift
  local log=$out/logs/$name.log
  "$@" >"$log" 2>&1
  local rc=$?
  local line
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
  grep -E '^not ok' "$log" | head -20
  if [ -n "$line" ]; then
    local p f
    p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
    f=$(echo "$line" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; tail -5 "$log"; fi
    add "$name" "$p" "$f"
  elif [ "$rc" -eq 0 ]; then
    add "$name" 1 0
  else
    tail -20 "$log"
    add "$name" 0 1
  fi
}

# Runs meson test in a build dir; counts meson's own summary.
run_meson() {
  local name=$1 dir=$2; shift 2
  local log=$out/logs/$name.log
  meson test -C "$dir" --print-errorlogs "$@" >"$log" 2>&1
  local rc=$?
  local ok fail
  ok=$(grep -E '^Ok:' "$log" | awk '{print $2}')
  fail=$(grep -E '^(Fail|Timeout|Unexpected Pass):' "$log" | awk '{s+=$NF} END {print s+0}')
  ok=${ok:-0}
  if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then fail=1; fi
  [ "$fail" -ne 0 ] && grep -E 'FAIL|TIMEOUT' "$log" | head -20
  add "$name" "$ok" "$fail"
}

# build NAME [meson setup args...]: one test; records success in built[NAME].
build() {
  local name=$1; shift
  local dir=$out/$name
  local log=$out/logs/build-$name.log
  if { [ -d "$dir" ] || meson setup "$dir" "$@" >"$log" 2>&1; } &&
     meson configure "$dir" "$@" >>"$log" 2>&1 && ninja -C "$dir" >>"$log" 2>&1; then
    built[$name]=1
    add "build-$name" 1 0
  else
    tail -30 "$log"
    add "build-$name" 0 1
  fi
}

want() {
  [ ${#selected[@]} -eq 0 ] && return 0
  local s
  for s in "${selected[@]}"; do [ "$s" = "$1" ] && return 0; done
  return 1
}
selected=("$@")

if want style; then
  run_counted format scripts/check-format.sh
  run_counted banned scripts/check-banned.sh
  run_counted headers scripts/check-headers.sh
fi

build gcc --buildtype=debugoptimized --werror -Db_ndebug=false
if want builds || want unit || [ ${#selected[@]} -eq 0 ]; then
  CC=clang build clang --buildtype=debugoptimized --werror
fi
build asan --buildtype=debug --werror -Db_sanitize=address,undefined -Db_lundef=false

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
gcc_bin=$out/gcc/cli/plimsoll
asan_bin=$out/asan/cli/plimsoll

if want unit; then
  [ -n "${built[gcc]:-}" ] && run_meson unit-gcc "$out/gcc" --suite unit
  [ -n "${built[clang]:-}" ] && run_meson unit-clang "$out/clang" --suite unit
  [ -n "${built[asan]:-}" ] && run_meson unit-asan "$out/asan" --suite unit
fi
if want fuzz && [ -n "${built[asan]:-}" ]; then
  run_meson fuzz-replay "$out/asan" --suite fuzz
fi
if want cases; then
  [ -n "${built[gcc]:-}" ] && run_counted cases python3 test/cases/run.py "$gcc_bin"
  [ -n "${built[asan]:-}" ] && run_counted cases-asan python3 test/cases/run.py "$asan_bin"
  # Upstream Pod Security Admission's own fixtures: same verdict as upstream.
  [ -n "${built[gcc]:-}" ] && run_counted psa-upstream python3 test/psa/convert.py "$gcc_bin" --quiet
fi
if want mutate; then
  # Each case: the patch applied with python3-jsonpatch, result checked, reinvocation empty.
  [ -n "${built[gcc]:-}" ] && run_counted mutate python3 test/mutate/run.py "$out/gcc"
  [ -n "${built[asan]:-}" ] && run_counted mutate-asan python3 test/mutate/run.py "$out/asan"
fi
if want cli; then
  [ -n "${built[gcc]:-}" ] && run_counted cli python3 test/cli/run.py "$gcc_bin"
  [ -n "${built[asan]:-}" ] && run_counted cli-asan python3 test/cli/run.py "$asan_bin"
fi
if want integration; then
  [ -n "${built[gcc]:-}" ] && run_counted integration python3 test/integration/run.py "$gcc_bin"
  [ -n "${built[asan]:-}" ] && run_counted integration-asan python3 test/integration/run.py "$asan_bin"
fi
if want integration || want tls; then
  [ -n "${built[gcc]:-}" ] && run_counted tls python3 test/tls/run.py "$gcc_bin"
  [ -n "${built[asan]:-}" ] && run_counted tls-asan python3 test/tls/run.py "$asan_bin"
fi
if want kube && [ -n "${built[gcc]:-}" ]; then
  # Bounded counts and ratios (not wall-clock): about a minute. Not under ASan,
  # whose RSS and CPU overheads would blur the bounds being checked.
  run_counted kube python3 test/kube/run.py "$gcc_bin"
fi
if want valgrind && [ -n "${built[gcc]:-}" ]; then
  run_meson valgrind-unit "$out/gcc" --suite unit --wrap='valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite -q'
  run_counted valgrind-server env PLIMSOLL_WRAPPER="valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite -q" \
    python3 test/integration/run.py "$gcc_bin" --quick
  # A handshake held across certificate rotations: the key it was given must stay alive.
  run_counted valgrind-tls env PLIMSOLL_WRAPPER="valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite -q" \
    python3 test/tls/run.py "$gcc_bin" --quick
fi
if want image; then
  run_counted image test/image/run.sh
fi
if want helm && [ -x test/helm/run.sh ]; then
  run_counted helm env PLIMSOLL_BIN="$gcc_bin" test/helm/run.sh
fi
if want prometheus && [ -n "${built[gcc]:-}" ]; then
  run_counted prometheus python3 test/prometheus/run.py "$gcc_bin"
fi
if want e2e && [ "${PLIMSOLL_SKIP_E2E:-0}" != 1 ]; then
  # Both need the real kube-apiserver of ../shared/k8s (built once, ~5 minutes, cached).
  [ -n "${built[gcc]:-}" ] && run_counted nswatch env PLIMSOLL_K8S_KIT="$root/../shared/k8s" \
    PLIMSOLL_K8S_DIR=/tmp/plimsoll-ci-nswatch test/nswatch/run.sh "$out/gcc"
  [ -n "${built[gcc]:-}" ] && run_counted e2e env PLIMSOLL_BIN="$gcc_bin" test/e2e/run.sh
fi

if want apibench && [ "${PLIMSOLL_SKIP_E2E:-0}" != 1 ] && [ -n "${built[gcc]:-}" ]; then
  run_counted apibench env PLIMSOLL_BIN="$gcc_bin" PLIMSOLL_K8S_DIR=/tmp/plimsoll-ci-apibench \
    bench/apiserver.sh --smoke
fi

echo
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ] && [ "$total_pass" -gt 0 ]
