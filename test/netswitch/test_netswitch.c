/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NetSwitch: classification (table-driven, tags, runts), the RX demux with
 * real mbufs (every counter exact, the invariants, ring contents byte for
 * byte), TX through a port that takes only part of a burst (nothing lost,
 * nothing reordered), and endpoint errors at creation.
 */
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_eth_ring.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <netswitch.h>

#include "../ion/cunit_main.h"

static const struct netswitch_route default_routes[] = {
	{0x0800, 0x0500}, {0x0806, 0x0500}, {0x86DD, 0x0500},
	{0x88B5, 0x0700}, {0x4C57, 0x0600},
};

static struct rte_mempool *pool;

/* A frame: MACs, then @p n_tags tags, then @p type, padded to @p len. */
static uint32_t
mkframe(uint8_t *buf, uint32_t len, const uint16_t *tags, int n_tags,
	uint16_t type)
{
	uint32_t off = 12;
	int i;

	memset(buf, 0, len);
	memset(buf, 0x02, 6);
	memset(buf + 6, 0x04, 6);
	for (i = 0; i < n_tags; i++) {
		buf[off] = (uint8_t)(tags[i] >> 8);
		buf[off + 1] = (uint8_t)tags[i];
		buf[off + 2] = 0;
		buf[off + 3] = (uint8_t)(10 + i); /* VLAN id */
		off += 4;
	}
	buf[off] = (uint8_t)(type >> 8);
	buf[off + 1] = (uint8_t)type;
	return len;
}

static void
test_classify_table(void)
{
	static const uint16_t q[] = {0x8100}, qq[] = {0x88A8, 0x8100},
			      old[] = {0x9100, 0x8100},
			      three[] = {0x88A8, 0x8100, 0x8100};
	static const struct {
		const char *what;
		const uint16_t *tags;
		int n_tags;
		uint16_t type;
		uint32_t len;
		int want;
		uint16_t want_type;
	} t[] = {
		{"ipv4", NULL, 0, 0x0800, 60, 0, 0x0800},
		{"arp", NULL, 0, 0x0806, 60, 1, 0x0806},
		{"ipv6", NULL, 0, 0x86DD, 60, 2, 0x86DD},
		{"utcp", NULL, 0, 0x88B5, 60, 3, 0x88B5},
		{"lwf", NULL, 0, 0x4C57, 200, 4, 0x4C57},
		{"unknown", NULL, 0, 0x1234, 60, NETSWITCH_UNKNOWN, 0x1234},
		{"zero type", NULL, 0, 0x0000, 60, NETSWITCH_UNKNOWN, 0},
		{"802.1Q ipv4", q, 1, 0x0800, 64, 0, 0x0800},
		{"QinQ lwf", qq, 2, 0x4C57, 200, 4, 0x4C57},
		{"0x9100 QinQ arp", old, 2, 0x0806, 64, 1, 0x0806},
		{"three tags", three, 3, 0x0800, 64, NETSWITCH_UNKNOWN, 0x8100},
		{"header only", NULL, 0, 0x0800, 14, 0, 0x0800},
		{"runt 13", NULL, 0, 0x0800, 13, NETSWITCH_RUNT, 0},
		{"runt 0", NULL, 0, 0x0800, 0, NETSWITCH_RUNT, 0},
		{"tag without inner type", q, 1, 0x0800, 16, NETSWITCH_RUNT, 0},
		{"tag, inner type", q, 1, 0x0800, 18, 0, 0x0800},
		{"QinQ cut", qq, 2, 0x4C57, 20, NETSWITCH_RUNT, 0},
	};
	struct netswitch_table tab;
	uint8_t buf[256];
	unsigned int i;

	CU_ASSERT_FATAL(netswitch_table_build(&tab, default_routes, 5) == 0);
	for (i = 0; i < N_TESTS(t); i++) {
		uint16_t et = 0;
		uint32_t len;
		int r;

		len = mkframe(buf, sizeof(buf), t[i].tags, t[i].n_tags,
			      t[i].type);
		(void)len;
		r = netswitch_classify(&tab, buf, t[i].len, &et);
		if (r != t[i].want)
			fprintf(stderr, "%s: got %d, want %d\n", t[i].what, r,
				t[i].want);
		CU_ASSERT(r == t[i].want);
		if (t[i].want != NETSWITCH_RUNT)
			CU_ASSERT(et == t[i].want_type);
	}
}

