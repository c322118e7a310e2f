/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ion-bench claims: how long a legitimate claim takes while another user
 * floods the claim socket with connections, against the same claim server
 * with its limits off (any number of connections a uid, 2 s to send a
 * claim) and against no flood at all, in the same run.
 *
 * The benchmark is the host: a split ring, a claim server (ion_claimd) on
 * a socket in a directory of /tmp, mode 0660 in the flood's group
 * (so the flood passes the socket's own gate, as a member of the group
 * would), and one external fiber "bench" for this process's uid, polled
 * the way ionswitchd's control step does (asleep on its fd).  Flooders,
 * processes of another uid (65534 by default; root is needed), each keep
 * FLOOD_HOLD connections open that send nothing and open a new one as
 * soon as the server closes one: every other flooder with blocking
 * connects.  A claimer of this uid claims the
 * fiber N times (ion_fiber_attach_timeout, 5 s), each timed from the call
 * until it returned attached; a claim refused for capacity (-EAGAIN) or
 * timed out is retried after 1 ms, as docs/ion-ring.md tells a client to,
 * and its time runs until it succeeds.  Reported per scenario: the claims
 * that succeeded at their first try, the median, 99th percentile and
 * worst time of a claim.
 *
 * The children are fork()ed after EAL's init and use no DPDK.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>

#include <ion_claimd.h>
#include <ion_ring.h>

#include "bench.h"

#define CL_CHANNEL 0x0602
#define CL_FIBER   "bench"
#define FLOOD_HOLD 128
#define MAX_CLAIMS 10000
#define MAX_FLOOD  16
#define RETRY_US   1000
#define GIVE_UP_S  30

enum scenario { QUIET, FLOOD, FLOOD_NO_LIMITS, N_SCENARIOS };

static const char *const scenario_name[N_SCENARIOS] = {
	"no flood",
	"flood, limits on",
	"flood, limits off",
};

struct cl_opts {
	uint32_t claims, flooders, runs, uid;
	bool json;
};

/* One claim as the claimer saw it. */
struct cl_claim {
	double ms;	/* from the first try until attached */
	uint32_t tries; /* 1: at the first */
};

static double
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/*
 * As @uid: FLOOD_HOLD connections open that send nothing, each one the
 * server closes opened again at once, until killed.  Connecting without
 * blocking (a connect that finds the queue full fails at once and is
 * tried again), or @blocking (it sleeps in the queue of connectors).
 */
static void __attribute__((noreturn))
flooder(const char *sock, uid_t uid, int blocking)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct pollfd held[FLOOD_HOLD];
	int i;

	/* not a moment longer than the benchmark */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() == 1 ||
	    setgroups(0, NULL) != 0 || setgid(uid) != 0 || setuid(uid) != 0)
		_exit(99);
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	for (i = 0; i < FLOOD_HOLD; i++)
		held[i] = (struct pollfd){.fd = -1, .events = POLLIN};
	for (;;) {
		for (i = 0; i < FLOOD_HOLD; i++) {
			if (held[i].fd >= 0)
				continue;
			held[i].fd = socket(
				AF_UNIX,
				SOCK_SEQPACKET | (blocking ? 0 : SOCK_NONBLOCK),
				0);
			if (held[i].fd >= 0 &&
			    connect(held[i].fd, (struct sockaddr *)&sa,
				    sizeof(sa)) < 0) {
				close(held[i].fd);
				held[i].fd = -1;
			}
		}
		/* an answer or a hang-up: the server let one go */
		if (poll(held, FLOOD_HOLD, 1) <= 0)
			continue;
		for (i = 0; i < FLOOD_HOLD; i++)
			if (held[i].fd >= 0 && held[i].revents != 0) {
				close(held[i].fd);
				held[i].fd = -1;
			}
	}
}

/* @n claims, each retried on -EAGAIN and -ETIMEDOUT; the results to
 * @out_fd. */
static void __attribute__((noreturn))
claimer(const char *sock, uint32_t n, int out_fd)
{
	struct cl_claim c;
	struct ion_fiber *f;
	char why[160];
	uint32_t i;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
		_exit(99);
	for (i = 0; i < n; i++) {
		double t0 = now_ms();
		int rc;

		c.tries = 0;
		do {
			if (c.tries++ > 0)
				usleep(RETRY_US);
			rc = ion_fiber_attach_timeout(sock, CL_FIBER, -1, 5000,
						      &f, why, sizeof(why));
		} while ((rc == -EAGAIN || rc == -ETIMEDOUT) &&
			 now_ms() - t0 < GIVE_UP_S * 1e3);
		c.ms = now_ms() - t0;
		if (rc < 0) {
			fprintf(stderr, "ion-bench claims: claim %u: %s\n", i,
				why);
			_exit(1);
		}
		ion_fiber_detach(f);
		if (write(out_fd, &c, sizeof(c)) != sizeof(c))
			_exit(2);
	}
	_exit(0);
}

