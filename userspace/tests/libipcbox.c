// SPDX-License-Identifier: GPL-2.0
/*
 * libipcbox against the real module: every public function, its success
 * path and each error its man page documents, as the exact -errno it
 * returns (never through errno). Also the module discovery: ipcbox_info()
 * against the INFO ioctl, ipcbox_check() with present and absent feature
 * bits, and a module that is missing (a tmpfs over /dev/ipcbox in a
 * private mount namespace), is not ipcbox (/dev/null bind-mounted over
 * the control node) or is too old (INFO made to report ABI version 0).
 *
 * The library is built from source into this binary with ioctl() wrapped
 * (-Wl,--wrap=ioctl): the wrapper counts INFO ioctls, to see the ABI
 * check done once per process, and can lower the ABI version INFO
 * reports; it also counts every ioctl, to see that options the library
 * rejects never reach the kernel, and keeps the last batch's header, to
 * see the entry size the library gives. The library remembers its ABI
 * check per process, so the tests of discovery run without a fixture,
 * each in a process of its own.
 *
 * The test lives with the library it tests; selftests/Makefile builds it
 * with the kselftest harness and selftests/ipcbox_test.h, and it runs in
 * the VM among the selftests.
 */
#include "ipcbox_test.h"
#include "kselftest_harness.h"

#include <stdarg.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include "libipcbox.h"

#define LONG_NS		(5 * NSEC_PER_SEC)	/* waits that must not expire */
#define SHORT_MS	100			/* waits that must expire */
#define SHORT_NS	(SHORT_MS * NSEC_PER_MSEC)
#define GIVE_UP_NS	(NSEC_PER_SEC)		/* a caller that gives up, after a receive */
#define MSG_MAX		64			/* msg_size_max of the fixture */

/* --- ioctl() as the library sees it ----------------------------------- */

int __real_ioctl(int fd, unsigned long req, ...);

static int info_ioctls;		/* INFO ioctls made by this process */
static int all_ioctls;		/* every ioctl made by this process */
static int fake_abi = -1;	/* >= 0: INFO reports this ABI version */
static struct ipcbox_batch last_batch;	/* of the last SENDV or RECVV */

int __wrap_ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;
	int ret;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	__atomic_add_fetch(&all_ioctls, 1, __ATOMIC_RELAXED);
	if (req == IPCBOX_IOC_SENDV || req == IPCBOX_IOC_RECVV)
		memcpy(&last_batch, arg, sizeof(last_batch));
	ret = __real_ioctl(fd, req, arg);
	if (req == IPCBOX_IOC_INFO) {
		info_ioctls++;
		if (ret == 0 && fake_abi >= 0)
			((struct ipcbox_info *)arg)->abi_version = fake_abi;
	}
	return ret;
}

/* --- helpers ------------------------------------------------------------ */

static int64_t ms_since(int64_t t0)
{
	return (now_ns() - t0) / NSEC_PER_MSEC;
}

static struct ipcbox_send_options send_opts_timeout(int64_t timeout_ns)
{
	struct ipcbox_send_options o;

	ipcbox_send_options_init(&o);
	o.timeout_ns = timeout_ns;
	return o;
}

static struct ipcbox_recv_options recv_opts_timeout(int64_t timeout_ns)
{
	struct ipcbox_recv_options o;

	ipcbox_recv_options_init(&o);
	o.timeout_ns = timeout_ns;
	return o;
}

/* ioctls made so far: unchanged across a call the library rejected itself */
static int ioctls(void)
{
	return __atomic_load_n(&all_ioctls, __ATOMIC_RELAXED);
}

/* A name of exactly len bytes (len >= 20), unique to this process. */
static void long_name(char *buf, size_t len)
{
	int n = snprintf(buf, len + 1, "kst-long-%d-", getpid());

	memset(buf + n, 'x', len - n);
	buf[len] = '\0';
}

/* Fill every free fd below a limit of nofile; returns how many. */
static int fill_fds(rlim_t nofile)
{
	struct rlimit rl = { nofile, nofile };
	int fd = open("/dev/null", O_RDONLY), n = 1;

	if (fd < 0 || setrlimit(RLIMIT_NOFILE, &rl))
		return -1;
	while (dup(fd) >= 0)
		n++;
	return errno == EMFILE ? n : -1;
}

/* Wait until a mailbox holds depth messages; false after 3 s. */
static bool wait_depth(int fd, long depth)
{
	int64_t end = now_ns() + 3 * NSEC_PER_SEC;

	while (mb_depth(fd) != depth) {
		if (now_ns() > end)
			return false;
		sleep_ms(2);
	}
	return true;
}

/* A create that must fail: a mailbox made all the same is removed again. */
static int create_fails(const char *name, uint32_t capacity,
			uint32_t msg_size_max, mode_t mode, unsigned int flags)
{
	int fd = ipcbox_create(name, capacity, msg_size_max, mode, flags);

	if (fd >= 0) {
		close(fd);
		ipcbox_unlink(name);
	}
	return fd;
}

/* A private mount namespace for this process; false if the kernel says no. */
static bool private_mounts(void)
{
	if (unshare(CLONE_NEWNS))
		return false;
	return mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;
}

static volatile sig_atomic_t handled;

static void on_usr1(int sig)
{
	handled++;
}

/*
 * SIGUSR1 with sa_flags: without SA_RESTART a blocked call fails with
 * EINTR, with it a call that may be restarted is.
 */
static int set_usr1_handler(int sa_flags)
{
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = sa_flags };

	handled = 0;
	sigemptyset(&sa.sa_mask);
	return sigaction(SIGUSR1, &sa, NULL);
}

/* A CALL made by a thread while the test plays the server. */
struct caller {
	pthread_t thread;
	int fd;
	const char *req;
	int64_t timeout_ns;
	char reply[128];
	size_t reply_size;
	int ret;
	struct ipcbox_msg_info info;
};

static void *caller_thread(void *arg)
{
	struct caller *c = arg;
	struct ipcbox_send_options o = send_opts_timeout(c->timeout_ns);

	o.tag = 42;
	c->ret = ipcbox_call(c->fd, c->req, strlen(c->req), c->reply,
			     c->reply_size, &o, &c->info);
	return NULL;
}

static int caller_start(struct caller *c, int fd, const char *req,
			int64_t timeout_ns)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->req = req;
	c->timeout_ns = timeout_ns;
	c->reply_size = sizeof(c->reply) - 1;
	c->ret = INT_MIN;
	return pthread_create(&c->thread, NULL, caller_thread, c) ? -1 : 0;
}

/* A server thread: take one request, then act on it as @what says. */
enum srv_action { SRV_REPLY, SRV_CLOSE, SRV_SHUTDOWN };

struct server {
	pthread_t thread;
	int fd;
	enum srv_action what;
	int recv_ret;
	int ret;
	char req[MSG_MAX + 1];
	struct ipcbox_msg_info info;
};

static void *server_thread(void *arg)
{
	struct server *s = arg;
	struct ipcbox_recv_options o = recv_opts_timeout(LONG_NS);
	char reply[MSG_MAX + 8];
	int n;

	s->recv_ret = ipcbox_recv_opts(s->fd, s->req, MSG_MAX, &o, &s->info);
	if (s->recv_ret < 0)
		return NULL;
	switch (s->what) {
	case SRV_REPLY:
		n = snprintf(reply, sizeof(reply), "re:%.*s", s->recv_ret,
			     s->req);
		s->ret = ipcbox_reply(s->fd, s->info.token, reply, n);
		break;
	case SRV_CLOSE:
		s->ret = close(s->fd);
		s->fd = -1;
		break;
	case SRV_SHUTDOWN:
		sleep_ms(50);
		s->ret = ipcbox_shutdown(s->fd);
		break;
	}
	return NULL;
}

static int server_start(struct server *s, int fd, enum srv_action what)
{
	memset(s, 0, sizeof(*s));
	s->fd = fd;
	s->what = what;
	s->recv_ret = INT_MIN;
	s->ret = INT_MIN;
	return pthread_create(&s->thread, NULL, server_thread, s) ? -1 : 0;
}

/*
 * A peer thread that acts once the test's thread is blocked on the
 * mailbox (STAT shows the waiting sender or receiver): it receives,
 * sends, shuts the mailbox down or signals the test's thread; or it
 * signals it with SA_RESTART and, once the handler ran and the call
 * waits again (restarted), sends.
 */
enum peer_act { PEER_RECV, PEER_SEND, PEER_SHUTDOWN, PEER_SIGNAL,
		PEER_RESTART_SEND };

struct peer {
	pthread_t thread;
	bool started;
	int fd;
	enum peer_act act;
	unsigned int senders;
	unsigned int receivers;
	pthread_t target;
	char buf[MSG_MAX];
	size_t len;
	bool saw_waiter;
	bool restarted;		/* PEER_RESTART_SEND: it waited again */
	int ret;
	int64_t t_act;
};

static void *peer_thread(void *arg)
{
	struct peer *p = arg;

	p->saw_waiter = mb_wait_waiters(p->fd, p->senders, p->receivers,
					LONG_NS / NSEC_PER_MSEC);
	p->t_act = now_ns();
	switch (p->act) {
	case PEER_RECV:
		p->ret = mb_recv(p->fd, p->buf, sizeof(p->buf), 0, LONG_NS);
		break;
	case PEER_SEND:
		p->ret = mb_send(p->fd, p->buf, p->len, 0, LONG_NS);
		break;
	case PEER_SHUTDOWN:
		p->ret = mb_shutdown(p->fd);
		break;
	case PEER_SIGNAL:
		p->ret = pthread_kill(p->target, SIGUSR1) ? -1 : 0;
		break;
	case PEER_RESTART_SEND:
		p->ret = pthread_kill(p->target, SIGUSR1) ? -1 : 0;
		if (p->ret)
			break;
		/* the handler runs only once the interrupted call returned */
		while (!handled && now_ns() - p->t_act < LONG_NS)
			sleep_ms(1);
		p->restarted = handled &&
			mb_wait_waiters(p->fd, p->senders, p->receivers,
					LONG_NS / NSEC_PER_MSEC);
		p->ret = mb_send(p->fd, p->buf, p->len, 0, LONG_NS);
		break;
	}
	return NULL;
}

static int peer_start(struct peer *p, int fd, enum peer_act act,
		      unsigned int senders, unsigned int receivers,
		      const char *msg)
{
	memset(p, 0, sizeof(*p));
	p->fd = fd;
	p->act = act;
	p->senders = senders;
	p->receivers = receivers;
	p->target = pthread_self();
	p->ret = INT_MIN;
	if (msg) {
		p->len = strlen(msg);
		memcpy(p->buf, msg, p->len);
	}
	if (act == PEER_SIGNAL && set_usr1_handler(0))
		return -1;
	if (act == PEER_RESTART_SEND && set_usr1_handler(SA_RESTART))
		return -1;
	p->started = !pthread_create(&p->thread, NULL, peer_thread, p);
	return p->started ? 0 : -1;
}

static void peer_join(struct peer *p)
{
	if (p->started)
		pthread_join(p->thread, NULL);
	p->started = false;
}

/*
 * The call that just returned at done was blocked until the peer acted:
 * the peer saw it waiting, and it returned after.
 */
#define EXPECT_WOKEN_BY_PEER(p, done) do {		\
	peer_join(p);					\
	EXPECT_TRUE((p)->saw_waiter);			\
	EXPECT_GE(done, (p)->t_act);			\
} while (0)

/* --- discovery: no fixture, a fresh ABI check in every test ------------- */

TEST(send_options_init_matches_the_initialiser)
{
	struct ipcbox_send_options a, b = IPCBOX_SEND_OPTIONS_INIT;
	unsigned int i;

	memset(&a, 0xa5, sizeof(a));
	ipcbox_send_options_init(&a);
	EXPECT_EQ(IPCBOX_TIMEOUT_INFINITE, a.timeout_ns);
	EXPECT_EQ(0, a.flags);
	EXPECT_EQ(0, a.priority);
	EXPECT_EQ(0, a.tag);
	for (i = 0; i < 2; i++)
		EXPECT_EQ(0, a.__reserved[i]);
	EXPECT_EQ(0, memcmp(&a, &b, sizeof(a)));
}

TEST(recv_options_init_matches_the_initialiser)
{
	struct ipcbox_recv_options a, b = IPCBOX_RECV_OPTIONS_INIT;
	unsigned int i;

	memset(&a, 0xa5, sizeof(a));
	ipcbox_recv_options_init(&a);
	EXPECT_EQ(IPCBOX_TIMEOUT_INFINITE, a.timeout_ns);
	EXPECT_EQ(0, a.flags);
	EXPECT_EQ(0, a.filter_pid);
	EXPECT_EQ(0, a.filter_tag);
	for (i = 0; i < 2; i++)
		EXPECT_EQ(0, a.__reserved[i]);
	EXPECT_EQ(0, memcmp(&a, &b, sizeof(a)));
}

TEST(info_matches_the_info_ioctl)
{
	struct ipcbox_info lib, raw;
	unsigned long long val;
	int ctl, fd;

	ctl = ctl_open();
	if (ctl < 0)
		SKIP(return, "%s: %m (ipcbox.ko not loaded?)", IPCBOX_CONTROL_PATH);
	EXPECT_EQ(-EINVAL, ipcbox_info(NULL));

	memset(&lib, 0xa5, sizeof(lib));
	info_ioctls = 0;
	ASSERT_EQ(0, ipcbox_info(&lib));
	EXPECT_EQ(1, info_ioctls);
	ASSERT_EQ(0, ipcbox_get_info(ctl, &raw));
	EXPECT_EQ(0, memcmp(&lib, &raw, sizeof(lib)));
	EXPECT_EQ(IPCBOX_ABI_VERSION, lib.abi_version);
	EXPECT_EQ(IPCBOX_PRIO_MAX, lib.nr_priorities);
	EXPECT_NE(0, lib.features & IPCBOX_FEAT_NAMED);
	EXPECT_NE(0, lib.features & IPCBOX_FEAT_CALL);
	EXPECT_NE(0, lib.features & IPCBOX_FEAT_BATCH);
	EXPECT_LE(lib.default_msg_size, lib.max_msg_size);
	/*
	 * ABI 2 INFO has no reserved fields left to be zero: every field is
	 * the module's, the limits those of its parameters.
	 */
	ASSERT_EQ(0, param_get("max_mailboxes", &val));
	EXPECT_EQ(val, lib.max_mailboxes);
	ASSERT_EQ(0, param_get("max_per_user", &val));
	EXPECT_EQ(val, lib.max_per_user);
	ASSERT_EQ(0, param_get("max_capacity", &val));
	EXPECT_EQ(val, lib.max_capacity);
	ASSERT_EQ(0, param_get("max_unbounded_bytes", &val));
	EXPECT_EQ(val, lib.max_unbounded_bytes);

	/* live: a new mailbox is counted */
	fd = ipcbox_create_anon(1, 0, IPCBOX_CREATE_CLOEXEC);
	ASSERT_GE(fd, 0) TH_LOG("create_anon: %s", ipcbox_strerror(fd));
	ASSERT_EQ(0, ipcbox_info(&lib));
	EXPECT_EQ(raw.nr_mailboxes + 1, lib.nr_mailboxes);
	close(fd);
	close(ctl);
}

