// SPDX-License-Identifier: GPL-2.0
/*
 * Fault injection: every ioctl, read and write under a fail-nth sweep.
 *
 * For n = 1, 2, ... the test writes n to /proc/thread-self/fail-nth and
 * makes the call, so that the n-th fault point the call passes (a slab
 * allocation with failslab, a user copy with fail_usercopy) fails; it
 * stops at the first call that succeeds without consuming the fault. A
 * call that failed must fail cleanly, with ENOMEM or EFAULT, and change
 * nothing: the STAT counters are those from before, no message was added
 * or consumed, no fd or mailbox leaked. A call that succeeded although a
 * fault was injected (the kernel tolerated it) must have done its job.
 * The documented exceptions are checked as such: a CALL whose reply
 * could not be copied out loses the reply, a REPLY_RECV whose receive
 * failed may have replied already (a second REPLY tells: ENOENT), a batch
 * stops half-way.
 *
 * The faults fixture leaves fail_page_alloc as it is (sleeping
 * allocations ignored) and keeps payloads below a page; the page_alloc
 * fixture sweeps page allocations too, with messages up to 5 MiB, between
 * markers that tell the VM runner to drop the allocation-failure reports
 * (warn_alloc's stack dumps) the page allocator prints for some of them.
 *
 * Needs a kernel with CONFIG_FAULT_INJECTION_DEBUG_FS and CONFIG_FAILSLAB
 * (CONFIG_FAULT_INJECTION_USERCOPY for the copies, CONFIG_FAIL_PAGE_ALLOC
 * for page_alloc); skips elsewhere.
 * Prints "# faults: injected=N calls=N" at the end of each test.
 */
#include "ipcbox_test.h"

#include <sys/mount.h>

#include "kselftest_harness.h"
#include "vm-protocol.h"	/* made from scripts/vm-protocol.sh */

#define DEBUGFS		"/sys/kernel/debug"
#define FAIL_NTH	"/proc/thread-self/fail-nth"
#define MAX_NTH		400	/* no ipcbox call passes that many fault points */
#define SMALL		64	/* a message in a small kmalloc object */
#define MEDIUM		2000	/* one in a page-sized kmalloc object */
#define CALL_NS		(10 * NSEC_PER_SEC)

/*
 * fail-nth alone decides (it is checked before any of these): probability
 * 0 and the task filter fail nothing at random, and verbose 0 keeps the
 * log free of stack dumps. Sleeping allocations are only fail points when
 * failslab is told not to ignore them. fail_page_alloc keeps ignoring
 * them, but the atomic ones it may still fail must not dump either.
 */
struct fi_setting {
	const char *attr;	/* under DEBUGFS */
	const char *value;
	bool required;		/* else skipped when absent */
};

static const struct fi_setting fi_settings[] = {
	{ "failslab/ignore-gfp-wait", "N", true },
	{ "failslab/task-filter", "Y", true },
	{ "failslab/probability", "0", true },
	{ "failslab/verbose", "0", true },
	{ "fail_usercopy/task-filter", "Y", false },
	{ "fail_usercopy/probability", "0", false },
	{ "fail_usercopy/verbose", "0", false },
	{ "fail_page_alloc/verbose", "0", false },
};
#define NR_SETTINGS	(sizeof(fi_settings) / sizeof(fi_settings[0]))

/*
 * The page_alloc fixture's settings (its sweeps are described further
 * down), after fi_settings and restored in reverse: failslab ignores
 * sleeping allocations again (the faults fixture sweeps those), or it
 * would fail kmemleak's own scan area for a vmalloc area, which kmemleak
 * reports.
 */
static const struct fi_setting pa_settings[] = {
	{ "failslab/ignore-gfp-wait", "Y", true },
	{ "fail_page_alloc/ignore-gfp-wait", "N", true },
	{ "fail_page_alloc/ignore-gfp-highmem", "N", true },
	{ "fail_page_alloc/min-order", "0", true },
	{ "fail_page_alloc/task-filter", "Y", true },
	{ "fail_page_alloc/probability", "0", true },
	{ "fail_page_alloc/verbose", "0", true },
};
#define NR_PA_SETTINGS	(sizeof(pa_settings) / sizeof(pa_settings[0]))

#define FI_VALUE_MAX	32

/* Setting @i of the two tables: fi_settings, then pa_settings. */
static const struct fi_setting *fi_setting(unsigned int i)
{
	return i < NR_SETTINGS ? &fi_settings[i] : &pa_settings[i - NR_SETTINGS];
}

/*
 * Apply settings 0..n-1 (fi_setting()), each one's value kept in
 * saved[i] first and saved_ok[i] set once it is.
 */
static void fi_apply(struct __test_metadata *_metadata, unsigned int n,
		     char (*saved)[FI_VALUE_MAX], bool *saved_ok)
{
	const struct fi_setting *s;
	char path[256];
	unsigned int i;

	for (i = 0; i < n; i++) {
		s = fi_setting(i);
		snprintf(path, sizeof(path), DEBUGFS "/%s", s->attr);
		if (!s->required && !path_exists(path))
			continue;
		ASSERT_LE(0, read_file_str(path, saved[i], FI_VALUE_MAX))
			TH_LOG("%s: %m", path);
		saved_ok[i] = true;
		ASSERT_EQ(0, write_file_str(path, s->value))
			TH_LOG("%s = %s", path, s->value);
	}
}

/* Put back what fi_apply() changed, the last first. */
static void fi_restore(struct __test_metadata *_metadata, unsigned int n,
		       char (*saved)[FI_VALUE_MAX], const bool *saved_ok)
{
	char path[256];
	unsigned int i;

	for (i = n; i-- > 0;) {
		if (!saved_ok[i])
			continue;
		snprintf(path, sizeof(path), DEBUGFS "/%s", fi_setting(i)->attr);
		if (write_file_str(path, saved[i]))
			TH_LOG("could not restore %s", path);
	}
}

