/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hosting external fibers: the claim server (the host's side; not
 * installed for applications).
 * Part of ion_ring.h, which includes it (docs: the top of ion_ring.h).
 */
#ifndef ION_CLAIMD_H
#define ION_CLAIMD_H

#include "ion_fiber.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Hosting external fibers: the claim server                           */
/* ------------------------------------------------------------------ */

/*
 * What a host runs to export external fibers (ionswitchd on its main
 * lcore; no DPDK needed): a UNIX socket, the manifest of each fiber, and
 * the split rings it holds grants on.  ion_claimd_poll() does everything
 * that is ready (claims, requests, deaths, deadlines) without blocking;
 * its fd (ion_claimd_fd()) is readable when there is something to do.
 *
 * Who may claim what, gate by gate:
 *  1. the socket file: mode 0660, the host's user and the group of the
 *     config (ion_claimd_conf.gid): anyone else cannot connect at all;
 *  2. the connection: a uid may have at most per_uid connections waiting
 *     to claim (more are refused with -EAGAIN), and each must send its
 *     claim within first_ms (else -ETIMEDOUT); a message that is not one
 *     of the protocol (length, magic, version, descriptors) or comes out
 *     of order is refused and its connection closed;
 *  3. the claim: the peer's SO_PEERCRED uid (and gid, if the manifest
 *     names one) must match; the fiber must not be claimed, and if it was
 *     killed its manifest must allow a restart.
 * Every refusal is answered (ION_CLAIM_ERR with its errno and a
 * sentence), counted (ion_claimd_stats()) and told to the host once
 * (ion_claimd_ops.refused), and the connection is closed; a claimant that
 * breaks the protocol is killed.
 *
 * A claim granted: the process is watched with a pidfd.  Each ring goes
 * out with the protection of its grant: the part the claimer may write as
 * a writable file, the rest read-only.  When the claim ends (the process
 * died, asked for a channel it does not hold, was killed by the host, or
 * gave its rings back), each part the claimer could write is renewed
 * (ion_ring_renew_part(): a process it forked keeps nothing the ring
 * uses) and its ends are taken back (ion_ring_take_back()).  The host's
 * own ends keep running throughout.
 */

/** ion_claimd_fiber.gid: any group may claim. */
#define ION_CLAIMD_ANY_GID UINT32_MAX
/** ion_claimd_conf.gid: the socket keeps the host's group. */
#define ION_CLAIMD_HOST_GID UINT32_MAX
/** Defaults of ion_claimd_conf (0 there means these). */
#define ION_CLAIMD_DEF_MODE	0660
#define ION_CLAIMD_DEF_PER_UID	4
#define ION_CLAIMD_DEF_FIRST_MS 200

struct ion_claimd;

/** The claim socket. */
struct ion_claimd_conf {
	const char *path;      /**< a stale socket file there is replaced */
	uint32_t mode;	       /**< the file's mode; 0: 0660 */
	uint32_t gid;	       /**< its group; ION_CLAIMD_HOST_GID: ours */
	unsigned int per_uid;  /**< connections a uid may have waiting to
				*   claim; 0: 4 */
	unsigned int first_ms; /**< a connection's claim is due within; 0:
				*   200 */
};

/** A ring an external fiber is granted. */
struct ion_claimd_grant {
	uint32_t channel;
	uint32_t perm;		  /**< ION_PERM_* */
	struct ion_ring_map *map; /**< split (ion_ring_create_split), here */
	/** the eventfd the host's end of it sleeps on, or -1 */
	int host_wake_fd;
};

/** An external fiber's manifest. */
struct ion_claimd_fiber {
	const char *name;
	/**
	 * A fiber that runs inside the host, not in a process: named only so
	 * that a claim of it is refused as such (-EPERM); nothing else here
	 * applies to it.
	 */
	int in_host;
	uint32_t uid; /**< who may claim it */
	uint32_t gid; /**< and in which group, or ION_CLAIMD_ANY_GID */
	int restart;  /**< a new claim may restart it after it was killed */
	unsigned int n_grants;
	const struct ion_claimd_grant *grants;
	void *arg; /**< for the callbacks */
};

/** Why a claim ended. */
struct ion_claimd_end {
	int killed; /**< 0: the process gave its rings back and lives on */
	int fault;  /**< a capability fault: it lacked perm on channel */
	uint32_t channel;
	uint32_t perm;
	int status;	  /**< its wait status, -1 unknown or alive */
	uint32_t skipped; /**< messages skipped on its consumer ends */
	char why[48];	  /**< one line */
};

