// SPDX-License-Identifier: GPL-2.0
/*
 * An ioctl fuzzer for ipcbox: several processes of several threads throw
 * every ipcbox ioctl, read, write, poll, close, dup, open and fork at the
 * control node and at mailboxes, with random and mutated arguments: ioctl
 * numbers near the real ones, random sizes in the size-versioned numbers,
 * structs with random fields, message infos of random sizes (or none),
 * batch entries of random sizes, NULL, unaligned, kernel, unmapped and
 * half-mapped pointers, huge counts, foreign tokens, and mailboxes closed,
 * unlinked and shut down under the other threads' feet.
 *
 * It passes when it finishes, no call returned an errno the ABI does not
 * know (ERESTARTSYS leaking out, say) and the module still works; the VM
 * runner fails the run on any kernel splat. IPCBOX_FUZZ_SECONDS (default
 * 30) bounds the run, IPCBOX_FUZZ_SEED picks the seed (printed either
 * way); the last line of output is
 *   # fuzz: seed=S iterations=N calls=N errors=N
 *
 * The races the fuzzer found have deterministic tests here too.
 */
#include "ipcbox_test.h"

#include <dirent.h>

#include "kselftest_harness.h"

#define FUZZ_PROCS	3
#define FUZZ_THREADS	3
#define FUZZ_WORKERS	(FUZZ_PROCS * FUZZ_THREADS)
#define FUZZ_NAMES	8
#define FUZZ_TOKENS	64
#define FUZZ_POOL	16
#define FUZZ_MAX_SECONDS 540
#define FUZZ_PAGE	4096
#define FUZZ_PAYLOAD	(64 * 1024)
/*
 * SENDV/RECVV arrays: room for IPCBOX_BATCH_MAX entries of a page (the
 * largest entry_size), and a page for a pointer one byte off, so that
 * the kernel, however many entries of whatever size it is told of, only
 * walks this array (a RECVV writes where its entries say). Mapped
 * lazily: what is never written costs nothing.
 */
#define FUZZ_BATCH_BYTES ((IPCBOX_BATCH_MAX + 1) * FUZZ_PAGE)
/*
 * Message infos, a page of room each (an info_size may be up to a page):
 * slot 0 for RECV, REPLY_RECV and CALL, slots 1..8 for RECVV entries, and
 * a page of slack for a pointer one byte off.
 */
#define FUZZ_INFO_SLOTS	9
#define FUZZ_INFO_BYTES	((FUZZ_INFO_SLOTS + 1) * FUZZ_PAGE)

/* Module limits during the run: keep the worst case memory use small. */
#define FUZZ_MAX_MSG	16384
#define FUZZ_MAX_CAP	64
#define FUZZ_MAX_UNB	(256 * 1024)

/* Counters summed over all processes, in shared memory. */
struct fuzz_shared {
	uint64_t seed;
	int64_t deadline_ns;
	uint64_t iterations[FUZZ_WORKERS];
	uint64_t calls[FUZZ_WORKERS];
	uint64_t errors[FUZZ_WORKERS];
	uint64_t unexpected[FUZZ_WORKERS];
	int last_unexpected[FUZZ_WORKERS];
	unsigned long last_unexpected_cmd[FUZZ_WORKERS];
	uint64_t tokens[FUZZ_TOKENS];
};

/* One process: its threads share the fd pool and the flaky page. */
struct fuzz_proc {
	struct fuzz_shared *sh;
	int idx;
	int ctl;
	int pool[FUZZ_POOL];
	char *guard;	/* two read-write pages, then a PROT_NONE page */
	char *flaky;	/* a page other threads keep unmapping, then PROT_NONE */
	volatile int stop;
};

struct fuzz_worker {
	struct fuzz_proc *p;
	pthread_t thread;
	int id;
	struct test_rng rng;
	uint64_t last_token;
	bool in_child;	/* a forked child: forks no further */
	char *arg;	/* 2 pages: ioctl structs, size-versioned up to a page */
	char *payload;
	char *batch;	/* SENDV/RECVV arrays */
	char *info;	/* FUZZ_INFO_SLOTS message infos, a page apart */
};

static const char * const fuzz_params[] = {
	"max_msg_size", "max_capacity", "max_unbounded_bytes",
};
#define FUZZ_NR_PARAMS	(sizeof(fuzz_params) / sizeof(fuzz_params[0]))

static uint64_t rnd(struct fuzz_worker *w)
{
	return rng_next(&w->rng);
}

static uint32_t rnd_below(struct fuzz_worker *w, uint32_t n)
{
	return rng_below(&w->rng, n);
}

static bool one_in(struct fuzz_worker *w, uint32_t n)
{
	return rnd_below(w, n) == 0;
}

/* Every errno an ipcbox call (or the VFS around it) may return. */
static bool errno_known(int e)
{
	switch (e) {
	case EINVAL: case EFAULT: case ENOTTY: case EBADF: case E2BIG:
	case EMSGSIZE: case EAGAIN: case ETIMEDOUT: case EINTR: case EPIPE:
	case ENOBUFS: case ENOENT: case EEXIST: case ENAMETOOLONG:
	case ENOSPC: case EDQUOT: case EPERM: case EACCES: case ECANCELED:
	case ECONNRESET: case ENOMEM: case EMFILE: case ENFILE: case ENXIO:
	case EPROTO:	/* a CALL whose request was taken without its info */
	case ENODEV: case EISDIR:	/* open(2) of /dev/ipcbox/ itself */
		return true;
	}
	return false;
}

static long account(struct fuzz_worker *w, unsigned long what, long ret)
{
	struct fuzz_shared *sh = w->p->sh;

	/* Atomic: a forked child counts into its parent's slot too. */
	__atomic_fetch_add(&sh->calls[w->id], 1, __ATOMIC_RELAXED);
	if (ret < 0) {
		int e = errno;

		__atomic_fetch_add(&sh->errors[w->id], 1, __ATOMIC_RELAXED);
		if (!errno_known(e)) {
			__atomic_fetch_add(&sh->unexpected[w->id], 1,
					   __ATOMIC_RELAXED);
			sh->last_unexpected[w->id] = e;
			sh->last_unexpected_cmd[w->id] = what;
		}
	}
	return ret;
}

static int pick_fd(struct fuzz_worker *w)
{
	struct fuzz_proc *p = w->p;

	switch (rnd_below(w, 16)) {
	case 0:
		return p->ctl;
	case 1:
		/* Whatever that is now, but never stdin, stdout or stderr. */
		return 3 + (int)rnd_below(w, 61);
	case 2:
		return -1;
	default:
		return __atomic_load_n(&p->pool[rnd_below(w, FUZZ_POOL)],
				       __ATOMIC_RELAXED);
	}
}

/* Put a new fd into a random slot, closing what was there. */
static void pool_put(struct fuzz_worker *w, int fd)
{
	int old;

	if (fd < 0)
		return;
	old = __atomic_exchange_n(&w->p->pool[rnd_below(w, FUZZ_POOL)], fd,
				  __ATOMIC_RELAXED);
	if (old >= 0)
		close(old);
}

/* A pointer to @size bytes: mostly @good, sometimes anything but. */
static void *pick_ptr(struct fuzz_worker *w, void *good, size_t size)
{
	struct fuzz_proc *p = w->p;
	size_t cut;

	switch (rnd_below(w, 24)) {
	case 0:
		return NULL;
	case 1:
		return (void *)(uintptr_t)(1 + rnd_below(w, 4095));
	case 2:
		return (void *)0xffff888000000000ULL;	/* kernel memory */
	case 3:
		return (void *)(uintptr_t)rnd(w);
	case 4:
		return (char *)good + 1;	/* unaligned */
	case 5:	/* runs into the PROT_NONE page */
		cut = size ? rnd_below(w, (uint32_t)(size < 8192 ? size : 8192))
			   : 0;
		return p->guard + 2 * FUZZ_PAGE - cut;
	case 6:
		return p->guard + 2 * FUZZ_PAGE;	/* PROT_NONE */
	case 7:
		return p->flaky + rnd_below(w, 64);
	default:
		return good;
	}
}

static uint64_t pick_u64_ptr(struct fuzz_worker *w, void *good, size_t size)
{
	return (uint64_t)(uintptr_t)pick_ptr(w, good, size);
}

static uint32_t pick_len(struct fuzz_worker *w)
{
	switch (rnd_below(w, 12)) {
	case 0:
		return 0;
	case 1:
		return FUZZ_MAX_MSG;
	case 2:
		return FUZZ_MAX_MSG + 1;
	case 3:
		return (uint32_t)rnd(w);
	case 4:
		return rnd_below(w, FUZZ_PAYLOAD);
	case 5:
		return 256 + rnd_below(w, 4096);
	default:
		return rnd_below(w, 200);
	}
}

