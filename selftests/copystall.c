// SPDX-License-Identifier: GPL-2.0
/*
 * A receiver stalled inside the copy of its message: the RECV buffer is a
 * userfaultfd page that is not there yet, so the copy to it stops at the
 * first byte, after the mailbox gave the message to the receiver and
 * before the receiver has it. While it stands still the test does one of
 *
 *   shutdown	SHUTDOWN of the mailbox,
 *   close	close of every other fd of the mailbox (and its name),
 *   timeout	the sender's short timeout runs out,
 *   sigkill	SIGKILL of the stalled receiver (a child process),
 *
 * and then lets the copy go on (UFFDIO_COPY) or fail (the page is
 * unmapped, then UFFDIO_WAKE). The message is a SYNC send on a bounded
 * mailbox, a send to a rendezvous mailbox, or a CALL request.
 *
 * The contract: a message is never lost and never delivered twice; a
 * SYNC or rendezvous send succeeded if and only if a receiver got the
 * message; a CALL returned a reply if and only if a REPLY to its request
 * returned 0, and otherwise failed with the error the event explains.
 * Afterwards the STAT counters agree: nothing queued or waiting, as many
 * received as the receivers got. While the copy stands still, CALLs on a
 * second mailbox are received, so that a call context freed too early is
 * reused by one of theirs and their replies go wrong.
 *
 * Skips when userfaultfd(2) is not available.
 */
#include "ipcbox_test.h"
#include "kselftest_harness.h"

#define PAGE		4096
#define MSZ		64
#define LONG_NS		(8 * NSEC_PER_SEC)	/* must not expire */
#define SHORT_NS	(300 * NSEC_PER_MSEC)	/* the sender's short timeout */
#define NR_DECOYS	4
#define MAX_POST	4
#define MAGIC		0x43505354	/* "CPST" */

enum cs_kind { K_SYNC, K_RENDEZVOUS, K_CALL };
enum cs_event { E_SHUTDOWN, E_CLOSE, E_TIMEOUT, E_SIGKILL };
enum cs_outcome { O_COPY, O_FAULT };

struct cs_msg {
	uint32_t magic;
	uint32_t id;
	uint8_t fill[MSZ - 8];
};

/* What the receiver process saw, sent to the parent through a pipe. */
struct cs_report {
	int stalled_ret;	/* the stalled RECV */
	uint32_t stalled_id;
	int stalled_reply;	/* its REPLY, for a request */
	int post;		/* messages received after it */
	uint32_t post_id[MAX_POST];
	int post_reply[MAX_POST];
	int stat_ret;
	struct ipcbox_stat st;
};

static void fill_msg(struct cs_msg *m, uint32_t id)
{
	uint32_t i;

	m->magic = MAGIC;
	m->id = id;
	for (i = 0; i < sizeof(m->fill); i++)
		m->fill[i] = (uint8_t)(id * 7 + i);
}

static bool msg_ok(const struct cs_msg *m, uint32_t id)
{
	struct cs_msg ref;

	fill_msg(&ref, id);
	return !memcmp(&ref, m, sizeof(ref));
}

/* The receiver's fault handler: tells the parent, then does as told. */
struct handler {
	pthread_t thread;
	int uffd;
	char *page;
	int to_parent;
	int from_parent;
};

static void *handler_fn(void *arg)
{
	struct handler *h = arg;
	struct uffdio_range range;
	struct uffdio_copy cp;
	static char zero[PAGE];
	char cmd = 'F';

	if (!uffd_fault_seen(h->uffd, 10000))
		cmd = 'X';
	if (write(h->to_parent, &cmd, 1) != 1 || cmd == 'X')
		return NULL;
	if (read_full(h->from_parent, &cmd, 1, 30000) != 1)
		return NULL;
	if (cmd == 'C') {
		memset(&cp, 0, sizeof(cp));
		cp.dst = (uintptr_t)h->page;
		cp.src = (uintptr_t)zero;
		cp.len = PAGE;
		ioctl(h->uffd, UFFDIO_COPY, &cp);
	} else {
		munmap(h->page, PAGE);
		range.start = (uintptr_t)h->page;
		range.len = PAGE;
		ioctl(h->uffd, UFFDIO_WAKE, &range);
	}
	return NULL;
}

