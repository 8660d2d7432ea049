#!/usr/bin/env bash
# wasm.sh - what a proxy-wasm plugin costs a request (issue 18, "Measure"): three Rivers side by side in
# one run, interleaved rounds, in front of the same nginx origin.
#
# usage: wasm.sh [--rounds N] [--window S] [--prewarm S] [--conns N] [--out DIR] [--java PATH] [--jvm-opts 'FLAGS']
#
# Servers (each River: one event-loop thread, access log off, pinned to cpu 1 with the others):
#   river-none     no plugin
#   river-empty    src/test/resources/wasm/empty.wat: exports the ABI, every callback returns at once
#   river-headers  src/test/resources/wasm/headers.wat without its proxy_log call (else the figure is the
#                  logger writing a line per request): reads a header and the request.path property, adds
#                  two request headers and one response header, removes one each way
# Load: wrk -t1 -cCONNS GET /hello (keep-alive, HTTP/1.1) on cpu 0, beside the origin (nginx, one worker,
# `return 200 "Hello world\n"`). After an equal warm-up (PREWARM seconds per server, 5 s windows taking
# turns), each round runs one WINDOW-second window per server, the order rotating per round.
# Per window: req/s, p50/p99, the server's CPU (utime+stime of its process tree, /proc/PID/stat) per
# request and in % of a core, the CPU the other two Rivers used meanwhile (idle: their watchdog and JIT),
# and the foreign CPU (other tenants).
# First-request cost, from each River's log: the plugin's compilation at load ("compiled in N ms") and
# the VM's instantiation (at load too, since 860c64b: "VM instantiated on <thread> in N µs"),
# plus curl's time for that first request and for the second.
# Before measuring, curl checks each River: 200, the body, and (river-headers) the plugin's response header.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROUNDS=8; WINDOW=5; PREWARM=20; CONNS=50; OUT=""; JVM_OPTS=""
JAVA_BIN=${JAVA:-java}
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift 2;;
    --window) WINDOW=$2; shift 2;;
    --prewarm) PREWARM=$2; shift 2;;
    --conns) CONNS=$2; shift 2;;
    --out) OUT=$2; shift 2;;
    --java) JAVA_BIN=$2; shift 2;;
    --jvm-opts) JVM_OPTS=$2; shift 2;;
    -h|--help) sed -n '2,24p' "$0"; exit 0;;
    *) echo "unknown arg $1" >&2; exit 2;;
  esac
done
JAR=${RIVER_JAR:-$HERE/../target/river.jar}
PY=${PYTHON:-python3}
CLK=$(getconf CLK_TCK)
. "$HERE/lib.sh"
trap 'cleanup' EXIT
trap 'exit 130' INT TERM
for b in nginx wrk curl taskset wat2wasm; do command -v $b >/dev/null || { echo "missing $b" >&2; exit 1; }; done
[ -f "$JAR" ] || { echo "no $JAR: mvn -B -o -q package -DskipTests" >&2; exit 1; }
SERVERS=(river-none river-empty river-headers)

