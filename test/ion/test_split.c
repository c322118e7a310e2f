/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A ring split by owner into files (ion_ring_create_split): what another
 * process given one end may and may not do with the pages, the
 * descriptors published with the tail, taking an end back from a process
 * that died, and renewing a part.  Each case that must fault runs in a
 * forked child and checks how the child ended.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ion_ring.h>

#include "cunit_main.h"

static const struct ion_ring_params params = {
	.channel = 0x0602,
	.capacity = 64,
	.slot_size = 256,
	.name = "split",
};

/* The fds of a grant @perm on @m, as a host would send them. */
static void
grant_fds(const struct ion_ring_map *m, uint32_t perm, int fds[ION_PARTS])
{
	fds[ION_PART_HDR] = ion_ring_part_fd(m, ION_PART_HDR, 0);
	fds[ION_PART_CONS] =
		ion_ring_part_fd(m, ION_PART_CONS, (perm & ION_PERM_READ) != 0);
	fds[ION_PART_PROD] = ion_ring_part_fd(m, ION_PART_PROD,
					      (perm & ION_PERM_WRITE) != 0);
}

/* Run @fn(@m, @arg) in a child; its wait status. */
static int
in_child(int (*fn)(struct ion_ring_map *, long), struct ion_ring_map *m,
	 long arg)
{
	int status = -1;
	pid_t pid = fork();

	if (pid == 0) {
		/* the kernel's verdict, not a sanitizer's report of it */
		signal(SIGSEGV, SIG_DFL);
		_exit(fn(m, arg));
	}
	CU_ASSERT_FATAL(pid > 0);
	CU_ASSERT(waitpid(pid, &status, 0) == pid);
	return status;
}

static int
exited(int status, int code)
{
	return WIFEXITED(status) && WEXITSTATUS(status) == code;
}

static int
segv(int status)
{
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV;
}

/* ---- what a grant maps ---------------------------------------------- */

/* Child: map grant @perm, then write where it points (or check). */
enum poke {
	POKE_NOTHING,	   /* map, check, use the own end: exit 0 */
	POKE_PROD_PART,	   /* write the producer's tail */
	POKE_PROD_DATA,	   /* write a slot's data */
	POKE_CONS_PART,	   /* write the consumer's head */
	POKE_HEADER,	   /* write the header */
	POKE_MPROTECT,	   /* make the read-only part writable: EACCES */
	POKE_MAP_WRITABLE, /* map the read-only file writable: EACCES */
};

static int
poke(struct ion_ring_map *m, long arg)
{
	uint32_t perm = (uint32_t)(arg >> 8);
	enum poke what = (enum poke)(arg & 0xff);
	struct ion_ring_map g;
	int fds[ION_PARTS];
	char why[160];
	void *p;

	grant_fds(m, perm, fds);
	if (ion_ring_map_split(&g, fds, perm, &params, why, sizeof(why)) != 0)
		return 10;
	switch (what) {
	case POKE_NOTHING:
		if (perm == ION_PERM_READ) {
			struct ion_cons c;

			if (ion_cons_open(&c, g.ring) != 0 ||
			    ion_cons_peek(&c, 1) != 1 ||
			    ion_cons_len(&c, 0) != 5 ||
			    memcmp(ion_cons_data(&c, 0), "hello", 5) != 0)
				return 11;
			ion_cons_release(&c, 1);
			ion_cons_close(&c);
		} else {
			struct ion_prod p;

			if (ion_prod_open(&p, g.ring) != 0 ||
			    ion_enqueue(&p, "world", 5) != 0)
				return 12;
			ion_prod_close(&p);
		}
		return 0;
	case POKE_PROD_PART:
		__atomic_store_n(&ion_ring_prod_part(g.ring)->pub.word, 0,
				 __ATOMIC_RELAXED);
		return 0;
	case POKE_PROD_DATA:
		*((volatile uint8_t *)g.ring + g.ring->hdr.slots_offset) = 1;
		return 0;
	case POKE_CONS_PART:
		__atomic_store_n(&ion_ring_cons_part(g.ring)->head.idx, 7,
				 __ATOMIC_RELAXED);
		return 0;
	case POKE_HEADER:
		((volatile struct ion_ring_hdr *)&g.ring->hdr)->capacity = 2;
		return 0;
	case POKE_MPROTECT: {
		void *part = perm == ION_PERM_READ
				     ? (void *)ion_ring_prod_part(g.ring)
				     : (void *)ion_ring_cons_part(g.ring);

		if (mprotect(part, ION_RING_PAGE, PROT_READ | PROT_WRITE) == 0)
			return 13;
		if (errno != EACCES)
			return 14;
		/* the header too, whatever the grant */
		if (mprotect(g.ring, ION_RING_PAGE, PROT_READ | PROT_WRITE) ==
			    0 ||
		    errno != EACCES)
			return 15;
		return 0;
	}
	case POKE_MAP_WRITABLE: {
		int ro = perm == ION_PERM_READ ? ION_PART_PROD : ION_PART_CONS;

		p = mmap(NULL, ION_RING_PAGE, PROT_READ | PROT_WRITE,
			 MAP_SHARED, g.part_fd[ro], 0);
		if (p != MAP_FAILED)
			return 16;
		return errno == EACCES ? 0 : 17;
	}
	}
	return 20;
}

