/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cfg_check(): the configuration as a whole, against the lcores EAL will
 * enable (config.h).  Each refusal names FILE:LINE of the item, reading
 * the file again to learn which file an @include'd item came from.
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
#include "config_impl.h"

/* ------------------------------------------------------------------ */
/* cfg_check                                                          */
/* ------------------------------------------------------------------ */

/*
 * Where an item sits, as a libconfig path: struct cfg keeps the line of
 * each item but not its file (config.h has no room for one), so a refusal
 * reads the file again to learn whether the item came from an @include.
 */
struct where {
	const char *path; /* "fibers", "netswitch.dispatch", ... */
	int i;		  /* element of path, or -1 */
	const char *sub;  /* member of that element, or NULL */
	int j;		  /* element of sub, or -1 */
	int line;
};

static void
where_file(const struct cfg *c, const struct where *w, char *out, size_t len)
{
	const config_setting_t *s;
	char dir[CFG_PATH_LEN];
	config_t lc;

	snprintf(out, len, "%s", c->file[0] != '\0' ? c->file : "(config)");
	if (c->file[0] == '\0')
		return;
	cfg_dir_of(c->file, dir, sizeof(dir));
	config_init(&lc);
	config_set_include_dir(&lc, dir);
	if (config_read_file(&lc, c->file)) {
		s = config_lookup(&lc, w->path);
		if (s != NULL && w->i >= 0)
			s = config_setting_get_elem(s, (unsigned int)w->i);
		if (s != NULL && w->sub != NULL)
			s = config_setting_get_member(s, w->sub);
		if (s != NULL && w->j >= 0)
			s = config_setting_get_elem(s, (unsigned int)w->j);
		/* the file changed since cfg_load(): keep the main file */
		if (s != NULL && (int)config_setting_source_line(s) == w->line)
			cfg_file_path(c->file, dir,
				      config_setting_source_file(s), out, len);
	}
	config_destroy(&lc);
}

static int __attribute__((format(printf, 5, 6)))
check_refuse(const struct cfg *c, const struct where *w, char *err,
	     size_t errlen, const char *fmt, ...)
{
	char file[CFG_PATH_LEN + CFG_PATH_LEN];
	va_list ap;
	int rc;

	where_file(c, w, file, sizeof(file));
	va_start(ap, fmt);
	rc = cfg_vrefuse(err, errlen, file, w->line, fmt, ap);
	va_end(ap);
	return rc;
}

#define WHERE(p, a, s, b, l)                                                   \
	(&(const struct where){                                                \
		.path = (p), .i = (a), .sub = (s), .j = (b), .line = (l)})

/* Who holds an end of a ring, while cfg_check() counts them. */
#define END_NONE      (-1)
#define END_NETSWITCH (-2)

struct ends {
	int writer; /* fiber index, END_NETSWITCH or END_NONE */
	int reader;
};

/* Any lcore EAL enables may run any step: the NetSwitch and fibers share
 * lcores, the main lcore's too. */
static int
check_lcores(const struct cfg *c, const bool lcores[CFG_MAX_LCORES], char *err,
	     size_t errlen)
{
	unsigned int i;

	if (c->ns_lcore >= CFG_MAX_LCORES || !lcores[c->ns_lcore])
		return check_refuse(
			c, WHERE("netswitch", -1, NULL, -1, c->ns_line), err,
			errlen,
			"the NetSwitch is on lcore %u, which EAL "
			"does not enable (see -l/--lcores)",
			c->ns_lcore);
	for (i = 0; i < c->n_fibers; i++) {
		const struct cfg_fiber *f = &c->fibers[i];

		if (f->kind->remote)
			continue; /* in a process of its own */
		if (f->lcore >= CFG_MAX_LCORES || !lcores[f->lcore])
			return check_refuse(
				c, WHERE("fibers", (int)i, NULL, -1, f->line),
				err, errlen,
				"fiber '%s' is on lcore %u, which EAL does "
				"not enable (see -l/--lcores)",
				f->name, f->lcore);
	}
	return 0;
}

