/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ipcbox internal interfaces.
 *
 * Layers
 * ======
 *
 * Calls go one way, from the top down:
 *
 *   main.c     module life cycle, parameters
 *   control.c  /dev/ipcbox/control: INFO, CREATE, UNLINK
 *   file.c     a mailbox fd's file operations, ioctl dispatch and
 *              marshalling (uapi structs <-> the core's requests)
 *   registry.c names, minors and device nodes of named mailboxes
 *   sysfs.c    /sys/class/ipcbox/NAME/
 *   call.c     CALL and REPLY, on top of the mailbox core
 *   mailbox.c  the mailbox core: queue, pending, hand-off, waits, send,
 *              receive, shutdown, poll, stat
 *   msg.c      message memory: messages, their extension, holders, the
 *              CALL context's memory and references
 *   quota.c    mailboxes counted per user, per user namespace
 *
 * Locking overview
 * ================
 *
 * There are two locks, always taken in this order:
 *
 * 1) ipcbox_mutex (registry.c): the registry. Protects the list of named
 *    mailboxes, the minor numbers (an xarray, which has its own lock
 *    inside), and @name/@unlinked/@dev/@minor of every mailbox. Held across device creation
 *    and removal so a name is never visible half made. quota.c has a
 *    mutex of its own for its counts, taken inside ipcbox_mutex or alone.
 *
 * 2) ipcbox_mailbox.lock, "the mailbox lock" (mailbox.c). A spinlock that
 *    protects all of a mailbox's state: its priority levels and their
 *    messages, the pending and parked messages, the waiter lists, the
 *    counters, @shutdown, every fd's CACHE slot and received calls, and
 *    the state of every CALL context on the mailbox. It is held only for
 *    list and counter updates and for user copies that cannot fault
 *    (copy_to_user_nofault() of at most IPCBOX_COPY_LOCKED_MAX bytes):
 *    allocations and copies that may sleep happen outside it. Wakeups of
 *    blocked tasks are done under it (wake_up_process() of the task the
 *    change is for), so a waiter that takes the lock after waking sees the
 *    final state of its own request. No walk under it grows with the
 *    number of queued messages: a filtered search drops it every
 *    IPCBOX_SCAN_BATCH messages when someone else waits for it, and
 *    lets that task in before taking it again.
 *
 * @pollq has its own lock, taken by poll/epoll and by the wakeups that
 * follow a state change, after the mailbox lock is dropped. So has the
 * stack of spare message objects (@spare_lock, msg.c), taken with no other
 * lock held, around a push or a short walk only.
 *
 * Messages and holders
 * --------------------
 *
 * A queued message sits in the list of its priority level. A receiver
 * that found it "claims" it (IPCBOX_MSG_CLAIMED): it stays in place,
 * keeping its queue slot and its order, while the receiver copies it out;
 * the receiver then takes it off ("commits") or, when the copy failed,
 * just clears the claim. Others skip claimed messages. So a failed copy
 * never moves a message, and the queue never holds more than its capacity.
 *
 * A message that a blocked sender waits on (rendezvous, SYNC, CALL) points
 * to the sender's waiter (ext->waiter). The decision "delivered" versus
 * "withdrawn" is taken once, under the lock: a sender that gives up while
 * a receiver has its message claimed takes it off the queue and marks it
 * IPCBOX_MSG_CANCELLED; the claimer then discards it and looks again. A
 * message handed straight to a blocked receiver counts as taken at once.
 *
 * @holders counts tasks that copy a message outside the lock without
 * owning it: PEEKs and a filtered search that keeps its place. Whoever
 * takes a held message off its list marks it IPCBOX_MSG_ORPHAN instead of
 * freeing it, and the last holder frees it.
 *
 * CALL contexts
 * -------------
 *
 * struct ipcbox_call_ctx is reference counted: the caller holds one while it
 * waits, the request message holds one for as long as it exists, and the
 * receiving fd holds one while the call is bound to it (received and not
 * answered). Its state changes only under the mailbox lock; the last put
 * frees it, with a reply nobody collected.
 *
 * Lifetime
 * --------
 *
 * A mailbox is reference counted (@ref). The registry holds one reference
 * while the mailbox has a name; every open file holds one. The last put
 * frees the queued messages and returns the per-user count. A named
 * mailbox also holds a module reference until it is unlinked, so rmmod
 * fails (EWOULDBLOCK) while any name exists; open files pin the module
 * through their file_operations.
 */
