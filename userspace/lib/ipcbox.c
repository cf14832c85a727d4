// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libipcbox: thin, errno-free wrappers around the ipcbox ioctls.
 *
 * The library keeps no state besides the result of the one-time ABI
 * check; every call is one or two system calls.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "libipcbox.h"

#define IPCBOX_EXPORT __attribute__((visibility("default")))

/*
 * 0: not checked yet; 1: module ABI is new enough; < 0: the -errno the
 * check failed with (only -EPROTO is remembered: a missing module may be
 * loaded later, an old one will not change under us).
 */
static int abi_state;

IPCBOX_EXPORT void ipcbox_send_options_init(struct ipcbox_send_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->timeout_ns = IPCBOX_TIMEOUT_INFINITE;
}

IPCBOX_EXPORT void ipcbox_recv_options_init(struct ipcbox_recv_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->timeout_ns = IPCBOX_TIMEOUT_INFINITE;
}

/* Reserved option fields must be zero: they may mean something one day. */
static bool reserved_set(const uint64_t *r, size_t n)
{
	while (n--)
		if (*r++)
			return true;
	return false;
}

/* The -errno of a failed open of the control node, with ENOENT made ENODEV. */
static int control_errno(int err)
{
	if (err == ENOENT || err == ENXIO || err == ENODEV)
		return -ENODEV;
	return -err;
}

