// SPDX-License-Identifier: GPL-2.0
/*
 * The scenarios' message loops, one for a round trip and one for one
 * way (throughput, large messages, producers and consumers), written
 * once over the transport operations.
 */
#include "bench.h"

#include <string.h>

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
	const struct chan_ops *ops = a->be->ops;
	long i;

	for (i = 0; i < rc->iters; i++) {
		if (producer) {
			fill(buf, rc->size, i);
			if (ops->call(a, b, buf, buf2))
				return -1;
			if (seq_of(buf2, rc->size) != (rc->size >= 8 ? i : -1)) {
				errno = EBADMSG;
				return -1;
			}
		} else if (ops->serve(a, b, buf)) {
			return -1;
		}
		st->msgs++;
	}
	if (!producer && ops->serve_end(a, buf))
		return -1;
	return 0;
}

/* One producer: FIFO, so the consumer sees @first, @first + 1, ... */
static int check_order(const char *bufs, size_t size, long first, int k)
{
	for (int j = 0; j < k; j++)
		if (seq_of(bufs + j * size, size) != first + j) {
			errno = EBADMSG;
			return -1;
		}
	return 0;
}

/*
 * One-way: this process's share @n of the messages, checked in order,
 * rc->batch per call (at least one).
 */
static int oneway_loop(struct proc_stats *st, const struct run_cfg *rc,
		       int producer, struct chan *a, char *buf, long n)
{
	const struct chan_ops *ops = a->be->ops;
	int per_call = rc->batch > 1 ? rc->batch : 1;
	int check = !producer && rc->prod == 1 && rc->size >= 8;
	long i = 0;

	while (i < n) {
		int k = per_call < n - i ? per_call : (int)(n - i);

		if (producer) {
			for (int j = 0; j < k; j++)
				fill(buf + j * rc->size, rc->size, i + j);
			if (ops->sendv(a, buf, k))
				return -1;
		} else {
			k = ops->recvv(a, buf, k);
			if (k < 0)
				return -1;
		}
		if (check && check_order(buf, rc->size, i, k))
			return -1;
		i += k;
		st->msgs += k;
	}
	return 0;
}

/*
 * Process @idx's part of a run, producers first (0 .. prod - 1), then
 * consumers; one way, each side shares the messages out evenly.
 */
int scenario_proc(struct proc_stats *st, const struct run_cfg *rc, int idx,
		  struct chan *a, struct chan *b, char *buf, char *buf2)
{
	int producer = idx < rc->prod;
	int k = producer ? idx : idx - rc->prod;
	int nk = producer ? rc->prod : rc->cons;

	if (rc->scen == RTT)
		return rtt_loop(st, rc, producer, a, b, buf, buf2);
	return oneway_loop(st, rc, producer, a, buf,
			   rc->iters / nk + (k < rc->iters % nk));
}
