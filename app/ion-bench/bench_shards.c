/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ion-bench shards: the data path sharded by RX queue, one shard against
 * two, in the same run.
 *
 * net_null with N RX queues makes frames as fast as it is polled, so the
 * generator costs nothing: each queue has a pool of its own, pre-filled
 * with valid frames of the case, and no cache, so its mbufs come round in
 * order: 2047 of them, each LWF frame a session of its own, twice the
 * fiber's replay table (every frame is new to it), and a pool small
 * enough for the L3 cache, where a NIC's DMA would put the frames.  (With
 * 8191, the frames came from memory, and two shards of LWF standard
 * reached 1.68x instead of 1.92x.)
 * Shard k is a NetSwitch on queue k and a fiber of the daemon's own kind
 * (utcp, or lwf: full validation) on a ring of its own, scheduled together
 * on one lcore as the daemon places them.  Nothing is shared on the data
 * path: each ring has one writer and one reader, each pool one user.
 *
 * The figure is frames per second the fibers accepted (their "ok"
 * counters) summed over the shards, median of --runs samples of
 * --seconds.  Every frame is accounted for at the end: a shard's
 * NetSwitch delivered what its fiber took plus what is left in the ring,
 * and the fiber accepted all it took; otherwise the run fails.
 *
 *   ion-bench --lcores 0@0,1@0,2@1 ... -- shards [--cases LIST]
 *             [--shards LIST] [--seconds S] [--runs R]
 *
 * The last N worker lcores run N shards: with the lcores above, one shard
 * runs alone on CPU 1, two on CPUs 0 and 1 (the main lcore, on CPU 0,
 * sleeps between samples).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include <ctr.h>
#include <fiber.h>
#include <ion_ring.h>
#include <netswitch.h>
#include <wire.h>

#include "bench.h"
#include "bench_rig.h"

#define MAX_SHARDS  4
#define POOL_MBUFS  2047 /* a power of two less one, as mempools like */
#define RING_DESC   1024
#define BURST	    32
#define MAX_SAMPLES 64
#define ETH_LEN	    14

struct shards_case {
	const char *name;
	const char *kind;   /**< the fiber kind */
	uint16_t ethertype; /**< what the NetSwitch routes to it */
	uint32_t channel;   /**< shard k's ring: channel + k */
	uint16_t payload;   /**< bytes of payload in each frame */
	uint8_t lwf_class;
};

static const struct shards_case cases[] = {
	{"utcp", "utcp", UTCP_ETHERTYPE, 0x0700, 40, 0}, /* 64-byte frames */
	{"lwf", "lwf", LWF_ETHERTYPE, 0x0600, 1226, LWF_CLASS_STANDARD},
};

struct shard {
	struct rte_mempool *pool;
	struct ion_ring *ring;
	struct ion_cspace ns_cs, fib_cs;
	struct netswitch *ns;
	struct fiber fib;
	struct fiber *fp;
	struct bench_sched bs;
	bool fib_up;
};

struct shards_opts {
	const struct shards_case *cases[RTE_DIM(cases)];
	unsigned int n_cases;
	uint32_t shards[MAX_SHARDS];
	unsigned int n_shards;
	unsigned int seconds, runs;
};

/* ---- frames ----------------------------------------------------------- */

struct fill {
	const struct shards_case *c;
	unsigned int shard;
	int len; /**< the frame's length, or a negative errno */
};

/* One valid frame of the case in each mbuf of a shard's pool; LWF frames
 * each of their own session. */
static void
fill_one(struct rte_mempool *mp, void *arg, void *obj, unsigned int idx)
{
	static const uint8_t hdr[12] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2};
	struct fill *f = arg;
	struct rte_mbuf *m = obj;
	uint8_t *d = (uint8_t *)m->buf_addr + RTE_PKTMBUF_HEADROOM;
	uint8_t payload[1500];
	int len;

	(void)mp;
	memset(payload, 0xa5, sizeof(payload));
	memcpy(d, hdr, sizeof(hdr));
	d[12] = (uint8_t)(f->c->ethertype >> 8);
	d[13] = (uint8_t)f->c->ethertype;
	if (f->c->lwf_class != 0) {
		struct lwf_params p;

		memset(&p, 0, sizeof(p));
		p.frame_class = f->c->lwf_class;
		p.service_type = 1;
		memcpy(p.session_id, "ionb-shards", 11);
		p.session_id[12] = (uint8_t)f->shard;
		p.session_id[13] = (uint8_t)(idx >> 8);
		p.session_id[14] = (uint8_t)idx;
		p.sequence = 1;
		len = lwf_build(d + ETH_LEN,
				RTE_MBUF_DEFAULT_DATAROOM - ETH_LEN, &p,
				payload, f->c->payload);
	} else {
		len = utcp_build(d + ETH_LEN,
				 RTE_MBUF_DEFAULT_DATAROOM - ETH_LEN, 0,
				 (uint16_t)(1000 + idx % 1000), 7, payload,
				 f->c->payload);
	}
	f->len = len < 0 ? len : ETH_LEN + len;
}

