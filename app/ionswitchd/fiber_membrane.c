/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The membrane fiber: lwIP (lib/membrane) on the net RX/TX rings, with
 * its HTTP server's files coming through the VFS rings.  Every ring is
 * opened through the fiber's CSpace on its first step, so a manifest that
 * forgot one kills the fiber at once, and nothing else.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fiber.h"
#include "fiber_kinds.h"

struct fiber_membrane {
	struct membrane *m; /**< atomic: created by the fiber's first step */
	struct membrane_conf conf;
	uint32_t vfs_req_ch, vfs_rsp_ch;
	struct ion_prod vfs_req;
	struct ion_cons vfs_rsp;
	bool req_open, rsp_open;
};

int
fiber_membrane_init(struct fiber *f, const struct cfg_fiber *fc,
		    const uint8_t mac[6], membrane_stats_fn stats, void *arg)
{
	struct fiber_membrane *fm = calloc(1, sizeof(*fm));

	if (fm == NULL)
		return -ENOMEM;
	memcpy(fm->conf.mac, mac, sizeof(fm->conf.mac));
	fm->conf.ip = fc->ip;
	fm->conf.netmask = fc->netmask;
	fm->conf.gateway = fc->gateway;
	fm->conf.echo = fc->echo;
	fm->conf.http = fc->http;
	fm->conf.http_port = fc->http_port;
	fm->conf.stats_json = stats;
	fm->conf.stats_arg = arg;
	fm->vfs_req_ch = fc->vfs_req;
	fm->vfs_rsp_ch = fc->vfs_rsp;
	f->priv = fm;
	/* lwIP's thread starts now, on the main lcore's CPU set, not later
	 * on a worker lcore's (it would inherit the worker's pinning) */
	return membrane_lwip_start();
}

/* Open every ring the membrane uses; -EACCES on a missing capability. */
static int
open_ends(struct fiber *f, struct fiber_membrane *fm)
{
	fm->conf.rx = fiber_rx_end(f);
	fm->conf.tx = fiber_tx_end(f);
	if (fm->conf.rx == NULL || fm->conf.tx == NULL)
		return -EACCES;
	if (!fm->conf.http)
		return 0;
	if (!fm->req_open &&
	    ion_cspace_open_prod(&f->cs, fm->vfs_req_ch, &fm->vfs_req) < 0)
		return -EACCES;
	fm->req_open = true;
	if (!fm->rsp_open &&
	    ion_cspace_open_cons(&f->cs, fm->vfs_rsp_ch, &fm->vfs_rsp) < 0)
		return -EACCES;
	fm->rsp_open = true;
	fm->conf.vfs_req = &fm->vfs_req;
	fm->conf.vfs_rsp = &fm->vfs_rsp;
	return 0;
}

struct membrane *
fiber_membrane_get(const struct fiber *f)
{
	const struct fiber_membrane *fm = f->priv;

	/* acquire: pairs with the step's release; a fully built membrane */
	return fm != NULL ? __atomic_load_n(&fm->m, __ATOMIC_ACQUIRE) : NULL;
}

int
fiber_membrane_step(struct fiber *f)
{
	struct fiber_membrane *fm = f->priv;
	struct membrane_stats st;
	struct membrane *m;
	unsigned int n;
	int rc;

	if (fm == NULL)
		return -EINVAL;
	m = fm->m;
	if (m == NULL) {
		rc = open_ends(f, fm);
		if (rc == 0)
			rc = membrane_create(&fm->conf, &m);
		if (rc < 0)
			return rc;
		__atomic_store_n(&fm->m, m, __ATOMIC_RELEASE);
	}
	n = membrane_poll(m, f->burst);
	if (n != 0) {
		membrane_stats_get(m, &st);
		/* relaxed: own counters, readers need only no tearing */
		__atomic_store_n(&f->st.frames, st.rx_frames, __ATOMIC_RELAXED);
		__atomic_store_n(&f->st.sent, st.tx_frames, __ATOMIC_RELAXED);
	}
	return (int)n;
}

void
fiber_membrane_kill(struct fiber *f)
{
	struct membrane *m = fiber_membrane_get(f);

	if (m != NULL)
		membrane_stop(m); /* lwIP's thread must not transmit either */
}

void
fiber_membrane_fini(struct fiber *f)
{
	struct fiber_membrane *fm = f->priv;

	if (f->kind != CFG_FIBER_MEMBRANE || fm == NULL)
		return;
	membrane_destroy(fm->m);
	if (fm->req_open)
		ion_prod_close(&fm->vfs_req);
	if (fm->rsp_open)
		ion_cons_close(&fm->vfs_rsp);
	free(fm);
	f->priv = NULL;
}
