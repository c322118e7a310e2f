/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The daemon's side of external fibers: their claim server (lib/ion,
 * ion_claimd) on the socket of the config's claims group, the rings it
 * hands out, what it tells the fibers, and its refusals in the log, at
 * most REFUSAL_LOGS lines a second so that a flood of bad claims fills
 * the counters (/ion/claims), not the journal.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <rte_cycles.h>
#include <rte_lcore.h>

#include <fiber_external.h>

#include "ionswitchd.h"

#define REFUSAL_LOGS 10

/* The refusals of the current second: logged, and not. */
static struct {
	uint64_t second; /* TSC / hz */
	unsigned int logged;
	uint64_t unlogged;
} refusal_log;

/* mkdir -p of the directory that holds @p path. */
static int
make_parent_dir(const char *path)
{
	char dir[PATH_MAX];
	char *p;

	snprintf(dir, sizeof(dir), "%s", path);
	for (p = dir + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

static struct ion_ring_map *
ring_map(struct ionswitchd *d, uint32_t channel)
{
	unsigned int i;

	for (i = 0; i < d->n_rings; i++)
		if (d->ring_ch[i] == channel)
			return d->maps[i].ring != NULL ? &d->maps[i] : NULL;
	return NULL;
}

void
ionswitchd_external_wakes(const struct ionswitchd *d, struct ion_cspace *cs)
{
	unsigned int i, j;

	for (i = 0; d->claimd != NULL && i < d->n_fibers; i++) {
		const struct fiber *f = &d->fibers[i];
		int k = fiber_external_index(f);

		for (j = 0; k >= 0 && j < ION_CSPACE_SLOTS; j++)
			if (f->cs.caps[j].perms != 0 &&
			    ion_cspace_lookup(cs, f->cs.caps[j].channel) !=
				    NULL)
				ion_cspace_set_wake_fd(
					cs, f->cs.caps[j].channel,
					ion_claimd_wake_fd(d->claimd,
							   (unsigned int)k));
	}
}

/* The lcore of the daemon's end opposite an external grant @p perm on
 * @p ch (the NetSwitch or an in-process fiber), or -1. */
static int
host_end_lcore(const struct ionswitchd *d, uint32_t ch, uint32_t perm)
{
	const struct cfg *c = &d->cfg;
	unsigned int i, j;

	for (i = 0; (perm & ION_PERM_READ) && i < c->n_routes; i++)
		if (c->routes[i].route.channel == ch)
			return (int)c->ns_lcore;
	for (i = 0; (perm & ION_PERM_WRITE) && i < c->n_tx; i++)
		if (c->tx[i].channel == ch)
			return (int)c->ns_lcore;
	for (i = 0; i < c->n_fibers; i++)
		for (j = 0;
		     !c->fibers[i].kind->remote && j < c->fibers[i].n_grants;
		     j++)
			if (c->fibers[i].grants[j].channel == ch &&
			    (c->fibers[i].grants[j].perms &
			     (perm == ION_PERM_READ ? ION_PERM_WRITE
						    : ION_PERM_READ)))
				return (int)c->fibers[i].lcore;
	return -1;
}

/* ---- the claim server's callbacks: the fiber is their argument ---- */

static void
on_claimed(void *arg, uint32_t pid)
{
	fiber_external_claimed(arg, pid);
}

static void
on_ended(void *arg, const struct ion_claimd_end *e)
{
	fiber_external_ended(arg, e->killed, e->fault, e->channel, e->perm,
			     e->skipped, e->why);
}

/* The refusals of a second past that were not logged, in one line. */
static void
refusal_log_flush(uint64_t second)
{
	if (second == refusal_log.second)
		return;
	if (refusal_log.unlogged != 0)
		DLOG(WARNING,
		     "claims: %" PRIu64 " more refusals not logged (the "
		     "claims counters have them)\n",
		     refusal_log.unlogged);
	refusal_log.second = second;
	refusal_log.logged = 0;
	refusal_log.unlogged = 0;
}

static void
on_refused(void *arg, uint32_t uid, uint32_t pid, int err, const char *why)
{
	fiber_external_refused(arg);
	refusal_log_flush(rte_get_timer_cycles() / rte_get_timer_hz());
	if (refusal_log.logged == REFUSAL_LOGS) {
		refusal_log.unlogged++;
		return;
	}
	refusal_log.logged++;
	DLOG(WARNING, "claims: process %u (uid %u) refused, %s: %s\n", pid, uid,
	     strerrorname_np(-err) != NULL ? strerrorname_np(-err) : "?", why);
}

unsigned int
claims_poll(struct ionswitchd *d)
{
	unsigned int i, work = 0;

	for (i = 0; i < d->n_fibers; i++)
		if (fiber_external_kill_requested(&d->fibers[i])) {
			ion_claimd_kill(d->claimd,
					(unsigned int)fiber_external_index(
						&d->fibers[i]),
					"killed by the operator");
			work++;
		}
	refusal_log_flush(rte_get_timer_cycles() / rte_get_timer_hz());
	return work + (unsigned int)ion_claimd_poll(d->claimd);
}

/* Export the external fibers on @p path.  Before any end is opened. */
int
claims_open(struct ionswitchd *d, const char *path)
{
	static const struct ion_claimd_ops ops = {.claimed = on_claimed,
						  .ended = on_ended,
						  .refused = on_refused};
	const struct ion_claimd_conf conf = {
		.path = path,
		.mode = ION_CLAIMD_DEF_MODE,
		.gid = d->cfg.claims_gid,
		.per_uid = d->cfg.claims_per_uid,
		.first_ms = d->cfg.claims_first_ms,
	};
	unsigned int i, j;
	int rc;

	for (i = 0; i < d->cfg.n_fibers && !d->cfg.fibers[i].kind->remote; i++)
		;
	if (i == d->cfg.n_fibers)
		return 0; /* none */
	rc = make_parent_dir(path);
	if (rc == 0)
		rc = ion_claimd_open(&d->claimd, &conf, &ops);
	if (rc < 0) {
		DLOG(ERR, "external fibers' socket %s%s%s: %s\n", path,
		     d->cfg.claims_group[0] ? ", group " : "",
		     d->cfg.claims_group, strerror(-rc));
		return rc;
	}
	for (i = 0; i < d->n_fibers; i++) {
		const struct cfg_fiber *cf = &d->cfg.fibers[i];
		struct ion_claimd_grant g[ION_CSPACE_SLOTS];
		struct fiber *f = &d->fibers[i];
		struct ion_claimd_fiber xf = {.name = f->name,
					      .n_grants = cf->n_grants,
					      .grants = g,
					      .arg = f};
		bool restart;
		int wake;

		if (!fiber_is_external(f)) {
			/* named, so that a claim of it is told why not */
			xf.in_host = 1;
			xf.n_grants = 0;
			xf.arg = NULL;
			rc = ion_claimd_add(d->claimd, &xf);
			if (rc < 0)
				return rc;
			continue;
		}
		fiber_external_manifest(f, &xf.uid, &xf.gid, &restart);
		xf.restart = restart;
		for (j = 0; j < cf->n_grants; j++) {
			int lc = host_end_lcore(d, cf->grants[j].channel,
						cf->grants[j].perms);

			g[j].channel = cf->grants[j].channel;
			g[j].perm = cf->grants[j].perms;
			g[j].map = ring_map(d, g[j].channel);
			wake = lc >= 0 ? fiber_sched_eventfd(&d->sched,
							     (unsigned int)lc)
				       : -1;
			g[j].host_wake_fd = wake >= 0 ? wake : -1;
		}
		rc = ion_claimd_add(d->claimd, &xf);
		if (rc < 0) {
			DLOG(ERR, "external fiber %s: %s\n", f->name,
			     strerror(-rc));
			return rc;
		}
		fiber_external_set_index(f, rc);
		/* the control step kills its process: wake the main lcore */
		wake = fiber_sched_eventfd(&d->sched, rte_get_main_lcore());
		f->efd = wake >= 0 ? wake : -1;
	}
	DLOG(INFO, "external fibers: claim them on %s (mode 0%o, group %s)\n",
	     path, ION_CLAIMD_DEF_MODE,
	     d->cfg.claims_group[0] ? d->cfg.claims_group : "the daemon's");
	return 0;
}
