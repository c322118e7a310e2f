/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * External fibers without DPDK: this program is the host (a claim server,
 * ion_claimd, on a socket of its own, with split rings and a producer
 * thread) and, run again with --client, the processes that claim its
 * fibers through libion (ion_fiber_attach).
 *
 *   test_ion_claim [MESSAGES]                  the tests
 *   test_ion_claim --client MODE SOCK FIBER N  a claimer
 *
 * The claimer modes: consume N messages (polling, futex waits, or asleep
 * in epoll on its eventfd), write the producer's page of a ring it may
 * only read, ask for a channel it does not hold, die in the middle of a
 * burst, let go of its socket without giving its rings back.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ion_ring.h>

#include "cunit_main.h"

#define CH_APP	  0x0602 /* the fibers read it: the host produces */
#define CH_OUT	  0x0603 /* "app" writes it: the host consumes */
#define CH_NOT	  0x0604 /* nobody's */
#define SLOTS	  1024
#define SLOT_SIZE 64
#define BURST	  32
#define OTHER_UID 65534

static uint64_t messages = 10000000;

/* ---- the claimer --------------------------------------------------- */

static int
client_consume(struct ion_fiber *f, const char *mode, uint64_t n)
{
	int efd = -1, sleepy = strcmp(mode, "consume-epoll") == 0;
	uint64_t seq = 0, bad = 0;
	struct ion_cons c;
	struct ion_prod o;

	if (ion_cspace_open_cons(&f->cs, CH_APP, &c) != 0 ||
	    ion_cspace_open_prod(&f->cs, CH_OUT, &o) != 0)
		return 20;
	if (sleepy) {
		/* the eventfd given at attach, found again by its ring */
		efd = (int)strtol(getenv("ION_TEST_EFD"), NULL, 10);
		if (ion_cons_set_eventfd(&c, efd) != 0)
			return 21;
	}
	while (seq < n) {
		uint32_t got = ion_cons_peek(&c, BURST), i;

		if (got == 0) {
			if (sleepy) {
				struct pollfd p = {.fd = efd, .events = POLLIN};
				uint64_t v;

				if (ion_cons_arm(&c) != 0)
					return 22;
				ion_arm_barrier();
				if (ion_cons_ready(&c) == 0)
					poll(&p, 1, 1000);
				if (read(efd, &v, sizeof(v)) < 0) {
					/* EAGAIN: woken by the look again */
				}
				ion_cons_disarm(&c);
			} else if (strcmp(mode, "consume-wait") == 0) {
				int r = ion_cons_wait(&c, 1, 5000);

				if (r < 0 && r != -ETIMEDOUT)
					return 23;
			}
			continue;
		}
		for (i = 0; i < got; i++, seq++) {
			uint64_t v;

			memcpy(&v, ion_cons_data(&c, i), sizeof(v));
			if (v != seq || ion_cons_len(&c, i) != 8 + seq % 50)
				bad++;
		}
		ion_cons_release(&c, got);
	}
	/* and one message back the other way, through its WRITE grant */
	if (ion_enqueue(&o, &seq, sizeof(seq)) != 0)
		return 24;
	ion_prod_close(&o);
	ion_cons_close(&c);
	if (bad != 0)
		fprintf(stderr, "client: %llu bad messages\n",
			(unsigned long long)bad);
	return bad == 0 ? 0 : 25;
}

/* Handle @n messages, writing each sequence to stdout as it is handled,
 * then peek 7 more, handle 3 of them and die. */
static int
client_die_mid_burst(struct ion_fiber *f, uint64_t n)
{
	uint64_t done = 0;
	struct ion_cons c;

	if (ion_cspace_open_cons(&f->cs, CH_APP, &c) != 0)
		return 30;
	for (;;) {
		uint32_t want = done < n ? BURST : 7, i;

		if (done < n && n - done < want)
			want = (uint32_t)(n - done);
		/* peek exactly the burst: what a take-back would skip */
		if (ion_cons_peek(&c, want) < want) {
			if (ion_cons_wait(&c, want, 5000) < 0)
				return 31;
			continue;
		}
		for (i = 0; i < want; i++) {
			uint64_t v;

			memcpy(&v, ion_cons_data(&c, i), sizeof(v));
			if (write(1, &v, sizeof(v)) != sizeof(v))
				return 32;
			if (done >= n && i == 2)
				raise(SIGKILL); /* 3 of 7 handled */
		}
		ion_cons_release(&c, want);
		done += want;
	}
}

