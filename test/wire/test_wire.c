/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * LWF v2 and UTCP parsers: every refusal reason, valid frames of each
 * class, the replay window (duplicates, age, sliding, wrap, eviction), and
 * the hex examples of docs/wire-formats.md, read from the document itself.
 *
 *   test_wire SOURCE_ROOT
 *   test_wire --print-examples      (the hex the document shows)
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_net_crc.h>

#include <wire.h>

#include "../ion/cunit_main.h"

static const char *source_root = ".";

static void
params_default(struct lwf_params *p, uint8_t cls, uint32_t seq)
{
	unsigned int i;

	memset(p, 0, sizeof(*p));
	for (i = 0; i < 24; i++) {
		p->dest_hint[i] = (uint8_t)(0xd0 + i);
		p->source_hint[i] = (uint8_t)(0x50 + i);
	}
	for (i = 0; i < 16; i++)
		p->session_id[i] = (uint8_t)i;
	p->sequence = seq;
	p->service_type = 0x0001;
	p->frame_class = cls;
	p->timestamp = 0x0102030405060708ull;
}

static void
test_lwf_valid_classes(void)
{
	static const struct {
		uint8_t cls;
		uint16_t plen;
	} t[] = {
		{LWF_CLASS_MICRO, 4},	   {LWF_CLASS_MICRO, 0},
		{LWF_CLASS_MINI, 388},	   {LWF_CLASS_STANDARD, 1226},
		{LWF_CLASS_STANDARD, 100}, {LWF_CLASS_VARIABLE, 1000},
	};
	uint8_t buf[1600], payload[1300];
	struct lwf_params p;
	struct lwf_frame f;
	unsigned int i;

	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 13);
	for (i = 0; i < N_TESTS(t); i++) {
		int len;

		params_default(&p, t[i].cls, 1000 + i);
		len = lwf_build(buf, sizeof(buf), &p, payload, t[i].plen);
		CU_ASSERT_FATAL(len == (int)(88 + t[i].plen + 36));
		CU_ASSERT(lwf_parse(buf, (uint32_t)len, &f) == 0);
		CU_ASSERT(f.hdr.payload_len == t[i].plen);
		CU_ASSERT(f.hdr.sequence == 1000 + i);
		CU_ASSERT(f.hdr.service_type == 1);
		CU_ASSERT(f.hdr.frame_class == t[i].cls && f.hdr.version == 2);
		CU_ASSERT(f.hdr.timestamp == 0x0102030405060708ull);
		CU_ASSERT(f.hdr.session_id[15] == 15 &&
			  f.hdr.dest_hint[0] == 0xd0);
		CU_ASSERT(memcmp(f.payload, payload, t[i].plen) == 0);
		CU_ASSERT(f.frame_len == (uint32_t)len);
		/* the flat names are the same fields as f.hdr's */
		CU_ASSERT(&f.sequence == &f.hdr.sequence &&
			  &f.timestamp == &f.hdr.timestamp &&
			  f.session_id == f.hdr.session_id);
		/* Ethernet padding after the frame is not an error */
		CU_ASSERT(lwf_parse(buf, (uint32_t)len + 20, &f) == 0);
	}
	/* the largest payloads: one more byte does not fit the class */
	params_default(&p, LWF_CLASS_MICRO, 1);
	CU_ASSERT(lwf_build(buf, sizeof(buf), &p, payload, 5) == -EMSGSIZE);
	CU_ASSERT(lwf_build(buf, 100, &p, payload, 4) == -ENOSPC);
	CU_ASSERT(lwf_frame_class_max(0x05) == 0);
}

/* The CRC routine is the standard CRC-32 without EAL: its check value. */
static void
test_crc32_check_value(void)
{
	static const uint8_t check[] = "123456789";

	CU_ASSERT(rte_net_crc_calc(check, 9, RTE_NET_CRC32_ETH) == 0xCBF43926u);
}

