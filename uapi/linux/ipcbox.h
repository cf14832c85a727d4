/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ipcbox: kernel-mediated mailboxes, rendezvous and message queues.
 *
 * This header is the whole ABI between ipcbox.ko and user space.
 *
 * Every ioctl argument is a flat struct of fixed-width fields; pointers
 * travel as __u64, and where a call has more to say (the info of a
 * received message, the entries of a batch) it points to a separately
 * sized struct, as clone3(2) and openat2(2) do: no versioned struct is
 * ever inside another, so each can grow by appending.
 *
 * Structs are versioned by size. The size of an ioctl's struct is in its
 * number (_IOC_SIZE); a pointed-to struct's size is in the field beside
 * the pointer. The kernel accepts any size from the first published one
 * (IPCBOX_*_SIZE_VER0) up to one page (EINVAL otherwise). Input bytes the
 * kernel does not know must be zero (E2BIG otherwise), fields named
 * __reserved* must be zero (EINVAL otherwise), and output is truncated or
 * zero-filled to the caller's size. New fields are only ever appended.
 */
#ifndef _UAPI_LINUX_IPCBOX_H
#define _UAPI_LINUX_IPCBOX_H

#include <linux/const.h>
#include <linux/ioctl.h>
#include <linux/types.h>

#define IPCBOX_ABI_VERSION	2

/* Directory of the device nodes and the control node inside it. */
#define IPCBOX_DEV_DIR		"/dev/ipcbox"
#define IPCBOX_CONTROL_PATH	"/dev/ipcbox/control"

/* Room for a mailbox name and its terminating NUL: names are 1-63 bytes. */
#define IPCBOX_NAME_MAX		64

/* Capacity value of an unbounded queue (capped in bytes, never waits). */
#define IPCBOX_CAPACITY_UNBOUNDED	0xffffffffU

/* Priorities are 0 (lowest) .. IPCBOX_PRIO_MAX - 1; higher is received first. */
#define IPCBOX_PRIO_MAX		32

/* Timeouts in nanoseconds. */
#define IPCBOX_TIMEOUT_INFINITE	(-1LL)
#define IPCBOX_TIMEOUT_NONE	0LL

/* Feature bits reported by IPCBOX_IOC_INFO. */
#define IPCBOX_FEAT_NAMED	_BITULL(0)	/* /dev/ipcbox/NAME mailboxes */
#define IPCBOX_FEAT_ANON	_BITULL(1)	/* anonymous (fd-only) mailboxes */
#define IPCBOX_FEAT_RENDEZVOUS	_BITULL(2)	/* capacity 0 */
#define IPCBOX_FEAT_UNBOUNDED	_BITULL(3)	/* IPCBOX_CAPACITY_UNBOUNDED */
#define IPCBOX_FEAT_SYNC	_BITULL(4)	/* IPCBOX_SEND_SYNC */
#define IPCBOX_FEAT_CACHE	_BITULL(5)	/* IPCBOX_SEND_CACHE */
#define IPCBOX_FEAT_FILTER	_BITULL(6)	/* RECV filters on pid and tag */
#define IPCBOX_FEAT_PEEK	_BITULL(7)	/* IPCBOX_RECV_PEEK */
#define IPCBOX_FEAT_SHUTDOWN	_BITULL(8)	/* IPCBOX_IOC_SHUTDOWN */
#define IPCBOX_FEAT_FASYNC	_BITULL(9)	/* O_ASYNC / F_SETOWN (SIGIO) */
#define IPCBOX_FEAT_CALL	_BITULL(10)	/* CALL, REPLY, REPLY_RECV */
#define IPCBOX_FEAT_BATCH	_BITULL(11)	/* SENDV, RECVV */

/**
 * struct ipcbox_info - what the loaded module offers (IPCBOX_IOC_INFO)
 * @abi_version:	IPCBOX_ABI_VERSION of the module.
 * @nr_priorities:	Number of priority levels (IPCBOX_PRIO_MAX).
 * @features:		IPCBOX_FEAT_* bits.
 * @max_mailboxes:	Limit on mailboxes in existence (ENOSPC past it).
 * @max_per_user:	Limit on mailboxes of one user (EDQUOT).
 * @max_msg_size:	Largest message size a mailbox may be created with.
 * @max_capacity:	Largest bounded capacity.
 * @max_unbounded_bytes: What an unbounded queue may hold, counting each
 *			message's payload plus 64 bytes (ENOBUFS past it).
 * @nr_mailboxes:	Mailboxes in existence now.
 * @default_msg_size:	Message size used when CREATE passes 0.
 */
