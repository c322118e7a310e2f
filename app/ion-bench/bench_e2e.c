/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ion-bench lwf-e2e | utcp-e2e: end-to-end reflect throughput through the
 * NetSwitch, next to dpdk-testpmd --forward-mode=macswap in the same run.
 *
 *   generator --B--> A --> NetSwitch --> lwf-rx 0x0600 | utcp-rx 0x0700
 *   (main lcore)                                        |
 *       ^                      the daemon's lwf / utcp fiber step: lwf_parse
 *       |                      and the replay window, or utcp_parse; MAC
 *       |                      swap into the TX ring (lib/fiber's
 *       |                      kind_lwf.c, kind_utcp.c, linked)
 *       |                                               v
 *   generator <--B-- A <-- NetSwitch TX <-- lwf-tx 0x0601 | utcp-tx 0x0701
 *
 * Ports: A is the NetSwitch's, B the generator's.
 *   ring    A and B are rte_eth_from_rings() ports over two rte_rings: what
 *           B sends A receives and the other way round.
 *   virtio  A is net_virtio_user on a vhost-user socket served by B,
 *           net_vhost, both in this process.
 *   af_xdp, af_packet
 *           A and B are net_af_xdp / net_af_packet ports on the two ends
 *           of a veth pair in a network namespace of the benchmark's own
 *           (bench_veth_up()), both in this process; each port's RX pool
 *           is also its TX pool (the daemon's way; on af_xdp the umem, so
 *           TX does not copy).
 * The generator offers valid frames (LWF v2 of one class, or UTCP packets
 * of one size) and keeps at most --window of them in flight; every LWF
 * frame carries a fresh (session, sequence), so the replay window accepts
 * it.  It counts the frames that come back with their MAC addresses
 * swapped.  The figure is frames reflected per second.
 *
 * testpmd, in the same run: the same generator and frames against
 * dpdk-testpmd --forward-mode=macswap on net_virtio_user (virtio) or on
 * A's end of the veth with A's PMD (af_xdp, af_packet); on
 * net_ring testpmd cannot be fed from another process, so it circulates 32
 * frames of its own of the same length (--tx-first --txpkts) and its Rx-pps
 * is the figure.  macswap validates nothing.
 *
 * Every frame offered is accounted for:
 *   offered = reflected + ring full + oversize + unrouted + invalid + tx
 *             + left in the rings
 * from the generator's, the NetSwitch's and the fiber's own counters; a
 * mismatch, a frame the validator refused or a reflected frame that is not
 * ours fails the run (exit status 1).  On a veth, the frames the kernel
 * sent itself on either end (its counters less what the ports sent) are
 * reported too.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>
#include <rte_ring.h>

#include <ion_ring.h>
#include <netswitch.h>
#include <wire.h>

#include "bench.h"
#include "bench_rig.h"
#include <fiber.h> /* lib/fiber: the daemon's own fiber kinds */

#define BURST	    32
#define MAX_RUNS    15
#define GEN_TMPL    64u	  /* LWF sessions / distinct UTCP packets */
#define GEN_SLOT    2048u /* template stride */
#define WARMUP_MS   500u
#define DRAIN_MS    2000u
#define STALL_MS    100u /* nothing back for so long: the rest is lost */
#define ETH_HDR_LEN 14u

/* the LWF v2 header's sequence field (docs/wire-formats.md) */
#define LWF_OFF_SEQUENCE 68u

enum port_kind { PK_RING, PK_VIRTIO, PK_AF_XDP, PK_AF_PACKET, PK_N };
static const char *const port_names[PK_N] = {"ring", "virtio", "af_xdp",
					     "af_packet"};

static bool
is_veth(enum port_kind k)
{
	return k == PK_AF_XDP || k == PK_AF_PACKET;
}

static enum bench_veth_pmd
veth_pmd(enum port_kind k)
{
	return k == PK_AF_XDP ? BENCH_AF_XDP : BENCH_AF_PACKET;
}

/* what the NetSwitch routes: the daemon's LWF and UTCP lines */
static const struct netswitch_route routes[] = {
	{LWF_ETHERTYPE, 0x0600},
	{UTCP_ETHERTYPE, 0x0700},
};
/* rings: the two RX rings, then the two TX rings */
static const uint32_t ring_ch[4] = {0x0600, 0x0700, 0x0601, 0x0701};
static const bool ring_rx[4] = {true, true, false, false};

/* locally administered: the NetSwitch's side and the generator's */
static const uint8_t mac_dut[6] = {0x02, 0, 0, 0, 0, 0x0a};
static const uint8_t mac_gen[6] = {0x02, 0, 0, 0, 0, 0x0b};

/* One case: an LWF class or a UTCP payload size. */
struct e2e_case {
	char name[16];
	uint8_t lwf_class;
	uint16_t payload; /* LWF or UTCP payload bytes */
};

struct gen {
	uint16_t port;
	struct rte_mempool *pool;
	uint32_t len; /* Ethernet frame bytes */
	bool lwf;
	uint32_t crc_off; /* the LWF checksum, in the frame */
	uint8_t *tmpl;	  /* GEN_TMPL frames, GEN_SLOT apart */
	uint8_t want[12]; /* a reflected frame's destination and source */
	/*
	 * CRC-32 is affine over GF(2) for a fixed length: the checksum of a
	 * frame with sequence q is crc0 ^ tab[0][q >> 24] ^ ... ^ tab[3][q &
	 * 0xff].  The generator so makes fresh frames without a CRC pass;
	 * the validator still computes its own.
	 */
	uint32_t crc0[GEN_TMPL];
	uint32_t tab[4][256];
	uint32_t window;
	uint64_t serial; /* frames made: template serial % GEN_TMPL */
	/* main lcore only */
	uint64_t offered, reflected, bad, known_lost, presumed_lost;
	uint64_t passes, full_passes;
};

struct e2e {
	const struct e2e_case *c;
	bool lwf;
	enum port_kind kind;
	const char *xdp_args; /* more devargs of the af_xdp ports */
	unsigned int seconds;
	uint32_t window;
	const unsigned int *lc; /* NetSwitch lcore, fiber lcore */
	struct rte_mempool *gen_pool, *a_pool, *b_pool, *tx_pool;
	struct rte_ring *r[2];
	uint16_t a, b;
	bool a_up, b_up;
	char a_args[256], b_args[256], sock[108];
	struct ion_ring *rings[4];
	struct ion_cspace ns_cs, all_cs;
	struct fiber fib;
	bool fib_init;
	struct netswitch *ns;
	struct bench_ns_lcore nsl;
	enum bench_placement pl;
	uint32_t stop;
	int fiber_rc;
	struct gen g;
};