/* ---- one shard -------------------------------------------------------- */

static int
shard_up(struct shard *s, const struct shards_case *c, unsigned int k,
	 unsigned int lcore, int *frame_len)
{
	const struct fiber_kind *kind = fiber_kind_find(c->kind);
	const struct fiber_env env = {.stats_arg = NULL};
	uint8_t params[FIBER_PARAMS_MAX];
	const uint32_t ch = c->channel + k;
	const bool is_rx = true;
	struct fill f = {.c = c, .shard = k, .len = -EINVAL};
	char name[32];
	int rc;

	snprintf(name, sizeof(name), "ionb_shard%u", k);
	/* no cache: the null PMD then hands the mbufs out in order */
	s->pool = rte_pktmbuf_pool_create(name, POOL_MBUFS, 0, 0,
					  RTE_MBUF_DEFAULT_BUF_SIZE,
					  rte_socket_id());
	if (s->pool == NULL)
		return -ENOMEM;
	rte_mempool_obj_iter(s->pool, fill_one, &f);
	if (f.len < 0)
		return f.len;
	*frame_len = f.len;
	rc = bench_rings_up(&s->ring, &ch, &is_rx, 1, &s->ns_cs, &s->fib_cs);
	if (rc < 0 || kind == NULL || fiber_params_default(kind, params) < 0)
		return rc < 0 ? rc : -EINVAL;
	{
		struct fiber_conf fc = {
			.name = c->kind,
			.kind = kind,
			.lcore = lcore,
			.rx = ch,
			.burst = BURST,
			.params = params,
		};

		rc = fiber_init(&s->fib, &fc, &env);
	}
	s->fib_up = true;
	if (rc == 0)
		rc = fiber_grant(&s->fib, s->ring, ION_PERM_READ);
	s->fp = &s->fib;
	return rc;
}

static int
shard_switch(struct shard *s, const struct shards_case *c, unsigned int k,
	     uint16_t port, unsigned int lcore)
{
	struct netswitch_conf nc = {
		.port_id = port,
		.queue_id = (uint16_t)k,
		.burst = BURST,
		.tx_pool = s->pool,
		.n_routes = 1,
	};
	int rc;

	nc.routes[0].ethertype = c->ethertype;
	nc.routes[0].channel = c->channel + k;
	rc = netswitch_create(&nc, &s->ns_cs, &s->ns);
	if (rc == 0)
		rc = bench_sched_init(&s->bs, s->ns, lcore, &s->fp, 1);
	return rc;
}

static void
shard_down(struct shard *s)
{
	bench_sched_free(&s->bs);
	if (s->fib_up)
		fiber_fini(&s->fib);
	netswitch_free(s->ns);
	bench_rings_down(&s->ring, 1);
	rte_mempool_free(s->pool);
	memset(s, 0, sizeof(*s));
}

/* The fiber's counters: what it accepted ("ok", the first), and what it
 * refused (the reasons after it). */
static uint64_t
fiber_ok(const struct fiber *f, uint64_t *refused)
{
	const struct ctr_set *set = f->kind->counters;
	uint64_t snap[FIBER_STATS_MAX / sizeof(uint64_t)];
	unsigned int n = f->kind == fiber_kind_find("lwf") ? LWF_N_REASONS
							   : UTCP_N_REASONS;
	unsigned int i;

	fiber_kind_stats(f, snap);
	if (refused != NULL)
		for (*refused = 0, i = 1; i <= n && i < set->n; i++)
			*refused += ctr_value(&set->desc[i], snap);
	return ctr_value(&set->desc[0], snap);
}

/* ---- one run: N shards on the last N workers -------------------------- */

struct run_result {
	double mfps;
	int frame_len;
	uint64_t ok, refused, full, unaccounted;
};

/* The null port with @p n queue pairs, queue k's mbufs from shard k's
 * pool. */
