/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flood_gen: random and mutated Ethernet frames of every EtherType the
 * daemon routes, sent on a Linux interface (the TAP in front of ionswitchd)
 * with AF_PACKET and sendmmsg.  No DPDK: it only needs a socket.
 *
 *   flood_gen -i IFACE [-n FRAMES] [-s SEED] [--dst-mac MAC] [--dst-ip IP]
 *             [--avoid-ip IP] [--telemetry SOCK] [--window N]
 *             [--pcap FILE] [--dry-run] [--only KINDS] [--tail-pcap FILE]
 *             [-o JSON]
 *
 * The frames are a pure function of the seed and the addresses: the first
 * N frames of a seed are the same whatever -n is, so a failure replays
 * with the printed seed, and bisects with a smaller -n.
 *
 * What it counts is what the daemon's NetSwitch must count: every frame is
 * classified here exactly as lib/netswitch does it (up to two 802.1Q/802.1ad
 * tags skipped, runt when the EtherType is cut, unknown when not routed,
 * oversize when longer than a ring slot), so the checker can compare per
 * EtherType, not only in total.
 *
 * Pacing: the TAP -> dpdk-testpmd -> vhost-user path drops frames when the
 * daemon's virtio ring is full, before the daemon sees them; the daemon is
 * what is under test, so with --telemetry the sender keeps at most --window
 * frames between its socket and the daemon's port (frames sent minus the
 * port's rx_packets, read from the daemon's DPDK telemetry socket).  The
 * window is smaller than the TAP's queue and the virtio ring, so nothing
 * can be lost on the way however the CPUs are shared; the frames still
 * arrive back to back, so the daemon's own rings overflow and must count.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* sendmmsg */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define BATCH	      64
#define MAX_FRAME     1518 /* MTU 1500 + Ethernet header + one 802.1Q tag */
#define SLOT_SIZE     1514 /* the daemon's ring slots (flood.conf) */
#define LWF_SESSIONS  3000 /* more than the fiber's 1024-entry replay table */
#define STALL_SECONDS 20   /* no progress at the port for this long: fail */
#define DRAIN_SECONDS 20
/* between two questions to the daemon's telemetry: asked back to back, its
 * thread would take a CPU from the lcores it is counting for */
#define QUERY_GAP 250e-6

/* ---- randomness: xoshiro256**, seeded by splitmix64 ------------------- */

static uint64_t rs[4];

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static void
rnd_seed(uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		rs[i] = splitmix64(&seed);
}

static inline uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t
rnd64(void)
{
	uint64_t r = rotl(rs[1] * 5, 7) * 9, t = rs[1] << 17;

	rs[2] ^= rs[0];
	rs[3] ^= rs[1];
	rs[1] ^= rs[2];
	rs[0] ^= rs[3];
	rs[2] ^= t;
	rs[3] = rotl(rs[3], 45);
	return r;
}

/* uniform in [0, n) (n > 0); the bias of a 64-bit modulo is irrelevant */
static uint32_t
rnd(uint32_t n)
{
	return (uint32_t)(rnd64() % n);
}

/* uniform in [lo, hi] */
static uint32_t
rnd_in(uint32_t lo, uint32_t hi)
{
	return lo + rnd(hi - lo + 1);
}

static bool
chance(unsigned int percent)
{
	return rnd(100) < percent;
}

static void
rnd_bytes(uint8_t *p, size_t n)
{
	while (n >= 8) {
		uint64_t r = rnd64();

		memcpy(p, &r, 8);
		p += 8;
		n -= 8;
	}
	if (n > 0) {
		uint64_t r = rnd64();

		memcpy(p, &r, n);
	}
}

/* A payload length: mostly small frames, some large, some at the limit. */
static uint32_t
rnd_len(uint32_t max)
{
	uint32_t r = rnd(100);

	if (r < 60)
		return rnd_in(0, max < 128 ? max : 128);
	if (r < 90)
		return rnd_in(0, max < 1024 ? max : 1024);
	if (r < 95)
		return max;
	return rnd_in(0, max);
}

/* ---- checksums ---------------------------------------------------------- */

static uint32_t crc_table[256];

static void
crc32_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

/* CRC-32, zlib/Ethernet: "123456789" gives 0xCBF43926 */
static uint32_t
crc32(const uint8_t *p, size_t n)
{
	uint32_t c = 0xFFFFFFFFu;

	while (n--)
		c = crc_table[(c ^ *p++) & 0xFF] ^ (c >> 8);
	return c ^ 0xFFFFFFFFu;
}

/* One's complement sum of 16-bit big-endian words, not yet folded. */
static uint32_t
sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (; n >= 2; p += 2, n -= 2)
		s += (uint32_t)(p[0] << 8 | p[1]);
	if (n)
		s += (uint32_t)p[0] << 8;
	return s;
}

static uint16_t
fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xFFFF) + (s >> 16);
	return (uint16_t)~s;
}

static void
put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* ---- addresses ---------------------------------------------------------- */

struct addrs {
	uint8_t dst_mac[6];  /* the daemon's port (the membrane's MAC) */
	uint32_t dst_ip;     /* the membrane's IPv4 address, host order */
	uint32_t avoid_ip;   /* Linux's own address on the TAP, host order */
	uint8_t dst_ll6[16]; /* the membrane's IPv6 link-local (EUI-64) */
};

static struct addrs A;

/* A locally administered unicast MAC: never the TAP's, never a group. */
static void
rnd_src_mac(uint8_t *m)
{
	rnd_bytes(m, 6);
	m[0] = (uint8_t)((m[0] & 0xFC) | 0x02);
}

/*
 * A source IPv4 address in the membrane's subnet, but never Linux's own
 * (see guard()), or now and then one from elsewhere.
 */
static uint32_t
rnd_src_ip(void)
{
	if (chance(90))
		return (A.dst_ip & 0xFFFFFF00u) | rnd_in(100, 250);
	return (uint32_t)rnd64();
}

