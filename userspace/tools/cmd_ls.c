// SPDX-License-Identifier: GPL-2.0
/*
 * ipcboxctl ls and watch: the table of named mailboxes, once or refreshed.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ipcboxctl.h"

int cmd_ls(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "no-header", no_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	bool json = false, header = true;
	int c;

	while ((c = next_opt(argc, argv, "jHh", lo)) != -1) {
		if (c == 'j')
			json = true;
		else if (c == 'H')
			header = false;
	}
	for (c = optind; c < argc; c++)
		check_name(argv[c]);
	return print_table(stdout, argv + optind, argc - optind, json, header);
}

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

int cmd_watch(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int64_t interval = 1000000000;
	uint64_t count = 0, done = 0;
	struct sigaction sa;
	bool tty = isatty(STDOUT_FILENO);
	int c, ret = 0;

	while ((c = next_opt(argc, argv, "i:n:h", lo)) != -1) {
		if (c == 'i') {
			interval = parse_duration("interval", optarg);
			if (interval <= 0)
				usage_error("interval '%s' must be positive",
					    optarg);
		} else if (c == 'n') {
			count = parse_uint("count", optarg, UINT64_MAX, false);
		}
	}
	for (c = optind; c < argc; c++)
		check_name(argv[c]);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	while (!stop_flag) {
		struct timespec ts;
		time_t now = time(NULL);
		char when[64];

		strftime(when, sizeof(when), "%H:%M:%S", localtime(&now));
		if (tty)
			fputs("\033[H\033[2J", stdout);
		else if (done)
			fputc('\n', stdout);
		printf("Every %.3gs: ipcbox mailboxes at %s\n",
		       interval / 1e9, when);
		ret = print_table(stdout, argv + optind, argc - optind, false,
				  true);
		fflush(stdout);
		if (count && ++done >= count)
			break;
		done = done ? done : 1;
		ts.tv_sec = interval / 1000000000;
		ts.tv_nsec = interval % 1000000000;
		nanosleep(&ts, NULL);	/* EINTR on SIGINT: loop test ends it */
	}
	return ret;
}
