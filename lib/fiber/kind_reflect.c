/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * reflect, like testpmd's macswap: sends each frame back on tx with the
 * MAC addresses swapped.  When tx is full the rest stays in rx:
 * back-pressure, not loss.
 */
#include <errno.h>

#include "fiber_impl.h"

static int
reflect_step(struct fiber *f)
{
	struct ion_cons *rx = fiber_cons(f, FIBER_RX);
	struct ion_prod *tx;
	uint32_t i, n;

	if (rx == NULL)
		return -EACCES;
	n = ion_cons_peek(rx, f->burst);
	if (n == 0)
		return 0;
	tx = fiber_prod(f, FIBER_TX);
	if (tx == NULL)
		return -EACCES;
	n = ion_prod_reserve(tx, n);
	for (i = 0; i < n; i++)
		fiber_reflect_slot(tx, i, ion_cons_data(rx, i),
				   ion_cons_slot(rx, i));
	ion_prod_commit(tx, n);
	ion_cons_release(rx, n);
	FIBER_STAT_ADD(f, frames, n);
	FIBER_STAT_ADD(f, sent, n);
	return (int)n;
}

const struct fiber_kind fiber_kind_reflect = {
	.name = "reflect",
	.help = "Sends each frame back on tx with the MAC addresses swapped "
		"(testpmd macswap)",
	.needs_tx = true,
	.step = reflect_step,
};
