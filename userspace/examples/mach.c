// SPDX-License-Identifier: MIT
/*
 * The four send options of Mach: when the mailbox is full, a sender may
 * wait forever, wait at most n milliseconds, return at once, or leave
 * one message with the kernel to deliver later (IPCBOX_SEND_CACHE).
 * The mailbox holds one message, so after the first send it is full.
 */
#include "example.h"

#define LIMIT_MS	100
#define DRAIN_MS	200

static const char *prog = "mach";
static int failed;

static const char *const expected[] = { "first", "cached", "forever" };

/* Child: after a while, empty the mailbox and check the order. */
static void drainer(int box)
{
	char buf[32];
	int i, n;

	sleep_ms(DRAIN_MS);
	for (i = 0; i < 3; i++) {
		n = CHECK(ipcbox_recv(box, buf, sizeof(buf) - 1));
		buf[n] = '\0';
		printf("  receiver: got \"%s\"\n", buf);
		EXPECT(!strcmp(buf, expected[i]), "expected \"%s\"",
		       expected[i]);
	}
	exit(failed);
}

int main(void)
{
	struct ipcbox_send_options opts = IPCBOX_SEND_OPTIONS_INIT;
	struct ipcbox_stat st;
	double t0, took;
	pid_t pid;
	int box, ret;

	need_module(prog);
	setvbuf(stdout, NULL, _IOLBF, 0);
	box = CHECK(ipcbox_create_anon(1, 32, 0));
	CHECK(ipcbox_send(box, "first", 5));
	printf("mailbox of capacity 1 holds \"first\": it is full\n");

	t0 = now_ms();
	ret = ipcbox_send_timeout_ms(box, "now", 3, 0);
	took = now_ms() - t0;
	printf("return immediately: %s after %.1f ms\n", ipcbox_strerror(ret),
	       took);
	EXPECT(ret == -EAGAIN, "expected EAGAIN, got %d", ret);

	t0 = now_ms();
	ret = ipcbox_send_timeout_ms(box, "limited", 7, LIMIT_MS);
	took = now_ms() - t0;
	printf("wait at most %d ms: %s after %.0f ms\n", LIMIT_MS,
	       ipcbox_strerror(ret), took);
	EXPECT(ret == -ETIMEDOUT, "expected ETIMEDOUT, got %d", ret);
	EXPECT(took >= LIMIT_MS - 5, "returned after only %.0f ms", took);

	opts.flags = IPCBOX_SEND_CACHE;
	ret = ipcbox_send_opts(box, "cached", 6, &opts, NULL);
	CHECK(ipcbox_stat(box, &st));
	printf("cache one message: %s, the kernel holds %u parked message\n",
	       ipcbox_strerror(ret), st.cached);
	EXPECT(ret == 0 && st.cached == 1, "CACHE send did not park");
	ret = ipcbox_send_opts(box, "again", 5, &opts, NULL);
	printf("  a second CACHE send while one is parked: %s\n",
	       ipcbox_strerror(ret));
	EXPECT(ret == -EAGAIN, "expected EAGAIN, got %d", ret);

	if (!(pid = fork()))
		drainer(box);
	t0 = now_ms();
	CHECK(ipcbox_send(box, "forever", 7));
	took = now_ms() - t0;
	printf("wait forever: sent after %.0f ms, when the receiver made "
	       "room\n", took);
	EXPECT(took >= DRAIN_MS - 20, "returned after only %.0f ms", took);
	EXPECT(child_ok(pid), "receiver saw the wrong messages");

	CHECK(ipcbox_stat(box, &st));
	printf("counters: sent %llu, received %llu, timeouts %llu\n",
	       (unsigned long long)st.sent, (unsigned long long)st.received,
	       (unsigned long long)st.timeouts);
	printf("%s\n", failed ? "FAILED" : "ok: all four send options "
	       "behaved as Mach describes");
	return failed;
}
