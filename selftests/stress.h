/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The core of the producer/consumer stress tests (prodcons, torture):
 * producer and consumer processes move checksummed messages through one
 * mailbox, and at the end every message a send accepted was received
 * exactly once, intact, from its own producer, in order.
 *
 * Every message carries its producer, sequence number, priority, tag,
 * length and a checksum of a payload generated from them. A shared
 * counter per message (the delivery map) catches losses and duplicates
 * (a failed send that was delivered anyway shows up as a duplicate of
 * its retry) and messages never sent. Each consumer checks per-producer
 * order within one priority and one kind of receive, the order the
 * semantics guarantee.
 *
 * A test fills a struct stress_cfg, maps the shared state with
 * stress_map(), makes the mailbox and calls stress_run() with how its
 * producers send and how its consumers receive; the consumers hand each
 * message to stress_received(). stress_tally() then sums up the delivery
 * map and stress_expect_clean() checks the lot, STAT included.
 *
 * Include after kselftest_harness.h.
 */
#ifndef IPCBOX_STRESS_H
#define IPCBOX_STRESS_H

#define STRESS_MAX_PROD		8
#define STRESS_MAX_CONS		8
#define STRESS_MAX_MSZ		1024
#define STRESS_NR_PRIO		4
#define STRESS_NR_TAGS		4

/* A consumer's kinds of receive, each with an order of its own. */
enum {
	STRESS_ANY,			/* unfiltered */
	STRESS_PID,			/* filtered on a producer */
	STRESS_TAG,			/* filtered on tag 0, 1, ... */
	STRESS_NR_KINDS = STRESS_TAG + STRESS_NR_TAGS,
};

struct stress_hdr {
	uint32_t producer;
	uint32_t seq;
	uint32_t len;		/* of the payload after the header */
	uint32_t prio;
	uint64_t tag;
	uint32_t csum;
	uint32_t __pad;
};

/* What a run is, the same for every worker; set before stress_run(). */
struct stress_cfg {
	uint32_t nprod;			/* at most STRESS_MAX_PROD */
	uint32_t ncons;			/* at most STRESS_MAX_CONS */
	uint32_t per;			/* most messages one producer sends */
	uint32_t msz;			/* the mailbox's msg_size_max */
	uint32_t small;			/* 7 in 8 payloads at most this long */
	bool prio_tag;			/* priorities and tags vary, or are 0 */
	int64_t deadline;		/* producers stop then (0: never) */
	char name[IPCBOX_NAME_MAX];	/* each worker opens it, else all
					   share the fd given to stress_run() */
};

/* In shared memory: the run, the delivery map and the counts. */
struct stress_shared {
	struct stress_cfg cfg;
	size_t size;				/* of the mapping */
	pid_t producer_pid[STRESS_MAX_PROD];
	uint32_t produced[STRESS_MAX_PROD];	/* sends that returned 0 */
	uint64_t received[STRESS_MAX_CONS];
	/* producer side: the kinds of send and their retries */
	uint64_t n_blocking, n_nonblock, n_timed, n_sync, n_cache;
	uint64_t eagain, etimedout, enobufs;
	uint64_t send_err;
	/* consumer side */
	uint64_t n_filtered, recv_eagain, recv_etimedout, recv_err;
	/* broken messages, by what is wrong */
	uint64_t bad_len, bad_id, bad_csum, bad_sender, bad_filter;
	uint64_t reorder;
	uint8_t seen[];				/* nprod * per receive counts */
};