FIXTURE(faults) {
	int ctl;
	int fd;
	int nth;
	char saved[NR_SETTINGS][FI_VALUE_MAX];
	bool saved_ok[NR_SETTINGS];
	unsigned long injected;
	unsigned long calls;
	char name[IPCBOX_NAME_MAX];
	char buf[8192];
	char out[8192];
};

FIXTURE_SETUP(faults)
{
	self->ctl = -1;
	self->fd = -1;
	self->nth = -1;
	self->name[0] = '\0';
	memset(self->saved_ok, 0, sizeof(self->saved_ok));
	/* Touch the buffers now: no page fault inside a swept call. */
	memset(self->buf, 'x', sizeof(self->buf));
	memset(self->out, 0, sizeof(self->out));
	self->nth = open(FAIL_NTH, O_RDWR | O_CLOEXEC);
	if (self->nth < 0)
		SKIP(return, "%s: %m (kernel without CONFIG_FAULT_INJECTION)",
		     FAIL_NTH);
	if (!path_exists(DEBUGFS "/failslab"))
		mount("debugfs", DEBUGFS, "debugfs", 0, NULL);
	if (!path_exists(DEBUGFS "/failslab"))
		SKIP(return, "%s/failslab absent (kernel without CONFIG_FAILSLAB or CONFIG_FAULT_INJECTION_DEBUG_FS)",
		     DEBUGFS);
	if (!path_exists(DEBUGFS "/fail_usercopy"))
		TH_LOG("no %s/fail_usercopy: user copies are not swept", DEBUGFS);
	CTL_OPEN_OR_SKIP(self->ctl);
	fi_apply(_metadata, NR_SETTINGS, self->saved, self->saved_ok);
	self->fd = mb_anon(self->ctl, 8, 4096);
	ASSERT_LE(0, self->fd);
	self->injected = 0;
	self->calls = 0;
}

FIXTURE_TEARDOWN(faults)
{
	if (self->calls)
		printf("# faults: injected=%lu calls=%lu\n", self->injected,
		       self->calls);
	if (self->nth >= 0 && write(self->nth, "0", 1) < 0)
		TH_LOG("cannot reset %s", FAIL_NTH);
	fi_restore(_metadata, NR_SETTINGS, self->saved, self->saved_ok);
	close_fd(&self->fd);
	if (self->ctl >= 0 && self->name[0])
		mb_unlink(self->ctl, self->name);
	close_fd(&self->ctl);
	close_fd(&self->nth);
}

/* Arm fail-nth: the n-th fault point of this thread from now fails. */
static void nth_arm(int fd, unsigned int n)
{
	char b[16];
	int len = snprintf(b, sizeof(b), "%u", n);

	if (pwrite(fd, b, len, 0) != len)
		abort();
}

/*
 * Was the fault injected? Reads 0 once it was, and disarms. The read,
 * and then the write that disarms, pass fault points of their own: if
 * the read fails, the call had not reached the n-th; if the write fails,
 * the count just ran out there, which disarms as well.
 */
static bool nth_injected(int fd)
{
	char b[16];
	ssize_t n = pread(fd, b, sizeof(b) - 1, 0);

	b[n > 0 ? n : 0] = '\0';
	if (pwrite(fd, "0", 1, 0) != 1 && errno != EFAULT)
		abort();
	return n > 0 && strtoul(b, NULL, 10) == 0;
}

static bool clean_errno(int ret)
{
	return ret == -ENOMEM || ret == -EFAULT;
}

/* The counters a failed call must leave as they were. */
#define EXPECT_STAT_SAME(a, b) do {					\
	EXPECT_EQ((a).depth, (b).depth);				\
	EXPECT_EQ((a).bytes, (b).bytes);				\
	EXPECT_EQ((a).sent, (b).sent);					\
	EXPECT_EQ((a).received, (b).received);				\
	EXPECT_EQ((a).timeouts, (b).timeouts);				\
	EXPECT_EQ((a).cached, (b).cached);				\
	EXPECT_EQ((a).flags, (b).flags);				\
} while (0)

/* The lowest free fd: a leaked fd would take it. */
static int lowest_free_fd(void)
{
	int fd = fcntl(0, F_DUPFD_CLOEXEC, 0);

	if (fd >= 0)
		close(fd);
	return fd;
}

/*
 * The sweep: for n = 1.. arm, make the call (a statement setting ret),
 * and judge it. Leaves the loop after the first call that did not
 * consume its fault; ok_body runs for successes, fail_body for failures.
 */
#define SWEEP(what, prepare, call, ok_body, fail_body) do {		\
	unsigned long __inj = self->injected, __calls = self->calls;	\
	unsigned int __n;						\
	bool injected;							\
									\
	for (__n = 1; ; __n++) {					\
		ASSERT_LT(__n, MAX_NTH) TH_LOG("%s: no end", what);	\
		prepare;						\
		nth_arm(self->nth, __n);				\
		call;							\
		injected = nth_injected(self->nth);			\
		self->calls++;						\
		if (injected)						\
			self->injected++;				\
		if (ret >= 0) {						\
			ok_body;					\
		} else {						\
			ASSERT_TRUE(injected)				\
				TH_LOG("%s: failed with %s without a fault", \
				       what, strerror(-ret));		\
			EXPECT_TRUE(clean_errno(ret))			\
				TH_LOG("%s: fault %u gave %s", what, __n, \
				       strerror(-ret));			\
			fail_body;					\
		}							\
		if (!injected)						\
			break;						\
	}								\
	printf("# faults: %s: injected=%lu calls=%lu\n", what,	\
	       self->injected - __inj, self->calls - __calls);		\
} while (0)

