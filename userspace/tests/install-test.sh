#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Proves that an installed libipcbox is complete and usable, TAP on
# standard output. Run inside the ipcbox VM with the module loaded: the
# host's root comes in read-only over virtio-9p (ipcbox-hostroot mounts it
# on /host), and the host's compiler and pkg-config run in "chroot /host"
# against the staged install (make stage: DESTDIR=build/stage PREFIX=/usr).
# Builds the first program of README.md and an example with nothing but
# what pkg-config says, linked shared and static, and runs them.
#
# IPCBOX_SRC (the checkout's path on the host) and IPCBOX_STAGE come from
# the environment or /etc/ipcbox-vm.conf (vm-run.sh writes them). When the
# share cannot be mounted or the host has no compiler or pkg-config, the
# one test case is a SKIP with the reason, and the exit status 4.

conf() { sed -n "s/^$1=//p" /etc/ipcbox-vm.conf 2>/dev/null | tail -n 1 | tr -d "'"; }
src=${IPCBOX_SRC:-$(conf IPCBOX_SRC)}
stage=${IPCBOX_STAGE:-$(conf IPCBOX_STAGE)}
host=/host
w=/tmp/ipcbox-install.$$	# the same directory inside the chroot
mounted_here=0

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	rm -rf "$w"
	[ "$mounted_here" = 0 ] || ipcbox-hostroot -u
}
trap cleanup EXIT

echo "TAP version 13"
skip() {
	echo "1..1"
	echo "ok 1 - installed libipcbox # SKIP $*"
	exit 4
}

[ -n "$src" ] || skip "no IPCBOX_SRC: the VM does not share the host's root"
if ! grep -q " $host " /proc/mounts; then
	out=$(ipcbox-hostroot 2>&1) || skip "${out#ipcbox-hostroot: }"
	mounted_here=1
fi
for tool in cc pkg-config readelf; do
	chroot "$host" /bin/sh -c "command -v $tool" >/dev/null 2>&1 ||
		skip "the host has no $tool (apt-get install build-essential pkg-config)"
done

# Run a command in the host's root with only the staged install in
# pkg-config's search path.
hc() {
	chroot "$host" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin \
		HOME=/tmp TMPDIR=/tmp LC_ALL=C \
		PKG_CONFIG_SYSROOT_DIR="$stage" \
		PKG_CONFIG_LIBDIR="$stage/usr/lib/pkgconfig" "$@"
}

mkdir -p "$w" || exit 1
OUT=$w/out
n=0
failures=0
pass() { n=$((n + 1)); echo "ok $n - $1"; }
fail() {
	n=$((n + 1)); failures=$((failures + 1))
	echo "not ok $n - $1"
	sed 's/^/# /' "$OUT" | head -n 20
}
# t DESC CMD...: CMD exits 0; its output is in $OUT.
t() {
	desc=$1
	shift
	"$@" >"$OUT" 2>&1 </dev/null
	rc=$?
	if [ "$rc" -eq 0 ]; then pass "$desc"; else fail "$desc (exit $rc)"; fi
	return $rc
}
# has DESC PATTERN: the last command's output matches PATTERN (grep -E).
has() {
	if grep -qE -- "$2" "$OUT"; then pass "$1"; else fail "$1 (output lacks '$2')"; fi
}
finish() {
	echo "1..$n"
	[ "$failures" -eq 0 ]
	exit
}

if [ -z "$stage" ] || [ ! -d "$host$stage" ]; then
	: >"$OUT"
	fail "a staged install at '$stage' in the host's root (make stage)"
	finish
fi
pass "the staged install is at $stage"
S=$host$stage

# --- the installed tree: what "make install" promises, from the sources --
# The version is written once, in libipcbox.h.
version=$(awk '/^#define LIBIPCBOX_VERSION_/ { v = v s $3; s = "." } END { print v }' \
	"$host$src/userspace/lib/libipcbox.h")
want="usr/lib/libipcbox.so.$version usr/lib/libipcbox.so.${version%%.*}
      usr/lib/libipcbox.so usr/lib/libipcbox.a usr/lib/pkgconfig/libipcbox.pc
      usr/include/libipcbox.h usr/include/linux/ipcbox.h usr/bin/ipcboxctl"
