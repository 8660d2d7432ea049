#!/usr/bin/env bash
# upstream-tls.sh - the scenario where a shared upstream pool should win (issue 19, item 5): River beside
# nginx and HAProxy, each with 2 worker threads, proxying 200 keep-alive clients round robin to 16 origin
# servers over TLS, in one run with interleaved rounds.
#
# usage: upstream-tls.sh [--rounds N] [--only river,nginx,nginx32,haproxy,river-plain,nginx-plain] [--dur S] [--warm S] [--prewarm S]
#                        [--conns N] [--origins K] [--out DIR] [--java PATH] [--jvm-opts 'FLAGS'] [--smoke]
#
# The origin: one nginx (1 worker, cpu 0) listening with TLS (self-signed certificate for "localhost",
# TLS 1.2/1.3, session cache and tickets on, HTTP/1.1) on K (16) loopback ports, answering every path with
# "Hello world\n"; it logs one line per new connection (the port and $ssl_session_reused) and counts
# accepted connections in stub_status. The clients: wrk -t1 -cN (200), HTTP/1.1 keep-alive, cleartext, on
# cpu 0. The proxy under test runs on cpus 0,1 with 2 workers/threads, verifies the origin's certificate
# against that certificate (SNI "localhost"), and balances round robin over the K origins:
#   river    threads-per-service 2, K connectors tls-sni="localhost" ca-path=cert proto="h1-only"
#   nginx    worker_processes 2; upstream block with keepalive 256 (no idle connection closed for lack of
#            room at 200 clients), keepalive_requests 1000000, proxy_http_version 1.1, Connection "",
#            proxy_ssl_session_reuse on, proxy_ssl_verify on
#   nginx32  the same with keepalive 32, the value most guides give
#   haproxy  nbthread 2, http-reuse always, servers with ssl verify required sni, session reuse (default)
#   river-plain, nginx-plain  river and nginx to K more origin ports without TLS (not in the default
#            list): what TLS to the upstream costs each proxy
# Per round (the proxy order rotates every round): start the proxy, PREWARM seconds of unmeasured load in
# 5 s windows with fresh client connections, WARM seconds more, then one DUR-second measured window:
# req/s, p50/p99, errors; the proxy's CPU (utime+stime of its process tree) per request, and the part
# of it its JIT compiler threads used (a JVM still compiling is not in steady state); the origin's CPU;
# upstream connections accepted by the origins per 1000 requests (= TLS handshakes), the part of them
# that resumed a session, reuse % (requests that did not open a connection), connections open at the
# end; and the CPU used by processes this script did not start (other tenants), as in run.sh.
# Ports are free ones picked at start unless PROXY_PORT, STATUS_PORT and ORIGIN_PORTS (comma list) are set
# (and PLAIN_PORTS, K of them, for the -plain variants).
# --smoke: River alone, one short round (BenchSmokeIT runs it, so the script cannot rot).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROUNDS=3; ONLY="river,nginx,nginx32,haproxy"; DUR=10; WARM=5; PREWARM=40; CONNS=200; K=16; OUT=""
JAVA_BIN=${JAVA:-java}; JVM_OPTS=${RIVER_JVM_OPTS:-}
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift 2;;
    --only) ONLY=$2; shift 2;;
    --dur) DUR=$2; shift 2;;
    --warm) WARM=$2; shift 2;;
    --prewarm) PREWARM=$2; shift 2;;
    --conns) CONNS=$2; shift 2;;
    --origins) K=$2; shift 2;;
    --out) OUT=$2; shift 2;;
    --java) JAVA_BIN=$2; shift 2;;
    --jvm-opts) JVM_OPTS=$2; shift 2;;
    --smoke) ROUNDS=1; ONLY=river; DUR=2; WARM=1; PREWARM=2; CONNS=20; MEASURE_TRIES=1; QUIET_TRIES=1; shift;;
    -h|--help) sed -n '2,27p' "$0"; exit 0;;
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

