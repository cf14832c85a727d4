// SPDX-License-Identifier: GPL-2.0
/*
 * ipcbox data plane: the file operations of a mailbox fd, whether it came
 * from open(2) on /dev/ipcbox/NAME, from CREATE, or over fork or SCM_RIGHTS.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/indirect_call_wrapper.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "ipcbox.h"

/*
 * The caller's struct is the size the module knows (the usual case):
 * copied with a size the compiler sees, a small copy inline (see
 * ipcbox_copy_from_user()).
 */
static int ipcbox_arg_from_user(u64 *karg, size_t ksize,
				const void __user *uarg, size_t usize)
{
	if (usize != ksize)
		return copy_struct_from_user(karg, ksize, uarg, usize);
	switch (ksize) {
	case 24:
		return ipcbox_copy_from_user(karg, uarg, 24);
	case 48:
		return ipcbox_copy_from_user(karg, uarg, 48);
	case 64:
		return ipcbox_copy_from_user(karg, uarg, 64);
	case 80:
		return ipcbox_copy_from_user(karg, uarg, 80);
	default:
		return copy_struct_from_user(karg, ksize, uarg, usize);
	}
}

static long ipcbox_ioctl_send(struct file *file, void *karg,
			      void __user *uarg, size_t usize);
static long ipcbox_ioctl_recv(struct file *file, void *karg,
			      void __user *uarg, size_t usize);

/**
 * ipcbox_ioctl_dispatch() - run the handler of an ioctl from a table
 * @tbl:	The ioctls of one kind of file, ended by an empty entry.
 * @file:	The file.
 * @cmd:	The ioctl number.
 * @arg:	Its argument.
 *
 * The caller's struct size comes from the ioctl number: anything from the
 * first published size up to a page is accepted, so structs can grow. An
 * entry without a struct (@ver0 0) takes no size at all. A struct the
 * ioctl reads is copied in here, its unknown tail checked to be zero
 * (copy_struct_from_user()), before the access mode is checked; the
 * handler of an ioctl that reads none gets a NULL @karg.
 *
 * Return: the handler's result, -EINVAL for a size out of range, -EFAULT,
 * -E2BIG (a non-zero tail), -EBADF (the fd's access mode), or -ENOTTY for
 * an ioctl not in @tbl.
 */
long ipcbox_ioctl_dispatch(const struct ipcbox_ioctl *tbl, struct file *file,
			   unsigned int cmd, unsigned long arg)
{
	const unsigned int size_bits = _IOC_SIZEMASK << _IOC_SIZESHIFT;
	/* Filled by the copy in; a handler that gets none gets NULL. */
	u64 karg[IPCBOX_IOCTL_ARG_MAX / sizeof(u64)] __uninitialized;
	void __user *uarg = (void __user *)arg;
	size_t size = _IOC_SIZE(cmd);
	void *in = NULL;
	int ret;

	for (; tbl->cmd; tbl++)
		if ((cmd & ~size_bits) == (tbl->cmd & ~size_bits))
			break;
	if (!tbl->cmd)
		return -ENOTTY;
	if (tbl->ver0 ? size < tbl->ver0 || size > PAGE_SIZE : size)
		return -EINVAL;
	if (tbl->ver0 && (_IOC_DIR(tbl->cmd) & _IOC_WRITE)) {
		ret = ipcbox_arg_from_user(karg, _IOC_SIZE(tbl->cmd), uarg,
					   size);
		if (ret)
			return ret;
		in = karg;
	}
	if (tbl->fmode && !(file->f_mode & tbl->fmode))
		return -EBADF;
	/* SEND and RECV, the most frequent, by a direct call */
	return INDIRECT_CALL_2(tbl->fn, ipcbox_ioctl_send, ipcbox_ioctl_recv,
			       file, in, uarg, size);
}

static int ipcbox_file_alloc(struct ipcbox_mailbox *mb,
			     struct ipcbox_file **fp)
{
	struct ipcbox_file *f;

	f = kzalloc(sizeof(*f), GFP_KERNEL_ACCOUNT);
	if (!f)
		return -ENOMEM;
	f->mb = mb;
	INIT_LIST_HEAD(&f->calls);
	*fp = f;
	return 0;
}

