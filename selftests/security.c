// SPDX-License-Identifier: GPL-2.0
/*
 * Security properties: node modes per access mode and for groups, who may
 * unlink or shut down (also from a user namespace), what sysfs shows to
 * whom, per-user and per-mailbox quotas under concurrent processes, memory
 * cgroup limits on queued messages, no stray kernel bytes in anything
 * written back to user space, and sender pids and ids translated across
 * pid and user namespaces, never chosen by the sender.
 */
#include "ipcbox_test.h"

#include <assert.h>
#include <dirent.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <linux/magic.h>

#include "kselftest_harness.h"

/* A second unprivileged user, for group and cross-user checks. */
#define OTHER_UID	1001
#define OTHER_GID	1001

#define POISON		0xa5
#define POISON_U32	0xa5a5a5a5U

#define CGROUP_ROOT	"/sys/fs/cgroup"

/* The module parameters tests here lower or raise, restored in teardown. */
static const char * const params[] = {
	"max_per_user", "max_unbounded_bytes",
};
#define NR_PARAMS	(sizeof(params) / sizeof(params[0]))

FIXTURE(security) {
	int ctl;
	int fd;
	char name[IPCBOX_NAME_MAX];
	unsigned long long saved[NR_PARAMS];
	bool have_saved;
	char cgroup[128];
	bool mounted_cgroup;
	char alias[128];	/* a node made with mknod, removed after */
};

FIXTURE_SETUP(security)
{
	int i;

	self->fd = -1;
	self->name[0] = '\0';
	self->cgroup[0] = '\0';
	self->alias[0] = '\0';
	self->mounted_cgroup = false;
	self->have_saved = false;
	CTL_OPEN_OR_SKIP(self->ctl);
	i = params_save(params, NR_PARAMS, self->saved);
	ASSERT_EQ(-1, i) TH_LOG("cannot read %s", params[i]);
	self->have_saved = true;
	test_name(self->name, sizeof(self->name), "sec");
}

FIXTURE_TEARDOWN(security)
{
	int i;

	close_fd(&self->fd);
	if (self->alias[0] && unlink(self->alias))
		TH_LOG("unlink %s: %m", self->alias);
	if (self->ctl >= 0 && self->name[0])
		mb_unlink(self->ctl, self->name);
	i = self->have_saved ? params_restore(params, NR_PARAMS, self->saved) : -1;
	if (i >= 0)
		TH_LOG("could not restore %s", params[i]);
	if (self->cgroup[0] && rmdir(self->cgroup))
		TH_LOG("rmdir %s: %m", self->cgroup);
	if (self->mounted_cgroup)
		umount(CGROUP_ROOT);
	close_fd(&self->ctl);
}

static bool set_ids(uid_t uid, gid_t gid)
{
	return !setgroups(0, NULL) && !setresgid(gid, gid, gid) &&
	       !setresuid(uid, uid, uid);
}

/* Run fn(arg) in a child with these ids; its exit status, 255 on failure. */
static int run_as(uid_t uid, gid_t gid, int (*fn)(void *), void *arg)
{
	pid_t pid = fork();

	if (pid < 0)
		return 255;
	if (pid == 0)
		_exit(set_ids(uid, gid) ? fn(arg) & 0xff : 254);
	return wait_child(pid);
}

static int write_proc_map(pid_t pid, const char *file, unsigned int outer)
{
	char path[64], map[64];

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
	snprintf(map, sizeof(map), "0 %u 1\n", outer);
	return write_file_str(path, map);
}

/*
 * Run fn(arg) in a child that is root of a new user namespace in which
 * uid and gid 0 are outer_uid and outer_gid, and nothing else is mapped.
 * Returns its exit status; 99 when user namespaces are not available.
 */
static int run_in_userns(uid_t outer_uid, gid_t outer_gid,
			 int (*fn)(void *), void *arg)
{
	int ready[2], go[2];
	char c = 0;
	pid_t pid;

	if (pipe(ready) || pipe(go))
		return 255;
	pid = fork();
	if (pid < 0)
		return 255;
	if (pid == 0) {
		close(ready[0]);
		close(go[1]);
		if (unshare(CLONE_NEWUSER))
			_exit(99);
		if (write(ready[1], &c, 1) != 1)
			_exit(98);
		if (read(go[0], &c, 1) != 1 || c != 1)
			_exit(97);
		/* become uid 0 of the namespace, i.e. outer_uid outside */
		if (!set_ids(0, 0))
			_exit(96);
		_exit(fn(arg) & 0xff);
	}
	close(ready[1]);
	close(go[0]);
	if (read(ready[0], &c, 1) == 1) {
		c = !write_proc_map(pid, "uid_map", outer_uid) &&
		    !write_proc_map(pid, "gid_map", outer_gid);
		if (write(go[1], &c, 1) != 1)
			kill(pid, SIGKILL);
	}
	close(ready[0]);
	close(go[1]);
	return wait_child(pid);
}

static unsigned int overflow_id(const char *which)
{
	char path[64];
	unsigned long long v;

	snprintf(path, sizeof(path), "/proc/sys/kernel/%s", which);
	return read_file_u64(path, &v) ? 65534 : (unsigned int)v;
}

static void *shared_alloc(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	memset(p, 0, size);	/* allocated here, not by whoever writes first */
	return p;
}

/* ---- node modes, unlink and shutdown ---------------------------------- */

/* try_opens_path() on /dev/ipcbox/NAME */
static int try_opens(void *arg)
{
	char path[128];

	dev_path(path, sizeof(path), arg);
	return try_opens_path(path);
}

TEST_F(security, other_users_get_exactly_the_other_mode_bits)
{
	static const struct { mode_t mode; int opens; } cases[] = {
		{ 0600, 0 }, { 0604, 1 }, { 0602, 2 }, { 0606, 7 },
		{ 0660, 0 }, { 0640, 0 },
	};
	mode_t old = umask(0);
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		close_fd(&self->fd);
		mb_unlink(self->ctl, self->name);
		self->fd = mb_create(self->ctl, self->name, 2, 64, cases[i].mode, 0);
		ASSERT_GE(self->fd, 0);
		/* root's group is 0: TEST_UID is "other" */
		EXPECT_EQ(cases[i].opens, run_as(TEST_UID, TEST_GID, try_opens, self->name))
			TH_LOG("mode %04o", cases[i].mode);
	}
	umask(old);
}

static int user_makes_group_mailbox(void *arg)
{
	int ctl = ctl_open(), fd;

	if (ctl < 0)
		return 200;
	umask(0);
	fd = mb_create(ctl, arg, 2, 64, 0640, 0);
	return fd < 0 ? -fd : 0;
}

TEST_F(security, group_members_get_exactly_the_group_mode_bits)
{
	ASSERT_EQ(0, run_as(TEST_UID, TEST_GID, user_makes_group_mailbox, self->name));
	/* same group: read only; neither owner nor group: nothing */
	EXPECT_EQ(1, run_as(OTHER_UID, TEST_GID, try_opens, self->name));
	EXPECT_EQ(0, run_as(OTHER_UID, OTHER_GID, try_opens, self->name));
	/* the owner: read and write */
	EXPECT_EQ(7, run_as(TEST_UID, OTHER_GID, try_opens, self->name));
}

/* An O_RDONLY fd of a 0604 mailbox: receive yes, send and shutdown no. */
static int reader_cannot_write(void *arg)
{
	int fd = mb_open(arg, O_RDONLY);
	char buf[16];

	if (fd < 0)
		return 1;
	if (mb_send_str(fd, "x") != -EBADF)
		return 2;
	if (write(fd, "x", 1) != -1 || errno != EBADF)
		return 3;
	if (mb_shutdown(fd) != -EPERM)
		return 4;
	if (mb_recv(fd, buf, sizeof(buf), 0, 0) != 5)
		return 5;
	return 0;
}

TEST_F(security, read_only_access_does_not_allow_sending_or_shutdown)
{
	struct ipcbox_stat st;
	mode_t old = umask(0);

	self->fd = mb_create(self->ctl, self->name, 2, 64, 0604, 0);
	umask(old);
	ASSERT_GE(self->fd, 0);
	ASSERT_EQ(0, mb_send_str(self->fd, "hello"));
	EXPECT_EQ(0, run_as(TEST_UID, TEST_GID, reader_cannot_write, self->name));
	ASSERT_EQ(0, mb_stat(self->fd, &st));
	EXPECT_EQ(0, st.flags & IPCBOX_STAT_SHUTDOWN);
	EXPECT_EQ(1, st.sent);
}

/* Unlink and shutdown as root of a user namespace that maps to TEST_UID. */
static int ns_root_tries_unlink_and_shutdown(void *arg)
{
	int ctl, fd, ret;

	ctl = ctl_open();
	if (ctl < 0)
		return 200;
	fd = mb_open(arg, O_RDWR);
	if (fd < 0)
		return 201;
	ret = mb_unlink(ctl, arg);
	if (ret != -EPERM)
		return 10;
	ret = mb_shutdown(fd);
	if (ret != -EPERM)
		return 11;
	/* the mailbox is still usable */
	if (mb_send_str(fd, "ns"))
		return 12;
	return 0;
}

TEST_F(security, root_of_a_user_namespace_cannot_unlink_or_shut_down)
{
	struct ipcbox_stat st;
	char buf[16];
	mode_t old = umask(0);
	int ret;

	self->fd = mb_create(self->ctl, self->name, 2, 64, 0666, 0);
	umask(old);
	ASSERT_GE(self->fd, 0);
	ret = run_in_userns(TEST_UID, TEST_GID, ns_root_tries_unlink_and_shutdown,
			    self->name);
	if (ret == 99)
		SKIP(return, "unshare(CLONE_NEWUSER) failed");
	EXPECT_EQ(0, ret);
	ASSERT_EQ(0, mb_stat(self->fd, &st));
	EXPECT_EQ(0, st.flags & (IPCBOX_STAT_SHUTDOWN | IPCBOX_STAT_UNLINKED));
	EXPECT_EQ(2, mb_recv(self->fd, buf, sizeof(buf), 0, 0));
}

