// SPDX-License-Identifier: GPL-2.0
/*
 * One configuration on every backend: its rows, the warm-up that
 * sizes each run, and the measured runs, interleaved (A B C ... A B C)
 * so that drift of the machine hits every backend alike.
 */
#include "bench.h"

#include <string.h>

const char *const scen_names[] = { "rtt", "tput", "mpmc" };
static const int batch_sizes[] = { 1, 8, 64 };

#define NR_BATCH_SIZES ((int)(sizeof(batch_sizes) / sizeof(batch_sizes[0])))

/* Whether @b has a row in the configuration @rc of scenario @scen. */
static int backend_runs_in(const struct backend *b, enum scen scen,
			   const struct run_cfg *rc)
{
	/* A transport takes part in the scenarios whose calls it has. */
	if (b->ops && !(scen == RTT ? b->ops->call != NULL : b->ops->sendv != NULL))
		return 0;
	/* Fixed-capacity variants only add a row to the latency table. */
	if (scen != RTT && b->fixed_capacity >= 0)
		return 0;
	/* Batches: the 64 B capacity 64 throughput figure and mpmc. */
	if (b->batched && scen == TPUT && (rc->size != 64 || rc->capacity != 64))
		return 0;
	return 1;
}

static void row_new(const struct run_cfg *base, const struct backend *b,
		    int batch)
{
	struct row *r;

	if (nrows >= MAX_ROWS)
		die("too many rows");
	r = &rows[nrows++];
	memset(r, 0, sizeof(*r));
	snprintf(r->scen, sizeof(r->scen), "%s", scen_names[base->scen]);
	r->cpus = base->cpus;
	r->size = base->size;
	r->capacity = b->fixed_capacity >= 0 ? b->fixed_capacity :
		      base->scen == RTT ? 1 : base->capacity;
	r->prod = base->prod;
	r->cons = base->cons;
	r->batch = batch;
	r->be = b;
	r->metric = base->scen == RTT ? "round_trip" : "throughput";
	r->unit = metric_unit(base);
	if (b->skip)
		snprintf(r->err, sizeof(r->err), "skipped: %s", b->skip);
}

/*
 * The configuration's rows, appended to rows[]: one per wanted backend
 * that runs in it, ipcbox-batch one per batch size. Returns how many.
 */
static int add_rows(const struct run_cfg *base)
{
	int n = 0;

	for (int i = 0; i < nr_backends; i++) {
		const struct backend *b = &backends[i];

		if (!backend_wanted(b) || !backend_runs_in(b, base->scen, base))
			continue;
		for (int k = 0; k < (b->batched ? NR_BATCH_SIZES : 1); k++) {
			/* --batch N: ipcbox-batch at that size only */
			if (b->batched && opt_batch && batch_sizes[k] != opt_batch)
				continue;
			row_new(base, b, b->batched ? batch_sizes[k] : 0);
			n++;
		}
	}
	return n;
}

/* A run of @r's figure, @iters long. */
static struct run_cfg row_cfg(const struct run_cfg *base, const struct row *r,
			      long iters)
{
	struct run_cfg rc = *base;

	rc.capacity = r->capacity;
	rc.batch = r->batch;
	rc.iters = iters;
	return rc;
}

/*
 * How long a measured run lasts, in units of opt_target. A round trip
 * repeats one fixed exchange and is stable at 0.1 s. A one-way run's
 * figure depends on where the sender and the receiver happen to be when
 * the queue fills or drains (how many messages a sleeper finds on
 * waking), and with several producers or consumers on the order in which
 * the scheduler runs them; both differ from run to run and average out
 * over longer runs (one way on one vCPU: spreads up to 3.6 % at 0.1 s,
 * under 1.6 % at 0.3 s; 4x4: 2-5 % at 0.1 s, under 1.2 % at 0.4 s).
 */
#define ONE_WAY_TARGET_FACTOR	3
#define MANY_TARGET_FACTOR	4

static double run_target(const struct run_cfg *base, int many)
{
	if (many)
		return opt_target * MANY_TARGET_FACTOR;
	if (base->scen != RTT)
		return opt_target * ONE_WAY_TARGET_FACTOR;
	return opt_target;
}

/*
 * Iterations for the run's target time, from @it that took @secs, within
 * bounds, and a whole number of rounds over P producers x C consumers.
 */
static long scale_iters(const struct run_cfg *base, long it, double secs)
{
	int many = base->prod > 1 || base->cons > 1;
	double target = run_target(base, many);
	long n = (long)(it * target / (secs > 1e-6 ? secs : 1e-6));

	if (n < 20)
		n = 20;
	if (n > 20000000)
		n = 20000000;
	if (many)
		n -= n % (base->prod * base->cons);
	return n;
}

/*
 * The warm-up: runs that grow until one lasts a quarter of opt_target
 * size the measured runs. Returns their iteration count, or 0 when a run
 * failed and the row says why.
 */
static long warm_up(const struct run_cfg *base, struct row *r)
{
	struct run_result res;
	long it = r->batch > 25 ? r->batch * 2 : 50;

	for (;;) {
		struct run_cfg rc = row_cfg(base, r, it);

		run_one(r->be, &rc, &res);
		if (!res.ok) {
			snprintf(r->err, sizeof(r->err), "failed: %s", res.err);
			return 0;
		}
		if (res.secs > opt_target / 4 || it > 10000000)
			break;
		it *= res.secs > 0.001 ? 4 : 16;
	}
	snprintf(r->note, sizeof(r->note), "%s", res.note);
	return scale_iters(base, it, res.secs);
}

/* One measured run: a sample for the row, or the error that ends it. */
static void measured_run(const struct run_cfg *base, struct row *r,
			 long iters)
{
	struct run_cfg rc = row_cfg(base, r, iters);
	struct run_result res;

	if (r->err[0])
		return;
	run_one(r->be, &rc, &res);
	if (!res.ok) {
		snprintf(r->err, sizeof(r->err), "failed: %s", res.err);
		return;
	}
	r->v[r->n] = metric_of(&rc, &res);
	r->sys[r->n] = res.syscalls_per_msg;
	r->csw[r->n] = res.csw_per_msg;
	r->n++;
}

/*
 * Measure one configuration on every backend (ipcbox-batch once per
 * batch size), interleaved: a warm-up sizes each row's iteration count
 * for opt_target seconds, then opt_runs rounds run the rows one after
 * the other.
 */
void measure(struct run_cfg base)
{
	struct row *first = &rows[nrows];
	long iters[MAX_BACKENDS * NR_BATCH_SIZES];
	int n = add_rows(&base), i, run;

	for (i = 0; i < n; i++)
		iters[i] = first[i].be->skip ? 0 : warm_up(&base, &first[i]);
	for (run = 0; run < opt_runs; run++)
		for (i = 0; i < n; i++)
			measured_run(&base, &first[i], iters[i]);
	for (i = 0; i < n; i++)
		row_summarise(&first[i]);
	report_progress(&base, first, n);
}