/**
 * ipcbox_file_create() - a new anonymous-inode file on @mb
 * @mb:		The mailbox; the file takes its own reference.
 * @flags:	O_RDWR, optionally O_NONBLOCK.
 *
 * Return: the file or an ERR_PTR (-ENOMEM, ...).
 */
struct file *ipcbox_file_create(struct ipcbox_mailbox *mb, unsigned int flags)
{
	struct ipcbox_file *f;
	struct file *file;
	int ret;

	ret = ipcbox_file_alloc(mb, &f);
	if (ret)
		return ERR_PTR(ret);
	ipcbox_mailbox_get(mb);
	file = anon_inode_getfile("[ipcbox]", &ipcbox_mailbox_fops, f, flags);
	if (IS_ERR(file)) {
		ipcbox_mailbox_put(mb);
		kfree(f);
		return file;
	}
	stream_open(file_inode(file), file);
	return file;
}

/*
 * The mailbox's own owner and mode, checked as the VFS checks a node's:
 * a node is found by its minor number alone, and any node with ipcbox's
 * major and that minor (one made by mknod in a container's /dev, one kept
 * from before a module reload) leads here. Only the one devtmpfs made
 * carries the mailbox's owner and mode.
 */
static int ipcbox_may_open(const struct ipcbox_mailbox *mb, fmode_t fmode)
{
	unsigned int want = (fmode & FMODE_READ ? 4 : 0) |
			    (fmode & FMODE_WRITE ? 2 : 0);
	unsigned int bits = mb->mode;

	if (uid_eq(current_fsuid(), mb->uid))
		bits >>= 6;
	else if (in_group_p(mb->gid))
		bits >>= 3;
	if (!(want & ~bits & 7))
		return 0;
	if (ns_capable(mb->user_ns, CAP_DAC_OVERRIDE) ||
	    (want == 4 && ns_capable(mb->user_ns, CAP_DAC_READ_SEARCH)))
		return 0;
	return -EACCES;
}

/* open(2) of /dev/ipcbox/NAME; the VFS has checked the node's mode. */
static int ipcbox_open(struct inode *inode, struct file *file)
{
	struct ipcbox_mailbox *mb;
	struct ipcbox_file *f;
	int ret;

	mb = ipcbox_lookup_minor(iminor(inode));
	if (!mb)
		return -ENOENT;
	ret = ipcbox_may_open(mb, file->f_mode);
	if (!ret)
		ret = ipcbox_file_alloc(mb, &f);
	if (ret) {
		ipcbox_mailbox_put(mb);
		return ret;
	}
	file->private_data = f;
	return stream_open(inode, file);
}

static int ipcbox_release(struct inode *inode, struct file *file)
{
	struct ipcbox_file *f = file->private_data;

	ipcbox_mailbox_release_file(f);
	ipcbox_mailbox_put(f->mb);
	kfree(f);
	return 0;
}

/*
 * read(2): receive one message; end-of-file once shut down and drained.
 * It cannot return a CALL request's token: the call fails with EPROTO.
 */
static ssize_t ipcbox_read(struct file *file, char __user *buf, size_t count,
			   loff_t *ppos)
{
	struct ipcbox_rx rx = {
		.buf = buf, .size = min_t(size_t, count, U32_MAX),
		.flags = IPCBOX_RX_NOREPLY,
	};
	long ret;

	ipcbox_deadline_init(&rx.dl, IPCBOX_TIMEOUT_INFINITE, false,
			     file->f_flags & O_NONBLOCK);
	ret = ipcbox_mailbox_receive(file->private_data, &rx);
	return ret == -EPIPE ? 0 : ret;
}

/* write(2): send one message. An empty write sends nothing, as on a pipe. */
static ssize_t ipcbox_write(struct file *file, const char __user *buf,
			    size_t count, loff_t *ppos)
{
	struct ipcbox_file *f = file->private_data;
	struct ipcbox_tx tx = { .buf = buf };
	long ret;

	if (!count)
		return 0;
	if (count > f->mb->msg_size_max)
		return -EMSGSIZE;
	tx.len = count;
	ipcbox_deadline_init(&tx.dl, IPCBOX_TIMEOUT_INFINITE, false,
			     file->f_flags & O_NONBLOCK);
	ret = ipcbox_mailbox_send(f, &tx);
	return ret ? ret : count;
}