TEST_F(security, root_may_unlink_and_shut_down_a_users_mailbox)
{
	char path[128];
	int fd;

	ASSERT_EQ(0, run_as(TEST_UID, TEST_GID, create_named_0600, self->name));
	dev_path(path, sizeof(path), self->name);
	/* CAP_DAC_OVERRIDE opens it, CAP_IPC_OWNER shuts it down */
	fd = open(path, O_RDWR);
	ASSERT_GE(fd, 0) TH_LOG("open %s: %m", path);
	EXPECT_EQ(0, mb_shutdown(fd));
	EXPECT_EQ(-EPIPE, mb_send_str(fd, "x"));
	close(fd);
	/* another unprivileged user may not unlink it, root may */
	EXPECT_EQ(EPERM, run_as(OTHER_UID, OTHER_GID, unlink_named, self->name));
	EXPECT_TRUE(path_exists(path));
	EXPECT_EQ(0, mb_unlink(self->ctl, self->name));
	EXPECT_FALSE(path_exists(path));
	self->name[0] = '\0';
}

/* ---- nodes made with mknod --------------------------------------------- */

/*
 * Make @alias, a second node of the named mailbox with the same device
 * number and mode 0666, as whoever may mknod (root of a container, say)
 * can make anywhere. Returns 0 or -errno.
 */
static int mknod_alias(const char *name, const char *alias)
{
	char path[128];
	struct stat st;
	mode_t old;
	int ret;

	dev_path(path, sizeof(path), name);
	if (stat(path, &st))
		return -errno;
	old = umask(0);
	ret = mknod(alias, S_IFCHR | 0666, st.st_rdev) ? -errno : 0;
	umask(old);
	return ret;
}

/* The alias of self->name in /tmp, removed by the teardown; 0 or -errno. */
static int make_alias(FIXTURE_DATA(security) *self)
{
	int ret;

	snprintf(self->alias, sizeof(self->alias), "/tmp/kst-alias-%d", getpid());
	ret = mknod_alias(self->name, self->alias);
	if (ret)
		self->alias[0] = '\0';
	return ret;
}

/* Root opens the alias and sends through it: it is the mailbox's node. */
static void expect_root_opens_alias(struct __test_metadata *_metadata,
				    FIXTURE_DATA(security) *self, int rfd)
{
	char buf[16];
	int fd;

	fd = open(self->alias, O_RDWR | O_CLOEXEC);
	ASSERT_GE(fd, 0) TH_LOG("root: open %s: %m", self->alias);
	EXPECT_EQ(0, mb_send_str(fd, "alias"));
	close(fd);
	EXPECT_EQ(5, mb_recv(rfd, buf, sizeof(buf), 0, 0));
}

/*
 * The permissions are the mailbox's own (owner, group, mode), whatever
 * node it is opened through: a 0666 node made with mknod must not let
 * another user into a 0600 mailbox.
 */
TEST_F(security, mknod_node_does_not_bypass_the_mailbox_mode)
{
	mode_t old = umask(0);

	self->fd = mb_create(self->ctl, self->name, 2, 64, 0600, 0);
	umask(old);
	ASSERT_GE(self->fd, 0);
	ASSERT_EQ(0, make_alias(self));
	/* refused through its own node, so through the alias too */
	ASSERT_EQ(0, run_as(TEST_UID, TEST_GID, try_opens, self->name));
	EXPECT_EQ(0, run_as(TEST_UID, TEST_GID, try_opens_path, self->alias))
		TH_LOG("bits: 1 O_RDONLY, 2 O_WRONLY, 4 O_RDWR opened, 64 not EACCES");
	expect_root_opens_alias(_metadata, self, self->fd);
}

/* Root, with TEST_GID as its group, makes a 0660 mailbox of that group. */
static int root_makes_group_mailbox(void *arg)
{
	int ctl = ctl_open(), fd;

	if (ctl < 0)
		return 200;
	umask(0);
	fd = mb_create(ctl, arg, 2, 64, 0660, 0);
	return fd < 0 ? -fd : 0;
}

TEST_F(security, mknod_node_gives_exactly_the_mailbox_group_access)
{
	char path[128];
	struct stat st;

	ASSERT_EQ(0, run_as(0, TEST_GID, root_makes_group_mailbox, self->name));
	dev_path(path, sizeof(path), self->name);
	ASSERT_EQ(0, stat(path, &st)) TH_LOG("%s: %m", path);
	ASSERT_EQ(TEST_GID, st.st_gid);
	ASSERT_EQ(0660, st.st_mode & 07777);
	ASSERT_EQ(0, make_alias(self));
	/* a member of the group: every access mode */
	EXPECT_EQ(7, run_as(TEST_UID, TEST_GID, try_opens_path, self->alias));
	/* neither the owner nor in the group: none, 0666 node or not */
	EXPECT_EQ(0, run_as(OTHER_UID, OTHER_GID, try_opens_path, self->alias));
	self->fd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_GE(self->fd, 0);
	expect_root_opens_alias(_metadata, self, self->fd);
}

/* ---- sysfs ------------------------------------------------------------- */

/* The attributes docs/uapi.md lists: all 0444, none restricted. */
static const char * const sysfs_attrs[] = {
	"capacity", "msg_size_max", "depth", "bytes", "waiting_senders",
	"waiting_receivers", "sent", "received", "timeouts", "cached",
	"owner", "mode", "state",
};
#define NR_SYSFS_ATTRS	(sizeof(sysfs_attrs) / sizeof(sysfs_attrs[0]))

/* What the driver core adds to every class device. */
static const char * const sysfs_core[] = {
	"dev", "uevent", "subsystem", "power",
};

static bool in_list(const char *s, const char * const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(s, list[i]))
			return true;
	return false;
}

TEST_F(security, sysfs_has_only_documented_read_only_attributes)
{
	char dir[128], path[512];
	struct dirent *de;
	struct stat st;
	unsigned int found = 0;
	DIR *d;

	self->fd = mb_create(self->ctl, self->name, 2, 64, 0600, 0);
	ASSERT_GE(self->fd, 0);
	sysfs_dir(dir, sizeof(dir), self->name);
	d = opendir(dir);
	ASSERT_NE(NULL, d) TH_LOG("%s: %m", dir);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		ASSERT_EQ(0, lstat(path, &st)) TH_LOG("%s: %m", path);
		if (in_list(de->d_name, sysfs_attrs, NR_SYSFS_ATTRS)) {
			found++;
			EXPECT_TRUE(S_ISREG(st.st_mode)) TH_LOG("%s", path);
			EXPECT_EQ(0444, st.st_mode & 07777) TH_LOG("%s", path);
			EXPECT_EQ(0, st.st_uid) TH_LOG("%s", path);
			continue;
		}
		EXPECT_TRUE(in_list(de->d_name, sysfs_core, 4))
			TH_LOG("undocumented entry %s", path);
		/* nothing writable by anybody but root */
		if (!S_ISLNK(st.st_mode))
			EXPECT_EQ(0, st.st_mode & 022) TH_LOG("%s", path);
	}
	closedir(d);
	EXPECT_EQ(NR_SYSFS_ATTRS, found);
}

struct sysfs_read {
	char name[IPCBOX_NAME_MAX];
	char values[NR_SYSFS_ATTRS][64];
};

/*
 * 0, or 1 + i when attribute i is unreadable or reads differently,
 * 50 + i when it opens for writing, 100 when uevent takes a write.
 */
static int user_reads_sysfs(void *arg)
{
	struct sysfs_read *r = arg;
	char buf[64], path[256];
	unsigned int i;
	int fd;

	for (i = 0; i < NR_SYSFS_ATTRS; i++) {
		if (sysfs_attr_str(r->name, sysfs_attrs[i], buf, sizeof(buf)) <= 0 ||
		    strcmp(buf, r->values[i]))
			return 1 + i;
		snprintf(path, sizeof(path), SYSFS_CLASS "/%s/%s", r->name,
			 sysfs_attrs[i]);
		fd = open(path, O_WRONLY);
		if (fd >= 0 || errno != EACCES)
			return 50 + i;
	}
	snprintf(path, sizeof(path), SYSFS_CLASS "/%s/uevent", r->name);
	if (write_file_str(path, "add") != -EACCES)
		return 100;
	return 0;
}

TEST_F(security, other_user_reads_the_same_counters_and_writes_none)
{
	struct sysfs_read r;
	char path[256];
	unsigned int i;
	int fd;

	self->fd = mb_create(self->ctl, self->name, 4, 64, 0600, 0);
	ASSERT_GE(self->fd, 0);
	ASSERT_EQ(0, mb_send_str(self->fd, "counted, never shown"));
	copy_name(r.name, self->name);
	for (i = 0; i < NR_SYSFS_ATTRS; i++)
		ASSERT_LT(0, sysfs_attr_str(self->name, sysfs_attrs[i], r.values[i],
					    sizeof(r.values[i])))
			TH_LOG("attribute #%u", i);
	/* the payload never shows, only its size */
	for (i = 0; i < NR_SYSFS_ATTRS; i++)
		EXPECT_EQ(NULL, strstr(r.values[i], "counted"));
	EXPECT_EQ(0, strcmp(r.values[3], "20")) TH_LOG("bytes reads %s", r.values[3]);
	EXPECT_EQ(0, run_as(TEST_UID, TEST_GID, user_reads_sysfs, &r));
	/* read-only even for root */
	for (i = 0; i < NR_SYSFS_ATTRS; i++) {
		snprintf(path, sizeof(path), SYSFS_CLASS "/%s/%s", self->name,
			 sysfs_attrs[i]);
		fd = open(path, O_WRONLY);
		EXPECT_EQ(-1, fd) TH_LOG("%s opened for writing", path);
		if (fd >= 0)
			close(fd);
	}
}

/* ---- quotas under many concurrent processes ---------------------------- */

#define STORM_CHILDREN	24	/* half TEST_UID, half OTHER_UID */
#define STORM_TRIES	3	/* creates per child */
#define STORM_QUOTA	6	/* max_per_user during the storm */