#ifndef _IPCBOX_INTERNAL_H
#define _IPCBOX_INTERNAL_H

#include <linux/bits.h>
#include <linux/device.h>
#include <linux/fault-inject-usercopy.h>
#include <linux/fs.h>
#include <linux/ktime.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/pid.h>
#include <linux/refcount.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/uaccess.h>
#include <linux/uidgid.h>
#include <linux/wait.h>

#include <linux/ipcbox.h>

struct ipcbox_call_ctx;
struct ipcbox_file;
struct ipcbox_quota;
struct ipcbox_waiter;

/* Copies to user space of at most this many bytes are tried under the lock. */
#define IPCBOX_COPY_LOCKED_MAX	512
/* A filtered search lets others at the lock after this many messages. */
#define IPCBOX_SCAN_BATCH	64
/* How long it waits, in cpu_relax()es, for a waiter to take the lock. */
#define IPCBOX_LET_IN_SPINS	1024
/* What an unbounded mailbox charges per message, beyond its payload. */
#define IPCBOX_MSG_OVERHEAD	64
/*
 * Freed message objects a mailbox keeps for its next messages: in slots,
 * without a lock, and beyond them in a stack, as many as it can queue up
 * to IPCBOX_SPARES: a burst that fills a queue of 64 and drains it then
 * allocates nothing.
 */
#define IPCBOX_SPARE_SLOTS	2
#define IPCBOX_SPARES		64
/* Calls whose caller gave up, kept per mailbox for their ECANCELED. */
#define IPCBOX_ABANDONED_MAX	256

/* struct ipcbox_msg flags. */
#define IPCBOX_MSG_QUEUED	BIT(0)	/* in a priority level's list */
#define IPCBOX_MSG_PENDING	BIT(1)	/* its blocked sender waits for room */
#define IPCBOX_MSG_PARKED	BIT(2)	/* in @parked: a CACHE send, no room yet */
#define IPCBOX_MSG_CLAIMED	BIT(3)	/* a receiver copies it out */
#define IPCBOX_MSG_CANCELLED	BIT(4)	/* withdrawn while claimed */
#define IPCBOX_MSG_ORPHAN	BIT(5)	/* off every list: the last holder frees it */
#define IPCBOX_MSG_EXT		BIT(6)	/* struct ipcbox_msg_ext follows */
#define IPCBOX_MSG_CACHED	BIT(7)	/* holds a CACHE slot (@nr_cached) */

/**
 * struct ipcbox_msg - one message, from the sender's copy to the receiver's
 * @node:	In the list of its priority (QUEUED) or in @parked (PARKED);
 *		unused while PENDING (its sender's waiter points to it).
 * @next_spare:	Once freed, kept as a spare: the next in its mailbox's
 *		@spares (msg.c), in place of @node.
 * @seq:	Sequence number, assigned when the mailbox accepts the send.
 * @tag:	Sender's tag.
 * @timestamp:	CLOCK_MONOTONIC ns (host) at acceptance, under the lock.
 * @tgid:	Sender's process, referenced; translated at receive time.
 * @uid:	Sender's effective uid.
 * @gid:	Sender's effective gid.
 * @len:	Payload length.
 * @prio:	Priority, 0 .. IPCBOX_PRIO_MAX - 1.
 * @flags:	IPCBOX_MSG_* (mailbox lock once the mailbox has the message).
 * @holders:	Tasks copying or keeping their place at it outside the lock
 *		(mailbox lock); at most U8_MAX, see ipcbox_msg_hold().
 * @data:	Payload; with IPCBOX_MSG_EXT, struct ipcbox_msg_ext follows at
 *		the next 8-byte boundary.
 *
 * On 64-bit the header is 64 bytes, so that header and payload of a
 * message up to 64 bytes fill one 128-byte kmalloc object. What few
 * messages need lives in the extension.
 */
