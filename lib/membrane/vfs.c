/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The VFS protocol over two ION rings: the server (a fiber that owns a
 * root directory) and the client's helpers.  See docs/vfs-protocol.md.
 *
 * The request ring is shared memory another process writes, so each
 * request is copied into private memory before it is checked: the client
 * cannot change a path between the check and the open.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "membrane_vfs.h"

#define REQ_HDR ((uint32_t)sizeof(struct membrane_vfs_req))
#define RSP_HDR ((uint32_t)sizeof(struct membrane_vfs_rsp))

/* handle = generation << 8 | table index; a generation is never 0, so
 * neither is a handle */
#define IDX_BITS 8u
#define IDX_MASK ((1u << IDX_BITS) - 1)
#define GEN_MASK (UINT32_MAX >> IDX_BITS)

_Static_assert(MEMBRANE_VFS_MAX_FILES <= (1u << IDX_BITS),
	       "the handle's index field is 8 bits");
_Static_assert(sizeof(struct membrane_vfs_req) == 24, "wire layout");
_Static_assert(sizeof(struct membrane_vfs_rsp) == 32, "wire layout");
_Static_assert(sizeof(struct membrane_vfs_stat) == 24, "wire layout");

/* struct membrane_vfs_req without its flexible path, to be embedded. */
struct req_head {
	uint32_t op, id, handle, len;
	uint64_t offset;
};
_Static_assert(sizeof(struct req_head) == sizeof(struct membrane_vfs_req) &&
		       offsetof(struct req_head, offset) ==
			       offsetof(struct membrane_vfs_req, offset),
	       "req_head mirrors membrane_vfs_req");

/* One request, decoded into private memory, with what answering it costs. */
struct job {
	struct req_head req;
	uint32_t op; /* what to do: the request's op, or 0 if malformed */
	int status;  /* READ: -EBADF for an unknown handle */
	struct membrane_vfs_file *file;
	uint32_t want;	/* READ: file bytes to send */
	uint32_t slots; /* response slots needed; 0 for CLOSE */
	char path[MEMBRANE_VFS_PATH_MAX];
};

/* Counters have one writer, the server; relaxed stores keep a reader on
 * another thread from seeing a torn value. */
static void
count(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, *c + n, __ATOMIC_RELAXED);
}

