// SPDX-License-Identifier: GPL-2.0
/*
 * The ipcbox transports: SEND/RECV ioctls, write(2)/read(2), CALL and
 * REPLY_RECV, SENDV/RECVV (the last two through libipcbox).
 */
#include "bench.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "libipcbox.h"

/* ---- ipcbox -------------------------------------------------------- */

int ipcbox_ctl = -1;
struct ipcbox_info ipcbox_inf;

/* The control device and its INFO; without the module ipcbox_ctl is -1. */
void ipcbox_probe(void)
{
	ipcbox_ctl = open(IPCBOX_CONTROL_PATH, O_RDWR | O_CLOEXEC);
	if (ipcbox_ctl >= 0 &&
	    ioctl(ipcbox_ctl, IPCBOX_IOC_INFO, &ipcbox_inf) < 0) {
		close(ipcbox_ctl);
		ipcbox_ctl = -1;
	}
}

static int ipcbox_open_chan(struct chan *c)
{
	struct ipcbox_create cr;
	int fd;

	memset(&cr, 0, sizeof(cr));
	cr.capacity = c->cfg.capacity;
	cr.msg_size_max = c->cfg.msg_size;
	cr.flags = IPCBOX_CREATE_CLOEXEC;
	fd = ioctl(ipcbox_ctl, IPCBOX_IOC_CREATE, &cr);
	if (fd < 0)
		return -errno;
	c->fd[0] = fd;
	snprintf(c->note, sizeof(c->note), "capacity %u", c->cfg.capacity);
	return 0;
}

/* An ioctl on the mailbox, made again when a signal cuts it short. */
static int mailbox_ioctl(struct chan *c, unsigned long cmd, void *arg)
{
	int r;

	do
		r = ioctl(c->fd[0], cmd, arg);
	while (sys_again(r));
	return r;
}

static int ipcbox_send_chan(struct chan *c, const void *buf)
{
	struct ipcbox_send s;

	memset(&s, 0, sizeof(s));
	s.buf = (uintptr_t)buf;
	s.len = c->cfg.msg_size;
	s.timeout_ns = IPCBOX_TIMEOUT_INFINITE;
	return mailbox_ioctl(c, IPCBOX_IOC_SEND, &s) >= 0 ? 0 : -1;
}

static int ipcbox_recv_chan(struct chan *c, void *buf)
{
	struct ipcbox_recv rv;

	memset(&rv, 0, sizeof(rv));
	rv.buf = (uintptr_t)buf;
	rv.size = c->cfg.msg_size;
	rv.timeout_ns = IPCBOX_TIMEOUT_INFINITE;
	return mailbox_ioctl(c, IPCBOX_IOC_RECV, &rv) == (int)c->cfg.msg_size ?
	       0 : -1;
}

const struct chan_ops ipcbox_ops = {
	.open = ipcbox_open_chan, .close = close_fds,
	.send = ipcbox_send_chan, .recv = ipcbox_recv_chan,
	CHAN_OPS_FROM_SEND_RECV,
};

/* ---- ipcbox-rw: write(2) and read(2) on the same mailboxes ---------- */

static int ipcbox_write_chan(struct chan *c, const void *buf)
{
	return xwrite(c->fd[0], buf, c->cfg.msg_size);
}

static int ipcbox_read_chan(struct chan *c, void *buf)
{
	ssize_t r;

	do
		r = read(c->fd[0], buf, c->cfg.msg_size);
	while (sys_again(r));
	return r == (ssize_t)c->cfg.msg_size ? 0 : -1;
}

const struct chan_ops ipcbox_rw_ops = {
	.open = ipcbox_open_chan, .close = close_fds,
	.send = ipcbox_write_chan, .recv = ipcbox_read_chan,
	CHAN_OPS_FROM_SEND_RECV,
};

/* ---- ipcbox-call: CALL on the client, REPLY_RECV on the server ------- */

struct ipcbox_call_state {
	uint64_t token;		/* server: the request to answer, or 0 */
};

static int ipcbox_call_open_chan(struct chan *c)
{
	int r = ipcbox_open_chan(c);

	if (r)
		return r;
	return chan_priv(c, sizeof(struct ipcbox_call_state)) ? 0 : -ENOMEM;
}

static int ipcbox_call_chan(struct chan *req, struct chan *rep,
			    const void *msg, void *reply)
{
	int r;

	(void)rep;
	do
		r = ipcbox_call(req->fd[0], msg, req->cfg.msg_size, reply,
				req->cfg.msg_size, NULL, NULL);
	while (lib_again(r));
	if (r == (int)req->cfg.msg_size)
		return 0;
	errno = r < 0 ? -r : EBADMSG;
	return -1;
}

