// SPDX-License-Identifier: GPL-2.0
/*
 * ipcbox: kernel-mediated mailboxes, rendezvous and message queues.
 *
 * This file holds the module's life cycle, its parameters, the registry of
 * named mailboxes and the control plane on /dev/ipcbox/control.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/cdev.h>
#include <linux/cred.h>
#include <linux/ctype.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "compat.h"
#include "ipcbox.h"

/* Minor numbers for named mailboxes: a hard ceiling for max_mailboxes. */
#define IPCBOX_MINORS		65536
/* Ceiling for the max_msg_size parameter. */
#define IPCBOX_MSG_SIZE_LIMIT	(64U << 20)

unsigned int ipcbox_max_mailboxes = 1024;
module_param_named(max_mailboxes, ipcbox_max_mailboxes, uint, 0644);
MODULE_PARM_DESC(max_mailboxes, "Mailboxes that may exist at once (ENOSPC)");

unsigned int ipcbox_max_per_user = 256;
module_param_named(max_per_user, ipcbox_max_per_user, uint, 0644);
MODULE_PARM_DESC(max_per_user, "Mailboxes one user may own at once (EDQUOT)");

unsigned int ipcbox_max_msg_size = 1U << 20;
module_param_named(max_msg_size, ipcbox_max_msg_size, uint, 0644);
MODULE_PARM_DESC(max_msg_size, "Largest message size of a mailbox, bytes");

unsigned int ipcbox_default_msg_size = 8192;
module_param_named(default_msg_size, ipcbox_default_msg_size, uint, 0644);
MODULE_PARM_DESC(default_msg_size, "Message size when CREATE passes 0");

unsigned int ipcbox_max_capacity = 65536;
module_param_named(max_capacity, ipcbox_max_capacity, uint, 0644);
MODULE_PARM_DESC(max_capacity, "Largest bounded capacity, messages");

unsigned long ipcbox_max_unbounded_bytes = 16UL << 20;
module_param_named(max_unbounded_bytes, ipcbox_max_unbounded_bytes, ulong,
		   0644);
MODULE_PARM_DESC(max_unbounded_bytes,
		 "Payload bytes an unbounded mailbox may hold (ENOBUFS)");

#define IPCBOX_FEATURES	(IPCBOX_FEAT_NAMED | IPCBOX_FEAT_ANON | \
			 IPCBOX_FEAT_RENDEZVOUS | IPCBOX_FEAT_UNBOUNDED | \
			 IPCBOX_FEAT_SYNC | IPCBOX_FEAT_CACHE | \
			 IPCBOX_FEAT_FILTER | IPCBOX_FEAT_PEEK | \
			 IPCBOX_FEAT_SHUTDOWN | IPCBOX_FEAT_FASYNC | \
			 IPCBOX_FEAT_CALL | IPCBOX_FEAT_BATCH)

/* Mailboxes one user owns, for max_per_user (ipcbox_mutex). */
struct ipcbox_user {
	struct list_head list;
	kuid_t uid;
	unsigned int count;
};

static DEFINE_MUTEX(ipcbox_mutex);
static LIST_HEAD(ipcbox_named);		/* named mailboxes, by @list */
static LIST_HEAD(ipcbox_users);		/* struct ipcbox_user */
static DEFINE_IDR(ipcbox_idr);		/* minor -> named mailbox */
static unsigned int ipcbox_nr_mailboxes;

static dev_t ipcbox_devt;
static struct cdev ipcbox_cdev;
static struct class *ipcbox_class;

static unsigned int ipcbox_msg_size_limit(void)
{
	return min(READ_ONCE(ipcbox_max_msg_size), IPCBOX_MSG_SIZE_LIMIT);
}

bool ipcbox_owner_or_capable(const struct ipcbox_mailbox *mb)
{
	return uid_eq(current_euid(), mb->uid) ||
	       ns_capable(mb->user_ns, CAP_IPC_OWNER);
}

/**
 * ipcbox_ioctl_dispatch() - run the handler of an ioctl from a table
 * @tbl:	The ioctls of one kind of file.
 * @n:		Entries in @tbl.
 * @file:	The file.
 * @cmd:	The ioctl number.
 * @arg:	Its argument.
 *
 * The caller's struct size comes from the ioctl number: anything from the
 * first published size up to a page is accepted, so structs can grow. An
 * entry without a struct (@ver0 0) takes no size at all.
 *
 * Return: the handler's result, -EINVAL for a size out of range, or
 * -ENOTTY for an ioctl not in @tbl.
 */