static int64_t pick_timeout(struct fuzz_worker *w)
{
	switch (rnd_below(w, 10)) {
	case 0:
		return IPCBOX_TIMEOUT_INFINITE;	/* a signal ends it */
	case 1:
		return -2 - rnd_below(w, 100);
	case 2:
		return (int64_t)rnd(w);
	case 3:
		return now_ns() + rnd_below(w, 5) * NSEC_PER_MSEC;	/* ABSTIME */
	case 4:
	case 5:
		return 0;
	default:
		return rnd_below(w, 3 * NSEC_PER_MSEC);
	}
}

static uint32_t pick_flags(struct fuzz_worker *w, uint32_t valid)
{
	uint32_t f = (uint32_t)rnd(w) & valid;

	if (one_in(w, 8))
		f |= 1U << rnd_below(w, 32);
	if (one_in(w, 32))
		f = (uint32_t)rnd(w);
	return f;
}

/* Flip random bits or bytes of a struct, now and then. */
static void mutate(struct fuzz_worker *w, void *s, size_t size)
{
	unsigned char *b = s;
	int i, n;

	if (!size || !one_in(w, 4))
		return;
	n = 1 + rnd_below(w, 4);
	for (i = 0; i < n; i++) {
		size_t at = rnd_below(w, (uint32_t)size);

		if (one_in(w, 2))
			b[at] ^= 1U << rnd_below(w, 8);
		else
			b[at] = (unsigned char)rnd(w);
	}
}

/* A struct size for a size-versioned ioctl number. */
static unsigned int pick_size(struct fuzz_worker *w, unsigned int ver0,
			      unsigned int cur)
{
	switch (rnd_below(w, 16)) {
	case 0:
		return 0;
	case 1:
		return ver0 ? ver0 - 1 : 1;
	case 2:
		return cur + 8;
	case 3:
		return FUZZ_PAGE;
	case 4:
		return FUZZ_PAGE + 1;
	case 5:
		return rnd_below(w, _IOC_SIZEMASK + 1);
	case 6:
		return ver0;
	default:
		return cur;
	}
}

static void fill_send(struct fuzz_worker *w, struct ipcbox_send *s)
{
	uint32_t len = pick_len(w);

	memset(s, 0, sizeof(*s));
	s->len = len;
	s->buf = pick_u64_ptr(w, w->payload, len);
	s->flags = pick_flags(w, IPCBOX_SEND_FLAGS);
	s->timeout_ns = pick_timeout(w);
	s->priority = one_in(w, 8) ? (uint32_t)rnd(w) :
		      rnd_below(w, IPCBOX_PRIO_MAX);
	s->tag = rnd_below(w, 4);
	mutate(w, s, sizeof(*s));
}

/* Message info slot @i of the worker: a page of room. */
static struct ipcbox_msg_info *info_slot(struct fuzz_worker *w, int i)
{
	return (struct ipcbox_msg_info *)(w->info + (size_t)i * FUZZ_PAGE);
}

/*
 * Where a receive (or a CALL's reply) puts its message info: mostly a
 * whole struct in @good, else none (a CALL request so taken fails with
 * EPROTO), a pointer without a size or a size without a pointer, a size
 * below VER0, larger (zero-filled), above a page, or a bad pointer.
 */
static void pick_info(struct fuzz_worker *w, void *good, __u64 *ptr,
		      __u32 *size)
{
	switch (rnd_below(w, 16)) {
	case 0:
	case 1:
		*ptr = 0;
		*size = 0;
		return;
	case 2:
		*ptr = 0;
		*size = sizeof(struct ipcbox_msg_info);
		return;
	case 3:
		*size = 0;
		break;
	case 4:
		*size = rnd_below(w, IPCBOX_MSG_INFO_SIZE_VER0);
		break;
	case 5:
		*size = sizeof(struct ipcbox_msg_info) + 8 * rnd_below(w, 8);
		break;
	case 6:
		*size = FUZZ_PAGE;
		break;
	case 7:
		*size = FUZZ_PAGE + 1;
		break;
	case 8:
		*size = (uint32_t)rnd(w);
		break;
	default:
		*size = sizeof(struct ipcbox_msg_info);
	}
	*ptr = pick_u64_ptr(w, good, *size);
}

static void fill_recv(struct fuzz_worker *w, struct ipcbox_recv *r,
		      struct ipcbox_msg_info *info)
{
	uint32_t size = pick_len(w);

	memset(r, 0, sizeof(*r));
	r->size = size;
	r->buf = pick_u64_ptr(w, w->payload, size);
	r->flags = pick_flags(w, IPCBOX_RECV_FLAGS);
	r->timeout_ns = pick_timeout(w);
	r->filter_pid = one_in(w, 2) ? getpid() : (int32_t)rnd(w);
	r->filter_tag = rnd_below(w, 4);
	pick_info(w, info, &r->info, &r->info_size);
	mutate(w, r, sizeof(*r));
}

/* A batch entry size: mostly the struct's own, else larger or bad. */
static uint32_t pick_entry_size(struct fuzz_worker *w, uint32_t ksize)
{
	switch (rnd_below(w, 16)) {
	case 0:
		return 0;
	case 1:
		return ksize - 8;
	case 2:
		return ksize + 8;
	case 3:
		return ksize + 64;
	case 4:
		return FUZZ_PAGE;
	case 5:
		return FUZZ_PAGE + 1;
	case 6:
		return (uint32_t)rnd(w);
	case 7:
		return ksize + rnd_below(w, 80);	/* unaligned too */
	default:
		return ksize;
	}
}

static uint64_t pick_token(struct fuzz_worker *w)
{
	switch (rnd_below(w, 6)) {
	case 0:
		return 0;
	case 1:
		return rnd(w);
	case 2:
	case 3:	/* possibly another process's */
		return w->p->sh->tokens[rnd_below(w, FUZZ_TOKENS)];
	default:
		return w->last_token;
	}
}

static void note_token(struct fuzz_worker *w, uint64_t token)
{
	if (!token)
		return;
	w->last_token = token;
	w->p->sh->tokens[rnd_below(w, FUZZ_TOKENS)] = token;
}

static void fuzz_name(struct fuzz_worker *w, char *name)
{
	switch (rnd_below(w, 16)) {
	case 0:
		memset(name, 'x', IPCBOX_NAME_MAX);	/* no NUL */
		break;
	case 1:
		strcpy(name, "control");
		break;
	case 2:
		strcpy(name, "../x");
		break;
	case 3:
		name[0] = '\0';
		break;
	default:
		snprintf(name, IPCBOX_NAME_MAX, "fz-%llu-%u",
			 (unsigned long long)(w->p->sh->seed & 0xffff),
			 rnd_below(w, FUZZ_NAMES));
	}
}

static long do_ioctl(struct fuzz_worker *w, int fd, unsigned long cmd,
		     void *arg)
{
	return account(w, cmd, ioctl(fd, cmd, arg));
}

