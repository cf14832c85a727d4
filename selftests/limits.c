// SPDX-License-Identifier: GPL-2.0
/*
 * Module limits under /sys/module/ipcbox/parameters: mailboxes in all
 * (ENOSPC), per user (EDQUOT), message size, capacity and the byte cap
 * of unbounded queues (ENOBUFS). Every test restores what it changed.
 */
#include "ipcbox_test.h"
#include "kselftest_harness.h"

static const char * const params[] = {
	"max_mailboxes", "max_per_user", "max_msg_size", "max_capacity",
	"max_unbounded_bytes",
};
#define NR_PARAMS	(sizeof(params) / sizeof(params[0]))
#define NR_FDS		16

FIXTURE(limits) {
	int ctl;
	int fds[NR_FDS];
	char name[IPCBOX_NAME_MAX];	/* a named mailbox, unlinked after */
	unsigned long long saved[NR_PARAMS];
	bool have_saved;
};

FIXTURE_SETUP(limits)
{
	int i;

	for (i = 0; i < NR_FDS; i++)
		self->fds[i] = -1;
	self->name[0] = '\0';
	self->have_saved = false;
	CTL_OPEN_OR_SKIP(self->ctl);
	i = params_save(params, NR_PARAMS, self->saved);
	ASSERT_EQ(-1, i) TH_LOG("cannot read %s", params[i]);
	self->have_saved = true;
}

FIXTURE_TEARDOWN(limits)
{
	int i;

	for (i = 0; i < NR_FDS; i++)
		close_fd(&self->fds[i]);
	if (self->ctl >= 0 && self->name[0])
		mb_unlink(self->ctl, self->name);
	if (self->have_saved &&
	    (i = params_restore(params, NR_PARAMS, self->saved)) >= 0)
		TH_LOG("could not restore %s", params[i]);
	close_fd(&self->ctl);
}

TEST_F(limits, parameters_are_root_writable_mode_0644)
{
	char path[256];
	struct stat st;
	unsigned int i;

	for (i = 0; i < NR_PARAMS; i++) {
		snprintf(path, sizeof(path), SYSFS_PARAMS "/%s", params[i]);
		ASSERT_EQ(0, stat(path, &st)) TH_LOG("%s: %m", path);
		EXPECT_EQ(0644, st.st_mode & 0777) TH_LOG("%s", path);
	}
}

static int user_sets_param(void *arg)
{
	return param_set("max_mailboxes", 1) == -EACCES ? 0 : 1;
}

TEST_F(limits, unprivileged_user_cannot_change_parameters)
{
	EXPECT_EQ(0, run_as_user(user_sets_param, NULL));
}

TEST_F(limits, info_reflects_changed_parameters)
{
	struct ipcbox_info info;

	ASSERT_EQ(0, param_set("max_capacity", 77));
	ASSERT_EQ(0, param_set("max_msg_size", 1000));
	ASSERT_EQ(0, ipcbox_get_info(self->ctl, &info));
	EXPECT_EQ(77, info.max_capacity);
	EXPECT_EQ(1000, info.max_msg_size);
}

TEST_F(limits, max_mailboxes_reached_is_enospc)
{
	struct ipcbox_info info;

	ASSERT_EQ(0, ipcbox_get_info(self->ctl, &info));
	ASSERT_EQ(0, param_set("max_mailboxes", info.nr_mailboxes + 2));
	self->fds[0] = mb_anon(self->ctl, 1, 0);
	ASSERT_GE(self->fds[0], 0);
	self->fds[1] = mb_anon(self->ctl, 1, 0);
	ASSERT_GE(self->fds[1], 0);
	EXPECT_EQ(-ENOSPC, mb_anon(self->ctl, 1, 0));
	EXPECT_EQ(-ENOSPC, mb_create(self->ctl, "kst-limit-x", 1, 0, 0600, 0));
	EXPECT_FALSE(path_exists(IPCBOX_DEV_DIR "/kst-limit-x"));
	/* freeing one makes room again */
	close_fd(&self->fds[1]);
	self->fds[1] = mb_anon(self->ctl, 1, 0);
	EXPECT_GE(self->fds[1], 0);
}

