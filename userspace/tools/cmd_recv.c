// SPDX-License-Identifier: GPL-2.0
/*
 * ipcboxctl recv: messages printed as text, raw bytes or JSON.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ipcboxctl.h"
#include "json.h"

static void print_msg_json(const char *buf, size_t len,
			   const struct ipcbox_msg_info *mi)
{
	struct json j;

	json_init(&j, stdout);
	json_object_begin(&j, NULL);
	json_uint(&j, "seq", mi->seq);
	json_uint(&j, "priority", mi->priority);
	json_uint(&j, "tag", mi->tag);
	json_uint(&j, "len", mi->len);
	json_uint(&j, "timestamp_ns", mi->timestamp_ns);
	json_int(&j, "sender_pid", mi->sender_tgid);
	json_int(&j, "sender_tid", mi->sender_tid);
	json_uint(&j, "sender_uid", mi->sender_uid);
	json_uint(&j, "sender_gid", mi->sender_gid);
	json_strn(&j, "data", buf, len);
	json_object_end(&j);
	json_end(&j);
}

struct recv_ctx {
	struct ipcbox_recv_options opts;
	uint64_t count;		/* messages to receive; 0: until shut down */
	bool all, timeout_set, info, json, raw;
	char path[PATH_MAX];
};

static void print_msg(const struct recv_ctx *r, const char *buf, size_t len,
		      const struct ipcbox_msg_info *mi)
{
	if (r->json) {
		print_msg_json(buf, len, mi);
		return;
	}
	if (r->info)
		printf("seq=%" PRIu64 " priority=%u tag=%" PRIu64 " len=%u "
		       "pid=%d tid=%d uid=%u gid=%u time=%" PRIu64 ".%09" PRIu64
		       "\n", (uint64_t)mi->seq, mi->priority,
		       (uint64_t)mi->tag, mi->len, mi->sender_tgid,
		       mi->sender_tid, mi->sender_uid, mi->sender_gid,
		       (uint64_t)mi->timestamp_ns / 1000000000,
		       (uint64_t)mi->timestamp_ns % 1000000000);
	fwrite(buf, 1, len, stdout);
	if (!r->raw && (!len || buf[len - 1] != '\n'))
		fputc('\n', stdout);
}

static void recv_options(int argc, char **argv, struct recv_ctx *r)
{
	static const struct option lo[] = {
		{ "count", required_argument, NULL, 'c' },
		{ "all", no_argument, NULL, 'a' },
		{ "timeout", required_argument, NULL, 't' },
		{ "nonblock", no_argument, NULL, 'n' },
		{ "info", no_argument, NULL, 'i' },
		{ "json", no_argument, NULL, 'j' },
		{ "raw", no_argument, NULL, 'r' },
		{ "peek", no_argument, NULL, 'P' },
		{ "from", required_argument, NULL, 'F' },
		{ "tag", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct ipcbox_recv_options *o = &r->opts;
	int c;

	ipcbox_recv_options_init(o);
	r->count = 1;
	while ((c = next_opt(argc, argv, "c:at:nijrh", lo)) != -1) {
		switch (c) {
		case 'c':
			r->count = parse_uint("count", optarg, UINT64_MAX,
					      false);
			break;
		case 'a': r->all = true; break;
		case 't':
			o->timeout_ns = parse_duration("timeout", optarg);
			r->timeout_set = true;
			break;
		case 'n': o->flags |= IPCBOX_NONBLOCK; break;
		case 'i': r->info = true; break;
		case 'j': r->json = true; break;
		case 'r': r->raw = true; break;
		case 'P': o->flags |= IPCBOX_RECV_PEEK; break;
		case 'F':
			o->filter_pid = (pid_t)parse_uint("pid", optarg,
							  INT_MAX, false);
			if (!o->filter_pid)
				usage_error("invalid pid '0': must be > 0");
			o->flags |= IPCBOX_RECV_FILTER_PID;
			break;
		case 'T':
			o->filter_tag = parse_uint("tag", optarg, UINT64_MAX,
						   true);
			o->flags |= IPCBOX_RECV_FILTER_TAG;
			break;
		}
	}
}

/* Receive and print until the count, end of file or (--all) drained. */
static void recv_loop(struct recv_ctx *r, int fd)
{
	struct ipcbox_msg_info mi;
	struct ipcbox_stat st;
	size_t size = 65536;
	uint64_t got = 0;
	char *buf;
	int ret;

	if (!ipcbox_stat(fd, &st) && st.msg_size_max)
		size = st.msg_size_max;
	buf = malloc(size ? size : 1);
	if (!buf)
		die(-ENOMEM, "%s", r->path);

	while (!r->count || got < r->count) {
		ret = ipcbox_recv_opts(fd, buf, size, &r->opts, &mi);
		if (ret == -EMSGSIZE && mi.len > size) {
			/* Grew? The message stays queued: retry bigger. */
			size = mi.len;
			free(buf);
			buf = malloc(size);
			if (!buf)
				die(-ENOMEM, "%s", r->path);
			continue;
		}
		if (ret == -EPIPE && (!r->count || r->all))
			break;	/* shut down and drained: end of file */
		if (r->all && (ret == -EAGAIN || ret == -ETIMEDOUT))
			break;	/* drained */
		if (ret < 0) {
			fflush(stdout);
			die(ret, "%s", r->path);
		}
		print_msg(r, buf, (size_t)ret, &mi);
		fflush(stdout);
		got++;
	}
	free(buf);
}

int cmd_recv(int argc, char **argv)
{
	struct recv_ctx r = { 0 };
	const char *name;
	int fd;

	recv_options(argc, argv, &r);
	if (optind == argc)
		usage_error("missing mailbox name");
	if (optind + 1 < argc)
		usage_error("unexpected argument '%s'", argv[optind + 1]);
	name = argv[optind];
	check_mailbox_arg(name);
	mailbox_path(name, r.path, sizeof(r.path));
	if (r.all) {
		r.count = 0;
		if (!r.timeout_set)
			r.opts.timeout_ns = IPCBOX_TIMEOUT_NONE;
	}
	if ((r.opts.flags & IPCBOX_RECV_PEEK) && r.count != 1)
		usage_error("--peek looks at one message: drop --count/--all");

	fd = open_mailbox(name, O_RDONLY);
	recv_loop(&r, fd);
	close(fd);
	return 0;
}