static uint32_t
rnd_dst_ip(void)
{
	uint32_t r = rnd(100);

	if (r < 85)
		return A.dst_ip;
	if (r < 90)
		return A.dst_ip | 0xFF; /* the subnet's broadcast */
	if (r < 93)
		return 0xFFFFFFFFu;
	if (r < 96)
		return 0xE0000001u; /* 224.0.0.1 */
	return (uint32_t)rnd64();
}

/* ---- frame kinds ---------------------------------------------------------
 * Every builder writes the L3 part at p (room bytes at most) and returns
 * its length; the caller writes the Ethernet header and tags in front. */

enum kind {
	K_ICMP,
	K_TCP,
	K_UDP,
	K_IPFRAG,
	K_IPOTHER,
	K_ARP,
	K_IPV6,
	K_UTCP,
	K_LWF,
	K_UNKNOWN,
	K_RUNT,
	K_OVERSIZE,
	K_RANDOM,
	K_N,
};

static const char *const kind_name[K_N] = {
	"ipv4_icmp", "ipv4_tcp", "ipv4_udp", "ipv4_frag", "ipv4_other",
	"arp",	     "ipv6",	 "utcp",     "lwf",	  "unknown",
	"runt",	     "oversize", "random",
};

/* percent of all frames, per kind; the routed kinds are also tagged,
 * truncated, extended and bit-flipped (mutate()) */
static unsigned int kind_weight[K_N] = {
	[K_ICMP] = 8,	 [K_TCP] = 10,	  [K_UDP] = 7,	 [K_IPFRAG] = 3,
	[K_IPOTHER] = 2, [K_ARP] = 6,	  [K_IPV6] = 10, [K_UTCP] = 17,
	[K_LWF] = 17,	 [K_UNKNOWN] = 6, [K_RUNT] = 3,	 [K_OVERSIZE] = 3,
	[K_RANDOM] = 8,
};

static unsigned int kind_total = 100;

/* --only KIND,...: the other kinds' weights become 0, to narrow a bug
 * down (the frames are then another sequence than the seed's full mix) */
static int
only_kinds(char *list)
{
	bool keep[K_N] = {false};

	for (char *tok = strtok(list, ","); tok != NULL;
	     tok = strtok(NULL, ",")) {
		int k;

		for (k = 0; k < K_N && strcmp(kind_name[k], tok) != 0; k++)
			;
		if (k == K_N)
			return -1;
		keep[k] = true;
	}
	kind_total = 0;
	for (int k = 0; k < K_N; k++) {
		if (!keep[k])
			kind_weight[k] = 0;
		kind_total += kind_weight[k];
	}
	return kind_total > 0 ? 0 : -1;
}

static const uint16_t routed[] = {0x0800, 0x0806, 0x86DD, 0x88B5, 0x4C57};
#define N_ROUTED (sizeof(routed) / sizeof(routed[0]))

static bool
is_tag(uint16_t t)
{
	return t == 0x8100 || t == 0x88A8 || t == 0x9100;
}

static bool
is_routed(uint16_t t)
{
	for (size_t i = 0; i < N_ROUTED; i++)
		if (routed[i] == t)
			return true;
	return false;
}

static uint32_t
ipv4_hdr(uint8_t *p, uint8_t proto, uint32_t l4len, uint32_t src, uint32_t dst,
	 uint16_t frag)
{
	/* options now and then: NOPs, which lwIP must skip */
	uint32_t ihl = chance(10) ? rnd_in(6, 15) : 5;

	p[0] = (uint8_t)(0x40 | ihl);
	p[1] = (uint8_t)rnd(4);
	put16(p + 2, ihl * 4 + l4len);
	put16(p + 4, (uint16_t)rnd64());
	put16(p + 6, frag);
	p[8] = chance(90) ? 64 : (uint8_t)rnd(256);
	p[9] = proto;
	put16(p + 10, 0);
	put32(p + 12, src);
	put32(p + 16, dst);
	memset(p + 20, 1, ihl * 4 - 20); /* IPOPT_NOP */
	put16(p + 10, fold(sum16(p, ihl * 4, 0)));
	return ihl * 4;
}

/* The TCP/UDP checksum's IPv4 pseudo header. */
static uint32_t
pseudo4(const uint8_t *ip, uint8_t proto, uint32_t len)
{
	return sum16(ip + 12, 8, 0) + proto + len;
}

