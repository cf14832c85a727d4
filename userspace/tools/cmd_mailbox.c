// SPDX-License-Identifier: GPL-2.0
/*
 * ipcboxctl create, rm and shutdown: a named mailbox's life.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "ipcboxctl.h"

/* A number of messages, or one of the words for the two kinds that are not. */
static uint32_t parse_capacity(const char *s)
{
	if (!strcmp(s, "unbounded") || !strcmp(s, "inf"))
		return IPCBOX_CAPACITY_UNBOUNDED;
	if (!strcmp(s, "rendezvous"))
		return 0;
	return parse_uint("capacity", s, IPCBOX_CAPACITY_UNBOUNDED - 1, false);
}

int cmd_create(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "capacity", required_argument, NULL, 'c' },
		{ "msg-size", required_argument, NULL, 's' },
		{ "mode", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	uint32_t capacity = 10, msg_size = 0, mode = 0666;
	int c, fd, i, status = 0;

	while ((c = next_opt(argc, argv, "c:s:m:h", lo)) != -1) {
		switch (c) {
		case 'c':
			capacity = parse_capacity(optarg);
			break;
		case 's':
			msg_size = parse_uint("message size", optarg,
					      UINT32_MAX, false);
			break;
		case 'm':
			mode = parse_mode(optarg);
			break;
		}
	}
	if (optind == argc)
		usage_error("missing mailbox name");
	for (i = optind; i < argc; i++)
		check_name(argv[i]);
	for (i = optind; i < argc; i++) {
		fd = ipcbox_create(argv[i], capacity, msg_size, mode, 0);
		if (fd < 0) {
			warn_err(fd, "%s", argv[i]);
			status = 1;
			continue;
		}
		close(fd);
	}
	return status;
}

int cmd_rm(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	bool all = false, force = false;
	char **names;
	size_t n, i;
	int c, ret, status = 0;

	while ((c = next_opt(argc, argv, "afh", lo)) != -1) {
		if (c == 'a')
			all = true;
		else if (c == 'f')
			force = true;
	}
	if (all && optind < argc)
		usage_error("--all takes no names");
	if (!all && optind == argc)
		usage_error("missing mailbox name (or --all)");
	if (all) {
		names = sysfs_names(&n);
	} else {
		names = argv + optind;
		n = (size_t)(argc - optind);
		for (i = 0; i < n; i++)
			check_name(names[i]);
	}
	for (i = 0; i < n; i++) {
		ret = ipcbox_unlink(names[i]);
		if (ret == -ENOENT && (force || all))
			continue;	/* raced with another rm */
		if (ret) {
			warn_err(ret, "%s/%s", IPCBOX_DEV_DIR, names[i]);
			status = 1;
		}
	}
	if (all)
		free_names(names, n);
	return status;
}

int cmd_shutdown(int argc, char **argv)
{
	char path[PATH_MAX];
	int fd, ret, i, status = 0;

	no_options(argc, argv);
	if (optind == argc)
		usage_error("missing mailbox name");
	/* Every argument is checked before any mailbox is shut down. */
	for (i = optind; i < argc; i++)
		check_mailbox_arg(argv[i]);
	for (i = optind; i < argc; i++) {
		mailbox_path(argv[i], path, sizeof(path));
		fd = ipcbox_open(argv[i], O_WRONLY | O_CLOEXEC);
		if (fd == -EACCES)
			fd = ipcbox_open(argv[i], O_RDONLY | O_CLOEXEC);
		ret = fd < 0 ? fd : ipcbox_shutdown(fd);
		if (fd >= 0)
			close(fd);
		if (ret) {
			warn_err(ret, "%s", path);
			status = 1;
		}
	}
	return status;
}
