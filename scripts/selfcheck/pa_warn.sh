#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runner self-check: a real warning between the faults test's markers,
# right after a page allocation failure report, still counts.
echo "IPCBOX-PAGE-ALLOC-FAULTS-BEGIN selfcheck" >/dev/kmsg
sh /selftests/pa_report.sh
insmod /selftests/ipcbox_selfcheck_warn.ko && rmmod ipcbox_selfcheck_warn
sh /selftests/pa_report.sh
echo "IPCBOX-PAGE-ALLOC-FAULTS-END selfcheck" >/dev/kmsg
