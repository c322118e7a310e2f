/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * External fibers: a process of its own, given only its rings by a
 * claim.
 * Part of ion_ring.h, which includes it (docs: the top of ion_ring.h).
 */
#ifndef ION_FIBER_H
#define ION_FIBER_H

#include "ion_cspace.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* External fibers: a process of its own, given only its rings         */
/* ------------------------------------------------------------------ */

/*
 * A host (ionswitchd) exports a fiber of kind "external" on a UNIX socket.
 * A process claims it: the host checks the process's credentials against
 * the fiber's manifest and sends the files of the rings granted to it,
 * each mapped here with the protection its grant allows (see
 * ion_ring_map_split()): then ion_cspace_open_cons()/_prod() on f->cs,
 * exactly as a fiber inside the host does.
 *
 *	struct ion_fiber *f;
 *	struct ion_cons rx;
 *
 *	ion_fiber_attach("/run/ionswitchd/ionswitchd.fibers.sock", "app",
 *			 -1, &f, why, sizeof(why));
 *	ion_cspace_open_cons(&f->cs, 0x0602, &rx);
 *	... ion_cons_wait(&rx, 1, -1), ion_cons_slot(), ion_cons_release() ...
 *	ion_cons_close(&rx);
 *	ion_fiber_detach(f);
 *
 * A channel not granted cannot be mapped at all: asking the host for it
 * (ion_fiber_map()) is a capability fault, and the host kills the
 * process.  So is writing a page of a ring the grant maps read-only: the
 * MMU faults (SIGSEGV); attach installs a SIGSEGV handler that tells the
 * host which ring before the process dies (a handler installed before is
 * chained).  The host watches the process: when it dies its ends are
 * taken back (ion_ring_take_back()), and a new claim may restart the fiber
 * if its manifest says so.
 */

/** The host's socket for external fibers, by EAL file prefix. */
#define ION_FIBERS_SOCKET_FMT "/run/ionswitchd/%s.fibers.sock"

/** One ring of an attached external fiber. */
struct ion_fiber_ring {
	uint32_t channel;
	uint32_t perm;		 /**< the grant: ION_PERM_* */
	struct ion_ring_map map; /**< mapped as the grant allows */
	int wake_fd; /**< the host end's eventfd (a descriptor here), -1 */
};

/** An attached external fiber: what its process holds. */
struct ion_fiber {
	char name[32];
	int sock;	   /**< the claim: it lasts while this is open */
	uint32_t host_pid; /**< the host's process */
	unsigned int n_grants;
	struct {
		uint32_t channel;
		uint32_t perm;
	} grants[ION_CSPACE_SLOTS]; /**< the manifest's, as the host sent */
	unsigned int n_rings;
	struct ion_fiber_ring rings[ION_CSPACE_SLOTS];
	struct ion_cspace cs; /**< a capability for each ring mapped */
};

/**
 * Claim external fiber @p name from the host listening on @p socket_path
 * and map every ring granted to it.  @p efd: an eventfd (EFD_NONBLOCK) of
 * this process the host writes when one of its ends rings an end of ours
 * armed with ion_*_arm() (so that this process may sleep in its own
 * epoll), or -1 (ion_cons_wait()/ion_prod_wait() need none).  Waits as
 * long as the host takes: ion_fiber_attach_timeout() bounds it.
 * @return 0 and *out (free with ion_fiber_detach()); otherwise a negative
 *         errno and the host's sentence in @p why:
 *         -ENOENT no such fiber; -EPERM it runs inside the host;
 *         -EACCES this process's uid or gid may not claim it (or may not
 *         connect to the socket at all); -EBUSY claimed by another
 *         process; -ESRCH killed, and its manifest does not let it
 *         restart; -EAGAIN the host is at a limit of connections (this
 *         uid's or all of them): try again; -ECONNREFUSED, -ENOENT no
 *         host; -EPROTO and the like: not a host of this protocol.
 */
int ion_fiber_attach(const char *socket_path, const char *name, int efd,
		     struct ion_fiber **out, char *why, size_t whylen);

/**
 * ion_fiber_attach() in at most @p timeout_ms (-1: no bound): the
 * connection, the claim and every ring's mapping.  -ETIMEDOUT if the time
 * ran out, with nothing claimed.
 *
 * A client that must get its fiber retries on -EAGAIN and -ETIMEDOUT
 * (the host is busy, or flooded by another user): after 1 ms, then twice
 * as long each time up to 100 ms, with a random part so that many clients
 * do not come back together.  Every other refusal is for good until the
 * operator acts (-EBUSY: until the holder gives the fiber back).
 */
int ion_fiber_attach_timeout(const char *socket_path, const char *name, int efd,
			     int timeout_ms, struct ion_fiber **out, char *why,
			     size_t whylen);

/**
 * Ask the host for the ring of @p channel with @p perm (one not mapped
 * yet).  A grant the fiber does not hold is a capability fault: the host
 * refuses (-EACCES) and kills this process.
 * @return 0 (the ring is in f->cs), or a negative errno with @p why.
 */
int ion_fiber_map(struct ion_fiber *f, uint32_t channel, uint32_t perm,
		  char *why, size_t whylen);

/**
 * Give everything back: unmap the rings and tell the host, which takes
 * the ends back; the fiber then waits for a new claim.  Close the ends
 * opened on f->cs first.
 */
void ion_fiber_detach(struct ion_fiber *f);

#ifdef __cplusplus
}
#endif

#endif /* ION_FIBER_H */
