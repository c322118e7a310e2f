/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Doorbell semantics, each case small enough to be deterministic: who is
 * woken, when (targets), how many times (once per arming), by which means
 * (futex, eventfd in this process or in another one), what is counted,
 * and the errors, timeouts and signals.  The races themselves are the
 * business of test_doorbell_stress.c.
 */
#include <errno.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ion_ring.h>

#include "cunit_main.h"

/* The parts of ring r: each side's doorbell and counters. */
#define CONS_BELL(r) (ion_ring_cons_part(r)->bell)
#define PROD_BELL(r) (ion_ring_prod_part(r)->bell)
#define CONS_CTRS(r) (ion_ring_cons_part(r)->ctrs)
#define PROD_CTRS(r) (ion_ring_prod_part(r)->ctrs)

#define CAP	  16
#define SLOT_SIZE 64

/* ION_NO_MEMBARRIER=1 in the environment from the start: fences only. */
static int no_membarrier;

struct pair {
	struct ion_ring *r;
	struct ion_prod p;
	struct ion_cons c;
};

static void
pair_open(struct pair *x)
{
	struct ion_ring_params prm = {
		.channel = 0x0500,
		.capacity = CAP,
		.slot_size = SLOT_SIZE,
		.start_index = UINT32_MAX - 5, /* cross the wrap at once */
	};
	size_t len = ion_ring_memsize(CAP, SLOT_SIZE);

	x->r = aligned_alloc(ION_RING_ALIGN, len);
	CU_ASSERT_FATAL(x->r != NULL);
	CU_ASSERT_FATAL(ion_ring_init(x->r, len, &prm) == 0);
	CU_ASSERT_FATAL(ion_prod_open(&x->p, x->r) == 0);
	CU_ASSERT_FATAL(ion_cons_open(&x->c, x->r) == 0);
}

static void
pair_close(struct pair *x)
{
	ion_prod_close(&x->p);
	ion_cons_close(&x->c);
	free(x->r);
}

static void
put(struct pair *x, uint32_t n)
{
	uint32_t i;

	CU_ASSERT_FATAL(ion_prod_reserve(&x->p, n) == n);
	for (i = 0; i < n; i++)
		ion_prod_slot(&x->p, i)->len = 1;
	ion_prod_commit(&x->p, n);
}

static void
take(struct pair *x, uint32_t n)
{
	CU_ASSERT_FATAL(ion_cons_peek(&x->c, n) == n);
	ion_cons_release(&x->c, n);
}

static uint64_t
armed(const uint64_t *w)
{
	/* the flags: the sequence stays when the bell is disarmed */
	return __atomic_load_n(w, __ATOMIC_ACQUIRE) & ION_BELL_FLAGS;
}

static double
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void
sleep_ms(long ms)
{
	struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&t, NULL);
}

/* Wait (up to 5 s) until @w is armed, i.e. the other thread is asleep or
 * about to be; then a little more so that it is in the futex. */
static int
until_armed(const uint64_t *w)
{
	double t0 = now_ms();

	while (armed(w) == 0) {
		if (now_ms() - t0 > 5000)
			return 0;
		sleep_ms(1);
	}
	sleep_ms(20);
	return 1;
}

static int
membarrier_supported(void)
{
	long q = syscall(__NR_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);

	return q > 0 && (q & MEMBARRIER_CMD_GLOBAL_EXPEDITED) != 0;
}

/* ---- waiting without blocking ------------------------------------ */

