#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runner self-check: load a module that warns; the test itself "passes".
insmod /selftests/ipcbox_selfcheck_warn.ko && rmmod ipcbox_selfcheck_warn