TEST_F_TIMEOUT(faults, info_stat_and_shutdown, 300)
{
	struct ipcbox_info info;
	struct ipcbox_stat st;
	int ret, fd;

	SWEEP("INFO", memset(&info, 0, sizeof(info)),
	      ret = sys_ioctl(self->ctl, IPCBOX_IOC_INFO, &info),
	      EXPECT_EQ(IPCBOX_ABI_VERSION, info.abi_version), {});
	SWEEP("STAT", memset(&st, 0, sizeof(st)),
	      ret = sys_ioctl(self->fd, IPCBOX_IOC_STAT, &st),
	      EXPECT_EQ(8, st.capacity), {});
	/* SHUTDOWN neither allocates nor copies: done at once. */
	fd = mb_anon(self->ctl, 2, 64);
	ASSERT_LE(0, fd);
	SWEEP("SHUTDOWN", {},
	      ret = sys_ioctl(fd, IPCBOX_IOC_SHUTDOWN, NULL),
	      {
		ASSERT_EQ(0, mb_stat(fd, &st));
		EXPECT_TRUE(st.flags & IPCBOX_STAT_SHUTDOWN);
	      },
	      {
		ASSERT_EQ(0, mb_stat(fd, &st));
		EXPECT_FALSE(st.flags & IPCBOX_STAT_SHUTDOWN);
	      });
	close(fd);
}

TEST_F_TIMEOUT(faults, create_anonymous, 300)
{
	struct ipcbox_create c;
	int nr, low, ret;

	create_args(&c, "", 4, 128, 0, IPCBOX_CREATE_CLOEXEC);
	SWEEP("CREATE anonymous",
	      { nr = nr_mailboxes(self->ctl); low = lowest_free_fd(); },
	      ret = sys_ioctl(self->ctl, IPCBOX_IOC_CREATE, &c),
	      {
		EXPECT_EQ(low, ret);
		EXPECT_EQ(nr + 1, nr_mailboxes(self->ctl));
		EXPECT_EQ(0, mb_send_str(ret, "x"));
		close(ret);
		EXPECT_EQ(nr, nr_mailboxes(self->ctl));
	      },
	      {
		EXPECT_EQ(nr, nr_mailboxes(self->ctl));
		EXPECT_EQ(low, lowest_free_fd());
	      });
}

TEST_F_TIMEOUT(faults, create_and_unlink_named, 300)
{
	char path[128], sys[128];
	struct ipcbox_create c;
	struct ipcbox_unlink u;
	struct ipcbox_stat st;
	int nr, low, ret, fd;

	test_name(self->name, sizeof(self->name), "faults");
	dev_path(path, sizeof(path), self->name);
	sysfs_dir(sys, sizeof(sys), self->name);
	create_args(&c, self->name, 4, 128, 0600, IPCBOX_CREATE_CLOEXEC);
	SWEEP("CREATE named",
	      { nr = nr_mailboxes(self->ctl); low = lowest_free_fd(); },
	      ret = sys_ioctl(self->ctl, IPCBOX_IOC_CREATE, &c),
	      {
		EXPECT_EQ(low, ret);
		EXPECT_EQ(nr + 1, nr_mailboxes(self->ctl));
		EXPECT_TRUE(path_exists(sys));
		/* devtmpfs may have missed the node if its allocation failed */
		if (!injected)
			EXPECT_TRUE(path_exists(path));
		EXPECT_EQ(0, mb_unlink(self->ctl, self->name));
		close(ret);
		EXPECT_EQ(nr, nr_mailboxes(self->ctl));
		/* no node left behind anywhere */
		EXPECT_FALSE(path_exists(path));
		snprintf(sys, sizeof(sys), "/dev/%s", self->name);
		EXPECT_FALSE(path_exists(sys)) TH_LOG("stale %s", sys);
		sysfs_dir(sys, sizeof(sys), self->name);
	      },
	      {
		EXPECT_EQ(nr, nr_mailboxes(self->ctl));
		EXPECT_EQ(low, lowest_free_fd());
		EXPECT_FALSE(path_exists(path));
		EXPECT_FALSE(path_exists(sys));
	      });

	memset(&u, 0, sizeof(u));
	copy_name(u.name, self->name);
	fd = -1;
	SWEEP("UNLINK",
	      {
		if (fd < 0)
			fd = mb_create(self->ctl, self->name, 4, 128, 0600,
				       IPCBOX_CREATE_CLOEXEC);
		ASSERT_LE(0, fd);
	      },
	      ret = sys_ioctl(self->ctl, IPCBOX_IOC_UNLINK, &u),
	      {
		ASSERT_EQ(0, mb_stat(fd, &st));
		EXPECT_TRUE(st.flags & IPCBOX_STAT_UNLINKED);
		EXPECT_FALSE(path_exists(path));
		close_fd(&fd);
	      },
	      {
		ASSERT_EQ(0, mb_stat(fd, &st));
		EXPECT_FALSE(st.flags & IPCBOX_STAT_UNLINKED);
		EXPECT_TRUE(path_exists(sys));
	      });
	close_fd(&fd);
	self->name[0] = '\0';
}

/* Fill self->buf with a recognisable payload of @len bytes. */
static void payload(char *buf, size_t len, int k)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (char)('a' + (i + k) % 26);
}

FIXTURE_VARIANT(faults) {
	size_t len;
};

FIXTURE_VARIANT_ADD(faults, small) {
	.len = SMALL,
};

FIXTURE_VARIANT_ADD(faults, medium) {
	.len = MEDIUM,
};

/* Ask @r for its message's info in @info (the info copy is swept too). */
static void recv_info(struct ipcbox_recv *r, struct ipcbox_msg_info *info)
{
	memset(info, 0, sizeof(*info));
	r->info = (uintptr_t)info;
	r->info_size = sizeof(*info);
}

