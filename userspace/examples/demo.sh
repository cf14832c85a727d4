#!/bin/sh
# SPDX-License-Identifier: MIT
#
# A narrated tour of ipcbox: runs each example with a heading that says
# which classic IPC model it shows, and ends with the mailbox table.
# Exits non-zero when an example did not behave as expected.
#
# Examples are looked for in $IPCBOX_EXAMPLES, next to this script,
# in ./examples beside it, and in /usr/libexec/ipcbox.

here=$(cd "$(dirname "$0")" && pwd)
dir=
for d in "${IPCBOX_EXAMPLES:-}" "$here" "$here/examples" /usr/libexec/ipcbox; do
	if [ -n "$d" ] && [ -x "$d/prodcons" ]; then
		dir=$d
		break
	fi
done
if [ -z "$dir" ]; then
	echo "demo: cannot find the ipcbox examples (set IPCBOX_EXAMPLES)" >&2
	exit 1
fi
ctl=${IPCBOXCTL:-ipcboxctl}
command -v "$ctl" >/dev/null 2>&1 || ctl=$here/../bin/ipcboxctl
export IPCBOXCTL="$ctl"

failed=0
step=0

heading() {
	step=$((step + 1))
	echo
	echo "=== $step. $1"
	shift
	for line in "$@"; do
		echo "    $line"
	done
	echo
}

run() {
	"$@"
	rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "!!! $1 exited with status $rc"
		failed=1
	fi
}

echo "ipcbox: kernel mailboxes for message passing"
echo "\$ ipcboxctl info"
if ! "$ctl" info; then
	echo "demo: the ipcbox module is not usable, nothing to show" >&2
	exit 1
fi

heading "Bounded buffer (capacity n): producers and consumers" \
	"A mailbox holding n messages is the textbook bounded buffer: a" \
	"producer waits while it is full, a consumer while it is empty."
run "$dir/prodcons"

heading "Rendezvous (capacity 0) and synchronous send" \
	"With no buffer at all, a send completes only when a receiver takes" \
	"the message, so the sender knows it was delivered. SYNC gives the" \
	"same guarantee on a mailbox that has room."
run "$dir/rendezvous"

heading "Ordinary pipe: an anonymous mailbox between parent and child" \
	"Created without a name, a mailbox is just a file descriptor that" \
	"children inherit over fork, like pipe(2) - but message by message."
run "$dir/pipe"

heading "Named pipe (FIFO): a named mailbox between unrelated programs" \
	"/dev/ipcbox/NAME is found by name, opened with open(2), and outlives" \
	"the processes that use it until it is removed."
run "$dir/fifo"
run sh "$dir/fifo.sh"

heading "Direct communication: receive from a chosen sender" \
	"The kernel stamps every message with its sender's pid, uid and gid;" \
	"a receiver may ask for messages from one process only."
run "$dir/direct"

heading "Mach send options when the mailbox is full" \
	"Wait forever, wait at most n ms, return at once, or let the kernel" \
	"hold one message and deliver it when there is room."
run "$dir/mach"

heading "Request and reply over two mailboxes" \
	"Clients tag their requests; the server answers with the same tag and" \
	"each client receives only the replies meant for it."
run "$dir/reqrep"

heading "The mailbox table" \
	"Named mailboxes and their live counters, from /sys/class/ipcbox."
"$ctl" create --capacity 8 demo-jobs >/dev/null 2>&1
"$ctl" send --priority 5 demo-jobs "urgent job" >/dev/null 2>&1
"$ctl" send demo-jobs "ordinary job" >/dev/null 2>&1
echo "\$ ipcboxctl ls"
run "$ctl" ls
"$ctl" rm -f demo-jobs

echo
if [ "$failed" -eq 0 ]; then
	echo "demo: every example behaved as described"
else
	echo "demo: some examples did NOT behave as described (see !!! above)"
fi
exit "$failed"
