// SPDX-License-Identifier: GPL-2.0
/*
 * Producer-consumer torture: up to 8 producer and 8 consumer processes
 * (more tasks than CPUs) on one named mailbox, each with its own open
 * file, for capacities 0, 1, 16 and unbounded. Producers mix blocking,
 * non-blocking (retried on EAGAIN), timed, SYNC and CACHE sends with
 * priorities and tags; consumers mix blocking, non-blocking, timed and
 * tag- or sender-filtered receives.
 *
 * Every message arrives once, intact, from its producer, and in its
 * producer's order within one priority and one kind of receive, the
 * order the semantics guarantee (stress.h checks them, prodcons shares
 * it); a separate test checks the priority order of a queue drained by
 * one consumer.
 *
 * IPCBOX_TORTURE_SECS (default 6) bounds each case, IPCBOX_TORTURE_MSGS
 * (default 40000) the messages of one producer.
 */
#include "ipcbox_test.h"
#include "kselftest_harness.h"
#include "stress.h"

#define MSZ		1024
#define SMALL		128	/* most payloads at most this long */
#define DEFAULT_SECS	6
#define DEFAULT_MSGS	40000

/* Send one message, retrying the modes that may fail without effect. */
static int send_mixed(struct stress_shared *sh, int fd, const uint8_t *msg,
		      uint32_t len, const struct stress_hdr *h,
		      struct test_rng *rng)
{
	uint32_t mode = rng_below(rng, 6);
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
			flags = IPCBOX_NONBLOCK;
			to = 0;
			break;
		case 2:
			bump(&sh->n_timed);
			to = (1 + rng_below(rng, 5)) * NSEC_PER_MSEC;
			break;
		case 3:
			bump(&sh->n_timed);
			flags = IPCBOX_ABSTIME;
			to = now_ns() + (1 + rng_below(rng, 5)) * NSEC_PER_MSEC;
			break;
		case 4:
			bump(&sh->n_sync);
			flags = IPCBOX_SEND_SYNC;
			break;
		default:
			bump(&sh->n_cache);
			flags = IPCBOX_SEND_CACHE | IPCBOX_NONBLOCK;
			to = 0;
			break;
		}
		ret = mb_send_full(fd, msg, len, flags, to, h->prio, h->tag,
				   NULL);
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
			mode = rng_below(rng, 2) ? 0 : 4;
	}
}

/* Mixed receives until the mailbox is shut down and drained. */
static int recv_mixed(struct stress_shared *sh, int fd, uint32_t c)
{
	struct stress_order order;
	struct test_rng rng;
	struct ipcbox_msg_info info;
	uint8_t msg[MSZ];
	bool draining = false;
	uint32_t flags, mode, fp;
	int64_t to;
	pid_t fpid;
	uint64_t ftag;
	int n, kind;

	rng_seed(&rng, 0x6a09e667u ^ (c + 1) * 0xc2b2ae35u);
	stress_order_init(&order);
	for (;;) {
		mode = draining ? 0 : rng_below(&rng, 6);
		flags = 0;
		to = IPCBOX_TIMEOUT_INFINITE;
		fpid = 0;
		ftag = 0;
		kind = STRESS_ANY;
		switch (mode) {
		case 0:
			break;
		case 1:
			flags = IPCBOX_NONBLOCK;
			to = 0;
			break;
		case 2:
			to = (1 + rng_below(&rng, 10)) * NSEC_PER_MSEC;
			break;
		case 3:
			flags = IPCBOX_ABSTIME;
			to = now_ns() + (1 + rng_below(&rng, 10)) * NSEC_PER_MSEC;
			break;
		case 4:
			fp = rng_below(&rng, sh->cfg.nprod);
			fpid = __atomic_load_n(&sh->producer_pid[fp], __ATOMIC_SEQ_CST);
			if (fpid <= 0)
				continue;
			flags = IPCBOX_RECV_FILTER_PID;
			to = (1 + rng_below(&rng, 10)) * NSEC_PER_MSEC;
			kind = STRESS_PID;
			break;
		default:
			ftag = rng_below(&rng, STRESS_NR_TAGS);
			flags = IPCBOX_RECV_FILTER_TAG;
			to = (1 + rng_below(&rng, 10)) * NSEC_PER_MSEC;
			kind = STRESS_TAG + ftag;
			break;
		}
		n = mb_recv_full(fd, msg, sizeof(msg), flags, to, fpid, ftag,
				 &info);
		if (n == -EPIPE) {
			if (mode == 0)
				return 0;
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
			return 21;
		}
		stress_received(sh, &order, c, msg, n, &info, kind, fpid);
	}
}