static int
port_up(struct shard *sh, unsigned int n, int len, uint16_t *port)
{
	struct rte_eth_conf conf = {0};
	char devargs[64];
	unsigned int k;
	int rc;

	snprintf(devargs, sizeof(devargs), "net_null0,size=%d", len);
	rc = rte_dev_probe(devargs);
	if (rc == 0 && rte_eth_dev_get_port_by_name("net_null0", port) != 0)
		rc = -ENODEV;
	if (rc == 0)
		rc = rte_eth_dev_configure(*port, (uint16_t)n, (uint16_t)n,
					   &conf);
	for (k = 0; rc == 0 && k < n; k++) {
		rc = rte_eth_rx_queue_setup(*port, (uint16_t)k, RING_DESC,
					    rte_socket_id(), NULL, sh[k].pool);
		if (rc == 0)
			rc = rte_eth_tx_queue_setup(*port, (uint16_t)k,
						    RING_DESC, rte_socket_id(),
						    NULL);
	}
	if (rc == 0)
		rc = rte_eth_dev_start(*port);
	if (rc < 0)
		fprintf(stderr, "ion-bench shards: %s with %u queues: %s\n",
			devargs, n, strerror(-rc));
	return rc;
}

static int
run(const struct shards_case *c, unsigned int n, const unsigned int *lc,
    const struct shards_opts *o, struct run_result *r)
{
	static struct shard sh[MAX_SHARDS]; /* large: the fibers */
	double v[MAX_SAMPLES];
	uint16_t port = RTE_MAX_ETHPORTS;
	unsigned int k, i, runs = o->runs < MAX_SAMPLES ? o->runs : MAX_SAMPLES;
	int rc = 0, len = 0;

	memset(r, 0, sizeof(*r));
	for (k = 0; rc == 0 && k < n; k++)
		rc = shard_up(&sh[k], c, k, lc[k], &len);
	r->frame_len = len;
	if (rc == 0)
		rc = port_up(sh, n, len, &port);
	for (k = 0; rc == 0 && k < n; k++)
		rc = shard_switch(&sh[k], c, k, port, lc[k]);
	if (rc == 0) {
		for (k = 0; k < n; k++)
			rte_eal_remote_launch(bench_lcore_sched, &sh[k].bs,
					      lc[k]);
		rte_delay_us_sleep(1000000); /* warm up */
		for (i = 0; i < runs; i++) {
			uint64_t a = 0, b = 0, t0, t1;

			for (k = 0; k < n; k++)
				a += fiber_ok(&sh[k].fib, NULL);
			t0 = rte_get_timer_cycles();
			rte_delay_us_sleep(o->seconds * 1000000u);
			t1 = rte_get_timer_cycles();
			for (k = 0; k < n; k++)
				b += fiber_ok(&sh[k].fib, NULL);
			v[i] = (double)(b - a) * rte_get_timer_hz() /
			       (double)(t1 - t0) / 1e6;
		}
		for (k = 0; k < n; k++)
			bench_sched_stop(&sh[k].bs);
		for (k = 0; k < n; k++)
			rc |= bench_wait_lcore(lc[k]);
		r->mfps = bench_median(v, runs);
		/* delivered = taken by the fiber + left in the ring, and the
		 * fiber took only what it accepted or refused */
		for (k = 0; k < n; k++) {
			struct netswitch_stats st;
			struct ion_ring_stats rs;
			uint64_t ok, refused;

			netswitch_stats_get(sh[k].ns, &st);
			ion_ring_stats(sh[k].ring, &rs);
			ok = fiber_ok(&sh[k].fib, &refused);
			r->ok += ok;
			r->refused += refused;
			r->full += st.route[0].full;
			r->unaccounted +=
				st.route[0].delivered != ok + refused + rs.used;
			r->unaccounted += sh[k].fib.st.frames != ok + refused;
		}
	}
	if (port != RTE_MAX_ETHPORTS) {
		rte_eth_dev_stop(port);
		rte_eth_dev_close(port);
		rte_eal_hotplug_remove("vdev", "net_null0");
	}
	for (k = 0; k < n; k++)
		shard_down(&sh[k]);
	return rc;
}

/* ---- options and report ----------------------------------------------- */

static void
usage(void)
{
	fprintf(stderr,
		"usage: ion-bench [EAL options] -- shards [options]\n"
		"  --cases LIST    utcp,lwf (default both)\n"
		"  --shards LIST   1..%d (default 1,2): shards of each run, on "
		"the last N worker lcores\n"
		"  --seconds S     length of a sample (default 2)\n"
		"  --runs R        samples, median reported (default 3)\n",
		MAX_SHARDS);
}

