// SPDX-License-Identifier: GPL-2.0
/*
 * ABI 2, struct by struct, as docs/uapi.md ("Size-versioned structs",
 * "Flags") states it: each ioctl struct larger with a zero tail works as
 * VER0 does (output tails zero-filled), with a non-zero tail is E2BIG
 * (INFO and STAT are output only: zeroed), below VER0 or above a page
 * EINVAL, reserved fields set EINVAL, all without effect when they fail;
 * likewise struct ipcbox_msg_info (info_size) and batch entries
 * (entry_size); a flag bit an ioctl does not take is EINVAL. The wrappers
 * are this file's own, over uapi/linux/ipcbox.h alone.
 */
#define _GNU_SOURCE
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <linux/ipcbox.h>

#include "kselftest_harness.h"

#define LONG_NS		5000000000LL	/* waits that must not expire */
#define MSG_SIZE	64		/* msg_size_max of the fixture's mailbox */
#define INFO_VER0	IPCBOX_MSG_INFO_SIZE_VER0
#define ENTRY_VER0	48		/* a send and a receive entry alike */
#define ULL(x)		((unsigned long long)(x))
#define N(a)		(sizeof(a) / sizeof((a)[0]))
#define OFF(s, f)	offsetof(struct ipcbox_##s, f)

/* The published sizes: each struct is its VER0 size, for good. */
#define PINNED(s, size) static_assert(sizeof(struct s) == size, #s " is " #size)
PINNED(ipcbox_info, IPCBOX_INFO_SIZE_VER0);
PINNED(ipcbox_create, IPCBOX_CREATE_SIZE_VER0);
PINNED(ipcbox_unlink, IPCBOX_UNLINK_SIZE_VER0);
PINNED(ipcbox_send, IPCBOX_SEND_SIZE_VER0);
PINNED(ipcbox_msg_info, IPCBOX_MSG_INFO_SIZE_VER0);
PINNED(ipcbox_recv, IPCBOX_RECV_SIZE_VER0);
PINNED(ipcbox_stat, IPCBOX_STAT_SIZE_VER0);
PINNED(ipcbox_call, IPCBOX_CALL_SIZE_VER0);
PINNED(ipcbox_reply, IPCBOX_REPLY_SIZE_VER0);
PINNED(ipcbox_reply_recv, IPCBOX_REPLY_RECV_SIZE_VER0);
PINNED(ipcbox_batch, IPCBOX_BATCH_SIZE_VER0);
static_assert(IPCBOX_SEND_SIZE_VER0 == ENTRY_VER0 &&
	      IPCBOX_RECV_SIZE_VER0 == ENTRY_VER0, "batch entries");

/* One bit per meaning: 0-7 everywhere, 8-15 sends only, 16-23 receives only. */
#define BOTH_FLAGS	(IPCBOX_NONBLOCK | IPCBOX_ABSTIME)
#define SEND_ONLY	(IPCBOX_SEND_SYNC | IPCBOX_SEND_CACHE)
#define RECV_ONLY	(IPCBOX_RECV_PEEK | IPCBOX_RECV_FILTER_PID | \
			 IPCBOX_RECV_FILTER_TAG)
static_assert(IPCBOX_SEND_FLAGS == (BOTH_FLAGS | SEND_ONLY), "send flags");
static_assert(IPCBOX_RECV_FLAGS == (BOTH_FLAGS | RECV_ONLY), "recv flags");
static_assert(IPCBOX_CALL_FLAGS == IPCBOX_ABSTIME, "call flags");
static_assert(!(BOTH_FLAGS & ~0xffUL) && !(SEND_ONLY & ~0xff00UL) &&
	      !(RECV_ONLY & ~0xff0000UL), "flag bit ranges");

static size_t pg;	/* the page size: the largest struct size taken */

static int xioctl(int fd, unsigned long cmd, void *arg)
{
	int ret = ioctl(fd, cmd, arg);

	return ret < 0 ? -errno : ret;
}

/* The ioctl number @cmd for a struct of @size bytes. */
static unsigned long ioc_resize(unsigned long cmd, unsigned int size)
{
	return (cmd & ~((unsigned long)_IOC_SIZEMASK << _IOC_SIZESHIFT)) |
	       ((unsigned long)size << _IOC_SIZESHIFT);
}

#define INFO0(ctl, in)	xioctl(ctl, IPCBOX_IOC_INFO, in)
#define STAT0(fd, st)	xioctl(fd, IPCBOX_IOC_STAT, st)

static void set_name(char *dst, const char *src)
{
	memcpy(dst, src, strnlen(src, IPCBOX_NAME_MAX - 1));
}

static int create0(int ctl, const char *name, uint32_t cap, uint32_t msz)
{
	struct ipcbox_create c = { .capacity = cap, .msg_size_max = msz,
				   .mode = 0600, .flags = IPCBOX_CREATE_CLOEXEC };

	set_name(c.name, name);
	return xioctl(ctl, IPCBOX_IOC_CREATE, &c);
}

static int unlink0(int ctl, const char *name)
{
	struct ipcbox_unlink u = { };

	set_name(u.name, name);
	return xioctl(ctl, IPCBOX_IOC_UNLINK, &u);
}

static int send0(int fd, const char *s, uint64_t tag, uint64_t *seq)
{
	struct ipcbox_send a = { .buf = (uintptr_t)s, .len = strlen(s),
				 .tag = tag };
	int ret = xioctl(fd, IPCBOX_IOC_SEND, &a);

	if (!ret && seq)
		*seq = a.seq;
	return ret;
}

