/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The figures of the running daemon: a testpmd-style block on stdout every
 * stats period (and the totals at exit), and the same figures through DPDK
 * telemetry under /ion/ (dpdk-telemetry.py).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_telemetry.h>

#include "fiber_kinds.h"
#include "ionswitchd.h"

/* Telemetry callbacks take no argument: the daemon's wiring is here. */
static struct ionswitchd *tel_daemon;

/* Frames the NetSwitch dropped for a full or too-small ring @p ch. */
static uint64_t
ring_drops(const struct netswitch_stats *ns, uint32_t ch)
{
	uint64_t n = 0;
	unsigned int i;

	for (i = 0; i < ns->n_routes; i++)
		if (ns->route[i].channel == ch)
			n += ns->route[i].full + ns->route[i].oversize;
	return n;
}

static const char *
role_str(enum lcore_role r)
{
	static const char *const names[] = {"-", "main", "netswitch", "worker"};

	return names[r];
}

static unsigned int
pct(uint64_t part, uint64_t whole)
{
	return whole == 0 ? 0 : (unsigned int)(part * 100 / whole);
}

void
stats_snap_get(const struct ionswitchd *d, struct stats_snap *s)
{
	memset(&s->port, 0, sizeof(s->port));
	rte_eth_stats_get(d->port_id, &s->port);
	netswitch_stats_get(d->ns, &s->ns);
}

void
stats_show_port(FILE *out, const struct ionswitchd *d,
		const struct stats_snap *s, const struct stats_rates *r)
{
	const struct rte_eth_stats *ps = &s->port;
	const struct netswitch_stats *ns = &s->ns;
	unsigned int i;

	fprintf(out, "  Port %u (%s)\n", d->port_id, d->port_name);
	fprintf(out,
		"    RX-packets: %-12" PRIu64 " RX-missed: %-10" PRIu64
		" RX-errors: %-8" PRIu64 " RX-nombuf: %" PRIu64 "\n",
		ps->ipackets, ps->imissed, ps->ierrors, ps->rx_nombuf);
	fprintf(out, "    TX-packets: %-12" PRIu64 " TX-errors: %" PRIu64 "\n",
		ps->opackets, ps->oerrors);
	if (r != NULL && r->dt > 0)
		fprintf(out, "    RX-pps: %-16.0f TX-pps: %.0f\n",
			(double)(ps->ipackets - r->prev_rx) / r->dt,
			(double)(ps->opackets - r->prev_tx) / r->dt);

	fprintf(out,
		"  NetSwitch: rx %" PRIu64 "  runt %" PRIu64
		"  unknown %" PRIu64 "  tx %" PRIu64 "  tx-retry %" PRIu64
		"  tx-nombuf %" PRIu64 "  tx-pending %u\n",
		ns->rx, ns->runt, ns->unknown, ns->tx, ns->tx_retry,
		ns->tx_nombuf, ns->tx_pending);
	fprintf(out, "    %-9s %-8s %12s %12s %10s %10s\n", "ethertype", "ring",
		"rx", "delivered", "full", "oversize");
	for (i = 0; i < ns->n_routes; i++)
		fprintf(out,
			"    0x%04x    0x%04x   %12" PRIu64 " %12" PRIu64
			" %10" PRIu64 " %10" PRIu64 "\n",
			ns->route[i].ethertype, ns->route[i].channel,
			ns->route[i].rx, ns->route[i].delivered,
			ns->route[i].full, ns->route[i].oversize);
}

void
stats_show_rings(FILE *out, const struct ionswitchd *d,
		 const struct stats_snap *s)
{
	unsigned int i;

	fprintf(out, "  Rings\n    %-8s %-10s %12s %12s %10s %9s %8s %8s\n",
		"channel", "name", "enqueued", "dequeued", "dropped", "used",
		"full", "empty");
	for (i = 0; i < d->n_rings; i++) {
		struct ion_ring_stats rs;
		const struct cfg_channel *cc =
			cfg_channel(&d->cfg, d->ring_ch[i]);

		ion_ring_stats(d->rings[i], &rs);
		fprintf(out,
			"    0x%04x   %-10s %12" PRIu64 " %12" PRIu64
			" %10" PRIu64 " %4u/%-4u %8" PRIu64 " %8" PRIu64 "\n",
			d->ring_ch[i], cc != NULL ? cc->name : "", rs.enqueued,
			rs.dequeued, ring_drops(&s->ns, d->ring_ch[i]), rs.used,
			rs.capacity, rs.full, rs.empty);
	}
}

