/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ion-lwf-sink: the application end of the lwf fiber.  An external fiber
 * (kind "external" in the daemon's config): it claims its fiber on the
 * daemon's fibers socket and gets the one ring it is granted, the lwf
 * fiber's application ring, mapped so that it can write its consumer's
 * page and nothing else; it counts (or prints) the LWF frames it gets.
 * No DPDK: it sees nothing of the daemon but that ring.
 *
 *   ion-lwf-sink [--socket PATH | --file-prefix PREFIX] [--fiber NAME]
 *       [--channel ID] [--count N] [--seconds S] [--print]
 *
 * Defaults: the socket /run/ionswitchd/<PREFIX>.fibers.sock of prefix
 * "ionswitchd", fiber "lwf-sink", the first ring it may read.  Ends after
 * N frames, after S seconds, or on Ctrl-C; prints a JSON line
 * {"frames": .., "valid": .., "bytes": ..} and exits 0 when every frame
 * was a valid LWF frame and (with --count) N arrived.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ion_ring.h>
#include <wire.h>

static int stop;

static void
on_signal(int sig)
{
	__atomic_store_n(&stop, sig, __ATOMIC_RELAXED);
}

struct opts {
	char socket[PATH_MAX];
	const char *fiber;
	uint32_t channel;
	uint64_t count;
	unsigned int seconds;
	bool print;
};

static int
parse(int argc, char **argv, struct opts *o)
{
	static const struct option longs[] = {
		{"socket", required_argument, NULL, 'S'},
		{"file-prefix", required_argument, NULL, 'P'},
		{"fiber", required_argument, NULL, 'f'},
		{"channel", required_argument, NULL, 'c'},
		{"count", required_argument, NULL, 'n'},
		{"seconds", required_argument, NULL, 's'},
		{"print", no_argument, NULL, 'p'},
		{NULL, 0, NULL, 0},
	};
	char *end;
	int ch;

	snprintf(o->socket, sizeof(o->socket), ION_FIBERS_SOCKET_FMT,
		 "ionswitchd");
	while ((ch = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		unsigned long long v = 0;

		if (ch == 'c' || ch == 'n' || ch == 's') {
			v = strtoull(optarg, &end, 0);
			if (*optarg == '\0' || *end != '\0') {
				fprintf(stderr,
					"ion-lwf-sink: bad number '%s'\n",
					optarg);
				return -1;
			}
		}
		switch (ch) {
		case 'S':
			snprintf(o->socket, sizeof(o->socket), "%s", optarg);
			break;
		case 'P':
			snprintf(o->socket, sizeof(o->socket),
				 ION_FIBERS_SOCKET_FMT, optarg);
			break;
		case 'f':
			o->fiber = optarg;
			break;
		case 'c':
			o->channel = (uint32_t)v;
			break;
		case 'n':
			o->count = v;
			break;
		case 's':
			o->seconds = (unsigned int)v;
			break;
		case 'p':
			o->print = true;
			break;
		default:
			return -1;
		}
	}
	return 0;
}

static double
now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	struct opts o = {.fiber = "lwf-sink"};
	uint64_t frames = 0, valid = 0, bytes = 0;
	struct ion_fiber *f;
	struct ion_cons c;
	double deadline = 0;
	char why[160];
	unsigned int i;
	int rc;

	if (parse(argc, argv, &o) < 0)
		return 2;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	rc = ion_fiber_attach(o.socket, o.fiber, -1, &f, why, sizeof(why));
	if (rc < 0) {
		fprintf(stderr, "ion-lwf-sink: fiber %s: %s\n", o.fiber, why);
		return 1;
	}
	/* its ring: the one asked for, or the first it may read */
	for (i = 0; o.channel == 0 && i < f->n_grants; i++)
		if (f->grants[i].perm & ION_PERM_READ)
			o.channel = f->grants[i].channel;
	rc = ion_cspace_open_cons(&f->cs, o.channel, &c);
	if (rc < 0) {
		fprintf(stderr, "ion-lwf-sink: ring 0x%04x: %s\n", o.channel,
			rc == -EACCES ? "not granted to this fiber"
				      : strerror(-rc));
		ion_fiber_detach(f);
		return 1;
	}
	if (o.seconds != 0)
		deadline = now_s() + o.seconds;
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED) &&
	       (o.count == 0 || frames < o.count) &&
	       (deadline == 0 || now_s() < deadline)) {
		/* an application, not a poller: asleep on the doorbell */
		int got = ion_cons_wait(&c, 1, 100);

		if (got == -ETIMEDOUT || got == -EINTR)
			continue;
		if (got < 0)
			break;
		if (got > 32)
			got = 32;
		for (i = 0; i < (unsigned int)got; i++) {
			uint32_t len = ion_cons_len(&c, i);
			struct lwf_frame fr;

			frames++;
			bytes += len;
			if (lwf_parse(ion_cons_data(&c, i), len, &fr) != 0)
				continue;
			valid++;
			if (o.print)
				printf("session %02x.. seq %u service 0x%04x "
				       "payload %u\n",
				       fr.session_id[0], fr.sequence,
				       fr.service_type, fr.payload_len);
		}
		ion_cons_release(&c, (uint32_t)got);
	}
	ion_cons_close(&c);
	ion_fiber_detach(f);
	printf("{\"frames\": %" PRIu64 ", \"valid\": %" PRIu64
	       ", \"bytes\": %" PRIu64 "}\n",
	       frames, valid, bytes);
	return valid == frames && (o.count == 0 || frames >= o.count) ? 0 : 1;
}
