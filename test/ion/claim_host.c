/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The host and the claimer of the claim tests (claim_host.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <link.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ion_claimd.h>
#include <ion_ring.h>

#include "claim_host.h"
#include "cunit_main.h"
/* the wire format only (its functions are libion's own) */
#include "ion_claim_proto.h"

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

/* @n claims of @name, one after the other, each given 5 s and given
 * back: 0 if every one succeeded at its first try. */
static int
client_claims(const char *sock, const char *name, uint64_t n)
{
	struct ion_fiber *f;
	char why[160] = "";
	uint64_t i, failed = 0;
	int rc;

	for (i = 0; i < n; i++) {
		rc = ion_fiber_attach_timeout(sock, name, -1, 5000, &f, why,
					      sizeof(why));
		if (rc < 0) {
			fprintf(stderr, "client: claim %llu: %s: %s\n",
				(unsigned long long)i, strerrorname_np(-rc),
				why);
			failed++;
			continue;
		}
		ion_fiber_detach(f);
	}
	return failed == 0 ? 0 : 60;
}

int
claim_client(int argc, char **argv)
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
	if (strcmp(mode, "claims") == 0)
		return client_claims(sock, name, n);
	rc = ion_fiber_attach(sock, name, efd, &f, why, sizeof(why));
	if (strcmp(mode, "expect") == 0) {
		/* refused with errno n, or (n = 0) attached */
		if (rc != -(int)n)
			fprintf(stderr, "client: %s: %s, not %s: %s\n", name,
				strerrorname_np(-rc), strerrorname_np((int)n),
				why);
		if (rc == 0)
			ion_fiber_detach(f);
		return rc == -(int)n ? 0 : 40;
	}
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
	if (strcmp(mode, "claim-twice") == 0) {
		/* out of order: refused, then killed as a breach */
		struct ion_claim_msg m;

		memset(&m, 0, sizeof(m));
		m.magic = ION_CLAIM_MAGIC;
		m.version = ION_CLAIM_VERSION;
		m.op = ION_CLAIM_CLAIM;
		snprintf(m.name, sizeof(m.name), "%s", name);
		if (send(f->sock, &m, sizeof(m), MSG_NOSIGNAL) != sizeof(m))
			return 56;
		if (recv(f->sock, &m, sizeof(m), 0) != sizeof(m) ||
		    m.op != ION_CLAIM_ERR || m.err != -EBADMSG)
			return 57;
		sleep(10);
		return 55; /* not reached: the host kills it */
	}
	if (strcmp(mode, "drop-socket") == 0) {
		close(f->sock);
		sleep(10);
		return 54;
	}
	return 2;
}

/* ---- the host -------------------------------------------------------- */

struct host h;

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
on_refused(void *arg, uint32_t uid, uint32_t pid, int err, const char *why)
{
	h.refused++;
	h.last_refused_arg = arg;
	h.last_refused_uid = uid;
	h.last_refused_pid = pid;
	h.last_err = err;
	snprintf(h.last_why, sizeof(h.last_why), "%s", why);
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

void
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

	struct ion_claimd_conf conf = {
		.path = h.sock,
		.gid = geteuid() == 0 ? OTHER_GID : ION_CLAIMD_HOST_GID,
	};

	memset(&h, 0, sizeof(h));
	snprintf(h.sock, sizeof(h.sock), "/tmp/ion-test-claim.%d.sock",
		 (int)getpid());
	h.prod_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	CU_ASSERT_FATAL(
		ion_ring_create_split(&h.app, "app", &pa, ION_SPLIT_HUGE) == 0);
	CU_ASSERT_FATAL(ion_ring_create_split(&h.out, "out", &po, 0) == 0);
	CU_ASSERT_FATAL(ion_claimd_open(&h.d, &conf, &ops) == 0);
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
	/* ours, but only in a group nobody here is in */
	fb.name = "grouped";
	fb.uid = getuid();
	fb.gid = ODD_GID;
	CU_ASSERT_FATAL(ion_claimd_add(h.d, &fb) == 2);
	/* a fiber of the host's own: not to be claimed */
	CU_ASSERT_FATAL(ion_claimd_add(h.d, &(struct ion_claimd_fiber){
						    .name = "inside",
						    .in_host = 1}) == 3);
}

