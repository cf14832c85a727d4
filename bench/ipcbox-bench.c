// SPDX-License-Identifier: GPL-2.0
/*
 * ipcbox-bench: ipcbox side by side with the classic Linux IPC mechanisms.
 *
 * One program, one backend per mechanism, all run in the same boot and
 * interleaved (A B C ... A B C ...) so that drift of the machine hits
 * every backend alike. Results are ratios first: a lone absolute time
 * from a virtual machine means little.
 *
 * Scenarios:
 *   rtt   round-trip latency, one message each way over two channels
 *         (ipcbox-call: one CALL / REPLY_RECV pair over one mailbox)
 *   tput  one-way throughput, one producer and one consumer; at 64 B
 *         capacity 64 (the batching figure) also ipcbox-batch moving 1, 8
 *         or 64 messages per SENDV/RECVV call
 *   mpmc  P producers and C consumers on one channel (ipcbox-batch too)
 * each with the processes pinned on one vCPU and, separately, on two.
 * --memory measures slab memory of empty mailboxes and queued messages.
 *
 * Output: CSV rows on the file given by --csv (default stdout) and a
 * table with each figure's ratio to pipe and to POSIX mq on stdout.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mqueue.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include <linux/ipcbox.h>
#include "libipcbox.h"

#define MAX_PROCS	8
#define MAX_BACKENDS	16
#define MAX_ROWS	4096
#define MAX_RUNS	32
#define MAX_BATCH	64

/* ------------------------------------------------------------------ */
/* Channel: one direction of messages between processes.              */

struct chan_cfg {
	size_t msg_size;	/* every message has exactly this size */
	unsigned int capacity;	/* ipcbox semantics: 0 = rendezvous */
};

/* Shared-memory ring for the eventfd + shm floor (lives in MAP_SHARED). */
struct ring {
	atomic_int lock;
	unsigned int slots;
	size_t slot_size;
	unsigned long head, tail;	/* under @lock */
	unsigned int wait_send, wait_recv;	/* under @lock */
	char data[];
};

struct chan {
	const struct backend *be;
	struct chan_cfg cfg;
	int fd[2];		/* pipe/socket ends, or fd[0] for the rest */
	mqd_t mq;
	char mq_name[64];
	int msqid;
	struct ring *ring;
	size_t ring_len;
	int ev_space, ev_items;	/* EFD_SEMAPHORE eventfds of the ring */
	void *sysv_buf;
	uint64_t token;		/* ipcbox-call server: request to answer */
	struct ipcbox_send *sv;	/* ipcbox-batch: MAX_BATCH requests */
	struct ipcbox_recv *rv;
	char note[96];		/* how the capacity was mapped */
};

enum scen { RTT, TPUT, MPMC };

static const char *const scen_names[] = { "rtt", "tput", "mpmc" };

/* Per-process counters, collected in shared memory. */
struct proc_stats {
	unsigned long syscalls;
	unsigned long msgs;
	unsigned long bad;
	double t_end;
};

static __thread struct proc_stats *cur_stats;

static inline void count_sys(unsigned long n)
{
	if (cur_stats)
		cur_stats->syscalls += n;
}

struct backend {
	const char *name;
	const char *desc;
	uint64_t need_feature;	/* IPCBOX_FEAT_* the module must report */
	int ipcbox;		/* needs /dev/ipcbox/control */
	int rw;			/* ipcbox via write/read rather than ioctls */
	int sync;		/* ipcbox SEND_SYNC */
	long fixed_capacity;	/* -1: use the scenario's; else forced */
	unsigned int scens;	/* 1 << enum scen it runs in; 0: all */
	int (*open)(struct chan *c);
	int (*send)(struct chan *c, const void *buf);
	int (*recv)(struct chan *c, void *buf);
	void (*close)(struct chan *c);
	/*
	 * Round trip in one call each side (ipcbox-call): call() sends the
	 * request and receives the reply into @reply; serve() answers the
	 * request in hand (if any) with @buf and receives the next into
	 * @buf; serve_end() answers the last one.
	 */
	int (*call)(struct chan *c, const void *req, void *reply);
	int (*serve)(struct chan *c, void *buf);
	int (*serve_end)(struct chan *c, const void *buf);
	/*
	 * Batches (ipcbox-batch): sendv() sends @n messages laid out one
	 * after the other in @bufs; recvv() receives 1..@max of them and
	 * returns how many, or -1.
	 */
	int (*sendv)(struct chan *c, const void *bufs, int n);
	int (*recvv)(struct chan *c, void *bufs, int max);
	const char *skip;	/* set at start-up when unavailable */
};

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "ipcbox-bench: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Full-length read/write for stream ends: messages are whole on return. */
static int xread(int fd, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r = read(fd, (char *)buf + done, len - done);

		count_sys(1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		done += r;
	}
	return 0;
}

static int xwrite(int fd, const void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r = write(fd, (const char *)buf + done, len - done);

		count_sys(1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		done += r;
	}
	return 0;
}

/* ---- ipcbox -------------------------------------------------------- */

static void close_fds(struct chan *c);

static int ipcbox_ctl = -1;
static struct ipcbox_info ipcbox_inf;

static int ipcbox_open_chan(struct chan *c)
{
	struct ipcbox_create cr;
	int fd;

	memset(&cr, 0, sizeof(cr));
	cr.capacity = c->cfg.capacity;
	cr.msg_size_max = c->cfg.msg_size;
	cr.flags = IPCBOX_CREATE_CLOEXEC;
	fd = ioctl(ipcbox_ctl, IPCBOX_IOC_CREATE, &cr);
	if (fd < 0)
		return -errno;
	c->fd[0] = fd;
	snprintf(c->note, sizeof(c->note), "capacity %u%s", c->cfg.capacity,
		 c->be->sync ? ", SYNC sends" : "");
	return 0;
}

