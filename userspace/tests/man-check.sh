#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Render every man page the way man(1) shows it, 80 columns wide with all
# groff warnings on (man --warnings=w), and fail listing each warning.
# Also fails on a page that renders to nothing (a stub man(1)) and on
# blank lines in filled text, which groff passes silently but which are
# not paragraphs (.PP is).
#
# usage: man-check.sh [MANDIR]    default: ../man next to this script
#
# Needs man-db and groff-base.

set -u

here=$(cd "$(dirname "$0")" && pwd)
mandir=${1:-$here/../man}

if ! command -v man >/dev/null 2>&1; then
	echo "man-check: man(1) not found: install man-db and groff-base" >&2
	exit 1
fi
# man resolves ".so man3/page.3" against the directory it runs in.
cd "$mandir" || { echo "man-check: no directory $mandir" >&2; exit 1; }

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

fail=0
n=0
for page in man[1-9]/*.[1-9]; do
	[ -f "$page" ] || continue
	n=$((n + 1))
	MANWIDTH=80 man --warnings=w -l "$page" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	awk '
		/^\.(nf|EX)([ \t]|$)/ { nofill = 1 }
		/^\.(fi|EE)([ \t]|$)/ { nofill = 0 }
		/^[ \t]*$/ && !nofill {
			printf "%s:%d: blank line in filled text (use .PP)\n", FILENAME, FNR
		}' "$page" >>"$tmp/err"
	[ "$rc" -eq 0 ] || echo "man exited with status $rc" >>"$tmp/err"
	[ -s "$tmp/out" ] || echo "rendered to nothing" >>"$tmp/err"
	if [ -s "$tmp/err" ]; then
		echo "man-check: $page:"
		sed 's/^/    /' "$tmp/err"
		fail=1
	fi
done

if [ "$n" -eq 0 ]; then
	echo "man-check: no man pages under $mandir" >&2
	exit 1
fi
if [ "$fail" -ne 0 ]; then
	echo "man-check: FAIL: warnings in the man pages above"
	exit 1
fi
echo "man-check: $n pages render without warnings"