static uint32_t
build_ipv4(enum kind k, uint8_t *p, uint32_t room)
{
	uint32_t src = rnd_src_ip(), dst = rnd_dst_ip();
	uint32_t max = room - 60 - 60; /* IP options and TCP options at most */
	uint8_t l4[MAX_FRAME];
	uint32_t n = 0, h, plen;
	uint8_t proto;
	uint16_t frag = chance(30) ? 0x4000 : 0; /* DF */

	switch (k) {
	case K_ICMP:
		proto = 1;
		plen = rnd_len(max);
		l4[0] = chance(80) ? 8 : (uint8_t)rnd(256); /* echo request */
		l4[1] = chance(90) ? 0 : (uint8_t)rnd(256);
		put16(l4 + 2, 0);
		put32(l4 + 4, (uint32_t)rnd64());
		rnd_bytes(l4 + 8, plen);
		n = 8 + plen;
		put16(l4 + 2, fold(sum16(l4, n, 0)));
		break;
	case K_TCP: {
		static const uint8_t flags[] = {0x02, 0x02, 0x02, 0x10,
						0x18, 0x04, 0x11, 0x12,
						0x14, 0x29, 0x3F, 0x00};
		static const uint16_t ports[] = {7, 80, 7, 80, 9, 443};
		uint32_t opt = chance(30) ? 4 * rnd_in(1, 10) : 0;

		proto = 6;
		plen = chance(50) ? 0 : rnd_len(max);
		put16(l4, rnd_in(1024, 65535));
		put16(l4 + 2, chance(90) ? ports[rnd(6)] : (uint16_t)rnd64());
		put32(l4 + 4, (uint32_t)rnd64());
		put32(l4 + 8, (uint32_t)rnd64());
		l4[12] = (uint8_t)((5 + opt / 4) << 4);
		l4[13] = flags[rnd(sizeof(flags))];
		put16(l4 + 14, (uint16_t)rnd64());
		put16(l4 + 16, 0);
		put16(l4 + 18, chance(90) ? 0 : (uint16_t)rnd64());
		/* options: MSS, window scale, SACK permitted, timestamps,
		 * or random bytes that lwIP's option parser must survive */
		if (opt) {
			if (chance(50)) {
				static const uint8_t good[40] = {
					2, 4,  5, 0xB4, 3, 3, 7, 4, 2, 0,
					8, 10, 0, 0,	0, 1, 0, 0, 0, 0,
					1, 1,  1, 1,	1, 1, 1, 1, 1, 1,
					1, 1,  1, 1,	1, 1, 1, 1, 1, 0};

				memcpy(l4 + 20, good, opt);
			} else {
				rnd_bytes(l4 + 20, opt);
			}
		}
		rnd_bytes(l4 + 20 + opt, plen);
		n = 20 + opt + plen;
		break;
	}
	case K_UDP:
		proto = 17;
		plen = rnd_len(max);
		put16(l4, rnd_in(1024, 65535));
		put16(l4 + 2, chance(60) ? 7 : (uint16_t)rnd64());
		put16(l4 + 4, 8 + plen);
		put16(l4 + 6, 0);
		rnd_bytes(l4 + 8, plen);
		n = 8 + plen;
		break;
	case K_IPFRAG:
		/* fragments from a few datagram ids, so that lwIP's reassembly
		 * sees pieces that belong together, overlap and never finish */
		proto = chance(50) ? 17 : 1;
		n = 8 * rnd_in(1, max / 8);
		rnd_bytes(l4, n);
		frag = (uint16_t)(rnd(2) ? 0x2000 : 0) | (uint16_t)rnd(64);
		if ((frag & 0x3FFF) == 0)
			frag |= 0x2000;
		src = (A.dst_ip & 0xFFFFFF00u) | 200;
		dst = A.dst_ip;
		break;
	default: {
		/* IGMP, IP in IP, IPv6 in IP, GRE, ESP, OSPF, SCTP, UDP-Lite */
		static const uint8_t protos[] = {2,  4,	  41,  47, 50,
						 89, 132, 136, 255};

		proto = chance(70) ? protos[rnd(sizeof(protos))]
				   : (uint8_t)rnd(256);
		n = rnd_len(max);
		rnd_bytes(l4, n);
		if (proto == 136 && n >= 8) {
			/* UDP-Lite (RFC 3828): the length field is the
			 * checksum's coverage: 0 (all), the header, all of
			 * it, or anything */
			static const uint16_t cov[] = {0, 8, 0xFFFF};
			uint32_t c = rnd(5);

			put16(l4 + 2, chance(50) ? 7 : (uint16_t)rnd64());
			put16(l4 + 4, c < 3 ? cov[c] : c == 3 ? n : rnd(65536));
		}
		break;
	}
	}
	h = ipv4_hdr(p, proto, n, src, dst, frag);
	if (k == K_IPFRAG) {
		/* the datagram id chooses the reassembly buffer: few of them */
		put16(p + 4, (uint16_t)rnd(4));
		put16(p + 10, 0);
		put16(p + 10, fold(sum16(p, h, 0)));
	}
	if (k == K_TCP)
		put16(l4 + 16, fold(sum16(l4, n, pseudo4(p, 6, n))));
	if (k == K_UDP && chance(90)) {
		uint16_t c = fold(sum16(l4, n, pseudo4(p, 17, n)));

		put16(l4 + 6, c ? c : 0xFFFF);
	}
	memcpy(p + h, l4, n);
	return h + n;
}

static uint32_t
build_arp(uint8_t *p, uint8_t *eth_dst, const uint8_t *src_mac)
{
	uint16_t op = chance(80) ? 1 : chance(80) ? 2 : (uint16_t)rnd64();
	uint32_t tip = chance(85) ? A.dst_ip : rnd_dst_ip();

	put16(p, 1);
	put16(p + 2, 0x0800);
	p[4] = 6;
	p[5] = 4;
	put16(p + 6, op);
	memcpy(p + 8, src_mac, 6);
	put32(p + 14, rnd_src_ip());
	if (op == 2)
		memcpy(p + 18, A.dst_mac, 6);
	else
		memset(p + 18, 0, 6);
	put32(p + 24, tip);
	/* requests to everyone, as Linux sends them; replies to the daemon */
	if (op == 1 && chance(80))
		memset(eth_dst, 0xFF, 6);
	/* padded to Ethernet's minimum or not: both reach the daemon */
	if (chance(50)) {
		memset(p + 28, 0, 18);
		return 46;
	}
	return 28;
}

