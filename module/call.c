// SPDX-License-Identifier: GPL-2.0
/*
 * ipcbox CALL and REPLY: a request travels like a SYNC send and carries
 * a token that only the fd that received it can answer, once. The caller
 * waits in two steps under one deadline: until its request is received
 * (the mailbox core), then until the reply comes.
 *
 * Before the request was received, a timeout or signal withdraws it: the
 * call has had no effect (and may be restarted). Once received it cannot
 * be taken back, so a timeout or signal abandons it instead (a later
 * REPLY gets ECANCELED) and the call returns ETIMEDOUT or EINTR, never a
 * restart: a restarted CALL would send the request a second time. A reply
 * that came is returned, whatever signal is pending.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ktime.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/uaccess.h>

#include "ipcbox.h"

/* Wait for the reply to a received request; the lock is taken here. */
static long ipcbox_call_wait(struct ipcbox_mailbox *mb,
			     struct ipcbox_call_ctx *call,
			     const struct ipcbox_deadline *dl,
			     struct ipcbox_msg **reply)
{
	__poll_t ev = 0;
	long ret;

	ipcbox_lock(mb);
	for (;;) {
		switch (call->state) {
		case IPCBOX_CALL_REPLIED:
			*reply = call->reply;
			call->reply = NULL;
			ret = 0;
			goto out;
		case IPCBOX_CALL_RESET:
			ret = -ECONNRESET;
			goto out;
		case IPCBOX_CALL_SHUTDOWN:
			ret = -EPIPE;
			goto out;
		case IPCBOX_CALL_READ:
			ret = -EPROTO;
			goto out;
		default:
			break;
		}
		if (ipcbox_expired(dl)) {
			mb->timeouts++;
			ret = -ETIMEDOUT;
			break;
		}
		if (signal_pending(current)) {
			ret = -EINTR;	/* received: never restarted */
			break;
		}
		ipcbox_sleep(mb, dl, &ev);
	}
	ipcbox_call_abandon(mb, call);
out:
	call->caller = NULL;
	ipcbox_unlock(mb);
	ipcbox_notify(mb, ev);
	return ret;
}

/**
 * ipcbox_call_request() - send a request and wait for its reply
 * @f:		The caller's open file.
 * @a:		The request, the reply buffer and the deadline.
 *
 * Return: the reply's length, or -EMSGSIZE, -ENOMEM, -EFAULT, -ENOBUFS,
 * -EPIPE (shut down before the reply), -ECONNRESET (the receiving fd
 * closed without replying), -EPROTO (received by read(2), which cannot
 * reply), -ETIMEDOUT, -EINTR or -ERESTARTSYS (only while not received).
 */
long ipcbox_call_request(struct ipcbox_file *f, struct ipcbox_call_args *a)
{
	struct ipcbox_tx tx = {
		.buf = a->buf, .len = a->len, .prio = a->prio, .tag = a->tag,
		.dl = a->dl,
	};
	struct ipcbox_mailbox *mb = f->mb;
	struct ipcbox_msg *reply = NULL;
	struct ipcbox_msg_info info;
	struct ipcbox_call_ctx *call;
	long ret;

	call = ipcbox_call_alloc(mb, a->reply_size);
	if (!call)
		return -ENOMEM;
	call->tag = a->tag;
	tx.call = call;
	ret = ipcbox_mailbox_send(f, &tx);
	if (!ret) {
		ret = ipcbox_call_wait(mb, call, &a->dl, &reply);
	} else {
		/* Withdrawn: nobody may wake this task through it any more. */
		ipcbox_lock(mb);
		call->caller = NULL;
		ipcbox_unlock(mb);
	}
	ipcbox_call_put_spare(mb, call);
	if (!reply)
		return ret;

	ipcbox_fill_info(reply, &info, true);
	if (ipcbox_copy_to_user(a->reply_buf, reply->data, reply->len) ||
	    (a->uinfo &&
	     ipcbox_copy_out(a->uinfo, a->info_size, &info, sizeof(info))))
		ret = -EFAULT;
	else
		ret = reply->len;
	ipcbox_msg_free(mb, reply);
	return ret;
}

/**
 * ipcbox_call_answer() - answer a request received on @f
 * @f:		The fd that received the request.
 * @token:	The request's token.
 * @buf:	The reply payload.
 * @len:	Its length.
 *
 * Return: 0, or -ENOENT (no open request with that token on @f),
 * -ECANCELED (the caller gave up), -EMSGSIZE (larger than the caller's
 * buffer; the request stays open), -ENOMEM or -EFAULT.
 */
long ipcbox_call_answer(struct ipcbox_file *f, u64 token,
			const void __user *buf, u32 len)
{
	struct ipcbox_call_ctx *call, *found = NULL;
	struct ipcbox_mailbox *mb = f->mb;
	struct ipcbox_msg *reply;
	long ret;

	if (!token)
		return -ENOENT;
	if (len > mb->msg_size_max)
		return -EMSGSIZE;
	reply = ipcbox_msg_alloc(mb, buf, len, false);
	if (IS_ERR(reply))
		return PTR_ERR(reply);

	ipcbox_lock(mb);
	list_for_each_entry(call, &f->calls, srv_node) {
		if (call->token == token) {
			found = call;
			break;
		}
	}
	if (!found) {
		ret = -ENOENT;
	} else if (found->state == IPCBOX_CALL_ABANDONED) {
		ipcbox_call_drop(mb, found);
		ret = -ECANCELED;
	} else if (len > found->reply_size) {
		ret = -EMSGSIZE;
	} else {
		reply->seq = found->seq;
		reply->tag = found->tag;
		reply->timestamp = ktime_get_ns();
		found->reply = reply;
		reply = NULL;
		ipcbox_call_end(mb, found, IPCBOX_CALL_REPLIED);
		ret = 0;
	}
	ipcbox_unlock(mb);
	if (reply)
		ipcbox_msg_free(mb, reply);
	return ret;
}
