#!/usr/bin/env bash
# ab-h2.sh OUT JAR_A JAR_B [ROUNDS]: interleaved h2 rounds
out=$1; a=$2; b=$3; n=${4:-3}; mkdir -p $out
for r in $(seq $n); do for j in $a $b; do
  name=$(basename $j .jar)
  RIVER_JAR=$j timeout 200 /work/prof/h2.sh river $out/r$r-$name 2>&1 | grep kind= | sed "s/^/r$r $name /" | tee -a $out/results.txt
done; done
