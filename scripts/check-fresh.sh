#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The clean-root stage of "make check": the README's first command, run
# where nothing of ipcbox's and none of its dependencies is installed.
#
# A minimal Debian 12 root (mmdebstrap --variant=minbase --include=make,git
# bookworm, through the host's apt sources) gets "git archive HEAD" of this
# checkout in /root/ipcbox and runs "make demo" there as root, with an
# empty ipcbox cache of its own, in a chroot with /proc, /sys and /dev
# (so /dev/kvm too) from the host. Every package is installed by apt
# inside the root, through scripts/deps.sh, as on a user's machine; only
# downloaded .deb files are shared from the host's caches, as hard links,
# to save the downloads.
#
# usage: check-fresh.sh [--selfcheck] BUILDDIR
#   --selfcheck  show that the stage catches a package missing from
#                deps.sh: with dwarves left out (IPCBOX_DEPS_OMIT) the
#                6.12 module cannot be built, and the stage must fail
#
# Environment:
#   IPCBOX_CACHE      the host's cache; the minbase tarball is kept in
#                     $IPCBOX_CACHE/fresh/ and made anew when a week old
#   IPCBOX_DEPS_OMIT  passed into the root: packages deps.sh leaves out
#                     (the stage's self-check: the stage must then fail)
#   FRESH_KEEP=1      keep the root after a successful run (it is always
#                     kept after a failure, for a look inside)
#
# Leaves BUILDDIR/fresh/demo.log; prints its tail when make demo fails.
# The root is $IPCBOX_CACHE/fresh/root, removed after a successful run.

set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
if [ "${1:-}" = --selfcheck ]; then
	shift
	build=${1:?usage: check-fresh.sh [--selfcheck] BUILDDIR}
	echo "check-fresh: self-check: dwarves left out of deps.sh must fail the stage"
	if IPCBOX_DEPS_OMIT=dwarves "$0" "$build/fresh-selfcheck" >"$build/fresh-selfcheck.log" 2>&1; then
		echo "check-fresh: self-check FAILED: the stage passed without dwarves"
		exit 1
	fi
	if ! grep -q 'pahole' "$build/fresh-selfcheck/fresh/demo.log"; then
		echo "check-fresh: self-check FAILED: the stage failed, but not for want of pahole:"
		tail -n 20 "$build/fresh-selfcheck.log"
		exit 1
	fi
	echo "check-fresh: self-check passed: $(grep -m1 'pahole' "$build/fresh-selfcheck/fresh/demo.log")"
	exit 0
fi
build=${1:?usage: check-fresh.sh [--selfcheck] BUILDDIR}
CACHE=${IPCBOX_CACHE:-/var/cache/ipcbox}
out=$build/fresh
log=$out/demo.log
tarball=$CACHE/fresh/bookworm-minbase.tar
# Outside the checkout: while it runs it holds bind mounts of /dev, /proc
# and /sys, which no "make clean" or tree walk may descend into.
root=$CACHE/fresh/root

say() { echo "check-fresh: $*"; }
die() { echo "check-fresh: error: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (mmdebstrap, chroot)"
git -C "$top" rev-parse --verify -q HEAD >/dev/null ||
	die "$top is not a git checkout with a commit (the stage runs git archive HEAD)"
"$here/deps.sh" --host

t0=$(date +%s)
mounts=()
umount_all() {
	local i
	for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
		umount -l "${mounts[$i]}" 2>/dev/null || true
	done
	mounts=()
}
trap umount_all EXIT

# An earlier run may have left a root behind, mounts and all.
if [ -d "$root" ]; then
	{ grep -o " $root/[^ ]*" /proc/mounts || true; } | sort -r |
		while read -r m; do umount -l "$m" || true; done
	rm -rf --one-file-system "$root"
fi
mkdir -p "$out" "$CACHE/fresh"

# The minbase tarball holds nothing of ipcbox's: cached, made anew weekly.
if [ ! -f "$tarball" ] || [ ! -s "$tarball" ] || [ -n "$(find "$tarball" -mtime +6)" ]; then
	say "making the minbase root (mmdebstrap, bookworm)"
	sources=/etc/apt/sources.list.d/debian.sources
	[ -r "$sources" ] || sources=/etc/apt/sources.list
	[ -r "$sources" ] || die "no apt sources on the host (/etc/apt/sources.list.d/debian.sources)"
	mmdebstrap --quiet --format=tar --variant=minbase --include=make,git bookworm \
		"$tarball.tmp" "$sources" >"$out/mmdebstrap.log" 2>&1 ||
		{ tail -n 20 "$out/mmdebstrap.log"; rm -f "$tarball.tmp"; die "mmdebstrap failed"; }
	mv -f "$tarball.tmp" "$tarball"
fi

say "unpacking the root into $root"
mkdir -p "$root"
tar -x -C "$root" -f "$tarball"
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
mkdir -p "$root/root/ipcbox"
git -C "$top" archive HEAD | tar -x -C "$root/root/ipcbox"

# Downloads only: .deb files the host already fetched, linked in so that
# apt and deps.sh inside the root find them instead of downloading.
share_debs() {
	local from=$1 to=$2
	[ -d "$from" ] || return 0
	mkdir -p "$to"
	find "$from" -maxdepth 1 -name '*.deb' -type f -print0 |
		xargs -0 -r cp -l -t "$to" 2>/dev/null ||
		find "$from" -maxdepth 1 -name '*.deb' -type f -print0 |
			xargs -0 -r cp -t "$to"
}
share_debs /var/cache/apt/archives "$root/var/cache/apt/archives"
share_debs "$CACHE/debs" "$root/var/cache/ipcbox/debs"
share_debs "$CACHE/src" "$root/var/cache/ipcbox/src"

for m in proc sys dev; do
	mkdir -p "$root/$m"
	mount --rbind "/$m" "$root/$m"
	mount --make-rslave "$root/$m"
	mounts+=("$root/$m")
done

say "make demo in the root (log: $log)"
rc=0
chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	IPCBOX_CACHE=/var/cache/ipcbox ACCEL="${ACCEL:-tcg}" \
	IPCBOX_DEPS_OMIT="${IPCBOX_DEPS_OMIT:-}" \
	/bin/sh -c 'cd /root/ipcbox && make demo' </dev/null >"$log" 2>&1 || rc=$?
umount_all
elapsed=$(($(date +%s) - t0))

if [ "$rc" -ne 0 ]; then
	echo "check-fresh: make demo failed in the clean root (exit $rc); the end of $log:"
	tail -n 40 "$log" | sed 's/^/  | /'
	say "FAIL (${elapsed}s; the root is kept in $root)"
	exit 1
fi
[ "${FRESH_KEEP:-0}" = 1 ] || rm -rf --one-file-system "$root"
say "PASS: make demo works on a clean Debian 12 root (${elapsed}s)"