W=${OUT:-$HERE/runs/wasm-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$W/origin/logs" "$W/plugins" "$W/out" "$W/check"; for s in "${SERVERS[@]}"; do mkdir -p "$W/$s"; done; W=$(cd "$W" && pwd)
RAW=$W/raw.tsv; LOG=$W/harness.log; : > "$RAW"
log() { echo "[$(date +%T)] $*" | tee -a "$LOG" >&2; }

# ---------------------------------------------------------------- the plugins
WATS=$HERE/../src/test/resources/wasm
cp "$WATS/empty.wat" "$W/plugins/empty.wat"
grep -v '(call $log ' "$WATS/headers.wat" > "$W/plugins/headers.wat"
for p in empty headers; do wat2wasm "$W/plugins/$p.wat" -o "$W/plugins/$p.wasm" || { log "wat2wasm $p failed"; exit 1; }; done

read -r -a PORTS < <($PY "$HERE/slowreaders.py" free-ports 5 | tr '\n' ' ')
ORIGIN_PORT=${PORTS[0]}; STATUS_PORT=${PORTS[1]}
declare -A PORT=([river-none]=${PORTS[2]} [river-empty]=${PORTS[3]} [river-headers]=${PORTS[4]})
nginx_origin_conf "$W/origin" - "$ORIGIN_PORT" "$STATUS_PORT" > "$W/origin/nginx.conf"

river_conf() {  # port [plugin]
cat <<KDL
system {
    threads-per-service 1
    access-log "off"
}
services {
    proxy {
        listeners {
            "127.0.0.1:$1"
        }
        connectors {
            "127.0.0.1:$ORIGIN_PORT"
        }
$( [ -n "${2:-}" ] && printf '        plugins {\n            wasm "%s" path="%s"\n        }\n' "$2" "$W/plugins/$2.wasm")
    }
}
KDL
}
river_conf "${PORT[river-none]}" > "$W/river-none/river.kdl"
river_conf "${PORT[river-empty]}" empty > "$W/river-empty/river.kdl"
river_conf "${PORT[river-headers]}" headers > "$W/river-headers/river.kdl"
{
  echo "date: $(date -Is)"; echo "kernel: $(uname -r)"; echo "cpus: $(nproc)"; grep -m1 'model name' /proc/cpuinfo
  echo "river: $JAR, $JAVA_BIN ($("$JAVA_BIN" -version 2>&1 | head -1)) jvm-opts: ${JVM_OPTS:-none}"
  echo "river commit: $(git -C "$HERE/.." rev-parse --short HEAD 2>/dev/null)$(git -C "$HERE/.." diff --quiet 2>/dev/null || echo ' (dirty)')"
  nginx -v 2>&1; wrk -v 2>&1 | head -1; wat2wasm --version 2>&1 | head -1
  echo "rounds=$ROUNDS window=${WINDOW}s prewarm=${PREWARM}s conns=$CONNS"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$W/env.txt" 2>&1
log "work dir $W"

setsid taskset -c 0 nginx -p "$W/origin" -e "$W/origin/logs/error.log" -c "$W/origin/nginx.conf" -g 'daemon off;' >"$W/origin/stdout.log" 2>&1 &
STARTED+=("$!")
declare -A PID
for srv in "${SERVERS[@]}"; do
  (cd "$W/$srv" && RIVER_JAR=$JAR JAVA=$JAVA_BIN RIVER_JAVA_OPTS=$JVM_OPTS setsid taskset -c 1 "$HERE/../bin/river" \
      --config-kdl "$W/$srv/river.kdl" >"$W/$srv/stdout.log" 2>"$W/$srv/stderr.log") &
  PID[$srv]=$!; STARTED+=("$!")
done
wait_http "http://127.0.0.1:$ORIGIN_PORT/hello" 10 || { log "origin failed to start"; exit 1; }
# Wait for the listeners without sending a request: the first request is measured below.
for srv in "${SERVERS[@]}"; do
  for i in $(seq 600); do port_busy "${PORT[$srv]}" && break; sleep 0.1; done
  port_busy "${PORT[$srv]}" || { log "$srv failed to start (see $W/$srv/stderr.log)"; exit 1; }
done

# ---------------------------------------------------------------- first requests and correctness
fail=0
for srv in "${SERVERS[@]}"; do
  u="http://127.0.0.1:${PORT[$srv]}/hello?x=1"; o="$W/check/$srv"
  t1=$(curl -s -D "$o.head" -o "$o.body" -w '%{http_code} %{time_total}' "$u")
  t2=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' "$u")
  read -r st1 tt1 <<< "$t1"; read -r st2 tt2 <<< "$t2"
  ok=1; [ "$st1" = 200 ] && [ "$st2" = 200 ] && [ "$(cat "$o.body")" = "Hello world" ] || ok=0
  hdr=$(grep -ci '^x-wasm-response: yes' "$o.head")
  case $srv in river-headers) [ "$hdr" = 1 ] || ok=0;; *) [ "$hdr" = 0 ] || ok=0;; esac
  comp=$(sed -n 's/.*compiled in \([0-9]*\) ms.*/\1/p' "$W/$srv/stderr.log" | head -1)
  inst=$(sed -n 's/.*VM instantiated on .* in \([0-9]*\) µs.*/\1/p' "$W/$srv/stderr.log" | head -1)
  for kv in "first_request_ms $(awk -v t="$tt1" 'BEGIN{printf "%.2f", t*1000}')" "second_request_ms $(awk -v t="$tt2" 'BEGIN{printf "%.2f", t*1000}')" \
            "compile_ms ${comp:--}" "instantiate_us ${inst:--}"; do
    set -- $kv; printf 'first\t-\t%s\t%s\t%s\n' "$srv" "$1" "$2" >> "$RAW"
  done
  log "check $srv: $st1 then $st2, x-wasm-response header $hdr, first request ${tt1}s, second ${tt2}s, compiled in ${comp:--} ms, VM instantiated in ${inst:--} µs: $([ $ok = 1 ] && echo ok || echo FAILED)"
  [ $ok = 1 ] || fail=1
