// SPDX-License-Identifier: GPL-2.0
/*
 * One run: the channels, the processes (forked, pinned, started
 * together), and what they counted once they are reaped.
 */
#include "bench.h"

#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

int ncpus_online;

static void pin(int cpu)
{
	cpu_set_t set;

	if (cpu >= ncpus_online)
		cpu = ncpus_online - 1;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

struct shared {
	atomic_int ready;
	atomic_int go;
	double t_start;
	struct proc_stats st[MAX_PROCS];
};

static void wait_go(struct shared *sh)
{
	atomic_fetch_add(&sh->ready, 1);
	while (!atomic_load(&sh->go))
		sched_yield();
}

/* Context switches of the calling process so far, both kinds. */
static unsigned long proc_csw(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_nvcsw + ru.ru_nivcsw;
}

/*
 * Process @idx of the run: it waits for the others, then does its part.
 * Its context switches are counted from the start: those of the wait,
 * where the processes yield to each other until all are ready, are not
 * the run's.
 */
static void child(struct shared *sh, int idx, const struct run_cfg *rc,
		  struct chan *a, struct chan *b)
{
	int nb = rc->batch > 1 ? rc->batch : 1;
	char *buf = malloc(rc->size * nb), *buf2 = malloc(rc->size);
	struct proc_stats *st = &sh->st[idx];
	int producer = idx < rc->prod;
	unsigned long csw0;

	cur_stats = st;
	sigprocmask(SIG_SETMASK, &(sigset_t){ 0 }, NULL);
	memset(buf, 0x5a, rc->size * nb);
	pin(rc->cpus == 1 ? 0 : (producer ? 0 : 1));
	wait_go(sh);
	csw0 = proc_csw();

	if (scenario_proc(st, rc, idx, a, b, buf, buf2))
		st->bad++;
	st->t_end = now();
	st->csw = proc_csw() - csw0;
	if (st->bad)
		fprintf(stderr, "ipcbox-bench: %s: %s: %m\n", a->be->name,
			producer ? "send" : "receive");
	_exit(st->bad ? 1 : 0);
}

/* The processes of a run, and what they counted once reaped. */
struct procs {
	pid_t pid[MAX_PROCS];	/* 0 once reaped */
	int n, left;
	int failed;
	unsigned long sys, csw;
	double t_end;		/* when the last one was done */
};

/*
 * The run's channels: @a, and @b for the replies of a round trip over
 * two channels (NULL otherwise). Returns 0, or -1 with res->err set.
 */
static int open_chans(const struct backend *be, const struct run_cfg *rc,
		      struct chan *a, struct chan *b, struct run_result *res)
{
	struct chan_cfg cfg = { .msg_size = rc->size, .capacity = rc->capacity };
	int r = chan_open(a, be, &cfg);

	if (!r && b) {
		r = chan_open(b, be, &cfg);
		if (r)
			chan_close(a);
	}
	if (r) {
		snprintf(res->err, sizeof(res->err), "open: %s", strerror(-r));
		return -1;
	}
	snprintf(res->note, sizeof(res->note), "%s", a->note);
	return 0;
}

/* Fork the run's processes and let them go together once all are ready. */
static void start_procs(struct shared *sh, const struct run_cfg *rc,
			struct chan *a, struct chan *b, struct procs *ps)
{
	ps->n = ps->left = rc->prod + rc->cons;
	for (int i = 0; i < ps->n; i++) {
		ps->pid[i] = fork();
		if (ps->pid[i] < 0)
			die("fork: %m");
		if (!ps->pid[i])
			child(sh, i, rc, a, b);
	}
	while (atomic_load(&sh->ready) < ps->n)
		usleep(1000);
	sh->t_start = now();
	atomic_store(&sh->go, 1);
}

/* Collect, without waiting, every process that has ended. */
static void reap_ended(const struct shared *sh, struct procs *ps)
{
	int status, k;
	pid_t p;

	while ((p = waitpid(-1, &status, WNOHANG)) > 0) {
		for (k = 0; k < ps->n && ps->pid[k] != p; k++)
			;
		if (k == ps->n)
			continue;
		ps->pid[k] = 0;
		ps->left--;
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			ps->failed = 1;
		ps->csw += sh->st[k].csw;
		ps->sys += sh->st[k].syscalls;
		if (sh->st[k].t_end > ps->t_end)
			ps->t_end = sh->st[k].t_end;
	}
}

/*
 * Reap the processes as they end; when one fails or the run overruns
 * its deadline, kill the rest rather than leave a peer blocked.
 */
static void reap_all(const struct shared *sh, struct procs *ps,
		     struct run_result *res)
{
	double deadline = now() + 60 + 40 * opt_target;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	while (ps->left > 0) {
		struct timespec ts = { .tv_sec = 0, .tv_nsec = 200000000 };

		reap_ended(sh, ps);
		if (ps->left && (ps->failed || now() > deadline)) {
			if (!ps->failed)
				snprintf(res->err, sizeof(res->err), "timed out");
			ps->failed = 1;
			for (int k = 0; k < ps->n; k++)
				if (ps->pid[k] > 0)
					kill(ps->pid[k], SIGKILL);
		}
		if (ps->left)
			sigtimedwait(&set, NULL, &ts);
	}
}

static void run_counts(const struct run_cfg *rc, const struct shared *sh,
		       const struct procs *ps, struct run_result *res)
{
	/* Every message is one send and one receive; RTT has two per trip. */
	res->msgs = rc->scen == RTT ? 2 * rc->iters : rc->iters;
	res->secs = ps->t_end - sh->t_start;
	res->syscalls_per_msg = (double)ps->sys / res->msgs;
	res->csw_per_msg = (double)ps->csw / res->msgs;
	res->ok = !ps->failed;
	if (ps->failed && !res->err[0])
		snprintf(res->err, sizeof(res->err), "a process failed");
}

void run_one(const struct backend *be, const struct run_cfg *rc,
	     struct run_result *res)
{
	/* ipcbox-call carries the request and the reply over one mailbox. */
	int two = rc->scen == RTT && be->ops->rtt_chans == 2;
	struct procs ps = { 0 };
	struct chan a, b;
	struct shared *sh;

	memset(res, 0, sizeof(*res));
	if (open_chans(be, rc, &a, two ? &b : NULL, res))
		return;
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		die("mmap: %m");
	memset(sh, 0, sizeof(*sh));
	start_procs(sh, rc, &a, two ? &b : NULL, &ps);
	reap_all(sh, &ps, res);
	run_counts(rc, sh, &ps, res);
	munmap(sh, sizeof(*sh));
	chan_close(&a);
	if (two)
		chan_close(&b);
}
