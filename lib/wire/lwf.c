/* SPDX-License-Identifier: BSD-3-Clause */
/* LWF v2: parse, build, and the per-session replay window. */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_net_crc.h>

#include "wire.h"

/* Header offsets, from the LWF v2 facts. */
#define OFF_MAGIC     0
#define OFF_DEST      4
#define OFF_SOURCE    28
#define OFF_SESSION   52
#define OFF_SEQUENCE  68
#define OFF_SERVICE   72
#define OFF_PLEN      74
#define OFF_CLASS     76
#define OFF_VERSION   77
#define OFF_FLAGS     78
#define OFF_ENTROPY   79
#define OFF_TIMESTAMP 80
#define TRL_SIGNATURE 0
#define TRL_CHECKSUM  32

static const uint8_t lwf_magic[4] = {'L', 'W', 'F', 0x00};

static inline uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline void
put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
put_be32(uint8_t *p, uint32_t v)
{
	put_be16(p, (uint16_t)(v >> 16));
	put_be16(p + 2, (uint16_t)v);
}

int
wire_l2_payload(const uint8_t *frame, uint32_t len, uint16_t *ethertype,
		uint32_t *off)
{
	uint32_t o = 12;
	unsigned int tags;

	for (tags = 0;; tags++) {
		uint16_t t;

		if (len < o + 2)
			return -1;
		t = be16(frame + o);
		o += 2;
		if (tags == 2 || (t != 0x8100 && t != 0x88A8 && t != 0x9100)) {
			*ethertype = t;
			*off = o;
			return 0;
		}
		o += 2; /* the tag's TCI */
	}
}

uint32_t
lwf_frame_class_max(uint8_t frame_class)
{
	switch (frame_class) {
	case LWF_CLASS_MICRO:
		return 128;
	case LWF_CLASS_MINI:
		return 512;
	case LWF_CLASS_STANDARD:
		return 1350;
	case LWF_CLASS_BIG:
		return 4096;
	case LWF_CLASS_JUMBO:
		return 9000;
	case LWF_CLASS_VARIABLE:
		return UINT32_MAX;
	default:
		return 0;
	}
}

static inline uint32_t
crc32(const uint8_t *buf, uint32_t len)
{
	/* the standard CRC-32 (zlib / Ethernet polynomial), as the SDK's */
	return rte_net_crc_calc(buf, len, RTE_NET_CRC32_ETH);
}

int
lwf_parse(const uint8_t *buf, uint32_t len, struct lwf_frame *f)
{
	struct lwf_hdr_view *h = &f->hdr;
	uint32_t total;

	if (len < LWF_HDR_LEN + LWF_TRAILER_LEN)
		return -LWF_TOO_SHORT;
	if (memcmp(buf + OFF_MAGIC, lwf_magic, sizeof(lwf_magic)) != 0)
		return -LWF_BAD_MAGIC;
	if (buf[OFF_VERSION] != LWF_VERSION)
		return -LWF_BAD_VERSION;
	/* 16-bit payload_len: total fits 32 bits, no overflow possible */
	h->payload_len = be16(buf + OFF_PLEN);
	total = LWF_HDR_LEN + h->payload_len + LWF_TRAILER_LEN;
	if (total > len)
		return -LWF_BAD_LENGTH;
	h->frame_class = buf[OFF_CLASS];
	if (total > lwf_frame_class_max(h->frame_class))
		return -LWF_TOO_BIG;
	/* the CRC last: the most expensive check, on bytes now known to be
	 * inside the buffer */
	f->checksum = be32(buf + LWF_HDR_LEN + h->payload_len + TRL_CHECKSUM);
	if (crc32(buf, LWF_HDR_LEN + h->payload_len) != f->checksum)
		return -LWF_BAD_CHECKSUM;
	h->dest_hint = buf + OFF_DEST;
	h->source_hint = buf + OFF_SOURCE;
	h->session_id = buf + OFF_SESSION;
	h->sequence = be32(buf + OFF_SEQUENCE);
	h->service_type = be16(buf + OFF_SERVICE);
	h->version = buf[OFF_VERSION];
	h->flags = buf[OFF_FLAGS];
	h->entropy_difficulty = buf[OFF_ENTROPY];
	h->timestamp = (uint64_t)be32(buf + OFF_TIMESTAMP) << 32 |
		       be32(buf + OFF_TIMESTAMP + 4);
	f->payload = buf + LWF_HDR_LEN;
	f->signature = buf + LWF_HDR_LEN + h->payload_len + TRL_SIGNATURE;
	f->frame_len = total;
	return 0;
}

