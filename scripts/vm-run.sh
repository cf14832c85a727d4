#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot one of the cached Debian kernels in QEMU with the ipcbox initramfs,
# run the selftests (or a shell, or the demo) and judge the result.
#
# usage: vm-run.sh -k KERNEL -o OUTDIR [-M test|shell|demo] [-m ipcbox.ko]
#                  [-t TESTDIR] [-u USERSPACE_DIR] [-x EXTRA]... [-n]
#                  [-T TEST_TIMEOUT] [-B BOOT_TIMEOUT] [-s STAGE]
#   -n  do not load ipcbox.ko (runner self-check)
#   -s  a staged install of user space (make stage; default: "stage" next
#       to the -u directory, when there is one) for the guest to build
#       against; its path reaches the guest as IPCBOX_STAGE
#
# In test and shell mode the host's root is shared read-only with the
# guest (virtio-9p, tag "hostroot"; VM_HOSTROOT=0 leaves it out) along with
# the kernel's 9p modules from the cache; ipcbox-hostroot in the guest
# (scripts/guest-hostroot.sh) mounts it on /host. IPCBOX_SRC in the
# guest's /etc/ipcbox-vm.conf is this checkout's path on the host.
#
# Environment: ACCEL=tcg|kvm (default tcg), VM_CLOCK=wall|icount (default
# wall; see the QEMU options below), IPCBOX_CACHE, VM_MEM (1G),
# IPCBOX_{PRODCONS,TORTURE,SIGSTORM,SIGKILL,LIFECYCLE,FUZZ,SCALE,TRINITY}_*
# (passed to the selftests in the guest, see selftests/README.md),
# VM_SMP (2), BOOT_TIMEOUT (900 s), TEST_TIMEOUT (300 s per binary),
# BOOT_RETRIES (1: boots whose kernel died before /init are retried),
# VM_HOSTROOT (1).
#
# Test mode leaves in OUTDIR: console.log (kernel console, ttyS0),
# tap.log (TAP + dmesg dump, ttyS1; its marker lines: scripts/vm-protocol.md),
# initramfs.cpio.gz, result.env
# (STATUS, PASSED, FAILED, SKIPPED) and reasons.txt. Exit status 0 only
# when every test passed, the module loaded and unloaded, the guest
# finished in time and the kernel logged no splat.

set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
# shellcheck source-path=SCRIPTDIR source=vm-protocol.sh
. "$here/vm-protocol.sh"
CACHE=${IPCBOX_CACHE:-/var/cache/ipcbox}
ACCEL=${ACCEL:-tcg}
kernel= out= mode=test ko= tests= us= extras=() load=1 stage=
test_timeout=${TEST_TIMEOUT:-300}
boot_timeout=${BOOT_TIMEOUT:-900}
while getopts "k:o:M:m:t:u:x:nT:B:s:" o; do
	case $o in
	k) kernel=$OPTARG ;;
	o) out=$OPTARG ;;
	M) mode=$OPTARG ;;
	m) ko=$OPTARG ;;
	t) tests=$OPTARG ;;
	u) us=$OPTARG ;;
	x) extras+=(-x "$OPTARG") ;;
	n) load=0 ;;
	T) test_timeout=$OPTARG ;;
	B) boot_timeout=$OPTARG ;;
	s) stage=$OPTARG ;;
	*) exit 2 ;;
	esac
done
[ -n "$kernel" ] && [ -n "$out" ] || { echo "vm-run: -k KERNEL and -o OUTDIR required" >&2; exit 2; }
[ -r "$CACHE/kernels.env" ] || { echo "vm-run: $CACHE/kernels.env missing (make deps)" >&2; exit 2; }
# shellcheck disable=SC1091
. "$CACHE/kernels.env"
n=$(echo "$kernel" | tr '.-' '__')
vv=VMLINUZ_$n kv=KVER_$n
vmlinuz=${!vv:-}
[ -n "$vmlinuz" ] && [ -r "$vmlinuz" ] ||
	{ echo "vm-run: kernel $kernel not prepared (make deps KERNEL=$kernel)" >&2; exit 2; }

mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out"/{console.log,tap.log,result.env,reasons.txt,qemu.log}
initrd=$out/initramfs.cpio.gz
args=(-o "$initrd" -c "MODE=$mode" -c "TEST_TIMEOUT=$test_timeout" -c "LOAD_MODULE=$load")
if [ -n "$ko" ] && [ ! -f "$ko" ]; then
	echo "vm-run: warning: $ko not built; the guest will report it missing" >&2
	ko=
