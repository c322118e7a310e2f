/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Wire formats the fibers parse from outside input (docs/wire-formats.md):
 *   LWF v2 on EtherType 0x4C57: 88-byte header, payload, 36-byte trailer
 *   with a CRC-32 over header and payload; a per-session replay window;
 *   UTCP on EtherType 0x88B5: a 10-byte header, then payload.
 * All multi-byte fields are big-endian on the wire.  Parsers take bytes and
 * a length, never trust a length field, and return 0 or a negative reason.
 */
#ifndef ION_WIRE_H
#define ION_WIRE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Ethernet ------------------------------------------------------ */

/**
 * The L3 payload of an Ethernet frame, behind up to two 802.1Q/802.1ad
 * tags.  @return 0 with *ethertype and *off set, or -1 for a runt.
 */
int wire_l2_payload(const uint8_t *frame, uint32_t len, uint16_t *ethertype,
		    uint32_t *off);

/* ---- LWF v2 -------------------------------------------------------- */

#define LWF_ETHERTYPE	0x4C57
#define LWF_HDR_LEN	88u
#define LWF_TRAILER_LEN 36u
#define LWF_VERSION	2u

enum lwf_class {
	LWF_CLASS_MICRO = 0x00,	   /**< 128 bytes in all */
	LWF_CLASS_MINI = 0x01,	   /**< 512 */
	LWF_CLASS_STANDARD = 0x02, /**< 1350 */
	LWF_CLASS_BIG = 0x03,	   /**< 4096 */
	LWF_CLASS_JUMBO = 0x04,	   /**< 9000 */
	LWF_CLASS_VARIABLE = 0xFF, /**< bounded by the bytes received */
};

/** Why a frame was refused, in the order the checks run. */
enum lwf_reason {
	LWF_OK = 0,
	LWF_TOO_SHORT,	  /**< fewer bytes than header + trailer */
	LWF_BAD_MAGIC,	  /**< not 'L' 'W' 'F' 0x00 */
	LWF_BAD_VERSION,  /**< not 2 */
	LWF_BAD_LENGTH,	  /**< payload_len does not fit the bytes received */
	LWF_TOO_BIG,	  /**< larger than its class, or an unknown class */
	LWF_BAD_CHECKSUM, /**< CRC-32 over header + payload differs */
	LWF_REPLAY,	  /**< sequence seen, or older than the window */
	LWF_N_REASONS,
};

/*
 * The header fields, parsed: integers in host order, the hashes and the
 * session id pointing into the caller's buffer.  One list for the two
 * views below, so they cannot drift apart.
 */
#define LWF_HDR_VIEW_FIELDS                                                    \
	const uint8_t *dest_hint;   /**< 24 bytes */                           \
	const uint8_t *source_hint; /**< 24 bytes */                           \
	const uint8_t *session_id;  /**< 16 bytes */                           \
	uint32_t sequence;                                                     \
	uint16_t service_type;                                                 \
	uint16_t payload_len;                                                  \
	uint8_t frame_class;                                                   \
	uint8_t version;                                                       \
	uint8_t flags;                                                         \
	uint8_t entropy_difficulty;                                            \
	uint64_t timestamp;

/** The 88-byte header, parsed. */
struct lwf_hdr_view {
	LWF_HDR_VIEW_FIELDS
};

/**
 * A parsed frame; pointers into the caller's buffer.  The header is both
 * f.hdr (a struct lwf_hdr_view to pass around) and, through an anonymous
 * member of the same layout, f.sequence, f.session_id, ...
 */
struct lwf_frame {
	union {
		struct lwf_hdr_view hdr;
		struct {
			LWF_HDR_VIEW_FIELDS
		};
	};
	const uint8_t *payload;	  /**< payload_len bytes */
	const uint8_t *signature; /**< 32 bytes */
	uint32_t checksum;
	uint32_t frame_len; /**< header + payload + trailer */
};

/**
 * Total size bound (header + payload + trailer) of @p frame_class;
 * UINT32_MAX for the variable class (bounded by the bytes received only),
 * 0 for an unknown class.
 */
uint32_t lwf_frame_class_max(uint8_t frame_class);

