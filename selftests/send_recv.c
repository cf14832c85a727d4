// SPDX-License-Identifier: GPL-2.0
/*
 * SEND and RECV ioctls: flags, timeouts, priorities, tags, sequence
 * numbers, message info, PEEK, filters, SYNC, CACHE and the
 * size-versioned structs.
 */
#include "ipcbox_test.h"
#include "kselftest_harness.h"

#define CAP	4
#define MSZ	128

FIXTURE(mailbox) {
	int ctl;
	int fd;
	int fd2;
};

FIXTURE_SETUP(mailbox)
{
	self->fd = -1;
	self->fd2 = -1;
	CTL_OPEN_OR_SKIP(self->ctl);
	self->fd = mb_anon(self->ctl, CAP, MSZ);
	ASSERT_GE(self->fd, 0) TH_LOG("create: %s", strerror(-self->fd));
}

FIXTURE_TEARDOWN(mailbox)
{
	close_fd(&self->fd);
	close_fd(&self->fd2);
	close_fd(&self->ctl);
}

/* A child process that sends @s after @delay_ms and exits: its pid. */
static pid_t child_sends(int fd, const char *s, long delay_ms)
{
	pid_t pid = fork();

	if (pid == 0) {
		sleep_ms(delay_ms);
		_exit(mb_send_str(fd, s) ? 1 : 0);
	}
	return pid;
}

static void fill(int fd, int n)
{
	int i;

	for (i = 0; i < n; i++)
		mb_send(fd, "f", 1, 0, 0);
}

TEST_F(mailbox, send_returns_increasing_seq)
{
	uint64_t seq[3];
	int i;

	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, mb_send_full(self->fd, "s", 1, 0, 0, 0, 0, &seq[i]));
	EXPECT_LT(seq[0], seq[1]);
	EXPECT_LT(seq[1], seq[2]);
}

TEST_F(mailbox, recv_reports_seq_of_send)
{
	struct ipcbox_msg_info info;
	uint64_t seq;
	char buf[MSZ];

	ASSERT_EQ(0, mb_send_full(self->fd, "s", 1, 0, 0, 0, 0, &seq));
	ASSERT_EQ(1, mb_recv_full(self->fd, buf, sizeof(buf), 0, 0, 0, 0, &info));
	EXPECT_EQ(seq, info.seq);
}

TEST_F(mailbox, send_unknown_flag_is_einval)
{
	EXPECT_EQ(-EINVAL, mb_send(self->fd, "x", 1, 1U << 4, 0));
	EXPECT_EQ(-EINVAL, mb_send(self->fd, "x", 1, 1U << 31, 0));
	/* one flag space for all: a receive's flag means nothing to a send */
	EXPECT_EQ(-EINVAL, mb_send(self->fd, "x", 1, IPCBOX_RECV_PEEK, 0));
	EXPECT_EQ(0, mb_depth(self->fd));
}

TEST_F(mailbox, send_reserved_nonzero_is_einval)
{
	struct ipcbox_send s;

	send_args(&s, "x", 1, 0, 0, 0, 0);
	s.__reserved0 = 1;
	EXPECT_EQ(-EINVAL, sys_ioctl(self->fd, IPCBOX_IOC_SEND, &s));
	/* the whole field, not just its low bit */
	send_args(&s, "x", 1, 0, 0, 0, 0);
	s.__reserved0 = 1U << 31;
	EXPECT_EQ(-EINVAL, sys_ioctl(self->fd, IPCBOX_IOC_SEND, &s));
	EXPECT_EQ(0, mb_depth(self->fd));
}

TEST_F(mailbox, send_bad_buffer_is_efault_and_queues_nothing)
{
	struct ipcbox_stat st;

	EXPECT_EQ(-EFAULT, mb_send(self->fd, (void *)8, 16, 0, 0));
	ASSERT_EQ(0, mb_stat(self->fd, &st));
	EXPECT_EQ(0, st.depth);
	EXPECT_EQ(0, st.sent);
	EXPECT_EQ(-EFAULT, sys_ioctl(self->fd, IPCBOX_IOC_SEND, (void *)8));
}

TEST_F(mailbox, send_longer_than_msg_size_max_is_emsgsize)
{
	char buf[MSZ + 1] = { 0 };

	EXPECT_EQ(-EMSGSIZE, mb_send(self->fd, buf, MSZ + 1, 0, 0));
	EXPECT_EQ(0, mb_send(self->fd, buf, MSZ, 0, 0));
}

TEST_F(mailbox, send_zero_length_message_is_delivered)
{
	struct ipcbox_msg_info info;
	char buf[MSZ];

	ASSERT_EQ(0, mb_send_full(self->fd, buf, 0, 0, 0, 0, 77, NULL));
	EXPECT_EQ(1, mb_depth(self->fd));
	EXPECT_EQ(0, mb_recv_full(self->fd, buf, sizeof(buf), 0, 0, 0, 0, &info));
	EXPECT_EQ(77, info.tag);
	EXPECT_EQ(0, info.len);
}

TEST_F(mailbox, send_priority_32_is_einval)
{
	EXPECT_EQ(-EINVAL, mb_send_full(self->fd, "x", 1, 0, 0, IPCBOX_PRIO_MAX, 0, NULL));
	EXPECT_EQ(0, mb_send_full(self->fd, "x", 1, 0, 0, IPCBOX_PRIO_MAX - 1, 0, NULL));
}

TEST_F(mailbox, higher_priority_received_first)
{
	struct ipcbox_msg_info info;
	char buf[MSZ];

	ASSERT_EQ(0, mb_send_full(self->fd, "0", 1, 0, 0, 0, 0, NULL));
	ASSERT_EQ(0, mb_send_full(self->fd, "5", 1, 0, 0, 5, 0, NULL));
	ASSERT_EQ(0, mb_send_full(self->fd, "31", 2, 0, 0, 31, 0, NULL));
	ASSERT_EQ(0, mb_send_full(self->fd, "1", 1, 0, 0, 1, 0, NULL));
	ASSERT_EQ(2, mb_recv_full(self->fd, buf, sizeof(buf), 0, 0, 0, 0, &info));
	EXPECT_EQ(31, info.priority);
	ASSERT_EQ(1, mb_recv_full(self->fd, buf, sizeof(buf), 0, 0, 0, 0, &info));
	EXPECT_EQ(5, info.priority);
	ASSERT_EQ(1, mb_recv_full(self->fd, buf, sizeof(buf), 0, 0, 0, 0, &info));
	EXPECT_EQ(1, info.priority);
	ASSERT_EQ(1, mb_recv_full(self->fd, buf, sizeof(buf), 0, 0, 0, 0, &info));
	EXPECT_EQ(0, info.priority);
}

