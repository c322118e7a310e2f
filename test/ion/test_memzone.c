/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The memzone backing: a DPDK primary process creates a ring in a hugepage
 * memzone and produces into it; a DPDK secondary process (this program run
 * again with --secondary) finds the ring by its memzone name, checks the
 * header, consumes and verifies every message, asleep on its doorbell (a
 * futex on a word of the hugepage memzone, across the two processes)
 * whenever the ring is empty.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_memzone.h>

#include <ion_memzone.h>
#include <ion_ring.h>

#include "cunit_main.h"

#define MESSAGES 200000u

static char prefix[64];

static const struct ion_ring_params params = {
	.channel = ION_CH_NET_RX,
	.capacity = ION_NET_SLOTS,
	.slot_size = ION_NET_SLOT_SIZE,
};

static int
eal_init(const char *proc_type)
{
	char *argv[] = {"test_ion_memzone",
			"-l",
			"0",
			"--no-pci",
			"--file-prefix",
			prefix,
			"-m",
			"64",
			"--log-level",
			"*:error",
			(char *)proc_type,
			NULL};

	return rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv);
}

/* ---- the secondary process ---------------------------------------- */

static int
secondary(void)
{
	struct ion_ring_params wrong = params;
	struct ion_ring *r;
	struct ion_cons c;
	uint64_t seq = 0, bad = 0;
	char name[32];

	if (eal_init("--proc-type=secondary") < 0)
		return 3;
	ion_memzone_name(ION_CH_NET_RX, name, sizeof(name));
	/* a mismatched expectation and a missing zone are refused */
	wrong.slot_size = 256;
	if (ion_memzone_lookup(name, &wrong, &r) != -ERANGE ||
	    ion_memzone_lookup("ion_0x0999", NULL, &r) != -ENOENT)
		return 4;
	if (ion_memzone_lookup(name, &params, &r) != 0 ||
	    ion_cons_open(&c, r) != 0)
		return 5;
	while (seq < MESSAGES) {
		int got = (int)ion_cons_peek(&c, 32);
		int i;

		if (got == 0)
			got = ion_cons_wait(&c, 1, 10000);
		if (got < 0)
			return 7; /* not woken within 10 s */

		for (i = 0; i < got; i++, seq++) {
			const struct ion_slot *s = ion_cons_slot(&c, i);
			const uint8_t *sd = ion_cons_data(&c, i);
			uint64_t v;

			memcpy(&v, sd, 8);
			if (v != seq || s->len != 8 + seq % 1000)
				bad++;
		}
		ion_cons_release(&c, (uint32_t)got);
	}
	ion_cons_close(&c);
	rte_eal_cleanup();
	return bad == 0 ? 0 : 6;
}

/* ---- the primary -------------------------------------------------- */

static void
test_names(void)
{
	char name[32];

	ion_memzone_name(0x0500, name, sizeof(name));
	CU_ASSERT(strcmp(name, "ion_0x0500") == 0);
	ion_memzone_name(0x2001, name, sizeof(name));
	CU_ASSERT(strcmp(name, "ion_0x2001") == 0);
}

/* Messages the consumer took so far. */
static uint64_t
dequeued_so_far(const struct ion_ring *r)
{
	struct ion_ring_stats st;

	ion_ring_stats(r, &st);
	return st.dequeued;
}

/* Wait while the consumer lives; give up if it died. */
static int
child_alive(void *arg, uint64_t spins)
{
	pid_t *pid = arg;
	int status;

	if (spins % 1024 == 1023 && waitpid(*pid, &status, WNOHANG) == *pid) {
		*pid = WIFEXITED(status) ? -WEXITSTATUS(status) : -128;
		return -1;
	}
	return ion_yield_backoff(NULL, spins);
}

/*
 * Run the secondary.  EAL maps the primary's memory at the same addresses;
 * with address-space randomisation (and ASan's shadow) a library of the new
 * process sometimes sits there already, and EAL init fails (exit 3).  That
 * is the environment, not the ring: try again, a few times.
 */