/* Serve the claim server until @pid exits, asleep on its fd. */
static int
serve(struct ion_claimd *d, pid_t pid)
{
	struct pollfd p = {.fd = ion_claimd_fd(d), .events = POLLIN};
	int status;

	for (;;) {
		poll(&p, 1, 10);
		ion_claimd_poll(d);
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
	}
}

struct cl_result {
	uint32_t first_try, n;
	double median, p99, max;
	uint64_t refused_uid, refused_full, refused_late;
};

static int
run_scenario(enum scenario s, const struct cl_opts *o, struct ion_ring_map *map,
	     const char *dir, struct cl_result *res)
{
	static struct cl_claim claims[MAX_CLAIMS];
	static double ms[MAX_CLAIMS];
	const struct ion_claimd_grant g = {CL_CHANNEL, ION_PERM_READ, map, -1};
	const struct ion_claimd_fiber fib = {.name = CL_FIBER,
					     .uid = (uint32_t)getuid(),
					     .gid = ION_CLAIMD_ANY_GID,
					     .restart = 1,
					     .n_grants = 1,
					     .grants = &g};
	struct ion_claimd_conf conf = {.gid = o->uid};
	pid_t fl[MAX_FLOOD], cl;
	struct ion_claimd_stats st;
	struct ion_claimd *d;
	char sock[108];
	int pfd[2], status, rc;
	uint32_t i, n = 0;

	/* where the flood's uid may reach it (EAL's runtime dir is 0700) */
	snprintf(sock, sizeof(sock), "%s/claims.sock", dir);
	conf.path = sock;
	if (s == FLOOD_NO_LIMITS) {
		/* the server without its limits: any number of waiting
		 * connections a uid, 2 s to send a claim */
		conf.per_uid = 1000000;
		conf.first_ms = 2000;
	}
	rc = ion_claimd_open(&d, &conf, NULL);
	if (rc == 0)
		rc = ion_claimd_add(d, &fib) < 0 ? -EINVAL : 0;
	if (rc < 0 || pipe(pfd) < 0) {
		fprintf(stderr, "ion-bench claims: claim server on %s: %s\n",
			sock, strerror(rc < 0 ? -rc : errno));
		ion_claimd_close(d);
		return -1;
	}
	for (i = 0; s != QUIET && i < o->flooders; i++) {
		fl[i] = fork();
		if (fl[i] == 0)
			flooder(sock, o->uid, i % 2);
	}
	/* the flood first: a claim comes into a socket already under it */
	for (i = 0; s != QUIET && i < 20; i++) {
		struct pollfd p = {.fd = ion_claimd_fd(d), .events = POLLIN};

		poll(&p, 1, 10);
		ion_claimd_poll(d);
	}
	cl = fork();
	if (cl == 0) {
		close(pfd[0]);
		claimer(sock, o->claims, pfd[1]);
	}
	close(pfd[1]);
	status = serve(d, cl);
	for (i = 0; s != QUIET && i < o->flooders; i++) {
		kill(fl[i], SIGKILL);
		waitpid(fl[i], NULL, 0);
	}
	while (n < o->claims &&
	       read(pfd[0], &claims[n], sizeof(claims[n])) == sizeof(claims[n]))
		n++;
	close(pfd[0]);
	ion_claimd_stats(d, &st);
	ion_claimd_close(d);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || n != o->claims)
		return -1;
	if (s != QUIET && st.uid_limit + st.full == 0) {
		fprintf(stderr, "ion-bench claims: the flood never reached "
				"the socket\n");
		return -1;
	}
	memset(res, 0, sizeof(*res));
	for (i = 0; i < n; i++) {
		ms[i] = claims[i].ms;
		res->first_try += claims[i].tries == 1;
		if (ms[i] > res->max)
			res->max = ms[i];
	}
	res->n = n;
	res->median = bench_median(ms, n); /* sorts */
	res->p99 = ms[(n * 99 + 99) / 100 - 1];
	res->refused_uid = st.uid_limit;
	res->refused_full = st.full;
	res->refused_late = st.late;
	return 0;
}

static void
usage(void)
{
	fprintf(stderr,
		"usage: ion-bench [EAL options] -- claims [options]\n"
		"  --claims N    claims timed per scenario and run (default "
		"50; at most %u)\n"
		"  --flooders N  flooding processes (default 4; at most %u)\n"
		"  --uid UID     the flood's uid and the socket's group "
		"(default 65534)\n"
		"  --runs N      runs, alternating the scenarios (default 3)\n"
		"  --json        JSON instead of a table\n"
		"As root (the flood is another uid).\n",
		MAX_CLAIMS, MAX_FLOOD);
}