static void
test_wait_ready(void)
{
	struct pair x;
	uint32_t i;

	pair_open(&x);
	CU_ASSERT(armed(&CONS_BELL(x.r).armed) == 0 &&
		  armed(&PROD_BELL(x.r).armed) == 0);
	CU_ASSERT(CONS_BELL(x.r).efd == -1 && PROD_BELL(x.r).efd == -1);
	CU_ASSERT(ion_cons_wait(&x.c, 0, 0) == -EINVAL);
	CU_ASSERT(ion_cons_wait(&x.c, CAP + 1, 0) == -EINVAL);
	CU_ASSERT(ion_prod_wait(&x.p, 0, 0) == -EINVAL);
	CU_ASSERT(ion_prod_wait(&x.p, CAP + 1, 0) == -EINVAL);
	CU_ASSERT(ion_cons_wait(&x.c, 1, 0) == -ETIMEDOUT);
	CU_ASSERT(ion_cons_ready(&x.c) == 0);
	CU_ASSERT(ion_prod_room(&x.p) == CAP);

	/* enough already: no arm, no sleep; everything committed is peeked */
	put(&x, 3);
	CU_ASSERT(ion_cons_ready(&x.c) == 3);
	CU_ASSERT(ion_cons_wait(&x.c, 2, 0) == 3);
	for (i = 0; i < 3; i++)
		CU_ASSERT(ion_cons_slot(&x.c, i)->len == 1);
	ion_cons_release(&x.c, 3);
	CU_ASSERT(ion_cons_wait(&x.c, 1, 0) == -ETIMEDOUT);

	/* the producer reserves every free slot and may commit fewer */
	CU_ASSERT(ion_prod_wait(&x.p, CAP, 0) == CAP);
	ion_prod_commit(&x.p, CAP - 1);
	CU_ASSERT(ion_prod_room(&x.p) == 1);
	CU_ASSERT(ion_prod_wait(&x.p, 2, 0) == -ETIMEDOUT);
	CU_ASSERT(ion_prod_wait(&x.p, 1, 0) == 1);
	ion_prod_commit(&x.p, 1);
	CU_ASSERT(ion_cons_wait(&x.c, CAP, 0) == CAP);
	ion_cons_release(&x.c, CAP);
	CU_ASSERT(armed(&CONS_BELL(x.r).armed) == 0 &&
		  armed(&PROD_BELL(x.r).armed) == 0);
	CU_ASSERT(CONS_CTRS(x.r).sleeps == 0 && PROD_CTRS(x.r).sleeps == 0);
	CU_ASSERT(CONS_CTRS(x.r).wakeups == 0 && PROD_CTRS(x.r).wakeups == 0);
	pair_close(&x);
}

static void
test_wait_timeout(void)
{
	struct ion_ring_stats st;
	struct pair x;
	double t0, dt;

	pair_open(&x);
	t0 = now_ms();
	CU_ASSERT(ion_cons_wait(&x.c, 1, 30) == -ETIMEDOUT);
	dt = now_ms() - t0;
	CU_ASSERT(dt >= 29.0 && dt < 2000.0);
	/* it slept, and left its doorbell disarmed */
	CU_ASSERT(CONS_CTRS(x.r).sleeps >= 1);
	CU_ASSERT(armed(&CONS_BELL(x.r).armed) == 0);
	/* the producer side, on a full ring */
	put(&x, CAP);
	t0 = now_ms();
	CU_ASSERT(ion_prod_wait(&x.p, 1, 30) == -ETIMEDOUT);
	dt = now_ms() - t0;
	CU_ASSERT(dt >= 29.0 && dt < 2000.0);
	CU_ASSERT(PROD_CTRS(x.r).sleeps >= 1);
	CU_ASSERT(armed(&PROD_BELL(x.r).armed) == 0);
	ion_ring_stats(x.r, &st);
	CU_ASSERT(st.cons_sleeps == CONS_CTRS(x.r).sleeps);
	CU_ASSERT(st.prod_sleeps == PROD_CTRS(x.r).sleeps);
	CU_ASSERT(st.prod_wakeups == 0 && st.cons_wakeups == 0);
	pair_close(&x);
}

/* ---- blocking and being woken ------------------------------------ */

struct waiter {
	struct pair *x;
	uint32_t n;
	int timeout_ms;
	int ret;
	double ms; /* how long it waited */
};

static void *
cons_waiter(void *arg)
{
	struct waiter *w = arg;
	double t0 = now_ms();

	int ret = ion_cons_wait(&w->x->c, w->n, w->timeout_ms);

	w->ms = now_ms() - t0;
	/* release: ms before ret, for a look while it runs */
	__atomic_store_n(&w->ret, ret, __ATOMIC_RELEASE);
	return NULL;
}

static void *
prod_waiter(void *arg)
{
	struct waiter *w = arg;
	double t0 = now_ms();

	int ret = ion_prod_wait(&w->x->p, w->n, w->timeout_ms);

	w->ms = now_ms() - t0;
	/* release: ms before ret, for a look while it runs */
	__atomic_store_n(&w->ret, ret, __ATOMIC_RELEASE);
	return NULL;
}

