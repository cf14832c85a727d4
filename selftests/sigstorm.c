// SPDX-License-Identifier: GPL-2.0
/*
 * Signal storms: POSIX timers aimed at each thread (timer_create with
 * SIGEV_THREAD_ID), or a process-wide setitimer(ITIMER_REAL), fire every
 * IPCBOX_SIGSTORM_US microseconds (default 1000) at sender and receiver
 * threads that keep blocking in SEND, RECV, write(2) and read(2), with
 * infinite, relative and ABSTIME timeouts, on a rendezvous and a bounded
 * mailbox, with and without SA_RESTART. Each case lasts
 * IPCBOX_SIGSTORM_SECS seconds (default 5).
 *
 * Every message carries its sender, sequence number and attempt number;
 * a failed send is retried as a new attempt of the same message. At the
 * end every successful send was received exactly once, and the attempt
 * received is the one whose send returned 0: an interrupted or timed-out
 * send delivered nothing and an interrupted receive consumed nothing.
 * With SA_RESTART an infinite or ABSTIME wait never returns EINTR.
 */
#include "ipcbox_test.h"
#include <sys/time.h>
#include "kselftest_harness.h"

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

#define NR_SEND		2
#define NR_RECV		2
#define MAX_SEQ		100000
#define MSZ		128
#define DEFAULT_SECS	5
#define DEFAULT_US	1000

struct ss_msg {
	uint32_t sender;
	uint32_t seq;
	uint32_t attempt;
	uint32_t check;
	uint8_t fill[48];
};

struct ss_state {
	int fd;
	int sig;
	bool restart;
	bool thread_timers;
	bool sync;
	long us;
	volatile bool stop;
	/* per sender: messages sent and the attempt whose send succeeded */
	uint32_t nsent[NR_SEND];
	uint16_t ok_attempt[NR_SEND][MAX_SEQ];
	/* per message: times received and the attempt received */
	uint8_t got[NR_SEND][MAX_SEQ];
	uint16_t got_attempt[NR_SEND][MAX_SEQ];
	uint64_t send_eintr, recv_eintr, send_timeout, recv_timeout;
	uint64_t restart_violation;	/* EINTR where SA_RESTART restarts */
	uint64_t received, corrupt, errors;
	int last_error;
};

static uint64_t signals;

static void on_signal(int sig)
{
	(void)sig;
	__atomic_fetch_add(&signals, 1, __ATOMIC_RELAXED);
}

static void fail(struct ss_state *st, int err)
{
	bump(&st->errors);
	st->last_error = err;
}

static void fill_msg(struct ss_msg *m, uint32_t s, uint32_t seq, uint32_t att)
{
	uint32_t i;

	m->sender = s;
	m->seq = seq;
	m->attempt = att;
	for (i = 0; i < sizeof(m->fill); i++)
		m->fill[i] = (uint8_t)(s * 131 + seq * 17 + att * 3 + i);
	m->check = s ^ (seq * 2654435761u) ^ (att << 20);
}

static bool msg_ok(const struct ss_msg *m)
{
	struct ss_msg ref;

	if (m->sender >= NR_SEND || m->seq >= MAX_SEQ)
		return false;
	fill_msg(&ref, m->sender, m->seq, m->attempt);
	return !memcmp(&ref, m, sizeof(ref));
}

/* A timer that sends @sig to this thread every @us microseconds. */
static int storm_timer(int sig, long us, timer_t *t, long phase_us)
{
	struct sigevent sev;
	struct itimerspec its;

	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = sig;
	sev.sigev_notify_thread_id = test_gettid();
	if (timer_create(CLOCK_MONOTONIC, &sev, t))
		return -errno;
	its.it_interval.tv_sec = us / 1000000;
	its.it_interval.tv_nsec = (us % 1000000) * 1000;
	its.it_value.tv_sec = 0;
	its.it_value.tv_nsec = 1000 + (phase_us % us) * 1000;
	if (timer_settime(*t, 0, &its, NULL))
		return -errno;
	return 0;
}

/* A timer that signals this thread every st->us microseconds. */
static int thread_timer(struct ss_state *st, timer_t *t, long phase_us)
{
	return storm_timer(st->sig, st->us, t, phase_us);
}

/*
 * How long a call may wait: for ever, or 2 ms and less than @spread_ms
 * more, relative or as an ABSTIME deadline (@abstime_flag added to
 * @flags); and whether SA_RESTART restarts it after a signal (all but
 * the relative timeout).
 */
static int64_t pick_timeout(struct test_rng *rng, uint32_t *flags,
			    bool *restartable, uint32_t abstime_flag,
			    uint32_t spread_ms)
{
	switch (rng_below(rng, 3)) {
	case 0:
		*restartable = true;
		return IPCBOX_TIMEOUT_INFINITE;
	case 1:
		*restartable = false;
		return (2 + rng_below(rng, spread_ms)) * NSEC_PER_MSEC;
	default:
		*restartable = true;
		*flags |= abstime_flag;
		return now_ns() + (2 + rng_below(rng, spread_ms)) * NSEC_PER_MSEC;
	}
}

struct ss_worker {
	struct ss_state *st;
	pthread_t thread;
	uint32_t id;
};

