#!/usr/bin/env bash
# tls.sh - TLS handshakes per second, full and resumed, River beside nginx and HAProxy, one core each.
#
#   bench/tls.sh                         # 3 interleaved rounds of every proxy
#   ROUNDS=5 DUR=8 PROXIES="river nginx" bench/tls.sh
#   RIVER_BEFORE_JAR=/tmp/old.jar bench/tls.sh   # adds "river-before": the same launcher with another jar
#   RIVER_JVM_OPTS_B="-Driver.tls=jdk" bench/tls.sh   # adds "river-b": other JVM options (and RIVER_JAR_B, another jar)
#
# Each proxy terminates TLS on 127.0.0.1:$TLS_PORT pinned to cpu 1 with its defaults for session
# resumption (lib.sh gives nginx "ssl_protocols TLSv1.2 TLSv1.3": nginx 1.22's default has no TLS 1.3) and
# forwards /hello to an nginx origin; the load runs on cpu 0:
#   full     h2load --h1 -c 50 -n 50, $FULL_RUNS times: one request per connection (50 at a time, as
#            wrk's), and h2load never offers a session, so every handshake is a full one. The rate
#            includes h2load's start-up between runs (the same for every proxy); the CPU per handshake
#            does not
#   resumed  wrk -c50 -H "Connection: close" for $DUR s: wrk keeps each connection's session and
#            offers it on the next, so after the first 50 every handshake resumes (TLS 1.3 tickets:
#            River's counter river_tls_handshakes_resumed_total says how many did)
# Recorded per window: handshakes/s and the proxy's CPU (utime+stime of its processes) per handshake,
# which a busy machine disturbs less than the rate; and the foreign load (lib.sh's guard).
# Certificate: KEY=rsa (2048 bits, what bench/run.sh uses; default) or KEY=ec (P-256).
set -uo pipefail   # no -e: lib.sh's helpers use commands that may fail (grep finding nothing)
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
ROUNDS=${ROUNDS:-3}; DUR=${DUR:-8}; FULL_RUNS=${FULL_RUNS:-40}; KEY=${KEY:-rsa}
PROXIES=(${PROXIES:-river nginx haproxy})
[ -n "${RIVER_BEFORE_JAR:-}" ] && PROXIES+=(river-before)
[ -n "${RIVER_JVM_OPTS_B:-}" ] && PROXIES+=(river-b)
BASE=${PORT_BASE:-18400}; TLS_PORT=$((BASE + 43)); PROXY_PORT=$((BASE + 80)); ORIGIN_PORT=$((BASE + 1)); STATUS_PORT=$((BASE + 2)); ADMIN_PORT=$((BASE + 91))
OUT=${OUT:-$HERE/results/$(date +%F)-tls}
W=$(mktemp -d /tmp/river-bench-tls.XXXXXX); CLK=$(getconf CLK_TCK)
mkdir -p "$OUT" "$W/origin/logs" "$W/www" "$W/nginx" "$W/haproxy" "$W/river"
RAW="$OUT/raw.tsv"; : > "$RAW"
log() { echo "$(date +%T) $*" | tee -a "$OUT/log.txt"; }
rec() { printf '%s\t%s\t%s\t%s\n' "$ROUND" "$1" "$2" "$3" >> "$RAW"; }
trap cleanup EXIT

