/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the kernels ipcbox builds on (6.1 and 6.12 so far),
 * kept in one place.
 */
#ifndef _IPCBOX_COMPAT_H
#define _IPCBOX_COMPAT_H

#include <linux/device.h>
#include <linux/version.h>

/* 6.2 made the devnode() and uevent() callbacks take a const device. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
#define ipcbox_devnode_dev	const struct device
#else
#define ipcbox_devnode_dev	struct device
#endif

/* 6.4 dropped the owner argument of class_create(). */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 4, 0)
#define ipcbox_class_create(name)	class_create(name)
#else
#define ipcbox_class_create(name)	class_create(THIS_MODULE, name)
#endif

#endif /* _IPCBOX_COMPAT_H */