TEST_F(mailbox, fifo_within_a_priority)
{
	char buf[MSZ];

	ASSERT_EQ(0, mb_send_full(self->fd, "a", 1, 0, 0, 3, 0, NULL));
	ASSERT_EQ(0, mb_send_full(self->fd, "L", 1, 0, 0, 1, 0, NULL));
	ASSERT_EQ(0, mb_send_full(self->fd, "b", 1, 0, 0, 3, 0, NULL));
	ASSERT_EQ(0, mb_send_full(self->fd, "c", 1, 0, 0, 3, 0, NULL));
	ASSERT_EQ(1, mb_recv(self->fd, buf, sizeof(buf), 0, 0));
	EXPECT_EQ('a', buf[0]);
	ASSERT_EQ(1, mb_recv(self->fd, buf, sizeof(buf), 0, 0));
	EXPECT_EQ('b', buf[0]);
	ASSERT_EQ(1, mb_recv(self->fd, buf, sizeof(buf), 0, 0));
	EXPECT_EQ('c', buf[0]);
	ASSERT_EQ(1, mb_recv(self->fd, buf, sizeof(buf), 0, 0));
	EXPECT_EQ('L', buf[0]);
}

TEST_F(mailbox, send_nonblock_on_full_is_eagain)
{
	fill(self->fd, CAP);
	EXPECT_EQ(-EAGAIN, mb_send(self->fd, "x", 1, IPCBOX_NONBLOCK, -1));
	EXPECT_EQ(CAP, mb_depth(self->fd));
}

TEST_F(mailbox, send_timeout_zero_on_full_is_eagain)
{
	fill(self->fd, CAP);
	EXPECT_EQ(-EAGAIN, mb_send(self->fd, "x", 1, 0, 0));
}

TEST_F(mailbox, send_timeout_on_full_is_etimedout_after_timeout)
{
	int64_t t0;

	fill(self->fd, CAP);
	t0 = now_ns();
	EXPECT_EQ(-ETIMEDOUT, mb_send(self->fd, "x", 1, 0, 100 * NSEC_PER_MSEC));
	EXPECT_GE(now_ns() - t0, 100 * NSEC_PER_MSEC);
	EXPECT_LT(now_ns() - t0, 3 * NSEC_PER_SEC);
	EXPECT_EQ(CAP, mb_depth(self->fd));
}

TEST_F(mailbox, send_abstime_on_full_is_etimedout_at_deadline)
{
	int64_t deadline;

	fill(self->fd, CAP);
	deadline = now_ns() + 100 * NSEC_PER_MSEC;
	EXPECT_EQ(-ETIMEDOUT, mb_send(self->fd, "x", 1, IPCBOX_ABSTIME, deadline));
	EXPECT_GE(now_ns(), deadline);
	/* a deadline in the past fails at once */
	EXPECT_EQ(-ETIMEDOUT, mb_send(self->fd, "x", 1, IPCBOX_ABSTIME, now_ns() - 1000));
}

TEST_F(mailbox, send_timeout_succeeds_when_room_appears)
{
	struct bg_op op;

	fill(self->fd, CAP);
	bg_init(&op, BG_RECV, self->fd, 50);
	ASSERT_EQ(0, bg_start(&op));
	EXPECT_EQ(0, mb_send(self->fd, "x", 1, 0, 2 * NSEC_PER_SEC));
	bg_join(&op);
	EXPECT_EQ(1, op.ret);
}

TEST_F(mailbox, sync_send_returns_only_once_received)
{
	struct bg_op op;
	int64_t t0 = now_ns();

	bg_init(&op, BG_RECV, self->fd, 150);
	ASSERT_EQ(0, bg_start(&op));
	EXPECT_EQ(0, mb_send(self->fd, "sync", 4, IPCBOX_SEND_SYNC, -1));
	/* the receiver has taken it, so its receive ran and returned */
	EXPECT_GE(now_ns() - t0, 140 * NSEC_PER_MSEC);
	EXPECT_NE(0, op.t_start);
	EXPECT_EQ(0, mb_depth(self->fd));
	bg_join(&op);
	EXPECT_EQ(4, op.ret);
}

TEST_F(mailbox, sync_send_timeout_is_etimedout_and_not_delivered)
{
	char buf[MSZ];

	EXPECT_EQ(-ETIMEDOUT, mb_send(self->fd, "s", 1, IPCBOX_SEND_SYNC, 50 * NSEC_PER_MSEC));
	EXPECT_EQ(-EAGAIN, mb_recv(self->fd, buf, sizeof(buf), 0, 0));
}

TEST_F(mailbox, sync_nonblock_without_receiver_is_eagain)
{
	char buf[MSZ];

	EXPECT_EQ(-EAGAIN, mb_send(self->fd, "s", 1, IPCBOX_SEND_SYNC | IPCBOX_NONBLOCK, -1));
	EXPECT_EQ(-EAGAIN, mb_recv(self->fd, buf, sizeof(buf), 0, 0));
}

TEST_F(mailbox, cache_send_on_full_parks_and_returns_at_once)
{
	struct ipcbox_stat st;
	int64_t t0;

	fill(self->fd, CAP);
	t0 = now_ns();
	EXPECT_EQ(0, mb_send(self->fd, "c", 1, IPCBOX_SEND_CACHE, -1));
	EXPECT_LT(now_ns() - t0, 2 * NSEC_PER_SEC);
	ASSERT_EQ(0, mb_stat(self->fd, &st));
	EXPECT_EQ(CAP, st.depth);
	EXPECT_EQ(1, st.cached);
}

TEST_F(mailbox, cached_message_enters_queue_when_room_appears)
{
	struct ipcbox_stat st;
	char buf[MSZ];
	int i;

	fill(self->fd, CAP);
	ASSERT_EQ(0, mb_send(self->fd, "c", 1, IPCBOX_SEND_CACHE, -1));
	ASSERT_EQ(1, mb_recv(self->fd, buf, sizeof(buf), 0, 0));
	EXPECT_EQ('f', buf[0]);
	ASSERT_EQ(0, mb_stat(self->fd, &st));
	EXPECT_EQ(CAP, st.depth);
	EXPECT_EQ(0, st.cached);
	for (i = 0; i < CAP - 1; i++) {
		ASSERT_EQ(1, mb_recv(self->fd, buf, sizeof(buf), 0, 0));
		EXPECT_EQ('f', buf[0]);
	}
	ASSERT_EQ(1, mb_recv(self->fd, buf, sizeof(buf), 0, 0));
	EXPECT_EQ('c', buf[0]);
}

