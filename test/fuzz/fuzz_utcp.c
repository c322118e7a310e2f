/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer: the UTCP parser on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>

#include <wire.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct utcp_pkt p;
	uint16_t et;
	uint32_t off;
	volatile uint8_t sink = 0;

	if (size > UINT32_MAX)
		return 0;
	if (utcp_parse(data, (uint32_t)size, &p) == 0 && p.payload_len > 0)
		sink = p.payload[p.payload_len - 1]; /* the payload is in bounds */
	if (wire_l2_payload(data, (uint32_t)size, &et, &off) == 0 &&
	    utcp_parse(data + off, (uint32_t)size - off, &p) == 0 &&
	    p.payload_len > 0)
		sink = p.payload[p.payload_len - 1];
	(void)sink;
	return 0;
}