printf 'Hello world\n' > "$W/www/hello"
chmod 755 "$W" "$W/www"; chmod 644 "$W/www/hello"   # nginx's workers run as nobody
if [ "$KEY" = ec ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" -keyout "$W/key.pem" -out "$W/cert.pem" >/dev/null 2>&1
else
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" -keyout "$W/key.pem" -out "$W/cert.pem" >/dev/null 2>&1
fi
cat "$W/cert.pem" "$W/key.pem" > "$W/combined.pem"; chmod 644 "$W"/*.pem
nginx_origin_conf "$W/origin" "$W/www" "$ORIGIN_PORT" "$STATUS_PORT" > "$W/origin/nginx.conf"
nginx_proxy_conf "$W/nginx" 1 "$PROXY_PORT" "$ORIGIN_PORT" "$TLS_PORT" "$W/cert.pem" "$W/key.pem" > "$W/nginx/nginx.conf"
haproxy_proxy_conf "$W/haproxy" 1 "$PROXY_PORT" "$ORIGIN_PORT" "$TLS_PORT" "$W/combined.pem" > "$W/haproxy/haproxy.cfg"
cat > "$W/river/river.kdl" <<EOF
system {
    threads-per-service 1
    access-log "off"
    admin {
        enabled true
        listen "127.0.0.1:$ADMIN_PORT"
    }
}
services {
    bench {
        listeners {
            "127.0.0.1:$PROXY_PORT"
            "127.0.0.1:$TLS_PORT" cert-path="$W/cert.pem" key-path="$W/key.pem"
        }
        connectors {
            "127.0.0.1:$ORIGIN_PORT"
        }
    }
}
EOF
{ set +e  # version commands that exit non-zero (wrk -v) or meet a closed pipe must not end the run
  echo "date: $(date -Is)"; echo "kernel: $(uname -r)"; echo "cpus: $(nproc)"; echo "key: $KEY"
  echo "java: $(${JAVA:-java} -version 2>&1 | head -1)"; nginx -v 2>&1; haproxy -v 2>&1 | head -1
  echo "openssl (nginx, haproxy, wrk, h2load): $(openssl version)"; wrk -v 2>&1 | head -1; h2load --version
  echo "rounds=$ROUNDS dur=$DUR full=${FULL_RUNS}x50 proxies=${PROXIES[*]}"
  [ -n "${RIVER_BEFORE_JAR:-}" ] && echo "river-before: $RIVER_BEFORE_JAR"
  [ -n "${RIVER_JVM_OPTS_B:-}" ] && echo "river-b: JVM options $RIVER_JVM_OPTS_B ${RIVER_JAR_B:-}"
  :
} > "$OUT/env.txt" 2>&1

for port in $TLS_PORT $PROXY_PORT $ORIGIN_PORT $STATUS_PORT $ADMIN_PORT; do port_busy $port && { echo "port $port in use (set PORT_BASE)" >&2; exit 1; }; done
setsid taskset -c 0 nginx -p "$W/origin" -e "$W/origin/logs/error.log" -c "$W/origin/nginx.conf" -g 'daemon off;' > "$W/origin/out.log" 2>&1 &
STARTED+=($!)
wait_http "http://127.0.0.1:$ORIGIN_PORT/hello" 10 || { log "origin did not start"; exit 1; }

start() {  # name -> PID
  local jar=${RIVER_JAR:-$HERE/../target/river.jar} opts=${RIVER_JVM_OPTS:-}
  wait_free $TLS_PORT || true
  case $1 in
    river-before) jar=$RIVER_BEFORE_JAR ;;
    river-b) opts=$RIVER_JVM_OPTS_B; jar=${RIVER_JAR_B:-$jar} ;;
  esac
  case $1 in
    river*) RIVER_JAR=$jar RIVER_JAVA_OPTS=$opts setsid taskset -c 1 "$HERE/../bin/river" --config-kdl "$W/river/river.kdl" >> "$W/river/$1.log" 2>&1 & ;;
    nginx) setsid taskset -c 1 nginx -p "$W/nginx" -e "$W/nginx/error.log" -c "$W/nginx/nginx.conf" -g 'daemon off;' >> "$W/nginx/out.log" 2>&1 & ;;
    haproxy) setsid taskset -c 1 haproxy -db -f "$W/haproxy/haproxy.cfg" >> "$W/haproxy/out.log" 2>&1 & ;;
  esac
  PID=$!; STARTED+=("$PID")
  wait_http "https://127.0.0.1:$TLS_PORT/hello" 60 || { log "$1 did not start"; return 1; }
}

# "TOTAL RESUMED" from River's metrics; nothing from a River without the resumed counter (before 2026-12-04)
resumed_count() { curl -s -m 2 "http://127.0.0.1:$ADMIN_PORT/metrics" 2>/dev/null \
  | awk '/^river_tls_handshakes_resumed_total/{r=$2} /^river_tls_handshakes_total/{t=$2} END{if (r != "") printf "%d %d", t, r}'; }

full_window() {  # pid -> sets N SECS CPU
  local i out t
  N=0; SECS=0; local c0; c0=$(cpu_ticks "$1")
  for i in $(seq "$FULL_RUNS"); do
    out=$(timeout 60 taskset -c 0 h2load --h1 -t1 -c 50 -n 50 "https://127.0.0.1:$TLS_PORT/hello" 2>&1)
    # "finished in 151.59ms," or "finished in 1.21s,"
    t=$(echo "$out" | awk '/^finished in/{t = $3; sub(/,$/, "", t); if (t ~ /ms$/) { sub(/ms$/, "", t); t /= 1000 } else if (t ~ /us$/) { sub(/us$/, "", t); t /= 1e6 } else sub(/s$/, "", t); print t}')
    N=$((N + $(echo "$out" | awk '/^requests:/{print $8}')))
    SECS=$(awk -v a="$SECS" -v b="$t" 'BEGIN{print a + b}')
  done
  CPU=$(( $(cpu_ticks "$1") - c0 ))
}

resumed_window() {  # pid dur -> sets N SECS CPU
  local c0 out; c0=$(cpu_ticks "$1")
  out=$(timeout $(( $2 + 15 )) taskset -c 0 wrk -t1 -c50 -d"$2"s -H "Connection: close" "https://127.0.0.1:$TLS_PORT/hello" 2>&1)
  CPU=$(( $(cpu_ticks "$1") - c0 ))
  N=$(echo "$out" | awk '/requests in/{print $1}'); SECS=$(echo "$out" | awk '/requests in/{sub(/s,/, "", $4); print $4}')
}

measure() {  # proxy pid mode
  local f0 r0 r1
  r0=$(resumed_count)
  guard_begin
  if [ "$3" = full ]; then full_window "$2"; else resumed_window "$2" "$DUR"; fi
  guard_end
  r1=$(resumed_count)
  local rps cpu; rps=$(awk -v n="$N" -v s="$SECS" 'BEGIN{printf "%.0f", n / s}'); cpu=$(awk -v c="$CPU" -v k="$CLK" -v n="$N" 'BEGIN{printf "%.4f", c / k * 1000 / n}')
  rec "$1" "${3}_hs_per_s" "$rps"; rec "$1" "${3}_cpu_ms_per_hs" "$cpu"; rec "$1" "${3}_foreign_pct" "$FOREIGN"
  if [[ $1 == river* ]] && [ -n "$r0" ] && [ -n "$r1" ]; then
    local share; share=$(echo "$r0 $r1" | awk '{t = $3 - $1; printf "%.3f", (t > 0 ? ($4 - $2) / t : 0)}')
    rec "$1" "${3}_resumed_share" "$share"
  fi
  log "  $1 $3: $rps handshakes/s, $cpu ms CPU per handshake, $N in ${SECS}s, foreign ${FOREIGN}% ${share:+resumed share $share}"
}

for ROUND in $(seq "$ROUNDS"); do
  # Rotate the order each round, so that no proxy always follows the same one.
  n=${#PROXIES[@]}; order=()
  for i in $(seq 0 $((n - 1))); do order+=("${PROXIES[$(( (i + ROUND - 1) % n ))]}"); done
  for p in "${order[@]}"; do
    log "round $ROUND: $p"
    start "$p" || continue
    # Warm-up, unmeasured: the JVM compiles the handshake paths under load (bench/run.sh's reasoning).
    # The full handshake's path needs its own: after one window of it, River's C2 compiler thread
    # still had 64 % of River's CPU samples, and the CPU per handshake fell from 0.43 to 0.18 ms
    # over the next six windows (docs/performance.md).
    for i in 1 2 3; do resumed_window "$PID" 5 >/dev/null; full_window "$PID" >/dev/null; done
    measure "$p" "$PID" full
    measure "$p" "$PID" resumed
    stop_pid "$PID"
  done
done

python3 - "$RAW" "${PROXIES[@]}" > "$OUT/table.md" <<'EOF'
import statistics, sys
raw, proxies = sys.argv[1], sys.argv[2:]
v = {}
for line in open(raw):
    r, p, k, x = line.rstrip("\n").split("\t")
    v.setdefault((p, k), []).append(float(x))
keys = [("full_hs_per_s", "full handshakes/s (h2load -c50 -n50 runs)"), ("full_cpu_ms_per_hs", "CPU ms per full handshake"),
        ("full_foreign_pct", "foreign CPU % during full"), ("resumed_hs_per_s", "resumed handshakes/s (wrk, Connection: close)"),
        ("resumed_cpu_ms_per_hs", "CPU ms per resumed handshake"), ("resumed_resumed_share", "share of handshakes resumed (River's counter)"),
        ("resumed_foreign_pct", "foreign CPU % during resumed")]
print("| figure | " + " | ".join(proxies) + " |")
print("|---|" + "---|" * len(proxies))
for k, name in keys:
    cells = []
    for p in proxies:
        xs = v.get((p, k))
        if not xs:
            cells.append("–")
            continue
        fmt = "{:,.0f}" if k.endswith("per_s") or k.endswith("pct") else "{:.3f}"
        cells.append(f"{fmt.format(statistics.median(xs))} ({fmt.format(min(xs))}–{fmt.format(max(xs))})")
    print(f"| {name} | " + " | ".join(cells) + " |")
EOF
cat "$OUT/table.md"
log "raw: $RAW table: $OUT/table.md"