/* Take the one queued message and check it is @len bytes of payload(k). */
static int take_one(int fd, char *out, size_t len, int k)
{
	char want[MEDIUM];
	int ret;

	payload(want, len, k);
	memset(out, 0, len + 1);
	ret = mb_recv(fd, out, 4096, IPCBOX_NONBLOCK, 0);
	if (ret != (int)len)
		return ret < 0 ? ret : -EBADMSG;
	return memcmp(want, out, len) ? -EBADMSG : 0;
}

TEST_F_TIMEOUT(faults, send_and_write, 300)
{
	struct ipcbox_stat a, b;
	struct ipcbox_send s;
	size_t len = variant->len;
	int ret;

	payload(self->buf, len, 0);
	SWEEP("SEND",
	      { send_args(&s, self->buf, len, 0, 0, 3, 7);
		ASSERT_EQ(0, mb_stat(self->fd, &a)); },
	      ret = sys_ioctl(self->fd, IPCBOX_IOC_SEND, &s),
	      {
		ASSERT_EQ(0, mb_stat(self->fd, &b));
		EXPECT_EQ(a.depth + 1, b.depth);
		EXPECT_EQ(a.sent + 1, b.sent);
		EXPECT_NE(0, s.seq);
		EXPECT_EQ(0, take_one(self->fd, self->out, len, 0));
	      },
	      {
		ASSERT_EQ(0, mb_stat(self->fd, &b));
		EXPECT_STAT_SAME(a, b);
	      });
	SWEEP("write",
	      ASSERT_EQ(0, mb_stat(self->fd, &a)),
	      ret = write(self->fd, self->buf, len) < 0 ? -errno : 0,
	      {
		ASSERT_EQ(0, mb_stat(self->fd, &b));
		EXPECT_EQ(a.depth + 1, b.depth);
		EXPECT_EQ(0, take_one(self->fd, self->out, len, 0));
	      },
	      {
		ASSERT_EQ(0, mb_stat(self->fd, &b));
		EXPECT_STAT_SAME(a, b);
	      });
}

/*
 * A receive that fails must leave its message queued, in its place, with
 * its sequence number: the next receive gets exactly it.
 */
TEST_F_TIMEOUT(faults, recv_peek_and_read, 300)
{
	struct ipcbox_msg_info info;
	struct ipcbox_stat a, b;
	struct ipcbox_recv r;
	size_t len = variant->len;
	uint64_t seq;
	int ret;

	payload(self->buf, len, 1);
	ASSERT_EQ(0, mb_send_full(self->fd, self->buf, len, 0, 0, 0, 5, &seq));
	SWEEP("RECV",
	      { recv_args(&r, self->out, 4096, IPCBOX_NONBLOCK, 0);
		recv_info(&r, &info);
		ASSERT_EQ(0, mb_stat(self->fd, &a)); },
	      ret = sys_ioctl(self->fd, IPCBOX_IOC_RECV, &r),
	      {
		EXPECT_EQ(len, ret);
		EXPECT_EQ(seq, info.seq);
		EXPECT_EQ(5, info.tag);
		EXPECT_EQ(0, memcmp(self->buf, self->out, len));
		ASSERT_EQ(0, mb_stat(self->fd, &b));
		EXPECT_EQ(a.depth - 1, b.depth);
		EXPECT_EQ(a.received + 1, b.received);
		/* Consumed with a fault: there is nothing to sweep on. */
		if (injected)
			ASSERT_EQ(0, mb_send_full(self->fd, self->buf, len,
						  0, 0, 0, 5, &seq));
	      },
	      {
		ASSERT_EQ(0, mb_stat(self->fd, &b));
		EXPECT_STAT_SAME(a, b);
	      });
	EXPECT_EQ(0, mb_depth(self->fd));

	ASSERT_EQ(0, mb_send_full(self->fd, self->buf, len, 0, 0, 0, 5, &seq));
	SWEEP("RECV PEEK",
	      { recv_args(&r, self->out, 4096,
			  IPCBOX_NONBLOCK | IPCBOX_RECV_PEEK, 0);
		recv_info(&r, &info);
		ASSERT_EQ(0, mb_stat(self->fd, &a)); },
	      ret = sys_ioctl(self->fd, IPCBOX_IOC_RECV, &r),
	      {
		EXPECT_EQ(len, ret);
		EXPECT_EQ(seq, info.seq);
		ASSERT_EQ(0, mb_stat(self->fd, &b));
		EXPECT_STAT_SAME(a, b);
	      },
	      {
		ASSERT_EQ(0, mb_stat(self->fd, &b));
		EXPECT_STAT_SAME(a, b);
	      });

	SWEEP("read",
	      { memset(self->out, 0, len);
		ASSERT_EQ(0, mb_stat(self->fd, &a));
		if (!a.depth)
			ASSERT_EQ(0, mb_send(self->fd, self->buf, len, 0, 0)); },
	      ret = read(self->fd, self->out, 4096) < 0 ? -errno : (int)len,
	      {
		EXPECT_EQ(0, memcmp(self->buf, self->out, len));
		EXPECT_EQ(0, mb_depth(self->fd));
	      },
	      {
		ASSERT_EQ(0, mb_stat(self->fd, &b));
		EXPECT_STAT_SAME(a, b);
	      });
}