static __poll_t ipcbox_poll(struct file *file, poll_table *wait)
{
	struct ipcbox_file *f = file->private_data;

	poll_wait(file, &f->mb->pollq, wait);
	return ipcbox_mailbox_poll(f, file->f_mode);
}

static int ipcbox_fasync(int fd, struct file *file, int on)
{
	struct ipcbox_file *f = file->private_data;

	return fasync_helper(fd, file, on, &f->mb->fasync);
}

/* The first published sizes are what this ABI's structs are, for good. */
static_assert(sizeof(struct ipcbox_send) == IPCBOX_SEND_SIZE_VER0);
static_assert(sizeof(struct ipcbox_recv) == IPCBOX_RECV_SIZE_VER0);
static_assert(sizeof(struct ipcbox_msg_info) == IPCBOX_MSG_INFO_SIZE_VER0);
static_assert(sizeof(struct ipcbox_stat) == IPCBOX_STAT_SIZE_VER0);
static_assert(sizeof(struct ipcbox_call) == IPCBOX_CALL_SIZE_VER0);
static_assert(sizeof(struct ipcbox_reply) == IPCBOX_REPLY_SIZE_VER0);
static_assert(sizeof(struct ipcbox_reply_recv) == IPCBOX_REPLY_RECV_SIZE_VER0);
static_assert(sizeof(struct ipcbox_batch) == IPCBOX_BATCH_SIZE_VER0);
static_assert(sizeof(struct ipcbox_reply_recv) <= IPCBOX_IOCTL_ARG_MAX);

/* A pointer to a struct and its size: none, or VER0 up to a page. */
static bool ipcbox_sized_ok(u64 ptr, u32 size, size_t ver0)
{
	return ptr ? size >= ver0 && size <= PAGE_SIZE : !size;
}

/* The deadline of a send or receive: its own, O_NONBLOCK folded in. */
static int ipcbox_deadline_from_user(struct file *file,
				     struct ipcbox_deadline *dl, s64 timeout,
				     u32 flags, bool nonblock)
{
	nonblock |= (flags & IPCBOX_NONBLOCK) || (file->f_flags & O_NONBLOCK);
	return ipcbox_deadline_init(dl, timeout, flags & IPCBOX_ABSTIME,
				    nonblock);
}

/* A SEND struct, checked, as the core's request. */
static int ipcbox_tx_from_user(struct file *file, const struct ipcbox_send *a,
			       struct ipcbox_tx *tx)
{
	u32 flags = a->flags;

	if (a->__reserved0 || (flags & ~IPCBOX_SEND_FLAGS) ||
	    a->priority >= IPCBOX_PRIO_MAX)
		return -EINVAL;
	if ((flags & IPCBOX_SEND_CACHE) && (flags & IPCBOX_SEND_SYNC))
		return -EINVAL;
	memset(tx, 0, sizeof(*tx));
	tx->flags = flags & (IPCBOX_SEND_SYNC | IPCBOX_SEND_CACHE);
	tx->buf = u64_to_user_ptr(a->buf);
	tx->len = a->len;
	tx->prio = a->priority;
	tx->tag = a->tag;
	return ipcbox_deadline_from_user(file, &tx->dl, a->timeout_ns, flags,
					 false);
}

/* A RECV struct, checked, as the core's request. */
static int ipcbox_rx_from_user(struct file *file, const struct ipcbox_recv *a,
			       bool nonblock, struct ipcbox_rx *rx)
{
	u32 flags = a->flags;

	if ((flags & ~IPCBOX_RECV_FLAGS) ||
	    !ipcbox_sized_ok(a->info, a->info_size, IPCBOX_MSG_INFO_SIZE_VER0))
		return -EINVAL;
	if ((flags & IPCBOX_RECV_FILTER_PID) && a->filter_pid <= 0)
		return -EINVAL;
	memset(rx, 0, sizeof(*rx));
	rx->buf = u64_to_user_ptr(a->buf);
	rx->size = a->size;
	rx->flags = flags & (IPCBOX_RECV_PEEK | IPCBOX_RX_FILTERS);
	rx->filter_pid = a->filter_pid;
	rx->filter_tag = a->filter_tag;
	rx->uinfo = u64_to_user_ptr(a->info);
	rx->info_size = a->info_size;
	return ipcbox_deadline_from_user(file, &rx->dl, a->timeout_ns, flags,
					 nonblock);
}

