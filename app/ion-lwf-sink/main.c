/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ion-lwf-sink: the application end of the lwf fiber.  A DPDK secondary
 * process that attaches to one ring only, the lwf fiber's application ring,
 * takes its consumer end, and counts (or prints) the LWF frames it gets.
 *
 *   ion-lwf-sink --proc-type=secondary --file-prefix PREFIX --no-pci \
 *       -- [--channel ID] [--count N] [--seconds S] [--print]
 *
 * Ends after N frames, after S seconds, or on Ctrl-C; prints a JSON line
 * {"frames": .., "valid": .., "bytes": ..} and exits 0 when every frame
 * was a valid LWF frame and (with --count) N arrived.
 */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>

#include <ion_memzone.h>
#include <ion_ring.h>
#include <wire.h>

static int stop;

static void
on_signal(int sig)
{
	__atomic_store_n(&stop, sig, __ATOMIC_RELAXED);
}

struct opts {
	uint32_t channel;
	uint64_t count;
	unsigned int seconds;
	bool print;
};

static int
parse(int argc, char **argv, struct opts *o)
{
	static const struct option longs[] = {
		{"channel", required_argument, NULL, 'c'},
		{"count", required_argument, NULL, 'n'},
		{"seconds", required_argument, NULL, 's'},
		{"print", no_argument, NULL, 'p'},
		{NULL, 0, NULL, 0},
	};
	char *end;
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		unsigned long long v = 0;

		if (ch != 'p') {
			v = strtoull(optarg, &end, 0);
			if (*optarg == '\0' || *end != '\0') {
				fprintf(stderr,
					"ion-lwf-sink: bad number '%s'\n",
					optarg);
				return -1;
			}
		}
		switch (ch) {
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

int
main(int argc, char **argv)
{
	struct opts o = {.channel = 0x0602, .seconds = 0};
	struct ion_ring_params expect = {0};
	uint64_t frames = 0, valid = 0, bytes = 0, deadline = 0;
	struct ion_ring *ring;
	struct ion_cons c;
	char name[32];
	int n, rc;

	n = rte_eal_init(argc, argv);
	if (n < 0) {
		fprintf(stderr,
			"ion-lwf-sink: EAL init failed: %s (run as a "
			"secondary: --proc-type=secondary "
			"--file-prefix <the daemon's>)\n",
			rte_strerror(rte_errno));
		return 1;
	}
	if (parse(argc - n, argv + n, &o) < 0)
		return 2;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	expect.channel = o.channel;
	ion_memzone_name(o.channel, name, sizeof(name));
	rc = ion_memzone_lookup(name, &expect, &ring);
	if (rc == 0)
		rc = ion_cons_open(&c, ring);
	if (rc < 0) {
		fprintf(stderr, "ion-lwf-sink: ring 0x%04x: %s\n", o.channel,
			rc == -EBUSY ? "another process reads it"
				     : strerror(-rc));
		rte_eal_cleanup();
		return 1;
	}
	if (o.seconds != 0)
		deadline = rte_get_timer_cycles() +
			   (uint64_t)o.seconds * rte_get_timer_hz();
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED) &&
	       (o.count == 0 || frames < o.count) &&
	       (deadline == 0 || rte_get_timer_cycles() < deadline)) {
		uint32_t got = ion_cons_peek(&c, 32), i;

		if (got == 0) {
			rte_delay_us_sleep(
				100); /* an application, not a poller */
			continue;
		}
		for (i = 0; i < got; i++) {
			const struct ion_slot *s = ion_cons_slot(&c, i);
			struct lwf_frame f;

			frames++;
			bytes += s->len;
			if (lwf_parse(ion_cons_data(&c, i), s->len, &f) != 0)
				continue;
			valid++;
			if (o.print)
				printf("session %02x.. seq %u service 0x%04x "
				       "payload %u\n",
				       f.session_id[0], f.sequence,
				       f.service_type, f.payload_len);
		}
		ion_cons_release(&c, got);
	}
	ion_cons_close(&c);
	printf("{\"frames\": %" PRIu64 ", \"valid\": %" PRIu64
	       ", \"bytes\": %" PRIu64 "}\n",
	       frames, valid, bytes);
	rte_eal_cleanup();
	return valid == frames && (o.count == 0 || frames >= o.count) ? 0 : 1;
}