static void
test_table_build(void)
{
	struct netswitch_route twice[] = {{0x0800, 0x0500}, {0x0800, 0x0600}};
	struct netswitch_route many[NETSWITCH_MAX_ROUTES + 1];
	struct netswitch_table tab;
	unsigned int i;

	CU_ASSERT(netswitch_table_build(&tab, twice, 2) == -EEXIST);
	for (i = 0; i < N_TESTS(many); i++)
		many[i] = (struct netswitch_route){(uint16_t)(0x0600 + i), 1};
	CU_ASSERT(netswitch_table_build(&tab, many, N_TESTS(many)) == -EINVAL);
	CU_ASSERT(netswitch_table_build(&tab, many, NETSWITCH_MAX_ROUTES) == 0);
	CU_ASSERT(netswitch_table_build(NULL, many, 1) == -EINVAL);
	/* an empty table routes nothing */
	CU_ASSERT(netswitch_table_build(&tab, NULL, 0) == 0);
}

/* ---- rings and CSpaces ------------------------------------------- */

struct rig {
	struct ion_ring *rx[3]; /* 0x0500 (16 x 1514), 0x0700, 0x0600 (x128) */
	struct ion_ring *tx;	/* 0x0501 */
	struct ion_cspace cs;
};

static struct ion_ring *
ring_new(uint32_t ch, uint32_t slots, uint32_t size)
{
	struct ion_ring_params p = {
		.channel = ch, .capacity = slots, .slot_size = size};
	size_t len = ion_ring_memsize(slots, size);
	struct ion_ring *r = aligned_alloc(ION_RING_ALIGN, len);

	CU_ASSERT_FATAL(r != NULL && ion_ring_init(r, len, &p) == 0);
	return r;
}

static void
rig_init(struct rig *g)
{
	g->rx[0] = ring_new(0x0500, 16, 1514);
	g->rx[1] = ring_new(0x0700, 16, 1514);
	g->rx[2] = ring_new(0x0600, 16, 128);
	g->tx = ring_new(0x0501, 64, 1514);
	ion_cspace_init(&g->cs);
	CU_ASSERT(ion_cspace_grant(&g->cs, g->rx[0], ION_PERM_WRITE) >= 0);
	CU_ASSERT(ion_cspace_grant(&g->cs, g->rx[1], ION_PERM_WRITE) >= 0);
	CU_ASSERT(ion_cspace_grant(&g->cs, g->rx[2], ION_PERM_WRITE) >= 0);
	CU_ASSERT(ion_cspace_grant(&g->cs, g->tx, ION_PERM_READ) >= 0);
}

static void
rig_free(struct rig *g)
{
	free(g->rx[0]);
	free(g->rx[1]);
	free(g->rx[2]);
	free(g->tx);
}

static struct netswitch_conf
conf_default(uint16_t port)
{
	struct netswitch_conf c = {.port_id = port,
				   .burst = 32,
				   .tx_pool = pool,
				   .n_routes = 5,
				   .tx_channels = {0x0501},
				   .n_tx = 1};

	memcpy(c.routes, default_routes, sizeof(default_routes));
	return c;
}

static struct rte_mbuf *
mbuf_of(const uint8_t *frame, uint32_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	char *d;

	CU_ASSERT_FATAL(m != NULL);
	d = rte_pktmbuf_append(m, (uint16_t)len);
	CU_ASSERT_FATAL(d != NULL || len == 0);
	if (len > 0)
		memcpy(d, frame, len);
	return m;
}

/* ---- demux -------------------------------------------------------- */

struct sent {
	uint8_t frame[1514];
	uint32_t len;
};

struct batch {
	struct rte_mbuf **pkts;
	uint32_t *n;
};

/* Append a frame to the batch; remember it in @p list when it should land. */
static void
add(struct batch *b, struct sent *list, uint32_t *cnt, const uint16_t *tags,
    int ntags, uint16_t type, uint32_t len)
{
	uint8_t buf[1514];

	mkframe(buf, len, tags, ntags, type);
	if (len > 14 + 4 * (uint32_t)ntags)
		buf[len - 1] = (uint8_t)*b->n; /* every frame distinct */
	if (list != NULL) {
		memcpy(list[*cnt].frame, buf, len);
		list[(*cnt)++].len = len;
	}
	b->pkts[(*b->n)++] = mbuf_of(buf, len);
}