struct ipcbox_msg {
	union {
		struct list_head node;
		struct ipcbox_msg *next_spare;
	};
	u64 seq;
	u64 tag;
	u64 timestamp;
	struct pid *tgid;
	kuid_t uid;
	kgid_t gid;
	u32 len;
	u16 prio;
	u8 flags;
	u8 holders;
	char data[];
};

/**
 * struct ipcbox_msg_ext - what only some messages need
 * @tid:	Sender's thread, referenced, when it is not the process's
 *		main thread (else @tgid is the thread too), or NULL.
 * @waiter:	The blocked sender waiting for this message to be taken
 *		(rendezvous, SYNC, CALL), or NULL (mailbox lock).
 * @call:	For a CALL request: its context, referenced, else NULL.
 * @parker:	The fd whose CACHE slot this message occupies, or NULL once
 *		that fd closed (mailbox lock).
 */
struct ipcbox_msg_ext {
	struct pid *tid;
	struct ipcbox_waiter *waiter;
	struct ipcbox_call_ctx *call;
	struct ipcbox_file *parker;
};

enum ipcbox_call_state {
	IPCBOX_CALL_QUEUED,	/* request not received yet */
	IPCBOX_CALL_RECEIVED,	/* bound to its server's fd, the caller waits */
	IPCBOX_CALL_ABANDONED,	/* bound, the caller gave up */
	IPCBOX_CALL_REPLIED,	/* @reply is there */
	IPCBOX_CALL_RESET,	/* the server's fd closed without a reply */
	IPCBOX_CALL_SHUTDOWN,	/* the mailbox was shut down first */
	IPCBOX_CALL_READ,	/* taken by read(2), which cannot reply */
	IPCBOX_CALL_DROPPED,	/* abandoned and evicted, or never sent */
};

/**
 * struct ipcbox_call_ctx - a CALL in flight
 * @ref:	See "CALL contexts" above.
 * @mb_node:	In the mailbox's @calls (RECEIVED) or @abandoned (ABANDONED).
 * @srv_node:	In the server fd's @calls while RECEIVED or ABANDONED.
 * @server:	The fd that received the request; only it may answer.
 * @caller:	The waiting caller, or NULL once it left.
 * @reply:	The reply, once there.
 * @state:	IPCBOX_CALL_*.
 * @reply_size:	The caller's reply buffer size.
 * @token:	What the server must quote: non-zero, unique in the mailbox,
 *		not guessable from outside (see ipcbox_place()).
 * @seq:	The request's sequence number, echoed in the reply's info.
 * @tag:	The request's tag, likewise.
 *
 * Everything but @ref is protected by the mailbox lock.
 */
struct ipcbox_call_ctx {
	refcount_t ref;
	struct list_head mb_node;
	struct list_head srv_node;
	struct ipcbox_file *server;
	struct task_struct *caller;
	struct ipcbox_msg *reply;
	enum ipcbox_call_state state;
	u32 reply_size;
	u64 token;
	u64 seq;
	u64 tag;
};

