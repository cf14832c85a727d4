// SPDX-License-Identifier: GPL-2.0
/*
 * STAT: settings and live counters of a mailbox, and the sysfs attributes
 * of a named mailbox reporting the same values.
 */
#include "ipcbox_test.h"
#include "kselftest_harness.h"

FIXTURE(stat) {
	int ctl;
	int fd;
	char name[IPCBOX_NAME_MAX];
};

FIXTURE_SETUP(stat)
{
	mode_t old;

	self->fd = -1;
	self->name[0] = '\0';
	CTL_OPEN_OR_SKIP(self->ctl);
	test_name(self->name, sizeof(self->name), "stat");
	old = umask(0);
	self->fd = mb_create(self->ctl, self->name, 2, 64, 0640, 0);
	umask(old);
	ASSERT_GE(self->fd, 0) TH_LOG("create: %s", strerror(-self->fd));
}

FIXTURE_TEARDOWN(stat)
{
	close_fd(&self->fd);
	if (self->ctl >= 0 && self->name[0])
		mb_unlink(self->ctl, self->name);
	close_fd(&self->ctl);
}

TEST_F(stat, fresh_mailbox_reports_settings_and_zero_counters)
{
	struct ipcbox_stat st;
	size_t i;

	memset(&st, 0xa5, sizeof(st));
	ASSERT_EQ(0, sys_ioctl(self->fd, IPCBOX_IOC_STAT, &st));
	EXPECT_EQ(2, st.capacity);
	EXPECT_EQ(64, st.msg_size_max);
	EXPECT_EQ(0640, st.mode & 07777);
	EXPECT_EQ(0, st.depth);
	EXPECT_EQ(0, st.bytes);
	EXPECT_EQ(0, st.waiting_senders);
	EXPECT_EQ(0, st.waiting_receivers);
	EXPECT_EQ(0, st.sent);
	EXPECT_EQ(0, st.received);
	EXPECT_EQ(0, st.timeouts);
	EXPECT_EQ(0, st.cached);
	EXPECT_EQ(getuid(), st.uid);
	EXPECT_EQ(getgid(), st.gid);
	EXPECT_EQ(IPCBOX_STAT_NAMED, st.flags);
	EXPECT_STREQ(self->name, st.name);
	EXPECT_EQ(0, st.pending);
	EXPECT_EQ(0, st.calls);
	EXPECT_EQ(0, st.abandoned);
	EXPECT_EQ(0, st.charge);
	EXPECT_EQ(0, st.__reserved0);
	/* every byte is written: the name field is zero past the name too */
	for (i = strlen(self->name); i < sizeof(st.name); i++)
		if (st.name[i])
			break;
	EXPECT_EQ(sizeof(st.name), i) TH_LOG("name byte %zu not zeroed", i);
}

TEST_F(stat, counts_depth_bytes_sent_and_received)
{
	struct ipcbox_stat st;
	char buf[64];

	ASSERT_EQ(0, mb_send(self->fd, "abcde", 5, 0, 0));
	ASSERT_EQ(0, mb_send(self->fd, "xyz", 3, 0, 0));
	ASSERT_EQ(0, mb_stat(self->fd, &st));
	EXPECT_EQ(2, st.depth);
	EXPECT_EQ(8, st.bytes);
	EXPECT_EQ(2, st.sent);
	EXPECT_EQ(0, st.received);
	ASSERT_EQ(5, mb_recv(self->fd, buf, sizeof(buf), 0, 0));
	ASSERT_EQ(0, mb_stat(self->fd, &st));
	EXPECT_EQ(1, st.depth);
	EXPECT_EQ(3, st.bytes);
	EXPECT_EQ(2, st.sent);
	EXPECT_EQ(1, st.received);
}

TEST_F(stat, peek_does_not_count_as_received)
{
	struct ipcbox_stat st;
	char buf[64];

	ASSERT_EQ(0, mb_send(self->fd, "abcde", 5, 0, 0));
	ASSERT_EQ(5, mb_recv(self->fd, buf, sizeof(buf), IPCBOX_RECV_PEEK, 0));
	ASSERT_EQ(0, mb_stat(self->fd, &st));
	EXPECT_EQ(1, st.depth);
	EXPECT_EQ(0, st.received);
}