static int
parse_opts(int argc, char **argv, struct cl_opts *o)
{
	static const struct option longs[] = {
		{"claims", required_argument, NULL, 'c'},
		{"flooders", required_argument, NULL, 'f'},
		{"uid", required_argument, NULL, 'u'},
		{"runs", required_argument, NULL, 'r'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	uint32_t v[BENCH_MAX_LIST];
	int ch, li = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longs, &li)) != -1) {
		uint32_t max = ch == 'c'   ? MAX_CLAIMS
			       : ch == 'f' ? MAX_FLOOD
			       : ch == 'r' ? 63
					   : UINT32_MAX - 1;

		if (ch == 'h' || ch == '?') {
			usage();
			return ch == 'h' ? 1 : -1;
		}
		if (ch == 'j') {
			o->json = true;
			continue;
		}
		if (bench_parse_list(optarg, v, 1, max) != 1) {
			fprintf(stderr,
				"ion-bench claims: bad value '%s' for --%s\n",
				optarg, longs[li].name);
			return -1;
		}
		*(ch == 'c'   ? &o->claims
		  : ch == 'f' ? &o->flooders
		  : ch == 'u' ? &o->uid
			      : &o->runs) = v[0];
	}
	if (optind < argc) {
		fprintf(stderr, "ion-bench claims: unexpected argument '%s'\n",
			argv[optind]);
		return -1;
	}
	return 0;
}

static void
print(const struct cl_opts *o, struct cl_result r[][N_SCENARIOS])
{
	double med[64], p99[64], mx[64];
	unsigned int s, k;

	if (!o->json)
		printf("claims of one fiber while uid %u floods the socket "
		       "(%u processes, %u connections each); %u claims a "
		       "run, medians of %u runs\n"
		       "%-18s %10s %10s %10s %10s %10s\n",
		       o->uid, o->flooders, FLOOD_HOLD, o->claims, o->runs,
		       "scenario", "first try", "median ms", "p99 ms",
		       "worst ms", "uid_limit");
	else
		printf("{\"claims\": %u, \"flooders\": %u, \"runs\": %u, "
		       "\"scenarios\": [",
		       o->claims, o->flooders, o->runs);
	for (s = 0; s < N_SCENARIOS; s++) {
		uint32_t first = UINT32_MAX;
		uint64_t lim = 0;

		for (k = 0; k < o->runs; k++) {
			med[k] = r[k][s].median;
			p99[k] = r[k][s].p99;
			mx[k] = r[k][s].max;
			if (r[k][s].first_try < first)
				first = r[k][s].first_try;
			lim += r[k][s].refused_uid;
		}
		if (o->json)
			printf("%s{\"scenario\": \"%s\", \"first_try_min\": "
			       "%u, \"median_ms\": %.3f, \"p99_ms\": %.3f, "
			       "\"worst_ms\": %.3f, \"uid_limit\": %llu}",
			       s ? ", " : "", scenario_name[s], first,
			       bench_median(med, o->runs),
			       bench_median(p99, o->runs),
			       bench_median(mx, o->runs),
			       (unsigned long long)lim);
		else
			printf("%-18s %6u/%-3u %10.3f %10.3f %10.3f %10llu\n",
			       scenario_name[s], first, o->claims,
			       bench_median(med, o->runs),
			       bench_median(p99, o->runs),
			       bench_median(mx, o->runs),
			       (unsigned long long)lim);
	}
	if (o->json)
		printf("]}\n");
}

int
bench_claims(int argc, char **argv)
{
	struct cl_opts o = {
		.claims = 50, .flooders = 4, .runs = 3, .uid = 65534};
	static struct cl_result r[64][N_SCENARIOS];
	struct ion_ring_params p = {.channel = CL_CHANNEL,
				    .capacity = 64,
				    .slot_size = 64,
				    .name = "claims"};
	char dir[] = "/tmp/ion-bench-claims.XXXXXX";
	struct ion_ring_map map;
	unsigned int k, s;
	int rc;

	rc = parse_opts(argc, argv, &o);
	if (rc != 0)
		return rc > 0 ? 0 : 2;
	if (geteuid() != 0) {
		fprintf(stderr, "ion-bench claims: run as root: the flood is "
				"another uid's\n");
		return 2;
	}
	if (mkdtemp(dir) == NULL || chmod(dir, 0755) < 0) {
		fprintf(stderr, "ion-bench claims: %s: %s\n", dir,
			strerror(errno));
		return 1;
	}
	rc = ion_ring_create_split(&map, "claims", &p, 0);
	if (rc < 0) {
		fprintf(stderr, "ion-bench claims: split ring: %s\n",
			strerror(-rc));
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	/* alternate, so that a slow spell of the host hits every scenario */
	for (k = 0; k < o.runs && rc == 0; k++)
		for (s = 0; s < N_SCENARIOS && rc == 0; s++)
			if (run_scenario(s, &o, &map, dir, &r[k][s]) < 0) {
				fprintf(stderr,
					"ion-bench claims: %s: a claim "
					"failed\n",
					scenario_name[s]);
				rc = 1;
			}
	ion_ring_unmap(&map);
	rmdir(dir);
	if (rc == 0)
		print(&o, r);
	return rc;
}
