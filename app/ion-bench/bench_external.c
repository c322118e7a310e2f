/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ion-bench external: an external fiber's consumer against an in-process
 * one, on the same ring, in the same run.
 *
 * The benchmark is the host: a split ring (ion_ring_create_split, the
 * producer's part in huge pages when it can), a claim server (ion_claimd)
 * on a socket in its EAL runtime directory, and one external fiber
 * "bench" granted READ on the ring, for this process's uid.  The producer
 * runs on the first worker lcore.  The consumer is either
 *   in_process  a thread on the second worker lcore (ion_cons_open on the
 *               host's own mapping), or
 *   external    this program again (posix_spawn, no EAL), pinned to the
 *               second worker lcore's CPU, which claims the fiber
 *               (ion_fiber_attach) and opens its end on the CSpace it got
 *               (ion_cspace_open_cons): the ring's pages as its grant maps
 *               them, nothing else of the host.
 * Both consumers run the same loop: the zero-copy ION consumer of
 * `ion-bench ring` (one load from every line of the payload, each
 * message's sequence number checked).  A run lasts from the producer's
 * first reserve until it finds every slot free again (the last message
 * consumed), measured the same way for both.  Then the cost of a claim:
 * a process attaches and detaches N times; each cycle is timed from the
 * attach call until the detach returned and the host took the fiber
 * back (the next attach succeeds: an attach refused -EBUSY because the
 * host has not yet handled the last detach is retried within the cycle).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_memcpy.h>
#include <rte_pause.h>

#include <ion_claimd.h>
#include <ion_ring.h>

#include "bench.h"
#include "bench_ion_loops.h"

#define EXT_CHANNEL 0x0602
#define EXT_SLOTS   1024
#define EXT_FIBER   "bench"
#define EXT_MAX	    2048
#define EXT_BURST   64

extern char **environ;

/* ---- the external process (no EAL) ----------------------------------- */

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static uint64_t
now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* N attach + detach cycles; prints "cycle_ns attach_ns busy" medians. */
static int
child_claims(const char *sock, uint64_t n)
{
	uint64_t *cyc = calloc(n, sizeof(*cyc)), *att = calloc(n, sizeof(*att));
	uint64_t i, busy = 0;
	char why[160];
	int rc = 0;

	if (cyc == NULL || att == NULL) {
		free(cyc);
		free(att);
		return 10;
	}
	for (i = 0; i < n && rc == 0; i++) {
		uint64_t t0 = now_ns(), t1, deadline = t0 + 5000000000ull;
		struct ion_fiber *f = NULL;

		for (;;) {
			rc = ion_fiber_attach(sock, EXT_FIBER, -1, &f, why,
					      sizeof(why));
			if (rc != -EBUSY || now_ns() > deadline)
				break;
			busy++;
			sched_yield();
		}
		t1 = now_ns();
		if (rc < 0) {
			fprintf(stderr, "ion-bench external: attach: %s\n",
				why);
			rc = 11;
			break;
		}
		ion_fiber_detach(f);
		cyc[i] = now_ns() - t0;
		att[i] = t1 - t0;
	}
	if (rc == 0) {
		qsort(cyc, n, sizeof(*cyc), cmp_u64);
		qsort(att, n, sizeof(*att), cmp_u64);
		printf("%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
		       cyc[n / 2], att[n / 2], cyc[n * 9 / 10], busy);
	}
	free(cyc);
	free(att);
	return rc;
}

static int
child_consume(const char *sock, uint64_t count, uint32_t size, uint32_t burst)
{
	struct ion_fiber *f;
	struct ion_cons c;
	uint64_t errors, sink = 0;
	char why[160];

	if (ion_fiber_attach(sock, EXT_FIBER, -1, &f, why, sizeof(why)) < 0) {
		fprintf(stderr, "ion-bench external: attach: %s\n", why);
		return 11;
	}
	if (ion_cspace_open_cons(&f->cs, EXT_CHANNEL, &c) != 0) {
		ion_fiber_detach(f);
		return 12;
	}
	errors = bench_ion_consume(&c, count, size, burst, &sink);
	ion_cons_close(&c);
	ion_fiber_detach(f);
	if (errors != 0)
		fprintf(stderr,
			"ion-bench external: %" PRIu64 " bad messages "
			"(sink %" PRIu64 ")\n",
			errors, sink);
	return errors == 0 ? 0 : 13;
}

/*
 * ion-bench --external-child MODE SOCK N SIZE BURST CPU: the claimer,
 * before (and without) EAL.  MODE consume or claims.
 */
int
bench_external_child(int argc, char **argv)
{
	uint64_t n;
	uint32_t size, burst;
	long cpu;

	if (argc != 7)
		return 2;
	n = strtoull(argv[3], NULL, 0);
	size = (uint32_t)strtoul(argv[4], NULL, 0);
	burst = (uint32_t)strtoul(argv[5], NULL, 0);
	cpu = strtol(argv[6], NULL, 0);
	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET((int)cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) != 0)
			perror("ion-bench external: sched_setaffinity");
	}
	if (strcmp(argv[1], "claims") == 0 && n > 0)
		return child_claims(argv[2], n);
	if (strcmp(argv[1], "consume") == 0 && burst >= 1 && burst <= EXT_BURST)
		return child_consume(argv[2], n, size, burst);
	return 2;
}

/* ---- the host --------------------------------------------------------- */

struct ext_opts {
	uint32_t size;
	uint32_t bursts[BENCH_MAX_LIST], n_bursts;
	uint32_t runs;
	uint64_t messages;
	uint32_t claims;
	bool json;
};

struct ext_host {
	struct ion_ring_map map;
	struct ion_claimd *d;
	char sock[256];
	unsigned int claimed, ended;
	struct ion_claimd_end last;
	int cpu; /* the consumer lcore's CPU, for the external process */
};

/* One measured run, shared with the lcores. */
struct ext_run {
	struct ion_ring *ring;
	uint32_t size, burst;
	uint64_t count;
	uint32_t go; /* atomic: start */
	uint64_t t_start, t_end;
	uint64_t errors, sink;
	int rc;
};

static void
on_claimed(void *arg, uint32_t pid)
{
	struct ext_host *h = arg;

	(void)pid;
	h->claimed++;
}

static void
on_ended(void *arg, const struct ion_claimd_end *e)
{
	struct ext_host *h = arg;

	h->ended++;
	h->last = *e;
}

static void
on_refused(void *arg, uint32_t uid, uint32_t pid, int err, const char *why)
{
	(void)arg;
	fprintf(stderr,
		"ion-bench external: claim by %u (uid %u) refused (%s): %s\n",
		pid, uid, strerror(-err), why);
}

static int
ext_producer(void *arg)
{
	struct ext_run *r = arg;
	uint8_t src[EXT_MAX];
	struct ion_prod p;

	if (ion_prod_open(&p, r->ring) != 0)
		return -1;
	memset(src, 0xa5, sizeof(src));
	/* acquire: the run's setup is visible once go is seen */
	while (__atomic_load_n(&r->go, __ATOMIC_ACQUIRE) == 0)
		rte_pause();
	r->t_start = rte_rdtsc();
	bench_ion_produce(&p, r->count, src, r->size, r->burst);
	/* the end of the run: the last message consumed */
	while (ion_prod_room(&p) < EXT_SLOTS)
		rte_pause();
	r->t_end = rte_rdtsc();
	ion_prod_close(&p);
	return 0;
}

static int
ext_consumer(void *arg)
{
	struct ext_run *r = arg;
	struct ion_cons c;

	if (ion_cons_open(&c, r->ring) != 0)
		return -1;
	/* acquire: as the producer */
	while (__atomic_load_n(&r->go, __ATOMIC_ACQUIRE) == 0)
		rte_pause();
	r->errors =
		bench_ion_consume(&c, r->count, r->size, r->burst, &r->sink);
	ion_cons_close(&c);
	return 0;
}

/* Serve claims for @ms milliseconds at most, until @done(h) holds. */
static int
serve(struct ext_host *h, int ms, bool (*done)(struct ext_host *h, void *),
      void *arg)
{
	struct pollfd p = {.fd = ion_claimd_fd(h->d), .events = POLLIN};
	uint64_t end = rte_get_timer_cycles() + rte_get_timer_hz() * ms / 1000;

	while (!done(h, arg)) {
		if (rte_get_timer_cycles() > end)
			return -ETIMEDOUT;
		poll(&p, 1, 1);
		ion_claimd_poll(h->d);
	}
	return 0;
}

static bool
is_claimed(struct ext_host *h, void *arg)
{
	return h->claimed >= *(unsigned int *)arg;
}

static bool
is_ended(struct ext_host *h, void *arg)
{
	return h->ended >= *(unsigned int *)arg;
}

struct child {
	pid_t pid;
	int status; /* -1 while it runs */
};

static bool
child_gone(struct ext_host *h, void *arg)
{
	struct child *c = arg;

	(void)h;
	if (c->status < 0 && waitpid(c->pid, &c->status, WNOHANG) != c->pid)
		c->status = -1;
	return c->status >= 0;
}

/* This program again, as a claimer: @mode, @n, the run's size and burst;
 * its stdout to @out_fd (or ours, if < 0). */
static pid_t
spawn_child(struct ext_host *h, const char *mode, uint64_t n, uint32_t size,
	    uint32_t burst, int out_fd)
{
	char ns[24], ss[12], bs[12], cs[12];
	char *argv[] = {"ion-bench",  "--external-child",
			(char *)mode, h->sock,
			ns,	      ss,
			bs,	      cs,
			NULL};
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int rc;

	snprintf(ns, sizeof(ns), "%" PRIu64, n);
	snprintf(ss, sizeof(ss), "%u", size);
	snprintf(bs, sizeof(bs), "%u", burst);
	snprintf(cs, sizeof(cs), "%d", h->cpu);
	posix_spawn_file_actions_init(&fa);
	if (out_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	rc = posix_spawn(&pid, "/proc/self/exe", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		fprintf(stderr, "ion-bench external: spawn: %s\n",
			strerror(rc));
		return -1;
	}
	return pid;
}

/* One run; @return ns per message, or < 0. */
static double
run_once(struct ext_host *h, struct ext_run *r, bool external,
	 const unsigned int *lc)
{
	struct child ch = {.pid = -1, .status = -1};
	unsigned int want;
	int rc = 0;

	__atomic_store_n(&r->go, 0, __ATOMIC_RELAXED);
	r->t_start = r->t_end = 0;
	r->errors = 0;
	if (external) {
		ch.pid = spawn_child(h, "consume", r->count, r->size, r->burst,
				     -1);
		want = h->claimed + 1;
		if (ch.pid < 0 || serve(h, 10000, is_claimed, &want) < 0) {
			fprintf(stderr, "ion-bench external: no claim\n");
			if (ch.pid > 0) {
				kill(ch.pid, SIGKILL);
				waitpid(ch.pid, NULL, 0);
			}
			return -1;
		}
	} else if (rte_eal_remote_launch(ext_consumer, r, lc[1]) != 0) {
		return -1;
	}
	if (rte_eal_remote_launch(ext_producer, r, lc[0]) != 0)
		return -1;
	/* release: the run's parameters before the start signal */
	__atomic_store_n(&r->go, 1, __ATOMIC_RELEASE);
	if (external) {
		/* serve (a death, a detach) while the run lasts */
		want = h->ended + 1;
		rc |= serve(h, 600000, child_gone, &ch);
		rc |= serve(h, 10000, is_ended, &want);
		if (ch.status != 0) {
			fprintf(stderr,
				"ion-bench external: consumer status 0x%x\n",
				ch.status);
			rc = -1;
		}
		if (h->last.killed) {
			fprintf(stderr, "ion-bench external: %s\n",
				h->last.why);
			rc = -1;
		}
	}
	rc |= bench_wait_lcore(lc[0]);
	if (!external)
		rc |= bench_wait_lcore(lc[1]);
	if (rc != 0 || r->errors != 0 || r->t_end <= r->t_start) {
		fprintf(stderr,
			"ion-bench external: %s burst %u: %" PRIu64
			" messages out of order or corrupt\n",
			external ? "external" : "in_process", r->burst,
			r->errors);
		return -1;
	}
	return (double)(r->t_end - r->t_start) * bench_ns_per_cycle() /
	       (double)r->count;
}

/* The claim cycle's cost: medians of @n cycles, in ns. */
static int
measure_claims(struct ext_host *h, uint32_t n, uint64_t *cycle,
	       uint64_t *attach, uint64_t *p90, uint64_t *busy)
{
	struct child ch = {.pid = -1, .status = -1};
	unsigned int want = h->ended + n;
	char line[128] = "";
	int fds[2], rc = 0;
	ssize_t got;

	if (pipe(fds) != 0)
		return -errno;
	ch.pid = spawn_child(h, "claims", n, 0, 1, fds[1]);
	close(fds[1]);
	if (ch.pid < 0) {
		close(fds[0]);
		return -1;
	}
	rc |= serve(h, 600000, child_gone, &ch);
	rc |= serve(h, 10000, is_ended, &want);
	got = read(fds[0], line, sizeof(line) - 1);
	close(fds[0]);
	if (rc != 0 || ch.status != 0 || got <= 0 ||
	    sscanf(line, "%" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64, cycle,
		   attach, p90, busy) != 4) {
		fprintf(stderr,
			"ion-bench external: claims failed (status 0x%x, "
			"the last claim: %s)\n",
			ch.status, h->last.why);
		return -1;
	}
	return 0;
}

static int
host_open(struct ext_host *h, const struct ext_opts *o, unsigned int lc1)
{
	const struct ion_claimd_ops ops = {.claimed = on_claimed,
					   .ended = on_ended,
					   .refused = on_refused};
	struct ion_ring_params p = {.channel = EXT_CHANNEL,
				    .capacity = EXT_SLOTS,
				    .slot_size = o->size,
				    .name = "bench"};
	struct ion_claimd_grant g = {EXT_CHANNEL, ION_PERM_READ, &h->map, -1};
	struct ion_claimd_fiber f = {.name = EXT_FIBER,
				     .uid = (uint32_t)getuid(),
				     .gid = ION_CLAIMD_ANY_GID,
				     .restart = 1,
				     .n_grants = 1,
				     .grants = &g,
				     .arg = h};
	rte_cpuset_t set = rte_lcore_cpuset(lc1);
	int rc, cpu;

	h->cpu = -1;
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &set)) {
			h->cpu = cpu;
			break;
		}
	snprintf(h->sock, sizeof(h->sock), "%s/ion-bench.fibers.sock",
		 rte_eal_get_runtime_dir());
	rc = ion_ring_create_split(&h->map, "bench", &p, ION_SPLIT_HUGE);
	if (rc < 0) {
		fprintf(stderr, "ion-bench external: split ring: %s\n",
			strerror(-rc));
		return rc;
	}
	rc = ion_claimd_open(&h->d, &(struct ion_claimd_conf){.path = h->sock},
			     &ops);
	if (rc == 0)
		rc = ion_claimd_add(h->d, &f);
	if (rc < 0) {
		fprintf(stderr, "ion-bench external: claim server on %s: %s\n",
			h->sock, strerror(-rc));
		return rc;
	}
	return 0;
}