static void *sender(void *arg)
{
	struct ss_worker *wk = arg;
	struct ss_state *st = wk->st;
	uint32_t seq = 0, att = 0, flags;
	struct test_rng rng;
	struct ss_msg m;
	bool restartable;
	timer_t t;
	int64_t to;
	int ret;

	rng_seed(&rng, 0x12345 + wk->id * 7777);
	if (st->thread_timers && thread_timer(st, &t, wk->id * 300)) {
		fail(st, -errno);
		return NULL;
	}
	while (!st->stop && seq < MAX_SEQ) {
		fill_msg(&m, wk->id, seq, att);
		flags = st->sync && rng_below(&rng, 2) ? IPCBOX_SEND_SYNC : 0;
		if (rng_below(&rng, 4) == 0) {
			restartable = true;
			ret = write(st->fd, &m, sizeof(m));
			ret = ret < 0 ? -errno : 0;
		} else {
			to = pick_timeout(&rng, &flags, &restartable,
					  IPCBOX_ABSTIME, 20);
			ret = mb_send_full(st->fd, &m, sizeof(m), flags, to, 0,
					   0, NULL);
		}
		if (ret == 0) {
			st->ok_attempt[wk->id][seq] = att;
			seq++;
			__atomic_store_n(&st->nsent[wk->id], seq, __ATOMIC_RELEASE);
			att = 0;
			/* now and then let the queue fill up */
			if (rng_below(&rng, 64) == 0)
				sleep_ms(2);
			continue;
		}
		if (ret == -EINTR) {
			bump(&st->send_eintr);
			if (st->restart && restartable)
				bump(&st->restart_violation);
		} else if (ret == -ETIMEDOUT) {
			bump(&st->send_timeout);
		} else {
			fail(st, ret);
			break;
		}
		att++;
	}
	if (st->thread_timers)
		timer_delete(t);
	return NULL;
}

static void *receiver(void *arg)
{
	struct ss_worker *wk = arg;
	struct ss_state *st = wk->st;
	struct test_rng rng;
	uint32_t flags;
	struct ss_msg m;
	bool restartable;
	timer_t t;
	int64_t to;
	int n;

	rng_seed(&rng, 0xabcdef + wk->id * 31337);
	if (st->thread_timers && thread_timer(st, &t, 150 + wk->id * 300)) {
		fail(st, -errno);
		return NULL;
	}
	for (;;) {
		flags = 0;
		memset(&m, 0, sizeof(m));
		if (rng_below(&rng, 4) == 0) {
			restartable = true;
			n = read(st->fd, &m, sizeof(m));
			if (n == 0)
				break;	/* shut down and drained */
			n = n < 0 ? -errno : n;
		} else {
			to = pick_timeout(&rng, &flags, &restartable,
					  IPCBOX_ABSTIME, 20);
			n = mb_recv(st->fd, &m, sizeof(m), flags, to);
		}
		if (n == -EPIPE)
			break;
		if (n == -EINTR) {
			bump(&st->recv_eintr);
			if (st->restart && restartable)
				bump(&st->restart_violation);
			continue;
		}
		if (n == -ETIMEDOUT) {
			bump(&st->recv_timeout);
			continue;
		}
		if (n < 0) {
			fail(st, n);
			break;
		}
		bump(&st->received);
		if (n != sizeof(m) || !msg_ok(&m)) {
			bump(&st->corrupt);
			continue;
		}
		__atomic_fetch_add(&st->got[m.sender][m.seq], 1, __ATOMIC_RELAXED);
		st->got_attempt[m.sender][m.seq] = m.attempt;
		if (rng_below(&rng, 64) == 0)
			sleep_ms(2);	/* let senders block on a full queue */
	}
	if (st->thread_timers)
		timer_delete(t);
	return NULL;
}

FIXTURE(sigstorm) {
	int ctl;
	struct ss_state *st;
};

FIXTURE_VARIANT(sigstorm) {
	uint32_t capacity;
	bool restart;
	bool thread_timers;
	bool sync;
};

FIXTURE_VARIANT_ADD(sigstorm, rendezvous_timer_create_no_restart) {
	.capacity = 0, .restart = false, .thread_timers = true,
};

FIXTURE_VARIANT_ADD(sigstorm, rendezvous_timer_create_sa_restart) {
	.capacity = 0, .restart = true, .thread_timers = true,
};

FIXTURE_VARIANT_ADD(sigstorm, bounded_timer_create_no_restart) {
	.capacity = 2, .restart = false, .thread_timers = true,
};

FIXTURE_VARIANT_ADD(sigstorm, bounded_sync_timer_create_sa_restart) {
	.capacity = 2, .restart = true, .thread_timers = true, .sync = true,
};

FIXTURE_VARIANT_ADD(sigstorm, bounded_sync_setitimer_no_restart) {
	.capacity = 2, .restart = false, .thread_timers = false, .sync = true,
};

FIXTURE_VARIANT_ADD(sigstorm, rendezvous_setitimer_sa_restart) {
	.capacity = 0, .restart = true, .thread_timers = false,
};

FIXTURE_SETUP(sigstorm)
{
	self->st = MAP_FAILED;
	CTL_OPEN_OR_SKIP(self->ctl);
	self->st = mmap(NULL, sizeof(*self->st), PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->st);
	self->st->fd = mb_anon(self->ctl, variant->capacity, MSZ);
	ASSERT_GE(self->st->fd, 0) TH_LOG("create: %s", strerror(-self->st->fd));
}