TEST(check_supported_and_unsupported_features)
{
	struct ipcbox_info info;
	unsigned int bit;

	if (!path_exists(IPCBOX_CONTROL_PATH))
		SKIP(return, "ipcbox.ko not loaded");
	ASSERT_EQ(0, ipcbox_info(&info));
	EXPECT_EQ(0, ipcbox_check(0));
	EXPECT_EQ(0, ipcbox_check(info.features));
	for (bit = 0; bit < 64; bit++) {
		uint64_t f = 1ULL << bit;

		if (info.features & f) {
			EXPECT_EQ(0, ipcbox_check(f)) TH_LOG("bit %u", bit);
		} else {
			EXPECT_EQ(-EOPNOTSUPP, ipcbox_check(f)) TH_LOG("bit %u", bit);
			EXPECT_EQ(-EOPNOTSUPP, ipcbox_check(info.features | f))
				TH_LOG("bit %u", bit);
		}
	}
	EXPECT_EQ(-EOPNOTSUPP, ipcbox_check(~0ULL));
}

TEST(strerror_messages)
{
	static const struct {
		int err;
		const char *says;
	} own[] = {
		{ ENODEV, "not loaded" },
		{ EPROTO, "too old" },
		{ EOPNOTSUPP, "not supported" },
		{ ENOBUFS, "byte limit" },
		{ EPIPE, "shut down" },
		{ EMSGSIZE, "too long" },
		{ EDQUOT, "per-user" },
		{ ENOSPC, "limit" },
		{ EEXIST, "exists" },
		{ ENAMETOOLONG, "too long" },
	};
	static const int plain[] = { EBADF, EINVAL, ETIMEDOUT, ECONNRESET,
				     ECANCELED, EAGAIN, ENOENT, EACCES };
	char want[256];
	const char *s;
	unsigned int i;

	EXPECT_STREQ("Success", ipcbox_strerror(0));
	for (i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
		s = ipcbox_strerror(-own[i].err);
		ASSERT_NE(NULL, s);
		EXPECT_NE(NULL, strstr(s, own[i].says))
			TH_LOG("%d: '%s'", own[i].err, s);
		/* negative as returned, or positive */
		EXPECT_STREQ(s, ipcbox_strerror(own[i].err));
	}
	EXPECT_NE(NULL, strstr(ipcbox_strerror(-ENODEV), IPCBOX_CONTROL_PATH));
	for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		snprintf(want, sizeof(want), "%s", strerror(plain[i]));
		EXPECT_STREQ(want, ipcbox_strerror(-plain[i]));
		EXPECT_STREQ(want, ipcbox_strerror(plain[i]));
	}
	/* never NULL, whatever the number */
	EXPECT_NE(NULL, ipcbox_strerror(-99999));
	EXPECT_NE(NULL, ipcbox_strerror(INT_MIN));
	EXPECT_NE(NULL, ipcbox_strerror(INT_MAX));
}

TEST(abi_checked_once_per_process)
{
	int fd, i;

	if (!path_exists(IPCBOX_CONTROL_PATH))
		SKIP(return, "ipcbox.ko not loaded");
	info_ioctls = 0;
	for (i = 0; i < 3; i++) {
		fd = ipcbox_create_anon(1, 0, IPCBOX_CREATE_CLOEXEC);
		ASSERT_GE(fd, 0) TH_LOG("create_anon: %s", ipcbox_strerror(fd));
		close(fd);
	}
	EXPECT_EQ(-ENOENT, ipcbox_unlink("kst-no-such-mailbox"));
	/* the first create asked, the rest used the answer */
	EXPECT_EQ(1, info_ioctls);
	/* info and check always ask */
	EXPECT_EQ(0, ipcbox_check(0));
	EXPECT_EQ(2, info_ioctls);
}

/* Every function that needs the module, with none there. */
static void expect_all_enodev(struct __test_metadata *_metadata)
{
	struct ipcbox_info info;

	EXPECT_EQ(-ENODEV, ipcbox_info(&info));
	EXPECT_EQ(-ENODEV, ipcbox_check(0));
	EXPECT_EQ(-ENODEV, ipcbox_check(IPCBOX_FEAT_NAMED));
	EXPECT_EQ(-ENODEV, create_fails("kst-nomod", 1, 0, 0600, 0));
	EXPECT_EQ(-ENODEV, ipcbox_create_anon(1, 0, 0));
	EXPECT_EQ(-ENODEV, ipcbox_open("kst-nomod", O_RDWR));
	EXPECT_EQ(-ENODEV, ipcbox_unlink("kst-nomod"));
	/* a path is opened as given: it is just missing */
	EXPECT_EQ(-ENOENT, ipcbox_open(IPCBOX_DEV_DIR "/kst-nomod", O_RDWR));
}

TEST(module_missing_is_enodev)
{
	const char *msg = ipcbox_strerror(-ENODEV);
	pid_t pid;
	int fd;

	if (!path_exists(IPCBOX_CONTROL_PATH))
		SKIP(return, "ipcbox.ko not loaded");
	if (!private_mounts())
		SKIP(return, "no private mount namespace: %m");
	/* /dev/ipcbox as it is without the module: no control node */
	ASSERT_EQ(0, mount("tmpfs", IPCBOX_DEV_DIR, "tmpfs", 0, "mode=0755"));
	ASSERT_FALSE(path_exists(IPCBOX_CONTROL_PATH));
	expect_all_enodev(_metadata);
	EXPECT_NE(NULL, strstr(msg, "module not loaded")) TH_LOG("'%s'", msg);

	/* ENODEV is not remembered: loading the module later works */
	ASSERT_EQ(0, umount(IPCBOX_DEV_DIR));
	EXPECT_EQ(0, ipcbox_check(0));
	fd = ipcbox_create_anon(1, 0, IPCBOX_CREATE_CLOEXEC);
	EXPECT_GE(fd, 0) TH_LOG("create_anon: %s", ipcbox_strerror(fd));
	if (fd >= 0)
		close(fd);

	/* and a process that already checked the ABI sees ENODEV too */
	ASSERT_EQ(0, mount("tmpfs", IPCBOX_DEV_DIR, "tmpfs", 0, "mode=0755"));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		expect_all_enodev(_metadata);
		_exit(0);
	}
	EXPECT_EQ(0, wait_child(pid));
	umount(IPCBOX_DEV_DIR);
}

TEST(control_not_ipcbox_is_eproto)
{
	struct ipcbox_info info;
	const char *msg;
	int fd;

	if (!path_exists(IPCBOX_CONTROL_PATH))
		SKIP(return, "ipcbox.ko not loaded");
	if (!private_mounts())
		SKIP(return, "no private mount namespace: %m");
	/* a control node without the INFO ioctl (ENOTTY) */
	ASSERT_EQ(0, mount("/dev/null", IPCBOX_CONTROL_PATH, NULL, MS_BIND, NULL));
	EXPECT_EQ(-EPROTO, ipcbox_info(&info));
	EXPECT_EQ(-EPROTO, ipcbox_check(0));
	EXPECT_EQ(-EPROTO, create_fails("kst-noipcbox", 1, 0, 0600, 0));
	EXPECT_EQ(-EPROTO, ipcbox_create_anon(1, 0, 0));
	EXPECT_EQ(-EPROTO, ipcbox_unlink("kst-noipcbox"));
	/* opening a mailbox by name does not involve the control node */
	EXPECT_EQ(-ENOENT, ipcbox_open("kst-noipcbox", O_RDWR));
	msg = ipcbox_strerror(-EPROTO);
	EXPECT_NE(NULL, strstr(msg, "too old")) TH_LOG("'%s'", msg);

	ASSERT_EQ(0, umount(IPCBOX_CONTROL_PATH));
	EXPECT_EQ(0, ipcbox_check(0));
	fd = ipcbox_create_anon(1, 0, IPCBOX_CREATE_CLOEXEC);
	EXPECT_GE(fd, 0) TH_LOG("create_anon: %s", ipcbox_strerror(fd));
	if (fd >= 0)
		close(fd);
}

TEST(module_too_old_is_eproto_and_remembered)
{
	struct ipcbox_info info;
	int fd;

	if (!path_exists(IPCBOX_CONTROL_PATH))
		SKIP(return, "ipcbox.ko not loaded");
	fake_abi = IPCBOX_ABI_VERSION - 1;
	memset(&info, 0, sizeof(info));
	EXPECT_EQ(-EPROTO, ipcbox_info(&info));
	/* filled in all the same */
	EXPECT_EQ(IPCBOX_ABI_VERSION - 1, info.abi_version);
	EXPECT_NE(0, info.features);
	EXPECT_NE(0, info.max_msg_size);
	EXPECT_EQ(-EPROTO, ipcbox_check(0));

	/* an old module does not change under the process: no more asking */
	fake_abi = -1;
	info_ioctls = 0;
	EXPECT_EQ(-EPROTO, create_fails("kst-old", 1, 0, 0600, 0));
	EXPECT_EQ(-EPROTO, ipcbox_create_anon(1, 0, 0));
	EXPECT_EQ(-EPROTO, ipcbox_unlink("kst-old"));
	EXPECT_EQ(0, info_ioctls);
	EXPECT_FALSE(path_exists(IPCBOX_DEV_DIR "/kst-old"));

	/* a newer ABI than the library's is fine */
	fake_abi = IPCBOX_ABI_VERSION + 1;
	EXPECT_EQ(0, ipcbox_check(0));
	fd = ipcbox_create_anon(1, 0, IPCBOX_CREATE_CLOEXEC);
	EXPECT_GE(fd, 0) TH_LOG("create_anon: %s", ipcbox_strerror(fd));
	if (fd >= 0)
		close(fd);
}

/* With the control node 0600 root's: a user cannot open it at all. */
static int user_no_control(void *arg)
{
	struct ipcbox_info info;

	if (ipcbox_info(&info) != -EACCES || ipcbox_check(0) != -EACCES ||
	    ipcbox_create_anon(1, 0, 0) != -EACCES ||
	    create_fails("kst-noacc", 1, 0, 0600, 0) != -EACCES ||
	    ipcbox_unlink("kst-noacc") != -EACCES)
		return 1;
	return 0;
}

/* With it 0444: read-only is enough for everything. */
static int user_ro_control(void *arg)
{
	struct ipcbox_info info;
	int fd;

	if (ipcbox_info(&info) || ipcbox_check(0))
		return 1;
	fd = ipcbox_create_anon(1, 0, 0);
	if (fd < 0)
		return 2;
	if (ipcbox_send(fd, "x", 1) || ipcbox_recv(fd, &info, sizeof(info)) != 1)
		return 3;
	close(fd);
	return 0;
}

TEST(control_node_permissions)
{
	struct stat st;

	if (stat(IPCBOX_CONTROL_PATH, &st))
		SKIP(return, "ipcbox.ko not loaded");
	if (!private_mounts())
		SKIP(return, "no private mount namespace: %m");
	/* the same device under other permission bits */
	ASSERT_EQ(0, mount("tmpfs", IPCBOX_DEV_DIR, "tmpfs", 0, "mode=0755"));
	ASSERT_EQ(0, mknod(IPCBOX_CONTROL_PATH, S_IFCHR | 0600, st.st_rdev));
	ASSERT_EQ(0, chmod(IPCBOX_CONTROL_PATH, 0600));
	EXPECT_EQ(0, run_as_user(user_no_control, NULL));
	ASSERT_EQ(0, chmod(IPCBOX_CONTROL_PATH, 0444));
	EXPECT_EQ(0, run_as_user(user_ro_control, NULL));
	umount(IPCBOX_DEV_DIR);
}

/* --- one named mailbox, capacity 2, messages up to MSG_MAX bytes -------- */

#define NR_EXTRA	4

FIXTURE(lib) {
	int fd;
	char name[IPCBOX_NAME_MAX];
	char path[128];
	/* more fds and names, closed and unlinked at teardown */
	int fds[NR_EXTRA];
	char names[NR_EXTRA][IPCBOX_NAME_MAX];
	struct peer peer;
};

FIXTURE_SETUP(lib)
{
	struct sigaction sa = { .sa_handler = SIG_IGN };
	int i;

	self->fd = -1;
	self->peer.started = false;
	for (i = 0; i < NR_EXTRA; i++) {
		self->fds[i] = -1;
		self->names[i][0] = '\0';
	}
	if (!path_exists(IPCBOX_CONTROL_PATH))
		SKIP(return, "%s missing (ipcbox.ko not loaded?)", IPCBOX_CONTROL_PATH);
	ASSERT_EQ(0, sigaction(SIGPIPE, &sa, NULL));
	umask(0);
	test_name(self->name, sizeof(self->name), "lib");
	dev_path(self->path, sizeof(self->path), self->name);
	self->fd = ipcbox_create(self->name, 2, MSG_MAX, 0666,
				 IPCBOX_CREATE_CLOEXEC);
	ASSERT_GE(self->fd, 0) TH_LOG("create: %s", ipcbox_strerror(self->fd));
}

FIXTURE_TEARDOWN(lib)
{
	int i;

	if (self->peer.started) {
		/* a peer still waiting for the test, or blocked: let it go */
		if (self->fd >= 0)
			mb_shutdown(self->fd);
		peer_join(&self->peer);
	}
	for (i = 0; i < NR_EXTRA; i++) {
		close_fd(&self->fds[i]);
		if (self->names[i][0])
			ipcbox_unlink(self->names[i]);
	}
	close_fd(&self->fd);
	if (self->name[0])
		ipcbox_unlink(self->name);
}

