/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The VFS protocol: a server on a temporary tree, a client on the same two
 * rings in process memory.  Files, directories and their index, symlinks
 * in and out of the root, every refusal and its counter, handles (unknown,
 * stale, table full), malformed requests, and back-pressure of a nearly
 * full response ring (requests wait, none is lost).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <membrane_vfs.h>

#include "../ion/cunit_main.h"

#define BIG_SIZE (3u * 1024 * 1024 + 123)
#define PER	 (ION_VFS_SLOT_SIZE - 32u) /* data bytes of a rsp slot */

static char base[64];  /* the temporary tree */
static char root[128]; /* base/root: what the server serves */
static uint8_t *big;   /* the content of root/big.bin */
static const char small[] = "hello, world\n";
static const char sub_index[] = "<h1>sub</h1>\n";
static const char root_index[] = "<h1>root</h1>\n";

/* ------------------------------------------------------------------ */
/* The tree                                                            */
/* ------------------------------------------------------------------ */

/* xorshift32: reproducible content that a misplaced chunk cannot match */
static void
fill_random(uint8_t *p, size_t n, uint32_t seed)
{
	uint32_t x = seed;
	size_t i;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
}

static int
put(const char *rel, const void *data, size_t n)
{
	char path[512];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s", base, rel);
	f = fopen(path, "w");
	if (f == NULL)
		return -1;
	ok = fwrite(data, 1, n, f) == n;
	return fclose(f) == 0 && ok ? 0 : -1;
}

static int
mk(const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", base, rel);
	return mkdir(path, 0755);
}

static int
ln(const char *target, const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", base, rel);
	return symlink(target, path);
}

static int
tree_create(void)
{
	char abs_small[256], abs_out[256], fifo[256];
	int rc = 0;

	snprintf(base, sizeof(base), "/tmp/mb-vfs.XXXXXX");
	if (mkdtemp(base) == NULL)
		return -1;
	snprintf(root, sizeof(root), "%s/root", base);
	snprintf(abs_small, sizeof(abs_small), "%s/small.txt", root);
	snprintf(abs_out, sizeof(abs_out), "%s/outside", base);
	snprintf(fifo, sizeof(fifo), "%s/fifo", root);
	big = malloc(BIG_SIZE);
	if (big == NULL)
		return -1;
	fill_random(big, BIG_SIZE, 0x2545f491u);
	rc |= mk("root");
	rc |= mk("root/sub");
	rc |= mk("root/empty");
	rc |= mk("outside");
	rc |= put("outside/secret.txt", "secret\n", 7);
	rc |= put("root/small.txt", small, strlen(small));
	rc |= put("root/index.html", root_index, strlen(root_index));
	rc |= put("root/sub/index.html", sub_index, strlen(sub_index));
	rc |= put("root/big.bin", big, BIG_SIZE);
	rc |= ln("small.txt", "root/link-in");	    /* inside: allowed */
	rc |= ln("../small.txt", "root/sub/up");    /* inside: allowed */
	rc |= ln("sub", "root/link-dir");	    /* inside: allowed */
	rc |= ln("/etc/passwd", "root/passwd");	    /* outside */
	rc |= ln("../outside", "root/outdir");	    /* outside, relative */
	rc |= ln(abs_out, "root/outabs");	    /* outside, absolute */
	rc |= ln(abs_small, "root/abs-small");	    /* absolute, even inside */
	rc |= ln("../../outside", "root/sub/deep"); /* outside, from below */
	rc |= mkfifo(fifo, 0644);
	return rc == 0 ? 0 : -1;
}

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

static void
tree_remove(void)
{
	if (base[0] != '\0')
		nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(big);
}

/* ------------------------------------------------------------------ */
/* Rings, server, client                                               */
/* ------------------------------------------------------------------ */

struct fx {
	struct ion_ring *rq, *rs;
	struct ion_prod qp; /* client -> server */
	struct ion_cons qc;
	struct ion_prod sp; /* server -> client */
	struct ion_cons sc;
	struct membrane_vfs v;
	uint32_t id;
};

static struct ion_ring *
ring_new(uint32_t channel, uint32_t capacity, uint32_t slot_size)
{
	struct ion_ring_params p = {
		.channel = channel,
		.capacity = capacity,
		.slot_size = slot_size,
		.name = "vfs-test",
	};
	size_t len = ion_ring_memsize(capacity, slot_size);
	void *mem = aligned_alloc(ION_RING_ALIGN, len);

	CU_ASSERT_FATAL(mem != NULL);
	CU_ASSERT_FATAL(ion_ring_init(mem, len, &p) == 0);
	return mem;
}

/* Rings of the default sizing, except @p rsp_slots response slots. */
static void
fx_open(struct fx *x, uint32_t rsp_slots)
{
	memset(x, 0, sizeof(*x));
	x->rq = ring_new(ION_CH_VFS_REQ, ION_VFS_SLOTS, ION_VFS_SLOT_SIZE);
	x->rs = ring_new(ION_CH_VFS_RSP, rsp_slots, ION_VFS_SLOT_SIZE);
	CU_ASSERT_FATAL(ion_prod_open(&x->qp, x->rq) == 0);
	CU_ASSERT_FATAL(ion_cons_open(&x->qc, x->rq) == 0);
	CU_ASSERT_FATAL(ion_prod_open(&x->sp, x->rs) == 0);
	CU_ASSERT_FATAL(ion_cons_open(&x->sc, x->rs) == 0);
	CU_ASSERT_FATAL(membrane_vfs_init(&x->v, root) == 0);
	x->id = 100;
}