/* Send one message of SEND or SENDV; its struct is at @ua. */
static long ipcbox_send_one(struct file *file, const struct ipcbox_send *a,
			    struct ipcbox_send __user *ua)
{
	struct ipcbox_tx tx __uninitialized;	/* ipcbox_tx_from_user() fills it */
	long ret;

	ret = ipcbox_tx_from_user(file, a, &tx);
	if (ret)
		return ret;
	/* Make sure the sequence number can be returned before sending. */
	if (put_user(0, &ua->seq))
		return -EFAULT;
	ret = ipcbox_mailbox_send(file->private_data, &tx);
	if (ret)
		return ret;
	/* Sent: a fault now (another thread unmapped it) cannot undo that. */
	if (put_user(tx.seq, &ua->seq))
		pr_debug("sequence number not returned\n");
	return 0;
}

static long ipcbox_ioctl_send(struct file *file, void *karg,
			      void __user *uarg, size_t usize)
{
	return ipcbox_send_one(file, karg, uarg);
}

static long ipcbox_ioctl_recv(struct file *file, void *karg,
			      void __user *uarg, size_t usize)
{
	struct ipcbox_rx rx __uninitialized;	/* ipcbox_rx_from_user() fills it */
	long ret;

	ret = ipcbox_rx_from_user(file, karg, false, &rx);
	return ret ? ret : ipcbox_mailbox_receive(file->private_data, &rx);
}

static long ipcbox_ioctl_call(struct file *file, void *karg,
			      void __user *uarg, size_t usize)
{
	const struct ipcbox_call *a = karg;
	struct ipcbox_call_args ca;
	long ret;

	/* A call always waits: a relative timeout of 0 makes no sense. */
	if (a->__reserved0 || (a->flags & ~IPCBOX_CALL_FLAGS) ||
	    (a->timeout_ns == 0 && !(a->flags & IPCBOX_ABSTIME)) ||
	    a->priority >= IPCBOX_PRIO_MAX ||
	    !ipcbox_sized_ok(a->reply_info, a->reply_info_size,
			     IPCBOX_MSG_INFO_SIZE_VER0))
		return -EINVAL;
	ret = ipcbox_deadline_init(&ca.dl, a->timeout_ns,
				   a->flags & IPCBOX_ABSTIME, false);
	if (ret)
		return ret;
	ca.buf = u64_to_user_ptr(a->buf);
	ca.len = a->len;
	ca.prio = a->priority;
	ca.tag = a->tag;
	ca.reply_buf = u64_to_user_ptr(a->reply_buf);
	ca.reply_size = a->reply_size;
	ca.uinfo = u64_to_user_ptr(a->reply_info);
	ca.info_size = a->reply_info_size;
	return ipcbox_call_request(file->private_data, &ca);
}

static long ipcbox_ioctl_reply(struct file *file, void *karg,
			       void __user *uarg, size_t usize)
{
	const struct ipcbox_reply *a = karg;

	if (a->flags)
		return -EINVAL;
	return ipcbox_call_answer(file->private_data, a->token,
				  u64_to_user_ptr(a->buf), a->len);
}

/*
 * Answer the request in hand, then wait for the next: one system call.
 * The reply is done once: its outcome goes to reply_error and the token
 * is cleared in the caller's struct, so that a restarted call (after a
 * signal, with SA_RESTART) only receives. reply_error is output only.
 */