void
host_stop(void)
{
	ion_claimd_close(h.d);
	ion_ring_unmap(&h.app);
	ion_ring_unmap(&h.out);
	close(h.prod_efd);
}

void
produce(uint64_t *target)
{
	CU_ASSERT_FATAL(pthread_create(&h.thr, NULL, producer, target) == 0);
}

void
produce_join(void)
{
	__atomic_store_n(&h.stop, 1, __ATOMIC_RELEASE);
	pthread_join(h.thr, NULL);
}

/* ---- a copy of this program another uid can run ---- */

/* Where the copy is: "" until staged. */
static char stage_dir[64];

static void
unstage(void)
{
	DIR *dir = opendir(stage_dir);
	struct dirent *e;
	char path[PATH_MAX];

	while (dir != NULL && (e = readdir(dir)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", stage_dir, e->d_name);
		unlink(path);
	}
	if (dir != NULL)
		closedir(dir);
	rmdir(stage_dir);
}

static int
copy_file(const char *from, const char *dir, const char *name)
{
	char to[PATH_MAX], buf[65536];
	int in, out, rc = 0;
	ssize_t n;

	snprintf(to, sizeof(to), "%s/%s", dir, name);
	in = open(from, O_RDONLY | O_CLOEXEC);
	out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	while (rc == 0 && in >= 0 && out >= 0 &&
	       (n = read(in, buf, sizeof(buf))) > 0)
		rc = write(out, buf, (size_t)n) == n ? 0 : -1;
	if (in < 0 || out < 0)
		rc = -1;
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return rc;
}

/* A library the program loaded from outside the system's directories
 * (the build tree): copied under the name the loader looked for. */
static int
stage_lib(struct dl_phdr_info *info, size_t size, void *arg)
{
	const char *p = info->dlpi_name, *base = strrchr(p, '/');

	(void)size;
	if (base == NULL || strncmp(p, "/usr/", 5) == 0 ||
	    strncmp(p, "/lib", 4) == 0)
		return 0;
	if (copy_file(p, stage_dir, base + 1) < 0)
		*(int *)arg = -1;
	return 0;
}

/*
 * The tree may sit where other users cannot enter (a clone under /root, a
 * 0700 home): a process of another uid could not load this program's
 * libraries from it.  So it runs a copy, in a directory of /tmp that
 * anyone may read, with the libraries of the build tree beside it.
 */
static const char *
staged(void)
{
	int rc = 0;

	if (stage_dir[0] != '\0')
		return stage_dir;
	snprintf(stage_dir, sizeof(stage_dir), "/tmp/ion-test-claim.XXXXXX");
	if (mkdtemp(stage_dir) == NULL || chmod(stage_dir, 0755) < 0) {
		stage_dir[0] = '\0';
		return NULL;
	}
	atexit(unstage);
	rc = copy_file("/proc/self/exe", stage_dir, "test_ion_claim");
	dl_iterate_phdr(stage_lib, &rc);
	return rc == 0 ? stage_dir : NULL;
}

pid_t
spawn(const char *mode, const char *fiber, uint64_t n, uid_t uid, gid_t gid,
      int out_fd)
{
	char ns[32], exe[PATH_MAX], *argv[7];
	const char *dir = uid != 0 ? staged() : NULL;
	pid_t pid;

	if (uid != 0 && dir == NULL) {
		fprintf(stderr, "(cannot stage a copy for uid %u) ", uid);
		return -1;
	}
	snprintf(ns, sizeof(ns), "%llu", (unsigned long long)n);
	snprintf(exe, sizeof(exe), "%s/test_ion_claim", dir != NULL ? dir : "");
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
		if (uid != 0 && (setgroups(0, NULL) != 0 || setgid(gid) != 0 ||
				 setuid(uid) != 0))
			_exit(99);
		if (dir != NULL) {
			setenv("LD_LIBRARY_PATH", dir, 1);
			execv(exe, argv);
		} else {
			execv("/proc/self/exe", argv);
		}
		_exit(98);
	}
	return pid;
}

int
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
