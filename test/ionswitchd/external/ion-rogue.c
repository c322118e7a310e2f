/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ion-rogue: an external fiber that misbehaves on purpose, for
 * external.sh.  Each mode claims FIBER on SOCK through libion, then:
 *
 *   claim SOCK FIBER           only that: 0 attached, 3 refused (why on
 *                              stderr)
 *   write-ro SOCK FIBER        writes the producer's page of the first ring
 *                              it may only read: the MMU kills it (SIGSEGV)
 *   ask SOCK FIBER CHANNEL     asks for CHANNEL, which it does not hold: a
 *                              capability fault; the host kills it
 *   consume SOCK FIBER N [die] handles N messages of its first ring, one
 *                              line each ("%.*s" of the slot) on stdout;
 *                              with "die", then peeks 7 more, handles 3 and
 *                              dies (SIGKILL) in the middle of that burst;
 *                              without, gives its rings back and exits 0
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <ion_ring.h>

static int
first_read(const struct ion_fiber *f)
{
	unsigned int i;

	for (i = 0; i < f->n_grants; i++)
		if (f->grants[i].perm & ION_PERM_READ)
			return (int)f->grants[i].channel;
	return -1;
}

static int
consume(struct ion_fiber *f, unsigned long long n, int die)
{
	unsigned long long done = 0;
	struct ion_cons c;
	uint32_t i;

	if (ion_cspace_open_cons(&f->cs, (uint32_t)first_read(f), &c) != 0)
		return 4;
	for (;;) {
		uint32_t want = done < n ? 32 : 7;

		if (done < n && n - done < want)
			want = (uint32_t)(n - done);
		if (done == n && !die)
			break;
		/* peek the burst exactly: what a take-back would skip */
		if (ion_cons_peek(&c, want) < want) {
			int r = ion_cons_wait(&c, want, 10000);

			if (r < 0) {
				fprintf(stderr,
					"ion-rogue: waited for %u: %s\n", want,
					strerror(-r));
				return 5;
			}
			continue;
		}
		for (i = 0; i < want; i++) {
			printf("%.*s\n", (int)ion_cons_len(&c, i),
			       (const char *)ion_cons_data(&c, i));
			fflush(stdout);
			if (done == n && i == 2)
				raise(SIGKILL); /* 3 of 7 handled */
		}
		ion_cons_release(&c, want);
		done += want;
	}
	ion_cons_close(&c);
	ion_fiber_detach(f);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *mode = argc > 3 ? argv[1] : "";
	struct ion_fiber *f;
	char why[160] = "";
	int rc;

	if (argc < 4) {
		fprintf(stderr, "usage: ion-rogue MODE SOCK FIBER [ARG]\n");
		return 2;
	}
	/* the kernel's verdict on a fault, not a sanitizer's; no core */
	signal(SIGSEGV, SIG_DFL);
	setrlimit(RLIMIT_CORE, &(struct rlimit){0, 0});
	rc = ion_fiber_attach(argv[2], argv[3], -1, &f, why, sizeof(why));
	if (rc < 0) {
		fprintf(stderr, "ion-rogue: %s: %s\n", argv[3], why);
		return 3;
	}
	if (strcmp(mode, "claim") == 0) {
		ion_fiber_detach(f);
		return 0;
	}
	if (strcmp(mode, "write-ro") == 0) {
		const struct ion_cap *cap =
			ion_cspace_lookup(&f->cs, (uint32_t)first_read(f));

		if (cap == NULL)
			return 6;
		__atomic_store_n(&ion_ring_prod_part(cap->ring)->pub.word, 0,
				 __ATOMIC_RELAXED);
		return 7; /* not reached */
	}
	if (strcmp(mode, "ask") == 0 && argc > 4) {
		rc = ion_fiber_map(f, (uint32_t)strtoul(argv[4], NULL, 0),
				   ION_PERM_READ, why, sizeof(why));
		fprintf(stderr, "ion-rogue: asked for %s: %s\n", argv[4], why);
		if (rc != -EACCES)
			return 8;
		sleep(10);
		return 9; /* not reached: the host kills it */
	}
	if (strcmp(mode, "consume") == 0 && argc > 4)
		return consume(f, strtoull(argv[4], NULL, 0),
			       argc > 5 && strcmp(argv[5], "die") == 0);
	return 2;
}
