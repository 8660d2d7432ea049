#!/usr/bin/env bash
# soak.sh - River under a steady mix of traffic for a long time, sampled every 10 s, failing if any
# resource grows without bound (see soak_check.py for the exact rule, bench/README.md for the mix).
#
# usage: soak.sh [--duration S] [--every S] [--out DIR] [--java PATH] [--jvm-opts 'FLAGS']
#   --duration  seconds of load (3600); the first quarter, at most 600 s, is warm-up and not judged
#   --every     seconds between samples (10)
#   --out       output directory (bench/runs/soak-<timestamp>/)
# Ports: PROXY_PORT, TLS_PORT, ORIGIN_PORT, ORIGIN_TLS_PORT, BAD_ORIGIN_PORT (8080, 8443, 9001, 9443, 9003).
# Output: samples.csv (one line per sample, columns in Probe.java), load.json (per-scenario counts),
# verdict.txt (soak_check.py's table), river.log, h2load.txt, harness.log. Exit 0 = passed.
# River runs from target/river.jar (mvn -B -q package -DskipTests) through bin/river, like the benchmark.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
DURATION=3600; EVERY=10; OUT=""; JAVA_BIN=${JAVA:-java}; JVM_OPTS=${RIVER_JVM_OPTS:-}
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION=$2; shift 2;;
    --every) EVERY=$2; shift 2;;
    --out) OUT=$2; shift 2;;
    --java) JAVA_BIN=$2; shift 2;;
    --jvm-opts) JVM_OPTS=$2; shift 2;;
    -h|--help) sed -n '2,13p' "$0"; exit 0;;
    *) echo "unknown arg $1" >&2; exit 2;;
  esac
done
PROXY_PORT=${PROXY_PORT:-8080}; TLS_PORT=${TLS_PORT:-8443}; ORIGIN_PORT=${ORIGIN_PORT:-9001}
ORIGIN_TLS_PORT=${ORIGIN_TLS_PORT:-9443}; BAD_ORIGIN_PORT=${BAD_ORIGIN_PORT:-9003}
JAR=${RIVER_JAR:-$HERE/../target/river.jar}
# Debian's python3 (with python3-h2) rather than a pyenv shim that may come first on PATH.
PY=${PYTHON:-$( [ -x /usr/bin/python3 ] && echo /usr/bin/python3 || echo python3 )}
W=${OUT:-$HERE/runs/soak-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$W"; W=$(cd "$W" && pwd)
LOG=$W/harness.log
log() { echo "[$(date +%T)] $*" | tee -a "$LOG" >&2; }

for b in nginx h2load curl openssl "$PY" "$JAVA_BIN"; do command -v "$b" >/dev/null || { echo "missing $b" >&2; exit 1; }; done
[ -f "$JAR" ] || { echo "missing $JAR: run mvn -B -q package -DskipTests" >&2; exit 1; }
"$PY" -c 'import h2' 2>/dev/null || { echo "missing python3-h2" >&2; exit 1; }
for port in $PROXY_PORT $TLS_PORT $ORIGIN_PORT $ORIGIN_TLS_PORT $BAD_ORIGIN_PORT; do
  ss -Hltn "sport = :$port" | grep -q LISTEN && { echo "port $port already in use" >&2; exit 1; }
done
ulimit -n "$(ulimit -Hn)"

STARTED=()
stop_pid() {  # a process this script started, by PID: TERM, then KILL after 5 s
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null
  for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return 0
}
cleanup() { local p; for p in "${STARTED[@]}"; do stop_pid "$p"; done; }
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM
wait_http() { local i; for i in $(seq $(( $2 * 10 ))); do
    curl -sk -m 1 -o /dev/null -w '%{http_code}' "$1" 2>/dev/null | grep -q 200 && return 0; sleep 0.1; done; return 1; }

# ---------------------------------------------------------------- files, origins, River
mkdir -p "$W/www/slow" "$W/origin/logs"
printf 'Hello world\n' > "$W/www/hello"
head -c 65536 /dev/urandom > "$W/www/64k"
head -c 1048576 /dev/urandom > "$W/www/1m"
cp "$W/www/1m" "$W/www/slow/1m"
# nginx started as root serves files as nobody: a private directory (a test's temporary one) must open up.
chmod 755 "$W" "$W/www" "$W/www/slow"; chmod 644 "$W/www/hello" "$W/www/64k" "$W/www/1m" "$W/www/slow/1m"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
  -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" -keyout "$W/key.pem" -out "$W/cert.pem" >/dev/null 2>&1
tmp="client_body_temp_path $W/origin/cbt; proxy_temp_path $W/origin/pt; fastcgi_temp_path $W/origin/ft; uwsgi_temp_path $W/origin/ut; scgi_temp_path $W/origin/st;"
cat > "$W/origin/nginx.conf" <<NGINX
worker_processes 1;
pid $W/origin/nginx.pid;
error_log $W/origin/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  $tmp
  keepalive_timeout 300s;
  keepalive_requests 1000000;
  sendfile on;
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:$ORIGIN_PORT;
    listen 127.0.0.1:$ORIGIN_TLS_PORT ssl http2;
    ssl_certificate $W/cert.pem;
    ssl_certificate_key $W/key.pem;
    root $W/www;
    location / { }
    location /h2up/ { alias $W/www/; }
    # A slow origin: 1 MiB at 256 KiB/s.
    location /slow/ { limit_rate 256k; }
    # Uploads: nginx reads and drops the body, then answers.
    location = /upload { client_max_body_size 8m; return 200 "uploaded\n"; }
  }
}
NGINX
nginx -p "$W/origin" -e "$W/origin/logs/error.log" -c "$W/origin/nginx.conf" -g 'daemon off;' >"$W/origin/stdout.log" 2>&1 &
STARTED+=($!)
"$PY" "$HERE/soak_origin.py" --port "$BAD_ORIGIN_PORT" > "$W/bad-origin.log" 2>&1 &
STARTED+=($!)
wait_http "http://127.0.0.1:$ORIGIN_PORT/hello" 10 || { log "origin failed to start"; exit 1; }

