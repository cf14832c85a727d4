#!/bin/sh
# SPDX-License-Identifier: MIT
#
# A named mailbox used from the shell, like a FIFO made with mkfifo(1):
# every write(2) - here every echo - is one message, every read(2) - here
# by cat - returns one whole message, and once the mailbox is shut down
# and drained, cat sees end of file and stops.
#
# Needs ipcboxctl in PATH (or IPCBOXCTL=/path/to/ipcboxctl).

here=$(dirname "$0")
ctl=${IPCBOXCTL:-ipcboxctl}
command -v "$ctl" >/dev/null 2>&1 || ctl=$here/../bin/ipcboxctl

name=example-sh-$$
box=/dev/ipcbox/$name
out=${TMPDIR:-/tmp}/ipcbox-fifo.$$
trap '"$ctl" rm -f "$name" 2>/dev/null; rm -f "$out"' EXIT

say() { printf '%s\n' "$*"; }
run() { say "\$ $*"; "$@"; }

run "$ctl" create --capacity 4 "$name" || exit 1

say "# a reader in the background waits for messages, as on a FIFO"
say "\$ cat $box > $out &"
cat "$box" > "$out" &
reader=$!

say "\$ echo hello > $box"
echo hello > "$box" || exit 1
say "\$ echo world > $box"
echo world > "$box" || exit 1
say "# a message with sender information, received by ipcboxctl instead"
run "$ctl" send "$name" "sent by ipcboxctl" || exit 1

run "$ctl" shutdown "$name" || exit 1
say "# after shutdown the reader drains the mailbox, then gets end of file"
wait "$reader"
say "the background cat exited with status $? and printed:"
sed 's/^/    /' "$out"
# The last message has no newline of its own: end the line for it.
[ -z "$(tail -c 1 "$out")" ] || echo

expected=$(printf 'hello\nworld\nsent by ipcboxctl')
if [ "$(cat "$out")" = "$expected" ]; then
	say "ok: three writes became three messages, read in order, then EOF"
	exit 0
fi
say "FAILED: the reader did not print the three messages in order"
exit 1
