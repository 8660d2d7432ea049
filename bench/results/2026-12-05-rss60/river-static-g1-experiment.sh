#!/usr/bin/env bash
# River's launcher: runs target/river.jar (or $RIVER_JAR) with the JVM settings River is measured
# with (docs/performance.md explains each). Extra JVM flags: RIVER_JAVA_OPTS; the JDK: JAVA or JAVA_HOME.
#
#   bin/river --config-kdl examples/river.kdl
#   bin/river --train     (once per install, per jar and JDK: the class-data / ahead-of-time cache below)
set -euo pipefail
here=/work/wt-rss60/bin
jar=${RIVER_JAR:-$here/../target/river.jar}
# The archive below records the jar's path: one spelling of it, whichever way the launcher was called.
jar=$(readlink -f "$jar" 2>/dev/null || echo "$jar")
if [ -n "${JAVA:-}" ]; then
  java=$JAVA
elif [ -n "${JAVA_HOME:-}" ]; then
  java=$JAVA_HOME/bin/java
else
  java=java
fi
# glibc would otherwise keep one malloc arena per JIT/GC thread that ever allocated.
export MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-2}
# Serial GC: a proxy's objects die young and its live set is small, so single-threaded young
# collections are short and there are no concurrent-GC barriers on every write.
# -Xms16m: start small and grow only as load needs (the default starts at 1/64 of RAM).
# -Xrs: River, not the JVM, owns SIGQUIT (the upgrade signal; no thread dumps on it: use jcmd PID
#   Thread.print), SIGTERM, SIGINT and SIGHUP.
# TrimNativeHeapInterval: give memory freed by the JIT back to the OS.
# --enable-native-access: Netty's epoll transport on JDK 22+ (ignored by older JDKs with the flag below).
# RIVER_JIT_NICE=N (off unless set): the JIT compiler threads run at nice N (ThreadPriorityPolicy=1 +
# CompilerThreadPriority), so an event loop woken by I/O preempts a compilation on a shared core
# instead of waiting for it. The cost: on a saturated core the compiler gets less time, so River
# reaches full speed later (docs/performance.md, "Slow readers"). Only root may raise a thread's
# priority: run as another user, the JVM says so in one warning at start; lowering still works.
flags=(-Xrs -XX:+UseSerialGC -Xms16m -Xmx${RIVER_HEAP:-1g} -XX:+UnlockExperimentalVMOptions -XX:TrimNativeHeapInterval=5000
       -XX:+IgnoreUnrecognizedVMOptions --enable-native-access=ALL-UNNAMED)
if [ -n "${RIVER_JIT_NICE:-}" ]; then
  case $RIVER_JIT_NICE in
    [0-9]|1[0-9]) ;;
    *) echo "bin/river: RIVER_JIT_NICE must be a nice value from 0 to 19, not '$RIVER_JIT_NICE'" >&2; exit 2;;
  esac
  flags+=(-XX:ThreadPriorityPolicy=1 "-XX:CompilerThreadPriority=$RIVER_JIT_NICE")
fi
# The start-up cache (docs/performance.md, "Warm start"): River's classes already parsed, verified and
# laid out (AppCDS on JDK 17-24, -XX:SharedArchiveFile), and on JDK 25+ also linked, with method
# profiles from the training run (JEP 483/515, -XX:AOTCache), so a new River (an upgrade) starts and
# warms up sooner and maps shared pages instead of building them. Made by `bin/river --train` into
# RIVER_AOT_DIR (default: beside the jar), one file per JDK feature release; used when present unless
# RIVER_AOT=off. A stale file (another jar or JDK) is refused by the JVM with a warning, never fatal.
home=$(dirname "$(dirname "$(readlink -f "$(command -v "$java")")")")
major=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$home/release" 2>/dev/null || true)
major=${major:-0}
aot_dir=${RIVER_AOT_DIR:-$(dirname "$jar")}
if [ "$major" -ge 25 ]; then
  cache=$aot_dir/river-jdk$major.aot; use_cache=(-XX:AOTCache="$cache"); make_cache=(-XX:AOTCacheOutput="$cache.tmp")
else
  cache=$aot_dir/river-jdk$major.jsa; use_cache=(-XX:SharedArchiveFile="$cache")
  make_cache=(-XX:DumpLoadedClassList="$cache.classlist")
fi
# --train: River on loopback (a file server and a proxy in front of it, on free ports, in a temporary
# directory) under a few thousand requests from curl, then SIGTERM: the JVM writes the cache as it exits.
train() {
  command -v curl >/dev/null || { echo "bin/river --train: needs curl" >&2; exit 1; }
  local ports=() p pid i n urls=()
  dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT  # global: the trap runs after train returns
  for p in $(seq 20000 60000 | shuf -n 40); do
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || ports+=("$p"); [ ${#ports[@]} -ge 2 ] && break
  done
  mkdir -p "$dir/www"; printf 'Hello world\n' > "$dir/www/hello"; head -c 65536 /dev/zero | tr '\0' x > "$dir/www/64k"
  cat > "$dir/river.kdl" <<KDL
system {
    threads-per-service 1
    access-log "off"
}
services {
    origin {
        listeners {
            "127.0.0.1:${ports[0]}"
        }
        file-server {
            base-path "$dir/www"
        }
    }
    proxy {
        listeners {
            "127.0.0.1:${ports[1]}"
        }
        connectors {
            "127.0.0.1:${ports[0]}"
        }
    }
}
KDL
  rm -f "$cache.tmp"
  "$java" "${flags[@]}" "${make_cache[@]}" -jar "$jar" --config-kdl "$dir/river.kdl" > "$dir/river.log" 2>&1 &
  pid=$!
  for i in $(seq 600); do curl -s -m 1 -o /dev/null "http://127.0.0.1:${ports[1]}/hello" && break; sleep 0.1; done
  for i in $(seq 200); do urls+=("http://127.0.0.1:${ports[1]}/hello"); done
  for n in $(seq 30); do   # 6,000 keep-alive requests on 30 connections, plus misses and 64 KiB bodies
    curl -s "${urls[@]}" "http://127.0.0.1:${ports[1]}/missing" "http://127.0.0.1:${ports[1]}/64k" > /dev/null || true
  done
  kill -TERM "$pid" 2>/dev/null || true; wait "$pid" || true
  if [ "$major" -lt 25 ]; then
    "$java" -Xshare:dump ${DUMP_OPTS:-} -XX:SharedClassListFile="$cache.classlist" -XX:SharedArchiveFile="$cache.tmp" -cp "$jar" > "$dir/dump.log" 2>&1 || { cat "$dir/dump.log" >&2; exit 1; }
    cp "$dir/dump.log" "$cache.dumplog"
  fi
  if [ ! -s "$cache.tmp" ]; then
    echo "bin/river --train: no cache was written; River's log:" >&2; cat "$dir/river.log" >&2; exit 1
  fi
  mv -f "$cache.tmp" "$cache"
  echo "bin/river --train: wrote $cache ($(du -k "$cache" | cut -f1) KiB); bin/river uses it from now on (RIVER_AOT=off: not)"
}
if [ "${1:-}" = --train ]; then
  train; exit 0
fi
if [ "${RIVER_AOT:-on}" != off ] && [ -f "$cache" ]; then
  flags+=("${use_cache[@]}")
fi
# shellcheck disable=SC2086
exec "$java" "${flags[@]}" ${RIVER_JAVA_OPTS:-} -jar "$jar" "$@"
