/* SPDX-License-Identifier: BSD-3-Clause */
/* UTCP on Ethernet (docs/wire-formats.md): parse and build. */
#include <errno.h>
#include <string.h>

#include <rte_ip.h>

#include "wire.h"

int
utcp_parse(const uint8_t *buf, uint32_t len, struct utcp_pkt *p)
{
	if (len < UTCP_HDR_LEN)
		return -UTCP_TOO_SHORT;
	p->version = buf[0];
	if (p->version != UTCP_VERSION)
		return -UTCP_BAD_VERSION;
	p->flags = buf[1];
	p->src_port = (uint16_t)(buf[2] << 8 | buf[3]);
	p->dst_port = (uint16_t)(buf[4] << 8 | buf[5]);
	p->length = (uint16_t)(buf[6] << 8 | buf[7]);
	p->checksum = (uint16_t)(buf[8] << 8 | buf[9]);
	if (p->length < UTCP_HDR_LEN || p->length > len)
		return -UTCP_BAD_LENGTH;
	/* the sum over a packet that carries its checksum is all ones */
	if (rte_raw_cksum(buf, p->length) != 0xffff)
		return -UTCP_BAD_CHECKSUM;
	p->payload = buf + UTCP_HDR_LEN;
	p->payload_len = (uint16_t)(p->length - UTCP_HDR_LEN);
	return 0;
}

int
utcp_build(uint8_t *buf, uint32_t cap, uint8_t flags, uint16_t src_port,
	   uint16_t dst_port, const void *payload, uint16_t payload_len)
{
	uint32_t len = UTCP_HDR_LEN + payload_len;
	uint16_t sum;

	if (len > cap || len > UINT16_MAX)
		return -ENOSPC;
	buf[0] = UTCP_VERSION;
	buf[1] = flags;
	buf[2] = (uint8_t)(src_port >> 8);
	buf[3] = (uint8_t)src_port;
	buf[4] = (uint8_t)(dst_port >> 8);
	buf[5] = (uint8_t)dst_port;
	buf[6] = (uint8_t)(len >> 8);
	buf[7] = (uint8_t)len;
	buf[8] = 0;
	buf[9] = 0;
	if (payload_len > 0)
		memmove(buf + UTCP_HDR_LEN, payload, payload_len);
	/* rte_raw_cksum adds 16-bit words in host order; the complement of
	 * that sum, stored the same way, makes the total all ones */
	sum = (uint16_t)~rte_raw_cksum(buf, len);
	memcpy(buf + 8, &sum, 2);
	return (int)len;
}

const char *
utcp_reason_str(int reason)
{
	static const char *const names[UTCP_N_REASONS] = {
		"ok", "too-short", "bad-version", "bad-length", "bad-checksum"};

	if (reason < 0)
		reason = -reason;
	return reason < UTCP_N_REASONS ? names[reason] : "unknown";
}
