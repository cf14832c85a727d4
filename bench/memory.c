// SPDX-License-Identifier: GPL-2.0
/*
 * Memory: slab deltas around creating mailboxes and queueing messages.
 */
#include "bench.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>

struct slab {
	char name[64];
	long bytes;
};

static int read_slabs(struct slab *s, int max)
{
	FILE *f = fopen("/proc/slabinfo", "r");
	char line[512];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f) && n < max) {
		char name[64];
		long active, num, objsize;

		if (line[0] == '#' || !strncmp(line, "slabinfo", 8))
			continue;
		if (sscanf(line, "%63s %ld %ld %ld", name, &active, &num, &objsize) != 4)
			continue;
		snprintf(s[n].name, sizeof(s[n].name), "%s", name);
		s[n].bytes = active * objsize;
		n++;
	}
	fclose(f);
	return n;
}

static void slab_diff(const char *what, long count, long payload,
		      struct slab *a, int na, struct slab *b, int nb)
{
	long total = 0;
	int i, j;
	char top[256] = "";

	for (i = 0; i < nb; i++) {
		long before = 0, d;

		for (j = 0; j < na; j++)
			if (!strcmp(a[j].name, b[i].name))
				before = a[j].bytes;
		d = b[i].bytes - before;
		total += d;
		if (d > count * 8) {
			size_t l = strlen(top);

			snprintf(top + l, sizeof(top) - l, "%s%s %.0f B", l ? "; " : "",
				 b[i].name, (double)d / count);
		}
	}
	report_slab(what, count, payload, (double)total / count, top);
}

/*
 * SLUB's slabinfo counts objects of whole slabs, so only fresh
 * allocations that grow new slabs show: each figure below is one pass
 * over many objects with no warm-up (a warm-up would free objects that
 * the measured pass then reuses unseen).
 */
static struct slab slabs_before[1024], slabs_after[1024];
static int nslabs_before;

static void slab_begin(void)
{
	nslabs_before = read_slabs(slabs_before, 1024);
}

static void slab_end(const char *what, long count, long payload)
{
	int n = read_slabs(slabs_after, 1024);

	slab_diff(what, count, payload, slabs_before, nslabs_before,
		  slabs_after, n);
}

/* @nbox empty mailboxes (capacity 64, 64 B); returns how many were created. */
static long memory_empty_mailboxes(int *fds, long nbox)
{
	long i;

	slab_begin();
	for (i = 0; i < nbox; i++) {
		struct ipcbox_create cr = { .capacity = 64, .msg_size_max = 64 };

		fds[i] = ioctl(ipcbox_ctl, IPCBOX_IOC_CREATE, &cr);
		if (fds[i] < 0) {
			report_memory_failed("create %ld failed: %m (raise max_per_user)", i);
			nbox = i;
			break;
		}
	}
	slab_end("empty_mailbox", nbox, 0);
	for (i = 0; i < nbox; i++)
		close(fds[i]);
	return nbox;
}

/* Separate the fd (struct file) from the mailbox: a plain eventfd. */
static void memory_eventfds(int *fds, long nbox)
{
	long i;

	slab_begin();
	for (i = 0; i < nbox; i++)
		fds[i] = eventfd(0, 0);
	slab_end("eventfd_for_reference", nbox, 0);
	for (i = 0; i < nbox; i++)
		close(fds[i]);
}

/* @nmsg messages of 64 B queued into one mailbox by one thread. */
static void memory_queued_messages(long nmsg)
{
	struct ipcbox_create cr = { .capacity = (uint32_t)nmsg, .msg_size_max = 64 };
	char buf[64] = { 0 };
	struct ipcbox_send s = { .buf = (uintptr_t)buf, .len = 64 };
	int fd = ioctl(ipcbox_ctl, IPCBOX_IOC_CREATE, &cr);
	long i;

	if (fd < 0) {
		report_memory_failed("create of a %ld-message mailbox failed: %m", nmsg);
		return;
	}
	slab_begin();
	for (i = 0; i < nmsg; i++)
		if (ioctl(fd, IPCBOX_IOC_SEND, &s) < 0) {
			report_memory_failed("send %ld failed: %m", i);
			nmsg = i;
			break;
		}
	slab_end("queued_64B_message", nmsg, 64);
	close(fd);
}

void memory_bench(void)
{
	long nbox = 1000, nmsg = 10000;	/* cheap: also in --quick */
	struct rlimit rl = { nbox + 64, nbox + 64 };
	int *fds;

	if (ipcbox_ctl < 0) {
		report_memory_failed("skipped: no /dev/ipcbox/control");
		return;
	}
	setrlimit(RLIMIT_NOFILE, &rl);
	if (read_slabs(slabs_before, 1024) < 0) {
		report_memory_unreadable("/proc/slabinfo");
		return;
	}
	fds = calloc(nbox, sizeof(*fds));
	if (!fds)
		die("out of memory");
	nbox = memory_empty_mailboxes(fds, nbox);
	memory_eventfds(fds, nbox);
	free(fds);
	memory_queued_messages(nmsg);
}