static int recv0(int fd, void *buf, int64_t timeout,
		 struct ipcbox_msg_info *info)
{
	struct ipcbox_recv a = { .buf = (uintptr_t)buf, .size = MSG_SIZE,
				 .timeout_ns = timeout, .info = (uintptr_t)info,
				 .info_size = info ? sizeof(*info) : 0 };

	return xioctl(fd, IPCBOX_IOC_RECV, &a);
}

static int reply0(int fd, uint64_t token, const char *s)
{
	struct ipcbox_reply a = { .token = token, .buf = (uintptr_t)s,
				  .len = strlen(s) };

	return xioctl(fd, IPCBOX_IOC_REPLY, &a);
}

static void drain(int fd)
{
	char buf[MSG_SIZE];

	while (recv0(fd, buf, 0, NULL) >= 0)
		;
}

static bool node_exists(const char *name)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), IPCBOX_DEV_DIR "/%s", name);
	return stat(path, &st) == 0;
}

/* The first byte of p[from, to) that is not @c, or -1. */
static long first_not(const void *p, size_t from, size_t to, int c)
{
	for (; from < to; from++)
		if (((const unsigned char *)p)[from] != (unsigned char)c)
			return from;
	return -1;
}

/* A thread on the mailbox: a CALL caller, or a server of one message. */
struct peer {
	pthread_t thread;
	bool running;
	int fd;
	int ret;			/* the CALL's, or the server's RECV's */
	int reply_ret;			/* the server's REPLY's */
	char buf[MSG_SIZE];		/* the reply, or the request */
	struct ipcbox_msg_info info;	/* the server's: of the request */
};

/* CALL "request" (tag 7) and wait for the reply. */
static void *caller_main(void *arg)
{
	struct peer *p = arg;
	struct ipcbox_call c = {
		.buf = (uintptr_t)"request", .len = 7, .timeout_ns = LONG_NS,
		.tag = 7, .reply_buf = (uintptr_t)p->buf,
		.reply_size = sizeof(p->buf),
	};

	p->ret = xioctl(p->fd, IPCBOX_IOC_CALL, &c);
	return NULL;
}

/* Receive one message; a request is answered with "re:" and its payload. */
static void *server_main(void *arg)
{
	struct peer *p = arg;
	char rep[MSG_SIZE + 8];

	p->ret = recv0(p->fd, p->buf, LONG_NS, &p->info);
	if (p->ret >= 0 && p->info.token) {
		snprintf(rep, sizeof(rep), "re:%.*s", p->ret, p->buf);
		p->reply_ret = reply0(p->fd, p->info.token, rep);
	}
	return NULL;
}

FIXTURE(abi) {
	int ctl;
	int fd;				/* anonymous, capacity 8, MSG_SIZE */
	char name[IPCBOX_NAME_MAX];	/* a named mailbox a case made */
	unsigned char *arg;		/* argsz bytes: the ioctl's struct */
	unsigned char *side;		/* 4 pages: batch entries, info */
	size_t argsz;
	int fill;			/* what INFO and STAT buffers hold */
	struct ipcbox_stat before;	/* the mailbox before the call */
	uint64_t seq[3];		/* of the messages a case queued */
	uint64_t token;			/* of the request a case received */
	char buf[3][MSG_SIZE];
	struct ipcbox_msg_info info[3];
	struct ipcbox_msg_info want;	/* seq, tag, len an info must say */
	struct peer peer;
	char ctx[200];			/* the case being tried, for TH_LOG */
};

typedef FIXTURE_DATA(abi) abi_t;
#define HARNESS_ARGS struct __test_metadata *_metadata, abi_t *self

FIXTURE_SETUP(abi)
{
	struct ipcbox_info in;

	self->fd = -1;
	self->arg = MAP_FAILED;
	self->ctl = open(IPCBOX_CONTROL_PATH, O_RDWR | O_CLOEXEC);
	if (self->ctl < 0)
		SKIP(return, "%s: %m (ipcbox.ko not loaded?)", IPCBOX_CONTROL_PATH);
	ASSERT_EQ(0, INFO0(self->ctl, &in));
	ASSERT_EQ(IPCBOX_ABI_VERSION, in.abi_version);
	ASSERT_EQ(IPCBOX_FEAT_CALL | IPCBOX_FEAT_BATCH,
		  in.features & (IPCBOX_FEAT_CALL | IPCBOX_FEAT_BATCH));
	pg = sysconf(_SC_PAGESIZE);
	/* Room for the largest size an ioctl number holds, and past it. */
	self->argsz = _IOC_SIZEMASK + 1 + pg;
	self->arg = mmap(NULL, self->argsz + 4 * pg, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->arg);
	self->side = self->arg + self->argsz;
	self->fd = create0(self->ctl, "", 8, MSG_SIZE);
	ASSERT_LE(0, self->fd) TH_LOG("create: %s", strerror(-self->fd));
}

FIXTURE_TEARDOWN(abi)
{
	if (self->peer.running) {
		xioctl(self->fd, IPCBOX_IOC_SHUTDOWN, NULL);
		pthread_join(self->peer.thread, NULL);
	}
	if (self->fd >= 0)
		close(self->fd);
	if (self->name[0] && self->ctl >= 0)
		unlink0(self->ctl, self->name);
	if (self->ctl >= 0)
		close(self->ctl);
	if (self->arg != MAP_FAILED)
		munmap(self->arg, self->argsz + 4 * pg);
}

static void expect_ret(HARNESS_ARGS, int want, int ret)
{
	EXPECT_EQ(want, ret) TH_LOG("%s: returned %d (%s), not %d", self->ctx,
				    ret, ret < 0 ? strerror(-ret) : "ok", want);
}

