// SPDX-License-Identifier: GPL-2.0
/*
 * Life-cycle races: UNLINK, SHUTDOWN and close(2) while senders and
 * receivers are blocked or just entering their calls, open(2) of a node
 * racing with UNLINK and a re-CREATE, and unloading and reloading
 * ipcbox.ko (IPCBOX_LIFECYCLE_CYCLES times, default 200) while another
 * process keeps opening it.
 *
 * The documented outcomes: UNLINK only removes the name (open fds, blocked
 * calls included, go on working); SHUTDOWN fails blocked senders with
 * EPIPE and lets receivers drain, then EPIPE; closing an fd another thread
 * is blocked on does not disturb that call; an open racing with UNLINK
 * gets the mailbox of that name or ENOENT; while the module is away the
 * control node is missing or refuses to open, and once open everything
 * works; rmmod fails while an fd is open or a name exists.
 */
#include "ipcbox_test.h"
#include "kselftest_harness.h"

#define MODULE_PATH	"/lib/ipcbox/ipcbox.ko"
#define MODULE_NAME	"ipcbox"
#define DEFAULT_CYCLES	200
#define ROUNDS		20
#define NR_THREADS	6

FIXTURE(lifecycle) {
	int ctl;
	char name[IPCBOX_NAME_MAX];
	char name2[IPCBOX_NAME_MAX];
};

FIXTURE_SETUP(lifecycle)
{
	self->name[0] = '\0';
	self->name2[0] = '\0';
	CTL_OPEN_OR_SKIP(self->ctl);
}

FIXTURE_TEARDOWN(lifecycle)
{
	if (self->ctl >= 0) {
		if (self->name[0])
			mb_unlink(self->ctl, self->name);
		if (self->name2[0])
			mb_unlink(self->ctl, self->name2);
	}
	close_fd(&self->ctl);
}

/*
 * Threads that open a node themselves and then block: receivers on an
 * empty mailbox, senders on a full one.
 */
struct opener_op {
	pthread_t thread;
	const char *name;
	bool send;
	int open_err;	/* -errno of the open, or 0 */
	int done_open;
	int ret;
	char buf[64];
};