/* A real ioctl with a well-formed but random argument. */
static void op_ioctl(struct fuzz_worker *w)
{
	unsigned long cmd;
	unsigned int ver0, cur;
	char *a = w->arg;
	int fd = pick_fd(w);
	long ret;
	uint32_t n, i;

	memset(a, 0, 2 * FUZZ_PAGE);
	/* Zero where infos go: a token read back after the call is real. */
	for (i = 0; i < FUZZ_INFO_SLOTS; i++)
		memset(info_slot(w, i), 0, sizeof(struct ipcbox_msg_info));
	switch (rnd_below(w, 13)) {
	case 0: {
		cmd = IPCBOX_IOC_INFO;
		ver0 = IPCBOX_INFO_SIZE_VER0;
		cur = sizeof(struct ipcbox_info);
		fd = one_in(w, 4) ? fd : w->p->ctl;
		break;
	}
	case 1: {
		struct ipcbox_create *c = (void *)a;

		fuzz_name(w, c->name);
		if (one_in(w, 3))
			c->name[0] = '\0';
		switch (rnd_below(w, 6)) {
		case 0: c->capacity = 0; break;
		case 1: c->capacity = IPCBOX_CAPACITY_UNBOUNDED; break;
		case 2: c->capacity = (uint32_t)rnd(w); break;
		default: c->capacity = rnd_below(w, FUZZ_MAX_CAP + 2);
		}
		c->msg_size_max = one_in(w, 4) ? (uint32_t)rnd(w) :
				  rnd_below(w, FUZZ_MAX_MSG + 2);
		c->mode = one_in(w, 8) ? (uint32_t)rnd(w) : 0666;
		c->flags = pick_flags(w, IPCBOX_CREATE_FLAGS);
		mutate(w, c, sizeof(*c));
		cmd = IPCBOX_IOC_CREATE;
		ver0 = IPCBOX_CREATE_SIZE_VER0;
		cur = sizeof(*c);
		fd = one_in(w, 4) ? fd : w->p->ctl;
		break;
	}
	case 2: {
		struct ipcbox_unlink *u = (void *)a;

		fuzz_name(w, u->name);
		mutate(w, u, sizeof(*u));
		cmd = IPCBOX_IOC_UNLINK;
		ver0 = IPCBOX_UNLINK_SIZE_VER0;
		cur = sizeof(*u);
		fd = one_in(w, 4) ? fd : w->p->ctl;
		break;
	}
	case 3:
		fill_send(w, (void *)a);
		cmd = IPCBOX_IOC_SEND;
		ver0 = IPCBOX_SEND_SIZE_VER0;
		cur = sizeof(struct ipcbox_send);
		break;
	case 4:
		fill_recv(w, (void *)a, info_slot(w, 0));
		cmd = IPCBOX_IOC_RECV;
		ver0 = IPCBOX_RECV_SIZE_VER0;
		cur = sizeof(struct ipcbox_recv);
		break;
	case 5:
		cmd = IPCBOX_IOC_STAT;
		ver0 = IPCBOX_STAT_SIZE_VER0;
		cur = sizeof(struct ipcbox_stat);
		break;
	case 6:
		if (!one_in(w, 8))
			return;	/* shut down now and then only */
		cmd = IPCBOX_IOC_SHUTDOWN;
		ver0 = 0;
		cur = 0;
		break;
	case 7: {
		struct ipcbox_call *c = (void *)a;
		uint32_t len = pick_len(w);

		c->buf = pick_u64_ptr(w, w->payload, len);
		c->len = len;
		c->flags = pick_flags(w, IPCBOX_CALL_FLAGS);
		c->timeout_ns = pick_timeout(w);
		c->priority = rnd_below(w, IPCBOX_PRIO_MAX + 1);
		c->tag = rnd_below(w, 4);
		c->reply_size = pick_len(w);
		c->reply_buf = pick_u64_ptr(w, w->payload, c->reply_size);
		pick_info(w, info_slot(w, 0), &c->reply_info,
			  &c->reply_info_size);
		mutate(w, c, sizeof(*c));
		cmd = IPCBOX_IOC_CALL;
		ver0 = IPCBOX_CALL_SIZE_VER0;
		cur = sizeof(*c);
		break;
	}
	case 8: {
		struct ipcbox_reply *r = (void *)a;

		r->token = pick_token(w);
		r->len = pick_len(w);
		r->buf = pick_u64_ptr(w, w->payload, r->len);
		mutate(w, r, sizeof(*r));
		cmd = IPCBOX_IOC_REPLY;
		ver0 = IPCBOX_REPLY_SIZE_VER0;
		cur = sizeof(*r);
		break;
	}
	case 9: {
		struct ipcbox_reply_recv *rr = (void *)a;
		struct ipcbox_recv r;

		/* the receive's fields, as a RECV's */
		fill_recv(w, &r, info_slot(w, 0));
		rr->buf = r.buf;
		rr->size = r.size;
		rr->flags = r.flags;
		rr->timeout_ns = r.timeout_ns;
		rr->filter_tag = r.filter_tag;
		rr->filter_pid = r.filter_pid;
		rr->info_size = r.info_size;
		rr->info = r.info;
		rr->token = pick_token(w);
		rr->reply_len = pick_len(w);
		rr->reply_buf = pick_u64_ptr(w, w->payload, rr->reply_len);
		mutate(w, rr, sizeof(*rr));
		cmd = IPCBOX_IOC_REPLY_RECV;
		ver0 = IPCBOX_REPLY_RECV_SIZE_VER0;
		cur = sizeof(*rr);
		break;
	}
	case 10:
	case 11: {
		struct ipcbox_batch *b = (void *)a;
		bool send = rnd(w) & 1;
		uint32_t ksz = send ? sizeof(struct ipcbox_send) :
				      sizeof(struct ipcbox_recv);
		uint32_t esz = pick_entry_size(w, ksz);
		/* entries are laid out esz apart where the kernel takes esz */
		size_t stride = esz >= ksz && esz <= FUZZ_PAGE ? esz : ksz;
		char *e;

		switch (rnd_below(w, 8)) {
		case 0: n = 0; break;
		case 1: n = IPCBOX_BATCH_MAX; break;
		case 2: n = IPCBOX_BATCH_MAX + 1; break;
		case 3: n = (uint32_t)rnd(w); break;
		default: n = 1 + rnd_below(w, 8);
		}
		for (i = 0; i < n && i < IPCBOX_BATCH_MAX; i++) {
			e = w->batch + i * stride;
			if (i >= 8) {	/* the rest alike, cheaply */
				memcpy(e, w->batch, stride);
				if (i >= 64)
					break;
				continue;
			}
			memset(e, 0, stride);
			if (send)
				fill_send(w, (void *)e);
			else	/* each its own info */
				fill_recv(w, (void *)e, info_slot(w, 1 + i));
			/* what the kernel does not know must be zero: E2BIG */
			if (stride > ksz && one_in(w, 16))
				e[ksz + rnd_below(w, stride - ksz)] = 1;
		}
		b->msgs = pick_u64_ptr(w, w->batch,
				       (size_t)(n < 8 ? n : 8) * stride);
		b->count = n;
		b->entry_size = esz;
		mutate(w, b, sizeof(*b));
		cmd = send ? IPCBOX_IOC_SENDV : IPCBOX_IOC_RECVV;
		ver0 = IPCBOX_BATCH_SIZE_VER0;
		cur = sizeof(*b);
		break;
	}
	default:
		/* Raw random bytes for a random mailbox ioctl. */
		for (i = 0; i < 256; i += 8) {
			uint64_t v = rnd(w);

			memcpy(a + i, &v, 8);
		}
		cmd = one_in(w, 2) ? IPCBOX_IOC_SEND : IPCBOX_IOC_RECV;
		ver0 = IPCBOX_SEND_SIZE_VER0;
		cur = ver0;
		break;
	}
	if (ver0 && one_in(w, 4))
		cmd = ioc_resize(cmd, pick_size(w, ver0, cur));
	if (!ver0 && one_in(w, 4))
		cmd = ioc_resize(cmd, rnd_below(w, 256));
	/* The argument itself may be bad too. */
	ret = do_ioctl(w, fd, cmd, pick_ptr(w, a, _IOC_SIZE(cmd)));
	if (ret < 0)
		return;
	if (_IOC_NR(cmd) == _IOC_NR(IPCBOX_IOC_CREATE) &&
	    _IOC_TYPE(cmd) == IPCBOX_IOC_MAGIC && fd == w->p->ctl) {
		pool_put(w, (int)ret);
	} else if (_IOC_NR(cmd) == _IOC_NR(IPCBOX_IOC_RECV) ||
		   _IOC_NR(cmd) == _IOC_NR(IPCBOX_IOC_REPLY_RECV)) {
		note_token(w, info_slot(w, 0)->token);
	} else if (_IOC_NR(cmd) == _IOC_NR(IPCBOX_IOC_RECVV)) {
		for (i = 1; i < FUZZ_INFO_SLOTS; i++)
			note_token(w, info_slot(w, i)->token);
	}
}

/* An ioctl number near the real ones, with whatever argument. */
static void op_ioctl_random(struct fuzz_worker *w)
{
	unsigned long cmd;
	unsigned int type = IPCBOX_IOC_MAGIC;
	void *arg;
	uint32_t i;

	for (i = 0; i < 64; i += 8) {
		uint64_t v = rnd(w);

		memcpy(w->arg + i, &v, 8);
	}
	if (one_in(w, 8))
		type += one_in(w, 2) ? 1 : -1;
	cmd = _IOC(rnd_below(w, 4), type, rnd_below(w, 0x20),
		   rnd_below(w, 512));
	arg = one_in(w, 4) ? (void *)(uintptr_t)rnd(w) :
			     pick_ptr(w, w->arg, _IOC_SIZE(cmd));
	do_ioctl(w, pick_fd(w), cmd, arg);
}

static void op_rw(struct fuzz_worker *w)
{
	uint32_t len = pick_len(w);
	void *buf = pick_ptr(w, w->payload, len);
	int fd = pick_fd(w);

	if (len > FUZZ_PAYLOAD && buf == w->payload)
		len = FUZZ_PAYLOAD;
	if (one_in(w, 2))
		account(w, 1, write(fd, buf, len));
	else
		account(w, 2, read(fd, buf, len));
}