for b in nginx wrk curl taskset openssl ss; do command -v $b >/dev/null || { echo "missing $b" >&2; exit 1; }; done
for p in "${PROXIES[@]}"; do case $p in
  river) [ -f "${RIVER_JAR:-$HERE/../target/river.jar}" ] || { echo "missing target/river.jar: run mvn -B -q package -DskipTests" >&2; exit 1; };;
  nginx|nginx32|nginx-plain|river-plain) ;;
  haproxy) command -v haproxy >/dev/null || { echo "missing haproxy" >&2; exit 1; };;
  *) echo "unknown proxy $p" >&2; exit 2;; esac; done
if [ -z "${PROXY_PORT:-}" ] || [ -z "${STATUS_PORT:-}" ] || [ -z "${ORIGIN_PORTS:-}" ]; then
  read -r -a FREE < <($PY "$HERE/slowreaders.py" free-ports $((K + 2)) | tr '\n' ' ')
  PROXY_PORT=${FREE[0]}; STATUS_PORT=${FREE[1]}; ORIGIN_PORTS=$(IFS=,; echo "${FREE[*]:2}")
fi
IFS=, read -r -a OPORTS <<< "$ORIGIN_PORTS"
K=${#OPORTS[@]}
case ",$ONLY," in *-plain,*) [ -z "${PLAIN_PORTS:-}" ] && PLAIN_PORTS=$($PY "$HERE/slowreaders.py" free-ports "$K" | paste -sd,);; esac
IFS=, read -r -a PPORTS <<< "${PLAIN_PORTS:-}"
export PROXY_PORT

