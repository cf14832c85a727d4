// SPDX-License-Identifier: GPL-2.0
/*
 * CREATE and UNLINK: names, capacities, sizes, modes, flags, the device
 * node and sysfs directory of a named mailbox, and who may open, unlink
 * or see it.
 */
#include "ipcbox_test.h"
#include "kselftest_harness.h"

FIXTURE(create) {
	int ctl;
	int fd;
	int fd2;
	struct ipcbox_info info;
	char name[IPCBOX_NAME_MAX + 8];
};

FIXTURE_SETUP(create)
{
	self->ctl = -1;
	self->fd = -1;
	self->fd2 = -1;
	self->name[0] = '\0';
	CTL_OPEN_OR_SKIP(self->ctl);
	ASSERT_EQ(0, ipcbox_get_info(self->ctl, &self->info));
	test_name(self->name, sizeof(self->name), "cr");
}

FIXTURE_TEARDOWN(create)
{
	close_fd(&self->fd);
	close_fd(&self->fd2);
	if (self->ctl >= 0 && self->name[0])
		mb_unlink(self->ctl, self->name);
	close_fd(&self->ctl);
}

static int create_raw(int ctl, struct ipcbox_create *c)
{
	return sys_ioctl(ctl, IPCBOX_IOC_CREATE, c);
}

TEST_F(create, anonymous_mailbox_is_anon_inode_fd)
{
	char path[64], link[256];
	ssize_t n;

	self->fd = mb_create(self->ctl, "", 4, 0, 0, 0);
	ASSERT_GE(self->fd, 0) TH_LOG("create: %s", strerror(-self->fd));
	snprintf(path, sizeof(path), "/proc/self/fd/%d", self->fd);
	n = readlink(path, link, sizeof(link) - 1);
	ASSERT_GT(n, 0);
	link[n] = '\0';
	EXPECT_EQ(0, strncmp(link, "anon_inode:", 11)) TH_LOG("fd is %s", link);
}

TEST_F(create, anonymous_mailbox_has_empty_name_and_no_named_flag)
{
	struct ipcbox_stat st;

	self->fd = mb_create(self->ctl, "", 4, 0, 0, 0);
	ASSERT_GE(self->fd, 0);
	ASSERT_EQ(0, mb_stat(self->fd, &st));
	EXPECT_EQ(0, st.name[0]);
	EXPECT_EQ(0, st.flags & IPCBOX_STAT_NAMED);
	EXPECT_EQ(4, st.capacity);
}

TEST_F(create, new_fd_is_read_write)
{
	int fl;

	self->fd = mb_create(self->ctl, "", 4, 0, 0, 0);
	ASSERT_GE(self->fd, 0);
	fl = fcntl(self->fd, F_GETFL);
	ASSERT_GE(fl, 0);
	EXPECT_EQ(O_RDWR, fl & O_ACCMODE);
	EXPECT_EQ(0, fl & O_NONBLOCK);
	EXPECT_EQ(0, mb_send_str(self->fd, "x"));
	EXPECT_EQ(1, mb_recv(self->fd, (char[8]){ 0 }, 8, 0, 0));
}

TEST_F(create, named_mailbox_makes_char_device_node)
{
	char path[128];
	struct stat st;
	mode_t old = umask(0);

	self->fd = mb_create(self->ctl, self->name, 4, 0, 0640, 0);
	umask(old);
	ASSERT_GE(self->fd, 0) TH_LOG("create %s: %s", self->name, strerror(-self->fd));
	dev_path(path, sizeof(path), self->name);
	ASSERT_EQ(0, stat(path, &st)) TH_LOG("stat %s: %m", path);
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0640, st.st_mode & 07777);
	EXPECT_EQ(getuid(), st.st_uid);
	EXPECT_EQ(getgid(), st.st_gid);
}