static int ipcbox_send_chan(struct chan *c, const void *buf)
{
	struct ipcbox_send s;

	if (c->be->rw)
		return xwrite(c->fd[0], buf, c->cfg.msg_size);
	memset(&s, 0, sizeof(s));
	s.buf = (uintptr_t)buf;
	s.len = c->cfg.msg_size;
	s.timeout_ns = IPCBOX_TIMEOUT_INFINITE;
	s.flags = c->be->sync ? IPCBOX_SEND_SYNC : 0;
	for (;;) {
		int r = ioctl(c->fd[0], IPCBOX_IOC_SEND, &s);

		count_sys(1);
		if (r >= 0)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

static int ipcbox_recv_chan(struct chan *c, void *buf)
{
	struct ipcbox_recv rv;

	if (c->be->rw) {
		for (;;) {
			ssize_t r = read(c->fd[0], buf, c->cfg.msg_size);

			count_sys(1);
			if (r == (ssize_t)c->cfg.msg_size)
				return 0;
			if (r < 0 && errno == EINTR)
				continue;
			return -1;
		}
	}
	memset(&rv, 0, sizeof(rv));
	rv.buf = (uintptr_t)buf;
	rv.size = c->cfg.msg_size;
	rv.timeout_ns = IPCBOX_TIMEOUT_INFINITE;
	for (;;) {
		int r = ioctl(c->fd[0], IPCBOX_IOC_RECV, &rv);

		count_sys(1);
		if (r == (int)c->cfg.msg_size)
			return 0;
		if (r < 0 && errno == EINTR)
			continue;
		return -1;
	}
}

/* ---- ipcbox-call: CALL on the client, REPLY_RECV on the server ------- */

static int ipcbox_call_chan(struct chan *c, const void *req, void *reply)
{
	for (;;) {
		int r = ipcbox_call(c->fd[0], req, c->cfg.msg_size, reply,
				    c->cfg.msg_size, NULL, NULL);

		count_sys(1);
		if (r == (int)c->cfg.msg_size)
			return 0;
		if (r == -EINTR)
			continue;
		errno = r < 0 ? -r : EBADMSG;
		return -1;
	}
}

static int ipcbox_serve_chan(struct chan *c, void *buf)
{
	struct ipcbox_msg_info info;
	int err = 0;

	for (;;) {
		/* The reply is copied in before the next request lands in @buf. */
		int r = ipcbox_reply_recv(c->fd[0], c->token, buf,
					  c->cfg.msg_size, &err, buf,
					  c->cfg.msg_size, NULL, &info);

		count_sys(1);
		if (err) {
			errno = -err;
			return -1;
		}
		if (r == -EINTR) {
			c->token = 0;	/* the reply, if any, went out */
			continue;
		}
		if (r != (int)c->cfg.msg_size || !info.token) {
			errno = r < 0 ? -r : EBADMSG;
			return -1;
		}
		c->token = info.token;
		return 0;
	}
}

static int ipcbox_serve_end_chan(struct chan *c, const void *buf)
{
	int r = ipcbox_reply(c->fd[0], c->token, buf, c->cfg.msg_size);

	count_sys(1);
	c->token = 0;
	if (r) {
		errno = -r;
		return -1;
	}
	return 0;
}

/* ---- ipcbox-batch: SENDV / RECVV -------------------------------------- */

static int ipcbox_batch_open_chan(struct chan *c)
{
	int r = ipcbox_open_chan(c);

	if (r)
		return r;
	c->sv = calloc(MAX_BATCH, sizeof(*c->sv));
	c->rv = calloc(MAX_BATCH, sizeof(*c->rv));
	if (!c->sv || !c->rv)
		return -ENOMEM;
	return 0;
}

static int ipcbox_sendv_chan(struct chan *c, const void *bufs, int n)
{
	int done = 0;

	memset(c->sv, 0, n * sizeof(*c->sv));
	for (int i = 0; i < n; i++) {
		c->sv[i].buf = (uintptr_t)bufs + (size_t)i * c->cfg.msg_size;
		c->sv[i].len = c->cfg.msg_size;
		c->sv[i].timeout_ns = IPCBOX_TIMEOUT_INFINITE;
	}
	/* Like sendmmsg(2), a call may stop short (a signal): send the rest. */
	while (done < n) {
		int r = ipcbox_sendv(c->fd[0], c->sv + done, n - done);

		count_sys(1);
		if (r == -EINTR)
			continue;
		if (r <= 0) {
			errno = r < 0 ? -r : EIO;
			return -1;
		}
		done += r;
	}
	return 0;
}

static int ipcbox_recvv_chan(struct chan *c, void *bufs, int max)
{
	memset(c->rv, 0, max * sizeof(*c->rv));
	for (int i = 0; i < max; i++) {
		c->rv[i].buf = (uintptr_t)bufs + (size_t)i * c->cfg.msg_size;
		c->rv[i].size = c->cfg.msg_size;
		c->rv[i].timeout_ns = IPCBOX_TIMEOUT_INFINITE;
	}
	for (;;) {
		int r = ipcbox_recvv(c->fd[0], c->rv, max);

		count_sys(1);
		if (r == -EINTR)
			continue;
		if (r <= 0) {
			errno = r < 0 ? -r : EIO;
			return -1;
		}
		for (int i = 0; i < r; i++)
			if (c->rv[i].info.len != c->cfg.msg_size) {
				errno = EBADMSG;
				return -1;
			}
		return r;
	}
}

static void ipcbox_batch_close_chan(struct chan *c)
{
	close_fds(c);
	free(c->sv);
	free(c->rv);
}

static void close_fds(struct chan *c)
{
	if (c->fd[0] >= 0)
		close(c->fd[0]);
	if (c->fd[1] >= 0)
		close(c->fd[1]);
}

/* ---- pipe ---------------------------------------------------------- */

static int pipe_open_chan(struct chan *c)
{
	long want = (long)c->cfg.capacity * c->cfg.msg_size;
	int got;

	if (pipe2(c->fd, O_CLOEXEC))
		return -errno;
	if (want < 4096)
		want = 4096;
	got = fcntl(c->fd[1], F_SETPIPE_SZ, want);
	if (got < 0)
		got = fcntl(c->fd[1], F_GETPIPE_SZ);
	snprintf(c->note, sizeof(c->note), "pipe size %d B%s", got,
		 want > (long)c->cfg.capacity * (long)c->cfg.msg_size ?
		 " (minimum one page)" : "");
	return 0;
}

static int stream_send(struct chan *c, const void *buf)
{
	return xwrite(c->fd[1], buf, c->cfg.msg_size);
}

static int stream_recv(struct chan *c, void *buf)
{
	return xread(c->fd[0], buf, c->cfg.msg_size);
}

/* ---- UNIX seqpacket socketpair --------------------------------------- */

static int seqpacket_open_chan(struct chan *c)
{
	/* Each queued skb costs its truesize, ~ payload + 768 B of overhead. */
	int want = c->cfg.capacity * (int)(c->cfg.msg_size + 768);
	int got;
	socklen_t sl = sizeof(got);

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, c->fd))
		return -errno;
	if (want < 1)
		want = 1;	/* the kernel raises it to its minimum */
	/* Datagrams must fit the buffer, else sends fail with EMSGSIZE. */
	if (want < (int)c->cfg.msg_size + 768)
		want = c->cfg.msg_size + 768;
	setsockopt(c->fd[1], SOL_SOCKET, SO_SNDBUF, &want, sizeof(want));
	setsockopt(c->fd[0], SOL_SOCKET, SO_RCVBUF, &want, sizeof(want));
	getsockopt(c->fd[1], SOL_SOCKET, SO_SNDBUF, &got, &sl);
	snprintf(c->note, sizeof(c->note), "SO_SNDBUF %d B (~%d msgs)", got,
		 got / (int)(c->cfg.msg_size + 768));
	return 0;
}

static int seqpacket_send(struct chan *c, const void *buf)
{
	for (;;) {
		ssize_t r = send(c->fd[1], buf, c->cfg.msg_size, 0);

		count_sys(1);
		if (r == (ssize_t)c->cfg.msg_size)
			return 0;
		if (r < 0 && errno == EINTR)
			continue;
		return -1;
	}
}

static int seqpacket_recv(struct chan *c, void *buf)
{
	for (;;) {
		ssize_t r = recv(c->fd[0], buf, c->cfg.msg_size, 0);

		count_sys(1);
		if (r == (ssize_t)c->cfg.msg_size)
			return 0;
		if (r < 0 && errno == EINTR)
			continue;
		return -1;
	}
}

/* ---- POSIX mq ------------------------------------------------------ */

static int mq_seq;

static int mq_open_chan(struct chan *c)
{
	struct mq_attr a = { 0 };

	a.mq_maxmsg = c->cfg.capacity ? c->cfg.capacity : 1;
	a.mq_msgsize = c->cfg.msg_size;
	snprintf(c->mq_name, sizeof(c->mq_name), "/ipcbox-bench-%d-%d",
		 getpid(), mq_seq++);
	c->mq = mq_open(c->mq_name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
			0600, &a);
	if (c->mq == (mqd_t)-1)
		return -errno;
	mq_unlink(c->mq_name);
	snprintf(c->note, sizeof(c->note), "mq_maxmsg %ld%s", a.mq_maxmsg,
		 c->cfg.capacity ? "" : " (no rendezvous: 1)");
	return 0;
}

