/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ion-bench lwf | utcp: frames validated per second on one lcore, next to a
 * plain memcpy of the same bytes in the same run.
 *   lwf   micro (128 B), mini (512 B) and standard (1350 B) frames:
 *         lwf_parse() (magic, version, lengths, class, CRC-32) and the
 *         replay window (lwf_replay_check(), fresh sequences);
 *   utcp  64, 512 and 1400-byte payloads: utcp_parse() with its checksum.
 * Each run validates a set of 1024 distinct frames over and over (the
 * set, 1.3 MiB for standard frames, is larger than L2); the median of
 * --runs runs is reported.  Every frame must validate, or the run fails.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_malloc.h>
#include <rte_memcpy.h>

#include <wire.h>

#include "bench.h"

#define SET  1024u
#define SLOT 1536u

struct wire_opts {
	uint32_t runs;
	uint64_t frames;
	bool json;
};

struct case_result {
	const char *name;
	uint32_t bytes;
	double ns_parse, ns_replay, ns_memcpy;
};

static int
parse_opts(const char *cmd, int argc, char **argv, struct wire_opts *o)
{
	static const struct option longs[] = {
		{"runs", required_argument, NULL, 'r'},
		{"frames", required_argument, NULL, 'n'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	uint32_t v[BENCH_MAX_LIST];
	int ch, li = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longs, &li)) != -1) {
		switch (ch) {
		case 'r':
			if (bench_parse_list(optarg, v, 1, 63) != 1)
				goto bad;
			o->runs = v[0];
			break;
		case 'n':
			if (bench_parse_list(optarg, v, 1, UINT32_MAX) != 1)
				goto bad;
			o->frames = v[0];
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
		default:
			fprintf(stderr,
				"usage: ion-bench [EAL options] -- %s "
				"[--runs N] [--frames N] [--json]\n",
				cmd);
			return ch == 'h' ? 1 : -1;
		}
	}
	return 0;
bad:
	fprintf(stderr, "ion-bench %s: bad value '%s' for --%s\n", cmd, optarg,
		longs[li].name);
	return -1;
}

/* Median ns per frame of @p fn over the set, @p runs times. */
#define MEASURE(out, runs, frames, body)                                       \
	do {                                                                   \
		double v_[64];                                                 \
		uint32_t k_;                                                   \
		for (k_ = 0; k_ < (runs); k_++) {                              \
			uint64_t t0_ = rte_rdtsc(), i;                         \
			for (i = 0; i < (frames); i++) {                       \
				body;                                          \
			}                                                      \
			v_[k_] = (double)(rte_rdtsc() - t0_) *                 \
				 bench_ns_per_cycle() / (double)(frames);      \
		}                                                              \
		(out) = bench_median(v_, (runs));                              \
	} while (0)

static void
report(const char *cmd, const struct wire_opts *o, const struct case_result *r,
       unsigned int n)
{
	unsigned int i;

	if (o->json) {
		printf("{\"%s\": {\"runs\": %u, \"cases\": [", cmd, o->runs);
		for (i = 0; i < n; i++)
			printf("%s\n  {\"case\": \"%s\", \"bytes\": %u, "
			       "\"validate_mfps\": %.3f, \"validate_ns\": "
			       "%.2f, "
			       "\"replay_ns\": %.2f, \"memcpy_ns\": %.2f, "
			       "\"validate_vs_memcpy\": %.2f}",
			       i ? "," : "", r[i].name, r[i].bytes,
			       1e3 / r[i].ns_parse, r[i].ns_parse,
			       r[i].ns_replay, r[i].ns_memcpy,
			       r[i].ns_parse / r[i].ns_memcpy);
		printf("]}}\n");
		return;
	}
	printf("\nion-bench %s: one lcore, median of %u runs of %lu frames\n\n",
	       cmd, o->runs, (unsigned long)o->frames);
	printf("%-10s %6s %12s %10s %10s %10s %12s\n", "case", "bytes",
	       "Mframes/s", "ns/frame", "Gbit/s", "memcpy ns", "cost/memcpy");
	for (i = 0; i < n; i++)
		printf("%-10s %6u %12.2f %10.1f %10.2f %10.1f %11.2fx\n",
		       r[i].name, r[i].bytes, 1e3 / r[i].ns_parse,
		       r[i].ns_parse, r[i].bytes * 8 / r[i].ns_parse,
		       r[i].ns_memcpy, r[i].ns_parse / r[i].ns_memcpy);
	if (r[0].ns_replay > 0)
		printf("\nreplay window (lwf_replay_check, fresh sequences): "
		       "%.1f ns/frame\n",
		       r[0].ns_replay);
}

