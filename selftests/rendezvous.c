// SPDX-License-Identifier: GPL-2.0
/*
 * Capacity 0 (rendezvous) and SYNC sends: a send completes only when a
 * receiver took the message, and "delivered" versus "failed" is decided
 * exactly once, even when the sender's timeout races the receiver.
 */
#include "ipcbox_test.h"
#include "kselftest_harness.h"

FIXTURE(rendezvous) {
	int ctl;
	int fd;
};

FIXTURE_SETUP(rendezvous)
{
	self->fd = -1;
	self->ctl = ctl_open();
	if (self->ctl < 0)
		SKIP(return, "%s: %m (ipcbox.ko not loaded?)", IPCBOX_CONTROL_PATH);
	self->fd = mb_anon(self->ctl, 0, 64);
	ASSERT_GE(self->fd, 0) TH_LOG("create: %s", strerror(-self->fd));
}

FIXTURE_TEARDOWN(rendezvous)
{
	close_fd(&self->fd);
	close_fd(&self->ctl);
}

TEST_F(rendezvous, send_blocks_until_a_receiver_takes_it)
{
	struct bg_op op;
	int64_t t0 = now_ns();

	bg_init(&op, BG_RECV, self->fd, 150);
	ASSERT_EQ(0, bg_start(&op));
	EXPECT_EQ(0, mb_send_str(self->fd, "meet"));
	EXPECT_GE(now_ns() - t0, 140 * NSEC_PER_MSEC);
	bg_join(&op);
	EXPECT_EQ(4, op.ret);
	EXPECT_EQ(0, memcmp(op.buf, "meet", 4));
}

TEST_F(rendezvous, write_blocks_until_a_reader_takes_it)
{
	struct bg_op op;
	int64_t t0 = now_ns();

	bg_init(&op, BG_READ, self->fd, 100);
	ASSERT_EQ(0, bg_start(&op));
	EXPECT_EQ(2, write(self->fd, "hi", 2));
	EXPECT_GE(now_ns() - t0, 90 * NSEC_PER_MSEC);
	bg_join(&op);
	EXPECT_EQ(2, op.ret);
}

TEST_F(rendezvous, receive_blocks_until_a_sender_comes)
{
	struct bg_op op;
	char buf[64];
	int64_t t0 = now_ns();

	bg_send_str(&op, self->fd, 100, "late");
	ASSERT_EQ(0, bg_start(&op));
	EXPECT_EQ(4, mb_recv(self->fd, buf, sizeof(buf), 0, -1));
	EXPECT_GE(now_ns() - t0, 90 * NSEC_PER_MSEC);
	bg_join(&op);
	EXPECT_EQ(0, op.ret);
}

TEST_F(rendezvous, nonblocking_send_without_receiver_is_eagain)
{
	struct ipcbox_stat st;

	EXPECT_EQ(-EAGAIN, mb_send(self->fd, "x", 1, IPCBOX_SEND_NONBLOCK, -1));
	EXPECT_EQ(-EAGAIN, mb_send(self->fd, "x", 1, 0, 0));
	ASSERT_EQ(0, mb_stat(self->fd, &st));
	EXPECT_EQ(0, st.depth);
	EXPECT_EQ(0, st.sent);
}

TEST_F(rendezvous, nonblocking_send_with_waiting_receiver_succeeds)
{
	struct bg_op op;

	bg_init(&op, BG_RECV, self->fd, 0);
	ASSERT_EQ(0, bg_start(&op));
	ASSERT_TRUE(mb_wait_waiters(self->fd, 0, 1, 3000));
	EXPECT_EQ(0, mb_send(self->fd, "now", 3, IPCBOX_SEND_NONBLOCK, -1));
	bg_join(&op);
	EXPECT_EQ(3, op.ret);
	EXPECT_EQ(0, memcmp(op.buf, "now", 3));
}

TEST_F(rendezvous, timed_send_without_receiver_times_out_and_never_delivers)
{
	struct ipcbox_stat st;
	char buf[64];
	int64_t t0 = now_ns();

	EXPECT_EQ(-ETIMEDOUT, mb_send(self->fd, "ghost", 5, 0, 100 * NSEC_PER_MSEC));
	EXPECT_GE(now_ns() - t0, 100 * NSEC_PER_MSEC);
	/* a receiver arriving afterwards must not see it */
	EXPECT_EQ(-ETIMEDOUT, mb_recv(self->fd, buf, sizeof(buf), 0, 50 * NSEC_PER_MSEC));
	ASSERT_EQ(0, mb_stat(self->fd, &st));
	EXPECT_EQ(0, st.depth);
	EXPECT_EQ(0, st.received);
	EXPECT_EQ(0, st.waiting_senders);
}

TEST_F(rendezvous, depth_is_zero_while_a_sender_waits)
{
	struct bg_op op;
	struct ipcbox_stat st;
	char buf[64];

	bg_send_str(&op, self->fd, 0, "w");
	ASSERT_EQ(0, bg_start(&op));
	ASSERT_TRUE(mb_wait_waiters(self->fd, 1, 0, 3000));
	ASSERT_EQ(0, mb_stat(self->fd, &st));
	EXPECT_EQ(1, st.waiting_senders);
	EXPECT_EQ(0, st.capacity);
	ASSERT_EQ(1, mb_recv(self->fd, buf, sizeof(buf), 0, 0));
	bg_join(&op);
	EXPECT_EQ(0, op.ret);
}

