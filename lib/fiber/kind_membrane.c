/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * membrane: lwIP (lib/membrane) on the net rx/tx rings, as `ip`, with TCP
 * and UDP echo and an HTTP/1.1 server whose files come through the VFS
 * rings (docs/membrane.md).  Every ring is opened through the fiber's
 * CSpace on its first step, so a manifest that forgot one kills the fiber
 * at once, and nothing else.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_cycles.h>

#include <membrane.h>

#include "fiber_impl.h"

struct membrane_kind_params {
	uint32_t ip, netmask, gateway;
	bool echo, http;
	uint32_t http_port;
	uint32_t vfs_req, vfs_rsp;
	uint32_t max_conns, backlog, max_head, max_target, idle_timeout_ms;
	uint32_t send_timeout_ms;
	uint32_t half_open, time_wait;
};

#define P(f) offsetof(struct membrane_kind_params, f)
static const struct fiber_param membrane_params[] = {
	{"ip", FIBER_P_IPV4, P(ip), 0, 0, NULL, "its IPv4 address"},
	{"netmask", FIBER_P_IPV4, P(netmask), 0, 0, "255.255.255.0",
	 "its netmask"},
	{"gateway", FIBER_P_IPV4, P(gateway), 0, 0, "0.0.0.0",
	 "its default gateway (0.0.0.0: none)"},
	{"echo", FIBER_P_BOOL, P(echo), 0, 0, "true",
	 "TCP and UDP echo on port 7"},
	{"http", FIBER_P_BOOL, P(http), 0, 0, "true",
	 "the HTTP/1.1 server on http_port"},
	{"http_port", FIBER_P_UINT, P(http_port), 1, UINT16_MAX, "80",
	 "TCP port of the HTTP server"},
	{"vfs_req", FIBER_P_CHANNEL, P(vfs_req), 0, 0, "0",
	 "ring of its file requests to a vfs fiber"},
	{"vfs_rsp", FIBER_P_CHANNEL, P(vfs_rsp), 0, 0, "0",
	 "ring of the vfs fiber's answers"},
	{"http_max_conns", FIBER_P_UINT, P(max_conns), 1, 16384, "16384",
	 "HTTP connections served at once; more wait in the backlog"},
	{"http_backlog", FIBER_P_UINT, P(backlog), 1, 65535, "1024",
	 "HTTP connections beyond http_max_conns that wait for one to "
	 "close; more are reset"},
	{"http_max_head", FIBER_P_UINT, P(max_head), 1024, 65535, "8192",
	 "bytes of a request's head; more: 431"},
	{"http_max_target", FIBER_P_UINT, P(max_target), 64, 65503, "8000",
	 "bytes of a request target, below http_max_head - 32; more: 414"},
	{"http_idle_timeout_ms", FIBER_P_UINT, P(idle_timeout_ms), 1000,
	 3600000, "10000",
	 "a keep-alive connection idle, or a request head unfinished, this "
	 "long is closed"},
	{"http_send_timeout_ms", FIBER_P_UINT, P(send_timeout_ms), 1000,
	 3600000, "10000",
	 "a client that takes nothing of its response this long is reset"},
	{"tcp_half_open", FIBER_P_UINT, P(half_open), 64, 65535, "1024",
	 "half-open TCP connections kept (SYN received, no ACK yet); a SYN "
	 "beyond abandons the oldest quarter"},
	{"tcp_time_wait", FIBER_P_UINT, P(time_wait), 64, 65535, "1024",
	 "TCP connections kept in TIME-WAIT (the server closed first); "
	 "beyond, the oldest end early"},
};
#undef P

