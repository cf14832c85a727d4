// SPDX-License-Identifier: GPL-2.0
/*
 * CALL, REPLY and REPLY_RECV: a request travels like a message and carries
 * a token only the receiving fd can answer, once; the caller gets the reply
 * with the request's seq and tag, or ETIMEDOUT (withdrawn or abandoned),
 * EPIPE (shutdown), ECONNRESET (the server's fd went away) or EPROTO
 * (read(2), or a RECV that asked for no info, took the request, so nobody
 * can answer it).
 */
#include "ipcbox_test.h"
#include "kselftest_harness.h"

#define LONG_NS		(5 * NSEC_PER_SEC)	/* waits that must not expire */
#define SHORT_NS	(150 * NSEC_PER_MSEC)	/* waits that must expire */

/* A CALL made by a thread while the test plays the server. */
struct call_op {
	pthread_t thread;
	int fd;
	char req[64];
	size_t len;
	uint32_t flags;
	int64_t timeout;
	uint64_t tag;
	char rbuf[256];
	size_t rsize;
	int ret;
	int64_t t_done;
	int done;
	struct ipcbox_msg_info info;
};

static void *call_thread(void *arg)
{
	struct call_op *op = arg;
	struct ipcbox_call c;

	memset(&c, 0, sizeof(c));
	c.buf = (uintptr_t)op->req;
	c.len = op->len;
	c.flags = op->flags;
	c.timeout_ns = op->timeout;
	c.tag = op->tag;
	c.reply_buf = (uintptr_t)op->rbuf;
	c.reply_size = op->rsize;
	c.reply_info = (uintptr_t)&op->info;
	c.reply_info_size = sizeof(op->info);
	op->ret = sys_ioctl(op->fd, IPCBOX_IOC_CALL, &c);
	op->t_done = now_ns();
	__atomic_store_n(&op->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static int call_start_flags(struct call_op *op, int fd, const char *req,
			    int64_t timeout, uint32_t flags, uint64_t tag,
			    size_t rsize)
{
	memset(op, 0, sizeof(*op));
	op->fd = fd;
	op->len = strlen(req);
	memcpy(op->req, req, op->len);
	op->flags = flags;
	op->timeout = timeout;
	op->tag = tag;
	op->rsize = rsize;
	op->ret = INT_MIN;
	return pthread_create(&op->thread, NULL, call_thread, op) ? -1 : 0;
}

static int call_start(struct call_op *op, int fd, const char *req,
		      int64_t timeout, uint64_t tag, size_t rsize)
{
	return call_start_flags(op, fd, req, timeout, 0, tag, rsize);
}

static void call_join(struct call_op *op)
{
	pthread_join(op->thread, NULL);
}

/*
 * Wait at most max_ms for the CALL to return. A caller that never returns
 * is then left alone (not joined), so that a broken module fails the test
 * instead of hanging it.
 */
static bool call_wait(struct call_op *op, long max_ms)
{
	int64_t end = now_ns() + max_ms * NSEC_PER_MSEC;

	while (!__atomic_load_n(&op->done, __ATOMIC_ACQUIRE)) {
		if (now_ns() >= end)
			return false;
		sleep_ms(2);
	}
	return true;
}

/* Wait at most max_ms until SIGUSR1 was handled n times. */
static bool usr1_wait(int n, long max_ms)
{
	int64_t end = now_ns() + max_ms * NSEC_PER_MSEC;

	while (usr1_handled < n) {
		if (now_ns() >= end)
			return false;
		sleep_ms(2);
	}
	return true;
}

/* Reap @pid within max_ms, else kill it; its wait_child() status or -1. */
static int wait_child_ms(pid_t pid, long max_ms)
{
	int64_t end = now_ns() + max_ms * NSEC_PER_MSEC;
	int status;

	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (now_ns() >= end) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		sleep_ms(5);
	}
	if (!WIFEXITED(status))
		return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	return WEXITSTATUS(status);
}

/*
 * Make the stalled copy fail: unmap the page, then wake the fault, whose
 * retry finds no mapping, so the copy to user space ends with EFAULT.
 */
static int stall_fail(int uffd, void **map, size_t len)
{
	struct uffdio_range range = { .start = (uintptr_t)*map, .len = len };

	if (munmap(*map, len))
		return -errno;
	*map = NULL;
	return ioctl(uffd, UFFDIO_WAKE, &range) ? -errno : 0;
}

/* Receive the next request, waiting long; returns its token or 0. */
static uint64_t take_request(int fd, char *buf, size_t size,
			     struct ipcbox_msg_info *info)
{
	struct ipcbox_msg_info mi;
	int ret = mb_recv_full(fd, buf, size, 0, LONG_NS, 0, 0, &mi);

	if (info)
		*info = mi;
	return ret < 0 ? 0 : mi.token;
}

/*
 * Server loop: answer n requests with "re:<request>:<seq seen>", each
 * reply sent by the REPLY_RECV that takes the next request, the last by a
 * plain REPLY. Returns 0 or a code saying which step failed.
 */
static int serve(int fd, int n)
{
	struct ipcbox_msg_info info;
	char buf[128], reply[192];
	uint64_t token = 0;
	int rlen = 0, rerr, ret, i;

	for (i = 0; i < n; i++) {
		ret = mb_reply_recv(fd, &token, reply, rlen, buf, sizeof(buf),
				    LONG_NS, &rerr, &info);
		if (ret < 0)
			return 10;
		if (rerr)
			return 11;
		if (token)	/* the reply made, its token is cleared */
			return 14;
		if (!info.token)
			return 12;
		token = info.token;
		rlen = snprintf(reply, sizeof(reply), "re:%.*s:%llu", ret, buf,
				(unsigned long long)info.seq);
	}
	return mb_reply(fd, token, reply, rlen) ? 13 : 0;
}

FIXTURE(callreply) {
	int ctl;
	int fd;
	int fd2;		/* a second mailbox some tests make */
	int uffd;		/* userfaultfd behind @map */
	void *map;
	size_t map_len;
	char name[IPCBOX_NAME_MAX];
	char path[128];
};

FIXTURE_SETUP(callreply)
{
	struct ipcbox_info info;

	self->fd = -1;
	self->fd2 = -1;
	self->uffd = -1;
	self->map = NULL;
	self->name[0] = '\0';
	CTL_OPEN_OR_SKIP(self->ctl);
	ASSERT_EQ(0, ipcbox_get_info(self->ctl, &info));
	if (!(info.features & IPCBOX_FEAT_CALL))
		SKIP(return, "module without IPCBOX_FEAT_CALL");
	test_name(self->name, sizeof(self->name), "cr");
	dev_path(self->path, sizeof(self->path), self->name);
	self->fd = mb_create(self->ctl, self->name, 4, 256, 0600,
			     IPCBOX_CREATE_CLOEXEC);
	ASSERT_GE(self->fd, 0) TH_LOG("create: %s", strerror(-self->fd));
}

FIXTURE_TEARDOWN(callreply)
{
	/* closing the userfaultfd lets a copy still stalled on it go on */
	close_fd(&self->uffd);
	if (self->map)
		munmap(self->map, self->map_len);
	close_fd(&self->fd2);
	close_fd(&self->fd);
	if (self->ctl >= 0 && self->name[0])
		mb_unlink(self->ctl, self->name);
	close_fd(&self->ctl);
}

TEST_F(callreply, call_gets_reply_from_reply_recv_server)
{
	struct ipcbox_msg_info info;
	unsigned long long seq, last = 0;
	char req[32], want[32], rbuf[256];
	pid_t pid;
	int i, n, ret;

	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0)
		_exit(serve(self->fd, 3));
	for (i = 0; i < 3; i++) {
		n = snprintf(req, sizeof(req), "q%d", i);
		memset(rbuf, 0, sizeof(rbuf));
		ret = mb_call(self->fd, req, n, LONG_NS, 100 + i, rbuf,
			      sizeof(rbuf) - 1, &info);
		ASSERT_GT(ret, 0) TH_LOG("call %d: %s", i, strerror(-ret));
		/* the server put the seq it saw after the echoed request */
		n = snprintf(want, sizeof(want), "re:q%d:", i);
		ASSERT_EQ(0, strncmp(rbuf, want, n)) TH_LOG("reply '%s'", rbuf);
		seq = strtoull(rbuf + n, NULL, 10);
		EXPECT_EQ(seq, info.seq);
		EXPECT_EQ(100 + i, info.tag);
		EXPECT_EQ(ret, info.len);
		EXPECT_EQ(pid, info.sender_tgid);
		EXPECT_EQ(pid, info.sender_tid);
		EXPECT_EQ(getuid(), info.sender_uid);
		if (i)
			EXPECT_GT(info.seq, last);
		last = info.seq;
	}
	EXPECT_EQ(0, wait_child(pid));
	EXPECT_EQ(0, mb_depth(self->fd));
}