struct storm_result {
	int created;
	int edquot;
	int other;		/* any other outcome: a failure */
	int other_err;
	int broken;		/* a created mailbox that did not work */
	int named;
};

struct storm {
	int done;		/* children that reported */
	pid_t parent;
	struct storm_result r[STORM_CHILDREN];
};

static uid_t storm_uid(int i)
{
	return i % 2 ? OTHER_UID : TEST_UID;
}

static void storm_name(char *buf, size_t sz, pid_t parent, int i, int k)
{
	snprintf(buf, sz, "kst-storm-%d-%d-%d", parent, i, k);
}

static int storm_child(struct storm *sh, int i, int start, int release)
{
	struct storm_result *r = &sh->r[i];
	int fds[STORM_TRIES], k, ctl, fd;
	struct ipcbox_stat st;
	char name[IPCBOX_NAME_MAX], buf[16], msg[16];

	if (!set_ids(storm_uid(i), storm_uid(i)))
		return 1;
	ctl = ctl_open();
	if (ctl < 0)
		return 2;
	/* all together: read returns 0 once the parent closes its end */
	if (read(start, buf, 1) != 0)
		return 3;
	for (k = 0; k < STORM_TRIES; k++) {
		storm_name(name, sizeof(name), sh->parent, i, k);
		fd = k % 2 ? mb_anon(ctl, 4, 16) : mb_create(ctl, name, 4, 16, 0600, 0);
		fds[k] = fd;
		if (fd >= 0) {
			r->created++;
			r->named += !(k % 2);
		} else if (fd == -EDQUOT) {
			r->edquot++;
		} else {
			r->other++;
			r->other_err = -fd;
		}
	}
	/* what was accepted works and belongs to us */
	for (k = 0; k < STORM_TRIES; k++) {
		if (fds[k] < 0)
			continue;
		snprintf(msg, sizeof(msg), "%d.%d", i, k);
		if (mb_send_str(fds[k], msg) ||
		    mb_recv(fds[k], buf, sizeof(buf), 0, 0) != (int)strlen(msg) ||
		    memcmp(buf, msg, strlen(msg)) || mb_stat(fds[k], &st) ||
		    st.uid != storm_uid(i))
			r->broken++;
	}
	__atomic_add_fetch(&sh->done, 1, __ATOMIC_SEQ_CST);
	/* hold everything until the parent has counted */
	if (read(release, buf, 1) != 0)
		return 4;
	for (k = 0; k < STORM_TRIES; k += 2) {
		if (fds[k] < 0)
			continue;
		storm_name(name, sizeof(name), sh->parent, i, k);
		if (mb_unlink(ctl, name))
			return 5;
	}
	return 0;
}

static int user_fills_quota_again(void *arg)
{
	int ctl = ctl_open(), i, fd;

	if (ctl < 0)
		return 200;
	for (i = 0; i < STORM_QUOTA; i++)
		if (mb_anon(ctl, 1, 16) < 0)
			return 1 + i;
	fd = mb_anon(ctl, 1, 16);
	return fd == -EDQUOT ? 0 : 100;
}

TEST_F_TIMEOUT(security, per_user_quota_holds_under_a_fork_storm, 300)
{
	int created[2] = { 0, 0 }, edquot[2] = { 0, 0 }, named = 0;
	int start[2], release[2], i, k, status;
	pid_t pids[STORM_CHILDREN];
	struct ipcbox_info info;
	unsigned int base;
	struct storm *sh;
	char name[IPCBOX_NAME_MAX], path[128];
	int64_t t0, end;

	sh = shared_alloc(sizeof(*sh));
	ASSERT_NE(NULL, sh);
	sh->parent = getpid();
	ASSERT_EQ(0, ipcbox_get_info(self->ctl, &info));
	base = info.nr_mailboxes;
	ASSERT_EQ(0, param_set("max_per_user", STORM_QUOTA));
	ASSERT_EQ(0, pipe(start));
	ASSERT_EQ(0, pipe(release));
	for (i = 0; i < STORM_CHILDREN; i++) {
		pids[i] = fork();
		ASSERT_GE(pids[i], 0);
		if (pids[i] == 0) {
			close(start[1]);
			close(release[1]);
			_exit(storm_child(sh, i, start[0], release[0]));
		}
	}
	close(start[0]);
	close(release[0]);
	t0 = now_ns();
	close(start[1]);
	end = now_ns() + 120 * NSEC_PER_SEC;
	while (__atomic_load_n(&sh->done, __ATOMIC_SEQ_CST) < STORM_CHILDREN &&
	       now_ns() < end)
		sleep_ms(5);
	TH_LOG("%d processes, %d creates each: all answered in %lld ms",
	       STORM_CHILDREN, STORM_TRIES, (long long)(now_ns() - t0) / NSEC_PER_MSEC);
	EXPECT_EQ(STORM_CHILDREN, sh->done);

	for (i = 0; i < STORM_CHILDREN; i++) {
		created[i % 2] += sh->r[i].created;
		edquot[i % 2] += sh->r[i].edquot;
		named += sh->r[i].named;
		EXPECT_EQ(0, sh->r[i].other) TH_LOG("child %d: %s", i,
						    strerror(sh->r[i].other_err));
		EXPECT_EQ(0, sh->r[i].broken) TH_LOG("child %d", i);
	}
	/* each user got exactly its quota, everything else was EDQUOT */
	for (k = 0; k < 2; k++) {
		EXPECT_EQ(STORM_QUOTA, created[k]) TH_LOG("uid %u", storm_uid(k));
		EXPECT_EQ(STORM_CHILDREN / 2 * STORM_TRIES - STORM_QUOTA, edquot[k]);
	}
	ASSERT_EQ(0, ipcbox_get_info(self->ctl, &info));
	EXPECT_EQ(base + 2 * STORM_QUOTA, info.nr_mailboxes);
	/* refused names left nothing behind, accepted ones are there */
	for (i = 0; i < STORM_CHILDREN; i++)
		for (k = 0; k < STORM_TRIES; k += 2) {
			storm_name(name, sizeof(name), getpid(), i, k);
			dev_path(path, sizeof(path), name);
			named -= path_exists(path);
		}
	EXPECT_EQ(0, named);

	close(release[1]);
	for (i = 0; i < STORM_CHILDREN; i++) {
		status = wait_child(pids[i]);
		EXPECT_EQ(0, status) TH_LOG("child %d exited with %d", i, status);
	}
	munmap(sh, sizeof(*sh));
	/* every mailbox and every quota unit came back */
	ASSERT_EQ(0, ipcbox_get_info(self->ctl, &info));
	EXPECT_EQ(base, info.nr_mailboxes);
	EXPECT_EQ(0, run_as(TEST_UID, TEST_GID, user_fills_quota_again, NULL));
	EXPECT_EQ(0, run_as(OTHER_UID, OTHER_GID, user_fills_quota_again, NULL));
}

/*
 * The per-user limit in user namespaces: a user who maps a range of ids
 * into a namespace of its own (as newuidmap does with subordinate ids)
 * must not get a fresh quota for every id it maps. What is made in the
 * namespace counts against the namespace's owner.
 */
#define NS_QUOTA	4
#define NS_MAP		"0 100000 10"

struct ns_quota {
	int created[2];		/* as uid 0 and as uid 1 of the namespace */
	int err;		/* how the first refused create failed */
};

static int write_map(pid_t pid, const char *file, const char *map)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
	return write_file_str(path, map);
}

static int ns_quota_child(struct ns_quota *q, int ready, int go)
{
	int ctl, i, fd;
	char c = 0;

	if (!set_ids(TEST_UID, TEST_GID))
		return 1;
	if (unshare(CLONE_NEWUSER))
		return 99;
	if (write(ready, &c, 1) != 1)
		return 2;
	if (read(go, &c, 1) != 1 || c != 1)
		return 3;
	/* ids 0 of the namespace, 100000 outside */
	if (setresgid(0, 0, 0) || setresuid(0, 0, 0))
		return 4;
	ctl = ctl_open();
	if (ctl < 0)
		return 5;
	/* every mailbox stays open until the child exits */
	for (i = 0; i < NS_QUOTA - 1; i++) {
		fd = mb_anon(ctl, 1, 16);
		if (fd < 0) {
			q->err = -fd;
			return 0;
		}
		q->created[0]++;
	}
	/* another id of the same namespace, 100001 outside */
	if (setresuid(1, 1, 1))
		return 6;
	for (i = 0; i < NS_QUOTA + 2; i++) {
		fd = mb_anon(ctl, 1, 16);
		if (fd < 0) {
			q->err = -fd;
			return 0;
		}
		q->created[1]++;
	}
	return 0;
}

TEST_F(security, user_namespace_ids_count_against_the_namespace_owner)
{
	int ready[2], go[2], status, ret;
	struct ns_quota *q;
	char c = 0;
	pid_t pid;

	q = shared_alloc(sizeof(*q));
	ASSERT_NE(NULL, q);
	ASSERT_EQ(0, param_set("max_per_user", NS_QUOTA));
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		close(ready[0]);
		close(go[1]);
		_exit(ns_quota_child(q, ready[1], go[0]));
	}
	close(ready[1]);
	close(go[0]);
	if (read(ready[0], &c, 1) == 1) {
		/* root writes the maps, as newuidmap and newgidmap would */
		ret = write_map(pid, "uid_map", NS_MAP);
		if (ret)
			TH_LOG("uid_map: %s", strerror(-ret));
		c = !ret;
		ret = c ? write_map(pid, "gid_map", NS_MAP) : 0;
		if (ret) {
			/* only an unprivileged writer should need this */
			TH_LOG("gid_map: %s, again after setgroups deny", strerror(-ret));
			c = !write_map(pid, "setgroups", "deny") &&
			    !write_map(pid, "gid_map", NS_MAP);
		}
		if (write(go[1], &c, 1) != 1)
			kill(pid, SIGKILL);
	}
	close(ready[0]);
	close(go[1]);
	status = wait_child(pid);
	if (status == 99)
		SKIP(return, "unshare(CLONE_NEWUSER) failed");
	ASSERT_EQ(0, status) TH_LOG("the child failed at step %d", status);
	TH_LOG("max_per_user %d: %d made as uid 0, %d as uid 1 of the namespace, then %s",
	       NS_QUOTA, q->created[0], q->created[1],
	       q->err ? strerror(q->err) : "no refusal");
	EXPECT_EQ(NS_QUOTA - 1, q->created[0]);
	EXPECT_LE(q->created[0] + q->created[1], NS_QUOTA);
	EXPECT_EQ(EDQUOT, q->err);
	munmap(q, sizeof(*q));
}