static uint32_t
build_ipv6(uint8_t *p, uint8_t *eth_dst, uint32_t room)
{
	uint32_t max = room - 40 - 8, n, r = rnd(100);
	uint8_t nh;
	uint8_t *l4 = p + 40;

	p[0] = 0x60;
	p[1] = (uint8_t)rnd(16);
	put16(p + 2, (uint16_t)rnd64());
	p[7] = chance(50) ? 255 : 64;
	/* source: a link-local of ours or a documentation address */
	if (chance(70)) {
		memset(p + 8, 0, 16);
		p[8] = 0xFE;
		p[9] = 0x80;
		rnd_bytes(p + 16, 8);
	} else {
		static const uint8_t doc[4] = {0x20, 0x01, 0x0D, 0xB8};

		memcpy(p + 8, doc, 4);
		rnd_bytes(p + 12, 12);
	}
	/* destination: the membrane's link-local, all-nodes, its
	 * solicited-node group, or anything */
	if (r < 60) {
		memcpy(p + 24, A.dst_ll6, 16);
	} else if (r < 75) {
		static const uint8_t all[16] = {0xFF, 0x02, [15] = 1};
		static const uint8_t all_mac[6] = {0x33, 0x33, 0, 0, 0, 1};

		memcpy(p + 24, all, 16);
		memcpy(eth_dst, all_mac, 6);
	} else if (r < 90) {
		static const uint8_t sn[13] = {0xFF, 0x02, [11] = 1, 0xFF};

		memcpy(p + 24, sn, 13);
		memcpy(p + 37, A.dst_ll6 + 13, 3);
		eth_dst[0] = eth_dst[1] = 0x33;
		memcpy(eth_dst + 2, p + 36, 4);
	} else {
		rnd_bytes(p + 24, 16);
	}

	r = rnd(100);
	if (r < 50) { /* ICMPv6: echo request, neighbour solicitation, ... */
		static const uint8_t types[] = {128, 128, 128, 135, 135, 136,
						133, 134, 137, 1,   2,	 143};
		nh = 58;
		l4[0] = types[rnd(sizeof(types))];
		l4[1] = 0;
		put16(l4 + 2, 0);
		put32(l4 + 4, (uint32_t)rnd64());
		if (l4[0] == 135 || l4[0] == 136) {
			/* target: the membrane's address, and a link-layer
			 * address option */
			memcpy(l4 + 8, A.dst_ll6, 16);
			l4[24] = l4[0] == 135 ? 1 : 2;
			l4[25] = 1;
			rnd_src_mac(l4 + 26);
			n = 32;
		} else {
			n = 8 + rnd_len(max - 8);
			rnd_bytes(l4 + 8, n - 8);
		}
	} else if (r < 80) { /* UDP, echo port or any */
		nh = 17;
		n = 8 + rnd_len(max - 8);
		put16(l4, rnd_in(1024, 65535));
		put16(l4 + 2, chance(60) ? 7 : (uint16_t)rnd64());
		put16(l4 + 4, n);
		put16(l4 + 6, 0);
		rnd_bytes(l4 + 8, n - 8);
	} else { /* extension headers and other next headers */
		static const uint8_t nhs[] = {0, 43,  44,  59, 60,
					      6, 135, 136, 253};

		nh = nhs[rnd(sizeof(nhs))];
		n = rnd_len(max);
		rnd_bytes(l4, n);
		if (n >= 8 && nh != 59 && nh != 6) {
			l4[0] = chance(50) ? 59 : 58; /* next: none, ICMPv6 */
			l4[1] = (uint8_t)rnd(2);
			if (l4[1] * 8u + 8 > n)
				l4[1] = 0;
		}
	}
	put16(p + 4, n);
	p[6] = nh;
	if (nh == 58 || nh == 17) {
		/* the IPv6 pseudo header: addresses, length, next header */
		uint32_t s = sum16(p + 8, 32, 0) + n + nh;
		uint16_t c = fold(sum16(l4, n, s));

		put16(l4 + (nh == 58 ? 2 : 6), nh == 17 && c == 0 ? 0xFFFF : c);
	}
	return 40 + n;
}

/* UTCP (docs/wire-formats.md): version, flags, ports, length, checksum */
static uint32_t
build_utcp(uint8_t *p, uint32_t room)
{
	uint32_t n = 10 + rnd_len(room - 10), pad = 0;

	p[0] = 1;
	p[1] = chance(70) ? 1 : (uint8_t)rnd(256);
	put16(p + 2, (uint16_t)rnd64());
	put16(p + 4, chance(50) ? 7 : (uint16_t)rnd64());
	put16(p + 6, n);
	put16(p + 8, 0);
	rnd_bytes(p + 10, n - 10);
	put16(p + 8, fold(sum16(p, n, 0)));
	/* Ethernet padding beyond the length is ignored by the parser */
	if (chance(20) && n < room)
		pad = rnd_in(1, room - n < 46 ? room - n : 46);
	memset(p + n, 0, pad);
	return n + pad;
}

/* LWF v2 (docs/wire-formats.md): 88-byte header, payload, 32-byte
 * signature, CRC-32 over header and payload. */
static uint32_t lwf_seq[LWF_SESSIONS];

static uint32_t
build_lwf(uint8_t *p, uint32_t room)
{
	/* the class bounds the whole frame; variable is bound by the bytes;
	 * big, jumbo and unknown classes fit an Ethernet slot only small */
	static const uint8_t classes[] = {0x00, 0x01, 0x02, 0x02, 0x02,
					  0x03, 0x04, 0xFF, 0x07};
	static const uint32_t class_max[] = {128,  512,	 1350, 1350, 1350,
					     4096, 9000, 0,    0};
	uint32_t c = rnd(sizeof(classes)), s = rnd(LWF_SESSIONS), r, plen,
		 max = room - 124;

	if (class_max[c] != 0 && class_max[c] - 124 < max)
		max = class_max[c] - 124;
	plen = rnd_len(max);
	memcpy(p, "LWF", 4);
	memset(p + 4, 0xD0, 24);
	memset(p + 28, 0x50, 24);
	/* session id: the session's number, so sessions collide in the
	 * replay table only as FNV-1a makes them */
	memset(p + 52, 0, 16);
	put32(p + 52, s);
	put32(p + 64, 0x10F10F10u);
	/* sequences: mostly the next one, sometimes a replay, an old one,
	 * or a jump far ahead */
	r = rnd(100);
	if (r < 80)
		lwf_seq[s]++;
	else if (r < 88)
		; /* the same sequence again */
	else if (r < 94)
		lwf_seq[s] -= rnd_in(1, 200);
	else
		lwf_seq[s] += (uint32_t)rnd64();
	put32(p + 68, lwf_seq[s]);
	put16(p + 72, chance(80) ? 1 : (uint16_t)rnd64());
	put16(p + 74, plen);
	p[76] = classes[c];
	p[77] = 2;
	p[78] = (uint8_t)rnd(64);
	p[79] = (uint8_t)rnd(8);
	rnd_bytes(p + 80, 8);
	rnd_bytes(p + 88, plen);
	memset(p + 88 + plen, 0, 32);
	put32(p + 120 + plen, crc32(p, 88 + plen));
	return 124 + plen;
}

/* ---- frames ------------------------------------------------------------- */

struct frame {
	uint8_t d[MAX_FRAME];
	uint32_t len;
	enum kind kind;
	bool mutated;
};

