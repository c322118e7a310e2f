/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ring layout, header checks, endpoint claims, waiting helpers and the
 * doorbells' slow paths.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "ion_ring.h"

/*
 * Negative self-tests only, never in a shipped build: 1 = the waiter does
 * not arm its doorbell, 2 = neither side issues a barrier.  The lost
 * wake-up tests must then fail (docs/ion-ring.md, "Doorbells").
 */
#ifndef ION_DOORBELL_BREAK
#define ION_DOORBELL_BREAK 0
#endif

_Static_assert(sizeof(struct ion_ring_hdr) == ION_RING_ALIGN,
	       "the header fits its 128-byte block");
_Static_assert(sizeof(struct ion_ring_pub) == ION_RING_ALIGN,
	       "the tail and the published descriptors fill 128 bytes");
_Static_assert(sizeof(struct ion_ring_cons_part) == 3 * ION_RING_ALIGN &&
		       sizeof(struct ion_ring_prod_part) == 3 * ION_RING_ALIGN,
	       "a part's index, counters and doorbell: 128 bytes each");
_Static_assert(offsetof(struct ion_ring_prod_part, ctrs) == ION_RING_ALIGN &&
		       offsetof(struct ion_ring_prod_part, bell) ==
			       2 * ION_RING_ALIGN,
	       "each block of a part on its own 128 bytes");
_Static_assert(sizeof(struct ion_slot) == 8, "slot descriptor is 8 bytes");
_Static_assert(ION_PUB_DESCS <= ION_PUB_SLOTS &&
		       (ION_PUB_SLOTS & (ION_PUB_SLOTS - 1)) == 0 &&
		       (ION_PUB_DESCS & (ION_PUB_DESCS - 1)) == 0,
	       "the window and the consumer's copies: powers of two");
_Static_assert(ION_RING_MAX_SLOT_SIZE < (1u << ION_PUB_LEN_BITS) &&
		       (uint64_t)(ION_PUB_STAMP_MASK + 1) << ION_PUB_LEN_BITS ==
			       1ull << 32,
	       "a published entry: len, then the stamp, fill 32 bits");

static int
params_ok(uint32_t capacity, uint32_t slot_size)
{
	return capacity >= 2 && capacity <= ION_RING_MAX_CAPACITY &&
	       (capacity & (capacity - 1)) == 0 && slot_size >= 1 &&
	       slot_size <= ION_RING_MAX_SLOT_SIZE;
}

/* A producer's page: ION_RING_PAGE or a power of two up to 1 GiB. */
static int
page_ok(uint32_t page)
{
	return page >= ION_RING_PAGE && page <= (1u << 30) &&
	       (page & (page - 1)) == 0;
}

static size_t
round_up(size_t v, size_t unit)
{
	return (v + unit - 1) / unit * unit;
}

int
ion_ring_layout(uint32_t capacity, uint32_t slot_size, uint32_t page_size,
		struct ion_ring_layout *l)
{
	size_t data;

	if (page_size == 0)
		page_size = ION_RING_PAGE;
	if (l == NULL || !params_ok(capacity, slot_size) || !page_ok(page_size))
		return -EINVAL;
	l->cons_offset = ION_RING_PAGE;
	l->prod_offset =
		page_size > 2 * ION_RING_PAGE ? page_size : 2 * ION_RING_PAGE;
	l->desc_offset = l->prod_offset + sizeof(struct ion_ring_prod_part);
	l->slots_offset = l->desc_offset + ion_desc_bytes(capacity);
	data = (size_t)capacity * ion_slot_stride(slot_size);
	l->total_size =
		l->prod_offset +
		round_up(l->slots_offset - l->prod_offset + data, page_size);
	return 0;
}

size_t
ion_ring_memsize(uint32_t capacity, uint32_t slot_size)
{
	struct ion_ring_layout l;

	return ion_ring_layout(capacity, slot_size, 0, &l) == 0 ? l.total_size
								: 0;
}

int
ion_ring_init(void *mem, size_t len, const struct ion_ring_params *p)
{
	struct ion_ring *r = mem;
	struct ion_ring_cons_part *cp;
	struct ion_ring_prod_part *pp;
	struct ion_ring_layout l;

	if (mem == NULL || p == NULL ||
	    ((uintptr_t)mem & (ION_RING_ALIGN - 1)) != 0 ||
	    ion_ring_layout(p->capacity, p->slot_size, p->page_size, &l) < 0)
		return -EINVAL;
	if (len < l.total_size)
		return -ENOSPC;

	memset(r, 0, ION_RING_PAGE);
	r->hdr.version = ION_RING_VERSION;
	r->hdr.channel = p->channel;
	r->hdr.capacity = p->capacity;
	r->hdr.slot_size = p->slot_size;
	r->hdr.slot_stride = ion_slot_stride(p->slot_size);
	r->hdr.slot_spread = ion_slot_spread(p->capacity, r->hdr.slot_stride);
	r->hdr.page_size = p->page_size != 0 ? p->page_size : ION_RING_PAGE;
	r->hdr.cons_offset = l.cons_offset;
	r->hdr.prod_offset = l.prod_offset;
	r->hdr.desc_offset = l.desc_offset;
	r->hdr.slots_offset = l.slots_offset;
	r->hdr.total_size = l.total_size;
	if (p->name != NULL)
		snprintf(r->hdr.name, sizeof(r->hdr.name), "%s", p->name);
	cp = ion_ring_cons_part(r);
	pp = ion_ring_prod_part(r);
	memset(cp, 0, ION_RING_PAGE);
	memset(pp, 0, sizeof(*pp));
	/* win 0: no descriptors published yet */
	pp->pub.word = p->start_index;
	cp->head.idx = p->start_index;
	cp->ctrs.reading = p->start_index;
	cp->ctrs.ops_mark[0] = p->start_index;
	pp->ctrs.ops_mark[0] = p->start_index;
	cp->bell.efd = -1;
	pp->bell.efd = -1;
	/* release: a process that sees the magic sees the whole layout */
	__atomic_store_n(&r->hdr.magic, ION_RING_MAGIC, __ATOMIC_RELEASE);
	return 0;
}