#define FLOOD_CHILDREN	8
#define FLOOD_CAP	32768	/* max_unbounded_bytes during the flood */
#define FLOOD_MSZ	512

struct flood_hdr {
	uint32_t child;
	uint32_t seq;
	uint32_t len;
	uint32_t sum;
};

struct flood {
	int sent[FLOOD_CHILDREN];
	uint64_t bytes[FLOOD_CHILDREN];
	int fail_len[FLOOD_CHILDREN];
	int err[FLOOD_CHILDREN];
};

static uint32_t flood_len(uint32_t child, uint32_t seq)
{
	return sizeof(struct flood_hdr) + (seq * 37 + child * 11) % 400;
}

static uint32_t flood_sum(const unsigned char *p, size_t n)
{
	uint32_t s = 2166136261U;

	while (n--)
		s = (s ^ *p++) * 16777619U;
	return s;
}

static void flood_fill(unsigned char *buf, uint32_t child, uint32_t seq)
{
	struct flood_hdr h = { child, seq, flood_len(child, seq), 0 };
	uint32_t i;

	for (i = sizeof(h); i < h.len; i++)
		buf[i] = (unsigned char)(child * 131 + seq * 7 + i);
	h.sum = flood_sum(buf + sizeof(h), h.len - sizeof(h));
	memcpy(buf, &h, sizeof(h));
}

static int flood_child(struct flood *sh, int fd, int i, int start)
{
	unsigned char buf[FLOOD_MSZ];
	uint32_t seq;
	int ret;

	if (!set_ids(TEST_UID, TEST_GID))
		return 1;
	if (read(start, buf, 1) != 0)
		return 2;
	for (seq = 0;; seq++) {
		flood_fill(buf, i, seq);
		ret = mb_send(fd, buf, flood_len(i, seq), 0, -1);
		if (ret) {
			sh->err[i] = -ret;
			sh->fail_len[i] = flood_len(i, seq);
			return 0;
		}
		sh->sent[i]++;
		sh->bytes[i] += flood_len(i, seq);
	}
}

TEST_F_TIMEOUT(security, unbounded_byte_cap_holds_under_concurrent_senders, 300)
{
	uint32_t next[FLOOD_CHILDREN] = { 0 };
	unsigned char buf[FLOOD_MSZ];
	struct ipcbox_msg_info info;
	struct ipcbox_stat st;
	struct flood_hdr h;
	int start[2], i, n, total = 0, bad = 0;
	pid_t pids[FLOOD_CHILDREN];
	uint64_t bytes = 0;
	struct flood *sh;

	sh = shared_alloc(sizeof(*sh));
	ASSERT_NE(NULL, sh);
	ASSERT_EQ(0, param_set("max_unbounded_bytes", FLOOD_CAP));
	self->fd = mb_anon(self->ctl, IPCBOX_CAPACITY_UNBOUNDED, FLOOD_MSZ);
	ASSERT_GE(self->fd, 0);
	ASSERT_EQ(0, pipe(start));
	for (i = 0; i < FLOOD_CHILDREN; i++) {
		pids[i] = fork();
		ASSERT_GE(pids[i], 0);
		if (pids[i] == 0) {
			close(start[1]);
			_exit(flood_child(sh, self->fd, i, start[0]));
		}
	}
	close(start[0]);
	close(start[1]);
	for (i = 0; i < FLOOD_CHILDREN; i++)
		EXPECT_EQ(0, wait_child(pids[i])) TH_LOG("child %d", i);
	for (i = 0; i < FLOOD_CHILDREN; i++) {
		total += sh->sent[i];
		bytes += sh->bytes[i];
		/* the excess is ENOBUFS and nothing else */
		EXPECT_EQ(ENOBUFS, sh->err[i]) TH_LOG("child %d: %s", i, strerror(sh->err[i]));
	}
	ASSERT_EQ(0, mb_stat(self->fd, &st));
	TH_LOG("%d senders: %d messages, %llu bytes accepted of %d",
	       FLOOD_CHILDREN, total, (unsigned long long)bytes, FLOOD_CAP);
	EXPECT_EQ(total, st.depth);
	EXPECT_EQ(bytes, st.bytes);
	/* the cap counts each message's payload and 64 bytes */
	EXPECT_EQ(bytes + 64ULL * total, st.charge);
	EXPECT_LE(st.charge, FLOOD_CAP);
	/* and each refusal was right: the cap was reached for its size */
	for (i = 0; i < FLOOD_CHILDREN; i++)
		EXPECT_GT(st.charge + sh->fail_len[i] + 64, FLOOD_CAP)
			TH_LOG("child %d", i);

	/* everything accepted comes out intact, in each sender's order */
	for (n = 0; n < total; n++) {
		ASSERT_LT(0, mb_recv_full(self->fd, buf, sizeof(buf), 0, 0, 0, 0, &info));
		memcpy(&h, buf, sizeof(h));
		if (h.child >= FLOOD_CHILDREN || h.seq != next[h.child] ||
		    h.len != info.len || h.len != flood_len(h.child, h.seq) ||
		    h.sum != flood_sum(buf + sizeof(h), h.len - sizeof(h)) ||
		    info.sender_tgid != pids[h.child] || info.sender_uid != TEST_UID) {
			bad++;
			continue;
		}
		next[h.child]++;
	}
	EXPECT_EQ(0, bad);
	for (i = 0; i < FLOOD_CHILDREN; i++)
		EXPECT_EQ(sh->sent[i], next[i]) TH_LOG("child %d", i);
	EXPECT_EQ(-EAGAIN, mb_recv(self->fd, buf, sizeof(buf), 0, 0));
	munmap(sh, sizeof(*sh));
}

/* ---- memory cgroup ----------------------------------------------------- */

#define MEMCG_MAX	(16 << 20)

static int cg_write(const char *dir, const char *file, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return write_file_str(path, val);
}

static long long cg_read_key(const char *dir, const char *file, const char *key)
{
	char path[256], line[128];
	size_t klen = strlen(key);
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ' ')
			v = strtoll(line + klen + 1, NULL, 10);
	fclose(f);
	return v;
}

/*
 * A child group of the cgroup2 hierarchy (mounted here if it was not) with
 * the memory controller and memory.max; its path goes to self->cgroup for
 * the teardown. Returns NULL on success, else why it cannot be done.
 */
static const char *memcg_setup(char *dir, size_t sz, bool *mounted,
			       long long max)
{
	char buf[256], val[32];
	struct statfs sfs;

	if (statfs(CGROUP_ROOT, &sfs) || sfs.f_type != CGROUP2_SUPER_MAGIC) {
		if (mount("cgroup2", CGROUP_ROOT, "cgroup2", 0, NULL))
			return "cannot mount cgroup2 on " CGROUP_ROOT;
		*mounted = true;
	}
	if (read_file_str(CGROUP_ROOT "/cgroup.controllers", buf, sizeof(buf)) < 0 ||
	    !strstr(buf, "memory"))
		return "no memory controller";
	if (write_file_str(CGROUP_ROOT "/cgroup.subtree_control", "+memory"))
		return "cannot enable the memory controller";
	snprintf(dir, sz, CGROUP_ROOT "/kst-sec-%d", getpid());
	if (mkdir(dir, 0755))
		return "cannot make a child cgroup";
	snprintf(val, sizeof(val), "%lld", max);
	if (cg_write(dir, "memory.max", val)) {
		rmdir(dir);
		dir[0] = '\0';
		return "cannot set memory.max";
	}
	cg_write(dir, "memory.swap.max", "0");
	return NULL;
}

struct memcg_fill {
	int sent;
	int err;
	uint64_t bytes;
	int write_err;		/* then write(2), SENDV and CALL, also at the limit */
	int sendv_err;
	int call_err;
};

static void memcg_pattern(unsigned char *buf, size_t len, uint32_t seq)
{
	size_t i;

	memcpy(buf, &seq, sizeof(seq));
	for (i = sizeof(seq); i < len; i++)
		buf[i] = (unsigned char)(seq * 13 + i);
}

static int memcg_sendv(int fd, const void *buf, size_t len)
{
	struct ipcbox_send s;

	send_args(&s, buf, len, 0, -1, 0, 0);
	return mb_batch(fd, IPCBOX_IOC_SENDV, &s, 1);
}

static int memcg_call(int fd, const void *buf, size_t len)
{
	struct ipcbox_call c;
	char reply[16];

	memset(&c, 0, sizeof(c));
	c.buf = (uintptr_t)buf;
	c.len = len;
	c.timeout_ns = NSEC_PER_SEC;
	c.reply_buf = (uintptr_t)reply;
	c.reply_size = sizeof(reply);
	return sys_ioctl(fd, IPCBOX_IOC_CALL, &c);
}

/* Grow the stack well past what the filler will use. */
static __attribute__((noinline)) void stack_reserve(void)
{
	volatile char pad[64 << 10];

	memset((char *)pad, 0, sizeof(pad));
}

/*
 * In the child: join the group, send until a send fails. Every page the
 * child will write is made its own before it joins (the stack and the
 * copy-on-write pages it shares with its parent): a page fault at the
 * group's limit is answered by the OOM killer, whatever ipcbox does.
 */
