#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Every function of the module defined with __must_hold(LOCK) says so to
# lockdep too: its body calls lockdep_assert_held(LOCK). sparse checks the
# annotation at build time, lockdep the truth at run time (debug kernel).
#
# usage: lock-check.sh FILE.c...   (prints each offender; exit 1 if any)

awk '
FNR == 1 { pending = 0; body = 0 }
/^[a-z].*\(/ && !body { fn = $0 }
/^\t__must_hold\(.*\)$/ {
	lock = $0
	sub(/^\t__must_hold\(/, "", lock)
	sub(/\)$/, "", lock)
	pending = 1
	next
}
pending && /^\{/ { pending = 0; body = 1; found = 0; next }
pending { pending = 0 }
body && index($0, "lockdep_assert_held(" lock ");") { found = 1 }
body && /^\}/ {
	body = 0
	n++
	if (!found) {
		sub(/\(.*/, "", fn)
		sub(/.*[ *]/, "", fn)
		printf "%s: %s() is __must_hold(%s) without lockdep_assert_held()\n",
		       FILENAME, fn, lock
		bad = 1
	}
}
END {
	if (!n) {
		print "lock-check: no __must_hold function found"
		exit 1
	}
	exit bad
}' "$@"