static void op_poll(struct fuzz_worker *w)
{
	struct pollfd pfd[4];
	int i;

	for (i = 0; i < 4; i++) {
		pfd[i].fd = pick_fd(w);
		pfd[i].events = (short)(rnd(w) & (POLLIN | POLLOUT | POLLPRI |
						   POLLRDHUP));
	}
	account(w, 3, poll(pfd, 1 + rnd_below(w, 4), rnd_below(w, 3)));
}

static void op_fd(struct fuzz_worker *w)
{
	struct fuzz_proc *p = w->p;
	char path[128], name[IPCBOX_NAME_MAX];
	static const int modes[] = { O_RDONLY, O_WRONLY, O_RDWR };
	int fd, flags;

	switch (rnd_below(w, 6)) {
	case 0: /* close under the other threads' feet */
		fd = __atomic_exchange_n(&p->pool[rnd_below(w, FUZZ_POOL)], -1,
					 __ATOMIC_RELAXED);
		if (fd >= 0)
			account(w, 4, close(fd));
		break;
	case 1:
		fd = pick_fd(w);
		if (fd >= 0 && fd != p->ctl)
			pool_put(w, (int)account(w, 5, dup(fd)));
		break;
	case 2:
		fuzz_name(w, name);
		name[IPCBOX_NAME_MAX - 1] = '\0';
		dev_path(path, sizeof(path), name);
		flags = modes[rnd_below(w, 3)] | O_CLOEXEC |
			(one_in(w, 2) ? O_NONBLOCK : 0);
		pool_put(w, (int)account(w, 6, open(path, flags)));
		break;
	case 3:	/* an anonymous mailbox, always well-formed */
		fd = mb_create(p->ctl, "", rnd_below(w, 4) == 0 ?
			       IPCBOX_CAPACITY_UNBOUNDED : rnd_below(w, 4),
			       256 + rnd_below(w, FUZZ_MAX_MSG - 256),
			       0, IPCBOX_CREATE_CLOEXEC);
		account(w, 7, fd < 0 ? (errno = -fd, -1) : fd);
		pool_put(w, fd);
		break;
	case 4:
		fd = pick_fd(w);
		flags = fcntl(fd, F_GETFL);
		if (flags < 0)
			break;
		flags ^= one_in(w, 2) ? O_NONBLOCK : O_ASYNC;
		account(w, 8, fcntl(fd, F_SETFL, flags));
		if (flags & O_ASYNC)
			fcntl(fd, F_SETOWN, getpid());
		break;
	default: /* a named mailbox by a well-formed CREATE */
		fuzz_name(w, name);
		name[IPCBOX_NAME_MAX - 1] = '\0';
		fd = mb_create(p->ctl, name, rnd_below(w, 3), 512, 0666,
			       IPCBOX_CREATE_CLOEXEC);
		account(w, 9, fd < 0 ? (errno = -fd, -1) : fd);
		pool_put(w, fd);
		break;
	}
}

/* The flaky page comes and goes: copies from and to it fault half-way. */
static void op_flaky(struct fuzz_worker *w)
{
	struct fuzz_proc *p = w->p;

	if (one_in(w, 2)) {
		mprotect(p->flaky, FUZZ_PAGE, PROT_NONE);
		sched_yield();
		mprotect(p->flaky, FUZZ_PAGE, PROT_READ | PROT_WRITE);
	} else {
		munmap(p->flaky, FUZZ_PAGE);
		sched_yield();
		mmap(p->flaky, FUZZ_PAGE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	}
}

static void fuzz_one(struct fuzz_worker *w);

/*
 * A child that inherits every fd, does a few operations and dies, maybe
 * holding CALL requests it received (their callers see ECONNRESET).
 */
static void op_fork(struct fuzz_worker *w)
{
	pid_t pid;
	int i;

	/* A grandchild would outlive its parent killed by SIGALRM. */
	if (w->in_child)
		return;
	pid = fork();
	if (pid < 0)
		return;
	if (pid == 0) {
		alarm(1);	/* whatever blocks, SIGALRM ends it */
		w->in_child = true;
		w->rng.state ^= (uint64_t)getpid() << 32;
		for (i = 0; i < 20; i++)
			fuzz_one(w);
		_exit(0);
	}
	/* Reap it whatever happens, or its fds outlive the run. */
	while (account(w, 10, waitpid(pid, NULL, 0)) < 0 && errno == EINTR)
		if (w->p->stop)
			kill(pid, SIGKILL);
}

static void fuzz_one(struct fuzz_worker *w)
{
	uint32_t r = rnd_below(w, 100);

	if (r < 50)
		op_ioctl(w);
	else if (r < 60)
		op_ioctl_random(w);
	else if (r < 72)
		op_rw(w);
	else if (r < 78)
		op_poll(w);
	else if (r < 96)
		op_fd(w);
	else if (r < 99)
		op_flaky(w);
	else
		op_fork(w);
}

static void *worker_fn(void *arg)
{
	struct fuzz_worker *w = arg;
	struct fuzz_shared *sh = w->p->sh;
	int i;

	for (i = 0; i < FUZZ_PAYLOAD; i += 64)
		w->payload[i] = (char)i;
	while (!w->p->stop && now_ns() < sh->deadline_ns) {
		fuzz_one(w);
		__atomic_fetch_add(&sh->iterations[w->id], 1,
				   __ATOMIC_RELAXED);
	}
	return NULL;
}

static void fuzz_sig(int sig)
{
}

/* One fuzzing process: FUZZ_THREADS workers, then a clean exit. */
static int fuzz_process(void *arg, int idx)
{
	struct fuzz_shared *sh = arg;
	struct fuzz_worker ws[FUZZ_THREADS];
	struct fuzz_proc p;
	struct sigaction sa;
	int i, t;

	memset(&p, 0, sizeof(p));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fuzz_sig;	/* no SA_RESTART: waits end in EINTR */
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGIO, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	p.sh = sh;
	p.idx = idx;
	p.ctl = ctl_open();
	if (p.ctl < 0)
		return 1;
	for (i = 0; i < FUZZ_POOL; i++)
		p.pool[i] = -1;
	p.guard = mmap(NULL, 3 * FUZZ_PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	p.flaky = mmap(NULL, 2 * FUZZ_PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p.guard == MAP_FAILED || p.flaky == MAP_FAILED)
		return 1;
	mprotect(p.guard + 2 * FUZZ_PAGE, FUZZ_PAGE, PROT_NONE);
	/* a batch array there (entries up to a page) stops at this one */
	mprotect(p.flaky + FUZZ_PAGE, FUZZ_PAGE, PROT_NONE);

	for (t = 0; t < FUZZ_THREADS; t++) {
		struct fuzz_worker *w = &ws[t];

		memset(w, 0, sizeof(*w));
		w->p = &p;
		w->id = idx * FUZZ_THREADS + t;
		rng_seed(&w->rng, sh->seed * 1000003ULL + (uint64_t)w->id);
		w->arg = aligned_alloc(FUZZ_PAGE, 2 * FUZZ_PAGE);
		w->payload = malloc(FUZZ_PAYLOAD);
		w->batch = mmap(NULL, FUZZ_BATCH_BYTES, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
				-1, 0);
		w->info = aligned_alloc(FUZZ_PAGE, FUZZ_INFO_BYTES);
		if (!w->arg || !w->payload || w->batch == MAP_FAILED ||
		    !w->info)
			return 1;
		memset(w->info, 0, FUZZ_INFO_BYTES);
		if (pthread_create(&w->thread, NULL, worker_fn, w))
			return 1;
	}
	/*
	 * Interrupt a worker now and then (waits without a timeout end in
	 * EINTR), and at the deadline knock them all out of their waits.
	 */
	for (t = 0; now_ns() < sh->deadline_ns; t++) {
		sleep_ms(50);
		if (t % 4 == 0)
			pthread_kill(ws[(t / 4) % FUZZ_THREADS].thread, SIGUSR1);
	}
	p.stop = 1;
	for (t = 0; t < FUZZ_THREADS; t++) {
		while (pthread_tryjoin_np(ws[t].thread, NULL) == EBUSY) {
			pthread_kill(ws[t].thread, SIGUSR1);
			sleep_ms(20);
		}
	}
	for (i = 0; i < FUZZ_POOL; i++)
		if (p.pool[i] >= 0)
			close(p.pool[i]);
	close(p.ctl);
	return 0;
}

/* The names in /sys/class/ipcbox, joined by '/' (never in a name). */
static void list_names(char *out, size_t sz)
{
	struct dirent *de;
	size_t used = 1;
	DIR *d;

	strcpy(out, "/");
	d = opendir(SYSFS_CLASS);
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' ||
		    used + strlen(de->d_name) + 2 > sz)
			continue;
		used += sprintf(out + used, "%s/", de->d_name);
	}
	closedir(d);
}

