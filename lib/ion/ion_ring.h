/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ION ring: a lock-free single-producer/single-consumer ring of fixed-size
 * slots in shared memory, plus the capability space (CSpace) through which
 * fibers open ring endpoints.
 *
 * The ring lives in one position-independent block of memory (offsets, no
 * pointers) so any process that maps it, at any address, can use it.  The
 * block is split by owner into pages, so that a process can be given the
 * pages of one end writable and the rest read-only (layout version 7):
 *
 *   +----------------------+ 0
 *   | header               |  magic, version, channel, capacity, slot size,
 *   |                      |  the parts' offsets; written once, read-only
 *   +----------------------+ 4096 (ION_RING_PAGE)
 *   | consumer's part      |  head, its counters, its doorbell and claim
 *   +----------------------+ 8192, or the huge page size of a producer
 *   | producer's part      |  part in huge pages
 *   |  +0   published      |  tail, and the stamped descriptors of the
 *   |                      |  last ION_PUB_DESCS slots (a window)
 *   |  +128 counters       |
 *   |  +256 doorbell       |  and its claim
 *   |  +384 descriptors    |  capacity x {len, tag}, 8 bytes each
 *   |  ...  slot data      |  capacity x stride; stride = 64 * k,
 *   |                      |  consecutive slots in different 4 KiB pages
 *   +----------------------+ total (a multiple of the producer's page)
 *
 * Each side writes only its own part (the header is nobody's), so a
 * WRITE grant maps the producer's part read-write and the rest read-only,
 * a READ grant the consumer's part read-write and the rest read-only, and
 * a write where the grant does not allow it faults in hardware
 * (ion_ring_map_split()).
 *
 * A slot is its descriptor and its data.  Keeping the 8-byte descriptors
 * apart from the data keeps a 64-byte message on one cache line instead
 * of two, which is what a message costs to move between cores.  A commit
 * of a few slots also copies their descriptors into a window of the last
 * ION_PUB_DESCS next to the tail it publishes, so a consumer that keeps up
 * (or runs up to that many slots behind) reads the tail's line and the
 * data, never a descriptor line the producer is still filling.
 *
 * Slots whose stride divides 4 KiB are not stored in index order: slot x
 * sits at position ion_slot_pos(x), which deals consecutive slots out over
 * the data's 4 KiB pages (slot 0 in page 0, slot 1 in page 1, ...).  A
 * consumer reading slot x then makes the hardware prefetchers fetch the
 * lines after it in the same page, which the producer writes only a round
 * of pages later, not slot x + 1, which it is writing now: fetching a line
 * the other core is writing costs both cores a transfer (see "Layout 7"
 * in docs/performance-history.md).
 *
 * The data path uses acquire loads and release stores only: no locks, no
 * compare-and-swap, no other read-modify-write atomics.  Each endpoint
 * handle (struct ion_prod, struct ion_cons) is process-local and keeps a
 * cached copy of the other side's index, so the shared line of the other
 * side is touched only when the cache says full (producer) or empty
 * (consumer).
 *
 * A side that finds nothing to do may sleep instead of polling: it arms
 * its doorbell and blocks on a futex (ion_cons_wait, ion_prod_wait) or on
 * an eventfd in its own epoll set (ion_cons_arm, ...); the other side
 * checks the doorbell after each publish and wakes it.  While nobody is
 * armed that check is one load of a line nobody writes.  See "Doorbells".
 *
 * This header and libion do not depend on DPDK; the memzone backing is in
 * ion_memzone.h (libion_dpdk).
 */
#ifndef ION_RING_H
#define ION_RING_H

/* The public API, split by concern; this umbrella includes them all but
 * the claim server's (ion_claimd.h: the host's side). */
#include "ion_ring_layout.h"
#include "ion_ring_ends.h"
#include "ion_doorbell.h"
#include "ion_backing.h"
#include "ion_cspace.h"
#include "ion_fiber.h"

#endif /* ION_RING_H */