static int memcg_filler(struct memcg_fill *sh, const char *cg, int fd,
			size_t len)
{
	unsigned char *buf = malloc(len);
	uint32_t seq;
	int ret;

	if (!buf)
		return 1;
	memset(buf, 0, len);
	stack_reserve();
	if (mlockall(MCL_CURRENT))
		return 3;
	if (cg_write(cg, "cgroup.procs", "0"))
		return 2;
	for (seq = 0;; seq++) {
		memcg_pattern(buf, len, seq);
		ret = mb_send(fd, buf, len, 0, -1);
		if (ret)
			break;
		sh->sent++;
		sh->bytes += len;
	}
	sh->err = -ret;
	sh->write_err = write(fd, buf, len) < 0 ? errno : 0;
	sh->sendv_err = -memcg_sendv(fd, buf, len);
	sh->call_err = -memcg_call(fd, buf, len);
	return 0;
}

static void memcg_fill_and_drain(struct __test_metadata *_metadata,
				 FIXTURE_DATA(security) *self, size_t len)
{
	unsigned char *buf, *want;
	struct memcg_fill *sh;
	long long current, oom_kills, after;
	const char *why;
	int64_t t0;
	pid_t pid;
	int i, status, bad = 0;

	why = memcg_setup(self->cgroup, sizeof(self->cgroup),
			  &self->mounted_cgroup, MEMCG_MAX);
	if (why)
		SKIP(return, "%s", why);
	sh = shared_alloc(sizeof(*sh));
	ASSERT_NE(NULL, sh);
	buf = malloc(len);
	want = malloc(len);
	ASSERT_NE(NULL, buf);
	ASSERT_NE(NULL, want);
	/* well above memory.max: only the memory cgroup can stop the sender */
	ASSERT_EQ(0, param_set("max_unbounded_bytes", 4ULL * MEMCG_MAX));
	self->fd = mb_anon(self->ctl, IPCBOX_CAPACITY_UNBOUNDED, len);
	ASSERT_GE(self->fd, 0);

	t0 = now_ns();
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0)
		_exit(memcg_filler(sh, self->cgroup, self->fd, len));
	status = wait_child(pid);
	current = cg_read_key(self->cgroup, "memory.stat", "kernel");
	oom_kills = cg_read_key(self->cgroup, "memory.events", "oom_kill");
	TH_LOG("%zu-byte messages: %d accepted (%llu bytes) in %lld ms, then %s; "
	       "memcg kernel memory %lld, oom_kill %lld",
	       len, sh->sent, (unsigned long long)sh->bytes,
	       (long long)(now_ns() - t0) / NSEC_PER_MSEC,
	       sh->err ? strerror(sh->err) : "nothing", current, oom_kills);
	ASSERT_EQ(0, status) TH_LOG("the sender was killed or failed (%d)", status);
	EXPECT_EQ(0, oom_kills);
	/* the limit, not the byte cap, stopped it, with the documented error */
	EXPECT_TRUE(sh->err == ENOMEM || sh->err == ENOBUFS);
	EXPECT_EQ(sh->err, sh->write_err);
	EXPECT_EQ(sh->err, sh->sendv_err);
	EXPECT_EQ(sh->err, sh->call_err);
	EXPECT_LT(sh->bytes, MEMCG_MAX);
	/*
	 * Not stopped early for another reason: at least an eighth of the
	 * limit is payload (slab red zones and owner tracking, as the test
	 * boots use, take a 3000-byte message past 4 KiB).
	 */
	EXPECT_GT(sh->bytes, MEMCG_MAX / 8);
	/* the queued messages are what the group is charged for */
	EXPECT_GE(current, (long long)sh->bytes);
	EXPECT_EQ(sh->sent, mb_depth(self->fd));

	/* nothing accepted was lost or damaged */
	for (i = 0; i < sh->sent; i++) {
		memset(buf, 0, len);
		ASSERT_EQ((int)len, mb_recv(self->fd, buf, len, 0, 0)) TH_LOG("message %d", i);
		memcg_pattern(want, len, i);
		bad += !!memcmp(buf, want, len);
	}
	EXPECT_EQ(0, bad);
	EXPECT_EQ(-EAGAIN, mb_recv(self->fd, buf, len, 0, 0));
	/* received messages are uncharged */
	after = cg_read_key(self->cgroup, "memory.stat", "kernel");
	TH_LOG("memcg kernel memory after draining: %lld", after);
	EXPECT_LT(after, MEMCG_MAX / 8);
	close_fd(&self->fd);
	free(buf);
	free(want);
	munmap(sh, sizeof(*sh));
}

TEST_F_TIMEOUT(security, memcg_limit_small_messages_enomem_loses_nothing, 300)
{
	memcg_fill_and_drain(_metadata, self, 100);
}

TEST_F_TIMEOUT(security, memcg_limit_page_messages_enomem_loses_nothing, 300)
{
	memcg_fill_and_drain(_metadata, self, 3000);
}

TEST_F_TIMEOUT(security, memcg_limit_large_messages_enomem_loses_nothing, 300)
{
	memcg_fill_and_drain(_metadata, self, 64 << 10);
}

/* ---- nothing but the reply reaches user space -------------------------- */

/* The uapi structs have no implicit padding: every byte is a named field. */
static_assert(sizeof(struct ipcbox_msg_info) == IPCBOX_MSG_INFO_SIZE_VER0,
	      "msg_info size");
static_assert(sizeof(struct ipcbox_info) == IPCBOX_INFO_SIZE_VER0, "info size");
static_assert(sizeof(struct ipcbox_stat) == IPCBOX_STAT_SIZE_VER0, "stat size");
static_assert(sizeof(struct ipcbox_send) == IPCBOX_SEND_SIZE_VER0, "send size");
static_assert(sizeof(struct ipcbox_recv) == IPCBOX_RECV_SIZE_VER0, "recv size");
static_assert(sizeof(struct ipcbox_call) == IPCBOX_CALL_SIZE_VER0, "call size");
static_assert(sizeof(struct ipcbox_reply_recv) == IPCBOX_REPLY_RECV_SIZE_VER0,
	      "reply_recv size");
static_assert(sizeof(struct ipcbox_reply) == IPCBOX_REPLY_SIZE_VER0, "reply size");
static_assert(sizeof(struct ipcbox_batch) == IPCBOX_BATCH_SIZE_VER0, "batch size");

#define ARENA		1024	/* a struct and poison behind it */
#define PAYLOAD		512

static bool all_byte(const void *p, size_t n, unsigned char b)
{
	const unsigned char *c = p;

	while (n--)
		if (*c++ != b)
			return false;
	return true;
}

/* 32-bit words of an output struct still holding the poison: unwritten. */
static int poison_words(const void *p, size_t n)
{
	uint32_t w;
	size_t i;
	int found = 0;

	for (i = 0; i + 4 <= n; i += 4) {
		memcpy(&w, (const char *)p + i, 4);
		found += w == POISON_U32;
	}
	return found;
}

/*
 * Where a RECV, RECVV entry, REPLY_RECV or CALL is told to write a
 * message's info (info_size: the struct's size), with poison behind it
 * that the kernel must leave alone.
 */
struct poisoned_info {
	struct ipcbox_msg_info info;
	unsigned char after[32];
};

static void poison_info(struct poisoned_info *pi)
{
	memset(pi, POISON, sizeof(*pi));
}

/* Point a RECV-like info/info_size pair at @pi. */
#define AIM_INFO(a, pi) do {						\
	(a)->info = (uintptr_t)&(pi)->info;				\
	(a)->info_size = sizeof((pi)->info);				\
} while (0)

/*
 * msg_info as the kernel must write it: every word written, nothing
 * past info_size, token as expected.
 */
static void check_info(struct __test_metadata *_metadata,
		       const struct poisoned_info *pi, uint32_t len,
		       pid_t tgid, pid_t tid, bool token)
{
	const struct ipcbox_msg_info *in = &pi->info;

	EXPECT_TRUE(all_byte(pi->after, sizeof(pi->after), POISON))
		TH_LOG("info written past info_size");
	EXPECT_EQ(len, in->len);
	EXPECT_EQ(tgid, in->sender_tgid);
	EXPECT_EQ(tid, in->sender_tid);
	EXPECT_EQ(geteuid(), in->sender_uid);
	EXPECT_EQ(getegid(), in->sender_gid);
	EXPECT_NE(0, in->seq);
	EXPECT_NE(0, in->timestamp_ns);
	EXPECT_EQ(token, in->token != 0);
	EXPECT_EQ(0, poison_words(in, sizeof(*in)));
}

TEST_F(security, info_and_stat_write_their_size_and_nothing_else)
{
	static const unsigned int extra[] = { 0, 8, 40 };
	unsigned char arena[ARENA];
	struct ipcbox_info *in = (void *)arena;
	struct ipcbox_stat *st = (void *)arena;
	size_t ks, us, n;
	unsigned int i;

	self->fd = mb_create(self->ctl, self->name, 2, 64, 0600, 0);
	ASSERT_GE(self->fd, 0);
	for (i = 0; i < 3; i++) {
		ks = sizeof(*in);
		us = ks + extra[i];
		memset(arena, POISON, sizeof(arena));
		ASSERT_EQ(0, sys_ioctl(self->ctl, ioc_resize(IPCBOX_IOC_INFO, us), arena));
		/* no reserved words left: what took their place is set */
		EXPECT_EQ(IPCBOX_ABI_VERSION, in->abi_version);
		EXPECT_EQ(IPCBOX_PRIO_MAX, in->nr_priorities);
		EXPECT_EQ(0, poison_words(arena, ks));
		EXPECT_TRUE(all_byte(arena + ks, us - ks, 0)) TH_LOG("INFO size %zu", us);
		EXPECT_TRUE(all_byte(arena + us, sizeof(arena) - us, POISON))
			TH_LOG("INFO size %zu wrote past it", us);

		ks = sizeof(*st);
		us = ks + extra[i];
		memset(arena, POISON, sizeof(arena));
		ASSERT_EQ(0, sys_ioctl(self->fd, ioc_resize(IPCBOX_IOC_STAT, us), arena));
		EXPECT_STREQ(self->name, st->name);
		n = strlen(st->name);
		EXPECT_TRUE(all_byte(st->name + n, sizeof(st->name) - n, 0))
			TH_LOG("bytes after the name's NUL");
		EXPECT_EQ(0, st->__reserved0);
		EXPECT_EQ(0, poison_words(arena, ks));
		EXPECT_TRUE(all_byte(arena + ks, us - ks, 0)) TH_LOG("STAT size %zu", us);
		EXPECT_TRUE(all_byte(arena + us, sizeof(arena) - us, POISON))
			TH_LOG("STAT size %zu wrote past it", us);
	}
	/* an anonymous mailbox's name is all zero */
	close_fd(&self->fd);
	self->fd = mb_anon(self->ctl, 2, 64);
	ASSERT_GE(self->fd, 0);
	memset(arena, POISON, sizeof(arena));
	ASSERT_EQ(0, sys_ioctl(self->fd, IPCBOX_IOC_STAT, arena));
	EXPECT_TRUE(all_byte(st->name, sizeof(st->name), 0));
}

