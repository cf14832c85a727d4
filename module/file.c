// SPDX-License-Identifier: GPL-2.0
/*
 * ipcbox data plane: the file operations of a mailbox fd, whether it came
 * from open(2) on /dev/ipcbox/NAME, from CREATE, or over fork or SCM_RIGHTS.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/fs.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "ipcbox.h"

static int ipcbox_file_alloc(struct ipcbox_mailbox *mb,
			     struct ipcbox_file **fp)
{
	struct ipcbox_file *f;

	f = kzalloc(sizeof(*f), GFP_KERNEL_ACCOUNT);
	if (!f)
		return -ENOMEM;
	f->mb = mb;
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

/* open(2) of /dev/ipcbox/NAME; the VFS has checked the node's mode. */
static int ipcbox_open(struct inode *inode, struct file *file)
{
	struct ipcbox_mailbox *mb;
	struct ipcbox_file *f;
	int ret;

	mb = ipcbox_lookup_minor(iminor(inode));
	if (!mb)
		return -ENOENT;
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

	ipcbox_file_release(f);
	ipcbox_mailbox_put(f->mb);
	kfree(f);
	return 0;
}

/* read(2): receive one message; end-of-file once shut down and drained. */
static ssize_t ipcbox_read(struct file *file, char __user *buf, size_t count,
			   loff_t *ppos)
{
	struct ipcbox_recv args = { .timeout_ns = IPCBOX_TIMEOUT_INFINITE };
	long ret;

	if (file->f_flags & O_NONBLOCK)
		args.flags |= IPCBOX_RECV_NONBLOCK;
	ret = ipcbox_recv(file->private_data, buf, count, &args, NULL);
	return ret == -EPIPE ? 0 : ret;
}

/* write(2): send one message. An empty write sends nothing, as on a pipe. */
static ssize_t ipcbox_write(struct file *file, const char __user *buf,
			    size_t count, loff_t *ppos)
{
	struct ipcbox_send args = { .timeout_ns = IPCBOX_TIMEOUT_INFINITE };
	u64 seq;
	long ret;

	if (!count)
		return 0;
	if (file->f_flags & O_NONBLOCK)
		args.flags |= IPCBOX_SEND_NONBLOCK;
	ret = ipcbox_send(file->private_data, buf, count, &args, &seq);
	return ret ? ret : count;
}

static __poll_t ipcbox_poll(struct file *file, poll_table *wait)
{
	struct ipcbox_file *f = file->private_data;

	poll_wait(file, &f->mb->pollq, wait);
	return ipcbox_poll_mask(f, file->f_mode);
}

static int ipcbox_fasync(int fd, struct file *file, int on)
{
	struct ipcbox_file *f = file->private_data;

	return fasync_helper(fd, file, on, &f->mb->fasync);
}

static bool ipcbox_send_reserved(const struct ipcbox_send *a)
{
	return a->__reserved0 || memchr_inv(a->__reserved, 0,
					    sizeof(a->__reserved));
}

static bool ipcbox_recv_reserved(const struct ipcbox_recv *a)
{
	return a->__reserved0 ||
	       memchr_inv(a->__reserved, 0, sizeof(a->__reserved)) ||
	       memchr_inv(&a->info, 0, sizeof(a->info));
}

static long ipcbox_ioctl_send(struct file *file, void __user *arg,
			      size_t usize)
{
	struct ipcbox_send __user *uarg = arg;
	struct ipcbox_send a;
	u64 seq;
	long ret;

	ret = copy_struct_from_user(&a, sizeof(a), uarg, usize);
	if (ret)
		return ret;
	if (!(file->f_mode & FMODE_WRITE))
		return -EBADF;
	if (ipcbox_send_reserved(&a))
		return -EINVAL;
	/* Make sure the sequence number can be returned before sending. */
	if (put_user(0, &uarg->seq))
		return -EFAULT;
	if (file->f_flags & O_NONBLOCK)
		a.flags |= IPCBOX_SEND_NONBLOCK;
	ret = ipcbox_send(file->private_data, u64_to_user_ptr(a.buf), a.len,
			  &a, &seq);
	if (ret)
		return ret;
	/* Sent: a fault now (another thread unmapped it) cannot undo that. */
	if (put_user(seq, &uarg->seq))
		pr_debug("sequence number not returned\n");
	return 0;
}

static long ipcbox_ioctl_recv(struct file *file, void __user *arg,
			      size_t usize)
{
	struct ipcbox_recv __user *uarg = arg;
	struct ipcbox_recv a;
	long ret;

	ret = copy_struct_from_user(&a, sizeof(a), uarg, usize);
	if (ret)
		return ret;
	if (!(file->f_mode & FMODE_READ))
		return -EBADF;
	if (ipcbox_recv_reserved(&a))
		return -EINVAL;
	if (file->f_flags & O_NONBLOCK)
		a.flags |= IPCBOX_RECV_NONBLOCK;
	return ipcbox_recv(file->private_data, u64_to_user_ptr(a.buf), a.size,
			   &a, &uarg->info);
}

