// SPDX-License-Identifier: GPL-2.0
/*
 * SIGKILL of tasks blocked in ipcbox: senders on a full bounded mailbox,
 * receivers on an empty one, senders on a rendezvous mailbox and SYNC
 * senders, CALL callers and servers. A killed blocked send delivers
 * nothing, a killed blocked receive consumes nothing, the waiter counts
 * drop back, and the survivors keep working.
 *
 * The chaos cases run a surviving producer and consumer for
 * IPCBOX_SIGKILL_SECS seconds (default 8) while victim senders and
 * receivers are forked and killed at random moments: no message is
 * received twice or made up, and of the messages whose send returned 0
 * at most one per killed receiver is missing (the one it may have taken
 * just before it died).
 */
#include "ipcbox_test.h"
#include "kselftest_harness.h"

#define NR_VICTIMS	4
#define ROUNDS		10
#define DEFAULT_SECS	8

/* SIGKILL and reap: returns how many died of that SIGKILL. */
static int kill_all(pid_t *pids, int n)
{
	int i, status, killed = 0;

	for (i = 0; i < n; i++)
		kill(pids[i], SIGKILL);
	for (i = 0; i < n; i++) {
		if (waitpid(pids[i], &status, 0) != pids[i])
			continue;
		if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
			killed++;
	}
	return killed;
}

enum victim_op {
	V_SEND,		/* blocking send */
	V_SEND_SYNC,	/* SYNC send */
	V_SEND_TIMED,	/* send with a long timeout */
	V_RECV,		/* blocking receive */
	V_RECV_FILTER,	/* tag-filtered receive with a long timeout */
	V_READ,		/* read(2) */
	V_CALL,		/* CALL */
};

static pid_t victim(int fd, enum victim_op op, int ctl)
{
	pid_t pid = fork();
	char buf[64] = "victim";
	struct ipcbox_call c;
	int priv;

	if (pid)
		return pid;
	/* a private mailbox with a queued message dies with the victim */
	priv = mb_anon(ctl, 4, 64);
	if (priv >= 0)
		mb_send(priv, "private", 7, 0, 0);
	switch (op) {
	case V_SEND:
		mb_send_full(fd, buf, 6, 0, -1, 0, 0xdead, NULL);
		break;
	case V_SEND_SYNC:
		mb_send_full(fd, buf, 6, IPCBOX_SEND_SYNC, -1, 0, 0xdead, NULL);
		break;
	case V_SEND_TIMED:
		mb_send_full(fd, buf, 6, 0, 60 * NSEC_PER_SEC, 0, 0xdead, NULL);
		break;
	case V_RECV:
		mb_recv(fd, buf, sizeof(buf), 0, -1);
		break;
	case V_RECV_FILTER:
		mb_recv_full(fd, buf, sizeof(buf), IPCBOX_RECV_FILTER_TAG,
			     60 * NSEC_PER_SEC, 0, 0xbeef, NULL);
		break;
	case V_READ:
		if (read(fd, buf, sizeof(buf)) < 0)
			break;
		break;
	case V_CALL:
		memset(&c, 0, sizeof(c));
		c.buf = (uintptr_t)"request";
		c.len = 7;
		c.timeout_ns = -1;
		c.tag = 0xdead;
		c.reply_buf = (uintptr_t)buf;
		c.reply_size = sizeof(buf);
		ioctl(fd, IPCBOX_IOC_CALL, &c);
		break;
	}
	/* not reached while blocked: the test kills us first */
	_exit(99);
}

FIXTURE(sigkill) {
	int ctl;
	int fd;
	int base_mailboxes;
	int base_refcnt;
};

FIXTURE_SETUP(sigkill)
{
	self->fd = -1;
	CTL_OPEN_OR_SKIP(self->ctl);
	self->base_mailboxes = nr_mailboxes(self->ctl);
	self->base_refcnt = module_refcnt();
}

FIXTURE_TEARDOWN(sigkill)
{
	close_fd(&self->fd);
	close_fd(&self->ctl);
}

/* Nothing the victims made is left: their private mailboxes are freed. */
#define expect_no_leftovers(_metadata, self) \
	__expect_no_leftovers(_metadata, self->ctl, &self->fd, \
			      self->base_mailboxes, self->base_refcnt)

static void __expect_no_leftovers(struct __test_metadata *_metadata, int ctl,
				  int *fd, int base_mailboxes, int base_refcnt)
{
	close_fd(fd);
	EXPECT_EQ(base_mailboxes, wait_nr_mailboxes(ctl, base_mailboxes, 5000));
	EXPECT_EQ(base_refcnt, module_refcnt());
}

static void expect_idle(struct __test_metadata *_metadata, int fd,
			uint32_t depth, uint64_t sent, uint64_t received)
{
	struct ipcbox_stat st;

	ASSERT_EQ(0, mb_stat(fd, &st));
	EXPECT_EQ(0, st.waiting_senders);
	EXPECT_EQ(0, st.waiting_receivers);
	EXPECT_EQ(depth, st.depth);
	EXPECT_EQ(sent, st.sent);
	EXPECT_EQ(received, st.received);
}

