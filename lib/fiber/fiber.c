/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What every fiber has, whatever its kind (fiber.h): its ends opened on
 * first touch through its CSpace, the step wrapper that turns a fault
 * into KILLED, and its common counters.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fiber_impl.h"

RTE_LOG_REGISTER_SUFFIX(fiber_logtype, fiber, INFO);

int
fiber_end_add(struct fiber *f, uint32_t channel, uint32_t perm)
{
	struct fiber_end *e;

	if (f->n_ends == FIBER_MAX_ENDS)
		return -ENOSPC;
	e = &f->ends[f->n_ends];
	memset(e, 0, sizeof(*e));
	e->channel = channel;
	e->perm = perm;
	return (int)f->n_ends++;
}

/* The one place an end is opened: the CSpace decides. */
int
fiber_end_open(struct fiber *f, unsigned int i)
{
	struct fiber_end *e = &f->ends[i];
	int rc;

	if (i >= f->n_ends)
		return -EINVAL;
	if (e->perm == ION_PERM_WRITE)
		rc = ion_cspace_open_prod(&f->cs, e->channel, &e->prod);
	else
		rc = ion_cspace_open_cons(&f->cs, e->channel, &e->cons);
	if (rc < 0)
		return rc;
	e->open = true;
	/* its lcore sleeps on this end's doorbell: its eventfd */
	if (f->efd >= 0)
		rc = e->perm == ION_PERM_WRITE
			     ? ion_prod_set_eventfd(&e->prod, f->efd)
			     : ion_cons_set_eventfd(&e->cons, f->efd);
	return rc;
}

int
fiber_init(struct fiber *f, const struct fiber_conf *c,
	   const struct fiber_env *env)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", c->name);
	f->kind = c->kind;
	f->lcore = c->lcore;
	f->burst = c->burst;
	f->efd = -1;
	ion_cspace_init(&f->cs);
	if (!f->kind->remote) {
		fiber_end_add(f, c->rx, ION_PERM_READ);	 /* FIBER_RX */
		fiber_end_add(f, c->tx, ION_PERM_WRITE); /* FIBER_TX */
	}
	f->state = FIBER_READY;
	return f->kind->init != NULL ? f->kind->init(f, c->params, env) : 0;
}

int
fiber_grant(struct fiber *f, struct ion_ring *ring, uint32_t perms)
{
	int rc = ion_cspace_grant(&f->cs, ring, perms);

	return rc < 0 ? rc : 0;
}

/* Why the step's @p rc kills @p f: logged once, and into @p why. */
static void
log_death(struct fiber *f, int rc, char *why, size_t len)
{
	const struct ion_cap *held;

	if (rc != -EACCES) {
		snprintf(why, len, "step failed: %s", strerror(-rc));
		FIBER_LOG(WARNING, "%s KILLED: %s\n", f->name, why);
		return;
	}
	f->fault = f->cs.fault;
	held = ion_cspace_lookup(&f->cs, f->fault.channel);
	snprintf(why, len, "capability fault: 0x%04x needs %s, holds %s",
		 f->fault.channel, ion_perm_str(f->fault.perm),
		 ion_perm_str(held != NULL ? held->perms : 0));
	FIBER_LOG(WARNING,
		  "%s KILLED: capability fault on channel 0x%04x "
		  "(needs %s, holds \"%s\")\n",
		  f->name, f->fault.channel,
		  f->fault.perm == ION_PERM_WRITE ? "WRITE" : "READ",
		  ion_perm_str(held != NULL ? held->perms : 0));
}

unsigned int
fiber_run(struct fiber *f)
{
	int rc;

	if (fiber_state_get(f) != FIBER_READY)
		return 0;
	rc = f->kind->step(f);
	FIBER_STAT_ADD(f, steps, 1);
	if (rc > 0)
		return (unsigned int)rc;
	if (rc < 0) {
		char why[CTR_STR_MAX];

		log_death(f, rc, why, sizeof(why));
		fiber_kill(f, why);
		return 0;
	}
	/* inputs closed and nothing left: what is in its ring is all */
	if (fiber_draining(f) &&
	    /* acquire: pairs with fiber_sched_inputs_closed() */
	    __atomic_load_n(&f->sched->inputs_closed, __ATOMIC_ACQUIRE) &&
	    fiber_backlog(f) == 0) {
		if (f->kind->done != NULL)
			f->kind->done(f);
		/* release: its last writes precede DONE */
		__atomic_store_n(&f->state, FIBER_DONE, __ATOMIC_RELEASE);
	}
	return 0;
}

void
fiber_set_killed(struct fiber *f, const char *why)
{
	snprintf(f->why, sizeof(f->why), "%s", why);
	/* release: the fault record and why are visible with the state */
	__atomic_store_n(&f->state, FIBER_KILLED, __ATOMIC_RELEASE);
}

void
fiber_kill(struct fiber *f, const char *why)
{
	fiber_set_killed(f, why);
	if (f->kind->kill != NULL)
		f->kind->kill(f);
}

void
fiber_fini(struct fiber *f)
{
	unsigned int i;

	if (f->kind != NULL && f->kind->fini != NULL)
		f->kind->fini(f);
	for (i = 0; i < f->n_ends; i++) {
		struct fiber_end *e = &f->ends[i];

		if (!e->open)
			continue;
		if (e->perm == ION_PERM_WRITE)
			ion_prod_close(&e->prod);
		else
			ion_cons_close(&e->cons);
		e->open = false;
	}
}

