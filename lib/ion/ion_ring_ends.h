/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * An ION ring's two ends: the producer's and the consumer's endpoints,
 * their burst reserve/commit and peek/release, the copy helpers, waiting.
 * Part of ion_ring.h, which includes it (docs: the top of ion_ring.h).
 */
#ifndef ION_RING_ENDS_H
#define ION_RING_ENDS_H

#include "ion_ring_layout.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Endpoints                                                           */
/* ------------------------------------------------------------------ */

/** An end's process-local doorbell state; set at open. */
struct ion_bell_local {
	uint32_t pid;  /**< this process, cached at open */
	uint8_t mb;    /**< membarrier registered: the heavy barrier works */
	uint8_t fence; /**< no membarrier: fence before the bell load */
	/** ion_*_set_peer_eventfd() was called: never pidfd_getfd(2) */
	uint8_t peer_given;
	int efd; /**< eventfd to be woken by, -1 (ion_*_set_eventfd) */
	/* ringing a waiter's eventfd that lives in another process */
	int peer_fixed;	   /**< given: write this one, -1 none */
	uint32_t peer_pid; /**< waiter's process of the cached fd, 0 none */
	uint32_t peer_gen; /**< its efd_gen */
	int peer_efd;	   /**< its fd number there */
	int peer_local;	   /**< our duplicate of it (pidfd_getfd), -1 */
};

/** Producer end: process-local state, one per ring. */
struct ion_prod {
	struct ion_ring *ring;
	struct ion_ring_prod_part *own;	       /**< written: tail, counters */
	const struct ion_ring_cons_part *peer; /**< read: head, its bell */
	struct ion_slot *desc;
	uint8_t *slots;
	uint32_t mask;
	uint32_t stride;
	uint32_t capacity;
	uint32_t tail;	     /**< next index to commit (local copy) */
	uint32_t head_cache; /**< last consumer head seen */
	uint32_t reserved;   /**< slots handed out by the last reserve */
	uint32_t pub_win;    /**< win of the published word (local copy) */
	uint32_t pub_on;     /**< capacity <= ION_PUB_MAX_CAPACITY */
	uint32_t spread;     /**< hdr.slot_spread, for ion_slot_pos() */
	uint32_t spread_shift;
	struct ion_bell_local bell;
};

/** Entries of ion_cons.pub: a power of two, at least ION_PUB_DESCS. */
#define ION_PUB_SLOTS ION_PUB_DESCS

/** Consumer end: process-local state, one per ring. */
struct ion_cons {
	struct ion_ring *ring;
	struct ion_ring_cons_part *own;	       /**< written: head, counters */
	const struct ion_ring_prod_part *peer; /**< read: tail, its bell */
	const struct ion_slot *desc;	       /**< the shared descriptors */
	const struct ion_slot *view; /**< ion_cons_slot()'s: desc, or pub */
	const uint8_t *slots;
	uint32_t mask;
	uint32_t view_mask; /**< mask, or ION_PUB_SLOTS - 1 */
	uint32_t stride;
	uint32_t slot_size;
	uint32_t head;	     /**< next index to release (local copy) */
	uint32_t tail_cache; /**< last producer tail seen */
	uint32_t peeked;     /**< slots handed out by the last peek */
	uint32_t pub_first;  /**< pub[] holds slots pub_first .. */
	uint32_t pub_tail;   /**< .. pub_tail - 1, lengths bounded */
	uint32_t spread;     /**< hdr.slot_spread, for ion_slot_pos() */
	uint32_t spread_shift;
	/* pacing (ion_cons_set_hold()): */
	uint32_t hold_cycles; /**< 0: off */
	uint32_t streak;      /**< quick arrivals in a row */
	uint64_t empty_at; /**< cycles when found empty, 0, or ION_AFTER_HOLD */
	uint64_t hold_until; /**< cycles, 0: not holding */
	struct ion_bell_local bell;
	/** the producer's published descriptors, copied: slot s at
	 * s % ION_PUB_SLOTS */
	struct ion_slot pub[ION_PUB_SLOTS];
};

/**
 * Claim the producer end of @p r for this process.  Control path only.
 * The first open in a process registers it for the doorbells' heavy
 * barrier (membarrier MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED); where that
 * fails, the end fences instead (see "Doorbells").  ION_NO_MEMBARRIER=1
 * in the environment at the first open turns membarrier off for the
 * process; at a later open, for that end only.
 * @return 0, or -EBUSY if a live producer already holds it, -EBADMSG if the
 *         ring's header is not valid.
 */
