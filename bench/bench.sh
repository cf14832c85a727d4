#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host side of "make bench": boot the VM once, run ipcbox-bench in it,
# pull the results out of the TAP log (the guest's second serial port),
# print the table and draw the chart.
#
# usage: bench.sh -k KERNEL -m ipcbox.ko -g GUEST_DIR -o OUT_DIR [-q]
#   -q  quick: the guest runs "ipcbox-bench --quick" (a smoke run)
#
# Leaves in OUT_DIR: results.csv, table.txt, env.txt, bench.png and the
# VM logs under vm/. Exit status 0 when the guest run finished cleanly.

set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
kernel= ko= guest= out= quick=0
while getopts "k:m:g:o:q" o; do
	case $o in
	k) kernel=$OPTARG ;;
	m) ko=$OPTARG ;;
	g) guest=$OPTARG ;;
	o) out=$OPTARG ;;
	q) quick=1 ;;
	*) exit 2 ;;
	esac
done
[ -n "$kernel" ] && [ -n "$ko" ] && [ -n "$guest" ] && [ -n "$out" ] ||
	{ echo "bench: -k KERNEL -m KO -g GUEST_DIR -o OUT_DIR required" >&2; exit 2; }
mkdir -p "$out"
out=$(cd "$out" && pwd)

# A full run takes minutes under TCG; give the single "test" room.
timeout=${BENCH_TIMEOUT:-1500}
[ "$quick" = 0 ] || timeout=${BENCH_TIMEOUT:-600}
BOOT_TIMEOUT=$((timeout + 300)) "$top/scripts/vm-run.sh" -k "$kernel" \
	-o "$out/vm" -m "$ko" -t "$guest" -T "$timeout"
vmrc=$?

tap=$out/vm/tap.log
section() {
	sed -n "/^# IPCBOX-BENCH-$1-BEGIN/,/^# IPCBOX-BENCH-$1-END/p" "$tap" |
		sed -e '1d' -e '$d' -e 's/^# //' | tr -d '\r'
}
section CSV >"$out/results.csv"
section TABLE >"$out/table.txt"
{
	section ENV
	echo "accel=${ACCEL:-tcg}"
	echo "vm_smp=${VM_SMP:-2}"
	echo "host_cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
	echo "qemu=$(qemu-system-x86_64 --version | head -n 1)"
	echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "commit=$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown)"
} >"$out/env.txt"

if [ ! -s "$out/results.csv" ]; then
	echo "bench: no results in $tap" >&2
	exit 1
fi

echo
echo "== environment"
cat "$out/env.txt"
cat "$out/table.txt"

if [ "$quick" = 0 ]; then
	"$here/chart.sh" "$out/results.csv" "$out/env.txt" "$out/bench.png" ||
		echo "bench: no chart (gnuplot missing?)" >&2
	[ ! -f "$out/bench.png" ] || echo "bench: chart: $out/bench.png"
fi
echo "bench: results: $out/results.csv $out/table.txt"
exit $vmrc
