/* SPDX-License-Identifier: BSD-3-Clause */
/* The hooks lwipopts.h names, implemented by the membrane (membrane.c). */
#ifndef ION_LWIP_HOOKS_H
#define ION_LWIP_HOOKS_H

#include <lwip/ip_addr.h>

/** An initial sequence number per RFC 6528: a keyed hash of the
 *  connection's addresses and ports plus a 4-microsecond clock. */
u32_t ion_lwip_tcp_isn(const ip_addr_t *local_ip, u16_t local_port,
		       const ip_addr_t *remote_ip, u16_t remote_port);

#endif /* ION_LWIP_HOOKS_H */
