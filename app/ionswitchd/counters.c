/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Every figure of the daemon, from the counter tables (lib/ctr): the port,
 * the NetSwitch and its routes, the rings, the fibers (each kind's own set
 * comes from its kind), the lcores.  One walk, counters_emit(), feeds
 * every output: the stats block and the console (text), --totals-json and
 * GET /stats (JSON), telemetry under /ion/, GET /metrics (Prometheus).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_telemetry.h>

#include "ionswitchd.h"

#define ETH(n, f, h) CTR_AT(n, struct rte_eth_stats, f, h)
static const struct ctr_desc port_ctrs[] = {
	ETH("rx_packets", ipackets, "frames received"),
	ETH("tx_packets", opackets, "frames sent"),
	ETH("rx_bytes", ibytes, "bytes received"),
	ETH("tx_bytes", obytes, "bytes sent"),
	ETH("rx_missed", imissed, "frames the port dropped: no descriptor"),
	ETH("rx_errors", ierrors, "erroneous frames received"),
	ETH("tx_errors", oerrors, "frames the port failed to send"),
	ETH("rx_nombuf", rx_nombuf, "frames dropped: no mbuf"),
};
#undef ETH

#define NS(f, h) CTR(struct netswitch_stats, f, h)
static const struct ctr_desc netswitch_ctrs[] = {
	NS(rx, "frames received from the port"),
	NS(rx_bytes, "bytes of those frames"),
	NS(runt, "dropped: too short to classify"),
	NS(unknown, "dropped: EtherType not routed"),
	NS(tx, "frames the port accepted"),
	NS(tx_bytes, "bytes of those frames"),
	NS(tx_retry, "passes in which the port took fewer than offered"),
	NS(tx_nombuf, "passes that found the TX mbuf pool empty"),
	CTR_G(struct netswitch_stats, tx_pending,
	      "frames waiting for the port to take them"),
};
#undef NS

#define RT(f, h) CTR(struct netswitch_route_stats, f, h)
static const struct ctr_desc route_ctrs[] = {
	RT(rx, "frames of this EtherType received"),
	RT(delivered, "copied into the ring"),
	RT(full, "dropped: ring full"),
	RT(oversize, "dropped: longer than the ring's slot"),
};
#undef RT

/* A ring's figures, with the NetSwitch's drops of frames bound for it. */
struct ring_view {
	uint64_t enqueued, dequeued, dropped, found_full, found_empty,
		abandoned;
	uint32_t used, capacity;
};

#define RG(f, h) CTR(struct ring_view, f, h)
static const struct ctr_desc ring_ctrs[] = {
	RG(enqueued, "messages committed by its producer"),
	RG(dequeued, "messages released by its consumer"),
	RG(dropped, "frames the NetSwitch dropped for it (full, oversize)"),
	RG(found_full, "reserves that found no free slot"),
	RG(found_empty, "peeks that found nothing"),
	RG(abandoned, "messages skipped when the consumer's end came back "
		      "from a process that died with them peeked"),
	CTR_G(struct ring_view, used, "slots committed, not yet released"),
	CTR_G(struct ring_view, capacity, "slots"),
};
#undef RG

#define CL(f, h) CTR(struct ion_claimd_stats, f, h)
static const struct ctr_desc claims_ctrs[] = {
	CL(connections, "connections accepted on the claim socket"),
	CL(claims, "claims granted"),
	CL(refused, "claims and messages refused: the sum of the reasons "
		    "below, each answered with its errno"),
	CL(unknown, "ENOENT: the claim named no fiber of the daemon"),
	CL(in_host, "EPERM: the claim named a fiber that runs inside the "
		    "daemon"),
	CL(denied, "EACCES: the claimant's uid or gid is not its manifest's"),
	CL(busy, "EBUSY: the fiber is claimed by another process"),
	CL(dead, "ESRCH: the fiber was killed and may not restart"),
	CL(vanished, "ESRCH: the claimant could not be watched (gone)"),
	CL(bad_fd, "EINVAL: descriptors the protocol has none of, or a "
		   "claim's not an eventfd"),
	CL(bad_length, "EMSGSIZE: a message of another length"),
	CL(bad_magic, "EPROTO: not the claim protocol's magic"),
	CL(bad_version, "EPROTONOSUPPORT: another version of the protocol"),
	CL(out_of_order, "EBADMSG: an operation not valid then (before a "
			 "claim, or a second claim)"),
	CL(late, "ETIMEDOUT: no claim within claims.first_message_ms"),
	CL(uid_limit, "EAGAIN: the uid had claims.waiting_per_uid "
		      "connections waiting to claim"),
	CL(full, "EAGAIN: every connection slot was taken"),
	CTR_G(struct ion_claimd_stats, open, "connections open now"),
};
#undef CL

