/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The lcore scheduler (fiber.h): each lcore runs its steps round robin,
 * each to completion, and rests only when a whole round found nothing.
 * After `idle_polls` empty rounds (a short spin: work that is about to
 * arrive costs no system call), it sleeps:
 *  - on doorbells (fiber_sched_use_doorbells()): every step arms its wake
 *    sources, one ion_arm_barrier() covers them all, every step is asked
 *    once more whether work arrived, and only then the lcore blocks in
 *    epoll until a doorbell rings, a watched fd (the port's RX interrupt,
 *    a console socket) is readable, or the nearest step deadline;
 *  - otherwise, or when a step cannot arm (a port without RX interrupt),
 *    it backs off: pause, then sleep 1, 2, 4 ... up to max_sleep_us, so a
 *    wake-up takes at most one sleep.
 */
#include <errno.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

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
	for (i = 0; i < FIBER_MAX_LCORES; i++) {
		s->lcores[i].max_sleep_us = max_sleep_us;
		s->lcores[i].epfd = s->lcores[i].efd = -1;
	}
}

void
fiber_sched_spin(struct fiber_sched *s, uint32_t us)
{
	s->spin_cycles = rte_get_timer_hz() / 1000000 * us;
}

int
fiber_sched_use_doorbells(struct fiber_sched *s)
{
	s->doorbells = true;
	return 0;
}

/* Lcore @p lc's epoll set and doorbell, made on first use. */
static int
lcore_fds(struct fiber_lcore *lc)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLET};

	if (lc->epfd >= 0)
		return 0;
	lc->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (lc->epfd < 0)
		return -errno;
	lc->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	/* edge-triggered: a ring's producer writes it once per arming, and
	 * nothing need read it back */
	ev.data.fd = lc->efd;
	if (lc->efd < 0 ||
	    epoll_ctl(lc->epfd, EPOLL_CTL_ADD, lc->efd, &ev) < 0) {
		int rc = -errno;

		close(lc->epfd);
		if (lc->efd >= 0)
			close(lc->efd);
		lc->epfd = lc->efd = -1;
		return rc;
	}
	return 0;
}

int
fiber_sched_eventfd(struct fiber_sched *s, unsigned int lcore)
{
	int rc;

	if (lcore >= FIBER_MAX_LCORES)
		return -EINVAL;
	if (!s->doorbells)
		return -ENOTSUP; /* its lcores back off: nothing wakes them */
	rc = lcore_fds(&s->lcores[lcore]);
	return rc < 0 ? rc : s->lcores[lcore].efd;
}

