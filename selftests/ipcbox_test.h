/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the ipcbox selftests: thin wrappers around the ioctls
 * that return 0/length or -errno, timing, sysfs and module parameter
 * access, a second-uid runner and a background-operation thread.
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

static inline int ipcbox_get_info(int ctl, struct ipcbox_info *info)
{
	memset(info, 0, sizeof(*info));
	return sys_ioctl(ctl, IPCBOX_IOC_INFO, info);
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

/* Returns the length or -errno; *info (if given) gets the message info. */
static inline int mb_recv_full(int fd, void *buf, size_t size, uint32_t flags,
			       int64_t timeout, pid_t fpid, uint64_t ftag,
			       struct ipcbox_msg_info *info)
{
	struct ipcbox_recv r;
	int ret;

	recv_args(&r, buf, size, flags, timeout);
	r.filter_pid = fpid;
	r.filter_tag = ftag;
	ret = sys_ioctl(fd, IPCBOX_IOC_RECV, &r);
	if (info)
		*info = r.info;
	return ret;
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
	int ret;

	memset(&c, 0, sizeof(c));
	c.buf = (uintptr_t)buf;
	c.len = len;
	c.timeout_ns = timeout;
	c.tag = tag;
	c.reply_buf = (uintptr_t)rbuf;
	c.reply_size = rsize;
	ret = sys_ioctl(fd, IPCBOX_IOC_CALL, &c);
	if (info)
		*info = c.reply_info;
	return ret;
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

/* REPLY_RECV: returns what the receive returns; *rerr gets reply_error. */
static inline int mb_reply_recv(int fd, uint64_t token, const void *rbuf,
				size_t rlen, void *buf, size_t size,
				int64_t timeout, int *rerr,
				struct ipcbox_msg_info *info)
{
	struct ipcbox_reply_recv a;
	int ret;

	memset(&a, 0, sizeof(a));
	a.reply.token = token;
	a.reply.buf = (uintptr_t)rbuf;
	a.reply.len = rlen;
	recv_args(&a.recv, buf, size, 0, timeout);
	ret = sys_ioctl(fd, IPCBOX_IOC_REPLY_RECV, &a);
	if (rerr)
		*rerr = a.reply_error;
	if (info)
		*info = a.recv.info;
	return ret;
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

static inline void sysfs_dir(char *buf, size_t sz, const char *name)
{
	snprintf(buf, sz, SYSFS_CLASS "/%s", name);
}

/*
 * Drop to TEST_UID/TEST_GID in a child and run fn(arg) there. Returns fn's
 * return value (0..255), or 255 when the child could not switch or died.
 */
static inline int run_as_user(int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return 255;
	if (pid == 0) {
		if (setgroups(0, NULL) || setresgid(TEST_GID, TEST_GID, TEST_GID) ||
		    setresuid(TEST_UID, TEST_UID, TEST_UID))
			_exit(254);
		_exit(fn(arg) & 0xff);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return 255;
	return WEXITSTATUS(status);
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

static inline void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

#endif /* IPCBOX_TEST_H */