TEST_F(mailbox, second_cache_send_while_slot_taken_is_eagain)
{
	fill(self->fd, CAP);
	ASSERT_EQ(0, mb_send(self->fd, "1", 1, IPCBOX_SEND_CACHE, -1));
	EXPECT_EQ(-EAGAIN, mb_send(self->fd, "2", 1, IPCBOX_SEND_CACHE, -1));
}

TEST_F(mailbox, cache_slot_is_per_fd)
{
	char name[IPCBOX_NAME_MAX];
	struct ipcbox_stat st;
	int nfd, ofd;

	test_name(name, sizeof(name), "cache");
	nfd = mb_create(self->ctl, name, 1, 0, 0600, 0);
	ASSERT_GE(nfd, 0);
	ofd = mb_open(name, O_RDWR);
	mb_unlink(self->ctl, name);
	ASSERT_GE(ofd, 0);
	fill(nfd, 1);
	EXPECT_EQ(0, mb_send(nfd, "1", 1, IPCBOX_SEND_CACHE, -1));
	EXPECT_EQ(0, mb_send(ofd, "2", 1, IPCBOX_SEND_CACHE, -1));
	EXPECT_EQ(-EAGAIN, mb_send(ofd, "3", 1, IPCBOX_SEND_CACHE, -1));
	ASSERT_EQ(0, mb_stat(nfd, &st));
	EXPECT_EQ(2, st.cached);
	close(ofd);
	close(nfd);
}

TEST_F(mailbox, cache_send_with_room_queues_directly)
{
	struct ipcbox_stat st;

	EXPECT_EQ(0, mb_send(self->fd, "c", 1, IPCBOX_SEND_CACHE, -1));
	ASSERT_EQ(0, mb_stat(self->fd, &st));
	EXPECT_EQ(1, st.depth);
	EXPECT_EQ(0, st.cached);
	/* the slot is still free */
	fill(self->fd, CAP - 1);
	EXPECT_EQ(0, mb_send(self->fd, "d", 1, IPCBOX_SEND_CACHE, -1));
}

TEST_F(mailbox, recv_returns_length_and_info)
{
	struct ipcbox_msg_info info;
	char buf[MSZ];
	int64_t t0, t1;

	t0 = now_ns();
	ASSERT_EQ(0, mb_send_full(self->fd, "hello", 5, 0, 0, 7, 0xfeedULL << 32, NULL));
	t1 = now_ns();
	ASSERT_EQ(5, mb_recv_full(self->fd, buf, sizeof(buf), 0, 0, 0, 0, &info));
	EXPECT_EQ(0, memcmp(buf, "hello", 5));
	EXPECT_EQ(5, info.len);
	EXPECT_EQ(7, info.priority);
	EXPECT_EQ(0xfeedULL << 32, info.tag);
	EXPECT_GE(info.timestamp_ns, t0);
	EXPECT_LE(info.timestamp_ns, t1);
	EXPECT_EQ(getpid(), info.sender_tgid);
	EXPECT_EQ(test_gettid(), info.sender_tid);
	EXPECT_EQ(geteuid(), info.sender_uid);
	EXPECT_EQ(getegid(), info.sender_gid);
	EXPECT_EQ(0, info.token);
}

TEST_F(mailbox, recv_reports_tid_of_sending_thread)
{
	struct ipcbox_msg_info info;
	struct bg_op op;
	char buf[MSZ];

	bg_send_str(&op, self->fd, 0, "t");
	ASSERT_EQ(0, bg_start(&op));
	bg_join(&op);
	ASSERT_EQ(0, op.ret);
	ASSERT_EQ(1, mb_recv_full(self->fd, buf, sizeof(buf), 0, 0, 0, 0, &info));
	EXPECT_EQ(getpid(), info.sender_tgid);
	EXPECT_EQ(op.tid, info.sender_tid);
	EXPECT_NE(test_gettid(), info.sender_tid);
}

TEST_F(mailbox, recv_reports_sender_process_id_of_child)
{
	struct ipcbox_msg_info info;
	char buf[MSZ];
	pid_t pid = child_sends(self->fd, "child", 0);

	ASSERT_GE(pid, 0);
	ASSERT_EQ(0, wait_child(pid));
	ASSERT_EQ(5, mb_recv_full(self->fd, buf, sizeof(buf), 0, 0, 0, 0, &info));
	EXPECT_EQ(pid, info.sender_tgid);
	EXPECT_EQ(pid, info.sender_tid);
}

TEST_F(mailbox, peek_leaves_message_queued)
{
	struct ipcbox_msg_info a, b;
	char buf[MSZ];

	ASSERT_EQ(0, mb_send_full(self->fd, "peek", 4, 0, 0, 2, 9, NULL));
	ASSERT_EQ(4, mb_recv_full(self->fd, buf, sizeof(buf), IPCBOX_RECV_PEEK, 0, 0, 0, &a));
	EXPECT_EQ(0, memcmp(buf, "peek", 4));
	EXPECT_EQ(1, mb_depth(self->fd));
	ASSERT_EQ(4, mb_recv_full(self->fd, buf, sizeof(buf), 0, 0, 0, 0, &b));
	EXPECT_EQ(a.seq, b.seq);
	EXPECT_EQ(a.tag, b.tag);
	EXPECT_EQ(0, mb_depth(self->fd));
}

TEST_F(mailbox, filter_tag_skips_other_tags)
{
	struct ipcbox_msg_info info;
	char buf[MSZ];

	ASSERT_EQ(0, mb_send_full(self->fd, "a", 1, 0, 0, 0, 1, NULL));
	ASSERT_EQ(0, mb_send_full(self->fd, "b", 1, 0, 0, 0, 2, NULL));
	ASSERT_EQ(0, mb_send_full(self->fd, "c", 1, 0, 0, 0, 1, NULL));
	ASSERT_EQ(1, mb_recv_full(self->fd, buf, sizeof(buf), IPCBOX_RECV_FILTER_TAG,
				  0, 0, 2, &info));
	EXPECT_EQ('b', buf[0]);
	EXPECT_EQ(2, info.tag);
	EXPECT_EQ(-EAGAIN, mb_recv_full(self->fd, buf, sizeof(buf), IPCBOX_RECV_FILTER_TAG,
					0, 0, 3, &info));
	EXPECT_EQ(2, mb_depth(self->fd));
	ASSERT_EQ(1, mb_recv(self->fd, buf, sizeof(buf), 0, 0));
	EXPECT_EQ('a', buf[0]);
}