static int
client(int argc, char **argv)
{
	const char *mode = argv[2], *sock = argv[3], *name = argv[4];
	uint64_t n = argc > 5 ? strtoull(argv[5], NULL, 0) : 0;
	struct ion_fiber *f;
	char why[160] = "";
	int efd = -1, rc;

	/* the kernel's verdict on a fault, not a sanitizer's report, and
	 * no core file */
	signal(SIGSEGV, SIG_DFL);
	setrlimit(RLIMIT_CORE, &(struct rlimit){0, 0});
	if (strcmp(mode, "consume-epoll") == 0) {
		char v[16];

		efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		snprintf(v, sizeof(v), "%d", efd);
		setenv("ION_TEST_EFD", v, 1);
	}
	rc = ion_fiber_attach(sock, name, efd, &f, why, sizeof(why));
	if (strcmp(mode, "refused") == 0) {
		/* a wrong uid: refused, with the host's reason */
		fprintf(stderr, "client: refused: %s\n", why);
		return rc == -EACCES && strstr(why, "may not claim") ? 0 : 40;
	}
	if (strcmp(mode, "busy") == 0)
		return rc == -EBUSY ? 0 : 41;
	if (strcmp(mode, "no-restart") == 0)
		return rc == -ESRCH ? 0 : 42;
	if (rc < 0) {
		fprintf(stderr, "client: attach: %s\n", why);
		return 10;
	}
	if (strncmp(mode, "consume", 7) == 0) {
		rc = client_consume(f, mode, n);
		ion_fiber_detach(f);
		return rc;
	}
	if (strcmp(mode, "die-mid-burst") == 0)
		return client_die_mid_burst(f, n);
	if (strcmp(mode, "write-ro") == 0) {
		const struct ion_cap *cap = ion_cspace_lookup(&f->cs, CH_APP);

		/* READ grant: the producer's page is mapped read-only */
		__atomic_store_n(&ion_ring_prod_part(cap->ring)->pub.word, 0,
				 __ATOMIC_RELAXED);
		return 50; /* not reached */
	}
	if (strcmp(mode, "ask") == 0) {
		/* a channel it does not hold: refused, then killed */
		rc = ion_fiber_map(f, CH_NOT, ION_PERM_READ, why, sizeof(why));
		if (rc != -EACCES || strstr(why, "capability fault") == NULL)
			return 51;
		sleep(10);
		return 52; /* not reached: the host kills it */
	}
	if (strcmp(mode, "hold") == 0) {
		/* stays claimed until killed */
		sleep(30);
		return 53;
	}
	if (strcmp(mode, "drop-socket") == 0) {
		close(f->sock);
		sleep(10);
		return 54;
	}
	return 2;
}

/* ---- the host -------------------------------------------------------- */

struct host {
	char sock[108];
	struct ion_claimd *d;
	struct ion_ring_map app, out;
	int app_fiber, strict_fiber;
	int prod_efd; /* the producer thread sleeps on it */
	/* what the callbacks saw */
	unsigned int claimed, refused, ended;
	uint32_t last_refused_uid, last_pid;
	struct ion_claimd_end last_end;
	/* the producer thread */
	pthread_t thr;
	uint64_t sent;
	uint32_t stop;
};

static struct host h;

static void
on_claimed(void *arg, uint32_t pid)
{
	(void)arg;
	h.claimed++;
	h.last_pid = pid;
}

static void
on_ended(void *arg, const struct ion_claimd_end *e)
{
	(void)arg;
	h.ended++;
	h.last_end = *e;
}

static void
on_refused(void *arg, uint32_t uid, uint32_t pid, const char *why)
{
	(void)arg;
	(void)pid;
	(void)why;
	h.refused++;
	h.last_refused_uid = uid;
}

/* The host's producer of CH_APP: @messages, each its sequence number
 * and 8 + seq % 50 bytes long; asleep on its eventfd when full. */