long ipcbox_ioctl_dispatch(const struct ipcbox_ioctl *tbl, size_t n,
			   struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	const unsigned int size_bits = _IOC_SIZEMASK << _IOC_SIZESHIFT;
	size_t size = _IOC_SIZE(cmd);
	size_t i;

	for (i = 0; i < n; i++) {
		if ((cmd & ~size_bits) != (tbl[i].cmd & ~size_bits))
			continue;
		if (tbl[i].ver0 ? size < tbl[i].ver0 || size > PAGE_SIZE : size)
			return -EINVAL;
		return tbl[i].fn(file, (void __user *)arg, size);
	}
	return -ENOTTY;
}

/* Copy a struct out, zero-filling what the caller has beyond ours. */
int ipcbox_copy_out(void __user *uarg, size_t usize, const void *k,
		    size_t ksize)
{
	if (copy_to_user(uarg, k, min(usize, ksize)))
		return -EFAULT;
	if (usize > ksize && clear_user(uarg + ksize, usize - ksize))
		return -EFAULT;
	return 0;
}

static struct ipcbox_mailbox *ipcbox_find_name(const char *name)
{
	struct ipcbox_mailbox *mb;

	lockdep_assert_held(&ipcbox_mutex);
	list_for_each_entry(mb, &ipcbox_named, list)
		if (!strcmp(mb->name, name))
			return mb;
	return NULL;
}

struct ipcbox_mailbox *ipcbox_lookup_minor(int minor)
{
	struct ipcbox_mailbox *mb;

	mutex_lock(&ipcbox_mutex);
	mb = idr_find(&ipcbox_idr, minor);
	if (mb)
		ipcbox_mailbox_get(mb);
	mutex_unlock(&ipcbox_mutex);
	return mb;
}

/*
 * Names are 1-63 bytes of [A-Za-z0-9._-], not starting with a dot (no
 * "." or ".." in /dev/ipcbox) and not "control". Empty means anonymous.
 */
static int ipcbox_name_check(const char *name)
{
	size_t i, len = strnlen(name, IPCBOX_NAME_MAX);

	if (len == IPCBOX_NAME_MAX)
		return -ENAMETOOLONG;
	if (name[0] == '.' || !strcmp(name, "control"))
		return -EINVAL;
	for (i = 0; i < len; i++)
		if (!isalnum(name[i]) && !strchr("._-", name[i]))
			return -EINVAL;
	return 0;
}

static char *ipcbox_devnode(ipcbox_devnode_dev *dev, umode_t *mode,
			    kuid_t *uid, kgid_t *gid)
{
	struct ipcbox_mailbox *mb = dev_get_drvdata(dev);

	if (mode)
		*mode = mb->mode;
	if (uid)
		*uid = mb->uid;
	if (gid)
		*gid = mb->gid;
	/*
	 * Must not fail: without a name here the driver core falls back to
	 * dev_name(), so devtmpfs would make the node as /dev/NAME (with the
	 * mailbox's mode and owner) or, on removal, delete /dev/NAME and
	 * leave /dev/ipcbox/NAME behind, open to whoever gets the minor
	 * next. The string is short: __GFP_NOFAIL is cheap here.
	 */
	return kasprintf(GFP_KERNEL | __GFP_NOFAIL, "ipcbox/%s",
			 dev_name(dev));
}

static const struct device_type ipcbox_device_type = {
	.name = "ipcbox",
	.devnode = ipcbox_devnode,
};

static void ipcbox_device_release(struct device *dev)
{
	kfree(dev);
}

static struct device *ipcbox_device_create(struct ipcbox_mailbox *mb,
					   int minor)
{
	struct device *dev;
	int ret;

	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!dev)
		return ERR_PTR(-ENOMEM);
	device_initialize(dev);
	dev->devt = MKDEV(MAJOR(ipcbox_devt), minor);
	dev->class = ipcbox_class;
	dev->type = &ipcbox_device_type;
	dev->groups = ipcbox_mailbox_groups;
	dev->release = ipcbox_device_release;
	dev_set_drvdata(dev, mb);
	ret = dev_set_name(dev, "%s", mb->name);
	if (!ret)
		ret = device_add(dev);
	if (ret) {
		put_device(dev);
		return ERR_PTR(ret);
	}
	return dev;
}

static struct ipcbox_user *ipcbox_user_get(kuid_t uid)
{
	struct ipcbox_user *user;

	lockdep_assert_held(&ipcbox_mutex);
	list_for_each_entry(user, &ipcbox_users, list)
		if (uid_eq(user->uid, uid))
			return user;
	user = kzalloc(sizeof(*user), GFP_KERNEL);
	if (!user)
		return NULL;
	user->uid = uid;
	list_add(&user->list, &ipcbox_users);
	return user;
}