static const struct ctr_set port_set =
	CTR_SET("port", port_ctrs, "ethdev port");
static const struct ctr_set netswitch_set =
	CTR_SET("netswitch", netswitch_ctrs, "NetSwitch");
static const struct ctr_set route_set =
	CTR_SET("route", route_ctrs, "NetSwitch route (EtherType)");
static const struct ctr_set ring_set = CTR_SET("ring", ring_ctrs, "ION ring");
static const struct ctr_set claims_set =
	CTR_SET("claims", claims_ctrs, "claim socket of external fibers");

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

static void
emit_port(const struct ionswitchd *d, struct ctr_emit *e,
	  const struct netswitch_stats *ns)
{
	struct rte_eth_stats es;
	struct ctr_row r;
	unsigned int i;

	if (rte_eth_stats_get(d->port_id, &es) != 0)
		memset(&es, 0, sizeof(es));
	memset(&r, 0, sizeof(r));
	ctr_row_str(&r, "name", d->port_name, true);
	ctr_row_num(&r, "port_id", d->port_id, false, false);
	r.set = &port_set;
	r.base = &es;
	ctr_section(e, "port", false);
	ctr_row(e, &r);
	ctr_section_end(e);

	memset(&r, 0, sizeof(r));
	ctr_row_num(&r, "lcore", d->cfg.ns_lcore, false, false);
	r.set = &netswitch_set;
	r.base = ns;
	ctr_section(e, "netswitch", false);
	ctr_row(e, &r);
	ctr_section_end(e);

	ctr_section(e, "routes", true);
	for (i = 0; i < ns->n_routes; i++) {
		memset(&r, 0, sizeof(r));
		ctr_row_num(&r, "ethertype", ns->route[i].ethertype, true,
			    true);
		ctr_row_num(&r, "channel", ns->route[i].channel, true, true);
		r.set = &route_set;
		r.base = &ns->route[i];
		ctr_row(e, &r);
	}
	ctr_section_end(e);
}

static void
emit_rings(const struct ionswitchd *d, struct ctr_emit *e,
	   const struct netswitch_stats *ns)
{
	unsigned int i;

	ctr_section(e, "rings", true);
	for (i = 0; i < d->n_rings; i++) {
		struct ion_ring_stats rs;
		struct ring_view v;
		struct ctr_row r;

		ion_ring_stats(d->rings[i], &rs);
		v = (struct ring_view){
			.enqueued = rs.enqueued,
			.dequeued = rs.dequeued,
			.dropped = ring_drops(ns, d->ring_ch[i]),
			.found_full = rs.full,
			.found_empty = rs.empty,
			.abandoned = rs.abandoned,
			.used = rs.used,
			.capacity = rs.capacity,
		};
		memset(&r, 0, sizeof(r));
		ctr_row_num(&r, "channel", d->ring_ch[i], true, true);
		ctr_row_str(&r, "name", ionswitchd_ring_name(d, d->ring_ch[i]),
			    true);
		r.set = &ring_set;
		r.base = &v;
		ctr_row(e, &r);
	}
	ctr_section_end(e);
}