TEST_F(callreply, token_only_on_received_requests)
{
	struct ipcbox_msg_info info;
	struct call_op op;
	char buf[64];
	uint64_t token;

	ASSERT_EQ(0, mb_send_full(self->fd, "plain", 5, 0, -1, 0, 7, NULL));
	ASSERT_EQ(0, call_start(&op, self->fd, "request", LONG_NS, 8, 64));
	ASSERT_TRUE(mb_wait_waiters(self->fd, 1, 0, 3000));
	EXPECT_EQ(2, mb_depth(self->fd));

	/* a plain message: no token, peeked or received */
	ASSERT_EQ(5, mb_recv_full(self->fd, buf, sizeof(buf), IPCBOX_RECV_PEEK,
				  0, 0, 0, &info));
	EXPECT_EQ(0, info.token);
	ASSERT_EQ(5, mb_recv_full(self->fd, buf, sizeof(buf), 0, 0, 0, 0, &info));
	EXPECT_EQ(7, info.tag);
	EXPECT_EQ(0, info.token);

	/* the request: PEEK shows no token, RECV does */
	ASSERT_EQ(7, mb_recv_full(self->fd, buf, sizeof(buf), IPCBOX_RECV_PEEK,
				  0, 0, 0, &info));
	EXPECT_EQ(8, info.tag);
	EXPECT_EQ(0, info.token);
	ASSERT_EQ(7, mb_recv_full(self->fd, buf, sizeof(buf), 0, 0, 0, 0, &info));
	EXPECT_EQ(0, memcmp(buf, "request", 7));
	EXPECT_EQ(8, info.tag);
	EXPECT_EQ(getpid(), info.sender_tgid);
	token = info.token;
	EXPECT_NE(0, token);

	EXPECT_EQ(0, mb_reply(self->fd, token, "ok", 2));
	call_join(&op);
	EXPECT_EQ(2, op.ret);
	EXPECT_EQ(0, memcmp(op.rbuf, "ok", 2));
	EXPECT_EQ(info.seq, op.info.seq);
	EXPECT_EQ(8, op.info.tag);
	EXPECT_EQ(0, mb_depth(self->fd));
}

TEST_F(callreply, timeout_without_server_withdraws_request)
{
	struct ipcbox_stat st;
	char rbuf[64], buf[64];
	int64_t t0 = now_ns(), dt;

	EXPECT_EQ(-ETIMEDOUT, mb_call(self->fd, "lost", 4, SHORT_NS, 0,
				      rbuf, sizeof(rbuf), NULL));
	dt = now_ns() - t0;
	EXPECT_GE(dt, SHORT_NS - 10 * NSEC_PER_MSEC);
	ASSERT_EQ(0, mb_stat(self->fd, &st));
	EXPECT_EQ(0, st.depth);
	EXPECT_EQ(0, st.waiting_senders);
	EXPECT_EQ(-EAGAIN, mb_recv(self->fd, buf, sizeof(buf), 0, 0));
}

TEST_F(callreply, timeout_after_receive_cancels_reply)
{
	struct call_op op;
	char buf[64];
	uint64_t token;

	ASSERT_EQ(0, call_start(&op, self->fd, "slow", SHORT_NS, 0, 64));
	token = take_request(self->fd, buf, sizeof(buf), NULL);
	ASSERT_NE(0, token);
	call_join(&op);
	EXPECT_EQ(-ETIMEDOUT, op.ret);
	EXPECT_EQ(0, mb_depth(self->fd));
	EXPECT_EQ(-ECANCELED, mb_reply(self->fd, token, "late", 4));
	/* the cancelled request is gone */
	EXPECT_EQ(-ENOENT, mb_reply(self->fd, token, "late", 4));
}

TEST_F(callreply, server_killed_gives_econnreset)
{
	struct ipcbox_msg_info info;
	struct call_op op;
	int64_t t_kill;
	int p[2], srv;
	char c = 0;
	pid_t pid;

	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		char buf[64];

		/* its own open file, closed by the kernel when it dies */
		close(p[0]);
		srv = open(self->path, O_RDWR | O_CLOEXEC);
		if (srv < 0)
			_exit(1);
		if (mb_recv_full(srv, buf, sizeof(buf), 0, LONG_NS, 0, 0,
				 &info) < 0 || !info.token)
			_exit(2);
		if (write(p[1], "r", 1) != 1)
			_exit(3);
		for (;;)
			pause();
	}
	close(p[1]);
	ASSERT_EQ(0, call_start(&op, self->fd, "doomed", LONG_NS, 0, 64));
	if (read(p[0], &c, 1) != 1)
		c = 0;
	t_kill = now_ns();
	kill(pid, SIGKILL);
	EXPECT_EQ(128 + SIGKILL, wait_child(pid));
	close(p[0]);
	call_join(&op);
	ASSERT_EQ('r', c);
	EXPECT_EQ(-ECONNRESET, op.ret);
	EXPECT_LT(op.t_done - t_kill, 2 * NSEC_PER_SEC);
	EXPECT_EQ(0, mb_depth(self->fd));
}