int ion_prod_open(struct ion_prod *p, struct ion_ring *r);
/** Give the producer end back. */
void ion_prod_close(struct ion_prod *p);
/** As ion_prod_open(), for the consumer end (pacing off). */
int ion_cons_open(struct ion_cons *c, struct ion_ring *r);
void ion_cons_close(struct ion_cons *c);
/**
 * Pacing of ion_cons_peek(): in a stream of messages that keep arriving
 * just after the ring was found empty, a peek that finds it empty does not
 * look at the producer's line again for up to @p cycles (CPU cycle counter
 * ticks), so that the producer gets ahead and both sides stop trading the
 * same cache lines; a request and its answer never start a stream.  Capped
 * at 16 cycles a slot of the ring, so that a small ring does not fill
 * while the consumer holds off.  0 turns it off: every peek that finds
 * nothing cached reads the producer's line (the default).  For a consumer
 * on its own core: one that shares a thread with its producer gains
 * nothing and may find a message it just saw committed not there yet.
 * See "Pacing" in docs/ion-ring.md.
 */
void ion_cons_set_hold(struct ion_cons *c, uint32_t cycles);

/* Memory ordering, in one place:
 *  - the producer writes slot contents, then store-releases tail;
 *    the consumer load-acquires tail, then reads the slots below it.
 *  - the consumer reads slot contents, then store-releases head;
 *    the producer load-acquires head, then overwrites slots below it.
 * Each index has exactly one writer, so no read-modify-write is needed.
 * Counters are written by their own side with relaxed stores so that a
 * stats reader on another core sees a torn-free value.  The message counts
 * are the indices themselves (see ion_ring_ctrs.ops_base), so a commit or
 * a release writes nothing but its index.
 *
 * Descriptors published with the tail (each entry stamped with its slot):
 *  - producer, committing n <= ION_PUB_DESCS slots: store each entry
 *    (relaxed), then store-release the word with the new tail and win =
 *    min(win + n, ION_PUB_DESCS).  A commit of more slots publishes win
 *    = 0 and writes no entry.  No entry is ever half-written (one 64-bit
 *    store), so nothing marks an overwrite in progress.
 *  - consumer: load-acquire the word (the entries of the slots it covers
 *    were stored before it); if head .. tail is inside the window, load
 *    each entry and keep it while its stamp names its slot.  A stamp that
 *    differs is a later slot's entry (the producer moved on meanwhile);
 *    from there the consumer reads the descriptor array instead,
 *    published by the same acquire.  An entry ION_PUB_MAX_CAPACITY slots
 *    later would carry the same stamp, but the producer cannot get that
 *    far ahead of the consumer's head in a ring that publishes entries.
 *
 * Doorbells (a store-buffering / Dekker pair, made asymmetric):
 *  - waiter (about to sleep):  store its own bell.armed; HEAVY BARRIER;
 *                              load the ringer's index; block only if it
 *                              is still short of the target.
 *  - ringer (after a publish): store-release its index; LIGHT BARRIER;
 *                              load the waiter's bell.armed; ring if it is
 *                              armed with a sequence it has not rung.
 *  Without barriers each side's load may pass its own store (x86 store
 *  buffer included) and both see the old values: the waiter sleeps on a
 *  ring that has work and the ringer does not ring: a lost wake-up.
 *  - Default: HEAVY = seq_cst fence + membarrier(GLOBAL_EXPEDITED), LIGHT
 *    = compiler barrier (atomic_signal_fence).  membarrier runs a full
 *    barrier on every CPU that is running a thread of a registered process
 *    (every process that opened a ring end registered), and a thread that
 *    is not running passes one at its context switch.  So the ringer's
 *    execution is cut at one point by a full barrier: if its index store
 *    is before that point, the waiter's load after membarrier sees it; if
 *    not, its bell load is after the point too and sees the waiter's arm,
 *    which was before membarrier.  Either the waiter does not block, or
 *    the ringer rings.  The compiler barrier keeps the compiler from
 *    hoisting the bell load above the index store (release does not).
 *    The ringer pays one relaxed load per burst, no fence.
 *  - Fallback (membarrier unavailable in the ringer's process, decided per
 *    end at open): LIGHT = seq_cst fence.  Two seq_cst fences forbid the
 *    store-buffering outcome: the plain Dekker argument.  The waiter always
 *    issues its seq_cst fence, so it pairs with either kind of ringer.
 *  - The block itself cannot lose the ring either: the futex word is the
 *    ringer's index, and FUTEX_WAIT sleeps only if the word still holds
 *    the value the waiter saw after its barrier (a publish in between
 *    makes it return at once); FUTEX_WAKE after the publish finds the
 *    waiter queued or finds it not yet comparing.
 *  - Each side writes only its own part, so the doorbell word is not
 *    shared: the waiter owns armed and bumps its sequence at each arm;
 *    the ringer owns rung, the sequence it last rang, and rings an arming
 *    only while rung differs from it, then stores rung (one ringer per
 *    ring: no compare-and-swap).  So a sleeper is rung at most once per
 *    arming, and only once the ringer's index reaches the target in armed
 *    (a waiter for n slots is not woken n times).  The ringer loads armed
 *    again with acquire before ringing: it pairs with the waiter's
 *    release arm, so the waiter's eventfd fields are seen.  A ring that
 *    crosses a disarm wakes a waiter that no longer sleeps: a spurious
 *    wake-up, never a lost one.  The waiter picks a new sequence that
 *    differs from rung, so an arming is never taken for one already rung.
 *  - A waiter without membarrier facing a ringer that does not fence
 *    (the ringer's bell.fences == 0: processes that disagree) cannot be
 *    sure to be seen: ion_*_arm refuses it, ion_*_wait sleeps in 1 ms
 *    slices.
 */