TEST_F(mailbox, filter_pid_skips_other_senders)
{
	struct ipcbox_msg_info info;
	char buf[MSZ];
	pid_t pid = child_sends(self->fd, "child", 0);

	ASSERT_GE(pid, 0);
	ASSERT_EQ(0, wait_child(pid));
	ASSERT_EQ(0, mb_send_str(self->fd, "me"));
	ASSERT_EQ(2, mb_recv_full(self->fd, buf, sizeof(buf), IPCBOX_RECV_FILTER_PID,
				  0, getpid(), 0, &info));
	EXPECT_EQ(getpid(), info.sender_tgid);
	ASSERT_EQ(5, mb_recv_full(self->fd, buf, sizeof(buf), IPCBOX_RECV_FILTER_PID,
				  0, pid, 0, &info));
	EXPECT_EQ(pid, info.sender_tgid);
}

TEST_F(mailbox, filter_pid_waits_for_that_sender)
{
	struct ipcbox_msg_info info;
	char buf[MSZ];
	int64_t t0;
	pid_t pid;

	ASSERT_EQ(0, mb_send_str(self->fd, "me"));
	t0 = now_ns();
	pid = child_sends(self->fd, "child", 100);
	ASSERT_GE(pid, 0);
	ASSERT_EQ(5, mb_recv_full(self->fd, buf, sizeof(buf), IPCBOX_RECV_FILTER_PID,
				  3 * NSEC_PER_SEC, pid, 0, &info));
	EXPECT_GE(now_ns() - t0, 90 * NSEC_PER_MSEC);
	EXPECT_EQ(pid, info.sender_tgid);
	EXPECT_EQ(0, wait_child(pid));
	EXPECT_EQ(1, mb_depth(self->fd));
}

TEST_F(mailbox, filter_pid_and_tag_together)
{
	struct ipcbox_msg_info info;
	char buf[MSZ];

	ASSERT_EQ(0, mb_send_full(self->fd, "a", 1, 0, 0, 0, 1, NULL));
	ASSERT_EQ(0, mb_send_full(self->fd, "b", 1, 0, 0, 0, 2, NULL));
	EXPECT_EQ(-EAGAIN, mb_recv_full(self->fd, buf, sizeof(buf),
					IPCBOX_RECV_FILTER_PID | IPCBOX_RECV_FILTER_TAG,
					0, getpid() + 1, 2, &info));
	ASSERT_EQ(1, mb_recv_full(self->fd, buf, sizeof(buf),
				  IPCBOX_RECV_FILTER_PID | IPCBOX_RECV_FILTER_TAG,
				  0, getpid(), 2, &info));
	EXPECT_EQ('b', buf[0]);
}

