// SPDX-License-Identifier: GPL-2.0
/*
 * The message-queue peers: POSIX mq and SysV msg.
 */
#include "bench.h"

#include <fcntl.h>
#include <mqueue.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ipc.h>
#include <sys/msg.h>

/* ---- POSIX mq ------------------------------------------------------ */

struct mq_state {
	mqd_t mq;
};

static int mq_seq;

static int mq_open_chan(struct chan *c)
{
	struct mq_state *s = chan_priv(c, sizeof(*s));
	struct mq_attr a = { 0 };
	char name[64];

	if (!s)
		return -ENOMEM;
	a.mq_maxmsg = c->cfg.capacity ? c->cfg.capacity : 1;
	a.mq_msgsize = c->cfg.msg_size;
	snprintf(name, sizeof(name), "/ipcbox-bench-%d-%d", getpid(), mq_seq++);
	s->mq = mq_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &a);
	if (s->mq == (mqd_t)-1)
		return -errno;
	mq_unlink(name);
	snprintf(c->note, sizeof(c->note), "mq_maxmsg %ld%s", a.mq_maxmsg,
		 c->cfg.capacity ? "" : " (no rendezvous: 1)");
	return 0;
}

static int mq_send_chan(struct chan *c, const void *buf)
{
	struct mq_state *s = c->priv;
	int r;

	do
		r = mq_send(s->mq, buf, c->cfg.msg_size, 0);
	while (sys_again(r));
	return r ? -1 : 0;
}

static int mq_recv_chan(struct chan *c, void *buf)
{
	struct mq_state *s = c->priv;
	ssize_t r;

	do
		r = mq_receive(s->mq, buf, c->cfg.msg_size, NULL);
	while (sys_again(r));
	return r == (ssize_t)c->cfg.msg_size ? 0 : -1;
}

static void mq_close_chan(struct chan *c)
{
	struct mq_state *s = c->priv;

	mq_close(s->mq);
}

const struct chan_ops posix_mq_ops = {
	.open = mq_open_chan, .close = mq_close_chan,
	.send = mq_send_chan, .recv = mq_recv_chan,
	CHAN_OPS_FROM_SEND_RECV,
};

/* ---- SysV msg ------------------------------------------------------ */

struct sysv_msg {
	long mtype;
	char mtext[];
};

struct sysv_state {
	int msqid;
	struct sysv_msg *buf;	/* one message with its mtype */
};

static long sysv_msgmax(void)
{
	FILE *f = fopen("/proc/sys/kernel/msgmax", "r");
	long msgmax = 8192;

	if (f) {
		if (fscanf(f, "%ld", &msgmax) != 1)
			msgmax = 8192;
		fclose(f);
	}
	return msgmax;
}

static int sysv_open_chan(struct chan *c)
{
	struct sysv_state *s = chan_priv(c, sizeof(*s));
	unsigned long qbytes = (unsigned long)c->cfg.capacity * c->cfg.msg_size;
	struct msqid_ds ds;

	if (!s)
		return -ENOMEM;
	if ((long)c->cfg.msg_size > sysv_msgmax())
		return -EMSGSIZE;	/* raise kernel.msgmax (the guest does) */
	s->buf = malloc(sizeof(long) + c->cfg.msg_size);
	if (!s->buf)
		return -ENOMEM;
	s->msqid = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	if (s->msqid < 0)
		return -errno;
	if (qbytes < c->cfg.msg_size)
		qbytes = c->cfg.msg_size;
	if (!msgctl(s->msqid, IPC_STAT, &ds)) {
		ds.msg_qbytes = qbytes;
		msgctl(s->msqid, IPC_SET, &ds);
		msgctl(s->msqid, IPC_STAT, &ds);
	}
	snprintf(c->note, sizeof(c->note), "msg_qbytes %lu B (%lu msgs)%s",
		 (unsigned long)ds.msg_qbytes,
		 (unsigned long)ds.msg_qbytes / c->cfg.msg_size,
		 c->cfg.capacity ? "" : " (no rendezvous)");
	return 0;
}

static int sysv_send_chan(struct chan *c, const void *buf)
{
	struct sysv_state *s = c->priv;
	struct sysv_msg *m = s->buf;
	int r;

	/* The copy into the mtype-prefixed buffer is part of the API's cost. */
	m->mtype = 1;
	memcpy(m->mtext, buf, c->cfg.msg_size);
	do
		r = msgsnd(s->msqid, m, c->cfg.msg_size, 0);
	while (sys_again(r));
	return r ? -1 : 0;
}

static int sysv_recv_chan(struct chan *c, void *buf)
{
	struct sysv_state *s = c->priv;
	struct sysv_msg *m = s->buf;
	ssize_t r;

	do
		r = msgrcv(s->msqid, m, c->cfg.msg_size, 0, 0);
	while (sys_again(r));
	if (r != (ssize_t)c->cfg.msg_size)
		return -1;
	memcpy(buf, m->mtext, r);
	return 0;
}

static void sysv_close_chan(struct chan *c)
{
	struct sysv_state *s = c->priv;

	msgctl(s->msqid, IPC_RMID, NULL);
	free(s->buf);
}

const struct chan_ops sysv_msg_ops = {
	.open = sysv_open_chan, .close = sysv_close_chan,
	.send = sysv_send_chan, .recv = sysv_recv_chan,
	CHAN_OPS_FROM_SEND_RECV,
};