static void
test_split_layout(void)
{
	struct ion_ring_map m;
	struct ion_prod p;
	int seals;

	CU_ASSERT_FATAL(ion_ring_create_split(&m, "split", &params, 0) == 0);
	CU_ASSERT(m.fd == -1 && m.perm == ION_PERM_RW);
	CU_ASSERT(((uintptr_t)m.ring & (ION_RING_PAGE - 1)) == 0);
	CU_ASSERT(m.len == ion_ring_memsize(64, 256));
	CU_ASSERT(ion_ring_check(m.ring, m.len, &params, NULL, 0) == 0);
	/* every file is sealed against resizing, the header against writes */
	seals = fcntl(m.part_fd[ION_PART_HDR], F_GET_SEALS);
	CU_ASSERT((seals & (F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW |
			    F_SEAL_SEAL)) ==
		  (F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL));
	seals = fcntl(m.part_fd[ION_PART_PROD], F_GET_SEALS);
	CU_ASSERT((seals & (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)) ==
		  (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL));
	CU_ASSERT((seals & F_SEAL_WRITE) == 0);
	CU_ASSERT(ftruncate(m.part_fd[ION_PART_CONS], 0) < 0 && errno == EPERM);
	/* nobody, the creator included, writes the header any more */
	CU_ASSERT(mprotect(m.ring, ION_RING_PAGE, PROT_READ | PROT_WRITE) < 0);
	/* the creator uses its ring like any other */
	CU_ASSERT_FATAL(ion_prod_open(&p, m.ring) == 0);
	CU_ASSERT(ion_enqueue(&p, "hello", 5) == 0);
	ion_prod_close(&p);
	ion_ring_unmap(&m);
}

static void
test_grant_read(void)
{
	struct ion_ring_map m;
	struct ion_prod p;
	long r = (long)ION_PERM_READ << 8;

	CU_ASSERT_FATAL(ion_ring_create_split(&m, "split", &params, 0) == 0);
	CU_ASSERT_FATAL(ion_prod_open(&p, m.ring) == 0);
	CU_ASSERT(ion_enqueue(&p, "hello", 5) == 0);
	/* its own end works, in its own process */
	CU_ASSERT(exited(in_child(poke, &m, r | POKE_NOTHING), 0));
	/* writing the producer's part or the header faults in hardware */
	CU_ASSERT(segv(in_child(poke, &m, r | POKE_PROD_PART)));
	CU_ASSERT(segv(in_child(poke, &m, r | POKE_PROD_DATA)));
	CU_ASSERT(segv(in_child(poke, &m, r | POKE_HEADER)));
	/* and cannot be made possible: the files are read-only */
	CU_ASSERT(exited(in_child(poke, &m, r | POKE_MPROTECT), 0));
	CU_ASSERT(exited(in_child(poke, &m, r | POKE_MAP_WRITABLE), 0));
	/* what the faulting children tried left the ring as it was */
	CU_ASSERT((uint32_t)p.own->pub.word == 1);
	CU_ASSERT(m.ring->hdr.capacity == 64);
	CU_ASSERT(ion_ring_cons_part(m.ring)->head.idx == 1);
	ion_prod_close(&p);
	ion_ring_unmap(&m);
}