/* The mailbox is as before the call: nothing sent, taken or answered. */
static void mailbox_unchanged(HARNESS_ARGS)
{
	const struct ipcbox_stat *b = &self->before;
	struct ipcbox_stat st;

	ASSERT_EQ(0, STAT0(self->fd, &st));
	EXPECT_TRUE(st.depth == b->depth && st.sent == b->sent &&
		    st.received == b->received && st.calls == b->calls)
		TH_LOG("%s: had an effect: depth/sent/received/calls %u/%llu/%llu/%u, "
		       "were %u/%llu/%llu/%u", self->ctx, st.depth, ULL(st.sent),
		       ULL(st.received), st.calls, b->depth, ULL(b->sent),
		       ULL(b->received), b->calls);
}

static void peer_join(abi_t *self)
{
	if (self->peer.running)
		pthread_join(self->peer.thread, NULL);
	self->peer.running = false;
}

static void peer_start(HARNESS_ARGS, void *(*fn)(void *))
{
	peer_join(self);
	memset(&self->peer, 0, sizeof(self->peer));
	self->peer.fd = self->fd;
	self->peer.ret = INT_MIN;
	ASSERT_EQ(0, pthread_create(&self->peer.thread, NULL, fn, &self->peer));
	self->peer.running = true;
}

/* A caller thread's request, received here: self->token answers it. */
static void take_request(HARNESS_ARGS)
{
	peer_start(_metadata, self, caller_main);
	ASSERT_EQ(7, recv0(self->fd, self->buf[2], LONG_NS, &self->info[2]));
	self->token = self->info[2].token;
	ASSERT_NE(0, self->token);
}

/* The caller got "answer" (@ok), or the request is still open. */
static void answered(HARNESS_ARGS, bool ok)
{
	if (!ok) {
		EXPECT_EQ(0, reply0(self->fd, self->token, "late"))
			TH_LOG("%s: the request was answered", self->ctx);
	}
	peer_join(self);
	EXPECT_TRUE(self->peer.ret == (ok ? 6 : 4) &&
		    !memcmp(self->peer.buf, ok ? "answer" : "late", ok ? 6 : 4))
		TH_LOG("%s: caller got %d", self->ctx, self->peer.ret);
}

/* The failed call sent the server thread nothing: a plain message ends it. */
static void server_got_nothing(HARNESS_ARGS)
{
	ASSERT_EQ(0, send0(self->fd, "stop", 0, NULL));
	peer_join(self);
	EXPECT_TRUE(self->peer.ret == 4 && !self->peer.info.token)
		TH_LOG("%s: a request reached the server (%d)", self->ctx,
		       self->peer.ret);
}

/*
 * An ioctl: run() builds a valid struct at @a (and what it needs), calls
 * call(), and if it was to work checks it did what VER0 does; call()
 * checks the error and no effect on the mailbox's counters, or the result
 * and an input struct's tail left alone.
 */
struct op {
	const char *name;
	unsigned long cmd;
	size_t ver0;
	bool on_ctl;
	bool out;		/* output only: nothing is read from it */
	int ok_ret;		/* -1: a new fd */
	void (*run)(HARNESS_ARGS, const struct op *op, void *a, bool ok);
	size_t zero[2];		/* __reserved and "zero" flags fields, or 0 */
};

/* How the next call is made: set by the drivers, read by call(), run(). */
static struct {
	size_t size;		/* the struct size in the ioctl number */
	long poke;		/* byte of the struct set to 0x5a, or -1 */
	uint32_t flags;		/* bits added to the u32 at flags_off of */
	size_t flags_off;	/* the struct, or with flags_entry of */
	bool flags_entry;	/* batch entry 0 */
	uint32_t es;		/* batch entry_size */
	long entry_poke;	/* byte of the batch entries set to 0x5a, or -1 */
	bool info_set;		/* info and info_size of a receive or CALL, */
	uint64_t info;		/* else self->info[0] in VER0 size */
	uint32_t info_size;
	int want;		/* 0 works; < 0 that error; > 0 batch done */
} how = { .es = ENTRY_VER0, .entry_poke = -1 };

/* The msg_info tests' info lives a page into self->side. */
#define INFO_AREA(self)	((self)->side + pg)
#define INFO_PTR(self)	(how.info_set ? how.info : (uintptr_t)&(self)->info[0])
#define INFO_SIZE()	(how.info_set ? how.info_size : INFO_VER0)
#define WANT(s, tg, l)	((struct ipcbox_msg_info){ .seq = s, .tag = tg, .len = l })

/* The info written says self->want, in the caller's size: zeros, no more. */
static void check_info(HARNESS_ARGS)
{
	const void *p = how.info_set ? INFO_AREA(self) : (void *)&self->info[0];
	struct ipcbox_msg_info mi;
	long at;

	memcpy(&mi, p, sizeof(mi));
	EXPECT_TRUE(mi.seq == self->want.seq && mi.tag == self->want.tag &&
		    mi.len == self->want.len && mi.sender_tgid == getpid())
		TH_LOG("%s: info seq %llu tag %llx len %u tgid %d, not %llu %llx %u",
		       self->ctx, ULL(mi.seq), ULL(mi.tag), mi.len, mi.sender_tgid,
		       ULL(self->want.seq), ULL(self->want.tag), self->want.len);
	if (!how.info_set)
		return;
	at = first_not(p, INFO_VER0, how.info_size, 0);
	EXPECT_EQ(-1, at) TH_LOG("%s: info tail byte %ld not zeroed", self->ctx, at);
	at = first_not(p, how.info_size, 2 * pg, 0xa5);
	EXPECT_EQ(-1, at) TH_LOG("%s: byte %ld past info_size written", self->ctx, at);
}

