#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/run.sh: plimsoll's performance benchmark in one command (about seven
# minutes on two cores). It installs what is missing (Debian 12), builds
# build-bench/ (release, asserts on), writes the request bodies, and then,
# with the server pinned to CPU 0 and every load generator to CPU 1:
#
#   - plimsoll serve --threads 1, every policy enforced, every mutation on
#     (bench/config.yaml): reviews/s at saturation (wrk, keep-alive, TLS;
#     /validate and /mutate windows in turn),
#     p50/p99/p99.9 at fixed rates of 1,000 and 5,000 reviews/s (loadgen,
#     open loop), a new TLS connection per request (full handshake, then
#     resumed; windows taking turns with nginx's), server CPU per review
#     (/proc/PID/task/*/schedstat), RSS;
#   - the physical limit on the same machine in the same run: nginx answering
#     the same POSTs over TLS 1.3 with a fixed AdmissionReview, plus the
#     jansson parse/respond floor (bench/floor.c);
#   - tail latency: the Deployment at 1,000 reviews/s in several windows,
#     plimsoll and nginx taking turns (median window reported), and between
#     them the machine's own stalls replayed at the same rate (bench/stalls.c:
#     about the tail a server answering in no time would have here);
#   - policy evaluation alone (bench/eval_bench.c), start-up to ready, idle
#     RSS and peak RSS with 3 MiB bodies in flight;
#
# and prints a Markdown report (docs/design/benchmark.md explains each
# figure). Traffic goes to 127.0.0.1 only; every step is bounded in time.
#
#   bench/run.sh            the full run
#   bench/run.sh --quick    shorter windows (about three minutes; noisier)
#   bench/run.sh --no-install   never call apt-get
#
# Environment: PLIMSOLL_BENCH_BUILD (build dir, default build-bench),
# PLIMSOLL_BENCH_KEEP=1 keeps the work directory (bodies, logs, raw lines).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${PLIMSOLL_BENCH_BUILD:-$ROOT/build-bench}
QUICK=0
INSTALL=1
for arg in "$@"; do
  case "$arg" in
    --quick) QUICK=1 ;;
    --no-install) INSTALL=0 ;;
    -h|--help) sed -n '4,/^set -euo/p' "$0" | sed -n 's/^# \{0,1\}//p'; exit 0 ;;
    *) echo "run.sh: unknown argument $arg (see --help)" >&2; exit 2 ;;
  esac
done

# Windows in seconds (wrk takes whole seconds only).
# CPU-cost figures are the best of REP windows (the least disturbed one: on a
# shared machine other tenants only ever add to a measured cost).
if [ "$QUICK" = 1 ]; then
  SAT=1; R1K=4; R5K=2; NEWC=1; WARM=0.5; EVAL_S=0.3; JIT=1; REP=2; TAILW=3
else
  SAT=2; R1K=10; R5K=5; NEWC=1.5; WARM=1; EVAL_S=0.5; JIT=3; REP=3; TAILW=5
fi
# In-process figures are short runs: more of them, each stage its least disturbed.
EVAL_REP=5
SERVER_CPU=0
LOAD_CPU=1
CONNS=16

log() { echo "run.sh: $*" >&2; }

