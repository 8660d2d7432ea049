#!/usr/bin/env bash
# wasm-jmh.sh - WasmPluginBenchmark (src/jmh) in interleaved rounds, for one build or two side by side
# (before/after in one run); on a shared machine one long JMH run measures the neighbours' drift, rounds
# that take turns show it as spread instead. --cpu LIST pins the JVM (taskset; default: not pinned).
#
# usage: wasm-jmh.sh [--rounds N] [--cpu LIST] [--out DIR] NAME=DIR [NAME=DIR]
#   DIR: a copy of target/ holding classes/ and test-classes/ from `mvn -B -o -Pjmh test-compile`
#   (cp -r target/classes target/test-classes DIR/). The dependency classpath comes from the pom.
# Each round runs every build once: one fork, 5 x 2 s warm-up, 10 x 1 s measured, -prof gc, the three
# plugins (none, empty, headers). The table, per build and plugin: the benchmark thread's CPU time per
# request (the benchmark's cpuNanos / ops, per iteration: what preemption by other tenants does not
# inflate) and wall-clock ns/op, each the median (min–max) over every measured iteration of every
# round, and B/op (allocation per request, -prof gc).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROUNDS=3; CPU=""; OUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift 2;;
    --cpu) CPU=$2; shift 2;;
    --out) OUT=$2; shift 2;;
    -h|--help) sed -n '2,12p' "$0"; exit 0;;
    *=*) break;;
    *) echo "unknown arg $1" >&2; exit 2;;
  esac
done
[ $# -ge 1 ] || { echo "usage: wasm-jmh.sh [--rounds N] NAME=DIR [NAME=DIR]" >&2; exit 2; }
W=${OUT:-$HERE/runs/wasm-jmh-$(date +%Y%m%d-%H%M%S)}; mkdir -p "$W"; W=$(cd "$W" && pwd)
(cd "$HERE/.." && mvn -B -o -q -Pjmh dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$W/deps.txt" >/dev/null)
{ echo "date: $(date -Is)"; echo "java: $(java -version 2>&1 | head -1)"; echo "cpu: ${CPU:-not pinned}, rounds: $ROUNDS"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"; for b in "$@"; do echo "build $b"; done; } > "$W/env.txt"
for r in $(seq "$ROUNDS"); do
  for b in "$@"; do
    name=${b%%=*}; dir=${b#*=}
    echo "[$(date +%T)] round $r $name" >&2
    pin=(); [ -n "$CPU" ] && pin=(taskset -c "$CPU")
    "${pin[@]}" java -cp "$dir/test-classes:$dir/classes:$(cat "$W/deps.txt")" org.openjdk.jmh.Main WasmPluginBenchmark \
      -f 1 -wi 5 -w 2 -i 10 -r 1 -prof gc -rf json -rff "$W/r$r-$name.json" > "$W/r$r-$name.txt" 2>&1
  done
done
python3 - "$W" "$@" <<'EOF' | tee "$W/table.md"
import json, statistics as st, sys, glob, os
w, builds = sys.argv[1], [b.split("=", 1)[0] for b in sys.argv[2:]]
wall, cpu, alloc = {}, {}, {}
flat = lambda m: [x for fork in m["rawData"] for x in fork]
for b in builds:
    for f in sorted(glob.glob(os.path.join(w, "r*-%s.json" % b))):
        for res in json.load(open(f)):
            k, sec = (b, res["params"]["plugin"]), res["secondaryMetrics"]
            wall.setdefault(k, []).extend(flat(res["primaryMetric"]))
            cpu.setdefault(k, []).extend(c / n for c, n in zip(flat(sec["cpuNanos"]), flat(sec["ops"])) if n)
            alloc.setdefault(k, []).append(sec["gc.alloc.rate.norm"]["score"])
plugins = [p for p in ("none", "empty", "headers") if any(k[1] == p for k in wall)]
mm = lambda v: "%.0f (%.0f–%.0f)" % (st.median(v), min(v), max(v))
print("| build | plugin | CPU ns / request | over none | wall ns/op | B/op | B/op over none | iterations |")
print("|---|---|---|---|---|---|---|---|")
for b in builds:
    for p in plugins:
        k, z = (b, p), (b, "none")
        a = st.median(alloc[k])
        print("| %s | %s | %s | %+.0f | %s | %.0f | %+.0f | %d |" % (b, p, mm(cpu[k]), st.median(cpu[k]) - st.median(cpu[z]),
              mm(wall[k]), a, a - st.median(alloc[z]), len(cpu[k])))
EOF
