#!/usr/bin/env bash
# explore.sh JAR OUTDIR [extra jvm opts...]: start origin+River like rss.sh, wait 15 s after first answer, dump NMT etc.
set -u
HERE=/work/wt-rss60/bench
. "$HERE/lib.sh"
JAR=$1; O=$2; shift 2
mkdir -p "$O/www" "$O/origin/logs" "$O/river"
printf 'Hello world\n' > "$O/www/hello"; chmod 755 "$O" "$O/www"
trap cleanup EXIT
nginx_origin_conf "$O/origin" "$O/www" 28391 28392 > "$O/origin/nginx.conf"
setsid taskset -c 0 nginx -p "$O/origin" -c "$O/origin/nginx.conf" -g 'daemon off;' >/dev/null 2>&1 & STARTED+=($!)
wait_http http://127.0.0.1:28391/hello 10
env PROXY_PORT=28380 ORIGIN=127.0.0.1:28391 BENCH_WORK="$O/river" PROXY_WORKERS=1 RIVER_JAR=$JAR \
  RIVER_JVM_OPTS="$*" setsid taskset -c 1 "$HERE/river-proxy.sh" > "$O/river.log" 2>&1 &
pid=$!; STARTED+=($pid)
for i in $(seq 600); do curl -s -m 1 -o /dev/null http://127.0.0.1:28380/hello && break; sleep 0.05; done
sleep 15
echo "rss $(rss_kib $pid)" > "$O/summary.txt"
jpid=$(pgrep -P $pid java || echo $pid)
grep -E 'VmRSS|RssAnon|RssFile|RssShmem|Threads' /proc/$pid/status >> "$O/summary.txt"
jcmd $pid VM.native_memory summary > "$O/nmt.txt" 2>&1
jcmd $pid GC.heap_info > "$O/heap.txt" 2>&1
jcmd $pid Thread.print > "$O/threads.txt" 2>&1
jcmd $pid GC.class_histogram > "$O/histo.txt" 2>&1
cat /proc/$pid/smaps_rollup >> "$O/summary.txt"
[ -n "${SMAPS:-}" ] && cp /proc/$pid/smaps "$O/smaps.txt"
echo "rss after jcmd $(rss_kib $pid)" >> "$O/summary.txt"
