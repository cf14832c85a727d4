/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the ipcbox selftests: thin wrappers around the ioctls
 * that return 0/length or -errno, timing, random choices, sysfs and module
 * parameter access, a second-uid runner, a background-operation thread and
 * userfaultfd pages that stall a copy.
 *
 * Include this before kselftest_harness.h.
 */
#ifndef IPCBOX_TEST_H
#define IPCBOX_TEST_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <linux/ipcbox.h>
#include <linux/userfaultfd.h>

/* The unprivileged user the test VM provides. */
#define TEST_UID	1000
#define TEST_GID	1000

#define SYSFS_CLASS	"/sys/class/ipcbox"
#define SYSFS_PARAMS	"/sys/module/ipcbox/parameters"
#define SYSFS_REFCNT	"/sys/module/ipcbox/refcnt"

#define NSEC_PER_MSEC	1000000LL
#define NSEC_PER_SEC	1000000000LL

/* A positive number from the environment (the tests' IPCBOX_* knobs), or @def. */
static inline unsigned long env_ul(const char *var, unsigned long def)
{
	const char *s = getenv(var);
	unsigned long v;

	if (!s || !*s)
		return def;
	v = strtoul(s, NULL, 0);
	return v ? v : def;
}

/*
 * The tests' random choices (splitmix64): the same seed makes the same
 * sequence, so a run is repeatable from its seed. One per thread.
 */
struct test_rng {
	uint64_t state;
};

static inline void rng_seed(struct test_rng *r, uint64_t seed)
{
	r->state = seed;
}

static inline uint64_t rng_next(struct test_rng *r)
{
	uint64_t z = (r->state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* 0 .. n - 1 (0 for n == 0). */
static inline uint32_t rng_below(struct test_rng *r, uint32_t n)
{
	return n ? (uint32_t)(rng_next(r) % n) : 0;
}

/* One more of a counter that other processes or threads bump too. */
static inline void bump(uint64_t *c)
{
	__atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
}

static inline pid_t test_gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static inline int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static inline void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * NSEC_PER_MSEC };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Replace the size encoded in an ioctl number (extensible structs). */
static inline unsigned long ioc_resize(unsigned long cmd, unsigned int size)
{
	return (cmd & ~((unsigned long)_IOC_SIZEMASK << _IOC_SIZESHIFT)) |
	       ((unsigned long)size << _IOC_SIZESHIFT);
}

static inline int sys_ioctl(int fd, unsigned long cmd, void *arg)
{
	int ret = ioctl(fd, cmd, arg);

	return ret < 0 ? -errno : ret;
}

static inline int ctl_open(void)
{
	return open(IPCBOX_CONTROL_PATH, O_RDWR | O_CLOEXEC);
}

/*
 * The control fd of a fixture, in one line of its FIXTURE_SETUP (or of a
 * test): opens it into @fd, or skips the test when the module is not
 * loaded. A skipped setup never reaches the teardown; the teardown closes
 * it with close_fd().
 */
#define CTL_OPEN_OR_SKIP(fd) do {					\
	(fd) = ctl_open();						\
	if ((fd) < 0)							\
		SKIP(return, "%s: %m (ipcbox.ko not loaded?)",		\
		     IPCBOX_CONTROL_PATH);				\
} while (0)

static inline int ipcbox_get_info(int ctl, struct ipcbox_info *info)
{
	memset(info, 0, sizeof(*info));
	return sys_ioctl(ctl, IPCBOX_IOC_INFO, info);
}

/* How many mailboxes exist (INFO), or -1. */
static inline int nr_mailboxes(int ctl)
{
	struct ipcbox_info info;

	return ipcbox_get_info(ctl, &info) ? -1 : (int)info.nr_mailboxes;
}

/*
 * Wait at most max_ms for the number of mailboxes to come back to @want:
 * the last fput of a killed or exited task's files may run a little
 * later. Returns the number then.
 */
static inline int wait_nr_mailboxes(int ctl, int want, long max_ms)
{
	int64_t end = now_ns() + max_ms * NSEC_PER_MSEC;
	int n;

	while ((n = nr_mailboxes(ctl)) != want && now_ns() < end)
		sleep_ms(10);
	return n;
}

