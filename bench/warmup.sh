#!/usr/bin/env bash
# warmup.sh - how long a new River takes to reach 90 % of its steady req/s (issue 19 item 3): the
# figure a graceful upgrade pays, since the new process starts with a cold JIT.
#
# usage: warmup.sh [--rounds N] [--seconds S] [--out DIR] VARIANT...
#   VARIANT  NAME=WORDS as in rss.sh: KEY=VALUE words go to River's environment (JAVA, RIVER_JAR,
#            RIVER_AOT=off, …), the others are extra JVM flags. "base=" is bin/river as it is.
#   --rounds N    starts of each variant, interleaved v1 v2 … v1 v2 … (3)
#   --seconds S   length of the load from the first accepted connection (60)
# River runs through bench/river-proxy.sh (one thread pinned to cpu 1, access log off) before an nginx
# origin on cpu 0. As soon as River's port accepts a connection, h2load (HTTP/1.1, 50 keep-alive
# connections, one request at a time each, cpu 0) loads /hello for S seconds and logs every request;
# its responses are counted in 0.5 s slices from its first request. Steady state = the median slice of
# seconds 40-60 (of the last third when S < 60); t90 = the end of the first slice from which the median
# of four slices (2 s) is at least 90 % of it. Output: DIR/raw.tsv (round, variant, metric, value),
# DIR/slices-NAME-rR.tsv, DIR/table.md. Ports: PROXY_PORT (28480), ORIGIN_PORT (28491), below the ephemeral range. Needs nginx,
# h2load (nghttp2-client), target/river.jar.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
ROUNDS=3; SECS=60; OUT=""; VARIANTS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift 2;; --seconds) SECS=$2; shift 2;; --out) OUT=$2; shift 2;;
    -h|--help) sed -n '2,19p' "$0"; exit 0;;
    *=*) VARIANTS+=("$1"); shift;;
    *) echo "unknown arg $1" >&2; exit 2;;
  esac
done
[ ${#VARIANTS[@]} -gt 0 ] || VARIANTS=("base=")
command -v h2load >/dev/null || { echo "missing h2load (apt-get install nghttp2-client)" >&2; exit 1; }
PROXY_PORT=${PROXY_PORT:-28480}; ORIGIN_PORT=${ORIGIN_PORT:-28491}
W=${OUT:-$HERE/runs/warmup-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$W/www" "$W/origin/logs" "$W/river"; W=$(cd "$W" && pwd)
RAW=$W/raw.tsv; : > "$RAW"
trap cleanup EXIT
for port in $PROXY_PORT $ORIGIN_PORT $((ORIGIN_PORT + 1)); do port_busy "$port" && { echo "port $port in use" >&2; exit 1; }; done
printf 'Hello world\n' > "$W/www/hello"; chmod 755 "$W" "$W/www"; chmod 644 "$W/www/hello"
nginx_origin_conf "$W/origin" "$W/www" "$ORIGIN_PORT" $((ORIGIN_PORT + 1)) > "$W/origin/nginx.conf"
setsid taskset -c 0 nginx -p "$W/origin" -c "$W/origin/nginx.conf" -g 'daemon off;' >"$W/origin/stdout.log" 2>&1 & STARTED+=($!)
wait_http "http://127.0.0.1:$ORIGIN_PORT/hello" 10 || { echo "origin did not start" >&2; exit 1; }
{ echo "date: $(date -Is)"; echo "kernel: $(uname -r)"; java -version 2>&1 | head -1; h2load --version | head -1
  echo "rounds=$ROUNDS seconds=$SECS"; printf 'variant: %s\n' "${VARIANTS[@]}"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"; } > "$W/env.txt"

rec() { printf '%s\t%s\t%s\t%s\n' "$R" "$NAME" "$1" "$2" >> "$RAW"; }

one() {  # NAME=WORDS
  NAME=${1%%=*}; local words=${1#*=} envs=() opts="" w pid i log="$W/river/$NAME-r$R.log" reqlog="$W/river/$NAME-r$R.h2load"
  for w in $words; do case $w in [A-Z_]*=*) envs+=("$w");; *) opts="$opts $w";; esac; done
  wait_free "$PROXY_PORT" || { echo "port $PROXY_PORT still busy" >&2; return 1; }
  env PROXY_PORT="$PROXY_PORT" ORIGIN="127.0.0.1:$ORIGIN_PORT" BENCH_WORK="$W/river" PROXY_WORKERS=1 \
    RIVER_JVM_OPTS="$opts" "${envs[@]}" setsid taskset -c 1 "$HERE/river-proxy.sh" > "$log" 2>&1 &
  pid=$!; STARTED+=("$pid")
  for i in $(seq 1200); do (exec 3<>"/dev/tcp/127.0.0.1/$PROXY_PORT") 2>/dev/null && break; sleep 0.025; done
  timeout $((SECS + 20)) taskset -c 0 h2load --h1 -c50 -m1 -D "$SECS" --log-file="$reqlog" "http://127.0.0.1:$PROXY_PORT/hello" \
    > "$W/river/$NAME-r$R.out" 2>&1
  stop_pid "$pid"
  python3 - "$reqlog" "$SECS" "$W/slices-$NAME-r$R.tsv" > "$W/river/$NAME-r$R.fig" <<'PY'
import sys, statistics
path, secs, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
ends = []
for line in open(path):
    f = line.split('\t')
    if len(f) >= 3 and f[1].startswith('2'):
        ends.append((int(f[0]) + int(f[2])) / 1e6)
starts = [int(l.split('\t')[0]) / 1e6 for l in open(path) if l.strip()]
t0 = min(starts)
n = int(secs / 0.5)
counts = [0] * n
for e in ends:
    k = int((e - t0) / 0.5)
    if 0 <= k < n:
        counts[k] += 1
rates = [c / 0.5 for c in counts]
lo, hi = (80, 120) if secs >= 60 else (int(n * 2 / 3), n)
steady = statistics.median(rates[lo:hi])
t90 = None
for s in range(n - 3):
    if statistics.median(rates[s:s + 4]) >= 0.9 * steady:
        t90 = (s + 1) * 0.5
        break
first = next(((i + 1) * 0.5 for i, r in enumerate(rates) if r > 0), None)
with open(out, 'w') as o:
    for i, r in enumerate(rates):
        o.write(f'{i * 0.5:.1f}\t{r:.0f}\n')
print(f'steady_rps {steady:.0f}')
print(f't90_s {t90 if t90 is not None else -1}')
print(f'first_5s_rps {sum(counts[:10]) / 5:.0f}')
print(f'first_response_s {first if first is not None else -1}')
PY
  while read -r k v; do rec "$k" "$v"; done < "$W/river/$NAME-r$R.fig"
  echo "[$(date +%T)] r$R $NAME: $(tr '\n' ' ' < "$W/river/$NAME-r$R.fig")" >&2
  rm -f "$reqlog"
}

for R in $(seq "$ROUNDS"); do
  for v in "${VARIANTS[@]}"; do one "$v"; done
done
python3 "$HERE/bench_util.py" variants "$RAW" --every > "$W/table.md"
cat "$W/table.md"
