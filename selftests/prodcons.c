// SPDX-License-Identifier: GPL-2.0
/*
 * Producer-consumer stress: NR_PROD producer processes and NR_CONS
 * consumer processes move IPCBOX_PRODCONS_MSGS messages (default 100000)
 * through one mailbox, for capacities 0, 1, 16 and unbounded.
 *
 * Every message carries its producer id, a sequence number, a length and
 * a checksum of a payload generated from them, so a corrupted message is
 * caught; a shared bitmap of counters catches losses and duplicates; each
 * consumer checks that it sees every producer's messages in order.
 */
#include "ipcbox_test.h"
#include "kselftest_harness.h"

#define NR_PROD		4
#define NR_CONS		4
#define DEFAULT_MSGS	100000
#define MSZ		256
#define MAX_PAYLOAD	(MSZ - sizeof(struct pc_hdr))

struct pc_hdr {
	uint32_t producer;
	uint32_t seq;
	uint32_t len;
	uint32_t csum;
};

struct pc_shared {
	pid_t producer_pid[NR_PROD];
	uint64_t received[NR_CONS];
	uint64_t bad_len;
	uint64_t bad_csum;
	uint64_t bad_id;
	uint64_t bad_order;
	uint64_t bad_sender;
	uint64_t enobufs;
	uint8_t seen[];		/* NR_PROD * per_producer counters */
};

static uint32_t payload_len(uint32_t p, uint32_t seq)
{
	return (seq * 7 + p * 13) % (MAX_PAYLOAD + 1);
}

static uint8_t payload_byte(uint32_t p, uint32_t seq, uint32_t i)
{
	return (uint8_t)(p * 31 + seq * 7 + i * 13 + (seq >> 8));
}

static uint32_t checksum(const uint8_t *buf, uint32_t len)
{
	uint32_t h = 2166136261u;
	uint32_t i;

	for (i = 0; i < len; i++)
		h = (h ^ buf[i]) * 16777619u;
	return h;
}

static int produce(int fd, struct pc_shared *sh, uint32_t p, uint32_t count)
{
	uint8_t msg[MSZ];
	struct pc_hdr *h = (void *)msg;
	uint32_t seq, i;
	int ret;

	sh->producer_pid[p] = getpid();
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	for (seq = 0; seq < count; seq++) {
		h->producer = p;
		h->seq = seq;
		h->len = payload_len(p, seq);
		for (i = 0; i < h->len; i++)
			msg[sizeof(*h) + i] = payload_byte(p, seq, i);
		h->csum = checksum(msg + sizeof(*h), h->len);
		for (;;) {
			ret = mb_send(fd, msg, sizeof(*h) + h->len, 0, -1);
			if (ret != -ENOBUFS)
				break;
			/* unbounded queue at its byte cap: let consumers catch up */
			__atomic_fetch_add(&sh->enobufs, 1, __ATOMIC_RELAXED);
			sleep_ms(1);
		}
		if (ret)
			return 10;
	}
	return 0;
}

static int consume(int fd, struct pc_shared *sh, uint32_t c, uint32_t per)
{
	int64_t last[NR_PROD];
	struct ipcbox_msg_info info;
	uint8_t msg[MSZ];
	struct pc_hdr *h = (void *)msg;
	uint32_t i;
	int n;

	for (i = 0; i < NR_PROD; i++)
		last[i] = -1;
	for (;;) {
		n = mb_recv_full(fd, msg, sizeof(msg), 0, -1, 0, 0, &info);
		if (n == -EPIPE)
			return 0;
		if (n < 0)
			return 20;
		sh->received[c]++;
		if (n < (int)sizeof(*h) || h->len > MAX_PAYLOAD ||
		    (uint32_t)n != sizeof(*h) + h->len || info.len != (uint32_t)n) {
			__atomic_fetch_add(&sh->bad_len, 1, __ATOMIC_RELAXED);
			continue;
		}
		if (h->producer >= NR_PROD || h->seq >= per ||
		    h->len != payload_len(h->producer, h->seq)) {
			__atomic_fetch_add(&sh->bad_id, 1, __ATOMIC_RELAXED);
			continue;
		}
		if (h->csum != checksum(msg + sizeof(*h), h->len))
			__atomic_fetch_add(&sh->bad_csum, 1, __ATOMIC_RELAXED);
		for (i = 0; i < h->len; i++)
			if (msg[sizeof(*h) + i] != payload_byte(h->producer, h->seq, i))
				break;
		if (i != h->len)
			__atomic_fetch_add(&sh->bad_csum, 1, __ATOMIC_RELAXED);
		if (info.sender_tgid != __atomic_load_n(&sh->producer_pid[h->producer],
							__ATOMIC_SEQ_CST))
			__atomic_fetch_add(&sh->bad_sender, 1, __ATOMIC_RELAXED);
		if ((int64_t)h->seq <= last[h->producer])
			__atomic_fetch_add(&sh->bad_order, 1, __ATOMIC_RELAXED);
		last[h->producer] = h->seq;
		__atomic_fetch_add(&sh->seen[h->producer * per + h->seq], 1,
				   __ATOMIC_RELAXED);
	}
}