static void
test_wake_consumer(void)
{
	struct waiter w = {.n = 1, .timeout_ms = 10000};
	struct ion_ring_stats st;
	struct pair x;
	pthread_t t;

	pair_open(&x);
	w.x = &x;
	CU_ASSERT_FATAL(pthread_create(&t, NULL, cons_waiter, &w) == 0);
	CU_ASSERT(until_armed(&CONS_BELL(x.r).armed));
	put(&x, 1);
	pthread_join(t, NULL);
	CU_ASSERT(w.ret == 1);
	CU_ASSERT(w.ms < 5000);
	ion_ring_stats(x.r, &st);
	CU_ASSERT(st.prod_wakeups == 1);
	CU_ASSERT(st.cons_sleeps == 1);
	CU_ASSERT(armed(&CONS_BELL(x.r).armed) == 0);
	/* nobody armed: a commit does not ring */
	ion_cons_release(&x.c, 1);
	put(&x, 1);
	CU_ASSERT(PROD_CTRS(x.r).wakeups == 1);
	pair_close(&x);
}

/* The waiter wants 4: three commits of 1 do not wake it, the 4th does. */
static void
test_wake_consumer_target(void)
{
	struct waiter w = {.n = 4, .timeout_ms = 10000};
	struct pair x;
	pthread_t t;
	int i;

	pair_open(&x);
	w.x = &x;
	CU_ASSERT_FATAL(pthread_create(&t, NULL, cons_waiter, &w) == 0);
	CU_ASSERT(until_armed(&CONS_BELL(x.r).armed));
	for (i = 0; i < 3; i++) {
		put(&x, 1);
		sleep_ms(5);
	}
	CU_ASSERT(PROD_CTRS(x.r).wakeups == 0);
	CU_ASSERT(armed(&CONS_BELL(x.r).armed) != 0);
	CU_ASSERT(__atomic_load_n(&w.ret, __ATOMIC_ACQUIRE) == 0); /* asleep */
	put(&x, 1);
	pthread_join(t, NULL);
	CU_ASSERT(w.ret == 4);
	CU_ASSERT(PROD_CTRS(x.r).wakeups == 1);
	CU_ASSERT(CONS_CTRS(x.r).sleeps == 1);
	pair_close(&x);
}

/* The producer wants 3 free on a full ring: woken by the third release. */
static void
test_wake_producer(void)
{
	struct waiter w = {.n = 3, .timeout_ms = 10000};
	struct pair x;
	pthread_t t;

	pair_open(&x);
	w.x = &x;
	put(&x, CAP);
	CU_ASSERT_FATAL(pthread_create(&t, NULL, prod_waiter, &w) == 0);
	CU_ASSERT(until_armed(&PROD_BELL(x.r).armed));
	take(&x, 1);
	sleep_ms(5);
	take(&x, 1);
	sleep_ms(5);
	CU_ASSERT(CONS_CTRS(x.r).wakeups == 0);
	CU_ASSERT(__atomic_load_n(&w.ret, __ATOMIC_ACQUIRE) == 0);
	take(&x, 1);
	pthread_join(t, NULL);
	CU_ASSERT(w.ret == 3);
	CU_ASSERT(x.p.reserved == 3);
	CU_ASSERT(CONS_CTRS(x.r).wakeups == 1);
	CU_ASSERT(PROD_CTRS(x.r).sleeps == 1);
	CU_ASSERT(armed(&PROD_BELL(x.r).armed) == 0);
	pair_close(&x);
}

static void
on_usr1(int sig)
{
	(void)sig;
}

static void
test_wait_eintr(void)
{
	struct waiter w = {.n = 1, .timeout_ms = -1};
	struct sigaction sa, old;
	struct pair x;
	pthread_t t;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1; /* no SA_RESTART */
	CU_ASSERT_FATAL(sigaction(SIGUSR1, &sa, &old) == 0);
	pair_open(&x);
	w.x = &x;
	CU_ASSERT_FATAL(pthread_create(&t, NULL, cons_waiter, &w) == 0);
	CU_ASSERT(until_armed(&CONS_BELL(x.r).armed));
	pthread_kill(t, SIGUSR1);
	pthread_join(t, NULL);
	CU_ASSERT(w.ret == -EINTR);
	CU_ASSERT(armed(&CONS_BELL(x.r).armed) == 0);
	sigaction(SIGUSR1, &old, NULL);
	pair_close(&x);
}

/* ---- eventfd ------------------------------------------------------ */