static int ipcbox_serve_chan(struct chan *c, struct chan *rep, void *buf)
{
	struct ipcbox_call_state *s = c->priv;
	struct ipcbox_msg_info info;
	int err = 0;

	(void)rep;
	for (;;) {
		/* The reply is copied in before the next request lands in @buf. */
		int r = ipcbox_reply_recv(c->fd[0], s->token, buf,
					  c->cfg.msg_size, &err, buf,
					  c->cfg.msg_size, NULL, &info);

		count_sys(1);
		if (err) {
			errno = -err;
			return -1;
		}
		if (r == -EINTR) {
			s->token = 0;	/* the reply, if any, went out */
			continue;
		}
		if (r != (int)c->cfg.msg_size || !info.token) {
			errno = r < 0 ? -r : EBADMSG;
			return -1;
		}
		s->token = info.token;
		return 0;
	}
}

static int ipcbox_serve_end_chan(struct chan *c, const void *buf)
{
	struct ipcbox_call_state *s = c->priv;
	int r = ipcbox_reply(c->fd[0], s->token, buf, c->cfg.msg_size);

	count_sys(1);
	s->token = 0;
	if (r) {
		errno = -r;
		return -1;
	}
	return 0;
}

/* Round trips only: request and reply over one mailbox. */
const struct chan_ops ipcbox_call_ops = {
	.open = ipcbox_call_open_chan, .close = close_fds,
	.call = ipcbox_call_chan, .serve = ipcbox_serve_chan,
	.serve_end = ipcbox_serve_end_chan, .rtt_chans = 1,
};

/* ---- ipcbox-batch: SENDV / RECVV -------------------------------------- */

struct ipcbox_batch_state {
	struct ipcbox_send sv[MAX_BATCH];
	struct ipcbox_recv rv[MAX_BATCH];
	struct ipcbox_msg_info info[MAX_BATCH];	/* each entry's length */
};

static int ipcbox_batch_open_chan(struct chan *c)
{
	int r = ipcbox_open_chan(c);

	if (r)
		return r;
	return chan_priv(c, sizeof(struct ipcbox_batch_state)) ? 0 : -ENOMEM;
}

static int ipcbox_sendv_chan(struct chan *c, const void *bufs, int n)
{
	struct ipcbox_send *sv = ((struct ipcbox_batch_state *)c->priv)->sv;
	int done = 0;

	memset(sv, 0, n * sizeof(*sv));
	for (int i = 0; i < n; i++) {
		sv[i].buf = (uintptr_t)bufs + (size_t)i * c->cfg.msg_size;
		sv[i].len = c->cfg.msg_size;
		sv[i].timeout_ns = IPCBOX_TIMEOUT_INFINITE;
	}
	/* Like sendmmsg(2), a call may stop short (a signal): send the rest. */
	while (done < n) {
		int r = ipcbox_sendv(c->fd[0], sv + done, n - done);

		if (lib_again(r))
			continue;
		if (r <= 0) {
			errno = r < 0 ? -r : EIO;
			return -1;
		}
		done += r;
	}
	return 0;
}

static int ipcbox_recvv_chan(struct chan *c, void *bufs, int max)
{
	struct ipcbox_batch_state *st = c->priv;
	struct ipcbox_recv *rv = st->rv;
	int r;

	memset(rv, 0, max * sizeof(*rv));
	for (int i = 0; i < max; i++) {
		rv[i].buf = (uintptr_t)bufs + (size_t)i * c->cfg.msg_size;
		rv[i].size = c->cfg.msg_size;
		rv[i].timeout_ns = IPCBOX_TIMEOUT_INFINITE;
		rv[i].info = (uintptr_t)&st->info[i];
		rv[i].info_size = sizeof(st->info[i]);
	}
	do
		r = ipcbox_recvv(c->fd[0], rv, max);
	while (lib_again(r));
	if (r <= 0) {
		errno = r < 0 ? -r : EIO;
		return -1;
	}
	for (int i = 0; i < r; i++)
		if (st->info[i].len != c->cfg.msg_size) {
			errno = EBADMSG;
			return -1;
		}
	return r;
}

/* One way only: 1..MAX_BATCH messages per system call. */
const struct chan_ops ipcbox_batch_ops = {
	.open = ipcbox_batch_open_chan, .close = close_fds,
	.sendv = ipcbox_sendv_chan, .recvv = ipcbox_recvv_chan,
};
