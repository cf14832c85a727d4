// SPDX-License-Identifier: GPL-2.0
/*
 * The table of mailboxes that ls and watch print, or its JSON array.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipcboxctl.h"
#include "json.h"

static const char *const ls_attrs[] = {
	"capacity", "msg_size_max", "depth", "bytes", "waiting_senders",
	"waiting_receivers", "sent", "received", "timeouts", "owner", "mode",
};
#define NR_LS_ATTRS (sizeof(ls_attrs) / sizeof(ls_attrs[0]))
static const char *const ls_heads[NR_LS_ATTRS] = {
	"CAPACITY", "MSGSIZE", "DEPTH", "BYTES", "WSEND", "WRECV",
	"SENT", "RECEIVED", "TIMEOUTS", "OWNER", "MODE",
};

static bool is_number(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* Capacity as people read it: the number, not its spelling, is compared. */
static const char *capacity_str(const char *raw)
{
	unsigned long long v;

	if (!is_number(raw))
		return raw;
	errno = 0;
	v = strtoull(raw, NULL, 10);
	if (!errno && v == IPCBOX_CAPACITY_UNBOUNDED)
		return "unbounded";
	return raw;
}

/* Numbers align right; owner and mode left, the last without padding. */
static int col_width(size_t a)
{
	if (a == NR_LS_ATTRS - 1)
		return 0;
	return a == NR_LS_ATTRS - 2 ? -9 : 9;
}

/* A mailbox's attributes, "?" for each unreadable one; the first error. */
static int read_row(const char *name, char vals[NR_LS_ATTRS][64])
{
	int err = 0, r;
	size_t a;

	for (a = 0; a < NR_LS_ATTRS; a++) {
		r = sysfs_read(name, ls_attrs[a], vals[a], sizeof(vals[a]));
		if (r && !err)
			err = r;
		if (r)
			strcpy(vals[a], "?");
	}
	return err;
}

/* A mailbox's counters: numbers as numbers, the rest (mode) as text. */
static void row_json(struct json *j, const char *name,
		     char vals[NR_LS_ATTRS][64])
{
	size_t a;

	json_object_begin(j, NULL);
	json_str(j, "name", name);
	for (a = 0; a < NR_LS_ATTRS; a++) {
		if (is_number(vals[a]) && strcmp(ls_attrs[a], "mode"))
			json_number(j, ls_attrs[a], vals[a]);
		else
			json_str(j, ls_attrs[a], vals[a]);
	}
	json_object_end(j);
}

/* One table (or JSON array) of mailboxes; @only restricts to names. */
int print_table(FILE *f, char **only, int nr_only, bool json, bool header)
{
	char vals[NR_LS_ATTRS][64];
	struct json j;
	char **names;
	size_t n, i, a;
	int ret = 0;

	if (nr_only > 0) {
		names = only;
		n = (size_t)nr_only;
	} else {
		names = sysfs_names(&n);
	}
	json_init(&j, f);
	if (json)
		json_array_begin(&j, NULL);
	else if (header) {
		fprintf(f, "%-20s", "NAME");
		for (a = 0; a < NR_LS_ATTRS; a++)
			fprintf(f, " %*s", col_width(a), ls_heads[a]);
		fputc('\n', f);
	}
	for (i = 0; i < n; i++) {
		int err = read_row(names[i], vals);

		if (err == -ENOENT && nr_only > 0) {
			/* Asked for by name and not there: say so. */
			if (access(SYSFS_CLASS, F_OK))
				err = -ENODEV;
			warn_err(err, "%s/%s", IPCBOX_DEV_DIR, names[i]);
			ret = 1;
			continue;
		}
		if (json) {
			row_json(&j, names[i], vals);
			continue;
		}
		fprintf(f, "%-20s", names[i]);
		for (a = 0; a < NR_LS_ATTRS; a++)
			fprintf(f, " %*s", col_width(a),
				a == 0 ? capacity_str(vals[a]) : vals[a]);
		fputc('\n', f);
	}
	if (json) {
		json_array_end(&j);
		json_end(&j);
	}
	if (names != only)
		free_names(names, n);
	return ret;
}
