#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Draw the benchmark at a glance: for the headline figures, each
# mechanism's speed relative to pipe (pipe = 1, higher is better; for
# latency that is pipe's time / ours), one panel per CPU placement.
# ipcbox-call has round-trip bars only, ipcbox-batch throughput bars only
# (its largest batch: 64 messages per call).
#
# usage: chart.sh results.csv env.txt out.png

set -euo pipefail
csv=$1 env=$2 png=$3
command -v gnuplot >/dev/null || { echo "chart: gnuplot not installed" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

backends="ipcbox ipcbox-rw ipcbox-rdv ipcbox-call ipcbox-batch pipe seqpacket posix-mq sysv-msg shm-ring"
nb=$(echo $backends | wc -w)
# label|scenario|size|capacity|producers (capacity ignored for rtt)
figs="rtt 64B|rtt|64|-|1
rtt 4KiB|rtt|4096|-|1
rtt 64KiB|rtt|65536|-|1
tput 64B c64|tput|64|64|1
tput 64KiB c64|tput|65536|64|1
4x4 64B|mpmc|64|64|4"

for cpus in 1 2; do
	out=$tmp/cpus$cpus.dat
	printf 'figure' >"$out"
	for b in $backends; do printf ' %s' "$b" >>"$out"; done
	echo >>"$out"
	while IFS='|' read -r label scen size cap prod; do
		printf '"%s"' "$label" >>"$out"
		for b in $backends; do
			awk -F, -v s="$scen" -v c="$cpus" -v z="$size" -v k="$cap" \
			    -v p="$prod" -v b="$b" '
			$1 == s && $2 == c && $3 == z && (k == "-" || $4 == k) &&
			$5 == p && $7 == b && $17 != "" && (!found || $19 + 0 > bat) {
				r = $17 + 0
				if (s == "rtt" && r > 0) r = 1 / r
				v = r; found = 1; bat = $19 + 0
			}
			END { printf " %s", found ? v : "NaN" }' "$csv" >>"$out"
		done
		echo >>"$out"
	done <<<"$figs"
done

kernel=$(sed -n 's/^kernel=//p' "$env")
accel=$(sed -n 's/^accel=//p' "$env")
clock=$(sed -n 's/^clock=//p' "$env")
[ "$clock" != icount ] || accel="$accel, instruction counter as the clock"
cpu=$(sed -n 's/^host_cpu=//p' "$env")
gnuplot <<GP
set terminal pngcairo size 1200,760 font ",10"
set output "$png"
set multiplot layout 2,1 title "ipcbox vs peers: speed relative to pipe (1 = pipe; higher is better; latency as pipe time / time)\n$kernel, QEMU $accel, host $cpu" font ",11"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
# gnuplot's colours repeat after 8: the ninth and tenth backends get their own
set linetype 9 lc rgb "#a0522d"
set linetype 10 lc rgb "#808080"
set grid ytics
set yrange [0:4]
set label 1 "bars clipped at 4" at graph 0.01, graph 0.95
set key outside right top
set ylabel "x pipe"
set title "pinned on 1 vCPU"
plot for [i=2:$((nb + 1))] "$tmp/cpus1.dat" using i:xtic(1) title columnheader(i), 1 notitle lc rgb "black" dt 2
set title "spread over 2 vCPUs (producers on 0, consumers on 1)"
plot for [i=2:$((nb + 1))] "$tmp/cpus2.dat" using i:xtic(1) title columnheader(i), 1 notitle lc rgb "black" dt 2
unset multiplot
GP
