/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Single-thread semantics of the ION ring, its header checks, the CSpace
 * and the channel table.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ion_ring.h>

#include "cunit_main.h"

/* A ring in plain aligned memory; free() it. */
static struct ion_ring *
ring_new(uint32_t capacity, uint32_t slot_size, uint32_t start)
{
	struct ion_ring_params p = {
		.channel = 0x0500,
		.capacity = capacity,
		.slot_size = slot_size,
		.start_index = start,
		.name = "test",
	};
	size_t len = ion_ring_memsize(capacity, slot_size);
	void *mem = aligned_alloc(ION_RING_ALIGN, len);

	CU_ASSERT_FATAL(mem != NULL);
	CU_ASSERT_FATAL(ion_ring_init(mem, len, &p) == 0);
	return mem;
}

/* A ring with both ends open. */
struct pair {
	struct ion_ring *r;
	struct ion_prod p;
	struct ion_cons c;
};

static void
pair_open(struct pair *x, uint32_t capacity, uint32_t slot_size, uint32_t start)
{
	x->r = ring_new(capacity, slot_size, start);
	CU_ASSERT_FATAL(ion_prod_open(&x->p, x->r) == 0);
	CU_ASSERT_FATAL(ion_cons_open(&x->c, x->r) == 0);
}

static void
pair_close(struct pair *x)
{
	ion_prod_close(&x->p);
	ion_cons_close(&x->c);
	free(x->r);
}

static void
test_params(void)
{
	struct ion_ring_params p = {
		.channel = 1, .capacity = 8, .slot_size = 1};
	void *mem;

	CU_ASSERT(ion_ring_memsize(0, 64) == 0);
	CU_ASSERT(ion_ring_memsize(1, 64) == 0);
	CU_ASSERT(ion_ring_memsize(3, 64) == 0);
	CU_ASSERT(ion_ring_memsize(ION_RING_MAX_CAPACITY * 2, 64) == 0);
	CU_ASSERT(ion_ring_memsize(8, 0) == 0);
	CU_ASSERT(ion_ring_memsize(8, ION_RING_MAX_SLOT_SIZE + 1) == 0);
	/* a network slot holds a whole frame; strides are whole lines */
	CU_ASSERT(ion_slot_stride(1514) == 1536);
	CU_ASSERT(ion_slot_stride(56) == 64);
	CU_ASSERT(ion_slot_stride(57) == 64);
	CU_ASSERT(ion_slot_stride(64) == 64);
	CU_ASSERT(ion_slot_stride(65) == 128);
	/* header and consumer's page, then the producer's pages: its
	 * control lines, descriptors (8 bytes a slot, in whole 128-byte
	 * blocks) and data, to a whole page */
	CU_ASSERT(ion_ring_memsize(256, 1514) ==
		  8192 + 97 * 4096); /* 384 + 2048 + 256 * 1536 */
	CU_ASSERT(ion_ring_memsize(4, 64) == 8192 + 4096);
	{
		struct ion_ring_layout l;

		/* a producer's part in 2 MiB pages starts on one */
		CU_ASSERT(ion_ring_layout(256, 1514, 2u << 20, &l) == 0);
		CU_ASSERT(l.cons_offset == 4096 && l.prod_offset == 2u << 20);
		CU_ASSERT(l.desc_offset == (2u << 20) + 384);
		CU_ASSERT(l.total_size == 4u << 20);
		CU_ASSERT(ion_ring_layout(256, 1514, 3000, &l) == -EINVAL);
	}

	mem = aligned_alloc(ION_RING_ALIGN, 4096);
	CU_ASSERT_FATAL(mem != NULL);
	CU_ASSERT(ion_ring_init((char *)mem + 64, 2048, &p) == -EINVAL);
	CU_ASSERT(ion_ring_init(mem, 896, &p) == -ENOSPC);
	p.capacity = 6;
	CU_ASSERT(ion_ring_init(mem, 4096, &p) == -EINVAL);
	free(mem);
}