static void
test_grant_write(void)
{
	struct ion_ring_map m;
	struct ion_cons c;
	long w = (long)ION_PERM_WRITE << 8;

	CU_ASSERT_FATAL(ion_ring_create_split(&m, "split", &params, 0) == 0);
	CU_ASSERT(exited(in_child(poke, &m, w | POKE_NOTHING), 0));
	CU_ASSERT_FATAL(ion_cons_open(&c, m.ring) == 0);
	CU_ASSERT(ion_cons_peek(&c, 1) == 1);
	CU_ASSERT(memcmp(ion_cons_data(&c, 0), "world", 5) == 0);
	ion_cons_release(&c, 1);
	CU_ASSERT(segv(in_child(poke, &m, w | POKE_CONS_PART)));
	CU_ASSERT(segv(in_child(poke, &m, w | POKE_HEADER)));
	CU_ASSERT(exited(in_child(poke, &m, w | POKE_MPROTECT), 0));
	CU_ASSERT(exited(in_child(poke, &m, w | POKE_MAP_WRITABLE), 0));
	CU_ASSERT(c.own->head.idx == 1);
	ion_cons_close(&c);
	ion_ring_unmap(&m);
}

/* Child, as uid 65534: reopen the read-only producer file writable. */
static int
reopen_other_user(struct ion_ring_map *m, long arg)
{
	char path[64];
	int ro = ion_ring_part_fd(m, ION_PART_PROD, 0);

	(void)arg;
	if (ro < 0 || setgid(65534) != 0 || setuid(65534) != 0)
		return 30;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", ro);
	if (open(path, O_RDWR) >= 0)
		return 31; /* write access through /proc: a hole */
	if (errno != EACCES)
		return 32;
	/* what it was given still maps, read-only */
	return mmap(NULL, ION_RING_PAGE, PROT_READ, MAP_SHARED, ro, 0) !=
			       MAP_FAILED
		       ? 0
		       : 33;
}

static void
test_reopen_refused(void)
{
	struct ion_ring_map m;

	if (geteuid() != 0) {
		fprintf(stderr, "(not root: another user cannot be tried) ");
		return;
	}
	CU_ASSERT_FATAL(ion_ring_create_split(&m, "split", &params, 0) == 0);
	{
		int st = in_child(reopen_other_user, &m, 0);

		CU_ASSERT(exited(st, 0));
		if (!exited(st, 0))
			fprintf(stderr, "(child: status 0x%x) ", st);
	}
	ion_ring_unmap(&m);
}

/* ---- the descriptors published with the tail ------------------------ */

/* Commit @n slots with lengths base + i and tags tag0 + i. */
static void
commit_n(struct ion_prod *p, uint32_t n, uint32_t base, uint32_t tag0)
{
	uint32_t i;

	CU_ASSERT_FATAL(ion_prod_reserve(p, n) == n);
	for (i = 0; i < n; i++) {
		ion_prod_slot(p, i)->len = base + i;
		ion_prod_slot(p, i)->tag = tag0 + i;
	}
	ion_prod_commit(p, n);
}

/* Peek @n, expecting them read from @view with those lengths and tags. */
static void
peek_n(struct ion_cons *c, uint32_t n, const struct ion_slot *view,
       uint32_t base, uint32_t tag0)
{
	uint32_t i;

	CU_ASSERT_FATAL(ion_cons_peek(c, 64) == n);
	CU_ASSERT(c->view == view);
	for (i = 0; i < n; i++) {
		CU_ASSERT(ion_cons_len(c, i) == base + i);
		CU_ASSERT(ion_cons_slot(c, i)->tag == tag0 + i);
	}
	ion_cons_release(c, n);
}

