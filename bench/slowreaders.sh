#!/usr/bin/env bash
# slowreaders.sh - new-connection latency while N clients read large responses at a trickle, River
# beside nginx as reverse proxies in front of the same nginx origin, interleaved rounds, one run.
#
# usage: slowreaders.sh [--rounds N] [--only river,nginx] [--n READERS] [--duration S] [--chunk BYTES]
#                       [--every S] [--rcvbuf BYTES] [--prewarm S] [--out DIR] [--java PATH] [--jvm-opts 'FLAGS']
# --only also takes river-base: River from RIVER_BASE_JAR (an older build) and, if set, through
# RIVER_BASE_LAUNCHER (an older bin/river), for before/after in one run.
#
# Each round starts the proxy (1 worker/thread, pinned to cpu 1; origin and clients on cpu 0), warms it
# with wrk on /hello and a few fast downloads of /10m, then slowreaders.py opens READERS (200)
# connections that GET /10m (10 MiB) and read CHUNK (16 KiB) per EVERY (0.1 s) with a small receive
# buffer, while a probe opens a NEW connection every 0.1 s and times GET /hello from connect to the
# last byte. The burst runs twice per round on the same proxy process (the first, "cold", while a JVM
# still compiles the paths slow readers take; the second, warm, is the comparison). Reported per
# burst: probe p50/p99/max, failed probes, the proxy's CPU seconds (utime+stime of its process tree
# from /proc) over the probe window and the part of it spent by JIT compiler threads, MiB the readers
# got, the event-loop thread's time on a CPU and time runnable but waiting for one (schedstat: a
# proxy's latency under load is mostly the latter), and the CPU used by processes this script did not
# start (other tenants) with the load average.
# Each probe's start (Unix time) and latency go to out/rROUND-PROXY-PHASE.probes, to lay beside a GC log.
# Ports are free ones picked at start unless PROXY_PORT, ORIGIN_PORT, STATUS_PORT are set.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROUNDS=3; ONLY="river,nginx"; N=200; DUR=20; CHUNK=16384; EVERY=0.1; RCVBUF=16384; PREWARM=10; OUT=""
JAVA_BIN=${JAVA:-java}; JVM_OPTS=${RIVER_JVM_OPTS:-}
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift 2;;
    --only) ONLY=$2; shift 2;;
    --n) N=$2; shift 2;;
    --duration) DUR=$2; shift 2;;
    --chunk) CHUNK=$2; shift 2;;
    --every) EVERY=$2; shift 2;;
    --rcvbuf) RCVBUF=$2; shift 2;;
    --prewarm) PREWARM=$2; shift 2;;
    --out) OUT=$2; shift 2;;
    --java) JAVA_BIN=$2; shift 2;;
    --jvm-opts) JVM_OPTS=$2; shift 2;;
    -h|--help) sed -n '2,22p' "$0"; exit 0;;
    *) echo "unknown arg $1" >&2; exit 2;;
  esac
done
IFS=, read -r -a PROXIES <<< "$ONLY"
PY=${PYTHON:-python3}
CLK=$(getconf CLK_TCK)
. "$HERE/lib.sh"
trap 'cleanup' EXIT
trap 'exit 130' INT TERM
ulimit -n "$(ulimit -Hn)"

if [ -z "${PROXY_PORT:-}" ] || [ -z "${ORIGIN_PORT:-}" ] || [ -z "${STATUS_PORT:-}" ]; then
  read -r -d '' PROXY_PORT ORIGIN_PORT STATUS_PORT < <($PY "$HERE/slowreaders.py" free-ports 3 | tr '\n' ' '; printf '\0')
fi
export PROXY_PORT ORIGIN_PORT
for b in nginx wrk curl taskset; do command -v $b >/dev/null || { echo "missing $b" >&2; exit 1; }; done
case ",$ONLY," in *,river-base,*) [ -f "${RIVER_BASE_JAR:-}" ] || { echo "river-base needs RIVER_BASE_JAR=PATH" >&2; exit 1; };; esac
case ",$ONLY," in *,river,*) [ -f "${RIVER_JAR:-$HERE/../target/river.jar}" ] || {
  echo "missing target/river.jar: run mvn -B -q package -DskipTests" >&2; exit 1; };; esac