TEST_F(mailbox, filter_pid_not_positive_is_einval)
{
	char buf[MSZ];

	ASSERT_EQ(0, mb_send_str(self->fd, "a"));
	EXPECT_EQ(-EINVAL, mb_recv_full(self->fd, buf, sizeof(buf), IPCBOX_RECV_FILTER_PID,
					0, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, mb_recv_full(self->fd, buf, sizeof(buf), IPCBOX_RECV_FILTER_PID,
					0, -1, 0, NULL));
	EXPECT_EQ(1, mb_depth(self->fd));
}

TEST_F(mailbox, recv_nonblock_on_empty_is_eagain)
{
	char buf[MSZ];

	EXPECT_EQ(-EAGAIN, mb_recv(self->fd, buf, sizeof(buf), IPCBOX_NONBLOCK, -1));
	EXPECT_EQ(-EAGAIN, mb_recv(self->fd, buf, sizeof(buf), 0, 0));
}

TEST_F(mailbox, recv_timeout_is_etimedout_after_timeout)
{
	char buf[MSZ];
	int64_t t0 = now_ns();

	EXPECT_EQ(-ETIMEDOUT, mb_recv(self->fd, buf, sizeof(buf), 0, 100 * NSEC_PER_MSEC));
	EXPECT_GE(now_ns() - t0, 100 * NSEC_PER_MSEC);
	EXPECT_LT(now_ns() - t0, 3 * NSEC_PER_SEC);
}

TEST_F(mailbox, recv_abstime_is_etimedout_at_deadline)
{
	char buf[MSZ];
	int64_t deadline = now_ns() + 100 * NSEC_PER_MSEC;

	EXPECT_EQ(-ETIMEDOUT, mb_recv(self->fd, buf, sizeof(buf), IPCBOX_ABSTIME, deadline));
	EXPECT_GE(now_ns(), deadline);
}

/*
 * The info is output only, written in the size the caller gives: what it
 * held before does not matter, every byte of the kernel's struct is
 * written, and what the caller has beyond that is zero-filled.
 */
TEST_F(mailbox, recv_info_is_overwritten_and_zero_filled)
{
	unsigned char ibuf[sizeof(struct ipcbox_msg_info) + 24]
		__attribute__((aligned(8)));
	struct ipcbox_msg_info *info = (void *)ibuf;
	struct ipcbox_recv r;
	char buf[MSZ];
	uint64_t seq;
	size_t i;

	ASSERT_EQ(0, mb_send_full(self->fd, "a", 1, 0, 0, 3, 0, &seq));
	memset(ibuf, 0x5a, sizeof(ibuf));
	recv_args(&r, buf, sizeof(buf), 0, 0);
	r.info = (uintptr_t)ibuf;
	r.info_size = sizeof(ibuf);
	EXPECT_EQ(1, sys_ioctl(self->fd, IPCBOX_IOC_RECV, &r));
	EXPECT_EQ(seq, info->seq);
	EXPECT_EQ(0, info->tag);
	EXPECT_EQ(1, info->len);
	EXPECT_EQ(3, info->priority);
	EXPECT_EQ(getpid(), info->sender_tgid);
	EXPECT_EQ(test_gettid(), info->sender_tid);
	EXPECT_EQ(geteuid(), info->sender_uid);
	EXPECT_EQ(getegid(), info->sender_gid);
	EXPECT_EQ(0, info->token);
	for (i = sizeof(*info); i < sizeof(ibuf); i++)
		if (ibuf[i])
			break;
	EXPECT_EQ(sizeof(ibuf), i) TH_LOG("byte %zu past the info not zeroed", i);
	EXPECT_EQ(0, mb_depth(self->fd));
}

/*
 * info and info_size go together: 0 with 0, or a pointer with a size
 * from IPCBOX_MSG_INFO_SIZE_VER0 up to a page. Anything else is refused
 * before a message is taken.
 */
TEST_F(mailbox, recv_bad_info_size_is_einval)
{
	long page = sysconf(_SC_PAGESIZE);
	struct ipcbox_recv r;
	unsigned char *ibuf;
	char buf[MSZ];

	ASSERT_LT(0, page);
	/* room for all the kernel may write, should it accept a size */
	ibuf = calloc(1, page + 1);
	ASSERT_NE(NULL, ibuf);
	ASSERT_EQ(0, mb_send_str(self->fd, "a"));
	/* a size without a pointer */
	recv_args(&r, buf, sizeof(buf), 0, 0);
	r.info_size = sizeof(struct ipcbox_msg_info);
	EXPECT_EQ(-EINVAL, sys_ioctl(self->fd, IPCBOX_IOC_RECV, &r));
	/* a pointer without a size */
	recv_args(&r, buf, sizeof(buf), 0, 0);
	r.info = (uintptr_t)ibuf;
	EXPECT_EQ(-EINVAL, sys_ioctl(self->fd, IPCBOX_IOC_RECV, &r));
	/* below the first published size */
	r.info_size = IPCBOX_MSG_INFO_SIZE_VER0 - 8;
	EXPECT_EQ(-EINVAL, sys_ioctl(self->fd, IPCBOX_IOC_RECV, &r));
	/* above a page */
	r.info_size = page + 1;
	EXPECT_EQ(-EINVAL, sys_ioctl(self->fd, IPCBOX_IOC_RECV, &r));
	EXPECT_EQ(1, mb_depth(self->fd));
	/* a page is fine */
	r.info_size = page;
	EXPECT_EQ(1, sys_ioctl(self->fd, IPCBOX_IOC_RECV, &r));
	EXPECT_EQ(1, ((struct ipcbox_msg_info *)ibuf)->len);
	EXPECT_EQ(0, mb_depth(self->fd));
	free(ibuf);
}

TEST_F(mailbox, recv_unknown_flag_is_einval)
{
	char buf[MSZ];

	ASSERT_EQ(0, mb_send_str(self->fd, "a"));
	EXPECT_EQ(-EINVAL, mb_recv(self->fd, buf, sizeof(buf), 1U << 5, 0));
	/* one flag space for all: a send's flag means nothing to a receive */
	EXPECT_EQ(-EINVAL, mb_recv(self->fd, buf, sizeof(buf), IPCBOX_SEND_SYNC, 0));
	EXPECT_EQ(1, mb_depth(self->fd));
}

TEST_F(mailbox, recv_small_buffer_is_emsgsize_with_needed_len)
{
	struct ipcbox_msg_info info;
	char buf[MSZ];

	ASSERT_EQ(0, mb_send(self->fd, "0123456789", 10, 0, 0));
	EXPECT_EQ(-EMSGSIZE, mb_recv_full(self->fd, buf, 4, 0, 0, 0, 0, &info));
	EXPECT_EQ(10, info.len);
	EXPECT_EQ(1, mb_depth(self->fd));
	EXPECT_EQ(10, mb_recv(self->fd, buf, 10, 0, 0));
}

TEST_F(mailbox, recv_bad_buffer_is_efault_and_message_stays)
{
	struct ipcbox_recv r;
	char buf[MSZ];

	ASSERT_EQ(0, mb_send(self->fd, "0123456789", 10, 0, 0));
	EXPECT_EQ(-EFAULT, mb_recv(self->fd, (void *)8, sizeof(buf), 0, 0));
	EXPECT_EQ(1, mb_depth(self->fd));
	/* so does a bad info pointer with a good buffer */
	recv_args(&r, buf, sizeof(buf), 0, 0);
	r.info = 8;
	r.info_size = sizeof(struct ipcbox_msg_info);
	EXPECT_EQ(-EFAULT, sys_ioctl(self->fd, IPCBOX_IOC_RECV, &r));
	EXPECT_EQ(1, mb_depth(self->fd));
	EXPECT_EQ(10, mb_recv(self->fd, buf, sizeof(buf), 0, 0));
	EXPECT_EQ(0, memcmp(buf, "0123456789", 10));
	EXPECT_EQ(-EFAULT, sys_ioctl(self->fd, IPCBOX_IOC_RECV, (void *)8));
}

TEST_F(mailbox, send_larger_struct_with_zero_tail_works)
{
	unsigned char buf[IPCBOX_SEND_SIZE_VER0 + 24] = { 0 };
	struct ipcbox_send *s = (void *)buf;

	send_args(s, "big", 3, 0, 0, 0, 0);
	EXPECT_EQ(0, sys_ioctl(self->fd, ioc_resize(IPCBOX_IOC_SEND, sizeof(buf)), buf));
	EXPECT_EQ(1, mb_depth(self->fd));
}

TEST_F(mailbox, send_larger_struct_with_nonzero_tail_is_e2big)
{
	unsigned char buf[IPCBOX_SEND_SIZE_VER0 + 24] = { 0 };
	struct ipcbox_send *s = (void *)buf;

	send_args(s, "big", 3, 0, 0, 0, 0);
	buf[IPCBOX_SEND_SIZE_VER0 + 5] = 1;
	EXPECT_EQ(-E2BIG, sys_ioctl(self->fd, ioc_resize(IPCBOX_IOC_SEND, sizeof(buf)), buf));
	EXPECT_EQ(0, mb_depth(self->fd));
}

TEST_F(mailbox, send_struct_below_ver0_is_einval)
{
	struct ipcbox_send s;

	send_args(&s, "x", 1, 0, 0, 0, 0);
	EXPECT_EQ(-EINVAL, sys_ioctl(self->fd, ioc_resize(IPCBOX_IOC_SEND, 32), &s));
	EXPECT_EQ(0, mb_depth(self->fd));
}

TEST_F(mailbox, recv_larger_struct_with_zero_tail_works)
{
	unsigned char buf[IPCBOX_RECV_SIZE_VER0 + 16] = { 0 };
	struct ipcbox_recv *r = (void *)buf;
	struct ipcbox_msg_info info;
	char data[MSZ];

	ASSERT_EQ(0, mb_send_str(self->fd, "abc"));
	recv_args(r, data, sizeof(data), 0, 0);
	memset(&info, 0, sizeof(info));
	r->info = (uintptr_t)&info;
	r->info_size = sizeof(info);
	EXPECT_EQ(3, sys_ioctl(self->fd, ioc_resize(IPCBOX_IOC_RECV, sizeof(buf)), buf));
	EXPECT_EQ(3, info.len);
	EXPECT_EQ(getpid(), info.sender_tgid);
}

TEST_F(mailbox, recv_larger_struct_with_nonzero_tail_is_e2big)
{
	unsigned char buf[IPCBOX_RECV_SIZE_VER0 + 16] = { 0 };
	struct ipcbox_recv *r = (void *)buf;
	char data[MSZ];

	ASSERT_EQ(0, mb_send_str(self->fd, "abc"));
	recv_args(r, data, sizeof(data), 0, 0);
	buf[sizeof(buf) - 1] = 1;
	EXPECT_EQ(-E2BIG, sys_ioctl(self->fd, ioc_resize(IPCBOX_IOC_RECV, sizeof(buf)), buf));
	EXPECT_EQ(1, mb_depth(self->fd));
}

TEST_F(mailbox, recv_struct_below_ver0_is_einval)
{
	struct ipcbox_recv r;
	char data[MSZ];

	ASSERT_EQ(0, mb_send_str(self->fd, "abc"));
	recv_args(&r, data, sizeof(data), 0, 0);
	EXPECT_EQ(-EINVAL, sys_ioctl(self->fd,
				     ioc_resize(IPCBOX_IOC_RECV, IPCBOX_RECV_SIZE_VER0 - 8),
				     &r));
	EXPECT_EQ(1, mb_depth(self->fd));
}

#define TS_THREADS	4
#define TS_MSGS		25000	/* per thread, at most */
#define TS_SECS		3	/* of sending, at most */

struct ts_sender {
	pthread_t thread;
	int fd;
	int64_t end;
	int sent;
	int ret;
};

static void *ts_sender_thread(void *arg)
{
	struct ts_sender *ts = arg;
	uint64_t v = 0;

	while (ts->sent < TS_MSGS && now_ns() < ts->end) {
		ts->ret = mb_send(ts->fd, &v, sizeof(v), 0, 0);
		if (ts->ret)
			break;
		ts->sent++;
	}
	return NULL;
}

/*
 * timestamp_ns is the time the mailbox accepted the message, and seq the
 * order in which it did: taken together, so that concurrent senders
 * never get a later seq with an earlier timestamp. A sender delayed
 * (by an interrupt, say) between the two lets another overtake it, so
 * the senders go on for seconds, not for a number of messages.
 */
TEST_F_TIMEOUT(mailbox, timestamps_never_decrease_with_seq, 300)
{
	static uint64_t stamp[TS_THREADS * TS_MSGS + 1];
	struct ts_sender ts[TS_THREADS];
	struct ipcbox_msg_info info;
	int i, n, ret, total = 0, bad_seq = 0, back = 0, first_back = 0;
	char buf[MSZ];
	int64_t end;

	self->fd2 = mb_anon(self->ctl, IPCBOX_CAPACITY_UNBOUNDED, MSZ);
	ASSERT_GE(self->fd2, 0);
	end = now_ns() + TS_SECS * NSEC_PER_SEC;
	for (i = 0; i < TS_THREADS; i++) {
		memset(&ts[i], 0, sizeof(ts[i]));
		ts[i].fd = self->fd2;
		ts[i].end = end;
		ASSERT_EQ(0, pthread_create(&ts[i].thread, NULL, ts_sender_thread, &ts[i]));
	}
	for (i = 0; i < TS_THREADS; i++) {
		pthread_join(ts[i].thread, NULL);
		EXPECT_EQ(0, ts[i].ret) TH_LOG("sender %d", i);
		total += ts[i].sent;
	}
	for (n = 0; n < total; n++) {
		ret = mb_recv_full(self->fd2, buf, sizeof(buf), 0, 0, 0, 0, &info);
		ASSERT_EQ(8, ret) TH_LOG("message %d", n);
		/* this mailbox's seqs are 1, 2, ... */
		if (!info.seq || info.seq > total || stamp[info.seq]) {
			bad_seq++;
			continue;
		}
		stamp[info.seq] = info.timestamp_ns;
	}
	for (i = 2; i <= total; i++)
		if (stamp[i] < stamp[i - 1] && !back++)
			first_back = i;
	TH_LOG("%d messages: %d timestamps earlier than their predecessor's (first seq %d)",
	       total, back, first_back);
	EXPECT_EQ(0, bad_seq);
	EXPECT_EQ(0, back);
}

/*
 * Senders and receivers on two CPUs with messages of two sizes, so that
 * the mailbox's spare objects (kept from freed messages, of two kmalloc
 * classes here) are taken and given back by several tasks at once. A
 * task that read a spare's header after another had taken and freed it
 * was a use-after-free, found by KASAN on the debug kernel.
 */
#define SPARE_MSGS	4000	/* per sender */
#define SPARE_SMALL	8	/* a 72-byte object: kmalloc-96 */
#define SPARE_LARGE	100	/* 164 bytes: kmalloc-192 */

struct spare_side {
	pthread_t thread;
	int fd;
	int id;
	_Atomic long *received;
	long errors;
};

static void *spare_sender(void *arg)
{
	struct spare_side *sd = arg;
	unsigned char buf[SPARE_LARGE];
	long i;

	for (i = 0; i < SPARE_MSGS; i++) {
		size_t len = i % 2 ? SPARE_LARGE : SPARE_SMALL;

		memset(buf, (unsigned char)(sd->id * 31 + i), len);
		buf[0] = (unsigned char)sd->id;
		if (mb_send(sd->fd, buf, len, 0, 5 * NSEC_PER_SEC))
			sd->errors++;
	}
	return NULL;
}

static void *spare_receiver(void *arg)
{
	struct spare_side *sd = arg;
	unsigned char buf[SPARE_LARGE];
	int n, j;

	while (*sd->received < 2 * SPARE_MSGS) {
		n = mb_recv(sd->fd, buf, sizeof(buf), 0, 200 * NSEC_PER_MSEC);
		if (n == -ETIMEDOUT)
			continue;
		if (n != SPARE_SMALL && n != SPARE_LARGE) {
			sd->errors++;
			break;
		}
		for (j = 2; j < n; j++)
			if (buf[j] != buf[1])
				sd->errors++;
		(*sd->received)++;
	}
	return NULL;
}

TEST(spare_objects_shared_by_concurrent_senders_and_receivers)
{
	struct spare_side sd[4];
	_Atomic long received = 0;
	long errors = 0;
	int ctl, fd, i;

	CTL_OPEN_OR_SKIP(ctl);
	fd = mb_anon(ctl, 64, 256);
	ASSERT_GE(fd, 0);
	for (i = 0; i < 4; i++) {
		sd[i] = (struct spare_side){ .fd = fd, .id = i,
					     .received = &received };
		ASSERT_EQ(0, pthread_create(&sd[i].thread, NULL,
					    i < 2 ? spare_sender : spare_receiver,
					    &sd[i]));
	}
	for (i = 0; i < 4; i++) {
		pthread_join(sd[i].thread, NULL);
		errors += sd[i].errors;
	}
	EXPECT_EQ(0, errors);
	EXPECT_EQ(2 * SPARE_MSGS, received);
	EXPECT_EQ(0, mb_depth(fd));
	close(fd);
	close(ctl);
}

#define HOLDERS_MAX	255	/* PEEKs that copy one message at once */
#define HOLD_LEN	16

struct held_peek {
	pthread_t thread;
	int fd;
	char *buf;
	uint32_t flags;
	int64_t timeout;
	int ret;
	volatile int done;
};

static void *held_peek_fn(void *arg)
{
	struct held_peek *p = arg;

	p->ret = mb_recv(p->fd, p->buf, HOLD_LEN, IPCBOX_RECV_PEEK | p->flags,
			 p->timeout);
	__atomic_store_n(&p->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void held_peek_start(struct held_peek *p, int fd, char *buf,
			    uint32_t flags, int64_t timeout)
{
	memset(p, 0, sizeof(*p));
	p->fd = fd;
	p->buf = buf;
	p->flags = flags;
	p->timeout = timeout;
	p->ret = INT_MIN;
	if (pthread_create(&p->thread, NULL, held_peek_fn, p))
		p->done = -1;
}

static bool held_peek_done_within(struct held_peek *p, int ms)
{
	while (!__atomic_load_n(&p->done, __ATOMIC_ACQUIRE) && ms-- > 0)
		sleep_ms(1);
	return __atomic_load_n(&p->done, __ATOMIC_ACQUIRE);
}

static void on_usr1(int sig)
{
}

/*
 * A message counts the PEEKs copying it outside the lock, at most 255.
 * With 255 of them stalled in their copy-out (userfaultfd pages), a
 * further PEEK cannot hold the message: it must wait as a receive does,
 * by its own rules: non-blocking EAGAIN, timed ETIMEDOUT, EINTR on a
 * signal; it must not spin in the kernel until a holder lets go (which
 * the owner of the pages may never allow). Then the stalled copies go on
 * and each sees the whole message, which is still queued.
 */
TEST(peek_beyond_the_holder_limit_waits_by_its_own_rules)
{
	struct held_peek *held, nb, timed, intr;
	long page = sysconf(_SC_PAGESIZE);
	struct uffdio_zeropage zp;
	struct sigaction sa;
	char want[HOLD_LEN], buf[HOLD_LEN], extra[3][HOLD_LEN];
	char *map;
	int ctl, fd, uffd, faults = 0, i, bad = 0;
	struct ipcbox_stat st;

	CTL_OPEN_OR_SKIP(ctl);
	uffd = uffd_open();
	if (uffd < 0)
		SKIP(return, "userfaultfd: %s", strerror(-uffd));
	map = uffd_area(uffd, HOLDERS_MAX * page);
	ASSERT_NE(MAP_FAILED, map);
	held = calloc(HOLDERS_MAX, sizeof(*held));
	ASSERT_NE(NULL, held);
	fd = mb_anon(ctl, 1, HOLD_LEN);
	ASSERT_GE(fd, 0);
	memcpy(want, "held by 255 ...", HOLD_LEN);
	ASSERT_EQ(0, mb_send(fd, want, HOLD_LEN, 0, 0));

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;	/* no SA_RESTART */
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));

	for (i = 0; i < HOLDERS_MAX; i++)
		held_peek_start(&held[i], fd, map + i * page, 0,
				IPCBOX_TIMEOUT_INFINITE);
	while (faults < HOLDERS_MAX && uffd_fault_seen(uffd, 10000))
		faults++;
	ASSERT_EQ(HOLDERS_MAX, faults) TH_LOG("only %d copies stalled", faults);

	held_peek_start(&nb, fd, extra[0], IPCBOX_NONBLOCK, 0);
	held_peek_start(&timed, fd, extra[1], 0, 200 * NSEC_PER_MSEC);
	held_peek_start(&intr, fd, extra[2], 0, IPCBOX_TIMEOUT_INFINITE);
	EXPECT_TRUE(held_peek_done_within(&nb, 3000))
		TH_LOG("a non-blocking PEEK did not return");
	EXPECT_TRUE(held_peek_done_within(&timed, 3000))
		TH_LOG("a PEEK with a 200 ms timeout did not return in 3 s");
	sleep_ms(100);
	EXPECT_FALSE(__atomic_load_n(&intr.done, __ATOMIC_ACQUIRE))
		TH_LOG("a PEEK with no timeout returned %d", intr.ret);
	pthread_kill(intr.thread, SIGUSR1);
	EXPECT_TRUE(held_peek_done_within(&intr, 3000))
		TH_LOG("a signal did not end a waiting PEEK");
	/* none of them made a copy stall: the limit held */
	EXPECT_FALSE(uffd_fault_seen(uffd, 0));

	memset(&zp, 0, sizeof(zp));
	zp.range.start = (uintptr_t)map;
	zp.range.len = HOLDERS_MAX * page;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_ZEROPAGE, &zp));
	for (i = 0; i < HOLDERS_MAX; i++) {
		pthread_join(held[i].thread, NULL);
		if (held[i].ret != HOLD_LEN ||
		    memcmp(map + i * page, want, HOLD_LEN))
			bad++;
	}
	pthread_join(nb.thread, NULL);
	pthread_join(timed.thread, NULL);
	pthread_join(intr.thread, NULL);
	EXPECT_EQ(-EAGAIN, nb.ret);
	EXPECT_EQ(-ETIMEDOUT, timed.ret);
	EXPECT_EQ(-EINTR, intr.ret);
	EXPECT_EQ(0, bad) TH_LOG("%d of the stalled PEEKs did not see the message", bad);
	ASSERT_EQ(0, mb_stat(fd, &st));
	EXPECT_EQ(1, st.depth);
	EXPECT_EQ(HOLD_LEN, mb_recv(fd, buf, sizeof(buf), IPCBOX_NONBLOCK, 0));
	EXPECT_EQ(0, memcmp(buf, want, HOLD_LEN));
	close(fd);
	close(uffd);
	munmap(map, HOLDERS_MAX * page);
	free(held);
	close(ctl);
}

