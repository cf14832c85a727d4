// SPDX-License-Identifier: GPL-2.0
/*
 * Readiness: poll, select and epoll report IN when a receive would not
 * block and OUT when a send would not block (for capacity 0: a waiting
 * sender or receiver), HUP after shutdown and drain; O_ASYNC delivers
 * SIGIO when a message arrives; poll OUT tells a CACHE slot is free.
 */
#include "ipcbox_test.h"

#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include "kselftest_harness.h"

static short revents(int fd, short events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n = poll(&p, 1, timeout_ms);

	return n < 0 ? -1 : p.revents;
}

FIXTURE(poll) {
	int ctl;
	int fd;
	int ep;
};

FIXTURE_SETUP(poll)
{
	self->fd = -1;
	self->ep = -1;
	CTL_OPEN_OR_SKIP(self->ctl);
}

FIXTURE_TEARDOWN(poll)
{
	close_fd(&self->ep);
	close_fd(&self->fd);
	close_fd(&self->ctl);
}

TEST_F(poll, empty_bounded_mailbox_is_writable_not_readable)
{
	self->fd = mb_anon(self->ctl, 2, 0);
	ASSERT_GE(self->fd, 0);
	EXPECT_EQ(POLLOUT | POLLWRNORM,
		  revents(self->fd, POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM, 0));
}

TEST_F(poll, queued_message_makes_it_readable)
{
	self->fd = mb_anon(self->ctl, 2, 0);
	ASSERT_GE(self->fd, 0);
	ASSERT_EQ(0, mb_send_str(self->fd, "x"));
	EXPECT_EQ(POLLIN | POLLOUT, revents(self->fd, POLLIN | POLLOUT, 0));
}

TEST_F(poll, full_mailbox_is_not_writable)
{
	self->fd = mb_anon(self->ctl, 2, 0);
	ASSERT_GE(self->fd, 0);
	ASSERT_EQ(0, mb_send_str(self->fd, "x"));
	ASSERT_EQ(0, mb_send_str(self->fd, "y"));
	EXPECT_EQ(POLLIN, revents(self->fd, POLLIN | POLLOUT, 0));
}

TEST_F(poll, unbounded_mailbox_is_always_writable)
{
	int i;

	self->fd = mb_anon(self->ctl, IPCBOX_CAPACITY_UNBOUNDED, 0);
	ASSERT_GE(self->fd, 0);
	for (i = 0; i < 64; i++)
		ASSERT_EQ(0, mb_send_str(self->fd, "x"));
	EXPECT_EQ(POLLIN | POLLOUT, revents(self->fd, POLLIN | POLLOUT, 0));
}

TEST_F(poll, poll_blocks_until_a_message_arrives)
{
	struct bg_op op;
	int64_t t0 = now_ns();

	self->fd = mb_anon(self->ctl, 2, 0);
	ASSERT_GE(self->fd, 0);
	bg_send_str(&op, self->fd, 100, "x");
	ASSERT_EQ(0, bg_start(&op));
	EXPECT_EQ(POLLIN, revents(self->fd, POLLIN, 5000));
	EXPECT_GE(now_ns() - t0, 90 * NSEC_PER_MSEC);
	bg_join(&op);
}

TEST_F(poll, poll_wakes_writer_when_room_appears)
{
	struct bg_op op;

	self->fd = mb_anon(self->ctl, 1, 0);
	ASSERT_GE(self->fd, 0);
	ASSERT_EQ(0, mb_send_str(self->fd, "x"));
	bg_init(&op, BG_RECV, self->fd, 100);
	ASSERT_EQ(0, bg_start(&op));
	EXPECT_EQ(POLLOUT, revents(self->fd, POLLOUT, 5000));
	bg_join(&op);
	EXPECT_EQ(1, op.ret);
}

TEST_F(poll, rendezvous_idle_is_neither_readable_nor_writable)
{
	self->fd = mb_anon(self->ctl, 0, 0);
	ASSERT_GE(self->fd, 0);
	EXPECT_EQ(0, revents(self->fd, POLLIN | POLLOUT, 0));
}