FIXTURE_TEARDOWN(sigstorm)
{
	if (self->st != MAP_FAILED) {
		close_fd(&self->st->fd);
		munmap(self->st, sizeof(*self->st));
	}
	close_fd(&self->ctl);
}

TEST_F_TIMEOUT(sigstorm, interrupted_calls_have_no_effect, 180)
{
	struct ss_worker snd[NR_SEND], rcv[NR_RECV];
	struct ss_state *st = self->st;
	uint64_t sent = 0, lost = 0, dup = 0, wrong_attempt = 0, phantom = 0;
	unsigned long secs = env_ul("IPCBOX_SIGSTORM_SECS", DEFAULT_SECS);
	struct sigaction sa = { .sa_handler = on_signal };
	struct itimerval itv;
	struct ipcbox_stat stat;
	int64_t t0 = now_ns();
	sigset_t alrm;
	uint32_t i, s;

	st->restart = variant->restart;
	st->thread_timers = variant->thread_timers;
	st->sync = variant->sync;
	st->us = env_ul("IPCBOX_SIGSTORM_US", DEFAULT_US);
	st->sig = st->thread_timers ? SIGUSR1 : SIGALRM;
	sa.sa_flags = st->restart ? SA_RESTART : 0;
	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(st->sig, &sa, NULL));

	for (i = 0; i < NR_RECV; i++) {
		rcv[i] = (struct ss_worker){ .st = st, .id = i };
		ASSERT_EQ(0, pthread_create(&rcv[i].thread, NULL, receiver, &rcv[i]));
	}
	for (i = 0; i < NR_SEND; i++) {
		snd[i] = (struct ss_worker){ .st = st, .id = i };
		ASSERT_EQ(0, pthread_create(&snd[i].thread, NULL, sender, &snd[i]));
	}
	/* the main thread takes no signal: they all land in blocked calls */
	sigemptyset(&alrm);
	sigaddset(&alrm, st->sig);
	ASSERT_EQ(0, pthread_sigmask(SIG_BLOCK, &alrm, NULL));
	if (!st->thread_timers) {
		itv.it_interval.tv_sec = st->us / 1000000;
		itv.it_interval.tv_usec = st->us % 1000000;
		itv.it_value = itv.it_interval;
		ASSERT_EQ(0, setitimer(ITIMER_REAL, &itv, NULL));
	}
	sleep_ms(secs * 1000);
	st->stop = true;
	for (i = 0; i < NR_SEND; i++)
		pthread_join(snd[i].thread, NULL);
	ASSERT_EQ(0, mb_shutdown(st->fd));
	for (i = 0; i < NR_RECV; i++)
		pthread_join(rcv[i].thread, NULL);
	if (!st->thread_timers) {
		memset(&itv, 0, sizeof(itv));
		setitimer(ITIMER_REAL, &itv, NULL);
	}

	for (s = 0; s < NR_SEND; s++) {
		sent += st->nsent[s];
		for (i = 0; i < MAX_SEQ; i++) {
			if (i >= st->nsent[s]) {
				phantom += st->got[s][i];
				continue;
			}
			if (!st->got[s][i])
				lost++;
			else if (st->got[s][i] > 1)
				dup += st->got[s][i] - 1;
			else if (st->got_attempt[s][i] != st->ok_attempt[s][i])
				wrong_attempt++;
		}
	}
	ksft_print_msg("sigstorm: cap=%u %s %s%s signals=%llu interrupted=%llu (send %llu recv %llu) timeouts=%llu sent=%llu received=%llu lost=%llu dup=%llu wrong_attempt=%llu phantom=%llu corrupt=%llu restart_violations=%llu secs=%.1f\n",
		       variant->capacity,
		       st->thread_timers ? "timer_create" : "setitimer",
		       st->restart ? "SA_RESTART" : "no-restart",
		       st->sync ? " +SYNC" : "",
		       (unsigned long long)__atomic_load_n(&signals, __ATOMIC_RELAXED),
		       (unsigned long long)(st->send_eintr + st->recv_eintr),
		       (unsigned long long)st->send_eintr,
		       (unsigned long long)st->recv_eintr,
		       (unsigned long long)(st->send_timeout + st->recv_timeout),
		       (unsigned long long)sent, (unsigned long long)st->received,
		       (unsigned long long)lost, (unsigned long long)dup,
		       (unsigned long long)wrong_attempt,
		       (unsigned long long)phantom,
		       (unsigned long long)st->corrupt,
		       (unsigned long long)st->restart_violation,
		       (now_ns() - t0) / 1e9);
	EXPECT_EQ(0, st->errors) TH_LOG("unexpected error %s", strerror(-st->last_error));
	EXPECT_LT(0, sent);
	EXPECT_LT(0, __atomic_load_n(&signals, __ATOMIC_RELAXED));
	/* the storm must actually have hit blocked calls */
	EXPECT_LT(0, st->send_eintr + st->recv_eintr);
	EXPECT_EQ(sent, st->received);
	EXPECT_EQ(0, lost);
	EXPECT_EQ(0, dup);
	EXPECT_EQ(0, wrong_attempt);
	EXPECT_EQ(0, phantom);
	EXPECT_EQ(0, st->corrupt);
	EXPECT_EQ(0, st->restart_violation);
	ASSERT_EQ(0, mb_stat(st->fd, &stat));
	EXPECT_EQ(sent, stat.sent);
	EXPECT_EQ(sent, stat.received);
	EXPECT_EQ(0, stat.depth);
	EXPECT_EQ(0, stat.waiting_senders);
	EXPECT_EQ(0, stat.waiting_receivers);
}

