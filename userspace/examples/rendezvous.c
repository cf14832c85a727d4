// SPDX-License-Identifier: MIT
/*
 * Rendezvous (capacity 0): the sender's call returns only once a receiver
 * has taken the message, so a successful send means "delivered".
 * Then the same guarantee on a buffered mailbox with the SYNC flag.
 */
#include "example.h"

#define DELAY_MS	300

static const char *prog = "rendezvous";
static int failed;

/* Child: dawdle, then take one message. */
static void late_receiver(int box, const char *who)
{
	char buf[64];
	int n;

	sleep_ms(DELAY_MS);
	n = CHECK(ipcbox_recv(box, buf, sizeof(buf) - 1));
	buf[n] = '\0';
	printf("  %s (pid %d): after %d ms took \"%s\"\n", who, getpid(),
	       DELAY_MS, buf);
	exit(0);
}

int main(void)
{
	struct ipcbox_send_options opts = IPCBOX_SEND_OPTIONS_INIT;
	double t0, took;
	pid_t pid;
	int box, ret;

	need_module(prog);
	setvbuf(stdout, NULL, _IOLBF, 0);

	printf("capacity 0 (rendezvous):\n");
	box = CHECK(ipcbox_create_anon(0, 64, 0));

	/* Nobody is receiving: a send that may not wait cannot succeed. */
	ret = ipcbox_send_timeout_ms(box, "nobody", 6, 0);
	printf("  parent: try-once send with no receiver waiting: %s\n",
	       ipcbox_strerror(ret));
	EXPECT(ret == -EAGAIN, "expected EAGAIN, got %d", ret);

	if (!(pid = fork()))
		late_receiver(box, "child");
	t0 = now_ms();
	CHECK(ipcbox_send(box, "hand-off", 8));
	took = now_ms() - t0;
	printf("  parent: send returned after %.0f ms, so the message was "
	       "taken\n", took);
	EXPECT(took >= DELAY_MS - 20, "send returned before the receiver took "
	       "the message (%.0f ms)", took);
	EXPECT(child_ok(pid), "receiver failed");
	close(box);

	printf("capacity 4 with SYNC:\n");
	box = CHECK(ipcbox_create_anon(4, 64, 0));
	if (!(pid = fork()))
		late_receiver(box, "child");
	opts.flags = IPCBOX_SEND_SYNC;
	t0 = now_ms();
	CHECK(ipcbox_send_opts(box, "synchronous", 11, &opts, NULL));
	took = now_ms() - t0;
	printf("  parent: there was room, yet the SYNC send waited %.0f ms "
	       "for the receiver\n", took);
	EXPECT(took >= DELAY_MS - 20, "SYNC send returned early (%.0f ms)",
	       took);
	EXPECT(child_ok(pid), "receiver failed");

	printf("%s\n", failed ? "FAILED" : "ok: each send returned once its "
	       "message was received");
	return failed;
}