struct ipcbox_info {
	__u32 abi_version;
	__u32 nr_priorities;
	__u64 features;
	__u32 max_mailboxes;
	__u32 max_per_user;
	__u32 max_msg_size;
	__u32 max_capacity;
	__u64 max_unbounded_bytes;
	__u32 nr_mailboxes;
	__u32 default_msg_size;
};

#define IPCBOX_INFO_SIZE_VER0	48

/* CREATE flags. */
#define IPCBOX_CREATE_CLOEXEC	_BITUL(0)	/* FD_CLOEXEC on the new fd */
#define IPCBOX_CREATE_NONBLOCK	_BITUL(1)	/* O_NONBLOCK on the new fd */
#define IPCBOX_CREATE_FLAGS	(IPCBOX_CREATE_CLOEXEC | IPCBOX_CREATE_NONBLOCK)

/**
 * struct ipcbox_create - make a mailbox (IPCBOX_IOC_CREATE on the control fd)
 * @name:	NUL-terminated name, the rest zero; empty (all zero) for an
 *		anonymous mailbox. 1-63 ASCII bytes of [A-Za-z0-9._-], not
 *		starting with '.', not "control".
 * @capacity:	0 (rendezvous), 1..max_capacity, or IPCBOX_CAPACITY_UNBOUNDED.
 * @msg_size_max: Largest message; 0 picks the module default.
 * @mode:	Permission bits (at most 0666) of /dev/ipcbox/NAME, masked by
 *		the caller's umask. Ignored for anonymous mailboxes.
 * @flags:	IPCBOX_CREATE_*.
 *
 * The ioctl returns a new read-write file descriptor for the mailbox.
 */
struct ipcbox_create {
	char name[IPCBOX_NAME_MAX];
	__u32 capacity;
	__u32 msg_size_max;
	__u32 mode;
	__u32 flags;
};

#define IPCBOX_CREATE_SIZE_VER0	80

/**
 * struct ipcbox_unlink - remove a mailbox name (IPCBOX_IOC_UNLINK)
 * @name:	NUL-terminated name, the rest zero.
 */
struct ipcbox_unlink {
	char name[IPCBOX_NAME_MAX];
};

#define IPCBOX_UNLINK_SIZE_VER0	64

/*
 * Flags of SEND, RECV and CALL (and of their batch entries): one bit per
 * meaning across all of them. Bits 0-7 mean the same wherever they are
 * allowed, bits 8-15 are for sends only, bits 16-23 for receives only.
 *
 * O_NONBLOCK on the fd makes every send and receive on it non-blocking,
 * whatever the timeout. CACHE and SYNC exclude each other (EINVAL). On a
 * rendezvous mailbox a CACHE send parks the message where receivers see
 * it at once; on a bounded one it enters the queue when room appears.
 * Either way the fd's slot is free again (POLLOUT) once the message left
 * it, and a message parked by an fd that is then closed is still
 * delivered; while max(capacity, 1) of those wait, CACHE sends fail with
 * EAGAIN.
 */
#define IPCBOX_NONBLOCK		_BITUL(0)	/* never wait: same as timeout 0 */
#define IPCBOX_ABSTIME		_BITUL(1)	/* timeout_ns is a CLOCK_MONOTONIC time */
#define IPCBOX_SEND_SYNC	_BITUL(8)	/* return once a receiver took it */
#define IPCBOX_SEND_CACHE	_BITUL(9)	/* when full, park in the fd's slot */
#define IPCBOX_RECV_PEEK	_BITUL(16)	/* copy the message, leave it queued */
#define IPCBOX_RECV_FILTER_PID	_BITUL(17)	/* only messages from filter_pid */
#define IPCBOX_RECV_FILTER_TAG	_BITUL(18)	/* only messages tagged filter_tag */

#define IPCBOX_SEND_FLAGS	(IPCBOX_NONBLOCK | IPCBOX_ABSTIME | \
				 IPCBOX_SEND_SYNC | IPCBOX_SEND_CACHE)
#define IPCBOX_RECV_FLAGS	(IPCBOX_NONBLOCK | IPCBOX_ABSTIME | \
				 IPCBOX_RECV_PEEK | IPCBOX_RECV_FILTER_PID | \
				 IPCBOX_RECV_FILTER_TAG)
#define IPCBOX_CALL_FLAGS	IPCBOX_ABSTIME

