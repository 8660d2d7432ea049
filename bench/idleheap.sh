#!/usr/bin/env bash
# idleheap.sh - what River holds per idle HTTP/1.1 keep-alive connection, by class.
#
# usage: idleheap.sh OUTDIR [JAR]   (N=5000 connections; PROXY_PORT=18931, ORIGIN_PORT=18932)
#
# Starts a small Python origin and River (bench/river-proxy.sh, the launcher's flags), sends 200
# requests, takes `jmap -histo:live`, opens N keep-alive connections with bench/holdconns.py (one
# request each, then idle), takes the histogram again, and prints heap bytes per held connection by
# class (idleheap.py) and RSS per connection. The histogram is exact where RSS is noisy at this scale.
set -u
out=$1; jar=${2:-$(cd "$(dirname "$0")/.." && pwd)/target/river.jar}; N=${N:-5000}
here=$(cd "$(dirname "$0")" && pwd); PP=${PROXY_PORT:-18931}; OP=${ORIGIN_PORT:-18932}
mkdir -p "$out"
python3 -c "
import http.server,socketserver
class H(http.server.BaseHTTPRequestHandler):
    protocol_version='HTTP/1.1'
    def do_GET(s):
        s.send_response(200); s.send_header('Content-Length','5'); s.end_headers(); s.wfile.write(b'hello')
    def log_message(*a): pass
class S(socketserver.ThreadingMixIn, http.server.HTTPServer): daemon_threads=True
S(('127.0.0.1',$OP),H).serve_forever()" & opid=$!
PROXY_PORT=$PP ORIGIN=127.0.0.1:$OP BENCH_WORK=$out RIVER_JAR=$jar setsid "$here/river-proxy.sh" > "$out/river.log" 2>&1 & rpid=$!
for i in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$PP/hello" && break; sleep 0.2; done
jpid=$(pgrep -P $rpid java || echo $rpid)
for i in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:$PP/hello"; done
sleep 3
jmap -histo:live "$jpid" > "$out/before.txt"
rss0=$(awk '/VmRSS/{print $2}' "/proc/$jpid/status")
rm -f "$out/ready"; ulimit -n "$(ulimit -Hn)"
timeout 120 python3 "$here/holdconns.py" --port "$PP" --n "$N" --hold 25 --ready-file "$out/ready" > "$out/hold.txt" 2>&1 & hp=$!
for i in $(seq 600); do [ -s "$out/ready" ] && break; sleep 0.1; done
sleep 3
jmap -histo:live "$jpid" > "$out/after.txt"
rss1=$(awk '/VmRSS/{print $2}' "/proc/$jpid/status")
held=$(awk '{print $2}' "$out/ready")
echo "held=$held RSS before=${rss0}KiB with them=${rss1}KiB KiB/conn=$(awk -v a="$rss0" -v b="$rss1" -v n="$held" 'BEGIN{printf "%.3f",(b-a)/n}')"
python3 "$here/idleheap.py" "$out/before.txt" "$out/after.txt" "$held"
kill $hp 2>/dev/null; kill "$jpid" 2>/dev/null; kill $opid; wait 2>/dev/null
