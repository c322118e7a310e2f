/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer: the LWF parser and the replay window on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>

#include <wire.h>

static struct lwf_replay replay;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lwf_frame f;
	uint16_t et;
	uint32_t off;

	if (size > UINT32_MAX)
		return 0;
	if (lwf_parse(data, (uint32_t)size, &f) == 0)
		(void)lwf_replay_check(&replay, f.session_id, f.sequence);
	/* and as an Ethernet frame, the way the fiber sees it */
	if (wire_l2_payload(data, (uint32_t)size, &et, &off) == 0 &&
	    lwf_parse(data + off, (uint32_t)size - off, &f) == 0)
		(void)lwf_replay_check(&replay, f.session_id, f.sequence);
	return 0;
}
