#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runner self-check helper (an extra file, run with sh): write what
# warn_alloc() prints for a failed page allocation (its header line and
# stack dump) to the kernel log.
k=/dev/kmsg
echo "selfcheck: page allocation failure: order:0, mode:0xcc0(GFP_KERNEL), nodemask=(null),cpuset=/,mems_allowed=0" >$k
echo "CPU: 0 UID: 0 PID: $$ Comm: sh Not tainted" >$k
echo "Hardware name: QEMU Standard PC (i440FX + PIIX, 1996)" >$k
echo "Call Trace:" >$k
echo " <TASK>" >$k
echo " dump_stack_lvl+0x5d/0x80" >$k
echo " warn_alloc+0x164/0x190" >$k
echo " ? __alloc_pages_slowpath.constprop.0+0xb11/0xd80" >$k
echo " </TASK>" >$k
echo "Mem-Info:" >$k
