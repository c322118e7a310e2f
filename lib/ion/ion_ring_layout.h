/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The shared layout of an ION ring: its constants, the well-known
 * channels, and the header, descriptors and slots both sides map.
 * Part of ion_ring.h, which includes it (docs: the top of ion_ring.h).
 */
#ifndef ION_RING_LAYOUT_H
#define ION_RING_LAYOUT_H

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

#ifdef __cplusplus
}
#endif

#endif /* ION_RING_LAYOUT_H */
