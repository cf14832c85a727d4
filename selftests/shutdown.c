// SPDX-License-Identifier: GPL-2.0
/*
 * SHUTDOWN: no more sends, receivers drain what is queued and then see
 * end-of-file, blocked senders and receivers are woken, and only the
 * owner (or CAP_IPC_OWNER) may shut a mailbox down.
 */
#include "ipcbox_test.h"
#include "kselftest_harness.h"

FIXTURE(shutdown) {
	int ctl;
	int fd;
	char name[IPCBOX_NAME_MAX];
};

FIXTURE_SETUP(shutdown)
{
	self->fd = -1;
	self->name[0] = '\0';
	CTL_OPEN_OR_SKIP(self->ctl);
	self->fd = mb_anon(self->ctl, 2, 64);
	ASSERT_GE(self->fd, 0) TH_LOG("create: %s", strerror(-self->fd));
}

FIXTURE_TEARDOWN(shutdown)
{
	close_fd(&self->fd);
	if (self->ctl >= 0 && self->name[0])
		mb_unlink(self->ctl, self->name);
	close_fd(&self->ctl);
}

TEST_F(shutdown, send_after_shutdown_is_epipe)
{
	struct sigaction sa = { .sa_handler = SIG_IGN };

	/* like a pipe, a write may raise SIGPIPE: ignore it to see EPIPE */
	ASSERT_EQ(0, sigaction(SIGPIPE, &sa, NULL));
	ASSERT_EQ(0, mb_shutdown(self->fd));
	EXPECT_EQ(-EPIPE, mb_send(self->fd, "x", 1, 0, -1));
	EXPECT_EQ(-1, write(self->fd, "x", 1));
	EXPECT_EQ(EPIPE, errno);
	EXPECT_EQ(0, mb_depth(self->fd));
}

TEST_F(shutdown, receivers_drain_queue_then_see_eof)
{
	char buf[64];

	ASSERT_EQ(0, mb_send_str(self->fd, "one"));
	ASSERT_EQ(0, mb_send_str(self->fd, "two"));
	ASSERT_EQ(0, mb_shutdown(self->fd));
	EXPECT_EQ(3, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "one", 3));
	EXPECT_EQ(3, mb_recv(self->fd, buf, sizeof(buf), 0, -1));
	EXPECT_EQ(0, memcmp(buf, "two", 3));
	EXPECT_EQ(0, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(-EPIPE, mb_recv(self->fd, buf, sizeof(buf), 0, -1));
	EXPECT_EQ(-EPIPE, mb_recv(self->fd, buf, sizeof(buf), IPCBOX_NONBLOCK, 0));
}

TEST_F(shutdown, blocked_receiver_is_woken_with_epipe)
{
	struct bg_op op;
	int64_t t0 = now_ns();

	bg_init(&op, BG_RECV, self->fd, 0);
	ASSERT_EQ(0, bg_start(&op));
	ASSERT_TRUE(mb_wait_waiters(self->fd, 0, 1, 3000));
	ASSERT_EQ(0, mb_shutdown(self->fd));
	bg_join(&op);
	EXPECT_EQ(-EPIPE, op.ret);
	EXPECT_LT(op.t_done - t0, 3 * NSEC_PER_SEC);
}

TEST_F(shutdown, blocked_reader_gets_end_of_file)
{
	struct bg_op op;

	bg_init(&op, BG_READ, self->fd, 0);
	ASSERT_EQ(0, bg_start(&op));
	ASSERT_TRUE(mb_wait_waiters(self->fd, 0, 1, 3000));
	ASSERT_EQ(0, mb_shutdown(self->fd));
	bg_join(&op);
	EXPECT_EQ(0, op.ret);
}

TEST_F(shutdown, blocked_sender_on_full_is_woken_with_epipe)
{
	struct bg_op op;
	char buf[64];

	ASSERT_EQ(0, mb_send_str(self->fd, "1"));
	ASSERT_EQ(0, mb_send_str(self->fd, "2"));
	bg_send_str(&op, self->fd, 0, "3");
	ASSERT_EQ(0, bg_start(&op));
	ASSERT_TRUE(mb_wait_waiters(self->fd, 1, 0, 3000));
	ASSERT_EQ(0, mb_shutdown(self->fd));
	bg_join(&op);
	EXPECT_EQ(-EPIPE, op.ret);
	/* what was queued before is still there, the refused one is not */
	EXPECT_EQ(1, mb_recv(self->fd, buf, sizeof(buf), 0, 0));
	EXPECT_EQ(1, mb_recv(self->fd, buf, sizeof(buf), 0, 0));
	EXPECT_EQ(-EPIPE, mb_recv(self->fd, buf, sizeof(buf), 0, 0));
}

