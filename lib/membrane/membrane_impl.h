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

struct membrane {
	struct membrane_conf conf;
	struct netif netif;
	bool netif_added;
	uint32_t stopped;    /**< atomic: no more TX, no more input */
	uint32_t next_timer; /**< sys_now() of lwIP's next timer */
	uint32_t half_open;  /**< at least the half-open TCP connections */
	struct membrane_stats st;
	struct tcp_pcb *echo_tcp;
	struct udp_pcb *echo_udp;
	struct httpd *httpd;
};

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
