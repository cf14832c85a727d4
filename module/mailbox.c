// SPDX-License-Identifier: GPL-2.0
/*
 * ipcbox mailbox core: queueing, hand-off to waiting receivers, blocking
 * with timeouts, rendezvous, SYNC and CACHE sends, shutdown.
 *
 * A send either hands its message straight to a blocked receiver, inserts
 * it into the queue, parks it in the sender fd's CACHE slot, or blocks.
 * A blocked sender's message is already copied into the kernel: it sits in
 * @pending (bounded queue full) or, for rendezvous and SYNC sends, in
 * @queue, and whoever makes room or takes it finishes the send on the
 * sender's behalf under the mailbox lock. So "delivered" versus "timed out
 * or interrupted" is decided exactly once, by whoever holds the lock first.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cred.h>
#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/pid_namespace.h>
#include <linux/poll.h>
#include <linux/random.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/user_namespace.h>

#include "ipcbox.h"

enum ipcbox_wait_kind {
	IPCBOX_WAIT_SEND,
	IPCBOX_WAIT_RECV,
	IPCBOX_WAIT_PEEK,
};

enum ipcbox_wait_state {
	IPCBOX_WS_PENDING,	/* sender: message in @pending */
	IPCBOX_WS_QUEUED,	/* sender: message in @queue, awaiting delivery */
	IPCBOX_WS_DONE,		/* sender: the send succeeded */
	IPCBOX_WS_ABORTED,	/* sender: shutdown withdrew the message */
	IPCBOX_WS_WAITING,	/* receiver: nothing yet */
	IPCBOX_WS_WOKEN,	/* receiver: the queue changed, look again */
	IPCBOX_WS_HANDED,	/* receiver: @msg was handed over */
};

/**
 * struct ipcbox_waiter - a task blocked in a send or a receive
 * @wq:		On the mailbox's @waitq, exclusive, woken by ipcbox_wake_fn().
 * @msg:	Sender: its message. Receiver: the message handed to it.
 * @kind:	IPCBOX_WAIT_*.
 * @state:	IPCBOX_WS_*.
 * @sync:	Sender: completes on delivery, not on queueing.
 * @flags:	Receiver: IPCBOX_RECV_* filter flags.
 * @filter_pid:	Receiver: wanted sender tgid in @ns.
 * @filter_tag:	Receiver: wanted tag.
 * @size:	Receiver: buffer size; larger messages are not handed over.
 * @ns:		Receiver: its pid namespace.
 * @file:	Receiver: its open file, which a CALL request is bound to.
 *
 * Lives on the blocked task's stack; every field is protected by the
 * mailbox lock.
 */
struct ipcbox_waiter {
	wait_queue_entry_t wq;
	struct ipcbox_msg *msg;
	enum ipcbox_wait_kind kind;
	enum ipcbox_wait_state state;
	bool sync;
	u32 flags;
	pid_t filter_pid;
	u64 filter_tag;
	size_t size;
	struct pid_namespace *ns;
	struct ipcbox_file *file;
};

/* What a wakeup of @waitq is about; NULL wakes everybody (shutdown). */
struct ipcbox_wake_key {
	struct ipcbox_waiter *target;	/* just this waiter */
	struct ipcbox_msg *msg;		/* else: a new message for receivers */
	struct ipcbox_waiter *taker;	/* out: the receiver that took @msg */
};

enum ipcbox_call_state {
	IPCBOX_CALL_QUEUED,	/* request not received yet */
	IPCBOX_CALL_RECEIVED,	/* in @calls, the caller waits */
	IPCBOX_CALL_ABANDONED,	/* in @calls, the caller gave up */
	IPCBOX_CALL_REPLIED,	/* @reply is there */
	IPCBOX_CALL_RESET,	/* the receiving fd closed without a reply */
	IPCBOX_CALL_SHUTDOWN,	/* the mailbox was shut down first */
};

/**
 * struct ipcbox_call_ctx - a CALL in flight
 * @node:	In the mailbox's @calls while received and not answered.
 * @server:	The fd that received the request; only it may answer.
 * @waiter:	The blocked caller, NULL once it gave up.
 * @reply:	The reply, once there.
 * @ref:	The caller's reference, and the receiving fd's while the
 *		request is in @calls.
 * @state:	IPCBOX_CALL_*.
 * @reply_size:	The caller's reply buffer size.
 * @token:	Random, non-zero: what the receiver must quote.
 * @seq:	The request's sequence number, echoed in the reply's info.
 * @tag:	The request's tag, likewise.
 *
 * Everything is protected by the mailbox lock. A context that holds a
 * reply is freed only by the caller, outside the lock.
 */
struct ipcbox_call_ctx {
	struct list_head node;
	struct ipcbox_file *server;
	struct ipcbox_waiter *waiter;
	struct ipcbox_msg *reply;
	refcount_t ref;
	enum ipcbox_call_state state;
	u32 reply_size;
	u64 token;
	u64 seq;
	u64 tag;
};

struct ipcbox_deadline {
	ktime_t at;
	bool forever;
	bool nonblock;
	bool restart;	/* a signal may restart the call with the same deadline */
};

#define IPCBOX_RECV_FILTERS	(IPCBOX_RECV_FILTER_PID | IPCBOX_RECV_FILTER_TAG)

/*
 * Small messages, the common case, come from a cache of 256-byte objects
 * (header and payload together) instead of kmalloc: a per-CPU free list
 * hit on the hot path. Larger payloads take kvmalloc, where the copy
 * costs more than the allocation.
 */
#define IPCBOX_MSG_OBJ_SIZE	256
#define IPCBOX_MSG_SMALL	(IPCBOX_MSG_OBJ_SIZE - sizeof(struct ipcbox_msg))
static_assert(sizeof(struct ipcbox_msg) <= IPCBOX_MSG_OBJ_SIZE / 2);

