#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build ipcbox.ko for one kernel in its own copy of the sources, because an
# out-of-tree build puts its objects next to the sources (M=).
#
# usage: build-module.sh KERNEL OUTDIR [extra kbuild args, e.g. W=1 C=2]
#   KERNEL  6.1, 6.12, 6.12-rt (looked up in $IPCBOX_CACHE/kernels.env)
#           or "local" with KDIR set in the environment.
# Result: OUTDIR/ipcbox.ko; the build tree is OUTDIR/src.

set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
kernel=$1 out=$2
shift 2

kdir=$("$top/scripts/kenv.sh" "$kernel" KDIR)
[ -d "$kdir" ] || { echo "module: no kernel build tree at '$kdir'" >&2; exit 1; }

mkdir -p "$out"
out=$(cd "$out" && pwd)	# kbuild's M= must be absolute
src=$out/src
mkdir -p "$src/module" "$src/uapi"
# Mirror Kbuild, module/, uapi/ and the header with the version; drop
# sources that no longer exist.
cp -p "$top/Kbuild" "$src/Kbuild"
(cd "$top" && find module uapi -type f \( -name '*.[ch]' -o -name Kbuild -o -name Makefile \) &&
	echo userspace/lib/libipcbox.h) |
	while IFS= read -r f; do
		mkdir -p "$src/$(dirname "$f")"
		cmp -s "$top/$f" "$src/$f" || cp -p "$top/$f" "$src/$f"
	done
(cd "$src" && find module uapi -type f -name '*.[ch]') | while IFS= read -r f; do
	[ -e "$top/$f" ] || rm -f "$src/$f"
done

make -C "$kdir" M="$src" "$@" modules
cp -p "$src/ipcbox.ko" "$out/ipcbox.ko"
echo "module: $out/ipcbox.ko ($(modinfo -F vermagic "$out/ipcbox.ko" | awk '{print $1}'))"