static uint64_t
load(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------------ */
/* Handles                                                             */
/* ------------------------------------------------------------------ */

static uint32_t
handle_of(const struct membrane_vfs *v, const struct membrane_vfs_file *f)
{
	return f->gen << IDX_BITS | (uint32_t)(f - v->files);
}

static struct membrane_vfs_file *
file_lookup(struct membrane_vfs *v, uint32_t handle)
{
	uint32_t idx = handle & IDX_MASK;
	struct membrane_vfs_file *f;

	if (idx >= MEMBRANE_VFS_MAX_FILES)
		return NULL;
	f = &v->files[idx];
	if (f->fd < 0 || f->gen != handle >> IDX_BITS)
		return NULL;
	return f;
}

/* Round-robin from the last allocation, so a just-closed entry (whose old
 * handle a slow client may still hold) is the last to be reused. */
static struct membrane_vfs_file *
file_alloc(struct membrane_vfs *v)
{
	uint32_t i;

	for (i = 0; i < MEMBRANE_VFS_MAX_FILES; i++) {
		uint32_t idx = (v->next + i) % MEMBRANE_VFS_MAX_FILES;

		if (v->files[idx].fd < 0) {
			v->next = idx + 1;
			return &v->files[idx];
		}
	}
	return NULL;
}

static void kept_put(struct membrane_vfs *v, const struct membrane_vfs_file *f);

/* @p keep: a file opened by its own path is kept open for the next OPEN
 * of that path (kept_put()); otherwise, and at the end, it is closed. */
static void
file_close(struct membrane_vfs *v, struct membrane_vfs_file *f, bool keep)
{
	if (keep && f->path[0] != '\0')
		kept_put(v, f);
	else
		close(f->fd);
	f->fd = -1;
	f->path[0] = '\0';
	/* the old handle must never name this entry again (until the 24-bit
	 * generation wraps) */
	f->gen = (f->gen + 1) & GEN_MASK;
	if (f->gen == 0)
		f->gen = 1;
	v->open--;
	__atomic_store_n(&v->st.open_files, v->open, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------------ */
/* Files kept open after their CLOSE                                   */
/* ------------------------------------------------------------------ */

/*
 * An HTTP server opens the same few files over and over.  A CLOSE keeps
 * the file open (MEMBRANE_VFS_KEPT of them, the one closed longest ago
 * goes first), and an OPEN of the same path takes it back if the path
 * still names that very file as it was: the same device and inode, size,
 * mtime and ctime (a write, a chmod, a rename over it each change one).
 * The check is one stat of the path below the root, where the open it
 * saves is an openat2(), an fstat() and a close().  The stat follows
 * links wherever they lead, but what it finds is served only when it is
 * the inode the safe open (RESOLVE_BENEATH) found before; anything else
 * is opened the safe way again.
 */

static void
ident_of(const struct stat *st, struct membrane_vfs_ident *id)
{
	id->dev = (uint64_t)st->st_dev;
	id->ino = (uint64_t)st->st_ino;
	id->size = (uint64_t)st->st_size;
	id->mtime_sec = (int64_t)st->st_mtim.tv_sec;
	id->mtime_nsec = (uint32_t)st->st_mtim.tv_nsec;
	id->ctime_sec = (int64_t)st->st_ctim.tv_sec;
	id->ctime_nsec = (uint32_t)st->st_ctim.tv_nsec;
}

static bool
ident_eq(const struct membrane_vfs_ident *a, const struct membrane_vfs_ident *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime_sec == b->mtime_sec && a->mtime_nsec == b->mtime_nsec &&
	       a->ctime_sec == b->ctime_sec && a->ctime_nsec == b->ctime_nsec;
}

static void
kept_put(struct membrane_vfs *v, const struct membrane_vfs_file *f)
{
	struct membrane_vfs_kept *e = &v->kept[0];
	uint32_t i;

	for (i = 0; i < MEMBRANE_VFS_KEPT && e->fd >= 0; i++)
		if (v->kept[i].fd < 0 ||
		    v->clock - v->kept[i].used > v->clock - e->used)
			e = &v->kept[i];
	if (e->fd >= 0)
		close(e->fd);
	e->fd = f->fd;
	e->used = ++v->clock;
	e->id = f->id;
	memcpy(e->path, f->path, sizeof(e->path));
}

/* The kept fd of @p path if it still names the same file (*@p st then
 * what it is), or -1. */
static int
kept_take(struct membrane_vfs *v, const char *path, struct stat *st)
{
	struct membrane_vfs_ident now;
	uint32_t i;
	int fd;

	for (i = 0; i < MEMBRANE_VFS_KEPT; i++)
		if (v->kept[i].fd >= 0 && strcmp(v->kept[i].path, path) == 0)
			break;
	if (i == MEMBRANE_VFS_KEPT)
		return -1;
	fd = v->kept[i].fd;
	v->kept[i].fd = -1;
	if (fstatat(v->root, path, st, 0) == 0 && S_ISREG(st->st_mode)) {
		ident_of(st, &now);
		if (ident_eq(&now, &v->kept[i].id)) {
			count(&v->st.cache_hits, 1);
			return fd;
		}
	}
	close(fd);
	return -1;
}

/* ------------------------------------------------------------------ */
/* Opening below the root                                              */
/* ------------------------------------------------------------------ */

/* A component ".." anywhere; the kernel would stop it too (RESOLVE_BENEATH),
 * but refusing it here names the attempt and costs no syscall. */
static bool
has_dotdot(const char *p)
{
	while (*p != '\0') {
		const char *end = strchrnul(p, '/');

		if (end - p == 2 && p[0] == '.' && p[1] == '.')
			return true;
		p = *end == '/' ? end + 1 : end;
	}
	return false;
}

/* openat2() below @p dir: no "..", absolute or magic link may leave it.
 * O_NONBLOCK so that opening a FIFO cannot stall the fiber; it changes
 * nothing for the regular files that are actually read. */
static int
open_beneath(int dir, const char *path)
{
	struct open_how how = {
		.flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	int tries = 0;
	long fd;

	do {
		fd = syscall(SYS_openat2, dir, path, &how, sizeof(how));
		/* EAGAIN: a rename raced with the lookup; the kernel asks to
		 * retry */
	} while (fd < 0 && (errno == EINTR || errno == EAGAIN) && ++tries < 4);
	return fd < 0 ? -errno : (int)fd;
}

/* Map an openat2() failure to the protocol's errno, counting it. */
static int
open_failed(struct membrane_vfs *v, int err)
{
	switch (err) {
	case -EXDEV: /* resolution would leave the root */
	case -ELOOP: /* magic link, or a loop: refused either way */
		count(&v->st.refused, 1);
		return -EACCES;
	case -ENOENT:
	case -ENOTDIR:
	case -ENAMETOOLONG: /* a component over NAME_MAX: no such file */
		count(&v->st.not_found, 1);
		return -ENOENT;
	case -EACCES:
	case -EPERM:
		count(&v->st.denied, 1);
		return -EACCES;
	case -EMFILE:
	case -ENFILE:
		count(&v->st.emfile, 1);
		return -EMFILE;
	default:
		count(&v->st.errors, 1);
		return err;
	}
}

/* A directory is served by its index.html, looked up from the root so
 * that the index too may not leave it. */
static int
open_index(struct membrane_vfs *v, const char *dir, int dirfd, struct stat *st)
{
	char path[MEMBRANE_VFS_PATH_MAX + sizeof("/index.html")];
	size_t n = strlen(dir);
	int fd;

	close(dirfd);
	while (n > 0 && dir[n - 1] == '/')
		n--;
	snprintf(path, sizeof(path), "%.*s%sindex.html", (int)n, dir,
		 n > 0 ? "/" : "");
	fd = open_beneath(v->root, path);
	if (fd == -ENOENT) {
		count(&v->st.denied, 1);
		return -EISDIR;
	}
	if (fd < 0)
		return open_failed(v, fd);
	if (fstat(fd, st) < 0) {
		close(fd);
		count(&v->st.errors, 1);
		return -EIO;
	}
	return fd;
}

/* The fd of the regular file @p path names, or a negative errno; what
 * the file is in *@p out and *@p id. */
static int
open_file(struct membrane_vfs *v, const char *path,
	  struct membrane_vfs_stat *out, struct membrane_vfs_ident *id)
{
	struct stat st;
	int fd = -1;

	if (path[0] == '/' || has_dotdot(path)) {
		count(&v->st.refused, 1);
		return -EACCES;
	}
	if (strlen(path) < MEMBRANE_VFS_KEEP_PATH)
		fd = kept_take(v, path, &st);
	if (fd < 0) {
		fd = open_beneath(v->root, path);
		if (fd < 0)
			return open_failed(v, fd);
		if (fstat(fd, &st) < 0) {
			close(fd);
			count(&v->st.errors, 1);
			return -EIO;
		}
	}
	out->flags = 0;
	if (S_ISDIR(st.st_mode)) {
		fd = open_index(v, path, fd, &st);
		if (fd < 0)
			return fd;
		out->flags = MEMBRANE_VFS_DIR_INDEX;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		count(&v->st.denied, 1);
		return -EACCES;
	}
	out->size = (uint64_t)st.st_size;
	out->mtime = (int64_t)st.st_mtim.tv_sec;
	out->mtime_nsec = (uint32_t)st.st_mtim.tv_nsec;
	ident_of(&st, id);
	return fd;
}

/* ------------------------------------------------------------------ */
/* Server                                                              */
/* ------------------------------------------------------------------ */

int
membrane_vfs_init(struct membrane_vfs *v, const char *root)
{
	uint32_t i;

	memset(v, 0, sizeof(*v));
	v->root = -1;
	for (i = 0; i < MEMBRANE_VFS_MAX_FILES; i++) {
		v->files[i].fd = -1;
		v->files[i].gen = 1;
	}
	for (i = 0; i < MEMBRANE_VFS_KEPT; i++)
		v->kept[i].fd = -1;
	if (root == NULL)
		return -EINVAL;
	v->root = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return v->root < 0 ? -errno : 0;
}

void
membrane_vfs_fini(struct membrane_vfs *v)
{
	uint32_t i;

	for (i = 0; i < MEMBRANE_VFS_MAX_FILES; i++)
		if (v->files[i].fd >= 0)
			file_close(v, &v->files[i], false);
	for (i = 0; i < MEMBRANE_VFS_KEPT; i++)
		if (v->kept[i].fd >= 0)
			close(v->kept[i].fd);
	for (i = 0; i < MEMBRANE_VFS_KEPT; i++)
		v->kept[i].fd = -1;
	if (v->root >= 0)
		close(v->root);
	v->root = -1;
}

void
membrane_vfs_get_stats(const struct membrane_vfs *v,
		       struct membrane_vfs_stats *st)
{
	const struct membrane_vfs_stats *s = &v->st;

	st->requests = load(&s->requests);
	st->opens = load(&s->opens);
	st->reads = load(&s->reads);
	st->bytes = load(&s->bytes);
	st->closes = load(&s->closes);
	st->refused = load(&s->refused);
	st->not_found = load(&s->not_found);
	st->denied = load(&s->denied);
	st->emfile = load(&s->emfile);
	st->bad_handle = load(&s->bad_handle);
	st->bad_requests = load(&s->bad_requests);
	st->errors = load(&s->errors);
	st->deferred = load(&s->deferred);
	st->cache_hits = load(&s->cache_hits);
	st->open_files = __atomic_load_n(&s->open_files, __ATOMIC_RELAXED);
}

/* The path of an OPEN: exactly the rest of the slot, its last byte the
 * only NUL.  A NUL earlier would let "a.html\0.png" mean two things. */
static bool
decode_path(struct job *j, const uint8_t *data, uint32_t len)
{
	uint32_t n = len - REQ_HDR;

	if (n < 2 || n > MEMBRANE_VFS_PATH_MAX)
		return false; /* empty, or too long */
	memcpy(j->path, data + REQ_HDR, n);
	return j->path[n - 1] == '\0' && strlen(j->path) == n - 1;
}

/* READ cost: the bytes the file still has from the offset, clamped so the
 * whole answer fits the response ring at once. */
static void
decode_read(struct membrane_vfs *v, struct job *j, const struct ion_prod *rsp,
	    uint32_t per)
{
	uint64_t want = j->req.len;
	uint64_t fit = (uint64_t)per * rsp->capacity;

	j->file = file_lookup(v, j->req.handle);
	j->slots = 1;
	if (j->file == NULL) {
		j->status = -EBADF;
		return;
	}
	if (j->req.offset >= j->file->size)
		want = 0;
	else if (want > j->file->size - j->req.offset)
		want = j->file->size - j->req.offset;
	if (want > fit)
		want = fit;
	j->want = (uint32_t)want;
	if (want > per)
		j->slots = (uint32_t)((want + per - 1) / per);
}

/* Copy the request at the head of @p req and work out its cost. */
static void
decode(struct membrane_vfs *v, const struct ion_cons *req,
       const struct ion_prod *rsp, uint32_t per, struct job *j)
{
	const struct ion_slot *s = ion_cons_slot(req, 0);
	const uint8_t *data = ion_cons_data(req, 0);
	uint32_t len = s->len, tag = s->tag;
	bool corrupt = len > ion_ring_slot_size(req->ring);
	bool ok;

	memset(j, 0, offsetof(struct job, path));
	j->path[0] = '\0';
	/* a descriptor claiming more than a slot: refused, but its header is
	 * still read (within the slot) so the answer carries its id */
	if (corrupt)
		len = ion_ring_slot_size(req->ring);
	memcpy(&j->req, data, len < REQ_HDR ? len : REQ_HDR);
	ok = !corrupt && len >= REQ_HDR && tag == j->req.op;
	switch (ok ? j->req.op : 0) {
	case MEMBRANE_VFS_OPEN:
		ok = decode_path(j, data, len);
		j->slots = 1;
		break;
	case MEMBRANE_VFS_READ:
		ok = j->req.len <= MEMBRANE_VFS_READ_MAX;
		if (ok)
			decode_read(v, j, rsp, per);
		break;
	case MEMBRANE_VFS_CLOSE:
		break; /* no answer, no slot */
	default:
		ok = false;
	}
	j->op = ok ? j->req.op : 0;
	/* a malformed request is answered -EINVAL, except one that says
	 * CLOSE: a CLOSE never needs a response slot */
	if (!ok)
		j->slots = tag == MEMBRANE_VFS_CLOSE ||
					   j->req.op == MEMBRANE_VFS_CLOSE
				   ? 0
				   : 1;
}

/* Fill the header of reserved response slot @p i. */
static struct membrane_vfs_rsp *
rsp_fill(struct ion_prod *rsp, uint32_t i, const struct job *j, int status,
	 uint32_t len, uint32_t last)
{
	struct membrane_vfs_rsp *r = (void *)ion_prod_data(rsp, i);
	struct ion_slot *s = ion_prod_slot(rsp, i);

	r->op = j->req.op;
	r->id = j->req.id;
	r->status = status;
	r->handle = j->req.handle;
	r->size = 0;
	r->len = len;
	r->last = last;
	s->len = RSP_HDR + len;
	s->tag = j->req.op;
	return r;
}

/* An OPEN's answer carries what the file is (size, mtime, whether it is
 * a directory's index), so the client can answer conditional requests
 * and redirect a directory without asking again. */
static void
serve_open(struct membrane_vfs *v, struct ion_prod *rsp, const struct job *j)
{
	struct membrane_vfs_stat fs = {0};
	struct membrane_vfs_file *f = NULL;
	struct membrane_vfs_rsp *r;
	int fd = -EMFILE;

	struct membrane_vfs_ident id;

	if (v->open < MEMBRANE_VFS_MAX_FILES) {
		fd = open_file(v, j->path, &fs, &id);
	} else {
		count(&v->st.emfile, 1);
	}
	if (fd >= 0) {
		f = file_alloc(v);
		f->fd = fd;
		f->size = fs.size;
		f->id = id;
		/* a directory's index is not kept: its path is not the
		 * file's */
		if (!(fs.flags & MEMBRANE_VFS_DIR_INDEX) &&
		    strlen(j->path) < sizeof(f->path))
			memcpy(f->path, j->path, strlen(j->path) + 1);
		v->open++;
		__atomic_store_n(&v->st.open_files, v->open, __ATOMIC_RELAXED);
		count(&v->st.opens, 1);
	}
	r = rsp_fill(rsp, 0, j, fd < 0 ? fd : 0,
		     fd < 0 ? 0 : (uint32_t)sizeof(fs), 1);
	r->handle = f != NULL ? handle_of(v, f) : 0;
	r->size = fs.size;
	if (fd >= 0)
		memcpy(r->data, &fs, sizeof(fs));
	ion_prod_commit(rsp, 1);
}

/* pread() until @p n bytes or end of file. */
static ssize_t
pread_full(int fd, uint8_t *buf, size_t n, uint64_t off)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = pread(fd, buf + got, n - got, (off_t)(off + got));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* The data goes straight from pread() into the reserved slots; nothing is
 * published until the commit, so a failure half-way rewrites slot 0 into
 * the error response. */
static void
serve_read(struct membrane_vfs *v, struct ion_prod *rsp, const struct job *j,
	   uint32_t per)
{
	struct membrane_vfs_rsp *r;
	uint32_t i = 0, done = 0;

	if (j->status < 0) {
		count(&v->st.bad_handle, 1);
		rsp_fill(rsp, 0, j, j->status, 0, 1);
		ion_prod_commit(rsp, 1);
		return;
	}
	do {
		uint32_t chunk = j->want - done < per ? j->want - done : per;
		uint8_t *buf = ion_prod_data(rsp, i) + RSP_HDR;
		ssize_t got = pread_full(j->file->fd, buf, chunk,
					 j->req.offset + done);

		if (got < 0) {
			count(&v->st.errors, 1);
			rsp_fill(rsp, 0, j, (int)got, 0, 1);
			ion_prod_commit(rsp, 1);
			return;
		}
		/* short: the file shrank since OPEN; end the answer here */
		r = rsp_fill(rsp, i, j, 0, (uint32_t)got,
			     (uint32_t)got < chunk || i + 1 == j->slots);
		r->size = j->req.offset + done;
		done += (uint32_t)got;
		i++;
	} while (!r->last);
	ion_prod_commit(rsp, i);
	count(&v->st.reads, 1);
	count(&v->st.bytes, done);
}

static void
serve_close(struct membrane_vfs *v, const struct job *j)
{
	struct membrane_vfs_file *f = file_lookup(v, j->req.handle);

	if (f == NULL) {
		count(&v->st.bad_handle, 1);
		return;
	}
	file_close(v, f, true);
	count(&v->st.closes, 1);
}

static void
serve_bad(struct membrane_vfs *v, struct ion_prod *rsp, const struct job *j)
{
	count(&v->st.bad_requests, 1);
	if (j->slots == 0)
		return;
	rsp_fill(rsp, 0, j, -EINVAL, 0, 1);
	ion_prod_commit(rsp, 1);
}

int
membrane_vfs_step(struct membrane_vfs *v, struct ion_cons *req,
		  struct ion_prod *rsp, unsigned int budget)
{
	uint64_t bytes = 0;
	unsigned int n = 0;
	struct job j;
	uint32_t per;

	if (v->root < 0)
		return -EBADF;
	per = membrane_vfs_slot_data(ion_ring_slot_size(rsp->ring));
	if (per < sizeof(struct membrane_vfs_stat))
		return -EINVAL;
	while (n < budget && ion_cons_peek(req, 1) == 1) {
		decode(v, req, rsp, per, &j);
		if (bytes > 0 && bytes + j.want > MEMBRANE_VFS_STEP_BYTES)
			break;
		/* every slot of the answer before touching the request: a
		 * request is answered whole or left for later, never lost */
		if (j.slots > 0 && ion_prod_reserve(rsp, j.slots) < j.slots) {
			count(&v->st.deferred, 1);
			break;
		}
		switch (j.op) {
		case MEMBRANE_VFS_OPEN:
			serve_open(v, rsp, &j);
			break;
		case MEMBRANE_VFS_READ:
			serve_read(v, rsp, &j, per);
			break;
		case MEMBRANE_VFS_CLOSE:
			serve_close(v, &j);
			break;
		default:
			serve_bad(v, rsp, &j);
		}
		ion_cons_release(req, 1);
		count(&v->st.requests, 1);
		bytes += j.want;
		n++;
	}
	return (int)n;
}

/* ------------------------------------------------------------------ */
/* Client                                                              */
/* ------------------------------------------------------------------ */

/* Reserve one request slot and fill its fixed part. */
static struct membrane_vfs_req *
req_start(struct ion_prod *req, uint32_t op, uint32_t id, uint32_t handle)
{
	struct membrane_vfs_req *q;
	struct ion_slot *s;

	if (ion_prod_reserve(req, 1) != 1)
		return NULL;
	q = (void *)ion_prod_data(req, 0);
	s = ion_prod_slot(req, 0);
	memset(q, 0, REQ_HDR);
	q->op = op;
	q->id = id;
	q->handle = handle;
	s->len = REQ_HDR;
	s->tag = op;
	return q;
}

int
membrane_vfs_send_open(struct ion_prod *req, uint32_t id, const char *path)
{
	struct membrane_vfs_req *q;
	size_t n;

	if (path == NULL)
		return -EINVAL;
	n = strnlen(path, MEMBRANE_VFS_PATH_MAX);
	if (n >= MEMBRANE_VFS_PATH_MAX)
		return -ENAMETOOLONG;
	if (REQ_HDR + n + 1 > ion_ring_slot_size(req->ring))
		return -EMSGSIZE;
	q = req_start(req, MEMBRANE_VFS_OPEN, id, 0);
	if (q == NULL)
		return -ENOBUFS;
	memcpy(q->path, path, n + 1);
	ion_prod_slot(req, 0)->len = REQ_HDR + (uint32_t)n + 1;
	ion_prod_commit(req, 1);
	return 0;
}

int
membrane_vfs_send_read(struct ion_prod *req, uint32_t id, uint32_t handle,
		       uint64_t offset, uint32_t len)
{
	struct membrane_vfs_req *q;

	if (len > MEMBRANE_VFS_READ_MAX)
		return -EINVAL;
	q = req_start(req, MEMBRANE_VFS_READ, id, handle);
	if (q == NULL)
		return -ENOBUFS;
	q->len = len;
	q->offset = offset;
	ion_prod_commit(req, 1);
	return 0;
}

int
membrane_vfs_send_close(struct ion_prod *req, uint32_t handle)
{
	if (req_start(req, MEMBRANE_VFS_CLOSE, 0, handle) == NULL)
		return -ENOBUFS;
	ion_prod_commit(req, 1);
	return 0;
}

const struct membrane_vfs_rsp *
membrane_vfs_rsp_at(const struct ion_cons *rsp, uint32_t i)
{
	const struct membrane_vfs_rsp *r = (const void *)ion_cons_data(rsp, i);
	uint32_t len = ion_cons_slot(rsp, i)->len;

	if (len < RSP_HDR || len > ion_ring_slot_size(rsp->ring) ||
	    r->len != len - RSP_HDR)
		return NULL;
	return r;
}
