#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the ipcbox debug kernel: Debian's linux-source-6.12, "make
# tinyconfig" plus scripts/debug-kernel/debug.config (KASAN, UBSAN,
# lockdep, kmemleak, debug objects, fault injection, and what the QEMU
# guest needs). Cached outside the checkout under
#   $IPCBOX_CACHE/debug/<key>/   key = hash of source version + fragment
# so it is rebuilt only when either changes. Prints "KVER KDIR VMLINUZ".
#
# usage: debug-kernel.sh [--check] SRCDEB   (the linux-source-6.12 .deb)
#   --check  exit 0 when this build is already cached, 1 when not

set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
CACHE=${IPCBOX_CACHE:-/var/cache/ipcbox}
frag=$here/debug-kernel/debug.config
check=0
[ "${1:-}" != --check ] || { check=1; shift; }
srcdeb=${1:?usage: debug-kernel.sh [--check] SRCDEB}

log() { echo "debug-kernel: $*" >&2; }
die() { echo "debug-kernel: error: $*" >&2; exit 1; }

[ -r "$srcdeb" ] || die "no source package $srcdeb"
srcver=$(dpkg-deb -f "$srcdeb" Version)
# Bump the "v1" when the build steps below change what they produce.
key=$({ echo "v1 $srcver"; cat "$frag"; } | sha256sum | cut -c1-16)
dir=$CACHE/debug/$key
src=$dir/linux
[ "$check" -eq 0 ] || { [ -e "$dir/.done" ]; exit; }

if [ ! -e "$dir/.done" ]; then
	t0=$(date +%s)
	# Only the current build is kept: each one is a couple of GiB.
	rm -rf "$CACHE/debug"
	mkdir -p "$dir"
	log "building $srcver with $(basename "$frag") into $dir (about 10-20 min)"
	tarball=$(dpkg-deb -c "$srcdeb" | awk '{print $NF}' |
		  grep -E 'linux-source-.*\.tar\.xz$' | head -n1)
	mkdir -p "$src"
	dpkg-deb --fsys-tarfile "$srcdeb" | tar -xO "$tarball" |
		xz -dc -T0 | tar -x -C "$src" --strip-components=1
	make -C "$src" -s tinyconfig >/dev/null
	"$src/scripts/kconfig/merge_config.sh" -m -O "$src" "$src/.config" "$frag" >/dev/null
	make -C "$src" -s olddefconfig >/dev/null
	# Every line of the fragment must have survived olddefconfig.
	bad=0
	while IFS= read -r l; do
		case $l in CONFIG_*=n) grep -q "^${l%=n}=" "$src/.config" || continue ;;
			   CONFIG_*) grep -qxF "$l" "$src/.config" && continue ;;
			   *) continue ;;
		esac
		log "config: $l did not survive ($(grep -E "^${l%%=*}=|${l%%=*} is not" "$src/.config" || echo unset))"
		bad=1
	done <"$frag"
	[ "$bad" -eq 0 ] || die "the fragment does not apply to $srcver"
	make -C "$src" -j"$(nproc)" -s bzImage modules KBUILD_BUILD_USER=ipcbox \
		KBUILD_BUILD_HOST=ipcbox >"$dir/build.log" 2>&1 ||
		{ tail -n 40 "$dir/build.log" >&2; die "build failed (log: $dir/build.log)"; }
	[ -s "$src/Module.symvers" ] || : >"$src/Module.symvers"
	log "built in $(($(date +%s) - t0)) s"
	touch "$dir/.done"
fi
# --no-print-directory: under another make (MAKELEVEL set) the "Entering
# directory" lines would go to stdout too.
kver=$(make -C "$src" -s --no-print-directory kernelrelease)
echo "$kver $src $src/arch/x86/boot/bzImage"