/* The shared state of a run of @cfg, or MAP_FAILED. */
static inline struct stress_shared *stress_map(const struct stress_cfg *cfg)
{
	size_t size = sizeof(struct stress_shared) +
		      (size_t)cfg->nprod * cfg->per;
	struct stress_shared *sh;

	if (cfg->nprod > STRESS_MAX_PROD || cfg->ncons > STRESS_MAX_CONS ||
	    cfg->msz > STRESS_MAX_MSZ || cfg->msz < sizeof(struct stress_hdr))
		return MAP_FAILED;
	sh = mmap(NULL, size, PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return sh;
	sh->cfg = *cfg;
	sh->size = size;
	return sh;
}

static inline void stress_unmap(struct stress_shared **sh)
{
	if (*sh != MAP_FAILED)
		munmap(*sh, (*sh)->size);
	*sh = MAP_FAILED;
}

static inline uint32_t stress_max_payload(const struct stress_cfg *cfg)
{
	return cfg->msz - sizeof(struct stress_hdr);
}

/* Mostly small payloads, one in eight up to what the mailbox takes. */
static inline uint32_t stress_payload_len(const struct stress_cfg *cfg,
					  uint32_t p, uint32_t seq)
{
	uint32_t r = (seq * 2654435761u) ^ (p * 40503u);

	if (r % 8 == 0)
		return r % (stress_max_payload(cfg) + 1);
	return r % (cfg->small + 1);
}

static inline uint8_t stress_payload_byte(uint32_t p, uint32_t seq,
					  uint32_t i)
{
	return (uint8_t)(p * 31 + seq * 7 + i * 13 + (seq >> 8));
}

static inline uint32_t stress_prio(const struct stress_cfg *cfg,
				   uint32_t p, uint32_t seq)
{
	return cfg->prio_tag ? ((seq / 16) + p) % STRESS_NR_PRIO : 0;
}

static inline uint64_t stress_tag(const struct stress_cfg *cfg, uint32_t seq)
{
	return cfg->prio_tag ? seq % STRESS_NR_TAGS : 0;
}

/* FNV-1a */
static inline uint32_t stress_checksum(const uint8_t *buf, uint32_t len)
{
	uint32_t h = 2166136261u;
	uint32_t i;

	for (i = 0; i < len; i++)
		h = (h ^ buf[i]) * 16777619u;
	return h;
}

/* Producer @p's message @seq into @msg; returns its length. */
static inline uint32_t stress_make(const struct stress_cfg *cfg, uint8_t *msg,
				   uint32_t p, uint32_t seq)
{
	struct stress_hdr *h = (void *)msg;
	uint32_t i;

	memset(h, 0, sizeof(*h));
	h->producer = p;
	h->seq = seq;
	h->len = stress_payload_len(cfg, p, seq);
	h->prio = stress_prio(cfg, p, seq);
	h->tag = stress_tag(cfg, seq);
	for (i = 0; i < h->len; i++)
		msg[sizeof(*h) + i] = stress_payload_byte(p, seq, i);
	h->csum = stress_checksum(msg + sizeof(*h), h->len);
	return sizeof(*h) + h->len;
}

/*
 * How a producer sends one message (header @h, @len bytes at @msg) on
 * @fd: 0 once it is sent, or the -errno that ends the producer. It may
 * count its kinds of send and retries in @sh; @rng is the producer's.
 */
typedef int (*stress_send_fn)(struct stress_shared *sh, int fd,
			      const uint8_t *msg, uint32_t len,
			      const struct stress_hdr *h, struct test_rng *rng);

/* How consumer @c receives on @fd, until the end (0) or an error. */
typedef int (*stress_consume_fn)(struct stress_shared *sh, int fd, uint32_t c);

/* Producer @p: its messages in sequence, until cfg.per or the deadline. */
static inline int stress_produce(struct stress_shared *sh, int fd, uint32_t p,
				 stress_send_fn send)
{
	int64_t deadline = sh->cfg.deadline ? sh->cfg.deadline : INT64_MAX;
	uint8_t msg[STRESS_MAX_MSZ];
	struct test_rng rng;
	uint32_t seq, len;

	rng_seed(&rng, 0x9e3779b9u ^ (p + 1) * 0x85ebca6bu);
	sh->producer_pid[p] = getpid();
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	for (seq = 0; seq < sh->cfg.per && now_ns() < deadline; seq++) {
		len = stress_make(&sh->cfg, msg, p, seq);
		if (send(sh, fd, msg, len, (const void *)msg, &rng)) {
			bump(&sh->send_err);
			break;
		}
		__atomic_store_n(&sh->produced[p], seq + 1, __ATOMIC_RELEASE);
	}
	return 0;
}

/* A consumer's order: the last sequence number per producer, priority, kind. */
struct stress_order {
	int64_t last[STRESS_MAX_PROD][STRESS_NR_PRIO][STRESS_NR_KINDS];
};

static inline void stress_order_init(struct stress_order *o)
{
	memset(o->last, 0xff, sizeof(o->last));
}

/* What is wrong with a received message, if anything: the counter. */
static inline uint64_t *stress_broken(struct stress_shared *sh,
				      const uint8_t *msg, int n,
				      const struct ipcbox_msg_info *info)
{
	const struct stress_cfg *cfg = &sh->cfg;
	const struct stress_hdr *h = (const void *)msg;
	uint32_t i;

	if (n < (int)sizeof(*h) || h->len > stress_max_payload(cfg) ||
	    (uint32_t)n != sizeof(*h) + h->len || info->len != (uint32_t)n)
		return &sh->bad_len;
	if (h->producer >= cfg->nprod || h->seq >= cfg->per ||
	    h->len != stress_payload_len(cfg, h->producer, h->seq) ||
	    h->prio != stress_prio(cfg, h->producer, h->seq) ||
	    h->tag != stress_tag(cfg, h->seq) ||
	    info->priority != h->prio || info->tag != h->tag)
		return &sh->bad_id;
	if (h->csum != stress_checksum(msg + sizeof(*h), h->len))
		return &sh->bad_csum;
	for (i = 0; i < h->len; i++)
		if (msg[sizeof(*h) + i] !=
		    stress_payload_byte(h->producer, h->seq, i))
			return &sh->bad_csum;
	if (info->sender_tgid != __atomic_load_n(&sh->producer_pid[h->producer],
						 __ATOMIC_SEQ_CST))
		return &sh->bad_sender;
	return NULL;
}

/*
 * Consumer @c received @n bytes at @msg, with @info, by a receive of
 * @kind (STRESS_PID: filtered on sender @fpid, STRESS_TAG + t: on tag t):
 * check it, count it in the delivery map and check its order in @o.
 */
static inline void stress_received(struct stress_shared *sh,
				   struct stress_order *o, uint32_t c,
				   const uint8_t *msg, int n,
				   const struct ipcbox_msg_info *info,
				   int kind, pid_t fpid)
{
	const struct stress_hdr *h = (const void *)msg;
	uint64_t *bad = stress_broken(sh, msg, n, info);
	int64_t *last;

	sh->received[c]++;
	if (kind != STRESS_ANY)
		bump(&sh->n_filtered);
	if (!bad && ((kind == STRESS_PID && info->sender_tgid != fpid) ||
		     (kind >= STRESS_TAG &&
		      info->tag != (uint64_t)(kind - STRESS_TAG))))
		bad = &sh->bad_filter;
	if (bad) {
		bump(bad);
		return;
	}
	last = &o->last[h->producer][h->prio][kind];
	if ((int64_t)h->seq <= *last)
		bump(&sh->reorder);
	*last = h->seq;
	__atomic_fetch_add(&sh->seen[h->producer * sh->cfg.per + h->seq], 1,
			   __ATOMIC_RELAXED);
}

/* A worker process: its own open of cfg.name, or the inherited @fd. */
static inline pid_t stress_fork(struct stress_shared *sh, int fd,
				stress_send_fn send, stress_consume_fn consume,
				uint32_t idx)
{
	pid_t pid = fork();
	int ret;

	if (pid)
		return pid;
	if (sh->cfg.name[0]) {
		fd = mb_open(sh->cfg.name, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			_exit(100);
	}
	ret = send ? stress_produce(sh, fd, idx, send) : consume(sh, fd, idx);
	/* a message still parked in this fd's CACHE slot is delivered */
	if (sh->cfg.name[0])
		close(fd);
	_exit(ret);
}

/*
 * The run: cfg.ncons consumers receiving with @consume, cfg.nprod
 * producers sending with @send, each a process. Once the producers are
 * done, every accepted message is queued or taken: SHUTDOWN of @fd lets
 * the consumers drain the rest and end (EPIPE).
 */
static inline void stress_run(struct __test_metadata *_metadata,
			      struct stress_shared *sh, int fd,
			      stress_send_fn send, stress_consume_fn consume)
{
	pid_t prod[STRESS_MAX_PROD], cons[STRESS_MAX_CONS];
	uint32_t i;

	for (i = 0; i < sh->cfg.ncons; i++) {
		cons[i] = stress_fork(sh, fd, NULL, consume, i);
		ASSERT_GE(cons[i], 0);
	}
	for (i = 0; i < sh->cfg.nprod; i++) {
		prod[i] = stress_fork(sh, fd, send, NULL, i);
		ASSERT_GE(prod[i], 0);
	}
	for (i = 0; i < sh->cfg.nprod; i++)
		EXPECT_EQ(0, wait_child(prod[i])) TH_LOG("producer %u", i);
	ASSERT_EQ(0, mb_shutdown(fd));
	for (i = 0; i < sh->cfg.ncons; i++)
		EXPECT_EQ(0, wait_child(cons[i])) TH_LOG("consumer %u", i);
}

/* The delivery map summed up. */
struct stress_tally {
	uint64_t sent;		/* sends that returned 0 */
	uint64_t received;
	uint64_t lost;		/* sent, never received */
	uint64_t dup;		/* received more than once: the extra times */
	uint64_t phantom;	/* received, never sent */
	uint64_t broken;	/* received broken (the bad_* counts) */
};

static inline void stress_tally(const struct stress_shared *sh,
				struct stress_tally *t)
{
	const struct stress_cfg *cfg = &sh->cfg;
	uint32_t p, i;
	uint8_t n;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < cfg->ncons; i++)
		t->received += sh->received[i];
	for (p = 0; p < cfg->nprod; p++) {
		t->sent += sh->produced[p];
		for (i = 0; i < cfg->per; i++) {
			n = sh->seen[p * cfg->per + i];
			if (i >= sh->produced[p])
				t->phantom += n ? 1 : 0;
			else if (n == 0)
				t->lost++;
			else if (n > 1)
				t->dup += n - 1;
		}
	}
	t->broken = sh->bad_len + sh->bad_id + sh->bad_csum + sh->bad_sender +
		    sh->bad_filter;
}

/*
 * Everything sent arrived once, intact, in order, nothing else did, no
 * call failed, and the mailbox @fd agrees: all of it sent and received,
 * nothing left queued, cached or waiting.
 */
static inline void stress_expect_clean(struct __test_metadata *_metadata,
				       const struct stress_shared *sh,
				       const struct stress_tally *t, int fd)
{
	struct ipcbox_stat st;

	EXPECT_LT(0, t->sent);
	EXPECT_EQ(t->sent, t->received);
	EXPECT_EQ(0, t->lost);
	EXPECT_EQ(0, t->dup);
	EXPECT_EQ(0, t->phantom);
	EXPECT_EQ(0, sh->reorder);
	EXPECT_EQ(0, sh->bad_len);
	EXPECT_EQ(0, sh->bad_id);
	EXPECT_EQ(0, sh->bad_csum);
	EXPECT_EQ(0, sh->bad_sender);
	EXPECT_EQ(0, sh->bad_filter);
	EXPECT_EQ(0, sh->send_err);
	EXPECT_EQ(0, sh->recv_err);
	ASSERT_EQ(0, mb_stat(fd, &st));
	EXPECT_EQ(t->received, st.sent);
	EXPECT_EQ(t->received, st.received);
	EXPECT_EQ(0, st.depth);
	EXPECT_EQ(0, st.bytes);
	EXPECT_EQ(0, st.cached);
	EXPECT_EQ(0, st.waiting_senders);
	EXPECT_EQ(0, st.waiting_receivers);
}

#endif /* IPCBOX_STRESS_H */
