/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ION ring: a lock-free single-producer/single-consumer ring of fixed-size
 * slots in shared memory, plus the capability space (CSpace) through which
 * fibers open ring endpoints.
 *
 * The ring lives in one position-independent block of memory (offsets, no
 * pointers) so any process that maps it, at any address, can use it:
 *
 *   +---------------------+ 0
 *   | header (immutable)  |  magic, version, channel, capacity, slot size
 *   +---------------------+ 128
 *   | producer, shared    |  tail: published write index
 *   +---------------------+ 256
 *   | producer, own       |  counters, written only by the producer
 *   +---------------------+ 384
 *   | consumer, shared    |  head: published read index
 *   +---------------------+ 512
 *   | consumer, own       |  counters, written only by the consumer
 *   +---------------------+ 640
 *   | consumer's doorbell |  armed by a consumer about to sleep on empty
 *   +---------------------+ 768
 *   | producer's doorbell |  armed by a producer about to sleep on full
 *   +---------------------+ 896
 *   | descriptors         |  capacity x {len, tag}, 8 bytes each
 *   +---------------------+ 896 + roundup(8 * capacity, 128)
 *   | data 0 | data 1 ... |  capacity x stride; stride = 64 * k
 *   +---------------------+
 *
 * A slot is its descriptor and its data.  Keeping the 8-byte descriptors
 * apart from the data keeps a 64-byte message on one cache line instead
 * of two, which is what a message costs to move between cores.
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

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/** "IONR" read as a big-endian word. */
#define ION_RING_MAGIC 0x494f4e52u
/** Bumped on any change of the shared layout (3: doorbells). */
#define ION_RING_VERSION 3u
/** Destructive interference size, doubled against adjacent-line prefetch. */
#define ION_RING_ALIGN 128u
/** Slot strides are multiples of this. */
#define ION_SLOT_ALIGN 64u
/** Largest capacity accepted (indices are 32-bit and free-running). */
#define ION_RING_MAX_CAPACITY (1u << 24)
/** Largest slot payload accepted. */
#define ION_RING_MAX_SLOT_SIZE (1u << 20)

/* ------------------------------------------------------------------ */
/* Well-known channels                                                 */
/* ------------------------------------------------------------------ */

/*
 * The spec's VFS channel 0x2000 is duplex.  It is carried by two rings: the
 * request ring keeps the spec's id, the response ring takes the next id,
 * the way console input/output are 0x1000/0x1001.
 */
enum ion_channel_id {
	ION_CH_NET_RX = 0x0500,
	ION_CH_NET_TX = 0x0501,
	ION_CH_LWF_RX = 0x0600,
	ION_CH_LWF_TX = 0x0601,
	ION_CH_CONSOLE_RX = 0x1000,
	ION_CH_CONSOLE_TX = 0x1001,
	ION_CH_VFS_REQ = 0x2000,
	ION_CH_VFS_RSP = 0x2001,
};

/** Default sizing of the spec: network, console, VFS. */
#define ION_NET_SLOTS	      256u
#define ION_NET_SLOT_SIZE     1514u
#define ION_CONSOLE_SLOTS     128u
#define ION_CONSOLE_SLOT_SIZE 256u
#define ION_VFS_SLOTS	      64u
#define ION_VFS_SLOT_SIZE     4096u

struct ion_channel_info {
	uint32_t id;
	const char *name;   /**< short name, e.g. "net-rx" */
	uint32_t capacity;  /**< default slot count */
	uint32_t slot_size; /**< default payload bytes per slot */
};

/** The well-known channel @p id, or NULL if it is not one. */
const struct ion_channel_info *ion_channel_lookup(uint32_t id);
/** The well-known channel named @p name ("net-rx", ...), or NULL. */
const struct ion_channel_info *ion_channel_by_name(const char *name);
/** All well-known channels; *n receives their number. */
const struct ion_channel_info *ion_channel_table(unsigned int *n);

/* ------------------------------------------------------------------ */
/* Shared layout                                                       */
/* ------------------------------------------------------------------ */