/**
 * struct ipcbox_send - send one message (IPCBOX_IOC_SEND; a SENDV entry)
 * @buf:	Pointer to the payload.
 * @len:	Payload length, 0..msg_size_max.
 * @flags:	IPCBOX_SEND_FLAGS.
 * @timeout_ns:	-1 waits forever, 0 tries once, > 0 waits at most that
 *		long (CLOCK_MONOTONIC; with IPCBOX_ABSTIME an absolute time
 *		of the caller's time namespace).
 * @tag:	Opaque value delivered with the message; RECV can filter on it.
 * @priority:	0..IPCBOX_PRIO_MAX - 1.
 * @__reserved0: Zero.
 * @seq:	Out: the message's sequence number in this mailbox.
 */
struct ipcbox_send {
	__u64 buf;
	__u32 len;
	__u32 flags;
	__s64 timeout_ns;
	__u64 tag;
	__u32 priority;
	__u32 __reserved0;
	__u64 seq;
};

#define IPCBOX_SEND_SIZE_VER0	48

/**
 * struct ipcbox_msg_info - what a receiver learns about a message
 * @seq:	Sequence number, unique and increasing per mailbox.
 * @tag:	The sender's tag.
 * @timestamp_ns: CLOCK_MONOTONIC time (of the receiver's time namespace)
 *		the mailbox accepted the message; grows with @seq.
 * @len:	Payload length (also set when RECV fails with EMSGSIZE).
 * @priority:	The sender's priority.
 * @sender_tgid: Sender's process id in the receiver's pid namespace,
 *		0 when the sender is not visible there.
 * @sender_tid:	Sender's thread id, likewise.
 * @sender_uid:	Sender's effective uid in the receiver's user namespace
 *		(the overflow uid when unmapped).
 * @sender_gid:	Sender's effective gid, likewise.
 * @token:	Non-zero when the message is a request made with
 *		IPCBOX_IOC_CALL: answer it with IPCBOX_IOC_REPLY on the fd
 *		that received it. Zero otherwise and for PEEK.
 *
 * Output only, written where RECV's @info (or CALL's @reply_info) points,
 * in the size the caller gives.
 */
struct ipcbox_msg_info {
	__u64 seq;
	__u64 tag;
	__u64 timestamp_ns;
	__u32 len;
	__u32 priority;
	__s32 sender_tgid;
	__s32 sender_tid;
	__u32 sender_uid;
	__u32 sender_gid;
	__u64 token;
};

#define IPCBOX_MSG_INFO_SIZE_VER0	56

/**
 * struct ipcbox_recv - receive one message (IPCBOX_IOC_RECV; a RECVV entry)
 * @buf:	Pointer to the buffer.
 * @size:	Buffer size; a larger message fails with EMSGSIZE and stays.
 * @flags:	IPCBOX_RECV_FLAGS.
 * @timeout_ns:	As in struct ipcbox_send.
 * @filter_tag:	With IPCBOX_RECV_FILTER_TAG: the tag to match.
 * @filter_pid:	With IPCBOX_RECV_FILTER_PID: sender process id (receiver's
 *		namespace), > 0.
 * @info_size:	Size of the struct @info points to: 0 with @info 0, else
 *		at least IPCBOX_MSG_INFO_SIZE_VER0.
 * @info:	Pointer to a struct ipcbox_msg_info to fill, or 0.
 *
 * The ioctl returns the message length.
 */
struct ipcbox_recv {
	__u64 buf;
	__u32 size;
	__u32 flags;
	__s64 timeout_ns;
	__u64 filter_tag;
	__s32 filter_pid;
	__u32 info_size;
	__u64 info;
};

#define IPCBOX_RECV_SIZE_VER0	48

/* STAT flags. */
#define IPCBOX_STAT_NAMED	_BITUL(0)	/* created with a name */
#define IPCBOX_STAT_UNLINKED	_BITUL(1)	/* name removed, fds still open */
#define IPCBOX_STAT_SHUTDOWN	_BITUL(2)	/* no more sends */

