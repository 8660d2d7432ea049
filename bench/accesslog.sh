#!/usr/bin/env bash
# accesslog.sh - what the access log costs: several River instances (one per variant, each with its own
# access-log setting) pinned to the SAME core, equal warm-up, then interleaved measured windows of
# wrk against each in turn, all in front of one nginx origin that answers `return 200`.
#
# usage: accesslog.sh [--rounds N] [--window S] [--prewarm S] [--out DIR] [--java PATH]
#                     [--variant 'NAME|JAR|ACCESS-LOG-NODE'] ...
# Default variants (target/river.jar): off   = access-log "off"
#                                      text  = access-log "stdout"
#                                      json  = access-log "stdout" format="json"
# A variant's JAR may be an older build (for before/after in one run) and its node any access-log
# line that build accepts. Standard output of every River goes to a file in the work directory (the
# access log lands on disk, as under systemd's journal or a container runtime's log file).
#
# Per window it records the instance's CPU seconds (utime+stime of its process tree, /proc/PID/stat)
# per 100k requests, req/s, and the CPU used meanwhile by processes this script did not start.
# Rounds rotate the order (off,text,json; text,json,off; ...), so no variant always runs first.
# River: cpu 1, 1 event-loop thread each; wrk and the origin: cpu 0.  Ports are picked free at start.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROUNDS=8; WINDOW=6; PREWARM=40; OUT=""; VARIANTS=()
JAVA_BIN=${JAVA:-java}
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift 2;;
    --window) WINDOW=$2; shift 2;;
    --prewarm) PREWARM=$2; shift 2;;
    --out) OUT=$2; shift 2;;
    --java) JAVA_BIN=$2; shift 2;;
    --variant) VARIANTS+=("$2"); shift 2;;
    -h|--help) sed -n '2,19p' "$0"; exit 0;;
    *) echo "unknown arg $1" >&2; exit 2;;
  esac
