#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host side of "make bench": boot the VM once, run ipcbox-bench in it,
# pull the results out of the TAP log (the guest's second serial port),
# print the table and draw the chart.
#
# usage: bench.sh -k KERNEL -m ipcbox.ko -g GUEST_DIR -o OUT_DIR [-q]
#   -q  quick: the guest runs "ipcbox-bench --quick" (the headline
#       figures, short runs) and bench/compare.sh holds its ratios
#       against bench/baseline.csv (BENCH_BASELINE overrides the file)
#
# Leaves in OUT_DIR: results.csv, table.txt, env.txt, bench.png and the
# VM logs under vm/. Exit status 0 when the guest run finished cleanly
# and every backend ran without failure; the last line of the output is
# "bench: PASS ..." or "bench: FAIL: <why>".

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

fail() {
	echo "bench: FAIL: $*"
	exit 1
}

# A full run takes minutes under TCG; give the single "test" room. A
# quick run takes a few minutes: a hang should fail it sooner.
timeout=${BENCH_TIMEOUT:-2400}
[ "$quick" = 0 ] || timeout=${BENCH_TIMEOUT:-300}
# The guest's clock counts instructions unless asked otherwise (a KVM
# machine may want wall time): then the figures are a count of guest
# instructions, independent of the host's load.
export VM_CLOCK=${BENCH_CLOCK:-icount}
# The quick run's figures are one vCPU's: a guest of one vCPU has no
# second CPU's timer and kworkers in its instruction count.
[ "$quick" = 0 ] || export VM_SMP=${VM_SMP:-1}
BOOT_TIMEOUT=$((timeout + 300)) "$top/scripts/vm-run.sh" -k "$kernel" \
	-o "$out/vm" -m "$ko" -t "$guest" -T "$timeout"
vmrc=$?

tap=$out/vm/tap.log
section() {
	[ -r "$tap" ] || return 0
	sed -n "/^# IPCBOX-BENCH-$1-BEGIN/,/^# IPCBOX-BENCH-$1-END/p" "$tap" |
		sed -e '1d' -e '$d' -e 's/^# //' | tr -d '\r'
}
section CSV >"$out/results.csv"
section TABLE >"$out/table.txt"
{
	section ENV
	echo "accel=${ACCEL:-tcg}"
	echo "clock=$VM_CLOCK"
	echo "vm_smp=${VM_SMP:-2}"
	echo "host_cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
	echo "qemu=$(qemu-system-x86_64 --version | head -n 1)"
	echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "commit=$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown)"
} >"$out/env.txt"

[ -s "$out/results.csv" ] ||
	fail "no results in $tap (VM status $vmrc; see $out/vm/console.log)"

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

# The verdict: the guest program's own (every backend ran, nothing was
# skipped or failed), its exit status, and the VM runner's (module load
# and unload, no kernel splat, in time).
guest_rc=$(sed -n 's/^# IPCBOX-BENCH-RC \([0-9]*\).*/\1/p' "$tap" | tr -d '\r' | tail -n 1)
verdict=$(grep -E '^ipcbox-bench: (PASS|FAIL)' "$out/table.txt" | tail -n 1)
[ -n "$verdict" ] || fail "ipcbox-bench did not finish (no verdict in the table)"
case $verdict in
*PASS*) ;;
*) fail "${verdict#ipcbox-bench: FAIL: }" ;;
esac
[ "$guest_rc" = 0 ] || fail "ipcbox-bench exited with status ${guest_rc:-unknown}"
if [ "$vmrc" != 0 ]; then
	why=$(head -n 3 "$out/vm/reasons.txt" 2>/dev/null | tr '\n' ' ')
	fail "VM run failed (status $vmrc): ${why:-see $out/vm/console.log}"
fi
n=$(grep -c '' "$out/results.csv")
if [ "$quick" = 1 ]; then
	echo
	echo "== headline ratios against the baseline (${BENCH_BASELINE:-bench/baseline.csv})"
	cmp=$("$here/compare.sh" "$out/results.csv" \
		"${BENCH_BASELINE:-$here/baseline.csv}")
	crc=$?
	echo "$cmp"
	[ "$crc" = 0 ] || fail "${cmp##*bench-compare: FAIL: }"
fi
echo "bench: PASS: ${verdict#ipcbox-bench: PASS: } ($n CSV rows)"
exit 0