/* Check ring @p r holds exactly @p want[0..n) in order, tag = ethertype. */
static void
expect_ring(struct ion_ring *r, const struct sent *want, uint32_t n,
	    uint16_t tag_type)
{
	struct ion_cons c;
	uint32_t got, i;

	CU_ASSERT_FATAL(ion_cons_open(&c, r) == 0);
	got = ion_cons_peek(&c, 64);
	CU_ASSERT(got == n);
	for (i = 0; i < got && i < n; i++) {
		CU_ASSERT(ion_cons_slot(&c, i)->len == want[i].len);
		CU_ASSERT(memcmp(ion_cons_data(&c, i), want[i].frame,
				 want[i].len) == 0);
		if (tag_type != 0)
			CU_ASSERT(ion_cons_slot(&c, i)->tag == tag_type);
	}
	ion_cons_release(&c, got);
	ion_cons_close(&c);
}

static void
test_demux_counters(void)
{
	static const uint16_t q[] = {0x8100}, qq[] = {0x88A8, 0x8100};
	static struct sent net[32], utcp[4], lwf[4];
	struct rte_mbuf *pkts[64];
	struct netswitch_conf conf = conf_default(0);
	struct netswitch_stats st;
	struct netswitch *ns;
	unsigned int avail0 = rte_mempool_avail_count(pool);
	uint32_t n = 0, n_net = 0, n_utcp = 0, n_lwf = 0, i, sum;
	struct rig g;

	rig_init(&g);
	conf.n_tx = 0; /* RX only here */
	CU_ASSERT_FATAL(netswitch_create(&conf, &g.cs, &ns) == 0);

	struct sent *none = NULL;
	uint32_t dummy = 0;
	struct batch b = {pkts, &n};

	for (i = 0; i < 5; i++)
		add(&b, net, &n_net, NULL, 0, 0x0800, 60 + i);
	add(&b, net, &n_net, NULL, 0, 0x0806, 60);
	add(&b, net, &n_net, NULL, 0, 0x0806, 60);
	add(&b, net, &n_net, NULL, 0, 0x86DD, 80);
	add(&b, net, &n_net, q, 1, 0x0800, 64);
	add(&b, net, &n_net, q, 1, 0x0800, 1514); /* a whole frame fits */
	for (i = 0; i < 3; i++)
		add(&b, utcp, &n_utcp, NULL, 0, 0x88B5, 70);
	add(&b, lwf, &n_lwf, NULL, 0, 0x4C57, 100);
	add(&b, lwf, &n_lwf, NULL, 0, 0x4C57, 128); /* exactly the slot */
	add(&b, lwf, &n_lwf, qq, 2, 0x4C57, 120);
	add(&b, none, &dummy, NULL, 0, 0x4C57, 129); /* oversize for 0x0600 */
	add(&b, none, &dummy, NULL, 0, 0x1234, 60);  /* unknown */
	add(&b, none, &dummy, NULL, 0, 0x9999, 60);  /* unknown */
	add(&b, none, &dummy, NULL, 0, 0x0800, 13);  /* runt */
	add(&b, none, &dummy, q, 1, 0x0800, 16);     /* runt: tag, no type */
	CU_ASSERT(n == 21);
	CU_ASSERT(netswitch_demux(ns, pkts, n) == 16);

	/* a second burst overfills net-rx (16 slots, 10 used) */
	n = 0;
	for (i = 0; i < 10; i++)
		add(&b, i < 6 ? net : none, (i < 6 ? &n_net : &dummy), NULL, 0,
		    0x0800, 90);
	CU_ASSERT(netswitch_demux(ns, pkts, n) == 6);

	netswitch_stats_get(ns, &st);
	CU_ASSERT(st.rx == 31);
	CU_ASSERT(st.runt == 2);
	CU_ASSERT(st.unknown == 2);
	CU_ASSERT(st.n_routes == 5);
	CU_ASSERT(st.route[0].ethertype == 0x0800 &&
		  st.route[0].channel == 0x0500);
	CU_ASSERT(st.route[0].rx == 17 && st.route[0].delivered == 13 &&
		  st.route[0].full == 4);
	CU_ASSERT(st.route[1].rx == 2 && st.route[1].delivered == 2);
	CU_ASSERT(st.route[2].rx == 1 && st.route[2].delivered == 1);
	CU_ASSERT(st.route[3].rx == 3 && st.route[3].delivered == 3);
	CU_ASSERT(st.route[4].rx == 4 && st.route[4].delivered == 3 &&
		  st.route[4].oversize == 1 && st.route[4].full == 0);
	/* the invariants of netswitch.h */
	for (i = 0, sum = 0; i < st.n_routes; i++) {
		sum += st.route[i].rx;
		CU_ASSERT(st.route[i].rx == st.route[i].delivered +
						    st.route[i].full +
						    st.route[i].oversize);
	}
	CU_ASSERT(st.rx == st.runt + st.unknown + sum);
	/* every mbuf went back to the pool */
	CU_ASSERT(rte_mempool_avail_count(pool) == avail0);

	/* the rings hold exactly what was delivered, in order */
	expect_ring(g.rx[0], net, 16, 0);
	expect_ring(g.rx[1], utcp, 3, 0x88B5);
	expect_ring(g.rx[2], lwf, 3, 0x4C57);
	netswitch_free(ns);
	rig_free(&g);
}

