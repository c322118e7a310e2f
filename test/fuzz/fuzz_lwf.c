/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer: the LWF parser and the replay window on arbitrary bytes.
 *
 * Random bytes almost never carry a good CRC-32, so besides parsing the
 * input as it is (raw, and as an Ethernet frame), the input also drives
 * lwf_build(): its first bytes choose class, session and sequences, the
 * rest is the payload.  What was built must parse to the same fields, and
 * the replay window must refuse a sequence it just accepted.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <wire.h>

static struct lwf_replay replay;

static uint32_t
get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void
replay_once(const uint8_t *session, uint32_t seq)
{
	/* right after an accept, the same sequence is a replay */
	if (lwf_replay_check(&replay, session, seq) == 0 &&
	    lwf_replay_check(&replay, session, seq) != -LWF_REPLAY)
		abort();
}

static void
round_trip(const uint8_t *data, size_t size)
{
	static uint8_t buf[LWF_HDR_LEN + UINT16_MAX + LWF_TRAILER_LEN];
	struct lwf_params p;
	struct lwf_frame f;
	uint16_t plen;
	uint32_t at;
	int len;

	if (size < 10)
		return;
	memset(&p, 0, sizeof(p));
	p.frame_class = data[0];
	p.session_id[0] = data[1] & 0x0f; /* a few sessions, so they repeat */
	p.sequence = get32(data + 2);
	p.flags = data[6];
	p.service_type = (uint16_t)(data[7] << 8 | data[8]);
	plen = (uint16_t)(size - 9 > UINT16_MAX ? UINT16_MAX : size - 9);
	len = lwf_build(buf, sizeof(buf), &p, data + 9, plen);
	if (len < 0)
		return;
	if (lwf_parse(buf, (uint32_t)len, &f) != 0 ||
	    f.frame_len != (uint32_t)len || f.sequence != p.sequence ||
	    f.payload_len != plen || f.frame_class != p.frame_class ||
	    memcmp(f.payload, data + 9, plen) != 0)
		abort();
	replay_once(f.session_id, f.sequence);
	/* one bit flipped anywhere the CRC covers (all but the signature,
	 * which only a signature check protects) must not pass */
	at = get32(data + 2) % ((uint32_t)len - 32);
	if (at >= LWF_HDR_LEN + plen)
		at += 32;
	buf[at] ^= (uint8_t)(1u << (data[1] >> 5));
	if (lwf_parse(buf, (uint32_t)len, &f) == 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lwf_frame f;
	uint16_t et;
	uint32_t off;

	if (size > UINT32_MAX)
		return 0;
	if (lwf_parse(data, (uint32_t)size, &f) == 0)
		replay_once(f.hdr.session_id, f.hdr.sequence);
	/* and as an Ethernet frame, the way the fiber sees it */
	if (wire_l2_payload(data, (uint32_t)size, &et, &off) == 0 &&
	    lwf_parse(data + off, (uint32_t)size - off, &f) == 0)
		replay_once(f.hdr.session_id, f.hdr.sequence);
	round_trip(data, size);
	return 0;
}