/** Written once by the creator, read-only afterwards. */
struct ion_ring_hdr {
	uint32_t magic;
	uint32_t version;
	uint32_t channel;
	uint32_t capacity;     /**< power of two */
	uint32_t slot_size;    /**< max payload bytes per slot */
	uint32_t slot_stride;  /**< bytes between slots' data, multiple of 64 */
	uint64_t desc_offset;  /**< descriptors, from the start of the ring */
	uint64_t slots_offset; /**< slot data, from the start of the ring */
	uint64_t total_size;   /**< bytes the ring occupies */
	uint32_t prod_owner;   /**< pid holding the producer end, 0 if none */
	uint32_t cons_owner;   /**< pid holding the consumer end, 0 if none */
	char name[32];	       /**< informational, NUL-terminated */
} __attribute__((aligned(ION_RING_ALIGN)));

/** One index on a line of its own: the other side polls it. */
struct ion_ring_idx {
	uint32_t idx;
} __attribute__((aligned(ION_RING_ALIGN)));

/** Counters of one side, each written only by that side. */
struct ion_ring_side {
	uint64_t ops;	  /**< messages enqueued (producer) or dequeued */
	uint64_t stalls;  /**< times found full (producer) or empty */
	uint64_t wakeups; /**< doorbells of the other side this side rang */
	uint64_t sleeps;  /**< times this side armed its doorbell to sleep */
} __attribute__((aligned(ION_RING_ALIGN)));

/** ion_ring_bell.armed, low 32 bits: how the waiter wants to be woken. */
#define ION_BELL_FUTEX	 0x1u /**< futex-wake the waiter's index word */
#define ION_BELL_EVENTFD 0x2u /**< write the waiter's eventfd */

/**
 * A doorbell: armed by the side about to sleep (the waiter), read after
 * each publish by the other side (the ringer).  It has a line of its own
 * that is written only when somebody arms or rings, so while nobody sleeps
 * both cores keep it cached and the ringer's load of it hits L1.  (On the
 * waiter's own line, which the waiter writes every burst, that load would
 * miss every burst.)
 */
struct ion_ring_bell {
	/**
	 * 0 = not armed; else ION_BELL_* in the low 32 bits and, in the high
	 * 32, the ringer's index that satisfies the waiter: ring once it is
	 * reached.  Set by the waiter, cleared by whoever rings or disarms.
	 */
	uint64_t armed;
	int32_t efd;	  /**< the waiter's eventfd, -1 if none */
	uint32_t pid;	  /**< the process in which efd is open */
	uint32_t efd_gen; /**< bumped at each change of efd */
	/** The ringer's end fences before its bell load (no membarrier). */
	uint32_t ringer_fences;
} __attribute__((aligned(ION_RING_ALIGN)));

struct ion_ring {
	struct ion_ring_hdr hdr;
	struct ion_ring_idx tail; /**< producer publishes here */
	struct ion_ring_side prod;
	struct ion_ring_idx head; /**< consumer publishes here */
	struct ion_ring_side cons;
	struct ion_ring_bell cons_bell; /**< consumer waits, producer rings */
	struct ion_ring_bell prod_bell; /**< producer waits, consumer rings */
	/* descriptors at hdr.desc_offset, slot data at hdr.slots_offset */
};

/** A slot's descriptor; its bytes are at ion_prod_data() / ion_cons_data(). */
struct ion_slot {
	uint32_t len; /**< bytes of the slot's data in use */
	uint32_t tag; /**< free for the user (e.g. a message type) */
};

/** Creation parameters. */
struct ion_ring_params {
	uint32_t channel;
	uint32_t capacity;  /**< power of two, 2 .. ION_RING_MAX_CAPACITY */
	uint32_t slot_size; /**< 1 .. ION_RING_MAX_SLOT_SIZE */
	/**
	 * First index; 0 normally.  Indices are free-running, so tests start
	 * near UINT32_MAX to cross the integer wrap early.
	 */
	uint32_t start_index;
	const char *name; /**< optional, informational */
};

