/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Two processes, one ring, no DPDK: the test creates a ring in a memfd or
 * a hugetlbfs file, produces into it, and runs itself again as a separate
 * program that attaches to the same ring by path, at whatever address its
 * own mmap gives, and consumes and checks every message.
 *
 *   test_ion_twoproc                         the tests
 *   test_ion_twoproc --consume PATH N        the consumer process
 *   test_ion_twoproc --hold-prod PATH        opens the producer end, waits
 */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ion_ring.h>

#include "cunit_main.h"

#define MESSAGES	1000000u
#define HUGETLBFS_MAGIC 0x958458f6

static const struct ion_ring_params params = {
	.channel = 0x0600,
	.capacity = 256,
	.slot_size = 1514,
	.name = "twoproc",
};

/* ---- the other process ------------------------------------------- */

static int
consume(const char *path, uint64_t n)
{
	struct ion_ring_map m;
	struct ion_cons c;
	uint64_t seq = 0, bad = 0;
	char why[160];
	int rc;

	rc = ion_ring_attach_file(&m, path, -1, &params, why, sizeof(why));
	if (rc < 0) {
		fprintf(stderr, "consumer: attach %s: %s\n", path, why);
		return 3;
	}
	if (ion_cons_open(&c, m.ring) != 0)
		return 4;
	while (seq < n) {
		int got =
			ion_cons_peek_wait(&c, 32, 1, ion_yield_backoff, NULL);
		int i;

		for (i = 0; i < got; i++, seq++) {
			const struct ion_slot *s = ion_cons_slot(&c, i);
			const uint8_t *sd = ion_cons_data(&c, i);
			uint64_t v;

			memcpy(&v, sd, 8);
			if (v != seq || s->len != 9 + seq % 1500 ||
			    sd[s->len - 1] != (uint8_t)seq)
				bad++;
		}
		ion_cons_release(&c, (uint32_t)got);
	}
	ion_cons_close(&c);
	ion_ring_unmap(&m);
	if (bad != 0)
		fprintf(stderr, "consumer: %llu bad messages\n",
			(unsigned long long)bad);
	return bad == 0 ? 0 : 5;
}

static int
hold_prod(const char *path)
{
	struct ion_ring_map m;
	struct ion_prod p;
	char why[160];

	if (ion_ring_attach_file(&m, path, -1, NULL, why, sizeof(why)) < 0 ||
	    ion_prod_open(&p, m.ring) != 0)
		return 3;
	/* tell the parent, then die holding the end */
	if (write(STDOUT_FILENO, "k", 1) != 1)
		return 4;
	pause();
	return 0;
}

/* ---- the tests ---------------------------------------------------- */

static pid_t
spawn(char *const argv[], int *out_fd)
{
	int pfd[2] = {-1, -1};
	pid_t pid;

	if (out_fd != NULL && pipe(pfd) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		if (out_fd != NULL) {
			dup2(pfd[1], STDOUT_FILENO);
			close(pfd[0]);
		}
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	if (out_fd != NULL) {
		close(pfd[1]);
		*out_fd = pfd[0];
	}
	return pid;
}

/* Wait while the consumer lives; give up if it died. */
static int
child_alive(void *arg, uint64_t spins)
{
	pid_t pid = *(pid_t *)arg;

	if (spins % 1024 == 1023 && waitpid(pid, NULL, WNOHANG) == pid)
		return -1;
	return ion_yield_backoff(NULL, spins);
}

/* Produce MESSAGES into @p m while a consumer process at @p path checks. */
static void
produce_to_child(struct ion_ring_map *m, const char *path)
{
	char count[32], *argv[] = {"test_ion_twoproc", "--consume",
				   (char *)path, count, NULL};
	struct ion_ring_stats st;
	struct ion_prod p;
	uint64_t seq = 0;
	int status = -1;
	pid_t pid;

	snprintf(count, sizeof(count), "%u", MESSAGES);
	CU_ASSERT_FATAL(ion_prod_open(&p, m->ring) == 0);
	pid = spawn(argv, NULL);
	CU_ASSERT_FATAL(pid > 0);
	while (seq < MESSAGES) {
		int got = ion_prod_reserve_wait(&p, 32, 1, child_alive, &pid);
		int i;

		if (got < 0) {
			CU_FAIL("the consumer died");
			break;
		}
		if (got > (int)(MESSAGES - seq))
			got = (int)(MESSAGES - seq);
		for (i = 0; i < got; i++, seq++) {
			struct ion_slot *s = ion_prod_slot(&p, (uint32_t)i);
			uint8_t *sd = ion_prod_data(&p, (uint32_t)i);

			s->len = 9 + (uint32_t)(seq % 1500);
			memcpy(sd, &seq, 8);
			sd[s->len - 1] = (uint8_t)seq;
		}
		ion_prod_commit(&p, (uint32_t)got);
	}
	if (seq == MESSAGES) {
		CU_ASSERT(waitpid(pid, &status, 0) == pid);
		CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	ion_ring_stats(m->ring, &st);
	CU_ASSERT(st.enqueued == MESSAGES);
	CU_ASSERT(st.dequeued == MESSAGES);
	CU_ASSERT(ion_ring_cons_part(m->ring)->bell.owner == 0);
	ion_prod_close(&p);
}

static void
test_memfd(void)
{
	struct ion_ring_map m;
	char path[64];

	CU_ASSERT_FATAL(ion_ring_create_memfd(&m, "ion-test", &params, 0) == 0);
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)getpid(), m.fd);
	produce_to_child(&m, path);
	ion_ring_unmap(&m);
}