static void
test_layout(void)
{
	struct pair x;
	uint32_t i;

	pair_open(&x, 16, 100, 0);
	/* the header alone in page 0, each side's state in a page of its
	 * own: consumer at 4096, producer from 8192 */
	CU_ASSERT(x.r->hdr.page_size == 4096);
	CU_ASSERT(x.r->hdr.cons_offset == 4096);
	CU_ASSERT(x.r->hdr.prod_offset == 8192);
	CU_ASSERT((char *)x.c.own - (char *)x.r == 4096);
	CU_ASSERT((char *)x.p.own - (char *)x.r == 8192);
	CU_ASSERT(x.p.peer == x.c.own && x.c.peer == x.p.own);
	/* in a part, index (with what is published with it), counters and
	 * doorbell on 128-byte blocks of their own */
	CU_ASSERT((char *)&x.p.own->pub.word - (char *)x.r == 8192);
	CU_ASSERT((char *)&x.p.own->ctrs - (char *)x.r == 8192 + 128);
	CU_ASSERT((char *)&x.p.own->bell - (char *)x.r == 8192 + 256);
	CU_ASSERT((char *)&x.c.own->head - (char *)x.r == 4096);
	CU_ASSERT((char *)&x.c.own->ctrs - (char *)x.r == 4096 + 128);
	CU_ASSERT((char *)&x.c.own->bell - (char *)x.r == 4096 + 256);
	CU_ASSERT(x.r->hdr.desc_offset == 8192 + 384);
	CU_ASSERT(x.r->hdr.slots_offset == 8192 + 384 + 128);
	CU_ASSERT(x.r->hdr.total_size == 8192 + 4096);
	/* the claims are in the parts: each side writes only its own */
	CU_ASSERT(x.p.own->bell.owner == (uint32_t)getpid());
	CU_ASSERT(x.c.own->bell.owner == (uint32_t)getpid());
	CU_ASSERT_FATAL(ion_prod_reserve(&x.p, 16) == 16);
	/* every slot's data starts a cache line; descriptors are packed */
	for (i = 0; i < 16; i++) {
		CU_ASSERT(((uintptr_t)ion_prod_data(&x.p, i) & 63) == 0);
		CU_ASSERT((char *)ion_prod_slot(&x.p, i) ==
			  (char *)x.r + 8192 + 384 + 8 * i);
	}
	pair_close(&x);
}

static void
test_empty(void)
{
	struct ion_ring_stats st;
	struct pair x;
	char buf[64];

	pair_open(&x, 8, 64, 0);
	CU_ASSERT(ion_cons_peek(&x.c, 1) == 0);
	CU_ASSERT(ion_cons_peek(&x.c, 32) == 0);
	CU_ASSERT(ion_dequeue(&x.c, buf, sizeof(buf)) == -EAGAIN);
	ion_ring_stats(x.r, &st);
	CU_ASSERT(st.empty == 3);
	CU_ASSERT(st.used == 0 && st.enqueued == 0 && st.dequeued == 0);
	pair_close(&x);
}

static void
test_full_exact_capacity(void)
{
	struct ion_ring_stats st;
	struct pair x;
	uint32_t i;

	pair_open(&x, 8, 64, 0);
	CU_ASSERT_FATAL(ion_prod_reserve(&x.p, 8) == 8);
	for (i = 0; i < 8; i++) {
		ion_prod_slot(&x.p, i)->len = 4;
		memcpy(ion_prod_data(&x.p, i), &i, 4);
	}
	ion_prod_commit(&x.p, 8);
	CU_ASSERT(ion_prod_reserve(&x.p, 1) == 0);
	CU_ASSERT(ion_enqueue(&x.p, "x", 1) == -ENOBUFS);
	ion_ring_stats(x.r, &st);
	CU_ASSERT(st.used == 8 && st.enqueued == 8 && st.full == 2);

	/* asking for more than there is gets what there is */
	CU_ASSERT_FATAL(ion_cons_peek(&x.c, 100) == 8);
	for (i = 0; i < 8; i++)
		CU_ASSERT(memcmp(ion_cons_data(&x.c, i), &i, 4) == 0);
	ion_cons_release(&x.c, 3);
	/* the producer gets exactly the released slots back */
	CU_ASSERT(ion_prod_reserve(&x.p, 8) == 3);
	ion_prod_commit(&x.p, 0);
	ion_ring_stats(x.r, &st);
	CU_ASSERT(st.used == 5 && st.dequeued == 3);
	pair_close(&x);
}

static void
test_partial_commit(void)
{
	struct pair x;
	uint32_t i;

	pair_open(&x, 8, 16, 0);
	CU_ASSERT_FATAL(ion_prod_reserve(&x.p, 4) == 4);
	for (i = 0; i < 4; i++)
		ion_prod_slot(&x.p, i)->tag = 100 + i;
	ion_prod_commit(&x.p, 2);
	CU_ASSERT_FATAL(ion_cons_peek(&x.c, 8) == 2);
	CU_ASSERT(ion_cons_slot(&x.c, 0)->tag == 100);
	CU_ASSERT(ion_cons_slot(&x.c, 1)->tag == 101);
	/* releasing fewer than peeked leaves the rest in place */
	ion_cons_release(&x.c, 1);
	CU_ASSERT_FATAL(ion_cons_peek(&x.c, 8) == 1);
	CU_ASSERT(ion_cons_slot(&x.c, 0)->tag == 101);
	ion_cons_release(&x.c, 1);
	CU_ASSERT(ion_cons_peek(&x.c, 1) == 0);
	pair_close(&x);
}

/*
 * Push @p rounds bursts of varying size through a ring whose indices start
 * at @p start, checking every message's sequence number on the way out.
 */
