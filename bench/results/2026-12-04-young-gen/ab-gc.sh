#!/usr/bin/env bash
out=$1; n=${2:-3}; mkdir -p $out
for r in $(seq $n); do for v in base xmn24 xmn48; do
  case $v in base) o="";; xmn24) o="-Xmn24m";; xmn48) o="-Xmn48m";; esac
  NOPERF=1 PREWARM=25 RIVER_JVM_OPTS="$o" timeout 200 /work/prof/sys.sh river $out/r$r-$v > /dev/null 2>&1
  echo "r$r $v $(grep kind= $out/r$r-$v/summary.txt) p99=$(awk '/ 99%/{print $2}' $out/r$r-$v/wrk.txt) p50=$(awk '/ 50%/{print $2}' $out/r$r-$v/wrk.txt)" | tee -a $out/results.txt
done; done