/**
 * struct ipcbox_mailbox - a mailbox, named or anonymous
 * @ref:	References: registry (while named) and open files.
 * @lock:	The mailbox lock, see the overview.
 * @levels:	Queued messages, one FIFO list per priority.
 * @nonempty:	Bit p set when @levels[p] is not empty.
 * @contending:	Tasks waiting for @lock in ipcbox_lock() (atomic).
 * @pendq:	Blocked senders whose messages wait for room, FIFO.
 * @syncq:	Blocked senders whose queued messages wait to be taken.
 * @parked:	Messages of CACHE sends that wait for room, FIFO.
 * @receivers:	Blocked receivers (PEEK included), FIFO.
 * @calls:	CALL contexts received and not answered.
 * @abandoned:	Received CALLs whose caller gave up, oldest first.
 * @spare:	Objects of the last small messages freed, for the next of
 *		their size classes (msg.c; cmpxchg, no lock).
 * @spare_lock: Protects @spares and @nr_spares (msg.c); taken alone.
 * @spares:	Objects of small messages freed before those in @spare, a
 *		stack linked through their @next_spare.
 * @nr_spares:	How many, at most IPCBOX_SPARES.
 * @spare_call:	The context of the last call that ended, for the next
 *		(msg.c; cmpxchg, no lock).
 * @pollq:	poll/epoll/select waiters.
 * @fasync:	SIGIO subscribers.
 * @capacity:	0, 1..max_capacity or IPCBOX_CAPACITY_UNBOUNDED. Constant.
 * @msg_size_max: Largest payload. Constant.
 * @depth:	Messages in @levels (claimed ones included).
 * @nr_claimed:	Messages in @levels that a receiver is copying out.
 * @bytes:	Their payload bytes.
 * @charge:	What an unbounded mailbox counts against its byte cap: the
 *		payload plus IPCBOX_MSG_OVERHEAD per message.
 * @nr_pending:	Messages of blocked senders waiting for room.
 * @nr_parked:	Messages in @parked.
 * @nr_cached:	Messages holding a CACHE slot: in @parked, or queued on a
 *		rendezvous mailbox, until taken; whether or not the fd that
 *		parked them is still open.
 * @nr_orphaned: Those of them whose fd was closed.
 * @nr_calls:	Contexts in @calls.
 * @nr_abandoned: Contexts in @abandoned.
 * @waiting_senders: Tasks blocked in a send (CALLs until received).
 * @waiting_receivers: Tasks blocked in a receive (PEEK included).
 * @takers:	Blocked receivers that would take any message: no filter,
 *		no PEEK, a buffer of at least @msg_size_max (POLLOUT on
 *		capacity 0).
 * @shutdown:	No more sends.
 * @next_seq:	Sequence number of the next accepted message.
 * @token_key:	Random, drawn once: CALL tokens are sequence numbers mixed
 *		with it. Constant.
 * @sent:	Successful sends.
 * @received:	Messages taken by receivers.
 * @timeouts:	Sends and receives that ended with ETIMEDOUT.
 * @uid:	Owner (creator's fsuid). Constant.
 * @gid:	Group (creator's fsgid). Constant.
 * @mode:	Permission bits. Constant.
 * @user_ns:	Creator's user namespace, referenced, for capabilities.
 * @quota:	What this mailbox is counted against (quota.c); NULL until
 *		registered.
 * @name:	Name, empty when anonymous (ipcbox_mutex; constant once set).
 * @minor:	Minor number of the node (ipcbox_mutex).
 * @dev:	The device behind /dev/ipcbox/NAME, or NULL (ipcbox_mutex).
 * @list:	In the registry's list of named mailboxes (ipcbox_mutex).
 * @unlinked:	The name was removed (ipcbox_mutex; read locklessly).
 *
 * Everything not marked otherwise is protected by the mailbox lock.
 */
struct ipcbox_mailbox {
	struct kref ref;
	spinlock_t lock;		/* the mailbox lock */
	struct list_head levels[IPCBOX_PRIO_MAX];
	u32 nonempty;
	atomic_t contending;
	struct list_head pendq;
	struct list_head syncq;
	struct list_head parked;
	struct list_head receivers;
	struct list_head calls;
	struct list_head abandoned;
	struct ipcbox_msg *spare[IPCBOX_SPARE_SLOTS];
	spinlock_t spare_lock;		/* for @spares and @nr_spares */
	u32 nr_spares;
	struct ipcbox_msg *spares;
	struct ipcbox_call_ctx *spare_call;
	wait_queue_head_t pollq;
	struct fasync_struct *fasync;
	u32 capacity;
	u32 msg_size_max;
	u32 depth;
	u32 nr_claimed;
	u32 nr_pending;
	u64 bytes;
	u64 charge;
	u32 nr_parked;
	u32 nr_cached;
	u32 nr_orphaned;
	u32 nr_calls;
	u32 nr_abandoned;
	u32 waiting_senders;
	u32 waiting_receivers;
	u32 takers;
	bool shutdown;
	u64 next_seq;
	u64 token_key;
	u64 sent;
	u64 received;
	u64 timeouts;
	kuid_t uid;
	kgid_t gid;
	umode_t mode;
	struct user_namespace *user_ns;
	struct ipcbox_quota *quota;
	char name[IPCBOX_NAME_MAX];
	int minor;
	struct device *dev;
	struct list_head list;
	bool unlinked;
};

