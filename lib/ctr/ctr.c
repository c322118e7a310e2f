/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The emitter of counter tables (ctr.h): one walk, four back ends.  Not a
 * hot path: it runs for a stats block, a console command, a telemetry or
 * HTTP request.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <rte_telemetry.h>

#include "ctr.h"

#define TEXT_WIDTH 100

void
ctr_row_str(struct ctr_row *r, const char *name, const char *str, bool label)
{
	struct ctr_attr *a;

	if (r->n_attr == CTR_ROW_MAX_ATTRS)
		return;
	a = &r->attr[r->n_attr++];
	memset(a, 0, sizeof(*a));
	a->name = name;
	snprintf(a->str, sizeof(a->str), "%s", str != NULL ? str : "");
	a->is_str = true;
	a->label = label;
}

void
ctr_row_num(struct ctr_row *r, const char *name, uint64_t num, bool hex,
	    bool label)
{
	struct ctr_attr *a;

	if (r->n_attr == CTR_ROW_MAX_ATTRS)
		return;
	a = &r->attr[r->n_attr++];
	memset(a, 0, sizeof(*a));
	a->name = name;
	a->num = num;
	a->hex = hex;
	a->label = label;
}

void
ctr_copy(void *dst, const void *src, size_t size)
{
	const uint64_t *s = src;
	uint64_t *d = dst;
	size_t i;

	/* relaxed: each counter has one writer; a reader needs no tearing */
	for (i = 0; i < size / sizeof(uint64_t); i++)
		d[i] = __atomic_load_n(&s[i], __ATOMIC_RELAXED);
}

uint64_t
ctr_value(const struct ctr_desc *d, const void *base)
{
	const char *p = (const char *)base + d->off;

	/* relaxed: each counter has one writer; a reader needs no tearing */
	if (d->size == sizeof(uint32_t))
		return __atomic_load_n((const uint32_t *)p, __ATOMIC_RELAXED);
	return __atomic_load_n((const uint64_t *)p, __ATOMIC_RELAXED);
}

/* An attribute's value as text: hex for channels and EtherTypes. */
static void
attr_text(const struct ctr_attr *a, char *buf, size_t len)
{
	if (a->is_str)
		snprintf(buf, len, "%s", a->str);
	else if (a->hex)
		snprintf(buf, len, "0x%04" PRIx64, a->num);
	else
		snprintf(buf, len, "%" PRIu64, a->num);
}

/* ---- text ---- */

struct line {
	FILE *out;
	int col;
	int indent; /* of continuation lines */
};

static void
line_word(struct line *l, const char *w)
{
	int n = (int)strlen(w);

	if (l->col + 1 + n > TEXT_WIDTH && l->col > l->indent) {
		fprintf(l->out, "\n%*s", l->indent, "");
		l->col = l->indent;
	} else if (l->col > l->indent) {
		fputc(' ', l->out);
		l->col++;
	}
	fputs(w, l->out);
	l->col += n;
}

static void
text_pairs(struct line *l, const struct ctr_set *s, const void *base)
{
	char w[96];
	unsigned int i;

	for (i = 0; i < s->n; i++) {
		snprintf(w, sizeof(w), "%s %" PRIu64, s->desc[i].name,
			 ctr_value(&s->desc[i], base));
		line_word(l, w);
	}
}

static void
text_row(struct ctr_emit *e, const struct ctr_row *r)
{
	struct line l = {.out = e->out, .col = 4, .indent = 6};
	char v[CTR_STR_MAX], w[CTR_STR_MAX + 64];
	unsigned int i;

	fputs("    ", e->out);
	for (i = 0; i < r->n_attr; i++) {
		attr_text(&r->attr[i], v, sizeof(v));
		snprintf(w, sizeof(w), "%s%s=%s%s", i == 0 ? "[" : "",
			 r->attr[i].name, v, i + 1 == r->n_attr ? "]" : "");
		line_word(&l, w);
	}
	if (r->set != NULL)
		text_pairs(&l, r->set, r->base);
	fputc('\n', e->out);
	if (r->sub != NULL) {
		l.col = 6;
		l.indent = 8;
		fprintf(e->out, "      %s:", r->sub->name);
		l.col += (int)strlen(r->sub->name) + 1;
		text_pairs(&l, r->sub, r->sub_base);
		fputc('\n', e->out);
	}
}

