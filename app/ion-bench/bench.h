/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ion-bench: what the subcommands share.  Each subcommand is a function
 * taking its own options (after "--" and the subcommand name); EAL is
 * already initialised.
 */
#ifndef ION_BENCH_H
#define ION_BENCH_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_launch.h>

#define BENCH_MAX_LIST 16

struct bench_cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
};

int bench_ring(int argc, char **argv);
int bench_switch(int argc, char **argv);
int bench_lwf(int argc, char **argv);
int bench_utcp(int argc, char **argv);
int bench_lwf_e2e(int argc, char **argv);
int bench_utcp_e2e(int argc, char **argv);
int bench_external(int argc, char **argv);
int bench_claims(int argc, char **argv);
int bench_shards(int argc, char **argv);
/** ion-bench --external-child ...: the claimer of bench_external(), run
 * before (and without) EAL. */
int bench_external_child(int argc, char **argv);

/** Parse "64,1514" into @p out (at most BENCH_MAX_LIST). @return count or -1.
 */
int bench_parse_list(const char *s, uint32_t *out, uint32_t min, uint32_t max);

/** Median of @p n doubles (sorts them in place). */
double bench_median(double *v, unsigned int n);

/** The first @p n worker lcores; -1 when EAL enabled fewer. */
int bench_workers(unsigned int *ids, unsigned int n);

/**
 * Wait for lcore @p id to finish without spinning: the main lcore may
 * share a CPU with a measured lcore.  @return the lcore's return value.
 */
int bench_wait_lcore(unsigned int id);

/** Nanoseconds per TSC cycle. */
double bench_ns_per_cycle(void);

#endif /* ION_BENCH_H */