static void *opener_thread(void *arg)
{
	struct opener_op *op = arg;
	int fd = mb_open(op->name, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		op->open_err = fd;
	__atomic_store_n(&op->done_open, 1, __ATOMIC_SEQ_CST);
	if (fd < 0)
		return NULL;
	if (op->send)
		op->ret = mb_send(fd, "s", 1, 0, -1);
	else
		op->ret = mb_recv(fd, op->buf, sizeof(op->buf), 0, -1);
	close(fd);
	return NULL;
}

TEST_F_TIMEOUT(lifecycle, unlink_leaves_blocked_and_opening_calls_working, 120)
{
	struct opener_op ops[2 * NR_THREADS];
	int rfd, sfd, r, i, opened = 0, enoent = 0, completed = 0;
	int nr_recv, nr_send;
	struct test_rng rng;
	struct ipcbox_stat st;
	char buf[64];

	rng_seed(&rng, 42);

	for (r = 0; r < ROUNDS; r++) {
		test_name(self->name, sizeof(self->name), "ulr");
		test_name(self->name2, sizeof(self->name2), "uls");
		rfd = mb_create(self->ctl, self->name, 1, 64, 0600, 0);
		ASSERT_GE(rfd, 0);
		sfd = mb_create(self->ctl, self->name2, 1, 64, 0600, 0);
		ASSERT_GE(sfd, 0);
		ASSERT_EQ(0, mb_send(sfd, "full", 4, 0, 0));
		memset(ops, 0, sizeof(ops));
		for (i = 0; i < 2 * NR_THREADS; i++) {
			ops[i].send = i >= NR_THREADS;
			ops[i].name = ops[i].send ? self->name2 : self->name;
			ops[i].ret = INT_MIN;
			ASSERT_EQ(0, pthread_create(&ops[i].thread, NULL,
						    opener_thread, &ops[i]));
		}
		/* unlink while the threads open and block */
		sleep_ms(rng_below(&rng, 8));
		ASSERT_EQ(0, mb_unlink(self->ctl, self->name));
		ASSERT_EQ(0, mb_unlink(self->ctl, self->name2));
		EXPECT_EQ(-ENOENT, mb_open(self->name, O_RDWR | O_CLOEXEC));
		ASSERT_EQ(0, mb_stat(rfd, &st));
		EXPECT_EQ(IPCBOX_STAT_UNLINKED, st.flags & IPCBOX_STAT_UNLINKED);
		/* every thread has opened (and will block) or got ENOENT */
		nr_recv = nr_send = 0;
		for (i = 0; i < 2 * NR_THREADS; i++) {
			while (!__atomic_load_n(&ops[i].done_open, __ATOMIC_SEQ_CST))
				sleep_ms(1);
			if (ops[i].open_err) {
				EXPECT_EQ(-ENOENT, ops[i].open_err);
			} else if (ops[i].send) {
				nr_send++;
			} else {
				nr_recv++;
			}
		}
		ASSERT_TRUE(mb_wait_waiters(rfd, 0, nr_recv, 10000));
		ASSERT_TRUE(mb_wait_waiters(sfd, nr_send, 0, 10000));
		/* the blocked calls still complete through the old mailboxes */
		for (i = 0; i < nr_recv; i++)
			EXPECT_EQ(0, mb_send(rfd, "m", 1, 0, 5 * NSEC_PER_SEC));
		for (i = 0; i < nr_send + 1; i++)
			EXPECT_EQ(i == 0 ? 4 : 1,
				  mb_recv(sfd, buf, sizeof(buf), 0, 5 * NSEC_PER_SEC));
		for (i = 0; i < 2 * NR_THREADS; i++) {
			pthread_join(ops[i].thread, NULL);
			if (ops[i].open_err) {
				enoent++;
				continue;
			}
			opened++;
			EXPECT_EQ(ops[i].send ? 0 : 1, ops[i].ret);
			if (ops[i].ret == (ops[i].send ? 0 : 1))
				completed++;
		}
		close(rfd);
		close(sfd);
		self->name[0] = self->name2[0] = '\0';
	}
	ksft_print_msg("lifecycle: unlink vs blocked: rounds=%d opened=%d completed=%d enoent=%d\n",
		       ROUNDS, opened, completed, enoent);
	EXPECT_LT(0, completed);
}

/* Mixed senders and receivers that run until SHUTDOWN stops them. */
struct sd_shared {
	int fd;
	uint32_t id;
	uint64_t sent;
	uint64_t received;
	uint64_t bad;
	int bad_err;
};

static void *sd_sender(void *arg)
{
	struct sd_shared *w = arg;
	struct test_rng rng;
	uint32_t flags;
	int64_t to;
	int ret;

	rng_seed(&rng, 7 + w->id * 13);

	for (;;) {
		switch (rng_below(&rng, 4)) {
		case 0:
			flags = 0;
			to = -1;
			break;
		case 1:
			flags = IPCBOX_SEND_SYNC;
			to = -1;
			break;
		case 2:
			flags = IPCBOX_SEND_CACHE;
			to = 0;
			break;
		default:
			flags = 0;
			to = (1 + rng_below(&rng, 5)) * NSEC_PER_MSEC;
			break;
		}
		ret = mb_send(w->fd, "payload", 7, flags, to);
		if (ret == 0)
			w->sent++;
		else if (ret == -EPIPE)
			return NULL;
		else if (ret != -ETIMEDOUT && ret != -EAGAIN) {
			w->bad++;
			w->bad_err = ret;
			return NULL;
		}
		if (ret == -EAGAIN)
			sched_yield();
	}
}

static void *sd_receiver(void *arg)
{
	struct sd_shared *w = arg;
	struct test_rng rng;
	char buf[64];
	int n;

	rng_seed(&rng, 11 + w->id * 17);

	for (;;) {
		if (rng_below(&rng, 2))
			n = mb_recv(w->fd, buf, sizeof(buf), 0, -1);
		else
			n = mb_recv(w->fd, buf, sizeof(buf), 0,
				    (1 + rng_below(&rng, 5)) * NSEC_PER_MSEC);
		if (n == 7 && !memcmp(buf, "payload", 7))
			w->received++;
		else if (n == -EPIPE)
			return NULL;
		else if (n != -ETIMEDOUT) {
			w->bad++;
			w->bad_err = n;
			return NULL;
		}
		/* slow down now and then so that senders block on full */
		if (rng_below(&rng, 32) == 0)
			sleep_ms(1);
	}
}

TEST_F_TIMEOUT(lifecycle, shutdown_ends_blocked_calls_cleanly, 120)
{
	static const uint32_t caps[] = { 0, 1, 4, IPCBOX_CAPACITY_UNBOUNDED };
	struct sd_shared w[NR_THREADS];
	uint64_t sent_total = 0, recv_total = 0, round_sent, round_recv;
	pthread_t t[NR_THREADS];
	struct test_rng rng;
	struct ipcbox_stat st;
	int r, i, fd;

	rng_seed(&rng, 99);

	for (r = 0; r < ROUNDS; r++) {
		test_name(self->name, sizeof(self->name), "sd");
		fd = mb_create(self->ctl, self->name, caps[r % 4], 64, 0600, 0);
		ASSERT_GE(fd, 0);
		round_sent = round_recv = 0;
		memset(w, 0, sizeof(w));
		for (i = 0; i < NR_THREADS; i++) {
			w[i].id = i;
			/* an fd per thread, so each CACHE slot is its own */
			w[i].fd = mb_open(self->name, O_RDWR | O_CLOEXEC);
			ASSERT_GE(w[i].fd, 0);
			ASSERT_EQ(0, pthread_create(&t[i], NULL, i % 2 ? sd_receiver :
						    sd_sender, &w[i]));
		}
		sleep_ms(5 + rng_below(&rng, 40));
		ASSERT_EQ(0, mb_shutdown(fd));
		/* every thread ends, with EPIPE, on its own */
		for (i = 0; i < NR_THREADS; i++) {
			pthread_join(t[i], NULL);
			close(w[i].fd);
			EXPECT_EQ(0, w[i].bad) TH_LOG("thread %d: %s", i,
						      strerror(-w[i].bad_err));
			sent_total += w[i].sent;
			recv_total += w[i].received;
			round_sent += w[i].sent;
			round_recv += w[i].received;
		}
		ASSERT_EQ(0, mb_stat(fd, &st));
		EXPECT_EQ(round_sent, round_recv);
		EXPECT_EQ(round_sent, st.sent);
		EXPECT_EQ(0, st.waiting_senders);
		EXPECT_EQ(0, st.waiting_receivers);
		EXPECT_EQ(0, st.depth);
		EXPECT_EQ(st.sent, st.received);
		close(fd);
		ASSERT_EQ(0, mb_unlink(self->ctl, self->name));
		self->name[0] = '\0';
	}
	ksft_print_msg("lifecycle: shutdown vs blocked: rounds=%d sent=%llu received=%llu\n",
		       ROUNDS, (unsigned long long)sent_total,
		       (unsigned long long)recv_total);
	EXPECT_EQ(sent_total, recv_total);
	EXPECT_LT(0, sent_total);
}

TEST_F_TIMEOUT(lifecycle, close_does_not_disturb_a_call_blocked_on_that_fd, 120)
{
	int r, fd, other, ebadf = 0, epipe = 0, delivered = 0;
	struct test_rng rng;
	struct bg_op op;
	char buf[64];

	rng_seed(&rng, 5);

	for (r = 0; r < 2 * ROUNDS; r++) {
		other = mb_anon(self->ctl, 1, 64);
		ASSERT_GE(other, 0);
		fd = fcntl(other, F_DUPFD_CLOEXEC, 0);
		ASSERT_GE(fd, 0);
		if (r % 2) {
			/* a sender blocked on a full mailbox */
			ASSERT_EQ(0, mb_send(other, "f", 1, 0, 0));
			bg_send_str(&op, fd, 0, "blocked");
		} else {
			bg_init(&op, BG_RECV, fd, 0);
		}
		ASSERT_EQ(0, bg_start(&op));
		sleep_ms(rng_below(&rng, 4));
		ASSERT_EQ(0, close(fd));
		/* the fd number is gone for new calls */
		EXPECT_EQ(-EBADF, mb_send(fd, "x", 1, 0, 0));
		sleep_ms(5);
		if (r % 2) {
			/* make room: the blocked send (if it got in) completes */
			EXPECT_EQ(1, mb_recv(other, buf, sizeof(buf), 0, 0));
		} else {
			EXPECT_EQ(0, mb_send(other, "late", 4, 0, 0));
		}
		sleep_ms(5);
		mb_shutdown(other);
		bg_join(&op);
		if (op.ret == -EBADF) {
			/* the close came before the call */
			ebadf++;
		} else if (op.ret == -EPIPE) {
			epipe++;
		} else {
			EXPECT_EQ(r % 2 ? 0 : 4, op.ret);
			delivered++;
		}
		close(other);
	}
	ksft_print_msg("lifecycle: close vs blocked: rounds=%d completed=%d ebadf=%d epipe=%d\n",
		       2 * ROUNDS, delivered, ebadf, epipe);
	/* a call blocked before the close is never failed by it */
	EXPECT_EQ(0, epipe);
}

TEST_F(lifecycle, closing_a_cache_holder_still_delivers)
{
	int fd, holder;
	char buf[64];

	fd = mb_anon(self->ctl, 1, 64);
	ASSERT_GE(fd, 0);
	holder = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	ASSERT_GE(holder, 0);
	ASSERT_EQ(0, mb_send(fd, "first", 5, 0, 0));
	ASSERT_EQ(0, mb_send(holder, "parked", 6, IPCBOX_SEND_CACHE, 0));
	/* a dup shares the open file, and so its CACHE slot */
	close(holder);
	EXPECT_EQ(-EAGAIN, mb_send(fd, "x", 1, IPCBOX_SEND_CACHE, 0));
	EXPECT_EQ(5, mb_recv(fd, buf, sizeof(buf), 0, 0));
	EXPECT_EQ(6, mb_recv(fd, buf, sizeof(buf), 0, 0));
	EXPECT_EQ(0, memcmp(buf, "parked", 6));
	close(fd);
}

/*
 * One process opens a name over and over while another creates it,
 * unlinks it and creates other names in between (which may take the
 * freed minor number). Every open gets the mailbox of that name, or
 * ENOENT.
 */
TEST_F_TIMEOUT(lifecycle, open_racing_unlink_gets_that_mailbox_or_enoent, 120)
{
	unsigned long secs = env_ul("IPCBOX_LIFECYCLE_SECS", 5);
	struct {
		uint64_t ok, enoent, wrong, other;
		int err;
		char seen[IPCBOX_NAME_MAX];
	} *res;
	int64_t end = now_ns() + (int64_t)secs * NSEC_PER_SEC;
	uint64_t creates = 0;
	pid_t pid;
	int fd, fd2;

	res = mmap(NULL, sizeof(*res), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, res);
	test_name(self->name, sizeof(self->name), "race");
	test_name(self->name2, sizeof(self->name2), "other");
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct ipcbox_stat st;
		char buf[16];

		while (now_ns() < end) {
			int f = mb_open(self->name, O_RDWR | O_CLOEXEC);

			if (f == -ENOENT) {
				res->enoent++;
				continue;
			}
			if (f < 0) {
				res->other++;
				res->err = f;
				continue;
			}
			if (mb_stat(f, &st) || strcmp(st.name, self->name)) {
				res->wrong++;
				memcpy(res->seen, st.name, sizeof(res->seen));
			} else if (mb_send(f, "o", 1, 0, 0) == 0 &&
				   mb_recv(f, buf, sizeof(buf), 0, 0) != 1) {
				res->wrong++;
			} else {
				res->ok++;
			}
			close(f);
		}
		_exit(0);
	}
	while (now_ns() < end) {
		fd = mb_create(self->ctl, self->name, 4, 64, 0600, 0);
		ASSERT_GE(fd, 0);
		ASSERT_EQ(0, mb_unlink(self->ctl, self->name));
		/* the freed minor goes to another name at once */
		fd2 = mb_create(self->ctl, self->name2, 4, 64, 0600, 0);
		ASSERT_GE(fd2, 0);
		ASSERT_EQ(0, mb_unlink(self->ctl, self->name2));
		close(fd);
		close(fd2);
		creates += 2;
	}
	ASSERT_EQ(0, wait_child(pid));
	ksft_print_msg("lifecycle: open vs unlink: creates=%llu opens ok=%llu enoent=%llu wrong_mailbox=%llu other_error=%llu\n",
		       (unsigned long long)creates, (unsigned long long)res->ok,
		       (unsigned long long)res->enoent,
		       (unsigned long long)res->wrong,
		       (unsigned long long)res->other);
	EXPECT_EQ(0, res->wrong) TH_LOG("opened %s, got %s", self->name, res->seen);
	EXPECT_EQ(0, res->other) TH_LOG("open: %s", strerror(-res->err));
	EXPECT_LT(0, res->ok + res->enoent);
	munmap(res, sizeof(*res));
}