TEST_F(poll, rendezvous_readable_when_a_sender_waits)
{
	struct bg_op op;
	char buf[64];

	self->fd = mb_anon(self->ctl, 0, 0);
	ASSERT_GE(self->fd, 0);
	bg_send_str(&op, self->fd, 0, "x");
	ASSERT_EQ(0, bg_start(&op));
	EXPECT_EQ(POLLIN, revents(self->fd, POLLIN, 5000));
	EXPECT_EQ(1, mb_recv(self->fd, buf, sizeof(buf), 0, 0));
	bg_join(&op);
	EXPECT_EQ(0, op.ret);
}

TEST_F(poll, rendezvous_writable_when_a_receiver_waits)
{
	struct bg_op op;

	/* the receiver's buffer takes any message: POLLOUT promises that */
	self->fd = mb_anon(self->ctl, 0, sizeof(op.buf));
	ASSERT_GE(self->fd, 0);
	bg_init(&op, BG_RECV, self->fd, 0);
	ASSERT_EQ(0, bg_start(&op));
	EXPECT_EQ(POLLOUT, revents(self->fd, POLLOUT, 5000));
	EXPECT_EQ(0, mb_send(self->fd, "y", 1, IPCBOX_NONBLOCK, 0));
	bg_join(&op);
	EXPECT_EQ(1, op.ret);
}

/*
 * POLLOUT on a rendezvous mailbox promises that a send would not block:
 * a waiting receiver would take any message. One that filters on a tag,
 * or whose buffer is smaller than msg_size_max, would not.
 */
static void receivers_and_pollout(struct __test_metadata *_metadata,
				  FIXTURE_DATA(poll) *self, uint32_t flags,
				  size_t size)
{
	struct bg_op picky, any;

	self->fd = mb_anon(self->ctl, 0, 64);
	ASSERT_GE(self->fd, 0);
	bg_init(&picky, BG_RECV, self->fd, 0);
	picky.flags = flags;
	picky.rbuf = picky.buf;
	picky.rsize = size;
	picky.timeout = 10 * NSEC_PER_SEC;
	ASSERT_EQ(0, bg_start(&picky));
	ASSERT_TRUE(mb_wait_waiters(self->fd, 0, 1, 3000));
	EXPECT_EQ(0, revents(self->fd, POLLOUT, 0))
		TH_LOG("POLLOUT though the receiver would not take every message");

	/* a receiver that takes anything: now a send would not block */
	bg_init(&any, BG_RECV, self->fd, 0);
	any.timeout = 10 * NSEC_PER_SEC;
	ASSERT_EQ(0, bg_start(&any));
	ASSERT_TRUE(mb_wait_waiters(self->fd, 0, 2, 3000));
	EXPECT_EQ(POLLOUT, revents(self->fd, POLLOUT, 0));

	ASSERT_EQ(0, mb_shutdown(self->fd));
	bg_join(&picky);
	bg_join(&any);
	EXPECT_EQ(-EPIPE, picky.ret);
	EXPECT_EQ(-EPIPE, any.ret);
}

TEST_F(poll, rendezvous_filtered_receiver_alone_is_not_writable)
{
	receivers_and_pollout(_metadata, self, IPCBOX_RECV_FILTER_TAG, 64);
}

TEST_F(poll, rendezvous_receiver_with_small_buffer_alone_is_not_writable)
{
	receivers_and_pollout(_metadata, self, 0, 4);
}

TEST_F(poll, hup_only_after_shutdown_and_drain)
{
	char buf[64];
	short r;

	self->fd = mb_anon(self->ctl, 2, 0);
	ASSERT_GE(self->fd, 0);
	ASSERT_EQ(0, mb_send_str(self->fd, "x"));
	ASSERT_EQ(0, mb_shutdown(self->fd));
	r = revents(self->fd, POLLIN, 0);
	EXPECT_EQ(POLLIN, r & (POLLIN | POLLHUP));
	ASSERT_EQ(1, mb_recv(self->fd, buf, sizeof(buf), 0, 0));
	r = revents(self->fd, POLLIN, 0);
	EXPECT_EQ(POLLHUP, r & POLLHUP);
}

TEST_F(poll, shutdown_wakes_poller_with_hup)
{
	struct bg_op op;

	self->fd = mb_anon(self->ctl, 2, 0);
	ASSERT_GE(self->fd, 0);
	bg_init(&op, BG_SHUTDOWN, self->fd, 100);
	ASSERT_EQ(0, bg_start(&op));
	EXPECT_EQ(POLLHUP, revents(self->fd, POLLIN, 5000) & POLLHUP);
	bg_join(&op);
}

