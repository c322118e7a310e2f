/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lwIP over ION rings: the netif, its input from the net RX ring and its
 * output to the net TX ring, and the membrane's life cycle.
 *
 * lwIP is built from Debian's source with the membrane's lwipopts.h
 * (lib/membrane/lwip): NO_SYS=1, so it has no thread and no lock of its
 * own.  The membrane fiber's step is lwIP's only caller: it feeds frames
 * to ethernet_input(), runs lwIP's timers when they are due, and tells its
 * lcore when the next one is, so the lcore can sleep until then.  A frame
 * costs one copy (slot -> pbuf) and no thread hop.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <lwip/etharp.h>
#include <lwip/ethip6.h>
#include <lwip/init.h>
#include <lwip/netif.h>
#include <lwip/pbuf.h>
#include <lwip/priv/tcp_priv.h>
#include <lwip/prot/icmp6.h>
#include <lwip/prot/ip6.h>
#include <lwip/stats.h>
#include <lwip/timeouts.h>
#include <netif/ethernet.h>

#include "membrane_impl.h"

#define MB_DEF_HALF_OPEN 1024u /* membrane_conf.tcp_half_open */
#define MB_DEF_TIME_WAIT 1024u /* membrane_conf.tcp_time_wait */

/* lwIP's state is process-wide: it is started once, and one netif of
 * ours lives in it at a time. */
static uint32_t lwip_started;
static uint32_t membrane_exists;
/* RFC 6528's secret key, drawn when lwIP starts */
static uint64_t isn_key[2];

int
membrane_lwip_start(void)
{
	/* control path (membrane_create, one membrane a process): the flag
	 * makes a second call a no-op; relaxed, calls are not concurrent */
	if (__atomic_exchange_n(&lwip_started, 1, __ATOMIC_RELAXED) != 0)
		return 0;
	if (getrandom(isn_key, sizeof(isn_key), 0) != sizeof(isn_key))
		isn_key[0] = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull;
	srandom((unsigned int)(isn_key[1] ^ isn_key[0]));
	lwip_init();
	return 0;
}

/* lwIP's clock (NO_SYS): milliseconds, monotonic; the vDSO, no syscall */
u32_t
sys_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u32_t)((uint64_t)ts.tv_sec * 1000u + ts.tv_nsec / 1000000);
}

static uint64_t
mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

/* An address folded into the hash: all of it, IPv4 or IPv6 */
static uint64_t
mix_addr(uint64_t h, const ip_addr_t *a)
{
#if LWIP_IPV6
	if (IP_IS_V6(a)) {
		const u32_t *w = ip_2_ip6(a)->addr;

		h = mix(h ^ ((uint64_t)w[0] << 32 | w[1]));
		return mix(h ^ ((uint64_t)w[2] << 32 | w[3]));
	}
#endif
	return mix(h ^ ip4_addr_get_u32(ip_2_ip4(a)));
}

/* RFC 6528: ISN = M + F(addresses, ports, key), M a 4-us clock, so a
 * connection's numbers are neither guessable from another's nor reused
 * by the next incarnation of the same four-tuple. */
u32_t
ion_lwip_tcp_isn(const ip_addr_t *local_ip, u16_t local_port,
		 const ip_addr_t *remote_ip, u16_t remote_port)
{
	struct timespec ts;
	uint64_t h, m;
	u32_t isn;

	if (mb_tcp_forced_isn(&isn))
		return isn; /* a half-open connection brought back */
	h = mix_addr(isn_key[0], local_ip);
	h = mix_addr(h, remote_ip);
	h = mix(h ^ ((uint64_t)local_port << 16 | remote_port) ^ isn_key[1]);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	m = ((uint64_t)ts.tv_sec * 1000000u + ts.tv_nsec / 1000) / 4;
	return (u32_t)(m + h);
}

static bool
stopped(const struct membrane *m)
{
	/* acquire: pairs with membrane_stop(); nothing is sent after it */
	return __atomic_load_n(&m->stopped, __ATOMIC_ACQUIRE) != 0;
}

/* An IPv4 TCP segment (LWIP_NETIF_TX_SINGLE_PBUF: one pbuf a frame) */
static bool
is_tcp(const struct pbuf *p)
{
	const uint8_t *d = p->payload;

	return p->len > SIZEOF_ETH_HDR + 9 && d[12] == 0x08 && d[13] == 0x00 &&
	       d[SIZEOF_ETH_HDR + 9] == IP_PROTO_TCP;
}

