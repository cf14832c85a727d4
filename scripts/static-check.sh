#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Static checks of the module for the given kernels:
#   - a W=1 build: any compiler or modpost warning fails;
#   - sparse (C=2): any warning or error in our own files fails;
#   - checkpatch.pl --strict on module/*.[ch] and uapi/linux/*.h;
#   - every __must_hold function asserts its lock to lockdep
#     (scripts/lock-check.sh);
#   - every man page renders without warnings (userspace/tests/man-check.sh),
#     as installed, with the version filled in.
#
# usage: static-check.sh OUTDIR KERNEL...

set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=$1
shift
fail=0

for k in "$@"; do
	d=$out/$k/static
	rm -rf "$d"
	mkdir -p "$d"
	echo "static-check: W=1 build for $k"
	if ! "$top/scripts/build-module.sh" "$k" "$d" W=1 >"$d/w1.log" 2>&1; then
		cat "$d/w1.log"
		echo "static-check: FAIL: W=1 build failed for $k ($d/w1.log)"
		fail=1
		continue
	fi
	if grep -E '(warning|error):|^WARNING:' "$d/w1.log"; then
		echo "static-check: FAIL: W=1 warnings for $k ($d/w1.log)"
		fail=1
	fi
	echo "static-check: sparse (C=2) for $k"
	kdir=$("$top/scripts/kenv.sh" "$k" KDIR)
	make -C "$kdir" M="$d/src" C=2 modules >"$d/sparse.log" 2>&1 || {
		cat "$d/sparse.log"
		echo "static-check: FAIL: sparse run failed for $k"
		fail=1
	}
	if grep -E '(^|/)(module|uapi)/[^: ]+:[0-9]+(:[0-9]+)?: ' "$d/sparse.log"; then
		echo "static-check: FAIL: sparse warnings for $k ($d/sparse.log)"
		fail=1
	fi
done

checkpatch=$("$top/scripts/kenv.sh" - CHECKPATCH) || exit 1
echo "static-check: checkpatch --strict"
files=$(cd "$top" && ls module/*.[ch] uapi/linux/*.h 2>/dev/null)
if [ -n "$files" ]; then
	# shellcheck disable=SC2086
	if ! (cd "$top" && perl "$checkpatch" --strict --no-tree --quiet --show-types \
			--no-summary -f $files); then
		echo "static-check: FAIL: checkpatch"
		fail=1
	fi
fi

echo "static-check: lockdep assertions"
if ! (cd "$top" && scripts/lock-check.sh module/*.c); then
	echo "static-check: FAIL: lock-check"
	fail=1
fi

echo "static-check: man pages"
# As installed: with the version filled in (userspace/Makefile, "man").
if ! make -s -C "$top/userspace" O="$out/man-check" check-man; then
	echo "static-check: FAIL: man pages"
	fail=1
elif grep -rl '@[A-Z]*@' "$out/man-check/man"; then
	echo "static-check: FAIL: placeholders left in the man pages above"
	fail=1
fi

[ "$fail" -eq 0 ] && echo "static-check: clean"
exit "$fail"
