/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The daemon's figures as one JSON document: written at exit for scripts
 * (--totals-json) and served live by the membrane's GET /stats.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "fiber_kinds.h"
#include "ionswitchd.h"

static void
json_port(FILE *f, const struct ionswitchd *d)
{
	struct rte_eth_stats es;

	if (rte_eth_stats_get(d->port_id, &es) != 0)
		memset(&es, 0, sizeof(es));
	fprintf(f,
		"\"port\": {\"name\": \"%s\", \"rx\": %" PRIu64
		", \"tx\": %" PRIu64 ", \"rx_missed\": %" PRIu64
		", \"rx_errors\": %" PRIu64 ", \"rx_nombuf\": %" PRIu64
		", \"tx_errors\": %" PRIu64 "},\n ",
		d->port_name, es.ipackets, es.opackets, es.imissed, es.ierrors,
		es.rx_nombuf, es.oerrors);
}

static void
json_membrane(FILE *f, const struct fiber *fb)
{
	struct membrane *m = fiber_membrane_get(fb);
	struct membrane_stats s;

	if (m == NULL)
		return;
	membrane_stats_get(m, &s);
	fprintf(f,
		", \"membrane\": {\"rx_frames\": %" PRIu64
		", \"rx_bytes\": %" PRIu64 ", \"rx_unhandled\": %" PRIu64
		", \"rx_malformed\": %" PRIu64 ", \"rx_nopbuf\": %" PRIu64
		", \"tx_frames\": %" PRIu64 ", \"tx_bytes\": %" PRIu64
		", \"tx_full\": %" PRIu64 ", \"tx_oversize\": %" PRIu64
		", \"tx_stopped\": %" PRIu64 ", \"tcp_echo_conns\": %" PRIu64
		", \"tcp_echo_bytes\": %" PRIu64
		", \"udp_echo_datagrams\": %" PRIu64
		", \"udp_echo_fail\": %" PRIu64 ", \"http_conns\": %" PRIu64
		", \"http_conns_refused\": %" PRIu64
		", \"http_requests\": %" PRIu64 ", \"http_gone\": %" PRIu64
		", \"http_2xx\": %" PRIu64 ", \"http_4xx\": %" PRIu64
		", \"http_5xx\": %" PRIu64 ", \"http_bytes\": %" PRIu64
		", \"vfs_requests\": %" PRIu64 ", \"vfs_ring_full\": %" PRIu64
		", \"vfs_orphans\": %" PRIu64 "}",
		s.rx_frames, s.rx_bytes, s.rx_unhandled, s.rx_malformed,
		s.rx_nopbuf, s.tx_frames, s.tx_bytes, s.tx_full, s.tx_oversize,
		s.tx_stopped, s.tcp_echo_conns, s.tcp_echo_bytes,
		s.udp_echo_datagrams, s.udp_echo_fail, s.http_conns,
		s.http_conns_refused, s.http_requests, s.http_gone, s.http_2xx,
		s.http_4xx, s.http_5xx, s.http_bytes, s.vfs_requests,
		s.vfs_ring_full, s.vfs_orphans);
}

static void
json_vfs(FILE *f, const struct fiber *fb)
{
	struct membrane_vfs_stats s;

	if (fb->priv == NULL)
		return;
	membrane_vfs_get_stats(fb->priv, &s);
	fprintf(f,
		", \"vfs\": {\"requests\": %" PRIu64 ", \"opens\": %" PRIu64
		", \"reads\": %" PRIu64 ", \"bytes\": %" PRIu64
		", \"closes\": %" PRIu64 ", \"refused\": %" PRIu64
		", \"not_found\": %" PRIu64 ", \"denied\": %" PRIu64
		", \"emfile\": %" PRIu64 ", \"bad_handle\": %" PRIu64
		", \"bad_requests\": %" PRIu64 ", \"errors\": %" PRIu64
		", \"deferred\": %" PRIu64 ", \"open_files\": %u}",
		s.requests, s.opens, s.reads, s.bytes, s.closes, s.refused,
		s.not_found, s.denied, s.emfile, s.bad_handle, s.bad_requests,
		s.errors, s.deferred, s.open_files);
}