/* The netif's figures, then the services' */
static void
show_membrane(FILE *out, const struct fiber *f)
{
	struct membrane *m = fiber_membrane_get(f);
	struct membrane_stats s;

	if (m == NULL)
		return;
	membrane_stats_get(m, &s);
	fprintf(out,
		"      netif: rx %" PRIu64 " (%" PRIu64 " B) unhandled %" PRIu64
		" malformed %" PRIu64 " no-pbuf %" PRIu64 "  tx %" PRIu64
		" (%" PRIu64 " B) tx-full %" PRIu64 " oversize %" PRIu64
		" stopped %" PRIu64 "\n",
		s.rx_frames, s.rx_bytes, s.rx_unhandled, s.rx_malformed,
		s.rx_nopbuf, s.tx_frames, s.tx_bytes, s.tx_full, s.tx_oversize,
		s.tx_stopped);
	fprintf(out,
		"      echo: tcp %" PRIu64 " conns %" PRIu64 " B  udp %" PRIu64
		" (fail %" PRIu64 ")  http: conns %" PRIu64 " refused %" PRIu64
		" requests %" PRIu64 " 2xx %" PRIu64 " 4xx %" PRIu64
		" 5xx %" PRIu64 " gone %" PRIu64 " body %" PRIu64
		" B  vfs: sent %" PRIu64 " ring-full %" PRIu64 "\n",
		s.tcp_echo_conns, s.tcp_echo_bytes, s.udp_echo_datagrams,
		s.udp_echo_fail, s.http_conns, s.http_conns_refused,
		s.http_requests, s.http_2xx, s.http_4xx, s.http_5xx,
		s.http_gone, s.http_bytes, s.vfs_requests, s.vfs_ring_full);
}

static void
show_vfs(FILE *out, const struct fiber *f)
{
	struct membrane_vfs_stats s;

	if (f->priv == NULL)
		return;
	membrane_vfs_get_stats(f->priv, &s);
	fprintf(out,
		"      vfs: requests %" PRIu64 " opens %" PRIu64
		" reads %" PRIu64 " (%" PRIu64 " B) closes %" PRIu64
		" refused %" PRIu64 " not-found %" PRIu64 " denied %" PRIu64
		" emfile %" PRIu64 " bad-handle %" PRIu64
		" bad-request %" PRIu64 " errors %" PRIu64 " open %u\n",
		s.requests, s.opens, s.reads, s.bytes, s.closes, s.refused,
		s.not_found, s.denied, s.emfile, s.bad_handle, s.bad_requests,
		s.errors, s.open_files);
}

void
stats_show_fibers(FILE *out, const struct ionswitchd *d)
{
	unsigned int i;

	fprintf(out, "  Fibers\n    %-12s %-8s %5s %-8s %12s %12s  %s\n",
		"name", "kind", "lcore", "state", "frames", "sent", "fault");
	for (i = 0; i < d->n_fibers; i++) {
		const struct fiber *f = &d->fibers[i];
		enum fiber_state s = fiber_state_get(f);
		struct fiber_stats fs;
		char fault[64] = "";

		fiber_stats_get(f, &fs);
		if (s == FIBER_KILLED && f->fault.count != 0)
			snprintf(fault, sizeof(fault), "0x%04x needs %s",
				 f->fault.channel, ion_perm_str(f->fault.perm));
		fprintf(out,
			"    %-12s %-8s %5u %-8s %12" PRIu64 " %12" PRIu64
			"  %s\n",
			f->name, fiber_kind_str(f->kind), f->lcore,
			fiber_state_str(s), fs.frames, fs.sent, fault);
		if (f->kind == CFG_FIBER_LWF) {
			unsigned int r;

			fprintf(out, "      lwf:");
			for (r = 0; r < LWF_N_REASONS; r++)
				fprintf(out, " %s %" PRIu64,
					lwf_reason_str((int)r), fs.lwf[r]);
			fprintf(out,
				" not-lwf %" PRIu64 " app %" PRIu64
				" app-full %" PRIu64 "\n",
				fs.lwf[LWF_N_REASONS], fs.app, fs.app_full);
		}
		if (f->kind == CFG_FIBER_UTCP) {
			unsigned int r;

			fprintf(out, "      utcp:");
			for (r = 0; r < UTCP_N_REASONS; r++)
				fprintf(out, " %s %" PRIu64,
					utcp_reason_str((int)r), fs.utcp[r]);
			fprintf(out,
				" not-utcp %" PRIu64 " delivered %" PRIu64
				" unbound %" PRIu64 " app-full %" PRIu64 "\n",
				fs.utcp[UTCP_N_REASONS], fs.app, fs.unbound,
				fs.app_full);
		}
		if (f->kind == CFG_FIBER_MEMBRANE)
			show_membrane(out, f);
		if (f->kind == CFG_FIBER_VFS)
			show_vfs(out, f);
	}
}

