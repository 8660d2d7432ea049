#!/usr/bin/env bash
# files.sh - River's file server and on-the-fly compression beside nginx (sendfile on, gzip on), in one
# run with interleaved rounds (issue 16, "Measure").
#
# usage: files.sh [--rounds N] [--window S] [--prewarm S] [--conns N] [--level L] [--tls]
#                 [--scenarios a,b,c] [--base-jar JAR] [--open-file-cache] [--out DIR] [--java PATH] [--jvm-opts 'FLAGS']
#
# Scenarios (wrk -t1 -cCONNS, HTTP/1.1 keep-alive, cleartext; --tls adds at and bt, the same over TLS):
#   a  GET /1m.bin   a 1 MiB static file (application/octet-stream: neither server compresses it)
#   b  GET /64k.bin  a 64 KiB static file
#   c  GET /100k.html with Accept-Encoding: gzip, proxied: River and nginx each forward to the same nginx
#      origin (which serves the file without gzip) and gzip it on the fly at level L (default 6, River's
#      default; nginx's gzip_comp_level set to the same).
# Both servers under test are started once, each with one event-loop thread / worker, BOTH pinned to
# cpu 1; wrk and the origin run on cpu 0. --base-jar JAR adds a third server, "river-base": another River
# build (an older one, for before/after in the same run) with the same configuration. Static files have compression on too (River compression
# block, nginx gzip on + gzip_types), as a site would run them. --open-file-cache adds "river-ofc" (River
# with open-file-cache max=1000 valid-ms=1000) and "nginx-ofc" (open_file_cache max=1000 inactive=20s;
# open_file_cache_valid 1s), both also on cpu 1.
# After an equal warm-up (PREWARM seconds per scenario and server, in 5 s windows taking turns), each
# round runs one WINDOW-second window per scenario and server, the server order rotating per round.
# Per window: req/s, MiB/s, bytes per response, the server's CPU (utime+stime of its process tree,
# /proc/PID/stat) per request and as % of a core, the CPU the OTHER servers used meanwhile (they share
# the core), and the CPU used by processes this script did not start (other tenants).
# Before measuring, curl checks every URL on both servers: status, size, body bytes (cmp with the file),
# Content-Encoding; and for c the compression ratio (gzip bytes / original bytes).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROUNDS=6; WINDOW=5; PREWARM=20; CONNS=50; LEVEL=6; TLS=0; SCEN="a,b,c"; OUT=""; JVM_OPTS=""; BASE_JAR=""
JAVA_BIN=${JAVA:-java}
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift 2;;
    --window) WINDOW=$2; shift 2;;
    --prewarm) PREWARM=$2; shift 2;;
    --conns) CONNS=$2; shift 2;;
    --level) LEVEL=$2; shift 2;;
    --tls) TLS=1; shift;;
    --scenarios) SCEN=$2; shift 2;;
    --base-jar) BASE_JAR=$2; shift 2;;
    --open-file-cache) OFC=1; shift;;
    --out) OUT=$2; shift 2;;
    --java) JAVA_BIN=$2; shift 2;;
    --jvm-opts) JVM_OPTS=$2; shift 2;;
    -h|--help) sed -n '2,26p' "$0"; exit 0;;
    *) echo "unknown arg $1" >&2; exit 2;;
  esac
done
JAR=${RIVER_JAR:-$HERE/../target/river.jar}
PY=${PYTHON:-python3}
CLK=$(getconf CLK_TCK)
. "$HERE/lib.sh"
trap 'cleanup' EXIT
trap 'exit 130' INT TERM
for b in nginx wrk curl taskset openssl gzip cmp; do command -v $b >/dev/null || { echo "missing $b" >&2; exit 1; }; done
[ -f "$JAR" ] || { echo "no $JAR: mvn -B -o -q package -DskipTests" >&2; exit 1; }
[ "$TLS" = 1 ] && SCEN="$SCEN,at,bt"
IFS=, read -r -a SCENARIOS <<< "$SCEN"
SERVERS=(river nginx); [ -n "$BASE_JAR" ] && SERVERS=(river river-base nginx)
[ "$OFC" = 1 ] && SERVERS+=(river-ofc nginx-ofc)