static int user_fills_quota(void *arg)
{
	int ctl = ctl_open(), fd[3], ret;

	if (ctl < 0)
		return 200;
	fd[0] = mb_anon(ctl, 1, 0);
	fd[1] = mb_anon(ctl, 1, 0);
	if (fd[0] < 0 || fd[1] < 0)
		return 201;
	fd[2] = mb_anon(ctl, 1, 0);
	if (fd[2] >= 0)
		return 202;
	ret = -fd[2];
	/* freeing one gives the quota back */
	close(fd[1]);
	fd[1] = mb_anon(ctl, 1, 0);
	if (fd[1] < 0)
		return 203;
	return ret;
}

TEST_F(limits, max_per_user_reached_is_edquot)
{
	ASSERT_EQ(0, param_set("max_per_user", 2));
	EXPECT_EQ(EDQUOT, run_as_user(user_fills_quota, NULL));
}

TEST_F(limits, per_user_quota_is_per_user)
{
	int i;

	/* the quota of uid TEST_UID is untouched by root's mailboxes */
	ASSERT_EQ(0, param_set("max_per_user", 2));
	for (i = 0; i < 2; i++) {
		self->fds[i] = mb_anon(self->ctl, 1, 0);
		if (self->fds[i] < 0)
			break;
	}
	EXPECT_EQ(EDQUOT, run_as_user(user_fills_quota, NULL));
}

TEST_F(limits, lowered_max_msg_size_refuses_larger_create)
{
	ASSERT_EQ(0, param_set("max_msg_size", 512));
	EXPECT_EQ(-EINVAL, mb_anon(self->ctl, 1, 513));
	self->fds[0] = mb_anon(self->ctl, 1, 512);
	EXPECT_GE(self->fds[0], 0);
}

TEST_F(limits, lowered_max_capacity_refuses_larger_create)
{
	ASSERT_EQ(0, param_set("max_capacity", 8));
	EXPECT_EQ(-EINVAL, mb_anon(self->ctl, 9, 0));
	self->fds[0] = mb_anon(self->ctl, 8, 0);
	EXPECT_GE(self->fds[0], 0);
	/* unbounded is not a count and stays allowed */
	self->fds[1] = mb_anon(self->ctl, IPCBOX_CAPACITY_UNBOUNDED, 0);
	EXPECT_GE(self->fds[1], 0);
}

TEST_F(limits, existing_mailbox_keeps_its_settings_after_limit_change)
{
	struct ipcbox_stat st;
	char buf[1024] = { 0 };

	self->fds[0] = mb_anon(self->ctl, 4, 1024);
	ASSERT_GE(self->fds[0], 0);
	ASSERT_EQ(0, param_set("max_msg_size", 256));
	EXPECT_EQ(0, mb_send(self->fds[0], buf, 1024, 0, 0));
	ASSERT_EQ(0, mb_stat(self->fds[0], &st));
	EXPECT_EQ(1024, st.msg_size_max);
}

TEST_F(limits, unbounded_sends_never_wait)
{
	char buf[64] = { 0 };
	int64_t t0;
	int i;

	self->fds[0] = mb_anon(self->ctl, IPCBOX_CAPACITY_UNBOUNDED, 64);
	ASSERT_GE(self->fds[0], 0);
	t0 = now_ns();
	for (i = 0; i < 2000; i++)
		ASSERT_EQ(0, mb_send(self->fds[0], buf, 16, 0, -1)) TH_LOG("send %d", i);
	EXPECT_LT(now_ns() - t0, 20 * NSEC_PER_SEC);
	EXPECT_EQ(2000, mb_depth(self->fds[0]));
}