static long ipcbox_ioctl_reply_recv(struct file *file, void *karg,
				    void __user *arg, size_t usize)
{
	struct ipcbox_reply_recv __user *uarg = arg;
	const struct ipcbox_reply_recv *a = karg;
	struct ipcbox_rx rx __uninitialized;	/* ipcbox_rx_from_user() fills it */
	long ret;

	if (a->reply_flags || a->__reserved0)
		return -EINVAL;
	ret = ipcbox_rx_from_user(file, &(struct ipcbox_recv) {
			.buf = a->buf, .size = a->size, .flags = a->flags,
			.timeout_ns = a->timeout_ns, .filter_tag = a->filter_tag,
			.filter_pid = a->filter_pid, .info_size = a->info_size,
			.info = a->info,
		}, false, &rx);
	if (ret)
		return ret;
	if (a->token) {
		ret = ipcbox_call_answer(file->private_data, a->token,
					 u64_to_user_ptr(a->reply_buf),
					 a->reply_len);
		if (put_user((s32)ret, &uarg->reply_error) ||
		    put_user(0, &uarg->token))
			return -EFAULT;
	}
	return ipcbox_mailbox_receive(file->private_data, &rx);
}

/*
 * Batch entries are read a chunk of IPCBOX_BATCH_CHUNK_BYTES at a time
 * when they are in the kernel's own size (the common case), one user
 * copy for the lot, kept small for the kernel stack; a chunk that faults
 * is read one entry at a time instead, so that a fault still stops the
 * batch at that very entry. Entries of another size are read one by one,
 * as any extensible struct.
 */
#define IPCBOX_BATCH_CHUNK_BYTES	384
static_assert(sizeof(struct ipcbox_send) <= IPCBOX_BATCH_CHUNK_BYTES &&
	      sizeof(struct ipcbox_recv) <= IPCBOX_BATCH_CHUNK_BYTES);

union ipcbox_batch_entry {
	struct ipcbox_send send;
	struct ipcbox_recv recv;
};

/* One entry, @e in the kernel, @ue in user space, is the @i-th. */
typedef long (*ipcbox_entry_fn)(struct file *file, void *e, void __user *ue,
				u32 i);

struct ipcbox_batch_kind {
	size_t ksize;		/* the kernel's entry size */
	size_t ver0;		/* its first published size */
	ipcbox_entry_fn fn;
};

/* Read entries from @i on into @chunk; return how many, or an error. */
static int ipcbox_batch_read(void *chunk, const void __user *um,
			     const struct ipcbox_batch *b, size_t ksize, u32 i)
{
	u32 n = min_t(u32, IPCBOX_BATCH_CHUNK_BYTES / ksize, b->count - i);
	const void __user *ue = um + (size_t)i * b->entry_size;

	if (b->entry_size != ksize)
		return copy_struct_from_user(chunk, ksize, ue,
					     b->entry_size) ?: 1;
	if (n > 1 && !copy_from_user(chunk, ue, n * ksize))
		return n;
	return copy_from_user(chunk, ue, ksize) ? -EFAULT : 1;
}

static long ipcbox_sendv_entry(struct file *file, void *e, void __user *ue,
			       u32 i);
static long ipcbox_recvv_entry(struct file *file, void *e, void __user *ue,
			       u32 i);

/* SENDV, RECVV: like sendmmsg(2), the count done, or the first error. */
static long ipcbox_batch_run(struct file *file,
			     const struct ipcbox_batch *b,
			     const struct ipcbox_batch_kind *k)
{
	u8 chunk[IPCBOX_BATCH_CHUNK_BYTES] __aligned(8), *e = chunk;
	void __user *um = u64_to_user_ptr(b->msgs);
	int left = 0;
	long ret;
	u32 i;

	if (b->flags || b->__reserved0 || !b->count ||
	    b->count > IPCBOX_BATCH_MAX || b->entry_size < k->ver0 ||
	    b->entry_size > PAGE_SIZE)
		return -EINVAL;
	for (i = 0; i < b->count; i++, left--, e += k->ksize) {
		if (!left) {
			left = ipcbox_batch_read(chunk, um, b, k->ksize, i);
			if (left < 0) {
				ret = left;
				break;
			}
			e = chunk;
		}
		/* a direct call for each entry, not a retpoline */
		ret = INDIRECT_CALL_2(k->fn, ipcbox_sendv_entry,
				      ipcbox_recvv_entry, file, e,
				      um + (size_t)i * b->entry_size, i);
		if (ret < 0)
			break;
	}
	return i ? i : ret;
}

static long ipcbox_sendv_entry(struct file *file, void *e, void __user *ue,
			       u32 i)
{
	return ipcbox_send_one(file, e, ue);
}

