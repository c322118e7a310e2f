/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Counter tables and their one emitter.
 *
 * Every set of counters is described once, in the manner of ethdev xstats
 * names: a table of {name, where the value lives, one line of help}.  The
 * code that owns the counters keeps them in a plain struct; the table
 * names its fields by offset.  One emitter walks a document of sections
 * and rows and renders it through one of four back ends, so the outputs
 * cannot drift apart:
 *
 *   text        the stats block and the console's "show" commands
 *   JSON        --totals-json and GET /stats
 *   telemetry   /ion/<section> (dpdk-telemetry.py)
 *   Prometheus  GET /metrics, text exposition format 0.0.4
 *
 * A document is a list of sections ("port", "routes", "fibers", ...).  A
 * section holds one row (an object) or a list of rows.  A row has labels
 * (its identity: a fiber's name, a route's EtherType), attributes (strings
 * that describe it: a fiber's state), its counter set and optionally a
 * second set nested under that set's name (a fiber kind's own counters).
 *
 * The emitter reads each value once, with a relaxed atomic load: counters
 * are written by one thread with relaxed stores, so a reader on another
 * thread sees whole values without any lock.
 */
#ifndef CTR_H
#define CTR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

struct rte_tel_data;

enum ctr_type {
	CTR_COUNTER, /**< only grows (Prometheus "counter") */
	CTR_GAUGE,   /**< goes up and down: occupancy, open files */
};

/** One counter: where it lives in its set's struct, and what it means. */
struct ctr_desc {
	const char *name; /**< [a-z0-9_]+, the same in every output */
	uint32_t off;	  /**< byte offset in the set's struct */
	uint8_t size;	  /**< 4 or 8 bytes */
	uint8_t type;	  /**< enum ctr_type */
	const char *help; /**< one line */
};

/** A counter named after its field @p f of struct type @p T. */
#define CTR(T, f, h)                                                           \
	{                                                                      \
#f, (uint32_t)offsetof(T, f), (uint8_t)sizeof(((T *)0)->f),    \
			CTR_COUNTER, h                                         \
	}
/** The same, a gauge. */
#define CTR_G(T, f, h)                                                         \
	{                                                                      \
#f, (uint32_t)offsetof(T, f), (uint8_t)sizeof(((T *)0)->f),    \
			CTR_GAUGE, h                                           \
	}
/** A counter named @p n, at member expression @p m of @p T (an array
 * element, or a field whose C name is not the public one). */
#define CTR_AT(n, T, m, h)                                                     \
	{                                                                      \
		n, (uint32_t)offsetof(T, m), (uint8_t)sizeof(((T *)0)->m),     \
			CTR_COUNTER, h                                         \
	}

/** A set of counters: a name (the metric prefix) and its table. */
struct ctr_set {
	const char *name; /**< [a-z0-9_]+ */
	const struct ctr_desc *desc;
	unsigned int n;
	const char *help; /**< what one row of this set is */
};

#define CTR_SET(nm, tbl, h)                                                    \
	{                                                                      \
		nm, tbl, sizeof(tbl) / sizeof((tbl)[0]), h                     \
	}

/** A name = value pair that is not a counter. */
#define CTR_STR_MAX 160 /* an lcore's list of steps fits */

/** A name = value pair that is not a counter; a copy, so a row outlives
 * the buffers it was made from. */
struct ctr_attr {
	const char *name;      /**< [a-z0-9_]+, a literal */
	char str[CTR_STR_MAX]; /**< the value as a string, if is_str */
	uint64_t num;
	bool is_str;
	bool hex;   /**< text renders num as 0x%04x (channel, EtherType) */
	bool label; /**< identity of the row: a Prometheus label */
};

#define CTR_ROW_MAX_ATTRS 8

/** One object of a section. */
struct ctr_row {
	struct ctr_attr attr[CTR_ROW_MAX_ATTRS];
	unsigned int n_attr;
	const struct ctr_set *set; /**< may be NULL */
	const void *base;	   /**< the struct @p set describes */
	const struct ctr_set *sub; /**< nested counters, or NULL */
	const void *sub_base;
};

/** Add a label or attribute to @p r (at most CTR_ROW_MAX_ATTRS). */
void ctr_row_str(struct ctr_row *r, const char *name, const char *str,
		 bool label);
void ctr_row_num(struct ctr_row *r, const char *name, uint64_t num, bool hex,
		 bool label);

/**
 * Snapshot a struct of uint64_t counters written by one thread: each one
 * read with a relaxed load, whole.  @p size is a multiple of 8.
 */
void ctr_copy(void *dst, const void *src, size_t size);

/** Value of counter @p d in @p base (a relaxed load: any thread). */
uint64_t ctr_value(const struct ctr_desc *d, const void *base);

enum ctr_format {
	CTR_TEXT,
	CTR_JSON,
	CTR_PROM,
	CTR_TEL,
};

/** An emitter: one document rendered in one format.  Stack-allocatable. */
struct ctr_emit {
	enum ctr_format fmt;
	FILE *out;		  /**< text, JSON, Prometheus */
	struct rte_tel_data *tel; /**< telemetry: the command's dict */
	const char *only;	  /**< telemetry: the one section rendered */
	const char *prefix;	  /**< Prometheus metric prefix, e.g. "ion" */
	/* where the walk is */
	const char *section;
	bool list;
	bool in_only;
	unsigned int n_sections, n_rows;
	/* Prometheus: a section's rows (values read), rendered metric by
	 * metric at its end, as the format wants a metric's samples together */
	struct ctr_row *rows;
	uint64_t **vals;
	unsigned int n_prom, cap_prom;
};

/** Text, JSON or Prometheus to @p out. */
void ctr_emit_init(struct ctr_emit *e, enum ctr_format fmt, FILE *out);
/**
 * Telemetry: section @p only into @p d: a list section as a dict of rows
 * keyed by each row's first label, a single row as a flat dict.
 */
void ctr_emit_init_tel(struct ctr_emit *e, struct rte_tel_data *d,
		       const char *only);

/** Open section @p name: one row (@p list false) or a list of rows. */
void ctr_section(struct ctr_emit *e, const char *name, bool list);
/** Render @p r (its values are read now) into the open section. */
void ctr_row(struct ctr_emit *e, const struct ctr_row *r);
void ctr_section_end(struct ctr_emit *e);
/** Close the document. */
void ctr_emit_end(struct ctr_emit *e);

/** Every counter of @p s with its type and help, as a Markdown table
 * (--counters, docs/counters.md). */
void ctr_describe(FILE *out, const struct ctr_set *s);

#ifdef __cplusplus
}
#endif

#endif /* CTR_H */
