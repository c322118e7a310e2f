/* SPDX-License-Identifier: BSD-3-Clause */
/* Ring layout, header checks, endpoint claims and waiting helpers. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "ion_ring.h"

_Static_assert(sizeof(struct ion_ring) == 5 * ION_RING_ALIGN,
	       "header, two indices and two counter blocks, 128 bytes each");
_Static_assert(offsetof(struct ion_ring, tail) == ION_RING_ALIGN,
	       "producer index on its own 128-byte block");
_Static_assert(sizeof(struct ion_slot) == 8, "slot descriptor is 8 bytes");
_Static_assert(sizeof(struct ion_ring_hdr) == ION_RING_ALIGN,
	       "the header fits its 128-byte block");

static int
params_ok(uint32_t capacity, uint32_t slot_size)
{
	return capacity >= 2 && capacity <= ION_RING_MAX_CAPACITY &&
	       (capacity & (capacity - 1)) == 0 && slot_size >= 1 &&
	       slot_size <= ION_RING_MAX_SLOT_SIZE;
}

size_t
ion_ring_memsize(uint32_t capacity, uint32_t slot_size)
{
	if (!params_ok(capacity, slot_size))
		return 0;
	return sizeof(struct ion_ring) + ion_desc_bytes(capacity) +
	       (size_t)capacity * ion_slot_stride(slot_size);
}

int
ion_ring_init(void *mem, size_t len, const struct ion_ring_params *p)
{
	struct ion_ring *r = mem;
	size_t need;

	if (mem == NULL || p == NULL ||
	    ((uintptr_t)mem & (ION_RING_ALIGN - 1)) != 0)
		return -EINVAL;
	need = ion_ring_memsize(p->capacity, p->slot_size);
	if (need == 0)
		return -EINVAL;
	if (len < need)
		return -ENOSPC;

	memset(r, 0, sizeof(*r));
	r->hdr.version = ION_RING_VERSION;
	r->hdr.channel = p->channel;
	r->hdr.capacity = p->capacity;
	r->hdr.slot_size = p->slot_size;
	r->hdr.slot_stride = ion_slot_stride(p->slot_size);
	r->hdr.desc_offset = sizeof(*r);
	r->hdr.slots_offset = sizeof(*r) + ion_desc_bytes(p->capacity);
	r->hdr.total_size = need;
	if (p->name != NULL)
		snprintf(r->hdr.name, sizeof(r->hdr.name), "%s", p->name);
	r->tail.idx = p->start_index;
	r->head.idx = p->start_index;
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
	if (len < sizeof(*r)) {
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
	if (!params_ok(h->capacity, h->slot_size) ||
	    h->slot_stride != ion_slot_stride(h->slot_size) ||
	    h->desc_offset != sizeof(*r) ||
	    h->slots_offset != sizeof(*r) + ion_desc_bytes(h->capacity) ||
	    h->total_size != ion_ring_memsize(h->capacity, h->slot_size)) {
		snprintf(why, whylen,
			 "corrupt header: capacity %u, slot size %u, stride "
			 "%u, slots at %llu, total %llu",
			 h->capacity, h->slot_size, h->slot_stride,
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

void
ion_ring_stats(const struct ion_ring *r, struct ion_ring_stats *st)
{
	/* relaxed: counters are monotonic statistics, no data depends on them
	 */
	st->enqueued = __atomic_load_n(&r->prod.ops, __ATOMIC_RELAXED);
	st->full = __atomic_load_n(&r->prod.stalls, __ATOMIC_RELAXED);
	st->dequeued = __atomic_load_n(&r->cons.ops, __ATOMIC_RELAXED);
	st->empty = __atomic_load_n(&r->cons.stalls, __ATOMIC_RELAXED);
	st->used = __atomic_load_n(&r->tail.idx, __ATOMIC_RELAXED) -
		   __atomic_load_n(&r->head.idx, __ATOMIC_RELAXED);
	if (st->used > r->hdr.capacity) /* the two loads raced; clamp */
		st->used = r->hdr.capacity;
	st->capacity = r->hdr.capacity;
}

/*
 * Endpoint claims are control path: one compare-and-swap per open, never on
 * the data path.  The owner word holds a pid so that a claim left by a dead
 * process can be taken over.
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
	int rc;

	if (p == NULL || !ring_valid(r))
		return -EBADMSG;
	rc = claim(&r->hdr.prod_owner);
	if (rc < 0)
		return rc;
	p->ring = r;
	p->desc = (struct ion_slot *)((uint8_t *)r + r->hdr.desc_offset);
	p->slots = (uint8_t *)r + r->hdr.slots_offset;
	p->capacity = r->hdr.capacity;
	p->mask = r->hdr.capacity - 1;
	p->stride = r->hdr.slot_stride;
	/* relaxed: only we write tail; the claim's acquire ordered this */
	p->tail = __atomic_load_n(&r->tail.idx, __ATOMIC_RELAXED);
	/* acquire: as in reserve, slots below head are free to overwrite */
	p->head_cache = __atomic_load_n(&r->head.idx, __ATOMIC_ACQUIRE);
	p->reserved = 0;
	return 0;
}

void
ion_prod_close(struct ion_prod *p)
{
	if (p == NULL || p->ring == NULL)
		return;
	unclaim(&p->ring->hdr.prod_owner);
	p->ring = NULL;
}

int
ion_cons_open(struct ion_cons *c, struct ion_ring *r)
{
	int rc;

	if (c == NULL || !ring_valid(r))
		return -EBADMSG;
	rc = claim(&r->hdr.cons_owner);
	if (rc < 0)
		return rc;
	c->ring = r;
	c->desc = (const struct ion_slot *)((uint8_t *)r + r->hdr.desc_offset);
	c->slots = (uint8_t *)r + r->hdr.slots_offset;
	c->mask = r->hdr.capacity - 1;
	c->stride = r->hdr.slot_stride;
	/* relaxed: only we write head */
	c->head = __atomic_load_n(&r->head.idx, __ATOMIC_RELAXED);
	/* acquire: slots below tail are written */
	c->tail_cache = __atomic_load_n(&r->tail.idx, __ATOMIC_ACQUIRE);
	c->peeked = 0;
	return 0;
}

void
ion_cons_close(struct ion_cons *c)
{
	if (c == NULL || c->ring == NULL)
		return;
	unclaim(&c->ring->hdr.cons_owner);
	c->ring = NULL;
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
