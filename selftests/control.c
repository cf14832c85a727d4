// SPDX-License-Identifier: GPL-2.0
/*
 * Control plane of ipcbox: /dev/ipcbox/control, INFO (including the
 * size-versioned ioctl number), unknown ioctls and the module reference
 * a named mailbox holds.
 */
#include "ipcbox_test.h"
#include "kselftest_harness.h"

#define ALL_FEATURES	(IPCBOX_FEAT_NAMED | IPCBOX_FEAT_ANON | \
			 IPCBOX_FEAT_RENDEZVOUS | IPCBOX_FEAT_UNBOUNDED | \
			 IPCBOX_FEAT_SYNC | IPCBOX_FEAT_CACHE | \
			 IPCBOX_FEAT_FILTER | IPCBOX_FEAT_PEEK | \
			 IPCBOX_FEAT_SHUTDOWN | IPCBOX_FEAT_FASYNC)

FIXTURE(control) {
	int ctl;
	int fd;
	char name[3][IPCBOX_NAME_MAX];
};

FIXTURE_SETUP(control)
{
	self->fd = -1;
	memset(self->name, 0, sizeof(self->name));
	CTL_OPEN_OR_SKIP(self->ctl);
}

FIXTURE_TEARDOWN(control)
{
	int i;

	for (i = 0; i < 3; i++)
		if (self->name[i][0] && self->ctl >= 0)
			mb_unlink(self->ctl, self->name[i]);
	close_fd(&self->fd);
	close_fd(&self->ctl);
}

TEST_F(control, node_is_char_device_mode_0666_owned_by_root)
{
	struct stat st;

	ASSERT_EQ(0, stat(IPCBOX_CONTROL_PATH, &st)) TH_LOG("stat: %m");
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0666, st.st_mode & 07777);
	EXPECT_EQ(0, st.st_uid);
}

TEST_F(control, info_reports_abi_version)
{
	struct ipcbox_info info;

	ASSERT_EQ(0, ipcbox_get_info(self->ctl, &info));
	EXPECT_EQ(IPCBOX_ABI_VERSION, info.abi_version);
	EXPECT_EQ(IPCBOX_PRIO_MAX, info.nr_priorities);
}

TEST_F(control, info_reports_all_features)
{
	struct ipcbox_info info;

	ASSERT_EQ(0, ipcbox_get_info(self->ctl, &info));
	EXPECT_EQ(ALL_FEATURES, info.features & ALL_FEATURES)
		TH_LOG("features 0x%llx", (unsigned long long)info.features);
}

/*
 * The struct has no reserved fields any more: the kernel fills every byte
 * of it, so what the buffer held before does not show through. Two INFOs
 * into buffers filled with different patterns read the same.
 */
TEST_F(control, info_fills_every_byte_of_the_struct)
{
	struct ipcbox_info a, b;

	EXPECT_EQ(IPCBOX_INFO_SIZE_VER0, sizeof(struct ipcbox_info));
	EXPECT_EQ(IPCBOX_INFO_SIZE_VER0, _IOC_SIZE(IPCBOX_IOC_INFO));
	memset(&a, 0xa5, sizeof(a));
	memset(&b, 0x00, sizeof(b));
	ASSERT_EQ(0, sys_ioctl(self->ctl, IPCBOX_IOC_INFO, &a));
	ASSERT_EQ(0, sys_ioctl(self->ctl, IPCBOX_IOC_INFO, &b));
	EXPECT_EQ(2, a.abi_version);
	EXPECT_EQ(IPCBOX_PRIO_MAX, a.nr_priorities);
	/* the one field that may change between the two calls */
	EXPECT_NE(0xa5a5a5a5U, a.nr_mailboxes);
	b.nr_mailboxes = a.nr_mailboxes;
	EXPECT_EQ(0, memcmp(&a, &b, sizeof(a)));
}

