/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The counter emitter (lib/ctr): one document, two sections (a single row
 * and a list of labelled rows, a counter set each), rendered as text, JSON
 * and Prometheus; every value read back from each rendering must be the
 * value in the struct, so the three agree with each other and with the
 * table.  No EAL, no root.  (Telemetry is checked end to end, against
 * the other three, by the clients test: check_counters.py.)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ctr.h>

#include "../ion/cunit_main.h"

struct port_st {
	uint64_t rx, tx;
	uint32_t pending; /* a 4-byte gauge */
};
struct ring_st {
	uint64_t enq, deq;
	uint64_t used; /* a gauge */
};

static const struct ctr_desc port_d[] = {
	CTR(struct port_st, rx, "frames in"),
	CTR(struct port_st, tx, "frames out"),
	CTR_G(struct port_st, pending, "frames waiting"),
};
static const struct ctr_desc ring_d[] = {
	CTR(struct ring_st, enq, "enqueued"),
	CTR(struct ring_st, deq, "dequeued"),
	CTR_G(struct ring_st, used, "slots in use"),
};
static const struct ctr_set port_set = CTR_SET("port", port_d, "the port");
static const struct ctr_set ring_set = CTR_SET("ring", ring_d, "a ring");

static struct port_st port = {7, 100000000000ull, 3};
static struct ring_st rings[2] = {{1, 2, 0}, {4294967296ull, 5, 6}};
static const char *const ring_names[2] = {"net-rx", "net-tx"};

/* The document, in @p fmt, as a string (free it). */
static char *
render(enum ctr_format fmt)
{
	struct ctr_emit e;
	struct ctr_row r;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	unsigned int k;

	CU_ASSERT_FATAL(f != NULL);
	ctr_emit_init(&e, fmt, f);
	e.prefix = "ion";
	ctr_section(&e, "port", false);
	memset(&r, 0, sizeof(r));
	r.set = &port_set;
	r.base = &port;
	ctr_row_num(&r, "lcore", 1, false, false);
	ctr_row(&e, &r);
	ctr_section_end(&e);
	ctr_section(&e, "rings", true);
	for (k = 0; k < 2; k++) {
		memset(&r, 0, sizeof(r));
		r.set = &ring_set;
		r.base = &rings[k];
		ctr_row_num(&r, "channel", 0x500 + k, true, true);
		ctr_row_str(&r, "name", ring_names[k], true);
		ctr_row(&e, &r);
	}
	ctr_section_end(&e);
	ctr_emit_end(&e);
	fclose(f);
	return buf;
}

/* The value of counter @p name in the line of @p doc that holds @p key
 * (a row's identity as that format writes it), in the format's own
 * "NAME SEP VALUE" spelling; UINT64_MAX when absent. */
static uint64_t
value_in(const char *doc, const char *key, const char *name, const char *sep)
{
	const char *line = doc, *end, *p;
	char pat[96];

	snprintf(pat, sizeof(pat), "%s%s", name, sep);
	for (; *line != '\0'; line = *end ? end + 1 : end) {
		end = strchr(line, '\n');
		if (end == NULL)
			end = line + strlen(line);
		if (*line == '#' ||
		    (key[0] != '\0' &&
		     !memmem(line, (size_t)(end - line), key, strlen(key))))
			continue; /* a comment (HELP, TYPE), or another row */
		for (p = line; p < end; p++) {
			p = memmem(p, (size_t)(end - p), pat, strlen(pat));
			if (p == NULL)
				break;
			/* a whole name: not the tail of a longer one */
			if (p == line || p[-1] == ' ' || p[-1] == '"' ||
			    p[-1] == '_')
				return strtoull(p + strlen(pat), NULL, 10);
		}
	}
	return UINT64_MAX;
}

static void
test_text(void)
{
	char *t = render(CTR_TEXT);
	unsigned int k;

	CU_ASSERT_EQUAL(value_in(t, "[lcore=1]", "rx", " "), port.rx);
	CU_ASSERT_EQUAL(value_in(t, "[lcore=1]", "tx", " "), port.tx);
	CU_ASSERT_EQUAL(value_in(t, "[lcore=1]", "pending", " "), port.pending);
	for (k = 0; k < 2; k++) {
		char key[64];

		snprintf(key, sizeof(key), "[channel=0x%04x name=%s]",
			 0x500 + k, ring_names[k]);
		CU_ASSERT_EQUAL(value_in(t, key, "enq", " "), rings[k].enq);
		CU_ASSERT_EQUAL(value_in(t, key, "deq", " "), rings[k].deq);
		CU_ASSERT_EQUAL(value_in(t, key, "used", " "), rings[k].used);
	}
	free(t);
}

