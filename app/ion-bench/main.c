/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ion-bench: benchmarks of the ION ring and the NetSwitch against the DPDK
 * components a user would otherwise pick, testpmd-style:
 *
 *   ion-bench [EAL options] -- SUBCOMMAND [options]
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <libgen.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>

#include <ion_memzone.h>

#include "bench.h"

static const struct bench_cmd cmds[] = {
	{"ring", bench_ring,
	 "ION ring vs rte_ring SP/SC vs an mbuf ring vs memcpy"},
	{"switch", bench_switch,
	 "NetSwitch demux vs dpdk-testpmd io forwarding on one port type"},
	{"lwf", bench_lwf, "LWF v2 frames validated per second vs memcpy"},
	{"utcp", bench_utcp, "UTCP packets validated per second vs memcpy"},
	{"lwf-e2e", bench_lwf_e2e,
	 "LWF frames reflected through NetSwitch + lwf fiber vs testpmd "
	 "macswap"},
	{"utcp-e2e", bench_utcp_e2e,
	 "UTCP packets reflected through NetSwitch + utcp fiber vs testpmd "
	 "macswap"},
	{"external", bench_external,
	 "an external fiber's consumer (another process, claimed) vs an "
	 "in-process one on the same ring; the cost of a claim"},
	{"claims", bench_claims,
	 "a claim's time while another uid floods the claim socket, with "
	 "the server's limits on and off"},
	{"shards", bench_shards,
	 "the data path sharded by RX queue on net_null: NetSwitch + utcp or "
	 "lwf fiber per queue and lcore, 1 shard vs 2"},
};

static void
usage(void)
{
	unsigned int i;

	fprintf(stderr, "usage: ion-bench [EAL options] -- SUBCOMMAND "
			"[options]\n  (SUBCOMMAND --help for its options)\n\n");
	for (i = 0; i < RTE_DIM(cmds); i++)
		fprintf(stderr, "  %-9s %s\n", cmds[i].name, cmds[i].help);
}

int
bench_parse_list(const char *s, uint32_t *out, uint32_t min, uint32_t max)
{
	int n = 0;

	while (*s != '\0') {
		char *end;
		unsigned long v;

		errno = 0;
		v = strtoul(s, &end, 0);
		if (errno != 0 || end == s || v < min || v > max ||
		    n == BENCH_MAX_LIST || (*end != ',' && *end != '\0'))
			return -1;
		out[n++] = (uint32_t)v;
		s = *end == ',' ? end + 1 : end;
	}
	return n;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double
bench_median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int
bench_workers(unsigned int *ids, unsigned int n)
{
	unsigned int id, k = 0;

	RTE_LCORE_FOREACH_WORKER(id)
	{
		if (k == n)
			break;
		ids[k++] = id;
	}
	return k == n ? 0 : -1;
}

int
bench_wait_lcore(unsigned int id)
{
	struct timespec ts = {0, 200000};

	while (rte_eal_get_lcore_state(id) == RUNNING)
		nanosleep(&ts, NULL);
	return rte_eal_wait_lcore(id);
}

double
bench_ns_per_cycle(void)
{
	return 1e9 / (double)rte_get_tsc_hz();
}

int
main(int argc, char **argv)
{
	char prefix[PATH_MAX];
	const char *name;
	unsigned int i;
	int n, rc;

	/* ion-bench external's claimer: another process, no EAL */
	if (argc > 1 && strcmp(argv[1], "--external-child") == 0)
		return bench_external_child(argc - 1, argv + 1);
	n = rte_eal_init(argc, argv);
	if (n < 0) {
		fprintf(stderr, "ion-bench: EAL init failed: %s\n",
			rte_strerror(rte_errno));
		return 1;
	}
	argc -= n;
	argv += n;
	/* argv[0] is the program (or "--"); the subcommand follows */
	if (argc < 2) {
		usage();
		rte_eal_cleanup();
		return 2;
	}
	name = argv[1];
	for (i = 0; i < RTE_DIM(cmds); i++)
		if (strcmp(cmds[i].name, name) == 0)
			break;
	if (i == RTE_DIM(cmds)) {
		fprintf(stderr, "ion-bench: unknown subcommand '%s'\n", name);
		usage();
		rte_eal_cleanup();
		return 2;
	}
	rc = cmds[i].run(argc - 1, argv + 1);
	snprintf(prefix, sizeof(prefix), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	ion_remove_hugepage_files(basename(prefix));
	return rc;
}