/*
 * CALL storms: caller processes keep making CALLs, server processes keep
 * answering them with REPLY or REPLY_RECV, while per-thread timers fire
 * SIGUSR1 at every thread (with or without SA_RESTART) and the parent
 * stops and continues whole caller or server processes (SIGSTOP and
 * SIGCONT restart interrupted calls without a handler running). Near the
 * end, at a random moment, the parent shuts the mailbox down.
 *
 * Each request carries its caller and a counter (its id) and a checksum;
 * the server answers with the id. At the end: no id was received twice (a
 * request withdrawn and restarted is never also delivered, one received is
 * never sent again), every CALL that returned a length got the reply to
 * its own id and that reply is one whose REPLY returned 0, every reply
 * whose REPLY returned 0 reached its caller, CALLs failed only with the
 * documented errors, REPLY and REPLY_RECV only with ENOENT (a request the
 * shutdown ended), ECANCELED or EMSGSIZE, and everybody was done in time.
 */
#define CS_PROCS	2	/* caller processes, and as many servers */
#define CS_THREADS	2	/* threads in each */
#define CS_CALLERS	(CS_PROCS * CS_THREADS)
#define CS_MAX		65536	/* most calls one caller makes */
#define CS_WAIT_SECS	20	/* after SHUTDOWN everybody is gone by then */

struct cs_req {
	uint32_t caller;
	uint32_t counter;
	uint32_t check;
	uint8_t fill[36];
};

struct cs_reply {
	uint32_t caller;
	uint32_t counter;
	uint32_t check;
};

enum cs_res { CS_NONE, CS_OK, CS_FAILED };

struct cs_shared {
	char name[IPCBOX_NAME_MAX];
	bool restart;
	bool timers;
	long us;
	volatile int stop;		/* callers: make no new CALL */
	volatile int shutdown_started;
	uint64_t signals;
	uint32_t issued[CS_CALLERS];
	/* per request id */
	uint8_t received[CS_CALLERS][CS_MAX];	/* times a server got it */
	uint8_t replied[CS_CALLERS][CS_MAX];	/* REPLY returned 0 */
	uint8_t reply_err[CS_CALLERS][CS_MAX];	/* else its errno */
	uint8_t result[CS_CALLERS][CS_MAX];	/* enum cs_res of the CALL */
	uint8_t call_err[CS_CALLERS][CS_MAX];	/* its errno */
	uint8_t restartable[CS_CALLERS][CS_MAX];
	/* caller side */
	uint64_t calls, ok, eintr, etimedout, epipe, other_expected;
	uint64_t wrong_reply, epipe_early, bad_errno;
	int last_bad_errno;
	/* server side */
	uint64_t srv_received, srv_replied, srv_ecanceled, srv_enoent;
	uint64_t srv_emsgsize, srv_enoent_early, srv_bad_errno, srv_corrupt;
	uint64_t srv_phantom, srv_recv_eintr, srv_restart_violation;
	int srv_last_bad_errno;
	uint64_t stops;
};

static struct cs_shared *cs_sh;

static void cs_on_signal(int sig)
{
	(void)sig;
	if (cs_sh)
		__atomic_fetch_add(&cs_sh->signals, 1, __ATOMIC_RELAXED);
}

static uint32_t cs_check(uint32_t caller, uint32_t counter)
{
	return (caller + 1) * 2654435761u ^ counter * 40503u ^ 0xca11ca11;
}

/*
 * The errors a CALL may end with here, besides success. Not EPROTO:
 * every server receives with the info, so every request's token reaches
 * it; not ENOBUFS: every reply fits the caller's buffer.
 */
static bool cs_call_errno_expected(int e)
{
	switch (e) {
	case EINTR: case ETIMEDOUT: case EPIPE: case ECONNRESET:
		return true;
	}
	return false;
}

struct cs_thread {
	pthread_t thread;
	int fd;
	uint32_t id;
};