/* ---- JSON ---- */

static void
json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static void
json_pairs(FILE *out, const struct ctr_set *s, const void *base, bool *first)
{
	unsigned int i;

	for (i = 0; i < s->n; i++) {
		fprintf(out, "%s\"%s\": %" PRIu64, *first ? "" : ", ",
			s->desc[i].name, ctr_value(&s->desc[i], base));
		*first = false;
	}
}

static void
json_row(struct ctr_emit *e, const struct ctr_row *r)
{
	bool first = true;
	unsigned int i;

	if (e->list)
		fprintf(e->out, "%s\n  ", e->n_rows > 0 ? "," : "");
	fputc('{', e->out);
	for (i = 0; i < r->n_attr; i++) {
		fprintf(e->out, "%s\"%s\": ", first ? "" : ", ",
			r->attr[i].name);
		if (r->attr[i].is_str)
			json_str(e->out, r->attr[i].str);
		else
			fprintf(e->out, "%" PRIu64, r->attr[i].num);
		first = false;
	}
	if (r->set != NULL)
		json_pairs(e->out, r->set, r->base, &first);
	if (r->sub != NULL) {
		bool sub_first = true;

		fprintf(e->out, "%s\"%s\": {", first ? "" : ", ", r->sub->name);
		json_pairs(e->out, r->sub, r->sub_base, &sub_first);
		fputc('}', e->out);
	}
	fputc('}', e->out);
}

/* ---- telemetry ---- */

static void
tel_pairs(struct rte_tel_data *d, const struct ctr_set *s, const void *base)
{
	unsigned int i;

	for (i = 0; i < s->n; i++)
		rte_tel_data_add_dict_u64(d, s->desc[i].name,
					  ctr_value(&s->desc[i], base));
}

static void
tel_fill(struct rte_tel_data *d, const struct ctr_row *r)
{
	unsigned int i;

	for (i = 0; i < r->n_attr; i++) {
		if (r->attr[i].is_str)
			rte_tel_data_add_dict_string(d, r->attr[i].name,
						     r->attr[i].str);
		else
			rte_tel_data_add_dict_u64(d, r->attr[i].name,
						  r->attr[i].num);
	}
	if (r->set != NULL)
		tel_pairs(d, r->set, r->base);
	if (r->sub != NULL) {
		struct rte_tel_data *sub = rte_tel_data_alloc();

		if (sub == NULL)
			return;
		rte_tel_data_start_dict(sub);
		tel_pairs(sub, r->sub, r->sub_base);
		rte_tel_data_add_dict_container(d, r->sub->name, sub, 0);
	}
}

/* DPDK's telemetry takes only [A-Za-z0-9_/] in a dictionary's names and
 * drops the rest: a row named "lwf-sink" is keyed lwf_sink (its "name" is
 * unchanged) */
static void
tel_key(char *key)
{
	for (; *key != '\0'; key++)
		if (!isalnum((unsigned char)*key) && *key != '_' && *key != '/')
			*key = '_';
}

static void
tel_row(struct ctr_emit *e, const struct ctr_row *r)
{
	struct rte_tel_data *row;
	char key[CTR_STR_MAX];

	if (!e->in_only)
		return;
	if (!e->list) {
		tel_fill(e->tel, r);
		return;
	}
	row = rte_tel_data_alloc();
	if (row == NULL)
		return;
	rte_tel_data_start_dict(row);
	tel_fill(row, r);
	if (r->n_attr > 0)
		attr_text(&r->attr[0], key, sizeof(key));
	else
		snprintf(key, sizeof(key), "%u", e->n_rows);
	tel_key(key);
	if (rte_tel_data_add_dict_container(e->tel, key, row, 0) != 0)
		rte_tel_data_free(row);
}