/**
 * struct ipcbox_file - per open file state
 * @mb:		The mailbox, referenced.
 * @cached:	Message in this fd's CACHE slot (mailbox lock).
 * @calls:	CALLs received on this fd, not answered (mailbox lock).
 */
struct ipcbox_file {
	struct ipcbox_mailbox *mb;
	struct ipcbox_msg *cached;
	struct list_head calls;
};

/**
 * struct ipcbox_deadline - when a wait ends
 * @at:		CLOCK_MONOTONIC (host) time, unless @forever.
 * @forever:	No timeout.
 * @nonblock:	Never wait.
 * @restart:	A signal may restart the call with the same deadline.
 */
struct ipcbox_deadline {
	ktime_t at;
	bool forever;
	bool nonblock;
	bool restart;
};

/*
 * The core takes the uapi's flag bits as they are (one bit per meaning),
 * and adds one of its own.
 */
#define IPCBOX_RX_NOREPLY	BIT(31)	/* read(2): cannot answer a CALL */
#define IPCBOX_RX_FILTERS	(IPCBOX_RECV_FILTER_PID | IPCBOX_RECV_FILTER_TAG)
static_assert(!(IPCBOX_RX_NOREPLY & IPCBOX_RECV_FLAGS));

/**
 * struct ipcbox_tx - one send, as the mailbox core sees it
 * @buf:	The payload in user space.
 * @len:	Its length, checked against the mailbox's size.
 * @flags:	IPCBOX_SEND_SYNC, IPCBOX_SEND_CACHE.
 * @dl:		When to give up.
 * @prio:	Priority, checked.
 * @tag:	Tag.
 * @call:	For a CALL request, its context (call.c), else NULL.
 * @seq:	Out: the message's sequence number.
 */
struct ipcbox_tx {
	const void __user *buf;
	u32 len;
	u32 flags;
	struct ipcbox_deadline dl;
	u32 prio;
	u64 tag;
	struct ipcbox_call_ctx *call;
	u64 seq;
};

/**
 * struct ipcbox_rx - one receive, as the mailbox core sees it
 * @buf:	The buffer in user space.
 * @size:	Its size.
 * @flags:	IPCBOX_RECV_PEEK, IPCBOX_RECV_FILTER_PID,
 *		IPCBOX_RECV_FILTER_TAG, IPCBOX_RX_NOREPLY.
 * @dl:		When to give up.
 * @filter_pid:	Wanted sender tgid in the receiver's pid namespace.
 * @filter_tag:	Wanted tag.
 * @uinfo:	Where the message info goes, or NULL.
 * @info_size:	The size of *@uinfo: zero-filled beyond the kernel's.
 * @info:	Scratch for the info.
 */
struct ipcbox_rx {
	void __user *buf;
	u32 size;
	u32 flags;
	struct ipcbox_deadline dl;
	pid_t filter_pid;
	u64 filter_tag;
	struct ipcbox_msg_info __user *uinfo;
	u32 info_size;
	struct ipcbox_msg_info info;
};

/* Module parameters (main.c); read with READ_ONCE, writable by root. */
extern unsigned int ipcbox_max_mailboxes;
extern unsigned int ipcbox_max_per_user;
extern unsigned int ipcbox_max_msg_size;
extern unsigned int ipcbox_default_msg_size;
extern unsigned int ipcbox_max_capacity;
extern unsigned long ipcbox_max_unbounded_bytes;

