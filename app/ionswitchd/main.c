/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ionswitchd: the appliance.
 *
 *   ionswitchd [EAL options] -- -c FILE [--stats-period N] [--check]
 *              [--totals-json FILE] [-i] [--console-socket PATH]
 *
 * main lcore:  wiring, stats, signals, shutdown
 * NetSwitch:   port RX -> rings by EtherType; TX rings -> port
 * workers:     fibers, round-robin, through their capabilities
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_pdump.h>

#include <ion_memzone.h>

#include "fiber_kinds.h"
#include "console.h"
#include "ionswitchd.h"

RTE_LOG_REGISTER_DEFAULT(ionswitchd_logtype, INFO);

#define DEFAULT_CONFIG "config/ionswitchd.conf"
#define MAIN_TICK_US   100000

struct opts {
	const char *config;
	const char *totals_json;
	int stats_period; /* -1: from the config */
	bool check_only;
	bool interactive;	    /* -i: the console on stdin/stdout */
	const char *console_socket; /* NULL: /run/ionswitchd/<prefix>.sock */
};

/* The console's main-lcore side; NULL without a console fiber. */
static struct console_host *console;

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
		"      --console-socket PATH  console socket (default "
		"/run/ionswitchd/<file-prefix>.sock)\n"
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

struct ion_ring *
ionswitchd_ring(void *arg, uint32_t channel)
{
	struct ionswitchd *d = arg;
	unsigned int i;

	for (i = 0; i < d->n_rings; i++)
		if (d->ring_ch[i] == channel)
			return d->rings[i];
	return NULL;
}

static int
create_rings(struct ionswitchd *d)
{
	unsigned int i;
	int rc;

	for (i = 0; i < d->cfg.n_channels; i++) {
		const struct cfg_channel *cc = &d->cfg.channels[i];
		struct ion_ring_params p = {
			.channel = cc->id,
			.capacity = cc->slots,
			.slot_size = cc->slot_size,
		};

		rc = ion_memzone_create(&p, (int)rte_socket_id(), &d->rings[i]);
		if (rc < 0)
			return rc;
		d->ring_ch[i] = cc->id;
		d->n_rings = i + 1;
	}
	return 0;
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
	return netswitch_create(&nc, &d->ns_cs, &d->ns);
}

/* The membrane speaks with the port's MAC address and serves our figures
 * at GET /stats. */
static int
membrane_wire(struct ionswitchd *d, struct fiber *f, const struct cfg_fiber *fc)
{
	struct rte_ether_addr mac;
	int rc;

	rc = rte_eth_macaddr_get(d->port_id, &mac);
	if (rc < 0)
		return rc;
	return fiber_membrane_init(f, fc, mac.addr_bytes, totals_json_buf, d);
}

static int
create_fibers(struct ionswitchd *d)
{
	unsigned int i;
	int rc;

	d->lcores[rte_get_main_lcore()].role = ROLE_MAIN;
	d->lcores[d->cfg.ns_lcore].role = ROLE_NETSWITCH;
	for (i = 0; i < d->cfg.n_fibers; i++) {
		struct fiber *f = &d->fibers[i];
		struct lcore_ctx *lc;

		rc = fiber_init(f, &d->cfg.fibers[i], ionswitchd_ring, d,
				d->cfg.burst);
		if (rc == 0 && f->kind == CFG_FIBER_MEMBRANE)
			rc = membrane_wire(d, f, &d->cfg.fibers[i]);
		if (rc < 0) {
			DLOG(ERR, "fiber %s: %s\n", d->cfg.fibers[i].name,
			     strerror(-rc));
			return rc;
		}
		lc = &d->lcores[f->lcore];
		lc->role = ROLE_WORKER;
		lc->fibers[lc->n_fibers++] = f;
		d->n_fibers = i + 1;
	}
	return 0;
}

/* Wait until every lcore of @p role is done, or @p ms pass. */
static bool
wait_done(struct ionswitchd *d, enum lcore_role role, unsigned int ms)
{
	uint64_t end = rte_get_timer_cycles() + rte_get_timer_hz() * ms / 1000;
	unsigned int l;

	do {
		bool all = true;

		RTE_LCORE_FOREACH_WORKER(l)
		{
			/* acquire: pairs with mark_done() on that lcore */
			if (d->lcores[l].role == role &&
			    !__atomic_load_n(&d->lcores[l].done,
					     __ATOMIC_ACQUIRE))
				all = false;
		}
		if (all)
			return true;
		rte_delay_us_sleep(1000);
	} while (rte_get_timer_cycles() < end);
	return false;
}

