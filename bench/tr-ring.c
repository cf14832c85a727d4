// SPDX-License-Identifier: GPL-2.0
/*
 * The floor: a ring in shared memory with eventfds to sleep and wake.
 */
#include "bench.h"

#include <stdatomic.h>
#include <string.h>
#include <unistd.h>
#include <linux/futex.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>

/* The ring itself lives in MAP_SHARED memory, seen by every process. */
struct ring {
	atomic_int lock;	/* 0 free, 1 held, 2 held with sleepers */
	unsigned int slots;
	size_t slot_size;
	unsigned long head, tail;	/* under @lock */
	unsigned int wait_send, wait_recv;	/* under @lock */
	char data[];
};

struct ring_state {
	struct ring *ring;
	size_t ring_len;
	int ev_space, ev_items;	/* EFD_SEMAPHORE eventfds of the ring */
};

/*
 * A bounded ring in shared memory under a small lock. A process that
 * finds the ring full (empty) registers as a waiter under the lock and
 * sleeps on an EFD_SEMAPHORE eventfd; the other side posts one token per
 * registered waiter. Tokens persist, so no wakeup is lost. When nobody
 * waits no system call is made: this is the cost of the data movement
 * and the sleep/wake alone.
 *
 * The lock is the classic futex mutex (0 free, 1 held, 2 held and
 * someone may sleep on it): a short spin, then FUTEX_WAIT. A waiter that
 * sleeps rather than spins lets its vCPU go idle, so the holder runs
 * next, whether it was preempted on the same vCPU or descheduled on the
 * other one; what a contended lock costs then does not depend on where
 * a vCPU's slice happens to end.
 */
static void futex_call(atomic_int *word, int op, int val)
{
	count_sys(1);
	syscall(SYS_futex, word, op, val, NULL, NULL, 0);
}

static void ring_lock(struct ring *r)
{
	int c = 0;

	for (int spins = 0; spins < 64; spins++) {
		c = 0;
		if (atomic_compare_exchange_weak_explicit(&r->lock, &c, 1,
							  memory_order_acquire,
							  memory_order_relaxed))
			return;
	}
	if (c != 2)
		c = atomic_exchange_explicit(&r->lock, 2, memory_order_acquire);
	while (c) {
		futex_call(&r->lock, FUTEX_WAIT, 2);
		c = atomic_exchange_explicit(&r->lock, 2, memory_order_acquire);
	}
}

static void ring_unlock(struct ring *r)
{
	if (atomic_exchange_explicit(&r->lock, 0, memory_order_release) == 2)
		futex_call(&r->lock, FUTEX_WAKE, 1);
}

static void ev_wait(int fd)
{
	uint64_t v;

	while (sys_again(read(fd, &v, sizeof(v))))
		;
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
	struct ring_state *s = chan_priv(c, sizeof(*s));
	unsigned int slots = c->cfg.capacity ? c->cfg.capacity : 1;

	if (!s)
		return -ENOMEM;
	s->ring_len = sizeof(struct ring) + (size_t)slots * c->cfg.msg_size;
	s->ring = mmap(NULL, s->ring_len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (s->ring == MAP_FAILED)
		return -errno;
	s->ring->slots = slots;
	s->ring->slot_size = c->cfg.msg_size;
	s->ev_space = eventfd(0, EFD_SEMAPHORE | EFD_CLOEXEC);
	s->ev_items = eventfd(0, EFD_SEMAPHORE | EFD_CLOEXEC);
	if (s->ev_space < 0 || s->ev_items < 0)
		return -errno;
	snprintf(c->note, sizeof(c->note), "%u slots%s", slots,
		 c->cfg.capacity ? "" : " (no rendezvous: 1)");
	return 0;
}

/* Under the lock: wait as one of @waiters until @ev is posted. */
static void ring_sleep(struct ring *r, unsigned int *waiters, int ev)
{
	(*waiters)++;
	ring_unlock(r);
	ev_wait(ev);
	ring_lock(r);
}

/* Unlock, waking one of the other side's @waiters, if any, by @ev. */
static void ring_unlock_wake(struct ring *r, unsigned int *waiters, int ev)
{
	int wake = *waiters > 0;

	if (wake)
		(*waiters)--;
	ring_unlock(r);
	if (wake)
		ev_post(ev);
}

static int ring_send(struct chan *c, const void *buf)
{
	struct ring_state *s = c->priv;
	struct ring *r = s->ring;

	ring_lock(r);
	while (r->head - r->tail == r->slots)
		ring_sleep(r, &r->wait_send, s->ev_space);
	memcpy(r->data + (r->head % r->slots) * r->slot_size, buf, r->slot_size);
	r->head++;
	ring_unlock_wake(r, &r->wait_recv, s->ev_items);
	return 0;
}

static int ring_recv(struct chan *c, void *buf)
{
	struct ring_state *s = c->priv;
	struct ring *r = s->ring;

	ring_lock(r);
	while (r->head == r->tail)
		ring_sleep(r, &r->wait_recv, s->ev_items);
	memcpy(buf, r->data + (r->tail % r->slots) * r->slot_size, r->slot_size);
	r->tail++;
	ring_unlock_wake(r, &r->wait_send, s->ev_space);
	return 0;
}

static void ring_close_chan(struct chan *c)
{
	struct ring_state *s = c->priv;

	close(s->ev_space);
	close(s->ev_items);
	munmap(s->ring, s->ring_len);
}

const struct chan_ops shm_ring_ops = {
	.open = ring_open_chan, .close = ring_close_chan,
	.send = ring_send, .recv = ring_recv,
	CHAN_OPS_FROM_SEND_RECV,
};
