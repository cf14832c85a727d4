// SPDX-License-Identifier: GPL-2.0
/*
 * ipcbox registry: the names of named mailboxes, their minor numbers and
 * their device nodes, /dev/ipcbox/NAME.
 *
 * Every named mailbox shares one cdev covering IPCBOX_MINORS minors; a
 * mailbox's struct device gives devtmpfs the node's name, owner and mode.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/cdev.h>
#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/wait.h>
#include <linux/xarray.h>

#include "compat.h"
#include "ipcbox.h"

/* Minor numbers for named mailboxes: a hard ceiling for max_mailboxes. */
#define IPCBOX_MINORS		65536

static DEFINE_MUTEX(ipcbox_mutex);
static LIST_HEAD(ipcbox_named);		/* named mailboxes, by @list */
static DEFINE_XARRAY_ALLOC(ipcbox_minors);	/* minor -> named mailbox */
static u32 ipcbox_next_minor;		/* where the cyclic search starts */

static dev_t ipcbox_devt;
static struct cdev ipcbox_cdev;
static struct class *ipcbox_class;

/* Devices whose release has not run yet: unloading waits for them. */
static atomic_t ipcbox_devices = ATOMIC_INIT(0);
static DECLARE_WAIT_QUEUE_HEAD(ipcbox_devices_wq);

bool ipcbox_owner_or_capable(const struct ipcbox_mailbox *mb)
{
	return uid_eq(current_euid(), mb->uid) ||
	       ns_capable(mb->user_ns, CAP_IPC_OWNER);
}

/* [A-Za-z0-9._-], in ASCII: the kernel's isalnum() knows Latin-1 too. */
static bool ipcbox_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/**
 * ipcbox_name_check() - is @name (an IPCBOX_NAME_MAX field) a valid name?
 * @name:	The field, as the caller passed it.
 *
 * Names are 1-63 bytes of [A-Za-z0-9._-], not starting with a dot (no
 * "." or ".." in /dev/ipcbox) and not "control", and the rest of the
 * field is zero, so that it can carry more one day. Empty means
 * anonymous.
 *
 * Return: 0, -ENAMETOOLONG or -EINVAL.
 */