/*
 * A full (seq_cst) fence.  ThreadSanitizer does not model fences, and GCC
 * says so (-Wtsan); it does not reorder memory either, and no data
 * depends on this fence (data goes through the acquire/release indices),
 * so under TSan the warning is silenced and the fence kept.
 */
static inline void
ion_full_fence(void)
{
#if defined(__SANITIZE_THREAD__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wtsan"
#endif
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
#if defined(__SANITIZE_THREAD__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
}

/** Doorbell slow paths, called from the inline publishes below only. */
void ion_prod_bell_slow(struct ion_prod *p, uint64_t armed);
void ion_cons_bell_slow(struct ion_cons *c, uint64_t armed);

/*
 * After a publish: the other side's doorbell word; its flags are 0 unless
 * it is armed.  @fence is the end's bell.fence, read before the publish so
 * that it and the pointers stay in registers across the compiler barrier.
 */
static inline uint64_t
ion_bell_armed(const struct ion_ring_bell *b, int fence)
{
	if (__builtin_expect(fence, 0))
		/* seq_cst: no membarrier here, so a full Dekker fence */
		ion_full_fence();
	else
		/* compiler only: the waiter's membarrier is our barrier */
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
	/* relaxed: ordered after the index store by the barrier above */
	return __atomic_load_n(&b->armed, __ATOMIC_RELAXED);
}

/** Fold @p idx, this side's published index, into its ops counter. */
void ion_ctrs_fold(struct ion_ring_ctrs *s, uint32_t idx);

/** The ops pair that ion_ring_ctrs.ops_gen @p gen selects. */
static inline unsigned int
ion_ctrs_pair(uint32_t gen)
{
	return (gen >> 1) & 1;
}

/*
 * At a refresh (at least once a lap): fold the ops counter once half the
 * index space has passed its mark.
 */
static inline void
ion_ctrs_check_fold(struct ion_ring_ctrs *s, uint32_t idx)
{
	/* relaxed: this side wrote both */
	uint32_t gen = __atomic_load_n(&s->ops_gen, __ATOMIC_RELAXED);
	uint32_t mark = __atomic_load_n(&s->ops_mark[ion_ctrs_pair(gen)],
					__ATOMIC_RELAXED);

	if (__builtin_expect(idx - mark >= ION_OPS_FOLD, 0))
		ion_ctrs_fold(s, idx);
}

/* Out of line of the fast paths: a side that finds nothing counts it. */
static inline void
ion_prod_found_full(struct ion_prod *p)
{
	struct ion_ring_ctrs *s = &p->own->ctrs;

	/* relaxed: own counter, readers need only no tearing */
	__atomic_store_n(&s->stalls, s->stalls + 1, __ATOMIC_RELAXED);
}

static inline void
ion_cons_found_empty(struct ion_cons *c)
{
	struct ion_ring_ctrs *s = &c->own->ctrs;

	/* relaxed: own counter, readers need only no tearing */
	__atomic_store_n(&s->stalls, s->stalls + 1, __ATOMIC_RELAXED);
}