/* Copy a name into an ABI name field, at most IPCBOX_NAME_MAX - 1 bytes. */
static inline void copy_name(char *dst, const char *src)
{
	size_t n = strnlen(src, IPCBOX_NAME_MAX - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static inline void create_args(struct ipcbox_create *c, const char *name,
			       uint32_t cap, uint32_t msz, uint32_t mode,
			       uint32_t flags)
{
	memset(c, 0, sizeof(*c));
	if (name)
		copy_name(c->name, name);
	c->capacity = cap;
	c->msg_size_max = msz;
	c->mode = mode;
	c->flags = flags;
}

/* Returns the new fd or -errno. */
static inline int mb_create(int ctl, const char *name, uint32_t cap,
			    uint32_t msz, uint32_t mode, uint32_t flags)
{
	struct ipcbox_create c;

	create_args(&c, name, cap, msz, mode, flags);
	return sys_ioctl(ctl, IPCBOX_IOC_CREATE, &c);
}

static inline int mb_anon(int ctl, uint32_t cap, uint32_t msz)
{
	return mb_create(ctl, "", cap, msz, 0, IPCBOX_CREATE_CLOEXEC);
}

static inline int mb_unlink(int ctl, const char *name)
{
	struct ipcbox_unlink u;

	memset(&u, 0, sizeof(u));
	copy_name(u.name, name);
	return sys_ioctl(ctl, IPCBOX_IOC_UNLINK, &u);
}

static inline void send_args(struct ipcbox_send *s, const void *buf,
			     size_t len, uint32_t flags, int64_t timeout,
			     uint32_t prio, uint64_t tag)
{
	memset(s, 0, sizeof(*s));
	s->buf = (uintptr_t)buf;
	s->len = len;
	s->flags = flags;
	s->timeout_ns = timeout;
	s->priority = prio;
	s->tag = tag;
}

/* Full SEND: returns 0 or -errno; *seq gets the sequence number. */
static inline int mb_send_full(int fd, const void *buf, size_t len,
			       uint32_t flags, int64_t timeout, uint32_t prio,
			       uint64_t tag, uint64_t *seq)
{
	struct ipcbox_send s;
	int ret;

	send_args(&s, buf, len, flags, timeout, prio, tag);
	ret = sys_ioctl(fd, IPCBOX_IOC_SEND, &s);
	if (ret >= 0 && seq)
		*seq = s.seq;
	return ret < 0 ? ret : 0;
}

static inline int mb_send(int fd, const void *buf, size_t len,
			  uint32_t flags, int64_t timeout)
{
	return mb_send_full(fd, buf, len, flags, timeout, 0, 0, NULL);
}

static inline int mb_send_str(int fd, const char *s)
{
	return mb_send(fd, s, strlen(s), 0, IPCBOX_TIMEOUT_INFINITE);
}

static inline void recv_args(struct ipcbox_recv *r, void *buf, size_t size,
			     uint32_t flags, int64_t timeout)
{
	memset(r, 0, sizeof(*r));
	r->buf = (uintptr_t)buf;
	r->size = size;
	r->flags = flags;
	r->timeout_ns = timeout;
}

/*
 * Returns the length or -errno; *info (if given) gets the message info.
 * Without @info the kernel computes none, and a CALL request received so
 * ends its call with EPROTO, as the ABI says.
 */
static inline int mb_recv_full(int fd, void *buf, size_t size, uint32_t flags,
			       int64_t timeout, pid_t fpid, uint64_t ftag,
			       struct ipcbox_msg_info *info)
{
	struct ipcbox_recv r;

	recv_args(&r, buf, size, flags, timeout);
	r.filter_pid = fpid;
	r.filter_tag = ftag;
	if (info) {
		memset(info, 0, sizeof(*info));
		r.info = (uintptr_t)info;
		r.info_size = sizeof(*info);
	}
	return sys_ioctl(fd, IPCBOX_IOC_RECV, &r);
}

static inline int mb_recv(int fd, void *buf, size_t size, uint32_t flags,
			  int64_t timeout)
{
	return mb_recv_full(fd, buf, size, flags, timeout, 0, 0, NULL);
}

static inline int mb_stat(int fd, struct ipcbox_stat *st)
{
	memset(st, 0, sizeof(*st));
	return sys_ioctl(fd, IPCBOX_IOC_STAT, st);
}

static inline int mb_shutdown(int fd)
{
	return sys_ioctl(fd, IPCBOX_IOC_SHUTDOWN, NULL);
}

/* CALL: returns the reply length or -errno; *info gets the reply's info. */
static inline int mb_call(int fd, const void *buf, size_t len,
			  int64_t timeout, uint64_t tag, void *rbuf,
			  size_t rsize, struct ipcbox_msg_info *info)
{
	struct ipcbox_call c;

	memset(&c, 0, sizeof(c));
	c.buf = (uintptr_t)buf;
	c.len = len;
	c.timeout_ns = timeout;
	c.tag = tag;
	c.reply_buf = (uintptr_t)rbuf;
	c.reply_size = rsize;
	if (info) {
		memset(info, 0, sizeof(*info));
		c.reply_info = (uintptr_t)info;
		c.reply_info_size = sizeof(*info);
	}
	return sys_ioctl(fd, IPCBOX_IOC_CALL, &c);
}

static inline int mb_reply(int fd, uint64_t token, const void *buf,
			   size_t len)
{
	struct ipcbox_reply r;

	memset(&r, 0, sizeof(r));
	r.token = token;
	r.buf = (uintptr_t)buf;
	r.len = len;
	return sys_ioctl(fd, IPCBOX_IOC_REPLY, &r);
}

/*
 * REPLY_RECV: returns what the receive returns; *rerr gets reply_error,
 * *token what the kernel left of it (0 once the reply was made).
 */
static inline int mb_reply_recv(int fd, uint64_t *token, const void *rbuf,
				size_t rlen, void *buf, size_t size,
				int64_t timeout, int *rerr,
				struct ipcbox_msg_info *info)
{
	struct ipcbox_reply_recv a;
	int ret;

	memset(&a, 0, sizeof(a));
	a.token = *token;
	a.reply_buf = (uintptr_t)rbuf;
	a.reply_len = rlen;
	a.buf = (uintptr_t)buf;
	a.size = size;
	a.timeout_ns = timeout;
	if (info) {
		memset(info, 0, sizeof(*info));
		a.info = (uintptr_t)info;
		a.info_size = sizeof(*info);
	}
	ret = sys_ioctl(fd, IPCBOX_IOC_REPLY_RECV, &a);
	if (rerr)
		*rerr = a.reply_error;
	*token = a.token;
	return ret;
}

/*
 * SENDV or RECVV (@cmd) of @count entries at @msgs, each a struct
 * ipcbox_send or ipcbox_recv of @entry_size bytes: the count done, or -errno.
 */
static inline int mb_batch_sized(int fd, unsigned long cmd, void *msgs,
				 uint32_t count, uint32_t entry_size)
{
	struct ipcbox_batch b;

	memset(&b, 0, sizeof(b));
	b.msgs = (uintptr_t)msgs;
	b.count = count;
	b.entry_size = entry_size;
	return sys_ioctl(fd, cmd, &b);
}

static inline int mb_batch(int fd, unsigned long cmd, void *msgs,
			   uint32_t count)
{
	return mb_batch_sized(fd, cmd, msgs, count,
			      cmd == IPCBOX_IOC_SENDV ?
			      sizeof(struct ipcbox_send) :
			      sizeof(struct ipcbox_recv));
}

/* depth of a mailbox, or -errno */
static inline long mb_depth(int fd)
{
	struct ipcbox_stat st;
	int ret = mb_stat(fd, &st);

	return ret < 0 ? ret : (long)st.depth;
}

/* Poll until a STAT counter reaches a value (a blocked peer is waiting). */
static inline bool mb_wait_waiters(int fd, unsigned int senders,
				   unsigned int receivers, long max_ms)
{
	struct ipcbox_stat st;
	int64_t end = now_ns() + max_ms * NSEC_PER_MSEC;

	do {
		if (mb_stat(fd, &st) == 0 && st.waiting_senders >= senders &&
		    st.waiting_receivers >= receivers)
			return true;
		sleep_ms(2);
	} while (now_ns() < end);
	return false;
}

/* A name unique to this process and call, to keep tests independent. */
static inline const char *test_name(char *buf, size_t sz, const char *tag)
{
	static int counter;

	snprintf(buf, sz, "kst-%s-%d-%d", tag, getpid(), counter++);
	return buf;
}

static inline int read_file_str(const char *path, char *buf, size_t sz)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sz - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return n;
}

static inline int write_file_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	if (n < 0)
		n = -errno;
	close(fd);
	return n < 0 ? n : 0;
}