/* lwIP's output: one frame into the TX ring, from the fiber's thread (its
 * step is lwIP's only caller): the ring's one producer. */
static err_t
link_output(struct netif *n, struct pbuf *p)
{
	struct membrane *m = n->state;
	struct ion_prod *tx = m->conf.tx;

	if (stopped(m)) {
		MB_ADD(m, tx_stopped, 1);
		return ERR_IF;
	}
	if (m->tcp_reviving && is_tcp(p))
		return ERR_OK; /* its SYN-ACK, sent once already (tcp_guard.c)
				*/
	if (p->tot_len > ion_ring_slot_size(tx->ring)) {
		MB_ADD(m, tx_oversize, 1);
		return ERR_BUF;
	}
	if (ion_prod_reserve(tx, 1) != 1) {
		/* no waiting: TCP resends, ARP and ICMP are best effort */
		MB_ADD(m, tx_full, 1);
		return ERR_MEM;
	}
	pbuf_copy_partial(p, ion_prod_data(tx, 0), p->tot_len, 0);
	ion_prod_slot(tx, 0)->len = p->tot_len;
	ion_prod_slot(tx, 0)->tag = 0;
	ion_prod_commit(tx, 1);
	MB_ADD(m, tx_frames, 1);
	MB_ADD(m, tx_bytes, p->tot_len);
	return ERR_OK;
}

static err_t
netif_setup(struct netif *n)
{
	struct membrane *m = n->state;

	n->name[0] = 'i';
	n->name[1] = 'o';
	n->output = etharp_output;
#if LWIP_IPV6
	n->output_ip6 = ethip6_output;
#endif
	n->linkoutput = link_output;
	n->mtu = 1500;
	n->hwaddr_len = ETH_HWADDR_LEN;
	memcpy(n->hwaddr, m->conf.mac, ETH_HWADDR_LEN);
	n->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP |
		   NETIF_FLAG_ETHERNET | NETIF_FLAG_IGMP | NETIF_FLAG_MLD6;
	return ERR_OK;
}

/* When lwIP's next timer is due; a second at most, so that no timer lwIP
 * adds later can wait longer than that (it has always some: ARP, ND) */
static void
schedule_timers(struct membrane *m)
{
	u32_t ms = sys_timeouts_sleeptime();

	m->next_timer = sys_now() + (ms < 1000 ? ms : 1000);
}

int
membrane_create(const struct membrane_conf *conf, struct membrane **out)
{
	ip4_addr_t ip, mask, gw;
	struct membrane *m;
	int rc;

	if (conf->rx == NULL || conf->tx == NULL ||
	    (conf->http && (conf->vfs_req == NULL || conf->vfs_rsp == NULL)))
		return -EINVAL;
	if (__atomic_exchange_n(&membrane_exists, 1, __ATOMIC_ACQ_REL) != 0)
		return -EBUSY;
	membrane_lwip_start();
	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		__atomic_store_n(&membrane_exists, 0, __ATOMIC_RELEASE);
		return -ENOMEM;
	}
	m->conf = *conf;
	if (m->conf.tcp_half_open == 0)
		m->conf.tcp_half_open = MB_DEF_HALF_OPEN;
	if (m->conf.tcp_time_wait == 0)
		m->conf.tcp_time_wait = MB_DEF_TIME_WAIT;
	ip4_addr_set_u32(&ip, conf->ip);
	ip4_addr_set_u32(&mask, conf->netmask);
	ip4_addr_set_u32(&gw, conf->gateway);

	rc = -ENODEV;
	if (netif_add(&m->netif, &ip, &mask, &gw, m, netif_setup,
		      ethernet_input) == NULL)
		goto fail;
	m->netif_added = true;
#if LWIP_IPV6
	netif_create_ip6_linklocal_address(&m->netif, 1);
#endif
	netif_set_default(&m->netif);
	netif_set_link_up(&m->netif);
	netif_set_up(&m->netif);
	rc = conf->echo ? mb_echo_start(m) : 0;
	if (rc == 0 && conf->http)
		rc = mb_httpd_start(m);
	if (rc < 0)
		goto fail;
	schedule_timers(m);
	*out = m;
	return 0;
