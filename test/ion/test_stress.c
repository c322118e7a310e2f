/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Two threads, one ring: the producer sends sequence-numbered messages in
 * random bursts, the consumer takes them in random bursts and checks order,
 * length and every byte, so a lost, duplicated, reordered or torn message
 * fails the test.  The indices start near UINT32_MAX to cross the integer
 * wrap early.  Then the message counters, derived from the indices and
 * folded under a latch, read by a third thread while both sides fold at
 * every burst and every 16th burst is skipped by a take-back of the
 * consumer: a torn read shows as a count that goes back, or beyond.
 *
 *   test_ion_stress [MESSAGES]      default 50 000 000
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ion_ring.h>

#include "cunit_main.h"

#define SLOT_SIZE 64
#include "stress_msg.h"
#define CAPACITY  256
#define MAX_BURST 48

static uint64_t n_messages = 50000000;

struct stress {
	struct ion_ring *ring;
	uint64_t count;
	uint64_t bad;	   /* consumer: messages that failed a check */
	uint64_t received; /* consumer: messages taken */
};

static void *
producer(void *arg)
{
	struct stress *st = arg;
	uint64_t seed = 0x9e3779b97f4a7c15ull, seq = 0;
	struct ion_prod p;

	if (ion_prod_open(&p, st->ring) != 0)
		return (void *)1;
	while (seq < st->count) {
		uint32_t want = 1 + rnd(&seed) % MAX_BURST, i;
		int got;

		if (want > st->count - seq)
			want = (uint32_t)(st->count - seq);
		got = ion_prod_reserve_wait(&p, want, 1, ion_yield_backoff,
					    NULL);
		if (got <= 0)
			break;
		for (i = 0; i < (uint32_t)got; i++, seq++) {
			struct ion_slot *s = ion_prod_slot(&p, i);
			uint8_t *sd = ion_prod_data(&p, i);
			uint32_t len = msg_len(seq), b;

			memcpy(sd, &seq, 8);
			for (b = 8; b < len; b++)
				sd[b] = msg_byte(seq, b);
			s->len = len;
			s->tag = (uint32_t)seq;
		}
		ion_prod_commit(&p, (uint32_t)got);
	}
	ion_prod_close(&p);
	return NULL;
}

static void *
consumer(void *arg)
{
	struct stress *st = arg;
	uint64_t seed = 0x243f6a8885a308d3ull, seq = 0;
	struct ion_cons c;

	if (ion_cons_open(&c, st->ring) != 0)
		return (void *)1;
	while (seq < st->count) {
		uint32_t want = 1 + rnd(&seed) % MAX_BURST, i;
		int got = ion_cons_peek_wait(&c, want, 1, ion_yield_backoff,
					     NULL);

		if (got <= 0)
			break;
		for (i = 0; i < (uint32_t)got; i++, seq++) {
			const struct ion_slot *s = ion_cons_slot(&c, i);
			const uint8_t *sd = ion_cons_data(&c, i);
			uint32_t len = msg_len(seq), b;
			uint64_t v;
			int ok;

			memcpy(&v, sd, 8);
			ok = v == seq && s->len == len &&
			     s->tag == (uint32_t)seq;
			for (b = 8; ok && b < len; b++)
				ok = sd[b] == msg_byte(seq, b);
			if (!ok && st->bad++ < 5)
				fprintf(stderr,
					"message %llu: got seq %llu len %u\n",
					(unsigned long long)seq,
					(unsigned long long)v, s->len);
		}
		ion_cons_release(&c, (uint32_t)got);
	}
	st->received = seq;
	ion_cons_close(&c);
	return NULL;
}

static void
test_stress(void)
{
	struct ion_ring_params prm = {
		.channel = 0x0500,
		.capacity = CAPACITY,
		.slot_size = SLOT_SIZE,
		.start_index = UINT32_MAX - 1000,
	};
	size_t len = ion_ring_memsize(CAPACITY, SLOT_SIZE);
	struct ion_ring_stats rs;
	struct stress st = {.count = n_messages};
	pthread_t tp, tc;
	void *rp, *rc;

	st.ring = aligned_alloc(ION_RING_ALIGN, len);
	CU_ASSERT_FATAL(st.ring != NULL);
	CU_ASSERT_FATAL(ion_ring_init(st.ring, len, &prm) == 0);
	CU_ASSERT_FATAL(pthread_create(&tc, NULL, consumer, &st) == 0);
	CU_ASSERT_FATAL(pthread_create(&tp, NULL, producer, &st) == 0);
	pthread_join(tp, &rp);
	pthread_join(tc, &rc);
	CU_ASSERT(rp == NULL && rc == NULL);
	CU_ASSERT(st.bad == 0);
	CU_ASSERT(st.received == n_messages);
	ion_ring_stats(st.ring, &rs);
	CU_ASSERT(rs.enqueued == n_messages);
	CU_ASSERT(rs.dequeued == n_messages);
	CU_ASSERT(rs.used == 0);
	printf("\n  %llu messages, ring found full %llu times, empty %llu "
	       "times\n",
	       (unsigned long long)n_messages, (unsigned long long)rs.full,
	       (unsigned long long)rs.empty);
	free(st.ring);
}

/* ---- the counters under folds ------------------------------------ */

struct folding {
	struct ion_ring *ring;
	uint64_t count;
	uint32_t done;	   /* atomic: the writer has finished */
	uint64_t reads;	   /* reader: snapshots taken */
	uint64_t backward; /* reader: a count lower than the one before */
	uint64_t beyond;   /* reader: a count above what was ever sent */
	uint64_t skipped;  /* writer: messages its take-backs skipped */
};