TEST_F(callreply, shutdown_while_held_gives_epipe)
{
	struct sigaction sa = { .sa_handler = SIG_IGN };
	struct call_op op;
	char buf[64];
	uint64_t token;

	ASSERT_EQ(0, sigaction(SIGPIPE, &sa, NULL));
	ASSERT_EQ(0, call_start(&op, self->fd, "held", LONG_NS, 0, 64));
	token = take_request(self->fd, buf, sizeof(buf), NULL);
	ASSERT_NE(0, token);
	sleep_ms(50);
	ASSERT_EQ(0, mb_shutdown(self->fd));
	call_join(&op);
	EXPECT_EQ(-EPIPE, op.ret);
	/* a CALL on a shut-down mailbox fails at once */
	EXPECT_EQ(-EPIPE, mb_call(self->fd, "x", 1, SHORT_NS, 0, buf,
				  sizeof(buf), NULL));
}

TEST_F(callreply, forged_token_is_enoent)
{
	struct call_op op;
	char buf[64];
	uint64_t token;

	EXPECT_EQ(-ENOENT, mb_reply(self->fd, 0x123456789abcdefULL, "x", 1));
	ASSERT_EQ(0, call_start(&op, self->fd, "req", LONG_NS, 0, 64));
	token = take_request(self->fd, buf, sizeof(buf), NULL);
	ASSERT_NE(0, token);
	EXPECT_EQ(-ENOENT, mb_reply(self->fd, token ^ 0x100, "bad", 3));
	EXPECT_EQ(-ENOENT, mb_reply(self->fd, token + 2, "bad", 3));
	EXPECT_EQ(-ENOENT, mb_reply(self->fd, 0, "bad", 3));
	/* the wrong guesses did not touch the real request */
	EXPECT_EQ(INT_MIN, op.ret);
	EXPECT_EQ(0, mb_reply(self->fd, token, "good", 4));
	call_join(&op);
	EXPECT_EQ(4, op.ret);
	EXPECT_EQ(0, memcmp(op.rbuf, "good", 4));
}

TEST_F(callreply, token_used_twice_is_enoent)
{
	struct call_op op;
	char buf[64];
	uint64_t token;

	ASSERT_EQ(0, call_start(&op, self->fd, "once", LONG_NS, 0, 64));
	token = take_request(self->fd, buf, sizeof(buf), NULL);
	ASSERT_NE(0, token);
	EXPECT_EQ(0, mb_reply(self->fd, token, "first", 5));
	EXPECT_EQ(-ENOENT, mb_reply(self->fd, token, "second", 6));
	call_join(&op);
	EXPECT_EQ(5, op.ret);
	EXPECT_EQ(0, memcmp(op.rbuf, "first", 5));
}

TEST_F(callreply, token_of_another_open_is_enoent)
{
	struct call_op op;
	char buf[64];
	uint64_t token;
	int other, status;
	pid_t pid;

	ASSERT_EQ(0, call_start(&op, self->fd, "mine", LONG_NS, 0, 64));
	token = take_request(self->fd, buf, sizeof(buf), NULL);
	ASSERT_NE(0, token);

	/* another process with its own open of the same mailbox */
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		int fd = open(self->path, O_RDWR | O_CLOEXEC);

		if (fd < 0)
			_exit(1);
		_exit(mb_reply(fd, token, "theft", 5) == -ENOENT ? 0 : 2);
	}
	status = wait_child(pid);
	EXPECT_EQ(0, status);

	/* another open file in this process is no better */
	other = open(self->path, O_RDWR | O_CLOEXEC);
	ASSERT_GE(other, 0);
	EXPECT_EQ(-ENOENT, mb_reply(other, token, "theft", 5));
	close(other);

	EXPECT_EQ(INT_MIN, op.ret);
	EXPECT_EQ(0, mb_reply(self->fd, token, "real", 4));
	call_join(&op);
	EXPECT_EQ(4, op.ret);
	EXPECT_EQ(0, memcmp(op.rbuf, "real", 4));
}

TEST_F(callreply, reply_too_long_is_emsgsize_and_request_stays)
{
	char big[16] = "0123456789abcdef";
	struct call_op op;
	char buf[64];
	uint64_t token;

	ASSERT_EQ(0, call_start(&op, self->fd, "small", LONG_NS, 0, 8));
	token = take_request(self->fd, buf, sizeof(buf), NULL);
	ASSERT_NE(0, token);
	EXPECT_EQ(-EMSGSIZE, mb_reply(self->fd, token, big, sizeof(big)));
	EXPECT_EQ(-EMSGSIZE, mb_reply(self->fd, token, big, 9));
	EXPECT_EQ(INT_MIN, op.ret);
	EXPECT_EQ(0, mb_reply(self->fd, token, big, 8));
	call_join(&op);
	EXPECT_EQ(8, op.ret);
	EXPECT_EQ(0, memcmp(op.rbuf, big, 8));
}

TEST_F(callreply, reply_recv_reports_reply_error_and_receives)
{
	struct ipcbox_msg_info info;
	uint64_t token = 0x55;
	char buf[64];
	int rerr;

	ASSERT_EQ(0, mb_send_str(self->fd, "one"));
	ASSERT_EQ(0, mb_send_str(self->fd, "three"));
	/* a failing reply does not stop the receive; it was made: cleared */
	rerr = 12345;
	EXPECT_EQ(3, mb_reply_recv(self->fd, &token, "r", 1, buf, sizeof(buf),
				   0, &rerr, &info));
	EXPECT_EQ(-ENOENT, rerr);
	EXPECT_EQ(0, token);
	EXPECT_EQ(0, memcmp(buf, "one", 3));
	EXPECT_EQ(0, info.token);
	/* token 0: no reply at all */
	EXPECT_EQ(5, mb_reply_recv(self->fd, &token, NULL, 0, buf, sizeof(buf),
				   0, &rerr, &info));
	EXPECT_EQ(0, rerr);
	/* the receive's own result is returned */
	EXPECT_EQ(-EAGAIN, mb_reply_recv(self->fd, &token, NULL, 0, buf,
					 sizeof(buf), 0, &rerr, NULL));
}