int ipcbox_name_check(const char *name)
{
	size_t i, len = strnlen(name, IPCBOX_NAME_MAX);

	if (len == IPCBOX_NAME_MAX)
		return -ENAMETOOLONG;
	if (memchr_inv(name + len, 0, IPCBOX_NAME_MAX - len))
		return -EINVAL;
	if (name[0] == '.' || !strcmp(name, "control"))
		return -EINVAL;
	for (i = 0; i < len; i++)
		if (!ipcbox_name_char(name[i]))
			return -EINVAL;
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

/* The named mailbox behind a node's minor, referenced, or NULL. */
struct ipcbox_mailbox *ipcbox_lookup_minor(int minor)
{
	struct ipcbox_mailbox *mb;

	mutex_lock(&ipcbox_mutex);
	mb = xa_load(&ipcbox_minors, minor);
	if (mb)
		ipcbox_mailbox_get(mb);
	mutex_unlock(&ipcbox_mutex);
	return mb;
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

/*
 * Only a device type's devnode() gives the node an owner (a class's gives
 * a mode alone), so the device is made here rather than with
 * device_create_with_groups(), and its release is ours.
 */
static const struct device_type ipcbox_device_type = {
	.name = "ipcbox",
	.devnode = ipcbox_devnode,
};

static void ipcbox_device_release(struct device *dev)
{
	kfree(dev);
	if (atomic_dec_and_test(&ipcbox_devices))
		wake_up(&ipcbox_devices_wq);
}

static struct device *ipcbox_device_create(struct ipcbox_mailbox *mb,
					   int minor)
{
	struct device *dev;
	int ret;

	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!dev)
		return ERR_PTR(-ENOMEM);
	atomic_inc(&ipcbox_devices);
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

/* Give named @mb a minor and a node; the registry's lock is held. */
static int ipcbox_publish(struct ipcbox_mailbox *mb)
{
	struct device *dev;
	u32 minor;
	int ret;

	lockdep_assert_held(&ipcbox_mutex);
	if (ipcbox_find_name(mb->name))
		return -EEXIST;
	/*
	 * Cyclic, so that a freed minor is not handed out again at once: an
	 * open(2) that looked up an unlinked name's node must find nothing
	 * (ENOENT), not the next mailbox created.
	 */
	ret = xa_alloc_cyclic(&ipcbox_minors, &minor, mb,
			      XA_LIMIT(0, IPCBOX_MINORS - 1),
			      &ipcbox_next_minor, GFP_KERNEL);
	if (ret < 0)
		return ret == -EBUSY ? -ENOSPC : ret;
	dev = ipcbox_device_create(mb, minor);
	if (IS_ERR(dev)) {
		xa_erase(&ipcbox_minors, minor);
		return PTR_ERR(dev);
	}
	mb->minor = minor;
	mb->dev = dev;
	list_add_tail(&mb->list, &ipcbox_named);
	/* The name's references: the mailbox, and the module. */
	ipcbox_mailbox_get(mb);
	__module_get(THIS_MODULE);
	return 0;
}

/**
 * ipcbox_registry_add() - count a new mailbox and, if named, publish it
 * @mb:		The mailbox, its name set (or empty).
 *
 * Return: 0, or -ENOSPC, -EDQUOT (limits), -EEXIST (the name is taken),
 * -ENOMEM.
 */
int ipcbox_registry_add(struct ipcbox_mailbox *mb)
{
	struct ipcbox_quota *quota;
	int ret = 0;

	quota = ipcbox_quota_charge();
	if (IS_ERR(quota))
		return PTR_ERR(quota);
	if (mb->name[0]) {
		mutex_lock(&ipcbox_mutex);
		ret = ipcbox_publish(mb);
		mutex_unlock(&ipcbox_mutex);
	}
	if (ret) {
		ipcbox_quota_uncharge(quota);
		return ret;
	}
	/* Handed back when the mailbox is freed. */
	mb->quota = quota;
	return 0;
}

/**
 * ipcbox_registry_unlink() - remove a name; its mailbox lives on with its fds
 * @name:	A checked name.
 *
 * Return: 0, or -ENOENT (no such name), -EPERM (not the owner, nor
 * CAP_IPC_OWNER in the mailbox's user namespace).
 */
int ipcbox_registry_unlink(const char *name)
{
	struct ipcbox_mailbox *mb;
	struct device *dev;

	mutex_lock(&ipcbox_mutex);
	mb = ipcbox_find_name(name);
	if (!mb || !ipcbox_owner_or_capable(mb)) {
		mutex_unlock(&ipcbox_mutex);
		return mb ? -EPERM : -ENOENT;
	}
	list_del_init(&mb->list);
	xa_erase(&ipcbox_minors, mb->minor);
	WRITE_ONCE(mb->unlinked, true);
	dev = mb->dev;
	mb->dev = NULL;
	device_unregister(dev);
	mutex_unlock(&ipcbox_mutex);

	ipcbox_mailbox_put(mb);
	module_put(THIS_MODULE);
	return 0;
}

int __init ipcbox_registry_init(const struct file_operations *fops)
{
	int ret;

	ret = alloc_chrdev_region(&ipcbox_devt, 0, IPCBOX_MINORS, "ipcbox");
	if (ret)
		return ret;
	cdev_init(&ipcbox_cdev, fops);
	ipcbox_cdev.owner = THIS_MODULE;
	ret = cdev_add(&ipcbox_cdev, ipcbox_devt, IPCBOX_MINORS);
	if (ret)
		goto out_region;
	ipcbox_class = ipcbox_class_create("ipcbox");
	if (IS_ERR(ipcbox_class)) {
		ret = PTR_ERR(ipcbox_class);
		goto out_cdev;
	}
	return 0;

out_cdev:
	cdev_del(&ipcbox_cdev);
out_region:
	unregister_chrdev_region(ipcbox_devt, IPCBOX_MINORS);
	return ret;
}

void ipcbox_registry_exit(void)
{
	/* Every name holds a module reference, so none is left here. */
	WARN_ON(!xa_empty(&ipcbox_minors));
	/* A device's last reference may go after its unregistration. */
	wait_event(ipcbox_devices_wq, !atomic_read(&ipcbox_devices));
	class_destroy(ipcbox_class);
	cdev_del(&ipcbox_cdev);
	unregister_chrdev_region(ipcbox_devt, IPCBOX_MINORS);
	xa_destroy(&ipcbox_minors);
}