/* One measurement of one side. */
struct e2e_result {
	double mfps;	 /* reflected frames per second, millions */
	double gen_wait; /* share of generator passes that found the window
			    full: near 1, the reflector is the limit */
	uint64_t offered, reflected, bad;
	uint64_t full, oversize, unrouted, invalid, tx, left, unaccounted;
	uint64_t kernel; /* on a veth: frames the kernel sent itself */
	uint64_t why[LWF_N_REASONS + 1]; /* refusals by reason */
	bool ok;
};

/* ---- the generator ---------------------------------------------------- */

static inline void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void
eth_hdr(uint8_t *d, uint16_t type)
{
	memcpy(d, mac_dut, 6);
	memcpy(d + 6, mac_gen, 6);
	d[12] = (uint8_t)(type >> 8);
	d[13] = (uint8_t)type;
}

/* Frame number @p serial into @p d (g->len bytes). */
static inline void
gen_frame(const struct gen *g, uint64_t serial, uint8_t *d)
{
	uint32_t k = (uint32_t)(serial % GEN_TMPL);

	rte_memcpy(d, g->tmpl + k * GEN_SLOT, g->len);
	if (g->lwf) {
		/* sequences from 1, one run of them per session */
		uint32_t q = (uint32_t)(serial / GEN_TMPL) + 1;

		put_be32(d + ETH_HDR_LEN + LWF_OFF_SEQUENCE, q);
		put_be32(d + g->crc_off, g->crc0[k] ^ g->tab[0][q >> 24] ^
						 g->tab[1][(q >> 16) & 0xff] ^
						 g->tab[2][(q >> 8) & 0xff] ^
						 g->tab[3][q & 0xff]);
	}
}

/* Build the templates; check that what gen_frame() makes validates. */
static int
gen_init(struct gen *g, const struct e2e_case *c, bool lwf)
{
	static const uint64_t probe[] = {0,	   1,	     GEN_TMPL - 1,
					 GEN_TMPL, 12345677, 0x3fffffffffull};
	uint8_t payload[1500], *scratch;
	unsigned int k, j, v;
	int len = -1;

	memset(g, 0, sizeof(*g));
	g->lwf = lwf;
	g->tmpl = rte_malloc("ionb-tmpl", (GEN_TMPL + 1) * GEN_SLOT, 64);
	if (g->tmpl == NULL)
		return -ENOMEM;
	scratch = g->tmpl + GEN_TMPL * GEN_SLOT;
	for (k = 0; k < sizeof(payload); k++)
		payload[k] = (uint8_t)(k * 7 + 1);
	for (k = 0; k < GEN_TMPL; k++) {
		uint8_t *d = g->tmpl + k * GEN_SLOT;

		if (lwf) {
			struct lwf_params p;

			memset(&p, 0, sizeof(p));
			p.frame_class = c->lwf_class;
			p.service_type = 1;
			memcpy(p.session_id, "ion-bench e2e", 13);
			p.session_id[15] = (uint8_t)k;
			eth_hdr(d, LWF_ETHERTYPE);
			len = lwf_build(d + ETH_HDR_LEN, GEN_SLOT - ETH_HDR_LEN,
					&p, payload, c->payload);
		} else {
			eth_hdr(d, UTCP_ETHERTYPE);
			len = utcp_build(
				d + ETH_HDR_LEN, GEN_SLOT - ETH_HDR_LEN, 0,
				(uint16_t)(1000 + k), 7, payload, c->payload);
		}
		if (len < 0)
			return len;
		g->len = ETH_HDR_LEN + (uint32_t)len;
		g->crc_off = g->len - 4; /* the trailer's last field */
		if (lwf)
			g->crc0[k] = get_be32(d + g->crc_off);
	}
	memcpy(g->want, mac_gen, 6);
	memcpy(g->want + 6, mac_dut, 6);
	if (lwf) {
		/* each sequence byte's part of the checksum, from template 0
		 * built again with only that byte set */
		for (j = 0; j < 4; j++)
			for (v = 0; v < 256; v++) {
				struct lwf_params p;

				memset(&p, 0, sizeof(p));
				p.frame_class = c->lwf_class;
				p.service_type = 1;
				memcpy(p.session_id, "ion-bench e2e", 13);
				p.sequence = v << (24 - 8 * j);
				if (lwf_build(scratch + ETH_HDR_LEN,
					      GEN_SLOT - ETH_HDR_LEN, &p,
					      payload, c->payload) < 0)
					return -EINVAL;
				g->tab[j][v] = get_be32(scratch + g->crc_off) ^
					       g->crc0[0];
			}
	}
	for (k = 0; k < RTE_DIM(probe); k++) {
		uint16_t et;
		uint32_t off;
		int r;

		gen_frame(g, probe[k], scratch);
		if (wire_l2_payload(scratch, g->len, &et, &off) < 0)
			return -EINVAL;
		if (lwf) {
			struct lwf_frame f;

			r = lwf_parse(scratch + off, g->len - off, &f);
			if (r == 0 &&
			    f.sequence != (uint32_t)(probe[k] / GEN_TMPL) + 1)
				r = -EINVAL;
		} else {
			struct utcp_pkt p;

			r = utcp_parse(scratch + off, g->len - off, &p);
		}
		if (r != 0) {
			fprintf(stderr,
				"ion-bench e2e: the generator's frame %lu "
				"does not validate (%d)\n",
				(unsigned long)probe[k], r);
			return -EINVAL;
		}
	}
	return 0;
}

static inline uint64_t
gen_in_flight(const struct gen *g)
{
	uint64_t gone =
		g->reflected + g->bad + g->known_lost + g->presumed_lost;

	return g->offered > gone ? g->offered - gone : 0;
}

/* One pass: take back what came back, then offer what the window allows.
 * @return frames moved. */
static uint32_t
gen_pass(struct gen *g, bool offer)
{
	struct rte_mbuf *m[BURST];
	uint16_t n, i, sent;
	uint64_t fl;
	uint32_t room;

	n = rte_eth_rx_burst(g->port, 0, m, BURST);
	for (i = 0; i < n; i++) {
		const uint8_t *d = rte_pktmbuf_mtod(m[i], const uint8_t *);

		if (likely(m[i]->pkt_len == g->len && m[i]->data_len >= 12 &&
			   memcmp(d, g->want, 12) == 0))
			g->reflected++;
		else
			g->bad++;
	}
	if (n != 0)
		rte_pktmbuf_free_bulk(m, n);
	if (!offer)
		return n;
	g->passes++;
	fl = gen_in_flight(g);
	if (fl >= g->window) {
		g->full_passes++;
		return n;
	}
	room = RTE_MIN((uint64_t)BURST, g->window - fl);
	if (rte_pktmbuf_alloc_bulk(g->pool, m, room) != 0)
		return n;
	for (i = 0; i < room; i++) {
		uint8_t *d =
			(uint8_t *)rte_pktmbuf_append(m[i], (uint16_t)g->len);

		gen_frame(g, g->serial + i, d);
	}
	sent = rte_eth_tx_burst(g->port, 0, m, (uint16_t)room);
	if (sent < room)
		rte_pktmbuf_free_bulk(m + sent, room - sent);
	/* frames not taken were never offered: their serials (sequences)
	 * are made again */
	g->serial += sent;
	g->offered += sent;
	return n + sent;
}