cat > "$W/river.kdl" <<KDL
system {
    threads-per-service 1
    access-log "off"
}
services {
    soak {
        listeners {
            "127.0.0.1:$PROXY_PORT"
            "127.0.0.1:$TLS_PORT" cert-path="$W/cert.pem" key-path="$W/key.pem"
        }
        // Short enough that stalled origins are given up on within one operation of the load.
        timeouts upstream-response-ms=5000 body-idle-ms=5000
        routes {
            route "/origin" {
                connectors {
                    "127.0.0.1:$BAD_ORIGIN_PORT"
                }
            }
            route "/h2up" {
                connectors {
                    "127.0.0.1:$ORIGIN_TLS_PORT" tls-sni="localhost" tls-verify=false proto="h2-only"
                }
            }
            route "/" {
                connectors {
                    "127.0.0.1:$ORIGIN_PORT"
                }
            }
        }
    }
}
KDL
RIVER_JAR=$JAR JAVA=$JAVA_BIN RIVER_JAVA_OPTS="-Driver.runtimeProbe=true $JVM_OPTS" "$HERE/../bin/river" --config-kdl "$W/river.kdl" > "$W/river.log" 2>&1 &
RIVER_PID=$!; STARTED+=("$RIVER_PID")
wait_http "http://127.0.0.1:$PROXY_PORT/hello" 60 || { log "River did not come up (see $W/river.log)"; exit 1; }
wait_http "https://127.0.0.1:$TLS_PORT/h2up/hello" 10 || log "WARNING: /h2up (HTTP/2 upstream) does not answer"
{ echo "date: $(date -Is)"; echo "kernel: $(uname -r) cpus: $(nproc)"; "$JAVA_BIN" -version 2>&1 | head -1
  nginx -v 2>&1; h2load --version; echo "duration=$DURATION every=$EVERY jvm_opts=$JVM_OPTS"; } > "$W/env.txt" 2>&1
log "work dir $W; River pid $RIVER_PID; $DURATION s of load, a sample every $EVERY s"

# ---------------------------------------------------------------- load and samples
SAMPLES=$(( DURATION / EVERY + 1 ))
"$JAVA_BIN" "$HERE/Probe.java" "$RIVER_PID" "$EVERY" "$SAMPLES" "$W/samples.csv" > "$W/probe.log" 2>&1 &
PROBE_PID=$!; STARTED+=("$PROBE_PID")
"$PY" "$HERE/soak_load.py" --port "$PROXY_PORT" --tls-port "$TLS_PORT" --duration "$DURATION" --stats "$W/load.json" \
  > "$W/load.log" 2>&1 &
LOAD_PID=$!; STARTED+=("$LOAD_PID")
# HTTP/2 with concurrent streams: 2 connections x 4 streams, 5 requests/s each, to the HTTP/1.1 and the
# HTTP/2 upstream in turn.
timeout $(( DURATION + 30 )) h2load -c2 -m4 --rps 5 -D "$DURATION" \
  "https://127.0.0.1:$TLS_PORT/hello" "https://127.0.0.1:$TLS_PORT/h2up/64k" > "$W/h2load.txt" 2>&1 &
H2_PID=$!; STARTED+=("$H2_PID")

wait "$LOAD_PID"; LOAD_RC=$?
wait "$H2_PID"; H2_RC=$?
# The probe takes its last sample at DURATION; it ends by itself (bounded by its sample count).
for i in $(seq $(( EVERY * 10 + 300 ))); do kill -0 "$PROBE_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$RIVER_PID" 2>/dev/null || log "River exited during the soak (see $W/river.log)"
log "load rc=$LOAD_RC h2load rc=$H2_RC; $(($(wc -l < "$W/samples.csv") - 1)) samples"
"$PY" "$HERE/soak_check.py" "$W/samples.csv" "$W/load.json" "$W/h2load.txt" --duration "$DURATION" | tee "$W/verdict.txt"
RC=${PIPESTATUS[0]}
[ "$LOAD_RC" = 0 ] || { log "load driver failed (see $W/load.log)"; RC=1; }
log "verdict: $([ "$RC" = 0 ] && echo PASSED || echo FAILED) ($W/verdict.txt)"
exit "$RC"
