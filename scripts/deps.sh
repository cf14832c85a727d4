#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install and cache everything ipcbox needs to build and test on Debian 12:
# host packages, and for each kernel of the matrix its unsigned image and
# its headers, unpacked into a cache outside the checkout. Also pulls the
# kselftest harness and checkpatch.pl out of linux-source-6.12.
#
# Idempotent: finished steps leave stamp files and are skipped next time.
# Kernel versions are resolved from the apt metadata at run time. The
# kernel "debug" is built from linux-source-6.12 by debug-kernel.sh.
#
# Cache layout ($IPCBOX_CACHE, default /var/cache/ipcbox):
#   debs/                     downloaded .debs
#   src/                      linux-source-6.12 .deb
#   kernels/<ver>/root/       unpacked headers + kbuild (+ /boot/vmlinuz-<ver>)
#   debug/<key>/linux/        the debug kernel's built tree (debug-kernel.sh)
#   ksrc/<srcver>/            harness headers and checkpatch from linux-source
#   kernels.env               KERNEL name -> version, vmlinuz, KDIR (make/sh)

set -euo pipefail

# usage: deps.sh [--host]     --host: the host packages only

CACHE=${IPCBOX_CACHE:-/var/cache/ipcbox}
ALL_KERNELS="6.1 6.12 6.12-rt"
here=$(cd "$(dirname "$0")" && pwd)
# Kernels to prepare now; kernels.env lists every prepared one.
KERNELS=${KERNELS:-$ALL_KERNELS}
export DEBIAN_FRONTEND=noninteractive

log() { echo "deps: $*" >&2; }
die() { echo "deps: error: $*" >&2; exit 1; }

# Whatever fails below says which step it was and what to try, never a
# bare exit status from make.
step="starting"
hint="run 'make deps' again; if it fails the same way, the output above says why"
on_err() {
	local rc=$? cmd=$1 line=$2
	echo "deps: error: $step failed (exit $rc at line $line: $cmd)" >&2
	echo "deps: error: $hint" >&2
	exit "$rc"
}
trap 'on_err "$BASH_COMMAND" "$LINENO"' ERR
set -E

[ "$(id -u)" -eq 0 ] || die "must run as root (apt-get install, cache in $CACHE); try: sudo make deps"
command -v apt-get >/dev/null || die "needs a Debian system with apt"

mkdir -p "$CACHE/debs" "$CACHE/src" "$CACHE/kernels" "$CACHE/ksrc"

updated=0
apt_update() {
	[ "$updated" -eq 0 ] || return 0
	log "apt-get update"
	local s=$step h=$hint
	step="apt-get update"
	hint="check /etc/apt/sources.list(.d) and that Debian's archive is reachable"
	apt-get update -qq
	step=$s hint=$h
	updated=1
}

# --- host packages -------------------------------------------------------
# Everything the cold path runs, by who needs it:
#   module builds      build-essential gcc-12 make bc kmod libelf-dev dwarves
#                      (pahole: the 6.12 headers build BTF)
#   the debug kernel   flex bison libssl-dev perl python3 xz-utils zstd cpio
#   static checks      sparse perl man-db groff-base
#   the VM             qemu-system-x86 busybox-static cpio
#   selftests          trinity (the system call fuzzer, run in the guest);
#                      pkgconf for the installed-library test
#   make bench         gnuplot-nox (the chart)
#   make check-fresh   mmdebstrap git (the clean-root stage)
HOST_PKGS="build-essential gcc-12 make bc kmod libelf-dev dwarves
	   flex bison libssl-dev perl python3 xz-utils zstd cpio
	   sparse man-db groff-base
	   qemu-system-x86 busybox-static
	   trinity pkgconf gnuplot-nox mmdebstrap git"
#   make bench-profile linux-perf (perf in the guest, through the host root;
#                      asked for by IPCBOX_DEPS_EXTRA, as it is large)
HOST_PKGS="$HOST_PKGS ${IPCBOX_DEPS_EXTRA:-}"
# IPCBOX_DEPS_OMIT leaves packages out of that list: the clean-root
# stage's self-check uses it to show that a missing package fails it.
if [ -n "${IPCBOX_DEPS_OMIT:-}" ]; then
	for p in $IPCBOX_DEPS_OMIT; do
		HOST_PKGS=$(printf '%s\n' $HOST_PKGS | grep -vx "$p" | tr '\n' ' ')
	done
	log "leaving out $IPCBOX_DEPS_OMIT (IPCBOX_DEPS_OMIT)"
