// SPDX-License-Identifier: GPL-2.0
/*
 * The named mailboxes and their live counters, from /sys/class/ipcbox.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipcboxctl.h"

int sysfs_read(const char *name, const char *attr, char *buf, size_t size)
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
char **sysfs_names(size_t *count)
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

void free_names(char **names, size_t n)
{
	while (n--)
		free(names[n]);
	free(names);
}
