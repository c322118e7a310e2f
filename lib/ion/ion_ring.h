/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ION ring: a lock-free single-producer/single-consumer ring of fixed-size
 * slots in shared memory, plus the capability space (CSpace) through which
 * fibers open ring endpoints.
 *
 * The ring lives in one position-independent block of memory (offsets, no
 * pointers) so any process that maps it, at any address, can use it.  The
 * block is split by owner into pages, so that a process can be given the
 * pages of one end writable and the rest read-only (layout version 7):
 *
 *   +----------------------+ 0
 *   | header               |  magic, version, channel, capacity, slot size,
 *   |                      |  the parts' offsets; written once, read-only
 *   +----------------------+ 4096 (ION_RING_PAGE)
 *   | consumer's part      |  head, its counters, its doorbell and claim
 *   +----------------------+ 8192, or the huge page size of a producer
 *   | producer's part      |  part in huge pages
 *   |  +0   published      |  tail, and the stamped descriptors of the
 *   |                      |  last ION_PUB_DESCS slots (a window)
 *   |  +128 counters       |
 *   |  +256 doorbell       |  and its claim
 *   |  +384 descriptors    |  capacity x {len, tag}, 8 bytes each
 *   |  ...  slot data      |  capacity x stride; stride = 64 * k,
 *   |                      |  consecutive slots in different 4 KiB pages
 *   +----------------------+ total (a multiple of the producer's page)
 *
 * Each side writes only its own part (the header is nobody's), so a
 * WRITE grant maps the producer's part read-write and the rest read-only,
 * a READ grant the consumer's part read-write and the rest read-only, and
 * a write where the grant does not allow it faults in hardware
 * (ion_ring_map_split()).
 *
 * A slot is its descriptor and its data.  Keeping the 8-byte descriptors
 * apart from the data keeps a 64-byte message on one cache line instead
 * of two, which is what a message costs to move between cores.  A commit
 * of a few slots also copies their descriptors into a window of the last
 * ION_PUB_DESCS next to the tail it publishes, so a consumer that keeps up
 * (or runs up to that many slots behind) reads the tail's line and the
 * data, never a descriptor line the producer is still filling.
 *
 * Slots whose stride divides 4 KiB are not stored in index order: slot x
 * sits at position ion_slot_pos(x), which deals consecutive slots out over
 * the data's 4 KiB pages (slot 0 in page 0, slot 1 in page 1, ...).  A
 * consumer reading slot x then makes the hardware prefetchers fetch the
 * lines after it in the same page, which the producer writes only a round
 * of pages later, not slot x + 1, which it is writing now: fetching a line
 * the other core is writing costs both cores a transfer (see "Layout 7"
 * in docs/performance-history.md).
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
/**
 * Bumped on any change of the shared layout (3: doorbells; 4: split by
 * owner into pages, a commit's descriptors published with its tail; 5:
 * the last ION_PUB_DESCS descriptors published, whatever their commits;
 * 6: counts derived from the indices; 7: slots dealt out over pages).
 */
#define ION_RING_VERSION 7u
/** Destructive interference size, doubled against adjacent-line prefetch. */
#define ION_RING_ALIGN 128u
/** Slot strides are multiples of this. */
#define ION_SLOT_ALIGN 64u
/** Largest capacity accepted (indices are 32-bit and free-running). */
#define ION_RING_MAX_CAPACITY (1u << 24)
/** Largest slot payload accepted. */
#define ION_RING_MAX_SLOT_SIZE (1u << 20)
/**
 * The unit of protection: the header and the consumer's part are one page
 * each, the producer's part starts on a page (or on a huge page).
 */
#define ION_RING_PAGE 4096u
/**
 * The window of descriptors published with the tail: slot s's at
 * desc[s % ION_PUB_DESCS], a power of two so that the free-running 32-bit
 * indices wrap onto it cleanly.  Four keep the window on the tail's
 * line; a larger commit is better read from the descriptor array, whose
 * line the producer has finished with (docs/performance.md).
 */
#define ION_PUB_DESCS 4u
/**
 * A published entry is {tag:32, stamp:11, len:21}: len bounded to
 * ION_RING_MAX_SLOT_SIZE, stamp = (slot / ION_PUB_DESCS) % 2048, so an
 * entry names its slot among all slots that share its place up to
 * ION_PUB_MAX_CAPACITY apart.
 */
#define ION_PUB_LEN_BITS   21u
#define ION_PUB_STAMP_MASK 0x7ffu
/**
 * Rings of at most this many slots publish entries (a producer cannot run
 * that far ahead of the consumer, so no stamp is taken for another's).
 */
#define ION_PUB_MAX_CAPACITY (ION_PUB_DESCS * (ION_PUB_STAMP_MASK + 1))

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the published word keeps the tail in its low half: little-endian only"
#endif

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

/** Page 0: written once by the creator, read-only afterwards. */
struct ion_ring_hdr {
	uint32_t magic;
	uint32_t version;
	uint32_t channel;
	uint32_t capacity;    /**< power of two */
	uint32_t slot_size;   /**< max payload bytes per slot */
	uint32_t slot_stride; /**< bytes between slots' data, multiple of 64 */
	uint32_t page_size;   /**< the producer's part's page: ION_RING_PAGE,
			       *   or a huge page size */
	/**
	 * log2 of the 4 KiB pages consecutive slots are dealt out over
	 * (ion_slot_pos()), as ion_slot_spread() of capacity and stride
	 */
	uint32_t slot_spread;
	uint64_t cons_offset;  /**< the consumer's part: ION_RING_PAGE bytes */
	uint64_t prod_offset;  /**< the producer's part, to total_size */
	uint64_t desc_offset;  /**< descriptors, in the producer's part */
	uint64_t slots_offset; /**< slot data, in the producer's part */
	uint64_t total_size;   /**< bytes the ring occupies */
	char name[32];	       /**< informational, NUL-terminated */
} __attribute__((aligned(ION_RING_ALIGN)));

/**
 * What the producer publishes, on the line the consumer polls: its tail,
 * and the descriptors of its last slots, up to ION_PUB_DESCS, whichever
 * commits they came in (for a consumer that keeps up or runs a few slots
 * behind, they arrive with the tail; the descriptor array's lines stay
 * with the producer).
 */
struct ion_ring_pub {
	/**
	 * Low 32 bits: tail, the published write index (the consumer's
	 * futex word).  High 32: win, 0 .. ION_PUB_DESCS: desc[] was
	 * written for slots tail - win .. tail - 1 (and may already hold
	 * later ones: each entry's stamp says whose it is).
	 */
	uint64_t word;
	/** slot s's descriptor at s % ION_PUB_DESCS, as ion_pub_entry() */
	uint64_t desc[ION_PUB_DESCS];
} __attribute__((aligned(ION_RING_ALIGN)));

/** One index on a line of its own: the other side polls it. */
struct ion_ring_idx {
	uint32_t idx;
} __attribute__((aligned(ION_RING_ALIGN)));

/**
 * ion_ring_ctrs.ops_*: fold once this many messages have passed the mark,
 * at the next refresh: a side refreshes at least once a lap (capacity <=
 * ION_RING_MAX_CAPACITY), so the 32-bit difference never wraps.
 */
#define ION_OPS_FOLD (1u << 31)

/** ion_ring_ctrs.ops_gen: a take-back is moving the pair and the index. */
#define ION_OPS_TAKING (1u << 31)

/** Counters of one side, each written only by that side. */
struct ion_ring_ctrs {
	/**
	 * Messages enqueued (producer) or dequeued (consumer): ops_base[k] +
	 * (uint32_t)(index - ops_mark[k]), k = (ops_gen >> 1) & 1, index this
	 * side's published one, as ion_ring_stats() reads it.  Derived from
	 * the index so that a commit or a release stores no counter.  Folded
	 * at a refresh once ION_OPS_FOLD have passed: the other pair is
	 * written while ops_gen is odd, then ops_gen made even selects it (a
	 * latch: a reader always has one whole pair, even beside an owner
	 * stopped half-way).  ION_OPS_TAKING in ops_gen: a take-back is
	 * moving the pair and the index together; readers wait it out.
	 */
	uint64_t ops_base[2];
	uint32_t ops_mark[2];
	uint32_t ops_gen;
	uint64_t stalls;  /**< times found full (producer) or empty */
	uint64_t wakeups; /**< doorbells of the other side this side rang */
	uint64_t sleeps;  /**< times this side armed its doorbell to sleep */
	/**
	 * Consumer: messages skipped when its end was taken back from a
	 * process that died holding them peeked (ion_ring_take_back()).
	 */
	uint64_t abandoned;
	/** Consumer: head + peeked, the end of what it is looking at. */
	uint32_t reading;
} __attribute__((aligned(ION_RING_ALIGN)));

/** ion_ring_bell.armed, bits 0-1: how the waiter wants to be woken. */
#define ION_BELL_FUTEX	 0x1u /**< futex-wake the waiter's index word */
#define ION_BELL_EVENTFD 0x2u /**< write the waiter's eventfd */
#define ION_BELL_FLAGS	 0x3u

/**
 * A side's doorbell and claim, in its own part: armed by this side when it
 * is about to sleep (the waiter), read after each publish by the other
 * side (the ringer), which records the arming it rang in its own bell's
 * rung.  So each side writes only its own part.  The line is written only
 * when this side arms, rings or opens, so while nobody sleeps both cores
 * keep it cached and the ringer's load of it hits L1.
 */
struct ion_ring_bell {
	/**
	 * This side's arming: bits 0-1 ION_BELL_* (0: not armed), bits 2-31
	 * its sequence (bumped at each arm, never equal to the other side's
	 * rung when armed), bits 32-63 the other side's index that satisfies
	 * this side: the other side rings once it is reached.
	 */
	uint64_t armed;
	int32_t efd;	  /**< this side's eventfd, -1 if none */
	uint32_t pid;	  /**< the process in which efd is open */
	uint32_t efd_gen; /**< bumped at each change of efd */
	/** The sequence of the other side's arming this side last rang. */
	uint32_t rung;
	/** This side fences before its bell load (no membarrier). */
	uint32_t fences;
	uint32_t owner; /**< pid holding this end, 0 if none */
} __attribute__((aligned(ION_RING_ALIGN)));

/** The consumer's part, at hdr.cons_offset: one page. */
struct ion_ring_cons_part {
	struct ion_ring_idx head; /**< the published read index */
	struct ion_ring_ctrs ctrs;
	struct ion_ring_bell
		bell; /**< the consumer waits; the producer rings */
};

/** The producer's part, at hdr.prod_offset; descriptors and data follow. */
struct ion_ring_prod_part {
	struct ion_ring_pub pub;
	struct ion_ring_ctrs ctrs;
	struct ion_ring_bell
		bell; /**< the producer waits; the consumer rings */
};

/** A ring: its header, the parts at the header's offsets. */
struct ion_ring {
	struct ion_ring_hdr hdr;
};

static inline struct ion_ring_cons_part *
ion_ring_cons_part(const struct ion_ring *r)
{
	return (struct ion_ring_cons_part *)((uintptr_t)r +
					     (uintptr_t)r->hdr.cons_offset);
}

static inline struct ion_ring_prod_part *
ion_ring_prod_part(const struct ion_ring *r)
{
	return (struct ion_ring_prod_part *)((uintptr_t)r +
					     (uintptr_t)r->hdr.prod_offset);
}

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
	/**
	 * The producer's part's page: 0 for ION_RING_PAGE, or a huge page
	 * size (a power of two) when that part lives in huge pages.
	 */
	uint32_t page_size;
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
	/** skipped when a dead consumer's end was taken back */
	uint64_t abandoned;
};

/**
 * A commit of n slots prefetches for writing the first line of the n
 * slots (at most ION_PROD_PREFETCH_MAX) from this many ahead of its new
 * tail.
 */
#define ION_PROD_PREFETCH     4u
#define ION_PROD_PREFETCH_MAX 32u

/** Slot data stride for @p slot_size: rounded up to whole cache lines. */
static inline uint32_t
ion_slot_stride(uint32_t slot_size)
{
	return (slot_size + ION_SLOT_ALIGN - 1) & ~(ION_SLOT_ALIGN - 1);
}

/**
 * log2 of the 4 KiB pages a ring of @p capacity slots (a power of two) of
 * @p stride bytes deals consecutive slots out over: 0, slots in index
 * order, unless the stride divides a page and the data spans two or more.
 */
static inline uint32_t
ion_slot_spread(uint32_t capacity, uint32_t stride)
{
	uint32_t per_page;

	if (stride == 0 || stride > ION_RING_PAGE / 2 ||
	    ION_RING_PAGE % stride != 0 || (capacity & (capacity - 1)) != 0)
		return 0;
	per_page = ION_RING_PAGE / stride;
	if (capacity <= per_page)
		return 0;
	return (uint32_t)__builtin_ctz(capacity / per_page);
}

/**
 * Position in the data of slot @p x (an index masked to the capacity):
 * its low @p spread bits pick the page, the rest the slot in that page,
 * rotated by the page's number so that consecutive slots, 4 KiB + one
 * slot apart, do not all fall in the same L1 cache set; @p shift is
 * log2(capacity) - spread.  The identity when spread is 0.
 */
static inline uint32_t
ion_slot_pos(uint32_t x, uint32_t spread, uint32_t shift)
{
	uint32_t page = x & ((1u << spread) - 1);

	return page << shift | (((x >> spread) + page) & ((1u << shift) - 1));
}

/** Bytes of the descriptor array of @p capacity slots. */
static inline size_t
ion_desc_bytes(uint32_t capacity)
{
	return ((size_t)capacity * sizeof(struct ion_slot) + ION_RING_ALIGN -
		1) &
	       ~(size_t)(ION_RING_ALIGN - 1);
}

/** Where everything of a ring lies, from its start. */
struct ion_ring_layout {
	size_t cons_offset;  /**< ION_RING_PAGE */
	size_t prod_offset;  /**< max(2 pages, the producer's page) */
	size_t desc_offset;  /**< prod_offset + the producer's control lines */
	size_t slots_offset; /**< after the descriptors */
	size_t total_size;   /**< to the end of the producer's last page */
};

/**
 * The layout of a ring of @p capacity slots of @p slot_size bytes whose
 * producer's part is in pages of @p page_size (0: ION_RING_PAGE).
 * @return 0, or -EINVAL if a parameter is out of range.
 */
int ion_ring_layout(uint32_t capacity, uint32_t slot_size, uint32_t page_size,
		    struct ion_ring_layout *l);

/**
 * Bytes needed for a ring of @p capacity slots of @p slot_size bytes in
 * ION_RING_PAGE pages, or 0 if the parameters are out of range.
 */
size_t ion_ring_memsize(uint32_t capacity, uint32_t slot_size);

/**
 * Lay out a ring in @p mem (@p len bytes, 128-byte aligned; page-aligned
 * if its parts are to be mapped with different protections).
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

/** Which end of a ring (ion_ring_take_back()). */
enum ion_end {
	ION_END_PROD,
	ION_END_CONS,
};

/**
 * Take back end @p end of @p r from a process that died (or gave it up)
 * while holding it, into a consistent state for the next one.  Control
 * path, by a process that maps the whole ring writable, while nobody holds
 * that end; the other end may be running.
 *  - consumer: the slots it had peeked are skipped (a message is never
 *    delivered twice: the dead process may have handled them) and counted
 *    in abandoned; an index a misbehaving process left outside the ring is
 *    reset to the producer's (what was in the ring after its last peek is
 *    dropped, skipped and counted abandoned);
 *  - producer: what it reserved but did not commit was never published;
 *    an index outside the ring is reset to the consumer's (enqueued counts
 *    up to there);
 *  - either: its claim is cleared, its doorbell disarmed, its message
 *    count moved on to count from where the next one starts.
 * @return the messages skipped (consumer), or 0.
 */
uint32_t ion_ring_take_back(struct ion_ring *r, enum ion_end end);

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

/* ------------------------------------------------------------------ */
/* Backings without DPDK: hugetlbfs file or memfd                      */
/* ------------------------------------------------------------------ */

/** The parts of a ring kept in files of their own (ion_ring_create_split). */
enum ion_part {
	ION_PART_HDR,  /**< the header page: read-only for everyone */
	ION_PART_CONS, /**< the consumer's page */
	ION_PART_PROD, /**< the producer's pages */
	ION_PARTS,
};

/** A ring mapped from a file descriptor, or from one file per part. */
struct ion_ring_map {
	struct ion_ring *ring;
	size_t len;
	int fd;			/**< a ring in one file; -1 for a split ring */
	int part_fd[ION_PARTS]; /**< a split ring's files; -1 otherwise */
	uint32_t
		perm; /**< a split ring: whose parts are mapped writable,
		       *   ION_PERM_WRITE the producer's, READ the consumer's */
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

/** ion_ring_create_split() flags. */
#define ION_SPLIT_HUGE                                                         \
	0x1u /**< the producer's part in huge pages if it can                  \
	      */

/**
 * Create a ring in three memfds, one per part (ION_PART_*), mapped whole
 * and writable here at one address, so that other processes can be given
 * each part with the protection their grant allows (ion_ring_part_fd(),
 * ion_ring_map_split()).  Every file is sealed against resizing
 * (F_SEAL_SHRINK, F_SEAL_GROW, F_SEAL_SEAL: a process given it cannot cut
 * the pages from under the others) and has mode 0600 (a process of another
 * user given it read-only cannot reopen it read-write through /proc); the
 * header's is sealed against writes too.  With ION_SPLIT_HUGE the
 * producer's part is a MFD_HUGETLB memfd when huge pages are available
 * (give it only read-only to another process: a writable huge page file
 * lets its holder punch a hole that the kernel may not be able to fill,
 * a SIGBUS for every mapper), else ION_RING_PAGE pages.
 * @return 0, or a negative errno.
 */
int ion_ring_create_split(struct ion_ring_map *m, const char *name,
			  const struct ion_ring_params *p, unsigned int flags);

/**
 * A new descriptor of part @p part of split ring @p m, to give another
 * process: a duplicate when @p writable, else the file opened anew
 * read-only (through /proc/self/fd), from which nobody can make a writable
 * mapping.  The header's is always read-only.
 * @return the descriptor (O_CLOEXEC), or a negative errno.
 */
int ion_ring_part_fd(const struct ion_ring_map *m, enum ion_part part,
		     int writable);

/**
 * Map a split ring from its files @p fds (ION_PART_*) with the protection
 * grant @p perm allows: ION_PERM_WRITE maps the producer's part
 * read-write, ION_PERM_READ the consumer's, everything else read-only.  A
 * write there is a SIGSEGV, and mprotect(PROT_WRITE) fails with EACCES
 * when the part's file is read-only.  The ring is checked against
 * @p expect (may be NULL) as ion_ring_attach_file() does.  The
 * descriptors are taken over: closed by ion_ring_unmap(), or on failure.
 */
int ion_ring_map_split(struct ion_ring_map *m, const int fds[ION_PARTS],
		       uint32_t perm, const struct ion_ring_params *expect,
		       char *why, size_t whylen);

/**
 * Give part @p part (ION_PART_CONS or ION_PART_PROD) of split ring @p m,
 * mapped whole and writable here, a new file: a copy of the part, mapped
 * at the same address.  A process still mapping the old file (one that was
 * given it, and whatever it forked) then writes and reads pages nobody
 * else uses.  Control path, while nobody holds that part's end; the other
 * end may run (it only reads this part).
 * @return 0, or a negative errno (the old file stays).
 */
int ion_ring_renew_part(struct ion_ring_map *m, enum ion_part part);

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

#endif /* ION_RING_H */