/**
 * struct ipcbox_stat - a mailbox's settings and live counters (IPCBOX_IOC_STAT)
 * @capacity:	As created.
 * @msg_size_max: As created (after the default was applied).
 * @mode:	Permission bits.
 * @flags:	IPCBOX_STAT_*.
 * @uid:	Owner, in the caller's user namespace.
 * @gid:	Group, in the caller's user namespace.
 * @depth:	Messages queued now.
 * @cached:	Messages parked by CACHE sends and not received yet, also
 *		after the fd that parked them was closed.
 * @bytes:	Payload bytes queued now.
 * @charge:	What counts against max_unbounded_bytes: the queued payload
 *		plus 64 bytes per queued message.
 * @waiting_senders: Tasks blocked in a send (a CALL until its request is
 *		received).
 * @waiting_receivers: Tasks blocked in a receive.
 * @pending:	Messages of blocked senders waiting for room.
 * @calls:	CALL requests received and not answered.
 * @abandoned:	Received CALL requests whose caller gave up, kept so that
 *		a REPLY gets ECANCELED (at most 256; older ones are dropped).
 * @__reserved0: Zero.
 * @sent:	Messages accepted since creation.
 * @received:	Messages taken by receivers since creation.
 * @timeouts:	Sends and receives that timed out.
 * @name:	The name, empty for an anonymous mailbox.
 */
struct ipcbox_stat {
	__u32 capacity;
	__u32 msg_size_max;
	__u32 mode;
	__u32 flags;
	__u32 uid;
	__u32 gid;
	__u32 depth;
	__u32 cached;
	__u64 bytes;
	__u64 charge;
	__u32 waiting_senders;
	__u32 waiting_receivers;
	__u32 pending;
	__u32 calls;
	__u32 abandoned;
	__u32 __reserved0;
	__u64 sent;
	__u64 received;
	__u64 timeouts;
	char name[IPCBOX_NAME_MAX];
};

#define IPCBOX_STAT_SIZE_VER0	160

/**
 * struct ipcbox_call - send a request and wait for its reply (IPCBOX_IOC_CALL)
 * @buf:	Request payload.
 * @len:	Its length, 0..msg_size_max.
 * @flags:	IPCBOX_CALL_FLAGS.
 * @timeout_ns:	-1 or > 0, covering both the send and the wait for the
 *		reply (a CALL always waits; O_NONBLOCK does not apply).
 * @tag:	Of the request.
 * @priority:	Of the request, 0..IPCBOX_PRIO_MAX - 1.
 * @reply_size:	Size of @reply_buf; a larger REPLY fails at the server with
 *		EMSGSIZE.
 * @reply_buf:	Buffer for the reply.
 * @reply_info:	Pointer to a struct ipcbox_msg_info about the reply (seq and
 *		tag are the request's, the sender is the replying task), or 0.
 * @reply_info_size: Its size: 0 with @reply_info 0, else at least
 *		IPCBOX_MSG_INFO_SIZE_VER0.
 * @__reserved0: Zero.
 *
 * The ioctl returns the reply's length. The request is received like any
 * message; its info carries a token for the reply. Errors of note:
 * ETIMEDOUT or EINTR (the request was withdrawn if nobody had received it,
 * else abandoned: a later REPLY to it fails with ECANCELED; once received,
 * an interrupted CALL is never restarted), EPIPE (the mailbox was shut
 * down before the reply), ECONNRESET (the fd that received the request
 * was closed, e.g. the server died, without a reply), EPROTO (read(2),
 * or a RECV with no info, took the request: it cannot reply).
 */
struct ipcbox_call {
	__u64 buf;
	__u32 len;
	__u32 flags;
	__s64 timeout_ns;
	__u64 tag;
	__u32 priority;
	__u32 reply_size;
	__u64 reply_buf;
	__u64 reply_info;
	__u32 reply_info_size;
	__u32 __reserved0;
};

#define IPCBOX_CALL_SIZE_VER0	64

/**
 * struct ipcbox_reply - answer a request (IPCBOX_IOC_REPLY)
 * @token:	From the request's struct ipcbox_msg_info.
 * @buf:	Reply payload.
 * @len:	Its length, at most the caller's reply_size.
 * @flags:	Zero.
 *
 * Only the fd that received the request can answer it, once. Errors:
 * ENOENT (no such request on this fd: a wrong, forged or used token),
 * ECANCELED (the caller gave up or died; the request is now gone),
 * EMSGSIZE (longer than the caller's buffer; the request stays open).
 */
struct ipcbox_reply {
	__u64 token;
	__u64 buf;
	__u32 len;
	__u32 flags;
};

#define IPCBOX_REPLY_SIZE_VER0	24