/**
 * Reserve up to @p n slots for writing.  Never blocks.
 * @return slots reserved, 0 .. n.  Slot i of the reservation is
 *         ion_prod_slot(p, i).  A new reserve replaces the previous one.
 */
static inline uint32_t
ion_prod_reserve(struct ion_prod *p, uint32_t n)
{
	uint32_t free_slots = p->capacity - (p->tail - p->head_cache);

	if (__builtin_expect(free_slots < n, 0)) {
		/* acquire: the consumer is done reading the slots it released
		 */
		uint32_t head =
			__atomic_load_n(&p->peer->head.idx, __ATOMIC_ACQUIRE);

		/* a head outside the ring (a consumer in another process
		 * wrote garbage) frees nothing */
		if (__builtin_expect(p->tail - head <= p->capacity, 1))
			p->head_cache = head;
		ion_ctrs_check_fold(&p->own->ctrs, p->tail);
		free_slots = p->capacity - (p->tail - p->head_cache);
		if (free_slots < n) {
			n = free_slots;
			if (n == 0)
				ion_prod_found_full(p);
		}
	}
	p->reserved = n;
	return n;
}

/** Descriptor of slot @p i (0 .. reserved-1) of the current reservation. */
static inline struct ion_slot *
ion_prod_slot(const struct ion_prod *p, uint32_t i)
{
	return &p->desc[(p->tail + i) & p->mask];
}

/** Data of slot @p i of the current reservation: slot_size bytes. */
static inline uint8_t *
ion_prod_data(const struct ion_prod *p, uint32_t i)
{
	uint32_t pos = ion_slot_pos((p->tail + i) & p->mask, p->spread,
				    p->spread_shift);

	return p->slots + (size_t)pos * p->stride;
}

/* The published entry of descriptor @d, slot @slot (see ION_PUB_LEN_BITS). */
static inline uint64_t
ion_pub_entry(const struct ion_slot *d, uint32_t slot)
{
	/* two loads as the user's two stores: an 8-byte load of a 4-byte
	 * store would wait for that store to reach the cache */
	uint32_t len = __atomic_load_n(&d->len, __ATOMIC_RELAXED);
	uint32_t tag = __atomic_load_n(&d->tag, __ATOMIC_RELAXED);

	/* the consumer bounds it anyway; this keeps it in its 21 bits */
	if (__builtin_expect(len > ION_RING_MAX_SLOT_SIZE, 0))
		len = ION_RING_MAX_SLOT_SIZE;
	return (uint64_t)tag << 32 |
	       (uint64_t)((slot / ION_PUB_DESCS) & ION_PUB_STAMP_MASK)
		       << ION_PUB_LEN_BITS |
	       len;
}

/**
 * Publish the first @p n reserved slots (n <= reserved) to the consumer.
 * Committing fewer than reserved drops the rest of the reservation.
 */
static inline void
ion_prod_commit(struct ion_prod *p, uint32_t n)
{
	struct ion_ring_prod_part *own = p->own;
	const struct ion_ring_cons_part *peer = p->peer;
	int fence = p->bell.fence;
	uint32_t first = p->tail, k;
	uint64_t armed;

	p->tail += n;
	p->reserved = 0;
	if (__builtin_expect(n - 1 < ION_PUB_DESCS && p->pub_on, 1)) {
		for (k = 0; k < n; k++) {
			uint32_t slot = first + k;

			/* relaxed: the word's release below publishes it */
			__atomic_store_n(
				&own->pub.desc[slot & (ION_PUB_DESCS - 1)],
				ion_pub_entry(&p->desc[slot & p->mask], slot),
				__ATOMIC_RELAXED);
		}
		p->pub_win = p->pub_win + n < ION_PUB_DESCS ? p->pub_win + n
							    : ION_PUB_DESCS;
	} else {
		p->pub_win = 0; /* no entry written, none published */
	}
	/* release: slot writes above are visible before the new tail */
	__atomic_store_n(&own->pub.word, (uint64_t)p->pub_win << 32 | p->tail,
			 __ATOMIC_RELEASE);
	/* the one extra load per burst: a consumer asleep on empty? */
	armed = ion_bell_armed(&peer->bell, fence);
	if (__builtin_expect((armed & ION_BELL_FLAGS) != 0, 0))
		ion_prod_bell_slow(p, armed);
	/* ask now for the lines of the slots a few ahead (as many as this
	 * commit's), once the consumer is done with them, so that taking them
	 * from the consumer's cache overlaps the next commits instead of
	 * stalling the stores that fill them */
	for (k = 0; k < n && k < ION_PROD_PREFETCH_MAX; k++)
		if (p->tail + ION_PROD_PREFETCH + k - p->head_cache <=
		    p->capacity)
			__builtin_prefetch(
				ion_prod_data(p, ION_PROD_PREFETCH + k), 1, 3);
}