int
lwf_build(uint8_t *buf, uint32_t cap, const struct lwf_params *p,
	  const void *payload, uint16_t payload_len)
{
	uint32_t total = LWF_HDR_LEN + payload_len + LWF_TRAILER_LEN;
	uint8_t *trl;

	if (total > lwf_frame_class_max(p->frame_class))
		return -EMSGSIZE;
	if (total > cap)
		return -ENOSPC;
	memset(buf, 0, LWF_HDR_LEN);
	memcpy(buf + OFF_MAGIC, lwf_magic, sizeof(lwf_magic));
	memcpy(buf + OFF_DEST, p->dest_hint, 24);
	memcpy(buf + OFF_SOURCE, p->source_hint, 24);
	memcpy(buf + OFF_SESSION, p->session_id, 16);
	put_be32(buf + OFF_SEQUENCE, p->sequence);
	put_be16(buf + OFF_SERVICE, p->service_type);
	put_be16(buf + OFF_PLEN, payload_len);
	buf[OFF_CLASS] = p->frame_class;
	buf[OFF_VERSION] = LWF_VERSION;
	buf[OFF_FLAGS] = p->flags;
	buf[OFF_ENTROPY] = p->entropy_difficulty;
	put_be32(buf + OFF_TIMESTAMP, (uint32_t)(p->timestamp >> 32));
	put_be32(buf + OFF_TIMESTAMP + 4, (uint32_t)p->timestamp);
	if (payload_len > 0)
		memmove(buf + LWF_HDR_LEN, payload, payload_len);
	trl = buf + LWF_HDR_LEN + payload_len;
	memset(trl, 0, LWF_TRAILER_LEN); /* unsigned: a zero signature */
	put_be32(trl + TRL_CHECKSUM, crc32(buf, LWF_HDR_LEN + payload_len));
	return (int)total;
}

const char *
lwf_reason_str(int reason)
{
	static const char *const names[LWF_N_REASONS] = {
		"ok",	      "too-short", "bad-magic",	   "bad-version",
		"bad-length", "too-big",   "bad-checksum", "replay",
	};

	if (reason < 0)
		reason = -reason;
	return reason < LWF_N_REASONS ? names[reason] : "unknown";
}

/* ---- replay window --------------------------------------------------- */

void
lwf_replay_init(struct lwf_replay *r)
{
	memset(r, 0, sizeof(*r));
}

/* FNV-1a over the 16 bytes: spreads ids that differ in any byte. */
static inline uint32_t
session_hash(const uint8_t *id)
{
	uint32_t h = 2166136261u;
	unsigned int i;

	for (i = 0; i < 16; i++)
		h = (h ^ id[i]) * 16777619u;
	return h;
}

static struct lwf_replay_entry *
session_find(struct lwf_replay *r, const uint8_t *id, int *fresh)
{
	uint32_t h = session_hash(id);
	struct lwf_replay_entry *victim = NULL, *e;
	unsigned int i;

	for (i = 0; i < LWF_REPLAY_PROBE; i++) {
		e = &r->e[(h + i) & (LWF_REPLAY_SESSIONS - 1)];
		if (e->used != 0 && memcmp(e->session_id, id, 16) == 0) {
			*fresh = 0;
			return e;
		}
		if (e->used == 0) {
			if (victim == NULL || victim->used != 0)
				victim = e;
		} else if (victim == NULL ||
			   (victim->used != 0 && e->used < victim->used)) {
			victim = e; /* least recently used so far */
		}
	}
	if (victim->used != 0)
		r->evicted++;
	memcpy(victim->session_id, id, 16);
	*fresh = 1;
	return victim;
}

int
lwf_replay_check(struct lwf_replay *r, const uint8_t *session_id,
		 uint32_t sequence)
{
	int fresh;
	struct lwf_replay_entry *e = session_find(r, session_id, &fresh);
	uint32_t back;
	int32_t ahead;

	e->used = ++r->clock;
	if (fresh) {
		e->top = sequence;
		e->seen = 1;
		return 0;
	}
	/* serial-number arithmetic: correct across the 32-bit wrap */
	ahead = (int32_t)(sequence - e->top);
	if (ahead > 0) {
		e->seen = (uint32_t)ahead >= LWF_REPLAY_WINDOW
				  ? 0
				  : e->seen << ahead;
		e->seen |= 1;
		e->top = sequence;
		return 0;
	}
	back = e->top - sequence; /* 0 .. 2^31 */
	if (back >= LWF_REPLAY_WINDOW)
		return -LWF_REPLAY; /* older than the window */
	if (e->seen & (1ull << back))
		return -LWF_REPLAY;
	e->seen |= 1ull << back;
	return 0;
}
