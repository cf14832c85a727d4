#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the initramfs the ipcbox VM boots: busybox, ipcbox.ko, the
# selftest binaries, the userspace library/tools/examples and the shared
# libraries they need, plus scripts/guest-init.sh as /init and the marker
# names it writes (scripts/vm-protocol.sh) as /lib/ipcbox/vm-protocol.sh.
#
# usage: mkinitramfs.sh -o OUT.cpio.gz [-m ipcbox.ko] [-t TESTDIR]
#                       [-u USERSPACE_BUILD_DIR] [-x EXTRA_FILE]...
#                       [-c KEY=VALUE]... [-9 MODDIR]
#   -t  directory of test executables (and optional tests.list)
#   -x  extra file copied into /selftests (helpers such as a .ko)
#   -c  line written to /etc/ipcbox-vm.conf (MODE, TEST_TIMEOUT, ...)
#   -9  the kernel's 9p modules and their load.order (deps.sh), into
#       /lib/ipcbox/9p for ipcbox-hostroot (scripts/guest-hostroot.sh)

set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
out= ko= tests= us= extras=() conf=() p9=
while getopts "o:m:t:u:x:c:9:" o; do
	case $o in
	o) out=$OPTARG ;;
	m) ko=$OPTARG ;;
	t) tests=$OPTARG ;;
	u) us=$OPTARG ;;
	x) extras+=("$OPTARG") ;;
	c) conf+=("$OPTARG") ;;
	9) p9=$OPTARG ;;
	*) exit 2 ;;
	esac
done
[ -n "$out" ] || { echo "mkinitramfs: -o OUT required" >&2; exit 2; }

busybox=/bin/busybox	# from busybox-static: no shared libraries needed
ldd "$busybox" >/dev/null 2>&1 && busybox=
[ -n "$busybox" ] && [ -x "$busybox" ] || { echo "mkinitramfs: busybox-static missing (make deps)" >&2; exit 1; }

root=$(mktemp -d "${TMPDIR:-/tmp}/ipcbox-initramfs.XXXXXX")
chmod 755 "$root"
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,run,root,usr/bin,usr/sbin,usr/lib} \
	 "$root"/{lib/ipcbox,selftests,ipcbox/examples,usr/libexec/ipcbox}
cp "$busybox" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cp "$here/guest-init.sh" "$root/init"
chmod 755 "$root/init"
cp "$here/vm-protocol.sh" "$root/lib/ipcbox/vm-protocol.sh"
cp "$here/guest-hostroot.sh" "$root/sbin/ipcbox-hostroot"
chmod 755 "$root/sbin/ipcbox-hostroot"
if [ -n "$p9" ] && [ -s "$p9/load.order" ]; then
	mkdir -p "$root/lib/ipcbox/9p"
	cp "$p9/load.order" "$root/lib/ipcbox/9p/"
	while read -r m; do
		cp "$p9/$m.ko" "$root/lib/ipcbox/9p/"
	done <"$p9/load.order"
fi

cat >"$root/etc/passwd" <<'PW'
root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:unprivileged test user:/tmp:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PW
cat >"$root/etc/group" <<'GR'
root:x:0:
user:x:1000:
nogroup:x:65534:
GR
printf '%s\n' "${conf[@]}" >"$root/etc/ipcbox-vm.conf"

# Copy an ELF's shared libraries (and the dynamic loader) at their host paths.
need_libs() {
	local f=$1 lib
	for lib in $(ldd "$f" 2>/dev/null | grep -oE '/[^ ]+' | sort -u); do
		[ -e "$root$lib" ] && continue
		case $lib in "$top"/*) continue ;; esac
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}

bins=()
[ -z "$ko" ] || cp "$ko" "$root/lib/ipcbox/ipcbox.ko"

if [ -n "$tests" ] && [ -d "$tests" ]; then
	[ ! -f "$tests/tests.list" ] || cp "$tests/tests.list" "$root/selftests/"
	for f in "$tests"/*; do
		[ -f "$f" ] && [ -x "$f" ] || continue
		cp "$f" "$root/selftests/"
		bins+=("$f")
	done
fi
for f in "${extras[@]}"; do
	cp "$f" "$root/selftests/"
	[ ! -x "$f" ] || bins+=("$f")
done

if [ -n "$us" ] && [ -d "$us" ]; then
	while IFS= read -r f; do
		cp -P "$f" "$root/usr/lib/"
	done < <(find "$us" -name '*.so*' \( -type f -o -type l \))
	while IFS= read -r f; do
		case $f in
		*/examples/*) cp "$f" "$root/usr/libexec/ipcbox/" ;;
		*/tests/*) mkdir -p "$root/usr/libexec/ipcbox/tests"
			   cp "$f" "$root/usr/libexec/ipcbox/tests/" ;;
		*) cp "$f" "$root/usr/bin/" ;;
		esac
		bins+=("$f")
	done < <(find "$us" -type f -perm -u+x ! -name '*.so*' ! -name '*.o')
fi
if [ -f "$top/userspace/examples/demo.sh" ]; then
	cp "$top/userspace/examples/demo.sh" "$root/ipcbox/demo.sh"
	chmod 755 "$root/ipcbox/demo.sh"
	cp "$root"/usr/libexec/ipcbox/* "$root/ipcbox/examples/" 2>/dev/null || true
fi
[ ! -x "$top/build/tools/ipcbox-info" ] || {
	cp "$top/build/tools/ipcbox-info" "$root/usr/bin/"
	bins+=("$top/build/tools/ipcbox-info")
}

for f in "${bins[@]}"; do
	need_libs "$f"
done

mkdir -p "$(dirname "$out")"
(cd "$root" && find . -print0 | sort -z | cpio --null -o -H newc --quiet) |
	gzip -1 >"$out.tmp"
mv -f "$out.tmp" "$out"