/*
 * Payloads are copied in and out by length: the short ones a word at a
 * time with a tail of bytes, the longer ones in one copy. Every length on
 * both sides of that boundary, from and to buffers at every offset in a
 * word, arrives exactly, and nothing is written past the receiver's
 * length.
 */
#define EDGE_MSZ	320

TEST(payload_of_every_length_is_copied_exactly)
{
	unsigned char out[EDGE_MSZ + 16], in[EDGE_MSZ + 32];
	size_t len, off, i;
	int ctl, fd;

	CTL_OPEN_OR_SKIP(ctl);
	fd = mb_anon(ctl, 1, EDGE_MSZ);
	ASSERT_LE(0, fd);
	for (len = 0; len <= EDGE_MSZ; len++) {
		off = len % 8;
		for (i = 0; i < len; i++)
			out[off + i] = (unsigned char)(len * 7 + i + 1);
		memset(in, 0xa5, sizeof(in));
		ASSERT_EQ(0, mb_send(fd, out + off, len, 0, 0));
		ASSERT_EQ((int)len, mb_recv(fd, in + 7 - off, len, 0, 0))
			TH_LOG("len %zu", len);
		ASSERT_EQ(0, memcmp(in + 7 - off, out + off, len))
			TH_LOG("len %zu", len);
		for (i = 0; i < 7 - off; i++)
			ASSERT_EQ(0xa5, in[i]);
		for (i = 7 - off + len; i < sizeof(in); i++)
			ASSERT_EQ(0xa5, in[i]) TH_LOG("len %zu: byte %zu", len, i);
	}
	close(fd);
	close(ctl);
}

