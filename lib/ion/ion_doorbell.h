/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Doorbells: a consumer or producer sleeps until the other side
 * publishes.
 * Part of ion_ring.h, which includes it (docs: the top of ion_ring.h).
 */
#ifndef ION_DOORBELL_H
#define ION_DOORBELL_H

#include "ion_ring_ends.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Doorbells: sleeping until the other side publishes                  */
/* ------------------------------------------------------------------ */

/*
 * One thread, one ring:
 *
 *	n = ion_cons_wait(c, 1, -1);      // blocks while the ring is empty
 *	... ion_cons_slot(c, i), i < n ... ion_cons_release(c, n);
 *
 * A scheduler that sleeps on several rings and other fds in one epoll
 * gives each ring's end an eventfd (one may serve many rings), then:
 *
 *	ion_cons_arm(c1); ion_prod_arm(p2, 8); ...  // the flags only
 *	ion_arm_barrier();                          // once for all of them
 *	if (ion_cons_ready(c1) || ion_prod_room(p2) >= 8 || ...)
 *		don't sleep;                        // the look again
 *	else
 *		epoll_wait(...); read the eventfd;
 *	ion_cons_disarm(c1); ion_prod_disarm(p2); ...
 *
 * The ringer rings once per arming: the futex word (ion_*_wait), or the
 * eventfd (ion_*_arm).  An eventfd in another process than the ringer's
 * is reached through pidfd_getfd(2), which needs ptrace permission over
 * the waiter's process (same user, or CAP_SYS_PTRACE); without it the
 * ringer only futex-wakes, which an epoll sleeper does not see.
 */

/**
 * Block until at least @p n (1 .. capacity) slots are committed, then peek
 * them all, as ion_cons_peek(c, UINT32_MAX) would.
 * @p timeout_ms: < 0 waits forever, 0 does not block.
 * @return slots available (>= n; slot i is ion_cons_slot(c, i)), or
 *         -ETIMEDOUT, -EINTR (a signal), -EINVAL (bad @p n).
 */
int ion_cons_wait(struct ion_cons *c, uint32_t n, int timeout_ms);

/**
 * Block until at least @p n (1 .. capacity) slots are free, then reserve
 * them all, as ion_prod_reserve(p, UINT32_MAX) would (commit fewer to
 * drop the rest).  Returns as ion_cons_wait().
 */
int ion_prod_wait(struct ion_prod *p, uint32_t n, int timeout_ms);

/**
 * Name the eventfd that ion_cons_arm() asks the producer to write, or -1
 * for none.  Not while armed.  The fd should be EFD_NONBLOCK; it stays the
 * caller's.  A producer in this process writes the fd itself: close it
 * only once that producer can no longer be in a commit that saw an arming
 * (it has stopped, or closed its end), or the write may reach whatever
 * reuses the number.  A producer in another process writes its own
 * duplicate.  @return 0, -EINVAL, -EBUSY (armed).
 */
int ion_cons_set_eventfd(struct ion_cons *c, int fd);
/** As ion_cons_set_eventfd(), for the eventfd the consumer writes. */
int ion_prod_set_eventfd(struct ion_prod *p, int fd);

/**
 * Arm the consumer's doorbell: the producer will write the eventfd at the
 * first commit that makes the ring non-empty.  Then call ion_arm_barrier()
 * and look at the ring again (ion_cons_ready) before sleeping.
 * @return 0; -EBADF if no eventfd is set; -EOPNOTSUPP if this process has
 *         no membarrier and the producer's end does not fence, so the arm
 *         could be missed (poll that ring instead).
 */
int ion_cons_arm(struct ion_cons *c);
/** As ion_cons_arm(): woken once at least @p n (1 .. capacity) are free. */
int ion_prod_arm(struct ion_prod *p, uint32_t n);

/**
 * The heavy barrier between arming and looking again, once for all the
 * rings armed: a seq_cst fence and membarrier(GLOBAL_EXPEDITED).
 * @return 0, or -ENOSYS if this process has no membarrier (only the fence
 *         was issued; the arm calls above said which rings that covers).
 */
int ion_arm_barrier(void);

/**
 * Disarm after waking (or after the look again found work).
 * @return 1 if the other side had rung (and disarmed) it, else 0.
 */
int ion_cons_disarm(struct ion_cons *c);
int ion_prod_disarm(struct ion_prod *p);

/**
 * The eventfd to write when the other side, in another process, arms its
 * doorbell to be woken by eventfd: @p fd, a descriptor of this process for
 * that eventfd (given by whoever holds the other end, e.g. over a UNIX
 * socket), which stays the caller's and must stay open while the end is.
 * @p fd < 0: none, futex wake-ups only.  Either way the end never reaches
 * into the other process with pidfd_getfd(2), whose pid and fd number it
 * would take from a page the other side writes.
 * @return 0 or -EINVAL.
 */
int ion_cons_set_peer_eventfd(struct ion_cons *c, int fd);
int ion_prod_set_peer_eventfd(struct ion_prod *p, int fd);

/** Committed slots now (loads the producer's index; counts nothing). */
static inline uint32_t
ion_cons_ready(struct ion_cons *c)
{
	/* acquire: as in peek, the slots below tail are written */
	uint32_t tail =
		(uint32_t)__atomic_load_n(&c->peer->pub.word, __ATOMIC_ACQUIRE);

	/* a tail outside the ring publishes nothing */
	if (__builtin_expect(tail - c->head <= c->mask + 1, 1))
		c->tail_cache = tail;
	return c->tail_cache - c->head;
}

/** Free slots now (loads the consumer's index; counts nothing). */
static inline uint32_t
ion_prod_room(struct ion_prod *p)
{
	/* acquire: as in reserve, the slots below head are read */
	uint32_t head = __atomic_load_n(&p->peer->head.idx, __ATOMIC_ACQUIRE);

	/* a head outside the ring frees nothing */
	if (__builtin_expect(p->tail - head <= p->capacity, 1))
		p->head_cache = head;
	return p->capacity - (p->tail - p->head_cache);
}

#ifdef __cplusplus
}
#endif

#endif /* ION_DOORBELL_H */
