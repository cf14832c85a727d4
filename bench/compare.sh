#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The benchmark's regression guard: the headline ratios of a results.csv
# against those recorded in bench/baseline.csv.
#
# usage: compare.sh RESULTS.csv BASELINE.csv          compare
#        compare.sh -w RESULTS.csv BASELINE.csv       record the figures
#
# Each baseline line names one figure (scenario, cpus, size, capacity,
# producers, backend, batch), the peer it is a ratio to (pipe or
# posix-mq) and the ratio recorded. Round trips are better when lower,
# throughput when higher; a ratio more than 10 % worse than recorded
# fails (BENCH_TOLERANCE, in percent, changes the margin). A ratio better
# than recorded passes: record it with -w, in the commit that earns it.
# Under the instruction counter (BENCH_CLOCK=icount) the ratios do not
# depend on the host's speed or load, so the margin is for code changes
# only.
#
# Prints one line per figure and, last, "bench-compare: PASS" or
# "bench-compare: FAIL: N of M figures worse than the baseline".

set -uo pipefail

write=0
if [ "${1:-}" = -w ]; then
	write=1
	shift
fi
[ $# = 2 ] || { echo "usage: compare.sh [-w] RESULTS.csv BASELINE.csv" >&2; exit 2; }
results=$1 baseline=$2
[ -r "$results" ] || { echo "bench-compare: FAIL: no $results" >&2; exit 1; }
[ -r "$baseline" ] || { echo "bench-compare: FAIL: no $baseline" >&2; exit 1; }

printf '%-48s %8s %8s %7s\n' figure baseline now better
out=$(mktemp)
trap 'rm -f "$out"' EXIT
awk -F, -v write="$write" -v tol="${BENCH_TOLERANCE:-10}" -v out="$out" '
function key(a, b, c, d, e, f, g) { return a "," b "," c "," d "," e "," f "," g }
FNR == NR {
	# results.csv: scenario,cpus,size,capacity,producers,consumers,
	# backend,metric,unit,median,...,ratio_pipe(17),ratio_posix_mq(18),batch(19)
	if ($1 ~ /^#/ || $1 == "scenario")
		next
	k = key($1, $2, $3, $4, $5, $7, $19)
	pipe[k] = $17; mq[k] = $18; metric[k] = $8
	next
}
/^#/ || /^scenario,/ || NF == 0 {
	if (write) print > out
	next
}
{
	k = key($1, $2, $3, $4, $5, $6, $7)
	name = sprintf("%s %s B cap %s %sx%s %s%s vs %s", $1, $3, $4, $5, $5,
		       $6, $7 > 0 ? "/" $7 : "", $8)
	n++
	if (!(k in metric) || (($8 == "pipe" ? pipe[k] : mq[k]) + 0) <= 0) {
		printf "%-48s %8s %8s  missing\n", name, $9, "-"
		bad++
		missing++
		if (write) print > out
		next
	}
	now = ($8 == "pipe" ? pipe[k] : mq[k]) + 0
	lower = metric[k] == "round_trip"
	# change > 0: worse than recorded, in percent of the recorded ratio
	change = (lower ? now - $9 : $9 - now) * 100 / $9
	verdict = change > tol ? "WORSE" : (change < -tol ? "better" : "ok")
	if (change > tol)
		bad++
	printf "%-48s %8.3f %8.3f %+6.1f%%  %s\n", name, $9, now, -change, verdict
	if (write)
		printf "%s,%s,%s,%s,%s,%s,%s,%s,%.3f\n", $1, $2, $3, $4, $5, $6,
		       $7, $8, now > out
}
END {
	if (!n) {
		print "bench-compare: FAIL: no figures in the baseline"
		exit 1
	}
	if (write) {
		if (missing) {
			print "bench-compare: FAIL: " missing " of " n " figures missing: nothing recorded"
			exit 1
		}
		print "bench-compare: recorded " n " figures"
		exit 0
	}
	if (bad) {
		print "bench-compare: FAIL: " bad " of " n " figures worse than the baseline (or missing)"
		exit 1
	}
	print "bench-compare: PASS: " n " figures within " tol " % of the baseline"
}' "$results" "$baseline"
rc=$?
if [ "$write" = 1 ] && [ "$rc" = 0 ]; then
	cp "$out" "$baseline"
fi
exit $rc
