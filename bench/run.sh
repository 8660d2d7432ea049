#!/usr/bin/env bash
# run.sh - River beside nginx, HAProxy and Caddy as reverse proxies on loopback, in one run.
#
# usage: run.sh [--runs N] [--only river,nginx,haproxy,caddy,custom] [--custom 'COMMAND']
#               [--dur S] [--warm S] [--hold-conns N] [--out DIR] [--no-origin]
#               [--java PATH] [--jvm-opts 'FLAGS'] [--scenarios a,b,c,d,e,g,h] [--smoke]
#
# River runs from target/river.jar (build it first: mvn -B -q package -DskipTests) through
# river-proxy.sh, with the JDK given by --java (default: java on PATH) and the launcher's JVM flags.
# --smoke: River alone, one short round of every scenario but h (keeps this script from rotting);
#   `--smoke --scenarios h` is upstream-tls.sh's smoke round, merged like h.
# --scenarios: only these (default all); e.g. `--scenarios a` for req/s, p99 and CPU per request alone.
# Scenario h is upstream-tls.sh (2 threads, TLS to 16 origins, its own free ports), run after the other
# rounds with --rounds = --runs, into OUT/h/; its figures join raw.tsv as h_* (nginx -> nginx and
# nginx32; caddy and custom are not in it). --dur/--warm/--prewarm reach it only when given.
#
# COMMAND (for --custom) must start, in the foreground, a proxy listening on
# 127.0.0.1:$PROXY_PORT (and optionally TLS+h2 on 127.0.0.1:$TLS_PORT) that forwards to
# 127.0.0.1:$ORIGIN_PORT.  It is run as `bash -c "exec COMMAND"` so a plain command
# becomes the tracked PID.  Environment passed to it:
#   PROXY_WORKERS  1 (pinned scenarios) or 2 (scenario d, 2-worker variant)
#   ORIGIN         127.0.0.1:$ORIGIN_PORT
#   TLS_CERT / TLS_KEY / TLS_PEM   self-signed cert for 127.0.0.1 (PEM files)
#   BENCH_WORK     this run's work directory
#   PROXY_PORT / TLS_PORT / ORIGIN_PORT   where to listen and where the origin is
# The ports default to 8080, 8443, 9001 (origin) and 9002 (origin status); set PROXY_PORT, TLS_PORT,
# ORIGIN_PORT and STATUS_PORT to run beside something that holds those (the smoke test does).
# Everything stays on 127.0.0.1.  Every load run is bounded with `timeout`.
set -u
PROXY_PORT=${PROXY_PORT:-8080}; TLS_PORT=${TLS_PORT:-8443}; ORIGIN_PORT=${ORIGIN_PORT:-9001}; STATUS_PORT=${STATUS_PORT:-9002}
export PROXY_PORT TLS_PORT ORIGIN_PORT
HERE=$(cd "$(dirname "$0")" && pwd)
RUNS=3; SCENARIOS=a,b,c,d,e,g,h; ONLY=""; CUSTOM=""; DUR=8; WARM=10; PREWARM=40; HOLD_N=5000; HOLD_S=10; OUT=""; ORIGIN_CEIL=1
SMOKE=0; SCEN_GIVEN=0; H_ARGS=()   # H_ARGS: the --dur/--warm/--prewarm given, for scenario h
JAVA_BIN=${JAVA:-java}; JVM_OPTS=${RIVER_JVM_OPTS:-}
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=$2; shift 2;;
    --only) ONLY=$2; shift 2;;
    --custom) CUSTOM=$2; shift 2;;
    --dur) DUR=$2; H_ARGS+=(--dur "$2"); shift 2;;
    --warm) WARM=$2; H_ARGS+=(--warm "$2"); shift 2;;
    --prewarm) PREWARM=$2; H_ARGS+=(--prewarm "$2"); shift 2;;
    --hold-conns) HOLD_N=$2; shift 2;;
    --out) OUT=$2; shift 2;;
    --no-origin) ORIGIN_CEIL=0; shift;;
    --java) JAVA_BIN=$2; shift 2;;
    --jvm-opts) JVM_OPTS=$2; shift 2;;
    --scenarios) SCENARIOS=$2; SCEN_GIVEN=1; shift 2;;
    --smoke) SMOKE=1; RUNS=1; ONLY=river; DUR=2; WARM=2; PREWARM=2; HOLD_N=200; HOLD_S=2; ORIGIN_CEIL=0
             MEASURE_TRIES=1; QUIET_TRIES=1; shift;;   # a smoke round checks the script, not the figures: no waiting for quiet
    -h|--help) sed -n '2,28p' "$0"; exit 0;;
    *) echo "unknown arg $1" >&2; exit 2;;
  esac