#define M(f, h) CTR(struct membrane_stats, f, h)
static const struct ctr_desc membrane_ctrs[] = {
	M(rx_frames, "frames read from the net rx ring"),
	M(rx_bytes, "bytes of those frames"),
	M(rx_unhandled, "dropped: not IPv4, ARP or IPv6, or UDP-Lite"),
	M(rx_malformed, "dropped before lwIP: shorter than their header"),
	M(rx_nopbuf, "dropped: no pbuf for the frame"),
	M(tx_frames, "frames written to the net tx ring"),
	M(tx_bytes, "bytes of those frames"),
	M(tx_full, "dropped: tx ring full (TCP resends)"),
	M(tx_oversize, "dropped: larger than a tx slot"),
	M(tx_stopped, "dropped: after the fiber was stopped"),
	M(tcp_echo_conns, "TCP echo connections"),
	M(tcp_echo_bytes, "TCP echo bytes"),
	M(udp_echo_datagrams, "UDP echo datagrams answered"),
	M(udp_echo_fail, "UDP echo datagrams lwIP could not send"),
	M(http_conns, "HTTP connections accepted"),
	M(http_conns_refused,
	  "HTTP connections reset: every slot and the backlog full"),
	M(http_backlog_waits, "HTTP connections that waited in the backlog "
			      "for a slot"),
	CTR_G(struct membrane_stats, http_parked,
	      "HTTP connections waiting in the backlog now"),
	M(http_requests, "HTTP requests: 2xx + 3xx + 4xx + 5xx + gone"),
	M(http_2xx, "HTTP responses 2xx"),
	M(http_4xx, "HTTP responses 4xx"),
	M(http_5xx, "HTTP responses 5xx"),
	M(http_gone, "HTTP requests whose client left before the status"),
	M(http_bytes, "HTTP body bytes queued to clients"),
	M(vfs_requests, "VFS requests sent"),
	M(vfs_ring_full, "VFS requests retried: request ring full"),
	M(vfs_orphans, "VFS answers for connections gone"),
	M(http_3xx, "HTTP responses 3xx (301, 304)"),
	M(http_206, "HTTP responses 206: a range"),
	M(http_301, "HTTP responses 301: a directory without its slash"),
	M(http_304, "HTTP responses 304: not modified"),
	M(http_408, "HTTP responses 408: a head not complete in time"),
	M(http_412, "HTTP responses 412: a precondition failed"),
	M(http_414, "HTTP responses 414: the target too long"),
	M(http_416, "HTTP responses 416: a range not satisfiable"),
	M(http_431, "HTTP responses 431: header fields too large"),
	M(http_501, "HTTP responses 501: a method or coding not implemented"),
	M(http_escapes, "HTTP targets with .. above the root (400)"),
	M(http_pipelined, "HTTP requests waiting when the one before was done"),
	M(http_idle_timeouts, "HTTP keep-alive connections closed idle"),
	M(http_send_timeouts,
	  "HTTP connections reset: the client did not read"),
	M(http_closes,
	  "HTTP connections closed by the server after a response"),
	M(http_drained_bytes, "HTTP bytes received after the server's FIN"),
	M(http_body_bytes, "HTTP request body bytes discarded"),
	M(tcp_time_wait_reused,
	  "TCP SYNs that ended lwIP's TIME-WAIT of their four-tuple"),
	M(tcp_syn_evicted, "TCP half-open connections abandoned for newer "
			   "SYNs: tcp_half_open were waiting"),
	M(tcp_time_wait_ended, "TCP TIME-WAITs ended early: tcp_time_wait "
			       "newer ones were kept"),
	M(tcp_syn_revived, "TCP half-open connections abandoned, then "
			   "brought back by their client's ACK"),
	M(lwip_link_drop, "dropped by lwIP's link layer"),
	M(lwip_arp_drop, "ARP packets lwIP dropped"),
	M(lwip_ip_drop, "IPv4 packets lwIP dropped (not ours, bad header "
			"or checksum, unknown protocol)"),
	M(lwip_ipfrag_drop, "IPv4 fragments lwIP dropped"),
	M(lwip_icmp_drop, "ICMP messages lwIP dropped"),
	M(lwip_udp_drop, "UDP datagrams lwIP dropped (no socket, checksum)"),
	M(lwip_tcp_drop, "TCP segments lwIP dropped (no connection, "
			 "checksum, out of window)"),
	M(lwip_ip6_drop, "IPv6 packets lwIP dropped"),
	M(lwip_ip6frag_drop, "IPv6 fragments lwIP dropped"),
	M(lwip_icmp6_drop, "ICMPv6 messages lwIP dropped"),
	M(lwip_nd6_drop, "neighbour discovery messages lwIP dropped"),
};
#undef M

