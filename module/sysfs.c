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

/* A counter or setting read from struct ipcbox_stat. */
struct ipcbox_stat_attr {
	struct device_attribute dattr;
	size_t offset;
	bool wide;
	const char *fmt;
};

static ssize_t ipcbox_stat_show(struct device *dev,
				struct device_attribute *dattr, char *buf)
{
	struct ipcbox_stat_attr *a = container_of(dattr, struct ipcbox_stat_attr,
						  dattr);
	struct ipcbox_stat st;
	const void *field = (const char *)&st + a->offset;

	ipcbox_mailbox_stat(ipcbox_dev_mailbox(dev), &st);
	if (a->wide)
		return sysfs_emit(buf, "%llu\n", *(const u64 *)field);
	return sysfs_emit(buf, a->fmt, *(const u32 *)field);
}

#define IPCBOX_STAT_ATTR(_field, _wide, _fmt)				\
static struct ipcbox_stat_attr ipcbox_attr_##_field = {			\
	.dattr = {							\
		.attr = { .name = #_field, .mode = 0444 },		\
		.show = ipcbox_stat_show,				\
	},								\
	.offset = offsetof(struct ipcbox_stat, _field),			\
	.wide = _wide,							\
	.fmt = _fmt "\n",						\
}

IPCBOX_STAT_ATTR(msg_size_max, false, "%u");
IPCBOX_STAT_ATTR(depth, false, "%u");
IPCBOX_STAT_ATTR(bytes, true, "%u");
IPCBOX_STAT_ATTR(waiting_senders, false, "%u");
IPCBOX_STAT_ATTR(waiting_receivers, false, "%u");
IPCBOX_STAT_ATTR(sent, true, "%u");
IPCBOX_STAT_ATTR(received, true, "%u");
IPCBOX_STAT_ATTR(timeouts, true, "%u");
IPCBOX_STAT_ATTR(cached, false, "%u");
IPCBOX_STAT_ATTR(mode, false, "%04o");

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

	ipcbox_mailbox_stat(ipcbox_dev_mailbox(dev), &st);
	return sysfs_emit(buf, "%u:%u\n", st.uid, st.gid);
}
static DEVICE_ATTR_RO(owner);

/* "shutdown" or "open". */
static ssize_t state_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct ipcbox_stat st;

	ipcbox_mailbox_stat(ipcbox_dev_mailbox(dev), &st);
	return sysfs_emit(buf, "%s\n", st.flags & IPCBOX_STAT_SHUTDOWN ?
			  "shutdown" : "open");
}
static DEVICE_ATTR_RO(state);

static struct attribute *ipcbox_mailbox_attrs[] = {
	&dev_attr_capacity.attr,
	&ipcbox_attr_msg_size_max.dattr.attr,
	&ipcbox_attr_depth.dattr.attr,
	&ipcbox_attr_bytes.dattr.attr,
	&ipcbox_attr_waiting_senders.dattr.attr,
	&ipcbox_attr_waiting_receivers.dattr.attr,
	&ipcbox_attr_sent.dattr.attr,
	&ipcbox_attr_received.dattr.attr,
	&ipcbox_attr_timeouts.dattr.attr,
	&ipcbox_attr_cached.dattr.attr,
	&dev_attr_owner.attr,
	&ipcbox_attr_mode.dattr.attr,
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