# ---------------------------------------------------------------- packages
install_missing() {
  local want=(build-essential meson ninja-build pkg-config libmicrohttpd-dev libgnutls28-dev
              libjansson-dev libyaml-dev libssl-dev libcurl4-openssl-dev libpcre2-dev
              python3 curl openssl wrk nginx-light)
  local missing=()
  for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  # nginx-light, nginx-core, nginx-full or nginx-extras all do.
  if command -v nginx >/dev/null 2>&1; then
    local kept=()
    for p in "${missing[@]}"; do [ "$p" = nginx-light ] || kept+=("$p"); done
    missing=("${kept[@]+"${kept[@]}"}")
  fi
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$INSTALL" = 0 ]; then
    log "missing packages: ${missing[*]} (rerun without --no-install, or install them)"; exit 2
  fi
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# ------------------------------------------------------------------ helpers
# kv "LINE" KEY: the value of KEY=value in LINE ("" when absent).
kv() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p" | head -1; }
# calc EXPR: floating-point arithmetic, two decimals.
calc() { awk "BEGIN { printf \"%.2f\", $1 }"; }
calc0() { awk "BEGIN { printf \"%.0f\", $1 }"; }
# cpu_ns FIELD PID...: nanoseconds on a CPU (FIELD 1) or runnable but waiting
# for one (FIELD 2), summed over every thread of the processes.
cpu_ns() {
  local f=$1 p t=0 v
  shift
  for p in "$@"; do
    v=$(cat /proc/"$p"/task/*/schedstat 2>/dev/null | awk -v f="$f" '{ s += $f } END { printf "%.0f", s }')
    t=$(awk "BEGIN { printf \"%.0f\", $t + ${v:-0} }")
  done
  echo "$t"
}
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' /proc/"$1"/status; }
free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$(( 20000 + RANDOM % 30000 ))
    if ! (exec 3<>/dev/tcp/127.0.0.1/"$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  log "no free port found"; exit 1
}

WORK=""
SERVER_PID=""
NGINX_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait_gone "$SERVER_PID"
  [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null && wait_gone "$NGINX_PID"
  if [ -n "$WORK" ] && [ "${PLIMSOLL_BENCH_KEEP:-0}" != 1 ]; then
    rm -rf "$WORK"
  elif [ -n "$WORK" ]; then
    log "work directory kept: $WORK"
  fi
}
# wait_gone PID: up to 10 s for the process to exit (a zombie counts as gone).
wait_gone() {
  for _ in $(seq 1 100); do
    [ "$(awk '{ print $3 }' /proc/"$1"/stat 2>/dev/null || echo Z)" = Z ] && return 0
    sleep 0.1
  done
}
trap cleanup EXIT

# wrk_sat URL BODY SECONDS PID...: one second of warm-up, then the best of REP
# wrk windows at saturation.
wrk_sat() {
  BODY=$2 taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d1s --timeout 5s -s "$ROOT/bench/post.lua" \
    "$1" >/dev/null
  best_of "$REP" cpu_us_per_req wrk_once "$@"
}

# wrk_alt BODY SECONDS PID...: /validate and /mutate at saturation in turn, REP
# windows each after a second of warm-up of both, so that both meet the same
# noise (their ratio is a target); prints the best /validate line, then the best
# /mutate line, each with errors_all= of its REP windows.
wrk_alt() {
  local body=$1 secs=$2
  shift 2
  local ep line v
  declare -A best bestv all
  for ep in validate mutate; do
    BODY=$body taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d1s --timeout 5s \
      -s "$ROOT/bench/post.lua" "$URL/$ep" >/dev/null
    best[$ep]=""
    bestv[$ep]=""
    all[$ep]=0
  done
  for _ in $(seq 1 "$REP"); do
    for ep in validate mutate; do
      line=$(wrk_once "$URL/$ep" "$body" "$secs" "$@")
      all[$ep]=$(calc0 "${all[$ep]} + $(errs "$line")")
      v=$(kv "$line" cpu_us_per_req)
      [ -n "$v" ] || continue
      if [ -z "${best[$ep]}" ] || awk "BEGIN { exit !($v < ${bestv[$ep]}) }"; then
        best[$ep]=$line
        bestv[$ep]=$v
      fi
    done
  done
  echo "${best[validate]} errors_all=${all[validate]}"
  echo "${best[mutate]} errors_all=${all[mutate]}"
}

# wrk_once URL BODY SECONDS PID...: one wrk window; its line plus the server's
# CPU µs per request and run-queue wait.
wrk_once() {
  local url=$1 body=$2 secs=$3
  shift 3
  local c0 c1 w0 w1 out req
  c0=$(cpu_ns 1 "$@")
  w0=$(cpu_ns 2 "$@")
  out=$(BODY=$body taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"${secs}s" --timeout 5s \
        -s "$ROOT/bench/post.lua" "$url" | grep '^wrk ')
  c1=$(cpu_ns 1 "$@")
  w1=$(cpu_ns 2 "$@")
  req=$(kv "$out" requests)
  echo "$out cpu_us_per_req=$(calc "($c1 - $c0) / 1000 / ($req > 0 ? $req : 1)")" \
       "server_wait_pct=$(calc "($w1 - $w0) / 1e7 / $(kv "$out" seconds)")"
}

# fixed_rate RATE BODY SATURATION_RPS: loadgen at RATE, or a note when RATE is
# far beyond what the server took at saturation (an overloaded open-loop run
# only measures its own queue).
fixed_rate() {
  local rate=$1 b=$2 sat=$3
  if awk "BEGIN { exit !($rate > 1.5 * $sat) }"; then
    echo "skipped rps=$sat errors=0"
    return 0
  fi
  local secs=$R1K
  [ "$rate" -gt 1000 ] && secs=$R5K
  lg --port "$PORT" --body "$b" --connections "$CONNS" --rate "$rate" --warmup "$WARM" \
     --duration "$secs" --spin --expect '"allowed":true' --pid "$SERVER_PID"
}

# median_of KEY LINE...: the line whose KEY is the median (the lower one of an even count).
median_of() {
  local key=$1
  shift
  local line
  for line in "$@"; do echo "$(kv "$line" "$key") $line"; done | sort -g |
    sed -n "$(( ($# + 1) / 2 ))p" | cut -d' ' -f2-
}

# lg ARGS...: loadgen pinned to the load CPU.
lg() { taskset -c "$LOAD_CPU" "$BUILD/bench/loadgen" "$@"; }

# errs LINE: the errors a loadgen or wrk line counts (errors_all when present).
errs() {
  local r=$1
  if [ -n "$(kv "$r" errors_all)" ]; then
    kv "$r" errors_all
  elif [[ "$r" == wrk* ]]; then
    calc0 "$(kv "$r" errors_connect) + $(kv "$r" errors_read) + $(kv "$r" errors_write) + $(kv "$r" errors_status) + $(kv "$r" errors_timeout)"
  else
    local e
    e=$(kv "$r" errors)
    echo "${e:-0}"
  fi
}

# least_line KEY LINE...: the line with the smallest KEY, plus errors_all= of all of them.
least_line() {
  local key=$1 best="" bestv="" all=0 line v
  shift
  for line in "$@"; do
    all=$(calc0 "$all + $(errs "$line")")
    v=$(kv "$line" "$key")
    [ -n "$v" ] || continue
    if [ -z "$best" ] || awk "BEGIN { exit !($v < $bestv) }"; then
      best=$line
      bestv=$v
    fi
  done
  echo "$best errors_all=$all"
}

# best_of N KEY COMMAND...: runs COMMAND N times; least_line of its lines.
best_of() {
  local n=$1 key=$2 lines=()
  shift 2
  for _ in $(seq 1 "$n"); do lines+=("$("$@")"); done
  least_line "$key" "${lines[@]}"
}

# least_each N "KEY..." CMD...: runs CMD N times; prints each KEY's least value over
# the runs ("KEY=v ..."): every stage of eval_bench gets its own least disturbed run.
least_each() {
  local n=$1 keys=$2 lines="" k
  shift 2
  for _ in $(seq 1 "$n"); do lines+="$("$@")"$'\n'; done
  for k in $keys; do
    printf '%s=%s ' "$k" "$(while read -r l; do [ -n "$l" ] && kv "$l" "$k"; done <<<"$lines" |
                            sort -g | head -1)"
  done
  echo
}

# ---------------------------------------------------------------- prepare
cd "$ROOT"
install_missing
if [ ! -d "$BUILD" ]; then
  meson setup "$BUILD" --buildtype=release -Db_ndebug=false -Dtests=disabled >/dev/null
fi
log "building $BUILD"
if ! ninja -C "$BUILD" >"$BUILD/bench-build.log" 2>&1; then
  tail -30 "$BUILD/bench-build.log" >&2
  log "build failed (whole log: $BUILD/bench-build.log)"; exit 1
fi
if [ "$(nproc)" -lt 2 ]; then
  log "needs two CPUs (server on one, load on the other)"; exit 2
fi

WORK=$(mktemp -d /tmp/plimsoll-bench.XXXXXX)
RAW=$WORK/raw.txt
BODIES=$WORK/bodies
mkdir -p "$BODIES" "$WORK/nginx"
python3 bench/gen_bodies.py "$BODIES" >"$WORK/bodies.txt"
"$BUILD/cli/plimsoll" certs generate --service plimsoll --namespace default --out "$WORK/certs" \
  --dns localhost --dns 127.0.0.1 >/dev/null
NAMES=(pod-small deployment pod-large)
LABELS=("small Pod" "Deployment" "large Pod")
declare -A BYTES
for n in "${NAMES[@]}" pod-3mib; do BYTES[$n]=$(stat -c %s "$BODIES/$n.json"); done

LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
JITTER=$(lg --jitter "$JIT")
echo "$JITTER" >>"$RAW"

# ------------------------------------------------------- in-process figures
log "policy evaluation and the jansson floor"
declare -A EVAL FLOOR
for n in "${NAMES[@]}"; do
  EVAL[$n]="eval file=$n.json $(least_each "$EVAL_REP" "parse_us evaluate_us mutate_us pipeline_us mutate_pipeline_us" \
             taskset -c "$SERVER_CPU" "$BUILD/bench/eval_bench" --config bench/config.yaml \
             --seconds "$EVAL_S" "$BODIES/$n.json")"
  FLOOR[$n]=$(best_of "$EVAL_REP" us_per_review taskset -c "$SERVER_CPU" "$BUILD/bench/floor" \
              --seconds "$EVAL_S" "$BODIES/$n.json")
  echo "${EVAL[$n]}" >>"$RAW"
  echo "${FLOOR[$n]}" >>"$RAW"
done

# ------------------------------------------------------------------ plimsoll
PORT=$(free_port)
HPORT=$(free_port)
SERVE=("$BUILD/cli/plimsoll" serve --tls-cert "$WORK/certs/tls.crt" --tls-key "$WORK/certs/tls.key"
       --listen "127.0.0.1:$PORT" --health-listen "127.0.0.1:$HPORT" --threads 1
       --config bench/config.yaml --drain-seconds 0)

log "start-up to ready"
STARTS=()
for _ in 1 2 3 4 5; do
  line=$(taskset -c "$LOAD_CPU" "$BUILD/bench/ready" --health-port "$HPORT" --cpu "$SERVER_CPU" \
         --log "$WORK/startup.log" --stop -- "${SERVE[@]}")
  echo "startup $line" >>"$RAW"
  STARTS+=("$(kv "$line" ready_ms)")
done
STARTUP=$(printf '%s\n' "${STARTS[@]}" | sort -n | sed -n 3p)

line=$(taskset -c "$LOAD_CPU" "$BUILD/bench/ready" --health-port "$HPORT" --cpu "$SERVER_CPU" \
       --log "$WORK/server.log" -- "${SERVE[@]}")
SERVER_PID=$(kv "$line" pid)
sleep 0.5
IDLE_RSS=$(status_kb "$SERVER_PID" VmRSS)
URL="https://127.0.0.1:$PORT"

declare -A SAT_V SAT_M R1 R5 NC NR
for n in "${NAMES[@]}"; do
  b=$BODIES/$n.json
  log "plimsoll, $n: saturation"
  mapfile -t pair < <(wrk_alt "$b" "$SAT" "$SERVER_PID")
  SAT_V[$n]=${pair[0]}
  SAT_M[$n]=${pair[1]}
  log "plimsoll, $n: 1,000 and 5,000 reviews/s"
  R1[$n]=$(fixed_rate 1000 "$b" "$(kv "${SAT_V[$n]}" rps)")
  R5[$n]=$(fixed_rate 5000 "$b" "$(kv "${SAT_V[$n]}" rps)")
  for v in "${SAT_V[$n]}" "${SAT_M[$n]}" "${R1[$n]}" "${R5[$n]}"; do
    echo "plimsoll $n $v" >>"$RAW"
  done
done
PEAK_RSS=$(status_kb "$SERVER_PID" VmHWM)

# big_bodies CONNECTIONS LABEL: 3 MiB bodies on that many connections for four
# seconds; prints the loadgen line. VmHWM is reset first (Linux >= 4.0), so
# that the peak read afterwards is this run's alone.
big_bodies() {
  log "plimsoll: 3 MiB bodies on $1 connections"
  echo 5 >"/proc/$SERVER_PID/clear_refs" 2>/dev/null || true
  local line
  line=$(lg --port "$PORT" --body "$BODIES/pod-3mib.json" --connections "$1" --warmup 0.5 \
         --duration 4 --expect '"allowed":true' --pid "$SERVER_PID")
  echo "plimsoll $2 $line" >>"$RAW"
  echo "$line"
}
BIG=$(big_bodies "$CONNS" pod-3mib)
BIG_RSS=$(status_kb "$SERVER_PID" VmHWM)
sleep 1
AFTER_RSS=$(status_kb "$SERVER_PID" VmRSS)
# Bounded means: four times the connections, four times the bodies offered,
# and the peak does not follow (the body budget answers 503 past 30 MiB).
BIG_CONNS=$(( 4 * CONNS ))
BIG4=$(big_bodies "$BIG_CONNS" pod-3mib-x4)
BIG4_RSS=$(status_kb "$SERVER_PID" VmHWM)

# --------------------------------------------------------------------- nginx
NPORT=$(free_port)
UID_=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["request"]["uid"])' \
       "$BODIES/deployment.json")
cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx/body;
  proxy_temp_path $WORK/nginx/proxy;
  fastcgi_temp_path $WORK/nginx/fastcgi;
  uwsgi_temp_path $WORK/nginx/uwsgi;
  scgi_temp_path $WORK/nginx/scgi;
  client_max_body_size 4m;
  client_body_buffer_size 4m;
  keepalive_requests 100000000;
  keepalive_timeout 60s;
  ssl_protocols TLSv1.3;
  ssl_session_cache shared:BENCH:1m;
  ssl_session_tickets on;
  server {
    listen 127.0.0.1:$NPORT ssl;
    ssl_certificate $WORK/certs/tls.crt;
    ssl_certificate_key $WORK/certs/tls.key;
    location / {
      default_type application/json;
      return 200 '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"$UID_","allowed":true}}';
    }
  }
}
EOF
log "nginx: the TLS/HTTP floor"
taskset -c "$SERVER_CPU" nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" \
  -e "$WORK/nginx/error.log" >"$WORK/nginx/out.log" 2>&1 &
NGINX_PID=$!
for _ in $(seq 1 50); do
  curl -skf -o /dev/null "https://127.0.0.1:$NPORT/" 2>/dev/null && break
  sleep 0.1
done
WORKER=$(pgrep -P "$NGINX_PID" | head -1)
if [ -z "$WORKER" ]; then
  log "nginx did not start: $(cat "$WORK/nginx/error.log" "$WORK/nginx/out.log")"; exit 1
fi
NURL="https://127.0.0.1:$NPORT"
declare -A N_SAT N_NC N_NR

# nc_alt BODY [--resume]: a new TLS connection per review, plimsoll and nginx in
# turn, REP windows each, so that both meet the same noise (their ratio is a
# target); prints plimsoll's least disturbed line, then nginx's.
nc_alt() {
  local b=$1 pl=() ng=()
  shift
  for _ in $(seq 1 "$REP"); do
    pl+=("$(lg --port "$PORT" --body "$b" --connections 4 --new-conn "$@" --warmup "$WARM" \
            --duration "$NEWC" --expect '"allowed":true' --pid "$SERVER_PID")")
    ng+=("$(lg --port "$NPORT" --body "$b" --connections 4 --new-conn "$@" --warmup "$WARM" \
            --duration "$NEWC" --expect '"allowed":true' --pid "$NGINX_PID" --pid "$WORKER")")
  done
  least_line cpu_us_per_req "${pl[@]}"
  least_line cpu_us_per_req "${ng[@]}"
}
for n in "${NAMES[@]}"; do
  b=$BODIES/$n.json
  log "nginx, $n"
  N_SAT[$n]=$(wrk_sat "$NURL/validate" "$b" "$SAT" "$NGINX_PID" "$WORKER")
  log "plimsoll and nginx in turn, $n: a new TLS connection per request"
  mapfile -t pair < <(nc_alt "$b")
  NC[$n]=${pair[0]}
  N_NC[$n]=${pair[1]}
  mapfile -t pair < <(nc_alt "$b" --resume)
  NR[$n]=${pair[0]}
  N_NR[$n]=${pair[1]}
  for v in "${NC[$n]}" "${NR[$n]}"; do echo "plimsoll $n $v" >>"$RAW"; done
  for v in "${N_SAT[$n]}" "${N_NC[$n]}" "${N_NR[$n]}"; do echo "nginx $n $v" >>"$RAW"; done
done

# The p99.9 target: the Deployment at 1,000 reviews/s in TAILW windows, plimsoll
# and nginx in turn, so that both meet the same noise; each server's figure is
# its median window (one hypervisor hiccup spoils one window, not the result).
# After each pair, bench/stalls watches both CPUs for as long and replays the
# same rate against the gaps it saw: about the p99.9 of a server taking no time.
log "tail latency: plimsoll, nginx and the machine alone at 1,000 reviews/s, $TAILW windows each, in turn"
# tail_window PORT PID...: one window of the Deployment at 1,000 reviews/s, CPU of the PIDs.
tail_window() {
  local port=$1 pid pids=()
  shift
  for pid in "$@"; do pids+=(--pid "$pid"); done
  lg --port "$port" --body "$BODIES/deployment.json" --connections "$CONNS" --rate 1000 \
     --warmup "$WARM" --duration "$R1K" --spin --expect '"allowed":true' "${pids[@]}"
}
TAIL_P=()
TAIL_N=()
TAIL_M=()
for _ in $(seq 1 "$TAILW"); do
  TAIL_P+=("$(tail_window "$PORT" "$SERVER_PID")")
  TAIL_N+=("$(tail_window "$NPORT" "$NGINX_PID" "$WORKER")")
  TAIL_M+=("$("$BUILD/bench/stalls" --seconds "$R1K" --rate 1000 --cpu "$SERVER_CPU" \
              --cpu "$LOAD_CPU")")
  echo "plimsoll tail ${TAIL_P[-1]}" >>"$RAW"
  echo "nginx tail ${TAIL_N[-1]}" >>"$RAW"
  echo "machine tail ${TAIL_M[-1]}" >>"$RAW"
done
TAIL=$(median_of p999_us "${TAIL_P[@]}")
N_R1=$(median_of p999_us "${TAIL_N[@]}")
# The tail target is relative: p99 and p99.9 each within 1.25 x nginx's, each
# figure the median over its windows (p99 and p99.9 medians taken separately).
TAIL99=$(kv "$(median_of p99_us "${TAIL_P[@]}")" p99_us)
N_TAIL99=$(kv "$(median_of p99_us "${TAIL_N[@]}")" p99_us)
M_R1=$(median_of p999_us "${TAIL_M[@]}")
TAIL_ERRS=0
for r in "${TAIL_P[@]}" "${TAIL_N[@]}"; do TAIL_ERRS=$(calc0 "$TAIL_ERRS + $(errs "$r")"); done
worst() { for r in "$@"; do kv "$r" p999_us; done | sort -g | tail -1; }
TAIL_WORST=$(worst "${TAIL_P[@]}")
N_TAIL_WORST=$(worst "${TAIL_N[@]}")
M_TAIL_WORST=$(worst "${TAIL_M[@]}")

kill "$NGINX_PID"
wait_gone "$NGINX_PID"
NGINX_PID=""
kill "$SERVER_PID"
wait_gone "$SERVER_PID"
SERVER_PID=""
LOG_ERRORS=$(grep -c '"level":"error"' "$WORK/server.log" || true)

# -------------------------------------------------------------------- report
ms() { calc "$1 / 1000"; }
fixed() { # fixed RESULT TARGET_RATE: "p50 / p99 / p99.9 ms" or the overload note
  local r=$1 rate=$2 got
  got=$(kv "$r" rps)
  if [[ "$r" == skipped* ]]; then
    echo "over capacity (saturation $(calc0 "$got")/s)"
  elif awk "BEGIN { exit !($got < 0.97 * $rate) }"; then
    echo "over capacity (served $(calc0 "$got")/s)"
  else
    echo "$(ms "$(kv "$r" p50_us)") / $(ms "$(kv "$r" p99_us)") / $(ms "$(kv "$r" p999_us)")"
  fi
}
pass() { awk "BEGIN { exit !($1) }" && echo "yes" || echo "**no**"; }

CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
{
echo "### Performance"
echo
echo "Measured by \`bench/run.sh\` on $(date -u +%Y-%m-%d): $CPU, $(nproc) cores, Linux $(uname -r)," \
     "$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); load average" \
     "before the run $LOADAVG; timer wake-up lateness on this machine p50/p99/p99.9" \
     "$(kv "$JITTER" p50_us)/$(kv "$JITTER" p99_us)/$(kv "$JITTER" p999_us) µs." \
     "Server on CPU $SERVER_CPU (\`--threads 1\`, every policy enforced, every mutation on)," \
     "load on CPU $LOAD_CPU, TLS 1.3, HTTP/1.1 keep-alive, $CONNS connections. CPU costs are" \
     "the least disturbed of $REP windows."
echo
echo "| body | bytes | reviews/s at saturation | errors | server CPU µs/review | floor µs (nginx + jansson) | ratio to floor | /mutate reviews/s | /mutate CPU µs | server run-queue wait |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for i in 0 1 2; do
  n=${NAMES[$i]}
  v=${SAT_V[$n]}; m=${SAT_M[$n]}
  ncpu=$(kv "${N_SAT[$n]}" cpu_us_per_req); fl=$(kv "${FLOOR[$n]}" us_per_review)
  floor=$(calc "$ncpu + $fl")
  echo "| ${LABELS[$i]} | ${BYTES[$n]} | $(calc0 "$(kv "$v" rps)") | $(errs "$v") | $(kv "$v" cpu_us_per_req) | $floor ($ncpu + $fl) | $(calc "$(kv "$v" cpu_us_per_req) / $floor") | $(calc0 "$(kv "$m" rps)") | $(kv "$m" cpu_us_per_req) | $(kv "$v" server_wait_pct) % |"
done
echo
echo "Latency at fixed rates (open loop, measured from the scheduled send time; the load generator" \
     "polls instead of sleeping, so its own timer lateness is not counted), p50 / p99 / p99.9 in ms:"
echo
echo "| body | 1,000 reviews/s | errors | 5,000 reviews/s | errors |"
echo "|---|---|---:|---|---:|"
for i in 0 1 2; do
  n=${NAMES[$i]}
  echo "| ${LABELS[$i]} | $(fixed "${R1[$n]}" 1000) | $(errs "${R1[$n]}") | $(fixed "${R5[$n]}" 5000) | $(errs "${R5[$n]}") |"
done
echo
echo "Tail latency, the Deployment at 1,000 reviews/s in $TAILW windows of $R1K s each, plimsoll," \
     "nginx (a fixed answer, no JSON work) and the machine alone taking turns; each row is the" \
     "median window by p99.9 (ms), with the worst window's p99.9 beside it. \"The machine alone\"" \
     "is \`bench/stalls\`: both CPUs watched by a spinning thread each, every pause of 20 µs or" \
     "more recorded, and requests due every millisecond replayed against those pauses as a" \
     "server answering in no time would meet them: an estimate of the floor the machine puts" \
     "under any server (a real one also needs time of its own; on the other hand both CPUs" \
     "are kept busy, and a busy virtual CPU may be taken away more often than an idle one)." \
     "In its median window each CPU was away for 1 ms or more" \
     "$(kv "$M_R1" "cpu${SERVER_CPU}_ge1ms_per_s") (CPU $SERVER_CPU) and" \
     "$(kv "$M_R1" "cpu${LOAD_CPU}_ge1ms_per_s") (CPU $LOAD_CPU) times a second:"
echo
echo "| server | p50 / p99 / p99.9 (median window) | worst window p99.9 | errors (all windows) |"
echo "|---|---|---:|---:|"
echo "| plimsoll | $(fixed "$TAIL" 1000) | $(ms "$TAIL_WORST") | $TAIL_ERRS |"
echo "| nginx | $(fixed "$N_R1" 1000) | $(ms "$N_TAIL_WORST") | |"
echo "| the machine alone | $(ms "$(kv "$M_R1" p50_us)") / $(ms "$(kv "$M_R1" p99_us)") / $(ms "$(kv "$M_R1" p999_us)") | $(ms "$M_TAIL_WORST") | |"
echo
echo "A new TLS connection for every review (server CPU µs per connection, request included; handshake = that minus the keep-alive cost):"
echo
echo "| body | full handshake | nginx | resumed | resumed / total | nginx resumed | handshake ratio (full) | handshake ratio (resumed) |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for i in 0 1 2; do
  n=${NAMES[$i]}
  pf=$(kv "${NC[$n]}" cpu_us_per_req); pr=$(kv "${NR[$n]}" cpu_us_per_req)
  nf=$(kv "${N_NC[$n]}" cpu_us_per_req); nr=$(kv "${N_NR[$n]}" cpu_us_per_req)
  pk=$(kv "${SAT_V[$n]}" cpu_us_per_req); nk=$(kv "${N_SAT[$n]}" cpu_us_per_req)
  echo "| ${LABELS[$i]} | $pf | $nf | $pr | $(kv "${NR[$n]}" resumed) / $(kv "${NR[$n]}" handshakes) | $nr ($(kv "${N_NR[$n]}" resumed) / $(kv "${N_NR[$n]}" handshakes)) | $(calc "($pf - $pk) / ($nf - $nk)") | $(calc "($pr - $pk) / ($nr - $nk)") |"
done
echo
echo "plimsoll's own work, in-process, µs per review (bench/eval_bench):"
echo
echo "| body | parse | evaluate (whole catalog) | mutate (on a copy) | parse + evaluate + respond | /mutate: parse + mutate in place + respond | jansson floor |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for i in 0 1 2; do
  n=${NAMES[$i]}; e=${EVAL[$n]}
  echo "| ${LABELS[$i]} | $(kv "$e" parse_us) | $(kv "$e" evaluate_us) | $(kv "$e" mutate_us) | $(kv "$e" pipeline_us) | $(kv "$e" mutate_pipeline_us) | $(kv "${FLOOR[$n]}" us_per_review) |"
done
echo
echo "Memory and start-up: idle RSS $(calc "$IDLE_RSS / 1024") MiB; peak RSS over the runs above" \
     "$(calc "$PEAK_RSS / 1024") MiB; peak with ${BYTES[pod-3mib]}-byte bodies on $CONNS connections" \
     "$(calc "$BIG_RSS / 1024") MiB ($(calc0 "$(kv "$BIG" rps)") reviews/s, $(errs "$BIG") errors," \
     "$(kv "$BIG" unfinished) still in flight when the window closed)," \
     "$(calc "$AFTER_RSS / 1024") MiB a second later; on $BIG_CONNS connections the peak is" \
     "$(calc "$BIG4_RSS / 1024") MiB ($(calc0 "$(kv "$BIG4" rps)") reviews/s, $(errs "$BIG4") errors)." \
     "Those errors are the body budget's 503 answers (past 30 MiB of large bodies held at once," \
     "new ones wait for a retry), which is what keeps the peak flat. Start-up to ready" \
     "(median of 5) $STARTUP ms; error lines in the server log: $LOG_ERRORS."
echo
d=deployment
dv=${SAT_V[$d]}
dfloor=$(calc "$(kv "${N_SAT[$d]}" cpu_us_per_req) + $(kv "${FLOOR[$d]}" us_per_review)")
dratio=$(calc "$(kv "$dv" cpu_us_per_req) / $dfloor")
pk=$(kv "$dv" cpu_us_per_req); nk=$(kv "${N_SAT[$d]}" cpu_us_per_req)
hs=$(calc "($(kv "${NR[$d]}" cpu_us_per_req) - $pk) / ($(kv "${N_NR[$d]}" cpu_us_per_req) - $nk)")
all_errs=0
for n in "${NAMES[@]}"; do all_errs=$(calc0 "$all_errs + $(errs "${SAT_V[$n]}") + $(errs "${SAT_M[$n]}")"); done
echo "| target (Deployment unless said) | measured | met |"
echo "|---|---|---|"
echo "| server CPU per review ≤ 1.15 × (nginx + jansson floor) | $dratio × | $(pass "$dratio <= 1.15") |"
echo "| whole-catalog evaluation < 20 µs | $(kv "${EVAL[$d]}" evaluate_us) µs | $(pass "$(kv "${EVAL[$d]}" evaluate_us) < 20") |"
r99=$(calc "$TAIL99 / $N_TAIL99")
r999=$(calc "$(kv "$TAIL" p999_us) / $(kv "$N_R1" p999_us)")
echo "| p99 and p99.9 at 1,000 reviews/s each ≤ 1.25 × nginx's in the same run (median windows) | p99 $(ms "$TAIL99") ms = $r99 × nginx's $(ms "$N_TAIL99"); p99.9 $(ms "$(kv "$TAIL" p999_us)") ms = $r999 × nginx's $(ms "$(kv "$N_R1" p999_us)") (the machine alone: $(ms "$(kv "$M_R1" p99_us)") / $(ms "$(kv "$M_R1" p999_us)")) | $(pass "$r99 <= 1.25 && $r999 <= 1.25") |"
mut_ratios=""
mut_worst=0
for i in 0 1 2; do
  n=${NAMES[$i]}
  r=$(calc "$(kv "${SAT_M[$n]}" cpu_us_per_req) / $(kv "${SAT_V[$n]}" cpu_us_per_req)")
  mut_ratios+="${mut_ratios:+, }${LABELS[$i]} $r"
  mut_worst=$(awk "BEGIN { print ($r > $mut_worst) ? $r : $mut_worst }")
done
echo "| /mutate server CPU per review ≤ 1.3 × /validate's, every body | $mut_ratios | $(pass "$mut_worst <= 1.3") |"
echo "| no errors at saturation (every body, /validate and /mutate) | $all_errs | $(pass "$all_errs == 0") |"
echo "| idle RSS < 30 MB | $(calc "$IDLE_RSS / 1024") MiB | $(pass "$IDLE_RSS < 30000") |"
echo "| RSS bounded with 3 MiB bodies in flight (peak on $CONNS → $BIG_CONNS connections) | $(calc "$BIG_RSS / 1024") → $(calc "$BIG4_RSS / 1024") MiB | $(pass "$BIG4_RSS < 1.25 * $BIG_RSS && $BIG4_RSS < 100 * 1024") |"
resumed=$(kv "${NR[$d]}" resumed)
if [ "${resumed:-0}" = 0 ]; then
  echo "| new-connection (resumed) cost ≤ 1.3 × nginx's | $hs × (plimsoll resumed 0 of $(kv "${NR[$d]}" handshakes) handshakes) | **no** |"
else
  echo "| new-connection (resumed) cost ≤ 1.3 × nginx's | $hs × | $(pass "$hs <= 1.3") |"
fi
echo "| start-up to ready < 100 ms | $STARTUP ms | $(pass "$STARTUP < 100") |"
} | tee "$WORK/report.md"
cp "$RAW" "$BUILD/bench-raw.txt"
cp "$WORK/report.md" "$BUILD/bench-report.md"
log "raw lines in $BUILD/bench-raw.txt, report in $BUILD/bench-report.md"
