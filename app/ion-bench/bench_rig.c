/* SPDX-License-Identifier: BSD-3-Clause */
/* ion-bench: the NetSwitch rig shared by the benchmarks (bench_rig.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>

#include <fiber.h>

#include "bench.h"
#include "bench_rig.h"

#define MAX_SAMPLES 64

int
bench_lcore_netswitch(void *arg)
{
	const struct bench_ns_lcore *l = arg;
	uint32_t idle = 0;

	/* acquire: pairs with the main lcore's stop store */
	while (!__atomic_load_n(l->stop, __ATOMIC_ACQUIRE))
		bench_idle(&idle, netswitch_rx(l->ns) + netswitch_tx(l->ns));
	return 0;
}

const char *const bench_placement_names[BENCH_N_PLACEMENTS] = {
	[BENCH_SHARED] = "shared",
	[BENCH_SPLIT] = "split",
};

static unsigned int
rx_step(void *arg)
{
	return netswitch_rx(arg);
}

static unsigned int
tx_step(void *arg)
{
	return netswitch_tx(arg);
}

int
bench_sched_init(struct bench_sched *b, struct netswitch *ns,
		 unsigned int lcore, struct fiber *const *f, unsigned int n)
{
	const struct fiber_step rx = {
		.name = "netswitch-rx", .run = rx_step, .arg = ns};
	const struct fiber_step tx = {
		.name = "netswitch-tx", .run = tx_step, .arg = ns};
	unsigned int i;
	int rc;

	b->ns = ns;
	b->lcore = lcore;
	b->sched = calloc(1, sizeof(*b->sched));
	if (b->sched == NULL)
		return -ENOMEM;
	/* one lcore a CPU: it never needs to leave its CPU to a peer */
	fiber_sched_init(b->sched, 256, 0);
	/* as the daemon: in from the port, the fibers, out in one round */
	rc = fiber_sched_add(b->sched, lcore, &rx);
	for (i = 0; rc == 0 && i < n; i++) {
		f[i]->lcore = lcore;
		rc = fiber_sched_add_fiber(b->sched, f[i]);
	}
	if (rc == 0)
		rc = fiber_sched_add(b->sched, lcore, &tx);
	if (rc == 0)
		fiber_sched_set(b->sched, FIBER_RUN_RUNNING);
	return rc;
}

int
bench_lcore_sched(void *arg)
{
	struct bench_sched *b = arg;

	return fiber_sched_lcore(b->sched, b->lcore);
}

void
bench_sched_stop(struct bench_sched *b)
{
	if (b->sched != NULL)
		fiber_sched_set(b->sched, FIBER_RUN_STOPPED);
}

void
bench_sched_free(struct bench_sched *b)
{
	free(b->sched);
	b->sched = NULL;
}

int
bench_lcore_fibers(void *arg)
{
	const struct bench_fibers *l = arg;
	uint32_t idle = 0;

	/* acquire: pairs with the main lcore's stop store */
	while (!__atomic_load_n(l->stop, __ATOMIC_ACQUIRE)) {
		uint32_t work = 0;
		unsigned int i;

		for (i = 0; i < l->n; i++)
			work += fiber_run(l->f[i]);
		bench_idle(&idle, work);
	}
	return 0;
}

int
bench_port_start(uint16_t port, struct rte_mempool *rx_pool)
{
	struct rte_eth_conf conf = {0};
	int rc;

	if ((rc = rte_eth_dev_configure(port, 1, 1, &conf)) < 0 ||
	    (rc = rte_eth_rx_queue_setup(port, 0, 1024, SOCKET_ID_ANY, NULL,
					 rx_pool)) < 0 ||
	    (rc = rte_eth_tx_queue_setup(port, 0, 1024, SOCKET_ID_ANY, NULL)) <
		    0 ||
	    (rc = rte_eth_dev_start(port)) < 0) {
		fprintf(stderr, "ion-bench: port %u: %s\n", port,
			strerror(-rc));
		return rc;
	}
	return 0;
}

int
bench_port_up(const char *devargs, struct rte_mempool *rx_pool, uint16_t *port)
{
	char name[64];
	size_t n = strcspn(devargs, ",");
	int rc;

	rc = rte_dev_probe(devargs);
	if (rc < 0) {
		fprintf(stderr, "ion-bench: probe %s: %s\n", devargs,
			strerror(-rc));
		return rc;
	}
	snprintf(name, sizeof(name), "%.*s", (int)n, devargs);
	if (rte_eth_dev_get_port_by_name(name, port) != 0)
		return -ENODEV;
	return bench_port_start(*port, rx_pool);
}