static void
test_lwf_class_bounds(void)
{
	static const uint32_t max[] = {128, 512, 1350, 4096, 9000};
	static const uint8_t payload[16] = "12345";
	struct lwf_params p;
	struct lwf_frame f;
	uint8_t buf[256];
	unsigned int c;
	int len;

	for (c = 0; c < N_TESTS(max); c++)
		CU_ASSERT(lwf_frame_class_max((uint8_t)c) == max[c]);
	CU_ASSERT(lwf_frame_class_max(LWF_CLASS_VARIABLE) == UINT32_MAX);
	for (c = 5; c < 0xff; c++)
		CU_ASSERT(lwf_frame_class_max((uint8_t)c) == 0);

	/* a micro frame carrying 5 payload bytes: 129 bytes in a 128 class.
	 * Built as variable, then relabelled: the class is checked before
	 * the checksum, so the stale CRC does not matter. */
	params_default(&p, LWF_CLASS_VARIABLE, 1);
	len = lwf_build(buf, sizeof(buf), &p, payload, 5);
	CU_ASSERT_FATAL(len == 129);
	CU_ASSERT(lwf_parse(buf, (uint32_t)len, &f) == 0);
	buf[76] = LWF_CLASS_MICRO;
	CU_ASSERT(lwf_parse(buf, (uint32_t)len, &f) == -LWF_TOO_BIG);
	/* 4 bytes fit exactly */
	params_default(&p, LWF_CLASS_MICRO, 1);
	len = lwf_build(buf, sizeof(buf), &p, payload, 4);
	CU_ASSERT(len == 128 && lwf_parse(buf, 128, &f) == 0);
	/* variable: only the bytes received bound it */
	params_default(&p, LWF_CLASS_VARIABLE, 1);
	len = lwf_build(buf, sizeof(buf), &p, payload, 16);
	CU_ASSERT(lwf_parse(buf, (uint32_t)len, &f) == 0);
	CU_ASSERT(lwf_parse(buf, (uint32_t)len - 1, &f) == -LWF_BAD_LENGTH);
}

/* A valid standard frame to break, one field at a time. */
static int
good_frame(uint8_t *buf, uint32_t cap)
{
	static const uint8_t payload[64] = "sixty-four bytes of LWF payload";
	struct lwf_params p;

	params_default(&p, LWF_CLASS_STANDARD, 7);
	return lwf_build(buf, cap, &p, payload, sizeof(payload));
}

static void
test_lwf_reasons(void)
{
	struct lwf_frame f;
	uint8_t buf[512];
	int len = good_frame(buf, sizeof(buf));

	CU_ASSERT_FATAL(len == 88 + 64 + 36);
	CU_ASSERT(lwf_parse(buf, 0, &f) == -LWF_TOO_SHORT);
	CU_ASSERT(lwf_parse(buf, 123, &f) == -LWF_TOO_SHORT);
	/* a payload that does not fit the bytes received */
	CU_ASSERT(lwf_parse(buf, (uint32_t)len - 1, &f) == -LWF_BAD_LENGTH);
	buf[74] = 0xff; /* payload_len 0xff40 */
	CU_ASSERT(lwf_parse(buf, (uint32_t)len, &f) == -LWF_BAD_LENGTH);
	len = good_frame(buf, sizeof(buf));
	buf[0] = 'X';
	CU_ASSERT(lwf_parse(buf, (uint32_t)len, &f) == -LWF_BAD_MAGIC);
	len = good_frame(buf, sizeof(buf));
	buf[3] = 1; /* the magic's NUL */
	CU_ASSERT(lwf_parse(buf, (uint32_t)len, &f) == -LWF_BAD_MAGIC);
	len = good_frame(buf, sizeof(buf));
	buf[77] = 1;
	CU_ASSERT(lwf_parse(buf, (uint32_t)len, &f) == -LWF_BAD_VERSION);
	len = good_frame(buf, sizeof(buf));
	buf[76] = LWF_CLASS_MICRO; /* 188 bytes in a 128-byte class */
	CU_ASSERT(lwf_parse(buf, (uint32_t)len, &f) == -LWF_TOO_BIG);
	buf[76] = 0x07; /* no such class */
	CU_ASSERT(lwf_parse(buf, (uint32_t)len, &f) == -LWF_TOO_BIG);
	len = good_frame(buf, sizeof(buf));
	buf[100] ^= 0x01; /* one payload bit */
	CU_ASSERT(lwf_parse(buf, (uint32_t)len, &f) == -LWF_BAD_CHECKSUM);
	len = good_frame(buf, sizeof(buf));
	buf[len - 1] ^= 0x80; /* the checksum itself */
	CU_ASSERT(lwf_parse(buf, (uint32_t)len, &f) == -LWF_BAD_CHECKSUM);
	len = good_frame(buf, sizeof(buf));
	buf[68] ^= 0x01; /* a header field: the CRC covers the header */
	CU_ASSERT(lwf_parse(buf, (uint32_t)len, &f) == -LWF_BAD_CHECKSUM);
	CU_ASSERT(strcmp(lwf_reason_str(-LWF_BAD_CHECKSUM), "bad-checksum") ==
		  0);
	CU_ASSERT(strcmp(lwf_reason_str(LWF_REPLAY), "replay") == 0);
	CU_ASSERT(strcmp(lwf_reason_str(99), "unknown") == 0);
}

