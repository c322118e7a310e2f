/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * EAL arguments: lcore lists, and merging the config's EAL options with the
 * command line's (the command line wins).  No EAL needed (config.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "config.h"

/* ------------------------------------------------------------------ */
/* EAL arguments                                                      */
/* ------------------------------------------------------------------ */

static int
parse_uint(const char **p, unsigned long *out)
{
	char *end;

	if (**p < '0' || **p > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoul(*p, &end, 10);
	if (errno != 0)
		return -EINVAL;
	*p = end;
	return 0;
}

/*
 * One set: "N", "N-M" or "(N,N-M,...)"; ids below @p limit go to @p set
 * (NULL: a CPU set, checked for syntax only).
 */
static int
parse_set(const char **p, bool *set, unsigned long limit)
{
	bool paren = **p == '(';

	if (paren)
		(*p)++;
	for (;;) {
		unsigned long a, b, i;

		if (parse_uint(p, &a) < 0)
			return -EINVAL;
		b = a;
		if (**p == '-') {
			(*p)++;
			if (parse_uint(p, &b) < 0 || b < a)
				return -EINVAL;
		}
		if (set != NULL) {
			if (b >= limit)
				return -EINVAL;
			for (i = a; i <= b; i++)
				set[i] = true;
		}
		if (!paren || **p != ',')
			break;
		(*p)++;
	}
	if (paren) {
		if (**p != ')')
			return -EINVAL;
		(*p)++;
	}
	return 0;
}

int
cfg_parse_lcores(const char *arg, bool lcores[CFG_MAX_LCORES])
{
	bool set[CFG_MAX_LCORES];
	const char *p = arg;

	if (arg == NULL || *arg == '\0')
		return -EINVAL;
	memset(set, 0, sizeof(set));
	for (;;) {
		if (parse_set(&p, set, CFG_MAX_LCORES) < 0)
			return -EINVAL;
		if (*p == '@') {
			p++;
			if (parse_set(&p, NULL, 0) < 0)
				return -EINVAL;
		}
		if (*p == '\0')
			break;
		if (*p != ',')
			return -EINVAL;
		p++;
	}
	memcpy(lcores, set, sizeof(set));
	return 0;
}

/*
 * The option @p s stands for: "-l", "--lcores" and "-c" all choose the
 * lcores, so any one of them replaces the others; otherwise a short
 * option is its letter ("-m256" is "-m") and a long one its name before
 * any "=".  @return false if @p s is not an option.
 */
static bool
opt_key(const char *s, char *key, size_t len)
{
	size_t n;

	if (s[0] != '-' || s[1] == '\0')
		return false;
	if (s[1] != '-')
		n = 2;
	else
		n = strcspn(s, "=");
	snprintf(key, len, "%.*s", (int)n, s);
	if (strcmp(key, "-l") == 0 || strcmp(key, "-c") == 0 ||
	    strcmp(key, "--lcores") == 0)
		snprintf(key, len, "lcores");
	return true;
}

static bool
cli_gives(int argc, char **argv, const char *opt)
{
	char want[64], key[64];
	int i;

	if (!opt_key(opt, want, sizeof(want)))
		return false;
	for (i = 0; i < argc; i++)
		if (opt_key(argv[i], key, sizeof(key)) &&
		    strcmp(key, want) == 0)
			return true;
	return false;
}

int
cfg_merge_eal(const struct cfg *c, const char *argv0, int cli_argc,
	      char **cli_argv, char **out, int max)
{
	int n = 0, i, j, k;

	if (n >= max)
		return -E2BIG;
	out[n++] = (char *)(uintptr_t)argv0;
	/* an option and the non-option words after it are its values */
	for (i = 0; i < c->eal_argc; i = j) {
		bool keep = !cli_gives(cli_argc, cli_argv, c->eal_argv[i]);

		j = i + 1;
		if (c->eal_argv[i][0] == '-')
			while (j < c->eal_argc && c->eal_argv[j][0] != '-')
				j++;
		if (!keep)
			continue;
		for (k = i; k < j; k++) {
			if (n >= max)
				return -E2BIG;
			out[n++] = c->eal_argv[k];
		}
	}
	for (i = 0; i < cli_argc; i++) {
		if (n >= max)
			return -E2BIG;
		out[n++] = cli_argv[i];
	}
	return n;
}
