/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lwf: validates LWF v2 frames (docs/wire-formats.md) from its rx ring.
 * Every frame is counted once, accepted or refused with a reason; accepted
 * frames go to the application ring `app` (the LWF frame alone, tag
 * 0x4C57) and, with `reflect`, back out on tx with the MAC addresses
 * swapped.
 *
 * The application ring is read by another process, which may be slow or
 * absent: a full app ring drops and counts (app_full), it never stalls the
 * network.  A full tx ring is back-pressure: frames stay in rx.
 */
#include <errno.h>
#include <stdio.h>

#include <rte_malloc.h>

#include <wire.h>

#include "fiber_impl.h"

struct lwf_kind_params {
	uint32_t app;
	bool reflect;
};

static const struct fiber_param lwf_params[] = {
	{"app", FIBER_P_CHANNEL, offsetof(struct lwf_kind_params, app), 0, 0,
	 "0", "ring of accepted frames for an application (0: none)"},
	{"reflect", FIBER_P_BOOL, offsetof(struct lwf_kind_params, reflect), 0,
	 0, "false", "send accepted frames back out on tx, MACs swapped"},
};

/* Every frame once: verdict[LWF_OK .. LWF_N_REASONS - 1], or not LWF. */
struct lwf_kind_stats {
	uint64_t verdict[LWF_N_REASONS + 1];
	uint64_t app;	   /**< accepted frames written to the app ring */
	uint64_t app_full; /**< accepted frames the app ring had no room for */
};

#define NOT_LWF LWF_N_REASONS

static const struct ctr_desc lwf_ctrs[] = {
	CTR_AT("ok", struct lwf_kind_stats, verdict[LWF_OK], "frames accepted"),
	CTR_AT("too_short", struct lwf_kind_stats, verdict[LWF_TOO_SHORT],
	       "refused: shorter than header and trailer"),
	CTR_AT("bad_magic", struct lwf_kind_stats, verdict[LWF_BAD_MAGIC],
	       "refused: magic is not LWF 0x00"),
	CTR_AT("bad_version", struct lwf_kind_stats, verdict[LWF_BAD_VERSION],
	       "refused: version is not 2"),
	CTR_AT("bad_length", struct lwf_kind_stats, verdict[LWF_BAD_LENGTH],
	       "refused: payload length does not fit the frame"),
	CTR_AT("too_big", struct lwf_kind_stats, verdict[LWF_TOO_BIG],
	       "refused: larger than its class, or an unknown class"),
	CTR_AT("bad_checksum", struct lwf_kind_stats, verdict[LWF_BAD_CHECKSUM],
	       "refused: CRC-32 differs"),
	CTR_AT("replay", struct lwf_kind_stats, verdict[LWF_REPLAY],
	       "refused: sequence seen, or older than the window"),
	CTR_AT("not_lwf", struct lwf_kind_stats, verdict[NOT_LWF],
	       "refused: not EtherType 0x4C57"),
	CTR(struct lwf_kind_stats, app,
	    "accepted frames written to the app ring"),
	CTR(struct lwf_kind_stats, app_full,
	    "accepted frames dropped: the app ring was full"),
};

static const struct ctr_set lwf_ctr_set = CTR_SET("lwf", lwf_ctrs, "lwf fiber");

struct lwf_kind_priv {
	struct lwf_replay *replay; /* per-session windows, 3 MiB: hugepages */
	int app;		   /* end index, or -1 */
	bool reflect;
	struct lwf_kind_stats st; /* written by the fiber's lcore only */
};

static int
lwf_check(const struct fiber_conf *c, char *why, size_t len)
{
	const struct lwf_kind_params *p = c->params;

	return kind_reflect_needs_tx(c, p->reflect, why, len);
}

static int
lwf_init(struct fiber *f, const void *params, const struct fiber_env *env)
{
	const struct lwf_kind_params *p = params;
	struct lwf_kind_priv *l;

	(void)env;
	l = rte_zmalloc("lwf", sizeof(*l), RTE_CACHE_LINE_SIZE);
	if (l == NULL)
		return -ENOMEM;
	f->priv = l;
	l->replay = rte_zmalloc("lwf-replay", sizeof(*l->replay),
				RTE_CACHE_LINE_SIZE);
	if (l->replay == NULL)
		return -ENOMEM;
	lwf_replay_init(l->replay);
	l->reflect = p->reflect;
	l->app = p->app != 0 ? fiber_end_add(f, p->app, ION_PERM_WRITE) : -1;
	return 0;
}

static void
lwf_fini(struct fiber *f)
{
	struct lwf_kind_priv *l = f->priv;

	if (l == NULL)
		return;
	rte_free(l->replay);
	rte_free(l);
	f->priv = NULL;
}

/* One frame's verdict: LWF_OK, a reason, or NOT_LWF. */
static inline int
judge(struct lwf_kind_priv *l, const uint8_t *d, uint32_t len, uint32_t *off,
      struct lwf_frame *fr)
{
	uint16_t et;
	int r;

	if (wire_l2_payload(d, len, &et, off) < 0 || et != LWF_ETHERTYPE)
		return NOT_LWF;
	r = lwf_parse(d + *off, len - *off, fr);
	if (r == 0)
		r = lwf_replay_check(l->replay, fr->session_id, fr->sequence);
	return -r;
}

static int
lwf_step(struct fiber *f)
{
	struct lwf_kind_priv *l = f->priv;
	uint64_t cnt[LWF_N_REASONS + 1] = {0};
	uint32_t i, n, n_app = 0, used_app = 0, used_tx = 0, app_full = 0;
	struct ion_cons *rx = fiber_cons(f, FIBER_RX);
	struct ion_prod *app = NULL, *tx = NULL;

	if (rx == NULL)
		return -EACCES;
	n = ion_cons_peek(rx, f->burst);
	if (n == 0)
		return 0;
	if (l->app >= 0) {
		app = fiber_prod(f, (unsigned int)l->app);
		if (app == NULL)
			return -EACCES;
		n_app = ion_prod_reserve(app, n);
	}
	if (l->reflect) {
		tx = fiber_prod(f, FIBER_TX);
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
		int r = judge(l, d, s->len, &off, &fr);

		cnt[r]++;
		if (r != LWF_OK)
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
			KIND_STAT_ADD(&l->st, verdict[i], cnt[i]);
	KIND_STAT_ADD(&l->st, app, used_app);
	if (app_full != 0)
		KIND_STAT_ADD(&l->st, app_full, app_full);
	FIBER_STAT_ADD(f, frames, n);
	FIBER_STAT_ADD(f, sent, used_tx);
	return (int)n;
}

const struct fiber_kind fiber_kind_lwf = {
	.name = "lwf",
	.help = "Validates LWF v2 frames: accepted ones to app and/or back "
		"out on tx",
	.params = lwf_params,
	.n_params = RTE_DIM(lwf_params),
	.params_size = sizeof(struct lwf_kind_params),
	.check = lwf_check,
	.init = lwf_init,
	.step = lwf_step,
	.fini = lwf_fini,
	.counters = &lwf_ctr_set,
	.stats_offset = offsetof(struct lwf_kind_priv, st),
	.stats_size = sizeof(struct lwf_kind_stats),
};
