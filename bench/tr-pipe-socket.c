// SPDX-License-Identifier: GPL-2.0
/*
 * The byte-stream and datagram peers: pipe(2) and a UNIX
 * SOCK_SEQPACKET socketpair.
 */
#include "bench.h"

#include <fcntl.h>
#include <unistd.h>
#include <sys/socket.h>

/* ---- pipe ---------------------------------------------------------- */

static int pipe_open_chan(struct chan *c)
{
	long want = (long)c->cfg.capacity * c->cfg.msg_size;
	int got;

	if (pipe2(c->fd, O_CLOEXEC))
		return -errno;
	if (want < 4096)
		want = 4096;
	got = fcntl(c->fd[1], F_SETPIPE_SZ, want);
	if (got < 0)
		got = fcntl(c->fd[1], F_GETPIPE_SZ);
	snprintf(c->note, sizeof(c->note), "pipe size %d B%s", got,
		 want > (long)c->cfg.capacity * (long)c->cfg.msg_size ?
		 " (minimum one page)" : "");
	return 0;
}

static int stream_send(struct chan *c, const void *buf)
{
	return xwrite(c->fd[1], buf, c->cfg.msg_size);
}

static int stream_recv(struct chan *c, void *buf)
{
	return xread(c->fd[0], buf, c->cfg.msg_size);
}

const struct chan_ops pipe_ops = {
	.open = pipe_open_chan, .close = close_fds,
	.send = stream_send, .recv = stream_recv,
	CHAN_OPS_FROM_SEND_RECV,
};

/* ---- UNIX seqpacket socketpair --------------------------------------- */

static int seqpacket_open_chan(struct chan *c)
{
	/* Each queued skb costs its truesize, ~ payload + 768 B of overhead. */
	int want = c->cfg.capacity * (int)(c->cfg.msg_size + 768);
	int got;
	socklen_t sl = sizeof(got);

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, c->fd))
		return -errno;
	if (want < 1)
		want = 1;	/* the kernel raises it to its minimum */
	/* Datagrams must fit the buffer, else sends fail with EMSGSIZE. */
	if (want < (int)c->cfg.msg_size + 768)
		want = c->cfg.msg_size + 768;
	setsockopt(c->fd[1], SOL_SOCKET, SO_SNDBUF, &want, sizeof(want));
	setsockopt(c->fd[0], SOL_SOCKET, SO_RCVBUF, &want, sizeof(want));
	getsockopt(c->fd[1], SOL_SOCKET, SO_SNDBUF, &got, &sl);
	snprintf(c->note, sizeof(c->note), "SO_SNDBUF %d B (~%d msgs)", got,
		 got / (int)(c->cfg.msg_size + 768));
	return 0;
}

static int seqpacket_send(struct chan *c, const void *buf)
{
	ssize_t r;

	do
		r = send(c->fd[1], buf, c->cfg.msg_size, 0);
	while (sys_again(r));
	return r == (ssize_t)c->cfg.msg_size ? 0 : -1;
}

static int seqpacket_recv(struct chan *c, void *buf)
{
	ssize_t r;

	do
		r = recv(c->fd[0], buf, c->cfg.msg_size, 0);
	while (sys_again(r));
	return r == (ssize_t)c->cfg.msg_size ? 0 : -1;
}

const struct chan_ops seqpacket_ops = {
	.open = seqpacket_open_chan, .close = close_fds,
	.send = seqpacket_send, .recv = seqpacket_recv,
	CHAN_OPS_FROM_SEND_RECV,
};
