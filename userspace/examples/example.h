/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the ipcbox examples: timing, and stopping with a
 * clear message when a call fails in a way the example did not expect.
 */
#ifndef IPCBOX_EXAMPLE_H
#define IPCBOX_EXAMPLE_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "libipcbox.h"

/* Milliseconds on CLOCK_MONOTONIC, the clock ipcbox timeouts use. */
static inline double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static inline void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Run a libipcbox call; on a negative result, say which and exit 1. */
#define CHECK(call) ({							\
	int __r = (call);						\
	if (__r < 0) {							\
		fprintf(stderr, "%s: %s failed: %s\n", prog, #call,	\
			ipcbox_strerror(__r));				\
		exit(1);						\
	}								\
	__r;								\
})

/* A behaviour check: print what went wrong and remember the failure. */
#define EXPECT(cond, ...) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s: UNEXPECTED: ", prog);		\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		failed = 1;						\
	}								\
} while (0)

/* Wait for a child and report whether it exited 0. */
static inline int child_ok(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return 0;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Stop early, with the reason, when the module is not there. */
static inline void need_module(const char *prog)
{
	int ret = ipcbox_check(0);

	if (ret) {
		fprintf(stderr, "%s: %s\n", prog, ipcbox_strerror(ret));
		exit(1);
	}
}

#endif /* IPCBOX_EXAMPLE_H */
