/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The lcore scheduler (lib/fiber/fiber_sched.c) on this thread: steps run
 * until the run state is STOPPED; an idle lcore sleeps and a doorbell
 * wakes it; a step's deadline wakes it when nothing else does; a fiber
 * whose step fails is KILLED while the lcore's other steps run on.  EAL
 * starts in memory, without huge pages or devices (its TSC rate), so no
 * root is needed.  No timing thresholds: the lcore's counters say how it
 * woke.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_eal.h>

#include <fiber.h>

#include "../ion/cunit_main.h"

static struct fiber_sched sched;

struct counter {
	unsigned int runs, limit;
};

/* Works each round; stops the run after @p limit rounds. */
static unsigned int
count_run(void *arg)
{
	struct counter *c = arg;

	if (++c->runs == c->limit)
		fiber_sched_set(&sched, FIBER_RUN_STOPPED);
	return 1;
}

static void
test_runs_until_stopped(void)
{
	struct counter c = {.limit = 1000};
	const struct fiber_step st = {
		.name = "count", .run = count_run, .arg = &c};

	fiber_sched_init(&sched, 4, 100);
	CU_ASSERT_EQUAL(fiber_sched_add(&sched, 0, &st), 0);
	/* without doorbells its lcores back off: nothing to wake, or watch */
	CU_ASSERT_EQUAL(fiber_sched_eventfd(&sched, 0), -ENOTSUP);
	CU_ASSERT_EQUAL(fiber_sched_watch(&sched, 0, 0, false), 0);
	fiber_sched_set(&sched, FIBER_RUN_RUNNING);
	CU_ASSERT_EQUAL(fiber_sched_lcore(&sched, 0), 0);
	CU_ASSERT_EQUAL(c.runs, 1000);
	CU_ASSERT_EQUAL(sched.lcores[0].st.loops, 1000);
	CU_ASSERT_EQUAL(sched.lcores[0].st.sleeps, 0); /* always busy */
	CU_ASSERT_EQUAL(fiber_sched_joined(&sched), 0);
	fiber_sched_fini(&sched);
}

/* A step that works only once its flag is up, and sleeps meanwhile. */
struct waiter {
	uint32_t flag; /* atomic: set by the other thread */
	uint64_t deadline;
	unsigned int runs;
};

static unsigned int
wait_run(void *arg)
{
	struct waiter *w = arg;
	bool due = w->deadline != 0 && rte_get_timer_cycles() >= w->deadline;

	w->runs++;
	/* acquire: pairs with the waker's release */
	if (!__atomic_load_n(&w->flag, __ATOMIC_ACQUIRE) && !due)
		return 0;
	fiber_sched_set(&sched, FIBER_RUN_STOPPED);
	return 1;
}

static int
wait_arm(void *arg)
{
	(void)arg;
	return 0; /* its wake source is the lcore's eventfd */
}

static bool
wait_ready(void *arg)
{
	struct waiter *w = arg;

	return __atomic_load_n(&w->flag, __ATOMIC_ACQUIRE) != 0;
}

static void
wait_disarm(void *arg)
{
	(void)arg;
}

static uint64_t
wait_deadline(void *arg)
{
	struct waiter *w = arg;

	return w->deadline != 0 ? w->deadline : UINT64_MAX;
}

struct waker {
	struct waiter *w;
	int efd;
};

static void *
wake_later(void *arg)
{
	struct waker *k = arg;
	uint64_t one = 1;

	usleep(50000); /* the lcore is asleep by now, or soon will be */
	/* release: pairs with the step's acquire */
	__atomic_store_n(&k->w->flag, 1, __ATOMIC_RELEASE);
	if (write(k->efd, &one, sizeof(one)) != sizeof(one))
		return NULL;
	return NULL;
}

static void
test_sleep_and_wake(void)
{
	struct waiter w = {.flag = 0};
	const struct fiber_step st = {.name = "wait",
				      .run = wait_run,
				      .arg = &w,
				      .arm = wait_arm,
				      .ready = wait_ready,
				      .disarm = wait_disarm};
	struct waker k = {.w = &w};
	pthread_t t;

	fiber_sched_init(&sched, 4, 100);
	CU_ASSERT_EQUAL_FATAL(fiber_sched_use_doorbells(&sched), 0);
	CU_ASSERT_EQUAL(fiber_sched_add(&sched, 0, &st), 0);
	k.efd = fiber_sched_eventfd(&sched, 0);
	CU_ASSERT_FATAL(k.efd >= 0);
	fiber_sched_set(&sched, FIBER_RUN_RUNNING);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, wake_later, &k), 0);
	CU_ASSERT_EQUAL(fiber_sched_lcore(&sched, 0), 0);
	pthread_join(t, NULL);
	/* it slept in epoll (not spinning 50 ms) and the doorbell woke it */
	CU_ASSERT(sched.lcores[0].st.sleeps >= 1);
	CU_ASSERT(sched.lcores[0].st.wakeups >= 1);
	CU_ASSERT_EQUAL(sched.lcores[0].st.late, 0);
	CU_ASSERT(w.runs < 1000);
	fiber_sched_fini(&sched);
}

