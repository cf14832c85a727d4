/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the files of ipcbox-bench share: the channel and its transport
 * operations, the backend table, one run's configuration and result,
 * the rows of figures, and the options. Internal to bench/; the program
 * is one binary and this is not an interface of ipcbox.
 */
#ifndef IPCBOX_BENCH_H
#define IPCBOX_BENCH_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <linux/ipcbox.h>

#define MAX_PROCS	8
#define MAX_BACKENDS	16
#define MAX_ROWS	4096
#define MAX_RUNS	32
#define MAX_BATCH	64

/* ---- channels and transports (transport.c, tr-*.c) ---------------- */

struct chan_cfg {
	size_t msg_size;	/* every message has exactly this size */
	unsigned int capacity;	/* ipcbox semantics: 0 = rendezvous */
};

struct chan {
	const struct backend *be;
	struct chan_cfg cfg;
	int fd[2];		/* pipe/socket ends, or fd[0] for the rest */
	void *priv;		/* the transport's own state, from chan_priv() */
	char note[96];		/* how the capacity was mapped */
};

enum scen { RTT, TPUT, MPMC };

extern const char *const scen_names[];

/* Per-process counters, collected in shared memory. */
struct proc_stats {
	unsigned long syscalls;
	unsigned long msgs;
	unsigned long bad;
	unsigned long csw;	/* context switches from the start to the end */
	double t_end;
};

extern __thread struct proc_stats *cur_stats;

static inline void count_sys(unsigned long n)
{
	if (cur_stats)
		cur_stats->syscalls += n;
}

/*
 * After each system call of a message: count it, and say whether a
 * signal cut it short so that it is to be made again (@r is its return
 * value; failure is r < 0 with errno set).
 */
static inline int sys_again(ssize_t r)
{
	count_sys(1);
	return r < 0 && errno == EINTR;
}

/* The same for the libipcbox calls, which return -errno. */
static inline int lib_again(int r)
{
	count_sys(1);
	return r == -EINTR;
}

/*
 * What a transport does. The scenarios call only sendv/recvv (one way)
 * and call/serve/serve_end (round trip), so that each scenario is
 * written once for all; a transport that moves one message per system
 * call provides send and recv and builds the rest from them with
 * CHAN_OPS_FROM_SEND_RECV. A transport leaves out the calls of a
 * scenario it does not take part in (backend_runs_in() reads that).
 */
struct chan_ops {
	int (*open)(struct chan *c);
	void (*close)(struct chan *c);	/* chan_close() frees c->priv */
	int (*send)(struct chan *c, const void *buf);
	int (*recv)(struct chan *c, void *buf);
	/*
	 * sendv() sends @n messages laid out one after the other in @bufs;
	 * recvv() receives 1..@max of them and returns how many, or -1.
	 */
	int (*sendv)(struct chan *c, const void *bufs, int n);
	int (*recvv)(struct chan *c, void *bufs, int max);
	/*
	 * Round trip: call() sends the request @msg and receives the reply
	 * into @reply; serve() is the server's step, which receives a
	 * request into @buf and sees to it that the request, echoed, goes
	 * back as the reply; serve_end() sends what the last serve() left
	 * (ipcbox-call sends each reply with its next receive). @rep is
	 * the reply channel, NULL when rtt_chans is 1.
	 */
	int (*call)(struct chan *req, struct chan *rep, const void *msg,
		    void *reply);
	int (*serve)(struct chan *req, struct chan *rep, void *buf);
	int (*serve_end)(struct chan *req, const void *buf);
	int rtt_chans;		/* channels per round trip: 2, or 1 for both ways */
};

/* The calls of CHAN_OPS_FROM_SEND_RECV, made of send and recv. */
int sendv_each(struct chan *c, const void *bufs, int n);
int recvv_one(struct chan *c, void *bufs, int max);
int call_pair(struct chan *req, struct chan *rep, const void *msg, void *reply);
int serve_pair(struct chan *req, struct chan *rep, void *buf);
int serve_end_none(struct chan *req, const void *buf);