static void
usage(void)
{
	fprintf(stderr,
		"usage: ion-bench [EAL options] -- external [options]\n"
		"  --size N       message size in bytes (default 64; 8..%u)\n"
		"  --bursts LIST  burst sizes (default 1,32; 1..%u)\n"
		"  --runs N       runs per figure, the median is reported "
		"(default 5)\n"
		"  --messages N   messages per run (default 10M)\n"
		"  --claims N     attach+detach cycles timed (default 1000; "
		"0: skip)\n"
		"  --json         JSON instead of tables\n"
		"Needs two worker lcores on different CPUs, e.g. on two CPUs:\n"
		"  ion-bench --lcores '0@0,1@0,2@1' --no-pci -- external\n",
		EXT_MAX, EXT_BURST);
}

static int
parse_opts(int argc, char **argv, struct ext_opts *o)
{
	static const struct option longs[] = {
		{"size", required_argument, NULL, 's'},
		{"bursts", required_argument, NULL, 'b'},
		{"runs", required_argument, NULL, 'r'},
		{"messages", required_argument, NULL, 'n'},
		{"claims", required_argument, NULL, 'c'},
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
			if (bench_parse_list(optarg, v, 8, EXT_MAX) != 1)
				goto bad;
			o->size = v[0];
			break;
		case 'b':
			n = bench_parse_list(optarg, o->bursts, 1, EXT_BURST);
			if (n <= 0)
				goto bad;
			o->n_bursts = (uint32_t)n;
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
		case 'c':
			if (bench_parse_list(optarg, v, 0, 1000000) != 1)
				goto bad;
			o->claims = v[0];
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
		fprintf(stderr,
			"ion-bench external: unexpected argument '%s'\n",
			argv[optind]);
		return -1;
	}
	return 0;
bad:
	fprintf(stderr, "ion-bench external: bad value '%s' for --%s\n", optarg,
		longs[li].name);
	return -1;
}