static void *cs_caller(void *arg)
{
	struct cs_thread *ct = arg;
	struct cs_shared *sh = cs_sh;
	uint32_t k, flags, i;
	struct test_rng rng;
	struct ipcbox_call c;
	struct cs_reply rep;
	struct cs_req req;
	bool restartable;
	timer_t t;
	int ret, e;

	rng_seed(&rng, 0x5eed + ct->id * 7919);
	if (sh->timers && storm_timer(SIGUSR1, sh->us, &t, ct->id * 250))
		return NULL;
	for (k = 0; k < CS_MAX && !sh->stop; k++) {
		req.caller = ct->id;
		req.counter = k;
		req.check = cs_check(ct->id, k);
		for (i = 0; i < sizeof(req.fill); i++)
			req.fill[i] = (uint8_t)(k + i);
		memset(&rep, 0, sizeof(rep));
		memset(&c, 0, sizeof(c));
		flags = 0;
		c.timeout_ns = pick_timeout(&rng, &flags, &restartable,
					    IPCBOX_ABSTIME, 30);
		c.flags = flags;
		c.buf = (uintptr_t)&req;
		c.len = sizeof(req);
		c.tag = ct->id;
		c.priority = rng_below(&rng, 2);
		c.reply_buf = (uintptr_t)&rep;
		c.reply_size = sizeof(rep);
		sh->restartable[ct->id][k] = restartable;
		__atomic_store_n(&sh->issued[ct->id], k + 1, __ATOMIC_RELEASE);
		ret = sys_ioctl(ct->fd, IPCBOX_IOC_CALL, &c);
		__atomic_fetch_add(&sh->calls, 1, __ATOMIC_RELAXED);
		if (ret >= 0) {
			sh->result[ct->id][k] = CS_OK;
			__atomic_fetch_add(&sh->ok, 1, __ATOMIC_RELAXED);
			if (ret != sizeof(rep) || rep.caller != ct->id ||
			    rep.counter != k || rep.check != cs_check(ct->id, k))
				__atomic_fetch_add(&sh->wrong_reply, 1,
						   __ATOMIC_RELAXED);
			continue;
		}
		e = -ret;
		sh->result[ct->id][k] = CS_FAILED;
		sh->call_err[ct->id][k] = e < 256 ? e : 255;
		if (e == EINTR)
			__atomic_fetch_add(&sh->eintr, 1, __ATOMIC_RELAXED);
		else if (e == ETIMEDOUT)
			__atomic_fetch_add(&sh->etimedout, 1, __ATOMIC_RELAXED);
		else if (e == EPIPE)
			__atomic_fetch_add(&sh->epipe, 1, __ATOMIC_RELAXED);
		else if (cs_call_errno_expected(e))
			__atomic_fetch_add(&sh->other_expected, 1,
					   __ATOMIC_RELAXED);
		if (!cs_call_errno_expected(e)) {
			__atomic_fetch_add(&sh->bad_errno, 1, __ATOMIC_RELAXED);
			sh->last_bad_errno = e;
		}
		if (e == EPIPE) {
			if (!__atomic_load_n(&sh->shutdown_started,
					     __ATOMIC_ACQUIRE))
				__atomic_fetch_add(&sh->epipe_early, 1,
						   __ATOMIC_RELAXED);
			break;
		}
	}
	if (sh->timers)
		timer_delete(t);
	return NULL;
}

/* A REPLY or the reply half of a REPLY_RECV to request @id ended with @ret. */
static void cs_replied(struct cs_shared *sh, const struct cs_req *id, int ret)
{
	int e = -ret;

	if (ret == 0) {
		sh->replied[id->caller][id->counter] = 1;
		__atomic_fetch_add(&sh->srv_replied, 1, __ATOMIC_RELAXED);
		return;
	}
	sh->reply_err[id->caller][id->counter] = e < 256 ? e : 255;
	if (e == ECANCELED) {
		__atomic_fetch_add(&sh->srv_ecanceled, 1, __ATOMIC_RELAXED);
	} else if (e == ENOENT) {
		/* the request was just received here and not answered yet */
		__atomic_fetch_add(&sh->srv_enoent, 1, __ATOMIC_RELAXED);
		if (!__atomic_load_n(&sh->shutdown_started, __ATOMIC_ACQUIRE))
			__atomic_fetch_add(&sh->srv_enoent_early, 1,
					   __ATOMIC_RELAXED);
	} else if (e == EMSGSIZE) {
		__atomic_fetch_add(&sh->srv_emsgsize, 1, __ATOMIC_RELAXED);
	} else {
		__atomic_fetch_add(&sh->srv_bad_errno, 1, __ATOMIC_RELAXED);
		sh->srv_last_bad_errno = e;
	}
}

static void cs_make_reply(struct cs_reply *rep, const struct cs_req *req)
{
	rep->caller = req->caller;
	rep->counter = req->counter;
	rep->check = req->check;
}