static void
shutdown_drain(struct ionswitchd *d)
{
	run_state_set(d, RUN_DRAINING);
	if (!wait_done(d, ROLE_WORKER, d->cfg.drain_ms))
		DLOG(WARNING, "fibers did not drain in %u ms\n",
		     d->cfg.drain_ms);
	run_state_set(d, RUN_STOPPING);
	if (!wait_done(d, ROLE_NETSWITCH, d->cfg.drain_ms))
		DLOG(WARNING, "TX did not flush in %u ms\n", d->cfg.drain_ms);
	run_state_set(d, RUN_STOPPED);
	rte_eal_mp_wait_lcore();
}

static void
teardown(struct ionswitchd *d)
{
	unsigned int i;

	for (i = 0; i < d->n_fibers; i++)
		fiber_fini(&d->fibers[i]);
	if (d->ns != NULL)
		netswitch_free(d->ns);
	port_close(d);
	for (i = 0; i < d->n_rings; i++)
		ion_memzone_free(d->rings[i]);
	d->n_rings = 0;
}

static void
run(struct ionswitchd *d, unsigned int period)
{
	uint64_t hz = rte_get_timer_hz();
	uint64_t next = rte_get_timer_cycles() + period * hz;

	d->start_tsc = d->prev_tsc = rte_rdtsc();
	rte_eal_mp_remote_launch(lcore_main, d, SKIP_MAIN);
	run_state_set(d, RUN_RUNNING);
	DLOG(INFO, "running: %u rings, %u fibers; Ctrl-C stops\n", d->n_rings,
	     d->n_fibers);
	while (__atomic_load_n(&stop_signal, __ATOMIC_RELAXED) == 0 &&
	       console_host_stop(console) == NULL) {
		/* the console answers within ms; the tick bounds its wait */
		if (console != NULL)
			console_host_poll(console, MAIN_TICK_US / 1000);
		else
			rte_delay_us_sleep(MAIN_TICK_US);
		if (period != 0 && rte_get_timer_cycles() >= next) {
			stats_print(d, false);
			next += period * hz;
		}
	}
	if (console_host_stop(console) != NULL &&
	    __atomic_load_n(&stop_signal, __ATOMIC_RELAXED) == 0)
		DLOG(INFO, "%s: stopping RX, draining rings\n",
		     console_host_stop(console));
	else
		DLOG(INFO, "signal %d: stopping RX, draining rings\n",
		     stop_signal);
	shutdown_drain(d);
}

static bool
has_console(const struct cfg *c)
{
	unsigned int i;

	for (i = 0; i < c->n_fibers; i++)
		if (c->fibers[i].kind == CFG_FIBER_CONSOLE)
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
	char err[CFG_ERR_LEN];
	bool lcores[CFG_MAX_LCORES];
	unsigned int main_lcore = 0;
	struct opts o;
	int sep, eal_argc, rc;

	memset(&o, 0, sizeof(o));
	for (sep = 1; sep < argc && strcmp(argv[sep], "--") != 0; sep++)
		;
	if (parse_opts(argc - sep, argv + sep, &o) < 0)
		return 2;
	/* getopt wants argv[0]: argv + sep points at "--" (or the end) */

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
	    cfg_check(&d.cfg, lcores, main_lcore, err, sizeof(err)) < 0) {
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

	rc = create_rings(&d);
	if (rc == 0)
		rc = port_setup(&d);
	if (rc == 0)
		rc = create_netswitch(&d);
	if (rc == 0)
		rc = create_fibers(&d);
	if (rc == 0)
		rc = stats_telemetry_register(&d);
	if (rc == 0) {
		struct console_conf cc = {
			.interactive = o.interactive,
			.socket_path = o.console_socket,
			.socket_given = o.console_socket != NULL,
		};
		char sock[PATH_MAX];

		if (cc.socket_path == NULL) {
			snprintf(sock, sizeof(sock), "/run/ionswitchd/%s.sock",
				 eal_file_prefix(eal_argc, eal_argv));
			cc.socket_path = sock;
		}
		rc = console_host_open(&d, &cc, &console);
	}
	if (rc == 0) {
		run(&d, d.cfg.stats_period);
		stats_print(&d, true);
		if (o.totals_json != NULL)
			totals_write(&d, o.totals_json);
	}
	/* its ends of the console rings go before the rings do */
	console_host_close(console);
	console = NULL;
	teardown(&d);
	rte_pdump_uninit();
	rte_eal_cleanup();
	/* the daemon is the last user of its prefix at exit */
	ion_remove_hugepage_files(eal_file_prefix(eal_argc, eal_argv));
	cfg_free(&d.cfg);
	return rc < 0 ? 1 : 0;
}
