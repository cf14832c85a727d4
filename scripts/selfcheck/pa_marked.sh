#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runner self-check: a page allocation failure report between the faults
# test's markers is no splat.
# shellcheck disable=SC1091 # the guest's copy of scripts/vm-protocol.sh
. /lib/ipcbox/vm-protocol.sh
echo "$IPCBOX_MARK_PA_BEGIN selfcheck" >/dev/kmsg
sh /selftests/pa_report.sh
echo "$IPCBOX_MARK_PA_END selfcheck" >/dev/kmsg
echo "TAP version 13"
echo "1..1"
echo "ok 1 selfcheck_page_alloc_report_between_markers"