void
bench_port_down(uint16_t port, const char *devargs)
{
	char name[64];

	snprintf(name, sizeof(name), "%.*s", (int)strcspn(devargs, ","),
		 devargs);
	rte_eth_dev_stop(port);
	rte_eth_dev_close(port);
	rte_eal_hotplug_remove("vdev", name);
}

int
bench_rings_up(struct ion_ring **rings, const uint32_t *ch, const bool *is_rx,
	       unsigned int n, struct ion_cspace *ns_cs,
	       struct ion_cspace *fib_cs)
{
	unsigned int k;

	ion_cspace_init(ns_cs);
	ion_cspace_init(fib_cs);
	for (k = 0; k < n; k++) {
		struct ion_ring_params p = {.channel = ch[k],
					    .capacity = ION_NET_SLOTS,
					    .slot_size = ION_NET_SLOT_SIZE};
		size_t len = ion_ring_memsize(p.capacity, p.slot_size);

		rings[k] = rte_zmalloc("ionb", len, ION_RING_ALIGN);
		if (rings[k] == NULL || ion_ring_init(rings[k], len, &p) < 0)
			return -ENOMEM;
		ion_cspace_grant(ns_cs, rings[k],
				 is_rx[k] ? ION_PERM_WRITE : ION_PERM_READ);
		ion_cspace_grant(fib_cs, rings[k],
				 is_rx[k] ? ION_PERM_READ : ION_PERM_WRITE);
	}
	return 0;
}

void
bench_rings_down(struct ion_ring **rings, unsigned int n)
{
	unsigned int k;

	for (k = 0; k < n; k++) {
		rte_free(rings[k]);
		rings[k] = NULL;
	}
}

pid_t
bench_spawn(char *const argv[], int *out_fd)
{
	int pfd[2];
	pid_t pid;

	if (pipe(pfd) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(pfd[1], STDOUT_FILENO);
		dup2(pfd[1], STDERR_FILENO);
		close(pfd[0]);
		setsid(); /* our Ctrl-C is not theirs: we stop them */
		execvp(argv[0], argv);
		_exit(127);
	}
	close(pfd[1]);
	if (pid < 0) {
		close(pfd[0]);
		return -1;
	}
	*out_fd = pfd[0];
	return pid;
}

void
bench_stop_child(pid_t pid, int fd, const char *prefix)
{
	char cmd[256];
	int i;

	kill(pid, SIGINT);
	for (i = 0; i < 50 && waitpid(pid, NULL, WNOHANG) == 0; i++)
		rte_delay_us_sleep(100000);
	if (i == 50) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	close(fd);
	/* its hugepage files and runtime directory */
	snprintf(cmd, sizeof(cmd),
		 "rm -rf /dev/hugepages/%smap_* /var/run/dpdk/%s", prefix,
		 prefix);
	if (system(cmd) != 0)
		fprintf(stderr, "ion-bench: cleanup of %s failed\n", prefix);
}

double
bench_testpmd_rx_mpps(char *const argv[], const char *prefix, unsigned int skip,
		      unsigned int want)
{
	char line[512];
	double v[MAX_SAMPLES];
	unsigned int n = 0;
	int fd;
	pid_t pid;
	FILE *f;

	if (want > MAX_SAMPLES)
		want = MAX_SAMPLES;
	pid = bench_spawn(argv, &fd);
	if (pid < 0)
		return -1;
	f = fdopen(fd, "r");
	while (n < want && f != NULL && fgets(line, sizeof(line), f) != NULL) {
		const char *p = strstr(line, "Rx-pps:");

		if (p == NULL)
			continue;
		if (skip > 0) {
			skip--;
			continue;
		}
		v[n++] = strtod(p + 7, NULL) / 1e6;
	}
	bench_stop_child(pid, dup(fd), prefix);
	if (f != NULL)
		fclose(f);
	else
		close(fd);
	if (n == 0) {
		fprintf(stderr, "ion-bench: no rates from dpdk-testpmd (is it "
				"installed?)\n");
		return -1;
	}
	return bench_median(v, n);
}