/* Every channel the kind's keys name (FIBER_P_CHANNEL, FIBER_P_BINDS). */
static int
check_params(const struct cfg *c, unsigned int i, char *err, size_t errlen)
{
	const struct cfg_fiber *f = &c->fibers[i];
	const struct fiber_kind *k = f->kind;
	unsigned int p, j;

	for (p = 0; p < k->n_params; p++) {
		const char *at =
			(const char *)f->params.bytes + k->params[p].off;
		const struct fiber_binds *b = (const void *)at;
		uint32_t ch = k->params[p].type == FIBER_P_CHANNEL
				      ? *(const uint32_t *)at
				      : 0;

		if (ch != 0 && cfg_channel(c, ch) == NULL)
			return check_refuse(
				c, WHERE("fibers", (int)i, NULL, -1, f->line),
				err, errlen,
				"fiber '%s' names channel 0x%04x (%s), which "
				"is not in 'channels'",
				f->name, ch, k->params[p].key);
		if (k->params[p].type != FIBER_P_BINDS)
			continue;
		for (j = 0; j < b->n; j++)
			if (cfg_channel(c, b->b[j].channel) == NULL)
				return check_refuse(
					c,
					WHERE("fibers", (int)i,
					      k->params[p].key, (int)j,
					      b->b[j].line),
					err, errlen,
					"fiber '%s' binds port %u to channel "
					"0x%04x, which is not in 'channels'",
					f->name, b->b[j].port, b->b[j].channel);
	}
	return 0;
}

static int
check_known(const struct cfg *c, char *err, size_t errlen)
{
	unsigned int i, j;

	for (i = 0; i < c->n_routes; i++) {
		const struct cfg_route *r = &c->routes[i];

		if (cfg_channel(c, r->route.channel) == NULL)
			return check_refuse(
				c,
				WHERE("netswitch.dispatch", (int)i, NULL, -1,
				      r->line),
				err, errlen,
				"EtherType 0x%04x is routed to channel 0x%04x, "
				"which is not in 'channels'",
				r->route.ethertype, r->route.channel);
	}
	for (i = 0; i < c->n_tx; i++)
		if (cfg_channel(c, c->tx[i].channel) == NULL)
			return check_refuse(
				c,
				WHERE("netswitch.tx", (int)i, NULL, -1,
				      c->tx[i].line),
				err, errlen,
				"netswitch.tx names channel 0x%04x, which is "
				"not in 'channels'",
				c->tx[i].channel);
	for (i = 0; i < c->n_fibers; i++) {
		const struct cfg_fiber *f = &c->fibers[i];
		const struct where *w =
			WHERE("fibers", (int)i, NULL, -1, f->line);

		if (f->n_grants > ION_CSPACE_SLOTS)
			return check_refuse(c, w, err, errlen,
					    "fiber '%s' has %u grants; a "
					    "CSpace holds at most %u",
					    f->name, f->n_grants,
					    ION_CSPACE_SLOTS);
		if (f->rx != 0 && cfg_channel(c, f->rx) == NULL)
			return check_refuse(c, w, err, errlen,
					    "fiber '%s' reads channel 0x%04x "
					    "(rx), which is not in 'channels'",
					    f->name, f->rx);
		if (f->tx != 0 && cfg_channel(c, f->tx) == NULL)
			return check_refuse(c, w, err, errlen,
					    "fiber '%s' writes channel 0x%04x "
					    "(tx), which is not in 'channels'",
					    f->name, f->tx);
		if (check_params(c, i, err, errlen) < 0)
			return -EINVAL;
		for (j = 0; j < f->n_grants; j++)
			if (cfg_channel(c, f->grants[j].channel) == NULL)
				return check_refuse(
					c,
					WHERE("fibers", (int)i, "grants",
					      (int)j, f->grants[j].line),
					err, errlen,
					"fiber '%s' is granted channel 0x%04x, "
					"which is not in 'channels'",
					f->name, f->grants[j].channel);
	}
	return 0;
}

