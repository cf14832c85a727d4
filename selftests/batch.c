// SPDX-License-Identifier: GPL-2.0
/*
 * SENDV and RECVV: many sends or receives in one call, done in order; the
 * count done is returned, the first error only when nothing was done, and
 * for RECVV only the first receive waits.
 */
#include "ipcbox_test.h"
#include "kselftest_harness.h"

#define SHORT_NS	(150 * NSEC_PER_MSEC)

static int mb_sendv(int fd, struct ipcbox_send *msgs, uint32_t count)
{
	return mb_batch(fd, IPCBOX_IOC_SENDV, msgs, count);
}

static int mb_recvv(int fd, struct ipcbox_recv *msgs, uint32_t count)
{
	return mb_batch(fd, IPCBOX_IOC_RECVV, msgs, count);
}

FIXTURE(batch) {
	int ctl;
	int fd;
	char name[IPCBOX_NAME_MAX];
	char path[128];
	char bufs[IPCBOX_BATCH_MAX + 1][16];
	struct ipcbox_send s[IPCBOX_BATCH_MAX + 1];
	struct ipcbox_recv r[IPCBOX_BATCH_MAX + 1];
	struct ipcbox_msg_info info[IPCBOX_BATCH_MAX + 1];
};

FIXTURE_SETUP(batch)
{
	struct ipcbox_info info;

	self->fd = -1;
	self->name[0] = '\0';
	CTL_OPEN_OR_SKIP(self->ctl);
	ASSERT_EQ(0, ipcbox_get_info(self->ctl, &info));
	if (!(info.features & IPCBOX_FEAT_BATCH))
		SKIP(return, "module without IPCBOX_FEAT_BATCH");
	test_name(self->name, sizeof(self->name), "batch");
	dev_path(self->path, sizeof(self->path), self->name);
	self->fd = mb_create(self->ctl, self->name, 64, 64, 0600,
			     IPCBOX_CREATE_CLOEXEC);
	ASSERT_GE(self->fd, 0) TH_LOG("create: %s", strerror(-self->fd));
}

FIXTURE_TEARDOWN(batch)
{
	close_fd(&self->fd);
	if (self->ctl >= 0 && self->name[0])
		mb_unlink(self->ctl, self->name);
	close_fd(&self->ctl);
}

/* Entries 0..n-1 of self->s send "m<i>" tagged i with @flags. */
static void fill_sends(struct ipcbox_send *s, char (*bufs)[16], int n,
		       uint32_t flags, int64_t timeout)
{
	int i, len;

	for (i = 0; i < n; i++) {
		len = snprintf(bufs[i], sizeof(bufs[i]), "m%d", i);
		send_args(&s[i], bufs[i], len, flags, timeout, 0, i);
	}
}

/*
 * Entries 0..n-1 of @r receive into bufs[i]; with @info, entry i asks for
 * its message's info in info[i] (each entry points to its own).
 */
static void fill_recvs(struct ipcbox_recv *r, char (*bufs)[16],
		       struct ipcbox_msg_info *info, int n, uint32_t flags,
		       int64_t timeout)
{
	int i;

	memset(bufs, 0, (size_t)n * sizeof(bufs[0]));
	if (info)
		memset(info, 0, (size_t)n * sizeof(info[0]));
	for (i = 0; i < n; i++) {
		recv_args(&r[i], bufs[i], sizeof(bufs[i]) - 1, flags, timeout);
		if (info) {
			r[i].info = (uintptr_t)&info[i];
			r[i].info_size = sizeof(info[i]);
		}
	}
}

TEST_F(batch, sendv_64_then_recvv_64_in_order)
{
	char want[16];
	int i, len;

	fill_sends(self->s, self->bufs, 64, 0, -1);
	ASSERT_EQ(64, mb_sendv(self->fd, self->s, 64));
	EXPECT_EQ(64, mb_depth(self->fd));
	for (i = 1; i < 64; i++)
		EXPECT_GT(self->s[i].seq, self->s[i - 1].seq);

	fill_recvs(self->r, self->bufs, self->info, 64, 0, -1);
	ASSERT_EQ(64, mb_recvv(self->fd, self->r, 64));
	for (i = 0; i < 64; i++) {
		len = snprintf(want, sizeof(want), "m%d", i);
		EXPECT_EQ(len, self->info[i].len);
		EXPECT_STREQ(want, self->bufs[i]);
		EXPECT_EQ(i, self->info[i].tag);
		EXPECT_EQ(self->s[i].seq, self->info[i].seq);
		EXPECT_EQ(0, self->info[i].token);
		EXPECT_EQ(getpid(), self->info[i].sender_tgid);
	}
	EXPECT_EQ(0, mb_depth(self->fd));
}

