/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ionswitchd: the appliance.
 *
 *   ionswitchd [EAL options] -- -c FILE [--stats-period N] [--check]
 *              [--totals-json FILE] [-i] [--console-socket PATH]
 *              [--counters] [--kinds]
 *
 * Here is the wiring: the rings (rings.c), the port (port.c), the
 * NetSwitch, the fibers, the claim server (claims.c), and the steps each
 * lcore runs (lib/fiber's scheduler).  The steps themselves:
 *   netswitch-rx, netswitch-tx  port RX -> rings by EtherType; TX rings ->
 *                               port (steps.c), on netswitch.lcore
 *   control                     signals, console, stats, shutdown
 *                               (steps.c), on the main lcore
 *   each fiber                  its kind's step, on its lcore
 * Any lcore may run any of them; the shipped config runs everything but
 * the control step on one lcore (docs/architecture.md).
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_pdump.h>

#include <ion_memzone.h>

#include "console_host.h"
#include "ionswitchd.h"

RTE_LOG_REGISTER_DEFAULT(ionswitchd_logtype, INFO);

#define DEFAULT_CONFIG "config/ionswitchd.conf"
/* A main lcore with nothing but the control step sleeps this long at most:
 * the console still answers within milliseconds. */
#define CONTROL_SLEEP_US 5000

struct opts {
	const char *config;
	const char *totals_json;
	int stats_period; /* -1: from the config */
	bool check_only;
	bool counters;		    /* --counters: describe them, exit */
	bool kinds;		    /* --kinds: describe them, exit */
	bool interactive;	    /* -i: the console on stdin/stdout */
	const char *console_socket; /* NULL: /run/ionswitchd/<prefix>.sock */
	/* NULL: /run/ionswitchd/<prefix>.fibers.sock */
	const char *fibers_socket;
};

/* Set by the signal handler; lock-free atomics are async-signal-safe. */
static int stop_signal;

static void
on_signal(int sig)
{
	__atomic_store_n(&stop_signal, sig, __ATOMIC_RELAXED);
}

static void
usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [EAL options] -- [-c FILE] [options]\n"
		"  -c, --config FILE       configuration (default %s)\n"
		"  -s, --stats-period N    seconds between stats blocks (0: "
		"off)\n"
		"      --check             check the configuration and exit\n"
		"      --totals-json FILE  write the totals there at exit\n"
		"  -i, --interactive       console prompt on stdin/stdout\n"
		"      --counters          list every counter with its help\n"
		"      --kinds             list every fiber kind with its "
		"keys\n"
		"      --console-socket PATH  console socket (default "
		"/run/ionswitchd/<file-prefix>.sock)\n"
		"      --fibers-socket PATH   external fibers' claim socket "
		"(default\n"
		"                         "
		"/run/ionswitchd/<file-prefix>.fibers.sock)\n"
		"  -h, --help              this text\n",
		prog, DEFAULT_CONFIG);
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longs[] = {
		{"config", required_argument, NULL, 'c'},
		{"stats-period", required_argument, NULL, 's'},
		{"check", no_argument, NULL, 'K'},
		{"totals-json", required_argument, NULL, 'J'},
		{"interactive", no_argument, NULL, 'i'},
		{"console-socket", required_argument, NULL, 'S'},
		{"fibers-socket", required_argument, NULL, 'F'},
		{"counters", no_argument, NULL, 'C'},
		{"kinds", no_argument, NULL, 'k'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	char *end;
	int ch;

	o->config = DEFAULT_CONFIG;
	o->stats_period = -1;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:s:ih", longs, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->config = optarg;
			break;
		case 's':
			errno = 0;
			o->stats_period = (int)strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || o->stats_period < 0) {
				fprintf(stderr,
					"ionswitchd: --stats-period %s: "
					"expected seconds >= 0\n",
					optarg);
				return -EINVAL;
			}
			break;
		case 'K':
			o->check_only = true;
			break;
		case 'J':
			o->totals_json = optarg;
			break;
		case 'i':
			o->interactive = true;
			break;
		case 'S':
			o->console_socket = optarg;
			break;
		case 'F':
			o->fibers_socket = optarg;
			break;
		case 'C':
			o->counters = true;
			break;
		case 'k':
			o->kinds = true;
			break;
		case 'h':
			usage("ionswitchd");
			exit(0);
		default:
			usage("ionswitchd");
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ionswitchd: unexpected argument '%s'\n",
			argv[optind]);
		return -EINVAL;
	}
	return 0;
}