TEST_F(control, info_limits_match_module_parameters)
{
	struct ipcbox_info info;
	unsigned long long v;

	ASSERT_EQ(0, ipcbox_get_info(self->ctl, &info));
	ASSERT_EQ(0, param_get("max_mailboxes", &v));
	EXPECT_EQ(v, info.max_mailboxes);
	ASSERT_EQ(0, param_get("max_per_user", &v));
	EXPECT_EQ(v, info.max_per_user);
	ASSERT_EQ(0, param_get("max_msg_size", &v));
	EXPECT_EQ(v, info.max_msg_size);
	ASSERT_EQ(0, param_get("max_capacity", &v));
	EXPECT_EQ(v, info.max_capacity);
	ASSERT_EQ(0, param_get("max_unbounded_bytes", &v));
	EXPECT_EQ(v, info.max_unbounded_bytes);
	EXPECT_GT(info.default_msg_size, 0);
	EXPECT_LE(info.default_msg_size, info.max_msg_size);
}

TEST_F(control, info_counts_mailboxes_in_existence)
{
	struct ipcbox_info before, during, after;

	ASSERT_EQ(0, ipcbox_get_info(self->ctl, &before));
	self->fd = mb_anon(self->ctl, 1, 0);
	ASSERT_GE(self->fd, 0);
	ASSERT_EQ(0, ipcbox_get_info(self->ctl, &during));
	EXPECT_EQ(before.nr_mailboxes + 1, during.nr_mailboxes);
	close_fd(&self->fd);
	ASSERT_EQ(0, ipcbox_get_info(self->ctl, &after));
	EXPECT_EQ(before.nr_mailboxes, after.nr_mailboxes);
}

TEST_F(control, info_size_below_ver0_is_einval)
{
	char buf[IPCBOX_INFO_SIZE_VER0];
	unsigned long cmd = _IOC(_IOC_READ, IPCBOX_IOC_MAGIC, 0x00,
				 IPCBOX_INFO_SIZE_VER0 - 8);

	EXPECT_EQ(-EINVAL, sys_ioctl(self->ctl, cmd, buf));
	cmd = _IOC(_IOC_READ, IPCBOX_IOC_MAGIC, 0x00, 4);
	EXPECT_EQ(-EINVAL, sys_ioctl(self->ctl, cmd, buf));
}

TEST_F(control, info_larger_size_zero_fills_tail)
{
	unsigned char buf[IPCBOX_INFO_SIZE_VER0 + 64];
	struct ipcbox_info *info = (void *)buf;
	unsigned long cmd = _IOC(_IOC_READ, IPCBOX_IOC_MAGIC, 0x00, sizeof(buf));
	size_t i;

	memset(buf, 0xa5, sizeof(buf));
	ASSERT_EQ(0, sys_ioctl(self->ctl, cmd, buf));
	EXPECT_EQ(IPCBOX_ABI_VERSION, info->abi_version);
	for (i = IPCBOX_INFO_SIZE_VER0; i < sizeof(buf); i++)
		if (buf[i])
			break;
	EXPECT_EQ(sizeof(buf), i) TH_LOG("byte %zu of the tail not zeroed", i);
}

TEST_F(control, info_exact_ver0_size_works)
{
	struct ipcbox_info info;
	unsigned long cmd = _IOC(_IOC_READ, IPCBOX_IOC_MAGIC, 0x00,
				 IPCBOX_INFO_SIZE_VER0);

	memset(&info, 0, sizeof(info));
	ASSERT_EQ(0, sys_ioctl(self->ctl, cmd, &info));
	EXPECT_EQ(IPCBOX_ABI_VERSION, info.abi_version);
}

TEST_F(control, info_bad_pointer_is_efault)
{
	EXPECT_EQ(-EFAULT, sys_ioctl(self->ctl, IPCBOX_IOC_INFO, (void *)8));
}

