#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runner self-check: the control case, a clean test that must pass.
echo "TAP version 13"
echo "1..1"
echo "ok 1 selfcheck_control"
