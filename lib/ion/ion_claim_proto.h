/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The claim protocol between a host (ionswitchd) and the process that
 * claims one of its external fibers: fixed-size messages on a
 * SOCK_SEQPACKET UNIX socket, file descriptors with SCM_RIGHTS.  Private
 * to libion (ion_fiber.c is the client, ion_claimd.c the server).
 *
 *   client                             host
 *   CLAIM name [its eventfd]    ->
 *                               <-     OK pid, grants      (or ERR, close)
 *   MAP channel perm            ->     a grant it holds:
 *                               <-     RING channel perm [hdr, cons, prod
 *                                      files; the host end's eventfd]
 *                                      not granted: ERR, and the host
 *                                      kills the claimer (a capability
 *                                      fault)
 *   ... the claim lasts while the socket is open ...
 *   FAULT channel perm addr     ->     sent from its SIGSEGV handler: it
 *                                      wrote a page its grant maps
 *                                      read-only, and dies
 *   BYE                         ->     it unmapped everything: the host
 *                                      takes the ends back, the fiber
 *                                      waits for a new claim
 */
#ifndef ION_CLAIM_PROTO_H
#define ION_CLAIM_PROTO_H

#include <stdint.h>

#include "ion_ring.h"

#define ION_CLAIM_MAGIC	  0x494f4e43u /* "IONC" */
#define ION_CLAIM_VERSION 1u

enum ion_claim_op {
	ION_CLAIM_CLAIM = 1,
	ION_CLAIM_OK,
	ION_CLAIM_ERR,
	ION_CLAIM_MAP,
	ION_CLAIM_RING,
	ION_CLAIM_FAULT,
	ION_CLAIM_BYE,
};

/** RING: a descriptor of the host end's eventfd follows the three files. */
#define ION_CLAIM_F_WAKE 0x1u

/** Most descriptors one message carries: three files and an eventfd. */
#define ION_CLAIM_MAX_FDS 4

struct ion_claim_grant {
	uint32_t channel;
	uint32_t perm;
};

struct ion_claim_msg {
	uint32_t magic;
	uint16_t version;
	uint16_t op;	  /**< enum ion_claim_op */
	int32_t err;	  /**< ERR: a negative errno */
	uint32_t channel; /**< MAP, RING, FAULT */
	uint32_t perm;	  /**< MAP, RING, FAULT: ION_PERM_* */
	uint32_t pid;	  /**< OK: the host's */
	uint32_t n;	  /**< OK: grants */
	uint32_t flags;	  /**< RING: ION_CLAIM_F_* */
	uint64_t addr;	  /**< FAULT: the address written */
	char name[32];	  /**< CLAIM: the fiber */
	char text[128];	  /**< ERR: a sentence */
	struct ion_claim_grant grants[ION_CSPACE_SLOTS]; /**< OK */
};

/* Private to libion: not part of its ABI. */
#define ION_CLAIM_INTERNAL __attribute__((visibility("hidden")))

/** A message of @p op, every other field 0. */
ION_CLAIM_INTERNAL void ion_claim_msg_init(struct ion_claim_msg *m,
					   enum ion_claim_op op);

/**
 * Send @p m with @p nfd (at most ION_CLAIM_MAX_FDS) descriptors; @p flags
 * are sendmsg()'s besides MSG_NOSIGNAL.  Async-signal-safe (the claimer's
 * SIGSEGV handler sends FAULT).  @return 0 or -errno.
 */
ION_CLAIM_INTERNAL int ion_claim_send(int sock, const struct ion_claim_msg *m,
				      const int *fds, unsigned int nfd,
				      int flags);

/**
 * Receive one message and up to @p max descriptors (*nfd of them; the
 * rest closed); @p flags are recvmsg()'s (MSG_DONTWAIT).  A message that
 * is not one of this protocol has its descriptors closed and is one of
 * -EMSGSIZE (not sizeof(struct ion_claim_msg) bytes: shorter, or longer
 * and cut), -EBADF (more descriptors than fit), -EPROTO (not the magic),
 * -EPROTONOSUPPORT (another version).
 * @return 0, -EAGAIN (nothing, non-blocking), -ECONNRESET (closed), one of
 *         the above or -errno.
 */
ION_CLAIM_INTERNAL int ion_claim_recv(int sock, struct ion_claim_msg *m,
				      int *fds, unsigned int max,
				      unsigned int *nfd, int flags);

#endif /* ION_CLAIM_PROTO_H */