static void ipcbox_user_put(struct ipcbox_user *user)
{
	lockdep_assert_held(&ipcbox_mutex);
	if (!user->count) {
		list_del(&user->list);
		kfree(user);
	}
}

/* Count a new mailbox against the limits and, if named, publish it. */
static int ipcbox_register(struct ipcbox_mailbox *mb)
{
	struct ipcbox_user *user;
	struct device *dev;
	int minor, ret;

	mutex_lock(&ipcbox_mutex);
	ret = -ENOSPC;
	if (ipcbox_nr_mailboxes >= READ_ONCE(ipcbox_max_mailboxes))
		goto out_unlock;
	ret = -ENOMEM;
	user = ipcbox_user_get(mb->uid);
	if (!user)
		goto out_unlock;
	ret = -EDQUOT;
	if (user->count >= READ_ONCE(ipcbox_max_per_user))
		goto out_user;

	if (mb->name[0]) {
		ret = -EEXIST;
		if (ipcbox_find_name(mb->name))
			goto out_user;
		/*
		 * Cyclic, so that a freed minor is not handed out again at
		 * once: an open(2) that looked up an unlinked name's node
		 * must find nothing (ENOENT), not the next mailbox created.
		 */
		minor = idr_alloc_cyclic(&ipcbox_idr, mb, 0, IPCBOX_MINORS,
					 GFP_KERNEL);
		if (minor < 0) {
			ret = minor;
			goto out_user;
		}
		dev = ipcbox_device_create(mb, minor);
		if (IS_ERR(dev)) {
			ret = PTR_ERR(dev);
			idr_remove(&ipcbox_idr, minor);
			goto out_user;
		}
		mb->minor = minor;
		mb->dev = dev;
		list_add_tail(&mb->list, &ipcbox_named);
		/* The name's references: the mailbox, and the module. */
		ipcbox_mailbox_get(mb);
		__module_get(THIS_MODULE);
	}
	user->count++;
	mb->user = user;
	ipcbox_nr_mailboxes++;
	mutex_unlock(&ipcbox_mutex);
	return 0;

out_user:
	ipcbox_user_put(user);
out_unlock:
	mutex_unlock(&ipcbox_mutex);
	return ret;
}

/* The last reference to @mb is gone: return what it was counted for. */
void ipcbox_registry_release(struct ipcbox_mailbox *mb)
{
	if (!mb->user)
		return;
	mutex_lock(&ipcbox_mutex);
	mb->user->count--;
	ipcbox_user_put(mb->user);
	ipcbox_nr_mailboxes--;
	mutex_unlock(&ipcbox_mutex);
}

static long ipcbox_ioctl_info(struct file *ctl, void __user *uarg,
			      size_t usize)
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
		.default_msg_size = min(READ_ONCE(ipcbox_default_msg_size),
					ipcbox_msg_size_limit()),
	};

	mutex_lock(&ipcbox_mutex);
	info.nr_mailboxes = ipcbox_nr_mailboxes;
	mutex_unlock(&ipcbox_mutex);
	return ipcbox_copy_out(uarg, usize, &info, sizeof(info));
}

static long ipcbox_ioctl_create(struct file *ctl, void __user *uarg,
				size_t usize)
{
	struct ipcbox_mailbox *mb;
	struct ipcbox_create c;
	struct file *file;
	u32 size;
	int fd, ret;

	ret = copy_struct_from_user(&c, sizeof(c), uarg, usize);
	if (ret)
		return ret;
	/* An anonymous mailbox has no node: its mode is ignored. */
	if (!c.name[0])
		c.mode = 0;
	if (memchr_inv(c.__reserved, 0, sizeof(c.__reserved)) ||
	    (c.flags & ~IPCBOX_CREATE_FLAGS) || (c.mode & ~0666))
		return -EINVAL;
	ret = ipcbox_name_check(c.name);
	if (ret)
		return ret;
	if (c.capacity != IPCBOX_CAPACITY_UNBOUNDED &&
	    c.capacity > READ_ONCE(ipcbox_max_capacity))
		return -EINVAL;
	size = c.msg_size_max;
	if (!size)
		size = min(READ_ONCE(ipcbox_default_msg_size),
			   ipcbox_msg_size_limit());
	if (size > ipcbox_msg_size_limit())
		return -EINVAL;

	mb = ipcbox_mailbox_alloc(c.capacity, size);
	if (!mb)
		return -ENOMEM;
	mb->mode = c.mode & ~current_umask();
	strscpy(mb->name, c.name, sizeof(mb->name));

	fd = get_unused_fd_flags(c.flags & IPCBOX_CREATE_CLOEXEC ?
				 O_CLOEXEC : 0);
	if (fd < 0) {
		ret = fd;
		goto out_put;
	}
	file = ipcbox_file_create(mb, O_RDWR |
				  (c.flags & IPCBOX_CREATE_NONBLOCK ?
				   O_NONBLOCK : 0));
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		goto out_fd;
	}
	ret = ipcbox_register(mb);
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