static int reply_to(int fd, uint64_t token, uint32_t id)
{
	char rep[16];

	snprintf(rep, sizeof(rep), "re:%08x", id);
	return mb_reply(fd, token, rep, 11);
}

/* Take whatever is still there, answering requests; into @r. */
static void drain(int fd, struct cs_report *r)
{
	struct ipcbox_msg_info info;
	struct cs_msg m;
	int n;

	while (r->post < MAX_POST) {
		memset(&m, 0, sizeof(m));
		n = mb_recv_full(fd, &m, sizeof(m), IPCBOX_NONBLOCK, 0, 0,
				 0, &info);
		if (n < 0)
			break;
		r->post_id[r->post] = n == sizeof(m) && m.magic == MAGIC ?
				      m.id : ~0u;
		r->post_reply[r->post] = info.token ?
			reply_to(fd, info.token, m.id) : 1;
		r->post++;
	}
}

/*
 * The receiver process: its own open of the mailbox, a RECV into the
 * missing page, a REPLY if it was a request, then what is left.
 */
static int receiver(const char *name, int to_parent, int from_parent)
{
	struct ipcbox_msg_info info;
	struct cs_report r;
	struct handler h;
	char ready = 'R';
	int fd;

	memset(&r, 0, sizeof(r));
	fd = mb_open(name, O_RDWR | O_CLOEXEC);
	h.uffd = uffd_open();
	if (fd < 0 || h.uffd < 0)
		return 1;
	h.page = uffd_area(h.uffd, PAGE);
	if (h.page == MAP_FAILED)
		return 1;
	h.to_parent = to_parent;
	h.from_parent = from_parent;
	if (pthread_create(&h.thread, NULL, handler_fn, &h))
		return 1;
	if (write(to_parent, &ready, 1) != 1)
		return 1;

	r.stalled_ret = mb_recv_full(fd, h.page, PAGE, 0, LONG_NS, 0, 0, &info);
	pthread_join(h.thread, NULL);
	if (r.stalled_ret == sizeof(struct cs_msg)) {
		const struct cs_msg *m = (const void *)h.page;

		r.stalled_id = m->magic == MAGIC ? m->id : ~0u;
		r.stalled_reply = info.token ?
			reply_to(fd, info.token, m->id) : 1;
	}
	drain(fd, &r);
	/* the counters once the sender is done too */
	if (read_full(from_parent, &ready, 1, 30000) != 1)
		return 1;
	r.stat_ret = mb_stat(fd, &r.st);
	if (write(to_parent, &r, sizeof(r)) != sizeof(r))
		return 1;
	close(fd);
	return 0;
}

/* The sender, a thread of the test: a SYNC send, a send or a CALL. */
struct sender {
	pthread_t thread;
	int fd;
	enum cs_kind kind;
	int64_t timeout;
	struct cs_msg msg;
	char reply[64];
	int ret;
	volatile int done;
};