fi
# The selftests' own knobs (durations, message counts) reach the guest.
for v in $(compgen -e | grep -E '^IPCBOX_(PRODCONS|TORTURE|SIGSTORM|SIGKILL|LIFECYCLE|FUZZ|SCALE|TRINITY)_[A-Z_]+$'); do
	args+=(-c "export $v=${!v}")
done
[ -z "$ko" ] || args+=(-m "$ko")
[ -z "$tests" ] || args+=(-t "$tests")
[ -z "$us" ] || args+=(-u "$us")

share=()
if [ "$mode" != demo ] && [ "${VM_HOSTROOT:-1}" = 1 ]; then
	share=(-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap)
	[ ! -s "$CACHE/kernels/${!kv}/9p/load.order" ] || args+=(-9 "$CACHE/kernels/${!kv}/9p")
	args+=(-c "IPCBOX_SRC='$top'")
	[ -n "$stage" ] || [ -z "$us" ] || [ ! -d "$us/../stage" ] || stage=$us/../stage
	[ -z "$stage" ] || args+=(-c "IPCBOX_STAGE='$(cd "$stage" && pwd)'")
fi
"$here/mkinitramfs.sh" "${args[@]}" "${extras[@]}" || exit 2

# The QEMU options, chosen here and nowhere else. VM_CLOCK=icount makes
# the guest's clocks count instructions (one nanosecond per guest
# instruction, idle time skipped, vCPUs run in turn), so that what the
# guest measures does not move with the host's load; the CPU model lacks
# cmpxchg16b, whose emulation under icount was seen to crash SLUB.
VM_CLOCK=${VM_CLOCK:-wall}
qemu=(qemu-system-x86_64 -m "${VM_MEM:-1G}" -smp "${VM_SMP:-2}" -accel "$ACCEL"
      -kernel "$vmlinuz" -initrd "$initrd" -no-reboot -nodefaults "${share[@]}"
      -append "console=ttyS0 panic=-1 oops=panic ignore_loglevel ${VM_APPEND:-}")