fail:
	membrane_destroy(m);
	return rc;
}

/* The protocol an IPv6 packet carries, past the extension headers lwIP
 * walks (hop-by-hop, routing, fragment, destination options), and in
 * *at its header's offset; -1 when the chain runs off the frame.  Hostile
 * frames choose the chain. */
static int
ip6_upper(const uint8_t *ip6, uint32_t len, uint32_t *at)
{
	uint32_t off = 40;
	int nh;
	int i;

	if (len < 40)
		return -1;
	nh = ip6[6];
	for (i = 0; i < 8; i++) {
		if (nh != 0 && nh != 43 && nh != 44 && nh != 60) {
			*at = off;
			return nh;
		}
		if (off + 8 > len)
			return -1;
		nh = ip6[off];
		off += nh == 44 ? 8 : 8u * (ip6[off + 1] + 1u);
	}
	return -1;
}

/*
 * What lwIP 2.1.3 (as Debian builds it) must not see, found by the flood
 * test (test/ionswitchd/flood) and the soak: an ARP frame shorter than its
 * header (etharp_input() reads 28 bytes regardless); UDP-Lite, whose
 * coverage field reaches an LWIP_ASSERT that aborts the process; and a
 * Router Advertisement: lwIP takes its sender for a router and, when the
 * sender never answers, solicits it every second for the router's
 * lifetime (nd6_tmr() never gives up on a router's entry), while the
 * membrane, link-local only, has no use for a router.  @return 0 to pass
 * the frame, else the counter's verdict.
 */
enum guard { PASS, UNHANDLED, MALFORMED };

static enum guard
guard(const uint8_t *d, uint32_t len, uint16_t et)
{
	const uint8_t *l3 = d + SIZEOF_ETH_HDR;
	uint32_t n = len - SIZEOF_ETH_HDR, at = 0;
	int up;

	switch (et) {
	case ETHTYPE_ARP:
		return n < SIZEOF_ETHARP_HDR ? MALFORMED : PASS;
	case ETHTYPE_IP:
		if (n < 20 || (l3[0] & 0x0f) * 4u > n)
			return MALFORMED;
		return l3[9] == IP_PROTO_UDPLITE ? UNHANDLED : PASS;
	default: /* IPv6 */
		up = ip6_upper(l3, n, &at);
		if (up < 0)
			return MALFORMED;
		if (up == IP6_NEXTH_ICMP6 && at < n && l3[at] == ICMP6_TYPE_RA)
			return UNHANDLED;
		return up == IP_PROTO_UDPLITE ? UNHANDLED : PASS;
	}
}

/* One frame from the RX ring into lwIP. */
static void
input_frame(struct membrane *m, const uint8_t *d, uint32_t len)
{
	struct pbuf *p;
	uint16_t et;

	MB_ADD(m, rx_frames, 1);
	MB_ADD(m, rx_bytes, len);
	/* lwIP has no 802.1Q support in this build: a tagged frame would be
	 * dropped inside it, uncounted; count it here instead */
	et = len >= SIZEOF_ETH_HDR ? (uint16_t)(d[12] << 8 | d[13]) : 0;
	if (et != ETHTYPE_IP && et != ETHTYPE_ARP && et != ETHTYPE_IPV6) {
		MB_ADD(m, rx_unhandled, 1);
		return;
	}
	switch (guard(d, len, et)) {
	case PASS:
		break;
	case UNHANDLED:
		MB_ADD(m, rx_unhandled, 1);
		return;
	case MALFORMED:
		MB_ADD(m, rx_malformed, 1);
		return;
	}
	if (et == ETHTYPE_IP)
		mb_tcp_guard(m, d, len);
	/* one contiguous pbuf: lwIP parses headers in place */
	p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_RAM);
	if (p == NULL) {
		MB_ADD(m, rx_nopbuf, 1);
		mb_tcp_guard_end();
		return;
	}
	pbuf_take(p, d, (u16_t)len);
	if (m->netif.input(p, &m->netif) != ERR_OK)
		pbuf_free(p);
	if (et == ETHTYPE_IP)
		mb_tcp_guard_end();
}

/* lwIP's drop counters into the membrane's (relaxed stores: a reader on
 * another thread must not read lwIP's plain globals while they change) */
