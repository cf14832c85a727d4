#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Print one setting of a cached kernel from $IPCBOX_CACHE/kernels.env.
#
# usage: kenv.sh KERNEL VAR     VAR: KVER, KDIR, VMLINUZ
#        kenv.sh - VAR          global: KSFT_INCLUDE, CHECKPATCH
# KERNEL "local" answers from $KDIR / $KVER in the environment.

set -euo pipefail

kernel=$1 var=$2
if [ "$kernel" = local ]; then
	case $var in
	KDIR) echo "${KDIR:-/lib/modules/${KVER:-$(uname -r)}/build}" ;;
	KVER) echo "${KVER:-$(uname -r)}" ;;
	*) echo "kenv: $var not known for a local kernel" >&2; exit 1 ;;
	esac
	exit 0
fi

envf=${IPCBOX_CACHE:-/var/cache/ipcbox}/kernels.env
[ -r "$envf" ] || { echo "kenv: $envf missing: run 'make deps'" >&2; exit 1; }
# shellcheck disable=SC1090
. "$envf"
if [ "$kernel" = - ]; then
	name=$var
else
	name=${var}_$(echo "$kernel" | tr '.-' '__')
fi
val=${!name:-}
[ -n "$val" ] || { echo "kenv: no $name in $envf: run 'make deps KERNEL=$kernel'" >&2; exit 1; }
echo "$val"
