/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * utcp: validates UTCP packets (docs/wire-formats.md) from its rx ring.
 * Every frame is counted once, accepted or refused with a reason.  An
 * accepted packet's payload goes to the ring bound to its destination port
 * (`bind`; slot tag: the source port, so an application can answer); a
 * port nobody bound is counted (unbound).  With `reflect`, accepted frames
 * also go back out on tx with the MAC addresses swapped.
 *
 * A bound ring belongs to an application that may be slow or absent: when
 * it is full the payload is dropped and counted (app_full); a full tx ring
 * is back-pressure: frames stay in rx.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <wire.h>

#include "fiber_impl.h"

struct utcp_kind_params {
	bool reflect;
	struct fiber_binds bind;
};

static const struct fiber_param utcp_params[] = {
	{"reflect", FIBER_P_BOOL, offsetof(struct utcp_kind_params, reflect), 0,
	 0, "false", "send accepted frames back out on tx, MACs swapped"},
	{"bind", FIBER_P_BINDS, offsetof(struct utcp_kind_params, bind), 0, 0,
	 "",
	 "( { port = P; channel = C; }, ... ): port P's payloads to ring C"},
};

struct utcp_kind_stats {
	uint64_t verdict[UTCP_N_REASONS + 1];
	uint64_t delivered; /**< payloads written to their bound ring */
	uint64_t unbound;   /**< accepted, but no ring bound to the port */
	uint64_t app_full;  /**< accepted, the bound ring was full */
};

#define NOT_UTCP UTCP_N_REASONS

static const struct ctr_desc utcp_ctrs[] = {
	CTR_AT("ok", struct utcp_kind_stats, verdict[UTCP_OK],
	       "packets accepted"),
	CTR_AT("too_short", struct utcp_kind_stats, verdict[UTCP_TOO_SHORT],
	       "refused: shorter than a header"),
	CTR_AT("bad_version", struct utcp_kind_stats, verdict[UTCP_BAD_VERSION],
	       "refused: version is not 1"),
	CTR_AT("bad_length", struct utcp_kind_stats, verdict[UTCP_BAD_LENGTH],
	       "refused: length below a header or past the frame"),
	CTR_AT("bad_checksum", struct utcp_kind_stats,
	       verdict[UTCP_BAD_CHECKSUM],
	       "refused: the Internet checksum does not verify"),
	CTR_AT("not_utcp", struct utcp_kind_stats, verdict[NOT_UTCP],
	       "refused: not EtherType 0x88B5"),
	CTR(struct utcp_kind_stats, delivered,
	    "accepted payloads written to the ring bound to their port"),
	CTR(struct utcp_kind_stats, unbound,
	    "accepted packets for a port no ring is bound to"),
	CTR(struct utcp_kind_stats, app_full,
	    "accepted payloads dropped: their bound ring was full"),
};

static const struct ctr_set utcp_ctr_set =
	CTR_SET("utcp", utcp_ctrs, "utcp fiber");

struct utcp_kind_priv {
	bool reflect;
	unsigned int n_binds;
	struct {
		uint16_t port;
		unsigned int end; /* the fiber's end of the bound ring */
	} binds[FIBER_MAX_BINDS];
	struct utcp_kind_stats st; /* written by the fiber's lcore only */
};

static int
utcp_check(const struct fiber_conf *c, char *why, size_t len)
{
	const struct utcp_kind_params *p = c->params;

	return kind_reflect_needs_tx(c, p->reflect, why, len);
}

static int
utcp_init(struct fiber *f, const void *params, const struct fiber_env *env)
{
	const struct utcp_kind_params *p = params;
	struct utcp_kind_priv *u = calloc(1, sizeof(*u));
	unsigned int i;

	(void)env;
	if (u == NULL)
		return -ENOMEM;
	f->priv = u;
	u->reflect = p->reflect;
	for (i = 0; i < p->bind.n; i++) {
		int e = fiber_end_add(f, p->bind.b[i].channel, ION_PERM_WRITE);

		if (e < 0)
			return e;
		u->binds[i].port = p->bind.b[i].port;
		u->binds[i].end = (unsigned int)e;
	}
	u->n_binds = p->bind.n;
	return 0;
}

static void
utcp_fini(struct fiber *f)
{
	free(f->priv);
	f->priv = NULL;
}

/* The producer end bound to @p port, opened on first use; NULL when none is
 * bound, or on a capability fault (*fault set). */
static struct ion_prod *
bound(struct fiber *f, struct utcp_kind_priv *u, uint16_t port, bool *fault)
{
	unsigned int i;

	for (i = 0; i < u->n_binds; i++) {
		struct ion_prod *p;

		if (u->binds[i].port != port)
			continue;
		p = fiber_prod(f, u->binds[i].end);
		*fault = p == NULL;
		return p;
	}
	return NULL;
}

static int
utcp_step(struct fiber *f)
{
	struct utcp_kind_priv *u = f->priv;
	uint64_t cnt[UTCP_N_REASONS + 1] = {0};
	uint32_t i, n, used_tx = 0, app = 0, app_full = 0, unbound = 0;
	struct ion_cons *rx = fiber_cons(f, FIBER_RX);
	struct ion_prod *tx = NULL;

	if (rx == NULL)
		return -EACCES;
	n = ion_cons_peek(rx, f->burst);
	if (n == 0)
		return 0;
	if (u->reflect) {
		tx = fiber_prod(f, FIBER_TX);
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
			cnt[NOT_UTCP]++;
			continue;
		}
		r = utcp_parse(d + off, s->len - off, &p);
		cnt[-r]++;
		if (r != 0)
			continue;
		out = bound(f, u, p.dst_port, &fault);
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
			KIND_STAT_ADD(&u->st, verdict[i], cnt[i]);
	KIND_STAT_ADD(&u->st, delivered, app);
	KIND_STAT_ADD(&u->st, unbound, unbound);
	KIND_STAT_ADD(&u->st, app_full, app_full);
	FIBER_STAT_ADD(f, frames, n);
	FIBER_STAT_ADD(f, sent, used_tx);
	return (int)n;
}

const struct fiber_kind fiber_kind_utcp = {
	.name = "utcp",
	.help = "Validates UTCP packets: payloads to the ring bound to their "
		"port, and/or back out on tx",
	.params = utcp_params,
	.n_params = RTE_DIM(utcp_params),
	.params_size = sizeof(struct utcp_kind_params),
	.check = utcp_check,
	.init = utcp_init,
	.step = utcp_step,
	.fini = utcp_fini,
	.counters = &utcp_ctr_set,
	.stats_offset = offsetof(struct utcp_kind_priv, st),
	.stats_size = sizeof(struct utcp_kind_stats),
};