static uint64_t
efd_take(int fd)
{
	uint64_t v = 0;

	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

static void
test_eventfd_consumer(void)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	struct pair x;

	CU_ASSERT_FATAL(fd >= 0);
	pair_open(&x);
	CU_ASSERT(ion_cons_arm(&x.c) == -EBADF); /* no eventfd yet */
	CU_ASSERT(ion_cons_set_eventfd(&x.c, -2) == -EINVAL);
	CU_ASSERT(ion_cons_set_eventfd(&x.c, fd) == 0);
	CU_ASSERT(CONS_BELL(x.r).efd == fd);
	CU_ASSERT(CONS_BELL(x.r).pid == (uint32_t)getpid());

	/* arm, barrier, look again: empty, so sleep; a commit rings once */
	CU_ASSERT(ion_cons_arm(&x.c) == 0);
	CU_ASSERT(ion_cons_set_eventfd(&x.c, fd) == -EBUSY);
	CU_ASSERT(ion_arm_barrier() == (no_membarrier ? -ENOSYS : 0));
	CU_ASSERT(ion_cons_ready(&x.c) == 0);
	CU_ASSERT(efd_take(fd) == 0);
	put(&x, 1);
	put(&x, 2);
	CU_ASSERT(efd_take(fd) == 1); /* once per arming, not per commit */
	CU_ASSERT(PROD_CTRS(x.r).wakeups == 1);
	CU_ASSERT(CONS_CTRS(x.r).sleeps == 1);
	CU_ASSERT(ion_cons_disarm(&x.c) == 1); /* it had been rung */

	/* not armed: nothing written */
	put(&x, 1);
	CU_ASSERT(efd_take(fd) == 0);
	/* armed, but the look again finds work: disarm, nothing written */
	CU_ASSERT(ion_cons_arm(&x.c) == 0);
	ion_arm_barrier();
	CU_ASSERT(ion_cons_ready(&x.c) == 4);
	CU_ASSERT(ion_cons_disarm(&x.c) == 0);
	put(&x, 1);
	CU_ASSERT(efd_take(fd) == 0);
	CU_ASSERT(PROD_CTRS(x.r).wakeups == 1);

	/* the armed target is the next index, wherever head is */
	take(&x, 5);
	CU_ASSERT(ion_cons_arm(&x.c) == 0);
	put(&x, 1);
	CU_ASSERT(efd_take(fd) == 1);
	CU_ASSERT(ion_cons_disarm(&x.c) == 1);

	/* closing the end forgets the eventfd */
	CU_ASSERT(ion_cons_set_eventfd(&x.c, -1) == 0);
	CU_ASSERT(ion_cons_arm(&x.c) == -EBADF);
	CU_ASSERT(ion_cons_set_eventfd(&x.c, fd) == 0);
	ion_cons_close(&x.c);
	CU_ASSERT(CONS_BELL(x.r).efd == -1);
	CU_ASSERT_FATAL(ion_cons_open(&x.c, x.r) == 0);
	pair_close(&x);
	close(fd);
}

static void
test_eventfd_producer(void)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	struct ion_ring_stats st;
	struct pair x;

	CU_ASSERT_FATAL(fd >= 0);
	pair_open(&x);
	CU_ASSERT(ion_prod_arm(&x.p, 1) == -EBADF);
	CU_ASSERT(ion_prod_set_eventfd(&x.p, fd) == 0);
	CU_ASSERT(ion_prod_arm(&x.p, 0) == -EINVAL);
	CU_ASSERT(ion_prod_arm(&x.p, CAP + 1) == -EINVAL);
	put(&x, CAP);
	/* woken when 2 are free, not before */
	CU_ASSERT(ion_prod_arm(&x.p, 2) == 0);
	ion_arm_barrier();
	CU_ASSERT(ion_prod_room(&x.p) == 0);
	take(&x, 1);
	CU_ASSERT(efd_take(fd) == 0);
	take(&x, 1);
	CU_ASSERT(efd_take(fd) == 1);
	take(&x, 1);
	CU_ASSERT(efd_take(fd) == 0);
	CU_ASSERT(ion_prod_disarm(&x.p) == 1);
	ion_ring_stats(x.r, &st);
	CU_ASSERT(st.cons_wakeups == 1);
	CU_ASSERT(st.prod_sleeps == 1);
	CU_ASSERT(st.prod_wakeups == 0 && st.cons_sleeps == 0);
	pair_close(&x);
	close(fd);
}

