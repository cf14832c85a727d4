// SPDX-License-Identifier: MIT
/*
 * Direct communication, receive(P): every message carries its sender's
 * pid, uid and gid, stamped by the kernel, and a receive can ask for
 * messages from one chosen process only (IPCBOX_RECV_FILTER_PID).
 * Two clients send; the server serves client B first, then A.
 */
#include "example.h"

static const char *prog = "direct";
static int failed;

static void client(int box, const char *who)
{
	char msg[64];

	for (int i = 1; i <= 3; i++) {
		int len = snprintf(msg, sizeof(msg), "%s #%d", who, i);

		CHECK(ipcbox_send(box, msg, len));
	}
	printf("client %s (pid %d): sent 3 messages\n", who, getpid());
	exit(0);
}

static int serve(int box, pid_t from, pid_t expect_pid, const char *who)
{
	struct ipcbox_recv_options opts = IPCBOX_RECV_OPTIONS_INIT;
	struct ipcbox_msg_info info;
	char buf[64];
	int n, got = 0;

	opts.timeout_ns = 0;	/* all were sent already: never wait */
	if (from) {
		opts.flags = IPCBOX_RECV_FILTER_PID;
		opts.filter_pid = from;
	}
	while ((n = ipcbox_recv_opts(box, buf, sizeof(buf) - 1, &opts,
				     &info)) >= 0) {
		buf[n] = '\0';
		printf("server: \"%s\" from pid %d (uid %u, gid %u)\n", buf,
		       info.sender_tgid, info.sender_uid, info.sender_gid);
		EXPECT(info.sender_tgid == expect_pid && !strncmp(buf, who, 1),
		       "expected a message from %s (pid %d)", who, expect_pid);
		got++;
	}
	EXPECT(n == -EAGAIN, "receive ended with %s", ipcbox_strerror(n));
	return got;
}

int main(void)
{
	pid_t a, b;
	int box, got;

	need_module(prog);
	setvbuf(stdout, NULL, _IOLBF, 0);
	box = CHECK(ipcbox_create_anon(16, 64, 0));
	if (!(a = fork()))
		client(box, "A");
	EXPECT(child_ok(a), "client A failed");
	if (!(b = fork()))
		client(box, "B");
	EXPECT(child_ok(b), "client B failed");

	printf("server: A's messages are first in the queue, but I receive "
	       "only from B (pid %d)\n", b);
	got = serve(box, b, b, "B");
	EXPECT(got == 3, "got %d messages from B, expected 3", got);
	printf("server: nothing more from B; now anyone\n");
	got = serve(box, 0, a, "A");
	EXPECT(got == 3, "got %d messages from A, expected 3", got);
	printf("%s\n", failed ? "FAILED" : "ok: the server chose its sender "
	       "and learned who sent each message");
	return failed;
}
