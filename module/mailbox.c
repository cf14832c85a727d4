// SPDX-License-Identifier: GPL-2.0
/*
 * ipcbox mailbox core: the queue and its priorities, pending and parked
 * messages, hand-off to blocked receivers, blocking with deadlines,
 * rendezvous, SYNC and CACHE sends, shutdown, poll and stat.
 *
 * A send hands its message to a blocked receiver that takes it, queues
 * it, parks it in the sender fd's CACHE slot, or blocks: with its message
 * pending (a bounded queue is full) or queued but not yet taken
 * (rendezvous, SYNC, CALL). Whoever makes room or takes the message
 * finishes the send on the sender's behalf, under the mailbox lock, and a
 * sender that gives up takes its message back under the same lock: so
 * "delivered" versus "timed out or interrupted" is decided exactly once.
 *
 * A receive claims the message it found, copies it out (under the lock
 * when that cannot fault, else after dropping it), then takes it off the
 * queue; a copy that fails leaves the message where it was.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cred.h>
#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/nsproxy.h>
#include <linux/pid_namespace.h>
#include <linux/poll.h>
#include <linux/random.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/time_namespace.h>
#include <linux/uaccess.h>
#include <linux/user_namespace.h>

#include "compat.h"
#include "ipcbox.h"

static_assert(IPCBOX_PRIO_MAX <= 32);	/* @nonempty is a u32 */

enum ipcbox_wait_kind {
	IPCBOX_WAIT_SEND,
	IPCBOX_WAIT_RECV,
	IPCBOX_WAIT_PEEK,
};

enum ipcbox_wait_state {
	IPCBOX_WS_PENDING,	/* sender: its message waits for room */
	IPCBOX_WS_QUEUED,	/* sender: its message is queued, not taken */
	IPCBOX_WS_DONE,		/* sender: the send succeeded */
	IPCBOX_WS_ABORTED,	/* sender: shutdown took the message back */
	IPCBOX_WS_WAITING,	/* receiver: nothing yet */
	IPCBOX_WS_WOKEN,	/* receiver: the queue changed, look again */
	IPCBOX_WS_HANDED,	/* receiver: @msg was claimed for it */
};

/**
 * struct ipcbox_waiter - a task blocked in a send or a receive
 * @node:	In @pendq or @syncq (sender), or @receivers (receiver).
 * @task:	The blocked task.
 * @msg:	Sender: its message. Receiver: the message handed to it.
 * @kind:	IPCBOX_WAIT_*.
 * @state:	IPCBOX_WS_*.
 * @sync:	Sender: done when its message is taken, not when queued.
 * @taker:	Receiver: counted in @takers.
 * @rx:		Receiver: what it wants (flags, filters, buffer size).
 * @ns:		Receiver: its pid namespace, for the pid filter.
 *
 * Lives on the blocked task's stack; every field is protected by the
 * mailbox lock.
 */
struct ipcbox_waiter {
	struct list_head node;
	struct task_struct *task;
	struct ipcbox_msg *msg;
	enum ipcbox_wait_kind kind;
	enum ipcbox_wait_state state;
	bool sync;
	bool taker;
	const struct ipcbox_rx *rx;
	struct pid_namespace *ns;
};

/* ---- deadlines and time namespaces ---------------------------------- */

/* CLOCK_MONOTONIC of current's time namespace minus the host's, in ns. */
static s64 ipcbox_timens_offset(void)
{
#ifdef CONFIG_TIME_NS
	return timespec64_to_ns(&current->nsproxy->time_ns->offsets.monotonic);
#else
	return 0;
#endif
}

/**
 * ipcbox_deadline_init() - a wait's deadline from a uapi timeout
 * @dl:		Out.
 * @timeout:	-1 forever, 0 try once, > 0 relative ns, or with @abstime a
 *		CLOCK_MONOTONIC time of the caller's time namespace.
 * @abstime:	@timeout is absolute.
 * @nonblock:	Never wait, whatever @timeout says.
 *
 * Return: 0 or -EINVAL.
 */
int ipcbox_deadline_init(struct ipcbox_deadline *dl, s64 timeout,
			 bool abstime, bool nonblock)
{
	if (timeout < IPCBOX_TIMEOUT_INFINITE)
		return -EINVAL;

	dl->forever = false;
	dl->nonblock = nonblock;
	dl->restart = true;
	if (timeout == IPCBOX_TIMEOUT_INFINITE) {
		dl->forever = true;
	} else if (abstime) {
		/* As futex and timerfd: a time namespace's clock, to the host's. */
		timeout -= ipcbox_timens_offset();
		dl->at = ns_to_ktime(max_t(s64, timeout, 0));
	} else if (timeout == 0) {
		dl->nonblock = true;
	} else {
		/*
		 * A restart would start the relative timeout afresh, so an
		 * interrupted relative wait returns EINTR, as epoll_wait does.
		 */
		dl->at = ktime_add_safe(ktime_get(), ns_to_ktime(timeout));
		dl->restart = false;
	}
	return 0;
}

bool ipcbox_expired(const struct ipcbox_deadline *dl)
{
	return !dl->forever && ktime_compare(ktime_get(), dl->at) >= 0;
}

int ipcbox_interrupted(const struct ipcbox_deadline *dl)
{
	return dl->restart ? -ERESTARTSYS : -EINTR;
}

/* ---- wakeups -------------------------------------------------------- */

void ipcbox_notify(struct ipcbox_mailbox *mb, __poll_t ev)
{
	if (!ev)
		return;
	if (wq_has_sleeper(&mb->pollq))
		wake_up_interruptible_sync_poll(&mb->pollq, ev);
	/* kill_fasync()'s own first test, without a call for every message */
	if (!READ_ONCE(mb->fasync))
		return;
	if (ev & EPOLLIN)
		kill_fasync(&mb->fasync, SIGIO, POLL_IN);
	if (ev & EPOLLOUT)
		kill_fasync(&mb->fasync, SIGIO, POLL_OUT);
}

/*
 * Sleep until woken, the deadline passes or a signal arrives. Called and
 * returns with the mailbox lock held; @ev (poll events gathered under the
 * lock) is delivered while the lock is dropped.
 */
void ipcbox_sleep(struct ipcbox_mailbox *mb, const struct ipcbox_deadline *dl,
		  __poll_t *ev)
	__must_hold(&mb->lock)
{
	ktime_t expires = dl->at;

	lockdep_assert_held(&mb->lock);
	/*
	 * A task this one just woke is due to run first (on one CPU: the
	 * receiver a SYNC send or a CALL handed its message to). Let it run
	 * while this one stays runnable: it may well do what this one waits
	 * for (take the message, answer the call), and then this task goes
	 * on without having slept, and nobody spends a wakeup on it. The
	 * caller looks at what it waits for again either way.
	 */
	if (need_resched()) {
		ipcbox_unlock(mb);
		ipcbox_notify(mb, *ev);
		*ev = 0;
		cond_resched();
		ipcbox_lock(mb);
		return;
	}
	set_current_state(TASK_INTERRUPTIBLE);
	ipcbox_unlock(mb);
	ipcbox_notify(mb, *ev);
	*ev = 0;
	if (dl->forever)
		schedule();
	else
		schedule_hrtimeout_range_clock(&expires,
					       current->timer_slack_ns,
					       HRTIMER_MODE_ABS,
					       CLOCK_MONOTONIC);
	__set_current_state(TASK_RUNNING);
	ipcbox_lock(mb);
}