static void
fx_close(struct fx *x)
{
	membrane_vfs_fini(&x->v);
	ion_prod_close(&x->qp);
	ion_cons_close(&x->qc);
	ion_prod_close(&x->sp);
	ion_cons_close(&x->sc);
	free(x->rq);
	free(x->rs);
}

static struct membrane_vfs_stats
stats(const struct fx *x)
{
	struct membrane_vfs_stats st;

	membrane_vfs_get_stats(&x->v, &st);
	return st;
}

static uint32_t
req_used(const struct fx *x)
{
	struct ion_ring_stats st;

	ion_ring_stats(x->rq, &st);
	return st.used;
}

static uint32_t
rsp_used(const struct fx *x)
{
	struct ion_ring_stats st;

	ion_ring_stats(x->rs, &st);
	return st.used;
}

/* A request slot written byte for byte, for the malformed cases. */
static void
send_raw(struct fx *x, uint32_t tag, const void *buf, uint32_t len)
{
	CU_ASSERT_FATAL(ion_prod_reserve(&x->qp, 1) == 1);
	memcpy(ion_prod_data(&x->qp, 0), buf, len);
	ion_prod_slot(&x->qp, 0)->len = len;
	ion_prod_slot(&x->qp, 0)->tag = tag;
	ion_prod_commit(&x->qp, 1);
}

/*
 * Take one whole response off the ring (stepping the server as needed):
 * its first slot's header goes to @p hdr, its data to @p out (up to
 * @p cap bytes).  Checks id, op, offsets and that exactly one slot says
 * last.  @return data bytes, or -1 if there is no response.
 */
static long
recv_rsp(struct fx *x, uint32_t id, uint32_t op, struct membrane_vfs_rsp *hdr,
	 uint8_t *out, size_t cap, uint32_t *slots)
{
	size_t got = 0;
	uint32_t n = 0, tries = 0;

	for (;;) {
		const struct membrane_vfs_rsp *r;

		if (ion_cons_peek(&x->sc, 1) == 0) {
			if (++tries > 8)
				return -1;
			CU_ASSERT(membrane_vfs_step(&x->v, &x->qc, &x->sp,
						    16) >= 0);
			continue;
		}
		r = membrane_vfs_rsp_at(&x->sc, 0);
		CU_ASSERT_FATAL(r != NULL);
		CU_ASSERT(r->id == id);
		CU_ASSERT(r->op == op);
		if (n == 0)
			*hdr = *r;
		else
			CU_ASSERT(r->status == 0 && r->size == hdr->size + got);
		CU_ASSERT_FATAL(got + r->len <= cap);
		memcpy(out + got, r->data, r->len);
		got += r->len;
		n++;
		if (r->last) {
			ion_cons_release(&x->sc, 1);
			break;
		}
		CU_ASSERT(r->len == PER); /* only the last slot is partial */
		ion_cons_release(&x->sc, 1);
	}
	if (slots != NULL)
		*slots = n;
	return (long)got;
}

/* OPEN, answered: the status; *h and *fs on success (an OPEN's answer
 * carries a struct membrane_vfs_stat, an error's nothing). */
static int
vopen_stat(struct fx *x, const char *path, uint32_t *h,
	   struct membrane_vfs_stat *fs)
{
	struct membrane_vfs_stat got;
	struct membrane_vfs_rsp r;
	uint32_t id = x->id++;
	long n;

	CU_ASSERT_FATAL(membrane_vfs_send_open(&x->qp, id, path) == 0);
	n = recv_rsp(x, id, MEMBRANE_VFS_OPEN, &r, (uint8_t *)&got, sizeof(got),
		     NULL);
	CU_ASSERT_FATAL(n >= 0);
	if (h != NULL)
		*h = r.handle;
	if (r.status == 0) {
		CU_ASSERT(r.handle != 0);
		CU_ASSERT_FATAL(n == (long)sizeof(got));
		CU_ASSERT(got.size == r.size);
		if (fs != NULL)
			*fs = got;
	} else {
		CU_ASSERT(n == 0);
	}
	return r.status;
}

/* OPEN, answered: the status; *h and *size on success. */
static int
vopen(struct fx *x, const char *path, uint32_t *h, uint64_t *size)
{
	struct membrane_vfs_stat fs = {0};
	int rc = vopen_stat(x, path, h, &fs);

	if (size != NULL)
		*size = fs.size;
	return rc;
}

/* READ, answered: bytes read into @p out, or the negative status. */
static long
vread(struct fx *x, uint32_t h, uint64_t off, uint32_t len, uint8_t *out,
      uint32_t *slots)
{
	struct membrane_vfs_rsp r;
	uint32_t id = x->id++;
	long got;

	CU_ASSERT_FATAL(membrane_vfs_send_read(&x->qp, id, h, off, len) == 0);
	got = recv_rsp(x, id, MEMBRANE_VFS_READ, &r, out, len, slots);
	CU_ASSERT_FATAL(got >= 0);
	CU_ASSERT(r.size == off);
	CU_ASSERT(r.handle == h);
	return r.status < 0 ? r.status : got;
}

static void
vclose(struct fx *x, uint32_t h)
{
	CU_ASSERT_FATAL(membrane_vfs_send_close(&x->qp, h) == 0);
	CU_ASSERT(membrane_vfs_step(&x->v, &x->qc, &x->sp, 16) == 1);
	CU_ASSERT(rsp_used(x) == 0); /* CLOSE has no answer */
}