TEST_F(batch, count_out_of_range_is_einval)
{
	struct ipcbox_batch b;

	fill_sends(self->s, self->bufs, IPCBOX_BATCH_MAX + 1, 0, -1);
	EXPECT_EQ(-EINVAL, mb_sendv(self->fd, self->s, 0));
	EXPECT_EQ(-EINVAL, mb_sendv(self->fd, self->s, IPCBOX_BATCH_MAX + 1));
	fill_recvs(self->r, self->bufs, NULL, IPCBOX_BATCH_MAX + 1, 0, 0);
	EXPECT_EQ(-EINVAL, mb_recvv(self->fd, self->r, 0));
	EXPECT_EQ(-EINVAL, mb_recvv(self->fd, self->r, IPCBOX_BATCH_MAX + 1));

	memset(&b, 0, sizeof(b));
	b.msgs = (uintptr_t)self->s;
	b.count = 1;
	b.entry_size = sizeof(self->s[0]);
	b.flags = 1;
	EXPECT_EQ(-EINVAL, sys_ioctl(self->fd, IPCBOX_IOC_SENDV, &b));
	b.flags = 0;
	b.__reserved0 = 1;
	EXPECT_EQ(-EINVAL, sys_ioctl(self->fd, IPCBOX_IOC_SENDV, &b));
	b.__reserved0 = 0;
	/* entries smaller than the first published size, or over a page */
	b.entry_size = IPCBOX_SEND_SIZE_VER0 - 8;
	EXPECT_EQ(-EINVAL, sys_ioctl(self->fd, IPCBOX_IOC_SENDV, &b));
	b.entry_size = 0;
	EXPECT_EQ(-EINVAL, sys_ioctl(self->fd, IPCBOX_IOC_SENDV, &b));
	b.entry_size = sysconf(_SC_PAGESIZE) + 8;
	EXPECT_EQ(-EINVAL, sys_ioctl(self->fd, IPCBOX_IOC_SENDV, &b));
	EXPECT_EQ(-EINVAL, mb_batch_sized(self->fd, IPCBOX_IOC_RECVV, self->r, 1,
					  IPCBOX_RECV_SIZE_VER0 - 8));
	EXPECT_EQ(0, mb_depth(self->fd));
	/* the same batch, well formed, is taken */
	b.entry_size = sizeof(self->s[0]);
	EXPECT_EQ(1, sys_ioctl(self->fd, IPCBOX_IOC_SENDV, &b));
	EXPECT_EQ(1, mb_depth(self->fd));
}

TEST_F(batch, sendv_stops_when_full)
{
	int fd = mb_anon(self->ctl, 4, 64);
	int i;

	ASSERT_GE(fd, 0);
	fill_sends(self->s, self->bufs, 10, IPCBOX_NONBLOCK, -1);
	EXPECT_EQ(4, mb_sendv(fd, self->s, 10));
	EXPECT_EQ(4, mb_depth(fd));
	for (i = 1; i < 4; i++)
		EXPECT_GT(self->s[i].seq, self->s[i - 1].seq);
	/* full: the first entry fails, so the error is returned */
	EXPECT_EQ(-EAGAIN, mb_sendv(fd, self->s, 10));
	fill_recvs(self->r, self->bufs, NULL, 10, 0, 0);
	EXPECT_EQ(4, mb_recvv(fd, self->r, 10));
	EXPECT_STREQ("m3", self->bufs[3]);
	EXPECT_EQ(0, mb_depth(fd));
	close(fd);
}

