#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runner self-check: a page allocation failure report between the faults
# test's markers is no splat.
echo "IPCBOX-PAGE-ALLOC-FAULTS-BEGIN selfcheck" >/dev/kmsg
sh /selftests/pa_report.sh
echo "IPCBOX-PAGE-ALLOC-FAULTS-END selfcheck" >/dev/kmsg
echo "TAP version 13"
echo "1..1"
echo "ok 1 selfcheck_page_alloc_report_between_markers"
