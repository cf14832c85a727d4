// SPDX-License-Identifier: GPL-2.0
/*
 * The interface every transport shares: full-length stream I/O, the
 * scenario calls made of send and recv, the backend table and the
 * opening and closing of channels.
 */
#include "bench.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

__thread struct proc_stats *cur_stats;

/*
 * Full-length I/O for stream ends, so that messages are whole on
 * return: reads into @rbuf, or writes @wbuf when that is not NULL.
 */
static int full_io(int fd, void *rbuf, const void *wbuf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r = wbuf ? write(fd, (const char *)wbuf + done, len - done) :
				   read(fd, (char *)rbuf + done, len - done);

		if (sys_again(r))
			continue;
		if (r <= 0)
			return -1;
		done += r;
	}
	return 0;
}

int xread(int fd, void *buf, size_t len)
{
	return full_io(fd, buf, NULL, len);
}

int xwrite(int fd, const void *buf, size_t len)
{
	return full_io(fd, NULL, buf, len);
}

/* The transport's state, zeroed, freed by chan_close(). */
void *chan_priv(struct chan *c, size_t size)
{
	c->priv = calloc(1, size);
	return c->priv;
}

void close_fds(struct chan *c)
{
	if (c->fd[0] >= 0)
		close(c->fd[0]);
	if (c->fd[1] >= 0)
		close(c->fd[1]);
}

/* ---- the scenario calls of a transport that has send and recv ------- */

int sendv_each(struct chan *c, const void *bufs, int n)
{
	for (int i = 0; i < n; i++)
		if (c->be->ops->send(c, (const char *)bufs +
					(size_t)i * c->cfg.msg_size))
			return -1;
	return 0;
}

int recvv_one(struct chan *c, void *bufs, int max)
{
	(void)max;
	return c->be->ops->recv(c, bufs) ? -1 : 1;
}

/* A round trip over two channels: request on @req, reply on @rep. */
int call_pair(struct chan *req, struct chan *rep, const void *msg,
	      void *reply)
{
	return req->be->ops->send(req, msg) || rep->be->ops->recv(rep, reply);
}

/* The server echoes what it got, as the reply. */
int serve_pair(struct chan *req, struct chan *rep, void *buf)
{
	return req->be->ops->recv(req, buf) || rep->be->ops->send(rep, buf);
}

int serve_end_none(struct chan *req, const void *buf)
{
	(void)req;
	(void)buf;
	return 0;
}

/* ---- the backend table ----------------------------------------------- */

/*
 * ipcbox-call (one ioctl that sends a request and waits for the reply)
 * and ipcbox-batch (several messages per system call) have their rows
 * here; each is skipped with a note when the module's INFO features lack
 * its bit, or while it has no operations.
 */
#ifdef IPCBOX_FEAT_CALL
#define BENCH_FEAT_CALL IPCBOX_FEAT_CALL
#else
#define BENCH_FEAT_CALL 0
#endif
#ifdef IPCBOX_FEAT_BATCH
#define BENCH_FEAT_BATCH IPCBOX_FEAT_BATCH
#else
#define BENCH_FEAT_BATCH 0
#endif

struct backend backends[] = {
	{ .name = "ipcbox", .desc = "ipcbox SEND/RECV ioctls", .ipcbox = 1,
	  .fixed_capacity = -1, .ops = &ipcbox_ops },
	{ .name = "ipcbox-rw", .desc = "ipcbox write(2)/read(2)", .ipcbox = 1,
	  .fixed_capacity = -1, .ops = &ipcbox_rw_ops },
	{ .name = "ipcbox-rdv", .desc = "ipcbox capacity 0 (rendezvous)",
	  .ipcbox = 1, .need_feature = IPCBOX_FEAT_RENDEZVOUS,
	  .fixed_capacity = 0, .ops = &ipcbox_ops },
	{ .name = "ipcbox-call",
	  .desc = "ipcbox CALL / REPLY_RECV (libipcbox), one mailbox",
	  .ipcbox = 1, .need_feature = BENCH_FEAT_CALL, .fixed_capacity = -1,
	  .ops = &ipcbox_call_ops },
	{ .name = "ipcbox-batch",
	  .desc = "ipcbox SENDV / RECVV (libipcbox), 1, 8 or 64 per call",
	  .ipcbox = 1, .need_feature = BENCH_FEAT_BATCH, .fixed_capacity = -1,
	  .batched = 1, .ops = &ipcbox_batch_ops },
	{ .name = "pipe", .desc = "pipe(2)", .fixed_capacity = -1,
	  .ops = &pipe_ops },
	{ .name = "seqpacket", .desc = "UNIX SOCK_SEQPACKET socketpair",
	  .fixed_capacity = -1, .ops = &seqpacket_ops },
	{ .name = "posix-mq", .desc = "POSIX mq_send/mq_receive",
	  .fixed_capacity = -1, .ops = &posix_mq_ops },
	{ .name = "sysv-msg", .desc = "SysV msgsnd/msgrcv", .fixed_capacity = -1,
	  .ops = &sysv_msg_ops },
	{ .name = "shm-ring", .desc = "eventfd + shared-memory ring (floor)",
	  .fixed_capacity = -1, .ops = &shm_ring_ops },
};

const int nr_backends = sizeof(backends) / sizeof(backends[0]);

void probe_backends(void)
{
	int i;

	ipcbox_probe();
	for (i = 0; i < nr_backends; i++) {
		struct backend *b = &backends[i];

		if (b->ipcbox && ipcbox_ctl < 0)
			b->skip = "no /dev/ipcbox/control (module not loaded)";
		else if (b->need_feature == 0 && !b->ops)
			b->skip = "not in this ABI (no feature bit defined)";
		else if ((ipcbox_inf.features & b->need_feature) != b->need_feature)
			b->skip = "the module's INFO features lack it";
		else if (!b->ops)
			b->skip = "the module offers it; this backend is not written yet";
	}
}

int chan_open(struct chan *c, const struct backend *b,
	      const struct chan_cfg *cfg)
{
	int r;

	memset(c, 0, sizeof(*c));
	c->be = b;
	c->cfg = *cfg;
	if (b->fixed_capacity >= 0)
		c->cfg.capacity = b->fixed_capacity;
	c->fd[0] = c->fd[1] = -1;
	r = b->ops->open(c);
	if (r) {
		free(c->priv);
		c->priv = NULL;
	}
	return r;
}

void chan_close(struct chan *c)
{
	c->be->ops->close(c);
	free(c->priv);
}

int backend_wanted(const struct backend *b)
{
	char list[256], *p, *save = NULL;

	if (!opt_only)
		return 1;
	snprintf(list, sizeof(list), "%s", opt_only);
	for (p = strtok_r(list, ",", &save); p; p = strtok_r(NULL, ",", &save))
		if (!strcmp(p, b->name))
			return 1;
	return 0;
}