TEST_F(security, send_writes_only_its_sequence_number)
{
	unsigned char arena[ARENA];
	struct ipcbox_send *s = (void *)arena, copy;
	size_t us;

	self->fd = mb_anon(self->ctl, 4, 64);
	ASSERT_GE(self->fd, 0);
	for (us = sizeof(*s); us <= sizeof(*s) + 16; us += 16) {
		memset(arena, POISON, sizeof(arena));
		memset(arena, 0, us);
		send_args(s, "abc", 3, 0, 0, 3, 77);
		s->seq = 0xa5a5a5a5a5a5a5a5ULL;	/* output only */
		copy = *s;
		ASSERT_EQ(0, sys_ioctl(self->fd, ioc_resize(IPCBOX_IOC_SEND, us), arena));
		EXPECT_NE(copy.seq, s->seq);
		EXPECT_GT(s->seq, 0);
		copy.seq = s->seq;
		EXPECT_EQ(0, memcmp(&copy, s, sizeof(copy)));
		EXPECT_TRUE(all_byte(arena + sizeof(*s), us - sizeof(*s), 0));
		EXPECT_TRUE(all_byte(arena + us, sizeof(arena) - us, POISON));
	}
}

/*
 * RECV into poisoned memory: the info written where info points, the
 * struct itself as it was, nothing after the struct, the info or the
 * payload touched.
 */
static int recv_poisoned(struct __test_metadata *_metadata, int fd,
			 unsigned char *arena, unsigned char *payload,
			 struct poisoned_info *pi, size_t size, uint32_t flags)
{
	struct ipcbox_recv *r = (void *)arena, copy;
	int ret;

	memset(arena, POISON, ARENA);
	memset(payload, POISON, PAYLOAD);
	poison_info(pi);
	recv_args(r, payload, size, flags, 0);
	AIM_INFO(r, pi);
	copy = *r;
	ret = sys_ioctl(fd, IPCBOX_IOC_RECV, r);
	EXPECT_EQ(0, memcmp(&copy, r, sizeof(copy))) TH_LOG("RECV wrote into its struct");
	EXPECT_TRUE(all_byte(arena + sizeof(*r), ARENA - sizeof(*r), POISON))
		TH_LOG("RECV wrote past its struct");
	if (ret >= 0)
		EXPECT_TRUE(all_byte(payload + ret, PAYLOAD - ret, POISON))
			TH_LOG("RECV wrote past the message (%d bytes)", ret);
	return ret;
}

TEST_F(security, recv_writes_the_message_and_its_info_and_nothing_else)
{
	unsigned char arena[ARENA], payload[PAYLOAD];
	struct ipcbox_recv *r = (void *)arena, copy;
	struct ipcbox_msg_info zero = { 0 };
	struct poisoned_info pi;
	struct bg_op op;
	char msg[100];

	self->fd = mb_anon(self->ctl, 8, 256);
	ASSERT_GE(self->fd, 0);
	memset(msg, 'm', sizeof(msg));

	/* queued message, peeked then taken */
	ASSERT_EQ(0, mb_send(self->fd, msg, 100, 0, 0));
	EXPECT_EQ(100, recv_poisoned(_metadata, self->fd, arena, payload, &pi,
				     PAYLOAD, IPCBOX_RECV_PEEK));
	check_info(_metadata, &pi, 100, getpid(), test_gettid(), false);
	EXPECT_EQ(100, recv_poisoned(_metadata, self->fd, arena, payload, &pi,
				     PAYLOAD, 0));
	check_info(_metadata, &pi, 100, getpid(), test_gettid(), false);
	EXPECT_EQ(0, memcmp(payload, msg, 100));

	/* empty message: the payload is left alone */
	ASSERT_EQ(0, mb_send(self->fd, msg, 0, 0, 0));
	EXPECT_EQ(0, recv_poisoned(_metadata, self->fd, arena, payload, &pi,
				   PAYLOAD, 0));
	check_info(_metadata, &pi, 0, getpid(), test_gettid(), false);

	/* too small a buffer: info.len only, the payload untouched */
	ASSERT_EQ(0, mb_send(self->fd, msg, 100, 0, 0));
	EXPECT_EQ(-EMSGSIZE, recv_poisoned(_metadata, self->fd, arena, payload,
					   &pi, 99, 0));
	zero.len = 100;
	EXPECT_EQ(0, memcmp(&zero, &pi.info, sizeof(zero)));
	EXPECT_TRUE(all_byte(pi.after, sizeof(pi.after), POISON));
	EXPECT_TRUE(all_byte(payload, PAYLOAD, POISON));
	EXPECT_EQ(100, recv_poisoned(_metadata, self->fd, arena, payload, &pi,
				     PAYLOAD, 0));

	/* nothing there: the info is not written at all */
	EXPECT_EQ(-EAGAIN, recv_poisoned(_metadata, self->fd, arena, payload,
					 &pi, PAYLOAD, 0));
	EXPECT_TRUE(all_byte(&pi, sizeof(pi), POISON));
	EXPECT_TRUE(all_byte(payload, PAYLOAD, POISON));

	/* an info_size beyond the kernel's: zero-filled to it, no further */
	ASSERT_EQ(0, mb_send(self->fd, msg, 7, 0, 0));
	memset(arena, POISON, ARENA);
	memset(payload, POISON, PAYLOAD);
	poison_info(&pi);
	recv_args(r, payload, PAYLOAD, 0, 0);
	AIM_INFO(r, &pi);
	r->info_size += 8;
	EXPECT_EQ(7, sys_ioctl(self->fd, IPCBOX_IOC_RECV, r));
	EXPECT_EQ(7, pi.info.len);
	EXPECT_EQ(0, poison_words(&pi.info, sizeof(pi.info)));
	EXPECT_TRUE(all_byte(pi.after, 8, 0)) TH_LOG("info tail not zero-filled");
	EXPECT_TRUE(all_byte(pi.after + 8, sizeof(pi.after) - 8, POISON))
		TH_LOG("info written past info_size");

	/* handed straight to a blocked receiver */
	bg_init(&op, BG_SEND, self->fd, 100);
	memcpy(op.buf, msg, 42);
	op.len = 42;
	ASSERT_EQ(0, bg_start(&op));
	memset(arena, POISON, ARENA);
	memset(payload, POISON, PAYLOAD);
	poison_info(&pi);
	recv_args(r, payload, PAYLOAD, 0, 5 * NSEC_PER_SEC);
	AIM_INFO(r, &pi);
	copy = *r;
	EXPECT_EQ(42, sys_ioctl(self->fd, IPCBOX_IOC_RECV, r));
	bg_join(&op);
	ASSERT_EQ(0, op.ret);
	check_info(_metadata, &pi, 42, getpid(), op.tid, false);
	EXPECT_TRUE(all_byte(payload + 42, PAYLOAD - 42, POISON));
	EXPECT_EQ(0, memcmp(&copy, r, sizeof(copy))) TH_LOG("RECV wrote into its struct");
	EXPECT_TRUE(all_byte(arena + sizeof(*r), ARENA - sizeof(*r), POISON));

	/* read(2) */
	ASSERT_EQ(0, mb_send(self->fd, msg, 10, 0, 0));
	memset(payload, POISON, PAYLOAD);
	EXPECT_EQ(10, read(self->fd, payload, PAYLOAD));
	EXPECT_TRUE(all_byte(payload + 10, PAYLOAD - 10, POISON));
}

TEST_F(security, recvv_and_sendv_write_only_the_entries_done)
{
	struct ipcbox_recv r[5], rcopy[5];
	struct ipcbox_send s[4], scopy[4];
	struct poisoned_info pi[4];
	static const uint32_t lens[3] = { 5, 0, 100 };
	unsigned char payload[4][PAYLOAD];
	char msg[100];
	int i;

	self->fd = mb_anon(self->ctl, 8, 256);
	ASSERT_GE(self->fd, 0);
	memset(msg, 's', sizeof(msg));

	/* SENDV of 3: each seq written and nothing else, the 4th entry untouched */
	memset(s, POISON, sizeof(s));
	for (i = 0; i < 3; i++)
		send_args(&s[i], msg, lens[i], 0, 0, 0, i);
	memcpy(scopy, s, sizeof(s));
	ASSERT_EQ(3, mb_batch(self->fd, IPCBOX_IOC_SENDV, s, 3));
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(i + 1, s[i].seq);
		EXPECT_EQ(0, s[i].__reserved0);
		scopy[i].seq = s[i].seq;
		EXPECT_EQ(0, memcmp(&scopy[i], &s[i], sizeof(s[i])))
			TH_LOG("SENDV entry %d: more than seq written", i);
	}
	EXPECT_TRUE(all_byte(&s[3], sizeof(s[3]), POISON));

	/*
	 * RECVV of 4 with 3 queued: 3 done, the 4th info not written, the
	 * entries themselves never written, the 5th not even read
	 */
	memset(r, POISON, sizeof(r));
	memset(payload, POISON, sizeof(payload));
	for (i = 0; i < 4; i++) {
		recv_args(&r[i], payload[i], PAYLOAD, 0, 0);
		poison_info(&pi[i]);
		AIM_INFO(&r[i], &pi[i]);
	}
	memcpy(rcopy, r, sizeof(r));
	ASSERT_EQ(3, mb_batch(self->fd, IPCBOX_IOC_RECVV, r, 4));
	for (i = 0; i < 3; i++) {
		check_info(_metadata, &pi[i], lens[i], getpid(), test_gettid(), false);
		EXPECT_EQ(i, pi[i].info.tag);
		EXPECT_TRUE(all_byte(payload[i] + lens[i], PAYLOAD - lens[i], POISON))
			TH_LOG("entry %d", i);
	}
	EXPECT_TRUE(all_byte(&pi[3], sizeof(pi[3]), POISON));
	EXPECT_TRUE(all_byte(payload[3], PAYLOAD, POISON));
	EXPECT_EQ(0, memcmp(rcopy, r, sizeof(r))) TH_LOG("RECVV wrote into its entries");
	EXPECT_TRUE(all_byte(&r[4], sizeof(r[4]), POISON));
}