/* Read an unsigned number from a file; returns 0 or -errno. */
static inline int read_file_u64(const char *path, unsigned long long *val)
{
	char buf[64], *end;
	int ret = read_file_str(path, buf, sizeof(buf));

	if (ret < 0)
		return ret;
	errno = 0;
	*val = strtoull(buf, &end, 0);
	if (errno || end == buf)
		return -EINVAL;
	return 0;
}

static inline int sysfs_attr_str(const char *name, const char *attr,
				 char *buf, size_t sz)
{
	char path[256];

	snprintf(path, sizeof(path), SYSFS_CLASS "/%s/%s", name, attr);
	return read_file_str(path, buf, sz);
}

static inline int sysfs_attr_u64(const char *name, const char *attr,
				 unsigned long long *val)
{
	char path[256];

	snprintf(path, sizeof(path), SYSFS_CLASS "/%s/%s", name, attr);
	return read_file_u64(path, val);
}

static inline int param_get(const char *param, unsigned long long *val)
{
	char path[256];

	snprintf(path, sizeof(path), SYSFS_PARAMS "/%s", param);
	return read_file_u64(path, val);
}

static inline int param_set(const char *param, unsigned long long val)
{
	char path[256], buf[32];

	snprintf(path, sizeof(path), SYSFS_PARAMS "/%s", param);
	snprintf(buf, sizeof(buf), "%llu", val);
	return write_file_str(path, buf);
}