static void ipcbox_wake(struct ipcbox_waiter *w, enum ipcbox_wait_state state)
{
	w->state = state;
	wake_up_process(w->task);
}

/* ---- messages and their places -------------------------------------- */

static inline bool ipcbox_unbounded(const struct ipcbox_mailbox *mb)
{
	return mb->capacity == IPCBOX_CAPACITY_UNBOUNDED;
}

static struct ipcbox_call_ctx *ipcbox_msg_call(const struct ipcbox_msg *msg)
{
	struct ipcbox_msg_ext *ext = ipcbox_msg_ext(msg);

	return ext ? ext->call : NULL;
}

/* One more holder of @msg, unless it has as many as it can count. */
static bool ipcbox_msg_hold(struct ipcbox_msg *msg)
{
	if (msg->holders == U8_MAX)
		return false;
	msg->holders++;
	return true;
}

/*
 * @msg is off every list and its owner is done with it: may the owner
 * free it once the lock is dropped? Not while a receiver has it claimed
 * (the claimer discards it) or while someone holds it (the last holder
 * frees it).
 */
static bool ipcbox_msg_disown(struct ipcbox_msg *msg)
{
	if (msg->flags & IPCBOX_MSG_CLAIMED) {
		msg->flags |= IPCBOX_MSG_CANCELLED;
		return false;
	}
	if (msg->holders) {
		msg->flags |= IPCBOX_MSG_ORPHAN;
		return false;
	}
	return true;
}

/* Free @msg after the lock is dropped: kvfree() may sleep. */
static void ipcbox_reap(struct list_head *reap, struct ipcbox_msg *msg)
{
	list_add(&msg->node, reap);
}

static void ipcbox_reap_all(struct ipcbox_mailbox *mb, struct list_head *reap)
{
	struct ipcbox_msg *msg, *tmp;

	list_for_each_entry_safe(msg, tmp, reap, node)
		ipcbox_msg_free(mb, msg);
}

/* A holder is done with @msg (lock held). */
static void ipcbox_msg_unhold(struct ipcbox_msg *msg, struct list_head *reap)
{
	if (!--msg->holders && (msg->flags & IPCBOX_MSG_ORPHAN))
		ipcbox_reap(reap, msg);
}

/* Queue @msg in its priority, by sequence number from the tail. */
static void ipcbox_queue_add(struct ipcbox_mailbox *mb, struct ipcbox_msg *msg)
	__must_hold(&mb->lock)
{
	struct list_head *head = &mb->levels[msg->prio], *pos = head->prev;

	lockdep_assert_held(&mb->lock);
	/* Only a message handed over and given back can be overtaken. */
	while (pos != head && list_entry(pos, struct ipcbox_msg, node)->seq > msg->seq)
		pos = pos->prev;
	list_add(&msg->node, pos);
	mb->nonempty |= BIT(msg->prio);
	msg->flags |= IPCBOX_MSG_QUEUED;
	mb->depth++;
	mb->bytes += msg->len;
	mb->charge += msg->len + IPCBOX_MSG_OVERHEAD;
}

static void ipcbox_queue_del(struct ipcbox_mailbox *mb, struct ipcbox_msg *msg,
			     __poll_t *ev)
	__must_hold(&mb->lock)
{
	lockdep_assert_held(&mb->lock);
	list_del_init(&msg->node);
	if (list_empty(&mb->levels[msg->prio]))
		mb->nonempty &= ~BIT(msg->prio);
	msg->flags &= ~IPCBOX_MSG_QUEUED;
	mb->depth--;
	mb->bytes -= msg->len;
	mb->charge -= msg->len + IPCBOX_MSG_OVERHEAD;
	*ev |= EPOLLOUT | EPOLLWRNORM;
}

static void ipcbox_claim(struct ipcbox_mailbox *mb, struct ipcbox_msg *msg)
{
	msg->flags |= IPCBOX_MSG_CLAIMED;
	if (msg->flags & IPCBOX_MSG_QUEUED)
		mb->nr_claimed++;
}

static void ipcbox_unclaim_flag(struct ipcbox_mailbox *mb, struct ipcbox_msg *msg)
{
	msg->flags &= ~IPCBOX_MSG_CLAIMED;
	if (msg->flags & IPCBOX_MSG_QUEUED)
		mb->nr_claimed--;
}

/* @msg leaves its CACHE slot: the fd may CACHE-send again. */
static void ipcbox_cache_release(struct ipcbox_mailbox *mb,
				 struct ipcbox_msg *msg, __poll_t *ev)
	__must_hold(&mb->lock)
{
	struct ipcbox_msg_ext *ext = ipcbox_msg_ext(msg);

	lockdep_assert_held(&mb->lock);
	if (!(msg->flags & IPCBOX_MSG_CACHED))
		return;
	msg->flags &= ~IPCBOX_MSG_CACHED;
	mb->nr_cached--;
	if (ext->parker) {
		ext->parker->cached = NULL;
		ext->parker = NULL;
	} else {
		mb->nr_orphaned--;
	}
	*ev |= EPOLLOUT | EPOLLWRNORM;
}

/* The blocked sender whose message is @msg, if any. */
static struct ipcbox_waiter *ipcbox_msg_sender(struct ipcbox_mailbox *mb,
					       struct ipcbox_msg *msg)
	__must_hold(&mb->lock)
{
	struct ipcbox_msg_ext *ext = ipcbox_msg_ext(msg);
	struct ipcbox_waiter *w;

	lockdep_assert_held(&mb->lock);
	if (!(msg->flags & IPCBOX_MSG_PENDING))
		return ext ? ext->waiter : NULL;
	/* Taken from @pendq by a filtered receive: not the usual case. */
	list_for_each_entry(w, &mb->pendq, node)
		if (w->msg == msg)
			return w;
	WARN_ON_ONCE(1);
	return NULL;
}

/* ---- receivers ------------------------------------------------------ */

static bool ipcbox_match(const struct ipcbox_msg *msg,
			 const struct ipcbox_rx *rx, struct pid_namespace *ns)
{
	if ((rx->flags & IPCBOX_RECV_FILTER_TAG) && msg->tag != rx->filter_tag)
		return false;
	if ((rx->flags & IPCBOX_RECV_FILTER_PID) &&
	    pid_nr_ns(msg->tgid, ns) != rx->filter_pid)
		return false;
	return true;
}

static void ipcbox_receiver_leave(struct ipcbox_mailbox *mb,
				  struct ipcbox_waiter *w)
	__must_hold(&mb->lock)
{
	lockdep_assert_held(&mb->lock);
	list_del_init(&w->node);
	mb->waiting_receivers--;
	if (w->taker) {
		mb->takers--;
		w->taker = false;
	}
}

/* The first blocked receiver that would take @msg (no side effects). */
static struct ipcbox_waiter *ipcbox_find_taker(struct ipcbox_mailbox *mb,
					       const struct ipcbox_msg *msg)
	__must_hold(&mb->lock)
{
	struct ipcbox_waiter *w;

	lockdep_assert_held(&mb->lock);
	if (!mb->waiting_receivers)
		return NULL;
	list_for_each_entry(w, &mb->receivers, node) {
		if (w->kind != IPCBOX_WAIT_RECV || w->state != IPCBOX_WS_WAITING)
			continue;
		if (msg->len <= w->rx->size && ipcbox_match(msg, w->rx, w->ns))
			return w;
	}
	return NULL;
}