static void
run_bursts(uint32_t capacity, uint32_t start, uint32_t rounds)
{
	static const uint32_t sizes[] = {1, 3, 5, 7, 8, 2, 6, 4};
	uint32_t seq_in = 0, seq_out = 0, r, i, n, got;
	struct pair x;

	pair_open(&x, capacity, 8, start);
	for (r = 0; r < rounds; r++) {
		n = sizes[r % 8] % (capacity + 1);
		got = ion_prod_reserve(&x.p, n);
		for (i = 0; i < got; i++) {
			struct ion_slot *s = ion_prod_slot(&x.p, i);
			uint8_t *sd = ion_prod_data(&x.p, i);

			s->len = sizeof(seq_in);
			memcpy(sd, &seq_in, sizeof(seq_in));
			seq_in++;
		}
		ion_prod_commit(&x.p, got);
		got = ion_cons_peek(&x.c, sizes[(r + 3) % 8]);
		for (i = 0; i < got; i++) {
			uint32_t v;

			memcpy(&v, ion_cons_data(&x.c, i), sizeof(v));
			if (v != seq_out)
				CU_FAIL_FATAL(
					"sequence broken across the wrap");
			seq_out++;
		}
		ion_cons_release(&x.c, got);
	}
	/* drain */
	while ((got = ion_cons_peek(&x.c, capacity)) > 0) {
		for (i = 0; i < got; i++) {
			uint32_t v;

			memcpy(&v, ion_cons_data(&x.c, i), sizeof(v));
			CU_ASSERT_FATAL(v == seq_out);
			seq_out++;
		}
		ion_cons_release(&x.c, got);
	}
	CU_ASSERT(seq_in == seq_out);
	CU_ASSERT(seq_in > rounds); /* the ring was not just idling */
	pair_close(&x);
}

static void
test_bursts_across_wrap(void)
{
	run_bursts(8, 5, 10000);
	run_bursts(16, 0, 10000);
}

static void
test_indices_near_limit(void)
{
	struct ion_ring_stats st;
	struct pair x;

	/* the free-running indices cross UINT32_MAX within a few bursts */
	run_bursts(8, UINT32_MAX - 10, 1000);
	run_bursts(4, UINT32_MAX, 100);

	/* full and empty stay right with tail numerically below head */
	pair_open(&x, 4, 8, UINT32_MAX - 1);
	CU_ASSERT(ion_prod_reserve(&x.p, 4) == 4);
	ion_prod_commit(&x.p, 4);
	CU_ASSERT((uint32_t)x.p.own->pub.word == 2);
	CU_ASSERT(ion_prod_reserve(&x.p, 1) == 0);
	ion_ring_stats(x.r, &st);
	CU_ASSERT(st.used == 4);
	CU_ASSERT(ion_cons_peek(&x.c, 4) == 4);
	ion_cons_release(&x.c, 4);
	CU_ASSERT(ion_cons_peek(&x.c, 1) == 0);
	pair_close(&x);
}

static void
test_lengths(void)
{
	uint8_t full[400], out[200];
	const void *bufs[3];
	uint32_t lens[3];
	struct pair x;
	int i;

	for (i = 0; i < (int)sizeof(full); i++)
		full[i] = (uint8_t)(i * 7 + 1);
	pair_open(&x, 8, 200, 0);
	CU_ASSERT(ion_enqueue(&x.p, full, 0) == 0);
	CU_ASSERT(ion_enqueue(&x.p, full, 200) == 0);
	CU_ASSERT(ion_enqueue(&x.p, full, 201) == -EMSGSIZE);
	CU_ASSERT(ion_dequeue(&x.c, out, sizeof(out)) == 0);
	memset(out, 0, sizeof(out));
	CU_ASSERT(ion_dequeue(&x.c, out, sizeof(out)) == 200);
	CU_ASSERT(memcmp(out, full, 200) == 0);

	/* a burst stops at the first oversize message and says where */
	bufs[0] = bufs[1] = bufs[2] = full;
	lens[0] = 10;
	lens[1] = 300;
	lens[2] = 10;
	CU_ASSERT(ion_enqueue_burst(&x.p, bufs, lens, 3) == 1);
	CU_ASSERT(ion_dequeue(&x.c, out, sizeof(out)) == 10);
	CU_ASSERT(ion_dequeue(&x.c, out, sizeof(out)) == -EAGAIN);

	/* a message that does not fit the caller's buffer stays queued */
	CU_ASSERT(ion_enqueue(&x.p, full, 150) == 0);
	CU_ASSERT(ion_dequeue(&x.c, out, 100) == -EMSGSIZE);
	CU_ASSERT(ion_dequeue(&x.c, out, 150) == 150);
	pair_close(&x);
}