/**
 * Parse and check the LWF frame in @p buf[0..len) (bytes after the frame,
 * such as Ethernet padding, are ignored).  The checks run in the order of
 * enum lwf_reason; the replay window is the caller's (lwf_replay_check()),
 * as only the fiber knows whether it verifies signatures first.
 * @return 0 with @p f filled, or -LWF_TOO_SHORT ... -LWF_BAD_CHECKSUM
 *         (@p f then holds nothing useful).
 */
int lwf_parse(const uint8_t *buf, uint32_t len, struct lwf_frame *f);

/** What lwf_build() writes; the rest of the header is zero. */
struct lwf_params {
	uint8_t dest_hint[24];
	uint8_t source_hint[24];
	uint8_t session_id[16];
	uint32_t sequence;
	uint16_t service_type;
	uint8_t frame_class;
	uint8_t flags;
	uint8_t entropy_difficulty;
	uint64_t timestamp;
};

/**
 * Write a valid frame carrying @p payload into @p buf (@p cap bytes).
 * @return the frame's length, -ENOSPC if @p cap is too small, -EMSGSIZE
 *         if the payload does not fit the frame class.
 */
int lwf_build(uint8_t *buf, uint32_t cap, const struct lwf_params *p,
	      const void *payload, uint16_t payload_len);

/** "too-short", "bad-magic", ...; for -reason or reason. */
const char *lwf_reason_str(int reason);

/* ---- LWF replay window ------------------------------------------------ */

#define LWF_REPLAY_WINDOW   64u /**< sequences remembered below the newest */
#define LWF_REPLAY_SESSIONS 1024u
#define LWF_REPLAY_PROBE    8u /**< slots searched for a session */

struct lwf_replay_entry {
	uint8_t session_id[16];
	uint32_t top;  /**< newest sequence seen */
	uint64_t seen; /**< bit i: top - i was seen */
	uint64_t used; /**< last use (the table's clock); 0 = free */
};

/**
 * Sessions in a fixed table: open addressing on a hash of the session id,
 * LWF_REPLAY_PROBE slots per session; when all of them hold other
 * sessions, the least recently used one is evicted.  No allocation after
 * init, bounded work per frame.
 */
struct lwf_replay {
	struct lwf_replay_entry e[LWF_REPLAY_SESSIONS];
	uint64_t clock;
	uint64_t evicted; /**< sessions pushed out to make room */
};

void lwf_replay_init(struct lwf_replay *r);

/**
 * Record @p sequence of @p session_id (16 bytes).  Sequences compare in
 * serial-number arithmetic, so the window follows a session across the
 * 32-bit wrap.
 * @return 0 if new, -LWF_REPLAY if seen or older than the window.
 */
int lwf_replay_check(struct lwf_replay *r, const uint8_t *session_id,
		     uint32_t sequence);

/* ---- UTCP ----------------------------------------------------------- */

#define UTCP_ETHERTYPE 0x88B5
#define UTCP_HDR_LEN   10u
#define UTCP_VERSION   1u

enum utcp_reason {
	UTCP_OK = 0,
	UTCP_TOO_SHORT,	   /**< fewer bytes than a header */
	UTCP_BAD_VERSION,  /**< not 1 */
	UTCP_BAD_LENGTH,   /**< length < header, or more than received */
	UTCP_BAD_CHECKSUM, /**< Internet checksum does not verify */
	UTCP_N_REASONS,
};

struct utcp_pkt {
	uint8_t version;
	uint8_t flags;
	uint16_t src_port;
	uint16_t dst_port;
	uint16_t length; /**< header + payload */
	uint16_t checksum;
	const uint8_t *payload;
	uint16_t payload_len;
};

/**
 * Parse and check the UTCP packet in @p buf[0..len); bytes beyond its
 * length field (Ethernet padding) are ignored.
 * @return 0, or -UTCP_TOO_SHORT ... -UTCP_BAD_CHECKSUM.
 */
int utcp_parse(const uint8_t *buf, uint32_t len, struct utcp_pkt *p);

/**
 * Write a packet into @p buf (@p cap bytes).
 * @return its length, or -ENOSPC.
 */
int utcp_build(uint8_t *buf, uint32_t cap, uint8_t flags, uint16_t src_port,
	       uint16_t dst_port, const void *payload, uint16_t payload_len);

const char *utcp_reason_str(int reason);

#ifdef __cplusplus
}
#endif

#endif /* ION_WIRE_H */
