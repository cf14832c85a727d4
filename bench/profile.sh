#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Where the instructions go: "make bench-profile". One VM boot under the
# instruction counter, one vCPU; in it, perf (the host's, Debian's
# linux-perf, run through the host-root share) samples the whole guest
# with cpu-clock while ipcbox-bench runs one configuration at a time.
# Under icount the guest's clock is its instruction count, so samples
# are proportional to instructions executed, kernel and user.
#
# usage: profile.sh -k KERNEL -m ipcbox.ko -b ipcbox-bench -o OUT_DIR
#
# BENCH_PROFILES="tput-batch rtt-call" runs only the profiles named.
#
# Leaves OUT_DIR/NAME.txt per profile below (perf report, by symbol,
# self samples) and the VM logs under OUT_DIR/vm.

set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
kernel= ko= bin= out=
while getopts "k:m:b:o:" o; do
	case $o in
	k) kernel=$OPTARG ;;
	m) ko=$OPTARG ;;
	b) bin=$OPTARG ;;
	o) out=$OPTARG ;;
	*) exit 2 ;;
	esac
done
[ -n "$kernel" ] && [ -n "$ko" ] && [ -n "$bin" ] && [ -n "$out" ] ||
	{ echo "profile: -k KERNEL -m KO -b IPCBOX_BENCH -o OUT_DIR required" >&2; exit 2; }
command -v perf >/dev/null ||
	{ echo "profile: no perf on the host (apt-get install linux-perf)" >&2; exit 1; }
mkdir -p "$out/guest"
out=$(cd "$out" && pwd)

# name: ipcbox-bench arguments (64 B, one vCPU, the headline figures)
profiles="
rtt-ipcbox	--scenario rtt --size 64 --only ipcbox
rtt-call	--scenario rtt --size 64 --only ipcbox-call
rtt-pipe	--scenario rtt --size 64 --only pipe
tput-ipcbox	--scenario tput --size 64 --capacity 64 --only ipcbox
tput-batch	--scenario tput --size 64 --capacity 64 --only ipcbox-batch --batch 64
tput-pipe	--scenario tput --size 64 --capacity 64 --only pipe
tput-mq		--scenario tput --size 64 --capacity 64 --only posix-mq
"

if [ -n "${BENCH_PROFILES:-}" ]; then
	profiles=$(printf '%s\n' "$profiles" | while IFS='	' read -r name args; do
		case " $BENCH_PROFILES " in
		*" $name "*) printf '%s\t%s\n' "$name" "$args" ;;
		esac
	done)
	[ -n "$profiles" ] ||
		{ echo "profile: none of $BENCH_PROFILES is a profile" >&2; exit 2; }
fi

cp "$bin" "$out/guest/ipcbox-bench"
{
	cat <<'GUEST'
#!/bin/sh
# Guest side of bench/profile.sh.
here=$(cd "$(dirname "$0")" && pwd)
ipcbox-hostroot || exit 1
cp "$here/ipcbox-bench" /tmp/ipcbox-bench
sleep 10	# boot-time work first, as in run-bench.sh
prof() {
	name=$1
	shift
	chroot /host /usr/bin/perf record -q -e cpu-clock -a -o /tmp/perf.data \
		-- /tmp/ipcbox-bench --cpus 1 --runs 3 "$@" >/tmp/out 2>&1 ||
		{ echo "IPCBOX-PROFILE-FAIL $name"; cat /tmp/out; return; }
	echo "IPCBOX-PROFILE-BEGIN $name"
	chroot /host /usr/bin/perf report -i /tmp/perf.data --stdio \
		--sort sym --percent-limit 0.5 2>/dev/null | grep -v '^$'
	echo "IPCBOX-PROFILE-END $name"
}
GUEST
	printf '%s\n' "$profiles" | while IFS='	' read -r name args; do
		[ -n "$name" ] || continue
		# shellcheck disable=SC2086
		echo "prof $name $(echo $args)"
	done
	echo "exit 0"
} >"$out/guest/profile.sh"
chmod 755 "$out/guest/profile.sh"
echo profile.sh >"$out/guest/tests.list"

export VM_CLOCK=${BENCH_CLOCK:-icount} VM_SMP=${VM_SMP:-1}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-3600} "$top/scripts/vm-run.sh" -k "$kernel" \
	-o "$out/vm" -m "$ko" -t "$out/guest" -T "${BENCH_TIMEOUT:-3000}"
vmrc=$?
tap=$out/vm/tap.log
n=0
for name in $(printf '%s\n' "$profiles" | cut -f1); do
	sed -n "/^# IPCBOX-PROFILE-BEGIN $name\$/,/^# IPCBOX-PROFILE-END $name\$/p" \
		"$tap" | sed -e '1d' -e '$d' -e 's/^# //' | tr -d '\r' >"$out/$name.txt"
	if [ -s "$out/$name.txt" ]; then
		n=$((n + 1))
		echo "profile: $out/$name.txt"
	else
		rm -f "$out/$name.txt"
		echo "profile: $name: no profile (see $tap)"
	fi
done
[ "$n" -gt 0 ] && [ "$vmrc" = 0 ] || { echo "profile: FAIL (VM status $vmrc)"; exit 1; }
echo "profile: PASS: $n profiles"