/*
 * Read the module parameters @names[0..n-1] into @vals, as a fixture does
 * before it changes them: -1, or the index of one that could not be read.
 */
static inline int params_save(const char *const *names, unsigned int n,
			      unsigned long long *vals)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (param_get(names[i], &vals[i]))
			return i;
	return -1;
}

/* Write them back: -1, or the index of the last that could not be. */
static inline int params_restore(const char *const *names, unsigned int n,
				 const unsigned long long *vals)
{
	unsigned int i;
	int bad = -1;

	for (i = 0; i < n; i++)
		if (param_set(names[i], vals[i]))
			bad = i;
	return bad;
}

static inline int module_refcnt(void)
{
	unsigned long long v;

	if (read_file_u64(SYSFS_REFCNT, &v))
		return -1;
	return (int)v;
}

static inline bool path_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static inline void dev_path(char *buf, size_t sz, const char *name)
{
	snprintf(buf, sz, IPCBOX_DEV_DIR "/%s", name);
}

/* open(2) of a named mailbox's node: the fd, or -errno (errno set too). */
static inline int mb_open(const char *name, int flags)
{
	char path[128];
	int fd;

	dev_path(path, sizeof(path), name);
	fd = open(path, flags);
	return fd < 0 ? -errno : fd;
}

static inline void sysfs_dir(char *buf, size_t sz, const char *name)
{
	snprintf(buf, sz, SYSFS_CLASS "/%s", name);
}

/*
 * Drop to @uid/@gid (no supplementary groups) in a child and run fn(arg)
 * there. Returns fn's return value (0..255), 254 when the child could not
 * switch, 255 when it could not start or died.
 */
