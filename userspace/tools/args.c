// SPDX-License-Identifier: GPL-2.0
/*
 * Reading the command line strictly: options, numbers, durations and
 * mailbox names, each refused with a message that says what was expected.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipcboxctl.h"

/* Unsigned decimal (or 0x hex when @hex), no sign, no junk, <= @max. */
uint64_t parse_uint(const char *what, const char *s, uint64_t max, bool hex)
{
	unsigned long long v;
	char *end;
	int base = 10;

	if (hex && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		base = 16;
	if (!isdigit((unsigned char)s[0]))
		goto bad;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno == ERANGE || v > max)
		usage_error("%s '%s' out of range (at most %" PRIu64 ")",
			    what, s, max);
	if (errno || *end || end == s)
		goto bad;
	return v;
bad:
	usage_error("invalid %s '%s': expected a non-negative integer%s",
		    what, s, hex ? " (decimal or 0x hex)" : "");
}

/*
 * A duration in nanoseconds: "-1", "inf", "forever" or "infinite" for no
 * limit, otherwise a non-negative integer with an optional unit suffix
 * ns, us, ms (the default), s or m.
 */
int64_t parse_duration(const char *what, const char *s)
{
	static const struct { const char *sfx; uint64_t mul; } units[] = {
		{ "ns", 1 }, { "us", 1000 }, { "ms", 1000000 },
		{ "s", 1000000000 }, { "m", 60000000000ULL }, { "", 1000000 },
	};
	unsigned long long v;
	char *end;
	size_t i;

	if (!strcmp(s, "-1") || !strcmp(s, "inf") || !strcmp(s, "forever") ||
	    !strcmp(s, "infinite"))
		return IPCBOX_TIMEOUT_INFINITE;
	if (!isdigit((unsigned char)s[0]))
		goto bad;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		goto range;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].sfx))
			continue;
		if (v > (uint64_t)INT64_MAX / units[i].mul)
			goto range;
		return (int64_t)(v * units[i].mul);
	}
bad:
	usage_error("invalid %s '%s': expected -1 (forever), 0 (try once) or "
		    "a number with an optional unit ns, us, ms (default), s, m",
		    what, s);
range:
	usage_error("%s '%s' out of range", what, s);
}

/* Permission bits in octal, read, write or both for each class of user. */
uint32_t parse_mode(const char *s)
{
	unsigned long mode;
	char *end;

	errno = 0;
	if (s[0] < '0' || s[0] > '7')
		goto bad;
	mode = strtoul(s, &end, 8);
	if (errno || *end)
		goto bad;
	if (mode & ~0666UL)
		usage_error("invalid mode '%s': at most 0666 "
			    "(no execute or special bits)", s);
	return (uint32_t)mode;
bad:
	usage_error("invalid mode '%s': expected octal permission bits such "
		    "as 0660", s);
}

/*
 * The node's path for a mailbox given by name or path, into @buf: every
 * message about the mailbox names it the same way.
 */
const char *mailbox_path(const char *name, char *buf, size_t size)
{
	if (strchr(name, '/'))
		snprintf(buf, size, "%s", name);
	else
		snprintf(buf, size, "%s/%s", IPCBOX_DEV_DIR, name);
	return buf;
}

/* A name as the kernel accepts it; checked here to give a clear message. */
void check_name(const char *name)
{
	const char *p;

	if (!*name)
		usage_error("mailbox name is empty");
	if (strlen(name) >= IPCBOX_NAME_MAX)
		usage_error("mailbox name '%s' too long (at most %d bytes)",
			    name, IPCBOX_NAME_MAX - 1);
	if (name[0] == '.' || !strcmp(name, "control"))
		goto bad;
	for (p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("._-", *p))
			goto bad;
	return;
bad:
	usage_error("invalid mailbox name '%s': use 1-63 of [A-Za-z0-9._-], "
		    "not starting with '.', not \"control\"", name);
}

/*
 * A mailbox argument: a bare name is checked as the kernel would, a path
 * such as /dev/ipcbox/NAME is left to open(2).
 */
void check_mailbox_arg(const char *arg)
{
	if (!strchr(arg, '/'))
		check_name(arg);
}

/* Open a mailbox by name or path, or die with the path in the message. */
int open_mailbox(const char *name, int oflags)
{
	char buf[PATH_MAX];
	int fd = ipcbox_open(name, oflags | O_CLOEXEC);

	if (fd < 0)
		die(fd, "%s", mailbox_path(name, buf, sizeof(buf)));
	return fd;
}

/* getopt_long with our own messages; returns -1 at the end. */
int next_opt(int argc, char **argv, const char *shortopts,
	     const struct option *longopts)
{
	int c;

	opterr = 0;
	c = getopt_long(argc, argv, shortopts, longopts, NULL);
	if (c == 'h') {
		print_help(cur_desc, stdout);
		exit(EXIT_SUCCESS);
	}
	if (c == '?') {
		if (optopt && optopt != '?')
			usage_error(strchr(shortopts, optopt) ?
				    "option '-%c' needs an argument" :
				    "unknown option '-%c'", optopt);
		if (!optopt)
			usage_error("unknown option '%s'", argv[optind - 1]);
		usage_error("option '%s' needs an argument", argv[optind - 1]);
	}
	return c;
}

/* The options of a command whose only one is --json: is it given? */
bool json_option(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	bool json = false;
	int c;

	while ((c = next_opt(argc, argv, "jh", lo)) != -1)
		if (c == 'j')
			json = true;
	return json;
}

/* The options of a command that has none but --help. */
void no_options(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};

	while (next_opt(argc, argv, "h", lo) != -1)
		;
}