static void
json_fiber(FILE *f, const struct fiber *fb)
{
	bool faulted =
		fiber_state_get(fb) == FIBER_KILLED && fb->fault.count != 0;
	struct fiber_stats fs;
	unsigned int k;

	fiber_stats_get(fb, &fs);
	fprintf(f,
		"{\"name\": \"%s\", \"kind\": \"%s\", \"state\": \"%s\", "
		"\"frames\": %" PRIu64 ", \"sent\": %" PRIu64
		", \"fault_channel\": %u, \"fault_needs\": \"%s\"",
		fb->name, fiber_kind_str(fb->kind),
		fiber_state_str(fiber_state_get(fb)), fs.frames, fs.sent,
		faulted ? fb->fault.channel : 0,
		faulted ? ion_perm_str(fb->fault.perm) : "");
	switch (fb->kind) {
	case CFG_FIBER_LWF:
		fprintf(f, ", \"lwf\": {");
		for (k = 0; k < LWF_N_REASONS; k++)
			fprintf(f, "\"%s\": %" PRIu64 ", ",
				lwf_reason_str((int)k), fs.lwf[k]);
		fprintf(f,
			"\"not-lwf\": %" PRIu64 "}, \"app\": %" PRIu64
			", \"app_full\": %" PRIu64,
			fs.lwf[LWF_N_REASONS], fs.app, fs.app_full);
		break;
	case CFG_FIBER_UTCP:
		fprintf(f, ", \"utcp\": {");
		for (k = 0; k < UTCP_N_REASONS; k++)
			fprintf(f, "\"%s\": %" PRIu64 ", ",
				utcp_reason_str((int)k), fs.utcp[k]);
		fprintf(f,
			"\"not-utcp\": %" PRIu64 "}, \"delivered\": %" PRIu64
			", \"unbound\": %" PRIu64 ", \"app_full\": %" PRIu64,
			fs.utcp[UTCP_N_REASONS], fs.app, fs.unbound,
			fs.app_full);
		break;
	case CFG_FIBER_MEMBRANE:
		json_membrane(f, fb);
		break;
	case CFG_FIBER_VFS:
		json_vfs(f, fb);
		break;
	default:
		break;
	}
	fprintf(f, "}");
}

void
totals_json(FILE *f, const struct ionswitchd *d)
{
	struct netswitch_stats ns;
	unsigned int i;

	netswitch_stats_get(d->ns, &ns);
	fprintf(f, "{");
	json_port(f, d);
	fprintf(f,
		"\"netswitch\": {\"rx\": %" PRIu64 ", \"runt\": %" PRIu64
		", \"unknown\": %" PRIu64 ", \"tx\": %" PRIu64
		", \"tx_pending\": %u},\n \"routes\": [",
		ns.rx, ns.runt, ns.unknown, ns.tx, ns.tx_pending);
	for (i = 0; i < ns.n_routes; i++)
		fprintf(f,
			"%s\n  {\"ethertype\": %u, \"channel\": %u, "
			"\"rx\": %" PRIu64 ", \"delivered\": %" PRIu64
			", \"full\": %" PRIu64 ", \"oversize\": %" PRIu64 "}",
			i ? "," : "", ns.route[i].ethertype,
			ns.route[i].channel, ns.route[i].rx,
			ns.route[i].delivered, ns.route[i].full,
			ns.route[i].oversize);
	fprintf(f, "],\n \"rings\": [");
	for (i = 0; i < d->n_rings; i++) {
		struct ion_ring_stats rs;

		ion_ring_stats(d->rings[i], &rs);
		fprintf(f,
			"%s\n  {\"channel\": %u, \"enqueued\": %" PRIu64
			", \"dequeued\": %" PRIu64 ", \"used\": %u, "
			"\"capacity\": %u}",
			i ? "," : "", d->ring_ch[i], rs.enqueued, rs.dequeued,
			rs.used, rs.capacity);
	}
	fprintf(f, "],\n \"fibers\": [");
	for (i = 0; i < d->n_fibers; i++) {
		fprintf(f, "%s\n  ", i ? "," : "");
		json_fiber(f, &d->fibers[i]);
	}
	fprintf(f, "]}\n");
}

void
totals_write(const struct ionswitchd *d, const char *path)
{
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		DLOG(ERR, "totals: %s: %s\n", path, strerror(errno));
		return;
	}
	totals_json(f, d);
	if (fclose(f) != 0)
		DLOG(ERR, "totals: %s: %s\n", path, strerror(errno));
}

size_t
totals_json_buf(char *buf, size_t len, void *arg)
{
	FILE *f = fmemopen(buf, len, "w");
	long n;

	if (f == NULL)
		return len; /* the caller answers 500 */
	totals_json(f, arg);
	n = ftell(f);
	fclose(f);
	/* fmemopen stops at len - 1: a full buffer means truncated */
	return n < 0 || (size_t)n >= len - 1 ? len : (size_t)n;
}