/* Every 16th burst the consumer peeks it, closes as if dead, and its end
 * is taken back: the burst counts as abandoned and the dequeued count's
 * mark moves past it, beside the reader. */
static int
skip_burst(struct folding *f, struct ion_cons *c, uint32_t n)
{
	if (ion_cons_peek(c, n) != n)
		return -1;
	ion_cons_close(c);
	if (ion_ring_take_back(f->ring, ION_END_CONS) != n)
		return -1;
	f->skipped += n;
	return ion_cons_open(c, f->ring);
}

/* One thread, both ends: bursts of 1..8 through the ring, each side folding
 * its counter after every burst (ION_OPS_FOLD would take 2^31 messages). */
static void *
fold_writer(void *arg)
{
	struct folding *f = arg;
	uint64_t seed = 0x6a09e667f3bcc909ull, sent = 0, bursts = 0;
	uint8_t buf[SLOT_SIZE] = {0};
	struct ion_prod p;
	struct ion_cons c;

	if (ion_prod_open(&p, f->ring) != 0 || ion_cons_open(&c, f->ring) != 0)
		return (void *)1;
	while (sent < f->count) {
		uint32_t n = 1 + rnd(&seed) % 8, i;

		if (n > f->count - sent)
			n = (uint32_t)(f->count - sent);
		for (i = 0; i < n; i++)
			if (ion_enqueue(&p, buf, sizeof(buf)) != 0)
				return (void *)2;
		ion_ctrs_fold(&p.own->ctrs, p.tail);
		if (++bursts % 16 == 0) {
			if (skip_burst(f, &c, n) != 0)
				return (void *)4;
		} else {
			for (i = 0; i < n; i++)
				if (ion_dequeue(&c, buf, sizeof(buf)) !=
				    SLOT_SIZE)
					return (void *)3;
		}
		ion_ctrs_fold(&c.own->ctrs, c.head);
		sent += n;
	}
	/* release: the reader's last snapshot is taken after the last fold */
	__atomic_store_n(&f->done, 1, __ATOMIC_RELEASE);
	ion_prod_close(&p);
	ion_cons_close(&c);
	return NULL;
}

static void *
fold_reader(void *arg)
{
	struct folding *f = arg;
	uint64_t enq = 0, deq = 0;
	struct ion_ring_stats rs;

	/* acquire: pairs with the writer's done */
	while (!__atomic_load_n(&f->done, __ATOMIC_ACQUIRE)) {
		ion_ring_stats(f->ring, &rs);
		f->reads++;
		if (rs.enqueued < enq || rs.dequeued < deq)
			f->backward++;
		if (rs.enqueued > f->count || rs.dequeued > f->count)
			f->beyond++;
		enq = rs.enqueued;
		deq = rs.dequeued;
	}
	return NULL;
}

static void
test_stats_while_folding(void)
{
	struct ion_ring_params prm = {
		.channel = 0x0500,
		.capacity = 16,
		.slot_size = SLOT_SIZE,
		.start_index = UINT32_MAX - 1000,
	};
	size_t len = ion_ring_memsize(16, SLOT_SIZE);
	struct folding f = {.count = n_messages / 10};
	struct ion_ring_stats rs;
	pthread_t tw, tr;
	uint32_t gen;
	void *rw;

	f.ring = aligned_alloc(ION_RING_ALIGN, len);
	CU_ASSERT_FATAL(f.ring != NULL);
	CU_ASSERT_FATAL(ion_ring_init(f.ring, len, &prm) == 0);
	CU_ASSERT_FATAL(pthread_create(&tr, NULL, fold_reader, &f) == 0);
	CU_ASSERT_FATAL(pthread_create(&tw, NULL, fold_writer, &f) == 0);
	pthread_join(tw, &rw);
	pthread_join(tr, NULL);
	CU_ASSERT(rw == NULL);
	CU_ASSERT(f.backward == 0 && f.beyond == 0);
	CU_ASSERT(f.reads > 1000); /* the reader ran beside the writer */
	ion_ring_stats(f.ring, &rs);
	CU_ASSERT(f.skipped > 0);
	CU_ASSERT(rs.enqueued == f.count &&
		  rs.dequeued + rs.abandoned == f.count &&
		  rs.abandoned == f.skipped);
	/* every burst folded: the marks are at the indices */
	gen = ion_ring_prod_part(f.ring)->ctrs.ops_gen;
	CU_ASSERT(gen % 2 == 0);
	CU_ASSERT(
		ion_ring_prod_part(f.ring)->ctrs.ops_mark[ion_ctrs_pair(gen)] ==
		(uint32_t)(prm.start_index + f.count));
	printf("\n  %llu messages (%llu skipped by take-backs), folded at "
	       "every burst, %llu snapshots beside: %llu went back, %llu "
	       "beyond\n",
	       (unsigned long long)f.count, (unsigned long long)f.skipped,
	       (unsigned long long)f.reads, (unsigned long long)f.backward,
	       (unsigned long long)f.beyond);
	free(f.ring);
}

int
main(int argc, char **argv)
{
	static const struct test_case t[] = {TEST(test_stress),
					     TEST(test_stats_while_folding)};

	if (argc > 1)
		n_messages = strtoull(argv[1], NULL, 0);
	if (n_messages == 0)
		return 2;
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	if (test_add_suite("stress", t, N_TESTS(t)) < 0) {
		CU_cleanup_registry();
		return 1;
	}
	return test_run_all();
}