W=${OUT:-$HERE/runs/upstream-tls-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$W/origin/logs" "$W/river" "$W/river-plain" "$W/nginx" "$W/nginx32" "$W/nginx-plain" "$W/haproxy" "$W/out"; W=$(cd "$W" && pwd)
chmod 755 "$W"
RAW=$W/raw.tsv; LOG=$W/harness.log; : > "$RAW"
log() { echo "[$(date +%T)] $*" | tee -a "$LOG" >&2; }
rec() { printf '%s\t%s\t%s\t%s\n' "$ROUND" "$PROXY" "$1" "$2" >> "$RAW"; }

# ---------------------------------------------------------------- certificate and configurations
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$W/key.pem" -out "$W/cert.pem" >/dev/null 2>&1
chmod 644 "$W"/*.pem

listens=""; servers_nginx=""; servers_haproxy=""; origins=""
for i in "${!OPORTS[@]}"; do
  listens+="    listen 127.0.0.1:${OPORTS[$i]} ssl backlog=4096;"$'\n'
  servers_nginx+="    server 127.0.0.1:${OPORTS[$i]};"$'\n'
  servers_haproxy+="  server o$i 127.0.0.1:${OPORTS[$i]} ssl verify required ca-file $W/cert.pem sni str(localhost)"$'\n'
  origins+="${origins:+,}127.0.0.1:${OPORTS[$i]}"
done
plain_listens=""; servers_plain=""; plain_origins=""
for p in "${PPORTS[@]}"; do
  plain_listens+="    listen 127.0.0.1:$p backlog=4096;"$'\n'
  servers_plain+="    server 127.0.0.1:$p;"$'\n'
  plain_origins+="${plain_origins:+,}127.0.0.1:$p"
done
plain_server=""
[ -n "$plain_listens" ] && plain_server="server {
$plain_listens    location / { return 200 \"Hello world\\n\"; }
  }"

cat > "$W/origin/nginx.conf" <<EOC
worker_processes 1;
pid $W/origin/nginx.pid;
lock_file $W/origin/nginx.lock;
error_log $W/origin/logs/error.log warn;
worker_rlimit_nofile 20000;
events { worker_connections 8192; }
http {
  $(nginx_temp_paths "$W/origin")
  keepalive_timeout 300s;
  keepalive_requests 1000000;   # the origins never force a reconnect
  # One line per new connection (its first request): which origin, and whether TLS resumed a session.
  map \$connection_requests \$first_request { 1 1; default 0; }
  log_format conn '\$msec \$server_port \$ssl_session_reused \$ssl_protocol';
  access_log $W/origin/logs/conns.log conn if=\$first_request;
  server {
$listens    ssl_certificate $W/cert.pem;
    ssl_certificate_key $W/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:origin:10m;
    ssl_session_tickets on;
    location / { return 200 "Hello world\n"; }
  }
  $plain_server
  server {
    listen 127.0.0.1:$STATUS_PORT;
    access_log off;
    location = /status { stub_status; }
  }
}
EOC

nginx_conf() {  # dir keepalive [plain]
  local scheme=https servers=$servers_nginx
  [ -n "${3:-}" ] && { scheme=http; servers=$servers_plain; }
  cat <<EOC
worker_processes 2;
pid $1/nginx.pid;
lock_file $1/nginx.lock;
error_log $1/error.log warn;
worker_rlimit_nofile 20000;
events { worker_connections 16384; }
http {
  access_log off;
  $(nginx_temp_paths "$1")
  keepalive_requests 1000000;
  upstream origins {
$servers    keepalive $2;
    keepalive_requests 1000000;   # the default, 1000, closes every upstream connection after 1000 requests
    keepalive_timeout 300s;
  }
  server {
    listen 127.0.0.1:$PROXY_PORT backlog=4096;
    location / {
      proxy_pass $scheme://origins;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_ssl_session_reuse on;
      proxy_ssl_protocols TLSv1.2 TLSv1.3;
      proxy_ssl_server_name on;
      proxy_ssl_name localhost;
      proxy_ssl_verify on;
      proxy_ssl_trusted_certificate $W/cert.pem;
    }
  }
}
EOC
}
nginx_conf "$W/nginx" 256 > "$W/nginx/nginx.conf"
nginx_conf "$W/nginx32" 32 > "$W/nginx32/nginx.conf"
nginx_conf "$W/nginx-plain" 256 plain > "$W/nginx-plain/nginx.conf"

cat > "$W/haproxy/haproxy.cfg" <<EOC
global
  nbthread 2
  maxconn 9000
  pidfile $W/haproxy/haproxy.pid
  ssl-server-verify required
defaults
  mode http
  maxconn 9000
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout http-keep-alive 60s
  option http-keep-alive
  http-reuse always
frontend fe
  bind 127.0.0.1:$PROXY_PORT
  default_backend be
backend be
  balance roundrobin
$servers_haproxy
EOC

{
  echo "date: $(date -Is)"; echo "kernel: $(uname -r)"; echo "cpus: $(nproc)"; echo "load: $(cat /proc/loadavg)"
  echo "river: $JAVA_BIN $JVM_OPTS ($("$JAVA_BIN" -version 2>&1 | head -1))"; nginx -v 2>&1
  command -v haproxy >/dev/null && haproxy -v 2>&1 | head -1; wrk -v 2>&1 | head -1; openssl version
  echo "rounds=$ROUNDS proxies=$ONLY dur=${DUR}s warm=${WARM}s prewarm=${PREWARM}s conns=$CONNS origins=$K"
  echo "ports: proxy=$PROXY_PORT status=$STATUS_PORT origins=$ORIGIN_PORTS plain=${PLAIN_PORTS:-}"
} > "$W/env.txt" 2>&1
log "work dir $W"

setsid taskset -c 0 nginx -p "$W/origin" -e "$W/origin/logs/error.log" -c "$W/origin/nginx.conf" -g 'daemon off;' >"$W/origin/stdout.log" 2>&1 &
ORIGIN_PID=$!; STARTED+=("$ORIGIN_PID")
for p in "${OPORTS[@]}"; do
  wait_http "https://localhost:$p/" 10 || { log "origin failed to start on $p (see $W/origin/logs/error.log)"; exit 1; }
done
curl -s -o /dev/null --cacert "$W/cert.pem" "https://localhost:${OPORTS[0]}/" || { log "the origin's certificate does not verify"; exit 1; }

accepts() { curl -s -m 2 "http://127.0.0.1:$STATUS_PORT/status" | awk 'NR==3{print $1}'; }
conn_lines() { wc -l < "$W/origin/logs/conns.log" 2>/dev/null || echo 0; }
# Established connections whose far end is an origin port: the proxy's side of each upstream connection.
upstream_open() { ss -Htn state established | awk -v ports=",$ORIGIN_PORTS,${PLAIN_PORTS:-}," '{n=split($4,a,":"); if (index(ports, "," a[n] ",")) c++} END{print c+0}'; }

start_proxy() {  # name -> PROXY_PID
  local outf="$W/$1/stdout.log" rounds k
  wait_free "$PROXY_PORT" || { log "port $PROXY_PORT still busy"; return 1; }
  case $1 in
    river) PROXY_WORKERS=2 ORIGIN=$origins CONNECTOR_PROPS="tls-sni=\"localhost\" ca-path=\"$W/cert.pem\" proto=\"h1-only\"" \
             BENCH_WORK=$W/river JAVA=$JAVA_BIN RIVER_JVM_OPTS=$JVM_OPTS \
             setsid taskset -c 0,1 "$HERE/river-proxy.sh" >>"$outf" 2>&1 & ;;
    river-plain) PROXY_WORKERS=2 ORIGIN=$plain_origins BENCH_WORK=$W/river-plain JAVA=$JAVA_BIN RIVER_JVM_OPTS=$JVM_OPTS \
             setsid taskset -c 0,1 "$HERE/river-proxy.sh" >>"$outf" 2>&1 & ;;
    nginx|nginx32|nginx-plain) setsid taskset -c 0,1 nginx -p "$W/$1" -e "$W/$1/error.log" -c "$W/$1/nginx.conf" -g 'daemon off;' >>"$outf" 2>&1 & ;;
    haproxy) setsid taskset -c 0,1 haproxy -db -f "$W/haproxy/haproxy.cfg" >>"$outf" 2>&1 & ;;
  esac
  PROXY_PID=$!; STARTED+=("$PROXY_PID")
  wait_http "http://127.0.0.1:$PROXY_PORT/" 60 || { log "$1 did not come up (see $outf)"; stop_pid "$PROXY_PID"; return 1; }
  # The same unmeasured load for every proxy, in 5 s windows with fresh client connections (a JVM
  # compiles its hot paths under load and recompiles them after the first connection churns).
  rounds=$(( PREWARM / 5 > 0 ? PREWARM / 5 : 1 ))
  for k in $(seq "$rounds"); do WRK $(( PREWARM / rounds )) /dev/null; done
  return 0
}

WRK() { # duration outfile
  timeout $(( $1 + 15 )) taskset -c 0 wrk -t1 -c"$CONNS" -d"$1"s --latency "http://127.0.0.1:$PROXY_PORT/hello" > "$2" 2>&1; }

_window() {  # outfile
  WRK "$WARM" /dev/null
  A0=$(accepts); L0=$(conn_lines); C0=$(cpu_ticks "$PROXY_PID"); US0=$(cpu_split "$PROXY_PID"); J0=$(jit_ticks "$PROXY_PID"); O0=$(cpu_ticks "$ORIGIN_PID"); T0=$(date +%s.%N)
  WRK "$DUR" "$1"
  T1=$(date +%s.%N); O1=$(cpu_ticks "$ORIGIN_PID"); C1=$(cpu_ticks "$PROXY_PID"); US1=$(cpu_split "$PROXY_PID"); J1=$(jit_ticks "$PROXY_PID"); A1=$(accepts); L1=$(conn_lines)
  OPEN=$(upstream_open)
  read -r U0 S0 <<< "$US0"; read -r U1 S1 <<< "$US1"
}
cpu_split() { local u=0 s=0 p a b; for p in $(tree_pids "$1"); do   # pid -> "utime stime" ticks of its tree
    read -r a b < <(sed 's/.*) //' /proc/$p/stat 2>/dev/null | awk '{print $12, $13}'); u=$((u + ${a:-0})); s=$((s + ${b:-0})); done; echo "$u $s"; }

round() {
  local f="$W/out/r$ROUND-$PROXY.txt" rps p50 p99 mib reqs err new full
  log "round $ROUND: $PROXY (2 workers, cpus 0,1); load: $(cut -d' ' -f1-3 /proc/loadavg)"
  start_proxy "$PROXY" || { rec start_fail 1; return; }
  measured _window "$f"
  stop_pid "$PROXY_PID"
  read -r rps p50 p99 mib reqs err < <($PY "$HERE/bench_util.py" wrk "$f" 2>/dev/null) || { log "wrk parse failed: $f"; rec wrk_fail 1; return; }
  new=$((A1 - A0 - 1))   # the second stub_status request is an accepted connection too
  full=$(sed -n "$((L0 + 1)),${L1}p" "$W/origin/logs/conns.log" | awk '$3 != "r"' | wc -l)
  rec rps "$rps"; rec p50 "$p50"; rec p99 "$p99"; rec err "$err"; rec reqs "$reqs"
  rec cpu_us "$(awk -v c=$((C1 - C0)) -v k="$CLK" -v r="$reqs" 'BEGIN{printf "%.2f", c/k*1e6/r}')"
  rec user_us "$(awk -v c=$((U1 - U0)) -v k="$CLK" -v r="$reqs" 'BEGIN{printf "%.2f", c/k*1e6/r}')"
  rec sys_us "$(awk -v c=$((S1 - S0)) -v k="$CLK" -v r="$reqs" 'BEGIN{printf "%.2f", c/k*1e6/r}')"
  rec jit_us "$(awk -v c=$((J1 - J0)) -v k="$CLK" -v r="$reqs" 'BEGIN{printf "%.2f", c/k*1e6/r}')"
  rec util "$(awk -v c=$((C1 - C0)) -v k="$CLK" -v a="$T0" -v b="$T1" 'BEGIN{printf "%.0f", c/k/(b-a)*100}')"
  rec origin_cpu_us "$(awk -v c=$((O1 - O0)) -v k="$CLK" -v r="$reqs" 'BEGIN{printf "%.2f", c/k*1e6/r}')"
  rec hs_per1k "$(awk -v n="$new" -v r="$reqs" 'BEGIN{printf "%.3f", n*1000/r}')"
  case $PROXY in *-plain) ;; *) rec full_per1k "$(awk -v n="$full" -v r="$reqs" 'BEGIN{printf "%.3f", n*1000/r}')";; esac
  rec reuse_pct "$(awk -v n="$new" -v r="$reqs" 'BEGIN{printf "%.3f", (1-n/r)*100}')"
  rec open "$OPEN"; rec foreign "$FOREIGN"
  log "  $PROXY: ${rps} req/s p50=${p50}ms p99=${p99}ms err=$err cpu=$((C1 - C0)) ticks (JIT $((J1 - J0))) for $reqs req; origin accepted $new (full handshakes $full), $OPEN open; foreign=${FOREIGN}%"
}

for ROUND in $(seq "$ROUNDS"); do
  n=${#PROXIES[@]}
  for j in $(seq 0 $((n - 1))); do PROXY=${PROXIES[$(( (j + ROUND - 1) % n ))]}; round; done
done
$PY "$HERE/bench_util.py" summary-upstream-tls "$RAW" "$ONLY" | tee "$W/table.md"
log "raw data: $RAW ; table: $W/table.md ; log: $LOG"
