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

static uint32_t xorshift(uint32_t *s)
{
	uint32_t x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

static void bump(uint64_t *c)
{
	__atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
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

/* A timer that signals this thread every st->us microseconds. */
static int thread_timer(struct ss_state *st, timer_t *t, long phase_us)
{
	struct sigevent sev;
	struct itimerspec its;

	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = st->sig;
	sev.sigev_notify_thread_id = test_gettid();
	if (timer_create(CLOCK_MONOTONIC, &sev, t))
		return -errno;
	its.it_interval.tv_sec = st->us / 1000000;
	its.it_interval.tv_nsec = (st->us % 1000000) * 1000;
	its.it_value.tv_sec = 0;
	its.it_value.tv_nsec = 1000 + (phase_us % st->us) * 1000;
	if (timer_settime(*t, 0, &its, NULL))
		return -errno;
	return 0;
}

/* How long a call may wait, and whether a signal may restart it. */
static int64_t pick_timeout(uint32_t *rnd, uint32_t *flags, bool *restartable,
			    uint32_t abstime_flag)
{
	switch (xorshift(rnd) % 3) {
	case 0:
		*restartable = true;
		return IPCBOX_TIMEOUT_INFINITE;
	case 1:
		*restartable = false;
		return (2 + xorshift(rnd) % 20) * NSEC_PER_MSEC;
	default:
		*restartable = true;
		*flags |= abstime_flag;
		return now_ns() + (2 + xorshift(rnd) % 20) * NSEC_PER_MSEC;
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
	uint32_t rnd = 0x12345 + wk->id * 7777, seq = 0, att = 0, flags;
	struct ss_msg m;
	bool restartable;
	timer_t t;
	int64_t to;
	int ret;

	if (st->thread_timers && thread_timer(st, &t, wk->id * 300)) {
		fail(st, -errno);
		return NULL;
	}
	while (!st->stop && seq < MAX_SEQ) {
		fill_msg(&m, wk->id, seq, att);
		flags = st->sync && xorshift(&rnd) % 2 ? IPCBOX_SEND_SYNC : 0;
		if (xorshift(&rnd) % 4 == 0) {
			restartable = true;
			ret = write(st->fd, &m, sizeof(m));
			ret = ret < 0 ? -errno : 0;
		} else {
			to = pick_timeout(&rnd, &flags, &restartable,
					  IPCBOX_SEND_ABSTIME);
			ret = mb_send_full(st->fd, &m, sizeof(m), flags, to, 0,
					   0, NULL);
		}
		if (ret == 0) {
			st->ok_attempt[wk->id][seq] = att;
			seq++;
			__atomic_store_n(&st->nsent[wk->id], seq, __ATOMIC_RELEASE);
			att = 0;
			/* now and then let the queue fill up */
			if (xorshift(&rnd) % 64 == 0)
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
	uint32_t rnd = 0xabcdef + wk->id * 31337, flags;
	struct ss_msg m;
	bool restartable;
	timer_t t;
	int64_t to;
	int n;

	if (st->thread_timers && thread_timer(st, &t, 150 + wk->id * 300)) {
		fail(st, -errno);
		return NULL;
	}
	for (;;) {
		flags = 0;
		memset(&m, 0, sizeof(m));
		if (xorshift(&rnd) % 4 == 0) {
			restartable = true;
			n = read(st->fd, &m, sizeof(m));
			if (n == 0)
				break;	/* shut down and drained */
			n = n < 0 ? -errno : n;
		} else {
			to = pick_timeout(&rnd, &flags, &restartable,
					  IPCBOX_RECV_ABSTIME);
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
		if (xorshift(&rnd) % 64 == 0)
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
	self->ctl = ctl_open();
	if (self->ctl < 0)
		SKIP(return, "%s: %m (ipcbox.ko not loaded?)", IPCBOX_CONTROL_PATH);
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

TEST_HARNESS_MAIN