#define CTX_ADD(fmt, ...)						\
	(n += snprintf(self->ctx + n, sizeof(self->ctx) - n, fmt, __VA_ARGS__))

static int call(HARNESS_ARGS, const struct op *op, void *a)
{
	unsigned char *f = (how.flags_entry ? self->side : (unsigned char *)a) +
			   how.flags_off;
	uint32_t flags;
	size_t n = 0;
	long at;
	int ret;

	if (how.poke >= 0)
		((unsigned char *)a)[how.poke] = 0x5a;
	memcpy(&flags, f, sizeof(flags));
	flags |= how.flags;
	memcpy(f, &flags, sizeof(flags));
	if (!op->on_ctl) {
		ASSERT_EQ(0, STAT0(self->fd, &self->before));
	}
	CTX_ADD("%s struct of %zu bytes (VER0 %zu)", op->name, how.size, op->ver0);
	if (how.poke >= 0)
		CTX_ADD(", byte %ld set", how.poke);
	if (how.flags)
		CTX_ADD(", %sflags |= 0x%x", how.flags_entry ? "entry 0 " : "", how.flags);
	if (how.es != ENTRY_VER0)
		CTX_ADD(", entry_size %u", how.es);
	if (how.entry_poke >= 0)
		CTX_ADD(", entries' byte %ld set", how.entry_poke);
	if (how.info_set)
		CTX_ADD(", info_size %u%s", how.info_size, how.info ? "" : " and no info");
	ret = xioctl(op->on_ctl ? self->ctl : self->fd, ioc_resize(op->cmd, how.size), a);
	if (how.want) {
		expect_ret(_metadata, self, how.want, ret);
		if (how.want < 0 && !op->on_ctl)
			mailbox_unchanged(_metadata, self);
		return ret;
	}
	if (op->ok_ret >= 0) {
		expect_ret(_metadata, self, op->ok_ret, ret);
	} else {
		EXPECT_LE(0, ret) TH_LOG("%s: %s", self->ctx, strerror(-ret));
	}
	at = op->out ? -1 : first_not(a, op->ver0, how.size, 0);
	EXPECT_EQ(-1, at) TH_LOG("%s: tail byte %ld written", self->ctx, at);
	return ret;
}

/* INFO or STAT into a buffer of self->fill: VER0's struct, zeros, no more. */
static void out_run(HARNESS_ARGS, const struct op *op, void *a, bool ok)
{
	union { struct ipcbox_info info; struct ipcbox_stat st; } ref = { };
	size_t ksize = op->ver0;
	long at;

	memset(a, self->fill, self->argsz);
	call(_metadata, self, op, a);
	if (op->on_ctl) {
		ASSERT_EQ(0, INFO0(self->ctl, &ref.info));
	} else {
		ASSERT_EQ(0, STAT0(self->fd, &ref.st));
	}
	if (!ok) {
		at = first_not(a, 0, self->argsz, self->fill);
		EXPECT_EQ(-1, at) TH_LOG("%s: byte %ld written", self->ctx, at);
		return;
	}
	EXPECT_EQ(0, memcmp(a, &ref, ksize))
		TH_LOG("%s: not what a VER0 call returns", self->ctx);
	if (!op->on_ctl) {
		EXPECT_EQ(0, ((struct ipcbox_stat *)a)->__reserved0);
	}
	at = first_not(a, ksize, how.size, 0);
	EXPECT_EQ(-1, at) TH_LOG("%s: tail byte %ld not zeroed", self->ctx, at);
	at = first_not(a, how.size, self->argsz, self->fill);
	EXPECT_EQ(-1, at) TH_LOG("%s: byte %ld past the size written", self->ctx, at);
}

static void create_run(HARNESS_ARGS, const struct op *op, void *a, bool ok)
{
	struct ipcbox_create *c = a;
	struct ipcbox_info in, now;
	struct ipcbox_stat st;
	static int n;
	int fd, sret;

	snprintf(self->name, sizeof(self->name), "kst-abi-%d-%d", getpid(), n++);
	*c = (struct ipcbox_create){ .capacity = 3, .msg_size_max = 32,
				     .mode = 0600, .flags = IPCBOX_CREATE_CLOEXEC };
	set_name(c->name, self->name);
	ASSERT_EQ(0, INFO0(self->ctl, &in));
	fd = call(_metadata, self, op, a);
	EXPECT_EQ(ok, node_exists(self->name))
		TH_LOG("%s: node %s", self->ctx, ok ? "missing" : "made");
	if (fd >= 0) {
		sret = STAT0(fd, &st);
		close(fd);
		ASSERT_EQ(0, sret);
		EXPECT_TRUE(st.capacity == 3 && st.msg_size_max == 32 &&
			    !strcmp(st.name, self->name))
			TH_LOG("%s: made capacity %u size %u name %s", self->ctx,
			       st.capacity, st.msg_size_max, st.name);
	} else {
		ASSERT_EQ(0, INFO0(self->ctl, &now));
		EXPECT_EQ(in.nr_mailboxes, now.nr_mailboxes)
			TH_LOG("%s: a mailbox was made", self->ctx);
	}
	unlink0(self->ctl, self->name);
	self->name[0] = '\0';
}

static void unlink_run(HARNESS_ARGS, const struct op *op, void *a, bool ok)
{
	static int n;
	int fd;

	snprintf(self->name, sizeof(self->name), "kst-abiu-%d-%d", getpid(), n++);
	fd = create0(self->ctl, self->name, 1, 16);
	ASSERT_LE(0, fd) TH_LOG("create %s: %s", self->name, strerror(-fd));
	close(fd);
	set_name(((struct ipcbox_unlink *)a)->name, self->name);
	call(_metadata, self, op, a);
	EXPECT_EQ(!ok, node_exists(self->name))
		TH_LOG("%s: node %s", self->ctx, ok ? "still there" : "gone");
	EXPECT_EQ(ok ? -ENOENT : 0, unlink0(self->ctl, self->name))
		TH_LOG("%s: name %s", self->ctx, ok ? "still there" : "gone");
	self->name[0] = '\0';
}