static void
test_deadline(void)
{
	struct waiter w = {.flag = 0};
	const struct fiber_step st = {.name = "timer",
				      .run = wait_run,
				      .arg = &w,
				      .arm = wait_arm,
				      .ready = wait_ready,
				      .disarm = wait_disarm,
				      .deadline = wait_deadline};

	fiber_sched_init(&sched, 4, 100);
	CU_ASSERT_EQUAL_FATAL(fiber_sched_use_doorbells(&sched), 0);
	CU_ASSERT_EQUAL(fiber_sched_add(&sched, 0, &st), 0);
	/* the lcore's epoll set comes with its eventfd, as in the daemon */
	CU_ASSERT_FATAL(fiber_sched_eventfd(&sched, 0) >= 0);
	w.deadline = rte_get_timer_cycles() + rte_get_timer_hz() / 20;
	fiber_sched_set(&sched, FIBER_RUN_RUNNING);
	CU_ASSERT_EQUAL(fiber_sched_lcore(&sched, 0), 0);
	/* nothing but the deadline could end its sleep */
	CU_ASSERT(rte_get_timer_cycles() >= w.deadline);
	CU_ASSERT(sched.lcores[0].st.timeouts >= 1);
	CU_ASSERT_EQUAL(sched.lcores[0].st.wakeups, 0);
	fiber_sched_fini(&sched);
}

/* A kind whose step fails: the fiber is KILLED, the lcore runs on. */
static int
fail_step(struct fiber *f)
{
	(void)f;
	return -EIO;
}

static const struct fiber_kind fail_kind = {
	.name = "fail",
	.help = "a step that fails",
	.step = fail_step,
};

static void
test_failing_fiber(void)
{
	static struct fiber f; /* large */
	struct counter c = {.limit = 100};
	const struct fiber_step st = {
		.name = "count", .run = count_run, .arg = &c};
	const struct fiber_conf fc = {.name = "failing",
				      .kind = &fail_kind,
				      .lcore = 0,
				      .rx = 0x0100,
				      .burst = 32};
	const struct fiber_env env = {.stats_arg = NULL};

	fiber_sched_init(&sched, 4, 100);
	CU_ASSERT_EQUAL_FATAL(fiber_init(&f, &fc, &env), 0);
	CU_ASSERT_EQUAL(fiber_sched_add_fiber(&sched, &f), 0);
	CU_ASSERT_EQUAL(fiber_sched_add(&sched, 0, &st), 0);
	fiber_sched_set(&sched, FIBER_RUN_RUNNING);
	CU_ASSERT_EQUAL(fiber_sched_lcore(&sched, 0), 0);
	CU_ASSERT_EQUAL(fiber_state_get(&f), FIBER_KILLED);
	CU_ASSERT_PTR_NOT_NULL(strstr(f.why, "step failed"));
	CU_ASSERT_EQUAL(f.st.steps, 1); /* not run again once KILLED */
	CU_ASSERT_EQUAL(c.runs, 100);	/* the other step ran on */
	CU_ASSERT(fiber_sched_fibers_done(&sched));
	fiber_fini(&f);
	fiber_sched_fini(&sched);
}

int
main(int argc, char **argv)
{
	char *eal[] = {argv[0],	      "--no-huge", "--no-pci", "--no-shconf",
		       "-m",	      "64",	   "-l",       "0",
		       "--log-level", "error"};
	static const struct test_case t[] = {
		{"runs its steps until STOPPED", test_runs_until_stopped},
		{"sleeps, a doorbell wakes it", test_sleep_and_wake},
		{"a deadline wakes it", test_deadline},
		{"a failing fiber is KILLED, the lcore runs on",
		 test_failing_fiber},
	};
	int rc;

	(void)argc;
	if (rte_eal_init(RTE_DIM(eal), eal) < 0)
		return 1;
	if (CU_initialize_registry() != CUE_SUCCESS ||
	    test_add_suite("fiber_sched", t, N_TESTS(t)) < 0)
		return 1;
	rc = test_run_all();
	rte_eal_cleanup();
	return rc;
}
