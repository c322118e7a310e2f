/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Capability space: a fiber reaches a ring only through a slot here.
 * Control path only; a fiber opens its endpoints once, then uses the
 * handles on the data path.
 */
#include <string.h>

#include "ion_ring.h"

void
ion_cspace_init(struct ion_cspace *cs)
{
	memset(cs, 0, sizeof(*cs));
}

static struct ion_cap *
find(const struct ion_cspace *cs, uint32_t channel)
{
	unsigned int i;

	for (i = 0; i < ION_CSPACE_SLOTS; i++)
		if (cs->caps[i].perms != 0 && cs->caps[i].channel == channel)
			return (struct ion_cap *)&cs->caps[i];
	return NULL;
}

int
ion_cspace_grant(struct ion_cspace *cs, struct ion_ring *ring, uint32_t perms)
{
	struct ion_cap *cap;
	unsigned int i;

	if (cs == NULL || ring == NULL || perms == 0 ||
	    (perms & ~(uint32_t)ION_PERM_RW) != 0)
		return -EINVAL;
	cap = find(cs, ring->hdr.channel);
	if (cap != NULL) {
		cap->perms = perms;
		cap->ring = ring;
		return (int)(cap - cs->caps);
	}
	for (i = 0; i < ION_CSPACE_SLOTS; i++) {
		if (cs->caps[i].perms == 0) {
			cs->caps[i].channel = ring->hdr.channel;
			cs->caps[i].perms = perms;
			cs->caps[i].ring = ring;
			cs->caps[i].wake_fd = -1;
			cs->used++;
			return (int)i;
		}
	}
	return -ENOSPC;
}

int
ion_cspace_set_wake_fd(struct ion_cspace *cs, uint32_t channel, int fd)
{
	struct ion_cap *cap = find(cs, channel);

	if (cap == NULL)
		return -ENOENT;
	cap->wake_fd = fd < 0 ? ION_WAKE_NONE : fd;
	return 0;
}

const struct ion_cap *
ion_cspace_lookup(const struct ion_cspace *cs, uint32_t channel)
{
	return find(cs, channel);
}

int
ion_cspace_revoke(struct ion_cspace *cs, uint32_t channel)
{
	struct ion_cap *cap = find(cs, channel);

	if (cap == NULL)
		return -ENOENT;
	memset(cap, 0, sizeof(*cap));
	cs->used--;
	return 0;
}

/* The capability for @p perm on @p channel, or NULL after recording a fault. */
static struct ion_cap *
check(struct ion_cspace *cs, uint32_t channel, uint32_t perm)
{
	struct ion_cap *cap = find(cs, channel);

	if (cap != NULL && (cap->perms & perm) == perm)
		return cap;
	cs->fault.channel = channel;
	cs->fault.perm = perm;
	cs->fault.count++;
	return NULL;
}

int
ion_cspace_open_prod(struct ion_cspace *cs, uint32_t channel,
		     struct ion_prod *p)
{
	struct ion_cap *cap = check(cs, channel, ION_PERM_WRITE);
	int rc;

	if (cap == NULL)
		return -EACCES;
	rc = ion_prod_open(p, cap->ring);
	/* the other end is another process's, and says how it is woken */
	if (rc == 0 && cap->wake_fd != -1)
		ion_prod_set_peer_eventfd(p, cap->wake_fd);
	return rc;
}

int
ion_cspace_open_cons(struct ion_cspace *cs, uint32_t channel,
		     struct ion_cons *c)
{
	struct ion_cap *cap = check(cs, channel, ION_PERM_READ);
	int rc;

	if (cap == NULL)
		return -EACCES;
	rc = ion_cons_open(c, cap->ring);
	if (rc == 0 && cap->wake_fd != -1)
		ion_cons_set_peer_eventfd(c, cap->wake_fd);
	return rc;
}

const char *
ion_perm_str(uint32_t perms)
{
	switch (perms & ION_PERM_RW) {
	case ION_PERM_READ:
		return "r";
	case ION_PERM_WRITE:
		return "w";
	case ION_PERM_RW:
		return "rw";
	default:
		return "-";
	}
}