W=${OUT:-$HERE/runs/files-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$W/www" "$W/origin/logs" "$W/nginx/logs" "$W/nginx-ofc/logs" "$W/river" "$W/river-base" "$W/river-ofc" "$W/out" "$W/check"; W=$(cd "$W" && pwd)
chmod 755 "$W" "$W/www"
RAW=$W/raw.tsv; LOG=$W/harness.log; : > "$RAW"
log() { echo "[$(date +%T)] $*" | tee -a "$LOG" >&2; }

# ---------------------------------------------------------------- content
head -c 1048576 /dev/urandom > "$W/www/1m.bin"
head -c 65536 /dev/urandom > "$W/www/64k.bin"
# 100 KiB of HTML made of River's own documentation (real prose and tables, HTML-escaped in <pre>).
$PY - "$HERE/../docs" "$W/www/100k.html" <<'EOF'
import sys, os, html
docs, out = sys.argv[1], sys.argv[2]
text = "".join(open(os.path.join(docs, f), encoding="utf-8").read() for f in sorted(os.listdir(docs)) if f.endswith(".md"))
head = "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>River</title></head><body><pre>\n"
tail = "\n</pre></body></html>\n"
body = html.escape(text).encode("utf-8")
n = 102400 - len(head) - len(tail)
open(out, "wb").write(head.encode() + body[:n].decode("utf-8", "ignore").encode().ljust(n, b" ") + tail.encode())
EOF
chmod 644 "$W"/www/*
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
  -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" -keyout "$W/key.pem" -out "$W/cert.pem" >/dev/null 2>&1
chmod 644 "$W"/*.pem

read -r -a PORTS < <($PY "$HERE/slowreaders.py" free-ports 16 | tr '\n' ' ')
ORIGIN_PORT=${PORTS[0]}
R_FILES=${PORTS[1]}; R_PROXY=${PORTS[2]}; R_TLS=${PORTS[3]}
N_FILES=${PORTS[4]}; N_PROXY=${PORTS[5]}; N_TLS=${PORTS[6]}
B_FILES=${PORTS[7]}; B_PROXY=${PORTS[8]}; B_TLS=${PORTS[9]}
O_FILES=${PORTS[10]}; O_PROXY=${PORTS[11]}; O_TLS=${PORTS[12]}
M_FILES=${PORTS[13]}; M_PROXY=${PORTS[14]}; M_TLS=${PORTS[15]}

GZIP_TYPES="text/plain text/css text/xml application/json application/javascript application/xml image/svg+xml"
# ---------------------------------------------------------------- the origin (no gzip) on cpu 0
cat > "$W/origin/nginx.conf" <<EOC
worker_processes 1;
pid $W/origin/nginx.pid;
lock_file $W/origin/nginx.lock;
error_log $W/origin/logs/error.log warn;
worker_rlimit_nofile 20000;
events { worker_connections 8192; }
http {
  access_log off;
  $(nginx_temp_paths "$W/origin")
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  keepalive_timeout 300s;
  keepalive_requests 1000000;
  sendfile on;
  gzip off;
  server { listen 127.0.0.1:$ORIGIN_PORT backlog=4096; root $W/www; location / { } }
}
EOC
# ---------------------------------------------------------------- nginx under test, 1 worker, cpu 1
nginx_conf() {  # dir files_port tls_port proxy_port extra-http-lines
cat <<EOC
worker_processes 1;
pid $1/nginx.pid;
lock_file $1/nginx.lock;
error_log $1/logs/error.log warn;
worker_rlimit_nofile 20000;
events { worker_connections 8192; }
http {
  access_log off;
  $(nginx_temp_paths "$1")
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  keepalive_timeout 300s;
  keepalive_requests 1000000;   # River closes no keep-alive connection after N requests either
  sendfile on;
  gzip on;
  gzip_comp_level $LEVEL;
  gzip_min_length 1024;         # River's min-size default
  gzip_proxied any;
  gzip_vary on;
  gzip_types $GZIP_TYPES;       # text/html is always included
  $5
  upstream origin { server 127.0.0.1:$ORIGIN_PORT; keepalive 64; }
  server {
    listen 127.0.0.1:$2 backlog=4096;
    listen 127.0.0.1:$3 ssl backlog=4096;
    ssl_certificate $W/cert.pem;
    ssl_certificate_key $W/key.pem;
    root $W/www;
    location / { }
  }
  server {
    listen 127.0.0.1:$4 backlog=4096;
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
EOC
}
nginx_conf "$W/nginx" "$N_FILES" "$N_TLS" "$N_PROXY" "" > "$W/nginx/nginx.conf"
nginx_conf "$W/nginx-ofc" "$M_FILES" "$M_TLS" "$M_PROXY" "open_file_cache max=1000 inactive=20s; open_file_cache_valid 1s;" > "$W/nginx-ofc/nginx.conf"
# ---------------------------------------------------------------- River under test, 1 thread, cpu 1
river_conf() {  # files_port tls_port proxy_port [file-server line]
cat <<KDL
system {
    threads-per-service 1
    access-log "off"
}
services {
    files {
        listeners {
            "127.0.0.1:$1"
            "127.0.0.1:$2" cert-path="$W/cert.pem" key-path="$W/key.pem" offer-h2=false
        }
        file-server {
            base-path "$W/www"
            ${4:-}
        }
        compression {
            enabled true
            algorithms "gzip"
            level-gzip $LEVEL
        }
    }
    proxy {
        listeners {
            "127.0.0.1:$3"
        }
        connectors {
            "127.0.0.1:$ORIGIN_PORT"
        }
        compression {
            enabled true
            algorithms "gzip"
            level-gzip $LEVEL
        }
    }
}
KDL
}
river_conf "$R_FILES" "$R_TLS" "$R_PROXY" > "$W/river/river.kdl"
river_conf "$B_FILES" "$B_TLS" "$B_PROXY" > "$W/river-base/river.kdl"
river_conf "$O_FILES" "$O_TLS" "$O_PROXY" "open-file-cache max=1000 valid-ms=1000" > "$W/river-ofc/river.kdl"
{
  echo "date: $(date -Is)"; echo "kernel: $(uname -r)"; echo "cpus: $(nproc)"; grep -m1 'model name' /proc/cpuinfo
  [ -n "$BASE_JAR" ] && echo "river-base: $BASE_JAR"
  echo "river: $JAR, $JAVA_BIN ($("$JAVA_BIN" -version 2>&1 | head -1)) jvm-opts: ${JVM_OPTS:-none}"
  echo "river commit: $(git -C "$HERE/.." rev-parse --short HEAD 2>/dev/null)$(git -C "$HERE/.." diff --quiet 2>/dev/null || echo ' (dirty)')"
  nginx -v 2>&1; wrk -v 2>&1 | head -1
  echo "rounds=$ROUNDS window=${WINDOW}s prewarm=${PREWARM}s conns=$CONNS gzip-level=$LEVEL scenarios=$SCEN"
} > "$W/env.txt" 2>&1
log "work dir $W"

setsid taskset -c 0 nginx -p "$W/origin" -e "$W/origin/logs/error.log" -c "$W/origin/nginx.conf" -g 'daemon off;' >"$W/origin/stdout.log" 2>&1 &
STARTED+=("$!")
setsid taskset -c 1 nginx -p "$W/nginx" -e "$W/nginx/logs/error.log" -c "$W/nginx/nginx.conf" -g 'daemon off;' >"$W/nginx/stdout.log" 2>&1 &
NGINX_PID=$!; STARTED+=("$NGINX_PID")
declare -A PID=([nginx]=$NGINX_PID)
if [ "$OFC" = 1 ]; then
  setsid taskset -c 1 nginx -p "$W/nginx-ofc" -e "$W/nginx-ofc/logs/error.log" -c "$W/nginx-ofc/nginx.conf" -g 'daemon off;' >"$W/nginx-ofc/stdout.log" 2>&1 &
  PID[nginx-ofc]=$!; STARTED+=("$!")
fi
for srv in "${SERVERS[@]}"; do
  case $srv in nginx|nginx-ofc) continue;; esac
  jar=$JAR; [ $srv = river-base ] && jar=$BASE_JAR
  (cd "$W/$srv" && RIVER_JAR=$jar JAVA=$JAVA_BIN RIVER_JAVA_OPTS=$JVM_OPTS setsid taskset -c 1 "$HERE/../bin/river" \
      --config-kdl "$W/$srv/river.kdl" >"$W/$srv/stdout.log" 2>"$W/$srv/stderr.log") &
  PID[$srv]=$!; STARTED+=("$!")
done
wait_http "http://127.0.0.1:$ORIGIN_PORT/64k.bin" 10 || { log "origin failed to start"; exit 1; }
wait_http "http://127.0.0.1:$N_FILES/64k.bin" 10 || { log "nginx failed to start"; exit 1; }
wait_http "http://127.0.0.1:$R_FILES/64k.bin" 60 || { log "River failed to start (see $W/river/stderr.log)"; exit 1; }
[ -n "$BASE_JAR" ] && { wait_http "http://127.0.0.1:$B_FILES/64k.bin" 60 || { log "river-base failed to start (see $W/river-base/stderr.log)"; exit 1; }; }
if [ "$OFC" = 1 ]; then
  wait_http "http://127.0.0.1:$M_FILES/64k.bin" 10 || { log "nginx-ofc failed to start"; exit 1; }
  wait_http "http://127.0.0.1:$O_FILES/64k.bin" 60 || { log "river-ofc failed to start (see $W/river-ofc/stderr.log)"; exit 1; }
fi

# url SERVER SCENARIO -> the URL; gz SCENARIO -> whether the client asks for gzip
url() {
  local s=$2 port
  case "$1:$s" in
    river:a|river:b) port=$R_FILES;; river:at|river:bt) port=$R_TLS;; river:c) port=$R_PROXY;;
    river-base:a|river-base:b) port=$B_FILES;; river-base:at|river-base:bt) port=$B_TLS;; river-base:c) port=$B_PROXY;;
    river-ofc:a|river-ofc:b) port=$O_FILES;; river-ofc:at|river-ofc:bt) port=$O_TLS;; river-ofc:c) port=$O_PROXY;;
    nginx-ofc:a|nginx-ofc:b) port=$M_FILES;; nginx-ofc:at|nginx-ofc:bt) port=$M_TLS;; nginx-ofc:c) port=$M_PROXY;;
    nginx:a|nginx:b) port=$N_FILES;; nginx:at|nginx:bt) port=$N_TLS;; nginx:c) port=$N_PROXY;;
  esac
  case "$s" in
    a) echo "http://127.0.0.1:$port/1m.bin";; b) echo "http://127.0.0.1:$port/64k.bin";;
    at) echo "https://127.0.0.1:$port/1m.bin";; bt) echo "https://127.0.0.1:$port/64k.bin";;
    c) echo "http://127.0.0.1:$port/100k.html";;
  esac
}
file_of() { case "$1" in a|at) echo 1m.bin;; b|bt) echo 64k.bin;; c) echo 100k.html;; esac; }

# ---------------------------------------------------------------- correctness first
fail=0
for srv in "${SERVERS[@]}"; do
  for s in "${SCENARIOS[@]}"; do
    u=$(url $srv $s); f=$(file_of $s); o="$W/check/$srv-$s"
    code=$(curl -sk -H 'Accept-Encoding: gzip' -D "$o.head" -o "$o.body" -w '%{http_code} %{size_download}' "$u")
    enc=$(awk -F': *' 'tolower($1)=="content-encoding"{gsub("\r","",$2); print $2}' "$o.head")
    orig=$(stat -c %s "$W/www/$f")
    read -r st size <<< "$code"
    if [ "$s" = c ]; then
      ok=1; [ "$st" = 200 ] && [ "$enc" = gzip ] && gzip -dc < "$o.body" | cmp -s - "$W/www/$f" || ok=0
      ratio=$(awk -v a="$size" -v b="$orig" 'BEGIN{printf "%.4f", a/b}')
      printf 'check\t%s\t%s\tratio\t%s\n' "$s" "$srv" "$ratio" >> "$RAW"
      printf 'check\t%s\t%s\tgzip_bytes\t%s\n' "$s" "$srv" "$size" >> "$RAW"
      log "check $srv $s: $st, Content-Encoding ${enc:-none}, $size bytes of $orig (ratio $ratio), decoded body $([ $ok = 1 ] && echo equal || echo DIFFERENT)"
    else
      ok=1; [ "$st" = 200 ] && [ -z "$enc" ] && [ "$size" = "$orig" ] && cmp -s "$o.body" "$W/www/$f" || ok=0
      log "check $srv $s: $st, Content-Encoding ${enc:-none}, $size bytes of $orig, body $([ $ok = 1 ] && echo equal || echo DIFFERENT)"
    fi
    [ $ok = 1 ] || fail=1
  done
done
[ $fail = 0 ] || { log "correctness check failed: see $W/check"; exit 1; }
{ echo "origin 100k.html: $(stat -c %s "$W/www/100k.html") bytes, gzip -$LEVEL: $(gzip -$LEVEL -c "$W/www/100k.html" | wc -c) bytes"; } >> "$W/env.txt"

# ---------------------------------------------------------------- load
peer_ticks() { local t=0 p; for p in "$@"; do t=$((t + $(cpu_ticks "$p"))); done; echo $t; }
WRK() {  # seconds url out scenario
  local h=(); [ "$4" = c ] && h=(-H 'Accept-Encoding: gzip')
  timeout $(( $1 + 15 )) taskset -c 0 wrk -t1 -c"$CONNS" -d"$1"s --timeout 10s --latency "${h[@]}" "$2" > "$3" 2>&1
}
for r in $(seq $(( PREWARM / 5 > 0 ? PREWARM / 5 : 1 ))); do
  for s in "${SCENARIOS[@]}"; do for srv in "${SERVERS[@]}"; do WRK 5 "$(url $srv $s)" /dev/null "$s"; done; done
done
log "warmed up (${PREWARM}s per scenario and server)"

for ROUND in $(seq "$ROUNDS"); do
  n=${#SERVERS[@]}; order=(); for j in $(seq 0 $((n - 1))); do order+=("${SERVERS[$(( (j + ROUND - 1) % n ))]}"); done
  for s in "${SCENARIOS[@]}"; do
    for srv in "${order[@]}"; do
      pid=${PID[$srv]}; peers=(); for o in "${SERVERS[@]}"; do [ $o = $srv ] || peers+=("${PID[$o]}"); done
      f="$W/out/r$ROUND-$s-$srv.txt"
      guard_begin; c0=$(cpu_ticks "$pid"); p0=$(peer_ticks "${peers[@]}"); t0=$(date +%s.%N)
      WRK "$WINDOW" "$(url $srv $s)" "$f" "$s"
      c1=$(cpu_ticks "$pid"); p1=$(peer_ticks "${peers[@]}"); t1=$(date +%s.%N); guard_end
      read -r rps p50 p99 mib reqs err < <($PY "$HERE/bench_util.py" wrk "$f" 2>/dev/null) || { log "wrk parse failed: $f"; continue; }
      read -r cpuus util peerpct bpr < <(awk -v c=$((c1 - c0)) -v p=$((p1 - p0)) -v k="$CLK" -v r="$reqs" -v a="$t0" -v b="$t1" -v m="$mib" -v q="$rps" \
        'BEGIN{printf "%.1f %.0f %.1f %.0f\n", c/k*1e6/r, c/k/(b-a)*100, p/k/(b-a)*100, m*1048576/q}')
      for kv in "rps $rps" "p50_ms $p50" "p99_ms $p99" "mib_s $mib" "bytes_per_resp $bpr" "cpu_us_per_req $cpuus" \
                "cpu_pct $util" "peer_cpu_pct $peerpct" "errors $err" "foreign_pct $FOREIGN"; do
        set -- $kv; printf '%s\t%s\t%s\t%s\t%s\n' "$ROUND" "$s" "$srv" "$1" "$2" >> "$RAW"
      done
      log "  round $ROUND $s $srv: rps=$rps cpu/req=${cpuus}us cpu=${util}% bytes/resp=$bpr err=$err peer=${peerpct}% foreign=${FOREIGN}%"
    done
  done
done
grep -h 'buffered to a temporary file' "$W/nginx/logs/error.log" | head -1 | sed 's/^/nginx error log: /' | tee -a "$LOG"
$PY "$HERE/files_table.py" "$RAW" | tee "$W/table.md"
log "raw: $RAW (round, scenario, server, metric, value); table: $W/table.md"
