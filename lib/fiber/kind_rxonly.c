/* SPDX-License-Identifier: BSD-3-Clause */
/* rxonly, like testpmd's: reads its rx ring, counts, releases. */
#include <errno.h>

#include "fiber_impl.h"

static int
rxonly_step(struct fiber *f)
{
	struct ion_cons *rx = fiber_cons(f, FIBER_RX);
	uint32_t n;

	if (rx == NULL)
		return -EACCES;
	n = ion_cons_peek(rx, f->burst);
	if (n == 0)
		return 0;
	ion_cons_release(rx, n);
	FIBER_STAT_ADD(f, frames, n);
	return (int)n;
}

const struct fiber_kind fiber_kind_rxonly = {
	.name = "rxonly",
	.help = "Reads its rx ring, counts and releases (testpmd rxonly)",
	.step = rxonly_step,
};
