#!/usr/bin/env bash
# sys.sh river|nginx|haproxy OUT : syscalls per request in scenario a (wrk -c50 /hello), proxy pinned to cpu1
set -euo pipefail
kind=$1; out=$2; mkdir -p "$out"; cd /work/main
. bench/lib.sh
STARTED=(); trap "cleanup; pkill -f \"config-kdl $out\"; pkill -f \"haproxy -f $out\"; pkill -f \"nginx -p $out\"; true" EXIT
if port_busy 8080 || port_busy 9001; then echo "ports busy" >&2; exit 1; fi
mkdir -p "$out/origin/logs"
mkdir -p $out/www; printf "Hello world\n" > $out/www/hello; head -c 65536 /dev/zero | tr "\0" x > $out/www/64k
nginx_origin_conf "$out/origin" $out/www 9001 9002 > "$out/origin/nginx.conf"
taskset -c 0 nginx -p "$out/origin" -c "$out/origin/nginx.conf" -g 'daemon off;' & STARTED+=($!)
case $kind in
  river) BENCH_WORK=$out PROXY_WORKERS=1 taskset -c 1 bench/river-proxy.sh > "$out/river.log" 2>&1 & pid=$!;;
  nginx) mkdir -p "$out/px"; nginx_proxy_conf "$out/px" 1 8080 9001 > "$out/px/nginx.conf"
         taskset -c 1 nginx -p "$out/px" -c "$out/px/nginx.conf" -g 'daemon off;' & pid=$!;;
  haproxy) openssl req -x509 -newkey rsa:2048 -nodes -keyout $out/k.pem -out $out/c.pem -subj /CN=localhost -days 2 2>/dev/null; cat $out/c.pem $out/k.pem > $out/hp.pem; haproxy_proxy_conf "$out" 1 8080 9001 8443 $out/hp.pem > "$out/haproxy.cfg"
         taskset -c 1 haproxy -f "$out/haproxy.cfg" & pid=$!;;
esac
STARTED+=($pid)
wait_http http://127.0.0.1:8080/hello 30
taskset -c 0 wrk -t1 -c50 -d${PREWARM:-30}s http://127.0.0.1:8080${URLPATH:-/hello} > "$out/prewarm.txt"
taskset -c 0 wrk -t1 -c50 -d9s --latency http://127.0.0.1:8080${URLPATH:-/hello} > "$out/wrk.txt" &
w=$!
sleep 2
pids=$(tree_pids $pid | paste -sd,)
u0=$(for p in $(tree_pids $pid); do sed "s/.*) //" /proc/$p/stat | awk "{print \$12, \$13}"; done | awk "{u+=\$1; s+=\$2} END {print u, s}")
if [ -z "${NOPERF:-}" ]; then perf stat -e "syscalls:sys_enter_*" -p "$pids" -o "$out/perf.txt" -- sleep 5; else sleep 5; fi
u1=$(for p in $(tree_pids $pid); do sed "s/.*) //" /proc/$p/stat | awk "{print \$12, \$13}"; done | awk "{u+=\$1; s+=\$2} END {print u, s}")
wait $w
rps=$(awk '/Requests\/sec/{print $2}' "$out/wrk.txt")
read ua sa <<< "$u0"; read ub sb <<< "$u1"; echo "kind=$kind rps=$rps user_us_per_req=$(echo "($ub-$ua)*10000/($rps*5)" | bc -l | cut -c1-5) sys_us_per_req=$(echo "($sb-$sa)*10000/($rps*5)" | bc -l | cut -c1-5)" | tee "$out/summary.txt"
[ -f "$out/perf.txt" ] && awk -v r="$rps" '$1 ~ /^[0-9,]+$/ && $2 ~ /syscalls/ { n=$1; gsub(",","",n); if (n>0) printf "%-40s %10d  %.3f/req\n", $2, n, n/(r*5) }' "$out/perf.txt" | sort -k2 -nr | tee -a "$out/summary.txt"
pkill -f "config-kdl $out" || true
pkill -f "haproxy -f $out" || true; pkill -f "nginx -p $out" || true