/* quota.c */
struct ipcbox_quota *ipcbox_quota_charge(void);
void ipcbox_quota_uncharge(struct ipcbox_quota *quota);
unsigned int ipcbox_quota_mailboxes(void);

/*
 * Small user copies: a payload of at most IPCBOX_SMALL_COPY_MAX bytes,
 * or a struct of a constant size, is copied eight bytes at a time with
 * user access opened once (unsafe_get_user() and unsafe_copy_to_user(),
 * as filldir() does), inline. copy_{from,to}_user() would call out to a
 * string copy, and for a size known only at run time run hardened
 * usercopy's object check, which costs more than such a copy. The
 * kernel side is a struct or the payload of a message object, which
 * ipcbox_msg_alloc() sized for it, eight-byte aligned. User copy fault
 * injection applies as to copy_{from,to}_user().
 */
#define IPCBOX_SMALL_COPY_MAX	256

/*
 * Four words per round, then one at a time: a loop per word spent more
 * on its own bookkeeping than on the copy.
 */
static __always_inline bool ipcbox_small_from_user(void *dst,
						   const void __user *src,
						   size_t len)
{
	const u64 __user *s = src;
	size_t i, words = len / sizeof(u64);
	u64 *d = dst, v0, v1, v2, v3;
	u8 *b, c;

	if (!user_read_access_begin(src, len))
		return false;
	for (i = 0; i + 4 <= words; i += 4) {
		unsafe_get_user(v0, s + i, fault);
		unsafe_get_user(v1, s + i + 1, fault);
		unsafe_get_user(v2, s + i + 2, fault);
		unsafe_get_user(v3, s + i + 3, fault);
		d[i] = v0;
		d[i + 1] = v1;
		d[i + 2] = v2;
		d[i + 3] = v3;
	}
	for (; i < words; i++) {
		unsafe_get_user(v0, s + i, fault);
		d[i] = v0;
	}
	src += words * sizeof(u64);
	for (b = (u8 *)(d + words), len %= sizeof(u64); len; len--, src++) {
		unsafe_get_user(c, (const u8 __user *)src, fault);
		*b++ = c;
	}
	user_read_access_end();
	return true;
fault:
	user_read_access_end();
	return false;
}

static __always_inline bool ipcbox_small_to_user(void __user *dst,
						 const void *src, size_t len)
{
	size_t i, words = len / sizeof(u64);
	u64 __user *d = dst;
	const u64 *s = src;
	const u8 *b;

	if (!user_write_access_begin(dst, len))
		return false;
	for (i = 0; i + 4 <= words; i += 4) {
		unsafe_put_user(s[i], d + i, fault);
		unsafe_put_user(s[i + 1], d + i + 1, fault);
		unsafe_put_user(s[i + 2], d + i + 2, fault);
		unsafe_put_user(s[i + 3], d + i + 3, fault);
	}
	for (; i < words; i++)
		unsafe_put_user(s[i], d + i, fault);
	dst += words * sizeof(u64);
	for (b = (const u8 *)(s + words), len %= sizeof(u64); len; len--, dst++)
		unsafe_put_user(*b++, (u8 __user *)dst, fault);
	user_write_access_end();
	return true;
fault:
	user_write_access_end();
	return false;
}

/* copy_from_user(), small copies inline: 0, or -EFAULT. */
static __always_inline int ipcbox_copy_from_user(void *dst,
						 const void __user *src,
						 size_t len)
{
	if (len > IPCBOX_SMALL_COPY_MAX)
		return copy_from_user(dst, src, len) ? -EFAULT : 0;
	if (should_fail_usercopy() || !ipcbox_small_from_user(dst, src, len))
		return -EFAULT;
	return 0;
}

/* copy_to_user(), small copies inline: 0, or -EFAULT. */
static __always_inline int ipcbox_copy_to_user(void __user *dst,
					       const void *src, size_t len)
{
	if (len > IPCBOX_SMALL_COPY_MAX)
		return copy_to_user(dst, src, len) ? -EFAULT : 0;
	if (should_fail_usercopy() || !ipcbox_small_to_user(dst, src, len))
		return -EFAULT;
	return 0;
}