int
bench_lwf(int argc, char **argv)
{
	static const struct {
		const char *name;
		uint8_t cls;
		uint16_t payload;
	} cases[] = {{"micro", LWF_CLASS_MICRO, 4},
		     {"mini", LWF_CLASS_MINI, 388},
		     {"standard", LWF_CLASS_STANDARD, 1226}};
	struct wire_opts o = {.runs = 5, .frames = 2000000};
	struct case_result res[3];
	uint8_t *set = rte_malloc("bench", SET * SLOT, 64);
	uint8_t *dst = rte_malloc("bench", SLOT, 64);
	struct lwf_replay *rp = rte_zmalloc("bench", sizeof(*rp), 64);
	uint8_t payload[1300];
	uint64_t bad = 0, sink = 0, tick = 0;
	unsigned int c, k;
	int rc = parse_opts("lwf", argc, argv, &o);

	if (rc != 0 || set == NULL || dst == NULL || rp == NULL) {
		rte_free(set);
		rte_free(dst);
		rte_free(rp);
		return rc > 0 ? 0 : rc < 0 ? 2 : 1;
	}
	for (k = 0; k < sizeof(payload); k++)
		payload[k] = (uint8_t)k;
	for (c = 0; c < 3; c++) {
		struct lwf_params p;
		uint32_t len = 0;

		memset(&p, 0, sizeof(p));
		p.frame_class = cases[c].cls;
		for (k = 0; k < SET; k++) {
			memcpy(p.session_id, &k, sizeof(k));
			p.sequence = k;
			len = (uint32_t)lwf_build(set + k * SLOT, SLOT, &p,
						  payload, cases[c].payload);
		}
		res[c].name = cases[c].name;
		res[c].bytes = len;
		MEASURE(res[c].ns_parse, o.runs, o.frames, {
			struct lwf_frame f;

			bad += lwf_parse(set + (i % SET) * SLOT, len, &f) != 0;
			sink += f.sequence;
		});
		MEASURE(res[c].ns_memcpy, o.runs, o.frames, {
			rte_memcpy(dst, set + (i % SET) * SLOT, len);
			sink += dst[len - 1];
		});
		res[c].ns_replay = 0;
	}
	/* the window alone: 1024 sessions, each moving forward */
	lwf_replay_init(rp);
	MEASURE(res[0].ns_replay, o.runs, o.frames, {
		uint32_t s = (uint32_t)(tick % SET);
		uint8_t id[16] = {0};

		memcpy(id, &s, sizeof(s));
		bad += lwf_replay_check(rp, id, (uint32_t)(tick / SET)) != 0;
		tick++;
	});
	rte_free(set);
	rte_free(dst);
	rte_free(rp);
	if (bad != 0) {
		fprintf(stderr, "ion-bench lwf: %lu frames did not validate\n",
			(unsigned long)bad);
		return 1;
	}
	report("lwf", &o, res, 3);
	return sink == 42 ? 3 : 0; /* keeps the loops' results alive */
}

int
bench_utcp(int argc, char **argv)
{
	static const uint16_t sizes[] = {64, 512, 1400};
	static const char *const names[] = {"64B", "512B", "1400B"};
	struct wire_opts o = {.runs = 5, .frames = 2000000};
	struct case_result res[3];
	uint8_t *set = rte_malloc("bench", SET * SLOT, 64);
	uint8_t *dst = rte_malloc("bench", SLOT, 64);
	uint8_t payload[1400];
	uint64_t bad = 0, sink = 0;
	unsigned int c, k;
	int rc = parse_opts("utcp", argc, argv, &o);

	if (rc != 0 || set == NULL || dst == NULL) {
		rte_free(set);
		rte_free(dst);
		return rc > 0 ? 0 : rc < 0 ? 2 : 1;
	}
	for (k = 0; k < sizeof(payload); k++)
		payload[k] = (uint8_t)(k * 7);
	for (c = 0; c < 3; c++) {
		uint32_t len = 0;

		for (k = 0; k < SET; k++)
			len = (uint32_t)utcp_build(set + k * SLOT, SLOT, 0,
						   (uint16_t)k, 7, payload,
						   sizes[c]);
		res[c].name = names[c];
		res[c].bytes = len;
		res[c].ns_replay = 0;
		MEASURE(res[c].ns_parse, o.runs, o.frames, {
			struct utcp_pkt p;

			bad += utcp_parse(set + (i % SET) * SLOT, len, &p) != 0;
			sink += p.src_port;
		});
		MEASURE(res[c].ns_memcpy, o.runs, o.frames, {
			rte_memcpy(dst, set + (i % SET) * SLOT, len);
			sink += dst[len - 1];
		});
	}
	rte_free(set);
	rte_free(dst);
	if (bad != 0) {
		fprintf(stderr,
			"ion-bench utcp: %lu packets did not validate\n",
			(unsigned long)bad);
		return 1;
	}
	report("utcp", &o, res, 3);
	return sink == 42 ? 3 : 0;
}
