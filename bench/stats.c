// SPDX-License-Identifier: GPL-2.0
/*
 * Timing and statistics: the clock, medians, the figure of a run and
 * the ratio of a row to a peer's.
 */
#include "bench.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

struct row rows[MAX_ROWS];
int nrows;

static int dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(const double *v, int n)
{
	double t[MAX_RUNS];

	memcpy(t, v, n * sizeof(*v));
	qsort(t, n, sizeof(*t), dcmp);
	return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

/* The unit of metric_of(): us per round trip, kmsg/s, or MiB/s from 4 KiB. */
const char *metric_unit(const struct run_cfg *rc)
{
	return rc->scen == RTT ? "us" : rc->size >= 4096 ? "MiB/s" : "kmsg/s";
}

double metric_of(const struct run_cfg *rc, const struct run_result *r)
{
	if (rc->scen == RTT)
		return r->secs / rc->iters * 1e6;	/* us per round trip */
	if (rc->size >= 4096)
		return rc->iters * (double)rc->size / r->secs / (1 << 20);	/* MiB/s */
	return rc->iters / r->secs / 1e3;		/* kmsg/s */
}

static struct row *peer(const struct row *r, const char *name)
{
	int i;

	for (i = 0; i < nrows; i++) {
		struct row *p = &rows[i];

		if (!strcmp(p->be->name, name) && !p->batch &&
		    !strcmp(p->scen, r->scen) &&
		    p->cpus == r->cpus && p->size == r->size &&
		    p->prod == r->prod && p->cons == r->cons &&
		    (p->capacity == r->capacity || !strcmp(r->scen, "rtt")) && p->n)
			return p;
	}
	return NULL;
}

/* The median, spread and system calls and switches of a row's runs. */
void row_summarise(struct row *r)
{
	if (!r->n)
		return;
	r->median = median(r->v, r->n);
	r->sys_med = median(r->sys, r->n);
	r->csw_med = median(r->csw, r->n);
	r->min = r->max = r->v[0];
	for (int k = 1; k < r->n; k++) {
		if (r->v[k] < r->min)
			r->min = r->v[k];
		if (r->v[k] > r->max)
			r->max = r->v[k];
	}
}

/* (max - min) / median, in per cent: how far to trust the median. */
double row_spread(const struct row *r)
{
	return 100 * (r->max - r->min) / r->median;
}

/*
 * Ratio to a peer as "how many times the peer's figure": for latency
 * (lower is better) ours / theirs, for throughput ours / theirs too, so
 * a reader must keep the direction in mind; the table header says it.
 */
double ratio(const struct row *r, const char *name)
{
	const struct row *p = peer(r, name);

	if (!p || !r->n || p->median == 0)
		return 0;
	return r->median / p->median;
}