TEST_F(stat, counts_waiting_receivers)
{
	struct bg_op op[2];
	struct ipcbox_stat st;
	int i;

	for (i = 0; i < 2; i++) {
		bg_init(&op[i], BG_RECV, self->fd, 0);
		ASSERT_EQ(0, bg_start(&op[i]));
	}
	EXPECT_TRUE(mb_wait_waiters(self->fd, 0, 2, 2000));
	ASSERT_EQ(0, mb_stat(self->fd, &st));
	EXPECT_EQ(2, st.waiting_receivers);
	EXPECT_EQ(0, st.waiting_senders);
	ASSERT_EQ(0, mb_send_str(self->fd, "1"));
	ASSERT_EQ(0, mb_send_str(self->fd, "2"));
	for (i = 0; i < 2; i++) {
		bg_join(&op[i]);
		EXPECT_EQ(1, op[i].ret);
	}
	ASSERT_EQ(0, mb_stat(self->fd, &st));
	EXPECT_EQ(0, st.waiting_receivers);
}

TEST_F(stat, counts_waiting_senders)
{
	struct bg_op op;
	struct ipcbox_stat st;
	char buf[64];

	ASSERT_EQ(0, mb_send_str(self->fd, "1"));
	ASSERT_EQ(0, mb_send_str(self->fd, "2"));
	bg_send_str(&op, self->fd, 0, "3");
	ASSERT_EQ(0, bg_start(&op));
	EXPECT_TRUE(mb_wait_waiters(self->fd, 1, 0, 2000));
	ASSERT_EQ(0, mb_stat(self->fd, &st));
	EXPECT_EQ(1, st.waiting_senders);
	EXPECT_EQ(2, st.depth);
	ASSERT_EQ(1, mb_recv(self->fd, buf, sizeof(buf), 0, 0));
	bg_join(&op);
	EXPECT_EQ(0, op.ret);
	ASSERT_EQ(0, mb_stat(self->fd, &st));
	EXPECT_EQ(0, st.waiting_senders);
	EXPECT_EQ(2, st.depth);
}

TEST_F(stat, counts_timeouts_of_sends_and_receives)
{
	struct ipcbox_stat st;
	char buf[64];

	ASSERT_EQ(-ETIMEDOUT, mb_recv(self->fd, buf, sizeof(buf), 0, 20 * NSEC_PER_MSEC));
	ASSERT_EQ(0, mb_send_str(self->fd, "1"));
	ASSERT_EQ(0, mb_send_str(self->fd, "2"));
	ASSERT_EQ(-ETIMEDOUT, mb_send(self->fd, "3", 1, 0, 20 * NSEC_PER_MSEC));
	ASSERT_EQ(0, mb_stat(self->fd, &st));
	EXPECT_EQ(2, st.timeouts);
}

TEST_F(stat, smaller_size_is_einval_larger_is_zero_filled)
{
	unsigned char buf[IPCBOX_STAT_SIZE_VER0 + 32];
	struct ipcbox_stat *st = (void *)buf;
	size_t i;

	EXPECT_EQ(-EINVAL, sys_ioctl(self->fd, ioc_resize(IPCBOX_IOC_STAT, 64), buf));
	memset(buf, 0xa5, sizeof(buf));
	ASSERT_EQ(0, sys_ioctl(self->fd, ioc_resize(IPCBOX_IOC_STAT, sizeof(buf)), buf));
	EXPECT_EQ(2, st->capacity);
	for (i = IPCBOX_STAT_SIZE_VER0; i < sizeof(buf); i++)
		if (buf[i])
			break;
	EXPECT_EQ(sizeof(buf), i);
}

