// SPDX-License-Identifier: GPL-2.0
/*
 * ipcboxctl: create, inspect, use and remove ipcbox mailboxes.
 *
 * Exit status: 0 success, 1 runtime error (one line on stderr naming the
 * cause), 2 usage error.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ipcboxctl.h"

/* Set once the command is known: messages name it from then on. */
const struct cmd_desc *cur_desc;

void print_help(const struct cmd_desc *d, FILE *f)
{
	fprintf(f, "Usage: %s %s %s\n\n%s", PROG, d->name, d->usage, d->help);
}

static int cmd_help(int argc, char **argv);

static const struct cmd_desc cmds[] = {
	{ "info", cmd_info, "[--json]",
	  "Show the loaded module's ABI version, features and limits.\n\n"
	  "  -j, --json        print one JSON object\n"
	  "  -h, --help        show this help\n" },
	{ "create", cmd_create, "[OPTIONS] NAME...",
	  "Create named mailboxes /dev/ipcbox/NAME.\n\n"
	  "  -c, --capacity N  0 or 'rendezvous' (sender waits for a receiver),\n"
	  "                    N messages, or 'unbounded' (default 10)\n"
	  "  -s, --msg-size N  largest message in bytes (default: module's)\n"
	  "  -m, --mode MODE   octal permission bits, at most 0666, masked by\n"
	  "                    the umask (default 0666)\n"
	  "  -h, --help        show this help\n" },
	{ "ls", cmd_ls, "[--json] [--no-header] [NAME...]",
	  "List named mailboxes with their live counters (from " SYSFS_CLASS
	  ").\n\n"
	  "  -j, --json        print a JSON array\n"
	  "  -H, --no-header   leave out the header line\n"
	  "  -h, --help        show this help\n" },
	{ "stat", cmd_stat, "[--json] NAME...",
	  "Show a mailbox's settings and counters (STAT ioctl).\n"
	  "NAME may also be a path such as /dev/ipcbox/NAME.\n\n"
	  "  -j, --json        print JSON\n"
	  "  -h, --help        show this help\n" },
	{ "send", cmd_send, "[OPTIONS] NAME [MESSAGE...]",
	  "Send a message: the arguments joined by spaces, or else all of\n"
	  "standard input as one message.\n\n"
	  "  -l, --lines       send each line (without its newline) as a message\n"
	  "  -t, --timeout T   -1 waits forever (default), 0 tries once, else\n"
	  "                    a time with unit ns, us, ms (default), s or m\n"
	  "  -n, --nonblock    never wait (same as --timeout 0)\n"
	  "  -S, --sync        return only once a receiver took the message\n"
	  "  -C, --cache       when full, park the message in this sender's slot\n"
	  "  -p, --priority N  0..31, higher is received first (default 0)\n"
	  "  -T, --tag N       tag delivered with the message (decimal or 0x hex)\n"
	  "  -v, --verbose     print each message's sequence number\n"
	  "  -h, --help        show this help\n" },
	{ "recv", cmd_recv, "[OPTIONS] NAME",
	  "Receive messages and print them, one per line (a newline is added\n"
	  "unless the message ends with one).\n\n"
	  "  -c, --count N     receive N messages (default 1); 0 until shut down\n"
	  "  -a, --all         receive until the mailbox is empty (or shut down)\n"
	  "  -t, --timeout T   per message: -1 forever (default; 0 with --all),\n"
	  "                    0 tries once, else a time with unit ns, us,\n"
	  "                    ms (default), s or m\n"
	  "  -n, --nonblock    never wait\n"
	  "  -i, --info        print a line with sender and message info first\n"
	  "  -j, --json        print one JSON object per message\n"
	  "  -r, --raw         print the payload bytes only, no added newline\n"
	  "      --peek        look at the next message, leave it queued\n"
	  "      --from PID    only messages sent by process PID\n"
	  "      --tag N       only messages with tag N\n"
	  "  -h, --help        show this help\n" },
	{ "rm", cmd_rm, "[--force] NAME... | --all",
	  "Remove mailbox names; open fds keep working until closed.\n\n"
	  "  -a, --all         remove every named mailbox\n"
	  "  -f, --force       ignore names that do not exist\n"
	  "  -h, --help        show this help\n" },
	{ "shutdown", cmd_shutdown, "NAME...",
	  "Shut a mailbox down: sends fail with EPIPE, receivers drain what is\n"
	  "queued and then see end of file.\n\n"
	  "  -h, --help        show this help\n" },
	{ "watch", cmd_watch, "[OPTIONS] [NAME...]",
	  "Show the mailbox table, refreshed in place, until interrupted.\n\n"
	  "  -i, --interval T  time between refreshes (default 1s; unit ns, us,\n"
	  "                    ms (default), s or m)\n"
	  "  -n, --count N     stop after N refreshes\n"
	  "  -h, --help        show this help\n" },
	{ "help", cmd_help, "[COMMAND]",
	  "Show help for ipcboxctl or one of its commands.\n" },
};
#define NR_CMDS (sizeof(cmds) / sizeof(cmds[0]))

static void main_usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: %s [--version] [--help] COMMAND [ARGS]\n\n"
		"Manage ipcbox mailboxes (/dev/ipcbox/NAME).\n\nCommands:\n",
		PROG);
	for (i = 0; i < NR_CMDS; i++)
		fprintf(f, "  %-9s %s\n", cmds[i].name, cmds[i].usage);
	fprintf(f, "\nRun '%s COMMAND --help' for a command's options. "
		"See ipcboxctl(1), ipcbox(7).\n", PROG);
}

static const struct cmd_desc *find_cmd(const char *name)
{
	size_t i;

	for (i = 0; i < NR_CMDS; i++)
		if (!strcmp(cmds[i].name, name))
			return &cmds[i];
	return NULL;
}

static int cmd_help(int argc, char **argv)
{
	const struct cmd_desc *d;

	no_options(argc, argv);
	if (optind == argc) {
		main_usage(stdout);
		return 0;
	}
	d = find_cmd(argv[optind]);
	if (!d)
		usage_error("unknown command '%s'", argv[optind]);
	print_help(d, stdout);
	return 0;
}

int main(int argc, char **argv)
{
	const struct cmd_desc *d;

	if (argc < 2) {
		main_usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		main_usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("%s (ipcbox) %d.%d.%d, ipcbox ABI %d\n", PROG,
		       LIBIPCBOX_VERSION_MAJOR, LIBIPCBOX_VERSION_MINOR,
		       LIBIPCBOX_VERSION_PATCH, IPCBOX_ABI_VERSION);
		return 0;
	}
	d = find_cmd(argv[1]);
	if (!d) {
		fprintf(stderr, "%s: unknown command '%s'\n"
			"Try '%s --help' for more information.\n",
			PROG, argv[1], PROG);
		return EXIT_USAGE;
	}
	cur_desc = d;
	optind = 1;
	return d->fn(argc - 1, argv + 1);
}
