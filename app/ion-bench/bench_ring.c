/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ion-bench ring: one producer lcore, one consumer lcore, N messages of a
 * fixed size in bursts, through
 *   ion        the ION ring, zero-copy: built in the slot, read in place
 *              (the consumer loads every cache line of the payload);
 *   ion_copy   the ION ring through its copy helpers, used exactly like
 *              rte_ring below: built in a local buffer, copied in, copied
 *              out (ion_enqueue_burst / ion_dequeue_burst);
 *   rte_ring   rte_ring SP/SC with elements of the message size
 *              (rte_ring_create_elem, RING_F_SP_ENQ | RING_F_SC_DEQ);
 *   mbuf_ring  the usual DPDK hand-off: payload copied into mbufs from a
 *              mempool, an SP/SC rte_ring of mbuf pointers;
 *   memcpy     a plain memcpy of the same bytes on one lcore (reference).
 * Then a 64-byte ping-pong for one-way latency: ION and rte_ring polling,
 * and with --sleep-latency ION with both sides asleep on the doorbells
 * (ion_cons_wait) whenever their ring is empty.
 * Every mode moves the same payload from one core to the other, and the
 * consumer checks each message's sequence number, so a lost, duplicated
 * or reordered message fails the run.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>
#include <rte_pause.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <ion_ring.h>

#include "bench.h"
#include "bench_ion_loops.h"

#define RING_SLOTS 1024
#define MAX_BURST  64
#define MAX_SIZE   2048 /* the mbuf pool's data room bounds the sizes */

enum mode { M_ION, M_ION_COPY, M_RTE_RING, M_MBUF_RING, M_MEMCPY, M_N };
static const char *const mode_names[M_N] = {"ion", "ion_copy", "rte_ring",
					    "mbuf_ring", "memcpy"};

/* One measured run, shared by its two lcores. */
struct run {
	enum mode mode;
	uint32_t size, burst;
	uint64_t count;
	struct ion_ring *ion;
	struct rte_ring *ring;
	struct rte_mempool *pool;
	uint8_t *src, *dst; /* payload source, consumer's destination */
	uint32_t hold;	    /* ION consumer's ion_cons_set_hold() */
	uint32_t go;	    /* atomic: both sides ready */
	uint64_t t_start, t_end;
	uint64_t errors;
	uint64_t sink; /* keeps the consumer's loads */
};

static inline void
wait_go(struct run *r)
{
	/* acquire: the run's setup is visible once go is seen */
	while (__atomic_load_n(&r->go, __ATOMIC_ACQUIRE) == 0)
		rte_pause();
}

static inline void
put_seq(uint8_t *p, uint64_t seq)
{
	memcpy(p, &seq, sizeof(seq));
}