TEST_F(stat, sysfs_counters_agree_with_stat)
{
	static const char * const attrs[] = {
		"capacity", "msg_size_max", "depth", "bytes",
		"waiting_senders", "waiting_receivers", "sent", "received",
		"timeouts",
	};
	struct ipcbox_stat st;
	unsigned long long v[9], want[9];
	struct bg_op op;
	char buf[64];
	unsigned int i;

	ASSERT_EQ(-ETIMEDOUT, mb_recv(self->fd, buf, sizeof(buf), 0, 10 * NSEC_PER_MSEC));
	ASSERT_EQ(0, mb_send(self->fd, "abcd", 4, 0, 0));
	ASSERT_EQ(0, mb_send(self->fd, "ef", 2, 0, 0));
	ASSERT_EQ(4, mb_recv(self->fd, buf, sizeof(buf), 0, 0));
	ASSERT_EQ(0, mb_send(self->fd, "ghi", 3, 0, 0));
	/* one sender parked on the full queue */
	bg_send_str(&op, self->fd, 0, "j");
	ASSERT_EQ(0, bg_start(&op));
	ASSERT_TRUE(mb_wait_waiters(self->fd, 1, 0, 2000));

	ASSERT_EQ(0, mb_stat(self->fd, &st));
	for (i = 0; i < 9; i++)
		ASSERT_EQ(0, sysfs_attr_u64(self->name, attrs[i], &v[i]))
			TH_LOG("attr #%u", i);
	want[0] = st.capacity;
	want[1] = st.msg_size_max;
	want[2] = st.depth;
	want[3] = st.bytes;
	want[4] = st.waiting_senders;
	want[5] = st.waiting_receivers;
	want[6] = st.sent;
	want[7] = st.received;
	want[8] = st.timeouts;
	for (i = 0; i < 9; i++)
		EXPECT_EQ(want[i], v[i]) TH_LOG("sysfs attr #%u", i);
	EXPECT_EQ(2, st.depth);
	EXPECT_EQ(5, st.bytes);
	EXPECT_EQ(1, st.waiting_senders);
	EXPECT_EQ(3, st.sent);
	EXPECT_EQ(1, st.received);
	EXPECT_EQ(1, st.timeouts);

	ASSERT_EQ(2, mb_recv(self->fd, buf, sizeof(buf), 0, 0));
	bg_join(&op);
	EXPECT_EQ(0, op.ret);
}

TEST_F(stat, unlinked_and_shutdown_flags)
{
	struct ipcbox_stat st;

	ASSERT_EQ(0, mb_unlink(self->ctl, self->name));
	ASSERT_EQ(0, mb_stat(self->fd, &st));
	EXPECT_EQ(IPCBOX_STAT_NAMED | IPCBOX_STAT_UNLINKED, st.flags);
	EXPECT_STREQ(self->name, st.name);
	self->name[0] = '\0';
	ASSERT_EQ(0, mb_shutdown(self->fd));
	ASSERT_EQ(0, mb_stat(self->fd, &st));
	EXPECT_EQ(IPCBOX_STAT_NAMED | IPCBOX_STAT_UNLINKED | IPCBOX_STAT_SHUTDOWN, st.flags);
}

TEST_F(stat, sysfs_reports_cached_messages_and_state)
{
	unsigned long long v;
	char buf[64];

	ASSERT_EQ(0, mb_send_str(self->fd, "1"));
	ASSERT_EQ(0, mb_send_str(self->fd, "2"));
	ASSERT_EQ(0, mb_send(self->fd, "c", 1, IPCBOX_SEND_CACHE, -1));
	ASSERT_EQ(0, sysfs_attr_u64(self->name, "cached", &v));
	EXPECT_EQ(1, v);
	ASSERT_LT(0, sysfs_attr_str(self->name, "state", buf, sizeof(buf)));
	EXPECT_STREQ("open", buf);
	ASSERT_EQ(0, mb_shutdown(self->fd));
	ASSERT_LT(0, sysfs_attr_str(self->name, "state", buf, sizeof(buf)));
	EXPECT_STREQ("shutdown", buf);
}

TEST_F(stat, sysfs_capacity_of_unbounded_reads_unbounded)
{
	char name[IPCBOX_NAME_MAX], buf[64];
	int fd;

	test_name(name, sizeof(name), "unb");
	fd = mb_create(self->ctl, name, IPCBOX_CAPACITY_UNBOUNDED, 0, 0600, 0);
	ASSERT_GE(fd, 0);
	EXPECT_LT(0, sysfs_attr_str(name, "capacity", buf, sizeof(buf)));
	mb_unlink(self->ctl, name);
	close(fd);
	EXPECT_STREQ("unbounded", buf);
}

TEST_F(stat, bad_pointer_is_efault)
{
	EXPECT_EQ(-EFAULT, sys_ioctl(self->fd, IPCBOX_IOC_STAT, (void *)8));
}

TEST_HARNESS_MAIN