case $VM_CLOCK/$ACCEL in
wall/kvm)	qemu+=(-cpu host) ;;
wall/*)		;;
icount/tcg)	qemu+=(-icount shift=0,sleep=off -cpu qemu64,-cx16) ;;
*)		echo "vm-run: VM_CLOCK=$VM_CLOCK with ACCEL=$ACCEL: icount needs tcg" >&2
		exit 2 ;;
esac

if [ "$mode" = shell ]; then
	echo "Booting ${!kv} in QEMU ($ACCEL). To leave the VM: type 'poweroff' or press Ctrl-A then X."
	exec "${qemu[@]}" -nographic -serial mon:stdio -serial "file:$out/tap.log"
fi

# A kernel that dies before it starts /init never ran ipcbox code; under
# TCG on a loaded host 6.12 has been seen to do that (an int3 Oops while
# patching static keys). Such a boot is kept as console.early-N.log and
# retried, at most BOOT_RETRIES times; a crash from /init on always counts.
boot_retries=${BOOT_RETRIES:-1}
attempt=0
while :; do
echo "vm-run: booting ${!kv} ($ACCEL, $VM_CLOCK clock, timeout ${boot_timeout}s, logs in $out)"
start=$(date +%s)
: >"$out/tap.log"
: >"$out/console.log"
timeout -k 10 "$boot_timeout" "${qemu[@]}" -display none -monitor none \
	-serial "file:$out/console.log" -serial "file:$out/tap.log" \
	</dev/null >"$out/qemu.log" 2>&1 &
qpid=$!
# Live progress: the TAP stream up to the dmesg dump, without markers.
: >>"$out/tap.log"
tail -n +1 -F --pid=$qpid "$out/tap.log" 2>/dev/null |
	awk -v dmesg="# $IPCBOX_MARK_DMESG_BEGIN" \
	    -v hide="# $IPCBOX_MARK_BEGIN|# $IPCBOX_MARK_END|# $IPCBOX_MARK_DONE|# $IPCBOX_MARK_DEMO_RC|# $IPCBOX_MARK_TAINT" '
	function hidden(   i) { for (i = 1; i <= nh; i++) if (index($0, h[i]) == 1) return 1; return 0 }
	BEGIN { nh = split(hide, h, "|") }
	index($0, dmesg) == 1 { skip = 1 }
	!skip && !hidden() { print; fflush() }' &
tpid=$!
wait $qpid
qrc=$?
wait $tpid 2>/dev/null
elapsed=$(($(date +%s) - start))
# The guest's tty turned each newline into CR LF.
sed -i 's/\r$//' "$out/tap.log" "$out/console.log" 2>/dev/null
if [ "$attempt" -lt "$boot_retries" ] && [ ! -s "$out/tap.log" ] &&
   ! grep -q 'Run /init' "$out/console.log" &&
   grep -qE 'Kernel panic|Oops' "$out/console.log"; then
	attempt=$((attempt + 1))
	mv "$out/console.log" "$out/console.early-$attempt.log"
	echo "vm-run: the kernel died before starting /init (see $out/console.early-$attempt.log); booting again"
	continue
fi
break
done

reasons=()
add() { reasons+=("$*"); }

if [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
	add "boot-timeout: guest still running after ${boot_timeout}s, killed"
elif [ "$qrc" -ne 0 ]; then
	add "qemu-failed: qemu exited with $qrc (see $out/qemu.log)"
fi
grep -q "^# $IPCBOX_MARK_DONE" "$out/tap.log" || add "unfinished: guest did not reach the end of its run"

if [ "$mode" = demo ]; then
	rc=$(sed -n "s/^# $IPCBOX_MARK_DEMO_RC //p" "$out/tap.log")
	[ "${rc:-1}" = 0 ] || add "demo-failed: demo exited with ${rc:-nothing}"
fi

# Parse TAP: top level from the guest, harness lines indented by "# ".
eval "$(awk -v dmesg="# $IPCBOX_MARK_DMESG_BEGIN" -v begin="# $IPCBOX_MARK_BEGIN " \
	    -v end="# $IPCBOX_MARK_END " -v module="# $IPCBOX_MARK_MODULE " \
	    -v tap="$IPCBOX_TAP_NAME " '
function fin() {
	if (!inbin) return
	if (plan < 0) { if (top_ok) pass++; else fail++ }
	else if (seen < plan) { fail += plan - seen; printf "R+=(\"missing-results: %s reported %d of %d test cases\")\n", bin, seen, plan }
	inbin = 0
}
index($0, dmesg) == 1 { exit }
/^1\.\.[0-9]+/ { tplan = substr($0, 4) + 0; next }
index($0, begin) == 1 { fin(); bin = $3; inbin = 1; plan = -1; seen = 0; top_ok = 0; next }
$0 ~ "^(not )?ok [0-9]+ " tap {
	tseen++
	if ($1 == "ok") top_ok = 1
	else { top_ok = 0; r = $0; sub("^not ok [0-9]+ " tap, "", r); gsub(/"/, "", r); printf "R+=(\"test-failed: %s\")\n", r }
	next
}
index($0, end) == 1 { fin(); next }
index($0, module) == 1 && ($3 == "insmod:" || $3 == "rmmod:") && $4 == "FAIL" {
	r = substr($0, length(module) + 1); gsub(/"/, "", r); printf "R+=(\"module: %s\")\n", r; next
}
inbin && /^# / {
	l = substr($0, 3)
	if (l ~ /^1\.\.[0-9]+/) { if (plan < 0) plan = substr(l, 4) + 0; next }
	if (l ~ /^ok [0-9]+ /) { seen++; if (l ~ /# [Ss][Kk][Ii][Pp]/) skip++; else pass++; next }
	if (l ~ /^not ok [0-9]+ /) { seen++; fail++; r = l; gsub(/"/, "", r); printf "R+=(\"test-failed: %s: %s\")\n", bin, r; next }
}
END {
	fin()
	if (tplan < 0 || tplan == "") tplan = -1
	printf "PASSED=%d FAILED=%d SKIPPED=%d TPLAN=%d TSEEN=%d\n", pass, fail, skip, tplan, tseen
}' tplan=-1 "$out/tap.log" | sed 's/^R+=/reasons+=/')"

if [ "$mode" = test ]; then
	if [ "$TPLAN" -lt 0 ]; then
		add "missing-results: no TAP plan from the guest"
	elif [ "$TSEEN" -lt "$TPLAN" ]; then
		add "missing-results: $TSEEN of $TPLAN test binaries reported"
	elif [ "$TPLAN" -eq 0 ]; then
		add "no-tests: the initramfs held no test binaries"
	fi
fi

# Kernel splats, from the console and from the dmesg dump.
splat_re='BUG:|kernel BUG|WARNING:|Oops|general protection|KASAN|UBSAN|possible recursive locking|inconsistent lock state|circular locking|lockdep|sleeping function called|hung task|blocked for more than|Objects remaining|Call Trace|soft lockup|hard LOCKUP|rcu.*stall|Kernel panic|kmemleak: [0-9]+ new suspected|kmemleak: .*(disabled|Cannot)|list_(add|del) corruption|refcount_t:|double free|use-after-free'
# A debug kernel announces its instruments at boot; those lines are no splat.
benign_re='^rcu:[[:space:]]+RCU (lockdep checking|callback double-/use-after-free debug) is enabled\.$'
# The faults test injects page allocation failures between two marker
# lines it writes to /dev/kmsg; the allocator reports some of them with
# warn_alloc(): a "page allocation failure" line and a stack dump. Those
# reports, and only those (a line that is no part of such a dump ends
# it), are dropped between the markers; anything else there still counts.
# shellcheck disable=SC2016 # an awk program, not for the shell
pa_filter='
index($0, pa_begin) { marked = 1; drop = 0; next }
index($0, pa_end) { marked = 0; drop = 0; next }
marked && /: page allocation failure: order:[0-9]+, mode:/ { drop = 1; next }
drop && (/^CPU: [0-9]+ / || /^Tainted: / || /^Hardware name: / ||
	 /^Call Trace:$/ || /^ *<\/?(TASK|IRQ)>$/ ||
	 /^ *(\? )?[A-Za-z0-9_.]+\+0x[0-9a-f]+\/0x[0-9a-f]+( \[[A-Za-z0-9_]+\])?$/) { next }
{ drop = 0; print }'
splats=$( { cat "$out/console.log" 2>/dev/null
	    sed -n "/^# $IPCBOX_MARK_DMESG_BEGIN/,/^# $IPCBOX_MARK_DMESG_END/p" "$out/tap.log"; } |
	  tr -d '\r' | sed 's/^\[ *[0-9.]*\] //' |
	  awk -v pa_begin="$IPCBOX_MARK_PA_BEGIN" -v pa_end="$IPCBOX_MARK_PA_END" "$pa_filter" |
	  grep -E "$splat_re" | grep -vE "$benign_re" | sort -u | head -n 20)
if [ -n "$splats" ]; then
	while IFS= read -r l; do add "kernel-splat: $l"; done <<<"$splats"
fi
taint=$(sed -n "s/^# $IPCBOX_MARK_TAINT //p" "$out/tap.log" | tr -dc 0-9)
taint0=$(sed -n "s/^# $IPCBOX_MARK_TAINT_BOOT //p" "$out/tap.log" | tr -dc 0-9)
# D (died), W (warning), B (bad page), L (soft lockup).
if [ -n "$taint" ] && [ $((taint & (128 | 512 | 32 | 16384))) -ne 0 ]; then
	add "kernel-taint: tainted=$taint (oops, warning, bad page or lockup)"
fi
# Anything new but O (out-of-tree) and E (unsigned module) is a finding.
if [ -n "$taint" ] && [ -n "$taint0" ] && [ $(((taint & ~taint0) & ~(4096 | 8192))) -ne 0 ]; then
	add "kernel-taint: tainted went from $taint0 to $taint during the run"
fi
sl=$(sed -n "s/^# $IPCBOX_MARK_SLAB_LEFT //p" "$out/tap.log" | tr -dc 0-9)
[ -z "$sl" ] || [ "$sl" = 0 ] || add "slab: $sl ipcbox slab caches still exist after rmmod"
# A debug kernel also reports lockdep's state and kmemleak's verdict.
dl=$(sed -n "s/^# $IPCBOX_MARK_DEBUG_LOCKS //p" "$out/tap.log" | tr -dc 0-9)
[ -z "$dl" ] || [ "$dl" = 1 ] || add "lockdep: debug_locks is $dl after the run (lockdep turned itself off)"
kml=$(sed -n "s/^# $IPCBOX_MARK_KMEMLEAK //p" "$out/tap.log" | tr -dc 0-9)
[ -z "$kml" ] || [ "$kml" = 0 ] || add "kmemleak: $kml unreferenced objects after the run (see tap.log)"

extra=0
for r in "${reasons[@]}"; do
	case $r in test-failed:*|missing-results:*" test cases") ;; *) extra=$((extra + 1)) ;; esac
done
FAILED=$((FAILED + extra))
status=PASS
[ ${#reasons[@]} -eq 0 ] || status=FAIL
printf '%s\n' "${reasons[@]}" >"$out/reasons.txt"
cat >"$out/result.env" <<RES
STATUS=$status
PASSED=$PASSED
FAILED=$FAILED
SKIPPED=$SKIPPED
RES

if [ "$mode" = demo ]; then
	echo "vm-run: demo on $kernel (${!kv}): $status (${elapsed}s)"
else
	echo "vm-run: kernel $kernel (${!kv}): $status: $PASSED passed, $FAILED failed, $SKIPPED skipped (${elapsed}s)"
fi
if [ "$status" != PASS ]; then
	for r in "${reasons[@]}"; do echo "vm-run:   $r"; done
	echo "vm-run: logs: $out/console.log $out/tap.log"
	exit 1
fi
exit 0
