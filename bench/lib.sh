# lib.sh - shell pieces shared by the benchmark scripts (run.sh, slowreaders.sh, upstream-tls.sh): process utilities
# and the nginx configurations of the origin and of nginx as a proxy. Source it; it defines functions only.

# ---------------------------------------------------------------- process utils
STARTED=()   # every PID we started, for cleanup
tree_pids() {  # root pid -> root + all descendants
  ps -e -o pid=,ppid= | awk -v r="$1" '{p[$1]=$2} END{n=1; s[r]=1; ch=1;
    while(ch){ch=0; for(x in p) if(!(x in s) && (p[x] in s)){s[x]=1; ch=1}} for(x in s) print x}'
}
cpu_ticks() { local t=0 p v; for p in $(tree_pids "$1"); do
    v=$(sed 's/.*) //' /proc/$p/stat 2>/dev/null | awk '{print $12+$13}'); t=$((t+${v:-0})); done; echo $t; }
jit_ticks() {  # pid -> CPU ticks of the JVM's JIT compiler threads in its tree (0 for nginx and HAProxy)
  local t=0 p x v; for p in $(tree_pids "$1"); do for x in /proc/$p/task/*; do
    case $(cat "$x/comm" 2>/dev/null) in C1\ Compiler*|C2\ Compiler*)
      v=$(sed 's/.*) //' "$x/stat" 2>/dev/null | awk '{print $12+$13}'); t=$((t+${v:-0}));; esac; done; done; echo $t; }

rss_kib() { local t=0 p v; for p in $(tree_pids "$1"); do
    v=$(awk '/^VmRSS:/{print $2}' /proc/$p/status 2>/dev/null); t=$((t+${v:-0})); done; echo $t; }
nproc_tree() { tree_pids "$1" | wc -l; }
stop_pid() {  # stop a process we started (and its descendants), by PID
  local pid=$1 kids i
  kill -0 "$pid" 2>/dev/null || return 0
  kids=$(tree_pids "$pid" | grep -vx "$pid")
  kill -TERM "$pid" 2>/dev/null
  for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  for k in $kids; do kill -0 "$k" 2>/dev/null && kill -KILL "$k" 2>/dev/null; done
  wait "$pid" 2>/dev/null
  return 0
}
cleanup() { local p; for p in "${STARTED[@]}"; do stop_pid "$p"; done; }

port_busy() { ss -Hltn "sport = :$1" | grep -q LISTEN; }
wait_http() {  # url timeout_s
  local i; for i in $(seq $(( $2 * 10 ))); do
    curl -sk -m 1 -o /dev/null -w '%{http_code}' "$1" 2>/dev/null | grep -q 200 && return 0; sleep 0.1; done; return 1; }
wait_free() { local i; for i in $(seq 100); do port_busy "$1" || return 0; sleep 0.1; done; return 1; }

# ---- foreign-load guard: another tenant on this 2-core box can steal CPU.
# FOREIGN = CPU used by processes NOT started by this script, in % of one core,
# over the window guard_begin..guard_end (system busy ticks minus our own tree
# minus reaped children of this shell, e.g. wrk/h2load). Needs CLK (getconf CLK_TCK).
sys_busy() { awk '/^cpu /{print $2+$3+$4+$9}' /proc/stat; }  # user+nice+system+steal (softirq of our own loopback traffic excluded)
ours_all() { local s; s=$(sed 's/.*) //' /proc/$$/stat | awk '{print $12+$13+$14+$15}'); echo $(( s + $(cpu_ticks $$) - $(sed 's/.*) //' /proc/$$/stat | awk '{print $12+$13}') )); }
guard_begin() { G_B0=$(sys_busy); G_O0=$(ours_all); G_T0=$(date +%s.%N); }
guard_end() { local b1 o1 t1; o1=$(ours_all); b1=$(sys_busy); t1=$(date +%s.%N)
  FOREIGN=$(awk -v b=$((b1-G_B0)) -v o=$((o1-G_O0)) -v k="$CLK" -v a="$G_T0" -v c="$t1" 'BEGIN{f=(b-o)/k/(c-a)*100; if(f<0)f=0; printf "%.0f", f}'); }

# ---- waiting for a quiet machine (needs log() from the sourcing script)
QUIET_PCT=${QUIET_PCT:-10}
wait_quiet() { local i; for i in $(seq ${QUIET_TRIES:-6}); do guard_begin; sleep 1; guard_end
    [ "$FOREIGN" -le "$QUIET_PCT" ] && return 0
    [ "$i" = 1 ] && log "  waiting for foreign CPU load to drop (now ${FOREIGN}% of a core)"; sleep $((1 + RANDOM % 3)); done
  log "  foreign load persisted (${FOREIGN}%), measuring anyway"; }
# measured(): run "$@" up to MEASURE_TRIES (2) times until foreign load during it <= QUIET_PCT
measured() { local att; for att in $(seq ${MEASURE_TRIES:-2}); do wait_quiet; guard_begin; "$@"; guard_end
    [ "$FOREIGN" -le "$QUIET_PCT" ] && return 0; log "  foreign CPU ${FOREIGN}% during '$1' (attempt $att)"; done; }

# ---------------------------------------------------------------- nginx configurations
nginx_temp_paths() {  # dir -> nginx's temp-path directives, all under dir
  local d=$1
  echo "client_body_temp_path $d/cbt; proxy_temp_path $d/pt; fastcgi_temp_path $d/ft; uwsgi_temp_path $d/ut; scgi_temp_path $d/st;"
}

# nginx_origin_conf DIR WWW PORT STATUS_PORT: the origin, serving WWW on PORT and stub_status on STATUS_PORT
# (WWW "-": every path answers `return 200 "Hello world\n"`, no file is read)
nginx_origin_conf() {
  local d=$1 www=$2 port=$3 status=$4 serve
  serve="root $www;
    location / { }"
  [ "$www" = - ] && serve='location / { return 200 "Hello world\n"; }'
  cat <<EOC
worker_processes 1;
pid $d/nginx.pid;
lock_file $d/nginx.lock;
error_log $d/logs/error.log warn;
worker_rlimit_nofile 20000;
events { worker_connections 8192; }
http {
  access_log off;
  $(nginx_temp_paths "$d")
  keepalive_timeout 300s;
  keepalive_requests 1000000;   # origin never forces upstream reconnects
  sendfile on;
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:$port backlog=4096;
    $serve
  }
  server {
    listen 127.0.0.1:$status;
    location = /status { stub_status; }
  }
}
EOC
}

# nginx_proxy_conf DIR WORKERS PORT ORIGIN_PORT [TLS_PORT CERT KEY]: nginx as the proxy under test
nginx_proxy_conf() {
  local d=$1 nw=$2 port=$3 origin=$4 tls_port=${5:-} cert=${6:-} key=${7:-} tls=""
  if [ -n "$tls_port" ]; then
    # nginx before 1.23.4 offers only TLS 1.2 by default; River, HAProxy and Caddy offer 1.3 too.
    tls="listen 127.0.0.1:$tls_port ssl http2 backlog=4096;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_certificate $cert;
    ssl_certificate_key $key;"
  fi
  cat <<EOC
worker_processes $nw;
pid $d/nginx.pid;
lock_file $d/nginx.lock;
error_log $d/error.log warn;
worker_rlimit_nofile 20000;
events { worker_connections 16384; }
http {
  access_log off;
  $(nginx_temp_paths "$d")
  keepalive_requests 1000000;   # client side; default 1000 also caps h2 streams per conn (h2load stalls)
  upstream origin {
    server 127.0.0.1:$origin;
    keepalive 64;
  }
  server {
    listen 127.0.0.1:$port backlog=4096;
    $tls
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
EOC
}

# haproxy_proxy_conf DIR WORKERS PORT ORIGIN_PORT TLS_PORT PEM: HAProxy as the proxy under test (PEM: certificate and key)
haproxy_proxy_conf() {
  local d=$1 nw=$2 port=$3 origin=$4 tls_port=$5 pem=$6
  cat <<EOC
global
  nbthread $nw
  maxconn 9000
  pidfile $d/haproxy.pid
  tune.ssl.default-dh-param 2048
defaults
  mode http
  maxconn 9000
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout http-keep-alive 60s
  option http-keep-alive
  http-reuse always
frontend fe
  bind 127.0.0.1:$port
  bind 127.0.0.1:$tls_port ssl crt $pem alpn h2,http/1.1
  default_backend be
backend be
  server origin 127.0.0.1:$origin
EOC
}
