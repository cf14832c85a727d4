#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Sum up the reliability figures of VM test runs from their logs: messages
# moved and lost/duplicated/reordered/corrupted, signals, kills, module
# cycles, fuzz calls, trinity's system calls, injected faults, splats and
# leaks. One Markdown table row per kernel; docs/reliability.md quotes
# them. The tests' figure lines come from selftests/*.c, the marker lines
# from the guest (scripts/vm-protocol.sh).
#
# usage: reliability-figures.sh VMDIR...     e.g. build/vm/6.1 build/vm/debug

set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=vm-protocol.sh
. "$(dirname "$0")/vm-protocol.sh"

echo "| kernel | messages moved | lost/dup/reorder/corrupt | signals (interrupted) | SIGKILLs | rmmod/insmod cycles | fuzz calls | trinity syscalls | faults injected | splats | kmemleak | result |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
for d in "$@"; do
	tap=$d/tap.log
	[ -r "$tap" ] || { echo "reliability-figures: no $tap" >&2; exit 1; }
	k=$(basename "$d")
	kver=$(sed -n "s/^# $IPCBOX_MARK_BOOTED //p" "$tap" | tr -d '\r')
	awk -v k="$k" -v kver="$kver" -v kmemleak="# $IPCBOX_MARK_KMEMLEAK " \
	    -v splats="$(grep -c '^kernel-splat' "$d/reasons.txt" 2>/dev/null || true)" \
	    -v result="$(sed -n 's/^STATUS=//p' "$d/result.env" 2>/dev/null)" '
	function val(key,   i, n, f) {
		n = split($0, f, /[ (]/)
		for (i = 1; i <= n; i++)
			if (index(f[i], key "=") == 1)
				return substr(f[i], length(key) + 2) + 0
		return 0
	}
	/^# # torture: (cap|priority)/ && / moved=/ {
		moved += val("moved"); bad += val("lost") + val("dup") + val("reorder") + val("corrupt") + val("phantom") + val("bad_prio") + val("bad_seq")
	}
	/^# # sigstorm: / {
		signals += val("signals"); intr += val("interrupted"); moved += val("received")
		bad += val("lost") + val("dup") + val("wrong_attempt") + val("phantom") + val("corrupt") + val("restart_violations")
	}
	/^# # sigkill: / { kills += val("kills"); bad += val("dup") + val("phantom") + val("corrupt") }
	/^# # sigkill: sends racing/ { bad += val("lost") }
	/^# # sigkill: chaos/ { moved += val("moved") }
	/^# # lifecycle: module cycles=/ { cycles += val("cycles"); bad += val("bad") }
	/^# # lifecycle: shutdown vs blocked/ { moved += val("received") }
	/^# # lifecycle: open vs unlink/ { bad += val("wrong_mailbox") + val("other_error") }
	/^# # prodcons.c:.*capacity [0-9a-z]+: [0-9]+ messages/ {
		for (i = 1; i <= NF; i++) if ($(i + 1) == "messages") { moved += $i; break }
	}
	/^# # fuzz: / { fuzz += val("calls") }
	/^# # faults: injected=/ { faults += val("injected") }
	/^# # \[main\] Ran [0-9]+ syscalls/ { trinity += $5 }
	index($0, kmemleak) == 1 { leak = $3 }
	END {
		printf "| %s (%s) | %d | %d | %d (%d) | %d | %d | %d | %d | %d | %d | %s | %s |\n",
			k, kver, moved, bad, signals, intr, kills, cycles, fuzz, trinity, faults,
			splats, leak == "" ? "n/a" : leak, result
	}' "$tap"
done
