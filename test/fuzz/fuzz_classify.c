/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer: the NetSwitch classifier on arbitrary frames. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <netswitch.h>

static struct netswitch_table *table;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct netswitch_route routes[] = {
		{0x0800, 0x0500}, {0x0806, 0x0500}, {0x86DD, 0x0500},
		{0x88B5, 0x0700}, {0x4C57, 0x0600},
	};
	uint16_t et = 0;
	int r;

	if (table == NULL) {
		table = malloc(sizeof(*table));
		if (table == NULL ||
		    netswitch_table_build(table, routes, 5) != 0)
			abort();
	}
	if (size > UINT32_MAX)
		return 0;
	r = netswitch_classify(table, data, (uint32_t)size, &et);
	/* the verdict is a route index or one of the two refusals */
	if (r < NETSWITCH_UNKNOWN || r >= 5)
		abort();
	if (r >= 0 && routes[r].ethertype != et)
		abort();
	return 0;
}