static uint32_t
max_len(const uint8_t *d)
{
	/* the kernel takes 4 more bytes from a packet socket when the frame
	 * is 802.1Q-tagged (outer TPID 0x8100 only) */
	return get16(d + 12) == 0x8100 ? MAX_FRAME : MAX_FRAME - 4;
}

/*
 * Random damage to a valid frame: bit flips anywhere or in the headers,
 * a 16-bit field set to a boundary value, truncation, extension.
 */
static void
mutate(struct frame *f)
{
	unsigned int rounds = chance(25) ? 2 : 1;

	f->mutated = true;
	while (rounds--) {
		uint32_t n, i, hdr = f->len < 64 ? f->len : 64;

		switch (rnd(5)) {
		case 0:
			for (n = rnd_in(1, 8); n--;) {
				i = rnd(f->len * 8);
				f->d[i / 8] ^= (uint8_t)(1u << (i % 8));
			}
			break;
		case 1:
			for (n = rnd_in(1, 4); n--;) {
				i = 14 * 8 + rnd((hdr > 14 ? hdr - 14 : 1) * 8);
				if (i / 8 < f->len)
					f->d[i / 8] ^= (uint8_t)(1u << (i % 8));
			}
			break;
		case 2: {
			static const uint16_t v[] = {0,	     1,	     0x7FFF,
						     0x8000, 0xFFFF, 0xFFFE};

			if (hdr < 16)
				break;
			i = rnd_in(14, hdr - 2);
			put16(f->d + i,
			      chance(50) ? v[rnd(6)] : (uint16_t)rnd64());
			break;
		}
		case 3:
			if (f->len > 14)
				f->len = rnd_in(14, f->len - 1);
			break;
		default:
			n = max_len(f->d);
			if (f->len < n) {
				i = rnd_in(f->len + 1, n);
				rnd_bytes(f->d + f->len, i - f->len);
				f->len = i;
			}
			break;
		}
	}
	if (f->len > max_len(f->d))
		f->len = max_len(f->d);
}

/*
 * Nothing the flood sends may speak for Linux's own address: lwIP would
 * answer it (a SYN-ACK, an echo reply, a port unreachable) and Linux would
 * answer that, adding frames to the count; an ARP from that address would
 * also repoint lwIP's entry for Linux and break the ping that follows.
 * The membrane reads untagged frames only, so untagged ones are fixed.
 */
static void
guard(struct frame *f)
{
	uint16_t et = f->len >= 14 ? get16(f->d + 12) : 0;
	uint32_t at = et == 0x0800 ? 26 : et == 0x0806 ? 28 : 0;

	if (at && f->len >= at + 4) {
		uint32_t ip = (uint32_t)f->d[at] << 24 | f->d[at + 1] << 16 |
			      f->d[at + 2] << 8 | f->d[at + 3];

		if (ip == A.avoid_ip)
			f->d[at + 3] ^= 0x80;
	}
}

static void
make_frame(struct frame *f)
{
	uint32_t r = rnd(kind_total), acc = 0, off, room, n = 0, tags = 0, i;
	uint8_t *d = f->d;
	uint16_t et = 0;
	enum kind k;

	for (k = 0; k < K_N - 1; k++) {
		acc += kind_weight[k];
		if (r < acc)
			break;
	}
	f->kind = k;
	f->mutated = false;
	memcpy(d, A.dst_mac, 6);
	rnd_src_mac(d + 6);

	if (k == K_RANDOM) {
		f->len = rnd_in(14, MAX_FRAME);
		rnd_bytes(d, f->len);
		if (f->len > max_len(d))
			f->len = max_len(d);
		guard(f);
		return;
	}
	if (k == K_RUNT) {
		/* the EtherType cut off behind one or two tags: a runt for
		 * the NetSwitch (a packet socket takes no less than 14 bytes,
		 * and the virtio PMD drops anything shorter itself) */
		tags = rnd_in(1, 2);
		f->len = rnd_in(14, 12 + 4 * tags + 1);
		for (i = 0; i < tags; i++) {
			put16(d + 12 + 4 * i,
			      i == 0 && chance(50) ? 0x88A8 : 0x8100);
			put16(d + 14 + 4 * i, (uint16_t)rnd64());
		}
		return;
	}
	/* 802.1Q / 802.1ad tags in front of the EtherType: sometimes one,
	 * sometimes two (QinQ), rarely three (unknown for the NetSwitch) */
	r = rnd(100);
	tags = k == K_OVERSIZE ? 1 : r < 85 ? 0 : r < 95 ? 1 : r < 99 ? 2 : 3;
	for (i = 0; i < tags; i++) {
		static const uint16_t outer[] = {0x8100, 0x88A8, 0x9100};

		put16(d + 12 + 4 * i, i + 1 < tags ? outer[rnd(3)] : 0x8100);
		put16(d + 14 + 4 * i, rnd(4096));
	}
	if (k == K_OVERSIZE)
		put16(d + 12, 0x8100);
	off = 14 + 4 * tags;
	room = MAX_FRAME - 4 - off; /* untagged frames stop at 1514 */
	switch (k) {
	case K_ICMP:
	case K_TCP:
	case K_UDP:
	case K_IPFRAG:
	case K_IPOTHER:
		et = 0x0800;
		n = build_ipv4(k, d + off, room);
		break;
	case K_ARP:
		et = 0x0806;
		n = build_arp(d + off, d, d + 6);
		break;
	case K_IPV6:
		et = 0x86DD;
		n = build_ipv6(d + off, d, room);
		break;
	case K_UTCP:
		et = 0x88B5;
		n = build_utcp(d + off, room);
		break;
	case K_LWF:
		et = 0x4C57;
		n = build_lwf(d + off, room);
		break;
	case K_UNKNOWN:
		do
			et = (uint16_t)rnd64();
		while (is_routed(et) || is_tag(et));
		n = rnd_len(room);
		rnd_bytes(d + off, n);
		break;
	case K_OVERSIZE:
		/* a routed EtherType behind an 802.1Q tag, longer than a
		 * ring slot (1514) but within what the TAP takes (1518) */
		et = routed[rnd(N_ROUTED)];
		n = rnd_in(SLOT_SIZE + 1, MAX_FRAME) - off;
		rnd_bytes(d + off, n);
		break;
	default:
		break;
	}
	put16(d + off - 2, et);
	f->len = off + n;
	if (k != K_UNKNOWN && k != K_OVERSIZE && chance(50))
		mutate(f);
	guard(f);
}

