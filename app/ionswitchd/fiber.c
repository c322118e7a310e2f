/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The fiber kinds of this release and the fault handling around them.
 *   rxonly:  like testpmd's rxonly, reads and counts frames.
 *   reflect: like testpmd's macswap, sends each frame back with the MAC
 *            addresses swapped.  When its tx ring is full it leaves the
 *            rest in its rx ring: back-pressure, not loss.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_ether.h>
#include <rte_log.h>

#include "fiber.h"
#include "fiber_kinds.h"

RTE_LOG_REGISTER_SUFFIX(fiber_logtype, fiber, INFO);
#define FIBER_LOG(level, ...)                                                  \
	rte_log(RTE_LOG_##level, fiber_logtype, "fiber: " __VA_ARGS__)

#define STAT_ADD(f, field, n)                                                  \
	/* relaxed: own counter, a stats reader needs only no tearing */       \
	__atomic_store_n(&(f)->st.field, (f)->st.field + (n), __ATOMIC_RELAXED)

static int
step_rxonly(struct fiber *f)
{
	struct ion_cons *rx = fiber_rx_end(f);
	uint32_t n;

	if (rx == NULL)
		return -EACCES;
	n = ion_cons_peek(rx, f->burst);
	if (n == 0)
		return 0;
	ion_cons_release(rx, n);
	STAT_ADD(f, frames, n);
	return (int)n;
}

static int
step_reflect(struct fiber *f)
{
	struct ion_cons *rx = fiber_rx_end(f);
	struct ion_prod *tx;
	uint32_t i, n;

	if (rx == NULL)
		return -EACCES;
	n = ion_cons_peek(rx, f->burst);
	if (n == 0)
		return 0;
	tx = fiber_tx_end(f);
	if (tx == NULL)
		return -EACCES;
	n = ion_prod_reserve(tx, n);
	for (i = 0; i < n; i++)
		fiber_reflect_slot(tx, i, ion_cons_data(rx, i),
				   ion_cons_slot(rx, i));
	ion_prod_commit(tx, n);
	ion_cons_release(rx, n);
	STAT_ADD(f, frames, n);
	STAT_ADD(f, sent, n);
	return (int)n;
}

int
fiber_init(struct fiber *f, const struct cfg_fiber *fc,
	   struct ion_ring *(*ring_of)(void *arg, uint32_t channel), void *arg,
	   uint16_t burst)
{
	unsigned int i;
	int rc;

	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", fc->name);
	f->kind = fc->kind;
	f->lcore = fc->lcore;
	f->rx_ch = fc->rx;
	f->tx_ch = fc->tx;
	f->burst = burst;
	f->app_ch = fc->app;
	f->reflect = fc->reflect;
	switch (fc->kind) {
	case CFG_FIBER_REFLECT:
		f->step = step_reflect;
		break;
	case CFG_FIBER_LWF:
		f->step = fiber_lwf_step;
		rc = fiber_lwf_init(f);
		if (rc < 0)
			return rc;
		break;
	case CFG_FIBER_UTCP:
		f->step = fiber_utcp_step;
		f->n_binds = fc->n_binds;
		for (i = 0; i < fc->n_binds; i++) {
			f->binds[i].port = fc->binds[i].port;
			f->binds[i].channel = fc->binds[i].channel;
		}
		break;
	case CFG_FIBER_CONSOLE:
		f->step = fiber_console_step;
		break;
	case CFG_FIBER_MEMBRANE:
		f->step = fiber_membrane_step;
		break;
	case CFG_FIBER_VFS:
		f->step = fiber_vfs_step;
		rc = fiber_vfs_init(f, fc);
		if (rc < 0)
			return rc;
		break;
	case CFG_FIBER_RXONLY:
		f->step = step_rxonly;
		break;
	}
	ion_cspace_init(&f->cs);
	for (i = 0; i < fc->n_grants; i++) {
		struct ion_ring *r = ring_of(arg, fc->grants[i].channel);

		if (r == NULL)
			return -ENOENT;
		rc = ion_cspace_grant(&f->cs, r, fc->grants[i].perms);
		if (rc < 0)
			return rc;
	}
	f->state = FIBER_READY;
	return 0;
}

int
fiber_run(struct fiber *f)
{
	int rc;

	if (fiber_state_get(f) != FIBER_READY)
		return 0;
	rc = f->step(f);
	STAT_ADD(f, steps, 1);
	if (rc >= 0)
		return rc;
	if (rc == -EACCES) {
		const struct ion_cap *held;

		f->fault = f->cs.fault;
		held = ion_cspace_lookup(&f->cs, f->fault.channel);
		FIBER_LOG(ERR,
			  "%s KILLED: capability fault on channel 0x%04x "
			  "(needs %s, holds \"%s\")\n",
			  f->name, f->fault.channel,
			  f->fault.perm == ION_PERM_WRITE ? "WRITE" : "READ",
			  ion_perm_str(held != NULL ? held->perms : 0));
	} else {
		FIBER_LOG(ERR, "%s KILLED: step failed: %s\n", f->name,
			  strerror(-rc));
	}
	fiber_kill(f);
	return 0;
}

void
fiber_kill(struct fiber *f)
{
	/* release: the fault record above is visible with the state */
	__atomic_store_n(&f->state, FIBER_KILLED, __ATOMIC_RELEASE);
	if (f->kind == CFG_FIBER_MEMBRANE)
		fiber_membrane_kill(f);
}

void
fiber_fini(struct fiber *f)
{
	if (f->rx_open)
		ion_cons_close(&f->rx);
	if (f->tx_open)
		ion_prod_close(&f->tx);
	f->rx_open = f->tx_open = false;
	fiber_lwf_fini(f);
	fiber_utcp_fini(f);
	fiber_console_fini(f);
	fiber_membrane_fini(f);
	fiber_vfs_fini(f);
}

uint32_t
fiber_backlog(const struct fiber *f)
{
	struct ion_ring_stats st;
	const struct ion_cap *cap = ion_cspace_lookup(&f->cs, f->rx_ch);

	if (cap == NULL)
		return 0;
	ion_ring_stats(cap->ring, &st);
	return st.used;
}

const char *
fiber_state_str(enum fiber_state s)
{
	switch (s) {
	case FIBER_READY:
		return "RUNNING";
	case FIBER_KILLED:
		return "KILLED";
	case FIBER_DONE:
		return "DONE";
	}
	return "?";
}

const char *
fiber_kind_str(enum cfg_fiber_kind k)
{
	switch (k) {
	case CFG_FIBER_REFLECT:
		return "reflect";
	case CFG_FIBER_LWF:
		return "lwf";
	case CFG_FIBER_UTCP:
		return "utcp";
	case CFG_FIBER_MEMBRANE:
		return "membrane";
	case CFG_FIBER_VFS:
		return "vfs";
	case CFG_FIBER_CONSOLE:
		return "console";
	case CFG_FIBER_RXONLY:
		break;
	}
	return "rxonly";
}

void
fiber_stats_get(const struct fiber *f, struct fiber_stats *st)
{
	unsigned int i;

	/* relaxed: statistics only */
	st->frames = __atomic_load_n(&f->st.frames, __ATOMIC_RELAXED);
	st->sent = __atomic_load_n(&f->st.sent, __ATOMIC_RELAXED);
	st->steps = __atomic_load_n(&f->st.steps, __ATOMIC_RELAXED);
	for (i = 0; i <= LWF_N_REASONS; i++)
		st->lwf[i] = __atomic_load_n(&f->st.lwf[i], __ATOMIC_RELAXED);
	for (i = 0; i <= UTCP_N_REASONS; i++)
		st->utcp[i] = __atomic_load_n(&f->st.utcp[i], __ATOMIC_RELAXED);
	st->unbound = __atomic_load_n(&f->st.unbound, __ATOMIC_RELAXED);
	st->app = __atomic_load_n(&f->st.app, __ATOMIC_RELAXED);
	st->app_full = __atomic_load_n(&f->st.app_full, __ATOMIC_RELAXED);
}