FIXTURE(prodcons) {
	int ctl;
	int fd;
	struct pc_shared *sh;
	size_t sh_size;
	uint32_t per;
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
	const char *env = getenv("IPCBOX_PRODCONS_MSGS");
	unsigned long total = env ? strtoul(env, NULL, 0) : DEFAULT_MSGS;

	self->fd = -1;
	self->sh = MAP_FAILED;
	if (total < NR_PROD)
		total = NR_PROD;
	self->per = total / NR_PROD;
	self->ctl = ctl_open();
	if (self->ctl < 0)
		SKIP(return, "%s: %m (ipcbox.ko not loaded?)", IPCBOX_CONTROL_PATH);
	self->fd = mb_anon(self->ctl, variant->capacity, MSZ);
	ASSERT_GE(self->fd, 0) TH_LOG("create: %s", strerror(-self->fd));
	self->sh_size = sizeof(*self->sh) + (size_t)NR_PROD * self->per;
	self->sh = mmap(NULL, self->sh_size, PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->sh);
}

FIXTURE_TEARDOWN(prodcons)
{
	if (self->sh != MAP_FAILED)
		munmap(self->sh, self->sh_size);
	close_fd(&self->fd);
	close_fd(&self->ctl);
}

TEST_F_TIMEOUT(prodcons, every_message_arrives_once_intact_and_in_order, 600)
{
	pid_t prod[NR_PROD], cons[NR_CONS];
	struct pc_shared *sh = self->sh;
	uint64_t total = 0, lost = 0, dup = 0, i;
	struct ipcbox_stat st;
	int64_t t0 = now_ns();
	int p, c;

	for (c = 0; c < NR_CONS; c++) {
		cons[c] = fork();
		ASSERT_GE(cons[c], 0);
		if (cons[c] == 0)
			_exit(consume(self->fd, sh, c, self->per));
	}
	for (p = 0; p < NR_PROD; p++) {
		prod[p] = fork();
		ASSERT_GE(prod[p], 0);
		if (prod[p] == 0)
			_exit(produce(self->fd, sh, p, self->per));
	}
	for (p = 0; p < NR_PROD; p++)
		EXPECT_EQ(0, wait_child(prod[p])) TH_LOG("producer %d", p);
	/* everything is sent (and, for capacity 0, taken): let consumers drain */
	ASSERT_EQ(0, mb_shutdown(self->fd));
	for (c = 0; c < NR_CONS; c++)
		EXPECT_EQ(0, wait_child(cons[c])) TH_LOG("consumer %d", c);

	for (c = 0; c < NR_CONS; c++)
		total += sh->received[c];
	for (i = 0; i < (uint64_t)NR_PROD * self->per; i++) {
		if (sh->seen[i] == 0)
			lost++;
		else if (sh->seen[i] > 1)
			dup++;
	}
	TH_LOG("capacity %u: %llu messages in %.1f s (per consumer %llu/%llu/%llu/%llu, ENOBUFS retries %llu)",
	       variant->capacity, (unsigned long long)total,
	       (now_ns() - t0) / 1e9,
	       (unsigned long long)sh->received[0], (unsigned long long)sh->received[1],
	       (unsigned long long)sh->received[2], (unsigned long long)sh->received[3],
	       (unsigned long long)sh->enobufs);
	EXPECT_EQ((uint64_t)NR_PROD * self->per, total);
	EXPECT_EQ(0, lost);
	EXPECT_EQ(0, dup);
	EXPECT_EQ(0, sh->bad_len);
	EXPECT_EQ(0, sh->bad_id);
	EXPECT_EQ(0, sh->bad_csum);
	EXPECT_EQ(0, sh->bad_order);
	EXPECT_EQ(0, sh->bad_sender);
	ASSERT_EQ(0, mb_stat(self->fd, &st));
	EXPECT_EQ(total, st.sent);
	EXPECT_EQ(total, st.received);
	EXPECT_EQ(0, st.depth);
	EXPECT_EQ(0, st.bytes);
}

TEST_HARNESS_MAIN