static void
test_copy_bursts(void)
{
	uint8_t in[4][32], out[4][32];
	const void *src[4];
	void *dst[4];
	uint32_t lens[4], olens[4], i;
	struct pair x;

	pair_open(&x, 4, 32, 0);
	for (i = 0; i < 4; i++) {
		memset(in[i], (int)i + 1, sizeof(in[i]));
		src[i] = in[i];
		dst[i] = out[i];
		lens[i] = 8 * (i + 1);
	}
	CU_ASSERT(ion_enqueue_burst(&x.p, src, lens, 4) == 4);
	CU_ASSERT(ion_enqueue_burst(&x.p, src, lens, 4) == 0);
	CU_ASSERT(ion_dequeue_burst(&x.c, dst, olens, 3) == 3);
	for (i = 0; i < 3; i++) {
		CU_ASSERT(olens[i] == lens[i]);
		CU_ASSERT(memcmp(out[i], in[i], lens[i]) == 0);
	}
	CU_ASSERT(ion_dequeue_burst(&x.c, dst, olens, 4) == 1);
	CU_ASSERT(olens[0] == 32 && out[0][0] == 4);
	pair_close(&x);
}

static int
give_up_after_3(void *arg, uint64_t spins)
{
	unsigned int *calls = arg;

	(*calls)++;
	return spins >= 2;
}

static void
test_wait_helpers(void)
{
	unsigned int calls = 0;
	struct pair x;

	pair_open(&x, 4, 8, 0);
	/* free space: no yield at all */
	CU_ASSERT(ion_prod_reserve_wait(&x.p, 4, 4, give_up_after_3, &calls) ==
		  4);
	CU_ASSERT(calls == 0);
	ion_prod_commit(&x.p, 4);
	/* full: the callback decides, the ring does not block */
	CU_ASSERT(ion_prod_reserve_wait(&x.p, 1, 1, give_up_after_3, &calls) ==
		  -EAGAIN);
	CU_ASSERT(calls == 3);
	CU_ASSERT(ion_cons_peek_wait(&x.c, 8, 2, give_up_after_3, &calls) == 4);
	ion_cons_release(&x.c, 4);
	calls = 0;
	CU_ASSERT(ion_cons_peek_wait(&x.c, 1, 1, give_up_after_3, &calls) ==
		  -EAGAIN);
	CU_ASSERT(calls == 3);
	CU_ASSERT(ion_cons_peek_wait(&x.c, 1, 2, give_up_after_3, &calls) ==
		  -EINVAL);
	CU_ASSERT(ion_prod_reserve_wait(&x.p, 8, 8, give_up_after_3, &calls) ==
		  -EINVAL);
	CU_ASSERT(ion_yield_backoff(NULL, 0) == 0);
	CU_ASSERT(ion_yield_backoff(NULL, 100) == 0);
	pair_close(&x);
}

static void
test_one_producer_one_consumer(void)
{
	struct ion_prod p2;
	struct ion_cons c2;
	struct pair x;

	pair_open(&x, 8, 8, 0);
	CU_ASSERT(ion_prod_open(&p2, x.r) == -EBUSY);
	CU_ASSERT(ion_cons_open(&c2, x.r) == -EBUSY);
	CU_ASSERT(ion_enqueue(&x.p, "abc", 3) == 0);
	/* a closed end may be opened again and carries on where it was */
	ion_prod_close(&x.p);
	CU_ASSERT_FATAL(ion_prod_open(&p2, x.r) == 0);
	CU_ASSERT(ion_enqueue(&p2, "def", 3) == 0);
	ion_cons_close(&x.c);
	CU_ASSERT_FATAL(ion_cons_open(&c2, x.r) == 0);
	CU_ASSERT(ion_cons_peek(&c2, 8) == 2);
	CU_ASSERT(memcmp(ion_cons_data(&c2, 1), "def", 3) == 0);
	ion_prod_close(&p2);
	ion_cons_close(&c2);
	free(x.r);
}

/* ---- header checks ------------------------------------------------ */

static void
test_header_ok(void)
{
	struct ion_ring_params e = {
		.channel = 0x0500, .capacity = 8, .slot_size = 64};
	struct ion_ring *r = ring_new(8, 64, 0);
	size_t len = ion_ring_memsize(8, 64);
	char why[160];

	CU_ASSERT(ion_ring_check(r, len, NULL, why, sizeof(why)) == 0);
	CU_ASSERT(ion_ring_check(r, len, &e, why, sizeof(why)) == 0);
	CU_ASSERT(r->hdr.magic == ION_RING_MAGIC);
	CU_ASSERT(r->hdr.version == ION_RING_VERSION);
	CU_ASSERT(r->hdr.channel == 0x0500);
	CU_ASSERT(strcmp(r->hdr.name, "test") == 0);
	free(r);
}

static void
test_header_bad_magic(void)
{
	struct ion_ring *r = ring_new(8, 64, 0);
	size_t len = ion_ring_memsize(8, 64);
	struct ion_prod p;
	char why[160] = "";

	r->hdr.magic ^= 1;
	CU_ASSERT(ion_ring_check(r, len, NULL, why, sizeof(why)) == -EBADMSG);
	CU_ASSERT(strstr(why, "magic") != NULL);
	/* no end of a corrupt ring can be opened */
	CU_ASSERT(ion_prod_open(&p, r) == -EBADMSG);
	free(r);
}

