/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The membrane: lwIP (Debian's source, built NO_SYS=1: lib/membrane/lwip) over
 * ION rings.  Frames from the net RX ring go into lwIP, lwIP's output goes
 * to the net TX ring; on top run TCP/UDP echo and an HTTP/1.1 server whose
 * files come through the VFS rings (docs/membrane.md).
 *
 * Threads: one.  The caller of membrane_poll() (a fiber's lcore) is
 * lwIP's only caller: it feeds frames and VFS answers and runs lwIP's
 * timers when due (membrane_timer_ms() says when), so every lwIP callback
 * and every transmit runs on that thread and the TX ring has one producer.
 * membrane_stop() and the counters may be used from any thread.
 */
#ifndef MEMBRANE_H
#define MEMBRANE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ion_ring.h>

struct membrane;

/** Render the daemon's figures as JSON into @p buf; return the length. */
typedef size_t (*membrane_stats_fn)(char *buf, size_t len, void *arg);

struct membrane_conf {
	uint8_t mac[6];
	uint32_t ip, netmask, gateway; /**< IPv4, network byte order */
	bool echo;		       /**< TCP and UDP echo on port 7 */
	bool http;		       /**< HTTP/1.1 on http_port */
	uint16_t http_port;
	struct ion_cons *rx;	      /**< net RX ring: frames for lwIP */
	struct ion_prod *tx;	      /**< net TX ring: lwIP's frames */
	struct ion_prod *vfs_req;     /**< VFS requests (http only) */
	struct ion_cons *vfs_rsp;     /**< VFS responses (http only) */
	membrane_stats_fn stats_json; /**< GET /stats, or NULL (404) */
	membrane_stats_fn stats_prom; /**< GET /metrics, or NULL (404) */
	void *stats_arg;
	/* HTTP limits; 0 takes the default (docs/membrane.md) */
	uint32_t http_max_conns;       /**< open connections: 16384,
					*   1..16384 */
	uint32_t http_backlog;	       /**< connections beyond those that wait
					*   for a slot: 1024, 1..65535 */
	uint32_t http_max_head;	       /**< request head bytes: 8192,
					*   1024..65535; over it: 431 */
	uint32_t http_max_target;      /**< request-target bytes: 8000,
					*   64..max_head - 32; over: 414 */
	uint32_t http_idle_timeout_ms; /**< keep-alive idle, unfinished head:
					*   10000, 1000..3600000 */
	uint32_t http_send_timeout_ms; /**< a client taking nothing of its
					*   response: 10000, 1000..3600000 */
	uint32_t tcp_half_open;	       /**< half-open TCP connections kept;
					*   beyond, the oldest are abandoned:
					*   1024, 64..65535 */
	uint32_t tcp_time_wait;	       /**< TCP connections kept in
					*   TIME-WAIT; beyond, the oldest end:
					*   1024, 64..65535 */
};

/** Counters; each written by lwIP's one caller (membrane_poll()'s thread). */
struct membrane_stats {
	uint64_t rx_frames, rx_bytes;
	uint64_t rx_unhandled; /**< not IPv4/ARP/IPv6 (e.g. VLAN-tagged), or
				*   UDP-Lite, which lwIP 2.1.3 asserts on */
	uint64_t rx_malformed; /**< too short for its own header: dropped
				*   before lwIP, which would read past it */
	uint64_t rx_nopbuf;    /**< no pbuf for a frame: dropped */
	uint64_t tx_frames, tx_bytes;
	uint64_t tx_full;     /**< TX ring full: dropped (TCP resends) */
	uint64_t tx_oversize; /**< larger than a TX slot: dropped */
	uint64_t tx_stopped;  /**< after membrane_stop(): dropped */
	uint64_t tcp_echo_conns, tcp_echo_bytes, udp_echo_datagrams;
	uint64_t udp_echo_fail; /**< echo datagrams lwIP could not send */
	uint64_t http_conns;
	uint64_t http_conns_refused; /**< connection table and backlog
				      *   full: reset */
	uint64_t http_backlog_waits; /**< connections that waited in the
				      *   backlog for a slot */
	uint64_t http_parked;	     /**< gauge: waiting in it now */
	uint64_t http_requests;	     /**< = 2xx + 3xx + 4xx + 5xx + gone */
	uint64_t http_2xx, http_4xx, http_5xx;
	uint64_t http_gone;  /**< client left before its status was sent */
	uint64_t http_bytes; /**< body bytes queued to clients */
	uint64_t vfs_requests;
	uint64_t vfs_ring_full; /**< VFS request ring full: retried */
	uint64_t vfs_orphans;	/**< answers for connections gone */
	/* HTTP/1.1 (docs/membrane.md); the statuses below are also in
	 * http_2xx/3xx/4xx/5xx */
	uint64_t http_3xx; /**< 301 (a directory without '/') and 304 */
	uint64_t http_206, http_301, http_304;
	uint64_t http_408; /**< head not complete within the idle timeout */
	uint64_t http_412, http_414, http_416, http_431, http_501;
	uint64_t http_escapes;	     /**< ".." above the root: 400 */
	uint64_t http_pipelined;     /**< requests already waiting when the one
				      *   before them was answered */
	uint64_t http_idle_timeouts; /**< keep-alive connections closed idle */
	uint64_t http_send_timeouts; /**< reset: the client did not read */
	uint64_t http_closes;	     /**< closed by the server after its last
				      *   response: FIN, then input drained */
	uint64_t http_drained_bytes; /**< bytes received after that FIN */
	uint64_t http_body_bytes;    /**< request body bytes discarded */
	uint64_t tcp_time_wait_reused; /**< SYNs that ended a TIME-WAIT of
					*   theirs (RFC 6191) */
	uint64_t tcp_syn_evicted;      /**< half-open connections abandoned to
					*   make room for a SYN (a flood) */
	uint64_t tcp_time_wait_ended;  /**< TIME-WAITs ended early: the
					*   newest tcp_time_wait were kept */
	uint64_t tcp_syn_revived;      /**< evicted half-open connections
					*   brought back by their ACK */
	/* lwIP's own drops (its LWIP_STATS), by layer */
	uint64_t lwip_link_drop, lwip_arp_drop, lwip_ip_drop, lwip_ipfrag_drop;
	uint64_t lwip_icmp_drop, lwip_udp_drop, lwip_tcp_drop;
	uint64_t lwip_ip6_drop, lwip_ip6frag_drop, lwip_icmp6_drop;
	uint64_t lwip_nd6_drop;
};

/**
 * Start lwIP (lwip_init(): no thread) for this process.  Once per
 * process: lwIP's state is global.  @return 0 (or the error of an earlier
 * failed start).
 */
int membrane_lwip_start(void);

/**
 * Create the membrane's netif and services on @p conf's rings (ends the
 * caller opened, through its capabilities).  At most one per process.
 * @return 0 and *@p out, or a negative errno (-EBUSY: one exists).
 */
int membrane_create(const struct membrane_conf *conf, struct membrane **out);

/**
 * Run lwIP's timers if due, then feed at most @p burst frames from the RX
 * ring and every waiting VFS answer into lwIP.  Never waits.  @return
 * frames and answers read (0 also when only timers ran).
 */
unsigned int membrane_poll(struct membrane *m, unsigned int burst);

/**
 * Milliseconds until lwIP's next timer is due (0: now): how long the
 * caller may sleep without input.
 */
uint32_t membrane_timer_ms(const struct membrane *m);

/**
 * True while file requests wait for room in the VFS request ring: the
 * next membrane_poll() sends them (a sleeping caller wakes on that room).
 */
bool membrane_wants_vfs(const struct membrane *m);

/** Frames waiting in the RX ring. */
uint32_t membrane_backlog(const struct membrane *m);

/**
 * Stop transmitting and take the netif down, from any thread (a killed
 * fiber must not touch its rings again).
 */
void membrane_stop(struct membrane *m);

/** membrane_stop(), then take the netif down and free everything, on
 *  the thread that polled it (or after that thread stopped). */
void membrane_destroy(struct membrane *m);

/** Snapshot of the counters, from any thread. */
void membrane_stats_get(const struct membrane *m, struct membrane_stats *st);

#endif /* MEMBRANE_H */