for f in "$host$src"/userspace/man/man*/*.[0-9]; do
	want="$want usr/share/man/${f#"$host$src"/userspace/man/}"
done
for f in "$host$src"/userspace/examples/*.c "$host$src"/userspace/examples/*.sh; do
	e=${f##*/}
	want="$want usr/libexec/ipcbox/${e%.c}"
done
missing=
for f in $want; do
	[ -e "$S/$f" ] || missing="$missing $f"
done
: >"$OUT"
for f in $missing; do echo "missing: $f" >>"$OUT"; done
if [ -z "$missing" ]; then
	pass "every file install promises is there ($(echo "$want" | wc -w) files)"
else
	fail "every file install promises is there"
fi
if cmp -s "$S/usr/include/linux/ipcbox.h" "$host$src/uapi/linux/ipcbox.h"; then
	pass "the installed linux/ipcbox.h is the uapi header"
else
	: >"$OUT"
	fail "the installed linux/ipcbox.h is the uapi header"
fi

# --- pkg-config ----------------------------------------------------------
t "pkg-config knows libipcbox" hc pkg-config --modversion libipcbox
has "its version is the Makefile's ($version)" "^$version\$"
t "pkg-config --cflags" hc pkg-config --cflags libipcbox
has "the include path is the staged one" "-I$stage/usr/include( |\$)"
t "pkg-config --libs" hc pkg-config --libs libipcbox
has "the library path is the staged one" "-L$stage/usr/lib .*-lipcbox"
cflags=$(hc pkg-config --cflags libipcbox)
libs=$(hc pkg-config --libs libipcbox)
slibs=$(hc pkg-config --static --libs libipcbox)

# --- README's first program, linked shared --------------------------------
awk '/^<!-- hello\.c/ { f = 1; next }
     f && /^```c/ { c = 1; next }
     c && /^```/ { exit }
     c' "$host$src/README.md" >"$w/hello.c"
if grep -q 'main(' "$w/hello.c"; then
	pass "README.md has the first program ($(wc -l <"$w/hello.c") lines)"
else
	cp "$w/hello.c" "$OUT"
	fail "README.md has the first program"
fi

# shellcheck disable=SC2086 # pkg-config output is a list of options
t "hello.c builds with pkg-config's flags, shared" \
	hc cc -Wall -Werror -o "$w/hello" "$w/hello.c" $cflags $libs
# shellcheck disable=SC2086
t "list hello.c's headers" hc cc -M $cflags "$w/hello.c"
has "libipcbox.h is the staged one" "$stage/usr/include/libipcbox.h"
has "linux/ipcbox.h is the staged one" "$stage/usr/include/linux/ipcbox.h"
t "readelf -d hello" hc readelf -d "$w/hello"
has "hello needs libipcbox.so.${version%%.*}" "NEEDED.*\[libipcbox\.so\.${version%%.*}\]"
t "ldd hello" hc env LD_LIBRARY_PATH="$stage/usr/lib" ldd "$w/hello"
has "the staged library is the one loaded" "libipcbox\.so\.${version%%.*} => $stage/usr/lib/libipcbox\.so\.${version%%.*}"
t "hello runs against the module" hc env LD_LIBRARY_PATH="$stage/usr/lib" "$w/hello"
has "hello got its message back" "^received \"hello, ipcbox\" from pid [1-9][0-9]*\$"

# --- the same, linked static, run outside the chroot ----------------------
# shellcheck disable=SC2086
t "hello.c builds with pkg-config --static, -static" \
	hc cc -Wall -Werror -static -o "$w/hello-static" "$w/hello.c" $cflags $slibs
t "readelf -d hello-static" hc readelf -d "$w/hello-static"
has "hello-static has no dynamic section" "no dynamic section"
t "hello-static runs in the bare guest" "$w/hello-static"
has "hello-static got its message back" "^received \"hello, ipcbox\" from pid [1-9][0-9]*\$"

# --- an example: several processes, tags, shutdown -------------------------
# shellcheck disable=SC2086
t "examples/reqrep.c builds against the staged install" \
	hc cc -Wall -Werror -o "$w/reqrep" "$src/userspace/examples/reqrep.c" \
	-I"$src/userspace/examples" $cflags $libs
t "reqrep runs and checks its own replies" \
	hc env LD_LIBRARY_PATH="$stage/usr/lib" "$w/reqrep"
t "the installed ipcboxctl works" hc "$stage/usr/bin/ipcboxctl" info
has "ipcboxctl info shows the module's ABI" "^abi_version: +[1-9]"

finish
