// SPDX-License-Identifier: GPL-2.0
/*
 * The one writer of results: every figure, memory line, note and the
 * verdict leave the program here, so the CSV columns, the table and
 * what counts as a failure are each defined in one place.
 *
 * Output: CSV rows on the file given by --csv (default stdout) and a
 * table with each figure's ratio to pipe and to POSIX mq on stdout; the
 * last line of stdout is the verdict (make bench-quick relies on it).
 * Progress goes to stderr.
 */
#include "bench.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

static FILE *csv;
static int nfailed;	/* measurements that failed (not skipped) */
static int nskipped;	/* backends asked for and not run */

/* ---- CSV --------------------------------------------------------------- */

/* The columns, in order: the header and every row are made from these. */
enum col {
	COL_SCENARIO, COL_CPUS, COL_SIZE, COL_CAPACITY, COL_PRODUCERS,
	COL_CONSUMERS, COL_BACKEND, COL_METRIC, COL_UNIT, COL_MEDIAN, COL_MIN,
	COL_MAX, COL_RUNS, COL_SPREAD, COL_SYSCALLS, COL_CSW, COL_RATIO_PIPE,
	COL_RATIO_MQ, COL_BATCH, COL_NOTE, NR_COLS
};

static const char *const col_names[NR_COLS] = {
	"scenario", "cpus", "size", "capacity", "producers", "consumers",
	"backend", "metric", "unit", "median", "min", "max", "runs",
	"spread_pct", "syscalls_per_msg", "csw_per_msg", "ratio_pipe",
	"ratio_posix_mq", "batch", "note",
};

/* One CSV line; a column that is not set stays empty. */
struct csv_line {
	char field[NR_COLS][320];	/* the memory rows' notes are long */
};

static void __attribute__((format(printf, 3, 4)))
set_col(struct csv_line *l, enum col c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(l->field[c], sizeof(l->field[c]), fmt, ap);
	va_end(ap);
}

static void csv_put(const struct csv_line *l)
{
	for (int c = 0; c < NR_COLS; c++)
		fprintf(csv, "%s%s", c ? "," : "", l->field[c]);
	fputc('\n', csv);
}

static void csv_header(void)
{
	for (int c = 0; c < NR_COLS; c++)
		fprintf(csv, "%s%s", c ? "," : "", col_names[c]);
	fputc('\n', csv);
}

/* The columns that say what was measured, scenario to unit. */
static void csv_key(struct csv_line *l, const struct row *r,
		    const char *backend)
{
	set_col(l, COL_SCENARIO, "%s", r->scen);
	set_col(l, COL_CPUS, "%d", r->cpus);
	set_col(l, COL_SIZE, "%zu", r->size);
	set_col(l, COL_CAPACITY, "%ld", r->capacity);
	set_col(l, COL_PRODUCERS, "%d", r->prod);
	set_col(l, COL_CONSUMERS, "%d", r->cons);
	set_col(l, COL_BACKEND, "%s", backend);
	set_col(l, COL_METRIC, "%s", r->metric);
	set_col(l, COL_UNIT, "%s", r->unit);
}

static void csv_figure(const struct row *r)
{
	struct csv_line l = { 0 };

	csv_key(&l, r, r->be->name);
	set_col(&l, COL_RUNS, "%d", r->n);
	if (r->n) {
		set_col(&l, COL_MEDIAN, "%.3f", r->median);
		set_col(&l, COL_MIN, "%.3f", r->min);
		set_col(&l, COL_MAX, "%.3f", r->max);
		set_col(&l, COL_SPREAD, "%.1f", row_spread(r));
		set_col(&l, COL_SYSCALLS, "%.2f", r->sys_med);
		set_col(&l, COL_CSW, "%.3f", r->csw_med);
		set_col(&l, COL_RATIO_PIPE, "%.3f", ratio(r, "pipe"));
		set_col(&l, COL_RATIO_MQ, "%.3f", ratio(r, "posix-mq"));
	}
	set_col(&l, COL_BATCH, "%d", r->batch);
	set_col(&l, COL_NOTE, "\"%s\"", r->err[0] ? r->err : r->note);
	csv_put(&l);
}

/* ---- the table ------------------------------------------------------- */

/* The backend's name, with the batch size for ipcbox-batch. */
static const char *row_label(const struct row *r)
{
	static char buf[4][32];
	static int k;
	char *b = buf[k++ % 4];

	if (r->batch)
		snprintf(b, sizeof(buf[0]), "%s/%d", r->be->name, r->batch);
	else
		snprintf(b, sizeof(buf[0]), "%s", r->be->name);
	return b;
}

static const char *fmt_ratio(char *buf, double v)
{
	if (v > 0)
		snprintf(buf, 16, "%.2f", v);
	else
		snprintf(buf, 16, "-");
	return buf;
}

static void table_legend(void)
{
	printf("\nFigures are medians of %d runs; spread = (max-min)/median.\n"
	       "rtt: us per round trip (lower is better). tput/mpmc: kmsg/s or MiB/s\n"
	       "(higher is better). x pipe, x mq: this figure / the peer's figure.\n"
	       "sys/msg, csw/msg: system calls and context switches per message,\n"
	       "both sides together (rtt: per one-way message).\n", opt_runs);
}

