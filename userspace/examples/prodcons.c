// SPDX-License-Identifier: MIT
/*
 * Producer-consumer with a bounded buffer: an anonymous mailbox of
 * capacity 4 shared by 3 producer and 2 consumer processes.
 *
 * Producers block when the buffer is full, consumers when it is empty;
 * the kernel does all the waiting, no semaphores needed. Each message
 * carries its producer, a sequence number and a checksum, so the parent
 * can prove that every message arrived exactly once and intact.
 */
#include <stdint.h>
#include "example.h"

#define PRODUCERS	3
#define CONSUMERS	2
#define PER_PRODUCER	50
#define CAPACITY	4

static const char *prog = "prodcons";
static int failed;

struct item {
	uint32_t producer;
	uint32_t seq;
	uint32_t check;		/* producer * 1000003 ^ seq: detects corruption */
};

struct tally {
	uint32_t consumer;
	uint32_t received;
	uint32_t bad;
	uint32_t out_of_order;
	uint8_t seen[PRODUCERS][PER_PRODUCER];
};

static void producer(int box, uint32_t id)
{
	unsigned int full = 0;
	double waited = 0;

	for (uint32_t seq = 0; seq < PER_PRODUCER; seq++) {
		struct item it = { id, seq, id * 1000003u ^ seq };
		/* Try without waiting first, only to learn whether it was full. */
		int ret = ipcbox_send_timeout_ms(box, &it, sizeof(it), 0);

		if (ret == -EAGAIN) {
			double t0 = now_ms();

			full++;
			CHECK(ipcbox_send(box, &it, sizeof(it)));
			waited += now_ms() - t0;
		} else {
			CHECK(ret);
		}
	}
	printf("producer %u (pid %d): sent %d items; found the buffer full "
	       "%u times and waited %.1f ms in all\n", id, getpid(),
	       PER_PRODUCER, full, waited);
	exit(0);
}

static void consumer(int box, int results, uint32_t id)
{
	struct tally t = { .consumer = id };
	int32_t last[PRODUCERS];
	struct item it;
	int ret;

	memset(last, -1, sizeof(last));
	/* Receive until the parent shuts the mailbox down and it is drained. */
	while ((ret = ipcbox_recv(box, &it, sizeof(it))) > 0) {
		if (ret != sizeof(it) || it.producer >= PRODUCERS ||
		    it.seq >= PER_PRODUCER ||
		    it.check != (it.producer * 1000003u ^ it.seq)) {
			t.bad++;
			continue;
		}
		/* One producer's items reach one consumer in send order. */
		if ((int32_t)it.seq <= last[it.producer])
			t.out_of_order++;
		last[it.producer] = it.seq;
		t.seen[it.producer][it.seq]++;
		t.received++;
	}
	if (ret != -EPIPE) {
		fprintf(stderr, "%s: consumer %u: receive failed: %s\n", prog,
			id, ipcbox_strerror(ret));
		exit(1);
	}
	printf("consumer %u (pid %d): took %u items, then saw end of file\n",
	       id, getpid(), t.received);
	CHECK(ipcbox_send(results, &t, sizeof(t)));
	exit(0);
}

int main(void)
{
	pid_t prod[PRODUCERS], cons[CONSUMERS];
	struct tally t;
	uint32_t total = 0;
	int box, results, i, p, s;
	static uint8_t seen[PRODUCERS][PER_PRODUCER];

	need_module(prog);
	setvbuf(stdout, NULL, _IOLBF, 0);
	box = CHECK(ipcbox_create_anon(CAPACITY, sizeof(struct item), 0));
	results = CHECK(ipcbox_create_anon(CONSUMERS, sizeof(struct tally), 0));
	printf("bounded buffer: capacity %d, %d producers x %d items, %d "
	       "consumers\n", CAPACITY, PRODUCERS, PER_PRODUCER, CONSUMERS);

	for (i = 0; i < CONSUMERS; i++)
		if (!(cons[i] = fork()))
			consumer(box, results, i);
	for (i = 0; i < PRODUCERS; i++)
		if (!(prod[i] = fork()))
			producer(box, i);

	for (i = 0; i < PRODUCERS; i++)
		EXPECT(child_ok(prod[i]), "producer %d failed", i);
	/* No more producers: consumers drain the rest, then see EOF. */
	CHECK(ipcbox_shutdown(box));

	for (i = 0; i < CONSUMERS; i++) {
		EXPECT(CHECK(ipcbox_recv(results, &t, sizeof(t))) == sizeof(t),
		       "short tally");
		EXPECT(!t.bad, "consumer %u got %u corrupted items",
		       t.consumer, t.bad);
		EXPECT(!t.out_of_order, "consumer %u saw %u items out of order",
		       t.consumer, t.out_of_order);
		for (p = 0; p < PRODUCERS; p++)
			for (s = 0; s < PER_PRODUCER; s++)
				seen[p][s] += t.seen[p][s];
		total += t.received;
	}
	for (i = 0; i < CONSUMERS; i++)
		EXPECT(child_ok(cons[i]), "consumer %d failed", i);
	for (p = 0; p < PRODUCERS; p++)
		for (s = 0; s < PER_PRODUCER; s++)
			EXPECT(seen[p][s] == 1, "item %d/%d delivered %d times",
			       p, s, seen[p][s]);

	printf("%u of %d items delivered, each exactly once and intact: %s\n",
	       total, PRODUCERS * PER_PRODUCER, failed ? "NO" : "yes");
	return failed;
}
