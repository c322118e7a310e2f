/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Two threads, one ring: the producer sends sequence-numbered messages in
 * random bursts, the consumer takes them in random bursts and checks order,
 * length and every byte, so a lost, duplicated, reordered or torn message
 * fails the test.  The indices start near UINT32_MAX to cross the integer
 * wrap early.
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
#define CAPACITY  256
#define MAX_BURST 48

static uint64_t n_messages = 50000000;

struct stress {
	struct ion_ring *ring;
	uint64_t count;
	uint64_t bad;	   /* consumer: messages that failed a check */
	uint64_t received; /* consumer: messages taken */
};

/* xorshift: cheap, per-thread, reproducible */
static inline uint32_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (uint32_t)*s;
}

/* Length and bytes of message @p seq: both sides compute the same. */
static inline uint32_t
msg_len(uint64_t seq)
{
	return 8 + (uint32_t)(seq % (SLOT_SIZE - 7));
}

static inline uint8_t
msg_byte(uint64_t seq, uint32_t i)
{
	return (uint8_t)(seq * 31 + i);
}

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

int
main(int argc, char **argv)
{
	static const struct test_case t[] = {TEST(test_stress)};

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