static void
published_window(uint32_t start)
{
	struct ion_ring_params pa = params;
	struct ion_ring_map m;
	struct ion_prod p;
	struct ion_cons c;
	uint32_t i, n;
	uint64_t w;

	pa.start_index = start;
	CU_ASSERT_FATAL(ion_ring_create_split(&m, "split", &pa, 0) == 0);
	CU_ASSERT_FATAL(ion_prod_open(&p, m.ring) == 0);
	CU_ASSERT_FATAL(ion_cons_open(&c, m.ring) == 0);
	/* commits of up to ION_PUB_DESCS, a consumer that keeps up: copies;
	 * the window grows to ION_PUB_DESCS and stays there */
	for (n = 1; n <= ION_PUB_DESCS; n++) {
		commit_n(&p, n, 10 + n, 100 * n);
		CU_ASSERT((uint32_t)(p.own->pub.word >> 32) ==
			  (n * (n + 1) / 2 < ION_PUB_DESCS ? n * (n + 1) / 2
							   : ION_PUB_DESCS));
		peek_n(&c, n, c.pub, 10 + n, 100 * n);
	}
	/* a consumer some commits behind, within the window: copies */
	commit_n(&p, ION_PUB_DESCS / 2, 40, 400);
	commit_n(&p, 1, 40 + ION_PUB_DESCS / 2, 400 + ION_PUB_DESCS / 2);
	commit_n(&p, 1, 41 + ION_PUB_DESCS / 2, 401 + ION_PUB_DESCS / 2);
	peek_n(&c, ION_PUB_DESCS / 2 + 2, c.pub, 40, 400);
	/* more than the window behind: the descriptor array */
	for (i = 0; i < ION_PUB_DESCS + 2; i++)
		commit_n(&p, 1, 50 + i, 500 + i);
	peek_n(&c, ION_PUB_DESCS + 2, c.desc, 50, 500);
	/* a commit larger than the window publishes none */
	commit_n(&p, ION_PUB_DESCS + 1, 70, 700);
	CU_ASSERT((uint32_t)(p.own->pub.word >> 32) == 0);
	peek_n(&c, ION_PUB_DESCS + 1, c.desc, 70, 700);
	/* and the next small one starts the window again */
	commit_n(&p, 2, 90, 900);
	CU_ASSERT((uint32_t)(p.own->pub.word >> 32) == 2);
	peek_n(&c, 2, c.pub, 90, 900);
	/* a length beyond the slot, as a foreign producer may write, is
	 * bounded in the copies and by ion_cons_len() */
	CU_ASSERT(ion_prod_reserve(&p, 1) == 1);
	ion_prod_slot(&p, 0)->len = 1u << 30;
	ion_prod_commit(&p, 1);
	CU_ASSERT(ion_cons_peek(&c, 1) == 1);
	CU_ASSERT(ion_cons_slot(&c, 0)->len == params.slot_size);
	CU_ASSERT(ion_cons_len(&c, 0) == params.slot_size);
	ion_cons_release(&c, 1);
	/* an entry the producer overwrote after the word the consumer saw
	 * (its slot's place taken by a slot ION_PUB_DESCS later) is not
	 * copied: its stamp names the other slot */
	commit_n(&p, 1, 3, 33);
	w = __atomic_load_n(&p.own->pub.word, __ATOMIC_RELAXED);
	CU_ASSERT(c.head == (uint32_t)w - 1);
	for (i = 0; i < ION_PUB_DESCS; i++)
		commit_n(&p, 1, 200 + i, 2000 + i);
	c.pub_first = c.pub_tail = c.head;
	ion_cons_copy_pub(&c, (uint32_t)w);
	CU_ASSERT(c.pub_first == c.head && c.pub_tail == c.head);
	CU_ASSERT_FATAL(ion_cons_peek(&c, 64) == 1 + ION_PUB_DESCS);
	CU_ASSERT(c.view == c.desc);
	CU_ASSERT(ion_cons_len(&c, 0) == 3 && ion_cons_slot(&c, 0)->tag == 33);
	for (i = 0; i < ION_PUB_DESCS; i++)
		CU_ASSERT(ion_cons_len(&c, 1 + i) == 200 + i &&
			  ion_cons_slot(&c, 1 + i)->tag == 2000 + i);
	ion_cons_release(&c, 1 + ION_PUB_DESCS);
	ion_cons_close(&c);
	ion_prod_close(&p);
	ion_ring_unmap(&m);
}

static void
test_published_descriptors(void)
{
	published_window(0);
	/* across the wrap of the 32-bit indices: the window and the stamps
	 * are powers of two, so slot 2^32 - 1 and slot 0 are neighbours */
	published_window(UINT32_MAX - 20);
}

/* A ring whose producer could run ION_PUB_MAX_CAPACITY slots ahead
 * publishes no entry: a stamp could then name two slots. */