/* copy_to_user_nofault(), small copies inline: 0, or -EFAULT. */
static __always_inline int ipcbox_copy_to_user_nofault(void __user *dst,
						       const void *src,
						       size_t len)
{
	bool ok;

	if (len > IPCBOX_SMALL_COPY_MAX)
		return copy_to_user_nofault(dst, src, len);
	pagefault_disable();
	ok = ipcbox_small_to_user(dst, src, len);
	pagefault_enable();
	return ok ? 0 : -EFAULT;
}

/* msg.c */
int ipcbox_copy_out_sized(void __user *uarg, size_t usize, const void *k,
			  size_t ksize);

/*
 * Copy a struct out in the caller's size @usize: truncated, or with what
 * the caller has beyond ours zero-filled. Return 0 or -EFAULT. In the
 * kernel's own size (the common case) it is a copy of a size the compiler
 * sees, which needs no run-time object check.
 */
static __always_inline int ipcbox_copy_out(void __user *uarg, size_t usize,
					   const void *k, size_t ksize)
{
	if (usize == ksize)
		return ipcbox_copy_to_user(uarg, k, ksize);
	return ipcbox_copy_out_sized(uarg, usize, k, ksize);
}

int ipcbox_msg_init(void);
void ipcbox_msg_exit(void);
struct ipcbox_msg *ipcbox_msg_alloc(struct ipcbox_mailbox *mb,
				    const void __user *buf, size_t len,
				    bool ext);
void ipcbox_msg_free(struct ipcbox_mailbox *mb, struct ipcbox_msg *msg);
void ipcbox_msg_destroy(struct ipcbox_msg *msg);
void ipcbox_spares_free(struct ipcbox_mailbox *mb);
struct ipcbox_call_ctx *ipcbox_call_alloc(struct ipcbox_mailbox *mb,
					  u32 reply_size);
void ipcbox_call_put(struct ipcbox_call_ctx *call);
void ipcbox_call_put_spare(struct ipcbox_mailbox *mb,
			   struct ipcbox_call_ctx *call);

static inline struct ipcbox_msg_ext *ipcbox_msg_ext(const struct ipcbox_msg *msg)
{
	if (!(msg->flags & IPCBOX_MSG_EXT))
		return NULL;
	return (struct ipcbox_msg_ext *)(msg->data + ALIGN(msg->len, 8));
}

/* mailbox.c */
int ipcbox_mailbox_init(void);
void ipcbox_mailbox_exit(void);
struct ipcbox_mailbox *ipcbox_mailbox_alloc(u32 capacity, u32 msg_size_max);
void ipcbox_mailbox_put(struct ipcbox_mailbox *mb);
static inline void ipcbox_mailbox_get(struct ipcbox_mailbox *mb)
{
	kref_get(&mb->ref);
}

/*
 * A task that finds the lock taken says so in @contending while it waits:
 * spin_is_contended() cannot tell on every kernel (a guest without
 * paravirt spinlocks takes them with a test-and-set loop that leaves no
 * trace in the lock word), and ipcbox_scan() must know.
 */
static inline void ipcbox_lock(struct ipcbox_mailbox *mb)
	__acquires(&mb->lock)
{
	if (likely(spin_trylock(&mb->lock)))
		return;
	atomic_inc(&mb->contending);
	spin_lock(&mb->lock);
	atomic_dec(&mb->contending);
}

static inline void ipcbox_unlock(struct ipcbox_mailbox *mb)
	__releases(&mb->lock)
{
	spin_unlock(&mb->lock);
}

int ipcbox_deadline_init(struct ipcbox_deadline *dl, s64 timeout,
			 bool abstime, bool nonblock);
bool ipcbox_expired(const struct ipcbox_deadline *dl);
int ipcbox_interrupted(const struct ipcbox_deadline *dl);
void ipcbox_sleep(struct ipcbox_mailbox *mb, const struct ipcbox_deadline *dl,
		  __poll_t *ev)
	__must_hold(&mb->lock);
