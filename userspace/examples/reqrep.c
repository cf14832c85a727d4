// SPDX-License-Identifier: MIT
/*
 * Request/reply over two mailboxes: clients send requests to the server's
 * mailbox tagged with their client number; the server answers in the
 * reply mailbox with the same tag, and each client receives only replies
 * bearing its own tag (IPCBOX_RECV_FILTER_TAG). The server turns each
 * request into upper case.
 */
#include <ctype.h>
#include "example.h"

#define CLIENTS		3
#define REQUESTS	4

static const char *prog = "reqrep";
static int failed;

static void server(int requests, int replies)
{
	struct ipcbox_send_options sopts = IPCBOX_SEND_OPTIONS_INIT;
	struct ipcbox_msg_info info;
	char buf[64];
	int n, served = 0;

	while ((n = ipcbox_recv_opts(requests, buf, sizeof(buf), NULL,
				     &info)) >= 0) {
		for (int i = 0; i < n; i++)
			buf[i] = toupper((unsigned char)buf[i]);
		sopts.tag = info.tag;	/* reply to whoever asked */
		CHECK(ipcbox_send_opts(replies, buf, n, &sopts, NULL));
		served++;
	}
	printf("server (pid %d): answered %d requests, then the request "
	       "mailbox was shut down\n", getpid(), served);
	exit(n == -EPIPE ? 0 : 1);
}

static void client(int requests, int replies, int id)
{
	struct ipcbox_send_options sopts = IPCBOX_SEND_OPTIONS_INIT;
	struct ipcbox_recv_options ropts = IPCBOX_RECV_OPTIONS_INIT;
	char req[64], rep[64], want[64];
	double t0, worst = 0;

	sopts.tag = id;
	ropts.flags = IPCBOX_RECV_FILTER_TAG;
	ropts.filter_tag = id;
	for (int i = 0; i < REQUESTS; i++) {
		int len = snprintf(req, sizeof(req), "client %d request %d",
				   id, i);
		int n;

		t0 = now_ms();
		CHECK(ipcbox_send_opts(requests, req, len, &sopts, NULL));
		n = CHECK(ipcbox_recv_opts(replies, rep, sizeof(rep) - 1,
					   &ropts, NULL));
		rep[n] = '\0';
		if (now_ms() - t0 > worst)
			worst = now_ms() - t0;
		for (int k = 0; k <= len; k++)
			want[k] = toupper((unsigned char)req[k]);
		EXPECT(!strcmp(rep, want), "client %d: asked \"%s\", got "
		       "\"%s\"", id, req, rep);
	}
	printf("client %d (pid %d): %d requests answered correctly, slowest "
	       "round trip %.2f ms (last reply \"%s\")\n", id, getpid(),
	       REQUESTS, worst, rep);
	exit(failed);
}

int main(void)
{
	pid_t srv, cli[CLIENTS];
	int requests, replies, i;

	need_module(prog);
	setvbuf(stdout, NULL, _IOLBF, 0);
	requests = CHECK(ipcbox_create_anon(8, 64, 0));
	replies = CHECK(ipcbox_create_anon(8, 64, 0));

	if (!(srv = fork()))
		server(requests, replies);
	for (i = 0; i < CLIENTS; i++)
		if (!(cli[i] = fork()))
			client(requests, replies, i + 1);
	for (i = 0; i < CLIENTS; i++)
		EXPECT(child_ok(cli[i]), "client %d failed", i + 1);
	CHECK(ipcbox_shutdown(requests));
	EXPECT(child_ok(srv), "server failed");
	printf("%s\n", failed ? "FAILED" : "ok: every client got its own "
	       "replies");
	return failed;
}