TEST_F_TIMEOUT(sigkill, killed_senders_blocked_on_full_deliver_nothing, 120)
{
	pid_t pids[NR_VICTIMS];
	int r, i, kills = 0;
	char buf[64];

	self->fd = mb_anon(self->ctl, 2, 64);
	ASSERT_GE(self->fd, 0);
	for (r = 0; r < ROUNDS; r++) {
		ASSERT_EQ(0, mb_send_full(self->fd, "keep0", 5, 0, 0, 0, 0, NULL));
		ASSERT_EQ(0, mb_send_full(self->fd, "keep1", 5, 0, 0, 0, 0, NULL));
		for (i = 0; i < NR_VICTIMS; i++)
			pids[i] = victim(self->fd, i % 3 == 0 ? V_SEND :
					 i % 3 == 1 ? V_SEND_SYNC : V_SEND_TIMED,
					 self->ctl);
		ASSERT_TRUE(mb_wait_waiters(self->fd, NR_VICTIMS, 0, 10000));
		kills += kill_all(pids, NR_VICTIMS);
		expect_idle(_metadata, self->fd, 2, 2 * (r + 1), 2 * r);
		/* the queue holds what was there before, nothing more */
		EXPECT_EQ(5, mb_recv(self->fd, buf, sizeof(buf), 0, 0));
		EXPECT_EQ(0, memcmp(buf, "keep0", 5));
		EXPECT_EQ(5, mb_recv(self->fd, buf, sizeof(buf), 0, 0));
		EXPECT_EQ(0, memcmp(buf, "keep1", 5));
		EXPECT_EQ(-EAGAIN, mb_recv(self->fd, buf, sizeof(buf), 0, 0));
	}
	ksft_print_msg("sigkill: senders blocked on full: kills=%d rounds=%d\n",
		       kills, ROUNDS);
	EXPECT_EQ(ROUNDS * NR_VICTIMS, kills);
	expect_no_leftovers(_metadata, self);
}

TEST_F_TIMEOUT(sigkill, killed_receivers_blocked_on_empty_consume_nothing, 120)
{
	pid_t pids[NR_VICTIMS];
	int r, i, kills = 0;
	char buf[64];

	self->fd = mb_anon(self->ctl, 2, 64);
	ASSERT_GE(self->fd, 0);
	for (r = 0; r < ROUNDS; r++) {
		for (i = 0; i < NR_VICTIMS; i++)
			pids[i] = victim(self->fd, i % 3 == 0 ? V_RECV :
					 i % 3 == 1 ? V_READ : V_RECV_FILTER,
					 self->ctl);
		ASSERT_TRUE(mb_wait_waiters(self->fd, 0, NR_VICTIMS, 10000));
		kills += kill_all(pids, NR_VICTIMS);
		expect_idle(_metadata, self->fd, 0, 2 * r, 2 * r);
		/* sends queue for the survivor instead of going to the dead */
		ASSERT_EQ(0, mb_send_full(self->fd, "a", 1, 0, 0, 0, 0xbeef, NULL));
		ASSERT_EQ(0, mb_send_full(self->fd, "b", 1, 0, 0, 0, 0, NULL));
		EXPECT_EQ(2, mb_depth(self->fd));
		EXPECT_EQ(1, mb_recv(self->fd, buf, sizeof(buf), 0, 0));
		EXPECT_EQ('a', buf[0]);
		EXPECT_EQ(1, mb_recv(self->fd, buf, sizeof(buf), 0, 0));
		EXPECT_EQ('b', buf[0]);
	}
	ksft_print_msg("sigkill: receivers blocked on empty: kills=%d rounds=%d\n",
		       kills, ROUNDS);
	EXPECT_EQ(ROUNDS * NR_VICTIMS, kills);
	expect_no_leftovers(_metadata, self);
}

TEST_F_TIMEOUT(sigkill, killed_rendezvous_receivers_take_no_later_send, 120)
{
	struct bg_op op;
	pid_t pids[NR_VICTIMS];
	int r, i, kills = 0;
	char buf[64];

	self->fd = mb_anon(self->ctl, 0, 64);
	ASSERT_GE(self->fd, 0);
	for (r = 0; r < ROUNDS; r++) {
		for (i = 0; i < NR_VICTIMS; i++)
			pids[i] = victim(self->fd, i % 2 ? V_RECV : V_READ,
					 self->ctl);
		ASSERT_TRUE(mb_wait_waiters(self->fd, 0, NR_VICTIMS, 10000));
		kills += kill_all(pids, NR_VICTIMS);
		expect_idle(_metadata, self->fd, 0, r, r);
		/* no receiver is left: a non-blocking rendezvous send fails */
		EXPECT_EQ(-EAGAIN, mb_send(self->fd, "x", 1, 0, 0));
		/* and a live one still gets the next message */
		bg_init(&op, BG_RECV, self->fd, 0);
		ASSERT_EQ(0, bg_start(&op));
		ASSERT_TRUE(mb_wait_waiters(self->fd, 0, 1, 10000));
		EXPECT_EQ(0, mb_send(self->fd, "y", 1, 0, -1));
		bg_join(&op);
		EXPECT_EQ(1, op.ret);
		EXPECT_EQ('y', op.buf[0]);
	}
	EXPECT_EQ(-EAGAIN, mb_recv(self->fd, buf, sizeof(buf), 0, 0));
	ksft_print_msg("sigkill: rendezvous receivers: kills=%d rounds=%d\n",
		       kills, ROUNDS);
	EXPECT_EQ(ROUNDS * NR_VICTIMS, kills);
	expect_no_leftovers(_metadata, self);
}