/* ---- the NetSwitch's view of a frame (lib/netswitch classify()) ----- */

enum { C_RUNT = -1, C_UNKNOWN = -2 };

static int
classify(const uint8_t *d, uint32_t len, uint16_t *ethertype)
{
	uint32_t off = 12;

	for (unsigned int tags = 0;; tags++) {
		uint16_t t;

		if (len < off + 2)
			return C_RUNT;
		t = get16(d + off);
		*ethertype = t;
		if (!is_tag(t))
			break;
		if (tags == 2)
			return C_UNKNOWN;
		off += 4;
	}
	for (size_t i = 0; i < N_ROUTED; i++)
		if (routed[i] == *ethertype)
			return (int)i;
	return C_UNKNOWN;
}

struct counts {
	uint64_t runt, unknown;
	uint64_t rx[N_ROUTED], oversize[N_ROUTED];
	uint64_t kind[K_N][2];	  /* valid, mutated */
	uint64_t tagged_membrane; /* tagged frames for the membrane's ring */
};

static void
count(struct counts *c, const struct frame *f)
{
	uint16_t et;
	int r = classify(f->d, f->len, &et);

	c->kind[f->kind][f->mutated]++;
	if (r == C_RUNT) {
		c->runt++;
	} else if (r == C_UNKNOWN) {
		c->unknown++;
	} else {
		c->rx[r]++;
		if (f->len > SLOT_SIZE)
			c->oversize[r]++;
		else if (et != 0x88B5 && et != 0x4C57 &&
			 is_tag(get16(f->d + 12)))
			c->tagged_membrane++;
	}
}

/* ---- the daemon's telemetry: frames received at its port -------------- */

struct tel {
	int fd;
	bool outstanding;
	uint64_t base, rx, queries;
	bool have_base;
	double asked; /* when the last question went out */
};

static double now(void);

static int
tel_open(struct tel *t, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct pollfd pfd;
	char buf[1024];

	memset(t, 0, sizeof(*t));
	t->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0);
	if (t->fd < 0 || strlen(path) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, path);
	if (connect(t->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	/* the server greets with its version and limits first */
	pfd.fd = t->fd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 5000) != 1 || recv(t->fd, buf, sizeof(buf), 0) <= 0)
		return -1;
	return 0;
}

/* Ask for the port's counters, unless a question is out or the last one
 * went out less than @p gap seconds ago. */
static int
tel_request(struct tel *t, double gap)
{
	static const char cmd[] = "/ion/port";
	double at = now();

	if (t->outstanding || at - t->asked < gap)
		return 0;
	if (send(t->fd, cmd, sizeof(cmd) - 1, 0) < 0)
		return -1;
	t->outstanding = true;
	t->asked = at;
	t->queries++;
	return 0;
}

