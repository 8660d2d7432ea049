#!/usr/bin/env bash
# rss.sh - River's RSS after start, variant by variant, interleaved (issue 19 item 2b).
#
# usage: rss.sh [--rounds N] [--tls] [--load S] [--out DIR] VARIANT...
#   VARIANT  NAME=WORDS: words of the form KEY=VALUE are set in River's environment (RIVER_LAUNCHER,
#            RIVER_JAR, MALLOC_ARENA_MAX, …), the others are extra JVM flags (RIVER_JVM_OPTS).
#            "base=" is bin/river as it is.
#   --rounds N   starts of each variant, in the order v1 v2 … v1 v2 … (3)
#   --settle S   also the RSS S seconds after that answer, once the JVM has given back its start-up
#                scratch memory (15; 0: not measured)
#   --tls        add the TLS listener of bench/run.sh (a self-signed certificate)
#   --load S     after the start figure, S seconds of `wrk -c50 /hello` in 5 s rounds (the prewarm of
#                run.sh), then RSS again, then one 8 s measured window: req/s and CPU s per 100k requests
# River runs through bench/river-proxy.sh (one service, one thread pinned to cpu 1, access log off) in
# front of an nginx origin on cpu 0. "start" is the RSS 2 s after the first proxied /hello answered;
# "ms" the time from exec to that answer. Output: DIR/raw.tsv (round, variant, metric, value) and
# DIR/table.md (median, min–max). Ports: PROXY_PORT (28380), ORIGIN_PORT (28391), TLS_PORT (28383).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
ROUNDS=3; TLS=0; LOAD=0; SETTLE=15; OUT=""; VARIANTS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift 2;; --tls) TLS=1; shift;; --load) LOAD=$2; shift 2;; --out) OUT=$2; shift 2;; --settle) SETTLE=$2; shift 2;;
    -h|--help) sed -n '2,20p' "$0"; exit 0;;
    *=*) VARIANTS+=("$1"); shift;;
    *) echo "unknown arg $1" >&2; exit 2;;
  esac
done
[ ${#VARIANTS[@]} -gt 0 ] || VARIANTS=("base=")
PROXY_PORT=${PROXY_PORT:-28380}; ORIGIN_PORT=${ORIGIN_PORT:-28391}; TLS_PORT=${TLS_PORT:-28383}
W=${OUT:-$HERE/runs/rss-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$W/www" "$W/origin/logs" "$W/river"; W=$(cd "$W" && pwd)
RAW=$W/raw.tsv; : > "$RAW"
CLK=$(getconf CLK_TCK)
trap cleanup EXIT
for port in $PROXY_PORT $ORIGIN_PORT $((ORIGIN_PORT + 1)); do port_busy "$port" && { echo "port $port in use" >&2; exit 1; }; done
printf 'Hello world\n' > "$W/www/hello"; chmod 755 "$W" "$W/www"; chmod 644 "$W/www/hello"
nginx_origin_conf "$W/origin" "$W/www" "$ORIGIN_PORT" $((ORIGIN_PORT + 1)) > "$W/origin/nginx.conf"
setsid taskset -c 0 nginx -p "$W/origin" -c "$W/origin/nginx.conf" -g 'daemon off;' >"$W/origin/stdout.log" 2>&1 & STARTED+=($!)
wait_http "http://127.0.0.1:$ORIGIN_PORT/hello" 10 || { echo "origin did not start" >&2; exit 1; }
tls_env=()
if [ "$TLS" = 1 ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 -addext "subjectAltName=IP:127.0.0.1" \
    -keyout "$W/key.pem" -out "$W/cert.pem" >/dev/null 2>&1
  tls_env=(TLS_CERT="$W/cert.pem" TLS_KEY="$W/key.pem" TLS_PORT="$TLS_PORT")
fi
{ echo "date: $(date -Is)"; echo "kernel: $(uname -r)"; java -version 2>&1 | head -1
  echo "rounds=$ROUNDS tls=$TLS load=$LOAD"; printf 'variant: %s\n' "${VARIANTS[@]}"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"; } > "$W/env.txt"

rec() { printf '%s\t%s\t%s\t%s\n' "$R" "$NAME" "$1" "$2" >> "$RAW"; }
now_ms() { date +%s%3N; }

one() {  # NAME=WORDS
  NAME=${1%%=*}; local words=${1#*=} envs=() opts="" w pid t0 t1 i log="$W/river/$NAME-r$R.log"
  for w in $words; do case $w in [A-Z_]*=*) envs+=("$w");; *) opts="$opts $w";; esac; done
  wait_free "$PROXY_PORT" || { echo "port $PROXY_PORT still busy" >&2; return 1; }
  t0=$(now_ms)
  env PROXY_PORT="$PROXY_PORT" ORIGIN="127.0.0.1:$ORIGIN_PORT" BENCH_WORK="$W/river" PROXY_WORKERS=1 \
    RIVER_JVM_OPTS="$opts" "${tls_env[@]}" "${envs[@]}" setsid taskset -c 1 "$HERE/river-proxy.sh" > "$log" 2>&1 &
  pid=$!; STARTED+=("$pid")
  for i in $(seq 600); do curl -s -m 1 -o /dev/null "http://127.0.0.1:$PROXY_PORT/hello" && break; sleep 0.05; done
  t1=$(now_ms)
  sleep 2
  rec start_kib "$(rss_kib "$pid")"; rec start_ms $((t1 - t0)); rec threads "$(awk '/^Threads/{print $2}' /proc/$pid/status)"
  if [ "$SETTLE" -gt 2 ]; then sleep $((SETTLE - 2)); rec settled_kib "$(rss_kib "$pid")"; fi
  if [ "$LOAD" -gt 0 ]; then
    local rounds=$(( LOAD / 5 > 0 ? LOAD / 5 : 1 )) k c0 c1 f="$W/river/$NAME-r$R-wrk.txt"
    for k in $(seq "$rounds"); do timeout 30 taskset -c 0 wrk -t1 -c50 -d5s "http://127.0.0.1:$PROXY_PORT/hello" > /dev/null 2>&1; done
    sleep 1; rec loaded_kib "$(rss_kib "$pid")"
    c0=$(cpu_ticks "$pid")
    timeout 30 taskset -c 0 wrk -t1 -c50 -d8s --latency "http://127.0.0.1:$PROXY_PORT/hello" > "$f" 2>&1
    c1=$(cpu_ticks "$pid")
    read -r rps p50 p99 mib reqs err < <(python3 "$HERE/bench_util.py" wrk "$f")
    rec rps "$rps"; rec p99_ms "$p99"
    rec cpu100k "$(awk -v c=$((c1 - c0)) -v k="$CLK" -v r="$reqs" 'BEGIN{printf "%.3f", c/k*100000/r}')"
    rec after_kib "$(rss_kib "$pid")"
  fi
  stop_pid "$pid"
  echo "[$(date +%T)] r$R $NAME: $(awk -v r="$R" -v n="$NAME" -F'\t' '$1==r && $2==n {printf "%s=%s ", $3, $4}' "$RAW")" >&2
}

for R in $(seq "$ROUNDS"); do
  for v in "${VARIANTS[@]}"; do one "$v"; done
done
python3 "$HERE/bench_util.py" variants "$RAW" > "$W/table.md"
cat "$W/table.md"
