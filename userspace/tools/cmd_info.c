// SPDX-License-Identifier: GPL-2.0
/*
 * ipcboxctl info: the loaded module's ABI version, features and limits.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>

#include "ipcbox_features.h"
#include "ipcboxctl.h"
#include "json.h"

/* Bits this ipcboxctl has no name for: a newer module's, shown in hex. */
static uint64_t unnamed_features(uint64_t features)
{
	size_t i;

	for (i = 0; i < IPCBOX_NR_FEATURES; i++)
		features &= ~ipcbox_features[i].bit;
	return features;
}

static void info_json(const struct ipcbox_info *info)
{
	struct json j;
	size_t i;

	json_init(&j, stdout);
	json_object_begin(&j, NULL);
	json_uint(&j, "abi_version", info->abi_version);
	json_strf(&j, "library_version", "%d.%d", LIBIPCBOX_VERSION_MAJOR,
		  LIBIPCBOX_VERSION_MINOR);
	json_array_begin(&j, "features");
	for (i = 0; i < IPCBOX_NR_FEATURES; i++)
		if (info->features & ipcbox_features[i].bit)
			json_str(&j, NULL, ipcbox_features[i].name);
	json_array_end(&j);
	json_uint(&j, "features_mask", info->features);
	json_uint(&j, "max_mailboxes", info->max_mailboxes);
	json_uint(&j, "max_per_user", info->max_per_user);
	json_uint(&j, "max_msg_size", info->max_msg_size);
	json_uint(&j, "max_capacity", info->max_capacity);
	json_uint(&j, "max_unbounded_bytes", info->max_unbounded_bytes);
	json_uint(&j, "nr_mailboxes", info->nr_mailboxes);
	json_uint(&j, "nr_priorities", info->nr_priorities);
	json_uint(&j, "default_msg_size", info->default_msg_size);
	json_object_end(&j);
	json_end(&j);
}

static void info_text(const struct ipcbox_info *info)
{
	size_t i;

	printf("abi_version:          %u (library %d.%d, header ABI %d)\n",
	       info->abi_version, LIBIPCBOX_VERSION_MAJOR,
	       LIBIPCBOX_VERSION_MINOR, IPCBOX_ABI_VERSION);
	printf("features:            ");
	for (i = 0; i < IPCBOX_NR_FEATURES; i++)
		if (info->features & ipcbox_features[i].bit)
			printf(" %s", ipcbox_features[i].name);
	if (unnamed_features(info->features))
		printf(" 0x%" PRIx64, unnamed_features(info->features));
	printf("\nmailboxes:            %u (limit %u, %u per user)\n",
	       info->nr_mailboxes, info->max_mailboxes, info->max_per_user);
	printf("max_msg_size:         %u\n", info->max_msg_size);
	printf("default_msg_size:     %u\n", info->default_msg_size);
	printf("max_capacity:         %u\n", info->max_capacity);
	printf("max_unbounded_bytes:  %" PRIu64 "\n",
	       (uint64_t)info->max_unbounded_bytes);
	printf("priorities:           %u\n", info->nr_priorities);
}

int cmd_info(int argc, char **argv)
{
	struct ipcbox_info info;
	bool json = json_option(argc, argv);
	int ret;

	if (optind != argc)
		usage_error("unexpected argument '%s'", argv[optind]);

	ret = ipcbox_info(&info);
	if (ret == -EPROTO)
		die(ret, "module ABI version %u, library needs %d",
		    info.abi_version, IPCBOX_ABI_VERSION);
	if (ret)
		die(ret, "%s", IPCBOX_CONTROL_PATH);

	if (json)
		info_json(&info);
	else
		info_text(&info);
	return 0;
}