static void *
producer(void *arg)
{
	struct ion_cspace cs;
	struct ion_prod p;
	uint64_t seq = 0, target = *(uint64_t *)arg;

	ion_cspace_init(&cs);
	ion_cspace_grant(&cs, h.app.ring, ION_PERM_WRITE);
	ion_cspace_set_wake_fd(&cs, CH_APP, ion_claimd_wake_fd(h.d, 0));
	if (ion_cspace_open_prod(&cs, CH_APP, &p) != 0 ||
	    ion_prod_set_eventfd(&p, h.prod_efd) != 0)
		return NULL;
	while (seq < target && !__atomic_load_n(&h.stop, __ATOMIC_ACQUIRE)) {
		uint32_t n = ion_prod_reserve(&p, BURST), i;

		if (n == 0) {
			struct pollfd pf = {.fd = h.prod_efd, .events = POLLIN};
			uint64_t v;

			if (ion_prod_arm(&p, 1) == 0) {
				ion_arm_barrier();
				if (ion_prod_room(&p) == 0)
					poll(&pf, 1, 100);
				if (read(h.prod_efd, &v, sizeof(v)) < 0) {
					/* EAGAIN: the look again found room */
				}
				ion_prod_disarm(&p);
			}
			continue;
		}
		if (target - seq < n)
			n = (uint32_t)(target - seq);
		for (i = 0; i < n; i++, seq++) {
			memcpy(ion_prod_data(&p, i), &seq, sizeof(seq));
			ion_prod_slot(&p, i)->len = 8 + (uint32_t)(seq % 50);
		}
		ion_prod_commit(&p, n);
	}
	ion_prod_close(&p);
	/* release: the count is read after the join */
	__atomic_store_n(&h.sent, seq, __ATOMIC_RELEASE);
	return NULL;
}

static void
host_start(int restart)
{
	const struct ion_claimd_ops ops = {.claimed = on_claimed,
					   .ended = on_ended,
					   .refused = on_refused};
	struct ion_ring_params pa = {.channel = CH_APP,
				     .capacity = SLOTS,
				     .slot_size = SLOT_SIZE,
				     .name = "app"};
	struct ion_ring_params po = {.channel = CH_OUT,
				     .capacity = 64,
				     .slot_size = SLOT_SIZE,
				     .name = "out"};
	struct ion_claimd_grant g[2];
	struct ion_claimd_fiber fb = {.name = "app",
				      .uid = getuid(),
				      .gid = ION_CLAIMD_ANY_GID,
				      .restart = restart,
				      .n_grants = 2,
				      .grants = g};

	memset(&h, 0, sizeof(h));
	snprintf(h.sock, sizeof(h.sock), "/tmp/ion-test-claim.%d.sock",
		 (int)getpid());
	h.prod_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	CU_ASSERT_FATAL(
		ion_ring_create_split(&h.app, "app", &pa, ION_SPLIT_HUGE) == 0);
	CU_ASSERT_FATAL(ion_ring_create_split(&h.out, "out", &po, 0) == 0);
	CU_ASSERT_FATAL(ion_claimd_open(&h.d, h.sock, &ops) == 0);
	g[0] = (struct ion_claimd_grant){CH_APP, ION_PERM_READ, &h.app,
					 h.prod_efd};
	g[1] = (struct ion_claimd_grant){CH_OUT, ION_PERM_WRITE, &h.out, -1};
	h.app_fiber = ion_claimd_add(h.d, &fb);
	CU_ASSERT_FATAL(h.app_fiber == 0);
	/* another fiber, for another uid only */
	fb.name = "strict";
	fb.uid = OTHER_UID;
	fb.n_grants = 1;
	h.strict_fiber = ion_claimd_add(h.d, &fb);
	CU_ASSERT_FATAL(h.strict_fiber == 1);
}

static void
host_stop(void)
{
	ion_claimd_close(h.d);
	ion_ring_unmap(&h.app);
	ion_ring_unmap(&h.out);
	close(h.prod_efd);
}

static void
produce(uint64_t *target)
{
	CU_ASSERT_FATAL(pthread_create(&h.thr, NULL, producer, target) == 0);
}

static void
produce_join(void)
{
	__atomic_store_n(&h.stop, 1, __ATOMIC_RELEASE);
	pthread_join(h.thr, NULL);
}

/* A claimer: this program again, as @uid (0: ours), stdout to @out_fd. */
static pid_t
spawn(const char *mode, const char *fiber, uint64_t n, uid_t uid, int out_fd)
{
	char ns[32], *argv[7];
	pid_t pid;

	snprintf(ns, sizeof(ns), "%llu", (unsigned long long)n);
	argv[0] = "test_ion_claim";
	argv[1] = "--client";
	argv[2] = (char *)mode;
	argv[3] = h.sock;
	argv[4] = (char *)fiber;
	argv[5] = ns;
	argv[6] = NULL;
	pid = fork();
	if (pid == 0) {
		if (out_fd >= 0)
			dup2(out_fd, 1);
		if (uid != 0 && (setgid(uid) != 0 || setuid(uid) != 0))
			_exit(99);
		execv("/proc/self/exe", argv);
		_exit(98);
	}
	return pid;
}