static long ipcbox_ioctl_call(struct file *file, void __user *arg,
			      size_t usize)
{
	struct ipcbox_call __user *uarg = arg;
	struct ipcbox_call a;
	long ret;

	ret = copy_struct_from_user(&a, sizeof(a), uarg, usize);
	if (ret)
		return ret;
	if (!(file->f_mode & FMODE_WRITE))
		return -EBADF;
	if (a.__reserved0 || a.__reserved1 ||
	    memchr_inv(a.__reserved, 0, sizeof(a.__reserved)) ||
	    memchr_inv(&a.reply_info, 0, sizeof(a.reply_info)))
		return -EINVAL;
	return ipcbox_call(file->private_data, &a, &uarg->reply_info);
}

static long ipcbox_check_reply(struct file *file, const struct ipcbox_reply *r)
{
	if (!(file->f_mode & FMODE_READ))
		return -EBADF;
	if (r->flags || memchr_inv(r->__reserved, 0, sizeof(r->__reserved)))
		return -EINVAL;
	return 0;
}

static long ipcbox_ioctl_reply(struct file *file, void __user *uarg,
			       size_t usize)
{
	struct ipcbox_reply a;
	long ret;

	ret = copy_struct_from_user(&a, sizeof(a), uarg, usize);
	if (!ret)
		ret = ipcbox_check_reply(file, &a);
	return ret ? ret : ipcbox_reply(file->private_data, &a);
}

/* Answer the request in hand, then wait for the next: one system call. */
static long ipcbox_ioctl_reply_recv(struct file *file, void __user *arg,
				    size_t usize)
{
	struct ipcbox_reply_recv __user *uarg = arg;
	struct ipcbox_reply_recv a;
	long ret;

	ret = copy_struct_from_user(&a, sizeof(a), uarg, usize);
	if (ret)
		return ret;
	ret = ipcbox_check_reply(file, &a.reply);
	if (ret)
		return ret;
	if (a.reply_error || a.__reserved0 || ipcbox_recv_reserved(&a.recv))
		return -EINVAL;
	if (a.reply.token) {
		ret = ipcbox_reply(file->private_data, &a.reply);
		if (put_user((s32)ret, &uarg->reply_error))
			return -EFAULT;
	}
	if (file->f_flags & O_NONBLOCK)
		a.recv.flags |= IPCBOX_RECV_NONBLOCK;
	return ipcbox_recv(file->private_data, u64_to_user_ptr(a.recv.buf),
			   a.recv.size, &a.recv, &uarg->recv.info);
}

static long ipcbox_batch_get(struct ipcbox_batch *b, void __user *uarg,
			     size_t usize)
{
	long ret;

	ret = copy_struct_from_user(b, sizeof(*b), uarg, usize);
	if (ret)
		return ret;
	if (b->flags || memchr_inv(b->__reserved, 0, sizeof(b->__reserved)) ||
	    !b->count || b->count > IPCBOX_BATCH_MAX)
		return -EINVAL;
	return 0;
}

/*
 * Batch entries are read a chunk of IPCBOX_BATCH_CHUNK_BYTES at a time
 * (8 SEND or 4 RECV entries, kept small for the kernel stack), one user
 * copy for the lot; a chunk that faults is read one entry at a time
 * instead, so that a fault still stops the batch at that very entry.
 */
#define IPCBOX_BATCH_CHUNK_BYTES	512
#define IPCBOX_BATCH_CHUNK(type)	(IPCBOX_BATCH_CHUNK_BYTES / sizeof(type))

/* Read entries from @i on into @k; return how many, or -EFAULT. */
static int ipcbox_batch_read(void *k, const void __user *um, size_t esize,
			     u32 i, u32 count)
{
	u32 n = min_t(u32, IPCBOX_BATCH_CHUNK_BYTES / esize, count - i);

	um += (size_t)i * esize;
	if (n > 1 && !copy_from_user(k, um, n * esize))
		return n;
	return copy_from_user(k, um, esize) ? -EFAULT : 1;
}