static int sys_delete_module(const char *name)
{
	return syscall(SYS_delete_module, name, O_NONBLOCK) ? -errno : 0;
}

static int sys_finit_module(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	return ret;
}

static bool module_loaded(void)
{
	return path_exists("/sys/module/" MODULE_NAME "/refcnt");
}

/* rmmod of a module in use: EWOULDBLOCK; EBUSY while it loads or unloads. */
static bool is_busy(int err)
{
	return err == -EBUSY || err == -EAGAIN;
}

/* Wait until our own last fput is done and the module is unused. */
static bool wait_unused(long ms)
{
	int64_t end = now_ns() + ms * NSEC_PER_MSEC;

	while (module_refcnt() != 0 && now_ns() < end)
		sleep_ms(2);
	return module_refcnt() == 0;
}

TEST(rmmod_fails_while_an_fd_is_open_or_a_name_exists)
{
	char name[IPCBOX_NAME_MAX];
	int ctl, fd, ret;

	if (geteuid())
		SKIP(return, "needs root");
	if (!module_loaded())
		SKIP(return, MODULE_NAME " is not loaded");
	ctl = ctl_open();
	ASSERT_GE(ctl, 0);
	ret = sys_delete_module(MODULE_NAME);
	EXPECT_TRUE(is_busy(ret)) TH_LOG("control fd open: %s", strerror(-ret));
	ksft_print_msg("lifecycle: rmmod in use: %s\n", strerror(-ret));

	fd = mb_anon(ctl, 1, 64);
	ASSERT_GE(fd, 0);
	close(ctl);
	ret = sys_delete_module(MODULE_NAME);
	EXPECT_TRUE(is_busy(ret)) TH_LOG("mailbox fd open: %s", strerror(-ret));
	EXPECT_EQ(0, mb_send(fd, "still", 5, 0, 0));
	close(fd);

	ctl = ctl_open();
	ASSERT_GE(ctl, 0);
	test_name(name, sizeof(name), "pin");
	fd = mb_create(ctl, name, 1, 64, 0600, 0);
	ASSERT_GE(fd, 0);
	close(fd);
	close(ctl);
	ret = sys_delete_module(MODULE_NAME);
	EXPECT_TRUE(is_busy(ret)) TH_LOG("a name exists: %s", strerror(-ret));
	EXPECT_TRUE(module_loaded());
	ctl = ctl_open();
	ASSERT_GE(ctl, 0);
	EXPECT_EQ(0, mb_unlink(ctl, name));
	close(ctl);
}

