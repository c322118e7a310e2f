/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The loops of the NetSwitch lcore and of the worker lcores, and the idle
 * back-off they share: after `idle.polls` empty polls an lcore pauses, then
 * sleeps for 1, 2, 4 ... up to `idle.sleep_us` microseconds, so a wake-up
 * takes at most one sleep and idle lcores leave the CPU to others.
 */
#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_pause.h>

#include "ionswitchd.h"

struct idle {
	uint32_t empty;	   /* consecutive polls without work */
	uint32_t polls;	   /* ... before backing off */
	uint32_t sleep_us; /* next sleep */
	uint32_t max_us;
};

#define STAT_ADD(lc, field, n)                                                 \
	/* relaxed: own counter, a stats reader needs only no tearing */       \
	__atomic_store_n(&(lc)->st.field, (lc)->st.field + (n),                \
			 __ATOMIC_RELAXED)

static void
idle_init(struct idle *id, const struct cfg *c)
{
	id->empty = 0;
	id->polls = c->idle_polls;
	id->sleep_us = 1;
	id->max_us = c->idle_sleep_us;
}

/* Account the loop that started at @p t0 and back off when idle. */
static void
idle_after(struct idle *id, struct lcore_ctx *lc, uint32_t work, uint64_t t0)
{
	uint64_t t1 = rte_rdtsc();

	STAT_ADD(lc, loops, 1);
	if (work != 0) {
		STAT_ADD(lc, busy_cycles, t1 - t0);
		id->empty = 0;
		id->sleep_us = 1;
		return;
	}
	if (++id->empty <= id->polls) {
		STAT_ADD(lc, idle_cycles, t1 - t0);
		return;
	}
	if (id->empty <= 2 * id->polls || id->max_us == 0) {
		rte_pause();
	} else {
		rte_delay_us_sleep(id->sleep_us);
		STAT_ADD(lc, sleeps, 1);
		if (id->sleep_us < id->max_us)
			id->sleep_us = RTE_MIN(id->sleep_us * 2, id->max_us);
	}
	STAT_ADD(lc, idle_cycles, rte_rdtsc() - t0);
}

static void
mark_done(struct lcore_ctx *lc)
{
	/* release: everything this lcore wrote precedes "done" */
	__atomic_store_n(&lc->done, 1, __ATOMIC_RELEASE);
}

static int
netswitch_loop(struct ionswitchd *d, struct lcore_ctx *lc)
{
	struct idle id;
	enum run_state st;
	bool rx_off = false;

	idle_init(&id, &d->cfg);
	while ((st = run_state_get(d)) < RUN_STOPPED) {
		uint64_t t0 = rte_rdtsc();
		uint32_t work = 0;

		if (st <= RUN_RUNNING)
			work += netswitch_rx(d->ns);
		else if (!rx_off) {
			rx_off = true;
			/* release: every RX commit precedes the fibers' final
			 * look at their rings */
			__atomic_store_n(&d->rx_stopped, 1, __ATOMIC_RELEASE);
		}
		work += netswitch_tx(d->ns);
		if (st == RUN_STOPPING && work == 0 &&
		    netswitch_tx_pending(d->ns) == 0)
			break; /* fibers are done: TX rings stay empty */
		idle_after(&id, lc, work, t0);
	}
	mark_done(lc);
	return 0;
}

/* True when no running fiber of @p lc has frames left in its rx ring. */
static bool
drained(const struct lcore_ctx *lc)
{
	unsigned int i;

	for (i = 0; i < lc->n_fibers; i++)
		if (fiber_state_get(lc->fibers[i]) == FIBER_READY &&
		    fiber_backlog(lc->fibers[i]) != 0)
			return false;
	return true;
}

static int
worker_loop(struct ionswitchd *d, struct lcore_ctx *lc)
{
	struct idle id;
	enum run_state st;
	unsigned int i;

	idle_init(&id, &d->cfg);
	while ((st = run_state_get(d)) < RUN_STOPPING) {
		uint64_t t0 = rte_rdtsc();
		uint32_t work = 0;

		for (i = 0; i < lc->n_fibers; i++)
			work += (uint32_t)fiber_run(lc->fibers[i]);
		/* once the NetSwitch says RX is off, empty rings stay empty;
		 * acquire: pairs with its release of rx_stopped */
		if (st == RUN_DRAINING && work == 0 &&
		    __atomic_load_n(&d->rx_stopped, __ATOMIC_ACQUIRE) &&
		    drained(lc))
			break;
		idle_after(&id, lc, work, t0);
	}
	for (i = 0; i < lc->n_fibers; i++)
		if (fiber_state_get(lc->fibers[i]) == FIBER_READY)
			__atomic_store_n(&lc->fibers[i]->state, FIBER_DONE,
					 __ATOMIC_RELEASE);
	mark_done(lc);
	return 0;
}

int
lcore_main(void *arg)
{
	struct ionswitchd *d = arg;
	struct lcore_ctx *lc = &d->lcores[rte_lcore_id()];

	/* acquire: the wiring done before RUNNING is visible */
	while (run_state_get(d) == RUN_STARTING)
		rte_pause();
	switch (lc->role) {
	case ROLE_NETSWITCH:
		return netswitch_loop(d, lc);
	case ROLE_WORKER:
		return worker_loop(d, lc);
	default:
		mark_done(lc);
		return 0;
	}
}