#define CHAN_OPS_FROM_SEND_RECV						\
	.sendv = sendv_each, .recvv = recvv_one, .call = call_pair,	\
	.serve = serve_pair, .serve_end = serve_end_none, .rtt_chans = 2

struct backend {
	const char *name;
	const char *desc;
	uint64_t need_feature;	/* IPCBOX_FEAT_* the module must report */
	int ipcbox;		/* needs /dev/ipcbox/control */
	long fixed_capacity;	/* -1: use the scenario's; else forced */
	int batched;		/* one row per entry of batch_sizes[] */
	const struct chan_ops *ops;
	const char *skip;	/* set at start-up when unavailable */
};

extern const struct chan_ops ipcbox_ops, ipcbox_rw_ops, ipcbox_call_ops,
	ipcbox_batch_ops;		/* tr-ipcbox.c */
extern const struct chan_ops pipe_ops, seqpacket_ops;	/* tr-pipe-socket.c */
extern const struct chan_ops posix_mq_ops, sysv_msg_ops;	/* tr-queue.c */
extern const struct chan_ops shm_ring_ops;		/* tr-ring.c */

extern int ipcbox_ctl;			/* /dev/ipcbox/control, or -1 */
extern struct ipcbox_info ipcbox_inf;	/* its INFO */
void ipcbox_probe(void);

extern struct backend backends[];
extern const int nr_backends;

int xread(int fd, void *buf, size_t len);
int xwrite(int fd, const void *buf, size_t len);
void *chan_priv(struct chan *c, size_t size);
void close_fds(struct chan *c);
void probe_backends(void);
int backend_wanted(const struct backend *b);
int chan_open(struct chan *c, const struct backend *b,
	      const struct chan_cfg *cfg);
void chan_close(struct chan *c);

/* ---- one run (run.c) and the scenarios' loops (scenario.c) ---------- */

struct run_cfg {
	enum scen scen;
	int cpus;		/* 1: everyone on CPU 0; 2: producers 0, consumers 1 */
	size_t size;
	unsigned int capacity;
	int prod, cons;
	int batch;		/* ipcbox-batch: messages per call, else 0 */
	long iters;		/* round trips, or messages in all */
};

struct run_result {
	int ok;
	double secs;
	double syscalls_per_msg;
	double csw_per_msg;
	long msgs;
	char note[96];
	char err[96];
};

extern int ncpus_online;

void run_one(const struct backend *be, const struct run_cfg *rc,
	     struct run_result *res);
int scenario_proc(struct proc_stats *st, const struct run_cfg *rc, int idx,
		  struct chan *a, struct chan *b, char *buf, char *buf2);

/* ---- rows of figures (measure.c, stats.c) ----------------------------- */

struct row {
	char scen[8];
	int cpus;
	size_t size;
	long capacity;		/* -1: not applicable */
	int prod, cons;
	int batch;		/* ipcbox-batch: messages per call */
	const struct backend *be;
	const char *metric, *unit;
	int n;
	double v[MAX_RUNS];
	double sys[MAX_RUNS], csw[MAX_RUNS];
	char note[96];
	char err[96];
	double median, min, max, sys_med, csw_med;
};

extern struct row rows[MAX_ROWS];
extern int nrows;

void measure(struct run_cfg base);
double now(void);
const char *metric_unit(const struct run_cfg *rc);
double metric_of(const struct run_cfg *rc, const struct run_result *r);
void row_summarise(struct row *r);
double ratio(const struct row *r, const char *name);
double row_spread(const struct row *r);

/* ---- output (report.c) and the memory figures (memory.c) ------------- */

void report_open(const char *csv_path);
void report_backends(void);
void report_env(void);
void report_skipped(const struct backend *b);
void report_progress(const struct run_cfg *base, const struct row *first,
		     int n);
void report_figures(void);
void report_slab(const char *what, long count, long payload, double per_obj,
		 const char *top);
void report_memory_failed(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
void report_memory_unreadable(const char *what);
int report_close(void);

void memory_bench(void);

/* ---- options (ipcbox-bench.c) --------------------------------------- */

extern int opt_runs, opt_quick, opt_batch;
extern double opt_target;	/* seconds per measured run */
extern const char *opt_only;

void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif /* IPCBOX_BENCH_H */