int
fiber_sched_watch(struct fiber_sched *s, unsigned int lcore, int fd, bool edge)
{
	struct epoll_event ev = {.events = EPOLLIN | (edge ? EPOLLET : 0)};
	int rc;

	if (lcore >= FIBER_MAX_LCORES)
		return -EINVAL;
	if (!s->doorbells)
		return 0; /* its lcores poll the fd's owner anyway */
	rc = lcore_fds(&s->lcores[lcore]);
	if (rc < 0)
		return rc;
	ev.data.fd = fd;
	if (epoll_ctl(s->lcores[lcore].epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	return 0;
}

void
fiber_sched_unwatch(struct fiber_sched *s, unsigned int lcore, int fd)
{
	if (lcore < FIBER_MAX_LCORES && s->lcores[lcore].epfd >= 0)
		epoll_ctl(s->lcores[lcore].epfd, EPOLL_CTL_DEL, fd, NULL);
}

void
fiber_sched_fini(struct fiber_sched *s)
{
	unsigned int i;

	for (i = 0; i < FIBER_MAX_LCORES; i++) {
		struct fiber_lcore *lc = &s->lcores[i];

		if (lc->epfd >= 0)
			close(lc->epfd);
		if (lc->efd >= 0)
			close(lc->efd);
		lc->epfd = lc->efd = -1;
	}
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

static int
fiber_step_arm(void *arg)
{
	return fiber_arm(arg);
}

static bool
fiber_step_ready(void *arg)
{
	return fiber_ready(arg);
}

static void
fiber_step_disarm(void *arg)
{
	fiber_disarm(arg);
}

static uint64_t
fiber_step_deadline(void *arg)
{
	struct fiber *f = arg;

	/* a killed or drained fiber's timers never run again */
	if (fiber_state_get(f) != FIBER_READY)
		return UINT64_MAX;
	return f->kind->deadline(f);
}

int
fiber_sched_add_fiber(struct fiber_sched *s, struct fiber *f)
{
	struct fiber_step st = {
		.name = f->name,
		.run = fiber_step_run,
		.arg = f,
		.arm = fiber_step_arm,
		.ready = fiber_step_ready,
		.disarm = fiber_step_disarm,
		.deadline =
			f->kind->deadline != NULL ? fiber_step_deadline : NULL,
	};
	int rc;

	if (s->n_fibers == FIBER_SCHED_MAX)
		return -ENOSPC;
	if (s->doorbells) {
		rc = fiber_sched_eventfd(s, f->lcore);
		if (rc < 0)
			return rc;
		f->efd = rc;
	}
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
	uint32_t sleep_us; /* the next back-off sleep */
};

/* Back off: pause, then sleep longer and longer. */
static void
back_off(const struct fiber_sched *s, struct fiber_lcore *lc, struct idle *id)
{
	if (id->empty <= 2 * s->idle_polls || lc->max_sleep_us == 0) {
		rte_pause();
		return;
	}
	rte_delay_us_sleep(id->sleep_us);
	LC_ADD(lc, sleeps, 1);
	if (id->sleep_us < lc->max_sleep_us)
		id->sleep_us = RTE_MIN(id->sleep_us * 2, lc->max_sleep_us);
}

static bool
has_deadline(const struct fiber_lcore *lc)
{
	unsigned int i;

	for (i = 0; i < lc->n_steps; i++)
		if (lc->steps[i].deadline != NULL)
			return true;
	return false;
}

/* Milliseconds to the nearest step deadline (at most a second), or 1000. */
static int
timeout_ms(const struct fiber_lcore *lc)
{
	uint64_t now = rte_get_timer_cycles(), hz = rte_get_timer_hz();
	uint64_t dl = UINT64_MAX;
	unsigned int i;

	for (i = 0; i < lc->n_steps; i++)
		if (lc->steps[i].deadline != NULL)
			dl = RTE_MIN(dl,
				     lc->steps[i].deadline(lc->steps[i].arg));
	if (dl <= now)
		return 0;
	/* a missed wake-up would cost a second, not a hang */
	if (dl - now >= hz)
		return 1000;
	return (int)(((dl - now) * 1000 + hz - 1) / hz);
}

/*
 * Sleep on doorbells: arm every step, one barrier, look again, block.
 * @return false when a step cannot arm (the lcore backs off instead).
 */
static bool
doorbell_sleep(struct fiber_lcore *lc, unsigned int lcore)
{
	struct epoll_event ev[8];
	unsigned int i, armed;
	bool ready = false;

	for (armed = 0; armed < lc->n_steps; armed++) {
		const struct fiber_step *st = &lc->steps[armed];

		if (st->arm == NULL || st->arm(st->arg) < 0)
			break;
	}
	if (armed == lc->n_steps) {
		/* the heavy barrier: a producer that published before our
		 * flags were armed is seen by the look again below */
		ion_arm_barrier();
		for (i = 0; i < lc->n_steps && !ready; i++)
			ready = lc->steps[i].ready != NULL &&
				lc->steps[i].ready(lc->steps[i].arg);
		if (!ready) {
			int n = epoll_wait(lc->epfd, ev, RTE_DIM(ev),
					   timeout_ms(lc));

			LC_ADD(lc, sleeps, 1);
			lc->timed_out = n == 0;
			if (n == 0)
				LC_ADD(lc, timeouts, 1);
			else
				LC_ADD(lc, wakeups, 1);
		}
	} else if (!lc->polls) {
		lc->polls = true;
		FIBER_LOG(NOTICE,
			  "lcore %u: step %s has no wake-up to sleep on; the "
			  "lcore backs off instead\n",
			  lcore, lc->steps[armed].name);
	}
	for (i = 0; i < armed; i++)
		if (lc->steps[i].disarm != NULL)
			lc->steps[i].disarm(lc->steps[i].arg);
	return armed == lc->n_steps;
}

/* Account the round that started at @p t0; rest when idle. */
static void
idle_after(const struct fiber_sched *s, struct fiber_lcore *lc,
	   unsigned int lcore, struct idle *id, unsigned int work, uint64_t t0)
{
	uint64_t t1 = rte_rdtsc();

	LC_ADD(lc, loops, 1);
	/* work right after a sleep that nothing ended but its deadline: from a
	 * step with a deadline (a timer), or a wake-up that never came */
	if (lc->timed_out) {
		lc->timed_out = false;
		if (work != 0 && !has_deadline(lc))
			LC_ADD(lc, late, 1);
	}
	if (work != 0) {
		LC_ADD(lc, busy_cycles, t1 - t0);
		lc->last_work = t1;
		id->empty = 0;
		id->sleep_us = 1;
		return;
	}
	if (++id->empty <= s->idle_polls ||
	    t1 - lc->last_work < s->spin_cycles) {
		LC_ADD(lc, idle_cycles, t1 - t0);
		return;
	}
	if (!s->doorbells || lc->epfd < 0 || !doorbell_sleep(lc, lcore))
		back_off(s, lc, id);
	else
		id->empty = 0;
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
		idle_after(s, lc, lcore, &id, work, t0);
	}
	/* release: pairs with fiber_sched_joined(), the lcore's last word */
	__atomic_store_n(&lc->returned, 1, __ATOMIC_RELEASE);
	return 0;
}

unsigned int
fiber_sched_joined(struct fiber_sched *s)
{
	unsigned int l, missing = 0;

	for (l = 0; l < FIBER_MAX_LCORES; l++)
		/* acquire: the lcore's writes before it returned */
		if (s->lcores[l].n_steps > 0 &&
		    !__atomic_load_n(&s->lcores[l].returned, __ATOMIC_ACQUIRE))
			missing++;
	return missing;
}

static const struct ctr_desc lcore_ctrs[] = {
	CTR(struct fiber_lcore_stats, busy_cycles,
	    "TSC cycles of rounds in which a step worked"),
	CTR(struct fiber_lcore_stats, idle_cycles,
	    "TSC cycles of empty rounds, back-off included"),
	CTR(struct fiber_lcore_stats, sleeps, "sleeps: back-off or epoll"),
	CTR(struct fiber_lcore_stats, loops, "rounds over its steps"),
	CTR(struct fiber_lcore_stats, wakeups,
	    "epoll sleeps ended by a doorbell or a watched fd"),
	CTR(struct fiber_lcore_stats, timeouts,
	    "epoll sleeps ended by the nearest deadline (at most 1 s)"),
	CTR(struct fiber_lcore_stats, late,
	    "timeouts followed by work on an lcore with no timer: a wake-up "
	    "that did not come"),
};

const struct ctr_set fiber_lcore_ctr_set =
	CTR_SET("lcore", lcore_ctrs, "lcore");