static int
hugetlbfs_mounted(const char *dir)
{
	struct statfs sf;

	return statfs(dir, &sf) == 0 && sf.f_type == HUGETLBFS_MAGIC;
}

static void
test_hugetlbfs_file(void)
{
	struct ion_ring_map m;
	char path[64];

	/* the README's commands mount it; without it this test cannot run */
	CU_ASSERT_FATAL(hugetlbfs_mounted("/dev/hugepages"));
	snprintf(path, sizeof(path), "/dev/hugepages/ion-test-2p-%d",
		 (int)getpid());
	unlink(path);
	CU_ASSERT_FATAL(ion_ring_create_file(&m, path, &params) == 0);
	/* rounded up to whole huge pages */
	CU_ASSERT(m.len % (2u << 20) == 0);
	produce_to_child(&m, path);
	ion_ring_unmap(&m);
	unlink(path);
}

static void
test_memfd_hugetlb(void)
{
	struct ion_ring_map m;
	char path[64];

	CU_ASSERT_FATAL(ion_ring_create_memfd(&m, "ion-test-huge", &params,
					      MFD_HUGETLB) == 0);
	CU_ASSERT(m.len % (2u << 20) == 0);
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)getpid(), m.fd);
	produce_to_child(&m, path);
	ion_ring_unmap(&m);
}

static void
test_dead_owner(void)
{
	struct ion_ring_map m;
	struct ion_prod p;
	char path[64],
		*argv[] = {"test_ion_twoproc", "--hold-prod", path, NULL};
	int fd = -1, status;
	char k = 0;
	pid_t pid;

	CU_ASSERT_FATAL(
		ion_ring_create_memfd(&m, "ion-test-owner", &params, 0) == 0);
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)getpid(), m.fd);
	pid = spawn(argv, &fd);
	CU_ASSERT_FATAL(pid > 0);
	CU_ASSERT_FATAL(read(fd, &k, 1) == 1 && k == 'k');
	/* a live process holds the producer end */
	CU_ASSERT(ion_ring_prod_part(m.ring)->bell.owner == (uint32_t)pid);
	CU_ASSERT(ion_prod_open(&p, m.ring) == -EBUSY);
	kill(pid, SIGKILL);
	CU_ASSERT(waitpid(pid, &status, 0) == pid);
	/* its claim died with it */
	CU_ASSERT(ion_prod_open(&p, m.ring) == 0);
	CU_ASSERT(ion_ring_prod_part(m.ring)->bell.owner == (uint32_t)getpid());
	ion_prod_close(&p);
	close(fd);
	ion_ring_unmap(&m);
}

int
main(int argc, char **argv)
{
	static const struct test_case t[] = {
		TEST(test_memfd),
		TEST(test_hugetlbfs_file),
		TEST(test_memfd_hugetlb),
		TEST(test_dead_owner),
	};

	if (argc == 4 && strcmp(argv[1], "--consume") == 0)
		return consume(argv[2], strtoull(argv[3], NULL, 0));
	if (argc == 3 && strcmp(argv[1], "--hold-prod") == 0)
		return hold_prod(argv[2]);
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	if (test_add_suite("twoproc", t, N_TESTS(t)) < 0) {
		CU_cleanup_registry();
		return 1;
	}
	return test_run_all();
}
