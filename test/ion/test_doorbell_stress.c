/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Lost wake-ups: a producer and a consumer that block on the ring's
 * doorbells every time they find nothing to do, with random bursts and
 * random pauses, and a watchdog that fails the test if both sides are
 * blocked at once for more than a second.  A wake-up that is lost leaves
 * the sleeper blocked; the other side then fills (or drains) the ring and
 * blocks too, or finishes, and the watchdog sees both stuck.  Every
 * message's order, length and bytes are checked.
 *
 *   test_ion_doorbell_stress [--seed S] [--seconds T] MODE MESSAGES
 *
 *   cons             the consumer sleeps (ion_cons_wait) on an empty ring;
 *                    the producer pauses at random
 *   prod             the producer sleeps (ion_prod_wait) on a full ring of
 *                    16 slots; the consumer pauses at random
 *   eventfd          as cons, the consumer asleep in epoll on its end's
 *                    eventfd (ion_cons_arm, ion_arm_barrier, look again),
 *                    on a ring of 32 slots that the producer fills and
 *                    sleeps on too
 *   twoproc-cons     cons, twoproc-prod and twoproc-eventfd: the same with
 *   twoproc-prod     the consumer in a forked process, the ring in a memfd
 *   twoproc-eventfd  (the producer rings the other process's eventfd)
 *
 * --seconds T bounds the run in time as MESSAGES bounds it in count: at T
 * the producer sends a last half-ring of messages and stops (a slow,
 * shared machine makes a sleep cost tens of microseconds); the run then
 * checks every message sent, and fails below MIN_MESSAGES.
 *
 * Waits have a timeout of 20 s, far above the watchdog's second, so a
 * lost wake-up is caught by the watchdog and not hidden by a timeout.
 * Environment: ION_WATCHDOG_MS (default 1000); ION_STRESS_SKIP_RECHECK=1
 * makes the eventfd consumer sleep without looking again after arming, a
 * deliberate lost-wake-up bug for checking by hand that the test catches
 * it.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ion_ring.h>

#include "cunit_main.h"

#define SLOT_SIZE 64
#include "stress_msg.h"
#define MAX_BURST 48
#define WAIT_MS	  20000
#define CAP_SMALL 16 /* the ring a producer finds full */
/* small enough that the producer fills it and sleeps too: a consumer's lost
 * wake-up then leaves both asleep, and the watchdog sees it */
#define CAP_EVENTFD  32
#define MIN_MESSAGES 100000 /* a time-bounded run passes at least these */

enum side { PROD, CONS };

/* Shared by the two sides and the watchdog, across fork too. */
struct shared {
	uint64_t blocked_since[2]; /* CLOCK_MONOTONIC ns, 0 = running */
	uint32_t done[2];	   /* the side has finished (or failed) */
	uint64_t limit; /* messages sent in all, lowered at the deadline */
	uint64_t received;
	uint64_t bad;
	uint32_t failed; /* a wait returned an error */
	uint32_t stop;	 /* watchdog: end */
};

static struct {
	const char *mode;
	uint64_t count;
	uint64_t seconds; /* 0: no time bound */
	uint64_t seed;
	int twoproc, prod_blocks, use_eventfd, skip_recheck;
	uint32_t capacity;
	uint64_t watchdog_ns;
	struct ion_ring *ring;
	struct shared *sh;
	pid_t child;
} g;

static uint64_t
now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* relaxed: the watchdog needs only untorn values */
static void
set_blocked(enum side s, int on)
{
	__atomic_store_n(&g.sh->blocked_since[s], on ? now_ns() : 0,
			 __ATOMIC_RELAXED);
}

static void
set_done(enum side s)
{
	set_blocked(s, 1); /* a finished side never publishes again */
	__atomic_store_n(&g.sh->done[s], 1, __ATOMIC_RELEASE);
}

static void
fail(const char *what, int rc)
{
	fprintf(stderr, "\n  %s: %s (seed %llu)\n", what, strerror(-rc),
		(unsigned long long)g.seed);
	__atomic_store_n(&g.sh->failed, 1, __ATOMIC_RELAXED);
}

/*
 * A random pause: none, a spin, a yield or a short sleep.  @slow is the
 * side that should often find the other one asleep.
 */
static void
pause_some(uint64_t *rs, int slow)
{
	uint32_t r = rnd(rs) % 100, i, n;
	struct timespec ts = {0, 0};

	if (r < (slow ? 40u : 85u))
		return;
	if (r < (slow ? 75u : 97u)) {
		n = rnd(rs) % (slow ? 2000 : 200);
		for (i = 0; i < n; i++)
			__atomic_signal_fence(__ATOMIC_SEQ_CST);
	} else if (r < (slow ? 88u : 99u)) {
		sched_yield();
	} else {
		ts.tv_nsec = 1000 + rnd(rs) % (slow ? 50000 : 5000);
		nanosleep(&ts, NULL);
	}
}

/* ---- producer ------------------------------------------------------ */

static void
produce(void)
{
	uint64_t rs = g.seed * 2 + 1, seq = 0, limit = g.count;
	uint64_t deadline =
		g.seconds ? now_ns() + g.seconds * 1000000000ull : UINT64_MAX;
	uint32_t half = g.capacity / 2;
	struct ion_prod p;
	int rc;

	rc = ion_prod_open(&p, g.ring);
	if (rc != 0) {
		fail("producer open", rc);
		set_done(PROD);
		return;
	}
	while (seq < limit &&
	       !__atomic_load_n(&g.sh->failed, __ATOMIC_RELAXED)) {
		uint32_t want = 1 + rnd(&rs) % MAX_BURST, got, i;

		if (limit == g.count && now_ns() > deadline &&
		    limit - seq > half) {
			/* a consumer may wait for up to half a ring more
			 * than it has; relaxed: the commits publish it */
			limit = seq + half;
			__atomic_store_n(&g.sh->limit, limit, __ATOMIC_RELAXED);
		}
		if (want > limit - seq)
			want = (uint32_t)(limit - seq);
		got = ion_prod_reserve(&p, want);
		if (got == 0) {
			/* mostly 1; else up to capacity/2 */
			uint32_t n = rnd(&rs) % 4 ? 1 : 1 + rnd(&rs) % half;

			if (n > want)
				n = want;
			set_blocked(PROD, 1);
			rc = ion_prod_wait(&p, n, WAIT_MS);
			set_blocked(PROD, 0);
			if (rc < (int)n) {
				fail("ion_prod_wait", rc < 0 ? rc : -EPROTO);
				break;
			}
			got = ion_prod_reserve(&p, want);
		}
		for (i = 0; i < got; i++, seq++) {
			struct ion_slot *s = ion_prod_slot(&p, i);
			uint8_t *sd = ion_prod_data(&p, i);
			uint32_t len = msg_len(seq), b;

			memcpy(sd, &seq, 8);
			for (b = 8; b < len; b++)
				sd[b] = msg_byte(seq, b);
			s->len = len;
			s->tag = (uint32_t)seq;
		}
		ion_prod_commit(&p, got);
		pause_some(&rs, !g.prod_blocks);
	}
	set_done(PROD);
	ion_prod_close(&p);
}

/* ---- consumer ------------------------------------------------------ */

struct sleeper {
	int efd, ep;
};

/* Block until something is committed; 0 or a negative errno. */
static int
cons_sleep(struct ion_cons *c, struct sleeper *sl, uint32_t n)
{
	struct epoll_event ev;
	uint64_t v;
	int rc;

	if (!g.use_eventfd) {
		set_blocked(CONS, 1);
		rc = ion_cons_wait(c, n, WAIT_MS);
		set_blocked(CONS, 0);
		return rc < 0 ? rc : 0;
	}
	/* what a scheduler does: arm, one barrier, look again, epoll */
	rc = ion_cons_arm(c);
	if (rc != 0)
		return rc;
	ion_arm_barrier();
	if (!g.skip_recheck && ion_cons_ready(c) > 0) {
		ion_cons_disarm(c);
		return 0;
	}
	set_blocked(CONS, 1);
	rc = epoll_wait(sl->ep, &ev, 1, WAIT_MS);
	set_blocked(CONS, 0);
	ion_cons_disarm(c);
	if (rc == 0)
		return -ETIMEDOUT;
	if (rc < 0)
		return errno == EINTR ? 0 : -errno;
	if (read(sl->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return -errno;
	return 0;
}

static void
consume(void)
{
	uint64_t rs = g.seed * 2 + 2, seq = 0, bad = 0;
	uint32_t half = g.capacity / 2;
	struct sleeper sl = {-1, -1};
	struct ion_cons c;
	int rc;

	rc = ion_cons_open(&c, g.ring);
	if (rc != 0) {
		fail("consumer open", rc);
		set_done(CONS);
		return;
	}
	if (g.use_eventfd) {
		struct epoll_event ev = {.events = EPOLLIN};

		sl.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		sl.ep = epoll_create1(EPOLL_CLOEXEC);
		if (sl.efd < 0 || sl.ep < 0 ||
		    epoll_ctl(sl.ep, EPOLL_CTL_ADD, sl.efd, &ev) != 0 ||
		    ion_cons_set_eventfd(&c, sl.efd) != 0) {
			fail("eventfd", -errno);
			set_done(CONS);
			return;
		}
	}
	for (;;) {
		/* relaxed: a lower limit is seen after the commit of the
		 * message before it at the latest (peek's acquire) */
		uint64_t limit =
			__atomic_load_n(&g.sh->limit, __ATOMIC_RELAXED);
		uint32_t want = 1 + rnd(&rs) % MAX_BURST, got, i;

		if (seq >= limit ||
		    __atomic_load_n(&g.sh->failed, __ATOMIC_RELAXED))
			break;
		got = ion_cons_peek(&c, want);
		if (got == 0) {
			/* mostly 1; else up to capacity/2, no more than
			 * will come */
			uint32_t n = rnd(&rs) % 4 ? 1 : 1 + rnd(&rs) % half;

			if (n > limit - seq)
				n = (uint32_t)(limit - seq);
			rc = cons_sleep(&c, &sl, n);
			if (rc < 0) {
				fail("consumer wait", rc);
				break;
			}
			continue;
		}
		for (i = 0; i < got; i++, seq++) {
			const struct ion_slot *s = ion_cons_slot(&c, i);
			const uint8_t *sd = ion_cons_data(&c, i);
			uint32_t len = msg_len(seq), b;
			uint64_t v;
			int ok;

			memcpy(&v, sd, 8);
			ok = v == seq && s->len == len &&
			     s->tag == (uint32_t)seq;
			for (b = 8; ok && b < len; b++)
				ok = sd[b] == msg_byte(seq, b);
			if (!ok && bad++ < 5)
				fprintf(stderr,
					"message %llu: got seq %llu len %u\n",
					(unsigned long long)seq,
					(unsigned long long)v, s->len);
		}
		ion_cons_release(&c, got);
		pause_some(&rs, g.prod_blocks);
	}
	__atomic_store_n(&g.sh->received, seq, __ATOMIC_RELAXED);
	__atomic_store_n(&g.sh->bad, bad, __ATOMIC_RELAXED);
	set_done(CONS);
	if (g.use_eventfd) {
		ion_cons_set_eventfd(&c, -1);
		/* a producer thread writes the fd itself, maybe still in the
		 * commit that saw our last arming (TSan caught the close
		 * racing that write): close once it is done; a producer in
		 * the parent writes its own duplicate */
		while (!g.twoproc &&
		       !__atomic_load_n(&g.sh->done[PROD], __ATOMIC_ACQUIRE))
			sched_yield();
		close(sl.ep);
		close(sl.efd);
	}
	ion_cons_close(&c);
}

/* ---- watchdog ------------------------------------------------------ */

static int
child_gone(void)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	return g.child > 0 &&
	       waitid(P_PID, (id_t)g.child, &si, WEXITED | WNOHANG | WNOWAIT) ==
		       0 &&
	       si.si_pid == g.child;
}

static void
watchdog_report(const char *why, uint64_t ms)
{
	struct ion_ring *r = g.ring;
	struct ion_ring_stats st;

	ion_ring_stats(r, &st);
	fprintf(stderr,
		"\nWATCHDOG: %s for %llu ms (mode %s, seed %llu): "
		"tail %u head %u, consumer bell 0x%016llx, producer bell "
		"0x%016llx, enqueued %llu dequeued %llu, consumer slept %llu "
		"woken %llu, producer slept %llu woken %llu\n",
		why, (unsigned long long)ms, g.mode, (unsigned long long)g.seed,
		(uint32_t)__atomic_load_n(&ion_ring_prod_part(r)->pub.word,
					  __ATOMIC_RELAXED),
		__atomic_load_n(&ion_ring_cons_part(r)->head.idx,
				__ATOMIC_RELAXED),
		(unsigned long long)__atomic_load_n(
			&ion_ring_cons_part(r)->bell.armed, __ATOMIC_RELAXED),
		(unsigned long long)__atomic_load_n(
			&ion_ring_prod_part(r)->bell.armed, __ATOMIC_RELAXED),
		(unsigned long long)st.enqueued,
		(unsigned long long)st.dequeued,
		(unsigned long long)st.cons_sleeps,
		(unsigned long long)st.prod_wakeups,
		(unsigned long long)st.prod_sleeps,
		(unsigned long long)st.cons_wakeups);
	if (g.child > 0)
		kill(g.child, SIGKILL);
	/* the sides are stuck in the ring: no way to unwind them */
	_exit(3);
}

static void *
watchdog(void *arg)
{
	struct timespec tick = {0, 10000000};

	(void)arg;
	/* acquire: pairs with set_done, and stop with the main thread */
	while (!__atomic_load_n(&g.sh->stop, __ATOMIC_ACQUIRE) &&
	       !(__atomic_load_n(&g.sh->done[PROD], __ATOMIC_ACQUIRE) &&
		 __atomic_load_n(&g.sh->done[CONS], __ATOMIC_ACQUIRE))) {
		uint64_t bp = __atomic_load_n(&g.sh->blocked_since[PROD],
					      __ATOMIC_RELAXED);
		uint64_t bc = __atomic_load_n(&g.sh->blocked_since[CONS],
					      __ATOMIC_RELAXED);
		uint64_t now = now_ns();

		if (bp != 0 && bc != 0) {
			uint64_t since = bp > bc ? bp : bc;

			if (now > since && now - since > g.watchdog_ns)
				watchdog_report("producer and consumer both "
						"blocked",
						(now - since) / 1000000);
		}
		if (child_gone() &&
		    !__atomic_load_n(&g.sh->done[CONS], __ATOMIC_ACQUIRE))
			watchdog_report("the consumer process died", 0);
		nanosleep(&tick, NULL);
	}
	return NULL;
}

/* ---- the test ------------------------------------------------------ */

static void *
consumer_thread(void *arg)
{
	(void)arg;
	consume();
	return NULL;
}

static void
test_doorbell_stress(void)
{
	struct ion_ring_params prm = {
		.channel = 0x0500,
		.capacity = g.capacity,
		.slot_size = SLOT_SIZE,
		.start_index = UINT32_MAX - 1000, /* cross the wrap */
		.name = "bell-stress",
	};
	struct ion_ring_map m = {.fd = -1};
	struct ion_ring_stats rs;
	pthread_t tw, tc;
	uint64_t t0, t1;
	int status = -1;

	g.sh = mmap(NULL, sizeof(*g.sh), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CU_ASSERT_FATAL(g.sh != MAP_FAILED);
	g.sh->limit = g.count;
	if (g.twoproc) {
		CU_ASSERT_FATAL(
			ion_ring_create_memfd(&m, "bell-stress", &prm, 0) == 0);
		g.ring = m.ring;
	} else {
		size_t len = ion_ring_memsize(g.capacity, SLOT_SIZE);

		g.ring = aligned_alloc(ION_RING_ALIGN, len);
		CU_ASSERT_FATAL(g.ring != NULL);
		CU_ASSERT_FATAL(ion_ring_init(g.ring, len, &prm) == 0);
	}
	printf("\n  mode %s, %llu messages or %llu s (0: no bound), %u "
	       "slots, seed %llu\n",
	       g.mode, (unsigned long long)g.count,
	       (unsigned long long)g.seconds, g.capacity,
	       (unsigned long long)g.seed);
	fflush(stdout);
	t0 = now_ns();
	if (g.twoproc) {
		/* fork before any thread: the child is the consumer */
		g.child = fork();
		CU_ASSERT_FATAL(g.child >= 0);
		if (g.child == 0) {
			consume();
			_exit(__atomic_load_n(&g.sh->failed,
					      __ATOMIC_RELAXED) != 0);
		}
	}
	CU_ASSERT_FATAL(pthread_create(&tw, NULL, watchdog, NULL) == 0);
	if (!g.twoproc)
		CU_ASSERT_FATAL(
			pthread_create(&tc, NULL, consumer_thread, NULL) == 0);
	produce();
	if (g.twoproc) {
		CU_ASSERT(waitpid(g.child, &status, 0) == g.child);
		CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	} else {
		pthread_join(tc, NULL);
	}
	t1 = now_ns();
	/* release: pairs with the watchdog's acquire */
	__atomic_store_n(&g.sh->stop, 1, __ATOMIC_RELEASE);
	pthread_join(tw, NULL);

	CU_ASSERT(g.sh->failed == 0);
	CU_ASSERT(g.sh->bad == 0);
	CU_ASSERT(g.sh->received == g.sh->limit);
	CU_ASSERT(g.sh->limit >=
		  (g.count < MIN_MESSAGES ? g.count : MIN_MESSAGES));
	ion_ring_stats(g.ring, &rs);
	CU_ASSERT(rs.enqueued == g.sh->limit);
	CU_ASSERT(rs.dequeued == g.sh->limit);
	CU_ASSERT(rs.used == 0);
	/* the sleepers did sleep, and were woken by the other side */
	if (g.prod_blocks) {
		CU_ASSERT(rs.prod_sleeps > 0 && rs.cons_wakeups > 0);
	} else {
		CU_ASSERT(rs.cons_sleeps > 0 && rs.prod_wakeups > 0);
	}
	printf("  %.2f s, %llu received%s; consumer slept %llu times, woken "
	       "%llu; producer slept %llu, woken %llu; found empty %llu, "
	       "full %llu\n",
	       (double)(t1 - t0) / 1e9, (unsigned long long)g.sh->received,
	       g.sh->limit < g.count ? " (the time bound)" : "",
	       (unsigned long long)rs.cons_sleeps,
	       (unsigned long long)rs.prod_wakeups,
	       (unsigned long long)rs.prod_sleeps,
	       (unsigned long long)rs.cons_wakeups,
	       (unsigned long long)rs.empty, (unsigned long long)rs.full);
	if (g.twoproc)
		ion_ring_unmap(&m);
	else
		free(g.ring);
	munmap(g.sh, sizeof(*g.sh));
}

static int
usage(void)
{
	fprintf(stderr,
		"usage: test_ion_doorbell_stress [--seed S] [--seconds T] "
		"cons|prod|eventfd|twoproc-cons|twoproc-prod|twoproc-eventfd "
		"MESSAGES\n");
	return 2;
}

int
main(int argc, char **argv)
{
	static const struct test_case t[] = {TEST(test_doorbell_stress)};
	const char *e;
	int a = 1;

	g.seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	for (; argc > a + 1 && strncmp(argv[a], "--", 2) == 0; a += 2) {
		if (strcmp(argv[a], "--seed") == 0)
			g.seed = strtoull(argv[a + 1], NULL, 0);
		else if (strcmp(argv[a], "--seconds") == 0)
			g.seconds = strtoull(argv[a + 1], NULL, 0);
		else
			return usage();
	}
	if (argc != a + 2)
		return usage();
	if (g.seed == 0)
		g.seed = 1; /* xorshift's fixed point */
	g.mode = argv[a];
	g.count = strtoull(argv[a + 1], NULL, 0);
	g.twoproc = strncmp(g.mode, "twoproc-", 8) == 0;
	e = g.twoproc ? g.mode + 8 : g.mode;
	if (strcmp(e, "cons") == 0) {
		g.capacity = 256;
	} else if (strcmp(e, "prod") == 0) {
		g.capacity = CAP_SMALL;
		g.prod_blocks = 1;
	} else if (strcmp(e, "eventfd") == 0) {
		g.capacity = CAP_EVENTFD;
		g.use_eventfd = 1;
	} else {
		return usage();
	}
	if (g.count == 0)
		return usage();
	e = getenv("ION_WATCHDOG_MS");
	g.watchdog_ns = (e != NULL ? strtoull(e, NULL, 0) : 1000) * 1000000ull;
	e = getenv("ION_STRESS_SKIP_RECHECK");
	g.skip_recheck = e != NULL && strcmp(e, "1") == 0;
	/* short sleeps as asked for, not rounded up to 50 us */
	prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	if (test_add_suite("doorbell_stress", t, N_TESTS(t)) < 0) {
		CU_cleanup_registry();
		return 1;
	}
	return test_run_all();
}
