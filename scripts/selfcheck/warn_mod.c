// SPDX-License-Identifier: GPL-2.0
/*
 * Runner self-check: a module whose init triggers a kernel warning, which
 * the runner must find in the guest's kernel log.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bug.h>
#include <linux/module.h>

static int __init selfcheck_warn_init(void)
{
	pr_info("raising a deliberate warning\n");
	WARN_ON(1);
	return 0;
}

static void __exit selfcheck_warn_exit(void)
{
}

module_init(selfcheck_warn_init);
module_exit(selfcheck_warn_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("ipcbox runner self-check: deliberate WARN_ON");