/* Serve until @pid exits (reaping it when @reap; a zombie otherwise)
 * and @ended claims have ended; 60 s at most.  @return its status. */
static int
serve(pid_t pid, int reap, unsigned int ended)
{
	struct pollfd p = {.fd = ion_claimd_fd(h.d), .events = POLLIN};
	int status = -1, done = 0;
	time_t t0 = time(NULL);

	while (time(NULL) - t0 < 60) {
		poll(&p, 1, 10);
		ion_claimd_poll(h.d);
		if (!done) {
			siginfo_t si = {0};

			/* exited? (WNOWAIT leaves the zombie) */
			if (waitid(P_PID, (id_t)pid, &si,
				   WEXITED | WNOHANG | (reap ? 0 : WNOWAIT)) ==
				    0 &&
			    si.si_pid == pid) {
				done = 1;
				status = si.si_code == CLD_EXITED
						 ? si.si_status << 8
						 : si.si_status;
			}
		}
		if (done && h.ended >= ended)
			break;
	}
	if (!reap)
		waitpid(pid, NULL, 0);
	return status;
}

/* ---- the cases ------------------------------------------------------- */

static void
consume(const char *mode, uint64_t n)
{
	struct ion_ring_stats st;
	struct ion_cons back;
	struct ion_cspace cs;
	uint64_t got = 0;
	int status;

	host_start(0);
	produce(&n);
	status = serve(spawn(mode, "app", n, 0, -1), 1, 1);
	produce_join();
	CU_ASSERT(status == 0);
	if (status != 0)
		fprintf(stderr, "(claimer status 0x%x) ", status);
	CU_ASSERT(h.sent == n);
	CU_ASSERT(h.claimed == 1 && h.ended == 1 && h.refused == 0);
	/* it gave everything back and lives on: not killed */
	CU_ASSERT(h.last_end.killed == 0 && h.last_end.fault == 0);
	ion_ring_stats(h.app.ring, &st);
	CU_ASSERT(st.enqueued == n && st.dequeued == n && st.used == 0);
	CU_ASSERT(st.abandoned == 0);
	/* what it wrote through its WRITE grant arrived */
	ion_cspace_init(&cs);
	ion_cspace_grant(&cs, h.out.ring, ION_PERM_READ);
	CU_ASSERT_FATAL(ion_cspace_open_cons(&cs, CH_OUT, &back) == 0);
	CU_ASSERT(ion_dequeue(&back, &got, sizeof(got)) == 8 && got == n);
	ion_cons_close(&back);
	/* and a new claim is welcome */
	CU_ASSERT(serve(spawn("consume", "app", 0, 0, -1), 1, 2) == 0);
	host_stop();
}

static void
test_consume_poll(void)
{
	consume("consume", messages);
}

static void
test_consume_futex(void)
{
	consume("consume-wait", messages / 10);
}

static void
test_consume_epoll(void)
{
	consume("consume-epoll", messages / 10);
}

static void
test_wrong_uid(void)
{
	if (geteuid() != 0) {
		fprintf(stderr, "(not root: no other uid to try) ");
		return;
	}
	host_start(0);
	/* uid 65534 asks for a fiber of ours; ours asks for its */
	CU_ASSERT(serve(spawn("refused", "app", 0, OTHER_UID, -1), 1, 0) == 0);
	CU_ASSERT(h.refused == 1 && h.last_refused_uid == OTHER_UID);
	CU_ASSERT(serve(spawn("refused", "strict", 0, 0, -1), 1, 0) == 0);
	CU_ASSERT(h.refused == 2 && h.last_refused_uid == 0);
	CU_ASSERT(h.claimed == 0);
	host_stop();
}

static void
test_write_read_only(void)
{
	int status;

	host_start(1);
	status = serve(spawn("write-ro", "app", 0, 0, -1), 0, 1);
	/* the MMU said no: killed by SIGSEGV ... */
	CU_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
	/* ... recorded as a capability fault on the ring, with the signal
	 * (the host read the status while the process was a zombie) */
	CU_ASSERT(h.ended == 1 && h.last_end.killed && h.last_end.fault);
	CU_ASSERT(h.last_end.channel == CH_APP &&
		  h.last_end.perm == ION_PERM_WRITE);
	CU_ASSERT(WIFSIGNALED(h.last_end.status) &&
		  WTERMSIG(h.last_end.status) == SIGSEGV);
	CU_ASSERT(strstr(h.last_end.why, "capability fault") != NULL);
	fprintf(stderr, "(%s) ", h.last_end.why);
	/* the ring is as it was */
	CU_ASSERT((uint32_t)ion_ring_prod_part(h.app.ring)->pub.word == 0);
	host_stop();
}