static void
test_published_none_large(void)
{
	struct ion_ring_params pa = params;
	struct ion_ring_map m;
	struct ion_prod p;
	struct ion_cons c;

	pa.capacity = 2 * ION_PUB_MAX_CAPACITY;
	pa.slot_size = 64;
	CU_ASSERT_FATAL(ion_ring_create_split(&m, "split", &pa, 0) == 0);
	CU_ASSERT_FATAL(ion_prod_open(&p, m.ring) == 0);
	CU_ASSERT_FATAL(ion_cons_open(&c, m.ring) == 0);
	commit_n(&p, 1, 5, 50);
	CU_ASSERT((uint32_t)(p.own->pub.word >> 32) == 0);
	peek_n(&c, 1, c.desc, 5, 50);
	ion_cons_close(&c);
	ion_prod_close(&p);
	ion_ring_unmap(&m);
}

/* ---- taking an end back ---------------------------------------------- */

/* Child: consume @arg messages, then die holding the next 3 peeked. */
static int
consume_then_die(struct ion_ring_map *m, long arg)
{
	struct ion_ring_map g;
	struct ion_cons c;
	int fds[ION_PARTS];
	char why[160];

	grant_fds(m, ION_PERM_READ, fds);
	if (ion_ring_map_split(&g, fds, ION_PERM_READ, &params, why,
			       sizeof(why)) != 0 ||
	    ion_cons_open(&c, g.ring) != 0)
		return 40;
	if (ion_cons_peek(&c, (uint32_t)arg) != (uint32_t)arg)
		return 41;
	ion_cons_release(&c, (uint32_t)arg);
	if (ion_cons_peek(&c, 3) != 3)
		return 42;
	raise(SIGKILL); /* in the middle of a burst */
	return 43;
}

static void
test_take_back(void)
{
	struct ion_ring_stats st;
	struct ion_ring_map m;
	struct ion_prod p;
	struct ion_cons c;
	uint32_t i;
	int status;

	CU_ASSERT_FATAL(ion_ring_create_split(&m, "split", &params, 0) == 0);
	CU_ASSERT_FATAL(ion_prod_open(&p, m.ring) == 0);
	for (i = 0; i < 10; i++)
		CU_ASSERT(ion_enqueue(&p, &i, sizeof(i)) == 0);
	status = in_child(consume_then_die, &m, 4);
	CU_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	/* its claim is there, its process is not */
	CU_ASSERT(ion_ring_cons_part(m.ring)->bell.owner != 0);
	CU_ASSERT(ion_ring_renew_part(&m, ION_PART_CONS) == 0);
	CU_ASSERT(ion_ring_take_back(m.ring, ION_END_CONS) == 3);
	CU_ASSERT(ion_ring_cons_part(m.ring)->bell.owner == 0);
	ion_ring_stats(m.ring, &st);
	CU_ASSERT(st.enqueued == 10 && st.dequeued == 4 && st.abandoned == 3);
	CU_ASSERT(st.used == 3);
	/* the next consumer starts after what the dead one was reading */
	CU_ASSERT_FATAL(ion_cons_open(&c, m.ring) == 0);
	CU_ASSERT(ion_cons_peek(&c, 10) == 3);
	for (i = 0; i < 3; i++) {
		uint32_t v;

		memcpy(&v, ion_cons_data(&c, i), sizeof(v));
		CU_ASSERT(v == 7 + i);
	}
	ion_cons_release(&c, 3);
	ion_ring_stats(m.ring, &st);
	CU_ASSERT(st.enqueued == st.dequeued + st.abandoned + st.used);
	ion_cons_close(&c);
	/* a head left outside the ring: reset to the tail, nothing skipped */
	ion_ring_cons_part(m.ring)->head.idx += 1000;
	CU_ASSERT(ion_ring_take_back(m.ring, ION_END_CONS) == 0);
	CU_ASSERT(ion_ring_cons_part(m.ring)->head.idx ==
		  (uint32_t)p.own->pub.word);
	/* ... and the counts derived from it stay what they were */
	ion_ring_stats(m.ring, &st);
	CU_ASSERT(st.enqueued == 10 && st.dequeued == 7 && st.abandoned == 3);
	ion_prod_close(&p);
	/* a tail left outside the ring: reset to the head */
	ion_ring_prod_part(m.ring)->pub.word += 5000;
	CU_ASSERT(ion_ring_take_back(m.ring, ION_END_PROD) == 0);
	ion_ring_stats(m.ring, &st);
	CU_ASSERT(st.used == 0);
	CU_ASSERT(st.enqueued == 10 && st.dequeued == 7);
	ion_ring_unmap(&m);
}