static void
test_replay_window(void)
{
	static struct lwf_replay r;
	uint8_t s1[16] = {1}, s2[16] = {2};
	uint32_t i;

	lwf_replay_init(&r);
	CU_ASSERT(lwf_replay_check(&r, s1, 100) == 0);
	CU_ASSERT(lwf_replay_check(&r, s1, 100) == -LWF_REPLAY);
	/* another session has its own window */
	CU_ASSERT(lwf_replay_check(&r, s2, 100) == 0);
	/* out of order inside the window is fine, once */
	CU_ASSERT(lwf_replay_check(&r, s1, 105) == 0);
	CU_ASSERT(lwf_replay_check(&r, s1, 103) == 0);
	CU_ASSERT(lwf_replay_check(&r, s1, 103) == -LWF_REPLAY);
	CU_ASSERT(lwf_replay_check(&r, s1, 101) == 0);
	/* 105 - 63 = 42 is the oldest remembered; 41 is too old */
	CU_ASSERT(lwf_replay_check(&r, s1, 42) == 0);
	CU_ASSERT(lwf_replay_check(&r, s1, 41) == -LWF_REPLAY);
	/* the window slides with the newest sequence */
	CU_ASSERT(lwf_replay_check(&r, s1, 200) == 0);
	CU_ASSERT(lwf_replay_check(&r, s1, 105) == -LWF_REPLAY);
	CU_ASSERT(lwf_replay_check(&r, s1, 137) == 0);
	CU_ASSERT(lwf_replay_check(&r, s1, 136) == -LWF_REPLAY);
	/* a long run in order */
	for (i = 1000; i < 2000; i++)
		CU_ASSERT(lwf_replay_check(&r, s2, i) == 0);
	CU_ASSERT(lwf_replay_check(&r, s2, 1999) == -LWF_REPLAY);
	CU_ASSERT(r.evicted == 0);
}

static void
test_replay_wrap(void)
{
	static struct lwf_replay r;
	uint8_t s[16] = {9};

	lwf_replay_init(&r);
	CU_ASSERT(lwf_replay_check(&r, s, 0xfffffffe) == 0);
	CU_ASSERT(lwf_replay_check(&r, s, 0xffffffff) == 0);
	CU_ASSERT(lwf_replay_check(&r, s, 0) == 0); /* newer, past the wrap */
	CU_ASSERT(lwf_replay_check(&r, s, 3) == 0);
	CU_ASSERT(lwf_replay_check(&r, s, 0xffffffff) == -LWF_REPLAY);
	CU_ASSERT(lwf_replay_check(&r, s, 0xfffffffd) == 0);
	CU_ASSERT(lwf_replay_check(&r, s, 1) == 0);
	CU_ASSERT(lwf_replay_check(&r, s, 1) == -LWF_REPLAY);
	/* half the sequence space behind is old, not new */
	CU_ASSERT(lwf_replay_check(&r, s, 3 + 0x80000000u) == -LWF_REPLAY);
}