fi

# dpkg-query exits 1 when any of them is unknown or not installed: that
# is the answer wanted here, not an error.
# shellcheck disable=SC2086
installed=$(dpkg-query -W -f='${Package} ${Status}\n' $HOST_PKGS 2>/dev/null |
	    awk '/ install ok installed$/ { print $1 }' || true)
missing=()
for p in $HOST_PKGS; do
	grep -qx "$p" <<<"$installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	log "installing ${missing[*]}"
	step="installing host packages (${missing[*]})"
	hint="try: apt-get update && apt-get install ${missing[*]}"
	if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null; then
		apt_update
		apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
	fi
fi
[ "${1:-}" != --host ] || { log "host packages ready"; exit 0; }

# --- fast path ------------------------------------------------------------
# Nothing to do when every wanted kernel is listed, is unpacked, and apt's
# package lists have not changed since kernels.env was written.
envf=$CACHE/kernels.env
if [ ${#missing[@]} -eq 0 ] && [ -r "$envf" ] && [ "$envf" -nt "$0" ] &&
   [ "$envf" -nt "$here/debug-kernel/debug.config" ] && [ "$envf" -nt "$here/debug-kernel.sh" ] &&
   [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -newer "$envf" 2>/dev/null)" ]; then
	fresh=1
	for k in $KERNELS; do
		n=$(echo "$k" | tr '.-' '__')
		v=$(sed -n "s/^KVER_$n=//p" "$envf")
		if [ "$k" = debug ]; then
			d=$(sed -n "s/^KDIR_$n=//p" "$envf")
			[ -n "$d" ] && [ -e "$d/../.done" ] || fresh=0
			continue
		fi
		[ -n "$v" ] && [ -e "$CACHE/kernels/$v/.done" ] || fresh=0
	done
	grep -q '^KSFT_INCLUDE=' "$envf" || fresh=0
	[ "$fresh" -eq 0 ] || exit 0
fi

# --- version resolution --------------------------------------------------
# Print the first "Depends: <prefix>..." target of a meta package.
dep_of() {
	local pkg=$1 re=$2 out
	out=$(apt-cache depends "$pkg" 2>/dev/null | sed -n 's/^ *|\?Depends: //p' |
	      grep -E "$re" | head -n1) || true
	if [ -z "$out" ]; then
		apt_update
		out=$(apt-cache depends "$pkg" 2>/dev/null | sed -n 's/^ *|\?Depends: //p' |
		      grep -E "$re" | head -n1) || true
	fi
	[ -n "$out" ] || die "cannot resolve $re from $pkg"
	echo "$out"
}

meta_of() {
	case $1 in
	6.1)     echo linux-image-amd64 ;;
	6.12)    echo linux-image-6.12-amd64 ;;
	6.12-rt) echo linux-image-6.12-rt-amd64 ;;
	debug)   ;;
	*)       die "unknown kernel '$1' (6.1, 6.12, 6.12-rt, debug)" ;;
	esac
}

# apt-get download into debs/ unless a matching .deb is already there.
fetch() {
	local pkg=$1 f
	f=$(ls "$CACHE/debs/${pkg}_"*.deb 2>/dev/null | head -n1) || true
	if [ -z "$f" ]; then
		log "downloading $pkg"
		(cd "$CACHE/debs" && { apt-get download -qq "$pkg" 2>/dev/null ||
			{ apt_update; apt-get download -qq "$pkg"; }; })
		f=$(ls "$CACHE/debs/${pkg}_"*.deb | head -n1)
	fi
	echo "$f"
}

env_tmp=$(mktemp "$CACHE/kernels.env.XXXXXX")
trap 'rm -f "$env_tmp"' EXIT
{
	echo "# Generated by scripts/deps.sh; KERNEL name -> version, image, KDIR."
	echo "IPCBOX_CACHE=$CACHE"
} >"$env_tmp"