static void
emit_fibers(const struct ionswitchd *d, struct ctr_emit *e)
{
	unsigned int i;

	ctr_section(e, "fibers", true);
	for (i = 0; i < d->n_fibers; i++) {
		uint64_t kind_snap[FIBER_STATS_MAX / sizeof(uint64_t)];
		struct fiber_stats snap;
		struct ctr_row r;

		fiber_ctr_row(&d->fibers[i], &r, &snap, kind_snap);
		ctr_row(e, &r);
	}
	ctr_section_end(e);
}

static void
emit_lcores(const struct ionswitchd *d, struct ctr_emit *e)
{
	unsigned int l;

	ctr_section(e, "lcores", true);
	RTE_LCORE_FOREACH(l)
	{
		const struct fiber_lcore *lc = &d->sched.lcores[l];
		struct fiber_lcore_stats snap;
		char steps[CTR_STR_MAX] = "";
		size_t n = 0;
		unsigned int s;
		struct ctr_row r;

		if (lc->n_steps == 0)
			continue;
		for (s = 0; s < lc->n_steps && n < sizeof(steps); s++)
			n += (size_t)snprintf(steps + n, sizeof(steps) - n,
					      "%s%s", s ? "," : "",
					      lc->steps[s].name);
		ctr_copy(&snap, &lc->st, sizeof(snap));
		memset(&r, 0, sizeof(r));
		ctr_row_num(&r, "lcore", l, false, true);
		ctr_row_str(&r, "steps", steps, false);
		r.set = &fiber_lcore_ctr_set;
		r.base = &snap;
		ctr_row(e, &r);
	}
	ctr_section_end(e);
}

/* The claim server, where there are external fibers. */
static void
emit_claims(const struct ionswitchd *d, struct ctr_emit *e)
{
	struct ion_claimd_stats st;
	struct ctr_row r;

	if (d->claimd == NULL)
		return;
	ion_claimd_stats(d->claimd, &st);
	memset(&r, 0, sizeof(r));
	r.set = &claims_set;
	r.base = &st;
	ctr_section(e, "claims", false);
	ctr_row(e, &r);
	ctr_section_end(e);
}

void
counters_emit(const struct ionswitchd *d, struct ctr_emit *e, unsigned int what)
{
	struct netswitch_stats ns;

	/* read once, so that the routes and the rings' drops agree */
	netswitch_stats_get(d->ns, &ns);
	if (what & COUNTERS_PORT)
		emit_port(d, e, &ns);
	if (what & COUNTERS_RINGS)
		emit_rings(d, e, &ns);
	if (what & COUNTERS_FIBERS)
		emit_fibers(d, e);
	if (what & COUNTERS_LCORES)
		emit_lcores(d, e);
	if (what & COUNTERS_CLAIMS)
		emit_claims(d, e);
}

void
counters_print(struct ionswitchd *d, bool totals)
{
	static const char rule[] = "  ######################################"
				   "######################################\n";
	uint64_t now = rte_rdtsc(), hz = rte_get_tsc_hz();
	double dt = (double)(now - d->prev_tsc) / (double)hz;
	struct rte_eth_stats es;
	struct ctr_emit e;

	printf("\n%s  %s after %.1f s\n", rule,
	       totals ? "ionswitchd totals" : "ionswitchd statistics",
	       (double)(now - d->start_tsc) / (double)hz);
	ctr_emit_init(&e, CTR_TEXT, stdout);
	counters_emit(d, &e, COUNTERS_ALL);
	ctr_emit_end(&e);
	if (!totals && rte_eth_stats_get(d->port_id, &es) == 0 && dt > 0) {
		printf("  rates over %.1f s: rx_pps %.0f tx_pps %.0f\n", dt,
		       (double)(es.ipackets - d->prev_rx) / dt,
		       (double)(es.opackets - d->prev_tx) / dt);
		d->prev_rx = es.ipackets;
		d->prev_tx = es.opackets;
		d->prev_tsc = now;
	}
	printf("%s", rule);
	fflush(stdout);
}

static void
write_json(FILE *f, const struct ionswitchd *d)
{
	struct ctr_emit e;

	ctr_emit_init(&e, CTR_JSON, f);
	counters_emit(d, &e, COUNTERS_ALL);
	ctr_emit_end(&e);
}