/* As the caller's ids: open @arg read-write; 0, or its errno. */
static int try_open_rdwr(void *arg)
{
	int fd = open(arg, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

/* Unload and load the module again, once it is unused: 0 or -errno. */
static int reload_module(void)
{
	int64_t end = now_ns() + 20 * NSEC_PER_SEC;
	int ret;

	if (!wait_unused(5000))
		return -EBUSY;
	while ((ret = sys_delete_module(MODULE_NAME)) && is_busy(ret) &&
	       now_ns() < end)
		sleep_ms(1);
	return ret ? ret : sys_finit_module(MODULE_PATH);
}

#define STALE_OTHER_UID	1001	/* neither the owner nor in the group */

/*
 * Minors start again from the first after a reload, so a node kept from
 * before it (here one made with mknod, mode 0666, as a container's root
 * can) has the device number of whatever mailbox is made first after it.
 * Opening it must give no more than that mailbox's own owner, group and
 * mode allow: another user's 0600 mailbox stays closed to everyone else.
 */
TEST(stale_node_after_a_reload_gives_only_what_the_new_mailbox_allows)
{
	char name_a[IPCBOX_NAME_MAX], name_b[IPCBOX_NAME_MAX];
	char node[64], path[128];
	struct stat st_a, st_b;
	mode_t old;
	int ctl, fd, ret;

	if (geteuid())
		SKIP(return, "needs root");
	if (!path_exists(MODULE_PATH))
		SKIP(return, "%s not found", MODULE_PATH);
	if (!module_loaded())
		SKIP(return, MODULE_NAME " is not loaded");
	ASSERT_EQ(0, reload_module());
	/* the first mailbox after a load, open to all, and a node of it */
	ctl = ctl_open();
	ASSERT_GE(ctl, 0);
	test_name(name_a, sizeof(name_a), "stA");
	old = umask(0);
	fd = mb_create(ctl, name_a, 2, 64, 0666, 0);
	ASSERT_GE(fd, 0);
	dev_path(path, sizeof(path), name_a);
	ASSERT_EQ(0, stat(path, &st_a)) TH_LOG("%s: %m", path);
	snprintf(node, sizeof(node), "/tmp/kst-stale-%d", getpid());
	ret = mknod(node, S_IFCHR | 0666, st_a.st_rdev);
	umask(old);
	ASSERT_EQ(0, ret) TH_LOG("mknod %s: %m", node);
	EXPECT_EQ(7, run_as_ids(STALE_OTHER_UID, STALE_OTHER_UID,
				try_opens_path, node))
		TH_LOG("mailbox A is 0666");
	close(fd);
	EXPECT_EQ(0, mb_unlink(ctl, name_a));
	close(ctl);

	/* a reload, and the first mailbox after it: another user's, 0600 */
	ret = reload_module();
	if (ret) {
		unlink(node);
		ASSERT_EQ(0, ret) TH_LOG("reload: %s", strerror(-ret));
	}
	test_name(name_b, sizeof(name_b), "stB");
	ret = run_as_user(create_named_0600, name_b);
	EXPECT_EQ(0, ret) TH_LOG("create as uid %d: %s", TEST_UID, strerror(ret));
	dev_path(path, sizeof(path), name_b);
	if (!ret && stat(path, &st_b) == 0) {
		EXPECT_EQ(st_a.st_rdev, st_b.st_rdev)
			TH_LOG("the minor was not given again");
		/* the stale 0666 node opens nothing for a third user */
		EXPECT_EQ(0, run_as_ids(STALE_OTHER_UID, STALE_OTHER_UID,
					try_opens_path, node))
			TH_LOG("bits: 1 O_RDONLY, 2 O_WRONLY, 4 O_RDWR opened, 64 not EACCES");
		/* and is B's node for B's owner, as any node of B is */
		EXPECT_EQ(0, run_as_user(try_open_rdwr, node));
	}
	unlink(node);
	ctl = ctl_open();
	ASSERT_GE(ctl, 0);
	EXPECT_EQ(0, mb_unlink(ctl, name_b));
	close(ctl);
}

struct cyc_shared {
	volatile int stop;
	uint64_t ok, clean_err, bad, named;
	int bad_err;
	int bad_step;
};

/* Open and use the module whenever it is there; record anything unclean. */
static void cycle_opener(struct cyc_shared *sh)
{
	char name[IPCBOX_NAME_MAX], buf[16];
	struct ipcbox_info info;
	int ctl, fd, nfd, step, ret;
	struct test_rng rng;

	rng_seed(&rng, 77);

	while (!sh->stop) {
		ctl = open(IPCBOX_CONTROL_PATH, O_RDWR | O_CLOEXEC);
		if (ctl < 0) {
			if (errno == ENOENT || errno == ENODEV || errno == ENXIO) {
				sh->clean_err++;
			} else {
				sh->bad++;
				sh->bad_err = -errno;
				sh->bad_step = 0;
			}
			sleep_ms(rng_below(&rng, 3));
			continue;
		}
		/* the module is pinned now: everything must work */
		fd = -1;
		nfd = -1;
		step = 1;
		ret = ipcbox_get_info(ctl, &info);
		if (ret)
			goto bad;
		step = 2;
		fd = mb_anon(ctl, 1, 64);
		if (fd < 0) {
			ret = fd;
			goto bad;
		}
		step = 3;
		ret = mb_send(fd, "ping", 4, 0, 0);
		if (ret)
			goto bad;
		step = 4;
		ret = mb_recv(fd, buf, sizeof(buf), 0, 0);
		if (ret != 4 || memcmp(buf, "ping", 4)) {
			ret = ret < 0 ? ret : -EPROTO;
			goto bad;
		}
		if (rng_below(&rng, 4) == 0) {
			step = 5;
			snprintf(name, sizeof(name), "kst-cycle-%d", getpid());
			close(fd);
			fd = mb_create(ctl, name, 1, 64, 0600, 0);
			if (fd < 0) {
				ret = fd;
				goto bad;
			}
			step = 6;
			nfd = mb_open(name, O_RDWR | O_CLOEXEC);
			ret = nfd < 0 ? nfd : mb_send(nfd, "n", 1, 0, 0);
			if (ret) {
				mb_unlink(ctl, name);
				goto bad;
			}
			step = 7;
			ret = mb_unlink(ctl, name);
			if (ret)
				goto bad;
			sh->named++;
		}
		sh->ok++;
		goto out;
bad:
		sh->bad++;
		sh->bad_err = ret;
		sh->bad_step = step;
out:
		if (nfd >= 0)
			close(nfd);
		if (fd >= 0)
			close(fd);
		close(ctl);
		/* leave the module unused now and then, so rmmod gets a go */
		sleep_ms(rng_below(&rng, 3));
	}
	_exit(0);
}

/* No fd of its own: the module must be unloadable while it runs. */
FIXTURE(module) {
	int unused;
};

FIXTURE_SETUP(module)
{
}

FIXTURE_TEARDOWN(module)
{
	/* whatever happened, leave the module loaded for the runner */
	if (!module_loaded() && path_exists(MODULE_PATH))
		sys_finit_module(MODULE_PATH);
}

TEST_F_TIMEOUT(module, reload_cycles_with_a_concurrent_opener, 900)
{
	unsigned long cycles = env_ul("IPCBOX_LIFECYCLE_CYCLES", DEFAULT_CYCLES);
	unsigned long i, busy = 0;
	struct cyc_shared *sh;
	struct ipcbox_info info;
	int64_t t0 = now_ns(), end;
	int ret = 0, ctl;
	pid_t pid;

	if (geteuid())
		SKIP(return, "needs root");
	if (!path_exists(MODULE_PATH))
		SKIP(return, "%s not found", MODULE_PATH);
	if (!module_loaded())
		SKIP(return, MODULE_NAME " is not loaded");
	ASSERT_TRUE(wait_unused(5000)) TH_LOG("refcnt %d", module_refcnt());
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, sh);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0)
		cycle_opener(sh);

	for (i = 0; i < cycles; i++) {
		end = now_ns() + 20 * NSEC_PER_SEC;
		while ((ret = sys_delete_module(MODULE_NAME)) && is_busy(ret) &&
		       now_ns() < end) {
			busy++;
			sleep_ms(1);
		}
		if (ret) {
			TH_LOG("cycle %lu: rmmod: %s", i, strerror(-ret));
			break;
		}
		ret = sys_finit_module(MODULE_PATH);
		if (ret) {
			TH_LOG("cycle %lu: insmod: %s", i, strerror(-ret));
			break;
		}
	}
	sh->stop = 1;
	EXPECT_EQ(0, wait_child(pid));
	if (!module_loaded())
		EXPECT_EQ(0, sys_finit_module(MODULE_PATH));
	ksft_print_msg("lifecycle: module cycles=%lu rmmod_busy=%lu opener ok=%llu (named %llu) clean_errors=%llu bad=%llu secs=%.1f\n",
		       i, busy, (unsigned long long)sh->ok,
		       (unsigned long long)sh->named,
		       (unsigned long long)sh->clean_err,
		       (unsigned long long)sh->bad, (now_ns() - t0) / 1e9);
	EXPECT_EQ(cycles, i);
	EXPECT_EQ(0, sh->bad) TH_LOG("opener step %d: %s", sh->bad_step,
				     strerror(-sh->bad_err));
	EXPECT_LT(0, sh->ok);
	/* and the reloaded module works */
	ctl = ctl_open();
	ASSERT_GE(ctl, 0);
	EXPECT_EQ(0, ipcbox_get_info(ctl, &info));
	EXPECT_EQ(0, info.nr_mailboxes);
	close(ctl);
	munmap(sh, sizeof(*sh));
}

TEST_HARNESS_MAIN
