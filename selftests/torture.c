// SPDX-License-Identifier: GPL-2.0
/*
 * Producer-consumer torture: up to 8 producer and 8 consumer processes
 * (more tasks than CPUs) on one named mailbox, each with its own open
 * file, for capacities 0, 1, 16 and unbounded. Producers mix blocking,
 * non-blocking (retried on EAGAIN), timed, SYNC and CACHE sends with
 * priorities and tags; consumers mix blocking, non-blocking, timed and
 * tag- or sender-filtered receives.
 *
 * Every message carries its producer, sequence number, priority, tag,
 * length and a checksum of a payload generated from them. A shared
 * counter per message catches losses and duplicates (a failed send that
 * was delivered anyway shows up as a duplicate of its retry). Each
 * consumer checks per-producer order within one priority and one kind of
 * receive, the order the semantics guarantee; a separate test checks the
 * priority order of a queue drained by one consumer.
 *
 * IPCBOX_TORTURE_SECS (default 6) bounds each case, IPCBOX_TORTURE_MSGS
 * (default 40000) the messages of one producer.
 */
#include "ipcbox_test.h"
#include "kselftest_harness.h"

#define MAX_PROD	8
#define MAX_CONS	8
#define MSZ		1024
#define NR_PRIO		4
#define NR_TAGS		4
#define DEFAULT_SECS	6
#define DEFAULT_MSGS	40000

/* consumer's kinds of receive, for the order check */
enum { K_ANY, K_PID, K_TAG, NR_KINDS = K_TAG + NR_TAGS };

struct t_hdr {
	uint32_t producer;
	uint32_t seq;
	uint32_t len;
	uint32_t prio;
	uint64_t tag;
	uint32_t csum;
	uint32_t __pad;
};

#define MAX_PAYLOAD	(MSZ - sizeof(struct t_hdr))

struct t_shared {
	pid_t producer_pid[MAX_PROD];
	uint32_t produced[MAX_PROD];	/* sends that returned 0 */
	uint64_t received[MAX_CONS];
	/* producer side */
	uint64_t n_sync, n_cache, n_nonblock, n_timed, n_blocking;
	uint64_t eagain, etimedout, enobufs;
	uint64_t send_err;
	/* consumer side */
	uint64_t n_filtered, recv_eagain, recv_etimedout, recv_err;
	uint64_t corrupt;
	uint64_t reorder;
	uint64_t phantom;	/* a sequence number never sent */
	uint8_t seen[];		/* MAX_PROD * per, receive counts */
};

static uint32_t payload_len(uint32_t p, uint32_t seq)
{
	uint32_t r = (seq * 2654435761u) ^ (p * 40503u);

	/* mostly small (slab objects), some large (kvmalloc) */
	if (r % 8 == 0)
		return r % (MAX_PAYLOAD + 1);
	return r % 129;
}

static uint8_t payload_byte(uint32_t p, uint32_t seq, uint32_t i)
{
	return (uint8_t)(p * 31 + seq * 7 + i * 13 + (seq >> 8));
}

static uint32_t msg_prio(uint32_t p, uint32_t seq)
{
	return ((seq / 16) + p) % NR_PRIO;
}

static uint64_t msg_tag(uint32_t p, uint32_t seq)
{
	return seq % NR_TAGS;
}

static uint32_t checksum(const uint8_t *buf, uint32_t len)
{
	uint32_t h = 2166136261u;
	uint32_t i;

	for (i = 0; i < len; i++)
		h = (h ^ buf[i]) * 16777619u;
	return h;
}