struct poisoned_call {
	int fd;
	unsigned char arena[ARENA];
	unsigned char reply[PAYLOAD];
	struct poisoned_info rinfo;	/* where reply_info points */
	struct ipcbox_call copy;	/* the struct as passed */
	int ret;
	pid_t tid;
};

static void *call_thread(void *arg)
{
	struct poisoned_call *pc = arg;
	struct ipcbox_call *c = (void *)pc->arena;

	pc->tid = test_gettid();
	pc->ret = sys_ioctl(pc->fd, IPCBOX_IOC_CALL, c);
	return NULL;
}

static void start_call(struct poisoned_call *pc, int fd, pthread_t *t)
{
	struct ipcbox_call *c = (void *)pc->arena;

	memset(pc, POISON, sizeof(*pc));
	pc->fd = fd;
	memset(c, 0, sizeof(*c));
	c->buf = (uintptr_t)"request";
	c->len = 7;
	c->timeout_ns = 10 * NSEC_PER_SEC;
	c->tag = 5;
	c->reply_buf = (uintptr_t)pc->reply;
	c->reply_size = PAYLOAD;
	c->reply_info = (uintptr_t)&pc->rinfo.info;
	c->reply_info_size = sizeof(pc->rinfo.info);
	pc->copy = *c;
	pthread_create(t, NULL, call_thread, pc);
}

TEST_F(security, call_and_reply_recv_write_only_their_outputs)
{
	static struct poisoned_call pc;
	unsigned char arena[ARENA], payload[PAYLOAD];
	struct ipcbox_reply_recv *rr = (void *)arena, copy;
	struct ipcbox_call *c = (void *)pc.arena;
	struct poisoned_info pi;
	struct ipcbox_msg_info info;
	char buf[64];
	pthread_t t;

	self->fd = mb_anon(self->ctl, 8, 256);
	ASSERT_GE(self->fd, 0);

	/* CALL answered by REPLY_RECV, which then takes a plain message */
	start_call(&pc, self->fd, &t);
	ASSERT_EQ(7, mb_recv_full(self->fd, buf, sizeof(buf), 0, 5 * NSEC_PER_SEC,
				  0, 0, &info));
	ASSERT_NE(0, info.token);
	ASSERT_EQ(0, mb_send(self->fd, "next", 4, 0, 0));
	memset(arena, POISON, sizeof(arena));
	memset(payload, POISON, sizeof(payload));
	poison_info(&pi);
	memset(rr, 0, sizeof(*rr));
	rr->token = info.token;
	rr->reply_buf = (uintptr_t)"reply!";
	rr->reply_len = 6;
	rr->buf = (uintptr_t)payload;
	rr->size = PAYLOAD;
	rr->timeout_ns = 0;
	AIM_INFO(rr, &pi);
	copy = *rr;
	EXPECT_EQ(4, sys_ioctl(self->fd, IPCBOX_IOC_REPLY_RECV, rr));
	pthread_join(t, NULL);
	EXPECT_EQ(0, rr->reply_error);
	EXPECT_EQ(0, rr->__reserved0);
	check_info(_metadata, &pi, 4, getpid(), test_gettid(), false);
	/* the token is cleared once the reply was made: a restart only receives */
	EXPECT_EQ(0, rr->token);
	copy.token = 0;
	EXPECT_EQ(0, memcmp(&copy, rr, sizeof(copy))) TH_LOG("input fields changed");
	EXPECT_TRUE(all_byte(arena + sizeof(*rr), ARENA - sizeof(*rr), POISON));
	EXPECT_TRUE(all_byte(payload + 4, PAYLOAD - 4, POISON));

	/* the caller got its reply, its info and nothing more */
	EXPECT_EQ(6, pc.ret);
	EXPECT_EQ(0, memcmp(pc.reply, "reply!", 6));
	EXPECT_TRUE(all_byte(pc.reply + 6, PAYLOAD - 6, POISON));
	check_info(_metadata, &pc.rinfo, 6, getpid(), test_gettid(), false);
	EXPECT_EQ(5, pc.rinfo.info.tag);
	/* the CALL struct itself is input only: not a byte of it written */
	EXPECT_EQ(7, c->len);
	EXPECT_EQ(PAYLOAD, c->reply_size);
	EXPECT_EQ(0, c->__reserved0);
	EXPECT_EQ(0, memcmp(&pc.copy, c, sizeof(*c))) TH_LOG("CALL wrote into its struct");
	EXPECT_TRUE(all_byte(pc.arena + sizeof(*c), ARENA - sizeof(*c), POISON));

	/* REPLY_RECV without a token writes no reply_error */
	ASSERT_EQ(0, mb_send(self->fd, "x", 1, 0, 0));
	memset(arena, POISON, sizeof(arena));
	memset(rr, 0, sizeof(*rr));
	rr->buf = (uintptr_t)payload;
	rr->size = PAYLOAD;
	rr->timeout_ns = 0;
	EXPECT_EQ(1, sys_ioctl(self->fd, IPCBOX_IOC_REPLY_RECV, rr));
	EXPECT_EQ(0, rr->reply_error);
	EXPECT_TRUE(all_byte(arena + sizeof(*rr), ARENA - sizeof(*rr), POISON));
}

/* ---- pids and ids across namespaces ------------------------------------ */

struct nested {
	int fd;
	int to_parent;		/* R reports X here */
	int release;		/* S waits here until the parent looked */
};

/* S: pid 1 of the inner namespace; two messages, then wait. */
static int nested_sender(struct nested *n)
{
	char c;

	if (getpid() != 1)
		return 40;
	if (mb_send_str(n->fd, "deep") || mb_send_str(n->fd, "deep"))
		return 41;
	return read(n->release, &c, 1) == 0 ? 0 : 42;
}

/* R: pid 1 of the middle namespace; S's pid here is what fork returned. */
static int nested_receiver(void *arg)
{
	struct nested *n = arg;
	struct ipcbox_msg_info info;
	char buf[16];
	pid_t s;

	if (getpid() != 1)
		return 30;
	if (unshare(CLONE_NEWPID))
		return 99;
	s = fork();
	if (s < 0)
		return 31;
	if (s == 0)
		_exit(nested_sender(n));
	/* FILTER_PID takes S's pid as this namespace sees it */
	if (mb_recv_full(n->fd, buf, sizeof(buf), IPCBOX_RECV_FILTER_PID,
			 10 * NSEC_PER_SEC, s, 0, &info) != 4)
		return 32;
	if (write(n->to_parent, &s, sizeof(s)) != sizeof(s))
		return 33;
	if (info.sender_tgid != s || info.sender_tid != s)
		return 34;
	return wait_child(s);
}

static int in_new_pidns(int (*fn)(void *), void *arg)
{
	pid_t pid;

	if (unshare(CLONE_NEWPID))
		return 99;
	pid = fork();
	if (pid < 0)
		return 98;
	if (pid == 0)
		_exit(fn(arg));
	return wait_child(pid);
}

/* The pid of @pid in each namespace, from /proc/PID/status NSpid. */
static int nspids(pid_t pid, pid_t *out, int max)
{
	char path[64], line[256], *p, *end;
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "NSpid:", 6))
			continue;
		for (p = line + 6; n < max; p = end) {
			long v = strtol(p, &end, 10);

			if (end == p)
				break;
			out[n++] = v;
		}
	}
	fclose(f);
	return n;
}

TEST_F(security, sender_two_pid_namespaces_down_is_seen_at_each_level)
{
	struct ipcbox_msg_info info;
	struct nested n;
	int to_parent[2], release[2], status;
	pid_t helper, x = 0, ids[4];
	char buf[16];

	self->fd = mb_anon(self->ctl, 4, 16);
	ASSERT_GE(self->fd, 0);
	ASSERT_EQ(0, pipe(to_parent));
	ASSERT_EQ(0, pipe(release));
	n.fd = self->fd;
	n.to_parent = to_parent[1];
	n.release = release[0];
	helper = fork();
	ASSERT_GE(helper, 0);
	if (helper == 0) {
		close(release[1]);
		_exit(in_new_pidns(nested_receiver, &n));
	}
	close(to_parent[1]);
	close(release[0]);
	if (read(to_parent[0], &x, sizeof(x)) != sizeof(x)) {
		close(release[1]);
		status = wait_child(helper);
		if (status == 99)
			SKIP(return, "unshare(CLONE_NEWPID) failed");
		ASSERT_EQ(0, status) TH_LOG("middle namespace check %d", status);
	}
	/* here the sender has its pid in the first namespace */
	ASSERT_EQ(4, mb_recv_full(self->fd, buf, sizeof(buf), 0, 5 * NSEC_PER_SEC,
				  0, 0, &info));
	ASSERT_EQ(3, nspids(info.sender_tgid, ids, 4)) TH_LOG("pid %d", info.sender_tgid);
	EXPECT_EQ(info.sender_tgid, ids[0]);
	EXPECT_EQ(x, ids[1]);
	EXPECT_EQ(1, ids[2]);
	EXPECT_EQ(info.sender_tgid, info.sender_tid);
	close(release[1]);
	EXPECT_EQ(0, wait_child(helper));
	close(to_parent[0]);
}

struct sibling {
	int fd;
	int sent[2];
};