TEST_F(create, named_mode_is_masked_by_umask)
{
	char path[128];
	struct stat st;
	struct ipcbox_stat ist;
	mode_t old = umask(027);

	self->fd = mb_create(self->ctl, self->name, 4, 0, 0666, 0);
	umask(old);
	ASSERT_GE(self->fd, 0);
	dev_path(path, sizeof(path), self->name);
	ASSERT_EQ(0, stat(path, &st));
	EXPECT_EQ(0640, st.st_mode & 07777);
	ASSERT_EQ(0, mb_stat(self->fd, &ist));
	EXPECT_EQ(0640, ist.mode & 07777);
}

TEST_F(create, named_mailbox_stat_reports_name_and_flag)
{
	struct ipcbox_stat st;

	self->fd = mb_create(self->ctl, self->name, 4, 0, 0600, 0);
	ASSERT_GE(self->fd, 0);
	ASSERT_EQ(0, mb_stat(self->fd, &st));
	EXPECT_STREQ(self->name, st.name);
	EXPECT_EQ(IPCBOX_STAT_NAMED, st.flags & (IPCBOX_STAT_NAMED | IPCBOX_STAT_UNLINKED));
	EXPECT_EQ(getuid(), st.uid);
	EXPECT_EQ(getgid(), st.gid);
}

TEST_F(create, named_mailbox_has_sysfs_attributes)
{
	static const char * const attrs[] = {
		"capacity", "msg_size_max", "depth", "bytes",
		"waiting_senders", "waiting_receivers", "sent", "received",
		"timeouts", "owner", "mode",
	};
	char dir[128], path[256];
	unsigned int i;

	self->fd = mb_create(self->ctl, self->name, 4, 0, 0600, 0);
	ASSERT_GE(self->fd, 0);
	sysfs_dir(dir, sizeof(dir), self->name);
	ASSERT_TRUE(path_exists(dir)) TH_LOG("%s missing", dir);
	for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, attrs[i]);
		EXPECT_TRUE(path_exists(path)) TH_LOG("%s missing", path);
	}
}

TEST_F(create, sysfs_reports_created_settings)
{
	unsigned long long v;
	char buf[64];
	unsigned int a, b;
	mode_t old = umask(0);

	self->fd = mb_create(self->ctl, self->name, 7, 128, 0604, 0);
	umask(old);
	ASSERT_GE(self->fd, 0);
	ASSERT_EQ(0, sysfs_attr_u64(self->name, "capacity", &v));
	EXPECT_EQ(7, v);
	ASSERT_EQ(0, sysfs_attr_u64(self->name, "msg_size_max", &v));
	EXPECT_EQ(128, v);
	ASSERT_LT(0, sysfs_attr_str(self->name, "mode", buf, sizeof(buf)));
	EXPECT_EQ(0604, strtoul(buf, NULL, 8)) TH_LOG("mode reads '%s'", buf);
	ASSERT_LT(0, sysfs_attr_str(self->name, "owner", buf, sizeof(buf)));
	ASSERT_EQ(2, sscanf(buf, "%u%*[: ]%u", &a, &b)) TH_LOG("owner reads '%s'", buf);
	EXPECT_EQ(getuid(), a);
	EXPECT_EQ(getgid(), b);
}

TEST_F(create, capacity_zero_is_rendezvous)
{
	struct ipcbox_stat st;

	self->fd = mb_create(self->ctl, "", 0, 0, 0, 0);
	ASSERT_GE(self->fd, 0);
	ASSERT_EQ(0, mb_stat(self->fd, &st));
	EXPECT_EQ(0, st.capacity);
}

TEST_F(create, capacity_unbounded_accepted)
{
	struct ipcbox_stat st;

	self->fd = mb_create(self->ctl, "", IPCBOX_CAPACITY_UNBOUNDED, 0, 0, 0);
	ASSERT_GE(self->fd, 0);
	ASSERT_EQ(0, mb_stat(self->fd, &st));
	EXPECT_EQ(IPCBOX_CAPACITY_UNBOUNDED, st.capacity);
}