/* ---- sleeping: what wakes a fiber's lcore ---- */

/* The tx ring a full back-pressure end waits on, or NULL. */
static struct ion_prod *
tx_blocked(struct fiber *f)
{
	struct fiber_end *e = &f->ends[FIBER_TX];

	if (f->kind->tx_drops || !e->open || ion_prod_room(&e->prod) != 0)
		return NULL;
	return &e->prod;
}

void
fiber_disarm(struct fiber *f)
{
	unsigned int i;

	for (i = 0; i < f->n_ends; i++)
		if (f->ends[i].open && f->ends[i].perm == ION_PERM_READ)
			ion_cons_disarm(&f->ends[i].cons);
	if (f->tx_armed)
		ion_prod_disarm(&f->ends[FIBER_TX].prod);
	f->tx_armed = false;
	if (f->kind->disarm != NULL)
		f->kind->disarm(f);
}

int
fiber_arm(struct fiber *f)
{
	struct ion_prod *tx;
	unsigned int i;
	int rc = 0;

	/* a killed or drained fiber never wakes its lcore */
	if (fiber_state_get(f) != FIBER_READY)
		return 0;
	for (i = 0; i < f->n_ends && rc == 0; i++)
		if (f->ends[i].open && f->ends[i].perm == ION_PERM_READ)
			rc = ion_cons_arm(&f->ends[i].cons);
	tx = tx_blocked(f);
	if (rc == 0 && tx != NULL) {
		rc = ion_prod_arm(tx, 1);
		f->tx_armed = rc == 0;
	}
	if (rc == 0 && f->kind->arm != NULL)
		rc = f->kind->arm(f);
	if (rc < 0)
		fiber_disarm(f);
	return rc;
}

bool
fiber_ready(struct fiber *f)
{
	unsigned int i;

	if (fiber_state_get(f) != FIBER_READY)
		return false;
	if (f->kind->ready != NULL && f->kind->ready(f))
		return true;
	/* input it cannot pass on is no work: tx's room wakes it */
	if (tx_blocked(f) != NULL)
		return false;
	for (i = 0; i < f->n_ends; i++)
		if (f->ends[i].open && f->ends[i].perm == ION_PERM_READ &&
		    ion_cons_ready(&f->ends[i].cons) != 0)
			return true;
	return false;
}

uint32_t
fiber_backlog(const struct fiber *f)
{
	const struct ion_cap *cap =
		ion_cspace_lookup(&f->cs, f->ends[FIBER_RX].channel);
	struct ion_ring_stats st;

	if (cap == NULL)
		return 0;
	ion_ring_stats(cap->ring, &st);
	return st.used;
}

bool
fiber_draining(const struct fiber *f)
{
	return f->sched != NULL &&
	       fiber_sched_state(f->sched) >= FIBER_RUN_DRAINING;
}

const char *
fiber_state_str(enum fiber_state s)
{
	static const char *const names[] = {
		[FIBER_READY] = "RUNNING",
		[FIBER_KILLED] = "KILLED",
		[FIBER_DONE] = "DONE",
		[FIBER_WAITING] = "WAITING",
	};

	return (unsigned int)s < RTE_DIM(names) ? names[s] : "?";
}

static const struct ctr_desc fiber_ctrs[] = {
	CTR(struct fiber_stats, frames, "messages taken from its rx ring"),
	CTR(struct fiber_stats, sent, "messages written to its tx ring"),
	CTR(struct fiber_stats, steps, "times its lcore ran it"),
};

const struct ctr_set fiber_ctr_set = CTR_SET("fiber", fiber_ctrs, "fiber");

void
fiber_kind_stats(const struct fiber *f, void *out)
{
	const struct fiber_kind *k = f->kind;

	if (k->stats != NULL)
		k->stats(f, out);
	else if (f->priv != NULL)
		ctr_copy(out, (const char *)f->priv + k->stats_offset,
			 k->stats_size);
	else
		memset(out, 0, k->stats_size);
}

void
fiber_ctr_row(const struct fiber *f, struct ctr_row *r,
	      struct fiber_stats *snap, void *kind_snap)
{
	enum fiber_state s = fiber_state_get(f);
	bool faulted = s == FIBER_KILLED && f->fault.count != 0;

	memset(r, 0, sizeof(*r));
	ctr_row_str(r, "name", f->name, true);
	ctr_row_str(r, "kind", f->kind->name, true);
	if (!f->kind->remote)
		ctr_row_num(r, "lcore", f->lcore, false, false);
	ctr_row_str(r, "state", fiber_state_str(s), false);
	if (faulted) {
		ctr_row_num(r, "fault_channel", f->fault.channel, true, false);
		ctr_row_str(r, "fault_needs", ion_perm_str(f->fault.perm),
			    false);
	}
	if (s == FIBER_KILLED)
		ctr_row_str(r, "why", f->why, false);
	ctr_copy(snap, &f->st, sizeof(*snap));
	r->set = &fiber_ctr_set;
	r->base = snap;
	if (f->kind->counters == NULL)
		return;
	fiber_kind_stats(f, kind_snap);
	r->sub = f->kind->counters;
	r->sub_base = kind_snap;
}
