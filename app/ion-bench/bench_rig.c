/* SPDX-License-Identifier: BSD-3-Clause */
/* ion-bench: the NetSwitch rig shared by the benchmarks (bench_rig.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

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

#ifndef AF_XDP
#define AF_XDP 44
#endif

/*
 * DPDK 22.11's net_af_xdp does not delete its umem when the port closes
 * (no xsk_umem__delete()), and with libxdp a umem's first XSK is the
 * umem's own socket: it stays open, bound to the interface's queue, and
 * the next port on that queue (testpmd's, after ours) fails to bind
 * (EBUSY).  bench_port_up() notes the AF_XDP sockets a port's start
 * opened, bench_port_down() closes those the PMD left open.
 */
#define XSK_FDS 4
static int xsk_fd[RTE_MAX_ETHPORTS][XSK_FDS]; /* fd + 1; 0: none */

/* The AF_XDP sockets of this process, as a bitmap of fds below @p max. */
static void
xsk_fds(uint8_t *map, int max)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *e;

	memset(map, 0, (size_t)(max + 7) / 8);
	while (dir != NULL && (e = readdir(dir)) != NULL) {
		int f = atoi(e->d_name), domain;
		socklen_t len = sizeof(domain);

		if (e->d_name[0] != '.' && f >= 0 && f < max &&
		    getsockopt(f, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 &&
		    domain == AF_XDP)
			map[f / 8] |= (uint8_t)(1u << (f % 8));
	}
	if (dir != NULL)
		closedir(dir);
}

#define FD_MAX 4096

int
bench_port_up(const char *devargs, struct rte_mempool *rx_pool, uint16_t *port)
{
	static uint8_t before[FD_MAX / 8], after[FD_MAX / 8];
	bool xdp = strncmp(devargs, "net_af_xdp", 10) == 0;
	char name[64];
	size_t n = strcspn(devargs, ",");
	int rc, f, k = 0;

	if (xdp)
		xsk_fds(before, FD_MAX);
	rc = rte_dev_probe(devargs);
	if (rc < 0) {
		fprintf(stderr, "ion-bench: probe %s: %s\n", devargs,
			strerror(-rc));
		return rc;
	}
	snprintf(name, sizeof(name), "%.*s", (int)n, devargs);
	if (rte_eth_dev_get_port_by_name(name, port) != 0)
		return -ENODEV;
	rc = bench_port_start(*port, rx_pool);
	memset(xsk_fd[*port], 0, sizeof(xsk_fd[0]));
	if (xdp) {
		xsk_fds(after, FD_MAX);
		for (f = 0; f < FD_MAX && k < XSK_FDS; f++)
			if ((after[f / 8] & ~before[f / 8]) & (1u << (f % 8)))
				xsk_fd[*port][k++] = f + 1;
	}
	return rc;
}

void
bench_port_down(uint16_t port, const char *devargs)
{
	uint8_t left[FD_MAX / 8];
	char name[64];
	int k;

	snprintf(name, sizeof(name), "%.*s", (int)strcspn(devargs, ","),
		 devargs);
	rte_eth_dev_stop(port);
	rte_eth_dev_close(port);
	rte_eal_hotplug_remove("vdev", name);
	if (xsk_fd[port][0] == 0)
		return;
	xsk_fds(left, FD_MAX);
	for (k = 0; k < XSK_FDS && xsk_fd[port][k] != 0; k++) {
		int f = xsk_fd[port][k] - 1;

		if (left[f / 8] & (1u << (f % 8)))
			close(f);
		xsk_fd[port][k] = 0;
	}
	/* the kernel lets go of the interface's queue in a deferred work
	 * item (xp_release_deferred()): a port probed there at once may
	 * still find it taken */
	rte_delay_us_sleep(500000);
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

/* ---- the veth ports ------------------------------------------------- */

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

/* Run @p argv to its end (a child of this thread: in its namespace). */
static int
run_quiet(char *const argv[])
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		if (fd >= 0)
			dup2(fd, STDOUT_FILENO);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -errno;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "ion-bench: '%s %s %s ...' failed\n", argv[0],
			argv[1], argv[2]);
		return -EIO;
	}
	return 0;
}

static int
sysctl_write(const char *path, const char *v)
{
	FILE *f = fopen(path, "w");
	int rc = 0;

	if (f == NULL)
		return -errno;
	if (fputs(v, f) < 0)
		rc = -EIO;
	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
	return rc;
}

