#!/usr/bin/env bash
# h2.sh river|nginx|haproxy OUT : user/sys µs per request under h2load -c10 -m10 over TLS, proxy pinned to cpu1
set -euo pipefail
kind=$1; out=$2; mkdir -p "$out"; cd /work/main
. bench/lib.sh
STARTED=(); trap "cleanup; pkill -f \"config-kdl $out\"; pkill -f \"haproxy -f $out\"; pkill -f \"nginx -p $out\"; true" EXIT
if port_busy 8443 || port_busy 9001; then echo "ports busy" >&2; exit 1; fi
mkdir -p "$out/origin/logs"
openssl req -x509 -newkey rsa:2048 -nodes -keyout $out/k.pem -out $out/c.pem -subj /CN=localhost -days 2 2>/dev/null; cat $out/c.pem $out/k.pem > $out/hp.pem
nginx_origin_conf "$out/origin" - 9001 9002 > "$out/origin/nginx.conf"
taskset -c 0 nginx -p "$out/origin" -c "$out/origin/nginx.conf" -g 'daemon off;' & STARTED+=($!)
case $kind in
  river) BENCH_WORK=$out PROXY_WORKERS=1 TLS_CERT=$out/c.pem TLS_KEY=$out/k.pem taskset -c 1 bench/river-proxy.sh > "$out/river.log" 2>&1 & pid=$!;;
  nginx) mkdir -p "$out/px"; nginx_proxy_conf "$out/px" 1 8080 9001 8443 $out/c.pem $out/k.pem > "$out/px/nginx.conf"
         taskset -c 1 nginx -p "$out/px" -c "$out/px/nginx.conf" -g 'daemon off;' & pid=$!;;
  haproxy) haproxy_proxy_conf "$out" 1 8080 9001 8443 $out/hp.pem > "$out/haproxy.cfg"
         taskset -c 1 haproxy -f "$out/haproxy.cfg" & pid=$!;;
esac
STARTED+=($pid)
wait_http http://127.0.0.1:8080/hello 30
taskset -c 0 h2load -c10 -m10 -D ${PREWARM:-30} https://127.0.0.1:8443/hello > "$out/prewarm.txt"
taskset -c 0 h2load -c10 -m10 -D 9 https://127.0.0.1:8443/hello > "$out/h2load.txt" &
w=$!
sleep 2
st() { for p in $(tree_pids $pid); do sed "s/.*) //" /proc/$p/stat | awk '{print $12, $13}'; done | awk '{u+=$1; s+=$2} END {print u, s}'; }
u0=$(st); sleep 5; u1=$(st)
wait $w
rps=$(awk '/finished in/{print $4}' "$out/h2load.txt")
read ua sa <<< "$u0"; read ub sb <<< "$u1"
echo "kind=$kind rps=$rps user_us_per_req=$(echo "($ub-$ua)*10000/($rps*5)" | bc -l | cut -c1-5) sys_us_per_req=$(echo "($sb-$sa)*10000/($rps*5)" | bc -l | cut -c1-5)" | tee "$out/summary.txt"
kill $pid 2>/dev/null || true
