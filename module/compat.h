/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the kernels ipcbox builds on (6.1 and 6.12 so far),
 * kept in one place.
 */
#ifndef _IPCBOX_COMPAT_H
#define _IPCBOX_COMPAT_H

#include <linux/device.h>
#include <linux/slab.h>

/*
 * 6.2 made the devnode() callbacks take a const device. Kbuild probes the
 * kernel's headers and defines IPCBOX_HAVE_CONST_DEVNODE.
 */
#ifdef IPCBOX_HAVE_CONST_DEVNODE
#define ipcbox_devnode_dev	const struct device
#else
#define ipcbox_devnode_dev	struct device
#endif

/* Until 6.4 class_create() was a macro taking the owner module too. */
#ifdef class_create
#define ipcbox_class_create(name)	class_create(THIS_MODULE, name)
#else
#define ipcbox_class_create(name)	class_create(name)
#endif

/*
 * 6.5 added SLAB_NO_MERGE. Before it a cache of ours may share the slabs
 * of another of the same size, and outlive the module under its name.
 */
#ifdef SLAB_NO_MERGE
#define IPCBOX_SLAB_NO_MERGE	SLAB_NO_MERGE
#else
#define IPCBOX_SLAB_NO_MERGE	0
#endif

#endif /* _IPCBOX_COMPAT_H */