/**
 * The claim server's counters: each refusal counted once under its
 * reason (and in refused), the errno it was answered with in brackets.
 */
struct ion_claimd_stats {
	uint64_t connections;  /**< connections accepted */
	uint64_t claims;       /**< claims granted */
	uint64_t refused;      /**< refusals: the sum of those below */
	uint64_t unknown;      /**< (ENOENT) named no fiber of the host */
	uint64_t in_host;      /**< (EPERM) named a fiber that runs in it */
	uint64_t denied;       /**< (EACCES) uid or gid not the manifest's */
	uint64_t busy;	       /**< (EBUSY) claimed by another process */
	uint64_t dead;	       /**< (ESRCH) killed, and may not restart */
	uint64_t vanished;     /**< (ESRCH) the process could not be watched */
	uint64_t bad_fd;       /**< (EINVAL) descriptors the protocol has
				*   none of, or a claim's not an eventfd */
	uint64_t bad_length;   /**< (EMSGSIZE) not a message's length */
	uint64_t bad_magic;    /**< (EPROTO) not the protocol's magic */
	uint64_t bad_version;  /**< (EPROTONOSUPPORT) another version */
	uint64_t out_of_order; /**< (EBADMSG) an operation not valid then */
	uint64_t late;	       /**< (ETIMEDOUT) no claim within first_ms */
	uint64_t uid_limit;    /**< (EAGAIN) its uid had per_uid waiting */
	uint64_t full;	       /**< (EAGAIN) every connection slot taken */
	uint64_t open;	       /**< gauge: connections open now */
};

/** What the host learns; each called from ion_claimd_poll()/_kill(). */
struct ion_claimd_ops {
	/** the fiber of @p arg was claimed by process @p pid */
	void (*claimed)(void *arg, uint32_t pid);
	/** its claim ended */
	void (*ended)(void *arg, const struct ion_claimd_end *e);
	/**
	 * A claim or a message was refused with @p err (a negative errno),
	 * @p why a sentence (a peer's name in it is made printable); @p arg
	 * is the fiber's, or NULL if it named none of the host's external
	 * fibers.  Once per refusal.
	 */
	void (*refused)(void *arg, uint32_t uid, uint32_t pid, int err,
			const char *why);
};

/**
 * Listen on @p conf->path (a SOCK_SEQPACKET UNIX socket with conf's mode
 * and group; nobody can connect before they are set).
 * @return 0 and *out, or a negative errno (-EPERM: the group could not be
 *         set).
 */
int ion_claimd_open(struct ion_claimd **out, const struct ion_claimd_conf *conf,
		    const struct ion_claimd_ops *ops);

/**
 * Export fiber @p f (copied).  Before the host opens its own ends of the
 * fiber's rings, it names ion_claimd_wake_fd() as their other end's
 * eventfd (ion_cspace_set_wake_fd()).
 * @return the fiber's index, or a negative errno.
 */
int ion_claimd_add(struct ion_claimd *d, const struct ion_claimd_fiber *f);

/**
 * The eventfd the host's ends write to wake fiber @p fiber's process: a
 * descriptor that stays open as long as @p d, standing for the claimer's
 * eventfd while a claim lasts and for nothing otherwise.
 */
int ion_claimd_wake_fd(const struct ion_claimd *d, unsigned int fiber);

/** Readable when ion_claimd_poll() has something to do (an epoll fd). */
int ion_claimd_fd(const struct ion_claimd *d);

/** Do what is ready; never blocks.  @return the events handled. */
int ion_claimd_poll(struct ion_claimd *d);

/** Its counters, from any thread (each a relaxed load). */
void ion_claimd_stats(const struct ion_claimd *d, struct ion_claimd_stats *st);

/**
 * Kill fiber @p fiber (the operator's "kill fiber"): its process, if it
 * has one, with SIGKILL, its claim ending with @p why; unclaimed, it is
 * marked killed at once.  @return 0, -EINVAL.
 */
int ion_claimd_kill(struct ion_claimd *d, unsigned int fiber, const char *why);

/** Close the socket and every claim (the processes are not killed). */
void ion_claimd_close(struct ion_claimd *d);

#ifdef __cplusplus
}
#endif

#endif /* ION_CLAIMD_H */
