#!/usr/bin/env bash
out=$1; n=${2:-3}; mkdir -p $out
for r in $(seq $n); do for v in ${VALS:-65536 16384}; do
  URLPATH=/64k PREWARM=25 RIVER_JAR=/work/prof/river-exp.jar RIVER_JVM_OPTS="-Driver.exp.maxRead=$v" timeout 200 /work/prof/sys.sh river $out/r$r-$v 2>&1 | grep kind= | sed "s/^/r$r max=$v /" | tee -a $out/results.txt
done; done
