/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ion-bench: the NetSwitch rig that `switch` and the end-to-end benchmarks
 * (`lwf-e2e`, `utcp-e2e`) share: ports, the rings between the NetSwitch and
 * the fibers, the NetSwitch lcore, and dpdk-testpmd as a child process.
 */
#ifndef ION_BENCH_RIG_H
#define ION_BENCH_RIG_H

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <ion_ring.h>
#include <netswitch.h>

struct rte_mempool;

/*
 * Pollers share CPUs here (three of them on two CPUs in the loop modes): one
 * that finds nothing for a while gives its CPU to the others, as the
 * daemon's back-off does.
 */
static inline void
bench_idle(uint32_t *idle, uint32_t work)
{
	if (work != 0)
		*idle = 0;
	else if (++*idle > 4)
		sched_yield();
}

/** What the NetSwitch lcore runs on. */
struct bench_ns_lcore {
	struct netswitch *ns;
	const uint32_t *stop; /**< set (release) by the main lcore */
};

/** lcore function: RX and TX passes of @p arg's NetSwitch until stop. */
int bench_lcore_netswitch(void *arg);

/*
 * Where the NetSwitch and the fibers run:
 *   shared  the daemon's placement: the NetSwitch's RX and TX and every
 *           fiber are steps of one lcore, run to completion in turn
 *           (lib/fiber's scheduler), lc[0];
 *   split   the NetSwitch on lc[0], the fibers on lc[1], idle pollers
 *           yield (the daemon's placement before the scheduler).
 */
enum bench_placement { BENCH_SHARED, BENCH_SPLIT, BENCH_N_PLACEMENTS };
extern const char *const bench_placement_names[BENCH_N_PLACEMENTS];

struct fiber;
struct fiber_sched;

/** The shared placement: lcore @p lcore runs @p ns and fibers @p f. */
struct bench_sched {
	struct fiber_sched *sched;
	struct netswitch *ns;
	unsigned int lcore;
};

/** Set up @p b; @return 0, -ENOMEM or -ENOSPC. */
int bench_sched_init(struct bench_sched *b, struct netswitch *ns,
		     unsigned int lcore, struct fiber *const *f,
		     unsigned int n);
/** lcore function of the shared placement: until bench_sched_stop(). */
int bench_lcore_sched(void *arg);
/** Stop the lcore (it returns), and free the scheduler. */
void bench_sched_stop(struct bench_sched *b);
void bench_sched_free(struct bench_sched *b);

/** lcore function of the split placement: @p arg's fibers until stop. */
struct bench_fibers {
	struct fiber *const *f;
	unsigned int n;
	const uint32_t *stop;
};
int bench_lcore_fibers(void *arg);

/**
 * Probe the vdev @p devargs and start it (bench_port_start()).
 * @return 0 and *port, or a negative errno (logged).
 */
int bench_port_up(const char *devargs, struct rte_mempool *rx_pool,
		  uint16_t *port);

/** One RX and one TX queue of 1024 descriptors, then start. */
int bench_port_start(uint16_t port, struct rte_mempool *rx_pool);

/** Stop and close @p port and unplug its vdev, named @p devargs up to the
 * first comma. */
void bench_port_down(uint16_t port, const char *devargs);

/**
 * The rings between a NetSwitch and its fibers: @p n rings of
 * ION_NET_SLOTS x ION_NET_SLOT_SIZE on channels @p ch, in rte_zmalloc
 * memory.  The NetSwitch (@p ns_cs) writes the RX rings (@p is_rx[k]) and
 * reads the TX rings; the fibers (@p fib_cs) the other way round.
 * @return 0, or -ENOMEM (bench_rings_down() frees what was made).
 */
int bench_rings_up(struct ion_ring **rings, const uint32_t *ch,
		   const bool *is_rx, unsigned int n, struct ion_cspace *ns_cs,
		   struct ion_cspace *fib_cs);
void bench_rings_down(struct ion_ring **rings, unsigned int n);

/*
 * The veth ports, af_xdp (net_af_xdp) and af_packet (net_af_packet): one
 * end of a veth pair each side, in a network namespace of the benchmark's
 * own, so that no frame leaves it.  BENCH_VETH_A is the NetSwitch's end
 * (or the reference testpmd's), BENCH_VETH_B the peer's (a dpdk-testpmd
 * peer in `switch`, the generator in the e2e benchmarks).
 */
#define BENCH_VETH_A "ionb0"
#define BENCH_VETH_B "ionb1"

enum bench_veth_pmd { BENCH_AF_XDP, BENCH_AF_PACKET };

/**
 * Once per process, before any veth port is probed: move the calling
 * thread (the main lcore's, which probes the ports and forks the testpmd
 * processes; they inherit it) into a new network namespace, turn IPv6 off
 * there, and make the veth pair (one queue each way, MTU 1500), lo and
 * both ends up.  EAL's other threads stay where they were: they only poll
 * and send on the PMDs' sockets.  The namespace goes with the process and
 * its children.  @return 0, or a negative errno (logged).
 */
int bench_veth_up(void);

/**
 * The devargs of a port of @p pmd named "net_af_xdp" / "net_af_packet"
 * + @p suffix on @p iface, with @p xdp_args (e.g. "busy_budget=0";
 * NULL or "" for none) after an af_xdp port's.
 */
void bench_veth_devargs(char *buf, size_t len, enum bench_veth_pmd pmd,
			const char *suffix, const char *iface,
			const char *xdp_args);

/**
 * The kernel's counters of @p iface in this thread's namespace: frames
 * sent, and frames dropped on the way out.  @return 0, or -ENOENT.
 */
int bench_veth_tx(const char *iface, uint64_t *tx, uint64_t *tx_drop);

/**
 * Before a loop port's run: send one 64-byte frame of an EtherType no
 * route has until one comes back through the peer (a peer's port comes
 * up some time after it was started), then take back anything still on
 * its way for 100 ms.  @return 0, or -ETIMEDOUT after @p seconds.
 */
int bench_port_ping(uint16_t port, struct rte_mempool *pool,
		    unsigned int seconds);

/**
 * Run @p argv in its own session (our Ctrl-C is not its Ctrl-C: we stop
 * it), its stdout and stderr into *out_fd.  @return its pid, or -1.
 */
pid_t bench_spawn(char *const argv[], int *out_fd);

/**
 * Stop a child of bench_spawn() (SIGINT, SIGKILL after 5 s), close @p fd,
 * and remove the hugepage files and runtime directory of its EAL file
 * prefix @p prefix.
 */
void bench_stop_child(pid_t pid, int fd, const char *prefix);

/**
 * Run dpdk-testpmd (@p argv, with --stats-period 1 among its options and
 * --file-prefix @p prefix) and read its per-second "Rx-pps:" lines: the
 * median of @p want of them, in Mpps, after skipping @p skip; then stop
 * it.  @return the median, or -1 when it printed none (logged).
 */
double bench_testpmd_rx_mpps(char *const argv[], const char *prefix,
			     unsigned int skip, unsigned int want);

#endif /* ION_BENCH_RIG_H */