static void
show_lcores(FILE *out, const struct ionswitchd *d)
{
	unsigned int l;

	fprintf(out, "  Lcores\n    %5s %-10s %6s %6s %10s\n", "lcore", "role",
		"busy", "idle", "sleeps");
	RTE_LCORE_FOREACH(l)
	{
		const struct lcore_ctx *lc = &d->lcores[l];
		uint64_t busy, idle;

		if (lc->role == ROLE_MAIN || lc->role == ROLE_NONE)
			continue;
		/* relaxed: statistics only */
		busy = __atomic_load_n(&lc->st.busy_cycles, __ATOMIC_RELAXED);
		idle = __atomic_load_n(&lc->st.idle_cycles, __ATOMIC_RELAXED);
		fprintf(out, "    %5u %-10s %5u%% %5u%% %10" PRIu64 "\n", l,
			role_str(lc->role), pct(busy, busy + idle),
			pct(idle, busy + idle),
			__atomic_load_n(&lc->st.sleeps, __ATOMIC_RELAXED));
	}
}

void
stats_print(struct ionswitchd *d, bool totals)
{
	static const char rule[] = "  ######################################"
				   "######################################\n";
	struct stats_snap s;
	uint64_t now = rte_rdtsc(), hz = rte_get_tsc_hz();
	struct stats_rates r = {
		.dt = totals ? 0 : (double)(now - d->prev_tsc) / (double)hz,
		.prev_rx = d->prev_rx,
		.prev_tx = d->prev_tx,
	};

	stats_snap_get(d, &s);
	printf("\n%s  %s after %.1f s\n", rule,
	       totals ? "ionswitchd totals" : "ionswitchd statistics",
	       (double)(now - d->start_tsc) / (double)hz);
	stats_show_port(stdout, d, &s, &r);
	d->prev_rx = s.port.ipackets;
	d->prev_tx = s.port.opackets;
	d->prev_tsc = now;
	stats_show_rings(stdout, d, &s);
	stats_show_fibers(stdout, d);
	show_lcores(stdout, d);
	printf("%s", rule);
	fflush(stdout);
}

/* ---- telemetry ---- */

static int
tel_port(const char *cmd, const char *params, struct rte_tel_data *t)
{
	struct ionswitchd *d = tel_daemon;
	struct netswitch_stats ns;
	struct rte_eth_stats ps;

	(void)cmd;
	(void)params;
	memset(&ps, 0, sizeof(ps));
	rte_eth_stats_get(d->port_id, &ps);
	netswitch_stats_get(d->ns, &ns);
	rte_tel_data_start_dict(t);
	rte_tel_data_add_dict_int(t, "port_id", d->port_id);
	rte_tel_data_add_dict_string(t, "name", d->port_name);
	rte_tel_data_add_dict_u64(t, "rx_packets", ps.ipackets);
	rte_tel_data_add_dict_u64(t, "tx_packets", ps.opackets);
	rte_tel_data_add_dict_u64(t, "rx_missed", ps.imissed);
	rte_tel_data_add_dict_u64(t, "rx_nombuf", ps.rx_nombuf);
	rte_tel_data_add_dict_u64(t, "ns_rx", ns.rx);
	rte_tel_data_add_dict_u64(t, "ns_runt", ns.runt);
	rte_tel_data_add_dict_u64(t, "ns_unknown", ns.unknown);
	rte_tel_data_add_dict_u64(t, "ns_tx", ns.tx);
	rte_tel_data_add_dict_u64(t, "ns_tx_retry", ns.tx_retry);
	rte_tel_data_add_dict_u64(t, "ns_tx_pending", ns.tx_pending);
	return 0;
}

