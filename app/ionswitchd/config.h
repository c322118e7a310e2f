/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ionswitchd's configuration: one libconfig file (see
 * config/ionswitchd.conf and docs/configuration.md).
 *
 * Loading is two steps, both before anything starts:
 *  1. cfg_load() parses the file and checks every value's type and range;
 *  2. cfg_check() checks the whole against the lcores EAL will enable:
 *     channels known, at most 64 grants a fiber, one writer and one reader
 *     a ring, fibers on enabled worker lcores, every routed ring read.
 * Each refusal is one sentence prefixed "FILE:LINE: ".
 */
#ifndef IONSWITCHD_CONFIG_H
#define IONSWITCHD_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include <ion_ring.h>
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

enum cfg_fiber_kind {
	CFG_FIBER_RXONLY, /**< reads rx, counts and releases (testpmd rxonly) */
	CFG_FIBER_REFLECT,  /**< reads rx, swaps MACs, writes tx (macswap) */
	CFG_FIBER_LWF,	    /**< validates LWF v2 frames (docs/wire-formats.md):
			     *   accepted ones to app and/or back out on tx */
	CFG_FIBER_UTCP,	    /**< validates UTCP packets: payloads to the ring
			     *   bound to their destination port, and/or back */
	CFG_FIBER_MEMBRANE, /**< lwIP: rx/tx are the network rings; echo and
			     *   HTTP services, files through the VFS rings */
	CFG_FIBER_VFS,	    /**< serves files under root: rx the VFS request
			     *   ring, tx the response ring */
	CFG_FIBER_CONSOLE,  /**< runs console commands: rx console input,
			     *   tx console output */
};

#define CFG_MAX_BINDS 16

/** utcp: payloads for destination port @p port go to ring @p channel. */
struct cfg_bind {
	uint16_t port;
	uint32_t channel;
	int line;
};

struct cfg_fiber {
	char name[CFG_NAME_LEN];
	enum cfg_fiber_kind kind;
	unsigned int lcore;
	uint32_t rx;  /**< channel the fiber reads (0: none) */
	uint32_t tx;  /**< channel the fiber writes (0: none) */
	uint32_t app; /**< lwf: ring of accepted frames (0: none) */
	bool reflect; /**< lwf, utcp: send accepted frames back out on tx */
	struct cfg_bind binds[CFG_MAX_BINDS]; /**< utcp: port -> ring */
	unsigned int n_binds;
	/* membrane: IPv4 addresses in network byte order, the services */
	uint32_t ip, netmask, gateway;
	uint32_t vfs_req, vfs_rsp; /**< the VFS rings it uses (0: none) */
	bool echo;		   /**< TCP and UDP echo on port 7 */
	bool http;		   /**< HTTP/1.1 on http_port */
	uint16_t http_port;
	/* vfs: the directory it serves */
	char root[CFG_PATH_LEN];
	struct cfg_grant grants[ION_CSPACE_SLOTS];
	unsigned int n_grants;
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
	uint32_t idle_polls;	   /**< empty polls before backing off */
	uint32_t idle_sleep_us;	   /**< longest back-off sleep */
	unsigned int drain_ms;	   /**< at exit, how long fibers may drain */
};

/**
 * Parse @p path into @p c (zeroed first; free with cfg_free()).
 * @return 0, or -EINVAL with "FILE:LINE: sentence" in @p err.
 */
int cfg_load(struct cfg *c, const char *path, char *err, size_t errlen);

/**
 * Check @p c as a whole.  @p lcores[i] is true for every lcore EAL will
 * enable, @p main_lcore is EAL's main lcore.
 * @return 0, or -EINVAL with "FILE:LINE: sentence" in @p err.
 */
int cfg_check(const struct cfg *c, const bool lcores[CFG_MAX_LCORES],
	      unsigned int main_lcore, char *err, size_t errlen);

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
