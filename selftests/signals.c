// SPDX-License-Identifier: GPL-2.0
/*
 * Signals during a wait: without SA_RESTART the call fails with EINTR and
 * has had no effect; with SA_RESTART an infinite or ABSTIME wait restarts
 * transparently (keeping its deadline), while a relative finite timeout
 * returns EINTR, as epoll_wait does.
 */
#include "ipcbox_test.h"
#include "kselftest_harness.h"

FIXTURE(signals) {
	int ctl;
	int fd;
	struct bg_op kick;	/* signals the main thread */
	struct bg_op peer;	/* sends or receives later */
	bool kick_started;
	bool peer_started;
};

FIXTURE_SETUP(signals)
{
	self->fd = -1;
	self->kick_started = false;
	self->peer_started = false;
	CTL_OPEN_OR_SKIP(self->ctl);
	self->fd = mb_anon(self->ctl, 2, 64);
	ASSERT_GE(self->fd, 0) TH_LOG("create: %s", strerror(-self->fd));
}

FIXTURE_TEARDOWN(signals)
{
	if (self->kick_started)
		bg_join(&self->kick);
	if (self->peer_started) {
		if (self->peer.ret == INT_MIN)
			mb_shutdown(self->fd);
		bg_join(&self->peer);
	}
	close_fd(&self->fd);
	close_fd(&self->ctl);
}

/* Signal this thread with SIGUSR1 after delay_ms. */
static int kick_me(FIXTURE_DATA(signals) *self, long delay_ms)
{
	bg_init(&self->kick, BG_SIGNAL, -1, delay_ms);
	self->kick.target = pthread_self();
	self->kick.sig = SIGUSR1;
	self->kick_started = !bg_start(&self->kick);
	return self->kick_started ? 0 : -1;
}

/* Start the peer operation set up in self->peer; the teardown ends it. */
static int peer_start(FIXTURE_DATA(signals) *self)
{
	self->peer_started = !bg_start(&self->peer);
	return self->peer_started ? 0 : -1;
}

/* The peer sends "late" 200 ms from now. */
static int peer_sends_late(FIXTURE_DATA(signals) *self)
{
	bg_send_str(&self->peer, self->fd, 200, "late");
	return peer_start(self);
}

TEST_F(signals, recv_interrupted_without_restart_is_eintr_and_consumes_nothing)
{
	struct ipcbox_stat st;
	char buf[64];

	ASSERT_EQ(0, catch_usr1(0));
	/* a message the filtered receive must not take */
	ASSERT_EQ(0, mb_send_full(self->fd, "keep", 4, 0, 0, 0, 1, NULL));
	ASSERT_EQ(0, kick_me(self, 100));
	EXPECT_EQ(-EINTR, mb_recv_full(self->fd, buf, sizeof(buf), IPCBOX_RECV_FILTER_TAG,
				       -1, 0, 2, NULL));
	EXPECT_EQ(1, usr1_handled);
	ASSERT_EQ(0, mb_stat(self->fd, &st));
	EXPECT_EQ(1, st.depth);
	EXPECT_EQ(0, st.received);
	EXPECT_EQ(0, st.waiting_receivers);
}