static inline uint64_t
get_seq(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* ---- ION ---------------------------------------------------------- */

static int
ion_producer(struct run *r)
{
	struct ion_prod p;

	if (ion_prod_open(&p, r->ion) != 0)
		return -1;
	wait_go(r);
	r->t_start = rte_rdtsc();
	bench_ion_produce(&p, r->count, r->src, r->size, r->burst);
	ion_prod_close(&p);
	return 0;
}

static int
ion_consumer(struct run *r)
{
	struct ion_cons c;

	if (ion_cons_open(&c, r->ion) != 0)
		return -1;
	ion_cons_set_hold(&c, r->hold);
	wait_go(r);
	r->errors +=
		bench_ion_consume(&c, r->count, r->size, r->burst, &r->sink);
	r->t_end = rte_rdtsc();
	ion_cons_close(&c);
	return 0;
}

/* ---- ION through its copy helpers ---------------------------------- */

static int
ion_copy_producer(struct run *r)
{
	uint8_t *buf = r->src + MAX_SIZE;
	const void *bufs[MAX_BURST];
	uint32_t lens[MAX_BURST], i;
	struct ion_prod p;
	uint64_t seq = 0;

	if (ion_prod_open(&p, r->ion) != 0)
		return -1;
	for (i = 0; i < MAX_BURST; i++) {
		bufs[i] = buf + i * r->size;
		lens[i] = r->size;
	}
	wait_go(r);
	r->t_start = rte_rdtsc();
	while (seq < r->count) {
		uint32_t n = RTE_MIN((uint64_t)r->burst, r->count - seq);
		uint32_t done = 0;

		for (i = 0; i < n; i++) {
			rte_memcpy(buf + i * r->size, r->src, r->size);
			put_seq(buf + i * r->size, seq + i);
		}
		while (done < n) {
			done += ion_enqueue_burst(&p, bufs + done, lens + done,
						  n - done);
			if (done < n)
				rte_pause();
		}
		seq += n;
	}
	ion_prod_close(&p);
	return 0;
}

static int
ion_copy_consumer(struct run *r)
{
	uint32_t lens[MAX_BURST], i;
	void *bufs[MAX_BURST];
	struct ion_cons c;
	uint64_t seq = 0;

	if (ion_cons_open(&c, r->ion) != 0)
		return -1;
	ion_cons_set_hold(&c, r->hold);
	for (i = 0; i < MAX_BURST; i++)
		bufs[i] = r->dst + i * r->size;
	wait_go(r);
	while (seq < r->count) {
		uint32_t n = ion_dequeue_burst(&c, bufs, lens, r->burst);

		if (n == 0) {
			rte_pause();
			continue;
		}
		for (i = 0; i < n; i++, seq++)
			if (unlikely(get_seq(bufs[i]) != seq))
				r->errors++;
	}
	r->t_end = rte_rdtsc();
	ion_cons_close(&c);
	return 0;
}

/* ---- rte_ring of elements ------------------------------------------ */

static int
ring_producer(struct run *r)
{
	uint32_t esize = RTE_ALIGN_CEIL(r->size, 4);
	uint8_t *buf = r->src + MAX_SIZE; /* a burst of elements */
	uint64_t seq = 0;

	wait_go(r);
	r->t_start = rte_rdtsc();
	while (seq < r->count) {
		uint32_t n = RTE_MIN((uint64_t)r->burst, r->count - seq);
		uint32_t i, done = 0;

		/* build the burst, as a user of a copying ring does */
		for (i = 0; i < n; i++) {
			rte_memcpy(buf + i * esize, r->src, r->size);
			put_seq(buf + i * esize, seq + i);
		}
		while (done < n) {
			done += rte_ring_enqueue_burst_elem(
				r->ring, buf + done * esize, esize, n - done,
				NULL);
			if (done < n)
				rte_pause();
		}
		seq += n;
	}
	return 0;
}

static int
ring_consumer(struct run *r)
{
	uint32_t esize = RTE_ALIGN_CEIL(r->size, 4);
	uint8_t *buf = r->dst;
	uint64_t seq = 0;

	wait_go(r);
	while (seq < r->count) {
		uint32_t n = rte_ring_dequeue_burst_elem(r->ring, buf, esize,
							 r->burst, NULL);
		uint32_t i;

		if (n == 0) {
			rte_pause();
			continue;
		}
		for (i = 0; i < n; i++, seq++)
			if (unlikely(get_seq(buf + i * esize) != seq))
				r->errors++;
	}
	r->t_end = rte_rdtsc();
	return 0;
}

/* ---- rte_ring of mbufs --------------------------------------------- */

static int
mbuf_producer(struct run *r)
{
	struct rte_mbuf *m[MAX_BURST];
	uint64_t seq = 0;

	wait_go(r);
	r->t_start = rte_rdtsc();
	while (seq < r->count) {
		uint32_t n = RTE_MIN((uint64_t)r->burst, r->count - seq);
		uint32_t i, done = 0;

		if (rte_pktmbuf_alloc_bulk(r->pool, m, n) != 0) {
			rte_pause();
			continue;
		}
		for (i = 0; i < n; i++) {
			uint8_t *d = (uint8_t *)rte_pktmbuf_append(
				m[i], (uint16_t)r->size);

			rte_memcpy(d, r->src, r->size);
			put_seq(d, seq + i);
		}
		while (done < n) {
			done += rte_ring_enqueue_burst(
				r->ring, (void **)m + done, n - done, NULL);
			if (done < n)
				rte_pause();
		}
		seq += n;
	}
	return 0;
}

static int
mbuf_consumer(struct run *r)
{
	struct rte_mbuf *m[MAX_BURST];
	uint64_t seq = 0;

	wait_go(r);
	while (seq < r->count) {
		uint32_t n = rte_ring_dequeue_burst(r->ring, (void **)m,
						    r->burst, NULL);
		uint32_t i;

		if (n == 0) {
			rte_pause();
			continue;
		}
		for (i = 0; i < n; i++, seq++) {
			rte_memcpy(r->dst, rte_pktmbuf_mtod(m[i], void *),
				   m[i]->data_len);
			if (unlikely(get_seq(r->dst) != seq))
				r->errors++;
		}
		rte_pktmbuf_free_bulk(m, n);
	}
	r->t_end = rte_rdtsc();
	return 0;
}

/* ---- memcpy -------------------------------------------------------- */

/* The same bytes copied on one lcore, over a ring-sized working set. */
static int
memcpy_only(struct run *r)
{
	uint8_t *area = r->dst + MAX_SIZE;
	uint64_t i;

	r->t_start = rte_rdtsc();
	for (i = 0; i < r->count; i++) {
		uint8_t *d = area + (i % RING_SLOTS) * r->size;

		rte_memcpy(d, r->src, r->size);
		put_seq(d, i);
	}
	r->t_end = rte_rdtsc();
	/* keep the compiler from dropping the copies */
	if (get_seq(area + ((r->count - 1) % RING_SLOTS) * r->size) !=
	    r->count - 1)
		r->errors++;
	return 0;
}

static int
lcore_producer(void *arg)
{
	struct run *r = arg;

	switch (r->mode) {
	case M_ION:
		return ion_producer(r);
	case M_ION_COPY:
		return ion_copy_producer(r);
	case M_RTE_RING:
		return ring_producer(r);
	case M_MBUF_RING:
		return mbuf_producer(r);
	default:
		return memcpy_only(r);
	}
}

static int
lcore_consumer(void *arg)
{
	struct run *r = arg;

	switch (r->mode) {
	case M_ION:
		return ion_consumer(r);
	case M_ION_COPY:
		return ion_copy_consumer(r);
	case M_RTE_RING:
		return ring_consumer(r);
	default:
		return mbuf_consumer(r);
	}
}

/* ---- ping-pong latency --------------------------------------------- */

struct pingpong {
	bool ion;
	bool sleep; /* ION: block on the doorbell instead of polling */
	struct ion_ring *a, *b; /* pinger -> echoer, echoer -> pinger */
	struct rte_ring *ra, *rb;
	uint32_t iters;
	uint32_t hold; /* ION consumers' ion_cons_set_hold() */
	uint32_t go;
	uint64_t cycles;
	uint64_t errors;
};

static inline void
pp_send(struct pingpong *pp, struct ion_prod *p, struct rte_ring *rr,
	uint8_t *msg)
{
	if (pp->ion) {
		while (ion_enqueue(p, msg, 64) != 0)
			rte_pause();
	} else {
		while (rte_ring_enqueue_elem(rr, msg, 64) != 0)
			rte_pause();
	}
}

static inline void
pp_recv(struct pingpong *pp, struct ion_cons *c, struct rte_ring *rr,
	uint8_t *msg)
{
	if (pp->ion) {
		while (ion_dequeue(c, msg, 64) < 0) {
			if (pp->sleep)
				ion_cons_wait(c, 1, -1);
			else
				rte_pause();
		}
	} else {
		while (rte_ring_dequeue_elem(rr, msg, 64) != 0)
			rte_pause();
	}
}

static int
lcore_pinger(void *arg)
{
	struct pingpong *pp = arg;
	uint8_t msg[64] = {0};
	struct ion_prod p;
	struct ion_cons c;
	uint64_t t0;
	uint32_t i;

	if (pp->ion &&
	    (ion_prod_open(&p, pp->a) != 0 || ion_cons_open(&c, pp->b) != 0))
		return -1;
	if (pp->ion)
		ion_cons_set_hold(&c, pp->hold);
	while (__atomic_load_n(&pp->go, __ATOMIC_ACQUIRE) == 0)
		rte_pause();
	t0 = rte_rdtsc();
	for (i = 0; i < pp->iters; i++) {
		put_seq(msg, i);
		pp_send(pp, &p, pp->ra, msg);
		pp_recv(pp, &c, pp->rb, msg);
		if (get_seq(msg) != i)
			pp->errors++;
	}
	pp->cycles = rte_rdtsc() - t0;
	if (pp->ion) {
		ion_prod_close(&p);
		ion_cons_close(&c);
	}
	return 0;
}

static int
lcore_echoer(void *arg)
{
	struct pingpong *pp = arg;
	struct ion_prod p;
	struct ion_cons c;
	uint8_t msg[64];
	uint32_t i;

	if (pp->ion &&
	    (ion_prod_open(&p, pp->b) != 0 || ion_cons_open(&c, pp->a) != 0))
		return -1;
	if (pp->ion)
		ion_cons_set_hold(&c, pp->hold);
	while (__atomic_load_n(&pp->go, __ATOMIC_ACQUIRE) == 0)
		rte_pause();
	for (i = 0; i < pp->iters; i++) {
		pp_recv(pp, &c, pp->ra, msg);
		pp_send(pp, &p, pp->rb, msg);
	}
	if (pp->ion) {
		ion_prod_close(&p);
		ion_cons_close(&c);
	}
	return 0;
}

/* ---- orchestration ------------------------------------------------- */

struct opts {
	uint32_t sizes[BENCH_MAX_LIST], n_sizes;
	uint32_t bursts[BENCH_MAX_LIST], n_bursts;
	bool modes[M_N];
	uint32_t runs;
	uint64_t messages; /* 0: by size */
	uint32_t pingpongs;
	uint32_t hold;
	bool sleep_latency;
	bool json;
};

struct result {
	uint32_t size, burst;
	double ns[M_N]; /* median ns per message, 0 = not run */
};

static struct ion_ring *
ion_new(uint32_t channel, uint32_t slots, uint32_t size)
{
	struct ion_ring_params p = {
		.channel = channel, .capacity = slots, .slot_size = size};
	size_t len = ion_ring_memsize(slots, size);
	struct ion_ring *r = rte_zmalloc("ion-bench", len, ION_RING_ALIGN);

	if (r != NULL && ion_ring_init(r, len, &p) != 0) {
		rte_free(r);
		r = NULL;
	}
	return r;
}

static uint64_t
messages_for(const struct opts *o, uint32_t size)
{
	if (o->messages != 0)
		return o->messages;
	return size <= 256 ? 10000000 : 2000000;
}

/* One measured run; @return ns per message, or < 0 on failure. */
static double
run_once(struct run *r, const unsigned int *lc)
{
	int rc = 0;

	__atomic_store_n(&r->go, 0, __ATOMIC_RELAXED);
	r->t_start = r->t_end = 0;
	r->errors = 0;
	if (r->mode != M_MEMCPY &&
	    rte_eal_remote_launch(lcore_consumer, r, lc[1]) != 0)
		return -1;
	if (rte_eal_remote_launch(lcore_producer, r, lc[0]) != 0)
		return -1;
	/* release: the run's parameters before the start signal */
	__atomic_store_n(&r->go, 1, __ATOMIC_RELEASE);
	rc |= bench_wait_lcore(lc[0]);
	if (r->mode != M_MEMCPY)
		rc |= bench_wait_lcore(lc[1]);
	if (rc != 0 || r->errors != 0 || r->t_end <= r->t_start) {
		fprintf(stderr,
			"ion-bench ring: %s size %u burst %u: %" PRIu64
			" messages out of order or corrupt\n",
			mode_names[r->mode], r->size, r->burst, r->errors);
		return -1;
	}
	return (double)(r->t_end - r->t_start) * bench_ns_per_cycle() /
	       (double)r->count;
}

static int
measure_size(const struct opts *o, uint32_t size, const unsigned int *lc,
	     struct result *res)
{
	struct run r = {
		.size = size, .count = messages_for(o, size), .hold = o->hold};
	double v[64];
	uint32_t b, k;
	int m, rc = 0;

	r.src = rte_zmalloc("ion-bench", MAX_SIZE + MAX_BURST * MAX_SIZE, 64);
	r.dst = rte_zmalloc("ion-bench", MAX_SIZE + RING_SLOTS * MAX_SIZE, 64);
	r.ion = ion_new(0x0500, RING_SLOTS, size);
	r.pool = rte_pktmbuf_pool_create("ionb_pool", 4095, 256, 0,
					 RTE_MBUF_DEFAULT_BUF_SIZE,
					 rte_socket_id());
	if (r.src == NULL || r.dst == NULL || r.ion == NULL || r.pool == NULL) {
		fprintf(stderr, "ion-bench ring: out of hugepage memory\n");
		rc = -1;
		goto out;
	}
	memset(r.src, 0xa5, MAX_SIZE);
	for (b = 0; b < o->n_bursts && rc == 0; b++) {
		res[b].size = size;
		res[b].burst = o->bursts[b];
		for (m = 0; m < M_N && rc == 0; m++) {
			if (!o->modes[m] || (m == M_MEMCPY && b > 0))
				continue;
			r.mode = (enum mode)m;
			r.burst = o->bursts[b];
			if (m == M_RTE_RING)
				r.ring = rte_ring_create_elem(
					"ionb_elem", RTE_ALIGN_CEIL(size, 4),
					RING_SLOTS, rte_socket_id(),
					RING_F_SP_ENQ | RING_F_SC_DEQ);
			else if (m == M_MBUF_RING)
				r.ring = rte_ring_create(
					"ionb_mbuf", RING_SLOTS,
					rte_socket_id(),
					RING_F_SP_ENQ | RING_F_SC_DEQ);
			if (m == M_RTE_RING || m == M_MBUF_RING) {
				if (r.ring == NULL) {
					rc = -1;
					break;
				}
			}
			for (k = 0; k < o->runs && rc == 0; k++) {
				v[k] = run_once(&r, lc);
				if (v[k] < 0)
					rc = -1;
			}
			if (rc == 0)
				res[b].ns[m] = bench_median(v, o->runs);
			if (m == M_MEMCPY)
				for (k = 1; k < o->n_bursts; k++)
					res[k].ns[m] = res[0].ns[m];
			rte_ring_free(r.ring);
			r.ring = NULL;
		}
	}
out:
	rte_mempool_free(r.pool);
	rte_free(r.ion);
	rte_free(r.src);
	rte_free(r.dst);
	return rc;
}

/* Median one-way latency in ns, ION (ion=true, asleep on the doorbells
 * if @p sleep) or rte_ring. */
static double
measure_latency(const struct opts *o, bool ion, bool sleep,
		const unsigned int *lc)
{
	struct pingpong pp = {.ion = ion,
			      .sleep = sleep,
			      .iters = o->pingpongs,
			      .hold = o->hold};
	double v[64] = {0};
	uint32_t k;
	int rc = 0;

	if (ion) {
		pp.a = ion_new(0x0500, 64, 64);
		pp.b = ion_new(0x0501, 64, 64);
	} else {
		pp.ra = rte_ring_create_elem("ionb_ppa", 64, 64,
					     rte_socket_id(),
					     RING_F_SP_ENQ | RING_F_SC_DEQ);
		pp.rb = rte_ring_create_elem("ionb_ppb", 64, 64,
					     rte_socket_id(),
					     RING_F_SP_ENQ | RING_F_SC_DEQ);
	}
	if ((ion && (pp.a == NULL || pp.b == NULL)) ||
	    (!ion && (pp.ra == NULL || pp.rb == NULL)))
		rc = -1;
	for (k = 0; k < o->runs && rc == 0; k++) {
		__atomic_store_n(&pp.go, 0, __ATOMIC_RELAXED);
		rte_eal_remote_launch(lcore_echoer, &pp, lc[1]);
		rte_eal_remote_launch(lcore_pinger, &pp, lc[0]);
		__atomic_store_n(&pp.go, 1, __ATOMIC_RELEASE);
		rc |= bench_wait_lcore(lc[0]);
		rc |= bench_wait_lcore(lc[1]);
		v[k] = (double)pp.cycles * bench_ns_per_cycle() /
		       (2.0 * pp.iters);
	}
	rte_free(pp.a);
	rte_free(pp.b);
	rte_ring_free(pp.ra);
	rte_ring_free(pp.rb);
	if (rc != 0 || pp.errors != 0)
		return -1;
	return bench_median(v, o->runs);
}

/* ---- report --------------------------------------------------------- */

static double
mmsgs(double ns)
{
	return ns > 0 ? 1e3 / ns : 0;
}

static double
ratio(double num, double den)
{
	return num > 0 && den > 0 ? num / den : 0;
}

static void
print_table(const struct opts *o, const struct result *res, unsigned int n,
	    double lat_ion, double lat_ring, double lat_sleep)
{
	unsigned int i;
	int m;

	printf("\nion-bench ring: median of %u runs, %u-slot rings, ION "
	       "consumers' hold %u cycles\n\n",
	       o->runs, RING_SLOTS, o->hold);
	printf("%6s %5s  %-10s %10s %9s\n", "size", "burst", "mode", "Mmsg/s",
	       "ns/msg");
	for (i = 0; i < n; i++) {
		for (m = 0; m < M_MEMCPY; m++)
			if (res[i].ns[m] > 0)
				printf("%6u %5u  %-10s %10.2f %9.2f\n",
				       res[i].size, res[i].burst, mode_names[m],
				       mmsgs(res[i].ns[m]), res[i].ns[m]);
		/* memcpy has no burst: once per size */
		if (res[i].ns[M_MEMCPY] > 0 &&
		    (i + 1 == n || res[i + 1].size != res[i].size))
			printf("%6u %5s  %-10s %10.2f %9.2f\n", res[i].size,
			       "-", "memcpy", mmsgs(res[i].ns[M_MEMCPY]),
			       res[i].ns[M_MEMCPY]);
	}
	printf("\nthroughput ratios (higher is better for ION), and ION's "
	       "cost in memcpys of the same bytes\n");
	printf("%6s %5s %13s %18s %14s %16s\n", "size", "burst", "ION/rte_ring",
	       "ION copy/rte_ring", "ION/mbuf_ring", "ION cost/memcpy");
	for (i = 0; i < n; i++)
		printf("%6u %5u %12.2fx %17.2fx %13.2fx %15.2fx\n", res[i].size,
		       res[i].burst,
		       ratio(res[i].ns[M_RTE_RING], res[i].ns[M_ION]),
		       ratio(res[i].ns[M_RTE_RING], res[i].ns[M_ION_COPY]),
		       ratio(res[i].ns[M_MBUF_RING], res[i].ns[M_ION]),
		       ratio(res[i].ns[M_ION], res[i].ns[M_MEMCPY]));
	if (lat_ion > 0 || lat_ring > 0)
		printf("\none-way latency (ping-pong, 64 B): ION %.1f ns, "
		       "rte_ring %.1f ns, ratio %.2fx\n",
		       lat_ion, lat_ring, ratio(lat_ring, lat_ion));
	if (lat_sleep > 0)
		printf("one-way latency, both sides asleep on ION doorbells "
		       "(ion_cons_wait): %.1f ns\n",
		       lat_sleep);
}

static void
print_json(const struct opts *o, const struct result *res, unsigned int n,
	   double lat_ion, double lat_ring, double lat_sleep)
{
	unsigned int i;
	int m;

	printf("{\"ring\": {\"runs\": %u, \"slots\": %u, \"hold\": %u, "
	       "\"results\": [",
	       o->runs, RING_SLOTS, o->hold);
	for (i = 0; i < n; i++) {
		printf("%s\n  {\"size\": %u, \"burst\": %u", i ? "," : "",
		       res[i].size, res[i].burst);
		for (m = 0; m < M_N; m++)
			if (res[i].ns[m] > 0)
				printf(", \"%s\": {\"mmsgs\": %.3f, "
				       "\"ns\": %.3f}",
				       mode_names[m], mmsgs(res[i].ns[m]),
				       res[i].ns[m]);
		printf(", \"ion_vs_rte_ring\": %.3f, \"ion_copy_vs_rte_ring\": "
		       "%.3f, \"ion_vs_mbuf_ring\": %.3f, "
		       "\"ion_cost_vs_memcpy\": %.3f}",
		       ratio(res[i].ns[M_RTE_RING], res[i].ns[M_ION]),
		       ratio(res[i].ns[M_RTE_RING], res[i].ns[M_ION_COPY]),
		       ratio(res[i].ns[M_MBUF_RING], res[i].ns[M_ION]),
		       ratio(res[i].ns[M_ION], res[i].ns[M_MEMCPY]));
	}
	printf("],\n \"latency_ns\": {\"ion\": %.1f, \"rte_ring\": %.1f, "
	       "\"ion_sleep\": %.1f}}}\n",
	       lat_ion, lat_ring, lat_sleep);
}

static void
usage(void)
{
	fprintf(stderr,
		"usage: ion-bench [EAL options] -- ring [options]\n"
		"  --sizes LIST      message sizes in bytes (default 64,1514; "
		"8..%u)\n"
		"  --bursts LIST     burst sizes (default 1,8,32; 1..%u)\n"
		"  --modes LIST      ion,rte_ring,mbuf_ring,memcpy (default "
		"all)\n"
		"  --runs N          runs per figure, the median is reported "
		"(default 5)\n"
		"  --messages N      messages per run (default 10M up to 256 "
		"B, "
		"2M above)\n"
		"  --pingpongs N     round trips per latency run (default "
		"100000; 0: skip)\n"
		"  --sleep-latency   also the ping-pong with both sides asleep "
		"on the doorbells\n"
		"  --hold CYCLES     ION consumers' pacing, "
		"ion_cons_set_hold() "
		"(default %u; 0: off)\n"
		"  --json            JSON instead of tables\n"
		"Needs two worker lcores on different CPUs, e.g. on two CPUs:\n"
		"  ion-bench --lcores '0@0,1@0,2@1' --no-pci -- ring\n"
		"(the main lcore sleeps while a run is measured).\n",
		MAX_SIZE, MAX_BURST, ION_HOLD_CYCLES);
}

static int
parse_modes(const char *s, bool *modes)
{
	char buf[128], *tok, *save;
	int m;

	snprintf(buf, sizeof(buf), "%s", s);
	memset(modes, 0, sizeof(bool) * M_N);
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		for (m = 0; m < M_N; m++)
			if (strcmp(tok, mode_names[m]) == 0)
				break;
		if (m == M_N)
			return -1;
		modes[m] = true;
	}
	return 0;
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longs[] = {
		{"sizes", required_argument, NULL, 's'},
		{"bursts", required_argument, NULL, 'b'},
		{"modes", required_argument, NULL, 'm'},
		{"runs", required_argument, NULL, 'r'},
		{"messages", required_argument, NULL, 'n'},
		{"pingpongs", required_argument, NULL, 'p'},
		{"sleep-latency", no_argument, NULL, 'S'},
		{"hold", required_argument, NULL, 'H'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	uint32_t v[BENCH_MAX_LIST];
	int ch, n, li = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longs, &li)) != -1) {
		switch (ch) {
		case 's':
			n = bench_parse_list(optarg, o->sizes, 8, MAX_SIZE);
			if (n <= 0)
				goto bad;
			o->n_sizes = (uint32_t)n;
			break;
		case 'b':
			n = bench_parse_list(optarg, o->bursts, 1, MAX_BURST);
			if (n <= 0)
				goto bad;
			o->n_bursts = (uint32_t)n;
			break;
		case 'm':
			if (parse_modes(optarg, o->modes) < 0)
				goto bad;
			break;
		case 'r':
			if (bench_parse_list(optarg, v, 1, 63) != 1)
				goto bad;
			o->runs = v[0];
			break;
		case 'n':
			if (bench_parse_list(optarg, v, 1, UINT32_MAX) != 1)
				goto bad;
			o->messages = v[0];
			break;
		case 'p':
			if (bench_parse_list(optarg, v, 0, UINT32_MAX) != 1)
				goto bad;
			o->pingpongs = v[0];
			break;
		case 'S':
			o->sleep_latency = true;
			break;
		case 'H':
			if (bench_parse_list(optarg, v, 0, UINT32_MAX) != 1)
				goto bad;
			o->hold = v[0];
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			usage();
			return 1;
		default:
			usage();
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ion-bench ring: unexpected argument '%s'\n",
			argv[optind]);
		return -1;
	}
	return 0;