TEST_F(control, unknown_ioctl_on_control_is_enotty)
{
	char buf[256] = { 0 };

	EXPECT_EQ(-ENOTTY, sys_ioctl(self->ctl, _IOR(IPCBOX_IOC_MAGIC, 0x7f, int), buf));
	EXPECT_EQ(-ENOTTY, sys_ioctl(self->ctl, _IO('T', 0x42), buf));
	/* mailbox commands mean nothing on the control node */
	EXPECT_EQ(-ENOTTY, sys_ioctl(self->ctl, IPCBOX_IOC_SEND, buf));
	EXPECT_EQ(-ENOTTY, sys_ioctl(self->ctl, IPCBOX_IOC_SHUTDOWN, NULL));
	/* ABI 1's CREATE and UNLINK (0x01, 0x02) were renumbered: gone */
	EXPECT_EQ(-ENOTTY, sys_ioctl(self->ctl, _IOC(_IOC_WRITE, IPCBOX_IOC_MAGIC,
						      0x01, 112), buf));
	EXPECT_EQ(-ENOTTY, sys_ioctl(self->ctl, _IOC(_IOC_WRITE, IPCBOX_IOC_MAGIC,
						      0x02, 80), buf));
}

TEST_F(control, unknown_ioctl_on_mailbox_is_enotty)
{
	char buf[256] = { 0 };

	self->fd = mb_anon(self->ctl, 1, 0);
	ASSERT_GE(self->fd, 0);
	EXPECT_EQ(-ENOTTY, sys_ioctl(self->fd, _IOR(IPCBOX_IOC_MAGIC, 0x7f, int), buf));
	EXPECT_EQ(-ENOTTY, sys_ioctl(self->fd, _IO('T', 0x42), buf));
	/* control commands mean nothing on a mailbox */
	EXPECT_EQ(-ENOTTY, sys_ioctl(self->fd, IPCBOX_IOC_CREATE, buf));
	EXPECT_EQ(-ENOTTY, sys_ioctl(self->fd, IPCBOX_IOC_INFO, buf));
	/* ABI 1's SEND and RECV (0x10, 0x11) were renumbered: gone */
	EXPECT_EQ(-ENOTTY, sys_ioctl(self->fd, _IOC(_IOC_READ | _IOC_WRITE,
						     IPCBOX_IOC_MAGIC, 0x10, 64), buf));
	EXPECT_EQ(-ENOTTY, sys_ioctl(self->fd, _IOC(_IOC_READ | _IOC_WRITE,
						     IPCBOX_IOC_MAGIC, 0x11, 120), buf));
}

static int user_queries_info(void *arg)
{
	struct ipcbox_info info;
	int fd = ctl_open();

	(void)arg;
	if (fd < 0)
		return 1;
	if (ipcbox_get_info(fd, &info) || info.abi_version != IPCBOX_ABI_VERSION)
		return 2;
	return 0;
}

TEST_F(control, control_usable_by_unprivileged_user)
{
	EXPECT_EQ(0, run_as_user(user_queries_info, NULL));
}

TEST_F(control, refcnt_rises_by_one_per_named_mailbox)
{
	int base, i, fd;

	base = module_refcnt();
	if (base < 0)
		SKIP(return, "%s not readable", SYSFS_REFCNT);
	for (i = 0; i < 3; i++) {
		test_name(self->name[i], sizeof(self->name[i]), "ref");
		fd = mb_create(self->ctl, self->name[i], 1, 0, 0600, 0);
		ASSERT_GE(fd, 0);
		close(fd);
		EXPECT_EQ(base + i + 1, module_refcnt());
	}
}

TEST_F(control, refcnt_falls_after_unlink_and_close)
{
	int base;

	base = module_refcnt();
	if (base < 0)
		SKIP(return, "%s not readable", SYSFS_REFCNT);
	test_name(self->name[0], sizeof(self->name[0]), "ref");
	self->fd = mb_create(self->ctl, self->name[0], 1, 0, 0600, 0);
	ASSERT_GE(self->fd, 0);
	EXPECT_LT(base, module_refcnt());
	ASSERT_EQ(0, mb_unlink(self->ctl, self->name[0]));
	self->name[0][0] = '\0';
	close_fd(&self->fd);
	EXPECT_EQ(base, module_refcnt());
}

TEST_HARNESS_MAIN