struct ion_ring_stats {
	uint64_t enqueued;
	uint64_t dequeued;
	uint64_t full;	/**< reserve calls that found no free slot */
	uint64_t empty; /**< peek calls that found no committed slot */
	uint32_t used;	/**< slots committed and not yet released */
	uint32_t capacity;
	uint64_t cons_sleeps;  /**< consumer armed its doorbell to sleep */
	uint64_t prod_wakeups; /**< producer rang the consumer's doorbell */
	uint64_t prod_sleeps;  /**< producer armed its doorbell to sleep */
	uint64_t cons_wakeups; /**< consumer rang the producer's doorbell */
};

/** Slot data stride for @p slot_size: rounded up to whole cache lines. */
static inline uint32_t
ion_slot_stride(uint32_t slot_size)
{
	return (slot_size + ION_SLOT_ALIGN - 1) & ~(ION_SLOT_ALIGN - 1);
}

/** Bytes of the descriptor array of @p capacity slots. */
static inline size_t
ion_desc_bytes(uint32_t capacity)
{
	return ((size_t)capacity * sizeof(struct ion_slot) + ION_RING_ALIGN -
		1) &
	       ~(size_t)(ION_RING_ALIGN - 1);
}

/**
 * Bytes needed for a ring of @p capacity slots of @p slot_size bytes, or 0
 * if the parameters are out of range.
 */
size_t ion_ring_memsize(uint32_t capacity, uint32_t slot_size);

/**
 * Lay out a ring in @p mem (@p len bytes, 128-byte aligned).
 * @return 0, or -EINVAL for bad parameters, -ENOSPC if @p len is too small.
 */
int ion_ring_init(void *mem, size_t len, const struct ion_ring_params *p);

/**
 * Check the header of a ring mapped at @p mem (@p len bytes).  If @p expect
 * is not NULL, its non-zero fields (channel, capacity, slot_size) must
 * match.  On error, a sentence naming the fault is written to @p why.
 * @return 0; -EBADMSG bad magic or corrupt layout; -EPROTO wrong version;
 *         -ERANGE size or parameter mismatch; -EINVAL bad arguments.
 */
int ion_ring_check(const void *mem, size_t len,
		   const struct ion_ring_params *expect, char *why,
		   size_t whylen);

/** Snapshot of the counters (safe from any thread or process). */
void ion_ring_stats(const struct ion_ring *r, struct ion_ring_stats *st);

/* ------------------------------------------------------------------ */
/* Endpoints                                                           */
/* ------------------------------------------------------------------ */

/** An end's process-local doorbell state; set at open. */
struct ion_bell_local {
	uint32_t pid;  /**< this process, cached at open */
	uint8_t mb;    /**< membarrier registered: the heavy barrier works */
	uint8_t fence; /**< no membarrier: fence before the bell load */
	int efd;       /**< eventfd to be woken by, -1 (ion_*_set_eventfd) */
	/* ringing a waiter's eventfd that lives in another process */
	uint32_t peer_pid; /**< waiter's process of the cached fd, 0 none */
	uint32_t peer_gen; /**< its efd_gen */
	int peer_efd;	   /**< its fd number there */
	int peer_local;	   /**< our duplicate of it (pidfd_getfd), -1 */
};

/** Producer end: process-local state, one per ring. */
struct ion_prod {
	struct ion_ring *ring;
	struct ion_slot *desc;
	uint8_t *slots;
	uint32_t mask;
	uint32_t stride;
	uint32_t capacity;
	uint32_t tail;	     /**< next index to commit (local copy) */
	uint32_t head_cache; /**< last consumer head seen */
	uint32_t reserved;   /**< slots handed out by the last reserve */
	struct ion_bell_local bell;
};