TEST_F_TIMEOUT(sigkill, killed_rendezvous_and_sync_senders_deliver_nothing, 120)
{
	pid_t pids[NR_VICTIMS];
	int r, i, kills = 0, sync_fd;
	char buf[64];

	self->fd = mb_anon(self->ctl, 0, 64);
	ASSERT_GE(self->fd, 0);
	sync_fd = mb_anon(self->ctl, 8, 64);
	ASSERT_GE(sync_fd, 0);
	for (r = 0; r < ROUNDS; r++) {
		for (i = 0; i < NR_VICTIMS; i++)
			pids[i] = victim(self->fd, i % 2 ? V_SEND : V_SEND_SYNC,
					 self->ctl);
		ASSERT_TRUE(mb_wait_waiters(self->fd, NR_VICTIMS, 0, 10000));
		kills += kill_all(pids, NR_VICTIMS);
		expect_idle(_metadata, self->fd, 0, 0, 0);
		EXPECT_EQ(-EAGAIN, mb_recv(self->fd, buf, sizeof(buf), 0, 0));

		for (i = 0; i < NR_VICTIMS; i++)
			pids[i] = victim(sync_fd, V_SEND_SYNC, self->ctl);
		ASSERT_TRUE(mb_wait_waiters(sync_fd, NR_VICTIMS, 0, 10000));
		kills += kill_all(pids, NR_VICTIMS);
		expect_idle(_metadata, sync_fd, 0, 0, 0);
		EXPECT_EQ(-EAGAIN, mb_recv(sync_fd, buf, sizeof(buf), 0, 0));
	}
	/* both still work */
	EXPECT_EQ(0, mb_send(sync_fd, "z", 1, 0, 0));
	EXPECT_EQ(1, mb_recv(sync_fd, buf, sizeof(buf), 0, 0));
	close(sync_fd);
	ksft_print_msg("sigkill: rendezvous and SYNC senders: kills=%d rounds=%d\n",
		       kills, ROUNDS);
	EXPECT_EQ(2 * ROUNDS * NR_VICTIMS, kills);
	expect_no_leftovers(_metadata, self);
}

static int do_reply(int fd, uint64_t token, const char *s)
{
	struct ipcbox_reply rp;

	memset(&rp, 0, sizeof(rp));
	rp.token = token;
	rp.buf = (uintptr_t)s;
	rp.len = strlen(s);
	return sys_ioctl(fd, IPCBOX_IOC_REPLY, &rp);
}

TEST_F_TIMEOUT(sigkill, killed_callers_are_withdrawn_or_cancelled, 120)
{
	struct ipcbox_msg_info info;
	pid_t pids[NR_VICTIMS];
	int r, i, kills = 0;
	char buf[64];

	self->fd = mb_anon(self->ctl, 4, 64);
	ASSERT_GE(self->fd, 0);
	for (r = 0; r < ROUNDS; r++) {
		/* killed before the request was received: it is withdrawn */
		for (i = 0; i < NR_VICTIMS; i++)
			pids[i] = victim(self->fd, V_CALL, self->ctl);
		ASSERT_TRUE(mb_wait_waiters(self->fd, NR_VICTIMS, 0, 10000));
		kills += kill_all(pids, NR_VICTIMS);
		EXPECT_EQ(-EAGAIN, mb_recv(self->fd, buf, sizeof(buf), 0, 0));

		/* killed after: the reply is refused with ECANCELED */
		pids[0] = victim(self->fd, V_CALL, self->ctl);
		ASSERT_EQ(7, mb_recv_full(self->fd, buf, sizeof(buf), 0, -1, 0, 0,
					  &info));
		ASSERT_NE(0, info.token);
		kills += kill_all(pids, 1);
		EXPECT_EQ(-ECANCELED, do_reply(self->fd, info.token, "late"));
		EXPECT_EQ(-ENOENT, do_reply(self->fd, info.token, "again"));
		expect_idle(_metadata, self->fd, 0, r + 1, r + 1);
	}
	ksft_print_msg("sigkill: CALL callers: kills=%d rounds=%d\n", kills, ROUNDS);
	EXPECT_EQ(ROUNDS * (NR_VICTIMS + 1), kills);
	expect_no_leftovers(_metadata, self);
}

/*
 * A message sent while its would-be receiver is being killed (SIGKILL
 * sent, the task not yet gone) must not die with it: the dying receiver
 * takes nothing, and the message stays for the next one.
 */
TEST_F_TIMEOUT(sigkill, message_sent_to_a_dying_receiver_is_not_lost, 120)
{
	unsigned long rounds = env_ul("IPCBOX_SIGKILL_ROUNDS", 40);
	int sent = 0, lost = 0, kills = 0, msent, c, ret;
	static const uint32_t caps[] = { 2, 0 };
	unsigned long r;
	char buf[64];
	pid_t pid;

	for (c = 0; c < 2; c++) {
		self->fd = mb_anon(self->ctl, caps[c], 64);
		ASSERT_GE(self->fd, 0);
		msent = 0;
		for (r = 0; r < rounds; r++) {
			pid = victim(self->fd, r % 2 ? V_RECV : V_READ, self->ctl);
			ASSERT_GT(pid, 0);
			ASSERT_TRUE(mb_wait_waiters(self->fd, 0, 1, 10000));
			kill(pid, SIGKILL);
			/* on capacity 0 this succeeds only by a hand-off */
			ret = mb_send(self->fd, "m", 1, 0,
				      caps[c] ? 0 : 20 * NSEC_PER_MSEC);
			kills += kill_all(&pid, 1);
			if (ret) {
				EXPECT_EQ(caps[c] ? 0 : -ETIMEDOUT, ret);
				continue;
			}
			sent++;
			msent++;
			if (mb_recv(self->fd, buf, sizeof(buf), 0, 0) != 1)
				lost++;
			expect_idle(_metadata, self->fd, 0, msent, msent);
		}
		close_fd(&self->fd);
	}
	ksft_print_msg("sigkill: sends racing a receiver's SIGKILL: kills=%d sent=%d lost=%d\n",
		       kills, sent, lost);
	EXPECT_EQ(2 * rounds, kills);
	EXPECT_LT(0, sent);
	EXPECT_EQ(0, lost);
	expect_no_leftovers(_metadata, self);
}

