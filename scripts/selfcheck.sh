#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Show that the VM runner catches what it must: boot the guest with
# deliberately broken payloads and pass only if every one of them is
# reported as a failure for the expected reason, and a clean control run
# passes.
#
# usage: selfcheck.sh KERNEL BUILDDIR

set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
kernel=$1 build=$2/selfcheck
sc=$here/selfcheck

rm -rf "$build"
mkdir -p "$build/bin" "$build/kmod"
ksft=$("$here/kenv.sh" - KSFT_INCLUDE) || exit 1
kdir=$("$here/kenv.sh" "$kernel" KDIR) || exit 1

set -e
gcc -Wall -Wextra -Wno-sign-compare -Wno-unused-parameter -Wno-clobbered -O2 \
	-I"$ksft" -o "$build/bin/fail_test" "$sc/fail_test.c"
cp "$sc/Kbuild" "$sc/warn_mod.c" "$build/kmod/"
make -s -C "$kdir" M="$build/kmod" modules 2>&1 | grep -v '^Skipping BTF' || true
[ -f "$build/kmod/ipcbox_selfcheck_warn.ko" ]
set +e

mkcase() {
	local name=$1
	shift
	mkdir -p "$build/$name"
	for f in "$@"; do cp "$f" "$build/$name/"; done
}
mkcase control "$sc/pass.sh"
mkcase failing "$build/bin/fail_test"
mkcase warn "$sc/load_warn.sh"
mkcase hang "$sc/hang.sh"
mkcase pamarked "$sc/pa_marked.sh"
mkcase pawarn "$sc/pa_warn.sh"
mkcase knobs "$sc/knobs.sh"

ok=0 bad=0
# expect NAME PATTERN [vm-run args]: the run must fail with PATTERN among
# its reasons (PASS for the control run).
expect() {
	local name=$1 want=$2
	shift 2
	local out=$build/vm/$name
	echo "selfcheck: case '$name' (expect: $want)"
	"$here/vm-run.sh" -k "$kernel" -o "$out" -n -t "$build/${name%%-*}" "$@" \
		>"$build/$name.log" 2>&1
	local rc=$?
	if [ "$want" = PASS ]; then
		if [ $rc -eq 0 ]; then ok=$((ok + 1)); echo "selfcheck:   passed as expected"
		else bad=$((bad + 1)); echo "selfcheck:   FAILED: clean run not accepted"; cat "$build/$name.log"; fi
		return
	fi
	if [ $rc -ne 0 ] && grep -qE "$want" "$out/reasons.txt"; then
		ok=$((ok + 1))
		echo "selfcheck:   detected: $(grep -E "$want" "$out/reasons.txt" | head -n1)"
	else
		bad=$((bad + 1))
		echo "selfcheck:   NOT DETECTED (rc=$rc)"
		cat "$build/$name.log"
	fi
}

expect control PASS -T 60 -B 300
expect failing '^test-failed: .*selfcheck_deliberately_fails' -T 60 -B 300
expect warn '^kernel-splat: WARNING:' -x "$build/kmod/ipcbox_selfcheck_warn.ko" -T 60 -B 300
expect hang '^test-failed: hang.sh # TIMEOUT' -T 5 -B 300
# The page-allocation filter drops marked allocation reports, no warning.
expect pamarked PASS -x "$sc/pa_report.sh" -T 60 -B 300
expect pawarn '^kernel-splat: WARNING:' -x "$sc/pa_report.sh" \
	-x "$build/kmod/ipcbox_selfcheck_warn.ko" -T 60 -B 300
expect hang-boot '^boot-timeout' -T 10000 -B "${SELFCHECK_BOOT_TIMEOUT:-60}"
# The selftests' knobs (IPCBOX_SCALE_SECS, IPCBOX_TRINITY_SEED, ...) reach
# the guest, every family that knobs.sh lists.
families=$(sed -n 's/^set -- //p' "$sc/knobs.sh")
for f in $families; do export "IPCBOX_${f}_SELFCHECK=$f"; done
expect knobs PASS -T 60 -B 300
for f in $families; do unset "IPCBOX_${f}_SELFCHECK"; done

echo "selfcheck: $ok of $((ok + bad)) cases behaved as expected"
[ $bad -eq 0 ]