int
ion_ring_check(const void *mem, size_t len,
	       const struct ion_ring_params *expect, char *why, size_t whylen)
{
	const struct ion_ring *r = mem;
	const struct ion_ring_hdr *h;
	struct ion_ring_layout l;
	char dummy[1];
	uint32_t magic;

	if (why == NULL) {
		why = dummy;
		whylen = sizeof(dummy);
	}
	if (mem == NULL) {
		snprintf(why, whylen, "no memory to check");
		return -EINVAL;
	}
	if (len < sizeof(struct ion_ring_hdr)) {
		snprintf(why, whylen,
			 "mapping of %zu bytes is smaller than a ring header",
			 len);
		return -ERANGE;
	}
	h = &r->hdr;
	/* acquire: pairs with the release store of the magic in init */
	magic = __atomic_load_n(&h->magic, __ATOMIC_ACQUIRE);
	if (magic != ION_RING_MAGIC) {
		snprintf(why, whylen, "bad magic 0x%08x (expected 0x%08x)",
			 magic, ION_RING_MAGIC);
		return -EBADMSG;
	}
	if (h->version != ION_RING_VERSION) {
		snprintf(why, whylen,
			 "layout version %u, this library speaks %u",
			 h->version, ION_RING_VERSION);
		return -EPROTO;
	}
	if (ion_ring_layout(h->capacity, h->slot_size, h->page_size, &l) < 0 ||
	    h->slot_stride != ion_slot_stride(h->slot_size) ||
	    h->slot_spread != ion_slot_spread(h->capacity, h->slot_stride) ||
	    h->cons_offset != l.cons_offset ||
	    h->prod_offset != l.prod_offset ||
	    h->desc_offset != l.desc_offset ||
	    h->slots_offset != l.slots_offset ||
	    h->total_size != l.total_size) {
		snprintf(why, whylen,
			 "corrupt header: capacity %u, slot size %u, stride "
			 "%u, spread %u, page %u, producer's part at %llu, "
			 "slots at %llu, total %llu",
			 h->capacity, h->slot_size, h->slot_stride,
			 h->slot_spread, h->page_size,
			 (unsigned long long)h->prod_offset,
			 (unsigned long long)h->slots_offset,
			 (unsigned long long)h->total_size);
		return -EBADMSG;
	}
	if (h->total_size > len) {
		snprintf(why, whylen,
			 "ring needs %llu bytes but the mapping has %zu",
			 (unsigned long long)h->total_size, len);
		return -ERANGE;
	}
	if (expect == NULL)
		return 0;
	if (expect->channel != 0 && expect->channel != h->channel) {
		snprintf(why, whylen, "channel 0x%04x, expected 0x%04x",
			 h->channel, expect->channel);
		return -ERANGE;
	}
	if (expect->capacity != 0 && expect->capacity != h->capacity) {
		snprintf(why, whylen, "capacity %u, expected %u", h->capacity,
			 expect->capacity);
		return -ERANGE;
	}
	if (expect->slot_size != 0 && expect->slot_size != h->slot_size) {
		snprintf(why, whylen, "slot size %u, expected %u", h->slot_size,
			 expect->slot_size);
		return -ERANGE;
	}
	return 0;
}

/* The consumer's futex word: the tail, the low half of the published
 * word (little-endian, checked in ion_ring.h). */
static uint32_t *
tail_word(const struct ion_ring_prod_part *pp)
{
	return (uint32_t *)(uintptr_t)&pp->pub.word;
}

/*
 * Move a side's ops counter to count from @next on, having counted up to
 * @counted: the owner of the side only (or the take-back, for a dead one).
 */
static void
ctrs_rebase(struct ion_ring_ctrs *s, uint32_t counted, uint32_t next)
{
	/* relaxed: only the owner writes these; an owner that died half-way
	 * left gen odd and the pair in use whole */
	uint32_t gen = __atomic_load_n(&s->ops_gen, __ATOMIC_RELAXED) | 1u;
	unsigned int cur = ion_ctrs_pair(gen), nxt = cur ^ 1;
	uint64_t base = __atomic_load_n(&s->ops_base[cur], __ATOMIC_RELAXED);
	uint32_t mark = __atomic_load_n(&s->ops_mark[cur], __ATOMIC_RELAXED);

	/* odd: the other pair is being written; relaxed: the release stores
	 * below are ordered after it */
	__atomic_store_n(&s->ops_gen, gen, __ATOMIC_RELAXED);
	/* release: a reader that sees a value of the pair being written sees
	 * the odd gen (and that it was written over) */
	__atomic_store_n(&s->ops_base[nxt], base + (uint32_t)(counted - mark),
			 __ATOMIC_RELEASE);
	__atomic_store_n(&s->ops_mark[nxt], next, __ATOMIC_RELEASE);
	/* release: the pair is whole before gen selects it */
	__atomic_store_n(&s->ops_gen, gen + 1, __ATOMIC_RELEASE);
}

void
ion_ctrs_fold(struct ion_ring_ctrs *s, uint32_t idx)
{
	ctrs_rebase(s, idx, idx);
}