TEST_F(limits, unbounded_past_byte_cap_is_enobufs_and_loses_nothing)
{
	struct ipcbox_msg_info info;
	char buf[100];
	int64_t t0;
	int i, n = 0;
	int ret;

	/* each message counts its payload and 64 bytes */
	ASSERT_EQ(0, param_set("max_unbounded_bytes", 10 * (100 + 64)));
	self->fds[0] = mb_anon(self->ctl, IPCBOX_CAPACITY_UNBOUNDED, 100);
	ASSERT_GE(self->fds[0], 0);
	for (i = 0; i < 20; i++) {
		memset(buf, i, sizeof(buf));
		t0 = now_ns();
		ret = mb_send_full(self->fds[0], buf, 100, 0, -1, 0, i, NULL);
		if (ret) {
			EXPECT_EQ(-ENOBUFS, ret);
			/* at once, not after a wait */
			EXPECT_LT(now_ns() - t0, 2 * NSEC_PER_SEC);
			break;
		}
		n++;
	}
	EXPECT_EQ(10, n);
	/* all accepted messages come out, in order, intact */
	for (i = 0; i < n; i++) {
		ASSERT_EQ(100, mb_recv_full(self->fds[0], buf, sizeof(buf), 0, 0, 0, 0, &info));
		EXPECT_EQ(i, info.tag);
		EXPECT_EQ(i, buf[99]);
	}
	EXPECT_EQ(-EAGAIN, mb_recv(self->fds[0], buf, sizeof(buf), 0, 0));
	/* and room is back */
	EXPECT_EQ(0, mb_send(self->fds[0], buf, 100, 0, -1));
}

TEST_F(limits, bounded_mailbox_ignores_unbounded_byte_cap)
{
	char buf[100] = { 0 };
	int i;

	ASSERT_EQ(0, param_set("max_unbounded_bytes", 150));
	self->fds[0] = mb_anon(self->ctl, 4, 100);
	ASSERT_GE(self->fds[0], 0);
	for (i = 0; i < 4; i++)
		EXPECT_EQ(0, mb_send(self->fds[0], buf, 100, 0, 0));
}

/*
 * CACHE parks a message in the sending fd's slot; closing the fd leaves
 * the message parked. Opening, sending and closing again and again must
 * not park without bound: a mailbox parks at most max(capacity, 1)
 * messages, and they stay counted in STAT after their fds are gone.
 */
TEST_F_TIMEOUT(limits, cache_sends_of_closed_fds_are_bounded_per_mailbox, 120)
{
	int i, fd, ret, parked = 0, eagain = 0, other = 0, other_err = 0;
	struct ipcbox_stat st;
	char path[128], buf[16];
	unsigned long long cached;
	int n = 0;

	test_name(self->name, sizeof(self->name), "lim");
	self->fds[0] = mb_create(self->ctl, self->name, 2, 16, 0600, 0);
	ASSERT_GE(self->fds[0], 0);
	ASSERT_EQ(0, mb_send_str(self->fds[0], "q0"));
	ASSERT_EQ(0, mb_send_str(self->fds[0], "q1"));
	dev_path(path, sizeof(path), self->name);
	for (i = 0; i < 100; i++) {
		fd = open(path, O_WRONLY | O_CLOEXEC);
		ASSERT_GE(fd, 0) TH_LOG("open %s: %m", path);
		ret = mb_send(fd, &i, sizeof(i),
			      IPCBOX_SEND_CACHE | IPCBOX_NONBLOCK, 0);
		close(fd);
		if (!ret) {
			parked++;
		} else if (ret == -EAGAIN) {
			eagain++;
		} else {
			other++;
			other_err = -ret;
		}
	}
	TH_LOG("100 open-CACHE-close: %d parked, %d EAGAIN, %d other", parked,
	       eagain, other);
	EXPECT_EQ(2, parked);
	EXPECT_EQ(98, eagain);
	EXPECT_EQ(0, other) TH_LOG("%s", strerror(other_err));
	ASSERT_EQ(0, mb_stat(self->fds[0], &st));
	EXPECT_EQ(2, st.depth);
	EXPECT_EQ(2, st.cached) TH_LOG("parked messages of closed fds not counted");
	/* sysfs tells the same */
	ASSERT_EQ(0, sysfs_attr_u64(self->name, "cached", &cached));
	EXPECT_EQ(2, cached) TH_LOG("sysfs cached forgets parked messages of closed fds");
	/* the parked messages were accepted: all of them come out */
	while (mb_recv(self->fds[0], buf, sizeof(buf), 0, 0) >= 0 && n < 200)
		n++;
	EXPECT_EQ(2 + parked, n);
	EXPECT_EQ(4, n);
}

/*
 * The byte cap of an unbounded mailbox counts what each message costs,
 * its payload and 64 bytes for the message itself, so that empty
 * messages cannot grow a queue without bound.
 */
