// SPDX-License-Identifier: GPL-2.0
/*
 * ipcbox-info: print what the loaded ipcbox module reports through
 * IPCBOX_IOC_INFO. A stand-in for "ipcboxctl info" in the VM demo.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/ipcbox.h>

#include "ipcbox_features.h"

int main(void)
{
	struct ipcbox_info info;
	size_t i;
	int fd;

	fd = open(IPCBOX_CONTROL_PATH, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "ipcbox-info: %s: %s\n", IPCBOX_CONTROL_PATH,
			strerror(errno));
		return 1;
	}
	memset(&info, 0, sizeof(info));
	if (ioctl(fd, IPCBOX_IOC_INFO, &info) < 0) {
		fprintf(stderr, "ipcbox-info: IPCBOX_IOC_INFO: %s\n",
			strerror(errno));
		close(fd);
		return 1;
	}
	close(fd);

	printf("abi_version:         %u\n", info.abi_version);
	printf("features:            0x%llx",
	       (unsigned long long)info.features);
	for (i = 0; i < IPCBOX_NR_FEATURES; i++)
		if (info.features & ipcbox_features[i].bit)
			printf(" %s", ipcbox_features[i].name);
	printf("\n");
	printf("max_mailboxes:       %u\n", info.max_mailboxes);
	printf("max_per_user:        %u\n", info.max_per_user);
	printf("max_msg_size:        %u\n", info.max_msg_size);
	printf("max_capacity:        %u\n", info.max_capacity);
	printf("max_unbounded_bytes: %llu\n",
	       (unsigned long long)info.max_unbounded_bytes);
	printf("nr_mailboxes:        %u\n", info.nr_mailboxes);
	printf("nr_priorities:       %u\n", info.nr_priorities);
	printf("default_msg_size:    %u\n", info.default_msg_size);
	return 0;
}