static long ipcbox_ioctl_unlink(struct file *ctl, void __user *uarg,
				size_t usize)
{
	struct ipcbox_mailbox *mb;
	struct ipcbox_unlink u;
	struct device *dev;
	int ret;

	ret = copy_struct_from_user(&u, sizeof(u), uarg, usize);
	if (ret)
		return ret;
	if (memchr_inv(u.__reserved, 0, sizeof(u.__reserved)) || !u.name[0])
		return -EINVAL;
	ret = ipcbox_name_check(u.name);
	if (ret)
		return ret;

	mutex_lock(&ipcbox_mutex);
	mb = ipcbox_find_name(u.name);
	if (!mb) {
		mutex_unlock(&ipcbox_mutex);
		return -ENOENT;
	}
	if (!ipcbox_owner_or_capable(mb)) {
		mutex_unlock(&ipcbox_mutex);
		return -EPERM;
	}
	list_del_init(&mb->list);
	idr_remove(&ipcbox_idr, mb->minor);
	WRITE_ONCE(mb->unlinked, true);
	dev = mb->dev;
	mb->dev = NULL;
	device_unregister(dev);
	mutex_unlock(&ipcbox_mutex);

	ipcbox_mailbox_put(mb);
	module_put(THIS_MODULE);
	return 0;
}

static const struct ipcbox_ioctl ipcbox_control_ioctls[] = {
	{ IPCBOX_IOC_INFO, IPCBOX_INFO_SIZE_VER0, ipcbox_ioctl_info },
	{ IPCBOX_IOC_CREATE, IPCBOX_CREATE_SIZE_VER0, ipcbox_ioctl_create },
	{ IPCBOX_IOC_UNLINK, IPCBOX_UNLINK_SIZE_VER0, ipcbox_ioctl_unlink },
};

static long ipcbox_control_ioctl(struct file *file, unsigned int cmd,
				 unsigned long arg)
{
	return ipcbox_ioctl_dispatch(ipcbox_control_ioctls,
				     ARRAY_SIZE(ipcbox_control_ioctls),
				     file, cmd, arg);
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

static int __init ipcbox_init(void)
{
	int ret;

	ret = ipcbox_mailbox_init();
	if (ret)
		return ret;
	ret = alloc_chrdev_region(&ipcbox_devt, 0, IPCBOX_MINORS, "ipcbox");
	if (ret)
		goto out_mailbox;
	cdev_init(&ipcbox_cdev, &ipcbox_mailbox_fops);
	ipcbox_cdev.owner = THIS_MODULE;
	ret = cdev_add(&ipcbox_cdev, ipcbox_devt, IPCBOX_MINORS);
	if (ret)
		goto out_region;
	ipcbox_class = ipcbox_class_create("ipcbox");
	if (IS_ERR(ipcbox_class)) {
		ret = PTR_ERR(ipcbox_class);
		goto out_cdev;
	}
	ret = misc_register(&ipcbox_control);
	if (ret)
		goto out_class;
	pr_info("%s (ABI %d), /dev/ipcbox/control ready\n", IPCBOX_VERSION,
		IPCBOX_ABI_VERSION);
	return 0;

out_class:
	class_destroy(ipcbox_class);
out_cdev:
	cdev_del(&ipcbox_cdev);
out_region:
	unregister_chrdev_region(ipcbox_devt, IPCBOX_MINORS);
out_mailbox:
	ipcbox_mailbox_exit();
	return ret;
}

static void __exit ipcbox_exit(void)
{
	/* Every name holds a module reference, so none is left here. */
	misc_deregister(&ipcbox_control);
	class_destroy(ipcbox_class);
	cdev_del(&ipcbox_cdev);
	unregister_chrdev_region(ipcbox_devt, IPCBOX_MINORS);
	idr_destroy(&ipcbox_idr);
	ipcbox_mailbox_exit();
}

module_init(ipcbox_init);
module_exit(ipcbox_exit);

MODULE_DESCRIPTION("Kernel-mediated mailboxes, rendezvous and message queues");
MODULE_AUTHOR("The ipcbox developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(IPCBOX_VERSION);