static void
test_ask_not_granted(void)
{
	int status;

	host_start(0);
	status = serve(spawn("ask", "app", 0, 0, -1), 1, 1);
	/* refused, then killed by the host */
	CU_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	CU_ASSERT(h.last_end.killed && h.last_end.fault);
	CU_ASSERT(h.last_end.channel == CH_NOT &&
		  h.last_end.perm == ION_PERM_READ);
	CU_ASSERT(strstr(h.last_end.why, "not granted") != NULL);
	/* killed, and its manifest does not let it restart */
	CU_ASSERT(serve(spawn("no-restart", "app", 0, 0, -1), 1, 1) == 0);
	host_stop();
}

static void
test_busy_and_drop(void)
{
	pid_t holder;
	int status;

	host_start(1);
	holder = spawn("hold", "app", 0, 0, -1);
	/* a second claimer while the first holds it */
	while (h.claimed == 0) {
		ion_claimd_poll(h.d);
		usleep(1000);
	}
	CU_ASSERT(serve(spawn("busy", "app", 0, 0, -1), 1, 0) == 0);
	/* the operator kills the holder */
	CU_ASSERT(ion_claimd_kill(h.d, (unsigned int)h.app_fiber,
				  "killed by the operator") == 0);
	status = serve(holder, 1, 1);
	CU_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	CU_ASSERT(strcmp(h.last_end.why, "killed by the operator") == 0);
	/* one that lets go of its socket without giving back: ended */
	status = serve(spawn("drop-socket", "app", 0, 0, -1), 1, 2);
	CU_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	CU_ASSERT(strstr(h.last_end.why, "without giving") != NULL);
	host_stop();
}

static void
test_die_mid_burst(void)
{
	uint64_t seen[2000], v, n = 1000, total = 0;
	struct ion_ring_stats st;
	int pipefd[2], status;
	unsigned int i, dup = 0;
	ssize_t r;

	host_start(1);
	produce(&n);
	CU_ASSERT_FATAL(pipe(pipefd) == 0);
	/* the first claimer handles 100, then 3 of the next 7, and dies */
	status = serve(spawn("die-mid-burst", "app", 100, 0, pipefd[1]), 1, 1);
	CU_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	CU_ASSERT(h.last_end.killed && !h.last_end.fault);
	CU_ASSERT(h.last_end.skipped == 7);
	/* a new claim restarts it: it handles all but 7, then 3 of those */
	status = serve(spawn("die-mid-burst", "app", n - 114, 0, pipefd[1]), 1,
		       2);
	CU_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	produce_join();
	close(pipefd[1]);
	while ((r = read(pipefd[0], &v, sizeof(v))) == sizeof(v) &&
	       total < 2000)
		seen[total++] = v;
	close(pipefd[0]);
	/* every message handled at most once, in order */
	for (i = 1; i < total; i++)
		if (seen[i] <= seen[i - 1])
			dup++;
	CU_ASSERT(dup == 0);
	/* 100 + 3, then n - 114 + 3: the 4 + 4 skipped never arrived */
	CU_ASSERT(total == 103 + (n - 114) + 3);
	ion_ring_stats(h.app.ring, &st);
	CU_ASSERT(st.abandoned == 14);
	CU_ASSERT(st.enqueued == st.dequeued + st.abandoned + st.used);
	CU_ASSERT(st.enqueued == n);
	host_stop();
}

int
main(int argc, char **argv)
{
	static const struct test_case claim[] = {
		TEST(test_consume_poll),    TEST(test_consume_futex),
		TEST(test_consume_epoll),   TEST(test_wrong_uid),
		TEST(test_write_read_only), TEST(test_ask_not_granted),
		TEST(test_busy_and_drop),   TEST(test_die_mid_burst),
	};

	if (argc > 4 && strcmp(argv[1], "--client") == 0)
		return client(argc, argv);
	if (argc > 1)
		messages = strtoull(argv[1], NULL, 0);
	signal(SIGPIPE, SIG_IGN);
	if (CU_initialize_registry() != CUE_SUCCESS ||
	    test_add_suite("claim", claim, N_TESTS(claim)) < 0)
		return 1;
	return test_run_all();
}