/* A batch may stop half-way: exactly the entries it counted were done. */
TEST_F_TIMEOUT(faults, sendv_and_recvv, 300)
{
	struct ipcbox_msg_info info[3];
	struct ipcbox_send s[3];
	struct ipcbox_recv r[3];
	struct ipcbox_stat a, b;
	size_t len = variant->len;
	char *bufs[3];
	int i, k, ret;

	for (i = 0; i < 3; i++) {
		bufs[i] = self->buf + i * len;
		payload(bufs[i], len, i);
	}
	SWEEP("SENDV",
	      { for (i = 0; i < 3; i++)
			send_args(&s[i], bufs[i], len, 0, 0, 0, i);
		ASSERT_EQ(0, mb_stat(self->fd, &a)); },
	      ret = mb_batch(self->fd, IPCBOX_IOC_SENDV, s, 3),
	      {
		ASSERT_GT(ret, 0);
		ASSERT_LE(ret, 3);
		if (!injected)
			EXPECT_EQ(3, ret);
		ASSERT_EQ(0, mb_stat(self->fd, &b));
		EXPECT_EQ(a.depth + ret, b.depth);
		for (k = 0; k < ret; k++)
			EXPECT_EQ(0, take_one(self->fd, self->out, len, k));
		EXPECT_EQ(0, mb_depth(self->fd));
	      },
	      {
		ASSERT_EQ(0, mb_stat(self->fd, &b));
		EXPECT_STAT_SAME(a, b);
	      });

	SWEEP("RECVV",
	      { while (mb_depth(self->fd) > 0)
			mb_recv(self->fd, self->out, 4096, 0, 0);
		for (i = 0; i < 3; i++) {
			ASSERT_EQ(0, mb_send(self->fd, bufs[i], len, 0, 0));
			recv_args(&r[i], self->out + i * len, len,
				  IPCBOX_NONBLOCK, 0);
			/* each entry its own info */
			recv_info(&r[i], &info[i]);
		}
		ASSERT_EQ(0, mb_stat(self->fd, &a)); },
	      ret = mb_batch(self->fd, IPCBOX_IOC_RECVV, r, 3),
	      {
		ASSERT_GT(ret, 0);
		ASSERT_LE(ret, 3);
		if (!injected)
			EXPECT_EQ(3, ret);
		ASSERT_EQ(0, mb_stat(self->fd, &b));
		EXPECT_EQ(a.depth - ret, b.depth);
		for (k = 0; k < ret; k++) {
			EXPECT_EQ(0, memcmp(bufs[k], self->out + k * len, len));
			EXPECT_EQ(len, info[k].len);
		}
		if (ret > 1)
			EXPECT_GT(info[ret - 1].seq, info[0].seq);
		/* Those not taken are still there, in order. */
		for (k = ret; k < 3; k++)
			EXPECT_EQ(0, take_one(self->fd, self->out, len, k));
	      },
	      {
		ASSERT_EQ(0, mb_stat(self->fd, &b));
		EXPECT_STAT_SAME(a, b);
		for (k = 0; k < 3; k++)
			EXPECT_EQ(0, take_one(self->fd, self->out, len, k));
	      });
}

/* A server thread answering every request with "re:" and the request. */
struct server {
	pthread_t thread;
	int fd;
	volatile int served;
	char buf[4096];
	char reply[4096 + 3];
};

static void *server_fn(void *arg)
{
	struct server *sv = arg;
	struct ipcbox_msg_info info;
	struct ipcbox_reply rp;
	int len;

	for (;;) {
		len = mb_recv_full(sv->fd, sv->buf, sizeof(sv->buf), 0,
				   IPCBOX_TIMEOUT_INFINITE, 0, 0, &info);
		if (len < 0 || !info.token)
			break;	/* a plain message says stop */
		memcpy(sv->reply, "re:", 3);
		memcpy(sv->reply + 3, sv->buf, len);
		memset(&rp, 0, sizeof(rp));
		rp.token = info.token;
		rp.buf = (uintptr_t)sv->reply;
		rp.len = len + 3;
		sys_ioctl(sv->fd, IPCBOX_IOC_REPLY, &rp);
		__atomic_fetch_add(&sv->served, 1, __ATOMIC_SEQ_CST);
	}
	return NULL;
}

/* Until the server is back in its receive, nothing moves. */
static void server_idle(int fd)
{
	mb_wait_waiters(fd, 0, 1, 5000);
}

/*
 * A failed CALL changed nothing, except when its reply was lost in the
 * copy out (EFAULT, documented): then the server did answer it.
 */
TEST_F_TIMEOUT(faults, call, 300)
{
	struct ipcbox_msg_info info;
	struct ipcbox_stat a, b;
	struct ipcbox_call c;
	struct server sv;
	size_t len = variant->len;
	int served, ret;

	memset(&sv, 0, sizeof(sv));
	sv.fd = self->fd;
	ASSERT_EQ(0, pthread_create(&sv.thread, NULL, server_fn, &sv));
	payload(self->buf, len, 2);
	SWEEP("CALL",
	      { memset(&c, 0, sizeof(c));
		c.buf = (uintptr_t)self->buf;
		c.len = len;
		c.timeout_ns = CALL_NS;
		c.reply_buf = (uintptr_t)self->out;
		c.reply_size = len + 3;
		memset(&info, 0, sizeof(info));
		c.reply_info = (uintptr_t)&info;
		c.reply_info_size = sizeof(info);
		memset(self->out, 0, len + 3);
		server_idle(self->fd);
		served = sv.served;
		ASSERT_EQ(0, mb_stat(self->fd, &a)); },
	      ret = sys_ioctl(self->fd, IPCBOX_IOC_CALL, &c),
	      {
		EXPECT_EQ(len + 3, ret);
		EXPECT_EQ(0, memcmp("re:", self->out, 3));
		EXPECT_EQ(0, memcmp(self->buf, self->out + 3, len));
		EXPECT_EQ(len + 3, info.len);
	      },
	      {
		server_idle(self->fd);
		ASSERT_EQ(0, mb_stat(self->fd, &b));
		if (sv.served == served) {
			EXPECT_STAT_SAME(a, b);
		} else {
			EXPECT_EQ(-EFAULT, ret);
			EXPECT_EQ(a.received + 1, b.received);
		}
	      });
	mb_send_str(self->fd, "stop");
	pthread_join(sv.thread, NULL);
}

/* A caller thread making one CALL, for the REPLY sweeps. */
struct caller {
	pthread_t thread;
	int fd;
	int ret;
	char req[8];
	char reply[4096];
	struct ipcbox_msg_info info;
};