/* A take-back of a dead side starts (@on) or ends: see ctrs_ops(). */
static void
ctrs_taking(struct ion_ring_ctrs *s, bool on)
{
	/* relaxed: the end is the take-back's now */
	uint32_t gen = __atomic_load_n(&s->ops_gen, __ATOMIC_RELAXED);

	if (on)
		/* relaxed: the release stores of the pair and the index
		 * come after it; a reader that sees them sees it */
		__atomic_store_n(&s->ops_gen, gen | ION_OPS_TAKING,
				 __ATOMIC_RELAXED);
	else
		/* release: the pair and the index are whole before it */
		__atomic_store_n(&s->ops_gen, gen & ~ION_OPS_TAKING,
				 __ATOMIC_RELEASE);
}

static void
ts_add_ns(struct timespec *t, long ns)
{
	t->tv_nsec += ns;
	while (t->tv_nsec >= 1000000000L) {
		t->tv_nsec -= 1000000000L;
		t->tv_sec++;
	}
}

static int
ts_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec ||
	       (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

static void
deadline_after(struct timespec *t, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, t);
	t->tv_sec += ms / 1000;
	ts_add_ns(t, (long)(ms % 1000) * 1000000L);
}

/*
 * A side's ops counter, from its published index at @idxp.  The pair in
 * use is whole even while gen is odd (the latch), so a fold never makes a
 * reader wait, even one its owner stopped half-way: gen does not move
 * then.  The read is tried again if gen moved during it (a fold
 * overlapped), and while ION_OPS_TAKING is set: a take-back moves the
 * pair and the index, which no single read can see together.  It is
 * quick, but may be preempted, so a reader yields after a while, up to
 * CTRS_WAIT_MS (a take-back that died half-way is redone by the next).
 */
#define CTRS_WAIT_MS 200

static uint64_t
ctrs_ops(const struct ion_ring_ctrs *s, const uint32_t *idxp)
{
	uint64_t base = 0;
	uint32_t mark = 0, idx = 0, gen, tries;
	struct timespec deadline = {0, 0}, now;

	for (tries = 0;; tries++) {
		/* acquire, all: each load is done before the next one, so the
		 * last load of gen sees any fold the others overlapped */
		gen = __atomic_load_n(&s->ops_gen, __ATOMIC_ACQUIRE);
		base = __atomic_load_n(&s->ops_base[ion_ctrs_pair(gen)],
				       __ATOMIC_ACQUIRE);
		mark = __atomic_load_n(&s->ops_mark[ion_ctrs_pair(gen)],
				       __ATOMIC_ACQUIRE);
		idx = __atomic_load_n(idxp, __ATOMIC_ACQUIRE);
		if (__atomic_load_n(&s->ops_gen, __ATOMIC_ACQUIRE) == gen &&
		    (gen & ION_OPS_TAKING) == 0)
			break;
		if (tries < 1000)
			continue;
		if (tries == 1000) {
			deadline_after(&deadline, CTRS_WAIT_MS);
		} else {
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (ts_before(&deadline, &now))
				break;
		}
		sched_yield();
	}
	return base + (uint32_t)(idx - mark);
}

