/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The NetSwitch data path (see netswitch.h).  Everything here runs on the
 * NetSwitch lcore except netswitch_stats_get(); counters are plain fields
 * written by that lcore with relaxed atomic stores and read with relaxed
 * loads, which on 64-bit targets is torn-free and costs nothing more.
 */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "netswitch.h"

RTE_LOG_REGISTER_SUFFIX(netswitch_logtype, netswitch, INFO);
#define NSLOG(level, ...)                                                      \
	rte_log(RTE_LOG_##level, netswitch_logtype, "netswitch: " __VA_ARGS__)

/* relaxed: own counter, a stats reader on another lcore needs only no tearing
 */
#define CNT_ADD(field, n)                                                      \
	__atomic_store_n(&(field), (field) + (n), __ATOMIC_RELAXED)
#define CNT_GET(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)

struct ns_rx_ring {
	struct ion_prod prod;
	uint32_t channel;
	uint32_t slot_size;
};

struct ns_tx_ring {
	struct ion_cons cons;
	uint32_t channel;
	uint64_t frames;
};

struct netswitch {
	struct netswitch_table table;
	uint16_t port_id, queue_id, burst;
	struct rte_mempool *tx_pool;
	unsigned int n_routes;
	struct netswitch_route_stats route[NETSWITCH_MAX_ROUTES];
	uint8_t ring_of_route[NETSWITCH_MAX_ROUTES];
	unsigned int n_rx;
	struct ns_rx_ring rx[NETSWITCH_MAX_RINGS];
	unsigned int n_tx;
	struct ns_tx_ring tx[NETSWITCH_MAX_TX];
	/* frames the port did not take yet, oldest first */
	struct rte_mbuf *pending[NETSWITCH_MAX_BURST];
	uint32_t n_pending;
	struct {
		uint64_t rx, rx_bytes, runt, unknown;
		uint64_t tx, tx_bytes, tx_retry, tx_nombuf;
	} st;
};

int
netswitch_table_build(struct netswitch_table *t,
		      const struct netswitch_route *routes,
		      unsigned int n_routes)
{
	unsigned int i;

	if (t == NULL || (n_routes > 0 && routes == NULL) ||
	    n_routes > NETSWITCH_MAX_ROUTES)
		return -EINVAL;
	memset(t->route_of, 0, sizeof(t->route_of));
	for (i = 0; i < n_routes; i++) {
		if (t->route_of[routes[i].ethertype] != 0)
			return -EEXIST;
		t->route_of[routes[i].ethertype] = (uint8_t)(i + 1);
	}
	return 0;
}

static inline int
is_tag(uint16_t tpid)
{
	return tpid == RTE_ETHER_TYPE_VLAN || tpid == RTE_ETHER_TYPE_QINQ ||
	       tpid == RTE_ETHER_TYPE_QINQ1;
}

static inline int
classify(const struct netswitch_table *t, const void *frame, uint32_t len,
	 uint16_t *ethertype)
{
	const uint8_t *p = frame;
	uint32_t off = 2 * RTE_ETHER_ADDR_LEN;
	uint16_t type;
	unsigned int tags;

	for (tags = 0;; tags++) {
		if (len < off + 2)
			return NETSWITCH_RUNT;
		type = (uint16_t)(p[off] << 8 | p[off + 1]);
		*ethertype = type;
		if (!is_tag(type))
			break;
		if (tags == NETSWITCH_MAX_TAGS)
			return NETSWITCH_UNKNOWN;
		off += sizeof(struct rte_vlan_hdr);
	}
	return t->route_of[type] != 0 ? t->route_of[type] - 1
				      : NETSWITCH_UNKNOWN;
}

int
netswitch_classify(const struct netswitch_table *t, const void *frame,
		   uint32_t len, uint16_t *ethertype)
{
	return classify(t, frame, len, ethertype);
}

static void
close_all(struct netswitch *ns)
{
	unsigned int i;

	for (i = 0; i < ns->n_rx; i++)
		ion_prod_close(&ns->rx[i].prod);
	for (i = 0; i < ns->n_tx; i++)
		ion_cons_close(&ns->tx[i].cons);
	ns->n_rx = 0;
	ns->n_tx = 0;
}

/* The RX ring of @p channel, opened through @p cs on first use. */
static int
rx_ring_of(struct netswitch *ns, struct ion_cspace *cs, uint32_t channel)
{
	unsigned int i;
	int rc;

	for (i = 0; i < ns->n_rx; i++)
		if (ns->rx[i].channel == channel)
			return (int)i;
	if (ns->n_rx == NETSWITCH_MAX_RINGS)
		return -EINVAL;
	rc = ion_cspace_open_prod(cs, channel, &ns->rx[i].prod);
	if (rc < 0) {
		NSLOG(ERR, "cannot write ring 0x%04x: %s\n", channel,
		      rc == -EACCES ? "no WRITE capability"
				    : "it has a producer already");
		return rc;
	}
	ns->rx[i].channel = channel;
	ns->rx[i].slot_size = ion_ring_slot_size(ns->rx[i].prod.ring);
	ns->n_rx++;
	return (int)i;
}

int
netswitch_create(const struct netswitch_conf *conf, struct ion_cspace *cs,
		 struct netswitch **out)
{
	struct netswitch *ns;
	unsigned int i;
	int rc;

	if (conf == NULL || cs == NULL || out == NULL || conf->burst == 0 ||
	    conf->burst > NETSWITCH_MAX_BURST ||
	    conf->n_routes > NETSWITCH_MAX_ROUTES ||
	    conf->n_tx > NETSWITCH_MAX_TX ||
	    (conf->n_tx > 0 && conf->tx_pool == NULL)) {
		NSLOG(ERR,
		      "bad configuration (burst 1..%d, at most %d routes "
		      "and %d TX rings, a TX pool for TX)\n",
		      NETSWITCH_MAX_BURST, NETSWITCH_MAX_ROUTES,
		      NETSWITCH_MAX_TX);
		return -EINVAL;
	}
	ns = rte_zmalloc("netswitch", sizeof(*ns), RTE_CACHE_LINE_SIZE);
	if (ns == NULL)
		return -ENOMEM;
	rc = netswitch_table_build(&ns->table, conf->routes, conf->n_routes);
	if (rc < 0) {
		NSLOG(ERR, "dispatch table: %s\n",
		      rc == -EEXIST ? "an EtherType is routed twice"
				    : "invalid");
		goto fail;
	}
	ns->port_id = conf->port_id;
	ns->queue_id = conf->queue_id;
	ns->burst = conf->burst;
	ns->tx_pool = conf->tx_pool;
	for (i = 0; i < conf->n_routes; i++) {
		rc = rx_ring_of(ns, cs, conf->routes[i].channel);
		if (rc < 0)
			goto fail;
		ns->ring_of_route[i] = (uint8_t)rc;
		ns->route[i].ethertype = conf->routes[i].ethertype;
		ns->route[i].channel = conf->routes[i].channel;
	}
	ns->n_routes = conf->n_routes;
	for (i = 0; i < conf->n_tx; i++) {
		rc = ion_cspace_open_cons(cs, conf->tx_channels[i],
					  &ns->tx[i].cons);
		if (rc < 0) {
			NSLOG(ERR, "cannot read TX ring 0x%04x: %s\n",
			      conf->tx_channels[i],
			      rc == -EACCES ? "no READ capability"
					    : "it has a consumer already");
			goto fail;
		}
		ns->tx[i].channel = conf->tx_channels[i];
		ns->n_tx = i + 1;
	}
	*out = ns;
	return 0;
fail:
	close_all(ns);
	rte_free(ns);
	return rc;
}

void
netswitch_free(struct netswitch *ns)
{
	if (ns == NULL)
		return;
	rte_pktmbuf_free_bulk(ns->pending, ns->n_pending);
	close_all(ns);
	rte_free(ns);
}

/* Copy @p m, of @p len bytes, into slot @p s: once, whatever its segments. */
static inline void
copy_in(struct ion_slot *s, uint8_t *sd, const struct rte_mbuf *m, uint32_t len,
	uint16_t ethertype)
{
	s->len = len;
	s->tag = ethertype;
	if (likely(m->nb_segs == 1))
		rte_memcpy(sd, rte_pktmbuf_mtod(m, const void *), len);
	else
		rte_pktmbuf_read(m, 0, len, sd);
}

uint32_t
netswitch_demux(struct netswitch *ns, struct rte_mbuf **pkts, uint32_t n)
{
	/* frames of each ring, in arrival order */
	uint16_t idx[NETSWITCH_MAX_RINGS][NETSWITCH_MAX_BURST];
	uint8_t route_of[NETSWITCH_MAX_BURST];
	uint16_t etype[NETSWITCH_MAX_BURST];
	uint32_t cnt[NETSWITCH_MAX_RINGS] = {0};
	uint32_t rx_of[NETSWITCH_MAX_ROUTES] = {0};
	uint32_t full_of[NETSWITCH_MAX_ROUTES] = {0};
	uint32_t oversize_of[NETSWITCH_MAX_ROUTES] = {0};
	uint32_t i, j, delivered = 0, runt = 0, unknown = 0, bytes = 0;

	/* the per-ring index arrays below hold one burst */
	if (unlikely(n > NETSWITCH_MAX_BURST))
		return netswitch_demux(ns, pkts, NETSWITCH_MAX_BURST) +
		       netswitch_demux(ns, pkts + NETSWITCH_MAX_BURST,
				       n - NETSWITCH_MAX_BURST);

	/* the headers are cache misses: ask for all of them up front */
	for (i = 0; i < n; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (i = 0; i < n; i++) {
		const struct rte_mbuf *m = pkts[i];
		uint8_t hdr[2 * RTE_ETHER_ADDR_LEN + 4 * NETSWITCH_MAX_TAGS +
			    2];
		uint32_t hlen = RTE_MIN(m->pkt_len, sizeof(hdr));
		const void *h = rte_pktmbuf_mtod(m, const void *);
		int r;

		bytes += m->pkt_len;
		/* the headers of a chained frame may span segments */
		if (unlikely(m->data_len < hlen))
			h = rte_pktmbuf_read(m, 0, hlen, hdr);
		r = classify(&ns->table, h, hlen, &etype[i]);
		if (r == NETSWITCH_RUNT) {
			runt++;
			continue;
		}
		if (r == NETSWITCH_UNKNOWN) {
			unknown++;
			continue;
		}
		route_of[i] = (uint8_t)r;
		j = ns->ring_of_route[r];
		idx[j][cnt[j]++] = (uint16_t)i;
	}

	for (j = 0; j < ns->n_rx; j++) {
		struct ns_rx_ring *rr = &ns->rx[j];
		uint32_t got, k, used = 0;

		if (cnt[j] == 0)
			continue;
		got = ion_prod_reserve(&rr->prod, cnt[j]);
		for (k = 0; k < cnt[j]; k++) {
			const struct rte_mbuf *m = pkts[idx[j][k]];
			uint8_t r = route_of[idx[j][k]];

			rx_of[r]++;
			if (unlikely(m->pkt_len > rr->slot_size)) {
				oversize_of[r]++;
				continue;
			}
			if (unlikely(used == got)) {
				full_of[r]++;
				continue;
			}
			copy_in(ion_prod_slot(&rr->prod, used),
				ion_prod_data(&rr->prod, used), m, m->pkt_len,
				etype[idx[j][k]]);
			used++;
		}
		ion_prod_commit(&rr->prod, used);
		delivered += used;
	}

	/* one store per counter and burst, not per frame */
	for (j = 0; j < ns->n_routes; j++) {
		struct netswitch_route_stats *rs = &ns->route[j];

		if (rx_of[j] == 0)
			continue;
		CNT_ADD(rs->rx, rx_of[j]);
		CNT_ADD(rs->delivered, rx_of[j] - oversize_of[j] - full_of[j]);
		if (unlikely(oversize_of[j] != 0))
			CNT_ADD(rs->oversize, oversize_of[j]);
		if (unlikely(full_of[j] != 0))
			CNT_ADD(rs->full, full_of[j]);
	}
	rte_pktmbuf_free_bulk(pkts, n);
	CNT_ADD(ns->st.rx, n);
	CNT_ADD(ns->st.rx_bytes, bytes);
	CNT_ADD(ns->st.runt, runt);
	CNT_ADD(ns->st.unknown, unknown);
	return delivered;
}

uint32_t
netswitch_rx(struct netswitch *ns)
{
	struct rte_mbuf *pkts[NETSWITCH_MAX_BURST];
	uint16_t n =
		rte_eth_rx_burst(ns->port_id, ns->queue_id, pkts, ns->burst);

	if (n != 0)
		netswitch_demux(ns, pkts, n);
	return n;
}

/* Move up to @p room frames of TX ring @p t into ns->pending. */
static uint32_t
tx_fill(struct netswitch *ns, struct ns_tx_ring *t, uint32_t room)
{
	struct rte_mbuf **out = &ns->pending[ns->n_pending];
	uint32_t n = ion_cons_peek(&t->cons, room), i;

	if (n == 0)
		return 0;
	if (rte_pktmbuf_alloc_bulk(ns->tx_pool, out, n) != 0) {
		/* keep the frames in the ring; try again on the next pass */
		CNT_ADD(ns->st.tx_nombuf, 1);
		return 0;
	}
	for (i = 0; i < n; i++) {
		const struct ion_slot *s = ion_cons_slot(&t->cons, i);
		const uint8_t *sd = ion_cons_data(&t->cons, i);
		/* a slot holds at most slot_size bytes; an mbuf of the pool
		 * holds the largest ring's slot (the daemon sizes it so) */
		char *d = rte_pktmbuf_append(out[i], (uint16_t)s->len);

		if (unlikely(d == NULL)) {
			/* cannot happen with a pool sized for the slots; keep
			 * the frames rather than send them cut */
			rte_pktmbuf_free_bulk(out, n);
			CNT_ADD(ns->st.tx_nombuf, 1);
			return 0;
		}
		rte_memcpy(d, sd, s->len);
	}
	ion_cons_release(&t->cons, n);
	CNT_ADD(t->frames, n);
	CNT_ADD(ns->n_pending, n);
	return n;
}

uint32_t
netswitch_tx(struct netswitch *ns)
{
	uint32_t i, sent, bytes = 0;

	for (i = 0; i < ns->n_tx && ns->n_pending < ns->burst; i++)
		tx_fill(ns, &ns->tx[i], ns->burst - ns->n_pending);
	if (ns->n_pending == 0)
		return 0;
	sent = rte_eth_tx_burst(ns->port_id, ns->queue_id, ns->pending,
				(uint16_t)ns->n_pending);
	for (i = 0; i < sent; i++)
		bytes += ns->pending[i]->pkt_len;
	if (sent < ns->n_pending) {
		/* keep the rest, in order, for the next pass */
		memmove(ns->pending, ns->pending + sent,
			(ns->n_pending - sent) * sizeof(ns->pending[0]));
		CNT_ADD(ns->st.tx_retry, 1);
	}
	/* relaxed: read by the stats reader as a gauge only */
	__atomic_store_n(&ns->n_pending, ns->n_pending - sent,
			 __ATOMIC_RELAXED);
	CNT_ADD(ns->st.tx, sent);
	CNT_ADD(ns->st.tx_bytes, bytes);
	return sent;
}

int
netswitch_tx_set_eventfd(struct netswitch *ns, int fd)
{
	unsigned int i;
	int rc;

	for (i = 0; i < ns->n_tx; i++) {
		rc = ion_cons_set_eventfd(&ns->tx[i].cons, fd);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int
netswitch_tx_arm(struct netswitch *ns)
{
	unsigned int i;
	int rc;

	for (i = 0; i < ns->n_tx; i++) {
		rc = ion_cons_arm(&ns->tx[i].cons);
		if (rc < 0)
			return rc;
	}
	return 0;
}

bool
netswitch_tx_ready(struct netswitch *ns)
{
	unsigned int i;

	/* frames the port refused are retried: never sleep on them */
	if (ns->n_pending != 0)
		return true;
	for (i = 0; i < ns->n_tx; i++)
		if (ion_cons_ready(&ns->tx[i].cons) != 0)
			return true;
	return false;
}

void
netswitch_tx_disarm(struct netswitch *ns)
{
	unsigned int i;

	for (i = 0; i < ns->n_tx; i++)
		ion_cons_disarm(&ns->tx[i].cons);
}

uint32_t
netswitch_tx_pending(const struct netswitch *ns)
{
	/* relaxed: a hint for the drain loop on this lcore or a reader */
	return __atomic_load_n(&ns->n_pending, __ATOMIC_RELAXED);
}

void
netswitch_stats_get(const struct netswitch *ns, struct netswitch_stats *st)
{
	unsigned int i;

	memset(st, 0, sizeof(*st));
	st->rx = CNT_GET(ns->st.rx);
	st->rx_bytes = CNT_GET(ns->st.rx_bytes);
	st->runt = CNT_GET(ns->st.runt);
	st->unknown = CNT_GET(ns->st.unknown);
	st->tx = CNT_GET(ns->st.tx);
	st->tx_bytes = CNT_GET(ns->st.tx_bytes);
	st->tx_retry = CNT_GET(ns->st.tx_retry);
	st->tx_nombuf = CNT_GET(ns->st.tx_nombuf);
	st->tx_pending = netswitch_tx_pending(ns);
	st->n_routes = ns->n_routes;
	for (i = 0; i < ns->n_routes; i++) {
		const struct netswitch_route_stats *r = &ns->route[i];

		st->route[i].ethertype = r->ethertype;
		st->route[i].channel = r->channel;
		st->route[i].rx = CNT_GET(r->rx);
		st->route[i].delivered = CNT_GET(r->delivered);
		st->route[i].full = CNT_GET(r->full);
		st->route[i].oversize = CNT_GET(r->oversize);
	}
	st->n_tx = ns->n_tx;
	for (i = 0; i < ns->n_tx; i++) {
		st->txr[i].channel = ns->tx[i].channel;
		st->txr[i].frames = CNT_GET(ns->tx[i].frames);
	}
}