/* ---- Prometheus ---- */

static void
prom_keep(struct ctr_emit *e, const struct ctr_row *r)
{
	unsigned int n = (r->set ? r->set->n : 0) + (r->sub ? r->sub->n : 0);
	uint64_t *v;
	unsigned int i, k = 0;

	if (e->n_prom == e->cap_prom) {
		unsigned int cap = e->cap_prom ? 2 * e->cap_prom : 16;
		struct ctr_row *rows = realloc(e->rows, cap * sizeof(*rows));
		uint64_t **vals;

		if (rows == NULL)
			return;
		e->rows = rows;
		vals = realloc(e->vals, cap * sizeof(*vals));
		if (vals == NULL)
			return;
		e->vals = vals;
		e->cap_prom = cap;
	}
	v = calloc(n + 1, sizeof(*v));
	if (v == NULL)
		return;
	for (i = 0; r->set != NULL && i < r->set->n; i++)
		v[k++] = ctr_value(&r->set->desc[i], r->base);
	for (i = 0; r->sub != NULL && i < r->sub->n; i++)
		v[k++] = ctr_value(&r->sub->desc[i], r->sub_base);
	e->rows[e->n_prom] = *r;
	e->vals[e->n_prom++] = v;
}

static void
prom_label_value(FILE *out, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(out, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
}

/* {label="v",...}; with @p info, every attribute, not only labels */
static void
prom_labels(FILE *out, const struct ctr_row *r, bool info)
{
	char v[CTR_STR_MAX];
	unsigned int i, n = 0;

	for (i = 0; i < r->n_attr; i++) {
		if (!r->attr[i].label && !info)
			continue;
		attr_text(&r->attr[i], v, sizeof(v));
		fprintf(out, "%s%s=\"", n++ ? "," : "{", r->attr[i].name);
		prom_label_value(out, v);
		fputc('"', out);
	}
	if (n > 0)
		fputc('}', out);
}

static void
prom_family(struct ctr_emit *e, const struct ctr_set *s, unsigned int k,
	    bool sub)
{
	const struct ctr_desc *d = &s->desc[k];
	const char *suffix = d->type == CTR_COUNTER ? "_total" : "";
	unsigned int i;

	fprintf(e->out, "# HELP %s_%s_%s%s %s\n", e->prefix, s->name, d->name,
		suffix, d->help);
	fprintf(e->out, "# TYPE %s_%s_%s%s %s\n", e->prefix, s->name, d->name,
		suffix, d->type == CTR_COUNTER ? "counter" : "gauge");
	for (i = 0; i < e->n_prom; i++) {
		const struct ctr_row *r = &e->rows[i];
		unsigned int at = k;

		if ((sub ? r->sub : r->set) != s)
			continue;
		if (sub)
			at += r->set != NULL ? r->set->n : 0;
		fprintf(e->out, "%s_%s_%s%s", e->prefix, s->name, d->name,
			suffix);
		prom_labels(e->out, r, false);
		fprintf(e->out, " %" PRIu64 "\n", e->vals[i][at]);
	}
}

/* Does any kept row before @p upto carry @p s (as set or sub)? */
static bool
prom_seen(const struct ctr_emit *e, unsigned int upto, const struct ctr_set *s,
	  bool sub)
{
	unsigned int i;

	for (i = 0; i < upto; i++)
		if ((sub ? e->rows[i].sub : e->rows[i].set) == s)
			return true;
	return false;
}

static void
prom_flush(struct ctr_emit *e)
{
	unsigned int i, k;
	bool info = false;

	for (i = 0; i < e->n_prom; i++)
		for (k = 0; k < e->rows[i].n_attr; k++)
			info |= !e->rows[i].attr[k].label;
	/* what is not a number (a fiber's state) is an info metric */
	if (info && e->n_prom > 0 && e->rows[0].set != NULL) {
		const char *set = e->rows[0].set->name;

		fprintf(e->out,
			"# HELP %s_%s_info Attributes of each %s, as labels\n"
			"# TYPE %s_%s_info gauge\n",
			e->prefix, set, e->rows[0].set->help, e->prefix, set);
		for (i = 0; i < e->n_prom; i++) {
			fprintf(e->out, "%s_%s_info", e->prefix, set);
			prom_labels(e->out, &e->rows[i], true);
			fputs(" 1\n", e->out);
		}
	}
	for (i = 0; i < e->n_prom; i++) {
		const struct ctr_set *s = e->rows[i].set;

		if (s != NULL && !prom_seen(e, i, s, false))
			for (k = 0; k < s->n; k++)
				prom_family(e, s, k, false);
	}
	for (i = 0; i < e->n_prom; i++) {
		const struct ctr_set *s = e->rows[i].sub;

		if (s != NULL && !prom_seen(e, i, s, true))
			for (k = 0; k < s->n; k++)
				prom_family(e, s, k, true);
	}
	for (i = 0; i < e->n_prom; i++)
		free(e->vals[i]);
	e->n_prom = 0;
}

/* ---- the walk ---- */

void
ctr_emit_init(struct ctr_emit *e, enum ctr_format fmt, FILE *out)
{
	memset(e, 0, sizeof(*e));
	e->fmt = fmt;
	e->out = out;
	e->prefix = "ion";
}

void
ctr_emit_init_tel(struct ctr_emit *e, struct rte_tel_data *d, const char *only)
{
	memset(e, 0, sizeof(*e));
	e->fmt = CTR_TEL;
	e->tel = d;
	e->only = only;
	rte_tel_data_start_dict(d);
}

void
ctr_section(struct ctr_emit *e, const char *name, bool list)
{
	e->section = name;
	e->list = list;
	e->n_rows = 0;
	switch (e->fmt) {
	case CTR_TEXT:
		fprintf(e->out, "  %s\n", name);
		break;
	case CTR_JSON:
		fprintf(e->out, "%s\"%s\": %s", e->n_sections ? ",\n " : "{",
			name, list ? "[" : "");
		break;
	case CTR_TEL:
		e->in_only = e->only != NULL && strcmp(e->only, name) == 0;
		break;
	case CTR_PROM:
		e->n_prom = 0;
		break;
	}
	e->n_sections++;
}

void
ctr_row(struct ctr_emit *e, const struct ctr_row *r)
{
	/* a single-row section renders its first row only */
	if (!e->list && e->n_rows > 0)
		return;
	switch (e->fmt) {
	case CTR_TEXT:
		text_row(e, r);
		break;
	case CTR_JSON:
		json_row(e, r);
		break;
	case CTR_TEL:
		tel_row(e, r);
		break;
	case CTR_PROM:
		prom_keep(e, r);
		break;
	}
	e->n_rows++;
}

void
ctr_section_end(struct ctr_emit *e)
{
	switch (e->fmt) {
	case CTR_JSON:
		if (e->list)
			fputc(']', e->out);
		else if (e->n_rows == 0)
			fputs("{}", e->out);
		break;
	case CTR_PROM:
		prom_flush(e);
		break;
	case CTR_TEXT:
	case CTR_TEL:
		break;
	}
	e->in_only = false;
}

void
ctr_emit_end(struct ctr_emit *e)
{
	if (e->fmt == CTR_JSON)
		fputs(e->n_sections ? "}\n" : "{}\n", e->out);
	free(e->rows);
	free(e->vals);
	e->rows = NULL;
	e->vals = NULL;
	e->cap_prom = 0;
}

void
ctr_describe(FILE *out, const struct ctr_set *s)
{
	unsigned int i;

	fprintf(out,
		"#### `%s`: %s\n\n| counter | type | meaning |\n"
		"|---|---|---|\n",
		s->name, s->help);
	for (i = 0; i < s->n; i++)
		fprintf(out, "| `%s` | %s | %s |\n", s->desc[i].name,
			s->desc[i].type == CTR_COUNTER ? "counter" : "gauge",
			s->desc[i].help);
	fputc('\n', out);
}
