/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A fiber's own rx/tx ends, opened through its CSpace on first touch.  Its
 * own file so that ion-bench can run the lwf and utcp steps without the
 * daemon's other fiber kinds (fiber.c).
 */
#include "fiber.h"

struct ion_cons *
fiber_rx_end(struct fiber *f)
{
	if (!f->rx_open) {
		if (ion_cspace_open_cons(&f->cs, f->rx_ch, &f->rx) < 0)
			return NULL;
		f->rx_open = true;
	}
	return &f->rx;
}

struct ion_prod *
fiber_tx_end(struct fiber *f)
{
	if (!f->tx_open) {
		if (ion_cspace_open_prod(&f->cs, f->tx_ch, &f->tx) < 0)
			return NULL;
		f->tx_open = true;
	}
	return &f->tx;
}
