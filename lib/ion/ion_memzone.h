/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ION rings in DPDK memzones: hugepage-backed, created by a primary
 * process, found by name from secondary processes (libion_dpdk).
 */
#ifndef ION_MEMZONE_H
#define ION_MEMZONE_H

#include <stddef.h>
#include <stdint.h>

#include "ion_ring.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Memzone names are "ion_" then the channel id in hex: "ion_0x0500". */
#define ION_MEMZONE_PREFIX "ion_"

/** Write the memzone name of @p channel into @p buf. */
void ion_memzone_name(uint32_t channel, char *buf, size_t len);

/**
 * Create a ring in a new memzone on @p socket_id (SOCKET_ID_ANY allowed),
 * named after p->channel unless p->name is set.
 * @return 0 and *out; -EEXIST, -ENOMEM, -EINVAL (logged).
 */
int ion_memzone_create(const struct ion_ring_params *p, int socket_id,
		       struct ion_ring **out);

/**
 * Find the ring in memzone @p name and check its header against @p expect
 * (may be NULL).  Works from secondary processes.
 * @return 0 and *out; -ENOENT, or the error of ion_ring_check() (logged).
 */
int ion_memzone_lookup(const char *name, const struct ion_ring_params *expect,
		       struct ion_ring **out);

/** Free the memzone holding @p r (primary process). @return 0 or -ENOENT. */
int ion_memzone_free(struct ion_ring *r);

/**
 * Remove the hugepage files of EAL file prefix @p prefix; call after
 * rte_eal_cleanup() when no other process of that prefix is left (EAL keeps
 * them for secondary processes).
 */
void ion_remove_hugepage_files(const char *prefix);

#ifdef __cplusplus
}
#endif

#endif /* ION_MEMZONE_H */
