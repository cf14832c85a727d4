#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the ipcbox test initramfs (busybox). Reads /etc/ipcbox-vm.conf:
#   MODE=test|shell|demo  TEST_TIMEOUT=<seconds per test binary>
#   LOAD_MODULE=1|0
#   IPCBOX_SRC=<checkout on the host>  IPCBOX_STAGE=<staged install>
# In test mode, TAP goes to /dev/ttyS1 (the host's tap.log) and the kernel
# console stays on ttyS0, so the host can tell them apart; the marker lines
# it writes there are those of scripts/vm-protocol.sh (scripts/vm-protocol.md).

/bin/busybox mkdir -p /proc /sys /dev /tmp /run /usr/bin /usr/sbin /sbin
/bin/busybox --install -s /bin
export PATH=/usr/bin:/usr/sbin:/bin:/sbin
export LD_LIBRARY_PATH=/usr/lib:/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu
export HOME=/root TERM=${TERM:-vt100}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs tmpfs /run
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts 2>/dev/null
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
hostname ipcbox-vm
ip link set lo up 2>/dev/null

MODE=test
TEST_TIMEOUT=300
LOAD_MODULE=1
[ -r /etc/ipcbox-vm.conf ] && . /etc/ipcbox-vm.conf
# shellcheck disable=SC1091 # scripts/vm-protocol.sh, by mkinitramfs.sh
. /lib/ipcbox/vm-protocol.sh

off() {
	sync
	poweroff -f
	# Not reached; keep init alive so the kernel does not panic.
	while :; do sleep 1000; done
}

load_module() {
	[ "$LOAD_MODULE" = 1 ] || { echo "# $IPCBOX_MARK_MODULE insmod: skipped"; return 0; }
	if [ ! -e /lib/ipcbox/ipcbox.ko ]; then
		echo "# $IPCBOX_MARK_MODULE insmod: FAIL (no ipcbox.ko in the initramfs)"
		return 1
	fi
	if out=$(insmod /lib/ipcbox/ipcbox.ko 2>&1); then
		echo "# $IPCBOX_MARK_MODULE insmod: ok"
	else
		echo "# $IPCBOX_MARK_MODULE insmod: FAIL ($out)"
		return 1
	fi
	# devtmpfs creates the nodes asynchronously; give it a moment.
	i=0
	while [ ! -e /dev/ipcbox/control ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}

unload_module() {
	[ "$LOAD_MODULE" = 1 ] || return 0
	grep -q '^ipcbox ' /proc/modules || { echo "# $IPCBOX_MARK_MODULE rmmod: FAIL (not loaded)"; return 1; }
	if out=$(rmmod ipcbox 2>&1); then
		echo "# $IPCBOX_MARK_MODULE rmmod: ok"
	else
		echo "# $IPCBOX_MARK_MODULE rmmod: FAIL ($out)"
	fi
}

run_tests() {
	cd /selftests || return
	# tests.list: "name [timeout-seconds]" per line, in run order.
	if [ -s tests.list ]; then
		grep -v '^[[:space:]]*#' tests.list | grep -v '^[[:space:]]*$' >/tmp/.list
	else
		for f in *; do [ -f "$f" ] && [ -x "$f" ] && echo "$f"; done >/tmp/.list
	fi
	n=$(wc -l </tmp/.list)
	echo "TAP version 13"
	echo "1..$n"
	i=0
	while read -r t to _; do
		i=$((i + 1))
		to=${to:-$TEST_TIMEOUT}
		echo "# $IPCBOX_MARK_BEGIN $t"
		if [ ! -x "./$t" ]; then
			echo "not ok $i $IPCBOX_TAP_NAME $t # missing binary"
			echo "# $IPCBOX_MARK_END $t"
			continue
		fi
		rm -f /tmp/.rc /tmp/.timedout
		# Own session per test, so that a timeout or the end of the test
		# also kills whatever it left running (and holding the pipe).
		{
			setsid "./$t" </dev/null 2>&1 &
			pid=$!
			(
				sleep "$to"
				touch /tmp/.timedout
				kill -KILL -"$pid"
			) </dev/null >/dev/null 2>&1 &
			wd=$!
			wait "$pid"
			echo $? >/tmp/.rc
			kill "$wd" 2>/dev/null
			kill -KILL -"$pid" 2>/dev/null
		} | sed 's/^/# /'
		rc=$(cat /tmp/.rc 2>/dev/null || echo 255)
		case $rc in
		0) echo "ok $i $IPCBOX_TAP_NAME $t" ;;
		4) echo "ok $i $IPCBOX_TAP_NAME $t # SKIP" ;;
		*) if [ -e /tmp/.timedout ]; then
			echo "not ok $i $IPCBOX_TAP_NAME $t # TIMEOUT ${to}s"
		   else
			echo "not ok $i $IPCBOX_TAP_NAME $t # exit=$rc"
		   fi ;;
		esac
		echo "# $IPCBOX_MARK_END $t"
	done </tmp/.list
}

