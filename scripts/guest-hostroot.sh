#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /sbin/ipcbox-hostroot in the ipcbox VM (busybox): mount the host's root,
# which vm-run.sh exports read-only as the virtio-9p share "hostroot", on
# /host, with the guest's /proc, /sys, /dev and /tmp over the host's, so
# that "chroot /host" runs the host's programs (a compiler, pkg-config)
# against the guest's kernel and ipcbox devices. /tmp is the guest's own
# on both sides, so files written in the chroot are in the guest's /tmp.
#
# usage: ipcbox-hostroot        mount (nothing to do when already mounted)
#        ipcbox-hostroot -u     unmount again
#
# 9p support comes from the kernel (built in) or from the modules that
# mkinitramfs.sh put in /lib/ipcbox/9p, loaded in the order of its
# load.order. Exit status 0 when /host is mounted; otherwise 1 and one
# line on standard error that says why.

mnt=/host
tag=hostroot
mods=/lib/ipcbox/9p

mounted() { grep -q " $1 " /proc/mounts; }
fail() { echo "ipcbox-hostroot: $*" >&2; exit 1; }

if [ "${1:-}" = -u ]; then
	mounted "$mnt" || exit 0
	umount -l "$mnt" || fail "cannot unmount $mnt"
	exit 0
fi
mounted "$mnt" && exit 0

if ! grep -qw 9p /proc/filesystems; then
	[ -s "$mods/load.order" ] ||
		fail "no 9p: the kernel has no 9p file system built in and the initramfs holds no 9p modules"
	while read -r m; do
		grep -q "^$m " /proc/modules && continue
		out=$(insmod "$mods/$m.ko" 2>&1) || fail "insmod $m: $out"
	done <"$mods/load.order"
	grep -qw 9p /proc/filesystems || fail "no 9p file system after loading the 9p modules"
fi

[ -d /sys/bus/virtio/drivers/9pnet_virtio ] ||
	fail "no 9pnet_virtio: the kernel has 9p but not its virtio transport"
found=0
for t in /sys/bus/virtio/drivers/9pnet_virtio/*/mount_tag; do
	[ -r "$t" ] || continue
	[ "$(tr -d '\0' <"$t")" = "$tag" ] && found=1
done
[ "$found" = 1 ] || fail "no virtio-9p device tagged '$tag' (the VM was started without the share)"

mkdir -p "$mnt"
out=$(mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose \
	"$tag" "$mnt" 2>&1) || fail "mount $tag: $out"
for d in proc sys dev tmp; do
	[ -d "$mnt/$d" ] || { umount -l "$mnt"; fail "the host has no /$d to mount over"; }
done
# The guest's /tmp hides the host's: a checkout or stage under the host's
# /tmp (a CI clone, say) is kept aside first and put back at its path.
conf() { sed -n "s/^$1=//p" /etc/ipcbox-vm.conf 2>/dev/null | tail -n 1 | tr -d "'"; }
keep=
for p in "$(conf IPCBOX_SRC)" "$(conf IPCBOX_STAGE)"; do
	case $p in /tmp/?*) ;; *) continue ;; esac
	for k in $keep; do case $p/ in "$k"/*) continue 2 ;; esac; done
	[ -d "$mnt$p" ] || continue
	mkdir -p "/run/ipcbox-keep$p"
	mount -o bind "$mnt$p" "/run/ipcbox-keep$p" && keep="$keep $p"
done
if ! { mount -t proc proc "$mnt/proc" && mount -o rbind /sys "$mnt/sys" &&
	mount -o rbind /dev "$mnt/dev" && mount -o bind /tmp "$mnt/tmp"; }; then
	umount -l "$mnt"
	fail "cannot mount /proc, /sys, /dev and /tmp over $mnt"
fi
for p in $keep; do
	mkdir -p "$mnt$p" && mount -o bind "/run/ipcbox-keep$p" "$mnt$p" ||
		fail "cannot put the host's $p back over the guest's /tmp"
done
exit 0