TEST_F(create, capacity_max_accepted_and_above_is_einval)
{
	self->fd = mb_create(self->ctl, "", self->info.max_capacity, 0, 0, 0);
	EXPECT_GE(self->fd, 0) TH_LOG("max_capacity %u: %s",
				      self->info.max_capacity, strerror(-self->fd));
	if (self->info.max_capacity + 1 != IPCBOX_CAPACITY_UNBOUNDED)
		EXPECT_EQ(-EINVAL, mb_create(self->ctl, "", self->info.max_capacity + 1, 0, 0, 0));
}

TEST_F(create, msg_size_zero_uses_default)
{
	struct ipcbox_stat st;

	self->fd = mb_create(self->ctl, "", 1, 0, 0, 0);
	ASSERT_GE(self->fd, 0);
	ASSERT_EQ(0, mb_stat(self->fd, &st));
	EXPECT_EQ(self->info.default_msg_size, st.msg_size_max);
}

TEST_F(create, msg_size_max_accepted_and_above_is_einval)
{
	struct ipcbox_stat st;

	self->fd = mb_create(self->ctl, "", 1, self->info.max_msg_size, 0, 0);
	ASSERT_GE(self->fd, 0);
	ASSERT_EQ(0, mb_stat(self->fd, &st));
	EXPECT_EQ(self->info.max_msg_size, st.msg_size_max);
	EXPECT_EQ(-EINVAL, mb_create(self->ctl, "", 1, self->info.max_msg_size + 1, 0, 0));
}

TEST_F(create, mode_above_0666_is_einval)
{
	char path[128];

	EXPECT_EQ(-EINVAL, mb_create(self->ctl, self->name, 1, 0, 0700, 0));
	EXPECT_EQ(-EINVAL, mb_create(self->ctl, self->name, 1, 0, 0667, 0));
	dev_path(path, sizeof(path), self->name);
	EXPECT_FALSE(path_exists(path)); /* nothing left behind */
}

TEST_F(create, anonymous_mailbox_ignores_mode)
{
	struct ipcbox_stat st;

	/* The mode only applies to a node; an anonymous mailbox has none. */
	self->fd = mb_create(self->ctl, "", 1, 0, 0777, 0);
	ASSERT_GE(self->fd, 0);
	ASSERT_EQ(0, mb_stat(self->fd, &st));
	EXPECT_EQ(0, st.flags & IPCBOX_STAT_NAMED);
	self->fd2 = mb_create(self->ctl, "", 1, 0, S_IFCHR | 07777, 0);
	ASSERT_GE(self->fd2, 0);
}

TEST_F(create, mode_bits_outside_0777_are_einval)
{
	EXPECT_EQ(-EINVAL, mb_create(self->ctl, self->name, 1, 0, 01600, 0));
	EXPECT_EQ(-EINVAL, mb_create(self->ctl, self->name, 1, 0, S_IFCHR | 0600, 0));
}

TEST_F(create, flag_cloexec_sets_fd_cloexec)
{
	self->fd = mb_create(self->ctl, "", 1, 0, 0, IPCBOX_CREATE_CLOEXEC);
	ASSERT_GE(self->fd, 0);
	EXPECT_EQ(FD_CLOEXEC, fcntl(self->fd, F_GETFD) & FD_CLOEXEC);
	self->fd2 = mb_create(self->ctl, "", 1, 0, 0, 0);
	ASSERT_GE(self->fd2, 0);
	EXPECT_EQ(0, fcntl(self->fd2, F_GETFD) & FD_CLOEXEC);
}