static struct kmem_cache *ipcbox_msg_cache;

int __init ipcbox_mailbox_init(void)
{
	/* Payloads are copied from and to user space: whitelist them. */
	ipcbox_msg_cache =
		kmem_cache_create_usercopy("ipcbox_msg", IPCBOX_MSG_OBJ_SIZE,
					   0, SLAB_ACCOUNT,
					   offsetof(struct ipcbox_msg, data),
					   IPCBOX_MSG_SMALL, NULL);
	return ipcbox_msg_cache ? 0 : -ENOMEM;
}

void ipcbox_mailbox_exit(void)
{
	kmem_cache_destroy(ipcbox_msg_cache);
}

static inline void ipcbox_lock(struct ipcbox_mailbox *mb)
	__acquires(&mb->waitq.lock)
{
	spin_lock(&mb->waitq.lock);
}

static inline void ipcbox_unlock(struct ipcbox_mailbox *mb)
	__releases(&mb->waitq.lock)
{
	spin_unlock(&mb->waitq.lock);
}

static inline bool ipcbox_unbounded(const struct ipcbox_mailbox *mb)
{
	return mb->capacity == IPCBOX_CAPACITY_UNBOUNDED;
}

static int ipcbox_deadline_init(struct ipcbox_deadline *dl, s64 timeout,
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
		dl->at = ns_to_ktime(timeout);
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

static bool ipcbox_expired(const struct ipcbox_deadline *dl)
{
	return !dl->forever && ktime_compare(ktime_get(), dl->at) >= 0;
}

static int ipcbox_interrupted(const struct ipcbox_deadline *dl)
{
	return dl->restart ? -ERESTARTSYS : -EINTR;
}

static void ipcbox_msg_release(struct ipcbox_msg *msg, size_t len)
{
	if (len <= IPCBOX_MSG_SMALL)
		kmem_cache_free(ipcbox_msg_cache, msg);
	else
		kvfree(msg);
}

static void ipcbox_msg_free(struct ipcbox_msg *msg)
{
	put_pid(msg->tgid);
	put_pid(msg->tid);
	ipcbox_msg_release(msg, msg->len);
}

static void ipcbox_msg_put(struct ipcbox_msg *msg)
{
	if (refcount_dec_and_test(&msg->ref))
		ipcbox_msg_free(msg);
}

static void ipcbox_notify(struct ipcbox_mailbox *mb, __poll_t ev)
{
	if (!ev)
		return;
	if (wq_has_sleeper(&mb->pollq))
		wake_up_interruptible_sync_poll(&mb->pollq, ev);
	if (ev & EPOLLIN)
		kill_fasync(&mb->fasync, SIGIO, POLL_IN);
}

static bool ipcbox_match(const struct ipcbox_msg *msg, u32 flags, pid_t pid,
			 u64 tag, struct pid_namespace *ns)
{
	if ((flags & IPCBOX_RECV_FILTER_TAG) && msg->tag != tag)
		return false;
	if ((flags & IPCBOX_RECV_FILTER_PID) && pid_nr_ns(msg->tgid, ns) != pid)
		return false;
	return true;
}

static int ipcbox_wake_fn(wait_queue_entry_t *wq, unsigned int mode,
			  int wake_flags, void *k)
{
	struct ipcbox_waiter *w = container_of(wq, struct ipcbox_waiter, wq);
	struct ipcbox_wake_key *key = k;

	if (!key) {
		if (w->state == IPCBOX_WS_WAITING)
			w->state = IPCBOX_WS_WOKEN;
		default_wake_function(wq, mode, wake_flags, NULL);
		return 1;
	}
	if (key->target) {
		if (key->target != w)
			return 0;
		default_wake_function(wq, mode, wake_flags, NULL);
		return 1;
	}

	/* A new message: the first receiver that wants it takes it. */
	if (w->kind == IPCBOX_WAIT_SEND || w->state != IPCBOX_WS_WAITING)
		return 0;
	if (!ipcbox_match(key->msg, w->flags, w->filter_pid, w->filter_tag,
			  w->ns))
		return 0;
	if (w->kind == IPCBOX_WAIT_RECV && key->msg->len <= w->size) {
		w->msg = key->msg;
		w->state = IPCBOX_WS_HANDED;
		key->taker = w;
		default_wake_function(wq, mode, wake_flags, NULL);
		return 1;
	}
	/* A peeker, or a buffer too small: let it look at the queue. */
	w->state = IPCBOX_WS_WOKEN;
	default_wake_function(wq, mode, wake_flags, NULL);
	return 0;
}

static void ipcbox_wait_add(struct ipcbox_mailbox *mb, struct ipcbox_waiter *w,
			    enum ipcbox_wait_kind kind,
			    enum ipcbox_wait_state state)
	__must_hold(&mb->waitq.lock)
{
	init_waitqueue_func_entry(&w->wq, ipcbox_wake_fn);
	w->wq.private = current;
	w->wq.flags = WQ_FLAG_EXCLUSIVE;
	w->kind = kind;
	w->state = state;
	__add_wait_queue_entry_tail(&mb->waitq, &w->wq);
}

/* Wake one particular waiter after changing its state. */
static void ipcbox_wake_waiter(struct ipcbox_mailbox *mb,
			       struct ipcbox_waiter *w,
			       enum ipcbox_wait_state state)
	__must_hold(&mb->waitq.lock)
{
	struct ipcbox_wake_key key = { .target = w };

	w->state = state;
	__wake_up_locked_sync_key(&mb->waitq, TASK_INTERRUPTIBLE, &key);
}

/*
 * Sleep until woken, the deadline passes or a signal arrives. Called and
 * returns with the mailbox lock held; @ev (poll events gathered under the
 * lock) is delivered while the lock is dropped.
 */
static void ipcbox_sleep(struct ipcbox_mailbox *mb,
			 const struct ipcbox_deadline *dl, __poll_t *ev)
	__must_hold(&mb->waitq.lock)
{
	ktime_t expires = dl->at;

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

/* Insert by priority, FIFO (by sequence number) within a priority. */
static void ipcbox_queue_insert(struct ipcbox_mailbox *mb,
				struct ipcbox_msg *msg)
	__must_hold(&mb->waitq.lock)
{
	struct ipcbox_msg *pos;

	/* From the tail: with a single priority this stops at once. */
	list_for_each_entry_reverse(pos, &mb->queue, node) {
		if (pos->prio > msg->prio ||
		    (pos->prio == msg->prio && pos->seq < msg->seq)) {
			list_add(&msg->node, &pos->node);
			goto added;
		}
	}
	list_add(&msg->node, &mb->queue);
added:
	msg->pending = false;
	mb->depth++;
	mb->bytes += msg->len;
}

static void ipcbox_cache_release(struct ipcbox_mailbox *mb,
				 struct ipcbox_msg *msg, __poll_t *ev)
	__must_hold(&mb->waitq.lock)
{
	if (!msg->cache_owner)
		return;
	msg->cache_owner->cached = NULL;
	msg->cache_owner = NULL;
	mb->nr_cached--;
	*ev |= EPOLLOUT | EPOLLWRNORM;
}

static void ipcbox_call_put(struct ipcbox_call_ctx *ctx)
{
	if (refcount_dec_and_test(&ctx->ref)) {
		if (ctx->reply)
			ipcbox_msg_free(ctx->reply);
		kfree(ctx);
	}
}

/* A request was taken by a receiver on @rf: only @rf may answer it now. */
static void ipcbox_call_received(struct ipcbox_mailbox *mb,
				 struct ipcbox_msg *msg, struct ipcbox_file *rf)
	__must_hold(&mb->waitq.lock)
{
	struct ipcbox_call_ctx *ctx = msg->call;

	if (!ctx)
		return;
	ctx->state = IPCBOX_CALL_RECEIVED;
	ctx->server = rf;
	refcount_inc(&ctx->ref);
	list_add_tail(&ctx->node, &mb->calls);
}

/* Tell a blocked caller how its call ended and drop the receiver's ref. */
static void ipcbox_call_end(struct ipcbox_mailbox *mb,
			    struct ipcbox_call_ctx *ctx,
			    enum ipcbox_call_state state)
	__must_hold(&mb->waitq.lock)
{
	list_del_init(&ctx->node);
	ctx->state = state;
	if (ctx->waiter)
		ipcbox_wake_waiter(mb, ctx->waiter, ctx->waiter->state);
	/* The caller, or nobody if it gave up, still holds a reference. */
	ipcbox_call_put(ctx);
}

/* A receiver on @rf has taken @msg: finish the send of whoever waits on it. */
static void ipcbox_delivered(struct ipcbox_mailbox *mb, struct ipcbox_msg *msg,
			     __poll_t *ev, struct ipcbox_file *rf)
	__must_hold(&mb->waitq.lock)
{
	mb->received++;
	ipcbox_call_received(mb, msg, rf);
	if (msg->waiter) {
		mb->sent++;
		ipcbox_wake_waiter(mb, msg->waiter, IPCBOX_WS_DONE);
		msg->waiter = NULL;
	}
	ipcbox_cache_release(mb, msg, ev);
}

/* Give @msg to the first blocked receiver that wants it, if any. */
static struct ipcbox_waiter *ipcbox_handoff(struct ipcbox_mailbox *mb,
					    struct ipcbox_msg *msg)
	__must_hold(&mb->waitq.lock)
{
	struct ipcbox_wake_key key = { .msg = msg };

	if (!mb->waiting_receivers)
		return NULL;
	__wake_up_locked_sync_key(&mb->waitq, TASK_INTERRUPTIBLE, &key);
	if (key.taker)
		mb->takers--;
	return key.taker;
}

/*
 * Move messages from @pending into the room a receive or a withdrawn send
 * has made, oldest first, completing the sends waiting on them.
 */
static void ipcbox_refill(struct ipcbox_mailbox *mb, __poll_t *ev)
	__must_hold(&mb->waitq.lock)
{
	struct ipcbox_waiter *w, *taker;
	struct ipcbox_msg *msg;

	while (mb->nr_pending && mb->depth < mb->capacity) {
		msg = list_first_entry(&mb->pending, struct ipcbox_msg, node);
		list_del(&msg->node);
		mb->nr_pending--;
		taker = ipcbox_handoff(mb, msg);
		if (taker) {
			ipcbox_delivered(mb, msg, ev, taker->file);
			continue;
		}
		ipcbox_queue_insert(mb, msg);
		*ev |= EPOLLIN | EPOLLRDNORM;
		ipcbox_cache_release(mb, msg, ev);
		w = msg->waiter;
		if (w && !w->sync) {
			mb->sent++;
			msg->waiter = NULL;
			ipcbox_wake_waiter(mb, w, IPCBOX_WS_DONE);
		} else if (w) {
			w->state = IPCBOX_WS_QUEUED;
		}
	}
}

/* Take @msg out of @queue or @pending for a receiver on @rf. */
static void ipcbox_take(struct ipcbox_mailbox *mb, struct ipcbox_msg *msg,
			__poll_t *ev, struct ipcbox_file *rf)
	__must_hold(&mb->waitq.lock)
{
	list_del(&msg->node);
	if (msg->pending) {
		mb->nr_pending--;
	} else {
		mb->depth--;
		mb->bytes -= msg->len;
		*ev |= EPOLLOUT | EPOLLWRNORM;
	}
	ipcbox_delivered(mb, msg, ev, rf);
	if (!msg->pending)
		ipcbox_refill(mb, ev);
}

/* A blocked sender gives up: take its message back out. */
static void ipcbox_withdraw(struct ipcbox_mailbox *mb, struct ipcbox_msg *msg,
			    __poll_t *ev)
	__must_hold(&mb->waitq.lock)
{
	list_del(&msg->node);
	msg->waiter = NULL;
	if (msg->pending) {
		mb->nr_pending--;
		return;
	}
	mb->depth--;
	mb->bytes -= msg->len;
	*ev |= EPOLLOUT | EPOLLWRNORM;
	ipcbox_refill(mb, ev);
}

static struct ipcbox_msg *ipcbox_msg_alloc(const void __user *buf, size_t len)
{
	struct ipcbox_msg *msg;

	if (len <= IPCBOX_MSG_SMALL)
		msg = kmem_cache_alloc(ipcbox_msg_cache, GFP_KERNEL_ACCOUNT);
	else
		msg = kvmalloc(struct_size(msg, data, len), GFP_KERNEL_ACCOUNT);
	if (!msg)
		return ERR_PTR(-ENOMEM);
	if (copy_from_user(msg->data, buf, len)) {
		ipcbox_msg_release(msg, len);
		return ERR_PTR(-EFAULT);
	}
	msg->waiter = NULL;
	msg->cache_owner = NULL;
	msg->call = NULL;
	msg->token = 0;
	msg->tgid = get_pid(task_tgid(current));
	msg->tid = get_pid(task_pid(current));
	msg->uid = current_euid();
	msg->gid = current_egid();
	refcount_set(&msg->ref, 1);
	msg->len = len;
	msg->pending = false;
	return msg;
}

/**
 * ipcbox_send() - send one message
 * @f:		The sender's open file.
 * @buf:	User buffer.
 * @len:	Its length.
 * @args:	Flags, timeout, priority and tag (already validated for
 *		reserved fields; O_NONBLOCK of the file folded into flags).
 * @seq:	Out: the message's sequence number.
 *
 * Return: 0, or -EMSGSIZE (too long), -EINVAL (bad flags, priority or
 * timeout), -EFAULT, -ENOMEM, -EPIPE (shut down), -ENOBUFS (unbounded
 * queue full), -EAGAIN (would block, or CACHE slot taken), -ETIMEDOUT,
 * -EINTR or -ERESTARTSYS. On any error the message was not delivered
 * and will not be.
 */
long ipcbox_send(struct ipcbox_file *f, const void __user *buf, size_t len,
		 const struct ipcbox_send *args, u64 *seq)
{
	struct ipcbox_mailbox *mb = f->mb;
	struct ipcbox_deadline dl;
	struct ipcbox_waiter w;
	struct ipcbox_msg *msg;
	bool cache = args->flags & IPCBOX_SEND_CACHE;
	__poll_t ev = 0;
	u64 now;
	long ret;

	if (args->flags & ~IPCBOX_SEND_FLAGS)
		return -EINVAL;
	if (cache && (args->flags & IPCBOX_SEND_SYNC))
		return -EINVAL;
	if (args->priority >= IPCBOX_PRIO_MAX)
		return -EINVAL;
	if (len > mb->msg_size_max)
		return -EMSGSIZE;
	ret = ipcbox_deadline_init(&dl, args->timeout_ns,
				   args->flags & IPCBOX_SEND_ABSTIME,
				   args->flags & IPCBOX_SEND_NONBLOCK);
	if (ret)
		return ret;

	msg = ipcbox_msg_alloc(buf, len);
	if (IS_ERR(msg))
		return PTR_ERR(msg);
	msg->prio = args->priority;
	msg->tag = args->tag;
	now = ktime_get_ns();

	ipcbox_lock(mb);
	if (mb->shutdown) {
		ret = -EPIPE;
		goto out_unlock;
	}
	if (ipcbox_unbounded(mb) &&
	    mb->bytes + len > READ_ONCE(ipcbox_max_unbounded_bytes)) {
		ret = -ENOBUFS;
		goto out_unlock;
	}
	msg->seq = mb->next_seq++;
	msg->timestamp = now;
	*seq = msg->seq;

	if (ipcbox_handoff(mb, msg)) {
		mb->sent++;
		mb->received++;
		msg = NULL;
		goto out_unlock;
	}

	if (ipcbox_unbounded(mb) ||
	    (!mb->nr_pending && mb->depth < mb->capacity)) {
		ipcbox_queue_insert(mb, msg);
		ev |= EPOLLIN | EPOLLRDNORM;
		if (!(args->flags & IPCBOX_SEND_SYNC)) {
			mb->sent++;
			msg = NULL;
			goto out_unlock;
		}
		w.state = IPCBOX_WS_QUEUED;
	} else if (cache) {
		if (f->cached) {
			ret = -EAGAIN;
			goto out_unlock;
		}
		f->cached = msg;
		msg->cache_owner = f;
		mb->nr_cached++;
		mb->sent++;
		if (mb->capacity == 0) {
			ipcbox_queue_insert(mb, msg);
			ev |= EPOLLIN | EPOLLRDNORM;
		} else {
			msg->pending = true;
			list_add_tail(&msg->node, &mb->pending);
			mb->nr_pending++;
		}
		msg = NULL;
		goto out_unlock;
	} else if (dl.nonblock) {
		ret = -EAGAIN;
		goto out_unlock;
	} else if (mb->capacity == 0) {
		ipcbox_queue_insert(mb, msg);
		ev |= EPOLLIN | EPOLLRDNORM;
		w.state = IPCBOX_WS_QUEUED;
	} else {
		msg->pending = true;
		list_add_tail(&msg->node, &mb->pending);
		mb->nr_pending++;
		w.state = IPCBOX_WS_PENDING;
	}

	/* Block until a receiver or room completes the send for us. */
	ipcbox_wait_add(mb, &w, IPCBOX_WAIT_SEND, w.state);
	w.sync = mb->capacity == 0 || (args->flags & IPCBOX_SEND_SYNC);
	w.msg = msg;
	msg->waiter = &w;
	mb->waiting_senders++;
	for (;;) {
		if (dl.nonblock) {
			ret = -EAGAIN;
		} else if (ipcbox_expired(&dl)) {
			ret = -ETIMEDOUT;
			mb->timeouts++;
		} else {
			ipcbox_sleep(mb, &dl, &ev);
			if (w.state == IPCBOX_WS_DONE) {
				ret = 0;
				msg = NULL;
				break;
			}
			if (w.state == IPCBOX_WS_ABORTED) {
				ret = -EPIPE;
				break;
			}
			if (!signal_pending(current))
				continue;
			ret = ipcbox_interrupted(&dl);
		}
		ipcbox_withdraw(mb, msg, &ev);
		break;
	}
	list_del_init(&w.wq.entry);
	mb->waiting_senders--;

out_unlock:
	ipcbox_unlock(mb);
	ipcbox_notify(mb, ev);
	/* A PEEK may still be copying a message that was queued: put it. */
	if (msg)
		ipcbox_msg_put(msg);
	return ret;
}

static struct ipcbox_msg *ipcbox_find(struct ipcbox_mailbox *mb,
				      const struct ipcbox_recv *args,
				      struct pid_namespace *ns)
	__must_hold(&mb->waitq.lock)
{
	struct ipcbox_msg *msg;
	u32 flags = args->flags;

	list_for_each_entry(msg, &mb->queue, node)
		if (ipcbox_match(msg, flags, args->filter_pid,
				 args->filter_tag, ns))
			return msg;
	/*
	 * A filtered receive may also take a message still waiting for room:
	 * otherwise a full queue of other senders' messages would keep the
	 * one it wants out for good.
	 */
	if (flags & IPCBOX_RECV_FILTERS)
		list_for_each_entry(msg, &mb->pending, node)
			if (ipcbox_match(msg, flags, args->filter_pid,
					 args->filter_tag, ns))
				return msg;
	return NULL;
}

static void ipcbox_fill_info(const struct ipcbox_msg *msg,
			     struct ipcbox_msg_info *info, bool peek)
{
	struct pid_namespace *ns = task_active_pid_ns(current);
	struct user_namespace *user_ns = current_user_ns();

	memset(info, 0, sizeof(*info));
	info->seq = msg->seq;
	info->tag = msg->tag;
	info->timestamp_ns = msg->timestamp;
	info->len = msg->len;
	info->priority = msg->prio;
	info->sender_tgid = pid_nr_ns(msg->tgid, ns);
	info->sender_tid = pid_nr_ns(msg->tid, ns);
	info->sender_uid = from_kuid_munged(user_ns, msg->uid);
	info->sender_gid = from_kgid_munged(user_ns, msg->gid);
	if (!peek)
		info->token = msg->token;
}

/* The copy to a receiver failed: put the message back where it was. */
static void ipcbox_requeue(struct ipcbox_mailbox *mb, struct ipcbox_msg *msg)
{
	struct ipcbox_call_ctx *ctx = msg->call;
	__poll_t ev = EPOLLIN | EPOLLRDNORM;
	struct ipcbox_waiter *taker;

	ipcbox_lock(mb);
	mb->received--;
	if (ctx && ctx->state == IPCBOX_CALL_RECEIVED) {
		/* The request is not received after all: unbind it. */
		list_del_init(&ctx->node);
		ctx->server = NULL;
		ctx->state = IPCBOX_CALL_QUEUED;
		refcount_dec(&ctx->ref);
	} else if (ctx) {
		/* Nobody waits for an answer any more. */
		if (ctx->state == IPCBOX_CALL_ABANDONED)
			list_del_init(&ctx->node);
		else
			ctx = NULL;	/* ended: the caller was told */
		ipcbox_unlock(mb);
		if (ctx)
			ipcbox_call_put(ctx);
		ipcbox_msg_put(msg);	/* a PEEK may hold it too */
		return;
	}
	taker = ipcbox_handoff(mb, msg);
	if (taker) {
		mb->received++;
		ipcbox_call_received(mb, msg, taker->file);
	} else {
		ipcbox_queue_insert(mb, msg);
	}
	ipcbox_unlock(mb);
	ipcbox_notify(mb, ev);
}

/**
 * ipcbox_recv() - receive (or peek at) one message
 * @f:		The receiver's open file.
 * @buf:	User buffer for the payload.
 * @size:	Its size.
 * @args:	Flags, timeout and filters (reserved fields already checked;
 *		O_NONBLOCK of the file folded into flags).
 * @uinfo:	Out: about the message, or NULL; with -EMSGSIZE only its
 *		@len is set, to the length needed.
 *
 * A message is only consumed once it reached user space: if a copy
 * faults, the message goes back into the queue in its place.
 *
 * Return: the message length, or -EINVAL, -EMSGSIZE (buffer too small;
 * the message stays queued), -EFAULT, -EPIPE (shut down and drained),
 * -EAGAIN, -ETIMEDOUT, -EINTR or -ERESTARTSYS.
 */
long ipcbox_recv(struct ipcbox_file *f, void __user *buf, size_t size,
		 const struct ipcbox_recv *args,
		 struct ipcbox_msg_info __user *uinfo)
{
	struct pid_namespace *ns = task_active_pid_ns(current);
	struct ipcbox_mailbox *mb = f->mb;
	bool peek = args->flags & IPCBOX_RECV_PEEK;
	struct ipcbox_deadline dl;
	struct ipcbox_waiter w;
	struct ipcbox_msg_info info;
	struct ipcbox_msg *msg;
	__poll_t ev = 0;
	u32 len = 0;
	long ret;

	if (args->flags & ~IPCBOX_RECV_FLAGS)
		return -EINVAL;
	if ((args->flags & IPCBOX_RECV_FILTER_PID) && args->filter_pid <= 0)
		return -EINVAL;
	ret = ipcbox_deadline_init(&dl, args->timeout_ns,
				   args->flags & IPCBOX_RECV_ABSTIME,
				   args->flags & IPCBOX_RECV_NONBLOCK);
	if (ret)
		return ret;

	ipcbox_lock(mb);
	for (;;) {
		msg = ipcbox_find(mb, args, ns);
		if (msg) {
			if (msg->len > size) {
				len = msg->len;
				ret = -EMSGSIZE;
				goto out_unlock;
			}
			if (peek)
				refcount_inc(&msg->ref);
			else
				ipcbox_take(mb, msg, &ev, f);
			break;
		}
		if (mb->shutdown) {
			ret = -EPIPE;
			goto out_unlock;
		}
		if (dl.nonblock) {
			ret = -EAGAIN;
			goto out_unlock;
		}
		if (ipcbox_expired(&dl)) {
			mb->timeouts++;
			ret = -ETIMEDOUT;
			goto out_unlock;
		}

		ipcbox_wait_add(mb, &w, peek ? IPCBOX_WAIT_PEEK :
				IPCBOX_WAIT_RECV, IPCBOX_WS_WAITING);
		w.msg = NULL;
		w.flags = args->flags;
		w.filter_pid = args->filter_pid;
		w.filter_tag = args->filter_tag;
		w.size = size;
		w.ns = ns;
		w.file = f;
		mb->waiting_receivers++;
		if (!peek) {
			mb->takers++;
			if (mb->capacity == 0)
				ev |= EPOLLOUT | EPOLLWRNORM;
		}
		ipcbox_sleep(mb, &dl, &ev);
		list_del_init(&w.wq.entry);
		mb->waiting_receivers--;
		if (w.state == IPCBOX_WS_HANDED) {
			msg = w.msg;
			break;
		}
		if (!peek)
			mb->takers--;
		if (signal_pending(current)) {
			ret = ipcbox_interrupted(&dl);
			goto out_unlock;
		}
	}
	ipcbox_unlock(mb);
	ipcbox_notify(mb, ev);

	ipcbox_fill_info(msg, &info, peek);
	if (copy_to_user(buf, msg->data, msg->len) ||
	    (uinfo && copy_to_user(uinfo, &info, sizeof(info)))) {
		if (peek)
			ipcbox_msg_put(msg);
		else
			ipcbox_requeue(mb, msg);
		return -EFAULT;
	}
	ret = msg->len;
	ipcbox_msg_put(msg);
	return ret;

out_unlock:
	ipcbox_unlock(mb);
	ipcbox_notify(mb, ev);
	if (ret == -EMSGSIZE && uinfo) {
		memset(&info, 0, sizeof(info));
		info.len = len;
		if (copy_to_user(uinfo, &info, sizeof(info)))
			ret = -EFAULT;
	}
	return ret;
}

/**
 * ipcbox_call() - send a request and wait for its reply
 * @f:		The caller's open file.
 * @args:	The request, the reply buffer, timeout (reserved fields and
 *		reply_info already checked).
 * @uinfo:	Out: about the reply.
 *
 * The request travels like a SYNC send. Once a receiver took it, a timeout
 * or signal abandons it (a later REPLY gets -ECANCELED) instead of taking
 * it back.
 *
 * Return: the reply's length, or -EINVAL, -EMSGSIZE, -ENOMEM, -EFAULT,
 * -EPIPE (shut down before the reply), -ECONNRESET (the receiving fd
 * closed without replying), -ETIMEDOUT, -EINTR or -ERESTARTSYS.
 */
long ipcbox_call(struct ipcbox_file *f, const struct ipcbox_call *args,
		 struct ipcbox_msg_info __user *uinfo)
{
	struct ipcbox_mailbox *mb = f->mb;
	struct ipcbox_msg *msg, *reply = NULL;
	struct ipcbox_msg_info info;
	struct ipcbox_call_ctx *ctx;
	struct ipcbox_waiter *taker;
	struct ipcbox_deadline dl;
	struct ipcbox_waiter w;
	bool withdrawn = false;
	__poll_t ev = 0;
	long ret;

	if ((args->flags & ~IPCBOX_CALL_FLAGS) || args->timeout_ns == 0 ||
	    args->priority >= IPCBOX_PRIO_MAX)
		return -EINVAL;
	if (args->len > mb->msg_size_max)
		return -EMSGSIZE;
	ret = ipcbox_deadline_init(&dl, args->timeout_ns,
				   args->flags & IPCBOX_CALL_ABSTIME, false);
	if (ret)
		return ret;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL_ACCOUNT);
	if (!ctx)
		return -ENOMEM;
	INIT_LIST_HEAD(&ctx->node);
	refcount_set(&ctx->ref, 1);
	ctx->state = IPCBOX_CALL_QUEUED;
	ctx->reply_size = args->reply_size;
	ctx->token = get_random_u64() | 1;
	ctx->tag = args->tag;
	msg = ipcbox_msg_alloc(u64_to_user_ptr(args->buf), args->len);
	if (IS_ERR(msg)) {
		kfree(ctx);
		return PTR_ERR(msg);
	}
	msg->prio = args->priority;
	msg->tag = args->tag;
	msg->call = ctx;
	msg->token = ctx->token;
	msg->timestamp = ktime_get_ns();

	ipcbox_lock(mb);
	if (mb->shutdown) {
		ipcbox_unlock(mb);
		ipcbox_msg_free(msg);
		kfree(ctx);
		return -EPIPE;
	}
	msg->seq = mb->next_seq++;
	ctx->seq = msg->seq;
	ipcbox_wait_add(mb, &w, IPCBOX_WAIT_SEND, IPCBOX_WS_QUEUED);
	w.sync = true;
	w.msg = msg;
	ctx->waiter = &w;
	mb->waiting_senders++;
	taker = ipcbox_handoff(mb, msg);
	if (taker) {
		mb->sent++;
		mb->received++;
		ipcbox_call_received(mb, msg, taker->file);
		w.state = IPCBOX_WS_DONE;
	} else if (ipcbox_unbounded(mb) || mb->capacity == 0 ||
		   (!mb->nr_pending && mb->depth < mb->capacity)) {
		ipcbox_queue_insert(mb, msg);
		ev |= EPOLLIN | EPOLLRDNORM;
		msg->waiter = &w;
	} else {
		msg->pending = true;
		list_add_tail(&msg->node, &mb->pending);
		mb->nr_pending++;
		msg->waiter = &w;
		w.state = IPCBOX_WS_PENDING;
	}

	for (;;) {
		if (ctx->state == IPCBOX_CALL_REPLIED) {
			reply = ctx->reply;
			ctx->reply = NULL;
			ret = 0;
			break;
		}
		if (ctx->state == IPCBOX_CALL_RESET) {
			ret = -ECONNRESET;
			break;
		}
		if (ctx->state == IPCBOX_CALL_SHUTDOWN ||
		    w.state == IPCBOX_WS_ABORTED) {
			withdrawn = w.state == IPCBOX_WS_ABORTED;
			ret = -EPIPE;
			break;
		}
		if (ipcbox_expired(&dl)) {
			ret = -ETIMEDOUT;
			mb->timeouts++;
		} else {
			ipcbox_sleep(mb, &dl, &ev);
			if (!signal_pending(current))
				continue;
			ret = ipcbox_interrupted(&dl);
		}
		if (ctx->state == IPCBOX_CALL_QUEUED) {
			ipcbox_withdraw(mb, msg, &ev);
			withdrawn = true;
		} else {
			ctx->state = IPCBOX_CALL_ABANDONED;
		}
		break;
	}
	ctx->waiter = NULL;
	list_del_init(&w.wq.entry);
	mb->waiting_senders--;
	ipcbox_unlock(mb);
	ipcbox_notify(mb, ev);

	if (withdrawn)
		ipcbox_msg_put(msg);	/* a PEEK may hold it too */
	ipcbox_call_put(ctx);
	if (!reply)
		return ret;

	ipcbox_fill_info(reply, &info, true);
	if (copy_to_user(u64_to_user_ptr(args->reply_buf), reply->data,
			 reply->len) ||
	    copy_to_user(uinfo, &info, sizeof(info)))
		ret = -EFAULT;
	else
		ret = reply->len;
	ipcbox_msg_free(reply);
	return ret;
}

/**
 * ipcbox_reply() - answer a request received on @f
 * @f:		The fd that received the request.
 * @args:	Token and reply payload (flags and reserved fields checked).
 *
 * Return: 0, or -ENOENT (no open request with that token on @f),
 * -ECANCELED (the caller gave up), -EMSGSIZE (larger than the caller's
 * buffer; the request stays open), -ENOMEM or -EFAULT.
 */
long ipcbox_reply(struct ipcbox_file *f, const struct ipcbox_reply *args)
{
	struct ipcbox_mailbox *mb = f->mb;
	struct ipcbox_call_ctx *ctx, *found = NULL;
	struct ipcbox_msg *reply;
	long ret;

	if (!args->token)
		return -ENOENT;
	if (args->len > mb->msg_size_max)
		return -EMSGSIZE;
	reply = ipcbox_msg_alloc(u64_to_user_ptr(args->buf), args->len);
	if (IS_ERR(reply))
		return PTR_ERR(reply);
	reply->timestamp = ktime_get_ns();

	ipcbox_lock(mb);
	list_for_each_entry(ctx, &mb->calls, node) {
		if (ctx->token == args->token && ctx->server == f) {
			found = ctx;
			break;
		}
	}
	if (!found) {
		ret = -ENOENT;
	} else if (found->state == IPCBOX_CALL_ABANDONED) {
		list_del_init(&found->node);
		ipcbox_call_put(found);	/* the last reference, no reply */
		ret = -ECANCELED;
	} else if (args->len > found->reply_size) {
		ret = -EMSGSIZE;
	} else {
		reply->seq = found->seq;
		reply->tag = found->tag;
		found->reply = reply;
		reply = NULL;
		ipcbox_call_end(mb, found, IPCBOX_CALL_REPLIED);
		ret = 0;
	}
	ipcbox_unlock(mb);
	if (reply)
		ipcbox_msg_free(reply);
	return ret;
}

/**
 * ipcbox_shutdown() - refuse further sends and wake everybody
 * @mb:		The mailbox.
 *
 * Blocked sends fail with EPIPE and their messages are withdrawn; messages
 * parked by CACHE sends were accepted, so they join the queue even beyond
 * its capacity. Receivers drain the queue, then see end-of-file.
 */
void ipcbox_shutdown(struct ipcbox_mailbox *mb)
{
	struct ipcbox_call_ctx *ctx, *ctmp;
	struct ipcbox_msg *msg, *tmp;
	__poll_t ev = EPOLLIN | EPOLLRDNORM | EPOLLOUT | EPOLLWRNORM |
		      EPOLLHUP | EPOLLRDHUP | EPOLLERR;

	ipcbox_lock(mb);
	if (mb->shutdown) {
		ipcbox_unlock(mb);
		return;
	}
	mb->shutdown = true;
	list_for_each_entry_safe(msg, tmp, &mb->queue, node) {
		if (!msg->waiter)
			continue;
		list_del(&msg->node);
		mb->depth--;
		mb->bytes -= msg->len;
		msg->waiter->state = IPCBOX_WS_ABORTED;
		msg->waiter = NULL;
	}
	list_for_each_entry_safe(ctx, ctmp, &mb->calls, node)
		if (ctx->state == IPCBOX_CALL_RECEIVED)
			ipcbox_call_end(mb, ctx, IPCBOX_CALL_SHUTDOWN);
	list_for_each_entry_safe(msg, tmp, &mb->pending, node) {
		list_del(&msg->node);
		mb->nr_pending--;
		if (msg->waiter) {
			msg->waiter->state = IPCBOX_WS_ABORTED;
			msg->waiter = NULL;
			continue;
		}
		ipcbox_queue_insert(mb, msg);
		ipcbox_cache_release(mb, msg, &ev);
	}
	__wake_up_locked(&mb->waitq, TASK_INTERRUPTIBLE, 0);
	ipcbox_unlock(mb);
	ipcbox_notify(mb, ev);
}

void ipcbox_stat(struct ipcbox_mailbox *mb, struct ipcbox_stat *st)
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
	if (READ_ONCE(mb->unlinked))
		st->flags |= IPCBOX_STAT_UNLINKED;
	strscpy(st->name, mb->name, sizeof(st->name));

	ipcbox_lock(mb);
	st->depth = mb->depth;
	st->bytes = mb->bytes;
	st->waiting_senders = mb->waiting_senders;
	st->waiting_receivers = mb->waiting_receivers;
	st->sent = mb->sent;
	st->received = mb->received;
	st->timeouts = mb->timeouts;
	st->cached = mb->nr_cached;
	if (mb->shutdown)
		st->flags |= IPCBOX_STAT_SHUTDOWN;
	ipcbox_unlock(mb);
}