/** Consumer end: process-local state, one per ring. */
struct ion_cons {
	struct ion_ring *ring;
	const struct ion_slot *desc;
	const uint8_t *slots;
	uint32_t mask;
	uint32_t stride;
	uint32_t head;	     /**< next index to release (local copy) */
	uint32_t tail_cache; /**< last producer tail seen */
	uint32_t peeked;     /**< slots handed out by the last peek */
	struct ion_bell_local bell;
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
/** As ion_prod_open(), for the consumer end. */
int ion_cons_open(struct ion_cons *c, struct ion_ring *r);
void ion_cons_close(struct ion_cons *c);

/* Memory ordering, in one place:
 *  - the producer writes slot contents, then store-releases tail;
 *    the consumer load-acquires tail, then reads the slots below it.
 *  - the consumer reads slot contents, then store-releases head;
 *    the producer load-acquires head, then overwrites slots below it.
 * Each index has exactly one writer, so no read-modify-write is needed.
 * Counters are written by their own side with relaxed stores so that a
 * stats reader on another core sees a torn-free value.
 *
 * Doorbells (a store-buffering / Dekker pair, made asymmetric):
 *  - waiter (about to sleep):  store bell.armed; HEAVY BARRIER;
 *                              load the ringer's index; block only if it
 *                              is still short of the target.
 *  - ringer (after a publish): store-release its index; LIGHT BARRIER;
 *                              load bell.armed; ring if armed.
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
 *  - armed is cleared by compare-and-swap by whoever rings (acquire: the
 *    waiter's eventfd fields, stored before its release arm, are visible),
 *    so a sleeper is rung at most once per arming; the ringer rings only
 *    once its index reaches the target in armed (a waiter for n slots is
 *    not woken n times).
 *  - A waiter without membarrier facing a ringer that does not fence
 *    (bell.ringer_fences == 0: processes that disagree) cannot be sure to
 *    be seen: ion_*_arm refuses it, ion_*_wait sleeps in 1 ms slices.
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
 * After a publish: the other side's doorbell word, 0 unless it is armed.
 * @fence is the end's bell.fence, read before the publish so that it and
 * the ring pointer stay in registers across the compiler barrier.
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

/* Out of line of the fast paths: a side that finds nothing counts it. */
static inline void
ion_prod_found_full(struct ion_prod *p)
{
	struct ion_ring_side *s = &p->ring->prod;

	/* relaxed: own counter, readers need only no tearing */
	__atomic_store_n(&s->stalls, s->stalls + 1, __ATOMIC_RELAXED);
}

static inline void
ion_cons_found_empty(struct ion_cons *c)
{
	struct ion_ring_side *s = &c->ring->cons;

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
		p->head_cache =
			__atomic_load_n(&p->ring->head.idx, __ATOMIC_ACQUIRE);
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
	return p->slots + (size_t)((p->tail + i) & p->mask) * p->stride;
}

/**
 * Publish the first @p n reserved slots (n <= reserved) to the consumer.
 * Committing fewer than reserved drops the rest of the reservation.
 */
static inline void
ion_prod_commit(struct ion_prod *p, uint32_t n)
{
	struct ion_ring *r = p->ring;
	int fence = p->bell.fence;
	uint64_t armed;

	p->tail += n;
	p->reserved = 0;
	/* release: slot writes above are visible before the new tail */
	__atomic_store_n(&r->tail.idx, p->tail, __ATOMIC_RELEASE);
	/* relaxed: own counter, readers need only no tearing */
	__atomic_store_n(&r->prod.ops, r->prod.ops + n, __ATOMIC_RELAXED);
	/* the one extra load per burst: a consumer asleep on empty? */
	armed = ion_bell_armed(&r->cons_bell, fence);
	if (__builtin_expect(armed != 0, 0))
		ion_prod_bell_slow(p, armed);
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
		/* acquire: slot contents written before this tail are visible
		 */
		c->tail_cache =
			__atomic_load_n(&c->ring->tail.idx, __ATOMIC_ACQUIRE);
		avail = c->tail_cache - c->head;
		if (avail < n) {
			n = avail;
			if (n == 0)
				ion_cons_found_empty(c);
		}
	}
	c->peeked = n;
	return n;
}