/*
 * The published word's window holds slots head .. @tail - 1: copy their
 * entries into c->pub while each names its slot (lengths bounded by the
 * slot size); the copies cover head up to the first that does not.
 */
static inline void
ion_cons_copy_pub(struct ion_cons *c, uint32_t tail)
{
	const struct ion_ring_pub *pub = &c->peer->pub;
	uint32_t slot;

	for (slot = c->head; slot != tail; slot++) {
		/* relaxed: the word's acquire published the entry; a later
		 * one shows in its stamp */
		uint64_t e =
			__atomic_load_n(&pub->desc[slot & (ION_PUB_DESCS - 1)],
					__ATOMIC_RELAXED);
		struct ion_slot *s = &c->pub[slot & (ION_PUB_SLOTS - 1)];
		uint32_t len = (uint32_t)e & ((1u << ION_PUB_LEN_BITS) - 1);

		if (((uint32_t)e >> ION_PUB_LEN_BITS) !=
		    ((slot / ION_PUB_DESCS) & ION_PUB_STAMP_MASK))
			break;
		s->len = len <= c->slot_size ? len : c->slot_size;
		s->tag = (uint32_t)(e >> 32);
	}
	c->pub_first = c->head;
	c->pub_tail = slot;
}

/* Load the producer's tail (and the descriptors it published with it). */
static inline uint32_t
ion_cons_refresh(struct ion_cons *c)
{
	/* acquire: slot contents written before this tail are visible */
	uint64_t w = __atomic_load_n(&c->peer->pub.word, __ATOMIC_ACQUIRE);
	uint32_t tail = (uint32_t)w;

	/* a tail outside the ring (a producer in another process wrote
	 * garbage) publishes nothing */
	if (__builtin_expect(tail - c->head > c->mask + 1, 0))
		return c->tail_cache - c->head;
	c->tail_cache = tail;
	ion_ctrs_check_fold(&c->own->ctrs, c->head);
	/* the copies are refreshed at least once a lap: never stale */
	c->pub_first = c->pub_tail = c->head;
	/* its window holds head .. tail: a consumer that keeps up (in a
	 * ring that publishes entries: a larger one's stamps may repeat) */
	if (tail - c->head - 1 < (uint32_t)(w >> 32) &&
	    (uint32_t)(w >> 32) <= ION_PUB_DESCS &&
	    c->mask < ION_PUB_MAX_CAPACITY)
		ion_cons_copy_pub(c, tail);
	return tail - c->head;
}

/* Peek @n slots: where ion_cons_slot() reads them, and what a take-back
 * skips should this process die now. */
static inline void
ion_cons_set_view(struct ion_cons *c, uint32_t n)
{
	/* the copies cover the peek: no descriptor line is read */
	if (c->head + n - c->pub_first <= c->pub_tail - c->pub_first) {
		c->view = c->pub;
		c->view_mask = ION_PUB_SLOTS - 1;
	} else {
		c->view = c->desc;
		c->view_mask = c->mask;
	}
	/* relaxed: own line; read only after this process is gone */
	__atomic_store_n(&c->own->ctrs.reading, c->head + n, __ATOMIC_RELAXED);
	c->peeked = n;
}

/*
 * Pacing.  A consumer that keeps up with a producer sending one message at
 * a time reads the producer's tail line and the message's line while the
 * producer writes the next ones: every message then costs both lines a
 * round trip between the cores.  Once messages keep arriving within
 * an eighth of the hold (ION_HOLD_QUICK) of finding the ring empty
 * (ION_HOLD_STREAK times in a row: a stream, not a request and its
 * answer, which takes a round trip), a peek that finds the
 * ring empty holds off reading the producer's line for hold_cycles, and
 * the producer fills slots the consumer is not reading.  A hold after
 * which the ring is still empty ends the stream.
 */