/* Claim queued @msg for blocked receiver @w and wake it. */
static void ipcbox_hand(struct ipcbox_mailbox *mb, struct ipcbox_msg *msg,
			struct ipcbox_waiter *w)
	__must_hold(&mb->lock)
{
	lockdep_assert_held(&mb->lock);
	ipcbox_claim(mb, msg);
	w->msg = msg;
	ipcbox_receiver_leave(mb, w);
	ipcbox_wake(w, IPCBOX_WS_HANDED);
}

/*
 * @msg was queued and nobody took it: wake the blocked receivers it
 * concerns that could not take it, peekers and those whose buffer is too
 * small (EMSGSIZE), so they look at the queue again.
 */
static void ipcbox_wake_lookers(struct ipcbox_mailbox *mb,
				const struct ipcbox_msg *msg)
	__must_hold(&mb->lock)
{
	struct ipcbox_waiter *w;

	lockdep_assert_held(&mb->lock);
	if (!mb->waiting_receivers)
		return;
	list_for_each_entry(w, &mb->receivers, node)
		if (w->state == IPCBOX_WS_WAITING && ipcbox_match(msg, w->rx, w->ns))
			ipcbox_wake(w, IPCBOX_WS_WOKEN);
}

/* Queued @msg is free to be received: give it to a taker or wake lookers. */
static void ipcbox_offer(struct ipcbox_mailbox *mb, struct ipcbox_msg *msg)
	__must_hold(&mb->lock)
{
	struct ipcbox_waiter *w = ipcbox_find_taker(mb, msg);

	lockdep_assert_held(&mb->lock);
	if (w)
		ipcbox_hand(mb, msg, w);
	else
		ipcbox_wake_lookers(mb, msg);
}

/* ---- senders -------------------------------------------------------- */

/* A blocked sender's send succeeded: its message was taken or queued. */
static void ipcbox_sender_done(struct ipcbox_mailbox *mb,
			       struct ipcbox_waiter *w)
	__must_hold(&mb->lock)
{
	struct ipcbox_msg_ext *ext = ipcbox_msg_ext(w->msg);

	lockdep_assert_held(&mb->lock);
	list_del_init(&w->node);
	if (ext && ext->waiter == w)
		ext->waiter = NULL;
	mb->sent++;
	/*
	 * A caller whose request was taken goes on waiting, for the reply:
	 * whoever ends the call wakes it, so it is not woken twice.
	 */
	if (ext && ext->call)
		w->state = IPCBOX_WS_DONE;
	else
		ipcbox_wake(w, IPCBOX_WS_DONE);
}

/* The oldest message waiting for room, of a blocked sender or parked. */
static struct ipcbox_msg *ipcbox_oldest_waiting(struct ipcbox_mailbox *mb,
						struct ipcbox_waiter **wp)
	__must_hold(&mb->lock)
{
	struct ipcbox_waiter *w;
	struct ipcbox_msg *p;

	lockdep_assert_held(&mb->lock);
	w = list_first_entry_or_null(&mb->pendq, struct ipcbox_waiter, node);
	p = list_first_entry_or_null(&mb->parked, struct ipcbox_msg, node);
	if (w && (!p || w->msg->seq < p->seq)) {
		*wp = w;
		return w->msg;
	}
	*wp = NULL;
	return p;
}

/*
 * Move messages waiting for room into the room a receive or a withdrawn
 * send has made, oldest first, completing the sends waiting on them. It
 * stops at a message a filtered receive is taking: that commit refills.
 */
static void ipcbox_refill(struct ipcbox_mailbox *mb, __poll_t *ev)
	__must_hold(&mb->lock)
{
	struct ipcbox_waiter *w;
	struct ipcbox_msg *msg;

	lockdep_assert_held(&mb->lock);
	while (mb->depth < mb->capacity) {
		msg = ipcbox_oldest_waiting(mb, &w);
		if (!msg || (msg->flags & IPCBOX_MSG_CLAIMED))
			break;
		if (w) {
			msg->flags &= ~IPCBOX_MSG_PENDING;
			mb->nr_pending--;
		} else {
			list_del_init(&msg->node);
			msg->flags &= ~IPCBOX_MSG_PARKED;
			mb->nr_parked--;
			ipcbox_cache_release(mb, msg, ev);
		}
		ipcbox_queue_add(mb, msg);
		*ev |= EPOLLIN | EPOLLRDNORM;
		if (w && w->sync) {
			/* Now it waits to be taken: SYNC or CALL. */
			list_move_tail(&w->node, &mb->syncq);
			ipcbox_msg_ext(msg)->waiter = w;
			w->state = IPCBOX_WS_QUEUED;
		} else if (w) {
			ipcbox_sender_done(mb, w);
		}
		ipcbox_offer(mb, msg);
	}
}

/*
 * A blocked sender gives up: take its message back. Return it for the
 * caller to free, or NULL when a claimer or holder will.
 */
static struct ipcbox_msg *ipcbox_withdraw(struct ipcbox_mailbox *mb,
					  struct ipcbox_waiter *w, __poll_t *ev)
	__must_hold(&mb->lock)
{
	struct ipcbox_msg *msg = w->msg;
	struct ipcbox_msg_ext *ext = ipcbox_msg_ext(msg);

	lockdep_assert_held(&mb->lock);
	list_del_init(&w->node);
	if (msg->flags & IPCBOX_MSG_PENDING) {
		msg->flags &= ~IPCBOX_MSG_PENDING;
		mb->nr_pending--;
	} else {
		ext->waiter = NULL;
		if (msg->flags & IPCBOX_MSG_CLAIMED)
			mb->nr_claimed--;
		ipcbox_queue_del(mb, msg, ev);
	}
	/* Room, or a claimed head of the waiting messages that is gone. */
	ipcbox_refill(mb, ev);
	return ipcbox_msg_disown(msg) ? msg : NULL;
}

/* Wait for a send to be completed by others; the sender is on a list. */
static long ipcbox_send_wait(struct ipcbox_mailbox *mb,
			     struct ipcbox_waiter *w,
			     const struct ipcbox_deadline *dl, __poll_t *ev,
			     struct ipcbox_msg **to_free)
	__must_hold(&mb->lock)
{
	long ret;

	lockdep_assert_held(&mb->lock);
	mb->waiting_senders++;
	for (;;) {
		if (w->state == IPCBOX_WS_DONE) {
			ret = 0;
			break;
		}
		if (w->state == IPCBOX_WS_ABORTED) {
			/* Shutdown took the message back, and left it to us. */
			*to_free = w->msg;
			ret = -EPIPE;
			break;
		}
		if (dl->nonblock) {
			ret = -EAGAIN;	/* SYNC: nobody took it at once */
		} else if (ipcbox_expired(dl)) {
			mb->timeouts++;
			ret = -ETIMEDOUT;
		} else if (signal_pending(current)) {
			ret = ipcbox_interrupted(dl);
		} else {
			ipcbox_sleep(mb, dl, ev);
			continue;
		}
		*to_free = ipcbox_withdraw(mb, w, ev);
		break;
	}
	mb->waiting_senders--;
	return ret;
}