TEST_F(batch, sendv_bad_entry)
{
	fill_sends(self->s, self->bufs, 3, 0, -1);
	self->s[0].priority = IPCBOX_PRIO_MAX;
	EXPECT_EQ(-EINVAL, mb_sendv(self->fd, self->s, 3));
	EXPECT_EQ(0, mb_depth(self->fd));

	fill_sends(self->s, self->bufs, 3, 0, -1);
	self->s[0].len = 65;
	EXPECT_EQ(-EMSGSIZE, mb_sendv(self->fd, self->s, 3));
	EXPECT_EQ(0, mb_depth(self->fd));

	fill_sends(self->s, self->bufs, 3, 0, -1);
	self->s[0].__reserved0 = 1;
	EXPECT_EQ(-EINVAL, mb_sendv(self->fd, self->s, 3));
	EXPECT_EQ(0, mb_depth(self->fd));

	/* a bad entry after a good one: one done, no error */
	fill_sends(self->s, self->bufs, 3, 0, -1);
	self->s[1].flags = 0x80;
	EXPECT_EQ(1, mb_sendv(self->fd, self->s, 3));
	EXPECT_EQ(1, mb_depth(self->fd));
}

/*
 * Entries larger than the kernel's struct, entry_size apart: what it does
 * not know must be zero (E2BIG), and zero is fine.
 */
TEST_F(batch, larger_entries_need_a_zero_tail)
{
	struct { struct ipcbox_send s; __u64 tail; } big[3];
	struct { struct ipcbox_recv r; __u64 tail; } rbig[3];
	int i;

	memset(big, 0, sizeof(big));
	for (i = 0; i < 3; i++)
		send_args(&big[i].s, "big", 3, 0, -1, 0, i);
	big[0].tail = 1;
	EXPECT_EQ(-E2BIG, mb_batch_sized(self->fd, IPCBOX_IOC_SENDV, big, 3,
					 sizeof(big[0])));
	EXPECT_EQ(0, mb_depth(self->fd));
	big[0].tail = 0;
	big[1].tail = 1;
	/* the first is done, the second stops the batch */
	EXPECT_EQ(1, mb_batch_sized(self->fd, IPCBOX_IOC_SENDV, big, 3,
				    sizeof(big[0])));
	EXPECT_EQ(1, mb_depth(self->fd));
	big[1].tail = 0;
	EXPECT_EQ(3, mb_batch_sized(self->fd, IPCBOX_IOC_SENDV, big, 3,
				    sizeof(big[0])));
	EXPECT_GT(big[2].s.seq, big[0].s.seq);
	EXPECT_EQ(4, mb_depth(self->fd));

	fill_recvs(self->r, self->bufs, self->info, 3, 0, 0);
	memset(rbig, 0, sizeof(rbig));
	for (i = 0; i < 3; i++)
		rbig[i].r = self->r[i];
	rbig[0].tail = 1;
	EXPECT_EQ(-E2BIG, mb_batch_sized(self->fd, IPCBOX_IOC_RECVV, rbig, 3,
					 sizeof(rbig[0])));
	EXPECT_EQ(4, mb_depth(self->fd));
	rbig[0].tail = 0;
	EXPECT_EQ(3, mb_batch_sized(self->fd, IPCBOX_IOC_RECVV, rbig, 3,
				    sizeof(rbig[0])));
	EXPECT_STREQ("big", self->bufs[0]);
	EXPECT_EQ(0, self->info[0].tag);
	EXPECT_EQ(big[0].s.seq, self->info[1].seq);
	EXPECT_EQ(1, self->info[2].tag);
	EXPECT_EQ(1, mb_depth(self->fd));
}

TEST_F(batch, recvv_empty_nonblock_is_eagain)
{
	fill_recvs(self->r, self->bufs, NULL, 4, IPCBOX_NONBLOCK, -1);
	EXPECT_EQ(-EAGAIN, mb_recvv(self->fd, self->r, 4));
}