done
JAR=${RIVER_JAR:-$HERE/../target/river.jar}
if [ ${#VARIANTS[@]} -eq 0 ]; then
  VARIANTS=("off|$JAR|access-log \"off\"" "text|$JAR|access-log \"stdout\"" "json|$JAR|access-log \"stdout\" format=\"json\"")
fi
PY=${PYTHON:-python3}
CLK=$(getconf CLK_TCK)
. "$HERE/lib.sh"
trap 'cleanup' EXIT
trap 'exit 130' INT TERM
for b in nginx wrk curl taskset; do command -v $b >/dev/null || { echo "missing $b" >&2; exit 1; }; done

W=${OUT:-$HERE/runs/accesslog-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$W/origin/logs" "$W/out"; W=$(cd "$W" && pwd)
RAW=$W/raw.tsv; LOG=$W/harness.log; : > "$RAW"
log() { echo "[$(date +%T)] $*" | tee -a "$LOG" >&2; }
read -r -a PORTS < <($PY "$HERE/slowreaders.py" free-ports $(( ${#VARIANTS[@]} + 2 )) | tr '\n' ' ')
ORIGIN_PORT=${PORTS[0]}; STATUS_PORT=${PORTS[${#VARIANTS[@]} + 1]}
nginx_origin_conf "$W/origin" - "$ORIGIN_PORT" "$STATUS_PORT" > "$W/origin/nginx.conf"
{
  echo "date: $(date -Is)"; echo "kernel: $(uname -r)"; echo "cpus: $(nproc)"
  echo "river: $JAVA_BIN ($("$JAVA_BIN" -version 2>&1 | head -1))"; nginx -v 2>&1; wrk -v 2>&1 | head -1
  echo "rounds=$ROUNDS window=${WINDOW}s prewarm=${PREWARM}s"
  for v in "${VARIANTS[@]}"; do echo "variant: $v"; done
} > "$W/env.txt" 2>&1
log "work dir $W"
setsid taskset -c 0 nginx -p "$W/origin" -e "$W/origin/logs/error.log" -c "$W/origin/nginx.conf" -g 'daemon off;' >"$W/origin/stdout.log" 2>&1 &
STARTED+=("$!")
wait_http "http://127.0.0.1:$ORIGIN_PORT/hello" 10 || { log "origin failed to start"; exit 1; }

NAMES=(); PIDS=(); VPORTS=()
i=0
for v in "${VARIANTS[@]}"; do
  IFS='|' read -r name jar node <<< "$v"
  port=${PORTS[$((i + 1))]}; mkdir -p "$W/$name"
  cat > "$W/$name/river.kdl" <<KDL
system {
    threads-per-service 1
    $node
}
services {
    bench {
        listeners {
            "127.0.0.1:$port"
        }
        connectors {
            "127.0.0.1:$ORIGIN_PORT"
        }
    }
}
KDL
  (cd "$W/$name" && RIVER_JAR=$jar JAVA=$JAVA_BIN setsid taskset -c 1 "$HERE/../bin/river" --config-kdl "$W/$name/river.kdl" \
      >"$W/$name/stdout.log" 2>"$W/$name/stderr.log") &
  PIDS+=("$!"); STARTED+=("$!"); NAMES+=("$name"); VPORTS+=("$port")
  i=$((i + 1))
done
for k in "${!NAMES[@]}"; do
  wait_http "http://127.0.0.1:${VPORTS[$k]}/hello" 60 || { log "${NAMES[$k]} did not come up (see $W/${NAMES[$k]}/stderr.log)"; exit 1; }
done
WRK() { timeout $(( $1 + 15 )) taskset -c 0 wrk -t1 -c50 -d"$1"s --latency "$2" > "$3" 2>&1; }
# Equal warm-up: rounds of 5 s with fresh connections, taking turns, so each JVM compiles its hot paths.
for r in $(seq $(( PREWARM / 5 > 0 ? PREWARM / 5 : 1 ))); do
  for k in "${!NAMES[@]}"; do WRK 5 "http://127.0.0.1:${VPORTS[$k]}/hello" /dev/null; done
done
log "warmed up: ${NAMES[*]}"

n=${#NAMES[@]}
for ROUND in $(seq "$ROUNDS"); do
  for j in $(seq 0 $((n - 1))); do
    k=$(( (j + ROUND - 1) % n )); name=${NAMES[$k]}; pid=${PIDS[$k]}; f="$W/out/r$ROUND-$name.txt"
    guard_begin; c0=$(cpu_ticks "$pid")
    WRK "$WINDOW" "http://127.0.0.1:${VPORTS[$k]}/hello" "$f"
    c1=$(cpu_ticks "$pid"); guard_end
    read -r rps p50 p99 mib reqs err < <($PY "$HERE/bench_util.py" wrk "$f" 2>/dev/null) || { log "wrk parse failed: $f"; continue; }
    cpu100k=$(awk -v c=$((c1 - c0)) -v k="$CLK" -v r="$reqs" 'BEGIN{printf "%.3f", c/k*100000/r}')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$ROUND" "$name" "$cpu100k" "$rps" "$p99" "$err" "$FOREIGN" >> "$RAW"
    log "  round $ROUND $name: cpu/100k=${cpu100k}s rps=$rps p99=${p99}ms err=$err foreign=${FOREIGN}%"
  done
done
for k in "${!NAMES[@]}"; do
  log "${NAMES[$k]}: $(wc -l < "$W/${NAMES[$k]}/stdout.log") lines on stdout"
done
$PY - "$RAW" "${NAMES[@]}" <<'EOF' | tee "$W/table.md"
import sys, statistics as st
raw, names = sys.argv[1], sys.argv[2:]
rows = [l.rstrip('\n').split('\t') for l in open(raw) if l.strip()]
def col(name, i): return [float(r[i]) for r in rows if r[1] == name]
by = {}
for r in rows:
    by.setdefault(r[0], {})[r[1]] = float(r[2])
def paired(n, ref):  # per round, this variant's CPU per request over ref's (adjacent windows)
    return [v[n] / v[ref] for v in by.values() if n in v and ref in v]
ref = "off" if "off" in names else names[0]
print("| variant | CPU s / 100k req, median (min–max) | vs %s, medians | vs %s, per-round pairs: median (min–max) | req/s, median (min–max) | windows |" % (ref, ref))
print("|---|---|---|---|---|---|")
refmed = st.median(col(ref, 2)) if col(ref, 2) else None
for n in names:
    c, r = col(n, 2), col(n, 3)
    if not c: continue
    rel = "%+.1f %%" % ((st.median(c) / refmed - 1) * 100) if refmed else "-"
    p = paired(n, ref)
    pr = "%+.1f %% (%+.0f … %+.0f %%)" % ((st.median(p) - 1) * 100, (min(p) - 1) * 100, (max(p) - 1) * 100) if p and n != ref else "-"
    print("| %s | %.3f (%.3f–%.3f) | %s | %s | %.0f (%.0f–%.0f) | %d |" % (n, st.median(c), min(c), max(c), rel, pr, st.median(r), min(r), max(r), len(c)))
fo = [float(r[6]) for r in rows]
print("\nforeign CPU during windows: median %.0f %%, max %.0f %% of a core" % (st.median(fo), max(fo)))
EOF
log "raw: $RAW (round, variant, cpu_s_per_100k, rps, p99_ms, errors, foreign_pct); table: $W/table.md"