/* Lengths around the word size and the short-copy boundary. */
static const size_t edge_lens[] = { 1, 7, 8, 9, 61, 64, 255, 256, 257, 300 };
#define NR_EDGE_LENS	(sizeof(edge_lens) / sizeof(edge_lens[0]))

/* A mailbox, and two read-write pages followed by a PROT_NONE one. */
FIXTURE(guarded) {
	int ctl;
	int fd;
	long page;
	unsigned char *map;
	unsigned char *guard;	/* the PROT_NONE page */
};

FIXTURE_SETUP(guarded)
{
	self->fd = -1;
	self->map = MAP_FAILED;
	CTL_OPEN_OR_SKIP(self->ctl);
	self->fd = mb_anon(self->ctl, 4, EDGE_MSZ);
	ASSERT_LE(0, self->fd);
	self->page = sysconf(_SC_PAGESIZE);
	self->map = mmap(NULL, 3 * self->page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->map);
	self->guard = self->map + 2 * self->page;
	ASSERT_EQ(0, mprotect(self->guard, self->page, PROT_NONE));
}

FIXTURE_TEARDOWN(guarded)
{
	if (self->map != MAP_FAILED)
		munmap(self->map, 3 * self->page);
	close_fd(&self->fd);
	close_fd(&self->ctl);
}

