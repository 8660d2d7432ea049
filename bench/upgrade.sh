#!/usr/bin/env bash
# upgrade.sh - requests per second, second by second, through a graceful upgrade (or a reload) of River
# under closed-loop keep-alive load, against the steady state before it.
#
# usage: upgrade.sh [--mode upgrade|reload] [--seconds S] [--at S] [--connections N] [--threads T] [--out DIR]
#   --mode         upgrade: start a second River with --upgrade and SIGQUIT the first (default);
#                  reload: SIGHUP the running River (in-place reload)
#   --seconds      length of the load (40); --at: second of the load at which the change starts (15)
#   --connections  keep-alive connections of bench/SecondsLoad.java (16); --threads: River's event loops (2)
# CLOSE_SPREAD_MS: River's close-spread-ms (1000). Ports: PROXY_PORT (38180), ORIGIN_PORT (39101). Output in --out (bench/runs/upgrade-<time>/): seconds.tsv
# (second, answered, resent, failed, reconnects), summary.txt, the River logs. Needs nginx, java, target/river.jar.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
MODE=upgrade; SECONDS_TOTAL=40; AT=15; CONNS=16; THREADS=2; OUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --mode) MODE=$2; shift 2;; --seconds) SECONDS_TOTAL=$2; shift 2;; --at) AT=$2; shift 2;;
    --connections) CONNS=$2; shift 2;; --threads) THREADS=$2; shift 2;; --out) OUT=$2; shift 2;;
    -h|--help) sed -n '2,12p' "$0"; exit 0;;
    *) echo "unknown arg $1" >&2; exit 2;;
  esac
done
PROXY_PORT=${PROXY_PORT:-38180}; ORIGIN_PORT=${ORIGIN_PORT:-39101}
JAR=${RIVER_JAR:-$HERE/../target/river.jar}
W=${OUT:-$HERE/runs/upgrade-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$W/www" "$W/origin/logs"; W=$(cd "$W" && pwd)
STARTED=()
trap cleanup EXIT
for port in $PROXY_PORT $ORIGIN_PORT; do port_busy "$port" && { echo "port $port in use" >&2; exit 1; }; done
printf 'Hello world\n' > "$W/www/hello"; chmod 755 "$W" "$W/www"; chmod 644 "$W/www/hello"
nginx_origin_conf "$W/origin" "$W/www" "$ORIGIN_PORT" $((ORIGIN_PORT + 1)) > "$W/origin/nginx.conf"
nginx -c "$W/origin/nginx.conf" -g 'daemon off;' & STARTED+=($!)
wait_http "http://127.0.0.1:$ORIGIN_PORT/hello" 10 || { echo "origin did not start" >&2; exit 1; }

config() {  # $1: the header value that says which generation answered
  cat <<KDL
system {
    threads-per-service $THREADS
    access-log "off"
    upgrade-socket "$W/upgrade.sock"
    close-spread-ms ${CLOSE_SPREAD_MS:-1000}
}
services {
    bench {
        listeners {
            "127.0.0.1:$PROXY_PORT"
        }
        connectors {
            "127.0.0.1:$ORIGIN_PORT"
        }
        path-control {
            response-filters {
                filter kind="upsert-header" key="x-generation" value="$1"
            }
        }
    }
}
KDL
}
config one > "$W/river.kdl"
RIVER_JAR=$JAR "$HERE/../bin/river" --config-kdl "$W/river.kdl" > "$W/a.log" 2>&1 & A=$!; STARTED+=($A)
wait_http "http://127.0.0.1:$PROXY_PORT/hello" 30 || { echo "River did not start" >&2; cat "$W/a.log"; exit 1; }

java "$HERE/SecondsLoad.java" "$PROXY_PORT" "$SECONDS_TOTAL" "$CONNS" /hello > "$W/seconds.tsv" 2> "$W/load.err" & L=$!
for i in $(seq 300); do grep -q "start-epoch-ms" "$W/load.err" && break; sleep 0.1; done
T0=$(awk '/start-epoch-ms/{printf "%.3f", $2/1000}' "$W/load.err")
sleep "$AT"
config two > "$W/river.kdl"
if [ "$MODE" = upgrade ]; then
  RIVER_JAR=$JAR "$HERE/../bin/river" --upgrade --config-kdl "$W/river.kdl" > "$W/b.log" 2>&1 & B=$!; STARTED+=($B)
  for i in $(seq 300); do grep -q "waiting up to" "$W/b.log" && break; sleep 0.1; done
  kill -QUIT "$A"
  for i in $(seq 300); do grep -q "River started" "$W/b.log" && break; sleep 0.1; done
else
  kill -HUP "$A"
  for i in $(seq 300); do grep -q "reload 1" "$W/a.log" && break; sleep 0.1; done
fi
CHANGED=$(echo "$(date +%s.%N) - $T0" | bc)
wait "$L"
python3 - "$W/seconds.tsv" "$AT" "$CHANGED" "$MODE" > "$W/summary.txt" <<'PY'
import statistics, sys
rows = [list(map(int, l.split())) for l in open(sys.argv[1]) if l.strip()]
at, changed, mode = int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
steady = statistics.median(r[1] for r in rows[3:at])
after = rows[at:]
low = min(after, key=lambda r: r[1])
recovered = next((r[0] for r in after if r[0] > changed and r[1] >= 0.9 * steady), None)
print(f"mode {mode}: steady state {steady:.0f} req/s (median of seconds 3..{at - 1})")
print(f"change began at second {at}, new instance serving by second {changed:.1f}")
print(f"lowest second {low[0]}: {low[1]} req/s = {low[1] / steady:.2f} of steady")
print("back at >= 90% of steady from second", recovered, "" if recovered is None else f"({recovered - changed:.1f} s after serving)")
print(f"answered {sum(r[1] for r in rows)}, resent {sum(r[2] for r in rows)}, failed {sum(r[3] for r in rows)}, reconnects {sum(r[4] for r in rows)}")
PY
cat "$W/summary.txt"
