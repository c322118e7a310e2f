/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * External fibers without DPDK, shared by test_claim.c and
 * test_claim_refuse.c: the test program is the host (a claim server on a
 * socket of its own, with split rings and a producer thread) and, run
 * again with --client, the processes that claim its fibers through
 * libion.
 *
 *   PROGRAM [MESSAGES]                  the tests
 *   PROGRAM --client MODE SOCK FIBER N  a claimer (claim_client())
 */
#ifndef ION_TEST_CLAIM_HOST_H
#define ION_TEST_CLAIM_HOST_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include <ion_claimd.h>
#include <ion_ring.h>

#define CH_APP	  0x0602 /* the fibers read it: the host produces */
#define CH_OUT	  0x0603 /* "app" writes it: the host consumes */
#define CH_NOT	  0x0604 /* nobody's */
#define SLOTS	  1024
#define SLOT_SIZE 64
#define BURST	  32
/* another user, and the socket's group when the tests run as root */
#define OTHER_UID 65534
#define OTHER_GID 65534
/* a group nobody here is in: fiber "grouped" wants it */
#define ODD_GID 4242

struct host {
	char sock[108];
	struct ion_claimd *d;
	struct ion_ring_map app, out;
	int app_fiber, strict_fiber;
	int prod_efd; /* the producer thread sleeps on it */
	/* what the callbacks saw */
	unsigned int claimed, refused, ended;
	uint32_t last_refused_uid, last_refused_pid, last_pid;
	int last_err;
	char last_why[160];
	void *last_refused_arg;
	struct ion_claimd_end last_end;
	/* the producer thread */
	pthread_t thr;
	uint64_t sent;
	uint32_t stop;
};

extern struct host h;

/**
 * A claim server on a socket of this process's, mode 0660 in group
 * OTHER_GID when root; fibers "app" (our uid, CH_APP read and CH_OUT
 * write, may restart if @p restart), "strict" (OTHER_UID), "grouped" (our
 * uid, ODD_GID) and "inside" (runs in the host).
 */
void host_start(int restart);
void host_stop(void);
/** The producer of CH_APP until @p target messages or produce_join(). */
void produce(uint64_t *target);
void produce_join(void);

/**
 * A claimer: this program again with --client MODE SOCK FIBER N, as @p uid
 * and @p gid (uid 0: ours), stdout to @p out_fd (-1: ours).  Another uid
 * runs a copy of the program and its libraries from the build tree,
 * staged where that uid can read them.
 */
pid_t spawn(const char *mode, const char *fiber, uint64_t n, uid_t uid,
	    gid_t gid, int out_fd);
/**
 * Serve until @p pid exits (reaping it when @p reap; a zombie otherwise)
 * and @p ended claims have ended; 60 s at most.  @return its status.
 */
int serve(pid_t pid, int reap, unsigned int ended);

/** The claimer's side (--client); its exit status. */
int claim_client(int argc, char **argv);

#endif /* ION_TEST_CLAIM_HOST_H */
