/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A kind's parameters from text: the defaults of its table, and a value
 * as a config or a command line writes it.  The config loader converts
 * libconfig's typed values itself and uses this for the defaults;
 * ion-bench uses it to set up a kind without a config file.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fiber_impl.h"

int
fiber_param_parse(const struct fiber_param *p, void *params, const char *v,
		  char *why, size_t len)
{
	char *at = (char *)params + p->off, *end;
	unsigned long long u;
	struct in_addr a;

	switch (p->type) {
	case FIBER_P_BOOL:
		if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
			break;
		*(bool *)at = v[0] == 't';
		return 0;
	case FIBER_P_UINT:
	case FIBER_P_CHANNEL:
		errno = 0;
		u = strtoull(v, &end, 0);
		if (errno != 0 || end == v || *end != '\0' || u > UINT32_MAX ||
		    (p->type == FIBER_P_UINT &&
		     ((long long)u < p->min || (long long)u > p->max)))
			break;
		*(uint32_t *)at = (uint32_t)u;
		return 0;
	case FIBER_P_IPV4:
		if (inet_pton(AF_INET, v, &a) != 1)
			break;
		*(uint32_t *)at = a.s_addr;
		return 0;
	case FIBER_P_PATH:
		if (v[0] != '\0' &&
		    (v[0] != '/' || strlen(v) >= FIBER_PATH_LEN))
			break;
		snprintf(at, FIBER_PATH_LEN, "%s", v);
		return 0;
	case FIBER_P_BINDS:
		/* a list: only the empty default is text */
		if (v[0] != '\0')
			break;
		memset(at, 0, sizeof(struct fiber_binds));
		return 0;
	}
	snprintf(why, len, "'%s' = \"%s\" is not valid: %s", p->key, v,
		 p->help);
	return -EINVAL;
}

int
fiber_params_default(const struct fiber_kind *k, void *params)
{
	char why[160];
	unsigned int i;
	int rc;

	if (k->params_size > FIBER_PARAMS_MAX)
		return -E2BIG;
	memset(params, 0, k->params_size);
	for (i = 0; i < k->n_params; i++) {
		if (k->params[i].def == NULL)
			continue; /* required: no default */
		rc = fiber_param_parse(&k->params[i], params, k->params[i].def,
				       why, sizeof(why));
		if (rc < 0)
			return rc;
	}
	return 0;
}

void
fiber_kind_describe(FILE *out, const struct fiber_kind *k)
{
	static const char *const types[] = {
		[FIBER_P_BOOL] = "boolean",	  [FIBER_P_UINT] = "integer",
		[FIBER_P_CHANNEL] = "channel",	  [FIBER_P_IPV4] = "IPv4",
		[FIBER_P_PATH] = "absolute path", [FIBER_P_BINDS] = "list",
	};
	unsigned int i;

	fprintf(out, "#### `kind = \"%s\"`\n\n%s.%s%s\n\n", k->name, k->help,
		k->needs_tx ? "  Needs `tx`." : "",
		k->remote ? "  No `lcore`, `rx` or `tx`: its grants are its "
			    "rings."
			  : "");
	if (k->n_params == 0) {
		fputs("No keys of its own.\n\n", out);
		return;
	}
	fputs("| key | type | default | meaning |\n|---|---|---|---|\n", out);
	for (i = 0; i < k->n_params; i++) {
		const struct fiber_param *p = &k->params[i];

		fprintf(out, "| `%s` | %s", p->key, types[p->type]);
		if (p->type == FIBER_P_UINT)
			fprintf(out, " %lld .. %lld", p->min, p->max);
		if (p->def == NULL)
			fputs(" | required", out);
		else if (p->type == FIBER_P_CHANNEL && strcmp(p->def, "0") == 0)
			fputs(" | none", out);
		else if (p->def[0] == '\0')
			fputs(" | `()`", out);
		else if (p->type == FIBER_P_IPV4 || p->type == FIBER_P_PATH)
			fprintf(out, " | `\"%s\"`", p->def);
		else
			fprintf(out, " | `%s`", p->def);
		fprintf(out, " | %s |\n", p->help);
	}
	fputc('\n', out);
}

const struct fiber_param *
fiber_kind_param(const struct fiber_kind *k, const char *key)
{
	unsigned int i;

	for (i = 0; i < k->n_params; i++)
		if (strcmp(k->params[i].key, key) == 0)
			return &k->params[i];
	return NULL;
}