static void *caller_fn(void *arg)
{
	struct caller *cl = arg;
	struct ipcbox_call c;

	memset(&c, 0, sizeof(c));
	c.buf = (uintptr_t)cl->req;
	c.len = sizeof(cl->req);
	c.timeout_ns = CALL_NS;
	c.reply_buf = (uintptr_t)cl->reply;
	c.reply_size = sizeof(cl->reply);
	c.reply_info = (uintptr_t)&cl->info;
	c.reply_info_size = sizeof(cl->info);
	cl->ret = sys_ioctl(cl->fd, IPCBOX_IOC_CALL, &c);
	return NULL;
}

/* Start a call and receive its request; returns the token. */
static uint64_t call_start(struct caller *cl, int fd)
{
	struct ipcbox_msg_info info;
	char req[16];

	memset(cl, 0, sizeof(*cl));
	cl->fd = fd;
	memcpy(cl->req, "request", 8);
	if (pthread_create(&cl->thread, NULL, caller_fn, cl))
		return 0;
	if (mb_recv_full(fd, req, sizeof(req), 0, CALL_NS, 0, 0, &info) != 8)
		return 0;
	return info.token;
}

/* A REPLY that failed leaves the request open: answering again works. */
TEST_F_TIMEOUT(faults, reply, 300)
{
	struct ipcbox_reply rp;
	struct ipcbox_stat st;
	struct caller cl;
	size_t len = variant->len;
	uint64_t token;
	int ret;

	payload(self->buf, len, 3);
	token = call_start(&cl, self->fd);
	ASSERT_NE(0, token);
	SWEEP("REPLY",
	      { memset(&rp, 0, sizeof(rp));
		rp.token = token;
		rp.buf = (uintptr_t)self->buf;
		rp.len = len; },
	      ret = sys_ioctl(self->fd, IPCBOX_IOC_REPLY, &rp),
	      {
		pthread_join(cl.thread, NULL);
		EXPECT_EQ(len, cl.ret);
		EXPECT_EQ(0, memcmp(self->buf, cl.reply, len));
		if (injected) {
			token = call_start(&cl, self->fd);
			ASSERT_NE(0, token);
		}
	      },
	      {
		/* The caller still waits: its request is open. */
		ASSERT_EQ(0, mb_stat(self->fd, &st));
		EXPECT_EQ(1, st.calls);
	      });
}

/*
 * Answer the request with a plain REPLY if it is still open, and check
 * the caller got exactly one answer. Returns what that REPLY returned.
 */
static int call_settle(struct caller *cl, int fd, uint64_t token)
{
	struct ipcbox_reply rp;
	int ret;

	memset(&rp, 0, sizeof(rp));
	rp.token = token;
	rp.buf = (uintptr_t)"answer";
	rp.len = 6;
	ret = sys_ioctl(fd, IPCBOX_IOC_REPLY, &rp);
	pthread_join(cl->thread, NULL);
	if (cl->ret != 6 || memcmp("answer", cl->reply, 6))
		return -EBADMSG;
	return ret;
}

/*
 * REPLY_RECV: the reply and the receive each fail cleanly; reply_error
 * says whether the reply failed, a receive that failed left its message
 * queued, and the request is answered exactly once.
 */
TEST_F_TIMEOUT(faults, reply_recv, 300)
{
	struct ipcbox_msg_info info;
	struct ipcbox_reply_recv rr;
	struct caller cl;
	size_t len = variant->len;
	uint64_t token;
	int ret, again;

	payload(self->buf, len, 4);
	SWEEP("REPLY_RECV",
	      { token = call_start(&cl, self->fd);
		ASSERT_NE(0, token);
		ASSERT_EQ(0, mb_send(self->fd, self->buf, len, 0, 0));
		memset(&rr, 0, sizeof(rr));
		rr.token = token;
		rr.reply_buf = (uintptr_t)"answer";
		rr.reply_len = 6;
		rr.buf = (uintptr_t)self->out;
		rr.size = 4096;
		rr.flags = IPCBOX_NONBLOCK;
		rr.timeout_ns = 0;
		memset(&info, 0, sizeof(info));
		rr.info = (uintptr_t)&info;
		rr.info_size = sizeof(info); },
	      ret = sys_ioctl(self->fd, IPCBOX_IOC_REPLY_RECV, &rr),
	      {
		EXPECT_EQ(len, ret);
		EXPECT_EQ(0, memcmp(self->buf, self->out, len));
		EXPECT_EQ(len, info.len);
		EXPECT_EQ(0, info.token);
		EXPECT_EQ(0, mb_depth(self->fd));
		/* the reply was made (well or not): its token cleared */
		EXPECT_EQ(0, rr.token);
		if (!injected)
			EXPECT_EQ(0, rr.reply_error);
		if (rr.reply_error)
			EXPECT_TRUE(clean_errno(rr.reply_error));
		again = call_settle(&cl, self->fd, token);
		EXPECT_EQ(rr.reply_error ? 0 : -ENOENT, again);
	      },
	      {
		/* The message is still there, intact. */
		EXPECT_EQ(0, take_one(self->fd, self->out, len, 4));
		again = call_settle(&cl, self->fd, token);
		if (rr.reply_error) {
			EXPECT_TRUE(clean_errno(rr.reply_error));
			EXPECT_EQ(0, rr.token);
			EXPECT_EQ(0, again);
		} else {
			/* replied then the receive failed, or neither */
			EXPECT_TRUE(again == 0 || again == -ENOENT)
				TH_LOG("settling REPLY: %s", strerror(-again));
			/* the token is cleared if and only if it replied */
			EXPECT_EQ(rr.token ? 0 : -ENOENT, again)
				TH_LOG("token %s, settling REPLY: %s",
				       rr.token ? "kept" : "cleared",
				       strerror(-again));
		}
	      });
}

