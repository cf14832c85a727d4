// SPDX-License-Identifier: GPL-2.0
/*
 * ipcbox control plane: /dev/ipcbox/control and its ioctls, INFO, CREATE
 * and UNLINK.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "ipcbox.h"

#define IPCBOX_FEATURES	(IPCBOX_FEAT_NAMED | IPCBOX_FEAT_ANON | \
			 IPCBOX_FEAT_RENDEZVOUS | IPCBOX_FEAT_UNBOUNDED | \
			 IPCBOX_FEAT_SYNC | IPCBOX_FEAT_CACHE | \
			 IPCBOX_FEAT_FILTER | IPCBOX_FEAT_PEEK | \
			 IPCBOX_FEAT_SHUTDOWN | IPCBOX_FEAT_FASYNC | \
			 IPCBOX_FEAT_CALL | IPCBOX_FEAT_BATCH)

static_assert(sizeof(struct ipcbox_info) == IPCBOX_INFO_SIZE_VER0);
static_assert(sizeof(struct ipcbox_create) == IPCBOX_CREATE_SIZE_VER0);
static_assert(sizeof(struct ipcbox_unlink) == IPCBOX_UNLINK_SIZE_VER0);
static_assert(sizeof(struct ipcbox_create) <= IPCBOX_IOCTL_ARG_MAX);

static long ipcbox_ioctl_info(struct file *ctl, void *karg,
			      void __user *uarg, size_t usize)
{
	struct ipcbox_info info = {
		.abi_version = IPCBOX_ABI_VERSION,
		.features = IPCBOX_FEATURES,
		.max_mailboxes = READ_ONCE(ipcbox_max_mailboxes),
		.max_per_user = READ_ONCE(ipcbox_max_per_user),
		.max_msg_size = ipcbox_msg_size_limit(),
		.max_capacity = READ_ONCE(ipcbox_max_capacity),
		.max_unbounded_bytes = READ_ONCE(ipcbox_max_unbounded_bytes),
		.nr_priorities = IPCBOX_PRIO_MAX,
		.default_msg_size = ipcbox_default_size(),
		.nr_mailboxes = ipcbox_quota_mailboxes(),
	};

	return ipcbox_copy_out(uarg, usize, &info, sizeof(info));
}

/* Check a CREATE and make the mailbox it asks for, not yet registered. */
static struct ipcbox_mailbox *ipcbox_create_mailbox(struct ipcbox_create *c)
{
	struct ipcbox_mailbox *mb;
	u32 size = c->msg_size_max ? c->msg_size_max : ipcbox_default_size();
	int ret;

	/* An anonymous mailbox has no node: its mode is ignored. */
	if (!c->name[0])
		c->mode = 0;
	if ((c->flags & ~IPCBOX_CREATE_FLAGS) || (c->mode & ~0666))
		return ERR_PTR(-EINVAL);
	ret = ipcbox_name_check(c->name);
	if (ret)
		return ERR_PTR(ret);
	if ((c->capacity != IPCBOX_CAPACITY_UNBOUNDED &&
	     c->capacity > READ_ONCE(ipcbox_max_capacity)) ||
	    size > ipcbox_msg_size_limit())
		return ERR_PTR(-EINVAL);

	mb = ipcbox_mailbox_alloc(c->capacity, size);
	if (!mb)
		return ERR_PTR(-ENOMEM);
	mb->mode = c->mode & ~current_umask();
	strscpy(mb->name, c->name, sizeof(mb->name));
	return mb;
}

static long ipcbox_ioctl_create(struct file *ctl, void *karg,
				void __user *uarg, size_t usize)
{
	struct ipcbox_create *c = karg;
	struct ipcbox_mailbox *mb;
	struct file *file;
	int fd, ret;

	mb = ipcbox_create_mailbox(c);
	if (IS_ERR(mb))
		return PTR_ERR(mb);

	fd = get_unused_fd_flags(c->flags & IPCBOX_CREATE_CLOEXEC ?
				 O_CLOEXEC : 0);
	if (fd < 0) {
		ret = fd;
		goto out_put;
	}
	file = ipcbox_file_create(mb, O_RDWR |
				  (c->flags & IPCBOX_CREATE_NONBLOCK ?
				   O_NONBLOCK : 0));
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		goto out_fd;
	}
	ret = ipcbox_registry_add(mb);
	if (ret)
		goto out_file;
	ipcbox_mailbox_put(mb);
	fd_install(fd, file);
	return fd;

out_file:
	fput(file);
out_fd:
	put_unused_fd(fd);
out_put:
	ipcbox_mailbox_put(mb);
	return ret;
}

static long ipcbox_ioctl_unlink(struct file *ctl, void *karg,
				void __user *uarg, size_t usize)
{
	const struct ipcbox_unlink *u = karg;
	int ret;

	if (!u->name[0])
		return -EINVAL;
	ret = ipcbox_name_check(u->name);
	return ret ? ret : ipcbox_registry_unlink(u->name);
}

static const struct ipcbox_ioctl ipcbox_control_ioctls[] = {
	{ IPCBOX_IOC_INFO, IPCBOX_INFO_SIZE_VER0, 0, ipcbox_ioctl_info },
	{ IPCBOX_IOC_CREATE, IPCBOX_CREATE_SIZE_VER0, 0, ipcbox_ioctl_create },
	{ IPCBOX_IOC_UNLINK, IPCBOX_UNLINK_SIZE_VER0, 0, ipcbox_ioctl_unlink },
	{ }
};

static long ipcbox_control_ioctl(struct file *file, unsigned int cmd,
				 unsigned long arg)
{
	return ipcbox_ioctl_dispatch(ipcbox_control_ioctls, file, cmd, arg);
}

static const struct file_operations ipcbox_control_fops = {
	.owner = THIS_MODULE,
	.open = nonseekable_open,
	.unlocked_ioctl = ipcbox_control_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice ipcbox_control = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "ipcbox",
	.nodename = "ipcbox/control",
	.mode = 0666,
	.fops = &ipcbox_control_fops,
};

int __init ipcbox_control_init(void)
{
	return misc_register(&ipcbox_control);
}

void ipcbox_control_exit(void)
{
	misc_deregister(&ipcbox_control);
}