/*
 * Remove every name the fuzzer left behind (mutated CREATEs make up
 * names of their own): all but those in @keep.
 */
static void fuzz_unlink_all(int ctl, const char *keep)
{
	char names[8192], *name, *save = NULL, pat[IPCBOX_NAME_MAX + 2];

	list_names(names, sizeof(names));
	for (name = strtok_r(names, "/", &save); name;
	     name = strtok_r(NULL, "/", &save)) {
		snprintf(pat, sizeof(pat), "/%s/", name);
		if (!strstr(keep, pat))
			mb_unlink(ctl, name);
	}
}

FIXTURE(fuzz) {
	int ctl;
	int refcnt;
	char keep[8192];
	unsigned long long saved[FUZZ_NR_PARAMS];
	bool have_saved;
	uint64_t seed;
	struct fuzz_shared *sh;
};

FIXTURE_SETUP(fuzz)
{
	int i;

	self->have_saved = false;
	self->sh = MAP_FAILED;
	CTL_OPEN_OR_SKIP(self->ctl);
	i = params_save(fuzz_params, FUZZ_NR_PARAMS, self->saved);
	ASSERT_EQ(-1, i) TH_LOG("cannot read %s", fuzz_params[i]);
	self->have_saved = true;
	list_names(self->keep, sizeof(self->keep));
	self->refcnt = module_refcnt();
	ASSERT_EQ(0, param_set("max_msg_size", FUZZ_MAX_MSG));
	ASSERT_EQ(0, param_set("max_capacity", FUZZ_MAX_CAP));
	ASSERT_EQ(0, param_set("max_unbounded_bytes", FUZZ_MAX_UNB));
	self->sh = mmap(NULL, sizeof(*self->sh), PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->sh);
}

FIXTURE_TEARDOWN(fuzz)
{
	int i;

	if (self->sh != MAP_FAILED) {
		if (self->ctl >= 0)
			fuzz_unlink_all(self->ctl, self->keep);
		munmap(self->sh, sizeof(*self->sh));
	}
	if (self->have_saved &&
	    (i = params_restore(fuzz_params, FUZZ_NR_PARAMS, self->saved)) >= 0)
		TH_LOG("could not restore %s", fuzz_params[i]);
	close_fd(&self->ctl);
}

static unsigned long env_ulong(const char *name, unsigned long def)
{
	const char *s = getenv(name);
	char *end;
	unsigned long v;

	if (!s || !*s)
		return def;
	errno = 0;
	v = strtoul(s, &end, 0);
	return errno || *end ? def : v;
}

/*
 * A case's seed (IPCBOX_FUZZ_SEED, else the time) and deadline
 * (IPCBOX_FUZZ_SECONDS from now, at most FUZZ_MAX_SECONDS), printed
 * first so that the same choices can be made again.
 */
static void fuzz_start(const char *what, uint64_t *seed, int64_t *deadline)
{
	unsigned long secs = env_ulong("IPCBOX_FUZZ_SECONDS", 30);

	if (secs > FUZZ_MAX_SECONDS)
		secs = FUZZ_MAX_SECONDS;
	*seed = env_ulong("IPCBOX_FUZZ_SEED", (unsigned long)time(NULL));
	*deadline = now_ns() + (int64_t)secs * NSEC_PER_SEC;
	printf("# fuzz: %sseed=%llu seconds=%lu processes=%d threads=%d (IPCBOX_FUZZ_SEED=%llu reproduces the choices)\n",
	       what, (unsigned long long)*seed, secs, FUZZ_PROCS, FUZZ_THREADS,
	       (unsigned long long)*seed);
	fflush(stdout);
}

/*
 * FUZZ_PROCS processes running fn(sh, index), each of which must end
 * cleanly; @pids learns each pid as soon as it is forked (the siblings
 * stop one only once it is known).
 */
