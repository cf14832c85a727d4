#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runner self-check: every family of the selftests' knobs reaches the
# guest. selfcheck.sh sets IPCBOX_<FAMILY>_SELFCHECK=<FAMILY> on the host
# for each family listed here.
set -- PRODCONS TORTURE SIGSTORM SIGKILL LIFECYCLE FUZZ SCALE TRINITY
echo "TAP version 13"
echo "1..$#"
n=0 bad=0
for f; do
	n=$((n + 1))
	v=
	eval "v=\${IPCBOX_${f}_SELFCHECK:-}"
	if [ "$v" = "$f" ]; then
		echo "ok $n IPCBOX_${f}_* reaches the guest"
	else
		echo "not ok $n IPCBOX_${f}_* reaches the guest (got '$v')"
		bad=$((bad + 1))
	fi
done
[ "$bad" -eq 0 ]
