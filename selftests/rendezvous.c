// SPDX-License-Identifier: GPL-2.0
/*
 * Capacity 0 (rendezvous) and SYNC sends: a send completes only when a
 * receiver took the message, and "delivered" versus "failed" is decided
 * exactly once, even when the sender's timeout races the receiver.
 */
#include "ipcbox_test.h"
#include "kselftest_harness.h"

#include <poll.h>
#include <linux/userfaultfd.h>

FIXTURE(rendezvous) {
	int ctl;
	int fd;
	int fd2;	/* a second mailbox some tests make */
};

FIXTURE_SETUP(rendezvous)
{
	self->fd = -1;
	self->fd2 = -1;
	CTL_OPEN_OR_SKIP(self->ctl);
	self->fd = mb_anon(self->ctl, 0, 64);
	ASSERT_GE(self->fd, 0) TH_LOG("create: %s", strerror(-self->fd));
}

FIXTURE_TEARDOWN(rendezvous)
{
	close_fd(&self->fd2);
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

	EXPECT_EQ(-EAGAIN, mb_send(self->fd, "x", 1, IPCBOX_NONBLOCK, -1));
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
	EXPECT_EQ(0, mb_send(self->fd, "now", 3, IPCBOX_NONBLOCK, -1));
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
		ASSERT_EQ(-EAGAIN, mb_recv(fd, buf, sizeof(buf), IPCBOX_NONBLOCK, 0))
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

struct peek_op {
	pthread_t thread;
	int fd;
	char *buf;
	int ret;
};

static void *peek_thread(void *arg)
{
	struct peek_op *op = arg;

	op->ret = mb_recv(op->fd, op->buf, 64, IPCBOX_RECV_PEEK,
			  IPCBOX_TIMEOUT_INFINITE);
	return NULL;
}

/*
 * A blocked sender that gives up while a PEEK still copies its message
 * must not free the message under the peeker. The peek's buffer is a
 * userfaultfd page, so its copy stalls; the send times out; a new
 * message is allocated on the same CPU (it would reuse the memory of a
 * freed one); only then does the copy go on, and it must still see the
 * message it peeked.
 */
TEST_F(rendezvous, peek_outlives_a_sender_that_gives_up)
{
	long page = sysconf(_SC_PAGESIZE);
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg;
	struct uffdio_copy copy;
	struct uffd_msg m;
	struct peek_op peek;
	struct pollfd pfd;
	struct bg_op snd;
	char want[64], buf[64], *map, *zeros;
	cpu_set_t set;
	int uffd, other;

	uffd = syscall(__NR_userfaultfd, O_CLOEXEC);
	if (uffd < 0)
		SKIP(return, "userfaultfd: %m");
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_API, &api));
	map = mmap(NULL, page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	zeros = calloc(1, page);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_NE(NULL, zeros);
	memset(&reg, 0, sizeof(reg));
	reg.range.start = (uintptr_t)map;
	reg.range.len = page;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_REGISTER, &reg));

	/* One CPU for every thread: freed memory is the next allocated. */
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(set), &set));
	other = mb_anon(self->ctl, 1, 64);
	ASSERT_GE(other, 0);

	bg_init(&snd, BG_SEND, self->fd, 0);
	snd.len = 64;
	memset(snd.buf, 'A', 64);
	snd.timeout = 500 * NSEC_PER_MSEC;
	ASSERT_EQ(0, bg_start(&snd));
	ASSERT_TRUE(mb_wait_waiters(self->fd, 1, 0, 3000));

	peek.fd = self->fd;
	peek.buf = map;
	peek.ret = INT_MIN;
	ASSERT_EQ(0, pthread_create(&peek.thread, NULL, peek_thread, &peek));
	pfd.fd = uffd;
	pfd.events = POLLIN;
	ASSERT_EQ(1, poll(&pfd, 1, 3000)) TH_LOG("the peek's copy did not fault");
	ASSERT_EQ(sizeof(m), read(uffd, &m, sizeof(m)));
	ASSERT_EQ(UFFD_EVENT_PAGEFAULT, m.event);

	bg_join(&snd);
	EXPECT_EQ(-ETIMEDOUT, snd.ret);
	memset(buf, 'B', sizeof(buf));
	EXPECT_EQ(0, mb_send(other, buf, sizeof(buf), 0, 0));

	memset(&copy, 0, sizeof(copy));
	copy.dst = (uintptr_t)map;
	copy.src = (uintptr_t)zeros;
	copy.len = page;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_COPY, &copy));
	pthread_join(peek.thread, NULL);
	EXPECT_EQ(64, peek.ret);
	memset(want, 'A', sizeof(want));
	EXPECT_EQ(0, memcmp(map, want, sizeof(want)))
		TH_LOG("the peek saw other bytes: its message was freed");

	/* The other mailbox's message is whole. */
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(64, mb_recv(other, buf, sizeof(buf), 0, 0));
	memset(want, 'B', sizeof(want));
	EXPECT_EQ(0, memcmp(buf, want, sizeof(want)));
	close(other);
	close(uffd);
	munmap(map, page);
	free(zeros);
}

/* A receiver with a 4-byte buffer, taking up to 100 messages. */
struct small_receiver {
	pthread_t thread;
	int fd;
	int received;
	int ret;
};

static void *small_receiver_thread(void *arg)
{
	struct small_receiver *r = arg;
	char buf[4];
	int i;

	for (i = 0; i < 100; i++) {
		r->ret = mb_recv(r->fd, buf, sizeof(buf), 0,
				 IPCBOX_TIMEOUT_INFINITE);
		if (r->ret < 0)
			break;
		__atomic_add_fetch(&r->received, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

/*
 * A send the waiting receiver cannot take (its buffer is too small) is
 * refused, and must leave that receiver waiting as it was: a message it
 * can take, sent right after, is handed to it.
 */
TEST_F_TIMEOUT(rendezvous, refused_send_leaves_the_receiver_waiting, 120)
{
	int i, ok = 0, refused = 0, failed = 0, first_fail = -1;
	struct small_receiver r;
	char big[100], small[2] = "ok";
	int64_t end;

	self->fd2 = mb_anon(self->ctl, 0, 256);
	ASSERT_GE(self->fd2, 0);
	memset(big, 'b', sizeof(big));
	memset(&r, 0, sizeof(r));
	r.fd = self->fd2;
	ASSERT_EQ(0, pthread_create(&r.thread, NULL, small_receiver_thread, &r));
	for (i = 0; i < 100; i++) {
		/* the receiver is back in its receive, with all it was given */
		end = now_ns() + 5 * NSEC_PER_SEC;
		while ((__atomic_load_n(&r.received, __ATOMIC_ACQUIRE) != ok ||
			!mb_wait_waiters(self->fd2, 0, 1, 1)) && now_ns() < end)
			;
		ASSERT_EQ(ok, r.received) TH_LOG("round %d", i);
		if (mb_send(self->fd2, big, sizeof(big), IPCBOX_NONBLOCK, 0) == -EAGAIN)
			refused++;
		if (!mb_send(self->fd2, small, sizeof(small), IPCBOX_NONBLOCK, 0))
			ok++;
		else if (!failed++)
			first_fail = i;
	}
	TH_LOG("100 rounds: big refused %d, small delivered %d, failed %d (first: round %d)",
	       refused, ok, failed, first_fail);
	EXPECT_EQ(100, refused);
	EXPECT_EQ(0, failed);
	mb_shutdown(self->fd2);
	pthread_join(r.thread, NULL);
}

TEST_HARNESS_MAIN
