/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Where a ring lives without DPDK: a hugetlbfs file or a memfd, and a
 * ring split by owner into files of its own.
 * Part of ion_ring.h, which includes it (docs: the top of ion_ring.h).
 */
#ifndef ION_BACKING_H
#define ION_BACKING_H

#include "ion_doorbell.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Backings without DPDK: hugetlbfs file or memfd                      */
/* ------------------------------------------------------------------ */

/** The parts of a ring kept in files of their own (ion_ring_create_split). */
enum ion_part {
	ION_PART_HDR,  /**< the header page: read-only for everyone */
	ION_PART_CONS, /**< the consumer's page */
	ION_PART_PROD, /**< the producer's pages */
	ION_PARTS,
};

/** A ring mapped from a file descriptor, or from one file per part. */
struct ion_ring_map {
	struct ion_ring *ring;
	size_t len;
	int fd;			/**< a ring in one file; -1 for a split ring */
	int part_fd[ION_PARTS]; /**< a split ring's files; -1 otherwise */
	uint32_t
		perm; /**< a split ring: whose parts are mapped writable,
		       *   ION_PERM_WRITE the producer's, READ the consumer's */
};

/**
 * Create a ring in a new file at @p path (on hugetlbfs the size is rounded
 * up to the huge page size).  Fails with -EEXIST if the file exists.
 */
int ion_ring_create_file(struct ion_ring_map *m, const char *path,
			 const struct ion_ring_params *p);
/**
 * Create a ring in an anonymous memfd named @p name; m->fd can be passed
 * to another process (inherited, or over a UNIX socket).
 * @p flags: 0, or MFD_HUGETLB for huge pages.
 */
int ion_ring_create_memfd(struct ion_ring_map *m, const char *name,
			  const struct ion_ring_params *p, unsigned int flags);
/**
 * Map an existing ring from @p path, or from @p fd when path is NULL, and
 * check its header against @p expect (may be NULL).  The reason of a
 * refusal goes to @p why.
 */
int ion_ring_attach_file(struct ion_ring_map *m, const char *path, int fd,
			 const struct ion_ring_params *expect, char *why,
			 size_t whylen);
/** Unmap and close (the file, if any, stays). */
void ion_ring_unmap(struct ion_ring_map *m);

/** ion_ring_create_split() flags. */
#define ION_SPLIT_HUGE                                                         \
	0x1u /**< the producer's part in huge pages if it can                  \
	      */

/**
 * Create a ring in three memfds, one per part (ION_PART_*), mapped whole
 * and writable here at one address, so that other processes can be given
 * each part with the protection their grant allows (ion_ring_part_fd(),
 * ion_ring_map_split()).  Every file is sealed against resizing
 * (F_SEAL_SHRINK, F_SEAL_GROW, F_SEAL_SEAL: a process given it cannot cut
 * the pages from under the others) and has mode 0600 (a process of another
 * user given it read-only cannot reopen it read-write through /proc); the
 * header's is sealed against writes too.  With ION_SPLIT_HUGE the
 * producer's part is a MFD_HUGETLB memfd when huge pages are available
 * (give it only read-only to another process: a writable huge page file
 * lets its holder punch a hole that the kernel may not be able to fill,
 * a SIGBUS for every mapper), else ION_RING_PAGE pages.
 * @return 0, or a negative errno.
 */
int ion_ring_create_split(struct ion_ring_map *m, const char *name,
			  const struct ion_ring_params *p, unsigned int flags);

/**
 * A new descriptor of part @p part of split ring @p m, to give another
 * process: a duplicate when @p writable, else the file opened anew
 * read-only (through /proc/self/fd), from which nobody can make a writable
 * mapping.  The header's is always read-only.
 * @return the descriptor (O_CLOEXEC), or a negative errno.
 */
int ion_ring_part_fd(const struct ion_ring_map *m, enum ion_part part,
		     int writable);

/**
 * Map a split ring from its files @p fds (ION_PART_*) with the protection
 * grant @p perm allows: ION_PERM_WRITE maps the producer's part
 * read-write, ION_PERM_READ the consumer's, everything else read-only.  A
 * write there is a SIGSEGV, and mprotect(PROT_WRITE) fails with EACCES
 * when the part's file is read-only.  The ring is checked against
 * @p expect (may be NULL) as ion_ring_attach_file() does.  The
 * descriptors are taken over: closed by ion_ring_unmap(), or on failure.
 */
int ion_ring_map_split(struct ion_ring_map *m, const int fds[ION_PARTS],
		       uint32_t perm, const struct ion_ring_params *expect,
		       char *why, size_t whylen);

/**
 * Give part @p part (ION_PART_CONS or ION_PART_PROD) of split ring @p m,
 * mapped whole and writable here, a new file: a copy of the part, mapped
 * at the same address.  A process still mapping the old file (one that was
 * given it, and whatever it forked) then writes and reads pages nobody
 * else uses.  Control path, while nobody holds that part's end; the other
 * end may run (it only reads this part).
 * @return 0, or a negative errno (the old file stays).
 */
int ion_ring_renew_part(struct ion_ring_map *m, enum ion_part part);

#ifdef __cplusplus
}
#endif

#endif /* ION_BACKING_H */