/*
 * A server with its own open file of the mailbox: it receives one request
 * and then waits to be killed.
 */
static pid_t server_victim(const char *name, int *ready)
{
	struct ipcbox_msg_info info;
	pid_t pid = fork();
	char buf[64];
	int fd;

	if (pid)
		return pid;
	dev_path(buf, sizeof(buf), name);
	fd = open(buf, O_RDWR);
	if (fd < 0 ||
	    mb_recv_full(fd, buf, sizeof(buf), 0, -1, 0, 0, &info) < 0)
		_exit(1);
	__atomic_store_n(ready, 1, __ATOMIC_SEQ_CST);
	for (;;)
		pause();
}

TEST_F_TIMEOUT(sigkill, killed_servers_reset_their_callers, 120)
{
	struct ipcbox_call c;
	pid_t pid;
	int r, kills = 0, resets = 0, *ready;
	char buf[64], name[IPCBOX_NAME_MAX];

	ready = mmap(NULL, sizeof(*ready), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ready);
	test_name(name, sizeof(name), "srv");
	self->fd = mb_create(self->ctl, name, 4, 64, 0600, IPCBOX_CREATE_CLOEXEC);
	ASSERT_GE(self->fd, 0);
	for (r = 0; r < ROUNDS; r++) {
		*ready = 0;
		pid = server_victim(name, ready);
		ASSERT_GT(pid, 0);
		ASSERT_TRUE(mb_wait_waiters(self->fd, 0, 1, 10000));
		memset(&c, 0, sizeof(c));
		c.buf = (uintptr_t)"req";
		c.len = 3;
		c.timeout_ns = -1;
		c.reply_buf = (uintptr_t)buf;
		c.reply_size = sizeof(buf);
		/* the kill happens while this call waits for the reply */
		if (fork() == 0) {
			int64_t end = now_ns() + 10 * NSEC_PER_SEC;

			while (!__atomic_load_n(ready, __ATOMIC_SEQ_CST) &&
			       now_ns() < end)
				sleep_ms(1);
			sleep_ms(20);
			kill(pid, SIGKILL);
			_exit(0);
		}
		EXPECT_EQ(-ECONNRESET, sys_ioctl(self->fd, IPCBOX_IOC_CALL, &c));
		if (kill_all(&pid, 1) == 1)
			kills++;
		while (wait(NULL) > 0)
			;
		resets++;
		expect_idle(_metadata, self->fd, 0, r + 1, r + 1);
	}
	ksft_print_msg("sigkill: CALL servers: kills=%d resets=%d rounds=%d\n",
		       kills, resets, ROUNDS);
	EXPECT_EQ(ROUNDS, kills);
	munmap(ready, sizeof(*ready));
	EXPECT_EQ(0, mb_unlink(self->ctl, name));
	expect_no_leftovers(_metadata, self);
}

/*
 * CALL chaos: a surviving caller and a surviving server keep a stream of
 * CALLs going on a named mailbox while victim servers and victim callers,
 * each on its own open, are forked and killed at a chosen step. Victim
 * servers die blocked before a receive, holding a request unanswered,
 * between a REPLY and the next receive, or inside a REPLY_RECV; victim
 * callers die with their request queued, held by a server, or answered.
 * Every request carries its origin and a counter. At the end: no request
 * was received twice, no REPLY to one returned 0 twice, the survivor's
 * CALLs all ended with the reply to their own request or a documented
 * error, each reply a REPLY returned 0 for reached the surviving caller,
 * and once the mailbox is shut down and closed nothing is left: STAT
 * counters at 0, the module's references and mailboxes as before.
 */
#define CK_ORIGINS	256	/* < CK_SURV: the surviving caller, else victims */
#define CK_SURV		16	/* origins the surviving caller uses in turn */
#define CK_PER		8192	/* most CALLs of one origin */
#define CK_SLOTS	CK_ORIGINS

enum ck_step {
	CK_IDLE,
	CK_SRV_RECV,		/* server: blocked before receiving */
	CK_SRV_HOLDING,		/* server: holds a request unanswered */
	CK_SRV_REPLIED,		/* server: between REPLY and the next receive */
	CK_SRV_REPLY_RECV,	/* server: inside REPLY_RECV */
	CK_CALLER_QUEUED,	/* caller: request not received yet */
	CK_CALLER_HELD,		/* caller: request received, no reply yet */
	CK_CALLER_ANSWERED,	/* caller: REPLY returned 0 */
	CK_NR_STEPS,
};

static const char * const ck_step_names[CK_NR_STEPS] = {
	"idle", "srv_before_recv", "srv_holding", "srv_after_reply",
	"srv_in_reply_recv", "caller_queued", "caller_held",
	"caller_answered",
};

static const char *ck_step_name(int step)
{
	return step > 0 && step < CK_NR_STEPS ? ck_step_names[step] : "?";
}

struct ck_req {
	uint32_t origin;
	uint32_t counter;
	uint32_t check;
};

struct ck_call_shared {
	char name[IPCBOX_NAME_MAX];
	volatile int stop;
	volatile int shutdown_started;
	/* per victim slot: what it does now */
	volatile int step[CK_SLOTS];
	volatile uint32_t cur_origin[CK_SLOTS];
	volatile uint32_t cur_counter[CK_SLOTS];
	uint32_t issued[CK_ORIGINS];
	uint8_t received[CK_ORIGINS][CK_PER];
	uint8_t reply_tried[CK_ORIGINS][CK_PER];
	uint8_t replied[CK_ORIGINS][CK_PER];
	uint8_t result[CK_ORIGINS][CK_PER];	/* 1 reply, 2 error */
	uint64_t ok, errors, bad_errno, wrong_reply, corrupt, srv_bad_errno;
	uint64_t econnreset, etimedout;
	int last_bad_errno, srv_last_bad_errno;
};