case $MODE in
shell)
	load_module
	# The host's root on /host (read-only) and this checkout on /src.
	if [ -z "${IPCBOX_SRC:-}" ]; then
		hostroot="The host's root is not shared with this VM."
	elif ipcbox-hostroot 2>/tmp/.hostroot; then
		ln -s "/host$IPCBOX_SRC" /src
		hostroot="The host's root is on /host (read-only), the ipcbox checkout on /src."
	else
		hostroot="The host's root is not on /host: $(sed 's/^ipcbox-hostroot: //' /tmp/.hostroot)"
	fi
	echo
	echo "ipcbox VM ($(uname -r)). Tests are in /selftests, tools in /usr/bin."
	echo "$hostroot"
	echo "To leave: type 'poweroff' (or press Ctrl-A then X)."
	echo
	# No init daemon to signal: make poweroff/reboot act at once.
	cat >/etc/profile <<-'PROFILE'
	alias poweroff='sync; poweroff -f' halt='sync; poweroff -f' reboot='sync; poweroff -f'
	export PS1='ipcbox-vm:\w\$ '
	PROFILE
	setsid cttyhack sh -l
	off
	;;
demo)
	exec >/dev/ttyS1 2>&1
	load_module
	if [ -x /ipcbox/demo.sh ]; then
		/ipcbox/demo.sh
	else
		echo "\$ ls -l /dev/ipcbox/"
		ls -l /dev/ipcbox/
		if command -v ipcboxctl >/dev/null; then
			echo "\$ ipcboxctl info"
			ipcboxctl info
		else
			echo "\$ ipcbox-info"
			ipcbox-info
		fi
	fi
	echo "# $IPCBOX_MARK_DEMO_RC $?"
	unload_module
	echo "# $IPCBOX_MARK_DONE"
	off
	;;
*)
	exec >/dev/ttyS1 2>&1
	echo "# $IPCBOX_MARK_BOOTED $(uname -r)"
	echo "# $IPCBOX_MARK_TAINT_BOOT $(cat /proc/sys/kernel/tainted)"
	kml=/sys/kernel/debug/kmemleak
	# A debug kernel: forget what boot itself left, judge the run only.
	[ -w $kml ] && echo clear >$kml
	load_module && run_tests
	unload_module
	echo "# $IPCBOX_MARK_SLAB_LEFT $(ls /sys/kernel/slab 2>/dev/null | grep -c '^ipcbox')"
	echo "# $IPCBOX_MARK_TAINT $(cat /proc/sys/kernel/tainted)"
	if [ -r /proc/lockdep_stats ]; then
		echo "# $IPCBOX_MARK_DEBUG_LOCKS $(sed -n 's/^ *debug_locks: *//p' /proc/lockdep_stats)"
	fi
	if [ -w $kml ]; then
		# Objects younger than 5 s are not reported: scan, wait, scan.
		echo scan >$kml
		sleep 6
		echo scan >$kml
		cat $kml >/tmp/.kmemleak
		echo "# $IPCBOX_MARK_KMEMLEAK $(grep -c 'unreferenced object' /tmp/.kmemleak)"
		sed 's/^/# kmemleak: /' /tmp/.kmemleak | head -n 200
	fi
	echo "# $IPCBOX_MARK_DMESG_BEGIN"
	dmesg
	echo "# $IPCBOX_MARK_DMESG_END"
	echo "# $IPCBOX_MARK_DONE"
	off
	;;
esac