TEST_F(create, flag_nonblock_sets_o_nonblock)
{
	self->fd = mb_create(self->ctl, "", 1, 0, 0, IPCBOX_CREATE_NONBLOCK);
	ASSERT_GE(self->fd, 0);
	EXPECT_EQ(O_NONBLOCK, fcntl(self->fd, F_GETFL) & O_NONBLOCK);
	EXPECT_EQ(-EAGAIN, mb_recv(self->fd, (char[8]){ 0 }, 8, 0, -1));
}

TEST_F(create, unknown_flag_is_einval)
{
	EXPECT_EQ(-EINVAL, mb_create(self->ctl, "", 1, 0, 0, 1U << 2));
	EXPECT_EQ(-EINVAL, mb_create(self->ctl, "", 1, 0, 0, 1U << 31));
}

/*
 * CREATE has no reserved fields any more: the four __u64 ABI 1 kept after
 * the flags are now input the kernel does not know, and must be zero
 * (E2BIG) when a caller passes a struct that large.
 */
TEST_F(create, old_reserved_tail_nonzero_is_e2big)
{
	uint64_t buf[(IPCBOX_CREATE_SIZE_VER0 + 32) / 8];
	struct ipcbox_create *c = (void *)buf;
	unsigned long cmd = ioc_resize(IPCBOX_IOC_CREATE, sizeof(buf));
	int i, before = nr_mailboxes(self->ctl), fd;

	for (i = 0; i < 4; i++) {
		memset(buf, 0, sizeof(buf));
		create_args(c, "", 1, 0, 0, 0);
		buf[IPCBOX_CREATE_SIZE_VER0 / 8 + i] = 1;
		fd = sys_ioctl(self->ctl, cmd, buf);
		EXPECT_EQ(-E2BIG, fd) TH_LOG("old reserved[%d]", i);
		if (fd >= 0)
			close(fd);
	}
	/* none was made (fewer, if an earlier test's last close was late) */
	EXPECT_GE(before, nr_mailboxes(self->ctl));
}

TEST_F(create, bad_pointer_is_efault)
{
	EXPECT_EQ(-EFAULT, sys_ioctl(self->ctl, IPCBOX_IOC_CREATE, (void *)8));
}

TEST_F(create, larger_struct_with_zero_tail_works)
{
	unsigned char buf[IPCBOX_CREATE_SIZE_VER0 + 16] = { 0 };
	struct ipcbox_create *c = (void *)buf;

	create_args(c, "", 2, 0, 0, 0);
	self->fd = sys_ioctl(self->ctl, ioc_resize(IPCBOX_IOC_CREATE, sizeof(buf)), buf);
	EXPECT_GE(self->fd, 0) TH_LOG("%s", strerror(-self->fd));
	buf[sizeof(buf) - 1] = 1;
	EXPECT_EQ(-E2BIG, sys_ioctl(self->ctl, ioc_resize(IPCBOX_IOC_CREATE, sizeof(buf)), buf));
	EXPECT_EQ(-EINVAL, sys_ioctl(self->ctl, ioc_resize(IPCBOX_IOC_CREATE, 64), buf));
}

TEST_F(create, name_with_bad_character_is_einval)
{
	static const char * const bad[] = {
		"a b", "a/b", "a*b", "tab\t", "nl\n", "\xc3\xa9t\xc3\xa9",
		"a:b", "..", "a\\b",
	};
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		EXPECT_EQ(-EINVAL, mb_create(self->ctl, bad[i], 1, 0, 0600, 0))
			TH_LOG("bad name #%u", i);
}

/*
 * Names are ASCII. Bytes 0xc0..0xff pass a Latin-1 isalnum(); they must
 * be refused all the same (they are not in [A-Za-z0-9._-]).
 */
TEST_F(create, name_with_bytes_above_ascii_is_einval)
{
	static const char * const bad[] = {
		"caf\xe9", "\xff", "\xc0", "A\xdf", "x\xf8y",
	};
	unsigned int i;
	int fd;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fd = mb_create(self->ctl, bad[i], 1, 0, 0600, 0);
		EXPECT_EQ(-EINVAL, fd) TH_LOG("bad name #%u", i);
		if (fd >= 0) {
			close(fd);
			mb_unlink(self->ctl, bad[i]);
		}
	}
}