static inline int run_as_ids(uid_t uid, gid_t gid, int (*fn)(void *),
			     void *arg)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return 255;
	if (pid == 0) {
		if (setgroups(0, NULL) || setresgid(gid, gid, gid) ||
		    setresuid(uid, uid, uid))
			_exit(254);
		_exit(fn(arg) & 0xff);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return 255;
	return WEXITSTATUS(status);
}

/* run_as_ids() as TEST_UID/TEST_GID. */
static inline int run_as_user(int (*fn)(void *), void *arg)
{
	return run_as_ids(TEST_UID, TEST_GID, fn, arg);
}

/*
 * For run_as_ids() and the like: open the node @arg each way. Bits: 1
 * O_RDONLY opened, 2 O_WRONLY opened, 4 O_RDWR opened, 64 an errno other
 * than EACCES.
 */
static inline int try_opens_path(void *arg)
{
	static const int modes[] = { O_RDONLY, O_WRONLY, O_RDWR };
	const char *path = arg;
	int i, fd, ret = 0;

	for (i = 0; i < 3; i++) {
		fd = open(path, modes[i] | O_CLOEXEC);
		if (fd >= 0) {
			ret |= 1 << i;
			close(fd);
		} else if (errno != EACCES) {
			ret |= 64;
		}
	}
	return ret;
}

/*
 * For run_as_user() and the like: UNLINK of the name @arg, as the child's
 * ids allow. Its errno (0 when it worked), 200 without the control node.
 */
static inline int unlink_named(void *arg)
{
	int ctl = ctl_open(), ret;

	if (ctl < 0)
		return 200;
	ret = mb_unlink(ctl, arg);
	close(ctl);
	return ret < 0 ? -ret : 0;
}

/*
 * For run_as_user() and the like: a 0600 mailbox named @arg (capacity 2,
 * 64-byte messages), the child's own. Its errno (0 when made), 200
 * without the control node.
 */
static inline int create_named_0600(void *arg)
{
	int ctl = ctl_open(), fd;

	if (ctl < 0)
		return 200;
	fd = mb_create(ctl, arg, 2, 64, 0600, 0);
	return fd < 0 ? -fd : 0;
}

static inline int wait_child(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (!WIFEXITED(status))
		return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	return WEXITSTATUS(status);
}

/*
 * Read @len bytes from a pipe, waiting at most @timeout_ms for each part:
 * @len, or -ETIMEDOUT, -EPIPE (the writer is gone) or -errno.
 */
static inline ssize_t read_full(int fd, void *buf, size_t len, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		if (poll(&pfd, 1, timeout_ms) != 1)
			return -ETIMEDOUT;
		n = read(fd, (char *)buf + got, len - got);
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		got += n;
	}
	return got;
}

/* SIGUSR1 handler for the tests that interrupt blocked calls. */
static volatile sig_atomic_t usr1_handled;

static inline void usr1_counter(int sig)
{
	(void)sig;
	usr1_handled++;
}

/* Catch SIGUSR1 with sa_flags (0 or SA_RESTART); resets the count. */
static inline int catch_usr1(int sa_flags)
{
	struct sigaction sa = { .sa_handler = usr1_counter, .sa_flags = sa_flags };

	usr1_handled = 0;
	sigemptyset(&sa.sa_mask);
	return sigaction(SIGUSR1, &sa, NULL);
}

/*
 * A background operation run by a thread after a delay, so a test can
 * block in the main thread and have the peer act while it waits.
 */
enum bg_kind {
	BG_SEND,
	BG_RECV,
	BG_WRITE,
	BG_READ,
	BG_SHUTDOWN,
	BG_SIGNAL,
};

struct bg_op {
	pthread_t thread;
	enum bg_kind kind;
	int fd;
	long delay_ms;
	/* SEND/WRITE payload or RECV/READ buffer */
	char buf[512];
	size_t len;
	/* RECV/READ: when set, into this buffer of rsize bytes instead */
	void *rbuf;
	size_t rsize;
	uint32_t flags;
	int64_t timeout;
	uint32_t prio;
	uint64_t tag;
	/* SIGNAL: thread and signal to send */
	pthread_t target;
	int sig;
	/* results */
	int ret;
	int64_t t_start;
	int64_t t_done;
	pid_t tid;
	uint64_t seq;
	struct ipcbox_msg_info info;
};