/* ---- send ----------------------------------------------------------- */

/* Park @msg in @f's CACHE slot; the send succeeds at once. */
static long ipcbox_park(struct ipcbox_mailbox *mb, struct ipcbox_file *f,
			struct ipcbox_msg *msg, __poll_t *ev)
	__must_hold(&mb->lock)
{
	lockdep_assert_held(&mb->lock);
	/*
	 * One slot per fd, and a message parked by an fd that was closed
	 * since stays: max(capacity, 1) of those, no more, or open, send,
	 * close, repeat would hold ever more kernel memory.
	 */
	if (f->cached || mb->nr_orphaned >= max(mb->capacity, 1U))
		return -EAGAIN;
	f->cached = msg;
	ipcbox_msg_ext(msg)->parker = f;
	msg->flags |= IPCBOX_MSG_CACHED;
	mb->nr_cached++;
	mb->sent++;
	if (mb->capacity == 0) {
		/* Where receivers see it at once. */
		ipcbox_queue_add(mb, msg);
		*ev |= EPOLLIN | EPOLLRDNORM;
		ipcbox_wake_lookers(mb, msg);
	} else {
		list_add_tail(&msg->node, &mb->parked);
		msg->flags |= IPCBOX_MSG_PARKED;
		mb->nr_parked++;
	}
	return 0;
}

/*
 * Place a new message: to a taker, into the queue, the CACHE slot or
 * @pendq. Return 0 when the send is complete, 1 when the sender must wait
 * (@w is on a list), or a negative error (the message was not placed).
 */
static long ipcbox_place(struct ipcbox_mailbox *mb, struct ipcbox_file *f,
			 struct ipcbox_msg *msg, struct ipcbox_tx *tx,
			 struct ipcbox_waiter *w, __poll_t *ev)
	__must_hold(&mb->lock)
{
	bool waits = mb->capacity == 0 || (tx->flags & IPCBOX_SEND_SYNC) || tx->call;
	bool room = ipcbox_unbounded(mb) ||
		    (!mb->nr_pending && !mb->nr_parked && mb->depth < mb->capacity);
	struct ipcbox_waiter *taker = NULL;

	lockdep_assert_held(&mb->lock);
	if (!mb->nr_pending && !mb->nr_parked)
		taker = ipcbox_find_taker(mb, msg);
	if (!taker && !room && !(tx->flags & IPCBOX_SEND_CACHE) && tx->dl.nonblock)
		return -EAGAIN;
	/* Under the lock, so that timestamps grow with sequence numbers. */
	msg->seq = mb->next_seq++;
	msg->timestamp = ktime_get_ns();
	tx->seq = msg->seq;
	if (tx->call) {
		/*
		 * Unique in the mailbox (seq is), never 0, and meaningless to
		 * anyone who does not know the mailbox's key: only the fd
		 * that received the request can answer it anyway. One random
		 * draw per mailbox, not per call: it is dear.
		 */
		tx->call->token = ((msg->seq ^ mb->token_key) << 1) | 1;
		tx->call->seq = msg->seq;
	}
	if (!taker && !room && (tx->flags & IPCBOX_SEND_CACHE))
		return ipcbox_park(mb, f, msg, ev);
	w->task = current;
	w->msg = msg;
	w->kind = IPCBOX_WAIT_SEND;
	w->sync = waits;
	if (!taker && !room && mb->capacity) {
		msg->flags |= IPCBOX_MSG_PENDING;
		list_add_tail(&w->node, &mb->pendq);
		mb->nr_pending++;
		w->state = IPCBOX_WS_PENDING;
		return 1;
	}
	ipcbox_queue_add(mb, msg);
	if (taker) {
		ipcbox_hand(mb, msg, taker);
		/* Handed over is taken, but a request waits to be received. */
		waits = tx->call;
	} else {
		*ev |= EPOLLIN | EPOLLRDNORM;
		ipcbox_wake_lookers(mb, msg);
	}
	if (!waits) {
		mb->sent++;
		return 0;
	}
	ipcbox_msg_ext(msg)->waiter = w;
	list_add_tail(&w->node, &mb->syncq);
	w->state = IPCBOX_WS_QUEUED;
	return 1;
}

/**
 * ipcbox_mailbox_send() - send one message
 * @f:		The sender's open file.
 * @tx:		The send (flags, priority and size already checked).
 *
 * Return: 0, or -EMSGSIZE (too long), -EFAULT, -ENOMEM, -EPIPE (shut
 * down), -ENOBUFS (unbounded queue full), -EAGAIN (would block, or no
 * CACHE slot), -ETIMEDOUT, -EINTR or -ERESTARTSYS. On any error the
 * message was not delivered and will not be. For a CALL request, 0 means
 * it was received.
 */
long ipcbox_mailbox_send(struct ipcbox_file *f, struct ipcbox_tx *tx)
{
	struct ipcbox_mailbox *mb = f->mb;
	struct ipcbox_msg *msg, *to_free = NULL;
	struct ipcbox_waiter w __uninitialized;	/* ipcbox_place() fills it */
	__poll_t ev = 0;
	long ret;

	if (tx->len > mb->msg_size_max)
		return -EMSGSIZE;
	msg = ipcbox_msg_alloc(mb, tx->buf, tx->len,
			       mb->capacity == 0 || tx->call ||
			       (tx->flags & (IPCBOX_SEND_SYNC | IPCBOX_SEND_CACHE)));
	if (IS_ERR(msg))
		return PTR_ERR(msg);
	msg->prio = tx->prio;
	msg->tag = tx->tag;
	if (tx->call) {
		refcount_inc(&tx->call->ref);	/* the request's reference */
		ipcbox_msg_ext(msg)->call = tx->call;
	}

	ipcbox_lock(mb);
	if (mb->shutdown)
		ret = -EPIPE;
	else if (ipcbox_unbounded(mb) &&
		 mb->charge + msg->len + IPCBOX_MSG_OVERHEAD >
		 READ_ONCE(ipcbox_max_unbounded_bytes))
		ret = -ENOBUFS;
	else
		ret = ipcbox_place(mb, f, msg, tx, &w, &ev);
	if (ret < 0)
		to_free = msg;
	else if (ret > 0)
		ret = ipcbox_send_wait(mb, &w, &tx->dl, &ev, &to_free);
	ipcbox_unlock(mb);
	ipcbox_notify(mb, ev);
	if (to_free)
		ipcbox_msg_free(mb, to_free);
	return ret;
}

/* ---- receive -------------------------------------------------------- */

/*
 * Just after dropping the lock, which @waiting tasks were waiting for:
 * give one of them a moment to take it, or a test-and-set lock goes back
 * to the task that just dropped it, whose cache has it. Bounded: a waiter
 * whose CPU was taken from it (a preempted vCPU) is not waited for.
 */
static void ipcbox_let_in(struct ipcbox_mailbox *mb, int waiting)
{
	unsigned int spins = 0;

	while (waiting && atomic_read(&mb->contending) >= waiting &&
	       ++spins < IPCBOX_LET_IN_SPINS)
		cpu_relax();
}

/*
 * The first message of @head, from its start, that @rx wants and nobody
 * has claimed. Every IPCBOX_SCAN_BATCH messages it lets others at the
 * lock if they want it, holding the message it is at to keep its place;
 * @home is the flag that says that message is still in @head. Sets
 * *lost when that place was lost meanwhile.
 */