static int sibling_sender(void *arg)
{
	struct sibling *s = arg;
	char c = 1;

	if (mb_send_str(s->fd, "sib"))
		return 1;
	return write(s->sent[1], &c, 1) == 1 ? 0 : 2;
}

static int sibling_receiver(void *arg)
{
	struct sibling *s = arg;
	struct ipcbox_msg_info info;
	char buf[16], c;

	if (read(s->sent[0], &c, 1) != 1)
		return 10;
	if (mb_recv_full(s->fd, buf, sizeof(buf), 0, 0, 0, 0, &info) != 3)
		return 11;
	if (info.sender_tgid != 0 || info.sender_tid != 0)
		return 12;
	/* the ids are not pids: still reported */
	if (info.sender_uid != 0)
		return 13;
	return 0;
}

static int sibling_run(int (*fn)(void *), void *arg)
{
	return in_new_pidns(fn, arg);
}

TEST_F(security, receiver_in_a_sibling_pid_namespace_sees_zero)
{
	struct sibling s;
	pid_t a, b;
	int sa, sb;

	self->fd = mb_anon(self->ctl, 4, 16);
	ASSERT_GE(self->fd, 0);
	s.fd = self->fd;
	ASSERT_EQ(0, pipe(s.sent));
	a = fork();
	ASSERT_GE(a, 0);
	if (a == 0)
		_exit(sibling_run(sibling_sender, &s));
	b = fork();
	ASSERT_GE(b, 0);
	if (b == 0)
		_exit(sibling_run(sibling_receiver, &s));
	sa = wait_child(a);
	sb = wait_child(b);
	if (sa == 99 || sb == 99)
		SKIP(return, "unshare(CLONE_NEWPID) failed");
	EXPECT_EQ(0, sa);
	EXPECT_EQ(0, sb) TH_LOG("receiver check %d", sb);
}

struct ids_seen {
	int fd;
	int ctl;
	char name[IPCBOX_NAME_MAX];
	unsigned int ovuid, ovgid;
};

/* In a user namespace mapping only TEST_UID (as 0). */
static int userns_receiver(void *arg)
{
	struct ids_seen *s = arg;
	struct ipcbox_msg_info info;
	struct ipcbox_stat st;
	char buf[64], want[64];

	/* root outside is unmapped here */
	if (mb_recv_full(s->fd, buf, sizeof(buf), 0, 0, 0, 0, &info) != 4)
		return 10;
	if (info.sender_uid != s->ovuid || info.sender_gid != s->ovgid)
		return 11;
	if (info.sender_tgid != getppid())
		return 12;
	/* TEST_UID outside is 0 here */
	if (mb_recv_full(s->fd, buf, sizeof(buf), 0, 0, 0, 0, &info) != 4)
		return 13;
	if (info.sender_uid != 0 || info.sender_gid != 0)
		return 14;
	/* the owner, root, likewise unmapped, in STAT and in sysfs */
	if (mb_stat(s->fd, &st))
		return 15;
	if (st.uid != s->ovuid || st.gid != s->ovgid)
		return 16;
	snprintf(want, sizeof(want), "%u:%u", s->ovuid, s->ovgid);
	if (sysfs_attr_str(s->name, "owner", buf, sizeof(buf)) <= 0)
		return 17;
	if (strcmp(buf, want))
		return 18;
	/* our own message reads as ours */
	if (mb_send_str(s->fd, "self") ||
	    mb_recv_full(s->fd, buf, sizeof(buf), 0, 0, 0, 0, &info) != 4)
		return 19;
	if (info.sender_uid != 0 || info.sender_gid != 0)
		return 20;
	/* and a message for outside */
	return mb_send_str(s->fd, "from") ? 21 : 0;
}

static int user_sends_user(void *arg)
{
	return mb_send_str(*(int *)arg, "user") ? 1 : 0;
}

TEST_F(security, user_namespace_translates_ids_both_ways)
{
	struct ipcbox_msg_info info;
	struct ids_seen s;
	char buf[16];
	int ret;

	self->fd = mb_create(self->ctl, self->name, 8, 64, 0600, 0);
	ASSERT_GE(self->fd, 0);
	s.fd = self->fd;
	copy_name(s.name, self->name);
	s.ovuid = overflow_id("overflowuid");
	s.ovgid = overflow_id("overflowgid");
	ASSERT_EQ(0, mb_send_str(self->fd, "root"));
	ASSERT_EQ(0, run_as(TEST_UID, TEST_GID, user_sends_user, &self->fd));
	ret = run_in_userns(TEST_UID, TEST_GID, userns_receiver, &s);
	if (ret == 99)
		SKIP(return, "unshare(CLONE_NEWUSER) failed");
	ASSERT_EQ(0, ret) TH_LOG("check %d in the user namespace failed", ret);
	/* its root is TEST_UID out here */
	ASSERT_EQ(4, mb_recv_full(self->fd, buf, sizeof(buf), 0, 0, 0, 0, &info));
	EXPECT_EQ(TEST_UID, info.sender_uid);
	EXPECT_EQ(TEST_GID, info.sender_gid);
}

/* Root sends, drops to TEST_UID, sends again: each message keeps its ids. */
static int sender_changes_ids(void *arg)
{
	int fd = *(int *)arg;

	if (mb_send_str(fd, "as root"))
		return 1;
	if (!set_ids(TEST_UID, TEST_GID))
		return 2;
	if (mb_send_str(fd, "as user"))
		return 3;
	/* a write(2) is no different */
	if (write(fd, "as writer", 9) != 9)
		return 4;
	return 0;
}

TEST_F(security, credentials_are_the_senders_at_send_time)
{
	struct ipcbox_msg_info info[3];
	char buf[16];
	pid_t pid;
	int i;

	self->fd = mb_anon(self->ctl, 4, 16);
	ASSERT_GE(self->fd, 0);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0)
		_exit(sender_changes_ids(&self->fd));
	ASSERT_EQ(0, wait_child(pid));
	for (i = 0; i < 3; i++)
		ASSERT_LT(0, mb_recv_full(self->fd, buf, sizeof(buf), 0, 0, 0, 0, &info[i]));
	EXPECT_EQ(0, info[0].sender_uid);
	EXPECT_EQ(0, info[0].sender_gid);
	for (i = 1; i < 3; i++) {
		EXPECT_EQ(TEST_UID, info[i].sender_uid);
		EXPECT_EQ(TEST_GID, info[i].sender_gid);
	}
	for (i = 0; i < 3; i++)
		EXPECT_EQ(pid, info[i].sender_tgid);
}

TEST_F(security, sender_cannot_supply_credentials)
{
	unsigned char arena[IPCBOX_SEND_SIZE_VER0 + 16];
	struct ipcbox_send *s = (void *)arena;
	struct ipcbox_msg_info info, made_up;
	struct ipcbox_call c;
	char buf[16];
	uint64_t forged = ((uint64_t)1 << 32) | 1;	/* "uid 0, pid 1" */
	int i;

	self->fd = mb_anon(self->ctl, 4, 16);
	ASSERT_GE(self->fd, 0);
	/*
	 * every spare field of SEND refuses a value: the reserved word
	 * (EINVAL), and any word past the struct the kernel knows (E2BIG),
	 * as an ioctl of a larger size and as a SENDV entry of that size
	 */
	for (i = 0; i < 3; i++) {
		memset(arena, 0, sizeof(arena));
		send_args(s, "x", 1, 0, 0, 0, 0);
		if (i == 0)
			s->__reserved0 = 1;
		else
			memcpy(arena + sizeof(*s) + (i - 1) * sizeof(forged),
			       &forged, sizeof(forged));
		EXPECT_EQ(i ? -E2BIG : -EINVAL,
			  sys_ioctl(self->fd, ioc_resize(IPCBOX_IOC_SEND, sizeof(arena)), arena))
			TH_LOG("field %d", i);
		EXPECT_EQ(i ? -E2BIG : -EINVAL,
			  mb_batch_sized(self->fd, IPCBOX_IOC_SENDV, arena, 1,
					 sizeof(arena)))
			TH_LOG("SENDV field %d", i);
		if (i == 0)
			EXPECT_EQ(-EINVAL, mb_batch(self->fd, IPCBOX_IOC_SENDV, s, 1));
	}
	EXPECT_EQ(0, mb_depth(self->fd));
	/*
	 * nor does a CALL bring a reply_info of its own: it is only a place
	 * for the kernel to write, refused without a place or too small
	 * for the kernel's info, and the reserved word refuses a value
	 */
	memset(&made_up, 0, sizeof(made_up));
	made_up.sender_tgid = 1;
	for (i = 0; i < 3; i++) {
		memset(&c, 0, sizeof(c));
		c.buf = (uintptr_t)"x";
		c.len = 1;
		c.timeout_ns = NSEC_PER_SEC;
		c.reply_buf = (uintptr_t)buf;
		c.reply_size = sizeof(buf);
		if (i == 0) {
			c.reply_info_size = sizeof(made_up);
		} else if (i == 1) {
			c.reply_info = (uintptr_t)&made_up;
			c.reply_info_size = IPCBOX_MSG_INFO_SIZE_VER0 - 8;
		} else {
			c.reply_info = (uintptr_t)&made_up;
			c.reply_info_size = sizeof(made_up);
			c.__reserved0 = 1;
		}
		EXPECT_EQ(-EINVAL, sys_ioctl(self->fd, IPCBOX_IOC_CALL, &c))
			TH_LOG("CALL case %d", i);
	}
	EXPECT_EQ(1, made_up.sender_tgid);
	EXPECT_EQ(0, mb_depth(self->fd));
	/* the fields a sender does set (tag, priority) carry no identity */
	ASSERT_EQ(0, mb_send_full(self->fd, "x", 1, 0, 0, 31, forged, NULL));
	ASSERT_EQ(1, mb_recv_full(self->fd, buf, sizeof(buf), 0, 0, 0, 0, &info));
	EXPECT_EQ(forged, info.tag);
	EXPECT_EQ(getpid(), info.sender_tgid);
	EXPECT_EQ(test_gettid(), info.sender_tid);
	EXPECT_EQ(geteuid(), info.sender_uid);
}

TEST_HARNESS_MAIN