static void
test_replay_eviction(void)
{
	static struct lwf_replay r;
	uint8_t s[16] = {0};
	uint32_t i, n = 4 * LWF_REPLAY_SESSIONS;

	lwf_replay_init(&r);
	/* more sessions than the table holds: bounded, old ones evicted */
	for (i = 0; i < n; i++) {
		memcpy(s, &i, sizeof(i));
		CU_ASSERT(lwf_replay_check(&r, s, 5) == 0);
	}
	CU_ASSERT(r.evicted >= n - LWF_REPLAY_SESSIONS);
	CU_ASSERT(r.evicted < n);
	/* the most recent session is still remembered */
	i = n - 1;
	memcpy(s, &i, sizeof(i));
	CU_ASSERT(lwf_replay_check(&r, s, 5) == -LWF_REPLAY);
	/* the first one was evicted: its window starts again */
	i = 0;
	memcpy(s, &i, sizeof(i));
	CU_ASSERT(lwf_replay_check(&r, s, 5) == 0);
}

static void
test_utcp(void)
{
	uint8_t buf[128];
	struct utcp_pkt p;
	int len;

	len = utcp_build(buf, sizeof(buf), 0x01, 1000, 7, "hello", 5);
	CU_ASSERT_FATAL(len == 15);
	CU_ASSERT(utcp_parse(buf, (uint32_t)len, &p) == 0);
	CU_ASSERT(p.version == 1 && p.flags == 1 && p.src_port == 1000 &&
		  p.dst_port == 7 && p.length == 15 && p.payload_len == 5);
	CU_ASSERT(memcmp(p.payload, "hello", 5) == 0);
	/* Ethernet pads short frames: bytes past length are not an error */
	memset(buf + len, 0, 31);
	CU_ASSERT(utcp_parse(buf, 46, &p) == 0 && p.payload_len == 5);
	memset(buf + len, 0xa5, 31); /* padding need not be zero */
	CU_ASSERT(utcp_parse(buf, 46, &p) == 0 && p.payload_len == 5);
	/* even-length payloads too */
	len = utcp_build(buf, sizeof(buf), 0, 1, 2, "abcd", 4);
	CU_ASSERT(utcp_parse(buf, (uint32_t)len, &p) == 0);
	len = utcp_build(buf, sizeof(buf), 0, 1, 2, NULL, 0);
	CU_ASSERT(len == 10 && utcp_parse(buf, 10, &p) == 0 &&
		  p.payload_len == 0);
	CU_ASSERT(utcp_build(buf, 12, 0, 1, 2, "hello", 5) == -ENOSPC);

	len = utcp_build(buf, sizeof(buf), 0, 1000, 7, "hello", 5);
	CU_ASSERT(utcp_parse(buf, 9, &p) == -UTCP_TOO_SHORT);
	CU_ASSERT(utcp_parse(buf, (uint32_t)len - 1, &p) == -UTCP_BAD_LENGTH);
	buf[0] = 2;
	CU_ASSERT(utcp_parse(buf, (uint32_t)len, &p) == -UTCP_BAD_VERSION);
	buf[0] = 1;
	buf[7] = 9; /* length below the header */
	CU_ASSERT(utcp_parse(buf, (uint32_t)len, &p) == -UTCP_BAD_LENGTH);
	buf[7] = 15;
	buf[12] ^= 0x04;
	CU_ASSERT(utcp_parse(buf, (uint32_t)len, &p) == -UTCP_BAD_CHECKSUM);
	buf[12] ^= 0x04;
	CU_ASSERT(utcp_parse(buf, (uint32_t)len, &p) == 0);
	buf[5] ^= 0x01; /* the header is covered too */
	CU_ASSERT(utcp_parse(buf, (uint32_t)len, &p) == -UTCP_BAD_CHECKSUM);
	buf[5] ^= 0x01;
	buf[14] ^= 0x01; /* the odd last byte */
	CU_ASSERT(utcp_parse(buf, (uint32_t)len, &p) == -UTCP_BAD_CHECKSUM);
	buf[14] ^= 0x01;
	/* the order: a short length is found before a bad checksum */
	buf[12] ^= 0x04;
	CU_ASSERT(utcp_parse(buf, (uint32_t)len - 1, &p) == -UTCP_BAD_LENGTH);
	CU_ASSERT(utcp_parse(buf, 9, &p) == -UTCP_TOO_SHORT);
	CU_ASSERT(strcmp(utcp_reason_str(-UTCP_BAD_LENGTH), "bad-length") == 0);
}

