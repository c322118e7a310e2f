/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The lcore scheduler (fiber.h): each lcore runs its steps round robin,
 * each to completion, and backs off only when a whole round found nothing:
 * after `idle_polls` empty rounds it pauses the CPU, then sleeps 1, 2, 4
 * ... up to its max_sleep_us, so a wake-up takes at most one sleep and
 * idle lcores leave the CPU to whoever shares it.
 */
#include <errno.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_pause.h>

#include "fiber_impl.h"

/* relaxed: own counter, a stats reader needs only no tearing */
#define LC_ADD(lc, field, n)                                                   \
	__atomic_store_n(&(lc)->st.field, (lc)->st.field + (n),                \
			 __ATOMIC_RELAXED)

void
fiber_sched_init(struct fiber_sched *s, uint32_t idle_polls,
		 uint32_t max_sleep_us)
{
	unsigned int i;

	memset(s, 0, sizeof(*s));
	s->run = FIBER_RUN_STARTING;
	s->idle_polls = idle_polls;
	for (i = 0; i < FIBER_MAX_LCORES; i++)
		s->lcores[i].max_sleep_us = max_sleep_us;
}

int
fiber_sched_add(struct fiber_sched *s, unsigned int lcore,
		const struct fiber_step *st)
{
	struct fiber_lcore *lc;

	if (lcore >= FIBER_MAX_LCORES || st == NULL || st->run == NULL)
		return -EINVAL;
	lc = &s->lcores[lcore];
	if (lc->n_steps == FIBER_LCORE_STEPS)
		return -ENOSPC;
	lc->steps[lc->n_steps++] = *st;
	return 0;
}

static unsigned int
fiber_step_run(void *arg)
{
	return fiber_run(arg);
}

int
fiber_sched_add_fiber(struct fiber_sched *s, struct fiber *f)
{
	struct fiber_step st = {
		.name = f->name,
		.run = fiber_step_run,
		.arg = f,
	};
	int rc;

	if (s->n_fibers == FIBER_SCHED_MAX)
		return -ENOSPC;
	rc = fiber_sched_add(s, f->lcore, &st);
	if (rc < 0)
		return rc;
	f->sched = s;
	s->fibers[s->n_fibers++] = f;
	return 0;
}

void
fiber_sched_inputs_closed(struct fiber_sched *s)
{
	/* release: every message put in a ring precedes the fibers' last look
	 */
	__atomic_store_n(&s->inputs_closed, 1, __ATOMIC_RELEASE);
}

bool
fiber_sched_fibers_done(const struct fiber_sched *s)
{
	unsigned int i;

	for (i = 0; i < s->n_fibers; i++)
		if (fiber_state_get(s->fibers[i]) == FIBER_READY)
			return false;
	return true;
}

struct idle {
	uint32_t empty;	   /* consecutive rounds without work */
	uint32_t sleep_us; /* the next sleep */
};

/* Account the round that started at @p t0; back off when idle. */
static void
idle_after(const struct fiber_sched *s, struct fiber_lcore *lc,
	   struct idle *id, unsigned int work, uint64_t t0)
{
	uint64_t t1 = rte_rdtsc();

	LC_ADD(lc, loops, 1);
	if (work != 0) {
		LC_ADD(lc, busy_cycles, t1 - t0);
		id->empty = 0;
		id->sleep_us = 1;
		return;
	}
	if (++id->empty <= s->idle_polls) {
		LC_ADD(lc, idle_cycles, t1 - t0);
		return;
	}
	if (id->empty <= 2 * s->idle_polls || lc->max_sleep_us == 0) {
		rte_pause();
	} else {
		rte_delay_us_sleep(id->sleep_us);
		LC_ADD(lc, sleeps, 1);
		if (id->sleep_us < lc->max_sleep_us)
			id->sleep_us = RTE_MIN(id->sleep_us * 2,
					       lc->max_sleep_us);
	}
	LC_ADD(lc, idle_cycles, rte_rdtsc() - t0);
}

int
fiber_sched_lcore(struct fiber_sched *s, unsigned int lcore)
{
	struct fiber_lcore *lc;
	struct idle id = {.empty = 0, .sleep_us = 1};

	if (lcore >= FIBER_MAX_LCORES)
		return -EINVAL;
	lc = &s->lcores[lcore];
	/* acquire: the wiring done before RUNNING is visible */
	while (fiber_sched_state(s) == FIBER_RUN_STARTING)
		rte_pause();
	while (fiber_sched_state(s) != FIBER_RUN_STOPPED) {
		uint64_t t0 = rte_rdtsc();
		unsigned int i, work = 0;

		for (i = 0; i < lc->n_steps; i++)
			work += lc->steps[i].run(lc->steps[i].arg);
		idle_after(s, lc, &id, work, t0);
	}
	return 0;
}

static const struct ctr_desc lcore_ctrs[] = {
	CTR(struct fiber_lcore_stats, busy_cycles,
	    "TSC cycles of rounds in which a step worked"),
	CTR(struct fiber_lcore_stats, idle_cycles,
	    "TSC cycles of empty rounds, back-off included"),
	CTR(struct fiber_lcore_stats, sleeps, "back-off sleeps"),
	CTR(struct fiber_lcore_stats, loops, "rounds over its steps"),
};

const struct ctr_set fiber_lcore_ctr_set =
	CTR_SET("lcore", lcore_ctrs, "lcore");