/* A configuration's heading, printed when it differs from the last. */
static void table_heading(const struct row *r, char *last, size_t size)
{
	char hdr[128];

	if (!strcmp(r->scen, "rtt"))
		snprintf(hdr, sizeof(hdr), "rtt cpus=%d size=%zu", r->cpus, r->size);
	else
		snprintf(hdr, sizeof(hdr), "%s cpus=%d size=%zu cap=%ld %dx%d",
			 r->scen, r->cpus, r->size, r->capacity, r->prod, r->cons);
	if (!strcmp(hdr, last))
		return;
	printf("\n== %s\n%-15s %10s %-6s %7s %7s %7s %7s %7s\n", hdr,
	       "backend", "median", "unit", "spread", "x pipe",
	       "x mq", "sys/msg", "csw/msg");
	snprintf(last, size, "%s", hdr);
}

static void table_figure(const struct row *r)
{
	char rp[16], rm[16];

	if (!r->n) {
		printf("%-15s %s\n", row_label(r), r->err);
		return;
	}
	printf("%-15s %10.2f %-6s %6.1f%% %7s %7s %7.2f %7.2f\n",
	       row_label(r), r->median, r->unit, row_spread(r),
	       fmt_ratio(rp, ratio(r, "pipe")),
	       fmt_ratio(rm, ratio(r, "posix-mq")), r->sys_med, r->csw_med);
}

/* ---- what the rest of the program calls ------------------------------ */

void report_open(const char *csv_path)
{
	csv = csv_path ? fopen(csv_path, "w") : stdout;
	if (!csv)
		die("%s: %m", csv_path);
	setvbuf(stdout, NULL, _IOLBF, 0);
}

/* --list: every backend, and why it would be skipped. */
void report_backends(void)
{
	for (int i = 0; i < nr_backends; i++)
		printf("%-12s %s%s%s\n", backends[i].name, backends[i].desc,
		       backends[i].skip ? ": skipped: " : "",
		       backends[i].skip ? backends[i].skip : "");
}

static void cpu_model(char *cpu, size_t size)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "model name", 10)) {
			char *p = strchr(line, ':');

			snprintf(cpu, size, "%s", p ? p + 2 : line);
			cpu[strcspn(cpu, "\n")] = 0;
			break;
		}
	if (f)
		fclose(f);
}

void report_env(void)
{
	struct utsname u;
	char cpu[160] = "unknown";

	uname(&u);
	cpu_model(cpu, sizeof(cpu));
	printf("kernel: %s %s\ncpu: %s\nonline cpus: %d\n", u.release, u.version,
	       cpu, ncpus_online);
	if (ipcbox_ctl >= 0)
		printf("ipcbox: abi %u features 0x%llx\n", ipcbox_inf.abi_version,
		       (unsigned long long)ipcbox_inf.features);
	fprintf(csv, "# kernel=%s cpu=%s online_cpus=%d\n", u.release, cpu, ncpus_online);
}

/* A backend asked for and not run is a failure: the module lacks it. */
void report_skipped(const struct backend *b)
{
	printf("note: %s skipped: %s\n", b->name, b->skip);
	nskipped++;
}

/* Progress: one line per configuration, plus what failed in it. */
void report_progress(const struct run_cfg *base, const struct row *first,
		     int n)
{
	fprintf(stderr, "bench: %s cpus=%d size=%zu cap=%u %dx%d done\n",
		scen_names[base->scen], base->cpus, base->size, base->capacity,
		base->prod, base->cons);
	for (const struct row *r = first; r < first + n; r++)
		if (r->err[0] && !r->be->skip) {
			fprintf(stderr, "bench:   %s: %s\n", row_label(r), r->err);
			nfailed++;
		}
}

/*
 * Every measured figure, once all are in: a row's ratios need its
 * peers' rows, measured after it.
 */
void report_figures(void)
{
	char last[128] = "";

	csv_header();
	for (int i = 0; i < nrows; i++)
		csv_figure(&rows[i]);
	fflush(csv);
	table_legend();
	for (int i = 0; i < nrows; i++) {
		table_heading(&rows[i], last, sizeof(last));
		table_figure(&rows[i]);
	}
}

/* One memory figure: @per_obj bytes each over @count objects. */
void report_slab(const char *what, long count, long payload, double per_obj,
		 const char *top)
{
	struct row m = { .scen = "memory", .cpus = 1, .size = payload,
			 .capacity = -1, .prod = 1, .cons = 1, .metric = what,
			 .unit = "B" };
	struct csv_line l = { 0 };

	printf("memory: %s: %.0f B each (slabinfo delta over %ld; payload %ld B)%s%s\n",
	       what, per_obj, count, payload, top[0] ? ": " : "", top);
	csv_key(&l, &m, "ipcbox");
	set_col(&l, COL_MEDIAN, "%.1f", per_obj);
	set_col(&l, COL_RUNS, "1");
	set_col(&l, COL_BATCH, "0");
	set_col(&l, COL_NOTE, "\"%s\"", top);
	csv_put(&l);
}

static void memory_line(const char *fmt, va_list ap)
{
	int e = errno;	/* for a %m in @fmt */

	fputs("memory: ", stdout);
	errno = e;
	vprintf(fmt, ap);
	fputc('\n', stdout);
}

/* A memory figure that could not be taken: the run fails. */
void report_memory_failed(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	memory_line(fmt, ap);
	va_end(ap);
	nfailed++;
}

/* The memory figures could not be read at all; the run does not fail. */
void report_memory_unreadable(const char *what)
{
	printf("memory: skipped: %s unreadable\n", what);
}

/* The verdict, last; returns the exit status. */
int report_close(void)
{
	if (csv != stdout)
		fclose(csv);
	if (nfailed || nskipped) {
		printf("\nipcbox-bench: FAIL: %d measurement(s) failed, %d backend(s) skipped\n",
		       nfailed, nskipped);
		return 1;
	}
	printf("\nipcbox-bench: PASS: %d figures, no failure\n", nrows);
	return 0;
}
