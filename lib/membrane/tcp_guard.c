/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the membrane does with a TCP segment before lwIP sees it: bound the
 * connections that pile up in lwIP's lists without a client doing
 * anything (TIME-WAIT, half-open), and bring back a half-open connection
 * evicted to bound them when its client's ACK arrives after all.  lwIP
 * finds a segment's connection by walking those lists, so their length is
 * the cost of every SYN (docs/membrane.md, "Half-open and TIME-WAIT
 * connections").  IPv4: the membrane's IPv6 is link-local.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <lwip/priv/tcp_priv.h>
#include <lwip/prot/ethernet.h>

#include "membrane_impl.h"

/* Evicted half-open connections remembered, in buckets of two by a hash
 * of their four-tuple (a newer one takes the older's place in a full
 * bucket), and for how long: as long as
 * lwIP would have kept them (its SYN-RCVD timeout).  A burst of 10 000
 * connections at once brought ACKs 3 s after their connection's
 * eviction: lwIP's SYNs queued behind each other. */
#define SYN_CACHE_SIZE 16384u
#define SYN_CACHE_MS   TCP_SYN_RCVD_TIMEOUT

struct mb_syn_entry {
	uint32_t raddr;	       /**< the client's address, network order */
	uint16_t rport, lport; /**< host order */
	uint32_t iss, irs;     /**< both sides' initial sequence numbers */
	uint32_t ms;	       /**< the round's clock at the eviction */
	uint16_t mss;	       /**< what lwIP took from the client's SYN */
	uint8_t wscale;	       /**< its window scale, or NO_WSCALE */
	uint8_t live;
};
#define NO_WSCALE 0xffu

/* lwIP's state is process-wide, and so is this: the ISN lwIP must take
 * for the connection being brought back, and the hash's key. */
static bool isn_forced;
static u32_t isn_next;
static uint64_t cache_key;

bool
mb_tcp_forced_isn(u32_t *isn)
{
	if (!isn_forced)
		return false;
	*isn = isn_next;
	isn_forced = false; /* one connection's */
	return true;
}

void
mb_tcp_guard_end(void)
{
	isn_forced = false; /* the SYN made no connection */
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* The bucket of a four-tuple: two entries */
static struct mb_syn_entry *
bucket(struct membrane *m, uint32_t raddr, uint16_t rport, uint16_t lport)
{
	uint64_t x = ((uint64_t)raddr << 32 | (uint32_t)rport << 16 | lport) ^
		     cache_key;

	x = (x ^ (x >> 31)) * 0x9e3779b97f4a7c15ull;
	return &m->syn_cache[(x >> 40) & (SYN_CACHE_SIZE - 2)];
}

static bool
stale(const struct mb_syn_entry *e, uint32_t now)
{
	return !e->live || now - e->ms >= SYN_CACHE_MS;
}

/* A half-open connection about to be evicted, written down: enough to
 * build it again (its client's SYN, lwIP's ISN). */
static void
remember(struct membrane *m, const struct tcp_pcb *pcb)
{
	struct mb_syn_entry *e;
	uint32_t raddr, now;

	if (!IP_IS_V4(&pcb->remote_ip))
		return;
	if (m->syn_cache == NULL) { /* first needed in the first flood */
		m->syn_cache = calloc(SYN_CACHE_SIZE, sizeof(*m->syn_cache));
		if (m->syn_cache == NULL)
			return;
		if (getrandom(&cache_key, sizeof(cache_key), 0) !=
		    sizeof(cache_key))
			cache_key = (uintptr_t)m->syn_cache;
	}
	raddr = ip4_addr_get_u32(ip_2_ip4(&pcb->remote_ip));
	e = bucket(m, raddr, pcb->remote_port, pcb->local_port);
	now = m->now_ms; /* the clock recall() compares with */
	if (!stale(&e[0], now) &&
	    (stale(&e[1], now) || (int32_t)(e[1].ms - e[0].ms) < 0))
		e++; /* the first is live, the second free or older */
	e->raddr = raddr;
	e->rport = pcb->remote_port;
	e->lport = pcb->local_port;
	e->iss = pcb->lastack; /* SYN-RCVD: lastack is the ISN */
	e->irs = pcb->rcv_nxt - 1;
	e->mss = pcb->mss;
	e->wscale = (pcb->flags & TF_WND_SCALE) ? pcb->snd_scale : NO_WSCALE;
	e->ms = now;
	e->live = 1;
	m->syn_evicted_ms = e->ms;
}

/* The remembered entry of this four-tuple, if one is live. */
static struct mb_syn_entry *
recall(struct membrane *m, const uint8_t *l3, uint16_t sport, uint16_t dport)
{
	/* the round's clock: no clock read for every segment */
	uint32_t now = m->now_ms, raddr;
	struct mb_syn_entry *e;
	unsigned int i;

	if (m->syn_cache == NULL || now - m->syn_evicted_ms >= SYN_CACHE_MS)
		return NULL; /* no eviction lately: no lookup */
	memcpy(&raddr, l3 + 12, 4);
	e = bucket(m, raddr, sport, dport);
	for (i = 0; i < 2; i++, e++)
		if (!stale(e, now) && e->raddr == raddr && e->rport == sport &&
		    e->lport == dport)
			return e;
	return NULL;
}

static uint32_t
sum16(const uint8_t *p, uint32_t n, uint32_t s)
{
	for (; n > 1; p += 2, n -= 2)
		s += (uint32_t)(p[0] << 8 | p[1]);
	return n ? s + ((uint32_t)p[0] << 8) : s;
}

static void
put_sum(uint8_t *p, uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	s = ~s & 0xffff;
	p[0] = (uint8_t)(s >> 8);
	p[1] = (uint8_t)s;
}

/*
 * The client of an evicted half-open connection answered its SYN-ACK
 * after all (@p frame: its ACK, exactly the one the SYN-ACK asked for).
 * Build the connection again as lwIP first had it: the client's SYN, with
 * the MSS and window scale it offered, goes into lwIP with lwIP's ISN
 * forced to the one the client holds; lwIP's SYN-ACK to it, sent once
 * already, is dropped; then the ACK itself completes the handshake.  This
 * is what SYN cookies give a kernel, from a table instead of the sequence
 * number: 16 384 connections evicted within 20 s can come back,
 * whatever tcp_half_open is.
 */
static void
revive(struct membrane *m, struct mb_syn_entry *e, const uint8_t *frame)
{
	const uint8_t *l3 = frame + SIZEOF_ETH_HDR;
	const uint8_t *th = l3 + (l3[0] & 0x0fu) * 4u;
	uint8_t syn[SIZEOF_ETH_HDR + 20 + 28] = {0};
	uint8_t *ip = syn + SIZEOF_ETH_HDR, *tcp = ip + 20;
	struct pbuf *p;
	uint32_t s;

	e->live = 0;
	memcpy(syn, frame, SIZEOF_ETH_HDR);
	ip[0] = 0x45;
	ip[3] = 20 + 28;
	ip[6] = 0x40; /* DF */
	ip[8] = 64;
	ip[9] = IP_PROTO_TCP;
	memcpy(ip + 12, l3 + 12, 8); /* the client's address, then ours */
	put_sum(ip + 10, sum16(ip, 20, 0));
	memcpy(tcp, th, 4); /* the ports */
	tcp[4] = (uint8_t)(e->irs >> 24);
	tcp[5] = (uint8_t)(e->irs >> 16);
	tcp[6] = (uint8_t)(e->irs >> 8);
	tcp[7] = (uint8_t)e->irs;
	tcp[12] = (28 / 4) << 4;
	tcp[13] = TCP_SYN;
	tcp[14] = tcp[15] = 0xff;
	tcp[20] = 2; /* MSS */
	tcp[21] = 4;
	tcp[22] = (uint8_t)(e->mss >> 8);
	tcp[23] = (uint8_t)e->mss;
	tcp[24] = 1; /* NOP, then the window scale or three more NOPs */
	if (e->wscale != NO_WSCALE) {
		tcp[25] = 3;
		tcp[26] = 3;
		tcp[27] = e->wscale;
	} else {
		tcp[25] = tcp[26] = tcp[27] = 1;
	}
	s = sum16(ip + 12, 8, IP_PROTO_TCP + 28); /* the pseudo-header */
	put_sum(tcp + 16, sum16(tcp, 28, s));
	p = pbuf_alloc(PBUF_RAW, sizeof(syn), PBUF_RAM);
	if (p == NULL) {
		MB_ADD(m, rx_nopbuf, 1);
		return;
	}
	pbuf_take(p, syn, sizeof(syn));
	isn_forced = true;
	isn_next = e->iss;
	m->tcp_reviving = true;
	if (m->netif.input(p, &m->netif) != ERR_OK)
		pbuf_free(p);
	m->tcp_reviving = false;
	isn_forced = false;
	MB_ADD(m, tcp_syn_revived, 1);
}

/*
 * TIME-WAIT, on each SYN (a walk of lwIP's list of TIME-WAIT connections,
 * newest first):
 *
 * - A SYN for a four-tuple lwIP still holds in TIME-WAIT (it closed
 *   first): lwIP 2.1.3 answers it with an ACK and ignores the client's
 *   RST, so the client cannot connect from that port for 2 MSL (2
 *   minutes).  Linux and BSD accept such a SYN when its sequence number is
 *   past the old connection's (RFC 6191, which RFC 6528 ISNs satisfy): do
 *   the same, by ending the TIME-WAIT before lwIP sees the SYN.
 * - At most tcp_time_wait of them: tcp_input() walks the list for every
 *   segment no open connection takes, every SYN among them, and a server
 *   that closes first (Connection: close) adds one per connection for 2
 *   minutes: at 5 000 new connections a second the walks took the
 *   membrane from 5 900 to 2 700 connections a second within 10 s.  Linux
 *   bounds them too (tcp_max_tw_buckets); the oldest beyond end early.  A
 *   TIME-WAIT PCB holds nothing but itself (lwIP purged it on entry), so
 *   ending one is unlinking and freeing it.
 */
static void
syn_time_wait(struct membrane *m, const uint8_t *l3, uint16_t sport,
	      uint16_t dport, uint32_t seq)
{
	struct tcp_pcb *pcb, *next, *last = NULL;
	uint32_t n = 0;

	for (pcb = tcp_tw_pcbs; pcb != NULL; pcb = next) {
		next = pcb->next;
		if (n == m->conf.tcp_time_wait) {
			last->next = NULL; /* n > 0: tcp_time_wait >= 64 */
			for (; pcb != NULL; pcb = next) {
				next = pcb->next;
				pcb->state = CLOSED;
				tcp_free(pcb);
				MB_ADD(m, tcp_time_wait_ended, 1);
			}
			return;
		}
		if (pcb->remote_port == sport && pcb->local_port == dport &&
		    IP_IS_V4(&pcb->remote_ip) &&
		    memcmp(&ip_2_ip4(&pcb->remote_ip)->addr, l3 + 12, 4) == 0 &&
		    memcmp(&ip_2_ip4(&pcb->local_ip)->addr, l3 + 16, 4) == 0 &&
		    TCP_SEQ_GT(seq, pcb->rcv_nxt)) {
			tcp_abort(pcb); /* TIME-WAIT: freed, no RST */
			MB_ADD(m, tcp_time_wait_reused, 1);
			continue; /* last stays the one before */
		}
		last = pcb;
		n++;
	}
}

/*
 * Half-open connections (SYN-RCVD).  lwIP has no SYN cookies and keeps a
 * half-open connection up to 20 s (TCP_SYN_RCVD_TIMEOUT), each in the
 * list tcp_input() walks for every segment, so a flood of SYNs from
 * forged sources grows that list without bound and slows every
 * connection to a crawl.  The membrane keeps at most tcp_half_open of
 * them: a SYN for a listener beyond that abandons the oldest quarter,
 * without a RST (their sources are likely forged), as FreeBSD's syncache
 * drops the oldest entry of a full bucket.  A real client completes its
 * handshake within a round trip, mostly before its entry is among the
 * oldest (at 10 000 SYNs/s and 1024 entries, one lives ~75 ms); one whose
 * entry went first is brought back by its ACK (revive()).
 *
 * Counting them takes a walk of tcp_active_pcbs, so the count is an upper
 * bound kept by the SYNs themselves and made exact by a walk only when it
 * reaches the limit: in a flood, one walk per tcp_half_open/4 SYNs.  lwIP
 * puts a new or active PCB at the head of the list, so the oldest are
 * the last.
 */
static void
syn_make_room(struct membrane *m, uint16_t dport)
{
	struct tcp_pcb_listen *l;
	struct tcp_pcb *pcb, *next;
	uint32_t n = 0, i = 0, keep;

	for (l = tcp_listen_pcbs.listen_pcbs; l != NULL; l = l->next)
		if (l->local_port == dport)
			break;
	if (l == NULL || ++m->half_open < m->conf.tcp_half_open)
		return; /* no listener: lwIP resets it */
	for (pcb = tcp_active_pcbs; pcb != NULL; pcb = pcb->next)
		n += pcb->state == SYN_RCVD;
	m->half_open = n + 1; /* with the SYN's own */
	if (m->half_open <= m->conf.tcp_half_open)
		return;
	keep = n - (n + 3) / 4;
	for (pcb = tcp_active_pcbs; pcb != NULL; pcb = next) {
		next = pcb->next;
		if (pcb->state != SYN_RCVD || i++ < keep)
			continue;
		remember(m, pcb);
		tcp_abandon(pcb, 0);
		MB_ADD(m, tcp_syn_evicted, 1);
	}
	m->half_open = keep + 1;
}

void
mb_tcp_guard(struct membrane *m, const uint8_t *frame, uint32_t len)
{
	const uint8_t *l3 = frame + SIZEOF_ETH_HDR;
	uint32_t n = len - SIZEOF_ETH_HDR, ihl = (l3[0] & 0x0fu) * 4u, seq;
	const uint8_t *th = l3 + ihl;
	struct mb_syn_entry *e;
	uint16_t sport, dport;
	uint8_t flags;

	if (l3[9] != IP_PROTO_TCP || n < ihl + 20)
		return;
	sport = (uint16_t)(th[0] << 8 | th[1]);
	dport = (uint16_t)(th[2] << 8 | th[3]);
	seq = be32(th + 4);
	flags = th[13] & (TCP_SYN | TCP_ACK | TCP_RST);
	if (flags == TCP_SYN) {
		e = recall(m, l3, sport, dport);
		if (e != NULL && seq == e->irs) {
			/* the client's SYN again: the connection lwIP makes of
			 * it gets the ISN of the evicted one, so that both
			 * SYN-ACKs ask for the same ACK, whichever the client
			 * answers */
			e->live = 0;
			isn_forced = true;
			isn_next = e->iss;
		}
		if (tcp_tw_pcbs != NULL)
			syn_time_wait(m, l3, sport, dport, seq);
		syn_make_room(m, dport);
	} else if (flags == TCP_ACK) {
		e = recall(m, l3, sport, dport);
		if (e != NULL && seq == e->irs + 1 &&
		    be32(th + 8) == e->iss + 1)
			revive(m, e, frame);
	}
}
