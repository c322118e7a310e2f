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
 *   | descriptors         |  capacity x {len, tag}, 8 bytes each
 *   +---------------------+ 640 + roundup(8 * capacity, 128)
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
/** Bumped on any change of the shared layout. */
#define ION_RING_VERSION 2u
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
	uint64_t ops;	 /**< messages enqueued (producer) or dequeued */
	uint64_t stalls; /**< times found full (producer) or empty */
} __attribute__((aligned(ION_RING_ALIGN)));

struct ion_ring {
	struct ion_ring_hdr hdr;
	struct ion_ring_idx tail; /**< producer publishes here */
	struct ion_ring_side prod;
	struct ion_ring_idx head; /**< consumer publishes here */
	struct ion_ring_side cons;
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
};

/**
 * Claim the producer end of @p r for this process.  Control path only.
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
 */

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
	struct ion_ring_side *s = &p->ring->prod;

	p->tail += n;
	p->reserved = 0;
	/* release: slot writes above are visible before the new tail */
	__atomic_store_n(&p->ring->tail.idx, p->tail, __ATOMIC_RELEASE);
	/* relaxed: own counter, readers need only no tearing */
	__atomic_store_n(&s->ops, s->ops + n, __ATOMIC_RELAXED);
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
	struct ion_ring_side *s = &c->ring->cons;

	c->head += n;
	c->peeked = 0;
	/* release: our reads of the slots complete before the producer reuses
	 * them */
	__atomic_store_n(&c->ring->head.idx, c->head, __ATOMIC_RELEASE);
	/* relaxed: own counter, readers need only no tearing */
	__atomic_store_n(&s->ops, s->ops + n, __ATOMIC_RELAXED);
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