int
bench_veth_up(void)
{
	static int state; /* 0: not yet, 1: up, < 0: failed */
	static char *const lo_up[] = {"ip", "link", "set", "lo", "up", NULL};
	static char *const add[] = {
		"ip",	       "link",	      "add",	     BENCH_VETH_A,
		"numtxqueues", "1",	      "numrxqueues", "1",
		"mtu",	       "1500",	      "type",	     "veth",
		"peer",	       "name",	      BENCH_VETH_B,  "numtxqueues",
		"1",	       "numrxqueues", "1",	     "mtu",
		"1500",	       NULL};
	static char *const a_up[] = {"ip",	   "link", "set",
				     BENCH_VETH_A, "up",   NULL};
	static char *const b_up[] = {"ip",	   "link", "set",
				     BENCH_VETH_B, "up",   NULL};
	struct statfs sfs;
	int rc;

	if (state != 0)
		return state > 0 ? 0 : state;
	if (unshare(CLONE_NEWNET) < 0) {
		state = -errno;
		fprintf(stderr, "ion-bench: unshare(CLONE_NEWNET): %s\n",
			strerror(errno));
		return state;
	}
	/* no router solicitations, no DAD, no MLD: the kernel sends nothing
	 * of its own (the ends have no address either: no ARP) */
	rc = sysctl_write("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
	if (rc == 0)
		rc = sysctl_write(
			"/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
	if (rc < 0 && rc != -ENOENT) /* ENOENT: no IPv6 at all */
		fprintf(stderr, "ion-bench: IPv6 off in the namespace: %s\n",
			strerror(-rc));
	else if ((rc = run_quiet(lo_up)) == 0 && (rc = run_quiet(add)) == 0 &&
		 (rc = run_quiet(a_up)) == 0)
		rc = run_quiet(b_up);
	state = rc < 0 ? rc : 1;
	/* libxdp pins its programs there; without it, one program an
	 * interface, which works the same */
	if (rc == 0 && (statfs("/sys/fs/bpf", &sfs) != 0 ||
			(unsigned long)sfs.f_type != BPF_FS_MAGIC))
		fprintf(stderr, "ion-bench: no bpffs on /sys/fs/bpf (mount -t "
				"bpf bpf /sys/fs/bpf)\n");
	return rc;
}

void
bench_veth_devargs(char *buf, size_t len, enum bench_veth_pmd pmd,
		   const char *suffix, const char *iface, const char *xdp_args)
{
	bool extra =
		pmd == BENCH_AF_XDP && xdp_args != NULL && xdp_args[0] != '\0';

	snprintf(buf, len, "net_%s%s,iface=%s%s%s",
		 pmd == BENCH_AF_XDP ? "af_xdp" : "af_packet", suffix, iface,
		 extra ? "," : "", extra ? xdp_args : "");
}

int
bench_veth_tx(const char *iface, uint64_t *tx, uint64_t *tx_drop)
{
	/* this thread's namespace: /proc/self is the process's */
	FILE *f = fopen("/proc/thread-self/net/dev", "r");
	char line[512];
	size_t n = strlen(iface);
	int rc = -ENOENT;

	while (f != NULL && rc != 0 && fgets(line, sizeof(line), f) != NULL) {
		const char *p = line + strspn(line, " ");
		unsigned long long v[16];

		/* name: rx bytes packets errs drop fifo frame compressed
		 * multicast, tx bytes packets errs drop ... */
		if (strncmp(p, iface, n) != 0 || p[n] != ':' ||
		    sscanf(p + n + 1,
			   "%llu %llu %llu %llu %llu %llu %llu %llu %llu "
			   "%llu %llu %llu",
			   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
			   &v[7], &v[8], &v[9], &v[10], &v[11]) != 12)
			continue;
		*tx = v[9];
		*tx_drop = v[11];
		rc = 0;
	}
	if (f != NULL)
		fclose(f);
	return rc;
}

int
bench_port_ping(uint16_t port, struct rte_mempool *pool, unsigned int seconds)
{
	uint64_t hz = rte_get_timer_hz();
	uint64_t end = rte_get_timer_cycles() + seconds * hz, t;
	struct rte_mbuf *m[32];
	bool back = false;
	uint16_t n;

	while (!back && rte_get_timer_cycles() < end) {
		struct rte_mbuf *p = rte_pktmbuf_alloc(pool);
		uint8_t *d =
			p == NULL ? NULL : (uint8_t *)rte_pktmbuf_append(p, 64);

		if (d == NULL) {
			rte_pktmbuf_free(p);
			return -ENOMEM;
		}
		memset(d, 0, 64);
		memset(d, 0x02, 6);
		memset(d + 6, 0x04, 6);
		d[12] = 0x12; /* 0x1234: no route's */
		d[13] = 0x34;
		if (rte_eth_tx_burst(port, 0, &p, 1) != 1)
			rte_pktmbuf_free(p);
		for (t = rte_get_timer_cycles();
		     !back && rte_get_timer_cycles() - t < hz / 5;) {
			n = rte_eth_rx_burst(port, 0, m, RTE_DIM(m));
			back = n != 0;
			rte_pktmbuf_free_bulk(m, n);
		}
	}
	for (t = rte_get_timer_cycles(); rte_get_timer_cycles() - t < hz / 10;)
		rte_pktmbuf_free_bulk(m,
				      rte_eth_rx_burst(port, 0, m, RTE_DIM(m)));
	if (!back)
		fprintf(stderr,
			"ion-bench: port %u: nothing came back from "
			"the peer\n",
			port);
	return back ? 0 : -ETIMEDOUT;
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
	char line[512], last[24][160];
	double v[MAX_SAMPLES];
	unsigned int n = 0, n_lines = 0, i;
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

		/* what it said last, for when it says no rate */
		snprintf(last[n_lines++ % RTE_DIM(last)], sizeof(last[0]),
			 "%.159s", line);
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
				"installed?); its last lines:\n");
		for (i = n_lines > RTE_DIM(last) ? n_lines - RTE_DIM(last) : 0;
		     i < n_lines; i++)
			fprintf(stderr, "  %s", last[i % RTE_DIM(last)]);
		return -1;
	}
	return bench_median(v, n);
}