/* The lcores EAL will enable, read from the merged EAL arguments. */
static int
eal_lcores(int argc, char **argv, bool lcores[CFG_MAX_LCORES],
	   unsigned int *main_lcore)
{
	const char *set = NULL, *main_arg = NULL;
	unsigned int i;
	int a;

	for (a = 1; a < argc; a++) {
		const char *s = argv[a];
		const char *val = a + 1 < argc ? argv[a + 1] : NULL;

		if (strcmp(s, "-l") == 0 || strcmp(s, "--lcores") == 0)
			set = val;
		else if (strncmp(s, "--lcores=", 9) == 0)
			set = s + 9;
		else if (strncmp(s, "-l", 2) == 0 && s[2] != '\0')
			set = s + 2;
		else if (strcmp(s, "--main-lcore") == 0)
			main_arg = val;
		else if (strncmp(s, "--main-lcore=", 13) == 0)
			main_arg = s + 13;
	}
	memset(lcores, 0, CFG_MAX_LCORES * sizeof(bool));
	if (set == NULL) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		for (i = 0; i < (unsigned int)n && i < CFG_MAX_LCORES; i++)
			lcores[i] = true;
	} else if (cfg_parse_lcores(set, lcores) < 0) {
		fprintf(stderr,
			"ionswitchd: EAL lcore list '%s' is malformed\n", set);
		return -EINVAL;
	}
	if (main_arg != NULL) {
		*main_lcore = (unsigned int)atoi(main_arg);
		return 0;
	}
	for (i = 0; i < CFG_MAX_LCORES; i++)
		if (lcores[i]) {
			*main_lcore = i;
			return 0;
		}
	return -EINVAL;
}

static int
create_netswitch(struct ionswitchd *d)
{
	struct netswitch_conf nc;
	unsigned int i;
	int rc;

	memset(&nc, 0, sizeof(nc));
	nc.port_id = d->port_id;
	nc.burst = d->cfg.burst;
	nc.tx_pool = d->pool;
	ion_cspace_init(&d->ns_cs);
	for (i = 0; i < d->cfg.n_routes; i++) {
		nc.routes[i] = d->cfg.routes[i].route;
		rc = ion_cspace_grant(&d->ns_cs,
				      ionswitchd_ring(d, nc.routes[i].channel),
				      ION_PERM_WRITE);
		if (rc < 0)
			return rc;
	}
	nc.n_routes = d->cfg.n_routes;
	for (i = 0; i < d->cfg.n_tx; i++) {
		nc.tx_channels[i] = d->cfg.tx[i].channel;
		rc = ion_cspace_grant(&d->ns_cs,
				      ionswitchd_ring(d, nc.tx_channels[i]),
				      ION_PERM_READ);
		if (rc < 0)
			return rc;
	}
	nc.n_tx = d->cfg.n_tx;
	ionswitchd_external_wakes(d, &d->ns_cs);
	return netswitch_create(&nc, &d->ns_cs, &d->ns);
}

/* What every fiber gets from the daemon: the port's MAC address (the
 * membrane speaks with it), our figures (its GET /stats and /metrics) and
 * the console's commands. */
static int
make_env(struct ionswitchd *d)
{
	struct rte_ether_addr mac;
	int rc;

	rc = rte_eth_macaddr_get(d->port_id, &mac);
	if (rc < 0)
		return rc;
	memcpy(d->env.mac, mac.addr_bytes, sizeof(d->env.mac));
	d->env.stats_json = counters_json_buf;
	d->env.stats_prom = counters_prom_buf;
	d->env.stats_arg = d;
	console_host_ops(d);
	d->env.console = &d->ops;
	return 0;
}

