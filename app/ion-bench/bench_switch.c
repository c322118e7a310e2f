/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ion-bench switch: NetSwitch demux throughput on one port, next to
 * dpdk-testpmd --forward-mode=io on the same port type, in the same run.
 *
 *   null    net_null: RX makes 64-byte frames as fast as it is polled.  The
 *           NetSwitch demuxes them (an EtherType mix: every mbuf of the RX
 *           pool is pre-filled with one frame of the mix) into the rings,
 *           fibers consume; testpmd forwards them to the null TX.
 *   ring    net_ring: a port whose TX feeds its own RX; 32 frames of the
 *           routed mix circulate port -> NetSwitch -> rings -> reflecting
 *           fibers -> TX rings -> port; testpmd io with --tx-first.
 *   virtio  net_virtio_user on a vhost-user socket served by a dpdk-testpmd
 *           peer that sends everything back; 32 frames circulate as above.
 *   af_xdp, af_packet
 *           net_af_xdp / net_af_packet on one end of a veth pair in a
 *           network namespace of the benchmark's own (bench_veth_up()); a
 *           dpdk-testpmd peer on the same PMD on the other end sends
 *           everything back; 32 frames circulate as above.
 * The figure is frames per second the NetSwitch delivered into rings (what
 * testpmd calls forwarded: frames it dropped for a full ring do not
 * count), or testpmd's Rx-pps, median of --runs samples of --seconds.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <fiber.h>
#include <ion_ring.h>
#include <netswitch.h>

#include "bench.h"
#include "bench_rig.h"

#define N_RX	    3
#define BURST	    32
#define SEED	    32 /* frames circulating in the loop modes, as --tx-first */
#define MAX_SAMPLES 64

static const struct netswitch_route routes[] = {
	{0x0800, 0x0500}, {0x0806, 0x0500}, {0x86DD, 0x0500},
	{0x88B5, 0x0700}, {0x4C57, 0x0600},
};
static const uint32_t rx_ch[N_RX] = {0x0500, 0x0700, 0x0600};
static const uint32_t tx_ch[N_RX] = {0x0501, 0x0701, 0x0601};

/* The mix: per 10 frames, 3 IPv4, ARP, IPv6, 2 UTCP, 2 LWF, 1 unknown. */
static const uint16_t mix[10] = {0x0800, 0x0806, 0x0800, 0x86DD, 0x88B5,
				 0x0800, 0x4C57, 0x88B5, 0x4C57, 0x1234};

enum port_kind { P_NULL, P_RING, P_VIRTIO, P_AF_XDP, P_AF_PACKET, P_N };
static const char *const port_names[P_N] = {"null", "ring", "virtio", "af_xdp",
					    "af_packet"};

static bool
is_veth(enum port_kind k)
{
	return k == P_AF_XDP || k == P_AF_PACKET;
}

static enum bench_veth_pmd
veth_pmd(enum port_kind k)
{
	return k == P_AF_XDP ? BENCH_AF_XDP : BENCH_AF_PACKET;
}

/* dpdk-testpmd's pool on a veth port (its umem on af_xdp): the size of
 * the NetSwitch's RX pool, not testpmd's default of 155456 mbufs */
#define TESTPMD_MBUFS "--total-num-mbufs=8191"

struct sw {
	enum port_kind kind;
	enum bench_placement pl;
	struct fiber fib[N_RX];
	struct fiber *fp[N_RX];
	unsigned int n_fib;
	uint16_t port;
	struct rte_mempool *rx_pool, *tx_pool;
	struct ion_ring *rings[2 * N_RX];
	struct ion_cspace ns_cs, fib_cs;
	struct netswitch *ns;
	uint32_t stop;
	char sock[108];
};

static void
frame_fill(uint8_t *p, uint32_t len, uint16_t type)
{
	memset(p, 0, len);
	memset(p, 0x02, 6);	/* dst */
	memset(p + 6, 0x04, 6); /* src */
	p[12] = (uint8_t)(type >> 8);
	p[13] = (uint8_t)type;
}

/* net_null hands out pool mbufs untouched: give each one a frame. */
static void
prefill(struct rte_mempool *mp, void *arg, void *obj, unsigned int idx)
{
	struct rte_mbuf *m = obj;

	(void)mp;
	(void)arg;
	frame_fill((uint8_t *)m->buf_addr + RTE_PKTMBUF_HEADROOM, 64,
		   mix[idx % 10]);
}

