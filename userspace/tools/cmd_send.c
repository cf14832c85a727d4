// SPDX-License-Identifier: GPL-2.0
/*
 * ipcboxctl send: the arguments, standard input or each of its lines as
 * messages.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipcboxctl.h"

struct send_ctx {
	const char *name;
	char path[PATH_MAX];
	int fd;
	struct ipcbox_send_options opts;
	bool lines;
	bool verbose;
	uint64_t sent;
};

static void send_one(struct send_ctx *s, const char *buf, size_t len)
{
	uint64_t seq;
	int ret = ipcbox_send_opts(s->fd, buf, len, &s->opts, &seq);

	if (ret == -EMSGSIZE) {
		struct ipcbox_stat st;

		if (!ipcbox_stat(s->fd, &st))
			die(0, "%s: message of %zu bytes too long for the "
			    "mailbox (msg_size_max %u)", s->path, len,
			    st.msg_size_max);
	}
	if (ret)
		die(ret, "%s", s->path);
	s->sent++;
	if (s->verbose)
		printf("sent seq=%" PRIu64 " len=%zu\n", seq, len);
}

static void send_options(int argc, char **argv, struct send_ctx *s)
{
	static const struct option lo[] = {
		{ "lines", no_argument, NULL, 'l' },
		{ "timeout", required_argument, NULL, 't' },
		{ "nonblock", no_argument, NULL, 'n' },
		{ "sync", no_argument, NULL, 'S' },
		{ "cache", no_argument, NULL, 'C' },
		{ "priority", required_argument, NULL, 'p' },
		{ "tag", required_argument, NULL, 'T' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int c;

	ipcbox_send_options_init(&s->opts);
	while ((c = next_opt(argc, argv, "lt:nSCp:T:vh", lo)) != -1) {
		switch (c) {
		case 'l': s->lines = true; break;
		case 't':
			s->opts.timeout_ns = parse_duration("timeout", optarg);
			break;
		case 'n': s->opts.flags |= IPCBOX_NONBLOCK; break;
		case 'S': s->opts.flags |= IPCBOX_SEND_SYNC; break;
		case 'C': s->opts.flags |= IPCBOX_SEND_CACHE; break;
		case 'p':
			s->opts.priority = parse_uint("priority", optarg,
						      IPCBOX_PRIO_MAX - 1,
						      false);
			break;
		case 'T':
			s->opts.tag = parse_uint("tag", optarg, UINT64_MAX,
						 true);
			break;
		case 'v': s->verbose = true; break;
		}
	}
}

/* The arguments joined by spaces, as echo(1) does. */
static char *join_args(int argc, char **argv, size_t *len, const char *path)
{
	size_t size = 0;
	char *data;
	int i;

	for (i = 0; i < argc; i++)
		size += strlen(argv[i]) + 1;
	data = malloc(size);
	if (!data)
		die(-ENOMEM, "%s", path);
	data[0] = '\0';
	for (i = 0; i < argc; i++) {
		if (i)
			strcat(data, " ");
		strcat(data, argv[i]);
	}
	*len = strlen(data);
	return data;
}

/* All of standard input, to send as one message. */
static char *read_stdin(size_t *len)
{
	size_t cap = 0, n;
	char *data = NULL;

	*len = 0;
	do {
		if (*len == cap) {
			cap = cap ? cap * 2 : 65536;
			data = realloc(data, cap);
			if (!data)
				die(-ENOMEM, "standard input");
		}
		n = fread(data + *len, 1, cap - *len, stdin);
		*len += n;
	} while (n);
	if (ferror(stdin))
		die(-errno, "standard input");
	return data;
}

/* Stream: each line is sent as soon as it is read. */
static void send_stdin_lines(struct send_ctx *s)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	while ((n = getline(&line, &cap, stdin)) >= 0) {
		if (n && line[n - 1] == '\n')
			n--;
		send_one(s, line, (size_t)n);
	}
	if (ferror(stdin))
		die(-errno, "standard input");
	free(line);
}

/* Each line of the joined arguments, which may hold newlines too. */
static void send_lines(struct send_ctx *s, char *data, size_t len)
{
	char *p = data, *end = data + len, *nl;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		send_one(s, p, (size_t)(nl - p));
		p = nl + 1;
	}
}

int cmd_send(int argc, char **argv)
{
	struct send_ctx s = { .fd = -1 };
	char *data;
	size_t len;

	send_options(argc, argv, &s);
	if (optind == argc)
		usage_error("missing mailbox name");
	s.name = argv[optind++];
	check_mailbox_arg(s.name);
	mailbox_path(s.name, s.path, sizeof(s.path));
	/* Opened before reading: a wrong name fails before stdin is used. */
	s.fd = open_mailbox(s.name, O_WRONLY);

	if (optind < argc) {
		data = join_args(argc - optind, argv + optind, &len, s.path);
	} else if (s.lines) {
		send_stdin_lines(&s);
		close(s.fd);
		return 0;
	} else {
		data = read_stdin(&len);
	}
	if (s.lines)
		send_lines(&s, data, len);
	else
		send_one(&s, data, len);
	free(data);
	close(s.fd);
	return 0;
}