/**
 * struct ipcbox_reply_recv - reply, then receive the next message
 * @token:	As for IPCBOX_IOC_REPLY; 0 skips the reply. Cleared once the
 *		reply was made, so that a call restarted after a signal only
 *		receives.
 * @reply_buf:	The reply payload.
 * @reply_len:	Its length.
 * @reply_flags: Zero.
 * @buf:	The receive, as in struct ipcbox_recv: buffer,
 * @size:	its size,
 * @flags:	IPCBOX_RECV_FLAGS,
 * @timeout_ns:	timeout,
 * @filter_tag:	tag filter,
 * @filter_pid:	sender filter,
 * @info_size:	size of the info,
 * @info:	and where the info goes.
 * @reply_error: Out only: 0, or the negative errno the reply failed with
 *		(when one was made). The receive happens whatever it is.
 * @__reserved0: Zero.
 *
 * The ioctl returns what the receive returns.
 */
struct ipcbox_reply_recv {
	__u64 token;
	__u64 reply_buf;
	__u32 reply_len;
	__u32 reply_flags;
	__u64 buf;
	__u32 size;
	__u32 flags;
	__s64 timeout_ns;
	__u64 filter_tag;
	__s32 filter_pid;
	__u32 info_size;
	__u64 info;
	__s32 reply_error;
	__u32 __reserved0;
};

#define IPCBOX_REPLY_RECV_SIZE_VER0	80

/* Most messages one SENDV or RECVV moves. */
#define IPCBOX_BATCH_MAX	1024

/**
 * struct ipcbox_batch - many sends or receives in one call (SENDV, RECVV)
 * @msgs:	Array of @count entries, struct ipcbox_send (SENDV) or
 *		struct ipcbox_recv (RECVV), each @entry_size bytes and used
 *		as for SEND / RECV.
 * @count:	Entries, 1..IPCBOX_BATCH_MAX.
 * @entry_size:	Size of one entry: at least the entry struct's VER0 size,
 *		at most one page; the kernel steps by it, and bytes of an
 *		entry beyond what it knows must be zero (E2BIG).
 * @flags:	Zero.
 * @__reserved0: Zero.
 *
 * The ioctl returns how many entries were done, in order; it stops at the
 * first that fails and returns that error only if none was done, like
 * sendmmsg(2). For RECVV only the first receive waits (as its own flags
 * and timeout say); the rest take what is already there.
 */
struct ipcbox_batch {
	__u64 msgs;
	__u32 count;
	__u32 entry_size;
	__u32 flags;
	__u32 __reserved0;
};

#define IPCBOX_BATCH_SIZE_VER0	24

#define IPCBOX_IOC_MAGIC	0xb8

/*
 * On /dev/ipcbox/control. INFO keeps its number across ABI versions, so
 * that any program can ask which ABI a module speaks; the others were
 * renumbered for ABI 2, so that a program built for ABI 1 gets ENOTTY
 * rather than a misread struct.
 */
#define IPCBOX_IOC_INFO		_IOR(IPCBOX_IOC_MAGIC, 0x00, struct ipcbox_info)
#define IPCBOX_IOC_CREATE	_IOW(IPCBOX_IOC_MAGIC, 0x03, struct ipcbox_create)
#define IPCBOX_IOC_UNLINK	_IOW(IPCBOX_IOC_MAGIC, 0x04, struct ipcbox_unlink)

/* On a mailbox fd. */
#define IPCBOX_IOC_SEND		_IOWR(IPCBOX_IOC_MAGIC, 0x20, struct ipcbox_send)
#define IPCBOX_IOC_RECV		_IOW(IPCBOX_IOC_MAGIC, 0x21, struct ipcbox_recv)
#define IPCBOX_IOC_STAT		_IOR(IPCBOX_IOC_MAGIC, 0x22, struct ipcbox_stat)
#define IPCBOX_IOC_SHUTDOWN	_IO(IPCBOX_IOC_MAGIC, 0x23)
#define IPCBOX_IOC_CALL		_IOW(IPCBOX_IOC_MAGIC, 0x24, struct ipcbox_call)
#define IPCBOX_IOC_REPLY	_IOW(IPCBOX_IOC_MAGIC, 0x25, struct ipcbox_reply)
#define IPCBOX_IOC_REPLY_RECV	_IOWR(IPCBOX_IOC_MAGIC, 0x26, \
				      struct ipcbox_reply_recv)
#define IPCBOX_IOC_SENDV	_IOW(IPCBOX_IOC_MAGIC, 0x27, struct ipcbox_batch)
#define IPCBOX_IOC_RECVV	_IOW(IPCBOX_IOC_MAGIC, 0x28, struct ipcbox_batch)

#endif /* _UAPI_LINUX_IPCBOX_H */