/* Fill a name field with "NAME\0junk". */
static void name_with_junk(char *field, const char *name)
{
	size_t n = strlen(name);

	memset(field, 0, IPCBOX_NAME_MAX);
	memcpy(field, name, n);
	memcpy(field + n + 1, "junk", 4);
}

/* A name is its bytes up to the NUL, and the rest of the field is zero. */
TEST_F(create, create_name_with_bytes_after_nul_is_einval)
{
	struct ipcbox_create c;
	char path[128];
	int fd;

	create_args(&c, "", 1, 0, 0600, 0);
	name_with_junk(c.name, self->name);
	fd = create_raw(self->ctl, &c);
	EXPECT_EQ(-EINVAL, fd);
	dev_path(path, sizeof(path), self->name);
	EXPECT_FALSE(path_exists(path));
	if (fd >= 0) {
		close(fd);
		mb_unlink(self->ctl, self->name);
	}
	/* the same name without the junk is fine */
	self->fd = mb_create(self->ctl, self->name, 1, 0, 0600, 0);
	EXPECT_GE(self->fd, 0) TH_LOG("%s: %s", self->name, strerror(-self->fd));
}

TEST_F(create, unlink_name_with_bytes_after_nul_is_einval)
{
	struct ipcbox_unlink u;
	char path[128];

	self->fd = mb_create(self->ctl, self->name, 1, 0, 0600, 0);
	ASSERT_GE(self->fd, 0);
	memset(&u, 0, sizeof(u));
	name_with_junk(u.name, self->name);
	EXPECT_EQ(-EINVAL, sys_ioctl(self->ctl, IPCBOX_IOC_UNLINK, &u));
	dev_path(path, sizeof(path), self->name);
	EXPECT_TRUE(path_exists(path)) TH_LOG("unlinked by a name with junk after it");
	/* the plain name unlinks it */
	if (path_exists(path)) {
		EXPECT_EQ(0, mb_unlink(self->ctl, self->name));
		self->name[0] = '\0';
	}
}

TEST_F(create, name_with_leading_dot_is_einval)
{
	EXPECT_EQ(-EINVAL, mb_create(self->ctl, ".hidden", 1, 0, 0600, 0));
	EXPECT_EQ(-EINVAL, mb_create(self->ctl, ".", 1, 0, 0600, 0));
}

TEST_F(create, name_control_is_einval)
{
	EXPECT_EQ(-EINVAL, mb_create(self->ctl, "control", 1, 0, 0600, 0));
}

TEST_F(create, name_with_all_allowed_characters_works)
{
	char path[128];

	snprintf(self->name, sizeof(self->name), "Az09._-%d", getpid());
	self->fd = mb_create(self->ctl, self->name, 1, 0, 0600, 0);
	ASSERT_GE(self->fd, 0) TH_LOG("%s: %s", self->name, strerror(-self->fd));
	dev_path(path, sizeof(path), self->name);
	EXPECT_TRUE(path_exists(path));
}

TEST_F(create, name_of_63_chars_works)
{
	char path[128];

	memset(self->name, 'n', 63);
	self->name[63] = '\0';
	snprintf(self->name, 10, "%09d", getpid());
	self->name[9] = 'n';
	ASSERT_EQ(63, strlen(self->name));
	self->fd = mb_create(self->ctl, self->name, 1, 0, 0600, 0);
	ASSERT_GE(self->fd, 0) TH_LOG("%s", strerror(-self->fd));
	dev_path(path, sizeof(path), self->name);
	EXPECT_TRUE(path_exists(path));
}