/* poll(2) readiness for @f, honouring its access mode. */
__poll_t ipcbox_poll_mask(struct ipcbox_file *f, fmode_t fmode)
{
	struct ipcbox_mailbox *mb = f->mb;
	__poll_t mask = 0;

	ipcbox_lock(mb);
	if (fmode & FMODE_READ) {
		if (mb->depth)
			mask |= EPOLLIN | EPOLLRDNORM;
		else if (mb->shutdown)
			mask |= EPOLLIN | EPOLLRDNORM | EPOLLHUP | EPOLLRDHUP;
	}
	if (fmode & FMODE_WRITE) {
		if (mb->shutdown)
			mask |= EPOLLOUT | EPOLLWRNORM | EPOLLERR;
		else if (f->cached)
			;	/* the CACHE slot is taken: wait for it */
		else if (mb->capacity == 0 ? mb->takers != 0 :
			 ipcbox_unbounded(mb) ?
			 mb->bytes < READ_ONCE(ipcbox_max_unbounded_bytes) :
			 !mb->nr_pending && mb->depth < mb->capacity)
			mask |= EPOLLOUT | EPOLLWRNORM;
	}
	ipcbox_unlock(mb);
	return mask;
}

/*
 * The fd closes: a message in its CACHE slot stays, without an owner;
 * callers whose requests it received and did not answer learn at once.
 */
