/* SPDX-License-Identifier: BSD-3-Clause */
/* The well-known channels of the spec and their default sizing. */
#include <string.h>

#include "ion_ring.h"

static const struct ion_channel_info channels[] = {
	{ION_CH_NET_RX, "net-rx", ION_NET_SLOTS, ION_NET_SLOT_SIZE},
	{ION_CH_NET_TX, "net-tx", ION_NET_SLOTS, ION_NET_SLOT_SIZE},
	{ION_CH_LWF_RX, "lwf-rx", ION_NET_SLOTS, ION_NET_SLOT_SIZE},
	{ION_CH_LWF_TX, "lwf-tx", ION_NET_SLOTS, ION_NET_SLOT_SIZE},
	{ION_CH_CONSOLE_RX, "console-rx", ION_CONSOLE_SLOTS,
	 ION_CONSOLE_SLOT_SIZE},
	{ION_CH_CONSOLE_TX, "console-tx", ION_CONSOLE_SLOTS,
	 ION_CONSOLE_SLOT_SIZE},
	{ION_CH_VFS_REQ, "vfs-req", ION_VFS_SLOTS, ION_VFS_SLOT_SIZE},
	{ION_CH_VFS_RSP, "vfs-rsp", ION_VFS_SLOTS, ION_VFS_SLOT_SIZE},
};

#define N_CHANNELS (sizeof(channels) / sizeof(channels[0]))

const struct ion_channel_info *
ion_channel_lookup(uint32_t id)
{
	unsigned int i;

	for (i = 0; i < N_CHANNELS; i++)
		if (channels[i].id == id)
			return &channels[i];
	return NULL;
}

const struct ion_channel_info *
ion_channel_by_name(const char *name)
{
	unsigned int i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < N_CHANNELS; i++)
		if (strcmp(channels[i].name, name) == 0)
			return &channels[i];
	return NULL;
}

const struct ion_channel_info *
ion_channel_table(unsigned int *n)
{
	if (n != NULL)
		*n = N_CHANNELS;
	return channels;
}