static void *cs_server(void *arg)
{
	struct cs_thread *ct = arg;
	struct cs_shared *sh = cs_sh;
	struct test_rng rng;
	uint32_t flags;
	struct ipcbox_reply_recv rr;
	struct ipcbox_msg_info info;
	struct cs_req req, held;
	struct cs_reply rep;
	char big[sizeof(rep) + 8];
	uint64_t token = 0;
	bool restartable, use_rr;
	int64_t to;
	timer_t t;
	int n, ret;

	rng_seed(&rng, 0xbeef + ct->id * 104729);
	memset(big, 0, sizeof(big));
	memset(&held, 0, sizeof(held));
	if (sh->timers &&
	    storm_timer(SIGUSR1, sh->us, &t, 125 + ct->id * 250))
		return NULL;
	for (;;) {
		/* Now and then a reply too long for the caller first. */
		if (token && rng_below(&rng, 32) == 0) {
			ret = mb_reply(ct->fd, token, big, sizeof(big));
			if (ret != -EMSGSIZE) {
				cs_replied(sh, &held, ret);
				token = 0;
			} else {
				__atomic_fetch_add(&sh->srv_emsgsize, 1,
						   __ATOMIC_RELAXED);
			}
		}
		/* Now and then answer late, so callers give up meanwhile. */
		if (token && rng_below(&rng, 8) == 0)
			sleep_ms(rng_below(&rng, 4));
		use_rr = token && rng_below(&rng, 2);
		if (token && !use_rr) {
			cs_make_reply(&rep, &held);
			cs_replied(sh, &held,
				   mb_reply(ct->fd, token, &rep, sizeof(rep)));
			token = 0;
		}
		flags = 0;
		to = pick_timeout(&rng, &flags, &restartable,
				  IPCBOX_ABSTIME, 30);
		memset(&req, 0, sizeof(req));
		if (use_rr) {
			cs_make_reply(&rep, &held);
			memset(&rr, 0, sizeof(rr));
			memset(&info, 0, sizeof(info));
			rr.token = token;
			rr.reply_buf = (uintptr_t)&rep;
			rr.reply_len = sizeof(rep);
			rr.buf = (uintptr_t)&req;
			rr.size = sizeof(req);
			rr.flags = flags;
			rr.timeout_ns = to;
			/* with the info, or the next request ends in EPROTO */
			rr.info = (uintptr_t)&info;
			rr.info_size = sizeof(info);
			n = sys_ioctl(ct->fd, IPCBOX_IOC_REPLY_RECV, &rr);
			/*
			 * The kernel clears the token once it made the reply,
			 * so that a restart after a signal only receives: the
			 * reply was made once, and reply_error is its outcome.
			 */
			if (!rr.token) {
				cs_replied(sh, &held, rr.reply_error);
			} else {
				/* no reply made: only a refused call does that */
				__atomic_fetch_add(&sh->srv_bad_errno, 1,
						   __ATOMIC_RELAXED);
				sh->srv_last_bad_errno = n < 0 ? -n : 0;
			}
			token = 0;
		} else {
			n = mb_recv_full(ct->fd, &req, sizeof(req), flags, to,
					 0, 0, &info);
		}
		if (n == -EPIPE)
			break;
		if (n == -EINTR) {
			__atomic_fetch_add(&sh->srv_recv_eintr, 1,
					   __ATOMIC_RELAXED);
			if (sh->restart && restartable)
				__atomic_fetch_add(&sh->srv_restart_violation,
						   1, __ATOMIC_RELAXED);
			continue;
		}
		if (n == -ETIMEDOUT)
			continue;
		if (n < 0) {
			__atomic_fetch_add(&sh->srv_bad_errno, 1,
					   __ATOMIC_RELAXED);
			sh->srv_last_bad_errno = -n;
			break;
		}
		if (n != sizeof(req) || !info.token ||
		    req.check != cs_check(req.caller, req.counter) ||
		    req.caller >= CS_CALLERS) {
			__atomic_fetch_add(&sh->srv_corrupt, 1,
					   __ATOMIC_RELAXED);
			continue;
		}
		if (req.counter >= __atomic_load_n(&sh->issued[req.caller],
						   __ATOMIC_ACQUIRE)) {
			__atomic_fetch_add(&sh->srv_phantom, 1,
					   __ATOMIC_RELAXED);
			continue;
		}
		__atomic_fetch_add(&sh->received[req.caller][req.counter], 1,
				   __ATOMIC_RELAXED);
		__atomic_fetch_add(&sh->srv_received, 1, __ATOMIC_RELAXED);
		held = req;
		token = info.token;
	}
	if (token) {	/* after the shutdown: ENOENT, or ECANCELED */
		cs_make_reply(&rep, &held);
		cs_replied(sh, &held, mb_reply(ct->fd, token, &rep, sizeof(rep)));
	}
	if (sh->timers)
		timer_delete(t);
	return NULL;
}

/* A caller or server process: CS_THREADS threads, each on its own open. */
static int cs_process(bool server, int idx)
{
	struct cs_thread ts[CS_THREADS];
	sigset_t set;
	int i;

	for (i = 0; i < CS_THREADS; i++) {
		ts[i].id = idx * CS_THREADS + i;
		ts[i].fd = mb_open(cs_sh->name, O_RDWR | O_CLOEXEC);
		if (ts[i].fd < 0)
			return 1;
		if (pthread_create(&ts[i].thread, NULL,
				   server ? cs_server : cs_caller, &ts[i]))
			return 1;
	}
	/* the timers' signals land in the workers' blocked calls */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	for (i = 0; i < CS_THREADS; i++) {
		pthread_join(ts[i].thread, NULL);
		close(ts[i].fd);
	}
	return 0;
}

/* Reap @pid by @deadline; false if it was still running then. */
static bool cs_reap(pid_t pid, int64_t deadline, int *status)
{
	while (waitpid(pid, status, WNOHANG) == 0) {
		if (now_ns() > deadline)
			return false;
		sleep_ms(5);
	}
	return true;
}

FIXTURE(callstorm) {
	int ctl;
	int fd;
	char name[IPCBOX_NAME_MAX];
	struct cs_shared *sh;
};

FIXTURE_VARIANT(callstorm) {
	uint32_t capacity;
	bool restart;
	bool timers;
	bool stop_callers;
	bool stop_servers;
};

