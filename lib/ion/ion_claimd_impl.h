/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The claim server's insides, shared by its two halves: ion_claimd.c (the
 * socket, connections, messages, refusals, deadlines) and
 * ion_claimd_fiber.c (the fibers: claims, rings, deaths, kills).  Private
 * to libion.
 */
#ifndef ION_CLAIMD_IMPL_H
#define ION_CLAIMD_IMPL_H

#include <stdint.h>

#include "ion_claim_proto.h"
#include "ion_claimd.h"
#include "ion_ring.h"

#define CLAIMD_MAX_FIBERS 64
/* every fiber's claim, and as many connections again waiting to claim */
#define CLAIMD_MAX_CONNS (2 * CLAIMD_MAX_FIBERS)

/* Why a claim or a message was refused: one entry each in ion_claimd.c's
 * table, with its errno and its counter. */
enum claimd_refusal {
	R_UNKNOWN,
	R_IN_HOST,
	R_DENIED,
	R_BUSY,
	R_DEAD,
	R_VANISHED,
	R_BAD_FD,
	R_BAD_LENGTH,
	R_BAD_MAGIC,
	R_BAD_VERSION,
	R_OUT_OF_ORDER,
	R_LATE,
	R_UID_LIMIT,
	R_FULL,
	R__COUNT
};

struct claimd_conn {
	int fd; /* -1: free */
	int pidfd;
	uint32_t pid, uid, gid;
	int fiber;	 /* claimed, or -1: waiting to claim */
	uint64_t due_ms; /* waiting: its claim is due by then */
	int killing;	 /* SIGKILL sent: its death ends the claim */
	uint64_t eof_ms; /* its socket closed then, and it lived on */
	int fault;
	uint32_t fault_channel, fault_perm;
	char why[48]; /* why it was killed */
};

enum claimd_fstate { F_IDLE, F_CLAIMED, F_KILLED };

struct claimd_fib {
	struct ion_claimd_fiber conf;
	char name[32];
	struct ion_claimd_grant grants[ION_CSPACE_SLOTS];
	enum claimd_fstate state;
	int wake_fd;  /* the slot the host's ends write; -1 in the host */
	int dummy_fd; /* what the slot holds between claims */
	struct claimd_conn *conn;
};

struct ion_claimd {
	int lfd, epfd, tfd;
	char path[108];
	struct ion_claimd_ops ops;
	unsigned int per_uid, first_ms;
	uint64_t timer_ms; /* the timer fires then; UINT64_MAX: unset */
	int deadlines_moved;
	/* written by the poller only, each word whole (relaxed): read from
	 * any thread by ion_claimd_stats() */
	struct ion_claimd_stats st;
	unsigned int n_fibers;
	struct claimd_fib fibers[CLAIMD_MAX_FIBERS];
	struct claimd_conn conns[CLAIMD_MAX_CONNS];
};

enum { EV_LISTEN, EV_CONN, EV_PID, EV_TIMER };

#define CLAIMD_INTERNAL ION_CLAIM_INTERNAL

/* ion_claimd.c */
CLAIMD_INTERNAL uint64_t claimd_now_ms(void);
CLAIMD_INTERNAL int claimd_watch(struct ion_claimd *d, int fd, uint32_t kind,
				 uint32_t idx);
CLAIMD_INTERNAL void claimd_bump(uint64_t *ctr);
/** Refuse what @c sent (@f the fiber it is about, or NULL): answer,
 * count, tell the host; then close it (waiting) or kill it (claimed). */
CLAIMD_INTERNAL void claimd_refuse(struct ion_claimd *d, struct claimd_conn *c,
				   const struct claimd_fib *f,
				   enum claimd_refusal r, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
CLAIMD_INTERNAL void claimd_conn_close(struct ion_claimd *d,
				       struct claimd_conn *c);
CLAIMD_INTERNAL void claimd_conn_kill(struct claimd_conn *c, const char *why);
CLAIMD_INTERNAL void claimd_send_err(struct claimd_conn *c, int err,
				     const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/** @p in (at most @p inlen bytes, or to its NUL) with what is not
 * printable as '?': a peer's string fit for a log line. */
CLAIMD_INTERNAL void claimd_printable(char *out, size_t outlen, const char *in,
				      size_t inlen);

/* ion_claimd_fiber.c */
/** A CLAIM from @c, with its descriptors (closed here). */
CLAIMD_INTERNAL void claimd_claim(struct ion_claimd *d, struct claimd_conn *c,
				  const struct ion_claim_msg *m, int *fds,
				  unsigned int nfd);
CLAIMD_INTERNAL void claimd_map(struct ion_claimd *d, struct claimd_conn *c,
				const struct ion_claim_msg *m);
/** The claim of @c is over: @p killed (the process is dead), or given
 * back; @c is closed. */
CLAIMD_INTERNAL void claimd_claim_end(struct ion_claimd *d,
				      struct claimd_conn *c, int killed,
				      int status);
/** The wait status of @c's process, which has exited, or -1. */
CLAIMD_INTERNAL int claimd_exit_status(const struct claimd_conn *c);
CLAIMD_INTERNAL void claimd_fibers_close(struct ion_claimd *d);

#endif /* ION_CLAIMD_IMPL_H */
