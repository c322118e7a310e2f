/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The lwf fiber: validates LWF v2 frames (docs/wire-formats.md) from its rx
 * ring.  Every frame is counted once, accepted or refused with a reason;
 * accepted frames go to the application ring (the LWF frame alone, tag
 * 0x4C57), and/or back out on tx with the MAC addresses swapped.
 *
 * The application ring is read by another process (ion-lwf-sink), which
 * may be slow or absent: a full app ring drops and counts, it never stalls
 * the network.  A full tx ring is back-pressure: frames stay in rx.
 */
#include <errno.h>
#include <string.h>

#include <rte_common.h>
#include <rte_ether.h>
#include <rte_malloc.h>

#include "fiber.h"

#define STAT_ADD(f, field, n)                                                  \
	/* relaxed: own counter, a stats reader needs only no tearing */       \
	__atomic_store_n(&(f)->st.field, (f)->st.field + (n), __ATOMIC_RELAXED)

int
fiber_lwf_init(struct fiber *f)
{
	f->replay = rte_zmalloc("lwf-replay", sizeof(*f->replay),
				RTE_CACHE_LINE_SIZE);
	if (f->replay == NULL)
		return -ENOMEM;
	lwf_replay_init(f->replay);
	return 0;
}

void
fiber_lwf_fini(struct fiber *f)
{
	if (f->app_open)
		ion_prod_close(&f->app);
	f->app_open = false;
	rte_free(f->replay);
	f->replay = NULL;
}

static struct ion_prod *
app_end(struct fiber *f)
{
	if (!f->app_open) {
		if (ion_cspace_open_prod(&f->cs, f->app_ch, &f->app) < 0)
			return NULL;
		f->app_open = true;
	}
	return &f->app;
}

/* One frame's verdict: 0 accepted, a reason, or LWF_N_REASONS (not LWF). */
static inline int
judge(struct fiber *f, const uint8_t *d, uint32_t len, uint32_t *off,
      struct lwf_frame *fr)
{
	uint16_t et;
	int r;

	if (wire_l2_payload(d, len, &et, off) < 0 || et != LWF_ETHERTYPE)
		return LWF_N_REASONS;
	r = lwf_parse(d + *off, len - *off, fr);
	if (r == 0)
		r = lwf_replay_check(f->replay, fr->session_id, fr->sequence);
	return -r;
}

int
fiber_lwf_step(struct fiber *f)
{
	uint64_t cnt[LWF_N_REASONS + 1] = {0};
	uint32_t i, n, n_app = 0, used_app = 0, used_tx = 0;
	uint32_t app_full = 0;
	struct ion_cons *rx = fiber_rx_end(f);
	struct ion_prod *app = NULL, *tx = NULL;

	if (rx == NULL)
		return -EACCES;
	n = ion_cons_peek(rx, f->burst);
	if (n == 0)
		return 0;
	if (f->app_ch != 0) {
		app = app_end(f);
		if (app == NULL)
			return -EACCES;
		n_app = ion_prod_reserve(app, n);
	}
	if (f->reflect) {
		tx = fiber_tx_end(f);
		if (tx == NULL)
			return -EACCES;
		/* back-pressure: what tx cannot take stays in rx */
		n = ion_prod_reserve(tx, n);
	}
	for (i = 0; i < n; i++) {
		const struct ion_slot *s = ion_cons_slot(rx, i);
		const uint8_t *d = ion_cons_data(rx, i);
		struct lwf_frame fr;
		uint32_t off;
		int r = judge(f, d, s->len, &off, &fr);

		cnt[r]++;
		if (r != 0)
			continue;
		if (app != NULL) {
			if (used_app < n_app) {
				struct ion_slot *o =
					ion_prod_slot(app, used_app);

				memcpy(ion_prod_data(app, used_app), d + off,
				       fr.frame_len);
				o->len = fr.frame_len;
				o->tag = LWF_ETHERTYPE;
				used_app++;
			} else {
				app_full++;
			}
		}
		if (tx != NULL)
			fiber_reflect_slot(tx, used_tx++, d, s);
	}
	if (app != NULL)
		ion_prod_commit(app, used_app);
	if (tx != NULL)
		ion_prod_commit(tx, used_tx);
	ion_cons_release(rx, n);
	for (i = 0; i <= LWF_N_REASONS; i++)
		if (cnt[i] != 0)
			STAT_ADD(f, lwf[i], cnt[i]);
	STAT_ADD(f, frames, n);
	STAT_ADD(f, sent, used_tx);
	STAT_ADD(f, app, used_app);
	if (app_full != 0)
		STAT_ADD(f, app_full, app_full);
	return (int)n;
}