/* Take a reply if one is there (waiting up to @p ms): 1 taken, 0 none. */
static int
tel_poll(struct tel *t, int ms)
{
	char buf[4096], *p;
	struct pollfd pfd = {.fd = t->fd, .events = POLLIN};
	ssize_t n;

	if (!t->outstanding)
		return 0;
	if (ms > 0 && poll(&pfd, 1, ms) == 0)
		return 0;
	n = recv(t->fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN ? 0 : -1;
	if (n == 0)
		return -1;
	buf[n] = '\0';
	p = strstr(buf, "\"rx_packets\":");
	if (p == NULL)
		return -1;
	t->rx = strtoull(p + 13, NULL, 10);
	if (!t->have_base) {
		t->base = t->rx;
		t->have_base = true;
	}
	t->outstanding = false;
	return 1;
}

/* ---- output ------------------------------------------------------------- */

static void
pcap_open(FILE *f)
{
	uint32_t h[6] = {0xA1B2C3D4u, 0x00040002u, 0, 0, 65535, 1};

	fwrite(h, sizeof(h), 1, f);
}

static void
pcap_write(FILE *f, const struct frame *fr, uint64_t i)
{
	uint32_t h[4] = {(uint32_t)(i / 1000000), (uint32_t)(i % 1000000),
			 fr->len, fr->len};

	fwrite(h, sizeof(h), 1, f);
	fwrite(fr->d, fr->len, 1, f);
}

/*
 * The last TAIL frames sent, for --tail-pcap: when the daemon dies or
 * stops receiving, the frame that did it is among them (the fibers lag
 * the port by at most a ring of 256 frames, the port the sender by the
 * window), ready to replay alone.
 */
#define TAIL 4096

static struct frame *tail;
static uint64_t tail_n;
static const char *tail_path;

static void
tail_add(const struct frame *f)
{
	struct frame *t = &tail[tail_n++ % TAIL];

	t->len = f->len;
	t->kind = f->kind;
	t->mutated = f->mutated;
	memcpy(t->d, f->d, f->len);
}

/* Something went wrong: keep the last frames sent, and fail. */
static int
failed(void)
{
	uint64_t i = tail_n > TAIL ? tail_n - TAIL : 0;
	FILE *f;

	if (tail == NULL || tail_n == 0)
		return 1;
	f = fopen(tail_path, "wb");
	if (f == NULL) {
		perror(tail_path);
		return 1;
	}
	pcap_open(f);
	for (uint64_t j = i; j < tail_n; j++)
		pcap_write(f, &tail[j % TAIL], j);
	fclose(f);
	fprintf(stderr,
		"flood_gen: frames %" PRIu64 "..%" PRIu64
		" (the last sent; a frame's number is its pcap time in "
		"microseconds) are in %s\n",
		i, tail_n - 1, tail_path);
	return 1;
}

static void
print_json(FILE *o, const struct counts *c, uint64_t seed, uint64_t frames,
	   uint64_t sent, uint64_t refused, double secs, unsigned int window,
	   const struct tel *t, uint64_t waits)
{
	fprintf(o,
		"{\"seed\": %" PRIu64 ", \"frames\": %" PRIu64
		", \"sent\": %" PRIu64 ", \"tun_refused\": %" PRIu64
		", \"seconds\": %.3f, \"fps\": %.0f, \"window\": %u"
		", \"telemetry_queries\": %" PRIu64
		", \"credit_waits\": %" PRIu64 ", \"port_rx\": %" PRIu64
		",\n \"runt\": %" PRIu64 ", \"unknown\": %" PRIu64
		", \"tagged_membrane\": %" PRIu64 ",\n \"routes\": {",
		seed, frames, sent, refused, secs, secs > 0 ? sent / secs : 0,
		window, t ? t->queries : 0, waits,
		t && t->have_base ? t->rx - t->base : 0, c->runt, c->unknown,
		c->tagged_membrane);
	for (size_t i = 0; i < N_ROUTED; i++)
		fprintf(o,
			"%s\"0x%04x\": {\"rx\": %" PRIu64
			", \"oversize\": %" PRIu64 "}",
			i ? ", " : "", routed[i], c->rx[i], c->oversize[i]);
	fprintf(o, "},\n \"kinds\": {");
	for (int k = 0; k < K_N; k++)
		fprintf(o,
			"%s\"%s\": {\"valid\": %" PRIu64
			", \"mutated\": %" PRIu64 "}",
			k ? ", " : "", kind_name[k], c->kind[k][0],
			c->kind[k][1]);
	fprintf(o, "}}\n");
}

/* ---- main ------------------------------------------------------------- */

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
parse_mac(const char *s, uint8_t *m)
{
	unsigned int b[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4],
		   &b[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		m[i] = (uint8_t)b[i];
	return 0;
}

static int
parse_ip(const char *s, uint32_t *ip)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*ip = ntohl(a.s_addr);
	return 0;
}

static void
usage(void)
{
	fprintf(stderr,
		"usage: flood_gen -i IFACE [-n FRAMES] [-s SEED] [--dst-mac "
		"MAC]\n"
		"         [--dst-ip IP] [--avoid-ip IP] [--telemetry SOCK]\n"
		"         [--window N] [--pcap FILE] [--dry-run]\n"
		"         [--only KIND,...] [--tail-pcap FILE] [-o JSON]\n");
	exit(2);
}

static int
open_tx(const char *iface)
{
	struct sockaddr_ll sll = {.sll_family = AF_PACKET};
	int fd = socket(AF_PACKET, SOCK_RAW, 0), one = 1, buf = 16 << 20;

	/* protocol 0: this socket sends only, it receives nothing */
	if (fd < 0) {
		perror("flood_gen: AF_PACKET socket");
		return -1;
	}
	sll.sll_ifindex = (int)if_nametoindex(iface);
	if (sll.sll_ifindex == 0) {
		fprintf(stderr, "flood_gen: no interface %s\n", iface);
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		perror("flood_gen: bind");
		return -1;
	}
	/* Straight to the TAP's driver, not through its qdisc: a full TAP
	 * queue is then an error the sender sees (ENOBUFS) and retries,
	 * not a silent drop; and the qdisc counts Linux's own frames only */
	if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) <
	    0) {
		perror("flood_gen: PACKET_QDISC_BYPASS");
		return -1;
	}
	/* the window's frames in flight must fit the send buffer, or
	 * sendmmsg would block instead of the window pacing */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	return fd;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"iface", required_argument, NULL, 'i'},
		{"frames", required_argument, NULL, 'n'},
		{"seed", required_argument, NULL, 's'},
		{"dst-mac", required_argument, NULL, 'm'},
		{"dst-ip", required_argument, NULL, 'd'},
		{"avoid-ip", required_argument, NULL, 'a'},
		{"telemetry", required_argument, NULL, 't'},
		{"window", required_argument, NULL, 'w'},
		{"pcap", required_argument, NULL, 'p'},
		{"dry-run", no_argument, NULL, 'D'},
		{"only", required_argument, NULL, 'K'},
		{"tail-pcap", required_argument, NULL, 'T'},
		{"output", required_argument, NULL, 'o'},
		{NULL, 0, NULL, 0},
	};
	const char *iface = NULL, *tel_path = NULL, *pcap_path = NULL,
		   *out_path = NULL;
	uint64_t frames = 1000000, seed, sent = 0, refused = 0, waits = 0;
	unsigned int window = 768;
	bool dry = false, have_seed = false;
	static struct frame batch[BATCH];
	struct mmsghdr msg[BATCH];
	struct iovec iov[BATCH];
	struct counts c;
	struct tel tel, *t = NULL;
	double t0, last_progress;
	uint64_t last_rx = 0;
	FILE *pcap = NULL, *out = stdout;
	int fd = -1, opt;

	memset(&c, 0, sizeof(c));
	parse_mac("02:00:00:00:0f:02", A.dst_mac);
	parse_ip("10.79.0.2", &A.dst_ip);
	parse_ip("10.79.0.1", &A.avoid_ip);
	while ((opt = getopt_long(argc, argv, "i:n:s:o:", opts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			iface = optarg;
			break;
		case 'n':
			frames = strtoull(optarg, NULL, 0);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			have_seed = true;
			break;
		case 'm':
			if (parse_mac(optarg, A.dst_mac) < 0)
				usage();
			break;
		case 'd':
			if (parse_ip(optarg, &A.dst_ip) < 0)
				usage();
			break;
		case 'a':
			if (parse_ip(optarg, &A.avoid_ip) < 0)
				usage();
			break;
		case 't':
			tel_path = optarg;
			break;
		case 'w':
			window = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'p':
			pcap_path = optarg;
			break;
		case 'D':
			dry = true;
			break;
		case 'T':
			tail_path = optarg;
			break;
		case 'K':
			if (only_kinds(optarg) < 0)
				usage();
			break;
		case 'o':
			out_path = optarg;
			break;
		default:
			usage();
		}
	}
	if ((iface == NULL && !dry) || optind != argc)
		usage();
	if (!have_seed) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		seed = (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 20 ^
		       (uint64_t)getpid() << 40;
		seed &= 0xFFFFFFFFFFFFull; /* short enough to type */
	}
	/* the membrane's link-local address, EUI-64 from its MAC */
	A.dst_ll6[0] = 0xFE;
	A.dst_ll6[1] = 0x80;
	A.dst_ll6[8] = A.dst_mac[0] ^ 0x02;
	A.dst_ll6[9] = A.dst_mac[1];
	A.dst_ll6[10] = A.dst_mac[2];
	A.dst_ll6[11] = 0xFF;
	A.dst_ll6[12] = 0xFE;
	memcpy(A.dst_ll6 + 13, A.dst_mac + 3, 3);
	crc32_init();
	rnd_seed(seed);
	fprintf(stderr, "flood_gen: seed %" PRIu64 ", %" PRIu64 " frames%s\n",
		seed, frames, dry ? " (dry run)" : "");

	if (pcap_path != NULL) {
		pcap = fopen(pcap_path, "wb");
		if (pcap == NULL) {
			perror(pcap_path);
			return 1;
		}
		pcap_open(pcap);
	}
	if (tail_path != NULL) {
		tail = calloc(TAIL, sizeof(*tail));
		if (tail == NULL)
			return 1;
	}
	if (!dry) {
		fd = open_tx(iface);
		if (fd < 0)
			return 1;
	}
	if (!dry && tel_path != NULL && window > 0) {
		if (tel_open(&tel, tel_path) < 0 || tel_request(&tel, 0) < 0 ||
		    tel_poll(&tel, 5000) != 1) {
			fprintf(stderr, "flood_gen: telemetry %s: %s\n",
				tel_path, strerror(errno));
			return 1;
		}
		t = &tel;
	}

	t0 = last_progress = now();
	for (uint64_t done = 0; done < frames;) {
		uint32_t n = frames - done < BATCH ? (uint32_t)(frames - done)
						   : BATCH,
			 k = 0;

		if (t != NULL && n > window)
			n = window;

		if (t != NULL) {
			/* frames between us and the daemon's port; the first
			 * reply's count is the base (Linux's own frames, if
			 * any, only make the estimate smaller than the truth
			 * by as many: the window has room for that) */
			uint64_t got = t->rx - t->base;
			uint64_t flight = sent > got ? sent - got : 0;

			if (got != last_rx) {
				last_rx = got;
				last_progress = now();
			}
			if (flight >= window / 4 &&
			    tel_request(t, QUERY_GAP) < 0)
				goto tel_fail;
			if (flight + n > window) {
				/* the answer, or the time to ask again */
				if (!t->outstanding)
					usleep(50);
				else if (tel_poll(t, 100) < 0)
					goto tel_fail;
				waits++;
				if (now() - last_progress > STALL_SECONDS) {
					fprintf(stderr,
						"flood_gen: the daemon's port "
						"received nothing for %d s, "
						"%" PRIu64 " frames in flight, "
						"after %" PRIu64 " sent\n",
						STALL_SECONDS, flight, sent);
					return failed();
				}
				continue;
			}
			if (tel_poll(t, 0) < 0)
				goto tel_fail;
		}
		for (uint32_t i = 0; i < n; i++) {
			make_frame(&batch[i]);
			count(&c, &batch[i]);
			if (pcap != NULL)
				pcap_write(pcap, &batch[i], done + i);
			iov[i].iov_base = batch[i].d;
			iov[i].iov_len = batch[i].len;
			memset(&msg[i], 0, sizeof(msg[i]));
			msg[i].msg_hdr.msg_iov = &iov[i];
			msg[i].msg_hdr.msg_iovlen = 1;
		}
		done += n;
		if (dry) {
			sent += n;
			continue;
		}
		while (k < n) {
			int r = sendmmsg(fd, msg + k, n - k, 0);

			/* sendmmsg stops at the first frame the TAP refused:
			 * that one is counted and sent again */
			if (r > 0)
				k += (uint32_t)r;
			if (k == n)
				break;
			if (r < 0 && errno != ENOBUFS && errno != EAGAIN &&
			    errno != EINTR) {
				fprintf(stderr,
					"flood_gen: sendmmsg of a %zu-byte "
					"frame: %s\n",
					iov[k].iov_len, strerror(errno));
				return failed();
			}
			refused++;
			usleep(50);
		}
		sent += n;
		for (uint32_t i = 0; tail != NULL && i < n; i++)
			tail_add(&batch[i]);
	}

	/* wait until the daemon's port has every frame */
	if (t != NULL) {
		double end = now() + DRAIN_SECONDS;

		for (;;) {
			if (tel_request(t, 0) < 0 || tel_poll(t, 1000) < 0)
				goto tel_fail;
			if (!t->outstanding && t->rx - t->base >= sent)
				break;
			if (now() > end) {
				fprintf(stderr,
					"flood_gen: the daemon's port has "
					"%" PRIu64 " of %" PRIu64
					" frames after %d s\n",
					t->rx - t->base, sent, DRAIN_SECONDS);
				break;
			}
			usleep(10000);
		}
	}
	{
		double secs = now() - t0;

		fprintf(stderr,
			"flood_gen: %" PRIu64 " frames in %.2f s (%.0f/s), "
			"%" PRIu64 " retried after a full TAP queue, "
			"%" PRIu64 " credit waits\n",
			sent, secs, secs > 0 ? sent / secs : 0, refused, waits);
		if (out_path != NULL) {
			out = fopen(out_path, "w");
			if (out == NULL) {
				perror(out_path);
				return 1;
			}
		}
		print_json(out, &c, seed, frames, sent, refused, secs, window,
			   t, waits);
		if (out != stdout)
			fclose(out);
	}
	if (pcap != NULL)
		fclose(pcap);
	if (fd >= 0)
		close(fd);
	return 0;

tel_fail:
	fprintf(stderr,
		"flood_gen: telemetry: %s, after %" PRIu64
		" frames sent (the daemon's port had %" PRIu64 ")\n",
		errno ? strerror(errno) : "bad reply", sent,
		t != NULL ? t->rx - t->base : 0);
	return failed();
}
