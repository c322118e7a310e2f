/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ionswitchd's configuration: one libconfig file (see
 * config/ionswitchd.conf and docs/configuration.md).
 *
 * Loading is two steps, both before anything starts:
 *  1. cfg_load() parses the file and checks every value's type and range;
 *  2. cfg_check() checks the whole against the lcores EAL will enable:
 *     channels known, at most 64 grants a fiber, one writer and one reader
 *     a ring, the NetSwitch and the fibers on enabled lcores, every
 *     routed ring read.
 * A fiber's own keys come from its kind's table (lib/fiber), so a new
 * kind needs nothing here.
 * Each refusal is one sentence prefixed "FILE:LINE: ".
 */
#ifndef IONSWITCHD_CONFIG_H
#define IONSWITCHD_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include <ion_claimd.h>
#include <ion_ring.h>
#include <fiber.h>
#include <netswitch.h>

#define CFG_MAX_CHANNELS 32
#define CFG_MAX_FIBERS	 32
#define CFG_MAX_EAL_ARGS 64
#define CFG_MAX_LCORES	 128 /* RTE_MAX_LCORE of Debian's DPDK */
#define CFG_NAME_LEN	 32
#define CFG_PATH_LEN	 256
#define CFG_ERR_LEN	 512

/* Channels the spec leaves open, fixed here (docs/configuration.md). */
#define CFG_CH_UTCP_RX 0x0700
#define CFG_CH_UTCP_TX 0x0701

struct cfg_channel {
	uint32_t id;
	char name[CFG_NAME_LEN];
	uint32_t slots;	    /**< power of two */
	uint32_t slot_size; /**< bytes */
	int line;
};

struct cfg_grant {
	uint32_t channel;
	uint32_t perms; /**< ION_PERM_* */
	int line;
};

/**
 * One fiber of the manifest: the keys every fiber has, and its kind's own
 * parameters, converted by the kind's table (lib/fiber: struct
 * fiber_param) into the kind's own struct.
 */
struct cfg_fiber {
	char name[CFG_NAME_LEN];
	const struct fiber_kind *kind;
	unsigned int lcore;
	uint32_t rx; /**< channel the fiber reads */
	uint32_t tx; /**< channel the fiber writes (0: none) */
	struct cfg_grant grants[ION_CSPACE_SLOTS];
	unsigned int n_grants;
	/** kind->params_size bytes: the kind's parameter struct */
	union {
		uint8_t bytes[FIBER_PARAMS_MAX];
		uint64_t align;
	} params;
	int line;
};

struct cfg_route {
	struct netswitch_route route;
	int line;
};

struct cfg_tx {
	uint32_t channel;
	int line;
};

struct cfg {
	char file[CFG_PATH_LEN];

	/* eal */
	char *eal_argv[CFG_MAX_EAL_ARGS]; /**< owned; options only, no argv[0]
					   */
	int eal_argc;
	int eal_line;

	/* port */
	char devargs[CFG_PATH_LEN]; /**< vdev devargs, or a PCI address */
	uint16_t rx_desc, tx_desc;
	uint32_t mbufs;
	bool promiscuous;
	int port_line;

	/* netswitch */
	unsigned int ns_lcore;
	uint16_t burst;
	struct cfg_route routes[NETSWITCH_MAX_ROUTES];
	unsigned int n_routes;
	struct cfg_tx tx[NETSWITCH_MAX_TX];
	unsigned int n_tx;
	int ns_line;

	/* rings and fibers */
	struct cfg_channel channels[CFG_MAX_CHANNELS];
	unsigned int n_channels;
	struct cfg_fiber fibers[CFG_MAX_FIBERS];
	unsigned int n_fibers;

	/* run time */
	unsigned int stats_period; /**< seconds; 0 = no periodic block */
	uint32_t idle_polls;	   /**< empty rounds before resting */
	uint32_t idle_spin_us;	   /**< and so long after the last work */
	uint32_t idle_sleep_us;	   /**< longest back-off sleep */
	bool idle_doorbells;	   /**< rest asleep on doorbells, not backing
				    *   off */
	unsigned int drain_ms;	   /**< at exit, how long fibers may drain */

	/* claims: the external fibers' socket */
	char claims_group[CFG_NAME_LEN]; /**< "" if none is named */
	uint32_t claims_gid;		 /**< or ION_CLAIMD_HOST_GID */
	unsigned int claims_per_uid;	 /**< waiting connections a uid */
	unsigned int claims_first_ms;	 /**< a claim is due within */
};

/**
 * Parse @p path into @p c (zeroed first; free with cfg_free()).
 * @return 0, or -EINVAL with "FILE:LINE: sentence" in @p err.
 */
int cfg_load(struct cfg *c, const char *path, char *err, size_t errlen);

/**
 * Check @p c as a whole.  @p lcores[i] is true for every lcore EAL will
 * enable.
 * @return 0, or -EINVAL with "FILE:LINE: sentence" in @p err.
 */
int cfg_check(const struct cfg *c, const bool lcores[CFG_MAX_LCORES], char *err,
	      size_t errlen);

/** The channel @p id of @p c, or NULL. */
const struct cfg_channel *cfg_channel(const struct cfg *c, uint32_t id);

void cfg_free(struct cfg *c);

/**
 * Parse an EAL core list, "-l 0-3,5" or "--lcores '(0-4)@(0,1),5@1'", into
 * @p lcores (the lcore ids, not the CPUs).  @return 0 or -EINVAL.
 */
int cfg_parse_lcores(const char *arg, bool lcores[CFG_MAX_LCORES]);

/**
 * Build the EAL argument vector: argv0, then the config's EAL options
 * except those the command line gives too, then the command line's
 * (the command line wins).  @p out has room for @p max entries; the
 * strings are borrowed from @p c and @p cli.
 * @return the count, or -E2BIG.
 */
int cfg_merge_eal(const struct cfg *c, const char *argv0, int cli_argc,
		  char **cli_argv, char **out, int max);

#endif /* IONSWITCHD_CONFIG_H */
