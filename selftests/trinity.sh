#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# trinity smoke test, TAP on standard output: Dave Jones's system call
# fuzzer, run as the unprivileged test user for a bounded time, aims
# ioctl, read, write, poll and friends at the ipcbox device nodes (the
# control node and a few world-writable named mailboxes). The VM runner
# judges the kernel log; this script checks that trinity ran, that the
# kernel did not taint itself and that the module still works.
#
# Skips (exit 4) when there is no trinity binary: $TRINITY, PATH, or
# next to this script (selftests/Makefile copies the host's
# /usr/bin/trinity, from Debian's package "trinity", there).
#
# Environment: IPCBOX_TRINITY_SECONDS (default 30), IPCBOX_TRINITY_SEED
# (default: time of day), IPCBOX_TRINITY_USER (default "user").

here=$(cd "$(dirname "$0")" && pwd)
secs=${IPCBOX_TRINITY_SECONDS:-30}
user=${IPCBOX_TRINITY_USER:-user}
seed=${IPCBOX_TRINITY_SEED:-$(date +%s)}
ctl=${IPCBOXCTL:-ipcboxctl}
pfx=trinity-$$

trinity=${TRINITY:-}
[ -n "$trinity" ] || trinity=$(command -v trinity 2>/dev/null)
[ -n "$trinity" ] || { [ -x "$here/trinity" ] && trinity=$here/trinity; }
if [ -z "$trinity" ] || [ ! -x "$trinity" ]; then
	echo "1..0 # SKIP no trinity binary (Debian package trinity)"
	exit 4
fi
if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP must start as root (to create the nodes and switch to $user)"
	exit 4
fi

echo "1..4"
n=0 failures=0
pass() { n=$((n + 1)); echo "ok $n - $1"; }
fail() { n=$((n + 1)); failures=$((failures + 1)); echo "not ok $n - $1"; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ipcbox-trinity.XXXXXX") || exit 1
chmod 1777 "$tmp"
have_ctl=0
command -v "$ctl" >/dev/null 2>&1 && have_ctl=1
cleanup() {
	if [ "$have_ctl" = 1 ]; then
		for m in rdv small unb; do
			"$ctl" rm -f "$pfx-$m" >/dev/null 2>&1
		done
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

if [ ! -e /dev/ipcbox/control ]; then
	fail "/dev/ipcbox/control exists (module loaded?)"
	exit 1
fi
# Victims beside the control node: one mailbox of each kind, open to all.
if [ "$have_ctl" = 1 ]; then
	(umask 0
	 "$ctl" create -c 0 -m 0666 "$pfx-rdv" &&
	 "$ctl" create -c 4 -s 512 -m 0666 "$pfx-small" &&
	 "$ctl" create -c unbounded -s 4096 -m 0666 "$pfx-unb") >"$tmp/create.log" 2>&1
	rc=$?
	sed 's/^/# /' "$tmp/create.log"
	if [ $rc -eq 0 ]; then pass "victim mailboxes created"; else fail "victim mailboxes created"; fi
else
	pass "victim mailboxes created # SKIP no ipcboxctl: the control node only"
fi

taint0=$(cat /proc/sys/kernel/tainted)
# -V: trinity opens its fds from this tree only; the sockets, pipes and
# other fd kinds are left out so that nearly every call hits ipcbox.
echo "# $trinity -s $seed for ${secs}s as $user against /dev/ipcbox"
start=$(date +%s)
timeout -s INT "$secs" su -s /bin/sh "$user" -c "cd '$tmp' && exec '$trinity' \
	-q -l off -C 2 -N 1000000 -s '$seed' -V /dev/ipcbox \
	--disable-fds=sockets,pipes,perf,epoll,eventfd,timerfd,testfile,memfd,drm \
	-c ioctl -c read -c write -c readv -c writev -c pread64 -c pwrite64 \
	-c poll -c ppoll -c select -c fcntl -c dup -c dup2 -c close -c mmap" \
	</dev/null >"$tmp/trinity.log" 2>&1
rc=$?
elapsed=$(($(date +%s) - start))
# trinity's children may outlive a main process that was interrupted.
sleep 1
pkill -KILL -u "$user" trinity 2>/dev/null
tail -n 15 "$tmp/trinity.log" | sed 's/^/# /'
# It ends with "Ran N syscalls. Successes: ..." whether it finished its
# count or timeout's SIGINT stopped it (the normal end here).
ran=$(sed -n 's/.*Ran \([0-9]*\) syscalls.*/\1/p' "$tmp/trinity.log" | tail -n 1)
if [ "${ran:-0}" -gt 0 ]; then
	pass "trinity ran $ran system calls in ${elapsed}s (exit $rc)"
else
	fail "trinity ran (exit $rc after ${elapsed}s, no system calls counted)"
fi

taint1=$(cat /proc/sys/kernel/tainted)
# D (died) 128, W (warning) 512, B (bad page) 32, L (soft lockup) 16384
bad=$(( (taint1 & ~taint0) & (128 | 512 | 32 | 16384) ))
if [ "$bad" -eq 0 ]; then
	pass "kernel not tainted by the run"
else
	fail "kernel not tainted by the run (tainted $taint0 -> $taint1)"
fi

# Still sane: a mailbox can be made and used.
if [ "$have_ctl" = 1 ]; then
	"$ctl" rm -f "$pfx-small" >/dev/null 2>&1
	if "$ctl" create -c 4 -m 0600 "$pfx-small" >/dev/null 2>&1 &&
	   "$ctl" send -n "$pfx-small" still alive >/dev/null 2>&1 &&
	   [ "$("$ctl" recv -n "$pfx-small" 2>/dev/null)" = "still alive" ]; then
		pass "module still works"
	else
		fail "module still works"
	fi
elif [ -c /dev/ipcbox/control ] && grep -q '^ipcbox ' /proc/modules; then
	pass "module still works # SKIP no ipcboxctl: only its presence checked"
else
	fail "module still works"
fi
[ "$failures" -eq 0 ]