/* One writer and one reader a ring: the ring is single-producer, -consumer */
static int
check_ends(const struct cfg *c, struct ends *ends, char *err, size_t errlen)
{
	unsigned int i, j;

	for (i = 0; i < c->n_channels; i++)
		ends[i].writer = ends[i].reader = END_NONE;
	for (i = 0; i < c->n_routes; i++)
		ends[cfg_channel(c, c->routes[i].route.channel) - c->channels]
			.writer = END_NETSWITCH;
	for (i = 0; i < c->n_tx; i++)
		ends[cfg_channel(c, c->tx[i].channel) - c->channels].reader =
			END_NETSWITCH;
	for (i = 0; i < c->n_fibers; i++) {
		const struct cfg_fiber *f = &c->fibers[i];

		for (j = 0; j < f->n_grants; j++) {
			const struct cfg_grant *g = &f->grants[j];
			const struct cfg_channel *ch =
				cfg_channel(c, g->channel);
			const struct where *w = WHERE(
				"fibers", (int)i, "grants", (int)j, g->line);
			struct ends *e = &ends[ch - c->channels];

			if ((g->perms & ION_PERM_WRITE) &&
			    e->writer == END_NETSWITCH)
				return check_refuse(
					c, w, err, errlen,
					"two writers on channel 0x%04x (%s): "
					"fiber '%s' is granted \"w\" on a ring "
					"the NetSwitch writes (it is routed)",
					ch->id, ch->name, f->name);
			if ((g->perms & ION_PERM_WRITE) && e->writer >= 0)
				return check_refuse(
					c, w, err, errlen,
					"two writers on channel 0x%04x (%s): "
					"fibers '%s' and '%s' are both granted "
					"\"w\"",
					ch->id, ch->name,
					c->fibers[e->writer].name, f->name);
			if ((g->perms & ION_PERM_READ) &&
			    e->reader == END_NETSWITCH)
				return check_refuse(
					c, w, err, errlen,
					"two readers on channel 0x%04x (%s): "
					"fiber '%s' is granted \"r\" on a ring "
					"the NetSwitch reads (it is in "
					"netswitch.tx)",
					ch->id, ch->name, f->name);
			if ((g->perms & ION_PERM_READ) && e->reader >= 0)
				return check_refuse(
					c, w, err, errlen,
					"two readers on channel 0x%04x (%s): "
					"fibers '%s' and '%s' are both granted "
					"\"r\"",
					ch->id, ch->name,
					c->fibers[e->reader].name, f->name);
			if (g->perms & ION_PERM_WRITE)
				e->writer = (int)i;
			if (g->perms & ION_PERM_READ)
				e->reader = (int)i;
		}
	}
	return 0;
}

int
cfg_check(const struct cfg *c, const bool lcores[CFG_MAX_LCORES], char *err,
	  size_t errlen)
{
	struct ends ends[CFG_MAX_CHANNELS];
	unsigned int i;
	int rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (c->n_channels > CFG_MAX_CHANNELS || c->n_fibers > CFG_MAX_FIBERS ||
	    c->n_routes > NETSWITCH_MAX_ROUTES || c->n_tx > NETSWITCH_MAX_TX) {
		snprintf(err, errlen, "%s:0: more items than struct cfg holds",
			 c->file);
		return -EINVAL;
	}
	rc = check_lcores(c, lcores, err, errlen);
	if (rc == 0)
		rc = check_known(c, err, errlen);
	if (rc == 0)
		rc = check_ends(c, ends, err, errlen);
	if (rc < 0)
		return rc;
	/* a routed ring nobody reads fills up, then drops everything */
	for (i = 0; i < c->n_routes; i++) {
		const struct cfg_route *r = &c->routes[i];
		const struct cfg_channel *ch = cfg_channel(c, r->route.channel);

		if (ends[ch - c->channels].reader < 0)
			return check_refuse(
				c,
				WHERE("netswitch.dispatch", (int)i, NULL, -1,
				      r->line),
				err, errlen,
				"EtherType 0x%04x is routed to channel 0x%04x "
				"(%s), which no fiber is granted \"r\" on: no "
				"reader",
				r->route.ethertype, ch->id, ch->name);
	}
	return 0;
}
