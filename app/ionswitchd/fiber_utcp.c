/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The utcp fiber: validates UTCP packets (docs/wire-formats.md) from its
 * rx ring.  Every frame is counted once, accepted or refused with a reason.
 * An accepted packet's payload goes to the ring bound to its destination
 * port (slot tag: the source port, so an application can answer); a port
 * with no ring is counted (unbound).  With reflect, accepted frames also
 * go back out on tx with the MAC addresses swapped.
 *
 * A bound ring belongs to an application that may be slow or absent: when
 * it is full the payload is dropped and counted (app_full); a full tx ring
 * is back-pressure: frames stay in rx.
 */
#include <errno.h>
#include <string.h>

#include <rte_ether.h>

#include "fiber.h"

#define STAT_ADD(f, field, n)                                                  \
	/* relaxed: own counter, a stats reader needs only no tearing */       \
	__atomic_store_n(&(f)->st.field, (f)->st.field + (n), __ATOMIC_RELAXED)

void
fiber_utcp_fini(struct fiber *f)
{
	unsigned int i;

	for (i = 0; i < f->n_binds; i++) {
		if (f->binds[i].open)
			ion_prod_close(&f->binds[i].end);
		f->binds[i].open = false;
	}
}

/* The producer end of the ring bound to @p port, opened on first use;
 * NULL when none is bound, or on a capability fault (*fault set). */
static struct ion_prod *
bound(struct fiber *f, uint16_t port, bool *fault)
{
	unsigned int i;

	for (i = 0; i < f->n_binds; i++) {
		if (f->binds[i].port != port)
			continue;
		if (!f->binds[i].open) {
			if (ion_cspace_open_prod(&f->cs, f->binds[i].channel,
						 &f->binds[i].end) < 0) {
				*fault = true;
				return NULL;
			}
			f->binds[i].open = true;
		}
		return &f->binds[i].end;
	}
	return NULL;
}

int
fiber_utcp_step(struct fiber *f)
{
	uint64_t cnt[UTCP_N_REASONS + 1] = {0};
	uint32_t i, n, used_tx = 0, app = 0, app_full = 0, unbound = 0;
	struct ion_cons *rx = fiber_rx_end(f);
	struct ion_prod *tx = NULL;

	if (rx == NULL)
		return -EACCES;
	n = ion_cons_peek(rx, f->burst);
	if (n == 0)
		return 0;
	if (f->reflect) {
		tx = fiber_tx_end(f);
		if (tx == NULL)
			return -EACCES;
		n = ion_prod_reserve(tx, n); /* back-pressure */
	}
	for (i = 0; i < n; i++) {
		const struct ion_slot *s = ion_cons_slot(rx, i);
		const uint8_t *d = ion_cons_data(rx, i);
		struct ion_prod *out;
		struct utcp_pkt p;
		bool fault = false;
		uint16_t et;
		uint32_t off;
		int r;

		if (wire_l2_payload(d, s->len, &et, &off) < 0 ||
		    et != UTCP_ETHERTYPE) {
			cnt[UTCP_N_REASONS]++;
			continue;
		}
		r = utcp_parse(d + off, s->len - off, &p);
		cnt[-r]++;
		if (r != 0)
			continue;
		out = bound(f, p.dst_port, &fault);
		if (fault)
			return -EACCES; /* nothing released: the fiber dies */
		if (out == NULL) {
			unbound++;
		} else if (ion_prod_reserve(out, 1) == 1) {
			memcpy(ion_prod_data(out, 0), p.payload, p.payload_len);
			ion_prod_slot(out, 0)->len = p.payload_len;
			ion_prod_slot(out, 0)->tag = p.src_port;
			ion_prod_commit(out, 1);
			app++;
		} else {
			app_full++;
		}
		if (tx != NULL)
			fiber_reflect_slot(tx, used_tx++, d, s);
	}
	if (tx != NULL)
		ion_prod_commit(tx, used_tx);
	ion_cons_release(rx, n);
	for (i = 0; i <= UTCP_N_REASONS; i++)
		if (cnt[i] != 0)
			STAT_ADD(f, utcp[i], cnt[i]);
	STAT_ADD(f, frames, n);
	STAT_ADD(f, sent, used_tx);
	STAT_ADD(f, app, app);
	STAT_ADD(f, unbound, unbound);
	STAT_ADD(f, app_full, app_full);
	return (int)n;
}