static int
tel_routes(const char *cmd, const char *params, struct rte_tel_data *t)
{
	struct netswitch_stats ns;
	unsigned int i;

	(void)cmd;
	(void)params;
	netswitch_stats_get(tel_daemon->ns, &ns);
	rte_tel_data_start_dict(t);
	for (i = 0; i < ns.n_routes; i++) {
		struct rte_tel_data *r = rte_tel_data_alloc();
		char key[16];

		if (r == NULL)
			return -ENOMEM;
		rte_tel_data_start_dict(r);
		rte_tel_data_add_dict_int(r, "channel",
					  (int)ns.route[i].channel);
		rte_tel_data_add_dict_u64(r, "rx", ns.route[i].rx);
		rte_tel_data_add_dict_u64(r, "delivered",
					  ns.route[i].delivered);
		rte_tel_data_add_dict_u64(r, "full", ns.route[i].full);
		rte_tel_data_add_dict_u64(r, "oversize", ns.route[i].oversize);
		snprintf(key, sizeof(key), "0x%04x", ns.route[i].ethertype);
		rte_tel_data_add_dict_container(t, key, r, 0);
	}
	return 0;
}

static int
tel_rings(const char *cmd, const char *params, struct rte_tel_data *t)
{
	struct ionswitchd *d = tel_daemon;
	struct netswitch_stats ns;
	unsigned int i;

	(void)cmd;
	(void)params;
	netswitch_stats_get(d->ns, &ns);
	rte_tel_data_start_dict(t);
	for (i = 0; i < d->n_rings; i++) {
		struct rte_tel_data *r = rte_tel_data_alloc();
		struct ion_ring_stats rs;
		char key[16];

		if (r == NULL)
			return -ENOMEM;
		ion_ring_stats(d->rings[i], &rs);
		rte_tel_data_start_dict(r);
		rte_tel_data_add_dict_string(
			r, "name", cfg_channel(&d->cfg, d->ring_ch[i])->name);
		rte_tel_data_add_dict_u64(r, "enqueued", rs.enqueued);
		rte_tel_data_add_dict_u64(r, "dequeued", rs.dequeued);
		rte_tel_data_add_dict_u64(r, "dropped",
					  ring_drops(&ns, d->ring_ch[i]));
		rte_tel_data_add_dict_u64(r, "used", rs.used);
		rte_tel_data_add_dict_u64(r, "capacity", rs.capacity);
		rte_tel_data_add_dict_u64(r, "found_full", rs.full);
		rte_tel_data_add_dict_u64(r, "found_empty", rs.empty);
		snprintf(key, sizeof(key), "0x%04x", d->ring_ch[i]);
		rte_tel_data_add_dict_container(t, key, r, 0);
	}
	return 0;
}

static int
tel_fibers(const char *cmd, const char *params, struct rte_tel_data *t)
{
	struct ionswitchd *d = tel_daemon;
	unsigned int i;

	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(t);
	for (i = 0; i < d->n_fibers; i++) {
		const struct fiber *f = &d->fibers[i];
		enum fiber_state s = fiber_state_get(f);
		struct rte_tel_data *r = rte_tel_data_alloc();
		struct fiber_stats fs;

		if (r == NULL)
			return -ENOMEM;
		fiber_stats_get(f, &fs);
		rte_tel_data_start_dict(r);
		rte_tel_data_add_dict_string(r, "kind",
					     fiber_kind_str(f->kind));
		rte_tel_data_add_dict_int(r, "lcore", (int)f->lcore);
		rte_tel_data_add_dict_string(r, "state", fiber_state_str(s));
		rte_tel_data_add_dict_u64(r, "frames", fs.frames);
		rte_tel_data_add_dict_u64(r, "sent", fs.sent);
		if (f->kind == CFG_FIBER_LWF) {
			unsigned int k;

			for (k = 0; k < LWF_N_REASONS; k++)
				rte_tel_data_add_dict_u64(
					r, lwf_reason_str((int)k), fs.lwf[k]);
			rte_tel_data_add_dict_u64(r, "not-lwf",
						  fs.lwf[LWF_N_REASONS]);
			rte_tel_data_add_dict_u64(r, "app", fs.app);
			rte_tel_data_add_dict_u64(r, "app-full", fs.app_full);
		}
		if (f->kind == CFG_FIBER_UTCP) {
			unsigned int k;

			for (k = 0; k < UTCP_N_REASONS; k++)
				rte_tel_data_add_dict_u64(
					r, utcp_reason_str((int)k), fs.utcp[k]);
			rte_tel_data_add_dict_u64(r, "not-utcp",
						  fs.utcp[UTCP_N_REASONS]);
			rte_tel_data_add_dict_u64(r, "delivered", fs.app);
			rte_tel_data_add_dict_u64(r, "unbound", fs.unbound);
			rte_tel_data_add_dict_u64(r, "app-full", fs.app_full);
		}
		if (s == FIBER_KILLED && f->fault.count != 0) {
			rte_tel_data_add_dict_int(r, "fault_channel",
						  (int)f->fault.channel);
			rte_tel_data_add_dict_string(
				r, "fault_needs", ion_perm_str(f->fault.perm));
		}
		rte_tel_data_add_dict_container(t, f->name, r, 0);
	}
	return 0;
}