static void
test_demux_chained(void)
{
	struct netswitch_conf conf = conf_default(0);
	struct rte_mbuf *m, *m2;
	struct netswitch *ns;
	struct sent want;
	struct rig g;
	uint8_t buf[400];

	rig_init(&g);
	conf.n_tx = 0;
	CU_ASSERT_FATAL(netswitch_create(&conf, &g.cs, &ns) == 0);
	/* a frame in two segments, split inside the Ethernet header */
	mkframe(buf, sizeof(buf), NULL, 0, 0x0800);
	for (unsigned int i = 14; i < sizeof(buf); i++)
		buf[i] = (uint8_t)i;
	m = mbuf_of(buf, 10);
	m2 = mbuf_of(buf + 10, sizeof(buf) - 10);
	CU_ASSERT_FATAL(rte_pktmbuf_chain(m, m2) == 0);
	CU_ASSERT(netswitch_demux(ns, &m, 1) == 1);
	memcpy(want.frame, buf, sizeof(buf));
	want.len = sizeof(buf);
	expect_ring(g.rx[0], &want, 1, 0x0800);
	netswitch_free(ns);
	rig_free(&g);
}

/* ---- TX ------------------------------------------------------------- */

static void
test_tx_partial_port(void)
{
	struct rte_ring *to_wire, *from_wire;
	struct netswitch_conf conf;
	struct netswitch_stats st;
	struct rte_eth_conf ec = {0};
	struct rte_mbuf *out[64];
	struct netswitch *ns;
	struct ion_prod p;
	uint32_t i, seen = 0, passes = 0;
	struct rig g;
	int port;

	/* a port whose TX ring holds 7 frames: it takes part of a burst */
	to_wire = rte_ring_create("ns_to_wire", 8, SOCKET_ID_ANY,
				  RING_F_SP_ENQ | RING_F_SC_DEQ);
	from_wire = rte_ring_create("ns_from_wire", 8, SOCKET_ID_ANY,
				    RING_F_SP_ENQ | RING_F_SC_DEQ);
	CU_ASSERT_FATAL(to_wire != NULL && from_wire != NULL);
	port = rte_eth_from_rings("net_ring_ns", &from_wire, 1, &to_wire, 1,
				  SOCKET_ID_ANY);
	CU_ASSERT_FATAL(port >= 0);
	CU_ASSERT_FATAL(rte_eth_dev_configure((uint16_t)port, 1, 1, &ec) == 0);
	CU_ASSERT_FATAL(rte_eth_rx_queue_setup((uint16_t)port, 0, 64, 0, NULL,
					       pool) == 0);
	CU_ASSERT_FATAL(
		rte_eth_tx_queue_setup((uint16_t)port, 0, 64, 0, NULL) == 0);
	CU_ASSERT_FATAL(rte_eth_dev_start((uint16_t)port) == 0);

	rig_init(&g);
	conf = conf_default((uint16_t)port);
	CU_ASSERT_FATAL(netswitch_create(&conf, &g.cs, &ns) == 0);
	/* a fiber fills the TX ring with 20 numbered frames */
	CU_ASSERT_FATAL(ion_prod_open(&p, g.tx) == 0);
	CU_ASSERT_FATAL(ion_prod_reserve(&p, 20) == 20);
	for (i = 0; i < 20; i++) {
		uint8_t *d = ion_prod_data(&p, i);

		mkframe(d, 100, NULL, 0, 0x88B5);
		d[20] = (uint8_t)i;
		ion_prod_slot(&p, i)->len = 100 + i;
	}
	ion_prod_commit(&p, 20);

	while (seen < 20 && passes++ < 100) {
		uint32_t n;

		netswitch_tx(ns);
		/* the wire: take what the port sent, check order */
		n = rte_ring_dequeue_burst(to_wire, (void **)out, 64, NULL);
		for (i = 0; i < n; i++, seen++) {
			CU_ASSERT(rte_pktmbuf_mtod(out[i], uint8_t *)[20] ==
				  seen);
			CU_ASSERT(out[i]->pkt_len == 100 + seen);
		}
		rte_pktmbuf_free_bulk(out, n);
	}
	CU_ASSERT(seen == 20);
	CU_ASSERT(netswitch_tx_pending(ns) == 0);
	netswitch_stats_get(ns, &st);
	CU_ASSERT(st.tx == 20);
	CU_ASSERT(st.tx_retry > 0); /* the port did refuse some */
	CU_ASSERT(st.n_tx == 1 && st.txr[0].channel == 0x0501 &&
		  st.txr[0].frames == 20);
	CU_ASSERT(st.tx_pending == 0);
	ion_prod_close(&p);
	netswitch_free(ns);
	rig_free(&g);
	rte_eth_dev_stop((uint16_t)port);
	rte_eth_dev_close((uint16_t)port);
	rte_ring_free(to_wire);
	rte_ring_free(from_wire);
}

