/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What ipcboxctl's files share: the command table's entry and the
 * command running (ipcboxctl.c), messages (diag.c), strict argument
 * parsing (args.c), sysfs (sysfs.c), output (table.c, json.c) and the
 * commands themselves (cmd_*.c).
 */
#ifndef IPCBOXCTL_H
#define IPCBOXCTL_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "libipcbox.h"

#define PROG		"ipcboxctl"
#define SYSFS_CLASS	"/sys/class/ipcbox"
#define EXIT_USAGE	2

struct cmd_desc {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;	/* synopsis after "ipcboxctl NAME" */
	const char *help;	/* description and options */
};

/* ipcboxctl.c: the command running, named in messages and in --help. */
extern const struct cmd_desc *cur_desc;
void print_help(const struct cmd_desc *d, FILE *f);

/* diag.c */
void __attribute__((format(printf, 2, 3)))
warn_err(int err, const char *fmt, ...);
void __attribute__((noreturn, format(printf, 2, 3)))
die(int err, const char *fmt, ...);
void __attribute__((noreturn, format(printf, 1, 2)))
usage_error(const char *fmt, ...);

/* args.c */
int next_opt(int argc, char **argv, const char *shortopts,
	     const struct option *longopts);
bool json_option(int argc, char **argv);
void no_options(int argc, char **argv);
uint64_t parse_uint(const char *what, const char *s, uint64_t max, bool hex);
int64_t parse_duration(const char *what, const char *s);
uint32_t parse_mode(const char *s);
void check_name(const char *name);
void check_mailbox_arg(const char *arg);
const char *mailbox_path(const char *name, char *buf, size_t size);
int open_mailbox(const char *name, int oflags);

/* sysfs.c */
int sysfs_read(const char *name, const char *attr, char *buf, size_t size);
char **sysfs_names(size_t *count);
void free_names(char **names, size_t n);

/* table.c */
int print_table(FILE *f, char **only, int nr_only, bool json, bool header);

/* The commands: argv[0] is the command's name, the options follow. */
int cmd_info(int argc, char **argv);
int cmd_create(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_stat(int argc, char **argv);
int cmd_send(int argc, char **argv);
int cmd_recv(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_shutdown(int argc, char **argv);

#endif /* IPCBOXCTL_H */