TEST_F(callreply, bad_call_arguments)
{
	struct { struct ipcbox_call c; __u64 tail; } big;
	struct ipcbox_msg_info info;
	struct ipcbox_call c;
	char rbuf[64];
	int rdonly;

	EXPECT_EQ(-EINVAL, mb_call(self->fd, "x", 1, 0, 0, rbuf, sizeof(rbuf),
				   NULL));
	EXPECT_EQ(-EINVAL, mb_call(self->fd, "x", 1, -2, 0, rbuf, sizeof(rbuf),
				   NULL));
	EXPECT_EQ(-EMSGSIZE, mb_call(self->fd, rbuf, 257, SHORT_NS, 0, rbuf,
				     sizeof(rbuf), NULL));

#define CALL_ARGS(info_ptr, info_size) do {				\
	memset(&c, 0, sizeof(c));					\
	c.buf = (uintptr_t)"x";						\
	c.len = 1;							\
	c.timeout_ns = SHORT_NS;					\
	c.reply_buf = (uintptr_t)rbuf;					\
	c.reply_size = sizeof(rbuf);					\
	c.reply_info = (info_ptr);					\
	c.reply_info_size = (info_size);				\
} while (0)
#define CALL_EINVAL(field, val) do {					\
	CALL_ARGS(0, 0);						\
	c.field = (val);						\
	EXPECT_EQ(-EINVAL, sys_ioctl(self->fd, IPCBOX_IOC_CALL, &c))	\
		TH_LOG("%s = %s", #field, #val);			\
} while (0)
	CALL_EINVAL(flags, 0x80);
	CALL_EINVAL(flags, 0xffffffffU & ~(__u32)IPCBOX_CALL_FLAGS);
	CALL_EINVAL(flags, IPCBOX_NONBLOCK);
	CALL_EINVAL(priority, IPCBOX_PRIO_MAX);
	CALL_EINVAL(__reserved0, 1);
	/* the reply's info: no pointer with no size, else VER0 up to a page */
	CALL_EINVAL(reply_info, (uintptr_t)&info);
	CALL_EINVAL(reply_info_size, sizeof(info));
#define CALL_INFO_EINVAL(size) do {					\
	CALL_ARGS((uintptr_t)&info, (size));				\
	EXPECT_EQ(-EINVAL, sys_ioctl(self->fd, IPCBOX_IOC_CALL, &c))	\
		TH_LOG("reply_info_size = %s", #size);			\
} while (0)
	CALL_INFO_EINVAL(IPCBOX_MSG_INFO_SIZE_VER0 - 1);
	CALL_INFO_EINVAL(8);
	CALL_INFO_EINVAL(sysconf(_SC_PAGESIZE) + 1);
#undef CALL_INFO_EINVAL
	/*
	 * A larger struct than the kernel's: what it does not know must be
	 * zero (E2BIG); zero is fine (the request then times out unanswered).
	 */
	CALL_ARGS(0, 0);
	big.c = c;
	big.tail = 1;
	EXPECT_EQ(-E2BIG, sys_ioctl(self->fd, ioc_resize(IPCBOX_IOC_CALL,
							 sizeof(big)), &big));
#undef CALL_EINVAL
#undef CALL_ARGS
	/* none of them queued anything */
	EXPECT_EQ(0, mb_depth(self->fd));
	big.tail = 0;
	EXPECT_EQ(-ETIMEDOUT, sys_ioctl(self->fd, ioc_resize(IPCBOX_IOC_CALL,
							     sizeof(big)), &big));
	EXPECT_EQ(0, mb_depth(self->fd));

	rdonly = open(self->path, O_RDONLY | O_CLOEXEC);
	ASSERT_GE(rdonly, 0);
	EXPECT_EQ(-EBADF, mb_call(rdonly, "x", 1, SHORT_NS, 0, rbuf,
				  sizeof(rbuf), NULL));
	close(rdonly);
	EXPECT_EQ(0, mb_depth(self->fd));
}

TEST_F(callreply, bad_reply_arguments)
{
	struct { struct ipcbox_reply r; __u64 tail; } big;
	struct ipcbox_msg_info info;
	struct ipcbox_reply_recv rr;
	struct ipcbox_reply r;
	struct call_op op;
	uint64_t token, held;
	char buf[64];
	int wronly;

	ASSERT_EQ(0, call_start(&op, self->fd, "req", LONG_NS, 0, 64));
	token = take_request(self->fd, buf, sizeof(buf), NULL);
	ASSERT_NE(0, token);

	wronly = open(self->path, O_WRONLY | O_CLOEXEC);
	ASSERT_GE(wronly, 0);
	EXPECT_EQ(-EBADF, mb_reply(wronly, token, "x", 1));
	/* refused before the reply: the token is left for a retry */
	held = token;
	EXPECT_EQ(-EBADF, mb_reply_recv(wronly, &held, "x", 1, buf,
					sizeof(buf), 0, NULL, NULL));
	EXPECT_EQ(token, held);
	close(wronly);

	memset(&r, 0, sizeof(r));
	r.token = token;
	r.buf = (uintptr_t)"x";
	r.len = 1;
	r.flags = 1;
	EXPECT_EQ(-EINVAL, sys_ioctl(self->fd, IPCBOX_IOC_REPLY, &r));
	r.flags = 0;
	/* a larger struct: what the kernel does not know must be zero */
	big.r = r;
	big.tail = 1;
	EXPECT_EQ(-E2BIG, sys_ioctl(self->fd, ioc_resize(IPCBOX_IOC_REPLY,
							 sizeof(big)), &big));

#define RR_ARGS() do {							\
	memset(&rr, 0, sizeof(rr));					\
	rr.token = token;						\
	rr.reply_buf = (uintptr_t)"x";					\
	rr.reply_len = 1;						\
	rr.buf = (uintptr_t)buf;					\
	rr.size = sizeof(buf);						\
	rr.timeout_ns = 0;						\
} while (0)
#define RR_EINVAL(field, val) do {					\
	RR_ARGS();							\
	rr.field = (val);						\
	EXPECT_EQ(-EINVAL, sys_ioctl(self->fd, IPCBOX_IOC_REPLY_RECV, &rr)) \
		TH_LOG("%s = %s", #field, #val);			\
	EXPECT_EQ(token, rr.token) TH_LOG("%s = %s", #field, #val);	\
} while (0)
	RR_EINVAL(__reserved0, 1);
	RR_EINVAL(reply_flags, 1);
	RR_EINVAL(flags, 0x80);
	/* the receive's info: no pointer with no size, else VER0 up to a page */
	RR_EINVAL(info, (uintptr_t)&info);
	RR_EINVAL(info_size, sizeof(info));
	RR_ARGS();
	rr.info = (uintptr_t)&info;
	rr.info_size = IPCBOX_MSG_INFO_SIZE_VER0 - 1;
	EXPECT_EQ(-EINVAL, sys_ioctl(self->fd, IPCBOX_IOC_REPLY_RECV, &rr));
#undef RR_EINVAL

	/* none of the rejected calls answered the request */
	EXPECT_EQ(INT_MIN, op.ret);

	/*
	 * reply_error is output only: whatever it holds on input, a good
	 * REPLY_RECV answers, sets it to the reply's outcome and clears the
	 * token (the receive then finds nothing).
	 */
	RR_ARGS();
	rr.reply_buf = (uintptr_t)"y";
	rr.reply_error = 12345;
	EXPECT_EQ(-EAGAIN, sys_ioctl(self->fd, IPCBOX_IOC_REPLY_RECV, &rr));
	EXPECT_EQ(0, rr.reply_error);
	EXPECT_EQ(0, rr.token);
#undef RR_ARGS
	call_join(&op);
	EXPECT_EQ(1, op.ret);
	EXPECT_EQ('y', op.rbuf[0]);
	EXPECT_EQ(-ENOENT, mb_reply(self->fd, token, "z", 1));
}

/* ---- a receiver stalled in its copy of a request ---------------------- */