TEST_F(batch, recvv_takes_what_is_there)
{
	int64_t t0;

	fill_sends(self->s, self->bufs, 3, 0, -1);
	ASSERT_EQ(3, mb_sendv(self->fd, self->s, 3));
	/* every entry would wait forever: only the first may */
	fill_recvs(self->r, self->bufs, NULL, 8, 0, -1);
	t0 = now_ns();
	EXPECT_EQ(3, mb_recvv(self->fd, self->r, 8));
	EXPECT_LT(now_ns() - t0, NSEC_PER_SEC);
	EXPECT_STREQ("m0", self->bufs[0]);
	EXPECT_STREQ("m2", self->bufs[2]);
	EXPECT_EQ(0, self->bufs[3][0]);
	EXPECT_EQ(0, mb_depth(self->fd));
}

/*
 * An array that runs into unmapped memory: the entries before the fault
 * are done, in order, and their count returned; nothing after it is.
 */
TEST_F(batch, array_running_into_a_hole_stops_at_the_fault)
{
	long page = sysconf(_SC_PAGESIZE);
	struct ipcbox_send *s;
	struct ipcbox_recv *r;
	char *map, want[16];
	int i, len;

	map = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, munmap(map + page, page));

	/* Five sends fit before the hole; ask for twelve. */
	s = (struct ipcbox_send *)(map + page) - 5;
	fill_sends(s, self->bufs, 5, 0, -1);
	EXPECT_EQ(5, mb_sendv(self->fd, s, 12));
	EXPECT_EQ(5, mb_depth(self->fd));
	for (i = 1; i < 5; i++)
		EXPECT_GT(s[i].seq, s[i - 1].seq);

	/* Three receives fit; the first entry itself faulting is EFAULT. */
	r = (struct ipcbox_recv *)(map + page) - 3;
	fill_recvs(r, self->bufs, self->info, 3, 0, -1);
	EXPECT_EQ(3, mb_recvv(self->fd, r, 8));
	for (i = 0; i < 3; i++) {
		len = snprintf(want, sizeof(want), "m%d", i);
		EXPECT_EQ(len, self->info[i].len);
		EXPECT_STREQ(want, self->bufs[i]);
	}
	EXPECT_EQ(2, mb_depth(self->fd));
	EXPECT_EQ(-EFAULT, mb_recvv(self->fd, (struct ipcbox_recv *)(map + page), 2));
	EXPECT_EQ(-EFAULT, mb_sendv(self->fd, (struct ipcbox_send *)(map + page), 2));
	EXPECT_EQ(2, mb_depth(self->fd));
	munmap(map, page);
}

TEST_F(batch, recvv_first_times_out)
{
	int64_t t0 = now_ns();

	fill_recvs(self->r, self->bufs, NULL, 4, 0, SHORT_NS);
	EXPECT_EQ(-ETIMEDOUT, mb_recvv(self->fd, self->r, 4));
	EXPECT_GE(now_ns() - t0, SHORT_NS - 10 * NSEC_PER_MSEC);
}

TEST_F(batch, recvv_first_waits_for_a_sender)
{
	struct bg_op op;

	bg_send_str(&op, self->fd, 100, "late");
	ASSERT_EQ(0, bg_start(&op));
	fill_recvs(self->r, self->bufs, self->info, 4, 0, 5 * NSEC_PER_SEC);
	EXPECT_EQ(1, mb_recvv(self->fd, self->r, 4));
	bg_join(&op);
	EXPECT_EQ(0, op.ret);
	EXPECT_STREQ("late", self->bufs[0]);
	EXPECT_EQ(op.seq, self->info[0].seq);
}

TEST_F(batch, wrong_access_mode_is_ebadf)
{
	int rd = open(self->path, O_RDONLY | O_CLOEXEC);
	int wr = open(self->path, O_WRONLY | O_CLOEXEC);

	ASSERT_GE(rd, 0);
	ASSERT_GE(wr, 0);
	fill_sends(self->s, self->bufs, 2, 0, -1);
	EXPECT_EQ(-EBADF, mb_sendv(rd, self->s, 2));
	EXPECT_EQ(2, mb_sendv(wr, self->s, 2));
	fill_recvs(self->r, self->bufs, NULL, 2, 0, 0);
	EXPECT_EQ(-EBADF, mb_recvv(wr, self->r, 2));
	EXPECT_EQ(2, mb_recvv(rd, self->r, 2));
	close(rd);
	close(wr);
}

TEST_HARNESS_MAIN