TEST_F(poll, select_reports_readable_and_writable)
{
	fd_set rd, wr;
	struct timeval tv = { 0, 0 };

	self->fd = mb_anon(self->ctl, 1, 0);
	ASSERT_GE(self->fd, 0);
	FD_ZERO(&rd);
	FD_ZERO(&wr);
	FD_SET(self->fd, &rd);
	FD_SET(self->fd, &wr);
	ASSERT_EQ(1, select(self->fd + 1, &rd, &wr, NULL, &tv));
	EXPECT_FALSE(FD_ISSET(self->fd, &rd));
	EXPECT_TRUE(FD_ISSET(self->fd, &wr));

	ASSERT_EQ(0, mb_send_str(self->fd, "x"));
	FD_ZERO(&rd);
	FD_ZERO(&wr);
	FD_SET(self->fd, &rd);
	FD_SET(self->fd, &wr);
	tv.tv_sec = 0;
	tv.tv_usec = 0;
	ASSERT_EQ(1, select(self->fd + 1, &rd, &wr, NULL, &tv));
	EXPECT_TRUE(FD_ISSET(self->fd, &rd));
	EXPECT_FALSE(FD_ISSET(self->fd, &wr));
}

TEST_F(poll, epoll_wakes_on_send)
{
	struct epoll_event ev = { .events = EPOLLIN }, out;
	struct bg_op op;

	self->fd = mb_anon(self->ctl, 2, 0);
	ASSERT_GE(self->fd, 0);
	self->ep = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_GE(self->ep, 0);
	ev.data.fd = self->fd;
	ASSERT_EQ(0, epoll_ctl(self->ep, EPOLL_CTL_ADD, self->fd, &ev));
	EXPECT_EQ(0, epoll_wait(self->ep, &out, 1, 0));
	bg_send_str(&op, self->fd, 50, "x");
	ASSERT_EQ(0, bg_start(&op));
	ASSERT_EQ(1, epoll_wait(self->ep, &out, 1, 5000));
	EXPECT_EQ(EPOLLIN, out.events & EPOLLIN);
	EXPECT_EQ(self->fd, out.data.fd);
	bg_join(&op);
}

TEST_F(poll, epoll_edge_triggered_reports_each_new_message)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET }, out;

	self->fd = mb_anon(self->ctl, 4, 0);
	ASSERT_GE(self->fd, 0);
	self->ep = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_GE(self->ep, 0);
	ASSERT_EQ(0, epoll_ctl(self->ep, EPOLL_CTL_ADD, self->fd, &ev));
	ASSERT_EQ(0, mb_send_str(self->fd, "1"));
	EXPECT_EQ(1, epoll_wait(self->ep, &out, 1, 1000));
	EXPECT_EQ(0, epoll_wait(self->ep, &out, 1, 0));
	ASSERT_EQ(0, mb_send_str(self->fd, "2"));
	EXPECT_EQ(1, epoll_wait(self->ep, &out, 1, 1000));
}

TEST_F(poll, epoll_out_after_receive_from_full)
{
	struct epoll_event ev = { .events = EPOLLOUT }, out;
	char buf[64];

	self->fd = mb_anon(self->ctl, 1, 0);
	ASSERT_GE(self->fd, 0);
	ASSERT_EQ(0, mb_send_str(self->fd, "x"));
	self->ep = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_GE(self->ep, 0);
	ASSERT_EQ(0, epoll_ctl(self->ep, EPOLL_CTL_ADD, self->fd, &ev));
	EXPECT_EQ(0, epoll_wait(self->ep, &out, 1, 0));
	ASSERT_EQ(1, mb_recv(self->fd, buf, sizeof(buf), 0, 0));
	ASSERT_EQ(1, epoll_wait(self->ep, &out, 1, 1000));
	EXPECT_EQ(EPOLLOUT, out.events & EPOLLOUT);
}

