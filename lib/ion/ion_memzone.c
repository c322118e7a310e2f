/* SPDX-License-Identifier: BSD-3-Clause */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <mntent.h>
#include <unistd.h>
#include <stdio.h>

#include <rte_errno.h>
#include <rte_log.h>
#include <rte_memzone.h>

#include "ion_memzone.h"

RTE_LOG_REGISTER_DEFAULT(ion_logtype, INFO);
#define ION_LOG(level, ...)                                                    \
	rte_log(RTE_LOG_##level, ion_logtype, "ion: " __VA_ARGS__)

void
ion_memzone_name(uint32_t channel, char *buf, size_t len)
{
	snprintf(buf, len, ION_MEMZONE_PREFIX "0x%04x", channel);
}

int
ion_memzone_create(const struct ion_ring_params *p, int socket_id,
		   struct ion_ring **out)
{
	struct ion_ring_params q;
	const struct rte_memzone *mz;
	char name[RTE_MEMZONE_NAMESIZE];
	size_t len;
	int rc;

	if (p == NULL || out == NULL)
		return -EINVAL;
	len = ion_ring_memsize(p->capacity, p->slot_size);
	if (len == 0) {
		ION_LOG(ERR,
			"channel 0x%04x: capacity %u (power of two, 2..%u) "
			"or slot size %u (1..%u) out of range\n",
			p->channel, p->capacity, ION_RING_MAX_CAPACITY,
			p->slot_size, ION_RING_MAX_SLOT_SIZE);
		return -EINVAL;
	}
	if (p->name != NULL)
		snprintf(name, sizeof(name), "%s", p->name);
	else
		ion_memzone_name(p->channel, name, sizeof(name));
	mz = rte_memzone_reserve_aligned(name, len, socket_id, 0,
					 ION_RING_ALIGN);
	if (mz == NULL) {
		rc = -rte_errno;
		ION_LOG(ERR, "memzone %s (%zu bytes): %s\n", name, len,
			rte_strerror(rte_errno));
		return rc;
	}
	q = *p;
	q.name = name; /* the header names its memzone, for free() */
	rc = ion_ring_init(mz->addr, mz->len, &q);
	if (rc < 0) {
		rte_memzone_free(mz);
		return rc;
	}
	*out = mz->addr;
	return 0;
}

int
ion_memzone_lookup(const char *name, const struct ion_ring_params *expect,
		   struct ion_ring **out)
{
	const struct rte_memzone *mz;
	char why[160];
	int rc;

	if (name == NULL || out == NULL)
		return -EINVAL;
	mz = rte_memzone_lookup(name);
	if (mz == NULL) {
		ION_LOG(ERR, "no memzone named %s\n", name);
		return -ENOENT;
	}
	rc = ion_ring_check(mz->addr, mz->len, expect, why, sizeof(why));
	if (rc < 0) {
		ION_LOG(ERR, "memzone %s: %s\n", name, why);
		return rc;
	}
	*out = mz->addr;
	return 0;
}

int
ion_memzone_free(struct ion_ring *r)
{
	const struct rte_memzone *mz;

	if (r == NULL)
		return -EINVAL;
	mz = rte_memzone_lookup(r->hdr.name);
	if (mz == NULL || mz->addr != (void *)r)
		return -ENOENT;
	return rte_memzone_free(mz);
}

/*
 * EAL keeps its hugepage files after rte_eal_cleanup(), for secondary
 * processes that might still attach: remove "<prefix>map_*" from every
 * hugetlbfs mount.
 */
void
ion_remove_hugepage_files(const char *prefix)
{
	size_t plen = strlen(prefix);
	struct mntent *me;
	FILE *mounts = setmntent("/proc/mounts", "r");

	if (mounts == NULL)
		return;
	while ((me = getmntent(mounts)) != NULL) {
		struct dirent *e;
		DIR *dir;

		if (strcmp(me->mnt_type, "hugetlbfs") != 0)
			continue;
		dir = opendir(me->mnt_dir);
		if (dir == NULL)
			continue;
		while ((e = readdir(dir)) != NULL) {
			char path[PATH_MAX];

			if (strncmp(e->d_name, prefix, plen) != 0 ||
			    strncmp(e->d_name + plen, "map_", 4) != 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", me->mnt_dir,
				 e->d_name);
			unlink(path);
		}
		closedir(dir);
	}
	endmntent(mounts);
}
