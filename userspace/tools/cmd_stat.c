// SPDX-License-Identifier: GPL-2.0
/*
 * ipcboxctl stat: one mailbox's settings and counters (STAT ioctl).
 */
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ipcboxctl.h"
#include "json.h"

/* STAT of a mailbox by name or path; a failure is reported here. */
static int stat_one(const char *name, struct ipcbox_stat *st)
{
	char path[PATH_MAX];
	int fd, ret;

	fd = ipcbox_open(name, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		warn_err(fd, "%s", mailbox_path(name, path, sizeof(path)));
		return fd;
	}
	ret = ipcbox_stat(fd, st);
	close(fd);
	if (ret)
		warn_err(ret, "%s", mailbox_path(name, path, sizeof(path)));
	return ret;
}

static void stat_json(struct json *j, const struct ipcbox_stat *st)
{
	json_object_begin(j, NULL);
	json_strn(j, "name", st->name, strnlen(st->name, sizeof(st->name)));
	json_uint(j, "capacity", st->capacity);
	json_bool(j, "unbounded", st->capacity == IPCBOX_CAPACITY_UNBOUNDED);
	json_uint(j, "msg_size_max", st->msg_size_max);
	json_uint(j, "depth", st->depth);
	json_uint(j, "bytes", st->bytes);
	json_uint(j, "cached", st->cached);
	json_uint(j, "waiting_senders", st->waiting_senders);
	json_uint(j, "waiting_receivers", st->waiting_receivers);
	json_uint(j, "sent", st->sent);
	json_uint(j, "received", st->received);
	json_uint(j, "timeouts", st->timeouts);
	json_uint(j, "uid", st->uid);
	json_uint(j, "gid", st->gid);
	json_strf(j, "mode", "%04o", st->mode);
	json_bool(j, "named", st->flags & IPCBOX_STAT_NAMED);
	json_bool(j, "unlinked", st->flags & IPCBOX_STAT_UNLINKED);
	json_bool(j, "shutdown", st->flags & IPCBOX_STAT_SHUTDOWN);
	json_object_end(j);
}

static void stat_text(const struct ipcbox_stat *st)
{
	char flags[64], cap[16];

	snprintf(flags, sizeof(flags), "%s%s%s",
		 st->flags & IPCBOX_STAT_NAMED ? " named" : "",
		 st->flags & IPCBOX_STAT_UNLINKED ? " unlinked" : "",
		 st->flags & IPCBOX_STAT_SHUTDOWN ? " shutdown" : "");
	if (st->capacity == IPCBOX_CAPACITY_UNBOUNDED)
		strcpy(cap, "unbounded");
	else
		snprintf(cap, sizeof(cap), "%u", st->capacity);
	printf("name:              %.*s\n", IPCBOX_NAME_MAX, st->name);
	printf("capacity:          %s\n", cap);
	printf("msg_size_max:      %u\n", st->msg_size_max);
	printf("depth:             %u\n", st->depth);
	printf("bytes:             %" PRIu64 "\n", (uint64_t)st->bytes);
	printf("cached:            %u\n", st->cached);
	printf("waiting_senders:   %u\n", st->waiting_senders);
	printf("waiting_receivers: %u\n", st->waiting_receivers);
	printf("sent:              %" PRIu64 "\n", (uint64_t)st->sent);
	printf("received:          %" PRIu64 "\n", (uint64_t)st->received);
	printf("timeouts:          %" PRIu64 "\n", (uint64_t)st->timeouts);
	printf("owner:             %u:%u\n", st->uid, st->gid);
	printf("mode:              %04o\n", st->mode);
	printf("flags:             %s\n", flags[0] ? flags + 1 : "-");
}

int cmd_stat(int argc, char **argv)
{
	bool json = json_option(argc, argv), many;
	struct ipcbox_stat st;
	struct json j;
	int i, status = 0;

	if (optind == argc)
		usage_error("missing mailbox name");
	/* One mailbox is one JSON object; several, an array of them. */
	many = argc - optind > 1;
	json_init(&j, stdout);
	if (json && many)
		json_array_begin(&j, NULL);
	for (i = optind; i < argc; i++) {
		if (stat_one(argv[i], &st)) {
			status = 1;
			continue;
		}
		if (json) {
			stat_json(&j, &st);
			continue;
		}
		if (many && i > optind)
			putchar('\n');
		stat_text(&st);
	}
	if (json) {
		if (many)
			json_array_end(&j);
		json_end(&j);
	}
	return status;
}
