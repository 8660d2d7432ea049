#!/usr/bin/env bash
# Starts River as the benchmark's proxy: listens on 127.0.0.1:$PROXY_PORT (8080; and, given TLS_CERT/TLS_KEY,
# on 127.0.0.1:$TLS_PORT, 8443, with TLS and HTTP/2), forwards to $ORIGIN, with
# $PROXY_WORKERS event-loop threads, through bin/river. JAVA selects the JDK, RIVER_JAR the jar,
# RIVER_JVM_OPTS extra JVM flags, RIVER_LAUNCHER another bin/river (an older one, for before/after).
# $ORIGIN may list several servers, comma-separated (one connector each, round robin);
# CONNECTOR_PROPS is written after each (e.g. tls-sni="localhost" ca-path="..." for TLS upstreams).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
jar=${RIVER_JAR:-$here/../target/river.jar}
work=${BENCH_WORK:-/tmp}
conf="$work/river-w${PROXY_WORKERS:-1}.kdl"
connectors=""
IFS=, read -r -a origins <<< "${ORIGIN:-127.0.0.1:9001}"
for o in "${origins[@]}"; do connectors+="            \"$o\" ${CONNECTOR_PROPS:-}"$'\n'; done
tls_listener=""
if [ -n "${TLS_CERT:-}" ] && [ -n "${TLS_KEY:-}" ]; then
  tls_listener="\"127.0.0.1:${TLS_PORT:-8443}\" cert-path=\"$TLS_CERT\" key-path=\"$TLS_KEY\""
fi
cat > "$conf" <<KDL
system {
    threads-per-service ${PROXY_WORKERS:-1}
    // nginx, HAProxy and Caddy run without access logs in this benchmark; so does River.
    access-log "off"
}
services {
    bench {
        listeners {
            "127.0.0.1:${PROXY_PORT:-8080}"
            $tls_listener
        }
        connectors {
$connectors        }
    }
}
KDL
RIVER_JAR=$jar RIVER_JAVA_OPTS=${RIVER_JVM_OPTS:-} exec "${RIVER_LAUNCHER:-$here/../bin/river}" --config-kdl "$conf"
