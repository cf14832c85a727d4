/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * libipcbox: a small C API over the ipcbox kernel mailboxes.
 *
 * Every function returns 0, a length or a file descriptor on success and
 * a negative errno value on failure; none of them makes the caller read
 * errno. Mailbox file descriptors are ordinary fds: poll(2), select(2),
 * epoll(7), fork(2) and close(2) work on them as on any other.
 *
 * See ipcbox(7) for the model and one man page per function.
 */
#ifndef LIBIPCBOX_H
#define LIBIPCBOX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/ipcbox.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The version of ipcbox, the one place it is written: the library's
 * file name and pkg-config file, the man pages, the module's modinfo,
 * dkms and "ipcboxctl --version" all read it from here.
 */
#define LIBIPCBOX_VERSION_MAJOR	2
#define LIBIPCBOX_VERSION_MINOR	0
#define LIBIPCBOX_VERSION_PATCH	0

/**
 * struct ipcbox_send_options - options of one ipcbox_send_opts() or
 *	ipcbox_call()
 * @timeout_ns:	-1 waits forever, 0 tries once, > 0 waits at most that many
 *		nanoseconds (CLOCK_MONOTONIC); with IPCBOX_ABSTIME an
 *		absolute CLOCK_MONOTONIC time.
 * @flags:	IPCBOX_SEND_FLAGS for a send: IPCBOX_NONBLOCK,
 *		IPCBOX_ABSTIME, IPCBOX_SEND_SYNC, IPCBOX_SEND_CACHE; for a
 *		call IPCBOX_CALL_FLAGS: IPCBOX_ABSTIME.
 * @priority:	0 .. IPCBOX_PRIO_MAX - 1, higher is received first.
 * @tag:	Opaque value delivered with the message.
 * @__reserved:	Zero (room for later options).
 *
 * Start from IPCBOX_SEND_OPTIONS_INIT or ipcbox_send_options_init(): wait
 * forever, priority 0, tag 0. Sends and receives take different types,
 * so options meant for one cannot reach the other.
 */
struct ipcbox_send_options {
	int64_t timeout_ns;
	uint32_t flags;
	uint32_t priority;
	uint64_t tag;
	uint64_t __reserved[2];
};

/**
 * struct ipcbox_recv_options - options of one ipcbox_recv_opts() or
 *	ipcbox_reply_recv()
 * @timeout_ns:	As in struct ipcbox_send_options.
 * @flags:	IPCBOX_RECV_FLAGS: IPCBOX_NONBLOCK, IPCBOX_ABSTIME,
 *		IPCBOX_RECV_PEEK, IPCBOX_RECV_FILTER_PID, IPCBOX_RECV_FILTER_TAG.
 * @filter_pid:	With IPCBOX_RECV_FILTER_PID: only from this process.
 * @filter_tag:	With IPCBOX_RECV_FILTER_TAG: only with this tag.
 * @__reserved:	Zero (room for later options).
 *
 * Start from IPCBOX_RECV_OPTIONS_INIT or ipcbox_recv_options_init().
 */
struct ipcbox_recv_options {
	int64_t timeout_ns;
	uint32_t flags;
	pid_t filter_pid;
	uint64_t filter_tag;
	uint64_t __reserved[2];
};

#define IPCBOX_SEND_OPTIONS_INIT	{ .timeout_ns = IPCBOX_TIMEOUT_INFINITE }
#define IPCBOX_RECV_OPTIONS_INIT	{ .timeout_ns = IPCBOX_TIMEOUT_INFINITE }

void ipcbox_send_options_init(struct ipcbox_send_options *opts);
void ipcbox_recv_options_init(struct ipcbox_recv_options *opts);

/* Module discovery. */
int ipcbox_info(struct ipcbox_info *info);
int ipcbox_check(uint64_t features);
const char *ipcbox_strerror(int err);

/* Mailbox life cycle. */
int ipcbox_create(const char *name, uint32_t capacity, uint32_t msg_size_max,
		  mode_t mode, unsigned int flags);
int ipcbox_create_anon(uint32_t capacity, uint32_t msg_size_max,
		       unsigned int flags);
int ipcbox_open(const char *name, int oflags);
int ipcbox_unlink(const char *name);
int ipcbox_stat(int fd, struct ipcbox_stat *st);
int ipcbox_shutdown(int fd);

/* Sending. */
int ipcbox_send(int fd, const void *buf, size_t len);
int ipcbox_send_timeout_ms(int fd, const void *buf, size_t len, int timeout_ms);
int ipcbox_send_timeout_ns(int fd, const void *buf, size_t len,
			   int64_t timeout_ns);
int ipcbox_send_opts(int fd, const void *buf, size_t len,
		     const struct ipcbox_send_options *opts, uint64_t *seq);

/* Receiving. */
int ipcbox_recv(int fd, void *buf, size_t size);
int ipcbox_recv_timeout_ms(int fd, void *buf, size_t size, int timeout_ms);
int ipcbox_recv_timeout_ns(int fd, void *buf, size_t size, int64_t timeout_ns);
int ipcbox_recv_opts(int fd, void *buf, size_t size,
		     const struct ipcbox_recv_options *opts,
		     struct ipcbox_msg_info *info);

/* Request and reply (IPCBOX_FEAT_CALL). */
int ipcbox_call(int fd, const void *req, size_t req_len, void *reply,
		size_t reply_size, const struct ipcbox_send_options *opts,
		struct ipcbox_msg_info *info);
int ipcbox_reply(int fd, uint64_t token, const void *buf, size_t len);
int ipcbox_reply_recv(int fd, uint64_t token, const void *reply,
		      size_t reply_len, int *reply_error, void *buf,
		      size_t size, const struct ipcbox_recv_options *opts,
		      struct ipcbox_msg_info *info);

/*
 * Batches (IPCBOX_FEAT_BATCH): entries in the kernel's own structs; a
 * struct ipcbox_recv entry's info (info and info_size) may point to a
 * struct ipcbox_msg_info of the caller's.
 */
int ipcbox_sendv(int fd, struct ipcbox_send *msgs, unsigned int count);
int ipcbox_recvv(int fd, struct ipcbox_recv *msgs, unsigned int count);

#ifdef __cplusplus
}
#endif

#endif /* LIBIPCBOX_H */