/* Child: keep the consumer's part mapped, wait, then write its head. */
static int
write_after_renew(struct ion_ring_map *m, long arg)
{
	struct ion_ring_map g;
	int fds[ION_PARTS];
	char why[160];

	(void)arg;
	grant_fds(m, ION_PERM_READ, fds);
	if (ion_ring_map_split(&g, fds, ION_PERM_READ, &params, why,
			       sizeof(why)) != 0)
		return 50;
	/* the parent renews the part while we are stopped */
	raise(SIGSTOP);
	__atomic_store_n(&ion_ring_cons_part(g.ring)->head.idx, 12345,
			 __ATOMIC_RELAXED);
	return 0;
}

static void
test_renew_part(void)
{
	struct ion_ring_map m;
	int status, old;
	pid_t pid;

	CU_ASSERT_FATAL(ion_ring_create_split(&m, "split", &params, 0) == 0);
	old = m.part_fd[ION_PART_CONS];
	pid = fork();
	if (pid == 0)
		_exit(write_after_renew(&m, 0));
	CU_ASSERT_FATAL(pid > 0);
	CU_ASSERT(waitpid(pid, &status, WUNTRACED) == pid &&
		  WIFSTOPPED(status));
	CU_ASSERT(ion_ring_renew_part(&m, ION_PART_CONS) == 0);
	CU_ASSERT(m.part_fd[ION_PART_CONS] >= 0);
	/* the old file is closed, the new one took its place */
	CU_ASSERT(fcntl(m.part_fd[ION_PART_CONS], F_GET_SEALS) & F_SEAL_SEAL);
	CU_ASSERT(old == m.part_fd[ION_PART_CONS] || fcntl(old, F_GETFD) < 0);
	kill(pid, SIGCONT);
	CU_ASSERT(waitpid(pid, &status, 0) == pid && exited(status, 0));
	/* what the old mapping's holder wrote reaches nobody */
	CU_ASSERT(ion_ring_cons_part(m.ring)->head.idx == 0);
	CU_ASSERT(ion_ring_renew_part(&m, ION_PART_HDR) == -EINVAL);
	ion_ring_unmap(&m);
}

/* ---- the producer's part in huge pages -------------------------------- */

static void
test_huge(void)
{
	struct ion_ring_map m;
	long r = (long)ION_PERM_READ << 8;
	struct ion_prod p;

	CU_ASSERT_FATAL(ion_ring_create_split(&m, "split", &params,
					      ION_SPLIT_HUGE) == 0);
	if (m.ring->hdr.page_size == ION_RING_PAGE) {
		fprintf(stderr, "(no huge pages: ordinary pages) ");
	} else {
		CU_ASSERT(m.ring->hdr.prod_offset == m.ring->hdr.page_size);
		CU_ASSERT(((uintptr_t)m.ring & (m.ring->hdr.page_size - 1)) ==
			  0);
	}
	CU_ASSERT_FATAL(ion_prod_open(&p, m.ring) == 0);
	CU_ASSERT(ion_enqueue(&p, "hello", 5) == 0);
	CU_ASSERT(exited(in_child(poke, &m, r | POKE_NOTHING), 0));
	CU_ASSERT(segv(in_child(poke, &m, r | POKE_PROD_DATA)));
	CU_ASSERT(exited(in_child(poke, &m, r | POKE_MPROTECT), 0));
	ion_prod_close(&p);
	ion_ring_unmap(&m);
}

int
main(void)
{
	static const struct test_case split[] = {
		TEST(test_split_layout),
		TEST(test_grant_read),
		TEST(test_grant_write),
		TEST(test_reopen_refused),
		TEST(test_published_descriptors),
		TEST(test_published_none_large),
		TEST(test_take_back),
		TEST(test_renew_part),
		TEST(test_huge),
	};

	if (CU_initialize_registry() != CUE_SUCCESS ||
	    test_add_suite("split", split, N_TESTS(split)) < 0)
		return 1;
	return test_run_all();
}