/* A consumer asleep in epoll on its eventfd, woken by another thread. */
struct epoll_waiter {
	struct pair *x;
	int efd, ep;
	int got;
};

static void *
epoll_consumer(void *arg)
{
	struct epoll_waiter *w = arg;
	struct epoll_event ev;

	for (;;) {
		int n = ion_cons_peek(&w->x->c, CAP);

		if (n > 0) {
			w->got = n;
			ion_cons_release(&w->x->c, (uint32_t)n);
			return NULL;
		}
		if (ion_cons_arm(&w->x->c) != 0)
			return NULL;
		ion_arm_barrier();
		if (ion_cons_ready(&w->x->c) == 0 &&
		    epoll_wait(w->ep, &ev, 1, 10000) == 1)
			efd_take(w->efd);
		ion_cons_disarm(&w->x->c);
	}
}

static void
test_eventfd_epoll(void)
{
	struct epoll_event ev = {.events = EPOLLIN};
	struct epoll_waiter w = {0};
	struct pair x;
	pthread_t t;

	pair_open(&x);
	w.x = &x;
	w.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	w.ep = epoll_create1(EPOLL_CLOEXEC);
	CU_ASSERT_FATAL(w.efd >= 0 && w.ep >= 0);
	CU_ASSERT_FATAL(epoll_ctl(w.ep, EPOLL_CTL_ADD, w.efd, &ev) == 0);
	CU_ASSERT_FATAL(ion_cons_set_eventfd(&x.c, w.efd) == 0);
	CU_ASSERT_FATAL(pthread_create(&t, NULL, epoll_consumer, &w) == 0);
	CU_ASSERT(until_armed(&CONS_BELL(x.r).armed));
	put(&x, 2);
	pthread_join(t, NULL);
	CU_ASSERT(w.got == 2);
	CU_ASSERT(PROD_CTRS(x.r).wakeups == 1);
	pair_close(&x);
	close(w.ep);
	close(w.efd);
}

/*
 * The eventfd of a consumer in another process: the producer (here, the
 * parent) reaches it with pidfd_getfd.  The child arms, sleeps in epoll,
 * and exits 0 once woken with the message.
 */
static void
test_eventfd_other_process(void)
{
	struct ion_ring_map m;
	struct ion_ring_params prm = {
		.channel = 0x0600, .capacity = CAP, .slot_size = SLOT_SIZE};
	struct ion_prod p;
	int go[2], status = -1;
	char k = 0;
	pid_t pid;

	CU_ASSERT_FATAL(ion_ring_create_memfd(&m, "ion-bell", &prm, 0) == 0);
	CU_ASSERT_FATAL(pipe(go) == 0);
	/* open before the child arms: a waiter without membarrier may arm
	 * only once the ringer's open has said that it fences */
	CU_ASSERT_FATAL(ion_prod_open(&p, m.ring) == 0);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		struct epoll_event ev = {.events = EPOLLIN};
		int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		int ep = epoll_create1(EPOLL_CLOEXEC);
		struct ion_cons c;

		if (efd < 0 || ep < 0 ||
		    epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev) != 0 ||
		    ion_cons_open(&c, m.ring) != 0 ||
		    ion_cons_set_eventfd(&c, efd) != 0 || ion_cons_arm(&c) != 0)
			_exit(2);
		ion_arm_barrier();
		if (ion_cons_ready(&c) != 0)
			_exit(3);
		if (write(go[1], "a", 1) != 1)
			_exit(4);
		if (epoll_wait(ep, &ev, 1, 10000) != 1)
			_exit(5); /* not woken */
		if (efd_take(efd) != 1 || ion_cons_disarm(&c) != 1 ||
		    ion_cons_peek(&c, CAP) != 1 ||
		    ion_cons_slot(&c, 0)->len != 7)
			_exit(6);
		ion_cons_release(&c, 1);
		ion_cons_close(&c);
		_exit(0);
	}
	close(go[1]);
	CU_ASSERT(read(go[0], &k, 1) == 1 && k == 'a');
	CU_ASSERT(CONS_BELL(m.ring).pid == (uint32_t)pid);
	CU_ASSERT_FATAL(ion_prod_reserve(&p, 1) == 1);
	ion_prod_slot(&p, 0)->len = 7;
	ion_prod_commit(&p, 1);
	CU_ASSERT(waitpid(pid, &status, 0) == pid);
	CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fprintf(stderr, "\n  child status 0x%x\n", status);
	CU_ASSERT(PROD_CTRS(m.ring).wakeups == 1);
	CU_ASSERT(p.bell.peer_local >= 0); /* its duplicate of the eventfd */
	ion_prod_close(&p);
	CU_ASSERT(p.bell.peer_local == -1);
	close(go[0]);
	ion_ring_unmap(&m);
}