#define ION_HOLD_QUICK	8u
#define ION_HOLD_STREAK 4u
/** What ion-bench sets with ion_cons_set_hold(): about 2 us at 2 GHz. */
#define ION_HOLD_CYCLES 4096u
/** ion_cons.empty_at: the last hold just ended. */
#define ION_AFTER_HOLD 1u

/* The CPU's cycle counter, or 0 where there is none (pacing is off). */
static inline uint64_t
ion_cycles(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __builtin_ia32_rdtsc();
#elif defined(__aarch64__)
	uint64_t v;

	__asm__ volatile("mrs %0, cntvct_el0" : "=r"(v));
	return v;
#else
	return 0;
#endif
}

/* Is the consumer holding off?  Ends a hold that is over. */
static inline int
ion_cons_holding(struct ion_cons *c)
{
	if (c->hold_until == 0)
		return 0;
	if ((int64_t)(ion_cycles() - c->hold_until) < 0)
		return 1;
	c->hold_until = 0;
	c->empty_at = ION_AFTER_HOLD;
	return 0;
}

/* After a refresh that found @avail slots: track the stream, and hold
 * off if the ring is empty in one. */
static inline void
ion_cons_pace(struct ion_cons *c, uint32_t avail)
{
	uint64_t now;

	if (avail == 0) {
		if (c->empty_at == ION_AFTER_HOLD) {
			c->streak = 0; /* still empty after a hold: no stream */
			c->empty_at = 0;
		}
		if (c->empty_at != 0)
			return;
		now = ion_cycles();
		c->empty_at = now;
		if (c->streak >= ION_HOLD_STREAK)
			c->hold_until = now + c->hold_cycles;
	} else if (c->empty_at == ION_AFTER_HOLD) {
		c->empty_at = 0;
	} else if (c->empty_at != 0) {
		now = ion_cycles();
		if (now - c->empty_at < c->hold_cycles / ION_HOLD_QUICK)
			c->streak += c->streak < ION_HOLD_STREAK;
		else
			c->streak = 0;
		c->empty_at = 0;
	}
}

/**
 * Look at up to @p n committed slots.  Never blocks.
 * @return slots available, 0 .. n; slot i is ion_cons_slot(c, i).
 */
static inline uint32_t
ion_cons_peek(struct ion_cons *c, uint32_t n)
{
	uint32_t avail = c->tail_cache - c->head;

	if (__builtin_expect(avail < n, 0)) {
		/* holding off: what is cached, without the producer's line */
		if (avail != 0 || !ion_cons_holding(c)) {
			avail = ion_cons_refresh(c);
			if (c->hold_cycles != 0)
				ion_cons_pace(c, avail);
		}
		if (avail < n) {
			n = avail;
			if (n == 0)
				ion_cons_found_empty(c);
		}
	}
	ion_cons_set_view(c, n);
	return n;
}

/** Descriptor of slot @p i (0 .. peeked-1) of the current peek. */
static inline const struct ion_slot *
ion_cons_slot(const struct ion_cons *c, uint32_t i)
{
	return &c->view[(c->head + i) & c->view_mask];
}

/**
 * Length of slot @p i of the current peek, read once and bounded by the
 * slot size: what a consumer that does not trust its producer (another
 * process) uses, since that producer may rewrite its descriptors at any
 * time.
 */
static inline uint32_t
ion_cons_len(const struct ion_cons *c, uint32_t i)
{
	/* relaxed: published by the acquire of tail; read once */
	uint32_t len =
		__atomic_load_n(&ion_cons_slot(c, i)->len, __ATOMIC_RELAXED);

	return len <= c->slot_size ? len : c->slot_size;
}

/** Data of slot @p i of the current peek: ion_cons_slot(c, i)->len bytes. */
static inline const uint8_t *
ion_cons_data(const struct ion_cons *c, uint32_t i)
{
	uint32_t pos = ion_slot_pos((c->head + i) & c->mask, c->spread,
				    c->spread_shift);

	return c->slots + (size_t)pos * c->stride;
}

