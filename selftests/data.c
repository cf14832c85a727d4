// SPDX-License-Identifier: GPL-2.0
/*
 * Data plane through read(2)/write(2): one message per call, boundaries,
 * sizes, blocking, O_NONBLOCK, access modes, and sharing a mailbox across
 * fork and between processes that open the same name.
 */
#include "ipcbox_test.h"
#include "kselftest_harness.h"

#define CAP	4
#define MSZ	256

FIXTURE(data) {
	int ctl;
	int fd;		/* anonymous, capacity CAP, MSZ bytes */
	int rfd;	/* named, O_RDONLY */
	int wfd;	/* named, O_WRONLY */
	int nfd;	/* named, from CREATE */
	char name[IPCBOX_NAME_MAX];
};

FIXTURE_SETUP(data)
{
	self->ctl = -1;
	self->fd = -1;
	self->rfd = -1;
	self->wfd = -1;
	self->nfd = -1;
	self->name[0] = '\0';
	CTL_OPEN_OR_SKIP(self->ctl);
	self->fd = mb_anon(self->ctl, CAP, MSZ);
	ASSERT_GE(self->fd, 0) TH_LOG("create: %s", strerror(-self->fd));
}

FIXTURE_TEARDOWN(data)
{
	close_fd(&self->fd);
	close_fd(&self->rfd);
	close_fd(&self->wfd);
	close_fd(&self->nfd);
	if (self->ctl >= 0 && self->name[0])
		mb_unlink(self->ctl, self->name);
	close_fd(&self->ctl);
}

/* Make a named mailbox and open it read-only and write-only. */
static int open_named(FIXTURE_DATA(data) *self)
{
	test_name(self->name, sizeof(self->name), "data");
	self->nfd = mb_create(self->ctl, self->name, CAP, MSZ, 0600, 0);
	if (self->nfd < 0)
		return self->nfd;
	self->rfd = mb_open(self->name, O_RDONLY);
	self->wfd = mb_open(self->name, O_WRONLY);
	return self->rfd < 0 ? self->rfd : self->wfd < 0 ? self->wfd : 0;
}

TEST_F(data, write_then_read_one_message)
{
	char buf[MSZ];

	ASSERT_EQ(5, write(self->fd, "hello", 5));
	EXPECT_EQ(1, mb_depth(self->fd));
	EXPECT_EQ(5, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "hello", 5));
	EXPECT_EQ(0, mb_depth(self->fd));
}

TEST_F(data, message_boundaries_are_preserved)
{
	char buf[MSZ];

	ASSERT_EQ(1, write(self->fd, "a", 1));
	ASSERT_EQ(2, write(self->fd, "bb", 2));
	ASSERT_EQ(3, write(self->fd, "ccc", 3));
	EXPECT_EQ(1, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ('a', buf[0]);
	EXPECT_EQ(2, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "bb", 2));
	EXPECT_EQ(3, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "ccc", 3));
}

TEST_F(data, messages_arrive_in_fifo_order)
{
	char buf[MSZ];
	int i, v;

	for (i = 0; i < CAP; i++)
		ASSERT_EQ(sizeof(i), write(self->fd, &i, sizeof(i)));
	for (i = 0; i < CAP; i++) {
		ASSERT_EQ(sizeof(v), read(self->fd, &v, sizeof(v)));
		EXPECT_EQ(i, v);
	}
	(void)buf;
}

TEST_F(data, read_into_small_buffer_is_emsgsize_and_message_stays)
{
	char buf[MSZ];

	ASSERT_EQ(10, write(self->fd, "0123456789", 10));
	EXPECT_EQ(-1, read(self->fd, buf, 9));
	EXPECT_EQ(EMSGSIZE, errno);
	EXPECT_EQ(1, mb_depth(self->fd));
	EXPECT_EQ(10, read(self->fd, buf, 10));
	EXPECT_EQ(0, memcmp(buf, "0123456789", 10));
}

TEST_F(data, write_larger_than_msg_size_max_is_emsgsize)
{
	char buf[MSZ + 1];

	memset(buf, 'x', sizeof(buf));
	EXPECT_EQ(-1, write(self->fd, buf, MSZ + 1));
	EXPECT_EQ(EMSGSIZE, errno);
	EXPECT_EQ(0, mb_depth(self->fd));
	EXPECT_EQ(MSZ, write(self->fd, buf, MSZ));
}

TEST_F(data, write_of_zero_bytes_returns_zero_and_sends_nothing)
{
	struct ipcbox_stat st;

	EXPECT_EQ(0, write(self->fd, "", 0));
	ASSERT_EQ(0, mb_stat(self->fd, &st));
	EXPECT_EQ(0, st.depth);
	EXPECT_EQ(0, st.sent);
}

TEST_F(data, nonblocking_read_on_empty_is_eagain)
{
	char buf[MSZ];
	int fl = fcntl(self->fd, F_GETFL);

	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, fl | O_NONBLOCK));
	EXPECT_EQ(-1, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(EAGAIN, errno);
}

TEST_F(data, nonblocking_write_on_full_is_eagain)
{
	int fl = fcntl(self->fd, F_GETFL);
	int i;

	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, fl | O_NONBLOCK));
	for (i = 0; i < CAP; i++)
		ASSERT_EQ(1, write(self->fd, "x", 1));
	EXPECT_EQ(-1, write(self->fd, "y", 1));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(CAP, mb_depth(self->fd));
}

