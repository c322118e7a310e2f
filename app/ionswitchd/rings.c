/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The daemon's rings: one per channel of the config, in a DPDK memzone,
 * or split by owner into files of their own when an external fiber holds
 * an end (its process maps only its part); found by channel.
 */
#include <errno.h>
#include <string.h>

#include <rte_lcore.h>

#include <ion_memzone.h>

#include "ionswitchd.h"

struct ion_ring *
ionswitchd_ring(const struct ionswitchd *d, uint32_t channel)
{
	unsigned int i;

	for (i = 0; i < d->n_rings; i++)
		if (d->ring_ch[i] == channel)
			return d->rings[i];
	return NULL;
}

const char *
ionswitchd_ring_name(const struct ionswitchd *d, uint32_t channel)
{
	const struct cfg_channel *cc = cfg_channel(&d->cfg, channel);

	return cc != NULL ? cc->name : "";
}

/* The grants external fibers hold on @p channel (ION_PERM_* bits). */
static uint32_t
external_perms(const struct cfg *c, uint32_t channel)
{
	uint32_t perms = 0;
	unsigned int i, j;

	for (i = 0; i < c->n_fibers; i++)
		for (j = 0;
		     c->fibers[i].kind->remote && j < c->fibers[i].n_grants;
		     j++)
			if (c->fibers[i].grants[j].channel == channel)
				perms |= c->fibers[i].grants[j].perms;
	return perms;
}

int
rings_create(struct ionswitchd *d)
{
	unsigned int i;
	int rc;

	for (i = 0; i < d->cfg.n_channels; i++) {
		const struct cfg_channel *cc = &d->cfg.channels[i];
		struct ion_ring_params p = {
			.channel = cc->id,
			.capacity = cc->slots,
			.slot_size = cc->slot_size,
			.name = cc->name,
		};
		uint32_t ext = external_perms(&d->cfg, cc->id);

		d->ring_ch[i] = cc->id;
		d->n_rings = i + 1;
		if (ext == 0) {
			rc = ion_memzone_create(&p, (int)rte_socket_id(),
						&d->rings[i]);
			if (rc < 0)
				return rc;
			continue;
		}
		/* an external fiber's ring: one file per owner, the
		 * producer's in huge pages when only we write it */
		rc = ion_ring_create_split(
			&d->maps[i], cc->name, &p,
			(ext & ION_PERM_WRITE) ? 0 : ION_SPLIT_HUGE);
		if (rc < 0) {
			DLOG(ERR,
			     "ring 0x%04x (%s) for an external fiber: %s\n",
			     cc->id, cc->name, strerror(-rc));
			return rc;
		}
		d->rings[i] = d->maps[i].ring;
		DLOG(INFO,
		     "ring 0x%04x (%s): split by owner, producer's part "
		     "in %u-byte pages\n",
		     cc->id, cc->name, d->rings[i]->hdr.page_size);
	}
	return 0;
}

void
rings_free(struct ionswitchd *d)
{
	unsigned int i;

	for (i = 0; i < d->n_rings; i++) {
		if (d->maps[i].ring != NULL)
			ion_ring_unmap(&d->maps[i]);
		else if (d->rings[i] != NULL)
			ion_memzone_free(d->rings[i]);
	}
	d->n_rings = 0;
}