static void *sender_fn(void *arg)
{
	struct sender *s = arg;

	if (s->kind == K_CALL)
		s->ret = mb_call(s->fd, &s->msg, sizeof(s->msg), s->timeout,
				 0, s->reply, sizeof(s->reply), NULL);
	else
		s->ret = mb_send(s->fd, &s->msg, sizeof(s->msg),
				 s->kind == K_SYNC ? IPCBOX_SEND_SYNC : 0,
				 s->timeout);
	__atomic_store_n(&s->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Calls on a second mailbox, received and held while the copy stalls. */
struct decoy {
	pthread_t thread;
	int fd;
	uint32_t id;
	struct cs_msg msg;
	char reply[64];
	int ret;
};

static void *decoy_fn(void *arg)
{
	struct decoy *d = arg;

	d->ret = mb_call(d->fd, &d->msg, sizeof(d->msg), LONG_NS, 0, d->reply,
			 sizeof(d->reply), NULL);
	return NULL;
}

FIXTURE(copystall) {
	int ctl;
	int fd;		/* the test's own open, owner of the mailbox */
	int send_fd;	/* the sender's open */
	int decoy_fd;
	char name[IPCBOX_NAME_MAX];
	pid_t child;
	int to_child;
	int from_child;
	int base_mailboxes;
	int base_refcnt;
};

FIXTURE_VARIANT(copystall) {
	enum cs_kind kind;
	enum cs_event event;
	enum cs_outcome outcome;
};

#define CS_VARIANT(k, kv, e, ev, o, ov)				\
	FIXTURE_VARIANT_ADD(copystall, k##_##e##_##o) {		\
		.kind = kv, .event = ev, .outcome = ov,		\
	}
#define CS_VARIANTS(k, kv)						\
	CS_VARIANT(k, kv, shutdown, E_SHUTDOWN, copy_done, O_COPY);	\
	CS_VARIANT(k, kv, shutdown, E_SHUTDOWN, copy_faults, O_FAULT);	\
	CS_VARIANT(k, kv, close, E_CLOSE, copy_done, O_COPY);		\
	CS_VARIANT(k, kv, close, E_CLOSE, copy_faults, O_FAULT);	\
	CS_VARIANT(k, kv, timeout, E_TIMEOUT, copy_done, O_COPY);	\
	CS_VARIANT(k, kv, timeout, E_TIMEOUT, copy_faults, O_FAULT);	\
	CS_VARIANT(k, kv, sigkill, E_SIGKILL, receiver_dies, O_FAULT)

CS_VARIANTS(sync, K_SYNC);
CS_VARIANTS(rendezvous, K_RENDEZVOUS);
CS_VARIANTS(call, K_CALL);

FIXTURE_SETUP(copystall)
{
	cpu_set_t cpus;
	int uffd;

	self->fd = -1;
	self->send_fd = -1;
	self->decoy_fd = -1;
	self->to_child = -1;
	self->from_child = -1;
	self->child = -1;
	self->name[0] = '\0';
	CTL_OPEN_OR_SKIP(self->ctl);
	uffd = uffd_open();
	if (uffd < 0)
		SKIP(return, "userfaultfd: %s (kernel without CONFIG_USERFAULTFD?)",
		     strerror(-uffd));
	close(uffd);
	/* One CPU: a call context freed too early is the next one made. */
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	sched_setaffinity(0, sizeof(cpus), &cpus);
	self->base_mailboxes = nr_mailboxes(self->ctl);
	self->base_refcnt = module_refcnt();
	test_name(self->name, sizeof(self->name), "stall");
	self->fd = mb_create(self->ctl, self->name,
			     variant->kind == K_RENDEZVOUS ? 0 : 4, MSZ, 0600,
			     IPCBOX_CREATE_CLOEXEC);
	ASSERT_GE(self->fd, 0) TH_LOG("create: %s", strerror(-self->fd));
	self->decoy_fd = mb_anon(self->ctl, NR_DECOYS, MSZ);
	ASSERT_GE(self->decoy_fd, 0);
}

FIXTURE_TEARDOWN(copystall)
{
	if (self->child > 0) {
		kill(self->child, SIGKILL);
		waitpid(self->child, NULL, 0);
	}
	close_fd(&self->to_child);
	close_fd(&self->from_child);
	close_fd(&self->send_fd);
	close_fd(&self->decoy_fd);
	close_fd(&self->fd);
	if (self->ctl >= 0 && self->name[0])
		mb_unlink(self->ctl, self->name);
	close_fd(&self->ctl);
}

/* Join @t within @ms; false if it is still running then. */
static bool join_within(pthread_t t, long ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * NSEC_PER_MSEC;
	if (ts.tv_nsec >= NSEC_PER_SEC) {
		ts.tv_sec++;
		ts.tv_nsec -= NSEC_PER_SEC;
	}
	return pthread_timedjoin_np(t, NULL, &ts) == 0;
}

TEST_F_TIMEOUT(copystall, message_is_delivered_once_and_the_sender_agrees, 90)
{
	static const char * const kinds[] = { "SYNC", "rendezvous", "CALL" };
	static const char * const events[] = { "shutdown", "close", "timeout",
					       "sigkill" };
	int to_child[2], from_child[2], i, status, delivered, replied_ok;
	bool withdrawn;
	int decoy_lost = 0, reply_ret = 1;
	uint64_t tokens[NR_DECOYS] = { 0 };
	struct decoy decoys[NR_DECOYS];
	struct ipcbox_msg_info info;
	struct cs_report r;
	struct sender s;
	struct cs_msg m;
	bool call = variant->kind == K_CALL;
	char c;
	int64_t t0 = now_ns();

	self->send_fd = mb_open(self->name, O_RDWR | O_CLOEXEC);
	ASSERT_GE(self->send_fd, 0);
	ASSERT_EQ(0, pipe2(to_child, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(from_child, O_CLOEXEC));
	self->child = fork();
	ASSERT_GE(self->child, 0);
	if (self->child == 0) {
		close(self->fd);
		close(self->send_fd);
		close(self->decoy_fd);
		_exit(receiver(self->name, from_child[1], to_child[0]));
	}
	close(to_child[0]);
	close(from_child[1]);
	self->to_child = to_child[1];
	self->from_child = from_child[0];
	ASSERT_EQ(1, read_full(self->from_child, &c, 1, 10000));
	ASSERT_EQ('R', c);
	ASSERT_TRUE(mb_wait_waiters(self->fd, 0, 1, 10000));

	memset(&s, 0, sizeof(s));
	s.fd = self->send_fd;
	s.kind = variant->kind;
	s.timeout = variant->event == E_TIMEOUT ? SHORT_NS : LONG_NS;
	fill_msg(&s.msg, 1);
	ASSERT_EQ(0, pthread_create(&s.thread, NULL, sender_fn, &s));

	/* The receiver has the message and stands still in its copy. */
	ASSERT_EQ(1, read_full(self->from_child, &c, 1, 10000))
		TH_LOG("the receive never faulted");
	ASSERT_EQ('F', c);

	switch (variant->event) {
	case E_SHUTDOWN:
		ASSERT_EQ(0, mb_shutdown(self->fd));
		break;
	case E_CLOSE:
		/* the sender's close takes effect when its call returns */
		close_fd(&self->send_fd);
		close_fd(&self->fd);
		ASSERT_EQ(0, mb_unlink(self->ctl, self->name));
		self->name[0] = '\0';
		break;
	case E_TIMEOUT:
		/* a send still waiting gives up now */
		sleep_ms(SHORT_NS / NSEC_PER_MSEC + 100);
		break;
	case E_SIGKILL:
		kill(self->child, SIGKILL);
		ASSERT_EQ(self->child, waitpid(self->child, &status, 0));
		self->child = -1;
		break;
	}
	/* A sender whose call ended frees its call context now. */
	if (variant->event != E_CLOSE)
		sleep_ms(50);

	/* Meanwhile calls elsewhere are received and held. */
	for (i = 0; i < NR_DECOYS && call; i++) {
		memset(&decoys[i], 0, sizeof(decoys[i]));
		decoys[i].fd = self->decoy_fd;
		decoys[i].id = 100 + i;
		fill_msg(&decoys[i].msg, decoys[i].id);
		ASSERT_EQ(0, pthread_create(&decoys[i].thread, NULL, decoy_fn,
					    &decoys[i]));
		ASSERT_EQ(sizeof(m), mb_recv_full(self->decoy_fd, &m, sizeof(m),
						  0, LONG_NS, 0, 0, &info));
		ASSERT_NE(0, info.token);
		ASSERT_TRUE(m.id >= 100 && m.id < 100 + NR_DECOYS &&
			    msg_ok(&m, m.id));
		tokens[m.id - 100] = info.token;
	}

	if (variant->event != E_SIGKILL) {
		c = variant->outcome == O_COPY ? 'C' : 'U';
		ASSERT_EQ(1, write(self->to_child, &c, 1));
	} else {
		/* what the dead receiver had goes to the next one */
		memset(&r, 0, sizeof(r));
		r.stalled_ret = -EINTR;
		drain(self->fd, &r);
	}

	/* The sender is done, one way or the other, in time. */
	EXPECT_TRUE(join_within(s.thread, LONG_NS / NSEC_PER_MSEC + 2000))
		TH_LOG("the sender still waits");
	if (!s.done) {
		/* nothing more can come: let it go to see the rest */
		if (self->fd >= 0)
			mb_shutdown(self->fd);
		pthread_join(s.thread, NULL);
	}
	if (variant->event != E_SIGKILL) {
		c = 'S';
		ASSERT_EQ(1, write(self->to_child, &c, 1));
		ASSERT_EQ(sizeof(r), read_full(self->from_child, &r, sizeof(r),
					       20000))
			TH_LOG("no report from the receiver");
		ASSERT_EQ(self->child, waitpid(self->child, &status, 0));
		self->child = -1;
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	} else {
		r.stat_ret = mb_stat(self->fd, &r.st);
	}

	/* The decoy calls are still in hand: each answer arrives. */
	for (i = 0; i < NR_DECOYS && call; i++) {
		int ret = reply_to(self->decoy_fd, tokens[i], 100 + i);

		if (ret)
			decoy_lost++;
		EXPECT_EQ(0, ret) TH_LOG("REPLY to held call %d: %s", i,
					 strerror(-ret));
		if (ret)
			mb_shutdown(self->decoy_fd);
	}
	for (i = 0; i < NR_DECOYS && call; i++) {
		pthread_join(decoys[i].thread, NULL);
		EXPECT_EQ(11, decoys[i].ret) TH_LOG("held call %d: %s", i,
						   strerror(-decoys[i].ret));
		EXPECT_TRUE(decoys[i].ret != 11 ||
			    !memcmp(decoys[i].reply, "re:", 3));
	}

	delivered = r.stalled_ret == sizeof(m) ? 1 : 0;
	replied_ok = delivered && r.stalled_reply == 0;
	if (delivered) {
		EXPECT_EQ(1, r.stalled_id);
		reply_ret = r.stalled_reply;
	}
	for (i = 0; i < r.post; i++) {
		EXPECT_EQ(1, r.post_id[i]);
		delivered++;
		if (r.post_reply[i] == 0)
			replied_ok++;
		reply_ret = r.post_reply[i];
	}
	ksft_print_msg("copystall: %s %s %s: send=%d (%s) stalled_recv=%d received_after=%d delivered=%d reply=%d decoys_lost=%d depth=%u waiting=%u/%u sent=%llu received=%llu secs=%.1f\n",
		       kinds[variant->kind], events[variant->event],
		       variant->event == E_SIGKILL ? "killed" :
		       variant->outcome == O_COPY ? "copied" : "faulted",
		       s.ret, s.ret < 0 ? strerror(-s.ret) : "ok",
		       r.stalled_ret, r.post, delivered, call ? reply_ret : 0,
		       decoy_lost, r.st.depth, r.st.waiting_senders,
		       r.st.waiting_receivers,
		       (unsigned long long)r.st.sent,
		       (unsigned long long)r.st.received,
		       (now_ns() - t0) / 1e9);

	/*
	 * A request counts as received only once its receiver has copied it
	 * out: until then SHUTDOWN or the caller's timeout withdraws it, and
	 * the stalled receive goes on as if it had never been there (EPIPE
	 * once shut down and drained, or its own timeout).
	 */
	withdrawn = call && !delivered &&
		    (s.ret == -EPIPE || s.ret == -ETIMEDOUT);

	/* never lost, never twice */
	EXPECT_GE(1, delivered) TH_LOG("the message was delivered %d times",
				       delivered);
	if (withdrawn) {
		EXPECT_TRUE(r.stalled_ret == -EPIPE ||
			    r.stalled_ret == -ETIMEDOUT)
			TH_LOG("stalled receive of a withdrawn request: %s",
			       strerror(-r.stalled_ret));
	} else if (variant->outcome == O_COPY && variant->event != E_SIGKILL) {
		EXPECT_EQ(sizeof(m), r.stalled_ret)
			TH_LOG("the copy went on, yet the receive failed: %s",
			       strerror(-r.stalled_ret));
	} else if (r.stalled_ret < 0) {
		EXPECT_TRUE(r.stalled_ret == -EFAULT || r.stalled_ret == -EINTR)
			TH_LOG("stalled receive: %s", strerror(-r.stalled_ret));
	}
	if (!call) {
		/* success if and only if a receiver got it */
		EXPECT_EQ(s.ret == 0, delivered == 1)
			TH_LOG("send returned %d, delivered %d times", s.ret,
			       delivered);
		if (s.ret) {
			EXPECT_TRUE(s.ret == -EPIPE ? variant->event == E_SHUTDOWN :
				    s.ret == -ETIMEDOUT &&
				    variant->event == E_TIMEOUT)
				TH_LOG("send failed with %s", strerror(-s.ret));
		}
	} else {
		/* a reply if and only if a REPLY returned 0 */
		EXPECT_EQ(s.ret == 11, replied_ok == 1)
			TH_LOG("CALL returned %d, %d REPLYs returned 0", s.ret,
			       replied_ok);
		if (s.ret == 11)
			EXPECT_EQ(0, memcmp(s.reply, "re:00000001", 11));
		if (s.ret < 0) {
			EXPECT_TRUE((s.ret == -EPIPE &&
				     variant->event == E_SHUTDOWN) ||
				    (s.ret == -ETIMEDOUT &&
				     variant->event == E_TIMEOUT) ||
				    s.ret == -ECONNRESET)
				TH_LOG("CALL failed with %s", strerror(-s.ret));
		}
		/* a request delivered to a caller that failed: no answer */
		if (s.ret < 0 && delivered) {
			EXPECT_TRUE(reply_ret == -ECANCELED ||
				    reply_ret == -ENOENT)
				TH_LOG("REPLY to a failed CALL: %d", reply_ret);
		}
	}
	/* and the counters agree */
	ASSERT_EQ(0, r.stat_ret);
	EXPECT_EQ(0, r.st.depth);
	EXPECT_EQ(0, r.st.waiting_senders);
	EXPECT_EQ(0, r.st.waiting_receivers);
	EXPECT_EQ(delivered, r.st.received);
	EXPECT_GE(r.st.sent, r.st.received);

	/* nothing left behind once every fd is closed */
	close_fd(&self->send_fd);
	close_fd(&self->fd);
	if (self->name[0]) {
		EXPECT_EQ(0, mb_unlink(self->ctl, self->name));
		self->name[0] = '\0';
	}
	close_fd(&self->decoy_fd);
	EXPECT_EQ(self->base_mailboxes,
		  wait_nr_mailboxes(self->ctl, self->base_mailboxes, 5000));
	EXPECT_EQ(self->base_refcnt, module_refcnt());
}

TEST_HARNESS_MAIN