TEST_F(rendezvous, waiting_senders_served_in_arrival_order)
{
	struct bg_op op[3];
	char buf[64];
	int i;

	for (i = 0; i < 3; i++) {
		bg_init(&op[i], BG_SEND, self->fd, 0);
		op[i].len = 1;
		op[i].buf[0] = '0' + i;
		ASSERT_EQ(0, bg_start(&op[i]));
		ASSERT_TRUE(mb_wait_waiters(self->fd, i + 1, 0, 3000));
	}
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(1, mb_recv(self->fd, buf, sizeof(buf), 0, NSEC_PER_SEC));
		EXPECT_EQ('0' + i, buf[0]);
	}
	for (i = 0; i < 3; i++) {
		bg_join(&op[i]);
		EXPECT_EQ(0, op[i].ret);
	}
}

/*
 * Timed sends race timed receives with nearly equal timeouts. Whatever
 * the outcome, every send reported OK must have been received, and every
 * received message must have been reported OK to its sender.
 */
static void race(struct __test_metadata *_metadata, int fd, uint32_t sflags,
		 int iters)
{
	int sent_ok = 0, recv_ok = 0, i;
	struct bg_op op;
	char buf[64];
	int ret;

	for (i = 0; i < iters; i++) {
		int64_t t = (2 + (i % 5)) * NSEC_PER_MSEC;

		bg_init(&op, BG_SEND, fd, 0);
		op.len = sizeof(i);
		memcpy(op.buf, &i, sizeof(i));
		op.flags = sflags;
		op.timeout = t;
		ASSERT_EQ(0, bg_start(&op));
		ret = mb_recv(fd, buf, sizeof(buf), 0, t + ((i & 1) ? 1000 : -1000));
		bg_join(&op);
		if (ret == (int)sizeof(i)) {
			recv_ok++;
			EXPECT_EQ(0, memcmp(buf, &i, sizeof(i)))
				TH_LOG("iteration %d got a stale message", i);
		} else {
			EXPECT_EQ(-ETIMEDOUT, ret);
		}
		if (op.ret == 0)
			sent_ok++;
		else
			EXPECT_EQ(-ETIMEDOUT, op.ret) TH_LOG("send: %s", strerror(-op.ret));
		/* a failed send must not linger to be received later */
		ASSERT_EQ(-EAGAIN, mb_recv(fd, buf, sizeof(buf), IPCBOX_RECV_NONBLOCK, 0))
			TH_LOG("iteration %d: a failed send was still queued", i);
		ASSERT_EQ(sent_ok, recv_ok) TH_LOG("iteration %d", i);
	}
	TH_LOG("%d of %d exchanges completed", recv_ok, iters);
}

TEST_F_TIMEOUT(rendezvous, timed_send_racing_timed_receive_decides_once, 120)
{
	race(_metadata, self->fd, 0, 400);
}

TEST_F_TIMEOUT(rendezvous, sync_send_on_bounded_racing_receive_decides_once, 120)
{
	int fd = mb_anon(self->ctl, 4, 64);

	ASSERT_GE(fd, 0);
	race(_metadata, fd, IPCBOX_SEND_SYNC, 400);
	close(fd);
}

TEST_F(rendezvous, sync_send_on_bounded_waits_for_receiver)
{
	int fd = mb_anon(self->ctl, 4, 64);
	struct bg_op op;
	int64_t t0 = now_ns();

	ASSERT_GE(fd, 0);
	bg_init(&op, BG_RECV, fd, 120);
	ASSERT_EQ(0, bg_start(&op));
	EXPECT_EQ(0, mb_send(fd, "s", 1, IPCBOX_SEND_SYNC, -1));
	EXPECT_GE(now_ns() - t0, 110 * NSEC_PER_MSEC);
	bg_join(&op);
	EXPECT_EQ(1, op.ret);
	close(fd);
}

TEST_F(rendezvous, sync_sends_keep_queue_order_on_bounded)
{
	int fd = mb_anon(self->ctl, 4, 64);
	struct bg_op op;
	char buf[64];

	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, mb_send_str(fd, "first"));
	bg_init(&op, BG_SEND, fd, 0);
	op.len = 6;
	memcpy(op.buf, "second", 6);
	op.flags = IPCBOX_SEND_SYNC;
	ASSERT_EQ(0, bg_start(&op));
	sleep_ms(50);
	EXPECT_EQ(INT_MIN, op.ret);
	ASSERT_EQ(5, mb_recv(fd, buf, sizeof(buf), 0, NSEC_PER_SEC));
	sleep_ms(30);
	EXPECT_EQ(INT_MIN, op.ret) TH_LOG("SYNC send returned before its message was taken");
	ASSERT_EQ(6, mb_recv(fd, buf, sizeof(buf), 0, NSEC_PER_SEC));
	bg_join(&op);
	EXPECT_EQ(0, op.ret);
	close(fd);
}

TEST_HARNESS_MAIN