/*
 * A payload whose last byte, or last word, lies in a page that is not
 * there: EFAULT and nothing queued, whatever the length.
 */
TEST_F(guarded, send_of_payload_running_into_a_missing_page_is_efault)
{
	unsigned char *guard = self->guard;
	struct ipcbox_stat st;
	size_t i, into;

	for (i = 0; i < NR_EDGE_LENS; i++) {
		for (into = 1; into <= 8 && into <= edge_lens[i]; into += 7) {
			memset(guard - edge_lens[i] + into, 'p',
			       edge_lens[i] - into);
			EXPECT_EQ(-EFAULT, mb_send(self->fd,
						   guard - edge_lens[i] + into,
						   edge_lens[i], 0, 0))
				TH_LOG("len %zu, %zu byte(s) missing",
				       edge_lens[i], into);
		}
	}
	ASSERT_EQ(0, mb_stat(self->fd, &st));
	EXPECT_EQ(0, st.depth);
	EXPECT_EQ(0, st.sent);
}

/*
 * A receive into a buffer that runs into a missing page: EFAULT, and the
 * message stays queued, whole, for the next receive.
 */
TEST_F(guarded, recv_into_buffer_running_into_a_missing_page_leaves_the_message)
{
	unsigned char out[EDGE_MSZ], in[EDGE_MSZ], *guard = self->guard;
	size_t i, j;

	for (i = 0; i < NR_EDGE_LENS; i++) {
		for (j = 0; j < edge_lens[i]; j++)
			out[j] = (unsigned char)(i + j);
		ASSERT_EQ(0, mb_send(self->fd, out, edge_lens[i], 0, 0));
		/* the buffer's last byte is missing, then its last word */
		EXPECT_EQ(-EFAULT, mb_recv(self->fd, guard - edge_lens[i] + 1,
					   edge_lens[i], 0, 0))
			TH_LOG("len %zu", edge_lens[i]);
		if (edge_lens[i] >= 8)
			EXPECT_EQ(-EFAULT, mb_recv(self->fd,
						   guard - edge_lens[i] + 8,
						   edge_lens[i], 0, 0));
		EXPECT_EQ(1, mb_depth(self->fd));
		ASSERT_EQ((int)edge_lens[i], mb_recv(self->fd, in, sizeof(in),
						     0, 0));
		EXPECT_EQ(0, memcmp(in, out, edge_lens[i])) TH_LOG("len %zu",
								   edge_lens[i]);
	}
}

TEST_HARNESS_MAIN