static const struct ctr_set membrane_ctr_set =
	CTR_SET("membrane", membrane_ctrs, "membrane fiber");

struct membrane_kind_priv {
	struct membrane *m; /* atomic: created by the fiber's first step */
	struct membrane_conf conf;
	int vfs_req, vfs_rsp; /* end indexes, -1 without HTTP */
	bool req_armed;	      /* its lcore sleeps until vfs_req has room */
};

static int
membrane_check(const struct fiber_conf *c, char *why, size_t len)
{
	const struct membrane_kind_params *p = c->params;

	if (p->max_target > p->max_head - 32) {
		snprintf(why, len,
			 "fiber '%s': http_max_target %u leaves no room in "
			 "http_max_head %u (at most %u)",
			 c->name, p->max_target, p->max_head, p->max_head - 32);
		return -EINVAL;
	}
	if (p->http && (p->vfs_req == 0 || p->vfs_rsp == 0)) {
		snprintf(why, len,
			 "fiber '%s' serves HTTP but has no 'vfs_req' and "
			 "'vfs_rsp' rings to fetch files through (or set "
			 "http = false)",
			 c->name);
		return -EINVAL;
	}
	return 0;
}

static int
membrane_init(struct fiber *f, const void *params, const struct fiber_env *env)
{
	const struct membrane_kind_params *p = params;
	struct membrane_kind_priv *mp = calloc(1, sizeof(*mp));

	if (mp == NULL)
		return -ENOMEM;
	f->priv = mp;
	memcpy(mp->conf.mac, env->mac, sizeof(mp->conf.mac));
	mp->conf.ip = p->ip;
	mp->conf.netmask = p->netmask;
	mp->conf.gateway = p->gateway;
	mp->conf.echo = p->echo;
	mp->conf.http = p->http;
	mp->conf.http_port = (uint16_t)p->http_port;
	mp->conf.http_max_conns = p->max_conns;
	mp->conf.http_backlog = p->backlog;
	mp->conf.http_max_head = p->max_head;
	mp->conf.http_max_target = p->max_target;
	mp->conf.http_idle_timeout_ms = p->idle_timeout_ms;
	mp->conf.http_send_timeout_ms = p->send_timeout_ms;
	mp->conf.tcp_half_open = p->half_open;
	mp->conf.tcp_time_wait = p->time_wait;
	mp->conf.stats_json = env->stats_json;
	mp->conf.stats_prom = env->stats_prom;
	mp->conf.stats_arg = env->stats_arg;
	mp->vfs_req = mp->vfs_rsp = -1;
	if (p->http) {
		mp->vfs_req = fiber_end_add(f, p->vfs_req, ION_PERM_WRITE);
		mp->vfs_rsp = fiber_end_add(f, p->vfs_rsp, ION_PERM_READ);
	}
	return membrane_lwip_start();
}

/* Open every ring the membrane uses; -EACCES on a missing capability. */
static int
open_ends(struct fiber *f, struct membrane_kind_priv *mp)
{
	mp->conf.rx = fiber_cons(f, FIBER_RX);
	mp->conf.tx = fiber_prod(f, FIBER_TX);
	if (mp->conf.rx == NULL || mp->conf.tx == NULL)
		return -EACCES;
	if (!mp->conf.http)
		return 0;
	mp->conf.vfs_req = fiber_prod(f, (unsigned int)mp->vfs_req);
	mp->conf.vfs_rsp = fiber_cons(f, (unsigned int)mp->vfs_rsp);
	if (mp->conf.vfs_req == NULL || mp->conf.vfs_rsp == NULL)
		return -EACCES;
	return 0;
}

static struct membrane *
membrane_of(const struct fiber *f)
{
	const struct membrane_kind_priv *mp = f->priv;

	/* acquire: pairs with the step's release; a fully built membrane */
	return mp != NULL ? __atomic_load_n(&mp->m, __ATOMIC_ACQUIRE) : NULL;
}