/* Open /dev/ipcbox/control; -ENODEV when the module is not loaded. */
static int control_open(void)
{
	int fd = open(IPCBOX_CONTROL_PATH, O_RDWR | O_CLOEXEC);

	if (fd < 0 && (errno == EACCES || errno == EPERM))
		fd = open(IPCBOX_CONTROL_PATH, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return control_errno(errno);
	return fd;
}

static int control_info(int cfd, struct ipcbox_info *info)
{
	memset(info, 0, sizeof(*info));
	if (ioctl(cfd, IPCBOX_IOC_INFO, info) < 0)
		return errno == ENOTTY ? -EPROTO : -errno;
	if (info->abi_version < IPCBOX_ABI_VERSION) {
		__atomic_store_n(&abi_state, -EPROTO, __ATOMIC_RELAXED);
		return -EPROTO;
	}
	__atomic_store_n(&abi_state, 1, __ATOMIC_RELAXED);
	return 0;
}

/* Make sure the module behind @cfd speaks our ABI; cached per process. */
static int control_check(int cfd)
{
	struct ipcbox_info info;
	int state = __atomic_load_n(&abi_state, __ATOMIC_RELAXED);

	if (state)
		return state < 0 ? state : 0;
	return control_info(cfd, &info);
}

IPCBOX_EXPORT int ipcbox_info(struct ipcbox_info *info)
{
	int cfd, ret;

	if (!info)
		return -EINVAL;
	cfd = control_open();
	if (cfd < 0)
		return cfd;
	ret = control_info(cfd, info);
	close(cfd);
	return ret;
}

IPCBOX_EXPORT int ipcbox_check(uint64_t features)
{
	struct ipcbox_info info;
	int ret = ipcbox_info(&info);

	if (ret)
		return ret;
	if ((info.features & features) != features)
		return -EOPNOTSUPP;
	return 0;
}

IPCBOX_EXPORT const char *ipcbox_strerror(int err)
{
	if (err < 0 && err != INT_MIN)
		err = -err;
	switch (err) {
	case 0:
		return "Success";
	case ENODEV:
		return "ipcbox module not loaded (no " IPCBOX_CONTROL_PATH ")";
	case EPROTO:
		return "ipcbox module too old for this library (ABI version), "
		       "or a CALL request taken without its token";
	case EOPNOTSUPP:
		return "feature not supported by the loaded ipcbox module";
	case ENOBUFS:
		return "unbounded mailbox reached its byte limit";
	case EPIPE:
		return "mailbox is shut down";
	case EMSGSIZE:
		return "message too long for the mailbox or the buffer";
	case EDQUOT:
		return "per-user mailbox limit reached";
	case ENOSPC:
		return "mailbox limit reached";
	case EEXIST:
		return "mailbox already exists";
	case ENAMETOOLONG:
		return "mailbox name too long (at most 63 bytes)";
	default:
		return strerror(err);
	}
}

/* Copy a mailbox name into a fixed ABI field; "" is allowed. */
static int copy_name(char dst[IPCBOX_NAME_MAX], const char *name)
{
	size_t len = name ? strlen(name) : 0;

	if (len >= IPCBOX_NAME_MAX)
		return -ENAMETOOLONG;
	memset(dst, 0, IPCBOX_NAME_MAX);
	if (len)
		memcpy(dst, name, len);
	return 0;
}

IPCBOX_EXPORT int ipcbox_create(const char *name, uint32_t capacity,
				uint32_t msg_size_max, mode_t mode,
				unsigned int flags)
{
	struct ipcbox_create req;
	int cfd, fd, ret;

	memset(&req, 0, sizeof(req));
	ret = copy_name(req.name, name);
	if (ret)
		return ret;
	req.capacity = capacity;
	req.msg_size_max = msg_size_max;
	/* The kernel checks the mode even where it has no use for it. */
	req.mode = req.name[0] ? mode : 0;
	req.flags = flags;

	cfd = control_open();
	if (cfd < 0)
		return cfd;
	ret = control_check(cfd);
	if (ret) {
		close(cfd);
		return ret;
	}
	fd = ioctl(cfd, IPCBOX_IOC_CREATE, &req);
	ret = fd < 0 ? -errno : fd;
	close(cfd);
	return ret;
}

IPCBOX_EXPORT int ipcbox_create_anon(uint32_t capacity, uint32_t msg_size_max,
				     unsigned int flags)
{
	return ipcbox_create(NULL, capacity, msg_size_max, 0, flags);
}

IPCBOX_EXPORT int ipcbox_open(const char *name, int oflags)
{
	char path[sizeof(IPCBOX_DEV_DIR) + IPCBOX_NAME_MAX + 1];
	struct stat st;
	int fd;

	if (!name || !*name)
		return -EINVAL;
	if (strchr(name, '/')) {
		/* A path: used as given, e.g. "/dev/ipcbox/jobs". */
		fd = open(name, oflags);
		return fd < 0 ? -errno : fd;
	}
	if (strlen(name) >= IPCBOX_NAME_MAX)
		return -ENAMETOOLONG;
	snprintf(path, sizeof(path), "%s/%s", IPCBOX_DEV_DIR, name);
	fd = open(path, oflags);
	if (fd >= 0)
		return fd;
	/* Tell "no such mailbox" apart from "no module at all". */
	if (errno == ENOENT && stat(IPCBOX_CONTROL_PATH, &st) < 0 &&
	    errno == ENOENT)
		return -ENODEV;
	return -errno;
}

IPCBOX_EXPORT int ipcbox_unlink(const char *name)
{
	struct ipcbox_unlink req;
	int cfd, ret;

	memset(&req, 0, sizeof(req));
	if (!name || !*name)
		return -EINVAL;
	ret = copy_name(req.name, name);
	if (ret)
		return ret;
	cfd = control_open();
	if (cfd < 0)
		return cfd;
	ret = control_check(cfd);
	if (!ret && ioctl(cfd, IPCBOX_IOC_UNLINK, &req) < 0)
		ret = -errno;
	close(cfd);
	return ret;
}

IPCBOX_EXPORT int ipcbox_stat(int fd, struct ipcbox_stat *st)
{
	if (!st)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	if (ioctl(fd, IPCBOX_IOC_STAT, st) < 0)
		return -errno;
	return 0;
}

IPCBOX_EXPORT int ipcbox_shutdown(int fd)
{
	if (ioctl(fd, IPCBOX_IOC_SHUTDOWN) < 0)
		return -errno;
	return 0;
}

/* Fill a zeroed struct ipcbox_send from a buffer and options. */
static int send_req(struct ipcbox_send *req, const void *buf, size_t len,
		    const struct ipcbox_send_options *opts)
{
	if (len > UINT32_MAX)
		return -EMSGSIZE;
	if (len && !buf)
		return -EFAULT;
	req->buf = (uintptr_t)buf;
	req->len = (uint32_t)len;
	req->timeout_ns = IPCBOX_TIMEOUT_INFINITE;
	if (!opts)
		return 0;
	if (reserved_set(opts->__reserved, 2))
		return -EINVAL;
	req->flags = opts->flags;
	req->timeout_ns = opts->timeout_ns;
	req->priority = opts->priority;
	req->tag = opts->tag;
	return 0;
}

IPCBOX_EXPORT int ipcbox_send_opts(int fd, const void *buf, size_t len,
				   const struct ipcbox_send_options *opts,
				   uint64_t *seq)
{
	struct ipcbox_send req;
	int ret;

	memset(&req, 0, sizeof(req));
	ret = send_req(&req, buf, len, opts);
	if (ret)
		return ret;
	if (ioctl(fd, IPCBOX_IOC_SEND, &req) < 0)
		return -errno;
	if (seq)
		*seq = req.seq;
	return 0;
}

IPCBOX_EXPORT int ipcbox_send(int fd, const void *buf, size_t len)
{
	return ipcbox_send_opts(fd, buf, len, NULL, NULL);
}

IPCBOX_EXPORT int ipcbox_send_timeout_ns(int fd, const void *buf, size_t len,
					 int64_t timeout_ns)
{
	struct ipcbox_send_options opts = IPCBOX_SEND_OPTIONS_INIT;

	if (timeout_ns < IPCBOX_TIMEOUT_INFINITE)
		return -EINVAL;
	opts.timeout_ns = timeout_ns;
	return ipcbox_send_opts(fd, buf, len, &opts, NULL);
}

/* Milliseconds as poll(2) takes them: < 0 forever, 0 once, > 0 a limit. */
static int64_t ms_to_ns(int timeout_ms)
{
	if (timeout_ms < 0)
		return IPCBOX_TIMEOUT_INFINITE;
	return (int64_t)timeout_ms * 1000000;
}

IPCBOX_EXPORT int ipcbox_send_timeout_ms(int fd, const void *buf, size_t len,
					 int timeout_ms)
{
	return ipcbox_send_timeout_ns(fd, buf, len, ms_to_ns(timeout_ms));
}

/*
 * Fill a zeroed struct ipcbox_recv from a buffer and options; the info
 * goes straight to the caller's @info, in the library's size.
 */
static int recv_req(struct ipcbox_recv *req, void *buf, size_t size,
		    const struct ipcbox_recv_options *opts,
		    struct ipcbox_msg_info *info)
{
	if (size && !buf)
		return -EFAULT;
	req->buf = (uintptr_t)buf;
	req->size = size > UINT32_MAX ? UINT32_MAX : (uint32_t)size;
	req->timeout_ns = IPCBOX_TIMEOUT_INFINITE;
	if (info) {
		req->info = (uintptr_t)info;
		req->info_size = sizeof(*info);
	}
	if (!opts)
		return 0;
	if (reserved_set(opts->__reserved, 2))
		return -EINVAL;
	req->flags = opts->flags;
	req->timeout_ns = opts->timeout_ns;
	req->filter_pid = opts->filter_pid;
	req->filter_tag = opts->filter_tag;
	return 0;
}

/*
 * The kernel writes @info: on success, and with only its len set on
 * EMSGSIZE; after any other failure it holds nothing to rely on.
 */
IPCBOX_EXPORT int ipcbox_recv_opts(int fd, void *buf, size_t size,
				   const struct ipcbox_recv_options *opts,
				   struct ipcbox_msg_info *info)
{
	struct ipcbox_recv req;
	int ret;

	memset(&req, 0, sizeof(req));
	ret = recv_req(&req, buf, size, opts, info);
	if (ret)
		return ret;
	ret = ioctl(fd, IPCBOX_IOC_RECV, &req);
	return ret < 0 ? -errno : ret;
}

IPCBOX_EXPORT int ipcbox_recv(int fd, void *buf, size_t size)
{
	return ipcbox_recv_opts(fd, buf, size, NULL, NULL);
}

IPCBOX_EXPORT int ipcbox_recv_timeout_ns(int fd, void *buf, size_t size,
					 int64_t timeout_ns)
{
	struct ipcbox_recv_options opts = IPCBOX_RECV_OPTIONS_INIT;

	if (timeout_ns < IPCBOX_TIMEOUT_INFINITE)
		return -EINVAL;
	opts.timeout_ns = timeout_ns;
	return ipcbox_recv_opts(fd, buf, size, &opts, NULL);
}

IPCBOX_EXPORT int ipcbox_recv_timeout_ms(int fd, void *buf, size_t size,
					 int timeout_ms)
{
	return ipcbox_recv_timeout_ns(fd, buf, size, ms_to_ns(timeout_ms));
}

IPCBOX_EXPORT int ipcbox_call(int fd, const void *req, size_t req_len,
			      void *reply, size_t reply_size,
			      const struct ipcbox_send_options *opts,
			      struct ipcbox_msg_info *info)
{
	struct ipcbox_send s;
	struct ipcbox_call c;
	int ret;

	/* A call's request takes the options of a send. */
	memset(&s, 0, sizeof(s));
	ret = send_req(&s, req, req_len, opts);
	if (ret)
		return ret;
	if (reply_size && !reply)
		return -EFAULT;
	memset(&c, 0, sizeof(c));
	c.buf = s.buf;
	c.len = s.len;
	c.flags = s.flags;
	c.timeout_ns = s.timeout_ns;
	c.priority = s.priority;
	c.tag = s.tag;
	c.reply_buf = (uintptr_t)reply;
	c.reply_size = reply_size > UINT32_MAX ? UINT32_MAX : (uint32_t)reply_size;
	if (info) {
		c.reply_info = (uintptr_t)info;
		c.reply_info_size = sizeof(*info);
	}
	ret = ioctl(fd, IPCBOX_IOC_CALL, &c);
	return ret < 0 ? -errno : ret;
}

IPCBOX_EXPORT int ipcbox_reply(int fd, uint64_t token, const void *buf,
			       size_t len)
{
	struct ipcbox_reply r;

	if (len > UINT32_MAX)
		return -EMSGSIZE;
	if (len && !buf)
		return -EFAULT;
	memset(&r, 0, sizeof(r));
	r.token = token;
	r.buf = (uintptr_t)buf;
	r.len = (uint32_t)len;
	if (ioctl(fd, IPCBOX_IOC_REPLY, &r) < 0)
		return -errno;
	return 0;
}

IPCBOX_EXPORT int ipcbox_reply_recv(int fd, uint64_t token, const void *reply,
				    size_t reply_len, int *reply_error,
				    void *buf, size_t size,
				    const struct ipcbox_recv_options *opts,
				    struct ipcbox_msg_info *info)
{
	struct ipcbox_reply_recv a;
	struct ipcbox_recv r;
	int ret;

	if (reply_len > UINT32_MAX)
		return -EMSGSIZE;
	if (token && reply_len && !reply)
		return -EFAULT;
	memset(&r, 0, sizeof(r));
	ret = recv_req(&r, buf, size, opts, info);
	if (ret)
		return ret;
	memset(&a, 0, sizeof(a));
	a.token = token;
	a.reply_buf = (uintptr_t)reply;
	a.reply_len = (uint32_t)reply_len;
	a.buf = r.buf;
	a.size = r.size;
	a.flags = r.flags;
	a.timeout_ns = r.timeout_ns;
	a.filter_tag = r.filter_tag;
	a.filter_pid = r.filter_pid;
	a.info_size = r.info_size;
	a.info = r.info;
	ret = ioctl(fd, IPCBOX_IOC_REPLY_RECV, &a);
	if (ret < 0)
		ret = -errno;
	if (reply_error)
		*reply_error = a.reply_error;
	return ret;
}

/* The entries are the kernel's own structs, in this header's size. */
static int batch(int fd, unsigned long cmd, void *msgs, unsigned int count,
		 size_t entry_size)
{
	struct ipcbox_batch b;
	int ret;

	if (!count || count > IPCBOX_BATCH_MAX)
		return -EINVAL;
	if (!msgs)
		return -EFAULT;
	memset(&b, 0, sizeof(b));
	b.msgs = (uintptr_t)msgs;
	b.count = count;
	b.entry_size = entry_size;
	ret = ioctl(fd, cmd, &b);
	return ret < 0 ? -errno : ret;
}

IPCBOX_EXPORT int ipcbox_sendv(int fd, struct ipcbox_send *msgs,
			       unsigned int count)
{
	return batch(fd, IPCBOX_IOC_SENDV, msgs, count, sizeof(*msgs));
}

IPCBOX_EXPORT int ipcbox_recvv(int fd, struct ipcbox_recv *msgs,
			       unsigned int count)
{
	return batch(fd, IPCBOX_IOC_RECVV, msgs, count, sizeof(*msgs));
}