for k in $KERNELS; do meta_of "$k" >/dev/null; done
step="resolving the kernel versions"
hint="apt's package lists may be stale or incomplete: apt-get update, then make deps again"
for k in $ALL_KERNELS; do
	img=$(dep_of "$(meta_of "$k")" '^linux-image-[0-9]')
	ver=${img#linux-image-}
	kd=$CACHE/kernels/$ver
	root=$kd/root
	kdir=$root/usr/src/linux-headers-$ver
	wanted=0
	case " $KERNELS " in *" $k "*) wanted=1 ;; esac
	[ "$wanted" -eq 1 ] || [ -e "$kd/.done" ] || continue
	if [ ! -e "$kd/.done" ]; then
		log "preparing kernel $k ($ver)"
		step="preparing kernel $k ($ver) in $kd"
		hint="check the free space under $CACHE (df -h); a partial $kd is redone next time"
		rm -rf "$kd"
		mkdir -p "$root"
		hdr=linux-headers-$ver
		pkgs=("$hdr")
		# The headers' own Depends name the common headers and kbuild.
		pkgs+=("$(dep_of "$hdr" '^linux-headers-.*-common')")
		pkgs+=("$(dep_of "$hdr" '^linux-kbuild-')")
		for p in "${pkgs[@]}"; do
			dpkg-deb -x "$(fetch "$p")" "$root"
		done
		# Only the kernel image is needed from the (large) image package.
		dpkg-deb --fsys-tarfile "$(fetch "linux-image-$ver-unsigned")" |
			tar -x -C "$root" "./boot/vmlinuz-$ver" "./boot/config-$ver"
		# The headers' Makefile includes the common tree by absolute path.
		sed -i "s|^include /usr/src/|include $root/usr/src/|" "$kdir/Makefile"
		[ -e "$kdir/scripts/basic/fixdep" ] || die "kbuild tree incomplete for $ver"
		touch "$kd/.done"
	fi
	# The 9p client modules (and virtio-pci where it is a module too) in
	# $kd/9p with load.order, dependencies first: the guest mounts the
	# host's root read-only over virtio-9p to build against an installed
	# libipcbox with the host's compiler. Built-in ones are not there.
	if [ ! -e "$kd/.9p.done" ]; then
		log "extracting the 9p modules of $k ($ver)"
		step="extracting the 9p modules of $k ($ver)"
		hint="check the free space under $CACHE; remove $kd to fetch it again"
		rm -rf "$kd/9p" "$kd/9p.tmp"
		mkdir -p "$kd/9p.tmp"
		ideb=$(fetch "linux-image-$ver-unsigned")
		# name -> member path, for every module of the package
		declare -A kmod=() kdeps=()
		while read -r m; do
			b=${m##*/}
			b=${b%%.ko*}
			kmod[${b//-/_}]=$m
		done < <(dpkg-deb -c "$ideb" | awk '{ print $NF }' |
			 grep -E '^\./lib/modules/[^/]+/kernel/.*\.ko(\.xz|\.zst)?$')
		todo=()
		for m in 9p 9pnet_virtio virtio_pci; do
			[ -z "${kmod[$m]:-}" ] || todo+=("$m")
		done
		while [ ${#todo[@]} -gt 0 ]; do
			paths=()
			for m in "${todo[@]}"; do paths+=("${kmod[$m]}"); done
			dpkg-deb --fsys-tarfile "$ideb" | tar -x -C "$kd/9p.tmp" "${paths[@]}"
			next=()
			for m in "${todo[@]}"; do
				d=$(modinfo -F depends "$kd/9p.tmp/${kmod[$m]}")
				kdeps[$m]=${d//,/ }
				for x in ${kdeps[$m]}; do
					x=${x//-/_}
					[ -n "${kmod[$x]:-}" ] ||
						die "$m needs $x, not in the $ver image"
					[ -n "${kdeps[$x]+set}" ] || next+=("$x")
				done
			done
			todo=()
			[ ${#next[@]} -eq 0 ] || mapfile -t todo < <(printf '%s\n' "${next[@]}" | sort -u)
		done
		# Dependencies first (depth-first), each module once.
		mkdir -p "$kd/9p"
		: >"$kd/9p/load.order"
		emit() {
			local x
			grep -qx "$1" "$kd/9p/load.order" && return 0
			for x in ${kdeps[$1]}; do emit "${x//-/_}"; done
			grep -qx "$1" "$kd/9p/load.order" && return 0
			case ${kmod[$1]} in
			*.xz)  xz -dc "$kd/9p.tmp/${kmod[$1]}" ;;
			*.zst) zstd -qdc "$kd/9p.tmp/${kmod[$1]}" ;;
			*)     cat "$kd/9p.tmp/${kmod[$1]}" ;;
			esac >"$kd/9p/$1.ko"
			echo "$1" >>"$kd/9p/load.order"
		}
		for m in "${!kdeps[@]}"; do emit "$m"; done
		unset kmod kdeps
		rm -rf "$kd/9p.tmp"
		touch "$kd/.9p.done"
	fi
	n=$(echo "$k" | tr '.-' '__')
	{
		echo "KVER_$n=$ver"
		echo "KDIR_$n=$kdir"
		echo "VMLINUZ_$n=$root/boot/vmlinuz-$ver"
	} >>"$env_tmp"
done

# --- kselftest harness and checkpatch from linux-source-6.12 -------------
step="fetching linux-source-6.12"
hint="apt-get update; check the free space under $CACHE"
srcdeb=$(ls "$CACHE/src/linux-source-6.12_"*.deb 2>/dev/null | sort -V | tail -n1) || true
if [ -z "$srcdeb" ]; then
	log "downloading linux-source-6.12"
	(cd "$CACHE/src" && { apt-get download -qq linux-source-6.12 2>/dev/null ||
		{ apt_update; apt-get download -qq linux-source-6.12; }; })
	srcdeb=$(ls "$CACHE/src/linux-source-6.12_"*.deb | sort -V | tail -n1)
fi
srcver=$(dpkg-deb -f "$srcdeb" Version)
ks=$CACHE/ksrc/$srcver
if [ ! -e "$ks/.done" ]; then
	log "extracting harness and checkpatch from linux-source $srcver"
	rm -rf "$ks"
	mkdir -p "$ks"
	tarball=$(dpkg-deb -c "$srcdeb" | awk '{print $NF}' | grep -E 'linux-source-.*\.tar\.xz$' | head -n1)
	top=$(basename "$tarball" .tar.xz)
	dpkg-deb --fsys-tarfile "$srcdeb" | tar -xO "$tarball" |
		xz -dc | tar -x -C "$ks" --strip-components=1 \
			"$top/tools/testing/selftests/kselftest_harness.h" \
			"$top/tools/testing/selftests/kselftest.h" \
			"$top/scripts/checkpatch.pl" \
			"$top/scripts/spelling.txt" \
			"$top/scripts/const_structs.checkpatch" \
			"$top/COPYING" "$top/LICENSES/preferred/GPL-2.0"
	touch "$ks/.done"
fi
{
	echo "KSFT_INCLUDE=$ks/tools/testing/selftests"
	echo "CHECKPATCH=$ks/scripts/checkpatch.pl"
} >>"$env_tmp"

# --- the debug kernel, built here when wanted (or listed when already built)
dbg_wanted=0
case " $KERNELS " in *" debug "*) dbg_wanted=1 ;; esac
if [ "$dbg_wanted" -eq 1 ] || ls "$CACHE"/debug/*/.done >/dev/null 2>&1; then
	if [ "$dbg_wanted" -eq 1 ] || "$here/debug-kernel.sh" --check "$srcdeb"; then
		step="building the debug kernel"
		hint="its log is $CACHE/debug/*/build.log; make deps KERNELS='6.1 6.12' prepares the rest without it"
		read -r dver ddir dimg < <("$here/debug-kernel.sh" "$srcdeb")
		[ -n "$dimg" ] && [ -r "$dimg" ] || die "debug kernel build gave no image"
		{
			echo "KVER_debug=$dver"
			echo "KDIR_debug=$ddir"
			echo "VMLINUZ_debug=$dimg"
		} >>"$env_tmp"
	fi
fi

mv -f "$env_tmp" "$CACHE/kernels.env"
trap - EXIT
log "ready: $CACHE/kernels.env"