TEST_F(signals, read_interrupted_without_restart_is_eintr)
{
	char buf[64];

	ASSERT_EQ(0, catch_usr1(0));
	ASSERT_EQ(0, kick_me(self, 100));
	EXPECT_EQ(-1, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(EINTR, errno);
	EXPECT_EQ(1, usr1_handled);
}

TEST_F(signals, recv_with_sa_restart_and_no_timeout_restarts_and_completes)
{
	char buf[64];

	ASSERT_EQ(0, catch_usr1(SA_RESTART));
	ASSERT_EQ(0, kick_me(self, 80));
	ASSERT_EQ(0, peer_sends_late(self));
	EXPECT_EQ(4, mb_recv(self->fd, buf, sizeof(buf), 0, -1));
	EXPECT_EQ(1, usr1_handled);
	EXPECT_EQ(0, memcmp(buf, "late", 4));
}

TEST_F(signals, read_with_sa_restart_restarts_and_completes)
{
	char buf[64];

	ASSERT_EQ(0, catch_usr1(SA_RESTART));
	ASSERT_EQ(0, kick_me(self, 80));
	ASSERT_EQ(0, peer_sends_late(self));
	EXPECT_EQ(4, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(1, usr1_handled);
}

TEST_F(signals, recv_with_sa_restart_and_abstime_restarts_and_completes)
{
	char buf[64];

	ASSERT_EQ(0, catch_usr1(SA_RESTART));
	ASSERT_EQ(0, kick_me(self, 80));
	ASSERT_EQ(0, peer_sends_late(self));
	EXPECT_EQ(4, mb_recv(self->fd, buf, sizeof(buf), IPCBOX_ABSTIME,
			     now_ns() + 5 * NSEC_PER_SEC));
	EXPECT_EQ(1, usr1_handled);
}

TEST_F(signals, restarted_abstime_recv_keeps_its_deadline)
{
	char buf[64];
	int64_t deadline = now_ns() + 300 * NSEC_PER_MSEC;

	ASSERT_EQ(0, catch_usr1(SA_RESTART));
	ASSERT_EQ(0, kick_me(self, 100));
	EXPECT_EQ(-ETIMEDOUT, mb_recv(self->fd, buf, sizeof(buf), IPCBOX_ABSTIME, deadline));
	EXPECT_GE(now_ns(), deadline);
	/* a restart that started afresh would have run ~100 ms longer */
	EXPECT_LT(now_ns() - deadline, 2 * NSEC_PER_SEC);
	EXPECT_EQ(1, usr1_handled);
}

TEST_F(signals, recv_with_relative_timeout_is_eintr_even_with_sa_restart)
{
	char buf[64];
	int64_t t0 = now_ns();

	ASSERT_EQ(0, catch_usr1(SA_RESTART));
	ASSERT_EQ(0, kick_me(self, 80));
	EXPECT_EQ(-EINTR, mb_recv(self->fd, buf, sizeof(buf), 0, 2 * NSEC_PER_SEC));
	EXPECT_LT(now_ns() - t0, 2 * NSEC_PER_SEC);
	EXPECT_EQ(1, usr1_handled);
}

TEST_F(signals, send_on_full_interrupted_is_eintr_and_queues_nothing)
{
	struct ipcbox_stat st;

	ASSERT_EQ(0, catch_usr1(0));
	ASSERT_EQ(0, mb_send_str(self->fd, "1"));
	ASSERT_EQ(0, mb_send_str(self->fd, "2"));
	ASSERT_EQ(0, kick_me(self, 100));
	EXPECT_EQ(-EINTR, mb_send(self->fd, "3", 1, 0, -1));
	ASSERT_EQ(0, mb_stat(self->fd, &st));
	EXPECT_EQ(2, st.depth);
	EXPECT_EQ(2, st.sent);
	EXPECT_EQ(0, st.waiting_senders);
}

TEST_F(signals, send_on_full_with_sa_restart_restarts_and_completes)
{
	ASSERT_EQ(0, catch_usr1(SA_RESTART));
	ASSERT_EQ(0, mb_send_str(self->fd, "1"));
	ASSERT_EQ(0, mb_send_str(self->fd, "2"));
	ASSERT_EQ(0, kick_me(self, 80));
	bg_init(&self->peer, BG_RECV, self->fd, 200);
	ASSERT_EQ(0, peer_start(self));
	EXPECT_EQ(0, mb_send(self->fd, "3", 1, 0, -1));
	EXPECT_EQ(1, usr1_handled);
	EXPECT_EQ(2, mb_depth(self->fd));
}

TEST_F(signals, interrupted_rendezvous_send_never_delivers)
{
	int fd = mb_anon(self->ctl, 0, 64);
	char buf[64];

	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, catch_usr1(0));
	ASSERT_EQ(0, kick_me(self, 100));
	EXPECT_EQ(-EINTR, mb_send(fd, "x", 1, 0, -1));
	EXPECT_EQ(-ETIMEDOUT, mb_recv(fd, buf, sizeof(buf), 0, 50 * NSEC_PER_MSEC));
	close(fd);
}

TEST_F(signals, interrupted_sync_send_is_withdrawn)
{
	char buf[64];

	ASSERT_EQ(0, catch_usr1(0));
	ASSERT_EQ(0, kick_me(self, 100));
	EXPECT_EQ(-EINTR, mb_send(self->fd, "s", 1, IPCBOX_SEND_SYNC, -1));
	EXPECT_EQ(-EAGAIN, mb_recv(self->fd, buf, sizeof(buf), 0, 0));
}

TEST_F_SIGNAL(signals, fatal_signal_ends_a_blocked_receive, SIGTERM)
{
	char buf[64];

	bg_init(&self->kick, BG_SIGNAL, -1, 50);
	self->kick.target = pthread_self();
	self->kick.sig = SIGTERM;
	ASSERT_EQ(0, bg_start(&self->kick));
	mb_recv(self->fd, buf, sizeof(buf), 0, -1);
}

/* What a child in another time namespace saw of a message's timestamp. */
struct timens_stamp {
	int64_t t_start;	/* its CLOCK_MONOTONIC when it started */
	int64_t t_before;	/* ... before the send */
	int64_t stamp;		/* the message's timestamp_ns */
	int64_t t_after;	/* ... after the receive */
	int sent;
	int received;
};

/* ... and of an ABSTIME receive due 200 ms after its own now. */
struct timens_wait {
	int ret;
	int64_t waited;
};

static int timens_child(int fd, int out)
{
	struct ipcbox_msg_info info;
	struct timens_stamp st;
	struct timens_wait w;
	char buf[64];
	int64_t t0;

	memset(&st, 0, sizeof(st));
	st.t_start = now_ns();
	st.t_before = now_ns();
	st.sent = mb_send_str(fd, "when");
	st.received = mb_recv_full(fd, buf, sizeof(buf), 0, 0, 0, 0, &info);
	st.t_after = now_ns();
	st.stamp = info.timestamp_ns;
	if (write(out, &st, sizeof(st)) != sizeof(st))
		return 1;
	t0 = now_ns();
	w.ret = mb_recv(fd, buf, sizeof(buf), IPCBOX_ABSTIME,
			t0 + 200 * NSEC_PER_MSEC);
	w.waited = now_ns() - t0;
	return write(out, &w, sizeof(w)) == sizeof(w) ? 0 : 2;
}

/*
 * CLOCK_MONOTONIC is per time namespace: a task whose clock runs 1000 s
 * ahead gives ABSTIME deadlines and reads timestamps in its own clock, so
 * a deadline 200 ms ahead is 200 ms away for it, not 1000 s.
 */
TEST_F_TIMEOUT(signals, abstime_and_timestamps_follow_the_time_namespace, 60)
{
	struct timens_stamp st;
	struct timens_wait w;
	int64_t t_parent;
	bool waited;
	int p[2], ret, status;
	pid_t pid;

	if (unshare(CLONE_NEWTIME))
		SKIP(return, "unshare(CLONE_NEWTIME): %m");
	/* the offset applies to the children, which start in the namespace */
	ret = write_file_str("/proc/self/timens_offsets", "monotonic 1000 0");
	ASSERT_EQ(0, ret) TH_LOG("timens_offsets: %s", strerror(-ret));
	ASSERT_EQ(0, pipe(p));
	t_parent = now_ns();
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		close(p[0]);
		_exit(timens_child(self->fd, p[1]));
	}
	close(p[1]);
	if (read_full(p[0], &st, sizeof(st), 10000) != sizeof(st)) {
		kill(pid, SIGKILL);
		ASSERT_TRUE(false) TH_LOG("no report from the child (%d)", wait_child(pid));
	}
	ASSERT_GE(st.t_start - t_parent, 999 * NSEC_PER_SEC)
		TH_LOG("the child's clock is not 1000 s ahead");
	EXPECT_EQ(0, st.sent);
	EXPECT_EQ(4, st.received);
	EXPECT_GE(st.stamp, st.t_before)
		TH_LOG("timestamp %lld ms before the child's send",
		       (long long)(st.t_before - st.stamp) / NSEC_PER_MSEC);
	EXPECT_LE(st.stamp, st.t_after);

	/* a deadline read in the wrong clock would be 1000 s away */
	waited = read_full(p[0], &w, sizeof(w), 10000) == sizeof(w);
	if (!waited)
		kill(pid, SIGKILL);
	status = wait_child(pid);
	close(p[0]);
	ASSERT_TRUE(waited) TH_LOG("the ABSTIME receive still waits after 10 s");
	EXPECT_EQ(-ETIMEDOUT, w.ret);
	EXPECT_LT(w.waited, 2 * NSEC_PER_SEC)
		TH_LOG("waited %lld ms", (long long)w.waited / NSEC_PER_MSEC);
	EXPECT_EQ(0, status);
}

TEST_HARNESS_MAIN
