#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs every ipcbox example and checks that it exits 0 (each one checks
# its own behaviour). TAP on standard output. The examples are looked for
# in $IPCBOX_EXAMPLES, ../examples beside this script, and
# /usr/libexec/ipcbox. Each example gets $EXAMPLE_TIMEOUT seconds (60);
# $EXAMPLES overrides the list of examples to run.

here=$(cd "$(dirname "$0")" && pwd)
dir=
for d in "${IPCBOX_EXAMPLES:-}" "$here/../examples" /usr/libexec/ipcbox /ipcbox/examples; do
	if [ -n "$d" ] && [ -x "$d/prodcons" ]; then
		dir=$d
		break
	fi
done
limit=${EXAMPLE_TIMEOUT:-60}
examples=${EXAMPLES:-"prodcons rendezvous pipe fifo fifo.sh direct mach reqrep"}

echo "TAP version 13"
if [ -z "$dir" ]; then
	echo "1..0 # SKIP ipcbox examples not found (set IPCBOX_EXAMPLES)"
	exit 0
fi
if [ ! -e /dev/ipcbox/control ]; then
	echo "1..0 # SKIP ipcbox module not loaded"
	exit 0
fi

count=0
for ex in $examples; do count=$((count + 1)); done
echo "1..$count"
n=0
failures=0
log=${TMPDIR:-/tmp}/ipcbox-example.$$
for ex in $examples; do
	n=$((n + 1))
	case $ex in
	*.sh) cmd="sh $dir/$ex" ;;
	*) cmd=$dir/$ex ;;
	esac
	if command -v timeout >/dev/null 2>&1; then
		# shellcheck disable=SC2086 # $cmd is a command and its argument
		timeout "$limit" $cmd >"$log" 2>&1
	else
		# shellcheck disable=SC2086
		$cmd >"$log" 2>&1
	fi
	rc=$?
	if [ "$rc" -eq 0 ]; then
		echo "ok $n - example $ex"
	else
		echo "not ok $n - example $ex (exit $rc)"
		failures=$((failures + 1))
	fi
	sed 's/^/# /' "$log"
done
rm -f "$log"
[ "$failures" -eq 0 ]