FIXTURE_VARIANT_ADD(callstorm, bounded_timer_create_no_restart) {
	.capacity = 2, .restart = false, .timers = true,
};

FIXTURE_VARIANT_ADD(callstorm, bounded_timer_create_sa_restart) {
	.capacity = 2, .restart = true, .timers = true,
};

FIXTURE_VARIANT_ADD(callstorm, rendezvous_timer_create_sa_restart) {
	.capacity = 0, .restart = true, .timers = true,
};

FIXTURE_VARIANT_ADD(callstorm, bounded_stop_callers_timer_no_restart) {
	.capacity = 2, .restart = false, .timers = true, .stop_callers = true,
};

FIXTURE_VARIANT_ADD(callstorm, bounded_stop_servers_timer_sa_restart) {
	.capacity = 2, .restart = true, .timers = true, .stop_servers = true,
};

FIXTURE_VARIANT_ADD(callstorm, unbounded_stop_callers_and_servers) {
	.capacity = IPCBOX_CAPACITY_UNBOUNDED, .stop_callers = true,
	.stop_servers = true,
};

FIXTURE_SETUP(callstorm)
{
	self->fd = -1;
	self->sh = MAP_FAILED;
	CTL_OPEN_OR_SKIP(self->ctl);
	self->sh = mmap(NULL, sizeof(*self->sh), PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->sh);
	test_name(self->name, sizeof(self->name), "callstorm");
	self->fd = mb_create(self->ctl, self->name, variant->capacity, 64,
			     0600, IPCBOX_CREATE_CLOEXEC);
	ASSERT_GE(self->fd, 0) TH_LOG("create: %s", strerror(-self->fd));
}

FIXTURE_TEARDOWN(callstorm)
{
	close_fd(&self->fd);
	if (self->ctl >= 0 && self->name[0])
		mb_unlink(self->ctl, self->name);
	if (self->sh != MAP_FAILED)
		munmap(self->sh, sizeof(*self->sh));
	cs_sh = NULL;
	close_fd(&self->ctl);
}