/* ---- the store-buffering race, in lock-step ----------------------- */

/*
 * Each round, the two sides race on an empty ring (or a full one), from a
 * common start, each after a random spin of 0..63, and one of them after
 * an offset that is steered so that the waiter sees the publish in about
 * half of the rounds: the two then meet in the race window whatever this
 * machine's timing (a membarrier takes microseconds, a cache line crossing
 * a fraction of one):
 *   waiter:  ion_cons_arm; ion_arm_barrier; r = ion_cons_ready
 *   ringer:  ion_prod_commit(1), which checks the doorbell
 * Forbidden: r == 0 (the waiter would sleep) and no eventfd write (nobody
 * would wake it).  Without the barriers this is the store-buffering
 * outcome, which x86 shows (ION_DOORBELL_BREAK=2 makes the test fail).
 * The same for a producer waiting on a full ring for the consumer.
 */
static uint32_t litmus_rounds = 100000;
/* spins; a heavy barrier takes some 10 us, a spin a nanosecond or so */
#define LITMUS_MAX_OFFSET (1 << 17)

struct litmus {
	struct pair *x;
	int cons_waits; /* the consumer waits (else the producer) */
	uint32_t go;	/* round started */
	uint32_t done;	/* ringer finished the round */
	int32_t offset; /* > 0: the waiter spins that much more, < 0 ringer */
	uint64_t seed;
};

static inline uint32_t
lrnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (uint32_t)*s;
}