/*
 * The fibers of the benchmark, the daemon's own kinds: rxonly on null
 * (consume), reflect on the loop ports (MACs swapped, back to TX).
 */
static int
fibers_up(struct sw *s)
{
	const struct fiber_kind *kind =
		fiber_kind_find(s->kind == P_NULL ? "rxonly" : "reflect");
	const struct fiber_env env = {.stats_arg = NULL};
	unsigned int k;
	int rc;

	for (k = 0; k < N_RX; k++) {
		char name[16];
		struct fiber_conf fc = {
			.name = name,
			.kind = kind,
			.rx = rx_ch[k],
			.tx = s->kind == P_NULL ? 0 : tx_ch[k],
			.burst = BURST,
		};

		snprintf(name, sizeof(name), "fiber%u", k);
		s->fp[k] = &s->fib[k];
		rc = fiber_init(&s->fib[k], &fc, &env);
		s->n_fib = k + 1;
		if (rc == 0)
			rc = fiber_grant(&s->fib[k], s->rings[k],
					 ION_PERM_READ);
		if (rc == 0 && s->kind != P_NULL)
			rc = fiber_grant(&s->fib[k], s->rings[N_RX + k],
					 ION_PERM_WRITE);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static void
fibers_down(struct sw *s)
{
	unsigned int k;

	for (k = 0; k < s->n_fib; k++)
		fiber_fini(&s->fib[k]);
	s->n_fib = 0;
}

/* ---- the peer and testpmd ------------------------------------------ */

/*
 * Start the peer: vhost-user on @p sock, or the same PMD as ours on the
 * veth's other end (whether it is up, bench_port_ping() finds out); its
 * pid, or -1.
 */
static pid_t
peer_start(enum port_kind kind, const char *sock, const char *xdp_args, int *fd)
{
	char vdev[160];
	char *argv[24];
	int argc = 0;
	pid_t pid;
	int i;

	argv[argc++] = "dpdk-testpmd";
	argv[argc++] = "--lcores";
	argv[argc++] = "0@0,1@0";
	argv[argc++] = "--no-pci";
	argv[argc++] = "--file-prefix";
	argv[argc++] = "ionb-peer";
	argv[argc++] = "-m";
	argv[argc++] = "512";
	argv[argc++] = "--vdev";
	argv[argc++] = vdev;
	argv[argc++] = "--";
	argv[argc++] = "--forward-mode=io";
	argv[argc++] = "--auto-start";
	argv[argc++] = "--stats-period";
	argv[argc++] = "3600";
	argv[argc++] = "--burst";
	argv[argc++] = "32";
	if (is_veth(kind)) {
		argv[argc++] = TESTPMD_MBUFS;
		argv[argc] = NULL;
		bench_veth_devargs(vdev, sizeof(vdev), veth_pmd(kind), "0",
				   BENCH_VETH_B, xdp_args);
		return bench_spawn(argv, fd);
	}
	argv[argc] = NULL;
	unlink(sock);
	snprintf(vdev, sizeof(vdev), "net_vhost0,iface=%s,queues=1", sock);
	pid = bench_spawn(argv, fd);
	for (i = 0; pid > 0 && i < 100 && access(sock, F_OK) != 0; i++)
		rte_delay_us_sleep(100000);
	if (pid > 0 && access(sock, F_OK) != 0) {
		fprintf(stderr, "ion-bench switch: the vhost-user peer did "
				"not come up\n");
		bench_stop_child(pid, *fd, "ionb-peer");
		return -1;
	}
	return pid;
}

/*
 * dpdk-testpmd --forward-mode=io on a port of @p kind: the median of its
 * per-second RX rates, skipping the first two.
 */
static double
testpmd_mpps(enum port_kind kind, const char *sock, const char *xdp_args,
	     unsigned int seconds, unsigned int runs)
{
	char vdev[160];
	char *argv[32];
	int argc = 0;

	argv[argc++] = "dpdk-testpmd";
	argv[argc++] = "--lcores";
	argv[argc++] = "0@0,1@1";
	argv[argc++] = "--no-pci";
	argv[argc++] = "--file-prefix";
	argv[argc++] = "ionb-testpmd";
	argv[argc++] = "-m";
	argv[argc++] = "512";
	argv[argc++] = "--vdev";
	if (kind == P_NULL)
		snprintf(vdev, sizeof(vdev), "net_null0");
	else if (kind == P_RING)
		snprintf(vdev, sizeof(vdev), "net_ring0");
	else if (is_veth(kind))
		bench_veth_devargs(vdev, sizeof(vdev), veth_pmd(kind), "0",
				   BENCH_VETH_A, xdp_args);
	else
		snprintf(vdev, sizeof(vdev),
			 "net_virtio_user0,path=%s,queues=1,queue_size=1024",
			 sock);
	argv[argc++] = vdev;
	if (kind == P_VIRTIO)
		argv[argc++] = "--single-file-segments";
	argv[argc++] = "--";
	argv[argc++] = "--forward-mode=io";
	argv[argc++] = "--auto-start";
	argv[argc++] = "--stats-period";
	argv[argc++] = "1";
	argv[argc++] = "--burst";
	argv[argc++] = "32";
	if (kind != P_NULL)
		argv[argc++] = "--tx-first";
	if (is_veth(kind))
		argv[argc++] = TESTPMD_MBUFS;
	argv[argc] = NULL;

	/* the first two samples are its warm-up */
	return bench_testpmd_rx_mpps(argv, "ionb-testpmd", 2, seconds * runs);
}

/* ---- the NetSwitch side --------------------------------------------- */

static int
rings_up(struct sw *s)
{
	uint32_t ch[2 * N_RX];
	bool is_rx[2 * N_RX];
	unsigned int k;

	for (k = 0; k < 2 * N_RX; k++) {
		ch[k] = k < N_RX ? rx_ch[k] : tx_ch[k - N_RX];
		is_rx[k] = k < N_RX;
	}
	return bench_rings_up(s->rings, ch, is_rx, 2 * N_RX, &s->ns_cs,
			      &s->fib_cs);
}

/* Send SEED frames of the routed mix into a loop port. */
static int
seed(struct sw *s)
{
	struct rte_mbuf *m[SEED];
	uint16_t sent = 0;
	unsigned int i;

	if (rte_pktmbuf_alloc_bulk(s->tx_pool, m, SEED) != 0)
		return -ENOMEM;
	for (i = 0; i < SEED; i++) {
		uint8_t *d = (uint8_t *)rte_pktmbuf_append(m[i], 64);

		if (d == NULL) {
			rte_pktmbuf_free_bulk(m, SEED);
			return -ENOMEM;
		}
		frame_fill(d, 64, mix[i % 9]); /* skip the unknown type */
	}
	for (i = 0; i < 100 && sent < SEED; i++)
		sent += rte_eth_tx_burst(s->port, 0, m + sent, SEED - sent);
	rte_pktmbuf_free_bulk(m + sent, SEED - sent);
	return sent == SEED ? 0 : -EIO;
}

/* Frames the NetSwitch put into rings: what the fibers get.  Frames it
 * received but dropped (a full ring) are not forwarded. */
static uint64_t
delivered(const struct netswitch_stats *st)
{
	uint64_t n = 0;
	unsigned int i;

	for (i = 0; i < st->n_routes; i++)
		n += st->route[i].delivered;
	return n;
}

/* Frames the NetSwitch took in that are not of the seeded mix: on a veth
 * port, frames the kernel would have sent itself. */
static uint64_t
not_ours(const struct netswitch_stats *st)
{
	return st->runt + st->unknown;
}

static double
netswitch_mpps(enum port_kind kind, enum bench_placement pl, const char *sock,
	       const char *xdp_args, unsigned int seconds, unsigned int runs,
	       const unsigned int *lc, uint64_t *foreign)
{
	struct netswitch_conf nc = {.burst = BURST,
				    .n_routes = RTE_DIM(routes)};
	static struct sw s; /* large: its fibers */
	struct bench_ns_lcore nsl = {.stop = &s.stop};
	struct bench_fibers bf = {.f = s.fp, .n = N_RX, .stop = &s.stop};
	struct bench_sched bs = {.sched = NULL};
	char devargs[160];
	double v[MAX_SAMPLES];
	unsigned int k;
	int rc;

	memset(&s, 0, sizeof(s));
	s.kind = kind;
	s.pl = pl;
	if (kind == P_NULL)
		snprintf(devargs, sizeof(devargs), "net_null0,size=64");
	else if (kind == P_RING)
		snprintf(devargs, sizeof(devargs), "net_ring0");
	else if (is_veth(kind))
		bench_veth_devargs(devargs, sizeof(devargs), veth_pmd(kind),
				   "_ionb", BENCH_VETH_A, xdp_args);
	else
		snprintf(devargs, sizeof(devargs),
			 "net_virtio_user0,path=%s,queues=1,queue_size=1024",
			 sock);
	s.rx_pool = rte_pktmbuf_pool_create("ionb_rx", 8191, 256, 0,
					    RTE_MBUF_DEFAULT_BUF_SIZE,
					    rte_socket_id());
	/* on a veth port, as the daemon: one pool both ways (on af_xdp the
	 * port's umem, so that TX need not copy; so does testpmd) */
	s.tx_pool = is_veth(kind)
			    ? s.rx_pool
			    : rte_pktmbuf_pool_create("ionb_tx", 4095, 256, 0,
						      RTE_MBUF_DEFAULT_BUF_SIZE,
						      rte_socket_id());
	if (s.rx_pool == NULL || s.tx_pool == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if (kind == P_NULL)
		rte_mempool_obj_iter(s.rx_pool, prefill, NULL);
	rc = rings_up(&s);
	if (rc == 0)
		rc = fibers_up(&s);
	if (rc == 0)
		rc = bench_port_up(devargs, s.rx_pool, &s.port);
	if (rc < 0)
		goto out;
	nc.port_id = s.port;
	nc.tx_pool = s.tx_pool;
	memcpy(nc.routes, routes, sizeof(routes));
	if (kind != P_NULL) {
		for (k = 0; k < N_RX; k++)
			nc.tx_channels[k] = tx_ch[k];
		nc.n_tx = N_RX;
	}
	/* the peer forwards once its port is up: until then frames are lost */
	if (rc == 0 && is_veth(kind))
		rc = bench_port_ping(s.port, s.tx_pool, 30);
	if (rc == 0)
		rc = netswitch_create(&nc, &s.ns_cs, &s.ns);
	nsl.ns = s.ns;
	if (rc == 0 && kind != P_NULL)
		rc = seed(&s);
	if (rc == 0 && pl == BENCH_SHARED)
		rc = bench_sched_init(&bs, s.ns, lc[0], s.fp, N_RX);
	if (rc == 0) {
		if (pl == BENCH_SHARED) {
			rte_eal_remote_launch(bench_lcore_sched, &bs, lc[0]);
		} else {
			rte_eal_remote_launch(bench_lcore_fibers, &bf, lc[1]);
			rte_eal_remote_launch(bench_lcore_netswitch, &nsl,
					      lc[0]);
		}
		rte_delay_us_sleep(2000000); /* warm up, as testpmd's skips */
		for (k = 0; k < runs && k < MAX_SAMPLES; k++) {
			struct netswitch_stats a, b;
			uint64_t t0, t1;

			netswitch_stats_get(s.ns, &a);
			t0 = rte_get_timer_cycles();
			rte_delay_us_sleep(seconds * 1000000u);
			netswitch_stats_get(s.ns, &b);
			t1 = rte_get_timer_cycles();
			v[k] = (double)(delivered(&b) - delivered(&a)) *
			       rte_get_timer_hz() / (double)(t1 - t0) / 1e6;
		}
		/* release: pairs with the lcores' acquire of stop */
		__atomic_store_n(&s.stop, 1, __ATOMIC_RELEASE);
		bench_sched_stop(&bs);
		rc = bench_wait_lcore(lc[0]) |
		     (pl == BENCH_SPLIT ? bench_wait_lcore(lc[1]) : 0);
		if (kind != P_NULL) {
			struct netswitch_stats st;

			netswitch_stats_get(s.ns, &st);
			*foreign = not_ours(&st);
		}
	}
	bench_sched_free(&bs);
	fibers_down(&s);
	netswitch_free(s.ns);
	bench_port_down(s.port, devargs);
out:
	bench_rings_down(s.rings, 2 * N_RX);
	if (s.tx_pool != s.rx_pool)
		rte_mempool_free(s.tx_pool);
	rte_mempool_free(s.rx_pool);
	if (rc < 0)
		return -1;
	return bench_median(v, runs < MAX_SAMPLES ? runs : MAX_SAMPLES);
}

/* ---- options and report --------------------------------------------- */

static void
usage(void)
{
	fprintf(stderr,
		"usage: ion-bench [EAL options] -- switch [options]\n"
		"  --ports LIST    null,ring,virtio,af_xdp,af_packet (default "
		"null,ring,virtio)\n"
		"  --placement LIST  shared (NetSwitch and fibers as steps of "
		"one lcore,\n"
		"                  the daemon's), split (on two lcores); "
		"default shared\n"
		"  --seconds N     length of one sample (default 2)\n"
		"  --runs N        samples, the median is reported (default "
		"5)\n"
		"  --xdp-args ARGS more devargs of every af_xdp port, ours, "
		"the peer's and\n"
		"                  testpmd's (e.g. busy_budget=0)\n"
		"  --json          JSON instead of a table\n"
		"Needs two worker lcores (split: NetSwitch, fibers) and, for "
		"virtio,\n"
		"--single-file-segments; on two CPUs:\n"
		"  ion-bench --lcores '0@0,1@1,2@1' --no-pci "
		"--single-file-segments -- switch\n"
		"dpdk-testpmd runs with --lcores '0@0,1@1': its forwarding "
		"lcore on the NetSwitch's CPU;\n"
		"the peers (virtio, af_xdp, af_packet) forward on CPU 0.  "
		"af_xdp and af_packet\n"
		"ports are the two ends of a veth pair (" BENCH_VETH_A
		", the NetSwitch's or testpmd's,\n" BENCH_VETH_B
		", the peer's) in a network namespace of this process's "
		"own.\n");
}

int
bench_switch(int argc, char **argv)
{
	static const struct option longs[] = {
		{"ports", required_argument, NULL, 'p'},
		{"placement", required_argument, NULL, 'P'},
		{"seconds", required_argument, NULL, 's'},
		{"runs", required_argument, NULL, 'r'},
		{"xdp-args", required_argument, NULL, 'x'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	bool want[P_N] = {true, true, true}, json = false;
	uint64_t foreign[BENCH_N_PLACEMENTS][P_N] = {{0}};
	const char *xdp_args = "";
	bool pls[BENCH_N_PLACEMENTS] = {[BENCH_SHARED] = true};
	double ion[BENCH_N_PLACEMENTS][P_N] = {{0}}, tpmd[P_N] = {0};
	int pl;
	unsigned int seconds = 2, runs = 5, lc[2];
	char sock[108];
	int ch, li = 0, k, peer_fd = -1;
	uint32_t v[BENCH_MAX_LIST];
	pid_t peer = -1;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longs, &li)) != -1) {
		switch (ch) {
		case 'p': {
			char buf[64], *tok, *save;

			snprintf(buf, sizeof(buf), "%s", optarg);
			memset(want, 0, sizeof(want));
			for (tok = strtok_r(buf, ",", &save); tok != NULL;
			     tok = strtok_r(NULL, ",", &save)) {
				for (k = 0; k < P_N; k++)
					if (strcmp(tok, port_names[k]) == 0)
						want[k] = true;
				for (k = 0; k < P_N; k++)
					if (strcmp(tok, port_names[k]) == 0)
						break;
				if (k == P_N)
					goto bad;
			}
			break;
		}
		case 'P': {
			char buf[64], *tok, *save;

			snprintf(buf, sizeof(buf), "%s", optarg);
			memset(pls, 0, sizeof(pls));
			for (tok = strtok_r(buf, ",", &save); tok != NULL;
			     tok = strtok_r(NULL, ",", &save)) {
				for (pl = 0; pl < BENCH_N_PLACEMENTS; pl++)
					if (strcmp(tok,
						   bench_placement_names[pl]) ==
					    0)
						break;
				if (pl == BENCH_N_PLACEMENTS)
					goto bad;
				pls[pl] = true;
			}
			break;
		}
		case 's':
			if (bench_parse_list(optarg, v, 1, 60) != 1)
				goto bad;
			seconds = v[0];
			break;
		case 'r':
			if (bench_parse_list(optarg, v, 1, MAX_SAMPLES) != 1)
				goto bad;
			runs = v[0];
			break;
		case 'x':
			if (strlen(optarg) > 96 || strchr(optarg, ' ') != NULL)
				goto bad;
			xdp_args = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage();
			return 0;
		default:
			usage();
			return 2;
		}
	}
	if (bench_workers(lc, 2) < 0) {
		fprintf(stderr, "ion-bench switch: needs two worker lcores, "
				"e.g. --lcores '0@0,1@1,2@1'\n");
		return 2;
	}
	/* before any port is probed: the veth ports' namespace */
	if ((want[P_AF_XDP] || want[P_AF_PACKET]) && bench_veth_up() < 0)
		return 1;
	snprintf(sock, sizeof(sock), "/tmp/ionb-vhost-%d.sock", (int)getpid());
	for (k = 0; k < P_N; k++) {
		bool peered = k == P_VIRTIO || is_veth((enum port_kind)k);

		if (!want[k])
			continue;
		if (peered && (peer = peer_start((enum port_kind)k, sock,
						 xdp_args, &peer_fd)) < 0)
			return 1;
		for (pl = 0; pl < BENCH_N_PLACEMENTS; pl++) {
			if (!pls[pl])
				continue;
			ion[pl][k] = netswitch_mpps((enum port_kind)k,
						    (enum bench_placement)pl,
						    sock, xdp_args, seconds,
						    runs, lc, &foreign[pl][k]);
			if (ion[pl][k] < 0)
				break;
		}
		if (pl == BENCH_N_PLACEMENTS)
			tpmd[k] = testpmd_mpps((enum port_kind)k, sock,
					       xdp_args, seconds, runs);
		if (peered) {
			bench_stop_child(peer, peer_fd, "ionb-peer");
			if (k == P_VIRTIO)
				unlink(sock);
		}
		if (pl < BENCH_N_PLACEMENTS || tpmd[k] < 0)
			return 1;
	}
	if (json) {
		printf("{\"switch\": {\"seconds\": %u, \"runs\": %u, "
		       "\"xdp_args\": \"%s\", \"ports\": [",
		       seconds, runs, xdp_args);
		ch = 0;
		for (k = 0; k < P_N; k++)
			for (pl = 0; pl < BENCH_N_PLACEMENTS; pl++)
				if (want[k] && pls[pl])
					printf("%s{\"port\": \"%s\", "
					       "\"placement\": \"%s\", "
					       "\"netswitch_mpps\": %.3f, "
					       "\"testpmd_io_mpps\": %.3f, "
					       "\"ratio\": %.3f, "
					       "\"not_ours\": %lu}",
					       ch++ ? ", " : "", port_names[k],
					       bench_placement_names[pl],
					       ion[pl][k], tpmd[k],
					       ion[pl][k] / tpmd[k],
					       (unsigned long)foreign[pl][k]);
		printf("]}}\n");
		return 0;
	}
	printf("\nion-bench switch: median of %u samples of %u s%s%s\n\n", runs,
	       seconds, xdp_args[0] != '\0' ? "; af_xdp ports with " : "",
	       xdp_args);
	printf("%-9s %-9s %16s %18s %8s %9s\n", "port", "placement",
	       "NetSwitch Mpps", "testpmd io Mpps", "ratio", "not ours");
	for (k = 0; k < P_N; k++)
		for (pl = 0; pl < BENCH_N_PLACEMENTS; pl++)
			if (want[k] && pls[pl])
				printf("%-9s %-9s %16.3f %18.3f %7.2fx %9lu\n",
				       port_names[k], bench_placement_names[pl],
				       ion[pl][k], tpmd[k],
				       ion[pl][k] / tpmd[k],
				       (unsigned long)foreign[pl][k]);
	printf("\nnot ours: frames the NetSwitch took in that were not "
	       "of the mix it circulates\n(on af_xdp and af_packet, "
	       "frames the kernel sent itself)\n");
	return 0;
bad:
	fprintf(stderr, "ion-bench switch: bad value '%s' for --%s\n", optarg,
		longs[li].name);
	return 2;
}