static struct ipcbox_msg *ipcbox_scan(struct ipcbox_mailbox *mb,
				      struct list_head *head, u8 home,
				      const struct ipcbox_rx *rx,
				      struct pid_namespace *ns,
				      struct list_head *reap, bool *lost)
	__must_hold(&mb->lock)
{
	struct ipcbox_msg *msg;
	unsigned int n = 0;
	int waiting;
	bool still;

	lockdep_assert_held(&mb->lock);
	list_for_each_entry(msg, head, node) {
		if (!(msg->flags & IPCBOX_MSG_CLAIMED) && ipcbox_match(msg, rx, ns))
			return msg;
		if (++n % IPCBOX_SCAN_BATCH)
			continue;
		/*
		 * Not spin_needbreak(): that one says no unless the kernel is
		 * preemptible, and the point is to let the waiting task at
		 * the lock whatever the preemption model.
		 */
		waiting = atomic_read(&mb->contending);
		if (!(need_resched() || waiting ||
		      spin_is_contended(&mb->lock)) ||
		    !ipcbox_msg_hold(msg))
			continue;
		ipcbox_unlock(mb);
		ipcbox_let_in(mb, waiting);
		cond_resched();
		ipcbox_lock(mb);
		still = msg->flags & home;
		ipcbox_msg_unhold(msg, reap);
		if (!still) {
			*lost = true;
			return NULL;
		}
	}
	return NULL;
}

/* The first unclaimed message @rx may take, in the order of receipt. */
static struct ipcbox_msg *ipcbox_find(struct ipcbox_mailbox *mb,
				      const struct ipcbox_rx *rx,
				      struct pid_namespace *ns,
				      struct list_head *reap)
	__must_hold(&mb->lock)
{
	struct ipcbox_waiter *w;
	struct ipcbox_msg *msg;
	u32 prios;
	bool lost;
	int p;

	lockdep_assert_held(&mb->lock);
again:
	lost = false;
	/* Highest priority first; levels that fill meanwhile are newer. */
	for (prios = mb->nonempty; prios; prios &= ~BIT(p)) {
		p = __fls(prios);
		msg = ipcbox_scan(mb, &mb->levels[p], IPCBOX_MSG_QUEUED, rx,
				  ns, reap, &lost);
		if (msg || lost)
			goto found;
	}
	/*
	 * A filtered receive may also take a message still waiting for room:
	 * otherwise a full queue of other senders' messages would keep the
	 * one it wants out for good. After a shutdown anyone may.
	 */
	if (!(rx->flags & IPCBOX_RX_FILTERS) && !mb->shutdown)
		return NULL;
	msg = ipcbox_scan(mb, &mb->parked, IPCBOX_MSG_PARKED, rx, ns, reap,
			  &lost);
	if (lost)
		goto again;
	/* Of blocked senders' and parked messages, the older comes first. */
	list_for_each_entry(w, &mb->pendq, node) {
		if (msg && w->msg->seq > msg->seq)
			break;
		if (!(w->msg->flags & IPCBOX_MSG_CLAIMED) &&
		    ipcbox_match(w->msg, rx, ns))
			return w->msg;
	}
found:
	if (lost)
		goto again;
	return msg;
}

void ipcbox_fill_info(const struct ipcbox_msg *msg,
		      struct ipcbox_msg_info *info, bool peek)
{
	struct pid_namespace *ns = task_active_pid_ns(current);
	struct user_namespace *user_ns = current_user_ns();
	struct ipcbox_msg_ext *ext = ipcbox_msg_ext(msg);

	memset(info, 0, sizeof(*info));
	info->seq = msg->seq;
	info->tag = msg->tag;
	info->timestamp_ns = msg->timestamp + ipcbox_timens_offset();
	info->len = msg->len;
	info->priority = msg->prio;
	info->sender_tgid = pid_nr_ns(msg->tgid, ns);
	info->sender_tid = ext && ext->tid ? pid_nr_ns(ext->tid, ns) :
					     info->sender_tgid;
	/* The initial namespace maps every valid id to itself. */
	if (user_ns == &init_user_ns && uid_valid(msg->uid) &&
	    gid_valid(msg->gid)) {
		info->sender_uid = __kuid_val(msg->uid);
		info->sender_gid = __kgid_val(msg->gid);
	} else {
		info->sender_uid = from_kuid_munged(user_ns, msg->uid);
		info->sender_gid = from_kgid_munged(user_ns, msg->gid);
	}
	if (!peek && ext && ext->call)
		info->token = ext->call->token;
}

/* A receiver on @f has taken claimed @msg: finish it on everybody's behalf. */
static void ipcbox_commit(struct ipcbox_mailbox *mb, struct ipcbox_file *f,
			  const struct ipcbox_rx *rx, struct ipcbox_msg *msg,
			  __poll_t *ev)
	__must_hold(&mb->lock)
{
	struct ipcbox_waiter *w = ipcbox_msg_sender(mb, msg);
	struct ipcbox_call_ctx *call = ipcbox_msg_call(msg);

	lockdep_assert_held(&mb->lock);
	ipcbox_unclaim_flag(mb, msg);
	if (msg->flags & IPCBOX_MSG_QUEUED) {
		ipcbox_queue_del(mb, msg, ev);
	} else if (msg->flags & IPCBOX_MSG_PENDING) {
		msg->flags &= ~IPCBOX_MSG_PENDING;
		mb->nr_pending--;
	} else if (!WARN_ON_ONCE(!(msg->flags & IPCBOX_MSG_PARKED))) {
		list_del_init(&msg->node);
		msg->flags &= ~IPCBOX_MSG_PARKED;
		mb->nr_parked--;
	}
	mb->received++;
	ipcbox_cache_release(mb, msg, ev);
	if (w)
		ipcbox_sender_done(mb, w);
	/* A receive that returns no info cannot return the token either. */
	if (call && ((rx->flags & IPCBOX_RX_NOREPLY) || !rx->uinfo))
		ipcbox_call_end(mb, call, IPCBOX_CALL_READ);
	else if (call)
		ipcbox_call_bind(mb, call, f);
	ipcbox_refill(mb, ev);
}

/* The info of @rx out to user space, in the caller's size; may fault. */
static int ipcbox_put_info(const struct ipcbox_rx *rx)
{
	if (!rx->uinfo)
		return 0;
	return ipcbox_copy_out(rx->uinfo, rx->info_size, &rx->info,
			       sizeof(rx->info));
}

/*
 * copy_to_user_nofault() of the info. In the kernel's own size (the
 * common case) it is a small copy of constant size, inline.
 */
static __always_inline bool ipcbox_info_nofault(const struct ipcbox_rx *rx,
						size_t isize)
{
	if (isize != sizeof(rx->info))
		return !copy_to_user_nofault(rx->uinfo, &rx->info, isize);
	return !ipcbox_copy_to_user_nofault(rx->uinfo, &rx->info,
					    sizeof(rx->info));
}

/*
 * Copy claimed @msg out, under the lock if that cannot fault: the payload
 * is small and the info no larger than the kernel's.
 */