/* The membrane's netif and service counters, one dict */
static int
tel_membrane(const char *cmd, const char *params, struct rte_tel_data *t)
{
	static const char *const names[] = {
		"rx_frames",	      "rx_bytes",	"rx_unhandled",
		"rx_malformed",	      "rx_nopbuf",	"tx_frames",
		"tx_bytes",	      "tx_full",	"tx_oversize",
		"tx_stopped",	      "tcp_echo_conns", "tcp_echo_bytes",
		"udp_echo_datagrams", "udp_echo_fail",	"http_conns",
		"http_conns_refused", "http_requests",	"http_2xx",
		"http_4xx",	      "http_5xx",	"http_gone",
		"http_bytes",	      "vfs_requests",	"vfs_ring_full",
		"vfs_orphans",
	};
	struct ionswitchd *d = tel_daemon;
	struct membrane_stats st;
	const uint64_t *v = (const uint64_t *)&st;
	struct membrane *m = NULL;
	unsigned int i;

	(void)cmd;
	(void)params;
	/* the names follow struct membrane_stats field by field */
	RTE_BUILD_BUG_ON(sizeof(names) / sizeof(names[0]) !=
			 sizeof(st) / sizeof(uint64_t));
	for (i = 0; i < d->n_fibers && m == NULL; i++)
		if (d->fibers[i].kind == CFG_FIBER_MEMBRANE)
			m = fiber_membrane_get(&d->fibers[i]);
	rte_tel_data_start_dict(t);
	if (m == NULL)
		return 0;
	membrane_stats_get(m, &st);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		rte_tel_data_add_dict_u64(t, names[i], v[i]);
	return 0;
}

static int
tel_lcores(const char *cmd, const char *params, struct rte_tel_data *t)
{
	struct ionswitchd *d = tel_daemon;
	unsigned int l;

	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(t);
	RTE_LCORE_FOREACH(l)
	{
		const struct lcore_ctx *lc = &d->lcores[l];
		struct rte_tel_data *r;
		char key[16];

		if (lc->role == ROLE_NONE)
			continue;
		r = rte_tel_data_alloc();
		if (r == NULL)
			return -ENOMEM;
		rte_tel_data_start_dict(r);
		rte_tel_data_add_dict_string(r, "role", role_str(lc->role));
		/* relaxed: statistics only */
		rte_tel_data_add_dict_u64(
			r, "busy_cycles",
			__atomic_load_n(&lc->st.busy_cycles, __ATOMIC_RELAXED));
		rte_tel_data_add_dict_u64(
			r, "idle_cycles",
			__atomic_load_n(&lc->st.idle_cycles, __ATOMIC_RELAXED));
		rte_tel_data_add_dict_u64(
			r, "sleeps",
			__atomic_load_n(&lc->st.sleeps, __ATOMIC_RELAXED));
		snprintf(key, sizeof(key), "%u", l);
		rte_tel_data_add_dict_container(t, key, r, 0);
	}
	return 0;
}

int
stats_telemetry_register(struct ionswitchd *d)
{
	tel_daemon = d;
	if (rte_telemetry_register_cmd(
		    "/ion/port", tel_port,
		    "Port and NetSwitch counters. No parameters") < 0 ||
	    rte_telemetry_register_cmd(
		    "/ion/routes", tel_routes,
		    "Per-EtherType counters of the NetSwitch. No parameters") <
		    0 ||
	    rte_telemetry_register_cmd("/ion/rings", tel_rings,
				       "Per-ring counters. No parameters") <
		    0 ||
	    rte_telemetry_register_cmd(
		    "/ion/fibers", tel_fibers,
		    "Fiber states and counters. No parameters") < 0 ||
	    rte_telemetry_register_cmd(
		    "/ion/lcores", tel_lcores,
		    "Busy and idle cycles per lcore. No parameters") < 0 ||
	    rte_telemetry_register_cmd(
		    "/ion/membrane", tel_membrane,
		    "The membrane's netif and service counters. No "
		    "parameters") < 0)
		return -EINVAL;
	return 0;
}