/*
 * fail_page_alloc too: the same sweeps with sleeping page allocations as
 * fault points (and the user copies; the sleeping slab allocations are
 * the faults fixture's), for messages from the kmalloc caches up to those
 * kvmalloc takes from vmalloc: 256 KiB and 1 MiB (the sweep fails the
 * contiguous attempt once, and kvmalloc falls back to vmalloc), and 5 MiB
 * (more than kmalloc can ever give: always vmalloc, whose own allocations
 * are swept). max_msg_size is raised for them and restored after.
 *
 * The page allocator reports some failures it is made to inject with a
 * stack dump ("page allocation failure: order:..."); the test writes
 * IPCBOX_MARK_PA_BEGIN and IPCBOX_MARK_PA_END to /dev/kmsg around each
 * such sweep, and the VM runner drops exactly those reports between the
 * two, nothing else.
 */
#define PA_HUGE		(5U << 20)

FIXTURE(page_alloc) {
	int ctl;
	int fd;
	int nth;
	char saved[NR_SETTINGS + NR_PA_SETTINGS][FI_VALUE_MAX];
	bool saved_ok[NR_SETTINGS + NR_PA_SETTINGS];
	unsigned long long saved_max_msg;
	bool have_max_msg;
	bool marked;
	unsigned long injected;
	unsigned long calls;
	char *buf;
	char *out;
	size_t size;
};

FIXTURE_VARIANT(page_alloc) {
	size_t len;
};

FIXTURE_VARIANT_ADD(page_alloc, small) {
	.len = SMALL,
};

FIXTURE_VARIANT_ADD(page_alloc, medium) {
	.len = MEDIUM,
};

FIXTURE_VARIANT_ADD(page_alloc, kvmalloc_256k) {
	.len = 256 << 10,
};

FIXTURE_VARIANT_ADD(page_alloc, kvmalloc_1m) {
	.len = 1 << 20,
};

FIXTURE_VARIANT_ADD(page_alloc, vmalloc_5m) {
	.len = PA_HUGE,
};

/* A line in the kernel log, for the runner's page-allocation filter. */
static void kmsg_mark(const char *mark, const char *what)
{
	char line[160];
	int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	int len;

	if (fd < 0)
		return;
	len = snprintf(line, sizeof(line), "%s %s\n", mark, what);
	if (write(fd, line, len) != len)
		perror("/dev/kmsg");
	close(fd);
}