TEST_F(create, name_of_64_chars_without_nul_is_enametoolong)
{
	struct ipcbox_create c;

	create_args(&c, "", 1, 0, 0600, 0);
	memset(c.name, 'x', sizeof(c.name));
	EXPECT_EQ(-ENAMETOOLONG, create_raw(self->ctl, &c));
}

TEST_F(create, duplicate_name_is_eexist)
{
	self->fd = mb_create(self->ctl, self->name, 1, 0, 0600, 0);
	ASSERT_GE(self->fd, 0);
	EXPECT_EQ(-EEXIST, mb_create(self->ctl, self->name, 1, 0, 0600, 0));
	EXPECT_EQ(-EEXIST, mb_create(self->ctl, self->name, 5, 64, 0666, 0));
}

TEST_F(create, opened_node_shares_the_mailbox)
{
	char buf[16];

	self->fd = mb_create(self->ctl, self->name, 2, 0, 0600, 0);
	ASSERT_GE(self->fd, 0);
	self->fd2 = mb_open(self->name, O_RDWR);
	ASSERT_GE(self->fd2, 0) TH_LOG("open %s: %s", self->name,
				       strerror(-self->fd2));
	ASSERT_EQ(5, write(self->fd, "hello", 5));
	EXPECT_EQ(5, read(self->fd2, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "hello", 5));
}

TEST_F(create, unlink_removes_node_and_sysfs_at_once)
{
	char path[128], dir[128];

	self->fd = mb_create(self->ctl, self->name, 2, 0, 0600, 0);
	ASSERT_GE(self->fd, 0);
	dev_path(path, sizeof(path), self->name);
	sysfs_dir(dir, sizeof(dir), self->name);
	ASSERT_TRUE(path_exists(path));
	ASSERT_TRUE(path_exists(dir));
	ASSERT_EQ(0, mb_unlink(self->ctl, self->name));
	EXPECT_FALSE(path_exists(path));
	EXPECT_FALSE(path_exists(dir));
	self->name[0] = '\0';
}

TEST_F(create, unlinked_mailbox_fds_keep_working)
{
	char buf[16];
	struct ipcbox_stat st;

	self->fd = mb_create(self->ctl, self->name, 2, 0, 0600, 0);
	ASSERT_GE(self->fd, 0);
	self->fd2 = mb_open(self->name, O_RDWR);
	ASSERT_GE(self->fd2, 0);
	ASSERT_EQ(0, mb_send_str(self->fd, "before"));
	ASSERT_EQ(0, mb_unlink(self->ctl, self->name));
	self->name[0] = '\0';
	EXPECT_EQ(0, mb_send_str(self->fd, "after"));
	EXPECT_EQ(6, read(self->fd2, buf, sizeof(buf)));
	EXPECT_EQ(5, read(self->fd2, buf, sizeof(buf)));
	ASSERT_EQ(0, mb_stat(self->fd, &st));
	EXPECT_EQ(IPCBOX_STAT_UNLINKED, st.flags & IPCBOX_STAT_UNLINKED);
}

TEST_F(create, name_reusable_after_unlink)
{
	self->fd = mb_create(self->ctl, self->name, 2, 0, 0600, 0);
	ASSERT_GE(self->fd, 0);
	ASSERT_EQ(0, mb_unlink(self->ctl, self->name));
	self->fd2 = mb_create(self->ctl, self->name, 2, 0, 0600, 0);
	EXPECT_GE(self->fd2, 0) TH_LOG("%s", strerror(-self->fd2));
	/* the old and the new mailbox are distinct */
	ASSERT_EQ(0, mb_send_str(self->fd, "old"));
	EXPECT_EQ(0, mb_depth(self->fd2));
}

TEST_F(create, second_unlink_is_enoent)
{
	self->fd = mb_create(self->ctl, self->name, 2, 0, 0600, 0);
	ASSERT_GE(self->fd, 0);
	ASSERT_EQ(0, mb_unlink(self->ctl, self->name));
	EXPECT_EQ(-ENOENT, mb_unlink(self->ctl, self->name));
	self->name[0] = '\0';
}