static void
test_header_bad_version(void)
{
	struct ion_ring *r = ring_new(8, 64, 0);
	size_t len = ion_ring_memsize(8, 64);
	char why[160] = "";

	struct ion_cons c;

	r->hdr.version = ION_RING_VERSION + 1;
	CU_ASSERT(ion_ring_check(r, len, NULL, why, sizeof(why)) == -EPROTO);
	CU_ASSERT(strstr(why, "version") != NULL);
	/* layout 7 deals slots out over pages: a version-6 end would read
	 * and write them in index order, each slot at another's place */
	CU_ASSERT(ION_RING_VERSION == 7);
	r->hdr.version = 6;
	CU_ASSERT(ion_ring_check(r, len, NULL, why, sizeof(why)) == -EPROTO);
	CU_ASSERT(strstr(why, "version 6") != NULL);
	CU_ASSERT(ion_cons_open(&c, r) == -EBADMSG);
	free(r);
}

static void
test_slot_spread(void)
{
	const uint32_t cap = 1024, start = UINT32_MAX - 700;
	struct ion_ring *r = ring_new(cap, 64, start);
	size_t len = ion_ring_memsize(cap, 64);
	static uint8_t seen[1024];
	struct ion_prod p;
	struct ion_cons c;
	uint64_t seq = 0, got_seq = 0;
	uint32_t i, n;
	char why[160] = "";

	/* only strides that divide a page, over two pages or more */
	CU_ASSERT(ion_slot_spread(1024, 64) == 4);
	CU_ASSERT(ion_slot_spread(128, 64) == 1);
	CU_ASSERT(ion_slot_spread(64, 64) == 0);
	CU_ASSERT(ion_slot_spread(8, 64) == 0);
	CU_ASSERT(ion_slot_spread(1024, 128) == 5);
	CU_ASSERT(ion_slot_spread(4, 2048) == 1);
	CU_ASSERT(ion_slot_spread(1024, 1536) == 0);
	CU_ASSERT(ion_slot_spread(1024, 4096) == 0);
	CU_ASSERT(ion_slot_pos(5, 0, 10) == 5);
	CU_ASSERT(r->hdr.slot_spread == 4);

	CU_ASSERT_FATAL(ion_prod_open(&p, r) == 0);
	CU_ASSERT_FATAL(ion_cons_open(&c, r) == 0);
	/* a lap of slots: each its own line inside the data, each next one
	 * in another 4 KiB page and at another place in it (another L1
	 * set) */
	CU_ASSERT_FATAL(ion_prod_reserve(&p, cap) == cap);
	for (i = 0; i < cap; i++) {
		size_t off = (size_t)(ion_prod_data(&p, i) - p.slots);
		size_t prev =
			i > 0 ? (size_t)(ion_prod_data(&p, i - 1) - p.slots)
			      : 0;

		CU_ASSERT_FATAL(off % 64 == 0 && off / 64 < cap);
		CU_ASSERT(seen[off / 64]++ == 0);
		if (i > 0) {
			CU_ASSERT(off / 4096 != prev / 4096);
			CU_ASSERT(off % 4096 != prev % 4096);
		}
	}
	ion_prod_commit(&p, 0);
	/* messages in bursts of 1 to 37 across the index wrap, read back in
	 * order at the places the consumer computes */
	for (n = 1; seq < 5000; n = n % 37 + 1) {
		uint32_t k = ion_prod_reserve(&p, n);

		for (i = 0; i < k; i++, seq++) {
			memcpy(ion_prod_data(&p, i), &seq, sizeof(seq));
			ion_prod_slot(&p, i)->len = sizeof(seq);
		}
		ion_prod_commit(&p, k);
		k = ion_cons_peek(&c, 64);
		for (i = 0; i < k; i++, got_seq++) {
			uint64_t v;

			memcpy(&v, ion_cons_data(&c, i), sizeof(v));
			CU_ASSERT(v == got_seq);
		}
		ion_cons_release(&c, k);
	}
	CU_ASSERT(got_seq == seq && p.tail - start == seq);
	ion_prod_close(&p);
	ion_cons_close(&c);
	/* a header whose spread does not match its sizes */
	r->hdr.slot_spread = 0;
	CU_ASSERT(ion_ring_check(r, len, NULL, why, sizeof(why)) == -EBADMSG);
	CU_ASSERT(strstr(why, "spread 0") != NULL);
	free(r);
}

/* One message in, then peek at once: a quick arrival after empty. */
static uint32_t
send_and_peek(struct ion_prod *p, struct ion_cons *c)
{
	uint32_t n;

	CU_ASSERT_FATAL(ion_prod_reserve(p, 1) == 1);
	ion_prod_slot(p, 0)->len = 1;
	ion_prod_commit(p, 1);
	n = ion_cons_peek(c, 1);
	ion_cons_release(c, n);
	return n;
}