static int
create_fibers(struct ionswitchd *d)
{
	unsigned int i, j;
	int rc;

	for (i = 0; i < d->cfg.n_fibers; i++) {
		const struct cfg_fiber *cf = &d->cfg.fibers[i];
		const struct fiber_conf fc = {
			.name = cf->name,
			.kind = cf->kind,
			.lcore = cf->lcore,
			.rx = cf->rx,
			.tx = cf->tx,
			.burst = d->cfg.burst,
			.params = cf->params.bytes,
		};
		struct fiber *f = &d->fibers[i];

		d->n_fibers = i + 1;
		rc = fiber_init(f, &fc, &d->env);
		for (j = 0; rc == 0 && j < cf->n_grants; j++)
			rc = fiber_grant(
				f, ionswitchd_ring(d, cf->grants[j].channel),
				cf->grants[j].perms);
		if (rc < 0) {
			DLOG(ERR, "fiber %s: %s\n", cf->name, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

/* The in-process fibers' ends facing external fibers: named once the
 * external fibers are exported (claims_open), before any is opened. */
static void
fibers_external_wakes(struct ionswitchd *d)
{
	unsigned int i;

	for (i = 0; i < d->n_fibers; i++)
		if (!d->fibers[i].kind->remote)
			ionswitchd_external_wakes(d, &d->fibers[i].cs);
}

/* Every lcore but the main one: its steps until STOPPED. */
static int
lcore_main(void *arg)
{
	struct ionswitchd *d = arg;
	unsigned int l = rte_lcore_id();

	if (d->sched.lcores[l].n_steps == 0)
		return 0;
	return fiber_sched_lcore(&d->sched, l);
}

static void
teardown(struct ionswitchd *d)
{
	unsigned int i;

	/* no claim outlives the daemon's side of its rings */
	ion_claimd_close(d->claimd);
	d->claimd = NULL;
	for (i = 0; i < d->n_fibers; i++)
		fiber_fini(&d->fibers[i]);
	if (d->ns != NULL)
		netswitch_free(d->ns);
	port_close(d);
	rings_free(d);
}

static void
run(struct ionswitchd *d)
{
	unsigned int main_lcore = rte_get_main_lcore();

	/* alone with the control step, the main lcore may sleep longer */
	if (d->sched.lcores[main_lcore].n_steps == 1)
		d->sched.lcores[main_lcore].max_sleep_us = CONTROL_SLEEP_US;
	d->start_tsc = d->prev_tsc = rte_rdtsc();
	rte_eal_mp_remote_launch(lcore_main, d, SKIP_MAIN);
	fiber_sched_set(&d->sched, FIBER_RUN_RUNNING);
	DLOG(INFO, "running: %u rings, %u fibers; Ctrl-C stops\n", d->n_rings,
	     d->n_fibers);
	fiber_sched_lcore(&d->sched, main_lcore);
	rte_eal_mp_wait_lcore();
	if (fiber_sched_joined(&d->sched) != 0)
		DLOG(ERR, "an lcore with steps did not run them to the stop\n");
}

static bool
has_console(const struct cfg *c)
{
	unsigned int i;

	for (i = 0; i < c->n_fibers; i++)
		if (c->fibers[i].kind->console)
			return true;
	return false;
}

/* The --file-prefix EAL will use, from the merged EAL arguments. */
static const char *
eal_file_prefix(int argc, char **argv)
{
	const char *prefix = "rte"; /* EAL's default */
	int a;

	for (a = 1; a < argc; a++) {
		if (strcmp(argv[a], "--file-prefix") == 0 && a + 1 < argc)
			prefix = argv[++a];
		else if (strncmp(argv[a], "--file-prefix=", 14) == 0)
			prefix = argv[a] + 14;
	}
	return prefix;
}

int
main(int argc, char **argv)
{
	static struct ionswitchd d; /* large; the daemon's one instance */
	char *eal_argv[CFG_MAX_EAL_ARGS * 2 + 8];
	const char *prefix;
	char err[CFG_ERR_LEN];
	bool lcores[CFG_MAX_LCORES];
	unsigned int main_lcore = 0;
	sigset_t stop_sigs;
	struct opts o;
	int sep, eal_argc, rc;

	memset(&o, 0, sizeof(o));
	for (sep = 1; sep < argc && strcmp(argv[sep], "--") != 0; sep++)
		;
	if (parse_opts(argc - sep, argv + sep, &o) < 0)
		return 2;
	/* getopt wants argv[0]: argv + sep points at "--" (or the end) */
	if (o.counters || o.kinds) {
		const struct fiber_kind *const *k;

		if (o.counters)
			counters_describe(stdout);
		for (k = fiber_kinds; o.kinds && *k != NULL; k++)
			fiber_kind_describe(stdout, *k);
		return 0;
	}

	if (cfg_load(&d.cfg, o.config, err, sizeof(err)) < 0) {
		fprintf(stderr, "ionswitchd: %s\n", err);
		return 1;
	}
	if (o.stats_period >= 0)
		d.cfg.stats_period = (unsigned int)o.stats_period;
	eal_argc = cfg_merge_eal(&d.cfg, argv[0], sep - 1, argv + 1, eal_argv,
				 (int)RTE_DIM(eal_argv));
	if (eal_argc < 0) {
		fprintf(stderr, "ionswitchd: too many EAL options\n");
		return 1;
	}
	if (eal_lcores(eal_argc, eal_argv, lcores, &main_lcore) < 0 ||
	    cfg_check(&d.cfg, lcores, err, sizeof(err)) < 0) {
		fprintf(stderr, "ionswitchd: %s\n", err);
		return 1;
	}
	if (o.check_only) {
		printf("%s: configuration OK\n", o.config);
		return 0;
	}
	if ((o.interactive || o.console_socket != NULL) &&
	    !has_console(&d.cfg)) {
		fprintf(stderr,
			"ionswitchd: %s: %s has no console fiber (kind = "
			"\"console\")\n",
			o.interactive ? "-i" : "--console-socket", o.config);
		return 1;
	}

	/* SIGINT and SIGTERM reach the main lcore only, so that they end its
	 * sleep: every thread EAL, lwIP or we start inherits them blocked,
	 * and the main thread takes them back just before it runs */
	sigemptyset(&stop_sigs);
	sigaddset(&stop_sigs, SIGINT);
	sigaddset(&stop_sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop_sigs, NULL);
	/* before EAL's getopt reorders its arguments */
	prefix = eal_file_prefix(eal_argc, eal_argv);
	rc = rte_eal_init(eal_argc, eal_argv);
	if (rc < 0) {
		fprintf(stderr, "ionswitchd: EAL init failed: %s\n",
			rte_strerror(rte_errno));
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	/* a telemetry or capture client that goes away must not kill us */
	signal(SIGPIPE, SIG_IGN);
	rte_pdump_init(); /* lets dpdk-dumpcap capture the port */

	fiber_sched_init(&d.sched, d.cfg.idle_polls, d.cfg.idle_sleep_us);
	fiber_sched_spin(&d.sched, d.cfg.idle_spin_us);
	if (d.cfg.idle_doorbells)
		fiber_sched_use_doorbells(&d.sched);
	d.signal = &stop_signal;
	d.stats_period = d.cfg.stats_period;
	rc = rings_create(&d);
	if (rc == 0)
		rc = port_setup(&d);
	if (rc == 0)
		rc = make_env(&d);
	if (rc == 0)
		rc = create_fibers(&d);
	if (rc == 0) {
		char sock[PATH_MAX];

		if (o.fibers_socket == NULL)
			snprintf(sock, sizeof(sock), ION_FIBERS_SOCKET_FMT,
				 prefix);
		rc = claims_open(&d, o.fibers_socket != NULL ? o.fibers_socket
							     : sock);
	}
	if (rc == 0) {
		fibers_external_wakes(&d);
		rc = create_netswitch(&d);
	}
	if (rc == 0)
		rc = steps_add(&d, rte_get_main_lcore());
	if (rc == 0)
		rc = counters_telemetry_register(&d);
	if (rc == 0) {
		struct console_conf cc = {
			.interactive = o.interactive,
			.socket_path = o.console_socket,
			.socket_given = o.console_socket != NULL,
		};
		char sock[PATH_MAX];

		if (cc.socket_path == NULL) {
			snprintf(sock, sizeof(sock), "/run/ionswitchd/%s.sock",
				 prefix);
			cc.socket_path = sock;
		}
		rc = console_host_open(&d, &cc, &d.con);
	}
	if (rc == 0) {
		pthread_sigmask(SIG_UNBLOCK, &stop_sigs, NULL);
		run(&d);
		counters_print(&d, true);
		if (o.totals_json != NULL)
			counters_write_json(&d, o.totals_json);
	}
	/* its ends of the console rings go before the rings do */
	console_host_close(d.con);
	d.con = NULL;
	teardown(&d);
	fiber_sched_fini(&d.sched);
	rte_pdump_uninit();
	rte_eal_cleanup();
	/* the daemon is the last user of its prefix at exit */
	ion_remove_hugepage_files(prefix);
	cfg_free(&d.cfg);
	return rc < 0 ? 1 : 0;
}