TEST_F_TIMEOUT(callstorm, calls_are_delivered_once_and_answered_right, 240)
{
	unsigned long secs = env_ul("IPCBOX_SIGSTORM_SECS", DEFAULT_SECS);
	struct sigaction sa = { .sa_handler = cs_on_signal };
	uint64_t dup = 0, dropped = 0, unconfirmed = 0, restart_violation = 0;
	uint64_t issued = 0, undecided = 0;
	pid_t callers[CS_PROCS], servers[CS_PROCS], *victim;
	struct cs_shared *sh = self->sh;
	int64_t t0 = now_ns(), end, shut_at, deadline;
	bool hung = false, stopped = false;
	struct ipcbox_stat st;
	struct test_rng rng;
	uint32_t c, k;
	int i, status, bad_exit = 0;

	rng_seed(&rng, 4242);
	cs_sh = sh;
	copy_name(sh->name, self->name);
	sh->restart = variant->restart;
	sh->timers = variant->timers;
	sh->us = env_ul("IPCBOX_SIGSTORM_US", DEFAULT_US);
	sa.sa_flags = variant->restart ? SA_RESTART : 0;
	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));

	for (i = 0; i < CS_PROCS; i++) {
		servers[i] = fork();
		ASSERT_GE(servers[i], 0);
		if (servers[i] == 0)
			_exit(cs_process(true, i));
	}
	for (i = 0; i < CS_PROCS; i++) {
		callers[i] = fork();
		ASSERT_GE(callers[i], 0);
		if (callers[i] == 0)
			_exit(cs_process(false, i));
	}

	/* SIGSTOP and SIGCONT storms; the shutdown near the end. */
	end = t0 + (int64_t)secs * NSEC_PER_SEC;
	shut_at = end - (int64_t)rng_below(&rng, 800) * NSEC_PER_MSEC;
	while (now_ns() < shut_at) {
		if (!variant->stop_callers && !variant->stop_servers) {
			sleep_ms(10);
			continue;
		}
		if (variant->stop_callers && variant->stop_servers)
			victim = rng_below(&rng, 2) ? callers : servers;
		else
			victim = variant->stop_callers ? callers : servers;
		victim += rng_below(&rng, CS_PROCS);
		kill(*victim, SIGSTOP);
		sh->stops++;
		stopped = true;
		sleep_ms(rng_below(&rng, 4));
		kill(*victim, SIGCONT);
		sleep_ms(1 + rng_below(&rng, 8));
	}
	__atomic_store_n(&sh->shutdown_started, 1, __ATOMIC_SEQ_CST);
	ASSERT_EQ(0, mb_shutdown(self->fd));
	/* the storms go on a little while everybody winds down */
	sh->stop = 1;
	for (i = 0; i < 20 && stopped; i++) {
		victim = (i % 2 ? callers : servers) + (i / 2) % CS_PROCS;
		kill(*victim, SIGSTOP);
		sleep_ms(1);
		kill(*victim, SIGCONT);
	}
	deadline = now_ns() + CS_WAIT_SECS * NSEC_PER_SEC;
	for (i = 0; i < 2 * CS_PROCS; i++) {
		pid_t pid = i < CS_PROCS ? callers[i] : servers[i - CS_PROCS];

		kill(pid, SIGCONT);
		if (!cs_reap(pid, deadline, &status)) {
			hung = true;
			TH_LOG("%s process %d still running %ds after SHUTDOWN",
			       i < CS_PROCS ? "caller" : "server", pid,
			       CS_WAIT_SECS);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			bad_exit++;
	}

	for (c = 0; c < CS_CALLERS; c++) {
		issued += sh->issued[c];
		for (k = 0; k < sh->issued[c]; k++) {
			if (sh->received[c][k] > 1)
				dup += sh->received[c][k] - 1;
			/* REPLY returned 0: the caller has that reply */
			if (sh->replied[c][k] && sh->result[c][k] != CS_OK)
				dropped++;
			/* and a CALL that returned a length had one */
			if (sh->result[c][k] == CS_OK && !sh->replied[c][k])
				unconfirmed++;
			if (sh->result[c][k] == CS_NONE)
				undecided++;
			/* SA_RESTART: EINTR only once the request was received */
			if (variant->restart && sh->restartable[c][k] &&
			    sh->result[c][k] == CS_FAILED &&
			    sh->call_err[c][k] == EINTR && !sh->received[c][k])
				restart_violation++;
		}
	}
	ksft_print_msg("sigstorm: call cap=%u %s%s%s%s signals=%llu stops=%llu calls=%llu ok=%llu eintr=%llu etimedout=%llu epipe=%llu other=%llu bad_errno=%llu wrong_reply=%llu received=%llu dup=%llu dropped_replies=%llu unconfirmed=%llu srv_replied=%llu ecanceled=%llu enoent=%llu (before shutdown %llu) emsgsize=%llu srv_bad_errno=%llu corrupt=%llu phantom=%llu restart_violations=%llu hung=%d secs=%.1f\n",
		       variant->capacity,
		       variant->timers ? "timer_create " : "",
		       variant->restart ? "SA_RESTART" : "no-restart",
		       variant->stop_callers ? " +STOP callers" : "",
		       variant->stop_servers ? " +STOP servers" : "",
		       (unsigned long long)sh->signals,
		       (unsigned long long)sh->stops,
		       (unsigned long long)sh->calls,
		       (unsigned long long)sh->ok,
		       (unsigned long long)sh->eintr,
		       (unsigned long long)sh->etimedout,
		       (unsigned long long)sh->epipe,
		       (unsigned long long)sh->other_expected,
		       (unsigned long long)sh->bad_errno,
		       (unsigned long long)sh->wrong_reply,
		       (unsigned long long)sh->srv_received,
		       (unsigned long long)dup, (unsigned long long)dropped,
		       (unsigned long long)unconfirmed,
		       (unsigned long long)sh->srv_replied,
		       (unsigned long long)sh->srv_ecanceled,
		       (unsigned long long)sh->srv_enoent,
		       (unsigned long long)sh->srv_enoent_early,
		       (unsigned long long)sh->srv_emsgsize,
		       (unsigned long long)sh->srv_bad_errno,
		       (unsigned long long)sh->srv_corrupt,
		       (unsigned long long)sh->srv_phantom,
		       (unsigned long long)(restart_violation +
					    sh->srv_restart_violation),
		       hung, (now_ns() - t0) / 1e9);
	EXPECT_FALSE(hung);
	EXPECT_EQ(0, bad_exit);
	EXPECT_LT(0, sh->ok);
	EXPECT_LT(0, sh->signals + sh->stops);
	/* the storm must actually have hit blocked CALLs */
	if (variant->timers)
		EXPECT_LT(0, sh->eintr + sh->srv_recv_eintr);
	EXPECT_EQ(0, sh->bad_errno)
		TH_LOG("a CALL failed with errno %d (%s)", sh->last_bad_errno,
		       strerror(sh->last_bad_errno));
	EXPECT_EQ(0, sh->srv_bad_errno)
		TH_LOG("a server call failed with errno %d (%s)",
		       sh->srv_last_bad_errno,
		       strerror(sh->srv_last_bad_errno));
	EXPECT_EQ(0, sh->epipe_early);
	EXPECT_EQ(0, sh->wrong_reply);
	EXPECT_EQ(0, dup) TH_LOG("requests received twice");
	EXPECT_EQ(0, dropped) TH_LOG("replies delivered to REPLY but not returned by CALL");
	EXPECT_EQ(0, unconfirmed) TH_LOG("CALLs returned replies whose REPLY failed");
	EXPECT_EQ(0, sh->srv_enoent_early) TH_LOG("REPLY of a request in hand gave ENOENT");
	EXPECT_EQ(0, sh->srv_corrupt);
	EXPECT_EQ(0, sh->srv_phantom);
	EXPECT_EQ(0, restart_violation + sh->srv_restart_violation);
	/* every caller's last CALL returned (EPIPE after the shutdown) */
	if (!hung)
		EXPECT_EQ(0, undecided);
	ASSERT_EQ(0, mb_stat(self->fd, &st));
	EXPECT_EQ(0, st.depth);
	EXPECT_EQ(0, st.waiting_senders);
	EXPECT_EQ(0, st.waiting_receivers);
	EXPECT_GE(st.sent, st.received);
	EXPECT_LT(0, issued);
}

TEST_HARNESS_MAIN
