// SPDX-License-Identifier: GPL-2.0
/*
 * ipcbox-bench: ipcbox side by side with the classic Linux IPC mechanisms.
 *
 * One program, one backend per mechanism, all run in the same boot and
 * interleaved (A B C ... A B C ...) so that drift of the machine hits
 * every backend alike. Results are ratios first: a lone absolute time
 * from a virtual machine means little.
 *
 * Scenarios:
 *   rtt   round-trip latency, one message each way over two channels
 *         (ipcbox-call: one CALL / REPLY_RECV pair over one mailbox)
 *   tput  one-way throughput, one producer and one consumer; at 64 B
 *         capacity 64 (the batching figure) also ipcbox-batch moving 1, 8
 *         or 64 messages per SENDV/RECVV call
 *   mpmc  P producers and C consumers on one channel (ipcbox-batch too)
 * each with the processes pinned on one vCPU and, separately, on two.
 * memory (memory.c) measures slab memory of empty mailboxes and queued
 * messages.
 *
 * Output (report.c): CSV rows on the file given by --csv (default
 * stdout) and a table with each figure's ratio to pipe and to POSIX mq
 * on stdout.
 */
#include "bench.h"

#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>

/*
 * Under the instruction counter a run's figure repeats to within 0.1 %,
 * so three short runs are enough; under wall time ask for more.
 */
int opt_runs = 3, opt_quick, opt_batch;
double opt_target = 0.1;	/* seconds per measured run */
const char *opt_only;

/* The options only main() reads: what to run, and where the CSV goes. */
static const char *opt_scen = "all", *opt_cpus = "both", *opt_csv;
static long only_size = -1, only_cap = -1, only_procs = -1;

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "ipcbox-bench: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: ipcbox-bench [--quick] [--runs N] [--time SECS] [--csv FILE]\n"
		"                    [--only a,b,...] [--scenario rtt|tput|mpmc|memory|all]\n"
		"                    [--cpus 1|2|both] [--size N] [--capacity N]\n"
		"                    [--procs N] [--batch N] [--list]\n");
	exit(2);
}

/*
 * The configurations: the full matrix, or with --quick those of the
 * headline figures (bench/baseline.csv): 64 B round trips, one-way 64 B
 * and 64 KiB at capacity 64, 4 x 4 processes; on one vCPU, in short runs.
 */
struct cfg_list {
	size_t rtt_sizes[5], tput_sizes[2];
	unsigned int caps[4];
	int mp[3];
	int n_rtt, n_tput, n_caps, n_mp;
};

static const struct cfg_list full_cfgs = {
	.rtt_sizes = { 64, 4096, 65536 }, .n_rtt = 3,
	.tput_sizes = { 64, 65536 }, .n_tput = 2,
	.caps = { 1, 64 }, .n_caps = 2,
	.mp = { 2, 4 }, .n_mp = 2,
};

static const struct cfg_list quick_cfgs = {
	.rtt_sizes = { 64 }, .n_rtt = 1,
	.tput_sizes = { 64, 65536 }, .n_tput = 2,
	.caps = { 64 }, .n_caps = 1,
	.mp = { 4 }, .n_mp = 1,
};

/* An option that takes a value; 0 when @name is none of them. */
static int value_option(const char *name, const char *v)
{
	if (!strcmp(name, "--runs"))
		opt_runs = atoi(v);
	else if (!strcmp(name, "--time"))
		opt_target = atof(v);
	else if (!strcmp(name, "--csv"))
		opt_csv = v;
	else if (!strcmp(name, "--only"))
		opt_only = v;
	else if (!strcmp(name, "--scenario"))
		opt_scen = v;
	else if (!strcmp(name, "--cpus"))
		opt_cpus = v;
	else if (!strcmp(name, "--size"))
		only_size = atol(v);
	else if (!strcmp(name, "--capacity"))
		only_cap = atol(v);
	else if (!strcmp(name, "--procs"))
		only_procs = atol(v);
	else if (!strcmp(name, "--batch"))
		opt_batch = atoi(v);
	else
		return 0;
	return 1;
}

static void parse_args(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick")) {
			opt_quick = 1;
			opt_cpus = "1";
		} else if (!strcmp(argv[i], "--list")) {
			probe_backends();
			report_backends();
			exit(0);
		} else if (i + 1 < argc && value_option(argv[i], argv[i + 1])) {
			i++;
		} else {
			usage();
		}
	}
	if (opt_runs < 1 || opt_runs > MAX_RUNS)
		die("--runs must be 1..%d", MAX_RUNS);
}

static int scen_wanted(const char *name)
{
	return !strcmp(opt_scen, "all") || !strcmp(opt_scen, name);
}

static void run_rtt(struct run_cfg rc, const struct cfg_list *cl)
{
	rc.scen = RTT;
	for (int i = 0; i < cl->n_rtt; i++) {
		rc.size = cl->rtt_sizes[i];
		if (only_size < 0 || (long)rc.size == only_size)
			measure(rc);
	}
}

static void run_tput(struct run_cfg rc, const struct cfg_list *cl)
{
	rc.scen = TPUT;
	for (int i = 0; i < cl->n_tput; i++)
		for (int c = 0; c < cl->n_caps; c++) {
			rc.size = cl->tput_sizes[i];
			rc.capacity = cl->caps[c];
			if ((only_size < 0 || (long)rc.size == only_size) &&
			    (only_cap < 0 || (long)rc.capacity == only_cap))
				measure(rc);
		}
}

static void run_mpmc(struct run_cfg rc, const struct cfg_list *cl)
{
	rc.scen = MPMC;
	rc.size = 64;
	rc.capacity = 64;
	for (int i = 0; i < cl->n_mp; i++) {
		rc.prod = rc.cons = cl->mp[i];
		if (only_procs < 0 || rc.prod == only_procs)
			measure(rc);
	}
}

/* Every configuration asked for, on one vCPU and then on two. */
static void run_matrix(const struct cfg_list *cl)
{
	for (int ci = 1; ci <= 2; ci++) {
		struct run_cfg rc = { .prod = 1, .cons = 1, .cpus = ci };

		if ((ci == 1 && !strcmp(opt_cpus, "2")) ||
		    (ci == 2 && !strcmp(opt_cpus, "1")))
			continue;
		if (scen_wanted("rtt"))
			run_rtt(rc, cl);
		if (scen_wanted("tput"))
			run_tput(rc, cl);
		if (scen_wanted("mpmc"))
			run_mpmc(rc, cl);
	}
}

static void setup_process(void)
{
	/* 64 KiB x 64 POSIX mq messages exceed the default 800 KiB. */
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	sigset_t set;

	ncpus_online = sysconf(_SC_NPROCESSORS_ONLN);
	signal(SIGPIPE, SIG_IGN);
	setrlimit(RLIMIT_MSGQUEUE, &rl);
	/* Taken with sigtimedwait() in run_one(); children unblock it. */
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
}

int main(int argc, char **argv)
{
	parse_args(argc, argv);
	report_open(opt_csv);
	setup_process();
	probe_backends();
	report_env();
	for (int i = 0; i < nr_backends; i++)
		if (backends[i].skip && backend_wanted(&backends[i]))
			report_skipped(&backends[i]);
	run_matrix(opt_quick ? &quick_cfgs : &full_cfgs);
	report_figures();
	if (scen_wanted("memory"))
		memory_bench();
	return report_close();
}
