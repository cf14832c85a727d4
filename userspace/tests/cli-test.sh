#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Tests of ipcboxctl's output and exit status, TAP on standard output.
# Run inside a machine with ipcbox.ko loaded; without the module only the
# tests that need no module run (usage errors, --help, the "not loaded"
# message). Uses ipcboxctl from PATH or $IPCBOXCTL.

here=$(dirname "$0")
ctl=${IPCBOXCTL:-ipcboxctl}
command -v "$ctl" >/dev/null 2>&1 || ctl=$here/../bin/ipcboxctl
tmp=${TMPDIR:-/tmp}/ipcbox-cli.$$
mkdir -p "$tmp" || exit 1
OUT=$tmp/out
ERR=$tmp/err
pfx=clitest-$$
cleanup() {
	for m in a small pri tag eof w1 w2; do
		"$ctl" rm -f "$pfx-$m" >/dev/null 2>&1
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

n=0
failures=0

pass() { n=$((n + 1)); echo "ok $n - $1"; }
fail() {
	n=$((n + 1)); failures=$((failures + 1))
	echo "not ok $n - $1"
	sed 's/^/# stdout: /' "$OUT" | head -n 5
	sed 's/^/# stderr: /' "$ERR" | head -n 5
}

# t DESC WANT_STATUS CMD...: run CMD, check its exit status.
t() {
	desc=$1 want=$2
	shift 2
	"$@" >"$OUT" 2>"$ERR" </dev/null
	rc=$?
	if [ "$rc" -eq "$want" ]; then pass "$desc"; else fail "$desc (exit $rc, want $want)"; fi
}

# tin DESC WANT_STATUS INPUT CMD...: same with INPUT on standard input.
tin() {
	desc=$1 want=$2 input=$3
	shift 3
	printf '%b' "$input" | "$@" >"$OUT" 2>"$ERR"
	rc=$?
	if [ "$rc" -eq "$want" ]; then pass "$desc"; else fail "$desc (exit $rc, want $want)"; fi
}

# out DESC PATTERN / err DESC PATTERN: the last command's stdout/stderr matches.
out() { if grep -q -- "$2" "$OUT"; then pass "$1"; else fail "$1 (stdout lacks '$2')"; fi; }
err() { if grep -q -- "$2" "$ERR"; then pass "$1"; else fail "$1 (stderr lacks '$2')"; fi; }
# exact DESC TEXT: the last command's stdout is exactly TEXT (printf %b).
exact() {
	printf '%b' "$2" >"$tmp/want"
	if cmp -s "$OUT" "$tmp/want"; then pass "$1"; else fail "$1 (stdout differs)"; fi
}
one_line_err() {
	if [ "$(wc -l <"$ERR")" -eq 1 ]; then pass "$1"; else fail "$1 (stderr not one line)"; fi
}

echo "TAP version 13"

# --- usage: no module needed ---------------------------------------------
t "--help exits 0" 0 "$ctl" --help
out "--help prints usage to stdout" "Usage: ipcboxctl"
t "no arguments is a usage error" 2 "$ctl"
t "unknown command is a usage error" 2 "$ctl" frobnicate
err "unknown command is named" "unknown command 'frobnicate'"
for c in info create ls stat send recv rm shutdown watch help; do
	t "$c --help exits 0" 0 "$ctl" "$c" --help
	out "$c --help prints its usage" "Usage: ipcboxctl $c"
done
t "unknown option is a usage error" 2 "$ctl" recv --bogus x
t "send --priority 12abc is rejected" 2 "$ctl" send --priority 12abc x
err "bad number message names the value" "invalid priority '12abc'"
t "send --priority 32 is out of range" 2 "$ctl" send -p 32 x
t "send --timeout -5 is rejected" 2 "$ctl" send -t -5 x
t "send --timeout 5x is rejected" 2 "$ctl" send -t 5x x
t "create --capacity -1 is rejected" 2 "$ctl" create -c -1 x
t "create --capacity 12abc is rejected" 2 "$ctl" create -c 12abc x
t "create --mode 0777 is rejected" 2 "$ctl" create -m 0777 x
t "create with a bad name is rejected" 2 "$ctl" create "bad/name"
t "create without a name is a usage error" 2 "$ctl" create
t "recv --count 1e3 is rejected" 2 "$ctl" recv -c 1e3 x
t "recv --from 0 is rejected" 2 "$ctl" recv --from 0 x
t "watch --interval 0 is rejected" 2 "$ctl" watch -i 0
t "rm without names is a usage error" 2 "$ctl" rm

if [ ! -e /dev/ipcbox/control ]; then
	t "info without the module fails" 1 "$ctl" info
	err "info says the module is not loaded" "module not loaded"
	one_line_err "the error is one line"
	t "send without the module fails" 1 "$ctl" send x hi
	err "send says the module is not loaded" "module not loaded"
	echo "1..$n"
	[ "$failures" -eq 0 ]
	exit
fi

# --- with the module ------------------------------------------------------
t "info exits 0" 0 "$ctl" info
out "info shows the ABI version" "abi_version:"
t "info --json exits 0" 0 "$ctl" info --json
out "info --json is an object" '^{"abi_version":'

A=$pfx-a
t "create a mailbox" 0 "$ctl" create -c 4 "$A"
if [ -e "/dev/ipcbox/$A" ]; then pass "the device node exists"; else fail "the device node exists"; fi
t "creating it again fails" 1 "$ctl" create "$A"
err "the error says it exists" "$A: mailbox already exists"
one_line_err "the error is one line"

t "send a message from arguments" 0 "$ctl" send "$A" hello world
t "stat exits 0" 0 "$ctl" stat "$A"
out "stat shows depth 1" "^depth: *1$"
out "stat shows capacity 4" "^capacity: *4$"
t "stat --json exits 0" 0 "$ctl" stat --json "$A"
out "stat --json shows the depth" '"depth":1'
t "ls exits 0" 0 "$ctl" ls
out "ls lists the mailbox" "^$A "
t "ls --json exits 0" 0 "$ctl" ls --json
out "ls --json names the mailbox" "\"name\":\"$A\""
t "recv prints the message" 0 "$ctl" recv "$A"
exact "recv output is the message and a newline" "hello world\n"
t "recv --timeout 0 on an empty mailbox fails" 1 "$ctl" recv -t 0 "$A"
err "the error names the mailbox" "ipcboxctl: recv: /dev/ipcbox/$A: "
t "recv --timeout 50ms waits and fails" 1 "$ctl" recv -t 50ms "$A"
err "the error says it timed out" "timed out"

t "send to a missing mailbox fails" 1 "$ctl" send "$pfx-nosuch" hi
err "the error is the usual ENOENT line" "ipcboxctl: send: /dev/ipcbox/$pfx-nosuch: No such file or directory"
one_line_err "the error is one line"
t "stat of a missing mailbox fails" 1 "$ctl" stat "$pfx-nosuch"
t "recv from a missing mailbox fails" 1 "$ctl" recv "$pfx-nosuch"

S=$pfx-small
t "create with --msg-size 8" 0 "$ctl" create -s 8 "$S"
t "an oversize message is refused" 1 "$ctl" send "$S" "longer than eight bytes"
err "the error says it is too long" "too long"
t "an 8-byte message fits" 0 "$ctl" send "$S" 12345678

tin "send --lines sends one message per line" 0 'one\ntwo\nthree\n' "$ctl" send --lines "$A"
t "recv --count 3 gets them in order" 0 "$ctl" recv -c 3 "$A"
exact "three lines, in order" "one\ntwo\nthree\n"
tin "send from stdin sends the whole input" 0 'x\ny' "$ctl" send "$A"
t "recv --raw gets it as one message" 0 "$ctl" recv --raw "$A"
exact "the whole input, unchanged" "x\ny"

P=$pfx-pri
t "create for priorities" 0 "$ctl" create -c 8 "$P"
t "send at priority 0" 0 "$ctl" send "$P" low
t "send at priority 9" 0 "$ctl" send -p 9 "$P" high
t "recv --all drains both" 0 "$ctl" recv --all "$P"
exact "the higher priority comes first" "high\nlow\n"
t "recv --all on an empty mailbox exits 0" 0 "$ctl" recv --all "$P"
exact "and prints nothing" ""

T=$pfx-tag
t "create for tags" 0 "$ctl" create -c 8 "$T"
t "send untagged" 0 "$ctl" send "$T" zero
t "send with --tag 0x7" 0 "$ctl" send -T 0x7 "$T" seven
t "recv --tag 7 picks the tagged one" 0 "$ctl" recv --tag 7 -t 0 "$T"
exact "it is the tagged message" "seven\n"
t "recv --info shows the sender" 0 "$ctl" recv --info "$T"
out "the info line has the sender pid" "pid=[1-9]"
t "send for --json" 0 "$ctl" send -T 3 "$T" 'quote " here'
t "recv --json exits 0" 0 "$ctl" recv --json "$T"
out "recv --json escapes the payload" '"data":"quote \\" here"'
out "recv --json carries the tag" '"tag":3'
t "send --verbose prints the sequence number" 0 "$ctl" send -v "$T" x
out "it says seq=" "^sent seq=[0-9]* len=1$"

E=$pfx-eof
t "create for shutdown" 0 "$ctl" create -c 4 "$E"
t "send before shutdown" 0 "$ctl" send "$E" last
t "shutdown exits 0" 0 "$ctl" shutdown "$E"
t "send after shutdown fails" 1 "$ctl" send "$E" more
err "the error says it is shut down" "shut down"
t "stat shows the shutdown flag" 0 "$ctl" stat "$E"
out "flags include shutdown" "^flags:.*shutdown"
t "recv --count 0 drains and stops at end of file" 0 "$ctl" recv -c 0 "$E"
exact "the queued message was still delivered" "last\n"
t "recv after end of file fails" 1 "$ctl" recv "$E"

t "watch --count 2 exits 0" 0 "$ctl" watch -n 2 -i 10ms
out "watch shows the table" "^NAME "
t "watch a named mailbox" 0 "$ctl" watch -n 1 -i 10ms "$A"
out "watch shows that mailbox" "^$A "

t "rm removes a mailbox" 0 "$ctl" rm "$A"
if [ ! -e "/dev/ipcbox/$A" ]; then pass "the node is gone"; else fail "the node is gone"; fi
t "rm of a missing mailbox fails" 1 "$ctl" rm "$A"
err "the error names it" "/dev/ipcbox/$A: No such file or directory"
t "rm --force of a missing mailbox succeeds" 0 "$ctl" rm -f "$A"
t "create two more" 0 "$ctl" create "$pfx-w1" "$pfx-w2"
t "rm --all exits 0" 0 "$ctl" rm --all
t "ls after rm --all" 0 "$ctl" ls --no-header
exact "no mailbox is left" ""

echo "1..$n"
[ "$failures" -eq 0 ]