static pid_t
spawn_secondary(char *const argv[])
{
	pid_t pid = fork();

	if (pid == 0) {
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	return pid;
}

static void
test_primary_secondary(void)
{
	char *argv[] = {"test_ion_memzone", "--secondary", prefix, NULL};
	struct ion_ring_stats st;
	struct ion_ring *r, *again;
	struct ion_prod p;
	uint64_t seq = 0;
	int status = -1, attempts = 0;
	pid_t pid;

	CU_ASSERT_FATAL(ion_memzone_create(&params, SOCKET_ID_ANY, &r) == 0);
	CU_ASSERT(ion_memzone_create(&params, SOCKET_ID_ANY, &again) ==
		  -EEXIST);
	/* the memzone is hugepage memory, its ring cache-line aligned */
	CU_ASSERT(((uintptr_t)r & (ION_RING_ALIGN - 1)) == 0);
	CU_ASSERT_FATAL(ion_prod_open(&p, r) == 0);
	pid = spawn_secondary(argv);
	CU_ASSERT_FATAL(pid > 0);
	while (seq < MESSAGES) {
		int got = ion_prod_reserve_wait(&p, 32, 1, child_alive, &pid);
		int i;

		if (got < 0 && pid == -3 && dequeued_so_far(r) == 0 &&
		    attempts++ < 5) {
			pid = spawn_secondary(argv); /* EAL init failed */
			CU_ASSERT_FATAL(pid > 0);
			continue;
		}
		if (got < 0) {
			CU_FAIL("the secondary died");
			break;
		}
		if (got > (int)(MESSAGES - seq))
			got = (int)(MESSAGES - seq);
		for (i = 0; i < got; i++, seq++) {
			struct ion_slot *s = ion_prod_slot(&p, (uint32_t)i);
			uint8_t *sd = ion_prod_data(&p, (uint32_t)i);

			s->len = 8 + (uint32_t)(seq % 1000);
			memcpy(sd, &seq, 8);
		}
		ion_prod_commit(&p, (uint32_t)got);
	}
	if (seq == MESSAGES) {
		CU_ASSERT(waitpid(pid, &status, 0) == pid);
		CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	ion_ring_stats(r, &st);
	CU_ASSERT(st.dequeued == MESSAGES);
	printf("\n  the secondary slept %llu times, woken %llu\n",
	       (unsigned long long)st.cons_sleeps,
	       (unsigned long long)st.prod_wakeups);
	ion_prod_close(&p);
	CU_ASSERT(ion_memzone_free(r) == 0);
	CU_ASSERT(rte_memzone_lookup("ion_0x0500") == NULL);
}

/* A ring of another layout version is refused by name too. */
static void
test_version(void)
{
	struct ion_ring_params p = params;
	struct ion_ring *r, *found = NULL;
	char name[32];

	p.channel = ION_CH_NET_TX;
	ion_memzone_name(p.channel, name, sizeof(name));
	CU_ASSERT_FATAL(ion_memzone_create(&p, SOCKET_ID_ANY, &r) == 0);
	r->hdr.version = 2; /* before the doorbells */
	CU_ASSERT(ion_memzone_lookup(name, NULL, &found) == -EPROTO);
	CU_ASSERT(found == NULL);
	r->hdr.version = ION_RING_VERSION;
	CU_ASSERT(ion_memzone_lookup(name, NULL, &found) == 0);
	CU_ASSERT(found == r);
	CU_ASSERT(ion_memzone_free(r) == 0);
}

/* EAL leaves its runtime directory behind; a test leaves nothing. */
static void
remove_runtime_dir(void)
{
	char dir[128], f[400];
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "/var/run/dpdk/%s", prefix);
	d = opendir(dir);
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(f, sizeof(f), "%s/%s", dir, e->d_name);
		unlink(f);
	}
	closedir(d);
	rmdir(dir);
}

int
main(int argc, char **argv)
{
	static const struct test_case t[] = {
		TEST(test_names),
		TEST(test_primary_secondary),
		TEST(test_version),
	};
	int rc;

	if (argc == 3 && strcmp(argv[1], "--secondary") == 0) {
		snprintf(prefix, sizeof(prefix), "%s", argv[2]);
		return secondary();
	}
	snprintf(prefix, sizeof(prefix), "ion-test-mz-%d", (int)getpid());
	if (eal_init("--proc-type=primary") < 0) {
		fprintf(stderr, "rte_eal_init failed: hugepages reserved?\n");
		return 1;
	}
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	if (test_add_suite("memzone", t, N_TESTS(t)) < 0) {
		CU_cleanup_registry();
		return 1;
	}
	rc = test_run_all();
	rte_eal_cleanup();
	remove_runtime_dir();
	return rc;
}