TEST_F(create, unlink_of_unknown_name_is_enoent)
{
	EXPECT_EQ(-ENOENT, mb_unlink(self->ctl, self->name));
}

/*
 * UNLINK has no reserved fields any more: ABI 1's two trailing __u64 are
 * now unknown input, which must be zero (E2BIG) in a struct that large.
 */
TEST_F(create, unlink_old_reserved_tail_nonzero_is_e2big)
{
	uint64_t buf[(IPCBOX_UNLINK_SIZE_VER0 + 16) / 8];
	struct ipcbox_unlink *u = (void *)buf;
	unsigned long cmd = ioc_resize(IPCBOX_IOC_UNLINK, sizeof(buf));
	char path[128];

	self->fd = mb_create(self->ctl, self->name, 2, 0, 0600, 0);
	ASSERT_GE(self->fd, 0);
	memset(buf, 0, sizeof(buf));
	copy_name(u->name, self->name);
	buf[IPCBOX_UNLINK_SIZE_VER0 / 8 + 1] = 1;
	EXPECT_EQ(-E2BIG, sys_ioctl(self->ctl, cmd, buf));
	EXPECT_EQ(-EFAULT, sys_ioctl(self->ctl, IPCBOX_IOC_UNLINK, (void *)8));
	/* still there */
	dev_path(path, sizeof(path), self->name);
	EXPECT_TRUE(path_exists(path));
	/* the same struct with its tail zero unlinks it */
	buf[IPCBOX_UNLINK_SIZE_VER0 / 8 + 1] = 0;
	EXPECT_EQ(0, sys_ioctl(self->ctl, cmd, buf));
	EXPECT_FALSE(path_exists(path));
	if (!path_exists(path))
		self->name[0] = '\0';
}

TEST_F(create, other_user_cannot_unlink)
{
	char path[128];

	self->fd = mb_create(self->ctl, self->name, 2, 0, 0666, 0);
	ASSERT_GE(self->fd, 0);
	EXPECT_EQ(EPERM, run_as_user(unlink_named, self->name));
	dev_path(path, sizeof(path), self->name);
	EXPECT_TRUE(path_exists(path));
}

static int user_open(void *arg)
{
	int fd = mb_open(arg, O_RDWR);

	if (fd < 0)
		return -fd;
	close(fd);
	return 0;
}

TEST_F(create, other_user_cannot_open_0600_mailbox)
{
	mode_t old = umask(0);

	self->fd = mb_create(self->ctl, self->name, 2, 0, 0600, 0);
	umask(old);
	ASSERT_GE(self->fd, 0);
	EXPECT_EQ(EACCES, run_as_user(user_open, self->name));
}

TEST_F(create, other_user_can_open_0666_mailbox)
{
	mode_t old = umask(0);

	self->fd = mb_create(self->ctl, self->name, 2, 0, 0666, 0);
	umask(old);
	ASSERT_GE(self->fd, 0);
	EXPECT_EQ(0, run_as_user(user_open, self->name));
}

static int user_creates(void *arg)
{
	char path[128];
	struct stat st;
	int ctl = ctl_open();
	int fd;

	if (ctl < 0)
		return 200;
	umask(0);
	fd = mb_create(ctl, arg, 1, 0, 0620, 0);
	if (fd < 0)
		return -fd;
	dev_path(path, sizeof(path), arg);
	if (stat(path, &st))
		return 201;
	if (st.st_uid != TEST_UID || st.st_gid != TEST_GID)
		return 202;
	if ((st.st_mode & 07777) != 0620)
		return 203;
	if (mb_unlink(ctl, arg))
		return 204;
	return 0;
}

TEST_F(create, node_owned_by_creating_user)
{
	EXPECT_EQ(0, run_as_user(user_creates, self->name));
}

TEST_HARNESS_MAIN