TEST_F(poll, cache_slot_taken_clears_out_and_free_sets_it)
{
	char buf[64];

	self->fd = mb_anon(self->ctl, 1, 0);
	ASSERT_GE(self->fd, 0);
	ASSERT_EQ(0, mb_send_str(self->fd, "x"));
	ASSERT_EQ(0, mb_send(self->fd, "c", 1, IPCBOX_SEND_CACHE, -1));
	EXPECT_EQ(0, revents(self->fd, POLLOUT, 0));
	/* room appears: the cached message moves in and the slot frees */
	ASSERT_EQ(1, mb_recv(self->fd, buf, sizeof(buf), 0, 0));
	EXPECT_EQ('x', buf[0]);
	EXPECT_EQ(-EAGAIN, mb_send(self->fd, "d", 1, IPCBOX_NONBLOCK, 0));
	EXPECT_EQ(0, mb_send(self->fd, "d", 1, IPCBOX_SEND_CACHE, -1));
	ASSERT_EQ(1, mb_recv(self->fd, buf, sizeof(buf), 0, 0));
	EXPECT_EQ('c', buf[0]);
	ASSERT_EQ(1, mb_recv(self->fd, buf, sizeof(buf), 0, 0));
	EXPECT_EQ('d', buf[0]);
	EXPECT_EQ(POLLOUT, revents(self->fd, POLLOUT, 0));
}

static volatile sig_atomic_t sigio_count;

static void on_sigio(int sig)
{
	(void)sig;
	sigio_count++;
}

TEST_F(poll, o_async_delivers_sigio_when_a_message_arrives)
{
	struct sigaction sa = { .sa_handler = on_sigio };
	int fl, i;

	self->fd = mb_anon(self->ctl, 2, 0);
	ASSERT_GE(self->fd, 0);
	ASSERT_EQ(0, sigaction(SIGIO, &sa, NULL));
	ASSERT_EQ(0, fcntl(self->fd, F_SETOWN, getpid()));
	fl = fcntl(self->fd, F_GETFL);
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, fl | O_ASYNC));
	sigio_count = 0;
	ASSERT_EQ(0, mb_send_str(self->fd, "x"));
	for (i = 0; i < 100 && !sigio_count; i++)
		sleep_ms(10);
	EXPECT_GE(sigio_count, 1);
}

TEST_F(poll, no_sigio_without_o_async)
{
	struct sigaction sa = { .sa_handler = on_sigio };

	self->fd = mb_anon(self->ctl, 2, 0);
	ASSERT_GE(self->fd, 0);
	ASSERT_EQ(0, sigaction(SIGIO, &sa, NULL));
	ASSERT_EQ(0, fcntl(self->fd, F_SETOWN, getpid()));
	sigio_count = 0;
	ASSERT_EQ(0, mb_send_str(self->fd, "x"));
	sleep_ms(50);
	EXPECT_EQ(0, sigio_count);
}

/*
 * O_ASYNC signals room as well as messages: with F_SETSIG the signal
 * says which (si_code POLL_OUT), so a writer waiting for room learns it.
 */
TEST_F(poll, o_async_signals_pollout_when_room_appears)
{
	struct timespec wait = { 1, 0 };
	int fl, sig, codes = 0, pollout = 0;
	char buf[16];
	siginfo_t si;
	sigset_t set;

	self->fd = mb_anon(self->ctl, 1, 0);
	ASSERT_GE(self->fd, 0);
	ASSERT_EQ(0, mb_send_str(self->fd, "x"));
	/* taken by sigtimedwait(), not by a handler */
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN);
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, &set, NULL));
	ASSERT_EQ(0, fcntl(self->fd, F_SETOWN, getpid()));
	ASSERT_EQ(0, fcntl(self->fd, F_SETSIG, SIGRTMIN));
	fl = fcntl(self->fd, F_GETFL);
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, fl | O_ASYNC));

	/* the full mailbox gets room */
	ASSERT_EQ(1, mb_recv(self->fd, buf, sizeof(buf), 0, 0));
	while ((sig = sigtimedwait(&set, &si, &wait)) == SIGRTMIN) {
		TH_LOG("signal: si_code %d, si_band %#lx", si.si_code, si.si_band);
		codes++;
		pollout += si.si_code == POLL_OUT && (si.si_band & POLLOUT);
		wait.tv_sec = 0;
		wait.tv_nsec = 100 * NSEC_PER_MSEC;
	}
	EXPECT_GE(pollout, 1) TH_LOG("%d signals, none POLL_OUT", codes);
}

TEST_HARNESS_MAIN