static uint32_t ck_check(uint32_t origin, uint32_t counter)
{
	return origin * 2654435761u ^ counter * 97u ^ 0x6b111ed;
}

/* A reply, or the reply half of a REPLY_RECV, to @q ended with @ret. */
static void ck_replied(struct ck_call_shared *sh, const struct ck_req *q,
		       int ret)
{
	if (ret == 0) {
		__atomic_fetch_add(&sh->replied[q->origin][q->counter], 1,
				   __ATOMIC_RELAXED);
	} else if (ret != -ECANCELED && ret != -ENOENT && ret != -EMSGSIZE) {
		bump(&sh->srv_bad_errno);
		sh->srv_last_bad_errno = -ret;
	}
}

/*
 * A server on its own open: receives requests and answers them by REPLY
 * or REPLY_RECV. A victim (@slot >= 0) dawdles at each step so that the
 * parent can kill it there; the survivor (@slot < 0) runs to EPIPE.
 */
static int ck_server(struct ck_call_shared *sh, int slot, uint64_t seed)
{
	struct ipcbox_reply_recv rr;
	struct ipcbox_msg_info info;
	struct ck_req q, held;
	uint64_t token = 0;
	int fd, n, ret;
	bool victim = slot >= 0;
	struct test_rng rng;

	rng_seed(&rng, seed);
	fd = mb_open(sh->name, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return 1;
	memset(&held, 0, sizeof(held));
#define CK_STEP(s) do { if (victim) sh->step[slot] = (s); } while (0)
	for (;;) {
		if (token && rng_below(&rng, 2)) {
			CK_STEP(CK_SRV_REPLY_RECV);
			memset(&rr, 0, sizeof(rr));
			memset(&info, 0, sizeof(info));
			rr.token = token;
			rr.reply_buf = (uintptr_t)&held;
			rr.reply_len = sizeof(held);
			rr.buf = (uintptr_t)&q;
			rr.size = sizeof(q);
			rr.timeout_ns = victim ? 50 * NSEC_PER_MSEC : -1;
			/* with the info, or the next request ends in EPROTO */
			rr.info = (uintptr_t)&info;
			rr.info_size = sizeof(info);
			sh->reply_tried[held.origin][held.counter] = 1;
			n = sys_ioctl(fd, IPCBOX_IOC_REPLY_RECV, &rr);
			/* the kernel clears the token once it made the reply */
			if (!rr.token) {
				ck_replied(sh, &held, rr.reply_error);
			} else {
				/* no reply made: only a refused call does that */
				bump(&sh->srv_bad_errno);
				sh->srv_last_bad_errno = n < 0 ? -n : 0;
			}
		} else {
			if (token) {
				sh->reply_tried[held.origin][held.counter] = 1;
				ret = mb_reply(fd, token, &held, sizeof(held));
				ck_replied(sh, &held, ret);
				CK_STEP(CK_SRV_REPLIED);
				if (victim)
					usleep(200 + rng_below(&rng, 800));
			}
			CK_STEP(CK_SRV_RECV);
			n = mb_recv_full(fd, &q, sizeof(q), 0,
					 victim ? 50 * NSEC_PER_MSEC : -1, 0, 0,
					 &info);
		}
		token = 0;
		if (n == -EPIPE)
			break;
		if (n == -ETIMEDOUT || n == -EINTR)
			continue;
		if (n < 0) {
			bump(&sh->srv_bad_errno);
			sh->srv_last_bad_errno = -n;
			break;
		}
		if (n != sizeof(q) || !info.token || q.origin >= CK_ORIGINS ||
		    q.counter >= CK_PER ||
		    q.check != ck_check(q.origin, q.counter)) {
			bump(&sh->corrupt);
			continue;
		}
		__atomic_fetch_add(&sh->received[q.origin][q.counter], 1,
				   __ATOMIC_RELAXED);
		held = q;
		token = info.token;
		CK_STEP(CK_SRV_HOLDING);
		/* the survivor dawdles too, so that its callers die held */
		if (victim || rng_below(&rng, 4) == 0)
			usleep(200 + rng_below(&rng, 1500));
	}
#undef CK_STEP
	close(fd);
	return 0;
}

/* A caller on its own open: CALLs until told to stop (or killed). */
static int ck_caller(struct ck_call_shared *sh, int slot, uint32_t origin)
{
	struct ck_req q, rep;
	uint32_t k;
	int fd, ret;

	fd = mb_open(sh->name, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return 1;
	for (k = 0; !sh->stop; k++) {
		if (k == CK_PER) {
			/* the survivor goes on with its next origin */
			if (slot >= 0 || ++origin == CK_SURV)
				break;
			k = 0;
		}
		q.origin = origin;
		q.counter = k;
		q.check = ck_check(origin, k);
		memset(&rep, 0, sizeof(rep));
		if (slot >= 0) {
			sh->cur_origin[slot] = origin;
			sh->cur_counter[slot] = k;
			sh->step[slot] = CK_CALLER_QUEUED;
		}
		__atomic_store_n(&sh->issued[origin], k + 1, __ATOMIC_RELEASE);
		ret = mb_call(fd, &q, sizeof(q),
			      slot >= 0 ? IPCBOX_TIMEOUT_INFINITE :
			      NSEC_PER_SEC, 0, &rep, sizeof(rep), NULL);
		if (ret >= 0) {
			sh->result[origin][k] = 1;
			bump(&sh->ok);
			if (ret != sizeof(rep) || memcmp(&rep, &q, sizeof(q)))
				bump(&sh->wrong_reply);
			continue;
		}
		sh->result[origin][k] = 2;
		bump(&sh->errors);
		if (ret == -ECONNRESET)
			bump(&sh->econnreset);
		else if (ret == -ETIMEDOUT)
			bump(&sh->etimedout);
		if (ret == -EPIPE && sh->shutdown_started)
			break;
		/*
		 * Not EPROTO: every server receives with the info, so every
		 * request's token reaches it; not ENOBUFS: every reply fits.
		 */
		if (ret != -ECONNRESET && ret != -ETIMEDOUT && ret != -EINTR) {
			bump(&sh->bad_errno);
			sh->last_bad_errno = -ret;
		}
	}
	close(fd);
	return 0;
}

/* Has victim @slot reached @step (for callers: with its request so)? */
static bool ck_at(struct ck_call_shared *sh, int slot, int step)
{
	uint32_t o, k;

	if (step < CK_CALLER_QUEUED)
		return sh->step[slot] == step;
	if (sh->step[slot] != CK_CALLER_QUEUED)
		return false;
	o = sh->cur_origin[slot];
	k = sh->cur_counter[slot];
	switch (step) {
	case CK_CALLER_QUEUED:
		return !sh->received[o][k];
	case CK_CALLER_HELD:
		return sh->received[o][k] && !sh->reply_tried[o][k];
	default:
		return sh->replied[o][k];
	}
}

TEST_F_TIMEOUT(sigkill, killed_call_servers_and_callers_at_every_step, 180)
{
	unsigned long secs = env_ul("IPCBOX_SIGKILL_SECS", DEFAULT_SECS);
	uint64_t dup = 0, twice = 0, unconfirmed = 0, dropped = 0, undecided = 0;
	int kills[CK_NR_STEPS] = { 0 }, missed = 0, victims = 0, status, i;
	uint32_t origin = CK_SURV, o, k, surv = 0;
	struct ck_call_shared *sh;
	pid_t srv, caller, v;
	struct ipcbox_stat st;
	int64_t end, until;
	char line[512];
	size_t used;
	struct test_rng rng;
	int step, slot;

	rng_seed(&rng, 777);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, sh);
	test_name(sh->name, sizeof(sh->name), "callkill");
	self->fd = mb_create(self->ctl, sh->name, 4, 64, 0600,
			     IPCBOX_CREATE_CLOEXEC);
	ASSERT_GE(self->fd, 0);

	srv = fork();
	ASSERT_GE(srv, 0);
	if (srv == 0)
		_exit(ck_server(sh, -1, 99));
	caller = fork();
	ASSERT_GE(caller, 0);
	if (caller == 0)
		_exit(ck_caller(sh, -1, 0));

	end = now_ns() + (int64_t)secs * NSEC_PER_SEC;
	for (slot = 0; now_ns() < end && origin < CK_ORIGINS; slot++) {
		slot %= CK_SLOTS;
		step = 1 + victims % (CK_NR_STEPS - 1);	/* each in turn */
		sh->step[slot] = CK_IDLE;
		v = fork();
		ASSERT_GE(v, 0);
		if (v == 0) {
			if (step < CK_CALLER_QUEUED)
				_exit(ck_server(sh, slot, rng_next(&rng)));
			_exit(ck_caller(sh, slot, origin));
		}
		if (step >= CK_CALLER_QUEUED)
			origin++;
		victims++;
		until = now_ns() + 500 * NSEC_PER_MSEC;
		while (!ck_at(sh, slot, step) && now_ns() < until)
			usleep(50);
		if (ck_at(sh, slot, step)) {
			usleep(rng_below(&rng, 300));
			kills[step]++;
		} else {
			missed++;
		}
		kill(v, SIGKILL);
		ASSERT_EQ(v, waitpid(v, &status, 0));
		EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
			TH_LOG("victim for %s ended with status %#x",
			       ck_step_name(step), status);
	}
	sh->stop = 1;
	EXPECT_EQ(0, wait_child(caller));
	sh->shutdown_started = 1;
	ASSERT_EQ(0, mb_shutdown(self->fd));
	EXPECT_EQ(0, wait_child(srv));

	for (o = 0; o < origin; o++) {
		for (k = 0; k < sh->issued[o] && k < CK_PER; k++) {
			if (sh->received[o][k] > 1)
				dup += sh->received[o][k] - 1;
			if (sh->replied[o][k] > 1)
				twice += sh->replied[o][k] - 1;
			if (o >= CK_SURV)
				continue;
			surv++;
			/* the survivor: its replies are its own, all of them */
			if (sh->result[o][k] == 1 && !sh->reply_tried[o][k])
				unconfirmed++;
			if (sh->replied[o][k] && sh->result[o][k] != 1)
				dropped++;
			if (!sh->result[o][k])
				undecided++;
		}
	}
	ASSERT_EQ(0, mb_stat(self->fd, &st));
	used = 0;
	for (i = 1; i < CK_NR_STEPS; i++)
		used += snprintf(line + used, sizeof(line) - used, " %s=%d",
				 ck_step_name(i), kills[i]);
	ksft_print_msg("sigkill: CALL chaos victims=%d kills:%s missed=%d survivor calls=%u ok=%llu errors=%llu (econnreset %llu etimedout %llu) bad_errno=%llu wrong_reply=%llu dup=%llu replied_twice=%llu dropped=%llu unconfirmed=%llu corrupt=%llu srv_bad_errno=%llu depth=%u waiting=%u/%u\n",
		       victims, line, missed, surv,
		       (unsigned long long)sh->ok,
		       (unsigned long long)sh->errors,
		       (unsigned long long)sh->econnreset,
		       (unsigned long long)sh->etimedout,
		       (unsigned long long)sh->bad_errno,
		       (unsigned long long)sh->wrong_reply,
		       (unsigned long long)dup, (unsigned long long)twice,
		       (unsigned long long)dropped,
		       (unsigned long long)unconfirmed,
		       (unsigned long long)sh->corrupt,
		       (unsigned long long)sh->srv_bad_errno, st.depth,
		       st.waiting_senders, st.waiting_receivers);
	EXPECT_LT(0, sh->ok);
	for (i = 1; i < CK_NR_STEPS; i++)
		EXPECT_LT(0, kills[i]) TH_LOG("no kill at %s", ck_step_name(i));
	EXPECT_EQ(0, sh->bad_errno) TH_LOG("a CALL failed with %s",
					   strerror(sh->last_bad_errno));
	EXPECT_EQ(0, sh->srv_bad_errno) TH_LOG("a server call failed with %s",
					       strerror(sh->srv_last_bad_errno));
	EXPECT_EQ(0, sh->wrong_reply);
	EXPECT_EQ(0, sh->corrupt);
	EXPECT_EQ(0, dup) TH_LOG("requests received twice");
	EXPECT_EQ(0, twice) TH_LOG("requests answered twice");
	EXPECT_EQ(0, dropped) TH_LOG("replies the surviving caller never got");
	EXPECT_EQ(0, unconfirmed) TH_LOG("replies nobody sent");
	EXPECT_EQ(0, undecided);
	EXPECT_EQ(0, st.depth);
	EXPECT_EQ(0, st.bytes);
	EXPECT_EQ(0, st.cached);
	EXPECT_EQ(0, st.waiting_senders);
	EXPECT_EQ(0, st.waiting_receivers);
	EXPECT_GE(st.sent, st.received);
	EXPECT_EQ(0, mb_unlink(self->ctl, sh->name));
	munmap(sh, sizeof(*sh));
	expect_no_leftovers(_metadata, self);
}

/*
 * Chaos: a surviving producer and consumer keep a stream going while
 * victims are forked and killed at random.
 */
#define MAX_SURV	200000
#define MAX_VSEND	4096
#define VSEND_MSGS	32

struct ck_msg {
	uint32_t origin;	/* 0: the survivor, else victim sender + 1 */
	uint32_t seq;
	uint32_t check;
};

struct ck_shared {
	uint32_t surv_sent;			/* survivor sends done */
	uint8_t surv_got[MAX_SURV];
	uint8_t v_intent[MAX_VSEND][VSEND_MSGS];
	uint8_t v_done[MAX_VSEND][VSEND_MSGS];
	uint8_t v_got[MAX_VSEND][VSEND_MSGS];
	uint64_t phantom, corrupt, errors;
	volatile int stop;
};

static void ck_fill(struct ck_msg *m, uint32_t origin, uint32_t seq)
{
	m->origin = origin;
	m->seq = seq;
	m->check = origin * 2654435761u ^ seq * 40503u ^ 0x5a5a5a5a;
}

static void ck_record(struct ck_shared *sh, const struct ck_msg *m, int n)
{
	if (n != sizeof(*m) ||
	    m->check != (m->origin * 2654435761u ^ m->seq * 40503u ^ 0x5a5a5a5a)) {
		__atomic_fetch_add(&sh->corrupt, 1, __ATOMIC_RELAXED);
		return;
	}
	if (m->origin == 0) {
		if (m->seq >= MAX_SURV)
			__atomic_fetch_add(&sh->phantom, 1, __ATOMIC_RELAXED);
		else
			__atomic_fetch_add(&sh->surv_got[m->seq], 1, __ATOMIC_RELAXED);
		return;
	}
	if (m->origin > MAX_VSEND || m->seq >= VSEND_MSGS ||
	    !sh->v_intent[m->origin - 1][m->seq])
		__atomic_fetch_add(&sh->phantom, 1, __ATOMIC_RELAXED);
	else
		__atomic_fetch_add(&sh->v_got[m->origin - 1][m->seq], 1,
				   __ATOMIC_RELAXED);
}

static int ck_receive_loop(int fd, struct ck_shared *sh, bool until_epipe)
{
	struct ck_msg m;
	int n;

	for (;;) {
		n = mb_recv(fd, &m, sizeof(m), 0,
			    until_epipe ? -1 : 50 * NSEC_PER_MSEC);
		if (n == -EPIPE)
			return 0;
		if (n == -ETIMEDOUT)
			continue;
		if (n < 0) {
			__atomic_fetch_add(&sh->errors, 1, __ATOMIC_RELAXED);
			return 1;
		}
		ck_record(sh, &m, n);
	}
}

static void ck_victim_sender(int fd, struct ck_shared *sh, uint32_t id,
			     bool sync)
{
	struct ck_msg m;
	uint32_t k;

	for (k = 0; k < VSEND_MSGS; k++) {
		ck_fill(&m, id + 1, k);
		sh->v_intent[id][k] = 1;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (mb_send(fd, &m, sizeof(m), sync ? IPCBOX_SEND_SYNC : 0, -1))
			_exit(1);
		sh->v_done[id][k] = 1;
	}
	_exit(0);
}

FIXTURE(chaos) {
	int ctl;
	int fd;
	int base_mailboxes;
	int base_refcnt;
};

FIXTURE_VARIANT(chaos) {
	uint32_t capacity;
};

FIXTURE_VARIANT_ADD(chaos, rendezvous) {
	.capacity = 0,
};

FIXTURE_VARIANT_ADD(chaos, bounded) {
	.capacity = 2,
};

FIXTURE_SETUP(chaos)
{
	self->fd = -1;
	CTL_OPEN_OR_SKIP(self->ctl);
	self->base_mailboxes = nr_mailboxes(self->ctl);
	self->base_refcnt = module_refcnt();
}

FIXTURE_TEARDOWN(chaos)
{
	close_fd(&self->fd);
	close_fd(&self->ctl);
}

TEST_F_TIMEOUT(chaos, survivors_keep_going_while_victims_die, 180)
{
	unsigned long secs = env_ul("IPCBOX_SIGKILL_SECS", DEFAULT_SECS);
	uint64_t lost_surv = 0, lost_victim = 0, dup = 0, ambiguous = 0;
	uint64_t done = 0, intent = 0;
	uint32_t vsenders = 0, i, k;
	int recv_kills = 0, send_kills = 0, status;
	struct test_rng rng;
	bool receiver;
	struct ck_shared *sh;
	struct ipcbox_stat st;
	pid_t prod, cons, v;
	int64_t end;

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, sh);
	self->fd = mb_anon(self->ctl, variant->capacity, 64);
	ASSERT_GE(self->fd, 0);

	cons = fork();
	ASSERT_GE(cons, 0);
	if (cons == 0)
		_exit(ck_receive_loop(self->fd, sh, true));
	prod = fork();
	ASSERT_GE(prod, 0);
	if (prod == 0) {
		struct ck_msg m;
		uint32_t seq;

		for (seq = 0; seq < MAX_SURV && !sh->stop; seq++) {
			ck_fill(&m, 0, seq);
			if (mb_send(self->fd, &m, sizeof(m), seq % 3 ?
				    0 : IPCBOX_SEND_SYNC, -1))
				_exit(1);
			__atomic_store_n(&sh->surv_sent, seq + 1, __ATOMIC_RELEASE);
		}
		_exit(0);
	}

	rng_seed(&rng, 12345);
	end = now_ns() + (int64_t)secs * NSEC_PER_SEC;
	while (now_ns() < end && vsenders < MAX_VSEND) {
		receiver = rng_below(&rng, 2);
		if (receiver) {
			v = fork();
			ASSERT_GE(v, 0);
			if (v == 0) {
				ck_receive_loop(self->fd, sh, true);
				_exit(0);
			}
		} else {
			v = fork();
			ASSERT_GE(v, 0);
			if (v == 0)
				ck_victim_sender(self->fd, sh, vsenders,
						 rng_below(&rng, 2));
			vsenders++;
		}
		sleep_ms(1 + rng_below(&rng, 20));
		kill(v, SIGKILL);
		ASSERT_EQ(v, waitpid(v, &status, 0));
		if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
			if (receiver)
				recv_kills++;
			else
				send_kills++;
		} else {
			/* a victim sender that finished is fine */
			EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
				    !receiver);
		}
	}
	sh->stop = 1;
	EXPECT_EQ(0, wait_child(prod));
	ASSERT_EQ(0, mb_shutdown(self->fd));
	EXPECT_EQ(0, wait_child(cons));

	for (i = 0; i < sh->surv_sent; i++) {
		if (!sh->surv_got[i])
			lost_surv++;
		else if (sh->surv_got[i] > 1)
			dup += sh->surv_got[i] - 1;
	}
	for (i = sh->surv_sent; i < MAX_SURV; i++)
		if (sh->surv_got[i])
			sh->phantom++;
	for (i = 0; i < vsenders; i++) {
		for (k = 0; k < VSEND_MSGS; k++) {
			intent += sh->v_intent[i][k];
			done += sh->v_done[i][k];
			if (sh->v_got[i][k] > 1)
				dup += sh->v_got[i][k] - 1;
			if (sh->v_done[i][k] && !sh->v_got[i][k])
				lost_victim++;
			if (sh->v_intent[i][k] && !sh->v_done[i][k] &&
			    sh->v_got[i][k])
				ambiguous++;
		}
	}
	ASSERT_EQ(0, mb_stat(self->fd, &st));
	ksft_print_msg("sigkill: chaos cap=%u kills=%d (receivers %d senders %d) survivor moved=%u victim sends done=%llu killed-in-send-but-delivered=%llu lost=%llu (bound %d) dup=%llu phantom=%llu corrupt=%llu stat sent=%llu received=%llu\n",
		       variant->capacity, recv_kills + send_kills, recv_kills,
		       send_kills, sh->surv_sent, (unsigned long long)done,
		       (unsigned long long)ambiguous,
		       (unsigned long long)(lost_surv + lost_victim), recv_kills,
		       (unsigned long long)dup, (unsigned long long)sh->phantom,
		       (unsigned long long)sh->corrupt,
		       (unsigned long long)st.sent,
		       (unsigned long long)st.received);
	EXPECT_LT(0, sh->surv_sent);
	EXPECT_LT(0, recv_kills + send_kills);
	EXPECT_EQ(0, dup);
	EXPECT_EQ(0, sh->phantom);
	EXPECT_EQ(0, sh->corrupt);
	EXPECT_EQ(0, sh->errors);
	/* a killed receiver may have taken one message just before dying */
	EXPECT_LE(lost_surv + lost_victim, (uint64_t)recv_kills);
	EXPECT_LE(sh->surv_sent + done, st.sent);
	EXPECT_GE(sh->surv_sent + intent, st.sent);
	EXPECT_EQ(st.sent, st.received);
	EXPECT_EQ(0, st.depth);
	EXPECT_EQ(0, st.waiting_senders);
	EXPECT_EQ(0, st.waiting_receivers);
	munmap(sh, sizeof(*sh));
	expect_no_leftovers(_metadata, self);
}

TEST_HARNESS_MAIN