void ipcbox_notify(struct ipcbox_mailbox *mb, __poll_t ev);
void ipcbox_fill_info(const struct ipcbox_msg *msg,
		      struct ipcbox_msg_info *info, bool peek);
void ipcbox_call_bind(struct ipcbox_mailbox *mb, struct ipcbox_call_ctx *call,
		      struct ipcbox_file *f)
	__must_hold(&mb->lock);
void ipcbox_call_end(struct ipcbox_mailbox *mb, struct ipcbox_call_ctx *call,
		     enum ipcbox_call_state state)
	__must_hold(&mb->lock);
void ipcbox_call_abandon(struct ipcbox_mailbox *mb, struct ipcbox_call_ctx *call)
	__must_hold(&mb->lock);
void ipcbox_call_drop(struct ipcbox_mailbox *mb, struct ipcbox_call_ctx *call)
	__must_hold(&mb->lock);

long ipcbox_mailbox_send(struct ipcbox_file *f, struct ipcbox_tx *tx);
long ipcbox_mailbox_receive(struct ipcbox_file *f, struct ipcbox_rx *rx);
void ipcbox_mailbox_shutdown(struct ipcbox_mailbox *mb);
void ipcbox_mailbox_stat(struct ipcbox_mailbox *mb, struct ipcbox_stat *st);
__poll_t ipcbox_mailbox_poll(struct ipcbox_file *f, fmode_t fmode);
void ipcbox_mailbox_release_file(struct ipcbox_file *f);

/* call.c */
struct ipcbox_call_args {
	const void __user *buf;
	u32 len;
	u32 prio;
	u64 tag;
	struct ipcbox_deadline dl;
	void __user *reply_buf;
	u32 reply_size;
	struct ipcbox_msg_info __user *uinfo;
	u32 info_size;
};

long ipcbox_call_request(struct ipcbox_file *f, struct ipcbox_call_args *a);
long ipcbox_call_answer(struct ipcbox_file *f, u64 token,
			const void __user *buf, u32 len);

/* registry.c */
bool ipcbox_owner_or_capable(const struct ipcbox_mailbox *mb);
int ipcbox_name_check(const char *name);
struct ipcbox_mailbox *ipcbox_lookup_minor(int minor);
int ipcbox_registry_add(struct ipcbox_mailbox *mb);
int ipcbox_registry_unlink(const char *name);
int ipcbox_registry_init(const struct file_operations *fops);
void ipcbox_registry_exit(void);

/* control.c */
int ipcbox_control_init(void);
void ipcbox_control_exit(void);

/* main.c */
unsigned int ipcbox_msg_size_limit(void);
unsigned int ipcbox_default_size(void);

/* file.c */

/* The largest struct an ioctl reads in (CREATE, REPLY_RECV). */
#define IPCBOX_IOCTL_ARG_MAX	80

/**
 * struct ipcbox_ioctl - one entry of an ioctl table
 * @cmd:	The ioctl number, at the struct's current size; 0 ends a table.
 * @ver0:	The struct's first published size, or 0 for no struct.
 * @fmode:	FMODE_READ or FMODE_WRITE the fd must have (EBADF), or 0.
 * @fn:		Handler, given the struct read in (when @cmd has
 *		_IOC_WRITE), the caller's pointer and size.
 */
struct ipcbox_ioctl {
	unsigned int cmd;
	size_t ver0;
	fmode_t fmode;
	long (*fn)(struct file *file, void *karg, void __user *uarg,
		   size_t usize);
};

long ipcbox_ioctl_dispatch(const struct ipcbox_ioctl *tbl, struct file *file,
			   unsigned int cmd, unsigned long arg);
extern const struct file_operations ipcbox_mailbox_fops;
struct file *ipcbox_file_create(struct ipcbox_mailbox *mb, unsigned int flags);

/* sysfs.c */
extern const struct attribute_group *ipcbox_mailbox_groups[];

#endif /* _IPCBOX_INTERNAL_H */