static void
test_json(void)
{
	char *j = render(CTR_JSON);
	unsigned int k;

	CU_ASSERT_PTR_NOT_NULL(strstr(j, "\"port\": {\"lcore\": 1,"));
	CU_ASSERT_EQUAL(value_in(j, "\"lcore\": 1", "rx\"", ": "), port.rx);
	CU_ASSERT_EQUAL(value_in(j, "\"lcore\": 1", "tx\"", ": "), port.tx);
	CU_ASSERT_EQUAL(value_in(j, "\"lcore\": 1", "pending\"", ": "),
			port.pending);
	CU_ASSERT_PTR_NOT_NULL(strstr(j, "\"rings\": ["));
	for (k = 0; k < 2; k++) {
		char key[64];

		/* JSON has numbers: the channel in decimal */
		snprintf(key, sizeof(key), "\"channel\": %u, \"name\": \"%s\"",
			 0x500 + k, ring_names[k]);
		CU_ASSERT_EQUAL(value_in(j, key, "enq\"", ": "), rings[k].enq);
		CU_ASSERT_EQUAL(value_in(j, key, "deq\"", ": "), rings[k].deq);
		CU_ASSERT_EQUAL(value_in(j, key, "used\"", ": "),
				rings[k].used);
	}
	/* balanced: one document */
	CU_ASSERT_EQUAL(j[0], '{');
	CU_ASSERT_PTR_NOT_NULL(strstr(j, "]}"));
	free(j);
}

/* Lines of @p doc that start with @p prefix */
static unsigned int
lines_with(const char *doc, const char *prefix)
{
	const char *p = doc;
	unsigned int n = 0;

	for (; p != NULL && *p != '\0'; p = strchr(p, '\n'), p = p ? p + 1 : p)
		n += strncmp(p, prefix, strlen(prefix)) == 0;
	return n;
}

static void
test_prometheus(void)
{
	char *m = render(CTR_PROM);
	unsigned int k;

	/* a counter ends in _total, a gauge does not; each metric has one
	 * HELP and one TYPE line, whatever its number of rows */
	CU_ASSERT_EQUAL(lines_with(m, "# TYPE ion_port_rx_total counter"), 1);
	CU_ASSERT_EQUAL(lines_with(m, "# TYPE ion_port_pending gauge"), 1);
	CU_ASSERT_EQUAL(lines_with(m, "# HELP ion_ring_enq_total enqueued"), 1);
	CU_ASSERT_EQUAL(lines_with(m, "# TYPE ion_ring_used gauge"), 1);
	CU_ASSERT_EQUAL(lines_with(m, "ion_ring_enq_total{"), 2);
	CU_ASSERT_EQUAL(value_in(m, "", "ion_port_rx_total", " "), port.rx);
	CU_ASSERT_EQUAL(value_in(m, "", "ion_port_tx_total", " "), port.tx);
	CU_ASSERT_EQUAL(value_in(m, "", "ion_port_pending", " "), port.pending);
	for (k = 0; k < 2; k++) {
		static const char *const metric[3] = {"ion_ring_enq_total",
						      "ion_ring_deq_total",
						      "ion_ring_used"};
		const uint64_t want[3] = {rings[k].enq, rings[k].deq,
					  rings[k].used};
		unsigned int i;

		for (i = 0; i < 3; i++) {
			char sample[128];

			/* labels keep the text's spelling of the channel */
			snprintf(sample, sizeof(sample),
				 "%s{channel=\"0x%04x\",name=\"%s\"}",
				 metric[i], 0x500 + k, ring_names[k]);
			CU_ASSERT_EQUAL(value_in(m, "", sample, " "), want[i]);
		}
	}
	free(m);
}

/* Values are read when a row is rendered, not when it is built. */
static void
test_read_at_render(void)
{
	char *before, *after;

	before = render(CTR_TEXT);
	rings[1].deq += 10;
	after = render(CTR_TEXT);
	rings[1].deq -= 10;
	CU_ASSERT_EQUAL(value_in(after, "name=net-tx]", "deq", " "),
			value_in(before, "name=net-tx]", "deq", " ") + 10);
	free(before);
	free(after);
}

int
main(void)
{
	static const struct test_case t[] = {
		{"text", test_text},
		{"JSON", test_json},
		{"Prometheus", test_prometheus},
		{"values read when rendered", test_read_at_render},
	};

	if (CU_initialize_registry() != CUE_SUCCESS ||
	    test_add_suite("ctr_emit", t, N_TESTS(t)) < 0)
		return 1;
	return test_run_all();
}