static uint32_t xorshift(uint32_t *s)
{
	uint32_t x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

static void bump(uint64_t *c)
{
	__atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
}

static int open_node(const char *name)
{
	char path[128];

	dev_path(path, sizeof(path), name);
	return open(path, O_RDWR | O_CLOEXEC);
}

/* Send one message, retrying the modes that may fail without effect. */
static int send_one(int fd, struct t_shared *sh, const uint8_t *msg,
		    uint32_t len, uint32_t prio, uint64_t tag, uint32_t *rnd)
{
	uint32_t mode = xorshift(rnd) % 6;
	uint32_t flags;
	int64_t to;
	int ret, tries = 0;

	for (;;) {
		flags = 0;
		to = IPCBOX_TIMEOUT_INFINITE;
		switch (mode) {
		case 0:
			bump(&sh->n_blocking);
			break;
		case 1:
			bump(&sh->n_nonblock);
			flags = IPCBOX_SEND_NONBLOCK;
			to = 0;
			break;
		case 2:
			bump(&sh->n_timed);
			to = (1 + xorshift(rnd) % 5) * NSEC_PER_MSEC;
			break;
		case 3:
			bump(&sh->n_timed);
			flags = IPCBOX_SEND_ABSTIME;
			to = now_ns() + (1 + xorshift(rnd) % 5) * NSEC_PER_MSEC;
			break;
		case 4:
			bump(&sh->n_sync);
			flags = IPCBOX_SEND_SYNC;
			break;
		default:
			bump(&sh->n_cache);
			flags = IPCBOX_SEND_CACHE | IPCBOX_SEND_NONBLOCK;
			to = 0;
			break;
		}
		ret = mb_send_full(fd, msg, len, flags, to, prio, tag, NULL);
		if (ret == 0)
			return 0;
		if (ret == -EAGAIN) {
			bump(&sh->eagain);
			sched_yield();
		} else if (ret == -ETIMEDOUT) {
			bump(&sh->etimedout);
		} else if (ret == -ENOBUFS) {
			bump(&sh->enobufs);
			sleep_ms(1);
		} else {
			return ret;
		}
		/* a few retries in the same mode, then wait for good */
		if (++tries > 3)
			mode = xorshift(rnd) % 2 ? 0 : 4;
	}
}

static int produce(const char *name, struct t_shared *sh, uint32_t p,
		   uint32_t per, int64_t deadline)
{
	uint8_t msg[MSZ];
	struct t_hdr *h = (void *)msg;
	uint32_t seq, i, rnd = 0x9e3779b9u ^ (p + 1) * 0x85ebca6bu;
	int fd, ret;

	fd = open_node(name);
	if (fd < 0)
		return 10;
	sh->producer_pid[p] = getpid();
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	for (seq = 0; seq < per && now_ns() < deadline; seq++) {
		memset(h, 0, sizeof(*h));
		h->producer = p;
		h->seq = seq;
		h->len = payload_len(p, seq);
		h->prio = msg_prio(p, seq);
		h->tag = msg_tag(p, seq);
		for (i = 0; i < h->len; i++)
			msg[sizeof(*h) + i] = payload_byte(p, seq, i);
		h->csum = checksum(msg + sizeof(*h), h->len);
		ret = send_one(fd, sh, msg, sizeof(*h) + h->len, h->prio,
			       h->tag, &rnd);
		if (ret) {
			bump(&sh->send_err);
			break;
		}
		__atomic_store_n(&sh->produced[p], seq + 1, __ATOMIC_RELEASE);
	}
	/* a message still parked in this fd's CACHE slot is delivered */
	close(fd);
	return 0;
}

static bool check_msg(struct t_shared *sh, const uint8_t *msg, int n,
		      const struct ipcbox_msg_info *info, uint32_t nprod,
		      uint32_t per)
{
	const struct t_hdr *h = (const void *)msg;
	uint32_t i;

	if (n < (int)sizeof(*h) || h->len > MAX_PAYLOAD ||
	    (uint32_t)n != sizeof(*h) + h->len || info->len != (uint32_t)n ||
	    h->producer >= nprod || h->seq >= per ||
	    h->len != payload_len(h->producer, h->seq) ||
	    h->prio != msg_prio(h->producer, h->seq) ||
	    h->tag != msg_tag(h->producer, h->seq) ||
	    info->priority != h->prio || info->tag != h->tag ||
	    h->csum != checksum(msg + sizeof(*h), h->len))
		return false;
	for (i = 0; i < h->len; i++)
		if (msg[sizeof(*h) + i] != payload_byte(h->producer, h->seq, i))
			return false;
	return info->sender_tgid ==
	       __atomic_load_n(&sh->producer_pid[h->producer], __ATOMIC_SEQ_CST);
}

static int consume(const char *name, struct t_shared *sh, uint32_t c,
		   uint32_t nprod, uint32_t per)
{
	static int64_t last[MAX_PROD][NR_PRIO][NR_KINDS];
	uint32_t rnd = 0x6a09e667u ^ (c + 1) * 0xc2b2ae35u;
	struct ipcbox_msg_info info;
	uint8_t msg[MSZ];
	const struct t_hdr *h = (const void *)msg;
	bool draining = false;
	uint32_t flags, mode, fp;
	int64_t to;
	pid_t fpid;
	uint64_t ftag;
	int fd, n, kind;

	memset(last, 0xff, sizeof(last));
	fd = open_node(name);
	if (fd < 0)
		return 20;
	for (;;) {
		mode = draining ? 0 : xorshift(&rnd) % 6;
		flags = 0;
		to = IPCBOX_TIMEOUT_INFINITE;
		fpid = 0;
		ftag = 0;
		kind = K_ANY;
		switch (mode) {
		case 0:
			break;
		case 1:
			flags = IPCBOX_RECV_NONBLOCK;
			to = 0;
			break;
		case 2:
			to = (1 + xorshift(&rnd) % 10) * NSEC_PER_MSEC;
			break;
		case 3:
			flags = IPCBOX_RECV_ABSTIME;
			to = now_ns() + (1 + xorshift(&rnd) % 10) * NSEC_PER_MSEC;
			break;
		case 4:
			fp = xorshift(&rnd) % nprod;
			fpid = __atomic_load_n(&sh->producer_pid[fp], __ATOMIC_SEQ_CST);
			if (fpid <= 0)
				continue;
			flags = IPCBOX_RECV_FILTER_PID;
			to = (1 + xorshift(&rnd) % 10) * NSEC_PER_MSEC;
			kind = K_PID;
			break;
		default:
			ftag = xorshift(&rnd) % NR_TAGS;
			flags = IPCBOX_RECV_FILTER_TAG;
			to = (1 + xorshift(&rnd) % 10) * NSEC_PER_MSEC;
			kind = K_TAG + ftag;
			break;
		}
		n = mb_recv_full(fd, msg, sizeof(msg), flags, to, fpid, ftag,
				 &info);
		if (n == -EPIPE) {
			if (mode == 0)
				break;
			/* nothing passes this filter any more: drain the rest */
			draining = true;
			continue;
		}
		if (n == -EAGAIN) {
			bump(&sh->recv_eagain);
			sched_yield();
			continue;
		}
		if (n == -ETIMEDOUT) {
			bump(&sh->recv_etimedout);
			continue;
		}
		if (n < 0) {
			bump(&sh->recv_err);
			close(fd);
			return 21;
		}
		sh->received[c]++;
		if (kind != K_ANY)
			bump(&sh->n_filtered);
		if (!check_msg(sh, msg, n, &info, nprod, per) ||
		    (kind == K_PID && info.sender_tgid != fpid) ||
		    (kind >= K_TAG && info.tag != ftag)) {
			bump(&sh->corrupt);
			continue;
		}
		if ((int64_t)h->seq <= last[h->producer][h->prio][kind])
			bump(&sh->reorder);
		last[h->producer][h->prio][kind] = h->seq;
		__atomic_fetch_add(&sh->seen[h->producer * per + h->seq], 1,
				   __ATOMIC_RELAXED);
	}
	close(fd);
	return 0;
}

FIXTURE(torture) {
	int ctl;
	int fd;
	char name[IPCBOX_NAME_MAX];
	struct t_shared *sh;
	size_t sh_size;
	uint32_t per;
	unsigned long secs;
};

FIXTURE_VARIANT(torture) {
	uint32_t capacity;
	uint32_t nprod;
	uint32_t ncons;
};

FIXTURE_VARIANT_ADD(torture, rendezvous_8x8) {
	.capacity = 0, .nprod = 8, .ncons = 8,
};

FIXTURE_VARIANT_ADD(torture, capacity_1_8x8) {
	.capacity = 1, .nprod = 8, .ncons = 8,
};

FIXTURE_VARIANT_ADD(torture, capacity_16_8x8) {
	.capacity = 16, .nprod = 8, .ncons = 8,
};

FIXTURE_VARIANT_ADD(torture, unbounded_8x8) {
	.capacity = IPCBOX_CAPACITY_UNBOUNDED, .nprod = 8, .ncons = 8,
};

FIXTURE_VARIANT_ADD(torture, capacity_1_8x2) {
	.capacity = 1, .nprod = 8, .ncons = 2,
};

FIXTURE_VARIANT_ADD(torture, rendezvous_2x8) {
	.capacity = 0, .nprod = 2, .ncons = 8,
};

FIXTURE_SETUP(torture)
{
	self->fd = -1;
	self->name[0] = '\0';
	self->sh = MAP_FAILED;
	self->secs = env_ul("IPCBOX_TORTURE_SECS", DEFAULT_SECS);
	self->per = env_ul("IPCBOX_TORTURE_MSGS", DEFAULT_MSGS);
	self->ctl = ctl_open();
	if (self->ctl < 0)
		SKIP(return, "%s: %m (ipcbox.ko not loaded?)", IPCBOX_CONTROL_PATH);
	test_name(self->name, sizeof(self->name), "torture");
	self->fd = mb_create(self->ctl, self->name, variant->capacity, MSZ,
			     0600, IPCBOX_CREATE_CLOEXEC);
	ASSERT_GE(self->fd, 0) TH_LOG("create: %s", strerror(-self->fd));
	self->sh_size = sizeof(*self->sh) + (size_t)MAX_PROD * self->per;
	self->sh = mmap(NULL, self->sh_size, PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->sh);
}

FIXTURE_TEARDOWN(torture)
{
	if (self->sh != MAP_FAILED)
		munmap(self->sh, self->sh_size);
	close_fd(&self->fd);
	if (self->ctl >= 0 && self->name[0])
		mb_unlink(self->ctl, self->name);
	close_fd(&self->ctl);
}

static const char *cap_str(uint32_t cap, char *buf, size_t sz)
{
	if (cap == IPCBOX_CAPACITY_UNBOUNDED)
		snprintf(buf, sz, "unbounded");
	else
		snprintf(buf, sz, "%u", cap);
	return buf;
}

TEST_F_TIMEOUT(torture, mixed_modes_lose_nothing_duplicate_nothing, 300)
{
	pid_t prod[MAX_PROD], cons[MAX_CONS];
	struct t_shared *sh = self->sh;
	uint64_t total = 0, sent = 0, lost = 0, dup = 0, i;
	int64_t t0 = now_ns();
	int64_t deadline = t0 + (int64_t)self->secs * NSEC_PER_SEC;
	struct ipcbox_stat st;
	char cap[16];
	uint32_t p, c;

	for (c = 0; c < variant->ncons; c++) {
		cons[c] = fork();
		ASSERT_GE(cons[c], 0);
		if (cons[c] == 0)
			_exit(consume(self->name, sh, c, variant->nprod, self->per));
	}
	for (p = 0; p < variant->nprod; p++) {
		prod[p] = fork();
		ASSERT_GE(prod[p], 0);
		if (prod[p] == 0)
			_exit(produce(self->name, sh, p, self->per, deadline));
	}
	for (p = 0; p < variant->nprod; p++)
		EXPECT_EQ(0, wait_child(prod[p])) TH_LOG("producer %u", p);
	/* every accepted message is queued or taken: let consumers drain */
	ASSERT_EQ(0, mb_shutdown(self->fd));
	for (c = 0; c < variant->ncons; c++)
		EXPECT_EQ(0, wait_child(cons[c])) TH_LOG("consumer %u", c);

	for (c = 0; c < variant->ncons; c++)
		total += sh->received[c];
	for (p = 0; p < variant->nprod; p++) {
		sent += sh->produced[p];
		for (i = 0; i < self->per; i++) {
			uint8_t n = sh->seen[p * self->per + i];

			if (i >= sh->produced[p]) {
				if (n)
					sh->phantom++;
			} else if (n == 0) {
				lost++;
			} else if (n > 1) {
				dup += n - 1;
			}
		}
	}
	ksft_print_msg("torture: cap=%s %ux%u moved=%llu lost=%llu dup=%llu reorder=%llu corrupt=%llu phantom=%llu secs=%.1f\n",
		       cap_str(variant->capacity, cap, sizeof(cap)),
		       variant->nprod, variant->ncons,
		       (unsigned long long)total, (unsigned long long)lost,
		       (unsigned long long)dup, (unsigned long long)sh->reorder,
		       (unsigned long long)sh->corrupt,
		       (unsigned long long)sh->phantom, (now_ns() - t0) / 1e9);
	ksft_print_msg("torture: cap=%s sends blocking=%llu nonblock=%llu timed=%llu sync=%llu cache=%llu retries eagain=%llu etimedout=%llu enobufs=%llu; recvs filtered=%llu eagain=%llu etimedout=%llu\n",
		       cap, (unsigned long long)sh->n_blocking,
		       (unsigned long long)sh->n_nonblock,
		       (unsigned long long)sh->n_timed,
		       (unsigned long long)sh->n_sync,
		       (unsigned long long)sh->n_cache,
		       (unsigned long long)sh->eagain,
		       (unsigned long long)sh->etimedout,
		       (unsigned long long)sh->enobufs,
		       (unsigned long long)sh->n_filtered,
		       (unsigned long long)sh->recv_eagain,
		       (unsigned long long)sh->recv_etimedout);
	EXPECT_LT(0, sent);
	EXPECT_EQ(sent, total);
	EXPECT_EQ(0, lost);
	EXPECT_EQ(0, dup);
	EXPECT_EQ(0, sh->reorder);
	EXPECT_EQ(0, sh->corrupt);
	EXPECT_EQ(0, sh->phantom);
	EXPECT_EQ(0, sh->send_err);
	EXPECT_EQ(0, sh->recv_err);
	ASSERT_EQ(0, mb_stat(self->fd, &st));
	EXPECT_EQ(total, st.sent);
	EXPECT_EQ(total, st.received);
	EXPECT_EQ(0, st.depth);
	EXPECT_EQ(0, st.bytes);
	EXPECT_EQ(0, st.cached);
	EXPECT_EQ(0, st.waiting_senders);
	EXPECT_EQ(0, st.waiting_receivers);
}

/*
 * With no consumer running, producers fill a queue that holds everything
 * with every priority, blocking and non-blocking sends; one consumer then
 * drains it: priorities never rise, and within a priority the mailbox
 * sequence and each producer's own sequence only grow.
 */
static void priority_order(struct __test_metadata *_metadata, uint32_t cap)
{
	const uint32_t per = 200;
	int64_t lastp[MAX_PROD][IPCBOX_PRIO_MAX];
	uint64_t lastseq[IPCBOX_PRIO_MAX];
	struct ipcbox_msg_info info;
	uint8_t msg[MSZ];
	const struct t_hdr *h = (const void *)msg;
	uint64_t moved = 0, bad_prio = 0, bad_seq = 0, corrupt = 0;
	uint32_t prev = IPCBOX_PRIO_MAX, p;
	pid_t pids[MAX_PROD];
	char capbuf[16];
	int ctl, fd, n;

	ctl = ctl_open();
	if (ctl < 0)
		SKIP(return, "%s: %m (ipcbox.ko not loaded?)", IPCBOX_CONTROL_PATH);
	fd = mb_anon(ctl, cap, MSZ);
	close(ctl);
	ASSERT_GE(fd, 0);
	for (p = 0; p < MAX_PROD; p++) {
		pids[p] = fork();
		ASSERT_GE(pids[p], 0);
		if (pids[p] == 0) {
			struct t_hdr *ph = (void *)msg;
			uint32_t rnd = p * 7919 + 1, s;

			for (s = 0; s < per; s++) {
				memset(ph, 0, sizeof(*ph));
				ph->producer = p;
				ph->seq = s;
				ph->prio = xorshift(&rnd) % IPCBOX_PRIO_MAX;
				if (mb_send_full(fd, msg, sizeof(*ph),
						 s % 2 ? IPCBOX_SEND_NONBLOCK : 0,
						 s % 2 ? 0 : -1, ph->prio, p, NULL))
					_exit(1);
			}
			_exit(0);
		}
	}
	for (p = 0; p < MAX_PROD; p++)
		ASSERT_EQ(0, wait_child(pids[p]));
	memset(lastp, 0xff, sizeof(lastp));
	memset(lastseq, 0, sizeof(lastseq));
	while ((n = mb_recv_full(fd, msg, sizeof(msg), 0, 0, 0, 0, &info)) > 0) {
		moved++;
		if (n != sizeof(*h) || h->producer >= MAX_PROD ||
		    info.priority != h->prio || info.tag != h->producer) {
			corrupt++;
			continue;
		}
		if (info.priority > prev)
			bad_prio++;
		if (info.seq <= lastseq[info.priority] ||
		    (int64_t)h->seq <= lastp[h->producer][h->prio])
			bad_seq++;
		prev = info.priority;
		lastseq[info.priority] = info.seq;
		lastp[h->producer][h->prio] = h->seq;
	}
	EXPECT_EQ(-EAGAIN, n);
	close(fd);
	ksft_print_msg("torture: priority order cap=%s moved=%llu bad_prio=%llu bad_seq=%llu corrupt=%llu\n",
		       cap_str(cap, capbuf, sizeof(capbuf)),
		       (unsigned long long)moved, (unsigned long long)bad_prio,
		       (unsigned long long)bad_seq, (unsigned long long)corrupt);
	EXPECT_EQ(MAX_PROD * per, moved);
	EXPECT_EQ(0, bad_prio);
	EXPECT_EQ(0, bad_seq);
	EXPECT_EQ(0, corrupt);
}

TEST(drained_bounded_queue_is_in_priority_order)
{
	priority_order(_metadata, 1600);
}

TEST(drained_unbounded_queue_is_in_priority_order)
{
	priority_order(_metadata, IPCBOX_CAPACITY_UNBOUNDED);
}

TEST_HARNESS_MAIN