int
bench_external(int argc, char **argv)
{
	struct ext_opts o = {.size = 64,
			     .bursts = {1, 32},
			     .n_bursts = 2,
			     .runs = 5,
			     .messages = 10000000,
			     .claims = 1000};
	double in[BENCH_MAX_LIST] = {0}, ex[BENCH_MAX_LIST] = {0}, v[64], w[64];
	uint64_t cycle = 0, attach = 0, p90 = 0, busy = 0;
	struct ext_host h;
	struct ext_run r;
	unsigned int lc[2], b, k;
	int rc;

	rc = parse_opts(argc, argv, &o);
	if (rc != 0)
		return rc > 0 ? 0 : 2;
	if (bench_workers(lc, 2) < 0) {
		fprintf(stderr, "ion-bench external: needs two worker lcores, "
				"e.g. --lcores '0@0,1@0,2@1'\n");
		return 2;
	}
	memset(&h, 0, sizeof(h));
	if (host_open(&h, &o, lc[1]) < 0) {
		ion_claimd_close(h.d);
		ion_ring_unmap(&h.map);
		return 1;
	}
	memset(&r, 0, sizeof(r));
	r.ring = h.map.ring;
	r.size = o.size;
	r.count = o.messages;
	rc = 0;
	for (b = 0; b < o.n_bursts && rc == 0; b++) {
		r.burst = o.bursts[b];
		/* alternate, so that a slow spell of the host hits both */
		for (k = 0; k < o.runs && rc == 0; k++) {
			v[k] = run_once(&h, &r, false, lc);
			w[k] = v[k] < 0 ? -1 : run_once(&h, &r, true, lc);
			if (v[k] < 0 || w[k] < 0)
				rc = 1;
		}
		if (rc == 0) {
			in[b] = bench_median(v, o.runs);
			ex[b] = bench_median(w, o.runs);
		}
	}
	if (rc == 0 && o.claims > 0 &&
	    measure_claims(&h, o.claims, &cycle, &attach, &p90, &busy) < 0)
		rc = 1;
	ion_claimd_close(h.d);
	ion_ring_unmap(&h.map);
	if (rc != 0)
		return rc;
	if (o.json) {
		printf("{\"external\": {\"runs\": %u, \"size\": %u, "
		       "\"messages\": %" PRIu64 ", \"results\": [",
		       o.runs, o.size, o.messages);
		for (b = 0; b < o.n_bursts; b++)
			printf("%s\n  {\"burst\": %u, \"in_process_mmsgs\": "
			       "%.3f, \"external_mmsgs\": %.3f, "
			       "\"external_vs_in_process\": %.3f}",
			       b ? "," : "", o.bursts[b], 1e3 / in[b],
			       1e3 / ex[b], in[b] / ex[b]);
		printf("],\n \"claim\": {\"cycles\": %u, \"cycle_us\": %.1f, "
		       "\"attach_us\": %.1f, \"cycle_p90_us\": %.1f, "
		       "\"busy_retries\": %" PRIu64 "}}}\n",
		       o.claims, cycle / 1e3, attach / 1e3, p90 / 1e3, busy);
		return 0;
	}
	printf("\nion-bench external: median of %u runs, %u-slot split ring, "
	       "%u B messages, %" PRIu64 " a run\n\n",
	       o.runs, EXT_SLOTS, o.size, o.messages);
	printf("%5s %20s %18s %22s\n", "burst", "in-process Mmsg/s",
	       "external Mmsg/s", "external/in-process");
	for (b = 0; b < o.n_bursts; b++)
		printf("%5u %20.2f %18.2f %21.2fx\n", o.bursts[b], 1e3 / in[b],
		       1e3 / ex[b], in[b] / ex[b]);
	if (o.claims > 0)
		printf("\nclaim (attach + detach until taken back), %u cycles: "
		       "median %.1f us (p90 %.1f us), of which attach %.1f us; "
		       "%" PRIu64 " attaches found it not yet taken back\n",
		       o.claims, cycle / 1e3, p90 / 1e3, attach / 1e3, busy);
	return 0;
}
