#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runner self-check: a real warning between the faults test's markers,
# right after a page allocation failure report, still counts.
# shellcheck disable=SC1091 # the guest's copy of scripts/vm-protocol.sh
. /lib/ipcbox/vm-protocol.sh
echo "$IPCBOX_MARK_PA_BEGIN selfcheck" >/dev/kmsg
sh /selftests/pa_report.sh
insmod /selftests/ipcbox_selfcheck_warn.ko && rmmod ipcbox_selfcheck_warn
sh /selftests/pa_report.sh
echo "$IPCBOX_MARK_PA_END selfcheck" >/dev/kmsg