W=${OUT:-$HERE/runs/slowreaders-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$W/www" "$W/origin/logs" "$W/nginx" "$W/river" "$W/river-base" "$W/out"; W=$(cd "$W" && pwd)
RAW=$W/raw.tsv; LOG=$W/harness.log; : > "$RAW"
log() { echo "[$(date +%T)] $*" | tee -a "$LOG" >&2; }
rec() { printf '%s\t%s\t%s\t%s\n' "$ROUND" "$PROXY" "$1" "$2" >> "$RAW"; }

chmod 755 "$W" "$W/www"
printf 'Hello world\n' > "$W/www/hello"
head -c $((10 * 1024 * 1024)) /dev/urandom > "$W/www/10m"
chmod 644 "$W/www/hello" "$W/www/10m"
nginx_origin_conf "$W/origin" "$W/www" "$ORIGIN_PORT" "$STATUS_PORT" > "$W/origin/nginx.conf"
nginx_proxy_conf "$W/nginx" 1 "$PROXY_PORT" "$ORIGIN_PORT" > "$W/nginx/nginx.conf"
{
  echo "date: $(date -Is)"; echo "kernel: $(uname -r)"; echo "cpus: $(nproc)"
  echo "river: $JAVA_BIN $JVM_OPTS ($("$JAVA_BIN" -version 2>&1 | head -1))"; nginx -v 2>&1
  echo "rounds=$ROUNDS proxies=$ONLY readers=$N duration=${DUR}s chunk=$CHUNK every=${EVERY}s rcvbuf=$RCVBUF prewarm=${PREWARM}s"
  echo "ports: proxy=$PROXY_PORT origin=$ORIGIN_PORT status=$STATUS_PORT"
} > "$W/env.txt" 2>&1
log "work dir $W"

setsid taskset -c 0 nginx -p "$W/origin" -e "$W/origin/logs/error.log" -c "$W/origin/nginx.conf" -g 'daemon off;' >"$W/origin/stdout.log" 2>&1 &
STARTED+=("$!")
wait_http "http://127.0.0.1:$ORIGIN_PORT/hello" 10 || { log "origin failed to start"; exit 1; }

loop_sched() {  # pid -> "run_ns wait_ns" (on a CPU, and runnable but waiting for one) of the proxy's event-loop
  # thread: River's river-bench-* thread (1 worker), nginx's worker process (the master's child)
  local p x best=""; for p in $(tree_pids "$1"); do for x in /proc/$p/task/*; do
    case $(cat "$x/comm" 2>/dev/null) in river-bench-*) best=$x; break 2;; nginx) [ "$p" != "$1" ] && best=$x;; esac; done; done
  if [ -n "$best" ]; then awk '{print $1, $2}' "$best/schedstat" 2>/dev/null; else echo "0 0"; fi; }

start_proxy() {  # name -> PROXY_PID
  local outf="$W/$1/stdout.log"
  wait_free "$PROXY_PORT" || { log "port $PROXY_PORT still busy"; return 1; }
  case $1 in
    river|river-base) local jar=${RIVER_JAR:-$HERE/../target/river.jar}; [ "$1" = river-base ] && jar=$RIVER_BASE_JAR
           RIVER_LAUNCHER=$( [ "$1" = river-base ] && echo "${RIVER_BASE_LAUNCHER:-}" ) RIVER_JAR=$jar PROXY_WORKERS=1 ORIGIN=127.0.0.1:$ORIGIN_PORT BENCH_WORK=$W/$1 JAVA=$JAVA_BIN RIVER_JVM_OPTS=$JVM_OPTS \
           setsid taskset -c 1 "$HERE/river-proxy.sh" >>"$outf" 2>&1 & ;;
    nginx) setsid taskset -c 1 nginx -p "$W/nginx" -e "$W/nginx/error.log" -c "$W/nginx/nginx.conf" -g 'daemon off;' >>"$outf" 2>&1 & ;;
    *) log "unknown proxy $1"; return 1;;
  esac
  PROXY_PID=$!; STARTED+=("$PROXY_PID")
  wait_http "http://127.0.0.1:$PROXY_PORT/hello" 60 || { log "$1 did not come up (see $outf)"; return 1; }
  # The same unmeasured warm-up for every proxy: short requests, then whole fast downloads of the large file.
  timeout $((PREWARM + 15)) taskset -c 0 wrk -t1 -c50 -d"${PREWARM}s" "http://127.0.0.1:$PROXY_PORT/hello" >/dev/null 2>&1
  local i; for i in $(seq 20); do curl -s -m 20 -o /dev/null "http://127.0.0.1:$PROXY_PORT/10m"; done
  sleep 1
}

# burst PHASE: one slow-reader burst against the running proxy; records PHASE-prefixed figures ("" = warm).
burst() {
  local ph=$1 f="$W/out/r$ROUND-$PROXY-${1:-warm}.txt" ready="$W/out/r$ROUND-$PROXY-${1:-warm}.ready" c0 c1 j0 j1 t0 t1 hp i line k cpu l0 l1
  rm -f "$ready"
  timeout $((DUR + 120)) taskset -c 0 $PY "$HERE/slowreaders.py" burst --port "$PROXY_PORT" --n "$N" --duration "$DUR" \
    --chunk "$CHUNK" --every "$EVERY" --rcvbuf "$RCVBUF" --ready-file "$ready" --probe-log "${f%.txt}.probes" > "$f" 2>&1 &
  hp=$!; STARTED+=("$hp")
  for i in $(seq 600); do [ -s "$ready" ] && break; kill -0 $hp 2>/dev/null || break; sleep 0.05; done
  guard_begin; c0=$(cpu_ticks "$PROXY_PID"); j0=$(jit_ticks "$PROXY_PID"); l0=$(loop_sched "$PROXY_PID"); t0=$(date +%s.%N)
  # The proxy's CPU is sampled until the probe window ends (the helper prints its line then).
  for i in $(seq $(( (DUR + 90) * 20 ))); do grep -q '^probes=' "$f" 2>/dev/null && break; kill -0 $hp 2>/dev/null || break; sleep 0.05; done
  c1=$(cpu_ticks "$PROXY_PID"); j1=$(jit_ticks "$PROXY_PID"); l1=$(loop_sched "$PROXY_PID"); t1=$(date +%s.%N); guard_end
  wait $hp 2>/dev/null
  line=$(grep '^probes=' "$f")
  if [ -z "$line" ]; then log "  no result (see $f)"; rec "${ph}fail_run" 1; return; fi
  for k in p50_ms p99_ms max_ms fail reader_mib; do rec "$ph$k" "$(tr ' ' '\n' <<< "$line" | awk -F= -v k=$k '$1==k{print $2}')"; done
  cpu=$(awk -v c=$((c1 - c0)) -v k="$CLK" 'BEGIN{printf "%.2f", c/k}')
  rec "${ph}cpu_s" "$cpu"
  rec "${ph}cpu_per_gib" "$(awk -v c="$cpu" -v m="$(tr ' ' '\n' <<< "$line" | awk -F= '$1=="reader_mib"{print $2}')" 'BEGIN{if(m>0) printf "%.2f", c/(m/1024)}')"
  rec "${ph}jit_s" "$(awk -v c=$((j1 - j0)) -v k="$CLK" 'BEGIN{printf "%.2f", c/k}')"
  rec "${ph}loop_run_s" "$(awk -v a="${l0% *}" -v b="${l1% *}" 'BEGIN{printf "%.2f", (b-a)/1e9}')"
  rec "${ph}loop_wait_s" "$(awk -v a="${l0#* }" -v b="${l1#* }" 'BEGIN{printf "%.2f", (b-a)/1e9}')"
  rec "${ph}foreign" "$FOREIGN"
  rec "${ph}load1" "$(cut -d' ' -f1 /proc/loadavg)"
  log "  $PROXY ${ph:-warm}: $line cpu=${cpu}s (jit $(awk -v c=$((j1 - j0)) -v k="$CLK" 'BEGIN{printf "%.2f", c/k}')s) over $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}')s foreign=${FOREIGN}% load=$(cut -d' ' -f1-3 /proc/loadavg)"
}

# A round: a fresh proxy, its first burst ("cold": the JVM still compiles the slow-reader paths), then
# a second burst on the same process (warm), the figure the comparison is about.
round() {
  log "round $ROUND: $PROXY (1 worker, cpu 1); load: $(cut -d' ' -f1-3 /proc/loadavg)"
  start_proxy "$PROXY" || { rec start_fail 1; return; }
  burst cold_
  burst ""
  stop_pid "$PROXY_PID"
}

for ROUND in $(seq "$ROUNDS"); do
  for PROXY in "${PROXIES[@]}"; do round; done
done
$PY "$HERE/slowreaders.py" table "$RAW" | tee "$W/table.md"
log "raw data: $RAW ; table: $W/table.md ; log: $LOG"