TEST_F_TIMEOUT(limits, unbounded_byte_cap_counts_empty_messages, 300)
{
	int i, ret = 0;

	ASSERT_EQ(0, param_set("max_unbounded_bytes", 4096));
	self->fds[0] = mb_anon(self->ctl, IPCBOX_CAPACITY_UNBOUNDED, 64);
	ASSERT_GE(self->fds[0], 0);
	for (i = 0; i < 100000; i++) {
		ret = mb_send(self->fds[0], NULL, 0, 0, 0);
		if (ret)
			break;
	}
	TH_LOG("%d empty messages accepted, then %s", i,
	       ret ? strerror(-ret) : "no refusal");
	EXPECT_EQ(-ENOBUFS, ret);
	EXPECT_LE(i, 4096 / 64);
	EXPECT_GT(i, 0);
}

/* A CALL's request is a message like any: at the byte cap it is refused. */
TEST_F(limits, call_into_unbounded_mailbox_at_byte_cap_is_enobufs)
{
	char buf[100] = { 0 }, rbuf[16];
	int i, ret = 0;
	long depth;

	ASSERT_EQ(0, param_set("max_unbounded_bytes", 1000));
	self->fds[0] = mb_anon(self->ctl, IPCBOX_CAPACITY_UNBOUNDED, 100);
	ASSERT_GE(self->fds[0], 0);
	for (i = 0; i < 100; i++) {
		ret = mb_send(self->fds[0], buf, sizeof(buf), 0, 0);
		if (ret)
			break;
	}
	ASSERT_EQ(-ENOBUFS, ret) TH_LOG("the cap was never reached");
	depth = mb_depth(self->fds[0]);
	EXPECT_EQ(-ENOBUFS, mb_call(self->fds[0], buf, sizeof(buf), NSEC_PER_SEC,
				    0, rbuf, sizeof(rbuf), NULL));
	EXPECT_EQ(depth, mb_depth(self->fds[0]));
}

/* A caller that keeps calling with a short timeout, until told to stop. */
struct abandoner {
	pthread_t thread;
	int fd;
	int stop;
	int calls;
	int bad;		/* calls that did not time out */
	int bad_ret;
};

static void *abandoner_thread(void *arg)
{
	struct abandoner *a = arg;
	char rbuf[16];
	int ret;

	while (!__atomic_load_n(&a->stop, __ATOMIC_ACQUIRE) && a->calls < 2000) {
		ret = mb_call(a->fd, "gone", 4, 20 * NSEC_PER_MSEC, 0, rbuf,
			      sizeof(rbuf), NULL);
		a->calls++;
		if (ret != -ETIMEDOUT) {
			a->bad++;
			a->bad_ret = ret;
		}
	}
	return NULL;
}

#define ABANDONED	300	/* more than the 256 a mailbox keeps */
#define ABANDONED_KEPT	256

/*
 * A request received and never answered, whose caller gave up, waits for
 * a REPLY that may never come (ECANCELED). A server that never answers
 * must not make a mailbox keep them without bound: past 256 the oldest
 * is dropped (its token is then unknown: ENOENT).
 */
TEST_F_TIMEOUT(limits, abandoned_calls_are_bounded_per_mailbox, 300)
{
	static uint64_t tokens[ABANDONED];
	struct ipcbox_msg_info info;
	struct ipcbox_stat st;
	struct abandoner a;
	char buf[16];
	int n, ret;

	self->fds[0] = mb_anon(self->ctl, 4, 16);
	ASSERT_GE(self->fds[0], 0);
	memset(&a, 0, sizeof(a));
	a.fd = self->fds[0];
	ASSERT_EQ(0, pthread_create(&a.thread, NULL, abandoner_thread, &a));
	for (n = 0; n < ABANDONED; n++) {
		ret = mb_recv_full(self->fds[0], buf, sizeof(buf), 0,
				   10 * NSEC_PER_SEC, 0, 0, &info);
		if (ret < 0 || !info.token)
			break;
		tokens[n] = info.token;
	}
	__atomic_store_n(&a.stop, 1, __ATOMIC_RELEASE);
	pthread_join(a.thread, NULL);
	TH_LOG("%d calls, %d requests received and left unanswered", a.calls, n);
	ASSERT_EQ(ABANDONED, n) TH_LOG("receive %d: %s", n, strerror(-ret));
	EXPECT_EQ(0, a.bad) TH_LOG("a CALL returned %d", a.bad_ret);
	/* STAT counts the ones kept, and only those */
	ASSERT_EQ(0, mb_stat(self->fds[0], &st));
	EXPECT_EQ(ABANDONED_KEPT, st.abandoned);
	/* the newest is kept, the oldest was dropped */
	EXPECT_EQ(-ECANCELED, mb_reply(self->fds[0], tokens[ABANDONED - 1], "x", 1));
	EXPECT_EQ(-ENOENT, mb_reply(self->fds[0], tokens[0], "x", 1));
	/* a REPLY to an abandoned call forgets it */
	ASSERT_EQ(0, mb_stat(self->fds[0], &st));
	EXPECT_EQ(ABANDONED_KEPT - 1, st.abandoned);
}

