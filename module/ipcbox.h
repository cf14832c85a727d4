/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ipcbox internal interfaces.
 *
 * Locking overview
 * ================
 *
 * There are two locks, always taken in this order:
 *
 * 1) ipcbox_mutex (main.c): the registry. Protects the list of named
 *    mailboxes, the minor number idr, the mailbox counters (global and per
 *    user), and @name/@unlinked/@dev of every mailbox. Held across device
 *    creation and removal so a name is never visible half made.
 *
 * 2) ipcbox_mailbox.waitq.lock, called "the mailbox lock" (mailbox.c). The
 *    lock of the mailbox's wait queue doubles as the lock of the whole
 *    mailbox state, as eventfd does: queue and pending lists, counters,
 *    waiters, the @shutdown flag and every fd's CACHE slot. It is a
 *    spinlock and is held only for list and counter updates: user copies
 *    and allocations happen outside it. Wakeups of blocked senders and
 *    receivers happen under it (__wake_up_locked_sync_key), so a waiter
 *    that re-takes the lock after waking always sees the final state of
 *    its own request.
 *
 * @pollq has its own lock, taken only by poll/epoll and the wakeups after
 * the mailbox lock is dropped.
 *
 * Lifetime: a mailbox is reference counted (@ref). The registry holds one
 * reference while the mailbox has a name; every open file holds one. The
 * last put frees the queued messages and returns the per-user count.
 * A named mailbox also holds a module reference until it is unlinked, so
 * rmmod fails (EWOULDBLOCK) while any name exists; open files pin the module
 * through their file_operations.
 */
#ifndef _IPCBOX_INTERNAL_H
#define _IPCBOX_INTERNAL_H

#include <linux/device.h>
#include <linux/fs.h>
#include <linux/bits.h>
#include <linux/ioctl.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/pid.h>
#include <linux/refcount.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/wait.h>

#include <linux/ipcbox.h>

struct ipcbox_user;
struct ipcbox_waiter;
struct ipcbox_file;
struct ipcbox_call_ctx;

/* struct ipcbox_msg flags. */
#define IPCBOX_MSG_PENDING	BIT(0)	/* in @pending rather than @queue */
#define IPCBOX_MSG_WAITED	BIT(1)	/* a blocked sender waits on it */
#define IPCBOX_MSG_EXT		BIT(2)	/* struct ipcbox_msg_ext follows */
#define IPCBOX_MSG_ORPHAN	BIT(3)	/* off every list: the last holder frees it */

/**
 * struct ipcbox_msg - one message, from the sender's copy to the receiver's
 * @node:	In @queue or @pending of its mailbox (mailbox lock).
 * @seq:	Sequence number, assigned when the mailbox accepts the send.
 * @tag:	Sender's tag.
 * @timestamp:	CLOCK_MONOTONIC ns at acceptance.
 * @tgid:	Sender's process, referenced; translated at receive time.
 * @uid:	Sender's effective uid.
 * @gid:	Sender's effective gid.
 * @len:	Payload length.
 * @prio:	Priority, 0 .. IPCBOX_PRIO_MAX - 1.
 * @flags:	IPCBOX_MSG_* (mailbox lock once the mailbox has the message).
 * @holders:	Tasks copying the message outside the mailbox lock: PEEKs,
 *		and a receiver that took it while it was being peeked
 *		(mailbox lock). A message with holders is not freed by whoever
 *		takes it off its list: that one marks it IPCBOX_MSG_ORPHAN and
 *		the last holder frees it.
 * @data:	Payload; with IPCBOX_MSG_EXT, struct ipcbox_msg_ext follows at
 *		the next 8-byte boundary.
 *
 * The header is 64 bytes, so that header and payload of a message up to
 * 64 bytes fill one 128-byte kmalloc object. What few messages need (the
 * sending thread when it is not its process's main thread, CACHE and
 * CALL state) lives in the extension, and a blocked sender's waiter is
 * found on the wait queue (IPCBOX_MSG_WAITED) rather than pointed to.
 */
struct ipcbox_msg {
	struct list_head node;
	u64 seq;
	u64 tag;
	u64 timestamp;
	struct pid *tgid;
	kuid_t uid;
	kgid_t gid;
	u32 len;
	u8 prio;
	u8 flags;
	u16 holders;
	char data[];
};

/**
 * struct ipcbox_msg_ext - what only some messages need
 * @tid:	Sender's thread, referenced, when it is not the process's
 *		main thread (else @tgid is the thread too), or NULL.
 * @cache_owner: The fd whose CACHE slot this message occupies, or NULL
 *		(mailbox lock).
 * @call:	For a CALL request: the caller's context, else NULL.
 * @token:	For a CALL request: the token a REPLY must quote, else 0.
 */
struct ipcbox_msg_ext {
	struct pid *tid;
	struct ipcbox_file *cache_owner;
	struct ipcbox_call_ctx *call;
	u64 token;
};