static inline void *bg_thread(void *arg)
{
	struct bg_op *op = arg;

	op->tid = test_gettid();
	if (op->delay_ms)
		sleep_ms(op->delay_ms);
	op->t_start = now_ns();
	switch (op->kind) {
	case BG_SEND:
		op->ret = mb_send_full(op->fd, op->buf, op->len, op->flags,
				       op->timeout, op->prio, op->tag, &op->seq);
		break;
	case BG_RECV:
		op->ret = mb_recv_full(op->fd, op->rbuf ? op->rbuf : op->buf,
				       op->rbuf ? op->rsize : sizeof(op->buf),
				       op->flags, op->timeout, 0, 0, &op->info);
		break;
	case BG_WRITE:
		op->ret = write(op->fd, op->buf, op->len);
		if (op->ret < 0)
			op->ret = -errno;
		break;
	case BG_READ:
		op->ret = read(op->fd, op->rbuf ? op->rbuf : op->buf,
			       op->rbuf ? op->rsize : sizeof(op->buf));
		if (op->ret < 0)
			op->ret = -errno;
		break;
	case BG_SHUTDOWN:
		op->ret = mb_shutdown(op->fd);
		break;
	case BG_SIGNAL:
		op->ret = pthread_kill(op->target, op->sig) ? -1 : 0;
		break;
	}
	op->t_done = now_ns();
	return NULL;
}

static inline void bg_init(struct bg_op *op, enum bg_kind kind, int fd,
			   long delay_ms)
{
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	op->fd = fd;
	op->delay_ms = delay_ms;
	op->timeout = IPCBOX_TIMEOUT_INFINITE;
	op->ret = INT_MIN;
}

static inline int bg_start(struct bg_op *op)
{
	return pthread_create(&op->thread, NULL, bg_thread, op) ? -1 : 0;
}

static inline void bg_join(struct bg_op *op)
{
	pthread_join(op->thread, NULL);
}

static inline void bg_send_str(struct bg_op *op, int fd, long delay_ms,
			       const char *s)
{
	bg_init(op, BG_SEND, fd, delay_ms);
	op->len = strlen(s);
	memcpy(op->buf, s, op->len);
}

/*
 * userfaultfd(2), its API handshake done: the fd, or -errno. Non-blocking:
 * poll() on a blocking userfaultfd reports POLLERR at once, so waiting for
 * a fault with a timeout needs O_NONBLOCK.
 */
static inline int uffd_open(void)
{
	struct uffdio_api api = { .api = UFFD_API };
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return -errno;
	if (ioctl(fd, UFFDIO_API, &api)) {
		close(fd);
		return -errno;
	}
	return fd;
}

/*
 * @len bytes of fresh memory whose pages are missing until the test says
 * otherwise: a copy into them stops at the first byte and @uffd reports
 * the fault, until UFFDIO_COPY or UFFDIO_ZEROPAGE fills the page or
 * UFFDIO_WAKE retries the copy. MAP_FAILED (errno set) on failure.
 */
static inline void *uffd_area(int uffd, size_t len)
{
	struct uffdio_register reg;
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int err;

	if (p == MAP_FAILED)
		return p;
	memset(&reg, 0, sizeof(reg));
	reg.range.start = (uintptr_t)p;
	reg.range.len = len;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	if (ioctl(uffd, UFFDIO_REGISTER, &reg)) {
		err = errno;
		munmap(p, len);
		errno = err;
		return MAP_FAILED;
	}
	return p;
}

/* The stalled copy's fault, reported on @uffd within max_ms (-1: ever). */
static inline bool uffd_fault_seen(int uffd, int max_ms)
{
	struct pollfd pfd = { .fd = uffd, .events = POLLIN };
	struct uffd_msg m;

	if (poll(&pfd, 1, max_ms) != 1)
		return false;
	return read(uffd, &m, sizeof(m)) == sizeof(m) &&
	       m.event == UFFD_EVENT_PAGEFAULT;
}

static inline void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

#endif /* IPCBOX_TEST_H */