/*
 * A page that is missing until the test says otherwise (uffd_area()), in
 * self->map: a receiver copying a request into it stops in the middle of
 * its copy, with the request already taken. 0, or the -errno of
 * userfaultfd(2) when there is none (the test skips).
 */
static int stall_page(struct __test_metadata *_metadata,
		      FIXTURE_DATA(callreply) *self)
{
	self->uffd = uffd_open();
	if (self->uffd < 0)
		return self->uffd;
	self->map_len = sysconf(_SC_PAGESIZE);
	self->map = uffd_area(self->uffd, self->map_len);
	if (self->map == MAP_FAILED)
		self->map = NULL;
	ASSERT_NE(NULL, self->map) TH_LOG("userfaultfd page: %m");
	return 0;
}

/* A thread's receive into that page, waiting long. */
static int stalled_recv_start(struct bg_op *rcv, FIXTURE_DATA(callreply) *self)
{
	bg_init(rcv, BG_RECV, self->fd, 0);
	rcv->rbuf = self->map;
	rcv->rsize = 256;
	rcv->timeout = LONG_NS;
	return bg_start(rcv);
}

/*
 * The caller's context must outlive a receiver that took the request and
 * is still copying it out when the call ends: here the call ends by
 * SHUTDOWN, then the copy fails. The request is gone with the call: it is
 * not put back into the queue, and the receive goes on as if it had never
 * been there (shut down and drained: EPIPE).
 */
TEST_F_TIMEOUT(callreply, shutdown_while_receive_copy_stalls_ends_call_and_request, 60)
{
	struct call_op op;
	struct bg_op rcv;
	char buf[64];
	int ret;

	ret = stall_page(_metadata, self);
	if (ret)
		SKIP(return, "userfaultfd: %s", strerror(-ret));

	ASSERT_EQ(0, call_start(&op, self->fd, "stalled", -1, 0, 64));
	ASSERT_TRUE(mb_wait_waiters(self->fd, 1, 0, 3000));
	ASSERT_EQ(0, stalled_recv_start(&rcv, self));
	ASSERT_TRUE(uffd_fault_seen(self->uffd, 5000))
		TH_LOG("the receive's copy did not fault");

	ASSERT_EQ(0, mb_shutdown(self->fd));
	ASSERT_TRUE(call_wait(&op, 5000)) TH_LOG("SHUTDOWN did not end the CALL");
	call_join(&op);
	EXPECT_EQ(-EPIPE, op.ret) TH_LOG("CALL returned %d", op.ret);

	ASSERT_EQ(0, stall_fail(self->uffd, &self->map, self->map_len));
	bg_join(&rcv);
	EXPECT_EQ(-EPIPE, rcv.ret);
	EXPECT_EQ(0, mb_depth(self->fd));
	EXPECT_EQ(-EPIPE, mb_recv(self->fd, buf, sizeof(buf), 0, 0));
}

/*
 * Likewise when the caller's own timeout ends the call during the copy:
 * the receive goes on waiting, until its own timeout.
 */
TEST_F_TIMEOUT(callreply, caller_timeout_while_receive_copy_stalls_drops_request, 60)
{
	struct call_op op;
	struct bg_op rcv;
	char buf[64];
	int ret;

	ret = stall_page(_metadata, self);
	if (ret)
		SKIP(return, "userfaultfd: %s", strerror(-ret));

	/* the receiver waits first, so the request is handed to it at once */
	ASSERT_EQ(0, stalled_recv_start(&rcv, self));
	ASSERT_TRUE(mb_wait_waiters(self->fd, 0, 1, 3000));
	ASSERT_EQ(0, call_start(&op, self->fd, "stalled", NSEC_PER_SEC, 0, 64));
	ASSERT_TRUE(uffd_fault_seen(self->uffd, 5000))
		TH_LOG("the receive's copy did not fault");

	ASSERT_TRUE(call_wait(&op, 10000)) TH_LOG("the CALL did not time out");
	call_join(&op);
	EXPECT_EQ(-ETIMEDOUT, op.ret) TH_LOG("CALL returned %d", op.ret);

	ASSERT_EQ(0, stall_fail(self->uffd, &self->map, self->map_len));
	bg_join(&rcv);
	EXPECT_EQ(-ETIMEDOUT, rcv.ret);
	/* nobody waits for an answer: the request must not come back */
	EXPECT_EQ(0, mb_depth(self->fd));
	EXPECT_EQ(-EAGAIN, mb_recv(self->fd, buf, sizeof(buf), 0, 0));
}

struct stall_watch {
	int uffd;
	int notify;
};

/* In the child: tell the parent once the receive's copy has stalled. */
static void *stall_watch_thread(void *arg)
{
	struct stall_watch *sw = arg;

	if (uffd_fault_seen(sw->uffd, -1) && write(sw->notify, "s", 1) != 1)
		_exit(5);
	return NULL;
}

/* A receiver with its own open, stalled in its copy until it is killed. */
static int stalled_receiver(const char *path, int notify)
{
	static struct stall_watch sw;
	struct ipcbox_msg_info info;
	pthread_t t;
	void *map;
	int fd;

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return 1;
	sw.notify = notify;
	sw.uffd = uffd_open();
	if (sw.uffd < 0)
		return 2;
	map = uffd_area(sw.uffd, sysconf(_SC_PAGESIZE));
	if (map == MAP_FAILED)
		return 2;
	if (pthread_create(&t, NULL, stall_watch_thread, &sw))
		return 3;
	/* with the info, as a server that means to answer */
	mb_recv_full(fd, map, 256, 0, IPCBOX_TIMEOUT_INFINITE, 0, 0, &info);
	return 4;	/* the copy went on: only SIGKILL was to end it */
}

/*
 * A receiver killed in the middle of its copy never got the request, so
 * the call goes on: the request is there for the next receiver, whose
 * reply reaches the caller.
 */
TEST_F_TIMEOUT(callreply, receiver_killed_while_copy_stalls_leaves_request_queued, 60)
{
	struct ipcbox_msg_info info;
	struct pollfd pfd;
	struct call_op op;
	bool waiting, started = false;
	char c = 0, buf[64];
	int p[2], fd, status;
	pid_t pid;

	fd = uffd_open();
	if (fd < 0)
		SKIP(return, "userfaultfd: %s", strerror(-fd));
	close(fd);
	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		close(p[0]);
		_exit(stalled_receiver(self->path, p[1]));
	}
	close(p[1]);
	waiting = mb_wait_waiters(self->fd, 0, 1, 5000);
	if (waiting)
		started = !call_start(&op, self->fd, "orphaned",
				      30 * NSEC_PER_SEC, 0, 64);
	pfd.fd = p[0];
	pfd.events = POLLIN;
	if (started && poll(&pfd, 1, 5000) == 1 && read(p[0], &c, 1) != 1)
		c = 0;
	kill(pid, SIGKILL);
	status = wait_child(pid);
	close(p[0]);
	ASSERT_TRUE(waiting) TH_LOG("the child never received (status %d)", status);
	ASSERT_TRUE(started);
	ASSERT_EQ('s', c) TH_LOG("the child's copy did not stall (status %d)", status);
	EXPECT_EQ(128 + SIGKILL, status);

	EXPECT_EQ(1, mb_depth(self->fd));
	ASSERT_EQ(8, mb_recv_full(self->fd, buf, sizeof(buf), 0, LONG_NS, 0, 0,
				  &info));
	EXPECT_EQ(0, memcmp(buf, "orphaned", 8));
	ASSERT_NE(0, info.token);
	EXPECT_EQ(0, mb_reply(self->fd, info.token, "ok", 2));
	ASSERT_TRUE(call_wait(&op, 5000));
	call_join(&op);
	EXPECT_EQ(2, op.ret);
	EXPECT_EQ(0, memcmp(op.rbuf, "ok", 2));
}