/** Hand the first @p n peeked slots (n <= peeked) back to the producer. */
static inline void
ion_cons_release(struct ion_cons *c, uint32_t n)
{
	struct ion_ring_cons_part *own = c->own;
	const struct ion_ring_prod_part *peer = c->peer;
	int fence = c->bell.fence;
	uint64_t armed;

	c->head += n;
	c->peeked = 0;
	/* release: our reads of the slots complete before the producer reuses
	 * them */
	__atomic_store_n(&own->head.idx, c->head, __ATOMIC_RELEASE);
	/* the one extra load per burst: a producer asleep on full? */
	armed = ion_bell_armed(&peer->bell, fence);
	if (__builtin_expect((armed & ION_BELL_FLAGS) != 0, 0))
		ion_cons_bell_slow(c, armed);
}

/** Payload capacity of a slot of this ring. */
static inline uint32_t
ion_ring_slot_size(const struct ion_ring *r)
{
	return r->hdr.slot_size;
}
/* ------------------------------------------------------------------ */
/* Copy helpers                                                        */
/* ------------------------------------------------------------------ */

/**
 * Copy up to @p n messages into the ring, in order.
 * @return messages enqueued.  Stops early when the ring is full or at the
 *         first message longer than the slot size (lens[ret] tells which).
 */
static inline uint32_t
ion_enqueue_burst(struct ion_prod *p, const void *const *bufs,
		  const uint32_t *lens, uint32_t n)
{
	uint32_t i, got = ion_prod_reserve(p, n);
	uint32_t max = p->ring->hdr.slot_size;

	for (i = 0; i < got; i++) {
		struct ion_slot *s = ion_prod_slot(p, i);

		if (__builtin_expect(lens[i] > max, 0))
			break;
		s->len = lens[i];
		s->tag = 0;
		memcpy(ion_prod_data(p, i), bufs[i], lens[i]);
	}
	ion_prod_commit(p, i);
	return i;
}

/** Copy one message in.  @return 0, -ENOBUFS if full, -EMSGSIZE if too long. */
static inline int
ion_enqueue(struct ion_prod *p, const void *buf, uint32_t len)
{
	if (len > p->ring->hdr.slot_size)
		return -EMSGSIZE;
	return ion_enqueue_burst(p, &buf, &len, 1) == 1 ? 0 : -ENOBUFS;
}

/**
 * Copy up to @p n messages out into @p bufs, each of at least slot_size
 * bytes; lens[i] receives each length.
 * @return messages dequeued.
 */
static inline uint32_t
ion_dequeue_burst(struct ion_cons *c, void *const *bufs, uint32_t *lens,
		  uint32_t n)
{
	uint32_t i, got = ion_cons_peek(c, n);

	for (i = 0; i < got; i++) {
		lens[i] = ion_cons_len(c, i);
		memcpy(bufs[i], ion_cons_data(c, i), lens[i]);
	}
	ion_cons_release(c, got);
	return got;
}

/**
 * Copy one message out into @p buf of @p cap bytes.
 * @return its length, -EAGAIN if the ring is empty, or -EMSGSIZE if it does
 *         not fit in @p cap (the message stays in the ring).
 */
static inline int
ion_dequeue(struct ion_cons *c, void *buf, uint32_t cap)
{
	uint32_t len;

	if (ion_cons_peek(c, 1) == 0)
		return -EAGAIN;
	len = ion_cons_len(c, 0);
	if (len > cap)
		return -EMSGSIZE;
	memcpy(buf, ion_cons_data(c, 0), len);
	ion_cons_release(c, 1);
	return (int)len;
}

/* ------------------------------------------------------------------ */
/* Waiting                                                             */
/* ------------------------------------------------------------------ */

/**
 * Called while a waiting helper finds the ring full or empty.  Return 0 to
 * keep waiting, anything else to give up (the helper returns -EAGAIN).
 * @p spins counts the calls of this wait so far, for back-off.
 */
typedef int (*ion_yield_fn)(void *arg, uint64_t spins);

/**
 * Reserve at least @p min (and up to @p n) slots, calling @p yield while
 * the ring has fewer free.
 * @return slots reserved, or -EAGAIN if @p yield gave up.
 */
int ion_prod_reserve_wait(struct ion_prod *p, uint32_t n, uint32_t min,
			  ion_yield_fn yield, void *arg);
/** As ion_prod_reserve_wait(), for committed slots on the consumer side. */
int ion_cons_peek_wait(struct ion_cons *c, uint32_t n, uint32_t min,
		       ion_yield_fn yield, void *arg);
/** A yield function that pauses the CPU, then sleeps briefly. */
int ion_yield_backoff(void *arg, uint64_t spins);

#ifdef __cplusplus
}
#endif

#endif /* ION_RING_ENDS_H */