/** Descriptor of slot @p i (0 .. peeked-1) of the current peek. */
static inline const struct ion_slot *
ion_cons_slot(const struct ion_cons *c, uint32_t i)
{
	return &c->desc[(c->head + i) & c->mask];
}

/** Data of slot @p i of the current peek: ion_cons_slot(c, i)->len bytes. */
static inline const uint8_t *
ion_cons_data(const struct ion_cons *c, uint32_t i)
{
	return c->slots + (size_t)((c->head + i) & c->mask) * c->stride;
}

/** Hand the first @p n peeked slots (n <= peeked) back to the producer. */
static inline void
ion_cons_release(struct ion_cons *c, uint32_t n)
{
	struct ion_ring *r = c->ring;
	int fence = c->bell.fence;
	uint64_t armed;

	c->head += n;
	c->peeked = 0;
	/* release: our reads of the slots complete before the producer reuses
	 * them */
	__atomic_store_n(&r->head.idx, c->head, __ATOMIC_RELEASE);
	/* relaxed: own counter, readers need only no tearing */
	__atomic_store_n(&r->cons.ops, r->cons.ops + n, __ATOMIC_RELAXED);
	/* the one extra load per burst: a producer asleep on full? */
	armed = ion_bell_armed(&r->prod_bell, fence);
	if (__builtin_expect(armed != 0, 0))
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
		const struct ion_slot *s = ion_cons_slot(c, i);

		lens[i] = s->len;
		memcpy(bufs[i], ion_cons_data(c, i), s->len);
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
	const struct ion_slot *s;
	uint32_t len;

	if (ion_cons_peek(c, 1) == 0)
		return -EAGAIN;
	s = ion_cons_slot(c, 0);
	len = s->len;
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
 * caller's.  @return 0, -EINVAL, -EBUSY (armed).
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

/** Committed slots now (loads the producer's index; counts nothing). */
static inline uint32_t
ion_cons_ready(struct ion_cons *c)
{
	/* acquire: as in peek, the slots below tail are written */
	c->tail_cache = __atomic_load_n(&c->ring->tail.idx, __ATOMIC_ACQUIRE);
	return c->tail_cache - c->head;
}

/** Free slots now (loads the consumer's index; counts nothing). */
static inline uint32_t
ion_prod_room(struct ion_prod *p)
{
	/* acquire: as in reserve, the slots below head are read */
	p->head_cache = __atomic_load_n(&p->ring->head.idx, __ATOMIC_ACQUIRE);
	return p->capacity - (p->tail - p->head_cache);
}

/* ------------------------------------------------------------------ */
/* Backings without DPDK: hugetlbfs file or memfd                      */
/* ------------------------------------------------------------------ */

/** A ring mapped from a file descriptor. */
struct ion_ring_map {
	struct ion_ring *ring;
	size_t len;
	int fd;
};

/**
 * Create a ring in a new file at @p path (on hugetlbfs the size is rounded
 * up to the huge page size).  Fails with -EEXIST if the file exists.
 */
int ion_ring_create_file(struct ion_ring_map *m, const char *path,
			 const struct ion_ring_params *p);
/**
 * Create a ring in an anonymous memfd named @p name; m->fd can be passed
 * to another process (inherited, or over a UNIX socket).
 * @p flags: 0, or MFD_HUGETLB for huge pages.
 */
int ion_ring_create_memfd(struct ion_ring_map *m, const char *name,
			  const struct ion_ring_params *p, unsigned int flags);
/**
 * Map an existing ring from @p path, or from @p fd when path is NULL, and
 * check its header against @p expect (may be NULL).  The reason of a
 * refusal goes to @p why.
 */
int ion_ring_attach_file(struct ion_ring_map *m, const char *path, int fd,
			 const struct ion_ring_params *expect, char *why,
			 size_t whylen);
/** Unmap and close (the file, if any, stays). */
void ion_ring_unmap(struct ion_ring_map *m);

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
};

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

#endif /* ION_RING_H */