static void
test_pacing(void)
{
	/* a large ring, for a hold (capped at 16 cycles a slot) of 2^17
	 * cycles, which a sanitized build does not outlast by accident */
	struct ion_ring *r = ring_new(1u << 13, 64, 0);
	struct ion_ring_stats st;
	struct ion_prod p;
	struct ion_cons c;
	uint64_t until, empty;
	int tries;

	CU_ASSERT_FATAL(ion_prod_open(&p, r) == 0);
	CU_ASSERT_FATAL(ion_cons_open(&c, r) == 0);
	/* off by default: a stream never holds */
	CU_ASSERT(c.hold_cycles == 0);
	for (tries = 0; tries < 20; tries++) {
		CU_ASSERT(ion_cons_peek(&c, 1) == 0);
		CU_ASSERT(send_and_peek(&p, &c) == 1);
	}
	CU_ASSERT(c.hold_until == 0);
	ion_cons_set_hold(&c, ION_HOLD_CYCLES);
	CU_ASSERT(c.hold_cycles == ION_HOLD_CYCLES);
	ion_cons_set_hold(&c, 1u << 17);
	/* a stream: found empty, then a message at once, four times (tried
	 * again should this thread be preempted in between) */
	for (tries = 0; tries < 1000 && c.streak < ION_HOLD_STREAK; tries++) {
		CU_ASSERT(ion_cons_peek(&c, 1) == 0);
		CU_ASSERT(send_and_peek(&p, &c) == 1);
	}
	CU_ASSERT_FATAL(c.streak == ION_HOLD_STREAK);
	/* found empty in a stream: the consumer holds off */
	CU_ASSERT(ion_cons_peek(&c, 1) == 0);
	CU_ASSERT_FATAL(c.hold_until != 0);
	until = c.hold_until;
	ion_ring_stats(r, &st);
	empty = st.empty;
	CU_ASSERT(ion_prod_reserve(&p, 1) == 1);
	ion_prod_commit(&p, 1);
	/* the message is there, but a peek during the hold does not look
	 * (and counts as empty) */
	if (ion_cons_peek(&c, 1) != 0) {
		/* preempted past the hold: nothing more to check */
		CU_ASSERT((int64_t)(ion_cycles() - until) >= 0);
		goto out;
	}
	ion_ring_stats(r, &st);
	CU_ASSERT(st.empty == empty + 1);
	/* and the doorbell's look does */
	CU_ASSERT(ion_cons_ready(&c) == 1);
	while ((int64_t)(ion_cycles() - until) < 0)
		;
	CU_ASSERT(ion_cons_peek(&c, 1) == 1);
	ion_cons_release(&c, 1);
	/* empty after the hold: the stream is over, no hold */
	CU_ASSERT(ion_cons_peek(&c, 1) == 0);
	CU_ASSERT(c.streak == 0 && c.hold_until == 0);
	CU_ASSERT(send_and_peek(&p, &c) == 1);
out:
	/* capped at 16 cycles a slot */
	ion_cons_set_hold(&c, 1u << 30);
	CU_ASSERT(c.hold_cycles == (1u << 13) * 16);
	ion_prod_close(&p);
	ion_cons_close(&c);
	free(r);
}

static void
test_header_size_mismatch(void)
{
	struct ion_ring_params e = {0};
	struct ion_ring *r = ring_new(8, 64, 0);
	size_t len = ion_ring_memsize(8, 64);
	char why[160] = "";

	e.capacity = 16;
	CU_ASSERT(ion_ring_check(r, len, &e, why, sizeof(why)) == -ERANGE);
	CU_ASSERT(strstr(why, "capacity 8, expected 16") != NULL);
	e.capacity = 0;
	e.slot_size = 1514;
	CU_ASSERT(ion_ring_check(r, len, &e, why, sizeof(why)) == -ERANGE);
	CU_ASSERT(strstr(why, "slot size 64, expected 1514") != NULL);
	e.slot_size = 0;
	e.channel = 0x0600;
	CU_ASSERT(ion_ring_check(r, len, &e, why, sizeof(why)) == -ERANGE);
	CU_ASSERT(strstr(why, "channel") != NULL);
	/* a mapping shorter than the ring says it is */
	CU_ASSERT(ion_ring_check(r, len - 64, NULL, why, sizeof(why)) ==
		  -ERANGE);
	CU_ASSERT(ion_ring_check(r, 100, NULL, why, sizeof(why)) == -ERANGE);
	/* a header whose sizes contradict each other */
	r->hdr.slot_stride = 72;
	CU_ASSERT(ion_ring_check(r, len, NULL, why, sizeof(why)) == -EBADMSG);
	CU_ASSERT(strstr(why, "corrupt") != NULL);
	r->hdr.slot_stride = ion_slot_stride(64);
	r->hdr.capacity = 12;
	CU_ASSERT(ion_ring_check(r, len, NULL, why, sizeof(why)) == -EBADMSG);
	free(r);
}