static int fill(int fd, int n)
{
	int i, ret;

	for (i = 0; i < n; i++) {
		ret = ipcbox_send_timeout_ms(fd, "fill", 4, 0);
		if (ret)
			return ret;
	}
	return 0;
}

static int open_devnull(void)
{
	return open("/dev/null", O_RDWR | O_CLOEXEC);
}

/* --- life cycle ------------------------------------------------------------ */

TEST_F(lib, create_named)
{
	struct ipcbox_info info;
	struct ipcbox_stat st;
	struct stat sb;
	char path[128];
	int fd;

	/* the fixture's: CLOEXEC, blocking, read-write, node 0666 */
	EXPECT_EQ(FD_CLOEXEC, fcntl(self->fd, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(O_RDWR, fcntl(self->fd, F_GETFL) & (O_ACCMODE | O_NONBLOCK));
	ASSERT_EQ(0, stat(self->path, &sb));
	EXPECT_TRUE(S_ISCHR(sb.st_mode));
	EXPECT_EQ(0666, sb.st_mode & 07777);
	EXPECT_EQ(getuid(), sb.st_uid);
	ASSERT_EQ(0, ipcbox_stat(self->fd, &st));
	EXPECT_EQ(2, st.capacity);
	EXPECT_EQ(MSG_MAX, st.msg_size_max);
	EXPECT_EQ(IPCBOX_STAT_NAMED, st.flags);
	EXPECT_STREQ(self->name, st.name);

	/* NONBLOCK, the umask, the default size and capacity 0 */
	ASSERT_EQ(0, ipcbox_info(&info));
	umask(027);
	test_name(self->names[0], IPCBOX_NAME_MAX, "lib-nb");
	self->fds[0] = ipcbox_create(self->names[0], 0, 0, 0666,
				     IPCBOX_CREATE_NONBLOCK);
	fd = self->fds[0];
	umask(0);
	ASSERT_GE(fd, 0) TH_LOG("create: %s", ipcbox_strerror(fd));
	EXPECT_EQ(0, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(O_RDWR | O_NONBLOCK,
		  fcntl(fd, F_GETFL) & (O_ACCMODE | O_NONBLOCK));
	dev_path(path, sizeof(path), self->names[0]);
	ASSERT_EQ(0, stat(path, &sb));
	EXPECT_EQ(0640, sb.st_mode & 07777);
	ASSERT_EQ(0, ipcbox_stat(fd, &st));
	EXPECT_EQ(0, st.capacity);
	EXPECT_EQ(info.default_msg_size, st.msg_size_max);
	EXPECT_EQ(0640, st.mode);

	/* the longest name, and an unbounded queue */
	long_name(self->names[1], IPCBOX_NAME_MAX - 1);
	self->fds[1] = ipcbox_create(self->names[1],
				     IPCBOX_CAPACITY_UNBOUNDED, 16, 0600, 0);
	fd = self->fds[1];
	ASSERT_GE(fd, 0) TH_LOG("create: %s", ipcbox_strerror(fd));
	ASSERT_EQ(0, ipcbox_stat(fd, &st));
	EXPECT_EQ(IPCBOX_CAPACITY_UNBOUNDED, st.capacity);
	EXPECT_STREQ(self->names[1], st.name);
}

TEST_F(lib, create_errors)
{
	struct ipcbox_info before, after;
	char name[IPCBOX_NAME_MAX + 1];

	ASSERT_EQ(0, ipcbox_info(&before));
	EXPECT_EQ(-EEXIST, ipcbox_create(self->name, 2, MSG_MAX, 0600, 0));
	EXPECT_EQ(-EINVAL, ipcbox_create("kst/slash", 1, 0, 0600, 0));
	EXPECT_EQ(-EINVAL, ipcbox_create("kst space", 1, 0, 0600, 0));
	EXPECT_EQ(-EINVAL, ipcbox_create(".kst-dot", 1, 0, 0600, 0));
	EXPECT_EQ(-EINVAL, ipcbox_create("control", 1, 0, 0600, 0));
	long_name(name, IPCBOX_NAME_MAX);
	EXPECT_EQ(-ENAMETOOLONG, ipcbox_create(name, 1, 0, 0600, 0));
	EXPECT_EQ(-EINVAL, create_fails("kst-cap", before.max_capacity + 1,
					0, 0600, 0));
	EXPECT_EQ(-EINVAL, create_fails("kst-size", 1,
					before.max_msg_size + 1, 0600, 0));
	EXPECT_EQ(-EINVAL, create_fails("kst-mode", 1, 0, 0777, 0));
	EXPECT_EQ(-EINVAL, create_fails("kst-mode", 1, 0, 01666, 0));
	EXPECT_EQ(-EINVAL, create_fails("kst-flags", 1, 0, 0600, 1U << 5));
	EXPECT_EQ(-EINVAL, ipcbox_create_anon(before.max_capacity + 1, 0, 0));
	EXPECT_EQ(-EINVAL, ipcbox_create_anon(1, before.max_msg_size + 1, 0));
	EXPECT_EQ(-EINVAL, ipcbox_create_anon(1, 0, 1U << 5));
	EXPECT_FALSE(path_exists(IPCBOX_DEV_DIR "/kst-cap"));
	EXPECT_FALSE(path_exists(IPCBOX_DEV_DIR "/kst-mode"));
	ASSERT_EQ(0, ipcbox_info(&after));
	EXPECT_EQ(before.nr_mailboxes, after.nr_mailboxes);
}

TEST_F(lib, create_and_open_without_free_fd_is_emfile)
{
	pid_t pid = fork();

	ASSERT_GE(pid, 0);
	if (pid == 0) {
		int n = fill_fds(64);

		EXPECT_GT(n, 0);
		/* no fd for the control node */
		EXPECT_EQ(-EMFILE, ipcbox_create_anon(1, 0, 0));
		EXPECT_EQ(-EMFILE, create_fails("kst-emfile", 1, 0, 0600, 0));
		EXPECT_EQ(-EMFILE, ipcbox_open(self->name, O_RDWR));
		/* one for the control node, none for the mailbox */
		close(self->fd);
		EXPECT_EQ(-EMFILE, ipcbox_create_anon(1, 0, 0));
		EXPECT_EQ(-EMFILE, create_fails("kst-emfile", 1, 0, 0600, 0));
		EXPECT_FALSE(path_exists(IPCBOX_DEV_DIR "/kst-emfile"));
		/* and the mailbox can be opened again */
		EXPECT_GE(ipcbox_open(self->name, O_RDWR), 0);
		_exit(0);
	}
	EXPECT_EQ(0, wait_child(pid));
}

TEST_F(lib, create_anon)
{
	struct ipcbox_stat st;
	char buf[MSG_MAX];
	pid_t pid;
	int fd;

	self->fds[0] = ipcbox_create_anon(3, 32, IPCBOX_CREATE_CLOEXEC |
					  IPCBOX_CREATE_NONBLOCK);
	fd = self->fds[0];
	ASSERT_GE(fd, 0) TH_LOG("create_anon: %s", ipcbox_strerror(fd));
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(O_NONBLOCK, fcntl(fd, F_GETFL) & O_NONBLOCK);
	ASSERT_EQ(0, ipcbox_stat(fd, &st));
	EXPECT_EQ(3, st.capacity);
	EXPECT_EQ(32, st.msg_size_max);
	EXPECT_EQ(0, st.flags & IPCBOX_STAT_NAMED);
	EXPECT_STREQ("", st.name);
	/* an empty name is anonymous too; the mode is ignored */
	self->fds[1] = ipcbox_create("", 1, 0, 0777, 0);
	fd = self->fds[1];
	ASSERT_GE(fd, 0) TH_LOG("create: %s", ipcbox_strerror(fd));
	self->fds[2] = ipcbox_create(NULL, 1, 0, 0, 0);
	fd = self->fds[2];
	ASSERT_GE(fd, 0) TH_LOG("create: %s", ipcbox_strerror(fd));
	ASSERT_EQ(0, ipcbox_stat(fd, &st));
	EXPECT_STREQ("", st.name);

	/* shared across fork(2) */
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0)
		_exit(ipcbox_send(self->fds[0], "from child", 10) ? 1 : 0);
	EXPECT_EQ(0, wait_child(pid));
	EXPECT_EQ(10, ipcbox_recv(self->fds[0], buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "from child", 10));
}

TEST_F(lib, open_by_name_and_path)
{
	struct ipcbox_stat st;
	char buf[MSG_MAX];
	int rd, wr;

	self->fds[0] = ipcbox_open(self->name, O_RDONLY | O_CLOEXEC);
	rd = self->fds[0];
	ASSERT_GE(rd, 0) TH_LOG("open: %s", ipcbox_strerror(rd));
	self->fds[1] = ipcbox_open(self->path, O_WRONLY | O_NONBLOCK);
	wr = self->fds[1];
	ASSERT_GE(wr, 0) TH_LOG("open: %s", ipcbox_strerror(wr));
	EXPECT_EQ(FD_CLOEXEC, fcntl(rd, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(O_WRONLY | O_NONBLOCK,
		  fcntl(wr, F_GETFL) & (O_ACCMODE | O_NONBLOCK));
	/* the same mailbox; each end as opened; both may STAT */
	EXPECT_EQ(0, ipcbox_send(wr, "hi", 2));
	EXPECT_EQ(2, ipcbox_recv(rd, buf, sizeof(buf)));
	EXPECT_EQ(-EBADF, ipcbox_send(rd, "hi", 2));
	EXPECT_EQ(-EBADF, ipcbox_recv(wr, buf, sizeof(buf)));
	EXPECT_EQ(0, ipcbox_stat(rd, &st));
	EXPECT_EQ(0, ipcbox_stat(wr, &st));
	EXPECT_EQ(1, st.sent);
	/* O_NONBLOCK from oflags: a full mailbox does not wait */
	ASSERT_EQ(0, fill(self->fd, 2));
	EXPECT_EQ(-EAGAIN, ipcbox_send(wr, "x", 1));
}

static int user_opens(void *arg)
{
	int ret = ipcbox_open(arg, O_RDWR);

	if (ret >= 0) {
		close(ret);
		return 0;
	}
	return -ret;
}

TEST_F(lib, open_errors)
{
	char name[IPCBOX_NAME_MAX + 1];
	int fd;

	EXPECT_EQ(-ENOENT, ipcbox_open("kst-no-such-mailbox", O_RDWR));
	EXPECT_EQ(-ENOENT, ipcbox_open(IPCBOX_DEV_DIR "/kst-no-such", O_RDWR));
	EXPECT_EQ(-EINVAL, ipcbox_open(NULL, O_RDWR));
	EXPECT_EQ(-EINVAL, ipcbox_open("", O_RDWR));
	long_name(name, IPCBOX_NAME_MAX);
	EXPECT_EQ(-ENAMETOOLONG, ipcbox_open(name, O_RDWR));
	/* the node's permission bits decide */
	EXPECT_EQ(0, run_as_user(user_opens, self->name));
	test_name(self->names[0], IPCBOX_NAME_MAX, "lib-priv");
	self->fds[0] = ipcbox_create(self->names[0], 1, 0, 0600, 0);
	fd = self->fds[0];
	ASSERT_GE(fd, 0) TH_LOG("create: %s", ipcbox_strerror(fd));
	EXPECT_EQ(EACCES, run_as_user(user_opens, self->names[0]));
}

static int user_unlinks(void *arg)
{
	return -ipcbox_unlink(arg);
}

TEST_F(lib, unlink)
{
	struct ipcbox_stat st;
	char buf[MSG_MAX];
	int fd;

	/* another user may not */
	EXPECT_EQ(EPERM, run_as_user(user_unlinks, self->name));
	EXPECT_TRUE(path_exists(self->path));

	ASSERT_EQ(0, ipcbox_unlink(self->name));
	EXPECT_FALSE(path_exists(self->path));
	EXPECT_EQ(-ENOENT, ipcbox_open(self->name, O_RDWR));
	EXPECT_EQ(-ENOENT, ipcbox_unlink(self->name));
	/* the open mailbox lives on */
	ASSERT_EQ(0, ipcbox_stat(self->fd, &st));
	EXPECT_EQ(IPCBOX_STAT_NAMED | IPCBOX_STAT_UNLINKED, st.flags);
	EXPECT_EQ(0, ipcbox_send(self->fd, "still", 5));
	EXPECT_EQ(5, ipcbox_recv(self->fd, buf, sizeof(buf)));
	/* and a new one may take the name */
	fd = ipcbox_create(self->name, 1, 0, 0600, 0);
	ASSERT_GE(fd, 0) TH_LOG("create: %s", ipcbox_strerror(fd));
	EXPECT_EQ(0, ipcbox_unlink(self->name));
	close(fd);
	self->name[0] = '\0';
}

TEST_F(lib, unlink_errors)
{
	char name[IPCBOX_NAME_MAX + 1];

	EXPECT_EQ(-ENOENT, ipcbox_unlink("kst-no-such-mailbox"));
	EXPECT_EQ(-EINVAL, ipcbox_unlink(NULL));
	EXPECT_EQ(-EINVAL, ipcbox_unlink(""));
	EXPECT_EQ(-EINVAL, ipcbox_unlink(".kst-dot"));
	EXPECT_EQ(-EINVAL, ipcbox_unlink("control"));
	EXPECT_EQ(-EINVAL, ipcbox_unlink("kst/slash"));
	long_name(name, IPCBOX_NAME_MAX);
	EXPECT_EQ(-ENAMETOOLONG, ipcbox_unlink(name));
	EXPECT_TRUE(path_exists(IPCBOX_CONTROL_PATH));
}

TEST_F(lib, stat)
{
	struct ipcbox_stat st;
	char buf[MSG_MAX];
	int fd;

	ASSERT_EQ(0, ipcbox_send(self->fd, "12345", 5));
	ASSERT_EQ(5, ipcbox_recv(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(-ETIMEDOUT, ipcbox_recv_timeout_ms(self->fd, buf, sizeof(buf), 1));
	ASSERT_EQ(0, ipcbox_send(self->fd, "123", 3));
	ASSERT_EQ(0, ipcbox_send(self->fd, "1234", 4));
	ASSERT_EQ(3, ipcbox_recv(self->fd, buf, sizeof(buf)));
	memset(&st, 0xa5, sizeof(st));
	ASSERT_EQ(0, ipcbox_stat(self->fd, &st));
	EXPECT_EQ(2, st.capacity);
	EXPECT_EQ(MSG_MAX, st.msg_size_max);
	EXPECT_EQ(1, st.depth);
	EXPECT_EQ(4, st.bytes);
	EXPECT_EQ(0666, st.mode);
	EXPECT_EQ(3, st.sent);
	EXPECT_EQ(2, st.received);
	EXPECT_EQ(1, st.timeouts);
	EXPECT_EQ(0, st.waiting_senders);
	EXPECT_EQ(0, st.waiting_receivers);
	EXPECT_EQ(0, st.cached);
	/* each queued message counts its payload and 64 bytes */
	EXPECT_EQ(4 + 64, st.charge);
	EXPECT_EQ(0, st.pending);
	EXPECT_EQ(0, st.calls);
	EXPECT_EQ(0, st.abandoned);
	EXPECT_EQ(0, st.__reserved0);
	EXPECT_EQ(getuid(), st.uid);
	EXPECT_EQ(getgid(), st.gid);
	EXPECT_EQ(IPCBOX_STAT_NAMED, st.flags);
	EXPECT_STREQ(self->name, st.name);

	EXPECT_EQ(-EINVAL, ipcbox_stat(self->fd, NULL));
	EXPECT_EQ(-EBADF, ipcbox_stat(-1, &st));
	fd = dup(self->fd);
	ASSERT_GE(fd, 0);
	close(fd);
	EXPECT_EQ(-EBADF, ipcbox_stat(fd, &st));
	fd = open_devnull();
	ASSERT_GE(fd, 0);
	EXPECT_EQ(-ENOTTY, ipcbox_stat(fd, &st));
	close(fd);
	fd = ctl_open();
	ASSERT_GE(fd, 0);
	EXPECT_EQ(-ENOTTY, ipcbox_stat(fd, &st));
	close(fd);
}

static int user_shuts_down(void *arg)
{
	int fd = ipcbox_open(arg, O_RDWR), ret;

	if (fd < 0)
		return 100;
	ret = ipcbox_shutdown(fd);
	close(fd);
	return -ret;
}

TEST_F(lib, shutdown)
{
	struct ipcbox_stat st;
	char buf[MSG_MAX];
	int fd;

	/* the owner only */
	EXPECT_EQ(EPERM, run_as_user(user_shuts_down, self->name));
	ASSERT_EQ(0, ipcbox_send(self->fd, "last", 4));

	ASSERT_EQ(0, ipcbox_shutdown(self->fd));
	ASSERT_EQ(0, ipcbox_stat(self->fd, &st));
	EXPECT_NE(0, st.flags & IPCBOX_STAT_SHUTDOWN);
	EXPECT_EQ(-EPIPE, ipcbox_send(self->fd, "more", 4));
	/* twice is harmless */
	EXPECT_EQ(0, ipcbox_shutdown(self->fd));
	/* drain, then end of file */
	EXPECT_EQ(4, ipcbox_recv(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(-EPIPE, ipcbox_recv(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(-EPIPE, ipcbox_recv_timeout_ms(self->fd, buf, sizeof(buf), 0));

	EXPECT_EQ(-EBADF, ipcbox_shutdown(-1));
	fd = open_devnull();
	ASSERT_GE(fd, 0);
	EXPECT_EQ(-ENOTTY, ipcbox_shutdown(fd));
	close(fd);
}

TEST_F(lib, shutdown_wakes_a_blocked_sender)
{
	int64_t done;

	ASSERT_EQ(0, fill(self->fd, 2));
	ASSERT_EQ(0, peer_start(&self->peer, self->fd, PEER_SHUTDOWN, 1, 0, NULL));
	EXPECT_EQ(-EPIPE, ipcbox_send(self->fd, "blocked", 7));
	done = now_ns();
	EXPECT_WOKEN_BY_PEER(&self->peer, done);
	EXPECT_EQ(0, self->peer.ret);
}

/* --- sending ---------------------------------------------------------------- */

TEST_F(lib, send)
{
	struct ipcbox_msg_info info;
	char buf[MSG_MAX + 1];
	int64_t done;

	ASSERT_EQ(0, ipcbox_send(self->fd, "hello", 5));
	ASSERT_EQ(5, ipcbox_recv_opts(self->fd, buf, sizeof(buf), NULL, &info));
	EXPECT_EQ(0, memcmp(buf, "hello", 5));
	EXPECT_EQ(0, info.priority);
	EXPECT_EQ(0, info.tag);
	EXPECT_EQ(getpid(), info.sender_tgid);
	/* empty messages, a NULL buffer with them, and the largest */
	EXPECT_EQ(0, ipcbox_send(self->fd, NULL, 0));
	EXPECT_EQ(0, ipcbox_recv(self->fd, buf, sizeof(buf)));
	memset(buf, 'm', sizeof(buf));
	EXPECT_EQ(0, ipcbox_send(self->fd, buf, MSG_MAX));
	EXPECT_EQ(MSG_MAX, ipcbox_recv(self->fd, buf, sizeof(buf)));

	/* a full mailbox: the send waits for room */
	ASSERT_EQ(0, fill(self->fd, 2));
	ASSERT_EQ(0, peer_start(&self->peer, self->fd, PEER_RECV, 1, 0, NULL));
	EXPECT_EQ(0, ipcbox_send(self->fd, "waited", 6));
	done = now_ns();
	EXPECT_WOKEN_BY_PEER(&self->peer, done);
	EXPECT_EQ(4, self->peer.ret);
	EXPECT_EQ(2, mb_depth(self->fd));
}

TEST_F(lib, send_errors)
{
	char buf[MSG_MAX + 1] = { 0 };
	int rd, fd;

	EXPECT_EQ(-EMSGSIZE, ipcbox_send(self->fd, buf, MSG_MAX + 1));
	EXPECT_EQ(-EMSGSIZE, ipcbox_send(self->fd, buf, (size_t)UINT32_MAX + 1));
	EXPECT_EQ(-EFAULT, ipcbox_send(self->fd, NULL, 1));
	EXPECT_EQ(-EFAULT, ipcbox_send(self->fd, (void *)8, 4));
	EXPECT_EQ(-EBADF, ipcbox_send(-1, buf, 1));
	self->fds[0] = ipcbox_open(self->name, O_RDONLY);
	rd = self->fds[0];
	ASSERT_GE(rd, 0);
	EXPECT_EQ(-EBADF, ipcbox_send(rd, buf, 1));
	fd = open_devnull();
	ASSERT_GE(fd, 0);
	EXPECT_EQ(-ENOTTY, ipcbox_send(fd, buf, 1));
	close(fd);
	/* none of them was delivered */
	EXPECT_EQ(0, mb_depth(self->fd));
}

TEST_F(lib, send_interrupted_is_eintr)
{
	int64_t done;

	ASSERT_EQ(0, fill(self->fd, 2));
	ASSERT_EQ(0, peer_start(&self->peer, self->fd, PEER_SIGNAL, 1, 0, NULL));
	EXPECT_EQ(-EINTR, ipcbox_send(self->fd, "never", 5));
	done = now_ns();
	EXPECT_WOKEN_BY_PEER(&self->peer, done);
	EXPECT_EQ(1, handled);
	EXPECT_EQ(2, mb_depth(self->fd));
}

TEST_F(lib, send_timeout_ms)
{
	char buf[MSG_MAX + 1] = { 0 };
	int64_t t0, done;
	int nb;

	EXPECT_EQ(0, ipcbox_send_timeout_ms(self->fd, "a", 1, 0));
	EXPECT_EQ(0, ipcbox_send_timeout_ms(self->fd, "b", 1, SHORT_MS));
	/* full: 0 tries once, > 0 waits that long */
	t0 = now_ns();
	EXPECT_EQ(-EAGAIN, ipcbox_send_timeout_ms(self->fd, "c", 1, 0));
	EXPECT_LT(ms_since(t0), 1000);
	t0 = now_ns();
	EXPECT_EQ(-ETIMEDOUT, ipcbox_send_timeout_ms(self->fd, "c", 1, SHORT_MS));
	EXPECT_GE(ms_since(t0), SHORT_MS - 1);
	/* any negative value waits forever, as in poll(2) */
	ASSERT_EQ(0, peer_start(&self->peer, self->fd, PEER_RECV, 1, 0, NULL));
	EXPECT_EQ(0, ipcbox_send_timeout_ms(self->fd, "d", 1, -7));
	done = now_ns();
	EXPECT_WOKEN_BY_PEER(&self->peer, done);
	EXPECT_EQ(1, self->peer.ret);
	/* O_NONBLOCK beats any timeout */
	self->fds[0] = ipcbox_open(self->name, O_WRONLY | O_NONBLOCK);
	nb = self->fds[0];
	ASSERT_GE(nb, 0);
	EXPECT_EQ(-EAGAIN, ipcbox_send_timeout_ms(nb, "e", 1, -1));
	EXPECT_EQ(-EAGAIN, ipcbox_send_timeout_ms(nb, "e", 1, SHORT_MS));
	EXPECT_EQ(-EMSGSIZE, ipcbox_send_timeout_ms(self->fd, buf, MSG_MAX + 1, 0));
	EXPECT_EQ(-EBADF, ipcbox_send_timeout_ms(-1, "e", 1, 0));
}

TEST_F(lib, send_timeout_ns)
{
	int64_t t0;

	EXPECT_EQ(-EINVAL, ipcbox_send_timeout_ns(self->fd, "a", 1, -2));
	EXPECT_EQ(-EINVAL, ipcbox_send_timeout_ns(self->fd, "a", 1, INT64_MIN));
	EXPECT_EQ(0, mb_depth(self->fd));
	EXPECT_EQ(0, ipcbox_send_timeout_ns(self->fd, "a", 1, 0));
	EXPECT_EQ(0, ipcbox_send_timeout_ns(self->fd, "b", 1, SHORT_NS));
	EXPECT_EQ(-EAGAIN, ipcbox_send_timeout_ns(self->fd, "c", 1, 0));
	t0 = now_ns();
	EXPECT_EQ(-ETIMEDOUT, ipcbox_send_timeout_ns(self->fd, "c", 1, SHORT_NS));
	EXPECT_GE(now_ns() - t0, SHORT_NS);
	ASSERT_EQ(0, peer_start(&self->peer, self->fd, PEER_RECV, 1, 0, NULL));
	EXPECT_EQ(0, ipcbox_send_timeout_ns(self->fd, "d", 1,
					    IPCBOX_TIMEOUT_INFINITE));
	t0 = now_ns();
	EXPECT_WOKEN_BY_PEER(&self->peer, t0);
	EXPECT_EQ(2, mb_depth(self->fd));
	ASSERT_EQ(0, ipcbox_shutdown(self->fd));
	EXPECT_EQ(-EPIPE, ipcbox_send_timeout_ns(self->fd, "e", 1, SHORT_NS));
}

TEST_F(lib, send_opts)
{
	struct ipcbox_send_options o = IPCBOX_SEND_OPTIONS_INIT;
	struct ipcbox_msg_info info;
	struct ipcbox_stat st;
	uint64_t seq1 = 0, seq2 = 0;
	char buf[MSG_MAX];

	/* NULL options: as ipcbox_send(); NULL seq is fine */
	ASSERT_EQ(0, ipcbox_send_opts(self->fd, "plain", 5, NULL, &seq1));
	o.priority = IPCBOX_PRIO_MAX - 1;
	o.tag = 0xfeedULL << 32;
	ASSERT_EQ(0, ipcbox_send_opts(self->fd, "urgent", 6, &o, &seq2));
	EXPECT_GT(seq2, seq1);
	/* the higher priority comes first, with its tag and seq */
	ASSERT_EQ(6, ipcbox_recv_opts(self->fd, buf, sizeof(buf), NULL, &info));
	EXPECT_EQ(seq2, info.seq);
	EXPECT_EQ(IPCBOX_PRIO_MAX - 1, info.priority);
	EXPECT_EQ(0xfeedULL << 32, info.tag);
	ASSERT_EQ(5, ipcbox_recv_opts(self->fd, buf, sizeof(buf), NULL, &info));
	EXPECT_EQ(seq1, info.seq);

	/* NONBLOCK and CACHE on a full mailbox */
	ASSERT_EQ(0, fill(self->fd, 2));
	ipcbox_send_options_init(&o);
	o.flags = IPCBOX_NONBLOCK;
	EXPECT_EQ(-EAGAIN, ipcbox_send_opts(self->fd, "x", 1, &o, NULL));
	o.flags = IPCBOX_SEND_CACHE;
	o.timeout_ns = LONG_NS;		/* not to hang if CACHE were lost */
	EXPECT_EQ(0, ipcbox_send_opts(self->fd, "cached", 6, &o, NULL));
	EXPECT_EQ(-EAGAIN, ipcbox_send_opts(self->fd, "cached2", 7, &o, NULL));
	ASSERT_EQ(0, ipcbox_stat(self->fd, &st));
	EXPECT_EQ(1, st.cached);
	EXPECT_EQ(2, st.depth);
	/* ABSTIME: a deadline already past */
	ipcbox_send_options_init(&o);
	o.flags = IPCBOX_ABSTIME;
	o.timeout_ns = now_ns() - NSEC_PER_MSEC;
	EXPECT_EQ(-ETIMEDOUT, ipcbox_send_opts(self->fd, "x", 1, &o, NULL));
	o.timeout_ns = now_ns() + SHORT_NS;
	EXPECT_EQ(-ETIMEDOUT, ipcbox_send_opts(self->fd, "x", 1, &o, NULL));
	EXPECT_GE(now_ns(), o.timeout_ns);
}

TEST_F(lib, send_opts_sync_waits_for_the_receiver)
{
	struct ipcbox_send_options o = IPCBOX_SEND_OPTIONS_INIT;
	int64_t done;

	o.flags = IPCBOX_SEND_SYNC;
	ASSERT_EQ(0, peer_start(&self->peer, self->fd, PEER_RECV, 1, 0, NULL));
	EXPECT_EQ(0, ipcbox_send_opts(self->fd, "sync", 4, &o, NULL));
	done = now_ns();
	EXPECT_WOKEN_BY_PEER(&self->peer, done);
	EXPECT_EQ(4, self->peer.ret);
	/* nobody takes it: not delivered */
	o.timeout_ns = SHORT_NS;
	EXPECT_EQ(-ETIMEDOUT, ipcbox_send_opts(self->fd, "sync", 4, &o, NULL));
	EXPECT_EQ(0, mb_depth(self->fd));
}

TEST_F(lib, send_opts_errors)
{
	static const uint32_t recv_only[] = {
		IPCBOX_RECV_PEEK, IPCBOX_RECV_FILTER_PID, IPCBOX_RECV_FILTER_TAG,
	};
	struct ipcbox_send_options o = IPCBOX_SEND_OPTIONS_INIT;
	char buf[MSG_MAX + 1] = { 0 };
	unsigned int i;
	int n;

	o.flags = IPCBOX_SEND_CACHE | IPCBOX_SEND_SYNC;
	EXPECT_EQ(-EINVAL, ipcbox_send_opts(self->fd, "x", 1, &o, NULL));
	o.flags = 1U << 30;
	EXPECT_EQ(-EINVAL, ipcbox_send_opts(self->fd, "x", 1, &o, NULL));
	/* a receive flag is no send flag: never read as another one */
	for (i = 0; i < sizeof(recv_only) / sizeof(recv_only[0]); i++) {
		o.flags = recv_only[i];
		EXPECT_EQ(-EINVAL, ipcbox_send_opts(self->fd, "x", 1, &o, NULL))
			TH_LOG("flag %#x", recv_only[i]);
	}
	/* reserved fields: the library refuses, without a system call */
	for (i = 0; i < 2; i++) {
		ipcbox_send_options_init(&o);
		o.__reserved[i] = 1;
		n = ioctls();
		EXPECT_EQ(-EINVAL, ipcbox_send_opts(self->fd, "x", 1, &o, NULL));
		EXPECT_EQ(n, ioctls()) TH_LOG("__reserved[%u]", i);
	}
	ipcbox_send_options_init(&o);
	o.priority = IPCBOX_PRIO_MAX;
	EXPECT_EQ(-EINVAL, ipcbox_send_opts(self->fd, "x", 1, &o, NULL));
	ipcbox_send_options_init(&o);
	o.timeout_ns = -2;
	EXPECT_EQ(-EINVAL, ipcbox_send_opts(self->fd, "x", 1, &o, NULL));
	ipcbox_send_options_init(&o);
	EXPECT_EQ(-EMSGSIZE, ipcbox_send_opts(self->fd, buf, MSG_MAX + 1, &o, NULL));
	EXPECT_EQ(-EFAULT, ipcbox_send_opts(self->fd, NULL, 3, &o, NULL));
	EXPECT_EQ(-EBADF, ipcbox_send_opts(-1, "x", 1, &o, NULL));
	EXPECT_EQ(0, mb_depth(self->fd));
	ASSERT_EQ(0, ipcbox_shutdown(self->fd));
	EXPECT_EQ(-EPIPE, ipcbox_send_opts(self->fd, "x", 1, &o, NULL));
}

/* --- receiving -------------------------------------------------------------- */

TEST_F(lib, recv)
{
	char buf[MSG_MAX];
	int64_t done;
	int fd;

	ASSERT_EQ(0, ipcbox_send(self->fd, "first", 5));
	ASSERT_EQ(0, ipcbox_send(self->fd, "", 0));
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(5, ipcbox_recv(self->fd, buf, sizeof(buf)));
	EXPECT_STREQ("first", buf);
	EXPECT_EQ(0, ipcbox_recv(self->fd, NULL, 0));
	/* an empty mailbox: the receive waits for a sender */
	ASSERT_EQ(0, peer_start(&self->peer, self->fd, PEER_SEND, 0, 1, "late"));
	EXPECT_EQ(4, ipcbox_recv(self->fd, buf, sizeof(buf)));
	done = now_ns();
	EXPECT_EQ(0, memcmp(buf, "late", 4));
	EXPECT_WOKEN_BY_PEER(&self->peer, done);
	EXPECT_EQ(0, self->peer.ret);

	/* too small a buffer: EMSGSIZE, and the message stays */
	ASSERT_EQ(0, ipcbox_send(self->fd, "0123456789", 10));
	EXPECT_EQ(-EMSGSIZE, ipcbox_recv(self->fd, buf, 9));
	EXPECT_EQ(-EMSGSIZE, ipcbox_recv(self->fd, NULL, 0));
	EXPECT_EQ(-EFAULT, ipcbox_recv(self->fd, NULL, 10));
	/* a bad buffer: EFAULT, and the message goes back */
	EXPECT_EQ(-EFAULT, ipcbox_recv(self->fd, (void *)8, sizeof(buf)));
	EXPECT_EQ(1, mb_depth(self->fd));
	EXPECT_EQ(10, ipcbox_recv(self->fd, buf, 10));

	EXPECT_EQ(-EBADF, ipcbox_recv(-1, buf, sizeof(buf)));
	self->fds[0] = ipcbox_open(self->name, O_WRONLY);
	fd = self->fds[0];
	ASSERT_GE(fd, 0);
	EXPECT_EQ(-EBADF, ipcbox_recv(fd, buf, sizeof(buf)));
	fd = open_devnull();
	ASSERT_GE(fd, 0);
	EXPECT_EQ(-ENOTTY, ipcbox_recv(fd, buf, sizeof(buf)));
	close(fd);
}

TEST_F(lib, recv_interrupted_is_eintr)
{
	char buf[MSG_MAX];
	int64_t done;

	ASSERT_EQ(0, peer_start(&self->peer, self->fd, PEER_SIGNAL, 0, 1, NULL));
	EXPECT_EQ(-EINTR, ipcbox_recv(self->fd, buf, sizeof(buf)));
	done = now_ns();
	EXPECT_WOKEN_BY_PEER(&self->peer, done);
	EXPECT_EQ(1, handled);
}

TEST_F(lib, recv_timeout_ms)
{
	char buf[MSG_MAX];
	int64_t t0;
	int nb;

	t0 = now_ns();
	EXPECT_EQ(-EAGAIN, ipcbox_recv_timeout_ms(self->fd, buf, sizeof(buf), 0));
	EXPECT_LT(ms_since(t0), 1000);
	t0 = now_ns();
	EXPECT_EQ(-ETIMEDOUT, ipcbox_recv_timeout_ms(self->fd, buf, sizeof(buf),
						     SHORT_MS));
	EXPECT_GE(ms_since(t0), SHORT_MS - 1);
	ASSERT_EQ(0, ipcbox_send(self->fd, "now", 3));
	EXPECT_EQ(3, ipcbox_recv_timeout_ms(self->fd, buf, sizeof(buf), 0));
	ASSERT_EQ(0, peer_start(&self->peer, self->fd, PEER_SEND, 0, 1, "later"));
	EXPECT_EQ(5, ipcbox_recv_timeout_ms(self->fd, buf, sizeof(buf), -1000));
	t0 = now_ns();
	EXPECT_WOKEN_BY_PEER(&self->peer, t0);
	self->fds[0] = ipcbox_open(self->name, O_RDONLY | O_NONBLOCK);
	nb = self->fds[0];
	ASSERT_GE(nb, 0);
	EXPECT_EQ(-EAGAIN, ipcbox_recv_timeout_ms(nb, buf, sizeof(buf), -1));
	EXPECT_EQ(-EAGAIN, ipcbox_recv_timeout_ms(nb, buf, sizeof(buf), SHORT_MS));
	ASSERT_EQ(0, ipcbox_send(self->fd, "long message", 12));
	EXPECT_EQ(-EMSGSIZE, ipcbox_recv_timeout_ms(self->fd, buf, 4, 0));
}

TEST_F(lib, recv_timeout_ns)
{
	char buf[MSG_MAX];
	int64_t t0;

	ASSERT_EQ(0, ipcbox_send(self->fd, "x", 1));
	EXPECT_EQ(-EINVAL, ipcbox_recv_timeout_ns(self->fd, buf, sizeof(buf), -2));
	EXPECT_EQ(1, mb_depth(self->fd));
	EXPECT_EQ(1, ipcbox_recv_timeout_ns(self->fd, buf, sizeof(buf), 0));
	EXPECT_EQ(-EAGAIN, ipcbox_recv_timeout_ns(self->fd, buf, sizeof(buf), 0));
	t0 = now_ns();
	EXPECT_EQ(-ETIMEDOUT, ipcbox_recv_timeout_ns(self->fd, buf, sizeof(buf),
						     SHORT_NS));
	EXPECT_GE(now_ns() - t0, SHORT_NS);
	ASSERT_EQ(0, peer_start(&self->peer, self->fd, PEER_SEND, 0, 1, "later"));
	EXPECT_EQ(5, ipcbox_recv_timeout_ns(self->fd, buf, sizeof(buf),
					    IPCBOX_TIMEOUT_INFINITE));
	t0 = now_ns();
	EXPECT_WOKEN_BY_PEER(&self->peer, t0);
	ASSERT_EQ(0, ipcbox_shutdown(self->fd));
	EXPECT_EQ(-EPIPE, ipcbox_recv_timeout_ns(self->fd, buf, sizeof(buf),
						 SHORT_NS));
}

TEST_F(lib, recv_opts)
{
	struct ipcbox_send_options so = IPCBOX_SEND_OPTIONS_INIT;
	struct ipcbox_recv_options o = IPCBOX_RECV_OPTIONS_INIT;
	struct ipcbox_msg_info info;
	char buf[MSG_MAX];
	int64_t t0, t1;
	uint64_t seq;
	pid_t pid;
	int p[2];

	/* info: everything the kernel knows */
	so.priority = 3;
	so.tag = 77;
	t0 = now_ns();
	ASSERT_EQ(0, ipcbox_send_opts(self->fd, "mine", 4, &so, &seq));
	t1 = now_ns();
	memset(&info, 0xa5, sizeof(info));
	ASSERT_EQ(4, ipcbox_recv_opts(self->fd, buf, sizeof(buf), NULL, &info));
	EXPECT_EQ(seq, info.seq);
	EXPECT_EQ(77, info.tag);
	EXPECT_EQ(3, info.priority);
	EXPECT_EQ(4, info.len);
	EXPECT_EQ(getpid(), info.sender_tgid);
	EXPECT_EQ(test_gettid(), info.sender_tid);
	EXPECT_EQ(geteuid(), info.sender_uid);
	EXPECT_EQ(getegid(), info.sender_gid);
	EXPECT_EQ(0, info.token);
	EXPECT_GE(info.timestamp_ns, t0);
	EXPECT_LE(info.timestamp_ns, t1);

	/* filters: by tag, by sender; PEEK leaves the message */
	ASSERT_EQ(0, ipcbox_send(self->fd, "parent", 6));
	/* a sender that stays alive while its message is looked for */
	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct ipcbox_send_options co = IPCBOX_SEND_OPTIONS_INIT;

		close(p[1]);
		co.tag = 5;
		if (ipcbox_send_opts(self->fd, "child", 5, &co, NULL))
			_exit(1);
		_exit(read(p[0], buf, 1) == 0 ? 0 : 2);
	}
	close(p[0]);
	ASSERT_TRUE(wait_depth(self->fd, 2));
	ipcbox_recv_options_init(&o);
	o.flags = IPCBOX_RECV_FILTER_TAG | IPCBOX_RECV_PEEK;
	o.filter_tag = 5;
	ASSERT_EQ(5, ipcbox_recv_opts(self->fd, buf, sizeof(buf), &o, &info));
	EXPECT_EQ(pid, info.sender_tgid);
	EXPECT_EQ(2, mb_depth(self->fd));
	o.flags = IPCBOX_RECV_FILTER_PID;
	o.filter_pid = pid;
	ASSERT_EQ(5, ipcbox_recv_opts(self->fd, buf, sizeof(buf), &o, &info));
	EXPECT_EQ(0, memcmp(buf, "child", 5));
	EXPECT_EQ(5, info.tag);
	o.flags = IPCBOX_RECV_FILTER_PID | IPCBOX_NONBLOCK;
	EXPECT_EQ(-EAGAIN, ipcbox_recv_opts(self->fd, buf, sizeof(buf), &o, NULL));
	o.flags = IPCBOX_RECV_FILTER_TAG;
	o.filter_tag = 5;
	o.timeout_ns = SHORT_NS;
	EXPECT_EQ(-ETIMEDOUT, ipcbox_recv_opts(self->fd, buf, sizeof(buf), &o, NULL));
	close(p[1]);
	EXPECT_EQ(0, wait_child(pid));
	/* ABSTIME with a deadline already past, but a message there */
	ipcbox_recv_options_init(&o);
	o.flags = IPCBOX_ABSTIME;
	o.timeout_ns = now_ns() - NSEC_PER_MSEC;
	EXPECT_EQ(6, ipcbox_recv_opts(self->fd, buf, sizeof(buf), &o, NULL));
	EXPECT_EQ(-ETIMEDOUT, ipcbox_recv_opts(self->fd, buf, sizeof(buf), &o, NULL));
}

TEST_F(lib, recv_opts_errors)
{
	static const uint32_t send_only[] = {
		IPCBOX_SEND_SYNC, IPCBOX_SEND_CACHE,
	};
	struct ipcbox_recv_options o = IPCBOX_RECV_OPTIONS_INIT;
	struct ipcbox_msg_info info;
	char buf[MSG_MAX];
	unsigned int i;
	int fd, n;

	ASSERT_EQ(0, ipcbox_send(self->fd, "0123456789", 10));
	/* EMSGSIZE tells the length, and only that */
	memset(&info, 0xa5, sizeof(info));
	EXPECT_EQ(-EMSGSIZE, ipcbox_recv_opts(self->fd, buf, 3, &o, &info));
	EXPECT_EQ(10, info.len);
	EXPECT_EQ(0, info.seq);
	EXPECT_EQ(0, info.token);
	o.flags = 1U << 30;
	EXPECT_EQ(-EINVAL, ipcbox_recv_opts(self->fd, buf, sizeof(buf), &o, NULL));
	/* a send flag is no receive flag (SYNC once read as PEEK) */
	for (i = 0; i < sizeof(send_only) / sizeof(send_only[0]); i++) {
		o.flags = send_only[i];
		EXPECT_EQ(-EINVAL, ipcbox_recv_opts(self->fd, buf, sizeof(buf),
						    &o, &info))
			TH_LOG("flag %#x", send_only[i]);
	}
	/* reserved fields: the library refuses, without a system call */
	for (i = 0; i < 2; i++) {
		ipcbox_recv_options_init(&o);
		o.__reserved[i] = 1;
		n = ioctls();
		EXPECT_EQ(-EINVAL, ipcbox_recv_opts(self->fd, buf, sizeof(buf),
						    &o, NULL));
		EXPECT_EQ(n, ioctls()) TH_LOG("__reserved[%u]", i);
	}
	ipcbox_recv_options_init(&o);
	o.flags = IPCBOX_RECV_FILTER_PID;
	o.filter_pid = 0;
	EXPECT_EQ(-EINVAL, ipcbox_recv_opts(self->fd, buf, sizeof(buf), &o, NULL));
	o.filter_pid = -1;
	EXPECT_EQ(-EINVAL, ipcbox_recv_opts(self->fd, buf, sizeof(buf), &o, NULL));
	ipcbox_recv_options_init(&o);
	o.timeout_ns = -2;
	EXPECT_EQ(-EINVAL, ipcbox_recv_opts(self->fd, buf, sizeof(buf), &o, NULL));
	ipcbox_recv_options_init(&o);
	EXPECT_EQ(-EFAULT, ipcbox_recv_opts(self->fd, NULL, sizeof(buf), &o, NULL));
	EXPECT_EQ(-EBADF, ipcbox_recv_opts(-1, buf, sizeof(buf), &o, NULL));
	self->fds[0] = ipcbox_open(self->name, O_WRONLY);
	fd = self->fds[0];
	ASSERT_GE(fd, 0);
	EXPECT_EQ(-EBADF, ipcbox_recv_opts(fd, buf, sizeof(buf), &o, NULL));
	fd = open_devnull();
	ASSERT_GE(fd, 0);
	EXPECT_EQ(-ENOTTY, ipcbox_recv_opts(fd, buf, sizeof(buf), &o, NULL));
	close(fd);
	/* the kernel writes the info itself: a bad one faults, and it stays */
	EXPECT_EQ(-EFAULT, ipcbox_recv_opts(self->fd, buf, sizeof(buf), &o,
					    (struct ipcbox_msg_info *)8));
	/* nothing was taken */
	EXPECT_EQ(1, mb_depth(self->fd));
	EXPECT_EQ(10, ipcbox_recv_opts(self->fd, buf, sizeof(buf), &o, &info));
	EXPECT_EQ(10, info.len);
	ASSERT_EQ(0, ipcbox_shutdown(self->fd));
	EXPECT_EQ(-EPIPE, ipcbox_recv_opts(self->fd, buf, sizeof(buf), &o, NULL));
}

/* --- request and reply ------------------------------------------------------ */

TEST_F(lib, call_and_reply)
{
	struct ipcbox_send_options o = send_opts_timeout(LONG_NS);
	struct ipcbox_msg_info info;
	struct server srv;
	char reply[MSG_MAX + 1];
	int ret;

	if (ipcbox_check(IPCBOX_FEAT_CALL))
		SKIP(return, "module without IPCBOX_FEAT_CALL");
	ASSERT_EQ(0, server_start(&srv, self->fd, SRV_REPLY));
	o.tag = 9;
	o.priority = 4;
	memset(reply, 0, sizeof(reply));
	ret = ipcbox_call(self->fd, "ping", 4, reply, MSG_MAX, &o, &info);
	pthread_join(srv.thread, NULL);
	ASSERT_EQ(7, ret) TH_LOG("call: %s", ipcbox_strerror(ret));
	EXPECT_STREQ("re:ping", reply);
	EXPECT_EQ(4, srv.recv_ret);
	EXPECT_NE(0, srv.info.token);
	EXPECT_EQ(4, srv.info.priority);
	EXPECT_EQ(0, srv.ret);
	/* the reply's info: the request's seq and tag, the replying thread */
	EXPECT_EQ(srv.info.seq, info.seq);
	EXPECT_EQ(9, info.tag);
	EXPECT_EQ(7, info.len);
	EXPECT_EQ(getpid(), info.sender_tgid);
	EXPECT_NE(test_gettid(), info.sender_tid);
	/* the answered token is used up */
	EXPECT_EQ(-ENOENT, ipcbox_reply(self->fd, srv.info.token, "x", 1));

	/* NULL options and info: wait forever */
	ASSERT_EQ(0, server_start(&srv, self->fd, SRV_REPLY));
	ret = ipcbox_call(self->fd, "", 0, reply, sizeof(reply), NULL, NULL);
	pthread_join(srv.thread, NULL);
	EXPECT_EQ(3, ret);
	EXPECT_EQ(0, mb_depth(self->fd));
}

TEST_F(lib, call_errors)
{
	static const uint32_t not_call[] = {
		IPCBOX_NONBLOCK, IPCBOX_SEND_SYNC, IPCBOX_SEND_CACHE,
		IPCBOX_RECV_PEEK, IPCBOX_RECV_FILTER_PID, IPCBOX_RECV_FILTER_TAG,
	};
	struct ipcbox_send_options o = send_opts_timeout(SHORT_NS);
	char buf[MSG_MAX + 1] = { 0 };
	unsigned int i;
	int64_t t0;
	int fd, n;

	if (ipcbox_check(IPCBOX_FEAT_CALL))
		SKIP(return, "module without IPCBOX_FEAT_CALL");
	/* nobody answers: the request is withdrawn */
	t0 = now_ns();
	EXPECT_EQ(-ETIMEDOUT, ipcbox_call(self->fd, "q", 1, buf, sizeof(buf),
					  &o, NULL));
	EXPECT_GE(now_ns() - t0, SHORT_NS);
	EXPECT_EQ(0, mb_depth(self->fd));
	o.timeout_ns = 0;
	EXPECT_EQ(-EINVAL, ipcbox_call(self->fd, "q", 1, buf, sizeof(buf), &o, NULL));
	o.timeout_ns = -2;
	EXPECT_EQ(-EINVAL, ipcbox_call(self->fd, "q", 1, buf, sizeof(buf), &o, NULL));
	o = send_opts_timeout(SHORT_NS);
	o.flags = 1U << 30;
	EXPECT_EQ(-EINVAL, ipcbox_call(self->fd, "q", 1, buf, sizeof(buf), &o, NULL));
	/* a call takes IPCBOX_ABSTIME only, of a send's and a receive's flags */
	for (i = 0; i < sizeof(not_call) / sizeof(not_call[0]); i++) {
		o.flags = not_call[i];
		EXPECT_EQ(-EINVAL, ipcbox_call(self->fd, "q", 1, buf,
					       sizeof(buf), &o, NULL))
			TH_LOG("flag %#x", not_call[i]);
	}
	/* an ABSTIME deadline already past times out at once */
	o.flags = IPCBOX_ABSTIME;
	o.timeout_ns = now_ns() - NSEC_PER_MSEC;
	EXPECT_EQ(-ETIMEDOUT, ipcbox_call(self->fd, "q", 1, buf, sizeof(buf),
					  &o, NULL));
	/* reserved fields: the library refuses, without a system call */
	for (i = 0; i < 2; i++) {
		o = send_opts_timeout(SHORT_NS);
		o.__reserved[i] = 1;
		n = ioctls();
		EXPECT_EQ(-EINVAL, ipcbox_call(self->fd, "q", 1, buf,
					       sizeof(buf), &o, NULL));
		EXPECT_EQ(n, ioctls()) TH_LOG("__reserved[%u]", i);
	}
	o = send_opts_timeout(SHORT_NS);
	o.priority = IPCBOX_PRIO_MAX;
	EXPECT_EQ(-EINVAL, ipcbox_call(self->fd, "q", 1, buf, sizeof(buf), &o, NULL));
	o = send_opts_timeout(SHORT_NS);
	EXPECT_EQ(-EMSGSIZE, ipcbox_call(self->fd, buf, MSG_MAX + 1, buf,
					 sizeof(buf), &o, NULL));
	EXPECT_EQ(-EMSGSIZE, ipcbox_call(self->fd, buf, (size_t)UINT32_MAX + 1,
					 buf, sizeof(buf), &o, NULL));
	EXPECT_EQ(-EFAULT, ipcbox_call(self->fd, NULL, 1, buf, sizeof(buf), &o, NULL));
	EXPECT_EQ(-EFAULT, ipcbox_call(self->fd, "q", 1, NULL, 8, &o, NULL));
	EXPECT_EQ(-EBADF, ipcbox_call(-1, "q", 1, buf, sizeof(buf), &o, NULL));
	self->fds[0] = ipcbox_open(self->name, O_RDONLY);
	fd = self->fds[0];
	ASSERT_GE(fd, 0);
	EXPECT_EQ(-EBADF, ipcbox_call(fd, "q", 1, buf, sizeof(buf), &o, NULL));
	fd = open_devnull();
	ASSERT_GE(fd, 0);
	EXPECT_EQ(-ENOTTY, ipcbox_call(fd, "q", 1, buf, sizeof(buf), &o, NULL));
	close(fd);
	EXPECT_EQ(0, mb_depth(self->fd));
}

TEST_F(lib, call_server_gone_is_econnreset)
{
	struct server srv;
	char reply[MSG_MAX];
	int fd, ret;

	if (ipcbox_check(IPCBOX_FEAT_CALL))
		SKIP(return, "module without IPCBOX_FEAT_CALL");
	/* the server's own open file, closed with the request in hand */
	fd = ipcbox_open(self->name, O_RDWR);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, server_start(&srv, fd, SRV_CLOSE));
	ret = ipcbox_call(self->fd, "doomed", 6, reply, sizeof(reply), NULL, NULL);
	pthread_join(srv.thread, NULL);
	EXPECT_EQ(6, srv.recv_ret);
	EXPECT_EQ(0, srv.ret);
	EXPECT_EQ(-ECONNRESET, ret);
}

TEST_F(lib, call_shutdown_is_epipe)
{
	struct server srv;
	char reply[MSG_MAX];
	int ret;

	if (ipcbox_check(IPCBOX_FEAT_CALL))
		SKIP(return, "module without IPCBOX_FEAT_CALL");
	ASSERT_EQ(0, server_start(&srv, self->fd, SRV_SHUTDOWN));
	ret = ipcbox_call(self->fd, "held", 4, reply, sizeof(reply), NULL, NULL);
	pthread_join(srv.thread, NULL);
	EXPECT_EQ(4, srv.recv_ret);
	EXPECT_EQ(0, srv.ret);
	EXPECT_EQ(-EPIPE, ret);
	EXPECT_EQ(-EPIPE, ipcbox_call(self->fd, "x", 1, reply, sizeof(reply),
				      NULL, NULL));
}

TEST_F(lib, call_interrupted_is_eintr)
{
	char reply[MSG_MAX];
	int64_t done;

	if (ipcbox_check(IPCBOX_FEAT_CALL))
		SKIP(return, "module without IPCBOX_FEAT_CALL");
	ASSERT_EQ(0, peer_start(&self->peer, self->fd, PEER_SIGNAL, 1, 0, NULL));
	EXPECT_EQ(-EINTR, ipcbox_call(self->fd, "q", 1, reply, sizeof(reply),
				      NULL, NULL));
	done = now_ns();
	EXPECT_WOKEN_BY_PEER(&self->peer, done);
	EXPECT_EQ(1, handled);
	/* withdrawn */
	EXPECT_EQ(0, mb_depth(self->fd));
}

/* The library's receives that ask for no info, and what each returns. */
enum infoless { IL_RECV, IL_RECV_MS, IL_RECV_NS, IL_RECV_OPTS, IL_REPLY_RECV,
		IL_RECVV, NR_INFOLESS };

static const char * const infoless_names[NR_INFOLESS] = {
	"recv", "recv_timeout_ms", "recv_timeout_ns", "recv_opts",
	"reply_recv", "recvv",
};

static int recv_infoless(int fd, enum infoless how, char *buf, size_t size)
{
	struct ipcbox_recv_options o = recv_opts_timeout(LONG_NS);
	struct ipcbox_recv r;
	int rerr = 99, ret;

	switch (how) {
	case IL_RECV:
		return ipcbox_recv(fd, buf, size);
	case IL_RECV_MS:
		return ipcbox_recv_timeout_ms(fd, buf, size,
					      LONG_NS / NSEC_PER_MSEC);
	case IL_RECV_NS:
		return ipcbox_recv_timeout_ns(fd, buf, size, LONG_NS);
	case IL_RECV_OPTS:
		return ipcbox_recv_opts(fd, buf, size, &o, NULL);
	case IL_REPLY_RECV:
		ret = ipcbox_reply_recv(fd, 0, NULL, 0, &rerr, buf, size, &o,
					NULL);
		return rerr ? INT_MIN : ret;
	case IL_RECVV:
		/* an entry without info: no length either, just the count */
		memset(&r, 0, sizeof(r));
		r.buf = (uintptr_t)buf;
		r.size = size;
		r.timeout_ns = LONG_NS;
		ret = ipcbox_recvv(fd, &r, 1);
		return ret == 1 ? (int)strlen(buf) : ret < 0 ? ret : INT_MIN;
	default:
		return INT_MIN;
	}
}

TEST_F(lib, call_taken_without_info_is_eproto)
{
	struct ipcbox_stat st;
	char buf[MSG_MAX + 1];
	struct caller c;
	unsigned int how;
	int ret;

	if (ipcbox_check(IPCBOX_FEAT_CALL))
		SKIP(return, "module without IPCBOX_FEAT_CALL");
	/*
	 * A receive that returns no info cannot return the token: it takes
	 * the request, and the call ends with EPROTO at once.
	 */
	for (how = 0; how < NR_INFOLESS; how++) {
		if (how == IL_RECVV && ipcbox_check(IPCBOX_FEAT_BATCH))
			continue;
		ASSERT_EQ(0, caller_start(&c, self->fd, "req", LONG_NS));
		memset(buf, 0, sizeof(buf));
		ret = recv_infoless(self->fd, how, buf, MSG_MAX);
		pthread_join(c.thread, NULL);
		EXPECT_EQ(3, ret) TH_LOG("%s", infoless_names[how]);
		EXPECT_STREQ("req", buf) TH_LOG("%s", infoless_names[how]);
		EXPECT_EQ(-EPROTO, c.ret) TH_LOG("%s", infoless_names[how]);
		/* taken, and no call left open */
		ASSERT_EQ(0, ipcbox_stat(self->fd, &st));
		EXPECT_EQ(0, st.depth) TH_LOG("%s", infoless_names[how]);
		EXPECT_EQ(0, st.calls) TH_LOG("%s", infoless_names[how]);
	}
}

TEST_F(lib, reply_errors)
{
	struct ipcbox_recv_options o = recv_opts_timeout(LONG_NS);
	struct ipcbox_stat st;
	struct ipcbox_msg_info info;
	char buf[MSG_MAX + 1] = { 0 }, big[256] = { 0 };
	struct caller c;
	int wr, fd;

	if (ipcbox_check(IPCBOX_FEAT_CALL))
		SKIP(return, "module without IPCBOX_FEAT_CALL");
	EXPECT_EQ(-ENOENT, ipcbox_reply(self->fd, 12345, "x", 1));
	EXPECT_EQ(-ENOENT, ipcbox_reply(self->fd, 0, "x", 1));

	ASSERT_EQ(0, caller_start(&c, self->fd, "req", LONG_NS));
	ASSERT_EQ(3, ipcbox_recv_opts(self->fd, buf, sizeof(buf), &o, &info));
	ASSERT_NE(0, info.token);
	ASSERT_EQ(0, ipcbox_stat(self->fd, &st));
	EXPECT_EQ(1, st.calls);
	/* errors that leave the request open */
	EXPECT_EQ(-EMSGSIZE, ipcbox_reply(self->fd, info.token, big,
					  MSG_MAX + 1));
	EXPECT_EQ(-EMSGSIZE, ipcbox_reply(self->fd, info.token, big,
					  (size_t)UINT32_MAX + 1));
	EXPECT_EQ(-EFAULT, ipcbox_reply(self->fd, info.token, NULL, 1));
	EXPECT_EQ(-EBADF, ipcbox_reply(-1, info.token, "x", 1));
	self->fds[0] = ipcbox_open(self->name, O_WRONLY);
	wr = self->fds[0];
	ASSERT_GE(wr, 0);
	EXPECT_EQ(-EBADF, ipcbox_reply(wr, info.token, "x", 1));
	self->fds[1] = ipcbox_open(self->name, O_RDWR);
	fd = self->fds[1];
	ASSERT_GE(fd, 0);
	/* another open of the same mailbox did not receive it */
	EXPECT_EQ(-ENOENT, ipcbox_reply(fd, info.token, "x", 1));
	fd = open_devnull();
	ASSERT_GE(fd, 0);
	EXPECT_EQ(-ENOTTY, ipcbox_reply(fd, info.token, "x", 1));
	close(fd);
	/* then a good one, once */
	ASSERT_EQ(0, ipcbox_stat(self->fd, &st));
	EXPECT_EQ(1, st.calls);
	EXPECT_EQ(0, ipcbox_reply(self->fd, info.token, "ok", 2));
	EXPECT_EQ(-ENOENT, ipcbox_reply(self->fd, info.token, "ok", 2));
	ASSERT_EQ(0, ipcbox_stat(self->fd, &st));
	EXPECT_EQ(0, st.calls);
	pthread_join(c.thread, NULL);
	EXPECT_EQ(2, c.ret);
	EXPECT_STREQ("ok", c.reply);
	EXPECT_EQ(42, c.info.tag);

	/* the caller gave up: ECANCELED, once */
	ASSERT_EQ(0, caller_start(&c, self->fd, "slow", GIVE_UP_NS));
	ASSERT_EQ(4, ipcbox_recv_opts(self->fd, buf, sizeof(buf), &o, &info));
	pthread_join(c.thread, NULL);
	EXPECT_EQ(-ETIMEDOUT, c.ret);
	ASSERT_EQ(0, ipcbox_stat(self->fd, &st));
	EXPECT_EQ(0, st.calls);
	EXPECT_EQ(1, st.abandoned);
	EXPECT_EQ(-ECANCELED, ipcbox_reply(self->fd, info.token, "late", 4));
	EXPECT_EQ(-ENOENT, ipcbox_reply(self->fd, info.token, "late", 4));
	ASSERT_EQ(0, ipcbox_stat(self->fd, &st));
	EXPECT_EQ(0, st.abandoned);
}

TEST_F(lib, reply_longer_than_the_callers_buffer)
{
	struct ipcbox_recv_options o = recv_opts_timeout(LONG_NS);
	struct ipcbox_msg_info info;
	char buf[MSG_MAX];
	struct caller c;

	if (ipcbox_check(IPCBOX_FEAT_CALL))
		SKIP(return, "module without IPCBOX_FEAT_CALL");
	memset(&c, 0, sizeof(c));
	c.fd = self->fd;
	c.req = "small";
	c.timeout_ns = LONG_NS;
	c.reply_size = 4;
	c.ret = INT_MIN;
	ASSERT_EQ(0, pthread_create(&c.thread, NULL, caller_thread, &c));
	ASSERT_EQ(5, ipcbox_recv_opts(self->fd, buf, sizeof(buf), &o, &info));
	ASSERT_NE(0, info.token);
	/* within msg_size_max but not within the caller's 4 bytes */
	EXPECT_EQ(-EMSGSIZE, ipcbox_reply(self->fd, info.token, "12345", 5));
	EXPECT_EQ(0, ipcbox_reply(self->fd, info.token, "1234", 4));
	pthread_join(c.thread, NULL);
	EXPECT_EQ(4, c.ret);
	EXPECT_EQ(0, memcmp(c.reply, "1234", 4));
}

TEST_F(lib, reply_recv)
{
	struct ipcbox_recv_options o = recv_opts_timeout(LONG_NS);
	struct ipcbox_msg_info info;
	char buf[MSG_MAX + 1];
	struct caller c;
	int rerr, ret;

	if (ipcbox_check(IPCBOX_FEAT_CALL))
		SKIP(return, "module without IPCBOX_FEAT_CALL");
	/* token 0: just a receive, which waits for the request */
	ASSERT_EQ(0, caller_start(&c, self->fd, "first", LONG_NS));
	rerr = 99;
	memset(buf, 0, sizeof(buf));
	ret = ipcbox_reply_recv(self->fd, 0, NULL, 0, &rerr, buf, MSG_MAX,
				&o, &info);
	ASSERT_EQ(5, ret) TH_LOG("reply_recv: %s", ipcbox_strerror(ret));
	EXPECT_EQ(0, rerr);
	EXPECT_STREQ("first", buf);
	ASSERT_NE(0, info.token);
	/* answer it and take the next message, sent meanwhile */
	ASSERT_EQ(0, ipcbox_send(self->fd, "next", 4));
	memset(buf, 0, sizeof(buf));
	rerr = 99;
	ret = ipcbox_reply_recv(self->fd, info.token, "answer", 6, &rerr, buf,
				MSG_MAX, &o, &info);
	EXPECT_EQ(4, ret);
	EXPECT_EQ(0, rerr);
	EXPECT_STREQ("next", buf);
	EXPECT_EQ(0, info.token);
	pthread_join(c.thread, NULL);
	EXPECT_EQ(6, c.ret);
	EXPECT_STREQ("answer", c.reply);

	/* a failed reply is reported, and the receive happens anyway */
	ASSERT_EQ(0, ipcbox_send(self->fd, "after", 5));
	ret = ipcbox_reply_recv(self->fd, 777, "x", 1, &rerr, buf, MSG_MAX,
				NULL, NULL);
	EXPECT_EQ(5, ret);
	EXPECT_EQ(-ENOENT, rerr);
	/* NULL reply_error, and the receive's own errors */
	o.timeout_ns = 0;
	EXPECT_EQ(-EAGAIN, ipcbox_reply_recv(self->fd, 0, NULL, 0, NULL, buf,
					     MSG_MAX, &o, NULL));
	o.timeout_ns = SHORT_NS;
	EXPECT_EQ(-ETIMEDOUT, ipcbox_reply_recv(self->fd, 0, NULL, 0, &rerr,
						buf, MSG_MAX, &o, NULL));
	EXPECT_EQ(0, rerr);
}

TEST_F(lib, reply_recv_restarted_replies_once)
{
	struct ipcbox_msg_info info;
	char buf[MSG_MAX + 1];
	struct caller c;
	int64_t done;
	int rerr, ret;

	if (ipcbox_check(IPCBOX_FEAT_CALL))
		SKIP(return, "module without IPCBOX_FEAT_CALL");
	ASSERT_EQ(0, caller_start(&c, self->fd, "req", LONG_NS));
	ret = ipcbox_recv_opts(self->fd, buf, sizeof(buf), NULL, &info);
	ASSERT_EQ(3, ret) TH_LOG("recv_opts: %s", ipcbox_strerror(ret));
	ASSERT_NE(0, info.token);
	/*
	 * Reply, then wait forever (restartable) in the receive; a signal
	 * with SA_RESTART restarts it. The kernel cleared the token in the
	 * struct once it replied, so the restart only receives: were the
	 * reply made again, its error (ENOENT) would be in reply_error.
	 */
	ASSERT_EQ(0, peer_start(&self->peer, self->fd, PEER_RESTART_SEND, 0, 1,
				"next"));
	rerr = 99;
	memset(buf, 0, sizeof(buf));
	ret = ipcbox_reply_recv(self->fd, info.token, "answer", 6, &rerr, buf,
				MSG_MAX, NULL, &info);
	done = now_ns();
	EXPECT_EQ(4, ret) TH_LOG("reply_recv: %s", ipcbox_strerror(ret));
	EXPECT_EQ(0, rerr);
	EXPECT_STREQ("next", buf);
	EXPECT_EQ(0, info.token);
	EXPECT_EQ(1, handled);
	EXPECT_WOKEN_BY_PEER(&self->peer, done);
	EXPECT_TRUE(self->peer.restarted);
	EXPECT_EQ(0, self->peer.ret);
	pthread_join(c.thread, NULL);
	EXPECT_EQ(6, c.ret);
	EXPECT_STREQ("answer", c.reply);
	EXPECT_EQ(0, mb_depth(self->fd));
}

TEST_F(lib, reply_recv_errors)
{
	struct ipcbox_recv_options o = recv_opts_timeout(0);
	struct ipcbox_msg_info info;
	char buf[MSG_MAX];
	unsigned int i;
	int rerr, fd, n;

	if (ipcbox_check(IPCBOX_FEAT_CALL))
		SKIP(return, "module without IPCBOX_FEAT_CALL");
	ASSERT_EQ(0, ipcbox_send(self->fd, "0123456789", 10));
	memset(&info, 0, sizeof(info));
	EXPECT_EQ(-EMSGSIZE, ipcbox_reply_recv(self->fd, 0, NULL, 0, &rerr,
					       buf, 4, &o, &info));
	EXPECT_EQ(10, info.len);
	o.flags = 1U << 30;
	EXPECT_EQ(-EINVAL, ipcbox_reply_recv(self->fd, 0, NULL, 0, &rerr, buf,
					     sizeof(buf), &o, NULL));
	o.flags = IPCBOX_SEND_SYNC;
	EXPECT_EQ(-EINVAL, ipcbox_reply_recv(self->fd, 0, NULL, 0, &rerr, buf,
					     sizeof(buf), &o, NULL));
	o = recv_opts_timeout(-2);
	EXPECT_EQ(-EINVAL, ipcbox_reply_recv(self->fd, 0, NULL, 0, &rerr, buf,
					     sizeof(buf), &o, NULL));
	/* reserved fields: the library refuses, without a system call */
	for (i = 0; i < 2; i++) {
		o = recv_opts_timeout(0);
		o.__reserved[i] = 1;
		n = ioctls();
		EXPECT_EQ(-EINVAL, ipcbox_reply_recv(self->fd, 0, NULL, 0,
						     &rerr, buf, sizeof(buf),
						     &o, NULL));
		EXPECT_EQ(n, ioctls()) TH_LOG("__reserved[%u]", i);
	}
	o = recv_opts_timeout(0);
	EXPECT_EQ(-EFAULT, ipcbox_reply_recv(self->fd, 0, NULL, 0, &rerr, NULL,
					     sizeof(buf), &o, NULL));
	EXPECT_EQ(-EFAULT, ipcbox_reply_recv(self->fd, 5, NULL, 3, &rerr, buf,
					     sizeof(buf), &o, NULL));
	EXPECT_EQ(-EMSGSIZE, ipcbox_reply_recv(self->fd, 5, buf,
					       (size_t)UINT32_MAX + 1, &rerr,
					       buf, sizeof(buf), &o, NULL));
	EXPECT_EQ(-EBADF, ipcbox_reply_recv(-1, 0, NULL, 0, &rerr, buf,
					    sizeof(buf), &o, NULL));
	self->fds[0] = ipcbox_open(self->name, O_WRONLY);
	fd = self->fds[0];
	ASSERT_GE(fd, 0);
	EXPECT_EQ(-EBADF, ipcbox_reply_recv(fd, 0, NULL, 0, &rerr, buf,
					    sizeof(buf), &o, NULL));
	fd = open_devnull();
	ASSERT_GE(fd, 0);
	EXPECT_EQ(-ENOTTY, ipcbox_reply_recv(fd, 0, NULL, 0, &rerr, buf,
					     sizeof(buf), &o, NULL));
	close(fd);
	/* nothing was taken */
	EXPECT_EQ(10, ipcbox_reply_recv(self->fd, 0, NULL, 0, &rerr, buf,
					sizeof(buf), &o, NULL));
	ASSERT_EQ(0, ipcbox_shutdown(self->fd));
	EXPECT_EQ(-EPIPE, ipcbox_reply_recv(self->fd, 0, NULL, 0, &rerr, buf,
					    sizeof(buf), &o, NULL));
}

/* --- batches ---------------------------------------------------------------- */

#define NR_BATCH	8

static void sends_init(struct ipcbox_send *s, char bufs[][8], unsigned int n)
{
	unsigned int i;

	memset(s, 0, n * sizeof(*s));
	for (i = 0; i < n; i++) {
		snprintf(bufs[i], 8, "m%u", i);
		s[i].buf = (uintptr_t)bufs[i];
		s[i].len = strlen(bufs[i]);
		s[i].timeout_ns = IPCBOX_TIMEOUT_NONE;
		s[i].priority = i % 2;
		s[i].tag = 100 + i;
	}
}

/* Receive entries; with @info, each points to its own (zeroed) info. */
static void recvs_init(struct ipcbox_recv *r, char bufs[][8],
		       struct ipcbox_msg_info *info, unsigned int n,
		       int64_t timeout_ns)
{
	unsigned int i;

	memset(r, 0, n * sizeof(*r));
	if (info)
		memset(info, 0, n * sizeof(*info));
	for (i = 0; i < n; i++) {
		r[i].buf = (uintptr_t)bufs[i];
		r[i].size = 8;
		r[i].timeout_ns = timeout_ns;
		if (info) {
			r[i].info = (uintptr_t)&info[i];
			r[i].info_size = sizeof(info[i]);
		}
	}
}

TEST_F(lib, sendv_and_recvv)
{
	struct ipcbox_send s[NR_BATCH];
	struct ipcbox_recv r[2 * NR_BATCH];
	struct ipcbox_msg_info ri[2 * NR_BATCH];
	char sb[NR_BATCH][8], rb[2 * NR_BATCH][8];
	unsigned int i;
	int fd;

	if (ipcbox_check(IPCBOX_FEAT_BATCH))
		SKIP(return, "module without IPCBOX_FEAT_BATCH");
	self->fds[0] = ipcbox_create_anon(16, 8, IPCBOX_CREATE_CLOEXEC);
	fd = self->fds[0];
	ASSERT_GE(fd, 0);
	sends_init(s, sb, NR_BATCH);
	for (i = 0; i < NR_BATCH; i++)
		s[i].priority = 0;
	ASSERT_EQ(NR_BATCH, ipcbox_sendv(fd, s, NR_BATCH));
	/* the library gave the kernel its entries' size and the count */
	EXPECT_EQ(sizeof(struct ipcbox_send), last_batch.entry_size);
	EXPECT_EQ(NR_BATCH, last_batch.count);
	EXPECT_EQ((uintptr_t)s, last_batch.msgs);
	for (i = 1; i < NR_BATCH; i++)
		EXPECT_GT(s[i].seq, s[i - 1].seq);
	recvs_init(r, rb, ri, 2 * NR_BATCH, IPCBOX_TIMEOUT_NONE);
	/* a partial batch: what is there */
	ASSERT_EQ(3, ipcbox_recvv(fd, r, 3));
	EXPECT_EQ(sizeof(struct ipcbox_recv), last_batch.entry_size);
	EXPECT_EQ(3, last_batch.count);
	ASSERT_EQ(NR_BATCH - 3, ipcbox_recvv(fd, r + 3, NR_BATCH));
	for (i = 0; i < NR_BATCH; i++) {
		EXPECT_EQ(s[i].seq, ri[i].seq);
		EXPECT_EQ(100 + i, ri[i].tag);
		EXPECT_EQ(s[i].len, ri[i].len);
		EXPECT_EQ(0, memcmp(rb[i], sb[i], s[i].len));
	}
	/* a batch of one, and an entry without info still receives */
	ASSERT_EQ(1, ipcbox_sendv(fd, s, 1));
	ASSERT_EQ(1, ipcbox_sendv(fd, s + 1, 1));
	recvs_init(r, rb, ri, 1, LONG_NS);
	ASSERT_EQ(1, ipcbox_recvv(fd, r, 1));
	EXPECT_EQ(s[0].seq, ri[0].seq);
	recvs_init(r, rb, NULL, 1, LONG_NS);
	ASSERT_EQ(1, ipcbox_recvv(fd, r, 1));
	EXPECT_EQ(0, memcmp(rb[0], sb[1], s[1].len));
	EXPECT_EQ(0, mb_depth(fd));
}

TEST_F(lib, sendv_errors)
{
	struct ipcbox_send s[NR_BATCH];
	char sb[NR_BATCH][8];
	int fd;

	if (ipcbox_check(IPCBOX_FEAT_BATCH))
		SKIP(return, "module without IPCBOX_FEAT_BATCH");
	sends_init(s, sb, NR_BATCH);
	EXPECT_EQ(-EINVAL, ipcbox_sendv(self->fd, s, 0));
	EXPECT_EQ(-EINVAL, ipcbox_sendv(self->fd, s, IPCBOX_BATCH_MAX + 1));
	EXPECT_EQ(-EFAULT, ipcbox_sendv(self->fd, NULL, 1));
	EXPECT_EQ(-EBADF, ipcbox_sendv(-1, s, 1));
	self->fds[0] = ipcbox_open(self->name, O_RDONLY);
	fd = self->fds[0];
	ASSERT_GE(fd, 0);
	EXPECT_EQ(-EBADF, ipcbox_sendv(fd, s, 1));
	fd = open_devnull();
	ASSERT_GE(fd, 0);
	EXPECT_EQ(-ENOTTY, ipcbox_sendv(fd, s, 1));
	close(fd);
	/* the first entry bad: its error */
	s[0].priority = IPCBOX_PRIO_MAX;
	EXPECT_EQ(-EINVAL, ipcbox_sendv(self->fd, s, 2));
	s[0].priority = 0;
	s[0].buf = 8;
	EXPECT_EQ(-EFAULT, ipcbox_sendv(self->fd, s, 2));
	s[0].buf = (uintptr_t)sb[0];
	s[0].len = MSG_MAX + 1;
	EXPECT_EQ(-EMSGSIZE, ipcbox_sendv(self->fd, s, 2));
	s[0].len = 2;
	EXPECT_EQ(0, mb_depth(self->fd));
	/* a later one bad: stops there, counting what was sent */
	s[1].__reserved0 = 1;
	EXPECT_EQ(1, ipcbox_sendv(self->fd, s, 3));
	s[1].__reserved0 = 0;
	/* capacity 2, non-blocking entries: stops when full, then EAGAIN */
	EXPECT_EQ(1, ipcbox_sendv(self->fd, s + 1, 3));
	EXPECT_EQ(-EAGAIN, ipcbox_sendv(self->fd, s + 2, 3));
	EXPECT_EQ(2, mb_depth(self->fd));
	ASSERT_EQ(0, ipcbox_shutdown(self->fd));
	EXPECT_EQ(-EPIPE, ipcbox_sendv(self->fd, s, 1));
}

TEST_F(lib, recvv_errors)
{
	struct ipcbox_recv r[NR_BATCH];
	struct ipcbox_msg_info ri[NR_BATCH];
	char rb[NR_BATCH][8], tmp[MSG_MAX];
	int64_t t0;
	int fd;

	if (ipcbox_check(IPCBOX_FEAT_BATCH))
		SKIP(return, "module without IPCBOX_FEAT_BATCH");
	recvs_init(r, rb, ri, NR_BATCH, IPCBOX_TIMEOUT_NONE);
	EXPECT_EQ(-EINVAL, ipcbox_recvv(self->fd, r, 0));
	EXPECT_EQ(-EINVAL, ipcbox_recvv(self->fd, r, IPCBOX_BATCH_MAX + 1));
	EXPECT_EQ(-EFAULT, ipcbox_recvv(self->fd, NULL, 1));
	EXPECT_EQ(-EAGAIN, ipcbox_recvv(self->fd, r, NR_BATCH));
	r[0].timeout_ns = SHORT_NS;
	t0 = now_ns();
	EXPECT_EQ(-ETIMEDOUT, ipcbox_recvv(self->fd, r, NR_BATCH));
	EXPECT_GE(now_ns() - t0, SHORT_NS);
	EXPECT_EQ(-EBADF, ipcbox_recvv(-1, r, 1));
	self->fds[0] = ipcbox_open(self->name, O_WRONLY);
	fd = self->fds[0];
	ASSERT_GE(fd, 0);
	EXPECT_EQ(-EBADF, ipcbox_recvv(fd, r, 1));
	fd = open_devnull();
	ASSERT_GE(fd, 0);
	EXPECT_EQ(-ENOTTY, ipcbox_recvv(fd, r, 1));
	close(fd);
	/* the first entry bad: its error, nothing taken */
	ASSERT_EQ(0, ipcbox_send(self->fd, "0123456789", 10));
	recvs_init(r, rb, ri, NR_BATCH, IPCBOX_TIMEOUT_NONE);
	EXPECT_EQ(-EMSGSIZE, ipcbox_recvv(self->fd, r, 1));
	EXPECT_EQ(10, ri[0].len);
	recvs_init(r, rb, ri, NR_BATCH, IPCBOX_TIMEOUT_NONE);
	r[0].flags = 1U << 30;
	EXPECT_EQ(-EINVAL, ipcbox_recvv(self->fd, r, 1));
	recvs_init(r, rb, ri, NR_BATCH, IPCBOX_TIMEOUT_NONE);
	r[0].flags = IPCBOX_SEND_SYNC;
	EXPECT_EQ(-EINVAL, ipcbox_recvv(self->fd, r, 1));
	/* the info goes with its size: one without the other is invalid */
	recvs_init(r, rb, ri, NR_BATCH, IPCBOX_TIMEOUT_NONE);
	r[0].info_size = 0;
	EXPECT_EQ(-EINVAL, ipcbox_recvv(self->fd, r, 1));
	recvs_init(r, rb, NULL, NR_BATCH, IPCBOX_TIMEOUT_NONE);
	r[0].info_size = sizeof(ri[0]);
	EXPECT_EQ(-EINVAL, ipcbox_recvv(self->fd, r, 1));
	recvs_init(r, rb, ri, NR_BATCH, IPCBOX_TIMEOUT_NONE);
	r[0].info_size = IPCBOX_MSG_INFO_SIZE_VER0 - 1;
	EXPECT_EQ(-EINVAL, ipcbox_recvv(self->fd, r, 1));
	/* an info outside the address space: EFAULT, and it stays */
	recvs_init(r, rb, ri, NR_BATCH, IPCBOX_TIMEOUT_NONE);
	r[0].size = sizeof(tmp);
	r[0].buf = (uintptr_t)tmp;
	r[0].info = 8;
	EXPECT_EQ(-EFAULT, ipcbox_recvv(self->fd, r, 1));
	EXPECT_EQ(1, mb_depth(self->fd));
	ASSERT_EQ(10, ipcbox_recv(self->fd, tmp, sizeof(tmp)));
	ASSERT_EQ(0, ipcbox_shutdown(self->fd));
	recvs_init(r, rb, ri, NR_BATCH, IPCBOX_TIMEOUT_NONE);
	EXPECT_EQ(-EPIPE, ipcbox_recvv(self->fd, r, 1));
}

TEST_F(lib, recvv_first_waits)
{
	struct ipcbox_recv r[NR_BATCH];
	struct ipcbox_msg_info ri[NR_BATCH];
	char rb[NR_BATCH][8];
	int64_t done;

	if (ipcbox_check(IPCBOX_FEAT_BATCH))
		SKIP(return, "module without IPCBOX_FEAT_BATCH");
	recvs_init(r, rb, ri, NR_BATCH, LONG_NS);
	ASSERT_EQ(0, peer_start(&self->peer, self->fd, PEER_SEND, 0, 1, "late"));
	EXPECT_EQ(1, ipcbox_recvv(self->fd, r, NR_BATCH));
	done = now_ns();
	EXPECT_EQ(4, ri[0].len);
	EXPECT_EQ(0, memcmp(rb[0], "late", 4));
	EXPECT_WOKEN_BY_PEER(&self->peer, done);
}

/* --- limits (module parameters, restored) ----------------------------------- */

static const char * const params[] = {
	"max_mailboxes", "max_per_user", "max_unbounded_bytes",
};

#define NR_PARAMS	(sizeof(params) / sizeof(params[0]))

FIXTURE(lib_limits) {
	unsigned long long saved[NR_PARAMS];
	bool have_saved;
	int fds[3];
};

FIXTURE_SETUP(lib_limits)
{
	unsigned int i;

	self->have_saved = false;
	for (i = 0; i < 3; i++)
		self->fds[i] = -1;
	if (!path_exists(IPCBOX_CONTROL_PATH))
		SKIP(return, "%s missing (ipcbox.ko not loaded?)", IPCBOX_CONTROL_PATH);
	for (i = 0; i < NR_PARAMS; i++)
		ASSERT_EQ(0, param_get(params[i], &self->saved[i]))
			TH_LOG("cannot read parameter #%u", i);
	self->have_saved = true;
}

FIXTURE_TEARDOWN(lib_limits)
{
	unsigned int i;

	for (i = 0; i < 3; i++)
		close_fd(&self->fds[i]);
	if (self->have_saved)
		for (i = 0; i < NR_PARAMS; i++)
			if (param_set(params[i], self->saved[i]))
				TH_LOG("could not restore parameter #%u", i);
}

TEST_F(lib_limits, create_past_max_mailboxes_is_enospc)
{
	struct ipcbox_info info;

	ASSERT_EQ(0, ipcbox_info(&info));
	ASSERT_EQ(0, param_set("max_mailboxes", info.nr_mailboxes + 1));
	self->fds[0] = ipcbox_create_anon(1, 0, IPCBOX_CREATE_CLOEXEC);
	ASSERT_GE(self->fds[0], 0);
	EXPECT_EQ(-ENOSPC, ipcbox_create_anon(1, 0, 0));
	EXPECT_EQ(-ENOSPC, create_fails("kst-lib-nospc", 1, 0, 0600, 0));
	EXPECT_FALSE(path_exists(IPCBOX_DEV_DIR "/kst-lib-nospc"));
}

static int user_over_quota(void *arg)
{
	int fd = ipcbox_create_anon(1, 0, 0), ret;

	if (fd < 0)
		return 100;
	ret = ipcbox_create("kst-lib-dquot", 1, 0, 0600, 0);
	if (ret >= 0) {
		ipcbox_unlink("kst-lib-dquot");
		return 101;
	}
	if (ipcbox_create_anon(1, 0, 0) != ret)
		return 102;
	return -ret;
}

TEST_F(lib_limits, create_past_max_per_user_is_edquot)
{
	ASSERT_EQ(0, param_set("max_per_user", 1));
	EXPECT_EQ(EDQUOT, run_as_user(user_over_quota, NULL));
}

TEST_F(lib_limits, unbounded_past_byte_cap_is_enobufs)
{
	char buf[100] = { 0 };
	int fd, i;

	/* each message counts its payload and 64 bytes */
	ASSERT_EQ(0, param_set("max_unbounded_bytes", 3 * (100 + 64)));
	self->fds[0] = ipcbox_create_anon(IPCBOX_CAPACITY_UNBOUNDED, 100,
					  IPCBOX_CREATE_CLOEXEC);
	fd = self->fds[0];
	ASSERT_GE(fd, 0);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, ipcbox_send(fd, buf, 100));
	EXPECT_EQ(-ENOBUFS, ipcbox_send(fd, buf, 100));
	EXPECT_EQ(-ENOBUFS, ipcbox_send_timeout_ms(fd, buf, 1, 0));
	EXPECT_EQ(3, mb_depth(fd));
	EXPECT_EQ(100, ipcbox_recv(fd, buf, sizeof(buf)));
	EXPECT_EQ(0, ipcbox_send(fd, buf, 100));
}

TEST_HARNESS_MAIN