/**
 * struct ipcbox_mailbox - a mailbox, named or anonymous
 * @ref:	References: registry (while named) and open files.
 * @waitq:	Blocked senders and receivers; its lock is the mailbox lock.
 * @queue:	Accepted messages, highest priority first, then by @seq.
 * @pending:	Messages that wait for room in a bounded queue, FIFO: those
 *		of blocked senders and those parked by CACHE sends.
 * @calls:	CALL requests received and not answered yet.
 * @pollq:	poll/epoll/select waiters.
 * @fasync:	SIGIO subscribers.
 * @capacity:	0, 1..max_capacity or IPCBOX_CAPACITY_UNBOUNDED. Constant.
 * @msg_size_max: Largest payload. Constant.
 * @depth:	Messages in @queue.
 * @bytes:	Payload bytes in @queue.
 * @nr_pending:	Messages in @pending.
 * @nr_cached:	Messages parked by CACHE sends and not yet received.
 * @waiting_senders: Tasks blocked in a send.
 * @waiting_receivers: Tasks blocked in a receive (PEEK included).
 * @takers:	Blocked receivers that would take a handed-off message.
 * @shutdown:	No more sends.
 * @next_seq:	Sequence number of the next accepted message.
 * @sent:	Successful sends.
 * @received:	Messages taken by receivers.
 * @timeouts:	Sends and receives that ended with ETIMEDOUT.
 * @uid:	Owner (creator's fsuid). Constant.
 * @gid:	Group (creator's fsgid). Constant.
 * @mode:	Permission bits of the node. Constant.
 * @user_ns:	Creator's user namespace, referenced, for CAP_IPC_OWNER.
 * @user:	Per-user accounting entry (ipcbox_mutex).
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
	wait_queue_head_t waitq;
	struct list_head queue;
	struct list_head pending;
	struct list_head calls;
	wait_queue_head_t pollq;
	struct fasync_struct *fasync;
	u32 capacity;
	u32 msg_size_max;
	u32 depth;
	u32 nr_pending;
	u64 bytes;
	u32 nr_cached;
	u32 waiting_senders;
	u32 waiting_receivers;
	u32 takers;
	bool shutdown;
	u64 next_seq;
	u64 sent;
	u64 received;
	u64 timeouts;
	kuid_t uid;
	kgid_t gid;
	umode_t mode;
	struct user_namespace *user_ns;
	struct ipcbox_user *user;
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
 */
struct ipcbox_file {
	struct ipcbox_mailbox *mb;
	struct ipcbox_msg *cached;
};

/* Module parameters (main.c); read with READ_ONCE, writable by root. */
extern unsigned int ipcbox_max_mailboxes;
extern unsigned int ipcbox_max_per_user;
extern unsigned int ipcbox_max_msg_size;
extern unsigned int ipcbox_default_msg_size;
extern unsigned int ipcbox_max_capacity;
extern unsigned long ipcbox_max_unbounded_bytes;

/**
 * struct ipcbox_ioctl - one entry of an ioctl table
 * @cmd:	The ioctl number, at the struct's current size.
 * @ver0:	The struct's first published size, or 0 for no struct.
 * @fn:		Handler, given the caller's struct size.
 */
struct ipcbox_ioctl {
	unsigned int cmd;
	size_t ver0;
	long (*fn)(struct file *file, void __user *uarg, size_t usize);
};

/* main.c */
long ipcbox_ioctl_dispatch(const struct ipcbox_ioctl *tbl, size_t n,
			   struct file *file, unsigned int cmd,
			   unsigned long arg);
int ipcbox_copy_out(void __user *uarg, size_t usize, const void *k,
		    size_t ksize);
void ipcbox_registry_release(struct ipcbox_mailbox *mb);
bool ipcbox_owner_or_capable(const struct ipcbox_mailbox *mb);
struct ipcbox_mailbox *ipcbox_lookup_minor(int minor);

/* mailbox.c */
int ipcbox_mailbox_init(void);
void ipcbox_mailbox_exit(void);
struct ipcbox_mailbox *ipcbox_mailbox_alloc(u32 capacity, u32 msg_size_max);
void ipcbox_mailbox_put(struct ipcbox_mailbox *mb);
static inline void ipcbox_mailbox_get(struct ipcbox_mailbox *mb)
{
	kref_get(&mb->ref);
}

long ipcbox_send(struct ipcbox_file *f, const void __user *buf, size_t len,
		 const struct ipcbox_send *args, u64 *seq);
long ipcbox_recv(struct ipcbox_file *f, void __user *buf, size_t size,
		 const struct ipcbox_recv *args,
		 struct ipcbox_msg_info __user *uinfo);
long ipcbox_call(struct ipcbox_file *f, const struct ipcbox_call *args,
		 struct ipcbox_msg_info __user *uinfo);
long ipcbox_reply(struct ipcbox_file *f, const struct ipcbox_reply *args);
void ipcbox_shutdown(struct ipcbox_mailbox *mb);
void ipcbox_stat(struct ipcbox_mailbox *mb, struct ipcbox_stat *st);
__poll_t ipcbox_poll_mask(struct ipcbox_file *f, fmode_t fmode);
void ipcbox_file_release(struct ipcbox_file *f);

/* file.c */
extern const struct file_operations ipcbox_mailbox_fops;
struct file *ipcbox_file_create(struct ipcbox_mailbox *mb, unsigned int flags);

/* sysfs.c */
extern const struct attribute_group *ipcbox_mailbox_groups[];

#endif /* _IPCBOX_INTERNAL_H */