static void fuzz_procs(struct __test_metadata *_metadata,
		       int (*fn)(void *sh, int idx), void *sh, pid_t *pids)
{
	int i, status;
	pid_t pid;

	for (i = 0; i < FUZZ_PROCS; i++) {
		pid = fork();
		ASSERT_GE(pid, 0);
		if (pid == 0)
			_exit(fn(sh, i));
		__atomic_store_n(&pids[i], pid, __ATOMIC_RELEASE);
	}
	for (i = 0; i < FUZZ_PROCS; i++) {
		ASSERT_EQ(pids[i], waitpid(pids[i], &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
			TH_LOG("fuzzing process %d ended with status %#x",
			       i, status);
	}
}

/* After a case: the module still works, a new mailbox carries a message. */
static void expect_still_alive(struct __test_metadata *_metadata, int ctl)
{
	char buf[64];
	int fd;

	fd = mb_create(ctl, "", 4, 0, 0, IPCBOX_CREATE_CLOEXEC);
	ASSERT_GE(fd, 0) TH_LOG("create after fuzzing: %s", strerror(-fd));
	ASSERT_EQ(0, mb_send_str(fd, "still alive"));
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(11, mb_recv(fd, buf, sizeof(buf) - 1, 0, NSEC_PER_SEC));
	EXPECT_STREQ("still alive", buf);
	close(fd);
}

TEST_F_TIMEOUT(fuzz, all_ioctls_from_threads_and_processes,
	       FUZZ_MAX_SECONDS + 60)
{
	struct fuzz_shared *sh = self->sh;
	uint64_t iters = 0, calls = 0, errors = 0, unexpected = 0;
	pid_t pids[FUZZ_PROCS];
	int i;

	fuzz_start("", &sh->seed, &sh->deadline_ns);
	fuzz_procs(_metadata, fuzz_process, sh, pids);
	for (i = 0; i < FUZZ_WORKERS; i++) {
		iters += sh->iterations[i];
		calls += sh->calls[i];
		errors += sh->errors[i];
		unexpected += sh->unexpected[i];
		if (sh->unexpected[i])
			TH_LOG("worker %d: %llu unknown errnos, last %d (%s) from %#lx",
			       i, (unsigned long long)sh->unexpected[i],
			       sh->last_unexpected[i],
			       strerror(sh->last_unexpected[i]),
			       sh->last_unexpected_cmd[i]);
	}
	printf("# fuzz: seed=%llu iterations=%llu calls=%llu errors=%llu\n",
	       (unsigned long long)sh->seed, (unsigned long long)iters,
	       (unsigned long long)calls, (unsigned long long)errors);
	fflush(stdout);
	EXPECT_EQ(0, unexpected);
	EXPECT_GT(calls, 0);

	/*
	 * Still sane: the names go and with them every module reference
	 * the fuzzer took, the limits come back, mailboxes work.
	 */
	fuzz_unlink_all(self->ctl, self->keep);
	EXPECT_EQ(self->refcnt, module_refcnt());
	ASSERT_EQ(-1, params_restore(fuzz_params, FUZZ_NR_PARAMS, self->saved));
	expect_still_alive(_metadata, self->ctl);
}

/*
 * Sequence fuzzing: the same three processes of three threads, but every
 * call well-formed, on two named mailboxes each process opens, closes and
 * reopens, so that the CALL state machine is driven in random orders
 * rather than rejected at the door: CALLs with short relative, ABSTIME
 * or infinite timeouts, RECVs keeping the tokens they get, REPLY and
 * REPLY_RECV with those tokens, on the fd that received them or another,
 * with tokens of other processes and made-up ones, replies too long for
 * the caller, SYNC sends, SHUTDOWN, create and unlink, SIGUSR1 at sibling
 * threads with SA_RESTART switched on and off, and SIGSTOP/SIGCONT of a
 * sibling process. Servers answer with the request itself: a CALL that
 * returns anything else got somebody else's reply, and as many CALLs
 * return a reply as REPLYs (and REPLY_RECVs) delivered one.
 *
 * Runs IPCBOX_FUZZ_SECONDS like the other case, with the same seed rules;
 * prints "# fuzz: sequences seed=S ops=N calls=N replies=N ...".
 */
#define SEQ_NAMES	2
#define SEQ_FDS		6
#define SEQ_HELD	8

struct seq_shared {
	uint64_t seed;
	int64_t deadline_ns;
	pid_t pids[FUZZ_PROCS];
	int stopper;			/* who may SIGSTOP a sibling now */
	uint64_t tokens[FUZZ_TOKENS];	/* tokens seen, for foreign replies */
	uint64_t ops[FUZZ_WORKERS];
	uint64_t calls[FUZZ_WORKERS], call_ok[FUZZ_WORKERS];
	uint64_t replies[FUZZ_WORKERS], reply_ok[FUZZ_WORKERS];
	uint64_t shutdowns[FUZZ_WORKERS], stops[FUZZ_WORKERS];
	uint64_t signals[FUZZ_WORKERS], reopens[FUZZ_WORKERS];
	uint64_t wrong_reply[FUZZ_WORKERS];
	uint64_t unexpected[FUZZ_WORKERS];
	int last_unexpected[FUZZ_WORKERS];
	int last_unexpected_op[FUZZ_WORKERS];
	char names[SEQ_NAMES][IPCBOX_NAME_MAX];
};

/* A request: who asked, and what; the server sends it back. */
struct seq_req {
	pid_t tid;
	uint32_t n;
	uint64_t salt;
};

struct seq_held {
	int fd;
	uint64_t token;
	struct seq_req req;
};

struct seq_proc {
	struct seq_shared *sh;
	int idx;
	int ctl;
	int fds[SEQ_FDS];
	pthread_t threads[FUZZ_THREADS];
	pthread_mutex_t lock;	/* held tokens */
	struct seq_held held[SEQ_HELD];
	int ready;
	volatile int stop;
};

struct seq_worker {
	struct seq_proc *p;
	int id;
	struct test_rng rng;
	uint32_t n;
};

enum seq_op {
	SEQ_OPEN, SEQ_CLOSE, SEQ_UNLINK, SEQ_CALL, SEQ_RECV, SEQ_REPLY,
	SEQ_REPLY_RECV, SEQ_SEND, SEQ_SHUTDOWN, SEQ_SIGNAL, SEQ_STOP,
};

static uint64_t seq_rnd(struct seq_worker *w)
{
	return rng_next(&w->rng);
}

static uint32_t seq_below(struct seq_worker *w, uint32_t n)
{
	return rng_below(&w->rng, n);
}

static void seq_sig(int sig)
{
}

/* Whether SIGUSR1 restarts this process's calls now. */
static volatile bool seq_restart;

/* SIGUSR1 with or without SA_RESTART, for the whole process. */
static void seq_handler(bool restart)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = seq_sig;
	sa.sa_flags = restart ? SA_RESTART : 0;
	seq_restart = restart;
	sigaction(SIGUSR1, &sa, NULL);
}

static void seq_account(struct seq_worker *w, enum seq_op op, int ret)
{
	struct seq_shared *sh = w->p->sh;

	if (ret >= 0 || errno_known(-ret))
		return;
	__atomic_fetch_add(&sh->unexpected[w->id], 1, __ATOMIC_RELAXED);
	sh->last_unexpected[w->id] = -ret;
	sh->last_unexpected_op[w->id] = op;
}

static int seq_fd(struct seq_worker *w)
{
	return __atomic_load_n(&w->p->fds[seq_below(w, SEQ_FDS)],
			       __ATOMIC_RELAXED);
}

static int64_t seq_timeout(struct seq_worker *w, uint32_t *flags,
			   uint32_t abstime)
{
	switch (seq_below(w, 8)) {
	case 0:
		/* a signal or SHUTDOWN ends it, unless SA_RESTART restarts it */
		if (!seq_restart)
			return IPCBOX_TIMEOUT_INFINITE;
		*flags |= abstime;
		return now_ns() + (20 + seq_below(w, 80)) * NSEC_PER_MSEC;
	case 1:
	case 2:
		*flags |= abstime;
		return now_ns() + (1 + seq_below(w, 10)) * NSEC_PER_MSEC;
	default:
		return (1 + seq_below(w, 10)) * NSEC_PER_MSEC;
	}
}

static void seq_open(struct seq_worker *w)
{
	struct seq_proc *p = w->p;
	const char *name = p->sh->names[seq_below(w, SEQ_NAMES)];
	int fd, old;

	fd = mb_open(name, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		static const uint32_t caps[] = { 0, 1, 4,
						 IPCBOX_CAPACITY_UNBOUNDED };

		if (fd == -ENOENT)
			fd = mb_create(p->ctl, name, caps[seq_below(w, 4)], 256,
				       0600, IPCBOX_CREATE_CLOEXEC);
		seq_account(w, SEQ_OPEN, fd);
	}
	if (fd < 0)
		return;
	__atomic_fetch_add(&p->sh->reopens[w->id], 1, __ATOMIC_RELAXED);
	old = __atomic_exchange_n(&p->fds[seq_below(w, SEQ_FDS)], fd,
				  __ATOMIC_RELAXED);
	if (old >= 0)
		close(old);
}

static void seq_hold(struct seq_worker *w, int fd, uint64_t token,
		     const struct seq_req *req)
{
	struct seq_proc *p = w->p;
	struct seq_held *h;

	if (!token)
		return;
	p->sh->tokens[seq_below(w, FUZZ_TOKENS)] = token;
	pthread_mutex_lock(&p->lock);
	h = &p->held[seq_below(w, SEQ_HELD)];
	h->fd = fd;
	h->token = token;
	h->req = *req;
	pthread_mutex_unlock(&p->lock);
}

/*
 * A token to answer with: mostly one held here, on the fd it came to
 * (true: *req is its request), else a wrong fd or somebody else's token.
 */
static bool seq_pick_token(struct seq_worker *w, int *fd, uint64_t *token,
			   struct seq_req *req)
{
	struct seq_proc *p = w->p;
	struct seq_held *h;

	memset(req, 0, sizeof(*req));
	pthread_mutex_lock(&p->lock);
	h = &p->held[seq_below(w, SEQ_HELD)];
	*fd = h->fd;
	*token = h->token;
	*req = h->req;
	if (seq_below(w, 4))
		h->token = 0;	/* used up, as far as this process knows */
	pthread_mutex_unlock(&p->lock);
	if (*fd < 0)
		*fd = seq_fd(w);
	switch (seq_below(w, 10)) {
	case 0:
		*fd = seq_fd(w);	/* the wrong fd, maybe */
		break;
	case 1:
		*token = p->sh->tokens[seq_below(w, FUZZ_TOKENS)];
		break;
	case 2:
		*token = seq_rnd(w) | 1;
		break;
	default:
		return true;
	}
	if (*fd < 0 || !*token)
		*fd = seq_fd(w);
	return false;
}

/* The payload answering @req: itself if the token is its, else "nope". */
static void seq_payload(bool own, const struct seq_req *req, const void **buf,
			uint32_t *len)
{
	*buf = own ? (const void *)req : "nope";
	*len = own ? sizeof(*req) : 4;
}

static void seq_call(struct seq_worker *w)
{
	struct seq_shared *sh = w->p->sh;
	struct ipcbox_msg_info info;
	struct ipcbox_call c;
	struct seq_req req, rep;
	uint32_t flags = 0;
	int ret;

	req.tid = test_gettid();
	req.n = ++w->n;
	req.salt = seq_rnd(w);
	memset(&rep, 0, sizeof(rep));
	memset(&c, 0, sizeof(c));
	c.timeout_ns = seq_timeout(w, &flags, IPCBOX_ABSTIME);
	c.flags = flags;
	c.buf = (uintptr_t)&req;
	c.len = sizeof(req);
	c.priority = seq_below(w, 3);
	c.tag = seq_below(w, 3);
	c.reply_buf = (uintptr_t)&rep;
	c.reply_size = sizeof(rep);
	memset(&info, 0, sizeof(info));
	if (seq_below(w, 2)) {
		c.reply_info = (uintptr_t)&info;
		c.reply_info_size = sizeof(info);
	}
	__atomic_fetch_add(&sh->calls[w->id], 1, __ATOMIC_RELAXED);
	ret = sys_ioctl(seq_fd(w), IPCBOX_IOC_CALL, &c);
	seq_account(w, SEQ_CALL, ret);
	if (ret < 0)
		return;
	__atomic_fetch_add(&sh->call_ok[w->id], 1, __ATOMIC_RELAXED);
	/* the reply's info: the request's tag, the reply's length */
	if (c.reply_info && (info.tag != c.tag || info.len != (uint32_t)ret))
		__atomic_fetch_add(&sh->wrong_reply[w->id], 1,
				   __ATOMIC_RELAXED);
	/* its own request back, or "nope" for a token that was not held */
	if (ret == 4 && !memcmp(&rep, "nope", 4))
		return;
	if (ret != sizeof(rep) || memcmp(&rep, &req, sizeof(req)))
		__atomic_fetch_add(&sh->wrong_reply[w->id], 1,
				   __ATOMIC_RELAXED);
}

static void seq_recv(struct seq_worker *w, bool reply_first)
{
	struct seq_shared *sh = w->p->sh;
	struct ipcbox_reply_recv rr;
	struct ipcbox_msg_info info;
	struct seq_req req, held;
	uint32_t flags = 0;
	uint64_t token = 0;
	const void *pbuf;
	uint32_t plen;
	bool own;
	int fd, ret;
	char big[sizeof(held) + 8];

	memset(&req, 0, sizeof(req));
	if (seq_below(w, 8) == 0)
		flags |= IPCBOX_RECV_FILTER_TAG;
	if (seq_below(w, 16) == 0)
		flags |= IPCBOX_RECV_PEEK;
	if (!reply_first) {
		fd = seq_fd(w);
		ret = mb_recv_full(fd, &req, sizeof(req), flags,
				   seq_timeout(w, &flags, IPCBOX_ABSTIME),
				   0, seq_below(w, 3), &info);
		seq_account(w, SEQ_RECV, ret);
	} else {
		own = seq_pick_token(w, &fd, &token, &held);
		seq_payload(own, &held, &pbuf, &plen);
		memset(&rr, 0, sizeof(rr));
		rr.token = token;
		rr.reply_buf = (uintptr_t)pbuf;
		rr.reply_len = plen;
		if (seq_below(w, 16) == 0) {
			memset(big, 0, sizeof(big));
			rr.reply_buf = (uintptr_t)big;
			rr.reply_len = sizeof(big);
		}
		rr.buf = (uintptr_t)&req;
		rr.size = sizeof(req);
		rr.timeout_ns = seq_timeout(w, &rr.flags, IPCBOX_ABSTIME);
		rr.flags |= flags & ~IPCBOX_RECV_PEEK;
		rr.filter_tag = seq_below(w, 3);
		/* with the info: a request it takes can be answered */
		memset(&info, 0, sizeof(info));
		rr.info = (uintptr_t)&info;
		rr.info_size = sizeof(info);
		__atomic_fetch_add(&sh->replies[w->id], 1, __ATOMIC_RELAXED);
		ret = sys_ioctl(fd, IPCBOX_IOC_REPLY_RECV, &rr);
		seq_account(w, SEQ_REPLY_RECV, ret);
		/* the kernel clears the token once it made the reply */
		if (token && !rr.token) {
			seq_account(w, SEQ_REPLY_RECV, rr.reply_error);
			if (!rr.reply_error)
				__atomic_fetch_add(&sh->reply_ok[w->id], 1,
						   __ATOMIC_RELAXED);
		}
	}
	if (ret == sizeof(req))
		seq_hold(w, fd, info.token, &req);
}

static void seq_reply(struct seq_worker *w)
{
	struct seq_shared *sh = w->p->sh;
	struct seq_req req;
	uint64_t token;
	char big[sizeof(req) + 8];
	const void *pbuf;
	uint32_t plen;
	bool own;
	int fd, ret;

	own = seq_pick_token(w, &fd, &token, &req);
	seq_payload(own, &req, &pbuf, &plen);
	__atomic_fetch_add(&sh->replies[w->id], 1, __ATOMIC_RELAXED);
	if (seq_below(w, 16) == 0) {
		memset(big, 0, sizeof(big));
		ret = mb_reply(fd, token, big, sizeof(big));
	} else {
		ret = mb_reply(fd, token, pbuf, plen);
	}
	seq_account(w, SEQ_REPLY, ret);
	if (!ret)
		__atomic_fetch_add(&sh->reply_ok[w->id], 1, __ATOMIC_RELAXED);
}

static void seq_stop_sibling(struct seq_worker *w)
{
	struct seq_shared *sh = w->p->sh;
	int me = w->p->idx, free = -1;
	pid_t pid;

	/* One stopper at a time, or two processes stop each other for good. */
	if (!__atomic_compare_exchange_n(&sh->stopper, &free, me, false,
					 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return;
	pid = __atomic_load_n(&sh->pids[(me + 1 + seq_below(w, FUZZ_PROCS - 1)) %
				       FUZZ_PROCS], __ATOMIC_ACQUIRE);
	if (pid > 0) {
		kill(pid, SIGSTOP);
		usleep(seq_below(w, 3000));
		kill(pid, SIGCONT);
		__atomic_fetch_add(&sh->stops[w->id], 1, __ATOMIC_RELAXED);
	}
	__atomic_store_n(&sh->stopper, -1, __ATOMIC_SEQ_CST);
}

static void seq_one(struct seq_worker *w)
{
	struct seq_proc *p = w->p;
	uint32_t r = seq_below(w, 100);
	int fd, ret;

	if (r < 8) {
		seq_open(w);
	} else if (r < 11) {
		fd = __atomic_exchange_n(&p->fds[seq_below(w, SEQ_FDS)], -1,
					 __ATOMIC_RELAXED);
		if (fd >= 0)
			close(fd);
	} else if (r < 12) {
		ret = mb_unlink(p->ctl, p->sh->names[seq_below(w, SEQ_NAMES)]);
		seq_account(w, SEQ_UNLINK, ret);
	} else if (r < 36) {
		seq_call(w);
	} else if (r < 56) {
		seq_recv(w, false);
	} else if (r < 70) {
		seq_reply(w);
	} else if (r < 80) {
		seq_recv(w, true);
	} else if (r < 88) {
		ret = mb_send(seq_fd(w), "x", 1,
			      seq_below(w, 2) ? IPCBOX_SEND_SYNC : 0,
			      seq_below(w, 4) * NSEC_PER_MSEC);
		seq_account(w, SEQ_SEND, ret);
	} else if (r < 89) {
		if (seq_below(w, 4) == 0) {
			ret = mb_shutdown(seq_fd(w));
			seq_account(w, SEQ_SHUTDOWN, ret);
			__atomic_fetch_add(&p->sh->shutdowns[w->id], 1,
					   __ATOMIC_RELAXED);
		}
	} else if (r < 97) {
		if (seq_below(w, 8) == 0)
			seq_handler(seq_below(w, 2));
		pthread_kill(p->threads[seq_below(w, FUZZ_THREADS)], SIGUSR1);
		__atomic_fetch_add(&p->sh->signals[w->id], 1, __ATOMIC_RELAXED);
	} else {
		seq_stop_sibling(w);
	}
}

static void *seq_worker_fn(void *arg)
{
	struct seq_worker *w = arg;

	/* signals go to the siblings' threads: they must all be there */
	while (!__atomic_load_n(&w->p->ready, __ATOMIC_ACQUIRE))
		sleep_ms(1);
	while (!w->p->stop && now_ns() < w->p->sh->deadline_ns) {
		seq_one(w);
		__atomic_fetch_add(&w->p->sh->ops[w->id], 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static int seq_process(void *arg, int idx)
{
	struct seq_shared *sh = arg;
	struct seq_worker ws[FUZZ_THREADS];
	struct seq_proc p;
	sigset_t set;
	int i, t;

	memset(&p, 0, sizeof(p));
	p.sh = sh;
	p.idx = idx;
	p.ctl = ctl_open();
	if (p.ctl < 0)
		return 1;
	pthread_mutex_init(&p.lock, NULL);
	for (i = 0; i < SEQ_FDS; i++)
		p.fds[i] = -1;
	seq_handler(idx % 2);
	signal(SIGPIPE, SIG_IGN);
	for (t = 0; t < FUZZ_THREADS; t++) {
		ws[t].p = &p;
		ws[t].id = idx * FUZZ_THREADS + t;
		rng_seed(&ws[t].rng, sh->seed * 7919ULL + (uint64_t)ws[t].id);
		ws[t].n = 0;
		if (pthread_create(&p.threads[t], NULL, seq_worker_fn, &ws[t]))
			return 1;
	}
	__atomic_store_n(&p.ready, 1, __ATOMIC_RELEASE);
	/*
	 * The workers take the signals; this thread interrupts one now and
	 * then (waits without a timeout end in EINTR) and ends the run.
	 */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	for (t = 0; now_ns() < sh->deadline_ns; t++) {
		sleep_ms(20);
		pthread_kill(p.threads[t % FUZZ_THREADS], SIGUSR1);
	}
	p.stop = 1;
	/* Without SA_RESTART every wait ends at the next signal. */
	seq_handler(false);
	for (t = 0; t < FUZZ_THREADS; t++) {
		while (pthread_tryjoin_np(p.threads[t], NULL) == EBUSY) {
			pthread_kill(p.threads[t], SIGUSR1);
			sleep_ms(20);
		}
	}
	for (i = 0; i < SEQ_FDS; i++)
		if (p.fds[i] >= 0)
			close(p.fds[i]);
	close(p.ctl);
	return 0;
}

TEST_F_TIMEOUT(fuzz, call_sequences_in_random_orders, FUZZ_MAX_SECONDS + 60)
{
	uint64_t ops = 0, calls = 0, call_ok = 0, replies = 0, reply_ok = 0;
	uint64_t shutdowns = 0, stops = 0, sigs = 0, reopens = 0, wrong = 0;
	uint64_t unexpected = 0;
	struct seq_shared *sh;
	int i;

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, sh);
	sh->stopper = -1;
	for (i = 0; i < SEQ_NAMES; i++)
		snprintf(sh->names[i], IPCBOX_NAME_MAX, "fzseq-%d-%d",
			 getpid(), i);
	fuzz_start("sequences ", &sh->seed, &sh->deadline_ns);
	fuzz_procs(_metadata, seq_process, sh, sh->pids);
	for (i = 0; i < FUZZ_WORKERS; i++) {
		ops += sh->ops[i];
		calls += sh->calls[i];
		call_ok += sh->call_ok[i];
		replies += sh->replies[i];
		reply_ok += sh->reply_ok[i];
		shutdowns += sh->shutdowns[i];
		stops += sh->stops[i];
		sigs += sh->signals[i];
		reopens += sh->reopens[i];
		wrong += sh->wrong_reply[i];
		unexpected += sh->unexpected[i];
		if (sh->unexpected[i])
			TH_LOG("worker %d: %llu unknown errnos, last %d (%s) from op %d",
			       i, (unsigned long long)sh->unexpected[i],
			       sh->last_unexpected[i],
			       strerror(sh->last_unexpected[i]),
			       sh->last_unexpected_op[i]);
	}
	printf("# fuzz: sequences seed=%llu ops=%llu calls=%llu (replied %llu) replies=%llu (ok %llu) wrong_replies=%llu shutdowns=%llu signals=%llu stops=%llu opens=%llu unexpected=%llu\n",
	       (unsigned long long)sh->seed, (unsigned long long)ops,
	       (unsigned long long)calls, (unsigned long long)call_ok,
	       (unsigned long long)replies, (unsigned long long)reply_ok,
	       (unsigned long long)wrong, (unsigned long long)shutdowns,
	       (unsigned long long)sigs, (unsigned long long)stops,
	       (unsigned long long)reopens, (unsigned long long)unexpected);
	fflush(stdout);
	EXPECT_EQ(0, unexpected);
	EXPECT_EQ(0, wrong) TH_LOG("CALLs returned another request's reply");
	/* every reply a REPLY delivered is one a CALL returned, and back */
	EXPECT_EQ(reply_ok, call_ok)
		TH_LOG("%llu replies delivered, %llu returned by CALLs",
		       (unsigned long long)reply_ok,
		       (unsigned long long)call_ok);
	EXPECT_LT(0, call_ok);

	for (i = 0; i < SEQ_NAMES; i++)
		mb_unlink(self->ctl, sh->names[i]);
	munmap(sh, sizeof(*sh));
	EXPECT_EQ(self->refcnt, module_refcnt());
	expect_still_alive(_metadata, self->ctl);
}

/*
 * A PEEK copies a message outside the mailbox lock, holding a reference.
 * A blocked sender whose message it copies may give up meanwhile (timeout,
 * shutdown); its message must then outlive the copy. The PEEK's buffer is
 * a userfaultfd page, so the copy stops half-way until the sender is gone.
 */
enum peek_race_end { END_SEND_TIMEOUT, END_CALL_TIMEOUT, END_SHUTDOWN };

FIXTURE(peek_race) {
	int ctl;
	int fd;
	int uffd;
	char *page;
};

FIXTURE_VARIANT(peek_race) {
	enum peek_race_end end;
	uint32_t capacity;
};

FIXTURE_VARIANT_ADD(peek_race, send_times_out) {
	.end = END_SEND_TIMEOUT,
	.capacity = 0,
};

FIXTURE_VARIANT_ADD(peek_race, call_times_out) {
	.end = END_CALL_TIMEOUT,
	.capacity = 4,
};

FIXTURE_VARIANT_ADD(peek_race, shutdown_aborts_send) {
	.end = END_SHUTDOWN,
	.capacity = 0,
};

FIXTURE_SETUP(peek_race)
{
	cpu_set_t cpus;

	self->fd = -1;
	self->uffd = -1;
	self->page = MAP_FAILED;
	CTL_OPEN_OR_SKIP(self->ctl);
	/* One CPU: a freed message is the next one allocated. */
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	sched_setaffinity(0, sizeof(cpus), &cpus);
	self->uffd = uffd_open();
	if (self->uffd < 0)
		SKIP(return, "userfaultfd: %s", strerror(-self->uffd));
	self->page = uffd_area(self->uffd, FUZZ_PAGE);
	ASSERT_NE(MAP_FAILED, self->page) TH_LOG("%m");
	self->fd = mb_anon(self->ctl, variant->capacity, 256);
	ASSERT_GE(self->fd, 0);
}

FIXTURE_TEARDOWN(peek_race)
{
	close_fd(&self->fd);
	close_fd(&self->uffd);
	if (self->page != MAP_FAILED)
		munmap(self->page, FUZZ_PAGE);
	close_fd(&self->ctl);
}

struct race_op {
	pthread_t thread;
	int fd;
	int ret;
	void *buf;
	char data[100];
};

static void *caller_fn(void *arg)
{
	struct race_op *op = arg;
	struct ipcbox_call c;
	char reply[16];

	memset(&c, 0, sizeof(c));
	c.buf = (uintptr_t)op->data;
	c.len = sizeof(op->data);
	c.timeout_ns = NSEC_PER_SEC;
	c.reply_buf = (uintptr_t)reply;
	c.reply_size = sizeof(reply);
	op->ret = sys_ioctl(op->fd, IPCBOX_IOC_CALL, &c);
	return NULL;
}

static void *peeker_fn(void *arg)
{
	struct race_op *op = arg;

	op->ret = mb_recv(op->fd, op->buf, sizeof(op->data), IPCBOX_RECV_PEEK,
			  5 * NSEC_PER_SEC);
	return NULL;
}

TEST_F_TIMEOUT(peek_race, peeked_message_outlives_its_withdrawn_send, 60)
{
	struct race_op caller, peeker;
	struct uffdio_zeropage zp;
	struct bg_op sender;
	char want[100], reuse[100];
	int other, i;

	memset(want, 'A', sizeof(want));
	memset(reuse, 'B', sizeof(reuse));
	if (variant->end == END_CALL_TIMEOUT) {
		memset(&caller, 0, sizeof(caller));
		caller.fd = self->fd;
		memcpy(caller.data, want, sizeof(want));
		ASSERT_EQ(0, pthread_create(&caller.thread, NULL, caller_fn,
					    &caller));
	} else {
		bg_init(&sender, BG_SEND, self->fd, 0);
		memcpy(sender.buf, want, sizeof(want));
		sender.len = sizeof(want);
		if (variant->end == END_SEND_TIMEOUT)
			sender.timeout = NSEC_PER_SEC;
		ASSERT_EQ(0, bg_start(&sender));
	}
	ASSERT_TRUE(mb_wait_waiters(self->fd, 1, 0, 5000));

	/* The PEEK finds the message and stops in its copy. */
	memset(&peeker, 0, sizeof(peeker));
	peeker.fd = self->fd;
	peeker.buf = self->page;
	ASSERT_EQ(0, pthread_create(&peeker.thread, NULL, peeker_fn, &peeker));
	ASSERT_TRUE(uffd_fault_seen(self->uffd, 5000))
		TH_LOG("the PEEK never faulted");

	/* Meanwhile the sender gives up and takes its message back. */
	if (variant->end == END_CALL_TIMEOUT) {
		pthread_join(caller.thread, NULL);
		EXPECT_EQ(-ETIMEDOUT, caller.ret);
	} else {
		if (variant->end == END_SHUTDOWN)
			ASSERT_EQ(0, mb_shutdown(self->fd));
		bg_join(&sender);
		EXPECT_EQ(variant->end == END_SHUTDOWN ? -EPIPE : -ETIMEDOUT,
			  sender.ret);
	}
	/* Were it freed, other messages would now take its memory. */
	other = mb_anon(self->ctl, IPCBOX_CAPACITY_UNBOUNDED, 256);
	ASSERT_GE(other, 0);
	for (i = 0; i < 32; i++)
		ASSERT_EQ(0, mb_send(other, reuse, sizeof(reuse), 0, 0));

	memset(&zp, 0, sizeof(zp));
	zp.range.start = (uintptr_t)self->page;
	zp.range.len = FUZZ_PAGE;
	ASSERT_EQ(0, ioctl(self->uffd, UFFDIO_ZEROPAGE, &zp)) TH_LOG("%m");
	pthread_join(peeker.thread, NULL);
	close(other);
	ASSERT_EQ(sizeof(want), peeker.ret) TH_LOG("%s", strerror(-peeker.ret));
	EXPECT_EQ(0, memcmp(want, self->page, sizeof(want)))
		TH_LOG("PEEK copied a freed message: \"%.100s\"", self->page);
	/* The send failed: its message is not in the mailbox any more. */
	EXPECT_EQ(0, mb_depth(self->fd));
}

TEST_HARNESS_MAIN
