/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The daemon's wiring: one struct that owns the port, the rings, the
 * NetSwitch and the fibers, shared by the lcores, the stats printer and
 * the telemetry callbacks.
 */
#ifndef IONSWITCHD_H
#define IONSWITCHD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_ethdev.h>
#include <rte_log.h>

#include <ion_ring.h>
#include <netswitch.h>

#include "config.h"
#include "fiber.h"

struct rte_mempool;

/** Run state, moved forward only by the main lcore. */
enum run_state {
	RUN_STARTING,
	RUN_RUNNING,
	RUN_DRAINING, /**< RX stopped; fibers empty their rings */
	RUN_STOPPING, /**< fibers done; NetSwitch flushes TX and exits */
	RUN_STOPPED,
};

enum lcore_role { ROLE_NONE, ROLE_MAIN, ROLE_NETSWITCH, ROLE_WORKER };

/** Busy/idle accounting of one lcore, written only by that lcore. */
struct lcore_stats {
	uint64_t busy_cycles;
	uint64_t idle_cycles;
	uint64_t sleeps;
	uint64_t loops;
};

struct lcore_ctx {
	enum lcore_role role;
	unsigned int n_fibers;
	struct fiber *fibers[CFG_MAX_FIBERS];
	uint32_t done; /**< atomic: worker finished draining */
	struct lcore_stats st __attribute__((aligned(64)));
};

struct ionswitchd {
	struct cfg cfg;
	uint32_t run; /**< enum run_state, atomic */
	uint32_t
		rx_stopped; /**< atomic: the NetSwitch made its last RX burst */

	uint16_t port_id;
	char port_name[64];
	struct rte_mempool *pool;

	unsigned int n_rings;
	struct ion_ring *rings[CFG_MAX_CHANNELS];
	uint32_t ring_ch[CFG_MAX_CHANNELS];

	struct ion_cspace ns_cs; /**< the NetSwitch's capabilities */
	/** the main lcore's: WRITE on console input, READ on console output */
	struct ion_cspace con_cs;
	struct netswitch *ns;

	unsigned int n_fibers;
	struct fiber fibers[CFG_MAX_FIBERS];

	struct lcore_ctx lcores[CFG_MAX_LCORES];
	uint64_t start_tsc;
	uint64_t prev_tsc, prev_rx, prev_tx; /**< for the stats' rates */
};

extern int ionswitchd_logtype;
#define DLOG(level, ...)                                                       \
	rte_log(RTE_LOG_##level, ionswitchd_logtype, "ionswitchd: " __VA_ARGS__)

static inline enum run_state
run_state_get(const struct ionswitchd *d)
{
	/* acquire: pairs with run_state_set(); orders the phases */
	return (enum run_state)__atomic_load_n(&d->run, __ATOMIC_ACQUIRE);
}

static inline void
run_state_set(struct ionswitchd *d, enum run_state s)
{
	__atomic_store_n(&d->run, s, __ATOMIC_RELEASE);
}

/* lcore.c */
int lcore_main(void *arg);
/* port.c */
int port_setup(struct ionswitchd *d);
void port_close(struct ionswitchd *d);
/* stats.c */
void stats_print(struct ionswitchd *d, bool totals);

/* Counters read once for a whole block, so that its sections agree. */
struct stats_snap {
	struct rte_eth_stats port;
	struct netswitch_stats ns;
};

/* Packet rates over the @p dt seconds since counts prev_rx/prev_tx. */
struct stats_rates {
	double dt; /**< <= 0: no rates line */
	uint64_t prev_rx, prev_tx;
};

/*
 * The sections of the stats block, each rendered into @p out: the block
 * prints them to stdout, the console's "show" commands into its reply.
 */
void stats_snap_get(const struct ionswitchd *d, struct stats_snap *s);
void stats_show_port(FILE *out, const struct ionswitchd *d,
		     const struct stats_snap *s, const struct stats_rates *r);
void stats_show_rings(FILE *out, const struct ionswitchd *d,
		      const struct stats_snap *s);
void stats_show_fibers(FILE *out, const struct ionswitchd *d);
int stats_telemetry_register(struct ionswitchd *d);
/* main.c */
struct ion_ring *ionswitchd_ring(void *d, uint32_t channel);
/* totals.c: every figure as JSON (--totals-json, GET /stats) */
void totals_json(FILE *f, const struct ionswitchd *d);
void totals_write(const struct ionswitchd *d, const char *path);
/** totals_json() into @p buf; @return its length, @p len if truncated. */
size_t totals_json_buf(char *buf, size_t len, void *d);

#endif /* IONSWITCHD_H */
