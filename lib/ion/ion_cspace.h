/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The capability space: the rings a fiber may open, and how.
 * Part of ion_ring.h, which includes it (docs: the top of ion_ring.h).
 */
#ifndef ION_CSPACE_H
#define ION_CSPACE_H

#include "ion_backing.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Capability space                                                    */
/* ------------------------------------------------------------------ */

#define ION_CSPACE_SLOTS 64u

enum ion_perm {
	ION_PERM_READ = 1u << 0,  /**< may open the consumer end */
	ION_PERM_WRITE = 1u << 1, /**< may open the producer end */
	ION_PERM_RW = ION_PERM_READ | ION_PERM_WRITE,
};

struct ion_cap {
	uint32_t channel;
	uint32_t perms; /**< enum ion_perm bits; 0 = free slot */
	struct ion_ring *ring;
	/**
	 * How the other end is woken when it sleeps on an eventfd in another
	 * process: -1 not said (looked up with pidfd_getfd(2)); else given
	 * by whoever holds that end, applied at open with
	 * ion_*_set_peer_eventfd(): a descriptor of this process for its
	 * eventfd, or ION_WAKE_NONE (futex wake-ups only).
	 */
	int wake_fd;
};

/** ion_cap.wake_fd: the other end's process is not to be reached. */
#define ION_WAKE_NONE (-2)

/** The capability a fiber lacked, recorded at each capability fault. */
struct ion_cap_fault {
	uint32_t channel;
	uint32_t perm;	/**< the permission asked for */
	uint64_t count; /**< faults so far */
};

struct ion_cspace {
	struct ion_cap caps[ION_CSPACE_SLOTS];
	uint32_t used;
	struct ion_cap_fault fault;
};

void ion_cspace_init(struct ion_cspace *cs);
/**
 * Grant @p perms on @p ring (its header names the channel).  Granting a
 * channel already held replaces its permissions.
 * @return the slot index, -ENOSPC if all 64 slots are taken, -EINVAL.
 */
int ion_cspace_grant(struct ion_cspace *cs, struct ion_ring *ring,
		     uint32_t perms);
/** The capability on @p channel, or NULL. */
const struct ion_cap *ion_cspace_lookup(const struct ion_cspace *cs,
					uint32_t channel);
/**
 * The other end of @p channel's ring is another process's, woken through
 * eventfd @p fd of this process (< 0: by futex only): ends opened through
 * this capability never look that process's eventfd up themselves.
 * @return 0 or -ENOENT.
 */
int ion_cspace_set_wake_fd(struct ion_cspace *cs, uint32_t channel, int fd);
/** Drop the capability on @p channel.  @return 0 or -ENOENT. */
int ion_cspace_revoke(struct ion_cspace *cs, uint32_t channel);
/**
 * Open the producer end of @p channel: needs WRITE.
 * @return 0; -EACCES on a capability fault (recorded in cs->fault); -EBUSY
 *         if the ring already has a producer.
 */
int ion_cspace_open_prod(struct ion_cspace *cs, uint32_t channel,
			 struct ion_prod *p);
/** Open the consumer end of @p channel: needs READ.  As above. */
int ion_cspace_open_cons(struct ion_cspace *cs, uint32_t channel,
			 struct ion_cons *c);
/** "r", "w", "rw" or "-". */
const char *ion_perm_str(uint32_t perms);

#ifdef __cplusplus
}
#endif

#endif /* ION_CSPACE_H */