/* SENDV: like sendmmsg(2), the count done, or the first error if none. */
static long ipcbox_ioctl_sendv(struct file *file, void __user *uarg,
			       size_t usize)
{
	struct ipcbox_send chunk[IPCBOX_BATCH_CHUNK(struct ipcbox_send)], *a;
	struct ipcbox_send __user *um;
	struct ipcbox_batch b;
	int left = 0;
	u32 i;
	u64 seq;
	long ret;

	ret = ipcbox_batch_get(&b, uarg, usize);
	if (ret)
		return ret;
	if (!(file->f_mode & FMODE_WRITE))
		return -EBADF;
	um = u64_to_user_ptr(b.msgs);
	for (i = 0; i < b.count; i++, left--, a++) {
		if (!left) {
			left = ipcbox_batch_read(chunk, um, sizeof(*chunk), i,
						 b.count);
			a = chunk;
		}
		ret = -EFAULT;
		if (left < 0 || put_user(0, &um[i].seq))
			break;
		ret = -EINVAL;
		if (ipcbox_send_reserved(a))
			break;
		if (file->f_flags & O_NONBLOCK)
			a->flags |= IPCBOX_SEND_NONBLOCK;
		ret = ipcbox_send(file->private_data, u64_to_user_ptr(a->buf),
				  a->len, a, &seq);
		if (ret)
			break;
		if (put_user(seq, &um[i].seq))
			pr_debug("sequence number not returned\n");
	}
	return i ? i : ret;
}

/* RECVV: the first receive may wait, the others take what is there. */
static long ipcbox_ioctl_recvv(struct file *file, void __user *uarg,
			       size_t usize)
{
	struct ipcbox_recv chunk[IPCBOX_BATCH_CHUNK(struct ipcbox_recv)], *a;
	struct ipcbox_recv __user *um;
	struct ipcbox_batch b;
	int left = 0;
	u32 i;
	long ret;

	ret = ipcbox_batch_get(&b, uarg, usize);
	if (ret)
		return ret;
	if (!(file->f_mode & FMODE_READ))
		return -EBADF;
	um = u64_to_user_ptr(b.msgs);
	for (i = 0; i < b.count; i++, left--, a++) {
		if (!left) {
			left = ipcbox_batch_read(chunk, um, sizeof(*chunk), i,
						 b.count);
			a = chunk;
		}
		ret = -EFAULT;
		if (left < 0)
			break;
		ret = -EINVAL;
		if (ipcbox_recv_reserved(a))
			break;
		if (i || (file->f_flags & O_NONBLOCK))
			a->flags |= IPCBOX_RECV_NONBLOCK;
		ret = ipcbox_recv(file->private_data, u64_to_user_ptr(a->buf),
				  a->size, a, &um[i].info);
		if (ret < 0)
			break;
	}
	return i ? i : ret;
}

static long ipcbox_ioctl_stat(struct file *file, void __user *uarg,
			      size_t usize)
{
	struct ipcbox_file *f = file->private_data;
	struct ipcbox_stat st;

	ipcbox_stat(f->mb, &st);
	return ipcbox_copy_out(uarg, usize, &st, sizeof(st));
}

static long ipcbox_ioctl_shutdown(struct file *file, void __user *uarg,
				  size_t usize)
{
	struct ipcbox_file *f = file->private_data;

	if (!ipcbox_owner_or_capable(f->mb))
		return -EPERM;
	ipcbox_shutdown(f->mb);
	return 0;
}

static const struct ipcbox_ioctl ipcbox_mailbox_ioctls[] = {
	{ IPCBOX_IOC_SEND, IPCBOX_SEND_SIZE_VER0, ipcbox_ioctl_send },
	{ IPCBOX_IOC_RECV, IPCBOX_RECV_SIZE_VER0, ipcbox_ioctl_recv },
	{ IPCBOX_IOC_STAT, IPCBOX_STAT_SIZE_VER0, ipcbox_ioctl_stat },
	{ IPCBOX_IOC_SHUTDOWN, 0, ipcbox_ioctl_shutdown },
	{ IPCBOX_IOC_CALL, IPCBOX_CALL_SIZE_VER0, ipcbox_ioctl_call },
	{ IPCBOX_IOC_REPLY, IPCBOX_REPLY_SIZE_VER0, ipcbox_ioctl_reply },
	{ IPCBOX_IOC_REPLY_RECV, IPCBOX_REPLY_RECV_SIZE_VER0,
	  ipcbox_ioctl_reply_recv },
	{ IPCBOX_IOC_SENDV, IPCBOX_BATCH_SIZE_VER0, ipcbox_ioctl_sendv },
	{ IPCBOX_IOC_RECVV, IPCBOX_BATCH_SIZE_VER0, ipcbox_ioctl_recvv },
};

static long ipcbox_mailbox_ioctl(struct file *file, unsigned int cmd,
				 unsigned long arg)
{
	return ipcbox_ioctl_dispatch(ipcbox_mailbox_ioctls,
				     ARRAY_SIZE(ipcbox_mailbox_ioctls),
				     file, cmd, arg);
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
