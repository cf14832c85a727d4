// SPDX-License-Identifier: GPL-2.0
/*
 * Sender credentials: pids are translated into the receiver's pid
 * namespace (0 when the sender is invisible there), uids and gids are the
 * sender's effective ids.
 */
#include "ipcbox_test.h"
#include "kselftest_harness.h"

FIXTURE(creds) {
	int ctl;
	int fd;
};

FIXTURE_SETUP(creds)
{
	self->fd = -1;
	CTL_OPEN_OR_SKIP(self->ctl);
	self->fd = mb_anon(self->ctl, 4, 64);
	ASSERT_GE(self->fd, 0) TH_LOG("create: %s", strerror(-self->fd));
}

FIXTURE_TEARDOWN(creds)
{
	close_fd(&self->fd);
	close_fd(&self->ctl);
}

/*
 * Fork a child in a new pid namespace running fn(fd); returns its pid as
 * seen from here, or -1. The intermediate process exits at once.
 */
static pid_t fork_in_new_pidns(int fd, int (*fn)(int), int *status)
{
	pid_t pid;

	*status = -1;
	if (unshare(CLONE_NEWPID))
		return -1;
	pid = fork();
	if (pid == 0)
		_exit(fn(fd));
	*status = pid < 0 ? -1 : wait_child(pid);
	return pid;
}

/*
 * fn(fd) in a child in a new pid namespace, which a helper process
 * unshares so that this one keeps its own: the child's status, or
 * NO_PIDNS when the namespace could not be made.
 */
#define NO_PIDNS	99
static int in_new_pidns(int fd, int (*fn)(int))
{
	pid_t pid, helper;
	int status;

	helper = fork();
	if (helper < 0)
		return -1;
	if (helper == 0) {
		pid = fork_in_new_pidns(fd, fn, &status);
		_exit(pid < 0 ? NO_PIDNS : status);
	}
	return wait_child(helper);
}

static int ns_child_sends(int fd)
{
	/* pid 1 of the new namespace */
	if (getpid() != 1)
		return 10;
	return mb_send_str(fd, "from ns") ? 11 : 0;
}

TEST_F(creds, sender_in_child_pidns_is_seen_by_its_outer_pid)
{
	struct ipcbox_msg_info info;
	char buf[64];
	int status;
	pid_t pid, helper;
	int pfd[2];

	/* unshare in a helper so this test process keeps its namespace */
	ASSERT_EQ(0, pipe(pfd));
	helper = fork();
	ASSERT_GE(helper, 0);
	if (helper == 0) {
		pid = fork_in_new_pidns(self->fd, ns_child_sends, &status);
		if (write(pfd[1], &pid, sizeof(pid)) != sizeof(pid))
			_exit(3);
		_exit(pid < 0 ? 1 : status);
	}
	ASSERT_EQ(sizeof(pid), read(pfd[0], &pid, sizeof(pid)));
	close(pfd[0]);
	close(pfd[1]);
	status = wait_child(helper);
	if (pid < 0)
		SKIP(return, "unshare(CLONE_NEWPID) failed");
	ASSERT_EQ(0, status);
	ASSERT_EQ(7, mb_recv_full(self->fd, buf, sizeof(buf), 0, 0, 0, 0, &info));
	EXPECT_EQ(pid, info.sender_tgid);
	EXPECT_EQ(pid, info.sender_tid);
}

static int ns_child_receives(int fd)
{
	struct ipcbox_msg_info info;
	char buf[64];

	if (mb_recv_full(fd, buf, sizeof(buf), 0, 5 * NSEC_PER_SEC, 0, 0, &info) != 6)
		return 20;
	if (info.sender_tgid != 0)
		return 21;
	if (info.sender_tid != 0)
		return 22;
	if (info.sender_uid != 0)
		return 23;
	return 0;
}

TEST_F(creds, receiver_in_child_pidns_sees_invisible_sender_as_zero)
{
	int status;

	ASSERT_EQ(0, mb_send_str(self->fd, "parent"));
	status = in_new_pidns(self->fd, ns_child_receives);
	if (status == NO_PIDNS)
		SKIP(return, "unshare(CLONE_NEWPID) failed");
	EXPECT_EQ(0, status) TH_LOG("child check %d failed", status);
}

static int ns_child_filters_on_own_pid(int fd)
{
	struct ipcbox_msg_info info;
	char buf[64];

	if (mb_send_str(fd, "self"))
		return 30;
	/* the parent's message queued first is invisible; ours has pid 1 */
	if (mb_recv_full(fd, buf, sizeof(buf), IPCBOX_RECV_FILTER_PID, 0, 1, 0, &info) != 4)
		return 31;
	if (info.sender_tgid != 1)
		return 32;
	return 0;
}

TEST_F(creds, filter_pid_uses_the_receivers_namespace)
{
	int status;

	ASSERT_EQ(0, mb_send_str(self->fd, "outer"));
	status = in_new_pidns(self->fd, ns_child_filters_on_own_pid);
	if (status == NO_PIDNS)
		SKIP(return, "unshare(CLONE_NEWPID) failed");
	EXPECT_EQ(0, status) TH_LOG("child check %d failed", status);
	EXPECT_EQ(1, mb_depth(self->fd));
}

static int user_sends(void *arg)
{
	int fd = *(int *)arg;

	return mb_send_str(fd, "user") ? 1 : 0;
}

TEST_F(creds, sender_uid_and_gid_are_reported)
{
	struct ipcbox_msg_info info;
	char buf[64];

	ASSERT_EQ(0, run_as_user(user_sends, &self->fd));
	ASSERT_EQ(4, mb_recv_full(self->fd, buf, sizeof(buf), 0, 0, 0, 0, &info));
	EXPECT_EQ(TEST_UID, info.sender_uid);
	EXPECT_EQ(TEST_GID, info.sender_gid);
	ASSERT_EQ(0, mb_send_str(self->fd, "root"));
	ASSERT_EQ(4, mb_recv_full(self->fd, buf, sizeof(buf), 0, 0, 0, 0, &info));
	EXPECT_EQ(0, info.sender_uid);
	EXPECT_EQ(0, info.sender_gid);
}

TEST_F(creds, sender_effective_uid_is_reported)
{
	struct ipcbox_msg_info info;
	char buf[64];
	pid_t pid = fork();

	ASSERT_GE(pid, 0);
	if (pid == 0) {
		/* real root, effective TEST_UID */
		if (setresgid(0, TEST_GID, 0) || setresuid(0, TEST_UID, 0))
			_exit(1);
		_exit(mb_send_str(self->fd, "e") ? 2 : 0);
	}
	ASSERT_EQ(0, wait_child(pid));
	ASSERT_EQ(1, mb_recv_full(self->fd, buf, sizeof(buf), 0, 0, 0, 0, &info));
	EXPECT_EQ(TEST_UID, info.sender_uid);
	EXPECT_EQ(TEST_GID, info.sender_gid);
}

static int user_receives(void *arg)
{
	struct ipcbox_msg_info info;
	char buf[64];
	int fd = *(int *)arg;

	if (mb_recv_full(fd, buf, sizeof(buf), 0, 0, 0, 0, &info) != 4)
		return 1;
	if (info.sender_uid != 0 || info.sender_gid != 0)
		return 2;
	if (info.sender_tgid <= 0)
		return 3;
	return 0;
}

TEST_F(creds, unprivileged_receiver_sees_root_sender)
{
	ASSERT_EQ(0, mb_send_str(self->fd, "root"));
	EXPECT_EQ(0, run_as_user(user_receives, &self->fd));
}

TEST_HARNESS_MAIN