void
counters_write_json(const struct ionswitchd *d, const char *path)
{
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		DLOG(ERR, "totals: %s: %s\n", path, strerror(errno));
		return;
	}
	write_json(f, d);
	if (fclose(f) != 0)
		DLOG(ERR, "totals: %s: %s\n", path, strerror(errno));
}

/* Render into @p buf through a memory stream; @p len when it did not fit
 * (fmemopen stops at len - 1). */
static size_t
render_buf(char *buf, size_t len, const struct ionswitchd *d,
	   enum ctr_format fmt)
{
	FILE *f = fmemopen(buf, len, "w");
	struct ctr_emit e;
	long n;

	if (f == NULL)
		return len; /* the caller answers 500 */
	ctr_emit_init(&e, fmt, f);
	counters_emit(d, &e, COUNTERS_ALL);
	ctr_emit_end(&e);
	n = ftell(f);
	fclose(f);
	return n < 0 || (size_t)n >= len - 1 ? len : (size_t)n;
}

size_t
counters_json_buf(char *buf, size_t len, void *d)
{
	return render_buf(buf, len, d, CTR_JSON);
}

size_t
counters_prom_buf(char *buf, size_t len, void *d)
{
	return render_buf(buf, len, d, CTR_PROM);
}

/* ---- telemetry: one command a section ---- */

/* Telemetry callbacks take no argument: the daemon's wiring is here. */
static const struct ionswitchd *tel_daemon;

static const struct {
	const char *cmd, *section;
	unsigned int what;
	const char *help;
} tel_cmds[] = {
	{"/ion/port", "port", COUNTERS_PORT, "The ethdev port's counters."},
	{"/ion/netswitch", "netswitch", COUNTERS_PORT,
	 "The NetSwitch's counters."},
	{"/ion/routes", "routes", COUNTERS_PORT,
	 "The NetSwitch's counters per EtherType."},
	{"/ion/rings", "rings", COUNTERS_RINGS, "Every ring's counters."},
	{"/ion/fibers", "fibers", COUNTERS_FIBERS,
	 "Every fiber: state and counters, its kind's nested."},
	{"/ion/lcores", "lcores", COUNTERS_LCORES,
	 "Every lcore: its steps, busy and idle cycles."},
	{"/ion/claims", "claims", COUNTERS_CLAIMS,
	 "The claim socket of external fibers: claims, refusals by reason."},
};

static int
tel_cb(const char *cmd, const char *params, struct rte_tel_data *t)
{
	struct ctr_emit e;
	unsigned int i;

	(void)params;
	for (i = 0; i < RTE_DIM(tel_cmds); i++)
		if (strcmp(cmd, tel_cmds[i].cmd) == 0)
			break;
	if (i == RTE_DIM(tel_cmds))
		return -EINVAL;
	ctr_emit_init_tel(&e, t, tel_cmds[i].section);
	counters_emit(tel_daemon, &e, tel_cmds[i].what);
	ctr_emit_end(&e);
	return 0;
}

int
counters_telemetry_register(struct ionswitchd *d)
{
	unsigned int i;

	tel_daemon = d;
	for (i = 0; i < RTE_DIM(tel_cmds); i++)
		if (rte_telemetry_register_cmd(tel_cmds[i].cmd, tel_cb,
					       tel_cmds[i].help) < 0)
			return -EINVAL;
	return 0;
}

void
counters_describe(FILE *out)
{
	const struct fiber_kind *const *k;

	ctr_describe(out, &port_set);
	ctr_describe(out, &netswitch_set);
	ctr_describe(out, &route_set);
	ctr_describe(out, &ring_set);
	ctr_describe(out, &fiber_ctr_set);
	for (k = fiber_kinds; *k != NULL; k++)
		if ((*k)->counters != NULL)
			ctr_describe(out, (*k)->counters);
	ctr_describe(out, &fiber_lcore_ctr_set);
	ctr_describe(out, &claims_set);
}
