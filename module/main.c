// SPDX-License-Identifier: GPL-2.0
/*
 * ipcbox: kernel-mediated mailboxes, rendezvous and message queues.
 *
 * This file holds the module's life cycle and its parameters.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>

#include "ipcbox.h"

/* Ceiling for the max_msg_size parameter. */
#define IPCBOX_MSG_SIZE_LIMIT	(64U << 20)

/* The limits, under /sys/module/ipcbox/parameters, writable by root. */
unsigned int ipcbox_max_mailboxes = 1024;
unsigned int ipcbox_max_per_user = 256;
unsigned int ipcbox_max_msg_size = 1U << 20;
unsigned int ipcbox_default_msg_size = 8192;
unsigned int ipcbox_max_capacity = 65536;
unsigned long ipcbox_max_unbounded_bytes = 16UL << 20;

module_param_named(max_mailboxes, ipcbox_max_mailboxes, uint, 0644);
MODULE_PARM_DESC(max_mailboxes, "Mailboxes that may exist at once (ENOSPC)");
module_param_named(max_per_user, ipcbox_max_per_user, uint, 0644);
MODULE_PARM_DESC(max_per_user,
		 "Mailboxes one user may own, in each user namespace (EDQUOT)");
module_param_named(max_msg_size, ipcbox_max_msg_size, uint, 0644);
MODULE_PARM_DESC(max_msg_size, "Largest message size of a mailbox, bytes");
module_param_named(default_msg_size, ipcbox_default_msg_size, uint, 0644);
MODULE_PARM_DESC(default_msg_size, "Message size when CREATE passes 0");
module_param_named(max_capacity, ipcbox_max_capacity, uint, 0644);
MODULE_PARM_DESC(max_capacity, "Largest bounded capacity, messages");
module_param_named(max_unbounded_bytes, ipcbox_max_unbounded_bytes, ulong,
		   0644);
MODULE_PARM_DESC(max_unbounded_bytes,
		 "What an unbounded mailbox holds, payload and 64 bytes a message (ENOBUFS)");

unsigned int ipcbox_msg_size_limit(void)
{
	return min(READ_ONCE(ipcbox_max_msg_size), IPCBOX_MSG_SIZE_LIMIT);
}

unsigned int ipcbox_default_size(void)
{
	return min(READ_ONCE(ipcbox_default_msg_size), ipcbox_msg_size_limit());
}

static int __init ipcbox_init(void)
{
	int ret;

	ret = ipcbox_msg_init();
	if (ret)
		return ret;
	ret = ipcbox_mailbox_init();
	if (ret)
		goto out_msg;
	ret = ipcbox_registry_init(&ipcbox_mailbox_fops);
	if (ret)
		goto out_mailbox;
	ret = ipcbox_control_init();
	if (ret)
		goto out_registry;
	pr_info("%s (ABI %d), /dev/ipcbox/control ready\n", IPCBOX_VERSION,
		IPCBOX_ABI_VERSION);
	return 0;

out_registry:
	ipcbox_registry_exit();
out_mailbox:
	ipcbox_mailbox_exit();
out_msg:
	ipcbox_msg_exit();
	return ret;
}

static void __exit ipcbox_exit(void)
{
	ipcbox_control_exit();
	ipcbox_registry_exit();
	ipcbox_mailbox_exit();
	ipcbox_msg_exit();
}

module_init(ipcbox_init);
module_exit(ipcbox_exit);

MODULE_DESCRIPTION("Kernel-mediated mailboxes, rendezvous and message queues");
MODULE_AUTHOR("The ipcbox developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(IPCBOX_VERSION);
