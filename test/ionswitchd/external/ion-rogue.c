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
 *   raw SOCK WHAT              no libion: breaks the protocol, WHAT one of
 *                              magic (another magic), long (a claim of
 *                              "rogue" with bytes after it), order (a MAP
 *                              first), late (nothing); prints the errno
 *                              the host answered and exits 0 if it then
 *                              hung up, 1 otherwise
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <ion_ring.h>
/* the wire format, to break it on purpose */
#include <ion_claim_proto.h>

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

static int
raw(const char *sock, const char *what)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct ion_claim_msg m, in;
	char buf[sizeof(m) + 16];
	size_t len = sizeof(m);
	int s, err = 0;
	ssize_t n;

	memset(&m, 0, sizeof(m));
	m.magic = ION_CLAIM_MAGIC;
	m.version = ION_CLAIM_VERSION;
	m.op = ION_CLAIM_CLAIM;
	snprintf(m.name, sizeof(m.name), "rogue");
	memset(buf, 'x', sizeof(buf));
	if (strcmp(what, "magic") == 0)
		m.magic = 0x52474f52; /* "ROGR" */
	else if (strcmp(what, "long") == 0)
		len = sizeof(buf);
	else if (strcmp(what, "order") == 0)
		m.op = ION_CLAIM_MAP;
	else if (strcmp(what, "late") == 0)
		len = 0;
	else
		return 2;
	memcpy(buf, &m, sizeof(m));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	s = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("ion-rogue: connect");
		return 3;
	}
	if (len > 0 && send(s, buf, len, MSG_NOSIGNAL) != (ssize_t)len) {
		perror("ion-rogue: send");
		return 4;
	}
	/* the answer, then the end: 5 s at most */
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &(struct timeval){5, 0},
		   sizeof(struct timeval));
	while ((n = recv(s, &in, sizeof(in), 0)) > 0)
		if (n == (ssize_t)sizeof(in) && in.op == ION_CLAIM_ERR) {
			err = in.err;
			fprintf(stderr, "ion-rogue: %s: answered %s: %.*s\n",
				what, strerrorname_np(-err),
				(int)sizeof(in.text), in.text);
		}
	close(s);
	return err < 0 && n == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	const char *mode = argc > 3 ? argv[1] : "";
	struct ion_fiber *f;
	char why[160] = "";
	int rc;

	if (argc == 4 && strcmp(argv[1], "raw") == 0)
		return raw(argv[2], argv[3]);
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