TEST_F(data, o_nonblock_also_applies_to_ioctls)
{
	char buf[MSZ];
	int fl = fcntl(self->fd, F_GETFL);

	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, fl | O_NONBLOCK));
	EXPECT_EQ(-EAGAIN, mb_recv(self->fd, buf, sizeof(buf), 0, IPCBOX_TIMEOUT_INFINITE));
}

TEST_F(data, read_blocks_until_write)
{
	struct bg_op op;
	char buf[MSZ];
	int64_t t0 = now_ns();

	bg_init(&op, BG_WRITE, self->fd, 100);
	op.len = 3;
	memcpy(op.buf, "abc", 3);
	ASSERT_EQ(0, bg_start(&op));
	EXPECT_EQ(3, read(self->fd, buf, sizeof(buf)));
	EXPECT_GE(now_ns() - t0, 90 * NSEC_PER_MSEC);
	bg_join(&op);
	EXPECT_EQ(3, op.ret);
}

TEST_F(data, write_blocks_on_full_until_read)
{
	struct bg_op op;
	char buf[MSZ];
	int i;

	for (i = 0; i < CAP; i++)
		ASSERT_EQ(1, write(self->fd, "x", 1));
	bg_init(&op, BG_WRITE, self->fd, 0);
	op.len = 1;
	op.buf[0] = 'z';
	ASSERT_EQ(0, bg_start(&op));
	ASSERT_TRUE(mb_wait_waiters(self->fd, 1, 0, 2000));
	EXPECT_EQ(INT_MIN, op.ret);
	EXPECT_EQ(1, read(self->fd, buf, sizeof(buf)));
	bg_join(&op);
	EXPECT_EQ(1, op.ret);
	EXPECT_EQ(CAP, mb_depth(self->fd));
}

TEST_F(data, rdonly_fd_cannot_send)
{
	ASSERT_EQ(0, open_named(self));
	EXPECT_EQ(-1, write(self->rfd, "x", 1));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-EBADF, mb_send(self->rfd, "x", 1, 0, 0));
	EXPECT_EQ(0, mb_depth(self->nfd));
}

TEST_F(data, wronly_fd_cannot_receive)
{
	char buf[MSZ];

	ASSERT_EQ(0, open_named(self));
	ASSERT_EQ(0, mb_send_str(self->nfd, "x"));
	EXPECT_EQ(-1, read(self->wfd, buf, sizeof(buf)));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-EBADF, mb_recv(self->wfd, buf, sizeof(buf), 0, 0));
	EXPECT_EQ(1, mb_depth(self->nfd));
}

TEST_F(data, wronly_sends_and_rdonly_receives)
{
	char buf[MSZ];

	ASSERT_EQ(0, open_named(self));
	ASSERT_EQ(4, write(self->wfd, "ping", 4));
	EXPECT_EQ(4, read(self->rfd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "ping", 4));
}

TEST_F(data, stat_works_on_rdonly_and_wronly_fds)
{
	struct ipcbox_stat st;

	ASSERT_EQ(0, open_named(self));
	EXPECT_EQ(0, mb_stat(self->rfd, &st));
	EXPECT_EQ(0, mb_stat(self->wfd, &st));
}

TEST_F(data, fork_child_inherits_anonymous_mailbox)
{
	char buf[MSZ];
	pid_t pid;

	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		char cbuf[MSZ];
		int n = read(self->fd, cbuf, sizeof(cbuf));

		if (n != 4 || memcmp(cbuf, "ping", 4))
			_exit(1);
		if (write(self->fd, "pong", 4) != 4)
			_exit(2);
		_exit(0);
	}
	ASSERT_EQ(4, write(self->fd, "ping", 4));
	EXPECT_EQ(0, wait_child(pid));
	EXPECT_EQ(4, mb_recv(self->fd, buf, sizeof(buf), 0, 2 * NSEC_PER_SEC));
	EXPECT_EQ(0, memcmp(buf, "pong", 4));
}

TEST_F(data, three_processes_share_a_named_mailbox)
{
	char path[128];
	pid_t pids[3];
	int i, seen = 0;
	char buf[MSZ];

	ASSERT_EQ(0, open_named(self));
	dev_path(path, sizeof(path), self->name);
	for (i = 0; i < 3; i++) {
		pids[i] = fork();
		ASSERT_GE(pids[i], 0);
		if (pids[i] == 0) {
			int fd = open(path, O_WRONLY);
			char c = 'a' + i;

			if (fd < 0)
				_exit(1);
			_exit(write(fd, &c, 1) == 1 ? 0 : 2);
		}
	}
	for (i = 0; i < 3; i++)
		EXPECT_EQ(0, wait_child(pids[i]));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(1, mb_recv(self->rfd, buf, sizeof(buf), 0, 2 * NSEC_PER_SEC));
		ASSERT_GE(buf[0], 'a');
		ASSERT_LE(buf[0], 'c');
		seen |= 1 << (buf[0] - 'a');
	}
	EXPECT_EQ(7, seen);
}

TEST_F(data, anonymous_mailbox_lives_while_an_fd_is_open)
{
	char buf[MSZ];
	int dup_fd = dup(self->fd);

	ASSERT_GE(dup_fd, 0);
	ASSERT_EQ(3, write(self->fd, "abc", 3));
	close_fd(&self->fd);
	EXPECT_EQ(3, read(dup_fd, buf, sizeof(buf)));
	close(dup_fd);
}

TEST_HARNESS_MAIN