static int mq_send_chan(struct chan *c, const void *buf)
{
	for (;;) {
		count_sys(1);
		if (!mq_send(c->mq, buf, c->cfg.msg_size, 0))
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

static int mq_recv_chan(struct chan *c, void *buf)
{
	for (;;) {
		ssize_t r = mq_receive(c->mq, buf, c->cfg.msg_size, NULL);

		count_sys(1);
		if (r == (ssize_t)c->cfg.msg_size)
			return 0;
		if (r < 0 && errno == EINTR)
			continue;
		return -1;
	}
}

static void mq_close_chan(struct chan *c)
{
	mq_close(c->mq);
}

/* ---- SysV msg ------------------------------------------------------ */

struct sysv_msg {
	long mtype;
	char mtext[];
};

static int sysv_open_chan(struct chan *c)
{
	struct msqid_ds ds;
	unsigned long qbytes = (unsigned long)c->cfg.capacity * c->cfg.msg_size;

	FILE *f = fopen("/proc/sys/kernel/msgmax", "r");
	long msgmax = 8192;

	if (f) {
		if (fscanf(f, "%ld", &msgmax) != 1)
			msgmax = 8192;
		fclose(f);
	}
	if ((long)c->cfg.msg_size > msgmax)
		return -EMSGSIZE;	/* raise kernel.msgmax (the guest does) */
	c->msqid = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	if (c->msqid < 0)
		return -errno;
	if (qbytes < c->cfg.msg_size)
		qbytes = c->cfg.msg_size;
	if (!msgctl(c->msqid, IPC_STAT, &ds)) {
		ds.msg_qbytes = qbytes;
		msgctl(c->msqid, IPC_SET, &ds);
		msgctl(c->msqid, IPC_STAT, &ds);
	}
	snprintf(c->note, sizeof(c->note), "msg_qbytes %lu B (%lu msgs)%s",
		 (unsigned long)ds.msg_qbytes,
		 (unsigned long)ds.msg_qbytes / c->cfg.msg_size,
		 c->cfg.capacity ? "" : " (no rendezvous)");
	return 0;
}

static int sysv_send_chan(struct chan *c, const void *buf)
{
	struct sysv_msg *m = c->sysv_buf;

	/* The copy into the mtype-prefixed buffer is part of the API's cost. */
	m->mtype = 1;
	memcpy(m->mtext, buf, c->cfg.msg_size);
	for (;;) {
		count_sys(1);
		if (!msgsnd(c->msqid, m, c->cfg.msg_size, 0))
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

static int sysv_recv_chan(struct chan *c, void *buf)
{
	struct sysv_msg *m = c->sysv_buf;

	for (;;) {
		ssize_t r = msgrcv(c->msqid, m, c->cfg.msg_size, 0, 0);

		count_sys(1);
		if (r == (ssize_t)c->cfg.msg_size) {
			memcpy(buf, m->mtext, r);
			return 0;
		}
		if (r < 0 && errno == EINTR)
			continue;
		return -1;
	}
}

static void sysv_close_chan(struct chan *c)
{
	msgctl(c->msqid, IPC_RMID, NULL);
}

/* ---- eventfd + shared-memory ring (the floor) ----------------------- */

/*
 * A bounded ring in shared memory under a tiny spinlock. A process that
 * finds the ring full (empty) registers as a waiter under the lock and
 * sleeps on an EFD_SEMAPHORE eventfd; the other side posts one token per
 * registered waiter. Tokens persist, so no wakeup is lost. When nobody
 * waits no system call is made: this is the cost of the data movement
 * and the sleep/wake alone.
 */
static void ring_lock(struct ring *r)
{
	int spins = 0;

	while (atomic_exchange_explicit(&r->lock, 1, memory_order_acquire)) {
		if (++spins > 256) {
			sched_yield();	/* the holder may be preempted (1 vCPU) */
			count_sys(1);
			spins = 0;
		}
	}
}

static void ring_unlock(struct ring *r)
{
	atomic_store_explicit(&r->lock, 0, memory_order_release);
}

static void ev_wait(int fd)
{
	uint64_t v;

	while (read(fd, &v, sizeof(v)) < 0 && errno == EINTR)
		count_sys(1);
	count_sys(1);
}

static void ev_post(int fd)
{
	uint64_t v = 1;

	count_sys(1);
	if (write(fd, &v, sizeof(v)) != sizeof(v))
		die("eventfd write: %m");
}

static int ring_open_chan(struct chan *c)
{
	unsigned int slots = c->cfg.capacity ? c->cfg.capacity : 1;

	c->ring_len = sizeof(struct ring) + (size_t)slots * c->cfg.msg_size;
	c->ring = mmap(NULL, c->ring_len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (c->ring == MAP_FAILED)
		return -errno;
	c->ring->slots = slots;
	c->ring->slot_size = c->cfg.msg_size;
	c->ev_space = eventfd(0, EFD_SEMAPHORE | EFD_CLOEXEC);
	c->ev_items = eventfd(0, EFD_SEMAPHORE | EFD_CLOEXEC);
	if (c->ev_space < 0 || c->ev_items < 0)
		return -errno;
	snprintf(c->note, sizeof(c->note), "%u slots%s", slots,
		 c->cfg.capacity ? "" : " (no rendezvous: 1)");
	return 0;
}

static int ring_send(struct chan *c, const void *buf)
{
	struct ring *r = c->ring;
	int wake;

	ring_lock(r);
	while (r->head - r->tail == r->slots) {
		r->wait_send++;
		ring_unlock(r);
		ev_wait(c->ev_space);
		ring_lock(r);
	}
	memcpy(r->data + (r->head % r->slots) * r->slot_size, buf, r->slot_size);
	r->head++;
	wake = r->wait_recv > 0;
	if (wake)
		r->wait_recv--;
	ring_unlock(r);
	if (wake)
		ev_post(c->ev_items);
	return 0;
}

static int ring_recv(struct chan *c, void *buf)
{
	struct ring *r = c->ring;
	int wake;

	ring_lock(r);
	while (r->head == r->tail) {
		r->wait_recv++;
		ring_unlock(r);
		ev_wait(c->ev_items);
		ring_lock(r);
	}
	memcpy(buf, r->data + (r->tail % r->slots) * r->slot_size, r->slot_size);
	r->tail++;
	wake = r->wait_send > 0;
	if (wake)
		r->wait_send--;
	ring_unlock(r);
	if (wake)
		ev_post(c->ev_space);
	return 0;
}

static void ring_close_chan(struct chan *c)
{
	close(c->ev_space);
	close(c->ev_items);
	munmap(c->ring, c->ring_len);
}

/* ---- the backend table ----------------------------------------------- */

/*
 * ipcbox-call (one ioctl that sends a request and waits for the reply)
 * and ipcbox-batch (several messages per system call) have their rows
 * here; each is skipped with a note when the module's INFO features lack
 * its bit, or while its backend functions are not filled in.
 */
#ifdef IPCBOX_FEAT_CALL
#define BENCH_FEAT_CALL IPCBOX_FEAT_CALL
#else
#define BENCH_FEAT_CALL 0
#endif
#ifdef IPCBOX_FEAT_BATCH
#define BENCH_FEAT_BATCH IPCBOX_FEAT_BATCH
#else
#define BENCH_FEAT_BATCH 0
#endif

static struct backend backends[] = {
	{ .name = "ipcbox", .desc = "ipcbox SEND/RECV ioctls", .ipcbox = 1,
	  .fixed_capacity = -1, .open = ipcbox_open_chan,
	  .send = ipcbox_send_chan, .recv = ipcbox_recv_chan, .close = close_fds },
	{ .name = "ipcbox-rw", .desc = "ipcbox write(2)/read(2)", .ipcbox = 1,
	  .rw = 1, .fixed_capacity = -1, .open = ipcbox_open_chan,
	  .send = ipcbox_send_chan, .recv = ipcbox_recv_chan, .close = close_fds },
	{ .name = "ipcbox-rdv", .desc = "ipcbox capacity 0 (rendezvous)",
	  .ipcbox = 1, .need_feature = IPCBOX_FEAT_RENDEZVOUS,
	  .fixed_capacity = 0, .open = ipcbox_open_chan,
	  .send = ipcbox_send_chan, .recv = ipcbox_recv_chan, .close = close_fds },
	{ .name = "ipcbox-call",
	  .desc = "ipcbox CALL / REPLY_RECV (libipcbox), one mailbox",
	  .ipcbox = 1, .need_feature = BENCH_FEAT_CALL, .fixed_capacity = -1,
	  .scens = 1 << RTT, .open = ipcbox_open_chan, .call = ipcbox_call_chan,
	  .serve = ipcbox_serve_chan, .serve_end = ipcbox_serve_end_chan,
	  .close = close_fds },
	{ .name = "ipcbox-batch",
	  .desc = "ipcbox SENDV / RECVV (libipcbox), 1, 8 or 64 per call",
	  .ipcbox = 1, .need_feature = BENCH_FEAT_BATCH, .fixed_capacity = -1,
	  .scens = 1 << TPUT | 1 << MPMC, .open = ipcbox_batch_open_chan,
	  .sendv = ipcbox_sendv_chan, .recvv = ipcbox_recvv_chan,
	  .close = ipcbox_batch_close_chan },
	{ .name = "pipe", .desc = "pipe(2)", .fixed_capacity = -1,
	  .open = pipe_open_chan, .send = stream_send, .recv = stream_recv,
	  .close = close_fds },
	{ .name = "seqpacket", .desc = "UNIX SOCK_SEQPACKET socketpair",
	  .fixed_capacity = -1, .open = seqpacket_open_chan,
	  .send = seqpacket_send, .recv = seqpacket_recv, .close = close_fds },
	{ .name = "posix-mq", .desc = "POSIX mq_send/mq_receive",
	  .fixed_capacity = -1, .open = mq_open_chan, .send = mq_send_chan,
	  .recv = mq_recv_chan, .close = mq_close_chan },
	{ .name = "sysv-msg", .desc = "SysV msgsnd/msgrcv", .fixed_capacity = -1,
	  .open = sysv_open_chan, .send = sysv_send_chan, .recv = sysv_recv_chan,
	  .close = sysv_close_chan },
	{ .name = "shm-ring", .desc = "eventfd + shared-memory ring (floor)",
	  .fixed_capacity = -1, .open = ring_open_chan, .send = ring_send,
	  .recv = ring_recv, .close = ring_close_chan },
};

#define NR_BACKENDS ((int)(sizeof(backends) / sizeof(backends[0])))

static void probe_backends(void)
{
	int i;

	ipcbox_ctl = open(IPCBOX_CONTROL_PATH, O_RDWR | O_CLOEXEC);
	if (ipcbox_ctl >= 0 &&
	    ioctl(ipcbox_ctl, IPCBOX_IOC_INFO, &ipcbox_inf) < 0) {
		close(ipcbox_ctl);
		ipcbox_ctl = -1;
	}
	for (i = 0; i < NR_BACKENDS; i++) {
		struct backend *b = &backends[i];

		if (b->ipcbox && ipcbox_ctl < 0)
			b->skip = "no /dev/ipcbox/control (module not loaded)";
		else if (b->need_feature == 0 && !b->open)
			b->skip = "not in this ABI (no feature bit defined)";
		else if ((ipcbox_inf.features & b->need_feature) != b->need_feature)
			b->skip = "the module's INFO features lack it";
		else if (!b->open)
			b->skip = "the module offers it; this backend is not written yet";
	}
}

static int chan_open(struct chan *c, const struct backend *b,
		     const struct chan_cfg *cfg)
{
	int r;

	memset(c, 0, sizeof(*c));
	c->be = b;
	c->cfg = *cfg;
	if (b->fixed_capacity >= 0)
		c->cfg.capacity = b->fixed_capacity;
	c->fd[0] = c->fd[1] = -1;
	c->sysv_buf = malloc(sizeof(long) + cfg->msg_size);
	r = b->open(c);
	return r;
}

static void chan_close(struct chan *c)
{
	c->be->close(c);
	free(c->sysv_buf);
}

/* ------------------------------------------------------------------ */
/* Running one measurement                                            */

struct run_cfg {
	enum scen scen;
	int cpus;		/* 1: everyone on CPU 0; 2: producers 0, consumers 1 */
	size_t size;
	unsigned int capacity;
	int prod, cons;
	int batch;		/* ipcbox-batch: messages per call, else 0 */
	long iters;		/* round trips, or messages in all */
};

struct run_result {
	int ok;
	double secs;
	double syscalls_per_msg;
	double csw_per_msg;
	long msgs;
	char note[96];
	char err[96];
};

static int ncpus_online;
static int opt_runs = 5, opt_quick;
static const int batch_sizes[] = { 1, 8, 64 };
static double opt_target = 0.25;	/* seconds per measured run */

static void pin(int cpu)
{
	cpu_set_t set;

	if (cpu >= ncpus_online)
		cpu = ncpus_online - 1;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

struct shared {
	atomic_int ready;
	atomic_int go;
	double t_start;
	struct proc_stats st[MAX_PROCS];
};

static void wait_go(struct shared *sh)
{
	atomic_fetch_add(&sh->ready, 1);
	while (!atomic_load(&sh->go))
		sched_yield();
}

static void fill(char *buf, size_t n, unsigned long seq)
{
	memset(buf, 0, n < 64 ? n : 64);
	memcpy(buf, &seq, n < sizeof(seq) ? n : sizeof(seq));
}

/* The sequence number fill() put in a message, or -1 when too short. */
static long seq_of(const char *buf, size_t n)
{
	unsigned long seq;

	if (n < sizeof(seq))
		return -1;
	memcpy(&seq, buf, sizeof(seq));
	return (long)seq;
}

static int rtt_loop(struct proc_stats *st, const struct run_cfg *rc,
		    int producer, struct chan *a, struct chan *b, char *buf,
		    char *buf2)
{
	const struct backend *be = a->be;
	long i;

	for (i = 0; i < rc->iters; i++) {
		if (producer) {
			fill(buf, rc->size, i);
			if (be->call ? be->call(a, buf, buf2) :
			    be->send(a, buf) || be->recv(b, buf2))
				return -1;
			if (seq_of(buf2, rc->size) != (rc->size >= 8 ? i : -1)) {
				errno = EBADMSG;
				return -1;
			}
		} else {
			/* The server echoes what it got, as the reply. */
			if (be->serve ? be->serve(a, buf) :
			    be->recv(a, buf) || be->send(b, buf))
				return -1;
		}
		st->msgs++;
	}
	if (!producer && be->serve_end && be->serve_end(a, buf))
		return -1;
	return 0;
}

/* One-way: this process's share @n of the messages, checked in order. */
static int oneway_loop(struct proc_stats *st, const struct run_cfg *rc,
		       int producer, struct chan *a, char *buf, long n)
{
	const struct backend *be = a->be;
	int check = rc->prod == 1 && rc->size >= 8;
	long i = 0;

	while (i < n) {
		int k = 1, j;

		if (be->sendv) {
			k = rc->batch < n - i ? rc->batch : (int)(n - i);
			if (producer) {
				for (j = 0; j < k; j++)
					fill(buf + j * rc->size, rc->size, i + j);
				if (be->sendv(a, buf, k))
					return -1;
			} else {
				k = be->recvv(a, buf, k);
				if (k < 0)
					return -1;
			}
		} else if (producer) {
			fill(buf, rc->size, i);
			if (be->send(a, buf))
				return -1;
		} else if (be->recv(a, buf)) {
			return -1;
		}
		/* One producer: FIFO, so the consumer sees 0, 1, 2, ... */
		for (j = 0; check && !producer && j < k; j++)
			if (seq_of(buf + j * rc->size, rc->size) != i + j) {
				errno = EBADMSG;
				return -1;
			}
		i += k;
		st->msgs += k;
	}
	return 0;
}

static void child(struct shared *sh, int idx, const struct run_cfg *rc,
		  struct chan *a, struct chan *b)
{
	int nb = rc->batch > 1 ? rc->batch : 1;
	char *buf = malloc(rc->size * nb), *buf2 = malloc(rc->size);
	struct proc_stats *st = &sh->st[idx];
	int producer = idx < rc->prod;
	int r;

	cur_stats = st;
	sigprocmask(SIG_SETMASK, &(sigset_t){ 0 }, NULL);
	memset(buf, 0x5a, rc->size * nb);
	pin(rc->cpus == 1 ? 0 : (producer ? 0 : 1));
	wait_go(sh);

	if (rc->scen == RTT) {
		r = rtt_loop(st, rc, producer, a, b, buf, buf2);
	} else {
		int k = producer ? idx : idx - rc->prod;
		int nk = producer ? rc->prod : rc->cons;

		r = oneway_loop(st, rc, producer, a, buf,
				rc->iters / nk + (k < rc->iters % nk));
	}
	if (r)
		st->bad++;
	st->t_end = now();
	if (st->bad)
		fprintf(stderr, "ipcbox-bench: %s: %s: %m\n", a->be->name,
			producer ? "send" : "receive");
	_exit(st->bad ? 1 : 0);
}

static void run_one(const struct backend *be, const struct run_cfg *rc,
		    struct run_result *res)
{
	struct chan_cfg cfg = { .msg_size = rc->size, .capacity = rc->capacity };
	struct chan a, b;
	struct shared *sh;
	pid_t pids[MAX_PROCS];
	int nproc = rc->prod + rc->cons, i, failed = 0, r;
	unsigned long sys = 0, csw = 0;
	double t_end = 0;

	memset(res, 0, sizeof(*res));
	r = chan_open(&a, be, &cfg);
	if (r) {
		snprintf(res->err, sizeof(res->err), "open: %s", strerror(-r));
		return;
	}
	snprintf(res->note, sizeof(res->note), "%s", a.note);
	/* ipcbox-call carries the request and the reply over one mailbox. */
	if (rc->scen == RTT && !be->call) {
		r = chan_open(&b, be, &cfg);
		if (r) {
			snprintf(res->err, sizeof(res->err), "open: %s", strerror(-r));
			chan_close(&a);
			return;
		}
	}
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		die("mmap: %m");
	memset(sh, 0, sizeof(*sh));

	for (i = 0; i < nproc; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			die("fork: %m");
		if (!pids[i])
			child(sh, i, rc, &a, rc->scen == RTT && !be->call ? &b : NULL);
	}
	while (atomic_load(&sh->ready) < nproc)
		usleep(1000);
	sh->t_start = now();
	atomic_store(&sh->go, 1);
	/*
	 * Reap the children as they end; when one fails or the run overruns
	 * its deadline, kill the rest rather than leave a peer blocked.
	 */
	{
		sigset_t set;
		int left = nproc;
		double deadline = now() + (opt_quick ? 30 : 60 + 40 * opt_target);

		sigemptyset(&set);
		sigaddset(&set, SIGCHLD);
		while (left > 0) {
			struct timespec ts = { .tv_sec = 0, .tv_nsec = 200000000 };
			struct rusage ru;
			int status, k;
			pid_t p;

			while ((p = wait4(-1, &status, WNOHANG, &ru)) > 0) {
				for (k = 0; k < nproc && pids[k] != p; k++)
					;
				if (k == nproc)
					continue;
				pids[k] = 0;
				left--;
				if (!WIFEXITED(status) || WEXITSTATUS(status))
					failed = 1;
				csw += ru.ru_nvcsw + ru.ru_nivcsw;
				sys += sh->st[k].syscalls;
				if (sh->st[k].t_end > t_end)
					t_end = sh->st[k].t_end;
			}
			if (left && (failed || now() > deadline)) {
				if (!failed)
					snprintf(res->err, sizeof(res->err), "timed out");
				failed = 1;
				for (k = 0; k < nproc; k++)
					if (pids[k] > 0)
						kill(pids[k], SIGKILL);
			}
			if (left)
				sigtimedwait(&set, NULL, &ts);
		}
	}
	/* Every message is one send and one receive; RTT has two per trip. */
	res->msgs = rc->scen == RTT ? 2 * rc->iters : rc->iters;
	res->secs = t_end - sh->t_start;
	res->syscalls_per_msg = (double)sys / res->msgs;
	res->csw_per_msg = (double)csw / res->msgs;
	res->ok = !failed;
	if (failed && !res->err[0])
		snprintf(res->err, sizeof(res->err), "a process failed");
	munmap(sh, sizeof(*sh));
	chan_close(&a);
	if (rc->scen == RTT && !be->call)
		chan_close(&b);
}

/* ------------------------------------------------------------------ */
/* Scenario matrix, statistics and output                              */

struct row {
	char scen[8];
	int cpus;
	size_t size;
	long capacity;		/* -1: not applicable */
	int prod, cons;
	int batch;		/* ipcbox-batch: messages per call */
	const struct backend *be;
	const char *metric, *unit;
	int lower_better;
	int n;
	double v[MAX_RUNS];
	double sys[MAX_RUNS], csw[MAX_RUNS];
	char note[96];
	char err[96];
	double median, min, max, sys_med, csw_med;
};

static struct row rows[MAX_ROWS];
static int nrows;

static const char *opt_only;
static FILE *csv;
static int nfailed;	/* measurements that failed (not skipped) */

/* The backend's name, with the batch size for ipcbox-batch. */
static const char *row_label(const struct row *r)
{
	static char buf[4][32];
	static int k;
	char *b = buf[k++ % 4];

	if (r->batch)
		snprintf(b, sizeof(buf[0]), "%s/%d", r->be->name, r->batch);
	else
		snprintf(b, sizeof(buf[0]), "%s", r->be->name);
	return b;
}

static int dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(const double *v, int n)
{
	double t[MAX_RUNS];

	memcpy(t, v, n * sizeof(*v));
	qsort(t, n, sizeof(*t), dcmp);
	return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

static double metric_of(const struct run_cfg *rc, const struct run_result *r)
{
	if (rc->scen == RTT)
		return r->secs / rc->iters * 1e6;	/* us per round trip */
	if (rc->size >= 4096)
		return rc->iters * (double)rc->size / r->secs / (1 << 20);	/* MiB/s */
	return rc->iters / r->secs / 1e3;		/* kmsg/s */
}

static int backend_wanted(const struct backend *b)
{
	char list[256], *p, *save = NULL;

	if (!opt_only)
		return 1;
	snprintf(list, sizeof(list), "%s", opt_only);
	for (p = strtok_r(list, ",", &save); p; p = strtok_r(NULL, ",", &save))
		if (!strcmp(p, b->name))
			return 1;
	return 0;
}

/*
 * Measure one configuration on every backend, interleaved: a warm-up
 * round sizes each backend's iteration count for opt_target seconds,
 * then opt_runs rounds run the backends one after the other.
 */
static int backend_runs_in(const struct backend *b, enum scen scen,
			   const struct run_cfg *rc)
{
	if (b->scens && !(b->scens & 1u << scen))
		return 0;
	/* Fixed-capacity variants only add a row to the latency table. */
	if (scen != RTT && b->fixed_capacity >= 0)
		return 0;
	/* Batches: the 64 B capacity 64 throughput figure and mpmc. */
	if (b->sendv && scen == TPUT && (rc->size != 64 || rc->capacity != 64))
		return 0;
	return 1;
}

/*
 * Measure one configuration on every backend (ipcbox-batch once per
 * batch size), interleaved: a warm-up round sizes each entry's
 * iteration count for opt_target seconds, then opt_runs rounds run the
 * entries one after the other.
 */
static void measure(struct run_cfg base)
{
	struct row *rw[MAX_BACKENDS * 3];
	const struct backend *be[MAX_BACKENDS * 3];
	int batch[MAX_BACKENDS * 3];
	long iters[MAX_BACKENDS * 3];
	int i, run, n = 0;

	for (i = 0; i < NR_BACKENDS; i++) {
		const struct backend *b = &backends[i];
		int nbatch = b->sendv ? 3 : 1;

		if (!backend_wanted(b) || !backend_runs_in(b, base.scen, &base))
			continue;
		for (int k = 0; k < nbatch; k++) {
			struct row *r;

			if (nrows >= MAX_ROWS)
				die("too many rows");
			be[n] = b;
			batch[n] = b->sendv ? batch_sizes[k] : 0;
			r = rw[n++] = &rows[nrows++];
			memset(r, 0, sizeof(*r));
			snprintf(r->scen, sizeof(r->scen), "%s", scen_names[base.scen]);
			r->cpus = base.cpus;
			r->size = base.size;
			r->capacity = b->fixed_capacity >= 0 ? b->fixed_capacity :
				      base.scen == RTT ? 1 : base.capacity;
			r->prod = base.prod;
			r->cons = base.cons;
			r->batch = batch[n - 1];
			r->be = b;
			r->metric = base.scen == RTT ? "round_trip" : "throughput";
			r->unit = base.scen == RTT ? "us" : base.size >= 4096 ? "MiB/s" : "kmsg/s";
			r->lower_better = base.scen == RTT;
			if (b->skip)
				snprintf(r->err, sizeof(r->err), "skipped: %s", b->skip);
		}
	}

	/* Warm-up and calibration. */
	for (i = 0; i < n; i++) {
		struct run_cfg rc = base;
		struct run_result res;
		long it = opt_quick ? 20 : 50;

		if (be[i]->skip)
			continue;
		rc.capacity = rw[i]->capacity;
		rc.batch = batch[i];
		if (opt_quick && rc.batch > it)
			it = rc.batch * 2;
		for (;;) {
			rc.iters = it;
			run_one(be[i], &rc, &res);
			if (!res.ok)
				break;
			if (opt_quick || res.secs > opt_target / 4 || it > 10000000)
				break;
			it *= res.secs > 0.001 ? 4 : 16;
		}
		if (!res.ok) {
			snprintf(rw[i]->err, sizeof(rw[i]->err), "failed: %s", res.err);
			continue;
		}
		iters[i] = opt_quick ? it :
			   (long)(it * opt_target / (res.secs > 1e-6 ? res.secs : 1e-6));
		if (iters[i] < 20)
			iters[i] = 20;
		if (iters[i] > 20000000)
			iters[i] = 20000000;
		if (base.prod > 1 || base.cons > 1)
			iters[i] -= iters[i] % (base.prod * base.cons);
		snprintf(rw[i]->note, sizeof(rw[i]->note), "%s", res.note);
	}

	for (run = 0; run < opt_runs; run++) {
		for (i = 0; i < n; i++) {
			struct run_cfg rc = base;
			struct run_result res;
			struct row *r = rw[i];

			if (r->err[0])
				continue;
			rc.capacity = r->capacity;
			rc.batch = batch[i];
			rc.iters = iters[i];
			run_one(be[i], &rc, &res);
			if (!res.ok) {
				snprintf(r->err, sizeof(r->err), "failed: %s", res.err);
				continue;
			}
			r->v[r->n] = metric_of(&rc, &res);
			r->sys[r->n] = res.syscalls_per_msg;
			r->csw[r->n] = res.csw_per_msg;
			r->n++;
		}
	}

	for (i = 0; i < n; i++) {
		struct row *r = rw[i];
		int k;

		if (!r->n)
			continue;
		r->median = median(r->v, r->n);
		r->sys_med = median(r->sys, r->n);
		r->csw_med = median(r->csw, r->n);
		r->min = r->max = r->v[0];
		for (k = 1; k < r->n; k++) {
			if (r->v[k] < r->min)
				r->min = r->v[k];
			if (r->v[k] > r->max)
				r->max = r->v[k];
		}
	}
	/* Progress: one line per configuration, plus what failed. */
	fprintf(stderr, "bench: %s cpus=%d size=%zu cap=%u %dx%d done\n",
		scen_names[base.scen], base.cpus, base.size, base.capacity,
		base.prod, base.cons);
	for (i = 0; i < n; i++)
		if (rw[i]->err[0] && !be[i]->skip) {
			fprintf(stderr, "bench:   %s: %s\n", row_label(rw[i]),
				rw[i]->err);
			nfailed++;
		}
}

static struct row *peer(const struct row *r, const char *name)
{
	int i;

	for (i = 0; i < nrows; i++) {
		struct row *p = &rows[i];

		if (!strcmp(p->be->name, name) && !p->batch &&
		    !strcmp(p->scen, r->scen) &&
		    p->cpus == r->cpus && p->size == r->size &&
		    p->prod == r->prod && p->cons == r->cons &&
		    (p->capacity == r->capacity || !strcmp(r->scen, "rtt")) && p->n)
			return p;
	}
	return NULL;
}

/*
 * Ratio to a peer as "how many times the peer's figure": for latency
 * (lower is better) ours / theirs, for throughput ours / theirs too, so
 * a reader must keep the direction in mind; the table header says it.
 */
static double ratio(const struct row *r, const char *name)
{
	const struct row *p = peer(r, name);

	if (!p || !r->n || p->median == 0)
		return 0;
	return r->median / p->median;
}

static void print_csv(void)
{
	int i;

	fprintf(csv, "scenario,cpus,size,capacity,producers,consumers,backend,metric,unit,"
		"median,min,max,runs,spread_pct,syscalls_per_msg,csw_per_msg,"
		"ratio_pipe,ratio_posix_mq,batch,note\n");
	for (i = 0; i < nrows; i++) {
		struct row *r = &rows[i];

		fprintf(csv, "%s,%d,%zu,%ld,%d,%d,%s,%s,%s,", r->scen, r->cpus,
			r->size, r->capacity, r->prod, r->cons, r->be->name,
			r->metric, r->unit);
		if (r->n)
			fprintf(csv, "%.3f,%.3f,%.3f,%d,%.1f,%.2f,%.3f,%.3f,%.3f,",
				r->median, r->min, r->max, r->n,
				100 * (r->max - r->min) / r->median, r->sys_med,
				r->csw_med, ratio(r, "pipe"), ratio(r, "posix-mq"));
		else
			fprintf(csv, ",,,0,,,,,,");
		fprintf(csv, "%d,\"%s\"\n", r->batch, r->err[0] ? r->err : r->note);
	}
	fflush(csv);
}

static const char *fmt_ratio(char *buf, double v)
{
	if (v > 0)
		snprintf(buf, 16, "%.2f", v);
	else
		snprintf(buf, 16, "-");
	return buf;
}

static void print_table(void)
{
	char last[128] = "";
	int i;

	printf("\nFigures are medians of %d runs; spread = (max-min)/median.\n"
	       "rtt: us per round trip (lower is better). tput/mpmc: kmsg/s or MiB/s\n"
	       "(higher is better). x pipe, x mq: this figure / the peer's figure.\n"
	       "sys/msg, csw/msg: system calls and context switches per message,\n"
	       "both sides together (rtt: per one-way message).\n", opt_runs);
	for (i = 0; i < nrows; i++) {
		struct row *r = &rows[i];
		char hdr[128], rp[16], rm[16];

		if (!strcmp(r->scen, "rtt"))
			snprintf(hdr, sizeof(hdr), "rtt cpus=%d size=%zu", r->cpus, r->size);
		else
			snprintf(hdr, sizeof(hdr), "%s cpus=%d size=%zu cap=%ld %dx%d",
				 r->scen, r->cpus, r->size, r->capacity, r->prod, r->cons);
		if (strcmp(hdr, last)) {
			printf("\n== %s\n%-15s %10s %-6s %7s %7s %7s %7s %7s\n", hdr,
			       "backend", "median", "unit", "spread", "x pipe",
			       "x mq", "sys/msg", "csw/msg");
			snprintf(last, sizeof(last), "%s", hdr);
		}
		if (!r->n) {
			printf("%-15s %s\n", row_label(r), r->err);
			continue;
		}
		printf("%-15s %10.2f %-6s %6.1f%% %7s %7s %7.2f %7.2f\n",
		       row_label(r), r->median, r->unit,
		       100 * (r->max - r->min) / r->median,
		       fmt_ratio(rp, ratio(r, "pipe")),
		       fmt_ratio(rm, ratio(r, "posix-mq")), r->sys_med, r->csw_med);
	}
}

/* ------------------------------------------------------------------ */
/* Memory: slab deltas                                                 */

struct slab {
	char name[64];
	long bytes;
};

static int read_slabs(struct slab *s, int max)
{
	FILE *f = fopen("/proc/slabinfo", "r");
	char line[512];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f) && n < max) {
		char name[64];
		long active, num, objsize;

		if (line[0] == '#' || !strncmp(line, "slabinfo", 8))
			continue;
		if (sscanf(line, "%63s %ld %ld %ld", name, &active, &num, &objsize) != 4)
			continue;
		snprintf(s[n].name, sizeof(s[n].name), "%s", name);
		s[n].bytes = active * objsize;
		n++;
	}
	fclose(f);
	return n;
}

static void slab_diff(const char *what, long count, long payload,
		      struct slab *a, int na, struct slab *b, int nb)
{
	long total = 0;
	int i, j;
	char top[256] = "";

	for (i = 0; i < nb; i++) {
		long before = 0, d;

		for (j = 0; j < na; j++)
			if (!strcmp(a[j].name, b[i].name))
				before = a[j].bytes;
		d = b[i].bytes - before;
		total += d;
		if (d > count * 8) {
			size_t l = strlen(top);

			snprintf(top + l, sizeof(top) - l, "%s%s %.0f B", l ? "; " : "",
				 b[i].name, (double)d / count);
		}
	}
	printf("memory: %s: %.0f B each (slabinfo delta over %ld; payload %ld B)%s%s\n",
	       what, (double)total / count, count, payload,
	       top[0] ? ": " : "", top);
	fprintf(csv, "memory,1,%ld,-1,1,1,ipcbox,%s,B,%.1f,,,1,,,,,,0,\"%s\"\n",
		payload, what, (double)total / count, top);
}

static int memory_bench(void)
{
	static struct slab a[1024], b[1024];
	long nbox = 1000, nmsg = 10000;	/* cheap: also in --quick */
	int *fds, na, nb, fd;
	long i;
	char buf[64] = { 0 };

	if (ipcbox_ctl < 0) {
		printf("memory: skipped: no /dev/ipcbox/control\n");
		nfailed++;
		return 0;
	}
	{
		struct rlimit rl = { nbox + 64, nbox + 64 };

		setrlimit(RLIMIT_NOFILE, &rl);
	}
	fds = calloc(nbox, sizeof(*fds));
	if (read_slabs(a, 1024) < 0) {
		printf("memory: skipped: /proc/slabinfo unreadable\n");
		return 0;
	}
	/*
	 * SLUB's slabinfo counts objects of whole slabs, so only fresh
	 * allocations that grow new slabs show: one pass, many objects,
	 * no warm-up (a warm-up would reuse freed objects unseen).
	 */
	for (int pass = 1; pass < 2; pass++) {
		na = read_slabs(a, 1024);
		for (i = 0; i < nbox; i++) {
			struct ipcbox_create cr = { .capacity = 64, .msg_size_max = 64 };

			fds[i] = ioctl(ipcbox_ctl, IPCBOX_IOC_CREATE, &cr);
			if (fds[i] < 0) {
				printf("memory: create %ld failed: %m (raise max_per_user)\n", i);
				nfailed++;
				nbox = i;
				break;
			}
		}
		nb = read_slabs(b, 1024);
		if (pass)
			slab_diff("empty_mailbox", nbox, 0, a, na, b, nb);
		for (i = 0; i < nbox; i++)
			close(fds[i]);
	}
	/* Separate the fd (struct file) from the mailbox: a plain eventfd. */
	na = read_slabs(a, 1024);
	for (i = 0; i < nbox; i++)
		fds[i] = eventfd(0, 0);
	nb = read_slabs(b, 1024);
	slab_diff("eventfd_for_reference", nbox, 0, a, na, b, nb);
	for (i = 0; i < nbox; i++)
		close(fds[i]);
	free(fds);

	for (int pass = 1; pass < 2; pass++) {
		struct ipcbox_create cr = { .capacity = (uint32_t)nmsg, .msg_size_max = 64 };
		struct ipcbox_send s = { .buf = (uintptr_t)buf, .len = 64 };

		fd = ioctl(ipcbox_ctl, IPCBOX_IOC_CREATE, &cr);
		if (fd < 0) {
			printf("memory: create of a %ld-message mailbox failed: %m\n", nmsg);
			nfailed++;
			return 0;
		}
		na = read_slabs(a, 1024);
		for (i = 0; i < nmsg; i++)
			if (ioctl(fd, IPCBOX_IOC_SEND, &s) < 0) {
				printf("memory: send %ld failed: %m\n", i);
				nfailed++;
				nmsg = i;
				break;
			}
		nb = read_slabs(b, 1024);
		if (pass)
			slab_diff("queued_64B_message", nmsg, 64, a, na, b, nb);
		close(fd);
	}
	return 0;
}

/* ------------------------------------------------------------------ */

static void print_env(void)
{
	struct utsname u;
	FILE *f;
	char line[256], cpu[160] = "unknown";

	uname(&u);
	f = fopen("/proc/cpuinfo", "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "model name", 10)) {
			char *p = strchr(line, ':');

			snprintf(cpu, sizeof(cpu), "%s", p ? p + 2 : line);
			cpu[strcspn(cpu, "\n")] = 0;
			break;
		}
	if (f)
		fclose(f);
	printf("kernel: %s %s\ncpu: %s\nonline cpus: %d\n", u.release, u.version,
	       cpu, ncpus_online);
	if (ipcbox_ctl >= 0)
		printf("ipcbox: abi %u features 0x%llx\n", ipcbox_inf.abi_version,
		       (unsigned long long)ipcbox_inf.features);
	fprintf(csv, "# kernel=%s cpu=%s online_cpus=%d\n", u.release, cpu, ncpus_online);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: ipcbox-bench [--quick] [--runs N] [--time SECS] [--csv FILE]\n"
		"                    [--only a,b,...] [--scenario rtt|tput|mpmc|memory|all]\n"
		"                    [--cpus 1|2|both] [--size N] [--capacity N]\n"
		"                    [--procs N] [--list]\n");
	exit(2);
}

/*
 * The configurations: the full matrix, or with --quick one of each kind
 * (every scenario and code path once: rendezvous, small and kvmalloc'd
 * messages, batches, several producers) for a smoke run.
 */
struct cfg_list {
	size_t rtt_sizes[5], tput_sizes[2];
	unsigned int caps[4];
	int mp[3];
	int n_rtt, n_tput, n_caps, n_mp;
};

static const struct cfg_list full_cfgs = {
	.rtt_sizes = { 8, 64, 1024, 4096, 65536 }, .n_rtt = 5,
	.tput_sizes = { 64, 65536 }, .n_tput = 2,
	.caps = { 0, 1, 8, 64 }, .n_caps = 4,
	.mp = { 1, 2, 4 }, .n_mp = 3,
};

static const struct cfg_list quick_cfgs = {
	.rtt_sizes = { 64 }, .n_rtt = 1,
	.tput_sizes = { 64, 65536 }, .n_tput = 2,
	.caps = { 64 }, .n_caps = 1,
	.mp = { 2 }, .n_mp = 1,
};

int main(int argc, char **argv)
{
	const char *scen = "all", *cpus_opt = "both", *csv_path = NULL;
	const struct cfg_list *cl;
	long only_size = -1, only_cap = -1, only_procs = -1;
	int i, c, ci, nskipped = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick")) {
			opt_quick = 1;
			opt_runs = 1;
		} else if (!strcmp(argv[i], "--runs") && i + 1 < argc) {
			opt_runs = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--time") && i + 1 < argc) {
			opt_target = atof(argv[++i]);
		} else if (!strcmp(argv[i], "--csv") && i + 1 < argc) {
			csv_path = argv[++i];
		} else if (!strcmp(argv[i], "--only") && i + 1 < argc) {
			opt_only = argv[++i];
		} else if (!strcmp(argv[i], "--scenario") && i + 1 < argc) {
			scen = argv[++i];
		} else if (!strcmp(argv[i], "--cpus") && i + 1 < argc) {
			cpus_opt = argv[++i];
		} else if (!strcmp(argv[i], "--size") && i + 1 < argc) {
			only_size = atol(argv[++i]);
		} else if (!strcmp(argv[i], "--capacity") && i + 1 < argc) {
			only_cap = atol(argv[++i]);
		} else if (!strcmp(argv[i], "--procs") && i + 1 < argc) {
			only_procs = atol(argv[++i]);
		} else if (!strcmp(argv[i], "--list")) {
			probe_backends();
			for (c = 0; c < NR_BACKENDS; c++)
				printf("%-12s %s%s%s\n", backends[c].name, backends[c].desc,
				       backends[c].skip ? ": skipped: " : "",
				       backends[c].skip ? backends[c].skip : "");
			return 0;
		} else {
			usage();
		}
	}
	if (opt_runs < 1 || opt_runs > MAX_RUNS)
		die("--runs must be 1..%d", MAX_RUNS);
	cl = opt_quick ? &quick_cfgs : &full_cfgs;
	csv = csv_path ? fopen(csv_path, "w") : stdout;
	if (!csv)
		die("%s: %m", csv_path);
	setvbuf(stdout, NULL, _IOLBF, 0);
	ncpus_online = sysconf(_SC_NPROCESSORS_ONLN);
	signal(SIGPIPE, SIG_IGN);
	{
		/* 64 KiB x 64 POSIX mq messages exceed the default 800 KiB. */
		struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };

		setrlimit(RLIMIT_MSGQUEUE, &rl);
	}
	{
		sigset_t set;

		/* Taken with sigtimedwait() in run_one(); children unblock it. */
		sigemptyset(&set);
		sigaddset(&set, SIGCHLD);
		sigprocmask(SIG_BLOCK, &set, NULL);
	}
	probe_backends();
	print_env();
	/* A backend asked for and not run is a failure: the module lacks it. */
	for (c = 0; c < NR_BACKENDS; c++)
		if (backends[c].skip && backend_wanted(&backends[c])) {
			printf("note: %s skipped: %s\n", backends[c].name, backends[c].skip);
			nskipped++;
		}

	for (ci = 1; ci <= 2; ci++) {
		struct run_cfg rc = { .prod = 1, .cons = 1, .cpus = ci };

		if ((ci == 1 && !strcmp(cpus_opt, "2")) ||
		    (ci == 2 && !strcmp(cpus_opt, "1")))
			continue;
		if (!strcmp(scen, "all") || !strcmp(scen, "rtt")) {
			rc.scen = RTT;
			for (i = 0; i < cl->n_rtt; i++) {
				rc.size = cl->rtt_sizes[i];
				if (only_size < 0 || (long)rc.size == only_size)
					measure(rc);
			}
		}
		if (!strcmp(scen, "all") || !strcmp(scen, "tput")) {
			rc.scen = TPUT;
			for (i = 0; i < cl->n_tput; i++)
				for (c = 0; c < cl->n_caps; c++) {
					rc.size = cl->tput_sizes[i];
					rc.capacity = cl->caps[c];
					if ((only_size < 0 || (long)rc.size == only_size) &&
					    (only_cap < 0 || (long)rc.capacity == only_cap))
						measure(rc);
				}
		}
		if (!strcmp(scen, "all") || !strcmp(scen, "mpmc")) {
			rc.scen = MPMC;
			rc.size = 64;
			rc.capacity = 64;
			for (i = 0; i < cl->n_mp; i++) {
				rc.prod = rc.cons = cl->mp[i];
				if (only_procs < 0 || rc.prod == only_procs)
					measure(rc);
			}
		}
	}
	print_csv();
	print_table();
	if (!strcmp(scen, "all") || !strcmp(scen, "memory"))
		memory_bench();
	if (csv != stdout)
		fclose(csv);
	/* The last line says it all (make bench-quick relies on it). */
	if (nfailed || nskipped) {
		printf("\nipcbox-bench: FAIL: %d measurement(s) failed, %d backend(s) skipped\n",
		       nfailed, nskipped);
		return 1;
	}
	printf("\nipcbox-bench: PASS: %d figures, no failure\n", nrows);
	return 0;
}