static int
membrane_step(struct fiber *f)
{
	struct membrane_kind_priv *mp = f->priv;
	struct membrane *m = mp->m;
	unsigned int n;
	int rc;

	if (m == NULL) {
		rc = open_ends(f, mp);
		if (rc == 0)
			rc = membrane_create(&mp->conf, &m);
		if (rc < 0)
			return rc;
		__atomic_store_n(&mp->m, m, __ATOMIC_RELEASE);
	}
	n = membrane_poll(m, f->burst);
	if (n != 0) {
		struct membrane_stats st;

		membrane_stats_get(m, &st);
		/* relaxed: own counters, readers need only no tearing */
		__atomic_store_n(&f->st.frames, st.rx_frames, __ATOMIC_RELAXED);
		__atomic_store_n(&f->st.sent, st.tx_frames, __ATOMIC_RELAXED);
	}
	return (int)n;
}

/* Sleeping: file requests waiting for room in vfs_req are work once the
 * ring has room, and that room wakes the fiber. */
static struct ion_prod *
waiting_req(struct fiber *f)
{
	struct membrane_kind_priv *mp = f->priv;

	if (mp->m == NULL || mp->conf.vfs_req == NULL ||
	    !membrane_wants_vfs(mp->m))
		return NULL;
	return mp->conf.vfs_req;
}

static int
membrane_arm(struct fiber *f)
{
	struct membrane_kind_priv *mp = f->priv;
	struct ion_prod *req = waiting_req(f);
	int rc;

	if (req == NULL || ion_prod_room(req) != 0)
		return 0;
	rc = ion_prod_arm(req, 1);
	mp->req_armed = rc == 0;
	return rc;
}

static bool
membrane_ready(struct fiber *f)
{
	struct ion_prod *req = waiting_req(f);

	return req != NULL && ion_prod_room(req) != 0;
}

static void
membrane_disarm(struct fiber *f)
{
	struct membrane_kind_priv *mp = f->priv;

	if (mp->req_armed)
		ion_prod_disarm(mp->conf.vfs_req);
	mp->req_armed = false;
}

/* lwIP's next timer (a retransmit, ARP ageing): the lcore wakes for it */
static uint64_t
membrane_deadline(struct fiber *f)
{
	struct membrane_kind_priv *mp = f->priv;

	if (mp->m == NULL)
		return UINT64_MAX;
	return rte_get_timer_cycles() +
	       rte_get_timer_hz() / 1000 * membrane_timer_ms(mp->m);
}

static void
membrane_kill(struct fiber *f)
{
	struct membrane *m = membrane_of(f);

	if (m != NULL)
		membrane_stop(m); /* nothing more is sent, timers included */
}

static void
membrane_fini(struct fiber *f)
{
	struct membrane_kind_priv *mp = f->priv;

	if (mp == NULL)
		return;
	membrane_destroy(mp->m);
	free(mp);
	f->priv = NULL;
}

static void
membrane_kind_stats(const struct fiber *f, void *out)
{
	struct membrane *m = membrane_of(f);

	if (m != NULL)
		membrane_stats_get(m, out);
	else
		memset(out, 0, sizeof(struct membrane_stats));
}

const struct fiber_kind fiber_kind_membrane = {
	.name = "membrane",
	.help = "lwIP on rx/tx: ARP, ICMP, TCP, UDP; echo and HTTP, files "
		"through the VFS rings",
	.params = membrane_params,
	.n_params = RTE_DIM(membrane_params),
	.params_size = sizeof(struct membrane_kind_params),
	.needs_tx = true,
	.tx_drops = true,
	.check = membrane_check,
	.init = membrane_init,
	.step = membrane_step,
	.arm = membrane_arm,
	.ready = membrane_ready,
	.disarm = membrane_disarm,
	.deadline = membrane_deadline,
	.kill = membrane_kill,
	.fini = membrane_fini,
	/* drained: lwIP's timers (retransmits) must not send after the
	 * NetSwitch's last TX pass; the step stops running them */
	.done = membrane_kill,
	.counters = &membrane_ctr_set,
	.stats = membrane_kind_stats,
};