static void
test_l2_payload(void)
{
	uint8_t f[64] = {0};
	uint16_t et;
	uint32_t off;

	f[12] = 0x4c;
	f[13] = 0x57;
	CU_ASSERT(wire_l2_payload(f, 60, &et, &off) == 0 && et == 0x4c57 &&
		  off == 14);
	f[12] = 0x88; /* 802.1ad, then 802.1Q, then UTCP */
	f[13] = 0xa8;
	f[16] = 0x81;
	f[17] = 0x00;
	f[20] = 0x88;
	f[21] = 0xb5;
	CU_ASSERT(wire_l2_payload(f, 60, &et, &off) == 0 && et == 0x88b5 &&
		  off == 22);
	CU_ASSERT(wire_l2_payload(f, 21, &et, &off) == -1);
	CU_ASSERT(wire_l2_payload(f, 13, &et, &off) == -1);
	CU_ASSERT(wire_l2_payload(f, 22, &et, &off) == 0 && off == 22);
	/* one 0x9100 tag */
	f[12] = 0x91;
	f[13] = 0x00;
	f[16] = 0x4c;
	f[17] = 0x57;
	CU_ASSERT(wire_l2_payload(f, 60, &et, &off) == 0 && et == 0x4c57 &&
		  off == 18);
	CU_ASSERT(wire_l2_payload(f, 17, &et, &off) == -1);
	/* a third tag is not skipped: its TPID is the EtherType */
	f[12] = 0x81;
	f[13] = 0x00;
	f[16] = 0x81;
	f[17] = 0x00;
	f[20] = 0x81;
	f[21] = 0x00;
	CU_ASSERT(wire_l2_payload(f, 60, &et, &off) == 0 && et == 0x8100 &&
		  off == 22);
	/* the bare minimum: 14 bytes, an empty payload */
	f[12] = 0x88;
	f[13] = 0xb5;
	CU_ASSERT(wire_l2_payload(f, 14, &et, &off) == 0 && et == 0x88b5 &&
		  off == 14);
	CU_ASSERT(wire_l2_payload(f, 0, &et, &off) == -1);
}

/* ---- the document's examples ---------------------------------------- */

static const uint8_t mac_dst[6] = {0x02, 0, 0, 0, 0x0b, 0x02};
static const uint8_t mac_src[6] = {0x02, 0, 0, 0, 0x0a, 0x01};

static int
example_lwf(uint8_t *frame)
{
	struct lwf_params p;

	params_default(&p, LWF_CLASS_MICRO, 1);
	memcpy(frame, mac_dst, 6);
	memcpy(frame + 6, mac_src, 6);
	frame[12] = 0x4c;
	frame[13] = 0x57;
	return 14 + lwf_build(frame + 14, 200, &p, "ping", 4);
}

static int
example_utcp(uint8_t *frame)
{
	memcpy(frame, mac_dst, 6);
	memcpy(frame + 6, mac_src, 6);
	frame[12] = 0x88;
	frame[13] = 0xb5;
	return 14 + utcp_build(frame + 14, 200, 0, 1000, 7, "hello", 5);
}

static void
print_hex(const uint8_t *b, int n)
{
	int i;

	for (i = 0; i < n; i++)
		printf("%02x%s", b[i], i % 16 == 15 || i == n - 1 ? "\n" : " ");
}

