// SPDX-License-Identifier: GPL-2.0
/*
 * ipcboxctl: create, inspect, use and remove ipcbox mailboxes.
 *
 * Exit status: 0 success, 1 runtime error (one line on stderr naming the
 * cause), 2 usage error.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "libipcbox.h"

#define PROG		"ipcboxctl"
#define SYSFS_CLASS	"/sys/class/ipcbox"
#define EXIT_USAGE	2

static const char *cmd = NULL;	/* current subcommand, for messages */

/* ------------------------------------------------------------------ */
/* Messages                                                            */

/* "ipcboxctl: CMD: WHAT: cause" on stderr. */
static void vwarn_err(int err, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", PROG);
	if (cmd)
		fprintf(stderr, "%s: ", cmd);
	if (err == -ENODEV) {
		/* The cause names the control node: the object adds nothing. */
		fprintf(stderr, "%s\n", ipcbox_strerror(err));
		return;
	}
	vfprintf(stderr, fmt, ap);
	if (err)
		fprintf(stderr, ": %s", ipcbox_strerror(err));
	fputc('\n', stderr);
}

static void __attribute__((format(printf, 2, 3)))
warn_err(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn_err(err, fmt, ap);
	va_end(ap);
}

/* Runtime error: message as warn_err(), exit 1. */
static void __attribute__((noreturn, format(printf, 2, 3)))
die(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn_err(err, fmt, ap);
	va_end(ap);
	exit(EXIT_FAILURE);
}

/* Usage error: message, pointer to --help, exit 2. */
static void __attribute__((noreturn, format(printf, 1, 2)))
usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", PROG);
	if (cmd)
		fprintf(stderr, "%s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s %s%s--help' for more information.\n", PROG,
		cmd ? cmd : "", cmd ? " " : "");
	exit(EXIT_USAGE);
}

/* ------------------------------------------------------------------ */
/* Strict parsing                                                      */

/* Unsigned decimal (or 0x hex when @hex), no sign, no junk, <= @max. */
static uint64_t parse_uint(const char *what, const char *s, uint64_t max,
			   bool hex)
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
static int64_t parse_duration(const char *what, const char *s)
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

static const char *mailbox_path(const char *name, char *buf, size_t size)
{
	if (strchr(name, '/'))
		return name;
	snprintf(buf, size, "%s/%s", IPCBOX_DEV_DIR, name);
	return buf;
}

/* A name as the kernel accepts it; checked here to give a clear message. */
static void check_name(const char *name)
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

/* Open a mailbox by name or path, or die with the path in the message. */
static int open_mailbox(const char *name, int oflags)
{
	char buf[PATH_MAX];
	int fd = ipcbox_open(name, oflags | O_CLOEXEC);

	if (fd < 0)
		die(fd, "%s", mailbox_path(name, buf, sizeof(buf)));
	return fd;
}

/* ------------------------------------------------------------------ */
/* JSON output                                                         */

static void json_string(FILE *f, const char *s, size_t len)
{
	size_t i;

	fputc('"', f);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '"':  fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (c < 0x20 || c >= 0x7f)
				fprintf(f, "\\u%04x", c);
			else
				fputc(c, f);
		}
	}
	fputc('"', f);
}

/* ------------------------------------------------------------------ */
/* Option parsing helpers                                              */

struct cmd_desc {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;	/* synopsis after "ipcboxctl NAME" */
	const char *help;	/* description and options */
};

static const struct cmd_desc *cur_desc;

static void print_help(const struct cmd_desc *d, FILE *f)
{
	fprintf(f, "Usage: %s %s %s\n\n%s", PROG, d->name, d->usage, d->help);
}

/* getopt_long with our own messages; returns -1 at the end. */
static int next_opt(int argc, char **argv, const char *shortopts,
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

/* ------------------------------------------------------------------ */
/* sysfs                                                               */

static int sysfs_read(const char *name, const char *attr, char *buf,
		      size_t size)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), SYSFS_CLASS "/%s/%s", name, attr);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		n--;
	buf[n] = '\0';
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names of all named mailboxes, sorted; dies when the class is missing. */
static char **sysfs_names(size_t *count)
{
	char **names = NULL, buf[32];
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *dir;

	dir = opendir(SYSFS_CLASS);
	if (!dir) {
		int err = errno;

		die(err == ENOENT ? -ENODEV : -err, "%s", SYSFS_CLASS);
	}
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		if (sysfs_read(de->d_name, "capacity", buf, sizeof(buf)))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			names = realloc(names, cap * sizeof(*names));
			if (!names)
				die(-ENOMEM, "listing mailboxes");
		}
		names[n] = strdup(de->d_name);
		if (!names[n])
			die(-ENOMEM, "listing mailboxes");
		n++;
	}
	closedir(dir);
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	*count = n;
	return names;
}