static void send_run(HARNESS_ARGS, const struct op *op, void *a, bool ok)
{
	struct ipcbox_send *s = a;
	struct ipcbox_msg_info mi;
	char b[MSG_SIZE];

	*s = (struct ipcbox_send){ .buf = (uintptr_t)"send-payload", .len = 12,
				   .tag = 0x5e9d, .priority = 3, .seq = ~0ULL };
	call(_metadata, self, op, a);
	if (!ok)
		return;
	ASSERT_EQ(12, recv0(self->fd, b, 0, &mi)) TH_LOG("%s", self->ctx);
	EXPECT_TRUE(!memcmp(b, "send-payload", 12) && mi.tag == 0x5e9d &&
		    mi.priority == 3 && mi.seq == s->seq)
		TH_LOG("%s: got tag %llx prio %u seq %llu; seq written %llu",
		       self->ctx, ULL(mi.tag), mi.priority, ULL(mi.seq),
		       ULL(s->seq));
}

static void recv_run(HARNESS_ARGS, const struct op *op, void *a, bool ok)
{
	ASSERT_EQ(0, send0(self->fd, "recv-payload", 0x7e, &self->seq[0]));
	self->want = WANT(self->seq[0], 0x7e, 12);
	*(struct ipcbox_recv *)a = (struct ipcbox_recv){
		.buf = (uintptr_t)self->buf[0], .size = MSG_SIZE,
		.info = INFO_PTR(self), .info_size = INFO_SIZE(),
	};
	call(_metadata, self, op, a);
	if (!ok)
		return;
	EXPECT_EQ(0, memcmp(self->buf[0], "recv-payload", 12)) TH_LOG("%s", self->ctx);
	check_info(_metadata, self);
}

static void call_run(HARNESS_ARGS, const struct op *op, void *a, bool ok)
{
	peer_start(_metadata, self, server_main);
	*(struct ipcbox_call *)a = (struct ipcbox_call){
		.buf = (uintptr_t)"call-request", .len = 12,
		.timeout_ns = LONG_NS, .tag = 0xca11, .priority = 1,
		.reply_buf = (uintptr_t)self->buf[0], .reply_size = MSG_SIZE,
		.reply_info = INFO_PTR(self), .reply_info_size = INFO_SIZE(),
	};
	call(_metadata, self, op, a);
	if (!ok) {
		server_got_nothing(_metadata, self);
		return;
	}
	peer_join(self);
	EXPECT_TRUE(self->peer.ret == 12 && self->peer.reply_ret == 0 &&
		    !memcmp(self->buf[0], "re:call-request", 15))
		TH_LOG("%s: server got %d, replied %d", self->ctx,
		       self->peer.ret, self->peer.reply_ret);
	/* The reply's info: the request's seq and tag, the reply's length. */
	self->want = WANT(self->peer.info.seq, 0xca11, 15);
	check_info(_metadata, self);
}

static void reply_run(HARNESS_ARGS, const struct op *op, void *a, bool ok)
{
	take_request(_metadata, self);
	*(struct ipcbox_reply *)a = (struct ipcbox_reply){
		.token = self->token, .buf = (uintptr_t)"answer", .len = 6,
	};
	call(_metadata, self, op, a);
	answered(_metadata, self, ok);
}

static void reply_recv_run(HARNESS_ARGS, const struct op *op, void *a, bool ok)
{
	struct ipcbox_reply_recv *rr = a;

	take_request(_metadata, self);
	ASSERT_EQ(0, send0(self->fd, "next-message", 0x4e, &self->seq[0]));
	self->want = WANT(self->seq[0], 0x4e, 12);
	*rr = (struct ipcbox_reply_recv){
		.token = self->token, .reply_buf = (uintptr_t)"answer",
		.reply_len = 6, .buf = (uintptr_t)self->buf[0],
		.size = MSG_SIZE, .info = INFO_PTR(self),
		.info_size = INFO_SIZE(),
		.reply_error = 0x7eadbeef,	/* output only: ignored */
	};
	call(_metadata, self, op, a);
	if (ok) {
		EXPECT_TRUE(rr->reply_error == 0 && rr->token == 0 &&
			    !memcmp(self->buf[0], "next-message", 12))
			TH_LOG("%s: reply_error %d token %llx", self->ctx,
			       rr->reply_error, ULL(rr->token));
		check_info(_metadata, self);
	} else {
		EXPECT_EQ(self->token, rr->token) TH_LOG("%s: token cleared", self->ctx);
	}
	answered(_metadata, self, ok);
}

static const char *const payload[3] = { "b0", "b1", "b2" };	/* tag 100 + i */

/* The queue holds payload[from .. from + n - 1], in order, and no more. */
static void expect_queue(HARNESS_ARGS, int from, int n)
{
	char b[MSG_SIZE];
	int i;

	for (i = from; i < from + n; i++) {
		EXPECT_TRUE(recv0(self->fd, b, 0, NULL) == 2 &&
			    !memcmp(b, payload[i], 2))
			TH_LOG("%s: message %d not next in the queue", self->ctx, i);
	}
	EXPECT_EQ(-EAGAIN, recv0(self->fd, b, 0, NULL))
		TH_LOG("%s: more queued than the %d expected", self->ctx, n);
}

