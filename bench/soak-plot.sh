#!/usr/bin/env bash
# soak-plot.sh CSV PNG - draws a soak's samples (bench/soak.sh's samples.csv) with gnuplot (gnuplot-nox):
# memory (RSS, heap after GC, heap committed, Netty and JDK direct memory) in MiB above, and counts
# (open fds, threads, event-loop task queue, longest queue) below, against minutes.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 samples.csv out.png" >&2; exit 2; }
command -v gnuplot >/dev/null || { echo "missing gnuplot (apt-get install gnuplot-nox)" >&2; exit 1; }
gnuplot <<GP
set datafile separator ","
set terminal pngcairo size 1100,800 font ",10" noenhanced
set output "$2"
set key outside right top
set grid
set multiplot layout 2,1 title "River soak: $(basename "$(dirname "$(readlink -f "$1")")")"
set ylabel "MiB"
set yrange [0:*]
plot "$1" using (\$1/60):(\$2/1024) with lines lw 2 title "RSS", \
     "" using (\$1/60):(\$3/1024) with lines lw 2 title "heap after GC", \
     "" using (\$1/60):(\$4/1024) with lines title "heap committed", \
     "" using (\$1/60):(\$9/1048576) with lines title "Netty direct", \
     "" using (\$1/60):(\$11/1048576) with lines dt 2 title "JDK direct pool"
set xlabel "minutes"
set ylabel "count"
plot "$1" using (\$1/60):5 with lines lw 2 title "open fds", \
     "" using (\$1/60):6 with lines title "threads", \
     "" using (\$1/60):7 with impulses title "event-loop tasks queued", \
     "" using (\$1/60):8 with points pt 7 ps 0.4 title "longest queue"
unset multiplot
GP