static void
spin(uint32_t n)
{
	while (n-- > 0)
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

static void
wait_for(const uint32_t *w, uint32_t v)
{
	uint32_t k = 0;

	/* acquire: the other side's round is visible */
	while (__atomic_load_n(w, __ATOMIC_ACQUIRE) != v)
		if (++k % 4096 == 0)
			sched_yield(); /* two CPUs, shared */
}

/* Run on CPU @cpu (of two or more): the race needs the two in parallel. */
static void
pin_to(int cpu)
{
	cpu_set_t set;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *
litmus_ringer(void *arg)
{
	struct litmus *l = arg;
	uint64_t rs = l->seed;
	int32_t off;
	uint32_t i;

	pin_to(1);

	for (i = 1; i <= litmus_rounds; i++) {
		if (l->cons_waits) {
			if (ion_prod_reserve(&l->x->p, 1) != 1)
				return (void *)1;
			ion_prod_slot(&l->x->p, 0)->len = 1;
		} else if (ion_cons_peek(&l->x->c, 1) != 1) {
			return (void *)1;
		}
		wait_for(&l->go, i);
		/* relaxed: written before go, which we acquired */
		off = __atomic_load_n(&l->offset, __ATOMIC_RELAXED);
		spin(lrnd(&rs) % 64 + (off < 0 ? (uint32_t)-off : 0));
		if (l->cons_waits)
			ion_prod_commit(&l->x->p, 1);
		else
			ion_cons_release(&l->x->c, 1);
		/* release: our publish and ring before the round ends */
		__atomic_store_n(&l->done, i, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void
litmus(int cons_waits)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	struct litmus l = {.cons_waits = cons_waits, .seed = 0x1234567};
	uint64_t rs = 0x9e3779b97f4a7c15ull, lost = 0, saw = 0, rung = 0;
	uint32_t i, both = 0, window = 0;
	cpu_set_t cpus;
	struct pair x;
	pthread_t t;
	void *ret;

	CU_ASSERT_FATAL(fd >= 0);
	pair_open(&x);
	l.x = &x;
	if (cons_waits) {
		CU_ASSERT_FATAL(ion_cons_set_eventfd(&x.c, fd) == 0);
	} else {
		CU_ASSERT_FATAL(ion_prod_set_eventfd(&x.p, fd) == 0);
		put(&x, CAP);
	}
	CU_ASSERT_FATAL(pthread_getaffinity_np(pthread_self(), sizeof(cpus),
					       &cpus) == 0);
	pin_to(0);
	CU_ASSERT_FATAL(pthread_create(&t, NULL, litmus_ringer, &l) == 0);
	for (i = 1; i <= litmus_rounds; i++) {
		uint32_t r;
		uint64_t v;

		/* release: the previous round's clean-up before the start */
		__atomic_store_n(&l.go, i, __ATOMIC_RELEASE);
		spin(lrnd(&rs) % 64 + (l.offset > 0 ? (uint32_t)l.offset : 0));
		if (cons_waits) {
			ion_cons_arm(&x.c);
			ion_arm_barrier();
			r = ion_cons_ready(&x.c);
		} else {
			ion_prod_arm(&x.p, 1);
			ion_arm_barrier();
			r = ion_prod_room(&x.p);
		}
		wait_for(&l.done, i);
		v = efd_take(fd);
		saw += r != 0;
		rung += v != 0;
		both += r != 0 && v != 0;
		window += r != 0;
		if (r == 0 && v == 0 && lost++ < 5)
			fprintf(stderr, "\n  round %u: lost wake-up", i);
		if (i % 64 == 0) {
			/* steer toward half: saw little, waiter too early */
			int32_t step =
				4 + (l.offset < 0 ? -l.offset : l.offset) / 8;

			if (window < 24 && l.offset < LITMUS_MAX_OFFSET)
				l.offset += step;
			else if (window > 40 && l.offset > -LITMUS_MAX_OFFSET)
				l.offset -= step;
			window = 0;
		}
		/* clean up for the next round */
		if (cons_waits) {
			ion_cons_disarm(&x.c);
			take(&x, 1);
		} else {
			ion_prod_disarm(&x.p);
			put(&x, 1);
		}
	}
	pthread_join(t, &ret);
	pthread_setaffinity_np(pthread_self(), sizeof(cpus), &cpus);
	CU_ASSERT(ret == NULL);
	printf("\n  %u rounds: the waiter saw the publish %llu times, was rung "
	       "%llu times, both %u, lost %llu (offset now %d)\n",
	       litmus_rounds, (unsigned long long)saw, (unsigned long long)rung,
	       both, (unsigned long long)lost, l.offset);
	/* the steering held the two sides on the race, or this proved
	 * nothing */
	CU_ASSERT(saw > litmus_rounds / 5 && saw < litmus_rounds / 5 * 4);
	CU_ASSERT(lost == 0);
	pair_close(&x);
	close(fd);
}

static void
test_litmus_consumer_waits(void)
{
	litmus(1);
}

static void
test_litmus_producer_waits(void)
{
	litmus(0);
}

/* ---- barrier modes ------------------------------------------------ */

static void
test_membarrier_mode(void)
{
	struct pair x;

	pair_open(&x);
	if (no_membarrier) {
		/* the whole process: the ends fence, the barrier is a fence */
		CU_ASSERT(x.p.bell.mb == 0 && x.p.bell.fence == 1);
		CU_ASSERT(x.c.bell.mb == 0 && x.c.bell.fence == 1);
		CU_ASSERT(PROD_BELL(x.r).fences == 1);
		CU_ASSERT(CONS_BELL(x.r).fences == 1);
		CU_ASSERT(ion_arm_barrier() == -ENOSYS);
		printf("\n  ION_NO_MEMBARRIER: fences only ");
	} else {
		/* this kernel has it (MEMBARRIER_CMD_QUERY): no fences */
		CU_ASSERT(membarrier_supported());
		CU_ASSERT(x.p.bell.mb == 1 && x.p.bell.fence == 0);
		CU_ASSERT(x.c.bell.mb == 1 && x.c.bell.fence == 0);
		CU_ASSERT(PROD_BELL(x.r).fences == 0);
		CU_ASSERT(CONS_BELL(x.r).fences == 0);
		CU_ASSERT(ion_arm_barrier() == 0);
	}
	pair_close(&x);
}

/* ION_NO_MEMBARRIER=1: both ends fence, waits still wake. */
static void
test_fence_mode(void)
{
	struct waiter w = {.n = 1, .timeout_ms = 10000};
	struct pair x;
	pthread_t t;

	setenv("ION_NO_MEMBARRIER", "1", 1);
	pair_open(&x);
	CU_ASSERT(x.p.bell.mb == 0 && x.p.bell.fence == 1);
	CU_ASSERT(x.c.bell.mb == 0 && x.c.bell.fence == 1);
	CU_ASSERT(PROD_BELL(x.r).fences == 1);
	CU_ASSERT(CONS_BELL(x.r).fences == 1);
	w.x = &x;
	CU_ASSERT_FATAL(pthread_create(&t, NULL, cons_waiter, &w) == 0);
	CU_ASSERT(until_armed(&CONS_BELL(x.r).armed));
	put(&x, 1);
	pthread_join(t, NULL);
	CU_ASSERT(w.ret == 1);
	CU_ASSERT(PROD_CTRS(x.r).wakeups == 1);
	pair_close(&x);
	if (!no_membarrier)
		unsetenv("ION_NO_MEMBARRIER");
}

/*
 * A consumer without membarrier facing a producer that does not fence:
 * its arm could be missed, so the eventfd arm is refused and the futex
 * wait sleeps in slices of 1 ms.
 */
static void
test_uncovered_mode(void)
{
	struct waiter w = {.n = 1, .timeout_ms = 10000};
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	struct ion_ring_params prm = {
		.channel = 0x0500, .capacity = CAP, .slot_size = SLOT_SIZE};
	size_t len = ion_ring_memsize(CAP, SLOT_SIZE);
	struct pair x;
	pthread_t t;

	if (no_membarrier) {
		printf("\n  skipped: needs membarrier in the process ");
		close(fd);
		return;
	}
	x.r = aligned_alloc(ION_RING_ALIGN, len);
	CU_ASSERT_FATAL(x.r != NULL && fd >= 0);
	CU_ASSERT_FATAL(ion_ring_init(x.r, len, &prm) == 0);
	CU_ASSERT_FATAL(ion_prod_open(&x.p, x.r) == 0);
	setenv("ION_NO_MEMBARRIER", "1", 1);
	CU_ASSERT_FATAL(ion_cons_open(&x.c, x.r) == 0);
	unsetenv("ION_NO_MEMBARRIER");
	CU_ASSERT(x.c.bell.mb == 0 && PROD_BELL(x.r).fences == 0);
	CU_ASSERT(ion_cons_set_eventfd(&x.c, fd) == 0);
	CU_ASSERT(ion_cons_arm(&x.c) == -EOPNOTSUPP);
	CU_ASSERT(armed(&CONS_BELL(x.r).armed) == 0);
	/* the producer has membarrier, so the consumer's bell is covered */
	CU_ASSERT(ion_prod_set_eventfd(&x.p, fd) == 0);
	put(&x, CAP);
	CU_ASSERT(ion_prod_arm(&x.p, 1) == 0);
	CU_ASSERT(ion_prod_disarm(&x.p) == 0);
	take(&x, CAP);
	w.x = &x;
	CU_ASSERT_FATAL(pthread_create(&t, NULL, cons_waiter, &w) == 0);
	sleep_ms(50);
	put(&x, 1);
	pthread_join(t, NULL);
	CU_ASSERT(w.ret == 1);
	CU_ASSERT(w.ms < 5000);
	/* slices: it slept more than once while nothing came */
	CU_ASSERT(CONS_CTRS(x.r).sleeps > 1);
	pair_close(&x);
	close(fd);
}

int
main(int argc, char **argv)
{
	static const struct test_case t[] = {
		TEST(test_wait_ready),
		TEST(test_wait_timeout),
		TEST(test_wake_consumer),
		TEST(test_wake_consumer_target),
		TEST(test_wake_producer),
		TEST(test_wait_eintr),
		TEST(test_eventfd_consumer),
		TEST(test_eventfd_producer),
		TEST(test_eventfd_epoll),
		TEST(test_eventfd_other_process),
		TEST(test_litmus_consumer_waits),
		TEST(test_litmus_producer_waits),
		TEST(test_membarrier_mode),
		TEST(test_fence_mode),
		TEST(test_uncovered_mode),
	};

	no_membarrier = getenv("ION_NO_MEMBARRIER") != NULL &&
			strcmp(getenv("ION_NO_MEMBARRIER"), "1") == 0;
	/* test_ion_doorbell [LITMUS_ROUNDS] */
	if (argc > 1)
		litmus_rounds = (uint32_t)strtoul(argv[1], NULL, 0);
	if (litmus_rounds == 0)
		return 2;
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	if (test_add_suite("doorbell", t, N_TESTS(t)) < 0) {
		CU_cleanup_registry();
		return 1;
	}
	return test_run_all();
}