TEST_F(shutdown, blocked_rendezvous_sender_is_woken_with_epipe)
{
	int fd = mb_anon(self->ctl, 0, 64);
	struct bg_op op;
	char buf[64];

	ASSERT_GE(fd, 0);
	bg_send_str(&op, fd, 0, "r");
	ASSERT_EQ(0, bg_start(&op));
	ASSERT_TRUE(mb_wait_waiters(fd, 1, 0, 3000));
	ASSERT_EQ(0, mb_shutdown(fd));
	bg_join(&op);
	EXPECT_EQ(-EPIPE, op.ret);
	EXPECT_EQ(-EPIPE, mb_recv(fd, buf, sizeof(buf), 0, 0));
	close(fd);
}

TEST_F(shutdown, blocked_sync_sender_is_woken_with_epipe_and_withdrawn)
{
	struct bg_op op;
	char buf[64];
	int r;

	bg_init(&op, BG_SEND, self->fd, 0);
	op.len = 1;
	op.buf[0] = 's';
	op.flags = IPCBOX_SEND_SYNC;
	ASSERT_EQ(0, bg_start(&op));
	sleep_ms(100);
	ASSERT_EQ(INT_MIN, op.ret);
	ASSERT_EQ(0, mb_shutdown(self->fd));
	bg_join(&op);
	r = mb_recv(self->fd, buf, sizeof(buf), 0, 0);
	/* failed sync sends never deliver */
	EXPECT_EQ(-EPIPE, op.ret);
	EXPECT_EQ(-EPIPE, r);
}

TEST_F(shutdown, stat_reports_shutdown_flag)
{
	struct ipcbox_stat st;

	ASSERT_EQ(0, mb_stat(self->fd, &st));
	EXPECT_EQ(0, st.flags & IPCBOX_STAT_SHUTDOWN);
	ASSERT_EQ(0, mb_shutdown(self->fd));
	ASSERT_EQ(0, mb_stat(self->fd, &st));
	EXPECT_EQ(IPCBOX_STAT_SHUTDOWN, st.flags & IPCBOX_STAT_SHUTDOWN);
}

TEST_F(shutdown, shutdown_through_a_named_node_affects_all_fds)
{
	char buf[64];
	int fd2;

	test_name(self->name, sizeof(self->name), "shut");
	close_fd(&self->fd);
	self->fd = mb_create(self->ctl, self->name, 2, 64, 0666, 0);
	ASSERT_GE(self->fd, 0);
	fd2 = mb_open(self->name, O_RDWR);
	ASSERT_GE(fd2, 0);
	ASSERT_EQ(0, mb_shutdown(fd2));
	EXPECT_EQ(-EPIPE, mb_send(self->fd, "x", 1, 0, 0));
	EXPECT_EQ(-EPIPE, mb_recv(self->fd, buf, sizeof(buf), 0, 0));
	close(fd2);
}

static int user_shutdown(void *arg)
{
	int fd = mb_open(arg, O_RDWR), ret;

	if (fd < 0)
		return 200;
	ret = mb_shutdown(fd);
	close(fd);
	return ret < 0 ? -ret : 0;
}

TEST_F(shutdown, only_the_owner_may_shut_down)
{
	struct ipcbox_stat st;
	mode_t old = umask(0);

	test_name(self->name, sizeof(self->name), "shut");
	close_fd(&self->fd);
	self->fd = mb_create(self->ctl, self->name, 2, 64, 0666, 0);
	umask(old);
	ASSERT_GE(self->fd, 0);
	EXPECT_EQ(EPERM, run_as_user(user_shutdown, self->name));
	ASSERT_EQ(0, mb_stat(self->fd, &st));
	EXPECT_EQ(0, st.flags & IPCBOX_STAT_SHUTDOWN);
	EXPECT_EQ(0, mb_send_str(self->fd, "still open"));
}

static int user_owner_shutdown(void *arg)
{
	int ctl = ctl_open(), fd, fd2, ret;

	if (ctl < 0)
		return 200;
	fd = mb_create(ctl, arg, 1, 0, 0600, 0);
	if (fd < 0)
		return 201;
	fd2 = mb_open(arg, O_RDWR);
	mb_unlink(ctl, arg);
	if (fd2 < 0)
		return 202;
	ret = mb_shutdown(fd2);
	return ret < 0 ? -ret : 0;
}

TEST_F(shutdown, unprivileged_owner_may_shut_down)
{
	char name[IPCBOX_NAME_MAX];

	test_name(name, sizeof(name), "own");
	EXPECT_EQ(0, run_as_user(user_owner_shutdown, name));
}

TEST_HARNESS_MAIN
