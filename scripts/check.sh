#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# "make check": the clean-root stage (make demo on a fresh Debian 12
# root), dependencies, static checks, every build, the runner
# self-check, a smoke run of the benchmark, then the selftests in QEMU for
# each kernel in $KERNELS.
# Always ends with the line "N passed, N failed": harness test cases over
# all kernels; a failure that is not a test case (a step that failed, a
# kernel splat, a timeout, a module that would not unload) adds one to
# the failed count, so a failing run never reads "0 failed".

set -uo pipefail

build=$1
make=${MAKE:-make}
kernels=${KERNELS:-6.1 6.12}
steps_failed=0 passed=0 failed=0 skipped=0
summary=()
t0=$(date +%s)
rm -f "$build/check-summary.txt"

step() {
	local name=$1
	shift
	local t=$SECONDS
	echo "==> $name"
	if "$@"; then
		summary+=("  $name: ok ($((SECONDS - t))s)")
	else
		summary+=("  $name: FAILED ($((SECONDS - t))s)")
		steps_failed=$((steps_failed + 1))
		return 1
	fi
}

finish() {
	echo
	echo "==> summary ($(($(date +%s) - t0))s)"
	printf '%s\n' "${summary[@]}"
	mkdir -p "$build"
	echo "$passed passed, $((failed + steps_failed)) failed" | tee "$build/check-summary.txt"
	[ $((failed + steps_failed)) -eq 0 ]
	exit
}

# First the README's first command on a machine that has nothing.
step check-fresh $make --no-print-directory check-fresh
step deps $make --no-print-directory deps KERNELS="$kernels" || finish
step static-check $make --no-print-directory static-check KERNELS="$kernels"
step build $make --no-print-directory all KERNELS="$kernels" || finish
step selfcheck $make --no-print-directory selfcheck KERNELS="$kernels"
# The benchmark is not a test: each scenario runs once, briefly, to show
# that every backend still works.
step bench-quick $make --no-print-directory bench-quick

# The VM runs, in two lanes: the longest (the debug kernel's, else the
# first) in one, the others one after the other in the second, so that
# the two cores are both busy; CHECK_LANES=1 runs them one by one. Each
# run's output goes to its own log, shown when the lanes are done.
vm_test() {
	rm -f "$build/vm/$1/result.env"
	mkdir -p "$build/vm"
	$make --no-print-directory -o deps "vm-test-$1" KERNELS="$kernels" \
		>"$build/vm/$1.log" 2>&1
}

lane1= lane2=
for k in $kernels; do
	case $k in debug) lane1=$k ;; *) lane2="$lane2 $k" ;; esac
done
if [ -z "$lane1" ]; then
	read -r lane1 lane2 <<<"$lane2"
fi
if [ "${CHECK_LANES:-2}" = 1 ]; then
	lane2="$lane1$lane2" lane1=
fi
echo "==> vm-test${lane1:+ $lane1 and} ${lane2# } (logs in $build/vm/KERNEL.log)"
pid1=
if [ -n "$lane1" ]; then
	vm_test "$lane1" &
	pid1=$!
fi
for k in $lane2; do
	vm_test "$k"
done
[ -z "$pid1" ] || wait "$pid1"

for k in $kernels; do
	echo "==> vm-test $k"
	cat "$build/vm/$k.log"
	if [ -r "$build/vm/$k/result.env" ]; then
		# shellcheck disable=SC1091
		. "$build/vm/$k/result.env"
		passed=$((passed + PASSED))
		failed=$((failed + FAILED))
		skipped=$((skipped + SKIPPED))
		summary+=("  vm-test $k: $STATUS ($PASSED passed, $FAILED failed, $SKIPPED skipped; logs in $build/vm/$k/)")
	else
		failed=$((failed + 1))
		summary+=("  vm-test $k: FAILED (no result; see $build/vm/$k/)")
	fi
done
finish