/* ---- signals against the end of a call -------------------------------- */

/*
 * SHUTDOWN withdraws a queued request and wakes its caller; a signal that
 * arrives before the caller runs must not make it withdraw the request a
 * second time (the queue's list and depth would be corrupted): the call
 * ends with EPIPE. A race, so many rounds, each on a new mailbox.
 */
static void shutdown_then_signal(struct __test_metadata *_metadata,
				 FIXTURE_DATA(callreply) *self, int sa_flags)
{
	int i, bad_ret = 0, bad_depth = 0;
	struct call_op op;
	long depth;

	ASSERT_EQ(0, catch_usr1(sa_flags));
	for (i = 0; i < 50; i++) {
		self->fd2 = mb_anon(self->ctl, 4, 64);
		ASSERT_GE(self->fd2, 0);
		ASSERT_EQ(0, call_start(&op, self->fd2, "queued", -1, 0, 64));
		ASSERT_TRUE(mb_wait_waiters(self->fd2, 1, 0, 3000));
		ASSERT_EQ(0, mb_shutdown(self->fd2));
		ASSERT_EQ(0, pthread_kill(op.thread, SIGUSR1));
		ASSERT_TRUE(call_wait(&op, 5000)) TH_LOG("round %d: CALL still waits", i);
		call_join(&op);
		depth = mb_depth(self->fd2);
		if (op.ret != -EPIPE && !bad_ret++)
			TH_LOG("round %d: CALL returned %d", i, op.ret);
		if (depth && !bad_depth++)
			TH_LOG("round %d: depth %ld after the call ended", i, depth);
		close_fd(&self->fd2);
	}
	TH_LOG("50 rounds: %d did not return EPIPE, %d left a depth other than 0",
	       bad_ret, bad_depth);
	EXPECT_EQ(0, bad_ret);
	EXPECT_EQ(0, bad_depth);
}

TEST_F_TIMEOUT(callreply, signal_right_after_shutdown_leaves_call_epipe, 120)
{
	shutdown_then_signal(_metadata, self, 0);
}

TEST_F_TIMEOUT(callreply, signal_right_after_shutdown_leaves_call_epipe_sa_restart, 120)
{
	shutdown_then_signal(_metadata, self, SA_RESTART);
}

/*
 * The caller of a request that was received, then interrupted (its CALL
 * made with @timeout and @flags, SIGUSR1 caught with SA_RESTART): the
 * request must not be sent a second time (a restart would), the CALL
 * returns EINTR and the request is cancelled.
 */
static void interrupt_received_call(struct __test_metadata *_metadata,
				    FIXTURE_DATA(callreply) *self,
				    int64_t timeout, uint32_t flags)
{
	struct ipcbox_msg_info info;
	struct call_op op;
	char buf[64];
	uint64_t token;
	int ret;

	ASSERT_EQ(0, catch_usr1(SA_RESTART));
	ASSERT_EQ(0, call_start_flags(&op, self->fd, "once", timeout, flags, 0,
				      64));
	token = take_request(self->fd, buf, sizeof(buf), NULL);
	ASSERT_NE(0, token);
	ASSERT_EQ(0, pthread_kill(op.thread, SIGUSR1));

	ret = mb_recv_full(self->fd, buf, sizeof(buf), 0, 300 * NSEC_PER_MSEC,
			   0, 0, &info);
	EXPECT_EQ(-ETIMEDOUT, ret) TH_LOG("a second copy of the request came (%d)", ret);
	/* a restarted CALL would wait for ever: answer its copy */
	if (ret >= 0 && info.token)
		mb_reply(self->fd, info.token, "again", 5);
	ASSERT_TRUE(call_wait(&op, 5000)) TH_LOG("the CALL still waits");
	call_join(&op);
	EXPECT_EQ(-EINTR, op.ret) TH_LOG("CALL returned %d", op.ret);
	EXPECT_EQ(-ECANCELED, mb_reply(self->fd, token, "late", 4));
	EXPECT_EQ(1, usr1_handled);
}

TEST_F(callreply, received_call_interrupted_with_sa_restart_is_eintr_not_resent)
{
	interrupt_received_call(_metadata, self, -1, 0);
}

TEST_F(callreply, received_abstime_call_interrupted_with_sa_restart_is_eintr_not_resent)
{
	interrupt_received_call(_metadata, self, now_ns() + 10 * NSEC_PER_SEC,
				IPCBOX_ABSTIME);
}

/* SIGSTOP and SIGCONT, no handler: the kernel would restart on its own. */
TEST_F(callreply, received_call_stopped_and_continued_is_eintr_not_resent)
{
	struct ipcbox_msg_info info;
	char buf[64];
	uint64_t token;
	int ret, status;
	pid_t pid;

	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		char rbuf[64];

		/* the errno as exit status; 200 for a reply */
		ret = mb_call(self->fd, "stopped", 7, -1, 0, rbuf, sizeof(rbuf), NULL);
		_exit(ret < 0 && -ret < 200 ? -ret : 200);
	}
	token = take_request(self->fd, buf, sizeof(buf), NULL);
	if (!token) {
		kill(pid, SIGKILL);
		wait_child(pid);
	}
	ASSERT_NE(0, token);
	ASSERT_EQ(0, kill(pid, SIGSTOP));
	ASSERT_EQ(pid, waitpid(pid, &status, WUNTRACED));
	ASSERT_TRUE(WIFSTOPPED(status));
	ASSERT_EQ(0, kill(pid, SIGCONT));

	ret = mb_recv_full(self->fd, buf, sizeof(buf), 0, 300 * NSEC_PER_MSEC,
			   0, 0, &info);
	EXPECT_EQ(-ETIMEDOUT, ret) TH_LOG("a second copy of the request came (%d)", ret);
	if (ret >= 0 && info.token)
		mb_reply(self->fd, info.token, "again", 5);
	status = wait_child_ms(pid, 5000);
	EXPECT_EQ(EINTR, status) TH_LOG("child status %d (200: it got a reply)", status);
	EXPECT_EQ(-ECANCELED, mb_reply(self->fd, token, "late", 4));
}