static void
test_header_file_attach(void)
{
	struct ion_ring_params p = {
		.channel = 0x0600, .capacity = 32, .slot_size = 1514};
	struct ion_ring_params e = p;
	char path[] = "/tmp/ion-test-hdr.XXXXXX";
	struct ion_ring_map m, a;
	uint32_t bad = 0xdeadbeef;
	char why[160] = "";
	int fd;

	fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	unlink(path);
	CU_ASSERT_FATAL(ion_ring_create_file(&m, path, &p) == 0);
	CU_ASSERT(ion_ring_create_file(&a, path, &p) == -EEXIST);
	CU_ASSERT_FATAL(
		ion_ring_attach_file(&a, path, -1, &e, why, sizeof(why)) == 0);
	CU_ASSERT(a.ring->hdr.capacity == 32);
	ion_ring_unmap(&a);
	e.slot_size = 256;
	CU_ASSERT(ion_ring_attach_file(&a, path, -1, &e, why, sizeof(why)) ==
		  -ERANGE);
	CU_ASSERT(strstr(why, "slot size") != NULL);
	ion_ring_unmap(&m);

	/* corrupt the magic on disk */
	fd = open(path, O_RDWR);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT(pwrite(fd, &bad, sizeof(bad), 0) == sizeof(bad));
	CU_ASSERT(ion_ring_attach_file(&a, path, -1, NULL, why, sizeof(why)) ==
		  -EBADMSG);
	CU_ASSERT(strstr(why, "magic") != NULL);
	/* a file shorter than a header */
	CU_ASSERT(ftruncate(fd, 64) == 0);
	CU_ASSERT(ion_ring_attach_file(&a, path, -1, NULL, why, sizeof(why)) <
		  0);
	close(fd);
	unlink(path);
	CU_ASSERT(ion_ring_attach_file(&a, path, -1, NULL, why, sizeof(why)) ==
		  -ENOENT);
}

/* ---- CSpace ------------------------------------------------------- */

static void
test_cspace_limit(void)
{
	struct ion_ring *rings[ION_CSPACE_SLOTS + 1];
	struct ion_cspace cs;
	unsigned int i;

	ion_cspace_init(&cs);
	for (i = 0; i <= ION_CSPACE_SLOTS; i++) {
		rings[i] = ring_new(2, 8, 0);
		rings[i]->hdr.channel = 0x100 + i;
	}
	for (i = 0; i < ION_CSPACE_SLOTS; i++)
		CU_ASSERT(ion_cspace_grant(&cs, rings[i], ION_PERM_READ) ==
			  (int)i);
	CU_ASSERT(cs.used == 64);
	CU_ASSERT(ion_cspace_grant(&cs, rings[64], ION_PERM_READ) == -ENOSPC);
	CU_ASSERT(ion_cspace_lookup(&cs, 0x100 + 64) == NULL);
	/* a channel already held may change its permissions when full */
	CU_ASSERT(ion_cspace_grant(&cs, rings[10], ION_PERM_RW) == 10);
	CU_ASSERT(ion_cspace_lookup(&cs, 0x100 + 10)->perms == ION_PERM_RW);
	CU_ASSERT(ion_cspace_revoke(&cs, 0x100 + 20) == 0);
	CU_ASSERT(ion_cspace_revoke(&cs, 0x100 + 20) == -ENOENT);
	CU_ASSERT(ion_cspace_lookup(&cs, 0x100 + 20) == NULL);
	CU_ASSERT(ion_cspace_grant(&cs, rings[64], ION_PERM_WRITE) == 20);
	CU_ASSERT(ion_cspace_lookup(&cs, 0x100 + 64)->ring == rings[64]);
	CU_ASSERT(cs.used == 64);
	for (i = 0; i <= ION_CSPACE_SLOTS; i++)
		free(rings[i]);
}

static void
test_cspace_fault(void)
{
	struct ion_ring *r = ring_new(8, 8, 0);
	struct ion_cspace cs;
	struct ion_prod p;
	struct ion_cons c;

	ion_cspace_init(&cs);
	CU_ASSERT(ion_cspace_grant(&cs, r, 0) == -EINVAL);
	CU_ASSERT(ion_cspace_grant(&cs, r, 4) == -EINVAL);
	/* nothing granted: both ends fault */
	CU_ASSERT(ion_cspace_open_cons(&cs, 0x0500, &c) == -EACCES);
	CU_ASSERT(cs.fault.channel == 0x0500 &&
		  cs.fault.perm == ION_PERM_READ && cs.fault.count == 1);
	CU_ASSERT(ion_cspace_grant(&cs, r, ION_PERM_READ) == 0);
	/* READ gives the consumer end, not the producer end */
	CU_ASSERT(ion_cspace_open_prod(&cs, 0x0500, &p) == -EACCES);
	CU_ASSERT(cs.fault.perm == ION_PERM_WRITE && cs.fault.count == 2);
	CU_ASSERT(ion_ring_prod_part(r)->bell.owner == 0);
	CU_ASSERT(ion_cspace_open_cons(&cs, 0x0500, &c) == 0);
	CU_ASSERT(ion_cspace_open_cons(&cs, 0x0777, &c) == -EACCES);
	CU_ASSERT(cs.fault.channel == 0x0777 && cs.fault.count == 3);
	ion_cons_close(&c);
	/* a revoked capability faults */
	CU_ASSERT(ion_cspace_revoke(&cs, 0x0500) == 0);
	CU_ASSERT(ion_cspace_open_cons(&cs, 0x0500, &c) == -EACCES);
	free(r);
}

