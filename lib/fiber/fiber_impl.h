/* SPDX-License-Identifier: BSD-3-Clause */
/* What the kinds share inside lib/fiber; not installed. */
#ifndef FIBER_IMPL_H
#define FIBER_IMPL_H

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <rte_ether.h>
#include <rte_log.h>

#include "fiber.h"

extern int fiber_logtype;
#define FIBER_LOG(level, ...)                                                  \
	rte_log(RTE_LOG_##level, fiber_logtype, "fiber: " __VA_ARGS__)

/**
 * Write frame @p d (slot @p in) into reserved tx slot @p i with the MAC
 * addresses swapped: the reflect of every kind.  A frame longer than a tx
 * slot is cut to it.
 */
static inline void
fiber_reflect_slot(struct ion_prod *tx, uint32_t i, const uint8_t *d,
		   const struct ion_slot *in)
{
	uint8_t *o = ion_prod_data(tx, i);
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)o;
	uint32_t len = in->len;

	if (len > ion_ring_slot_size(tx->ring))
		len = ion_ring_slot_size(tx->ring);
	memcpy(o, d, len);
	if (len >= sizeof(*eh)) {
		struct rte_ether_addr a = eh->dst_addr;

		eh->dst_addr = eh->src_addr;
		eh->src_addr = a;
	}
	ion_prod_slot(tx, i)->len = len;
	ion_prod_slot(tx, i)->tag = in->tag;
}

/** A kind that reflects frames needs a tx to write them to. */
static inline int
kind_reflect_needs_tx(const struct fiber_conf *c, bool reflect, char *why,
		      size_t len)
{
	if (!reflect || c->tx != 0)
		return 0;
	snprintf(why, len,
		 "fiber '%s' reflects frames but has no 'tx' to write",
		 c->name);
	return -EINVAL;
}

/**
 * Mark @p f KILLED for @p why (its reason, shown with its counters),
 * without asking its kind to stop anything (fiber_kill() does).
 */
void fiber_set_killed(struct fiber *f, const char *why);

/* relaxed: own counter, a stats reader needs only no tearing */
#define KIND_STAT_ADD(st, field, n)                                            \
	__atomic_store_n(&(st)->field, (st)->field + (n), __ATOMIC_RELAXED)

#endif /* FIBER_IMPL_H */
