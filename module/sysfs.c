// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/class/ipcbox/NAME/: a named mailbox's settings and live counters.
 *
 * All attributes are world-readable by design, as /proc/sysvipc/msg is:
 * they tell how busy a mailbox is, never what it carries.
 */
#include <linux/device.h>
#include <linux/sysfs.h>

#include "ipcbox.h"

static struct ipcbox_mailbox *ipcbox_dev_mailbox(struct device *dev)
{
	return dev_get_drvdata(dev);
}

#define IPCBOX_STAT_ATTR(field, fmt)					\
static ssize_t field##_show(struct device *dev,				\
			    struct device_attribute *attr, char *buf)	\
{									\
	struct ipcbox_stat st;						\
									\
	ipcbox_stat(ipcbox_dev_mailbox(dev), &st);			\
	return sysfs_emit(buf, fmt "\n", st.field);			\
}									\
static DEVICE_ATTR_RO(field)

IPCBOX_STAT_ATTR(msg_size_max, "%u");
IPCBOX_STAT_ATTR(depth, "%u");
IPCBOX_STAT_ATTR(bytes, "%llu");
IPCBOX_STAT_ATTR(waiting_senders, "%u");
IPCBOX_STAT_ATTR(waiting_receivers, "%u");
IPCBOX_STAT_ATTR(sent, "%llu");
IPCBOX_STAT_ATTR(received, "%llu");
IPCBOX_STAT_ATTR(timeouts, "%llu");
IPCBOX_STAT_ATTR(cached, "%u");
IPCBOX_STAT_ATTR(mode, "%04o");

/* A number, or "unbounded". */
static ssize_t capacity_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	u32 capacity = ipcbox_dev_mailbox(dev)->capacity;

	if (capacity == IPCBOX_CAPACITY_UNBOUNDED)
		return sysfs_emit(buf, "unbounded\n");
	return sysfs_emit(buf, "%u\n", capacity);
}
static DEVICE_ATTR_RO(capacity);

/* "uid:gid" in the reader's user namespace. */
static ssize_t owner_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct ipcbox_stat st;

	ipcbox_stat(ipcbox_dev_mailbox(dev), &st);
	return sysfs_emit(buf, "%u:%u\n", st.uid, st.gid);
}
static DEVICE_ATTR_RO(owner);

/* "shutdown" or "open". */
static ssize_t state_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct ipcbox_stat st;

	ipcbox_stat(ipcbox_dev_mailbox(dev), &st);
	return sysfs_emit(buf, "%s\n", st.flags & IPCBOX_STAT_SHUTDOWN ?
			  "shutdown" : "open");
}
static DEVICE_ATTR_RO(state);

static struct attribute *ipcbox_mailbox_attrs[] = {
	&dev_attr_capacity.attr,
	&dev_attr_msg_size_max.attr,
	&dev_attr_depth.attr,
	&dev_attr_bytes.attr,
	&dev_attr_waiting_senders.attr,
	&dev_attr_waiting_receivers.attr,
	&dev_attr_sent.attr,
	&dev_attr_received.attr,
	&dev_attr_timeouts.attr,
	&dev_attr_cached.attr,
	&dev_attr_owner.attr,
	&dev_attr_mode.attr,
	&dev_attr_state.attr,
	NULL,
};

static const struct attribute_group ipcbox_mailbox_group = {
	.attrs = ipcbox_mailbox_attrs,
};

const struct attribute_group *ipcbox_mailbox_groups[] = {
	&ipcbox_mailbox_group,
	NULL,
};