static bool ipcbox_copy_out_msg(struct ipcbox_mailbox *mb,
				struct ipcbox_rx *rx, struct ipcbox_msg *msg)
	__must_hold(&mb->lock)
{
	size_t isize = rx->uinfo ? rx->info_size : 0;
	bool ok;

	lockdep_assert_held(&mb->lock);
	if (isize)
		ipcbox_fill_info(msg, &rx->info, false);
	if (msg->len + isize <= IPCBOX_COPY_LOCKED_MAX &&
	    isize <= sizeof(rx->info) &&
	    !ipcbox_copy_to_user_nofault(rx->buf, msg->data, msg->len) &&
	    (!isize || ipcbox_info_nofault(rx, isize)))
		return true;
	ipcbox_unlock(mb);
	ok = !ipcbox_copy_to_user(rx->buf, msg->data, msg->len) &&
	     !ipcbox_put_info(rx);
	ipcbox_lock(mb);
	return ok;
}

/*
 * Copy claimed @msg out and take it. Return its length, -EFAULT or -EINTR
 * (it stays for others), or -EAGAIN when its sender withdrew it
 * meanwhile: then look again. The lock is held throughout.
 */
static long ipcbox_take(struct ipcbox_mailbox *mb, struct ipcbox_file *f,
			struct ipcbox_rx *rx, struct ipcbox_msg *msg,
			__poll_t *ev, struct list_head *reap)
	__must_hold(&mb->lock)
{
	bool copied = ipcbox_copy_out_msg(mb, rx, msg);

	lockdep_assert_held(&mb->lock);
	if (msg->flags & IPCBOX_MSG_CANCELLED) {
		/* Off every list: ours to discard, unless someone holds it. */
		msg->flags &= ~(IPCBOX_MSG_CLAIMED | IPCBOX_MSG_CANCELLED);
		if (ipcbox_msg_disown(msg))
			ipcbox_reap(reap, msg);
		return -EAGAIN;
	}
	/*
	 * A task being killed never returns to user space: what it took
	 * would die with it. Leave the message, as after a failed copy.
	 */
	if (!copied || fatal_signal_pending(current)) {
		ipcbox_unclaim_flag(mb, msg);
		if (msg->flags & IPCBOX_MSG_QUEUED)
			ipcbox_offer(mb, msg);
		return copied ? -EINTR : -EFAULT;
	}
	ipcbox_commit(mb, f, rx, msg, ev);
	if (ipcbox_msg_disown(msg))
		ipcbox_reap(reap, msg);
	return msg->len;
}

/* Why a receive that would have to wait ends now, or 0 to wait. */
static long ipcbox_wait_why_not(struct ipcbox_mailbox *mb,
				const struct ipcbox_rx *rx)
	__must_hold(&mb->lock)
{
	lockdep_assert_held(&mb->lock);
	if (rx->dl.nonblock)
		return -EAGAIN;
	if (ipcbox_expired(&rx->dl)) {
		mb->timeouts++;
		return -ETIMEDOUT;
	}
	if (signal_pending(current))
		return ipcbox_interrupted(&rx->dl);
	return 0;
}

/*
 * Found @msg, but do not take it: it is too large for the buffer
 * (-EMSGSIZE, the info says how large), or a PEEK copies it out, holding
 * it while the lock is dropped. -EAGAIN: it has as many holders as it
 * can count; unless @rx may not wait, the lock was dropped for a tick:
 * look again if it may still wait.
 */
static long ipcbox_look(struct ipcbox_mailbox *mb, struct ipcbox_rx *rx,
			struct ipcbox_msg *msg, struct list_head *reap)
	__must_hold(&mb->lock)
{
	long ret = msg->len;

	lockdep_assert_held(&mb->lock);
	if (msg->len > rx->size) {
		memset(&rx->info, 0, sizeof(rx->info));
		rx->info.len = msg->len;
		return -EMSGSIZE;
	}
	if (!ipcbox_msg_hold(msg)) {
		/*
		 * That many peekers: let them go first, a tick at a time (a
		 * signal ends the nap); the caller looks again if this
		 * receive may still wait. Their copies may be stalled for
		 * good (pages of a userfaultfd nobody serves), so neither
		 * spin nor wait past the receive's own deadline.
		 */
		if (rx->dl.nonblock)
			return -EAGAIN;
		ipcbox_unlock(mb);
		schedule_timeout_interruptible(1);
		ipcbox_lock(mb);
		return -EAGAIN;
	}
	ipcbox_fill_info(msg, &rx->info, true);
	ipcbox_unlock(mb);
	if (ipcbox_copy_to_user(rx->buf, msg->data, msg->len) ||
	    ipcbox_put_info(rx))
		ret = -EFAULT;
	ipcbox_lock(mb);
	ipcbox_msg_unhold(msg, reap);
	return ret;
}

/* Block as a receiver until something may have changed. */
static void ipcbox_recv_sleep(struct ipcbox_mailbox *mb, struct ipcbox_waiter *w,
			      struct ipcbox_rx *rx, __poll_t *ev)
	__must_hold(&mb->lock)
{
	lockdep_assert_held(&mb->lock);
	w->task = current;
	w->msg = NULL;
	w->kind = rx->flags & IPCBOX_RECV_PEEK ? IPCBOX_WAIT_PEEK : IPCBOX_WAIT_RECV;
	w->state = IPCBOX_WS_WAITING;
	w->rx = rx;
	w->ns = task_active_pid_ns(current);
	w->taker = w->kind == IPCBOX_WAIT_RECV &&
		   !(rx->flags & IPCBOX_RX_FILTERS) && rx->size >= mb->msg_size_max;
	list_add_tail(&w->node, &mb->receivers);
	mb->waiting_receivers++;
	if (w->taker) {
		mb->takers++;
		if (mb->capacity == 0)
			*ev |= EPOLLOUT | EPOLLWRNORM;
	}
	ipcbox_sleep(mb, &rx->dl, ev);
	if (w->state != IPCBOX_WS_HANDED)
		ipcbox_receiver_leave(mb, w);
}

/* Why a receive that found nothing ends now, or 0 to wait. */
static long ipcbox_recv_why_not(struct ipcbox_mailbox *mb,
				const struct ipcbox_rx *rx)
	__must_hold(&mb->lock)
{
	lockdep_assert_held(&mb->lock);
	if (mb->shutdown)
		return -EPIPE;
	return ipcbox_wait_why_not(mb, rx);
}

/**
 * ipcbox_mailbox_receive() - receive (or peek at) one message
 * @f:		The receiver's open file.
 * @rx:		The receive (flags checked); @rx->info is scratch.
 *
 * A message is only consumed once it reached user space: if a copy
 * faults, the message stays where it was. With -EMSGSIZE only the info's
 * @len is set, to the length needed.
 *
 * Return: the message length, or -EINVAL, -EMSGSIZE (buffer too small;
 * the message stays queued), -EFAULT, -EPIPE (shut down and drained),
 * -EAGAIN, -ETIMEDOUT, -EINTR or -ERESTARTSYS.
 */