/* The whole content behind @p path, compared with @p want. */
static void
check_content(struct fx *x, const char *path, const char *want)
{
	uint8_t buf[256];
	uint64_t size;
	uint32_t h;

	CU_ASSERT_FATAL(vopen(x, path, &h, &size) == 0);
	CU_ASSERT(size == strlen(want));
	CU_ASSERT(vread(x, h, 0, sizeof(buf), buf, NULL) == (long)strlen(want));
	CU_ASSERT(memcmp(buf, want, strlen(want)) == 0);
	vclose(x, h);
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */
/* ------------------------------------------------------------------ */

static void
test_small_file(void)
{
	struct membrane_vfs_stats st;
	uint8_t buf[8192];
	uint32_t h, slots;
	uint64_t size;
	struct fx x;

	fx_open(&x, ION_VFS_SLOTS);
	CU_ASSERT(vopen(&x, "small.txt", &h, &size) == 0);
	CU_ASSERT(size == strlen(small));
	CU_ASSERT(vread(&x, h, 0, sizeof(buf), buf, &slots) ==
		  (long)strlen(small));
	CU_ASSERT(slots == 1);
	CU_ASSERT(memcmp(buf, small, strlen(small)) == 0);
	/* from the middle, and a len shorter than the file */
	CU_ASSERT(vread(&x, h, 7, 3, buf, NULL) == 3);
	CU_ASSERT(memcmp(buf, "wor", 3) == 0);
	/* at and past EOF: one slot, len 0, last */
	CU_ASSERT(vread(&x, h, strlen(small), 100, buf, &slots) == 0);
	CU_ASSERT(slots == 1);
	CU_ASSERT(vread(&x, h, 1u << 30, 100, buf, &slots) == 0);
	CU_ASSERT(vread(&x, h, UINT64_MAX, 100, buf, &slots) == 0);
	CU_ASSERT(vread(&x, h, 0, 0, buf, &slots) == 0);
	CU_ASSERT(slots == 1);
	vclose(&x, h);
	st = stats(&x);
	CU_ASSERT(st.opens == 1);
	CU_ASSERT(st.reads == 6);
	CU_ASSERT(st.bytes == strlen(small) + 3);
	CU_ASSERT(st.closes == 1);
	CU_ASSERT(st.requests == 8);
	CU_ASSERT(st.open_files == 0);
	CU_ASSERT(st.refused + st.bad_requests + st.errors + st.bad_handle ==
		  0);
	fx_close(&x);
}

/* The big file through chunk sizes that do and do not match the slots. */
static void
test_big_file(void)
{
	static const uint32_t chunks[] = {MEMBRANE_VFS_READ_MAX, PER, PER + 1,
					  10000, 1};
	uint8_t *buf = malloc(BIG_SIZE);
	uint32_t h, i, slots;
	uint64_t size, off;
	struct fx x;

	CU_ASSERT_FATAL(buf != NULL);
	fx_open(&x, ION_VFS_SLOTS);
	CU_ASSERT_FATAL(vopen(&x, "big.bin", &h, &size) == 0);
	CU_ASSERT(size == BIG_SIZE);
	for (i = 0; i < N_TESTS(chunks); i++) {
		uint32_t c = chunks[i];
		/* 1-byte reads over the whole file would take a while */
		uint64_t end = c == 1 ? 5000 : BIG_SIZE;

		memset(buf, 0, BIG_SIZE);
		for (off = 0; off < end;) {
			long got = vread(&x, h, off, c, buf + off, &slots);

			CU_ASSERT_FATAL(got > 0);
			CU_ASSERT(got == (long)(BIG_SIZE - off < c
							? BIG_SIZE - off
							: c));
			CU_ASSERT(slots == (got + PER - 1) / PER);
			off += (uint64_t)got;
		}
		CU_ASSERT(memcmp(buf, big, end) == 0);
	}
	/* a READ of the most: 17 slots of 4064 bytes */
	CU_ASSERT(vread(&x, h, 12345, MEMBRANE_VFS_READ_MAX, buf, &slots) ==
		  MEMBRANE_VFS_READ_MAX);
	CU_ASSERT(slots == (MEMBRANE_VFS_READ_MAX + PER - 1) / PER);
	CU_ASSERT(memcmp(buf, big + 12345, MEMBRANE_VFS_READ_MAX) == 0);
	vclose(&x, h);
	CU_ASSERT(stats(&x).bytes >= 2 * (uint64_t)BIG_SIZE);
	fx_close(&x);
	free(buf);
}

static void
test_directories(void)
{
	struct fx x;

	fx_open(&x, ION_VFS_SLOTS);
	check_content(&x, "sub", sub_index);
	check_content(&x, "sub/", sub_index);
	check_content(&x, "sub//", sub_index);
	check_content(&x, "./sub", sub_index);
	check_content(&x, ".", root_index);
	check_content(&x, "./", root_index);
	CU_ASSERT(vopen(&x, "empty", NULL, NULL) == -EISDIR);
	CU_ASSERT(vopen(&x, "empty/", NULL, NULL) == -EISDIR);
	CU_ASSERT(stats(&x).denied == 2);
	CU_ASSERT(stats(&x).open_files == 0);
	fx_close(&x);
}

/* An OPEN's answer says what the file is: size, mtime to the
 * nanosecond, and whether a directory's index was opened. */
static void
test_open_stat(void)
{
	static const struct {
		const char *path, *file;
		uint32_t flags;
	} t[] = {
		{"small.txt", "small.txt", 0},
		{"big.bin", "big.bin", 0},
		{"link-in", "small.txt", 0},
		{"sub", "sub/index.html", MEMBRANE_VFS_DIR_INDEX},
		{"sub/", "sub/index.html", MEMBRANE_VFS_DIR_INDEX},
		{".", "index.html", MEMBRANE_VFS_DIR_INDEX},
		{"sub/index.html", "sub/index.html", 0},
	};
	struct membrane_vfs_stat fs;
	struct stat st;
	char path[512];
	unsigned int i;
	struct fx x;
	uint32_t h;

	fx_open(&x, ION_VFS_SLOTS);
	for (i = 0; i < N_TESTS(t); i++) {
		snprintf(path, sizeof(path), "%s/%s", root, t[i].file);
		CU_ASSERT_FATAL(stat(path, &st) == 0);
		memset(&fs, 0xa5, sizeof(fs));
		CU_ASSERT_FATAL(vopen_stat(&x, t[i].path, &h, &fs) == 0);
		CU_ASSERT(fs.size == (uint64_t)st.st_size);
		CU_ASSERT(fs.mtime == (int64_t)st.st_mtim.tv_sec);
		CU_ASSERT(fs.mtime_nsec == (uint32_t)st.st_mtim.tv_nsec);
		CU_ASSERT(fs.flags == t[i].flags);
		vclose(&x, h);
	}
	fx_close(&x);
}

static void
test_symlinks_inside(void)
{
	struct fx x;

	fx_open(&x, ION_VFS_SLOTS);
	check_content(&x, "link-in", small);
	check_content(&x, "sub/up", small);
	check_content(&x, "link-dir", sub_index);
	check_content(&x, "link-dir/up", small);
	CU_ASSERT(stats(&x).refused == 0);
	fx_close(&x);
}

/* A file kept open after its CLOSE answers the next OPEN of its path only
 * while the path names that file, unchanged. */
static void
test_kept_files(void)
{
	char path[512], tmp[512];
	uint64_t hits;
	struct fx x;
	int i;

	fx_open(&x, ION_VFS_SLOTS);
	CU_ASSERT(put("root/kept.txt", "one\n", 4) == 0);
	check_content(&x, "kept.txt", "one\n");
	CU_ASSERT(stats(&x).cache_hits == 0);
	/* the same path again: served by the file kept open */
	check_content(&x, "kept.txt", "one\n");
	check_content(&x, "kept.txt", "one\n");
	CU_ASSERT(stats(&x).cache_hits == 2);
	/* replaced by a rename: another inode, opened anew */
	snprintf(path, sizeof(path), "%s/kept.txt", root);
	snprintf(tmp, sizeof(tmp), "%s/kept.new", root);
	CU_ASSERT(put("root/kept.new", "two!\n", 5) == 0);
	CU_ASSERT(rename(tmp, path) == 0);
	hits = stats(&x).cache_hits;
	check_content(&x, "kept.txt", "two!\n");
	CU_ASSERT(stats(&x).cache_hits == hits);
	/* written in place (the same inode, its size and times move) */
	CU_ASSERT(put("root/kept.txt", "three\n", 6) == 0);
	check_content(&x, "kept.txt", "three\n");
	CU_ASSERT(stats(&x).cache_hits == hits);
	/* made unreadable: the next OPEN goes the safe way and is refused */
	check_content(&x, "kept.txt", "three\n");
	CU_ASSERT(stats(&x).cache_hits == hits + 1);
	if (geteuid() != 0) {
		CU_ASSERT(chmod(path, 0) == 0);
		CU_ASSERT(vopen(&x, "kept.txt", NULL, NULL) == -EACCES);
		CU_ASSERT(chmod(path, 0644) == 0);
	}
	/* the path becomes a link out of the root: refused, not the kept
	 * file and not the one outside */
	check_content(&x, "kept.txt", "three\n");
	CU_ASSERT(unlink(path) == 0);
	CU_ASSERT(ln("../outside/secret.txt", "root/kept.txt") == 0);
	hits = stats(&x).cache_hits;
	CU_ASSERT(vopen(&x, "kept.txt", NULL, NULL) == -EACCES);
	CU_ASSERT(stats(&x).cache_hits == hits);
	CU_ASSERT(unlink(path) == 0);
	/* a directory's index is not kept under the directory's path */
	check_content(&x, "sub", sub_index);
	check_content(&x, "sub", sub_index);
	CU_ASSERT(stats(&x).cache_hits == hits);
	/* more paths than are kept: the oldest goes, nothing leaks */
	for (i = 0; i < 40; i++)
		check_content(&x, i % 2 ? "small.txt" : "index.html",
			      i % 2 ? small : root_index);
	CU_ASSERT(stats(&x).open_files == 0);
	fx_close(&x);
}

static void
test_escapes(void)
{
	static const char *const bad[] = {
		"passwd",	       /* symlink to /etc/passwd */
		"outdir",	       /* relative symlink out */
		"outdir/secret.txt",   /* through it */
		"outabs/secret.txt",   /* absolute symlink out */
		"abs-small",	       /* absolute symlink, even pointing in */
		"sub/deep/secret.txt", /* relative, from below */
		"..",		       /* the parent */
		"../outside/secret.txt",
		"a/../../x",
		"sub/../small.txt", /* ".." is refused even when it stays in */
		"sub/..",
		"/etc/passwd",
		"/",
		"//etc/passwd",
	};
	struct membrane_vfs_stats st;
	unsigned int i;
	struct fx x;

	fx_open(&x, ION_VFS_SLOTS);
	for (i = 0; i < N_TESTS(bad); i++) {
		int rc = vopen(&x, bad[i], NULL, NULL);

		if (rc != -EACCES)
			fprintf(stderr, "\n  %s: %d\n", bad[i], rc);
		CU_ASSERT(rc == -EACCES);
	}
	st = stats(&x);
	CU_ASSERT(st.refused == N_TESTS(bad));
	CU_ASSERT(st.opens == 0);
	CU_ASSERT(st.open_files == 0);
	/* names that only look like "..": fine, and absent */
	CU_ASSERT(vopen(&x, "...", NULL, NULL) == -ENOENT);
	CU_ASSERT(vopen(&x, "..a", NULL, NULL) == -ENOENT);
	CU_ASSERT(vopen(&x, "a..", NULL, NULL) == -ENOENT);
	CU_ASSERT(stats(&x).refused == N_TESTS(bad));
	fx_close(&x);
}

static void
test_not_found_and_fifo(void)
{
	struct membrane_vfs_stats st;
	struct fx x;

	fx_open(&x, ION_VFS_SLOTS);
	CU_ASSERT(vopen(&x, "nope.html", NULL, NULL) == -ENOENT);
	CU_ASSERT(vopen(&x, "sub/nope/deeper", NULL, NULL) == -ENOENT);
	CU_ASSERT(vopen(&x, "small.txt/x", NULL, NULL) == -ENOENT);
	/* a FIFO: refused without waiting for a writer */
	CU_ASSERT(vopen(&x, "fifo", NULL, NULL) == -EACCES);
	st = stats(&x);
	CU_ASSERT(st.not_found == 3);
	CU_ASSERT(st.denied == 1);
	CU_ASSERT(st.refused == 0);
	CU_ASSERT(st.open_files == 0);
	fx_close(&x);
}

/* Paths only a hand-made slot can carry. */
static void
test_bad_paths(void)
{
	struct {
		struct membrane_vfs_req q;
		char path[1200];
	} m;
	struct membrane_vfs_rsp r;
	char longp[MEMBRANE_VFS_PATH_MAX + 1];
	uint8_t data[sizeof(struct membrane_vfs_stat)];
	struct fx x;
	uint32_t hl = sizeof(struct membrane_vfs_req);

	fx_open(&x, ION_VFS_SLOTS);
	memset(&m, 0, sizeof(m));
	m.q.op = MEMBRANE_VFS_OPEN;
	/* empty */
	m.q.id = 1;
	send_raw(&x, MEMBRANE_VFS_OPEN, &m, hl + 1);
	/* no path at all */
	m.q.id = 2;
	send_raw(&x, MEMBRANE_VFS_OPEN, &m, hl);
	/* a NUL inside: "small.txt\0x\0" */
	m.q.id = 3;
	memcpy(m.path, "small.txt\0x", 12);
	send_raw(&x, MEMBRANE_VFS_OPEN, &m, hl + 12);
	/* not NUL-terminated */
	m.q.id = 4;
	send_raw(&x, MEMBRANE_VFS_OPEN, &m, hl + 9);
	/* 1100 bytes */
	m.q.id = 5;
	memset(m.path, 'a', 1099);
	m.path[1099] = '\0';
	send_raw(&x, MEMBRANE_VFS_OPEN, &m, hl + 1100);
	/* a terminated, valid path: proof the slots above were the fault */
	m.q.id = 6;
	memcpy(m.path, "small.txt", 10);
	send_raw(&x, MEMBRANE_VFS_OPEN, &m, hl + 10);
	CU_ASSERT(membrane_vfs_step(&x.v, &x.qc, &x.sp, 16) == 6);
	for (uint32_t id = 1; id <= 5; id++) {
		CU_ASSERT(recv_rsp(&x, id, MEMBRANE_VFS_OPEN, &r, data,
				   sizeof(data), NULL) == 0);
		CU_ASSERT(r.status == -EINVAL);
		CU_ASSERT(r.handle == 0);
	}
	CU_ASSERT(recv_rsp(&x, 6, MEMBRANE_VFS_OPEN, &r, data, sizeof(data),
			   NULL) == (long)sizeof(data));
	CU_ASSERT(r.status == 0);
	CU_ASSERT(stats(&x).bad_requests == 5);
	CU_ASSERT(stats(&x).opens == 1);
	/* the client refuses a path that cannot be sent */
	memset(longp, 'b', sizeof(longp));
	longp[MEMBRANE_VFS_PATH_MAX] = '\0';
	CU_ASSERT(membrane_vfs_send_open(&x.qp, 7, longp) == -ENAMETOOLONG);
	longp[MEMBRANE_VFS_PATH_MAX - 1] = '\0';
	CU_ASSERT(membrane_vfs_send_open(&x.qp, 7, longp) == 0);
	CU_ASSERT(recv_rsp(&x, 7, MEMBRANE_VFS_OPEN, &r, data, sizeof(data),
			   NULL) == 0);
	CU_ASSERT(r.status == -ENOENT || r.status == -ENAMETOOLONG);
	CU_ASSERT(membrane_vfs_send_open(&x.qp, 8, NULL) == -EINVAL);
	CU_ASSERT(req_used(&x) == 0);
	fx_close(&x);
}

static void
test_malformed(void)
{
	struct membrane_vfs_req q;
	struct membrane_vfs_rsp r;
	uint8_t data[sizeof(struct membrane_vfs_stat)];
	struct fx x;

	fx_open(&x, ION_VFS_SLOTS);
	memset(&q, 0, sizeof(q));
	/* an unknown op, id echoed */
	q.op = 9;
	q.id = 41;
	send_raw(&x, 9, &q, sizeof(q));
	/* the tag says READ, the op OPEN */
	q.op = MEMBRANE_VFS_OPEN;
	q.id = 42;
	send_raw(&x, MEMBRANE_VFS_READ, &q, sizeof(q));
	/* too short to hold a request */
	q.op = MEMBRANE_VFS_READ;
	q.id = 43;
	send_raw(&x, MEMBRANE_VFS_READ, &q, 10);
	/* READ of more than the maximum */
	q.id = 44;
	q.len = MEMBRANE_VFS_READ_MAX + 1;
	send_raw(&x, MEMBRANE_VFS_READ, &q, sizeof(q));
	/* a short CLOSE: counted, never answered */
	q.op = MEMBRANE_VFS_CLOSE;
	send_raw(&x, MEMBRANE_VFS_CLOSE, &q, 4);
	/* a slot whose descriptor claims more than a slot */
	q.op = MEMBRANE_VFS_READ;
	q.id = 45;
	send_raw(&x, MEMBRANE_VFS_READ, &q, sizeof(q));
	/* corrupt the last descriptor in place, as a hostile client could */
	{
		struct ion_slot *d = (struct ion_slot *)((uint8_t *)x.rq +
							 x.rq->hdr.desc_offset);
		d[5].len = ION_VFS_SLOT_SIZE + 1;
	}
	CU_ASSERT(membrane_vfs_step(&x.v, &x.qc, &x.sp, 16) == 6);
	CU_ASSERT(rsp_used(&x) == 5);
	for (uint32_t id = 41; id <= 45; id++) {
		CU_ASSERT(recv_rsp(&x, id,
				   id == 41   ? 9
				   : id == 42 ? MEMBRANE_VFS_OPEN
					      : MEMBRANE_VFS_READ,
				   &r, data, sizeof(data), NULL) == 0);
		CU_ASSERT(r.status == -EINVAL);
	}
	CU_ASSERT(stats(&x).bad_requests == 6);
	CU_ASSERT(rsp_used(&x) == 0);
	/* the client refuses too big a READ */
	CU_ASSERT(membrane_vfs_send_read(&x.qp, 1, 1, 0,
					 MEMBRANE_VFS_READ_MAX + 1) == -EINVAL);
	CU_ASSERT(req_used(&x) == 0);
	fx_close(&x);
}

static void
test_handles(void)
{
	struct membrane_vfs_stats st;
	uint32_t h, h2, i;
	uint8_t buf[64];
	struct fx x;

	fx_open(&x, ION_VFS_SLOTS);
	/* never issued */
	CU_ASSERT(vread(&x, 0, 0, 10, buf, NULL) == -EBADF);
	CU_ASSERT(vread(&x, 12345, 0, 10, buf, NULL) == -EBADF);
	CU_ASSERT(vread(&x, UINT32_MAX, 0, 10, buf, NULL) == -EBADF);
	/* stale: closed, then its table entry reused by another file */
	CU_ASSERT_FATAL(vopen(&x, "big.bin", &h, NULL) == 0);
	vclose(&x, h);
	CU_ASSERT(vread(&x, h, 0, 10, buf, NULL) == -EBADF);
	for (i = 0; i <= MEMBRANE_VFS_MAX_FILES; i++) {
		CU_ASSERT_FATAL(vopen(&x, "small.txt", &h2, NULL) == 0);
		if ((h2 & 0xff) == (h & 0xff))
			break;
		vclose(&x, h2);
	}
	CU_ASSERT_FATAL((h2 & 0xff) == (h & 0xff));
	CU_ASSERT(h2 != h);
	CU_ASSERT(vread(&x, h, 0, 10, buf, NULL) == -EBADF);
	CU_ASSERT(vread(&x, h2, 0, 10, buf, NULL) == 10);
	/* CLOSE of unknown and stale handles: ignored, counted, no answer */
	vclose(&x, h);
	vclose(&x, 777);
	CU_ASSERT(vread(&x, h2, 0, 5, buf, NULL) == 5);
	vclose(&x, h2);
	vclose(&x, h2);
	st = stats(&x);
	CU_ASSERT(st.bad_handle == 5 + 3);
	CU_ASSERT(st.open_files == 0);
	CU_ASSERT(st.closes == st.opens);
	fx_close(&x);
}

static void
test_emfile(void)
{
	uint32_t h[MEMBRANE_VFS_MAX_FILES], extra, i;
	struct membrane_vfs_stats st;
	uint8_t buf[32];
	struct fx x;

	fx_open(&x, ION_VFS_SLOTS);
	for (i = 0; i < MEMBRANE_VFS_MAX_FILES; i++)
		CU_ASSERT_FATAL(vopen(&x, "small.txt", &h[i], NULL) == 0);
	CU_ASSERT(vopen(&x, "small.txt", NULL, NULL) == -EMFILE);
	CU_ASSERT(vopen(&x, "sub", NULL, NULL) == -EMFILE);
	st = stats(&x);
	CU_ASSERT(st.emfile == 2);
	CU_ASSERT(st.open_files == MEMBRANE_VFS_MAX_FILES);
	/* all distinct, all usable */
	for (i = 1; i < MEMBRANE_VFS_MAX_FILES; i++)
		CU_ASSERT(h[i] != h[i - 1]);
	CU_ASSERT(vread(&x, h[200], 0, 5, buf, NULL) == 5);
	vclose(&x, h[17]);
	CU_ASSERT(vopen(&x, "small.txt", &extra, NULL) == 0);
	CU_ASSERT(extra != h[17]);
	CU_ASSERT(vread(&x, h[17], 0, 5, buf, NULL) == -EBADF);
	CU_ASSERT(vopen(&x, "small.txt", NULL, NULL) == -EMFILE);
	/* fini closes them all */
	fx_close(&x);
	CU_ASSERT(x.v.open == 0);
	for (i = 0; i < MEMBRANE_VFS_MAX_FILES; i++)
		CU_ASSERT(x.v.files[i].fd == -1);
}

/* Queue @p n READs of @p len at offset 0 of @p h, ids from @p id. */
static void
queue_reads(struct fx *x, uint32_t h, uint32_t n, uint32_t len, uint32_t id)
{
	for (uint32_t i = 0; i < n; i++)
		CU_ASSERT_FATAL(membrane_vfs_send_read(&x->qp, id + i, h,
						       (uint64_t)i * len,
						       len) == 0);
}

/* Check and release one READ response taking @p slots slots. */
static void
take_read(struct fx *x, uint32_t id, uint32_t len, uint32_t slots)
{
	uint8_t *buf = malloc(MEMBRANE_VFS_READ_MAX);
	struct membrane_vfs_rsp r;
	uint32_t n;

	CU_ASSERT_FATAL(buf != NULL);
	CU_ASSERT(recv_rsp(x, id, MEMBRANE_VFS_READ, &r, buf,
			   MEMBRANE_VFS_READ_MAX, &n) == (long)len);
	CU_ASSERT(n == slots);
	CU_ASSERT(memcmp(buf, big + r.size, len) == 0);
	free(buf);
}

/* Check and release the first @p n slots of READ @p id's answer. */
static void
take_first_slots(struct fx *x, uint32_t id, uint32_t n)
{
	CU_ASSERT_FATAL(ion_cons_peek(&x->sc, n) == n);
	for (uint32_t i = 0; i < n; i++) {
		const struct membrane_vfs_rsp *r =
			membrane_vfs_rsp_at(&x->sc, i);

		CU_ASSERT_FATAL(r != NULL);
		CU_ASSERT(r->id == id && r->status == 0 && r->len == PER);
		CU_ASSERT(memcmp(r->data, big + r->size, r->len) == 0);
	}
	ion_cons_release(&x->sc, n);
}

static void
test_backpressure(void)
{
	const uint32_t len = 3 * PER; /* 3 slots each */
	struct membrane_vfs_stats st;
	struct membrane_vfs_rsp r;
	uint8_t data[sizeof(struct membrane_vfs_stat)];
	uint32_t h, i, used;
	struct fx x;

	/* a response ring of 4 slots */
	fx_open(&x, 4);
	CU_ASSERT_FATAL(vopen(&x, "big.bin", &h, NULL) == 0);
	queue_reads(&x, h, 3, len, 500);
	/* the first fits; the second needs 3 of the 1 left: it waits */
	CU_ASSERT(membrane_vfs_step(&x.v, &x.qc, &x.sp, 16) == 1);
	CU_ASSERT(req_used(&x) == 2);
	CU_ASSERT(rsp_used(&x) == 3);
	CU_ASSERT(stats(&x).deferred == 1);
	/* nothing moves while the client does not read */
	CU_ASSERT(membrane_vfs_step(&x.v, &x.qc, &x.sp, 16) == 0);
	CU_ASSERT(req_used(&x) == 2);
	/* the client reads the first answer slot by slot: 2 free are not
	 * enough for 3, nothing is half-answered */
	take_first_slots(&x, 500, 1);
	CU_ASSERT(membrane_vfs_step(&x.v, &x.qc, &x.sp, 16) == 0);
	CU_ASSERT(rsp_used(&x) == 2);
	take_first_slots(&x, 500, 2);
	/* now 4 free: the second is answered, the third waits again */
	CU_ASSERT(membrane_vfs_step(&x.v, &x.qc, &x.sp, 16) == 1);
	CU_ASSERT(req_used(&x) == 1);
	take_read(&x, 501, len, 3);
	take_read(&x, 502, len, 3); /* recv_rsp steps the server */
	CU_ASSERT(req_used(&x) == 0);
	/* a READ larger than the ring holds is cut to 4 slots, not stuck */
	queue_reads(&x, h, 1, MEMBRANE_VFS_READ_MAX, 510);
	take_read(&x, 510, 4 * PER, 4);
	/* a full response ring still takes a CLOSE */
	queue_reads(&x, h, 2, 2 * PER, 520);
	CU_ASSERT(membrane_vfs_step(&x.v, &x.qc, &x.sp, 16) == 2);
	used = rsp_used(&x);
	CU_ASSERT(used == 4);
	CU_ASSERT(membrane_vfs_send_close(&x.qp, h) == 0);
	CU_ASSERT(membrane_vfs_step(&x.v, &x.qc, &x.sp, 16) == 1);
	CU_ASSERT(stats(&x).open_files == 0);
	/* ... but not an OPEN, which waits for one slot */
	CU_ASSERT(membrane_vfs_send_open(&x.qp, 530, "small.txt") == 0);
	CU_ASSERT(membrane_vfs_step(&x.v, &x.qc, &x.sp, 16) == 0);
	CU_ASSERT(req_used(&x) == 1);
	for (i = 0; i < 2; i++)
		take_read(&x, 520 + i, 2 * PER, 2);
	CU_ASSERT(recv_rsp(&x, 530, MEMBRANE_VFS_OPEN, &r, data, sizeof(data),
			   NULL) == (long)sizeof(data));
	CU_ASSERT(r.status == 0);
	st = stats(&x);
	CU_ASSERT(st.deferred >= 5);
	/* every request answered, none refused, none lost */
	CU_ASSERT(st.requests == 9);
	CU_ASSERT(st.requests == st.reads + st.opens + st.closes);
	CU_ASSERT(req_used(&x) == 0 && rsp_used(&x) == 0);
	fx_close(&x);
}

/* One step sends at most MEMBRANE_VFS_STEP_BYTES, and at most budget. */
static void
test_step_bounds(void)
{
	const uint32_t per_step =
		MEMBRANE_VFS_STEP_BYTES / MEMBRANE_VFS_READ_MAX;
	uint32_t h, i;
	struct fx x;

	fx_open(&x, 256); /* room for 15 reads of 64 KiB */
	CU_ASSERT_FATAL(vopen(&x, "big.bin", &h, NULL) == 0);
	queue_reads(&x, h, 10, MEMBRANE_VFS_READ_MAX, 600);
	CU_ASSERT(membrane_vfs_step(&x.v, &x.qc, &x.sp, 100) == (int)per_step);
	CU_ASSERT(membrane_vfs_step(&x.v, &x.qc, &x.sp, 2) == 2);
	CU_ASSERT(membrane_vfs_step(&x.v, &x.qc, &x.sp, 0) == 0);
	CU_ASSERT(req_used(&x) == 10 - per_step - 2);
	for (i = 0; i < 10; i++)
		take_read(&x, 600 + i, MEMBRANE_VFS_READ_MAX,
			  (MEMBRANE_VFS_READ_MAX + PER - 1) / PER);
	/* small requests are bounded by the budget only */
	queue_reads(&x, h, 40, 100, 700);
	CU_ASSERT(membrane_vfs_step(&x.v, &x.qc, &x.sp, 32) == 32);
	CU_ASSERT(membrane_vfs_step(&x.v, &x.qc, &x.sp, 32) == 8);
	for (i = 0; i < 40; i++)
		take_read(&x, 700 + i, 100, 1);
	fx_close(&x);
}

static void
test_init_and_client(void)
{
	struct membrane_vfs v;
	char file[256];
	struct ion_ring *tiny;
	struct ion_prod tp;
	struct fx x;
	unsigned int i;

	fx_open(&x, ION_VFS_SLOTS);
	CU_ASSERT(membrane_vfs_init(&v, "/nonexistent/dir") == -ENOENT);
	CU_ASSERT(membrane_vfs_step(&v, &x.qc, &x.sp, 1) == -EBADF);
	membrane_vfs_fini(&v);
	snprintf(file, sizeof(file), "%s/small.txt", root);
	CU_ASSERT(membrane_vfs_init(&v, file) == -ENOTDIR);
	membrane_vfs_fini(&v);
	CU_ASSERT(membrane_vfs_init(&v, NULL) == -EINVAL);
	membrane_vfs_fini(&v);
	membrane_vfs_fini(&v); /* twice is fine */
	CU_ASSERT(membrane_vfs_init(&v, root) == 0);
	membrane_vfs_fini(&v);
	CU_ASSERT(membrane_vfs_step(&v, &x.qc, &x.sp, 1) == -EBADF);

	/* a response ring whose slots cannot hold a header */
	tiny = ring_new(ION_CH_VFS_RSP, 4, 32);
	CU_ASSERT_FATAL(ion_prod_open(&tp, tiny) == 0);
	CU_ASSERT(membrane_vfs_step(&x.v, &x.qc, &tp, 1) == -EINVAL);
	ion_prod_close(&tp);
	free(tiny);
	/* ... or a header but not what an OPEN answers */
	tiny = ring_new(ION_CH_VFS_RSP, 4,
			32 + sizeof(struct membrane_vfs_stat) - 8);
	CU_ASSERT_FATAL(ion_prod_open(&tp, tiny) == 0);
	CU_ASSERT(membrane_vfs_step(&x.v, &x.qc, &tp, 1) == -EINVAL);
	ion_prod_close(&tp);
	free(tiny);
	/* a full request ring */
	for (i = 0; i < ION_VFS_SLOTS; i++)
		CU_ASSERT_FATAL(membrane_vfs_send_close(&x.qp, 0) == 0);
	CU_ASSERT(membrane_vfs_send_open(&x.qp, 1, "x") == -ENOBUFS);
	CU_ASSERT(membrane_vfs_send_read(&x.qp, 1, 1, 0, 1) == -ENOBUFS);
	CU_ASSERT(membrane_vfs_send_close(&x.qp, 1) == -ENOBUFS);
	CU_ASSERT(membrane_vfs_step(&x.v, &x.qc, &x.sp, 1000) ==
		  (int)ION_VFS_SLOTS);
	CU_ASSERT(stats(&x).bad_handle == ION_VFS_SLOTS);
	/* a response slot that lies about its length */
	CU_ASSERT_FATAL(ion_prod_reserve(&x.sp, 2) == 2);
	ion_prod_slot(&x.sp, 0)->len = 8;
	memset(ion_prod_data(&x.sp, 1), 0, 32);
	((struct membrane_vfs_rsp *)ion_prod_data(&x.sp, 1))->len = 100;
	ion_prod_slot(&x.sp, 1)->len = 32 + 99;
	ion_prod_commit(&x.sp, 2);
	CU_ASSERT(ion_cons_peek(&x.sc, 2) == 2);
	CU_ASSERT(membrane_vfs_rsp_at(&x.sc, 0) == NULL);
	CU_ASSERT(membrane_vfs_rsp_at(&x.sc, 1) == NULL);
	ion_cons_release(&x.sc, 2);
	CU_ASSERT(membrane_vfs_slot_data(ION_VFS_SLOT_SIZE) == PER);
	CU_ASSERT(membrane_vfs_slot_data(32) == 0);
	fx_close(&x);
}

int
main(void)
{
	static const struct test_case t[] = {
		TEST(test_small_file),	    TEST(test_kept_files),
		TEST(test_big_file),	    TEST(test_directories),
		TEST(test_open_stat),	    TEST(test_symlinks_inside),
		TEST(test_escapes),	    TEST(test_not_found_and_fifo),
		TEST(test_bad_paths),	    TEST(test_malformed),
		TEST(test_handles),	    TEST(test_emfile),
		TEST(test_backpressure),    TEST(test_step_bounds),
		TEST(test_init_and_client),
	};
	int rc;

	if (tree_create() != 0) {
		perror("test tree");
		tree_remove();
		return 1;
	}
	if (CU_initialize_registry() != CUE_SUCCESS ||
	    test_add_suite("membrane_vfs", t, N_TESTS(t)) != 0)
		return 1;
	rc = test_run_all();
	tree_remove();
	return rc;
}