static void
copy_lwip_stats(struct membrane *m)
{
#define LW(field, v)                                                           \
	__atomic_store_n(&m->st.field, (uint64_t)(v), __ATOMIC_RELAXED)
	LW(lwip_link_drop, lwip_stats.link.drop);
	LW(lwip_arp_drop, lwip_stats.etharp.drop);
	LW(lwip_ip_drop, lwip_stats.ip.drop);
	LW(lwip_ipfrag_drop, lwip_stats.ip_frag.drop);
	LW(lwip_icmp_drop, lwip_stats.icmp.drop);
	LW(lwip_udp_drop, lwip_stats.udp.drop);
	LW(lwip_tcp_drop, lwip_stats.tcp.drop);
	LW(lwip_ip6_drop, lwip_stats.ip6.drop);
	LW(lwip_ip6frag_drop, lwip_stats.ip6_frag.drop);
	LW(lwip_icmp6_drop, lwip_stats.icmp6.drop);
	LW(lwip_nd6_drop, lwip_stats.nd6.drop);
#undef LW
}

/* lwIP's timers, when due; @return whether they ran */
static bool
run_timers(struct membrane *m)
{
	u32_t now = sys_now();

	m->now_ms = now; /* the round's clock, for what runs per segment */
	if ((int32_t)(now - m->next_timer) < 0)
		return false;
	sys_check_timeouts();
	return true;
}

unsigned int
membrane_poll(struct membrane *m, unsigned int burst)
{
	struct ion_cons *rx = m->conf.rx, *vr = m->conf.vfs_rsp;
	uint32_t n, nv = 0, i;
	bool timers;

	if (stopped(m))
		return 0;
	timers = run_timers(m);
	n = ion_cons_peek(rx, burst);
	if (vr != NULL)
		nv = ion_cons_peek(vr, vr->mask + 1);
	if (n == 0 && nv == 0 && !mb_httpd_wants_kick(m)) {
		if (timers) {
			schedule_timers(m);
			copy_lwip_stats(m);
		}
		return 0;
	}
	/* answers first: they free room in the TCP send buffers the frames'
	 * ACKs then fill */
	for (i = 0; i < nv; i++)
		mb_httpd_vfs_input(m, (const void *)ion_cons_data(vr, i),
				   ion_cons_slot(vr, i)->len);
	for (i = 0; i < n; i++)
		input_frame(m, ion_cons_data(rx, i), ion_cons_slot(rx, i)->len);
	mb_httpd_kick(m);
	/* the frames may have started a timer (a connection's TCP timer) */
	schedule_timers(m);
	copy_lwip_stats(m);
	if (nv != 0)
		ion_cons_release(vr, nv);
	ion_cons_release(rx, n);
	return n + nv;
}

uint32_t
membrane_timer_ms(const struct membrane *m)
{
	int32_t d = (int32_t)(m->next_timer - sys_now());

	return d > 0 ? (uint32_t)d : 0;
}

bool
membrane_wants_vfs(const struct membrane *m)
{
	return mb_httpd_wants_kick(m);
}

uint32_t
membrane_backlog(const struct membrane *m)
{
	struct ion_ring_stats st;

	ion_ring_stats(m->conf.rx->ring, &st);
	return st.used;
}

void
membrane_stop(struct membrane *m)
{
	/* release: link_output() sees it before any later frame; lwIP itself
	 * is left alone (another thread may call this), the step stops
	 * feeding it and its timers */
	__atomic_store_n(&m->stopped, 1, __ATOMIC_RELEASE);
}

void
membrane_destroy(struct membrane *m)
{
	if (m == NULL)
		return;
	membrane_stop(m);
	mb_httpd_stop(m);
	mb_echo_stop(m);
	free(m->syn_cache);
	if (m->netif_added) {
		netif_set_link_down(&m->netif);
		netif_set_down(&m->netif);
		netif_remove(&m->netif);
	}
	free(m);
	__atomic_store_n(&membrane_exists, 0, __ATOMIC_RELEASE);
}

void
membrane_stats_get(const struct membrane *m, struct membrane_stats *st)
{
	const uint64_t *src = (const uint64_t *)&m->st;
	uint64_t *dst = (uint64_t *)st;
	size_t i;

	/* relaxed: statistics; each field untorn is all a reader needs */
	for (i = 0; i < sizeof(*st) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}