FIXTURE_SETUP(page_alloc)
{
	size_t len = variant->len;

	self->ctl = -1;
	self->fd = -1;
	self->nth = -1;
	self->have_max_msg = false;
	self->marked = false;
	self->buf = MAP_FAILED;
	self->out = MAP_FAILED;
	memset(self->saved_ok, 0, sizeof(self->saved_ok));
	self->nth = open(FAIL_NTH, O_RDWR | O_CLOEXEC);
	if (self->nth < 0)
		SKIP(return, "%s: %m (kernel without CONFIG_FAULT_INJECTION)",
		     FAIL_NTH);
	if (!path_exists(DEBUGFS "/fail_page_alloc"))
		SKIP(return, "%s/fail_page_alloc absent (kernel without CONFIG_FAIL_PAGE_ALLOC)",
		     DEBUGFS);
	CTL_OPEN_OR_SKIP(self->ctl);
	fi_apply(_metadata, NR_SETTINGS + NR_PA_SETTINGS, self->saved,
		 self->saved_ok);
	ASSERT_EQ(0, param_get("max_msg_size", &self->saved_max_msg));
	self->have_max_msg = true;
	if (self->saved_max_msg < len)
		ASSERT_EQ(0, param_set("max_msg_size", len));
	/* Touched now: no page fault, no page table inside a swept call. */
	self->size = len + 64;
	self->buf = mmap(NULL, self->size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	self->out = mmap(NULL, self->size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	ASSERT_NE(MAP_FAILED, self->out);
	payload(self->buf, self->size, 7);
	memset(self->out, 0, self->size);
	self->fd = mb_anon(self->ctl, 4, len);
	ASSERT_LE(0, self->fd) TH_LOG("create: %s", strerror(-self->fd));
	self->injected = 0;
	self->calls = 0;
}

FIXTURE_TEARDOWN(page_alloc)
{
	if (self->calls)
		printf("# faults: page_alloc len=%zu: injected=%lu calls=%lu\n",
		       variant->len, self->injected, self->calls);
	if (self->nth >= 0 && write(self->nth, "0", 1) < 0)
		TH_LOG("cannot reset %s", FAIL_NTH);
	if (self->marked)
		kmsg_mark(IPCBOX_MARK_PA_END, "(test ended)");
	fi_restore(_metadata, NR_SETTINGS + NR_PA_SETTINGS, self->saved,
		   self->saved_ok);
	close_fd(&self->fd);
	if (self->have_max_msg &&
	    param_set("max_msg_size", self->saved_max_msg))
		TH_LOG("could not restore max_msg_size");
	if (self->buf != MAP_FAILED)
		munmap(self->buf, self->size);
	if (self->out != MAP_FAILED)
		munmap(self->out, self->size);
	close_fd(&self->ctl);
	close_fd(&self->nth);
}

/* A SWEEP between the markers that let its allocation reports through. */
#define PA_SWEEP(what, prepare, call, ok_body, fail_body) do {		\
	kmsg_mark(IPCBOX_MARK_PA_BEGIN, what);				\
	self->marked = true;						\
	SWEEP(what, prepare, call, ok_body, fail_body);			\
	kmsg_mark(IPCBOX_MARK_PA_END, what);				\
	self->marked = false;						\
} while (0)

/* The one queued message is @len bytes of self->buf: take and check it. */
static int pa_take(int fd, char *out, const char *want, size_t len)
{
	int ret = mb_recv(fd, out, len, IPCBOX_NONBLOCK, 0);

	if (ret != (int)len)
		return ret < 0 ? ret : -EBADMSG;
	return memcmp(want, out, len) ? -EBADMSG : 0;
}

TEST_F_TIMEOUT(page_alloc, send_and_recv, 600)
{
	struct ipcbox_msg_info info;
	struct ipcbox_stat a, b;
	struct ipcbox_send s;
	struct ipcbox_recv r;
	size_t len = variant->len;
	uint64_t seq;
	int ret;

	PA_SWEEP("page_alloc SEND",
		 { send_args(&s, self->buf, len, 0, 0, 1, 3);
		   ASSERT_EQ(0, mb_stat(self->fd, &a)); },
		 ret = sys_ioctl(self->fd, IPCBOX_IOC_SEND, &s),
		 {
			ASSERT_EQ(0, mb_stat(self->fd, &b));
			EXPECT_EQ(a.depth + 1, b.depth);
			EXPECT_EQ(a.sent + 1, b.sent);
			EXPECT_EQ(0, pa_take(self->fd, self->out, self->buf,
					     len));
		 },
		 {
			ASSERT_EQ(0, mb_stat(self->fd, &b));
			EXPECT_STAT_SAME(a, b);
		 });

	ASSERT_EQ(0, mb_send_full(self->fd, self->buf, len, 0, 0, 0, 5, &seq));
	PA_SWEEP("page_alloc RECV",
		 { recv_args(&r, self->out, len, IPCBOX_NONBLOCK, 0);
		   recv_info(&r, &info);
		   memset(self->out, 0, 64);
		   ASSERT_EQ(0, mb_stat(self->fd, &a)); },
		 ret = sys_ioctl(self->fd, IPCBOX_IOC_RECV, &r),
		 {
			EXPECT_EQ(len, ret);
			EXPECT_EQ(seq, info.seq);
			EXPECT_EQ(0, memcmp(self->buf, self->out, len));
			ASSERT_EQ(0, mb_stat(self->fd, &b));
			EXPECT_EQ(a.depth - 1, b.depth);
			if (injected)
				ASSERT_EQ(0, mb_send_full(self->fd, self->buf,
							  len, 0, 0, 0, 5,
							  &seq));
		 },
		 {
			ASSERT_EQ(0, mb_stat(self->fd, &b));
			EXPECT_STAT_SAME(a, b);
		 });
	EXPECT_EQ(0, mb_depth(self->fd));
}

/* A server answering each request with the request itself. */
struct pa_server {
	pthread_t thread;
	int fd;
	char *buf;
	size_t size;
	volatile int served;
};

static void *pa_server_fn(void *arg)
{
	struct pa_server *sv = arg;
	struct ipcbox_msg_info info;
	int len;

	for (;;) {
		len = mb_recv_full(sv->fd, sv->buf, sv->size, 0,
				   IPCBOX_TIMEOUT_INFINITE, 0, 0, &info);
		if (len < 0 || !info.token)
			break;	/* a plain message says stop */
		mb_reply(sv->fd, info.token, sv->buf, len);
		__atomic_fetch_add(&sv->served, 1, __ATOMIC_SEQ_CST);
	}
	return NULL;
}

TEST_F_TIMEOUT(page_alloc, call, 600)
{
	struct ipcbox_msg_info info;
	struct ipcbox_stat a, b;
	struct ipcbox_call c;
	struct pa_server sv;
	size_t len = variant->len;
	int served, ret;

	memset(&sv, 0, sizeof(sv));
	sv.fd = self->fd;
	sv.size = len;
	sv.buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, sv.buf);
	ASSERT_EQ(0, pthread_create(&sv.thread, NULL, pa_server_fn, &sv));
	PA_SWEEP("page_alloc CALL",
		 { memset(&c, 0, sizeof(c));
		   c.buf = (uintptr_t)self->buf;
		   c.len = len;
		   c.timeout_ns = CALL_NS;
		   c.reply_buf = (uintptr_t)self->out;
		   c.reply_size = len;
		   memset(&info, 0, sizeof(info));
		   c.reply_info = (uintptr_t)&info;
		   c.reply_info_size = sizeof(info);
		   memset(self->out, 0, 64);
		   server_idle(self->fd);
		   served = sv.served;
		   ASSERT_EQ(0, mb_stat(self->fd, &a)); },
		 ret = sys_ioctl(self->fd, IPCBOX_IOC_CALL, &c),
		 {
			EXPECT_EQ(len, ret);
			EXPECT_EQ(0, memcmp(self->buf, self->out, len));
			EXPECT_EQ(len, info.len);
		 },
		 {
			server_idle(self->fd);
			ASSERT_EQ(0, mb_stat(self->fd, &b));
			/* the server's REPLY has faults of its own: not swept */
			if (sv.served == served) {
				EXPECT_STAT_SAME(a, b);
			} else {
				EXPECT_EQ(-EFAULT, ret);
			}
		 });
	mb_send_str(self->fd, "stop");
	pthread_join(sv.thread, NULL);
	munmap(sv.buf, len);
}

/* Without fault injection there is nothing to run: say so once. */
int main(int argc, char **argv)
{
	if (access(FAIL_NTH, F_OK)) {
		printf("1..0 # SKIP %s absent: kernel without CONFIG_FAULT_INJECTION\n",
		       FAIL_NTH);
		return KSFT_SKIP;
	}
	if (!path_exists(DEBUGFS "/failslab"))
		mount("debugfs", DEBUGFS, "debugfs", 0, NULL);
	if (!path_exists(DEBUGFS "/failslab")) {
		printf("1..0 # SKIP %s/failslab absent: kernel without CONFIG_FAILSLAB\n",
		       DEBUGFS);
		return KSFT_SKIP;
	}
	return test_harness_run(argc, argv);
}
