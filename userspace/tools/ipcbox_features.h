/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The names of the IPCBOX_FEAT_* bits, in bit order. "ipcboxctl info" and
 * scripts/ipcbox-info.c both print from this table, so that a new feature
 * bit is named once, here, next to the uapi name it stands for.
 */
#ifndef IPCBOX_FEATURES_H
#define IPCBOX_FEATURES_H

#include <stdint.h>

#include <linux/ipcbox.h>

static const struct ipcbox_feature {
	uint64_t bit;
	const char *name;
} ipcbox_features[] = {
	{ IPCBOX_FEAT_NAMED,		"named" },
	{ IPCBOX_FEAT_ANON,		"anon" },
	{ IPCBOX_FEAT_RENDEZVOUS,	"rendezvous" },
	{ IPCBOX_FEAT_UNBOUNDED,	"unbounded" },
	{ IPCBOX_FEAT_SYNC,		"sync" },
	{ IPCBOX_FEAT_CACHE,		"cache" },
	{ IPCBOX_FEAT_FILTER,		"filter" },
	{ IPCBOX_FEAT_PEEK,		"peek" },
	{ IPCBOX_FEAT_SHUTDOWN,		"shutdown" },
	{ IPCBOX_FEAT_FASYNC,		"fasync" },
	{ IPCBOX_FEAT_CALL,		"call" },
	{ IPCBOX_FEAT_BATCH,		"batch" },
};

#define IPCBOX_NR_FEATURES \
	(sizeof(ipcbox_features) / sizeof(ipcbox_features[0]))

#endif /* IPCBOX_FEATURES_H */