void
ion_ring_stats(const struct ion_ring *r, struct ion_ring_stats *st)
{
	const struct ion_ring_prod_part *pp = ion_ring_prod_part(r);
	const struct ion_ring_cons_part *cp = ion_ring_cons_part(r);

	st->enqueued = ctrs_ops(&pp->ctrs, tail_word(pp));
	st->dequeued = ctrs_ops(&cp->ctrs, &cp->head.idx);
	/* relaxed: counters are monotonic statistics, no data depends on them
	 */
	st->full = __atomic_load_n(&pp->ctrs.stalls, __ATOMIC_RELAXED);
	st->empty = __atomic_load_n(&cp->ctrs.stalls, __ATOMIC_RELAXED);
	st->used = (uint32_t)__atomic_load_n(&pp->pub.word, __ATOMIC_RELAXED) -
		   __atomic_load_n(&cp->head.idx, __ATOMIC_RELAXED);
	if (st->used > r->hdr.capacity) /* the two loads raced; clamp */
		st->used = r->hdr.capacity;
	st->capacity = r->hdr.capacity;
	st->cons_sleeps = __atomic_load_n(&cp->ctrs.sleeps, __ATOMIC_RELAXED);
	st->prod_wakeups = __atomic_load_n(&pp->ctrs.wakeups, __ATOMIC_RELAXED);
	st->prod_sleeps = __atomic_load_n(&pp->ctrs.sleeps, __ATOMIC_RELAXED);
	st->cons_wakeups = __atomic_load_n(&cp->ctrs.wakeups, __ATOMIC_RELAXED);
	st->abandoned = __atomic_load_n(&cp->ctrs.abandoned, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------------ */
/* Doorbells                                                           */
/* ------------------------------------------------------------------ */

/* This process's membarrier registration: 0 not tried yet, 1 registered,
 * -1 unavailable.  A forked child asks again (registration is per mm). */
static int mb_state;

static void
mb_forget(void)
{
	/* relaxed: the child has one thread now */
	__atomic_store_n(&mb_state, 0, __ATOMIC_RELAXED);
}

/* ION_NO_MEMBARRIER=1 (any value but "" or "0"): fence instead. */
static int
membarrier_off(void)
{
	const char *e = getenv("ION_NO_MEMBARRIER");

	return e != NULL && *e != '\0' && strcmp(e, "0") != 0;
}

/* Query and register; 1 registered, -1 unavailable or turned off. */
static int
membarrier_register(void)
{
	long q;

	if (membarrier_off())
		return -1;
	q = syscall(__NR_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
	if (q <= 0 || (q & MEMBARRIER_CMD_GLOBAL_EXPEDITED) == 0 ||
	    (q & MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) == 0)
		return -1;
	return syscall(__NR_membarrier,
		       MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED, 0, 0) == 0
		       ? 1
		       : -1;
}

static int
membarrier_registered(void)
{
	static int atfork_set;
	/* relaxed: the answer is all there is, no data hangs on it */
	int s = __atomic_load_n(&mb_state, __ATOMIC_RELAXED);

	if (s != 0)
		return s > 0;
	/* idempotent: two threads racing here both register, both agree */
	if (!__atomic_exchange_n(&atfork_set, 1, __ATOMIC_RELAXED))
		pthread_atfork(NULL, NULL, mb_forget);
	s = membarrier_register();
	__atomic_store_n(&mb_state, s, __ATOMIC_RELAXED);
	return s > 0;
}

/* At open: the heavy barrier is usable by this end (the environment is
 * read again, so that a test can turn it off for one end). */
static int
membarrier_usable(void)
{
	return !membarrier_off() && membarrier_registered();
}

/*
 * The waiter's barrier between its arm and its look again.
 * @return 0, or -ENOSYS (or membarrier's errno) if only the fence ran.
 */
static int
heavy_barrier(int mb)
{
#if ION_DOORBELL_BREAK == 2
	(void)mb;
	return 0;
#else
	/* seq_cst: pairs with a ringer's fence (fallback); for membarrier,
	 * orders the arm before the syscall on this CPU */
	ion_full_fence();
	if (!mb)
		return -ENOSYS;
	if (syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL_EXPEDITED, 0, 0) !=
	    0)
		return -errno;
	return 0;
#endif
}

int
ion_arm_barrier(void)
{
	/* not membarrier_usable(): its getenv is for opens, not every arm */
	return heavy_barrier(membarrier_registered());
}

/* Block while *word == val, until @abs (CLOCK_MONOTONIC) if not NULL. */
static int
futex_wait(uint32_t *word, uint32_t val, const struct timespec *abs)
{
	/* not FUTEX_PRIVATE_FLAG: the word is in memory other processes map */
	if (syscall(SYS_futex, word, FUTEX_WAIT_BITSET, val, abs, NULL,
		    FUTEX_BITSET_MATCH_ANY) == 0)
		return 0;
	return -errno;
}

static void
futex_wake(uint32_t *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

static void
count(uint64_t *c)
{
	/* relaxed: own counter, readers need only no tearing */
	__atomic_store_n(c, *c + 1, __ATOMIC_RELAXED);
}

/* The sequence of an arming (bits 2-31 of armed). */
#define BELL_SEQ_MASK 0x3fffffffu

static uint32_t
bell_seq(uint64_t armed)
{
	return (uint32_t)(armed >> 2) & BELL_SEQ_MASK;
}

/*
 * At open: this end's local state and its own bell @own (in its part); it
 * rings the other side's bell.  A dead previous owner may have left @own
 * armed: disarm it, keeping its sequence (the ringer's rung refers to it).
 */
static void
bell_open(struct ion_bell_local *l, struct ion_ring_bell *own)
{
	/* relaxed: only this end writes its bell */
	uint64_t armed = __atomic_load_n(&own->armed, __ATOMIC_RELAXED);

	l->pid = (uint32_t)getpid();
	l->mb = (uint8_t)membarrier_usable();
	l->fence = !l->mb;
	l->peer_given = 0;
	l->efd = -1;
	l->peer_fixed = -1;
	l->peer_pid = 0;
	l->peer_gen = 0;
	l->peer_efd = -1;
	l->peer_local = -1;
	/* relaxed: a waiter reads it before arming; the open happened long
	 * before any publish it could miss */
	__atomic_store_n(&own->fences, l->fence, __ATOMIC_RELAXED);
	__atomic_store_n(&own->armed, armed & ~(uint64_t)ION_BELL_FLAGS,
			 __ATOMIC_RELAXED);
	__atomic_store_n(&own->efd, -1, __ATOMIC_RELAXED);
}

static void
bell_close(struct ion_bell_local *l, struct ion_ring_bell *own)
{
	/* relaxed: only this end writes its bell */
	uint64_t armed = __atomic_load_n(&own->armed, __ATOMIC_RELAXED);

	__atomic_store_n(&own->armed, armed & ~(uint64_t)ION_BELL_FLAGS,
			 __ATOMIC_RELAXED);
	__atomic_store_n(&own->efd, -1, __ATOMIC_RELAXED);
	if (l->peer_local >= 0)
		close(l->peer_local);
	l->peer_local = -1;
}

/* The waiter's eventfd as an fd of this process, or -1. */
static int
peer_eventfd(struct ion_bell_local *l, const struct ion_ring_bell *b)
{
	/* relaxed: ordered by the acquire load of armed that decided to
	 * ring, which pairs with the waiter's release arm */
	int efd = __atomic_load_n(&b->efd, __ATOMIC_RELAXED);
	uint32_t pid = __atomic_load_n(&b->pid, __ATOMIC_RELAXED);
	uint32_t gen = __atomic_load_n(&b->efd_gen, __ATOMIC_RELAXED);
	long pidfd;

	if (efd < 0 || pid == l->pid)
		return efd;
	/* given by whoever holds the other end: never look it up from a
	 * page the other side writes */
	if (l->peer_given)
		return l->peer_fixed;
	if (l->peer_pid == pid && l->peer_gen == gen && l->peer_efd == efd &&
	    l->peer_local >= 0)
		return l->peer_local;
	if (l->peer_local >= 0)
		close(l->peer_local);
	l->peer_pid = pid;
	l->peer_gen = gen;
	l->peer_efd = efd;
	l->peer_local = -1;
	pidfd = syscall(SYS_pidfd_open, (pid_t)pid, 0);
	if (pidfd < 0)
		return -1;
	l->peer_local = (int)syscall(SYS_pidfd_getfd, (int)pidfd, efd, 0);
	close((int)pidfd);
	if (l->peer_local < 0)
		l->peer_local = -1;
	return l->peer_local;
}

/*
 * The ringer found the waiter's bell @b armed with @armed after a publish
 * that took its index (@word, the waiter's futex word) to @mine: ring once
 * the waiter's target is reached, once per arming (@own->rung).
 */
static void
bell_slow(struct ion_bell_local *l, struct ion_ring_bell *own,
	  const struct ion_ring_bell *b, uint32_t *word, uint32_t mine,
	  uint64_t armed, struct ion_ring_ctrs *ctrs)
{
	uint32_t flags, seq = bell_seq(armed);

	/* relaxed: only this end writes its rung */
	if (seq == __atomic_load_n(&own->rung, __ATOMIC_RELAXED))
		return; /* rung already; the waiter has not disarmed yet */
	/* short of the target, the waiter would only sleep again */
	if ((int32_t)(mine - (uint32_t)(armed >> 32)) < 0)
		return;
	/* acquire: the waiter's eventfd fields, stored before its release
	 * arm; the arming may have changed since the relaxed look */
	armed = __atomic_load_n(&b->armed, __ATOMIC_ACQUIRE);
	flags = (uint32_t)armed & ION_BELL_FLAGS;
	seq = bell_seq(armed);
	if (flags == 0 || (int32_t)(mine - (uint32_t)(armed >> 32)) < 0 ||
	    seq == __atomic_load_n(&own->rung, __ATOMIC_RELAXED))
		return;
	/* relaxed: the waiter reads it only to pick its next sequence and to
	 * tell, at disarm, that it was rung */
	__atomic_store_n(&own->rung, seq, __ATOMIC_RELAXED);
	if (flags & ION_BELL_EVENTFD) {
		int fd = peer_eventfd(l, b);
		uint64_t one = 1;

		if (fd >= 0 && write(fd, &one, sizeof(one)) < 0) {
			/* EAGAIN: the counter is saturated, so readable
			 * anyway; EBADF: the waiter closed it, its loss */
		}
	}
	if (flags & ION_BELL_FUTEX)
		futex_wake(word);
	count(&ctrs->wakeups);
}

void
ion_prod_bell_slow(struct ion_prod *p, uint64_t armed)
{
	bell_slow(&p->bell, &p->own->bell, &p->peer->bell, tail_word(p->own),
		  p->tail, armed, &p->own->ctrs);
}

void
ion_cons_bell_slow(struct ion_cons *c, uint64_t armed)
{
	bell_slow(&c->bell, &c->own->bell, &c->peer->bell, &c->own->head.idx,
		  c->head, armed, &c->own->ctrs);
}

/*
 * Arm our bell @own: ring when the ringer's index reaches @target.  The
 * new sequence differs from the ringer's rung (@peer), so the arming is
 * never taken for one it already rang.
 */
static void
bell_arm(struct ion_ring_bell *own, const struct ion_ring_bell *peer,
	 uint32_t target, uint32_t flags)
{
#if ION_DOORBELL_BREAK == 1
	(void)own;
	(void)peer;
	(void)target;
	(void)flags;
#else
	/* relaxed: our own word; the ringer's rung, only compared */
	uint32_t seq = bell_seq(__atomic_load_n(&own->armed, __ATOMIC_RELAXED));
	uint32_t rung = __atomic_load_n(&peer->rung, __ATOMIC_RELAXED);

	seq = (seq + 1) & BELL_SEQ_MASK;
	if (seq == rung)
		seq = (seq + 1) & BELL_SEQ_MASK;
	/* release: our eventfd fields before the arm (the ringer acquires) */
	__atomic_store_n(&own->armed,
			 (uint64_t)target << 32 | (uint64_t)seq << 2 | flags,
			 __ATOMIC_RELEASE);
#endif
}

/* @return 1 if the ringer had rung this arming, else 0. */
static int
bell_disarm(struct ion_ring_bell *own, const struct ion_ring_bell *peer)
{
	/* relaxed: our own word */
	uint64_t armed = __atomic_load_n(&own->armed, __ATOMIC_RELAXED);

	if ((armed & ION_BELL_FLAGS) == 0)
		return 0;
	/* relaxed: what the ringer published is loaded again with acquire */
	__atomic_store_n(&own->armed, armed & ~(uint64_t)ION_BELL_FLAGS,
			 __ATOMIC_RELAXED);
	return __atomic_load_n(&peer->rung, __ATOMIC_RELAXED) ==
	       bell_seq(armed);
}

/* The waiter's barrier covers the ringer: membarrier here, or it fences. */
static int
bell_covered(const struct ion_bell_local *l, const struct ion_ring_bell *peer)
{
	/* relaxed: set at the ringer's open */
	return l->mb || __atomic_load_n(&peer->fences, __ATOMIC_RELAXED) != 0;
}

/* Slices in which a waiter sleeps when its arm may be missed. */
#define UNCOVERED_SLICE_NS 1000000L

/*
 * Arm our bell @own, barrier, look at the ringer's index @word again, and
 * sleep on it unless it reached @target.  @deadline NULL: no deadline.
 * @return 0 (look again: woken, word changed, or reached), -ETIMEDOUT,
 *         -EINTR.
 */
static int
bell_sleep(struct ion_bell_local *l, struct ion_ring_bell *own,
	   const struct ion_ring_bell *peer, uint32_t *word, uint32_t target,
	   struct ion_ring_ctrs *ctrs, const struct timespec *deadline)
{
	const struct timespec *until = deadline;
	struct timespec slice;
	uint32_t seen;
	int rc, covered;

	bell_arm(own, peer, target, ION_BELL_FUTEX);
	covered = heavy_barrier(l->mb) == 0 || bell_covered(l, peer);
	/* relaxed: only compared; the caller loads it again with acquire */
	seen = __atomic_load_n(word, __ATOMIC_RELAXED);
	if ((int32_t)(seen - target) >= 0) {
		bell_disarm(own, peer);
		return 0;
	}
	if (!covered) {
		/* the ringer may miss the arm: sleep in slices, look again */
		clock_gettime(CLOCK_MONOTONIC, &slice);
		ts_add_ns(&slice, UNCOVERED_SLICE_NS);
		if (deadline == NULL || ts_before(&slice, deadline))
			until = &slice;
	}
	rc = futex_wait(word, seen, until);
	if (rc != -EAGAIN)
		count(&ctrs->sleeps);
	bell_disarm(own, peer);
	if (rc == -EAGAIN || (rc == -ETIMEDOUT && until != deadline))
		return 0;
	return rc;
}

int
ion_cons_wait(struct ion_cons *c, uint32_t n, int timeout_ms)
{
	struct timespec deadline;
	uint32_t avail;
	int rc;

	if (c == NULL || c->ring == NULL || n == 0 || n > c->mask + 1)
		return -EINVAL;
	if (timeout_ms > 0)
		deadline_after(&deadline, timeout_ms);
	while ((avail = ion_cons_refresh(c)) < n) {
		if (timeout_ms == 0)
			return -ETIMEDOUT;
		/* the futex word is the tail itself: 32-bit loads of it in
		 * the kernel and in bell_sleep, not of the whole word */
		rc = bell_sleep(&c->bell, &c->own->bell, &c->peer->bell,
				tail_word(c->peer), c->head + n, &c->own->ctrs,
				timeout_ms > 0 ? &deadline : NULL);
		if (rc < 0)
			return rc;
	}
	ion_cons_set_view(c, avail);
	return (int)avail;
}

int
ion_prod_wait(struct ion_prod *p, uint32_t n, int timeout_ms)
{
	struct timespec deadline;
	uint32_t room;
	int rc;

	if (p == NULL || p->ring == NULL || n == 0 || n > p->capacity)
		return -EINVAL;
	if (timeout_ms > 0)
		deadline_after(&deadline, timeout_ms);
	while ((room = ion_prod_room(p)) < n) {
		if (timeout_ms == 0)
			return -ETIMEDOUT;
		/* free >= n  <=>  head >= tail + n - capacity */
		rc = bell_sleep(&p->bell, &p->own->bell, &p->peer->bell,
				(uint32_t *)(uintptr_t)&p->peer->head.idx,
				p->tail + n - p->capacity, &p->own->ctrs,
				timeout_ms > 0 ? &deadline : NULL);
		if (rc < 0)
			return rc;
	}
	p->reserved = room;
	return (int)room;
}

static int
bell_set_eventfd(struct ion_bell_local *l, struct ion_ring_bell *own, int fd)
{
	if (fd < -1)
		return -EINVAL;
	/* relaxed: only we arm it */
	if ((__atomic_load_n(&own->armed, __ATOMIC_RELAXED) & ION_BELL_FLAGS) !=
	    0)
		return -EBUSY;
	l->efd = fd;
	/* relaxed: published by the release of the next arm */
	__atomic_store_n(&own->efd, fd, __ATOMIC_RELAXED);
	__atomic_store_n(&own->pid, l->pid, __ATOMIC_RELAXED);
	__atomic_store_n(&own->efd_gen, own->efd_gen + 1, __ATOMIC_RELAXED);
	return 0;
}

int
ion_cons_set_eventfd(struct ion_cons *c, int fd)
{
	if (c == NULL || c->ring == NULL)
		return -EINVAL;
	return bell_set_eventfd(&c->bell, &c->own->bell, fd);
}

int
ion_prod_set_eventfd(struct ion_prod *p, int fd)
{
	if (p == NULL || p->ring == NULL)
		return -EINVAL;
	return bell_set_eventfd(&p->bell, &p->own->bell, fd);
}

static void
bell_set_peer(struct ion_bell_local *l, int fd)
{
	if (l->peer_local >= 0)
		close(l->peer_local);
	l->peer_local = -1;
	l->peer_given = 1;
	l->peer_fixed = fd < 0 ? -1 : fd;
}

int
ion_cons_set_peer_eventfd(struct ion_cons *c, int fd)
{
	if (c == NULL || c->ring == NULL)
		return -EINVAL;
	bell_set_peer(&c->bell, fd);
	return 0;
}

int
ion_prod_set_peer_eventfd(struct ion_prod *p, int fd)
{
	if (p == NULL || p->ring == NULL)
		return -EINVAL;
	bell_set_peer(&p->bell, fd);
	return 0;
}

static int
bell_arm_eventfd(struct ion_bell_local *l, struct ion_ring_bell *own,
		 const struct ion_ring_bell *peer, uint32_t target,
		 struct ion_ring_ctrs *ctrs)
{
	if (l->efd < 0)
		return -EBADF;
	if (!bell_covered(l, peer))
		return -EOPNOTSUPP;
	bell_arm(own, peer, target, ION_BELL_EVENTFD);
	count(&ctrs->sleeps);
	return 0;
}

int
ion_cons_arm(struct ion_cons *c)
{
	if (c == NULL || c->ring == NULL)
		return -EINVAL;
	return bell_arm_eventfd(&c->bell, &c->own->bell, &c->peer->bell,
				c->head + 1, &c->own->ctrs);
}

int
ion_prod_arm(struct ion_prod *p, uint32_t n)
{
	if (p == NULL || p->ring == NULL || n == 0 || n > p->capacity)
		return -EINVAL;
	return bell_arm_eventfd(&p->bell, &p->own->bell, &p->peer->bell,
				p->tail + n - p->capacity, &p->own->ctrs);
}

int
ion_cons_disarm(struct ion_cons *c)
{
	return bell_disarm(&c->own->bell, &c->peer->bell);
}

int
ion_prod_disarm(struct ion_prod *p)
{
	return bell_disarm(&p->own->bell, &p->peer->bell);
}

/*
 * Endpoint claims are control path: one compare-and-swap per open, never on
 * the data path.  The owner word, in the end's own part, holds a pid so
 * that a claim left by a dead process can be taken over.
 */
static int
claim(uint32_t *owner)
{
	uint32_t me = (uint32_t)getpid();
	uint32_t cur = 0;

	for (;;) {
		/* acq_rel: order the claim against the handle's index loads */
		if (__atomic_compare_exchange_n(owner, &cur, me, 0,
						__ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE))
			return 0;
		if (cur == me || kill((pid_t)cur, 0) == 0 || errno != ESRCH)
			return -EBUSY;
		/* the holder is dead: retry the exchange against its pid */
	}
}

static void
unclaim(uint32_t *owner)
{
	/* release: our last index store happens before the end is free */
	__atomic_store_n(owner, 0, __ATOMIC_RELEASE);
}

static int
ring_valid(const struct ion_ring *r)
{
	return r != NULL &&
	       ion_ring_check(r, r->hdr.total_size, NULL, NULL, 0) == 0;
}

int
ion_prod_open(struct ion_prod *p, struct ion_ring *r)
{
	struct ion_ring_prod_part *own;
	uint64_t w;
	int rc;

	if (p == NULL || !ring_valid(r))
		return -EBADMSG;
	own = ion_ring_prod_part(r);
	rc = claim(&own->bell.owner);
	if (rc < 0)
		return rc;
	p->ring = r;
	p->own = own;
	p->peer = ion_ring_cons_part(r);
	p->desc = (struct ion_slot *)((uint8_t *)r + r->hdr.desc_offset);
	p->slots = (uint8_t *)r + r->hdr.slots_offset;
	p->capacity = r->hdr.capacity;
	p->mask = r->hdr.capacity - 1;
	p->stride = r->hdr.slot_stride;
	p->spread = r->hdr.slot_spread;
	p->spread_shift = (uint32_t)__builtin_ctz(r->hdr.capacity) - p->spread;
	/* relaxed: only we write tail; the claim's acquire ordered this */
	w = __atomic_load_n(&own->pub.word, __ATOMIC_RELAXED);
	p->tail = (uint32_t)w;
	/* the window a producer before us left (garbage: none) */
	p->pub_win =
		(uint32_t)(w >> 32) <= ION_PUB_DESCS ? (uint32_t)(w >> 32) : 0;
	p->pub_on = r->hdr.capacity <= ION_PUB_MAX_CAPACITY;
	/* acquire: as in reserve, slots below head are free to overwrite */
	p->head_cache = __atomic_load_n(&p->peer->head.idx, __ATOMIC_ACQUIRE);
	if (p->tail - p->head_cache > p->capacity)
		p->head_cache = p->tail - p->capacity; /* garbage: full */
	p->reserved = 0;
	bell_open(&p->bell, &own->bell);
	return 0;
}

void
ion_prod_close(struct ion_prod *p)
{
	if (p == NULL || p->ring == NULL)
		return;
	bell_close(&p->bell, &p->own->bell);
	unclaim(&p->own->bell.owner);
	p->ring = NULL;
}

int
ion_cons_open(struct ion_cons *c, struct ion_ring *r)
{
	struct ion_ring_cons_part *own;
	int rc;

	if (c == NULL || !ring_valid(r))
		return -EBADMSG;
	own = ion_ring_cons_part(r);
	rc = claim(&own->bell.owner);
	if (rc < 0)
		return rc;
	c->ring = r;
	c->own = own;
	c->peer = ion_ring_prod_part(r);
	c->desc = (const struct ion_slot *)((uint8_t *)r + r->hdr.desc_offset);
	c->view = c->desc;
	c->slots = (uint8_t *)r + r->hdr.slots_offset;
	c->mask = r->hdr.capacity - 1;
	c->view_mask = c->mask;
	c->stride = r->hdr.slot_stride;
	c->spread = r->hdr.slot_spread;
	c->spread_shift = (uint32_t)__builtin_ctz(r->hdr.capacity) - c->spread;
	c->slot_size = r->hdr.slot_size;
	/* relaxed: only we write head */
	c->head = __atomic_load_n(&own->head.idx, __ATOMIC_RELAXED);
	c->tail_cache = c->head;
	c->pub_first = c->pub_tail = c->head;
	c->peeked = 0;
	ion_cons_set_hold(c, 0);
	__atomic_store_n(&own->ctrs.reading, c->head, __ATOMIC_RELAXED);
	/* acquire: slots below tail are written (and their descriptors) */
	ion_cons_refresh(c);
	bell_open(&c->bell, &own->bell);
	return 0;
}

void
ion_cons_set_hold(struct ion_cons *c, uint32_t cycles)
{
	uint32_t cap = c->mask + 1;

	if (cap <= UINT32_MAX / 16 && cycles > cap * 16)
		cycles = cap * 16;
	/* no cycle counter on this CPU: nothing to time a hold with */
	c->hold_cycles = ion_cycles() != 0 ? cycles : 0;
	c->streak = 0;
	c->empty_at = 0;
	c->hold_until = 0;
}

void
ion_cons_close(struct ion_cons *c)
{
	if (c == NULL || c->ring == NULL)
		return;
	bell_close(&c->bell, &c->own->bell);
	unclaim(&c->own->bell.owner);
	c->ring = NULL;
}

uint32_t
ion_ring_take_back(struct ion_ring *r, enum ion_end end)
{
	struct ion_ring_cons_part *cp = ion_ring_cons_part(r);
	struct ion_ring_prod_part *pp = ion_ring_prod_part(r);
	struct ion_ring_bell *bell =
		end == ION_END_CONS ? &cp->bell : &pp->bell;
	uint32_t cap = r->hdr.capacity, skipped = 0;
	/* acquire: whatever the dead end published is read after this */
	uint64_t w = __atomic_load_n(&pp->pub.word, __ATOMIC_ACQUIRE);
	uint32_t head = __atomic_load_n(&cp->head.idx, __ATOMIC_ACQUIRE);
	uint32_t tail = (uint32_t)w;

	/* stats readers wait until the pair and the index agree again */
	ctrs_taking(end == ION_END_CONS ? &cp->ctrs : &pp->ctrs, true);
	if (end == ION_END_CONS) {
		/* relaxed: its process is gone; nothing else writes it */
		uint32_t reading =
			__atomic_load_n(&cp->ctrs.reading, __ATOMIC_RELAXED);

		uint32_t counted = head; /* dequeued up to its head */

		if (tail - head > cap) {
			/* garbage: drop what was in the ring; its last peek
			 * (if that is in the ring) says what it had taken */
			if (tail - reading <= cap) {
				skipped = tail - reading;
				counted = reading;
			} else {
				/* relaxed: the end is ours now */
				uint32_t gen = __atomic_load_n(
					&cp->ctrs.ops_gen, __ATOMIC_RELAXED);

				counted = __atomic_load_n(
					&cp->ctrs.ops_mark[ion_ctrs_pair(gen)],
					__ATOMIC_RELAXED);
			}
			head = tail;
		} else if (reading - head <= tail - head) {
			skipped = reading - head;
			head = reading;
		}
		/* what is skipped is abandoned, not dequeued */
		ctrs_rebase(&cp->ctrs, counted, head);
		__atomic_store_n(&cp->ctrs.abandoned,
				 cp->ctrs.abandoned + skipped,
				 __ATOMIC_RELAXED);
		__atomic_store_n(&cp->ctrs.reading, head, __ATOMIC_RELAXED);
		/* release: the producer may reuse what is skipped */
		__atomic_store_n(&cp->head.idx, head, __ATOMIC_RELEASE);
	} else if (tail - head > cap || (uint32_t)(w >> 32) > ION_PUB_DESCS) {
		/* garbage: publish nothing beyond the consumer's head */
		__atomic_store_n(&pp->pub.word, head, __ATOMIC_RELEASE);
		/* enqueued: what the consumer has seen of it */
		ctrs_rebase(&pp->ctrs, head, head);
	} else {
		/* a fold the dead producer left half done (odd) is redone */
		ctrs_rebase(&pp->ctrs, tail, tail);
	}
	ctrs_taking(end == ION_END_CONS ? &cp->ctrs : &pp->ctrs, false);
	__atomic_store_n(&bell->armed,
			 __atomic_load_n(&bell->armed, __ATOMIC_RELAXED) &
				 ~(uint64_t)ION_BELL_FLAGS,
			 __ATOMIC_RELAXED);
	__atomic_store_n(&bell->efd, -1, __ATOMIC_RELAXED);
	/* release: the state above is what the next owner starts from */
	__atomic_store_n(&bell->owner, 0, __ATOMIC_RELEASE);
	return skipped;
}

int
ion_prod_reserve_wait(struct ion_prod *p, uint32_t n, uint32_t min,
		      ion_yield_fn yield, void *arg)
{
	uint64_t spins = 0;
	uint32_t got;

	if (n == 0 || min > n || min > p->capacity)
		return -EINVAL;
	while ((got = ion_prod_reserve(p, n)) < min || got == 0) {
		if (yield(arg, spins++) != 0)
			return -EAGAIN;
	}
	return (int)got;
}

int
ion_cons_peek_wait(struct ion_cons *c, uint32_t n, uint32_t min,
		   ion_yield_fn yield, void *arg)
{
	uint64_t spins = 0;
	uint32_t got;

	if (n == 0 || min > n || min > c->mask + 1)
		return -EINVAL;
	while ((got = ion_cons_peek(c, n)) < min || got == 0) {
		if (yield(arg, spins++) != 0)
			return -EAGAIN;
	}
	return (int)got;
}

int
ion_yield_backoff(void *arg, uint64_t spins)
{
	(void)arg;
	if (spins < 64) {
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause();
#elif defined(__aarch64__)
		__asm__ volatile("yield");
#endif
	} else {
		/* the other side may share our CPU: let it run */
		struct timespec ts = {0, spins < 1024 ? 1000 : 50000};

		nanosleep(&ts, NULL);
	}
	return 0;
}
