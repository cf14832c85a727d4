// SPDX-License-Identifier: GPL-2.0
/*
 * ipcboxctl's messages: one line on stderr naming the command, the object
 * and the cause; runtime errors exit 1, usage errors 2.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "ipcboxctl.h"

/* "ipcboxctl: CMD: WHAT: cause" on stderr. */
static void vwarn_err(int err, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", PROG);
	if (cur_desc)
		fprintf(stderr, "%s: ", cur_desc->name);
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

void warn_err(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn_err(err, fmt, ap);
	va_end(ap);
}

/* Runtime error: message as warn_err(), exit 1. */
void die(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn_err(err, fmt, ap);
	va_end(ap);
	exit(EXIT_FAILURE);
}

/* Usage error: message, pointer to --help, exit 2. */
void usage_error(const char *fmt, ...)
{
	const char *cmd = cur_desc ? cur_desc->name : NULL;
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
