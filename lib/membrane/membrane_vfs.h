/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The VFS protocol of the membrane: a client (the HTTP server inside the
 * membrane) asks a VFS fiber for files below the fiber's root directory
 * over two ION rings, requests on ION_CH_VFS_REQ and responses on
 * ION_CH_VFS_RSP.  The byte layout, the back-pressure rule and the errno
 * of each refusal are in docs/vfs-protocol.md.
 *
 * Nothing here logs: every function returns 0, a count, or a negative
 * errno, and the server counts what it refused in struct
 * membrane_vfs_stats; the caller decides what to print.
 */
#ifndef MEMBRANE_VFS_H
#define MEMBRANE_VFS_H

#include <stdint.h>

#include <ion_ring.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Largest READ a request may ask for. */
#define MEMBRANE_VFS_READ_MAX 65536u
/** An OPEN path, with its NUL, is shorter than this. */
#define MEMBRANE_VFS_PATH_MAX 1024u
/** Files one server keeps open at once; OPEN beyond: -EMFILE. */
#define MEMBRANE_VFS_MAX_FILES 256u
/** File bytes one membrane_vfs_step() sends at most (one READ may pass). */
#define MEMBRANE_VFS_STEP_BYTES (256u * 1024u)

/** Request operation; also the tag of the request's ring slot. */
enum membrane_vfs_op {
	MEMBRANE_VFS_OPEN = 1,
	MEMBRANE_VFS_READ = 2,
	MEMBRANE_VFS_CLOSE = 3,
};

/** A request: the start of one request-ring slot (24 bytes + path). */
struct membrane_vfs_req {
	uint32_t op;	 /**< enum membrane_vfs_op, equal to the slot tag */
	uint32_t id;	 /**< chosen by the client, echoed in the response */
	uint32_t handle; /**< READ, CLOSE */
	uint32_t len;	 /**< READ: bytes wanted, <= MEMBRANE_VFS_READ_MAX */
	uint64_t offset; /**< READ: file offset */
	/**
	 * OPEN: relative to the root, percent-decoded, NUL-terminated; the
	 * NUL is the slot's last byte.
	 */
	char path[];
};

/** A response slot (32 bytes + data); a response is 1+ slots. */
struct membrane_vfs_rsp {
	uint32_t op;	 /**< the request's op */
	uint32_t id;	 /**< the request's id */
	int32_t status;	 /**< 0 or a negative errno */
	uint32_t handle; /**< OPEN: the new handle; READ: the request's */
	uint64_t size;	 /**< OPEN: file size; READ: file offset of data[] */
	uint32_t len;	 /**< bytes of data[]: READ the file's, OPEN a
			  *   struct membrane_vfs_stat (0 on error) */
	uint32_t last;	 /**< 1 on the response's last slot */
	uint8_t data[];
};

/** The data of a successful OPEN response: what the file is. */
struct membrane_vfs_stat {
	uint64_t size;	     /**< bytes, as in the response's size */
	int64_t mtime;	     /**< last modification, seconds since the epoch */
	uint32_t mtime_nsec; /**< and its nanoseconds */
	uint32_t flags;	     /**< MEMBRANE_VFS_DIR_INDEX */
};

/** The path named a directory and this is its index.html. */
#define MEMBRANE_VFS_DIR_INDEX 1u

/** What the server did and refused; every refusal lands in one counter. */
struct membrane_vfs_stats {
	uint64_t requests;   /**< requests taken off the ring */
	uint64_t opens;	     /**< OPENs that returned a handle */
	uint64_t reads;	     /**< READs answered with status 0 */
	uint64_t bytes;	     /**< file bytes sent */
	uint64_t closes;     /**< handles closed by CLOSE */
	uint64_t refused;    /**< paths that tried to leave the root */
	uint64_t not_found;  /**< OPEN: -ENOENT */
	uint64_t denied;     /**< OPEN: not a regular file, no index, EACCES */
	uint64_t emfile;     /**< OPEN: handle table (or fd limit) full */
	uint64_t bad_handle; /**< READ or CLOSE of an unknown/stale handle */
	uint64_t bad_requests; /**< malformed requests (-EINVAL) */
	uint64_t errors;       /**< I/O errors and other failures */
	uint64_t deferred;     /**< steps that stopped for lack of rsp slots */
	uint64_t cache_hits;   /**< OPENs answered with a file kept open */
	uint32_t open_files;   /**< handles open now */
};

/** Paths up to this long (with their NUL) are kept open after a CLOSE. */
#define MEMBRANE_VFS_KEEP_PATH 128u
/** Files kept open after their CLOSE, for the next OPEN of their path. */
#define MEMBRANE_VFS_KEPT 16u

