/* SPDX-License-Identifier: BSD-3-Clause */
/* Inside lib/membrane: the state the netif and the services share. */
#ifndef MEMBRANE_IMPL_H
#define MEMBRANE_IMPL_H

#include <lwip/netif.h>

#include "membrane.h"
#include "membrane_vfs.h"

/* Counters are written by lwIP's one caller, the membrane fiber's
 * thread; relaxed stores keep a reader on another thread from tearing. */
#define MB_ADD(m, field, n)                                                    \
	__atomic_store_n(&(m)->st.field, (m)->st.field + (n), __ATOMIC_RELAXED)

struct httpd;
struct mb_syn_entry;

struct membrane {
	struct membrane_conf conf;
	struct netif netif;
	bool netif_added;
	uint32_t stopped;    /**< atomic: no more TX, no more input */
	uint32_t next_timer; /**< sys_now() of lwIP's next timer */
	uint32_t now_ms;     /**< sys_now() at the start of this round */
	uint32_t half_open;  /**< at least the half-open TCP connections */
	struct mb_syn_entry *syn_cache; /**< evicted half-open connections */
	uint32_t syn_evicted_ms;	/**< sys_now() of the last eviction */
	bool tcp_reviving; /**< lwIP's output is a revived SYN-ACK: dropped */
	struct membrane_stats st;
	struct tcp_pcb *echo_tcp;
	struct udp_pcb *echo_udp;
	struct httpd *httpd;
};

/* tcp_guard.c: what the membrane does with TCP segments before lwIP */
/** An IPv4 frame of @p len bytes, its header checked, on its way to lwIP:
 *  bound TIME-WAIT and half-open connections, bring an evicted one back. */
void mb_tcp_guard(struct membrane *m, const uint8_t *frame, uint32_t len);
/** The initial sequence number lwIP must take now, if any. */
bool mb_tcp_forced_isn(u32_t *isn);
/** After lwIP took the frame mb_tcp_guard() saw. */
void mb_tcp_guard_end(void);

/* echo.c: TCP and UDP echo on port 7 */
int mb_echo_start(struct membrane *m);
void mb_echo_stop(struct membrane *m);

/* httpd.c: HTTP/1.1, files through the VFS rings */
int mb_httpd_start(struct membrane *m);
void mb_httpd_stop(struct membrane *m);
/** One VFS answer slot for the server. */
void mb_httpd_vfs_input(struct membrane *m, const struct membrane_vfs_rsp *r,
			uint32_t len);
/** Retry work that waited for room in the VFS request ring. */
void mb_httpd_kick(struct membrane *m);
/** Whether some work waits for room in the VFS request ring. */
bool mb_httpd_wants_kick(const struct membrane *m);

#endif /* MEMBRANE_IMPL_H */