/* What was offered and neither came back nor is counted as dropped. */
static uint64_t
gen_out(const struct gen *g)
{
	uint64_t gone = g->reflected + g->bad + g->known_lost;

	return g->offered > gone ? g->offered - gone : 0;
}

/*
 * Run the generator until @p until (timer cycles): offering, or (drain)
 * only taking back until nothing is out.  @p lost, when set, reads the
 * frames the reflector dropped by its counters: a window held by dropped
 * frames is given back.  Frames that stay away STALL_MS are presumed lost
 * for the window's sake (a reflector that drops without counting, testpmd,
 * cannot stall the run; one that comes back late makes the window overshoot
 * once), and a drain ends then.
 */
static void
gen_run(struct e2e *e, uint64_t until, bool offer,
	uint64_t (*lost)(const struct e2e *))
{
	struct gen *g = &e->g;
	uint64_t hz = rte_get_timer_hz(), now, last = rte_get_timer_cycles();
	uint64_t asked = last;

	while ((now = rte_get_timer_cycles()) < until) {
		uint64_t back = g->reflected + g->bad;

		gen_pass(g, offer);
		if (g->reflected + g->bad != back) {
			last = now;
			continue;
		}
		if (offer ? gen_in_flight(g) < g->window : gen_out(g) == 0) {
			if (!offer)
				break;
			continue;
		}
		/* at most once a millisecond: a snapshot of the counters
		 * costs the NetSwitch's lcore cache lines */
		if (lost != NULL && now - last > hz / 1000 &&
		    now - asked > hz / 1000) {
			g->known_lost = lost(e);
			asked = now;
		}
		if (now - last > hz * STALL_MS / 1000) {
			if (!offer)
				break;
			g->presumed_lost += gen_in_flight(g);
			last = now;
		}
	}
}

/*
 * Send single frames until one comes back: testpmd forwards some time after
 * its port is up, and what comes before is lost to it.  FIFO: once a frame
 * is back, none sent before it can come back later.  The counters start
 * again from zero.
 */
static int
gen_ping(struct e2e *e)
{
	struct gen *g = &e->g;
	uint64_t hz = rte_get_timer_hz();
	uint64_t end = rte_get_timer_cycles() + 10 * hz;
	uint32_t w = g->window;
	int rc = -ETIMEDOUT;

	g->window = 1;
	while (rc != 0 && rte_get_timer_cycles() < end) {
		uint64_t t = rte_get_timer_cycles();

		g->presumed_lost = g->offered - g->reflected - g->bad;
		gen_pass(g, true);
		while (rc != 0 && rte_get_timer_cycles() - t < hz / 5)
			if (gen_pass(g, false) != 0)
				rc = 0;
	}
	g->window = w;
	g->offered = g->reflected = g->bad = g->presumed_lost = 0;
	if (rc != 0)
		fprintf(stderr, "ion-bench e2e: nothing came back\n");
	return rc;
}

/* Warm-up, the measured --seconds, drain; the rate into @p r. */
static void
gen_measure(struct e2e *e, struct e2e_result *r,
	    uint64_t (*lost)(const struct e2e *))
{
	struct gen *g = &e->g;
	uint64_t hz = rte_get_timer_hz(), t0, t1, r0, p0, f0;

	gen_run(e, rte_get_timer_cycles() + hz * WARMUP_MS / 1000, true, lost);
	t0 = rte_get_timer_cycles();
	r0 = g->reflected;
	p0 = g->passes;
	f0 = g->full_passes;
	gen_run(e, t0 + hz * e->seconds, true, lost);
	t1 = rte_get_timer_cycles();
	r->mfps = (double)(g->reflected - r0) * (double)hz / (double)(t1 - t0) /
		  1e6;
	r->gen_wait = g->passes > p0 ? (double)(g->full_passes - f0) /
					       (double)(g->passes - p0)
				     : 0;
	gen_run(e, t1 + hz * DRAIN_MS / 1000, false, lost);
	r->offered = g->offered;
	r->reflected = g->reflected;
	r->bad = g->bad;
}

/* ---- the rig ------------------------------------------------------------ */