done
[ "$SMOKE" = 1 ] && [ "$SCEN_GIVEN" = 0 ] && SCENARIOS=a,b,c,d,e,g   # h has its own smoke round (BenchSmokeIT)
if [ -z "$ONLY" ]; then ONLY="river,nginx,haproxy,caddy"; [ -n "$CUSTOM" ] && ONLY="$ONLY,custom"; fi
case ",$ONLY," in *,custom,*) [ -z "$CUSTOM" ] && { echo "--only custom needs --custom 'COMMAND'" >&2; exit 2; };; esac
IFS=, read -r -a PROXIES <<< "$ONLY"

W=${OUT:-$HERE/runs/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$W"; W=$(cd "$W" && pwd)
RAW=$W/raw.tsv; LOG=$W/harness.log; : > "$RAW"
ulimit -n "$(ulimit -Hn)"   # hard limit here is 20000 (container); cannot be raised
PY=${PYTHON:-python3}
CLK=$(getconf CLK_TCK)

log() { echo "[$(date +%T)] $*" | tee -a "$LOG" >&2; }
rec() { printf '%s\t%s\t%s\t%s\n' "$RUN" "$PROXY" "$1" "$2" >> "$RAW"; }

. "$HERE/lib.sh"   # process utilities and the nginx configurations
trap 'cleanup' EXIT
trap 'log "interrupted"; exit 130' INT TERM

accepts() { curl -s -m 2 http://127.0.0.1:$STATUS_PORT/status | awk 'NR==3{print $1}'; }

# ---------------------------------------------------------------- files & configs
setup() {
  mkdir -p "$W/www" "$W/origin/logs" "$W/river" "$W/nginx" "$W/haproxy" "$W/caddy" "$W/custom" "$W/out"
  chmod 755 "$W" "$W/www"
  printf 'Hello world\n' > "$W/www/hello"            # 12 bytes
  head -c 65536 /dev/urandom > "$W/www/64k"          # 64 KiB
  chmod 644 "$W/www/hello" "$W/www/64k"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -keyout "$W/key.pem" -out "$W/cert.pem" >/dev/null 2>&1
  cat "$W/cert.pem" "$W/key.pem" > "$W/combined.pem"; chmod 644 "$W"/*.pem
  nginx_origin_conf "$W/origin" "$W/www" "$ORIGIN_PORT" "$STATUS_PORT" > "$W/origin/nginx.conf"
  for nw in 1 2; do
  nginx_proxy_conf "$W/nginx" "$nw" "$PROXY_PORT" "$ORIGIN_PORT" "$TLS_PORT" "$W/cert.pem" "$W/key.pem" > "$W/nginx/nginx$nw.conf"
  haproxy_proxy_conf "$W/haproxy" "$nw" "$PROXY_PORT" "$ORIGIN_PORT" "$TLS_PORT" "$W/combined.pem" > "$W/haproxy/haproxy$nw.cfg"
  done
  cat > "$W/caddy/Caddyfile" <<EOF
{
  admin off
  auto_https off
  storage file_system $W/caddy/data
  default_sni 127.0.0.1
}
http://:$PROXY_PORT {
  bind 127.0.0.1
  reverse_proxy 127.0.0.1:$ORIGIN_PORT
}
https://:$TLS_PORT {
  bind 127.0.0.1
  tls $W/cert.pem $W/key.pem
  reverse_proxy 127.0.0.1:$ORIGIN_PORT
}
EOF
}

# start_proxy NAME WORKERS CPUS -> sets PPID_ (tracked pid)
start_proxy() {
  local name=$1 nw=$2 cpus=$3 outf="$W/$1/stdout-w$2.log"
  wait_free $PROXY_PORT || { log "port $PROXY_PORT still busy"; return 1; }
  wait_free $TLS_PORT || true
  case $name in
    river)   PROXY_WORKERS=$nw ORIGIN=127.0.0.1:$ORIGIN_PORT BENCH_WORK=$W/river JAVA=$JAVA_BIN RIVER_JVM_OPTS=$JVM_OPTS \
             TLS_CERT=$W/cert.pem TLS_KEY=$W/key.pem \
             setsid taskset -c "$cpus" "$HERE/river-proxy.sh" >>"$outf" 2>&1 & ;;
    nginx)   setsid taskset -c "$cpus" nginx -p "$W/nginx" -e "$W/nginx/error.log" -c "$W/nginx/nginx$nw.conf" -g 'daemon off;' >>"$outf" 2>&1 & ;;
    haproxy) setsid taskset -c "$cpus" haproxy -db -f "$W/haproxy/haproxy$nw.cfg" >>"$outf" 2>&1 & ;;
    caddy)   HOME=$W/caddy XDG_DATA_HOME=$W/caddy/data XDG_CONFIG_HOME=$W/caddy/config GOMAXPROCS=$nw \
             setsid taskset -c "$cpus" caddy run --config "$W/caddy/Caddyfile" --adapter caddyfile >>"$outf" 2>&1 & ;;
    custom)  PROXY_WORKERS=$nw ORIGIN=127.0.0.1:$ORIGIN_PORT TLS_CERT=$W/cert.pem TLS_KEY=$W/key.pem TLS_PEM=$W/combined.pem BENCH_WORK=$W \
             setsid taskset -c "$cpus" bash -c "exec $CUSTOM" >>"$outf" 2>&1 & ;;
  esac
  PPID_=$!; STARTED+=("$PPID_")
  if ! wait_http http://127.0.0.1:$PROXY_PORT/hello 60; then
    log "$name did not come up on $PROXY_PORT (see $outf)"; stop_pid "$PPID_"; return 1
  fi
  # Every proxy gets the same unmeasured load after start, in rounds of 5 s with fresh connections: a
  # JVM compiles its hot paths under load, and deoptimises and recompiles them each time it sees
  # connections close and open for the first few times (a proxy in service sees that constantly).
  # Both are start-up, not steady state: with 8 rounds River's JIT compiler is idle in every measured
  # window (docs/performance.md).
  local rounds=$(( PREWARM / 5 > 0 ? PREWARM / 5 : 1 )) k
  for k in $(seq "$rounds"); do WRK $(( PREWARM / rounds )) http://127.0.0.1:$PROXY_PORT/hello /dev/null; done
  sleep 1
  return 0
}

WRK() { # duration url outfile [cpu]
  timeout $(( $1 + 15 )) taskset -c "${4:-0}" wrk -t1 -c50 -d"$1"s --latency "$2" > "$3" 2>&1; }

# scenario a (+ d, f): records a_*, <dkey>, f_*
_a_body() {  # pid file
  WRK "$WARM" http://127.0.0.1:$PROXY_PORT/hello /dev/null
  A0=$(accepts); C0=$(cpu_ticks "$1"); T0=$(date +%s.%N)
  WRK "$DUR" http://127.0.0.1:$PROXY_PORT/hello "$2"
  T1=$(date +%s.%N); C1=$(cpu_ticks "$1"); A1=$(accepts)
}
scen_a() { # pid dkey
  local pid=$1 dkey=$2 f="$W/out/r$RUN-$PROXY-$2-a.txt" rps p50 p99 mib reqs err
  measured _a_body "$pid" "$f"
  read -r rps p50 p99 mib reqs err < <($PY "$HERE/bench_util.py" wrk "$f" 2>/dev/null) || { log "wrk parse failed: $f"; return 1; }
  rec "$dkey" "$(awk -v a="$A0" -v b="$A1" -v r="$reqs" 'BEGIN{printf "%.4f", (b-a-1)*1000/r}')"
  if [ "$dkey" = d1_per1k ]; then
    rec a_rps "$rps"; rec a_p50 "$p50"; rec a_p99 "$p99"; rec a_err "$err"; rec a_foreign "$FOREIGN"
    rec f_cpu100k "$(awk -v c=$((C1-C0)) -v k="$CLK" -v r="$reqs" 'BEGIN{printf "%.4f", c/k*100000/r}')"
    rec f_util "$(awk -v c=$((C1-C0)) -v k="$CLK" -v a="$T0" -v b="$T1" 'BEGIN{printf "%.1f", c/k/(b-a)*100}')"
  else
    rec d2_rps "$rps"; rec d2_foreign "$FOREIGN"
  fi
  log "  $PROXY $dkey: ${rps} req/s p50=${p50}ms p99=${p99}ms err=$err upstream-accepts=$((A1-A0-1)) cpu_ticks=$((C1-C0)) foreign=${FOREIGN}%"
}

_b_body() { WRK "$WARM" http://127.0.0.1:$PROXY_PORT/64k /dev/null; WRK "$DUR" http://127.0.0.1:$PROXY_PORT/64k "$1"; }
scen_b() {
  local f="$W/out/r$RUN-$PROXY-b.txt" rps p50 p99 mib reqs err
  measured _b_body "$f"
  read -r rps p50 p99 mib reqs err < <($PY "$HERE/bench_util.py" wrk "$f" 2>/dev/null) || { log "wrk parse failed: $f"; return 1; }
  rec b_rps "$rps"; rec b_mibps "$mib"; rec b_foreign "$FOREIGN"
  log "  $PROXY b: ${rps} req/s ${mib} MiB/s err=$err foreign=${FOREIGN}%"
}

_c_body() { timeout $(( WARM + DUR + 15 )) taskset -c 0 h2load -c10 -m10 -D "$DUR" --warm-up-time="$WARM" \
    https://127.0.0.1:$TLS_PORT/hello > "$1" 2>&1; }
scen_c() {
  local f="$W/out/r$RUN-$PROXY-c.txt" rps ok fail
  command -v h2load >/dev/null || { log "  $PROXY c: h2load not installed, skipped"; return 0; }
  if ! curl -sk -m 2 --http2 -o /dev/null https://127.0.0.1:$TLS_PORT/hello; then
    log "  $PROXY c: no TLS listener on $TLS_PORT, skipped"; return 0; fi
  measured _c_body "$f"
  read -r rps ok fail < <($PY "$HERE/bench_util.py" h2load "$f") || return 1
  rec c_rps "$rps"; rec c_fail "$fail"; rec c_foreign "$FOREIGN"
  log "  $PROXY c: ${rps} req/s ok=$ok failed=$fail foreign=${FOREIGN}%"
}

# scenario g: a full TLS handshake per request (the proxy closes each connection after answering).
_g_body() {
  timeout $(( WARM + 15 )) taskset -c 0 wrk -t1 -c50 -d"$WARM"s -H "Connection: close" https://127.0.0.1:$TLS_PORT/hello > /dev/null 2>&1
  timeout $(( DUR + 15 )) taskset -c 0 wrk -t1 -c50 -d"$DUR"s -H "Connection: close" --latency https://127.0.0.1:$TLS_PORT/hello > "$1" 2>&1; }
scen_g() {
  local f="$W/out/r$RUN-$PROXY-g.txt" rps p50 p99 mib reqs err
  if ! curl -sk -m 2 -o /dev/null https://127.0.0.1:$TLS_PORT/hello; then
    log "  $PROXY g: no TLS listener on $TLS_PORT, skipped"; return 0; fi
  measured _g_body "$f"
  read -r rps p50 p99 mib reqs err < <($PY "$HERE/bench_util.py" wrk "$f" 2>/dev/null) || { log "wrk parse failed: $f"; return 1; }
  rec g_hps "$rps"; rec g_err "$err"
  log "  $PROXY g: ${rps} handshakes/s err=$err foreign=${FOREIGN}%"
}

scen_e() { # pid
  local pid=$1 ready="$W/out/r$RUN-$PROXY-e.ready" f="$W/out/r$RUN-$PROXY-e.txt" idle held=0 s i hp ok
  wait_quiet; idle=$(rss_kib "$pid"); rm -f "$ready"
  timeout $(( HOLD_S + 60 )) taskset -c 0 $PY "$HERE/holdconns.py" --port "$PROXY_PORT" --n "$HOLD_N" --hold "$HOLD_S" --ready-file "$ready" > "$f" 2>&1 &
  hp=$!; STARTED+=("$hp")
  for i in $(seq 500); do [ -s "$ready" ] && break; kill -0 $hp 2>/dev/null || break; sleep 0.1; done
  if [ -s "$ready" ]; then
    sleep 2
    for i in 1 2 3; do s=$(rss_kib "$pid"); [ "$s" -gt "$held" ] && held=$s; sleep 1; done
  fi
  wait $hp 2>/dev/null
  ok=$(awk '/^HELD/{print $2}' "$f"); ok=${ok:-0}
  rec e_rss_idle "$idle"; rec e_held_ok "$ok"
  if [ "$held" -gt 0 ] && [ "$ok" -gt 0 ]; then
    rec e_rss_held "$held"
    rec e_kib_conn "$(awk -v a="$idle" -v b="$held" -v n="$ok" 'BEGIN{printf "%.3f", (b-a)/n}')"
  fi
  log "  $PROXY e: idle=${idle}KiB held=${held}KiB conns_ok=$ok ($(tr '\n' ' ' < "$f"))"
}

wants() { case ",$SCENARIOS," in *,$1,*) return 0;; esac; return 1; }
wants_own() { local s; for s in a b c d e g; do wants $s && return 0; done; return 1; }

# scenario h: upstream-tls.sh in its own topology (2 threads, 16 TLS origins, free ports of its own) into
# $W/h, after every other round; its raw.tsv joins ours with each metric prefixed h_.
H_PROXIES=()
h_proxies() {  # run.sh's --only -> upstream-tls.sh's --only
  local p
  for p in "${PROXIES[@]}"; do case $p in
    river|haproxy) H_PROXIES+=("$p");;
    nginx) H_PROXIES+=(nginx nginx32);;   # keepalive 256 and the usual keepalive 32, two columns
    *) log "h: $p is not in upstream-tls.sh, skipped";;
  esac; done
}
scen_h() {
  local args=(--out "$W/h" --java "$JAVA_BIN" --jvm-opts "$JVM_OPTS") rc
  h_proxies
  [ ${#H_PROXIES[@]} -gt 0 ] || { log "h: no proxy to run"; return 0; }
  if [ "$SMOKE" = 1 ]; then args+=(--smoke)   # River alone, one short round
  else args+=(--rounds "$RUNS" --only "$(IFS=,; echo "${H_PROXIES[*]}")" "${H_ARGS[@]}"); fi
  log "h: upstream-tls.sh ${args[*]}"
  # Our own ports stay ours: it picks free ones unless all of these are set.
  # Its log lines (stderr) go to the console and our log; its table is in $W/h/table.md.
  env -u PROXY_PORT -u STATUS_PORT -u ORIGIN_PORTS -u PLAIN_PORTS bash "$HERE/upstream-tls.sh" "${args[@]}" 2>&1 >/dev/null \
    | tee -a "$LOG" >&2; rc=${PIPESTATUS[0]}
  [ "$rc" = 0 ] || log "h: upstream-tls.sh exited $rc (see $W/h/harness.log)"
  [ -f "$W/h/raw.tsv" ] && $PY "$HERE/bench_util.py" merge "$W/h/raw.tsv" h_ >> "$RAW"
}

proxy_round() {
  local name=$1
  PROXY=$name
  log "run $RUN: $name (1 worker, pinned cpu 1)"
  start_proxy "$name" 1 1 || { rec start_fail 1; return; }
  local pid=$PPID_
  rec e_rss_fresh "$(rss_kib "$pid")"
  wants a && scen_a "$pid" d1_per1k
  wants b && scen_b
  # Idle connections are measured after the cleartext load, before TLS: TLS libraries keep a native
  # high-water mark from a handshake flood that would otherwise hide the per-connection figure.
  wants e && scen_e "$pid"
  wants c && scen_c
  wants g && scen_g
  rec e_rss_after_tls "$(rss_kib "$pid")"
  stop_pid "$pid"
  wants d || return 0
  log "run $RUN: $name (2 workers, cpus 0,1) for scenario d"
  start_proxy "$name" 2 0,1 || { rec start_fail2 1; return; }
  pid=$PPID_
  log "  $name 2-worker mode: $(nproc_tree "$pid") process(es), threads=$(awk '/^Threads/{print $2}' /proc/$pid/status)"
  scen_a "$pid" d2_per1k
  stop_pid "$pid"
}

_o_body() { WRK "$WARM" http://127.0.0.1:$ORIGIN_PORT/hello /dev/null "$2"; WRK "$DUR" http://127.0.0.1:$ORIGIN_PORT/hello "$1" "$2"; }
origin_round() {
  local f rps p50 p99 mib reqs err cpu
  for cpu in 1 0; do
    PROXY="origin(wrk@cpu$cpu)"; f="$W/out/r$RUN-origin-cpu$cpu.txt"
    measured _o_body "$f" "$cpu"
    read -r rps p50 p99 mib reqs err < <($PY "$HERE/bench_util.py" wrk "$f")
    rec a_rps "$rps"; rec a_p50 "$p50"; rec a_p99 "$p99"; rec a_err "$err"; rec a_foreign "$FOREIGN"
    log "  origin direct, wrk on cpu$cpu: $rps req/s p50=$p50 p99=$p99 foreign=${FOREIGN}%"
  done
}

# ---------------------------------------------------------------- main
for b in wrk curl openssl taskset; do command -v $b >/dev/null || { echo "missing $b" >&2; exit 1; }; done
command -v h2load >/dev/null || log_h2load_missing=1
for p in "${PROXIES[@]}"; do case $p in nginx|haproxy|caddy) command -v "$p" >/dev/null || { echo "missing $p" >&2; exit 1; };;
  river) [ -f "${RIVER_JAR:-$HERE/../target/river.jar}" ] || { echo "missing target/river.jar: run mvn -B -q package -DskipTests" >&2; exit 1; };;
  custom) ;; *) echo "unknown proxy $p" >&2; exit 2;; esac; done
command -v nginx >/dev/null || { echo "missing nginx (the origin)" >&2; exit 1; }
if wants_own; then   # scenario h alone needs none of them
  for port in $PROXY_PORT $TLS_PORT $ORIGIN_PORT $STATUS_PORT; do port_busy $port && { echo "port $port already in use" >&2; exit 1; }; done
fi

wants_own && setup
{
  echo "date: $(date -Is)"; echo "kernel: $(uname -r)"; echo "cpus: $(nproc)"
  echo "river: $JAVA_BIN $JVM_OPTS ($("$JAVA_BIN" -version 2>&1 | head -1))"
  nginx -v 2>&1; haproxy -v 2>&1 | head -1; echo "caddy $(caddy version 2>&1)"
  wrk -v 2>&1 | head -1; h2load --version; echo "scenarios=$SCENARIOS runs=$RUNS dur=$DUR warm=$WARM hold=$HOLD_N x ${HOLD_S}s proxies=$ONLY"
  [ -n "$CUSTOM" ] && echo "custom: $CUSTOM"
} > "$W/env.txt" 2>&1
log "work dir $W"
own_rounds() {  # the origin, then every round of scenarios a-g
  setsid taskset -c 0 nginx -p "$W/origin" -e "$W/origin/logs/error.log" -c "$W/origin/nginx.conf" -g 'daemon off;' >"$W/origin/stdout.log" 2>&1 &
  ORIGIN_PID=$!; STARTED+=("$ORIGIN_PID")
  wait_http http://127.0.0.1:$ORIGIN_PORT/hello 10 || { log "origin failed to start"; exit 1; }
  [ "$(curl -s http://127.0.0.1:$ORIGIN_PORT/hello | wc -c)" = 12 ] || log "WARNING /hello is not 12 bytes"
  [ "$(curl -s http://127.0.0.1:$ORIGIN_PORT/64k | wc -c)" = 65536 ] || log "WARNING /64k is not 65536 bytes"

  for RUN in $(seq "$RUNS"); do
    [ "$ORIGIN_CEIL" = 1 ] && origin_round
    for p in "${PROXIES[@]}"; do proxy_round "$p"; done
  done
  stop_pid "$ORIGIN_PID"
}
wants_own && own_rounds
wants h && scen_h

order="$(echo ",$ONLY," | sed 's/,nginx,/,nginx,nginx32,/; s/^,//; s/,$//'),origin(wrk@cpu1),origin(wrk@cpu0)"
$PY "$HERE/bench_util.py" summary "$RAW" "$order" | tee "$W/table.md"
log "raw data: $RAW ; table: $W/table.md ; log: $LOG"