void ipcbox_file_release(struct ipcbox_file *f)
{
	struct ipcbox_mailbox *mb = f->mb;
	struct ipcbox_call_ctx *ctx, *tmp;

	ipcbox_lock(mb);
	if (f->cached) {
		f->cached->cache_owner = NULL;
		f->cached = NULL;
		mb->nr_cached--;
	}
	list_for_each_entry_safe(ctx, tmp, &mb->calls, node) {
		if (ctx->server != f)
			continue;
		if (ctx->state == IPCBOX_CALL_ABANDONED) {
			list_del_init(&ctx->node);
			ipcbox_call_put(ctx);	/* no reply: kfree only */
		} else {
			ipcbox_call_end(mb, ctx, IPCBOX_CALL_RESET);
		}
	}
	ipcbox_unlock(mb);
}

struct ipcbox_mailbox *ipcbox_mailbox_alloc(u32 capacity, u32 msg_size_max)
{
	struct ipcbox_mailbox *mb;

	mb = kzalloc(sizeof(*mb), GFP_KERNEL_ACCOUNT);
	if (!mb)
		return NULL;
	kref_init(&mb->ref);
	init_waitqueue_head(&mb->waitq);
	INIT_LIST_HEAD(&mb->queue);
	INIT_LIST_HEAD(&mb->pending);
	INIT_LIST_HEAD(&mb->calls);
	init_waitqueue_head(&mb->pollq);
	INIT_LIST_HEAD(&mb->list);
	mb->capacity = capacity;
	mb->msg_size_max = msg_size_max;
	mb->next_seq = 1;
	mb->uid = current_fsuid();
	mb->gid = current_fsgid();
	mb->user_ns = get_user_ns(current_user_ns());
	mb->minor = -1;
	return mb;
}

static void ipcbox_mailbox_release(struct kref *ref)
{
	struct ipcbox_mailbox *mb = container_of(ref, struct ipcbox_mailbox,
						 ref);
	struct ipcbox_msg *msg, *tmp;

	/* No file is left, so no task is blocked here and nothing peeks. */
	list_for_each_entry_safe(msg, tmp, &mb->queue, node)
		ipcbox_msg_put(msg);
	list_for_each_entry_safe(msg, tmp, &mb->pending, node)
		ipcbox_msg_put(msg);
	ipcbox_registry_release(mb);
	put_user_ns(mb->user_ns);
	kfree(mb);
}

void ipcbox_mailbox_put(struct ipcbox_mailbox *mb)
{
	kref_put(&mb->ref, ipcbox_mailbox_release);
}