/* The first receive may wait, the others take what is there. */
static long ipcbox_recvv_entry(struct file *file, void *e, void __user *ue,
			       u32 i)
{
	struct ipcbox_rx rx __uninitialized;	/* ipcbox_rx_from_user() fills it */
	long ret;

	ret = ipcbox_rx_from_user(file, e, i != 0, &rx);
	return ret ? ret : ipcbox_mailbox_receive(file->private_data, &rx);
}

static const struct ipcbox_batch_kind ipcbox_sendv_kind = {
	sizeof(struct ipcbox_send), IPCBOX_SEND_SIZE_VER0, ipcbox_sendv_entry,
};

static const struct ipcbox_batch_kind ipcbox_recvv_kind = {
	sizeof(struct ipcbox_recv), IPCBOX_RECV_SIZE_VER0, ipcbox_recvv_entry,
};

static long ipcbox_ioctl_sendv(struct file *file, void *karg,
			       void __user *uarg, size_t usize)
{
	return ipcbox_batch_run(file, karg, &ipcbox_sendv_kind);
}

static long ipcbox_ioctl_recvv(struct file *file, void *karg,
			       void __user *uarg, size_t usize)
{
	return ipcbox_batch_run(file, karg, &ipcbox_recvv_kind);
}

static long ipcbox_ioctl_stat(struct file *file, void *karg,
			      void __user *uarg, size_t usize)
{
	struct ipcbox_file *f = file->private_data;
	struct ipcbox_stat st;

	ipcbox_mailbox_stat(f->mb, &st);
	return ipcbox_copy_out(uarg, usize, &st, sizeof(st));
}

static long ipcbox_ioctl_shutdown(struct file *file, void *karg,
				  void __user *uarg, size_t usize)
{
	struct ipcbox_file *f = file->private_data;

	if (!ipcbox_owner_or_capable(f->mb))
		return -EPERM;
	ipcbox_mailbox_shutdown(f->mb);
	return 0;
}

static const struct ipcbox_ioctl ipcbox_mailbox_ioctls[] = {
	{ IPCBOX_IOC_SEND, IPCBOX_SEND_SIZE_VER0, FMODE_WRITE,
	  ipcbox_ioctl_send },
	{ IPCBOX_IOC_RECV, IPCBOX_RECV_SIZE_VER0, FMODE_READ,
	  ipcbox_ioctl_recv },
	{ IPCBOX_IOC_STAT, IPCBOX_STAT_SIZE_VER0, 0, ipcbox_ioctl_stat },
	{ IPCBOX_IOC_SHUTDOWN, 0, 0, ipcbox_ioctl_shutdown },
	{ IPCBOX_IOC_CALL, IPCBOX_CALL_SIZE_VER0, FMODE_WRITE,
	  ipcbox_ioctl_call },
	{ IPCBOX_IOC_REPLY, IPCBOX_REPLY_SIZE_VER0, FMODE_READ,
	  ipcbox_ioctl_reply },
	{ IPCBOX_IOC_REPLY_RECV, IPCBOX_REPLY_RECV_SIZE_VER0, FMODE_READ,
	  ipcbox_ioctl_reply_recv },
	{ IPCBOX_IOC_SENDV, IPCBOX_BATCH_SIZE_VER0, FMODE_WRITE,
	  ipcbox_ioctl_sendv },
	{ IPCBOX_IOC_RECVV, IPCBOX_BATCH_SIZE_VER0, FMODE_READ,
	  ipcbox_ioctl_recvv },
	{ }
};

static long ipcbox_mailbox_ioctl(struct file *file, unsigned int cmd,
				 unsigned long arg)
{
	return ipcbox_ioctl_dispatch(ipcbox_mailbox_ioctls, file, cmd, arg);
}

const struct file_operations ipcbox_mailbox_fops = {
	.owner = THIS_MODULE,
	.open = ipcbox_open,
	.release = ipcbox_release,
	.read = ipcbox_read,
	.write = ipcbox_write,
	.poll = ipcbox_poll,
	.fasync = ipcbox_fasync,
	.unlocked_ioctl = ipcbox_mailbox_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};
