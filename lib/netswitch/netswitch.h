/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NetSwitch: the L2 demux between one DPDK port and the ION rings.
 *
 * RX: a burst from the port; each frame's EtherType (behind any 802.1Q /
 * 802.1ad tags) selects a ring from the dispatch table; the frame is copied
 * once into a slot of that ring (burst reserve/commit per ring) and the
 * mbufs go back to their pool in bulk.  RX never waits: a frame for a full
 * ring is dropped and counted against that ring.
 *
 * TX: every transmitting fiber's TX ring is drained in bursts into mbufs
 * and handed to rte_eth_tx_burst(); what the port does not take now is kept
 * and offered again on the next pass, never dropped.
 *
 * Counters, written only by the NetSwitch lcore and readable from any
 * thread, add up:
 *   rx       = runt + unknown + sum over routes of route.rx
 *   route.rx = route.delivered + route.full + route.oversize
 */
#ifndef NETSWITCH_H
#define NETSWITCH_H

#include <stdbool.h>
#include <stdint.h>

#include <ion_ring.h>

#ifdef __cplusplus
extern "C" {
#endif

struct rte_mbuf;
struct rte_mempool;

#define NETSWITCH_MAX_ROUTES 16 /**< EtherTypes in the dispatch table */
#define NETSWITCH_MAX_RINGS  16 /**< distinct RX rings */
#define NETSWITCH_MAX_TX     8	/**< TX rings drained */
#define NETSWITCH_MAX_BURST  64
#define NETSWITCH_MAX_TAGS   2 /**< VLAN tags skipped (QinQ) */

/** Verdicts of netswitch_classify() other than a route index. */
enum netswitch_verdict {
	NETSWITCH_RUNT = -1, /**< shorter than its Ethernet (and tag) headers */
	NETSWITCH_UNKNOWN = -2, /**< EtherType not in the dispatch table */
};

/** One line of the dispatch table. */
struct netswitch_route {
	uint16_t ethertype; /**< host order, e.g. 0x0800 */
	uint32_t channel;   /**< ring the frames go to */
};

struct netswitch_conf {
	uint16_t port_id;
	uint16_t queue_id;
	uint16_t burst;		     /**< 1 .. NETSWITCH_MAX_BURST */
	struct rte_mempool *tx_pool; /**< mbufs for TX */
	struct netswitch_route routes[NETSWITCH_MAX_ROUTES];
	unsigned int n_routes;
	uint32_t tx_channels[NETSWITCH_MAX_TX];
	unsigned int n_tx;
};

/** The classification table: 64 KiB, one byte per EtherType. */
struct netswitch_table {
	/** 0 = unknown, else 1 + index of the route. */
	uint8_t route_of[1u << 16];
};

/** Counters of one route (one EtherType). */
struct netswitch_route_stats {
	uint16_t ethertype;
	uint32_t channel;
	uint64_t rx;	    /**< frames of this EtherType received */
	uint64_t delivered; /**< copied into the ring */
	uint64_t full;	    /**< dropped: ring full */
	uint64_t oversize;  /**< dropped: longer than the ring's slot */
};

struct netswitch_tx_stats {
	uint32_t channel;
	uint64_t frames; /**< taken from the ring and handed to the port */
};

struct netswitch_stats {
	uint64_t rx; /**< frames received from the port */
	uint64_t rx_bytes;
	uint64_t runt;	  /**< dropped: too short to classify */
	uint64_t unknown; /**< dropped: EtherType not routed */
	uint64_t tx;	  /**< frames the port accepted */
	uint64_t tx_bytes;
	uint64_t tx_retry; /**< passes where the port took fewer than offered */
	uint64_t tx_nombuf;  /**< passes that found the TX pool empty */
	uint32_t tx_pending; /**< frames waiting for the port now */
	unsigned int n_routes;
	struct netswitch_route_stats route[NETSWITCH_MAX_ROUTES];
	unsigned int n_tx;
	struct netswitch_tx_stats txr[NETSWITCH_MAX_TX];
};

struct netswitch; /* opaque; one per NetSwitch lcore */

/**
 * Fill @p t from @p routes.
 * @return 0, -EINVAL for too many routes, -EEXIST for an EtherType routed
 *         twice.
 */
int netswitch_table_build(struct netswitch_table *t,
			  const struct netswitch_route *routes,
			  unsigned int n_routes);

/**
 * Classify one frame: skip up to NETSWITCH_MAX_TAGS 802.1Q/802.1ad tags and
 * look the EtherType up.
 * @return the route index (>= 0), NETSWITCH_RUNT or NETSWITCH_UNKNOWN;
 *         *ethertype receives the inner EtherType when one was read.
 */
int netswitch_classify(const struct netswitch_table *t, const void *frame,
		       uint32_t len, uint16_t *ethertype);

/**
 * Create a NetSwitch and open its endpoints through @p cs: WRITE on every
 * routed ring, READ on every TX ring.
 * @return 0 and *out; -EINVAL for a bad conf, -ENOMEM, or the error of
 *         ion_cspace_open_*() (-EACCES, -EBUSY).  Logged.
 */
int netswitch_create(const struct netswitch_conf *conf, struct ion_cspace *cs,
		     struct netswitch **out);
/** Close the endpoints and free pending mbufs and the NetSwitch. */
void netswitch_free(struct netswitch *ns);

/**
 * Demux @p n received frames into the rings; every mbuf is freed.
 * The RX path of netswitch_rx(), exposed for tests and benchmarks.
 * @return frames delivered into rings.
 */
uint32_t netswitch_demux(struct netswitch *ns, struct rte_mbuf **pkts,
			 uint32_t n);
/** One RX burst from the port through netswitch_demux(). @return frames
 * received. */
uint32_t netswitch_rx(struct netswitch *ns);
/** One TX pass over the TX rings. @return frames the port accepted. */
uint32_t netswitch_tx(struct netswitch *ns);
/*
 * Sleeping on the TX rings (ion_ring.h, doorbells): the NetSwitch's lcore,
 * about to sleep, arms every TX ring's doorbell, issues ion_arm_barrier(),
 * looks again with netswitch_tx_ready(), and disarms after waking.  The
 * producers (fibers, lwIP's thread) then write eventfd @p fd at their
 * first commit.
 */
/** Name the eventfd of every TX ring's consumer end.  @return 0 or -errno. */
int netswitch_tx_set_eventfd(struct netswitch *ns, int fd);
/** Arm every TX ring's doorbell.  @return 0 or -errno (ion_cons_arm()). */
int netswitch_tx_arm(struct netswitch *ns);
/** True when a TX ring holds frames, or the port refused some. */
bool netswitch_tx_ready(struct netswitch *ns);
void netswitch_tx_disarm(struct netswitch *ns);

/** Frames held for a port that did not take them yet. */
uint32_t netswitch_tx_pending(const struct netswitch *ns);

/** Snapshot of the counters; safe from any thread. */
void netswitch_stats_get(const struct netswitch *ns,
			 struct netswitch_stats *st);

#ifdef __cplusplus
}
#endif

#endif /* NETSWITCH_H */