/*
 * SENDV or RECVV of 3 entries how.es apart (48 if out of range); receives
 * into buf[i], info[i] (entry 0: INFO_PTR) of 3 messages queued first.
 * The first @done entries are used, each at its own offset (a send's seq
 * written back there), and no others; no entry's tail is written.
 */
static void batch_run(HARNESS_ARGS, const struct op *op, void *a, bool ok)
{
	const bool send = op->cmd == IPCBOX_IOC_SENDV;
	const uint32_t es = how.es;
	const size_t step = es >= ENTRY_VER0 && es <= pg ? es : ENTRY_VER0;
	int i, done = ok ? 3 : how.want > 0 ? how.want : 0;
	struct ipcbox_msg_info mi;
	char b[MSG_SIZE];
	uint64_t seq;
	long at;

	memset(self->side, 0, 3 * step);
	for (i = 0; i < 3; i++) {
		struct ipcbox_send s = { .buf = (uintptr_t)payload[i], .len = 2,
					 .tag = 100 + i, .seq = ~0ULL };
		struct ipcbox_recv r = { .buf = (uintptr_t)self->buf[i],
					 .size = MSG_SIZE, .info_size = INFO_VER0,
					 .info = (uintptr_t)&self->info[i] };

		if (!send) {
			ASSERT_EQ(0, send0(self->fd, payload[i], 100 + i, &self->seq[i]));
		}
		if (!send && !i) {
			r.info = INFO_PTR(self);
			r.info_size = INFO_SIZE();
		}
		memcpy(self->side + i * step, send ? (void *)&s : (void *)&r,
		       ENTRY_VER0);
	}
	if (how.entry_poke >= 0)
		self->side[how.entry_poke] = 0x5a;
	*(struct ipcbox_batch *)a = (struct ipcbox_batch){
		.msgs = (uintptr_t)self->side, .count = 3, .entry_size = es,
	};
	call(_metadata, self, op, a);
	for (i = 0; i < done; i++) {
		if (send) {
			memcpy(&seq, self->side + i * step + OFF(send, seq), 8);
			ASSERT_EQ(2, recv0(self->fd, b, 0, &mi))
				TH_LOG("%s: entry %d not sent", self->ctx, i);
		} else {
			memcpy(b, self->buf[i], 2);
			memcpy(&mi, i || !how.info_set ? (void *)&self->info[i] :
			       INFO_AREA(self), sizeof(mi));
			seq = self->seq[i];
		}
		EXPECT_TRUE(!memcmp(b, payload[i], 2) && mi.tag == 100 + i &&
			    mi.seq == seq)
			TH_LOG("%s: entry %d: message %.2s tag %llu seq %llu, not "
			       "seq %llu", self->ctx, i, b, ULL(mi.tag),
			       ULL(mi.seq), ULL(seq));
	}
	self->want = WANT(self->seq[0], 100, 2);
	if (!send && done)
		check_info(_metadata, self);
	/* Sent: the first done, now received; received: the rest queued. */
	expect_queue(_metadata, self, done, send ? 0 : 3 - done);
	if (how.entry_poke >= 0)
		self->side[how.entry_poke] = 0;
	for (i = 0; i < 3; i++) {
		at = first_not(self->side + i * step, ENTRY_VER0, step, 0);
		EXPECT_EQ(-1, at) TH_LOG("%s: entry %d tail byte %ld written",
					 self->ctx, i, at);
	}
}

#define IPCBOX_SENDV_SIZE_VER0	IPCBOX_BATCH_SIZE_VER0
#define IPCBOX_RECVV_SIZE_VER0	IPCBOX_BATCH_SIZE_VER0
#define OP(id, NAME, ctl, out, ok_ret, run, ...)			\
static const struct op op_##id = { #NAME, IPCBOX_IOC_##NAME,		\
	IPCBOX_##NAME##_SIZE_VER0, ctl, out, ok_ret, run, { __VA_ARGS__ } }

OP(info, INFO, true, true, 0, out_run, 0);
OP(create, CREATE, true, false, -1, create_run, 0);
OP(unlink, UNLINK, true, false, 0, unlink_run, 0);
OP(send, SEND, false, false, 0, send_run, OFF(send, __reserved0));
OP(recv, RECV, false, false, 12, recv_run, 0);
OP(stat, STAT, false, true, 0, out_run, 0);
OP(call, CALL, false, false, 15, call_run, OFF(call, __reserved0));
OP(reply, REPLY, false, false, 0, reply_run, OFF(reply, flags));
OP(reply_recv, REPLY_RECV, false, false, 12, reply_recv_run,
   OFF(reply_recv, reply_flags), OFF(reply_recv, __reserved0));
OP(sendv, SENDV, false, false, 3, batch_run,
   OFF(batch, flags), OFF(batch, __reserved0));
OP(recvv, RECVV, false, false, 3, batch_run,
   OFF(batch, flags), OFF(batch, __reserved0));

/*
 * @op with @size in its number, byte @poke (if >= 0) set. @want 0: works
 * as VER0; < 0: fails so, no effect; > 0 (a batch): does that many.
 */
static void try_op(HARNESS_ARGS, const struct op *op, size_t size, long poke,
		   int want)
{
	how.size = size;
	how.poke = poke;
	how.want = want;
	memset(self->arg, 0, self->argsz);
	memset(self->buf, 0, sizeof(self->buf));
	memset(self->info, 0, sizeof(self->info));
	op->run(_metadata, self, op, self->arg, !want);
	peer_join(self);
	if (!op->on_ctl)
		drain(self->fd);
}

/*
 * The sizes tried, by kind: larger with a zero tail (works), larger with
 * byte at[i] of the tail set (E2BIG; an output-only struct zeroes it),
 * below VER0 and above a page (EINVAL).
 */
