/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A consumer of a UTCP application ring, as an external fiber: the utcp
 * fiber writes each payload for a bound port to that port's ring (slot tag:
 * the source port); this process claims the external fiber that holds
 * READ on it and prints every payload.  Nothing of the daemon but that
 * ring is mapped here, and only its consumer's page is writable.
 *
 *   utcp-consumer PREFIX FIBER [COUNT]
 *
 * e.g. with `bind = ( { port = 7; channel = 0x0710; } );` on the utcp fiber
 * and `{ name = "app7"; kind = "external"; uid = 1000;
 *        grants = ( { channel = 0x0710; perm = "r"; } ); }`:
 *   utcp-consumer ionswitchd app7
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <ion_ring.h>

static int stop;

static void
on_signal(int sig)
{
	__atomic_store_n(&stop, sig, __ATOMIC_RELAXED);
}

int
main(int argc, char **argv)
{
	unsigned long long count = argc > 3 ? strtoull(argv[3], NULL, 0) : 0;
	unsigned long long seen = 0;
	char sock[108], why[160];
	struct ion_fiber *f;
	struct ion_cons c;
	int n, i;

	if (argc < 3) {
		fprintf(stderr, "usage: %s PREFIX FIBER [COUNT]\n", argv[0]);
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	snprintf(sock, sizeof(sock), ION_FIBERS_SOCKET_FMT, argv[1]);
	if (ion_fiber_attach(sock, argv[2], -1, &f, why, sizeof(why)) < 0) {
		fprintf(stderr, "%s: %s\n", argv[2], why);
		return 1;
	}
	/* the fiber's one grant: the port's ring, to read */
	if (f->n_grants != 1 ||
	    ion_cspace_open_cons(&f->cs, f->grants[0].channel, &c) < 0) {
		fprintf(stderr, "%s: no ring to read\n", argv[2]);
		ion_fiber_detach(f);
		return 1;
	}
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED) &&
	       (count == 0 || seen < count)) {
		/* asleep on the ring's doorbell until a payload arrives */
		n = ion_cons_wait(&c, 1, 1000);
		if (n == -ETIMEDOUT || n == -EINTR)
			continue;
		if (n < 0)
			break;
		for (i = 0; i < n && (count == 0 || seen < count); i++) {
			printf("from port %u: %.*s\n",
			       ion_cons_slot(&c, i)->tag,
			       (int)ion_cons_len(&c, i),
			       (const char *)ion_cons_data(&c, i));
			seen++;
		}
		ion_cons_release(&c, (uint32_t)i);
		fflush(stdout);
	}
	ion_cons_close(&c);
	ion_fiber_detach(f);
	return 0;
}
