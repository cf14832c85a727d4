// SPDX-License-Identifier: GPL-2.0
/*
 * Producer-consumer stress: NR_PROD producer processes and NR_CONS
 * consumer processes move IPCBOX_PRODCONS_MSGS messages (default 100000)
 * through one mailbox, for capacities 0, 1, 16 and unbounded, with plain
 * blocking sends and receives on one shared open file.
 *
 * Every message arrives once, intact, from its producer and in its
 * producer's order (stress.h checks them, torture shares it).
 */
#include "ipcbox_test.h"
#include "kselftest_harness.h"
#include "stress.h"

#define NR_PROD		4
#define NR_CONS		4
#define DEFAULT_MSGS	100000
#define MSZ		256

/* Blocking sends; an unbounded queue at its byte cap lets consumers catch up. */
static int send_blocking(struct stress_shared *sh, int fd, const uint8_t *msg,
			 uint32_t len, const struct stress_hdr *h,
			 struct test_rng *rng)
{
	int ret;

	while ((ret = mb_send(fd, msg, len, 0, -1)) == -ENOBUFS) {
		bump(&sh->enobufs);
		sleep_ms(1);
	}
	return ret;
}

/* Blocking receives until the mailbox is shut down and drained. */
static int recv_blocking(struct stress_shared *sh, int fd, uint32_t c)
{
	struct stress_order order;
	struct ipcbox_msg_info info;
	uint8_t msg[MSZ];
	int n;

	stress_order_init(&order);
	for (;;) {
		n = mb_recv_full(fd, msg, sizeof(msg), 0, -1, 0, 0, &info);
		if (n == -EPIPE)
			return 0;
		if (n < 0) {
			bump(&sh->recv_err);
			return 20;
		}
		stress_received(sh, &order, c, msg, n, &info, STRESS_ANY, 0);
	}
}

FIXTURE(prodcons) {
	int ctl;
	int fd;
	struct stress_shared *sh;
};

FIXTURE_VARIANT(prodcons) {
	uint32_t capacity;
};

FIXTURE_VARIANT_ADD(prodcons, rendezvous) {
	.capacity = 0,
};

FIXTURE_VARIANT_ADD(prodcons, capacity_1) {
	.capacity = 1,
};

FIXTURE_VARIANT_ADD(prodcons, capacity_16) {
	.capacity = 16,
};

FIXTURE_VARIANT_ADD(prodcons, unbounded) {
	.capacity = IPCBOX_CAPACITY_UNBOUNDED,
};

FIXTURE_SETUP(prodcons)
{
	unsigned long total = env_ul("IPCBOX_PRODCONS_MSGS", DEFAULT_MSGS);
	struct stress_cfg cfg = {
		.nprod = NR_PROD,
		.ncons = NR_CONS,
		.per = total < NR_PROD ? 1 : total / NR_PROD,
		.msz = MSZ,
		.small = MSZ - sizeof(struct stress_hdr),
	};

	self->fd = -1;
	self->sh = MAP_FAILED;
	CTL_OPEN_OR_SKIP(self->ctl);
	self->sh = stress_map(&cfg);
	ASSERT_NE(MAP_FAILED, self->sh);
	self->fd = mb_anon(self->ctl, variant->capacity, MSZ);
	ASSERT_GE(self->fd, 0) TH_LOG("create: %s", strerror(-self->fd));
}

FIXTURE_TEARDOWN(prodcons)
{
	stress_unmap(&self->sh);
	close_fd(&self->fd);
	close_fd(&self->ctl);
}

TEST_F_TIMEOUT(prodcons, every_message_arrives_once_intact_and_in_order, 600)
{
	struct stress_shared *sh = self->sh;
	struct stress_tally t;
	int64_t t0 = now_ns();

	stress_run(_metadata, sh, self->fd, send_blocking, recv_blocking);
	stress_tally(sh, &t);
	TH_LOG("capacity %u: %llu messages in %.1f s (per consumer %llu/%llu/%llu/%llu, ENOBUFS retries %llu)",
	       variant->capacity, (unsigned long long)t.received,
	       (now_ns() - t0) / 1e9,
	       (unsigned long long)sh->received[0], (unsigned long long)sh->received[1],
	       (unsigned long long)sh->received[2], (unsigned long long)sh->received[3],
	       (unsigned long long)sh->enobufs);
	EXPECT_EQ((uint64_t)NR_PROD * sh->cfg.per, t.sent);
	stress_expect_clean(_metadata, sh, &t, self->fd);
}

TEST_HARNESS_MAIN