enum { ZERO_TAIL, NONZERO_TAIL, BELOW, ABOVE };

static void sizes_try(HARNESS_ARGS, const struct op *op, int kind)
{
	static const int want[] = { 0, -E2BIG, -EINVAL, -EINVAL }, n[] = { 5, 6, 5, 4 };
	const size_t v = op->ver0;
	const size_t sz[][6] = {
		{ v, v + 1, v + 8, v + 64, pg },
		{ v + 1, v + 8, v + 8, v + 64, pg, pg },
		{ v - 1, v - 8, v / 2, 1, 0 },
		{ pg + 1, pg + 8, 2 * pg, _IOC_SIZEMASK },
	}, at[] = { v, v, v + 7, v + 40, v, pg - 1 };	/* NONZERO_TAIL's */
	int i;

	self->fill = kind == NONZERO_TAIL ? 0 : 0xa5;
	for (i = 0; i < n[kind]; i++)
		try_op(_metadata, self, op, sz[kind][i],
		       kind == NONZERO_TAIL ? (long)at[i] : -1,
		       op->out && kind == NONZERO_TAIL ? 0 : want[kind]);
}

/* Each __reserved (or "zero") u32 set, low or high byte, VER0 and larger. */
static void zero_fields_set(HARNESS_ARGS, const struct op *op)
{
	size_t i, j;

	for (i = 0; i < N(op->zero) && op->zero[i]; i++)
		for (j = 0; j < 4; j++)
			try_op(_metadata, self, op, op->ver0 + (j & 1) * 8,
			       op->zero[i] + (j & 2 ? 3 : 0), -EINVAL);
}