static void free_names(char **names, size_t n)
{
	while (n--)
		free(names[n]);
	free(names);
}

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

/* Capacity as people read it. */
static const char *capacity_str(const char *raw)
{
	if (!strcmp(raw, "4294967295"))
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

/* One table (or JSON array) of mailboxes; @only restricts to names. */
static int print_table(FILE *f, char **only, int nr_only, bool json,
		       bool header)
{
	char vals[NR_LS_ATTRS][64];
	char **names;
	size_t n, i, a;
	int ret = 0;

	if (nr_only > 0) {
		names = only;
		n = (size_t)nr_only;
	} else {
		names = sysfs_names(&n);
	}
	if (json)
		fputc('[', f);
	else if (header) {
		fprintf(f, "%-20s", "NAME");
		for (a = 0; a < NR_LS_ATTRS; a++)
			fprintf(f, " %*s", col_width(a), ls_heads[a]);
		fputc('\n', f);
	}
	for (i = 0; i < n; i++) {
		int err = 0;

		for (a = 0; a < NR_LS_ATTRS; a++) {
			int r = sysfs_read(names[i], ls_attrs[a], vals[a],
					   sizeof(vals[a]));
			if (r && !err)
				err = r;
			if (r)
				strcpy(vals[a], "?");
		}
		if (err == -ENOENT && nr_only > 0) {
			/* Asked for by name and not there: say so. */
			if (access(SYSFS_CLASS, F_OK))
				err = -ENODEV;
			warn_err(err, "%s/%s", IPCBOX_DEV_DIR, names[i]);
			ret = 1;
			continue;
		}
		if (json) {
			fprintf(f, "%s{\"name\":", i ? "," : "");
			json_string(f, names[i], strlen(names[i]));
			for (a = 0; a < NR_LS_ATTRS; a++) {
				fprintf(f, ",\"%s\":", ls_attrs[a]);
				if (is_number(vals[a]) &&
				    strcmp(ls_attrs[a], "mode"))
					fputs(vals[a], f);
				else
					json_string(f, vals[a],
						    strlen(vals[a]));
			}
			fputc('}', f);
			continue;
		}
		fprintf(f, "%-20s", names[i]);
		for (a = 0; a < NR_LS_ATTRS; a++)
			fprintf(f, " %*s", col_width(a),
				a == 0 ? capacity_str(vals[a]) : vals[a]);
		fputc('\n', f);
	}
	if (json)
		fputs("]\n", f);
	if (names != only)
		free_names(names, n);
	return ret;
}

/* ------------------------------------------------------------------ */
/* info                                                                */

static const char *const feature_names[] = {
	"named", "anon", "rendezvous", "unbounded", "sync", "cache",
	"filter", "peek", "shutdown", "fasync", "call", "batch",
};
#define NR_FEATURES (sizeof(feature_names) / sizeof(feature_names[0]))

static int cmd_info(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct ipcbox_info info;
	bool json = false;
	unsigned int i;
	int c, ret;

	while ((c = next_opt(argc, argv, "jh", lo)) != -1)
		if (c == 'j')
			json = true;
	if (optind != argc)
		usage_error("unexpected argument '%s'", argv[optind]);

	ret = ipcbox_info(&info);
	if (ret == -EPROTO)
		die(ret, "module ABI version %u, library needs %d",
		    info.abi_version, IPCBOX_ABI_VERSION);
	if (ret)
		die(ret, "%s", IPCBOX_CONTROL_PATH);

	if (json) {
		printf("{\"abi_version\":%u,\"library_version\":\"%d.%d\","
		       "\"features\":[", info.abi_version,
		       LIBIPCBOX_VERSION_MAJOR, LIBIPCBOX_VERSION_MINOR);
		for (i = 0, c = 0; i < NR_FEATURES; i++)
			if (info.features & (1ULL << i))
				printf("%s\"%s\"", c++ ? "," : "",
				       feature_names[i]);
		printf("],\"features_mask\":%" PRIu64 ",\"max_mailboxes\":%u,"
		       "\"max_per_user\":%u,\"max_msg_size\":%u,"
		       "\"max_capacity\":%u,\"max_unbounded_bytes\":%" PRIu64
		       ",\"nr_mailboxes\":%u,\"nr_priorities\":%u,"
		       "\"default_msg_size\":%u}\n",
		       (uint64_t)info.features, info.max_mailboxes,
		       info.max_per_user, info.max_msg_size, info.max_capacity,
		       (uint64_t)info.max_unbounded_bytes, info.nr_mailboxes,
		       info.nr_priorities, info.default_msg_size);
		return 0;
	}
	printf("abi_version:          %u (library %d.%d, header ABI %d)\n",
	       info.abi_version, LIBIPCBOX_VERSION_MAJOR,
	       LIBIPCBOX_VERSION_MINOR, IPCBOX_ABI_VERSION);
	printf("features:            ");
	for (i = 0; i < NR_FEATURES; i++)
		if (info.features & (1ULL << i))
			printf(" %s", feature_names[i]);
	if (info.features >> NR_FEATURES)
		printf(" 0x%" PRIx64, (uint64_t)(info.features >> NR_FEATURES
						 << NR_FEATURES));
	printf("\nmailboxes:            %u (limit %u, %u per user)\n",
	       info.nr_mailboxes, info.max_mailboxes, info.max_per_user);
	printf("max_msg_size:         %u\n", info.max_msg_size);
	printf("default_msg_size:     %u\n", info.default_msg_size);
	printf("max_capacity:         %u\n", info.max_capacity);
	printf("max_unbounded_bytes:  %" PRIu64 "\n",
	       (uint64_t)info.max_unbounded_bytes);
	printf("priorities:           %u\n", info.nr_priorities);
	return 0;
}

/* ------------------------------------------------------------------ */
/* create                                                              */

static int cmd_create(int argc, char **argv)
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
	char *end;

	while ((c = next_opt(argc, argv, "c:s:m:h", lo)) != -1) {
		switch (c) {
		case 'c':
			if (!strcmp(optarg, "unbounded") ||
			    !strcmp(optarg, "inf"))
				capacity = IPCBOX_CAPACITY_UNBOUNDED;
			else if (!strcmp(optarg, "rendezvous"))
				capacity = 0;
			else
				capacity = parse_uint("capacity", optarg,
						      IPCBOX_CAPACITY_UNBOUNDED - 1,
						      false);
			break;
		case 's':
			msg_size = parse_uint("message size", optarg,
					      UINT32_MAX, false);
			break;
		case 'm':
			errno = 0;
			if (optarg[0] < '0' || optarg[0] > '7')
				usage_error("invalid mode '%s': expected octal "
					    "permission bits such as 0660",
					    optarg);
			mode = strtoul(optarg, &end, 8);
			if (errno || *end)
				usage_error("invalid mode '%s': expected octal "
					    "permission bits such as 0660",
					    optarg);
			if (mode & ~0666U)
				usage_error("invalid mode '%s': at most 0666 "
					    "(no execute or special bits)",
					    optarg);
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

/* ------------------------------------------------------------------ */
/* ls, watch                                                           */

static int cmd_ls(int argc, char **argv)
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

static int cmd_watch(int argc, char **argv)
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

/* ------------------------------------------------------------------ */
/* stat                                                                */

static int cmd_stat(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct ipcbox_stat st;
	bool json = false;
	char flags[64], cap[16];
	int c, fd, ret, i, status = 0;

	while ((c = next_opt(argc, argv, "jh", lo)) != -1)
		if (c == 'j')
			json = true;
	if (optind == argc)
		usage_error("missing mailbox name");
	if (json && argc - optind > 1)
		fputc('[', stdout);
	for (i = optind; i < argc; i++) {
		char pbuf[PATH_MAX];

		fd = ipcbox_open(argv[i], O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0) {
			warn_err(fd, "%s", mailbox_path(argv[i], pbuf,
							sizeof(pbuf)));
			status = 1;
			continue;
		}
		ret = ipcbox_stat(fd, &st);
		close(fd);
		if (ret) {
			warn_err(ret, "%s", mailbox_path(argv[i], pbuf,
							 sizeof(pbuf)));
			status = 1;
			continue;
		}
		snprintf(flags, sizeof(flags), "%s%s%s",
			 st.flags & IPCBOX_STAT_NAMED ? " named" : "",
			 st.flags & IPCBOX_STAT_UNLINKED ? " unlinked" : "",
			 st.flags & IPCBOX_STAT_SHUTDOWN ? " shutdown" : "");
		if (st.capacity == IPCBOX_CAPACITY_UNBOUNDED)
			strcpy(cap, "unbounded");
		else
			snprintf(cap, sizeof(cap), "%u", st.capacity);
		if (json) {
			printf("%s{\"name\":", i > optind ? "," : "");
			json_string(stdout, st.name, strnlen(st.name,
							     sizeof(st.name)));
			printf(",\"capacity\":%u,\"unbounded\":%s,"
			       "\"msg_size_max\":%u,\"depth\":%u,"
			       "\"bytes\":%" PRIu64 ",\"cached\":%u,"
			       "\"waiting_senders\":%u,"
			       "\"waiting_receivers\":%u,\"sent\":%" PRIu64
			       ",\"received\":%" PRIu64 ",\"timeouts\":%"
			       PRIu64 ",\"uid\":%u,\"gid\":%u,"
			       "\"mode\":\"%04o\",\"named\":%s,"
			       "\"unlinked\":%s,\"shutdown\":%s}",
			       st.capacity,
			       st.capacity == IPCBOX_CAPACITY_UNBOUNDED ?
			       "true" : "false",
			       st.msg_size_max, st.depth, (uint64_t)st.bytes,
			       st.cached, st.waiting_senders,
			       st.waiting_receivers, (uint64_t)st.sent,
			       (uint64_t)st.received, (uint64_t)st.timeouts,
			       st.uid, st.gid, st.mode,
			       st.flags & IPCBOX_STAT_NAMED ? "true" : "false",
			       st.flags & IPCBOX_STAT_UNLINKED ? "true" :
			       "false",
			       st.flags & IPCBOX_STAT_SHUTDOWN ? "true" :
			       "false");
			continue;
		}
		if (argc - optind > 1 && i > optind)
			putchar('\n');
		printf("name:              %.*s\n", IPCBOX_NAME_MAX, st.name);
		printf("capacity:          %s\n", cap);
		printf("msg_size_max:      %u\n", st.msg_size_max);
		printf("depth:             %u\n", st.depth);
		printf("bytes:             %" PRIu64 "\n", (uint64_t)st.bytes);
		printf("cached:            %u\n", st.cached);
		printf("waiting_senders:   %u\n", st.waiting_senders);
		printf("waiting_receivers: %u\n", st.waiting_receivers);
		printf("sent:              %" PRIu64 "\n", (uint64_t)st.sent);
		printf("received:          %" PRIu64 "\n",
		       (uint64_t)st.received);
		printf("timeouts:          %" PRIu64 "\n",
		       (uint64_t)st.timeouts);
		printf("owner:             %u:%u\n", st.uid, st.gid);
		printf("mode:              %04o\n", st.mode);
		printf("flags:             %s\n", flags[0] ? flags + 1 : "-");
	}
	if (json) {
		if (argc - optind > 1)
			fputc(']', stdout);
		fputc('\n', stdout);
	}
	return status;
}

/* ------------------------------------------------------------------ */
/* send                                                                */

struct send_ctx {
	const char *name;
	char path[PATH_MAX];
	int fd;
	struct ipcbox_opts opts;
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

static int cmd_send(int argc, char **argv)
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
	struct send_ctx s = { .fd = -1 };
	bool lines = false;
	char *data = NULL;
	size_t len = 0;
	int c, i;

	ipcbox_opts_init(&s.opts);
	while ((c = next_opt(argc, argv, "lt:nSCp:T:vh", lo)) != -1) {
		switch (c) {
		case 'l': lines = true; break;
		case 't':
			s.opts.timeout_ns = parse_duration("timeout", optarg);
			break;
		case 'n': s.opts.flags |= IPCBOX_SEND_NONBLOCK; break;
		case 'S': s.opts.flags |= IPCBOX_SEND_SYNC; break;
		case 'C': s.opts.flags |= IPCBOX_SEND_CACHE; break;
		case 'p':
			s.opts.priority = parse_uint("priority", optarg,
						     IPCBOX_PRIO_MAX - 1,
						     false);
			break;
		case 'T':
			s.opts.tag = parse_uint("tag", optarg, UINT64_MAX,
						true);
			break;
		case 'v': s.verbose = true; break;
		}
	}
	if (optind == argc)
		usage_error("missing mailbox name");
	s.name = argv[optind++];
	mailbox_path(s.name, s.path, sizeof(s.path));
	if (s.path != s.name && !strchr(s.name, '/'))
		check_name(s.name);
	else
		snprintf(s.path, sizeof(s.path), "%s", s.name);
	s.fd = open_mailbox(s.name, O_WRONLY);

	if (optind < argc) {
		/* Arguments joined by spaces, as echo(1) does. */
		for (i = optind; i < argc; i++)
			len += strlen(argv[i]) + 1;
		data = malloc(len);
		if (!data)
			die(-ENOMEM, "%s", s.path);
		data[0] = '\0';
		for (i = optind; i < argc; i++) {
			if (i > optind)
				strcat(data, " ");
			strcat(data, argv[i]);
		}
		len = strlen(data);
	} else if (lines) {
		/* Stream: each line is sent as soon as it is read. */
		size_t cap = 0;
		ssize_t n;

		while ((n = getline(&data, &cap, stdin)) >= 0) {
			if (n && data[n - 1] == '\n')
				n--;
			send_one(&s, data, (size_t)n);
		}
		if (ferror(stdin))
			die(-errno, "standard input");
		free(data);
		close(s.fd);
		return 0;
	} else {
		size_t cap = 0;
		size_t n;

		do {
			if (len == cap) {
				cap = cap ? cap * 2 : 65536;
				data = realloc(data, cap);
				if (!data)
					die(-ENOMEM, "standard input");
			}
			n = fread(data + len, 1, cap - len, stdin);
			len += n;
		} while (n);
		if (ferror(stdin))
			die(-errno, "standard input");
	}

	if (lines) {
		char *p = data, *end = data + len, *nl;

		while (p < end) {
			nl = memchr(p, '\n', (size_t)(end - p));
			if (!nl)
				nl = end;
			send_one(&s, p, (size_t)(nl - p));
			p = nl + 1;
		}
	} else {
		send_one(&s, data, len);
	}
	free(data);
	close(s.fd);
	return 0;
}

/* ------------------------------------------------------------------ */
/* recv                                                                */

static void print_msg(const char *buf, size_t len,
		      const struct ipcbox_msg_info *mi, bool info, bool json,
		      bool raw)
{
	if (json) {
		printf("{\"seq\":%" PRIu64 ",\"priority\":%u,\"tag\":%" PRIu64
		       ",\"len\":%u,\"timestamp_ns\":%" PRIu64
		       ",\"sender_pid\":%d,\"sender_tid\":%d,"
		       "\"sender_uid\":%u,\"sender_gid\":%u,\"data\":",
		       (uint64_t)mi->seq, mi->priority, (uint64_t)mi->tag,
		       mi->len, (uint64_t)mi->timestamp_ns, mi->sender_tgid,
		       mi->sender_tid, mi->sender_uid, mi->sender_gid);
		json_string(stdout, buf, len);
		fputs("}\n", stdout);
		return;
	}
	if (info)
		printf("seq=%" PRIu64 " priority=%u tag=%" PRIu64 " len=%u "
		       "pid=%d tid=%d uid=%u gid=%u time=%" PRIu64 ".%09" PRIu64
		       "\n", (uint64_t)mi->seq, mi->priority,
		       (uint64_t)mi->tag, mi->len, mi->sender_tgid,
		       mi->sender_tid, mi->sender_uid, mi->sender_gid,
		       (uint64_t)mi->timestamp_ns / 1000000000,
		       (uint64_t)mi->timestamp_ns % 1000000000);
	fwrite(buf, 1, len, stdout);
	if (!raw && (!len || buf[len - 1] != '\n'))
		fputc('\n', stdout);
}

static int cmd_recv(int argc, char **argv)
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
	struct ipcbox_opts opts;
	struct ipcbox_msg_info mi;
	struct ipcbox_stat st;
	bool info = false, json = false, raw = false, all = false;
	bool timeout_set = false;
	uint64_t count = 1, got = 0;
	char path[PATH_MAX];
	const char *name;
	size_t size = 65536;
	char *buf;
	int c, fd, ret;

	ipcbox_opts_init(&opts);
	while ((c = next_opt(argc, argv, "c:at:nijrh", lo)) != -1) {
		switch (c) {
		case 'c':
			count = parse_uint("count", optarg, UINT64_MAX, false);
			break;
		case 'a': all = true; break;
		case 't':
			opts.timeout_ns = parse_duration("timeout", optarg);
			timeout_set = true;
			break;
		case 'n': opts.flags |= IPCBOX_RECV_NONBLOCK; break;
		case 'i': info = true; break;
		case 'j': json = true; break;
		case 'r': raw = true; break;
		case 'P': opts.flags |= IPCBOX_RECV_PEEK; break;
		case 'F':
			opts.filter_pid = (pid_t)parse_uint("pid", optarg,
							    INT_MAX, false);
			if (!opts.filter_pid)
				usage_error("invalid pid '0': must be > 0");
			opts.flags |= IPCBOX_RECV_FILTER_PID;
			break;
		case 'T':
			opts.filter_tag = parse_uint("tag", optarg, UINT64_MAX,
						     true);
			opts.flags |= IPCBOX_RECV_FILTER_TAG;
			break;
		}
	}
	if (optind == argc)
		usage_error("missing mailbox name");
	if (optind + 1 < argc)
		usage_error("unexpected argument '%s'", argv[optind + 1]);
	name = argv[optind];
	if (!strchr(name, '/'))
		check_name(name);
	mailbox_path(name, path, sizeof(path));
	if (all) {
		count = 0;
		if (!timeout_set)
			opts.timeout_ns = IPCBOX_TIMEOUT_NONE;
	}
	if ((opts.flags & IPCBOX_RECV_PEEK) && count != 1)
		usage_error("--peek looks at one message: drop --count/--all");

	fd = open_mailbox(name, O_RDONLY);
	if (!ipcbox_stat(fd, &st) && st.msg_size_max)
		size = st.msg_size_max;
	buf = malloc(size ? size : 1);
	if (!buf)
		die(-ENOMEM, "%s", path);

	while (!count || got < count) {
		ret = ipcbox_recv_opts(fd, buf, size, &opts, &mi);
		if (ret == -EMSGSIZE && mi.len > size) {
			/* Grew? The message stays queued: retry bigger. */
			size = mi.len;
			free(buf);
			buf = malloc(size);
			if (!buf)
				die(-ENOMEM, "%s", path);
			continue;
		}
		if (ret == -EPIPE && (!count || all))
			break;	/* shut down and drained: end of file */
		if (all && (ret == -EAGAIN || ret == -ETIMEDOUT))
			break;	/* drained */
		if (ret < 0) {
			fflush(stdout);
			die(ret, "%s", path);
		}
		print_msg(buf, (size_t)ret, &mi, info, json, raw);
		fflush(stdout);
		got++;
	}
	free(buf);
	close(fd);
	return 0;
}

/* ------------------------------------------------------------------ */
/* rm, shutdown                                                        */

static int cmd_rm(int argc, char **argv)
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

static int cmd_shutdown(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	char path[PATH_MAX];
	int c, fd, ret, i, status = 0;

	while ((c = next_opt(argc, argv, "h", lo)) != -1)
		;
	if (optind == argc)
		usage_error("missing mailbox name");
	for (i = optind; i < argc; i++)
		if (!strchr(argv[i], '/'))
			check_name(argv[i]);
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

/* ------------------------------------------------------------------ */
/* dispatch                                                            */

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
	static const struct option lo[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const struct cmd_desc *d;

	while (next_opt(argc, argv, "h", lo) != -1)
		;
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
	cmd = d->name;
	cur_desc = d;
	optind = 1;
	return d->fn(argc - 1, argv + 1);
}
