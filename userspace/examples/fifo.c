// SPDX-License-Identifier: MIT
/*
 * The named-pipe (FIFO) analogue: a named mailbox /dev/ipcbox/NAME lets
 * unrelated processes meet by name. This program creates the mailbox and
 * then runs itself twice via exec, as a "writer" and a "reader" that
 * share nothing but the name, open it with open(2), and use write(2)
 * and read(2). The mailbox outlives them until it is unlinked.
 *
 * usage: fifo                 run the whole demonstration
 *        fifo writer NAME     write three messages, then shut down
 *        fifo reader NAME     read until end of file
 */
#include <fcntl.h>
#include "example.h"

static const char *prog = "fifo";
static int failed;

static int writer(const char *name)
{
	char msg[64];
	int fd = CHECK(ipcbox_open(name, O_WRONLY | O_CLOEXEC));

	for (int i = 1; i <= 3; i++) {
		int len = snprintf(msg, sizeof(msg), "message %d from pid %d",
				   i, getpid());

		if (write(fd, msg, len) != len) {
			perror("fifo: writer: write");
			return 1;
		}
		printf("writer (pid %d): wrote \"%s\"\n", getpid(), msg);
	}
	CHECK(ipcbox_shutdown(fd));
	close(fd);
	return 0;
}

static int reader(const char *name)
{
	char buf[128];
	struct ipcbox_msg_info info;
	int fd = CHECK(ipcbox_open(name, O_RDONLY | O_CLOEXEC));
	int n, got = 0;

	/* ipcbox_recv_opts() gives what read(2) gives, plus who sent it. */
	while ((n = ipcbox_recv_opts(fd, buf, sizeof(buf) - 1, NULL,
				     &info)) >= 0) {
		buf[n] = '\0';
		printf("reader (pid %d): got \"%s\" from pid %d\n", getpid(),
		       buf, info.sender_tgid);
		got++;
	}
	EXPECT(n == -EPIPE, "receive ended with %s", ipcbox_strerror(n));
	printf("reader: end of file after %d messages\n", got);
	close(fd);
	return failed || got != 3;
}

static pid_t run_self(const char *self, const char *role, const char *name)
{
	pid_t pid = fork();

	if (pid == 0) {
		execl(self, self, role, name, (char *)NULL);
		perror("fifo: exec");
		_exit(127);
	}
	return pid;
}

int main(int argc, char **argv)
{
	char name[IPCBOX_NAME_MAX];
	pid_t r, w;
	int fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && !strcmp(argv[1], "writer"))
		return writer(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "reader"))
		return reader(argv[2]);
	if (argc != 1) {
		fprintf(stderr, "usage: fifo [writer|reader NAME]\n");
		return 2;
	}

	need_module(prog);
	snprintf(name, sizeof(name), "example-fifo-%d", getpid());
	fd = CHECK(ipcbox_create(name, 8, 128, 0600, IPCBOX_CREATE_CLOEXEC));
	close(fd);	/* the name keeps the mailbox alive */
	printf("created /dev/ipcbox/%s; starting reader and writer as "
	       "separate programs\n", name);

	r = run_self("/proc/self/exe", "reader", name);
	sleep_ms(100);	/* let the reader wait first: it blocks, not fails */
	w = run_self("/proc/self/exe", "writer", name);
	EXPECT(child_ok(w), "writer failed");
	EXPECT(child_ok(r), "reader failed");

	CHECK(ipcbox_unlink(name));
	printf("removed /dev/ipcbox/%s\n%s\n", name,
	       failed ? "FAILED" : "ok: unrelated processes talked by name");
	return failed;
}