long ipcbox_mailbox_receive(struct ipcbox_file *f, struct ipcbox_rx *rx)
{
	struct pid_namespace *ns = task_active_pid_ns(current);
	struct ipcbox_mailbox *mb = f->mb;
	struct ipcbox_waiter w __uninitialized;	/* ipcbox_recv_sleep() fills it */
	struct ipcbox_msg *msg;
	__poll_t ev = 0;
	LIST_HEAD(reap);
	long ret;

	ipcbox_lock(mb);
	for (;;) {
		msg = ipcbox_find(mb, rx, ns, &reap);
		if (msg && (msg->len > rx->size || (rx->flags & IPCBOX_RECV_PEEK))) {
			ret = ipcbox_look(mb, rx, msg, &reap);
			if (ret != -EAGAIN)
				break;
			/* too many peekers: a wait like any other */
			ret = ipcbox_wait_why_not(mb, rx);
			if (ret)
				break;
			continue;
		}
		if (msg) {
			ipcbox_claim(mb, msg);
		} else {
			ret = ipcbox_recv_why_not(mb, rx);
			if (ret)
				break;
			ipcbox_recv_sleep(mb, &w, rx, &ev);
			if (w.state != IPCBOX_WS_HANDED)
				continue;
			msg = w.msg;	/* claimed for us */
		}
		ret = ipcbox_take(mb, f, rx, msg, &ev, &reap);
		if (ret != -EAGAIN)
			break;
	}
	ipcbox_unlock(mb);
	ipcbox_notify(mb, ev);
	ipcbox_reap_all(mb, &reap);
	if (ret == -EMSGSIZE && ipcbox_put_info(rx))
		ret = -EFAULT;
	return ret;
}

/* ---- CALL contexts on the mailbox ----------------------------------- */

/* A request was taken by a receiver on @f: only @f may answer it now. */
void ipcbox_call_bind(struct ipcbox_mailbox *mb, struct ipcbox_call_ctx *call,
		      struct ipcbox_file *f)
	__must_hold(&mb->lock)
{
	lockdep_assert_held(&mb->lock);
	call->state = IPCBOX_CALL_RECEIVED;
	call->server = f;
	refcount_inc(&call->ref);	/* the server's reference */
	list_add_tail(&call->mb_node, &mb->calls);
	mb->nr_calls++;
	/* Newest first: a REPLY_RECV loop answers the one it just got. */
	list_add(&call->srv_node, &f->calls);
}

static void ipcbox_call_unbind(struct ipcbox_mailbox *mb,
			       struct ipcbox_call_ctx *call)
	__must_hold(&mb->lock)
{
	lockdep_assert_held(&mb->lock);
	list_del_init(&call->mb_node);
	list_del_init(&call->srv_node);
	call->server = NULL;
	if (call->state == IPCBOX_CALL_ABANDONED)
		mb->nr_abandoned--;
	else if (call->state == IPCBOX_CALL_RECEIVED)
		mb->nr_calls--;
}

/**
 * ipcbox_call_end() - tell a waiting caller how its call ended
 * @mb:		The mailbox.
 * @call:	A call QUEUED (taken by read(2)) or RECEIVED.
 * @state:	REPLIED, RESET, SHUTDOWN or READ.
 *
 * Drops the server's reference; the caller still holds one.
 */
void ipcbox_call_end(struct ipcbox_mailbox *mb, struct ipcbox_call_ctx *call,
		     enum ipcbox_call_state state)
	__must_hold(&mb->lock)
{
	bool bound = call->state == IPCBOX_CALL_RECEIVED;

	lockdep_assert_held(&mb->lock);
	if (bound)
		ipcbox_call_unbind(mb, call);
	call->state = state;
	if (call->caller)
		wake_up_process(call->caller);
	if (bound)
		ipcbox_call_put(call);	/* not the last: the caller's is left */
}

/* A received call's caller gave up: keep it for the server's ECANCELED. */
void ipcbox_call_abandon(struct ipcbox_mailbox *mb, struct ipcbox_call_ctx *call)
	__must_hold(&mb->lock)
{
	struct ipcbox_call_ctx *old;

	lockdep_assert_held(&mb->lock);
	list_move_tail(&call->mb_node, &mb->abandoned);
	mb->nr_calls--;
	mb->nr_abandoned++;
	call->state = IPCBOX_CALL_ABANDONED;
	call->caller = NULL;
	if (mb->nr_abandoned <= IPCBOX_ABANDONED_MAX)
		return;
	/* Bounded: the oldest is forgotten, its REPLY will get ENOENT. */
	old = list_first_entry(&mb->abandoned, struct ipcbox_call_ctx, mb_node);
	ipcbox_call_drop(mb, old);
}

/* Forget an abandoned call: its last reference, and it holds no reply. */
void ipcbox_call_drop(struct ipcbox_mailbox *mb, struct ipcbox_call_ctx *call)
	__must_hold(&mb->lock)
{
	lockdep_assert_held(&mb->lock);
	ipcbox_call_unbind(mb, call);
	call->state = IPCBOX_CALL_DROPPED;
	ipcbox_call_put(call);
}

/* ---- shutdown, stat, poll, release ---------------------------------- */

/*
 * Shutdown has taken a blocked sender's message off its lists: the send
 * failed. Who frees the message is decided here, at once: a receiver
 * that has it claimed discards it, else the sender when it wakes.
 */
static void ipcbox_abort_sender(struct ipcbox_mailbox *mb,
				struct ipcbox_waiter *w)
	__must_hold(&mb->lock)
{
	lockdep_assert_held(&mb->lock);
	list_del_init(&w->node);
	if (!ipcbox_msg_disown(w->msg))
		w->msg = NULL;
	ipcbox_wake(w, IPCBOX_WS_ABORTED);
}

/**
 * ipcbox_mailbox_shutdown() - refuse further sends and wake everybody
 * @mb:		The mailbox.
 *
 * Blocked sends fail with EPIPE and their messages are taken back; callers
 * whose requests were received get EPIPE. Messages parked by CACHE sends
 * were accepted: receivers drain them after the queue, then see
 * end-of-file.
 */
void ipcbox_mailbox_shutdown(struct ipcbox_mailbox *mb)
{
	__poll_t ev = EPOLLIN | EPOLLRDNORM | EPOLLOUT | EPOLLWRNORM |
		      EPOLLHUP | EPOLLRDHUP | EPOLLERR;
	struct ipcbox_waiter *w, *wtmp;
	struct ipcbox_call_ctx *call, *ctmp;

	ipcbox_lock(mb);
	if (mb->shutdown) {
		ipcbox_unlock(mb);
		return;
	}
	mb->shutdown = true;
	list_for_each_entry_safe(w, wtmp, &mb->pendq, node) {
		w->msg->flags &= ~IPCBOX_MSG_PENDING;
		mb->nr_pending--;
		ipcbox_abort_sender(mb, w);
	}
	list_for_each_entry_safe(w, wtmp, &mb->syncq, node) {
		ipcbox_msg_ext(w->msg)->waiter = NULL;
		if (w->msg->flags & IPCBOX_MSG_CLAIMED)
			mb->nr_claimed--;
		ipcbox_queue_del(mb, w->msg, &ev);
		ipcbox_abort_sender(mb, w);
	}
	list_for_each_entry_safe(call, ctmp, &mb->calls, mb_node)
		ipcbox_call_end(mb, call, IPCBOX_CALL_SHUTDOWN);
	list_for_each_entry(w, &mb->receivers, node)
		ipcbox_wake(w, IPCBOX_WS_WOKEN);
	ipcbox_unlock(mb);
	ipcbox_notify(mb, ev);
}