/** What a file was when it was opened: it is served again only as that.
 * Private to vfs.c. */
struct membrane_vfs_ident {
	uint64_t dev, ino, size;
	int64_t mtime_sec, ctime_sec;
	uint32_t mtime_nsec, ctime_nsec;
};

/** A file closed lately, still open.  Private to vfs.c. */
struct membrane_vfs_kept {
	int fd;	       /**< -1 when the entry is free */
	uint32_t used; /**< when it was closed: the oldest goes first */
	struct membrane_vfs_ident id;
	char path[MEMBRANE_VFS_KEEP_PATH];
};

/** One open file of the server.  Private to vfs.c. */
struct membrane_vfs_file {
	int fd;	      /**< -1 when the entry is free */
	uint32_t gen; /**< bumped at each close; part of the handle */
	uint64_t size;
	struct membrane_vfs_ident id;
	/** the path it was opened by, "" if it is not to be kept */
	char path[MEMBRANE_VFS_KEEP_PATH];
};

/** A VFS server.  Fields are private to vfs.c; sized for the caller. */
struct membrane_vfs {
	int root;
	uint32_t next; /**< where the search for a free entry starts */
	uint32_t open;
	struct membrane_vfs_stats st;
	struct membrane_vfs_file files[MEMBRANE_VFS_MAX_FILES];
	uint32_t clock; /**< stamps the kept files' closes */
	struct membrane_vfs_kept kept[MEMBRANE_VFS_KEPT];
};

/* ------------------------------------------------------------------ */
/* Server                                                              */
/* ------------------------------------------------------------------ */

/**
 * Serve the directory @p root.
 * @return 0, or a negative errno from opening it (-ENOENT, -ENOTDIR, ...).
 */
int membrane_vfs_init(struct membrane_vfs *v, const char *root);
/** Close every open file and the root.  Safe to call twice. */
void membrane_vfs_fini(struct membrane_vfs *v);

/**
 * Answer up to @p budget requests from @p req on @p rsp, in order, and at
 * most MEMBRANE_VFS_STEP_BYTES of file data (a first READ always passes).
 * A request is taken only once every response slot it needs is reserved;
 * otherwise it stays in @p req for the next call.
 * @return requests handled (0 when there is nothing or no room), or
 *         -EINVAL if the response ring's slots cannot hold a header and
 *         a struct membrane_vfs_stat,
 *         -EBADF if @p v is not initialised.
 */
int membrane_vfs_step(struct membrane_vfs *v, struct ion_cons *req,
		      struct ion_prod *rsp, unsigned int budget);

/** Snapshot of the counters; safe from another thread. */
void membrane_vfs_get_stats(const struct membrane_vfs *v,
			    struct membrane_vfs_stats *st);

/**
 * File bytes one response slot carries on a ring of @p slot_size: a READ
 * of n bytes needs max(1, ceil(n / this)) slots.  0 if too small.
 */
static inline uint32_t
membrane_vfs_slot_data(uint32_t slot_size)
{
	return slot_size > sizeof(struct membrane_vfs_rsp)
		       ? slot_size - (uint32_t)sizeof(struct membrane_vfs_rsp)
		       : 0;
}

/* ------------------------------------------------------------------ */
/* Client                                                              */
/* ------------------------------------------------------------------ */

/**
 * Queue an OPEN of @p path (relative to the server's root).  Never blocks.
 * @return 0; -ENOBUFS if the request ring is full; -ENAMETOOLONG if the
 *         path has MEMBRANE_VFS_PATH_MAX bytes or more; -EMSGSIZE if the
 *         ring's slots are too small for it; -EINVAL for a NULL path.
 */
int membrane_vfs_send_open(struct ion_prod *req, uint32_t id, const char *path);
/**
 * Queue a READ of up to @p len bytes at @p offset.  The response may carry
 * fewer (end of file, or more than the response ring holds at once).
 * @return 0; -ENOBUFS if the ring is full; -EINVAL if len is too big.
 */
int membrane_vfs_send_read(struct ion_prod *req, uint32_t id, uint32_t handle,
			   uint64_t offset, uint32_t len);
/** Queue a CLOSE; it has no response.  @return 0 or -ENOBUFS. */
int membrane_vfs_send_close(struct ion_prod *req, uint32_t handle);

/**
 * Response slot @p i of the current peek of @p rsp, after checking that
 * the slot holds a header and the data its len announces; NULL if not
 * (the client then releases the slot and treats it as a protocol error).
 */
const struct membrane_vfs_rsp *membrane_vfs_rsp_at(const struct ion_cons *rsp,
						   uint32_t i);

#ifdef __cplusplus
}
#endif

#endif /* MEMBRANE_VFS_H */