/* ---- creation errors ------------------------------------------------ */

static void
test_create_errors(void)
{
	struct netswitch_conf conf = conf_default(0);
	struct netswitch *ns, *ns2;
	struct ion_cspace ro;
	struct rig g;

	rig_init(&g);
	/* no WRITE on a routed ring: a capability fault */
	ion_cspace_init(&ro);
	CU_ASSERT(ion_cspace_grant(&ro, g.rx[0], ION_PERM_READ) >= 0);
	CU_ASSERT(netswitch_create(&conf, &ro, &ns) == -EACCES);
	CU_ASSERT(ro.fault.channel == 0x0500 &&
		  ro.fault.perm == ION_PERM_WRITE);
	CU_ASSERT(ion_ring_prod_part(g.rx[0])->bell.owner == 0);
	/* a second NetSwitch on the same rings: the producer end is taken */
	CU_ASSERT_FATAL(netswitch_create(&conf, &g.cs, &ns) == 0);
	CU_ASSERT(netswitch_create(&conf, &g.cs, &ns2) == -EBUSY);
	netswitch_free(ns);
	/* and is free again once the first is gone */
	CU_ASSERT_FATAL(netswitch_create(&conf, &g.cs, &ns) == 0);
	netswitch_free(ns);
	conf.burst = 0;
	CU_ASSERT(netswitch_create(&conf, &g.cs, &ns) == -EINVAL);
	conf.burst = NETSWITCH_MAX_BURST + 1;
	CU_ASSERT(netswitch_create(&conf, &g.cs, &ns) == -EINVAL);
	conf = conf_default(0);
	conf.tx_pool = NULL;
	CU_ASSERT(netswitch_create(&conf, &g.cs, &ns) == -EINVAL);
	conf = conf_default(0);
	conf.routes[1].ethertype = 0x0800;
	CU_ASSERT(netswitch_create(&conf, &g.cs, &ns) == -EEXIST);
	rig_free(&g);
}

int
main(void)
{
	static const struct test_case t[] = {
		TEST(test_classify_table),  TEST(test_table_build),
		TEST(test_demux_counters),  TEST(test_demux_chained),
		TEST(test_tx_partial_port), TEST(test_create_errors),
	};
	char *eal[] = {"test_netswitch",
		       "--no-huge",
		       "-m",
		       "256",
		       "--no-pci",
		       "--no-shconf",
		       "--file-prefix",
		       "ion-test-ns",
		       "-l",
		       "0",
		       "--log-level",
		       "*:error",
		       NULL};
	int rc;

	if (rte_eal_init((int)N_TESTS(eal) - 1, eal) < 0)
		return 1;
	pool = rte_pktmbuf_pool_create("ns_test", 1023, 0, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	if (pool == NULL || CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	if (test_add_suite("netswitch", t, N_TESTS(t)) < 0) {
		CU_cleanup_registry();
		return 1;
	}
	rc = test_run_all();
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return rc;
}
