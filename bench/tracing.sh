#!/usr/bin/env bash
# tracing.sh - the cost of tracing: River with tracing off, on at sampling-ratio 1, and on at 0.01,
# side by side in one run (rounds interleaved), CPU per proxied request (user+system of the River
# process over the wrk run / requests served) and requests per second.
#
# usage: tracing.sh [--rounds N] [--dur S] [--conns C] [--warmup S] [--out DIR]
# Needs target/river.jar (mvn -B -q package -DskipTests), nginx (the origin), wrk, python3.
# River (1 event-loop thread each) runs on cpu0; wrk, the origin and the OTLP sink on cpu1.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
ROUNDS=3; DUR=8; CONNS=32; OUT=""; WARMUP=20
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift 2;;
    --dur) DUR=$2; shift 2;;
    --conns) CONNS=$2; shift 2;;
    --warmup) WARMUP=$2; shift 2;;
    --out) OUT=$2; shift 2;;
    -h|--help) sed -n '2,9p' "$0"; exit 0;;
    *) echo "unknown arg $1" >&2; exit 2;;
  esac
done
W=${OUT:-$HERE/runs/tracing-$(date +%Y%m%d-%H%M%S)}; mkdir -p "$W/origin/logs" "$W/www"; W=$(cd "$W" && pwd)
ORIGIN_PORT=${ORIGIN_PORT:-9101}; STATUS_PORT=${STATUS_PORT:-9102}; SINK_PORT=${SINK_PORT:-9103}
declare -A PORT=([off]=9111 [ratio1]=9112 [ratio001]=9113)
declare -A TRACING=([off]="" [ratio1]="sampling-ratio 1.0" [ratio001]="sampling-ratio 0.01")
trap cleanup EXIT
head -c 100 /dev/zero | tr '\0' 'x' > "$W/www/hello"
nginx_origin_conf "$W/origin" "$W/www" "$ORIGIN_PORT" "$STATUS_PORT" > "$W/origin/nginx.conf"
setsid taskset -c 1 nginx -p "$W/origin" -e "$W/origin/logs/error.log" -c "$W/origin/nginx.conf" -g 'daemon off;' >"$W/origin/stdout.log" 2>&1 &
STARTED+=($!)
setsid taskset -c 1 python3 "$HERE/otlp_sink.py" "$SINK_PORT" > "$W/sink.log" 2>&1 &
SINK=$!; STARTED+=($SINK)
declare -A PID
for v in off ratio1 ratio001; do
  block=""
  [ -n "${TRACING[$v]}" ] && block="tracing { enabled true; endpoint \"http://127.0.0.1:$SINK_PORT/v1/traces\"; ${TRACING[$v]}; }"
  cat > "$W/river-$v.kdl" <<KDL
system {
    threads-per-service 1
    access-log "off"
    $block
}
services {
    bench {
        listeners {
            "127.0.0.1:${PORT[$v]}"
        }
        connectors {
            "127.0.0.1:$ORIGIN_PORT"
        }
    }
}
KDL
  RIVER_JAR=$HERE/../target/river.jar setsid taskset -c 0 "$HERE/../bin/river" --config-kdl "$W/river-$v.kdl" > "$W/river-$v.log" 2>&1 &
  PID[$v]=$!; STARTED+=(${PID[$v]})
done
wait_http http://127.0.0.1:$ORIGIN_PORT/hello 10 || { echo "origin failed" >&2; exit 1; }
for v in off ratio1 ratio001; do
  wait_http http://127.0.0.1:${PORT[$v]}/hello 60 || { echo "river $v failed" >&2; exit 1; }
  timeout 40 taskset -c 1 wrk -t1 -c$CONNS -d${WARMUP}s http://127.0.0.1:${PORT[$v]}/hello > /dev/null   # JIT warm-up
done
printf 'round\tvariant\trequests\treq_per_s\tcpu_us_per_req\n' | tee "$W/results.tsv"
for r in $(seq "$ROUNDS"); do
  for v in off ratio1 ratio001; do
    t0=$(cpu_ticks "${PID[$v]}")
    out=$(timeout $((DUR + 20)) taskset -c 1 wrk -t1 -c$CONNS -d${DUR}s http://127.0.0.1:${PORT[$v]}/hello)
    t1=$(cpu_ticks "${PID[$v]}")
    n=$(echo "$out" | awk '/requests in/{print $1}')
    rps=$(echo "$out" | awk '/Requests\/sec/{print $2}')
    us=$(awk -v t=$((t1 - t0)) -v n="$n" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.1f", t * 1e6 / hz / n}')
    printf '%s\t%s\t%s\t%s\t%s\n' "$r" "$v" "$n" "$rps" "$us" | tee -a "$W/results.tsv"
  done
done
stop_pid "$SINK"; cat "$W/sink.log"
echo "results: $W/results.tsv"
