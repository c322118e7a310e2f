/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The messages of the stress tests (test_stress.c, test_doorbell_stress.c):
 * message seq's length and bytes are a function of seq, so the consumer
 * checks every byte without being told, and a cheap per-thread random
 * source paces either side.  The includer defines SLOT_SIZE, the ring's.
 */
#ifndef ION_TEST_STRESS_MSG_H
#define ION_TEST_STRESS_MSG_H

#include <stdint.h>

#ifndef SLOT_SIZE
#error "define SLOT_SIZE, the ring's slot size, before stress_msg.h"
#endif

/* xorshift: cheap, per thread, reproducible from the seed */
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

#endif /* ION_TEST_STRESS_MSG_H */
