/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * External fibers without DPDK (claim_host.h): claims that succeed and
 * what their claimants do with them: 10 M messages to an external
 * consumer (1 M asleep on futex or epoll), a write to a read-only page
 * killed by SIGSEGV and recorded as a capability fault, a channel not
 * granted refused and killed, a busy fiber, the operator's kill, a
 * claimer that lets go of its socket, one killed in the middle of a burst
 * and a new claim (nothing handled twice, the counters add up).
 * test_claim_refuse.c has the claims that are refused.
 *
 *   test_ion_claim [MESSAGES]
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ion_claimd.h>
#include <ion_ring.h>

#include "claim_host.h"
#include "cunit_main.h"

static uint64_t messages = 10000000;

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
	status = serve(spawn(mode, "app", n, 0, 0, -1), 1, 1);
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
	CU_ASSERT(serve(spawn("consume", "app", 0, 0, 0, -1), 1, 2) == 0);
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
test_write_read_only(void)
{
	int status;

	host_start(1);
	status = serve(spawn("write-ro", "app", 0, 0, 0, -1), 0, 1);
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
	status = serve(spawn("ask", "app", 0, 0, 0, -1), 1, 1);
	/* refused, then killed by the host */
	CU_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	CU_ASSERT(h.last_end.killed && h.last_end.fault);
	CU_ASSERT(h.last_end.channel == CH_NOT &&
		  h.last_end.perm == ION_PERM_READ);
	CU_ASSERT(strstr(h.last_end.why, "not granted") != NULL);
	/* killed, and its manifest does not let it restart */
	CU_ASSERT(serve(spawn("no-restart", "app", 0, 0, 0, -1), 1, 1) == 0);
	host_stop();
}

static void
test_busy_and_drop(void)
{
	pid_t holder;
	int status;

	host_start(1);
	holder = spawn("hold", "app", 0, 0, 0, -1);
	/* a second claimer while the first holds it */
	while (h.claimed == 0) {
		ion_claimd_poll(h.d);
		usleep(1000);
	}
	CU_ASSERT(serve(spawn("busy", "app", 0, 0, 0, -1), 1, 0) == 0);
	/* the operator kills the holder */
	CU_ASSERT(ion_claimd_kill(h.d, (unsigned int)h.app_fiber,
				  "killed by the operator") == 0);
	status = serve(holder, 1, 1);
	CU_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	CU_ASSERT(strcmp(h.last_end.why, "killed by the operator") == 0);
	/* one that lets go of its socket without giving back: ended */
	status = serve(spawn("drop-socket", "app", 0, 0, 0, -1), 1, 2);
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
	status = serve(spawn("die-mid-burst", "app", 100, 0, 0, pipefd[1]), 1,
		       1);
	CU_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	CU_ASSERT(h.last_end.killed && !h.last_end.fault);
	CU_ASSERT(h.last_end.skipped == 7);
	/* a new claim restarts it: it handles all but 7, then 3 of those */
	status = serve(spawn("die-mid-burst", "app", n - 114, 0, 0, pipefd[1]),
		       1, 2);
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
		TEST(test_consume_epoll),   TEST(test_write_read_only),
		TEST(test_ask_not_granted), TEST(test_busy_and_drop),
		TEST(test_die_mid_burst),
	};

	if (argc > 4 && strcmp(argv[1], "--client") == 0)
		return claim_client(argc, argv);
	if (argc > 1)
		messages = strtoull(argv[1], NULL, 0);
	signal(SIGPIPE, SIG_IGN);
	if (CU_initialize_registry() != CUE_SUCCESS ||
	    test_add_suite("claim", claim, N_TESTS(claim)) < 0)
		return 1;
	return test_run_all();
}