static struct rte_mempool *
pool(const char *name, unsigned int n)
{
	return rte_pktmbuf_pool_create(
		name, n, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
}

/* Port B (vhost) and A's devargs for virtio; the ring pair for ring. */
static int
ports_up(struct e2e *e, bool with_a)
{
	int rc;

	if (e->kind == PK_RING) {
		struct rte_ring *ra, *rb;

		/* one producer and one consumer each: the generator and the
		 * NetSwitch */
		e->r[0] = rte_ring_create("ionb_e2e_ab", 1024, SOCKET_ID_ANY,
					  RING_F_SP_ENQ | RING_F_SC_DEQ);
		e->r[1] = rte_ring_create("ionb_e2e_ba", 1024, SOCKET_ID_ANY,
					  RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (e->r[0] == NULL || e->r[1] == NULL)
			return -ENOMEM;
		/* A receives what B sends, and the other way round; the
		 * ports are vdevs "net_ring_" + the name */
		ra = e->r[0];
		rb = e->r[1];
		rc = rte_eth_from_rings("ionb_a", &ra, 1, &rb, 1,
					SOCKET_ID_ANY);
		if (rc < 0)
			return -rte_errno;
		e->a = (uint16_t)rc;
		snprintf(e->a_args, sizeof(e->a_args), "net_ring_ionb_a");
		rc = rte_eth_from_rings("ionb_b", &rb, 1, &ra, 1,
					SOCKET_ID_ANY);
		if (rc < 0)
			return -rte_errno;
		e->b = (uint16_t)rc;
		snprintf(e->b_args, sizeof(e->b_args), "net_ring_ionb_b");
		e->b_up = e->a_up = true;
		if ((rc = bench_port_start(e->b, e->b_pool)) < 0 ||
		    (rc = bench_port_start(e->a, e->a_pool)) < 0)
			return rc;
		return 0;
	}
	if (is_veth(e->kind)) {
		bench_veth_devargs(e->b_args, sizeof(e->b_args),
				   veth_pmd(e->kind), "_ionb_b", BENCH_VETH_B,
				   e->xdp_args);
		rc = bench_port_up(e->b_args, e->b_pool, &e->b);
		e->b_up = rc == 0;
		if (rc < 0 || !with_a)
			return rc;
		bench_veth_devargs(e->a_args, sizeof(e->a_args),
				   veth_pmd(e->kind), "_ionb_a", BENCH_VETH_A,
				   e->xdp_args);
		rc = bench_port_up(e->a_args, e->a_pool, &e->a);
		e->a_up = rc == 0;
		return rc;
	}
	/* vhost-user's session log is a page per connection */
	rte_log_set_level_pattern("lib.vhost.*", RTE_LOG_WARNING);
	snprintf(e->b_args, sizeof(e->b_args),
		 "net_vhost_ionb,iface=%s,queues=1", e->sock);
	unlink(e->sock);
	rc = bench_port_up(e->b_args, e->b_pool, &e->b);
	e->b_up = rc == 0;
	if (rc < 0 || !with_a)
		return rc;
	snprintf(e->a_args, sizeof(e->a_args),
		 "net_virtio_user_ionb,path=%s,queues=1,queue_size=1024,"
		 "mac=02:00:00:00:00:0a",
		 e->sock);
	rc = bench_port_up(e->a_args, e->a_pool, &e->a);
	e->a_up = rc == 0;
	if (rc < 0)
		fprintf(stderr, "ion-bench e2e: the virtio port needs "
				"--single-file-segments among the EAL "
				"options\n");
	return rc;
}

static void
ports_down(struct e2e *e)
{
	/* the virtio side first: it disconnects from the vhost socket */
	if (e->a_up)
		bench_port_down(e->a, e->a_args);
	if (e->b_up)
		bench_port_down(e->b, e->b_args);
	e->a_up = e->b_up = false;
	rte_ring_free(e->r[0]);
	rte_ring_free(e->r[1]);
	e->r[0] = e->r[1] = NULL;
	if (e->kind == PK_VIRTIO)
		unlink(e->sock);
}

/* B's link comes up when the virtio side is ready. */
static int
wait_link(uint16_t port)
{
	unsigned int i;

	for (i = 0; i < 200; i++) {
		struct rte_eth_link l;

		if (rte_eth_link_get_nowait(port, &l) == 0 &&
		    l.link_status == RTE_ETH_LINK_UP)
			return 0;
		rte_delay_us_sleep(50000);
	}
	fprintf(stderr, "ion-bench e2e: port %u: no link\n", port);
	return -ETIMEDOUT;
}

static int
rig_up(struct e2e *e, bool dut)
{
	bool veth = is_veth(e->kind);
	int rc;

	/* on a veth, one pool each way per port, as the daemon's: on af_xdp
	 * the umem, and TX from it does not copy */
	e->b_pool = pool("ionb_e2e_brx", 4095);
	e->gen_pool = veth ? e->b_pool : pool("ionb_e2e_gen", 4095);
	if (dut) {
		e->a_pool = pool("ionb_e2e_arx", 4095);
		e->tx_pool = veth ? e->a_pool : pool("ionb_e2e_tx", 4095);
	}
	if (e->gen_pool == NULL || e->b_pool == NULL ||
	    (dut && (e->a_pool == NULL || e->tx_pool == NULL)))
		return -ENOMEM;
	rc = gen_init(&e->g, e->c, e->lwf);
	if (rc < 0)
		return rc;
	e->g.pool = e->gen_pool;
	e->g.window = e->window;
	if (dut) {
		const struct fiber_kind *kind =
			fiber_kind_find(e->lwf ? "lwf" : "utcp");
		uint64_t params[FIBER_PARAMS_MAX / sizeof(uint64_t)];
		const struct fiber_env env = {.stats_arg = NULL};
		struct fiber *f = &e->fib;
		unsigned int k = e->lwf ? 0 : 1;
		struct fiber_conf fc = {
			.name = e->lwf ? "lwf" : "utcp",
			.kind = kind,
			.lcore = e->lc[1],
			.rx = ring_ch[k],
			.tx = ring_ch[k + 2],
			.burst = BURST,
			.params = params,
		};
		char why[160];

		/* the daemon's kind, set up as its config would: reflect */
		if (kind == NULL || fiber_params_default(kind, params) < 0 ||
		    fiber_param_parse(fiber_kind_param(kind, "reflect"), params,
				      "true", why, sizeof(why)) < 0)
			return -EINVAL;
		rc = fiber_init(f, &fc, &env);
		e->fib_init = true;
		if (rc < 0)
			return rc;
		rc = bench_rings_up(e->rings, ring_ch, ring_rx, 4, &e->ns_cs,
				    &e->all_cs);
		if (rc < 0)
			return rc;
		/* the fiber holds what the daemon's manifest grants it: its
		 * own rx and tx rings */
		if ((rc = fiber_grant(f, e->rings[k], ION_PERM_READ)) < 0 ||
		    (rc = fiber_grant(f, e->rings[k + 2], ION_PERM_WRITE)) < 0)
			return rc;
	}
	rc = ports_up(e, dut);
	if (rc < 0)
		return rc;
	e->g.port = e->b;
	if (dut) {
		struct netswitch_conf nc = {.port_id = e->a,
					    .burst = BURST,
					    .tx_pool = e->tx_pool,
					    .n_routes = RTE_DIM(routes),
					    .tx_channels = {0x0601, 0x0701},
					    .n_tx = 2};

		memcpy(nc.routes, routes, sizeof(routes));
		rc = netswitch_create(&nc, &e->ns_cs, &e->ns);
		if (rc < 0)
			return rc;
		e->nsl.ns = e->ns;
		e->nsl.stop = &e->stop;
	}
	return 0;
}

static void
rig_down(struct e2e *e)
{
	struct fiber *f = &e->fib;

	if (e->fib_init) {
		fiber_fini(f);
		e->fib_init = false;
	}
	netswitch_free(e->ns);
	e->ns = NULL;
	ports_down(e);
	bench_rings_down(e->rings, 4);
	rte_free(e->g.tmpl);
	e->g.tmpl = NULL;
	if (e->gen_pool != e->b_pool)
		rte_mempool_free(e->gen_pool);
	if (e->tx_pool != e->a_pool)
		rte_mempool_free(e->tx_pool);
	rte_mempool_free(e->a_pool);
	rte_mempool_free(e->b_pool);
	e->gen_pool = e->a_pool = e->b_pool = e->tx_pool = NULL;
}

/* ---- the ION side ----------------------------------------------------- */

/*
 * The fiber's refusals: every reason but "ok", "not this protocol" too.
 * The kind's counter table lists its verdicts in the order of the wire
 * parser's reasons: "ok", the reasons, then "not_lwf" / "not_utcp".
 */
static uint64_t
fiber_invalid(const struct e2e *e, uint64_t *why)
{
	const struct ctr_set *set = e->fib.kind->counters;
	uint64_t snap[FIBER_STATS_MAX / sizeof(uint64_t)];
	unsigned int n = e->lwf ? LWF_N_REASONS : UTCP_N_REASONS, i;
	uint64_t sum = 0;

	fiber_kind_stats(&e->fib, snap);
	for (i = 1; i <= n && i < set->n; i++) {
		uint64_t v = ctr_value(&set->desc[i], snap);

		if (why != NULL)
			why[i] = v;
		sum += v;
	}
	return sum;
}

/* Frames the NetSwitch and the fiber dropped, by their counters. */
static uint64_t
dut_lost(const struct e2e *e)
{
	struct netswitch_stats st;
	uint64_t sum;
	unsigned int i;

	netswitch_stats_get(e->ns, &st);
	sum = st.runt + st.unknown;
	for (i = 0; i < st.n_routes; i++)
		sum += st.route[i].full + st.route[i].oversize;
	return sum + fiber_invalid(e, NULL);
}

static void
account(const struct e2e *e, struct e2e_result *r)
{
	struct netswitch_stats st;
	uint64_t sum;
	unsigned int i;

	netswitch_stats_get(e->ns, &st);
	r->unrouted = st.runt + st.unknown;
	r->full = r->oversize = 0;
	for (i = 0; i < st.n_routes; i++) {
		r->full += st.route[i].full;
		r->oversize += st.route[i].oversize;
	}
	memset(r->why, 0, sizeof(r->why));
	r->invalid = fiber_invalid(e, r->why);
	/* the NetSwitch never drops on TX: what the port did not take */
	r->tx = st.tx_pending;
	r->left = 0;
	for (i = 0; i < 4; i++) {
		struct ion_ring_stats rs;

		ion_ring_stats(e->rings[i], &rs);
		r->left += rs.used;
	}
	sum = r->reflected + r->bad + r->full + r->oversize + r->unrouted +
	      r->invalid + r->tx + r->left;
	r->unaccounted = r->offered > sum ? r->offered - sum : sum - r->offered;
	r->ok = r->unaccounted == 0 && r->invalid == 0 && r->bad == 0 &&
		r->left == 0 && r->tx == 0 && e->fiber_rc == 0;
}

/* The veth's two ends' counters of frames sent (or dropped on the way). */
static uint64_t
veth_sent(void)
{
	uint64_t sum = 0, tx, drop;

	if (bench_veth_tx(BENCH_VETH_A, &tx, &drop) == 0)
		sum += tx + drop;
	if (bench_veth_tx(BENCH_VETH_B, &tx, &drop) == 0)
		sum += tx + drop;
	return sum;
}

/* What the veth sent beyond what ports A and B gave it: the kernel's own
 * frames, since @p before (veth_sent() before the ports came up). */
static uint64_t
kernel_frames(const struct e2e *e, uint64_t before)
{
	struct rte_eth_stats a, b;
	uint64_t sent = veth_sent() - before;

	if (rte_eth_stats_get(e->a, &a) != 0 ||
	    rte_eth_stats_get(e->b, &b) != 0)
		return 0;
	return sent > a.opackets + b.opackets ? sent - a.opackets - b.opackets
					      : 0;
}

static int
measure_ion(struct e2e *e, struct e2e_result *r)
{
	struct fiber *fp = &e->fib;
	struct bench_fibers bf = {.f = &fp, .n = 1, .stop = &e->stop};
	struct bench_sched bs = {.sched = NULL};
	uint64_t veth0 = is_veth(e->kind) ? veth_sent() : 0;
	int rc;

	memset(r, 0, sizeof(*r));
	e->stop = 0;
	e->fiber_rc = 0;
	rc = rig_up(e, true);
	if (rc == 0 && e->kind == PK_VIRTIO)
		rc = wait_link(e->b);
	if (rc == 0 && e->pl == BENCH_SHARED)
		rc = bench_sched_init(&bs, e->ns, e->lc[0], &fp, 1);
	if (rc == 0) {
		if (e->pl == BENCH_SHARED) {
			rte_eal_remote_launch(bench_lcore_sched, &bs, e->lc[0]);
		} else {
			rte_eal_remote_launch(bench_lcore_fibers, &bf,
					      e->lc[1]);
			rte_eal_remote_launch(bench_lcore_netswitch, &e->nsl,
					      e->lc[0]);
		}
		gen_measure(e, r, dut_lost);
		/* release: pairs with the lcores' acquire of stop */
		__atomic_store_n(&e->stop, 1, __ATOMIC_RELEASE);
		bench_sched_stop(&bs);
		bench_wait_lcore(e->lc[0]);
		if (e->pl == BENCH_SPLIT)
			bench_wait_lcore(e->lc[1]);
		/* the daemon would have killed the fiber: so does the run */
		if (fiber_state_get(&e->fib) == FIBER_KILLED)
			e->fiber_rc = -EACCES;
		account(e, r);
		if (is_veth(e->kind))
			r->kernel = kernel_frames(e, veth0);
	}
	bench_sched_free(&bs);
	rig_down(e);
	if (rc < 0)
		fprintf(stderr, "ion-bench e2e: %s port: %s\n",
			port_names[e->kind], strerror(-rc));
	return rc;
}

/* ---- testpmd ------------------------------------------------------------ */

static int
measure_testpmd(struct e2e *e, struct e2e_result *r)
{
	char prefix[64], vdev[256], txpkts[32];
	char *argv[40];
	int argc = 0, rc, fd = -1;
	pid_t pid = -1;

	memset(r, 0, sizeof(*r));
	snprintf(prefix, sizeof(prefix), "ionb-e2e-tpmd-%d", (int)getpid());
	argv[argc++] = "dpdk-testpmd";
	argv[argc++] = "--lcores";
	argv[argc++] = "0@0,1@1"; /* forwarding on the NetSwitch's CPU */
	argv[argc++] = "--no-pci";
	argv[argc++] = "--file-prefix";
	argv[argc++] = prefix;
	argv[argc++] = "-m";
	argv[argc++] = "512";
	argv[argc++] = "--vdev";
	argv[argc++] = vdev;
	if (e->kind == PK_RING) {
		/* the generator's frames cannot reach another process's
		 * net_ring: testpmd circulates 32 of its own, same length */
		rc = gen_init(&e->g, e->c, e->lwf);
		rte_free(e->g.tmpl);
		e->g.tmpl = NULL;
		if (rc < 0)
			return rc;
		snprintf(vdev, sizeof(vdev), "net_ring0");
		snprintf(txpkts, sizeof(txpkts), "--txpkts=%u", e->g.len);
		argv[argc++] = "--";
		argv[argc++] = "--forward-mode=macswap";
		argv[argc++] = "--auto-start";
		argv[argc++] = "--stats-period";
		argv[argc++] = "1";
		argv[argc++] = "--burst";
		argv[argc++] = "32";
		argv[argc++] = "--tx-first";
		argv[argc++] = txpkts;
		argv[argc] = NULL;
		/* its first sample is its warm-up */
		r->mfps = bench_testpmd_rx_mpps(argv, prefix, 1, e->seconds);
		r->ok = r->mfps > 0;
		return r->ok ? 0 : -EIO;
	}
	if (is_veth(e->kind)) {
		/* A's end of the veth, A's PMD; testpmd's pool (on af_xdp its
		 * umem) of about A's size, not its default 155456 mbufs */
		bench_veth_devargs(vdev, sizeof(vdev), veth_pmd(e->kind), "0",
				   BENCH_VETH_A, e->xdp_args);
	} else {
		snprintf(vdev, sizeof(vdev),
			 "net_virtio_user0,path=%s,queues=1,queue_size=1024",
			 e->sock);
		argv[argc++] = "--single-file-segments";
	}
	argv[argc++] = "--";
	argv[argc++] = "--forward-mode=macswap";
	argv[argc++] = "--auto-start";
	argv[argc++] = "--stats-period";
	argv[argc++] = "3600";
	argv[argc++] = "--burst";
	argv[argc++] = "32";
	if (is_veth(e->kind))
		argv[argc++] = "--total-num-mbufs=8191";
	argv[argc] = NULL;
	rc = rig_up(e, false);
	if (rc == 0) {
		pid = bench_spawn(argv, &fd);
		/* virtio: B's link comes up with the virtio side; a veth's is
		 * up, and gen_ping() finds out when testpmd forwards */
		rc = pid < 0 ? -ECHILD : is_veth(e->kind) ? 0 : wait_link(e->b);
	}
	if (rc == 0)
		rc = gen_ping(e);
	if (rc == 0) {
		gen_measure(e, r, NULL);
		/* testpmd's drops are its own: whatever did not come back */
		r->tx = r->offered - r->reflected - r->bad;
		r->ok = r->bad == 0;
	}
	if (pid > 0)
		bench_stop_child(pid, fd, prefix);
	rig_down(e);
	if (rc < 0)
		fprintf(stderr, "ion-bench e2e: testpmd on %s: %s\n",
			port_names[e->kind], strerror(-rc));
	return rc;
}

/* ---- options and report ----------------------------------------------- */

struct e2e_opts {
	bool lwf;
	bool ports[PK_N];
	struct e2e_case cases[BENCH_MAX_LIST];
	unsigned int n_cases;
	unsigned int seconds, runs;
	uint32_t window;
	enum bench_placement pl;
	const char *xdp_args;
	bool json, testpmd;
};

static void
usage(const char *cmd)
{
	bool lwf = strcmp(cmd, "lwf-e2e") == 0;

	fprintf(stderr,
		"usage: ion-bench [EAL options] -- %s [options]\n"
		"  --%-13s %s\n"
		"  --port LIST     ring,virtio,af_xdp,af_packet (default "
		"ring)\n"
		"  --seconds N     length of one measured run (default 2), "
		"after 0.5 s of warm-up\n"
		"  --runs N        runs, the median is reported (default 1)\n"
		"  --window N      frames in flight, 1..4096 (default 256: "
		"one ION ring)\n"
		"  --no-testpmd    the NetSwitch side only\n"
		"  --placement P   shared (default: the NetSwitch and the "
		"fiber as steps of\n"
		"                  one lcore, the daemon's) or split (two "
		"lcores)\n"
		"  --xdp-args ARGS more devargs of every af_xdp port (e.g. "
		"busy_budget=0)\n"
		"  --json          JSON instead of a table\n"
		"Frames reflected per second through the NetSwitch and the "
		"daemon's %s fiber,\n"
		"next to dpdk-testpmd --forward-mode=macswap (no validation) "
		"on the same port type.\n"
		"Needs two worker lcores (NetSwitch, fiber); the main lcore "
		"is the generator.\n"
		"virtio needs --single-file-segments.  af_xdp and af_packet: "
		"the two ends of a\n"
		"veth pair in a network namespace of this process's own.  On "
		"two CPUs:\n"
		"  ion-bench --lcores '0@0,1@1,2@1' --no-pci "
		"--single-file-segments \\\n"
		"      --file-prefix bench-e2e -- %s --port ring,virtio\n"
		"Exit status 1 when the counters do not add up or a valid "
		"frame was refused.\n",
		cmd, lwf ? "class LIST" : "size LIST",
		lwf ? "micro,mini,standard (default all)"
		    : "UTCP payload bytes (default 64,512,1400)",
		lwf ? "lwf" : "utcp", cmd);
}

static int
parse_opts(const char *cmd, int argc, char **argv, struct e2e_opts *o)
{
	static const struct option longs[] = {
		{"class", required_argument, NULL, 'c'},
		{"size", required_argument, NULL, 'z'},
		{"port", required_argument, NULL, 'p'},
		{"seconds", required_argument, NULL, 's'},
		{"runs", required_argument, NULL, 'r'},
		{"window", required_argument, NULL, 'w'},
		{"no-testpmd", no_argument, NULL, 'T'},
		{"placement", required_argument, NULL, 'P'},
		{"xdp-args", required_argument, NULL, 'x'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static const struct {
		const char *name;
		uint8_t cls;
		uint16_t payload; /* the class's whole size */
	} classes[] = {{"micro", LWF_CLASS_MICRO, 4},
		       {"mini", LWF_CLASS_MINI, 388},
		       {"standard", LWF_CLASS_STANDARD, 1226}};
	uint32_t v[BENCH_MAX_LIST];
	char buf[128], *tok, *save;
	int ch, li = 0, n, k;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longs, &li)) != -1) {
		switch (ch) {
		case 'c':
			if (!o->lwf)
				goto bad;
			snprintf(buf, sizeof(buf), "%s", optarg);
			o->n_cases = 0;
			for (tok = strtok_r(buf, ",", &save); tok != NULL;
			     tok = strtok_r(NULL, ",", &save)) {
				for (k = 0; k < (int)RTE_DIM(classes); k++)
					if (strcmp(tok, classes[k].name) == 0)
						break;
				if (k == (int)RTE_DIM(classes) ||
				    o->n_cases == BENCH_MAX_LIST)
					goto bad;
				snprintf(o->cases[o->n_cases].name,
					 sizeof(o->cases[0].name), "%s",
					 classes[k].name);
				o->cases[o->n_cases].lwf_class = classes[k].cls;
				o->cases[o->n_cases++].payload =
					classes[k].payload;
			}
			break;
		case 'z':
			if (o->lwf)
				goto bad;
			/* the largest fits a 1514-byte slot */
			n = bench_parse_list(optarg, v, 0,
					     ION_NET_SLOT_SIZE - ETH_HDR_LEN -
						     UTCP_HDR_LEN);
			if (n < 1)
				goto bad;
			for (k = 0; k < n; k++) {
				snprintf(o->cases[k].name,
					 sizeof(o->cases[0].name), "%uB", v[k]);
				o->cases[k].payload = (uint16_t)v[k];
			}
			o->n_cases = (unsigned int)n;
			break;
		case 'p':
			snprintf(buf, sizeof(buf), "%s", optarg);
			memset(o->ports, 0, sizeof(o->ports));
			for (tok = strtok_r(buf, ",", &save); tok != NULL;
			     tok = strtok_r(NULL, ",", &save)) {
				for (k = 0; k < PK_N; k++)
					if (strcmp(tok, port_names[k]) == 0)
						break;
				if (k == PK_N)
					goto bad;
				o->ports[k] = true;
			}
			break;
		case 's':
			if (bench_parse_list(optarg, v, 1, 600) != 1)
				goto bad;
			o->seconds = v[0];
			break;
		case 'r':
			if (bench_parse_list(optarg, v, 1, MAX_RUNS) != 1)
				goto bad;
			o->runs = v[0];
			break;
		case 'w':
			if (bench_parse_list(optarg, v, 1, 4096) != 1)
				goto bad;
			o->window = v[0];
			break;
		case 'T':
			o->testpmd = false;
			break;
		case 'P':
			for (k = 0; k < BENCH_N_PLACEMENTS; k++)
				if (strcmp(optarg, bench_placement_names[k]) ==
				    0)
					break;
			if (k == BENCH_N_PLACEMENTS)
				goto bad;
			o->pl = (enum bench_placement)k;
			break;
		case 'x':
			if (strlen(optarg) > 96 || strchr(optarg, ' ') != NULL)
				goto bad;
			o->xdp_args = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			usage(cmd);
			return 1;
		default:
			usage(cmd);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ion-bench %s: unexpected '%s'\n", cmd,
			argv[optind]);
		return -1;
	}
	return 0;
bad:
	fprintf(stderr, "ion-bench %s: bad value '%s' for --%s\n", cmd, optarg,
		longs[li].name);
	return -1;
}

static const char *
reason_str(bool lwf, unsigned int i)
{
	if (lwf)
		return i == LWF_N_REASONS ? "not-lwf" : lwf_reason_str((int)i);
	return i == UTCP_N_REASONS ? "not-utcp" : utcp_reason_str((int)i);
}

static double
gbps(double mfps, uint32_t bytes)
{
	return mfps * bytes * 8 / 1e3;
}

static void
print_head(const struct e2e_opts *o)
{
	printf("%-9s %-9s %5s %3s %-7s %11s %11s %6s %6s %4s %5s %6s %4s "
	       "%8s %6s %5s\n",
	       "port", "case", "bytes", "run", "side", "offered", "reflected",
	       "full", "invld", "tx", "other", "unacc", "ok", "Mfps", "Gbit/s",
	       "wait");
	(void)o;
}

static void
print_run(const struct e2e_opts *o, enum port_kind pk, const struct e2e_case *c,
	  uint32_t bytes, unsigned int run, const struct e2e_result *ion,
	  const struct e2e_result *tp)
{
	unsigned int i, n = o->lwf ? LWF_N_REASONS : UTCP_N_REASONS;

	printf("%-9s %-9s %5u %3u %-7s %11lu %11lu %6lu %6lu %4lu %5lu %6lu "
	       "%4s %8.3f %6.2f %4.0f%%\n",
	       port_names[pk], c->name, bytes, run + 1, "ion",
	       (unsigned long)ion->offered, (unsigned long)ion->reflected,
	       (unsigned long)ion->full, (unsigned long)ion->invalid,
	       (unsigned long)ion->tx,
	       (unsigned long)(ion->oversize + ion->unrouted + ion->left),
	       (unsigned long)(ion->unaccounted + ion->bad),
	       ion->ok ? "yes" : "NO", ion->mfps, gbps(ion->mfps, bytes),
	       ion->gen_wait * 100);
	for (i = 1; i <= n; i++)
		if (ion->why[i] != 0)
			printf("    refused: %s %lu\n", reason_str(o->lwf, i),
			       (unsigned long)ion->why[i]);
	if (ion->kernel != 0)
		printf("    frames the kernel sent itself on the veth: %lu\n",
		       (unsigned long)ion->kernel);
	if (!o->testpmd)
		return;
	if (pk != PK_RING)
		/* testpmd's drops are not ours to count: "unacc" is what
		 * did not come back */
		printf("%-9s %-9s %5u %3u %-7s %11lu %11lu %6s %6s %4s %5s "
		       "%6lu %4s %8.3f %6.2f %4.0f%%\n",
		       port_names[pk], c->name, bytes, run + 1, "testpmd",
		       (unsigned long)tp->offered, (unsigned long)tp->reflected,
		       "-", "-", "-", "-", (unsigned long)tp->tx,
		       tp->ok ? "yes" : "NO", tp->mfps, gbps(tp->mfps, bytes),
		       tp->gen_wait * 100);
	else
		printf("%-9s %-9s %5u %3u %-7s %11s %11s %6s %6s %4s %5s %6s "
		       "%4s %8.3f %6.2f %5s\n",
		       port_names[pk], c->name, bytes, run + 1, "testpmd", "-",
		       "-", "-", "-", "-", "-", "-", tp->ok ? "yes" : "NO",
		       tp->mfps, gbps(tp->mfps, bytes), "-");
}

static void
print_json_run(const struct e2e_opts *o, const struct e2e_result *ion,
	       const struct e2e_result *tp, uint32_t bytes, bool first)
{
	unsigned int i, n = o->lwf ? LWF_N_REASONS : UTCP_N_REASONS;
	bool f2 = true;

	printf("%s{\"mfps\": %.3f, \"gbps\": %.3f, \"offered\": %lu, "
	       "\"reflected\": %lu, \"ring_full\": %lu, \"oversize\": %lu, "
	       "\"unrouted\": %lu, \"invalid\": %lu, \"tx\": %lu, "
	       "\"left\": %lu, \"bad_return\": %lu, \"unaccounted\": %lu, "
	       "\"kernel_frames\": %lu, "
	       "\"adds_up\": %s, \"gen_wait\": %.3f, \"refused\": {",
	       first ? "" : ", ", ion->mfps, gbps(ion->mfps, bytes),
	       (unsigned long)ion->offered, (unsigned long)ion->reflected,
	       (unsigned long)ion->full, (unsigned long)ion->oversize,
	       (unsigned long)ion->unrouted, (unsigned long)ion->invalid,
	       (unsigned long)ion->tx, (unsigned long)ion->left,
	       (unsigned long)ion->bad, (unsigned long)ion->unaccounted,
	       (unsigned long)ion->kernel, ion->ok ? "true" : "false",
	       ion->gen_wait);
	for (i = 1; i <= n; i++)
		if (ion->why[i] != 0) {
			printf("%s\"%s\": %lu", f2 ? "" : ", ",
			       reason_str(o->lwf, i),
			       (unsigned long)ion->why[i]);
			f2 = false;
		}
	printf("}");
	if (o->testpmd)
		printf(", \"testpmd_mfps\": %.3f, \"testpmd_gbps\": %.3f, "
		       "\"testpmd_offered\": %lu, \"testpmd_reflected\": %lu, "
		       "\"testpmd_lost\": %lu, \"testpmd_gen_wait\": %.3f",
		       tp->mfps, gbps(tp->mfps, bytes),
		       (unsigned long)tp->offered, (unsigned long)tp->reflected,
		       (unsigned long)tp->tx, tp->gen_wait);
	printf("}");
}

static int
bench_e2e(const char *cmd, bool lwf, int argc, char **argv)
{
	struct e2e_opts o = {.lwf = lwf,
			     .ports = {true, false},
			     .seconds = 2,
			     .runs = 1,
			     .window = 256,
			     .xdp_args = "",
			     .testpmd = true};
	static struct e2e_result ion[PK_N][BENCH_MAX_LIST][MAX_RUNS];
	static struct e2e_result tp[PK_N][BENCH_MAX_LIST][MAX_RUNS];
	static struct e2e e; /* large: the fiber's replay table is apart */
	uint32_t bytes[BENCH_MAX_LIST] = {0};
	unsigned int lc[2], c, k, run;
	bool all_ok = true, first = true;
	int rc;

	if (lwf) {
		static const struct e2e_case def[] = {
			{"micro", LWF_CLASS_MICRO, 4},
			{"mini", LWF_CLASS_MINI, 388},
			{"standard", LWF_CLASS_STANDARD, 1226}};

		memcpy(o.cases, def, sizeof(def));
		o.n_cases = RTE_DIM(def);
	} else {
		static const struct e2e_case def[] = {
			{"64B", 0, 64}, {"512B", 0, 512}, {"1400B", 0, 1400}};

		memcpy(o.cases, def, sizeof(def));
		o.n_cases = RTE_DIM(def);
	}
	rc = parse_opts(cmd, argc, argv, &o);
	if (rc != 0)
		return rc > 0 ? 0 : 2;
	/* before any port is probed: the veth ports' namespace */
	if ((o.ports[PK_AF_XDP] || o.ports[PK_AF_PACKET]) &&
	    bench_veth_up() < 0)
		return 1;
	if (bench_workers(lc, 2) < 0) {
		fprintf(stderr,
			"ion-bench %s: needs two worker lcores (NetSwitch, "
			"fiber), e.g. --lcores '0@0,1@1,2@1'\n",
			cmd);
		return 2;
	}
	for (k = 0; k < PK_N; k++)
		for (c = 0; c < o.n_cases; c++)
			for (run = 0; o.ports[k] && run < o.runs; run++) {
				memset(&e, 0, sizeof(e));
				e.c = &o.cases[c];
				e.lwf = lwf;
				e.kind = (enum port_kind)k;
				e.seconds = o.seconds;
				e.lc = lc;
				e.window = o.window;
				e.pl = o.pl;
				e.xdp_args = o.xdp_args;
				snprintf(e.sock, sizeof(e.sock),
					 "/tmp/ionb-e2e-%d.sock",
					 (int)getpid());
				if (measure_ion(&e, &ion[k][c][run]) < 0)
					return 1;
				bytes[c] = e.g.len;
				all_ok &= ion[k][c][run].ok;
				if (!o.testpmd)
					continue;
				if (measure_testpmd(&e, &tp[k][c][run]) < 0)
					return 1;
				all_ok &= tp[k][c][run].ok;
			}
	if (o.json) {
		printf("{\"%s\": {\"seconds\": %u, \"runs\": %u, \"window\": "
		       "%u, \"placement\": \"%s\", \"xdp_args\": \"%s\", "
		       "\"cases\": [",
		       cmd, o.seconds, o.runs, o.window,
		       bench_placement_names[o.pl], o.xdp_args);
	} else {
		printf("\nion-bench %s: frames reflected through the "
		       "NetSwitch and the %s fiber (placement %s), window %u, "
		       "%u s runs\n"
		       "testpmd: --forward-mode=macswap, validates nothing; "
		       "on ring its own 32 frames in a loop%s%s\n\n",
		       cmd, lwf ? "lwf" : "utcp", bench_placement_names[o.pl],
		       o.window, o.seconds,
		       o.xdp_args[0] != '\0' ? "\naf_xdp ports with " : "",
		       o.xdp_args);
		print_head(&o);
	}
	for (k = 0; k < PK_N; k++)
		for (c = 0; c < o.n_cases && o.ports[k]; c++) {
			double vi[MAX_RUNS], vt[MAX_RUNS], mi, mt;

			if (o.json)
				printf("%s\n  {\"port\": \"%s\", \"case\": "
				       "\"%s\", \"bytes\": %u, \"runs\": [",
				       first ? "" : ",", port_names[k],
				       o.cases[c].name, bytes[c]);
			first = false;
			for (run = 0; run < o.runs; run++) {
				if (o.json)
					print_json_run(&o, &ion[k][c][run],
						       &tp[k][c][run], bytes[c],
						       run == 0);
				else
					print_run(&o, (enum port_kind)k,
						  &o.cases[c], bytes[c], run,
						  &ion[k][c][run],
						  &tp[k][c][run]);
				vi[run] = ion[k][c][run].mfps;
				vt[run] = tp[k][c][run].mfps;
			}
			mi = bench_median(vi, o.runs);
			mt = bench_median(vt, o.runs);
			if (o.json) {
				printf("], \"median_mfps\": %.3f, "
				       "\"median_gbps\": %.3f",
				       mi, gbps(mi, bytes[c]));
				if (o.testpmd)
					printf(", \"testpmd_macswap_mfps\": "
					       "%.3f, \"ratio\": %.4f",
					       mt, mi / mt);
				printf("}");
			} else {
				printf("%-9s %-9s %5u med of %u: ION %.3f Mfps "
				       "%.2f Gbit/s",
				       port_names[k], o.cases[c].name, bytes[c],
				       o.runs, mi, gbps(mi, bytes[c]));
				if (o.testpmd)
					printf("; testpmd macswap %.3f Mfps "
					       "%.2f Gbit/s; ratio %.3fx",
					       mt, gbps(mt, bytes[c]), mi / mt);
				printf("\n\n");
			}
		}
	if (o.json)
		printf("]}}\n");
	else
		printf("\nfull: ION ring full; invld: refused by the fiber; "
		       "tx: not taken by the port;\nother: oversize + "
		       "unrouted + left in rings; unacc: offered minus all "
		       "of these and reflected;\nwait: generator passes that "
		       "found the window full (near 100%%: the reflector "
		       "is the limit)\n");
	if (!all_ok) {
		fprintf(stderr,
			"ion-bench %s: FAILED: the counters do not "
			"add up, or frames were refused or came back "
			"wrong\n",
			cmd);
		return 1;
	}
	return 0;
}

int
bench_lwf_e2e(int argc, char **argv)
{
	return bench_e2e("lwf-e2e", true, argc, argv);
}

int
bench_utcp_e2e(int argc, char **argv)
{
	return bench_e2e("utcp-e2e", false, argc, argv);
}