void ipcbox_mailbox_stat(struct ipcbox_mailbox *mb, struct ipcbox_stat *st)
{
	struct user_namespace *user_ns = current_user_ns();

	memset(st, 0, sizeof(*st));
	st->capacity = mb->capacity;
	st->msg_size_max = mb->msg_size_max;
	st->mode = mb->mode;
	st->uid = from_kuid_munged(user_ns, mb->uid);
	st->gid = from_kgid_munged(user_ns, mb->gid);
	if (mb->name[0])
		st->flags |= IPCBOX_STAT_NAMED;
	strscpy(st->name, mb->name, sizeof(st->name));

	ipcbox_lock(mb);
	/* What is there now, */
	st->depth = mb->depth;
	st->bytes = mb->bytes;
	st->charge = mb->charge;
	st->cached = mb->nr_cached;
	st->pending = mb->nr_pending;
	if (mb->shutdown)
		st->flags |= IPCBOX_STAT_SHUTDOWN;
	/* who waits, */
	st->waiting_senders = mb->waiting_senders;
	st->waiting_receivers = mb->waiting_receivers;
	st->calls = mb->nr_calls;
	st->abandoned = mb->nr_abandoned;
	if (READ_ONCE(mb->unlinked))
		st->flags |= IPCBOX_STAT_UNLINKED;
	/* and what happened since creation. */
	st->sent = mb->sent;
	st->received = mb->received;
	st->timeouts = mb->timeouts;
	ipcbox_unlock(mb);
}

/* poll(2) readiness for @f, honouring its access mode. */
__poll_t ipcbox_mailbox_poll(struct ipcbox_file *f, fmode_t fmode)
{
	struct ipcbox_mailbox *mb = f->mb;
	__poll_t mask = 0;
	bool room;

	ipcbox_lock(mb);
	if (fmode & FMODE_READ) {
		if (mb->depth > mb->nr_claimed || (mb->shutdown && mb->nr_parked))
			mask |= EPOLLIN | EPOLLRDNORM;
		else if (mb->shutdown && !mb->depth)
			mask |= EPOLLIN | EPOLLRDNORM | EPOLLHUP | EPOLLRDHUP;
	}
	if (fmode & FMODE_WRITE) {
		if (mb->capacity == 0)
			room = mb->takers;
		else if (ipcbox_unbounded(mb))
			room = mb->charge + IPCBOX_MSG_OVERHEAD <=
			       READ_ONCE(ipcbox_max_unbounded_bytes);
		else
			room = !mb->nr_pending && !mb->nr_parked &&
			       mb->depth < mb->capacity;
		if (mb->shutdown)
			mask |= EPOLLOUT | EPOLLWRNORM | EPOLLERR;
		else if (room && !f->cached)
			mask |= EPOLLOUT | EPOLLWRNORM;
	}
	ipcbox_unlock(mb);
	return mask;
}

/*
 * The fd closes: a message in its CACHE slot stays, without an owner;
 * callers whose requests it received and did not answer learn at once.
 */
void ipcbox_mailbox_release_file(struct ipcbox_file *f)
{
	struct ipcbox_mailbox *mb = f->mb;
	struct ipcbox_call_ctx *call, *tmp;

	ipcbox_lock(mb);
	if (f->cached) {
		ipcbox_msg_ext(f->cached)->parker = NULL;
		f->cached = NULL;
		mb->nr_orphaned++;
	}
	list_for_each_entry_safe(call, tmp, &f->calls, srv_node) {
		if (call->state == IPCBOX_CALL_ABANDONED)
			ipcbox_call_drop(mb, call);
		else
			ipcbox_call_end(mb, call, IPCBOX_CALL_RESET);
	}
	ipcbox_unlock(mb);
}

/* ---- life cycle ----------------------------------------------------- */

/*
 * Mailboxes have a cache of their own: at 928 bytes, kmalloc's 1 KiB
 * objects would waste a tenth of each. Charged to the creator's cgroup;
 * aligned, so that two mailboxes never share a cache line (or the lock's
 * line with another's counters); not merged with another cache, so that
 * /proc/slabinfo shows what mailboxes take and unloading removes it.
 */
static struct kmem_cache *ipcbox_mailbox_cache;

int __init ipcbox_mailbox_init(void)
{
	ipcbox_mailbox_cache = KMEM_CACHE(ipcbox_mailbox, SLAB_ACCOUNT |
					  SLAB_HWCACHE_ALIGN |
					  IPCBOX_SLAB_NO_MERGE);
	return ipcbox_mailbox_cache ? 0 : -ENOMEM;
}

/* No mailbox is left: each holds a module reference (its fds, its name). */
void ipcbox_mailbox_exit(void)
{
	kmem_cache_destroy(ipcbox_mailbox_cache);
}

struct ipcbox_mailbox *ipcbox_mailbox_alloc(u32 capacity, u32 msg_size_max)
{
	struct ipcbox_mailbox *mb;
	int p;

	mb = kmem_cache_zalloc(ipcbox_mailbox_cache, GFP_KERNEL);
	if (!mb)
		return NULL;
	kref_init(&mb->ref);
	spin_lock_init(&mb->lock);
	for (p = 0; p < IPCBOX_PRIO_MAX; p++)
		INIT_LIST_HEAD(&mb->levels[p]);
	INIT_LIST_HEAD(&mb->pendq);
	INIT_LIST_HEAD(&mb->syncq);
	INIT_LIST_HEAD(&mb->parked);
	INIT_LIST_HEAD(&mb->receivers);
	INIT_LIST_HEAD(&mb->calls);
	INIT_LIST_HEAD(&mb->abandoned);
	spin_lock_init(&mb->spare_lock);
	init_waitqueue_head(&mb->pollq);
	INIT_LIST_HEAD(&mb->list);
	mb->capacity = capacity;
	mb->msg_size_max = msg_size_max;
	mb->next_seq = 1;
	mb->token_key = get_random_u64();
	mb->uid = current_fsuid();
	mb->gid = current_fsgid();
	mb->user_ns = get_user_ns(current_user_ns());
	mb->minor = -1;
	return mb;
}

static void ipcbox_free_list(struct list_head *head)
{
	struct ipcbox_msg *msg, *tmp;
	unsigned int n = 0;

	list_for_each_entry_safe(msg, tmp, head, node) {
		ipcbox_msg_free(NULL, msg);
		if (!(++n % IPCBOX_SCAN_BATCH))
			cond_resched();
	}
}

static void ipcbox_mailbox_release(struct kref *ref)
{
	struct ipcbox_mailbox *mb = container_of(ref, struct ipcbox_mailbox,
						 ref);
	int p;

	/*
	 * No file is left, so no task waits or copies here, and no call is
	 * bound: what is left are queued and parked messages.
	 */
	for (p = 0; p < IPCBOX_PRIO_MAX; p++)
		ipcbox_free_list(&mb->levels[p]);
	ipcbox_free_list(&mb->parked);
	ipcbox_spares_free(mb);
	if (mb->quota)
		ipcbox_quota_uncharge(mb->quota);
	put_user_ns(mb->user_ns);
	kmem_cache_free(ipcbox_mailbox_cache, mb);
}

void ipcbox_mailbox_put(struct ipcbox_mailbox *mb)
{
	kref_put(&mb->ref, ipcbox_mailbox_release);
}
