/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The zero-copy loops every ION throughput figure of ion-bench is measured
 * with (ring: in-process; external: the consumer in another process), in
 * one place so that both measure the same code.  A message is @size bytes
 * whose first 8 carry its sequence number.
 */
#ifndef ION_BENCH_ION_LOOPS_H
#define ION_BENCH_ION_LOOPS_H

#include <stdint.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_memcpy.h>
#include <rte_pause.h>

#include <ion_ring.h>

/* Write @count messages copied from @src, in commits of up to @burst. */
static inline void
bench_ion_produce(struct ion_prod *p, uint64_t count, const uint8_t *src,
		  uint32_t size, uint32_t burst)
{
	uint64_t seq = 0;

	while (seq < count) {
		uint32_t want = RTE_MIN((uint64_t)burst, count - seq);
		uint32_t n = ion_prod_reserve(p, want), i;

		if (n == 0) {
			rte_pause();
			continue;
		}
		for (i = 0; i < n; i++, seq++) {
			uint8_t *sd = ion_prod_data(p, i);

			rte_memcpy(sd, src, size);
			memcpy(sd, &seq, sizeof(seq));
			ion_prod_slot(p, i)->len = size;
		}
		ion_prod_commit(p, n);
	}
}

/* Take @count messages in peeks of @burst, reading each in place (one
 * load from every line); @return those out of order, of the wrong length
 * or corrupt.  The loads' xor goes to @sink so they are not optimised
 * away. */
static inline uint64_t
bench_ion_consume(struct ion_cons *c, uint64_t count, uint32_t size,
		  uint32_t burst, uint64_t *sink)
{
	uint64_t seq = 0, errors = 0, acc = 0;

	while (seq < count) {
		uint32_t n = ion_cons_peek(c, burst), i;

		if (n == 0) {
			rte_pause();
			continue;
		}
		for (i = 0; i < n; i++, seq++) {
			const uint8_t *sd = ion_cons_data(c, i);
			uint32_t len = ion_cons_len(c, i), b;
			uint64_t got;

			for (b = 8; b < len; b += 64)
				acc ^= sd[b];
			memcpy(&got, sd, sizeof(got));
			if (unlikely(got != seq || len != size))
				errors++;
		}
		ion_cons_release(c, n);
	}
	*sink += acc;
	return errors;
}

#endif /* ION_BENCH_ION_LOOPS_H */
