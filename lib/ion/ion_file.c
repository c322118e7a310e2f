/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rings for processes without DPDK: a file (hugetlbfs, or any file system)
 * or a memfd, mapped shared.  Control path only.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "ion_ring.h"

#ifndef HUGETLBFS_MAGIC
#define HUGETLBFS_MAGIC 0x958458f6
#endif

/* Length to give the file: huge-page multiples on hugetlbfs. */
static size_t
file_len(int fd, size_t need)
{
	struct statfs sfs;
	size_t unit = 4096;

	if (fstatfs(fd, &sfs) == 0 &&
	    (unsigned long)sfs.f_type == HUGETLBFS_MAGIC)
		unit = (size_t)sfs.f_bsize;
	return (need + unit - 1) / unit * unit;
}

static int
map_new(struct ion_ring_map *m, int fd, const struct ion_ring_params *p)
{
	size_t need = ion_ring_memsize(p->capacity, p->slot_size);
	size_t len;
	void *mem;
	int rc;

	if (need == 0)
		return -EINVAL;
	len = file_len(fd, need);
	if (ftruncate(fd, (off_t)len) < 0)
		return -errno;
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED)
		return -errno;
	rc = ion_ring_init(mem, len, p);
	if (rc < 0) {
		munmap(mem, len);
		return rc;
	}
	m->ring = mem;
	m->len = len;
	m->fd = fd;
	return 0;
}

int
ion_ring_create_file(struct ion_ring_map *m, const char *path,
		     const struct ion_ring_params *p)
{
	int fd, rc;

	if (m == NULL || path == NULL || p == NULL)
		return -EINVAL;
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	rc = map_new(m, fd, p);
	if (rc < 0) {
		close(fd);
		unlink(path);
	}
	return rc;
}

int
ion_ring_create_memfd(struct ion_ring_map *m, const char *name,
		      const struct ion_ring_params *p, unsigned int flags)
{
	int fd, rc;

	if (m == NULL || name == NULL || p == NULL)
		return -EINVAL;
	fd = memfd_create(name, flags);
	if (fd < 0)
		return -errno;
	rc = map_new(m, fd, p);
	if (rc < 0)
		close(fd);
	return rc;
}

int
ion_ring_attach_file(struct ion_ring_map *m, const char *path, int fd,
		     const struct ion_ring_params *expect, char *why,
		     size_t whylen)
{
	struct stat st;
	void *mem;
	int rc;

	if (m == NULL || (path == NULL && fd < 0))
		return -EINVAL;
	if (path != NULL) {
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			rc = -errno;
			if (why != NULL)
				snprintf(why, whylen, "%s: %s", path,
					 strerror(-rc));
			return rc;
		}
	} else {
		fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto fail;
	}
	if ((size_t)st.st_size < sizeof(struct ion_ring)) {
		if (why != NULL)
			snprintf(why, whylen,
				 "file of %lld bytes is too small for a ring",
				 (long long)st.st_size);
		rc = -ERANGE;
		goto fail;
	}
	mem = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   fd, 0);
	if (mem == MAP_FAILED) {
		rc = -errno;
		goto fail;
	}
	rc = ion_ring_check(mem, (size_t)st.st_size, expect, why, whylen);
	if (rc < 0) {
		munmap(mem, (size_t)st.st_size);
		goto fail;
	}
	m->ring = mem;
	m->len = (size_t)st.st_size;
	m->fd = fd;
	return 0;
fail:
	close(fd);
	return rc;
}

void
ion_ring_unmap(struct ion_ring_map *m)
{
	if (m == NULL || m->ring == NULL)
		return;
	munmap(m->ring, m->len);
	if (m->fd >= 0)
		close(m->fd);
	m->ring = NULL;
	m->fd = -1;
}