static const char * const slab_128[] = { "kmalloc-128", "kmalloc-cg-128" };

/*
 * Objects in use in the 128-byte kmalloc caches (a 64-byte message's
 * object), from /proc/slabinfo; -1 where it cannot be read. The caches
 * are shrunk first: that flushes the per-CPU slabs, whose free objects
 * slabinfo counts as in use, and KASAN's quarantine, where freed
 * objects wait before they are free.
 */
static long slab_128_objects(void)
{
	char line[512], name[64], path[128];
	long active, sum = -1;
	unsigned int i;
	FILE *f;

	for (i = 0; i < sizeof(slab_128) / sizeof(slab_128[0]); i++) {
		snprintf(path, sizeof(path), "/sys/kernel/slab/%s/shrink",
			 slab_128[i]);
		if (path_exists(path))
			write_file_str(path, "1");
	}
	f = fopen("/proc/slabinfo", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %ld", name, &active) != 2)
			continue;
		if (strcmp(name, slab_128[0]) && strcmp(name, slab_128[1]))
			continue;
		sum = (sum < 0 ? 0 : sum) + active;
	}
	fclose(f);
	return sum;
}

#define SPARE_BOXES	NR_FDS
#define SPARE_CAP	1024
#define SPARE_KEPT	(2 + 64)	/* IPCBOX_SPARE_SLOTS + IPCBOX_SPARES */
#define SLAB_SLACK	256		/* others' objects */

/*
 * A mailbox keeps the objects of the messages it freed for its next ones,
 * but no more than 2 + min(64, capacity) of them: 16 mailboxes of capacity
 * 1024 that were filled with 64-byte messages and drained keep about a
 * thousand objects, not sixteen thousand, and give them back when closed.
 */
TEST_F_TIMEOUT(limits, spare_objects_kept_are_bounded_per_mailbox, 120)
{
	char buf[64] = { 0 };
	long before, drained, closed;
	int i, j;

	if (slab_128_objects() < 0)
		SKIP(return, "no kmalloc-128 in /proc/slabinfo");
	for (i = 0; i < SPARE_BOXES; i++) {
		self->fds[i] = mb_anon(self->ctl, SPARE_CAP, sizeof(buf));
		ASSERT_GE(self->fds[i], 0);
	}
	before = slab_128_objects();
	for (i = 0; i < SPARE_BOXES; i++)
		for (j = 0; j < SPARE_CAP; j++)
			ASSERT_EQ(0, mb_send(self->fds[i], buf, sizeof(buf), 0, 0));
	for (i = 0; i < SPARE_BOXES; i++)
		for (j = 0; j < SPARE_CAP; j++)
			ASSERT_EQ(sizeof(buf), mb_recv(self->fds[i], buf,
						       sizeof(buf), 0, 0));
	drained = slab_128_objects();
	for (i = 0; i < SPARE_BOXES; i++)
		close_fd(&self->fds[i]);
	closed = slab_128_objects();
	TH_LOG("128-byte objects: %ld before, %ld drained, %ld closed",
	       before, drained, closed);
	EXPECT_LT(drained - before, SPARE_BOXES * SPARE_KEPT + SLAB_SLACK);
	EXPECT_LT(closed - before, SLAB_SLACK);
}

TEST_HARNESS_MAIN