/* The hex block after @p marker in the document, decoded; its length. */
static int
doc_hex(const char *marker, uint8_t *out, int cap)
{
	char path[512], *text, *p, *end;
	long size;
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/docs/wire-formats.md", source_root);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)size + 1);
	if (text == NULL || fread(text, 1, (size_t)size, f) != (size_t)size) {
		fclose(f);
		free(text);
		return -1;
	}
	fclose(f);
	p = strstr(text, marker);
	p = p ? strstr(p, "```\n") : NULL;
	end = p ? strstr(p + 4, "```") : NULL;
	if (p == NULL || end == NULL) {
		free(text);
		return -1;
	}
	for (p += 4; p < end && n < cap;) {
		if (isxdigit((unsigned char)p[0]) &&
		    isxdigit((unsigned char)p[1])) {
			out[n++] = (uint8_t)strtoul((char[]){p[0], p[1], 0},
						    NULL, 16);
			p += 2;
		} else {
			p++;
		}
	}
	free(text);
	return n;
}

static void
test_doc_examples(void)
{
	uint8_t doc[256], mine[256];
	struct lwf_frame f;
	struct utcp_pkt u;
	uint16_t et;
	uint32_t off;
	int n, m;

	n = doc_hex("<!-- lwf-example -->", doc, sizeof(doc));
	m = example_lwf(mine);
	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT(n == m && memcmp(doc, mine, (size_t)n) == 0);
	CU_ASSERT_FATAL(wire_l2_payload(doc, (uint32_t)n, &et, &off) == 0 &&
			et == LWF_ETHERTYPE);
	CU_ASSERT_FATAL(lwf_parse(doc + off, (uint32_t)n - off, &f) == 0);
	CU_ASSERT(f.hdr.payload_len == 4 && memcmp(f.payload, "ping", 4) == 0);
	CU_ASSERT(f.hdr.sequence == 1 && f.hdr.frame_class == LWF_CLASS_MICRO);
	/* the fields the document states */
	CU_ASSERT(f.hdr.service_type == 0x0001 && f.hdr.session_id[0] == 0 &&
		  f.hdr.session_id[15] == 0x0f && f.checksum == 0x2d2dccc0u);
	CU_ASSERT(n == 142 && f.frame_len == 128);

	n = doc_hex("<!-- utcp-example -->", doc, sizeof(doc));
	m = example_utcp(mine);
	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT(n == m && memcmp(doc, mine, (size_t)n) == 0);
	CU_ASSERT_FATAL(wire_l2_payload(doc, (uint32_t)n, &et, &off) == 0 &&
			et == UTCP_ETHERTYPE);
	CU_ASSERT_FATAL(utcp_parse(doc + off, (uint32_t)n - off, &u) == 0);
	CU_ASSERT(u.src_port == 1000 && u.dst_port == 7 && u.payload_len == 5);
	CU_ASSERT(u.checksum == 0xb72f && memcmp(u.payload, "hello", 5) == 0);
	CU_ASSERT(n == 29);
}

int
main(int argc, char **argv)
{
	static const struct test_case t[] = {
		TEST(test_crc32_check_value), TEST(test_lwf_valid_classes),
		TEST(test_lwf_class_bounds),  TEST(test_lwf_reasons),
		TEST(test_replay_window),     TEST(test_replay_wrap),
		TEST(test_replay_eviction),   TEST(test_utcp),
		TEST(test_l2_payload),	      TEST(test_doc_examples),
	};

	if (argc > 1 && strcmp(argv[1], "--print-examples") == 0) {
		uint8_t b[256];

		print_hex(b, example_lwf(b));
		printf("\n");
		print_hex(b, example_utcp(b));
		return 0;
	}
	if (argc > 1)
		source_root = argv[1];
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	if (test_add_suite("wire", t, N_TESTS(t)) < 0) {
		CU_cleanup_registry();
		return 1;
	}
	return test_run_all();
}
