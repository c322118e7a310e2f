/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rings for processes without DPDK: a file (hugetlbfs, or any file system)
 * or a memfd, mapped shared; or one memfd per part (header, consumer's,
 * producer's) so that another process can be given each part with the
 * protection its grant allows.  Control path only.
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

/* @m: a ring mapped whole from one file. */
static void
map_whole(struct ion_ring_map *m, void *mem, size_t len, int fd)
{
	unsigned int i;

	m->ring = mem;
	m->len = len;
	m->fd = fd;
	for (i = 0; i < ION_PARTS; i++)
		m->part_fd[i] = -1;
	m->perm = ION_PERM_RW;
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
	map_whole(m, mem, len, fd);
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
	if ((size_t)st.st_size < sizeof(struct ion_ring_hdr)) {
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
	map_whole(m, mem, (size_t)st.st_size, fd);
	return 0;
fail:
	close(fd);
	return rc;
}

void
ion_ring_unmap(struct ion_ring_map *m)
{
	unsigned int i;

	if (m == NULL || m->ring == NULL)
		return;
	munmap(m->ring, m->len);
	if (m->fd >= 0)
		close(m->fd);
	for (i = 0; i < ION_PARTS; i++) {
		if (m->part_fd[i] >= 0)
			close(m->part_fd[i]);
		m->part_fd[i] = -1;
	}
	m->ring = NULL;
	m->fd = -1;
}

/* ---- one file per part ---- */

/* Where part @i lies in a ring whose header is @h: offset and length. */
static void
part_span(const struct ion_ring_hdr *h, enum ion_part i, size_t *off,
	  size_t *len)
{
	switch (i) {
	case ION_PART_HDR:
		*off = 0;
		*len = ION_RING_PAGE;
		break;
	case ION_PART_CONS:
		*off = h->cons_offset;
		*len = ION_RING_PAGE;
		break;
	default:
		*off = h->prod_offset;
		*len = h->total_size - h->prod_offset;
		break;
	}
}

/* Address space for a ring of @len bytes aligned to @align, reserved
 * inaccessible; the parts are mapped into it with MAP_FIXED. */
static void *
reserve(size_t len, size_t align)
{
	uint8_t *p = mmap(NULL, len + align, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	uint8_t *a;

	if (p == MAP_FAILED)
		return NULL;
	a = (uint8_t *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));
	if (a > p)
		munmap(p, (size_t)(a - p));
	if (a + len < p + len + align)
		munmap(a + len, (size_t)(p + len + align - (a + len)));
	return a;
}

/* A memfd of @len bytes for a part, sealed against resizing and 0600. */
static int
part_memfd(const char *name, const char *part, size_t len, unsigned int huge)
{
	char nm[64];
	int fd;

	snprintf(nm, sizeof(nm), "ion-%s-%s", name, part);
	fd = memfd_create(nm, MFD_CLOEXEC | MFD_ALLOW_SEALING |
				      (huge ? MFD_HUGETLB : 0));
	if (fd < 0)
		return -errno;
	/* 0600, owned by us: a process of another user given it read-only
	 * cannot reopen it writable through /proc/self/fd */
	if (fchmod(fd, 0600) < 0 || ftruncate(fd, (off_t)len) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	return fd;
}

/* Seal @fd for good: nothing more can be added or taken off. */
static int
seal(int fd, int more)
{
	return fcntl(fd, F_ADD_SEALS, more | F_SEAL_SEAL) < 0 ? -errno : 0;
}

/* Map part @i of the ring at @ring from @fd, @writable or read-only. */
static int
map_part(struct ion_ring *ring, const struct ion_ring_hdr *h, enum ion_part i,
	 int fd, int writable)
{
	size_t off, len;
	void *p;

	part_span(h, i, &off, &len);
	p = mmap((uint8_t *)ring + off, len,
		 PROT_READ | (writable ? PROT_WRITE : 0),
		 MAP_SHARED | MAP_FIXED, fd, 0);
	return p == MAP_FAILED ? -errno : 0;
}

int
ion_ring_create_split(struct ion_ring_map *m, const char *name,
		      const struct ion_ring_params *p, unsigned int flags)
{
	struct ion_ring_params q;
	struct ion_ring_layout l;
	struct ion_ring_hdr h;
	int fds[ION_PARTS] = {-1, -1, -1};
	unsigned int i;
	int rc = -EINVAL;

	if (m == NULL || name == NULL || p == NULL)
		return -EINVAL;
	q = *p;
	q.page_size = 0;
	if (flags & ION_SPLIT_HUGE) {
		long hp;
		struct statfs sfs;
		int probe =
			memfd_create("ion-probe", MFD_CLOEXEC | MFD_HUGETLB);

		/* the default huge page size: the block size of a hugetlb
		 * memfd; none when the kernel has none */
		hp = probe >= 0 && fstatfs(probe, &sfs) == 0 ? sfs.f_bsize : 0;
		if (probe >= 0)
			close(probe);
		if (hp > (long)ION_RING_PAGE)
			q.page_size = (uint32_t)hp;
	}
	if (ion_ring_layout(q.capacity, q.slot_size, q.page_size, &l) < 0)
		return -EINVAL;
	fds[ION_PART_HDR] = part_memfd(name, "hdr", ION_RING_PAGE, 0);
	fds[ION_PART_CONS] = part_memfd(name, "cons", ION_RING_PAGE, 0);
	fds[ION_PART_PROD] = part_memfd(
		name, "prod", l.total_size - l.prod_offset, q.page_size != 0);
	if (fds[ION_PART_PROD] < 0 && q.page_size != 0) {
		/* no huge pages for it: ordinary pages */
		q.page_size = 0;
		ion_ring_layout(q.capacity, q.slot_size, 0, &l);
		fds[ION_PART_PROD] = part_memfd(
			name, "prod", l.total_size - l.prod_offset, 0);
	}
	for (i = 0; i < ION_PARTS; i++)
		if (fds[i] < 0) {
			rc = fds[i];
			goto fail;
		}
	m->ring = reserve(l.total_size,
			  q.page_size != 0 ? q.page_size : ION_RING_PAGE);
	if (m->ring == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	m->len = l.total_size;
	m->fd = -1;
	m->perm = ION_PERM_RW;
	/* the header, laid out in a private copy, then written once */
	memset(&h, 0, sizeof(h));
	h.cons_offset = l.cons_offset;
	h.prod_offset = l.prod_offset;
	h.total_size = l.total_size;
	for (i = 0; i < ION_PARTS; i++) {
		rc = map_part(m->ring, &h, i, fds[i], 1);
		if (rc < 0)
			goto unmap;
	}
	rc = ion_ring_init(m->ring, m->len, &q);
	if (rc < 0)
		goto unmap;
	/* the header is written: from now on nobody can write it, us
	 * included.  F_SEAL_WRITE wants no mapping that could become
	 * writable, so ours is remade from a read-only open of the file. */
	m->part_fd[ION_PART_HDR] = fds[ION_PART_HDR];
	rc = ion_ring_part_fd(m, ION_PART_HDR, 0);
	if (rc >= 0) {
		int ro = rc;

		rc = map_part(m->ring, &m->ring->hdr, ION_PART_HDR, ro, 0);
		close(ro);
	}
	if (rc == 0)
		rc = seal(fds[ION_PART_HDR], F_SEAL_WRITE);
	if (rc == 0)
		rc = seal(fds[ION_PART_CONS], 0);
	if (rc == 0)
		rc = seal(fds[ION_PART_PROD], 0);
	if (rc < 0)
		goto unmap;
	for (i = 0; i < ION_PARTS; i++)
		m->part_fd[i] = fds[i];
	return 0;
unmap:
	munmap(m->ring, l.total_size);
	m->ring = NULL;
fail:
	for (i = 0; i < ION_PARTS; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return rc;
}

int
ion_ring_part_fd(const struct ion_ring_map *m, enum ion_part part, int writable)
{
	char path[64];
	int fd;

	if (m == NULL || part >= ION_PARTS || m->part_fd[part] < 0)
		return -EINVAL;
	if (writable && part != ION_PART_HDR) {
		fd = fcntl(m->part_fd[part], F_DUPFD_CLOEXEC, 0);
		return fd < 0 ? -errno : fd;
	}
	/* a new open file description, read-only: mmap(PROT_WRITE) and
	 * mprotect(PROT_WRITE) of a shared mapping of it fail (EACCES) */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", m->part_fd[part]);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int
ion_ring_map_split(struct ion_ring_map *m, const int fds[ION_PARTS],
		   uint32_t perm, const struct ion_ring_params *expect,
		   char *why, size_t whylen)
{
	struct ion_ring_hdr h;
	struct stat st;
	unsigned int i;
	void *hdr;
	int rc;

	if (m == NULL || fds == NULL || (perm & ~(uint32_t)ION_PERM_RW) != 0) {
		rc = -EINVAL;
		goto fail;
	}
	for (i = 0; i < ION_PARTS; i++)
		if (fds[i] < 0) {
			rc = -EBADF;
			goto fail;
		}
	/* the header first: it says where the parts go */
	hdr = mmap(NULL, ION_RING_PAGE, PROT_READ, MAP_SHARED,
		   fds[ION_PART_HDR], 0);
	if (hdr == MAP_FAILED) {
		rc = -errno;
		goto fail;
	}
	rc = ion_ring_check(hdr, ((const struct ion_ring_hdr *)hdr)->total_size,
			    expect, why, whylen);
	memcpy(&h, hdr, sizeof(h));
	munmap(hdr, ION_RING_PAGE);
	if (rc < 0)
		goto fail;
	if (fstat(fds[ION_PART_PROD], &st) < 0 ||
	    (size_t)st.st_size < h.total_size - h.prod_offset ||
	    fstat(fds[ION_PART_CONS], &st) < 0 ||
	    (size_t)st.st_size < ION_RING_PAGE) {
		if (why != NULL)
			snprintf(why, whylen,
				 "a part's file is smaller than the header "
				 "says");
		rc = -ERANGE;
		goto fail;
	}
	m->ring = reserve(h.total_size, h.page_size);
	if (m->ring == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = map_part(m->ring, &h, ION_PART_HDR, fds[ION_PART_HDR], 0);
	if (rc == 0)
		rc = map_part(m->ring, &h, ION_PART_CONS, fds[ION_PART_CONS],
			      (perm & ION_PERM_READ) != 0);
	if (rc == 0)
		rc = map_part(m->ring, &h, ION_PART_PROD, fds[ION_PART_PROD],
			      (perm & ION_PERM_WRITE) != 0);
	if (rc < 0) {
		if (why != NULL)
			snprintf(why, whylen, "mapping its parts: %s",
				 strerror(-rc));
		munmap(m->ring, h.total_size);
		m->ring = NULL;
		goto fail;
	}
	m->len = h.total_size;
	m->fd = -1;
	m->perm = perm;
	for (i = 0; i < ION_PARTS; i++)
		m->part_fd[i] = fds[i];
	return 0;
fail:
	for (i = 0; fds != NULL && i < ION_PARTS; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return rc;
}

int
ion_ring_renew_part(struct ion_ring_map *m, enum ion_part part)
{
	const struct ion_ring_hdr *h;
	size_t off, len;
	void *copy;
	int fd, rc;

	if (m == NULL || m->ring == NULL || m->part_fd[part] < 0 ||
	    (part != ION_PART_CONS && part != ION_PART_PROD) ||
	    m->perm != ION_PERM_RW)
		return -EINVAL;
	h = &m->ring->hdr;
	part_span(h, part, &off, &len);
	fd = part_memfd(h->name[0] != '\0' ? h->name : "ring",
			part == ION_PART_CONS ? "cons" : "prod", len,
			part == ION_PART_PROD && h->page_size > ION_RING_PAGE);
	if (fd < 0)
		return fd;
	copy = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (copy == MAP_FAILED) {
		rc = -errno;
		close(fd);
		return rc;
	}
	memcpy(copy, (uint8_t *)m->ring + off, len);
	munmap(copy, len);
	rc = seal(fd, 0);
	if (rc == 0)
		/* one step: a thread reading the part meanwhile sees the old
		 * page or the copy, never a hole */
		rc = map_part(m->ring, h, part, fd, 1);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	close(m->part_fd[part]);
	m->part_fd[part] = fd;
	return 0;
}