static int
parse(int argc, char **argv, struct shards_opts *o)
{
	static const struct option lo[] = {
		{"cases", required_argument, NULL, 'c'},
		{"shards", required_argument, NULL, 'n'},
		{"seconds", required_argument, NULL, 's'},
		{"runs", required_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	int opt, n;
	unsigned int k;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (opt) {
		case 'c': {
			char buf[64], *save = NULL, *t;

			o->n_cases = 0;
			snprintf(buf, sizeof(buf), "%s", optarg);
			for (t = strtok_r(buf, ",", &save); t != NULL;
			     t = strtok_r(NULL, ",", &save)) {
				for (k = 0; k < RTE_DIM(cases); k++)
					if (strcmp(t, cases[k].name) == 0)
						break;
				if (k == RTE_DIM(cases) ||
				    o->n_cases == RTE_DIM(cases)) {
					fprintf(stderr,
						"ion-bench shards: --cases: "
						"unknown case %s\n",
						t);
					return -1;
				}
				o->cases[o->n_cases++] = &cases[k];
			}
			break;
		}
		case 'n':
			n = bench_parse_list(optarg, o->shards, 1, MAX_SHARDS);
			if (n <= 0 || n > MAX_SHARDS) {
				fprintf(stderr, "ion-bench shards: --shards: "
						"numbers 1..4\n");
				return -1;
			}
			o->n_shards = (unsigned int)n;
			break;
		case 's':
			o->seconds = (unsigned int)atoi(optarg);
			break;
		case 'r':
			o->runs = (unsigned int)atoi(optarg);
			break;
		case 'h':
			usage();
			return 1;
		default:
			usage();
			return -1;
		}
	}
	if (o->seconds < 1 || o->runs < 1) {
		fprintf(stderr, "ion-bench shards: --seconds and --runs: 1 "
				"or more\n");
		return -1;
	}
	return 0;
}

int
bench_shards(int argc, char **argv)
{
	struct shards_opts o = {.n_cases = RTE_DIM(cases),
				.shards = {1, 2},
				.n_shards = 2,
				.seconds = 2,
				.runs = 3};
	unsigned int workers[RTE_MAX_LCORE], n_workers = 0, id, i, j;
	bool failed = false;
	int rc;

	for (i = 0; i < RTE_DIM(cases); i++)
		o.cases[i] = &cases[i];
	rc = parse(argc, argv, &o);
	if (rc != 0)
		return rc > 0 ? 0 : 2;
	RTE_LCORE_FOREACH_WORKER(id)
	workers[n_workers++] = id;
	for (j = 0; j < o.n_shards; j++)
		if (o.shards[j] > n_workers) {
			fprintf(stderr,
				"ion-bench shards: %u shards need %u worker "
				"lcores, EAL has %u (--lcores)\n",
				o.shards[j], o.shards[j], n_workers);
			return 2;
		}
	printf("ion-bench shards: net_null, a queue, a NetSwitch and a fiber "
	       "a shard, each shard on its own lcore; %u s samples, median "
	       "of %u\n\n",
	       o.seconds, o.runs);
	printf("%-6s %6s %6s %9s %9s %12s %8s %6s %6s\n", "case", "bytes",
	       "shards", "Mfps", "scaling", "accepted", "refused", "full",
	       "ok");
	for (i = 0; i < o.n_cases; i++) {
		double base = 0;

		for (j = 0; j < o.n_shards; j++) {
			unsigned int n = o.shards[j];
			struct run_result r;
			bool ok;

			rc = run(o.cases[i], n, workers + n_workers - n, &o,
				 &r);
			ok = rc == 0 && r.refused == 0 && r.unaccounted == 0;
			failed |= !ok;
			if (n == 1)
				base = r.mfps;
			printf("%-6s %6d %6u %9.3f %8.2fx %12lu %8lu %6lu "
			       "%6s\n",
			       o.cases[i]->name, r.frame_len, n, r.mfps,
			       base > 0 ? r.mfps / base : 0.0,
			       (unsigned long)r.ok, (unsigned long)r.refused,
			       (unsigned long)r.full, ok ? "yes" : "NO");
			fflush(stdout);
		}
	}
	printf("\naccepted: frames the fibers validated, all samples; refused: "
	       "frames they refused (must be 0);\nfull: frames the "
	       "NetSwitches dropped for a full ring (the fiber the limit); "
	       "scaling: Mfps / Mfps of 1 shard\n");
	if (failed)
		printf("ion-bench shards: FAILED: a run failed, refused "
		       "frames, or its counters do not add up\n");
	return failed ? 1 : 0;
}