done
[ $fail = 0 ] || { log "correctness check failed: see $W/check"; exit 1; }

# ---------------------------------------------------------------- load
peer_ticks() { local t=0 p; for p in "$@"; do t=$((t + $(cpu_ticks "$p"))); done; echo $t; }
WRK() {  # seconds url out
  timeout $(( $1 + 15 )) taskset -c 0 wrk -t1 -c"$CONNS" -d"$1"s --timeout 10s --latency "$2" > "$3" 2>&1
}
url() { echo "http://127.0.0.1:${PORT[$1]}/hello"; }
for r in $(seq $(( PREWARM / 5 > 0 ? PREWARM / 5 : 1 ))); do
  for srv in "${SERVERS[@]}"; do WRK 5 "$(url $srv)" /dev/null; done
done
log "warmed up (${PREWARM}s per server)"

for ROUND in $(seq "$ROUNDS"); do
  n=${#SERVERS[@]}; order=(); for j in $(seq 0 $((n - 1))); do order+=("${SERVERS[$(( (j + ROUND - 1) % n ))]}"); done
  for srv in "${order[@]}"; do
    pid=${PID[$srv]}; peers=(); for o in "${SERVERS[@]}"; do [ $o = $srv ] || peers+=("${PID[$o]}"); done
    f="$W/out/r$ROUND-$srv.txt"
    guard_begin; c0=$(cpu_ticks "$pid"); p0=$(peer_ticks "${peers[@]}"); t0=$(date +%s.%N)
    WRK "$WINDOW" "$(url $srv)" "$f"
    c1=$(cpu_ticks "$pid"); p1=$(peer_ticks "${peers[@]}"); t1=$(date +%s.%N); guard_end
    read -r rps p50 p99 mib reqs err < <($PY "$HERE/bench_util.py" wrk "$f" 2>/dev/null) || { log "wrk parse failed: $f"; continue; }
    read -r cpuus util peerpct < <(awk -v c=$((c1 - c0)) -v p=$((p1 - p0)) -v k="$CLK" -v r="$reqs" -v a="$t0" -v b="$t1" \
      'BEGIN{printf "%.2f %.0f %.1f\n", c/k*1e6/r, c/k/(b-a)*100, p/k/(b-a)*100}')
    for kv in "rps $rps" "p50_ms $p50" "p99_ms $p99" "requests $reqs" "cpu_us_per_req $cpuus" "cpu_pct $util" \
              "peer_cpu_pct $peerpct" "errors $err" "foreign_pct $FOREIGN"; do
      set -- $kv; printf '%s\t%s\t%s\t%s\t%s\n' "$ROUND" hello "$srv" "$1" "$2" >> "$RAW"
    done
    log "  round $ROUND $srv: rps=$rps cpu/req=${cpuus}us cpu=${util}% p99=${p99}ms err=$err peer=${peerpct}% foreign=${FOREIGN}%"
  done
done
for srv in "${SERVERS[@]}"; do
  grep -c 'failed in' "$W/$srv/stderr.log" | sed "s/^/$srv plugin failures logged: /" | tee -a "$LOG"
  cp "$W/$srv/stderr.log" "$W/$srv-stderr.log"; cp "$W/$srv/river.kdl" "$W/$srv.kdl"
done
cp "$W/origin/nginx.conf" "$W/origin-nginx.conf"
$PY "$HERE/wasm_table.py" "$RAW" | tee "$W/table.md"
log "raw: $RAW (round, scenario, server, metric, value; round 'first' for the first requests); table: $W/table.md"