#define STRUCT_TESTS(s, zero_tail, nonzero_tail, below, above)		\
TEST_F(abi, s##_##zero_tail) { sizes_try(_metadata, self, &op_##s, ZERO_TAIL); } \
TEST_F(abi, s##_##nonzero_tail)						\
{ sizes_try(_metadata, self, &op_##s, NONZERO_TAIL); }			\
TEST_F(abi, s##_##below) { sizes_try(_metadata, self, &op_##s, BELOW); }	\
TEST_F(abi, s##_##above) { sizes_try(_metadata, self, &op_##s, ABOVE); }
#define INPUT_STRUCT_TESTS(s)						\
	STRUCT_TESTS(s, larger_struct_with_zero_tail_works,		\
		     larger_struct_with_nonzero_tail_is_e2big_without_effect, \
		     size_below_ver0_is_einval_without_effect,		\
		     size_above_page_is_einval_without_effect)
#define OUTPUT_STRUCT_TESTS(s)						\
	STRUCT_TESTS(s, larger_struct_works_and_tail_is_zero_filled,	\
		     is_output_only_nonzero_tail_is_zeroed_not_e2big,	\
		     size_below_ver0_is_einval_and_nothing_written,	\
		     size_above_page_is_einval_and_nothing_written)
#define RESERVED_TEST(s)						\
TEST_F(abi, s##_reserved_fields_set_are_einval_without_effect)		\
{ zero_fields_set(_metadata, self, &op_##s); }

/*
 * struct ipcbox_msg_info of RECV, CALL (reply_info), REPLY_RECV, RECVV
 * entry 0: of each size of @kind at INFO_AREA filled with 0xa5 (or no
 * pointer). LARGER works, zero-filled past the kernel's (check_info);
 * the others are EINVAL, without effect, nothing written.
 */
enum { LARGER, BELOW_VER0, NO_POINTER, ABOVE_PAGE };

static void info_sizes(HARNESS_ARGS, const struct op *op, int kind)
{
	static const int n[] = { 5, 4, 3, 3 };
	const uint32_t sz[][5] = {
		{ INFO_VER0, INFO_VER0 + 1, INFO_VER0 + 8, INFO_VER0 + 64, pg },
		{ 0, 1, INFO_VER0 - 8, INFO_VER0 - 1 },
		{ 1, INFO_VER0, pg },
		{ pg + 1, 2 * pg, UINT32_MAX },
	};
	unsigned char *p = INFO_AREA(self);
	long at;
	int i;

	for (i = 0; i < n[kind]; i++) {
		memset(p, 0xa5, 2 * pg);
		how.info_set = true;
		how.info = kind == NO_POINTER ? 0 : (uintptr_t)p;
		how.info_size = sz[kind][i];
		try_op(_metadata, self, op, op->ver0, -1, kind ? -EINVAL : 0);
		how.info_set = false;
		at = kind ? first_not(p, 0, 2 * pg, 0xa5) : -1;
		EXPECT_EQ(-1, at) TH_LOG("%s: byte %ld written", self->ctx, at);
	}
}

#define INFO_TEST(s, name, kind)					\
TEST_F(abi, msg_info_by_##s##_##name) { info_sizes(_metadata, self, &op_##s, kind); }
#define INFO_TESTS(s)							\
	INFO_TEST(s, larger_info_size_is_zero_filled, LARGER)		\
	INFO_TEST(s, info_size_below_ver0_is_einval, BELOW_VER0)	\
	INFO_TEST(s, info_size_without_pointer_is_einval, NO_POINTER)	\
	INFO_TEST(s, info_size_above_page_is_einval, ABOVE_PAGE)

/* Each bit of @set alone added to the flags at @off: EINVAL, no effect. */
static void flags_rejected(HARNESS_ARGS, const struct op *op, size_t off,
			   bool entry, unsigned long set)
{
	int bit;

	for (bit = 0; bit < 32; bit++) {
		if (!(set & (1UL << bit)))
			continue;
		how.flags = 1u << bit;
		how.flags_off = off;
		how.flags_entry = entry;
		try_op(_metadata, self, op, op->ver0, -1, -EINVAL);
	}
	how.flags = 0;
}

#define FLAG_TEST(name, s, off, entry, set)				\
TEST_F(abi, name) { flags_rejected(_metadata, self, &op_##s, off, entry, set); }

/*
 * Batch entries: entry_size below VER0 or above a page is EINVAL, larger
 * with zero tails is stepped by (batch_run), and a non-zero tail in entry
 * k (its first or last byte) stops the batch there: k, or E2BIG for 0.
 */
static void entry_sizes(HARNESS_ARGS, const struct op *op, bool bad)
{
	const uint32_t es[2][6] = { { 49, 56, 112, pg },
				    { 0, 1, 47, pg + 1, 2 * pg, UINT32_MAX } };
	int i;

	for (i = 0; i < (bad ? 6 : 4); i++) {
		how.es = es[bad][i];
		try_op(_metadata, self, op, op->ver0, -1, bad ? -EINVAL : 0);
	}
	how.es = ENTRY_VER0;
}

static void entry_tail_set(HARNESS_ARGS, const struct op *op)
{
	int i, k;

	for (i = 0; i < 4; i++)
		for (k = 0; k < 3; k++) {
			how.es = i < 2 ? ENTRY_VER0 + 8 : pg;
			how.entry_poke = k * how.es + (i & 1 ? how.es - 1 : ENTRY_VER0);
			try_op(_metadata, self, op, op->ver0, -1, k ? k : -E2BIG);
		}
	how.es = ENTRY_VER0;
	how.entry_poke = -1;
}

#define BATCH_ENTRY_TESTS(s)						\
TEST_F(abi, s##_entry_size_below_ver0_or_above_page_is_einval)		\
{ entry_sizes(_metadata, self, &op_##s, true); }			\
TEST_F(abi, s##_larger_entries_with_zero_tails_are_stepped_by_entry_size) \
{ entry_sizes(_metadata, self, &op_##s, false); }			\
TEST_F(abi, s##_nonzero_tail_in_entry_k_stops_the_batch_there)		\
{ entry_tail_set(_metadata, self, &op_##s); }

/* ---- the flag name space ---- */
TEST_F(abi, nonblock_and_abstime_are_the_same_bits_for_send_recv_and_call)
{
	EXPECT_EQ(BOTH_FLAGS, IPCBOX_SEND_FLAGS & IPCBOX_RECV_FLAGS);
	EXPECT_EQ(IPCBOX_ABSTIME,
		  IPCBOX_CALL_FLAGS & IPCBOX_SEND_FLAGS & IPCBOX_RECV_FLAGS);
	EXPECT_EQ(0, SEND_ONLY & RECV_ONLY);
}

/* ---- control plane: struct ipcbox_info, _create, _unlink ---- */
OUTPUT_STRUCT_TESTS(info)
INPUT_STRUCT_TESTS(create)
INPUT_STRUCT_TESTS(unlink)

/* ---- struct ipcbox_send ---- */
INPUT_STRUCT_TESTS(send)
RESERVED_TEST(send)
FLAG_TEST(send_flag_bits_outside_send_flags_are_einval, send,
	  OFF(send, flags), false, ~IPCBOX_SEND_FLAGS)
FLAG_TEST(send_takes_no_receive_only_flag, send, OFF(send, flags), false,
	  RECV_ONLY)

/* ---- struct ipcbox_recv ---- */
INPUT_STRUCT_TESTS(recv)
FLAG_TEST(recv_flag_bits_outside_recv_flags_are_einval, recv,
	  OFF(recv, flags), false, ~IPCBOX_RECV_FLAGS)
FLAG_TEST(recv_takes_no_send_only_flag, recv, OFF(recv, flags), false,
	  SEND_ONLY)

/* ---- struct ipcbox_msg_info ---- */
INFO_TESTS(recv)
INFO_TESTS(call)
INFO_TESTS(reply_recv)
INFO_TESTS(recvv)

/* ---- struct ipcbox_stat ---- */
OUTPUT_STRUCT_TESTS(stat)

/* ---- struct ipcbox_call ---- */
INPUT_STRUCT_TESTS(call)
RESERVED_TEST(call)
FLAG_TEST(call_flag_bits_outside_call_flags_are_einval, call,
	  OFF(call, flags), false, ~IPCBOX_CALL_FLAGS)

/* ---- struct ipcbox_reply, struct ipcbox_reply_recv ---- */
INPUT_STRUCT_TESTS(reply)
RESERVED_TEST(reply)
INPUT_STRUCT_TESTS(reply_recv)
RESERVED_TEST(reply_recv)
FLAG_TEST(reply_recv_flag_bits_outside_recv_flags_are_einval, reply_recv,
	  OFF(reply_recv, flags), false, ~IPCBOX_RECV_FLAGS)

/* ---- struct ipcbox_batch and its entries ---- */
INPUT_STRUCT_TESTS(sendv)
RESERVED_TEST(sendv)
BATCH_ENTRY_TESTS(sendv)
FLAG_TEST(sendv_entry_flag_bits_outside_send_flags_are_einval, sendv,
	  OFF(send, flags), true, ~IPCBOX_SEND_FLAGS)

INPUT_STRUCT_TESTS(recvv)
RESERVED_TEST(recvv)
BATCH_ENTRY_TESTS(recvv)
FLAG_TEST(recvv_entry_flag_bits_outside_recv_flags_are_einval, recvv,
	  OFF(recv, flags), true, ~IPCBOX_RECV_FLAGS)

TEST_HARNESS_MAIN
