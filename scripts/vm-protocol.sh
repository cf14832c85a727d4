# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh disable=SC2034
#
# The markers of the ipcbox VM protocol (scripts/vm-protocol.md), the one
# list of their names: each with who writes it, what follows it and what
# it means, and who reads it. Sourced by the guest's /init (guest-init.sh,
# as /lib/ipcbox/vm-protocol.sh in the initramfs) and the selfcheck tests
# in the guest, by the host's readers (vm-run.sh, reliability-figures.sh),
# and turned into vm-protocol.h for the selftests that write one
# (selftests/Makefile). Plain NAME=value lines, a value in single quotes
# when it has a space: the value is what stands in the log.

# ---- the guest's TAP port (ttyS1, the host's tap.log) ------------------
# Lines "# MARKER [ARGS]", written by guest-init.sh; everything a test
# binary prints reaches the port with "# " in front, so it never starts
# with one of these.

# The kernel has booted into a test run; ARGS: its release (uname -r).
# Read by reliability-figures.sh (the kernel of a row).
IPCBOX_MARK_BOOTED=IPCBOX-BOOTED

# ARGS: /proc/sys/kernel/tainted at boot, before ipcbox is loaded. Read
# by vm-run.sh: what the run added to it is a finding.
IPCBOX_MARK_TAINT_BOOT=IPCBOX-TAINT-BOOT

# Loading and unloading ipcbox.ko, in every mode. ARGS: "insmod: ok",
# "insmod: skipped" (vm-run.sh -n), "insmod: FAIL (why)", "rmmod: ok" or
# "rmmod: FAIL (why)". Read by vm-run.sh: a FAIL is a finding.
IPCBOX_MARK_MODULE=IPCBOX

# A test binary (or script) of tests.list starts; ARGS: its name. Its
# output follows, each line with "# " in front, then its TAP result line
# "ok|not ok N IPCBOX_TAP_NAME NAME [# SKIP|# TIMEOUT Ns|# exit=N|
# # missing binary]", then IPCBOX_MARK_END. Read by vm-run.sh, which
# counts the harness's own results between the two.
IPCBOX_MARK_BEGIN=IPCBOX-BEGIN
# The binary of IPCBOX_MARK_BEGIN is done; ARGS: its name.
IPCBOX_MARK_END=IPCBOX-END
# What the guest's TAP result lines call a binary: "selftests: ipcbox:".
IPCBOX_TAP_NAME='selftests: ipcbox:'

# After the tests and rmmod, in this order:
# ARGS: how many slab caches named ipcbox* are left (ipcbox makes none,
# so 0). Read by vm-run.sh: any is a finding.
IPCBOX_MARK_SLAB_LEFT=IPCBOX-SLAB-LEFT
# ARGS: /proc/sys/kernel/tainted at the end. Read by vm-run.sh: D, W, B
# or L, or any flag but O and E new since IPCBOX_MARK_TAINT_BOOT, is a
# finding.
IPCBOX_MARK_TAINT=IPCBOX-TAINT
# Only with lockdep: ARGS: debug_locks from /proc/lockdep_stats. Read by
# vm-run.sh: 0 (lockdep turned itself off) is a finding.
IPCBOX_MARK_DEBUG_LOCKS=IPCBOX-DEBUG-LOCKS
# Only with kmemleak: ARGS: how many unreferenced objects its scans found
# (the report follows, lines "# kmemleak: ..."). Read by vm-run.sh (any
# is a finding) and reliability-figures.sh (the kmemleak column).
IPCBOX_MARK_KMEMLEAK=IPCBOX-KMEMLEAK
# The guest's whole kernel log (dmesg) stands between these two: vm-run.sh
# looks for splats there, and reads no TAP after the first.
IPCBOX_MARK_DMESG_BEGIN=IPCBOX-DMESG-BEGIN
IPCBOX_MARK_DMESG_END=IPCBOX-DMESG-END

# Demo mode only: ARGS: the exit status of the demo. Read by vm-run.sh:
# anything but 0 fails the demo.
IPCBOX_MARK_DEMO_RC=IPCBOX-DEMO-RC

# The last line of a test or demo run. Read by vm-run.sh: without it the
# guest did not finish (it hung, crashed or ran out of time).
IPCBOX_MARK_DONE=IPCBOX-DONE

# ---- the guest's kernel log (console.log and the dmesg dump) -----------
# Lines "MARKER WHAT" written to /dev/kmsg by selftests/faults.c (WHAT:
# the sweep) and scripts/selfcheck/pa_*.sh. Between a BEGIN and its END
# the page allocator's reports of the failures faults injects (warn_alloc:
# "page allocation failure" and its stack dump) are expected: vm-run.sh
# drops exactly those there, anything else there still counts.
IPCBOX_MARK_PA_BEGIN=IPCBOX-PAGE-ALLOC-FAULTS-BEGIN
IPCBOX_MARK_PA_END=IPCBOX-PAGE-ALLOC-FAULTS-END

# ---- the benchmark (make bench) ----------------------------------------
# bench/run-bench.sh.in, the only "test" of a bench run, prints these on
# its own (so they reach the TAP port as "# MARKER"), and bench/bench.sh
# reads them back; both spell the names out themselves.
# The guest's environment (kernel, CPU, arguments) stands between these.
IPCBOX_MARK_BENCH_ENV_BEGIN=IPCBOX-BENCH-ENV-BEGIN
IPCBOX_MARK_BENCH_ENV_END=IPCBOX-BENCH-ENV-END
# ipcbox-bench's table, ending in its verdict line "ipcbox-bench: PASS|FAIL".
IPCBOX_MARK_BENCH_TABLE_BEGIN=IPCBOX-BENCH-TABLE-BEGIN
IPCBOX_MARK_BENCH_TABLE_END=IPCBOX-BENCH-TABLE-END
# Its results as CSV (bench/bench.sh: results.csv, the chart).
IPCBOX_MARK_BENCH_CSV_BEGIN=IPCBOX-BENCH-CSV-BEGIN
IPCBOX_MARK_BENCH_CSV_END=IPCBOX-BENCH-CSV-END
# ARGS: ipcbox-bench's exit status; anything but 0 fails the bench.
IPCBOX_MARK_BENCH_RC=IPCBOX-BENCH-RC