bad:
	fprintf(stderr, "ion-bench ring: bad value '%s' for --%s\n", optarg,
		longs[li].name);
	return -1;
}

int
bench_ring(int argc, char **argv)
{
	struct opts o = {
		.sizes = {64, 1514},
		.n_sizes = 2,
		.bursts = {1, 8, 32},
		.n_bursts = 3,
		.modes = {true, true, true, true, true},
		.runs = 5,
		.pingpongs = 100000,
		.hold = ION_HOLD_CYCLES,
	};
	struct result res[BENCH_MAX_LIST * BENCH_MAX_LIST];
	double lat_ion = 0, lat_ring = 0, lat_sleep = 0;
	unsigned int lc[2], i;
	int rc;

	rc = parse_opts(argc, argv, &o);
	if (rc != 0)
		return rc > 0 ? 0 : 2;
	if (bench_workers(lc, 2) < 0) {
		fprintf(stderr, "ion-bench ring: needs two worker lcores, "
				"e.g. --lcores '0@0,1@0,2@1'\n");
		return 2;
	}
	memset(res, 0, sizeof(res));
	for (i = 0; i < o.n_sizes; i++)
		if (measure_size(&o, o.sizes[i], lc, &res[i * o.n_bursts]) < 0)
			return 1;
	if (o.pingpongs > 0) {
		lat_ion = measure_latency(&o, true, false, lc);
		lat_ring = measure_latency(&o, false, false, lc);
		if (o.sleep_latency)
			lat_sleep = measure_latency(&o, true, true, lc);
		if (lat_ion < 0 || lat_ring < 0 || lat_sleep < 0) {
			fprintf(stderr, "ion-bench ring: ping-pong failed\n");
			return 1;
		}
	}
	if (o.json)
		print_json(&o, res, o.n_sizes * o.n_bursts, lat_ion, lat_ring,
			   lat_sleep);
	else
		print_table(&o, res, o.n_sizes * o.n_bursts, lat_ion, lat_ring,
			    lat_sleep);
	return 0;
}