static void
test_cspace_second_end(void)
{
	struct ion_ring *r = ring_new(8, 8, 0);
	struct ion_cspace a, b;
	struct ion_prod p1, p2;
	struct ion_cons c1, c2;

	ion_cspace_init(&a);
	ion_cspace_init(&b);
	CU_ASSERT(ion_cspace_grant(&a, r, ION_PERM_RW) == 0);
	CU_ASSERT(ion_cspace_grant(&b, r, ION_PERM_RW) == 0);
	CU_ASSERT(ion_cspace_open_prod(&a, 0x0500, &p1) == 0);
	CU_ASSERT(ion_cspace_open_prod(&b, 0x0500, &p2) == -EBUSY);
	CU_ASSERT(ion_cspace_open_cons(&b, 0x0500, &c1) == 0);
	CU_ASSERT(ion_cspace_open_cons(&a, 0x0500, &c2) == -EBUSY);
	/* -EBUSY is not a capability fault */
	CU_ASSERT(a.fault.count == 0 && b.fault.count == 0);
	ion_prod_close(&p1);
	ion_cons_close(&c1);
	CU_ASSERT(ion_cspace_open_prod(&b, 0x0500, &p2) == 0);
	ion_prod_close(&p2);
	CU_ASSERT(strcmp(ion_perm_str(ION_PERM_READ), "r") == 0);
	CU_ASSERT(strcmp(ion_perm_str(ION_PERM_WRITE), "w") == 0);
	CU_ASSERT(strcmp(ion_perm_str(ION_PERM_RW), "rw") == 0);
	CU_ASSERT(strcmp(ion_perm_str(0), "-") == 0);
	free(r);
}

static void
test_channels(void)
{
	static const struct {
		uint32_t id, slots, size;
	} want[] = {
		{0x0500, 256, 1514}, {0x0501, 256, 1514}, {0x0600, 256, 1514},
		{0x0601, 256, 1514}, {0x1000, 128, 0},	  {0x1001, 128, 0},
		{0x2000, 64, 0},     {0x2001, 64, 0},
	};
	const struct ion_channel_info *ci;
	unsigned int i, n;

	for (i = 0; i < N_TESTS(want); i++) {
		ci = ion_channel_lookup(want[i].id);
		CU_ASSERT_FATAL(ci != NULL);
		CU_ASSERT(ci->capacity == want[i].slots);
		if (want[i].size != 0)
			CU_ASSERT(ci->slot_size == want[i].size);
		CU_ASSERT(ion_channel_by_name(ci->name) == ci);
	}
	CU_ASSERT(ion_channel_lookup(0x0999) == NULL);
	CU_ASSERT(ion_channel_by_name("nope") == NULL);
	CU_ASSERT(ion_channel_table(&n) != NULL && n == N_TESTS(want));
}

int
main(void)
{
	static const struct test_case ring[] = {
		TEST(test_params),
		TEST(test_layout),
		TEST(test_empty),
		TEST(test_full_exact_capacity),
		TEST(test_partial_commit),
		TEST(test_bursts_across_wrap),
		TEST(test_indices_near_limit),
		TEST(test_lengths),
		TEST(test_copy_bursts),
		TEST(test_wait_helpers),
		TEST(test_one_producer_one_consumer),
	};
	static const struct test_case header[] = {
		TEST(test_header_ok),
		TEST(test_header_bad_magic),
		TEST(test_header_bad_version),
		TEST(test_slot_spread),
		TEST(test_pacing),
		TEST(test_header_size_mismatch),
		TEST(test_header_file_attach),
	};
	static const struct test_case cspace[] = {
		TEST(test_cspace_limit),
		TEST(test_cspace_fault),
		TEST(test_cspace_second_end),
		TEST(test_channels),
	};

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	if (test_add_suite("ring", ring, N_TESTS(ring)) < 0 ||
	    test_add_suite("header", header, N_TESTS(header)) < 0 ||
	    test_add_suite("cspace", cspace, N_TESTS(cspace)) < 0) {
		CU_cleanup_registry();
		return 1;
	}
	return test_run_all();
}