FIXTURE(torture) {
	int ctl;
	int fd;
	struct stress_shared *sh;
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
	struct stress_cfg cfg = {
		.nprod = variant->nprod,
		.ncons = variant->ncons,
		.per = env_ul("IPCBOX_TORTURE_MSGS", DEFAULT_MSGS),
		.msz = MSZ,
		.small = SMALL,
		.prio_tag = true,
	};

	self->fd = -1;
	self->sh = MAP_FAILED;
	self->secs = env_ul("IPCBOX_TORTURE_SECS", DEFAULT_SECS);
	CTL_OPEN_OR_SKIP(self->ctl);
	test_name(cfg.name, sizeof(cfg.name), "torture");
	self->sh = stress_map(&cfg);
	ASSERT_NE(MAP_FAILED, self->sh);
	self->fd = mb_create(self->ctl, cfg.name, variant->capacity, MSZ,
			     0600, IPCBOX_CREATE_CLOEXEC);
	ASSERT_GE(self->fd, 0) TH_LOG("create: %s", strerror(-self->fd));
}

FIXTURE_TEARDOWN(torture)
{
	close_fd(&self->fd);
	if (self->ctl >= 0 && self->sh != MAP_FAILED)
		mb_unlink(self->ctl, self->sh->cfg.name);
	stress_unmap(&self->sh);
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
	struct stress_shared *sh = self->sh;
	int64_t t0 = now_ns();
	struct stress_tally t;
	char cap[16];

	sh->cfg.deadline = t0 + (int64_t)self->secs * NSEC_PER_SEC;
	stress_run(_metadata, sh, self->fd, send_mixed, recv_mixed);
	stress_tally(sh, &t);
	ksft_print_msg("torture: cap=%s %ux%u moved=%llu lost=%llu dup=%llu reorder=%llu corrupt=%llu phantom=%llu secs=%.1f\n",
		       cap_str(variant->capacity, cap, sizeof(cap)),
		       variant->nprod, variant->ncons,
		       (unsigned long long)t.received, (unsigned long long)t.lost,
		       (unsigned long long)t.dup, (unsigned long long)sh->reorder,
		       (unsigned long long)t.broken,
		       (unsigned long long)t.phantom, (now_ns() - t0) / 1e9);
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
	stress_expect_clean(_metadata, sh, &t, self->fd);
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
	int64_t lastp[STRESS_MAX_PROD][IPCBOX_PRIO_MAX];
	uint64_t lastseq[IPCBOX_PRIO_MAX];
	struct ipcbox_msg_info info;
	uint8_t msg[MSZ];
	const struct stress_hdr *h = (const void *)msg;
	uint64_t moved = 0, bad_prio = 0, bad_seq = 0, corrupt = 0;
	uint32_t prev = IPCBOX_PRIO_MAX, p;
	pid_t pids[STRESS_MAX_PROD];
	char capbuf[16];
	int ctl, fd, n;

	CTL_OPEN_OR_SKIP(ctl);
	fd = mb_anon(ctl, cap, MSZ);
	close(ctl);
	ASSERT_GE(fd, 0);
	for (p = 0; p < STRESS_MAX_PROD; p++) {
		pids[p] = fork();
		ASSERT_GE(pids[p], 0);
		if (pids[p] == 0) {
			struct stress_hdr *ph = (void *)msg;
			struct test_rng rng;
			uint32_t s;

			rng_seed(&rng, p * 7919 + 1);
			for (s = 0; s < per; s++) {
				memset(ph, 0, sizeof(*ph));
				ph->producer = p;
				ph->seq = s;
				ph->prio = rng_below(&rng, IPCBOX_PRIO_MAX);
				if (mb_send_full(fd, msg, sizeof(*ph),
						 s % 2 ? IPCBOX_NONBLOCK : 0,
						 s % 2 ? 0 : -1, ph->prio, p, NULL))
					_exit(1);
			}
			_exit(0);
		}
	}
	for (p = 0; p < STRESS_MAX_PROD; p++)
		ASSERT_EQ(0, wait_child(pids[p]));
	memset(lastp, 0xff, sizeof(lastp));
	memset(lastseq, 0, sizeof(lastseq));
	while ((n = mb_recv_full(fd, msg, sizeof(msg), 0, 0, 0, 0, &info)) > 0) {
		moved++;
		if (n != sizeof(*h) || h->producer >= STRESS_MAX_PROD ||
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
	EXPECT_EQ(STRESS_MAX_PROD * per, moved);
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