/*
 * A reply and a signal reach a waiting caller together: the reply was
 * accepted (REPLY returned 0), so the CALL returns it, and a restart
 * never sends the request again. A race, so many rounds.
 */
static void reply_then_signal(struct __test_metadata *_metadata,
			      FIXTURE_DATA(callreply) *self, int sa_flags)
{
	int i, ret, lost = 0, again = 0;
	struct ipcbox_msg_info info;
	struct call_op op;
	char buf[64];
	uint64_t token;
	int64_t end;

	ASSERT_EQ(0, catch_usr1(sa_flags));
	for (i = 0; i < 100; i++) {
		ASSERT_EQ(0, call_start(&op, self->fd, "race", -1, 0, 64));
		token = take_request(self->fd, buf, sizeof(buf), NULL);
		ASSERT_NE(0, token) TH_LOG("round %d", i);
		ASSERT_EQ(0, mb_reply(self->fd, token, "r1", 2)) TH_LOG("round %d", i);
		ASSERT_EQ(0, pthread_kill(op.thread, SIGUSR1));
		/* a restarted CALL would wait for ever: answer its copies */
		end = now_ns() + 5 * NSEC_PER_SEC;
		while (!call_wait(&op, 10) && now_ns() < end) {
			ret = mb_recv_full(self->fd, buf, sizeof(buf), 0, 0, 0,
					   0, &info);
			if (ret >= 0 && info.token) {
				again++;
				mb_reply(self->fd, info.token, "r2", 2);
			}
		}
		ASSERT_TRUE(call_wait(&op, 0)) TH_LOG("round %d: CALL still waits", i);
		call_join(&op);
		if ((op.ret != 2 || memcmp(op.rbuf, "r1", 2)) && !lost++)
			TH_LOG("round %d: CALL returned %d, not the reply", i, op.ret);
		if (mb_recv(self->fd, buf, sizeof(buf), 0, 0) != -EAGAIN)
			again++;
	}
	TH_LOG("100 rounds: %d replies lost, %d requests sent again", lost, again);
	EXPECT_EQ(0, lost);
	EXPECT_EQ(0, again);
}

TEST_F_TIMEOUT(callreply, reply_wins_over_a_signal_at_wakeup, 120)
{
	reply_then_signal(_metadata, self, 0);
}

TEST_F_TIMEOUT(callreply, reply_wins_over_a_signal_at_wakeup_sa_restart, 120)
{
	reply_then_signal(_metadata, self, SA_RESTART);
}

/* A REPLY_RECV made by a server thread, its receive waiting for ever. */
struct reply_recv_op {
	pthread_t thread;
	int fd;
	uint64_t token;
	char buf[64];
	int ret;
	int rerr;
	int done;
	struct ipcbox_msg_info info;
};

