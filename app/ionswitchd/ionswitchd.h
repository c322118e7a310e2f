/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The daemon's wiring: one struct that owns the port, the rings, the
 * NetSwitch, the fibers and the scheduler, shared by the lcores' steps,
 * the counters' renderers and the telemetry callbacks.
 */
#ifndef IONSWITCHD_H
#define IONSWITCHD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_log.h>

#include <console.h>
#include <ctr.h>
#include <fiber.h>
#include <ion_claimd.h>
#include <ion_ring.h>
#include <netswitch.h>

#include "config.h"

struct rte_mempool;
struct console_host;

struct ionswitchd {
	struct cfg cfg;
	struct fiber_sched sched; /**< every lcore's steps, the run state */

	uint16_t port_id;
	char port_name[64];
	struct rte_mempool *pool;
	int rx_intr_fd; /**< the port's RX queue interrupt, or -1 */
	bool rx_sock;	/**< rx_intr_fd is the port's socket (AF_XDP,
			 *   AF_PACKET): readable while frames wait, nothing
			 *   to enable */

	unsigned int n_rings;
	struct ion_ring *rings[CFG_MAX_CHANNELS];
	uint32_t ring_ch[CFG_MAX_CHANNELS];
	/** the rings an external fiber holds an end of: split into files
	 * by owner (ion_ring_create_split); .ring NULL for a memzone */
	struct ion_ring_map maps[CFG_MAX_CHANNELS];
	/** the external fibers' claim socket, or NULL if there are none */
	struct ion_claimd *claimd;

	struct ion_cspace ns_cs; /**< the NetSwitch's capabilities */
	/** the main lcore's: WRITE on console input, READ on console output */
	struct ion_cspace con_cs;
	struct netswitch *ns;
	bool rx_off;	  /**< the NetSwitch's RX step: the port is not read */
	uint32_t flushed; /**< atomic: the NetSwitch's TX is empty, stopping */

	unsigned int n_fibers;
	struct fiber fibers[CFG_MAX_FIBERS];
	struct fiber_env env;	  /**< what the fibers get from the daemon */
	struct console_ops ops;	  /**< what console commands act on */
	struct console_host *con; /**< the main lcore's side, or NULL */

	/* the control step (steps.c), on the main lcore */
	const int *signal;    /**< set by the signal handler (main.c) */
	const char *stop_why; /**< NULL while running */
	char why[32];
	uint64_t deadline; /**< TSC: the current shutdown phase ends */
	uint64_t next_stats, next_console;
	unsigned int stats_period;
	int exit_code;

	uint64_t start_tsc;
	uint64_t prev_tsc, prev_rx, prev_tx; /**< for the stats' rates */
};

extern int ionswitchd_logtype;
#define DLOG(level, ...)                                                       \
	rte_log(RTE_LOG_##level, ionswitchd_logtype, "ionswitchd: " __VA_ARGS__)

/* port.c */
int port_setup(struct ionswitchd *d);
void port_close(struct ionswitchd *d);

/* steps.c: the NetSwitch's RX and TX steps and the main lcore's control
 * step, added to the scheduler where the config places them */
int steps_add(struct ionswitchd *d, unsigned int main_lcore);
/** Ask the control step to stop the daemon (signal, console). */
void steps_stop(struct ionswitchd *d, const char *why);

/* counters.c: every figure, from the counter tables, in any format */
enum counters_what {
	COUNTERS_PORT = 1u << 0,   /**< port, netswitch, routes */
	COUNTERS_RINGS = 1u << 1,  /**< rings */
	COUNTERS_FIBERS = 1u << 2, /**< fibers */
	COUNTERS_LCORES = 1u << 3, /**< lcores */
	COUNTERS_CLAIMS = 1u << 4, /**< the claim socket, if there is one */
	COUNTERS_ALL = 0x1f,
};
/** Walk the sections of @p what into emitter @p e. */
void counters_emit(const struct ionswitchd *d, struct ctr_emit *e,
		   unsigned int what);
/** The stats block on stdout (the totals at exit when @p totals). */
void counters_print(struct ionswitchd *d, bool totals);
/** The whole document as JSON (--totals-json) to @p path. */
void counters_write_json(const struct ionswitchd *d, const char *path);
/** The same into @p buf (GET /stats); @return length, @p len if cut. */
size_t counters_json_buf(char *buf, size_t len, void *d);
/** The Prometheus exposition into @p buf (GET /metrics). */
size_t counters_prom_buf(char *buf, size_t len, void *d);
/** /ion/port, /ion/netswitch, /ion/routes, /ion/rings, /ion/fibers,
 * /ion/lcores, /ion/claims. */
int counters_telemetry_register(struct ionswitchd *d);
/** Every counter set with its help (--counters). */
void counters_describe(FILE *out);

/* rings.c */
/** Every channel's ring (a split one where an external fiber holds an
 *  end).  @return 0 or a negative errno (logged). */
int rings_create(struct ionswitchd *d);
/** Unmap or free them all. */
void rings_free(struct ionswitchd *d);
/** The ring of @p channel, or NULL. */
struct ion_ring *ionswitchd_ring(const struct ionswitchd *d, uint32_t channel);
/** Its name in the config, or "". */
const char *ionswitchd_ring_name(const struct ionswitchd *d, uint32_t channel);

/* claims.c: the external fibers' claim server */
/**
 * Export the external fibers on @p path (mode 0660, the config's
 * claims.socket_group), every other fiber named so that a claim of it is
 * refused as such.  Before any end of their rings is opened; nothing to do
 * without external fibers.  @return 0 or a negative errno (logged).
 */
int claims_open(struct ionswitchd *d, const char *path);
/** Claims, deaths, deadlines, the operator's kills: the control step's. */
unsigned int claims_poll(struct ionswitchd *d);
/**
 * The daemon's ends of rings whose other end an external fiber holds ring
 * that fiber's process through the claim server (ion_claimd_wake_fd()),
 * never by looking into it: name it in @p cs before any end is opened.
 */
void ionswitchd_external_wakes(const struct ionswitchd *d,
			       struct ion_cspace *cs);

#endif /* IONSWITCHD_H */
