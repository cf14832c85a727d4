// SPDX-License-Identifier: MIT
/*
 * The ordinary-pipe analogue: an anonymous mailbox created before fork(2)
 * is shared by parent and child, like pipe(2). Plain write(2) and read(2)
 * work on it, but each write is one message and each read returns one
 * whole message: boundaries are kept. After ipcbox_shutdown() the reader
 * drains what is queued and then read(2) returns 0, end of file.
 */
#include "example.h"

static const char *prog = "pipe";
static int failed;

static const char *const lines[] = { "first", "second message", "third" };
#define NR_LINES (int)(sizeof(lines) / sizeof(lines[0]))

int main(void)
{
	char buf[128];
	ssize_t n;
	pid_t pid;
	int box, i;

	need_module(prog);
	setvbuf(stdout, NULL, _IOLBF, 0);
	box = CHECK(ipcbox_create_anon(8, sizeof(buf), 0));

	pid = fork();
	if (pid == 0) {
		int got = 0;

		/* Child: read messages until end of file, like a pipe reader. */
		while ((n = read(box, buf, sizeof(buf) - 1)) > 0) {
			buf[n] = '\0';
			printf("child (pid %d): read %zd bytes: \"%s\"\n",
			       getpid(), n, buf);
			if (got < NR_LINES && strcmp(buf, lines[got]))
				failed = 1;
			got++;
		}
		if (n < 0) {
			perror("pipe: child: read");
			exit(1);
		}
		printf("child: read returned 0: end of file after %d "
		       "messages\n", got);
		exit(failed || got != NR_LINES);
	}

	for (i = 0; i < NR_LINES; i++) {
		n = write(box, lines[i], strlen(lines[i]));
		EXPECT(n == (ssize_t)strlen(lines[i]), "write: %s",
		       n < 0 ? strerror(errno) : "short");
		printf("parent (pid %d): wrote \"%s\" as one message\n",
		       getpid(), lines[i]);
	}
	CHECK(ipcbox_shutdown(box));
	printf("parent: shut the mailbox down (no more messages)\n");
	close(box);
	EXPECT(child_ok(pid), "the child did not read the three messages "
	       "intact and in order");
	printf("%s\n", failed ? "FAILED" : "ok: three writes, three reads, "
	       "boundaries kept, then EOF");
	return failed;
}