static void *reply_recv_thread(void *arg)
{
	struct reply_recv_op *op = arg;

	op->ret = mb_reply_recv(op->fd, &op->token, "r1", 2, op->buf,
				sizeof(op->buf), IPCBOX_TIMEOUT_INFINITE,
				&op->rerr, &op->info);
	__atomic_store_n(&op->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static int reply_recv_start(struct reply_recv_op *op, int fd, uint64_t token)
{
	memset(op, 0, sizeof(*op));
	op->fd = fd;
	op->token = token;
	op->ret = INT_MIN;
	op->rerr = INT_MIN;
	return pthread_create(&op->thread, NULL, reply_recv_thread, op) ? -1 : 0;
}

/* Join the server within max_ms, shutting the mailbox down if it must. */
static void reply_recv_end(struct reply_recv_op *op, int fd, long max_ms)
{
	int64_t end = now_ns() + max_ms * NSEC_PER_MSEC;

	while (!__atomic_load_n(&op->done, __ATOMIC_ACQUIRE) && now_ns() < end)
		sleep_ms(2);
	if (!__atomic_load_n(&op->done, __ATOMIC_ACQUIRE))
		mb_shutdown(fd);
	pthread_join(op->thread, NULL);
}

/*
 * A REPLY_RECV whose receive is restarted after a signal (SA_RESTART)
 * must not reply again: the restart only receives. reply_error says how
 * the one reply went.
 */
TEST_F_TIMEOUT(callreply, reply_recv_restarted_by_signal_replies_once, 60)
{
	struct reply_recv_op srv;
	struct call_op first, second;
	char buf[64];
	uint64_t token;

	ASSERT_EQ(0, catch_usr1(SA_RESTART));
	ASSERT_EQ(0, call_start(&first, self->fd, "q1", 30 * NSEC_PER_SEC, 0, 64));
	/* received on the server's fd; any thread may answer it there */
	token = take_request(self->fd, buf, sizeof(buf), NULL);
	ASSERT_NE(0, token);
	ASSERT_EQ(0, reply_recv_start(&srv, self->fd, token));
	ASSERT_TRUE(call_wait(&first, 5000)) TH_LOG("REPLY_RECV did not reply");
	call_join(&first);
	EXPECT_EQ(2, first.ret);
	EXPECT_EQ(0, memcmp(first.rbuf, "r1", 2));

	/* the server now waits in the receive: interrupt it */
	ASSERT_TRUE(mb_wait_waiters(self->fd, 0, 1, 3000));
	ASSERT_EQ(0, pthread_kill(srv.thread, SIGUSR1));
	ASSERT_TRUE(usr1_wait(1, 3000));
	EXPECT_TRUE(mb_wait_waiters(self->fd, 0, 1, 3000))
		TH_LOG("the restarted REPLY_RECV does not wait (ret %d)", srv.ret);

	ASSERT_EQ(0, call_start(&second, self->fd, "q2", 10 * NSEC_PER_SEC, 0, 64));
	reply_recv_end(&srv, self->fd, 5000);
	EXPECT_EQ(2, srv.ret) TH_LOG("REPLY_RECV returned %d", srv.ret);
	EXPECT_EQ(0, srv.rerr) TH_LOG("reply_error %d: the restart replied again", srv.rerr);
	EXPECT_EQ(0, srv.token) TH_LOG("the token was not cleared");
	if (srv.ret == 2) {
		EXPECT_EQ(0, memcmp(srv.buf, "q2", 2));
		EXPECT_EQ(0, mb_reply(self->fd, srv.info.token, "r2", 2));
	}
	ASSERT_TRUE(call_wait(&second, 15000));
	call_join(&second);
	EXPECT_EQ(2, second.ret);
	EXPECT_EQ(0, memcmp(second.rbuf, "r2", 2));
}

/*
 * Likewise when the reply failed: the kernel cleared the token and wrote
 * reply_error back, which is output only; the restart neither replies
 * again nor fails on it, it receives.
 */
TEST_F_TIMEOUT(callreply, reply_recv_restarted_after_failed_reply_still_receives, 60)
{
	struct reply_recv_op srv;
	struct call_op second;

	ASSERT_EQ(0, catch_usr1(SA_RESTART));
	ASSERT_EQ(0, reply_recv_start(&srv, self->fd, 0x123456789abcdefULL));
	ASSERT_TRUE(mb_wait_waiters(self->fd, 0, 1, 3000));
	ASSERT_EQ(0, pthread_kill(srv.thread, SIGUSR1));
	ASSERT_TRUE(usr1_wait(1, 3000));
	EXPECT_TRUE(mb_wait_waiters(self->fd, 0, 1, 3000))
		TH_LOG("the restarted REPLY_RECV does not wait (ret %d)", srv.ret);

	ASSERT_EQ(0, call_start(&second, self->fd, "q2", 5 * NSEC_PER_SEC, 0, 64));
	reply_recv_end(&srv, self->fd, 5000);
	EXPECT_EQ(2, srv.ret) TH_LOG("REPLY_RECV returned %d", srv.ret);
	EXPECT_EQ(-ENOENT, srv.rerr);
	EXPECT_EQ(0, srv.token) TH_LOG("the token was not cleared");
	if (srv.ret == 2) {
		EXPECT_EQ(0, memcmp(srv.buf, "q2", 2));
		EXPECT_EQ(0, mb_reply(self->fd, srv.info.token, "r2", 2));
	}
	ASSERT_TRUE(call_wait(&second, 10000));
	call_join(&second);
	EXPECT_EQ(2, second.ret);
}

/* ---- requests taken without a token ----------------------------------- */

enum tokenless {
	BY_READ,	/* read(2) */
	BY_RECV,	/* RECV with no info */
	BY_RECVV,	/* a RECVV entry with no info */
};

/*
 * read(2), or a RECV (or RECVV entry) that asks for no info, takes a
 * request but cannot learn its token, so nobody can ever answer it: the
 * caller learns at once (EPROTO), not at its timeout.
 */
static void take_request_without_token(struct __test_metadata *_metadata,
				       FIXTURE_DATA(callreply) *self,
				       enum tokenless how)
{
	struct ipcbox_recv r[2];
	struct call_op op;
	char buf[64];
	int64_t t_read;
	int ret = INT_MIN;

	ASSERT_EQ(0, call_start(&op, self->fd, "by read", 3 * NSEC_PER_SEC, 0, 64));
	ASSERT_TRUE(mb_wait_waiters(self->fd, 1, 0, 3000));
	switch (how) {
	case BY_READ:
		ret = read(self->fd, buf, sizeof(buf));
		break;
	case BY_RECV:
		ret = mb_recv(self->fd, buf, sizeof(buf), 0, 0);
		break;
	case BY_RECVV:
		recv_args(&r[0], buf, sizeof(buf), 0, 0);
		recv_args(&r[1], buf, sizeof(buf), 0, 0);
		ret = mb_batch(self->fd, IPCBOX_IOC_RECVV, r, 2);
		break;
	}
	/* the message's length; for RECVV the one entry done */
	ASSERT_EQ(how == BY_RECVV ? 1 : 7, ret);
	t_read = now_ns();
	EXPECT_EQ(0, memcmp(buf, "by read", 7));
	ASSERT_TRUE(call_wait(&op, 10000));
	call_join(&op);
	EXPECT_EQ(-EPROTO, op.ret) TH_LOG("CALL returned %d", op.ret);
	EXPECT_LT(op.t_done - t_read, NSEC_PER_SEC)
		TH_LOG("the caller learnt %lld ms after the read",
		       (long long)(op.t_done - t_read) / NSEC_PER_MSEC);
	/* the request is gone: nothing left to receive or answer */
	EXPECT_EQ(0, mb_depth(self->fd));
}

TEST_F(callreply, read_of_a_request_fails_the_call_at_once)
{
	take_request_without_token(_metadata, self, BY_READ);
}

TEST_F(callreply, recv_without_info_of_a_request_fails_the_call_at_once)
{
	take_request_without_token(_metadata, self, BY_RECV);
}

TEST_F(callreply, recvv_entry_without_info_of_a_request_fails_the_call_at_once)
{
	take_request_without_token(_metadata, self, BY_RECVV);
}

/* ---- failed copies to the receiver ------------------------------------ */

/*
 * A receive whose copy to user space fails gives the request back; it
 * is still a live request of a waiting caller, which SHUTDOWN ends.
 */
TEST_F(callreply, request_given_back_after_failed_copy_still_ends_at_shutdown)
{
	struct ipcbox_msg_info info;
	struct call_op op;
	int64_t t_shut;

	ASSERT_EQ(0, call_start(&op, self->fd, "again", 3 * NSEC_PER_SEC, 0, 64));
	ASSERT_TRUE(mb_wait_waiters(self->fd, 1, 0, 3000));
	/* a receive that could answer it (it asks for the info) */
	EXPECT_EQ(-EFAULT, mb_recv_full(self->fd, (void *)8, 64, 0, 0, 0, 0,
					&info));
	EXPECT_EQ(1, mb_depth(self->fd));
	ASSERT_EQ(0, mb_shutdown(self->fd));
	t_shut = now_ns();
	ASSERT_TRUE(call_wait(&op, 10000));
	call_join(&op);
	EXPECT_EQ(-EPIPE, op.ret) TH_LOG("CALL returned %d", op.ret);
	EXPECT_LT(op.t_done - t_shut, 2 * NSEC_PER_SEC);
	EXPECT_EQ(0, mb_depth(self->fd));
}

/*
 * The room a failed receive made for a moment is not given away: the
 * message goes back, the blocked sender still waits, the depth never
 * exceeds the capacity, and both come out in send order.
 */
TEST_F(callreply, failed_receive_copy_keeps_depth_within_capacity)
{
	struct ipcbox_stat st;
	struct bg_op snd;
	char buf[64];

	self->fd2 = mb_anon(self->ctl, 1, 64);
	ASSERT_GE(self->fd2, 0);
	ASSERT_EQ(0, mb_send_str(self->fd2, "one"));
	bg_send_str(&snd, self->fd2, 0, "two");
	ASSERT_EQ(0, bg_start(&snd));
	ASSERT_TRUE(mb_wait_waiters(self->fd2, 1, 0, 3000));
	EXPECT_EQ(-EFAULT, mb_recv(self->fd2, (void *)8, 64, 0, 0));
	/* time for a sender wrongly let through to be counted as done */
	sleep_ms(100);
	ASSERT_EQ(0, mb_stat(self->fd2, &st));
	EXPECT_LE(st.depth, 1);
	EXPECT_EQ(1, st.waiting_senders);
	EXPECT_EQ(INT_MIN, snd.ret);

	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(3, mb_recv(self->fd2, buf, sizeof(buf), 0, LONG_NS));
	EXPECT_EQ(0, memcmp(buf, "one", 3));
	EXPECT_EQ(3, mb_recv(self->fd2, buf, sizeof(buf), 0, LONG_NS));
	EXPECT_EQ(0, memcmp(buf, "two", 3));
	bg_join(&snd);
	EXPECT_EQ(0, snd.ret);
	EXPECT_EQ(-EAGAIN, mb_recv(self->fd2, buf, sizeof(buf), 0, 0));
}

TEST_HARNESS_MAIN
